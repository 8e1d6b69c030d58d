//! name-addr / addr-spec values: From, To, Contact, Route, Record-Route,
//! Refer-To, Referred-By (RFC 3261 §20.10, §25.1).

use super::error::{ParseError, ParseErrorKind};
use super::params::Params;
use super::scan::{find_outside, is_lws, is_token_char, trim_lws};
use super::uri::Uri;

/// An address with optional display name and header parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// The display name as written (quoted or a run of tokens), if any.
    pub display_name: Option<&'a str>,
    /// The URI.
    pub uri: Uri<'a>,
    /// Header parameters after the address, e.g. `;tag=...` (may be empty).
    pub params: &'a str,
}

fn bad(kind: ParseErrorKind) -> ParseError {
    ParseError::new(kind, 0)
}

impl<'a> NameAddr<'a> {
    /// Parses `[display-name] <uri> *(;param)` or a bare addr-spec, whose
    /// parameters then belong to the header, not the URI (RFC 3261 §20.10).
    pub fn parse(s: &'a str) -> Result<NameAddr<'a>, ParseError> {
        let s = trim_lws(s);
        match find_outside_quotes(s, b'<')? {
            Some(lt) => {
                let display = trim_lws(s.get(..lt).unwrap_or(""));
                let display_name = if display.is_empty() {
                    None
                } else {
                    check_display_name(display)?;
                    Some(display)
                };
                let after = s.get(lt + 1..).unwrap_or("");
                let gt = after.find('>').ok_or(bad(ParseErrorKind::BadHeaderValue))?;
                let uri_str = after.get(..gt).unwrap_or("");
                // RFC 3261 §25.1 name-addr: no LWS inside the angle brackets
                // (RFC 4475 §3.1.2.14 badaspec).
                if uri_str.bytes().any(is_lws) {
                    return Err(bad(ParseErrorKind::BadUri));
                }
                let uri = Uri::parse(uri_str)?;
                let params = after.get(gt + 1..).unwrap_or("");
                check_params(params)?;
                Ok(NameAddr {
                    display_name,
                    uri,
                    params,
                })
            }
            None => {
                // addr-spec: the URI ends at the first ';' (header params
                // follow) and may not hold '?', ',' or ';' (RFC 3261 §20.10).
                let (uri_str, params) = match s.find(';') {
                    Some(i) => (s.get(..i).unwrap_or(""), s.get(i..).unwrap_or("")),
                    None => (s, ""),
                };
                let uri_str = trim_lws(uri_str);
                if uri_str.contains(['?', ',']) || uri_str.bytes().any(is_lws) {
                    return Err(bad(ParseErrorKind::BadHeaderValue));
                }
                let uri = Uri::parse(uri_str)?;
                check_params(params)?;
                Ok(NameAddr {
                    display_name: None,
                    uri,
                    params,
                })
            }
        }
    }

    /// The header parameters.
    pub fn param_list(&self) -> Params<'a> {
        Params::new(self.params)
    }

    /// The tag parameter (RFC 3261 §19.3).
    pub fn tag(&self) -> Option<&'a str> {
        self.param_list().get("tag").flatten()
    }
}

fn find_outside_quotes(s: &str, b: u8) -> Result<Option<usize>, ParseError> {
    let bytes = s.as_bytes();
    let mut in_quote = false;
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        if in_quote {
            match c {
                b'\\' => i += 1,
                b'"' => in_quote = false,
                _ => {}
            }
        } else if c == b'"' {
            in_quote = true;
        } else if c == b {
            return Ok(Some(i));
        }
        i += 1;
    }
    if in_quote {
        return Err(bad(ParseErrorKind::UnterminatedQuote));
    }
    Ok(None)
}

/// display-name = *(token LWS) / quoted-string (RFC 3261 §25.1).
fn check_display_name(d: &str) -> Result<(), ParseError> {
    if d.starts_with('"') {
        let bytes = d.as_bytes();
        let mut i = 1;
        while let Some(&c) = bytes.get(i) {
            match c {
                b'\\' => i += 2,
                b'"' => {
                    return if i + 1 == bytes.len() {
                        Ok(())
                    } else {
                        Err(bad(ParseErrorKind::BadHeaderValue))
                    };
                }
                _ => i += 1,
            }
        }
        return Err(bad(ParseErrorKind::UnterminatedQuote));
    }
    if d.bytes().all(|b| is_token_char(b) || is_lws(b)) {
        Ok(())
    } else {
        Err(bad(ParseErrorKind::BadHeaderValue))
    }
}

fn check_params(p: &str) -> Result<(), ParseError> {
    let p = trim_lws(p);
    if p.is_empty() {
        return Ok(());
    }
    if !p.starts_with(';') || find_outside(p, b',').is_some() {
        return Err(bad(ParseErrorKind::BadHeaderValue));
    }
    let ok = Params::new(p).all(|(n, v)| {
        !n.is_empty()
            && n.bytes().all(is_token_char)
            && v.is_none_or(|v| {
                !v.is_empty()
                    && (v.starts_with('"') && v.ends_with('"') && v.len() >= 2
                        || v.bytes()
                            .all(|b| is_token_char(b) || b == b':' || b == b'[' || b == b']'))
            })
    });
    if ok {
        Ok(())
    } else {
        Err(bad(ParseErrorKind::BadHeaderValue))
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
    }
}
