//! The registrar's digest authentication (RFC 3261 §22.4, RFC 7616 as
//! SIP uses it): challenges with nonces that carry their own issue time
//! and a keyed hash, checks of the answers, stale nonces and replays.

use std::collections::BTreeMap;

use handset_core::auth::{
    parse_nonce_count, verify, DigestAlgorithm, DigestCredentials, Hasher, Qop, Secret,
};
use handset_core::message::Message;
use handset_core::time::{Duration, Instant};

/// Hex digits of the keyed hash in a nonce.
const NONCE_MAC_LEN: usize = 20;
/// Hex digits of the issue time (milliseconds) in a nonce.
const NONCE_TIME_LEN: usize = 12;

/// What an `Authorization` header proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthCheck {
    /// A valid answer for this user.
    Authorized(String),
    /// No usable answer, a wrong password or an unknown user: answer 401
    /// with a fresh challenge. `stale` says the answer was right but its
    /// nonce expired or was replayed (RFC 7616 §3.3), so the client may
    /// retry without asking for the password.
    Challenge {
        /// The `stale` flag of the new challenge.
        stale: bool,
    },
    /// An answer too malformed to check, or for another Request-URI:
    /// answer 400 (RFC 2617 §3.2.2.5).
    BadRequest,
}

/// Users, passwords and the nonces handed out.
#[derive(Clone, Debug)]
pub struct Authenticator {
    realm: String,
    credentials: BTreeMap<String, String>,
    algorithm: DigestAlgorithm,
    key: String,
    nonce_lifetime: Duration,
    /// The highest nonce count accepted per nonce still valid.
    counts: BTreeMap<String, (Instant, u32)>,
}

impl Authenticator {
    /// An authenticator for `realm`; `key` keys the nonce hash (draw it
    /// from the node's seed) and `nonce_lifetime` bounds how long a nonce
    /// is accepted before it is stale.
    pub fn new(
        realm: &str,
        credentials: BTreeMap<String, String>,
        algorithm: DigestAlgorithm,
        key: u64,
        nonce_lifetime: Duration,
    ) -> Self {
        Authenticator {
            realm: realm.to_string(),
            credentials,
            algorithm,
            key: format!("{key:016x}"),
            nonce_lifetime,
            counts: BTreeMap::new(),
        }
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// A `WWW-Authenticate` value with a nonce issued at `now` (RFC 3261
    /// §22.4, qop=auth as RFC 3261 §22.4 recommends).
    pub fn challenge(&self, now: Instant, stale: bool) -> String {
        let mut v = format!(
            "Digest realm=\"{}\", nonce=\"{}\", qop=\"auth\", algorithm={}",
            self.realm,
            self.nonce(now),
            self.algorithm.as_str()
        );
        if stale {
            v.push_str(", stale=true");
        }
        v
    }

    /// The nonce issued at `now`: the issue time in hex and a keyed hash of
    /// it, so that any nonce can be checked and aged without storing it.
    fn nonce(&self, now: Instant) -> String {
        let time = format!("{:0w$x}", now.as_millis(), w = NONCE_TIME_LEN);
        format!("{time}{}", self.mac(&time))
    }

    fn mac(&self, time: &str) -> String {
        // MD5 is always built in: `new` fails only for SHA-256 without it.
        let Ok(mut h) = Hasher::new(DigestAlgorithm::Md5) else {
            return String::new();
        };
        h.update_joined(&[self.key.as_bytes(), time.as_bytes(), self.realm.as_bytes()]);
        let hex = h.finish_hex();
        hex.as_str().get(..NONCE_MAC_LEN).unwrap_or("").to_string()
    }

    /// When `nonce` was issued, if this authenticator issued it.
    fn issued_at(&self, nonce: &str) -> Option<Instant> {
        if nonce.len() != NONCE_TIME_LEN + NONCE_MAC_LEN || !nonce.is_ascii() {
            return None;
        }
        let (time, mac) = nonce.split_at(NONCE_TIME_LEN);
        if mac != self.mac(time) {
            return None;
        }
        u64::from_str_radix(time, 16).ok().map(Instant::from_millis)
    }

    /// Checks the `Authorization` of `req` (RFC 3261 §22.4, RFC 7616
    /// §3.4): realm, nonce, digest-uri, digest, nonce count.
    pub fn check(&mut self, now: Instant, req: &Message<'_>) -> AuthCheck {
        let request_uri = req.request_line().map(|l| l.uri);
        self.check_for(now, req, request_uri)
    }

    /// [`check`](Self::check) with the URI the digest must name given: a
    /// user agent behind a proxy that retargeted the request checks the
    /// URI the client addressed (the To URI of a request outside a
    /// dialog), since the client digested the Request-URI it sent.
    pub fn check_for(
        &mut self,
        now: Instant,
        req: &Message<'_>,
        addressed: Option<&str>,
    ) -> AuthCheck {
        let lifetime = self.nonce_lifetime;
        self.counts
            .retain(|_, (issued, _)| *issued + lifetime.saturating_mul(2) > now);
        let Some(parsed) = req.authorization() else {
            return AuthCheck::Challenge { stale: false };
        };
        let Ok(credentials) = parsed else {
            return AuthCheck::BadRequest;
        };
        let Some(d) = credentials.digest() else {
            return AuthCheck::Challenge { stale: false };
        };
        let (Some(username), Some(realm), Some(nonce), Some(uri), Some(response)) =
            (d.username, d.realm, d.nonce, d.uri, d.response)
        else {
            return AuthCheck::BadRequest;
        };
        if realm != self.realm {
            return AuthCheck::Challenge { stale: false };
        }
        // RFC 2617 §3.2.2.5: the digest-uri names the Request-URI.
        if addressed != Some(uri) {
            return AuthCheck::BadRequest;
        }
        let Some(issued) = self.issued_at(nonce) else {
            return AuthCheck::Challenge { stale: false };
        };
        let algorithm = match d.algorithm {
            None => DigestAlgorithm::Md5,
            Some(a) => match DigestAlgorithm::from_token(a) {
                Some(a) => a,
                None => return AuthCheck::Challenge { stale: false },
            },
        };
        let qop = match d.qop {
            None => None,
            Some(q) => match Qop::from_token(q) {
                Some(q) => Some(q),
                None => return AuthCheck::BadRequest,
            },
        };
        let nc = credentials.param_list().get("nc");
        let Some(password) = self.credentials.get(username) else {
            return AuthCheck::Challenge { stale: false };
        };
        let answer = DigestCredentials {
            username,
            realm,
            nonce,
            uri,
            response,
            algorithm,
            cnonce: d.cnonce,
            qop,
            nc,
            opaque: d.opaque,
        };
        let method = req.method().map(|m| m.as_str()).unwrap_or("");
        match verify(&answer, method, req.body(), Secret::Password(password)) {
            Err(_) => return AuthCheck::BadRequest,
            Ok(false) => return AuthCheck::Challenge { stale: false },
            Ok(true) => {}
        }
        // The password was right; now the nonce's age and count.
        if issued + lifetime <= now {
            return AuthCheck::Challenge { stale: true };
        }
        if qop.is_some() {
            let Some(count) = nc.and_then(parse_nonce_count) else {
                return AuthCheck::BadRequest;
            };
            // RFC 7616 §3.4.5: each answer to one nonce raises the count; a
            // repeated count is a replay.
            let entry = self.counts.entry(nonce.to_string()).or_insert((issued, 0));
            if count <= entry.1 {
                return AuthCheck::Challenge { stale: true };
            }
            entry.1 = count;
        }
        AuthCheck::Authorized(username.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use handset_core::auth::{write_authorization, Challenge, QopOptions};

    fn auth() -> Authenticator {
        let users = BTreeMap::from([("bob".to_string(), "zanzibar".to_string())]);
        Authenticator::new(
            "example.com",
            users,
            DigestAlgorithm::Md5,
            7,
            Duration::from_secs(300),
        )
    }

    fn register(nonce: &str, password: &str, nc: u32) -> Vec<u8> {
        let ch = Challenge {
            realm: "example.com",
            nonce,
            opaque: None,
            algorithm: DigestAlgorithm::Md5,
            qop: QopOptions::from_list("auth"),
            stale: false,
        };
        let req = handset_core::auth::DigestRequest {
            method: "REGISTER",
            uri: "sip:example.com",
            username: "bob",
            password,
            cnonce: "abc",
            nc,
            body: b"",
        };
        let mut buf = [0u8; 512];
        let n = write_authorization(&ch, &req, &mut buf).unwrap();
        let value = std::str::from_utf8(&buf[..n]).unwrap();
        format!(
            "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
             From: <sip:bob@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: r1\r\n\
             CSeq: 1 REGISTER\r\nAuthorization: {value}\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    fn nonce_of(challenge: &str) -> String {
        let start = challenge.find("nonce=\"").unwrap() + 7;
        let len = challenge[start..].find('"').unwrap();
        challenge[start..start + len].to_string()
    }

    #[test]
    fn right_wrong_stale_and_replayed_answers() {
        let mut a = auth();
        let t0 = Instant::from_millis(1000);
        let nonce = nonce_of(&a.challenge(t0, false));
        let check = |a: &mut Authenticator, now, raw: Vec<u8>| {
            a.check(now, &Message::parse_datagram(&raw).unwrap())
        };
        assert_eq!(
            check(&mut a, t0, register(&nonce, "zanzibar", 1)),
            AuthCheck::Authorized("bob".into())
        );
        // The same count again is a replay.
        assert_eq!(
            check(&mut a, t0, register(&nonce, "zanzibar", 1)),
            AuthCheck::Challenge { stale: true }
        );
        assert_eq!(
            check(&mut a, t0, register(&nonce, "zanzibar", 2)),
            AuthCheck::Authorized("bob".into())
        );
        assert_eq!(
            check(&mut a, t0, register(&nonce, "wrong", 3)),
            AuthCheck::Challenge { stale: false }
        );
        let late = t0 + Duration::from_secs(301);
        assert_eq!(
            check(&mut a, late, register(&nonce, "zanzibar", 4)),
            AuthCheck::Challenge { stale: true }
        );
        // A nonce this authenticator never issued.
        let mut forged = nonce.clone();
        forged.replace_range(NONCE_TIME_LEN.., "00000000000000000000");
        assert_eq!(
            check(&mut a, t0, register(&forged, "zanzibar", 1)),
            AuthCheck::Challenge { stale: false }
        );
    }
}
