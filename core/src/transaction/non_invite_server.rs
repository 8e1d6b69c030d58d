//! The non-INVITE server transaction (RFC 3261 §17.2.2).
//!
//! ```text
//!  Trying --1xx--> Proceeding --200-699--> Completed --Timer J--> Terminated
//!    \---200-699--> Completed
//! ```

use core::net::SocketAddr;

use super::pool::{self, BufferId};
use super::request::{parse_request, parse_response, top_branch};
use super::{
    MessagePool, Reliability, ServerEvent, TimerConfig, TimerEvent, TimerKind, TimerTable,
    TransactionError, TransactionKey,
};
use crate::message::{Message, Method};
use crate::time::Instant;

/// The states of a non-INVITE server transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NonInviteServerState {
    /// The request is with the TU; retransmissions are absorbed.
    Trying,
    /// A provisional response went out; retransmissions get it again.
    Proceeding,
    /// A final response went out; retransmissions get it again until
    /// Timer J fires.
    Completed,
    /// Over; the transaction can be freed.
    Terminated,
}

/// A non-INVITE server transaction (every method but INVITE and ACK; a
/// CANCEL is one, beside the INVITE it cancels).
#[derive(Clone, Debug)]
pub struct NonInviteServerTransaction {
    state: NonInviteServerState,
    key: TransactionKey,
    peer: SocketAddr,
    reliability: Reliability,
    config: TimerConfig,
    timers: TimerTable,
    /// The buffer holding the last response sent (none until the TU sends
    /// one).
    stored: Option<BufferId>,
}

impl NonInviteServerTransaction {
    /// Starts the transaction for the request received in `request` from
    /// `source`; the caller hands the request to the TU.
    pub fn new(
        request: &[u8],
        source: SocketAddr,
        reliability: Reliability,
        config: TimerConfig,
        now: Instant,
    ) -> Result<Self, TransactionError> {
        let _ = now;
        let msg = parse_request(request)?;
        if matches!(msg.method(), Some(Method::Invite | Method::Ack)) {
            return Err(TransactionError::WrongMethod);
        }
        Ok(NonInviteServerTransaction {
            state: NonInviteServerState::Trying,
            key: TransactionKey::server(&msg)?,
            peer: source,
            reliability,
            config,
            timers: TimerTable::new(),
            stored: None,
        })
    }

    common_accessors!(
        NonInviteServerState,
        "Where the request came from.",
        "The last response, to (re)send; empty before the first."
    );

    /// Whether the state may still need the last response: RFC 3261
    /// §17.2.2 sends it again for each retransmitted request in
    /// Proceeding and Completed.
    pub fn needs_message(&self) -> bool {
        matches!(
            self.state,
            NonInviteServerState::Proceeding | NonInviteServerState::Completed
        )
    }

    /// Takes a response from the TU and keeps it in a buffer of `pool`
    /// for retransmitted requests; on `Ok` the caller sends
    /// [`message`](Self::message). After the final response the TU may
    /// send nothing more ([`TransactionError::InvalidState`]). On error
    /// ([`TransactionError::PoolEmpty`] among others) nothing changes.
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
        use NonInviteServerState as S;
        match (self.state, code) {
            (S::Trying | S::Proceeding, 100..=199) => {
                pool::store(pool, &mut self.stored, response)?;
                self.state = S::Proceeding;
                Ok(())
            }
            (S::Trying | S::Proceeding, _) => {
                pool::store(pool, &mut self.stored, response)?;
                self.state = S::Completed;
                // RFC 3261 §17.2.2: Timer J = 64·T1 over UDP, zero otherwise.
                let j = self.reliability.wait(self.config.t1_x64());
                self.timers.start(TimerKind::J, now, j);
                Ok(())
            }
            _ => Err(TransactionError::InvalidState),
        }
    }

    /// Takes a received request that matched this transaction's key: a
    /// retransmission.
    pub fn on_request(&mut self, now: Instant, request: &Message<'_>) -> ServerEvent {
        let _ = now;
        if !self.key.matches_request(request) {
            return ServerEvent::Absorb;
        }
        match self.state {
            // RFC 3261 §17.2.2: Trying absorbs, Proceeding and Completed
            // answer with the last response.
            NonInviteServerState::Proceeding | NonInviteServerState::Completed => {
                ServerEvent::Resend
            }
            _ => ServerEvent::Absorb,
        }
    }

    /// Runs the timers due at `now`; call until it returns `None`.
    pub fn on_timer(&mut self, now: Instant) -> Option<TimerEvent> {
        while let Some(kind) = self.timers.pop_expired(now) {
            if kind == TimerKind::J && self.state == NonInviteServerState::Completed {
                self.terminate();
                return Some(TimerEvent::Terminated);
            }
        }
        None
    }
}
