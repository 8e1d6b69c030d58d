//! Two phones in one process, wired back to back without sockets: User A
//! calls User B directly (no proxy), B answers, A hangs up. A test drives
//! the core exactly like this: it owns the clock and the "network", so the
//! run is deterministic and takes no real time.
//!
//! Run it with `cargo run -p handset-core --example direct_call`.

use std::collections::VecDeque;
use std::net::SocketAddr;

use handset_core::phone::{CallHandle, Command, Config, EndReason, Event, Input, Output, Phone};
use handset_core::time::{Duration, Instant};

/// A datagram on its way: where it goes and its bytes.
type Datagram = (SocketAddr, SocketAddr, Vec<u8>);

/// Drains one phone's outputs: datagrams go onto `wire`, events into
/// `events`. Media outputs (RTP timing) are ignored here.
fn drain(phone: &mut Phone<2>, wire: &mut VecDeque<Datagram>, events: &mut Vec<Event>) {
    while let Some(out) = phone.poll_output() {
        match out {
            // The bytes are borrowed from the phone: copy them before the
            // next call into it.
            Output::Transmit { from, to, data } => wire.push_back((from, to, data.to_vec())),
            Output::Event(e) => events.push(e),
            Output::Media { .. } => {}
        }
    }
}

fn main() {
    let a_addr: SocketAddr = "192.0.2.1:5060".parse().unwrap();
    let b_addr: SocketAddr = "192.0.2.2:5060".parse().unwrap();
    let mut a: Phone<2> = Phone::new(Config::new("alice", "example.com", a_addr).unwrap(), 1);
    let mut b: Phone<2> = Phone::new(Config::new("bob", "example.com", b_addr).unwrap(), 2);
    let (mut a_events, mut b_events) = (Vec::new(), Vec::new());
    let mut wire: VecDeque<Datagram> = VecDeque::new();
    let mut now = Instant::ZERO;

    // The URI's host is an IP address, so A sends the INVITE straight to B.
    a.handle_input(
        now,
        Input::Command(Command::Dial {
            to: "sip:bob@192.0.2.2:5060",
        }),
    )
    .unwrap();
    drain(&mut a, &mut wire, &mut a_events);

    let mut answered = false;
    let mut hung_up = false;
    // One step: deliver every datagram in flight (1 ms each), or else jump
    // the clock to the earlier of the two phones' next deadlines.
    for _ in 0..10_000 {
        if let Some((from, to, data)) = wire.pop_front() {
            now += Duration::from_millis(1);
            let (phone, events) = if to == a_addr {
                (&mut a, &mut a_events)
            } else {
                (&mut b, &mut b_events)
            };
            // A refused datagram is counted by the phone; the loop goes on.
            let _ = phone.handle_input(
                now,
                Input::Datagram {
                    from,
                    to,
                    data: &data,
                },
            );
            drain(phone, &mut wire, events);
        } else {
            let next = [a.poll_timeout(), b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let Some(next) = next else { break };
            now = now.max(next);
            for (phone, events) in [(&mut a, &mut a_events), (&mut b, &mut b_events)] {
                phone.handle_input(now, Input::Tick).unwrap();
                drain(phone, &mut wire, events);
            }
        }

        // The "users": B answers the call that rings, A hangs up once the
        // call is up.
        let ringing: Option<CallHandle> = b_events.iter().find_map(|e| match e {
            Event::IncomingCall(h) => Some(*h),
            _ => None,
        });
        if let (Some(h), false) = (ringing, answered) {
            answered = true;
            b.handle_input(now, Input::Command(Command::Answer(h)))
                .unwrap();
            drain(&mut b, &mut wire, &mut b_events);
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
        if wire.is_empty() && a.poll_timeout().is_none() && b.poll_timeout().is_none() {
            break;
        }
    }

    println!("User A saw {a_events:?}");
    println!("User B saw {b_events:?}");
    let ended = |events: &[Event], why: EndReason| {
        events
            .iter()
            .any(|e| matches!(e, Event::Ended { reason, .. } if *reason == why))
    };
    assert!(ended(&a_events, EndReason::LocalHangup));
    assert!(ended(&b_events, EndReason::RemoteHangup));
    // Every timer ran out: no transaction, dialog or call is left behind.
    assert_eq!(a.transactions_in_use() + b.transactions_in_use(), 0);
    assert_eq!(a.dialogs_in_use() + b.dialogs_in_use(), 0);
    println!(
        "call placed, answered and hung up at t = {} ms",
        now.as_millis()
    );
}
