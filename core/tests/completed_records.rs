//! A phone with compact records for Completed non-INVITE server
//! transactions (RFC 3261 §17.2.2) sends exactly what a phone without them
//! sends, while the answered BYE leaves its transaction slot at once.

use std::collections::VecDeque;
use std::net::SocketAddr;

use handset_core::phone::{Command, Config, Event, Input, Output, Phone};
use handset_core::time::{Duration, Instant};

type Datagram = (SocketAddr, SocketAddr, Vec<u8>);

fn a_addr() -> SocketAddr {
    "192.0.2.1:5060".parse().unwrap()
}

fn b_addr() -> SocketAddr {
    "192.0.2.2:5060".parse().unwrap()
}

/// Drains a phone: datagrams onto `wire`, events into `events`.
fn drain<const C: usize, const T: usize, const R: usize>(
    phone: &mut Phone<C, T, R>,
    wire: &mut VecDeque<Datagram>,
    events: &mut Vec<Event>,
) {
    while let Some(out) = phone.poll_output() {
        match out {
            Output::Transmit { from, to, data } => wire.push_back((from, to, data.to_vec())),
            Output::Event(e) => events.push(e),
            Output::Media { .. } => {}
        }
    }
}

fn is_bye(data: &[u8]) -> bool {
    data.starts_with(b"BYE ")
}

/// What callee B sent over one call from A that A hangs up, followed by
/// retransmissions of A's BYE; and how many transactions B held in slots
/// just after answering the BYE.
struct Run {
    b_sent: Vec<Vec<u8>>,
    b_slots_after_bye: usize,
}

fn run<const R: usize>() -> Run {
    let mut a: Phone<2, 8> = Phone::new(Config::new("alice", "example.com", a_addr()).unwrap(), 1);
    let mut b: Phone<2, 8, R> = Phone::new(Config::new("bob", "example.com", b_addr()).unwrap(), 2);
    let (mut a_events, mut b_events) = (Vec::new(), Vec::new());
    let mut wire: VecDeque<Datagram> = VecDeque::new();
    let mut b_sent = Vec::new();
    let mut bye: Option<Vec<u8>> = None;
    let mut b_slots_after_bye = usize::MAX;
    let mut now = Instant::ZERO;
    a.handle_input(
        now,
        Input::Command(Command::Dial {
            to: "sip:bob@192.0.2.2:5060",
        }),
    )
    .unwrap();
    drain(&mut a, &mut wire, &mut a_events);
    let (mut answered, mut hung_up) = (false, false);
    while let Some((from, to, data)) = wire.pop_front() {
        now += Duration::from_millis(1);
        let input = Input::Datagram {
            from,
            to,
            data: &data,
        };
        if to == a_addr() {
            let _ = a.handle_input(now, input);
            drain(&mut a, &mut wire, &mut a_events);
        } else {
            let _ = b.handle_input(now, input);
            let before = wire.len();
            drain(&mut b, &mut wire, &mut b_events);
            b_sent.extend(wire.iter().skip(before).map(|(_, _, d)| d.clone()));
            if is_bye(&data) {
                bye = Some(data.clone());
                b_slots_after_bye = b.transactions_in_use();
            }
        }
        let ringing = b_events.iter().find_map(|e| match e {
            Event::IncomingCall(h) => Some(*h),
            _ => None,
        });
        if let (Some(h), false) = (ringing, answered) {
            answered = true;
            b.handle_input(now, Input::Command(Command::Answer(h)))
                .unwrap();
            let before = wire.len();
            drain(&mut b, &mut wire, &mut b_events);
            b_sent.extend(wire.iter().skip(before).map(|(_, _, d)| d.clone()));
        }
        let up = a_events.iter().find_map(|e| match e {
            Event::Answered(h) => Some(*h),
            _ => None,
        });
        if let (Some(h), false) = (up, hung_up) {
            hung_up = true;
            a.handle_input(now, Input::Command(Command::Hangup(h)))
                .unwrap();
            drain(&mut a, &mut wire, &mut a_events);
        }
    }
    let bye = bye.expect("A sent a BYE");
    // The BYE again, as a peer that missed the 200 would send it, until
    // just before Timer J (64·T1 = 32 s) and once after it.
    for wait in [0, 500, 4_000, 20_000, 7_000, 1_000] {
        now += Duration::from_millis(wait);
        b.handle_input(now, Input::Tick).unwrap();
        let input = Input::Datagram {
            from: a_addr(),
            to: b_addr(),
            data: &bye,
        };
        let _ = b.handle_input(now, input);
        let mut out = VecDeque::new();
        drain(&mut b, &mut out, &mut b_events);
        b_sent.extend(out.into_iter().map(|(_, _, d)| d));
    }
    Run {
        b_sent,
        b_slots_after_bye,
    }
}

#[test]
fn records_keep_every_byte_and_free_the_bye_slot() {
    let slots = run::<0>();
    let records = run::<4>();
    assert_eq!(records.b_sent, slots.b_sent);
    // The answered INVITE is a record either way; the answered BYE keeps
    // a slot only without Completed records.
    assert_eq!(slots.b_slots_after_bye, 1);
    assert_eq!(records.b_slots_after_bye, 0);
    // Every retransmitted BYE within Timer J got the first 200 again; the
    // one after it got a fresh 481, the call being gone.
    let oks: Vec<&Vec<u8>> = records
        .b_sent
        .iter()
        .filter(|d| d.starts_with(b"SIP/2.0 200") && contains(d, b"CSeq: 2 BYE"))
        .collect();
    assert_eq!(oks.len(), 6, "{oks:?}");
    assert!(oks.iter().all(|d| *d == oks[0]));
    let last = records.b_sent.last().unwrap();
    assert!(
        last.starts_with(b"SIP/2.0 481"),
        "{}",
        String::from_utf8_lossy(last)
    );
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
