//! The phone's walks over calls (timers, media, outputs, the next wake-up)
//! visit only the call slots flagged in use, up to the highest: a call left
//! above a slot whose call ended keeps its timers, and a new call takes the
//! lowest free slot.

use handset_conformance::harness::message::Sent;
use handset_conformance::harness::phone::{
    Cmd, CodePick, Damage, Driver, Extra, HandlePick, Script, SdpPick, Step, TagPick,
};
use handset_core::phone::Event;

fn script() -> Script {
    Script {
        seed: 7,
        registrar: false,
        password: false,
        steps: Vec::new(),
    }
}

fn invite(call: u8) -> Step {
    Step::Invite {
        call,
        sdp: SdpPick::Audio,
        extra: Extra::None,
        edits: Damage::default(),
    }
}

fn oks_to_invite(d: &Driver) -> usize {
    d.sent()
        .iter()
        .filter_map(|m| Sent::read(m))
        .filter(|m| m.status() == Some(200) && m.method() == "INVITE")
        .count()
}

fn incoming_slots(d: &Driver) -> Vec<u16> {
    d.events()
        .iter()
        .filter_map(|e| match e {
            Event::IncomingCall(h) => Some(h.slot),
            _ => None,
        })
        .collect()
}

#[test]
fn a_call_above_an_ended_one_keeps_its_timers_and_a_new_call_takes_the_free_slot() {
    let mut d = Driver::recording(&script());
    // Call A in slot 0, answered and acknowledged.
    d.step(&invite(0));
    d.step(&Step::Command(Cmd::Answer(HandlePick::Known(0))));
    d.step(&Step::Ack {
        to: 0,
        tag: TagPick::Right,
        sdp: SdpPick::None,
        edits: Damage::default(),
    });
    // Call B in slot 1, answered; its ACK never comes.
    d.step(&invite(1));
    d.step(&Step::Command(Cmd::Answer(HandlePick::Known(0))));
    assert_eq!(incoming_slots(&d), [0, 1]);
    assert_eq!(oks_to_invite(&d), 2);
    // A hangs up (its BYE answered): slot 0 is free, B stays in slot 1.
    d.step(&Step::Command(Cmd::Hangup(HandlePick::Known(1))));
    d.step(&Step::Reply {
        to: 0,
        code: CodePick::Any(200),
        tag: true,
        sdp: SdpPick::None,
        edits: Damage::default(),
    });
    let live: Vec<u16> = d.phone().live_calls().map(|h| h.slot).collect();
    assert_eq!(live, [1]);
    // RFC 3261 §13.3.1.4: B's 2xx goes out again after T1 (500 ms).
    d.step(&Step::Wait(600));
    assert_eq!(
        oks_to_invite(&d),
        3,
        "the call in slot 1 lost its 2xx timer"
    );
    // A new call takes the free slot below B.
    d.step(&invite(2));
    assert_eq!(incoming_slots(&d), [0, 1, 0]);
    d.finish();
}
