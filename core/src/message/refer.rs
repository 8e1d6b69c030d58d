//! Transfer headers: Refer-To with an embedded Replaces (RFC 3515 §2.1,
//! RFC 5589 §7), Replaces (RFC 3891 §6.1) and Refer-Sub (RFC 4488 §2.1).

use core::fmt;

use super::addr::NameAddr;
use super::error::{ParseError, ParseErrorKind, WriteError};
use super::event::split_token_params;
use super::params::{check_generic_params, Params};
use super::scan::{is_call_id, is_token, offset_in, trim_lws};
use super::text::push_all;
use super::uri::percent_decode;
use super::write::MessageWriter;

/// The Refer-To header: the address to refer to. Its URI may carry
/// escaped headers, e.g. `?Replaces=...` for an attended transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReferTo<'a> {
    /// The address.
    pub addr: NameAddr<'a>,
}

impl<'a> ReferTo<'a> {
    /// Parses a Refer-To value (RFC 3515 §2.1: name-addr or addr-spec, then
    /// parameters). Error offsets are relative to `s`.
    pub fn parse(s: &'a str) -> Result<ReferTo<'a>, ParseError> {
        NameAddr::parse(s).map(|addr| ReferTo { addr })
    }

    /// Decodes the URI's embedded `Replaces` header into `buf` and parses
    /// it: `None` when there is none. An escape that does not decode, a
    /// result that is not UTF-8 or a `buf` too small is an error.
    pub fn replaces<'b>(&self, buf: &'b mut [u8]) -> Option<Result<Replaces<'b>, ParseError>> {
        let escaped = self.addr.uri.header("Replaces")?;
        let at = offset_in(self.addr.uri.raw, escaped);
        Some(decode_replaces(escaped, buf).map_err(|e| ParseError::new(e.kind, at)))
    }
}

fn decode_replaces<'b>(escaped: &str, buf: &'b mut [u8]) -> Result<Replaces<'b>, ParseError> {
    let bad = ParseError::new(ParseErrorKind::BadHeaderValue, 0);
    let bytes = percent_decode(escaped, buf).ok_or(bad)?;
    let text = core::str::from_utf8(bytes).map_err(|_| bad)?;
    Replaces::parse(text)
}

/// The Replaces header: the dialog a new INVITE replaces (RFC 3891 §6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replaces<'a> {
    /// The dialog's Call-ID.
    pub call_id: &'a str,
    /// The `to-tag`.
    pub to_tag: &'a str,
    /// The `from-tag`.
    pub from_tag: &'a str,
    /// The `early-only` flag: replace only an early dialog (RFC 3891 §3).
    pub early_only: bool,
}

impl<'a> Replaces<'a> {
    /// Parses `callid *( ;replaces-param )`. Error offsets are relative to `s`.
    pub fn parse(s: &'a str) -> Result<Replaces<'a>, ParseError> {
        let t = trim_lws(s);
        let end = t.find(';').unwrap_or(t.len());
        let call_id = trim_lws(t.get(..end).unwrap_or(""));
        let bad = |at: &str| ParseError::new(ParseErrorKind::BadHeaderValue, offset_in(s, at));
        if !is_call_id(call_id) {
            return Err(bad(call_id));
        }
        let params = t.get(end..).unwrap_or("");
        check_generic_params(params)
            .map_err(|e| ParseError::new(e.kind, offset_in(s, params) + e.offset))?;
        let (mut to_tag, mut from_tag, mut early_only) = (None, None, false);
        for (name, value) in Params::new(params) {
            let dup = |seen: bool| if seen { Err(bad(name)) } else { Ok(()) };
            if name.eq_ignore_ascii_case("to-tag") {
                dup(to_tag.is_some())?;
                to_tag = Some(value.filter(|v| is_token(v)).ok_or(bad(name))?);
            } else if name.eq_ignore_ascii_case("from-tag") {
                dup(from_tag.is_some())?;
                from_tag = Some(value.filter(|v| is_token(v)).ok_or(bad(name))?);
            } else if name.eq_ignore_ascii_case("early-only") {
                early_only = true;
            }
        }
        // RFC 3891 §3: exactly one to-tag and one from-tag.
        match (to_tag, from_tag) {
            (Some(to_tag), Some(from_tag)) => Ok(Replaces {
                call_id,
                to_tag,
                from_tag,
                early_only,
            }),
            _ => Err(ParseError::new(ParseErrorKind::BadHeaderValue, s.len())),
        }
    }
}

/// Parses a Refer-Sub value, `true` or `false` (RFC 4488 §2.1).
pub fn parse_refer_sub(s: &str) -> Result<bool, ParseError> {
    let (v, _) = split_token_params(s)?;
    if v.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if v.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(ParseError::new(
            ParseErrorKind::BadHeaderValue,
            offset_in(s, v),
        ))
    }
}

/// A Refer-To value that embeds a Replaces header, written as
/// `<target?Replaces=call-id%3Bto-tag%3D...%3Bfrom-tag%3D...>` (RFC 3891
/// §3, RFC 3515 §2.1, RFC 5589 §7). Display it into a header with
/// [`MessageWriter::header_fmt`], or write it with [`ReferToReplaces::write`]
/// or [`ReferToReplaces::push_to`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReferToReplaces<'x> {
    /// The transfer target's URI, e.g. `sip:carol@192.0.2.4`.
    pub target: &'x str,
    /// The Call-ID of the dialog to replace.
    pub call_id: &'x str,
    /// Its to-tag.
    pub to_tag: &'x str,
    /// Its from-tag.
    pub from_tag: &'x str,
    /// Whether only an early dialog may be replaced.
    pub early_only: bool,
}

impl ReferToReplaces<'_> {
    /// Writes the value into `out` and returns its length; never truncates.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, WriteError> {
        let mut w = MessageWriter::new(out);
        let _ = self.pieces(|piece| {
            w.text(&[piece]);
            Ok::<(), WriteError>(())
        });
        w.finish_fragment()
    }

    /// Appends the value to `out`; `Err` when it does not fit.
    pub fn push_to<const N: usize>(&self, out: &mut heapless::String<N>) -> Result<(), WriteError> {
        self.pieces(|piece| push_all(out, &[piece]))
    }

    /// Hands the value to `put` piece by piece, in order.
    fn pieces<E>(&self, mut put: impl FnMut(&str) -> Result<(), E>) -> Result<(), E> {
        // A URI that already has headers gets the new one after '&'.
        let sep = if self.target.contains('?') { "&" } else { "?" };
        put("<")?;
        put(self.target)?;
        put(sep)?;
        put("Replaces=")?;
        HeaderEscaped(self.call_id).pieces(&mut put)?;
        put("%3Bto-tag%3D")?;
        HeaderEscaped(self.to_tag).pieces(&mut put)?;
        put("%3Bfrom-tag%3D")?;
        HeaderEscaped(self.from_tag).pieces(&mut put)?;
        if self.early_only {
            put("%3Bearly-only")?;
        }
        put(">")
    }
}

impl fmt::Display for ReferToReplaces<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.pieces(|piece| f.write_str(piece))
    }
}

/// Writes text %-escaped for use as a URI header value: everything but
/// `unreserved` and `hnv-unreserved` characters is escaped (RFC 3261 §25.1
/// hvalue).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderEscaped<'x>(pub &'x str);

impl HeaderEscaped<'_> {
    /// Hands the escaped text to `put` piece by piece: runs of characters
    /// that stay as they are, and one `%XX` per escaped byte.
    fn pieces<E>(&self, mut put: impl FnMut(&str) -> Result<(), E>) -> Result<(), E> {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut plain_from = 0;
        for (i, b) in self.0.bytes().enumerate() {
            let plain = b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'_'
                        | b'.'
                        | b'!'
                        | b'~'
                        | b'*'
                        | b'\''
                        | b'('
                        | b')'
                        | b'['
                        | b']'
                        | b'/'
                        | b'?'
                        | b':'
                        | b'+'
                        | b'$'
                );
            if plain {
                continue;
            }
            put(self.0.get(plain_from..i).unwrap_or(""))?;
            plain_from = i + 1;
            let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
            let lo = HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0');
            let escaped = [b'%', hi, lo];
            put(core::str::from_utf8(&escaped).unwrap_or(""))?;
        }
        put(self.0.get(plain_from..).unwrap_or(""))
    }
}

impl fmt::Display for HeaderEscaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.pieces(|piece| f.write_str(piece))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_parses_and_requires_both_tags() {
        let r =
            Replaces::parse("98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff;early-only")
                .unwrap();
        assert_eq!(r.call_id, "98732@sip.example.com");
        assert_eq!(
            (r.to_tag, r.from_tag, r.early_only),
            ("ff87ff", "r33th4x0r", true)
        );
        assert!(Replaces::parse("a@b;to-tag=1").is_err());
        assert!(Replaces::parse("a@b;to-tag=1;to-tag=2;from-tag=3").is_err());
        assert!(Replaces::parse(";to-tag=1;from-tag=2").is_err());
    }

    #[test]
    fn refer_to_replaces_round_trip() {
        let build = ReferToReplaces {
            target: "sips:transfertarget@chicago.example.com",
            call_id: "090459243588173445@a.example.com",
            to_tag: "7553452",
            from_tag: "31431",
            early_only: false,
        };
        let mut out = [0u8; 160];
        let n = build.write(&mut out).unwrap();
        let mut copy = [0u8; 160];
        copy[..n].copy_from_slice(&out[..n]);
        let text = core::str::from_utf8(&copy[..n]).unwrap();
        // RFC 5589 §7 shape; '@' of the Call-ID is escaped too.
        assert_eq!(
            text,
            "<sips:transfertarget@chicago.example.com?Replaces=090459243588173445%40a.example.com%3Bto-tag%3D7553452%3Bfrom-tag%3D31431>"
        );
        let refer_to = ReferTo::parse(text).unwrap();
        assert_eq!(refer_to.addr.uri.user, Some("transfertarget"));
        let mut buf = [0u8; 96];
        let r = refer_to.replaces(&mut buf).unwrap().unwrap();
        assert_eq!(
            (r.call_id, r.to_tag, r.from_tag, r.early_only),
            (build.call_id, build.to_tag, build.from_tag, false)
        );
        assert_eq!(
            build.write(&mut out[..n - 1]),
            Err(WriteError::BufferTooSmall)
        );
        // Too small a decode buffer is an error, not a truncation.
        assert!(refer_to.replaces(&mut [0u8; 8]).unwrap().is_err());
        assert!(ReferTo::parse("<sip:c@h>")
            .unwrap()
            .replaces(&mut buf)
            .is_none());
    }

    #[test]
    fn refer_sub_values() {
        assert_eq!(parse_refer_sub("false"), Ok(false));
        assert_eq!(parse_refer_sub("TRUE ;x=1"), Ok(true));
        assert!(parse_refer_sub("maybe").is_err());
    }
}
