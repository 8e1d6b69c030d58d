//! Message waiting indication (RFC 3842): the phone subscribes to the
//! `message-summary` event of its voice mailbox, answers the NOTIFYs and
//! tells the user how many messages wait. The subscription itself
//! (refresh, removal, termination) is the [`Subscriber`] usage's; this
//! file only carries its requests and NOTIFYs.

use core::net::SocketAddr;

use super::{Event, InputError, Phone};
use crate::dialog::Dialog;
use crate::message::{Message, Uri};
use crate::subscribe::{
    parse_message_summary, MessageSummary, NotifyVerdict, SubscribeConfig, SubscribeOutcome,
    Subscriber, SubscriptionStatus,
};
use crate::time::Instant;
use crate::transaction::{new_branch, NonInviteClientTransaction, TransactionId, MAX_MESSAGE};

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

/// The phone's message-waiting subscription.
#[derive(Clone, Debug, Default)]
pub(super) struct Mwi {
    sub: Option<Subscriber>,
    tx: Option<TransactionId>,
    summary: Option<MessageSummary>,
}

impl Mwi {
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.sub.as_ref().and_then(Subscriber::poll_timeout)
    }
}

impl<const CALLS: usize, const TXNS: usize> Phone<CALLS, TXNS> {
    /// The message-waiting state.
    pub fn mwi(&self) -> MwiStatus {
        MwiStatus {
            subscription: self.mwi.sub.as_ref().map(Subscriber::status),
            summary: self.mwi.summary,
        }
    }

    /// Subscribes to the mailbox `mailbox` (a user of the phone's domain;
    /// `None` for the phone's own address of record, RFC 3842 §4).
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
        let keep = self.mwi.sub.as_ref().is_some_and(|s| {
            fresh
                .as_ref()
                .is_some_and(|f| f.target() == s.target() && s.dialog().is_some())
        });
        if !keep {
            match fresh {
                Some(f) => self.mwi.sub = Some(f),
                None => {
                    self.event(Event::CommandFailed(super::CommandError::BadUri));
                    return;
                }
            }
        }
        if let Some(s) = self.mwi.sub.as_mut() {
            s.start(self.now);
        }
    }

    /// Ends the subscription (`Expires: 0`).
    pub(super) fn mwi_stop(&mut self) {
        let now = self.now;
        if let Some(s) = self.mwi.sub.as_mut() {
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
        let Some(sub) = self.mwi.sub.as_mut() else {
            return;
        };
        let branch = new_branch(&mut self.rng);
        let mut buf = [0u8; MAX_MESSAGE];
        let Some(n) = sub.poll_request(
            self.now,
            &self.config.identity,
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
            let tx = NonInviteClientTransaction::new(
                bytes,
                dest,
                self.config.reliability,
                self.config.timers,
                self.now,
            )
            .ok()?;
            let id = self.txns.insert(tx).ok()?;
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
        let mut copy = [0u8; MAX_MESSAGE];
        let sent = self.txns.get(id).map(|t| t.message()).unwrap_or(&[]);
        let n = sent.len();
        if let Some(dst) = copy.get_mut(..n) {
            dst.copy_from_slice(sent);
        }
        let outcome = match (
            Message::parse_datagram(copy.get(..n).unwrap_or(&[])),
            self.mwi.sub.as_mut(),
        ) {
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
        if let Some(s) = self.mwi.sub.as_mut() {
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
        self.mwi.sub.as_ref().is_some_and(|s| s.matches_notify(req))
    }

    /// Answers a NOTIFY of the subscription and reports its summary.
    pub(super) fn mwi_on_notify(
        &mut self,
        from: SocketAddr,
        raw: &[u8],
        req: &Message<'_>,
    ) -> Result<(), InputError> {
        let Some(sub) = self.mwi.sub.as_mut() else {
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
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case(MWI_BODY_TYPE));
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
