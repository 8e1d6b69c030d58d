//! Phone nodes carrying media: RTP and RTCP leave as real packets from the
//! call's RTP address, arrive on the peer's media ports and reach the
//! peer's stream; without media carriage only SIP is on the wire.

use handset_core::media::{RtcpReport, RtpPacket};
use handset_core::phone::{Command, Event};
use handset_core::time::{Duration, Instant};
use handset_sim::network::documentation_address;
use handset_sim::phone_node::PhoneNode;
use handset_sim::{FaultProfile, Label, NodeId, Simulation};

/// User A and User B on an ideal network, calling each other directly
/// (no proxy); A dials, B answers after a second, they talk for `talk`.
fn direct_call(carry_media: bool, talk: Duration) -> (Simulation, NodeId, NodeId) {
    let mut sim = Simulation::new(5, FaultProfile::ideal());
    let a = sim.add_node("User A", |s| {
        PhoneNode::new(&s, "alice", "example.com", None)
    });
    let b = sim.add_node("User B", |s| PhoneNode::new(&s, "bob", "example.com", None));
    for u in [a, b] {
        sim.node_mut::<PhoneNode>(u).set_carry_media(carry_media);
    }
    let target = format!("sip:bob@{}", documentation_address(1));
    sim.with_node(a, |n: &mut PhoneNode, now| {
        n.command(now, Command::Dial { to: &target })
    });
    sim.run_for(Duration::from_secs(1));
    let call = sim.node::<PhoneNode>(b).last_call().expect("B rings");
    sim.with_node(b, |n: &mut PhoneNode, now| {
        n.command(now, Command::Answer(call))
    });
    sim.run_for(talk);
    for u in [a, b] {
        assert!(
            sim.node::<PhoneNode>(u)
                .saw(|e| matches!(e, Event::Answered(_))),
            "call up"
        );
    }
    (sim, a, b)
}

#[test]
fn rtp_and_rtcp_travel_between_the_negotiated_addresses() {
    let (sim, a, b) = direct_call(true, Duration::from_secs(10));
    let (na, nb) = (sim.node::<PhoneNode>(a), sim.node::<PhoneNode>(b));
    let (leg_a, leg_b) = (na.media_legs()[0], nb.media_legs()[0]);
    assert_eq!(leg_a.remote, leg_b.local);
    assert_eq!(leg_b.remote, leg_a.local);
    assert_eq!(leg_a.local.ip(), sim.address(a).ip());

    let mut rtp = 0;
    let mut rtcp = 0;
    for e in sim.trace().entries() {
        match e.label() {
            Label::Rtp => {
                let p = RtpPacket::parse(&e.data).expect("well-formed RTP");
                // 20 ms of G.711: 160 bytes.
                assert_eq!(p.payload.len(), 160);
                let leg = if e.from == a { leg_a } else { leg_b };
                assert_eq!((e.src, e.dst), (leg.local, leg.remote));
                assert_eq!(p.header.ssrc, leg.ssrc);
                rtp += 1;
            }
            Label::Rtcp => {
                RtcpReport::parse(&e.data).expect("well-formed RTCP");
                let leg = if e.from == a { leg_a } else { leg_b };
                assert_eq!((e.src, e.dst), (leg.local_rtcp(), leg.remote_rtcp()));
                rtcp += 1;
            }
            _ => {}
        }
    }
    // About 10 s at 20 ms each way, RTCP every few seconds each way.
    assert!((990..=1010).contains(&rtp), "{rtp} RTP packets");
    assert!((4..=12).contains(&rtcp), "{rtcp} RTCP packets");

    for (me, peer) in [(na, nb), (nb, na)] {
        let call = me.last_call().unwrap();
        let stream = me.phone.media_stream(call).expect("stream");
        let peer_stream = peer.phone.media_stream(peer.last_call().unwrap()).unwrap();
        // Nothing lost on an ideal link: every packet sent so far but the
        // ones still in flight arrived, in order, without jitter.
        let stats = stream.receive_stats();
        assert_eq!(stats.cumulative_lost(), 0);
        assert!(peer_stream.packets_sent() - stats.received() <= 2);
        assert_eq!(stats.jitter(), 0);
        // RFC 3550 A.1: the first packet of a source is on probation and
        // not counted.
        assert_eq!(me.media.rtp_received, stats.received() + 1);
        let report = stream.peer_report().expect("the peer reported");
        assert_eq!(report.fraction_lost, 0);
        assert!(me.reports.iter().all(|r| r.call == call));
        // The answerer opens its stream with the ACK; the caller's first
        // packet, sent with that ACK, may land on a port not yet open.
        assert!(me.media.dropped <= 1);
        // SIP still reached the phone: nothing was refused as malformed.
        assert_eq!(me.phone.stats().malformed, 0);
    }
}

#[test]
fn media_after_the_call_is_dropped_at_the_port() {
    let (mut sim, a, b) = direct_call(true, Duration::from_secs(2));
    let call = sim.node::<PhoneNode>(a).last_call().unwrap();
    sim.with_node(a, |n: &mut PhoneNode, now| {
        n.command(now, Command::Hangup(call))
    });
    sim.run_for(Duration::from_secs(40));
    for u in [a, b] {
        let n = sim.node::<PhoneNode>(u);
        assert!(n.media_legs().is_empty());
        assert_eq!(n.phone.live_calls().count(), 0);
        assert_eq!(n.phone.stats().malformed, 0, "media never reaches SIP");
    }
    // B's packets already in flight when A closed its stream land on a
    // closed port.
    assert!(sim.node::<PhoneNode>(a).media.dropped <= 1);
    let last_rtp = sim
        .trace()
        .entries()
        .iter()
        .rev()
        .find(|e| e.label() == Label::Rtp)
        .map(|e| e.sent_at)
        .unwrap();
    assert!(last_rtp < Instant::from_millis(3_100));
}

#[test]
fn without_media_carriage_only_sip_is_on_the_wire() {
    let (sim, a, b) = direct_call(false, Duration::from_secs(5));
    assert!(sim.trace().entries().iter().all(|e| e.label().is_sip()));
    for u in [a, b] {
        let n = sim.node::<PhoneNode>(u);
        assert!(n.media_outputs > 200, "the core still times media");
        assert_eq!(n.media, Default::default());
        assert!(n.media_legs().is_empty());
    }
}
