//! The firmware's monotonic clock.

use handset_core::time::Instant;

/// A monotonic clock: each reading is at or after the one before.
///
/// The core never reads a clock itself; the [`crate::Runner`] reads this one
/// once per poll and hands the reading to the core with every input.
pub trait Clock {
    /// The current time.
    fn now(&mut self) -> Instant;
}

/// Turns readings of a wrapping 32-bit hardware counter (SysTick count,
/// a free-running timer, a cycle counter) that ticks `HZ` times a second
/// into a monotonic [`Instant`].
///
/// The counter must be read at least once per wrap (2^32 / `HZ` seconds:
/// about 49 days at 1 kHz, 26 seconds at 168 MHz); a runner that polls at
/// least that often does so.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WrappingTicks<const HZ: u32> {
    last: u32,
    total: u64,
}

impl<const HZ: u32> WrappingTicks<HZ> {
    /// Starts counting from the counter's reading `raw`, which becomes
    /// [`Instant::ZERO`].
    pub const fn new(raw: u32) -> Self {
        WrappingTicks {
            last: raw,
            total: 0,
        }
    }

    /// The instant of the counter reading `raw`.
    pub fn update(&mut self, raw: u32) -> Instant {
        // Unsigned wrapping difference: correct across one wrap.
        self.total = self
            .total
            .saturating_add(u64::from(raw.wrapping_sub(self.last)));
        self.last = raw;
        let hz = u64::from(HZ).max(1);
        // Split to keep the multiplication from overflowing for ~584,000 years.
        let secs = self.total / hz;
        let rest = self.total % hz;
        Instant::from_micros(
            secs.saturating_mul(1_000_000)
                .saturating_add(rest.saturating_mul(1_000_000) / hz),
        )
    }
}

/// A [`Clock`] made of a function reading a wrapping 32-bit counter.
#[derive(Clone, Copy, Debug)]
pub struct CounterClock<F, const HZ: u32> {
    read: F,
    ticks: WrappingTicks<HZ>,
}

impl<F: FnMut() -> u32, const HZ: u32> CounterClock<F, HZ> {
    /// A clock whose origin is the counter's current reading.
    pub fn new(mut read: F) -> Self {
        let raw = read();
        CounterClock {
            read,
            ticks: WrappingTicks::new(raw),
        }
    }
}

impl<F: FnMut() -> u32, const HZ: u32> Clock for CounterClock<F, HZ> {
    fn now(&mut self) -> Instant {
        let raw = (self.read)();
        self.ticks.update(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_counter_stays_monotonic_across_wraps() {
        let mut t: WrappingTicks<1000> = WrappingTicks::new(u32::MAX - 1);
        assert_eq!(t.update(u32::MAX), Instant::from_millis(1));
        assert_eq!(t.update(3), Instant::from_millis(5));
        // A full wrap and a bit more, read in three steps.
        let mut last = Instant::from_millis(5);
        for raw in [0x8000_0000u32, 0xffff_0000, 10] {
            let now = t.update(raw);
            assert!(now > last);
            last = now;
        }
        assert_eq!(last, Instant::from_millis(5 + (1u64 << 32) + 7));
    }

    #[test]
    fn fractional_ticks_convert_without_overflow() {
        let mut t: WrappingTicks<168_000_000> = WrappingTicks::new(0);
        assert_eq!(t.update(168), Instant::from_micros(1));
        assert_eq!(t.update(168_000_000 + 84), Instant::from_micros(1_000_000));
        let mut n = 0u32;
        let mut c: CounterClock<_, 1_000_000> = CounterClock::new(move || {
            n = n.wrapping_add(250);
            n
        });
        assert_eq!(c.now(), Instant::from_micros(250));
        assert_eq!(c.now(), Instant::from_micros(500));
    }
}
