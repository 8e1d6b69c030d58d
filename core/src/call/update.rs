//! UPDATE (RFC 3311) as a call uses it: the rule that decides how an
//! incoming UPDATE is answered, and the UPDATE this phone has in flight.

use crate::time::Instant;
use crate::transaction::TransactionId;

/// How an incoming UPDATE is answered (RFC 3311 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateVerdict {
    /// No offer: a refresh of the session (RFC 4028 uses it), 200 OK.
    Refresh,
    /// An offer that can be answered now: negotiate, then 200 with the
    /// answer (or 488 when it cannot be accepted).
    Answer,
    /// Our own offer is unanswered: 491 Request Pending.
    Glare,
    /// An offer we received is not answered yet: 500 with Retry-After.
    Busy,
}

/// Decides on an UPDATE: `has_offer` when it carries a session
/// description, `answer_unsent` when an offer we received has not been
/// answered on the wire yet, `offer_pending` when an offer we sent awaits
/// its answer.
pub fn judge_update(has_offer: bool, answer_unsent: bool, offer_pending: bool) -> UpdateVerdict {
    if !has_offer {
        return UpdateVerdict::Refresh;
    }
    if answer_unsent {
        return UpdateVerdict::Busy;
    }
    if offer_pending {
        return UpdateVerdict::Glare;
    }
    UpdateVerdict::Answer
}

/// An UPDATE this phone sent and has no final response to yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnUpdate {
    /// Its client transaction.
    pub tx: TransactionId,
    /// Whether it carried an offer.
    pub offer: bool,
}

/// The UPDATE state of one call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpdateState {
    /// The UPDATE in flight.
    pub own: Option<OwnUpdate>,
    /// An UPDATE to send again after glare (RFC 3311 §5.2 refers to RFC
    /// 3261 §14.1), and whether it carries an offer.
    pub retry: Option<(Instant, bool)>,
}

impl UpdateState {
    /// When the glare retry is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.retry.map(|r| r.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_without_sdp_is_a_refresh_whatever_the_state() {
        for (a, b) in [(false, false), (true, false), (false, true), (true, true)] {
            assert_eq!(judge_update(false, a, b), UpdateVerdict::Refresh);
        }
    }

    #[test]
    fn an_offer_meets_glare_or_an_unanswered_offer() {
        assert_eq!(judge_update(true, false, false), UpdateVerdict::Answer);
        assert_eq!(judge_update(true, false, true), UpdateVerdict::Glare);
        assert_eq!(judge_update(true, true, false), UpdateVerdict::Busy);
        assert_eq!(judge_update(true, true, true), UpdateVerdict::Busy);
    }

    #[test]
    fn only_the_retry_wakes_the_call() {
        let mut s = UpdateState::default();
        assert_eq!(s.poll_timeout(), None);
        s.retry = Some((Instant::from_millis(2100), true));
        assert_eq!(s.poll_timeout(), Some(Instant::from_millis(2100)));
    }
}
