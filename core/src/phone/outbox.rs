//! The queue of datagrams a phone has produced and the caller has not yet
//! taken.
//!
//! Bytes go into one fixed arena; records point into it. The caller drains
//! every output after each input (the run-loop contract), so the arena is
//! reset whenever the queue runs empty and never fragments.
//!
//! A caller whose driver cannot take a datagram yet puts it back
//! ([`Outbox::unpop`]) instead of copying it aside: it stays first in the
//! queue until the driver takes it.

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
    /// The datagram [`Outbox::pop`] took last, while its bytes are intact
    /// (until the next push).
    last: Option<Record>,
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
            last: None,
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
        // A push may write over the bytes of the datagram taken last (the
        // arena restarts once the queue ran empty).
        self.last = None;
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
        self.last = Some(r);
        let data = self.arena.get(r.start..r.start + r.len).unwrap_or(&[]);
        Some((r.from, r.to, data))
    }

    /// Puts the datagram [`Outbox::pop`] took last back at the front of the
    /// queue, for a caller whose driver could not take it yet; the next
    /// `pop` returns it again. `false` when there is nothing to put back:
    /// nothing was taken, it was put back already, or a datagram was
    /// queued since (its bytes may be gone).
    pub fn unpop(&mut self) -> bool {
        let Some(r) = self.last.take() else {
            return false;
        };
        // Cannot fail: `pop` made room for it and nothing was pushed since.
        if self.records.push_front(r).is_err() {
            return false;
        }
        // The arena restarted when the queue ran empty: pushes go after the
        // bytes put back.
        self.used = self.used.max(r.start + r.len);
        true
    }

    /// Forgets the datagram taken last: it was sent, and can no longer be
    /// put back.
    pub fn forget_last(&mut self) {
        self.last = None;
    }

    /// Whether a datagram of `bytes` bytes would be queued now.
    pub fn has_room(&self, bytes: usize) -> bool {
        !self.records.is_full() && BYTES.saturating_sub(self.used) >= bytes
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
    extern crate std;

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
    fn a_datagram_put_back_comes_first_again_with_its_bytes() {
        let mut o: Outbox<16, 4> = Outbox::new();
        assert!(!o.unpop(), "nothing taken yet");
        o.push(addr(1), addr(2), b"abcd").unwrap();
        o.push(addr(1), addr(3), b"efgh").unwrap();
        assert_eq!(o.pop().unwrap().2, b"abcd");
        assert!(o.unpop());
        assert!(!o.unpop(), "put back once only");
        assert_eq!(o.pop().unwrap(), (addr(1), addr(2), &b"abcd"[..]));
        // The last one, which restarted the arena: put back, then a push
        // lands after its bytes instead of over them.
        assert_eq!(o.pop().unwrap().2, b"efgh");
        assert!(o.is_empty());
        assert!(o.unpop());
        o.push(addr(1), addr(4), b"ijkl").unwrap();
        assert_eq!(o.pop().unwrap(), (addr(1), addr(3), &b"efgh"[..]));
        assert_eq!(o.pop().unwrap(), (addr(1), addr(4), &b"ijkl"[..]));
        assert!(o.pop().is_none());
    }

    #[test]
    fn nothing_to_put_back_after_a_push_or_once_forgotten() {
        let mut o: Outbox<16, 4> = Outbox::new();
        o.push(addr(1), addr(2), b"abcd").unwrap();
        assert_eq!(o.pop().unwrap().2, b"abcd");
        // The arena restarted: this push writes where "abcd" was.
        o.push(addr(1), addr(2), b"wxyz").unwrap();
        assert!(!o.unpop());
        assert_eq!(o.pop().unwrap().2, b"wxyz");
        o.forget_last();
        assert!(!o.unpop());
        assert!(o.pop().is_none());
        assert_eq!(o.dropped(), 0);
    }

    #[test]
    fn a_phone_gives_back_a_datagram_put_back_and_nothing_else() {
        use crate::phone::{Command, Config, Event, Input, Output, Phone};
        use crate::time::Instant;
        let local = addr(5060);
        let mut config = Config::new("alice", "example.com", local).unwrap();
        config.registrar = Some(addr(5070));
        let mut p: Phone<1> = Phone::new(config, 3);
        let t0 = Instant::ZERO;
        assert!(!p.put_back_transmit(), "nothing taken yet");
        p.handle_input(t0, Input::Command(Command::Register))
            .unwrap();
        let first = match p.poll_output() {
            Some(Output::Transmit { from, to, data }) => (from, to, data.to_vec()),
            other => panic!("{other:?}"),
        };
        assert!(first.2.starts_with(b"REGISTER "));
        // The driver refused it: put back, it comes again, byte for byte.
        assert!(p.put_back_transmit());
        let again = match p.poll_output() {
            Some(Output::Transmit { from, to, data }) => (from, to, data.to_vec()),
            other => panic!("{other:?}"),
        };
        assert_eq!(again, first);
        assert!(p.poll_output().is_none());
        assert!(!p.put_back_transmit(), "the last poll returned nothing");
        // An event is not a datagram: after it, there is nothing to put
        // back.
        let stale = crate::phone::CallHandle {
            slot: 0,
            generation: 9,
        };
        p.handle_input(t0, Input::Command(Command::Hangup(stale)))
            .unwrap();
        assert!(matches!(
            p.poll_output(),
            Some(Output::Event(Event::CommandFailed(_)))
        ));
        assert!(!p.put_back_transmit());
        assert!(p.poll_output().is_none());
    }

    /// Everything the phone outputs now: the datagrams' destinations and
    /// bytes.
    fn drain_transmits<const C: usize, const T: usize>(
        p: &mut crate::phone::Phone<C, T>,
    ) -> std::vec::Vec<(SocketAddr, std::vec::Vec<u8>)> {
        use crate::phone::Output;
        let mut sent = std::vec::Vec::new();
        while let Some(out) = p.poll_output() {
            if let Output::Transmit { to, data, .. } = out {
                sent.push((to, data.to_vec()));
            }
        }
        sent
    }

    #[test]
    fn a_late_tick_retransmits_every_request_none_dropped_in_order() {
        use crate::phone::{Command, Config, Input, Phone};
        use crate::time::{Duration, Instant};
        let mut config = Config::new("alice", "example.com", addr(5060)).unwrap();
        config.registrar = Some(addr(5070));
        let mut p: Phone<4, 16> = Phone::new(config, 5);
        let t0 = Instant::ZERO;
        let mut first = std::vec::Vec::new();
        p.handle_input(t0, Input::Command(Command::Register))
            .unwrap();
        first.extend(drain_transmits(&mut p));
        for to in [
            "sip:b@127.0.0.2",
            "sip:c@127.0.0.3",
            "sip:d@127.0.0.4",
            "sip:e@127.0.0.5",
        ] {
            p.handle_input(t0, Input::Command(Command::Dial { to }))
                .unwrap();
            first.extend(drain_transmits(&mut p));
        }
        assert_eq!(first.len(), 5, "a REGISTER and four INVITEs");
        let bytes: usize = first.iter().map(|(_, d)| d.len()).sum();
        assert!(bytes > OUTBOX_BYTES_OF_PHONE, "more than the outbox holds");
        // The caller slept past Timer A and E (T1) of all five: the tick
        // finds them all due at once.
        let late = t0 + Duration::from_millis(700);
        p.handle_input(late, Input::Tick).unwrap();
        assert!(
            !p.outbox.has_room(crate::transaction::MAX_MESSAGE),
            "the outbox filled up: the other timers wait, due"
        );
        assert!(p.poll_timeout().is_some_and(|t| t <= late));
        // One drain takes them all: each timer held back runs once the
        // outbox ran empty.
        let again = drain_transmits(&mut p);
        assert_eq!(again, first, "each request once more, as first sent");
        assert_eq!(p.outbox.dropped(), 0);
        assert!(p.poll_timeout().is_some_and(|t| t > late));
    }

    const OUTBOX_BYTES_OF_PHONE: usize = crate::phone::OUTBOX_BYTES;

    #[test]
    fn full_arena_or_queue_drops_and_counts() {
        let mut o: Outbox<8, 2> = Outbox::new();
        assert_eq!(o.push(addr(1), addr(2), &[0u8; 9]), Err(OutboxError::Full));
        o.push(addr(1), addr(2), b"a").unwrap();
        o.push(addr(1), addr(2), b"b").unwrap();
        assert_eq!(o.push(addr(1), addr(2), b"c"), Err(OutboxError::Full));
        assert_eq!(o.dropped(), 2);
        assert!(!o.has_room(0), "no record free");
        assert_eq!(o.pop().unwrap().2, b"a");
        assert!(o.has_room(6) && !o.has_room(7), "2 of 8 bytes used");
        assert_eq!(
            o.push_with(addr(1), addr(2), |_| None),
            Err(OutboxError::Full)
        );
    }
}
