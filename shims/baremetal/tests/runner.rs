//! The runner pumping a sans-IO core over a stream pipe pair and over an
//! in-memory datagram network whose driver pushes back.

mod common;

use common::{addr, pipe_pair, ManualClock, MemSocket, Network, OptionsCore, PingEvent};
use handset_baremetal::{Runner, StreamTransport, Udp};
use handset_core::time::{Duration, Instant};

#[test]
fn two_cores_ping_over_a_stream_pipe() {
    let (a_io, b_io) = pipe_pair(200, 7);
    let (a_addr, b_addr) = (addr("10.0.0.1:5060"), addr("10.0.0.2:5060"));
    let clock = ManualClock::default();
    let mut a: Runner<_, _, _, 64> = Runner::new(
        OptionsCore::new(a_addr, Some(b_addr), 3, 300),
        StreamTransport::<_, 1024, 1024>::new(a_io, a_addr, b_addr),
        clock.clone(),
    );
    let mut b: Runner<_, _, _, 64> = Runner::new(
        OptionsCore::new(b_addr, None, 0, 0),
        StreamTransport::<_, 1024, 1024>::new(b_io, b_addr, a_addr),
        clock.clone(),
    );
    let (mut a_events, mut b_events) = (Vec::new(), Vec::new());
    let mut wakes = Vec::new();
    for _ in 0..100 {
        let wake = a.poll(|e| a_events.push(e)).unwrap();
        b.poll(|e| b_events.push(e)).unwrap();
        wakes.push(wake);
        clock.advance(Duration::from_millis(10));
    }
    assert_eq!(
        b_events,
        (1..=3)
            .map(|cseq| PingEvent::Pinged { cseq })
            .collect::<Vec<_>>()
    );
    assert_eq!(
        a_events,
        (1..=3)
            .map(|cseq| PingEvent::Answered { cseq, status: 200 })
            .collect::<Vec<_>>()
    );
    // The wake-up is the core's next ping until the last one went out.
    assert_eq!(wakes[0], Some(Instant::from_millis(100)));
    assert_eq!(wakes[99], None);
    assert_eq!(a.stats().transmitted, 3);
    assert_eq!(b.stats().received, 3);
    assert_eq!(a.stats().received, 3);
}

#[test]
fn pushback_from_the_driver_holds_and_retries_without_loss() {
    let net = Network::default();
    let (a_addr, b_addr) = (addr("10.0.0.1:5060"), addr("10.0.0.2:5060"));
    let clock = ManualClock::default();
    let sock = |local, refuse_every| MemSocket {
        local,
        net: net.clone(),
        refuse_every,
        sends: 0,
    };
    let mut pinger = OptionsCore::new(a_addr, Some(b_addr), 10, 20);
    pinger.interval = Duration::from_millis(1);
    let mut a: Runner<_, _, _, 1500> = Runner::new(pinger, Udp(sock(a_addr, 2)), clock.clone());
    let mut b: Runner<_, _, _, 1500> = Runner::new(
        OptionsCore::new(b_addr, None, 0, 0),
        Udp(sock(b_addr, 3)),
        clock.clone(),
    );
    let (mut a_events, mut b_events) = (Vec::new(), Vec::new());
    let mut saw_retry_wake = false;
    for _ in 0..200 {
        let wake = a.poll(|e| a_events.push(e)).unwrap();
        if a.is_blocked() {
            let now = Instant::from_micros(clock.0.get());
            saw_retry_wake |= wake == Some(now + handset_baremetal::runner::RETRY_DELAY);
        }
        b.poll(|e| b_events.push(e)).unwrap();
        clock.advance(Duration::from_micros(500));
    }
    assert_eq!(b_events.len(), 10);
    assert_eq!(
        a_events,
        (1..=10)
            .map(|cseq| PingEvent::Answered { cseq, status: 200 })
            .collect::<Vec<_>>()
    );
    assert!(a.stats().deferred >= 5 && b.stats().deferred >= 3);
    assert!(saw_retry_wake);
    assert_eq!(a.stats().dropped_outgoing, 0);
}

#[test]
fn garbage_and_oversize_input_is_dropped_and_counted() {
    let (a_io, b_io) = pipe_pair(1 << 20, 1 << 20);
    let (a_addr, b_addr) = (addr("10.0.0.1:5060"), addr("10.0.0.2:5060"));
    let clock = ManualClock::default();
    let mut b: Runner<_, _, _, 64> = Runner::new(
        OptionsCore::new(b_addr, None, 0, 0),
        StreamTransport::<_, 512, 512>::new(b_io, b_addr, a_addr),
        clock.clone(),
    );
    let mut a = StreamTransport::<_, 512, 4096>::new(a_io, a_addr, b_addr);
    a.send(b"NOT SIP AT ALL\r\n\r\n").unwrap();
    let mut big = OptionsCore::new(a_addr, Some(b_addr), 2, 1000);
    let mut small = OptionsCore::new(a_addr, Some(b_addr), 2, 10);
    use handset_baremetal::{CoreOutput, SansIoCore};
    for core in [&mut big, &mut small] {
        core.handle_tick(Instant::ZERO);
        let Some(CoreOutput::Transmit { data, .. }) = core.poll_output() else {
            panic!("no ping");
        };
        a.send(data).unwrap();
    }
    let mut events = Vec::new();
    b.poll(|e| events.push(e)).unwrap();
    b.poll(|e| events.push(e)).unwrap();
    assert_eq!(events, [PingEvent::Pinged { cseq: 1 }]);
    assert_eq!(b.stats().dropped_incoming, 2);
    assert_eq!(b.stats().received, 1);
}
