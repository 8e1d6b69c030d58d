//! The `prack` flow (seed 1, no faults) against the rules of RFC 3262 and
//! RFC 3311: the reliable 180 and its PRACK come before the 2xx (which
//! waits for the PRACK of a provisional response carrying SDP, §3), the
//! RAck names the RSeq and CSeq of the 180 (§7.2), and the UPDATE in the
//! early dialog is answered with SDP before the INVITE's 2xx.

use handset_sim::cli::{FlowParams, FlowRun};
use handset_sim::flows::registry;
use handset_sim::{FaultProfile, NodeId};

fn run() -> FlowRun {
    let flows = registry();
    let flow = flows.get("prack").expect("the prack flow");
    let r = (flow.run)(&FlowParams {
        seed: 1,
        profile: FaultProfile::ideal(),
    });
    assert_eq!(r.outcome, Ok(()));
    r
}

/// Every message, as (sender, text), in the order sent.
fn messages(r: &FlowRun) -> Vec<(NodeId, String)> {
    r.trace
        .entries()
        .iter()
        .map(|e| (e.from, String::from_utf8_lossy(&e.data).into_owned()))
        .collect()
}

fn header<'a>(m: &'a str, name: &str) -> Option<&'a str> {
    m.split("\r\n").skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

fn body(m: &str) -> &str {
    m.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// The first message whose first line starts with `start` and whose CSeq
/// method is `method`: its index and text.
fn find<'a>(ms: &'a [(NodeId, String)], start: &str, method: &str) -> (usize, &'a str) {
    ms.iter()
        .enumerate()
        .find(|(_, (_, m))| {
            m.starts_with(start)
                && header(m, "CSeq").is_some_and(|c| c.split_whitespace().nth(1) == Some(method))
        })
        .map(|(i, (_, m))| (i, m.as_str()))
        .unwrap_or_else(|| panic!("no {start} for {method}"))
}

#[test]
fn the_reliable_180_is_pracked_before_the_answer() {
    let r = run();
    let ms = messages(&r);
    let (invite_at, invite) = find(&ms, "INVITE ", "INVITE");
    assert!(
        invite.contains("\r\nSupported: 100rel\r\n"),
        "the caller offers 100rel"
    );
    let (ringing_at, ringing) = find(&ms, "SIP/2.0 180", "INVITE");
    assert_eq!(header(ringing, "Require"), Some("100rel"));
    let rseq: u32 = header(ringing, "RSeq").unwrap().parse().unwrap();
    assert!((1..1 << 31).contains(&rseq));
    assert!(body(ringing).starts_with("v=0"), "the answer rides the 180");
    let (prack_at, prack) = find(&ms, "PRACK ", "PRACK");
    let cseq = header(invite, "CSeq")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    assert_eq!(
        header(prack, "RAck").unwrap(),
        format!("{rseq} {cseq} INVITE")
    );
    let (prack_ok_at, _) = find(&ms, "SIP/2.0 200", "PRACK");
    let (update_at, update) = find(&ms, "UPDATE ", "UPDATE");
    assert_eq!(header(update, "Content-Type"), Some("application/sdp"));
    let (update_ok_at, update_ok) = find(&ms, "SIP/2.0 200", "UPDATE");
    assert!(body(update_ok).starts_with("v=0"));
    assert!(header(update_ok, "Contact").is_some());
    let (ok_at, ok) = find(&ms, "SIP/2.0 200", "INVITE");
    assert!(body(ok).is_empty(), "the answer is given once");
    let (ack_at, _) = find(&ms, "ACK ", "ACK");
    let order = [
        invite_at,
        ringing_at,
        prack_at,
        prack_ok_at,
        update_at,
        update_ok_at,
        ok_at,
        ack_at,
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    // The proxy relays the 180 with RSeq and Require untouched, and the
    // PRACK and UPDATE within the dialog to the callee.
    let relayed: Vec<&str> = ms
        .iter()
        .filter(|(_, m)| m.starts_with("SIP/2.0 180"))
        .map(|(_, m)| header(m, "RSeq").unwrap())
        .collect();
    assert_eq!(relayed.len(), 2);
    assert!(relayed.iter().all(|r| r.parse() == Ok(rseq)));
    for method in ["PRACK ", "UPDATE "] {
        let hops = ms.iter().filter(|(_, m)| m.starts_with(method)).count();
        assert_eq!(hops, 2, "{method}through the proxy");
    }
}
