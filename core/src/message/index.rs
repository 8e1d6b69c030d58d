//! A small index of the header section, filled by the parse pass: which
//! known headers occur at all, and where the value of the first line of
//! each header that every message is read for lies. Accessors then slice
//! that value out at once (or answer `None` at once) instead of rescanning
//! the section.

use super::header::{HeaderName, KNOWN};

/// The headers whose first line is recorded: those read on (nearly) every
/// message by the transaction, dialog and call layers.
const HOT: [HeaderName<'static>; 12] = [
    HeaderName::Via,
    HeaderName::From,
    HeaderName::To,
    HeaderName::CallId,
    HeaderName::CSeq,
    HeaderName::Contact,
    HeaderName::ContentLength,
    HeaderName::ContentType,
    HeaderName::Route,
    HeaderName::RecordRoute,
    HeaderName::MaxForwards,
    HeaderName::Expires,
];

/// Hot slot + 1 by position in [`KNOWN`], 0 for headers without a slot.
// Built at compile time: an index out of range would fail the build.
#[allow(clippy::indexing_slicing)]
const SLOT_OF: [u8; KNOWN.len()] = {
    let mut t = [0u8; KNOWN.len()];
    let mut s = 0;
    while s < HOT.len() {
        if let Some(i) = HOT[s].index() {
            t[i] = (s + 1) as u8;
        }
        s += 1;
    }
    t
};

// The presence set is one bit per known header.
const _: () = assert!(KNOWN.len() <= 64);

/// A value end that did not fit: look the header up by scanning.
const FAR: u16 = u16::MAX;

/// Where to look for a header, per the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The header does not occur.
    Absent,
    /// The value of its first line is this range of the header section:
    /// from after the colon to the line's LF, white space around it not
    /// yet trimmed.
    At(usize, usize),
    /// Unknown: scan the whole section.
    Scan,
}

/// Known headers present, and where the first value of each hot one lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeaderIndex {
    present: u64,
    /// Value start and end per hot slot; `FAR` as the end for none.
    value: [(u16, u16); HOT.len()],
}

impl HeaderIndex {
    /// An index of a section with no header lines.
    pub(crate) const fn new() -> Self {
        HeaderIndex {
            present: 0,
            value: [(0, FAR); HOT.len()],
        }
    }

    /// The hot slot of the known header at position `known` in [`KNOWN`].
    fn slot(known: usize) -> Option<usize> {
        SLOT_OF
            .get(known)
            .and_then(|&s| usize::from(s).checked_sub(1))
    }

    /// Notes a line of the known header at position `known` in [`KNOWN`].
    /// Lines come in order: `None` when the header was seen before, else
    /// the hot slot for its first value, if it has one ([`set_value`]).
    ///
    /// [`set_value`]: HeaderIndex::set_value
    pub(crate) fn first_line(&mut self, known: usize) -> Option<Option<usize>> {
        let bit = 1u64 << (known & 63);
        if self.present & bit != 0 {
            return None;
        }
        self.present |= bit;
        Some(Self::slot(known))
    }

    /// Records that the first value of the hot header in `slot` spans
    /// `start..end` of the header section (white space around it
    /// included).
    pub(crate) fn set_value(&mut self, slot: usize, start: usize, end: usize) {
        if let Some(value) = self.value.get_mut(slot) {
            *value = match (u16::try_from(start), u16::try_from(end)) {
                (Ok(s), Ok(e)) if e != FAR => (s, e),
                _ => (0, FAR),
            };
        }
    }

    /// Records the first line of the known header at position `known`,
    /// whose trimmed value spans `start..end` of the header section.
    #[cfg(test)]
    fn record(&mut self, known: usize, start: usize, end: usize) {
        if let Some(Some(slot)) = self.first_line(known) {
            self.set_value(slot, start, end);
        }
    }

    /// Where the first value of `name` is.
    pub(crate) fn lookup(&self, name: &HeaderName<'_>) -> Lookup {
        // An unknown name may still be written like a known one (`Other("Via")`
        // matches "Via" lines): only a scan can tell.
        let Some(known) = name.index() else {
            return Lookup::Scan;
        };
        if self.present & (1u64 << (known & 63)) == 0 {
            return Lookup::Absent;
        }
        match Self::slot(known).and_then(|s| self.value.get(s)) {
            Some(&(start, end)) if end != FAR => Lookup::At(usize::from(start), usize::from(end)),
            _ => Lookup::Scan,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hot_headers_are_found_where_recorded_and_absent_ones_are_known_absent() {
        let mut ix = HeaderIndex::new();
        let via = HeaderName::Via.index().unwrap();
        let ev = HeaderName::Event.index().unwrap();
        ix.record(via, 10, 20);
        ix.record(via, 40, 50); // a later Via line does not move the first
        ix.record(ev, 70_000, 70_010); // not hot: present only
        assert_eq!(ix.lookup(&HeaderName::Via), Lookup::At(10, 20));
        assert_eq!(ix.lookup(&HeaderName::Event), Lookup::Scan);
        assert_eq!(ix.lookup(&HeaderName::To), Lookup::Absent);
        assert_eq!(ix.lookup(&HeaderName::Other("Via")), Lookup::Scan);
        let cl = HeaderName::ContentLength.index().unwrap();
        ix.record(cl, 65_530, 70_000); // too far for a u16: scan
        assert_eq!(ix.lookup(&HeaderName::ContentLength), Lookup::Scan);
    }
}
