//! The server side: checking a `Digest` answer, as the simulator's
//! registrar and proxy do.

use super::compute::{hex_value, response_for, Inputs, Secret};
use super::{AuthError, DigestAlgorithm, Qop};

/// The fields of one `Authorization`/`Proxy-Authorization: Digest` answer,
/// unquoted, as the codec found them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigestCredentials<'a> {
    /// `username`.
    pub username: &'a str,
    /// `realm`.
    pub realm: &'a str,
    /// `nonce`.
    pub nonce: &'a str,
    /// `uri` (the digest-uri, hashed in A2).
    pub uri: &'a str,
    /// `response`, the hex digest to check.
    pub response: &'a str,
    /// `algorithm`, [`DigestAlgorithm::Md5`] when absent.
    pub algorithm: DigestAlgorithm,
    /// `cnonce`.
    pub cnonce: Option<&'a str>,
    /// `qop`; `None` for an RFC 2069 answer.
    pub qop: Option<Qop>,
    /// `nc`, exactly as written (it is hashed as text).
    pub nc: Option<&'a str>,
    /// `opaque`.
    pub opaque: Option<&'a str>,
}

/// Whether `credentials` prove knowledge of `secret` for a request with
/// `method` (and `body`, hashed for `qop=auth-int`).
///
/// `Ok(false)` is a wrong password or a tampered field; `Err` is an answer
/// too malformed to check (answer 400). This checks the digest only: the
/// caller still checks that `realm` is its own, that `nonce` is one it issued
/// and has not expired (else challenge again with `stale=true`), that `nc`
/// grows per nonce (replay, via [`parse_nonce_count`]), and that `uri` names
/// the Request-URI (RFC 7616 §3.4.6, RFC 2617 §3.2.2.5). The comparison takes
/// the same time wherever the first differing character is.
pub fn verify(
    credentials: &DigestCredentials<'_>,
    method: &str,
    body: &[u8],
    secret: Secret<'_>,
) -> Result<bool, AuthError> {
    let algorithm = credentials.algorithm;
    if !algorithm.is_computed() {
        return Err(AuthError::UnsupportedAlgorithm);
    }
    let nc = match credentials.qop {
        Some(_) => {
            // RFC 7616 §3.4: with a qop the answer carries nc and cnonce.
            let nc = credentials.nc.ok_or(AuthError::BadNonceCount)?;
            parse_nonce_count(nc).ok_or(AuthError::BadNonceCount)?;
            nc
        }
        None => "",
    };
    let provided = credentials.response.as_bytes();
    if provided.len() != algorithm.hex_len() || !provided.iter().all(|&c| hex_value(c).is_some()) {
        return Err(AuthError::BadResponse);
    }
    let expected = response_for(&Inputs {
        algorithm,
        username: credentials.username,
        realm: credentials.realm,
        secret,
        nonce: credentials.nonce,
        cnonce: credentials.cnonce.unwrap_or(""),
        nc: nc.as_bytes(),
        qop: credentials.qop,
        method,
        uri: credentials.uri,
        body,
    })?;
    // Hex digits compare without case; the expected digest is lowercase.
    let mut lowered = [0u8; 64];
    for (dst, src) in lowered.iter_mut().zip(provided) {
        *dst = src.to_ascii_lowercase();
    }
    let lowered = lowered.get(..provided.len()).unwrap_or(&[]);
    Ok(constant_time_eq(lowered, expected.as_bytes()))
}

/// Byte-wise equality whose running time depends only on the lengths, not
/// on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    core::hint::black_box(diff) == 0
}

/// The value of an `nc` field: exactly 8 hex digits (RFC 7616 §3.4).
pub fn parse_nonce_count(nc: &str) -> Option<u32> {
    let bytes = nc.as_bytes();
    if bytes.len() != 8 {
        return None;
    }
    bytes.iter().try_fold(0u32, |acc, &c| {
        hex_value(c).map(|v| acc << 4 | u32::from(v))
    })
}
