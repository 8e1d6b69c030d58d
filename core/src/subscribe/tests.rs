extern crate std;

use std::format;
use std::string::String;
use std::vec::Vec;

use super::*;
use crate::credentials::Credentials;
use crate::message::Message;

const AT: &str = "192.0.2.1:5060";

fn me() -> LocalIdentity {
    LocalIdentity {
        user: text("alice").unwrap(),
        domain: text("example.com").unwrap(),
        display_name: Text::new(),
        local: AT.parse().unwrap(),
        transport: "UDP",
    }
}

fn config() -> SubscribeConfig {
    SubscribeConfig {
        expires: 600,
        ..SubscribeConfig::default()
    }
}

fn subscriber(rng: &mut Rng) -> Subscriber {
    Subscriber::new(
        rng,
        "message-summary",
        "application/simple-message-summary",
        "vm",
        "example.com",
        config(),
    )
    .unwrap()
}

fn t(secs: u64) -> Instant {
    Instant::ZERO + Duration::from_secs(secs)
}

/// Polls the next SUBSCRIBE at `now`.
fn poll(s: &mut Subscriber, rng: &mut Rng, now: Instant) -> Option<Vec<u8>> {
    let mut buf = [0u8; 2048];
    let n = s.poll_request(now, &me(), rng, "z9hG4bKsub", &mut buf)?;
    Some(buf[..n].to_vec())
}

fn header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    msg.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
}

/// The notifier's answer to `req` with `code`, its tag `vm1`, a Contact
/// and a Record-Route, plus `extra` header lines.
fn answer(req: &[u8], code: u16, extra: &str) -> Vec<u8> {
    let r = std::str::from_utf8(req).unwrap();
    let to = header(r, "To").unwrap();
    let to = if to.contains(";tag=") {
        String::from(to)
    } else {
        format!("{to};tag=vm1")
    };
    format!(
        "SIP/2.0 {code} X\r\nVia: {}\r\nRecord-Route: <sip:192.0.2.9;lr>\r\nFrom: {}\r\nTo: {to}\r\n\
         Call-ID: {}\r\nCSeq: {}\r\nContact: <sip:vm@192.0.2.7:5060>\r\n{extra}Content-Length: 0\r\n\r\n",
        header(r, "Via").unwrap(),
        header(r, "From").unwrap(),
        header(r, "Call-ID").unwrap(),
        header(r, "CSeq").unwrap(),
    )
    .into_bytes()
}

fn respond(s: &mut Subscriber, now: Instant, req: &[u8], resp: &[u8]) -> SubscribeOutcome {
    let req = Message::parse_datagram(req).unwrap();
    let resp = Message::parse_datagram(resp).unwrap();
    s.on_response(now, &req, &resp)
}

/// A NOTIFY from the notifier in the subscription `sub` (the first
/// SUBSCRIBE as sent) with CSeq `seq`.
fn notify(sub: &[u8], seq: u32, event: &str, state: &str) -> Vec<u8> {
    let r = std::str::from_utf8(sub).unwrap();
    let from = header(r, "From").unwrap();
    let body = "Messages-Waiting: yes\r\nVoice-Message: 2/8 (0/2)\r\n";
    let state = if state.is_empty() {
        String::new()
    } else {
        format!("Subscription-State: {state}\r\n")
    };
    format!(
        "NOTIFY sip:alice@192.0.2.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKn{seq}\r\n\
         From: <sip:vm@example.com>;tag=vm1\r\nTo: {from}\r\nCall-ID: {}\r\nCSeq: {seq} NOTIFY\r\n\
         Event: {event}\r\n{state}Content-Type: application/simple-message-summary\r\n\
         Content-Length: {}\r\n\r\n{body}",
        header(r, "Call-ID").unwrap(),
        body.len()
    )
    .into_bytes()
}

fn on_notify(s: &mut Subscriber, now: Instant, bytes: &[u8]) -> NotifyVerdict {
    s.on_notify(now, &Message::parse_datagram(bytes).unwrap())
}

/// A subscriber whose first SUBSCRIBE (returned) was accepted at 0 s for
/// 600 s.
fn active(rng: &mut Rng) -> (Subscriber, Vec<u8>) {
    let mut s = subscriber(rng);
    s.start(t(0));
    let sub = poll(&mut s, rng, t(0)).unwrap();
    let ok = answer(&sub, 200, "Expires: 600\r\n");
    assert_eq!(
        respond(&mut s, t(0), &sub, &ok),
        SubscribeOutcome::Active(600)
    );
    (s, sub)
}

#[test]
fn first_subscribe_names_package_accept_and_expiry() {
    let mut rng = Rng::new(1);
    let mut s = subscriber(&mut rng);
    assert!(poll(&mut s, &mut rng, t(0)).is_none(), "idle until started");
    s.start(t(0));
    let sub = poll(&mut s, &mut rng, t(0)).unwrap();
    let text = std::str::from_utf8(&sub).unwrap();
    assert!(text.starts_with("SUBSCRIBE sip:vm@example.com SIP/2.0\r\n"));
    assert_eq!(header(text, "Event"), Some("message-summary"));
    assert_eq!(
        header(text, "Accept"),
        Some("application/simple-message-summary")
    );
    assert_eq!(header(text, "Expires"), Some("600"));
    assert_eq!(header(text, "To"), Some("<sip:vm@example.com>"));
    assert!(header(text, "From").unwrap().contains(";tag="));
    assert!(Message::parse_datagram(&sub).is_ok());
    assert_eq!(s.status(), SubscriptionStatus::Subscribing);
    assert_eq!(s.poll_timeout(), None, "nothing more while in flight");
}

#[test]
fn accepted_subscription_refreshes_halfway_within_the_dialog() {
    let mut rng = Rng::new(2);
    let (mut s, first) = active(&mut rng);
    assert_eq!(s.status(), SubscriptionStatus::Active { until: t(600) });
    assert_eq!(s.poll_timeout(), Some(t(300)));
    assert!(poll(&mut s, &mut rng, t(299)).is_none());
    let refresh = poll(&mut s, &mut rng, t(300)).unwrap();
    let text = std::str::from_utf8(&refresh).unwrap();
    // The remote target and route set of the dialog (RFC 3261 §12.2.1.1).
    assert!(text.starts_with("SUBSCRIBE sip:vm@192.0.2.7:5060 SIP/2.0\r\n"));
    assert_eq!(header(text, "Route"), Some("<sip:192.0.2.9;lr>"));
    assert!(header(text, "To").unwrap().ends_with(";tag=vm1"));
    let first = std::str::from_utf8(&first).unwrap();
    assert_eq!(header(text, "Call-ID"), header(first, "Call-ID"));
    assert_eq!(header(text, "CSeq"), Some("2 SUBSCRIBE"));
    let ok = answer(&refresh, 200, "Expires: 600\r\n");
    assert_eq!(
        respond(&mut s, t(301), &refresh, &ok),
        SubscribeOutcome::Active(600)
    );
    assert_eq!(s.poll_timeout(), Some(t(601)));
}

#[test]
fn granted_expiry_never_longer_than_asked() {
    let mut rng = Rng::new(3);
    let mut s = subscriber(&mut rng);
    s.start(t(0));
    let sub = poll(&mut s, &mut rng, t(0)).unwrap();
    let ok = answer(&sub, 200, "Expires: 100\r\n");
    assert_eq!(
        respond(&mut s, t(0), &sub, &ok),
        SubscribeOutcome::Active(100)
    );
    assert_eq!(s.poll_timeout(), Some(t(50)));
}

#[test]
fn notifies_are_accepted_in_order_and_checked() {
    let mut rng = Rng::new(4);
    let (mut s, sub) = active(&mut rng);
    let n1 = notify(&sub, 1, "message-summary", "active;expires=600");
    assert_eq!(
        on_notify(&mut s, t(1), &n1),
        NotifyVerdict::Accept { terminated: false }
    );
    let n3 = notify(&sub, 3, "message-summary", "active;expires=599");
    assert_eq!(
        on_notify(&mut s, t(2), &n3),
        NotifyVerdict::Accept { terminated: false }
    );
    // RFC 3261 §12.2.2: an older CSeq is out of order.
    let n2 = notify(&sub, 2, "message-summary", "active");
    assert_eq!(on_notify(&mut s, t(3), &n2), NotifyVerdict::Reject(500));
    let wrong = notify(&sub, 4, "presence", "active");
    assert_eq!(on_notify(&mut s, t(3), &wrong), NotifyVerdict::Reject(489));
    let stateless = notify(&sub, 5, "message-summary", "");
    assert_eq!(
        on_notify(&mut s, t(3), &stateless),
        NotifyVerdict::Reject(400)
    );
    // The notifier shortens the subscription: the refresh comes earlier.
    let short = notify(&sub, 6, "message-summary", "active;expires=60");
    assert_eq!(
        on_notify(&mut s, t(10), &short),
        NotifyVerdict::Accept { terminated: false }
    );
    assert_eq!(s.status(), SubscriptionStatus::Active { until: t(70) });
    assert_eq!(s.poll_timeout(), Some(t(40)));
}

#[test]
fn notify_before_the_answer_is_taken() {
    let mut rng = Rng::new(5);
    let mut s = subscriber(&mut rng);
    s.start(t(0));
    let sub = poll(&mut s, &mut rng, t(0)).unwrap();
    let n1 = notify(&sub, 1, "message-summary", "active;expires=600");
    assert_eq!(
        on_notify(&mut s, t(0), &n1),
        NotifyVerdict::Accept { terminated: false }
    );
    let ok = answer(&sub, 200, "Expires: 600\r\n");
    assert_eq!(
        respond(&mut s, t(1), &sub, &ok),
        SubscribeOutcome::Active(600)
    );
}

#[test]
fn foreign_notify_is_481() {
    let mut rng = Rng::new(6);
    let (mut s, _) = active(&mut rng);
    let mut other_rng = Rng::new(99);
    let mut other = subscriber(&mut other_rng);
    other.start(t(0));
    let other_sub = poll(&mut other, &mut other_rng, t(0)).unwrap();
    let n = notify(&other_sub, 1, "message-summary", "active");
    assert_eq!(on_notify(&mut s, t(1), &n), NotifyVerdict::Reject(481));
}

#[test]
fn terminated_by_deactivation_resubscribes_with_a_new_dialog() {
    let mut rng = Rng::new(7);
    let (mut s, sub) = active(&mut rng);
    let n = notify(&sub, 1, "message-summary", "terminated;reason=deactivated");
    assert_eq!(
        on_notify(&mut s, t(5), &n),
        NotifyVerdict::Accept { terminated: true }
    );
    assert!(s.dialog().is_none());
    assert_eq!(s.status(), SubscriptionStatus::Subscribing);
    let again = poll(&mut s, &mut rng, t(5)).unwrap();
    let (a, b) = (
        std::str::from_utf8(&again).unwrap(),
        std::str::from_utf8(&sub).unwrap(),
    );
    assert!(a.starts_with("SUBSCRIBE sip:vm@example.com "));
    assert_ne!(header(a, "Call-ID"), header(b, "Call-ID"));
    // A late NOTIFY of the old subscription no longer matches.
    let late = notify(&sub, 2, "message-summary", "active");
    assert_eq!(on_notify(&mut s, t(6), &late), NotifyVerdict::Reject(481));
}

#[test]
fn terminated_for_good_is_not_retried() {
    let mut rng = Rng::new(8);
    let (mut s, sub) = active(&mut rng);
    let n = notify(&sub, 1, "message-summary", "terminated;reason=noresource");
    assert_eq!(
        on_notify(&mut s, t(5), &n),
        NotifyVerdict::Accept { terminated: true }
    );
    assert_eq!(s.status(), SubscriptionStatus::Refused { code: 0 });
    assert_eq!(s.poll_timeout(), None);
    let n = notify(&sub, 2, "message-summary", "active");
    assert_eq!(on_notify(&mut s, t(6), &n), NotifyVerdict::Reject(481));
    let n = notify(
        &sub,
        3,
        "message-summary",
        "terminated;reason=probation;retry-after=90",
    );
    assert_eq!(
        on_notify(&mut s, t(6), &n),
        NotifyVerdict::Accept { terminated: true }
    );
    assert_eq!(s.poll_timeout(), None, "a late NOTIFY restarts nothing");
}

#[test]
fn probation_waits_retry_after() {
    let mut rng = Rng::new(9);
    let (mut s, sub) = active(&mut rng);
    let n = notify(
        &sub,
        1,
        "message-summary",
        "terminated;reason=probation;retry-after=90",
    );
    assert_eq!(
        on_notify(&mut s, t(5), &n),
        NotifyVerdict::Accept { terminated: true }
    );
    assert_eq!(s.poll_timeout(), Some(t(95)));
}

#[test]
fn bad_event_is_final_and_failures_back_off() {
    let mut rng = Rng::new(10);
    let mut s = subscriber(&mut rng);
    s.start(t(0));
    let sub = poll(&mut s, &mut rng, t(0)).unwrap();
    let r = answer(&sub, 489, "");
    assert_eq!(
        respond(&mut s, t(0), &sub, &r),
        SubscribeOutcome::Refused(489)
    );
    assert_eq!(s.poll_timeout(), None);

    s.start(t(10));
    let sub = poll(&mut s, &mut rng, t(10)).unwrap();
    let r = answer(&sub, 503, "");
    assert_eq!(
        respond(&mut s, t(10), &sub, &r),
        SubscribeOutcome::Failed(503)
    );
    assert_eq!(s.poll_timeout(), Some(t(40)));
    let sub = poll(&mut s, &mut rng, t(40)).unwrap();
    assert_eq!(s.on_timeout(t(72)), SubscribeOutcome::Failed(408));
    assert_eq!(
        s.status(),
        SubscriptionStatus::Failed {
            retry_at: t(132),
            code: 408
        }
    );
    let _ = sub;
}

#[test]
fn interval_too_brief_asks_again_for_min_expires() {
    let mut rng = Rng::new(11);
    let mut s = subscriber(&mut rng);
    s.start(t(0));
    let sub = poll(&mut s, &mut rng, t(0)).unwrap();
    let r = answer(&sub, 423, "Min-Expires: 1200\r\n");
    assert_eq!(respond(&mut s, t(0), &sub, &r), SubscribeOutcome::Retrying);
    let again = poll(&mut s, &mut rng, t(0)).unwrap();
    assert_eq!(
        header(std::str::from_utf8(&again).unwrap(), "Expires"),
        Some("1200")
    );
}

#[test]
fn refresh_answered_481_starts_over_and_other_failures_keep_it() {
    let mut rng = Rng::new(12);
    let (mut s, _) = active(&mut rng);
    let refresh = poll(&mut s, &mut rng, t(300)).unwrap();
    let r = answer(&refresh, 500, "");
    // RFC 6665 §4.1.2.2: still valid until 600 s; retried before then.
    assert_eq!(
        respond(&mut s, t(300), &refresh, &r),
        SubscribeOutcome::Failed(500)
    );
    assert!(s.dialog().is_some());
    assert_eq!(s.poll_timeout(), Some(t(330)));
    let refresh = poll(&mut s, &mut rng, t(330)).unwrap();
    assert!(std::str::from_utf8(&refresh).unwrap().contains(";tag=vm1"));
    let r = answer(&refresh, 481, "");
    assert_eq!(
        respond(&mut s, t(330), &refresh, &r),
        SubscribeOutcome::Retrying
    );
    assert!(s.dialog().is_none());
    let fresh = poll(&mut s, &mut rng, t(330)).unwrap();
    assert!(header(std::str::from_utf8(&fresh).unwrap(), "To") == Some("<sip:vm@example.com>"));
}

#[test]
fn stop_sends_expires_zero_and_ends() {
    let mut rng = Rng::new(13);
    let (mut s, sub) = active(&mut rng);
    s.stop(t(20));
    let remove = poll(&mut s, &mut rng, t(20)).unwrap();
    let text = std::str::from_utf8(&remove).unwrap();
    assert_eq!(header(text, "Expires"), Some("0"));
    assert!(header(text, "To").unwrap().ends_with(";tag=vm1"));
    // The final NOTIFY may come before the 200.
    let n = notify(&sub, 1, "message-summary", "terminated;reason=timeout");
    assert_eq!(
        on_notify(&mut s, t(20), &n),
        NotifyVerdict::Accept { terminated: true }
    );
    let ok = answer(&remove, 200, "Expires: 0\r\n");
    assert_eq!(
        respond(&mut s, t(21), &remove, &ok),
        SubscribeOutcome::Ignored
    );
    assert_eq!(s.status(), SubscriptionStatus::Idle);
    assert_eq!(s.poll_timeout(), None);

    let (mut s, sub2) = active(&mut rng);
    s.stop(t(20));
    let remove = poll(&mut s, &mut rng, t(20)).unwrap();
    let ok = answer(&remove, 200, "Expires: 0\r\n");
    assert_eq!(
        respond(&mut s, t(21), &remove, &ok),
        SubscribeOutcome::Removed
    );
    assert_eq!(s.status(), SubscriptionStatus::Idle);
    // Its terminating NOTIFY after the 200 is still answered 200.
    let n = notify(&sub2, 1, "message-summary", "terminated;reason=timeout");
    assert_eq!(
        on_notify(&mut s, t(21), &n),
        NotifyVerdict::Accept { terminated: true }
    );
}

/// Polls the next SUBSCRIBE at `now`, answering challenges as bob.
fn poll_with_password(s: &mut Subscriber, rng: &mut Rng, now: Instant) -> Option<Vec<u8>> {
    let mut buf = [0u8; 2048];
    let creds = Credentials {
        username: "bob",
        password: "builder",
    };
    let n = s.poll_request_with(now, &me(), Some(creds), rng, "z9hG4bKsub", &mut buf)?;
    Some(buf[..n].to_vec())
}

#[test]
fn challenged_subscribe_is_answered_once_per_challenge() {
    let mut rng = Rng::new(9);
    let mut s = subscriber(&mut rng);
    s.start(t(0));
    let first = poll_with_password(&mut s, &mut rng, t(0)).unwrap();
    assert!(!String::from_utf8_lossy(&first).contains("Authorization"));
    let challenge =
        "Proxy-Authenticate: Digest realm=\"example.com\", nonce=\"abc\", qop=\"auth\"\r\n";
    let ch = answer(&first, 407, challenge);
    assert_eq!(
        respond(&mut s, t(0), &first, &ch),
        SubscribeOutcome::Retrying
    );
    let second = poll_with_password(&mut s, &mut rng, t(0)).unwrap();
    let text = String::from_utf8(second.clone()).unwrap();
    let cred = header(&text, "Proxy-Authorization").unwrap();
    assert!(cred.starts_with("Digest username=\"bob\", realm=\"example.com\", nonce=\"abc\""));
    assert!(cred.contains("uri=\"sip:vm@example.com\""));
    assert!(cred.contains("qop=auth, nc=00000001"));
    // Same Call-ID and tag, next CSeq: the same subscription asked again.
    let first_text = String::from_utf8(first.clone()).unwrap();
    assert_eq!(header(&text, "Call-ID"), header(&first_text, "Call-ID"));
    assert_eq!(header(&text, "CSeq"), Some("2 SUBSCRIBE"));
    // Challenged again without stale: the password is wrong; back off.
    let again = answer(&second, 407, challenge);
    assert_eq!(
        respond(&mut s, t(0), &second, &again),
        SubscribeOutcome::Failed(407)
    );
    assert_eq!(s.poll_timeout(), Some(t(30)));
    // The next attempt answers at once; a stale nonce is retried once more.
    let third = poll_with_password(&mut s, &mut rng, t(30)).unwrap();
    assert!(String::from_utf8_lossy(&third).contains("nc=00000002"));
    let stale = answer(
        &third,
        401,
        "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"def\", qop=\"auth\"\r\n",
    );
    assert_eq!(
        respond(&mut s, t(30), &third, &stale),
        SubscribeOutcome::Retrying
    );
    let fourth = poll_with_password(&mut s, &mut rng, t(30)).unwrap();
    let stale_again = answer(
        &fourth,
        401,
        "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"ghi\", stale=true\r\n",
    );
    assert_eq!(
        respond(&mut s, t(30), &fourth, &stale_again),
        SubscribeOutcome::Retrying
    );
    let fifth = poll_with_password(&mut s, &mut rng, t(30)).unwrap();
    let fifth_text = String::from_utf8(fifth.clone()).unwrap();
    assert!(header(&fifth_text, "Authorization")
        .unwrap()
        .contains("nonce=\"ghi\""));
    let ok = answer(&fifth, 200, "Expires: 600\r\n");
    assert_eq!(
        respond(&mut s, t(30), &fifth, &ok),
        SubscribeOutcome::Active(600)
    );
    // The refresh within the dialog answers the kept challenge before
    // being asked, with the refresh's own Request-URI.
    let refresh = poll_with_password(&mut s, &mut rng, t(330)).unwrap();
    let refresh = String::from_utf8(refresh).unwrap();
    assert!(refresh.starts_with("SUBSCRIBE sip:vm@192.0.2.7:5060 SIP/2.0\r\n"));
    let cred = header(&refresh, "Authorization").unwrap();
    assert!(cred.contains("uri=\"sip:vm@192.0.2.7:5060\""));
    assert!(cred.contains("nonce=\"ghi\""));
}

#[test]
fn removal_asked_during_a_refresh_still_sends_expires_zero() {
    let mut rng = Rng::new(4);
    let (mut s, _) = active(&mut rng);
    let refresh = poll(&mut s, &mut rng, t(300)).unwrap();
    assert!(String::from_utf8_lossy(&refresh).contains("Expires: 600\r\n"));
    s.stop(t(300));
    // The refresh's answer arrives after the removal was asked for.
    let ok = answer(&refresh, 200, "Expires: 600\r\n");
    assert_eq!(
        respond(&mut s, t(300), &refresh, &ok),
        SubscribeOutcome::Ignored
    );
    assert_eq!(s.status(), SubscriptionStatus::Unsubscribing);
    let removal = poll(&mut s, &mut rng, t(300)).unwrap();
    assert!(String::from_utf8_lossy(&removal).contains("Expires: 0\r\n"));
    let ok = answer(&removal, 200, "Expires: 0\r\n");
    assert_eq!(
        respond(&mut s, t(300), &removal, &ok),
        SubscribeOutcome::Removed
    );
}

#[test]
fn removal_asked_before_the_first_answer_removes_what_the_answer_made() {
    let mut rng = Rng::new(5);
    let mut s = subscriber(&mut rng);
    s.start(t(0));
    let first = poll(&mut s, &mut rng, t(0)).unwrap();
    s.stop(t(1));
    assert_eq!(s.status(), SubscriptionStatus::Unsubscribing);
    assert!(poll(&mut s, &mut rng, t(1)).is_none());
    // The notifier accepts the subscription: it is removed in its dialog.
    let ok = answer(&first, 200, "Expires: 600\r\n");
    assert_eq!(
        respond(&mut s, t(1), &first, &ok),
        SubscribeOutcome::Ignored
    );
    let removal = String::from_utf8(poll(&mut s, &mut rng, t(1)).unwrap()).unwrap();
    assert_eq!(header(&removal, "Expires"), Some("0"));
    assert!(header(&removal, "To").unwrap().ends_with(";tag=vm1"));
    let ok = answer(removal.as_bytes(), 200, "Expires: 0\r\n");
    assert_eq!(
        respond(&mut s, t(2), removal.as_bytes(), &ok),
        SubscribeOutcome::Removed
    );
    assert_eq!(s.status(), SubscriptionStatus::Idle);

    // Refused or unanswered, there is nothing to remove.
    let mut s = subscriber(&mut rng);
    s.start(t(0));
    let first = poll(&mut s, &mut rng, t(0)).unwrap();
    s.stop(t(1));
    let busy = answer(&first, 503, "");
    assert_eq!(
        respond(&mut s, t(1), &first, &busy),
        SubscribeOutcome::Removed
    );
    assert_eq!(s.poll_timeout(), None);
    let mut s = subscriber(&mut rng);
    s.start(t(0));
    poll(&mut s, &mut rng, t(0)).unwrap();
    s.stop(t(1));
    assert_eq!(s.on_timeout(t(32)), SubscribeOutcome::Removed);
    assert_eq!(s.status(), SubscriptionStatus::Idle);
}
