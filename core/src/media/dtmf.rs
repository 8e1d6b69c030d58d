//! DTMF digits as RTP telephone events (RFC 4733): the 4-octet event
//! payload and the sender's packet schedule for one event after another.
//!
//! An event starts on a tick of the audio grid and takes that tick's
//! timestamp. Its first packet has the marker bit; updates follow every
//! 50 ms with the duration so far, all with the event's timestamp; the
//! final packet (E bit, full duration) is sent three times, 50 ms apart.

use super::rtp_clock::{media_units, RtpClock};
use super::rtp_packet::RtpError;
use crate::time::{Duration, Instant};
use heapless::Deque;

/// RFC 4733 §2.5.1.2: the recommended interval between event updates.
pub const DTMF_UPDATE_INTERVAL: Duration = Duration::from_millis(50);
/// RFC 4733 §2.5.1.4: the final packet is sent three times.
pub const DTMF_END_PACKETS: u8 = 3;
/// Power of the tone as −dBm0 (RFC 4733 §2.3.4): −10 dBm0.
pub const DTMF_VOLUME: u8 = 10;
/// Digits that may wait behind the one being sent.
pub const DTMF_QUEUE_LEN: usize = 8;

/// The RFC 4733 §3.2 event code of a DTMF digit: `0`–`9`, `*` (10),
/// `#` (11), `A`–`D` (12–15, either case).
pub fn dtmf_event_code(digit: char) -> Option<u8> {
    match digit {
        '0'..='9' => Some(digit as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(digit as u8 - b'A' + 12),
        'a'..='d' => Some(digit as u8 - b'a' + 12),
        _ => None,
    }
}

/// The payload of a telephone-event packet (RFC 4733 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DtmfPayload {
    /// The event code (0–15 for DTMF).
    pub event: u8,
    /// The E bit: this packet ends the event.
    pub end: bool,
    /// Tone power as −dBm0, 0–63.
    pub volume: u8,
    /// Duration so far, in timestamp units.
    pub duration: u16,
}

impl DtmfPayload {
    /// Length of the payload on the wire.
    pub const LEN: usize = 4;

    /// Writes the four octets at the start of `buf`.
    pub fn write(&self, buf: &mut [u8]) -> Result<usize, RtpError> {
        let out: &mut [u8; Self::LEN] = buf
            .get_mut(..Self::LEN)
            .and_then(|b| b.try_into().ok())
            .ok_or(RtpError::BufferTooSmall)?;
        out[0] = self.event;
        // The R bit is reserved and sent as zero.
        out[1] = (u8::from(self.end) << 7) | (self.volume & 0x3f);
        out[2..4].copy_from_slice(&self.duration.to_be_bytes());
        Ok(Self::LEN)
    }

    /// Reads the first four octets of a telephone-event payload.
    pub fn parse(data: &[u8]) -> Result<Self, RtpError> {
        let b: &[u8; Self::LEN] = data
            .get(..Self::LEN)
            .and_then(|b| b.try_into().ok())
            .ok_or(RtpError::TooShort)?;
        Ok(DtmfPayload {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3f,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }
}

/// One telephone-event packet due to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DtmfPacket {
    /// When it is due.
    pub at: Instant,
    /// The event's timestamp, shared by all its packets.
    pub timestamp: u32,
    /// Set on the event's first packet.
    pub marker: bool,
    /// The event payload.
    pub payload: DtmfPayload,
    /// This is the event's last packet.
    pub last: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PendingDigit {
    event: u8,
    duration: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ActiveEvent {
    event: u8,
    start_index: u64,
    start_at: Instant,
    timestamp: u32,
    end_at: Instant,
    end_units: u16,
    first_units: u16,
    packets_sent: u32,
    ends_sent: u8,
    next_at: Instant,
}

/// The DTMF side of a sender: the event on the wire and the digits queued
/// behind it.
#[derive(Clone, Debug)]
pub struct DtmfSender {
    clock_rate: u32,
    active: Option<ActiveEvent>,
    queue: Deque<PendingDigit, DTMF_QUEUE_LEN>,
}

impl DtmfSender {
    /// A sender whose events run at `clock_rate` Hz.
    pub fn new(clock_rate: u32) -> Self {
        DtmfSender {
            clock_rate,
            active: None,
            queue: Deque::new(),
        }
    }

    /// Queues a digit; `false` when the queue is full.
    pub fn enqueue(&mut self, event: u8, duration: Duration) -> bool {
        self.queue
            .push_back(PendingDigit { event, duration })
            .is_ok()
    }

    /// Whether an event is on the wire.
    pub fn is_active(&self) -> bool {
        self.active.is_some()
    }

    /// Whether digits wait for the current event to finish.
    pub fn has_queued(&self) -> bool {
        !self.queue.is_empty()
    }

    /// The grid tick the active event took over: audio stops from there.
    pub fn active_start_index(&self) -> Option<u64> {
        self.active.map(|e| e.start_index)
    }

    /// When the next event packet is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.active.map(|e| e.next_at)
    }

    /// Starts the next queued digit on grid tick `index` if no event is on
    /// the wire. Returns whether one started.
    pub fn begin(&mut self, clock: &RtpClock, index: u64) -> bool {
        if self.active.is_some() {
            return false;
        }
        let Some(digit) = self.queue.pop_front() else {
            return false;
        };
        // The duration field is 16 bits; longer tones are cut to the
        // longest one field can express rather than split into segments
        // (RFC 4733 §2.5.1.3), which no keypad produces.
        let longest = Duration::from_micros(
            u64::from(u16::MAX) * 1_000_000 / u64::from(self.clock_rate.max(1)),
        );
        let duration = digit.duration.min(longest);
        let end_units = media_units(duration, self.clock_rate).min(u32::from(u16::MAX)) as u16;
        let update_units = media_units(DTMF_UPDATE_INTERVAL, self.clock_rate);
        // The first packet stands for the audio frame it replaces.
        let first_units = clock.step().min(update_units).min(u32::from(end_units)) as u16;
        let start_at = clock.deadline(index);
        self.active = Some(ActiveEvent {
            event: digit.event,
            start_index: index,
            start_at,
            timestamp: clock.timestamp_of(index),
            end_at: start_at + duration,
            end_units,
            first_units,
            packets_sent: 0,
            ends_sent: 0,
            next_at: start_at,
        });
        true
    }

    /// The next packet of the active event, whether due yet or not; the
    /// caller compares [`DtmfPacket::at`] with its clock first.
    pub fn take_packet(&mut self) -> Option<DtmfPacket> {
        let rate = self.clock_rate;
        let ev = self.active.as_mut()?;
        let at = ev.next_at;
        let marker = ev.packets_sent == 0;
        ev.packets_sent = ev.packets_sent.saturating_add(1);
        let (end, duration) = if at < ev.end_at {
            // RFC 4733 §2.5.1.2: updates carry the duration so far and the
            // event's start timestamp.
            let so_far = if marker {
                ev.first_units
            } else {
                media_units(at - ev.start_at, rate).min(u32::from(ev.end_units)) as u16
            };
            let next =
                ev.start_at + DTMF_UPDATE_INTERVAL.saturating_mul(u64::from(ev.packets_sent));
            ev.next_at = if next < ev.end_at { next } else { ev.end_at };
            (false, so_far)
        } else {
            // RFC 4733 §2.5.1.4: the final packet, three times, one update
            // interval apart, all with the full duration.
            ev.ends_sent += 1;
            ev.next_at = ev.end_at + DTMF_UPDATE_INTERVAL.saturating_mul(u64::from(ev.ends_sent));
            (true, ev.end_units)
        };
        let packet = DtmfPacket {
            at,
            timestamp: ev.timestamp,
            marker,
            payload: DtmfPayload {
                event: ev.event,
                end,
                volume: DTMF_VOLUME,
                duration,
            },
            last: end && ev.ends_sent >= DTMF_END_PACKETS,
        };
        if packet.last {
            self.active = None;
        }
        Some(packet)
    }

    /// Ends the tone at `now` (the call goes on hold): queued digits are
    /// dropped; an event not yet on the wire is dropped; an event on the
    /// wire ends now with its end packets, so the far end stops the tone.
    pub fn cut_short(&mut self, now: Instant) {
        self.queue.clear();
        let rate = self.clock_rate;
        let Some(ev) = self.active.as_mut() else {
            return;
        };
        if ev.packets_sent == 0 {
            self.active = None;
        } else if ev.ends_sent == 0 && now < ev.end_at {
            let so_far = media_units(now - ev.start_at, rate).min(u32::from(ev.end_units)) as u16;
            ev.end_units = so_far.max(ev.first_units);
            ev.end_at = now;
            if ev.next_at > now {
                ev.next_at = now;
            }
        }
    }

    /// Forgets the active event and the queue (the stream stopped).
    pub fn clear(&mut self) {
        self.active = None;
        self.queue.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_map_to_rfc_4733_codes() {
        let codes: [Option<u8>; 6] = ['0', '9', '*', '#', 'A', 'd'].map(dtmf_event_code);
        assert_eq!(
            codes,
            [Some(0), Some(9), Some(10), Some(11), Some(12), Some(15)]
        );
        assert_eq!(dtmf_event_code('E'), None);
        assert_eq!(dtmf_event_code('x'), None);
    }

    #[test]
    fn payload_round_trips() {
        let p = DtmfPayload {
            event: 5,
            end: true,
            volume: 10,
            duration: 1600,
        };
        let mut buf = [0u8; 4];
        p.write(&mut buf).unwrap();
        assert_eq!(buf, [5, 0x8a, 0x06, 0x40]);
        assert_eq!(DtmfPayload::parse(&buf), Ok(p));
        assert_eq!(DtmfPayload::parse(&buf[..3]), Err(RtpError::TooShort));
        assert_eq!(p.write(&mut [0u8; 3]), Err(RtpError::BufferTooSmall));
    }

    #[test]
    fn long_tones_are_capped_at_the_16_bit_duration() {
        let clock = RtpClock::new(Instant::ZERO, 20, 8000, 0, 0).unwrap();
        let mut dtmf = DtmfSender::new(8000);
        assert!(dtmf.enqueue(1, Duration::from_secs(60)));
        assert!(dtmf.begin(&clock, 0));
        let mut last = None;
        while let Some(p) = dtmf.take_packet() {
            last = Some(p);
        }
        assert_eq!(last.unwrap().payload.duration, u16::MAX);
    }

    #[test]
    fn hold_ends_a_tone_early_with_end_packets() {
        let clock = RtpClock::new(Instant::ZERO, 20, 8000, 0, 0).unwrap();
        let mut dtmf = DtmfSender::new(8000);
        assert!(dtmf.enqueue(1, Duration::from_secs(1)));
        assert!(dtmf.enqueue(2, Duration::from_secs(1)));
        dtmf.begin(&clock, 0);
        dtmf.take_packet();
        dtmf.take_packet();
        dtmf.cut_short(Instant::from_millis(70));
        let ends: [DtmfPacket; 3] = core::array::from_fn(|_| dtmf.take_packet().unwrap());
        assert!(ends
            .iter()
            .all(|p| p.payload.end && p.payload.duration == 560));
        assert_eq!(ends[0].at, Instant::from_millis(70));
        assert!(ends[2].last);
        assert!(!dtmf.is_active() && !dtmf.has_queued());
    }
}
