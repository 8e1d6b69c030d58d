//! Session timers (RFC 4028): User A's phone asks for a 90 s session
//! interval, User B's phone accepts no less than 120 s and says so with
//! 422; A asks again, B answers with A as refresher, and A repeats the
//! session with a re-INVITE every half interval. When A's phone drops off
//! the network, B ends the call before the session expires.

use std::collections::BTreeSet;

use handset_core::message::{Message, Method};
use handset_core::phone::{CallHandle, Command, EndReason, Event, Policy, SessionTimerSettings};
use handset_core::time::Duration;

use super::{run_flow, World, ABC};
use crate::cli::{FlowParams, FlowRegistry, FlowRun};
use crate::fault::Window;
use crate::NodeId;

const BOB: &str = "sip:bob@example.com";

/// What User A's phone asks for: 90 s, the smallest interval RFC 4028 §4
/// allows.
const A_ASKS: u32 = 90;
/// The smallest interval User B's phone accepts.
const B_MIN_SE: u32 = 120;

pub(super) fn register_flows(r: &mut FlowRegistry) {
    r.register(
        "session-timer-refresh",
        "Session timers (RFC 4028): User A asks for Session-Expires 90, User B's phone \
         answers 422 with Min-SE 120, A calls again asking for 120; B's 200 makes A the \
         refresher, and A re-INVITEs with the unchanged SDP every 60 s until it hangs up",
        refresh,
    );
    r.register(
        "session-timer-expiry",
        "Session timers (RFC 4028 §10): User A, the refresher, drops off the network \
         mid-call; no refresh reaches User B, whose phone sends BYE 32 s before the \
         session would expire, while A's unanswered refresh ends A's side",
        expiry,
    );
}

/// Turns session timers on for both users: A asks for [`A_ASKS`], B
/// accepts no less than [`B_MIN_SE`].
fn enable_timers(w: &mut World, a: NodeId, b: NodeId) {
    let on = |session_expires, min_se| Policy {
        session_timer: SessionTimerSettings {
            enabled: true,
            session_expires,
            min_se,
            refresher: None,
            ..SessionTimerSettings::default()
        },
        ..Policy::default()
    };
    w.command(a, Command::SetPolicy(&on(A_ASKS, 90)));
    w.command(b, Command::SetPolicy(&on(1800, B_MIN_SE)));
}

fn ended(call: CallHandle) -> impl Fn(&Event) -> bool {
    move |e| matches!(*e, Event::Ended { call: c, .. } if c == call)
}

/// A calls B and B answers (redialling when the network killed an
/// attempt, as the feature flows do).
fn establish(w: &mut World, a: NodeId, b: NodeId) -> Result<(CallHandle, CallHandle), String> {
    super::features::establish(w, a, b, BOB, true)
}

/// The CSeq numbers of the 2xx to a re-INVITE of the call `call_id` that
/// reached `id`: the refreshes (and any other re-INVITE) that succeeded.
fn refreshes_answered(w: &World, id: NodeId, call_id: &str) -> usize {
    let mut seen = BTreeSet::new();
    for e in w.sim.trace().entries() {
        if e.to != Some(id) || e.is_lost() {
            continue;
        }
        let Ok(m) = Message::parse_datagram(&e.data) else {
            continue;
        };
        let ok = m.status().is_some_and(|c| (200..300).contains(&c));
        let Some(Ok(cseq)) = m.cseq() else {
            continue;
        };
        if ok && cseq.method == Method::Invite && m.call_id() == Some(call_id) {
            seen.insert(cseq.seq);
        }
    }
    // The first 2xx answers the initial INVITE.
    seen.len().saturating_sub(1)
}

/// The Call-ID of the call A placed, from its last INVITE on the wire.
fn call_id_of(w: &World, a: NodeId) -> Option<String> {
    w.sim.trace().entries().iter().rev().find_map(|e| {
        let m = Message::parse_datagram(&e.data).ok()?;
        (e.from == a && m.method() == Some(Method::Invite))
            .then(|| m.call_id().map(String::from))?
    })
}

fn refresh(params: &FlowParams) -> FlowRun {
    run_flow(params, &ABC[..2], true, |w| {
        let (a, b) = (w.users[0], w.users[1]);
        enable_timers(w, a, b);
        for _attempt in 0..3 {
            let (a0, b0) = (w.phone(a).events.len(), w.phone(b).events.len());
            let (out, inc) = establish(w, a, b)?;
            let timer = w
                .phone(a)
                .phone
                .session_timer(out)
                .ok_or("A runs no session timer")?;
            if timer.interval != B_MIN_SE || !timer.local_refresher {
                return Err(format!(
                    "A's timer: {} s, refresher {}; expected {B_MIN_SE} s with A refreshing",
                    timer.interval, timer.local_refresher
                ));
            }
            let call_id = call_id_of(w, a).ok_or("no INVITE from A")?;
            // Two refreshes, 60 s apart; the call stays up through both.
            w.run_until(|w| {
                refreshes_answered(w, a, &call_id) >= 2
                    || w.phone(a).phone.call_state(out).is_none()
                    || w.phone(b).phone.call_state(inc).is_none()
            });
            let up = w.phone(a).phone.call_state(out).is_some()
                && w.phone(b).phone.call_state(inc).is_some();
            if up && refreshes_answered(w, a, &call_id) >= 2 {
                return refreshed_then_hang_up(w, (a, out), (b, inc));
            }
            // The network starved a refresh: B's phone ended the session
            // before it expired, or A's refresh timed out (RFC 4028 §10).
            // Both ends let go; A's user calls again.
            w.expect_since(a, a0, "Ended", ended(out))?;
            w.expect_since(b, b0, "Ended", ended(inc))?;
            let expired = w.phone(b).events[b0..].iter().any(|(_, e)| {
                matches!(*e, Event::Ended { call, reason: EndReason::SessionExpired } if call == inc)
            });
            let timed_out = w.phone(a).events[a0..].iter().any(|(_, e)| {
                matches!(*e, Event::Ended { call, reason: EndReason::Timeout } if call == out)
            });
            if !expired && !timed_out {
                return Err("the call ended during the refreshes, not by the session timer".into());
            }
        }
        Err("no call kept up through two refreshes in three attempts".into())
    })
}

/// The call is up after two refreshes: no refresh showed to either user;
/// A hangs up.
fn refreshed_then_hang_up(
    w: &mut World,
    (a, out): (NodeId, CallHandle),
    (b, inc): (NodeId, CallHandle),
) -> Result<Vec<(NodeId, usize)>, String> {
    for id in [a, b] {
        let noise = w.phone(id).saw(|e| {
            matches!(
                e,
                Event::Held { .. } | Event::Resumed(_) | Event::CommandFailed(_)
            )
        });
        if noise {
            return Err("a refresh showed to the user".into());
        }
    }
    w.sim.run_for(Duration::from_secs(5));
    w.command(a, Command::Hangup(out));
    w.expect(b, "the call end", |e| {
        matches!(
            *e,
            Event::Ended {
                call,
                reason: EndReason::RemoteHangup,
            } if call == inc
        )
    })?;
    Ok(vec![])
}

fn expiry(params: &FlowParams) -> FlowRun {
    run_flow(params, &ABC[..2], true, |w| {
        let (a, b) = (w.users[0], w.users[1]);
        enable_timers(w, a, b);
        let (out, inc) = establish(w, a, b)?;
        // Ten seconds into the call A's phone loses the network for good
        // (for the rest of the flow): its refresh at 60 s never arrives.
        let cut = w.sim.now() + Duration::from_secs(10);
        let heal = cut + Duration::from_secs(3600);
        w.sim.network_mut().isolate(a, Window::new(cut, heal));
        w.expect(b, "the session expiry", |e| {
            matches!(
                *e,
                Event::Ended {
                    call,
                    reason: EndReason::SessionExpired,
                } if call == inc
            )
        })?;
        // A's refresh gets no answer: its transaction times out and A's
        // side ends as well (RFC 4028 §10).
        w.expect(a, "the failed refresh", ended(out))?;
        Ok(vec![])
    })
}
