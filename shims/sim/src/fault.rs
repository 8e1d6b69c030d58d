//! Link faults: how a simulated link delays, loses, duplicates and reorders
//! datagrams, and the time windows during which a link is cut.
//!
//! Every probability is a [`Chance`] in parts per million, so a profile is
//! exact, hashable and free of floating point once built.

use handset_core::rng::Rng;
use handset_core::time::{Duration, Instant};

/// A probability in parts per million (0 = never, 1,000,000 = always).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Chance(u32);

impl Chance {
    /// Parts per million that make "always".
    pub const MILLION: u32 = 1_000_000;
    /// Never happens.
    pub const NEVER: Chance = Chance(0);
    /// Always happens.
    pub const ALWAYS: Chance = Chance(Self::MILLION);

    /// A chance of `ppm` in a million, capped at certainty.
    pub const fn per_million(ppm: u32) -> Chance {
        if ppm > Self::MILLION {
            Chance(Self::MILLION)
        } else {
            Chance(ppm)
        }
    }

    /// A chance given in percent (`12.5` = 12.5 %), rounded to the nearest
    /// part per million and clamped to 0..=100 %. NaN counts as never.
    pub fn percent(pct: f64) -> Chance {
        if pct.is_nan() || pct <= 0.0 {
            return Chance::NEVER;
        }
        if pct >= 100.0 {
            return Chance::ALWAYS;
        }
        // In range 0..1e6 after the checks above, so the cast is exact enough.
        Chance((pct * 10_000.0).round() as u32)
    }

    /// Parts per million.
    pub const fn as_per_million(self) -> u32 {
        self.0
    }

    /// The chance in percent, for display.
    pub fn as_percent(self) -> f64 {
        f64::from(self.0) / 10_000.0
    }

    /// Whether this chance can never happen.
    pub const fn is_never(self) -> bool {
        self.0 == 0
    }

    /// Draws once from `rng`: true with this probability.
    ///
    /// Always consumes exactly one draw, whatever the chance, so changing one
    /// probability of a profile does not shift the random stream of the
    /// others.
    pub fn roll(self, rng: &mut Rng) -> bool {
        rng.below(Self::MILLION) < self.0
    }
}

/// How one direction of a link treats the datagrams sent over it.
///
/// The one-way delay of a datagram is `delay`, plus a uniform draw from
/// `0..=jitter`, plus `reorder_delay` when it is picked for reordering
/// (so datagrams sent after it overtake it), plus `spike_delay` when it
/// hits a delay spike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FaultProfile {
    /// Fixed one-way delay.
    pub delay: Duration,
    /// Upper bound of the uniform extra delay added to every datagram.
    pub jitter: Duration,
    /// Probability that a datagram is lost.
    pub loss: Chance,
    /// Probability that a delivered datagram arrives twice.
    pub duplicate: Chance,
    /// Extra delay of the second copy of a duplicated datagram (on top of
    /// its own jitter draw).
    pub duplicate_gap: Duration,
    /// Probability that a datagram is held back so later ones overtake it.
    pub reorder: Chance,
    /// Extra delay of a datagram held back for reordering.
    pub reorder_delay: Duration,
    /// Probability that a datagram hits a delay spike.
    pub spike: Chance,
    /// Extra delay of a datagram that hits a spike.
    pub spike_delay: Duration,
    /// A window during which the link is down (a partition that heals):
    /// datagrams sent or due inside it are lost.
    pub outage: Option<Window>,
}

impl Default for FaultProfile {
    fn default() -> Self {
        FaultProfile::ideal()
    }
}

impl FaultProfile {
    /// A perfect LAN link: 1 ms one way, no jitter, no faults.
    pub const fn ideal() -> FaultProfile {
        FaultProfile {
            delay: Duration::from_millis(1),
            jitter: Duration::ZERO,
            loss: Chance::NEVER,
            duplicate: Chance::NEVER,
            duplicate_gap: Duration::from_millis(2),
            reorder: Chance::NEVER,
            reorder_delay: Duration::from_millis(30),
            spike: Chance::NEVER,
            spike_delay: Duration::from_millis(400),
            outage: None,
        }
    }

    /// The ideal link with the given loss, duplication and reordering
    /// percentages and 5 ms of jitter when any of them is set (the profile
    /// behind the command line's `--loss`, `--dup` and `--reorder`).
    pub fn lossy(loss_pct: f64, dup_pct: f64, reorder_pct: f64) -> FaultProfile {
        let mut p = FaultProfile::ideal()
            .with_loss(Chance::percent(loss_pct))
            .with_duplicate(Chance::percent(dup_pct))
            .with_reorder(Chance::percent(reorder_pct));
        if !p.is_ideal() {
            p.jitter = Duration::from_millis(5);
        }
        p
    }

    /// This profile with another fixed delay.
    pub const fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// This profile with another jitter bound.
    pub const fn with_jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// This profile with another loss probability.
    pub const fn with_loss(mut self, loss: Chance) -> Self {
        self.loss = loss;
        self
    }

    /// This profile with another duplication probability.
    pub const fn with_duplicate(mut self, duplicate: Chance) -> Self {
        self.duplicate = duplicate;
        self
    }

    /// This profile with another reordering probability.
    pub const fn with_reorder(mut self, reorder: Chance) -> Self {
        self.reorder = reorder;
        self
    }

    /// This profile with delay spikes of `extra` at probability `chance`.
    pub const fn with_spikes(mut self, chance: Chance, extra: Duration) -> Self {
        self.spike = chance;
        self.spike_delay = extra;
        self
    }

    /// This profile with the link down during `window`.
    pub const fn with_outage(mut self, window: Window) -> Self {
        self.outage = Some(window);
        self
    }

    /// Whether the link is down at `t`.
    pub fn is_down(&self, t: Instant) -> bool {
        self.outage.is_some_and(|w| w.contains(t))
    }

    /// Whether no random fault can happen on this link (delay and jitter
    /// aside).
    pub const fn is_ideal(&self) -> bool {
        self.loss.is_never()
            && self.duplicate.is_never()
            && self.reorder.is_never()
            && self.spike.is_never()
    }

    /// Decides the fate of one datagram: `None` if lost, otherwise its
    /// one-way delay and, if duplicated, the delay of the second copy.
    ///
    /// Always draws the same number of random values, so the fate of one
    /// datagram never shifts the draws of the next.
    pub fn decide(&self, rng: &mut Rng) -> Fate {
        let lost = self.loss.roll(rng);
        let reordered = self.reorder.roll(rng);
        let spiked = self.spike.roll(rng);
        let duplicated = self.duplicate.roll(rng);
        let jitter = uniform(rng, self.jitter);
        let dup_jitter = uniform(rng, self.jitter);
        if lost {
            return Fate::Lost;
        }
        let mut delay = self.delay + jitter;
        if reordered {
            delay = delay + self.reorder_delay;
        }
        if spiked {
            delay = delay + self.spike_delay;
        }
        let copy = duplicated.then(|| delay + self.duplicate_gap + dup_jitter);
        Fate::Delivered { delay, copy }
    }
}

/// What a link does with one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Dropped.
    Lost,
    /// Delivered after `delay`; a second copy after `copy`, if any.
    Delivered {
        /// One-way delay of the datagram.
        delay: Duration,
        /// One-way delay of the network-made duplicate, if any.
        copy: Option<Duration>,
    },
}

/// A uniform draw from `0..=max`, in microseconds.
fn uniform(rng: &mut Rng, max: Duration) -> Duration {
    let span = max.as_micros();
    if span == 0 {
        // Keep the draw count fixed even without jitter.
        rng.next_u64();
        return Duration::ZERO;
    }
    let r = rng.next_u64();
    Duration::from_micros(r % span.saturating_add(1))
}

/// A half-open time window `[start, end)` during which something holds,
/// e.g. a link is cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    /// First instant inside the window.
    pub start: Instant,
    /// First instant after the window (the link heals here).
    pub end: Instant,
}

impl Window {
    /// The window from `start` (inclusive) to `end` (exclusive).
    pub const fn new(start: Instant, end: Instant) -> Window {
        Window { start, end }
    }

    /// The window of length `len` starting at `start`.
    pub fn starting_at(start: Instant, len: Duration) -> Window {
        Window {
            start,
            end: start + len,
        }
    }

    /// Whether `t` lies inside the window.
    pub fn contains(&self, t: Instant) -> bool {
        self.start <= t && t < self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_converts_to_parts_per_million_and_clamps() {
        assert_eq!(Chance::percent(20.0).as_per_million(), 200_000);
        assert_eq!(Chance::percent(0.0001).as_per_million(), 1);
        assert_eq!(Chance::percent(-3.0), Chance::NEVER);
        assert_eq!(Chance::percent(f64::NAN), Chance::NEVER);
        assert_eq!(Chance::percent(250.0), Chance::ALWAYS);
        assert_eq!(Chance::per_million(2_000_000), Chance::ALWAYS);
        assert_eq!(Chance::percent(12.5).as_percent(), 12.5);
    }

    #[test]
    fn never_and_always_are_exact() {
        let mut rng = Rng::new(3);
        for _ in 0..10_000 {
            assert!(!Chance::NEVER.roll(&mut rng));
            assert!(Chance::ALWAYS.roll(&mut rng));
        }
    }

    #[test]
    fn ideal_link_delivers_after_exactly_the_fixed_delay() {
        let p = FaultProfile::ideal().with_delay(Duration::from_millis(7));
        let mut rng = Rng::new(1);
        for _ in 0..100 {
            assert_eq!(
                p.decide(&mut rng),
                Fate::Delivered {
                    delay: Duration::from_millis(7),
                    copy: None
                }
            );
        }
    }

    #[test]
    fn jitter_stays_within_its_bound_and_varies() {
        let p = FaultProfile::ideal().with_jitter(Duration::from_micros(500));
        let mut rng = Rng::new(9);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..1000 {
            match p.decide(&mut rng) {
                Fate::Delivered { delay, copy: None } => {
                    assert!(delay >= p.delay && delay <= p.delay + p.jitter);
                    seen.insert(delay);
                }
                other => panic!("unexpected fate {other:?}"),
            }
        }
        assert!(seen.len() > 100, "jitter hardly varies: {}", seen.len());
    }

    #[test]
    fn changing_loss_keeps_the_other_draws_aligned() {
        // Same seed, loss 0 vs loss 100 %: after one datagram each, both
        // generators must be in the same state.
        let (mut a, mut b) = (Rng::new(5), Rng::new(5));
        FaultProfile::ideal().decide(&mut a);
        FaultProfile::ideal()
            .with_loss(Chance::ALWAYS)
            .decide(&mut b);
        assert_eq!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn lossy_adds_jitter_only_when_faulty() {
        assert_eq!(FaultProfile::lossy(0.0, 0.0, 0.0), FaultProfile::ideal());
        let p = FaultProfile::lossy(20.0, 5.0, 5.0);
        assert_eq!(p.loss, Chance::percent(20.0));
        assert_eq!(p.duplicate, Chance::percent(5.0));
        assert_eq!(p.reorder, Chance::percent(5.0));
        assert_eq!(p.jitter, Duration::from_millis(5));
    }

    #[test]
    fn window_is_half_open() {
        let w = Window::starting_at(Instant::from_millis(10), Duration::from_millis(5));
        assert!(!w.contains(Instant::from_millis(9)));
        assert!(w.contains(Instant::from_millis(10)));
        assert!(w.contains(Instant::from_micros(14_999)));
        assert!(!w.contains(Instant::from_millis(15)));
    }
}
