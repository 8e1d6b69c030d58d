//! Call audio on Linux: where outgoing samples come from (a WAV file, a tone
//! or silence), RTP packets of G.711 carrying them, and a recorder that
//! turns received packets back into a WAV file.
//!
//! The RTP header itself is the core's ([`handset_core::media::RtpHeader`],
//! [`handset_core::media::RtpPacket`]); the core's media stream decides when
//! a packet leaves and with which header, this module fills in the samples.

use bytes::{BufMut, BytesMut};
pub use handset_core::media::{RtpError, RtpHeader, RtpPacket, RTP_HEADER_LEN};

use crate::g711::G711;
use crate::tone::Tone;

/// Samples in one 20 ms G.711 frame at 8 kHz (RFC 3551 §4.5: default
/// packetisation interval 20 ms).
pub const FRAME_SAMPLES: usize = 160;

/// Appends one G.711 RTP packet to `out` (cleared first): `header`, then
/// `pcm` encoded with `codec`. The header's payload type is the caller's
/// (from the core's `SendRtp`, normally `codec.payload_type()`).
pub fn write_g711_packet(header: &RtpHeader, codec: G711, pcm: &[i16], out: &mut BytesMut) {
    out.clear();
    out.resize(RTP_HEADER_LEN, 0);
    // The buffer was just sized to the header: writing cannot fail.
    let _ = header.write(&mut out[..]);
    out.reserve(pcm.len());
    for &s in pcm {
        out.put_u8(codec.encode_sample(s));
    }
}

/// Where outgoing audio comes from.
#[derive(Clone, Debug)]
pub enum AudioSource {
    /// Samples of a WAV file, played once; silence after the end.
    Samples {
        /// The samples.
        samples: Vec<i16>,
        /// The next one to play.
        position: usize,
    },
    /// A continuous tone.
    Tone(Tone),
    /// Nothing but silence.
    Silence,
}

impl AudioSource {
    /// Plays these samples (e.g. from [`crate::wav::read_wav`]).
    pub fn samples(samples: Vec<i16>) -> AudioSource {
        AudioSource::Samples {
            samples,
            position: 0,
        }
    }

    /// A sine tone at 8 kHz.
    pub fn tone(freq_hz: f64, amplitude: i16) -> AudioSource {
        AudioSource::Tone(Tone::new(freq_hz, amplitude, crate::wav::SAMPLE_RATE))
    }

    /// Fills `frame` with the next samples.
    pub fn fill(&mut self, frame: &mut [i16]) {
        match self {
            AudioSource::Samples { samples, position } => {
                let rest = samples.get(*position..).unwrap_or(&[]);
                let n = rest.len().min(frame.len());
                frame[..n].copy_from_slice(&rest[..n]);
                frame[n..].fill(0);
                *position += n;
            }
            AudioSource::Tone(t) => t.fill(frame),
            AudioSource::Silence => frame.fill(0),
        }
    }

    /// Whether a played file has ended (tones and silence never end).
    pub fn is_finished(&self) -> bool {
        match self {
            AudioSource::Samples { samples, position } => *position >= samples.len(),
            AudioSource::Tone(_) | AudioSource::Silence => false,
        }
    }
}

/// Turns 20 ms frames of PCM into RTP packets of one G.711 stream, keeping
/// sequence number and timestamp itself (for tools and tests; in a call the
/// core's media stream supplies the headers).
#[derive(Clone, Debug)]
pub struct RtpSender {
    codec: G711,
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
    first: bool,
}

impl RtpSender {
    /// A stream with the given SSRC and random-looking initial sequence
    /// number and timestamp (RFC 3550 §5.1: both SHOULD be random; the
    /// caller draws them from its seeded source).
    pub fn new(codec: G711, ssrc: u32, sequence: u16, timestamp: u32) -> RtpSender {
        RtpSender {
            codec,
            ssrc,
            sequence,
            timestamp,
            first: true,
        }
    }

    /// The codec.
    pub fn codec(&self) -> G711 {
        self.codec
    }

    /// Appends one packet carrying `pcm` to `out` (cleared first) and
    /// advances sequence number and timestamp.
    pub fn packet(&mut self, pcm: &[i16], out: &mut BytesMut) {
        let header = RtpHeader {
            payload_type: self.codec.payload_type(),
            marker: self.first,
            sequence: self.sequence,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
        };
        write_g711_packet(&header, self.codec, pcm, out);
        self.first = false;
        self.sequence = self.sequence.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(pcm.len() as u32);
    }
}

/// Most silence a recorder inserts for one gap in the timestamps (1 s):
/// a larger jump is a new talkspurt or a restarted sender, not loss.
const MAX_GAP_SAMPLES: u32 = 8_000;

/// Decodes received G.711 packets of one stream into PCM in timestamp
/// order: lost packets become silence, late and duplicate ones are dropped.
#[derive(Clone, Debug, Default)]
pub struct RtpReceiver {
    ssrc: Option<u32>,
    /// Timestamp of the next expected sample.
    next_timestamp: u32,
    received: u64,
    dropped: u64,
}

/// What [`RtpReceiver::receive`] did with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// Decoded: this many samples were appended (silence for a gap included).
    Samples(usize),
    /// Not G.711, from another source, or older than what was played.
    Dropped,
}

impl RtpReceiver {
    /// A receiver that locks onto the first stream it hears.
    pub fn new() -> RtpReceiver {
        RtpReceiver::default()
    }

    /// Decodes one packet, appending to `out`.
    pub fn receive(&mut self, packet: &[u8], out: &mut Vec<i16>) -> Result<Received, RtpError> {
        let RtpPacket {
            header: h, payload, ..
        } = RtpPacket::parse(packet)?;
        let Some(codec) = G711::from_payload_type(h.payload_type) else {
            self.dropped += 1;
            return Ok(Received::Dropped);
        };
        let before = out.len();
        match self.ssrc {
            None => self.ssrc = Some(h.ssrc),
            Some(s) if s != h.ssrc => {
                self.dropped += 1;
                return Ok(Received::Dropped);
            }
            Some(_) => {
                // Serial-number arithmetic on the 32-bit timestamp (RFC 3550 §5.1).
                let ahead = h.timestamp.wrapping_sub(self.next_timestamp);
                if ahead > u32::MAX / 2 {
                    self.dropped += 1;
                    return Ok(Received::Dropped);
                }
                if ahead <= MAX_GAP_SAMPLES {
                    out.resize(out.len() + ahead as usize, 0);
                }
            }
        }
        codec.decode(payload, out);
        self.next_timestamp = h.timestamp.wrapping_add(payload.len() as u32);
        self.received += 1;
        Ok(Received::Samples(out.len() - before))
    }

    /// Packets decoded so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Packets dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::analyse;

    #[test]
    fn packets_carry_the_header_and_encoded_samples() {
        let mut b = BytesMut::from(&b"stale"[..]);
        let header = RtpHeader {
            payload_type: 8,
            marker: true,
            sequence: 0x1234,
            timestamp: 0xDEAD_BEEF,
            ssrc: 0x0102_0304,
        };
        write_g711_packet(&header, G711::Alaw, &[0, 1000], &mut b);
        assert_eq!(
            &b[..],
            &[0x80, 0x88, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3, 4, 0xD5, 0xFA]
        );
        let p = RtpPacket::parse(&b).unwrap();
        assert_eq!(p.header, header);
        assert_eq!(p.payload, &[0xD5, 0xFA]);
    }

    #[test]
    fn malformed_packets_are_errors_not_audio() {
        let mut rx = RtpReceiver::new();
        let mut pcm = Vec::new();
        assert_eq!(rx.receive(&[0x80; 11], &mut pcm), Err(RtpError::TooShort));
        assert_eq!(rx.receive(&[0x40; 12], &mut pcm), Err(RtpError::BadVersion));
        assert!(pcm.is_empty());
    }

    #[test]
    fn sender_and_receiver_carry_a_tone() {
        for codec in [G711::Ulaw, G711::Alaw] {
            let mut src = AudioSource::tone(1000.0, 8000);
            let mut tx = RtpSender::new(codec, 0x5150, 65_530, u32::MAX - 100);
            let mut rx = RtpReceiver::new();
            let mut frame = [0i16; FRAME_SAMPLES];
            let mut pkt = BytesMut::new();
            let mut pcm = Vec::new();
            for i in 0..50 {
                src.fill(&mut frame);
                tx.packet(&frame, &mut pkt);
                assert_eq!(pkt.len(), RTP_HEADER_LEN + FRAME_SAMPLES);
                let h = RtpPacket::parse(&pkt).unwrap().header;
                assert_eq!(h.marker, i == 0);
                assert_eq!(h.sequence, 65_530u16.wrapping_add(i));
                assert_eq!(
                    rx.receive(&pkt, &mut pcm).unwrap(),
                    Received::Samples(FRAME_SAMPLES)
                );
            }
            assert_eq!(pcm.len(), 50 * FRAME_SAMPLES);
            let r = analyse(&pcm, 8000);
            assert!(r.is_tone(1000.0, 2.0, 4000.0), "{codec:?} {r:?}");
        }
    }

    #[test]
    fn receiver_fills_gaps_and_drops_late_and_foreign_packets() {
        let mut tx = RtpSender::new(G711::Ulaw, 1, 0, 0);
        let mut rx = RtpReceiver::new();
        let frame = [1000i16; FRAME_SAMPLES];
        let mut pkts = Vec::new();
        for _ in 0..4 {
            let mut b = BytesMut::new();
            tx.packet(&frame, &mut b);
            pkts.push(b);
        }
        let mut pcm = Vec::new();
        rx.receive(&pkts[0], &mut pcm).unwrap();
        // packet 1 lost: 160 samples of silence before packet 2
        assert_eq!(
            rx.receive(&pkts[2], &mut pcm).unwrap(),
            Received::Samples(2 * FRAME_SAMPLES)
        );
        assert_eq!(pcm[FRAME_SAMPLES..2 * FRAME_SAMPLES], [0; FRAME_SAMPLES]);
        assert_eq!(pcm[2 * FRAME_SAMPLES], 988);
        // packet 1 arrives late, packet 2 again: both dropped
        assert_eq!(rx.receive(&pkts[1], &mut pcm).unwrap(), Received::Dropped);
        assert_eq!(rx.receive(&pkts[2], &mut pcm).unwrap(), Received::Dropped);
        // another SSRC, and a non-G.711 payload type
        let mut other = BytesMut::new();
        RtpSender::new(G711::Ulaw, 2, 0, 480).packet(&frame, &mut other);
        assert_eq!(rx.receive(&other, &mut pcm).unwrap(), Received::Dropped);
        let mut dtmf = BytesMut::new();
        let event = RtpHeader {
            payload_type: 101,
            marker: false,
            sequence: 3,
            timestamp: 480,
            ssrc: 1,
        };
        write_g711_packet(&event, G711::Ulaw, &[0; 4], &mut dtmf);
        assert_eq!(rx.receive(&dtmf, &mut pcm).unwrap(), Received::Dropped);
        assert_eq!(
            rx.receive(&pkts[3], &mut pcm).unwrap(),
            Received::Samples(FRAME_SAMPLES)
        );
        assert_eq!((rx.received(), rx.dropped()), (3, 4));
        assert_eq!(pcm.len(), 4 * FRAME_SAMPLES);
    }

    #[test]
    fn a_file_source_ends_with_silence() {
        let mut src = AudioSource::samples(vec![5; 200]);
        let mut frame = [9i16; FRAME_SAMPLES];
        src.fill(&mut frame);
        assert!(!src.is_finished());
        src.fill(&mut frame);
        assert_eq!(frame[..40], [5; 40]);
        assert_eq!(frame[40..], [0; 120]);
        assert!(src.is_finished());
        src.fill(&mut frame);
        assert_eq!(frame, [0; FRAME_SAMPLES]);
        let mut s = AudioSource::Silence;
        s.fill(&mut frame);
        assert!(!s.is_finished());
    }
}
