//! Desk-phone feature flows: registration with digest authentication,
//! do-not-disturb, auto-answer, call forwarding (on busy, on no answer),
//! call waiting and the local three-way conference. Every feature is a
//! policy of the core phone, set at run time with `Command::SetPolicy`.

use handset_core::phone::{CallHandle, Command, Config, EndReason, Event, Policy};
use handset_core::time::Duration;
use handset_core::ua::text;

use super::{User, World, ABC, DOMAIN};
use crate::cli::{FlowParams, FlowRegistry, FlowRun};
use crate::phone_node::PhoneNode;
use crate::proxy::{Proxy, ProxyConfig};
use crate::{NodeId, Simulation};

/// Users A to D; D (dave) is a forward target.
const ABCD: [User; 4] = [ABC[0], ABC[1], ABC[2], ("User D", "dave")];

/// Passwords of the digest-authenticating registrar.
const CREDENTIALS: [(&str, &str); 2] = [("alice", "wonderland"), ("bob", "builder")];

pub(super) fn register_flows(r: &mut FlowRegistry) {
    r.register(
        "register-auth",
        "User A registers through a digest-challenging registrar: 401, REGISTER with \
         Authorization, 200; a refresh before expiry; un-register (RFC 3261 §10.2, §22)",
        register_auth,
    );
    r.register(
        "dnd",
        "User B turns do-not-disturb on: User A's call is refused with 486 without ringing; \
         B turns it off and the next call rings",
        dnd,
    );
    r.register(
        "auto-answer",
        "User B's phone answers by itself after three seconds of ringing",
        auto_answer,
    );
    r.register(
        "forward-busy",
        "User B talks to User C and forwards on busy to User D: User A gets 302 and \
         follows it to D (RFC 3261 §8.1.3.4)",
        forward_busy,
    );
    r.register(
        "forward-no-answer",
        "User B forwards unanswered calls after five seconds to User C: 302 from B, \
         User A's phone calls C, who answers",
        forward_no_answer,
    );
    r.register(
        "call-waiting",
        "User B talks to User A when User C calls: B's phone rings, B answers C (A is \
         held), swaps back to A; with call waiting off a further call gets 486",
        call_waiting,
    );
    r.register(
        "conference",
        "User A talks to User B, holds B, calls User C and joins both into a local \
         three-way conference (B resumed, the shim mixes both calls)",
        conference,
    );
}

/// A world whose proxy asks for digest authentication of REGISTER with
/// [`CREDENTIALS`], each phone configured with its password and a short
/// registration interval so refreshes show in the flow.
fn auth_world(params: &FlowParams) -> World {
    let mut sim = Simulation::new(params.seed, params.profile);
    let proxy = sim.add_node("Proxy", |setup| {
        Proxy::<64>::new(
            setup,
            ProxyConfig::new(DOMAIN).with_credentials(&CREDENTIALS),
        )
    });
    let proxy_addr = sim.address(proxy);
    let users: Vec<NodeId> = ABC[..2]
        .iter()
        .zip(CREDENTIALS)
        .map(|(&(name, user), (_, password))| {
            sim.add_node(name, move |setup| {
                let mut config: Config =
                    Config::new(user, DOMAIN, setup.addr).expect("short user and domain");
                config.outbound_proxy = Some(proxy_addr);
                config.registrar = Some(proxy_addr);
                config.register.password = text(password).expect("short password");
                config.register.expires = 120;
                PhoneNode::with_config(&setup, config)
            })
        })
        .collect();
    World {
        sim,
        proxy,
        users,
        setup_len: 0,
    }
}

/// Runs `body` in a world built by hand (no registration set-up).
fn run_flow_in(
    mut world: World,
    body: impl FnOnce(&mut World) -> Result<Vec<(NodeId, usize)>, String>,
) -> FlowRun {
    match body(&mut world) {
        Ok(live) => world.finish(&live),
        Err(e) => world.degraded_end(e),
    }
}

fn register_auth(params: &FlowParams) -> FlowRun {
    run_flow_in(auth_world(params), |w| {
        let a = w.users[0];
        w.command(a, Command::Register);
        w.expect(a, "Registered", |e| matches!(e, Event::Registered { .. }))?;
        if w.proxy().binding(w.sim.now(), "alice").is_none() {
            return Err("the proxy holds no binding for alice".into());
        }
        // 120 s granted: the phone refreshes 30 s before expiry.
        let n = w.phone(a).events.len();
        w.expect_since(a, n, "the refresh", |e| {
            matches!(e, Event::Registered { .. })
        })?;
        w.command(a, Command::Unregister);
        w.expect(a, "Unregistered", |e| matches!(e, Event::Unregistered))?;
        if w.phone(a)
            .saw(|e| matches!(e, Event::RegistrationFailed { .. }))
        {
            return Err("a registration attempt failed".into());
        }
        Ok(vec![])
    })
}

fn set_policy(w: &mut World, id: NodeId, policy: &Policy) {
    w.command(id, Command::SetPolicy(policy));
}

/// The handle of the newest event of `id` matching `pick`, from index
/// `from` on.
fn handle_since(
    w: &World,
    id: NodeId,
    from: usize,
    pick: impl Fn(&Event) -> Option<CallHandle>,
) -> Option<CallHandle> {
    w.phone(id).events[from..]
        .iter()
        .rev()
        .find_map(|(_, e)| pick(e))
}

fn incoming(e: &Event) -> Option<CallHandle> {
    match *e {
        Event::IncomingCall(h) => Some(h),
        _ => None,
    }
}

fn calling(e: &Event) -> Option<CallHandle> {
    match *e {
        Event::Calling(h) => Some(h),
        _ => None,
    }
}

fn ended(call: CallHandle) -> impl Fn(&Event) -> bool {
    move |e| matches!(*e, Event::Ended { call: c, .. } if c == call)
}

/// `caller` dials `uri`, `callee`'s phone rings (or answers by itself when
/// `answer` is false) and the call comes up on both ends. Under heavy loss
/// an attempt can die (every copy of the 200 or ACK lost ends it with BYE
/// after 64·T1); the caller then redials, as its user would, up to three
/// times. Returns the caller's and the callee's handle.
pub(super) fn establish(
    w: &mut World,
    caller: NodeId,
    callee: NodeId,
    uri: &str,
    answer: bool,
) -> Result<(CallHandle, CallHandle), String> {
    for _attempt in 0..3 {
        let (a0, b0) = (w.phone(caller).events.len(), w.phone(callee).events.len());
        w.command(caller, Command::Dial { to: uri });
        let out = handle_since(w, caller, a0, calling).ok_or("the dial was refused")?;
        w.expect_since(callee, b0, "IncomingCall", |e| {
            matches!(e, Event::IncomingCall(_))
        })?;
        let inc = handle_since(w, callee, b0, incoming).ok_or("no incoming call")?;
        if answer {
            w.sim.run_for(Duration::from_secs(2));
            w.command(callee, Command::Answer(inc));
        }
        let up_or_ended = |h: CallHandle| move |e: &Event| matches!(*e, Event::Answered(c) | Event::Ended { call: c, .. } if c == h);
        w.expect_since(caller, a0, "Answered or Ended", up_or_ended(out))?;
        w.expect_since(callee, b0, "Answered or Ended", up_or_ended(inc))?;
        let live = |w: &World, id: NodeId, h: CallHandle| w.phone(id).phone.call_state(h).is_some();
        let up = |w: &World, id: NodeId, from: usize, h: CallHandle| {
            w.phone(id).events[from..]
                .iter()
                .any(|(_, e)| *e == Event::Answered(h))
        };
        if up(w, caller, a0, out)
            && up(w, callee, b0, inc)
            && live(w, caller, out)
            && live(w, callee, inc)
        {
            return Ok((out, inc));
        }
        w.expect_since(caller, a0, "Ended", ended(out))?;
        w.expect_since(callee, b0, "Ended", ended(inc))?;
    }
    Err("the call could not be established in three attempts".into())
}

/// `id` hangs up `call`; `peer` sees its end of it (`peer_call`) end.
pub(super) fn hang_up(
    w: &mut World,
    id: NodeId,
    call: CallHandle,
    peer: NodeId,
    peer_call: CallHandle,
) -> Result<(), String> {
    w.command(id, Command::Hangup(call));
    w.expect(peer, "the call end", ended(peer_call))?;
    Ok(())
}

/// `a` hangs up every call it still has, and waits for them to end.
fn hang_up_all(w: &mut World, a: NodeId) -> Result<(), String> {
    let calls: Vec<CallHandle> = w.phone(a).phone.live_calls().collect();
    for c in calls {
        w.command(a, Command::Hangup(c));
        w.expect(a, "the call end", ended(c))?;
    }
    Ok(())
}

fn dnd(params: &FlowParams) -> FlowRun {
    super::run_flow(params, &ABC[..2], true, |w| {
        let (a, b) = (w.users[0], w.users[1]);
        let mut policy = Policy {
            dnd: Some(486),
            ..Policy::default()
        };
        set_policy(w, b, &policy);
        w.command(
            a,
            Command::Dial {
                to: "sip:bob@example.com",
            },
        );
        w.expect(a, "486", |e| {
            matches!(
                e,
                Event::Ended {
                    reason: EndReason::Failed(486),
                    ..
                }
            )
        })?;
        w.expect(b, "CallRefused(486)", |e| {
            matches!(e, Event::CallRefused { code: 486 })
        })?;
        if w.phone(b).saw(|e| matches!(e, Event::IncomingCall(_))) {
            return Err("User B's phone rang in do-not-disturb".into());
        }
        w.sim.run_for(Duration::from_secs(2));
        policy.dnd = None;
        set_policy(w, b, &policy);
        let (out, inc) = establish(w, a, b, "sip:bob@example.com", true)?;
        w.sim.run_for(Duration::from_secs(2));
        hang_up(w, a, out, b, inc)?;
        Ok(vec![])
    })
}

fn auto_answer(params: &FlowParams) -> FlowRun {
    super::run_flow(params, &ABC[..2], true, |w| {
        let (a, b) = (w.users[0], w.users[1]);
        let policy = Policy {
            auto_answer: Some(Duration::from_secs(3)),
            ..Policy::default()
        };
        set_policy(w, b, &policy);
        let (out, inc) = establish(w, a, b, "sip:bob@example.com", false)?;
        w.sim.run_for(Duration::from_secs(3));
        hang_up(w, a, out, b, inc)?;
        Ok(vec![])
    })
}

fn forward_busy(params: &FlowParams) -> FlowRun {
    super::run_flow(params, &ABCD, true, |w| {
        let (a, b, c, d) = (w.users[0], w.users[1], w.users[2], w.users[3]);
        let policy = Policy {
            call_waiting: false,
            forward_busy: text("sip:dave@example.com"),
            ..Policy::default()
        };
        set_policy(w, b, &policy);
        let (c_out, b_inc) = establish(w, c, b, "sip:bob@example.com", true)?;
        w.sim.run_for(Duration::from_secs(1));
        let (a_out, d_inc) = establish(w, a, d, "sip:bob@example.com", true)?;
        if !w.phone(a).saw(|e| *e == Event::Redirected(a_out)) {
            return Err("User A's call was not redirected".into());
        }
        if !w
            .phone(b)
            .saw(|e| matches!(e, Event::CallRefused { code: 302 }))
        {
            return Err("User B's phone did not forward".into());
        }
        w.sim.run_for(Duration::from_secs(2));
        hang_up(w, a, a_out, d, d_inc)?;
        hang_up(w, c, c_out, b, b_inc)?;
        Ok(vec![])
    })
}

fn forward_no_answer(params: &FlowParams) -> FlowRun {
    super::run_flow(params, &ABC, true, |w| {
        let (a, b, c) = (w.users[0], w.users[1], w.users[2]);
        let policy = Policy {
            forward_no_answer: text("sip:carol@example.com"),
            forward_no_answer_after: Duration::from_secs(5),
            ..Policy::default()
        };
        set_policy(w, b, &policy);
        let b0 = w.phone(b).events.len();
        let (a_out, c_inc) = establish(w, a, c, "sip:bob@example.com", true)?;
        w.expect_since(b, b0, "Ended(302)", |e| {
            matches!(
                e,
                Event::Ended {
                    reason: EndReason::Rejected(302),
                    ..
                }
            )
        })?;
        if !w.phone(a).saw(|e| *e == Event::Redirected(a_out)) {
            return Err("User A's call was not redirected".into());
        }
        w.sim.run_for(Duration::from_secs(2));
        hang_up(w, a, a_out, c, c_inc)?;
        Ok(vec![])
    })
}

fn held_by_remote(call: CallHandle) -> impl Fn(&Event) -> bool {
    move |e| matches!(*e, Event::Held { call: c, by_remote: true } if c == call)
}

fn held_locally(call: CallHandle) -> impl Fn(&Event) -> bool {
    move |e| matches!(*e, Event::Held { call: c, by_remote: false } if c == call)
}

fn call_waiting(params: &FlowParams) -> FlowRun {
    super::run_flow(params, &ABC, true, |w| {
        let (a, b, c) = (w.users[0], w.users[1], w.users[2]);
        let (a_out, b_a) = establish(w, a, b, "sip:bob@example.com", true)?;
        w.sim.run_for(Duration::from_secs(2));
        // C calls while B talks to A: B's phone rings (call waiting), and
        // answering C puts A on hold.
        let a0 = w.phone(a).events.len();
        let (c_out, b_c) = establish(w, c, b, "sip:bob@example.com", true)?;
        w.expect_since(a, a0, "Held by B", held_by_remote(a_out))?;
        w.expect(b, "Held (User A)", held_locally(b_a))?;
        w.sim.run_for(Duration::from_secs(2));
        // Swap: C on hold, A back.
        let (a1, c1) = (w.phone(a).events.len(), w.phone(c).events.len());
        w.command(b, Command::Hold(b_c));
        w.expect_since(c, c1, "Held by B", held_by_remote(c_out))?;
        w.expect(b, "Held (User C)", held_locally(b_c))?;
        w.command(b, Command::Resume(b_a));
        w.expect_since(a, a1, "Resumed", |e| *e == Event::Resumed(a_out))?;
        w.sim.run_for(Duration::from_secs(2));
        hang_up(w, b, b_c, c, c_out)?;
        // Call waiting off: a second call while B talks gets 486.
        let policy = Policy {
            call_waiting: false,
            ..Policy::default()
        };
        set_policy(w, b, &policy);
        let c2 = w.phone(c).events.len();
        w.command(
            c,
            Command::Dial {
                to: "sip:bob@example.com",
            },
        );
        w.expect_since(c, c2, "486", |e| {
            matches!(
                e,
                Event::Ended {
                    reason: EndReason::Failed(486),
                    ..
                }
            )
        })?;
        hang_up(w, a, a_out, b, b_a)?;
        Ok(vec![])
    })
}

fn conference(params: &FlowParams) -> FlowRun {
    super::run_flow(params, &ABC, true, |w| {
        let (a, b, c) = (w.users[0], w.users[1], w.users[2]);
        let (a_b, b_a) = establish(w, a, b, "sip:bob@example.com", true)?;
        w.sim.run_for(Duration::from_secs(2));
        let b0 = w.phone(b).events.len();
        w.command(a, Command::Hold(a_b));
        w.expect_since(b, b0, "Held by A", held_by_remote(b_a))?;
        w.expect(a, "Held (User B)", held_locally(a_b))?;
        let (a_c, c_a) = establish(w, a, c, "sip:carol@example.com", true)?;
        w.sim.run_for(Duration::from_secs(2));
        let b1 = w.phone(b).events.len();
        w.command(a, Command::Conference(a_b, a_c));
        w.expect(a, "ConferenceStarted", |e| {
            *e == Event::ConferenceStarted { calls: [a_b, a_c] }
        })?;
        w.expect_since(b, b1, "Resumed", |e| *e == Event::Resumed(b_a))?;
        w.sim.run_for(Duration::from_secs(5));
        hang_up(w, a, a_c, c, c_a)?;
        w.expect(a, "ConferenceEnded", |e| *e == Event::ConferenceEnded)?;
        hang_up_all(w, a)?;
        w.expect(b, "the call end", ended(b_a))?;
        Ok(vec![])
    })
}
