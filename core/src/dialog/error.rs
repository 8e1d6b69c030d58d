//! Why a message could not create or update a dialog.

use core::fmt;

/// The part of a message an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// The Call-ID header.
    CallId,
    /// The From header (or the local tag, on the side that owns From).
    From,
    /// The To header (or the local tag a UAS chose for it).
    To,
    /// The CSeq header.
    CSeq,
    /// The Contact header.
    Contact,
    /// A Record-Route header.
    RecordRoute,
    /// The Request-URI.
    RequestUri,
}

impl Field {
    /// The header's name as SIP writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::CallId => "Call-ID",
            Field::From => "From",
            Field::To => "To",
            Field::CSeq => "CSeq",
            Field::Contact => "Contact",
            Field::RecordRoute => "Record-Route",
            Field::RequestUri => "Request-URI",
        }
    }
}

/// A dialog could not be created or updated. The dialog (if any) is left
/// exactly as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DialogError {
    /// A mandatory header is absent.
    MissingHeader(Field),
    /// A header does not parse, or holds something a dialog cannot use
    /// (e.g. a non-SIP URI as remote target).
    BadHeader(Field),
    /// From or To carries no tag where the dialog needs one.
    MissingTag(Field),
    /// No Contact: a dialog needs a remote target (RFC 3261 §12.1.1,
    /// §12.1.2).
    MissingContact,
    /// A value is longer than the dialog can store (see the `MAX_*`
    /// constants of this module).
    TooLong(Field),
    /// The dialog's values together (Call-ID, tags, URIs, route set and
    /// remote target) exceed [`MAX_DIALOG_TEXT`](super::MAX_DIALOG_TEXT)
    /// bytes. Each value may be within its own limit: it is their sum
    /// that does not fit.
    NoRoom,
    /// More Record-Route entries than [`MAX_ROUTES`](super::MAX_ROUTES).
    TooManyRoutes,
    /// The method or status does not create a dialog (RFC 3261 §12.1), or
    /// the request already belongs to one (its To has a tag).
    NotDialogCreating,
    /// The message does not belong to this dialog or request (Call-ID,
    /// tags or CSeq differ).
    Mismatch,
    /// The local CSeq would reach 2^31 (RFC 3261 §8.1.1.5).
    CSeqExhausted,
    /// ACK and CANCEL take the number of the INVITE they belong to, never
    /// a new one (RFC 3261 §13.2.2.4, §9.1).
    NotSequenced,
}

impl fmt::Display for DialogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DialogError::MissingHeader(h) => write!(f, "missing {} header", h.as_str()),
            DialogError::BadHeader(h) => write!(f, "unusable {} header", h.as_str()),
            DialogError::MissingTag(h) => write!(f, "{} header has no tag", h.as_str()),
            DialogError::MissingContact => f.write_str("no Contact for the remote target"),
            DialogError::TooLong(h) => write!(f, "{} too long to store", h.as_str()),
            DialogError::NoRoom => f.write_str("dialog text over its budget"),
            DialogError::TooManyRoutes => f.write_str("route set too long"),
            DialogError::NotDialogCreating => f.write_str("message does not create a dialog"),
            DialogError::Mismatch => f.write_str("message belongs to another dialog"),
            DialogError::CSeqExhausted => f.write_str("local CSeq exhausted"),
            DialogError::NotSequenced => f.write_str("ACK and CANCEL reuse the INVITE's CSeq"),
        }
    }
}
