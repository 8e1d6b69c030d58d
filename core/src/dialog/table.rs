//! A fixed-capacity table of dialogs, with handles that never reach a
//! dialog that reused their slot, and the lookups a user agent needs on
//! receipt: in-dialog or not (481, RFC 3261 §12.2.2), and the dialog a
//! Replaces header names (RFC 3891 §3).

use super::id::DialogKey;
use super::state::{Dialog, DialogState, Role};
use crate::message::{Message, Replaces};
pub use crate::slots::TableFull;
use crate::slots::{Handle, Slots};

/// Marks handles of a [`DialogTable`].
#[derive(Clone, Copy, Debug)]
pub enum DialogSlot {}

/// A handle to a dialog in a [`DialogTable`]. It carries the slot's
/// generation: once the dialog is removed, the handle finds nothing, even
/// after another dialog takes the slot.
pub type DialogHandle = Handle<DialogSlot>;

/// Where a received message belongs (RFC 3261 §12.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestClass {
    /// It belongs to this dialog.
    InDialog(DialogHandle),
    /// It names a dialog (a request with a To tag) that does not exist:
    /// answer 481 (an ACK is dropped instead; a CANCEL is the transaction
    /// layer's). For a response: a dialog not yet known, e.g. a forked
    /// provisional response that creates a new early dialog.
    UnknownDialog,
    /// It names no dialog: a request without To tag (a new call,
    /// OPTIONS, ...) or a response without To tag (100 Trying).
    OutOfDialog,
    /// To, From or Call-ID do not parse: answer a request with 400.
    Malformed,
}

/// What RFC 3891 §3 says to do with an INVITE carrying Replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReplacesVerdict {
    /// A confirmed dialog: accept the new INVITE, then end this dialog with
    /// a BYE.
    ReplaceConfirmed(DialogHandle),
    /// An early dialog we initiated (our INVITE is ringing there): accept
    /// the new INVITE, then CANCEL ours.
    ReplaceOutgoingEarly(DialogHandle),
    /// An early dialog the peer initiated (we are ringing): the RFC answers
    /// 481; only when the caller's policy allows it, accept the new INVITE
    /// and end the ringing one with a final response.
    ReplaceIncomingEarly(DialogHandle),
    /// Refuse the new INVITE with this status; the named dialog, if any,
    /// is left alone. 481: no single dialog matches, or it was not created
    /// by an INVITE, or it is an early dialog the peer initiated. 486: the
    /// dialog is confirmed and Replaces says `early-only`.
    Refuse(u16),
}

/// Up to `N` dialogs (`N` at most 65,536).
#[derive(Clone, Debug)]
pub struct DialogTable<const N: usize> {
    slots: Slots<Dialog, DialogSlot, N>,
}

impl<const N: usize> Default for DialogTable<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> DialogTable<N> {
    /// An empty table.
    pub fn new() -> Self {
        DialogTable {
            slots: Slots::new(),
        }
    }

    /// How many dialogs the table can hold.
    pub fn capacity(&self) -> usize {
        self.slots.capacity()
    }

    /// How many dialogs are live; 0 means every slot is free.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether every slot is free.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Adds a dialog. Look it up first: the table does not refuse a second
    /// dialog with the same identity (a lookup then finds neither).
    pub fn insert(&mut self, dialog: Dialog) -> Result<DialogHandle, TableFull> {
        self.slots.insert(dialog)
    }

    /// The dialog behind `handle`, if it is still there.
    pub fn get(&self, handle: DialogHandle) -> Option<&Dialog> {
        self.slots.get(handle)
    }

    /// The dialog behind `handle`, mutably, if it is still there.
    pub fn get_mut(&mut self, handle: DialogHandle) -> Option<&mut Dialog> {
        self.slots.get_mut(handle)
    }

    /// Removes the dialog (it has terminated) and frees its slot; every
    /// handle to it goes stale.
    pub fn remove(&mut self, handle: DialogHandle) -> Option<Dialog> {
        self.slots.remove(handle)
    }

    /// Like [`remove`](Self::remove), dropping the dialog where it lies
    /// instead of moving it onto the caller's stack; false when `handle`
    /// is stale.
    pub fn discard(&mut self, handle: DialogHandle) -> bool {
        self.slots.discard(handle)
    }

    /// Every live dialog with its handle.
    pub fn iter(&self) -> impl Iterator<Item = (DialogHandle, &Dialog)> + '_ {
        self.slots.iter()
    }

    /// The dialog with identity `key`.
    pub fn find_key(&self, key: &DialogKey<'_>) -> Option<DialogHandle> {
        self.iter()
            .find(|(_, d)| d.matches_key(key))
            .map(|(h, _)| h)
    }

    /// The dialog a received request or response belongs to.
    pub fn find(&self, message: &Message<'_>) -> Option<DialogHandle> {
        self.find_key(&DialogKey::of_message(message)?)
    }

    /// Sorts a received message (RFC 3261 §12.2.2): in a known dialog, in
    /// an unknown one (481 for a request), or outside any.
    pub fn classify(&self, message: &Message<'_>) -> RequestClass {
        let (Some(Ok(to)), Some(Ok(from)), Some(_)) =
            (message.to(), message.from(), message.call_id())
        else {
            return RequestClass::Malformed;
        };
        if to.tag().is_none() {
            return RequestClass::OutOfDialog;
        }
        // A To tag but no From tag names no dialog we could hold: every
        // dialog has both tags.
        if from.tag().is_none() {
            return RequestClass::UnknownDialog;
        }
        match self.find(message) {
            Some(h) => RequestClass::InDialog(h),
            None => RequestClass::UnknownDialog,
        }
    }

    /// The one dialog a received Replaces header names (RFC 3891 §3:
    /// `to-tag` against our local tag, `from-tag` against the remote tag;
    /// see [`DialogKey::of_replaces`]). `None` when none matches, or when
    /// several do ("as if no match is found").
    pub fn find_replaces(&self, replaces: &Replaces<'_>) -> Option<DialogHandle> {
        let key = DialogKey::of_replaces(replaces);
        let mut matching = self.iter().filter(|(_, d)| d.matches_key(&key));
        let (handle, _) = matching.next()?;
        if matching.next().is_some() {
            return None;
        }
        Some(handle)
    }

    /// The RFC 3891 §3 decision for an INVITE with `replaces`.
    /// `allow_incoming_early` is the caller's policy for an early dialog in
    /// which we are the one ringing (refused by the RFC; some desk phones
    /// accept it to pick up or transfer a ringing call). Whether the sender
    /// may replace the dialog at all (authorization) is the caller's check.
    pub fn replaces_verdict(
        &self,
        replaces: &Replaces<'_>,
        allow_incoming_early: bool,
    ) -> ReplacesVerdict {
        let Some(handle) = self.find_replaces(replaces) else {
            return ReplacesVerdict::Refuse(481);
        };
        let Some(dialog) = self.get(handle) else {
            return ReplacesVerdict::Refuse(481);
        };
        if !dialog.created_by_invite() {
            return ReplacesVerdict::Refuse(481);
        }
        match (dialog.state(), dialog.role()) {
            (DialogState::Confirmed, _) if replaces.early_only => ReplacesVerdict::Refuse(486),
            (DialogState::Confirmed, _) => ReplacesVerdict::ReplaceConfirmed(handle),
            (DialogState::Early, Role::Uac) => ReplacesVerdict::ReplaceOutgoingEarly(handle),
            (DialogState::Early, Role::Uas) if allow_incoming_early => {
                ReplacesVerdict::ReplaceIncomingEarly(handle)
            }
            (DialogState::Early, Role::Uas) => ReplacesVerdict::Refuse(481),
        }
    }
}
