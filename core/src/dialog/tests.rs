//! Dialog tests on RFC 3665 call flows (messages written inline, as the RFC
//! prints them, bodies left out), plus the error and robustness cases.

extern crate std;

use std::string::String as StdString;
use std::vec::Vec as StdVec;

use super::*;
use crate::message::{Message, MessageWriter, Method, ReferTo, Replaces};

/// The text with every line ended by CRLF.
fn crlf(text: &str) -> StdVec<u8> {
    let mut out = StdString::new();
    for line in text.trim_start_matches('\n').split('\n') {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.into_bytes()
}

fn parse(bytes: &[u8]) -> Message<'_> {
    Message::parse_datagram(bytes).expect("test message parses")
}

// RFC 3665 §3.2 (through two proxies), F4 as Alice sends it (credentials
// left out), F11 and F14 as Alice receives them.
const F4_INVITE: &str = "
INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
Max-Forwards: 70
Route: <sip:ss1.atlanta.example.com;lr>
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 2 INVITE
Contact: <sip:alice@client.atlanta.example.com;transport=tcp>
Content-Length: 0
";

const F11_180: &str = "
SIP/2.0 180 Ringing
Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
 ;received=192.0.2.101
Record-Route: <sip:ss2.biloxi.example.com;lr>,
 <sip:ss1.atlanta.example.com;lr>
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>;tag=314159
Call-ID: 3848276298220188511@atlanta.example.com
Contact: <sip:bob@client.biloxi.example.com;transport=tcp>
CSeq: 2 INVITE
Content-Length: 0
";

const F14_200: &str = "
SIP/2.0 200 OK
Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
 ;received=192.0.2.101
Record-Route: <sip:ss2.biloxi.example.com;lr>,
 <sip:ss1.atlanta.example.com;lr>
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>;tag=314159
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 2 INVITE
Contact: <sip:bob@client.biloxi.example.com;transport=tcp>
Content-Length: 0
";

// F7 as Bob receives it.
const F7_INVITE: &str = "
INVITE sip:bob@client.biloxi.example.com SIP/2.0
Via: SIP/2.0/TCP ss2.biloxi.example.com:5060;branch=z9hG4bK721e4.1
Via: SIP/2.0/TCP ss1.atlanta.example.com:5060;branch=z9hG4bK2d4790.1
 ;received=192.0.2.111
Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
 ;received=192.0.2.101
Max-Forwards: 68
Record-Route: <sip:ss2.biloxi.example.com;lr>,
 <sip:ss1.atlanta.example.com;lr>
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 2 INVITE
Contact: <sip:alice@client.atlanta.example.com;transport=tcp>
Content-Length: 0
";

// F20: Bob's BYE as Alice receives it.
const F20_BYE: &str = "
BYE sip:alice@client.atlanta.example.com SIP/2.0
Via: SIP/2.0/TCP ss1.atlanta.example.com:5060;branch=z9hG4bK2d4790.1
Via: SIP/2.0/TCP ss2.biloxi.example.com:5060;branch=z9hG4bK721e4.1
 ;received=192.0.2.222
Via: SIP/2.0/TCP client.biloxi.example.com:5060;branch=z9hG4bKnashds7
 ;received=192.0.2.201
Max-Forwards: 68
From: Bob <sip:bob@biloxi.example.com>;tag=314159
To: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 BYE
Content-Length: 0
";

// RFC 3665 §3.1 (direct, no proxy): F1 and F3.
const S31_F1_INVITE: &str = "
INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
Max-Forwards: 70
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 INVITE
Contact: <sip:alice@client.atlanta.example.com;transport=tcp>
Content-Length: 0
";

const S31_F3_200: &str = "
SIP/2.0 200 OK
Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
 ;received=192.0.2.101
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>;tag=8321234356
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 INVITE
Contact: <sip:bob@client.biloxi.example.com;transport=tcp>
Content-Length: 0
";

/// Alice's dialog after F14 (confirmed), built straight from the 200.
fn alice_confirmed() -> Dialog {
    let invite = crlf(F4_INVITE);
    let ok = crlf(F14_200);
    Dialog::new_uac(&parse(&invite), &parse(&ok), false).unwrap()
}

/// Bob's dialog after answering F7 with a 180 (tag 314159).
fn bob_early() -> Dialog {
    let invite = crlf(F7_INVITE);
    Dialog::new_uas(&parse(&invite), "314159", 180, false).unwrap()
}

/// Writes a request with `f`, adds Via and Max-Forwards, and returns the
/// bytes.
fn build(f: impl FnOnce(&mut MessageWriter<'_>)) -> StdVec<u8> {
    let mut buf = [0u8; 2048];
    let mut w = MessageWriter::new(&mut buf);
    f(&mut w);
    w.header(
        "Via",
        "SIP/2.0/TCP client.example.com:5060;branch=z9hG4bKtest",
    );
    w.header("Max-Forwards", "70");
    let n = w.finish(None, b"").unwrap();
    buf[..n].to_vec()
}

fn routes<'a>(m: &Message<'a>) -> StdVec<&'a str> {
    m.routes().map(|r| r.unwrap().uri.raw).collect()
}

#[test]
fn uac_early_then_confirmed_from_rfc3665_section_3_2() {
    let invite = crlf(F4_INVITE);
    let ringing = crlf(F11_180);
    let ok = crlf(F14_200);
    let mut d = Dialog::new_uac(&parse(&invite), &parse(&ringing), false).unwrap();
    assert_eq!(d.state(), DialogState::Early);
    assert_eq!(d.role(), Role::Uac);
    assert_eq!(d.call_id(), "3848276298220188511@atlanta.example.com");
    assert_eq!((d.local_tag(), d.remote_tag()), ("9fxced76sl", "314159"));
    assert_eq!(d.local_uri(), "sip:alice@atlanta.example.com");
    assert_eq!(d.local_display_name(), Some("Alice"));
    assert_eq!(d.remote_uri(), "sip:bob@biloxi.example.com");
    assert_eq!(
        d.remote_target(),
        "sip:bob@client.biloxi.example.com;transport=tcp"
    );
    // RFC 3261 §12.1.2: Record-Route reversed.
    assert_eq!(
        d.route_set().collect::<StdVec<_>>(),
        [
            "sip:ss1.atlanta.example.com;lr",
            "sip:ss2.biloxi.example.com;lr"
        ]
    );
    assert_eq!((d.local_cseq(), d.remote_cseq()), (Some(2), None));
    assert!(d.created_by_invite() && !d.is_secure());
    assert!(d.matches_response(&parse(&ok)));
    assert!(!d.matches_request(&parse(&ok)));

    d.confirm_with_response(&parse(&ok)).unwrap();
    assert_eq!(d.state(), DialogState::Confirmed);

    // F15: the ACK, CSeq number of the INVITE, through both proxies.
    let ack = build(|w| d.write_ack(w, 2));
    let ack = parse(&ack);
    assert_eq!(ack.method(), Some(Method::Ack));
    assert_eq!(
        ack.request_line().unwrap().uri,
        "sip:bob@client.biloxi.example.com;transport=tcp"
    );
    assert_eq!(
        routes(&ack),
        [
            "sip:ss1.atlanta.example.com;lr",
            "sip:ss2.biloxi.example.com;lr"
        ]
    );
    let cseq = ack.cseq().unwrap().unwrap();
    assert_eq!((cseq.seq, cseq.method), (2, Method::Ack));
    let from = ack.from().unwrap().unwrap();
    assert_eq!(from.display_name, Some("Alice"));
    assert_eq!(from.uri.raw, "sip:alice@atlanta.example.com");
    assert_eq!(from.tag(), Some("9fxced76sl"));
    let to = ack.to().unwrap().unwrap();
    assert_eq!(
        (to.uri.raw, to.tag()),
        ("sip:bob@biloxi.example.com", Some("314159"))
    );
    assert_eq!(ack.call_id(), Some(d.call_id()));
    // Building the ACK took no CSeq number.
    assert_eq!(d.local_cseq(), Some(2));
}

#[test]
fn confirming_recomputes_route_set_and_target_from_the_2xx() {
    let invite = crlf(F4_INVITE);
    let ringing = crlf(F11_180);
    let mut d = Dialog::new_uac(&parse(&invite), &parse(&ringing), false).unwrap();
    let ok = crlf(
        &F14_200
            .replace(
                "Record-Route: <sip:ss2.biloxi.example.com;lr>,\n <sip:ss1.atlanta.example.com;lr>",
                "Record-Route: <sip:ss1.atlanta.example.com;lr>",
            )
            .replace("client.biloxi.example.com;transport=tcp", "192.0.2.201"),
    );
    d.confirm_with_response(&parse(&ok)).unwrap();
    assert_eq!(d.remote_target(), "sip:bob@192.0.2.201");
    assert_eq!(
        d.route_set().collect::<StdVec<_>>(),
        ["sip:ss1.atlanta.example.com;lr"]
    );
    // Once confirmed, a retransmitted 2xx with other routes changes nothing.
    let other = crlf(F14_200);
    d.confirm_with_response(&parse(&other)).unwrap();
    assert_eq!(d.remote_target(), "sip:bob@192.0.2.201");
    assert_eq!(d.route_set().count(), 1);
    // A 2xx of another fork does not belong to this dialog.
    let fork = crlf(&F14_200.replace("tag=314159", "tag=fork2"));
    assert_eq!(
        d.confirm_with_response(&parse(&fork)),
        Err(DialogError::Mismatch)
    );
}

#[test]
fn uas_from_rfc3665_section_3_2_and_its_bye() {
    let mut d = bob_early();
    assert_eq!(d.state(), DialogState::Early);
    assert_eq!(d.role(), Role::Uas);
    assert_eq!((d.local_tag(), d.remote_tag()), ("314159", "9fxced76sl"));
    assert_eq!(d.local_uri(), "sip:bob@biloxi.example.com");
    assert_eq!(d.remote_uri(), "sip:alice@atlanta.example.com");
    assert_eq!(
        d.remote_target(),
        "sip:alice@client.atlanta.example.com;transport=tcp"
    );
    // RFC 3261 §12.1.1: Record-Route in order.
    assert_eq!(
        d.route_set().collect::<StdVec<_>>(),
        [
            "sip:ss2.biloxi.example.com;lr",
            "sip:ss1.atlanta.example.com;lr"
        ]
    );
    assert_eq!((d.local_cseq(), d.remote_cseq()), (None, Some(2)));
    d.confirm();
    assert_eq!(d.state(), DialogState::Confirmed);

    // F18: Bob's BYE.
    let mut seq = 0;
    let bye = build(|w| seq = d.start_request(w, Method::Bye).unwrap());
    assert_eq!(seq, 1);
    let bye = parse(&bye);
    assert_eq!(
        bye.request_line().unwrap().uri,
        "sip:alice@client.atlanta.example.com;transport=tcp"
    );
    assert_eq!(
        routes(&bye),
        [
            "sip:ss2.biloxi.example.com;lr",
            "sip:ss1.atlanta.example.com;lr"
        ]
    );
    let from = bye.from().unwrap().unwrap();
    assert_eq!(
        (from.display_name, from.uri.raw, from.tag()),
        (Some("Bob"), "sip:bob@biloxi.example.com", Some("314159"))
    );
    let to = bye.to().unwrap().unwrap();
    assert_eq!(
        (to.uri.raw, to.tag()),
        ("sip:alice@atlanta.example.com", Some("9fxced76sl"))
    );
    let cseq = bye.cseq().unwrap().unwrap();
    assert_eq!((cseq.seq, cseq.method), (1, Method::Bye));
    // Alice's side recognises it, as F20 does.
    let alice = alice_confirmed();
    assert!(alice.matches_request(&bye));
}

#[test]
fn both_sides_of_one_dialog_share_its_identity() {
    let invite = crlf(F4_INVITE);
    let ok = crlf(F14_200);
    let alice = alice_confirmed();
    let bob = Dialog::new_uas(&parse(&invite), "314159", 200, false).unwrap();
    assert_eq!(bob.state(), DialogState::Confirmed);
    assert_eq!(alice.key().call_id, bob.key().call_id);
    assert_eq!(alice.local_tag(), bob.remote_tag());
    assert_eq!(alice.remote_tag(), bob.local_tag());
    assert_eq!(alice.id().key(), alice.key());
    // Bob sees Alice's 200 as the response it sent, not as one it received.
    assert!(!bob.matches_response(&parse(&ok)));
}

#[test]
fn direct_call_has_an_empty_route_set() {
    let invite = crlf(S31_F1_INVITE);
    let ok = crlf(S31_F3_200);
    let mut d = Dialog::new_uac(&parse(&invite), &parse(&ok), false).unwrap();
    assert_eq!(d.route_set().count(), 0);
    let bye = build(|w| {
        d.start_request(w, Method::Bye).unwrap();
    });
    let bye = parse(&bye);
    assert_eq!(
        bye.request_line().unwrap().uri,
        "sip:bob@client.biloxi.example.com;transport=tcp"
    );
    assert_eq!(bye.routes().count(), 0);
    assert_eq!(bye.cseq().unwrap().unwrap().seq, 2);
}

/// A 200 to F4 with the given Record-Route line.
fn ok_with_record_route(rr: &str) -> StdVec<u8> {
    crlf(&F14_200.replace(
        "Record-Route: <sip:ss2.biloxi.example.com;lr>,\n <sip:ss1.atlanta.example.com;lr>",
        rr,
    ))
}

#[test]
fn strict_router_first_goes_in_the_request_uri() {
    let invite = crlf(F4_INVITE);
    // Reversed, the route set is [strict, p2]: the first hop is strict.
    let ok = ok_with_record_route(
        "Record-Route: <sip:p2.example.com;lr>, <sip:strict.example.com;maddr=192.0.2.9;method=INVITE>",
    );
    let mut d = Dialog::new_uac(&parse(&invite), &parse(&ok), false).unwrap();
    assert_eq!(
        d.route_set().collect::<StdVec<_>>(),
        [
            "sip:strict.example.com;maddr=192.0.2.9;method=INVITE",
            "sip:p2.example.com;lr"
        ]
    );
    let bye = build(|w| {
        d.start_request(w, Method::Bye).unwrap();
    });
    let bye = parse(&bye);
    // RFC 3261 §12.2.1.1: the first route, stripped of `method`, is the
    // Request-URI; the rest follow, then the remote target.
    assert_eq!(
        bye.request_line().unwrap().uri,
        "sip:strict.example.com;maddr=192.0.2.9"
    );
    assert_eq!(
        routes(&bye),
        [
            "sip:p2.example.com;lr",
            "sip:bob@client.biloxi.example.com;transport=tcp"
        ]
    );
}

#[test]
fn loose_router_first_keeps_the_remote_target_as_request_uri() {
    let invite = crlf(F4_INVITE);
    let ok = ok_with_record_route(
        "Record-Route: <sip:strict.example.com>\nRecord-Route: <sip:p1.example.com;lr;transport=tcp>;x=y",
    );
    let mut d = Dialog::new_uac(&parse(&invite), &parse(&ok), false).unwrap();
    let info = build(|w| {
        d.start_request(w, Method::Info).unwrap();
    });
    let info = parse(&info);
    assert_eq!(
        info.request_line().unwrap().uri,
        "sip:bob@client.biloxi.example.com;transport=tcp"
    );
    // The route set in order, URI parameters kept, header parameters not.
    assert_eq!(
        routes(&info),
        [
            "sip:p1.example.com;lr;transport=tcp",
            "sip:strict.example.com"
        ]
    );
    assert_eq!(
        info.header_values(crate::message::HeaderName::Route)
            .count(),
        2
    );
}

#[test]
fn target_refresh_by_request_and_by_2xx() {
    let mut alice = alice_confirmed();
    // Bob's re-INVITE from a new address: Alice accepts it.
    let reinvite = crlf(
        &F20_BYE
            .replace("BYE sip:", "INVITE sip:")
            .replace("CSeq: 1 BYE", "CSeq: 2 INVITE")
            .replace(
                "Max-Forwards: 68",
                "Max-Forwards: 68\nContact: <sip:bob@192.0.2.77;transport=tcp>",
            ),
    );
    let reinvite = parse(&reinvite);
    assert_eq!(alice.check_remote_cseq(&reinvite), Ok(CSeqCheck::InOrder));
    assert_eq!(alice.refresh_remote_target(&reinvite), Ok(true));
    assert_eq!(alice.remote_target(), "sip:bob@192.0.2.77;transport=tcp");
    assert_eq!(alice.refresh_remote_target(&reinvite), Ok(false));

    // An INFO with a Contact is no target refresh.
    let info = crlf(
        &F20_BYE
            .replace("BYE sip:", "INFO sip:")
            .replace("CSeq: 1 BYE", "CSeq: 3 INFO")
            .replace("Max-Forwards: 68", "Contact: <sip:bob@192.0.2.99>"),
    );
    assert_eq!(alice.refresh_remote_target(&parse(&info)), Ok(false));
    assert_eq!(alice.remote_target(), "sip:bob@192.0.2.77;transport=tcp");

    // Alice's own re-INVITE: its 2xx refreshes, a 491 does not.
    let mut seq = 0;
    build(|w| seq = alice.start_request(w, Method::Invite).unwrap());
    assert_eq!(seq, 3);
    let answer = |status: &str| {
        crlf(
            &F14_200
                .replace("200 OK", status)
                .replace("CSeq: 2 INVITE", "CSeq: 3 INVITE")
                .replace("client.biloxi.example.com;transport=tcp", "192.0.2.88"),
        )
    };
    let pending = answer("491 Request Pending");
    assert_eq!(alice.refresh_remote_target(&parse(&pending)), Ok(false));
    let ok = answer("200 OK");
    assert_eq!(alice.refresh_remote_target(&parse(&ok)), Ok(true));
    assert_eq!(alice.remote_target(), "sip:bob@192.0.2.88");

    // A refresh from another dialog, or with an unusable Contact, is an
    // error that leaves the target alone.
    let foreign = crlf(&F20_BYE.replace("tag=314159", "tag=other"));
    assert_eq!(
        alice.refresh_remote_target(&parse(&foreign)),
        Err(DialogError::Mismatch)
    );
    let tel = crlf(
        &F20_BYE
            .replace("BYE sip:", "UPDATE sip:")
            .replace("CSeq: 1 BYE", "CSeq: 4 UPDATE")
            .replace("Max-Forwards: 68", "Contact: <tel:+15550100>"),
    );
    assert_eq!(
        alice.refresh_remote_target(&parse(&tel)),
        Err(DialogError::BadHeader(Field::Contact))
    );
    assert_eq!(alice.remote_target(), "sip:bob@192.0.2.88");
}

#[test]
fn remote_cseq_rules() {
    let mut alice = alice_confirmed();
    let bye = crlf(F20_BYE);
    // Empty remote CSeq: anything is in order (F20 carries 1).
    assert_eq!(
        alice.check_remote_cseq(&parse(&bye)),
        Ok(CSeqCheck::InOrder)
    );
    assert_eq!(alice.remote_cseq(), Some(1));

    assert_eq!(
        alice.check_remote_cseq_number(5, Method::Info),
        CSeqCheck::InOrder
    );
    // Lower: 500, remote CSeq untouched.
    let late = alice.check_remote_cseq_number(4, Method::Info);
    assert_eq!((late, late.refusal()), (CSeqCheck::OutOfOrder, Some(500)));
    assert_eq!(alice.remote_cseq(), Some(5));
    // Equal and gaps are accepted.
    assert_eq!(
        alice.check_remote_cseq_number(5, Method::Info),
        CSeqCheck::InOrder
    );
    assert_eq!(
        alice.check_remote_cseq_number(9, Method::Update),
        CSeqCheck::InOrder
    );
    assert_eq!(alice.remote_cseq(), Some(9));
    // ACK and CANCEL carry their INVITE's number and never move it.
    assert_eq!(
        alice.check_remote_cseq_number(3, Method::Ack),
        CSeqCheck::InOrder
    );
    assert_eq!(
        alice.check_remote_cseq_number(12, Method::Cancel),
        CSeqCheck::InOrder
    );
    assert_eq!(alice.remote_cseq(), Some(9));
    // A request of another dialog is not checked against this one.
    let foreign = crlf(&F20_BYE.replace("tag=314159", "tag=other"));
    assert_eq!(
        alice.check_remote_cseq(&parse(&foreign)),
        Err(DialogError::Mismatch)
    );
}

#[test]
fn local_cseq_rules() {
    let mut bob = bob_early();
    bob.confirm();
    // A UAS's first request starts the local sequence.
    assert_eq!(bob.next_local_cseq(), Ok(1));
    assert_eq!(bob.next_local_cseq(), Ok(2));
    let mut sink = [0u8; 1024];
    let mut w = MessageWriter::new(&mut sink);
    assert_eq!(
        bob.start_request(&mut w, Method::Ack),
        Err(DialogError::NotSequenced)
    );
    assert_eq!(
        bob.start_request(&mut w, Method::Cancel),
        Err(DialogError::NotSequenced)
    );
    assert!(w.written().is_empty());
    assert_eq!(bob.local_cseq(), Some(2));

    // RFC 3261 §8.1.1.5: below 2^31.
    bob.local_cseq = Some((1 << 31) - 2);
    assert_eq!(bob.next_local_cseq(), Ok((1 << 31) - 1));
    assert_eq!(bob.next_local_cseq(), Err(DialogError::CSeqExhausted));
    assert_eq!(
        bob.start_request(&mut w, Method::Bye),
        Err(DialogError::CSeqExhausted)
    );
    assert_eq!(bob.local_cseq(), Some((1 << 31) - 1));

    // A CANCEL of a re-INVITE reuses its number and its routing.
    let mut alice = alice_confirmed();
    let mut seq = 0;
    let reinvite = build(|w| seq = alice.start_request(w, Method::Invite).unwrap());
    let cancel = build(|w| alice.write_cancel(w, seq));
    let (reinvite, cancel) = (parse(&reinvite), parse(&cancel));
    assert_eq!(
        cancel.request_line().unwrap().uri,
        reinvite.request_line().unwrap().uri
    );
    assert_eq!(routes(&cancel), routes(&reinvite));
    let c = cancel.cseq().unwrap().unwrap();
    assert_eq!((c.seq, c.method), (3, Method::Cancel));
    assert_eq!(alice.local_cseq(), Some(3));
}

#[test]
fn classification_gives_481_for_unknown_dialogs() {
    let mut table: DialogTable<4> = DialogTable::new();
    let alice = table.insert(alice_confirmed()).unwrap();
    let bye = crlf(F20_BYE);
    assert_eq!(table.classify(&parse(&bye)), RequestClass::InDialog(alice));
    assert_eq!(table.find(&parse(&bye)), Some(alice));
    // The 200 that created the dialog is found too (From tag ours).
    let ok = crlf(F14_200);
    assert_eq!(table.classify(&parse(&ok)), RequestClass::InDialog(alice));

    for (from, to) in [
        ("tag=314159", "tag=unknown"),
        ("tag=314159", "tag=9FXCED76SL"),
        ("tag=gone", "tag=9fxced76sl"),
    ] {
        let text = F20_BYE
            .replace(
                "Bob <sip:bob@biloxi.example.com>;tag=314159",
                &std::format!("Bob <sip:bob@biloxi.example.com>;{from}"),
            )
            .replace("tag=9fxced76sl", to);
        let stray = crlf(&text);
        assert_eq!(
            table.classify(&parse(&stray)),
            RequestClass::UnknownDialog,
            "{from} {to}"
        );
    }
    let other_call = crlf(&F20_BYE.replace("3848276298220188511@", "1@"));
    assert_eq!(
        table.classify(&parse(&other_call)),
        RequestClass::UnknownDialog
    );
    let no_from_tag = crlf(&F20_BYE.replace(";tag=314159", ""));
    assert_eq!(
        table.classify(&parse(&no_from_tag)),
        RequestClass::UnknownDialog
    );

    let invite = crlf(S31_F1_INVITE);
    assert_eq!(table.classify(&parse(&invite)), RequestClass::OutOfDialog);
    let trying = crlf(
        "
SIP/2.0 100 Trying
Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 2 INVITE
Content-Length: 0
",
    );
    assert_eq!(table.classify(&parse(&trying)), RequestClass::OutOfDialog);

    let broken_to = crlf(&F20_BYE.replace(
        "To: Alice <sip:alice@atlanta.example.com>",
        "To: Alice <sip:alice@atlanta.example.com",
    ));
    assert_eq!(table.classify(&parse(&broken_to)), RequestClass::Malformed);
    let no_call_id =
        crlf(&F20_BYE.replace("Call-ID: 3848276298220188511@atlanta.example.com\n", ""));
    assert_eq!(table.classify(&parse(&no_call_id)), RequestClass::Malformed);
}

#[test]
fn table_full_and_stale_handles() {
    let mut table: DialogTable<2> = DialogTable::new();
    assert!(table.is_empty());
    assert_eq!(table.capacity(), 2);
    let a = table.insert(alice_confirmed()).unwrap();
    let b = table.insert(bob_early()).unwrap();
    assert_eq!(table.len(), 2);
    assert_eq!(table.insert(bob_early()), Err(TableFull));
    assert_eq!(table.len(), 2);

    let removed = table.remove(a).unwrap();
    assert_eq!(removed.role(), Role::Uac);
    assert_eq!(table.len(), 1);
    assert!(table.get(a).is_none());
    assert!(table.remove(a).is_none());

    // The slot is reused; the old handle still finds nothing.
    let c = table.insert(bob_early()).unwrap();
    assert_eq!(c.index(), a.index());
    assert_ne!(c.generation(), a.generation());
    assert!(table.get(a).is_none());
    assert!(table.get_mut(a).is_none());
    assert!(table.remove(a).is_none());
    assert_eq!(table.get(c).map(|d| d.role()), Some(Role::Uas));
    assert_eq!(table.len(), 2);

    // Two dialogs with one identity: a lookup by message still answers.
    assert!(table.find(&parse(&crlf(F20_BYE))).is_none());
    assert!(table.remove(b).is_some());
    assert!(table.remove(c).is_some());
    assert!(table.is_empty());
    assert_eq!(table.iter().count(), 0);

    let mut none: DialogTable<0> = DialogTable::new();
    assert_eq!(none.insert(alice_confirmed()), Err(TableFull));
}

#[test]
fn missing_pieces_are_typed_errors() {
    let invite = crlf(F4_INVITE);
    let invite = parse(&invite);
    let uac = |resp: &str| {
        let bytes = crlf(resp);
        Dialog::new_uac(&invite, &parse(&bytes), false)
    };
    let no_contact = F14_200.replace(
        "Contact: <sip:bob@client.biloxi.example.com;transport=tcp>\n",
        "",
    );
    assert_eq!(uac(&no_contact), Err(DialogError::MissingContact));
    let star = F14_200.replace("<sip:bob@client.biloxi.example.com;transport=tcp>", "*");
    assert_eq!(uac(&star), Err(DialogError::MissingContact));
    let no_tag = F11_180.replace(";tag=314159", "");
    assert_eq!(uac(&no_tag), Err(DialogError::MissingTag(Field::To)));
    let trying = F11_180.replace("180 Ringing", "100 Trying");
    assert_eq!(uac(&trying), Err(DialogError::NotDialogCreating));
    let busy = F11_180.replace("180 Ringing", "486 Busy Here");
    assert_eq!(uac(&busy), Err(DialogError::NotDialogCreating));
    let other_call = F14_200.replace("3848276298220188511@", "9@");
    assert_eq!(uac(&other_call), Err(DialogError::Mismatch));
    let other_cseq = F14_200.replace("CSeq: 2 INVITE", "CSeq: 1 INVITE");
    assert_eq!(uac(&other_cseq), Err(DialogError::Mismatch));
    let other_from = F14_200.replace("tag=9fxced76sl", "tag=zzz");
    assert_eq!(uac(&other_from), Err(DialogError::Mismatch));
    let bad_contact = F14_200.replace(
        "<sip:bob@client.biloxi.example.com;transport=tcp>",
        "<mailto:bob@example.com>",
    );
    assert_eq!(
        uac(&bad_contact),
        Err(DialogError::BadHeader(Field::Contact))
    );
    let bad_rr = F14_200.replace("<sip:ss1.atlanta.example.com;lr>", "<tel:+1555>");
    assert_eq!(
        uac(&bad_rr),
        Err(DialogError::BadHeader(Field::RecordRoute))
    );
    let no_cseq = F14_200.replace("CSeq: 2 INVITE\n", "");
    assert_eq!(uac(&no_cseq), Err(DialogError::MissingHeader(Field::CSeq)));

    let uas = |req: &str, tag: &str, status: u16| {
        let bytes = crlf(req);
        Dialog::new_uas(&parse(&bytes), tag, status, false)
    };
    assert!(uas(F7_INVITE, "t1", 183).is_ok());
    let no_contact = F7_INVITE.replace(
        "Contact: <sip:alice@client.atlanta.example.com;transport=tcp>\n",
        "",
    );
    assert_eq!(
        uas(&no_contact, "t1", 200),
        Err(DialogError::MissingContact)
    );
    let no_from_tag = F7_INVITE.replace(";tag=9fxced76sl", "");
    assert_eq!(
        uas(&no_from_tag, "t1", 200),
        Err(DialogError::MissingTag(Field::From))
    );
    let in_dialog = F7_INVITE.replace(
        "To: Bob <sip:bob@biloxi.example.com>",
        "To: Bob <sip:bob@biloxi.example.com>;tag=1",
    );
    assert_eq!(
        uas(&in_dialog, "t1", 200),
        Err(DialogError::NotDialogCreating)
    );
    assert_eq!(
        uas(F7_INVITE, "t1", 100),
        Err(DialogError::NotDialogCreating)
    );
    assert_eq!(
        uas(F7_INVITE, "t1", 404),
        Err(DialogError::NotDialogCreating)
    );
    assert_eq!(
        uas(F7_INVITE, "", 200),
        Err(DialogError::BadHeader(Field::To))
    );
    assert_eq!(
        uas(F7_INVITE, "a b", 200),
        Err(DialogError::BadHeader(Field::To))
    );
    let options = F7_INVITE
        .replace("INVITE sip:", "OPTIONS sip:")
        .replace("CSeq: 2 INVITE", "CSeq: 2 OPTIONS");
    assert_eq!(
        uas(&options, "t1", 200),
        Err(DialogError::NotDialogCreating)
    );
    let wrong_cseq = F7_INVITE.replace("CSeq: 2 INVITE", "CSeq: 2 BYE");
    assert_eq!(
        uas(&wrong_cseq, "t1", 200),
        Err(DialogError::BadHeader(Field::CSeq))
    );
    // SUBSCRIBE dialogs exist only once confirmed.
    let subscribe = F7_INVITE
        .replace("INVITE sip:", "SUBSCRIBE sip:")
        .replace("CSeq: 2 INVITE", "CSeq: 2 SUBSCRIBE");
    assert_eq!(
        uas(&subscribe, "t1", 180),
        Err(DialogError::NotDialogCreating)
    );
    let sub = uas(&subscribe, "t1", 202).unwrap();
    assert!(!sub.created_by_invite());
}

#[test]
fn overlong_values_are_errors() {
    let invite = crlf(F4_INVITE);
    let invite = parse(&invite);
    let long_call_id = "x".repeat(MAX_CALL_ID + 1);
    let req = crlf(&F7_INVITE.replace("3848276298220188511@atlanta.example.com", &long_call_id));
    assert_eq!(
        Dialog::new_uas(&parse(&req), "t", 200, false),
        Err(DialogError::TooLong(Field::CallId))
    );
    let fits = crlf(&F7_INVITE.replace(
        "3848276298220188511@atlanta.example.com",
        &"x".repeat(MAX_CALL_ID),
    ));
    assert!(Dialog::new_uas(&parse(&fits), "t", 200, false).is_ok());

    let long_tag = "t".repeat(MAX_TAG + 1);
    assert_eq!(
        Dialog::new_uas(&parse(&crlf(F7_INVITE)), &long_tag, 200, false),
        Err(DialogError::TooLong(Field::To))
    );
    let resp = crlf(&F14_200.replace("tag=314159", &std::format!("tag={long_tag}")));
    assert_eq!(
        Dialog::new_uac(&invite, &parse(&resp), false),
        Err(DialogError::TooLong(Field::To))
    );

    let long_host = std::format!("{}.example.com", "h".repeat(MAX_URI));
    let resp = crlf(&F14_200.replace("client.biloxi.example.com", &long_host));
    assert_eq!(
        Dialog::new_uac(&invite, &parse(&resp), false),
        Err(DialogError::TooLong(Field::Contact))
    );
    let resp = crlf(&F14_200.replace("ss1.atlanta.example.com", &long_host));
    assert_eq!(
        Dialog::new_uac(&invite, &parse(&resp), false),
        Err(DialogError::TooLong(Field::RecordRoute))
    );
    let req = crlf(&F7_INVITE.replace(
        "sip:bob@biloxi.example.com>",
        &std::format!("sip:bob@{long_host}>"),
    ));
    assert_eq!(
        Dialog::new_uas(&parse(&req), "t", 200, false),
        Err(DialogError::TooLong(Field::To))
    );

    // MAX_ROUTES fit; one more does not.
    let rr = |n: usize| {
        let list: StdVec<StdString> = (0..n)
            .map(|i| std::format!("<sip:p{i}.example.com;lr>"))
            .collect();
        ok_with_record_route(&std::format!("Record-Route: {}", list.join(", ")))
    };
    let fits = rr(MAX_ROUTES);
    let d = Dialog::new_uac(&invite, &parse(&fits), false).unwrap();
    assert_eq!(d.route_set().count(), MAX_ROUTES);
    assert_eq!(d.route_set().next(), Some("sip:p5.example.com;lr"));
    let over = rr(MAX_ROUTES + 1);
    assert_eq!(
        Dialog::new_uac(&invite, &parse(&over), false),
        Err(DialogError::TooManyRoutes)
    );

    // A display name too long to keep is dropped, not fatal.
    let name = "N".repeat(MAX_DISPLAY_NAME + 1);
    let req = crlf(&F7_INVITE.replace("From: Alice <", &std::format!("From: {name} <")));
    let d = Dialog::new_uas(&parse(&req), "t", 200, false).unwrap();
    assert_eq!(d.remote_display_name(), None);
    assert_eq!(d.local_display_name(), Some("Bob"));
}

#[test]
fn secure_only_for_sips_over_tls() {
    let sips = crlf(&F7_INVITE.replace(
        "INVITE sip:bob@client.biloxi.example.com",
        "INVITE sips:bob@client.biloxi.example.com",
    ));
    assert!(Dialog::new_uas(&parse(&sips), "t", 200, true)
        .unwrap()
        .is_secure());
    assert!(!Dialog::new_uas(&parse(&sips), "t", 200, false)
        .unwrap()
        .is_secure());
    assert!(!Dialog::new_uas(&parse(&crlf(F7_INVITE)), "t", 200, true)
        .unwrap()
        .is_secure());
}

/// The INVITE/200 pair of a call from `caller` to `callee`, with Call-ID
/// `call_id` and tags `ftag` (caller) / `ttag` (callee).
fn call_pair(
    method: &str,
    call_id: &str,
    ftag: &str,
    ttag: &str,
    status: &str,
) -> (StdVec<u8>, StdVec<u8>) {
    let request = std::format!(
        "
{method} sip:carol@192.0.2.30 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.20;branch=z9hG4bK{call_id}
From: <sip:bob@example.com>;tag={ftag}
To: <sip:carol@example.com>
Call-ID: {call_id}
CSeq: 1 {method}
Contact: <sip:bob@192.0.2.20>
Content-Length: 0
"
    );
    let response = std::format!(
        "
SIP/2.0 {status}
Via: SIP/2.0/UDP 192.0.2.20;branch=z9hG4bK{call_id}
From: <sip:bob@example.com>;tag={ftag}
To: <sip:carol@example.com>;tag={ttag}
Call-ID: {call_id}
CSeq: 1 {method}
Contact: <sip:carol@192.0.2.30>
Content-Length: 0
"
    );
    (crlf(&request), crlf(&response))
}

#[test]
fn replaces_matches_to_tag_against_the_local_tag_on_either_side() {
    // Bob called Carol. Bob (UAC) and Carol (UAS) each hold their side.
    let (invite, ok) = call_pair(
        "INVITE",
        "consult@192.0.2.20",
        "bobtag",
        "caroltag",
        "200 OK",
    );
    let bob = Dialog::new_uac(&parse(&invite), &parse(&ok), false).unwrap();
    let carol = Dialog::new_uas(&parse(&invite), "caroltag", 200, false).unwrap();

    let mut bob_table: DialogTable<2> = DialogTable::new();
    let mut carol_table: DialogTable<2> = DialogTable::new();
    let bh = bob_table.insert(bob.clone()).unwrap();
    let ch = carol_table.insert(carol.clone()).unwrap();

    // Bob refers a transferee to Carol: the Refer-To the transferee turns
    // into INVITE Carol + Replaces. Carol finds her dialog.
    let mut buf = [0u8; 256];
    let n = bob.refer_to_replaces(false).write(&mut buf).unwrap();
    let text = core::str::from_utf8(&buf[..n]).unwrap();
    assert!(
        text.starts_with("<sip:carol@192.0.2.30?Replaces="),
        "{text}"
    );
    let refer_to = ReferTo::parse(text).unwrap();
    let mut decoded = [0u8; 128];
    let replaces = refer_to.replaces(&mut decoded).unwrap().unwrap();
    assert_eq!((replaces.to_tag, replaces.from_tag), ("caroltag", "bobtag"));
    assert_eq!(carol_table.find_replaces(&replaces), Some(ch));
    assert_eq!(
        carol_table.replaces_verdict(&replaces, false),
        ReplacesVerdict::ReplaceConfirmed(ch)
    );
    // The same header does not name Bob's side of the dialog.
    assert_eq!(bob_table.find_replaces(&replaces), None);

    // Carol refers to Bob the other way round: Bob, the dialog's UAC,
    // compares to-tag with his local tag (the From tag of his INVITE).
    let n = carol.refer_to_replaces(true).write(&mut buf).unwrap();
    let refer_to = ReferTo::parse(core::str::from_utf8(&buf[..n]).unwrap()).unwrap();
    let replaces = refer_to.replaces(&mut decoded).unwrap().unwrap();
    assert_eq!((replaces.to_tag, replaces.from_tag), ("bobtag", "caroltag"));
    assert_eq!(bob_table.find_replaces(&replaces), Some(bh));
    // early-only against a confirmed dialog: 486.
    assert_eq!(
        bob_table.replaces_verdict(&replaces, false),
        ReplacesVerdict::Refuse(486)
    );

    // Two dialogs with the same identity: as if none matched.
    carol_table.insert(carol).unwrap();
    let r = Replaces::parse("consult@192.0.2.20;to-tag=caroltag;from-tag=bobtag").unwrap();
    assert_eq!(carol_table.find_replaces(&r), None);
    assert_eq!(
        carol_table.replaces_verdict(&r, true),
        ReplacesVerdict::Refuse(481)
    );
}

#[test]
fn replaces_verdicts_follow_rfc3891() {
    let (invite, ringing) = call_pair("INVITE", "early@x", "ours", "theirs", "180 Ringing");
    let mut table: DialogTable<4> = DialogTable::new();
    // We called and it rings there: replaceable, we CANCEL ours.
    let outgoing = table
        .insert(Dialog::new_uac(&parse(&invite), &parse(&ringing), false).unwrap())
        .unwrap();
    let r = Replaces::parse("early@x;to-tag=ours;from-tag=theirs;early-only").unwrap();
    assert_eq!(
        table.replaces_verdict(&r, false),
        ReplacesVerdict::ReplaceOutgoingEarly(outgoing)
    );
    // Swapped tags name no dialog.
    let swapped = Replaces::parse("early@x;to-tag=theirs;from-tag=ours").unwrap();
    assert_eq!(
        table.replaces_verdict(&swapped, true),
        ReplacesVerdict::Refuse(481)
    );

    // We are ringing: 481 unless the policy allows it.
    let (invite2, _) = call_pair("INVITE", "ringing@x", "caller", "unused", "180 Ringing");
    let incoming = table
        .insert(Dialog::new_uas(&parse(&invite2), "me", 180, false).unwrap())
        .unwrap();
    let r = Replaces::parse("ringing@x;to-tag=me;from-tag=caller").unwrap();
    assert_eq!(
        table.replaces_verdict(&r, false),
        ReplacesVerdict::Refuse(481)
    );
    assert_eq!(
        table.replaces_verdict(&r, true),
        ReplacesVerdict::ReplaceIncomingEarly(incoming)
    );
    // Once answered it is an ordinary confirmed dialog.
    table.get_mut(incoming).unwrap().confirm();
    assert_eq!(
        table.replaces_verdict(&r, false),
        ReplacesVerdict::ReplaceConfirmed(incoming)
    );

    // A SUBSCRIBE dialog is never replaced.
    let (sub, accepted) = call_pair("SUBSCRIBE", "sub@x", "s1", "s2", "202 Accepted");
    let s = table
        .insert(Dialog::new_uac(&parse(&sub), &parse(&accepted), false).unwrap())
        .unwrap();
    let r = Replaces::parse("sub@x;to-tag=s1;from-tag=s2").unwrap();
    assert_eq!(table.find_replaces(&r), Some(s));
    assert_eq!(
        table.replaces_verdict(&r, false),
        ReplacesVerdict::Refuse(481)
    );

    // A dialog that ended (slot freed) is gone for Replaces too.
    table.remove(outgoing).unwrap();
    let r = Replaces::parse("early@x;to-tag=ours;from-tag=theirs").unwrap();
    assert_eq!(
        table.replaces_verdict(&r, false),
        ReplacesVerdict::Refuse(481)
    );
}

#[test]
fn writing_into_any_buffer_size_never_panics_or_truncates() {
    let mut alice = alice_confirmed();
    let whole = build(|w| alice.write_request(w, Method::Bye, 7));
    for size in 0..whole.len() + 8 {
        let mut buf = std::vec![0u8; size];
        let mut w = MessageWriter::new(&mut buf);
        alice.write_request(&mut w, Method::Bye, 7);
        w.header(
            "Via",
            "SIP/2.0/TCP client.example.com:5060;branch=z9hG4bKtest",
        );
        w.header("Max-Forwards", "70");
        match w.finish(None, b"") {
            Ok(n) => assert_eq!(&buf[..n], &whole[..]),
            Err(_) => assert!(size < whole.len()),
        }
    }
    // start_request with a tiny buffer still takes its number.
    let mut tiny = [0u8; 4];
    let mut w = MessageWriter::new(&mut tiny);
    assert_eq!(alice.start_request(&mut w, Method::Bye), Ok(3));
    assert!(w.overflowed());
}

/// A small deterministic generator for the robustness test.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Runs every entry point on `m`; none may panic.
fn exercise(m: &Message<'_>, others: &[Message<'_>], table: &mut DialogTable<4>) {
    let _ = table.classify(m);
    let _ = table.find(m);
    for other in others {
        if let Ok(d) = Dialog::new_uac(other, m, false) {
            let _ = table.insert(d);
        }
        if let Ok(d) = Dialog::new_uac(m, other, true) {
            let _ = table.insert(d);
        }
    }
    if let Ok(d) = Dialog::new_uas(m, "t", 200, false) {
        let _ = table.insert(d);
    }
    let _ = Dialog::new_uas(m, "t", 180, true);
    let handles: StdVec<DialogHandle> = table.iter().map(|(h, _)| h).collect();
    for h in handles {
        let Some(d) = table.get_mut(h) else { continue };
        let _ = d.confirm_with_response(m);
        let _ = d.refresh_remote_target(m);
        let _ = d.check_remote_cseq(m);
        let mut buf = [0u8; 700];
        let mut w = MessageWriter::new(&mut buf);
        let _ = d.start_request(&mut w, Method::Update);
        if let Ok(n) = w.finish(None, b"") {
            // What the dialog writes always parses again.
            Message::parse_datagram(&buf[..n]).expect("written request parses");
        }
    }
    if let Some(Ok(r)) = m.header_by_name("Replaces").map(Replaces::parse) {
        let _ = table.replaces_verdict(&r, true);
    }
    // Keep the table from filling up for good.
    if table.len() == 4 {
        let first = table.iter().next().map(|(h, _)| h);
        if let Some(h) = first {
            table.remove(h);
        }
    }
}

#[test]
fn malformed_inputs_never_panic() {
    let bases: StdVec<StdVec<u8>> = [
        F4_INVITE,
        F11_180,
        F14_200,
        F7_INVITE,
        F20_BYE,
        S31_F1_INVITE,
        S31_F3_200,
    ]
    .iter()
    .map(|t| crlf(t))
    .collect();
    let parsed: StdVec<Message<'_>> = bases.iter().map(|b| parse(b)).collect();
    let mut table: DialogTable<4> = DialogTable::new();
    let mut rng = Lcg(0x5eed);
    let alphabet = b"<>;,:@=?\"\\ \r\n\t%*tag=lrxyz019";
    let mut parsed_count = 0;
    for round in 0..6000 {
        let base = &bases[round % bases.len()];
        let mut bytes = base.clone();
        match rng.next() % 4 {
            0 => {
                let cut = (rng.next() as usize) % (bytes.len() + 1);
                bytes.truncate(cut);
            }
            1 => {
                for _ in 0..1 + rng.next() % 4 {
                    let i = (rng.next() as usize) % bytes.len();
                    bytes[i] = alphabet[(rng.next() as usize) % alphabet.len()];
                }
            }
            2 => {
                let i = (rng.next() as usize) % bytes.len();
                let n = (rng.next() as usize) % 300;
                let filler = alphabet[(rng.next() as usize) % alphabet.len()];
                bytes.splice(i..i, core::iter::repeat_n(filler, n));
            }
            _ => {
                let i = (rng.next() as usize) % bytes.len();
                let j = (i + (rng.next() as usize) % 40).min(bytes.len());
                bytes.drain(i..j);
            }
        }
        if let Ok(m) = Message::parse_datagram(&bytes) {
            parsed_count += 1;
            exercise(&m, &parsed, &mut table);
        }
    }
    // The mutations must have reached the dialog code, not just the parser.
    assert!(parsed_count > 1000, "only {parsed_count} mutants parsed");
}

#[test]
fn a_dialog_stays_within_its_size_budget() {
    let size = core::mem::size_of::<Dialog>();
    // The text budget, plus its spans, CSeq numbers and flags.
    assert!(size >= MAX_DIALOG_TEXT, "{size}");
    assert!(size <= DIALOG_SIZE_BUDGET, "{size}");
    assert!(core::mem::size_of::<DialogTable<4>>() <= 4 * (DIALOG_SIZE_BUDGET + 16));
    // The longest value of each field still fits alone, and so does a
    // route set of four proxies with long parameters next to long values.
    let longest = MAX_CALL_ID + 2 * MAX_TAG + 3 * 120 + 4 * 100;
    assert!(longest <= MAX_DIALOG_TEXT, "{longest}");
}

/// A dialog's values, seen from our side, rendered into the messages
/// that create it on either side.
#[derive(Clone, Debug)]
struct DialogText {
    call_id: StdString,
    local_tag: StdString,
    remote_tag: StdString,
    local_uri: StdString,
    remote_uri: StdString,
    local_name: Option<StdString>,
    remote_name: Option<StdString>,
    /// The route set in the dialog's order (first hop first).
    routes: StdVec<StdString>,
    target: StdString,
}

/// `name <uri>;tag=tag`, the name and tag when given.
fn name_addr(name: &Option<StdString>, uri: &str, tag: Option<&str>) -> StdString {
    let mut s = StdString::new();
    if let Some(name) = name {
        s.push_str(name);
        s.push(' ');
    }
    s.push_str(&std::format!("<{uri}>"));
    if let Some(tag) = tag {
        s.push_str(&std::format!(";tag={tag}"));
    }
    s
}

impl DialogText {
    /// Short values of a dialog through one proxy.
    fn short() -> DialogText {
        DialogText {
            call_id: "c1@192.0.2.1".into(),
            local_tag: "lt1".into(),
            remote_tag: "rt1".into(),
            local_uri: "sip:alice@example.com".into(),
            remote_uri: "sip:bob@example.com".into(),
            local_name: None,
            remote_name: None,
            routes: std::vec!["sip:p0.example.com;lr".into()],
            target: "sip:bob@192.0.2.4".into(),
        }
    }

    /// Bytes of text the dialog keeps, display names left out.
    fn len(&self) -> usize {
        self.call_id.len()
            + self.local_tag.len()
            + self.remote_tag.len()
            + self.local_uri.len()
            + self.remote_uri.len()
            + self.routes.iter().map(|r| r.len()).sum::<usize>()
            + self.target.len()
    }

    /// The INVITE the peer sends us; we answer it with our local tag.
    fn uas(&self) -> Result<Dialog, DialogError> {
        let mut t = StdString::from(
            "INVITE sip:alice@192.0.2.1 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKb1\n",
        );
        for r in &self.routes {
            t.push_str(&std::format!("Record-Route: <{r}>\n"));
        }
        let from = name_addr(&self.remote_name, &self.remote_uri, Some(&self.remote_tag));
        let to = name_addr(&self.local_name, &self.local_uri, None);
        t.push_str(&std::format!(
            "From: {from}\nTo: {to}\nCall-ID: {}\nCSeq: 1 INVITE\nContact: <{}>\nContent-Length: 0\n",
            self.call_id, self.target
        ));
        Dialog::new_uas(&parse(&crlf(&t)), &self.local_tag, 200, false)
    }

    /// Our INVITE and the peer's 200 to it (Record-Route reversed).
    fn uac(&self) -> Result<Dialog, DialogError> {
        let from = name_addr(&self.local_name, &self.local_uri, Some(&self.local_tag));
        let to = name_addr(&self.remote_name, &self.remote_uri, None);
        let invite = std::format!(
            "INVITE {} SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa1\nFrom: {from}\nTo: {to}\n\
             Call-ID: {}\nCSeq: 1 INVITE\nContact: <sip:alice@192.0.2.1>\nContent-Length: 0\n",
            self.remote_uri, self.call_id
        );
        let mut ok =
            StdString::from("SIP/2.0 200 OK\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa1\n");
        for r in self.routes.iter().rev() {
            ok.push_str(&std::format!("Record-Route: <{r}>\n"));
        }
        let to = name_addr(&self.remote_name, &self.remote_uri, Some(&self.remote_tag));
        ok.push_str(&std::format!(
            "From: {from}\nTo: {to}\nCall-ID: {}\nCSeq: 1 INVITE\nContact: <{}>\nContent-Length: 0\n",
            self.call_id, self.target
        ));
        Dialog::new_uac(&parse(&crlf(&invite)), &parse(&crlf(&ok)), false)
    }

    /// Whether `d` holds exactly these values.
    fn check(&self, d: &Dialog) {
        assert_eq!(d.call_id(), self.call_id);
        assert_eq!(d.local_tag(), self.local_tag);
        assert_eq!(d.remote_tag(), self.remote_tag);
        assert_eq!(d.local_uri(), self.local_uri);
        assert_eq!(d.remote_uri(), self.remote_uri);
        assert_eq!(d.local_display_name(), self.local_name.as_deref());
        assert_eq!(d.remote_display_name(), self.remote_name.as_deref());
        assert_eq!(d.route_set().collect::<StdVec<_>>(), self.routes);
        assert_eq!(d.remote_target(), self.target);
        let id = d.id();
        assert_eq!(id.key(), d.key());
        assert!(d.matches_key(&id.key()));
    }
}

/// `uri` with `n` more bytes in its user part (or a user part of `n`
/// bytes before its host).
fn longer_uri(uri: &str, n: usize) -> StdString {
    let fill = "u".repeat(n);
    match uri.find('@') {
        Some(at) => std::format!("{}{fill}{}", &uri[..at], &uri[at..]),
        None => uri.replacen(':', &std::format!(":{fill}@"), 1),
    }
}

/// Short values with long routes added, so that the text is `room` bytes
/// short of [`MAX_DIALOG_TEXT`]: four proxies, each route within
/// [`MAX_URI`].
fn nearly_full(room: usize) -> DialogText {
    let mut v = DialogText::short();
    v.routes.clear();
    let mut left = MAX_DIALOG_TEXT - room - v.len();
    for i in 0..4 {
        let uri = std::format!("sip:p{i}.example.com;lr");
        let share = if i == 3 { left } else { left / (4 - i) };
        v.routes.push(longer_uri(&uri, share - uri.len() - 1));
        left -= share;
    }
    assert_eq!(v.len(), MAX_DIALOG_TEXT - room);
    assert!(v.routes.iter().all(|r| r.len() <= MAX_URI));
    v
}

/// Each way of making one value `n` bytes longer, by name.
/// Makes one value of a dialog's text longer by the given bytes.
type Grow = fn(&mut DialogText, usize);

const GROW: [(&str, Grow); 7] = [
    ("Call-ID", |v, n| v.call_id.push_str(&"x".repeat(n))),
    ("local tag", |v, n| v.local_tag.push_str(&"t".repeat(n))),
    ("remote tag", |v, n| v.remote_tag.push_str(&"t".repeat(n))),
    ("local URI", |v, n| {
        v.local_uri = longer_uri(&v.local_uri, n)
    }),
    ("remote URI", |v, n| {
        v.remote_uri = longer_uri(&v.remote_uri, n)
    }),
    ("remote target", |v, n| v.target = longer_uri(&v.target, n)),
    ("route set", |v, n| {
        let last = v.routes.pop().unwrap();
        v.routes.push(longer_uri(&last, n));
    }),
];

#[test]
fn every_value_counts_against_the_text_budget() {
    const ROOM: usize = 20;
    for (name, grow) in GROW {
        for side in ["uas", "uac"] {
            let build = |v: &DialogText| if side == "uas" { v.uas() } else { v.uac() };
            // Exactly full: every value kept as it came.
            let mut fits = nearly_full(ROOM);
            grow(&mut fits, ROOM);
            assert_eq!(fits.len(), MAX_DIALOG_TEXT, "{name}");
            let d = build(&fits).unwrap_or_else(|e| panic!("{name} ({side}): {e}"));
            fits.check(&d);
            // One byte over: refused, whichever value holds the byte.
            let mut over = nearly_full(ROOM);
            grow(&mut over, ROOM + 1);
            assert_eq!(build(&over), Err(DialogError::NoRoom), "{name} ({side})");
        }
    }
}

#[test]
fn display_names_are_kept_only_in_the_room_left() {
    for side in ["uas", "uac"] {
        let build = |v: &DialogText| if side == "uas" { v.uas() } else { v.uac() };
        // Both names exactly fill what the other values leave.
        let mut v = nearly_full(20);
        v.local_name = Some("L".repeat(8));
        v.remote_name = Some("R".repeat(12));
        v.check(&build(&v).unwrap());
        // One byte more in the peer's name: it is dropped, ours stays.
        v.remote_name = Some("R".repeat(13));
        let d = build(&v).unwrap();
        assert_eq!(d.remote_display_name(), None, "{side}");
        assert_eq!(d.local_display_name(), Some("LLLLLLLL"));
        // Ours alone exactly fills the room; one byte more and it is
        // dropped, leaving the room to the peer's.
        v.local_name = Some("L".repeat(20));
        v.remote_name = Some("R".into());
        let d = build(&v).unwrap();
        assert_eq!(d.local_display_name(), v.local_name.as_deref(), "{side}");
        assert_eq!(d.remote_display_name(), None, "{side}");
        v.local_name = Some("L".repeat(21));
        v.remote_name = Some("R".repeat(11));
        let d = build(&v).unwrap();
        assert_eq!(d.local_display_name(), None, "{side}");
        assert_eq!(d.remote_display_name(), Some("RRRRRRRRRRR"));
        // Either way the dialog's wire values are whole.
        assert_eq!(d.route_set().count(), 4);
        assert_eq!(d.remote_target(), v.target);
    }
}

#[test]
fn a_new_remote_target_must_fit_the_room_left() {
    let v = nearly_full(20);
    let mut d = v.uac().unwrap();
    let refresh = |target: &str| {
        crlf(&std::format!(
            "INVITE sip:alice@192.0.2.1 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKr1\n\
             From: <{}>;tag={}\nTo: <{}>;tag={}\nCall-ID: {}\nCSeq: 5 INVITE\n\
             Contact: <{target}>\nContent-Length: 0\n",
            v.remote_uri,
            v.remote_tag,
            v.local_uri,
            v.local_tag,
            v.call_id
        ))
    };
    // One byte over: refused, the dialog unchanged.
    let over = longer_uri(&v.target, 21);
    assert_eq!(
        d.refresh_remote_target(&parse(&refresh(&over))),
        Err(DialogError::NoRoom)
    );
    v.check(&d);
    // Exactly full: taken.
    let full = longer_uri(&v.target, 20);
    assert_eq!(d.refresh_remote_target(&parse(&refresh(&full))), Ok(true));
    assert_eq!(d.remote_target(), full);
    // A shorter one frees the room again.
    assert_eq!(
        d.refresh_remote_target(&parse(&refresh("sip:b@h"))),
        Ok(true)
    );
    let mut expect = v.clone();
    expect.target = "sip:b@h".into();
    expect.check(&d);
    assert_eq!(d.refresh_remote_target(&parse(&refresh(&full))), Ok(true));
    assert_eq!(d.remote_target(), full);
    assert_eq!(d.call_id(), v.call_id);
    assert_eq!(d.route_set().count(), 4);
}

#[test]
fn the_route_set_of_a_2xx_must_fit_the_room_left() {
    // An early dialog through one short route, then a 2xx (another fork
    // or a proxy that record-routes more) with a longer route set.
    let early = DialogText::short();
    let mut full = nearly_full(0);
    full.local_name = None;
    let invite =
        |v: &DialogText| {
            crlf(&std::format!(
            "INVITE {} SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa1\nFrom: <{}>;tag={}\n\
             To: <{}>\nCall-ID: {}\nCSeq: 1 INVITE\nContact: <sip:alice@192.0.2.1>\n\
             Content-Length: 0\n",
            v.remote_uri, v.local_uri, v.local_tag, v.remote_uri, v.call_id
        ))
        };
    let answer = |v: &DialogText, status: &str| {
        let mut t = std::format!("SIP/2.0 {status}\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa1\n");
        for r in v.routes.iter().rev() {
            t.push_str(&std::format!("Record-Route: <{r}>\n"));
        }
        t.push_str(&std::format!(
            "From: <{}>;tag={}\nTo: <{}>;tag={}\nCall-ID: {}\nCSeq: 1 INVITE\n\
             Contact: <{}>\nContent-Length: 0\n",
            v.local_uri,
            v.local_tag,
            v.remote_uri,
            v.remote_tag,
            v.call_id,
            v.target
        ));
        crlf(&t)
    };
    let invite = invite(&early);
    let mut d = Dialog::new_uac(
        &parse(&invite),
        &parse(&answer(&early, "180 Ringing")),
        false,
    )
    .unwrap();
    // The 2xx's values fill the text exactly with the early dialog's
    // Call-ID, tags and URIs; one byte more in a route does not fit.
    let mut over = full.clone();
    over.call_id = early.call_id.clone();
    over.local_tag = early.local_tag.clone();
    over.remote_tag = early.remote_tag.clone();
    over.local_uri = early.local_uri.clone();
    over.remote_uri = early.remote_uri.clone();
    assert_eq!(over.len(), MAX_DIALOG_TEXT);
    let mut exact = over.clone();
    let last = over.routes.pop().unwrap();
    over.routes.push(longer_uri(&last, 1));
    assert_eq!(
        d.confirm_with_response(&parse(&answer(&over, "200 OK"))),
        Err(DialogError::NoRoom)
    );
    assert_eq!(d.state(), DialogState::Early);
    early.check(&d);
    assert_eq!(
        d.confirm_with_response(&parse(&answer(&exact, "200 OK"))),
        Ok(())
    );
    assert_eq!(d.state(), DialogState::Confirmed);
    exact.local_name = None;
    exact.check(&d);
}
