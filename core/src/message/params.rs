//! Generic `;name=value` parameter lists (RFC 3261 §25.1 generic-param,
//! uri-parameter).

use super::error::{ParseError, ParseErrorKind};
use super::scan::{
    eq_ic, is_lws, is_token, is_token_char, quoted_string_len, run_end, skip_lws, split_outside,
    trim_lws,
};

/// Iterates `;name[=value]` parameters. The input starts after the thing
/// the parameters belong to, with or without the leading `;`.
#[derive(Clone, Debug)]
pub struct Params<'a> {
    rest: Option<&'a str>,
}

impl<'a> Params<'a> {
    /// The parameters in `s` (e.g. `;tag=1;lr`).
    pub fn new(s: &'a str) -> Self {
        let s = trim_lws(s);
        let s = s.strip_prefix(';').unwrap_or(s);
        Params {
            rest: if s.is_empty() { None } else { Some(s) },
        }
    }

    /// The value of the first parameter named `name` (case-insensitive):
    /// `Some(Some(v))` for `name=v`, `Some(None)` for a bare `name`.
    pub fn get(&self, name: &str) -> Option<Option<&'a str>> {
        if !is_token(name) {
            return self.clone().find(|(n, _)| eq_ic(n, name)).map(|(_, v)| v);
        }
        // A token name is compared with the start of each element, and
        // only an element that starts with it is split at its `=`: an
        // element whose name is `name` starts with it, and one that starts
        // with it and goes on with neither `=` nor white space has a
        // longer name.
        let mut rest = self.rest?;
        loop {
            let (item, next) = split_outside(rest, b';');
            let item = trim_start_lws(item);
            let after = item
                .get(..name.len())
                .filter(|head| eq_ic(head, name))
                .and_then(|_| item.get(name.len()..));
            match after.map(|a| (a, a.as_bytes().first())) {
                Some((_, None)) => return Some(None),
                Some((a, Some(b'='))) => return Some(Some(trim_lws(a.get(1..).unwrap_or("")))),
                Some((_, Some(&c))) if is_lws(c) => {
                    if let Some((n, v)) = split_param(item) {
                        if eq_ic(n, name) {
                            return Some(v);
                        }
                    }
                }
                _ => {}
            }
            rest = next?;
        }
    }

    /// Whether a parameter named `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = (&'a str, Option<&'a str>);
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let s = self.rest?;
            let (item, rest) = split_outside(s, b';');
            self.rest = rest;
            if let Some(param) = split_param(item) {
                return Some(param);
            }
        }
    }
}

/// One `name[=value]` element, white space trimmed; `None` when empty.
fn split_param(item: &str) -> Option<(&str, Option<&str>)> {
    let item = trim_lws(item);
    if item.is_empty() {
        return None;
    }
    Some(match split_outside(item, b'=') {
        (n, Some(v)) => (trim_lws(n), Some(trim_lws(v))),
        (n, None) => (n, None),
    })
}

/// `s` without leading linear white space.
fn trim_start_lws(s: &str) -> &str {
    let start = s.bytes().position(|c| !is_lws(c)).unwrap_or(s.len());
    s.get(start..).unwrap_or("")
}

/// Checks `*( SEMI generic-param )` strictly (RFC 3261 §25.1): each
/// parameter has a `token` name, a value is a token, a host or a complete
/// quoted string, and no element is empty (RFC 4475 §3.1.2.1 rejects
/// `;;`). Error offsets are relative to `s`.
pub(crate) fn check_generic_params(s: &str) -> Result<(), ParseError> {
    let b = s.as_bytes();
    let err = |kind, at| Err(ParseError::new(kind, at));
    let mut i = skip_lws(b, 0);
    while i < b.len() {
        if b.get(i) != Some(&b';') {
            return err(ParseErrorKind::BadHeaderValue, i);
        }
        i = skip_lws(b, i + 1);
        let name_end = run_end(b, i, is_token_char);
        if name_end == i {
            return err(ParseErrorKind::BadHeaderValue, i);
        }
        i = skip_lws(b, name_end);
        if b.get(i) == Some(&b'=') {
            i = skip_lws(b, i + 1);
            if b.get(i) == Some(&b'"') {
                let rest = b.get(i..).unwrap_or(&[]);
                i += quoted_string_len(rest).map_err(|k| ParseError::new(k, i))?;
            } else {
                // gen-value = token / host (IPv6 references included).
                let end = run_end(b, i, |c| {
                    is_token_char(c) || matches!(c, b':' | b'[' | b']')
                });
                if end == i {
                    return err(ParseErrorKind::BadHeaderValue, i);
                }
                i = end;
            }
            i = skip_lws(b, i);
        }
    }
    Ok(())
}

/// Removes one pair of surrounding double quotes, if present. Quoted-pair
/// escapes stay as written; see [`unescape_quoted`].
pub fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

/// Copies the contents of a quoted string into `out`, resolving
/// quoted-pair escapes (RFC 3261 §25.1). Returns the used prefix of `out`,
/// or `None` when `out` is too small or the string is not UTF-8 afterwards.
pub fn unescape_quoted<'b>(s: &str, out: &'b mut [u8]) -> Option<&'b str> {
    let inner = unquote(s).as_bytes();
    let mut n = 0;
    let mut i = 0;
    while let Some(&b) = inner.get(i) {
        let byte = if b == b'\\' {
            i += 1;
            *inner.get(i)?
        } else {
            b
        };
        *out.get_mut(n)? = byte;
        n += 1;
        i += 1;
    }
    core::str::from_utf8(out.get(..n)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_with_and_without_values() {
        let p = Params::new(";tag=abc ; lr;Q=0.5");
        assert_eq!(p.get("TAG"), Some(Some("abc")));
        assert_eq!(p.get("lr"), Some(None));
        assert_eq!(p.get("q"), Some(Some("0.5")));
        assert_eq!(p.get("x"), None);
        assert_eq!(p.count(), 3);
    }

    #[test]
    fn strict_generic_params() {
        assert!(check_generic_params("").is_ok());
        assert!(check_generic_params(" ;tag = x ; lr ;p=\"a;b\";maddr=[::1]").is_ok());
        for bad in [";;", ";a;", ";=x", ";a=", ";a=\"x", "x", ";a b"] {
            assert!(check_generic_params(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quoted_pairs_are_resolved() {
        let mut buf = [0u8; 16];
        assert_eq!(unescape_quoted(r#""a\"b\\c""#, &mut buf), Some(r#"a"b\c"#));
        assert_eq!(unescape_quoted(r#""toolong string""#, &mut [0u8; 4]), None);
    }
}
