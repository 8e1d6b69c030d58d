//! Header names (full and compact forms) and iteration over a header
//! section, folding included.

use super::scan::{eq_ic, find_byte, is_token_char, splat, trim_lws, word_at, zero_bytes};

macro_rules! header_names {
    ($( $(#[$doc:meta])* $variant:ident => $full:literal $(, $compact:literal)? ;)*) => {
        /// A header name. Known names are matched case-insensitively in full
        /// or compact form (RFC 3261 §7.3.3, §20); others stay reachable as
        /// [`HeaderName::Other`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum HeaderName<'a> {
            $( $(#[$doc])* $variant, )*
            /// A header this codec has no name for, as written.
            Other(&'a str),
        }

        /// The known headers' positions in [`KNOWN`].
        #[derive(Clone, Copy)]
        enum Known { $( $variant, )* }

        /// Every known header, in declaration order.
        pub(crate) const KNOWN: [HeaderName<'static>; [$( stringify!($variant) ),*].len()] =
            [$( HeaderName::$variant, )*];

        /// The full names, in the order of [`KNOWN`].
        const FULL_NAMES: [&str; KNOWN.len()] = [$( $full, )*];

        /// The compact forms (empty for none), in the order of [`KNOWN`].
        const COMPACT_NAMES: [&str; KNOWN.len()] = [$( first_or_empty(&[$( $compact )?]), )*];

        impl<'a> HeaderName<'a> {
            /// The name as written on the wire, parsed case-insensitively.
            pub fn parse(name: &'a str) -> HeaderName<'a> {
                known_index(name)
                    .and_then(|i| KNOWN.get(i).copied())
                    .unwrap_or(HeaderName::Other(name))
            }

            /// The position of a known header in [`KNOWN`], `None` for
            /// [`HeaderName::Other`].
            pub(crate) const fn index(&self) -> Option<usize> {
                match self {
                    $( HeaderName::$variant => Some(Known::$variant as usize), )*
                    HeaderName::Other(_) => None,
                }
            }

            // The three below read the name tables by `index`: a `match`
            // with a string per arm compiled to about 1 KiB on a Cortex-M.

            /// The canonical full name.
            pub fn as_str(&self) -> &'a str {
                match (self, self.index()) {
                    (HeaderName::Other(s), _) => s,
                    (_, i) => i.and_then(|i| FULL_NAMES.get(i)).copied().unwrap_or(""),
                }
            }

            /// The compact form, for headers that have one.
            pub fn compact(&self) -> Option<&'static str> {
                // The compact forms are single lower-case letters.
                let i = self.index()?;
                let letter = COMPACT_TABLE.iter().position(|&n| usize::from(n) == i + 1)?;
                "abcdefghijklmnopqrstuvwxyz".get(letter..letter + 1)
            }

            /// Whether the written `name` denotes this header.
            pub fn matches(&self, name: &str) -> bool {
                eq_ic(name, self.as_str()) || self.compact().is_some_and(|c| eq_ic(name, c))
            }
        }
    };
}

header_names! {
    /// Accept.
    Accept => "Accept";
    /// Alert-Info.
    AlertInfo => "Alert-Info";
    /// Allow.
    Allow => "Allow";
    /// Allow-Events (compact `u`).
    AllowEvents => "Allow-Events", "u";
    /// Authorization.
    Authorization => "Authorization";
    /// Call-ID (compact `i`).
    CallId => "Call-ID", "i";
    /// Call-Info.
    CallInfo => "Call-Info";
    /// Contact (compact `m`).
    Contact => "Contact", "m";
    /// Content-Disposition.
    ContentDisposition => "Content-Disposition";
    /// Content-Encoding (compact `e`).
    ContentEncoding => "Content-Encoding", "e";
    /// Content-Length (compact `l`).
    ContentLength => "Content-Length", "l";
    /// Content-Type (compact `c`).
    ContentType => "Content-Type", "c";
    /// CSeq.
    CSeq => "CSeq";
    /// Date.
    Date => "Date";
    /// Event (compact `o`).
    Event => "Event", "o";
    /// Expires.
    Expires => "Expires";
    /// From (compact `f`).
    From => "From", "f";
    /// Max-Forwards.
    MaxForwards => "Max-Forwards";
    /// Min-Expires.
    MinExpires => "Min-Expires";
    /// Min-SE.
    MinSe => "Min-SE";
    /// Proxy-Authenticate.
    ProxyAuthenticate => "Proxy-Authenticate";
    /// Proxy-Authorization.
    ProxyAuthorization => "Proxy-Authorization";
    /// Proxy-Require.
    ProxyRequire => "Proxy-Require";
    /// RAck.
    RAck => "RAck";
    /// Record-Route.
    RecordRoute => "Record-Route";
    /// Refer-Sub.
    ReferSub => "Refer-Sub";
    /// Refer-To (compact `r`).
    ReferTo => "Refer-To", "r";
    /// Referred-By (compact `b`).
    ReferredBy => "Referred-By", "b";
    /// Replaces.
    Replaces => "Replaces";
    /// Require.
    Require => "Require";
    /// Retry-After.
    RetryAfter => "Retry-After";
    /// Route.
    Route => "Route";
    /// RSeq.
    RSeq => "RSeq";
    /// Server.
    Server => "Server";
    /// Session-Expires (compact `x`).
    SessionExpires => "Session-Expires", "x";
    /// Subject (compact `s`).
    Subject => "Subject", "s";
    /// Subscription-State.
    SubscriptionState => "Subscription-State";
    /// Supported (compact `k`).
    Supported => "Supported", "k";
    /// Timestamp.
    Timestamp => "Timestamp";
    /// To (compact `t`).
    To => "To", "t";
    /// Unsupported.
    Unsupported => "Unsupported";
    /// User-Agent.
    UserAgent => "User-Agent";
    /// Via (compact `v`).
    Via => "Via", "v";
    /// Warning.
    Warning => "Warning";
    /// WWW-Authenticate.
    WwwAuthenticate => "WWW-Authenticate";
}

/// The only element of `names`, or `""`.
const fn first_or_empty(names: &[&'static str]) -> &'static str {
    match names {
        [one] => one,
        _ => "",
    }
}

/// The hash of a full header name for [`FULL_TABLE`]: length, first and
/// last byte, each letter folded to lower case (`| 0x20` keeps digits and
/// `-` as they are). Different names may share a hash; the table is built
/// so that no two known names do.
const fn name_hash(len: usize, first: u8, last: u8) -> usize {
    len.wrapping_add((first | 0x20) as usize * 33)
        .wrapping_add((last | 0x20) as usize)
        & (FULL_TABLE_LEN - 1)
}

const FULL_TABLE_LEN: usize = 128;

/// Known header position + 1 by [`name_hash`] of its full name, 0 for none.
// Built at compile time: an index out of range would fail the build.
#[allow(clippy::indexing_slicing)]
const FULL_TABLE: [u8; FULL_TABLE_LEN] = {
    let mut t = [0u8; FULL_TABLE_LEN];
    let mut i = 0;
    while i < FULL_NAMES.len() {
        let b = FULL_NAMES[i].as_bytes();
        let h = name_hash(b.len(), b[0], b[b.len() - 1]);
        // Two known names on one slot would hide one of them: refuse to build.
        assert!(t[h] == 0, "header name hash collision");
        t[h] = (i + 1) as u8;
        i += 1;
    }
    t
};

/// Known header position + 1 by the letter of its compact form, 0 for none.
// Built at compile time: an index out of range would fail the build.
#[allow(clippy::indexing_slicing)]
const COMPACT_TABLE: [u8; 26] = {
    let mut t = [0u8; 26];
    let mut i = 0;
    while i < COMPACT_NAMES.len() {
        let b = COMPACT_NAMES[i].as_bytes();
        if b.len() == 1 {
            // `HeaderName::compact` reads the letter back from its position.
            assert!(
                b[0].is_ascii_lowercase(),
                "compact form not a lower-case letter"
            );
            t[(b[0] | 0x20).wrapping_sub(b'a') as usize] = (i + 1) as u8;
        }
        i += 1;
    }
    t
};

/// The position in [`KNOWN`] of the header a written `name` denotes (full
/// or compact form, any case): one table probe and one comparison instead
/// of a comparison with every known name.
pub(crate) fn known_index(name: &str) -> Option<usize> {
    known_index_bytes(name.as_bytes())
}

/// [`known_index`] over bytes.
pub(crate) fn known_index_bytes(name: &[u8]) -> Option<usize> {
    let slot = match name {
        [] => return None,
        [c] => {
            let letter = (c | 0x20).wrapping_sub(b'a');
            return match COMPACT_TABLE.get(usize::from(letter)) {
                Some(&n) if n != 0 => Some(usize::from(n) - 1),
                _ => None,
            };
        }
        [first, .., last] => FULL_TABLE.get(name_hash(name.len(), *first, *last)),
    };
    let i = usize::from(*slot?).checked_sub(1)?;
    let full = FULL_NAMES.get(i)?.as_bytes();
    // Known full names hold only letters, digits and `-`: for those, `| 0x20`
    // folds case, and the `>= b'-'` test keeps control bytes that fold onto
    // a digit or `-` from matching.
    let same = name.len() == full.len()
        && name
            .iter()
            .zip(full)
            .all(|(&a, &k)| a | 0x20 == k | 0x20 && a >= b'-');
    same.then_some(i)
}

/// A known full name as three little-endian words, for comparing a name
/// eight bytes per step: the name lower-cased, the bits that fold case
/// (0x20 on letters only, so that digits and `-` compare exactly and no
/// control byte can fold onto them), and which bytes belong to the name.
#[derive(Clone, Copy)]
struct NameWords {
    len: usize,
    lower: [u64; 3],
    fold: [u64; 3],
    mask: [u64; 3],
}

/// [`NameWords`] of every known full name, in the order of [`KNOWN`].
// Built at compile time: an index out of range would fail the build.
#[allow(clippy::indexing_slicing)]
const NAME_WORDS: [NameWords; KNOWN.len()] = {
    let mut t = [NameWords {
        len: 0,
        lower: [0; 3],
        fold: [0; 3],
        mask: [0; 3],
    }; KNOWN.len()];
    let mut i = 0;
    while i < FULL_NAMES.len() {
        let b = FULL_NAMES[i].as_bytes();
        assert!(b.len() <= 24, "known header name longer than three words");
        t[i].len = b.len();
        let mut j = 0;
        while j < b.len() {
            let c = b[j];
            assert!(
                c.is_ascii_alphanumeric() || c == b'-',
                "known header names hold letters, digits and '-'"
            );
            let shift = (j % 8) * 8;
            let fold: u64 = if c.is_ascii_alphabetic() { 0x20 } else { 0 };
            t[i].lower[j / 8] |= ((c | fold as u8) as u64) << shift;
            t[i].fold[j / 8] |= fold << shift;
            t[i].mask[j / 8] |= 0xff << shift;
            j += 1;
        }
        i += 1;
    }
    t
};

/// Whether `line` starts with known full name `i` (any case), compared a
/// word at a time. `None` when `line` is too short to load the words.
fn starts_with_known(line: &[u8], i: usize) -> Option<bool> {
    let w = NAME_WORDS.get(i)?;
    let mut differ = 0;
    for k in 0..3 {
        let (Some(&mask), Some(&fold), Some(&lower)) =
            (w.mask.get(k), w.fold.get(k), w.lower.get(k))
        else {
            break;
        };
        if mask == 0 {
            break;
        }
        differ |= ((word_at(line, k * 8)? | fold) ^ lower) & mask;
    }
    Some(differ == 0)
}

/// The common header line start at `at` of `b`: a known name, full or
/// compact in any case, followed at once by `:`. Returns the offset of that
/// colon and the name's position in [`KNOWN`]; `None` for anything else
/// (white space before the colon, unknown names, malformed lines, fewer
/// than eight bytes left), which [`line_name`] then reads. The colon is
/// sought in the first three words of the line only, where every known
/// name ends; the words loaded for it are those the name is compared by.
#[inline(always)]
pub(crate) fn known_name_at(b: &[u8], at: usize) -> Option<(usize, usize)> {
    let colon_in = |w: u64| zero_bytes(w ^ splat(b':'));
    // The known full name of `len` bytes that `b` may hold at `at`, by its
    // hash ([`name_hash`]), and the words to compare it by.
    let candidate = |len: usize| {
        let first = *b.get(at)?;
        let last = *b.get(at + len - 1)?;
        let slot = *FULL_TABLE.get(name_hash(len, first, last))?;
        let i = usize::from(slot).checked_sub(1)?;
        let words = NAME_WORDS.get(i).filter(|w| w.len == len)?;
        Some((i, words))
    };
    // Known full names hold only letters, digits and `-`: equal words
    // prove the name a token (see [`NameWords`]).
    let differ = |w: u64, fold: u64, lower: u64, mask: u64| ((w | fold) ^ lower) & mask;
    let w0 = word_at(b, at)?;
    let found = colon_in(w0);
    if found != 0 {
        let len = (found.trailing_zeros() / 8) as usize;
        let known = match len {
            0 => return None,
            1 => {
                let letter = (w0 as u8 | 0x20).wrapping_sub(b'a');
                usize::from(*COMPACT_TABLE.get(usize::from(letter))?).checked_sub(1)?
            }
            _ => {
                let (i, words) = candidate(len)?;
                if differ(w0, words.fold[0], words.lower[0], words.mask[0]) != 0 {
                    return None;
                }
                i
            }
        };
        return Some((at + len, known));
    }
    let w1 = word_at(b, at + 8)?;
    let found = colon_in(w1);
    let (len, w2) = if found != 0 {
        (8 + (found.trailing_zeros() / 8) as usize, 0)
    } else {
        let w2 = word_at(b, at + 16)?;
        let found = colon_in(w2);
        if found == 0 {
            return None;
        }
        (16 + (found.trailing_zeros() / 8) as usize, w2)
    };
    let (i, words) = candidate(len)?;
    let [f0, f1, f2] = words.fold;
    let [l0, l1, l2] = words.lower;
    let [m0, m1, m2] = words.mask;
    if differ(w0, f0, l0, m0) | differ(w1, f1, l1, m1) | differ(w2, f2, l2, m2) != 0 {
        return None;
    }
    Some((at + len, i))
}

/// Reads the name of a header line whose first `:` is at `colon`: `None`
/// unless the line starts with a `token` and optional white space before
/// that colon (RFC 3261 §7.3.1), else the name's length and the position
/// in [`KNOWN`] of the header it denotes, if known. A known full name is
/// recognised by one table probe and a word-wise comparison, which also
/// proves it a token; only other names are checked byte by byte.
pub(crate) fn line_name(line: &[u8], colon: usize) -> Option<(usize, Option<usize>)> {
    let mut len = colon;
    while len > 0 && matches!(line.get(len - 1), Some(b' ' | b'\t')) {
        len -= 1;
    }
    let name = line.get(..len)?;
    let (&first, &last) = (name.first()?, name.last()?);
    if len > 1 {
        let slot = FULL_TABLE.get(name_hash(len, first, last)).copied();
        if let Some(i) = slot.and_then(|n| usize::from(n).checked_sub(1)) {
            let same_len = FULL_NAMES.get(i).is_some_and(|f| f.len() == len);
            if same_len && starts_with_known(line, i) == Some(true) {
                return Some((len, Some(i)));
            }
        }
    }
    if !name.iter().all(|&c| is_token_char(c)) {
        return None;
    }
    Some((len, known_index_bytes(name)))
}

impl HeaderName<'_> {
    /// Whether the header's grammar is a comma-separated list, so that
    /// several values may share one line (RFC 3261 §7.3.1). Headers such as
    /// WWW-Authenticate or Date carry commas without being lists.
    pub fn is_list(&self) -> bool {
        matches!(
            self,
            HeaderName::Accept
                | HeaderName::AlertInfo
                | HeaderName::Allow
                | HeaderName::AllowEvents
                | HeaderName::CallInfo
                | HeaderName::Contact
                | HeaderName::ContentEncoding
                | HeaderName::ProxyRequire
                | HeaderName::RecordRoute
                | HeaderName::Require
                | HeaderName::Route
                | HeaderName::Supported
                | HeaderName::Unsupported
                | HeaderName::Via
                | HeaderName::Warning
        )
    }
}

/// One header line as written: the name, and the value with surrounding
/// white space removed (folded line breaks inside stay and read as space).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderField<'a> {
    /// The name as written (any case, full or compact form).
    pub name: &'a str,
    /// The raw value.
    pub value: &'a str,
}

impl<'a> HeaderField<'a> {
    /// The parsed name.
    pub fn header_name(&self) -> HeaderName<'a> {
        HeaderName::parse(self.name)
    }
}

/// Iterates the header lines of a header section that the parser has
/// already checked, joining folded continuation lines (RFC 3261 §7.3.1).
#[derive(Clone, Debug)]
pub struct Headers<'a> {
    rest: &'a str,
}

impl<'a> Headers<'a> {
    /// The headers of a checked header section (no start line, no blank line).
    pub(crate) fn new(section: &'a str) -> Self {
        Headers { rest: section }
    }
}

/// Splits the first logical header line off `s`: `(line, rest)`.
pub(crate) fn next_logical_line(s: &str) -> (&str, &str) {
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(i) = bytes
        .get(from..)
        .and_then(|b| find_byte(b, b'\n'))
        .map(|i| from + i)
    {
        match bytes.get(i + 1) {
            Some(b' ' | b'\t') => from = i + 1, // folded: the value goes on
            _ => {
                let line = s.get(..i).unwrap_or("");
                let line = line.strip_suffix('\r').unwrap_or(line);
                return (line, s.get(i + 1..).unwrap_or(""));
            }
        }
    }
    (s.strip_suffix('\r').unwrap_or(s), "")
}

/// Splits a logical header line into name and value, `None` when it has no
/// `token` name followed by optional white space and a colon.
pub(crate) fn split_header_line(line: &str) -> Option<HeaderField<'_>> {
    let bytes = line.as_bytes();
    let name_end = bytes.iter().position(|&b| !is_token_char(b))?;
    if name_end == 0 {
        return None;
    }
    // RFC 3261 §7.3.1: white space is allowed between the name and the colon.
    let mut colon = name_end;
    while matches!(bytes.get(colon), Some(b' ' | b'\t')) {
        colon += 1;
    }
    if bytes.get(colon) != Some(&b':') {
        return None;
    }
    let value = line.get(colon + 1..)?;
    Some(HeaderField {
        name: line.get(..name_end)?,
        value: trim_lws(value),
    })
}

impl<'a> Headers<'a> {
    /// The next line whose name denotes `name`. Lines that cannot match
    /// are skipped on their first byte, without splitting them.
    pub(crate) fn next_named(&mut self, name: &HeaderName<'_>) -> Option<HeaderField<'a>> {
        let first = |s: &str| s.as_bytes().first().map(u8::to_ascii_lowercase);
        let full = first(name.as_str());
        let compact = name.compact().and_then(first);
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let lead = first(self.rest);
            let (line, rest) = next_logical_line(self.rest);
            self.rest = rest;
            if lead != full && lead != compact {
                continue;
            }
            if let Some(field) = split_header_line(line) {
                if name.matches(field.name) {
                    return Some(field);
                }
            }
        }
    }
}

impl<'a> Iterator for Headers<'a> {
    type Item = HeaderField<'a>;
    fn next(&mut self) -> Option<HeaderField<'a>> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let (line, rest) = next_logical_line(self.rest);
            self.rest = rest;
            // Lines were validated at parse time; one that does not split is
            // skipped rather than trusted.
            if let Some(field) = split_header_line(line) {
                return Some(field);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_and_compact_forms_of_every_known_name() {
        for (i, name) in KNOWN.iter().enumerate() {
            assert_eq!(name.as_str(), FULL_NAMES[i]);
            assert_eq!(name.compact().unwrap_or(""), COMPACT_NAMES[i]);
            assert!(name.matches(FULL_NAMES[i]));
        }
        assert_eq!(HeaderName::Via.compact(), Some("v"));
        assert_eq!(HeaderName::CSeq.compact(), None);
        assert_eq!(HeaderName::Other("X-Foo").as_str(), "X-Foo");
        assert_eq!(HeaderName::Other("X-Foo").compact(), None);
        assert!(!HeaderName::Via.matches("x"));
        assert!(!HeaderName::Other("X-Foo").matches("X-Fo"));
    }

    #[test]
    fn compact_and_case_insensitive_names() {
        assert_eq!(HeaderName::parse("v"), HeaderName::Via);
        assert_eq!(HeaderName::parse("cAll-iD"), HeaderName::CallId);
        assert_eq!(HeaderName::parse("X-Foo"), HeaderName::Other("X-Foo"));
        assert!(HeaderName::Contact.matches("M"));
        assert!(HeaderName::Other("x-foo").matches("X-FOO"));
        assert_eq!(HeaderName::Via.compact(), Some("v"));
        assert_eq!(HeaderName::CSeq.compact(), None);
    }

    #[test]
    fn every_known_name_parses_back_in_any_case() {
        for (i, name) in KNOWN.iter().enumerate() {
            assert_eq!(name.index(), Some(i));
            let full = name.as_str();
            assert_eq!(HeaderName::parse(full), *name, "{full}");
            let mut upper = [0u8; 32];
            let upper = &mut upper[..full.len()];
            upper.copy_from_slice(full.as_bytes());
            upper.make_ascii_uppercase();
            let upper = core::str::from_utf8(upper).unwrap();
            assert_eq!(HeaderName::parse(upper), *name, "{upper}");
            if let Some(c) = name.compact() {
                assert_eq!(HeaderName::parse(c), *name, "{c}");
                let c_upper = c.to_ascii_uppercase();
                assert_eq!(HeaderName::parse(&c_upper), *name, "{c}");
            }
        }
        for other in [
            "",
            "V1a",
            "Vib",
            "q",
            "Z",
            "-",
            "Call-IF",
            "RSeX",
            "Content-Lengths",
            // Control bytes that `| 0x20` would fold onto `-`.
            "Max\rForwards",
            "Call\rID",
        ] {
            assert_eq!(HeaderName::parse(other), HeaderName::Other(other));
        }
    }

    #[test]
    fn the_word_wise_name_reading_agrees_with_the_general_one() {
        let mut line = [0u8; 64];
        let mut names: [&str; 2 * KNOWN.len()] = [""; 2 * KNOWN.len()];
        for (i, name) in KNOWN.iter().enumerate() {
            names[2 * i] = name.as_str();
            names[2 * i + 1] = name.compact().unwrap_or("Subject");
        }
        for name in names {
            for upper in [false, true] {
                let n = name.len();
                line[..n].copy_from_slice(name.as_bytes());
                if upper {
                    line[..n].make_ascii_uppercase();
                }
                line[n..n + 12].copy_from_slice(b": value\r\n\r\n ");
                let known = known_index(name);
                assert!(known.is_some(), "{name}");
                assert_eq!(known_name_at(&line, 0), Some((n, known.unwrap())), "{name}");
                assert_eq!(line_name(&line, n), Some((n, known)));
                // Shifted into the line, and with white space before the colon.
                let mut shifted = [b'x'; 70];
                shifted[3..67].copy_from_slice(&line);
                assert_eq!(known_name_at(&shifted, 3), Some((n + 3, known.unwrap())));
                line[n] = b' ';
                line[n + 1] = b':';
                assert_eq!(known_name_at(&line, 0), None, "{name}");
                assert_eq!(line_name(&line, n + 1), Some((n, known)));
                // Any byte of the name changed to one that folds onto it or
                // is no token character: not this known name.
                for at in 0..n {
                    for bad in [b'\r', b'-', b' ', b'@', 0xc1, b'\n'] {
                        let keep = line[at];
                        if bad == keep {
                            continue;
                        }
                        line[at] = bad;
                        line[n] = b':';
                        let got = known_name_at(&line, 0);
                        assert!(got.is_none() || got.unwrap().1 != known.unwrap(), "{name}");
                        line[at] = keep;
                    }
                }
            }
        }
        assert_eq!(known_name_at(b"X-Foo: bar\r\n\r\n", 0), None);
        assert_eq!(known_name_at(b": bar\r\n\r\n", 0), None);
        assert_eq!(known_name_at(b"Via:x\r\n", 0), None, "fewer than 8 bytes");
        let via = HeaderName::Via.index().unwrap();
        assert_eq!(known_name_at(b"v:\r\n\r\n\r\n", 0), Some((1, via)));
    }

    #[test]
    fn named_lookup_skips_other_lines_and_finds_compact_forms() {
        let section = "To: a\r\nv: SIP/2.0/UDP h\r\nVia: SIP/2.0/UDP g\r\nvx: no\r\n";
        let mut it = Headers::new(section);
        assert_eq!(
            it.next_named(&HeaderName::Via).unwrap().value,
            "SIP/2.0/UDP h"
        );
        assert_eq!(
            it.next_named(&HeaderName::Via).unwrap().value,
            "SIP/2.0/UDP g"
        );
        assert!(it.next_named(&HeaderName::Via).is_none());
        let mut other = Headers::new(section);
        assert_eq!(
            other.next_named(&HeaderName::Other("VX")).unwrap().value,
            "no"
        );
    }

    #[test]
    fn folded_lines_join_and_whitespace_before_colon_is_allowed() {
        let section = "Subject : one\r\n  two\r\nTo:\tsip:a@b\r\n";
        let mut it = Headers::new(section);
        let f = it.next().unwrap();
        assert_eq!(f.name, "Subject");
        assert_eq!(f.value, "one\r\n  two");
        let t = it.next().unwrap();
        assert_eq!((t.name, t.value), ("To", "sip:a@b"));
        assert!(it.next().is_none());
    }
}
