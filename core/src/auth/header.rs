//! Writing the `Authorization`/`Proxy-Authorization` header value
//! (RFC 3261 §22.4, §25.1 `digest-response`) into a caller slice.

use super::compute::respond;
use super::{AuthError, Challenge, DigestRequest};

/// Computes the answer to `challenge` and writes the whole header value,
/// `Digest username="…", realm="…", …`, into `out`; returns its length.
///
/// Nothing is truncated: a value that does not fit is
/// [`AuthError::BufferTooSmall`]. `cnonce` is written with a qop or a
/// `-sess` algorithm, `qop` and `nc` only with a qop, and `opaque` whenever the
/// challenge carried one (RFC 2617 §3.2.2).
pub fn write_authorization(
    challenge: &Challenge<'_>,
    request: &DigestRequest<'_>,
    out: &mut [u8],
) -> Result<usize, AuthError> {
    let answer = respond(challenge, request)?;
    let mut w = Cursor { out, len: 0 };
    w.raw("Digest username=")?;
    w.quoted(request.username)?;
    w.raw(", realm=")?;
    w.quoted(challenge.realm)?;
    w.raw(", nonce=")?;
    w.quoted(challenge.nonce)?;
    w.raw(", uri=")?;
    w.quoted(request.uri)?;
    w.raw(", response=\"")?;
    w.raw(answer.response.as_str())?;
    w.raw("\", algorithm=")?;
    w.raw(answer.algorithm.as_str())?;
    if answer.qop.is_some() || answer.algorithm.is_session() {
        w.raw(", cnonce=")?;
        w.quoted(request.cnonce)?;
    }
    if let Some(qop) = answer.qop {
        // RFC 3261 §25.1: message-qop and nonce-count are unquoted tokens.
        w.raw(", qop=")?;
        w.raw(qop.as_str())?;
        w.raw(", nc=")?;
        w.raw(answer.nc_str())?;
    }
    if let Some(opaque) = challenge.opaque {
        w.raw(", opaque=")?;
        w.quoted(opaque)?;
    }
    Ok(w.len)
}

struct Cursor<'b> {
    out: &'b mut [u8],
    len: usize,
}

impl Cursor<'_> {
    fn byte(&mut self, b: u8) -> Result<(), AuthError> {
        let slot = self
            .out
            .get_mut(self.len)
            .ok_or(AuthError::BufferTooSmall)?;
        *slot = b;
        self.len += 1;
        Ok(())
    }

    fn raw(&mut self, s: &str) -> Result<(), AuthError> {
        let end = self
            .len
            .checked_add(s.len())
            .ok_or(AuthError::BufferTooSmall)?;
        let dst = self
            .out
            .get_mut(self.len..end)
            .ok_or(AuthError::BufferTooSmall)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }

    /// A quoted-string: `"` and `\` become quoted-pairs; CR and LF cannot be
    /// carried at all (RFC 3261 §25.1 `quoted-pair`).
    fn quoted(&mut self, s: &str) -> Result<(), AuthError> {
        self.byte(b'"')?;
        for &b in s.as_bytes() {
            match b {
                b'\r' | b'\n' => return Err(AuthError::UnquotableValue),
                b'"' | b'\\' => {
                    self.byte(b'\\')?;
                    self.byte(b)?;
                }
                _ => self.byte(b)?,
            }
        }
        self.byte(b'"')
    }
}
