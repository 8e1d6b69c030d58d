//! The INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 §8.4).
//!
//! ```text
//!  Calling --1xx--> Proceeding --2xx--> Accepted --Timer M--> Terminated
//!     |  \--2xx-->  Accepted       \--300-699, ACK--> Completed --Timer D--> Terminated
//!     |---300-699, ACK--> Completed
//!     \---Timer B--> Terminated (timeout)
//! ```

use core::net::SocketAddr;

use super::pool::{self, BufferId};
use super::request::{parse_request, write_derived};
use super::{
    ClientEvent, MessagePool, Reliability, TimerConfig, TimerEvent, TimerKind, TimerTable,
    TransactionError, TransactionKey, MAX_MESSAGE,
};
use crate::message::{HeaderName, Message, Method};
use crate::time::{Duration, Instant};

/// The states of an INVITE client transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InviteClientState {
    /// The INVITE is sent, no response yet; Timer A retransmits it.
    Calling,
    /// A provisional response arrived; no more retransmissions.
    Proceeding,
    /// A 300-699 final arrived and was acknowledged; waiting out its
    /// retransmissions (Timer D).
    Completed,
    /// A 2xx arrived (RFC 6026): every further 2xx goes to the TU, which
    /// acknowledges each (Timer M).
    Accepted,
    /// Over; the transaction can be freed.
    Terminated,
}

/// An INVITE client transaction.
#[derive(Clone, Debug)]
pub struct InviteClientTransaction {
    state: InviteClientState,
    key: TransactionKey,
    peer: SocketAddr,
    reliability: Reliability,
    config: TimerConfig,
    timers: TimerTable,
    /// The current Timer A interval.
    interval: Duration,
    /// The buffer holding the INVITE; after a 300-699 final, the ACK for
    /// it; none once a 2xx arrived.
    stored: Option<BufferId>,
}

impl InviteClientTransaction {
    /// Starts the transaction for the INVITE in `request`, which the
    /// caller sends to `peer` now (RFC 3261 §17.1.1.2: Timer A = T1 over
    /// unreliable transports, Timer B = 64·T1). The INVITE is kept in a
    /// buffer lent by `pool` ([`TransactionError::PoolEmpty`] when none is
    /// free), which the owner gives back with [`release`](Self::release).
    pub fn new<const B: usize>(
        request: &[u8],
        peer: SocketAddr,
        reliability: Reliability,
        config: TimerConfig,
        now: Instant,
        pool: &mut MessagePool<B>,
    ) -> Result<Self, TransactionError> {
        let msg = parse_request(request)?;
        if msg.method() != Some(Method::Invite) {
            return Err(TransactionError::WrongMethod);
        }
        let key = TransactionKey::client(&msg)?;
        let message = pool.lend(request)?;
        let mut timers = TimerTable::new();
        if reliability == Reliability::Unreliable {
            timers.start(TimerKind::A, now, config.t1);
        }
        timers.start(TimerKind::B, now, config.t1_x64());
        Ok(InviteClientTransaction {
            state: InviteClientState::Calling,
            key,
            peer,
            reliability,
            config,
            timers,
            interval: config.t1,
            stored: Some(message),
        })
    }

    common_accessors!(
        InviteClientState,
        "Where the request goes.",
        "The bytes to (re)send: the INVITE until a final response arrives, the ACK for a 300-699 afterwards (empty if it could not be built, and after a 2xx)."
    );

    /// Whether the state may still need the stored message: the INVITE
    /// for retransmission and CANCEL (Calling, Proceeding), the ACK for a
    /// retransmitted 300-699 (Completed). In Accepted the TU acknowledges
    /// each 2xx itself (RFC 6026 §8.4).
    pub fn needs_message(&self) -> bool {
        use InviteClientState as S;
        matches!(self.state, S::Calling | S::Proceeding | S::Completed)
    }

    /// Takes a response that matched this transaction's key; the ACK for
    /// a 300-699 replaces the INVITE in the buffer `pool` lent.
    pub fn on_response<const B: usize>(
        &mut self,
        now: Instant,
        response: &Message<'_>,
        pool: &mut MessagePool<B>,
    ) -> ClientEvent {
        let Some(code) = self.key.matching_status(response) else {
            return ClientEvent::Absorb;
        };
        use InviteClientState as S;
        match (self.state, code) {
            (S::Calling | S::Proceeding, 100..=199) => {
                // RFC 3261 §17.1.1.2: no retransmissions in Proceeding, and
                // Timer B only bounds the Calling state.
                self.state = S::Proceeding;
                self.timers.stop(TimerKind::A);
                self.timers.stop(TimerKind::B);
                ClientEvent::Deliver
            }
            (S::Calling | S::Proceeding, 200..=299) => {
                // RFC 6026 §8.4: wait in Accepted for 2xx retransmissions
                // from other forks or lost ACKs; each goes to the TU.
                self.state = S::Accepted;
                self.timers.stop_all();
                self.timers.start(TimerKind::M, now, self.config.t1_x64());
                ClientEvent::Deliver
            }
            (S::Calling | S::Proceeding, _) => {
                self.state = S::Completed;
                self.timers.stop_all();
                // RFC 3261 §17.1.1.2: Timer D waits out retransmitted
                // finals over UDP, zero over reliable transports.
                let d = self.reliability.wait(self.config.timer_d());
                self.timers.start(TimerKind::D, now, d);
                if self.store_ack(response, pool).is_ok() {
                    ClientEvent::DeliverAndAck
                } else {
                    ClientEvent::Deliver
                }
            }
            // RFC 3261 §17.1.1.2: each retransmitted final is acknowledged
            // again, and not shown to the TU.
            (S::Completed, 300..=699) if self.stored.is_some() => ClientEvent::Ack,
            // RFC 6026 §8.4: every 2xx in Accepted goes to the TU.
            (S::Accepted, 200..=299) => ClientEvent::Deliver,
            _ => ClientEvent::Absorb,
        }
    }

    /// Replaces the stored INVITE by the ACK for `response`. If the ACK
    /// does not fit, nothing is stored and no ACK is sent.
    fn store_ack<const B: usize>(
        &mut self,
        response: &Message<'_>,
        pool: &mut MessagePool<B>,
    ) -> Result<(), TransactionError> {
        let mut ack = [0u8; MAX_MESSAGE];
        let len = {
            let invite = Message::parse_datagram(self.message(pool))?;
            // RFC 3261 §17.1.1.3: To comes from the response (its tag).
            let to = response.header(HeaderName::To).unwrap_or("");
            write_derived(&invite, Method::Ack, to, &mut ack)
        };
        let stored = match (len, self.stored) {
            (Ok(n), Some(id)) => pool.set(id, ack.get(..n).unwrap_or(&[])),
            (Ok(_), None) => Err(TransactionError::InvalidState),
            (Err(e), _) => Err(e),
        };
        if stored.is_err() {
            pool::release(pool, &mut self.stored);
        }
        stored
    }

    /// Writes a CANCEL for the INVITE into `out` and returns its length
    /// (RFC 3261 §9.1: same Request-URI, Call-ID, From, To, CSeq number and
    /// top Via, the INVITE's Route headers). The caller sends it in its own
    /// [`NonInviteClientTransaction`](super::NonInviteClientTransaction).
    /// Only possible before a final response arrived
    /// ([`TransactionError::InvalidState`] afterwards); RFC 3261 §9.1 also
    /// asks the TU to wait for a provisional response (state Proceeding).
    pub fn write_cancel<const B: usize>(
        &self,
        out: &mut [u8],
        pool: &MessagePool<B>,
    ) -> Result<usize, TransactionError> {
        if !matches!(
            self.state,
            InviteClientState::Calling | InviteClientState::Proceeding
        ) {
            return Err(TransactionError::InvalidState);
        }
        let invite = Message::parse_datagram(self.message(pool))?;
        let to = invite.header(HeaderName::To).unwrap_or("");
        write_derived(&invite, Method::Cancel, to, out)
    }

    /// Runs the timers due at `now`; call until it returns `None`.
    pub fn on_timer(&mut self, now: Instant) -> Option<TimerEvent> {
        use InviteClientState as S;
        while let Some(kind) = self.timers.pop_expired(now) {
            match (kind, self.state) {
                (TimerKind::A, S::Calling) => {
                    // RFC 3261 §17.1.1.2: Timer A doubles each time (no T2
                    // cap for INVITE requests).
                    self.interval = self.interval.saturating_mul(2);
                    self.timers.start(TimerKind::A, now, self.interval);
                    return Some(TimerEvent::Retransmit);
                }
                (TimerKind::B, S::Calling) => {
                    self.terminate();
                    return Some(TimerEvent::Timeout);
                }
                (TimerKind::D, S::Completed) | (TimerKind::M, S::Accepted) => {
                    self.terminate();
                    return Some(TimerEvent::Terminated);
                }
                _ => {}
            }
        }
        None
    }
}
