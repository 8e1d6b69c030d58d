//! Seeds of the fault sweep (`handset-sim sweep-all`) replayed: each once
//! failed, and now either reaches its flow's intended end or a degraded
//! end the trace proves RFC 3261 prescribes.

use handset_core::time::Instant;
use handset_sim::cli::{FlowParams, FlowRun};
use handset_sim::flows::registry;
use handset_sim::sweep::PROFILES;
use handset_sim::{Label, Trace};

fn replay(flow: &str, seed: u64, profile: &str) -> FlowRun {
    let flows = registry();
    let flow = flows.get(flow).expect("flow registered");
    let profile = PROFILES
        .iter()
        .find(|p| p.name == profile)
        .expect("profile exists");
    (flow.run)(&FlowParams {
        seed,
        profile: (profile.profile)(seed),
    })
}

/// When `node` first sent a `method` request, if ever.
fn first_request(trace: &Trace, node: &str, method: &str) -> Option<Instant> {
    trace
        .entries()
        .iter()
        .find(|e| {
            trace.node_name(e.from) == node && matches!(e.label(), Label::Request(m) if m == method)
        })
        .map(|e| e.sent_at)
}

#[test]
fn a_reinvite_whose_every_final_response_is_lost_ends_the_call_by_itself() {
    // hold-resume, seed 432, 30 % loss: User A's resume re-INVITE gets the
    // proxy's 100 Trying, then every copy of User B's 2xx is lost. A used
    // to wait for a final response for good (no hold, no resume, its
    // INVITE transaction held) until its user hung up; now it gives up
    // after Timer C and 64·T1 and ends the call with BYE (§12.2.1.2).
    let run = replay("hold-resume", 432, "loss30+dup+reorder");
    assert_eq!(run.outcome, Ok(()));
    let why = run.degraded().expect("a degraded end");
    assert!(why.contains("User A never saw Resumed"), "{why}");
    assert!(
        why.contains("no final response reached the sender of 3 INVITE"),
        "{why}"
    );
    let bye = first_request(&run.trace, "User A", "BYE").expect("User A sends BYE");
    // The re-INVITE went out at 14.6 s; 180 s + 32 s later A hangs up by
    // itself, long before the flow's deadline (600 s) would.
    assert!(
        bye > Instant::from_millis(226_000) && bye < Instant::from_millis(228_000),
        "{bye:?}"
    );
}

#[test]
fn a_cancel_the_proxy_may_not_forward_leaves_the_callee_to_ring_out() {
    // cancel, seed 996, partition: every 180 of User B is lost, so the
    // proxy never hears B ring and may not CANCEL its branch (RFC 3261
    // §9.1, §16.10); its INVITE runs out of Timer B. A's call ends with
    // 487, B's rings until its ring timer (480).
    let run = replay("cancel", 996, "partition");
    assert_eq!(run.outcome, Ok(()));
    let why = run.degraded().expect("a degraded end");
    assert!(
        why.contains("User B never saw Ended(CallerCancelled)"),
        "{why}"
    );
    assert!(
        why.contains("no response reached the sender of 1 INVITE") && why.contains("(Proxy)"),
        "{why}"
    );
    let forwarded_cancel = run.trace.entries().iter().any(|e| {
        run.trace.node_name(e.from) == "Proxy"
            && matches!(e.label(), Label::Request(m) if m == "CANCEL")
    });
    assert!(!forwarded_cancel, "the proxy forwarded a CANCEL");
    let rang_out = run.trace.entries().iter().any(|e| {
        run.trace.node_name(e.from) == "User B" && matches!(e.label(), Label::Response(480, _))
    });
    assert!(rang_out, "User B's phone did not ring out");
}

#[test]
fn three_set_up_attempts_each_without_an_ack_give_up_on_the_call() {
    // basic-call, seed 110, 30 % loss: in each of three attempts every ACK
    // to User B's 2xx is lost for 64·T1, and B ends the call (§13.3.1.4).
    let run = replay("basic-call", 110, "loss30+dup+reorder");
    assert_eq!(run.outcome, Ok(()));
    let why = run.degraded().expect("a degraded end");
    assert_eq!(
        why.matches("no ACK reached the sender of the 2xx to 1 INVITE")
            .count(),
        3,
        "{why}"
    );
}

#[test]
fn a_clean_network_never_yields_a_degraded_end() {
    for seed in 1..=3 {
        for flow in registry().flows() {
            let run = (flow.run)(&FlowParams {
                seed,
                profile: (PROFILES[0].profile)(seed),
            });
            assert_eq!(run.outcome, Ok(()), "{} seed {seed}", flow.name);
            assert_eq!(run.degraded(), None, "{} seed {seed}", flow.name);
        }
    }
}

#[test]
fn a_missed_end_without_a_starved_transaction_still_fails() {
    // A flow body that gives up for no reason the wire can show: no
    // transaction was starved, so the run fails however cleanly it ends.
    let mut flows = handset_sim::cli::FlowRegistry::new();
    flows.register("gives-up", "establishes a call, then fails", |p| {
        handset_sim::flows::run_flow(p, &handset_sim::flows::ABC[..2], true, |w| {
            let (a, b) = (w.users[0], w.users[1]);
            w.command(
                a,
                handset_core::phone::Command::Dial {
                    to: "sip:bob@example.com",
                },
            );
            w.expect(b, "IncomingCall", |e| {
                matches!(e, handset_core::phone::Event::IncomingCall(_))
            })?;
            Err("gave up".to_string())
        })
    });
    let flow = flows.get("gives-up").unwrap();
    for (profile, seed) in [(&PROFILES[0], 1), (&PROFILES[1], 2)] {
        let run = (flow.run)(&FlowParams {
            seed,
            profile: (profile.profile)(seed),
        });
        assert_eq!(run.outcome, Err("gave up".to_string()), "{}", profile.name);
        assert_eq!(run.degraded(), None);
    }
}
