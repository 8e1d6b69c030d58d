//! A dialog keeps its text (Call-ID, tags, URIs, route set, remote
//! target) in a bounded budget, `dialog::MAX_DIALOG_TEXT` bytes. A peer
//! whose values fit each limit of their own but not the budget together
//! meets a clean refusal: an incoming call is answered 400 and never
//! rings, an outgoing one ends. A long but real route set (four proxies
//! with long parameters) still makes a call. Every test ends with the
//! driver's clean-up check: all calls end and every slot frees.

use handset_conformance::harness::message::{Draft, Sent};
use handset_conformance::harness::phone::{Cmd, Driver, Script, Step, PEER, PHONE};
use handset_core::dialog::{MAX_CALL_ID, MAX_DIALOG_TEXT, MAX_TAG, MAX_URI};
use handset_core::phone::{EndReason, Event};

fn driver() -> Driver {
    Driver::recording(&Script {
        seed: 5,
        registrar: false,
        password: false,
        steps: Vec::new(),
    })
}

/// A SIP URI of exactly `len` bytes on `host`.
fn uri(host: &str, len: usize) -> String {
    let bare = format!("sip:@{host}");
    format!("sip:{}@{host}", "u".repeat(len - bare.len()))
}

/// A loose-routing proxy's Record-Route URI of exactly `len` bytes, its
/// length in an `ftag`-like parameter as some proxies write it.
fn route(i: usize, len: usize) -> String {
    let bare = format!("sip:10.0.0.{i};lr;ftag=");
    format!("{bare}{}", "f".repeat(len - bare.len()))
}

/// The peer's answer to the audio offer.
const ANSWER: &str = "v=0\r\no=bob 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\n\
                      t=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// The values of an INVITE from the peer.
struct Invite {
    branch: &'static str,
    call_id: String,
    from_tag: String,
    from: String,
    to: String,
    contact: String,
    record_route: String,
}

/// The INVITE's bytes (they stay within the phone's 1300-byte
/// transaction buffer).
fn invite(v: &Invite) -> Vec<u8> {
    let mut d = Draft::new(format!("INVITE sip:alice@{PHONE} SIP/2.0"));
    d.header("Via", format!("SIP/2.0/UDP {PEER};branch={}", v.branch))
        .header("Max-Forwards", "70")
        .header("Record-Route", format!("<{}>", v.record_route))
        .header("From", format!("<{}>;tag={}", v.from, v.from_tag))
        .header("To", format!("<{}>", v.to))
        .header("Call-ID", &v.call_id)
        .header("CSeq", "1 INVITE")
        .header("Contact", format!("<{}>", v.contact));
    d.render(&[])
}

#[test]
fn an_incoming_call_over_the_budget_is_refused_with_400() {
    // Every value within its own limit, together over the budget: the
    // phone's own 12-byte tag makes the text one byte too long.
    let mut v = Invite {
        branch: "z9hG4bKbudget1",
        call_id: "c".repeat(MAX_CALL_ID),
        from_tag: "t".repeat(MAX_TAG),
        from: uri("example.net", MAX_URI),
        to: uri("example.com", MAX_URI),
        contact: uri("192.0.2.9", MAX_URI),
        record_route: String::new(),
    };
    let used =
        v.call_id.len() + v.from_tag.len() + 12 + v.from.len() + v.to.len() + v.contact.len();
    v.record_route = route(1, MAX_DIALOG_TEXT + 1 - used);
    let bytes = invite(&v);
    assert!(bytes.len() <= 1300, "{}", bytes.len());

    let mut d = driver();
    d.send(&bytes);
    let last = d
        .sent()
        .iter()
        .rev()
        .find_map(|m| Sent::read(m))
        .expect("the phone answered");
    assert_eq!((last.status(), last.method()), (Some(400), "INVITE"));
    assert!(!d
        .events()
        .iter()
        .any(|e| matches!(e, Event::IncomingCall(_))));
    assert_eq!(d.phone().live_calls().count(), 0);
    assert_eq!(d.phone().dialogs_in_use(), 0);

    // One byte shorter, a call with the same values rings.
    v.branch = "z9hG4bKbudget2";
    v.call_id = "d".repeat(MAX_CALL_ID);
    v.record_route = route(1, MAX_DIALOG_TEXT - used);
    d.send(&invite(&v));
    assert!(d
        .events()
        .iter()
        .any(|e| matches!(e, Event::IncomingCall(_))));
    assert_eq!(d.phone().live_calls().count(), 1);
    d.finish();
}

/// The phone's newest INVITE, answered 200 with `routes` (first hop
/// last, as the callee's Record-Route lists them) and `contact`.
fn answer_invite(d: &mut Driver, routes: &[String], contact: &str) {
    let invite = d
        .sent()
        .iter()
        .rev()
        .filter_map(|m| Sent::read(m))
        .find(|m| !m.is_response() && m.method() == "INVITE")
        .expect("the phone sent an INVITE");
    let mut ok = Draft::new("SIP/2.0 200 OK");
    for name in ["Via", "From"] {
        ok.header(name, invite.get(name).unwrap());
    }
    ok.header("To", format!("{};tag=callee1", invite.get("To").unwrap()));
    for name in ["Call-ID", "CSeq"] {
        ok.header(name, invite.get(name).unwrap());
    }
    for r in routes {
        ok.header("Record-Route", format!("<{r}>"));
    }
    ok.header("Contact", format!("<{contact}>"))
        .body("application/sdp", ANSWER.as_bytes());
    d.send(&ok.render(&[]));
}

#[test]
fn an_outgoing_call_through_four_proxies_is_answered() {
    let mut d = driver();
    d.step(&Step::Command(Cmd::Dial(1)));
    // Four proxies with 120-byte Record-Route URIs and a 120-byte Contact.
    let routes: Vec<String> = (1..=4).map(|i| route(i, 120)).collect();
    answer_invite(&mut d, &routes, &uri("192.0.2.9", 120));
    assert!(d.events().iter().any(|e| matches!(e, Event::Answered(_))));
    // The ACK goes through them, first hop first.
    let ack = d
        .sent()
        .iter()
        .rev()
        .filter_map(|m| Sent::read(m))
        .find(|m| m.method() == "ACK")
        .expect("the 200 was acknowledged");
    let hops: Vec<&str> = ack.all("Route").collect();
    let want: Vec<String> = routes.iter().rev().map(|r| format!("<{r}>")).collect();
    assert_eq!(hops, want);
    d.finish();
}

#[test]
fn an_outgoing_call_whose_answer_is_over_the_budget_ends() {
    let mut d = driver();
    d.step(&Step::Command(Cmd::Dial(1)));
    // Six proxies with the longest URIs allowed: each one acceptable, the
    // route set alone over the budget.
    let routes: Vec<String> = (1..=6).map(|i| route(i, MAX_URI)).collect();
    answer_invite(&mut d, &routes, &uri("192.0.2.9", 40));
    assert!(!d.events().iter().any(|e| matches!(e, Event::Answered(_))));
    assert!(d.events().iter().any(|e| matches!(
        e,
        Event::Ended {
            reason: EndReason::Failed(513),
            ..
        }
    )));
    assert_eq!(d.phone().live_calls().count(), 0);
    d.finish();
}
