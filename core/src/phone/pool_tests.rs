//! The phone with a small message pool: what it refuses when every buffer
//! is lent, and that every buffer comes back, whichever way the message
//! it held stops being needed.

extern crate std;

use std::format;
use std::string::String;

use super::test_support::{addr, Net};
use super::{CallHandle, Command, CommandError, Config, EndReason, Event, Phone};
use crate::time::Duration;

/// Phone `i` for user `user`, with `BUFFERS` message buffers.
fn phone<const BUFFERS: usize>(i: usize, user: &str) -> Phone<2, 8, 0, BUFFERS> {
    let config = Config::new(user, "example.com", addr(i)).unwrap();
    Phone::new(config, 40 + i as u64)
}

fn net<const BUFFERS: usize>() -> Net<2, 8, BUFFERS> {
    Net::new(std::vec![phone(0, "alice"), phone(1, "bob")])
}

/// An OPTIONS from outside any dialog, sent to phone `to` by a stranger.
fn options(to: usize, branch: &str) -> String {
    format!(
        "OPTIONS sip:x@{} SIP/2.0\r\n\
         Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK{branch}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:ping@example.com>;tag=p{branch}\r\n\
         To: <sip:x@example.com>\r\nCall-ID: ping-{branch}\r\nCSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n",
        addr(to)
    )
}

/// A stranger pings phone `to` with `n` OPTIONS: each 200 is kept for the
/// request's retransmissions (RFC 3261 §17.2.2, Timer J), in a buffer.
fn ping<const B: usize>(net: &mut Net<2, 8, B>, to: usize, n: usize) {
    let stranger = "10.0.0.9:5060".parse().unwrap();
    for i in 0..n {
        net.inject(stranger, to, options(to, &format!("ping{i}")).as_bytes());
    }
}

/// Timer J and every other timer run out: nothing is kept any more.
fn settle<const B: usize>(net: &mut Net<2, 8, B>) {
    net.run(Duration::from_secs(40));
    for p in &net.phones {
        assert_eq!(p.buffers_in_use(), 0);
        assert_eq!(p.transactions_in_use(), 0);
    }
}

#[test]
fn a_new_request_without_a_free_buffer_gets_503_and_changes_nothing() {
    let mut net = net::<2>();
    ping(&mut net, 1, 2);
    assert_eq!(net.phones[1].buffers_in_use(), 2);
    net.command(
        0,
        Command::Dial {
            to: "sip:bob@10.0.0.2",
        },
    );
    net.run(Duration::from_millis(10));
    // RFC 3261 §21.5.4: 503 with Retry-After, before anything is set up.
    let refusal = net.between(1, 0, "SIP/2.0 503");
    assert_eq!(refusal.len(), 1);
    assert!(refusal[0].contains("Retry-After: 5"));
    assert!(!net.saw(1, |e| matches!(e, Event::IncomingCall(_))));
    let call = net.last_call(0);
    assert!(net.saw(0, |e| *e
        == Event::Ended {
            call,
            reason: EndReason::Failed(503)
        }));
    assert_eq!(net.phones[1].buffers_in_use(), 2);
    assert_eq!(net.phones[1].stats().refused_full, 1);
    settle(&mut net);
    // With the buffers back, the same call goes through.
    net.call(0, 1, "sip:bob@10.0.0.2");
}

#[test]
fn a_command_without_a_free_buffer_fails_and_keeps_nothing() {
    let mut net = net::<1>();
    ping(&mut net, 0, 1);
    assert_eq!(net.phones[0].buffers_in_use(), 1);
    net.command(
        0,
        Command::Dial {
            to: "sip:bob@10.0.0.2",
        },
    );
    assert!(net.saw(0, |e| *e == Event::CommandFailed(CommandError::NoResources)));
    assert!(!net.saw(0, |e| matches!(e, Event::Calling(_))));
    assert_eq!(net.phones[0].live_calls().count(), 0);
    assert_eq!(net.phones[0].transactions_in_use(), 1, "the OPTIONS alone");
    assert_eq!(net.phones[0].buffers_in_use(), 1);
    net.run(Duration::from_millis(10));
    assert!(net.sent(0, "INVITE").is_empty());
    settle(&mut net);
    net.call(0, 1, "sip:bob@10.0.0.2");
}

/// The 180 and the 2xx share one buffer: the INVITE's transaction gives
/// back the 180's when the 2xx goes out (RFC 6026 §8.7: the TU keeps the
/// 2xx), and the call borrows one for the 2xx until the ACK.
#[test]
fn a_phone_with_one_buffer_rings_answers_and_gives_it_back_on_the_ack() {
    let mut net = net::<1>();
    net.command(
        0,
        Command::Dial {
            to: "sip:bob@10.0.0.2",
        },
    );
    net.run(Duration::from_millis(10));
    let inc = net.last_call(1);
    assert_eq!(net.phones[1].buffers_in_use(), 1, "the 180");
    net.command(1, Command::Answer(inc));
    assert_eq!(net.phones[1].buffers_in_use(), 1, "the 2xx");
    net.run(Duration::from_millis(10));
    assert!(net.saw(1, |e| *e == Event::Answered(inc)));
    assert_eq!(net.phones[1].buffers_in_use(), 0, "the ACK came");
    net.command(0, Command::Hangup(net.last_call(0)));
    settle(&mut net);
    assert!(net.phones.iter().all(|p| p.buffers_peak() == 1));
}

/// Phone 0 calls phone 1, which answers; the 2xx is on the wire, and the
/// callee's handle is returned.
fn answered_without_ack<const B: usize>(net: &mut Net<2, 8, B>) -> CallHandle {
    net.command(
        0,
        Command::Dial {
            to: "sip:bob@10.0.0.2",
        },
    );
    net.run(Duration::from_millis(10));
    let inc = net.last_call(1);
    net.command(1, Command::Answer(inc));
    inc
}

#[test]
fn the_2xx_buffer_comes_back_when_no_ack_ever_comes() {
    let mut net = net::<4>();
    let inc = answered_without_ack(&mut net);
    // §13.3.1.4: the 2xx is retransmitted for 64·T1, then the call ends.
    net.run_dropping(Duration::from_secs(40), |d| {
        d.first_line().starts_with("ACK")
    });
    assert!(net.saw(1, |e| *e
        == Event::Ended {
            call: inc,
            reason: EndReason::Timeout
        }));
    assert!(net.sent(1, "SIP/2.0 200").len() > 5, "retransmitted");
    settle(&mut net);
}

#[test]
fn the_2xx_buffer_comes_back_when_the_call_ends_before_the_ack() {
    let mut net = net::<4>();
    let inc = answered_without_ack(&mut net);
    net.run_dropping(Duration::from_millis(600), |d| {
        d.first_line().starts_with("ACK")
    });
    assert_eq!(net.phones[1].buffers_in_use(), 1, "the 2xx, retransmitted");
    net.command(1, Command::Hangup(inc));
    // The BYE holds one until its final response; the 2xx's went back.
    assert_eq!(net.phones[1].buffers_in_use(), 1);
    let sent = net.sent(1, "SIP/2.0 200").len();
    net.run_dropping(Duration::from_secs(5), |d| {
        d.first_line().starts_with("ACK")
    });
    assert_eq!(net.sent(1, "SIP/2.0 200").len(), sent, "no more 2xx");
    settle(&mut net);
}

/// Strangers may not take the last quarter of the buffers: they stay for
/// the dialogs' peers, so a flood of OPTIONS never keeps a call from
/// being hung up.
#[test]
fn strangers_leave_the_last_quarter_of_the_buffers_to_the_calls() {
    let mut net = net::<4>();
    let (out, _) = net.call(0, 1, "sip:bob@10.0.0.2");
    ping(&mut net, 1, 5);
    assert_eq!(net.phones[1].buffers_in_use(), 3);
    assert_eq!(net.phones[1].stats().refused_full, 2);
    net.command(0, Command::Hangup(out));
    net.run(Duration::from_millis(10));
    assert_eq!(
        net.between(1, 0, "SIP/2.0 200").len(),
        2,
        "the INVITE's and the BYE's"
    );
    assert!(net.saw(1, |e| matches!(e, Event::Ended { .. })));
    settle(&mut net);
}
