//! The send clock of one RTP stream: a fixed grid of packet deadlines and
//! the sequence number, timestamp and marker that belong to each.
//!
//! Tick `n` is due at `start + n × ptime` and carries timestamp
//! `base + n × step`. Both are computed from the index, never by adding to
//! the previous tick, so a stream drifts neither in wall time nor in media
//! time however late its caller runs.

use crate::time::{Duration, Instant};

const MICROS_PER_SEC: u64 = 1_000_000;

/// Timestamp units in `span` at `clock_rate` Hz, modulo 2^32 (RTP
/// timestamps wrap, RFC 3550 §5.1). Exact for every span: whole seconds and
/// the remainder are converted apart so nothing overflows.
pub fn media_units(span: Duration, clock_rate: u32) -> u32 {
    let us = span.as_micros();
    let rate = u64::from(clock_rate);
    let whole = (us / MICROS_PER_SEC).wrapping_mul(rate);
    let part = (us % MICROS_PER_SEC) * rate / MICROS_PER_SEC;
    whole.wrapping_add(part) as u32
}

/// One packet slot on the grid, ready to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpTick {
    /// Position on the grid, counted from the stream start.
    pub index: u64,
    /// The slot's deadline, `start + index × ptime`.
    pub at: Instant,
    /// The sequence number to send.
    pub seq: u16,
    /// The timestamp to send.
    pub timestamp: u32,
    /// Whether this packet starts a talk-spurt.
    pub marker: bool,
}

/// Packet deadlines, sequence numbers and timestamps of one sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpClock {
    start: Instant,
    ptime_us: u64,
    step: u32,
    clock_rate: u32,
    timestamp_base: u32,
    next_index: u64,
    next_seq: u16,
    marker: bool,
}

impl RtpClock {
    /// A clock whose tick 0 is due at `start`. `None` unless `ptime_ms` and
    /// `clock_rate` are non-zero and a packet spans a whole number of
    /// timestamp units (160 for 8 kHz at 20 ms).
    pub fn new(
        start: Instant,
        ptime_ms: u16,
        clock_rate: u32,
        initial_seq: u16,
        initial_timestamp: u32,
    ) -> Option<Self> {
        let units = u64::from(clock_rate) * u64::from(ptime_ms);
        if units == 0 || units % 1000 != 0 {
            return None;
        }
        Some(RtpClock {
            start,
            ptime_us: u64::from(ptime_ms) * 1000,
            step: u32::try_from(units / 1000).ok()?,
            clock_rate,
            timestamp_base: initial_timestamp,
            next_index: 0,
            next_seq: initial_seq,
            // RFC 3550 §5.1: the first packet of a stream starts a talk-spurt.
            marker: true,
        })
    }

    /// The packet interval.
    pub fn ptime(&self) -> Duration {
        Duration::from_micros(self.ptime_us)
    }

    /// Timestamp units per packet.
    pub fn step(&self) -> u32 {
        self.step
    }

    /// The RTP clock rate in Hz.
    pub fn clock_rate(&self) -> u32 {
        self.clock_rate
    }

    /// The deadline of tick `index`.
    // Out of line: the saturating 64-bit multiply is about 0.2 KiB of
    // Thumb-2, and the stream's input, output and timeout paths each
    // inlined a copy.
    #[inline(never)]
    pub fn deadline(&self, index: u64) -> Instant {
        self.start + Duration::from_micros(index.saturating_mul(self.ptime_us))
    }

    /// The index of the next tick not yet sent or skipped.
    pub fn next_index(&self) -> u64 {
        self.next_index
    }

    /// The deadline of the next tick not yet sent or skipped.
    pub fn next_deadline(&self) -> Instant {
        self.deadline(self.next_index)
    }

    /// The timestamp carried by tick `index`; arithmetic modulo 2^32 keeps
    /// it exact after the wrap.
    pub fn timestamp_of(&self, index: u64) -> u32 {
        self.timestamp_base
            .wrapping_add((index as u32).wrapping_mul(self.step))
    }

    /// The media clock reading at any instant, for an SR's RTP timestamp
    /// (RFC 3550 §6.4.1: same instant as the NTP timestamp).
    pub fn timestamp_at(&self, t: Instant) -> u32 {
        self.timestamp_base
            .wrapping_add(media_units(t - self.start, self.clock_rate))
    }

    /// The first tick whose deadline is at or after `t`.
    pub fn first_index_at_or_after(&self, t: Instant) -> u64 {
        (t - self.start).as_micros().div_ceil(self.ptime_us)
    }

    /// The first tick whose deadline is strictly after `t`.
    pub fn first_index_after(&self, t: Instant) -> u64 {
        if t < self.start {
            return 0;
        }
        (t - self.start).as_micros() / self.ptime_us + 1
    }

    /// The next sequence number, for packets outside the grid (DTMF events
    /// share the stream's sequence space, RFC 4733 §2.1).
    pub fn take_seq(&mut self) -> u16 {
        let seq = self.next_seq;
        self.next_seq = seq.wrapping_add(1);
        seq
    }

    /// Sends the next tick: numbers it and moves past it.
    pub fn take(&mut self) -> RtpTick {
        let index = self.next_index;
        let tick = RtpTick {
            index,
            at: self.deadline(index),
            seq: self.take_seq(),
            timestamp: self.timestamp_of(index),
            marker: self.marker,
        };
        self.marker = false;
        self.next_index = index.saturating_add(1);
        tick
    }

    /// Moves the next tick forward to `index` without sending the ticks in
    /// between; sequence numbers do not advance for them, timestamps do
    /// (RFC 3550 §5.1), and the next packet starts a talk-spurt. Returns
    /// how many ticks were passed over.
    pub fn skip_to(&mut self, index: u64) -> u64 {
        if index <= self.next_index {
            return 0;
        }
        let skipped = index - self.next_index;
        self.next_index = index;
        self.marker = true;
        skipped
    }

    /// Marks the next packet as the start of a talk-spurt.
    pub fn mark(&mut self) {
        self.marker = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_fractional_and_zero_steps() {
        let t = Instant::ZERO;
        assert!(RtpClock::new(t, 0, 8000, 0, 0).is_none());
        assert!(RtpClock::new(t, 20, 0, 0, 0).is_none());
        assert!(RtpClock::new(t, 1, 22_050, 0, 0).is_none());
        assert_eq!(RtpClock::new(t, 20, 8000, 0, 0).unwrap().step(), 160);
        assert_eq!(RtpClock::new(t, 20, 48_000, 0, 0).unwrap().step(), 960);
    }

    #[test]
    fn sequence_and_timestamp_wrap() {
        let start = Instant::from_millis(5);
        let mut clock = RtpClock::new(start, 20, 8000, 65534, u32::MAX - 200).unwrap();
        let ticks: [RtpTick; 4] = core::array::from_fn(|_| clock.take());
        let seqs: [u16; 4] = core::array::from_fn(|i| ticks[i].seq);
        assert_eq!(seqs, [65534, 65535, 0, 1]);
        assert_eq!(ticks[0].timestamp, u32::MAX - 200);
        assert_eq!(ticks[1].timestamp, u32::MAX - 40);
        assert_eq!(ticks[2].timestamp, 119);
        assert_eq!(ticks[3].timestamp, 279);
        assert!(ticks[0].marker && !ticks[1].marker);
        assert_eq!(ticks[3].at, Instant::from_millis(65));
    }

    #[test]
    fn index_far_beyond_u32_keeps_timestamps_congruent() {
        let clock = RtpClock::new(Instant::ZERO, 20, 8000, 0, 7).unwrap();
        let n = (1u64 << 32) + 3;
        let exact = (7 + u128::from(n) * 160) % (1u128 << 32);
        assert_eq!(u128::from(clock.timestamp_of(n)), exact);
        // The media clock at a tick's deadline is that tick's timestamp.
        assert_eq!(clock.timestamp_at(clock.deadline(n)), clock.timestamp_of(n));
    }

    #[test]
    fn skipping_keeps_the_grid_and_sets_the_marker() {
        let mut clock = RtpClock::new(Instant::ZERO, 20, 8000, 10, 0).unwrap();
        clock.take();
        assert_eq!(clock.skip_to(51), 50);
        let t = clock.take();
        assert_eq!((t.seq, t.timestamp, t.marker), (11, 51 * 160, true));
        assert_eq!(t.at, Instant::from_millis(51 * 20));
        assert_eq!(clock.first_index_at_or_after(Instant::from_millis(40)), 2);
        assert_eq!(clock.first_index_at_or_after(Instant::from_millis(41)), 3);
        assert_eq!(clock.first_index_after(Instant::from_millis(40)), 3);
    }
}
