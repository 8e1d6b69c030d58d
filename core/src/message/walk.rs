//! The one walk over a message head that parsing makes: it finds the start
//! line's end, every header line's end and the blank line, checks each
//! header line's name (RFC 3261 §7.3.1), indexes the known headers and
//! reads Content-Length.
//!
//! The header section is read eight bytes per step, each byte once: every
//! LF in a word is looked at in turn, and the line it ends is closed and
//! the next one opened there. Folded continuation lines (an LF followed by
//! SP or HT) belong to the line they continue.

use super::error::{ParseError, ParseErrorKind};
use super::header::{known_name_at, line_name, HeaderName};
use super::index::HeaderIndex;
use super::scan::{find_byte, find_lf_from, parse_u32_bytes, trim_lws_bytes};

/// What one walk over the head found. Offsets are relative to the walked
/// bytes.
pub(super) struct HeadWalk {
    /// The length of the start line and the header lines, the blank line
    /// excluded.
    pub(super) head_len: usize,
    /// Where the body starts, after the blank line.
    pub(super) body_start: usize,
    /// Where the header section starts, after the start line's LF.
    pub(super) section_start: usize,
    /// The known headers present, and where the hot ones first occur
    /// (offsets in the header section).
    pub(super) index: HeaderIndex,
    /// The Content-Length, or the first malformed header line.
    pub(super) content_length: Result<Option<usize>, ParseError>,
}

/// The position of Content-Length in [`KNOWN`](super::header::KNOWN).
const CONTENT_LENGTH: Option<usize> = HeaderName::ContentLength.index();

/// Walks the head of a message once: finds the start line's end and the
/// empty line that ends the header section, checks each header line in
/// between, indexes the known ones and reads Content-Length. `None` when
/// there is no empty line. Lines end in CRLF; a bare LF is tolerated.
pub(super) fn walk_head(b: &[u8]) -> Option<HeadWalk> {
    let section_start = find_lf_from(b, 0)? + 1;
    let section = b.get(section_start..)?;
    let mut walk = Walk {
        index: HeaderIndex::new(),
        content_length: Ok(None),
        section_start,
    };
    // The start of the current line in `section`.
    let mut at = 0;
    loop {
        if let Some(blank) = blank_line(section, at) {
            return Some(walk.finish(at, blank));
        }
        at = walk.line(section, at)? + 1;
    }
}

/// The offset of the LF that ends the logical line that `from` lies in:
/// the first LF from there not followed by SP or HT, as folded
/// continuation lines belong to the line (RFC 3261 §7.3.1). Kept out of
/// line so that its loop has the registers to itself.
#[inline(never)]
fn logical_line_end(b: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let lf = find_lf_from(b, from)?;
        if !matches!(b.get(lf + 1), Some(b' ' | b'\t')) {
            return Some(lf);
        }
        from = lf + 1;
    }
}

/// The length of the blank line at `at` of `section` (CRLF or a bare LF),
/// if one is there.
#[inline(always)]
fn blank_line(section: &[u8], at: usize) -> Option<usize> {
    match section.get(at)? {
        b'\n' => Some(1),
        b'\r' if section.get(at + 1) == Some(&b'\n') => Some(2),
        _ => None,
    }
}

/// The state of the walk between lines.
struct Walk {
    index: HeaderIndex,
    /// The Content-Length, or the first malformed header line.
    content_length: Result<Option<usize>, ParseError>,
    /// Where the header section starts in the walked bytes.
    section_start: usize,
}

impl Walk {
    /// What the walk found, the blank line at `at` of the section being
    /// `blank` bytes long.
    fn finish(self, at: usize, blank: usize) -> HeadWalk {
        HeadWalk {
            head_len: self.section_start + at,
            body_start: self.section_start + at + blank,
            section_start: self.section_start,
            index: self.index,
            content_length: self.content_length,
        }
    }

    /// Checks the header line at offset `at` of `section` (RFC 3261
    /// §7.3.1: a `token` name, optional white space, a colon), and indexes
    /// it when its header is known. Returns the offset of the LF that ends
    /// it; `None` when no LF does. After the first bad line only the end
    /// of the head is sought: the error is reported once framing and the
    /// start line pass.
    #[inline(always)]
    fn line(&mut self, section: &[u8], at: usize) -> Option<usize> {
        if self.content_length.is_err() {
            return logical_line_end(section, at);
        }
        // The common line: a known name and its colon, read a word at a time.
        let Some((colon, known)) = known_name_at(section, at) else {
            return self.other_line(section, at);
        };
        // No LF comes before the colon of a well-formed line.
        let lf = logical_line_end(section, colon + 1)?;
        self.index_line(known, section, at, colon + 1, lf);
        Some(lf)
    }

    /// [`Walk::line`] for a line that does not start with a known name
    /// and a colon.
    #[inline(never)]
    fn other_line(&mut self, section: &[u8], at: usize) -> Option<usize> {
        let rest = section.get(at..)?;
        let name = find_byte(rest, b':').and_then(|colon| Some((colon, line_name(rest, colon)?.1)));
        let Some((colon, known)) = name else {
            self.content_length = Err(ParseError::new(
                ParseErrorKind::BadHeader,
                self.section_start + at,
            ));
            return logical_line_end(section, at);
        };
        let lf = logical_line_end(section, at + colon + 1)?;
        if let Some(known) = known {
            self.index_line(known, section, at, at + colon + 1, lf);
        }
        Some(lf)
    }

    /// Indexes the line at `at` of known header `known` (its position in
    /// [`KNOWN`](super::header::KNOWN)), whose value lies in
    /// `section[from..to]` with surrounding white space, and reads it when
    /// it is a Content-Length.
    #[inline(always)]
    fn index_line(&mut self, known: usize, section: &[u8], at: usize, from: usize, to: usize) {
        if let Some(Some(slot)) = self.index.first_line(known) {
            self.index.set_value(slot, from, to);
        }
        // Every Content-Length line is read: see below.
        if Some(known) == CONTENT_LENGTH {
            let value = trim_lws_bytes(section.get(from..to).unwrap_or(&[]));
            self.read_content_length(value, at);
        }
    }

    /// Reads the Content-Length `value` of the line at `at`.
    fn read_content_length(&mut self, value: &[u8], at: usize) {
        let error = |kind| Err(ParseError::new(kind, self.section_start + at));
        self.content_length = match (parse_u32_bytes(value), self.content_length) {
            (None, _) => error(ParseErrorKind::BadContentLength),
            // Several differing Content-Length values leave the framing
            // ambiguous: refuse rather than guess.
            (Some(new), Ok(Some(old))) if old != new as usize => {
                error(ParseErrorKind::BadContentLength)
            }
            (Some(new), _) => Ok(Some(new as usize)),
        };
    }
}
