//! Transfer in all three roles, with phones wired to each other directly
//! (no proxy): requests go by the Request-URI's IP host.

extern crate std;

use std::string::{String, ToString};
use std::vec::Vec;

use core::net::SocketAddr;

use crate::message::{Message, ReferTo, ReferToReplaces};
use crate::phone::test_support::{self, addr, header, Datagram};
use crate::phone::{Command, Config, EndReason, Event, Input, Phone};
use crate::time::Duration;
use crate::transfer::{TransferConfig, TransferPolicy};

/// Three phones and the wire between them; time moves only when asked.
type Net = test_support::Net<4, 16>;

const A: usize = 0;
const B: usize = 1;
const C: usize = 2;
const BOB: &str = "sip:bob@10.0.0.2:5060";
const CAROL: &str = "sip:carol@10.0.0.3:5060";

/// Alice (A), Bob (B) and Carol (C), each with the transfer settings
/// `configure` makes of the defaults.
fn three_phones(configure: impl Fn(usize, &mut TransferConfig)) -> Net {
    let users = ["alice", "bob", "carol"];
    let phones = (0..3)
        .map(|i| {
            let mut config = Config::new(users[i], "example.com", addr(i)).unwrap();
            configure(i, &mut config.transfer);
            Phone::new(config, 100 + i as u64)
        })
        .collect();
    Net::new(phones)
}

#[test]
fn blind_transfer_end_to_end() {
    let mut net = three_phones(|_, _| {});
    let (a_b, b_a) = net.call(A, B, BOB);
    net.command(
        B,
        Command::Transfer {
            call: b_a,
            to: CAROL,
        },
    );
    net.run(Duration::from_millis(100));
    // B hung up at the 202; A took the BYE.
    assert!(net.saw(B, |e| *e
        == Event::TransferProgress {
            call: b_a,
            status: 202
        }));
    assert!(net.saw(B, |e| *e
        == Event::Ended {
            call: b_a,
            reason: EndReason::LocalHangup
        }));
    assert!(net.saw(
        A,
        |e| matches!(*e, Event::Ended { call, .. } if call == a_b)
    ));
    let c_call = net.last_call(C);
    net.command(C, Command::Answer(c_call));
    net.run(Duration::from_secs(40));
    let invites = net.between(A, C, "INVITE ");
    let invite = invites.first().expect("A's INVITE to C");
    let refer = &net.between(B, A, "REFER ")[0];
    // A new Call-ID, and the REFER's Referred-By carried over (RFC 3892).
    assert_ne!(header(invite, "Call-ID"), header(refer, "Call-ID"));
    assert_eq!(header(invite, "Referred-By"), Some("<sip:bob@example.com>"));
    assert_eq!(header(refer, "Refer-To"), Some("<sip:carol@10.0.0.3:5060>"));
    assert!(header(invite, "Replaces").is_none());
    // A's reports reach a B that no longer knows the dialog: 481, and the
    // subscription (and the dialog it kept) is over.
    let notifies = net.between(A, B, "NOTIFY ");
    assert!(!notifies.is_empty());
    assert_eq!(header(&notifies[0], "Event"), Some("refer"));
    assert_eq!(
        header(&notifies[0], "Content-Type"),
        Some("message/sipfrag;version=2.0")
    );
    assert!(net.between(B, A, "SIP/2.0 481").len() == notifies.len());
    assert_eq!(net.phones[A].live_calls().count(), 1);
    assert_eq!(net.phones[A].dialogs_in_use(), 1);
    assert_eq!(net.phones[B].live_calls().count(), 0);
    assert_eq!(net.phones[B].dialogs_in_use(), 0);
    assert!(!net.saw(B, |e| matches!(e, Event::TransferFailed { .. })));
}

#[test]
fn transfer_kept_until_success_reports_trying_then_ok() {
    let mut net = three_phones(|i, t| {
        if i == B {
            t.release_on_accept = false;
        }
    });
    let (_, b_a) = net.call(A, B, BOB);
    net.command(
        B,
        Command::Transfer {
            call: b_a,
            to: CAROL,
        },
    );
    net.run(Duration::from_secs(2));
    let c_call = net.last_call(C);
    net.command(C, Command::Answer(c_call));
    net.run(Duration::from_secs(1));
    let notifies = net.between(A, B, "NOTIFY ");
    assert_eq!(notifies.len(), 2, "{notifies:?}");
    assert!(notifies[0].ends_with("SIP/2.0 100 Trying\r\n"));
    assert!(header(&notifies[0], "Subscription-State")
        .unwrap()
        .starts_with("active;expires="));
    assert!(notifies[1].ends_with("SIP/2.0 200 OK\r\n"));
    assert_eq!(
        header(&notifies[1], "Subscription-State"),
        Some("terminated;reason=noresource")
    );
    assert!(net.saw(B, |e| *e
        == Event::TransferProgress {
            call: b_a,
            status: 100
        }));
    assert!(net.saw(B, |e| *e == Event::TransferSucceeded { call: b_a }));
    // RFC 5589 §6.1: the transferor ends its call on success.
    assert_eq!(net.phones[B].live_calls().count(), 0);
    net.run(Duration::from_secs(40));
    assert_eq!(net.phones[A].live_calls().count(), 1);
    assert_eq!(net.phones[A].dialogs_in_use(), 1);
    assert_eq!(net.phones[B].dialogs_in_use(), 0);
}

#[test]
fn busy_target_is_reported_and_the_call_stays_for_resume() {
    let mut net = three_phones(|i, t| {
        if i == B {
            t.release_on_accept = false;
        }
    });
    let (a_b, b_a) = net.call(A, B, BOB);
    net.command(B, Command::Hold(b_a));
    net.run(Duration::from_millis(10));
    net.command(
        B,
        Command::Transfer {
            call: b_a,
            to: CAROL,
        },
    );
    net.run(Duration::from_secs(2));
    let c_call = net.last_call(C);
    net.command(
        C,
        Command::Reject {
            call: c_call,
            code: 486,
        },
    );
    net.run(Duration::from_millis(10));
    assert!(net.saw(B, |e| *e
        == Event::TransferFailed {
            call: b_a,
            code: 486
        }));
    assert!(net
        .between(A, B, "NOTIFY ")
        .last()
        .unwrap()
        .ends_with("SIP/2.0 486 Busy Here\r\n"));
    // Both ends keep the call; B takes it off hold.
    assert_eq!(net.phones[A].live_calls().collect::<Vec<_>>(), [a_b]);
    net.command(B, Command::Resume(b_a));
    net.run(Duration::from_millis(10));
    assert!(net.saw(B, |e| *e == Event::Resumed(b_a)));
}

#[test]
fn refer_sub_false_is_honoured() {
    let mut net = three_phones(|i, t| {
        if i == B {
            t.refer_sub = false;
        }
    });
    let (_, b_a) = net.call(A, B, BOB);
    net.command(
        B,
        Command::Transfer {
            call: b_a,
            to: CAROL,
        },
    );
    net.run(Duration::from_secs(2));
    let refer = &net.between(B, A, "REFER ")[0];
    assert_eq!(header(refer, "Refer-Sub"), Some("false"));
    let accepted = &net.between(A, B, "SIP/2.0 202")[0];
    assert_eq!(header(accepted, "Refer-Sub"), Some("false"));
    let c_call = net.last_call(C);
    net.command(C, Command::Answer(c_call));
    net.run(Duration::from_secs(40));
    assert!(net.between(A, B, "NOTIFY ").is_empty());
    assert_eq!(net.phones[A].live_calls().count(), 1);
    assert_eq!(net.phones[A].dialogs_in_use(), 1);
}

#[test]
fn consent_refused_by_user_by_timeout_and_by_policy() {
    // The user refuses.
    let mut net = three_phones(|i, t| {
        if i == A {
            t.policy = TransferPolicy::Ask;
        }
    });
    let (a_b, b_a) = net.call(A, B, BOB);
    net.command(
        B,
        Command::Transfer {
            call: b_a,
            to: CAROL,
        },
    );
    net.run(Duration::from_millis(600));
    assert!(net.saw(A, |e| *e == Event::TransferRequested { call: a_b }));
    assert_eq!(
        net.phones[A].transfer_target(a_b),
        Some("<sip:carol@10.0.0.3:5060>")
    );
    // Retransmissions of the REFER meanwhile got no answer at all.
    assert!(net.between(A, B, "SIP/2.0").is_empty());
    net.command(A, Command::RefuseTransfer(a_b));
    net.run(Duration::from_millis(10));
    assert!(net.saw(B, |e| *e
        == Event::TransferFailed {
            call: b_a,
            code: 603
        }));
    assert_eq!(net.phones[B].live_calls().count(), 1);
    assert!(net.between(A, C, "INVITE").is_empty());
    // A second answer finds nothing to answer.
    net.command(A, Command::AcceptTransfer(a_b));
    assert!(net.saw(A, |e| matches!(e, Event::CommandFailed(_))));

    // Nobody answers the question: refused after the consent timeout.
    let mut net = three_phones(|i, t| {
        if i == A {
            t.policy = TransferPolicy::Ask;
        }
    });
    let (_, b_a) = net.call(A, B, BOB);
    net.command(
        B,
        Command::Transfer {
            call: b_a,
            to: CAROL,
        },
    );
    net.run(Duration::from_secs(19));
    assert!(!net.saw(B, |e| matches!(e, Event::TransferFailed { .. })));
    // The REFER waits in a buffer of the pool, the only one lent.
    assert_eq!(net.phones[A].buffers_in_use(), 1);
    net.run(Duration::from_secs(2));
    assert!(net.saw(B, |e| *e
        == Event::TransferFailed {
            call: b_a,
            code: 603
        }));
    // Given back: once the 603's Timer J ran out, nothing is lent.
    net.run(Duration::from_secs(40));
    assert_eq!(net.phones[A].buffers_in_use(), 0);

    // Policy refuses at once.
    let mut net = three_phones(|i, t| {
        if i == A {
            t.policy = TransferPolicy::RefuseAll;
        }
    });
    let (_, b_a) = net.call(A, B, BOB);
    net.command(
        B,
        Command::Transfer {
            call: b_a,
            to: CAROL,
        },
    );
    net.run(Duration::from_millis(10));
    assert!(net.saw(B, |e| *e
        == Event::TransferFailed {
            call: b_a,
            code: 603
        }));
    assert!(!net.saw(A, |e| matches!(e, Event::TransferRequested { .. })));
}

#[test]
fn user_accepts_the_transfer() {
    let mut net = three_phones(|i, t| {
        if i == A {
            t.policy = TransferPolicy::Ask;
        }
    });
    let (a_b, b_a) = net.call(A, B, BOB);
    net.command(
        B,
        Command::Transfer {
            call: b_a,
            to: CAROL,
        },
    );
    net.run(Duration::from_millis(10));
    net.command(A, Command::AcceptTransfer(a_b));
    net.run(Duration::from_secs(2));
    assert!(net.saw(B, |e| *e
        == Event::TransferProgress {
            call: b_a,
            status: 202
        }));
    assert_eq!(net.between(A, C, "INVITE ").len(), 1);
}

fn raw_request(lines: &[&str]) -> Vec<u8> {
    raw_request_with(lines, "")
}

fn raw_request_with(lines: &[&str], sdp: &str) -> Vec<u8> {
    let mut s = String::new();
    for l in lines {
        s.push_str(l);
        s.push_str("\r\n");
    }
    if !sdp.is_empty() {
        s.push_str("Content-Type: application/sdp\r\n");
    }
    s.push_str(&std::format!("Content-Length: {}\r\n\r\n{sdp}", sdp.len()));
    s.into_bytes()
}

/// An audio offer from 10.0.0.9.
const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\n\
    m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// Feeds `data` to phone `i` from 10.0.0.9 and returns the status of its
/// answer.
fn answer_to(net: &mut Net, i: usize, data: &[u8]) -> u16 {
    let from = SocketAddr::from(([10, 0, 0, 9], 5060));
    net.phones[i]
        .handle_input(
            net.now,
            Input::Datagram {
                from,
                to: addr(i),
                data,
            },
        )
        .ok();
    net.drain(i);
    let mut status = 0;
    while let Some(d) = net.wire.pop_front() {
        if d.to == from {
            let m = Message::parse_datagram(&d.data).unwrap();
            if m.status().is_some_and(|s| s >= 200) {
                status = m.status().unwrap();
            }
        }
    }
    status
}

#[test]
fn refer_outside_a_dialog_is_forbidden() {
    let mut net = three_phones(|_, _| {});
    let refer = raw_request(&[
        "REFER sip:alice@10.0.0.1:5060 SIP/2.0",
        "Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKout1",
        "Max-Forwards: 70",
        "From: <sip:mallory@example.com>;tag=m1",
        "To: <sip:alice@example.com>",
        "Call-ID: refer-outside",
        "CSeq: 1 REFER",
        "Contact: <sip:mallory@10.0.0.9:5060>",
        "Refer-To: <sip:carol@10.0.0.3:5060>",
    ]);
    assert_eq!(answer_to(&mut net, A, &refer), 403);
    assert!(net.wire.is_empty());
    assert_eq!(net.phones[A].live_calls().count(), 0);
}

/// An INVITE from `from_user` with `extra` headers (Replaces, Referred-By).
fn replacing_invite(branch: &str, from_user: &str, extra: &[&str]) -> Vec<u8> {
    let via = std::format!("Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK{branch}");
    let from = std::format!("From: <sip:{from_user}@example.com>;tag=x{branch}");
    let call_id = std::format!("Call-ID: new-{branch}");
    let mut lines = std::vec![
        "INVITE sip:carol@10.0.0.3:5060 SIP/2.0",
        via.as_str(),
        "Max-Forwards: 70",
        from.as_str(),
        "To: <sip:carol@example.com>",
        call_id.as_str(),
        "CSeq: 1 INVITE",
        "Contact: <sip:x@10.0.0.9:5060>",
    ];
    lines.extend_from_slice(extra);
    raw_request_with(&lines, OFFER)
}

#[test]
fn replaces_that_names_no_call_or_comes_from_a_stranger_is_refused() {
    let mut net = three_phones(|_, _| {});
    // B calls C; C's view of that dialog: local tag C's, remote tag B's.
    let (_b_c, c_b) = net.call(B, C, CAROL);
    let ok = net.between(C, B, "SIP/2.0 200")[0].clone();
    let call_id = header(&ok, "Call-ID").unwrap().to_string();
    let to = header(&ok, "To").unwrap();
    let from = header(&ok, "From").unwrap();
    let c_tag = to.split("tag=").nth(1).unwrap().to_string();
    let b_tag = from.split("tag=").nth(1).unwrap().to_string();

    let rep = |to_tag: &str, from_tag: &str, flags: &str| {
        std::format!("Replaces: {call_id};to-tag={to_tag};from-tag={from_tag}{flags}")
    };
    // No such dialog (tags swapped): 481.
    let r = rep(&b_tag, &c_tag, "");
    assert_eq!(
        answer_to(&mut net, C, &replacing_invite("r1", "bob", &[&r])),
        481
    );
    // Unknown Call-ID: 481.
    assert_eq!(
        answer_to(
            &mut net,
            C,
            &replacing_invite("r2", "bob", &["Replaces: nope;to-tag=1;from-tag=2"])
        ),
        481
    );
    // early-only for an established call: 486.
    let r = rep(&c_tag, &b_tag, ";early-only");
    assert_eq!(
        answer_to(&mut net, C, &replacing_invite("r3", "bob", &[&r])),
        486
    );
    // The right dialog, but neither sender nor referrer is in it: 403.
    let r = rep(&c_tag, &b_tag, "");
    assert_eq!(
        answer_to(
            &mut net,
            C,
            &replacing_invite("r4", "mallory", &[&r, "Referred-By: <sip:eve@example.com>"])
        ),
        403
    );
    // Malformed Replaces: 400.
    assert_eq!(
        answer_to(
            &mut net,
            C,
            &replacing_invite("r5", "bob", &["Replaces: x;to-tag=1"])
        ),
        400
    );
    // Nothing was replaced.
    assert_eq!(net.phones[C].live_calls().collect::<Vec<_>>(), [c_b]);
    assert!(!net.saw(C, |e| matches!(e, Event::Replaced { .. })));
    // Referred by the party of the call: taken over without ringing, and
    // the old call ends only once the new one is acknowledged.
    let r = rep(&c_tag, &b_tag, "");
    let invite = replacing_invite("r6", "alice", &[&r, "Referred-By: <sip:bob@example.com>"]);
    let from = SocketAddr::from(([10, 0, 0, 9], 5060));
    let _ = net.phones[C].handle_input(
        net.now,
        Input::Datagram {
            from,
            to: addr(C),
            data: &invite,
        },
    );
    net.drain(C);
    let ok = net.wire.pop_front().unwrap().text;
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    assert!(net.wire.is_empty());
    assert_eq!(net.phones[C].live_calls().count(), 2);
    assert!(!net.saw(C, |e| matches!(e, Event::Replaced { .. })));
    let to_line = std::format!("To: {}", header(&ok, "To").unwrap());
    let ack = raw_request(&[
        "ACK sip:carol@10.0.0.3:5060 SIP/2.0",
        "Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKack6",
        "Max-Forwards: 70",
        "From: <sip:alice@example.com>;tag=xr6",
        &to_line,
        "Call-ID: new-r6",
        "CSeq: 1 ACK",
    ]);
    let _ = net.phones[C].handle_input(
        net.now,
        Input::Datagram {
            from,
            to: addr(C),
            data: &ack,
        },
    );
    net.drain(C);
    let bye = net.wire.pop_front().unwrap();
    assert!(bye.first_line().starts_with("BYE "), "{}", bye.text);
    assert_eq!(bye.to, addr(B));
    assert!(net.saw(C, |e| *e
        == Event::Ended {
            call: c_b,
            reason: EndReason::Replaced
        }));
    assert!(net.saw(
        C,
        |e| matches!(*e, Event::Replaced { old, .. } if old == c_b)
    ));
    assert_eq!(net.phones[C].live_calls().count(), 1);
}

#[test]
fn replaces_of_a_ringing_call_is_an_option() {
    for allow in [true, false] {
        let mut net = three_phones(|i, t| {
            if i == C {
                t.replace_early_dialogs = allow;
            }
        });
        net.command(B, Command::Dial { to: CAROL });
        net.run(Duration::from_millis(10));
        let ringing = net.between(C, B, "SIP/2.0 180")[0].clone();
        let call_id = header(&ringing, "Call-ID").unwrap().to_string();
        let c_tag = header(&ringing, "To")
            .unwrap()
            .split("tag=")
            .nth(1)
            .unwrap()
            .to_string();
        let b_tag = header(&ringing, "From")
            .unwrap()
            .split("tag=")
            .nth(1)
            .unwrap()
            .to_string();
        let r = std::format!("Replaces: {call_id};to-tag={c_tag};from-tag={b_tag}");
        let invite = replacing_invite("e1", "alice", &[&r, "Referred-By: <sip:bob@example.com>"]);
        let from = SocketAddr::from(([10, 0, 0, 9], 5060));
        let _ = net.phones[C].handle_input(
            net.now,
            Input::Datagram {
                from,
                to: addr(C),
                data: &invite,
            },
        );
        net.drain(C);
        let answers: Vec<String> = net
            .wire
            .iter()
            .filter(|d| d.to == from)
            .map(|d| String::from(d.first_line()))
            .collect();
        net.wire.retain(|d| d.to != from);
        if allow {
            // The new call rings in place of the old one, which ends once
            // the new one is answered.
            assert_eq!(answers, ["SIP/2.0 180 Ringing"]);
            let new = net.last_call(C);
            net.command(C, Command::Answer(new));
            let old_ended = net
                .wire
                .iter()
                .any(|d| d.first_line().starts_with("SIP/2.0 487"));
            assert!(
                !old_ended,
                "the old call ends only once the new one is accepted"
            );
        } else {
            // RFC 3891 §3: an early dialog we did not initiate: 481.
            assert_eq!(answers, ["SIP/2.0 481 Call/Transaction Does Not Exist"]);
            assert_eq!(net.phones[C].live_calls().count(), 1);
        }
    }
}

#[test]
fn attended_transfer_replaces_the_consultation() {
    let mut net = three_phones(|_, _| {});
    let (a_b, held) = net.call(A, B, BOB);
    net.command(B, Command::Hold(held));
    net.run(Duration::from_millis(10));
    let (consult, c_b) = net.call(B, C, CAROL);
    net.command(B, Command::CompleteTransfer { held, consult });
    net.run(Duration::from_secs(1));
    // Refer-To: C's Contact with the B-C dialog escaped into Replaces,
    // tags as C sees them (to-tag is C's own).
    let refer = net.between(B, A, "REFER ").pop().unwrap();
    let refer_to = header(&refer, "Refer-To").unwrap();
    let parsed = ReferTo::parse(refer_to).unwrap();
    assert_eq!(parsed.addr.uri.raw.split('?').next(), Some(CAROL));
    let mut buf = [0u8; 256];
    let r = parsed.replaces(&mut buf).unwrap().unwrap();
    let invite = net.between(A, C, "INVITE ").pop().unwrap();
    assert_eq!(
        header(&invite, "Replaces").unwrap(),
        std::format!("{};to-tag={};from-tag={}", r.call_id, r.to_tag, r.from_tag)
    );
    let b_c_ok = &net.between(C, B, "SIP/2.0 200")[0];
    assert_eq!(header(b_c_ok, "Call-ID"), Some(r.call_id));
    assert!(header(b_c_ok, "To").unwrap().ends_with(r.to_tag));
    // C answered without ringing, ended its call with B after the ACK.
    assert!(net.between(C, A, "SIP/2.0 180").is_empty());
    let replaced = net.events[C].iter().find_map(|e| match *e {
        Event::Replaced { old, new } => Some((old, new)),
        _ => None,
    });
    let (old, new) = replaced.expect("Replaced at C");
    assert_eq!(old, c_b);
    assert!(net.saw(C, |e| *e
        == Event::Ended {
            call: c_b,
            reason: EndReason::Replaced
        }));
    assert_eq!(net.phones[C].live_calls().collect::<Vec<_>>(), [new]);
    // B: success, both its calls over; A: the old call ended by B.
    assert!(net.saw(B, |e| *e == Event::TransferSucceeded { call: held }));
    assert_eq!(net.phones[B].live_calls().count(), 0);
    assert!(net.saw(
        A,
        |e| matches!(*e, Event::Ended { call, .. } if call == a_b)
    ));
    assert_eq!(net.phones[A].live_calls().count(), 1);
    net.run(Duration::from_secs(40));
    for i in [A, C] {
        assert_eq!(net.phones[i].dialogs_in_use(), 1);
        assert_eq!(net.phones[i].transactions_in_use(), 0);
    }
    assert_eq!(net.phones[B].dialogs_in_use(), 0);
}

#[test]
fn subscription_dies_with_its_dialog_and_never_reaches_a_reused_slot() {
    let mut net = three_phones(|i, t| {
        if i == B {
            t.release_on_accept = false;
        }
    });
    let (_, b_a) = net.call(A, B, BOB);
    net.command(
        B,
        Command::Transfer {
            call: b_a,
            to: CAROL,
        },
    );
    // The REFER and its 202 pass; A's NOTIFYs are held back.
    let no_notify = |d: &Datagram| d.method().as_deref() == Some("NOTIFY");
    net.run_dropping(Duration::from_millis(10), &no_notify);
    assert!(net.saw(B, |e| matches!(
        e,
        Event::TransferProgress { status: 202, .. }
    )));
    // B's user hangs up, then places a call that reuses the slot.
    net.command(B, Command::Hangup(b_a));
    net.run_dropping(Duration::from_millis(10), &no_notify);
    net.command(B, Command::Dial { to: CAROL });
    let reused = net.last_call(B);
    assert_eq!(reused.slot, b_a.slot);
    assert_ne!(reused, b_a);
    let before = net.events[B].len();
    // Now A's reports get through: B knows no such dialog (481).
    net.run(Duration::from_secs(40));
    let transfer_events = net.events[B][before..]
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::TransferProgress { .. }
                    | Event::TransferSucceeded { .. }
                    | Event::TransferFailed { .. }
            )
        })
        .count();
    assert_eq!(transfer_events, 0);
    let notifies = net.between(A, B, "NOTIFY ");
    assert!(!notifies.is_empty());
    assert_eq!(net.between(B, A, "SIP/2.0 481").len(), notifies.len());
    // A's subscription ended on the 481 and freed the old dialog.
    assert_eq!(
        net.phones[A].dialogs_in_use(),
        net.phones[A].live_calls().count()
    );
}

#[test]
fn replaces_escaping_round_trip() {
    // A Call-ID with characters a URI header must escape (RFC 3261 §25.1
    // callid = word ["@" word]; hvalue escapes all but hnv-unreserved).
    let cases = [
        ("plain@host", "to1", "from1"),
        ("a%b<c>\"d\"@x:y", "t-._!~*'", "f+`%"),
        ("{x}[y]/z?@[::1]", "T", "F"),
    ];
    for (call_id, to_tag, from_tag) in cases {
        for early_only in [false, true] {
            let build = ReferToReplaces {
                target: "sip:carol@10.0.0.3:5060",
                call_id,
                to_tag,
                from_tag,
                early_only,
            };
            let text = std::format!("{build}");
            // Inside the angle brackets nothing is left that would end
            // the URI or the header value.
            let inner = &text[1..text.len() - 1];
            assert!(!inner.contains(['<', '>', '"', ';', ' ']), "{text}");
            let parsed = ReferTo::parse(&text).unwrap();
            let mut buf = [0u8; 256];
            let r = parsed.replaces(&mut buf).unwrap().unwrap();
            assert_eq!(
                (r.call_id, r.to_tag, r.from_tag, r.early_only),
                (call_id, to_tag, from_tag, early_only),
                "{text}"
            );
        }
    }
}
