//! The transaction layer (RFC 3261 §17, amended by RFC 6026): the four
//! client and server state machines, their timers, transaction matching and
//! a fixed-capacity table of live transactions.
//!
//! Every machine is sans-IO. It is created from the bytes of the request it
//! sends (client) or received (server), is fed received messages and the
//! current time, and answers with what the caller must do: hand a message to
//! the transaction user (TU), (re)send [`message`](InviteClientTransaction::message)
//! to the peer, or forget the transaction. The message it may have to send
//! again is kept in a buffer lent by a [`MessagePool`] only while RFC 3261
//! §17 may ask for it (`needs_message` of each machine): a client's
//! request until its final response, a server's provisional or 300-699
//! response while retransmitted requests may come.
//!
//! ```
//! use handset_core::message::Message;
//! use handset_core::time::Instant;
//! use handset_core::transaction::{
//!     ClientEvent, MessagePool, NonInviteClientTransaction, Reliability, TimerConfig,
//!     TimerEvent,
//! };
//! let options = b"OPTIONS sip:bob@example.com SIP/2.0\r\n\
//!     Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnashds7\r\n\
//!     Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=1\r\n\
//!     To: <sip:bob@example.com>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n\
//!     Content-Length: 0\r\n\r\n";
//! let peer = "192.0.2.2:5060".parse().unwrap();
//! let t0 = Instant::ZERO;
//! let mut pool: MessagePool<1> = MessagePool::new();
//! let mut tx = NonInviteClientTransaction::new(
//!     options, peer, Reliability::Unreliable, TimerConfig::default(), t0, &mut pool,
//! ).unwrap();
//! // The caller sends `tx.message(&pool)` now, then sleeps until `poll_timeout`.
//! let wake = tx.poll_timeout().unwrap();
//! assert_eq!(wake.as_millis(), 500); // RFC 3261 §17.1.2.2: Timer E = T1
//! assert_eq!(tx.on_timer(wake), Some(TimerEvent::Retransmit));
//! let ok = b"SIP/2.0 200 OK\r\n\
//!     Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnashds7\r\n\
//!     From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>;tag=2\r\n\
//!     Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
//! let ok = Message::parse_datagram(ok).unwrap();
//! assert_eq!(tx.on_response(wake, &ok), ClientEvent::Deliver);
//! // Completed: nothing is retransmitted any more, the buffer goes back.
//! tx.trim(&mut pool);
//! assert_eq!(pool.in_use(), 0);
//! ```
//!
//! With a [`TransactionTable`] the caller's loop is:
//!
//! - a received response: [`TransactionTable::on_response`]; `None` sends
//!   it to the TU (RFC 3261 §18.1.2), which acknowledges a 2xx to an INVITE
//!   again when the transaction is already gone (§13.2.2.4) and drops the
//!   rest;
//! - a request to send: [`TransactionTable::start_client`], which keeps it
//!   in a buffer of the table's pool;
//! - a received request: [`TransactionTable::on_request`]; `None` is a new
//!   request for the TU, which creates a server transaction for it with
//!   [`start_server`](TransactionTable::start_server) and answers through
//!   [`send_response`](TransactionTable::send_response), or an ACK for a 2xx, which
//!   has no transaction and goes to the dialog; a CANCEL also finds the
//!   INVITE it cancels with [`TransactionTable::find_cancelled_invite`];
//! - at [`TransactionTable::poll_timeout`]: [`TransactionTable::handle_timer`]
//!   until `None`, sending [`TransactionTable::message`] on each
//!   [`TimerEvent::Retransmit`]; slots and buffers free themselves when
//!   their transaction ends.
//!
//! What belongs to the TU, not to this layer: sending 100 Trying for an
//! INVITE (RFC 3261 §17.2.1 lets the TU do it when it answers within
//! 200 ms), the ACK for a 2xx and the retransmission of a 2xx
//! (§13.2.2.4, §13.3.1.4), choosing 487 for a cancelled INVITE (§9.2), and
//! moving a request that is too large for UDP to a stream transport (§18.1.1).

/// The accessors the four machines share; each machine has the fields
/// `state`, `key`, `peer`, `reliability`, `timers` and `stored` (the
/// buffer of its [`MessagePool`] it holds, if any), and a method
/// `needs_message`.
macro_rules! common_accessors {
    ($state:ident, $peer_doc:literal, $message_doc:literal) => {
        /// The current state.
        pub fn state(&self) -> $state {
            self.state
        }

        /// The key messages are matched on.
        pub fn key(&self) -> &TransactionKey {
            &self.key
        }

        #[doc = $peer_doc]
        pub fn peer(&self) -> SocketAddr {
            self.peer
        }

        /// The transport's reliability.
        pub fn reliability(&self) -> Reliability {
            self.reliability
        }

        #[doc = $message_doc]
        ///
        /// The bytes live in `pool`, the pool the transaction was given.
        pub fn message<'p, const B: usize>(&self, pool: &'p super::MessagePool<B>) -> &'p [u8] {
            super::pool::bytes_of(pool, self.stored)
        }

        /// Whether the transaction holds a buffer of its pool.
        pub fn holds_buffer(&self) -> bool {
            self.stored.is_some()
        }

        /// Gives its buffer back to `pool` when its state no longer needs
        /// one ([`needs_message`](Self::needs_message)).
        pub fn trim<const B: usize>(&mut self, pool: &mut super::MessagePool<B>) {
            if !self.needs_message() {
                super::pool::release(pool, &mut self.stored);
            }
        }

        /// Gives its buffer back to `pool`, whatever the state: its owner
        /// calls this before it drops the transaction.
        pub fn release<const B: usize>(&mut self, pool: &mut super::MessagePool<B>) {
            super::pool::release(pool, &mut self.stored);
        }

        /// When `kind` fires, if armed.
        pub fn timer(&self, kind: TimerKind) -> Option<Instant> {
            self.timers.get(kind)
        }

        /// When [`on_timer`](Self::on_timer) has work next.
        pub fn poll_timeout(&self) -> Option<Instant> {
            self.timers.next().map(|(_, at)| at)
        }

        /// Whether the transaction is over.
        pub fn is_terminated(&self) -> bool {
            self.state == $state::Terminated
        }

        /// Ends the transaction at once: after a transport error (RFC 3261
        /// §17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2) or when the TU gives up.
        pub fn terminate(&mut self) {
            self.state = $state::Terminated;
            self.timers.stop_all();
        }
    };
}

mod accepted;
mod buf;
mod completed;
mod index;
mod invite_client;
mod invite_server;
mod key;
mod non_invite_client;
mod non_invite_server;
mod pool;
mod request;
mod table;
mod timer;

#[cfg(test)]
mod tests;

pub use buf::{MessageBuf, MAX_MESSAGE};
pub use completed::MAX_COMPLETED_RESPONSE;
pub use invite_client::{InviteClientState, InviteClientTransaction};
pub use invite_server::{InviteServerState, InviteServerTransaction};
pub use key::{Role, TransactionKey, MAX_BRANCH, MAX_KEY_METHOD, MAX_SENT_BY};
pub use non_invite_client::{NonInviteClientState, NonInviteClientTransaction};
pub use non_invite_server::{NonInviteServerState, NonInviteServerTransaction};
pub use pool::{BufferId, BufferSlot, MessagePool};
pub use table::{TableFull, Transaction, TransactionId, TransactionTable};
pub use timer::{TimerKind, TimerTable};

use crate::message::ParseErrorKind;
use crate::rng::Rng;
use crate::time::Duration;

/// The RFC 3261 timer base values (§17.1.1.1, table 4 in Appendix A).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerConfig {
    /// RTT estimate: the first retransmission interval (default 500 ms).
    pub t1: Duration,
    /// Longest retransmission interval for non-INVITE requests and INVITE
    /// responses (default 4 s).
    pub t2: Duration,
    /// Longest time a message stays in the network (default 5 s).
    pub t4: Duration,
}

impl TimerConfig {
    /// 64·T1: Timers B, F, H, J, L and M.
    pub fn t1_x64(&self) -> Duration {
        self.t1.saturating_mul(64)
    }

    /// Timer D: "at least 32 seconds" over unreliable transports
    /// (RFC 3261 §17.1.1.2); 64·T1 when a larger T1 asks for more.
    pub fn timer_d(&self) -> Duration {
        let d = self.t1_x64();
        if d > Duration::from_secs(32) {
            d
        } else {
            Duration::from_secs(32)
        }
    }
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

/// Whether the transport delivers messages reliably (TCP, TLS, SCTP) or
/// may lose them (UDP).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reliability {
    /// UDP: the transaction retransmits (Timers A, E, G) and waits out
    /// stray retransmissions (Timers D, I, J, K).
    Unreliable,
    /// A stream transport: no retransmissions, and D, I, J, K are zero.
    Reliable,
}

impl Reliability {
    /// `d` over an unreliable transport, zero over a reliable one
    /// (RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2 for D, K, I, J).
    pub(crate) fn wait(self, d: Duration) -> Duration {
        match self {
            Reliability::Unreliable => d,
            Reliability::Reliable => Duration::ZERO,
        }
    }
}

/// What a client transaction asks of its caller after a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientEvent {
    /// Hand the response to the TU.
    Deliver,
    /// Hand the response (a 300-699 final to an INVITE) to the TU and send
    /// the ACK the transaction built, now in `message()` (RFC 3261 §17.1.1.3).
    DeliverAndAck,
    /// A retransmitted 300-699 final: send the ACK in `message()` again,
    /// but do not show the response to the TU (RFC 3261 §17.1.1.2).
    Ack,
    /// Nothing to do: a retransmission, or a response the state ignores.
    Absorb,
}

/// What a server transaction asks of its caller after a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerEvent {
    /// Hand the request to the TU: an ACK for a 2xx in the INVITE server's
    /// Accepted state (RFC 6026 §7.1).
    Deliver,
    /// A retransmitted request: send the last response, `message()`, again
    /// (RFC 3261 §17.2.1, §17.2.2).
    Resend,
    /// Nothing to do: a retransmission with no response to repeat yet, or
    /// an ACK absorbed by the transaction.
    Absorb,
}

/// What a transaction asks of its caller when one of its timers fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimerEvent {
    /// Send `message()` again (Timers A, E, G).
    Retransmit,
    /// The peer never answered: Timer B or F for a client (the TU treats it
    /// as a 408, RFC 3261 §8.1.3.1), Timer H for an INVITE server (the ACK
    /// never came, §13.3.1.4). The transaction is terminated.
    Timeout,
    /// The transaction ended normally (Timers D, I, J, K, L, M) and can be
    /// freed.
    Terminated,
}

impl TimerEvent {
    /// Whether the transaction is over after this event.
    pub fn is_final(self) -> bool {
        matches!(self, TimerEvent::Timeout | TimerEvent::Terminated)
    }
}

/// Why a transaction could not be created or could not take a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransactionError {
    /// The bytes are not a SIP message.
    Parse(ParseErrorKind),
    /// A message is longer than [`MAX_MESSAGE`] (RFC 3261 §18.1.1 moves
    /// such requests to a congestion-controlled transport).
    MessageTooLarge,
    /// A request was expected, a response came (or the other way round).
    WrongKind,
    /// The message lacks a Via, or its top Via does not parse.
    MissingVia,
    /// The message lacks a CSeq, or it does not parse.
    MissingCSeq,
    /// The CSeq method differs from the request method (RFC 3261 §8.1.1.5).
    MethodMismatch,
    /// The top Via's branch lacks the magic cookie `z9hG4bK`: an RFC 2543
    /// peer, whose transactions this layer does not match (§17.2.3).
    NotRfc3261Branch,
    /// A branch, sent-by or method is longer than a key can store.
    KeyTooLong,
    /// The machine does not handle this method: INVITE needs the INVITE
    /// machines, and an ACK never creates a transaction (§17).
    WrongMethod,
    /// The response is not allowed in the transaction's state (a final
    /// response was already sent, or a server got a response it cannot use).
    InvalidState,
    /// A client transaction was asked to send a response.
    NotAServer,
    /// The response's top Via branch is not the transaction's.
    NotThisTransaction,
    /// Building a message (ACK, CANCEL) overflowed the caller's buffer.
    BufferTooSmall,
    /// Every buffer of the [`MessagePool`] is lent: the message cannot be
    /// kept, and nothing changed. The caller refuses what needed it (503
    /// to a new request, an error for a command) and tries again later.
    PoolEmpty,
    /// Every slot of the [`TransactionTable`] is taken; nothing changed.
    TableFull,
}

impl From<crate::message::ParseError> for TransactionError {
    fn from(e: crate::message::ParseError) -> Self {
        TransactionError::Parse(e.kind)
    }
}

impl core::fmt::Display for TransactionError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TransactionError::Parse(k) => write!(f, "unparsable message: {k}"),
            TransactionError::MessageTooLarge => f.write_str("message too large"),
            TransactionError::WrongKind => f.write_str("request and response confused"),
            TransactionError::MissingVia => f.write_str("missing or malformed Via"),
            TransactionError::MissingCSeq => f.write_str("missing or malformed CSeq"),
            TransactionError::MethodMismatch => f.write_str("CSeq method differs"),
            TransactionError::NotRfc3261Branch => f.write_str("branch without magic cookie"),
            TransactionError::KeyTooLong => f.write_str("transaction key too long"),
            TransactionError::WrongMethod => f.write_str("method not handled here"),
            TransactionError::InvalidState => f.write_str("not allowed in this state"),
            TransactionError::NotAServer => f.write_str("not a server transaction"),
            TransactionError::NotThisTransaction => f.write_str("response of another transaction"),
            TransactionError::BufferTooSmall => f.write_str("buffer too small"),
            TransactionError::PoolEmpty => f.write_str("no free message buffer"),
            TransactionError::TableFull => f.write_str("transaction table full"),
        }
    }
}

/// The RFC 3261 magic cookie that starts every branch (§8.1.1.7).
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// Random characters after the magic cookie in a generated branch: 16
/// base-36 characters, about 82 bits.
const BRANCH_RANDOM: usize = 16;

/// A branch generated by [`new_branch`]: `z9hG4bK` and 16 random characters.
pub type Branch = heapless::String<{ MAGIC_COOKIE.len() + BRANCH_RANDOM }>;

/// A fresh Via branch, unique over space and time (RFC 3261 §8.1.1.7),
/// drawn from the seeded generator.
pub fn new_branch(rng: &mut Rng) -> Branch {
    let mut random = [0u8; BRANCH_RANDOM];
    rng.fill_token(&mut random);
    let mut b = Branch::new();
    // Capacity is exactly cookie + random, and token characters are ASCII:
    // neither push can fail.
    let _ = b.push_str(MAGIC_COOKIE);
    for &c in &random {
        let _ = b.push(char::from(c));
    }
    b
}
