//! The implicit `refer` subscription of RFC 3515 §2.4.4, one state machine
//! per side. Neither knows of dialogs, transactions or calls: the phone
//! feeds them what arrived and sends what they ask for. They are bound to
//! a dialog by their owner, and dropped with it.

use crate::message::SubState;
use crate::time::{Duration, Instant};

/// One NOTIFY the notifier asks to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Notify {
    /// The status line the sipfrag body reports (RFC 3515 §2.4.5).
    pub status: u16,
    /// Whether Subscription-State says `terminated` (else `active`).
    pub terminated: bool,
    /// `expires` of an active subscription, in seconds.
    pub expires: u32,
    /// `reason` of a terminated subscription: `noresource` once the final
    /// status is reported (RFC 3515 §2.4.7), `timeout` when it ran out.
    pub reason: Option<&'static str>,
}

/// Where a notifier stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NotifierState {
    /// Reports may follow.
    Active,
    /// The terminating NOTIFY is sent or queued; waiting for its answer.
    Terminating,
    /// Over: nothing more is sent.
    Done,
}

/// The transferee's side: it reports the progress of the referred request
/// to the transferor. At most one NOTIFY is in flight at a time, so that
/// a lost NOTIFY never overtakes a later one (the later CSeq would make the
/// earlier one arrive out of order, RFC 3261 §12.2.2); while one is in
/// flight, only the newest report waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReferNotifier {
    state: NotifierState,
    expires_at: Instant,
    last_status: u16,
    in_flight: bool,
    queued: Option<Notify>,
}

impl ReferNotifier {
    /// A subscription accepted at `now` that lasts `lifetime` unless the
    /// final status comes first.
    pub fn new(now: Instant, lifetime: Duration) -> ReferNotifier {
        ReferNotifier {
            state: NotifierState::Active,
            expires_at: now + lifetime,
            last_status: 100,
            in_flight: false,
            queued: None,
        }
    }

    fn remaining_secs(&self, now: Instant) -> u32 {
        let left = self.expires_at.saturating_duration_since(now);
        u32::try_from(left.as_secs()).unwrap_or(u32::MAX)
    }

    /// Reports that the referred request got `status` (100 when it left).
    /// A final status (200-699) ends the subscription. Returns the NOTIFY
    /// to send now, if none is in flight.
    pub fn report(&mut self, now: Instant, status: u16) -> Option<Notify> {
        if self.state != NotifierState::Active {
            return None;
        }
        self.last_status = status;
        let notify = if status >= 200 {
            self.state = NotifierState::Terminating;
            Notify {
                status,
                terminated: true,
                expires: 0,
                reason: Some("noresource"),
            }
        } else {
            Notify {
                status,
                terminated: false,
                expires: self.remaining_secs(now),
                reason: None,
            }
        };
        self.send_or_queue(notify)
    }

    fn send_or_queue(&mut self, notify: Notify) -> Option<Notify> {
        if self.in_flight {
            self.queued = Some(notify);
            None
        } else {
            self.in_flight = true;
            Some(notify)
        }
    }

    /// The final response (or the timeout, as 408) of the NOTIFY in
    /// flight. Returns the next NOTIFY to send, if one waits. A failure
    /// ends the subscription at once (RFC 6665 §4.2.2): 481 says the
    /// subscriber no longer knows it, e.g. the transferor hung up.
    pub fn on_response(&mut self, code: u16) -> Option<Notify> {
        if code < 200 || !self.in_flight {
            return None;
        }
        self.in_flight = false;
        if code >= 300 {
            self.state = NotifierState::Done;
            self.queued = None;
            return None;
        }
        match self.queued.take() {
            Some(next) => self.send_or_queue(next),
            None => {
                if self.state == NotifierState::Terminating {
                    self.state = NotifierState::Done;
                }
                None
            }
        }
    }

    /// When the subscription runs out, while it is active.
    pub fn poll_timeout(&self) -> Option<Instant> {
        (self.state == NotifierState::Active).then_some(self.expires_at)
    }

    /// Runs the expiry: a subscription that outlived its time without a
    /// final status ends with `terminated;reason=timeout` and the last
    /// status reported (RFC 6665 §4.2.2).
    pub fn on_timer(&mut self, now: Instant) -> Option<Notify> {
        if self.state != NotifierState::Active || now < self.expires_at {
            return None;
        }
        self.state = NotifierState::Terminating;
        let notify = Notify {
            status: self.last_status,
            terminated: true,
            expires: 0,
            reason: Some("timeout"),
        };
        self.send_or_queue(notify)
    }

    /// Whether the subscription is over and nothing is in flight.
    pub fn is_done(&self) -> bool {
        self.state == NotifierState::Done
    }

    /// Whether the final status was reported (or the subscription ended).
    pub fn final_reported(&self) -> bool {
        self.state != NotifierState::Active
    }
}

/// What the transferor learns about its transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferOutcome {
    /// The REFER was accepted (202) or a provisional status was reported.
    Progress(u16),
    /// The transferee's new call was answered with this 2xx.
    Succeeded(u16),
    /// The REFER was refused, or the new call failed, with this status;
    /// 408 when the subscription ran out without a final report.
    Failed(u16),
}

/// Where a subscriber stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SubscriberState {
    /// REFER sent, no final response yet.
    Requested,
    /// REFER accepted, waiting for notifications.
    Active,
    /// Over.
    Done,
}

/// The transferor's side: it sent a REFER and follows what the transferee
/// reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReferSubscriber {
    state: SubscriberState,
    refer_cseq: u32,
    expires_at: Option<Instant>,
    final_reported: bool,
}

impl ReferSubscriber {
    /// A subscription for the REFER numbered `refer_cseq`.
    pub fn new(refer_cseq: u32) -> ReferSubscriber {
        ReferSubscriber {
            state: SubscriberState::Requested,
            refer_cseq,
            expires_at: None,
            final_reported: false,
        }
    }

    /// The REFER's CSeq number (the `id` of its notifications).
    pub fn refer_cseq(&self) -> u32 {
        self.refer_cseq
    }

    /// The REFER's final response `code` arrived at `now`. `subscribed`
    /// is false when the 2xx carries `Refer-Sub: false` (RFC 4488 §4): no
    /// notification will follow. `first_notify_within` bounds the wait for
    /// the first NOTIFY (RFC 6665 §4.1.2.4: 64·T1).
    pub fn on_refer_response(
        &mut self,
        now: Instant,
        code: u16,
        subscribed: bool,
        first_notify_within: Duration,
    ) -> Option<TransferOutcome> {
        if code < 200 || self.state == SubscriberState::Done {
            return None;
        }
        if code >= 300 {
            if self.state == SubscriberState::Requested {
                self.state = SubscriberState::Done;
                return Some(TransferOutcome::Failed(code));
            }
            return None;
        }
        if !subscribed {
            self.state = SubscriberState::Done;
        } else if self.state == SubscriberState::Requested {
            self.state = SubscriberState::Active;
            self.expires_at = Some(now + first_notify_within);
        }
        Some(TransferOutcome::Progress(code))
    }

    /// The REFER timed out (no final response): RFC 3261 §8.1.3.1 reads
    /// it as 408, unless a NOTIFY already showed it was accepted.
    pub fn on_refer_timeout(&mut self) -> Option<TransferOutcome> {
        if self.state != SubscriberState::Requested {
            return None;
        }
        self.state = SubscriberState::Done;
        Some(TransferOutcome::Failed(408))
    }

    /// Whether a NOTIFY whose Event `id` is `id` belongs here: the id is
    /// the REFER's CSeq, and may be left out for the first REFER of a
    /// dialog (RFC 3515 §2.4.6).
    pub fn matches_id(&self, id: Option<&str>) -> bool {
        match id {
            None => true,
            Some(v) => v.parse::<u32>().ok() == Some(self.refer_cseq),
        }
    }

    /// A NOTIFY arrived at `now` reporting `status` with `state` and
    /// `expires`. `Err(481)` when the subscription is already over (the
    /// caller answers with it); else the caller answers 200 and tells the
    /// user the outcome, if any.
    pub fn on_notify(
        &mut self,
        now: Instant,
        status: u16,
        state: SubState<'_>,
        expires: Option<u32>,
    ) -> Result<Option<TransferOutcome>, u16> {
        if self.state == SubscriberState::Done {
            return Err(481);
        }
        // A NOTIFY may overtake the 202 (RFC 3515 §2.4.4): it shows the
        // REFER was accepted.
        self.state = SubscriberState::Active;
        let terminated = matches!(state, SubState::Terminated);
        let outcome = if self.final_reported {
            None
        } else if (200..300).contains(&status) {
            self.final_reported = true;
            Some(TransferOutcome::Succeeded(status))
        } else if status >= 300 {
            self.final_reported = true;
            Some(TransferOutcome::Failed(status))
        } else if terminated {
            // Ended before any final status: the outcome is unknown.
            self.final_reported = true;
            Some(TransferOutcome::Failed(408))
        } else {
            Some(TransferOutcome::Progress(status))
        };
        if terminated {
            self.state = SubscriberState::Done;
            self.expires_at = None;
        } else {
            let secs = u64::from(expires.unwrap_or(60));
            self.expires_at = Some(now + Duration::from_secs(secs));
        }
        Ok(outcome)
    }

    /// When the subscription runs out.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            SubscriberState::Active => self.expires_at,
            _ => None,
        }
    }

    /// Runs the expiry: a subscription that ran out without a final report
    /// fails with 408.
    pub fn on_timer(&mut self, now: Instant) -> Option<TransferOutcome> {
        let due = self.poll_timeout().is_some_and(|t| t <= now);
        if !due {
            return None;
        }
        self.state = SubscriberState::Done;
        if self.final_reported {
            return None;
        }
        self.final_reported = true;
        Some(TransferOutcome::Failed(408))
    }

    /// Whether the subscription is over.
    pub fn is_done(&self) -> bool {
        self.state == SubscriberState::Done
    }

    /// Whether the outcome (success or failure) is known.
    pub fn outcome_known(&self) -> bool {
        self.final_reported
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::ZERO + Duration::from_millis(ms)
    }

    #[test]
    fn notifier_reports_trying_then_final_and_ends() {
        let mut n = ReferNotifier::new(at(0), Duration::from_secs(60));
        let first = n.report(at(1000), 100).unwrap();
        assert_eq!(
            first,
            Notify {
                status: 100,
                terminated: false,
                expires: 59,
                reason: None
            }
        );
        // The final report waits for the first NOTIFY's answer.
        assert_eq!(n.report(at(2000), 200), None);
        assert!(n.final_reported() && !n.is_done());
        let second = n.on_response(200).unwrap();
        assert_eq!(
            (second.status, second.terminated, second.reason),
            (200, true, Some("noresource"))
        );
        assert!(!n.is_done());
        assert_eq!(n.on_response(200), None);
        assert!(n.is_done());
        // Nothing after the end.
        assert_eq!(n.report(at(3000), 180), None);
        assert_eq!(n.poll_timeout(), None);
    }

    #[test]
    fn notifier_keeps_only_the_newest_waiting_report() {
        let mut n = ReferNotifier::new(at(0), Duration::from_secs(60));
        assert!(n.report(at(0), 100).is_some());
        assert_eq!(n.report(at(1), 180), None);
        assert_eq!(n.report(at(2), 486), None);
        let next = n.on_response(200).unwrap();
        assert_eq!((next.status, next.terminated), (486, true));
    }

    #[test]
    fn notifier_stops_on_481_or_timeout_of_a_notify() {
        for code in [481u16, 408, 500] {
            let mut n = ReferNotifier::new(at(0), Duration::from_secs(60));
            assert!(n.report(at(0), 100).is_some());
            assert_eq!(n.report(at(1), 200), None);
            // The transferor is gone: the waiting final report is dropped.
            assert_eq!(n.on_response(code), None, "{code}");
            assert!(n.is_done());
        }
        // A provisional answer changes nothing; an answer with nothing in
        // flight is ignored.
        let mut n = ReferNotifier::new(at(0), Duration::from_secs(60));
        assert_eq!(n.on_response(200), None);
        assert!(n.report(at(0), 100).is_some());
        assert_eq!(n.on_response(100), None);
        assert!(!n.is_done());
    }

    #[test]
    fn notifier_expires_with_reason_timeout() {
        let mut n = ReferNotifier::new(at(0), Duration::from_secs(30));
        assert!(n.report(at(0), 100).is_some());
        assert_eq!(n.on_response(200), None);
        assert_eq!(n.poll_timeout(), Some(at(30_000)));
        assert_eq!(n.on_timer(at(29_999)), None);
        let last = n.on_timer(at(30_000)).unwrap();
        assert_eq!(
            last,
            Notify {
                status: 100,
                terminated: true,
                expires: 0,
                reason: Some("timeout")
            }
        );
        assert_eq!(n.report(at(30_001), 200), None);
        assert_eq!(n.on_response(200), None);
        assert!(n.is_done());
    }

    #[test]
    fn subscriber_follows_202_then_notifications() {
        let mut s = ReferSubscriber::new(7);
        let wait = Duration::from_secs(32);
        assert_eq!(s.on_refer_response(at(0), 100, true, wait), None);
        assert_eq!(
            s.on_refer_response(at(10), 202, true, wait),
            Some(TransferOutcome::Progress(202))
        );
        assert_eq!(s.poll_timeout(), Some(at(32_010)));
        assert_eq!(
            s.on_notify(at(20), 100, SubState::Active, Some(60)),
            Ok(Some(TransferOutcome::Progress(100)))
        );
        assert_eq!(s.poll_timeout(), Some(at(60_020)));
        assert_eq!(
            s.on_notify(at(30), 200, SubState::Terminated, None),
            Ok(Some(TransferOutcome::Succeeded(200)))
        );
        assert!(s.is_done() && s.outcome_known());
        // A late retransmission of a NOTIFY: the subscription is gone.
        assert_eq!(
            s.on_notify(at(40), 200, SubState::Terminated, None),
            Err(481)
        );
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn subscriber_failures() {
        let wait = Duration::from_secs(32);
        // Refused REFER.
        let mut s = ReferSubscriber::new(2);
        assert_eq!(
            s.on_refer_response(at(0), 603, true, wait),
            Some(TransferOutcome::Failed(603))
        );
        assert!(s.is_done());
        // Busy target.
        let mut s = ReferSubscriber::new(2);
        s.on_refer_response(at(0), 202, true, wait);
        assert_eq!(
            s.on_notify(at(1), 486, SubState::Terminated, None),
            Ok(Some(TransferOutcome::Failed(486)))
        );
        // REFER never answered.
        let mut s = ReferSubscriber::new(2);
        assert_eq!(s.on_refer_timeout(), Some(TransferOutcome::Failed(408)));
        // No NOTIFY ever comes after the 202 (RFC 6665 §4.1.2.4).
        let mut s = ReferSubscriber::new(2);
        s.on_refer_response(at(0), 202, true, wait);
        assert_eq!(s.on_timer(at(31_999)), None);
        assert_eq!(s.on_timer(at(32_000)), Some(TransferOutcome::Failed(408)));
        assert!(s.is_done());
        // Terminated without a final status.
        let mut s = ReferSubscriber::new(2);
        s.on_refer_response(at(0), 202, true, wait);
        assert_eq!(
            s.on_notify(at(1), 100, SubState::Terminated, None),
            Ok(Some(TransferOutcome::Failed(408)))
        );
    }

    #[test]
    fn subscriber_without_subscription_and_notify_before_202() {
        let wait = Duration::from_secs(32);
        // Refer-Sub: false honoured: done at the 202, no timer.
        let mut s = ReferSubscriber::new(3);
        assert_eq!(
            s.on_refer_response(at(0), 202, false, wait),
            Some(TransferOutcome::Progress(202))
        );
        assert!(s.is_done() && !s.outcome_known());
        assert_eq!(s.poll_timeout(), None);
        // The NOTIFY overtook the 202: the late 202 is still reported, the
        // REFER's timeout no longer fails the transfer.
        let mut s = ReferSubscriber::new(3);
        assert_eq!(
            s.on_notify(at(0), 100, SubState::Active, Some(60)),
            Ok(Some(TransferOutcome::Progress(100)))
        );
        assert_eq!(s.on_refer_timeout(), None);
        assert_eq!(
            s.on_refer_response(at(1), 202, true, wait),
            Some(TransferOutcome::Progress(202))
        );
        assert_eq!(s.poll_timeout(), Some(at(60_000)));
    }

    #[test]
    fn subscriber_matches_the_refer_it_sent() {
        let s = ReferSubscriber::new(41);
        assert!(s.matches_id(None));
        assert!(s.matches_id(Some("41")));
        assert!(!s.matches_id(Some("42")));
        assert!(!s.matches_id(Some("x")));
        assert_eq!(s.refer_cseq(), 41);
    }
}
