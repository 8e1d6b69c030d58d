//! name-addr / addr-spec values: From, To, Contact, Route, Record-Route,
//! Refer-To, Referred-By (RFC 3261 §20.10, §25.1).

use super::error::{ParseError, ParseErrorKind};
use super::params::{check_generic_params, plain_generic_params_end, unquote, ParamSeen, Params};
use super::scan::byte_set;
use super::scan::{
    find_byte, is_lws, is_token_char, offset_in, quoted_string_len, run_end, skip_lws, trim_lws,
};
use super::uri::{scan_uri, Uri};

/// An address with optional display name and header parameters.
#[derive(Clone, Copy, Eq)]
pub struct NameAddr<'a> {
    /// The display name as written (quoted or a run of tokens), if any.
    pub display_name: Option<&'a str>,
    /// The URI.
    pub uri: Uri<'a>,
    /// Header parameters after the address, e.g. `;tag=...` (may be empty).
    pub params: &'a str,
    /// Where the tag parameter stands in `params`, when the parse saw it:
    /// [`NameAddr::tag`] then reads no parameter again.
    tag_seen: ParamSeen,
}

impl PartialEq for NameAddr<'_> {
    fn eq(&self, other: &Self) -> bool {
        // `tag_seen` only remembers what `params` holds.
        self.display_name == other.display_name
            && self.uri == other.uri
            && self.params == other.params
    }
}

impl core::fmt::Debug for NameAddr<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NameAddr")
            .field("display_name", &self.display_name)
            .field("uri", &self.uri)
            .field("params", &self.params)
            .finish()
    }
}

/// The parts of a name-addr or addr-spec value before the URI is parsed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AddrParts<'a> {
    pub(crate) display_name: Option<&'a str>,
    pub(crate) uri: &'a str,
    /// Offset of `uri` in the value.
    pub(crate) uri_offset: usize,
    pub(crate) params: &'a str,
    /// Offset of `params` in the value.
    pub(crate) params_offset: usize,
    /// Whether the URI was enclosed in `<>` (name-addr form).
    pub(crate) angle: bool,
}

/// Splits `[display-name] <uri> *(;param)` or `addr-spec *(;param)`,
/// checking the display name and the header parameters strictly.
pub(crate) fn split_addr(value: &str) -> Result<AddrParts<'_>, ParseError> {
    let lead = value.len()
        - value
            .trim_start_matches(|c: char| c.is_ascii() && is_lws(c as u8))
            .len();
    let s = trim_lws(value);
    let at = |kind, off: usize| ParseError::new(kind, lead + off);
    let parts = match find_outside_quotes(s, b'<').map_err(|e| at(e.kind, e.offset))? {
        Some(lt) => {
            let display = trim_lws(s.get(..lt).unwrap_or(""));
            let display_name = if display.is_empty() {
                None
            } else {
                check_display_name(display).map_err(|e| at(e.kind, e.offset))?;
                Some(display)
            };
            let after = s.get(lt + 1..).unwrap_or("");
            // One pass to the `>`, noting the first LWS on the way: RFC 3261
            // §25.1 name-addr allows none inside the angle brackets (RFC 4475
            // §3.1.2.14 badaspec).
            let mut first_lws = None;
            let gt = after
                .bytes()
                .enumerate()
                .find(|&(i, b)| {
                    if is_lws(b) && first_lws.is_none() {
                        first_lws = Some(i);
                    }
                    b == b'>'
                })
                .map(|(i, _)| i)
                .ok_or(at(ParseErrorKind::BadHeaderValue, s.len()))?;
            let uri = after.get(..gt).unwrap_or("");
            if let Some(i) = first_lws {
                return Err(at(ParseErrorKind::BadUri, lt + 1 + i));
            }
            AddrParts {
                display_name,
                uri,
                uri_offset: lead + lt + 1,
                params: after.get(gt + 1..).unwrap_or(""),
                params_offset: lead + lt + gt + 2,
                angle: true,
            }
        }
        None => {
            // addr-spec: the URI ends at the first ';' (header params
            // follow) and may not hold '?', ',' or LWS (RFC 3261 §20.10;
            // RFC 4475 §3.1.2.13).
            let (uri, params, p_off) = match s.bytes().position(|b| b == b';') {
                Some(i) => (s.get(..i).unwrap_or(""), s.get(i..).unwrap_or(""), i),
                None => (s, "", s.len()),
            };
            let uri = trim_lws(uri);
            if let Some(i) = uri.find(|c: char| c == '?' || c == ',' || c.is_ascii_whitespace()) {
                return Err(at(ParseErrorKind::BadHeaderValue, i));
            }
            AddrParts {
                display_name: None,
                uri,
                uri_offset: lead,
                params,
                params_offset: lead + p_off,
                angle: false,
            }
        }
    };
    check_generic_params(parts.params)
        .map_err(|e| ParseError::new(e.kind, parts.params_offset + e.offset))?;
    Ok(parts)
}

impl<'a> NameAddr<'a> {
    /// Parses `[display-name] <uri> *(;param)` or a bare addr-spec, whose
    /// parameters then belong to the header, not the URI (RFC 3261 §20.10).
    /// Error offsets are relative to `s`.
    #[inline]
    pub fn parse(s: &'a str) -> Result<NameAddr<'a>, ParseError> {
        let t = trim_lws(s);
        if let Some((addr, end)) = Self::parse_plain(t) {
            if end == t.len() {
                return Ok(addr);
            }
            // Parameters beyond the plain ones: checked by the full rules.
            let params = t.get(offset_in(t, addr.params)..).unwrap_or("");
            if check_generic_params(params).is_ok() {
                return Ok(NameAddr {
                    params,
                    tag_seen: ParamSeen::Unread,
                    ..addr
                });
            }
        }
        let parts = split_addr(s)?;
        let uri = Uri::parse(parts.uri)
            .map_err(|e| ParseError::new(e.kind, parts.uri_offset + e.offset))?;
        Ok(NameAddr {
            display_name: parts.display_name,
            uri,
            params: parts.params,
            tag_seen: ParamSeen::Unread,
        })
    }

    /// The first of a list of name-addr values (Contact), when it has the
    /// plain shape that [`NameAddr::parse`] reads in one pass and ends the
    /// list or is followed by a comma: the element a
    /// [`CommaList`](super::CommaList) gives, read as `NameAddr::parse`
    /// reads it.
    pub(crate) fn parse_first_plain(list: &'a str) -> Option<NameAddr<'a>> {
        let t = trim_lws(list);
        let (addr, end) = Self::parse_plain(t)?;
        if matches!(t.as_bytes().get(end), None | Some(b',')) {
            Some(addr)
        } else {
            None
        }
    }

    /// The common name-addr shape at the start of trimmed `t`, in one
    /// pass: no display name, a quoted one or a run of tokens, then `<`, a
    /// URI whose characters are checked by the same scan that finds the
    /// `>`, and plain parameters ([`plain_generic_params_end`]). Returns
    /// the address, its parameters up to where the plain ones end, and
    /// that end. `None` for other shapes (addr-specs, errors), which
    /// [`split_addr`] then reads; what this reads, that reads the same way.
    #[inline(always)]
    fn parse_plain(t: &'a str) -> Option<(NameAddr<'a>, usize)> {
        let b = t.as_bytes();
        let (display_name, lt) = match b.first()? {
            b'<' => (None, 0),
            b'"' => {
                let q = quoted_string_len(b).ok()?;
                (Some(t.get(..q)?), skip_lws(b, q))
            }
            // Trimmed: the value starts with a token byte, or this is no
            // display name and `<` is not found below.
            _ => {
                let lt = run_end(b, 0, is_display_char);
                if b.get(lt) != Some(&b'<') {
                    return Self::parse_plain_addr_spec(t);
                }
                (Some(trim_lws(t.get(..lt)?)), lt)
            }
        };
        if b.get(lt) != Some(&b'<') {
            return None;
        }
        // No LWS may stand inside the brackets (RFC 3261 §25.1), and none
        // is a URI character: the first byte that is not ends the URI.
        let after = t.get(lt + 1..)?;
        let (uri, gt) = match Uri::parse_plain(after, true) {
            Some((uri, end)) => (uri, end),
            None => {
                let (gt, marks) = scan_uri(after.as_bytes()).ok()?;
                (Uri::split(after.get(..gt)?, marks).ok()?, gt)
            }
        };
        if after.as_bytes().get(gt) != Some(&b'>') {
            return None;
        }
        let params_start = lt + gt + 2;
        let (params_len, tag_seen) = plain_generic_params_end(b.get(params_start..)?, b"tag");
        let end = params_start + params_len;
        Some((
            NameAddr {
                display_name,
                uri,
                params: t.get(params_start..end)?,
                tag_seen,
            },
            end,
        ))
    }

    /// A plain addr-spec with plain parameters (RFC 3261 §20.10: they
    /// belong to the header) at the start of trimmed `t`, as
    /// [`NameAddr::parse_plain`] returns it. The plain URI holds no `<`,
    /// quote, `?`, `,` or white space, nor do plain parameters; should any
    /// byte follow them, it is left to the full rules.
    fn parse_plain_addr_spec(t: &'a str) -> Option<(NameAddr<'a>, usize)> {
        let b = t.as_bytes();
        let (uri, uri_end) = match Uri::parse_plain(t, false) {
            Some((uri, end)) if matches!(b.get(end), None | Some(b';' | b',')) => (uri, end),
            _ => {
                // Other URI shapes (escapes, a password, tel): the URI ends
                // at the first ';' and holds no '?', ',' or LWS (RFC 3261
                // §20.10), as `split_addr` reads it; LWS ends the scan.
                let uri_end = find_byte(b, b';').unwrap_or(b.len());
                let uri = t.get(..uri_end)?;
                if uri.bytes().any(|c| matches!(c, b'?' | b',')) {
                    return None;
                }
                (Uri::parse(uri).ok()?, uri_end)
            }
        };
        let (params_len, tag_seen) = plain_generic_params_end(b.get(uri_end..)?, b"tag");
        let end = uri_end + params_len;
        if !matches!(b.get(end), None | Some(b',')) {
            return None;
        }
        Some((
            NameAddr {
                display_name: None,
                uri,
                params: t.get(uri_end..end)?,
                tag_seen,
            },
            end,
        ))
    }

    /// The header parameters.
    pub fn param_list(&self) -> Params<'a> {
        Params::new(self.params)
    }

    /// The tag parameter (RFC 3261 §19.3).
    pub fn tag(&self) -> Option<&'a str> {
        self.tag_seen.lookup(self.params, "tag")
    }

    /// The display name without its quotes (quoted-pair escapes stay; see
    /// [`unescape_quoted`](super::unescape_quoted)).
    pub fn display_name_unquoted(&self) -> Option<&'a str> {
        self.display_name.map(unquote)
    }
}

fn find_outside_quotes(s: &str, b: u8) -> Result<Option<usize>, ParseError> {
    let bytes = s.as_bytes();
    let mut in_quote = false;
    let mut i = 0;
    let mut open = 0;
    while let Some(&c) = bytes.get(i) {
        if in_quote {
            match c {
                b'\\' => i += 1,
                b'"' => in_quote = false,
                _ => {}
            }
        } else if c == b'"' {
            in_quote = true;
            open = i;
        } else if c == b {
            return Ok(Some(i));
        }
        i += 1;
    }
    if in_quote {
        return Err(ParseError::new(ParseErrorKind::UnterminatedQuote, open));
    }
    Ok(None)
}

byte_set!(
    /// A byte of an unquoted display name: a `token` byte or LWS.
    DISPLAY_CHARS = |b| is_token_char(b) || is_lws(b)
);

fn is_display_char(c: u8) -> bool {
    DISPLAY_CHARS.get(usize::from(c)).copied().unwrap_or(false)
}

/// display-name = *(token LWS) / quoted-string (RFC 3261 §25.1; RFC 4475
/// §3.1.2.15 rejects unquoted commas).
fn check_display_name(d: &str) -> Result<(), ParseError> {
    if d.starts_with('"') {
        let len = quoted_string_len(d.as_bytes()).map_err(|k| ParseError::new(k, 0))?;
        return if len == d.len() {
            Ok(())
        } else {
            Err(ParseError::new(ParseErrorKind::BadHeaderValue, len))
        };
    }
    match d.bytes().position(|b| !(is_token_char(b) || is_lws(b))) {
        None => Ok(()),
        Some(i) => Err(ParseError::new(ParseErrorKind::BadHeaderValue, i)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_addr_forms() {
        let a = NameAddr::parse(r#""Bob \"B\"" <sip:bob@biloxi.com;transport=udp>;tag=a6c85cf"#)
            .unwrap();
        assert_eq!(a.display_name, Some(r#""Bob \"B\"""#));
        assert_eq!(a.uri.user, Some("bob"));
        assert_eq!(a.uri.transport(), Some("udp"));
        assert_eq!(a.tag(), Some("a6c85cf"));
        let b = NameAddr::parse("sip:alice@atlanta.com;tag=1928301774").unwrap();
        assert_eq!(b.uri.params, "");
        assert_eq!(b.tag(), Some("1928301774"));
        let c = NameAddr::parse("Bob Smith<sip:bob@x>").unwrap();
        assert_eq!(c.display_name, Some("Bob Smith"));
    }

    #[test]
    fn broken_name_addrs_are_rejected() {
        assert_eq!(
            NameAddr::parse(r#""Mr J. User <sip:j.user@example.com>"#)
                .unwrap_err()
                .kind,
            ParseErrorKind::UnterminatedQuote
        );
        assert!(NameAddr::parse("Bell, Alexander <sip:a.g.bell@example.com>;tag=43").is_err());
        assert!(NameAddr::parse("< sip:a@b >").is_err());
        assert!(NameAddr::parse("sip:a@b?Route=x").is_err());
        assert!(NameAddr::parse(r#""Joe" <sip:joe@example.org>;;;;"#).is_err());
        assert!(NameAddr::parse("<sip:a@b>;tag").is_ok());
        let e = NameAddr::parse("  <sip:a@b:x>").unwrap_err();
        assert_eq!((e.kind, e.offset), (ParseErrorKind::BadUri, 9));
    }
}
