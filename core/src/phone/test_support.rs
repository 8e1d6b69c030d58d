//! Phones wired to each other directly for the phone's tests: a datagram
//! goes straight to the phone it is addressed to (unless the test drops
//! it), and time moves only when a test runs the clock.

extern crate std;

use std::collections::VecDeque;
use std::string::String;
use std::vec::Vec;

use core::net::SocketAddr;

use super::{CallHandle, Command, Event, Input, Output, Phone};
use crate::message::Message;
use crate::time::{Duration, Instant};

/// The address of phone `i`: 10.0.0.1, 10.0.0.2, ... port 5060.
pub(crate) fn addr(i: usize) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 1 + i as u8], 5060))
}

/// The value of the first header line `name` of the message `msg`.
pub(crate) fn header<'t>(msg: &'t str, name: &str) -> Option<&'t str> {
    msg.lines().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A datagram a phone sent.
#[derive(Clone)]
pub(crate) struct Datagram {
    /// When it was sent (read by the PRACK and session-timer tests).
    #[cfg_attr(
        not(any(feature = "prack", feature = "session-timer")),
        allow(dead_code)
    )]
    pub(crate) at: Instant,
    pub(crate) from: SocketAddr,
    pub(crate) to: SocketAddr,
    pub(crate) data: Vec<u8>,
    /// `data` as text.
    pub(crate) text: String,
}

impl Datagram {
    pub(crate) fn first_line(&self) -> &str {
        self.text.lines().next().unwrap_or("")
    }

    /// The request method, `None` for a response or what does not parse.
    pub(crate) fn method(&self) -> Option<String> {
        let m = Message::parse_datagram(&self.data).ok()?;
        m.method().map(|m| m.as_str().into())
    }
}

/// Phones and the wire between them.
pub(crate) struct Net<const CALLS: usize, const TXNS: usize, const BUFFERS: usize = TXNS> {
    pub(crate) phones: Vec<Phone<CALLS, TXNS, 0, BUFFERS>>,
    /// The events each phone reported, in order.
    pub(crate) events: Vec<Vec<Event>>,
    /// Datagrams sent and not yet delivered.
    pub(crate) wire: VecDeque<Datagram>,
    /// Every datagram sent, delivered or not, in order.
    pub(crate) transmitted: Vec<Datagram>,
    /// Every datagram delivered, in order.
    pub(crate) log: Vec<Datagram>,
    pub(crate) now: Instant,
    /// When the callee answered the last call set up by [`Net::call`].
    pub(crate) answered: Instant,
}

impl<const CALLS: usize, const TXNS: usize, const BUFFERS: usize> Net<CALLS, TXNS, BUFFERS> {
    /// Phone `i` of `phones` listens on [`addr`]`(i)`.
    pub(crate) fn new(phones: Vec<Phone<CALLS, TXNS, 0, BUFFERS>>) -> Self {
        let events = phones.iter().map(|_| Vec::new()).collect();
        Net {
            phones,
            events,
            wire: VecDeque::new(),
            transmitted: Vec::new(),
            log: Vec::new(),
            now: Instant::ZERO,
            answered: Instant::ZERO,
        }
    }

    /// Takes phone `i`'s output: datagrams onto the wire, events into
    /// its list.
    pub(crate) fn drain(&mut self, i: usize) {
        while let Some(o) = self.phones[i].poll_output() {
            match o {
                Output::Transmit { from, to, data } => {
                    let d = Datagram {
                        at: self.now,
                        from,
                        to,
                        data: data.to_vec(),
                        text: String::from_utf8_lossy(data).into_owned(),
                    };
                    self.transmitted.push(d.clone());
                    self.wire.push_back(d);
                }
                Output::Event(e) => self.events[i].push(e),
                Output::Media { .. } => {}
            }
        }
    }

    pub(crate) fn command(&mut self, i: usize, c: Command<'_>) {
        self.phones[i]
            .handle_input(self.now, Input::Command(c))
            .unwrap();
        self.drain(i);
    }

    /// Hands phone `to` the datagram `data` from `from` now.
    pub(crate) fn inject(&mut self, from: SocketAddr, to: usize, data: &[u8]) {
        let _ = self.phones[to].handle_input(
            self.now,
            Input::Datagram {
                from,
                to: addr(to),
                data,
            },
        );
        self.drain(to);
    }

    /// Delivers what is on the wire (and what that causes) now, dropping
    /// the datagrams `drop` picks.
    pub(crate) fn deliver(&mut self, drop: &mut dyn FnMut(&Datagram) -> bool) {
        while let Some(d) = self.wire.pop_front() {
            if drop(&d) {
                continue;
            }
            let Some(i) = (0..self.phones.len()).find(|&i| addr(i) == d.to) else {
                continue;
            };
            self.inject(d.from, i, &d.data);
            self.log.push(d);
        }
    }

    /// Runs for `d`: deliveries (but those `drop` picks) and every timer
    /// due.
    pub(crate) fn run_dropping(&mut self, d: Duration, mut drop: impl FnMut(&Datagram) -> bool) {
        let end = self.now + d;
        loop {
            self.deliver(&mut drop);
            let next = self.phones.iter().filter_map(|p| p.poll_timeout()).min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    for i in 0..self.phones.len() {
                        if self.phones[i].poll_timeout().is_some_and(|t| t <= self.now) {
                            self.phones[i].handle_input(self.now, Input::Tick).unwrap();
                            self.drain(i);
                        }
                    }
                }
                _ => {
                    self.now = end;
                    self.deliver(&mut drop);
                    return;
                }
            }
        }
    }

    /// Runs for `d`, delivering everything.
    pub(crate) fn run(&mut self, d: Duration) {
        self.run_dropping(d, |_| false);
    }

    pub(crate) fn saw(&self, i: usize, pred: impl Fn(&Event) -> bool) -> bool {
        self.events[i].iter().any(pred)
    }

    /// The call phone `i` placed or received last.
    pub(crate) fn last_call(&self, i: usize) -> CallHandle {
        self.events[i]
            .iter()
            .rev()
            .find_map(|e| match *e {
                Event::IncomingCall(h) | Event::Calling(h) => Some(h),
                _ => None,
            })
            .unwrap()
    }

    /// `caller` calls `uri`, `callee` answers; both handles.
    pub(crate) fn call(
        &mut self,
        caller: usize,
        callee: usize,
        uri: &str,
    ) -> (CallHandle, CallHandle) {
        self.command(caller, Command::Dial { to: uri });
        let out = self.last_call(caller);
        self.run(Duration::from_millis(10));
        let inc = self.last_call(callee);
        self.command(callee, Command::Answer(inc));
        self.answered = self.now;
        self.run(Duration::from_millis(10));
        assert!(self.saw(caller, |e| *e == Event::Answered(out)));
        assert!(self.saw(callee, |e| *e == Event::Answered(inc)));
        (out, inc)
    }

    /// Delivered datagrams from phone `from` whose first line starts with
    /// `start`.
    pub(crate) fn sent(&self, from: usize, start: &str) -> Vec<&Datagram> {
        self.log
            .iter()
            .filter(|d| d.from == addr(from) && d.first_line().starts_with(start))
            .collect()
    }

    /// Delivered datagrams `from -> to` whose first line starts with
    /// `start`, as text.
    pub(crate) fn between(&self, from: usize, to: usize, start: &str) -> Vec<String> {
        self.sent(from, start)
            .into_iter()
            .filter(|d| d.to == addr(to))
            .map(|d| d.text.clone())
            .collect()
    }
}
