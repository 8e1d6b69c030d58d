//! Every simulator flow as a ladder snapshot (seed 1, no faults), checked
//! against the message order of the RFC flow it reproduces, plus the
//! determinism of whole runs.

use handset_sim::cli::{FlowParams, FlowRun};
use handset_sim::flows::registry;
use handset_sim::{FaultProfile, Format, RowOptions};

fn run(name: &str, seed: u64, profile: FaultProfile) -> FlowRun {
    let flows = registry();
    let flow = flows.get(name).unwrap_or_else(|| panic!("no flow {name}"));
    (flow.run)(&FlowParams { seed, profile })
}

fn ladder(run: &FlowRun) -> String {
    String::from_utf8(Format::Ladder.render(&run.trace, &RowOptions::default())).unwrap()
}

/// The `METHOD-or-status  From -> To` steps of a ladder, without numbers
/// and alignment, to compare with an RFC figure.
fn steps(ladder: &str) -> Vec<String> {
    ladder
        .lines()
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn every_flow_ends_as_expected_and_matches_its_snapshot() {
    for flow in registry().flows() {
        let r = run(flow.name, 1, FaultProfile::ideal());
        assert_eq!(r.outcome, Ok(()), "flow {}", flow.name);
        insta::assert_snapshot!(flow.name, ladder(&r));
    }
}

#[test]
fn basic_call_follows_rfc_3665_section_3_2_through_a_proxy() {
    // RFC 3665 §3.2 without the proxy's authentication challenge
    // (F1-F4 there): INVITE/100/INVITE/180/180/200/200/ACK/ACK, then BYE.
    let r = run("basic-call", 1, FaultProfile::ideal());
    assert_eq!(
        steps(&ladder(&r)),
        [
            "INVITE User A -> Proxy",
            "100 Trying Proxy -> User A",
            "INVITE Proxy -> User B",
            "180 Ringing User B -> Proxy",
            "180 Ringing Proxy -> User A",
            "200 OK User B -> Proxy",
            "200 OK Proxy -> User A",
            "ACK User A -> Proxy",
            "ACK Proxy -> User B",
            "BYE User A -> Proxy",
            "BYE Proxy -> User B",
            "200 OK User B -> Proxy",
            "200 OK Proxy -> User A",
        ]
    );
}

#[test]
fn cancel_follows_rfc_3665_section_3_8() {
    // §3.8: CANCEL is answered hop by hop with 200, the 487 is ACKed hop
    // by hop.
    let s = steps(&ladder(&run("cancel", 1, FaultProfile::ideal())));
    let pos = |x: &str| {
        s.iter()
            .position(|l| l == x)
            .unwrap_or_else(|| panic!("{x} missing in {s:?}"))
    };
    assert!(pos("CANCEL User A -> Proxy") < pos("CANCEL Proxy -> User B"));
    assert!(pos("CANCEL Proxy -> User B") < pos("487 Request Terminated User B -> Proxy"));
    assert!(pos("487 Request Terminated User B -> Proxy") < pos("ACK Proxy -> User B"));
    assert!(pos("487 Request Terminated Proxy -> User A") < pos("ACK User A -> Proxy"));
    assert_eq!(s.iter().filter(|l| l.starts_with("200 OK")).count(), 2);
}

#[test]
fn same_seed_gives_byte_identical_traces() {
    let lossy = FaultProfile::lossy(20.0, 5.0, 5.0);
    for name in ["basic-call", "hold-resume"] {
        let a = run(name, 42, lossy);
        let b = run(name, 42, lossy);
        assert_eq!(
            Format::Json.render(&a.trace, &RowOptions::default()),
            Format::Json.render(&b.trace, &RowOptions::default())
        );
        assert_eq!(
            Format::Pcap.render(&a.trace, &RowOptions::default()),
            Format::Pcap.render(&b.trace, &RowOptions::default())
        );
        let c = run(name, 43, lossy);
        assert_ne!(
            Format::Json.render(&a.trace, &RowOptions::default()),
            Format::Json.render(&c.trace, &RowOptions::default())
        );
    }
}

#[test]
fn flows_survive_loss_duplication_and_reordering() {
    // A short sweep here; `handset-sim sweep NAME --seeds 1000 ...` runs
    // the long one.
    let lossy = FaultProfile::lossy(20.0, 5.0, 5.0);
    for flow in registry().flows() {
        for seed in 1..=20 {
            let r = (flow.run)(&FlowParams {
                seed,
                profile: lossy,
            });
            assert_eq!(r.outcome, Ok(()), "flow {} seed {seed}", flow.name);
        }
    }
}

#[test]
fn tshark_reads_flow_captures_without_malformed_packets() {
    if !handset_conformance::peers::require("tshark_reads_flow_captures", &["tshark"]) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("handset-flows-pcap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let lossy = FaultProfile::lossy(20.0, 5.0, 5.0);
    for (name, seed, profile) in [
        ("basic-call", 1, FaultProfile::ideal()),
        ("hold-resume", 3, lossy),
    ] {
        let r = run(name, seed, profile);
        let path = dir.join(format!("{name}.pcap"));
        std::fs::write(&path, Format::Pcap.render(&r.trace, &RowOptions::default())).unwrap();
        let out = std::process::Command::new("tshark")
            .args([
                "-r",
                path.to_str().unwrap(),
                "-Y",
                "sip || _ws.malformed",
                "-T",
                "fields",
            ])
            .args([
                "-e",
                "frame.number",
                "-e",
                "sip.Method",
                "-e",
                "sip.Status-Code",
                "-e",
                "_ws.malformed",
            ])
            .output()
            .expect("tshark runs");
        assert!(
            out.status.success(),
            "tshark failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let rows: Vec<&str> = text.lines().collect();
        let sip_sent = r.trace.sip_entries().filter(|e| e.lost.is_none()).count();
        assert!(
            rows.len() >= sip_sent.min(1),
            "{name}: tshark saw {} SIP frames",
            rows.len()
        );
        let malformed = rows
            .iter()
            .filter(|l| l.split('\t').nth(3).is_some_and(|m| !m.is_empty()))
            .count();
        assert_eq!(malformed, 0, "{name}: malformed frames in {text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
