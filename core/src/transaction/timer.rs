//! The RFC 3261 transaction timers, kept in one small fixed table per
//! transaction: the next wake-up is the earliest armed deadline.

use crate::time::{Duration, Instant};

/// A transaction timer, named as RFC 3261 §17 (A–K) and RFC 6026 (L, M)
/// name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimerKind {
    /// INVITE client: request retransmission (§17.1.1.2).
    A,
    /// INVITE client: transaction timeout, 64·T1.
    B,
    /// INVITE client: wait for response retransmissions in Completed.
    D,
    /// Non-INVITE client: request retransmission (§17.1.2.2).
    E,
    /// Non-INVITE client: transaction timeout, 64·T1.
    F,
    /// INVITE server: final response retransmission (§17.2.1).
    G,
    /// INVITE server: wait for the ACK, 64·T1.
    H,
    /// INVITE server: wait for ACK retransmissions in Confirmed.
    I,
    /// Non-INVITE server: wait for request retransmissions (§17.2.2).
    J,
    /// Non-INVITE client: wait for response retransmissions.
    K,
    /// INVITE server: wait in Accepted for INVITE retransmissions
    /// (RFC 6026 §8.7), 64·T1.
    L,
    /// INVITE client: wait in Accepted for 2xx retransmissions
    /// (RFC 6026 §8.4), 64·T1.
    M,
}

impl TimerKind {
    /// Every timer, in table order.
    pub const ALL: [TimerKind; 12] = [
        TimerKind::A,
        TimerKind::B,
        TimerKind::D,
        TimerKind::E,
        TimerKind::F,
        TimerKind::G,
        TimerKind::H,
        TimerKind::I,
        TimerKind::J,
        TimerKind::K,
        TimerKind::L,
        TimerKind::M,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// Marks an unarmed timer. A deadline this far away (584,000 years of
/// microseconds) is never reached, so nothing is lost by the sentinel, and
/// it halves the table against `Option<Instant>`.
const UNARMED: u64 = u64::MAX;

/// One deadline per [`TimerKind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerTable {
    deadlines: [u64; 12],
}

impl Default for TimerTable {
    fn default() -> Self {
        Self::new()
    }
}

impl TimerTable {
    /// A table with no timer armed.
    pub const fn new() -> Self {
        TimerTable {
            deadlines: [UNARMED; 12],
        }
    }

    /// Arms `kind` to fire at `at`, replacing an earlier deadline. A
    /// deadline at the end of time (`u64::MAX` microseconds) never fires.
    pub fn set(&mut self, kind: TimerKind, at: Instant) {
        if let Some(slot) = self.deadlines.get_mut(kind.index()) {
            *slot = at.as_micros();
        }
    }

    /// Arms `kind` to fire `after` from `now`.
    pub fn start(&mut self, kind: TimerKind, now: Instant, after: Duration) {
        self.set(kind, now + after);
    }

    /// Disarms `kind`.
    pub fn stop(&mut self, kind: TimerKind) {
        if let Some(slot) = self.deadlines.get_mut(kind.index()) {
            *slot = UNARMED;
        }
    }

    /// Disarms every timer.
    pub fn stop_all(&mut self) {
        self.deadlines = [UNARMED; 12];
    }

    /// When `kind` fires, if armed.
    pub fn get(&self, kind: TimerKind) -> Option<Instant> {
        self.deadlines
            .get(kind.index())
            .filter(|&&us| us != UNARMED)
            .map(|&us| Instant::from_micros(us))
    }

    /// The earliest armed timer and its deadline; on a tie the one first in
    /// table order.
    pub fn next(&self) -> Option<(TimerKind, Instant)> {
        let mut best: Option<(TimerKind, Instant)> = None;
        for kind in TimerKind::ALL {
            if let Some(at) = self.get(kind) {
                if best.is_none_or(|(_, b)| at < b) {
                    best = Some((kind, at));
                }
            }
        }
        best
    }

    /// The earliest timer due at `now`, disarmed and returned.
    pub fn pop_expired(&mut self, now: Instant) -> Option<TimerKind> {
        let (kind, at) = self.next()?;
        if at <= now {
            self.stop(kind);
            Some(kind)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_the_earliest_and_pop_disarms_it() {
        let mut t = TimerTable::new();
        assert_eq!(t.next(), None);
        t.set(TimerKind::B, Instant::from_millis(32_000));
        t.set(TimerKind::A, Instant::from_millis(500));
        assert_eq!(t.next(), Some((TimerKind::A, Instant::from_millis(500))));
        assert_eq!(t.pop_expired(Instant::from_millis(499)), None);
        assert_eq!(t.pop_expired(Instant::from_millis(500)), Some(TimerKind::A));
        assert_eq!(t.get(TimerKind::A), None);
        assert_eq!(t.next(), Some((TimerKind::B, Instant::from_millis(32_000))));
        t.stop_all();
        assert_eq!(t.next(), None);
    }
}
