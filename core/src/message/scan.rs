//! Character classes and small scanners shared by the header grammars
//! (RFC 3261 §25.1).

use super::error::{ParseError, ParseErrorKind};

/// `token` characters: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
#[allow(clippy::indexing_slicing)] // a u8 always indexes a 256-entry table
pub(crate) const fn is_token_char(b: u8) -> bool {
    TOKEN_CHARS[b as usize]
}

/// Defines a 256-entry table of the bytes `b` for which `test` holds,
/// built at compile time (an index out of range would fail the build), so
/// a byte class costs one load on the hot paths.
macro_rules! byte_set {
    ($(#[$m:meta])* $vis:vis $name:ident = |$b:ident| $test:expr) => {
        $(#[$m])*
        #[allow(clippy::indexing_slicing)]
        $vis const $name: [bool; 256] = {
            let mut t = [false; 256];
            let mut i = 0;
            while i < 256 {
                let $b = i as u8;
                t[i] = $test;
                i += 1;
            }
            t
        };
    };
}
pub(crate) use byte_set;

byte_set!(
    /// `token` characters (RFC 3261 §25.1).
    TOKEN_CHARS = |b| b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
);

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
#[inline]
pub(crate) fn trim_lws(s: &str) -> &str {
    // Most values have nothing to trim: two bytes tell.
    if let (Some(&first), Some(&last)) = (s.as_bytes().first(), s.as_bytes().last()) {
        if !is_lws(first) && !is_lws(last) {
            return s;
        }
    }
    let (start, end) = lws_bounds(s.as_bytes());
    // Both ends sit next to ASCII bytes, so they are char boundaries.
    s.get(start..end).unwrap_or("")
}

/// `b` without leading and trailing linear white space.
pub(crate) fn trim_lws_bytes(b: &[u8]) -> &[u8] {
    let (start, end) = lws_bounds(b);
    b.get(start..end).unwrap_or(&[])
}

/// The range of `b` left after trimming linear white space.
#[inline]
fn lws_bounds(b: &[u8]) -> (usize, usize) {
    let start = b.iter().position(|&c| !is_lws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|&c| !is_lws(c)).map_or(start, |i| i + 1);
    (start, end)
}

/// Splits `s` at the first `sep` that is outside quotes and angle brackets.
/// Returns `(before, Some(after))`, or `(s, None)` when there is none.
pub(crate) fn split_outside(s: &str, sep: u8) -> (&str, Option<&str>) {
    match find_outside(s, sep) {
        Some(i) => (s.get(..i).unwrap_or(""), s.get(i + 1..)),
        None => (s, None),
    }
}

/// The offset of the first `sep` (not itself a quote or bracket) outside
/// quoted strings and `<...>`.
pub(crate) fn find_outside(s: &str, sep: u8) -> Option<usize> {
    let bytes = s.as_bytes();
    // Until the first quote or `<`, the first `sep` is the answer (a `>`
    // outside brackets changes nothing).
    let mut i = find_any_of3(bytes, sep, b'"', b'<')?;
    if bytes.get(i) == Some(&sep) {
        return Some(i);
    }
    let mut in_quote = false;
    let mut in_angle = false;
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

/// Byte-wise flags of the zero bytes of `w`: the lowest flagged byte is
/// the lowest zero byte (borrows only run towards higher bytes, so bytes
/// above a zero byte may be flagged falsely, never bytes below one).
pub(crate) const fn zero_bytes(w: u64) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    w.wrapping_sub(ONES) & !w & HIGHS
}

/// The eight bytes of `b` at `at`, little-endian, when there are eight.
pub(crate) fn word_at(b: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = b.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// The offset of the first byte of `b` for which `flags` (computed on
/// eight bytes at a time, see [`zero_bytes`]) flags a byte. Inputs of
/// eight bytes or more are read a word at a time to the end: the last
/// word overlaps bytes already read, which hold no match and so cannot
/// flag falsely.
#[inline(always)]
fn find_word_wise(b: &[u8], flags: impl Fn(u64) -> u64, is: impl Fn(u8) -> bool) -> Option<usize> {
    let mut words = b.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut words {
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let found = flags(u64::from_le_bytes(bytes));
        if found != 0 {
            return Some(base + (found.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    let tail = words.remainder();
    if tail.is_empty() {
        return None;
    }
    if base == 0 {
        return tail.iter().position(|&c| is(c));
    }
    let at = b.len() - 8;
    let found = flags(word_at(b, at)?);
    (found != 0).then(|| at + (found.trailing_zeros() / 8) as usize)
}

/// The offset of the first byte of `b` that is `x`, `y` or `z`, eight
/// bytes per step (see [`find_byte`]).
pub(crate) fn find_any_of3(b: &[u8], x: u8, y: u8, z: u8) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    let (px, py, pz) = (
        ONES * u64::from(x),
        ONES * u64::from(y),
        ONES * u64::from(z),
    );
    // Each flag word's lowest set byte is exact, so is their union's.
    find_word_wise(
        b,
        |w| zero_bytes(w ^ px) | zero_bytes(w ^ py) | zero_bytes(w ^ pz),
        |c| c == x || c == y || c == z,
    )
}

/// The offset of the first `needle` in `b`. Scans eight bytes per step
/// with word arithmetic: header lines are too short for a SIMD search's
/// set-up to pay off, and too long for a byte loop to be quick.
pub(crate) fn find_byte(b: &[u8], needle: u8) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    let pattern = ONES * u64::from(needle);
    find_word_wise(b, |w| zero_bytes(w ^ pattern), |c| c == needle)
}

/// Eight copies of `b`, one per byte of a word.
pub(crate) const fn splat(b: u8) -> u64 {
    u64::from_ne_bytes([b; 8])
}

/// Byte-wise flags (the high bit of each byte) of the bytes of `w` that
/// lie in `lo..=hi`, for `0 < lo <= hi < 0x7f`. Exact in every byte: the
/// additions work on the low seven bits, which cannot carry into the next
/// byte.
#[inline(always)]
pub(crate) const fn bytes_in(w: u64, lo: u8, hi: u8) -> u64 {
    let low7 = w & splat(0x7f);
    let at_least_lo = low7 + splat(0x80 - lo);
    let above_hi = low7 + splat(0x7f - hi);
    at_least_lo & !above_hi & !w & splat(0x80)
}

/// The offset of the first LF in `b` at or after `from`, eight bytes per
/// step; the last few bytes, fewer than a word, one at a time. Unlike
/// [`find_byte`] it needs no slice of its own, so a walk over many lines
/// pays no set-up per line.
#[inline(always)]
pub(crate) fn find_lf_from(b: &[u8], from: usize) -> Option<usize> {
    let mut rest = b.get(from..)?;
    while let Some((word, tail)) = rest.split_first_chunk::<8>() {
        let found = zero_bytes(u64::from_le_bytes(*word) ^ splat(b'\n'));
        if found != 0 {
            return Some(b.len() - rest.len() + (found.trailing_zeros() / 8) as usize);
        }
        rest = tail;
    }
    let at = b.len() - rest.len();
    rest.iter().position(|&c| c == b'\n').map(|i| at + i)
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
/// empty input and overflow. Leading zeros are allowed (`0068`, RFC 4475
/// §3.1.1.1).
pub(crate) fn parse_u32(s: &str) -> Option<u32> {
    parse_u32_bytes(s.as_bytes())
}

/// [`parse_u32`] over bytes.
pub(crate) fn parse_u32_bytes(s: &[u8]) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        // Leading zeros keep `v` at 0; past u32 range (any 11th significant
        // digit) the value is refused, so `v` never nears u64 overflow.
        v = v * 10 + u64::from(b - b'0');
        if v > u64::from(u32::MAX) {
            return None;
        }
    }
    u32::try_from(v).ok()
}

/// The length of the quoted string at the start of `b` (which starts with
/// `"`), closing quote included. qdtext is LWS, visible ASCII but `"` and
/// `\`, or non-ASCII UTF-8; quoted-pair escapes any octet but CR and LF
/// (RFC 3261 §25.1 quoted-string).
pub(crate) fn quoted_string_len(b: &[u8]) -> Result<usize, ParseErrorKind> {
    if b.first() != Some(&b'"') {
        return Err(ParseErrorKind::BadHeaderValue);
    }
    let mut i = 1;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => return Ok(i + 1),
            b'\\' => match b.get(i + 1) {
                Some(b'\r' | b'\n') | None => return Err(ParseErrorKind::UnterminatedQuote),
                Some(_) => i += 2,
            },
            b' ' | b'\t' | b'\r' | b'\n' | 0x21..=0x7e | 0x80..=0xff => i += 1,
            _ => return Err(ParseErrorKind::BadHeaderValue),
        }
    }
    Err(ParseErrorKind::UnterminatedQuote)
}

/// Skips linear white space from `i`.
pub(crate) fn skip_lws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|&c| is_lws(c)) {
        i += 1;
    }
    i
}

/// The end of the run of bytes satisfying `f` from `i`.
#[inline(always)]
pub(crate) fn run_end(b: &[u8], i: usize, f: impl Fn(u8) -> bool) -> usize {
    match b.get(i..) {
        Some(rest) => i + rest.iter().position(|&c| !f(c)).unwrap_or(rest.len()),
        None => i,
    }
}

/// A non-empty run of digits that fits `u32`, surrounded by nothing but LWS.
pub(crate) fn parse_delta(s: &str) -> Result<u32, ParseError> {
    let t = trim_lws(s);
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::new(ParseErrorKind::BadHeaderValue, 0));
    }
    parse_u32(t).ok_or(ParseError::new(ParseErrorKind::Overflow, 0))
}

/// The offset of `inner` inside `outer` when `inner` is a sub-slice of it,
/// else 0. Lets parsers report input offsets of borrowed pieces.
pub(crate) fn offset_in(outer: &str, inner: &str) -> usize {
    let start = outer.as_ptr() as usize;
    let at = inner.as_ptr() as usize;
    match at.checked_sub(start) {
        Some(d) if d <= outer.len() => d,
        _ => 0,
    }
}

/// The length of the comment at the start of `b` (which starts with `(`),
/// nested comments and quoted-pairs included (RFC 3261 §25.1 comment).
pub(crate) fn comment_len(b: &[u8]) -> Option<usize> {
    if b.first() != Some(&b'(') {
        return None;
    }
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'\\' => i += 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// `word` characters (RFC 3261 §25.1), the alphabet of Call-IDs.
pub(crate) const fn is_word_char(b: u8) -> bool {
    is_token_char(b)
        || matches!(
            b,
            b'(' | b')'
                | b'<'
                | b'>'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'{'
                | b'}'
        )
}

/// callid = word [ "@" word ] (RFC 3261 §25.1).
pub(crate) fn is_call_id(s: &str) -> bool {
    let word = |w: &str| !w.is_empty() && w.bytes().all(is_word_char);
    match s.split_once('@') {
        Some((a, b)) => word(a) && word(b),
        None => word(s),
    }
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
    fn quoted_strings_close_and_reject_control_octets() {
        assert_eq!(quoted_string_len(br#""a\"b" x"#), Ok(6));
        assert_eq!(quoted_string_len(b"\"\\\x07\""), Ok(4));
        assert_eq!(
            quoted_string_len(b"\"open"),
            Err(ParseErrorKind::UnterminatedQuote)
        );
        assert_eq!(
            quoted_string_len(b"\"a\x01\""),
            Err(ParseErrorKind::BadHeaderValue)
        );
    }

    #[test]
    fn quoted_pair_does_not_close_a_quote() {
        assert_eq!(find_outside(r#""a\",b", c"#, b','), Some(7));
    }

    #[test]
    fn find_byte_finds_the_first_occurrence_at_every_position() {
        let mut buf = [b'a'; 40];
        for len in 0..buf.len() {
            assert_eq!(find_byte(&buf[..len], b'\n'), None);
            for at in 0..len {
                buf[at] = b'\n';
                // A second match and a byte one above the needle behind the
                // first must not move the answer.
                if at + 1 < len {
                    buf[at + 1] = b'\n' + 1;
                }
                if at + 3 < len {
                    buf[at + 3] = b'\n';
                }
                assert_eq!(find_byte(&buf[..len], b'\n'), Some(at), "{len} {at}");
                assert_eq!(find_lf_from(&buf[..len], 0), Some(at), "{len} {at}");
                for from in 0..=at {
                    assert_eq!(find_lf_from(&buf[..len], from), Some(at));
                }
                assert_eq!(find_lf_from(&buf[..len], len + 1), None);
                buf = [b'a'; 40];
            }
        }
        assert_eq!(find_byte(&[0x0a, 0x8a, 0x0b], 0x8a), Some(1));
        for at in 0..20 {
            for needle in [b',', b'"', b'<'] {
                let mut buf = [b';'; 20];
                buf[at] = needle;
                buf[19] = b'<';
                assert_eq!(find_any_of3(&buf, b',', b'"', b'<'), Some(at));
            }
        }
        assert_eq!(find_any_of3(b"abcdefghijk", b',', b'"', b'<'), None);
        assert_eq!(find_byte(&[0xff; 9], 0x7f), None);
    }

    #[test]
    fn bytes_in_flags_exactly_the_bytes_in_range() {
        for (lo, hi) in [
            (1u8, 1u8),
            (b'!', b'~'),
            (b'<', b'<'),
            (b'0', b'9'),
            (0x7e, 0x7e),
        ] {
            for x in 0..=255u8 {
                // Each byte of the word, among neighbours that could carry.
                for (at, fill) in [(0, 0xffu8), (3, 0x00), (7, 0x7f)] {
                    let mut w = [fill; 8];
                    w[at] = x;
                    let flags = bytes_in(u64::from_le_bytes(w), lo, hi);
                    let expect = (lo..=hi).contains(&x);
                    assert_eq!(flags >> (8 * at + 7) & 1 == 1, expect, "{lo} {hi} {x}");
                    let others = flags & !(0x80 << (8 * at));
                    let fill_in = (lo..=hi).contains(&fill);
                    assert_eq!(others.count_ones(), if fill_in { 7 } else { 0 });
                }
            }
        }
    }

    #[test]
    fn parse_u32_rejects_overflow_and_signs() {
        assert_eq!(parse_u32("4294967295"), Some(u32::MAX));
        assert_eq!(parse_u32("4294967296"), None);
        assert_eq!(parse_u32("-1"), None);
        assert_eq!(parse_u32(""), None);
        assert_eq!(parse_u32("0068"), Some(68));
        assert_eq!(parse_u32("000000000004294967295"), Some(u32::MAX));
    }
}
