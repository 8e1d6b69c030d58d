//! Test nodes for the simulator's own tests: a pinger, an echo and a node
//! that sends whatever the scenario scripts.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;

use handset_core::time::{Duration, Instant};
use handset_sim::{NodeSetup, SimNode, Transmit};

/// Sends `PING n` to `target` every `interval`, `count` times, from time
/// `start`; records the numbers of the `PONG`s that come back.
pub struct Pinger {
    pub addr: SocketAddr,
    pub target: SocketAddr,
    pub interval: Duration,
    pub count: u32,
    pub next_send: Instant,
    pub sent: u32,
    pub out: VecDeque<Transmit>,
    pub pongs: Vec<(Instant, u32)>,
}

impl Pinger {
    pub fn new(
        setup: NodeSetup,
        target: SocketAddr,
        start: Instant,
        interval: Duration,
        count: u32,
    ) -> Pinger {
        Pinger {
            addr: setup.addr,
            target,
            interval,
            count,
            next_send: start,
            sent: 0,
            out: VecDeque::new(),
            pongs: Vec::new(),
        }
    }
}

impl SimNode for Pinger {
    fn handle_datagram(&mut self, now: Instant, _from: SocketAddr, _to: SocketAddr, data: &[u8]) {
        if let Some(n) = parse_numbered(data, "PONG ") {
            self.pongs.push((now, n));
        }
    }

    fn handle_tick(&mut self, now: Instant) {
        while self.sent < self.count && self.next_send <= now {
            self.out.push_back(Transmit {
                from: self.addr,
                to: self.target,
                data: format!("PING {}", self.sent).into_bytes(),
            });
            self.sent += 1;
            self.next_send += self.interval;
        }
    }

    fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        (self.sent < self.count).then_some(self.next_send)
    }
}

/// Answers every `PING n` with `PONG n`; records the pings in arrival order.
pub struct Echo {
    pub addr: SocketAddr,
    pub out: VecDeque<Transmit>,
    pub pings: Vec<(Instant, u32)>,
}

impl Echo {
    pub fn new(setup: NodeSetup) -> Echo {
        Echo {
            addr: setup.addr,
            out: VecDeque::new(),
            pings: Vec::new(),
        }
    }
}

impl SimNode for Echo {
    fn handle_datagram(&mut self, now: Instant, from: SocketAddr, _to: SocketAddr, data: &[u8]) {
        if let Some(n) = parse_numbered(data, "PING ") {
            self.pings.push((now, n));
            self.out.push_back(Transmit {
                from: self.addr,
                to: from,
                data: format!("PONG {n}").into_bytes(),
            });
        }
    }

    fn handle_tick(&mut self, _now: Instant) {}

    fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

fn parse_numbered(data: &[u8], prefix: &str) -> Option<u32> {
    std::str::from_utf8(data)
        .ok()?
        .strip_prefix(prefix)?
        .parse()
        .ok()
}

/// Sends what the scenario tells it to; records what it receives.
pub struct Scripted {
    pub addr: SocketAddr,
    pub out: VecDeque<Transmit>,
    pub received: Vec<(Instant, Vec<u8>)>,
}

impl Scripted {
    pub fn new(setup: NodeSetup) -> Scripted {
        Scripted {
            addr: setup.addr,
            out: VecDeque::new(),
            received: Vec::new(),
        }
    }

    /// Queues `data` for `to`, from the node's SIP address.
    pub fn send(&mut self, to: SocketAddr, data: Vec<u8>) {
        self.out.push_back(Transmit {
            from: self.addr,
            to,
            data,
        });
    }

    /// Queues `data` for `to` from another port of the node (media).
    pub fn send_from_port(&mut self, port: u16, to: SocketAddr, data: Vec<u8>) {
        let mut from = self.addr;
        from.set_port(port);
        self.out.push_back(Transmit { from, to, data });
    }
}

impl SimNode for Scripted {
    fn handle_datagram(&mut self, now: Instant, _from: SocketAddr, _to: SocketAddr, data: &[u8]) {
        self.received.push((now, data.to_vec()));
    }

    fn handle_tick(&mut self, _now: Instant) {}

    fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

/// A SIP message with the given start line, headers and body, with a
/// correct Content-Length.
pub fn sip(start: &str, headers: &[(&str, String)], body: &str) -> Vec<u8> {
    let mut m = format!("{start}\r\n");
    for (name, value) in headers {
        m.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        m.push_str("Content-Type: application/sdp\r\n");
    }
    m.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    m.into_bytes()
}

/// An RTP packet (PCMU, 20 ms) with sequence number `seq`.
pub fn rtp(seq: u16) -> Vec<u8> {
    let mut p = vec![0u8; 12 + 160];
    p[0] = 0x80;
    p[1] = 0;
    p[2..4].copy_from_slice(&seq.to_be_bytes());
    p[4..8].copy_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p[8..12].copy_from_slice(&0x1234_5678u32.to_be_bytes());
    for b in &mut p[12..] {
        *b = 0xff; // PCMU silence
    }
    p
}
