//! The subscriber side of an event subscription (RFC 6665 §4.1): the
//! SUBSCRIBE that creates the dialog, refreshes before expiry, removal
//! with `Expires: 0`, the NOTIFYs that arrive within the dialog, and the
//! answers that end or restart it (481, 489, 423, `Subscription-State:
//! terminated`). One package per [`Subscriber`]; the message-summary body
//! of RFC 3842 is read by [`parse_message_summary`].
//!
//! Sans-IO like every usage: [`Subscriber::poll_request`] says when a
//! SUBSCRIBE is due and writes it; the phone wraps it in a non-INVITE
//! client transaction and feeds back the final response, the transaction
//! timeout, and every NOTIFY that names the subscription.

mod summary;

pub use summary::{parse_message_summary, MessageCounts, MessageSummary, SummaryError};

use crate::credentials::{ChallengeVerdict, ClientAuth, Credentials};
use crate::dialog::{CSeqCheck, Dialog};
use crate::message::{Decimal, Message, MessageWriter, Method, SubState};
use crate::rng::Rng;
use crate::time::{Duration, Instant};
use crate::ua::{random_token, LocalIdentity, Text, MAX_DOMAIN, MAX_USER};
use crate::ua::{text, PRODUCT};

/// Length of the Call-IDs a subscription draws (one per new dialog).
const CALL_ID_LEN: usize = 24;
/// Length of the From tags a subscription draws.
const TAG_LEN: usize = 12;

/// Longest Request-URI of a new subscription (`sip:user@domain`).
pub const MAX_TARGET: usize = 5 + MAX_USER + MAX_DOMAIN;

/// Subscription settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubscribeConfig {
    /// The duration asked for, in seconds.
    pub expires: u32,
    /// The first retry delay after a failure; doubles up to `max_backoff`.
    pub min_backoff: Duration,
    /// The longest retry delay.
    pub max_backoff: Duration,
}

impl Default for SubscribeConfig {
    fn default() -> Self {
        SubscribeConfig {
            expires: 3600,
            min_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(1800),
        }
    }
}

/// Where a subscription stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscriptionStatus {
    /// Not subscribed and not trying.
    Idle,
    /// A SUBSCRIBE is (about to be) in flight and no dialog exists yet.
    Subscribing,
    /// The notifier accepted the subscription until the instant given.
    Active {
        /// When the subscription lapses unless refreshed.
        until: Instant,
    },
    /// The removal is in flight.
    Unsubscribing,
    /// The last attempt failed; another follows at the given instant.
    Failed {
        /// When the next attempt starts.
        retry_at: Instant,
        /// The status that failed it (408 for no answer).
        code: u16,
    },
    /// The notifier refused the event package (489) or ended the
    /// subscription for good; only a new start tries again.
    Refused {
        /// The status or 0 when a terminating NOTIFY ended it.
        code: u16,
    },
}

/// What a final response (or a timeout) did to the subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscribeOutcome {
    /// Accepted for this many seconds.
    Active(u32),
    /// The subscription is removed.
    Removed,
    /// A new SUBSCRIBE is due now (423 with a longer interval, 481 for a
    /// refresh).
    Retrying,
    /// Refused or unanswered: retried after back-off.
    Failed(u16),
    /// Refused for good (489 Bad Event).
    Refused(u16),
    /// The response was not for the SUBSCRIBE in flight.
    Ignored,
}

/// How to answer a NOTIFY, and what it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyVerdict {
    /// Answer 200 and read the body; `terminated` when the subscription
    /// ended with it.
    Accept {
        /// `Subscription-State: terminated`.
        terminated: bool,
    },
    /// Answer with this status and ignore the body.
    Reject(u16),
}

/// One subscription to one event package at one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscriber {
    package: &'static str,
    accept: &'static str,
    target: Text<MAX_TARGET>,
    call_id: Text<CALL_ID_LEN>,
    local_tag: Text<TAG_LEN>,
    cseq: u32,
    dialog: Option<Dialog>,
    config: SubscribeConfig,
    wanted: u32,
    status: SubscriptionStatus,
    due: Option<Instant>,
    in_flight: bool,
    // The SUBSCRIBE in flight was sent in a subscription that has since
    // ended; its answer is ignored.
    stale_in_flight: bool,
    removing: bool,
    // The SUBSCRIBE in flight is the removal (`Expires: 0`), not a
    // refresh that was already on its way when the removal was asked for.
    removal_in_flight: bool,
    new_identity: bool,
    backoff: Duration,
    auth: ClientAuth,
}

impl Subscriber {
    /// An idle subscription to `package` (e.g. `message-summary`) at
    /// `sip:{user}@{domain}`, accepting bodies of type `accept`. `None`
    /// when the URI is longer than a subscriber stores.
    pub fn new(
        rng: &mut Rng,
        package: &'static str,
        accept: &'static str,
        user: &str,
        domain: &str,
        config: SubscribeConfig,
    ) -> Option<Subscriber> {
        let mut target: Text<MAX_TARGET> = text("sip:")?;
        if !user.is_empty() {
            target.push_str(user).ok()?;
            target.push('@').ok()?;
        }
        target.push_str(domain).ok()?;
        Some(Subscriber {
            package,
            accept,
            target,
            call_id: random_token(rng, CALL_ID_LEN),
            local_tag: random_token(rng, TAG_LEN),
            cseq: 0,
            dialog: None,
            config,
            wanted: config.expires,
            status: SubscriptionStatus::Idle,
            due: None,
            in_flight: false,
            stale_in_flight: false,
            removing: false,
            removal_in_flight: false,
            new_identity: false,
            backoff: Duration::ZERO,
            auth: ClientAuth::new(),
        })
    }

    /// The current state.
    pub fn status(&self) -> SubscriptionStatus {
        self.status
    }

    /// The Request-URI of a new subscription (`sip:user@domain`).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The subscription's dialog, once the notifier accepted it.
    pub fn dialog(&self) -> Option<&Dialog> {
        self.dialog.as_ref()
    }

    /// Asks for a SUBSCRIBE now (a new subscription, or a refresh of the
    /// live one).
    pub fn start(&mut self, now: Instant) {
        self.removing = false;
        self.wanted = self.config.expires;
        if self.dialog.is_none() {
            self.status = SubscriptionStatus::Subscribing;
        }
        self.due = Some(now);
    }

    /// Asks for removal (`Expires: 0`, RFC 6665 §4.1.2.3). Without a
    /// dialog there is nothing to remove and the subscription goes idle.
    pub fn stop(&mut self, now: Instant) {
        if self.dialog.is_none() && self.in_flight && !self.stale_in_flight {
            // The new subscription in flight may yet be accepted: wait for
            // its answer, and if its 2xx makes a dialog, remove it there
            // with `Expires: 0` (RFC 6665 §4.1.2.3) rather than leave the
            // notifier holding it until it expires.
            self.removing = true;
            self.status = SubscriptionStatus::Unsubscribing;
            self.due = None;
            return;
        }
        if self.dialog.is_none() {
            self.status = SubscriptionStatus::Idle;
            self.due = None;
            self.stale_in_flight = self.in_flight;
            self.new_identity = true;
            return;
        }
        self.removing = true;
        self.status = SubscriptionStatus::Unsubscribing;
        self.due = Some(now);
    }

    /// When the next SUBSCRIBE is due, unless one is in flight.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.in_flight {
            None
        } else {
            self.due
        }
    }

    /// Writes the next SUBSCRIBE when one is due at `now`, returning its
    /// length. `branch` is the new transaction's Via branch. A refresh or
    /// removal goes within the dialog; a new subscription outside one.
    pub fn poll_request(
        &mut self,
        now: Instant,
        me: &LocalIdentity,
        rng: &mut Rng,
        branch: &str,
        buf: &mut [u8],
    ) -> Option<usize> {
        self.poll_request_with(now, me, None, rng, branch, buf)
    }

    /// [`poll_request`](Self::poll_request) answering a digest challenge
    /// of the notifier or a proxy (401/407) with `credentials`.
    pub fn poll_request_with(
        &mut self,
        now: Instant,
        me: &LocalIdentity,
        credentials: Option<Credentials<'_>>,
        rng: &mut Rng,
        branch: &str,
        buf: &mut [u8],
    ) -> Option<usize> {
        if self.in_flight || self.due.is_none_or(|d| d > now) {
            return None;
        }
        if self.dialog.is_none() && self.new_identity {
            // A new subscription is a new dialog: new Call-ID and tag, so
            // that late messages of the old one cannot match it.
            self.call_id = random_token(rng, CALL_ID_LEN);
            self.local_tag = random_token(rng, TAG_LEN);
            self.cseq = 0;
            self.new_identity = false;
        }
        let expires = if self.removing { 0 } else { self.wanted };
        let mut w = MessageWriter::new(buf);
        match self.dialog.as_mut() {
            Some(d) => {
                d.start_request(&mut w, Method::Subscribe).ok()?;
                me.write_via(&mut w, branch);
            }
            None => {
                self.cseq = self.cseq.wrapping_add(1) & 0x7fff_ffff;
                w.request_line(Method::Subscribe, &self.target);
                me.write_via(&mut w, branch);
                w.raw(b"From: ");
                me.write_aor(&mut w);
                w.text(&[";tag=", &self.local_tag, "\r\n"]);
                w.header_text("To", &["<", &self.target, ">"]);
                w.header("Call-ID", &self.call_id);
                let cseq = Decimal::new(u64::from(self.cseq));
                w.header_text("CSeq", &[cseq.as_str(), " SUBSCRIBE"]);
            }
        }
        w.header("Max-Forwards", "70");
        me.write_contact(&mut w);
        w.header("Event", self.package);
        w.header("Accept", self.accept);
        w.header("Expires", Decimal::new(u64::from(expires)).as_str());
        w.header("User-Agent", PRODUCT);
        if let Some(c) = credentials {
            self.auth.write_answer(&mut w, rng, c)?;
        }
        let n = w.finish(None, b"").ok()?;
        self.in_flight = true;
        self.stale_in_flight = false;
        self.removal_in_flight = self.removing;
        self.due = None;
        Some(n)
    }

    /// Feeds the final response to the SUBSCRIBE in flight; `request` is
    /// that SUBSCRIBE as sent.
    pub fn on_response(
        &mut self,
        now: Instant,
        request: &Message<'_>,
        response: &Message<'_>,
    ) -> SubscribeOutcome {
        let Some(code) = response.status() else {
            return SubscribeOutcome::Ignored;
        };
        if !self.in_flight || code < 200 {
            return SubscribeOutcome::Ignored;
        }
        self.in_flight = false;
        if core::mem::take(&mut self.stale_in_flight) {
            return SubscribeOutcome::Ignored;
        }
        if self.removing && self.dialog.is_none() && !self.removal_in_flight {
            // Removal asked for while the new subscription was in flight.
            if (200..300).contains(&code) {
                if let Ok(d) = Dialog::new_uac(request, response, false) {
                    self.dialog = Some(d);
                    self.due = Some(now);
                    return SubscribeOutcome::Ignored;
                }
            }
            self.end(SubscriptionStatus::Idle);
            return SubscribeOutcome::Removed;
        }
        if self.refresh_overtaken_by_removal(now) {
            return SubscribeOutcome::Ignored;
        }
        if matches!(code, 401 | 407) {
            // RFC 3261 §22.2: answer the challenge in a new request (within
            // the dialog for a refresh, with the next CSeq), once per
            // challenge unless the nonce only went stale.
            return match self.auth.on_challenge(response) {
                ChallengeVerdict::Retry => {
                    self.due = Some(now);
                    SubscribeOutcome::Retrying
                }
                ChallengeVerdict::Refused if self.removing => {
                    self.end(SubscriptionStatus::Idle);
                    SubscribeOutcome::Removed
                }
                ChallengeVerdict::Refused => self.fail(now, code),
            };
        }
        self.auth.settle();
        if self.removing {
            // RFC 6665 §4.1.2.3: whatever the answer, the subscription is
            // over for us; a final NOTIFY may still come and gets 481.
            self.end(SubscriptionStatus::Idle);
            return SubscribeOutcome::Removed;
        }
        match code {
            200..=299 => {
                if self.dialog.is_none() {
                    match Dialog::new_uac(request, response, false) {
                        Ok(d) => self.dialog = Some(d),
                        Err(_) => return self.fail(now, code),
                    }
                }
                // RFC 6665 §4.1.2.1: the 2xx's Expires is the duration
                // granted; it may be shorter than asked, never longer.
                let granted = match response.expires() {
                    Some(Ok(e)) => e.min(self.wanted.max(1)),
                    _ => self.wanted,
                };
                self.backoff = Duration::ZERO;
                self.activate(now, granted);
                SubscribeOutcome::Active(granted)
            }
            423 => {
                // RFC 6665 §4.1.2.1 / RFC 3261 §10.2.8: ask again for at
                // least Min-Expires.
                match response.min_expires() {
                    Some(Ok(min)) if min > self.wanted => {
                        self.wanted = min;
                        self.due = Some(now);
                        SubscribeOutcome::Retrying
                    }
                    _ => self.fail(now, code),
                }
            }
            481 if self.dialog.is_some() => {
                // RFC 6665 §4.1.2.2: the refresh found no subscription;
                // start a new one.
                self.dialog = None;
                self.new_identity = true;
                self.status = SubscriptionStatus::Subscribing;
                self.due = Some(now);
                SubscribeOutcome::Retrying
            }
            489 => {
                // RFC 6665 §8.3.2: Bad Event: the notifier does not know
                // the package; retrying cannot help.
                self.end(SubscriptionStatus::Refused { code });
                SubscribeOutcome::Refused(code)
            }
            _ => self.fail(now, code),
        }
    }

    /// The SUBSCRIBE in flight got no final response (Timer F).
    pub fn on_timeout(&mut self, now: Instant) -> SubscribeOutcome {
        if !self.in_flight {
            return SubscribeOutcome::Ignored;
        }
        self.in_flight = false;
        if core::mem::take(&mut self.stale_in_flight) {
            return SubscribeOutcome::Ignored;
        }
        if self.removing && self.dialog.is_none() {
            // Nothing was subscribed, so nothing is left to remove.
            self.end(SubscriptionStatus::Idle);
            return SubscribeOutcome::Removed;
        }
        if self.refresh_overtaken_by_removal(now) {
            return SubscribeOutcome::Ignored;
        }
        if self.removing {
            self.end(SubscriptionStatus::Idle);
            return SubscribeOutcome::Removed;
        }
        self.fail(now, 408)
    }

    /// The removal was asked for while a refresh was in flight: the
    /// refresh's outcome does not end the subscription; the removal
    /// (`Expires: 0`, RFC 6665 §4.1.2.3) goes now.
    fn refresh_overtaken_by_removal(&mut self, now: Instant) -> bool {
        let was_removal = core::mem::take(&mut self.removal_in_flight);
        if !self.removing || was_removal {
            return false;
        }
        self.due = Some(now);
        true
    }

    /// Whether `notify` belongs to this subscription: its Call-ID and our
    /// tag in its To (a NOTIFY may overtake the SUBSCRIBE's 2xx, RFC 6665
    /// §4.1.2.4, so the dialog need not exist yet).
    pub fn matches_notify(&self, notify: &Message<'_>) -> bool {
        let to_tag = notify.to().and_then(|t| t.ok()).and_then(|t| t.tag());
        notify.call_id() == Some(self.call_id.as_str()) && to_tag == Some(self.local_tag.as_str())
    }

    /// Feeds a NOTIFY that [`matches_notify`](Self::matches_notify), and
    /// says how to answer it.
    pub fn on_notify(&mut self, now: Instant, notify: &Message<'_>) -> NotifyVerdict {
        if !self.matches_notify(notify) {
            return NotifyVerdict::Reject(481);
        }
        // RFC 6665 §8.2.1 / §4.1.3: a NOTIFY for another package is 489.
        let event_ok = matches!(notify.event(), Some(Ok(e)) if e.event_type.eq_ignore_ascii_case(self.package));
        if !event_ok {
            return NotifyVerdict::Reject(489);
        }
        let Some(Ok(state)) = notify.subscription_state() else {
            // RFC 6665 §8.2.3: Subscription-State is mandatory.
            return NotifyVerdict::Reject(400);
        };
        if matches!(
            self.status,
            SubscriptionStatus::Idle | SubscriptionStatus::Refused { .. }
        ) {
            // The subscription is over on our side: its terminating
            // NOTIFY (sent after our removal) is taken, anything else
            // names no subscription (RFC 6665 §4.1.3).
            return if state.state == SubState::Terminated {
                NotifyVerdict::Accept { terminated: true }
            } else {
                NotifyVerdict::Reject(481)
            };
        }
        if let Some(d) = self.dialog.as_mut() {
            match d.check_remote_cseq(notify) {
                // RFC 3261 §12.2.2: a request older than the last is 500.
                Ok(CSeqCheck::OutOfOrder) => return NotifyVerdict::Reject(500),
                Ok(_) => {}
                Err(_) => return NotifyVerdict::Reject(481),
            }
        }
        match state.state {
            SubState::Terminated => {
                self.on_terminated(now, state.reason, state.retry_after);
                NotifyVerdict::Accept { terminated: true }
            }
            _ => {
                // RFC 6665 §4.1.3: the notifier may shorten the duration.
                if let (Some(e), SubscriptionStatus::Active { until }) =
                    (state.expires, self.status)
                {
                    let new_until = now + Duration::from_secs(u64::from(e));
                    if new_until < until {
                        self.activate(now, e);
                    }
                }
                NotifyVerdict::Accept { terminated: false }
            }
        }
    }

    /// RFC 6665 §4.1.3: what a terminating NOTIFY's reason asks for.
    fn on_terminated(&mut self, now: Instant, reason: Option<&str>, retry_after: Option<u32>) {
        self.dialog = None;
        self.new_identity = true;
        self.stale_in_flight = self.in_flight;
        if self.removing {
            self.end(SubscriptionStatus::Idle);
            return;
        }
        let is = |r: &str| reason.is_some_and(|x| x.eq_ignore_ascii_case(r));
        if reason.is_none() || is("deactivated") || is("timeout") {
            // Resubscribe at once.
            self.status = SubscriptionStatus::Subscribing;
            self.due = Some(now);
        } else if is("probation") || is("giveup") {
            let wait = retry_after
                .map(|s| Duration::from_secs(u64::from(s)))
                .unwrap_or(self.config.min_backoff);
            self.status = SubscriptionStatus::Failed {
                retry_at: now + wait,
                code: 0,
            };
            self.due = Some(now + wait);
        } else {
            // rejected, noresource, invariant or unknown: do not retry.
            self.end(SubscriptionStatus::Refused { code: 0 });
        }
    }

    fn activate(&mut self, now: Instant, granted: u32) {
        let life = Duration::from_secs(u64::from(granted));
        self.status = SubscriptionStatus::Active { until: now + life };
        // Refresh halfway through: time for a lost exchange to be
        // retransmitted and, failing that, retried before the end.
        let refresh = Duration::from_micros(life.as_micros() / 2);
        self.due = Some(now + refresh);
    }

    fn fail(&mut self, now: Instant, code: u16) -> SubscribeOutcome {
        self.backoff = if self.backoff == Duration::ZERO {
            self.config.min_backoff
        } else {
            (self.backoff + self.backoff).min(self.config.max_backoff)
        };
        let mut retry_at = now + self.backoff;
        if let SubscriptionStatus::Active { until } = self.status {
            // RFC 6665 §4.1.2.2: a refresh refused with other than 481
            // leaves the subscription valid until it expires; retry
            // before that when there is time.
            if until > now {
                let left = until.saturating_duration_since(now);
                retry_at = now
                    + self
                        .backoff
                        .min(Duration::from_micros(left.as_micros() / 2));
                self.due = Some(retry_at);
                return SubscribeOutcome::Failed(code);
            }
        }
        self.dialog = None;
        self.new_identity = true;
        self.status = SubscriptionStatus::Failed { retry_at, code };
        self.due = Some(retry_at);
        SubscribeOutcome::Failed(code)
    }

    fn end(&mut self, status: SubscriptionStatus) {
        self.dialog = None;
        self.new_identity = true;
        self.removing = false;
        self.due = None;
        self.status = status;
    }
}

#[cfg(test)]
mod tests;
