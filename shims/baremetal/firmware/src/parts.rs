//! A user agent assembled from the core's layers: it registers, answers
//! requests through server transactions, answers INVITE offers with SDP and
//! times each call's media. It is what the firmware runs until it embeds
//! the complete phone facade, and keeps every layer linked.

use core::net::{IpAddr, SocketAddr};

use handset_baremetal::{CoreOutput, SansIoCore};
use handset_core::media::{MediaInput, MediaOutput, MediaStream, StreamParams};
use handset_core::message::{Message, MessageWriter, Method};
use handset_core::register::{RegisterConfig, Registration, RegistrationOutcome};
use handset_core::rng::Rng;
use handset_core::sdp::{MediaPolicy, MediaSession, SessionDescription, AUDIO_RTP_CLOCK};
use handset_core::time::Instant;
use handset_core::transaction::{
    new_branch, InviteServerTransaction, NonInviteClientTransaction, NonInviteServerTransaction,
    Reliability, TimerConfig, TimerEvent, Transaction, TransactionTable, MAX_MESSAGE,
};
use handset_core::ua::{self, LocalIdentity};
use heapless::{Deque, Vec};

/// What the agent reports to the firmware.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentEvent {
    /// The registrar answered.
    Registration(RegistrationOutcome),
    /// A call's media asks for something.
    Media(u8, MediaOutput),
    /// A transaction's peer never answered.
    Timeout,
}

type Wire = Vec<u8, MAX_MESSAGE>;

/// The agent with `CALLS` call slots and `TRANSACTIONS` transaction slots.
pub struct Agent<const CALLS: usize, const TRANSACTIONS: usize> {
    rng: Rng,
    me: LocalIdentity,
    registrar: SocketAddr,
    reg: Registration,
    reg_config: RegisterConfig,
    policy: MediaPolicy,
    timers: TimerConfig,
    table: TransactionTable<TRANSACTIONS>,
    sessions: [MediaSession; CALLS],
    streams: [Option<MediaStream>; CALLS],
    outbox: Deque<(SocketAddr, Wire), 2>,
    current: Wire,
    events: Deque<AgentEvent, 8>,
}

impl<const CALLS: usize, const TRANSACTIONS: usize> Agent<CALLS, TRANSACTIONS> {
    /// An agent for `me`, registering at `registrar`.
    pub fn new(seed: u64, me: LocalIdentity, registrar: SocketAddr, now: Instant) -> Self {
        let mut rng = Rng::new(seed);
        let mut reg = Registration::new(&mut rng, 3600);
        reg.start(now);
        let ip = me.local.ip();
        let sessions =
            core::array::from_fn(|i| MediaSession::new(rng.next_u64(), ip, 4000 + 2 * i as u16));
        Agent {
            rng,
            me,
            registrar,
            reg,
            reg_config: RegisterConfig::default(),
            policy: MediaPolicy::default(),
            timers: TimerConfig::default(),
            table: TransactionTable::new(),
            sessions,
            streams: [const { None }; CALLS],
            outbox: Deque::new(),
            current: Vec::new(),
            events: Deque::new(),
        }
    }

    fn send(&mut self, to: SocketAddr, bytes: &[u8]) {
        if let Ok(wire) = Vec::from_slice(bytes) {
            // A full outbox drops the message like a lost datagram: the
            // transaction layer retransmits.
            let _ = self.outbox.push_back((to, wire));
        }
    }

    fn event(&mut self, e: AgentEvent) {
        let _ = self.events.push_back(e);
    }

    /// Answers an INVITE's offer in a free call slot; the SDP answer's length.
    fn answer(&mut self, now: Instant, offer: &[u8], sdp: &mut [u8]) -> Option<usize> {
        let slot = self.streams.iter().position(Option::is_none)?;
        let offer = SessionDescription::parse(offer).ok()?;
        let session = self.sessions.get_mut(slot)?;
        let agreed = session.answer_offer(&self.policy, &offer).ok()?;
        let n = session.local().write(sdp).ok()?;
        let params = StreamParams {
            local: SocketAddr::new(self.me.local.ip(), 4000 + 2 * slot as u16),
            remote: agreed.remote,
            payload_type: agreed.codec.pt,
            clock_rate: AUDIO_RTP_CLOCK,
            ptime_ms: agreed.ptime,
            dtmf_payload_type: agreed.dtmf_pt,
            ssrc: self.rng.next_u32(),
        };
        let stream = MediaStream::start(now, params, &mut self.rng).ok()?;
        *self.streams.get_mut(slot)? = Some(stream);
        Some(n)
    }

    fn on_request(&mut self, now: Instant, from: SocketAddr, data: &[u8], msg: &Message<'_>) {
        if let Some((id, handset_core::transaction::ServerEvent::Resend)) =
            self.table.on_request(now, msg)
        {
            let resend = self
                .table
                .get(id)
                .map(|t| (t.peer(), Wire::from_slice(t.message())));
            if let Some((to, Ok(wire))) = resend {
                let _ = self.outbox.push_back((to, wire));
            }
            return;
        }
        if self.table.find_server(msg).is_some() || msg.method() == Some(Method::Ack) {
            return;
        }
        let invite = msg.method() == Some(Method::Invite);
        let tx: Option<Transaction> = if invite {
            InviteServerTransaction::new(data, from, Reliability::Unreliable, self.timers, now)
                .ok()
                .map(Into::into)
        } else {
            NonInviteServerTransaction::new(data, from, Reliability::Unreliable, self.timers, now)
                .ok()
                .map(Into::into)
        };
        let mut buf = [0u8; MAX_MESSAGE];
        let to = ua::response_destination(msg, from);
        let Some(id) = tx.and_then(|tx| self.table.insert(tx).ok()) else {
            // RFC 3261 §21.5.4: no room for the transaction.
            if let Some(n) = ua::write_simple_response(&mut buf, msg, 503, None, &[]) {
                self.send(to, buf.get(..n).unwrap_or(&[]));
            }
            return;
        };
        if msg.method() == Some(Method::Bye) {
            for s in self.streams.iter_mut().flatten() {
                let _ = s.handle_input(now, MediaInput::Stop);
            }
        }
        let mut sdp = [0u8; 512];
        let answered = if invite {
            self.answer(now, msg.body(), &mut sdp)
        } else {
            None
        };
        let tag: heapless::String<16> = ua::random_token(&mut self.rng, 8);
        let n = {
            let mut w = MessageWriter::new(&mut buf);
            let code = match (invite, answered) {
                (true, None) => 488,
                _ => 200,
            };
            ua::write_response_head(&mut w, msg, code, "", Some(&tag), invite);
            if answered.is_some() {
                self.me.write_contact(&mut w);
            }
            let body = answered.and_then(|n| sdp.get(..n)).unwrap_or(&[]);
            w.finish(answered.map(|_| "application/sdp"), body).ok()
        };
        if let Some(n) = n {
            let response = buf.get(..n).unwrap_or(&[]);
            if let Some(t) = self.table.get_mut(id) {
                let _ = t.send_response(now, response);
            }
            self.send(to, response);
        }
    }
}

impl<const CALLS: usize, const TRANSACTIONS: usize> SansIoCore for Agent<CALLS, TRANSACTIONS> {
    type Event = AgentEvent;

    fn handle_datagram(&mut self, now: Instant, from: SocketAddr, _to: SocketAddr, data: &[u8]) {
        let Ok(msg) = Message::parse_datagram(data) else {
            return;
        };
        if msg.validate().is_err() {
            return;
        }
        if msg.is_request() {
            self.on_request(now, from, data, &msg);
            return;
        }
        if self.table.on_response(now, &msg).is_some() {
            let is_register = msg
                .cseq()
                .and_then(Result::ok)
                .is_some_and(|c| c.method == Method::Register);
            if is_register && msg.status().is_some_and(|s| s >= 200) {
                let outcome = self.reg.on_response(now, &self.me, &msg);
                self.event(AgentEvent::Registration(outcome));
            }
        }
    }

    fn handle_tick(&mut self, now: Instant) {
        while let Some((id, event)) = self.table.handle_timer(now) {
            match event {
                TimerEvent::Retransmit => {
                    let again = self
                        .table
                        .get(id)
                        .map(|t| (t.peer(), Wire::from_slice(t.message())));
                    if let Some((to, Ok(wire))) = again {
                        let _ = self.outbox.push_back((to, wire));
                    }
                }
                TimerEvent::Timeout => {
                    let _ = self.reg.on_timeout(now);
                    self.event(AgentEvent::Timeout);
                }
                _ => {}
            }
        }
        let branch = new_branch(&mut self.rng);
        let mut buf = [0u8; MAX_MESSAGE];
        if let Some(n) = self.reg.poll_request(
            now,
            &self.me,
            &self.reg_config,
            &mut self.rng,
            &branch,
            &mut buf,
        ) {
            let request = buf.get(..n).unwrap_or(&[]);
            let tx = NonInviteClientTransaction::new(
                request,
                self.registrar,
                Reliability::Unreliable,
                self.timers,
                now,
            );
            if let Ok(tx) = tx {
                if self.table.insert(tx).is_ok() {
                    self.send(self.registrar, request);
                }
            }
        }
        for (slot, stream) in self.streams.iter_mut().enumerate() {
            let Some(s) = stream else { continue };
            if s.poll_timeout().is_some_and(|t| t <= now) {
                let _ = s.handle_input(now, MediaInput::Tick);
            }
            while let Some(out) = s.poll_output() {
                let _ = self.events.push_back(AgentEvent::Media(slot as u8, out));
            }
            if s.is_stopped() {
                *stream = None;
            }
        }
    }

    fn poll_output(&mut self) -> Option<CoreOutput<'_, AgentEvent>> {
        if let Some(e) = self.events.pop_front() {
            return Some(CoreOutput::Event(e));
        }
        let (to, wire) = self.outbox.pop_front()?;
        self.current = wire;
        Some(CoreOutput::Transmit {
            from: self.me.local,
            to,
            data: &self.current,
        })
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let streams = self
            .streams
            .iter()
            .flatten()
            .filter_map(MediaStream::poll_timeout);
        [self.table.poll_timeout(), self.reg.poll_timeout()]
            .into_iter()
            .flatten()
            .chain(streams)
            .min()
    }
}

/// The address the phone's SIP socket is bound to.
pub fn local_address() -> SocketAddr {
    SocketAddr::new(IpAddr::from([192, 168, 1, 20]), 5060)
}
