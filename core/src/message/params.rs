//! Generic `;name=value` parameter lists (RFC 3261 §25.1 generic-param,
//! uri-parameter).

use super::error::{ParseError, ParseErrorKind};
use super::scan::byte_set;
use super::scan::{
    eq_ic, find_any_of3, is_lws, is_token, is_token_char, quoted_string_len, run_end, skip_lws,
    split_outside, trim_lws,
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
        self.get_token(name)
    }

    /// [`Params::get`] for a `name` known to be a `token` (the codec's own
    /// parameter names).
    pub(crate) fn get_token(&self, name: &str) -> Option<Option<&'a str>> {
        let rest = self.rest?;
        let b = rest.as_bytes();
        let n = name.as_bytes();
        // The plain elements first, each in one pass: a token name, then
        // `;` or the end, or `=` and a value without white space, quotes,
        // brackets or `;`. At the first element of another shape the
        // general reading below takes over from there.
        let mut at = 0;
        loop {
            let name_end = run_end(b, at, is_token_char);
            let (value, end) = match b.get(name_end) {
                None | Some(b';') => (None, name_end),
                Some(b'=') => {
                    let value_end = run_end(b, name_end + 1, is_plain_value);
                    if !matches!(b.get(value_end), None | Some(b';')) {
                        break;
                    }
                    (Some((name_end + 1, value_end)), value_end)
                }
                Some(_) => break,
            };
            if b.get(at..name_end).is_some_and(|head| same_name(head, n)) {
                return Some(match value {
                    Some((from, to)) => Some(rest.get(from..to)?),
                    None => None,
                });
            }
            if end >= b.len() {
                return None;
            }
            at = end + 1;
        }
        self.get_token_general(name, at)
    }

    /// [`Params::get_token`] from the element at `at` on, any shape.
    fn get_token_general(&self, name: &str, from: usize) -> Option<Option<&'a str>> {
        let rest = self.rest?;
        // A token name is compared with the start of each element, and
        // only an element that starts with it is split at its `=`: an
        // element whose name is `name` starts with it, and one that starts
        // with it and goes on with neither `=` nor white space has a
        // longer name.
        let b = rest.as_bytes();
        let n = name.as_bytes();
        let mut at = from;
        loop {
            let tail = b.get(at..)?;
            let (end, next) = match find_any_of3(tail, b';', b'"', b'<') {
                Some(i) if tail.get(i) == Some(&b';') => (at + i, Some(at + i + 1)),
                None => (b.len(), None),
                // A quote or bracket: the general split from this element on.
                Some(_) => {
                    return Params {
                        rest: rest.get(at..),
                    }
                    .find(|(m, _)| eq_ic(m, name))
                    .map(|(_, v)| v);
                }
            };
            let start = at + skip_lws(tail, 0);
            let after = start + n.len();
            let named = after <= end && b.get(start..after).is_some_and(|head| same_name(head, n));
            if named {
                match b.get(after).filter(|_| after < end) {
                    None => return Some(None),
                    Some(b'=') => return Some(Some(trim_lws(rest.get(after + 1..end)?))),
                    Some(&c) if is_lws(c) => {
                        if let Some((m, v)) = split_param(rest.get(at..end)?) {
                            if eq_ic(m, name) {
                                return Some(v);
                            }
                        }
                    }
                    Some(_) => {}
                }
            }
            at = next?;
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

byte_set!(
    /// The bytes of a plain parameter value ([`Params::get_token`]): all but
    /// `;`, quotes, brackets and white space.
    PLAIN_VALUE = |b| !matches!(b, b';' | b'"' | b'<' | b' ' | b'\t' | b'\r' | b'\n')
);

fn is_plain_value(c: u8) -> bool {
    PLAIN_VALUE.get(usize::from(c)).copied().unwrap_or(false)
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

/// Whether `a` is `token` name `b` in any case.
pub(crate) fn same_name(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(&x, &y)| x == y || (x | 0x20 == y | 0x20 && (x | 0x20).is_ascii_lowercase()))
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

/// The end of the run of plain `*( SEMI generic-param )` at the start of
/// `b`: each parameter a `token` name and an optional value of `token`
/// or host characters, with no white space or quotes. What this runs
/// over, [`check_generic_params`] accepts.
/// On the way, notes where the first parameter named `name` (a `token`,
/// compared case-insensitively) stands, as [`Params::get_token`] finds
/// it in `b[..end]` (not in a longer list: an element may go on past
/// `end`).
pub(crate) fn plain_generic_params_end(b: &[u8], name: &[u8]) -> (usize, ParamSeen) {
    let mut seen = ParamSeen::Absent;
    let mut at = 0;
    while b.get(at) == Some(&b';') {
        let name_end = run_end(b, at + 1, is_token_char);
        if name_end == at + 1 {
            return (at, seen);
        }
        let named = seen == ParamSeen::Absent
            && b.get(at + 1..name_end).is_some_and(|n| same_name(n, name));
        at = name_end;
        if b.get(at) == Some(&b'=') {
            let value_end = run_end(b, at + 1, |c| {
                is_token_char(c) || matches!(c, b':' | b'[' | b']')
            });
            if value_end == at + 1 {
                return (name_end, seen);
            }
            if named {
                seen = ParamSeen::value(at + 1, value_end);
            }
            at = value_end;
        } else if named {
            seen = ParamSeen::Bare;
        }
    }
    (at, seen)
}

/// What the reading of a parameter list learnt about one parameter, so
/// that looking it up later needs no second pass over the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParamSeen {
    /// Not known: the list is searched.
    Unread,
    /// No such parameter in the list.
    Absent,
    /// The first one has no value.
    Bare,
    /// The first one's value: its start and end in the list.
    Value(u16, u16),
}

impl ParamSeen {
    /// A value at `start..end` of the list (unknown past 64 KiB).
    pub(crate) fn value(start: usize, end: usize) -> Self {
        match (u16::try_from(start), u16::try_from(end)) {
            (Ok(s), Ok(e)) => ParamSeen::Value(s, e),
            _ => ParamSeen::Unread,
        }
    }

    /// The value of the parameter `name` in `params`, flattened as
    /// `get_token(name).flatten()`.
    #[inline]
    pub(crate) fn lookup<'a>(self, params: &'a str, name: &str) -> Option<&'a str> {
        match self {
            ParamSeen::Unread => Params::new(params).get_token(name).flatten(),
            ParamSeen::Absent | ParamSeen::Bare => None,
            ParamSeen::Value(s, e) => params.get(usize::from(s)..usize::from(e)),
        }
    }
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
    fn token_lookup_agrees_with_splitting_every_element() {
        let lists = [
            ";tag=abc;lr",
            "tag=abc",
            "lr;TAG=x,y>z",
            ";tagx=1;tag",
            ";tag = 1",
            "; tag=2",
            ";a=\"q;tag=3\";tag=4",
            ";a=<x;tag=5>;tag=6",
            ";;tag=;x",
            ";x=1;y;tag=\t7",
            ";x=1 ;tag=8",
            ";branch=z9hG4bK1;received=192.0.2.1;rport",
        ];
        for list in lists {
            let p = Params::new(list);
            for name in ["tag", "lr", "branch", "rport", "x", "y", "a"] {
                let split = p.clone().find(|(n, _)| eq_ic(n, name)).map(|(_, v)| v);
                assert_eq!(p.get_token(name), split, "{list} {name}");
            }
        }
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
