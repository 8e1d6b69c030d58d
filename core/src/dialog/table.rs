//! A fixed-capacity table of dialogs, with handles that never reach a
//! dialog that reused their slot, and the lookups a user agent needs on
//! receipt: in-dialog or not (481, RFC 3261 §12.2.2), and the dialog a
//! Replaces header names (RFC 3891 §3).

use super::id::DialogKey;
use super::state::{Dialog, DialogState, Role};
use crate::message::{Message, Replaces};

/// A handle to a dialog in a [`DialogTable`]. It carries the slot's
/// generation: once the dialog is removed, the handle finds nothing, even
/// after another dialog takes the slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DialogHandle {
    index: u16,
    generation: u32,
}

impl DialogHandle {
    /// The slot.
    pub fn index(self) -> usize {
        usize::from(self.index)
    }

    /// How many dialogs the slot held before this one.
    pub fn generation(self) -> u32 {
        self.generation
    }
}

/// Every slot of a [`DialogTable`] is taken: the caller refuses the new
/// dialog (e.g. 486 or 503 to an INVITE) and keeps the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableFull;

impl core::fmt::Display for TableFull {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("dialog table full")
    }
}

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

#[derive(Clone, Debug)]
struct Slot {
    generation: u32,
    dialog: Option<Dialog>,
}

/// Up to `N` dialogs (`N` at most 65,536).
#[derive(Clone, Debug)]
pub struct DialogTable<const N: usize> {
    slots: [Slot; N],
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
            slots: core::array::from_fn(|_| Slot {
                generation: 0,
                dialog: None,
            }),
        }
    }

    /// How many dialogs the table can hold.
    pub fn capacity(&self) -> usize {
        N.min(usize::from(u16::MAX) + 1)
    }

    /// How many dialogs are live; 0 means every slot is free.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.dialog.is_some()).count()
    }

    /// Whether every slot is free.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a dialog. Look it up first: the table does not refuse a second
    /// dialog with the same identity (a lookup then finds neither).
    pub fn insert(&mut self, dialog: Dialog) -> Result<DialogHandle, TableFull> {
        let (index, slot) = self
            .slots
            .iter_mut()
            .enumerate()
            .find(|(_, s)| s.dialog.is_none())
            .ok_or(TableFull)?;
        let index = u16::try_from(index).map_err(|_| TableFull)?;
        slot.dialog = Some(dialog);
        Ok(DialogHandle {
            index,
            generation: slot.generation,
        })
    }

    fn slot(&self, handle: DialogHandle) -> Option<&Slot> {
        self.slots
            .get(handle.index())
            .filter(|s| s.generation == handle.generation)
    }

    /// The dialog behind `handle`, if it is still there.
    pub fn get(&self, handle: DialogHandle) -> Option<&Dialog> {
        self.slot(handle)?.dialog.as_ref()
    }

    /// The dialog behind `handle`, mutably, if it is still there.
    pub fn get_mut(&mut self, handle: DialogHandle) -> Option<&mut Dialog> {
        self.slots
            .get_mut(handle.index())
            .filter(|s| s.generation == handle.generation)?
            .dialog
            .as_mut()
    }

    /// Removes the dialog (it has terminated) and frees its slot; every
    /// handle to it goes stale.
    pub fn remove(&mut self, handle: DialogHandle) -> Option<Dialog> {
        let slot = self
            .slots
            .get_mut(handle.index())
            .filter(|s| s.generation == handle.generation)?;
        let dialog = slot.dialog.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        Some(dialog)
    }

    /// Every live dialog with its handle.
    pub fn iter(&self) -> impl Iterator<Item = (DialogHandle, &Dialog)> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, s)| {
            let index = u16::try_from(i).ok()?;
            let dialog = s.dialog.as_ref()?;
            Some((
                DialogHandle {
                    index,
                    generation: s.generation,
                },
                dialog,
            ))
        })
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
