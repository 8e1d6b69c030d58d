//! Two core phones wired back to back by a loopback made of fixed arrays:
//! SIP, RTP and RTCP cross it with zero delay, written and read with the
//! core's own packet writers and readers. Nothing here allocates once the
//! phones and the wire exist, so a counting allocator can watch a whole
//! call, and a benchmark can time calls through the core alone.

use std::net::SocketAddr;

use handset_core::media::{MediaInput, MediaOutput, RtcpReport, RtpHeader, RtpPacket};
use handset_core::phone::{CallHandle, Command, Config, Event, Input, Output, Phone};
use handset_core::time::{Duration, Instant};

/// The phone both ends run: two call slots, eight transaction slots.
pub type TestPhone = Phone<2, 8>;

/// Largest datagram the loopback carries.
pub const DATAGRAM: usize = 1500;
/// Datagrams the loopback holds at once.
pub const WIRE_SLOTS: usize = 64;
/// Events a side keeps.
pub const EVENT_SLOTS: usize = 64;
/// 20 ms of PCMU silence (ITU-T G.711 μ-law: 0xFF is zero amplitude).
pub const SILENCE: [u8; 160] = [0xFF; 160];

/// One datagram on the loopback.
#[derive(Clone, Copy)]
pub struct Datagram {
    /// Sender.
    pub from: SocketAddr,
    /// Destination.
    pub to: SocketAddr,
    /// Bytes used in `data`.
    pub len: usize,
    /// The bytes.
    pub data: [u8; DATAGRAM],
}

impl Datagram {
    /// No bytes, unspecified addresses.
    pub fn empty() -> Datagram {
        Datagram {
            from: SocketAddr::from(([0, 0, 0, 0], 0)),
            to: SocketAddr::from(([0, 0, 0, 0], 0)),
            len: 0,
            data: [0; DATAGRAM],
        }
    }
}

/// A zero-delay network: a ring of fixed datagram slots.
pub struct Wire {
    slots: [Datagram; WIRE_SLOTS],
    head: usize,
    len: usize,
    /// Datagrams dropped because the ring was full.
    pub overflow: u32,
}

impl Wire {
    /// An empty loopback.
    pub fn new() -> Wire {
        Wire {
            slots: [Datagram::empty(); WIRE_SLOTS],
            head: 0,
            len: 0,
            overflow: 0,
        }
    }

    /// A slot to write the next datagram into, or `None` when full.
    fn next_slot(&mut self) -> Option<&mut Datagram> {
        if self.len == WIRE_SLOTS {
            self.overflow += 1;
            return None;
        }
        let i = (self.head + self.len) % WIRE_SLOTS;
        self.len += 1;
        Some(&mut self.slots[i])
    }

    /// Queues a copy of `data`.
    pub fn push(&mut self, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        if let Some(slot) = self.next_slot() {
            slot.from = from;
            slot.to = to;
            slot.len = data.len().min(DATAGRAM);
            slot.data[..slot.len].copy_from_slice(&data[..slot.len]);
        }
    }

    /// Takes the oldest datagram into `into`; false when empty.
    pub fn pop(&mut self, into: &mut Datagram) -> bool {
        if self.len == 0 {
            return false;
        }
        *into = self.slots[self.head];
        self.head = (self.head + 1) % WIRE_SLOTS;
        self.len -= 1;
        true
    }
}

/// The media stream a side's shim has open.
#[derive(Clone, Copy)]
struct Leg {
    call: CallHandle,
    local: SocketAddr,
    remote: SocketAddr,
    ssrc: u32,
}

fn port_above(a: SocketAddr) -> SocketAddr {
    SocketAddr::new(a.ip(), a.port() + 1)
}

/// One phone and what its shim keeps: the open stream and the events.
pub struct Side {
    /// The phone.
    pub phone: Box<TestPhone>,
    cname: &'static [u8],
    leg: Option<Leg>,
    events: [Option<Event>; EVENT_SLOTS],
    event_count: usize,
    /// RTP packets written and sent.
    pub rtp_sent: u32,
    /// RTP packets received and handed to the phone.
    pub rtp_received: u32,
    /// RTCP packets written and sent.
    pub rtcp_sent: u32,
    /// RTCP packets received and handed to the phone.
    pub rtcp_received: u32,
}

impl Side {
    /// User `user` with SIP at `addr`, RTCP CNAME `cname`, randomness from
    /// `seed`.
    pub fn new(user: &str, addr: &str, cname: &'static [u8], seed: u64) -> Side {
        let config = Config::new(user, "example.com", addr.parse().unwrap()).unwrap();
        Side {
            phone: Box::new(Phone::new(config, seed)),
            cname,
            leg: None,
            events: [None; EVENT_SLOTS],
            event_count: 0,
            rtp_sent: 0,
            rtp_received: 0,
            rtcp_sent: 0,
            rtcp_received: 0,
        }
    }

    /// Whether the phone raised an event matching `pred`.
    pub fn saw(&self, pred: impl Fn(&Event) -> bool) -> bool {
        self.events[..self.event_count].iter().flatten().any(pred)
    }

    /// The last call the phone announced.
    pub fn last_call(&self) -> Option<CallHandle> {
        self.events[..self.event_count]
            .iter()
            .rev()
            .flatten()
            .find_map(|e| match *e {
                Event::IncomingCall(c) | Event::Answered(c) => Some(c),
                _ => None,
            })
    }

    /// Drains every output: SIP onto the wire, RTP and RTCP written with
    /// the core's packet writers onto the wire, events into the array.
    pub fn drain(&mut self, wire: &mut Wire) {
        let mut packet = [0u8; DATAGRAM];
        while let Some(out) = self.phone.poll_output() {
            match out {
                Output::Transmit { from, to, data } => wire.push(from, to, data),
                Output::Event(e) => {
                    if let Some(slot) = self.events.get_mut(self.event_count) {
                        *slot = Some(e);
                        self.event_count += 1;
                    }
                }
                Output::Media { call, output } => match output {
                    MediaOutput::StartStream {
                        local,
                        remote,
                        ssrc,
                        ..
                    } => {
                        self.leg = Some(Leg {
                            call,
                            local,
                            remote,
                            ssrc,
                        })
                    }
                    MediaOutput::StopStream => self.leg = None,
                    MediaOutput::SendRtp {
                        seq,
                        timestamp,
                        marker,
                        payload_type,
                        ..
                    } => {
                        let Some(leg) = self.leg else { continue };
                        let header = RtpHeader {
                            marker,
                            payload_type,
                            sequence: seq,
                            timestamp,
                            ssrc: leg.ssrc,
                        };
                        if let Ok(n) = header.write_packet(&SILENCE, &mut packet) {
                            wire.push(leg.local, leg.remote, &packet[..n]);
                            self.rtp_sent += 1;
                        }
                    }
                    MediaOutput::SendRtcp(report) => {
                        let Some(leg) = self.leg else { continue };
                        if let Ok(n) = report.write_compound(self.cname, &mut packet) {
                            wire.push(port_above(leg.local), port_above(leg.remote), &packet[..n]);
                            self.rtcp_sent += 1;
                        }
                    }
                    MediaOutput::SendDtmfEvent { .. } | MediaOutput::TicksSkipped { .. } => {}
                },
            }
        }
    }

    /// A datagram for this side: SIP on the SIP port, else RTP or RTCP on
    /// the open stream's ports.
    pub fn deliver(&mut self, now: Instant, d: &Datagram, wire: &mut Wire) {
        let data = &d.data[..d.len];
        let sip = self.phone.config().identity.local;
        let input = if d.to == sip {
            Some(Input::Datagram {
                from: d.from,
                to: d.to,
                data,
            })
        } else if let Some(leg) = self.leg {
            if d.to == leg.local {
                RtpPacket::parse(data).ok().map(|p| {
                    self.rtp_received += 1;
                    Input::Media {
                        call: leg.call,
                        input: MediaInput::RtpReceived {
                            seq: p.header.sequence,
                            timestamp: p.header.timestamp,
                            ssrc: p.header.ssrc,
                            arrival: now,
                        },
                    }
                })
            } else if d.to == port_above(leg.local) {
                RtcpReport::parse(data).ok().map(|_| {
                    self.rtcp_received += 1;
                    Input::Media {
                        call: leg.call,
                        input: MediaInput::RtcpReceived { data, arrival: now },
                    }
                })
            } else {
                None
            }
        } else {
            None
        };
        if let Some(input) = input {
            let _ = self.phone.handle_input(now, input);
            self.drain(wire);
        }
    }

    /// Ticks the phone when its timeout has come.
    pub fn tick_if_due(&mut self, now: Instant, wire: &mut Wire) {
        if self.phone.poll_timeout().is_some_and(|t| t <= now) {
            let _ = self.phone.handle_input(now, Input::Tick);
            self.drain(wire);
        }
    }

    /// Carries out a user command.
    pub fn command(&mut self, now: Instant, c: Command<'_>, wire: &mut Wire) {
        let _ = self.phone.handle_input(now, Input::Command(c));
        self.drain(wire);
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// How long each part of a scripted call lasts.
#[derive(Clone, Copy, Debug)]
pub struct Script {
    /// From B's phone ringing to B answering.
    pub ring: Duration,
    /// From the answer to A hanging up.
    pub talk: Duration,
    /// After the hang-up, for every transaction timer to run out (Timers
    /// J and K: 64·T1 at most).
    pub drain: Duration,
}

/// The whole call: A dials `sip:bob@192.0.2.2` (B's phone), B answers
/// after `script.ring`, they talk for `script.talk`, A hangs up, and time
/// runs on for `script.drain`. Allocates nothing.
pub fn run_call(
    a: &mut Side,
    b: &mut Side,
    wire: &mut Wire,
    scratch: &mut Datagram,
    script: Script,
) {
    let mut now = Instant::ZERO;
    a.command(
        now,
        Command::Dial {
            to: "sip:bob@192.0.2.2",
        },
        wire,
    );
    let mut answer_at = None;
    let mut hangup_at = None;
    let mut end_at = None;
    loop {
        // Zero-delay delivery: everything on the wire arrives now.
        while wire.pop(scratch) {
            let to_a = scratch.to.ip() == a.phone.config().identity.local.ip();
            if to_a {
                a.deliver(now, scratch, wire);
            } else {
                b.deliver(now, scratch, wire);
            }
        }
        // The user script.
        if answer_at.is_none() && b.saw(|e| matches!(e, Event::IncomingCall(_))) {
            answer_at = Some(now + script.ring);
        }
        if let (Some(t), None) = (answer_at, hangup_at) {
            if now >= t {
                if let Some(call) = b.last_call() {
                    b.command(now, Command::Answer(call), wire);
                }
                hangup_at = Some(now + script.talk);
                continue;
            }
        }
        if let (Some(t), None) = (hangup_at, end_at) {
            if now >= t {
                if let Some(call) = a.last_call() {
                    a.command(now, Command::Hangup(call), wire);
                }
                end_at = Some(now + script.drain);
                continue;
            }
        }
        let script = match (answer_at, hangup_at, end_at) {
            (Some(t), None, _) => Some(t),
            (_, Some(t), None) => Some(t),
            _ => None,
        };
        let next = earliest(
            earliest(a.phone.poll_timeout(), b.phone.poll_timeout()),
            script,
        );
        let Some(next) = next else { break };
        if end_at.is_some_and(|e| next > e) {
            break;
        }
        now = now.max(next);
        a.tick_if_due(now, wire);
        b.tick_if_due(now, wire);
    }
}

impl Default for Wire {
    fn default() -> Self {
        Wire::new()
    }
}

/// A fresh pair: User A (alice, 192.0.2.1) and User B (bob, 192.0.2.2).
pub fn pair() -> (Side, Side) {
    (
        Side::new("alice", "192.0.2.1:5060", b"alice@192.0.2.1", 1),
        Side::new("bob", "192.0.2.2:5060", b"bob@192.0.2.2", 2),
    )
}
