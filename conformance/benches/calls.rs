//! Call throughput and memory: how many whole simulated calls a second
//! the engine runs, and how many bytes a phone spends per call slot.
//!
//! - `sim/basic-call`: the `basic-call` flow end to end on an ideal
//!   network: a proxy/registrar and two core phones are built, both
//!   register, A calls B through the proxy, B answers, five seconds of
//!   call, A hangs up, and every timer runs out (80 s of virtual time).
//!   The media clock ticks every 20 ms but no RTP is carried.
//! - `sim/media-stats`: the `media-stats` flow, the same kind of call with
//!   30 s of RTP and RTCP each way as real packets over a lossy path.
//!
//! - `core/call-10s-media`: two core phones back to back over a zero-delay
//!   loopback of fixed arrays (no simulator, no proxy): INVITE, answer
//!   after 1 s, 10 s of RTP and RTCP each way written and read with the
//!   core's packet helpers, BYE, 40 s for every timer to run out.
//!
//! Criterion's `thrpt` is calls per second of wall-clock time.
//!
//! Run (release, ~30 s): `cargo bench -p handset-conformance --bench calls`

use std::hint::black_box;
use std::mem::size_of;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use handset_conformance::loopback::{pair, run_call, Datagram, Script, Wire};
use handset_core::phone::{Event, Phone};
use handset_core::time::Duration;
use handset_sim::cli::FlowParams;
use handset_sim::flows::registry;
use handset_sim::phone_node::SimPhone;
use handset_sim::FaultProfile;

/// Prints `size_of` of phones with 1, 2 and 4 call slots and what one
/// slot costs.
fn print_sizes() {
    let (p1, p2, p4) = (
        size_of::<Phone<1>>(),
        size_of::<Phone<2>>(),
        size_of::<Phone<4>>(),
    );
    println!("size_of::<Phone<1>>() = {p1} bytes");
    println!("size_of::<Phone<2>>() = {p2} bytes");
    println!("size_of::<Phone<4>>() = {p4} bytes");
    println!(
        "bytes per call slot = {} (Phone<2> - Phone<1>), {} (Phone<4> - Phone<1>) / 3",
        p2 - p1,
        (p4 - p1) / 3
    );
    println!(
        "size_of::<Phone<4, 16>>() (the simulator's phone) = {} bytes",
        size_of::<SimPhone>()
    );
}

fn bench(c: &mut Criterion) {
    print_sizes();
    let flows = registry();
    let mut g = c.benchmark_group("sim");
    g.throughput(Throughput::Elements(1));
    for (name, samples) in [("basic-call", 50), ("media-stats", 20)] {
        let flow = flows.get(name).expect("flow registered");
        // Each flow's own outcome checks run too: a broken call would
        // not be measured as a fast one.
        let check = (flow.run)(&FlowParams {
            seed: 1,
            profile: FaultProfile::ideal(),
        });
        assert_eq!(check.outcome, Ok(()), "{name}");
        g.sample_size(samples);
        let mut seed = 0u64;
        g.bench_function(name, |b| {
            b.iter(|| {
                seed += 1;
                let run = (flow.run)(&FlowParams {
                    seed,
                    profile: FaultProfile::ideal(),
                });
                black_box(run.trace.len())
            })
        });
    }
    g.finish();

    let script = Script {
        ring: Duration::from_secs(1),
        talk: Duration::from_secs(10),
        drain: Duration::from_secs(40),
    };
    let call = || {
        let (mut a, mut b) = pair();
        let mut wire = Box::new(Wire::new());
        let mut scratch = Box::new(Datagram::empty());
        run_call(&mut a, &mut b, &mut wire, &mut scratch, script);
        (a, b)
    };
    let (a, b) = call();
    assert!(a.saw(|e| matches!(e, Event::Ended { .. })) && b.rtp_received > 450);
    let mut g = c.benchmark_group("core");
    g.throughput(Throughput::Elements(1));
    g.sample_size(30);
    g.bench_function("call-10s-media", |bench| {
        bench.iter(|| black_box(call().0.rtp_received))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
