//! The transfer flows' ladders (seed 1, no faults) against the message
//! order of the admin guide's blind transfer (F7-F17) and of RFC 5589's
//! figures, through a stateful proxy (so a forwarded request's response
//! comes back from the far end: REFER B->P, REFER P->A, 202 A->P, 202 P->B).

use handset_sim::cli::{FlowParams, FlowRun};
use handset_sim::flows::registry;
use handset_sim::{FaultProfile, Format, RowOptions};

fn run(name: &str) -> FlowRun {
    let flows = registry();
    let flow = flows.get(name).unwrap_or_else(|| panic!("no flow {name}"));
    let r = (flow.run)(&FlowParams {
        seed: 1,
        profile: FaultProfile::ideal(),
    });
    assert_eq!(r.outcome, Ok(()), "flow {name}");
    r
}

/// `METHOD-or-status From -> To` of every message sent once (no
/// retransmissions, duplicates or losses; none happen without faults).
fn steps(run: &FlowRun) -> Vec<String> {
    let ladder =
        String::from_utf8(Format::Ladder.render(&run.trace, &RowOptions::default())).unwrap();
    ladder
        .lines()
        .filter(|l| !l.contains('('))
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .collect()
}

/// The index after the last of `want`, found in order (not necessarily
/// next to each other) in `steps` from `from` on.
fn in_order(steps: &[String], from: usize, want: &[&str]) -> usize {
    let mut at = from;
    for w in want {
        match steps.iter().skip(at).position(|s| s == w) {
            Some(i) => at += i + 1,
            None => panic!("{w:?} missing after step {at} in\n{}", steps.join("\n")),
        }
    }
    at
}

fn position(steps: &[String], step: &str) -> usize {
    steps
        .iter()
        .position(|s| s == step)
        .unwrap_or_else(|| panic!("{step:?} missing in\n{}", steps.join("\n")))
}

#[test]
fn blind_transfer_reads_like_the_admin_guide() {
    let s = steps(&run("blind-transfer"));
    // F7-F17, one after the other.
    let reference = [
        "ACK User A -> Proxy",
        "ACK Proxy -> User B",
        "REFER User B -> Proxy",
        "REFER Proxy -> User A",
        "202 Accepted User A -> Proxy",
        "202 Accepted Proxy -> User B",
        "BYE User B -> Proxy",
        "BYE Proxy -> User A",
        "200 OK User A -> Proxy",
        "200 OK Proxy -> User B",
        "INVITE User A -> Proxy",
    ];
    let start = position(&s, reference[0]);
    assert_eq!(&s[start..start + reference.len()], &reference[..]);
    let after = start + reference.len();
    // Then the ordinary call A -> C, and A's reports, refused by a B that
    // hung up.
    in_order(
        &s,
        after,
        &[
            "INVITE Proxy -> User C",
            "180 Ringing User C -> Proxy",
            "200 OK User C -> Proxy",
            "200 OK Proxy -> User A",
            "ACK User A -> Proxy",
            "ACK Proxy -> User C",
        ],
    );
    in_order(
        &s,
        after,
        &[
            "NOTIFY User A -> Proxy",
            "NOTIFY Proxy -> User B",
            "481 Call/Transaction Does Not Exist User B -> Proxy",
            "481 Call/Transaction Does Not Exist Proxy -> User A",
        ],
    );
}

#[test]
fn blind_transfer_without_subscription_sends_no_notify() {
    let s = steps(&run("blind-transfer-no-refer-sub"));
    let at = in_order(
        &s,
        0,
        &[
            "REFER User B -> Proxy",
            "202 Accepted Proxy -> User B",
            "BYE User B -> Proxy",
            "200 OK Proxy -> User B",
            "INVITE User A -> Proxy",
            "ACK Proxy -> User C",
        ],
    );
    assert!(!s.iter().any(|l| l.starts_with("NOTIFY")), "{s:#?}");
    assert_eq!(at, s.len());
}

#[test]
fn attended_transfer_follows_rfc_5589_section_7() {
    let s = steps(&run("attended-transfer"));
    let refer = in_order(
        &s,
        0,
        &[
            // B holds A, consults C.
            "INVITE User B -> Proxy",
            "INVITE Proxy -> User A",
            "200 OK Proxy -> User B",
            "INVITE User B -> Proxy",
            "INVITE Proxy -> User C",
            "200 OK User C -> Proxy",
            "ACK Proxy -> User C",
            "REFER User B -> Proxy",
        ],
    );
    // The transferee: 202, the first report, the INVITE with Replaces;
    // the target answers it at once, ends its call with B, and the
    // transferor ends its call with A after the success report.
    in_order(
        &s,
        refer - 1,
        &[
            "REFER Proxy -> User A",
            "202 Accepted User A -> Proxy",
            "NOTIFY User A -> Proxy",
            "INVITE User A -> Proxy",
            "INVITE Proxy -> User C",
            "200 OK User C -> Proxy",
            "200 OK Proxy -> User A",
            "ACK User A -> Proxy",
            "ACK Proxy -> User C",
            "BYE User C -> Proxy",
            "BYE Proxy -> User B",
        ],
    );
    in_order(
        &s,
        refer,
        &[
            "ACK User A -> Proxy",
            "NOTIFY User A -> Proxy",
            "NOTIFY Proxy -> User B",
            "BYE User B -> Proxy",
            "BYE Proxy -> User A",
            "200 OK User A -> Proxy",
        ],
    );
    // No ringing for the replacing INVITE.
    assert!(!s[refer..].iter().any(|l| l.starts_with("180")), "{s:#?}");
}

#[test]
fn semi_attended_transfer_replaces_the_ringing_call() {
    let s = steps(&run("semi-attended-transfer"));
    let refer = in_order(
        &s,
        0,
        &[
            "INVITE Proxy -> User C",
            "180 Ringing Proxy -> User B",
            "REFER User B -> Proxy",
        ],
    );
    // C's new call rings in place of B's; once answered, B's INVITE gets
    // its final answer, then B ends the call with A.
    in_order(
        &s,
        refer,
        &[
            "REFER Proxy -> User A",
            "202 Accepted User A -> Proxy",
            "NOTIFY User A -> Proxy",
            "INVITE User A -> Proxy",
            "INVITE Proxy -> User C",
            "180 Ringing User C -> Proxy",
            "200 OK User C -> Proxy",
            "ACK Proxy -> User C",
            "487 Request Terminated User C -> Proxy",
            "487 Request Terminated Proxy -> User B",
        ],
    );
    in_order(
        &s,
        refer,
        &[
            "ACK User A -> Proxy",
            "NOTIFY User A -> Proxy",
            "NOTIFY Proxy -> User B",
            "BYE User B -> Proxy",
            "BYE Proxy -> User A",
        ],
    );
    // Nobody cancels and nobody calls again: the transfer did it all.
    assert!(!s.iter().any(|l| l.starts_with("CANCEL")), "{s:#?}");
    let invites_from_a = s.iter().filter(|l| *l == "INVITE User A -> Proxy").count();
    assert_eq!(invites_from_a, 2, "{s:#?}");
}

#[test]
fn busy_target_follows_rfc_5589_section_6_2() {
    let s = steps(&run("transfer-target-busy"));
    in_order(
        &s,
        0,
        &[
            "INVITE User B -> Proxy",
            "REFER User B -> Proxy",
            "202 Accepted Proxy -> User B",
            "NOTIFY User A -> Proxy",
            "INVITE User A -> Proxy",
            "486 Busy Here User C -> Proxy",
            "486 Busy Here Proxy -> User A",
            "ACK User A -> Proxy",
            "NOTIFY User A -> Proxy",
            "NOTIFY Proxy -> User B",
            "200 OK User B -> Proxy",
            // B resumes A.
            "INVITE User B -> Proxy",
            "INVITE Proxy -> User A",
            "200 OK User A -> Proxy",
            "ACK Proxy -> User A",
        ],
    );
    assert!(!s.iter().any(|l| l.starts_with("BYE")), "{s:#?}");
}

#[test]
fn refused_transfer_gets_603_and_nothing_else() {
    let s = steps(&run("transfer-rejected"));
    let at = in_order(
        &s,
        0,
        &[
            "REFER User B -> Proxy",
            "REFER Proxy -> User A",
            "603 Decline User A -> Proxy",
            "603 Decline Proxy -> User B",
        ],
    );
    assert_eq!(at, s.len(), "{s:#?}");
}
