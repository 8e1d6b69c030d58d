//! Message waiting indication (RFC 3842): the phone subscribes to the
//! `message-summary` event of its voice mailbox, answers the NOTIFYs and
//! tells the user how many messages wait. The subscription itself
//! (refresh, removal, termination) is the [`Subscriber`] usage's; this
//! file only carries its requests and NOTIFYs.

use core::net::SocketAddr;

use super::{Event, InputError, Phone};
use crate::credentials::Credentials;
use crate::dialog::Dialog;
use crate::message::{Message, Uri};
use crate::subscribe::{
    parse_message_summary, MessageSummary, NotifyVerdict, SubscribeConfig, SubscribeOutcome,
    Subscriber, SubscriptionStatus,
};
use crate::time::Instant;
use crate::transaction::{new_branch, TransactionId, MAX_MESSAGE};

/// The event package of message waiting (RFC 3842 §3).
pub const MWI_PACKAGE: &str = "message-summary";
/// The body type of message-summary NOTIFYs (RFC 3842 §5).
pub const MWI_BODY_TYPE: &str = "application/simple-message-summary";

/// What the phone knows of its voice mailbox.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MwiStatus {
    /// The subscription's state; `None` before the first subscribe.
    pub subscription: Option<SubscriptionStatus>,
    /// The last summary the mailbox sent.
    pub summary: Option<MessageSummary>,
}

/// Message-waiting subscriptions a phone keeps: one, or none in a phone
/// built without `mwi`, whose [`Mwi`] then holds no subscriber's bytes.
const MWI_SUBSCRIPTIONS: usize = if cfg!(feature = "mwi") { 1 } else { 0 };

/// The phone's message-waiting subscription.
#[derive(Clone, Debug, Default)]
pub(super) struct Mwi {
    /// The subscription, when one was asked for (at most one).
    sub: heapless::Vec<Subscriber, MWI_SUBSCRIPTIONS>,
    tx: Option<TransactionId>,
    summary: Option<MessageSummary>,
}

impl Mwi {
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.sub.first().and_then(Subscriber::poll_timeout)
    }
}

impl<const CALLS: usize, const TXNS: usize, const COMPLETED: usize, const BUFFERS: usize>
    Phone<CALLS, TXNS, COMPLETED, BUFFERS>
{
    /// The message-waiting state.
    pub fn mwi(&self) -> MwiStatus {
        MwiStatus {
            subscription: self.mwi.sub.first().map(Subscriber::status),
            summary: self.mwi.summary,
        }
    }

    /// Subscribes to the mailbox `mailbox` (a user of the phone's domain;
    /// `None` for the phone's own address of record, RFC 3842 §4).
    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    pub(super) fn mwi_start(&mut self, mailbox: Option<&str>) {
        let user = mailbox.unwrap_or(self.config.identity.user.as_str());
        let fresh = Subscriber::new(
            &mut self.rng,
            MWI_PACKAGE,
            MWI_BODY_TYPE,
            user,
            &self.config.identity.domain,
            SubscribeConfig::default(),
        );
        // Another mailbox, or none yet: a new subscription; the same one
        // again: a refresh of the live one.
        let keep = self.mwi.sub.first().is_some_and(|s| {
            fresh
                .as_ref()
                .is_some_and(|f| f.target() == s.target() && s.dialog().is_some())
        });
        if !keep {
            match fresh {
                Some(f) => {
                    self.mwi.sub.clear();
                    // Cannot fail in a phone built with `mwi`; without
                    // it the command was refused before it got here.
                    let _ = self.mwi.sub.push(f);
                }
                None => {
                    self.event(Event::CommandFailed(super::CommandError::BadUri));
                    return;
                }
            }
        }
        if let Some(s) = self.mwi.sub.first_mut() {
            s.start(self.now);
        }
    }

    /// Ends the subscription (`Expires: 0`).
    pub(super) fn mwi_stop(&mut self) {
        let now = self.now;
        if let Some(s) = self.mwi.sub.first_mut() {
            s.stop(now);
            if s.status() == SubscriptionStatus::Idle && self.mwi.tx.is_none() {
                self.event(Event::MwiEnded);
            }
        }
    }

    /// Sends the SUBSCRIBE the subscription asks for, if any.
    pub(super) fn poll_mwi(&mut self) {
        if self.mwi.tx.is_some() {
            return;
        }
        let Some(sub) = self.mwi.sub.first_mut() else {
            return;
        };
        let branch = new_branch(&mut self.rng);
        let mut buf = [0u8; MAX_MESSAGE];
        // The credentials of the registration answer the mailbox's (or
        // a proxy's) challenge, as on a desk phone's account page.
        let register = &self.config.register;
        let credentials = (!register.password.is_empty()).then(|| Credentials {
            username: if register.auth_user.is_empty() {
                &self.config.identity.user
            } else {
                &register.auth_user
            },
            password: &register.password,
        });
        let Some(n) = sub.poll_request_with(
            self.now,
            &self.config.identity,
            credentials,
            &mut self.rng,
            &branch,
            &mut buf,
        ) else {
            return;
        };
        let bytes = buf.get(..n).unwrap_or(&[]);
        let dest = match sub.dialog() {
            Some(d) => dialog_hop(d, self.config.outbound_proxy),
            None => self
                .config
                .outbound_proxy
                .or(self.config.registrar)
                .or_else(|| uri_address(target_of(bytes))),
        };
        let tx = dest.and_then(|dest| {
            let id = self
                .txns
                .start_client(
                    bytes,
                    dest,
                    self.config.reliability,
                    self.config.timers,
                    self.now,
                )
                .ok()?;
            Some((id, dest))
        });
        match tx {
            Some((id, dest)) => {
                self.mwi.tx = Some(id);
                self.transmit(dest, bytes);
            }
            None => {
                let o = sub.on_timeout(self.now);
                self.mwi_outcome(o);
            }
        }
    }

    /// Takes the final response of the SUBSCRIBE in flight; `false` when
    /// `id` is another transaction.
    pub(super) fn mwi_on_response(&mut self, id: TransactionId, resp: &Message<'_>) -> bool {
        if self.mwi.tx != Some(id) {
            return false;
        }
        if resp.status().is_none_or(|c| c < 200) {
            return true;
        }
        self.mwi.tx = None;
        // The SUBSCRIBE is read where its transaction keeps it: the table
        // and the subscriber are borrowed apart, no copy.
        let sent = self.txns.message(id).unwrap_or(&[]);
        let outcome = match (Message::parse_datagram(sent), self.mwi.sub.first_mut()) {
            (Ok(req), Some(s)) => s.on_response(self.now, &req, resp),
            _ => SubscribeOutcome::Ignored,
        };
        self.mwi_outcome(outcome);
        true
    }

    /// The SUBSCRIBE transaction `id` timed out, if it is ours.
    pub(super) fn mwi_on_timeout(&mut self, id: TransactionId) {
        if self.mwi.tx != Some(id) {
            return;
        }
        self.mwi.tx = None;
        if let Some(s) = self.mwi.sub.first_mut() {
            let o = s.on_timeout(self.now);
            self.mwi_outcome(o);
        }
    }

    fn mwi_outcome(&mut self, outcome: SubscribeOutcome) {
        match outcome {
            SubscribeOutcome::Failed(code) | SubscribeOutcome::Refused(code) => {
                self.event(Event::MwiFailed { code })
            }
            SubscribeOutcome::Removed => self.event(Event::MwiEnded),
            SubscribeOutcome::Active(_)
            | SubscribeOutcome::Retrying
            | SubscribeOutcome::Ignored => {}
        }
    }

    /// Whether `req` is a NOTIFY of the message-waiting subscription.
    pub(super) fn mwi_owns(&self, req: &Message<'_>) -> bool {
        self.mwi.sub.first().is_some_and(|s| s.matches_notify(req))
    }

    /// Answers a NOTIFY of the subscription and reports its summary.
    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    pub(super) fn mwi_on_notify(
        &mut self,
        from: SocketAddr,
        raw: &[u8],
        req: &Message<'_>,
    ) -> Result<(), InputError> {
        let Some(sub) = self.mwi.sub.first_mut() else {
            return self.respond_in_transaction(raw, req, from, 481);
        };
        let was_live = !matches!(
            sub.status(),
            SubscriptionStatus::Idle | SubscriptionStatus::Refused { .. }
        );
        let verdict = sub.on_notify(self.now, req);
        let ended = !matches!(
            sub.status(),
            SubscriptionStatus::Idle | SubscriptionStatus::Refused { .. }
        );
        let ended = was_live && !ended;
        match verdict {
            NotifyVerdict::Reject(code) => self.respond_in_transaction(raw, req, from, code),
            NotifyVerdict::Accept { .. } => {
                self.respond_in_transaction(raw, req, from, 200)?;
                // RFC 3842 §5: the body may be absent (no state to report
                // yet); one that does not parse is ignored.
                let typed = req
                    .content_type()
                    .is_some_and(|t| t.trim_ascii().eq_ignore_ascii_case(MWI_BODY_TYPE));
                if typed && was_live {
                    if let Ok(summary) = parse_message_summary(req.body()) {
                        self.mwi.summary = Some(summary);
                        let counts = summary.voice.unwrap_or_default();
                        self.event(Event::MessageWaiting {
                            waiting: summary.waiting,
                            new: counts.new,
                            old: counts.old,
                        });
                    }
                }
                if ended {
                    self.event(Event::MwiEnded);
                }
                Ok(())
            }
        }
    }
}

/// The Request-URI of a request as written.
fn target_of(request: &[u8]) -> &str {
    let line = request.split(|&b| b == b'\r').next().unwrap_or(&[]);
    let line = core::str::from_utf8(line).unwrap_or("");
    line.split(' ').nth(1).unwrap_or("")
}

/// The address of a URI with an IP host (the core does no DNS).
fn uri_address(uri: &str) -> Option<SocketAddr> {
    let u = Uri::parse(uri.trim_start_matches('<').trim_end_matches('>')).ok()?;
    let ip = u.host?.ip()?;
    Some(SocketAddr::new(ip, u.port.unwrap_or(5060)))
}

/// Where a request within `d` goes: its first route, else its remote
/// target (RFC 3261 §12.2.1.1), by IP host, else the outbound proxy.
fn dialog_hop(d: &Dialog, outbound_proxy: Option<SocketAddr>) -> Option<SocketAddr> {
    let next = d.route_set().next().unwrap_or(d.remote_target());
    uri_address(next).or(outbound_proxy)
}

#[cfg(all(test, feature = "mwi"))]
mod tests {
    extern crate std;
    use std::format;
    use std::string::String;
    use std::vec::Vec;

    use super::super::{Command, Config, Event, Input, Output, Phone};
    use super::*;

    const PHONE: &str = "192.0.2.1:5060";
    const PROXY: &str = "192.0.2.9:5060";

    fn phone() -> Phone<2> {
        let mut c = Config::new("alice", "example.com", PHONE.parse().unwrap()).unwrap();
        c.outbound_proxy = Some(PROXY.parse().unwrap());
        Phone::new(c, 3)
    }

    /// Feeds `input` and returns what came out: datagrams and events.
    fn run(p: &mut Phone<2>, now: Instant, input: Input<'_>) -> (Vec<String>, Vec<Event>) {
        p.handle_input(now, input).unwrap();
        let (mut sent, mut events) = (Vec::new(), Vec::new());
        while let Some(o) = p.poll_output() {
            match o {
                Output::Transmit { data, .. } => {
                    sent.push(String::from_utf8(data.to_vec()).unwrap())
                }
                Output::Event(e) => events.push(e),
                Output::Media { .. } => {}
            }
        }
        (sent, events)
    }

    fn datagram(p: &mut Phone<2>, now: Instant, data: &str) -> (Vec<String>, Vec<Event>) {
        let from = PROXY.parse().unwrap();
        let to = PHONE.parse().unwrap();
        let data = data.as_bytes();
        run(p, now, Input::Datagram { from, to, data })
    }

    fn header<'a>(msg: &'a str, name: &str) -> &'a str {
        msg.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
            .unwrap()
    }

    fn notify(sub: &str, seq: u32, state: &str, body: &str) -> String {
        format!(
            "NOTIFY sip:alice@192.0.2.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKn{seq}\r\n\
             From: <sip:vm@example.com>;tag=vm1\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {seq} NOTIFY\r\n\
             Event: message-summary\r\nSubscription-State: {state}\r\n\
             Content-Type: application/simple-message-summary\r\nContent-Length: {}\r\n\r\n{body}",
            header(sub, "From"),
            header(sub, "Call-ID"),
            body.len()
        )
    }

    #[test]
    fn subscribes_answers_notifies_and_reports_the_mailbox() {
        let mut p = phone();
        let t0 = Instant::ZERO;
        let mailbox = Some("vm");
        let (sent, _) = run(
            &mut p,
            t0,
            Input::Command(Command::SubscribeMwi { mailbox }),
        );
        let sub = sent.first().unwrap().clone();
        assert!(sub.starts_with("SUBSCRIBE sip:vm@example.com SIP/2.0\r\n"));
        assert_eq!(header(&sub, "Event"), MWI_PACKAGE);

        // The NOTIFY overtakes the 200 (RFC 6665 §4.1.2.4).
        let body = "Messages-Waiting: yes\r\nVoice-Message: 2/8 (0/2)\r\n";
        let (sent, events) = datagram(&mut p, t0, &notify(&sub, 1, "active;expires=120", body));
        assert!(sent.first().unwrap().starts_with("SIP/2.0 200 OK\r\n"));
        let lamp = Event::MessageWaiting {
            waiting: true,
            new: 2,
            old: 8,
        };
        assert_eq!(events, [lamp]);

        let ok = format!(
            "SIP/2.0 200 OK\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=vm1\r\nCall-ID: {}\r\n\
             CSeq: 1 SUBSCRIBE\r\nContact: <sip:vm@192.0.2.7:5060>\r\nExpires: 120\r\n\
             Content-Length: 0\r\n\r\n",
            header(&sub, "Via"),
            header(&sub, "From"),
            header(&sub, "To"),
            header(&sub, "Call-ID"),
        );
        datagram(&mut p, t0, &ok);
        assert!(matches!(
            p.mwi().subscription,
            Some(SubscriptionStatus::Active { .. })
        ));
        assert_eq!(
            p.mwi().summary.and_then(|s| s.voice).map(|v| v.new),
            Some(2)
        );
        // Refresh halfway through the 120 s, to the dialog's target.
        let refresh_at = t0 + crate::time::Duration::from_secs(60);
        assert!(p.poll_timeout().unwrap() <= refresh_at);
        let (sent, _) = run(
            &mut p,
            t0 + crate::time::Duration::from_secs(59),
            Input::Tick,
        );
        assert!(sent.iter().all(|m| !m.starts_with("SUBSCRIBE")));
        let (sent, _) = run(&mut p, refresh_at, Input::Tick);
        let refresh = sent.first().unwrap();
        assert!(refresh.starts_with("SUBSCRIBE sip:vm@192.0.2.7:5060 SIP/2.0\r\n"));

        // A NOTIFY of an unknown subscription is not taken for MWI.
        let (sent, events) = datagram(
            &mut p,
            t0 + crate::time::Duration::from_secs(61),
            &notify(
                &sub.replace(header(&sub, "Call-ID"), "other"),
                2,
                "active",
                body,
            ),
        );
        assert!(sent.first().unwrap().starts_with("SIP/2.0 481"));
        assert!(events.is_empty());

        // The mailbox ends the subscription for good: the user learns it.
        let (sent, events) = datagram(
            &mut p,
            t0 + crate::time::Duration::from_secs(62),
            &notify(&sub, 3, "terminated;reason=noresource", ""),
        );
        assert!(sent.first().unwrap().starts_with("SIP/2.0 200 OK\r\n"));
        assert_eq!(events, [Event::MwiEnded]);
    }
}
