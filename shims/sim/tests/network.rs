//! The simulated network, measured with a pinger and an echo under fixed
//! seeds: delivery, loss, duplication, reordering, spikes, partitions and
//! determinism.

mod support;

use handset_core::time::{Duration, Instant};
use handset_sim::{Chance, FaultProfile, LossCause, NodeId, Simulation, StepEvent, Trace, Window};
use support::{Echo, Pinger};

const MS: Duration = Duration::from_millis(1);

/// A pinger ("User A") and an echo ("User B"); `count` pings every
/// `interval` from 0 s.
fn ping_pong(
    seed: u64,
    profile: FaultProfile,
    interval: Duration,
    count: u32,
) -> (Simulation, NodeId, NodeId) {
    let mut sim = Simulation::new(seed, profile);
    // A is added first but targets B's address, known in advance.
    let b_addr = handset_sim::network::documentation_address(1);
    let a = sim.add_node("User A", |s| {
        Pinger::new(s, b_addr, Instant::ZERO, interval, count)
    });
    let b = sim.add_node("User B", Echo::new);
    assert_eq!(sim.address(b), b_addr);
    (sim, a, b)
}

fn run_to_end(sim: &mut Simulation) {
    sim.run_until(Instant::from_micros(u64::MAX / 2));
}

#[test]
fn ideal_link_delivers_everything_in_order_after_the_delay() {
    let profile = FaultProfile::ideal().with_delay(Duration::from_millis(15));
    let (mut sim, a, b) = ping_pong(1, profile, Duration::from_millis(20), 100);
    run_to_end(&mut sim);
    let pings = &sim.node::<Echo>(b).pings;
    assert_eq!(pings.len(), 100);
    for (i, (at, n)) in pings.iter().enumerate() {
        assert_eq!(*n as usize, i);
        assert_eq!(*at, Instant::from_millis(20 * i as u64 + 15));
    }
    let pongs = &sim.node::<Pinger>(a).pongs;
    assert_eq!(pongs.len(), 100);
    assert_eq!(pongs[7], (Instant::from_millis(140 + 30), 7));
    let counts = sim.trace().counts();
    assert_eq!((counts.sent, counts.lost, counts.duplicates), (200, 0, 0));
    assert!(sim.is_idle());
}

#[test]
fn loss_drops_the_configured_share() {
    let profile = FaultProfile::ideal().with_loss(Chance::percent(20.0));
    let (mut sim, _, b) = ping_pong(42, profile, MS, 5000);
    run_to_end(&mut sim);
    let arrived = sim.node::<Echo>(b).pings.len() as f64 / 5000.0;
    assert!((0.78..=0.82).contains(&arrived), "{arrived}");
    // Every lost datagram is in the trace, marked with its cause.
    let trace = sim.trace();
    let lost_pings = trace
        .entries()
        .iter()
        .filter(|e| e.data.starts_with(b"PING") && e.lost == Some(LossCause::Random))
        .count();
    assert_eq!(lost_pings + sim.node::<Echo>(b).pings.len(), 5000);
    let stats = sim.network().stats();
    assert_eq!(stats.lost_random as usize, trace.counts().lost);
    assert_eq!(stats.delivered + stats.lost_random, stats.sent);
}

#[test]
fn duplication_delivers_copies_that_the_trace_marks() {
    let profile = FaultProfile::ideal().with_duplicate(Chance::percent(10.0));
    let (mut sim, _, b) = ping_pong(7, profile, MS, 5000);
    run_to_end(&mut sim);
    let pings = &sim.node::<Echo>(b).pings;
    let extra = (pings.len() - 5000) as f64 / 5000.0;
    assert!((0.085..=0.115).contains(&extra), "{extra}");
    // Each number arrives once or twice, never more.
    let mut seen = vec![0u8; 5000];
    for (_, n) in pings {
        seen[*n as usize] += 1;
    }
    assert!(seen.iter().all(|&c| c == 1 || c == 2));
    let dup_pings = sim
        .trace()
        .entries()
        .iter()
        .filter(|e| e.duplicate && e.data.starts_with(b"PING"))
        .count();
    assert_eq!(dup_pings, pings.len() - 5000);
    // A network copy is not a retransmission by the sender; the echo's
    // second PONG for a duplicated PING is.
    let retransmitted: Vec<bool> = sim
        .trace()
        .entries()
        .iter()
        .filter(|e| e.retransmission)
        .map(|e| e.data.starts_with(b"PONG"))
        .collect();
    assert_eq!(retransmitted.len(), dup_pings);
    assert!(retransmitted.iter().all(|&pong| pong));
}

#[test]
fn reordering_lets_later_datagrams_overtake() {
    let profile = FaultProfile::ideal().with_reorder(Chance::percent(10.0));
    // 10 ms apart, held back 30 ms: a reordered ping arrives after the next
    // two or three.
    let (mut sim, _, b) = ping_pong(3, profile, Duration::from_millis(10), 5000);
    run_to_end(&mut sim);
    let pings = &sim.node::<Echo>(b).pings;
    assert_eq!(pings.len(), 5000, "reordering loses nothing");
    let mut highest = None;
    let mut late = 0;
    for (_, n) in pings {
        match highest {
            Some(h) if *n < h => late += 1,
            _ => highest = Some(*n),
        }
    }
    let share = f64::from(late) / 5000.0;
    assert!((0.085..=0.115).contains(&share), "{share}");
    // Arrival times never go backwards: the clock is monotonic.
    assert!(pings.windows(2).all(|w| w[0].0 <= w[1].0));
}

#[test]
fn delay_spikes_and_jitter_stay_within_their_bounds() {
    let profile = FaultProfile::ideal()
        .with_delay(Duration::from_millis(10))
        .with_jitter(Duration::from_millis(4))
        .with_spikes(Chance::percent(5.0), Duration::from_millis(400));
    let (mut sim, _, _) = ping_pong(11, profile, Duration::from_millis(20), 2000);
    run_to_end(&mut sim);
    let mut spikes = 0;
    for e in sim.trace().entries() {
        let delay = e.delivered_at.unwrap() - e.sent_at;
        if delay >= Duration::from_millis(410) {
            spikes += 1;
            assert!(delay <= Duration::from_millis(414));
        } else {
            assert!(delay >= Duration::from_millis(10) && delay <= Duration::from_millis(14));
        }
    }
    let share = f64::from(spikes) / sim.trace().len() as f64;
    assert!((0.04..=0.06).contains(&share), "{share}");
}

#[test]
fn a_partition_drops_everything_until_it_heals() {
    let profile = FaultProfile::ideal().with_delay(Duration::from_millis(5));
    let (mut sim, a, b) = ping_pong(1, profile, Duration::from_millis(100), 50);
    let cut = Window::new(Instant::from_millis(1000), Instant::from_millis(2000));
    sim.network_mut().partition(a, b, cut);
    run_to_end(&mut sim);
    let got: Vec<u32> = sim.node::<Echo>(b).pings.iter().map(|p| p.1).collect();
    // Pings 10..=19 are sent inside the window: lost. Ping 9 (900 ms)
    // arrives at 905 ms, before the cut; its pong leaves at 905 ms too.
    let want: Vec<u32> = (0..10).chain(20..50).collect();
    assert_eq!(got, want);
    let pongs: Vec<u32> = sim.node::<Pinger>(a).pongs.iter().map(|p| p.1).collect();
    assert_eq!(pongs, want);
    let partition_losses = sim
        .trace()
        .entries()
        .iter()
        .filter(|e| e.lost == Some(LossCause::Partition))
        .count();
    assert_eq!(partition_losses, 10);
}

#[test]
fn an_isolated_node_loses_replies_due_inside_the_window() {
    let profile = FaultProfile::ideal().with_delay(Duration::from_millis(50));
    let (mut sim, a, b) = ping_pong(1, profile, Duration::from_millis(100), 10);
    // B is cut off from 525 ms to 700 ms. Ping 5 (500 ms) would arrive at
    // 550 ms, inside: lost. Ping 4's pong leaves at 450 ms and arrives at
    // 500 ms, before the window: kept.
    sim.network_mut().isolate(
        b,
        Window::new(Instant::from_millis(525), Instant::from_millis(700)),
    );
    run_to_end(&mut sim);
    let got: Vec<u32> = sim.node::<Echo>(b).pings.iter().map(|p| p.1).collect();
    assert_eq!(got, [0, 1, 2, 3, 4, 7, 8, 9]);
    assert_eq!(sim.node::<Pinger>(a).pongs.len(), 8);
}

#[test]
fn per_link_profiles_override_the_default() {
    let (mut sim, a, b) = ping_pong(5, FaultProfile::ideal(), Duration::from_millis(10), 200);
    sim.network_mut()
        .set_link(a, b, FaultProfile::ideal().with_loss(Chance::ALWAYS));
    run_to_end(&mut sim);
    assert!(sim.node::<Echo>(b).pings.is_empty());
    assert_eq!(sim.trace().counts().lost, 200);
    sim.network_mut()
        .set_link_both(a, b, FaultProfile::ideal().with_delay(MS));
    assert_eq!(sim.network().profile(b, a).delay, MS);
}

fn lossy_run(seed: u64) -> Trace {
    let profile = FaultProfile::lossy(20.0, 5.0, 5.0)
        .with_spikes(Chance::percent(1.0), Duration::from_millis(300));
    let (mut sim, a, b) = ping_pong(seed, profile, Duration::from_millis(3), 400);
    sim.network_mut().partition(
        a,
        b,
        Window::new(Instant::from_millis(300), Instant::from_millis(400)),
    );
    run_to_end(&mut sim);
    sim.into_trace()
}

#[test]
fn same_seed_same_trace_other_seed_other_trace() {
    let rows = handset_sim::RowOptions::default();
    let (one, two, other) = (lossy_run(99), lossy_run(99), lossy_run(100));
    for format in handset_sim::Format::ALL {
        assert_eq!(
            format.render(&one, &rows),
            format.render(&two, &rows),
            "{format} differs between two runs of one seed"
        );
    }
    assert_ne!(
        handset_sim::render::json(&one),
        handset_sim::render::json(&other)
    );
    assert_eq!(one.entries(), two.entries());
}

#[test]
fn events_at_one_instant_run_actions_and_deliveries_in_queue_order_then_timers() {
    use support::Scripted;
    let mut sim = Simulation::new(
        1,
        FaultProfile::ideal().with_delay(Duration::from_millis(10)),
    );
    let a = sim.add_node("A", Scripted::new);
    let b = sim.add_node("B", Scripted::new);
    let b_addr = sim.address(b);
    sim.schedule_on(Instant::ZERO, a, move |n: &mut Scripted, _| {
        n.send(b_addr, b"first".to_vec())
    });
    // Queued before the delivery due at 10 ms exists: runs before it.
    sim.schedule_on(Instant::from_millis(10), b, |n: &mut Scripted, now| {
        n.received.push((now, b"action".to_vec()));
    });
    let mut events = Vec::new();
    while let Some(e) = sim.step() {
        events.push((sim.now(), e));
    }
    assert_eq!(
        events,
        [
            (Instant::ZERO, StepEvent::Action),
            (Instant::from_millis(10), StepEvent::Action),
            (
                Instant::from_millis(10),
                StepEvent::Delivered { to: b, entry: 0 }
            ),
        ]
    );
    let got: Vec<&[u8]> = sim
        .node::<Scripted>(b)
        .received
        .iter()
        .map(|r| r.1.as_slice())
        .collect();
    assert_eq!(got, [b"action".as_slice(), b"first".as_slice()]);
}

#[test]
fn run_until_true_stops_at_the_first_event_that_satisfies_it() {
    let (mut sim, _, b) = ping_pong(1, FaultProfile::ideal(), Duration::from_millis(10), 100);
    let done = sim.run_until_true(Instant::from_millis(10_000), |s| {
        s.node::<Echo>(b).pings.len() == 3
    });
    assert!(done);
    assert_eq!(sim.now(), Instant::from_millis(21));
    let never = sim.run_until_true(Instant::from_millis(100), |s| {
        s.node::<Echo>(b).pings.len() > 1000
    });
    assert!(!never);
    // Stopped before the deadline's next event, clock at the last event.
    assert!(sim.now() <= Instant::from_millis(100));
}

#[test]
fn node_seeds_are_fixed_by_the_simulation_seed_and_distinct() {
    let seeds = |seed| {
        let mut sim = Simulation::new(seed, FaultProfile::ideal());
        (0..3)
            .map(|i| {
                let mut got = 0;
                sim.add_node(&format!("N{i}"), |s| {
                    got = s.seed;
                    support::Scripted::new(s)
                });
                got
            })
            .collect::<Vec<u64>>()
    };
    assert_eq!(seeds(1), seeds(1));
    assert_ne!(seeds(1), seeds(2));
    let s = seeds(1);
    assert!(s[0] != s[1] && s[1] != s[2] && s[0] != s[2]);
}

/// A node that always wants a tick now and never moves on.
struct Stuck;
impl handset_sim::SimNode for Stuck {
    fn handle_datagram(
        &mut self,
        _: Instant,
        _: std::net::SocketAddr,
        _: std::net::SocketAddr,
        _: &[u8],
    ) {
    }
    fn handle_tick(&mut self, _: Instant) {}
    fn poll_transmit(&mut self, _: Instant) -> Option<handset_sim::Transmit> {
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Some(Instant::ZERO)
    }
}

#[test]
#[should_panic(expected = "livelock")]
fn a_node_that_never_lets_time_pass_is_reported() {
    let mut sim = Simulation::new(1, FaultProfile::ideal());
    sim.add_node("stuck", |_| Stuck);
    sim.run_until(Instant::from_millis(1));
}
