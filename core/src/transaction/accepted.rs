//! Compact records of INVITE server transactions in Accepted.
//!
//! RFC 6026 §8.7: once a 2xx went out, the INVITE server transaction only
//! absorbs retransmitted INVITEs and passes ACKs up until Timer L (64·T1)
//! fires; the TU retransmits the 2xx itself. None of that needs the
//! response buffer, timers or peer of a full slot, only the key and the
//! deadline, so a [`TransactionTable`](super::TransactionTable) moves such
//! a transaction here and frees its slot.

use super::index::{branch_hash, BranchIndex, DeadlineHeap};
use super::{ServerEvent, TransactionId, TransactionKey};
use crate::message::{Message, Method};
use crate::slots::Slots;

/// One INVITE server transaction waiting out Timer L.
#[derive(Clone, Debug)]
pub(crate) struct AcceptedInvite {
    /// The handle it had in the table: matches and timers report it, so
    /// the phone sees the same transaction as before the move.
    id: TransactionId,
    key: TransactionKey,
}

/// Marks handles of [`AcceptedInvites`] records.
#[derive(Clone, Copy, Debug)]
pub(crate) enum AcceptedSlot {}

/// Up to `N` Accepted INVITE server transactions, indexed by branch hash
/// and by deadline like the full slots.
#[derive(Clone, Debug)]
pub(crate) struct AcceptedInvites<const N: usize> {
    records: Slots<AcceptedInvite, AcceptedSlot, N>,
    branches: BranchIndex<N>,
    timers: DeadlineHeap<N>,
}

impl<const N: usize> AcceptedInvites<N> {
    // Inlined so an empty table is built in its final place: called out
    // of line, the table around it is built on the stack and copied.
    #[inline(always)]
    pub(crate) fn new() -> Self {
        AcceptedInvites {
            records: Slots::new(),
            branches: BranchIndex::new(),
            timers: DeadlineHeap::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// Keeps the transaction `id` with `key` until `deadline` (µs); false
    /// when every record is taken.
    pub(crate) fn insert(
        &mut self,
        id: TransactionId,
        key: &TransactionKey,
        deadline: u64,
    ) -> bool {
        let hash = branch_hash(key.branch());
        let Ok(record) = self.records.insert(AcceptedInvite {
            id,
            key: key.clone(),
        }) else {
            return false;
        };
        self.branches.insert(record.index(), hash);
        self.timers.set(record.index(), Some(deadline));
        true
    }

    /// The lowest record whose key passes `pred`, among those whose branch
    /// hashes like `branch`.
    fn find(&self, branch: &str, pred: impl Fn(&TransactionKey) -> bool) -> Option<TransactionId> {
        self.branches
            .candidates(branch_hash(branch))
            .filter_map(|slot| self.records.handle_at(slot))
            .filter_map(|h| self.records.get(h).map(|r| (h.index(), r)))
            .filter(|(_, r)| pred(&r.key))
            .min_by_key(|(index, _)| *index)
            .map(|(_, r)| r.id)
    }

    /// The record a received request belongs to (RFC 3261 §17.2.3).
    pub(crate) fn find_request(
        &self,
        branch: &str,
        request: &Message<'_>,
    ) -> Option<TransactionId> {
        self.find(branch, |k| k.matches_request(request))
    }

    /// The record whose key is `key`.
    pub(crate) fn find_key(&self, key: &TransactionKey) -> Option<TransactionId> {
        self.find(key.branch(), |k| k == key)
    }

    /// What a request that matched a record does: RFC 6026 §8.7, the ACK
    /// for the 2xx goes to the TU, a retransmitted INVITE is absorbed.
    pub(crate) fn event_for(request: &Message<'_>) -> ServerEvent {
        match request.method() {
            Some(Method::Ack) => ServerEvent::Deliver,
            _ => ServerEvent::Absorb,
        }
    }

    /// The earliest deadline (µs) and the record's slot.
    pub(crate) fn peek(&self) -> Option<(u64, usize)> {
        self.timers.peek()
    }

    /// Drops the record in `slot` (its Timer L fired) and returns the
    /// transaction's handle.
    pub(crate) fn expire(&mut self, slot: usize) -> Option<TransactionId> {
        self.timers.remove(slot);
        self.branches.remove(slot);
        let h = self.records.handle_at(slot)?;
        self.records.remove(h).map(|r| r.id)
    }

    /// Every record in slot order: slot, handle, key, deadline (µs).
    #[cfg(test)]
    pub(crate) fn iter(
        &self,
    ) -> impl Iterator<Item = (usize, TransactionId, &TransactionKey, u64)> + '_ {
        self.records.iter().filter_map(|(h, r)| {
            let at = self.timers.deadline_of(h.index())?;
            Some((h.index(), r.id, &r.key, at))
        })
    }
}
