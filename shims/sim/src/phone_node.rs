//! A handset phone as a simulator node: the core's `Phone` driven exactly
//! as a socket loop drives it.
//!
//! With [`PhoneNode::set_carry_media`] the node also does what a phone's
//! media shim does: it writes the RTP and RTCP packets the core asks for,
//! sends them from the call's RTP address to the peer's, and hands the
//! packets arriving on its RTP and RTCP ports back to the core as
//! [`MediaInput`]s. Without it (the default) media outputs are only
//! counted, so the signalling-only flows put nothing but SIP on the wire.

use std::collections::VecDeque;
use std::net::SocketAddr;

use handset_core::media::{
    DtmfPayload, MediaInput, MediaOutput, RtcpReport, RtpHeader, RtpPacket, AUDIO_PAYLOAD_BITRATE,
    RTP_HEADER_LEN,
};
use handset_core::phone::{CallHandle, Command, Config, Event, Input, Output, Phone};
use handset_core::time::{Duration, Instant};

use crate::node::{NodeSetup, SimNode, Transmit};

/// Call slots of a simulated phone.
pub const SIM_CALLS: usize = 4;
/// Transaction slots of a simulated phone.
pub const SIM_TXNS: usize = 16;

/// The phone type every simulated user runs.
pub type SimPhone = Phone<SIM_CALLS, SIM_TXNS>;

/// RTP payload type of PCMU (RFC 3551 §6).
const PT_PCMU: u8 = 0;
/// RTP payload type of PCMA (RFC 3551 §6).
const PT_PCMA: u8 = 8;

/// The open media stream of one call, as the core's `StartStream` told it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaLeg {
    /// The call the stream belongs to.
    pub call: CallHandle,
    /// This phone's RTP address (RTCP on the port above).
    pub local: SocketAddr,
    /// The peer's RTP address (RTCP on the port above).
    pub remote: SocketAddr,
    /// The audio payload type.
    pub payload_type: u8,
    /// This stream's SSRC.
    pub ssrc: u32,
    /// Packet interval.
    pub ptime: Duration,
}

impl MediaLeg {
    /// The local RTCP address (RFC 3550 §11: the RTP port plus one).
    pub fn local_rtcp(&self) -> SocketAddr {
        with_port_above(self.local)
    }

    /// The peer's RTCP address.
    pub fn remote_rtcp(&self) -> SocketAddr {
        with_port_above(self.remote)
    }
}

/// An RTCP report that reached the phone, as it was read off the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceivedReport {
    /// When it arrived.
    pub at: Instant,
    /// The call whose RTCP port it reached.
    pub call: CallHandle,
    /// The report (its first block is about this phone's stream).
    pub report: RtcpReport,
}

/// What the node's media shim carried.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MediaCounters {
    /// RTP packets sent (audio and telephone events).
    pub rtp_sent: u32,
    /// RTP packets received and handed to a call.
    pub rtp_received: u32,
    /// RTCP compound packets sent.
    pub rtcp_sent: u32,
    /// RTCP compound packets received and handed to a call.
    pub rtcp_received: u32,
    /// Datagrams on a media port that matched no open stream or did not
    /// parse (late packets after the call ended, garbage).
    pub dropped: u32,
}

/// A phone on the simulated network, with the events it raised.
#[derive(Debug)]
pub struct PhoneNode {
    /// The phone.
    pub phone: SimPhone,
    /// Every event, with the instant it was raised.
    pub events: Vec<(Instant, Event)>,
    /// Media outputs seen, for flows that look at media timing.
    pub media_outputs: usize,
    /// Every RTCP report received while carrying media, in arrival order.
    pub reports: Vec<ReceivedReport>,
    /// What the media shim carried.
    pub media: MediaCounters,
    carry_media: bool,
    legs: Vec<MediaLeg>,
    cname: String,
    pending: VecDeque<Transmit>,
}

impl PhoneNode {
    /// A phone for `user` in `domain`, bound to the node's address, using
    /// `proxy` as outbound proxy and registrar when given.
    pub fn new(
        setup: &NodeSetup,
        user: &str,
        domain: &str,
        proxy: Option<SocketAddr>,
    ) -> PhoneNode {
        let mut config = Config::new(user, domain, setup.addr).expect("short user and domain");
        config.outbound_proxy = proxy;
        config.registrar = proxy;
        Self::with_config(setup, config)
    }

    /// A phone with a complete configuration.
    pub fn with_config(setup: &NodeSetup, config: Config) -> PhoneNode {
        // RFC 3550 §6.5.1: user@host is the usual CNAME.
        let cname = format!("{}@{}", config.identity.user, setup.addr.ip());
        PhoneNode {
            phone: Phone::new(config, setup.seed),
            events: Vec::new(),
            media_outputs: 0,
            reports: Vec::new(),
            media: MediaCounters::default(),
            carry_media: false,
            legs: Vec::new(),
            cname,
            pending: VecDeque::new(),
        }
    }

    /// Whether the node sends and receives RTP/RTCP for its calls (off by
    /// default).
    pub fn set_carry_media(&mut self, on: bool) {
        self.carry_media = on;
    }

    /// Whether the node carries media.
    pub fn carries_media(&self) -> bool {
        self.carry_media
    }

    /// The open media streams, one per call with media.
    pub fn media_legs(&self) -> &[MediaLeg] {
        &self.legs
    }

    /// Carries out a user command at `now`.
    pub fn command(&mut self, now: Instant, command: Command<'_>) {
        let before = self.events.len();
        let _ = self.phone.handle_input(now, Input::Command(command));
        self.drain();
        self.stamp(now, before);
    }

    /// The most recent call this phone heard of (incoming or placed).
    pub fn last_call(&self) -> Option<CallHandle> {
        self.events.iter().rev().find_map(|(_, e)| match *e {
            Event::IncomingCall(c)
            | Event::Calling(c)
            | Event::Ringing(c)
            | Event::Answered(c)
            | Event::Resumed(c)
            | Event::EarlyMedia(c) => Some(c),
            Event::Held { call, .. } | Event::Ended { call, .. } => Some(call),
            _ => None,
        })
    }

    /// Whether an event matching `pred` was raised.
    pub fn saw(&self, pred: impl Fn(&Event) -> bool) -> bool {
        self.events.iter().any(|(_, e)| pred(e))
    }

    fn drain(&mut self) {
        while let Some(out) = self.phone.poll_output() {
            match out {
                Output::Transmit { from, to, data } => self.pending.push_back(Transmit {
                    from,
                    to,
                    data: data.to_vec(),
                }),
                Output::Event(e) => self.events.push((Instant::ZERO, e)),
                Output::Media { call, output } => {
                    self.media_outputs += 1;
                    if self.carry_media {
                        self.media_output(call, output);
                    }
                }
            }
        }
    }

    /// What a media shim does with one of the core's media outputs.
    fn media_output(&mut self, call: CallHandle, output: MediaOutput) {
        match output {
            MediaOutput::StartStream {
                local,
                remote,
                payload_type,
                ptime,
                ssrc,
                ..
            } => {
                self.legs.retain(|l| l.call != call);
                self.legs.push(MediaLeg {
                    call,
                    local,
                    remote,
                    payload_type,
                    ssrc,
                    ptime,
                });
            }
            MediaOutput::StopStream => self.legs.retain(|l| l.call != call),
            MediaOutput::SendRtp {
                seq,
                timestamp,
                marker,
                payload_type,
                ..
            } => {
                let Some(leg) = self.leg(call) else { return };
                let header = RtpHeader {
                    marker,
                    payload_type,
                    sequence: seq,
                    timestamp,
                    ssrc: leg.ssrc,
                };
                let payload = silence(payload_type, leg.ptime);
                let mut buf = vec![0u8; RTP_HEADER_LEN + payload.len()];
                if let Ok(n) = header.write_packet(&payload, &mut buf) {
                    buf.truncate(n);
                    self.send_media(leg.local, leg.remote, buf);
                    self.media.rtp_sent += 1;
                }
            }
            MediaOutput::SendDtmfEvent {
                seq,
                timestamp,
                marker,
                payload_type,
                event,
                end,
                volume,
                duration,
                ..
            } => {
                let Some(leg) = self.leg(call) else { return };
                let header = RtpHeader {
                    marker,
                    payload_type,
                    sequence: seq,
                    timestamp,
                    ssrc: leg.ssrc,
                };
                let mut payload = [0u8; DtmfPayload::LEN];
                let tone = DtmfPayload {
                    event,
                    end,
                    volume,
                    duration,
                };
                let mut buf = vec![0u8; RTP_HEADER_LEN + DtmfPayload::LEN];
                if tone.write(&mut payload).is_ok()
                    && header.write_packet(&payload, &mut buf).is_ok()
                {
                    self.send_media(leg.local, leg.remote, buf);
                    self.media.rtp_sent += 1;
                }
            }
            MediaOutput::SendRtcp(report) => {
                let Some(leg) = self.leg(call) else { return };
                let mut buf = vec![0u8; 256];
                if let Ok(n) = report.write_compound(self.cname.as_bytes(), &mut buf) {
                    buf.truncate(n);
                    self.send_media(leg.local_rtcp(), leg.remote_rtcp(), buf);
                    self.media.rtcp_sent += 1;
                }
            }
            MediaOutput::TicksSkipped { .. } => {}
        }
    }

    fn leg(&self, call: CallHandle) -> Option<MediaLeg> {
        self.legs.iter().find(|l| l.call == call).copied()
    }

    fn send_media(&mut self, from: SocketAddr, to: SocketAddr, data: Vec<u8>) {
        self.pending.push_back(Transmit { from, to, data });
    }

    /// A datagram that reached one of the media ports: RTP on a stream's
    /// port, RTCP on the port above (RFC 3550 §11).
    fn media_datagram(&mut self, now: Instant, to: SocketAddr, data: &[u8]) {
        let port = to.port();
        if let Some(leg) = self.legs.iter().find(|l| l.local.port() == port).copied() {
            let Ok(packet) = RtpPacket::parse(data) else {
                self.media.dropped += 1;
                return;
            };
            let input = MediaInput::RtpReceived {
                seq: packet.header.sequence,
                timestamp: packet.header.timestamp,
                ssrc: packet.header.ssrc,
                arrival: now,
            };
            self.media.rtp_received += 1;
            let _ = self.phone.handle_input(
                now,
                Input::Media {
                    call: leg.call,
                    input,
                },
            );
        } else if let Some(leg) = self
            .legs
            .iter()
            .find(|l| l.local_rtcp().port() == port)
            .copied()
        {
            let Ok(parsed) = RtcpReport::parse(data) else {
                self.media.dropped += 1;
                return;
            };
            self.reports.push(ReceivedReport {
                at: now,
                call: leg.call,
                report: parsed.report,
            });
            self.media.rtcp_received += 1;
            let input = MediaInput::RtcpReceived { data, arrival: now };
            let _ = self.phone.handle_input(
                now,
                Input::Media {
                    call: leg.call,
                    input,
                },
            );
        } else {
            self.media.dropped += 1;
        }
    }

    fn stamp(&mut self, now: Instant, from: usize) {
        for e in self.events.iter_mut().skip(from) {
            e.0 = now;
        }
    }
}

/// The port above `addr`'s, on the same IP.
fn with_port_above(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip(), addr.port().wrapping_add(1))
}

/// One packet's worth of silence: the G.711 code for zero amplitude (μ-law
/// 0xFF, A-law 0xD5; ITU-T G.711 tables), zeros for anything else. Every
/// offered codec runs at 64 kbit/s, so a packet holds 8 bytes per
/// millisecond.
fn silence(payload_type: u8, ptime: Duration) -> Vec<u8> {
    let byte = match payload_type {
        PT_PCMU => 0xFF,
        PT_PCMA => 0xD5,
        _ => 0x00,
    };
    let bytes = u64::from(AUDIO_PAYLOAD_BITRATE / 8) * ptime.as_micros() / 1_000_000;
    vec![byte; usize::try_from(bytes).unwrap_or(0)]
}

impl SimNode for PhoneNode {
    fn handle_datagram(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        let before = self.events.len();
        // The node owns every port of its IP; only the SIP port's datagrams
        // are SIP (the phone's Input::Datagram), the rest are media.
        let sip_port = self.phone.config().identity.local.port();
        if self.carry_media && to.port() != sip_port {
            self.media_datagram(now, to, data);
        } else {
            let _ = self
                .phone
                .handle_input(now, Input::Datagram { from, to, data });
        }
        self.drain();
        self.stamp(now, before);
    }

    fn handle_tick(&mut self, now: Instant) {
        let before = self.events.len();
        let _ = self.phone.handle_input(now, Input::Tick);
        self.drain();
        self.stamp(now, before);
    }

    fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        self.pending.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.phone.poll_timeout()
    }
}
