//! A whole call through the core allocates nothing: two phones, wired
//! back to back by a loopback made of fixed arrays, go through INVITE,
//! ringing, answer, ten seconds of RTP and RTCP each way, BYE and every
//! transaction timer running out, and a counting global allocator
//! (`allocation-counter`, per thread) sees every allocation on the way.
//! Everything is set up before the measured region.

use handset_conformance::loopback::{pair, run_call, Datagram, Script, Wire};
use handset_core::phone::{EndReason, Event};
use handset_core::time::Duration;

#[test]
fn a_whole_call_with_media_allocates_nothing() {
    // Set-up outside the measured region: phones, loopback, scratch.
    let (mut a, mut b) = pair();
    let mut wire = Box::new(Wire::new());
    let mut scratch = Box::new(Datagram::empty());
    let script = Script {
        ring: Duration::from_secs(1),
        talk: Duration::from_secs(10),
        drain: Duration::from_secs(40),
    };

    let stats =
        allocation_counter::measure(|| run_call(&mut a, &mut b, &mut wire, &mut scratch, script));

    assert_eq!(
        (stats.count_total, stats.bytes_total),
        (0, 0),
        "the core allocated during a call"
    );

    // The call really happened, media included.
    assert_eq!(wire.overflow, 0);
    for side in [&a, &b] {
        assert!(side.saw(|e| matches!(e, Event::Answered(_))));
        assert!(side.saw(|e| matches!(
            e,
            Event::Ended {
                reason: EndReason::LocalHangup | EndReason::RemoteHangup,
                ..
            }
        )));
        // 10 s at 20 ms: 500 packets each way, give or take the ones
        // around answer and hang-up.
        assert!(
            (495..=510).contains(&side.rtp_sent),
            "{} RTP sent",
            side.rtp_sent
        );
        assert!(side.rtp_received + 2 >= side.rtp_sent.min(500));
        assert!(side.rtcp_sent >= 2 && side.rtcp_received >= 2);
        assert_eq!(side.phone.live_calls().count(), 0);
        assert_eq!(side.phone.dialogs_in_use(), 0);
        assert_eq!(side.phone.transactions_in_use(), 0);
    }

    // The measurement itself works: a Vec is counted.
    let stats = allocation_counter::measure(|| drop(std::hint::black_box(vec![1u8; 64])));
    assert!(stats.count_total >= 1 && stats.bytes_total >= 64);
}
