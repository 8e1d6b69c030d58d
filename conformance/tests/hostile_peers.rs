//! Hostile peers: requests with forged or wrong dialog identifiers,
//! transfers and replacements from strangers, odd versions and methods,
//! damaged and oversized messages, and digest challenges that are replayed
//! or stale. The phone answers each as the RFCs say, and the live call
//! (when there is one) is untouched. Every test ends with the driver's
//! clean-up check: all calls end and every slot frees.

use handset_conformance::harness::message::{tag_of, Draft, Sent};
use handset_conformance::harness::phone::{
    Cmd, CodePick, CseqPick, Damage, Driver, Extra, HandlePick, MethodPick, Script, SdpPick, Step,
    TagPick, PEER, PHONE,
};
use handset_core::phone::Event;

fn driver(registrar: bool, password: bool) -> Driver {
    Driver::recording(&Script {
        seed: 3,
        registrar,
        password,
        steps: Vec::new(),
    })
}

/// An incoming call from the peer, answered and acknowledged.
fn live_call(d: &mut Driver) {
    d.step(&Step::Invite {
        call: 0,
        sdp: SdpPick::Audio,
        extra: Extra::None,
        edits: Damage::default(),
    });
    d.step(&Step::Command(Cmd::Answer(HandlePick::Known(0))));
    d.step(&Step::Ack {
        to: 0,
        tag: TagPick::Right,
        sdp: SdpPick::None,
        edits: Damage::default(),
    });
    assert!(d.events().iter().any(|e| matches!(e, Event::Answered(_))));
    assert_eq!(d.phone().live_calls().count(), 1);
}

/// A request inside the live call's dialog (the newest final response the
/// phone sent is its 200 OK).
fn in_dialog(d: &mut Driver, method: MethodPick, tag: TagPick, extra: Extra) {
    // The driver picks from its last 8 requests, then its last 8
    // responses, newest first: find the 200 OK to the INVITE there.
    let requests = d
        .sent()
        .iter()
        .filter(|m| !m.starts_with(b"SIP/2.0"))
        .count()
        .min(8);
    let ok = d
        .sent()
        .iter()
        .rev()
        .filter(|m| m.starts_with(b"SIP/2.0"))
        .take(8)
        .position(|m| {
            Sent::read(m).is_some_and(|r| r.status() == Some(200) && r.method() == "INVITE")
        })
        .expect("the call's 200 OK is among the latest responses");
    d.step(&Step::InDialog {
        of: u8::try_from(requests + ok).unwrap(),
        method,
        tag,
        cseq: CseqPick::Next,
        sdp: SdpPick::None,
        extra,
        edits: Damage::default(),
    });
}

/// The newest response the phone sent.
fn last_response(d: &Driver) -> Sent {
    d.sent()
        .iter()
        .rev()
        .filter_map(|m| Sent::read(m))
        .find(Sent::is_response)
        .expect("the phone answered")
}

/// Sends `text` (lines ending in `\n`) with CRLF line ends and the right
/// Content-Length.
fn send(d: &mut Driver, text: &str) {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut draft = Draft::new(head.lines().next().unwrap());
    for line in head.lines().skip(1) {
        let (n, v) = line.split_once(": ").unwrap();
        draft.header(n, v);
    }
    draft.body = body.replace('\n', "\r\n").into_bytes();
    d.send(&draft.render(&[]));
}

fn request(method: &str, extra: &str) -> String {
    format!(
        "{method} sip:alice@{PHONE} SIP/2.0\n\
         Via: SIP/2.0/UDP {PEER};branch=z9hG4bKhostile{}\n\
         Max-Forwards: 70\n\
         From: <sip:mallory@example.net>;tag=m1\n\
         To: <sip:alice@example.com>\n\
         Call-ID: hostile-{method}@example.net\n\
         CSeq: 7 {method}\n\
         {extra}",
        method.len()
    )
}

#[test]
fn in_dialog_requests_with_wrong_tags_get_481_and_the_call_stays() {
    for method in [MethodPick::Bye, MethodPick::Info, MethodPick::Invite] {
        for tag in [TagPick::WrongLocal, TagPick::WrongRemote] {
            let mut d = driver(false, false);
            live_call(&mut d);
            in_dialog(&mut d, method, tag, Extra::None);
            let r = last_response(&d);
            assert_eq!(r.status(), Some(481), "{method:?} {tag:?}: {}", r.start);
            assert_eq!(d.phone().live_calls().count(), 1, "{method:?} {tag:?}");
            // The right tags still reach the call.
            in_dialog(&mut d, MethodPick::Bye, TagPick::Right, Extra::None);
            assert_eq!(last_response(&d).status(), Some(200));
            assert_eq!(d.phone().live_calls().count(), 0);
            d.finish();
        }
    }
}

#[test]
fn refer_from_outside_the_dialog_or_from_a_stranger_is_refused() {
    let mut d = driver(false, false);
    live_call(&mut d);
    // No dialog at all (no To tag).
    send(
        &mut d,
        &request("REFER", "Refer-To: <sip:carol@192.0.2.10>\n"),
    );
    let r = last_response(&d);
    assert!(matches!(r.status(), Some(403 | 481)), "{}", r.start);
    // The dialog's Call-ID and the phone's tag, but a From tag that is not
    // the peer's: a party not in the dialog.
    in_dialog(
        &mut d,
        MethodPick::Refer,
        TagPick::WrongRemote,
        Extra::ReferTo(false),
    );
    assert_eq!(last_response(&d).status(), Some(481));
    assert!(
        !d.events()
            .iter()
            .any(|e| format!("{e:?}").contains("Transfer")),
        "{:?}",
        d.events()
    );
    assert_eq!(d.phone().live_calls().count(), 1);
    d.finish();
}

#[test]
fn invite_with_replaces_naming_a_dialog_the_sender_is_not_part_of_is_refused() {
    let mut d = driver(false, false);
    live_call(&mut d);
    let ok = last_response(&d);
    let call_id = ok.get("Call-ID").unwrap().to_string();
    let local = tag_of(ok.get("To").unwrap()).unwrap().to_string();
    let remote = tag_of(ok.get("From").unwrap()).unwrap().to_string();
    // RFC 3891 §3: tags that do not match the dialog → 481.
    let wrong = format!("Replaces: {call_id};to-tag={local};from-tag=guessed\n");
    send(&mut d, &request("INVITE", &wrong));
    assert_eq!(last_response(&d).status(), Some(481));
    // The right tags, but from a stranger who was not referred by the
    // peer: refused (RFC 3891 §6: only a party of the call may replace it).
    let right = format!("Replaces: {call_id};to-tag={local};from-tag={remote}\n");
    send(&mut d, &request("INVITE", &right));
    let r = last_response(&d);
    assert!(matches!(r.status(), Some(403 | 481)), "{}", r.start);
    assert_eq!(d.phone().live_calls().count(), 1, "the call was replaced");
    assert_eq!(
        d.events()
            .iter()
            .filter(|e| matches!(e, Event::IncomingCall(_)))
            .count(),
        1
    );
    d.finish();
}

#[test]
fn max_forwards_zero_is_processed_normally_by_the_phone() {
    // RFC 4475 §3.3.11: Max-Forwards 0 only stops proxies; a UA handles
    // the request (the simulator proxy's 483 is tested in shims/sim).
    let mut d = driver(false, false);
    send(&mut d, &request("OPTIONS", "Max-Forwards: 0\n"));
    assert_eq!(last_response(&d).status(), Some(200));
    d.step(&Step::Invite {
        call: 1,
        sdp: SdpPick::Audio,
        extra: Extra::MaxForwardsZero,
        edits: Damage::default(),
    });
    assert_eq!(last_response(&d).status(), Some(180));
    assert!(d
        .events()
        .iter()
        .any(|e| matches!(e, Event::IncomingCall(_))));
    d.finish();
}

#[test]
fn another_sip_version_gets_505() {
    let mut d = driver(false, false);
    let text = request("OPTIONS", "").replacen("SIP/2.0\n", "SIP/7.0\n", 1);
    send(&mut d, &text);
    assert_eq!(last_response(&d).status(), Some(505));
    d.finish();
}

#[test]
fn an_unknown_method_gets_501_with_allow() {
    let mut d = driver(false, false);
    send(&mut d, &request("FROBNICATE", ""));
    let r = last_response(&d);
    assert_eq!(r.status(), Some(501));
    let allow = r.get("Allow").expect("501 lists what is allowed");
    assert!(allow.contains("INVITE") && allow.contains("BYE"), "{allow}");
    // Inside the live call too.
    live_call(&mut d);
    in_dialog(&mut d, MethodPick::Unknown, TagPick::Right, Extra::None);
    let r = last_response(&d);
    assert_eq!(r.status(), Some(501));
    assert!(r.get("Allow").is_some());
    assert_eq!(d.phone().live_calls().count(), 1);
    d.finish();
}

#[test]
fn malformed_requests_get_400_with_a_reason_when_answerable() {
    // A CSeq that is not a number: answerable (Via, From, To, Call-ID are
    // there), so 400 names what is wrong.
    let mut d = driver(false, false);
    let text = request("OPTIONS", "").replace("CSeq: 7 OPTIONS", "CSeq: seven OPTIONS");
    send(&mut d, &text);
    let r = last_response(&d);
    assert_eq!(r.status(), Some(400), "{}", r.start);
    let reason = format!("{} {}", r.start, r.get("Warning").unwrap_or(""));
    assert!(reason.contains("CSeq"), "no reason given: {reason}");
    // No Via: nowhere to send a response; dropped without a word.
    let before = d.sent().len();
    let text = request("OPTIONS", "").replace(
        &format!("Via: SIP/2.0/UDP {PEER};branch=z9hG4bKhostile7\n"),
        "",
    );
    send(&mut d, &text);
    assert_eq!(d.sent().len(), before);
    // Not SIP at all, and a message cut inside its body: dropped.
    d.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
    let mut cut = request("INVITE", "Content-Type: application/sdp\n").into_bytes();
    cut.extend_from_slice(b"Content-Length: 300\r\n\r\nv=0\r\n");
    d.send(&cut);
    assert_eq!(d.sent().len(), before);
    assert_eq!(d.phone().live_calls().count(), 0);
    d.finish();
}

#[test]
fn oversized_requests_are_refused_without_harm() {
    let mut d = driver(false, false);
    live_call(&mut d);
    let before = d.sent().len();
    let big = format!("X-Padding: {}\n", "a".repeat(20_000));
    send(&mut d, &request("INVITE", &big));
    // RFC 3261 §21.4.14: 513 Message Too Large; never a second call,
    // never harm to the first.
    assert_eq!(d.sent().len(), before + 1);
    assert_eq!(last_response(&d).status(), Some(513));
    assert_eq!(d.phone().live_calls().count(), 1);
    d.finish();
}

/// The phone's REGISTER flow against a registrar that challenges, then
/// says the nonce is stale, then refuses the same credentials again.
#[test]
fn digest_stale_nonce_is_retried_once_and_a_refusal_is_not_looped() {
    let mut d = driver(true, true);
    d.step(&Step::Command(Cmd::Register));
    let challenge = |d: &mut Driver, nonce: &str, stale: bool| {
        let reg = d
            .sent()
            .iter()
            .rev()
            .filter_map(|m| Sent::read(m))
            .find(|m| m.method() == "REGISTER" && !m.is_response())
            .unwrap();
        let mut r = Draft::new("SIP/2.0 401 Unauthorized");
        for v in reg.all("Via") {
            r.header("Via", v);
        }
        r.header("From", reg.get("From").unwrap())
            .header("To", format!("{};tag=reg1", reg.get("To").unwrap()))
            .header("Call-ID", reg.get("Call-ID").unwrap())
            .header("CSeq", reg.get("CSeq").unwrap())
            .header(
                "WWW-Authenticate",
                format!(
                    "Digest realm=\"example.com\", nonce=\"{nonce}\", qop=\"auth\", algorithm=MD5{}",
                    if stale { ", stale=true" } else { "" }
                ),
            );
        d.send(&r.render(&[]));
        d.sent()
            .iter()
            .rev()
            .filter_map(|m| Sent::read(m))
            .find(|m| m.method() == "REGISTER" && !m.is_response())
            .unwrap()
    };
    let first = challenge(&mut d, "nonce-1", false);
    let auth = first.get("Authorization").expect("answers the challenge");
    assert!(
        auth.contains("nonce=\"nonce-1\"") && auth.contains("nc=00000001"),
        "{auth}"
    );
    // Stale: the answer was right but the nonce expired; the phone answers
    // the new nonce at once and does not give up.
    let second = challenge(&mut d, "nonce-2", true);
    let auth2 = second.get("Authorization").expect("answers the new nonce");
    assert!(auth2.contains("nonce=\"nonce-2\""), "{auth2}");
    assert!(second.cseq() > first.cseq());
    assert!(!d
        .events()
        .iter()
        .any(|e| matches!(e, Event::RegistrationFailed { .. })));
    // A plain 401 to that answer means the credentials are wrong: the
    // phone reports failure instead of answering the same challenge again.
    let sent_before = d.sent().len();
    let third = challenge(&mut d, "nonce-2", false);
    assert_eq!(third.cseq(), second.cseq(), "retried wrong credentials");
    assert!(d.sent().len() == sent_before || d.sent().len() == sent_before + 1);
    assert!(d
        .events()
        .iter()
        .any(|e| matches!(e, Event::RegistrationFailed { code: 401, .. })));
    d.finish();
}

/// The phone's newest REGISTER.
fn last_register(d: &Driver) -> Sent {
    d.sent()
        .iter()
        .rev()
        .filter_map(|m| Sent::read(m))
        .find(|m| m.method() == "REGISTER" && !m.is_response())
        .expect("a REGISTER went out")
}

/// A response from the registrar to the phone's newest REGISTER.
fn registrar_says(d: &mut Driver, status: &str, extra: &[(&str, String)]) {
    let reg = last_register(d);
    let mut r = Draft::new(format!("SIP/2.0 {status}"));
    for v in reg.all("Via") {
        r.header("Via", v);
    }
    r.header("From", reg.get("From").unwrap())
        .header("To", format!("{};tag=reg1", reg.get("To").unwrap()))
        .header("Call-ID", reg.get("Call-ID").unwrap())
        .header("CSeq", reg.get("CSeq").unwrap());
    for (n, v) in extra {
        r.header(n, v);
    }
    d.send(&r.render(&[]));
}

/// Digest nonce reuse on the phone side: a refresh may reuse the nonce
/// the registrar accepted, but never with a nonce count used before
/// (RFC 7616 §3.4: nc counts every request sent with that nonce).
#[test]
fn a_reused_nonce_always_carries_a_new_nonce_count() {
    let mut d = driver(true, true);
    d.step(&Step::Command(Cmd::Register));
    let challenge = (
        "WWW-Authenticate",
        "Digest realm=\"example.com\", nonce=\"n-7\", qop=\"auth\", algorithm=MD5".to_string(),
    );
    registrar_says(&mut d, "401 Unauthorized", &[challenge]);
    let first = last_register(&d);
    let auth = first
        .get("Authorization")
        .expect("answers the challenge")
        .to_string();
    assert!(auth.contains("nc=00000001"), "{auth}");
    let contact = format!("{};expires=60", first.get("Contact").unwrap());
    registrar_says(&mut d, "200 OK", &[("Contact", contact)]);
    assert!(d
        .events()
        .iter()
        .any(|e| matches!(e, Event::Registered { .. })));
    // The refresh comes before the binding's 60 s run out.
    d.step(&Step::WaitLong(60));
    let refresh = last_register(&d);
    assert!(refresh.cseq() > first.cseq(), "no refresh was sent");
    // The accepted nonce is reused for the refresh, with the next count.
    let again = refresh
        .get("Authorization")
        .expect("the refresh answers ahead");
    assert!(
        again.contains("nonce=\"n-7\"") && again.contains("nc=00000002"),
        "{again}"
    );
    d.finish();
}

/// Responses the harness's reply step builds carry the phone's own tags:
/// a sanity check that the peer the other tests rely on works.
#[test]
fn the_peer_answers_the_phone_in_its_own_transactions() {
    let mut d = driver(false, false);
    d.step(&Step::Command(Cmd::Dial(0)));
    d.step(&Step::Reply {
        to: 0,
        code: CodePick::Any(486),
        tag: true,
        sdp: SdpPick::None,
        edits: Damage::default(),
    });
    assert!(d.events().iter().any(|e| matches!(e, Event::Ended { .. })));
    assert!(d.sent().iter().any(|m| m.starts_with(b"ACK ")));
    d.finish();
}
