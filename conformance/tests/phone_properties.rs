//! The fuzz harnesses' invariants as stable property tests: each case is a
//! byte stream from a seeded generator, read by `arbitrary` into a script.
//! A failing case names its seed; `cargo test` reruns it exactly.
//!
//! `HANDSET_PROPERTY_CASES=N` runs N cases per property instead of the
//! default.

use handset_conformance::harness::{self, phone, seeded_bytes};

fn cases(default: u64) -> u64 {
    std::env::var("HANDSET_PROPERTY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `check` on `count` seeded inputs of growing length, reporting the
/// seed of the first that panics.
fn for_seeds(count: u64, max_len: usize, check: impl Fn(&[u8]) + std::panic::RefUnwindSafe) {
    for seed in 1..=count {
        let len = 16 + (seed as usize * 37) % max_len;
        let data = seeded_bytes(seed, len);
        if let Err(e) = std::panic::catch_unwind(|| check(&data)) {
            let why = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("seed {seed} (len {len}) breaks an invariant: {why}");
        }
    }
}

#[test]
fn random_step_sequences_keep_every_phone_invariant() {
    for_seeds(cases(1500), 4096, |data| {
        phone::run(data);
    });
}

#[test]
fn random_sdp_bodies_never_break_offer_answer() {
    for_seeds(cases(3000), 512, harness::sdp::run);
}

/// Random bytes rarely parse as SDP; corpus bodies with random damage do.
#[test]
fn damaged_sdp_bodies_never_break_offer_answer() {
    let base = b"v=0\r\no=bob 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n\
m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:30\r\na=sendonly\r\n\
m=video 0 RTP/AVP 96\r\n";
    for_seeds(cases(3000), 64, |noise| {
        let mut body = base.to_vec();
        for pair in noise.chunks(2) {
            if let [at, v] = *pair {
                let i = usize::from(at) * body.len() / 256;
                body[i] = v % 0x60 + 0x20;
            }
        }
        harness::sdp::run(&body);
    });
}

/// The scripted peer must reach deep call states, or the property above
/// proves little: over the default cases some calls ring and some are
/// answered.
#[test]
fn random_scripts_reach_established_calls() {
    let mut total = phone::Summary::default();
    for seed in 1..=cases(1500) {
        let len = 16 + (seed as usize * 37) % 4096;
        let s = phone::run(&seeded_bytes(seed, len));
        total.steps += s.steps;
        total.transmitted += s.transmitted;
        total.answered += s.answered;
        total.incoming += s.incoming;
    }
    eprintln!("{total:?}");
    assert!(total.incoming > 10, "{total:?}");
    assert!(total.answered > 0, "{total:?}");
}

/// The harness's peer itself works: scripted steps establish an incoming
/// and an outgoing call, and the clean-up ends both.
#[test]
fn scripted_peer_establishes_calls_both_ways() {
    use phone::{Cmd, CodePick, HandlePick, Script, SdpPick, Step};
    let extra = phone::Extra::None;
    let script = Script {
        seed: 5,
        registrar: false,
        password: false,
        steps: vec![
            Step::Invite {
                call: 0,
                sdp: SdpPick::Audio,
                extra,
                edits: phone::Damage::default(),
            },
            Step::Command(Cmd::Answer(HandlePick::Known(0))),
            Step::Ack {
                to: 0,
                tag: phone::TagPick::Right,
                sdp: SdpPick::None,
                edits: phone::Damage::default(),
            },
            Step::Command(Cmd::Dial(0)),
            Step::Reply {
                to: 0,
                code: CodePick::Common(3),
                tag: true,
                sdp: SdpPick::Audio,
                edits: phone::Damage::default(),
            },
            Step::Wait(100),
        ],
    };
    let summary = phone::run_script(&script);
    assert_eq!((summary.incoming, summary.answered), (1, 2), "{summary:?}");
}
