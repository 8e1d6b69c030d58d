//! HTTP Digest authentication as SIP uses it (RFC 3261 §22.4, RFC 2617,
//! RFC 7616, RFC 8760): the client answer to a `WWW-Authenticate` or
//! `Proxy-Authenticate` challenge and the server check of an
//! `Authorization` or `Proxy-Authorization` answer.
//!
//! Everything is computed into fixed buffers: hashes are fed piece by piece,
//! hex digests live in [`DigestHex`], header values are written into a caller
//! slice. Parsing the header fields is the codec's job; this module takes the
//! field values already unquoted.
//!
//! ```
//! use handset_core::auth::{write_authorization, Challenge, DigestAlgorithm, DigestRequest, QopOptions};
//! let challenge = Challenge {
//!     realm: "atlanta.example.com",
//!     nonce: "ea9c8e88df84f1cec4341ae6cbe5a359",
//!     opaque: Some(""),
//!     algorithm: DigestAlgorithm::Md5,
//!     qop: QopOptions::from_list("auth"),
//!     stale: false,
//! };
//! let request = DigestRequest {
//!     method: "REGISTER",
//!     uri: "sips:ss2.biloxi.example.com",
//!     username: "bob",
//!     password: "zanzibar",
//!     cnonce: "0a4f113b",
//!     nc: 1,
//!     body: b"",
//! };
//! let mut buf = [0u8; 512];
//! let n = write_authorization(&challenge, &request, &mut buf).unwrap();
//! assert!(buf[..n].starts_with(b"Digest username=\"bob\", realm=\"atlanta.example.com\""));
//! ```

mod compute;
mod hash;
mod header;
mod md5;
mod verify;

#[cfg(test)]
mod tests;

pub use compute::{respond, DigestRequest, DigestResponse, Secret};
pub use hash::{DigestHex, Hasher};
pub use header::write_authorization;
pub use md5::Md5;
pub use verify::{constant_time_eq, parse_nonce_count, verify, DigestCredentials};

/// The digest algorithms a SIP phone meets (RFC 7616 §3.3, RFC 8760 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum DigestAlgorithm {
    /// MD5: the default when a challenge names no algorithm (RFC 2617 §3.2.1).
    #[default]
    Md5,
    /// MD5-sess: HA1 also covers the nonce and cnonce.
    Md5Sess,
    /// SHA-256 (RFC 7616, RFC 8760).
    Sha256,
    /// SHA-256-sess.
    Sha256Sess,
}

impl DigestAlgorithm {
    /// The algorithm named by an `algorithm=` token, compared without case
    /// (RFC 7616 §3.3); `None` for algorithms this module does not compute
    /// (SHA-256 among them in a build without the `sha256` feature).
    pub fn from_token(token: &str) -> Option<Self> {
        const NAMES: [(&str, DigestAlgorithm); 4] = [
            ("MD5", DigestAlgorithm::Md5),
            ("MD5-sess", DigestAlgorithm::Md5Sess),
            ("SHA-256", DigestAlgorithm::Sha256),
            ("SHA-256-sess", DigestAlgorithm::Sha256Sess),
        ];
        NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(token))
            .map(|&(_, alg)| alg)
            .filter(|alg| alg.is_computed())
    }

    /// Whether this build computes the algorithm: MD5 always, SHA-256
    /// with the `sha256` feature.
    pub fn is_computed(self) -> bool {
        cfg!(feature = "sha256") || matches!(self, DigestAlgorithm::Md5 | DigestAlgorithm::Md5Sess)
    }

    /// The token written in `algorithm=`.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "MD5",
            DigestAlgorithm::Md5Sess => "MD5-sess",
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    /// Whether HA1 is the session variant, H(H(user:realm:pass):nonce:cnonce).
    pub fn is_session(self) -> bool {
        matches!(self, DigestAlgorithm::Md5Sess | DigestAlgorithm::Sha256Sess)
    }

    /// Length of the lowercase hex digest: 32 for MD5, 64 for SHA-256.
    pub fn hex_len(self) -> usize {
        match self {
            DigestAlgorithm::Md5 | DigestAlgorithm::Md5Sess => 32,
            DigestAlgorithm::Sha256 | DigestAlgorithm::Sha256Sess => 64,
        }
    }
}

/// The quality of protection of one answer (RFC 7616 §3.4.2 and §3.4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Qop {
    /// `auth`: A2 is `method:uri`.
    Auth,
    /// `auth-int`: A2 also covers H(body).
    AuthInt,
}

impl Qop {
    /// The qop named by a token, compared without case.
    pub fn from_token(token: &str) -> Option<Self> {
        if token.eq_ignore_ascii_case("auth") {
            Some(Qop::Auth)
        } else if token.eq_ignore_ascii_case("auth-int") {
            Some(Qop::AuthInt)
        } else {
            None
        }
    }

    /// The token written in `qop=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }
}

/// The `qop` options a challenge offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct QopOptions {
    /// The challenge carried a `qop` parameter at all. When it did not, the
    /// answer is computed the RFC 2069 way, without cnonce and nc.
    pub present: bool,
    /// `auth` is offered.
    pub auth: bool,
    /// `auth-int` is offered.
    pub auth_int: bool,
}

impl QopOptions {
    /// No `qop` parameter: RFC 2069 compatibility.
    pub const ABSENT: QopOptions = QopOptions {
        present: false,
        auth: false,
        auth_int: false,
    };

    /// The options of a `qop="auth,auth-int"` value (already unquoted);
    /// unknown tokens are ignored (RFC 7616 §3.3).
    pub fn from_list(list: &str) -> Self {
        let mut options = QopOptions {
            present: true,
            auth: false,
            auth_int: false,
        };
        for token in list.split(',') {
            match Qop::from_token(token.trim_matches(|c| c == ' ' || c == '\t')) {
                Some(Qop::Auth) => options.auth = true,
                Some(Qop::AuthInt) => options.auth_int = true,
                None => {}
            }
        }
        options
    }

    /// The qop to answer with: `auth` when offered, else `auth-int`, `None`
    /// without a `qop` parameter.
    pub fn choose(self) -> Result<Option<Qop>, AuthError> {
        if !self.present {
            Ok(None)
        } else if self.auth {
            Ok(Some(Qop::Auth))
        } else if self.auth_int {
            Ok(Some(Qop::AuthInt))
        } else {
            Err(AuthError::UnsupportedQop)
        }
    }
}

/// The fields of one `WWW-Authenticate`/`Proxy-Authenticate: Digest`
/// challenge, unquoted, as the codec found them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Challenge<'a> {
    /// `realm`.
    pub realm: &'a str,
    /// `nonce`.
    pub nonce: &'a str,
    /// `opaque`; returned unchanged in the answer when present (RFC 2617 §3.2.2).
    pub opaque: Option<&'a str>,
    /// `algorithm`, [`DigestAlgorithm::Md5`] when absent.
    pub algorithm: DigestAlgorithm,
    /// `qop` options.
    pub qop: QopOptions,
    /// `stale=true`: the previous answer used an expired nonce, the password
    /// was right (RFC 2617 §3.2.1), so retry without asking the user.
    pub stale: bool,
}

/// Why a digest could not be computed, written or checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthError {
    /// The output slice is too small for the header value; nothing usable
    /// was written.
    BufferTooSmall,
    /// A `-sess` algorithm or a qop needs a client nonce and none was given.
    MissingCnonce,
    /// The challenge offers only qop values this module does not compute.
    UnsupportedQop,
    /// The answer names a qop but no nonce count, or the count is not
    /// 8 hex digits (RFC 7616 §3.4).
    BadNonceCount,
    /// The `response` value (or a stored HA1) is not a hex digest of the
    /// algorithm's length.
    BadResponse,
    /// A value to be quoted holds CR or LF, which no quoted-string carries.
    UnquotableValue,
    /// The algorithm is not computed by this build (SHA-256 without the
    /// `sha256` feature): the same answer as to an algorithm never heard of.
    UnsupportedAlgorithm,
}
