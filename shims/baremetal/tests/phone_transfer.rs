//! Blind transfer with three phones, each driven by a runner over the
//! in-memory datagram network: Alice calls Bob, transfers him to Carol;
//! Bob calls Carol and Alice's call ends.

mod common;

use common::{addr, ManualClock, MemSocket, Network};
use handset_baremetal::{PhoneEvent, Runner, Udp};
use handset_core::phone::{
    CallHandle, Command, Config, EndReason, Event, Input, Phone, TransferPolicy,
};
use handset_core::time::Duration;

type Node = Runner<Phone<2>, Udp<MemSocket>, ManualClock, 1500>;

struct Party {
    runner: Node,
    events: Vec<Event>,
}

impl Party {
    fn new(
        user: &str,
        local: &str,
        seed: u64,
        net: &Network,
        clock: &ManualClock,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        let mut config = Config::new(user, "example.com", addr(local)).unwrap();
        tweak(&mut config);
        let socket = MemSocket {
            local: addr(local),
            net: net.clone(),
            refuse_every: 0,
            sends: 0,
        };
        Party {
            runner: Runner::new(Phone::new(config, seed), Udp(socket), clock.clone()),
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

fn run(clock: &ManualClock, parties: &mut [&mut Party], ms: u64) {
    for _ in 0..ms / 10 {
        for p in parties.iter_mut() {
            p.poll();
        }
        clock.advance(Duration::from_millis(10));
    }
}

#[test]
fn blind_transfer_through_three_runners() {
    let net = Network::default();
    let clock = ManualClock::default();
    // Alice keeps her call until Bob reports success through the REFER
    // subscription's NOTIFYs; Bob's user is asked before he follows.
    let mut alice = Party::new("alice", "10.0.0.1:5060", 1, &net, &clock, |c| {
        c.transfer.release_on_accept = false;
    });
    let mut bob = Party::new("bob", "10.0.0.2:5060", 2, &net, &clock, |c| {
        c.transfer.policy = TransferPolicy::Ask;
    });
    let mut carol = Party::new("carol", "10.0.0.3:5060", 3, &net, &clock, |_| {});

    alice.command(Command::Dial {
        to: "sip:bob@10.0.0.2:5060",
    });
    run(&clock, &mut [&mut alice, &mut bob, &mut carol], 1000);
    let ab = *alice.answered().first().expect("Bob answered Alice");
    assert_eq!(bob.answered().len(), 1);

    alice.command(Command::Transfer {
        call: ab,
        to: "sip:carol@10.0.0.3:5060",
    });
    run(&clock, &mut [&mut alice, &mut bob, &mut carol], 3000);

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
}
