//! One call's media on sockets: the RTP and RTCP sockets bound where the
//! core's `StartStream` says, G.711 frames filled from the call's audio
//! source when the core says `SendRtp`, telephone events and RTCP reports
//! written as the core dictates, and received packets decoded into a
//! recording and handed back to the core for its statistics.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BytesMut;
use handset_core::media::{DtmfPayload, MediaInput, RtcpReport, RtpHeader, RtpPacket};
use handset_core::time::Instant;
use mio::net::UdpSocket;

use crate::audio::{write_g711_packet, AudioSource, RtpReceiver};
use crate::g711::G711;
use crate::tone::Tone;
use crate::wav::SAMPLE_RATE;

/// Largest RTP or RTCP datagram read; longer ones are cut (and then
/// rejected by the parsers if that breaks them).
pub const MAX_MEDIA_DATAGRAM: usize = 2048;

/// What a call's outgoing audio is made of.
#[derive(Clone, Debug)]
pub enum SourceSpec {
    /// Samples of a WAV file (8 kHz mono), played once, then silence.
    File(Arc<Vec<i16>>),
    /// A continuous tone of this frequency in Hz.
    Tone(f64),
    /// Silence.
    Silence,
}

impl SourceSpec {
    /// A fresh source for one call.
    pub fn open(&self) -> AudioSource {
        match self {
            SourceSpec::File(s) => AudioSource::samples(s.as_ref().clone()),
            SourceSpec::Tone(hz) => AudioSource::Tone(Tone::new(*hz, 8000, SAMPLE_RATE)),
            SourceSpec::Silence => AudioSource::Silence,
        }
    }
}

/// Where one call's stream is and what it does with sound.
#[derive(Debug)]
pub struct StreamSetup {
    /// Local RTP address (RTCP one port above).
    pub local: SocketAddr,
    /// The peer's RTP address (RTCP one port above).
    pub remote: SocketAddr,
    /// Samples per packet.
    pub frame_samples: usize,
    /// The negotiated telephone-event payload type.
    pub dtmf_payload_type: Option<u8>,
    /// Outgoing audio.
    pub source: AudioSource,
    /// The RTCP CNAME (`user@host`).
    pub cname: String,
    /// This stream's SSRC, drawn by the core.
    pub ssrc: u32,
}

/// What a received media datagram was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaArrival {
    /// An RTP packet: its header for the core.
    Rtp {
        /// Sequence number.
        seq: u16,
        /// Timestamp.
        timestamp: u32,
        /// SSRC.
        ssrc: u32,
        /// The digit whose telephone event this packet ends (reported once
        /// per event).
        dtmf_end: Option<char>,
    },
    /// Not RTP (dropped).
    Garbage,
}

/// The digit of an RFC 4733 DTMF event code.
pub fn dtmf_digit(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// A live call stream.
#[derive(Debug)]
pub struct CallMedia {
    rtp: UdpSocket,
    rtcp: Option<UdpSocket>,
    setup: StreamSetup,
    frame: Vec<i16>,
    packet: BytesMut,
    receiver: RtpReceiver,
    recording: Vec<i16>,
    last_dtmf: Option<u32>,
    sent: u64,
    send_errors: u64,
}

impl CallMedia {
    /// Binds the RTP socket (and the RTCP one above it, if free).
    pub fn open(setup: StreamSetup) -> io::Result<CallMedia> {
        let rtp = UdpSocket::bind(setup.local)?;
        let rtcp_addr = SocketAddr::new(setup.local.ip(), setup.local.port().wrapping_add(1));
        let rtcp = match UdpSocket::bind(rtcp_addr) {
            Ok(s) => Some(s),
            Err(e) => {
                log::warn!("RTCP socket {rtcp_addr}: {e}; no RTCP for this call");
                None
            }
        };
        Ok(CallMedia {
            rtp,
            rtcp,
            frame: vec![0; setup.frame_samples],
            setup,
            packet: BytesMut::with_capacity(MAX_MEDIA_DATAGRAM),
            receiver: RtpReceiver::new(),
            recording: Vec::new(),
            last_dtmf: None,
            sent: 0,
            send_errors: 0,
        })
    }

    /// The RTP socket, for the poller.
    pub fn rtp_socket(&mut self) -> &mut UdpSocket {
        &mut self.rtp
    }

    /// The RTCP socket, for the poller.
    pub fn rtcp_socket(&mut self) -> Option<&mut UdpSocket> {
        self.rtcp.as_mut()
    }

    /// The setup.
    pub fn setup(&self) -> &StreamSetup {
        &self.setup
    }

    /// Audio packets sent so far.
    pub fn packets_sent(&self) -> u64 {
        self.sent
    }

    /// Samples recorded so far.
    pub fn recorded(&self) -> &[i16] {
        &self.recording
    }

    fn send(&mut self, to: SocketAddr) {
        if let Err(e) = self.rtp.send_to(&self.packet, to) {
            self.send_errors += 1;
            // Only the first: a peer that went away fails every 20 ms.
            if self.send_errors == 1 {
                log::warn!("RTP to {to}: {e}");
            }
        }
    }

    /// Sends one audio packet with the core's header fields.
    pub fn send_audio(&mut self, seq: u16, timestamp: u32, marker: bool, payload_type: u8) {
        let Some(codec) = G711::from_payload_type(payload_type) else {
            // The policy only offers G.711; anything else is a core bug
            // not worth a panic.
            log::warn!("no encoder for payload type {payload_type}");
            return;
        };
        self.setup.source.fill(&mut self.frame);
        let header = RtpHeader {
            payload_type,
            marker,
            sequence: seq,
            timestamp,
            ssrc: self.ssrc(),
        };
        write_g711_packet(&header, codec, &self.frame, &mut self.packet);
        self.sent += 1;
        self.send(self.setup.remote);
    }

    fn ssrc(&self) -> u32 {
        self.setup.ssrc
    }

    /// Sends one telephone-event packet.
    pub fn send_dtmf(
        &mut self,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload_type: u8,
        payload: DtmfPayload,
    ) {
        let header = RtpHeader {
            payload_type,
            marker,
            sequence: seq,
            timestamp,
            ssrc: self.ssrc(),
        };
        let mut buf = [0u8; 16];
        let mut body = [0u8; DtmfPayload::LEN];
        if payload.write(&mut body).is_ok() {
            if let Ok(n) = header.write_packet(&body, &mut buf) {
                self.packet.clear();
                self.packet.extend_from_slice(&buf[..n]);
                self.send(self.setup.remote);
            }
        }
    }

    /// Sends an RTCP report (with SDES CNAME) to the port above the peer's RTP.
    pub fn send_rtcp(&mut self, report: &RtcpReport) {
        let to = SocketAddr::new(
            self.setup.remote.ip(),
            self.setup.remote.port().wrapping_add(1),
        );
        let mut buf = [0u8; 512];
        let Ok(n) = report.write_compound(self.setup.cname.as_bytes(), &mut buf) else {
            return;
        };
        if let Some(s) = &self.rtcp {
            if let Err(e) = s.send_to(&buf[..n], to) {
                log::debug!("RTCP to {to}: {e}");
            }
        }
    }

    /// Reads every waiting RTP datagram; `each` gets what it was.
    pub fn drain_rtp(&mut self, mut each: impl FnMut(MediaArrival)) {
        let mut buf = [0u8; MAX_MEDIA_DATAGRAM];
        loop {
            let n = match self.rtp.recv_from(&mut buf) {
                Ok((n, _)) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // ICMP port unreachable from a peer that closed its
                    // socket shows up here; the call goes on.
                    log::debug!("RTP receive: {e}");
                    continue;
                }
            };
            each(self.on_rtp(&buf[..n]));
        }
    }

    fn on_rtp(&mut self, data: &[u8]) -> MediaArrival {
        let Ok(p) = RtpPacket::parse(data) else {
            log::debug!("dropped a {}-byte datagram on the RTP port", data.len());
            return MediaArrival::Garbage;
        };
        let h = p.header;
        let mut dtmf_end = None;
        if Some(h.payload_type) == self.setup.dtmf_payload_type {
            if let Ok(ev) = DtmfPayload::parse(p.payload) {
                // RFC 4733 §2.5.1.4: the end packet is sent three times;
                // one event is one timestamp.
                if ev.end && self.last_dtmf != Some(h.timestamp) {
                    self.last_dtmf = Some(h.timestamp);
                    dtmf_end = dtmf_digit(ev.event);
                }
            }
        } else if let Err(e) = self.receiver.receive(data, &mut self.recording) {
            log::debug!("RTP packet not decoded: {e:?}");
        }
        MediaArrival::Rtp {
            seq: h.sequence,
            timestamp: h.timestamp,
            ssrc: h.ssrc,
            dtmf_end,
        }
    }

    /// Reads every waiting RTCP datagram and hands each to `each`.
    pub fn drain_rtcp(&mut self, mut each: impl FnMut(&[u8])) {
        let Some(sock) = &self.rtcp else { return };
        let mut buf = [0u8; MAX_MEDIA_DATAGRAM];
        loop {
            match sock.recv_from(&mut buf) {
                Ok((n, _)) => each(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => log::debug!("RTCP receive: {e}"),
            }
        }
    }

    /// Ends the stream, handing over the audio it received.
    pub fn finish(self) -> Vec<i16> {
        self.recording
    }
}

/// The core input for a received RTP packet.
pub fn rtp_input(arrival: MediaArrival, now: Instant) -> Option<MediaInput<'static>> {
    match arrival {
        MediaArrival::Rtp {
            seq,
            timestamp,
            ssrc,
            ..
        } => Some(MediaInput::RtpReceived {
            seq,
            timestamp,
            ssrc,
            arrival: now,
        }),
        MediaArrival::Garbage => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtmf_codes_map_to_digits() {
        assert_eq!(dtmf_digit(0), Some('0'));
        assert_eq!(dtmf_digit(9), Some('9'));
        assert_eq!(dtmf_digit(10), Some('*'));
        assert_eq!(dtmf_digit(11), Some('#'));
        assert_eq!(dtmf_digit(15), Some('D'));
        assert_eq!(dtmf_digit(16), None);
    }
}
