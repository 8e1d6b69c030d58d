//! Compact records of non-INVITE server transactions in Completed.
//!
//! RFC 3261 §17.2.2: once its final response went out, a non-INVITE server
//! transaction only answers each retransmitted request with that response
//! again until Timer J (64·T1 over UDP) fires. That needs the response, the
//! peer and the deadline, not the timers and full-size buffer of a slot, so
//! a [`TransactionTable`](super::TransactionTable) with room for records
//! moves such a transaction here and frees its slot.
//!
//! A record keeps no key of its own: the response carries the request's top
//! Via and CSeq (§8.2.6.2), and the key read back from them is checked
//! against the transaction's key before the move, so a record matches
//! exactly the requests its transaction matched.

use core::net::SocketAddr;

use super::index::{branch_hash, BranchIndex, DeadlineHeap};
use super::{ServerEvent, TransactionId, TransactionKey};
use crate::message::Message;
use crate::slots::Slots;

/// The longest final response a record keeps; a transaction with a longer
/// one stays in its slot. The phone's 200 to a BYE from a peer on the
/// same host, with its Allow and Supported headers, takes about 400 bytes.
pub const MAX_COMPLETED_RESPONSE: usize = 512;

/// One non-INVITE server transaction waiting out Timer J.
#[derive(Clone, Debug)]
struct CompletedRequest {
    /// The handle it had in the table: matches and timers report it, so
    /// the phone sees the same transaction as before the move.
    id: TransactionId,
    /// Where the response goes again.
    peer: SocketAddr,
    /// The final response, byte for byte as first sent.
    response: heapless::Vec<u8, MAX_COMPLETED_RESPONSE>,
}

impl CompletedRequest {
    /// Whether `request` is a retransmission of this transaction's request
    /// (RFC 3261 §17.2.3), read from the stored response's key.
    fn matches(&self, request: &Message<'_>) -> bool {
        key_of_response(&self.response).is_some_and(|k| k.matches_request(request))
    }
}

/// The key of the server transaction that sent `response`, read from the
/// request's top Via and CSeq it echoes (RFC 3261 §8.2.6.2, §17.2.3).
fn key_of_response(response: &[u8]) -> Option<TransactionKey> {
    let r = Message::parse_datagram(response).ok()?;
    TransactionKey::server_of_response(&r).ok()
}

/// Marks handles of [`CompletedRequests`] records.
#[derive(Clone, Copy, Debug)]
pub(crate) enum CompletedSlot {}

/// Up to `N` Completed non-INVITE server transactions, indexed by branch
/// hash and by deadline like the full slots. With `N` = 0 every method
/// compiles to nothing.
#[derive(Clone, Debug)]
pub(crate) struct CompletedRequests<const N: usize> {
    // The records last: declared first, a release build of the load phone
    // built the indexes in one stack temporary with the records and copied
    // it whole, so the pool's 37 MiB of unused records became resident.
    branches: BranchIndex<N>,
    timers: DeadlineHeap<N>,
    records: Slots<CompletedRequest, CompletedSlot, N>,
}

impl<const N: usize> CompletedRequests<N> {
    /// What a request that matched a record asks for: RFC 3261 §17.2.2,
    /// the final response again.
    pub(crate) const EVENT: ServerEvent = ServerEvent::Resend;

    // Inlined so an empty table is built in its final place: called out
    // of line, the table around it is built on the stack and copied.
    #[inline(always)]
    pub(crate) fn new() -> Self {
        CompletedRequests {
            branches: BranchIndex::new(),
            timers: DeadlineHeap::new(),
            records: Slots::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// Keeps the transaction `id` with `key`, which sent `response` to
    /// `peer`, until `deadline` (µs). False when every record is taken, the
    /// response is longer than [`MAX_COMPLETED_RESPONSE`], or the key read
    /// back from it differs from `key`.
    pub(crate) fn insert(
        &mut self,
        id: TransactionId,
        key: &TransactionKey,
        peer: SocketAddr,
        response: &[u8],
        deadline: u64,
    ) -> bool {
        if N == 0 || self.records.is_full() || response.len() > MAX_COMPLETED_RESPONSE {
            return false;
        }
        if key_of_response(response).as_ref() != Some(key) {
            return false;
        }
        let Ok(record) = self.records.insert(CompletedRequest {
            id,
            peer,
            response: heapless::Vec::new(),
        }) else {
            return false;
        };
        // Copied in place: no response-sized value on the stack.
        let copied = self
            .records
            .get_mut(record)
            .is_some_and(|r| r.response.extend_from_slice(response).is_ok());
        if !copied {
            self.records.discard(record);
            return false;
        }
        self.branches
            .insert(record.index(), branch_hash(key.branch()));
        self.timers.set(record.index(), Some(deadline));
        true
    }

    /// The lowest record `request` is a retransmission for, among those
    /// whose branch hashes like `branch`.
    fn find(&self, branch: &str, request: &Message<'_>) -> Option<&CompletedRequest> {
        if N == 0 {
            return None;
        }
        self.branches
            .candidates(branch_hash(branch))
            .filter_map(|slot| self.records.handle_at(slot))
            .filter_map(|h| self.records.get(h).map(|r| (h.index(), r)))
            .filter(|(_, r)| r.matches(request))
            .min_by_key(|(index, _)| *index)
            .map(|(_, r)| r)
    }

    /// The record a received request belongs to (RFC 3261 §17.2.3).
    pub(crate) fn find_request(
        &self,
        branch: &str,
        request: &Message<'_>,
    ) -> Option<TransactionId> {
        self.find(branch, request).map(|r| r.id)
    }

    /// Where and what to send again for a retransmitted `request`
    /// (RFC 3261 §17.2.2).
    pub(crate) fn response_to(
        &self,
        branch: &str,
        request: &Message<'_>,
    ) -> Option<(SocketAddr, &[u8])> {
        self.find(branch, request)
            .map(|r| (r.peer, r.response.as_slice()))
    }

    /// The earliest deadline (µs) and the record's slot.
    pub(crate) fn peek(&self) -> Option<(u64, usize)> {
        if N == 0 {
            return None;
        }
        self.timers.peek()
    }

    /// Drops the record in `slot` (its Timer J fired) and returns the
    /// transaction's handle.
    pub(crate) fn expire(&mut self, slot: usize) -> Option<TransactionId> {
        self.timers.remove(slot);
        self.branches.remove(slot);
        let h = self.records.handle_at(slot)?;
        let id = self.records.get(h)?.id;
        // Dropped where it lies: no response-sized copy.
        self.records.discard(h);
        Some(id)
    }

    /// Every record in slot order: slot, handle, peer, response, deadline
    /// (µs).
    #[cfg(test)]
    pub(crate) fn iter(
        &self,
    ) -> impl Iterator<Item = (usize, TransactionId, SocketAddr, &[u8], u64)> + '_ {
        self.records.iter().filter_map(|(h, r)| {
            let at = self.timers.deadline_of(h.index())?;
            Some((h.index(), r.id, r.peer, r.response.as_slice(), at))
        })
    }

    /// Whether the record for `response` matches `request`, as
    /// [`find_request`](Self::find_request) judges it.
    #[cfg(test)]
    pub(crate) fn response_matches(response: &[u8], request: &Message<'_>) -> bool {
        key_of_response(response).is_some_and(|k| k.matches_request(request))
    }
}
