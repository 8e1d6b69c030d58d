//! The run loop: feed the core what arrives, carry out what it asks, tell
//! the firmware when to come back.

use core::net::SocketAddr;

use handset_core::time::{Duration, Instant};

use crate::clock::Clock;
use crate::transport::{Transport, TransportError, TransportErrorKind};

/// What a sans-IO core asks its runner to carry out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoreOutput<'a, E> {
    /// Send `data` from the local address `from` to `to`.
    Transmit {
        /// Local address to send from.
        from: SocketAddr,
        /// Destination.
        to: SocketAddr,
        /// The whole message, borrowed from the core.
        data: &'a [u8],
    },
    /// Anything else (a user event, a media instruction): handed to the
    /// firmware's callback.
    Event(E),
}

/// The least a sans-IO core must offer to be run by a [`Runner`].
///
/// The contract: after any `handle_*` call, take outputs with
/// [`SansIoCore::poll_output`] until it returns `None`, then sleep until
/// [`SansIoCore::poll_timeout`] or the next message, whichever is first.
pub trait SansIoCore {
    /// What the core reports besides messages to send.
    type Event;

    /// A message arrived from `from` on the local address `to`.
    fn handle_datagram(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]);

    /// Time passed: the deadline from [`SansIoCore::poll_timeout`] is due.
    fn handle_tick(&mut self, now: Instant);

    /// The next thing to carry out, if any.
    fn poll_output(&mut self) -> Option<CoreOutput<'_, Self::Event>>;

    /// Puts the message the last [`SansIoCore::poll_output`] returned back
    /// at the head of the queue: the transport could not take it yet. The
    /// core keeps it (so the runner needs no copy) and returns it again
    /// first. `false` when it cannot; the runner then drops the message
    /// and counts it, as a lost datagram.
    fn put_back_transmit(&mut self) -> bool;

    /// When the core next needs [`SansIoCore::handle_tick`].
    fn poll_timeout(&self) -> Option<Instant>;
}

/// Counters the runner keeps, for a status page or a test.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunnerStats {
    /// Messages handed to the core.
    pub received: u32,
    /// Messages the transport accepted.
    pub transmitted: u32,
    /// Incoming bytes dropped as oversize or malformed.
    pub dropped_incoming: u32,
    /// Outgoing messages dropped as too large or unroutable (the core's
    /// retransmissions cover them, as for a lost datagram).
    pub dropped_outgoing: u32,
    /// Times the transport pushed back and a message was held for retry.
    pub deferred: u32,
}

/// How long to wait before offering a held message again when the driver
/// gives no readiness signal of its own.
pub const RETRY_DELAY: Duration = Duration::from_millis(1);

/// At most this many received messages are handled per poll, so a flood
/// cannot starve the core's timers.
pub const MAX_RECEIVE_PER_POLL: usize = 8;

/// Pumps a [`SansIoCore`] over one [`Transport`] with one [`Clock`].
///
/// `BUF` is the size of the datagram receive buffer: at least the largest
/// message the core takes. A message the transport refuses for now stays
/// in the core ([`SansIoCore::put_back_transmit`]) until it takes it.
#[derive(Debug)]
pub struct Runner<C, T, K, const BUF: usize> {
    core: C,
    transport: T,
    clock: K,
    scratch: [u8; BUF],
    /// The transport refused the core's next message; nothing more is
    /// received or sent until it takes it.
    blocked: bool,
    stats: RunnerStats,
}

impl<C: SansIoCore, T: Transport, K: Clock, const BUF: usize> Runner<C, T, K, BUF> {
    /// A runner owning the core, the transport and the clock.
    pub fn new(core: C, transport: T, clock: K) -> Self {
        Runner {
            core,
            transport,
            clock,
            scratch: [0; BUF],
            blocked: false,
            stats: RunnerStats::default(),
        }
    }

    /// The core, e.g. to read its state.
    pub fn core(&self) -> &C {
        &self.core
    }

    /// Gives `f` the core and the current time, e.g. to issue a user
    /// command; call [`Runner::poll`] afterwards to carry out its outputs.
    pub fn with_core<R>(&mut self, f: impl FnOnce(&mut C, Instant) -> R) -> R {
        let now = self.clock.now();
        f(&mut self.core, now)
    }

    /// The transport, e.g. to reconnect it.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// The clock.
    pub fn clock_mut(&mut self) -> &mut K {
        &mut self.clock
    }

    /// The counters.
    pub fn stats(&self) -> RunnerStats {
        self.stats
    }

    /// Whether a message is held because the transport pushed back.
    pub fn is_blocked(&self) -> bool {
        self.blocked
    }

    /// Takes the core, the transport and the clock back.
    pub fn into_parts(self) -> (C, T, K) {
        (self.core, self.transport, self.clock)
    }

    /// Does everything due now: retries a held message, hands received
    /// messages to the core, fires the core's timer when due, and carries
    /// out every output (`on_event` gets the non-transmit ones).
    ///
    /// Returns when to poll again at the latest (`None`: only when a
    /// message arrives or the user acts). A fatal transport error
    /// ([`TransportErrorKind::Closed`], [`TransportErrorKind::Other`]) is
    /// returned; the runner stays usable once the transport is repaired.
    pub fn poll(
        &mut self,
        mut on_event: impl FnMut(C::Event),
    ) -> Result<Option<Instant>, T::Error> {
        let now = self.clock.now();
        ignore_pushback(self.transport.flush())?;
        if self.blocked {
            // The message put back comes first again.
            self.blocked = false;
            drain(
                &mut self.core,
                &mut self.transport,
                &mut self.blocked,
                true,
                &mut self.stats,
                &mut on_event,
            )?;
        }
        let mut handled = 0;
        while !self.blocked && handled < MAX_RECEIVE_PER_POLL {
            match self.transport.receive(&mut self.scratch) {
                Ok(Some(m)) => {
                    handled += 1;
                    self.stats.received = self.stats.received.wrapping_add(1);
                    self.core.handle_datagram(now, m.from, m.to, m.data);
                }
                Ok(None) => break,
                Err(e) => match e.kind() {
                    TransportErrorKind::TooLarge | TransportErrorKind::Malformed => {
                        self.stats.dropped_incoming = self.stats.dropped_incoming.wrapping_add(1);
                        continue;
                    }
                    TransportErrorKind::WouldBlock => break,
                    _ => return Err(e),
                },
            }
            drain(
                &mut self.core,
                &mut self.transport,
                &mut self.blocked,
                false,
                &mut self.stats,
                &mut on_event,
            )?;
        }
        if self.core.poll_timeout().is_some_and(|t| t <= now) {
            self.core.handle_tick(now);
        }
        // Also carries out outputs a command left behind.
        drain(
            &mut self.core,
            &mut self.transport,
            &mut self.blocked,
            false,
            &mut self.stats,
            &mut on_event,
        )?;
        let wake = self.core.poll_timeout();
        Ok(if self.blocked {
            // A deadline already reached waits for the transport too: the
            // core keeps work that needs room for a message (a due
            // retransmission) until its queue drains.
            let retry = now + RETRY_DELAY;
            Some(wake.filter(|&w| w > now).map_or(retry, |w| w.min(retry)))
        } else {
            wake
        })
    }
}

/// Pushback while flushing is not an error: the bytes stay queued.
fn ignore_pushback<E: TransportError>(r: Result<(), E>) -> Result<(), E> {
    match r {
        Err(e) if e.kind() == TransportErrorKind::WouldBlock => Ok(()),
        other => other,
    }
}

/// Carries out the core's outputs until it has none or the transport
/// pushes back (then the refused message is put back in the core, first in
/// its queue, and `blocked` is set). `retrying`: the first message is one
/// put back before, already counted as deferred.
fn drain<C: SansIoCore, T: Transport>(
    core: &mut C,
    transport: &mut T,
    blocked: &mut bool,
    mut retrying: bool,
    stats: &mut RunnerStats,
    on_event: &mut impl FnMut(C::Event),
) -> Result<(), T::Error> {
    while !*blocked {
        let Some(out) = core.poll_output() else {
            break;
        };
        let (from, to, data) = match out {
            CoreOutput::Event(e) => {
                on_event(e);
                continue;
            }
            CoreOutput::Transmit { from, to, data } => (from, to, data),
        };
        let retry = core::mem::take(&mut retrying);
        match transport.transmit(from, to, data) {
            Ok(()) => stats.transmitted = stats.transmitted.wrapping_add(1),
            Err(e) => match e.kind() {
                TransportErrorKind::WouldBlock => {
                    if core.put_back_transmit() {
                        *blocked = true;
                        if !retry {
                            stats.deferred = stats.deferred.wrapping_add(1);
                        }
                    } else {
                        stats.dropped_outgoing = stats.dropped_outgoing.wrapping_add(1);
                    }
                }
                TransportErrorKind::TooLarge | TransportErrorKind::Unreachable => {
                    stats.dropped_outgoing = stats.dropped_outgoing.wrapping_add(1);
                }
                _ => return Err(e),
            },
        }
    }
    Ok(())
}
