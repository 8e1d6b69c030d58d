//! Receive statistics for the one remote source of a call: sequence
//! validation and the extended highest sequence number (RFC 3550 A.1),
//! expected and lost packets (A.3), interarrival jitter (A.8), and the
//! LSR/DLSR pair taken from the source's sender reports (§6.4.1).

use super::rtcp_packet::ReceptionReport;
use super::rtp_clock::media_units;
use crate::time::{Duration, Instant};

/// RFC 3550 A.1: a larger forward jump is a restart or a stray packet.
const MAX_DROPOUT: u16 = 3000;
/// RFC 3550 A.1: a larger backward jump is not a late packet.
const MAX_MISORDER: u16 = 100;
/// RFC 3550 A.1: packets in sequence before a source counts as valid.
const MIN_SEQUENTIAL: u8 = 2;
/// One sequence-number cycle.
const SEQ_MOD: u32 = 1 << 16;

/// The per-source state of RFC 3550 A.1 plus the A.8 jitter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Source {
    ssrc: u32,
    max_seq: u16,
    /// Shifted count of sequence-number cycles (multiples of 2^16).
    cycles: u32,
    base_seq: u32,
    /// Last "bad" sequence number plus one; SEQ_MOD + 1 when none.
    bad_seq: u32,
    probation: u8,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    /// Relative transit time of the previous packet, in timestamp units.
    transit: Option<u32>,
    /// Jitter scaled by 16, as RFC 3550 A.8 keeps it.
    jitter_x16: u32,
}

impl Source {
    fn new(ssrc: u32, seq: u16) -> Self {
        let mut s = Source {
            ssrc,
            max_seq: 0,
            cycles: 0,
            base_seq: 0,
            bad_seq: 0,
            probation: MIN_SEQUENTIAL,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            transit: None,
            jitter_x16: 0,
        };
        s.init_seq(seq);
        s.max_seq = seq.wrapping_sub(1);
        s
    }

    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.bad_seq = SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    fn valid(&self) -> bool {
        self.probation == 0
    }

    /// RFC 3550 A.1 `update_seq`: whether the packet counts.
    fn update_seq(&mut self, seq: u16) -> bool {
        let udelta = seq.wrapping_sub(self.max_seq);
        if self.probation > 0 {
            // Still on probation: accept only strictly sequential packets.
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init_seq(seq);
                    self.received += 1;
                    return true;
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
            }
            return false;
        } else if udelta < MAX_DROPOUT {
            // In order, with a permissible gap.
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(SEQ_MOD);
            }
            self.max_seq = seq;
        } else if u32::from(udelta) <= SEQ_MOD - u32::from(MAX_MISORDER) {
            // A very large jump: a restart if the next packet follows it.
            if u32::from(seq) == self.bad_seq {
                self.init_seq(seq);
            } else {
                self.bad_seq = (u32::from(seq) + 1) & (SEQ_MOD - 1);
                return false;
            }
        }
        // Otherwise a duplicate or a reordered packet: counted as received.
        self.received = self.received.wrapping_add(1);
        true
    }

    /// RFC 3550 A.8: J += (|D| − J) / 16, kept as 16 × J in integers.
    fn update_jitter(&mut self, timestamp: u32, arrival_units: u32) {
        let transit = arrival_units.wrapping_sub(timestamp);
        if let Some(prev) = self.transit {
            let d = i64::from((transit.wrapping_sub(prev) as i32).unsigned_abs());
            let j = i64::from(self.jitter_x16);
            let next = j + d - ((j + 8) >> 4);
            self.jitter_x16 = next.clamp(0, i64::from(u32::MAX)) as u32;
        }
        self.transit = Some(transit);
    }

    fn extended_max(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    fn expected(&self) -> u32 {
        self.extended_max()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1)
    }
}

/// RFC 3550 A.3: cumulative loss is a 24-bit signed field; clamp rather
/// than wrap so a huge loss never reads as a gain.
pub fn clamp_cumulative_lost(lost: i64) -> i32 {
    lost.clamp(-0x80_0000, 0x7f_ffff) as i32
}

/// The last sender report heard from the remote source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LastSr {
    ssrc: u32,
    /// Middle 32 bits of its NTP timestamp.
    lsr: u32,
    arrival: Instant,
}

/// What a receiver knows of the remote source (RFC 3550 A.1, A.3, A.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiveStats {
    clock_rate: u32,
    current: Option<Source>,
    /// A new SSRC on probation; it replaces the current source once it has
    /// sent MIN_SEQUENTIAL packets in order, so one stray packet cannot
    /// reset the statistics of the live source.
    candidate: Option<Source>,
    last_sr: Option<LastSr>,
    packets_seen: u32,
}

impl ReceiveStats {
    /// Statistics for a stream whose timestamps run at `clock_rate` Hz.
    pub fn new(clock_rate: u32) -> Self {
        ReceiveStats {
            clock_rate,
            current: None,
            candidate: None,
            last_sr: None,
            packets_seen: 0,
        }
    }

    /// Takes note of one received RTP packet. `arrival` is converted to
    /// timestamp units for the jitter (RFC 3550 A.8).
    pub fn on_rtp(&mut self, seq: u16, timestamp: u32, ssrc: u32, arrival: Instant) {
        self.packets_seen = self.packets_seen.wrapping_add(1);
        let arrival_units = media_units(arrival - Instant::ZERO, self.clock_rate);
        let is_current = self.current.is_none_or(|c| c.ssrc == ssrc);
        let slot = if is_current {
            self.current.get_or_insert(Source::new(ssrc, seq))
        } else {
            if self.candidate.is_some_and(|c| c.ssrc != ssrc) {
                self.candidate = None;
            }
            self.candidate.get_or_insert(Source::new(ssrc, seq))
        };
        if slot.update_seq(seq) {
            slot.update_jitter(timestamp, arrival_units);
        }
        if let Some(cand) = self.candidate {
            if cand.valid() {
                self.current = Some(cand);
                self.candidate = None;
            }
        }
    }

    /// Takes note of a sender report from `ssrc` whose NTP timestamp is
    /// `ntp_timestamp`, for the LSR/DLSR of the next report.
    pub fn on_sender_report(&mut self, ssrc: u32, ntp_timestamp: u64, arrival: Instant) {
        self.last_sr = Some(LastSr {
            ssrc,
            lsr: (ntp_timestamp >> 16) as u32,
            arrival,
        });
    }

    /// The SSRC of the source being reported on, once it is valid.
    pub fn source(&self) -> Option<u32> {
        self.current.filter(Source::valid).map(|s| s.ssrc)
    }

    /// RTP packets handed in, valid or not.
    pub fn packets_seen(&self) -> u32 {
        self.packets_seen
    }

    /// Packets counted as received from the valid source (A.1).
    pub fn received(&self) -> u32 {
        self.valid_source().map_or(0, |s| s.received)
    }

    /// Packets expected from the valid source (A.3).
    pub fn expected(&self) -> u32 {
        self.valid_source().map_or(0, Source::expected)
    }

    /// The extended highest sequence number received (A.1).
    pub fn extended_highest_seq(&self) -> u32 {
        self.valid_source().map_or(0, Source::extended_max)
    }

    /// Packets lost since reception began, clamped to 24-bit signed (A.3).
    pub fn cumulative_lost(&self) -> i32 {
        self.valid_source().map_or(0, |s| {
            clamp_cumulative_lost(i64::from(s.expected()) - i64::from(s.received))
        })
    }

    /// Interarrival jitter in timestamp units, as reported (A.8: J / 16).
    pub fn jitter(&self) -> u32 {
        self.valid_source().map_or(0, |s| s.jitter_x16 >> 4)
    }

    /// Interarrival jitter scaled by 16, the form A.8 keeps.
    pub fn jitter_scaled(&self) -> u32 {
        self.valid_source().map_or(0, |s| s.jitter_x16)
    }

    fn valid_source(&self) -> Option<&Source> {
        self.current.as_ref().filter(|s| s.valid())
    }

    /// The report block about the source as of `now`, and the start of a
    /// new reporting interval for the fraction lost (A.3). `None` until a
    /// valid source has been heard.
    pub fn report_block(&mut self, now: Instant) -> Option<ReceptionReport> {
        let s = self.current.as_mut().filter(|s| s.valid())?;
        let expected = s.expected();
        let expected_interval = expected.wrapping_sub(s.expected_prior);
        let received_interval = s.received.wrapping_sub(s.received_prior);
        s.expected_prior = expected;
        s.received_prior = s.received;
        let lost_interval = i64::from(expected_interval) - i64::from(received_interval);
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / i64::from(expected_interval)).min(255) as u8
        };
        let (last_sr, delay_since_last_sr) = match self.last_sr {
            Some(sr) if sr.ssrc == s.ssrc => (sr.lsr, dlsr_units(now - sr.arrival)),
            _ => (0, 0),
        };
        Some(ReceptionReport {
            ssrc: s.ssrc,
            fraction_lost,
            cumulative_lost: clamp_cumulative_lost(i64::from(expected) - i64::from(s.received)),
            extended_highest_seq: s.extended_max(),
            jitter: s.jitter_x16 >> 4,
            last_sr,
            delay_since_last_sr,
        })
    }
}

/// A delay in the DLSR unit of 1/65536 s (RFC 3550 §6.4.1), saturating.
pub fn dlsr_units(delay: Duration) -> u32 {
    // In 64 bits: a delay too long to multiply is past u32::MAX units anyway.
    let units = delay
        .as_micros()
        .checked_mul(65536)
        .map_or(u64::MAX, |x| x / 1_000_000);
    u32::try_from(units).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probation_needs_two_in_order_packets() {
        let mut s = ReceiveStats::new(8000);
        let t = Instant::from_millis(1);
        s.on_rtp(100, 0, 5, t);
        assert_eq!(s.source(), None);
        assert!(s.report_block(t).is_none());
        s.on_rtp(101, 160, 5, t);
        assert_eq!(s.source(), Some(5));
        assert_eq!((s.received(), s.expected()), (1, 1));
    }

    #[test]
    fn sequence_wrap_extends_the_highest_number() {
        let mut s = ReceiveStats::new(8000);
        for (i, seq) in (65530u16..=65535).chain(0..10).enumerate() {
            s.on_rtp(seq, i as u32 * 160, 1, Instant::from_millis(i as u64 * 20));
        }
        assert_eq!(s.extended_highest_seq(), (1 << 16) + 9);
        assert_eq!(s.cumulative_lost(), 0);
        assert_eq!(s.expected(), s.received());
    }

    #[test]
    fn a_stray_ssrc_does_not_reset_the_live_source() {
        let mut s = ReceiveStats::new(8000);
        for seq in 0..50u16 {
            s.on_rtp(seq, u32::from(seq) * 160, 1, Instant::ZERO);
        }
        s.on_rtp(9000, 0, 2, Instant::ZERO);
        assert_eq!(s.source(), Some(1));
        assert_eq!(s.received(), 49);
        // A new source that keeps sending takes over.
        s.on_rtp(9001, 160, 2, Instant::ZERO);
        assert_eq!(s.source(), Some(2));
        assert_eq!(s.received(), 1);
    }

    #[test]
    fn restart_after_a_big_jump_needs_two_packets() {
        let mut s = ReceiveStats::new(8000);
        for seq in 0..10u16 {
            s.on_rtp(seq, 0, 1, Instant::ZERO);
        }
        s.on_rtp(30_000, 0, 1, Instant::ZERO);
        assert_eq!(s.extended_highest_seq(), 9);
        s.on_rtp(30_001, 0, 1, Instant::ZERO);
        assert_eq!(s.extended_highest_seq(), 30_001);
        assert_eq!((s.expected(), s.received()), (1, 1));
    }

    #[test]
    fn dlsr_counts_in_1_65536_seconds() {
        assert_eq!(dlsr_units(Duration::from_secs(1)), 65536);
        assert_eq!(dlsr_units(Duration::from_millis(500)), 32768);
        assert_eq!(dlsr_units(Duration::from_secs(1 << 20)), u32::MAX);
    }
}
