//! Desk-phone features as run-time policy: do-not-disturb, anonymous call
//! rejection, call forwarding (always, on busy, on no answer), auto-answer
//! and intercom, call waiting, and how many redirections an outgoing call
//! follows.
//!
//! The decision for a new incoming call is a pure function of the policy
//! and a few facts about the request and the phone
//! ([`decide_incoming`]), so the same settings behave the same on Linux,
//! on firmware and in the simulator. The phone applies it before the call
//! takes a slot: a refused or forwarded call never rings.
//!
//! Settings change at run time with [`Command::SetPolicy`] or
//! [`Phone::policy_mut`]; a change applies to the next incoming call.
//!
//! Precedence for an incoming call, first match wins:
//! 1. anonymous caller and anonymous rejection on: refused (433 or 603);
//! 2. forward always: 302 to the target;
//! 3. do-not-disturb: refused (486 or 480);
//! 4. busy (another call is live and call waiting is off, or no line is
//!    free): 302 to the busy target, else 486;
//! 5. otherwise the call rings; auto-answer or an intercom request
//!    (answer-after) arms an answer timer, forward on no answer arms a
//!    302 timer.
//!
//! [`Command::SetPolicy`]: super::Command::SetPolicy
//! [`Phone::policy_mut`]: super::Phone::policy_mut

use crate::message::{HeaderName, Host, Message};
use crate::time::{Duration, Instant};
use crate::ua::Text;

use super::CallHandle;

/// Longest forward target kept (a SIP URI).
pub const MAX_FORWARD_TARGET: usize = 96;

/// A forward target: a SIP URI such as `sip:carol@example.com`.
pub type ForwardTarget = Text<MAX_FORWARD_TARGET>;

/// The feature settings of a phone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Do-not-disturb: refuse every incoming call with this status (486
    /// Busy Here or 480 Temporarily Unavailable); `None` is off.
    pub dnd: Option<u16>,
    /// Refuse calls from an anonymous caller (RFC 3323 §4.1.1.3) with this
    /// status (433 Anonymity Disallowed or 603 Decline); `None` accepts them.
    pub reject_anonymous: Option<u16>,
    /// Forward every incoming call to this target without ringing.
    pub forward_always: Option<ForwardTarget>,
    /// Forward incoming calls to this target while the phone is busy.
    pub forward_busy: Option<ForwardTarget>,
    /// Forward an unanswered incoming call to this target ...
    pub forward_no_answer: Option<ForwardTarget>,
    /// ... after it rang this long.
    pub forward_no_answer_after: Duration,
    /// Answer every incoming call by itself after this delay.
    pub auto_answer: Option<Duration>,
    /// Answer a call that asks for it (intercom: `answer-after` in
    /// Call-Info or Alert-Info, or Alert-Info `info=alert-autoanswer`).
    pub intercom: bool,
    /// A second incoming call while one is live rings (call waiting);
    /// when off it is refused as busy.
    pub call_waiting: bool,
    /// Answering a call puts the other established calls on hold.
    pub hold_others_on_answer: bool,
    /// How many 3xx redirections one outgoing call follows (RFC 3261
    /// §8.1.3.4 asks for a loop guard); 0 treats a 3xx as a failure.
    pub max_redirects: u8,
    /// Session timers (RFC 4028): off by default.
    pub session_timer: super::SessionTimerSettings,
    /// How [`Command::SendDtmf`](super::Command::SendDtmf) sends digits.
    pub dtmf_mode: super::DtmfMode,
    /// Reliable provisional responses (RFC 3262, `100rel`): offered to
    /// callees and used toward callers, required, or only when a caller
    /// requires them (off, the default).
    pub reliable_provisional: super::ReliableProvisional,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            dnd: None,
            reject_anonymous: None,
            forward_always: None,
            forward_busy: None,
            forward_no_answer: None,
            forward_no_answer_after: Duration::from_secs(20),
            auto_answer: None,
            intercom: true,
            call_waiting: true,
            hold_others_on_answer: true,
            max_redirects: 5,
            session_timer: super::SessionTimerSettings::default(),
            dtmf_mode: super::DtmfMode::Rfc4733,
            reliable_provisional: super::ReliableProvisional::Off,
        }
    }
}

/// What the phone knows about a new incoming call when it decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IncomingFacts {
    /// The caller hides its identity.
    pub anonymous: bool,
    /// Another call is live on the phone.
    pub other_call_live: bool,
    /// A call slot is free.
    pub line_free: bool,
    /// The caller asks for answer after this delay (intercom).
    pub answer_after: Option<Duration>,
}

/// What happens to a new incoming call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncomingDecision<'p> {
    /// Refuse it with this final status, without ringing.
    Refuse(u16),
    /// Answer 302 Moved Temporarily with this target as Contact.
    Redirect(&'p str),
    /// Ring.
    Ring {
        /// Answer by itself after this delay.
        answer_after: Option<Duration>,
        /// Forward (302) if still unanswered after this delay.
        forward_after: Option<Duration>,
    },
}

/// Decides what to do with a new incoming call (precedence in the module
/// documentation).
/// Without the `policy` feature only call waiting is left: every call
/// rings unless the phone is busy (486), and is never answered or
/// forwarded by itself.
pub fn decide_incoming<'p>(policy: &'p Policy, facts: &IncomingFacts) -> IncomingDecision<'p> {
    let busy = !facts.line_free || (facts.other_call_live && !policy.call_waiting);
    if !cfg!(feature = "policy") {
        return if busy {
            IncomingDecision::Refuse(486)
        } else {
            IncomingDecision::Ring {
                answer_after: None,
                forward_after: None,
            }
        };
    }
    if facts.anonymous {
        if let Some(code) = policy.reject_anonymous {
            return IncomingDecision::Refuse(code);
        }
    }
    if let Some(t) = &policy.forward_always {
        return IncomingDecision::Redirect(t);
    }
    if let Some(code) = policy.dnd {
        return IncomingDecision::Refuse(code);
    }
    if busy {
        return match &policy.forward_busy {
            Some(t) => IncomingDecision::Redirect(t),
            None => IncomingDecision::Refuse(486),
        };
    }
    let intercom = facts.answer_after.filter(|_| policy.intercom);
    // The sooner of the two answers wins; a waiting call (another one live)
    // is never answered by itself, the user picks it up.
    let answer_after = match (intercom, policy.auto_answer) {
        _ if facts.other_call_live => None,
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let forward_after = policy
        .forward_no_answer
        .as_ref()
        .map(|_| policy.forward_no_answer_after);
    IncomingDecision::Ring {
        answer_after,
        forward_after,
    }
}

/// Whether the request's caller is anonymous: RFC 3323 §4.1.1.3 asks for
/// `sip:anonymous@anonymous.invalid` in From; many phones also send only
/// the user `anonymous` or the display name `Anonymous`, and RFC 3325
/// callers ask with `Privacy: id`.
pub fn is_anonymous(req: &Message<'_>) -> bool {
    let from_hidden = req.from().and_then(|f| f.ok()).is_some_and(|f| {
        let user = f
            .uri
            .user
            .is_some_and(|u| u.eq_ignore_ascii_case("anonymous"));
        let host = f.uri.host.is_some_and(
            |h| matches!(h, Host::Name(n) if n.eq_ignore_ascii_case("anonymous.invalid")),
        );
        let name = f
            .display_name
            .is_some_and(|n| n.trim_matches('"').eq_ignore_ascii_case("anonymous"));
        user || host || name
    });
    let privacy_id = req
        .header_values(HeaderName::Other("Privacy"))
        .flat_map(|v| v.split(';'))
        .any(|p| p.trim_ascii().eq_ignore_ascii_case("id"));
    from_hidden || privacy_id
}

/// The answer delay an intercom call asks for: an `answer-after=N`
/// parameter of Call-Info or Alert-Info (the widely deployed form of
/// draft-ietf-sipping-answeralert), or Alert-Info `info=alert-autoanswer`
/// (answer at once). `None` when the call asks for nothing.
pub fn requested_answer_after(req: &Message<'_>) -> Option<Duration> {
    let values = req
        .header_values(HeaderName::CallInfo)
        .chain(req.header_values(HeaderName::AlertInfo));
    let mut found: Option<Duration> = None;
    for value in values {
        // Parameters follow the `<uri>`; a value may list several entries.
        let params = value.rsplit('>').next().unwrap_or(value);
        for p in params.split(';') {
            let (name, arg) = match p.split_once('=') {
                Some((n, a)) => (n.trim_ascii(), a.trim_ascii().trim_matches('"')),
                None => (p.trim_ascii(), ""),
            };
            let delay = if name.eq_ignore_ascii_case("answer-after") {
                arg.parse::<u32>()
                    .ok()
                    .map(|s| Duration::from_secs(s.into()))
            } else if name.eq_ignore_ascii_case("info")
                && (arg.eq_ignore_ascii_case("alert-autoanswer")
                    || arg.eq_ignore_ascii_case("intercom"))
            {
                Some(Duration::ZERO)
            } else {
                None
            };
            if let Some(d) = delay {
                found = Some(found.map_or(d, |f| f.min(d)));
            }
        }
    }
    found
}

/// The feature timers of one call slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SlotFeatures {
    /// The call these timers belong to; a reused slot's stale timers name
    /// the old handle and are ignored.
    pub call: Option<CallHandle>,
    /// When to answer the ringing call by itself.
    pub answer_at: Option<Instant>,
    /// When to forward the ringing call (302).
    pub forward_at: Option<Instant>,
    /// 3xx redirections this outgoing call has followed.
    pub redirects: u8,
}

impl SlotFeatures {
    /// Timers for `call`, none armed.
    pub fn for_call(call: CallHandle) -> Self {
        SlotFeatures {
            call: Some(call),
            ..SlotFeatures::default()
        }
    }

    /// The earliest armed timer.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.answer_at, self.forward_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Two calls the shim mixes into one local three-way conference.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Conference {
    /// The two calls, when a conference is up.
    pub calls: Option<[CallHandle; 2]>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> IncomingFacts {
        IncomingFacts {
            anonymous: false,
            other_call_live: false,
            line_free: true,
            answer_after: None,
        }
    }

    #[cfg(feature = "policy")]
    fn target(s: &str) -> Option<ForwardTarget> {
        crate::ua::text(s)
    }

    #[test]
    fn default_policy_rings_without_timers() {
        let p = Policy::default();
        assert_eq!(
            decide_incoming(&p, &facts()),
            IncomingDecision::Ring {
                answer_after: None,
                forward_after: None
            }
        );
    }

    #[test]
    #[cfg(feature = "policy")]
    fn precedence_anonymous_then_forward_always_then_dnd_then_busy() {
        let mut p = Policy {
            dnd: Some(480),
            reject_anonymous: Some(433),
            forward_always: target("sip:carol@example.com"),
            forward_busy: target("sip:vm@example.com"),
            ..Policy::default()
        };
        let anon = IncomingFacts {
            anonymous: true,
            ..facts()
        };
        assert_eq!(decide_incoming(&p, &anon), IncomingDecision::Refuse(433));
        assert_eq!(
            decide_incoming(&p, &facts()),
            IncomingDecision::Redirect("sip:carol@example.com")
        );
        p.forward_always = None;
        assert_eq!(decide_incoming(&p, &facts()), IncomingDecision::Refuse(480));
        p.dnd = None;
        let full = IncomingFacts {
            line_free: false,
            other_call_live: true,
            ..facts()
        };
        assert_eq!(
            decide_incoming(&p, &full),
            IncomingDecision::Redirect("sip:vm@example.com")
        );
        p.forward_busy = None;
        assert_eq!(decide_incoming(&p, &full), IncomingDecision::Refuse(486));
    }

    #[test]
    fn call_waiting_rings_a_second_call_unless_turned_off() {
        let mut p = Policy::default();
        let second = IncomingFacts {
            other_call_live: true,
            answer_after: Some(Duration::ZERO),
            ..facts()
        };
        // Rings, and is not answered by itself over the live call.
        assert_eq!(
            decide_incoming(&p, &second),
            IncomingDecision::Ring {
                answer_after: None,
                forward_after: None
            }
        );
        p.call_waiting = false;
        assert_eq!(decide_incoming(&p, &second), IncomingDecision::Refuse(486));
    }

    #[test]
    #[cfg(feature = "policy")]
    fn auto_answer_intercom_and_no_answer_forward_timers() {
        let mut p = Policy {
            auto_answer: Some(Duration::from_secs(5)),
            forward_no_answer: target("sip:carol@example.com"),
            forward_no_answer_after: Duration::from_secs(12),
            ..Policy::default()
        };
        let intercom = IncomingFacts {
            answer_after: Some(Duration::from_secs(1)),
            ..facts()
        };
        assert_eq!(
            decide_incoming(&p, &intercom),
            IncomingDecision::Ring {
                answer_after: Some(Duration::from_secs(1)),
                forward_after: Some(Duration::from_secs(12))
            }
        );
        p.intercom = false;
        assert_eq!(
            decide_incoming(&p, &intercom),
            IncomingDecision::Ring {
                answer_after: Some(Duration::from_secs(5)),
                forward_after: Some(Duration::from_secs(12))
            }
        );
    }

    fn request(extra: &str) -> heapless::Vec<u8, 1024> {
        let mut v = heapless::Vec::new();
        let _ = v.extend_from_slice(b"INVITE sip:bob@example.com SIP/2.0\r\n");
        let _ = v.extend_from_slice(b"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n");
        let _ = v.extend_from_slice(extra.as_bytes());
        let _ = v.extend_from_slice(
            b"To: <sip:bob@example.com>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\n\
              Content-Length: 0\r\n\r\n",
        );
        v
    }

    #[test]
    fn anonymous_callers_are_recognised() {
        for from in [
            "From: \"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=1\r\n",
            "From: <sip:anonymous@example.com>;tag=1\r\n",
            "From: Anonymous <sip:x@anonymous.invalid>;tag=1\r\n",
            "From: <sip:alice@example.com>;tag=1\r\nPrivacy: header; id\r\n",
        ] {
            let raw = request(from);
            let m = Message::parse_datagram(&raw).unwrap();
            assert!(is_anonymous(&m), "{from}");
        }
        let raw = request("From: \"Alice\" <sip:alice@example.com>;tag=1\r\n");
        let m = Message::parse_datagram(&raw).unwrap();
        assert!(!is_anonymous(&m));
    }

    #[test]
    fn intercom_answer_after_is_read_from_call_info_and_alert_info() {
        let from = "From: <sip:alice@example.com>;tag=1\r\n";
        let cases: [(&str, Option<u64>); 5] = [
            ("Call-Info: <sip:192.0.2.1>;answer-after=0\r\n", Some(0)),
            ("Call-Info: <sip:192.0.2.1>; answer-after=3\r\n", Some(3)),
            (
                "Alert-Info: <http://x/y>;info=alert-autoanswer\r\n",
                Some(0),
            ),
            ("Alert-Info: <http://x/ring.wav>\r\n", None),
            ("Call-Info: <sip:192.0.2.1>;answer-after=soon\r\n", None),
        ];
        for (header, want) in cases {
            let mut extra = heapless::String::<256>::new();
            let _ = extra.push_str(from);
            let _ = extra.push_str(header);
            let raw = request(&extra);
            let m = Message::parse_datagram(&raw).unwrap();
            assert_eq!(
                requested_answer_after(&m),
                want.map(Duration::from_secs),
                "{header}"
            );
        }
    }

    #[test]
    fn slot_timers_report_the_earliest() {
        let h = CallHandle {
            slot: 0,
            generation: 1,
        };
        let mut s = SlotFeatures::for_call(h);
        assert_eq!(s.poll_timeout(), None);
        s.forward_at = Some(Instant::from_millis(900));
        s.answer_at = Some(Instant::from_millis(400));
        assert_eq!(s.poll_timeout(), Some(Instant::from_millis(400)));
    }
}
