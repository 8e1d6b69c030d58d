//! Blind transfer with three phones, each driven by a runner: Alice calls
//! Bob, transfers him to Carol; Bob calls Carol and Alice's call ends. The
//! same transfer runs over the in-memory datagram network, over SIP over
//! TCP on in-memory embedded-io pipe pairs, and over SIP over TCP on real
//! loopback TCP connections: one stream transport per pair of phones.

mod common;

use common::{addr, loopback_pair, pipe_pair, Links, ManualClock, MemSocket, Network};
use handset_baremetal::{PhoneEvent, Runner, StreamTransport, Transport, Udp};
use handset_core::phone::{
    CallHandle, Command, Config, EndReason, Event, Input, Phone, TransferPolicy,
};
use handset_core::time::Duration;
use handset_core::transaction::Reliability;

const ALICE: &str = "10.0.0.1:5060";
const BOB: &str = "10.0.0.2:5060";
const CAROL: &str = "10.0.0.3:5060";

struct Party<T: Transport> {
    runner: Runner<Phone<2>, T, ManualClock, 1500>,
    events: Vec<Event>,
}

/// Alice keeps her call until Bob reports success through the REFER
/// subscription's NOTIFYs; Bob's user is asked before he follows.
fn config(user: &str, local: &str, tcp: bool) -> Config {
    let mut config = Config::new(user, "example.com", addr(local)).unwrap();
    if tcp {
        config.identity.transport = "TCP";
        config.reliability = Reliability::Reliable;
    }
    match user {
        "alice" => config.transfer.release_on_accept = false,
        "bob" => config.transfer.policy = TransferPolicy::Ask,
        _ => {}
    }
    config
}

impl<T: Transport> Party<T> {
    fn new(
        user: &str,
        local: &str,
        seed: u64,
        tcp: bool,
        transport: T,
        clock: &ManualClock,
    ) -> Self {
        Party {
            runner: Runner::new(
                Phone::new(config(user, local, tcp), seed),
                transport,
                clock.clone(),
            ),
            events: Vec::new(),
        }
    }

    fn command(&mut self, c: Command<'_>) {
        self.runner
            .with_core(|p, now| p.handle_input(now, Input::Command(c)))
            .unwrap();
    }

    /// Polls once; answers incoming calls and accepts transfer requests as
    /// a user would.
    fn poll(&mut self) {
        let mut fresh = Vec::new();
        self.runner
            .poll(|e| {
                if let PhoneEvent::User(u) = e {
                    fresh.push(u);
                }
            })
            .unwrap();
        for e in &fresh {
            match *e {
                Event::IncomingCall(h) => self.command(Command::Answer(h)),
                Event::TransferRequested { call } => self.command(Command::AcceptTransfer(call)),
                _ => {}
            }
        }
        self.events.extend(fresh);
    }

    fn answered(&self) -> Vec<CallHandle> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Answered(h) => Some(*h),
                _ => None,
            })
            .collect()
    }
}

fn run<A: Transport, B: Transport, C: Transport>(
    clock: &ManualClock,
    (alice, bob, carol): (&mut Party<A>, &mut Party<B>, &mut Party<C>),
    ms: u64,
) {
    for _ in 0..ms / 10 {
        alice.poll();
        bob.poll();
        carol.poll();
        clock.advance(Duration::from_millis(10));
    }
}

/// Runs the transfer and checks what each phone saw.
fn blind_transfer<A: Transport, B: Transport, C: Transport>(
    clock: &ManualClock,
    mut alice: Party<A>,
    mut bob: Party<B>,
    mut carol: Party<C>,
) {
    alice.command(Command::Dial {
        to: "sip:bob@10.0.0.2:5060",
    });
    run(clock, (&mut alice, &mut bob, &mut carol), 1000);
    let ab = *alice.answered().first().expect("Bob answered Alice");
    assert_eq!(bob.answered().len(), 1);

    alice.command(Command::Transfer {
        call: ab,
        to: "sip:carol@10.0.0.3:5060",
    });
    run(clock, (&mut alice, &mut bob, &mut carol), 3000);

    assert!(
        alice.events.contains(&Event::TransferProgress {
            call: ab,
            status: 202
        }),
        "{:?}",
        alice.events
    );
    assert!(
        alice
            .events
            .contains(&Event::TransferSucceeded { call: ab }),
        "{:?}",
        alice.events
    );
    assert!(
        alice
            .events
            .iter()
            .any(|e| matches!(e, Event::Ended { call, .. } if *call == ab)),
        "{:?}",
        alice.events
    );
    // Bob asked for the transfer to be accepted, then reached Carol.
    assert!(
        bob.events
            .iter()
            .any(|e| matches!(e, Event::TransferRequested { .. })),
        "{:?}",
        bob.events
    );
    assert_eq!(bob.answered().len(), 2, "{:?}", bob.events);
    assert_eq!(carol.answered().len(), 1, "{:?}", carol.events);
    // The call between Bob and Carol goes on; every old one ended.
    let bc = carol.answered()[0];
    assert!(!carol
        .events
        .iter()
        .any(|e| matches!(e, Event::Ended { call, .. } if *call == bc)));
    assert!(bob.events.iter().any(|e| matches!(
        e,
        Event::Ended {
            reason: EndReason::RemoteHangup | EndReason::LocalHangup,
            ..
        }
    )));

    for p in [alice.runner.core(), bob.runner.core(), carol.runner.core()] {
        assert_eq!(p.stats().malformed + p.stats().unusable, 0);
    }
    for stats in [
        alice.runner.stats(),
        bob.runner.stats(),
        carol.runner.stats(),
    ] {
        assert_eq!(
            stats.dropped_incoming + stats.dropped_outgoing,
            0,
            "{stats:?}"
        );
    }
}

#[test]
fn blind_transfer_over_udp() {
    let net = Network::default();
    let clock = ManualClock::default();
    let udp = |local: &str| {
        Udp(MemSocket {
            local: addr(local),
            net: net.clone(),
            refuse_every: 0,
            sends: 0,
        })
    };
    blind_transfer(
        &clock,
        Party::new("alice", ALICE, 1, false, udp(ALICE), &clock),
        Party::new("bob", BOB, 2, false, udp(BOB), &clock),
        Party::new("carol", CAROL, 3, false, udp(CAROL), &clock),
    );
}

/// One stream transport per end of each connection, labelled with the SIP
/// addresses of the two phones.
fn link<S>(io: S, local: &str, peer: &str) -> StreamTransport<S, 2048, 4096> {
    StreamTransport::new(io, addr(local), addr(peer))
}

#[test]
fn blind_transfer_over_embedded_io_pipe_pairs() {
    // Small windows and short reads, so messages are split and joined.
    let (ab, ba) = pipe_pair(300, 37);
    let (ac, ca) = pipe_pair(300, 37);
    let (bc, cb) = pipe_pair(300, 37);
    let clock = ManualClock::default();
    blind_transfer(
        &clock,
        Party::new(
            "alice",
            ALICE,
            1,
            true,
            Links::new(vec![link(ab, ALICE, BOB), link(ac, ALICE, CAROL)]),
            &clock,
        ),
        Party::new(
            "bob",
            BOB,
            2,
            true,
            Links::new(vec![link(ba, BOB, ALICE), link(bc, BOB, CAROL)]),
            &clock,
        ),
        Party::new(
            "carol",
            CAROL,
            3,
            true,
            Links::new(vec![link(ca, CAROL, ALICE), link(cb, CAROL, BOB)]),
            &clock,
        ),
    );
}

#[test]
fn blind_transfer_over_loopback_tcp() {
    let (ab, ba) = loopback_pair();
    let (ac, ca) = loopback_pair();
    let (bc, cb) = loopback_pair();
    let clock = ManualClock::default();
    blind_transfer(
        &clock,
        Party::new(
            "alice",
            ALICE,
            1,
            true,
            Links::new(vec![link(ab, ALICE, BOB), link(ac, ALICE, CAROL)]),
            &clock,
        ),
        Party::new(
            "bob",
            BOB,
            2,
            true,
            Links::new(vec![link(ba, BOB, ALICE), link(bc, BOB, CAROL)]),
            &clock,
        ),
        Party::new(
            "carol",
            CAROL,
            3,
            true,
            Links::new(vec![link(ca, CAROL, ALICE), link(cb, CAROL, BOB)]),
            &clock,
        ),
    );
}
