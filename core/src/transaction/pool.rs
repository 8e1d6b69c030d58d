//! A fixed pool of message buffers, lent to whatever still has to send a
//! message again and given back as soon as it no longer has to.
//!
//! A transaction keeps its last message only while RFC 3261 §17 may ask
//! for it again: a client its request until the final response (an INVITE
//! client then the ACK for a 300-699), a server its last response while
//! retransmitted requests may come. The rest of its life it keeps its key
//! and timers only. A desk phone has a dozen transactions but only a few
//! hold bytes at any moment, so the bytes live here, in `B` buffers the
//! owner sizes, rather than in every transaction.
//!
//! The pool is caller-owned storage in the smoltcp style: no allocation,
//! no `unsafe`, a capacity fixed at compile time, and a typed error
//! ([`TransactionError::PoolEmpty`]) when every buffer is lent, which the
//! caller turns into a refusal (503 to a new request, an error for a
//! command) without losing anything it holds.

use super::{MessageBuf, TransactionError, MAX_MESSAGE};
use crate::slots::{Handle, Slots};

/// Marks handles of a [`MessagePool`].
#[derive(Clone, Copy, Debug)]
pub enum BufferSlot {}

/// A buffer lent by a [`MessagePool`]. It carries the buffer's generation:
/// once given back, it reads nothing, even after the buffer is lent again.
pub type BufferId = Handle<BufferSlot>;

/// Up to `B` message buffers of [`MAX_MESSAGE`] bytes each.
///
/// Buffers never lent hold no bytes (see [`Slots`]), so an empty pool is
/// only its counters, and a freed buffer is reused lowest first: which
/// buffer a message lands in depends on the inputs alone.
#[derive(Clone, Debug)]
pub struct MessagePool<const B: usize> {
    /// The most buffers lent at once so far.
    peak: usize,
    buffers: Slots<MessageBuf, BufferSlot, B>,
}

impl<const B: usize> Default for MessagePool<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const B: usize> MessagePool<B> {
    /// A pool with every buffer free.
    // Inlined so an empty pool is built in its final place: called out of
    // line, the table around it is built on the stack and copied.
    #[inline(always)]
    pub const fn new() -> Self {
        MessagePool {
            peak: 0,
            buffers: Slots::new(),
        }
    }

    /// Lends a buffer holding a copy of `bytes`.
    /// [`TransactionError::MessageTooLarge`] when `bytes` is longer than
    /// [`MAX_MESSAGE`], [`TransactionError::PoolEmpty`] when every buffer
    /// is lent; either way nothing is lent.
    pub fn lend(&mut self, bytes: &[u8]) -> Result<BufferId, TransactionError> {
        if bytes.len() > MAX_MESSAGE {
            return Err(TransactionError::MessageTooLarge);
        }
        let id = self
            .buffers
            .insert(MessageBuf::new())
            .map_err(|_| TransactionError::PoolEmpty)?;
        // Copied in place: no message-sized value on the stack.
        let copied = self
            .buffers
            .get_mut(id)
            .is_some_and(|b| b.set(bytes).is_ok());
        if !copied {
            self.buffers.discard(id);
            return Err(TransactionError::MessageTooLarge);
        }
        self.peak = self.peak.max(self.buffers.len());
        Ok(id)
    }

    /// Replaces the bytes of the lent buffer `id`; on error they stay.
    /// [`TransactionError::InvalidState`] when `id` was given back.
    pub fn set(&mut self, id: BufferId, bytes: &[u8]) -> Result<(), TransactionError> {
        self.buffers
            .get_mut(id)
            .ok_or(TransactionError::InvalidState)?
            .set(bytes)
    }

    /// The bytes of the lent buffer `id`; empty when it was given back.
    pub fn bytes(&self, id: BufferId) -> &[u8] {
        self.buffers.get(id).map_or(&[], MessageBuf::as_bytes)
    }

    /// Takes the buffer `id` back; `false` when it was already given back.
    pub fn give_back(&mut self, id: BufferId) -> bool {
        // Dropped where it lies: no message-sized copy.
        let lent = self.buffers.get(id).is_some();
        self.buffers.discard(id);
        lent
    }

    /// How many buffers the pool has.
    pub fn capacity(&self) -> usize {
        self.buffers.capacity()
    }

    /// How many buffers are lent.
    pub fn in_use(&self) -> usize {
        self.buffers.len()
    }

    /// How many buffers are free to lend.
    pub fn available(&self) -> usize {
        self.capacity().saturating_sub(self.in_use())
    }

    /// The most buffers lent at once since the pool was made: what a
    /// workload needs, to size `B` by.
    pub fn peak(&self) -> usize {
        self.peak
    }
}

/// The buffer a machine holds in `stored`, if any: stores `bytes` in it,
/// lending one first when it holds none. On error nothing changes.
pub(crate) fn store<const B: usize>(
    pool: &mut MessagePool<B>,
    stored: &mut Option<BufferId>,
    bytes: &[u8],
) -> Result<(), TransactionError> {
    match *stored {
        Some(id) if pool.set(id, bytes).is_ok() => Ok(()),
        Some(_) if bytes.len() > MAX_MESSAGE => Err(TransactionError::MessageTooLarge),
        // None, or a buffer given back behind the machine's back.
        _ => {
            let id = pool.lend(bytes)?;
            *stored = Some(id);
            Ok(())
        }
    }
}

/// Gives back the buffer in `stored`, if any.
pub(crate) fn release<const B: usize>(pool: &mut MessagePool<B>, stored: &mut Option<BufferId>) {
    if let Some(id) = stored.take() {
        pool.give_back(id);
    }
}

/// The bytes in `stored`; empty when it holds no buffer.
pub(crate) fn bytes_of<const B: usize>(pool: &MessagePool<B>, stored: Option<BufferId>) -> &[u8] {
    stored.map_or(&[], |id| pool.bytes(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lends_until_empty_and_reuses_the_lowest_buffer() {
        let mut pool: MessagePool<2> = MessagePool::new();
        let a = pool.lend(b"one").unwrap();
        let b = pool.lend(b"two").unwrap();
        assert_eq!(pool.lend(b"three"), Err(TransactionError::PoolEmpty));
        assert_eq!((pool.in_use(), pool.available(), pool.peak()), (2, 0, 2));
        assert_eq!(pool.bytes(a), b"one");
        assert!(pool.give_back(a));
        assert!(!pool.give_back(a), "a second give-back finds nothing");
        assert_eq!(pool.bytes(a), b"", "a given-back id reads nothing");
        let c = pool.lend(b"four").unwrap();
        assert_eq!(c.index(), a.index());
        assert_ne!(c, a);
        assert_eq!(pool.bytes(a), b"");
        assert_eq!(pool.bytes(c), b"four");
        assert_eq!(pool.set(a, b"x"), Err(TransactionError::InvalidState));
        assert_eq!(pool.bytes(b), b"two");
        assert!(pool.give_back(b) && pool.give_back(c));
        assert_eq!((pool.in_use(), pool.peak()), (0, 2));
    }

    #[test]
    fn a_message_too_large_takes_no_buffer() {
        let mut pool: MessagePool<1> = MessagePool::new();
        let big = [b'x'; MAX_MESSAGE + 1];
        assert_eq!(pool.lend(&big), Err(TransactionError::MessageTooLarge));
        assert_eq!(pool.in_use(), 0);
        let id = pool.lend(&big[..MAX_MESSAGE]).unwrap();
        assert_eq!(pool.set(id, &big), Err(TransactionError::MessageTooLarge));
        assert_eq!(pool.bytes(id).len(), MAX_MESSAGE, "the old bytes stay");
    }

    #[test]
    fn store_lends_once_and_release_gives_back() {
        let mut pool: MessagePool<1> = MessagePool::new();
        let mut stored = None;
        store(&mut pool, &mut stored, b"180").unwrap();
        store(&mut pool, &mut stored, b"486").unwrap();
        assert_eq!(pool.in_use(), 1);
        assert_eq!(bytes_of(&pool, stored), b"486");
        let mut other = None;
        assert_eq!(
            store(&mut pool, &mut other, b"x"),
            Err(TransactionError::PoolEmpty)
        );
        assert_eq!(other, None);
        release(&mut pool, &mut stored);
        assert_eq!((stored, pool.in_use()), (None, 0));
        assert_eq!(bytes_of(&pool, stored), b"");
    }
}
