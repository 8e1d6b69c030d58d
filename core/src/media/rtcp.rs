//! When to send RTCP: the interval of RFC 3550 §6.3 and A.7 with timer
//! reconsideration, in integer microseconds so every platform computes the
//! same schedule from the same seed.

use crate::rng::Rng;
use crate::time::{Duration, Instant};

/// RFC 3550 §6.2: the minimum report interval.
pub const RTCP_MIN_INTERVAL: Duration = Duration::from_secs(5);
/// RFC 3550 §6.2: the first report may go after half the minimum.
pub const RTCP_INITIAL_MIN_INTERVAL: Duration = Duration::from_millis(2500);
/// RFC 3550 §6.3.1: `e − 3/2`, the compensation for timer reconsideration
/// converging below the intended bandwidth, in parts per 10^9.
const COMPENSATION_PPB: u64 = 1_218_281_828;

/// The 64-bit NTP-format timestamp of `t` (RFC 3550 §4): seconds since the
/// caller's clock origin in the high word, the fraction in the low word.
/// The core has no wall clock; §4 lets a sender without one use elapsed
/// time, and LSR/DLSR round trips only need this phone's own consistency.
pub fn ntp_timestamp(t: Instant) -> u64 {
    let us = t.as_micros();
    let secs = us / 1_000_000;
    let frac = ((us % 1_000_000) << 32) / 1_000_000;
    (secs << 32) | frac
}

/// What the interval depends on, besides the bandwidth and packet sizes
/// (RFC 3550 §6.3: members, senders, whether this participant sent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionView {
    /// Participants in the session, this one included.
    pub members: u32,
    /// Participants that sent RTP in the last two report intervals.
    pub senders: u32,
    /// Whether this participant is one of them.
    pub we_sent: bool,
}

/// The RTCP transmission timer of one participant (RFC 3550 §6.3, A.7).
#[derive(Clone, Debug)]
pub struct RtcpTimer {
    /// RTCP bandwidth in octets per second (5 % of the session, §6.2).
    bandwidth: u32,
    /// `avg_rtcp_size` × 16, in octets including UDP and IP headers.
    avg_size_x16: u64,
    /// Time of the last transmission, `tp`.
    last_sent: Instant,
    /// Next scheduled check, `tn`.
    next: Instant,
    /// No report sent yet: the minimum is halved (§6.2).
    initial: bool,
}

impl RtcpTimer {
    /// Starts the timer at `now` (§6.3.2): `tp = now`, `tn = now + T` with
    /// the halved initial minimum. `bandwidth` is the RTCP share in octets
    /// per second; `first_size` the likely size of the first report.
    pub fn new(
        now: Instant,
        bandwidth: u32,
        first_size: usize,
        view: SessionView,
        rng: &mut Rng,
    ) -> Self {
        let mut timer = RtcpTimer {
            bandwidth: bandwidth.max(1),
            avg_size_x16: (first_size as u64).saturating_mul(16),
            last_sent: now,
            next: now,
            initial: true,
        };
        timer.next = now + timer.interval(view, rng);
        timer
    }

    /// When the timer next expires.
    pub fn next_expiry(&self) -> Instant {
        self.next
    }

    /// The average compound RTCP size in octets (§6.3.3).
    pub fn avg_size(&self) -> u64 {
        self.avg_size_x16 / 16
    }

    /// The deterministic interval before randomisation (A.7 up to the
    /// minimum): `avg_size × n / bandwidth`, at least the minimum.
    pub fn deterministic_interval(&self, view: SessionView) -> Duration {
        let min = if self.initial {
            RTCP_INITIAL_MIN_INTERVAL
        } else {
            RTCP_MIN_INTERVAL
        };
        // §6.3.1: when senders are at most a quarter of the members they
        // share 25 % of the bandwidth and receivers the remaining 75 %.
        // Bandwidth is kept in quarters so the split stays integral.
        let mut n = u64::from(view.members.max(1));
        let mut bw_quarters = u64::from(self.bandwidth) * 4;
        if u64::from(view.senders) * 4 <= u64::from(view.members) {
            if view.we_sent {
                bw_quarters = u64::from(self.bandwidth);
                n = u64::from(view.senders.max(1));
            } else {
                bw_quarters = u64::from(self.bandwidth) * 3;
                n = u64::from(view.members.saturating_sub(view.senders).max(1));
            }
        }
        // t = avg_size × n / bw, with avg × 16 and bw × 4 folded in:
        // avg_x16 × n × 4 × 10^6 / (16 × bw_quarters).
        let us = mul_div(self.avg_size_x16.saturating_mul(n), 250_000, bw_quarters);
        let t = Duration::from_micros(us);
        if t < min {
            min
        } else {
            t
        }
    }

    /// The randomised interval (§6.3.1): the deterministic one times a
    /// uniform factor in [0.5, 1.5), divided by `e − 3/2`.
    pub fn interval(&self, view: SessionView, rng: &mut Rng) -> Duration {
        let t = self.deterministic_interval(view).as_micros();
        // (t × r) >> 32 for a 32-bit r, without 128-bit arithmetic:
        // t = hi·2^32 + lo gives hi·r + (lo·r >> 32) exactly.
        let r = u64::from(rng.next_u32());
        let scaled = (t >> 32)
            .saturating_mul(r)
            .saturating_add(((t & 0xffff_ffff) * r) >> 32);
        let randomised = (t / 2).saturating_add(scaled);
        Duration::from_micros(mul_div(randomised, 1_000_000_000, COMPENSATION_PPB))
    }

    /// The timer has expired at `now` (A.7 `OnExpire`, §6.3.6): with the
    /// interval recomputed from the current state, send if `tp + T` has
    /// passed, then schedule the next check. Returns whether to send.
    pub fn on_expire(&mut self, now: Instant, view: SessionView, rng: &mut Rng) -> bool {
        // §6.3.3 timer reconsideration: the state may have changed since
        // the timer was set, so the interval is recomputed before sending.
        let t = self.interval(view, rng);
        let due = self.last_sent + t;
        if due > now {
            self.next = due;
            return false;
        }
        self.last_sent = now;
        self.initial = false;
        self.next = now + self.interval(view, rng);
        true
    }

    /// A compound packet of `size` octets (with UDP/IP headers) was sent or
    /// received: `avg = size/16 + 15/16 × avg` (§6.3.3).
    pub fn on_packet(&mut self, size: usize) {
        let size = size as u64;
        self.avg_size_x16 = size.saturating_add(self.avg_size_x16 - self.avg_size_x16 / 16);
    }
}

/// `a × b / c` rounded down, in 64-bit arithmetic (a Cortex-M has no
/// cheap 128-bit division): exact while the result fits, saturating beyond.
/// With `a = q·c + r`, `a·b/c = q·b + r·b/c`, and `r·b` stays small for the
/// `b` and `c` used here.
fn mul_div(a: u64, b: u64, c: u64) -> u64 {
    let c = c.max(1);
    let (q, r) = (a / c, a % c);
    let rest = r.checked_mul(b).map_or(u64::MAX, |rb| rb / c);
    q.saturating_mul(b).saturating_add(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_div_matches_128_bit_arithmetic() {
        let mut rng = Rng::new(7);
        for _ in 0..10_000 {
            let a = u64::from(rng.next_u32()) << (rng.next_u32() % 33);
            let b = u64::from(rng.next_u32() % 1_000_000_001);
            let c = u64::from(rng.next_u32()).max(1) << (rng.next_u32() % 3);
            let wide = u128::from(a) * u128::from(b) / u128::from(c);
            let want = u64::try_from(wide).unwrap_or(u64::MAX);
            if u128::from(a % c) * u128::from(b) <= u128::from(u64::MAX) {
                assert_eq!(mul_div(a, b, c), want, "{a} {b} {c}");
            }
        }
    }

    const TWO_PARTY: SessionView = SessionView {
        members: 2,
        senders: 2,
        we_sent: true,
    };

    #[test]
    fn deterministic_interval_follows_the_formula_above_the_minimum() {
        let mut rng = Rng::new(1);
        // 500 octets/s: 5 % of an 80 kbit/s G.711 session at 20 ms.
        let mut timer = RtcpTimer::new(Instant::ZERO, 500, 100, TWO_PARTY, &mut rng);
        assert_eq!(
            timer.deterministic_interval(TWO_PARTY),
            RTCP_INITIAL_MIN_INTERVAL
        );
        timer.initial = false;
        assert_eq!(timer.deterministic_interval(TWO_PARTY), RTCP_MIN_INTERVAL);
        // 2000-octet reports from two members: 2000 × 2 / 500 = 8 s.
        timer.avg_size_x16 = 2000 * 16;
        assert_eq!(
            timer.deterministic_interval(TWO_PARTY),
            Duration::from_secs(8)
        );
        // No sender: receivers share 75 %: 2000 × 2 / 375 = 10.666 s.
        let quiet = SessionView {
            members: 2,
            senders: 0,
            we_sent: false,
        };
        assert_eq!(
            timer.deterministic_interval(quiet),
            Duration::from_micros(10_666_666)
        );
    }

    #[test]
    fn average_size_moves_by_a_sixteenth() {
        let mut rng = Rng::new(1);
        let mut timer = RtcpTimer::new(Instant::ZERO, 500, 100, TWO_PARTY, &mut rng);
        timer.on_packet(260);
        assert_eq!(timer.avg_size(), 110);
        for _ in 0..400 {
            timer.on_packet(260);
        }
        assert_eq!(timer.avg_size(), 260);
    }

    #[test]
    fn reconsideration_postpones_when_reports_grew() {
        let mut rng = Rng::new(3);
        let mut timer = RtcpTimer::new(Instant::ZERO, 500, 80, TWO_PARTY, &mut rng);
        let first = timer.next_expiry();
        assert!(first <= Instant::ZERO + Duration::from_micros(3_078_000));
        // The peer's reports turn out to be huge: the interval recomputed at
        // expiry lies beyond now, so nothing is sent and the check moves.
        for _ in 0..64 {
            timer.on_packet(60_000);
        }
        assert!(!timer.on_expire(first, TWO_PARTY, &mut rng));
        let mut check = timer.next_expiry();
        assert!(check > first + Duration::from_secs(60));
        // Each later check recomputes again; one of them sends (A.7).
        let mut sent = false;
        for _ in 0..100 {
            if timer.on_expire(check, TWO_PARTY, &mut rng) {
                sent = true;
                break;
            }
            assert!(timer.next_expiry() > check);
            check = timer.next_expiry();
        }
        assert!(sent);
        assert!(timer.next_expiry() > check);
    }
}
