//! Dialog identifiers (RFC 3261 §12): Call-ID, local tag and remote tag,
//! and how to read them from a message on either side of the dialog.

use heapless::String;

use super::{MAX_CALL_ID, MAX_TAG};
use crate::message::{Message, Replaces};

/// A dialog's identity, owned: what a usage keeps to find its dialog again.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DialogId {
    /// The Call-ID.
    pub call_id: String<MAX_CALL_ID>,
    /// Our tag.
    pub local_tag: String<MAX_TAG>,
    /// The peer's tag.
    pub remote_tag: String<MAX_TAG>,
}

impl DialogId {
    /// The identity as borrowed text, for matching.
    pub fn key(&self) -> DialogKey<'_> {
        DialogKey {
            call_id: &self.call_id,
            local_tag: &self.local_tag,
            remote_tag: &self.remote_tag,
        }
    }
}

/// A dialog identity borrowed from a message (or a [`DialogId`]), already
/// turned to our point of view: `local_tag` is always our tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DialogKey<'a> {
    /// The Call-ID.
    pub call_id: &'a str,
    /// Our tag.
    pub local_tag: &'a str,
    /// The peer's tag.
    pub remote_tag: &'a str,
}

impl<'a> DialogKey<'a> {
    /// The key of a request we received: its To tag is ours, its From tag
    /// the peer's (RFC 3261 §12.2.2). `None` when a part is missing or
    /// does not parse.
    pub fn of_request(request: &Message<'a>) -> Option<DialogKey<'a>> {
        let call_id = request.call_id()?;
        let local_tag = request.to()?.ok()?.tag()?;
        let remote_tag = request.from()?.ok()?.tag()?;
        Some(DialogKey {
            call_id,
            local_tag,
            remote_tag,
        })
    }

    /// The key of a response we received to a request we sent: its From
    /// tag is ours, its To tag the peer's (RFC 3261 §12.1.2). `None` when a
    /// part is missing or does not parse (e.g. a 100 Trying without To tag).
    pub fn of_response(response: &Message<'a>) -> Option<DialogKey<'a>> {
        let call_id = response.call_id()?;
        let local_tag = response.from()?.ok()?.tag()?;
        let remote_tag = response.to()?.ok()?.tag()?;
        Some(DialogKey {
            call_id,
            local_tag,
            remote_tag,
        })
    }

    /// The key of a message we received, request or response.
    pub fn of_message(message: &Message<'a>) -> Option<DialogKey<'a>> {
        if message.is_request() {
            Self::of_request(message)
        } else {
            Self::of_response(message)
        }
    }

    /// The key named by a Replaces header we received (RFC 3891 §3): the
    /// receiver matches the tags "as if they were tags present in an
    /// incoming request", so `to-tag` is compared with OUR local tag and
    /// `from-tag` with the peer's, whichever side sent the dialog's
    /// original INVITE. (A sender of Replaces therefore puts the target's
    /// tag in `to-tag`: see [`Dialog::refer_to_replaces`](super::Dialog::refer_to_replaces).)
    pub fn of_replaces(replaces: &Replaces<'a>) -> DialogKey<'a> {
        DialogKey {
            call_id: replaces.call_id,
            local_tag: replaces.to_tag,
            remote_tag: replaces.from_tag,
        }
    }
}
