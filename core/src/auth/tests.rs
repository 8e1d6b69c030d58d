use super::*;

fn rfc2617_challenge() -> Challenge<'static> {
    // RFC 2617 §3.5.
    Challenge {
        realm: "testrealm@host.com",
        nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        opaque: Some("5ccc069c403ebaf9f0171e9517f40e41"),
        algorithm: DigestAlgorithm::Md5,
        qop: QopOptions::from_list("auth,auth-int"),
        stale: false,
    }
}

fn rfc2617_request() -> DigestRequest<'static> {
    DigestRequest {
        method: "GET",
        uri: "/dir/index.html",
        username: "Mufasa",
        password: "Circle Of Life",
        cnonce: "0a4f113b",
        nc: 1,
        body: b"",
    }
}

fn rfc7616_challenge(algorithm: DigestAlgorithm) -> Challenge<'static> {
    // RFC 7616 §3.9.1.
    Challenge {
        realm: "http-auth@example.org",
        nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        opaque: Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"),
        algorithm,
        qop: QopOptions::from_list("auth, auth-int"),
        stale: false,
    }
}

fn rfc7616_request() -> DigestRequest<'static> {
    DigestRequest {
        method: "GET",
        uri: "/dir/index.html",
        username: "Mufasa",
        password: "Circle of Life",
        cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        nc: 1,
        body: b"",
    }
}

fn write(challenge: &Challenge<'_>, request: &DigestRequest<'_>) -> heapless::String<512> {
    let mut buf = [0u8; 512];
    let n = write_authorization(challenge, request, &mut buf).unwrap();
    let mut s = heapless::String::new();
    s.push_str(core::str::from_utf8(&buf[..n]).unwrap())
        .unwrap();
    s
}

/// Reads the digest-response back the way a server does, to check that what
/// the client writes verifies.
fn credentials_of<'a>(value: &'a str, algorithm: DigestAlgorithm) -> DigestCredentials<'a> {
    let field = |name: &str| -> Option<&'a str> {
        let rest = value.strip_prefix("Digest ")?;
        rest.split(", ").find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then(|| v.trim_matches('"'))
        })
    };
    DigestCredentials {
        username: field("username").unwrap(),
        realm: field("realm").unwrap(),
        nonce: field("nonce").unwrap(),
        uri: field("uri").unwrap(),
        response: field("response").unwrap(),
        algorithm,
        cnonce: field("cnonce"),
        qop: field("qop").and_then(Qop::from_token),
        nc: field("nc"),
        opaque: field("opaque"),
    }
}

/// Every algorithm named in the enum, computed by this build or not.
const ALGORITHMS: [DigestAlgorithm; 4] = [
    DigestAlgorithm::Md5,
    DigestAlgorithm::Md5Sess,
    DigestAlgorithm::Sha256,
    DigestAlgorithm::Sha256Sess,
];

#[test]
fn rfc2617_example_response() {
    let answer = respond(&rfc2617_challenge(), &rfc2617_request()).unwrap();
    assert_eq!(answer.response.as_str(), "6629fae49393a05397450978507c4ef1");
    assert_eq!(answer.qop, Some(Qop::Auth));
    assert_eq!(answer.nc_str(), "00000001");
}

#[test]
fn rfc2617_example_header_value() {
    let value = write(&rfc2617_challenge(), &rfc2617_request());
    assert_eq!(
        value.as_str(),
        "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", \
         nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", \
         response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5, \
         cnonce=\"0a4f113b\", qop=auth, nc=00000001, \
         opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""
    );
}

#[test]
#[cfg(feature = "sha256")]
fn rfc7616_sha256_example() {
    let answer = respond(
        &rfc7616_challenge(DigestAlgorithm::Sha256),
        &rfc7616_request(),
    )
    .unwrap();
    assert_eq!(
        answer.response.as_str(),
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );
    let value = write(
        &rfc7616_challenge(DigestAlgorithm::Sha256),
        &rfc7616_request(),
    );
    assert!(value.contains("algorithm=SHA-256, cnonce="), "{value}");
}

#[test]
fn rfc7616_md5_example() {
    let answer = respond(&rfc7616_challenge(DigestAlgorithm::Md5), &rfc7616_request()).unwrap();
    assert_eq!(answer.response.as_str(), "8ca523f5e9506fed4657c9700eebdbec");
}

#[test]
fn session_variants_hash_nonce_and_cnonce_into_ha1() {
    // Expected values from an independent implementation of RFC 7616 §3.4.2
    // over the §3.9.1 inputs.
    let md5 = respond(
        &rfc7616_challenge(DigestAlgorithm::Md5Sess),
        &rfc7616_request(),
    )
    .unwrap();
    assert_eq!(md5.response.as_str(), "e783283f46242139c486a698fec7211d");
    #[cfg(feature = "sha256")]
    let sha = respond(
        &rfc7616_challenge(DigestAlgorithm::Sha256Sess),
        &rfc7616_request(),
    )
    .unwrap();
    #[cfg(feature = "sha256")]
    assert_eq!(
        sha.response.as_str(),
        "2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1ea3efd7"
    );
}

#[test]
fn qop_absent_is_rfc2069() {
    // RFC 2069 §2.4 example, with the corrected response of its erratum
    // (the printed e966c932... does not match the printed inputs).
    let challenge = Challenge {
        qop: QopOptions::ABSENT,
        ..rfc2617_challenge()
    };
    let request = DigestRequest {
        password: "CircleOfLife",
        cnonce: "",
        ..rfc2617_request()
    };
    let answer = respond(&challenge, &request).unwrap();
    assert_eq!(answer.qop, None);
    assert_eq!(answer.response.as_str(), "1949323746fe6a43ef61f9606e7febea");
    let value = write(&challenge, &request);
    assert_eq!(
        value.as_str(),
        "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", \
         nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", \
         response=\"1949323746fe6a43ef61f9606e7febea\", algorithm=MD5, \
         opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""
    );
}

#[test]
fn auth_int_hashes_the_body() {
    let challenge = Challenge {
        realm: "atlanta.example.com",
        nonce: "abc123",
        opaque: None,
        algorithm: DigestAlgorithm::Md5,
        qop: QopOptions::from_list("auth-int"),
        stale: false,
    };
    let request = DigestRequest {
        method: "INVITE",
        uri: "sip:bob@biloxi.example.com",
        username: "bob",
        password: "zanzibar",
        cnonce: "xyz",
        nc: 10,
        body: b"v=0\r\n",
    };
    let answer = respond(&challenge, &request).unwrap();
    assert_eq!(answer.qop, Some(Qop::AuthInt));
    assert_eq!(answer.nc_str(), "0000000a");
    // Independent implementation of RFC 7616 §3.4.3 over the same inputs.
    assert_eq!(answer.response.as_str(), "67468a0172f34a58efff7904aee543f0");
    let other_body = respond(
        &challenge,
        &DigestRequest {
            body: b"v=1\r\n",
            ..request
        },
    )
    .unwrap();
    assert_ne!(other_body.response, answer.response);
}

#[test]
fn buffer_too_small_never_truncates() {
    let algorithm = if cfg!(feature = "sha256") {
        DigestAlgorithm::Sha256
    } else {
        DigestAlgorithm::Md5Sess
    };
    let challenge = rfc7616_challenge(algorithm);
    let request = rfc7616_request();
    let full = write(&challenge, &request);
    let mut buf = [0u8; 512];
    for size in 0..full.len() {
        assert_eq!(
            write_authorization(&challenge, &request, &mut buf[..size]),
            Err(AuthError::BufferTooSmall),
            "size {size}"
        );
    }
    assert_eq!(
        write_authorization(&challenge, &request, &mut buf[..full.len()]),
        Ok(full.len())
    );
    assert_eq!(&buf[..full.len()], full.as_bytes());
}

#[test]
fn quoted_values_are_escaped() {
    let request = DigestRequest {
        username: "bo\"b\\",
        ..rfc2617_request()
    };
    let value = write(&rfc2617_challenge(), &request);
    assert!(
        value.starts_with("Digest username=\"bo\\\"b\\\\\", "),
        "{value}"
    );
    let mut buf = [0u8; 512];
    let bad = DigestRequest {
        uri: "sip:a\r\nVia: x",
        ..rfc2617_request()
    };
    assert_eq!(
        write_authorization(&rfc2617_challenge(), &bad, &mut buf),
        Err(AuthError::UnquotableValue)
    );
}

#[test]
fn qop_and_session_need_a_cnonce() {
    let request = DigestRequest {
        cnonce: "",
        ..rfc2617_request()
    };
    assert_eq!(
        respond(&rfc2617_challenge(), &request),
        Err(AuthError::MissingCnonce)
    );
    let sess = Challenge {
        algorithm: DigestAlgorithm::Md5Sess,
        qop: QopOptions::ABSENT,
        ..rfc2617_challenge()
    };
    assert_eq!(respond(&sess, &request), Err(AuthError::MissingCnonce));
}

#[test]
fn qop_options_choose_auth_first() {
    assert_eq!(
        QopOptions::from_list("auth-int, auth").choose(),
        Ok(Some(Qop::Auth))
    );
    assert_eq!(
        QopOptions::from_list("AUTH-INT").choose(),
        Ok(Some(Qop::AuthInt))
    );
    assert_eq!(QopOptions::ABSENT.choose(), Ok(None));
    assert_eq!(
        QopOptions::from_list("token-only").choose(),
        Err(AuthError::UnsupportedQop)
    );
}

#[test]
fn algorithm_tokens_ignore_case() {
    assert_eq!(
        DigestAlgorithm::from_token("md5"),
        Some(DigestAlgorithm::Md5)
    );
    assert_eq!(
        DigestAlgorithm::from_token("sha-256-SESS"),
        cfg!(feature = "sha256").then_some(DigestAlgorithm::Sha256Sess)
    );
    assert_eq!(DigestAlgorithm::from_token("SHA-512-256"), None);
    for alg in ALGORITHMS {
        assert_eq!(
            DigestAlgorithm::from_token(alg.as_str()),
            alg.is_computed().then_some(alg)
        );
    }
    assert_eq!(DigestAlgorithm::default(), DigestAlgorithm::Md5);
}

#[test]
fn verify_accepts_what_the_client_writes() {
    for alg in ALGORITHMS.into_iter().filter(|a| a.is_computed()) {
        for qop in [QopOptions::from_list("auth"), QopOptions::ABSENT] {
            let challenge = Challenge {
                qop,
                ..rfc7616_challenge(alg)
            };
            let value = write(&challenge, &rfc7616_request());
            let creds = credentials_of(&value, alg);
            assert_eq!(
                verify(&creds, "GET", b"", Secret::Password("Circle of Life")),
                Ok(true),
                "{value}"
            );
            assert_eq!(
                verify(&creds, "GET", b"", Secret::Password("circle of life")),
                Ok(false),
                "{value}"
            );
            assert_eq!(
                verify(&creds, "POST", b"", Secret::Password("Circle of Life")),
                Ok(false)
            );
        }
    }
}

#[test]
fn verify_with_stored_ha1_and_uppercase_hex() {
    let value = write(&rfc2617_challenge(), &rfc2617_request());
    let creds = credentials_of(&value, DigestAlgorithm::Md5);
    // HA1 = MD5("Mufasa:testrealm@host.com:Circle Of Life"), RFC 2617 §3.5.
    let ha1 = super::hash::hash_joined(
        DigestAlgorithm::Md5,
        &[b"Mufasa", b"testrealm@host.com", b"Circle Of Life"],
    )
    .unwrap();
    assert_eq!(
        verify(&creds, "GET", b"", Secret::Ha1(ha1.as_str())),
        Ok(true)
    );
    let upper = "6629FAE49393A05397450978507C4EF1";
    let shouted = DigestCredentials {
        response: upper,
        ..creds
    };
    assert_eq!(
        verify(&shouted, "GET", b"", Secret::Password("Circle Of Life")),
        Ok(true)
    );
    assert_eq!(
        verify(&creds, "GET", b"", Secret::Ha1("not-hex")),
        Err(AuthError::BadResponse)
    );
}

#[test]
fn verify_rejects_tampering_and_malformed_answers() {
    let value = write(&rfc2617_challenge(), &rfc2617_request());
    let creds = credentials_of(&value, DigestAlgorithm::Md5);
    let secret = Secret::Password("Circle Of Life");
    let moved = DigestCredentials {
        uri: "/dir/other.html",
        ..creds
    };
    assert_eq!(verify(&moved, "GET", b"", secret), Ok(false));
    let replayed = DigestCredentials {
        nc: Some("00000002"),
        ..creds
    };
    assert_eq!(verify(&replayed, "GET", b"", secret), Ok(false));
    let no_nc = DigestCredentials { nc: None, ..creds };
    assert_eq!(
        verify(&no_nc, "GET", b"", secret),
        Err(AuthError::BadNonceCount)
    );
    let bad_nc = DigestCredentials {
        nc: Some("1"),
        ..creds
    };
    assert_eq!(
        verify(&bad_nc, "GET", b"", secret),
        Err(AuthError::BadNonceCount)
    );
    let short = DigestCredentials {
        response: "6629fae49393a05397450978507c4ef",
        ..creds
    };
    assert_eq!(
        verify(&short, "GET", b"", secret),
        Err(AuthError::BadResponse)
    );
    let no_cnonce = DigestCredentials {
        cnonce: None,
        ..creds
    };
    assert_eq!(
        verify(&no_cnonce, "GET", b"", secret),
        Err(AuthError::MissingCnonce)
    );
}

#[test]
fn nonce_count_parsing() {
    assert_eq!(parse_nonce_count("00000001"), Some(1));
    assert_eq!(parse_nonce_count("ffffffff"), Some(u32::MAX));
    assert_eq!(parse_nonce_count("0000000g"), None);
    assert_eq!(parse_nonce_count("000000001"), None);
    assert_eq!(parse_nonce_count(""), None);
}

#[test]
fn constant_time_eq_compares_whole_slices() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"ab"));
    assert!(constant_time_eq(b"", b""));
}

#[test]
#[cfg(not(feature = "sha256"))]
fn without_sha256_it_is_an_algorithm_not_computed() {
    // RFC 8760 §2.4: a client answers only a challenge of an algorithm it
    // computes; here SHA-256 is refused as SHA-512-256 is.
    assert_eq!(DigestAlgorithm::from_token("SHA-256"), None);
    assert_eq!(DigestAlgorithm::from_token("SHA-256-sess"), None);
    for alg in [DigestAlgorithm::Sha256, DigestAlgorithm::Sha256Sess] {
        assert!(!alg.is_computed());
        let challenge = rfc7616_challenge(alg);
        assert_eq!(
            respond(&challenge, &rfc7616_request()),
            Err(AuthError::UnsupportedAlgorithm)
        );
        let mut buf = [0u8; 512];
        assert_eq!(
            write_authorization(&challenge, &rfc7616_request(), &mut buf),
            Err(AuthError::UnsupportedAlgorithm)
        );
        // A server check of a SHA-256 answer (64 hex digits) is refused
        // the same way, not taken as a wrong password.
        let value = write(&rfc7616_challenge(DigestAlgorithm::Md5), &rfc7616_request());
        let mut creds = credentials_of(&value, alg);
        let sha_response = [b'a'; 64];
        creds.response = core::str::from_utf8(&sha_response).unwrap();
        assert_eq!(
            verify(&creds, "GET", b"", Secret::Password("Circle of Life")),
            Err(AuthError::UnsupportedAlgorithm)
        );
    }
}
