//! Message waiting (RFC 3842): a scripted voice-mail server registers as
//! `vm`, takes User A's message-summary subscription through the proxy
//! (which record-routes it), and NOTIFYs the mailbox state: at once, when
//! a message is left, after every refresh, and when the subscription ends.

use std::collections::VecDeque;
use std::net::SocketAddr;

use handset_core::dialog::Dialog;
use handset_core::message::{Message, MessageWriter, Method};
use handset_core::phone::{Command, Event, MWI_BODY_TYPE, MWI_PACKAGE};
use handset_core::rng::Rng;
use handset_core::subscribe::SubscriptionStatus;
use handset_core::time::{Duration, Instant};
use handset_core::transaction::{
    new_branch, ClientEvent, Reliability, ServerEvent, TimerConfig, TimerEvent, TransactionId,
    TransactionTable, MAX_MESSAGE,
};
use handset_core::ua::{random_token, response_destination, write_response_head, Text};

use super::{run_flow, World, ABC, DOMAIN};
use crate::cli::{FlowParams, FlowRegistry, FlowRun};
use crate::node::{NodeSetup, SimNode, Transmit};
use crate::proxy::{AuthCheck, Authenticator};
use crate::NodeId;

/// The mailbox server's user at the registrar.
pub(super) const MAILBOX: &str = "vm";
/// The longest subscription the server grants, in seconds: short, so the
/// phone's refresh (halfway) shows in the flow.
const GRANT: u32 = 120;

pub(super) fn register_flows(r: &mut FlowRegistry) {
    r.register(
        "mwi",
        "User A subscribes to message-summary at the voice-mail server through the proxy \
         (RFC 3842, RFC 6665): NOTIFY with the mailbox state, a NOTIFY when a message is \
         left, a refresh halfway through the granted 120 s, and removal with Expires: 0",
        mwi,
    );
}

/// The mailbox the server reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mailbox {
    /// New voice messages.
    pub new: u32,
    /// Old voice messages.
    pub old: u32,
    /// Urgent among the new.
    pub urgent_new: u32,
    /// Urgent among the old.
    pub urgent_old: u32,
}

/// The server's side of one subscription.
struct Subscription {
    dialog: Dialog,
    expires_at: Instant,
}

/// A scripted voice-mail server: a registered user agent that is a
/// message-summary notifier (RFC 6665 §4.2) for one subscriber at a time.
pub struct VoicemailNode {
    addr: SocketAddr,
    proxy: SocketAddr,
    rng: Rng,
    now: Instant,
    txns: TransactionTable<8>,
    out: VecDeque<Transmit>,
    register_tx: Option<TransactionId>,
    /// Whether the registrar accepted the server's binding.
    pub registered: bool,
    sub: Option<Subscription>,
    notify_tx: Option<TransactionId>,
    // NOTIFYs wait here while one is in flight, so that they arrive in
    // CSeq order: (Subscription-State, with the mailbox state).
    queued: VecDeque<(String, bool)>,
    /// What the mailbox holds.
    pub mailbox: Mailbox,
    /// SUBSCRIBEs accepted so far (new, refresh and removal).
    pub subscribes: u32,
    /// NOTIFYs answered 2xx so far.
    pub notifies_delivered: u32,
    /// Digest authentication of subscribers, when the server asks for it.
    auth: Option<Authenticator>,
    /// SUBSCRIBEs answered with a challenge so far.
    pub challenges: u32,
}

impl VoicemailNode {
    /// A server at `setup`'s address that registers with `proxy`.
    pub fn new(setup: &NodeSetup, proxy: SocketAddr, mailbox: Mailbox) -> VoicemailNode {
        VoicemailNode {
            addr: setup.addr,
            proxy,
            rng: Rng::new(setup.seed),
            now: Instant::ZERO,
            txns: TransactionTable::new(),
            out: VecDeque::new(),
            register_tx: None,
            registered: false,
            sub: None,
            notify_tx: None,
            queued: VecDeque::new(),
            mailbox,
            subscribes: 0,
            notifies_delivered: 0,
            auth: None,
            challenges: 0,
        }
    }

    /// The server authenticates every SUBSCRIBE with `auth` (RFC 3261
    /// §22.2: 401 with a challenge, then the request that answers it).
    pub fn with_authenticator(mut self, auth: Authenticator) -> VoicemailNode {
        self.auth = Some(auth);
        self
    }

    /// Whether a subscription is live.
    pub fn subscribed(&self) -> bool {
        self.sub.is_some()
    }

    /// Whether nothing is in flight or waiting to be sent.
    pub fn idle(&self) -> bool {
        self.notify_tx.is_none() && self.queued.is_empty() && self.txns.is_empty()
    }

    /// Sends the REGISTER for `vm`.
    pub fn register(&mut self, now: Instant) {
        self.now = now;
        let branch = new_branch(&mut self.rng);
        let tag: Text<16> = random_token(&mut self.rng, 10);
        let call_id: Text<24> = random_token(&mut self.rng, 20);
        let a = self.addr;
        let req = format!(
            "REGISTER sip:{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {a};branch={branch}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:{MAILBOX}@{DOMAIN}>;tag={tag}\r\n\
             To: <sip:{MAILBOX}@{DOMAIN}>\r\nCall-ID: {call_id}\r\nCSeq: 1 REGISTER\r\n\
             Contact: <sip:{MAILBOX}@{a}>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n"
        );
        self.register_tx = self.send_request(req.as_bytes(), self.proxy);
    }

    /// A caller left a message: one more new message, and a NOTIFY.
    pub fn leave_message(&mut self, now: Instant) {
        self.now = now;
        self.mailbox.new += 1;
        if let Some(s) = &self.sub {
            let left = s.expires_at.saturating_duration_since(now).as_secs();
            self.queue_notify(format!("active;expires={left}"), true);
        }
    }

    fn send_request(&mut self, bytes: &[u8], to: SocketAddr) -> Option<TransactionId> {
        let id = self
            .txns
            .start_client(
                bytes,
                to,
                Reliability::Unreliable,
                TimerConfig::default(),
                self.now,
            )
            .ok()?;
        self.transmit(to, bytes.to_vec());
        Some(id)
    }

    fn transmit(&mut self, to: SocketAddr, data: Vec<u8>) {
        self.out.push_back(Transmit {
            from: self.addr,
            to,
            data,
        });
    }

    fn queue_notify(&mut self, state: String, with_body: bool) {
        self.queued.push_back((state, with_body));
        self.send_next_notify();
    }

    /// Sends the oldest queued NOTIFY when none is in flight.
    fn send_next_notify(&mut self) {
        if self.notify_tx.is_some() {
            return;
        }
        let Some((state, with_body)) = self.queued.pop_front() else {
            return;
        };
        let Some(sub) = self.sub.as_mut() else {
            self.queued.clear();
            return;
        };
        let m = self.mailbox;
        // RFC 3842 §5.2: the summary line, then the voice counts.
        let body = format!(
            "Messages-Waiting: {}\r\nMessage-Account: sip:{MAILBOX}@{DOMAIN}\r\n\
             Voice-Message: {}/{} ({}/{})\r\n",
            if m.new > 0 { "yes" } else { "no" },
            m.new,
            m.old,
            m.urgent_new,
            m.urgent_old
        );
        let branch = new_branch(&mut self.rng);
        let mut buf = [0u8; MAX_MESSAGE];
        let mut w = MessageWriter::new(&mut buf);
        if sub.dialog.start_request(&mut w, Method::Notify).is_err() {
            return;
        }
        w.header_fmt(
            "Via",
            format_args!("SIP/2.0/UDP {};branch={branch}", self.addr),
        );
        w.header("Max-Forwards", "70");
        w.header_fmt("Contact", format_args!("<sip:{MAILBOX}@{}>", self.addr));
        w.header("Event", MWI_PACKAGE);
        w.header("Subscription-State", &state);
        let n = if with_body {
            w.finish(Some(MWI_BODY_TYPE), body.as_bytes())
        } else {
            w.finish(None, b"")
        };
        let Ok(n) = n else { return };
        // RFC 3261 §12.2.1.1: to the first route (the proxy), else the
        // remote target.
        let hop = sub
            .dialog
            .route_set()
            .next()
            .or(Some(sub.dialog.remote_target()))
            .and_then(uri_address)
            .unwrap_or(self.proxy);
        let bytes = buf[..n].to_vec();
        self.notify_tx = self.send_request(&bytes, hop);
        if state.starts_with("terminated") {
            self.sub = None;
        }
    }

    fn on_subscribe(&mut self, from: SocketAddr, raw: &[u8], req: &Message<'_>) {
        let in_dialog = req
            .to()
            .and_then(Result::ok)
            .is_some_and(|t| t.tag().is_some());
        let expires = match req.expires() {
            Some(Ok(e)) => e.min(GRANT),
            _ => GRANT,
        };
        let event_ok = matches!(req.event(), Some(Ok(e)) if e.event_type == MWI_PACKAGE);
        let tag: Text<16> = random_token(&mut self.rng, 10);
        let mut code = if !event_ok {
            489
        } else if in_dialog
            && !self
                .sub
                .as_ref()
                .is_some_and(|s| s.dialog.matches_request(req))
        {
            481
        } else {
            200
        };
        let mut challenge = None;
        if let (200, Some(auth)) = (code, self.auth.as_mut()) {
            // The proxy retargeted a new SUBSCRIBE to this server's
            // contact; the subscriber digested the URI it addressed, the
            // To URI. A refresh comes to this server's own URI.
            let addressed = if in_dialog {
                req.request_line().map(|l| l.uri)
            } else {
                req.to().and_then(Result::ok).map(|t| t.uri.raw)
            };
            match auth.check_for(self.now, req, addressed) {
                AuthCheck::Authorized(_) => {}
                AuthCheck::Challenge { stale } => {
                    challenge = Some(auth.challenge(self.now, stale));
                    self.challenges += 1;
                    code = 401;
                }
                AuthCheck::BadRequest => code = 400,
            }
        }
        if code == 200 {
            if let Some(s) = self.sub.as_mut() {
                if in_dialog && s.dialog.check_remote_cseq(req).is_err() {
                    return;
                }
            }
            if !in_dialog {
                match Dialog::new_uas(req, &tag, 200, false) {
                    // One subscriber at a time: a new one replaces the old.
                    Ok(d) => {
                        self.sub = Some(Subscription {
                            dialog: d,
                            expires_at: self.now,
                        });
                        self.queued.clear();
                    }
                    Err(_) => return,
                }
            }
        }
        let mut buf = [0u8; MAX_MESSAGE];
        let mut w = MessageWriter::new(&mut buf);
        write_response_head(
            &mut w,
            req,
            code,
            handset_core::message::reason_phrase(code),
            Some(&tag),
            code == 200,
        );
        if code == 200 {
            w.header_fmt("Contact", format_args!("<sip:{MAILBOX}@{}>", self.addr));
            w.header_fmt("Expires", format_args!("{expires}"));
        }
        if let Some(c) = &challenge {
            w.header("WWW-Authenticate", c);
        }
        let Ok(n) = w.finish(None, b"") else { return };
        let to = response_destination(req, from);
        let bytes = buf[..n].to_vec();
        if let Ok(id) = self.txns.start_server(
            raw,
            to,
            Reliability::Unreliable,
            TimerConfig::default(),
            self.now,
        ) {
            if self.txns.send_response(id, self.now, &bytes).is_err() {
                self.txns.remove(id);
            }
        }
        self.transmit(to, bytes);
        if code != 200 {
            return;
        }
        self.subscribes += 1;
        // RFC 6665 §4.2.1.2: every accepted SUBSCRIBE is followed by a
        // NOTIFY; one with Expires 0 ends the subscription.
        if expires == 0 {
            self.queue_notify("terminated;reason=timeout".into(), true);
        } else {
            if let Some(s) = self.sub.as_mut() {
                s.expires_at = self.now + Duration::from_secs(u64::from(expires));
            }
            self.queue_notify(format!("active;expires={expires}"), true);
        }
    }

    fn on_response(&mut self, resp: &Message<'_>) {
        let Some((id, ev)) = self.txns.on_response(self.now, resp) else {
            return;
        };
        let code = resp.status().unwrap_or(0);
        if code < 200 || !matches!(ev, ClientEvent::Deliver | ClientEvent::DeliverAndAck) {
            return;
        }
        if Some(id) == self.register_tx {
            self.register_tx = None;
            self.registered = (200..300).contains(&code);
        } else if Some(id) == self.notify_tx {
            self.notify_tx = None;
            if (200..300).contains(&code) {
                self.notifies_delivered += 1;
            } else {
                // RFC 6665 §4.2.2: a NOTIFY refused (481 and the like)
                // ends the subscription.
                self.sub = None;
                self.queued.clear();
            }
            self.send_next_notify();
        }
    }
}

/// The address of a URI with an IP host and port.
fn uri_address(uri: &str) -> Option<SocketAddr> {
    let u = handset_core::message::Uri::parse(uri).ok()?;
    Some(SocketAddr::new(u.host?.ip()?, u.port.unwrap_or(5060)))
}

impl SimNode for VoicemailNode {
    fn handle_datagram(&mut self, now: Instant, from: SocketAddr, _to: SocketAddr, data: &[u8]) {
        self.now = now;
        let Ok(msg) = Message::parse_datagram(data) else {
            return;
        };
        if !msg.is_request() {
            self.on_response(&msg);
            return;
        }
        if let Some((id, ev)) = self.txns.on_request(now, &msg) {
            if ev == ServerEvent::Resend {
                if let Some(t) = self.txns.get(id) {
                    let (peer, bytes) = (t.peer(), t.message(self.txns.pool()).to_vec());
                    self.transmit(peer, bytes);
                }
            }
            return;
        }
        if msg.method() == Some(Method::Subscribe) {
            self.on_subscribe(from, data, &msg);
        }
    }

    fn handle_tick(&mut self, now: Instant) {
        self.now = now;
        while let Some((id, ev)) = self.txns.handle_timer(now) {
            match ev {
                TimerEvent::Retransmit => {
                    if let Some(t) = self.txns.get(id) {
                        let (peer, bytes) = (t.peer(), t.message(self.txns.pool()).to_vec());
                        self.transmit(peer, bytes);
                    }
                }
                TimerEvent::Timeout => {
                    if Some(id) == self.register_tx {
                        self.register_tx = None;
                        self.register(now);
                    } else if Some(id) == self.notify_tx {
                        // RFC 6665 §4.2.2: an unanswered NOTIFY ends it.
                        self.notify_tx = None;
                        self.sub = None;
                        self.queued.clear();
                    }
                }
                TimerEvent::Terminated => {}
            }
        }
        self.txns.remove_terminated();
        // RFC 6665 §4.2.2: a subscription not refreshed in time ends with
        // a terminating NOTIFY.
        if self.sub.as_ref().is_some_and(|s| s.expires_at <= now) {
            self.queue_notify("terminated;reason=timeout".into(), true);
        }
    }

    fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let expiry = self
            .sub
            .as_ref()
            .filter(|_| self.notify_tx.is_none())
            .map(|s| s.expires_at);
        match (self.txns.poll_timeout(), expiry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

pub(super) fn vm(w: &World, id: NodeId) -> &VoicemailNode {
    w.sim.node::<VoicemailNode>(id)
}

fn mwi(params: &FlowParams) -> FlowRun {
    run_flow(params, &ABC[..1], true, |w| {
        let a = w.users[0];
        let proxy = w.address(w.proxy);
        let mailbox = Mailbox {
            new: 1,
            old: 8,
            urgent_new: 0,
            urgent_old: 2,
        };
        let server = w.sim.add_node("Voicemail", move |setup| {
            VoicemailNode::new(&setup, proxy, mailbox)
        });
        w.sim
            .with_node(server, |n: &mut VoicemailNode, now| n.register(now));
        if !w.run_until(|w| vm(w, server).registered) {
            return Err("the voice-mail server did not register".into());
        }
        w.command(
            a,
            Command::SubscribeMwi {
                mailbox: Some(MAILBOX),
            },
        );
        w.expect(a, "the first summary", |e| {
            matches!(
                e,
                Event::MessageWaiting {
                    waiting: true,
                    new: 1,
                    old: 8
                }
            )
        })?;
        w.sim
            .with_node(server, |n: &mut VoicemailNode, now| n.leave_message(now));
        w.expect(a, "the new message", |e| {
            matches!(
                e,
                Event::MessageWaiting {
                    waiting: true,
                    new: 2,
                    old: 8
                }
            )
        })?;
        // Granted 120 s: the phone refreshes after 60 s and the server
        // NOTIFYs again.
        let refreshed =
            w.run_until(|w| vm(w, server).subscribes >= 2 && vm(w, server).notifies_delivered >= 3);
        if !refreshed {
            return Err("the subscription was not refreshed".into());
        }
        match w.phone(a).phone.mwi().subscription {
            Some(SubscriptionStatus::Active { .. }) => {}
            other => return Err(format!("after the refresh the subscription is {other:?}")),
        }
        w.command(a, Command::UnsubscribeMwi);
        w.expect(a, "MwiEnded", |e| matches!(e, Event::MwiEnded))?;
        if !w.run_until(|w| !vm(w, server).subscribed() && vm(w, server).idle()) {
            return Err("the server still holds the subscription".into());
        }
        if w.phone(a).saw(|e| matches!(e, Event::MwiFailed { .. })) {
            return Err("a subscription attempt failed".into());
        }
        let summary = w.phone(a).phone.mwi().summary;
        if summary.and_then(|s| s.voice).map(|v| v.new) != Some(2) {
            return Err(format!("the phone shows {summary:?}"));
        }
        Ok(vec![])
    })
}
