//! The phone facade: one sans-IO object a socket loop, a simulator or
//! firmware drives the same way.
//!
//! The run-loop contract (as in str0m and quinn-proto): after every
//! [`Phone::handle_input`], drain [`Phone::poll_output`] until it returns
//! `None`, then sleep until [`Phone::poll_timeout`] (or a datagram) and feed
//! [`Input::Tick`].
//!
//! ```
//! use handset_core::phone::{Config, Input, Output, Phone};
//! use handset_core::time::Instant;
//! let config = Config::new("alice", "example.com", "192.0.2.1:5060".parse().unwrap()).unwrap();
//! let mut phone: Phone<2> = Phone::new(config, 7);
//! let options = b"OPTIONS sip:alice@192.0.2.1 SIP/2.0\r\n\
//!     Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKopt1\r\nMax-Forwards: 70\r\n\
//!     From: <sip:ping@example.com>;tag=p1\r\nTo: <sip:alice@example.com>\r\n\
//!     Call-ID: ping1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
//! let now = Instant::ZERO;
//! phone.handle_input(now, Input::Datagram {
//!     from: "192.0.2.9:5060".parse().unwrap(),
//!     to: "192.0.2.1:5060".parse().unwrap(),
//!     data: options,
//! }).unwrap();
//! match phone.poll_output() {
//!     Some(Output::Transmit { data, .. }) => assert!(data.starts_with(b"SIP/2.0 200 OK")),
//!     other => panic!("{other:?}"),
//! }
//! ```

mod api;
mod calls;
mod features;
mod footprint;
mod info;
mod mwi;
mod outbox;
mod policy;
#[cfg(test)]
mod pool_tests;
mod prack;
mod registrar;
mod session_timer;
mod stopped;
#[cfg(test)]
mod test_support;
mod transfer;
#[cfg(all(
    test,
    not(all(
        feature = "prack",
        feature = "session-timer",
        feature = "info-dtmf",
        feature = "mwi",
        feature = "redirect"
    ))
))]
mod without_features;

pub use crate::call::reliable::ReliableProvisional;
pub use crate::call::session_timer::SessionTimerSettings;
pub use crate::transfer::{TransferConfig, TransferPolicy};
pub use api::{CallHandle, Command, CommandError, EndReason, Event};
pub use footprint::PartSizes;
pub use info::{
    parse_dtmf_info, write_dtmf_relay, DtmfMode, InfoBodyError, InfoDigit, DTMF_RELAY_TYPE,
    DTMF_TYPE, INFO_DTMF_QUEUE,
};
pub use mwi::{MwiStatus, MWI_BODY_TYPE, MWI_PACKAGE};
pub use outbox::{Outbox, OutboxError};
pub use policy::{
    decide_incoming, is_anonymous, requested_answer_after, ForwardTarget, IncomingDecision,
    IncomingFacts, Policy, MAX_FORWARD_TARGET,
};

use core::net::SocketAddr;

use heapless::Deque;

use crate::call::Call;
use crate::dialog::DialogTable;
use crate::media::{MediaInput, MediaOutput};
use crate::message::{Message, Method, ParseError};
use crate::register::{RegisterConfig, Registration, RegistrationOutcome};
use crate::rng::Rng;
use crate::sdp::MediaPolicy;
use crate::time::{Duration, Instant};
use crate::transaction::{
    new_branch, ClientEvent, Reliability, ServerEvent, TimerConfig, TimerEvent, TransactionError,
    TransactionId, TransactionTable, MAX_MESSAGE,
};
use crate::ua::{self, text, LocalIdentity};

/// Bytes of queued datagrams a phone holds between two drains: two
/// messages of the largest size (no simulated flow queues more than
/// 1.8 KB at once). A transaction timer that finds less than a message's
/// room waits, still due, until the caller drained the queue.
pub const OUTBOX_BYTES: usize = 2 * MAX_MESSAGE;
/// Datagrams a phone can queue between two drains.
pub const OUTBOX_SLOTS: usize = 8;
/// Events a phone can queue between two drains.
pub const EVENT_SLOTS: usize = 16;
/// Message buffers (`BUFFERS` of [`Phone`]) enough for a desk phone: the
/// most a phone keeps at once in any call flow of the simulator, under
/// each of its fault profiles, is 7 (a semi-attended transfer under loss:
/// the consultation's and the held call's requests, the REFER and its
/// NOTIFYs), and one more is spare.
pub const DESK_PHONE_BUFFERS: usize = 8;

/// A phone's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Who the phone is and where its SIP socket is bound.
    pub identity: LocalIdentity,
    /// Where requests go that have no route of their own (a desk phone's
    /// outbound proxy); `None` sends by the Request-URI's IP host.
    pub outbound_proxy: Option<SocketAddr>,
    /// The registrar; `None` disables registration.
    pub registrar: Option<SocketAddr>,
    /// Registration settings.
    pub register: RegisterConfig,
    /// RFC 3261 timer base values.
    pub timers: TimerConfig,
    /// Whether the SIP transport is reliable (TCP) or not (UDP).
    pub reliability: Reliability,
    /// Codecs, DTMF payload type and packet time.
    pub media: MediaPolicy,
    /// The first RTP port; call slot `n` uses `rtp_port + 2n` (RTCP one
    /// above, RFC 3550 §11).
    pub rtp_port: u16,
    /// How long an outgoing call may ring before the phone cancels it.
    pub no_answer_timeout: Duration,
    /// How long an incoming call may ring before the phone answers 480
    /// Temporarily Unavailable, so a caller that vanished never holds a
    /// line for good.
    pub incoming_ring_timeout: Duration,
    /// Call transfer: who decides on incoming transfers, early-dialog
    /// replacement, how a blind transfer releases the call.
    pub transfer: TransferConfig,
}

impl Config {
    /// Defaults for user `user` at `domain`, SIP bound at `local`. `None`
    /// when a name is longer than the phone stores.
    pub fn new(user: &str, domain: &str, local: SocketAddr) -> Option<Config> {
        Some(Config {
            identity: LocalIdentity {
                user: text(user)?,
                domain: text(domain)?,
                display_name: ua::Text::new(),
                local,
                transport: "UDP",
            },
            outbound_proxy: None,
            registrar: None,
            register: RegisterConfig::default(),
            timers: TimerConfig::default(),
            reliability: Reliability::Unreliable,
            media: MediaPolicy::default(),
            rtp_port: 16384,
            no_answer_timeout: Duration::from_secs(60),
            incoming_ring_timeout: Duration::from_secs(120),
            transfer: TransferConfig::default(),
        })
    }
}

/// Something that happens to a phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input<'a> {
    /// A datagram arrived on the SIP socket.
    Datagram {
        /// The sender.
        from: SocketAddr,
        /// The local address it arrived on.
        to: SocketAddr,
        /// Its bytes.
        data: &'a [u8],
    },
    /// The user asks for something.
    Command(Command<'a>),
    /// Time passed: the instant [`Phone::poll_timeout`] named was reached.
    Tick,
    /// Something for a call's media stream (received RTP/RTCP, DTMF).
    Media {
        /// The call.
        call: CallHandle,
        /// What happened.
        input: MediaInput<'a>,
    },
}

/// Something the caller must do or learn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output<'a> {
    /// Send `data` from `from` to `to`. The bytes live in the phone until
    /// the next call that changes it.
    Transmit {
        /// The local address to send from.
        from: SocketAddr,
        /// The destination.
        to: SocketAddr,
        /// The datagram.
        data: &'a [u8],
    },
    /// Tell the user.
    Event(Event),
    /// Drive a call's media stream.
    Media {
        /// The call.
        call: CallHandle,
        /// What to do.
        output: MediaOutput,
    },
}

/// Why an input was refused. Nothing is lost: the phone's state is as
/// before the input, and live calls go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputError {
    /// The datagram is not a SIP message; it was dropped.
    Malformed(ParseError),
    /// The datagram is a SIP message the phone cannot use (missing
    /// mandatory headers, unmatched response); it was answered if it could
    /// be, else dropped.
    Unusable,
    /// The input's time is before an earlier input's; time never runs
    /// backwards in the phone.
    TimeWentBackwards,
}

/// Counters for what the phone dropped or refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams that did not parse.
    pub malformed: u32,
    /// Parsed messages that could not be used.
    pub unusable: u32,
    /// Responses matching no transaction.
    pub stray_responses: u32,
    /// Requests refused because a table was full.
    pub refused_full: u32,
}

/// A SIP phone with `CALLS` call slots, `TXNS` transaction slots,
/// `COMPLETED` compact records for answered non-INVITE requests waiting out
/// Timer J (see [`TransactionTable`]; 0, the default, keeps them in slots)
/// and `BUFFERS` message buffers (by default one per transaction slot).
///
/// The buffers hold every message the phone may have to send again: a
/// transaction's request or last response while RFC 3261 §17 may ask for
/// it, and the 2xx a call retransmits until its ACK (§13.3.1.4). Few are
/// in use at once, so a firmware phone sizes `BUFFERS` by the most its
/// flows keep at one time ([`buffers_peak`](Self::buffers_peak)). When
/// every buffer is lent, a new request gets 503 with Retry-After and a
/// command fails with [`CommandError::NoResources`]; nothing in progress
/// is dropped.
#[derive(Debug)]
pub struct Phone<
    const CALLS: usize,
    const TXNS: usize = 8,
    const COMPLETED: usize = 0,
    const BUFFERS: usize = TXNS,
> {
    config: Config,
    rng: Rng,
    now: Instant,
    txns: TransactionTable<TXNS, COMPLETED, BUFFERS>,
    registration: Registration,
    register_tx: Option<TransactionId>,
    outbox: Outbox<OUTBOX_BYTES, OUTBOX_SLOTS>,
    events: Deque<Event, EVENT_SLOTS>,
    /// Calls whose stream stopped, each owing the shim a `StopStream`.
    stopped_streams: stopped::StoppedStreams,
    /// The call slots, taken into use in index order: a slot never used
    /// holds no bytes, so a new phone carries none of the calls' storage
    /// (nothing of it is built on the stack and moved at construction).
    calls: heapless::Vec<Option<Call>, CALLS>,
    /// One past the highest live call slot: walks over the calls stop
    /// here, so their cost follows the calls in progress, not `CALLS`.
    calls_high: usize,
    /// Which call slots hold a call, packed apart from the calls: a walk
    /// reads these flags instead of touching every call's memory.
    live_slots: [bool; CALLS],
    generations: [u16; CALLS],
    dialogs: DialogTable<CALLS>,
    stats: Stats,
    policy: Policy,
    features: [policy::SlotFeatures; CALLS],
    conference: policy::Conference,
    transfers: transfer::Transfers<CALLS>,
    mwi: mwi::Mwi,
    info_dtmf: info::InfoDtmf,
}

impl<const CALLS: usize, const TXNS: usize, const COMPLETED: usize, const BUFFERS: usize>
    Phone<CALLS, TXNS, COMPLETED, BUFFERS>
{
    /// A phone whose every random choice follows from `seed`.
    pub fn new(config: Config, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let registration = Registration::new(&mut rng, config.register.expires);
        Phone {
            config,
            rng,
            now: Instant::ZERO,
            txns: TransactionTable::new(),
            registration,
            register_tx: None,
            outbox: Outbox::new(),
            events: Deque::new(),
            stopped_streams: stopped::StoppedStreams::default(),
            calls: heapless::Vec::new(),
            calls_high: 0,
            live_slots: [false; CALLS],
            generations: [0; CALLS],
            dialogs: DialogTable::new(),
            stats: Stats::default(),
            policy: Policy::default(),
            features: [policy::SlotFeatures::default(); CALLS],
            conference: policy::Conference::default(),
            transfers: transfer::Transfers::new(),
            mwi: mwi::Mwi::default(),
            info_dtmf: info::InfoDtmf::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// What was dropped or refused so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Live transactions (0 once every exchange and its timers are over).
    pub fn transactions_in_use(&self) -> usize {
        self.txns.len()
    }

    /// Message buffers lent (0 once nothing may be sent again).
    pub fn buffers_in_use(&self) -> usize {
        self.txns.pool().in_use()
    }

    /// The most message buffers lent at once since the phone was made.
    pub fn buffers_peak(&self) -> usize {
        self.txns.pool().peak()
    }

    /// The registration's state.
    pub fn registration(&self) -> crate::register::RegistrationState {
        self.registration.state()
    }

    /// Feeds one input.
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) -> Result<(), InputError> {
        if now < self.now {
            return Err(InputError::TimeWentBackwards);
        }
        self.now = now;
        let result = match input {
            Input::Datagram { from, to: _, data } => self.handle_datagram(from, data),
            Input::Command(c) => {
                self.handle_command(c);
                Ok(())
            }
            Input::Tick => Ok(()),
            Input::Media { call, input } => {
                self.media_input(call, input);
                Ok(())
            }
        };
        self.run_timers();
        result
    }

    /// The next output, until `None`.
    pub fn poll_output(&mut self) -> Option<Output<'_>> {
        // Only a datagram returned by this very call may be put back.
        self.outbox.forget_last();
        // Timers a full outbox held back (`due_transaction_timer`) run once
        // the caller drained it, so one drain still takes everything due.
        if self.outbox.is_empty() && self.txns.poll_timeout().is_some_and(|t| t <= self.now) {
            self.run_transaction_timers();
        }
        if let Some(e) = self.events.pop_front() {
            return Some(Output::Event(e));
        }
        if let Some((call, output)) = self.stopped_streams.pop() {
            return Some(Output::Media { call, output });
        }
        for slot in self.call_slots() {
            let handle = self.handle(slot);
            if let Some(Some(c)) = self.calls.get_mut(slot) {
                if let Some(output) = c.stream.as_mut().and_then(|s| s.poll_output()) {
                    return Some(Output::Media {
                        call: handle,
                        output,
                    });
                }
            }
        }
        let (from, to, data) = self.outbox.pop()?;
        Some(Output::Transmit { from, to, data })
    }

    /// Puts the datagram the last [`Phone::poll_output`] returned back at
    /// the head of the queue, for a caller whose driver cannot take it yet
    /// (a full send buffer): the next `poll_output` that returns a
    /// datagram returns it again, so the caller keeps no copy. `false` when
    /// the last output was not a datagram or an input came in between.
    pub fn put_back_transmit(&mut self) -> bool {
        self.outbox.unpop()
    }

    /// When the phone next needs [`Input::Tick`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next = self.txns.poll_timeout();
        if self.config.registrar.is_some() {
            next = earliest(next, self.registration.poll_timeout());
        }
        for c in self
            .call_slots()
            .filter_map(|i| self.calls.get(i)?.as_ref())
        {
            next = earliest(next, c.poll_timeout());
        }
        if cfg!(feature = "policy") {
            for f in &self.features {
                next = earliest(next, f.poll_timeout());
            }
        }
        next = earliest(next, self.transfer_poll_timeout());
        if cfg!(feature = "mwi") {
            next = earliest(next, self.mwi.poll_timeout());
        }
        next
    }

    fn event(&mut self, e: Event) {
        // A full queue drops the oldest-but-one? No: the newest is dropped
        // and counted; the caller drains after every input, so the queue
        // only fills under a caller that breaks the run-loop contract.
        let _ = self.events.push_back(e);
        self.transfer_saw(&e);
    }

    fn transmit(&mut self, to: SocketAddr, data: &[u8]) {
        let from = self.config.identity.local;
        let _ = self.outbox.push(from, to, data);
    }

    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    fn handle_command(&mut self, c: Command<'_>) {
        match c {
            Command::Register => {
                if self.config.registrar.is_some() {
                    self.registration.start(self.now);
                }
            }
            Command::Unregister => self.registration.stop(self.now),
            Command::SetPolicy(p) => self.policy = p.clone(),
            Command::SubscribeMwi { .. } | Command::UnsubscribeMwi if !cfg!(feature = "mwi") => {
                self.event(Event::CommandFailed(CommandError::Unsupported))
            }
            Command::SubscribeMwi { mailbox } => self.mwi_start(mailbox),
            Command::UnsubscribeMwi => self.mwi_stop(),
            other => self.handle_call_command(other),
        }
    }

    fn handle_datagram(&mut self, from: SocketAddr, data: &[u8]) -> Result<(), InputError> {
        let msg = match Message::parse_datagram(data) {
            Ok(m) => m,
            Err(e) => {
                self.stats.malformed = self.stats.malformed.saturating_add(1);
                return Err(InputError::Malformed(e));
            }
        };
        if msg.is_request() {
            self.handle_request(from, data, &msg)
        } else {
            self.handle_response(&msg)
        }
    }

    fn handle_request(
        &mut self,
        from: SocketAddr,
        raw: &[u8],
        req: &Message<'_>,
    ) -> Result<(), InputError> {
        let to = ua::response_destination(req, from);
        // RFC 3261 §8.2.2 / §21.5.6: another SIP version gets 505.
        if !req.is_sip_2_0() {
            return self.respond_stateless(req, to, 505, &[]);
        }
        if let Some(warning) = unusable_header(req) {
            self.stats.unusable = self.stats.unusable.saturating_add(1);
            // §8.2.6.1... a request missing what a response echoes cannot
            // be answered reliably; 400 when the Via is there to route it,
            // with a Warning (§20.43) that names the header at fault.
            if req.top_via().is_some_and(|v| v.is_ok()) && req.method() != Some(Method::Ack) {
                let _ = self.respond_stateless(req, to, 400, &[("Warning", warning)]);
            }
            return Err(InputError::Unusable);
        }
        // §21.4.14: a request longer than a transaction can keep is
        // answered 513 rather than dropped without a word.
        if raw.len() > MAX_MESSAGE {
            self.stats.unusable = self.stats.unusable.saturating_add(1);
            if req.method() != Some(Method::Ack) {
                let _ = self.respond_stateless(req, to, 513, &[]);
            }
            return Err(InputError::Unusable);
        }
        // §17.2.3: a retransmission belongs to its server transaction.
        if let Some((_, ev)) = self.txns.on_request(self.now, req) {
            match ev {
                ServerEvent::Resend => self.resend_server_response(req),
                // RFC 6026 §7.1: the ACK for our 2xx, passed up.
                ServerEvent::Deliver => self.on_ack(req),
                ServerEvent::Absorb => {}
            }
            return Ok(());
        }
        let in_dialog = req
            .to()
            .and_then(|t| t.ok())
            .is_some_and(|t| t.tag().is_some());
        // RFC 3261 §21.5.4: a new request from outside our dialogs may not
        // take the last quarter of the transaction slots. They stay free
        // for our own requests and our dialogs' peers, so a flood never
        // cuts a live call off; it gets 503 with Retry-After instead.
        let stranger = !in_dialog && !matches!(req.method(), Some(Method::Ack | Method::Cancel));
        // Likewise for the message buffers: every new request but ACK
        // needs one for its answer (RFC 3261 §17.2.1, §17.2.2), so with
        // none free it is refused now, before anything changes.
        let buffers = self.txns.pool().available();
        let no_buffer = req.method() != Some(Method::Ack) && buffers == 0;
        let reserved = TXNS.saturating_sub(self.txns.len()) <= TXNS / 4 || buffers <= BUFFERS / 4;
        if no_buffer || (stranger && reserved) {
            self.stats.refused_full = self.stats.refused_full.saturating_add(1);
            return self.respond_stateless(req, to, 503, &[("Retry-After", "5")]);
        }
        if let Some(refused) = self.check_extensions(from, raw, req, in_dialog) {
            return refused;
        }
        match req.method() {
            Some(Method::Ack) => {
                self.on_ack(req);
                Ok(())
            }
            Some(Method::Cancel) => self.on_cancel(from, raw, req),
            Some(Method::Notify) if cfg!(feature = "mwi") && self.mwi_owns(req) => {
                self.mwi_on_notify(from, raw, req)
            }
            _ if in_dialog => self.on_in_dialog_request(from, raw, req),
            Some(Method::Invite) => self.on_new_invite(from, raw, req),
            Some(Method::Options) => self.respond_in_transaction(raw, req, from, 200),
            Some(Method::Bye) => self.respond_in_transaction(raw, req, from, 481),
            // A transfer is only taken from the party of a call.
            Some(Method::Refer) => self.respond_in_transaction(raw, req, from, 403),
            // RFC 3262 §3, RFC 3311 §5.2: only inside a dialog.
            Some(Method::Prack | Method::Update) if cfg!(feature = "prack") => {
                self.respond_in_transaction(raw, req, from, 481)
            }
            _ => self.respond_in_transaction(raw, req, from, 501),
        }
    }

    fn resend_client_message(&mut self, id: TransactionId) {
        self.resend_stored(id);
    }

    fn resend_server_response(&mut self, req: &Message<'_>) {
        if let Some((to, response)) = self.txns.last_response(req) {
            let from = self.config.identity.local;
            let _ = self.outbox.push(from, to, response);
        }
    }

    /// Queues the message transaction `id` keeps, straight from the table
    /// into the outbox: no message-sized copy on the stack.
    fn resend_stored(&mut self, id: TransactionId) {
        if let Some(t) = self.txns.get(id) {
            let from = self.config.identity.local;
            let _ = self
                .outbox
                .push(from, t.peer(), t.message(self.txns.pool()));
        }
    }

    /// Answers a non-INVITE request through a new server transaction, so
    /// retransmissions of the request get the same answer (§17.2.2).
    fn respond_in_transaction(
        &mut self,
        raw: &[u8],
        req: &Message<'_>,
        from: SocketAddr,
        code: u16,
    ) -> Result<(), InputError> {
        let extra: &[(&str, &str)] = match code {
            200 | 405 | 501 => &[("Allow", ua::ALLOW), ("Supported", ua::SUPPORTED)],
            _ => &[],
        };
        self.respond_in_transaction_with(raw, req, from, code, extra)
    }

    /// [`respond_in_transaction`](Self::respond_in_transaction) with the
    /// response's `extra` headers given.
    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    fn respond_in_transaction_with(
        &mut self,
        raw: &[u8],
        req: &Message<'_>,
        from: SocketAddr,
        code: u16,
        extra: &[(&str, &str)],
    ) -> Result<(), InputError> {
        let to = ua::response_destination(req, from);
        let mut tag: ua::Text<16> = ua::random_token(&mut self.rng, 10);
        if req
            .to()
            .and_then(|t| t.ok())
            .is_some_and(|t| t.tag().is_some())
        {
            tag.clear();
        }
        let mut buf = [0u8; MAX_MESSAGE];
        let tag_opt = if tag.is_empty() {
            None
        } else {
            Some(tag.as_str())
        };
        let Some(n) = ua::write_simple_response(&mut buf, req, code, tag_opt, extra) else {
            return Err(InputError::Unusable);
        };
        self.answer_in_new_server_transaction(raw, to, buf.get(..n).unwrap_or(&[]));
        Ok(())
    }

    /// Sends `response`, the final answer to the non-INVITE request `raw`,
    /// from a new server transaction that keeps it for the request's
    /// retransmissions (RFC 3261 §17.2.2); without a free slot or buffer
    /// the answer still goes out once.
    fn answer_in_new_server_transaction(&mut self, raw: &[u8], to: SocketAddr, response: &[u8]) {
        let tx = self.txns.start_server(
            raw,
            to,
            self.config.reliability,
            self.config.timers,
            self.now,
        );
        let kept = match tx {
            Ok(id) => {
                let kept = self.txns.send_response(id, self.now, response);
                if kept.is_err() {
                    self.txns.remove(id);
                }
                kept
            }
            Err(e) => Err(e),
        };
        if matches!(
            kept,
            Err(TransactionError::TableFull | TransactionError::PoolEmpty)
        ) {
            self.stats.refused_full = self.stats.refused_full.saturating_add(1);
        }
        self.transmit(to, response);
    }

    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    fn respond_stateless(
        &mut self,
        req: &Message<'_>,
        to: SocketAddr,
        code: u16,
        extra: &[(&str, &str)],
    ) -> Result<(), InputError> {
        let mut buf = [0u8; MAX_MESSAGE];
        let tag: ua::Text<16> = ua::random_token(&mut self.rng, 10);
        if let Some(n) = ua::write_simple_response(&mut buf, req, code, Some(&tag), extra) {
            self.transmit(to, buf.get(..n).unwrap_or(&[]));
        }
        Ok(())
    }

    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    fn handle_response(&mut self, resp: &Message<'_>) -> Result<(), InputError> {
        let Some((id, ev)) = self.txns.on_response(self.now, resp) else {
            self.stats.stray_responses = self.stats.stray_responses.saturating_add(1);
            self.on_stray_ok(resp);
            return Err(InputError::Unusable);
        };
        if ev == ClientEvent::Ack || ev == ClientEvent::DeliverAndAck {
            // RFC 3261 §17.1.1.3: the transaction built the ACK for a
            // non-2xx final; send it.
            self.resend_client_message(id);
        }
        if !matches!(ev, ClientEvent::Deliver | ClientEvent::DeliverAndAck) {
            return Ok(());
        }
        // Compiled out with their cargo features, the usages see nothing.
        if self.transfer_on_response(id, resp)
            || (cfg!(feature = "mwi") && self.mwi_on_response(id, resp))
            || (cfg!(feature = "info-dtmf") && self.info_on_response(id, resp))
            || (cfg!(feature = "prack") && self.update_on_response(id, resp))
        {
            return Ok(());
        }
        if self.call_by_invite_tx(id).is_some() {
            self.on_invite_response(id, ev, resp);
            return Ok(());
        }
        // A 2xx from an earlier INVITE of a call (a re-INVITE since
        // superseded) still wants its ACK (RFC 3261 §13.2.2.4).
        self.on_stray_ok(resp);
        if Some(id) == self.register_tx && resp.status().is_some_and(|c| c >= 200) {
            self.register_tx = None;
            let outcome = self.registration.on_response(
                self.now,
                &self.config.identity,
                &self.config.register,
                resp,
            );
            self.registration_event(outcome);
        }
        Ok(())
    }

    fn registration_event(&mut self, outcome: RegistrationOutcome) {
        let server = self.registration.answered_by();
        match outcome {
            RegistrationOutcome::Registered(expires) => {
                self.follow_registrar();
                self.event(Event::Registered { expires, server })
            }
            RegistrationOutcome::Unregistered => self.event(Event::Unregistered),
            RegistrationOutcome::Failed(code) => {
                self.event(Event::RegistrationFailed { code, server })
            }
            RegistrationOutcome::FailbackFailed(_)
            | RegistrationOutcome::Retrying
            | RegistrationOutcome::Ignored => {}
        }
    }

    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    fn run_timers(&mut self) {
        self.run_transaction_timers();
        self.run_call_timers();
        if cfg!(feature = "session-timer") {
            self.run_session_timers();
        }
        if cfg!(feature = "prack") {
            self.run_reliable_timers();
        }
        if cfg!(feature = "policy") {
            self.run_feature_timers();
        }
        self.run_transfer_timers();
        self.poll_registration();
        if cfg!(feature = "mwi") {
            self.poll_mwi();
        }
        if cfg!(feature = "info-dtmf") {
            self.poll_info_dtmf();
        }
    }

    /// Runs every transaction timer due, as far as the outbox has room
    /// (see [`Phone::due_transaction_timer`]).
    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    fn run_transaction_timers(&mut self) {
        while let Some((id, ev)) = self.due_transaction_timer() {
            match ev {
                TimerEvent::Retransmit => self.resend_stored(id),
                TimerEvent::Timeout => {
                    self.transfer_on_timeout(id);
                    if cfg!(feature = "mwi") {
                        self.mwi_on_timeout(id);
                    }
                    if cfg!(feature = "info-dtmf") {
                        self.info_on_timeout(id);
                    }
                    if cfg!(feature = "prack") {
                        self.update_on_timeout(id);
                    }
                    self.on_tx_timer(id, ev);
                    if Some(id) == self.register_tx {
                        self.register_tx = None;
                        let o = self
                            .registration
                            .on_timeout(self.now, &self.config.register);
                        self.registration_event(o);
                    }
                }
                TimerEvent::Terminated => {}
            }
        }
        self.txns.remove_terminated();
    }

    /// The next transaction timer due, unless the outbox lacks room for
    /// the message it may queue (a retransmission): then it stays due
    /// until the caller drained the outbox, and [`Phone::poll_output`]
    /// runs it then. A late tick that finds every transaction
    /// retransmitting thus sends them all, in order, none dropped.
    fn due_transaction_timer(&mut self) -> Option<(TransactionId, TimerEvent)> {
        if !self.outbox.has_room(MAX_MESSAGE) {
            return None;
        }
        self.txns.handle_timer(self.now)
    }

    fn poll_registration(&mut self) {
        let Some(primary) = self.config.registrar else {
            return;
        };
        if self.register_tx.is_some() {
            return;
        }
        if self.send_register(primary) == Some(false) {
            let o = self
                .registration
                .on_timeout(self.now, &self.config.register);
            self.registration_event(o);
        }
    }

    /// Writes the REGISTER the registration asks for, if any, and sends it
    /// to the registrar (`primary` or its fallback) from a new client
    /// transaction. `None` when there is nothing to send, `Some(false)`
    /// when no transaction could take it.
    /// Starts the client transaction of `request` to `dest` with the
    /// phone's transport and timer settings.
    fn start_client_tx(
        &mut self,
        request: &[u8],
        dest: SocketAddr,
    ) -> Result<TransactionId, TransactionError> {
        self.txns.start_client(
            request,
            dest,
            self.config.reliability,
            self.config.timers,
            self.now,
        )
    }

    // Own frame: the REGISTER's buffer stays out of `run_timers`' frame,
    // which goes on into the registration, transfer and call events.
    #[inline(never)]
    fn send_register(&mut self, primary: SocketAddr) -> Option<bool> {
        let branch = new_branch(&mut self.rng);
        let mut buf = [0u8; MAX_MESSAGE];
        let n = self.registration.poll_request(
            self.now,
            &self.config.identity,
            &self.config.register,
            &mut self.rng,
            &branch,
            &mut buf,
        )?;
        let registrar = self
            .registration
            .server_address(primary, &self.config.register);
        let bytes = buf.get(..n).unwrap_or(&[]);
        match self.start_client_tx(bytes, registrar) {
            Ok(id) => {
                self.register_tx = Some(id);
                self.transmit(registrar, bytes);
                Some(true)
            }
            Err(_) => Some(false),
        }
    }
}

/// The Warning value (RFC 3261 §20.43, code 399) for the first header a
/// response must echo that is missing or malformed, if any.
fn unusable_header(req: &Message<'_>) -> Option<&'static str> {
    if req.top_via().is_none_or(|v| v.is_err()) {
        Some("399 handset \"Missing or malformed Via\"")
    } else if req.cseq().is_none_or(|c| c.is_err()) {
        Some("399 handset \"Missing or malformed CSeq\"")
    } else if req.call_id().is_none() {
        Some("399 handset \"Missing Call-ID\"")
    } else if req.from().is_none_or(|f| f.is_err()) {
        Some("399 handset \"Missing or malformed From\"")
    } else if req.to().is_none_or(|t| t.is_err()) {
        Some("399 handset \"Missing or malformed To\"")
    } else {
        None
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
