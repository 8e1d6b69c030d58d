//! The phone's feature policy at work: the decision for a new incoming
//! call, the auto-answer and no-answer-forward timers, following a 3xx
//! redirection, holding the other calls when one is answered, and the local
//! three-way conference.

use super::policy::{
    decide_incoming, is_anonymous, requested_answer_after, IncomingDecision, IncomingFacts,
    SlotFeatures,
};
use super::{CallHandle, CommandError, EndReason, Event, Phone};
use crate::call::CallState;
use crate::message::{Decimal, HeaderName, Message, MessageWriter, Method, Scheme};
use crate::time::Duration;
use crate::transaction::{new_branch, TransactionId, MAX_MESSAGE};
use crate::ua::{self, Text};

/// What the policy left to do once a ringing call has its slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct RingTimers {
    answer_after: Option<Duration>,
    forward_after: Option<Duration>,
}

impl<const CALLS: usize, const TXNS: usize, const COMPLETED: usize, const BUFFERS: usize>
    Phone<CALLS, TXNS, COMPLETED, BUFFERS>
{
    /// The feature settings.
    pub fn policy(&self) -> &super::Policy {
        &self.policy
    }

    /// The feature settings, to change at run time; a change applies to
    /// the next incoming call.
    pub fn policy_mut(&mut self) -> &mut super::Policy {
        &mut self.policy
    }

    /// The two calls of the local conference, when one is up.
    pub fn conference(&self) -> Option<[CallHandle; 2]> {
        self.conference.calls
    }

    /// Applies the policy to a new incoming INVITE whose server
    /// transaction is `id`. `None` when the policy answered it (refused or
    /// forwarded, no ringing); else the timers to arm once it rings.
    pub(super) fn incoming_policy(
        &mut self,
        id: TransactionId,
        req: &Message<'_>,
    ) -> Option<RingTimers> {
        // Without the `policy` feature the request is not read for them.
        let policy = cfg!(feature = "policy");
        let facts = IncomingFacts {
            anonymous: policy && is_anonymous(req),
            other_call_live: self.live_slots.iter().any(|&live| live),
            line_free: self.live_slots.iter().any(|&live| !live),
            answer_after: if policy {
                requested_answer_after(req)
            } else {
                None
            },
        };
        match decide_incoming(&self.policy, &facts) {
            IncomingDecision::Ring {
                answer_after,
                forward_after,
            } => Some(RingTimers {
                answer_after,
                forward_after,
            }),
            IncomingDecision::Refuse(code) => {
                let extra: &[(&str, &str)] = if code == 486 && !facts.line_free {
                    &[("Retry-After", "30")]
                } else {
                    &[]
                };
                self.reply_in_invite_tx(id, req, code, extra);
                self.event(Event::CallRefused { code });
                None
            }
            IncomingDecision::Redirect(target) => {
                let contact = angle(target);
                self.reply_in_invite_tx(id, req, 302, &[("Contact", &contact)]);
                self.event(Event::CallRefused { code: 302 });
                None
            }
        }
    }

    /// Arms the auto-answer and forward timers of the call just installed
    /// in `slot`.
    pub(super) fn arm_ring_timers(&mut self, slot: usize, timers: RingTimers) {
        let handle = self.handle(slot);
        let now = self.now;
        if let Some(f) = self.features.get_mut(slot) {
            *f = SlotFeatures::for_call(handle);
            f.answer_at = timers.answer_after.map(|d| now + d);
            f.forward_at = timers.forward_after.map(|d| now + d);
        }
    }

    /// Forgets the feature state of the call in `slot`, which ended.
    pub(super) fn features_call_ended(&mut self, slot: usize) {
        let handle = self.handle(slot);
        if let Some(f) = self.features.get_mut(slot) {
            *f = SlotFeatures::default();
        }
        if cfg!(feature = "conference")
            && self
                .conference
                .calls
                .is_some_and(|calls| calls.contains(&handle))
        {
            self.conference.calls = None;
            self.event(Event::ConferenceEnded);
        }
    }

    /// The feature timers: answer a ringing call by itself, forward an
    /// unanswered one.
    pub(super) fn run_feature_timers(&mut self) {
        for slot in 0..CALLS {
            let handle = self.handle(slot);
            let Some(f) = self.features.get_mut(slot) else {
                continue;
            };
            if f.call != Some(handle) {
                continue;
            }
            let now = self.now;
            let answer = f.answer_at.is_some_and(|t| t <= now);
            let forward = f.forward_at.is_some_and(|t| t <= now);
            if answer {
                f.answer_at = None;
            }
            if forward {
                f.forward_at = None;
            }
            let ringing =
                matches!(self.calls.get(slot), Some(Some(c)) if c.state == CallState::Ringing);
            if !ringing {
                if let Some(f) = self.features.get_mut(slot) {
                    f.answer_at = None;
                    f.forward_at = None;
                }
                continue;
            }
            if answer {
                let _ = self.answer(handle);
            } else if forward {
                self.forward_ringing(slot);
            }
        }
    }

    /// Forward on no answer: 302 with the target as Contact to the ringing
    /// INVITE in `slot` (RFC 3261 §21.3.3), and the call ends here.
    fn forward_ringing(&mut self, slot: usize) {
        let Some(target) = self.policy.forward_no_answer.clone() else {
            return;
        };
        let Some(tx) = self.calls.get(slot).and_then(|c| c.as_ref()?.invite_tx) else {
            return;
        };
        let tag = match self.calls.get(slot) {
            Some(Some(c)) => c.local_tag.clone(),
            _ => return,
        };
        let contact = angle(&target);
        // The INVITE is read where its transaction keeps it: the 302 is
        // written before the table changes, so no copy of it is needed.
        let mut buf = [0u8; MAX_MESSAGE];
        let Some(len) = self
            .txns
            .message(tx)
            .and_then(|m| Message::parse_datagram(m).ok())
            .and_then(|req| {
                let extra = [("Contact", contact.as_str())];
                ua::write_simple_response(&mut buf, &req, 302, Some(&tag), &extra)
            })
        else {
            return;
        };
        let bytes = buf.get(..len).unwrap_or(&[]);
        if let Some(peer) = self.txns.get(tx).map(|t| t.peer()) {
            let _ = self.txns.send_response(tx, self.now, bytes);
            self.transmit(peer, bytes);
        }
        self.end_call(slot, EndReason::Rejected(302));
    }

    /// A 3xx to the initial INVITE of the outgoing call in `slot`:
    /// RFC 3261 §8.1.3.4 sends a new request to a Contact of the response;
    /// the call keeps its Call-ID, From tag and To, the CSeq counts up, the
    /// branch is new (a new transaction). Returns whether the call goes
    /// on; `false` leaves the 3xx to end the call (the loop limit reached,
    /// no usable Contact, or the call is being cancelled).
    pub(super) fn follow_redirect(
        &mut self,
        slot: usize,
        id: TransactionId,
        resp: &Message<'_>,
    ) -> bool {
        let handle = self.handle(slot);
        let (followed, cancelling) = match self.calls.get(slot) {
            Some(Some(c)) => (
                self.features
                    .get(slot)
                    .filter(|f| f.call == Some(handle))
                    .map_or(0, |f| f.redirects),
                c.cancel_reason.is_some(),
            ),
            _ => return false,
        };
        if cancelling || followed >= self.policy.max_redirects {
            return false;
        }
        // The request is read where its transaction keeps it, no copy.
        let Some(Ok(req)) = self.txns.message(id).map(Message::parse_datagram) else {
            return false;
        };
        // The first Contact that is a SIP URI and not where the request
        // just went (a redirect to itself would loop).
        let mut target: Text<{ super::MAX_FORWARD_TARGET }> = Text::new();
        if let Some(Ok(crate::message::Contacts::List(contacts))) = resp.contacts() {
            for c in contacts.flatten() {
                let uri = c.addr.uri;
                let same = req
                    .request_uri()
                    .and_then(|u| u.ok())
                    .is_some_and(|u| u.raw == uri.raw);
                let sip = matches!(uri.scheme, Scheme::Sip | Scheme::Sips);
                if !same && sip {
                    if let Some(t) = ua::text(uri.raw) {
                        target = t;
                        break;
                    }
                }
            }
        }
        if target.is_empty() || self.reissue_initial_invite(slot, id, &target).is_none() {
            return false;
        }
        if let Some(f) = self.features.get_mut(slot) {
            if f.call != Some(handle) {
                *f = SlotFeatures::for_call(handle);
            }
            f.redirects = followed.saturating_add(1);
        }
        self.event(Event::Redirected(handle));
        true
    }

    /// Sends the initial INVITE of the outgoing call in `slot` again, to
    /// `target`, after a final response that asks for it (a 3xx, RFC 3261
    /// §8.1.3.4; a 422, RFC 4028 §7.4). `old` is the transaction of the
    /// request; its headers are read where it keeps them. The call keeps
    /// its Call-ID, From tag and To, the CSeq counts up, the branch is new
    /// (a new transaction). Returns the new transaction.
    pub(super) fn reissue_initial_invite(
        &mut self,
        slot: usize,
        old: TransactionId,
        target: &str,
    ) -> Option<TransactionId> {
        let dest = self.first_hop(target)?;
        // Read in place: the new INVITE is written before the table
        // changes, so no copy of the old one is needed.
        let req = Message::parse_datagram(self.txns.message(old)?).ok()?;
        let Some(Some(call)) = self.calls.get(slot) else {
            return None;
        };
        let next_cseq = call.invite_cseq.wrapping_add(1) & 0x7fff_ffff;
        let timer = call.session_timer;
        let mut sdp = [0u8; 512];
        let sdp_len = call.media.local().write(&mut sdp).ok()?;
        let body = sdp.get(..sdp_len).unwrap_or(&[]);
        let branch = new_branch(&mut self.rng);
        let mut buf = [0u8; MAX_MESSAGE];
        let mut w = MessageWriter::new(&mut buf);
        w.request_line(Method::Invite, target);
        self.config.identity.write_via(&mut w, &branch);
        w.header("Max-Forwards", "70");
        // The transaction now holds the ACK it sent for the 3xx, whose To
        // carries the redirecting UA's tag: the new INVITE's To has none.
        for h in req.headers() {
            match h.header_name() {
                HeaderName::From | HeaderName::CallId => w.header(h.name, h.value),
                HeaderName::To => {
                    let to = crate::message::NameAddr::parse(h.value).ok()?;
                    w.raw(b"To: ");
                    if let Some(name) = to.display_name {
                        w.text(&[name, " "]);
                    }
                    w.text(&["<", to.uri.raw, ">"]);
                    for p in to.params.split(';').map(str::trim) {
                        let is_tag = p
                            .split('=')
                            .next()
                            .is_some_and(|n| n.trim_ascii().eq_ignore_ascii_case("tag"));
                        if !p.is_empty() && !is_tag {
                            w.text(&[";", p]);
                        }
                    }
                    w.raw(b"\r\n");
                }
                _ => {}
            }
        }
        let cseq = Decimal::new(u64::from(next_cseq));
        w.header_text("CSeq", &[cseq.as_str(), " INVITE"]);
        self.config.identity.write_contact(&mut w);
        w.header("Allow", ua::ALLOW);
        w.header("Supported", timer.supported());
        w.header("User-Agent", ua::PRODUCT);
        timer.write_request_headers(&mut w);
        for (name, value) in self.policy.reliable_provisional.invite_headers() {
            w.header(name, value);
        }
        let ct = (!body.is_empty()).then_some("application/sdp");
        let len = w.finish(ct, body).ok()?;
        let bytes = buf.get(..len).unwrap_or(&[]);
        let new_id = self.start_client_tx(bytes, dest).ok()?;
        if let Some(Some(call)) = self.calls.get_mut(slot) {
            // An early dialog with the first target ends with its 3xx.
            if let Some(d) = call.dialog.take() {
                self.dialogs.discard(d);
            }
            call.invite_tx = Some(new_id);
            call.invite_cseq = next_cseq;
            call.state = CallState::Calling;
            call.provisional_seen = false;
            call.ack_branch = None;
        }
        self.transmit(dest, bytes);
        Some(new_id)
    }

    /// Call waiting: answering `answered` puts every other established call
    /// that is not yet on hold on hold (re-INVITE `a=sendonly`).
    pub(super) fn hold_others(&mut self, answered: usize) {
        if !self.policy.hold_others_on_answer {
            return;
        }
        for slot in 0..CALLS {
            if slot == answered {
                continue;
            }
            let hold = matches!(self.calls.get(slot), Some(Some(c))
                if c.is_confirmed() && !c.media.is_local_hold() && c.own_reinvite.is_none() && c.pending_ok.is_none());
            if hold {
                let h = self.handle(slot);
                if cfg!(feature = "conference") && self.in_conference(h) {
                    self.leave_conference();
                }
                let _ = self.start_reinvite(h, true);
            }
        }
    }

    fn in_conference(&self, h: CallHandle) -> bool {
        self.conference.calls.is_some_and(|c| c.contains(&h))
    }

    fn leave_conference(&mut self) {
        if self.conference.calls.take().is_some() {
            self.event(Event::ConferenceEnded);
        }
    }

    /// Joins two established calls: the held ones are resumed and the shim
    /// is told to mix them.
    pub(super) fn start_conference(
        &mut self,
        a: CallHandle,
        b: CallHandle,
    ) -> Result<(), CommandError> {
        if a == b {
            return Err(CommandError::WrongState);
        }
        let (sa, sb) = (self.slot(a)?, self.slot(b)?);
        for s in [sa, sb] {
            if !matches!(self.calls.get(s), Some(Some(c)) if c.is_confirmed()) {
                return Err(CommandError::WrongState);
            }
        }
        for (s, h) in [(sa, a), (sb, b)] {
            let held = matches!(self.calls.get(s), Some(Some(c)) if c.media.is_local_hold());
            if held {
                self.start_reinvite(h, false)?;
            }
        }
        self.conference.calls = Some([a, b]);
        self.event(Event::ConferenceStarted { calls: [a, b] });
        Ok(())
    }

    /// Ends the conference; the first call is put on hold, the second
    /// stays talking.
    pub(super) fn split_conference(&mut self) -> Result<(), CommandError> {
        let Some([a, _]) = self.conference.calls else {
            return Err(CommandError::WrongState);
        };
        self.leave_conference();
        self.start_reinvite(a, true)
    }
}

/// `<uri>` for a Contact header value.
fn angle(uri: &str) -> Text<{ super::MAX_FORWARD_TARGET + 2 }> {
    let mut t = Text::new();
    let _ = t.push('<');
    let _ = t.push_str(uri.trim_start_matches('<').trim_end_matches('>'));
    let _ = t.push('>');
    t
}

// Both tests need a feature: the policy's, or following a 3xx.
#[cfg(all(test, any(feature = "policy", feature = "redirect")))]
mod tests {
    use super::super::{Command, Config, Input, Output, Phone, Policy};
    use super::*;
    use crate::time::Instant;
    use core::net::SocketAddr;

    const ME: &str = "192.0.2.1:5060";
    const PEER: &str = "192.0.2.9:5060";

    fn phone() -> Phone<2, 8> {
        let config = Config::new("alice", "example.com", ME.parse().unwrap()).unwrap();
        Phone::new(config, 3)
    }

    /// Every datagram and event the phone has queued.
    fn drain(p: &mut Phone<2, 8>) -> (heapless::Vec<MessageCopy, 8>, heapless::Vec<Event, 8>) {
        let mut sent = heapless::Vec::new();
        let mut events = heapless::Vec::new();
        while let Some(o) = p.poll_output() {
            match o {
                Output::Transmit { data, .. } => {
                    let _ = sent.push(MessageCopy::from_slice(data).unwrap());
                }
                Output::Event(e) => {
                    let _ = events.push(e);
                }
                Output::Media { .. } => {}
            }
        }
        (sent, events)
    }

    type MessageCopy = heapless::Vec<u8, MAX_MESSAGE>;

    fn feed(p: &mut Phone<2, 8>, at: Instant, data: &[u8]) {
        let from: SocketAddr = PEER.parse().unwrap();
        let _ = p.handle_input(
            at,
            Input::Datagram {
                from,
                to: ME.parse().unwrap(),
                data,
            },
        );
    }

    const INVITE: &[u8] = b"INVITE sip:alice@192.0.2.1 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKdnd1\r\nMax-Forwards: 70\r\n\
        From: <sip:bob@example.com>;tag=b1\r\nTo: <sip:alice@example.com>\r\n\
        Call-ID: dnd-call\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@192.0.2.9>\r\n\
        Content-Length: 0\r\n\r\n";

    #[test]
    #[cfg(feature = "policy")]
    fn dnd_refuses_without_ringing_and_forward_always_redirects() {
        let mut p = phone();
        let policy = Policy {
            dnd: Some(480),
            ..Policy::default()
        };
        let _ = p.handle_input(Instant::ZERO, Input::Command(Command::SetPolicy(&policy)));
        feed(&mut p, Instant::ZERO, INVITE);
        let (sent, events) = drain(&mut p);
        assert_eq!(sent.len(), 1);
        assert!(sent[0].starts_with(b"SIP/2.0 480 "));
        assert_eq!(events.as_slice(), &[Event::CallRefused { code: 480 }]);
        assert_eq!(p.live_calls().count(), 0);

        p.policy_mut().forward_always = crate::ua::text("sip:carol@example.com");
        let second = core::str::from_utf8(INVITE)
            .unwrap()
            .replace("dnd1", "dnd2")
            .replace("dnd-call", "fwd-call");
        feed(&mut p, Instant::from_millis(10), second.as_bytes());
        let (sent, events) = drain(&mut p);
        let resp = Message::parse_datagram(&sent[0]).unwrap();
        assert_eq!(resp.status(), Some(302));
        let contact = resp.contact().unwrap().unwrap();
        assert_eq!(contact.uri.raw, "sip:carol@example.com");
        assert_eq!(events.as_slice(), &[Event::CallRefused { code: 302 }]);
    }

    #[test]
    #[cfg(feature = "redirect")]
    fn a_302_is_followed_with_a_new_invite_in_the_same_call() {
        let mut p = phone();
        let _ = p.handle_input(
            Instant::ZERO,
            Input::Command(Command::Dial {
                to: "sip:bob@192.0.2.9",
            }),
        );
        let (sent, events) = drain(&mut p);
        let Some(Event::Calling(call)) = events.first().copied() else {
            panic!("{events:?}");
        };
        let invite = Message::parse_datagram(&sent[0]).unwrap();
        let mut buf = [0u8; MAX_MESSAGE];
        let n = ua::write_simple_response(
            &mut buf,
            &invite,
            302,
            Some("redir"),
            &[("Contact", "<sip:carol@192.0.2.10>")],
        )
        .unwrap();
        feed(&mut p, Instant::from_millis(20), &buf[..n]);
        let (sent, events) = drain(&mut p);
        assert_eq!(events.as_slice(), &[Event::Redirected(call)]);
        assert!(sent[0].starts_with(b"ACK sip:bob@192.0.2.9 "));
        let next = Message::parse_datagram(&sent[1]).unwrap();
        assert_eq!(
            next.request_uri().unwrap().unwrap().raw,
            "sip:carol@192.0.2.10"
        );
        assert_eq!(next.call_id(), invite.call_id());
        assert_eq!(next.cseq().unwrap().unwrap().seq, 2);
        assert_eq!(next.to().unwrap().unwrap().tag(), None);
        assert_eq!(
            next.from().unwrap().unwrap().tag(),
            invite.from().unwrap().unwrap().tag()
        );
        assert_eq!(p.call_state(call), Some(CallState::Calling));

        // The loop limit: with no redirections allowed the next 3xx ends it.
        p.policy_mut().max_redirects = 1;
        let n = ua::write_simple_response(
            &mut buf,
            &next,
            302,
            Some("again"),
            &[("Contact", "<sip:dave@192.0.2.11>")],
        )
        .unwrap();
        feed(&mut p, Instant::from_millis(40), &buf[..n]);
        let (_, events) = drain(&mut p);
        assert_eq!(
            events.as_slice(),
            &[Event::Ended {
                call,
                reason: EndReason::Failed(302)
            }]
        );
    }
}
