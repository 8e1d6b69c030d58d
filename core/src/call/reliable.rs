//! Reliable provisional responses (RFC 3262, the `100rel` extension) as a
//! call uses them: the numbering and retransmission of the provisional
//! responses a UAS sends reliably, and the ordering rule for the ones a
//! UAC receives. Pure state machines; the phone facade writes and sends
//! the messages.

use crate::message::{Decimal, Message, MessageWriter, Method};
use crate::rng::Rng;
use crate::time::{Duration, Instant};
use crate::ua::{self, LocalIdentity};

/// The option tag of reliable provisional responses (RFC 3262 §7.1).
pub const OPTION_TAG: &str = "100rel";

/// The highest RSeq value (RFC 3262 §3: 1 to 2^31 - 1).
pub const MAX_RSEQ: u32 = (1 << 31) - 1;

/// How the phone uses reliable provisional responses.
///
/// Whatever the setting, a peer that requires `100rel` gets reliable
/// provisional responses and a reliable provisional response that arrives
/// is acknowledged: the phone always supports the extension.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ReliableProvisional {
    /// Not offered to callees, not used toward callers that merely
    /// support it (the usual desk-phone default).
    #[default]
    Off,
    /// Offered to callees (`Supported: 100rel`) and used toward every
    /// caller that supports it.
    Supported,
    /// Required of callees (`Require: 100rel`); a caller that does not
    /// support it is refused with 421 Extension Required.
    Required,
}

impl ReliableProvisional {
    /// The header lines an initial INVITE carries for this setting.
    pub fn invite_headers(self) -> &'static [(&'static str, &'static str)] {
        // Built without the `prack` feature, every setting acts as `Off`.
        if !cfg!(feature = "prack") {
            return &[];
        }
        match self {
            ReliableProvisional::Off => &[],
            ReliableProvisional::Supported => &[("Supported", OPTION_TAG)],
            ReliableProvisional::Required => &[("Require", OPTION_TAG)],
        }
    }

    /// Whether a provisional response to an INVITE that requires
    /// (`peer_requires`) or supports (`peer_supports`) `100rel` goes out
    /// reliably (RFC 3262 §3).
    pub fn answers_reliably(self, peer_requires: bool, peer_supports: bool) -> bool {
        cfg!(feature = "prack")
            && (peer_requires || (peer_supports && self != ReliableProvisional::Off))
    }

    /// Whether an INVITE that neither requires nor supports `100rel` is
    /// refused with 421 Extension Required (RFC 3261 §21.4.15).
    pub fn refuses_without(self, peer_requires: bool, peer_supports: bool) -> bool {
        cfg!(feature = "prack")
            && self == ReliableProvisional::Required
            && !peer_requires
            && !peer_supports
    }
}

/// Why a reliable provisional response cannot go out now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReliableError {
    /// The previous reliable provisional response is not acknowledged yet
    /// (RFC 3262 §3: at most one outstanding at a time).
    Unacknowledged,
    /// RSeq would pass 2^31 - 1.
    Exhausted,
}

/// What a timer of the outstanding provisional asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProvisionalTimer {
    /// Send the provisional response again.
    Retransmit,
    /// 64·T1 passed without a PRACK: reject the INVITE with a 5xx
    /// (RFC 3262 §3).
    GiveUp,
}

/// A reliable provisional response waiting for its PRACK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unacknowledged {
    /// Its RSeq.
    pub rseq: u32,
    /// The CSeq number of the INVITE it answers.
    pub cseq: u32,
    /// Whether it carried a session description (then the 2xx waits for
    /// its PRACK, RFC 3262 §3).
    pub carried_sdp: bool,
    next: Instant,
    interval: Duration,
    give_up: Instant,
}

/// The UAS side: RSeq numbering and the outstanding reliable provisional
/// response of one INVITE.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReliableSender {
    last_rseq: u32,
    unacked: Option<Unacknowledged>,
    sdp_sent: bool,
    /// The user answered while a provisional response with a session
    /// description was unacknowledged: the 2xx goes out with its PRACK.
    pub answer_waiting: bool,
}

impl ReliableSender {
    /// The RSeq for the next reliable provisional response: a random start
    /// in 1..=2^31-1 for the first, one more for each after it (RFC 3262
    /// §3).
    pub fn next_rseq(&self, rng: &mut Rng) -> Result<u32, ReliableError> {
        if self.unacked.is_some() {
            return Err(ReliableError::Unacknowledged);
        }
        if self.last_rseq == 0 {
            return Ok(1 + rng.below(MAX_RSEQ));
        }
        self.last_rseq
            .checked_add(1)
            .filter(|&n| n <= MAX_RSEQ)
            .ok_or(ReliableError::Exhausted)
    }

    /// Records that the provisional response numbered `rseq` went out at
    /// `now`: retransmitted after T1, doubling each time, given up after
    /// 64·T1 (RFC 3262 §3).
    pub fn sent(&mut self, rseq: u32, cseq: u32, carried_sdp: bool, now: Instant, t1: Duration) {
        self.last_rseq = rseq;
        self.sdp_sent |= carried_sdp;
        self.unacked = Some(Unacknowledged {
            rseq,
            cseq,
            carried_sdp,
            next: now + t1,
            interval: t1,
            give_up: now + t1.saturating_mul(64),
        });
    }

    /// Whether a provisional response carried a session description (an
    /// answer, or the offer of a late-offer INVITE).
    pub fn sdp_sent(&self) -> bool {
        self.sdp_sent
    }

    /// The provisional response waiting for its PRACK, if any.
    pub fn unacknowledged(&self) -> Option<Unacknowledged> {
        self.unacked
    }

    /// Whether a final 2xx must wait: a provisional response with a
    /// session description is unacknowledged (RFC 3262 §3).
    pub fn holds_final(&self) -> bool {
        self.unacked.is_some_and(|u| u.carried_sdp)
    }

    /// A PRACK with RAck `rseq cseq method` arrived: whether it
    /// acknowledges the outstanding provisional response, which then
    /// stops (RFC 3262 §3). `None` asks for 481.
    pub fn on_prack(&mut self, rseq: u32, cseq: u32, method: Method<'_>) -> Option<Unacknowledged> {
        let u = self.unacked?;
        if u.rseq != rseq || u.cseq != cseq || method != Method::Invite {
            return None;
        }
        self.unacked = None;
        Some(u)
    }

    /// Stops retransmitting: the INVITE got its final response.
    pub fn stop(&mut self) {
        self.unacked = None;
    }

    /// What is due at `now`, moving the retransmission timer on.
    pub fn poll(&mut self, now: Instant) -> Option<ProvisionalTimer> {
        let u = self.unacked.as_mut()?;
        if u.give_up <= now {
            self.unacked = None;
            return Some(ProvisionalTimer::GiveUp);
        }
        if u.next <= now {
            // RFC 3262 §3: the interval doubles with each retransmission
            // (no T2 cap), until 64·T1 after the first transmission.
            u.interval = u.interval.saturating_mul(2);
            u.next = (now + u.interval).min(u.give_up);
            return Some(ProvisionalTimer::Retransmit);
        }
        None
    }

    /// When [`Self::poll`] has work next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.unacked.map(|u| u.next.min(u.give_up))
    }
}

/// What a UAC does with a reliable provisional response (RFC 3262 §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Receipt {
    /// The next in sequence (or the first): process it and PRACK it.
    Acknowledge,
    /// A retransmission of one already taken: discard it.
    Duplicate,
    /// A later one arrived before the one in between: discard it, the UAS
    /// retransmits both.
    OutOfOrder,
}

/// The UAC side: the RSeq sequence of the reliable provisional responses
/// of one early dialog.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReliableReceiver {
    last_rseq: Option<u32>,
}

impl ReliableReceiver {
    /// Judges a reliable provisional response numbered `rseq` (RFC 3262
    /// §4): the first sets the sequence, each later one must be exactly one
    /// higher than the last taken.
    pub fn receive(&mut self, rseq: u32) -> Receipt {
        match self.last_rseq {
            None => {
                self.last_rseq = Some(rseq);
                Receipt::Acknowledge
            }
            Some(last) if rseq <= last => Receipt::Duplicate,
            Some(last) if Some(rseq) == last.checked_add(1) => {
                self.last_rseq = Some(rseq);
                Receipt::Acknowledge
            }
            Some(_) => Receipt::OutOfOrder,
        }
    }

    /// The RSeq of the last provisional response taken.
    pub fn last_rseq(&self) -> Option<u32> {
        self.last_rseq
    }
}

/// Writes a reliable provisional response `code` (101-199) to the INVITE
/// `req`: like any dialog-creating provisional (Record-Route echoed, our
/// tag, Contact), with `Require: 100rel` and `RSeq` (RFC 3262 §3) and `sdp`
/// when given. Returns the length.
pub fn write_reliable_provisional(
    buf: &mut [u8],
    req: &Message<'_>,
    code: u16,
    local_tag: &str,
    me: &LocalIdentity,
    rseq: u32,
    sdp: &[u8],
) -> Option<usize> {
    if !(101..200).contains(&code) {
        return None;
    }
    let mut w = MessageWriter::new(buf);
    let reason = crate::message::reason_phrase(code);
    ua::write_response_head(&mut w, req, code, reason, Some(local_tag), true);
    me.write_contact(&mut w);
    w.header("Require", OPTION_TAG);
    w.header("RSeq", Decimal::new(u64::from(rseq)).as_str());
    w.header("Server", ua::PRODUCT);
    let ct = (!sdp.is_empty()).then_some("application/sdp");
    w.finish(ct, sdp).ok()
}

/// Both sides of `100rel` for one call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReliableProvisionals {
    /// As UAS of the call's INVITE.
    pub uas: ReliableSender,
    /// As UAC of the call's INVITE.
    pub uac: ReliableReceiver,
}

#[cfg(test)]
mod tests {
    use super::*;

    const T1: Duration = Duration::from_millis(500);

    fn at(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    #[cfg(feature = "prack")]
    fn settings_decide_reliability_and_421() {
        use ReliableProvisional::*;
        assert!(!Off.answers_reliably(false, true));
        assert!(Off.answers_reliably(true, false));
        assert!(Supported.answers_reliably(false, true));
        assert!(!Supported.answers_reliably(false, false));
        assert!(Required.refuses_without(false, false));
        assert!(!Required.refuses_without(false, true));
        assert!(!Supported.refuses_without(false, false));
        assert_eq!(Off.invite_headers(), &[]);
        assert_eq!(Required.invite_headers(), &[("Require", "100rel")]);
        assert_eq!(ReliableProvisional::default(), Off);
    }

    #[test]
    fn first_rseq_is_random_in_range_then_counts_up() {
        let mut seen = [0u32; 2];
        for (seed, slot) in [(1u64, 0usize), (2, 1)] {
            let mut rng = Rng::new(seed);
            let mut s = ReliableSender::default();
            let first = s.next_rseq(&mut rng).unwrap();
            assert!((1..=MAX_RSEQ).contains(&first));
            s.sent(first, 1, false, at(0), T1);
            assert_eq!(s.next_rseq(&mut rng), Err(ReliableError::Unacknowledged));
            assert!(s.on_prack(first, 1, Method::Invite).is_some());
            assert_eq!(s.next_rseq(&mut rng), Ok(first + 1));
            seen[slot] = first;
        }
        assert_ne!(seen[0], seen[1], "the start is drawn, not fixed");
    }

    #[test]
    fn rseq_never_passes_its_maximum() {
        let mut s = ReliableSender::default();
        s.sent(MAX_RSEQ, 1, false, at(0), T1);
        s.stop();
        assert_eq!(s.next_rseq(&mut Rng::new(3)), Err(ReliableError::Exhausted));
    }

    #[test]
    fn retransmits_doubling_from_t1_and_gives_up_at_64_t1() {
        let mut s = ReliableSender::default();
        s.sent(7, 1, true, at(0), T1);
        let mut sent_at = [0u64; 8];
        let mut n = 0;
        let gave_up = loop {
            let now = s.poll_timeout().unwrap().as_millis();
            match s.poll(at(now)) {
                Some(ProvisionalTimer::Retransmit) => {
                    *sent_at.get_mut(n).unwrap() = now;
                    n += 1;
                }
                Some(ProvisionalTimer::GiveUp) => break now,
                None => panic!("woken for nothing at {now}"),
            }
        };
        // T1, then 2, 4, 8, 16 T1 between retransmissions; no T2 cap.
        assert_eq!(&sent_at[..n], &[500, 1500, 3500, 7500, 15500, 31500]);
        assert_eq!(gave_up, 32_000);
        assert!(s.unacknowledged().is_none());
        assert_eq!(s.poll(at(gave_up + 1)), None);
    }

    #[test]
    fn prack_must_match_rseq_cseq_and_method() {
        let mut s = ReliableSender::default();
        s.sent(100, 4, true, at(0), T1);
        assert!(s.holds_final());
        assert_eq!(s.on_prack(99, 4, Method::Invite), None);
        assert_eq!(s.on_prack(100, 5, Method::Invite), None);
        assert_eq!(s.on_prack(100, 4, Method::Bye), None);
        let u = s.on_prack(100, 4, Method::Invite).unwrap();
        assert!(u.carried_sdp);
        assert!(!s.holds_final());
        assert!(s.sdp_sent());
        // Acknowledged once: a second PRACK matches nothing (481).
        assert_eq!(s.on_prack(100, 4, Method::Invite), None);
        assert_eq!(s.poll(at(60_000)), None);
    }

    #[test]
    fn a_prack_stops_the_retransmissions() {
        let mut s = ReliableSender::default();
        s.sent(5, 1, false, at(0), T1);
        assert_eq!(s.poll(at(500)), Some(ProvisionalTimer::Retransmit));
        s.on_prack(5, 1, Method::Invite).unwrap();
        assert_eq!(s.poll_timeout(), None);
        assert_eq!(s.poll(at(40_000)), None);
    }

    #[test]
    fn receiver_takes_the_next_in_sequence_only() {
        let mut r = ReliableReceiver::default();
        assert_eq!(r.receive(1000), Receipt::Acknowledge);
        assert_eq!(r.receive(1000), Receipt::Duplicate);
        assert_eq!(r.receive(1002), Receipt::OutOfOrder);
        assert_eq!(r.last_rseq(), Some(1000));
        assert_eq!(r.receive(1001), Receipt::Acknowledge);
        assert_eq!(r.receive(1002), Receipt::Acknowledge);
        assert_eq!(r.receive(999), Receipt::Duplicate);
        let mut top = ReliableReceiver::default();
        assert_eq!(top.receive(u32::MAX), Receipt::Acknowledge);
        assert_eq!(top.receive(0), Receipt::Duplicate);
    }
}
