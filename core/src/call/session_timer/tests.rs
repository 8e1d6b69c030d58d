extern crate std;

use std::string::String;
use std::vec::Vec;

use super::*;
use crate::message::{Message, MessageWriter};
use crate::time::{Duration, Instant};

fn on() -> SessionTimerSettings {
    SessionTimerSettings {
        enabled: true,
        ..SessionTimerSettings::default()
    }
}

fn invite(extra: &str) -> Vec<u8> {
    let mut s = String::from(
        "INVITE sip:bob@example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
         From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\n\
         Call-ID: c1\r\nCSeq: 1 INVITE\r\n",
    );
    s.push_str(extra);
    s.push_str("Content-Length: 0\r\n\r\n");
    s.into_bytes()
}

fn response(code: u16, extra: &str) -> Vec<u8> {
    let mut s = std::format!(
        "SIP/2.0 {code} Whatever\r\n\
         Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
         From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>;tag=b\r\n\
         Call-ID: c1\r\nCSeq: 1 INVITE\r\n"
    );
    s.push_str(extra);
    s.push_str("Content-Length: 0\r\n\r\n");
    s.into_bytes()
}

fn written(f: impl Fn(&mut MessageWriter<'_>)) -> String {
    let mut buf = [0u8; 512];
    let mut w = MessageWriter::new(&mut buf);
    f(&mut w);
    let n = w.finish_fragment().unwrap();
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

fn at(s: u64) -> Instant {
    Instant::ZERO + Duration::from_secs(s)
}

#[test]
fn off_writes_nothing_and_ignores_requests() {
    let mut t = SessionTimer::default();
    assert_eq!(t.supported(), crate::ua::SUPPORTED);
    assert_eq!(written(|w| t.write_reinvite_headers(w)), "");
    let raw = invite("Supported: timer\r\nSession-Expires: 30\r\n");
    let req = Message::parse_datagram(&raw).unwrap();
    // A UAS without the extension ignores the header (RFC 4028 §9).
    assert_eq!(t.on_request(&req), Ok(()));
    t.answered(at(0));
    assert_eq!(t.running(), None);
    assert_eq!(written(|w| t.write_answer_headers(w)), "");
}

#[test]
fn supported_with_timer_extends_the_phone_list() {
    assert_eq!(
        SUPPORTED_WITH_TIMER,
        std::format!("{}, {TIMER_TAG}", crate::ua::SUPPORTED)
    );
}

#[test]
fn initial_request_headers_follow_the_settings() {
    let t = SessionTimer::new(on());
    assert_eq!(
        written(|w| t.write_request_headers(w)),
        "Session-Expires: 1800\r\n"
    );
    let t = SessionTimer::new(SessionTimerSettings {
        session_expires: 60,
        min_se: 120,
        refresher: Some(Refresher::Uac),
        ..on()
    });
    // Never below our own Min-SE, which is written when not the default.
    assert_eq!(
        written(|w| t.write_request_headers(w)),
        "Session-Expires: 120;refresher=uac\r\nMin-SE: 120\r\n"
    );
}

#[test]
fn uas_rejects_too_small_with_422_only_when_the_caller_supports_timer() {
    let settings = SessionTimerSettings {
        min_se: 120,
        ..on()
    };
    let raw = invite("Supported: timer\r\nSession-Expires: 90\r\n");
    let req = Message::parse_datagram(&raw).unwrap();
    assert_eq!(SessionTimer::new(settings).on_request(&req), Err(120));
    // Without Supported: timer a 422 would only fail the call: the
    // interval is raised instead, and this phone refreshes.
    let raw = invite("Session-Expires: 90\r\n");
    let req = Message::parse_datagram(&raw).unwrap();
    let mut t = SessionTimer::new(settings);
    assert_eq!(t.on_request(&req), Ok(()));
    assert_eq!(
        written(|w| t.write_answer_headers(w)),
        "Session-Expires: 120;refresher=uas\r\n"
    );
}

#[test]
fn uas_negotiates_the_refresher() {
    let cases = [
        // (request headers, our preference, expected answer headers)
        (
            "Supported: timer\r\nSession-Expires: 300\r\n",
            None,
            "Session-Expires: 300;refresher=uac\r\nRequire: timer\r\n",
        ),
        (
            "Supported: timer\r\nSession-Expires: 300\r\n",
            Some(Refresher::Uas),
            "Session-Expires: 300;refresher=uas\r\nRequire: timer\r\n",
        ),
        (
            "Supported: timer\r\nSession-Expires: 300;refresher=uac\r\n",
            Some(Refresher::Uas),
            "Session-Expires: 300;refresher=uac\r\nRequire: timer\r\n",
        ),
        // Longer than we want: shortened to our interval.
        (
            "Supported: timer\r\nSession-Expires: 7200\r\n",
            None,
            "Session-Expires: 1800;refresher=uac\r\nRequire: timer\r\n",
        ),
        // No Session-Expires: ours, not below the caller's Min-SE.
        (
            "Supported: timer\r\nMin-SE: 2000\r\n",
            None,
            "Session-Expires: 2000;refresher=uac\r\nRequire: timer\r\n",
        ),
        // A caller without the extension cannot refresh.
        (
            "",
            Some(Refresher::Uac),
            "Session-Expires: 1800;refresher=uas\r\n",
        ),
    ];
    for (headers, pref, want) in cases {
        let raw = invite(headers);
        let req = Message::parse_datagram(&raw).unwrap();
        let mut t = SessionTimer::new(SessionTimerSettings {
            refresher: pref,
            ..on()
        });
        assert_eq!(t.on_request(&req), Ok(()), "{headers}");
        assert_eq!(written(|w| t.write_answer_headers(w)), want, "{headers}");
    }
}

#[test]
fn uas_timer_starts_with_the_2xx_and_expires_before_the_interval() {
    let raw = invite("Supported: timer\r\nSession-Expires: 90;refresher=uac\r\n");
    let req = Message::parse_datagram(&raw).unwrap();
    let mut t = SessionTimer::new(on());
    t.on_request(&req).unwrap();
    t.answered(at(10));
    let r = t.running().unwrap();
    assert!(!r.local_refresher);
    // §10: BYE at expiry minus min(32 s, interval / 3) = 90 - 30.
    assert_eq!(r.expire_at, at(70));
    assert_eq!(t.poll_timeout(), Some(at(70)));
    assert_eq!(t.due(at(69)), None);
    assert_eq!(t.due(at(70)), Some(TimerDue::Expired));
    assert_eq!(t.running(), None);
    // A long interval keeps 32 s in hand.
    let r = RunningTimer::start(at(0), 1800, false);
    assert_eq!(r.expire_at, at(1768));
}

#[test]
fn uac_2xx_decides_the_refresher_and_interval() {
    let mut t = SessionTimer::new(on());
    let raw = response(
        200,
        "Require: timer\r\nSession-Expires: 600;refresher=uac\r\n",
    );
    t.on_uac_2xx(at(0), &Message::parse_datagram(&raw).unwrap());
    let r = t.running().unwrap();
    assert_eq!((r.interval, r.local_refresher), (600, true));
    assert_eq!(r.refresh_at, Some(at(300)));

    let raw = response(
        200,
        "Require: timer\r\nSession-Expires: 600;refresher=uas\r\n",
    );
    t.on_uac_2xx(at(0), &Message::parse_datagram(&raw).unwrap());
    let r = t.running().unwrap();
    assert_eq!((r.local_refresher, r.refresh_at), (false, None));
    assert_eq!(r.expire_at, at(568));

    // §7.2: no Session-Expires, the peer runs no timer; this phone may
    // still refresh at its own interval.
    let raw = response(200, "");
    t.on_uac_2xx(at(0), &Message::parse_datagram(&raw).unwrap());
    let r = t.running().unwrap();
    assert_eq!((r.interval, r.local_refresher), (1800, true));
    assert_eq!(r.refresh_at, Some(at(900)));

    // A peer cannot push the interval below our Min-SE.
    let raw = response(200, "Session-Expires: 10;refresher=uac\r\n");
    t.on_uac_2xx(at(0), &Message::parse_datagram(&raw).unwrap());
    assert_eq!(t.running().unwrap().interval, 90);
}

#[test]
fn a_422_raises_the_request_to_its_min_se_a_bounded_number_of_times() {
    let mut t = SessionTimer::new(SessionTimerSettings {
        session_expires: 90,
        ..on()
    });
    let raw = response(422, "Min-SE: 120\r\n");
    let r422 = Message::parse_datagram(&raw).unwrap();
    assert!(t.on_422(&r422));
    assert_eq!((t.requested(), t.min_se()), (120, 120));
    assert_eq!(
        written(|w| t.write_request_headers(w)),
        "Session-Expires: 120\r\nMin-SE: 120\r\n"
    );
    // The same Min-SE again is already met: no loop.
    assert!(!t.on_422(&r422));
    // No Min-SE: nothing to retry with.
    let raw = response(422, "");
    assert!(!t.on_422(&Message::parse_datagram(&raw).unwrap()));
    // Each hop may raise it once more, up to the bound.
    for (i, min) in [200u32, 300, 400, 500].iter().enumerate() {
        let raw = response(422, &std::format!("Min-SE: {min}\r\n"));
        let ok = t.on_422(&Message::parse_datagram(&raw).unwrap());
        assert_eq!(ok, i < 3, "{min}");
    }
    // Off: a 422 is a failure like any other.
    let mut off = SessionTimer::default();
    assert!(!off.on_422(&r422));
}

#[test]
fn refresher_refreshes_at_half_interval_and_names_itself_uac() {
    let mut t = SessionTimer::new(on());
    let raw = response(200, "Session-Expires: 90;refresher=uac\r\n");
    t.on_uac_2xx(at(0), &Message::parse_datagram(&raw).unwrap());
    assert_eq!(t.due(at(44)), None);
    assert_eq!(t.due(at(45)), Some(TimerDue::Refresh));
    // Reported once.
    assert_eq!(t.due(at(46)), None);
    t.refresh_sent(7);
    assert!(t.is_refresh(7));
    assert!(!t.is_refresh(6));
    assert_eq!(
        written(|w| t.write_reinvite_headers(w)),
        "Supported: replaces, norefersub, timer\r\nSession-Expires: 90;refresher=uac\r\n"
    );
    // The refresh's 2xx restarts the clock.
    t.on_uac_2xx(at(46), &Message::parse_datagram(&raw).unwrap());
    assert!(!t.is_refresh(7));
    assert_eq!(t.running().unwrap().refresh_at, Some(at(91)));
    // A refresh that never succeeds: BYE at the full interval.
    assert_eq!(t.due(at(91)), Some(TimerDue::Refresh));
    assert_eq!(t.due(at(135)), None);
    assert_eq!(t.due(at(136)), Some(TimerDue::Expired));
}

#[test]
fn refresh_failures() {
    let raw = response(200, "Session-Expires: 90;refresher=uac\r\n");
    let ok = Message::parse_datagram(&raw).unwrap();
    let mut t = SessionTimer::new(on());
    t.on_uac_2xx(at(0), &ok);
    assert_eq!(t.due(at(45)), Some(TimerDue::Refresh));
    t.refresh_sent(2);
    let raw = response(491, "");
    let glare = Message::parse_datagram(&raw).unwrap();
    // Not ours.
    assert_eq!(
        t.on_refresh_failure(at(46), 3, &glare, Duration::from_secs(2)),
        RefreshFailure::NotOurs
    );
    assert_eq!(
        t.on_refresh_failure(at(46), 2, &glare, Duration::from_secs(2)),
        RefreshFailure::RetryAt(at(48))
    );
    assert_eq!(t.due(at(48)), Some(TimerDue::Refresh));
    t.refresh_sent(3);
    let raw = response(422, "Min-SE: 300\r\n");
    let small = Message::parse_datagram(&raw).unwrap();
    assert_eq!(
        t.on_refresh_failure(at(49), 3, &small, Duration::from_secs(2)),
        RefreshFailure::RetryAt(at(49))
    );
    assert_eq!(t.due(at(49)), Some(TimerDue::Refresh));
    t.refresh_sent(4);
    assert_eq!(
        written(|w| t.write_request_headers(w)),
        "Session-Expires: 300;refresher=uac\r\nMin-SE: 300\r\n"
    );
    let raw = response(481, "");
    let gone = Message::parse_datagram(&raw).unwrap();
    assert_eq!(
        t.on_refresh_failure(at(50), 4, &gone, Duration::from_secs(2)),
        RefreshFailure::EndSession
    );
}

#[test]
fn a_refresh_from_the_peer_restarts_the_clock() {
    let raw = invite("Supported: timer\r\nSession-Expires: 120;refresher=uac\r\n");
    let req = Message::parse_datagram(&raw).unwrap();
    let mut t = SessionTimer::new(on());
    t.on_request(&req).unwrap();
    t.answered(at(0));
    assert_eq!(t.poll_timeout(), Some(at(88)));
    t.on_request(&req).unwrap();
    t.answered(at(60));
    assert_eq!(t.poll_timeout(), Some(at(148)));
    assert_eq!(t.due(at(100)), None);
}

#[test]
fn update_refresh_only_where_allowed_and_re_invite_after_a_refusal() {
    let settings = SessionTimerSettings {
        refresh_method: RefreshMethod::UpdateWhenAllowed,
        ..on()
    };
    let mut t = SessionTimer::new(settings);
    let raw = response(200, "Session-Expires: 90;refresher=uac\r\n");
    t.on_uac_2xx(at(0), &Message::parse_datagram(&raw).unwrap());
    // No Allow listing UPDATE: re-INVITE.
    assert!(!t.refresh_by_update());
    let raw = response(
        200,
        "Allow: INVITE, ACK, BYE, UPDATE\r\nSession-Expires: 90;refresher=uac\r\n",
    );
    t.on_uac_2xx(at(0), &Message::parse_datagram(&raw).unwrap());
    assert!(t.refresh_by_update());
    assert_eq!(t.due(at(45)), Some(TimerDue::Refresh));
    t.refresh_sent(2);
    let raw = response(501, "");
    let refused = Message::parse_datagram(&raw).unwrap();
    assert_eq!(
        t.on_refresh_failure(at(46), 2, &refused, Duration::from_secs(4)),
        RefreshFailure::RetryAt(at(46))
    );
    assert!(!t.refresh_by_update());
    assert_eq!(t.due(at(46)), Some(TimerDue::Refresh));
    // The default never uses UPDATE.
    let mut t = SessionTimer::new(on());
    let raw = response(
        200,
        "Allow: UPDATE\r\nSession-Expires: 90;refresher=uac\r\n",
    );
    t.on_uac_2xx(at(0), &Message::parse_datagram(&raw).unwrap());
    assert!(!t.refresh_by_update());
}

#[test]
fn a_mid_call_request_that_leaves_the_refresher_open_keeps_the_current_one() {
    let mut t = SessionTimer::new(on());
    // We refresh (the 2xx to our INVITE said uac).
    let raw = response(200, "Session-Expires: 1800;refresher=uac\r\n");
    t.on_uac_2xx(at(0), &Message::parse_datagram(&raw).unwrap());
    // The peer's hold re-INVITE names no refresher: we stay it (uas now).
    let raw = invite("Supported: timer\r\nSession-Expires: 1800\r\n");
    t.on_request(&Message::parse_datagram(&raw).unwrap())
        .unwrap();
    assert_eq!(
        written(|w| t.write_answer_headers(w)),
        "Session-Expires: 1800;refresher=uas\r\nRequire: timer\r\n"
    );
    t.answered(at(10));
    assert!(t.running().unwrap().local_refresher);
}
