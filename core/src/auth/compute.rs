//! The digest computation (RFC 7616 §3.4.1–§3.4.3, RFC 2617 §3.2.2):
//! HA1 = H(A1), HA2 = H(A2), response = KD(HA1, ...).

use super::hash::{hash_joined, DigestHex, Hasher};
use super::{AuthError, Challenge, DigestAlgorithm, Qop};

/// The client side of one answer: what is being authorized and with which
/// secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigestRequest<'a> {
    /// The request method, e.g. `REGISTER` (the `ACK` and `CANCEL` of an
    /// INVITE use `INVITE`'s credentials, RFC 3261 §22.1).
    pub method: &'a str,
    /// The Request-URI, written as `uri=` and hashed in A2.
    pub uri: &'a str,
    /// The user name.
    pub username: &'a str,
    /// The password.
    pub password: &'a str,
    /// The client nonce, unique per answer; from the phone's seeded
    /// [`crate::rng::Rng`]. Unused without qop on a non-session algorithm.
    pub cnonce: &'a str,
    /// How many answers this nonce has served so far, this one included
    /// (1 for the first); written as 8 hex digits.
    pub nc: u32,
    /// The message body, hashed only for `qop=auth-int`.
    pub body: &'a [u8],
}

/// The secret a server checks an answer against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secret<'a> {
    /// The cleartext password.
    Password(&'a str),
    /// H(username:realm:password) in hex, computed with the answer's hash
    /// function, as registrars often store it instead of the password.
    Ha1(&'a str),
}

/// A computed answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigestResponse {
    /// The algorithm used.
    pub algorithm: DigestAlgorithm,
    /// The qop answered with; `None` in RFC 2069 mode.
    pub qop: Option<Qop>,
    /// The nonce count as written, 8 lowercase hex digits.
    pub nc: [u8; 8],
    /// The `response=` value.
    pub response: DigestHex,
}

impl DigestResponse {
    /// The nonce count as text.
    pub fn nc_str(&self) -> &str {
        core::str::from_utf8(&self.nc).unwrap_or("")
    }
}

/// Computes the answer to `challenge` for `request`.
pub fn respond(
    challenge: &Challenge<'_>,
    request: &DigestRequest<'_>,
) -> Result<DigestResponse, AuthError> {
    let algorithm = challenge.algorithm;
    let qop = challenge.qop.choose()?;
    let nc = nonce_count_hex(request.nc);
    let response = response_for(&Inputs {
        algorithm,
        username: request.username,
        realm: challenge.realm,
        secret: Secret::Password(request.password),
        nonce: challenge.nonce,
        cnonce: request.cnonce,
        nc: &nc,
        qop,
        method: request.method,
        uri: request.uri,
        body: request.body,
    })?;
    Ok(DigestResponse {
        algorithm,
        qop,
        nc,
        response,
    })
}

/// Everything the response depends on, shared by client and server.
pub(super) struct Inputs<'a> {
    pub algorithm: DigestAlgorithm,
    pub username: &'a str,
    pub realm: &'a str,
    pub secret: Secret<'a>,
    pub nonce: &'a str,
    pub cnonce: &'a str,
    /// The nonce count exactly as written in the answer.
    pub nc: &'a [u8],
    pub qop: Option<Qop>,
    pub method: &'a str,
    pub uri: &'a str,
    pub body: &'a [u8],
}

/// The expected `response=` value.
pub(super) fn response_for(inputs: &Inputs<'_>) -> Result<DigestHex, AuthError> {
    let alg = inputs.algorithm;
    // Checked first: without the `sha256` feature a SHA-256 answer is
    // refused as an unknown algorithm, whatever else is wrong with it.
    let mut kd = Hasher::new(alg)?;
    // RFC 7616 §3.4.2: cnonce is part of A1 for -sess and of KD with a qop.
    if (alg.is_session() || inputs.qop.is_some()) && inputs.cnonce.is_empty() {
        return Err(AuthError::MissingCnonce);
    }
    let ha1 = ha1(inputs)?;
    let ha2 = ha2(inputs)?;
    match inputs.qop {
        // RFC 7616 §3.4.1: KD(HA1, nonce:nc:cnonce:qop:HA2).
        Some(qop) => kd.update_joined(&[
            ha1.as_bytes(),
            inputs.nonce.as_bytes(),
            inputs.nc,
            inputs.cnonce.as_bytes(),
            qop.as_str().as_bytes(),
            ha2.as_bytes(),
        ]),
        // RFC 2617 §3.2.2.1: without qop, KD(HA1, nonce:HA2) as in RFC 2069.
        None => kd.update_joined(&[ha1.as_bytes(), inputs.nonce.as_bytes(), ha2.as_bytes()]),
    }
    Ok(kd.finish_hex())
}

fn ha1(inputs: &Inputs<'_>) -> Result<DigestHex, AuthError> {
    let alg = inputs.algorithm;
    let base = match inputs.secret {
        Secret::Password(password) => hash_joined(
            alg,
            &[
                inputs.username.as_bytes(),
                inputs.realm.as_bytes(),
                password.as_bytes(),
            ],
        )?,
        Secret::Ha1(stored) => stored_ha1(alg, stored)?,
    };
    if alg.is_session() {
        // RFC 7616 §3.4.2: A1 = H(user:realm:pass):nonce:cnonce for -sess.
        hash_joined(
            alg,
            &[
                base.as_bytes(),
                inputs.nonce.as_bytes(),
                inputs.cnonce.as_bytes(),
            ],
        )
    } else {
        Ok(base)
    }
}

/// A stored HA1 re-read into a [`DigestHex`], lowercased.
fn stored_ha1(alg: DigestAlgorithm, stored: &str) -> Result<DigestHex, AuthError> {
    let mut raw = [0u8; 32];
    let bytes = stored.as_bytes();
    if bytes.len() != alg.hex_len() {
        return Err(AuthError::BadResponse);
    }
    for (out, pair) in raw.iter_mut().zip(bytes.chunks_exact(2)) {
        let (hi, lo) = match pair {
            [hi, lo] => (hex_value(*hi), hex_value(*lo)),
            _ => (None, None),
        };
        *out = match (hi, lo) {
            (Some(hi), Some(lo)) => hi << 4 | lo,
            _ => return Err(AuthError::BadResponse),
        };
    }
    Ok(DigestHex::from_bytes(
        raw.get(..bytes.len() / 2).unwrap_or(&[]),
    ))
}

fn ha2(inputs: &Inputs<'_>) -> Result<DigestHex, AuthError> {
    let alg = inputs.algorithm;
    let method = inputs.method.as_bytes();
    let uri = inputs.uri.as_bytes();
    match inputs.qop {
        // RFC 7616 §3.4.3: A2 = method:uri:H(entity-body) for auth-int.
        Some(Qop::AuthInt) => {
            let body = hash_joined(alg, &[inputs.body])?;
            hash_joined(alg, &[method, uri, body.as_bytes()])
        }
        Some(Qop::Auth) | None => hash_joined(alg, &[method, uri]),
    }
}

/// The nonce count as 8 lowercase hex digits (RFC 7616 §3.4: nc = 8LHEX).
pub(super) fn nonce_count_hex(nc: u32) -> [u8; 8] {
    let mut out = [b'0'; 8];
    for (i, digit) in out.iter_mut().enumerate() {
        let shift = 28 - 4 * i as u32;
        *digit = super::hash::hex_digit((nc >> shift) as u8);
    }
    out
}

pub(super) fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}
