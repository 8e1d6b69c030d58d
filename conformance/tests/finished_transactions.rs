//! Server transactions after their final response, on the wire: the
//! answered INVITE (RFC 6026 §8.7, Accepted, kept as a compact record)
//! absorbs its retransmissions, and a BYE answered after the call
//! (RFC 3261 §17.2.2, Completed) gets the identical response again.

use handset_conformance::harness::message::Sent;
use handset_conformance::harness::phone::{
    Cmd, CseqPick, Damage, Driver, Extra, HandlePick, MethodPick, Script, SdpPick, Step, TagPick,
};

fn script() -> Script {
    Script {
        seed: 7,
        registrar: false,
        password: false,
        steps: Vec::new(),
    }
}

fn invite() -> Step {
    Step::Invite {
        call: 0,
        sdp: SdpPick::Audio,
        extra: Extra::None,
        edits: Damage::default(),
    }
}

fn ack() -> Step {
    Step::Ack {
        to: 0,
        tag: TagPick::Right,
        sdp: SdpPick::None,
        edits: Damage::default(),
    }
}

fn bye() -> Step {
    Step::InDialog {
        of: 0,
        method: MethodPick::Bye,
        tag: TagPick::Right,
        cseq: CseqPick::Next,
        sdp: SdpPick::None,
        extra: Extra::None,
        edits: Damage::default(),
    }
}

/// Status and CSeq method of every response the phone sent.
fn statuses(sent: &[Vec<u8>]) -> Vec<(u16, String)> {
    sent.iter()
        .filter_map(|m| Sent::read(m))
        .filter_map(|m| Some((m.status()?, m.method().to_string())))
        .collect()
}

/// An answered, acknowledged call: INVITE, 180, 200, ACK.
fn answered_call() -> Driver {
    let mut d = Driver::recording(&script());
    d.step(&invite());
    d.step(&Step::Command(Cmd::Answer(HandlePick::Known(0))));
    let codes = statuses(d.sent());
    assert!(codes.contains(&(200, "INVITE".into())), "{codes:?}");
    d.step(&ack());
    d
}

/// RFC 6026 §8.7: after the 2xx, a retransmitted INVITE matches the
/// Accepted transaction and is absorbed: no new call, no response from
/// the transaction (the 2xx is the TU's to repeat, and the ACK stopped it).
#[test]
fn a_retransmitted_invite_after_the_2xx_is_absorbed() {
    let mut d = answered_call();
    let before = d.sent().len();
    let calls = d.phone().live_calls().count();
    // The INVITE is the second latest datagram fed (the ACK the latest),
    // then the latest.
    for (i, wait_ms) in [0u16, 500, 4_000, 20_000].into_iter().enumerate() {
        d.step(&Step::Wait(wait_ms));
        d.step(&Step::Repeat(if i == 0 { 1 } else { 0 }));
        assert_eq!(d.sent().len(), before, "after {wait_ms} ms more");
        assert_eq!(d.phone().live_calls().count(), calls);
    }
    d.step(&bye());
    d.finish();
}

/// RFC 6026 §8.7: a retransmitted INVITE that arrives between the 2xx and
/// the ACK is absorbed too; the ACK that follows still reaches the call
/// and stops the 2xx retransmissions.
#[test]
fn a_retransmitted_invite_before_the_ack_is_absorbed_and_the_ack_still_counts() {
    let mut d = Driver::recording(&script());
    d.step(&invite());
    d.step(&Step::Command(Cmd::Answer(HandlePick::Known(0))));
    let before = d.sent().len();
    d.step(&Step::Repeat(0));
    assert_eq!(d.sent().len(), before, "a response to the repeated INVITE");
    d.step(&ack());
    let acked = d.sent().len();
    // With the ACK in, no 2xx retransmission comes any more (T1 = 500 ms,
    // doubling: several would have gone out within 10 s).
    d.step(&Step::Wait(10_000));
    let oks = statuses(d.sent().get(acked..).unwrap_or(&[]))
        .into_iter()
        .filter(|c| *c == (200, "INVITE".to_string()))
        .count();
    assert_eq!(oks, 0);
    d.step(&bye());
    d.finish();
}

/// RFC 3261 §17.2.2: a retransmitted BYE after the call ended gets the
/// very same 200, byte for byte, until Timer J (64·T1) ends the
/// transaction.
#[test]
fn a_retransmitted_bye_after_the_call_gets_the_identical_200() {
    let mut d = answered_call();
    d.step(&bye());
    assert_eq!(d.phone().live_calls().count(), 0);
    let first = d.sent().last().cloned().expect("a response to the BYE");
    assert_eq!(
        statuses(std::slice::from_ref(&first)),
        vec![(200, "BYE".to_string())]
    );
    for wait_ms in [0u16, 500, 4_000, 20_000] {
        let before = d.sent().len();
        d.step(&Step::Wait(wait_ms));
        d.step(&Step::Repeat(0));
        assert_eq!(d.sent().len(), before + 1, "after {wait_ms} ms more");
        assert_eq!(d.sent().last(), Some(&first), "after {wait_ms} ms more");
    }
    d.finish();
}
