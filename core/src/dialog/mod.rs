//! Dialogs (RFC 3261 §12): the state two user agents share between the
//! response that creates a dialog and the BYE (or final failure) that ends
//! it — Call-ID, tags, CSeq numbers, the remote target and the route set.
//!
//! The layer sits on the message codec only. It knows nothing of
//! transactions or calls: a usage (call, transfer, subscription) creates a
//! [`Dialog`] from the messages it sent and received, keeps it in a
//! [`DialogTable`], asks it to write the dialog part of every in-dialog
//! request, and frees the slot when the dialog ends (there is no
//! "terminated" state: a terminated dialog is a free slot).
//!
//! ```
//! use handset_core::dialog::{Dialog, DialogState, DialogTable, RequestClass};
//! use handset_core::message::{Message, MessageWriter, Method};
//!
//! let invite = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
//!     Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n\
//!     From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
//!     To: Bob <sip:bob@biloxi.example.com>\r\n\
//!     Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
//!     CSeq: 314159 INVITE\r\n\
//!     Contact: <sip:alice@pc33.atlanta.example.com>\r\n\
//!     Content-Length: 0\r\n\r\n";
//! let ok = b"SIP/2.0 200 OK\r\n\
//!     Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n\
//!     Record-Route: <sip:p1.example.com;lr>\r\n\
//!     From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
//!     To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n\
//!     Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
//!     CSeq: 314159 INVITE\r\n\
//!     Contact: <sip:bob@192.0.2.4>\r\n\
//!     Content-Length: 0\r\n\r\n";
//! let invite = Message::parse_datagram(invite).unwrap();
//! let ok = Message::parse_datagram(ok).unwrap();
//! let dialog = Dialog::new_uac(&invite, &ok, false).unwrap();
//! assert_eq!(dialog.state(), DialogState::Confirmed);
//!
//! let mut table: DialogTable<4> = DialogTable::new();
//! let handle = table.insert(dialog).unwrap();
//! assert_eq!(table.classify(&ok), RequestClass::InDialog(handle));
//!
//! // The BYE: the dialog writes the request line, Route, From, To,
//! // Call-ID and CSeq; the caller adds Via, Max-Forwards and the rest.
//! let mut buf = [0u8; 512];
//! let mut w = MessageWriter::new(&mut buf);
//! let seq = table.get_mut(handle).unwrap().start_request(&mut w, Method::Bye).unwrap();
//! w.header("Via", "SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8");
//! w.header("Max-Forwards", "70");
//! let n = w.finish(None, b"").unwrap();
//! let bye = Message::parse_datagram(&buf[..n]).unwrap();
//! assert_eq!(bye.request_line().unwrap().uri, "sip:bob@192.0.2.4");
//! assert_eq!(bye.cseq().unwrap().unwrap().seq, seq);
//! assert_eq!(seq, 314160);
//! ```

mod error;
mod id;
mod request;
mod state;
mod table;

pub use error::{DialogError, Field};
pub use id::{DialogId, DialogKey};
pub use state::{is_target_refresh, CSeqCheck, Dialog, DialogState, Role};
pub use table::{DialogHandle, DialogTable, ReplacesVerdict, RequestClass, TableFull};

/// Longest Call-ID a dialog stores, in bytes.
pub const MAX_CALL_ID: usize = 128;
/// Longest tag (local or remote) a dialog stores, in bytes.
pub const MAX_TAG: usize = 64;
/// Longest URI (local, remote, remote target, each route) a dialog stores,
/// in bytes.
pub const MAX_URI: usize = 256;
/// Longest display name a dialog keeps. Display names are cosmetic: one
/// that does not fit is left out rather than refusing the dialog.
pub const MAX_DISPLAY_NAME: usize = 64;
/// Most entries a route set holds; a dialog-creating message that
/// record-routes through more proxies is refused with
/// [`DialogError::TooManyRoutes`].
pub const MAX_ROUTES: usize = 6;

/// Most bytes of text one dialog keeps: its Call-ID, both tags, both URIs,
/// display names, route set and remote target together. Each value stays
/// within its own limit above, but they share this budget, so a dialog
/// costs what its peers send rather than every limit at once. Real peers
/// use a few hundred bytes: a Call-ID and tags of 30-60 bytes each, URIs
/// of 30-80 and Record-Route entries of 30-100 (a proxy adding `ftag`,
/// `did` or `r2` parameters), so four proxies leave more than half of it
/// free. A dialog that does not fit is refused with
/// [`DialogError::NoRoom`]; display names are dropped first.
pub const MAX_DIALOG_TEXT: usize = 1024;

/// Upper bound on the size of one [`Dialog`] (and so of one
/// [`DialogTable`] slot): its text, the spans that find each value in it,
/// the CSeq numbers and a few flags.
pub const DIALOG_SIZE_BUDGET: usize = MAX_DIALOG_TEXT + 128;

#[cfg(test)]
mod tests;
