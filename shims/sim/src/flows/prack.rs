//! Reliable provisional responses (RFC 3262) and UPDATE in the early
//! dialog (RFC 3311), through the stateful proxy.

use handset_core::phone::{Command, EndReason, Event, Policy, ReliableProvisional};
use handset_core::time::Duration;

use super::{run_flow, World, ABC, FLOW_DEADLINE};
use crate::cli::FlowRegistry;
use crate::trace::Label;
use crate::NodeId;

const BOB: &str = "sip:bob@example.com";

pub(super) fn register_flows(r: &mut FlowRegistry) {
    r.register(
        "prack",
        "User A calls User B with 100rel: B rings with a reliable 180 carrying its answer, \
         A acknowledges it with PRACK (RFC 3262 §3, §4) and re-offers the session by UPDATE \
         in the early dialog (RFC 3311); B answers, A hangs up",
        |p| run_flow(p, &ABC[..2], true, prack),
    );
}

fn prack(w: &mut World) -> Result<Vec<(NodeId, usize)>, String> {
    let (a, b) = (w.users[0], w.users[1]);
    let policy = Policy {
        reliable_provisional: ReliableProvisional::Supported,
        ..Policy::default()
    };
    w.command(a, Command::SetPolicy(&policy));
    w.command(b, Command::SetPolicy(&policy));
    let mut up = false;
    for _attempt in 0..3 {
        let (a0, b0) = (w.phone(a).events.len(), w.phone(b).events.len());
        up = call_up(w, a, b)?;
        if up {
            break;
        }
        // The network starved the attempt (every copy of the reliable 180,
        // or of the 2xx or its ACK, lost for 64·T1: RFC 3262 §3, RFC 3261
        // §13.3.1.4): once both ends gave up, A calls again.
        w.expect_since(a, a0, "Ended", |e| matches!(e, Event::Ended { .. }))?;
        w.expect_since(b, b0, "Ended", |e| matches!(e, Event::Ended { .. }))?;
    }
    if !up {
        return Err("the call could not be established in three attempts".into());
    }
    w.sim.run_for(Duration::from_secs(5));
    let call = w.call_of(a)?;
    w.command(a, Command::Hangup(call));
    w.expect(b, "the call end", |e| {
        matches!(
            e,
            Event::Ended {
                reason: EndReason::RemoteHangup,
                ..
            }
        )
    })?;
    if w.phone(a).saw(|e| matches!(e, Event::CommandFailed(_))) {
        return Err("User A's UPDATE was refused".into());
    }
    Ok(vec![])
}

/// One call from User A to User B: the reliable 180 and its PRACK, the
/// UPDATE in the early dialog, B's answer. `Ok(false)` when the call
/// ended on the way.
fn call_up(w: &mut World, a: NodeId, b: NodeId) -> Result<bool, String> {
    let (a0, b0) = (w.phone(a).events.len(), w.phone(b).events.len());
    let t0 = w.sim.trace().len();
    w.command(a, Command::Dial { to: BOB });
    w.expect_since(b, b0, "IncomingCall", |e| {
        matches!(e, Event::IncomingCall(_))
    })?;
    // The reliable 180 carries B's answer: early media at A.
    w.expect_since(a, a0, "EarlyMedia or Ended", |e| {
        matches!(e, Event::EarlyMedia(_) | Event::Ended { .. })
    })?;
    if !await_final(w, a, a0, t0, "PRACK")? {
        return Ok(false);
    }
    let call = w.call_of(a)?;
    let t1 = w.sim.trace().len();
    w.command(a, Command::Update(call));
    if !await_final(w, a, a0, t1, "UPDATE")? {
        return Ok(false);
    }
    w.sim.run_for(Duration::from_secs(1));
    let incoming = w.call_of(b)?;
    w.command(b, Command::Answer(incoming));
    for id in [a, b] {
        let from = if id == a { a0 } else { b0 };
        w.expect_since(id, from, "Answered or Ended", |e| {
            matches!(e, Event::Answered(_) | Event::Ended { .. })
        })?;
    }
    // B's phone is answered only by the ACK; a call whose ACK never came
    // ends on B's side 64·T1 after the 2xx.
    w.sim.run_for(Duration::from_secs(1));
    let up = |w: &World, id: NodeId, from: usize| {
        let ev = &w.phone(id).events[from..];
        ev.iter().any(|(_, e)| matches!(e, Event::Answered(_)))
            && !ev.iter().any(|(_, e)| matches!(e, Event::Ended { .. }))
    };
    Ok(up(w, a, a0) && up(w, b, b0))
}

/// Runs until user `id` received a 200 to a request of `method` (trace
/// entries from `t0` on): `Ok(true)`, or `Ok(false)` when its call ended
/// first (events from `e0` on).
fn await_final(
    w: &mut World,
    id: NodeId,
    e0: usize,
    t0: usize,
    method: &str,
) -> Result<bool, String> {
    let deadline = w.sim.now() + FLOW_DEADLINE;
    let answered = |sim: &crate::Simulation| {
        let now = sim.now();
        sim.trace().entries().iter().skip(t0).any(|e| {
            e.to == Some(id)
                && e.lost.is_none()
                && e.delivered_at.is_some_and(|t| t <= now)
                && matches!(e.label(), Label::Response(200, _))
                && answers(&e.data, method)
        })
    };
    let ended = |sim: &crate::Simulation| {
        sim.node::<crate::phone_node::PhoneNode>(id)
            .events
            .iter()
            .skip(e0)
            .any(|(_, e)| matches!(e, Event::Ended { .. }))
    };
    w.sim
        .run_until_true(deadline, |sim| answered(sim) || ended(sim));
    if answered(&w.sim) {
        Ok(true)
    } else if ended(&w.sim) {
        Ok(false)
    } else {
        Err(format!(
            "{} never got the 200 to its {method}",
            w.sim.trace().node_name(id)
        ))
    }
}

/// Whether the response `data` answers a request of `method` (its CSeq).
fn answers(data: &[u8], method: &str) -> bool {
    String::from_utf8_lossy(data).split("\r\n").any(|l| {
        l.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("CSeq")
                && value.split_whitespace().nth(1) == Some(method)
        })
    })
}
