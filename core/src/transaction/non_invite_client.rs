//! The non-INVITE client transaction (RFC 3261 §17.1.2).
//!
//! ```text
//!  Trying --1xx--> Proceeding --200-699--> Completed --Timer K--> Terminated
//!    |  \---200-699--> Completed
//!    \---Timer F (also from Proceeding)--> Terminated (timeout)
//! ```

use core::net::SocketAddr;

use super::pool::BufferId;
use super::request::parse_request;
use super::{
    ClientEvent, MessagePool, Reliability, TimerConfig, TimerEvent, TimerKind, TimerTable,
    TransactionError, TransactionKey,
};
use crate::message::{Message, Method};
use crate::time::{Duration, Instant};

/// The states of a non-INVITE client transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NonInviteClientState {
    /// The request is sent, no response yet; Timer E retransmits it.
    Trying,
    /// A provisional response arrived; Timer E retransmits every T2.
    Proceeding,
    /// A final response arrived; waiting out its retransmissions (Timer K).
    Completed,
    /// Over; the transaction can be freed.
    Terminated,
}

/// A non-INVITE client transaction (every method but INVITE and ACK,
/// CANCEL included).
#[derive(Clone, Debug)]
pub struct NonInviteClientTransaction {
    state: NonInviteClientState,
    key: TransactionKey,
    peer: SocketAddr,
    reliability: Reliability,
    config: TimerConfig,
    timers: TimerTable,
    /// The current Timer E interval.
    interval: Duration,
    /// The buffer holding the request, until the final response.
    stored: Option<BufferId>,
}

impl NonInviteClientTransaction {
    /// Starts the transaction for `request`, which the caller sends to
    /// `peer` now (RFC 3261 §17.1.2.2: Timer E = T1 over unreliable
    /// transports, Timer F = 64·T1). The request is kept in a buffer lent
    /// by `pool` ([`TransactionError::PoolEmpty`] when none is free), which
    /// the owner gives back with [`release`](Self::release).
    pub fn new<const B: usize>(
        request: &[u8],
        peer: SocketAddr,
        reliability: Reliability,
        config: TimerConfig,
        now: Instant,
        pool: &mut MessagePool<B>,
    ) -> Result<Self, TransactionError> {
        let msg = parse_request(request)?;
        // An ACK is never a transaction of its own (RFC 3261 §17.1).
        if matches!(msg.method(), Some(Method::Invite | Method::Ack)) {
            return Err(TransactionError::WrongMethod);
        }
        let key = TransactionKey::client(&msg)?;
        let request = pool.lend(request)?;
        let mut timers = TimerTable::new();
        if reliability == Reliability::Unreliable {
            timers.start(TimerKind::E, now, config.t1);
        }
        timers.start(TimerKind::F, now, config.t1_x64());
        Ok(NonInviteClientTransaction {
            state: NonInviteClientState::Trying,
            key,
            peer,
            reliability,
            config,
            timers,
            interval: config.t1,
            stored: Some(request),
        })
    }

    common_accessors!(
        NonInviteClientState,
        "Where the request goes.",
        "The request, to (re)send; empty once it is Completed and trimmed."
    );

    /// Whether the state may still need the request: RFC 3261 §17.1.2.2
    /// retransmits it until a final response (Trying, Proceeding), and the
    /// TU reads it back with that response. Over a reliable transport
    /// nothing is retransmitted, but the TU still reads it back, so it is
    /// kept as long.
    pub fn needs_message(&self) -> bool {
        matches!(
            self.state,
            NonInviteClientState::Trying | NonInviteClientState::Proceeding
        )
    }

    /// Takes a response that matched this transaction's key.
    pub fn on_response(&mut self, now: Instant, response: &Message<'_>) -> ClientEvent {
        let Some(code) = self.key.matching_status(response) else {
            return ClientEvent::Absorb;
        };
        use NonInviteClientState as S;
        match (self.state, code) {
            (S::Trying | S::Proceeding, 100..=199) => {
                // Timer E keeps running; from here it re-arms with T2.
                self.state = S::Proceeding;
                ClientEvent::Deliver
            }
            (S::Trying | S::Proceeding, _) => {
                self.state = S::Completed;
                self.timers.stop_all();
                // RFC 3261 §17.1.2.2: Timer K = T4 over UDP, zero otherwise.
                let k = self.reliability.wait(self.config.t4);
                self.timers.start(TimerKind::K, now, k);
                ClientEvent::Deliver
            }
            _ => ClientEvent::Absorb,
        }
    }

    /// Runs the timers due at `now`; call until it returns `None`.
    pub fn on_timer(&mut self, now: Instant) -> Option<TimerEvent> {
        use NonInviteClientState as S;
        while let Some(kind) = self.timers.pop_expired(now) {
            match (kind, self.state) {
                (TimerKind::E, S::Trying) => {
                    // RFC 3261 §17.1.2.2: Timer E doubles up to T2.
                    self.interval = self.interval.saturating_mul(2).min(self.config.t2);
                    self.timers.start(TimerKind::E, now, self.interval);
                    return Some(TimerEvent::Retransmit);
                }
                (TimerKind::E, S::Proceeding) => {
                    // RFC 3261 §17.1.2.2: in Proceeding, Timer E is reset to T2.
                    self.interval = self.config.t2;
                    self.timers.start(TimerKind::E, now, self.interval);
                    return Some(TimerEvent::Retransmit);
                }
                (TimerKind::F, S::Trying | S::Proceeding) => {
                    self.terminate();
                    return Some(TimerEvent::Timeout);
                }
                (TimerKind::K, S::Completed) => {
                    self.terminate();
                    return Some(TimerEvent::Terminated);
                }
                _ => {}
            }
        }
        None
    }
}
