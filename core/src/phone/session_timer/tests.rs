//! Session timers between two phones wired to each other directly (no
//! proxy): requests go by the Request-URI's IP host.

extern crate std;

use std::vec::Vec;

use crate::call::session_timer::RefreshMethod;
use crate::message::Refresher;
use crate::phone::test_support::{self, addr, header, Datagram};
use crate::phone::{Command, Config, EndReason, Event, Phone, SessionTimerSettings};
use crate::time::Duration;

type Net = test_support::Net<4, 16>;

const A: usize = 0;
const B: usize = 1;
const BOB: &str = "sip:bob@10.0.0.2:5060";

fn timer(session_expires: u32, min_se: u32, refresher: Option<Refresher>) -> SessionTimerSettings {
    SessionTimerSettings {
        enabled: true,
        session_expires,
        min_se,
        refresher,
        ..SessionTimerSettings::default()
    }
}

/// Alice (A) and Bob (B), each with the session timer settings given
/// (none: the default, off).
fn two_phones(a: Option<SessionTimerSettings>, b: Option<SessionTimerSettings>) -> Net {
    let users = ["alice", "bob"];
    let phones = [a, b]
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let config = Config::new(users[i], "example.com", addr(i)).unwrap();
            let mut p = Phone::new(config, 40 + i as u64);
            if let Some(st) = st {
                p.policy_mut().session_timer = *st;
            }
            p
        })
        .collect();
    Net::new(phones)
}

/// Re-INVITEs (INVITEs with a To tag) phone `from` sent.
fn reinvites(net: &Net, from: usize) -> Vec<&Datagram> {
    net.sent(from, "INVITE ")
        .into_iter()
        .filter(|d| header(&d.text, "To").is_some_and(|t| t.contains("tag=")))
        .collect()
}

fn origin(msg: &str) -> Option<&str> {
    msg.lines().find(|l| l.starts_with("o="))
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn off_by_default_no_timer_headers_and_no_refresh() {
    let mut net = two_phones(None, None);
    net.call(A, B, BOB);
    net.run(secs(4000));
    for d in &net.log {
        assert!(header(&d.text, "Session-Expires").is_none(), "{}", d.text);
        assert!(header(&d.text, "Min-SE").is_none(), "{}", d.text);
        assert!(!d.text.contains("timer"), "{}", d.text);
    }
    assert!(reinvites(&net, A).is_empty() && reinvites(&net, B).is_empty());
    assert_eq!(net.phones[A].live_calls().count(), 1);
}

#[test]
fn a_422_is_retried_with_its_min_se_and_the_2xx_names_the_refresher() {
    let mut net = two_phones(Some(timer(90, 90, None)), Some(timer(1800, 120, None)));
    net.call(A, B, BOB);
    let invites = net.sent(A, "INVITE ");
    assert_eq!(invites.len(), 2);
    let (first, retry) = (&invites[0].text, &invites[1].text);
    assert_eq!(header(first, "Session-Expires"), Some("90"));
    assert_eq!(header(first, "Min-SE"), None);
    assert_eq!(
        header(first, "Supported"),
        Some("replaces, norefersub, timer")
    );
    let rejected = net.sent(B, "SIP/2.0 422");
    assert_eq!(rejected.len(), 1);
    assert_eq!(header(&rejected[0].text, "Min-SE"), Some("120"));
    // RFC 4028 §7.4: same Call-ID, From and To (no tag), a higher CSeq,
    // Session-Expires and Min-SE at the 422's Min-SE.
    assert_eq!(header(retry, "Call-ID"), header(first, "Call-ID"));
    assert_eq!(header(retry, "From"), header(first, "From"));
    assert_eq!(header(retry, "To"), Some("<sip:bob@10.0.0.2:5060>"));
    assert_eq!(header(first, "CSeq"), Some("1 INVITE"));
    assert_eq!(header(retry, "CSeq"), Some("2 INVITE"));
    assert_eq!(header(retry, "Session-Expires"), Some("120"));
    assert_eq!(header(retry, "Min-SE"), Some("120"));
    assert_ne!(header(retry, "Via"), header(first, "Via"));
    // The 422 was acknowledged.
    assert_eq!(net.sent(A, "ACK ").len(), 2);
    let ok = net.sent(B, "SIP/2.0 200");
    assert_eq!(
        header(&ok[0].text, "Session-Expires"),
        Some("120;refresher=uac")
    );
    assert_eq!(header(&ok[0].text, "Require"), Some("timer"));
    assert_eq!(
        header(&ok[0].text, "Supported"),
        Some("replaces, norefersub, timer")
    );
}

#[test]
fn the_refresher_refreshes_at_half_interval_with_the_sdp_unchanged() {
    let mut net = two_phones(Some(timer(120, 90, None)), Some(timer(1800, 90, None)));
    let (a, b) = net.call(A, B, BOB);
    let answered = net.answered;
    net.run(secs(59));
    assert!(reinvites(&net, A).is_empty());
    net.run(secs(2));
    let refreshes = reinvites(&net, A);
    assert_eq!(refreshes.len(), 1);
    let r = refreshes[0];
    assert!(r.at >= answered + secs(60) && r.at <= answered + secs(61));
    assert_eq!(
        header(&r.text, "Session-Expires"),
        Some("120;refresher=uac")
    );
    assert_eq!(
        header(&r.text, "Supported"),
        Some("replaces, norefersub, timer")
    );
    // RFC 3264 §8: the same session, the same version.
    let first = &net.sent(A, "INVITE ")[0].text;
    assert_eq!(origin(&r.text), origin(first));
    // The peer's 2xx carries the timer again.
    let oks = net.sent(B, "SIP/2.0 200");
    let last = &oks.last().unwrap().text;
    assert!(header(last, "CSeq").is_some_and(|c| c.starts_with("2 ")));
    assert_eq!(header(last, "Session-Expires"), Some("120;refresher=uac"));
    // Two more refreshes in two more minutes, the user hears of none.
    net.run(secs(120));
    assert_eq!(reinvites(&net, A).len(), 3);
    for i in [A, B] {
        assert!(!net.events[i].iter().any(|e| matches!(
            e,
            Event::Held { .. } | Event::Resumed(_) | Event::Ended { .. }
        )));
    }
    assert!(net.phones[A].call_state(a).is_some() && net.phones[B].call_state(b).is_some());
    assert!(reinvites(&net, B).is_empty());
}

#[test]
fn without_a_refresh_the_other_side_sends_bye_before_expiry() {
    let mut net = two_phones(Some(timer(120, 90, None)), Some(timer(1800, 90, None)));
    let (a, b) = net.call(A, B, BOB);
    let answered = net.answered;
    // Every re-INVITE of A's is lost.
    let no_refresh = |d: &Datagram| {
        d.from == addr(A)
            && d.first_line().starts_with("INVITE ")
            && header(&d.text, "To").is_some_and(|t| t.contains("tag="))
    };
    net.run_dropping(secs(87), &no_refresh);
    assert!(net.sent(B, "BYE ").is_empty());
    net.run_dropping(secs(2), &no_refresh);
    // RFC 4028 §10: 120 s minus min(32 s, 40 s).
    let bye = net.sent(B, "BYE ");
    assert_eq!(bye.len(), 1);
    assert!(bye[0].at >= answered + secs(88) && bye[0].at < answered + secs(89));
    assert!(net.events[B].contains(&Event::Ended {
        call: b,
        reason: EndReason::SessionExpired
    }));
    assert!(net.events[A].contains(&Event::Ended {
        call: a,
        reason: EndReason::RemoteHangup
    }));
    net.run(secs(60));
    for p in &net.phones {
        assert_eq!(p.live_calls().count(), 0);
        assert_eq!(p.dialogs_in_use(), 0);
        assert_eq!(p.transactions_in_use(), 0);
    }
}

#[test]
fn refreshes_by_the_peer_reset_the_timer() {
    // B answers and prefers to refresh itself; A leaves it open.
    let mut net = two_phones(
        Some(timer(90, 90, None)),
        Some(timer(1800, 90, Some(Refresher::Uas))),
    );
    let (a, _) = net.call(A, B, BOB);
    let ok = &net.sent(B, "SIP/2.0 200")[0].text;
    assert_eq!(header(ok, "Session-Expires"), Some("90;refresher=uas"));
    // A would end the call 60 s after the 2xx without refreshes; B's come
    // every 45 s, and each one's 2xx says who refreshes.
    net.run(secs(300));
    let refreshes = reinvites(&net, B);
    assert_eq!(refreshes.len(), 6);
    for r in &refreshes {
        assert_eq!(header(&r.text, "Session-Expires"), Some("90;refresher=uac"));
    }
    assert!(reinvites(&net, A).is_empty());
    assert!(net.sent(A, "BYE ").is_empty() && net.sent(B, "BYE ").is_empty());
    assert!(net.phones[A].call_state(a).is_some());
    let a_ok = net.sent(A, "SIP/2.0 200");
    let last = &a_ok.last().unwrap().text;
    assert_eq!(header(last, "Session-Expires"), Some("90;refresher=uac"));
    assert_eq!(header(last, "Require"), Some("timer"));
}

#[test]
fn a_peer_without_timers_still_gets_refreshed_by_the_caller() {
    let mut net = two_phones(Some(timer(90, 90, None)), None);
    let (a, b) = net.call(A, B, BOB);
    let ok = &net.sent(B, "SIP/2.0 200")[0].text;
    assert_eq!(header(ok, "Session-Expires"), None);
    // RFC 4028 §7.2: A refreshes at its own interval anyway.
    net.run(secs(100));
    assert_eq!(reinvites(&net, A).len(), 2);
    assert!(net.phones[A].call_state(a).is_some() && net.phones[B].call_state(b).is_some());
    assert!(!net.events[B]
        .iter()
        .any(|e| matches!(e, Event::Held { .. } | Event::Resumed(_))));
}

#[test]
fn a_hold_reinvite_refreshes_too_and_still_reports_hold() {
    let mut net = two_phones(Some(timer(120, 90, None)), Some(timer(1800, 90, None)));
    let (a, _) = net.call(A, B, BOB);
    net.run(secs(30));
    net.command(A, Command::Hold(a));
    net.run(secs(1));
    assert!(net.events[A].contains(&Event::Held {
        call: a,
        by_remote: false
    }));
    let hold = &reinvites(&net, A)[0].text;
    assert_eq!(header(hold, "Session-Expires"), Some("120;refresher=uac"));
    // The hold's 2xx restarted the clock: the next refresh is 60 s after it.
    net.run(secs(58));
    assert_eq!(reinvites(&net, A).len(), 1);
    net.run(secs(2));
    assert_eq!(reinvites(&net, A).len(), 2);
    assert!(!net.events[A].iter().any(|e| matches!(e, Event::Resumed(_))));
}

#[test]
fn refresh_by_update_where_the_peer_allows_it() {
    let a = SessionTimerSettings {
        refresh_method: RefreshMethod::UpdateWhenAllowed,
        ..timer(120, 90, None)
    };
    let mut net = two_phones(Some(a), Some(timer(1800, 90, None)));
    let (a_call, b_call) = net.call(A, B, BOB);
    net.run(secs(200));
    // RFC 4028 §10: bare UPDATEs at 60, 120 and 180 s, no re-INVITE.
    let updates = net.sent(A, "UPDATE ");
    assert_eq!(updates.len(), 3);
    assert!(reinvites(&net, A).is_empty());
    for u in &updates {
        assert_eq!(
            header(&u.text, "Session-Expires"),
            Some("120;refresher=uac")
        );
        assert_eq!(header(&u.text, "Content-Length"), Some("0"));
    }
    let oks: Vec<_> = net
        .sent(B, "SIP/2.0 200")
        .into_iter()
        .filter(|d| header(&d.text, "CSeq").is_some_and(|c| c.ends_with("UPDATE")))
        .collect();
    assert_eq!(oks.len(), 3);
    for ok in &oks {
        assert_eq!(
            header(&ok.text, "Session-Expires"),
            Some("120;refresher=uac")
        );
        assert_eq!(header(&ok.text, "Require"), Some("timer"));
    }
    // Each 2xx restarted B's clock: no BYE, the call is up.
    assert!(net.sent(B, "BYE ").is_empty());
    assert!(net.phones[A].call_state(a_call).is_some());
    assert!(net.phones[B].call_state(b_call).is_some());
    assert!(net.phones[B].session_timer(b_call).is_some());
}

#[test]
fn an_update_refresh_that_times_out_ends_the_call() {
    let a = SessionTimerSettings {
        refresh_method: RefreshMethod::UpdateWhenAllowed,
        ..timer(120, 90, None)
    };
    let mut net = two_phones(Some(a), Some(timer(1800, 90, None)));
    let (a_call, _) = net.call(A, B, BOB);
    // B's answers to UPDATE never come back: the UPDATE times out, which
    // ends the dialog (RFC 4028 §10 treats it as a failed refresh).
    let no_update_answer = |d: &Datagram| {
        d.from == addr(B) && header(&d.text, "CSeq").is_some_and(|c| c.ends_with("UPDATE"))
    };
    net.run_dropping(secs(60 + 33), &no_update_answer);
    assert!(net.events[A].contains(&Event::Ended {
        call: a_call,
        reason: EndReason::Timeout
    }));
}
