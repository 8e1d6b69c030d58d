//! The queue of datagrams a phone has produced and the caller has not yet
//! taken.
//!
//! Bytes go into one fixed arena; records point into it. The caller drains
//! every output after each input (the run-loop contract), so the arena is
//! reset whenever the queue runs empty and never fragments.

use core::net::SocketAddr;

use heapless::Deque;

/// One datagram waiting in the outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Record {
    from: SocketAddr,
    to: SocketAddr,
    start: usize,
    len: usize,
}

/// Why a datagram could not be queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboxError {
    /// The arena or the record queue is full. The datagram is dropped as
    /// the network might drop it; retransmission timers recover.
    Full,
}

/// A fixed-size datagram queue: `BYTES` of arena, `SLOTS` records.
#[derive(Debug)]
pub struct Outbox<const BYTES: usize, const SLOTS: usize> {
    arena: [u8; BYTES],
    used: usize,
    records: Deque<Record, SLOTS>,
    dropped: u32,
}

impl<const BYTES: usize, const SLOTS: usize> Default for Outbox<BYTES, SLOTS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const BYTES: usize, const SLOTS: usize> Outbox<BYTES, SLOTS> {
    /// An empty outbox.
    pub const fn new() -> Self {
        Outbox {
            arena: [0; BYTES],
            used: 0,
            records: Deque::new(),
            dropped: 0,
        }
    }

    /// Queues a copy of `data`.
    pub fn push(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        data: &[u8],
    ) -> Result<(), OutboxError> {
        self.push_with(from, to, |buf| {
            let dst = buf.get_mut(..data.len())?;
            dst.copy_from_slice(data);
            Some(data.len())
        })
    }

    /// Queues a datagram written in place by `write`, which gets the free
    /// arena and returns how many bytes it wrote (`None` when it did not fit).
    pub fn push_with(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        write: impl FnOnce(&mut [u8]) -> Option<usize>,
    ) -> Result<(), OutboxError> {
        if self.records.is_full() {
            self.dropped = self.dropped.saturating_add(1);
            return Err(OutboxError::Full);
        }
        let start = self.used;
        let free = self.arena.get_mut(start..).unwrap_or(&mut []);
        match write(free) {
            Some(len) if len <= free.len() => {
                self.used += len;
                // Cannot fail: fullness was checked above.
                let _ = self.records.push_back(Record {
                    from,
                    to,
                    start,
                    len,
                });
                Ok(())
            }
            _ => {
                self.dropped = self.dropped.saturating_add(1);
                Err(OutboxError::Full)
            }
        }
    }

    /// Takes the oldest datagram: `(from, to, bytes)`. The bytes stay valid
    /// until the next call that changes the outbox.
    pub fn pop(&mut self) -> Option<(SocketAddr, SocketAddr, &[u8])> {
        let r = self.records.pop_front()?;
        if self.records.is_empty() {
            // Drained: the next push starts at the arena's beginning again.
            // The record just taken still points at intact bytes.
            self.used = 0;
        }
        let data = self.arena.get(r.start..r.start + r.len).unwrap_or(&[]);
        Some((r.from, r.to, data))
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// How many datagrams were dropped because the outbox was full.
    pub fn dropped(&self) -> u32 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn fifo_order_and_arena_reuse_after_drain() {
        let mut o: Outbox<16, 4> = Outbox::new();
        o.push(addr(1), addr(2), b"abcd").unwrap();
        o.push(addr(1), addr(3), b"efgh").unwrap();
        assert_eq!(o.pop().unwrap().2, b"abcd");
        let (_, to, d) = o.pop().unwrap();
        assert_eq!((to, d), (addr(3), &b"efgh"[..]));
        assert!(o.pop().is_none());
        // Drained: the whole arena is free again.
        o.push(addr(1), addr(2), &[7u8; 16]).unwrap();
        assert_eq!(o.pop().unwrap().2, &[7u8; 16]);
    }

    #[test]
    fn full_arena_or_queue_drops_and_counts() {
        let mut o: Outbox<8, 2> = Outbox::new();
        assert_eq!(o.push(addr(1), addr(2), &[0u8; 9]), Err(OutboxError::Full));
        o.push(addr(1), addr(2), b"a").unwrap();
        o.push(addr(1), addr(2), b"b").unwrap();
        assert_eq!(o.push(addr(1), addr(2), b"c"), Err(OutboxError::Full));
        assert_eq!(o.dropped(), 2);
        assert_eq!(
            o.push_with(addr(1), addr(2), |_| None),
            Err(OutboxError::Full)
        );
    }
}
