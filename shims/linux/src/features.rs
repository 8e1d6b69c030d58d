//! The desk-phone feature keys of the `handset phone` console: each line
//! edits the core's [`Policy`] (sent with `Command::SetPolicy`) or joins
//! calls into a local conference.

use handset_core::call::session_timer::RefreshMethod;
use handset_core::message::Refresher;
use handset_core::phone::{DtmfMode, ForwardTarget, MwiStatus, Policy, ReliableProvisional};
use handset_core::subscribe::SubscriptionStatus;
use handset_core::time::Duration;
use handset_core::ua::text;

/// The console help for the feature commands.
pub const HELP: &str = "  dnd on [486|480] | dnd off     do-not-disturb
  fwd always|busy URI            forward every call / calls while busy
  fwd noanswer URI [SECS]        forward calls unanswered after SECS (20)
  fwd off always|busy|noanswer  stop forwarding
  autoanswer SECS | autoanswer off
  intercom on|off                answer calls that ask for it (answer-after)
  anon reject [433|603] | anon off
  cw on|off                      call waiting (off: second call gets 486)
  conf SLOT SLOT | split         local three-way conference
  timer on [SECS [MIN]] | timer off   session timer (RFC 4028): interval SECS (1800),
                                 Min-SE MIN (90), for the next calls
  timer refresher uac|uas|auto   who should refresh the session
  timer method invite|update     refresh by re-INVITE, or by UPDATE where allowed
  100rel off|supported|required  reliable provisional responses, PRACK (RFC 3262)
  dtmfmode rfc4733|info|both     how dtmf sends digits: RTP events, SIP INFO, or both
  policy                         show the feature settings
  mwi on [MAILBOX] | mwi off     message waiting: subscribe (own AOR or MAILBOX) / stop
  mwi                            show the message-waiting state";

/// A feature command of the console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeatureLine {
    /// A change to the policy.
    Set(PolicyChange),
    /// `conf A B`: join two calls.
    Conference(u8, u8),
    /// `split`: end the conference.
    Split,
    /// `policy`: print the settings.
    Show,
    /// `mwi on [MAILBOX]`: subscribe to message waiting of MAILBOX (a
    /// user of the phone's domain) or of the phone's own address.
    MwiOn(Option<String>),
    /// `mwi off`: end the message-waiting subscription.
    MwiOff,
    /// `mwi`: print the message-waiting state.
    MwiShow,
}

/// One change to the feature policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyChange {
    /// Do-not-disturb with this status, or off.
    Dnd(Option<u16>),
    /// Forward always to this target, or off.
    ForwardAlways(Option<ForwardTarget>),
    /// Forward on busy to this target, or off.
    ForwardBusy(Option<ForwardTarget>),
    /// Forward on no answer to this target after this delay, or off.
    ForwardNoAnswer(Option<(ForwardTarget, Duration)>),
    /// Answer by itself after this delay, or off.
    AutoAnswer(Option<Duration>),
    /// Honour intercom requests.
    Intercom(bool),
    /// Reject anonymous callers with this status, or accept them.
    RejectAnonymous(Option<u16>),
    /// Call waiting on or off.
    CallWaiting(bool),
    /// Session timers on with this interval and Min-SE (seconds), or off.
    SessionTimer(Option<(u32, u32)>),
    /// The refresher to ask for (or choose), `None` for either.
    Refresher(Option<Refresher>),
    /// How this phone refreshes.
    RefreshMethod(RefreshMethod),
    /// Reliable provisional responses (100rel).
    ReliableProvisional(ReliableProvisional),
    /// How DTMF digits are sent.
    DtmfMode(DtmfMode),
}

impl PolicyChange {
    /// Applies the change to `policy`.
    pub fn apply(&self, policy: &mut Policy) {
        match self {
            PolicyChange::Dnd(c) => policy.dnd = *c,
            PolicyChange::ForwardAlways(t) => policy.forward_always = t.clone(),
            PolicyChange::ForwardBusy(t) => policy.forward_busy = t.clone(),
            PolicyChange::ForwardNoAnswer(t) => match t {
                Some((target, after)) => {
                    policy.forward_no_answer = Some(target.clone());
                    policy.forward_no_answer_after = *after;
                }
                None => policy.forward_no_answer = None,
            },
            PolicyChange::AutoAnswer(d) => policy.auto_answer = *d,
            PolicyChange::Intercom(on) => policy.intercom = *on,
            PolicyChange::RejectAnonymous(c) => policy.reject_anonymous = *c,
            PolicyChange::CallWaiting(on) => policy.call_waiting = *on,
            PolicyChange::SessionTimer(Some((interval, min_se))) => {
                policy.session_timer.enabled = true;
                policy.session_timer.session_expires = *interval;
                policy.session_timer.min_se = *min_se;
            }
            PolicyChange::SessionTimer(None) => policy.session_timer.enabled = false,
            PolicyChange::Refresher(r) => policy.session_timer.refresher = *r,
            PolicyChange::RefreshMethod(m) => policy.session_timer.refresh_method = *m,
            PolicyChange::ReliableProvisional(r) => policy.reliable_provisional = *r,
            PolicyChange::DtmfMode(m) => policy.dtmf_mode = *m,
        }
    }
}

fn on_off(word: Option<&&str>) -> Result<bool, String> {
    match word.copied() {
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        _ => Err("say on or off".into()),
    }
}

fn status(word: Option<&&str>, allowed: &[u16], default: u16) -> Result<u16, String> {
    match word {
        None => Ok(default),
        Some(w) => match w.parse::<u16>() {
            Ok(c) if allowed.contains(&c) => Ok(c),
            _ => Err(format!("status must be one of {allowed:?}")),
        },
    }
}

fn target(word: Option<&&str>) -> Result<ForwardTarget, String> {
    let uri = word.ok_or("forwarding needs a URI")?;
    if !uri.starts_with("sip:") && !uri.starts_with("sips:") {
        return Err(format!("{uri:?} is not a SIP URI"));
    }
    text(uri).ok_or_else(|| "the URI is too long".into())
}

fn seconds(word: &str) -> Result<Duration, String> {
    word.parse::<u32>()
        .map(|s| Duration::from_secs(s.into()))
        .map_err(|_| format!("{word:?} is not a number of seconds"))
}

/// `timer on [SECS [MIN]]`, `timer off`, `timer refresher uac|uas|auto`.
fn session_timer(rest: &[&str]) -> Result<PolicyChange, String> {
    let number = |w: &&str| {
        w.parse::<u32>()
            .map_err(|_| format!("{w:?} is not a number of seconds"))
    };
    match rest {
        ["off"] => Ok(PolicyChange::SessionTimer(None)),
        ["on", args @ ..] if args.len() <= 2 => {
            let interval = args.first().map(number).transpose()?.unwrap_or(1800);
            let min_se = args.get(1).map(number).transpose()?.unwrap_or(90);
            // RFC 4028 §4: no interval below 90 s.
            if min_se < 90 || interval < min_se {
                return Err("the interval must be at least Min-SE, and Min-SE at least 90".into());
            }
            Ok(PolicyChange::SessionTimer(Some((interval, min_se))))
        }
        ["refresher", who] => match *who {
            "uac" => Ok(PolicyChange::Refresher(Some(Refresher::Uac))),
            "uas" => Ok(PolicyChange::Refresher(Some(Refresher::Uas))),
            "auto" => Ok(PolicyChange::Refresher(None)),
            _ => Err("timer refresher uac, uas or auto".into()),
        },
        ["method", "invite"] => Ok(PolicyChange::RefreshMethod(RefreshMethod::ReInvite)),
        ["method", "update"] => Ok(PolicyChange::RefreshMethod(
            RefreshMethod::UpdateWhenAllowed,
        )),
        _ => Err(
            "timer on [SECS [MIN]], timer off, timer refresher uac|uas|auto \
             or timer method invite|update"
                .into(),
        ),
    }
}

/// Parses a feature command: `None` when `cmd` is not one.
pub fn parse_feature(cmd: &str, rest: &[&str]) -> Option<Result<FeatureLine, String>> {
    let set = |c: Result<PolicyChange, String>| Some(c.map(FeatureLine::Set));
    match cmd {
        "dnd" => set(match rest.first().copied() {
            Some("on") => status(rest.get(1), &[486, 480], 486).map(|c| PolicyChange::Dnd(Some(c))),
            Some("off") => Ok(PolicyChange::Dnd(None)),
            _ => Err("dnd on [486|480] or dnd off".into()),
        }),
        "fwd" | "forward" => set(match rest.first().copied() {
            Some("always") => target(rest.get(1)).map(|t| PolicyChange::ForwardAlways(Some(t))),
            Some("busy") => target(rest.get(1)).map(|t| PolicyChange::ForwardBusy(Some(t))),
            Some("noanswer") => target(rest.get(1)).and_then(|t| {
                let after = match rest.get(2) {
                    Some(w) => seconds(w)?,
                    None => Duration::from_secs(20),
                };
                Ok(PolicyChange::ForwardNoAnswer(Some((t, after))))
            }),
            Some("off") => match rest.get(1).copied() {
                Some("always") => Ok(PolicyChange::ForwardAlways(None)),
                Some("busy") => Ok(PolicyChange::ForwardBusy(None)),
                Some("noanswer") => Ok(PolicyChange::ForwardNoAnswer(None)),
                None => Err("fwd off needs always, busy or noanswer".into()),
                Some(k) => Err(format!("unknown forward kind {k:?}")),
            },
            _ => Err("fwd always|busy|noanswer URI, or fwd off KIND".into()),
        }),
        "autoanswer" => set(match rest.first().copied() {
            Some("off") => Ok(PolicyChange::AutoAnswer(None)),
            Some(w) => seconds(w).map(|d| PolicyChange::AutoAnswer(Some(d))),
            None => Err("autoanswer SECS or autoanswer off".into()),
        }),
        "intercom" => set(on_off(rest.first()).map(PolicyChange::Intercom)),
        "anon" => set(match rest.first().copied() {
            Some("reject") => status(rest.get(1), &[433, 603], 433)
                .map(|c| PolicyChange::RejectAnonymous(Some(c))),
            Some("off") => Ok(PolicyChange::RejectAnonymous(None)),
            _ => Err("anon reject [433|603] or anon off".into()),
        }),
        "cw" => set(on_off(rest.first()).map(PolicyChange::CallWaiting)),
        "timer" => set(session_timer(rest)),
        "100rel" => set(match rest.first().copied() {
            Some("off") => Ok(ReliableProvisional::Off),
            Some("supported") => Ok(ReliableProvisional::Supported),
            Some("required") => Ok(ReliableProvisional::Required),
            _ => Err("100rel off, supported or required".into()),
        }
        .map(PolicyChange::ReliableProvisional)),
        "dtmfmode" => set(match rest.first().copied() {
            Some("rfc4733" | "rtp") => Ok(DtmfMode::Rfc4733),
            Some("info" | "sipinfo") => Ok(DtmfMode::SipInfo),
            Some("both") => Ok(DtmfMode::Both),
            _ => Err("dtmfmode rfc4733, info or both".into()),
        }
        .map(PolicyChange::DtmfMode)),
        "conf" => Some(
            match (
                rest.first().and_then(|w| w.parse().ok()),
                rest.get(1).and_then(|w| w.parse().ok()),
            ) {
                (Some(a), Some(b)) => Ok(FeatureLine::Conference(a, b)),
                _ => Err("conf needs two call slots".into()),
            },
        ),
        "split" => Some(Ok(FeatureLine::Split)),
        "policy" => Some(Ok(FeatureLine::Show)),
        "mwi" => Some(match rest {
            [] => Ok(FeatureLine::MwiShow),
            ["on"] => Ok(FeatureLine::MwiOn(None)),
            ["on", mailbox] => Ok(FeatureLine::MwiOn(Some((*mailbox).to_string()))),
            ["off"] => Ok(FeatureLine::MwiOff),
            _ => Err("mwi on [MAILBOX], mwi off or mwi".into()),
        }),
        _ => None,
    }
}

/// The settings as console lines.
pub fn describe(p: &Policy) -> String {
    let opt = |t: &Option<ForwardTarget>| t.as_deref().unwrap_or("off").to_string();
    format!(
        "dnd {}\nfwd always {}\nfwd busy {}\nfwd noanswer {} after {} s\n\
         autoanswer {}\nintercom {}\nanon {}\ncw {}\ntimer {}\n100rel {}\ndtmfmode {}",
        p.dnd.map_or("off".into(), |c| format!("on {c}")),
        opt(&p.forward_always),
        opt(&p.forward_busy),
        opt(&p.forward_no_answer),
        p.forward_no_answer_after.as_millis() / 1000,
        p.auto_answer
            .map_or("off".into(), |d| format!("{} s", d.as_millis() / 1000)),
        if p.intercom { "on" } else { "off" },
        p.reject_anonymous
            .map_or("off".into(), |c| format!("reject {c}")),
        if p.call_waiting { "on" } else { "off" },
        describe_timer(p),
        match p.reliable_provisional {
            ReliableProvisional::Off => "off",
            ReliableProvisional::Supported => "supported",
            ReliableProvisional::Required => "required",
        },
        match p.dtmf_mode {
            DtmfMode::Rfc4733 => "rfc4733",
            DtmfMode::SipInfo => "info",
            DtmfMode::Both => "both",
        },
    )
}

fn describe_timer(p: &Policy) -> String {
    let t = &p.session_timer;
    if !t.enabled {
        return "off".into();
    }
    let who = match t.refresher {
        Some(Refresher::Uac) => "uac",
        Some(Refresher::Uas) => "uas",
        None => "auto",
    };
    let method = match t.refresh_method {
        RefreshMethod::ReInvite => "invite",
        RefreshMethod::UpdateWhenAllowed => "update",
    };
    format!(
        "on {} s, min-se {} s, refresher {who}, method {method}",
        t.session_expires, t.min_se
    )
}

/// One line on the message-waiting state: the subscription and the
/// mailbox's last summary.
pub fn describe_mwi(status: &MwiStatus) -> String {
    let sub = match status.subscription {
        None | Some(SubscriptionStatus::Idle) => "off".to_string(),
        Some(SubscriptionStatus::Active { .. }) => "subscribed".to_string(),
        Some(SubscriptionStatus::Subscribing) => "subscribing".to_string(),
        Some(SubscriptionStatus::Unsubscribing) => "unsubscribing".to_string(),
        Some(SubscriptionStatus::Failed { code, .. }) => format!("failed {code}, retrying"),
        Some(SubscriptionStatus::Refused { code }) => format!("refused {code}"),
    };
    match status.summary {
        None => format!("mwi {sub}"),
        Some(s) => {
            let v = s.voice.unwrap_or_default();
            format!(
                "mwi {sub} waiting={} new={} old={} urgent={}/{}",
                if s.waiting { "yes" } else { "no" },
                v.new,
                v.old,
                v.urgent_new,
                v.urgent_old
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mwi_lines() {
        assert_eq!(parse("mwi"), Some(Ok(FeatureLine::MwiShow)));
        assert_eq!(parse("mwi on"), Some(Ok(FeatureLine::MwiOn(None))));
        assert_eq!(
            parse("mwi on vm"),
            Some(Ok(FeatureLine::MwiOn(Some("vm".into()))))
        );
        assert_eq!(parse("mwi off"), Some(Ok(FeatureLine::MwiOff)));
        assert!(matches!(parse("mwi maybe"), Some(Err(_))));
        assert_eq!(describe_mwi(&MwiStatus::default()), "mwi off");
        let status = MwiStatus {
            subscription: Some(SubscriptionStatus::Subscribing),
            summary: handset_core::subscribe::parse_message_summary(
                b"Messages-Waiting: yes\r\nVoice-Message: 2/8 (0/2)\r\n",
            )
            .ok(),
        };
        assert_eq!(
            describe_mwi(&status),
            "mwi subscribing waiting=yes new=2 old=8 urgent=0/2"
        );
    }

    fn parse(line: &str) -> Option<Result<FeatureLine, String>> {
        let words: Vec<&str> = line.split_whitespace().collect();
        parse_feature(words[0], &words[1..])
    }

    fn change(line: &str) -> PolicyChange {
        match parse(line) {
            Some(Ok(FeatureLine::Set(c))) => c,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn dtmf_mode_lines() {
        let mut p = Policy::default();
        assert!(describe(&p).ends_with("\ndtmfmode rfc4733"));
        change("dtmfmode info").apply(&mut p);
        assert_eq!(p.dtmf_mode, DtmfMode::SipInfo);
        assert!(describe(&p).ends_with("\ndtmfmode info"));
        change("dtmfmode both").apply(&mut p);
        assert_eq!(p.dtmf_mode, DtmfMode::Both);
        change("dtmfmode rfc4733").apply(&mut p);
        assert_eq!(p.dtmf_mode, DtmfMode::Rfc4733);
        assert!(matches!(parse("dtmfmode"), Some(Err(_))));
        assert!(matches!(parse("dtmfmode loud"), Some(Err(_))));
    }

    #[test]
    fn reliable_provisional_lines() {
        let mut p = Policy::default();
        assert!(describe(&p).contains("\n100rel off"));
        change("100rel required").apply(&mut p);
        assert_eq!(p.reliable_provisional, ReliableProvisional::Required);
        change("100rel supported").apply(&mut p);
        assert!(describe(&p).contains("\n100rel supported"));
        change("100rel off").apply(&mut p);
        assert_eq!(p.reliable_provisional, ReliableProvisional::Off);
        assert!(matches!(parse("100rel maybe"), Some(Err(_))));
    }

    #[test]
    fn feature_lines_edit_the_policy() {
        let mut p = Policy::default();
        for line in [
            "dnd on 480",
            "fwd busy sip:vm@example.com",
            "fwd noanswer sip:carol@example.com 12",
            "autoanswer 3",
            "anon reject 603",
            "cw off",
            "intercom off",
        ] {
            change(line).apply(&mut p);
        }
        assert_eq!(p.dnd, Some(480));
        assert_eq!(p.forward_busy.as_deref(), Some("sip:vm@example.com"));
        assert_eq!(
            p.forward_no_answer.as_deref(),
            Some("sip:carol@example.com")
        );
        assert_eq!(p.forward_no_answer_after, Duration::from_secs(12));
        assert_eq!(p.auto_answer, Some(Duration::from_secs(3)));
        assert_eq!(p.reject_anonymous, Some(603));
        assert!(!p.call_waiting && !p.intercom);
        let text = describe(&p);
        assert!(
            text.contains("dnd on 480") && text.contains("cw off"),
            "{text}"
        );
        change("dnd off").apply(&mut p);
        change("fwd off busy").apply(&mut p);
        assert_eq!((p.dnd, p.forward_busy.clone()), (None, None));
        assert_eq!(change("dnd on"), PolicyChange::Dnd(Some(486)));
    }

    #[test]
    fn timer_lines_edit_the_session_timer() {
        let mut p = Policy::default();
        assert!(describe(&p).contains("timer off"));
        change("timer on").apply(&mut p);
        assert!(p.session_timer.enabled);
        assert_eq!(
            (p.session_timer.session_expires, p.session_timer.min_se),
            (1800, 90)
        );
        change("timer on 600 120").apply(&mut p);
        change("timer refresher uas").apply(&mut p);
        assert_eq!(p.session_timer.refresher, Some(Refresher::Uas));
        change("timer method update").apply(&mut p);
        assert_eq!(
            p.session_timer.refresh_method,
            RefreshMethod::UpdateWhenAllowed
        );
        let text = describe(&p);
        assert!(
            text.contains("timer on 600 s, min-se 120 s, refresher uas, method update"),
            "{text}"
        );
        change("timer off").apply(&mut p);
        assert!(!p.session_timer.enabled);
        for line in [
            "timer on 60",
            "timer on 100 95x",
            "timer",
            "timer refresher me",
            "timer method fax",
        ] {
            assert!(matches!(parse(line), Some(Err(_))), "{line}");
        }
    }

    #[test]
    fn bad_feature_lines_are_explained() {
        for line in [
            "dnd on 500",
            "fwd always bob",
            "fwd noanswer sip:a@b soon",
            "autoanswer",
            "cw maybe",
            "anon reject 486",
            "conf 1",
            "fwd off",
        ] {
            assert!(matches!(parse(line), Some(Err(_))), "{line}");
        }
        assert_eq!(parse("conf 0 1"), Some(Ok(FeatureLine::Conference(0, 1))));
        assert_eq!(parse("dial sip:x@y"), None);
    }
}
