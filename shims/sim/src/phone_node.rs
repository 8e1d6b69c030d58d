//! A handset phone as a simulator node: the core's `Phone` driven exactly
//! as a socket loop drives it.

use std::collections::VecDeque;
use std::net::SocketAddr;

use handset_core::phone::{CallHandle, Command, Config, Event, Input, Output, Phone};
use handset_core::time::Instant;

use crate::node::{NodeSetup, SimNode, Transmit};

/// Call slots of a simulated phone.
pub const SIM_CALLS: usize = 4;
/// Transaction slots of a simulated phone.
pub const SIM_TXNS: usize = 16;

/// The phone type every simulated user runs.
pub type SimPhone = Phone<SIM_CALLS, SIM_TXNS>;

/// A phone on the simulated network, with the events it raised.
#[derive(Debug)]
pub struct PhoneNode {
    /// The phone.
    pub phone: SimPhone,
    /// Every event, with the instant it was raised.
    pub events: Vec<(Instant, Event)>,
    /// Media outputs seen, for flows that look at media timing.
    pub media_outputs: usize,
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
        PhoneNode {
            phone: Phone::new(config, setup.seed),
            events: Vec::new(),
            media_outputs: 0,
            pending: VecDeque::new(),
        }
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
                Output::Media { .. } => self.media_outputs += 1,
            }
        }
    }

    fn stamp(&mut self, now: Instant, from: usize) {
        for e in self.events.iter_mut().skip(from) {
            e.0 = now;
        }
    }
}

impl SimNode for PhoneNode {
    fn handle_datagram(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        let before = self.events.len();
        let _ = self
            .phone
            .handle_input(now, Input::Datagram { from, to, data });
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
