//! Session timers (RFC 4028) at work in the phone: the 422 answer to an
//! INVITE asking for too short an interval, the retry of our own INVITE
//! after a 422, the refresh this phone sends as refresher, and the BYE
//! when the session expires. The negotiation and the clock are the call's
//! ([`crate::call::session_timer`]); the settings are the policy's.

use super::{EndReason, Phone};
use crate::call::session_timer::{
    RefreshFailure, RunningTimer, SessionExpiresValue, SessionTimer, TimerDue,
};
use crate::call::{glare_retry_delay, CallDirection};
use crate::message::{Decimal, Message};
use crate::time::Duration;
use crate::transaction::TransactionId;
use crate::ua::Text;

/// How long a refresh waits when another exchange of the call is in
/// progress (its own 2xx refreshes the session if it succeeds).
const BUSY_RETRY: Duration = Duration::from_secs(2);

/// The wait before refreshing again after a refusal with no Retry-After.
const REFUSED_RETRY: Duration = Duration::from_secs(4);

impl<const CALLS: usize, const TXNS: usize, const COMPLETED: usize, const BUFFERS: usize>
    Phone<CALLS, TXNS, COMPLETED, BUFFERS>
{
    /// The running session timer of a live call: its interval, who
    /// refreshes, when the next refresh or the expiry is due.
    pub fn session_timer(&self, h: super::CallHandle) -> Option<RunningTimer> {
        let slot = self.slot(h).ok()?;
        self.calls.get(slot)?.as_ref()?.session_timer.running()
    }

    /// The session timer of a call starting now, under the current policy.
    pub(super) fn new_session_timer(&self) -> SessionTimer {
        SessionTimer::new(self.policy.session_timer)
    }

    /// A new INVITE (server transaction `id`) as UAS: the timer its call
    /// gets, or `None` when it was answered 422 (RFC 4028 §9).
    pub(super) fn session_timer_for_invite(
        &mut self,
        id: TransactionId,
        req: &Message<'_>,
    ) -> Option<SessionTimer> {
        let mut timer = self.new_session_timer();
        match timer.on_request(req) {
            Ok(()) => Some(timer),
            Err(min_se) => {
                self.reply_422(id, req, min_se);
                None
            }
        }
    }

    /// Answers the INVITE of transaction `id` with 422 Session Interval Too
    /// Small naming our Min-SE (RFC 4028 §9).
    pub(super) fn reply_422(&mut self, id: TransactionId, req: &Message<'_>, min_se: u32) {
        let value = Decimal::new(u64::from(min_se));
        self.reply_in_invite_tx(id, req, 422, &[("Min-SE", value.as_str())]);
    }

    /// A 2xx to our re-INVITE numbered `cseq` of the call in `slot`: every
    /// such 2xx refreshes the session (RFC 4028 §7.2, §10). Returns whether
    /// the re-INVITE was a refresh of ours, whose answer the user does not
    /// hear about.
    pub(super) fn session_timer_on_reinvite_ok(
        &mut self,
        slot: usize,
        cseq: u32,
        resp: &Message<'_>,
    ) -> bool {
        let now = self.now;
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return false;
        };
        let refresh = call.session_timer.is_refresh(cseq);
        call.session_timer.on_uac_2xx(now, resp);
        refresh
    }

    /// A final non-2xx to our re-INVITE numbered `cseq` of the call in
    /// `slot`. When it answers a refresh of ours that leaves the dialog
    /// up, the refresh is tried again later and `true` says it was handled
    /// here; a 408 or 481 (RFC 4028 §10), or a re-INVITE that was no
    /// refresh, is left to the re-INVITE handling (`false`).
    pub(super) fn session_timer_refresh_failed(
        &mut self,
        slot: usize,
        cseq: u32,
        resp: &Message<'_>,
    ) -> bool {
        let handled = self.refresh_refused(slot, cseq, resp);
        if handled {
            if let Some(Some(call)) = self.calls.get_mut(slot) {
                call.media.offer_failed();
                call.own_reinvite = None;
            }
        }
        handled
    }

    /// A final non-2xx to our request numbered `cseq` (re-INVITE or
    /// UPDATE): when it answers a refresh of ours that leaves the dialog
    /// up, the refresh is scheduled again and `true` returned.
    fn refresh_refused(&mut self, slot: usize, cseq: u32, resp: &Message<'_>) -> bool {
        let now = self.now;
        let code = resp.status().unwrap_or(0);
        let delay = match code {
            // RFC 3261 §14.1: glare, a random delay.
            491 => {
                let direction = match self.calls.get(slot) {
                    Some(Some(c)) => c.direction,
                    _ => CallDirection::Incoming,
                };
                glare_retry_delay(direction, &mut self.rng)
            }
            _ => resp
                .retry_after()
                .and_then(Result::ok)
                .map_or(REFUSED_RETRY, |r| {
                    Duration::from_secs(u64::from(r.delta.clamp(1, 10)))
                }),
        };
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return false;
        };
        matches!(
            call.session_timer
                .on_refresh_failure(now, cseq, resp, delay),
            RefreshFailure::RetryAt(_)
        )
    }

    /// A 422 to the initial INVITE (transaction `id`) of the outgoing call
    /// in `slot`: RFC 4028 §7.4 sends it again, with the same Call-ID, From
    /// and To, a higher CSeq, and Session-Expires and Min-SE raised to the
    /// 422's Min-SE. `false` leaves the 422 to end the call.
    pub(super) fn session_timer_retry(
        &mut self,
        slot: usize,
        id: TransactionId,
        resp: &Message<'_>,
    ) -> bool {
        let retry = match self.calls.get_mut(slot) {
            Some(Some(c)) => c.cancel_reason.is_none() && c.session_timer.on_422(resp),
            _ => false,
        };
        if !retry {
            return false;
        }
        // The transaction holds the ACK it sent for the 422: its
        // Request-URI is the INVITE's (RFC 3261 §17.1.1.3). It is read
        // where the transaction keeps it, no copy.
        let Some(Ok(req)) = self.txns.message(id).map(Message::parse_datagram) else {
            return false;
        };
        let Some(Ok(uri)) = req.request_uri() else {
            return false;
        };
        let Some(target) = crate::ua::text::<{ super::MAX_FORWARD_TARGET }>(uri.raw) else {
            return false;
        };
        self.reissue_initial_invite(slot, id, &target).is_some()
    }

    /// The session timers of every call: refresh when this phone is the
    /// refresher and half the interval has passed, BYE when the session
    /// expired (RFC 4028 §10).
    pub(super) fn run_session_timers(&mut self) {
        for slot in self.call_slots() {
            let now = self.now;
            let due = match self.calls.get_mut(slot) {
                Some(Some(c)) => c.session_timer.due(now),
                _ => None,
            };
            match due {
                Some(TimerDue::Expired) => {
                    self.send_bye(slot);
                    self.end_call(slot, EndReason::SessionExpired);
                }
                Some(TimerDue::Refresh) => self.send_refresh(slot),
                None => {}
            }
        }
    }

    /// Sends the refresh of the call in `slot`: a re-INVITE offering the
    /// session unchanged (the SDP version stays, RFC 3264 §8) with the
    /// timer's headers. While another offer/answer exchange is under way
    /// the refresh waits; that exchange's own 2xx refreshes the session.
    fn send_refresh(&mut self, slot: usize) {
        let now = self.now;
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return;
        };
        let free = call.is_confirmed()
            && call.own_reinvite.is_none()
            && call.pending_ok.is_none()
            && !call.media.offer_pending();
        if !free {
            call.session_timer.refresh_later(now + BUSY_RETRY);
            return;
        }
        if call.session_timer.refresh_by_update() {
            self.send_update_refresh(slot);
            return;
        }
        let hold = call.media.is_local_hold();
        let sent = self.send_reinvite(slot, hold);
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return;
        };
        match (sent, call.own_reinvite) {
            (Some(()), Some(own)) => call.session_timer.refresh_sent(own.cseq),
            _ => {
                // Nothing went out: the offer made for it is void.
                if call.own_reinvite.is_none() {
                    call.media.offer_failed();
                }
                call.session_timer.refresh_later(now + BUSY_RETRY);
            }
        }
    }
}

impl<const CALLS: usize, const TXNS: usize, const COMPLETED: usize, const BUFFERS: usize>
    Phone<CALLS, TXNS, COMPLETED, BUFFERS>
{
    /// Sends the refresh of the call in `slot` as an UPDATE without a body
    /// (RFC 4028 §10 recommends it where the peer allows it).
    fn send_update_refresh(&mut self, slot: usize) {
        let now = self.now;
        let Some(Some(call)) = self.calls.get(slot) else {
            return;
        };
        let timer = call.session_timer;
        let (Some(se), min_se) = (timer.request_value(), timer.min_se_value()) else {
            return;
        };
        let mut extra: heapless::Vec<(&str, &str), 3> = heapless::Vec::new();
        let _ = extra.push(("Supported", timer.supported()));
        let _ = extra.push(("Session-Expires", &se));
        if let Some(m) = &min_se {
            let _ = extra.push(("Min-SE", m));
        }
        let sent = self.send_update(slot, false, &extra);
        let cseq = call_dialog_cseq(self, slot);
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return;
        };
        match (sent, cseq) {
            (Some(_), Some(cseq)) => call.session_timer.refresh_sent(cseq),
            _ => call.session_timer.refresh_later(now + BUSY_RETRY),
        }
    }

    /// A final response to our UPDATE numbered by `resp`'s CSeq, of the
    /// call in `slot`. A 2xx refreshes the session like a re-INVITE's
    /// (RFC 4028 §7.2) and goes on to the UPDATE handling (`false`); a
    /// refusal of our refresh that leaves the dialog up is handled here,
    /// the refresh tried again (`true`).
    pub(super) fn session_timer_update_done(
        &mut self,
        slot: usize,
        code: u16,
        resp: &Message<'_>,
    ) -> bool {
        let cseq = resp.cseq().and_then(Result::ok).map_or(0, |c| c.seq);
        if (200..300).contains(&code) {
            let now = self.now;
            if let Some(Some(call)) = self.calls.get_mut(slot) {
                call.session_timer.on_uac_2xx(now, resp);
            }
            return false;
        }
        let ours =
            matches!(self.calls.get(slot), Some(Some(c)) if c.session_timer.is_refresh(cseq));
        if !ours {
            return false;
        }
        // Not a re-INVITE: no offer to withdraw, only the UPDATE to forget.
        let handled = self.refresh_refused(slot, cseq, resp);
        if handled {
            if let Some(Some(call)) = self.calls.get_mut(slot) {
                call.update.own = None;
            }
        }
        handled
    }

    /// The session-timer headers of the 2xx to a peer's UPDATE of the call
    /// in `slot` (RFC 4028 §9 applies to UPDATE as to re-INVITE): `Err`
    /// carries our Min-SE for a 422.
    pub(super) fn session_timer_on_update(
        &mut self,
        slot: usize,
        req: &Message<'_>,
    ) -> Result<Option<AnswerHeaders>, Text<12>> {
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return Ok(None);
        };
        if let Err(min_se) = call.session_timer.on_request(req) {
            let mut v = Text::new();
            let _ = v.push_str(Decimal::new(u64::from(min_se)).as_str());
            return Err(v);
        }
        Ok(call
            .session_timer
            .answer_value()
            .map(|(session_expires, require)| AnswerHeaders {
                supported: call.session_timer.supported(),
                session_expires,
                require,
            }))
    }

    /// The 2xx to a peer's UPDATE of the call in `slot` went out: its
    /// session timer restarts.
    pub(super) fn session_timer_answered(&mut self, slot: usize) {
        let now = self.now;
        if let Some(Some(call)) = self.calls.get_mut(slot) {
            call.session_timer.answered(now);
        }
    }
}

/// The session-timer headers of a 2xx to a peer's UPDATE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct AnswerHeaders {
    supported: &'static str,
    session_expires: SessionExpiresValue,
    require: bool,
}

impl AnswerHeaders {
    /// As extra headers of a response.
    pub(super) fn extra(&self) -> heapless::Vec<(&str, &str), 3> {
        let mut v = heapless::Vec::new();
        let _ = v.push(("Supported", self.supported));
        let _ = v.push(("Session-Expires", self.session_expires.as_str()));
        if self.require {
            let _ = v.push(("Require", crate::call::session_timer::TIMER_TAG));
        }
        v
    }
}

/// The CSeq number of the last request of the call's dialog.
fn call_dialog_cseq<
    const CALLS: usize,
    const TXNS: usize,
    const COMPLETED: usize,
    const BUFFERS: usize,
>(
    phone: &Phone<CALLS, TXNS, COMPLETED, BUFFERS>,
    slot: usize,
) -> Option<u32> {
    let dh = phone.calls.get(slot)?.as_ref()?.dialog?;
    phone.dialogs.get(dh)?.local_cseq()
}

#[cfg(all(test, feature = "session-timer"))]
mod tests;
