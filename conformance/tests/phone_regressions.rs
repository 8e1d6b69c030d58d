//! Regression tests for what the phone fuzz harness found, each replayed as
//! a short script through the same driver (which checks every invariant
//! after every step and that every slot is free at the end).

use handset_conformance::harness::message::Sent;
use handset_conformance::harness::phone::{
    Cmd, CodePick, CseqPick, Damage, Driver, Extra, HandlePick, MethodPick, Script, SdpPick, Step,
    TagPick,
};
use handset_core::phone::{EndReason, Event};
use handset_core::time::Duration;

fn script() -> Script {
    Script {
        seed: 11,
        registrar: false,
        password: false,
        steps: Vec::new(),
    }
}

fn invite(sdp: SdpPick) -> Step {
    Step::Invite {
        call: 0,
        sdp,
        extra: Extra::None,
        edits: Damage::default(),
    }
}

fn reply(code: u16, sdp: SdpPick) -> Step {
    Step::Reply {
        to: 0,
        code: CodePick::Any(code),
        tag: true,
        sdp,
        edits: Damage::default(),
    }
}

/// The peer's request of `method` in the newest dialog, tags and CSeq right.
fn in_dialog(method: MethodPick, sdp: SdpPick) -> Step {
    Step::InDialog {
        of: 0,
        method,
        tag: TagPick::Right,
        cseq: CseqPick::Next,
        sdp,
        extra: Extra::None,
        edits: Damage::default(),
    }
}

/// The peer's ACK, without a body, for the phone's newest final response.
fn ack() -> Step {
    Step::Ack {
        to: 0,
        tag: TagPick::Right,
        sdp: SdpPick::None,
        edits: Damage::default(),
    }
}

fn statuses(d: &Driver) -> Vec<(u16, String)> {
    d.sent()
        .iter()
        .filter_map(|m| Sent::read(m))
        .filter_map(|m| Some((m.status()?, m.method().to_string())))
        .collect()
}

/// RFC 3261 §15.1.2: a BYE on an early dialog ends the call, and the
/// INVITE still pending gets its final response (487); before, its server
/// transaction stayed in Proceeding for good.
#[test]
fn bye_on_an_early_dialog_answers_the_pending_invite_with_487() {
    let mut d = Driver::recording(&script());
    d.step(&invite(SdpPick::Audio));
    d.step(&in_dialog(MethodPick::Bye, SdpPick::None));
    let codes = statuses(&d);
    assert!(codes.contains(&(200, "BYE".into())), "{codes:?}");
    assert!(codes.contains(&(487, "INVITE".into())), "{codes:?}");
    assert_eq!(d.phone().live_calls().count(), 0);
    d.finish();
}

/// RFC 3261 §9.1: a CANCEL that gets no final response for the INVITE
/// within 64·T1 ends the call; before, the call stayed in Cancelling for
/// good (a provisional had stopped Timer B), and hanging up again reset
/// the give-up timer.
#[test]
fn a_cancel_without_final_response_ends_the_call_after_64_t1() {
    let mut d = Driver::recording(&script());
    d.step(&Step::Command(Cmd::Dial(0)));
    d.step(&reply(180, SdpPick::None));
    d.step(&Step::Command(Cmd::Hangup(HandlePick::Known(0))));
    assert!(d.sent().iter().any(|m| m.starts_with(b"CANCEL ")));
    d.step(&Step::Wait(20_000));
    // A second hang-up while cancelling must not restart the wait.
    d.step(&Step::Command(Cmd::Hangup(HandlePick::Known(0))));
    assert_eq!(d.phone().live_calls().count(), 1);
    d.step(&Step::Wait(12_001));
    assert_eq!(d.phone().live_calls().count(), 0, "{:?}", d.events());
    assert!(d.events().iter().any(|e| matches!(
        e,
        Event::Ended {
            reason: EndReason::Cancelled,
            ..
        }
    )));
    d.finish();
}

/// The ring timer cancelling a call with early media skipped that tick of
/// the call's stream, leaving `poll_timeout` in the past after the
/// outputs were drained (the driver checks it after every step).
#[test]
fn a_ring_timeout_during_early_media_leaves_no_deadline_in_the_past() {
    let mut d = Driver::recording(&script());
    d.step(&Step::Command(Cmd::Dial(0)));
    d.step(&reply(183, SdpPick::Audio));
    assert!(d.events().iter().any(|e| matches!(e, Event::EarlyMedia(_))));
    // The default ring limit is 60 s; jump past it in one step.
    d.step(&Step::Wait(60_013));
    let t = d
        .phone()
        .poll_timeout()
        .expect("the CANCEL and the stream run");
    assert!(t >= d.now());
    assert!(t - d.now() <= Duration::from_secs(1));
    d.finish();
}

/// A re-INVITE while the phone's 200 awaits its ACK is taken as that ACK
/// (the peer must have had the 200). When the 200 carried a late offer,
/// that "ACK" brings no answer and the call ends; the re-INVITE was then
/// left without a final response, its server transaction in Proceeding
/// for good. Now it gets 481: its dialog is gone.
#[test]
fn a_reinvite_that_ends_a_late_offer_call_still_gets_a_final_response() {
    let mut d = Driver::recording(&script());
    d.step(&invite(SdpPick::None));
    d.step(&Step::Command(Cmd::Answer(HandlePick::Known(0))));
    d.step(&in_dialog(MethodPick::Invite, SdpPick::None));
    assert!(d.sent().iter().any(|m| m.starts_with(b"BYE ")));
    let codes = statuses(&d);
    assert_eq!(
        codes.last(),
        Some(&(481, "INVITE".to_string())),
        "{codes:?}"
    );
    assert_eq!(d.phone().live_calls().count(), 0);
    d.finish();
}

/// A peer's hold re-INVITE whose ACK never arrives (found by the fault
/// sweep at 30 % loss): the call was up before it and the phone's 200
/// carried the answer, so the call stays instead of ending with a BYE
/// after 64·T1.
#[test]
fn a_lost_ack_for_a_reinvite_with_an_offer_keeps_the_call() {
    let mut d = Driver::recording(&script());
    d.step(&invite(SdpPick::Audio));
    d.step(&Step::Command(Cmd::Answer(HandlePick::Known(0))));
    d.step(&ack());
    d.step(&in_dialog(MethodPick::Invite, SdpPick::SendOnly));
    assert!(d.events().iter().any(|e| matches!(e, Event::Held { .. })));
    d.step(&Step::Wait(40_000));
    assert_eq!(d.phone().live_calls().count(), 1, "{:?}", d.events());
    assert!(!d.sent().iter().any(|m| m.starts_with(b"BYE ")));
    d.finish();
}

/// The inputs libFuzzer's `phone` target crashed on, replayed as they
/// were found (the driver checks every invariant and the clean-up).
#[test]
fn fuzz_crash_inputs_no_longer_break_an_invariant() {
    for input in [
        // A re-INVITE taken as the missing ACK of a late-offer call.
        &include_bytes!("fuzz-crashes/phone-reinvite-taken-as-ack")[..],
        // A damaged 2xx ended the INVITE transaction of a call that had no
        // provisional; hanging up left it cancelling for good. The call
        // now gives up 64·T1 after the hang-up whatever its transaction.
        &include_bytes!("fuzz-crashes/phone-cancelling-without-invite-transaction")[..],
        // The peer's BYE outran our re-INVITE; a 180 for that re-INVITE
        // arriving after the call ended left its transaction in
        // Proceeding, where no timer runs.
        &include_bytes!("fuzz-crashes/phone-provisional-after-call-ended")[..],
    ] {
        handset_conformance::harness::phone::run(input);
    }
}

/// A peer's re-INVITE whose ACK never comes, and a 503 with Retry-After
/// to the phone's own resume: when the 200's retransmissions give up
/// (64·T1, the call kept) in the same tick as the retry falls due, the
/// retry was skipped and its deadline left in the past. Now the resume
/// goes out again in that tick.
#[test]
fn a_retry_due_when_an_unacked_200_gives_up_is_sent_in_the_same_tick() {
    let mut d = Driver::recording(&script());
    d.step(&invite(SdpPick::Audio));
    d.step(&Step::Command(Cmd::Answer(HandlePick::Known(0))));
    d.step(&ack());
    let reinvites = |d: &Driver| {
        d.sent()
            .iter()
            .filter(|m| m.starts_with(b"INVITE "))
            .count()
    };
    d.step(&Step::Command(Cmd::Hold(HandlePick::Known(0))));
    d.step(&reply(200, SdpPick::Inactive));
    d.step(&Step::Command(Cmd::Resume(HandlePick::Known(0))));
    assert_eq!(reinvites(&d), 2);
    // RFC 3261 §21.5.4: 503 with Retry-After 5.
    d.step(&reply(503, SdpPick::None));
    // The peer's re-INVITE gets our 200; its ACK is lost.
    d.step(&in_dialog(MethodPick::Invite, SdpPick::Audio));
    assert_eq!(reinvites(&d), 2);
    // One step past both the retry (5 s) and the 200's give-up (32 s);
    // the driver checks poll_timeout is not in the past after it.
    d.step(&Step::WaitLong(40));
    assert_eq!(reinvites(&d), 3, "the resume is retried");
    assert_eq!(d.phone().live_calls().count(), 1);
    d.finish();
}

/// The input the `phone` fuzz target found for the case above (with
/// damaged datagrams around it), replayed as found.
#[test]
fn fuzz_finding_deadline_in_the_past_after_a_reinvite_hold() {
    handset_conformance::harness::phone::run(include_bytes!(
        "fuzz-crashes/phone-deadline-in-the-past-after-reinvite-hold"
    ));
}
