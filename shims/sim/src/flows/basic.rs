//! The basic flows of RFC 3665: registration, calls answered, refused,
//! unanswered and cancelled, hang-up from either side, hold and resume.

use handset_core::phone::{Command, EndReason, Event};
use handset_core::time::Duration;

use super::{run_flow, World, ABC};
use crate::cli::FlowRegistry;

const BOB: &str = "sip:bob@example.com";

pub(super) fn register_flows(r: &mut FlowRegistry) {
    r.register(
        "register",
        "User A and User B register with the proxy (RFC 3665 §2.1)",
        |p| {
            run_flow(p, &ABC[..2], false, |w| {
                let (a, b) = (w.users[0], w.users[1]);
                w.command(a, Command::Register);
                w.command(b, Command::Register);
                w.expect(a, "Registered", |e| matches!(e, Event::Registered { .. }))?;
                w.expect(b, "Registered", |e| matches!(e, Event::Registered { .. }))?;
                let bound = w.proxy().bindings(w.sim.now());
                if bound != 2 {
                    return Err(format!("proxy holds {bound} bindings, expected 2"));
                }
                Ok(vec![])
            })
        },
    );
    r.register(
        "basic-call",
        "User A calls User B through the proxy, B answers, A hangs up (RFC 3665 §3.2)",
        |p| {
            run_flow(p, &ABC[..2], true, |w| {
                let (a, b) = (w.users[0], w.users[1]);
                establish(w, a, b)?;
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
                Ok(vec![])
            })
        },
    );
    r.register(
        "callee-hangs-up",
        "User B answers and later hangs up; A sees the BYE",
        |p| {
            run_flow(p, &ABC[..2], true, |w| {
                let (a, b) = (w.users[0], w.users[1]);
                establish(w, a, b)?;
                w.sim.run_for(Duration::from_secs(5));
                let call = w.call_of(b)?;
                w.command(b, Command::Hangup(call));
                w.expect(a, "the call end", |e| {
                    matches!(
                        e,
                        Event::Ended {
                            reason: EndReason::RemoteHangup,
                            ..
                        }
                    )
                })?;
                Ok(vec![])
            })
        },
    );
    r.register(
        "busy",
        "User B is busy and answers 486 Busy Here (RFC 3665 §3.9)",
        |p| {
            run_flow(p, &ABC[..2], true, |w| {
                let (a, b) = (w.users[0], w.users[1]);
                w.command(a, Command::Dial { to: BOB });
                w.expect(b, "IncomingCall", |e| matches!(e, Event::IncomingCall(_)))?;
                let call = w.call_of(b)?;
                w.command(b, Command::Reject { call, code: 486 });
                w.expect(a, "486", |e| {
                    matches!(
                        e,
                        Event::Ended {
                            reason: EndReason::Failed(486),
                            ..
                        }
                    )
                })?;
                Ok(vec![])
            })
        },
    );
    r.register(
        "no-answer",
        "Nobody answers; User A's phone cancels after the ring time (RFC 3665 §3.8)",
        |p| {
            run_flow(p, &ABC[..2], true, |w| {
                let (a, b) = (w.users[0], w.users[1]);
                w.command(a, Command::Dial { to: BOB });
                // Unanswered: A's ring timer cancels, or (when the proxy
                // lost touch with B's phone first) the proxy's 408 ends it.
                w.expect(a, "Ended(NoAnswer)", |e| {
                    matches!(
                        e,
                        Event::Ended {
                            reason: EndReason::NoAnswer | EndReason::Failed(408),
                            ..
                        }
                    )
                })?;
                w.expect(b, "Ended", |e| matches!(e, Event::Ended { .. }))?;
                Ok(vec![])
            })
        },
    );
    r.register(
        "cancel",
        "User A hangs up while User B's phone rings: CANCEL, 487 (RFC 3665 §3.8)",
        |p| {
            run_flow(p, &ABC[..2], true, |w| {
                let (a, b) = (w.users[0], w.users[1]);
                w.command(a, Command::Dial { to: BOB });
                w.expect(b, "IncomingCall", |e| matches!(e, Event::IncomingCall(_)))?;
                w.sim.run_for(Duration::from_secs(3));
                let call = w.call_of(a)?;
                w.command(a, Command::Hangup(call));
                w.expect(a, "Ended(Cancelled)", |e| {
                    matches!(
                        e,
                        Event::Ended {
                            reason: EndReason::Cancelled,
                            ..
                        }
                    )
                })?;
                w.expect(b, "Ended(CallerCancelled)", |e| {
                    matches!(
                        e,
                        Event::Ended {
                            reason: EndReason::CallerCancelled,
                            ..
                        }
                    )
                })?;
                Ok(vec![])
            })
        },
    );
    r.register(
        "hold-resume",
        "User A holds User B with re-INVITE sendonly and resumes (RFC 3264 §8.4)",
        |p| {
            run_flow(p, &ABC[..2], true, |w| {
                let (a, b) = (w.users[0], w.users[1]);
                establish(w, a, b)?;
                w.sim.run_for(Duration::from_secs(2));
                let call = w.call_of(a)?;
                w.command(a, Command::Hold(call));
                w.expect(a, "Held", |e| {
                    matches!(
                        e,
                        Event::Held {
                            by_remote: false,
                            ..
                        }
                    )
                })?;
                w.expect(b, "Held by remote", |e| {
                    matches!(
                        e,
                        Event::Held {
                            by_remote: true,
                            ..
                        }
                    )
                })?;
                w.sim.run_for(Duration::from_secs(3));
                w.command(a, Command::Resume(call));
                w.expect(a, "Resumed", |e| matches!(e, Event::Resumed(_)))?;
                w.expect(b, "Resumed", |e| matches!(e, Event::Resumed(_)))?;
                w.sim.run_for(Duration::from_secs(2));
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
                Ok(vec![])
            })
        },
    );
}

/// A calls B, B's phone rings for two seconds and B answers; both ends
/// see the call up. Under heavy loss every copy of B's 200 or of A's ACK
/// can be lost, and B then ends the call as RFC 3261 §13.3.1.4 says (BYE
/// after 64·T1); A redials then, as its user would, up to three times.
pub(super) fn establish(w: &mut World, a: crate::NodeId, b: crate::NodeId) -> Result<(), String> {
    for _attempt in 0..3 {
        let (a0, b0) = (w.phone(a).events.len(), w.phone(b).events.len());
        w.command(a, Command::Dial { to: BOB });
        w.expect_since(b, b0, "IncomingCall", |e| {
            matches!(e, Event::IncomingCall(_))
        })?;
        w.sim.run_for(Duration::from_secs(2));
        let call = w.call_of(b)?;
        w.command(b, Command::Answer(call));
        w.expect_since(a, a0, "Answered or Ended", |e| {
            matches!(e, Event::Answered(_) | Event::Ended { .. })
        })?;
        w.expect_since(b, b0, "Answered or Ended", |e| {
            matches!(e, Event::Answered(_) | Event::Ended { .. })
        })?;
        let up = |w: &World, id, from| {
            let ev = &w.phone(id).events[from..];
            ev.iter().any(|(_, e)| matches!(e, Event::Answered(_)))
                && !ev.iter().any(|(_, e)| matches!(e, Event::Ended { .. }))
        };
        if up(w, a, a0) && up(w, b, b0) {
            return Ok(());
        }
        // Let the failed attempt finish on both sides before redialling.
        w.expect_since(a, a0, "Ended", |e| matches!(e, Event::Ended { .. }))?;
        w.expect_since(b, b0, "Ended", |e| matches!(e, Event::Ended { .. }))?;
    }
    Err("the call could not be established in three attempts".into())
}
