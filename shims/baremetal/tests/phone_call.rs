//! Two complete phones, each driven by a runner, through a whole call: over
//! the stream transport on an in-memory embedded-io pipe pair (SIP over
//! TCP), over the same stream transport on a real loopback TCP connection,
//! and over an in-memory datagram network whose driver pushes back.

mod common;

use common::{addr, loopback_pair, pipe_pair, ManualClock, MemSocket, Network};
use handset_baremetal::{
    Clock, PhoneEvent, Runner, RunnerStats, SansIoCore, StreamTransport, Transport, Udp,
};
use handset_core::media::MediaOutput;
use handset_core::phone::{CallHandle, Command, Config, EndReason, Event, Input, Phone};
use handset_core::time::Duration;
use handset_core::transaction::Reliability;

type Log = Vec<PhoneEvent>;

fn config(user: &str, local: &str, tcp: bool) -> Config {
    let mut c = Config::new(user, "example.com", addr(local)).unwrap();
    if tcp {
        c.identity.transport = "TCP";
        c.reliability = Reliability::Reliable;
    }
    c
}

fn user_events(log: &Log) -> Vec<Event> {
    log.iter()
        .filter_map(|e| match e {
            PhoneEvent::User(u) => Some(*u),
            PhoneEvent::Media { .. } => None,
        })
        .collect()
}

fn rtp_sent(log: &Log) -> usize {
    log.iter()
        .filter(|e| {
            matches!(
                e,
                PhoneEvent::Media {
                    output: MediaOutput::SendRtp { .. },
                    ..
                }
            )
        })
        .count()
}

/// Polls both runners every 10 ms of virtual time for `ms`, answering the
/// first incoming call on `b`.
fn run<TA, TB>(
    clock: &ManualClock,
    a: &mut Runner<Phone<2>, TA, ManualClock, 1500>,
    b: &mut Runner<Phone<2>, TB, ManualClock, 1500>,
    logs: (&mut Log, &mut Log),
    ms: u64,
) where
    TA: Transport,
    TB: Transport,
{
    for _ in 0..ms / 10 {
        a.poll(|e| logs.0.push(e)).unwrap();
        let mut incoming = None;
        b.poll(|e| {
            if let PhoneEvent::User(Event::IncomingCall(h)) = e {
                incoming = Some(h);
            }
            logs.1.push(e)
        })
        .unwrap();
        if let Some(h) = incoming {
            command(b, Command::Answer(h));
        }
        clock.advance(Duration::from_millis(10));
    }
}

fn command<T: Transport, K: Clock>(r: &mut Runner<Phone<2>, T, K, 1500>, c: Command<'_>) {
    r.with_core(|p, now| p.handle_input(now, Input::Command(c)))
        .unwrap();
}

fn answered(events: &[Event]) -> CallHandle {
    events
        .iter()
        .find_map(|e| match e {
            Event::Answered(h) => Some(*h),
            _ => None,
        })
        .expect("the call was answered")
}

/// Dials, lets the call run for a second, hangs up on `a`, and checks what
/// both sides saw.
fn full_call<TA: Transport, TB: Transport>(
    clock: &ManualClock,
    mut a: Runner<Phone<2>, TA, ManualClock, 1500>,
    mut b: Runner<Phone<2>, TB, ManualClock, 1500>,
) -> (RunnerStats, RunnerStats) {
    let (mut la, mut lb) = (Log::new(), Log::new());
    command(
        &mut a,
        Command::Dial {
            to: "sip:bob@10.0.0.2:5060",
        },
    );
    run(clock, &mut a, &mut b, (&mut la, &mut lb), 1000);
    let (ea, eb) = (user_events(&la), user_events(&lb));
    assert!(matches!(eb.first(), Some(Event::IncomingCall(_))), "{eb:?}");
    let call_a = answered(&ea);
    let call_b = answered(&eb);
    // Both streams started and sent audio every 20 ms for most of a second.
    for log in [&la, &lb] {
        assert!(log.iter().any(|e| matches!(
            e,
            PhoneEvent::Media {
                output: MediaOutput::StartStream { .. },
                ..
            }
        )));
        assert!(rtp_sent(log) >= 30, "only {} RTP packets", rtp_sent(log));
    }
    command(&mut a, Command::Hangup(call_a));
    run(clock, &mut a, &mut b, (&mut la, &mut lb), 1000);
    let (ea, eb) = (user_events(&la), user_events(&lb));
    assert!(
        ea.contains(&Event::Ended {
            call: call_a,
            reason: EndReason::LocalHangup
        }),
        "{ea:?}"
    );
    assert!(
        eb.contains(&Event::Ended {
            call: call_b,
            reason: EndReason::RemoteHangup
        }),
        "{eb:?}"
    );
    // Audio stops with the call.
    let rtp_after = (rtp_sent(&la), rtp_sent(&lb));
    run(clock, &mut a, &mut b, (&mut la, &mut lb), 500);
    assert_eq!((rtp_sent(&la), rtp_sent(&lb)), rtp_after);
    // Every transaction ends once its timers ran out (Timer K/J: 5 s/32 s
    // over UDP, zero over TCP).
    run(clock, &mut a, &mut b, (&mut la, &mut lb), 40_000);
    assert_eq!(a.core().transactions_in_use(), 0);
    assert_eq!(b.core().transactions_in_use(), 0);
    assert_eq!(SansIoCore::poll_timeout(a.core()), None);
    for p in [a.core(), b.core()] {
        assert_eq!(p.stats().malformed + p.stats().unusable, 0);
    }
    (a.stats(), b.stats())
}

#[test]
fn two_phones_call_over_an_embedded_io_pipe_pair() {
    // The link takes 300 bytes at a time and reads return 37 bytes at most:
    // every message is split and several share a read.
    let (a_io, b_io) = pipe_pair(300, 37);
    let (a_addr, b_addr) = (addr("10.0.0.1:5060"), addr("10.0.0.2:5060"));
    let clock = ManualClock::default();
    let a = Runner::new(
        Phone::new(config("alice", "10.0.0.1:5060", true), 1),
        StreamTransport::<_, 2048, 4096>::new(a_io, a_addr, b_addr),
        clock.clone(),
    );
    let b = Runner::new(
        Phone::new(config("bob", "10.0.0.2:5060", true), 2),
        StreamTransport::<_, 2048, 4096>::new(b_io, b_addr, a_addr),
        clock.clone(),
    );
    let (sa, sb) = full_call(&clock, a, b);
    assert_eq!(sa.dropped_incoming + sb.dropped_incoming, 0);
}

#[test]
fn two_phones_call_over_a_loopback_tcp_connection() {
    // The same stream transport, over a real TCP connection on 127.0.0.1
    // that the kernel splits and joins as it likes; the SIP addresses stay
    // the phones' own.
    let (a_io, b_io) = loopback_pair();
    let (a_addr, b_addr) = (addr("10.0.0.1:5060"), addr("10.0.0.2:5060"));
    let clock = ManualClock::default();
    let a = Runner::new(
        Phone::new(config("alice", "10.0.0.1:5060", true), 1),
        StreamTransport::<_, 2048, 4096>::new(a_io, a_addr, b_addr),
        clock.clone(),
    );
    let b = Runner::new(
        Phone::new(config("bob", "10.0.0.2:5060", true), 2),
        StreamTransport::<_, 2048, 4096>::new(b_io, b_addr, a_addr),
        clock.clone(),
    );
    let (sa, sb) = full_call(&clock, a, b);
    assert_eq!(sa.dropped_incoming + sb.dropped_incoming, 0);
    assert_eq!(sa.dropped_outgoing + sb.dropped_outgoing, 0);
}

#[test]
fn two_phones_call_over_udp_with_a_pushing_back_driver() {
    let net = Network::default();
    let clock = ManualClock::default();
    let sock = |local: &str| MemSocket {
        local: addr(local),
        net: net.clone(),
        refuse_every: 3,
        sends: 0,
    };
    let a = Runner::new(
        Phone::new(config("alice", "10.0.0.1:5060", false), 1),
        Udp(sock("10.0.0.1:5060")),
        clock.clone(),
    );
    let b = Runner::new(
        Phone::new(config("bob", "10.0.0.2:5060", false), 2),
        Udp(sock("10.0.0.2:5060")),
        clock.clone(),
    );
    let (sa, sb) = full_call(&clock, a, b);
    // Every third send was refused, held and sent on a later poll.
    assert!(sa.deferred > 0 && sb.deferred > 0, "{sa:?} {sb:?}");
    assert_eq!(sa.dropped_outgoing + sb.dropped_outgoing, 0);
}
