//! Character classes and small scanners shared by the header grammars
//! (RFC 3261 §25.1).

/// `token` characters: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
pub(crate) const fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

/// True when every byte of a non-empty `s` is a token character.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

/// Linear white space as a header value sees it: folding has left CR and LF
/// inside values, and they count as space (RFC 3261 §7.3.1).
pub(crate) const fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// `s` without leading and trailing linear white space.
pub(crate) fn trim_lws(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii() && is_lws(c as u8))
}

/// Splits `s` at the first `sep` that is outside quotes and angle brackets.
/// Returns `(before, Some(after))`, or `(s, None)` when there is none.
pub(crate) fn split_outside(s: &str, sep: u8) -> (&str, Option<&str>) {
    match find_outside(s, sep) {
        Some(i) => (s.get(..i).unwrap_or(""), s.get(i + 1..)),
        None => (s, None),
    }
}

/// The offset of the first `sep` outside quoted strings and `<...>`.
pub(crate) fn find_outside(s: &str, sep: u8) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut in_quote = false;
    let mut in_angle = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if in_quote {
            match b {
                b'\\' => i += 1, // quoted-pair: skip the escaped byte
                b'"' => in_quote = false,
                _ => {}
            }
        } else if b == b'"' {
            in_quote = true;
        } else if b == b'<' {
            in_angle = true;
        } else if b == b'>' {
            in_angle = false;
        } else if b == sep && !in_angle {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Iterates the comma-separated elements of a list header value, skipping
/// empty elements as RFC 3261 §7.3.1 allows (`a,,b`).
#[derive(Clone, Debug)]
pub struct CommaList<'a> {
    rest: Option<&'a str>,
}

impl<'a> CommaList<'a> {
    /// The elements of `value`.
    pub fn new(value: &'a str) -> Self {
        CommaList { rest: Some(value) }
    }
}

impl<'a> Iterator for CommaList<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        loop {
            let s = self.rest?;
            let (item, rest) = split_outside(s, b',');
            self.rest = rest;
            let item = trim_lws(item);
            if !item.is_empty() {
                return Some(item);
            }
        }
    }
}

/// Parses an unsigned decimal of at most `u32` range, rejecting signs,
/// empty input and overflow.
pub(crate) fn parse_u32(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 10 {
        return None;
    }
    let mut v: u64 = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(b - b'0');
    }
    u32::try_from(v).ok()
}

/// ASCII case-insensitive equality.
pub(crate) fn eq_ic(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comma_list_respects_quotes_angles_and_empties() {
        let v = r#""a,b" <sip:x@y;p=1,2>;q=1 ,, <sip:z> "#;
        let mut it = CommaList::new(v);
        assert_eq!(it.next(), Some(r#""a,b" <sip:x@y;p=1,2>;q=1"#));
        assert_eq!(it.next(), Some("<sip:z>"));
        assert_eq!(it.next(), None);
    }

    #[test]
    fn quoted_pair_does_not_close_a_quote() {
        assert_eq!(find_outside(r#""a\",b", c"#, b','), Some(7));
    }

    #[test]
    fn parse_u32_rejects_overflow_and_signs() {
        assert_eq!(parse_u32("4294967295"), Some(u32::MAX));
        assert_eq!(parse_u32("4294967296"), None);
        assert_eq!(parse_u32("-1"), None);
        assert_eq!(parse_u32(""), None);
    }
}
