//! Call transfer flows (RFC 5589 and the SIP-T4X admin guide's blind
//! transfer): User B transfers User A to User C, blind, attended or while
//! C still rings, and the ways a transfer fails.
//!
//! Every REFER, NOTIFY and BYE goes through the proxy (it record-routes),
//! so a forwarded request reads `REFER B->P, REFER P->A` and its response
//! `202 A->P, 202 P->B`.

use handset_core::phone::{CallHandle, Command, EndReason, Event, TransferConfig, TransferPolicy};
use handset_core::time::Duration;

use super::{run_flow, World, ABC};
use crate::cli::FlowRegistry;
use crate::phone_node::PhoneNode;
use crate::NodeId;

const BOB: &str = "sip:bob@example.com";
const CAROL: &str = "sip:carol@example.com";

/// How often a flow's user tries again when loss broke a step.
const ATTEMPTS: usize = 3;

pub(super) fn register_flows(r: &mut FlowRegistry) {
    r.register(
        "blind-transfer",
        "B blind-transfers A to C: REFER, 202, B's BYE, A's new INVITE to C (admin guide F7-F17)",
        |p| run_flow(p, &ABC, true, |w| blind(w, true)),
    );
    r.register(
        "blind-transfer-no-refer-sub",
        "Blind transfer with Refer-Sub: false (RFC 4488): no NOTIFY follows the 202",
        |p| run_flow(p, &ABC, true, |w| blind(w, false)),
    );
    r.register(
        "attended-transfer",
        "B consults C, then REFERs A to C with Replaces; C's call with B is replaced (RFC 5589 §7)",
        |p| run_flow(p, &ABC, true, |w| attended(w, false)),
    );
    r.register(
        "semi-attended-transfer",
        "B completes the transfer while C still rings: C's ringing call from B is replaced",
        |p| run_flow(p, &ABC, true, |w| attended(w, true)),
    );
    r.register(
        "transfer-target-busy",
        "C answers 486: A reports it in NOTIFY, B resumes A (RFC 5589 §6.2)",
        |p| run_flow(p, &ABC, true, target_busy),
    );
    r.register(
        "transfer-rejected",
        "A's user refuses the REFER: 603 Decline, the call with B goes on",
        |p| run_flow(p, &ABC, true, rejected),
    );
}

fn configure(w: &mut World, id: NodeId, f: impl FnOnce(&mut TransferConfig)) {
    w.sim.with_node(id, |n: &mut PhoneNode, _| {
        let mut c = *n.phone.transfer_config();
        f(&mut c);
        n.phone.set_transfer_config(c);
    });
}

/// The first event of user `id` from index `from` on that `pick` maps to
/// a value.
fn find_since<T>(
    w: &World,
    id: NodeId,
    from: usize,
    pick: impl Fn(&Event) -> Option<T>,
) -> Option<T> {
    w.phone(id)
        .events
        .iter()
        .skip(from)
        .find_map(|(_, e)| pick(e))
}

fn ended(w: &World, id: NodeId, from: usize, call: CallHandle) -> bool {
    find_since(w, id, from, |e| match *e {
        Event::Ended { call: c, .. } if c == call => Some(()),
        _ => None,
    })
    .is_some()
}

fn answered(w: &World, id: NodeId, from: usize, call: CallHandle) -> bool {
    find_since(w, id, from, |e| match *e {
        Event::Answered(c) if c == call => Some(()),
        _ => None,
    })
    .is_some()
}

/// `caller` calls `uri` (user `callee`), whose phone rings for two seconds
/// before its user answers; both ends see the call up. Loss can kill a
/// call before both ends are up (every 200 or every ACK lost: RFC 3261
/// §13.3.1.4 ends it with BYE); the caller then dials again, as its user
/// would. Returns both ends' handles.
fn establish(
    w: &mut World,
    caller: NodeId,
    callee: NodeId,
    uri: &str,
) -> Result<(CallHandle, CallHandle), String> {
    for _ in 0..ATTEMPTS {
        let (a0, b0) = (w.phone(caller).events.len(), w.phone(callee).events.len());
        w.command(caller, Command::Dial { to: uri });
        w.expect_since(callee, b0, "IncomingCall", |e| {
            matches!(e, Event::IncomingCall(_))
        })?;
        let out = find_since(w, caller, a0, |e| match *e {
            Event::Calling(c) => Some(c),
            _ => None,
        })
        .ok_or("no Calling event")?;
        let inc = find_since(w, callee, b0, |e| match *e {
            Event::IncomingCall(c) => Some(c),
            _ => None,
        })
        .ok_or("no IncomingCall event")?;
        w.sim.run_for(Duration::from_secs(2));
        w.command(callee, Command::Answer(inc));
        if both_up(w, (caller, a0, out), (callee, b0, inc))? {
            return Ok((out, inc));
        }
    }
    Err(format!("the call to {uri} could not be established"))
}

/// Waits until both ends of a call were answered or ended; `true` when it
/// is up at both. A call that ended at one end is let end at the other.
fn both_up(
    w: &mut World,
    (a, a0, ac): (NodeId, usize, CallHandle),
    (b, b0, bc): (NodeId, usize, CallHandle),
) -> Result<bool, String> {
    w.expect_since(
        a,
        a0,
        "Answered or Ended",
        |e| matches!(*e, Event::Answered(c) | Event::Ended { call: c, .. } if c == ac),
    )?;
    w.expect_since(
        b,
        b0,
        "Answered or Ended",
        |e| matches!(*e, Event::Answered(c) | Event::Ended { call: c, .. } if c == bc),
    )?;
    let up = |w: &World, id, from, c| answered(w, id, from, c) && !ended(w, id, from, c);
    if up(w, a, a0, ac) && up(w, b, b0, bc) {
        return Ok(true);
    }
    w.expect_since(
        a,
        a0,
        "Ended",
        |e| matches!(*e, Event::Ended { call, .. } if call == ac),
    )?;
    w.expect_since(
        b,
        b0,
        "Ended",
        |e| matches!(*e, Event::Ended { call, .. } if call == bc),
    )?;
    Ok(false)
}

/// Puts `call` of user `id` on hold, again when loss made it fail.
fn hold(w: &mut World, id: NodeId, call: CallHandle) -> Result<(), String> {
    for _ in 0..ATTEMPTS {
        let e0 = w.phone(id).events.len();
        w.command(id, Command::Hold(call));
        w.expect_since(id, e0, "Held", |e| {
            matches!(*e, Event::Held { call: c, by_remote: false } if c == call)
                || matches!(*e, Event::Ended { call: c, .. } if c == call)
                || matches!(e, Event::CommandFailed(_))
        })?;
        if find_since(w, id, e0, |e| match *e {
            Event::Held { call: c, .. } if c == call => Some(()),
            _ => None,
        })
        .is_some()
        {
            return Ok(());
        }
        if ended(w, id, e0, call) {
            return Err("the call ended while being held".into());
        }
        // A re-INVITE still pending (glare retry): give it time.
        w.sim.run_for(Duration::from_secs(5));
    }
    Err("the call could not be held".into())
}

/// User B asks the transfer with `command` (retried when the REFER itself
/// was lost for good) and returns B's event index before the one that
/// went through.
fn ask_transfer(
    w: &mut World,
    b: NodeId,
    call: CallHandle,
    to: Option<(CallHandle, &str)>,
) -> Result<usize, String> {
    for _ in 0..ATTEMPTS {
        let b0 = w.phone(b).events.len();
        match to {
            None => w.command(b, Command::Transfer { call, to: CAROL }),
            Some((consult, _)) => w.command(
                b,
                Command::CompleteTransfer {
                    held: call,
                    consult,
                },
            ),
        }
        w.expect_since(b, b0, "the transfer's first answer", |e| {
            matches!(
                *e,
                Event::TransferProgress { .. }
                    | Event::TransferFailed { .. }
                    | Event::TransferSucceeded { .. }
                    | Event::CommandFailed(_)
            )
        })?;
        // Only a REFER that never got an answer is asked again.
        let timed_out = find_since(w, b, b0, |e| match *e {
            Event::TransferFailed { code: 408, .. } => Some(()),
            _ => None,
        })
        .is_some();
        if !timed_out {
            return Ok(b0);
        }
    }
    Err("the REFER never went through".into())
}

/// The first call of user `id` from event `from` on other than `old`.
fn new_call(w: &World, id: NodeId, from: usize, old: Option<CallHandle>) -> Option<CallHandle> {
    find_since(w, id, from, |e| match *e {
        Event::IncomingCall(h) | Event::Answered(h) | Event::Ended { call: h, .. }
            if Some(h) != old =>
        {
            Some(h)
        }
        _ => None,
    })
}

/// The transferee's new call, placed by A's phone on its own: C's user
/// answers it when it rings (a call that replaces an established one is
/// answered by C's phone). When loss killed it before both ends were up,
/// A's user calls C again.
fn transferred_call_up(
    w: &mut World,
    (a, a0): (NodeId, usize),
    (c, c0): (NodeId, usize),
    old_c: Option<CallHandle>,
) -> Result<(), String> {
    w.expect_since(a, a0, "the new call (Calling)", |e| {
        matches!(e, Event::Calling(_))
    })?;
    let new_a = find_since(w, a, a0, |e| match *e {
        Event::Calling(h) => Some(h),
        _ => None,
    })
    .ok_or("no new call")?;
    // It reaches C, or fails on the way.
    let reached = w.run_until(|w| new_call(w, c, c0, old_c).is_some() || ended(w, a, a0, new_a));
    if !reached {
        return Err("the new call neither reached C nor ended".into());
    }
    let Some(new_c) = new_call(w, c, c0, old_c) else {
        return establish(w, a, c, CAROL).map(|_| ());
    };
    let rings = find_since(w, c, c0, |e| match *e {
        Event::IncomingCall(h) if h == new_c => Some(()),
        _ => None,
    })
    .is_some();
    if rings {
        w.sim.run_for(Duration::from_secs(2));
        w.command(c, Command::Answer(new_c));
    }
    if both_up(w, (a, a0, new_a), (c, c0, new_c))? {
        return Ok(());
    }
    establish(w, a, c, CAROL).map(|_| ())
}

/// Ends every call of user `id` but `keep`, as its user would hang up a
/// line left over when loss broke a transfer, and waits for the ends.
fn hang_up_all_but(w: &mut World, id: NodeId, keep: Option<CallHandle>) -> Result<(), String> {
    let calls: Vec<CallHandle> = w
        .phone(id)
        .phone
        .live_calls()
        .filter(|&h| Some(h) != keep)
        .collect();
    for call in calls {
        let e0 = w.phone(id).events.len();
        w.command(id, Command::Hangup(call));
        w.expect_since(
            id,
            e0,
            "Ended",
            |e| matches!(*e, Event::Ended { call: h, .. } if h == call),
        )?;
    }
    Ok(())
}

/// A calls B; B blind-transfers A to C and hangs up once A accepted;
/// A calls C, C answers.
fn blind(w: &mut World, refer_sub: bool) -> Result<Vec<(NodeId, usize)>, String> {
    let (a, b, c) = (w.users[0], w.users[1], w.users[2]);
    if !refer_sub {
        configure(w, b, |t| t.refer_sub = false);
    }
    let (call_a, call_b) = establish(w, a, b, BOB)?;
    w.sim.run_for(Duration::from_secs(2));
    let (a0, c0) = (w.phone(a).events.len(), w.phone(c).events.len());
    let b0 = ask_transfer(w, b, call_b, None)?;
    w.expect_since(b, b0, "202 Accepted", |e| {
        matches!(*e, Event::TransferProgress { status: 202, .. })
    })?;
    // B releases its call right after the 202 (F13-F16).
    w.expect_since(
        b,
        b0,
        "Ended(LocalHangup)",
        |e| matches!(*e, Event::Ended { call, reason: EndReason::LocalHangup } if call == call_b),
    )?;
    w.expect_since(
        a,
        a0,
        "the BYE from B",
        |e| matches!(*e, Event::Ended { call, .. } if call == call_a),
    )?;
    transferred_call_up(w, (a, a0), (c, c0), None)?;
    Ok(vec![(a, 1), (c, 1)])
}

/// A calls B; B puts A on hold and calls C; B completes the transfer once
/// C answered (attended) or while C still rings (semi-attended).
fn attended(w: &mut World, while_ringing: bool) -> Result<Vec<(NodeId, usize)>, String> {
    let (a, b, c) = (w.users[0], w.users[1], w.users[2]);
    let (_, held) = establish(w, a, b, BOB)?;
    w.sim.run_for(Duration::from_secs(2));
    hold(w, b, held)?;
    let (consult, old_c) = if while_ringing {
        ringing_consultation(w, b, c)?
    } else {
        let calls = establish(w, b, c, CAROL)?;
        w.sim.run_for(Duration::from_secs(2));
        calls
    };
    let (a0, c0) = (w.phone(a).events.len(), w.phone(c).events.len());
    let b0 = ask_transfer(w, b, held, Some((consult, CAROL)))?;
    transferred_call_up(w, (a, a0), (c, c0), Some(old_c))?;
    // The outcome, unless loss ended the call with A first (its
    // subscription ends with it).
    w.expect_since(b, b0, "the transfer's outcome", |e| {
        matches!(
            *e,
            Event::TransferSucceeded { .. } | Event::TransferFailed { .. }
        ) || matches!(*e, Event::Ended { call, .. } if call == held)
    })?;
    // On success B's phone ends the transferred call and C's the
    // consultation (RFC 5589 §7); a line loss left over, B's user hangs up.
    let succeeded = find_since(w, b, b0, |e| {
        matches!(e, Event::TransferSucceeded { .. }).then_some(())
    })
    .is_some();
    if succeeded {
        w.expect_since(
            b,
            b0,
            "the transferred call's end",
            |e| matches!(*e, Event::Ended { call, .. } if call == held),
        )?;
    }
    w.sim.run_for(Duration::from_secs(2));
    hang_up_all_but(w, b, None)?;
    Ok(vec![(a, 1), (c, 1)])
}

/// B calls C and waits until C's phone rings at B (the 180 with C's tag
/// that makes the early dialog a Replaces can name). The 180 is sent once
/// (no PRACK): a call whose 180 was lost is cancelled and placed again, as
/// B's user would. Returns B's and C's handles of the ringing call.
fn ringing_consultation(
    w: &mut World,
    b: NodeId,
    c: NodeId,
) -> Result<(CallHandle, CallHandle), String> {
    for _ in 0..3 * ATTEMPTS {
        let (b0, c0) = (w.phone(b).events.len(), w.phone(c).events.len());
        w.command(b, Command::Dial { to: CAROL });
        let call = find_since(w, b, b0, |e| match *e {
            Event::Calling(h) => Some(h),
            _ => None,
        })
        .ok_or("no Calling event")?;
        let deadline = w.sim.now() + Duration::from_secs(5);
        let rang = w.sim.run_until_true(deadline, |sim| {
            sim.node::<PhoneNode>(b)
                .events
                .iter()
                .skip(b0)
                .any(|(_, e)| matches!(*e, Event::Ringing(h) if h == call))
        });
        let at_c = find_since(w, c, c0, |e| match *e {
            Event::IncomingCall(h) => Some(h),
            _ => None,
        });
        if let (true, Some(at_c)) = (rang, at_c) {
            w.sim.run_for(Duration::from_secs(2));
            return Ok((call, at_c));
        }
        w.command(b, Command::Hangup(call));
        w.expect_since(
            b,
            b0,
            "the consultation's end",
            |e| matches!(*e, Event::Ended { call: h, .. } if h == call),
        )?;
        if at_c.is_some() {
            w.expect_since(c, c0, "Ended", |e| matches!(e, Event::Ended { .. }))?;
        }
    }
    Err("C's phone never rang at B".into())
}

/// B holds A and transfers it to C, keeping the call until the outcome;
/// C is busy (486); A reports it, B resumes A.
fn target_busy(w: &mut World) -> Result<Vec<(NodeId, usize)>, String> {
    let (a, b, c) = (w.users[0], w.users[1], w.users[2]);
    configure(w, b, |t| t.release_on_accept = false);
    let (_, held) = establish(w, a, b, BOB)?;
    w.sim.run_for(Duration::from_secs(2));
    hold(w, b, held)?;
    let c0 = w.phone(c).events.len();
    let b0 = ask_transfer(w, b, held, None)?;
    // C's user is busy when the new call rings (it may also fail on the
    // way, which A reports just the same).
    let reached = w.run_until(|w| {
        new_call(w, c, c0, None).is_some()
            || find_since(w, b, b0, |e| {
                matches!(e, Event::TransferFailed { .. }).then_some(())
            })
            .is_some()
    });
    if !reached {
        return Err("the transfer neither reached C nor failed".into());
    }
    if let Some(inc) = new_call(w, c, c0, None) {
        w.command(
            c,
            Command::Reject {
                call: inc,
                code: 486,
            },
        );
    }
    w.expect_since(b, b0, "TransferFailed", |e| {
        matches!(e, Event::TransferFailed { .. })
    })?;
    w.sim.run_for(Duration::from_secs(1));
    for _ in 0..ATTEMPTS {
        let e0 = w.phone(b).events.len();
        w.command(b, Command::Resume(held));
        w.expect_since(b, e0, "Resumed", |e| {
            matches!(
                e,
                Event::Resumed(_) | Event::CommandFailed(_) | Event::Ended { .. }
            )
        })?;
        if find_since(w, b, e0, |e| matches!(e, Event::Resumed(_)).then_some(())).is_some() {
            // A resume whose 2xx is never acknowledged ends the call
            // 64·T1 later (RFC 3261 §13.3.1.4); the users then call again.
            w.sim.run_for(Duration::from_secs(40));
            let up = |w: &World, id| w.phone(id).phone.live_calls().count() == 1;
            if !(up(w, a) && up(w, b)) {
                hang_up_all_but(w, a, None)?;
                hang_up_all_but(w, b, None)?;
                establish(w, a, b, BOB)?;
            }
            return Ok(vec![(a, 1), (b, 1)]);
        }
        w.sim.run_for(Duration::from_secs(5));
    }
    Err("B could not resume A".into())
}

/// A's user is asked and refuses: the REFER gets 603, nothing else
/// changes.
fn rejected(w: &mut World) -> Result<Vec<(NodeId, usize)>, String> {
    let (a, b) = (w.users[0], w.users[1]);
    configure(w, a, |t| t.policy = TransferPolicy::Ask);
    let (call_a, call_b) = establish(w, a, b, BOB)?;
    w.sim.run_for(Duration::from_secs(2));
    let (a0, b0) = (w.phone(a).events.len(), w.phone(b).events.len());
    w.command(
        b,
        Command::Transfer {
            call: call_b,
            to: CAROL,
        },
    );
    w.expect_since(
        a,
        a0,
        "TransferRequested",
        |e| matches!(*e, Event::TransferRequested { call } if call == call_a),
    )?;
    w.sim.run_for(Duration::from_secs(1));
    w.command(a, Command::RefuseTransfer(call_a));
    w.expect_since(b, b0, "TransferFailed(603)", |e| {
        matches!(*e, Event::TransferFailed { code: 603, .. })
    })?;
    Ok(vec![(a, 1), (b, 1)])
}
