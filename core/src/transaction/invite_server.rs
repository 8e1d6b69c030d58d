//! The INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §8.5-§8.7).
//!
//! ```text
//!  Proceeding --2xx--> Accepted --Timer L--> Terminated
//!     \---300-699--> Completed --ACK--> Confirmed --Timer I--> Terminated
//!                        \---Timer H--> Terminated (no ACK)
//! ```

use core::net::SocketAddr;

use super::pool::{self, BufferId};
use super::request::{parse_request, parse_response, top_branch};
use super::{
    MessagePool, Reliability, ServerEvent, TimerConfig, TimerEvent, TimerKind, TimerTable,
    TransactionError, TransactionKey,
};
use crate::message::{Message, Method};
use crate::time::{Duration, Instant};

/// The states of an INVITE server transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InviteServerState {
    /// The INVITE is with the TU; provisional responses go out as given.
    Proceeding,
    /// A 300-699 final went out; Timer G retransmits it until the ACK.
    Completed,
    /// The ACK arrived; waiting out its retransmissions (Timer I).
    Confirmed,
    /// A 2xx went out (RFC 6026): the TU retransmits it and gets the ACK;
    /// INVITE retransmissions are absorbed (Timer L).
    Accepted,
    /// Over; the transaction can be freed.
    Terminated,
}

/// An INVITE server transaction.
#[derive(Clone, Debug)]
pub struct InviteServerTransaction {
    state: InviteServerState,
    key: TransactionKey,
    peer: SocketAddr,
    reliability: Reliability,
    config: TimerConfig,
    timers: TimerTable,
    /// The current Timer G interval.
    interval: Duration,
    /// The buffer holding the last provisional or 300-699 response sent;
    /// none before the first, after a 2xx, and once Confirmed.
    stored: Option<BufferId>,
}

impl InviteServerTransaction {
    /// Starts the transaction for the INVITE received in `request` from
    /// `source`. The caller hands the INVITE to the TU, which sends 100
    /// Trying or another response through [`send_response`](Self::send_response)
    /// within 200 ms (RFC 3261 §17.2.1).
    pub fn new(
        request: &[u8],
        source: SocketAddr,
        reliability: Reliability,
        config: TimerConfig,
        now: Instant,
    ) -> Result<Self, TransactionError> {
        let _ = now;
        let msg = parse_request(request)?;
        if msg.method() != Some(Method::Invite) {
            return Err(TransactionError::WrongMethod);
        }
        Ok(InviteServerTransaction {
            state: InviteServerState::Proceeding,
            key: TransactionKey::server(&msg)?,
            peer: source,
            reliability,
            config,
            timers: TimerTable::new(),
            interval: config.t1,
            stored: None,
        })
    }

    common_accessors!(
        InviteServerState,
        "Where the INVITE came from.",
        "The last response, to (re)send; empty before the first, after a 2xx and once Confirmed."
    );

    /// Whether the state may still need the last response: RFC 3261
    /// §17.2.1 sends it again for a retransmitted INVITE (Proceeding,
    /// Completed) and Timer G retransmits a 300-699 until the ACK. Once
    /// Confirmed retransmissions are absorbed, and in Accepted the TU
    /// retransmits its 2xx itself (RFC 6026 §8.7).
    pub fn needs_message(&self) -> bool {
        use InviteServerState as S;
        matches!(self.state, S::Proceeding | S::Completed)
    }

    /// Takes a response from the TU; on `Ok` the caller sends it. A
    /// provisional or 300-699 response is kept in a buffer of `pool` for
    /// retransmission ([`message`](Self::message)); a 2xx is not, since
    /// the TU retransmits it (RFC 6026 §8.7), and the buffer goes back.
    /// Provisional responses keep the state, a 2xx moves to Accepted, a
    /// 300-699 to Completed. After a final only 2xx retransmissions in
    /// Accepted are taken ([`TransactionError::InvalidState`] otherwise).
    /// On error ([`TransactionError::PoolEmpty`] among others) nothing
    /// changes.
    pub fn send_response<const B: usize>(
        &mut self,
        now: Instant,
        response: &[u8],
        pool: &mut MessagePool<B>,
    ) -> Result<(), TransactionError> {
        let (msg, code) = parse_response(response)?;
        if top_branch(&msg) != Some(self.key.branch()) {
            return Err(TransactionError::NotThisTransaction);
        }
        use InviteServerState as S;
        match (self.state, code) {
            (S::Proceeding, 100..=199) => pool::store(pool, &mut self.stored, response),
            (S::Proceeding, 200..=299) => {
                pool::release(pool, &mut self.stored);
                // RFC 6026 §8.6: a 2xx leads to Accepted, where Timer L
                // (64·T1) waits out INVITE retransmissions.
                self.state = S::Accepted;
                self.timers.stop_all();
                self.timers.start(TimerKind::L, now, self.config.t1_x64());
                Ok(())
            }
            (S::Proceeding, _) => {
                pool::store(pool, &mut self.stored, response)?;
                self.state = S::Completed;
                self.timers.stop_all();
                // RFC 3261 §17.2.1: Timer G = T1 over UDP only, Timer H = 64·T1.
                if self.reliability == Reliability::Unreliable {
                    self.interval = self.config.t1;
                    self.timers.start(TimerKind::G, now, self.interval);
                }
                self.timers.start(TimerKind::H, now, self.config.t1_x64());
                Ok(())
            }
            // RFC 6026 §8.7: 2xx retransmissions from the TU go out.
            (S::Accepted, 200..=299) => Ok(()),
            _ => Err(TransactionError::InvalidState),
        }
    }

    /// Takes a received request that matched this transaction's key: an
    /// INVITE retransmission or an ACK.
    pub fn on_request(&mut self, now: Instant, request: &Message<'_>) -> ServerEvent {
        if !self.key.matches_request(request) {
            return ServerEvent::Absorb;
        }
        use InviteServerState as S;
        match (request.method(), self.state) {
            // RFC 3261 §17.2.1: a retransmitted INVITE gets the last
            // provisional (Proceeding) or the final (Completed) again.
            (Some(Method::Invite), S::Proceeding | S::Completed) if self.stored.is_some() => {
                ServerEvent::Resend
            }
            (Some(Method::Ack), S::Completed) => {
                self.state = S::Confirmed;
                self.timers.stop_all();
                // RFC 3261 §17.2.1: Timer I = T4 over UDP, zero otherwise.
                let i = self.reliability.wait(self.config.t4);
                self.timers.start(TimerKind::I, now, i);
                ServerEvent::Absorb
            }
            // RFC 6026 §8.7: an ACK in Accepted belongs to the TU.
            (Some(Method::Ack), S::Accepted) => ServerEvent::Deliver,
            _ => ServerEvent::Absorb,
        }
    }

    /// Runs the timers due at `now`; call until it returns `None`.
    pub fn on_timer(&mut self, now: Instant) -> Option<TimerEvent> {
        use InviteServerState as S;
        while let Some(kind) = self.timers.pop_expired(now) {
            match (kind, self.state) {
                (TimerKind::G, S::Completed) => {
                    // RFC 3261 §17.2.1: Timer G doubles up to T2.
                    self.interval = self.interval.saturating_mul(2).min(self.config.t2);
                    self.timers.start(TimerKind::G, now, self.interval);
                    return Some(TimerEvent::Retransmit);
                }
                (TimerKind::H, S::Completed) => {
                    self.terminate();
                    return Some(TimerEvent::Timeout);
                }
                (TimerKind::I, S::Confirmed) | (TimerKind::L, S::Accepted) => {
                    self.terminate();
                    return Some(TimerEvent::Terminated);
                }
                _ => {}
            }
        }
        None
    }
}
