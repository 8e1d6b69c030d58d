//! A small index of the header section, filled by the parse pass: which
//! known headers occur at all, and where the headers every message is read
//! for first occur. Accessors then go straight to the line (or answer
//! `None` at once) instead of rescanning the whole section.

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

/// A first-line offset that did not fit: look the header up by scanning.
const FAR: u16 = u16::MAX;

/// Where to look for a header, per the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The header does not occur.
    Absent,
    /// Its first line starts at this offset of the header section.
    At(usize),
    /// Unknown: scan the whole section.
    Scan,
}

/// Known headers present, and the first-line offsets of the hot ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeaderIndex {
    present: u64,
    first: [u16; HOT.len()],
}

impl HeaderIndex {
    /// An index of a section with no header lines.
    pub(crate) const fn new() -> Self {
        HeaderIndex {
            present: 0,
            first: [FAR; HOT.len()],
        }
    }

    /// Records a line of the known header at position `known` in [`KNOWN`],
    /// starting at `offset` in the header section. Lines are recorded in
    /// order, so the first one recorded per header is its first line.
    pub(crate) fn record(&mut self, known: usize, offset: usize) {
        let bit = 1u64 << (known & 63);
        if self.present & bit != 0 {
            return;
        }
        self.present |= bit;
        let slot = SLOT_OF.get(known).map_or(0, |&s| usize::from(s));
        if let Some(first) = slot.checked_sub(1).and_then(|s| self.first.get_mut(s)) {
            *first = u16::try_from(offset)
                .ok()
                .filter(|&o| o != FAR)
                .unwrap_or(FAR);
        }
    }

    /// Where the first line of `name` is.
    pub(crate) fn lookup(&self, name: &HeaderName<'_>) -> Lookup {
        // An unknown name may still be written like a known one (`Other("Via")`
        // matches "Via" lines): only a scan can tell.
        let Some(known) = name.index() else {
            return Lookup::Scan;
        };
        if self.present & (1u64 << (known & 63)) == 0 {
            return Lookup::Absent;
        }
        let slot = SLOT_OF.get(known).map_or(0, |&s| usize::from(s));
        match slot.checked_sub(1).and_then(|s| self.first.get(s)) {
            Some(&off) if off != FAR => Lookup::At(usize::from(off)),
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
        ix.record(via, 10);
        ix.record(via, 40); // a later Via line does not move the first
        ix.record(ev, 70_000); // not hot: present only
        assert_eq!(ix.lookup(&HeaderName::Via), Lookup::At(10));
        assert_eq!(ix.lookup(&HeaderName::Event), Lookup::Scan);
        assert_eq!(ix.lookup(&HeaderName::To), Lookup::Absent);
        assert_eq!(ix.lookup(&HeaderName::Other("Via")), Lookup::Scan);
        let cl = HeaderName::ContentLength.index().unwrap();
        ix.record(cl, 70_000); // too far for a u16: scan
        assert_eq!(ix.lookup(&HeaderName::ContentLength), Lookup::Scan);
    }
}
