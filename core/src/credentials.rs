//! The client side of digest authentication for the phone's own requests
//! (REGISTER, SUBSCRIBE): keep the challenge of a 401 or 407 (RFC 3261
//! §22.2, §22.3), answer it in the request that follows with a new
//! cnonce and the next nonce count (RFC 7616 §3.4), and tell a challenge
//! for fresh credentials (wrong password: give up) from one that only
//! says the nonce went stale (retry with the new nonce).
//!
//! The hashing is [`crate::auth`]'s; this module reads the challenge
//! headers and writes the answer header into a request being written.

use crate::auth::{self, DigestAlgorithm, QopOptions};
use crate::message::{Message, MessageWriter};
use crate::rng::Rng;
use crate::ua::{random_token, text, Text};

/// Longest realm, nonce or opaque kept from a challenge.
pub const MAX_CHALLENGE_FIELD: usize = 128;

/// Longest Request-URI a digest answer covers.
const MAX_DIGEST_URI: usize = 256;

/// The user name and password a request answers challenges with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Credentials<'a> {
    /// The authentication user name.
    pub username: &'a str,
    /// The password.
    pub password: &'a str,
}

/// What a 401 or 407 asks of the requester.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChallengeVerdict {
    /// Send the request again now, answering the challenge.
    Retry,
    /// Give up: the credentials were refused, or the challenge cannot be
    /// answered (no digest, an unknown algorithm, fields too long).
    Refused,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct StoredChallenge {
    proxy: bool,
    realm: Text<MAX_CHALLENGE_FIELD>,
    nonce: Text<MAX_CHALLENGE_FIELD>,
    opaque: Option<Text<MAX_CHALLENGE_FIELD>>,
    algorithm: DigestAlgorithm,
    qop: QopOptions,
    nc: u32,
}

/// The last challenge a usage received, answered in each of its requests
/// until the server challenges again.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientAuth {
    challenge: Option<StoredChallenge>,
    // A request answering a challenge is in flight (or was refused): a
    // further challenge without `stale=true` means the credentials are
    // wrong, and asking again would loop.
    answered: bool,
}

impl ClientAuth {
    /// No challenge known yet: requests go without credentials.
    pub const fn new() -> Self {
        ClientAuth {
            challenge: None,
            answered: false,
        }
    }

    /// Whether a challenge is kept (the next request carries an answer).
    pub fn has_challenge(&self) -> bool {
        self.challenge.is_some()
    }

    /// Takes a 401 (`WWW-Authenticate`) or 407 (`Proxy-Authenticate`)
    /// response to the last request. At most one retry per challenge:
    /// a second challenge is only answered when it says `stale=true`
    /// (RFC 7616 §3.3).
    pub fn on_challenge(&mut self, resp: &Message<'_>) -> ChallengeVerdict {
        let code = resp.status().unwrap_or(0);
        let parsed = match code {
            401 => resp.www_authenticate(),
            407 => resp.proxy_authenticate(),
            _ => None,
        };
        let Some(Ok(ch)) = parsed else {
            return self.refuse();
        };
        let Some(ch) = ch.digest() else {
            return self.refuse();
        };
        if self.answered && !ch.stale {
            return self.refuse();
        }
        let stored = (|| {
            Some(StoredChallenge {
                proxy: code == 407,
                realm: text(ch.realm?)?,
                nonce: text(ch.nonce?)?,
                opaque: match ch.opaque {
                    Some(o) => Some(text(o)?),
                    None => None,
                },
                algorithm: match ch.algorithm {
                    Some(a) => DigestAlgorithm::from_token(a)?,
                    None => DigestAlgorithm::Md5,
                },
                qop: ch.qop.map_or(QopOptions::ABSENT, QopOptions::from_list),
                nc: 0,
            })
        })();
        match stored {
            Some(s) => {
                self.challenge = Some(s);
                self.answered = true;
                ChallengeVerdict::Retry
            }
            None => self.refuse(),
        }
    }

    fn refuse(&mut self) -> ChallengeVerdict {
        self.answered = false;
        ChallengeVerdict::Refused
    }

    /// The last request was answered other than by a challenge: the next
    /// challenge is a new one, worth one more try. The kept challenge
    /// stays, so the next requests answer it before being asked.
    pub fn settle(&mut self) {
        self.answered = false;
    }

    /// Forgets the kept challenge (another server, new credentials).
    pub fn forget(&mut self) {
        self.challenge = None;
        self.answered = false;
    }

    /// Writes `Authorization` (or `Proxy-Authorization` for a 407) with
    /// the answer to the kept challenge into the request `w` is writing,
    /// whose request line is already written. Nothing when no challenge
    /// is kept; `None` when the answer does not fit.
    pub fn write_answer(
        &mut self,
        w: &mut MessageWriter<'_>,
        rng: &mut Rng,
        credentials: Credentials<'_>,
    ) -> Option<()> {
        let Some(ch) = self.challenge.as_mut() else {
            return Some(());
        };
        // RFC 3261 §22.4: the digest covers the method and Request-URI of
        // the request line as sent.
        let line = w.written().split(|&b| b == b'\r').next().unwrap_or(&[]);
        let line = core::str::from_utf8(line).ok()?;
        let mut parts = line.split(' ');
        let method = parts.next()?;
        let method: Text<16> = text(method)?;
        let uri: Text<MAX_DIGEST_URI> = text(parts.next()?)?;
        ch.nc = ch.nc.saturating_add(1);
        let cnonce: Text<16> = random_token(rng, 16);
        let challenge = auth::Challenge {
            realm: &ch.realm,
            nonce: &ch.nonce,
            opaque: ch.opaque.as_deref(),
            algorithm: ch.algorithm,
            qop: ch.qop,
            stale: false,
        };
        let request = auth::DigestRequest {
            method: &method,
            uri: &uri,
            username: credentials.username,
            password: credentials.password,
            cnonce: &cnonce,
            nc: ch.nc,
            body: b"",
        };
        let mut value = [0u8; 512];
        let n = auth::write_authorization(&challenge, &request, &mut value).ok()?;
        let value = core::str::from_utf8(value.get(..n)?).ok()?;
        let name = if ch.proxy {
            "Proxy-Authorization"
        } else {
            "Authorization"
        };
        w.header(name, value);
        Some(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::format;
    use std::string::String;

    use super::*;
    use crate::message::Method;

    fn response(code: u16, header: &str) -> String {
        format!(
            "SIP/2.0 {code} X\r\nVia: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK1\r\n\
             From: <sip:bob@example.com>;tag=1\r\nTo: <sip:vm@example.com>;tag=2\r\n\
             Call-ID: c\r\nCSeq: 1 SUBSCRIBE\r\n{header}Content-Length: 0\r\n\r\n"
        )
    }

    fn answer(auth: &mut ClientAuth, rng: &mut Rng) -> String {
        let mut buf = [0u8; 1024];
        let mut w = MessageWriter::new(&mut buf);
        w.request_line(Method::Subscribe, "sip:vm@example.com");
        let creds = Credentials {
            username: "bob",
            password: "builder",
        };
        auth.write_answer(&mut w, rng, creds).unwrap();
        let n = w.finish(None, b"").unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn answers_once_then_only_a_stale_nonce() {
        let mut rng = Rng::new(5);
        let mut auth = ClientAuth::new();
        assert!(!answer(&mut auth, &mut rng).contains("Authorization"));
        let alg = if cfg!(feature = "sha256") {
            "SHA-256"
        } else {
            "MD5"
        };
        let ch = response(
            407,
            &format!(
                "Proxy-Authenticate: Digest realm=\"example.com\", nonce=\"n1\", qop=\"auth\", algorithm={alg}\r\n"
            ),
        );
        let ch = Message::parse_datagram(ch.as_bytes()).unwrap();
        assert_eq!(auth.on_challenge(&ch), ChallengeVerdict::Retry);
        let first = answer(&mut auth, &mut rng);
        let sent = Message::parse_datagram(first.as_bytes()).unwrap();
        let cred = sent.header_by_name("Proxy-Authorization").unwrap();
        assert!(cred.contains("uri=\"sip:vm@example.com\""));
        assert!(cred.contains(&format!("algorithm={alg},")));
        assert!(cred.contains("nc=00000001"));
        // The same challenge again: the password is wrong.
        assert_eq!(auth.on_challenge(&ch), ChallengeVerdict::Refused);
        // A stale nonce is retried, with the new nonce.
        let stale = response(
            401,
            "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"n2\", stale=true\r\n",
        );
        let stale = Message::parse_datagram(stale.as_bytes()).unwrap();
        assert_eq!(auth.on_challenge(&ch), ChallengeVerdict::Retry);
        assert_eq!(auth.on_challenge(&stale), ChallengeVerdict::Retry);
        let again = answer(&mut auth, &mut rng);
        assert!(again.contains("Authorization: Digest username=\"bob\""));
        assert!(again.contains("nonce=\"n2\""));
        // Accepted: the kept challenge is answered before being asked, with
        // the next nonce count.
        auth.settle();
        let next = answer(&mut auth, &mut rng);
        assert!(next.contains("nonce=\"n2\""));
        assert_eq!(auth.on_challenge(&stale), ChallengeVerdict::Retry);
        auth.forget();
        assert!(!auth.has_challenge());
    }

    #[test]
    fn unanswerable_challenges_are_refused() {
        let mut auth = ClientAuth::new();
        for header in [
            "",
            "WWW-Authenticate: Basic realm=\"x\"\r\n",
            "WWW-Authenticate: Digest realm=\"x\", nonce=\"n\", algorithm=SHA-512-256\r\n",
            "WWW-Authenticate: Digest nonce=\"n\"\r\n",
        ]
        .into_iter()
        .chain((!cfg!(feature = "sha256")).then_some(
            // Without the feature SHA-256 is an algorithm not computed.
            "WWW-Authenticate: Digest realm=\"x\", nonce=\"n\", algorithm=SHA-256\r\n",
        )) {
            let r = response(401, header);
            let r = Message::parse_datagram(r.as_bytes()).unwrap();
            assert_eq!(auth.on_challenge(&r), ChallengeVerdict::Refused, "{header}");
        }
        assert!(!auth.has_challenge());
    }
}
