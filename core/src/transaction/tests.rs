//! State-machine tests with exact timer instants (T1 = 500 ms, T2 = 4 s,
//! T4 = 5 s unless a test says otherwise).

extern crate std;

use std::format;
use std::string::String;
use std::vec::Vec;

use super::*;
use crate::message::{Message, Method};
use crate::time::Instant;
use core::net::SocketAddr;

const BRANCH: &str = "z9hG4bK74bf9";

fn at(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

fn peer() -> SocketAddr {
    "192.0.2.20:5060".parse().unwrap()
}

fn cfg() -> TimerConfig {
    TimerConfig::default()
}

fn parse(s: &str) -> Message<'_> {
    Message::parse_datagram(s.as_bytes()).unwrap()
}

/// A request with two Route headers (one line holding two values) so that
/// derived ACKs and CANCELs can be checked for them.
fn request(method: &str, branch: &str) -> String {
    format!(
        "{method} sip:bob@biloxi.example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch={branch}\r\n\
         Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKolder\r\n\
         Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n\
         Route: <sip:p3.example.com;lr>\r\n\
         Max-Forwards: 70\r\n\
         From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
         To: Bob <sip:bob@biloxi.example.com>\r\n\
         Call-ID: 3848276298220188511@atlanta.example.com\r\n\
         CSeq: 1 {method}\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

fn invite() -> String {
    request("INVITE", BRANCH)
}

fn response(code: u16, method: &str, branch: &str, to_tag: &str) -> String {
    format!(
        "SIP/2.0 {code} Whatever\r\n\
         Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch={branch};received=192.0.2.1\r\n\
         Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKolder\r\n\
         From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
         To: Bob <sip:bob@biloxi.example.com>;tag={to_tag}\r\n\
         Call-ID: 3848276298220188511@atlanta.example.com\r\n\
         CSeq: 1 {method}\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// A machine with a pool of its own, so that the tests read as if the
/// machine held its message: the wrappers pass the pool along.
struct Pooled<T> {
    tx: T,
    pool: MessagePool<2>,
}

impl<T> core::ops::Deref for Pooled<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.tx
    }
}

impl<T> core::ops::DerefMut for Pooled<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.tx
    }
}

macro_rules! pooled_common {
    ($($t:ty),*) => {$(
        impl Pooled<$t> {
            fn message(&self) -> &[u8] {
                self.tx.message(&self.pool)
            }
            fn trim(&mut self) {
                self.tx.trim(&mut self.pool)
            }
        }
    )*};
}
pooled_common!(
    InviteClientTransaction,
    NonInviteClientTransaction,
    InviteServerTransaction,
    NonInviteServerTransaction
);

impl Pooled<InviteClientTransaction> {
    fn on_response(&mut self, now: Instant, r: &Message<'_>) -> ClientEvent {
        self.tx.on_response(now, r, &mut self.pool)
    }
    fn write_cancel(&self, out: &mut [u8]) -> Result<usize, TransactionError> {
        self.tx.write_cancel(out, &self.pool)
    }
}

macro_rules! pooled_server {
    ($($t:ty),*) => {$(
        impl Pooled<$t> {
            fn send_response(&mut self, now: Instant, r: &[u8]) -> Result<(), TransactionError> {
                self.tx.send_response(now, r, &mut self.pool)
            }
        }
    )*};
}
pooled_server!(InviteServerTransaction, NonInviteServerTransaction);

fn pooled<T>(make: impl FnOnce(&mut MessagePool<2>) -> T) -> Pooled<T> {
    let mut pool = MessagePool::new();
    let tx = make(&mut pool);
    Pooled { tx, pool }
}

fn invite_client(rel: Reliability) -> Pooled<InviteClientTransaction> {
    pooled(|p| {
        InviteClientTransaction::new(invite().as_bytes(), peer(), rel, cfg(), at(0), p).unwrap()
    })
}

fn non_invite_client(rel: Reliability) -> Pooled<NonInviteClientTransaction> {
    let r = request("OPTIONS", BRANCH);
    pooled(|p| NonInviteClientTransaction::new(r.as_bytes(), peer(), rel, cfg(), at(0), p).unwrap())
}

fn invite_server(rel: Reliability) -> Pooled<InviteServerTransaction> {
    pooled(|_| {
        InviteServerTransaction::new(invite().as_bytes(), peer(), rel, cfg(), at(0)).unwrap()
    })
}

fn non_invite_server(rel: Reliability) -> Pooled<NonInviteServerTransaction> {
    let r = request("BYE", BRANCH);
    pooled(|_| NonInviteServerTransaction::new(r.as_bytes(), peer(), rel, cfg(), at(0)).unwrap())
}

/// The timer interface the four machines share.
trait Timed {
    fn poll(&self) -> Option<Instant>;
    fn fire(&mut self, now: Instant) -> Option<TimerEvent>;
}

macro_rules! timed {
    ($($t:ty),*) => {$(
        impl Timed for $t {
            fn poll(&self) -> Option<Instant> {
                self.poll_timeout()
            }
            fn fire(&mut self, now: Instant) -> Option<TimerEvent> {
                self.on_timer(now)
            }
        }
    )*};
}
timed!(
    InviteClientTransaction,
    NonInviteClientTransaction,
    InviteServerTransaction,
    NonInviteServerTransaction
);

impl<T: Timed> Timed for Pooled<T> {
    fn poll(&self) -> Option<Instant> {
        self.tx.poll()
    }
    fn fire(&mut self, now: Instant) -> Option<TimerEvent> {
        self.tx.fire(now)
    }
}

/// Fires each deadline in turn until the machine reports a final event;
/// returns `(instant in ms, event)` pairs. One microsecond before each
/// deadline nothing may happen.
fn run_timers(tx: &mut impl Timed) -> Vec<(u64, TimerEvent)> {
    let mut out = Vec::new();
    while let Some(t) = tx.poll() {
        if t.as_micros() > 0 {
            assert_eq!(tx.fire(Instant::from_micros(t.as_micros() - 1)), None);
        }
        let ev = tx.fire(t).expect("a due timer does something");
        out.push((t.as_millis(), ev));
        if ev.is_final() {
            break;
        }
    }
    out
}

// ---------------------------------------------------------------- INVITE client

#[test]
fn invite_client_timer_a_doubles_without_cap_until_timer_b() {
    let mut tx = invite_client(Reliability::Unreliable);
    assert_eq!(tx.state(), InviteClientState::Calling);
    assert_eq!(tx.timer(TimerKind::A), Some(at(500)));
    assert_eq!(tx.timer(TimerKind::B), Some(at(32_000)));
    let ev = run_timers(&mut tx);
    use TimerEvent::*;
    // RFC 3261 §17.1.1.2: 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s, then B at 32 s.
    assert_eq!(
        ev,
        [
            (500, Retransmit),
            (1_500, Retransmit),
            (3_500, Retransmit),
            (7_500, Retransmit),
            (15_500, Retransmit),
            (31_500, Retransmit),
            (32_000, Timeout)
        ]
    );
    assert_eq!(tx.state(), InviteClientState::Terminated);
    assert_eq!(tx.poll_timeout(), None);
    assert_eq!(tx.message(), invite().as_bytes());
}

#[test]
fn invite_client_over_reliable_transport_never_retransmits() {
    let mut tx = invite_client(Reliability::Reliable);
    assert_eq!(tx.timer(TimerKind::A), None);
    let ev = run_timers(&mut tx);
    assert_eq!(ev, [(32_000, TimerEvent::Timeout)]);
}

#[test]
fn invite_client_custom_t1_scales_a_and_b() {
    let config = TimerConfig {
        t1: Duration::from_millis(100),
        ..TimerConfig::default()
    };
    let mut tx = pooled(|p| {
        InviteClientTransaction::new(
            invite().as_bytes(),
            peer(),
            Reliability::Unreliable,
            config,
            at(1000),
            p,
        )
        .unwrap()
    });
    assert_eq!(tx.poll_timeout(), Some(at(1_100)));
    assert_eq!(tx.timer(TimerKind::B), Some(at(1_000 + 6_400)));
    assert_eq!(tx.on_timer(at(1_100)), Some(TimerEvent::Retransmit));
    assert_eq!(tx.poll_timeout(), Some(at(1_300)));
}

#[test]
fn invite_client_provisional_stops_retransmission_and_timer_b() {
    let mut tx = invite_client(Reliability::Unreliable);
    assert_eq!(tx.on_timer(at(500)), Some(TimerEvent::Retransmit));
    let ringing = response(180, "INVITE", BRANCH, "8321234356");
    assert_eq!(
        tx.on_response(at(700), &parse(&ringing)),
        ClientEvent::Deliver
    );
    assert_eq!(tx.state(), InviteClientState::Proceeding);
    assert_eq!(tx.poll_timeout(), None);
    // Every provisional goes to the TU.
    assert_eq!(
        tx.on_response(at(800), &parse(&ringing)),
        ClientEvent::Deliver
    );
    assert_eq!(tx.on_timer(at(100_000)), None);
    assert_eq!(tx.state(), InviteClientState::Proceeding);
}

#[test]
fn invite_client_acknowledges_non_2xx_and_each_retransmission() {
    let mut tx = invite_client(Reliability::Unreliable);
    let ringing = response(180, "INVITE", BRANCH, "8321234356");
    tx.on_response(at(100), &parse(&ringing));
    let busy = response(486, "INVITE", BRANCH, "8321234356");
    assert_eq!(
        tx.on_response(at(2_000), &parse(&busy)),
        ClientEvent::DeliverAndAck
    );
    assert_eq!(tx.state(), InviteClientState::Completed);
    // RFC 3261 §17.1.1.2: Timer D ≥ 32 s over UDP.
    assert_eq!(tx.poll_timeout(), Some(at(34_000)));

    let ack = String::from_utf8(tx.message().to_vec()).unwrap();
    let m = parse(&ack);
    assert_eq!(m.method(), Some(Method::Ack));
    assert_eq!(m.request_line().unwrap().uri, "sip:bob@biloxi.example.com");
    assert_eq!(m.call_id(), Some("3848276298220188511@atlanta.example.com"));
    assert_eq!(m.from().unwrap().unwrap().tag(), Some("9fxced76sl"));
    // To comes from the response, with its tag.
    assert_eq!(m.to().unwrap().unwrap().tag(), Some("8321234356"));
    let cseq = m.cseq().unwrap().unwrap();
    assert_eq!((cseq.seq, cseq.method), (1, Method::Ack));
    // Exactly one Via, the INVITE's top Via (same branch).
    let vias: Vec<_> = m.vias().map(|v| v.unwrap()).collect();
    assert_eq!(vias.len(), 1);
    assert_eq!(vias[0].branch(), Some(BRANCH));
    assert_eq!(vias[0].port, Some(5060));
    // The INVITE's Route headers, in order.
    let routes: Vec<_> = m.header_values(crate::message::HeaderName::Route).collect();
    assert_eq!(
        routes,
        [
            "<sip:p1.example.com;lr>",
            "<sip:p2.example.com;lr>",
            "<sip:p3.example.com;lr>"
        ]
    );
    assert_eq!(m.max_forwards(), Some(Ok(70)));
    assert!(m.body().is_empty());

    // Each retransmitted final: ACK again, not shown to the TU.
    for t in [2_500, 3_000] {
        assert_eq!(tx.on_response(at(t), &parse(&busy)), ClientEvent::Ack);
        assert_eq!(tx.message(), ack.as_bytes());
    }
    assert_eq!(
        tx.on_response(at(3_100), &parse(&ringing)),
        ClientEvent::Absorb
    );
    assert_eq!(tx.on_timer(at(33_999)), None);
    assert_eq!(tx.on_timer(at(34_000)), Some(TimerEvent::Terminated));
    assert!(tx.is_terminated());
    assert_eq!(
        tx.on_response(at(35_000), &parse(&busy)),
        ClientEvent::Absorb
    );
}

#[test]
fn invite_client_timer_d_is_zero_over_reliable_and_scales_with_large_t1() {
    let mut tx = invite_client(Reliability::Reliable);
    let busy = response(603, "INVITE", BRANCH, "x");
    assert_eq!(
        tx.on_response(at(900), &parse(&busy)),
        ClientEvent::DeliverAndAck
    );
    assert_eq!(tx.poll_timeout(), Some(at(900)));
    assert_eq!(tx.on_timer(at(900)), Some(TimerEvent::Terminated));

    let config = TimerConfig {
        t1: Duration::from_secs(1),
        ..TimerConfig::default()
    };
    let mut tx = pooled(|p| {
        InviteClientTransaction::new(
            invite().as_bytes(),
            peer(),
            Reliability::Unreliable,
            config,
            at(0),
            p,
        )
        .unwrap()
    });
    tx.on_response(at(0), &parse(&busy));
    assert_eq!(tx.timer(TimerKind::D), Some(at(64_000)));
}

#[test]
fn invite_client_accepted_passes_every_2xx_until_timer_m() {
    let mut tx = invite_client(Reliability::Unreliable);
    let ok = response(200, "INVITE", BRANCH, "a");
    assert_eq!(tx.on_response(at(300), &parse(&ok)), ClientEvent::Deliver);
    assert_eq!(tx.state(), InviteClientState::Accepted);
    // The 2xx ACK is the TU's: the stored message is still the INVITE,
    // for the TU to read with the 2xx, and needed no more after it.
    assert_eq!(tx.message(), invite().as_bytes());
    assert!(!tx.needs_message());
    tx.trim();
    assert!(tx.message().is_empty() && tx.pool.in_use() == 0);
    assert_eq!(tx.timer(TimerKind::A), None);
    assert_eq!(tx.timer(TimerKind::B), None);
    assert_eq!(tx.poll_timeout(), Some(at(32_300)));
    // RFC 6026 §8.4: retransmissions and other forks' 2xx reach the TU.
    assert_eq!(tx.on_response(at(800), &parse(&ok)), ClientEvent::Deliver);
    let fork = response(200, "INVITE", BRANCH, "b");
    assert_eq!(tx.on_response(at(900), &parse(&fork)), ClientEvent::Deliver);
    let late_error = response(500, "INVITE", BRANCH, "c");
    assert_eq!(
        tx.on_response(at(950), &parse(&late_error)),
        ClientEvent::Absorb
    );
    let late_ringing = response(180, "INVITE", BRANCH, "c");
    assert_eq!(
        tx.on_response(at(960), &parse(&late_ringing)),
        ClientEvent::Absorb
    );
    assert_eq!(tx.on_timer(at(32_299)), None);
    assert_eq!(tx.on_timer(at(32_300)), Some(TimerEvent::Terminated));
}

#[test]
fn invite_client_ignores_responses_of_other_transactions() {
    let mut tx = invite_client(Reliability::Unreliable);
    let other_branch = response(180, "INVITE", "z9hG4bKother", "a");
    assert_eq!(
        tx.on_response(at(1), &parse(&other_branch)),
        ClientEvent::Absorb
    );
    // A CANCEL's 200 shares the branch but not the CSeq method.
    let cancel_ok = response(200, "CANCEL", BRANCH, "a");
    assert_eq!(
        tx.on_response(at(1), &parse(&cancel_ok)),
        ClientEvent::Absorb
    );
    assert_eq!(tx.state(), InviteClientState::Calling);
}

#[test]
fn invite_client_writes_cancel_per_section_9_1() {
    let mut tx = invite_client(Reliability::Unreliable);
    tx.on_response(at(1), &parse(&response(180, "INVITE", BRANCH, "t")));
    let mut buf = [0u8; MAX_MESSAGE];
    let n = tx.write_cancel(&mut buf).unwrap();
    let m = Message::parse_datagram(&buf[..n]).unwrap();
    assert_eq!(m.method(), Some(Method::Cancel));
    assert_eq!(m.request_line().unwrap().uri, "sip:bob@biloxi.example.com");
    // To as in the INVITE (no tag), not from the 180.
    assert_eq!(m.to().unwrap().unwrap().tag(), None);
    assert_eq!(m.cseq().unwrap().unwrap().method, Method::Cancel);
    assert_eq!(m.cseq().unwrap().unwrap().seq, 1);
    assert_eq!(m.vias().count(), 1);
    assert_eq!(m.top_via().unwrap().unwrap().branch(), Some(BRANCH));
    assert_eq!(
        m.header_values(crate::message::HeaderName::Route).count(),
        3
    );
    // The CANCEL is a non-INVITE client transaction of its own, matched apart.
    let cancel_tx = NonInviteClientTransaction::new(
        &buf[..n],
        peer(),
        Reliability::Unreliable,
        cfg(),
        at(2),
        &mut MessagePool::<2>::new(),
    )
    .unwrap();
    assert_ne!(cancel_tx.key(), tx.key());
    assert_eq!(
        tx.write_cancel(&mut buf[..20]),
        Err(TransactionError::BufferTooSmall)
    );
    tx.on_response(at(3), &parse(&response(487, "INVITE", BRANCH, "t")));
    assert_eq!(
        tx.write_cancel(&mut buf),
        Err(TransactionError::InvalidState)
    );
}

// ------------------------------------------------------------ non-INVITE client

#[test]
fn non_invite_client_timer_e_doubles_up_to_t2_until_timer_f() {
    let mut tx = non_invite_client(Reliability::Unreliable);
    let ev = run_timers(&mut tx);
    let times: Vec<u64> = ev.iter().map(|e| e.0).collect();
    assert_eq!(
        times,
        [500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500, 32_000]
    );
    assert!(ev[..10].iter().all(|e| e.1 == TimerEvent::Retransmit));
    assert_eq!(ev[10].1, TimerEvent::Timeout);
    assert_eq!(tx.state(), NonInviteClientState::Terminated);
}

#[test]
fn non_invite_client_in_proceeding_retransmits_every_t2() {
    let mut tx = non_invite_client(Reliability::Unreliable);
    assert_eq!(tx.on_timer(at(500)), Some(TimerEvent::Retransmit));
    let trying = response(100, "OPTIONS", BRANCH, "x");
    assert_eq!(
        tx.on_response(at(600), &parse(&trying)),
        ClientEvent::Deliver
    );
    assert_eq!(tx.state(), NonInviteClientState::Proceeding);
    // The running Timer E keeps its deadline, then re-arms with T2.
    assert_eq!(tx.poll_timeout(), Some(at(1_500)));
    assert_eq!(tx.on_timer(at(1_500)), Some(TimerEvent::Retransmit));
    assert_eq!(tx.poll_timeout(), Some(at(5_500)));
    assert_eq!(tx.on_timer(at(5_500)), Some(TimerEvent::Retransmit));
    assert_eq!(tx.poll_timeout(), Some(at(9_500)));
    // Timer F still bounds Proceeding.
    assert_eq!(tx.timer(TimerKind::F), Some(at(32_000)));
}

#[test]
fn non_invite_client_final_then_timer_k() {
    let mut tx = non_invite_client(Reliability::Unreliable);
    let ok = response(200, "OPTIONS", BRANCH, "x");
    assert_eq!(tx.on_response(at(700), &parse(&ok)), ClientEvent::Deliver);
    assert_eq!(tx.state(), NonInviteClientState::Completed);
    assert_eq!(tx.poll_timeout(), Some(at(5_700)));
    assert_eq!(tx.on_response(at(800), &parse(&ok)), ClientEvent::Absorb);
    // Completed retransmits nothing: the request's buffer can go back.
    assert_eq!(tx.message(), request("OPTIONS", BRANCH).as_bytes());
    tx.trim();
    assert!(tx.message().is_empty() && tx.pool.in_use() == 0);
    assert_eq!(tx.on_timer(at(5_699)), None);
    assert_eq!(tx.on_timer(at(5_700)), Some(TimerEvent::Terminated));

    let mut tx = non_invite_client(Reliability::Reliable);
    assert_eq!(tx.timer(TimerKind::E), None);
    assert_eq!(tx.poll_timeout(), Some(at(32_000)));
    assert_eq!(tx.on_response(at(700), &parse(&ok)), ClientEvent::Deliver);
    assert_eq!(tx.poll_timeout(), Some(at(700)));
    assert_eq!(tx.on_timer(at(700)), Some(TimerEvent::Terminated));
}

#[test]
fn non_invite_client_refuses_invite_and_ack() {
    for m in ["INVITE", "ACK"] {
        let r = request(m, BRANCH);
        assert_eq!(
            NonInviteClientTransaction::new(
                r.as_bytes(),
                peer(),
                Reliability::Reliable,
                cfg(),
                at(0),
                &mut MessagePool::<2>::new()
            )
            .unwrap_err(),
            TransactionError::WrongMethod
        );
    }
    let r = request("BYE", BRANCH);
    assert_eq!(
        InviteClientTransaction::new(
            r.as_bytes(),
            peer(),
            Reliability::Reliable,
            cfg(),
            at(0),
            &mut MessagePool::<2>::new()
        )
        .unwrap_err(),
        TransactionError::WrongMethod
    );
}

// ---------------------------------------------------------------- INVITE server

#[test]
fn invite_server_resends_last_provisional_for_retransmitted_invite() {
    let mut tx = invite_server(Reliability::Unreliable);
    assert_eq!(tx.state(), InviteServerState::Proceeding);
    assert_eq!(tx.poll_timeout(), None);
    let inv = invite();
    // Nothing sent yet: nothing to repeat.
    assert_eq!(tx.on_request(at(10), &parse(&inv)), ServerEvent::Absorb);
    let trying = response(100, "INVITE", BRANCH, "u");
    tx.send_response(at(20), trying.as_bytes()).unwrap();
    let ringing = response(180, "INVITE", BRANCH, "u");
    tx.send_response(at(30), ringing.as_bytes()).unwrap();
    assert_eq!(tx.state(), InviteServerState::Proceeding);
    assert_eq!(tx.on_request(at(500), &parse(&inv)), ServerEvent::Resend);
    assert_eq!(tx.message(), ringing.as_bytes());
    // Provisional responses are not retransmitted by the transaction.
    assert_eq!(tx.poll_timeout(), None);
}

#[test]
fn invite_server_non_2xx_timer_g_capped_until_timer_h() {
    let mut tx = invite_server(Reliability::Unreliable);
    let busy = response(486, "INVITE", BRANCH, "u");
    tx.send_response(at(0), busy.as_bytes()).unwrap();
    assert_eq!(tx.state(), InviteServerState::Completed);
    assert_eq!(tx.timer(TimerKind::H), Some(at(32_000)));
    let ev = run_timers(&mut tx);
    let times: Vec<u64> = ev.iter().map(|e| e.0).collect();
    // RFC 3261 §17.2.1: G = T1, 2T1, 4T1, then T2 each time; H at 64·T1.
    assert_eq!(
        times,
        [500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500, 32_000]
    );
    assert!(ev[..10].iter().all(|e| e.1 == TimerEvent::Retransmit));
    assert_eq!(ev[10].1, TimerEvent::Timeout);
    assert_eq!(tx.state(), InviteServerState::Terminated);
}

#[test]
fn invite_server_ack_confirms_then_timer_i() {
    let mut tx = invite_server(Reliability::Unreliable);
    let busy = response(486, "INVITE", BRANCH, "u");
    tx.send_response(at(0), busy.as_bytes()).unwrap();
    assert_eq!(tx.on_timer(at(500)), Some(TimerEvent::Retransmit));
    // A retransmitted INVITE gets the final again.
    assert_eq!(
        tx.on_request(at(600), &parse(&invite())),
        ServerEvent::Resend
    );
    assert_eq!(tx.message(), busy.as_bytes());
    tx.trim();
    assert_eq!(tx.pool.in_use(), 1, "Completed keeps the final");
    let ack = request("ACK", BRANCH);
    assert_eq!(tx.on_request(at(1_000), &parse(&ack)), ServerEvent::Absorb);
    assert_eq!(tx.state(), InviteServerState::Confirmed);
    // Confirmed absorbs retransmissions: the buffer can go back.
    tx.trim();
    assert_eq!(tx.pool.in_use(), 0);
    assert_eq!(tx.timer(TimerKind::G), None);
    assert_eq!(tx.timer(TimerKind::H), None);
    assert_eq!(tx.poll_timeout(), Some(at(6_000)));
    // ACK and INVITE retransmissions are absorbed in Confirmed.
    assert_eq!(tx.on_request(at(1_100), &parse(&ack)), ServerEvent::Absorb);
    assert_eq!(
        tx.on_request(at(1_200), &parse(&invite())),
        ServerEvent::Absorb
    );
    assert_eq!(tx.on_timer(at(5_999)), None);
    assert_eq!(tx.on_timer(at(6_000)), Some(TimerEvent::Terminated));
    assert_eq!(
        tx.send_response(at(7_000), busy.as_bytes()),
        Err(TransactionError::InvalidState)
    );
}

#[test]
fn invite_server_over_reliable_transport_has_no_timer_g_and_zero_timer_i() {
    let mut tx = invite_server(Reliability::Reliable);
    let busy = response(486, "INVITE", BRANCH, "u");
    tx.send_response(at(100), busy.as_bytes()).unwrap();
    assert_eq!(tx.timer(TimerKind::G), None);
    assert_eq!(tx.poll_timeout(), Some(at(32_100)));
    tx.on_request(at(200), &parse(&request("ACK", BRANCH)));
    assert_eq!(tx.poll_timeout(), Some(at(200)));
    assert_eq!(tx.on_timer(at(200)), Some(TimerEvent::Terminated));
}

#[test]
fn invite_server_2xx_accepted_until_timer_l() {
    let mut tx = invite_server(Reliability::Unreliable);
    let ringing = response(180, "INVITE", BRANCH, "u");
    tx.send_response(at(500), ringing.as_bytes()).unwrap();
    assert_eq!(tx.pool.in_use(), 1);
    let ok = response(200, "INVITE", BRANCH, "u");
    tx.send_response(at(1_000), ok.as_bytes()).unwrap();
    assert_eq!(tx.state(), InviteServerState::Accepted);
    // The TU keeps the 2xx (RFC 6026 §8.7): the 180's buffer goes back.
    assert_eq!(tx.pool.in_use(), 0);
    assert!(tx.message().is_empty());
    assert_eq!(tx.poll_timeout(), Some(at(33_000)));
    // RFC 6026 §8.7: INVITE retransmissions are absorbed; the TU resends
    // the 2xx itself, and those pass.
    assert_eq!(
        tx.on_request(at(1_500), &parse(&invite())),
        ServerEvent::Absorb
    );
    tx.send_response(at(1_500), ok.as_bytes()).unwrap();
    assert!(tx.message().is_empty() && !tx.needs_message());
    assert_eq!(
        tx.send_response(at(1_600), response(486, "INVITE", BRANCH, "u").as_bytes()),
        Err(TransactionError::InvalidState)
    );
    // An ACK reaching the transaction goes to the TU.
    assert_eq!(
        tx.on_request(at(2_000), &parse(&request("ACK", BRANCH))),
        ServerEvent::Deliver
    );
    assert_eq!(tx.state(), InviteServerState::Accepted);
    assert_eq!(tx.on_timer(at(32_999)), None);
    assert_eq!(tx.on_timer(at(33_000)), Some(TimerEvent::Terminated));
}

#[test]
fn server_refuses_responses_of_other_transactions_and_requests() {
    let mut tx = invite_server(Reliability::Unreliable);
    let other = response(180, "INVITE", "z9hG4bKother", "u");
    assert_eq!(
        tx.send_response(at(0), other.as_bytes()),
        Err(TransactionError::NotThisTransaction)
    );
    assert_eq!(
        tx.send_response(at(0), invite().as_bytes()),
        Err(TransactionError::WrongKind)
    );
    assert_eq!(
        tx.send_response(at(0), b"garbage"),
        Err(TransactionError::Parse(
            crate::message::ParseErrorKind::BadHeader
        ))
    );
    assert_eq!(tx.state(), InviteServerState::Proceeding);
}

// ------------------------------------------------------------ non-INVITE server

#[test]
fn non_invite_server_trying_proceeding_completed_timer_j() {
    let mut tx = non_invite_server(Reliability::Unreliable);
    let bye = request("BYE", BRANCH);
    assert_eq!(tx.state(), NonInviteServerState::Trying);
    assert_eq!(tx.on_request(at(500), &parse(&bye)), ServerEvent::Absorb);
    let trying = response(100, "BYE", BRANCH, "u");
    tx.send_response(at(600), trying.as_bytes()).unwrap();
    assert_eq!(tx.state(), NonInviteServerState::Proceeding);
    assert_eq!(tx.on_request(at(700), &parse(&bye)), ServerEvent::Resend);
    assert_eq!(tx.message(), trying.as_bytes());
    let ok = response(200, "BYE", BRANCH, "u");
    tx.send_response(at(800), ok.as_bytes()).unwrap();
    assert_eq!(tx.state(), NonInviteServerState::Completed);
    assert_eq!(tx.poll_timeout(), Some(at(32_800)));
    assert_eq!(tx.on_request(at(900), &parse(&bye)), ServerEvent::Resend);
    assert_eq!(tx.message(), ok.as_bytes());
    tx.trim();
    assert_eq!(tx.message(), ok.as_bytes(), "Completed keeps the final");
    assert_eq!(
        tx.send_response(at(950), ok.as_bytes()),
        Err(TransactionError::InvalidState)
    );
    assert_eq!(tx.on_timer(at(32_799)), None);
    assert_eq!(tx.on_timer(at(32_800)), Some(TimerEvent::Terminated));

    let mut tx = non_invite_server(Reliability::Reliable);
    tx.send_response(at(800), ok.as_bytes()).unwrap();
    assert_eq!(tx.poll_timeout(), Some(at(800)));
    assert_eq!(tx.on_timer(at(800)), Some(TimerEvent::Terminated));
}

// --------------------------------------------------------------------- matching

#[test]
fn keys_match_per_17_1_3_and_17_2_3() {
    let inv = invite();
    let client = TransactionKey::client(&parse(&inv)).unwrap();
    assert_eq!(
        (client.role(), client.branch(), client.method()),
        (Role::Client, BRANCH, "INVITE")
    );
    assert!(client.matches_response(&parse(&response(180, "INVITE", BRANCH, "a"))));
    assert!(!client.matches_response(&parse(&response(200, "CANCEL", BRANCH, "a"))));
    assert!(!client.matches_response(&parse(&response(180, "INVITE", "z9hG4bKx", "a"))));
    assert!(!client.matches_request(&parse(&inv)));

    let server = TransactionKey::server(&parse(&inv)).unwrap();
    assert_eq!(server.sent_by(), "pc33.atlanta.example.com:5060");
    assert!(server.matches_request(&parse(&inv)));
    // ACK belongs to the INVITE server transaction, CANCEL does not.
    assert!(server.matches_request(&parse(&request("ACK", BRANCH))));
    assert!(!server.matches_request(&parse(&request("CANCEL", BRANCH))));
    assert_eq!(
        TransactionKey::cancelled_invite(&parse(&request("CANCEL", BRANCH))).unwrap(),
        server
    );
    assert!(!server.matches_response(&parse(&response(180, "INVITE", BRANCH, "a"))));
    // Same branch from another sent-by is another transaction.
    let other_port = inv.replace("example.com:5060;branch", "example.com:5070;branch");
    assert!(!server.matches_request(&parse(&other_port)));
    // Host names compare case-insensitively.
    let upper = inv.replace("pc33.atlanta.example.com", "PC33.Atlanta.Example.COM");
    assert!(server.matches_request(&parse(&upper)));
}

#[test]
fn keys_refuse_rfc2543_branches_and_overlong_parts() {
    let old = request("INVITE", "1234");
    assert_eq!(
        TransactionKey::server(&parse(&old)),
        Err(TransactionError::NotRfc3261Branch)
    );
    let long = format!("z9hG4bK{}", "a".repeat(MAX_BRANCH));
    let r = request("INVITE", &long);
    assert_eq!(
        TransactionKey::client(&parse(&r)),
        Err(TransactionError::KeyTooLong)
    );
    assert_eq!(
        InviteServerTransaction::new(r.as_bytes(), peer(), Reliability::Reliable, cfg(), at(0))
            .unwrap_err(),
        TransactionError::KeyTooLong
    );
    let fits = format!("z9hG4bK{}", "a".repeat(MAX_BRANCH - 7));
    assert!(TransactionKey::client(&parse(&request("INVITE", &fits))).is_ok());
    let no_via = "OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(
        TransactionKey::client(&parse(no_via)),
        Err(TransactionError::MissingVia)
    );
    let mismatch = request("OPTIONS", BRANCH).replace("CSeq: 1 OPTIONS", "CSeq: 1 INFO");
    assert_eq!(
        NonInviteServerTransaction::new(
            mismatch.as_bytes(),
            peer(),
            Reliability::Reliable,
            cfg(),
            at(0)
        )
        .unwrap_err(),
        TransactionError::MethodMismatch
    );
}

// ----------------------------------------------------------------- sizes, branch

#[test]
fn messages_larger_than_max_message_are_refused() {
    let mut big = invite();
    let pad = MAX_MESSAGE + 1 - big.len();
    big = big.replace(
        "Max-Forwards: 70\r\n",
        &format!("Max-Forwards: 70\r\nX-Pad: {}\r\n", "p".repeat(pad - 9)),
    );
    assert_eq!(big.len(), MAX_MESSAGE + 1);
    assert_eq!(
        InviteClientTransaction::new(
            big.as_bytes(),
            peer(),
            Reliability::Unreliable,
            cfg(),
            at(0),
            &mut MessagePool::<2>::new()
        )
        .unwrap_err(),
        TransactionError::MessageTooLarge
    );
    assert_eq!(
        MessageBuf::from_slice(big.as_bytes()),
        Err(TransactionError::MessageTooLarge)
    );
    assert_eq!(
        MessageBuf::from_slice(&big.as_bytes()[1..]).unwrap().len(),
        MAX_MESSAGE
    );

    let mut tx = invite_server(Reliability::Unreliable);
    let mut big_ok = response(200, "INVITE", BRANCH, "u");
    big_ok = big_ok.replace(
        "Content-Length: 0",
        &format!("X-Pad: {}\r\nContent-Length: 0", "p".repeat(MAX_MESSAGE)),
    );
    assert_eq!(
        tx.send_response(at(0), big_ok.as_bytes()),
        Err(TransactionError::MessageTooLarge)
    );
    assert_eq!(tx.state(), InviteServerState::Proceeding);
    assert!(tx.message().is_empty());
}

#[test]
fn branches_carry_the_cookie_and_follow_the_seed() {
    let mut a = crate::rng::Rng::new(42);
    let mut b = crate::rng::Rng::new(42);
    let x = new_branch(&mut a);
    let y = new_branch(&mut a);
    assert!(x.starts_with(MAGIC_COOKIE));
    assert_eq!(x.len(), 23);
    assert_ne!(x, y);
    assert_eq!(new_branch(&mut b), x);
}

// ------------------------------------------------------------------------ table

fn start_options<const N: usize, const R: usize, const B: usize>(
    table: &mut TransactionTable<N, R, B>,
    branch: &str,
) -> Result<TransactionId, TransactionError> {
    let r = request("OPTIONS", branch);
    table.start_client(r.as_bytes(), peer(), Reliability::Unreliable, cfg(), at(0))
}

#[test]
fn table_full_is_an_error_and_stale_handles_find_nothing() {
    let mut table: TransactionTable<2> = TransactionTable::new();
    assert!(table.is_empty());
    assert_eq!(table.capacity(), 2);
    let a = start_options(&mut table, "z9hG4bKa").unwrap();
    let b = start_options(&mut table, "z9hG4bKb").unwrap();
    assert_eq!(
        start_options(&mut table, "z9hG4bKc"),
        Err(TransactionError::TableFull)
    );
    assert_eq!(table.len(), 2);
    assert_eq!(table.pool().in_use(), 2, "the refused one took no buffer");
    assert!(table.remove(a).is_some());
    assert!(table.remove(a).is_none());
    // The freed slot is reused under a new generation.
    let c = start_options(&mut table, "z9hG4bKc").unwrap();
    assert_eq!(c.index(), a.index());
    assert_ne!(c.generation(), a.generation());
    assert!(table.get(a).is_none());
    assert!(table.get_mut(a).is_none());
    assert!(table.remove(a).is_none());
    assert_eq!(table.get(c).unwrap().key().branch(), "z9hG4bKc");
    assert_eq!(table.get(b).unwrap().key().branch(), "z9hG4bKb");
    assert_eq!(table.iter().count(), 2);
}

#[test]
fn table_routes_responses_and_requests_by_key() {
    let mut table: TransactionTable<8> = TransactionTable::new();
    let (udp, t0) = (Reliability::Unreliable, at(0));
    let inv_client = table
        .start_client(invite().as_bytes(), peer(), udp, cfg(), t0)
        .unwrap();
    let cancel = request("CANCEL", BRANCH);
    let cancel_client = table
        .start_client(cancel.as_bytes(), peer(), udp, cfg(), t0)
        .unwrap();
    let inv_server = table
        .start_server(invite().as_bytes(), peer(), udp, cfg(), t0)
        .unwrap();
    let cancel_server = table
        .start_server(cancel.as_bytes(), peer(), udp, cfg(), t0)
        .unwrap();
    assert_eq!(table.pool().in_use(), 2, "only the clients hold a buffer");

    let r487 = response(487, "INVITE", BRANCH, "t");
    let r200c = response(200, "CANCEL", BRANCH, "t");
    assert_eq!(table.find_client(&parse(&r487)), Some(inv_client));
    assert_eq!(table.find_client(&parse(&r200c)), Some(cancel_client));
    assert_eq!(table.find_server(&parse(&invite())), Some(inv_server));
    assert_eq!(
        table.find_server(&parse(&request("ACK", BRANCH))),
        Some(inv_server)
    );
    assert_eq!(table.find_server(&parse(&cancel)), Some(cancel_server));
    assert_eq!(
        table.find_cancelled_invite(&parse(&cancel)),
        Some(inv_server)
    );
    assert_eq!(table.find_cancelled_invite(&parse(&invite())), None);
    assert_eq!(
        table.find_server(&parse(&request("ACK", "z9hG4bK2xxack"))),
        None,
        "the ACK for a 2xx has its own branch and goes to the TU"
    );
    assert_eq!(
        table.on_response(at(5), &parse(&r487)),
        Some((inv_client, ClientEvent::DeliverAndAck))
    );
    assert_eq!(
        table.on_response(at(5), &parse(&r200c)),
        Some((cancel_client, ClientEvent::Deliver))
    );
    assert_eq!(
        table.on_request(at(5), &parse(&invite())),
        Some((inv_server, ServerEvent::Absorb))
    );
    assert_eq!(
        table.send_response(inv_client, at(5), r487.as_bytes()),
        Err(TransactionError::NotAServer)
    );
}

#[test]
fn table_timers_run_in_deadline_order_and_free_slots() {
    let mut table: TransactionTable<4> = TransactionTable::new();
    let a = start_options(&mut table, "z9hG4bKa").unwrap();
    let b = start_options(&mut table, "z9hG4bKb").unwrap();
    let ok = response(200, "OPTIONS", "z9hG4bKb", "x");
    assert_eq!(
        table.on_response(at(0), &parse(&ok)),
        Some((b, ClientEvent::Deliver))
    );
    assert_eq!(table.poll_timeout(), Some(at(500)));
    assert_eq!(table.handle_timer(at(499)), None);
    assert_eq!(
        table.handle_timer(at(500)),
        Some((a, TimerEvent::Retransmit))
    );
    assert_eq!(table.handle_timer(at(500)), None);
    // At 6 s: a's E (due 1.5 s) comes first and re-arms from 6 s, then
    // b's K (due 5 s).
    let mut events = Vec::new();
    while let Some(e) = table.handle_timer(at(6_000)) {
        events.push(e);
    }
    assert_eq!(
        events,
        [(a, TimerEvent::Retransmit), (b, TimerEvent::Terminated)]
    );
    assert!(table.get(b).is_none());
    assert_eq!(table.len(), 1);
    while table.handle_timer(at(40_000)).is_some() {}
    assert!(table.is_empty());

    let id = table
        .start_server(
            invite().as_bytes(),
            peer(),
            Reliability::Unreliable,
            cfg(),
            at(0),
        )
        .unwrap();
    assert_eq!(table.remove_terminated(), 0);
    table.get_mut(id).unwrap().terminate();
    assert_eq!(table.remove_terminated(), 1);
    assert!(table.is_empty() && table.get(id).is_none());
}

/// A client and a server table joined by a link that drops messages by a
/// fixed pattern: an INVITE answered 486 and an OPTIONS answered 200 both
/// complete, and every slot on both sides is free afterwards.
#[test]
fn lossy_flow_completes_and_frees_every_slot() {
    let mut client: TransactionTable<4> = TransactionTable::new();
    let mut server: TransactionTable<4> = TransactionTable::new();
    let mut wire: Vec<(u64, bool, Vec<u8>)> = Vec::new(); // (deliver at ms, to server, bytes)
    let mut sent = 0u32;
    let mut send = |wire: &mut Vec<(u64, bool, Vec<u8>)>, now: u64, to_server: bool, b: &[u8]| {
        sent += 1;
        // Every third message is lost.
        let lost = sent % 3 == 2;
        if !lost {
            wire.push((now + 20, to_server, b.to_vec()));
        }
    };
    let inv = invite();
    let opt = request("OPTIONS", "z9hG4bKopt");
    for r in [&inv, &opt] {
        let id = client
            .start_client(r.as_bytes(), peer(), Reliability::Unreliable, cfg(), at(0))
            .unwrap();
        send(&mut wire, 0, true, client.message(id).unwrap());
    }
    let (mut finals, mut acks_to_server, mut retransmits) = (0, 0, 0);
    let mut now = 0u64;
    for _ in 0..10_000 {
        let next_wire = wire.iter().map(|w| w.0).min();
        let next_timer = [client.poll_timeout(), server.poll_timeout()]
            .into_iter()
            .flatten()
            .map(|t| t.as_millis())
            .min();
        now = match (next_wire, next_timer) {
            (None, None) => break,
            (a, b) => a.into_iter().chain(b).min().unwrap(),
        };
        let t = at(now);
        while let Some((id, ev)) = client.handle_timer(t) {
            assert_ne!(ev, TimerEvent::Timeout);
            if ev == TimerEvent::Retransmit {
                retransmits += 1;
                let bytes = client.message(id).unwrap().to_vec();
                send(&mut wire, now, true, &bytes);
            }
        }
        while let Some((id, ev)) = server.handle_timer(t) {
            assert_ne!(ev, TimerEvent::Timeout);
            if ev == TimerEvent::Retransmit {
                retransmits += 1;
                let bytes = server.message(id).unwrap().to_vec();
                send(&mut wire, now, false, &bytes);
            }
        }
        let due: Vec<_> = wire.iter().filter(|w| w.0 <= now).cloned().collect();
        wire.retain(|w| w.0 > now);
        for (_, to_server, bytes) in due {
            let m = Message::parse_datagram(&bytes).unwrap();
            if to_server {
                if let Some((id, ev)) = server.on_request(t, &m) {
                    if m.method() == Some(Method::Ack) {
                        acks_to_server += 1;
                    }
                    if ev == ServerEvent::Resend {
                        let b = server.message(id).unwrap().to_vec();
                        send(&mut wire, now, false, &b);
                    }
                    continue;
                }
                // A new request: the TU answers at once.
                let method = m.method().unwrap();
                let code = if method == Method::Invite { 486 } else { 200 };
                let branch = m.top_via().unwrap().unwrap().branch().unwrap();
                let resp = response(code, method.as_str(), branch, "srv");
                let id = server
                    .start_server(&bytes, peer(), Reliability::Unreliable, cfg(), t)
                    .unwrap();
                server.send_response(id, t, resp.as_bytes()).unwrap();
                send(&mut wire, now, false, resp.as_bytes());
            } else if let Some((id, ev)) = client.on_response(t, &m) {
                match ev {
                    ClientEvent::Deliver | ClientEvent::DeliverAndAck => finals += 1,
                    _ => {}
                }
                if matches!(ev, ClientEvent::DeliverAndAck | ClientEvent::Ack) {
                    let b = client.message(id).unwrap().to_vec();
                    send(&mut wire, now, true, &b);
                }
            }
        }
    }
    assert_eq!(
        finals, 2,
        "each request delivered exactly one final to the TU"
    );
    assert!(acks_to_server >= 1);
    assert!(retransmits >= 1, "the loss pattern forces retransmissions");
    assert!(client.is_empty(), "client slots left: {}", client.len());
    assert!(server.is_empty(), "server slots left: {}", server.len());
    // Every buffer went back as its transaction ended.
    assert_eq!((client.pool().in_use(), server.pool().in_use()), (0, 0));
    assert!(now < 64_000);
}

// ------------------------------------------------------------ no panics, ever

/// Mutates `base` a few times: byte flips, cuts, insertions, deletions,
/// copied spans and changed digits (status codes, CSeq numbers, ports).
fn mutate(rng: &mut crate::rng::Rng, base: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = v.len() as u32;
        let pos = rng.below(len.max(1)) as usize;
        match rng.below(6) {
            0 if !v.is_empty() => v[pos] = rng.below(256) as u8,
            1 => v.truncate(pos),
            2 => {
                const BYTES: &[u8] = b"\r\n :;,<>\"=z9hG4bK0123456789\x00\xff";
                let b = BYTES[rng.below(BYTES.len() as u32) as usize];
                v.insert(pos.min(v.len()), b);
            }
            3 => {
                let end = (pos + rng.below(40) as usize).min(v.len());
                v.drain(pos.min(end)..end);
            }
            4 => {
                let end = (pos + rng.below(80) as usize).min(v.len());
                let span: Vec<u8> = v[pos.min(end)..end].to_vec();
                let at = (rng.below(len.max(1)) as usize).min(v.len());
                v.splice(at..at, span);
            }
            _ => {
                if let Some(d) = v.iter_mut().skip(pos).find(|b| b.is_ascii_digit()) {
                    *d = b'0' + rng.below(10) as u8;
                }
            }
        }
    }
    v
}

fn corpus() -> Vec<String> {
    let mut c = Vec::new();
    for m in ["INVITE", "ACK", "CANCEL", "BYE", "OPTIONS"] {
        c.push(request(m, BRANCH));
    }
    for (code, m) in [
        (100, "INVITE"),
        (180, "INVITE"),
        (200, "INVITE"),
        (486, "INVITE"),
        (200, "CANCEL"),
        (100, "BYE"),
        (200, "BYE"),
        (200, "OPTIONS"),
        (503, "OPTIONS"),
    ] {
        c.push(response(code, m, BRANCH, "t"));
    }
    c.push(format!(
        "{}X-Pad: {}\r\n\r\n",
        invite().trim_end(),
        "p".repeat(MAX_MESSAGE)
    ));
    c
}

fn pick<'a>(rng: &mut crate::rng::Rng, c: &'a [String]) -> &'a [u8] {
    c[rng.below(c.len() as u32) as usize].as_bytes()
}

fn maybe_mutate(rng: &mut crate::rng::Rng, base: &[u8]) -> Vec<u8> {
    if rng.below(2) == 0 {
        base.to_vec()
    } else {
        mutate(rng, base)
    }
}

/// Runs every due timer; the loop must end and leave no timer in the past.
fn drain_timers(tx: &mut Transaction, now: Instant) {
    for _ in 0..16 {
        if tx.on_timer(now).is_none() {
            assert!(tx.poll_timeout().is_none_or(|t| t > now));
            return;
        }
    }
    panic!("timers keep firing at one instant");
}

#[test]
fn random_and_mutated_input_never_panics_or_breaks_invariants() {
    let corpus = corpus();
    let mut rng = crate::rng::Rng::new(0x5eed);
    let mut created = [0usize; 4];
    let mut visited = std::collections::BTreeSet::new();
    for round in 0..4_000u32 {
        let kind = round % 4;
        // Mostly the request the machine expects, sometimes anything.
        let base = match (rng.below(4), kind) {
            (0, _) => pick(&mut rng, &corpus),
            (_, 0 | 2) => corpus[0].as_bytes(),
            _ => corpus[2 + rng.below(3) as usize].as_bytes(),
        };
        let bytes = maybe_mutate(&mut rng, base);
        let rel = if rng.below(2) == 0 {
            Reliability::Unreliable
        } else {
            Reliability::Reliable
        };
        let mut now = at(u64::from(rng.below(1000)));
        let mut pool: MessagePool<1> = MessagePool::new();
        let made: Result<Transaction, _> = match kind {
            0 => InviteClientTransaction::new(&bytes, peer(), rel, cfg(), now, &mut pool)
                .map(Into::into),
            1 => NonInviteClientTransaction::new(&bytes, peer(), rel, cfg(), now, &mut pool)
                .map(Into::into),
            2 => InviteServerTransaction::new(&bytes, peer(), rel, cfg(), now).map(Into::into),
            _ => NonInviteServerTransaction::new(&bytes, peer(), rel, cfg(), now).map(Into::into),
        };
        let Ok(mut tx) = made else { continue };
        created[kind as usize] += 1;
        for _ in 0..40 {
            let base = pick(&mut rng, &corpus);
            let input = maybe_mutate(&mut rng, base);
            match rng.below(5) {
                0 | 1 => {
                    if let Ok(m) = Message::parse_datagram(&input) {
                        if m.is_request() {
                            tx.on_request(now, &m);
                        } else {
                            tx.on_response(now, &m, &mut pool);
                        }
                    }
                }
                2 => {
                    let _ = tx.send_response(now, &input, &mut pool);
                }
                3 => {
                    now += Duration::from_millis(u64::from(rng.below(40_000)));
                    drain_timers(&mut tx, now);
                }
                _ => {
                    if let Transaction::InviteClient(t) = &tx {
                        let mut buf = [0u8; MAX_MESSAGE];
                        let n = rng.below(MAX_MESSAGE as u32 + 1) as usize;
                        if let Ok(len) = t.write_cancel(&mut buf[..n], &pool) {
                            assert!(Message::parse_datagram(&buf[..len]).is_ok());
                        }
                    }
                }
            }
            assert!(tx.message(&pool).len() <= MAX_MESSAGE);
            // The one buffer is the transaction's, or free.
            assert_eq!(pool.in_use(), usize::from(tx.holds_buffer()));
            if rng.below(3) == 0 {
                tx.trim(&mut pool);
                assert!(tx.needs_message() || !tx.holds_buffer());
            }
            visited.insert(match &tx {
                Transaction::InviteClient(t) => format!("IC {:?}", t.state()),
                Transaction::NonInviteClient(t) => format!("NIC {:?}", t.state()),
                Transaction::InviteServer(t) => format!("IS {:?}", t.state()),
                Transaction::NonInviteServer(t) => format!("NIS {:?}", t.state()),
            });
            if tx.is_terminated() {
                assert_eq!(tx.poll_timeout(), None);
                assert!(!tx.needs_message());
            }
        }
        tx.release(&mut pool);
        assert_eq!(pool.in_use(), 0);
    }
    // The mutations leave most creations valid: every machine was exercised.
    assert!(created.iter().all(|&n| n > 300), "created {created:?}");
    // ... and every state of every machine was reached.
    for state in [
        "IC Calling",
        "IC Proceeding",
        "IC Completed",
        "IC Accepted",
        "IC Terminated",
        "NIC Trying",
        "NIC Proceeding",
        "NIC Completed",
        "NIC Terminated",
        "IS Proceeding",
        "IS Completed",
        "IS Confirmed",
        "IS Accepted",
        "IS Terminated",
        "NIS Trying",
        "NIS Proceeding",
        "NIS Completed",
        "NIS Terminated",
    ] {
        assert!(
            visited.contains(state),
            "never reached {state}: {visited:?}"
        );
    }
}

#[test]
fn random_table_operations_never_panic_or_leak() {
    let corpus = corpus();
    let mut rng = crate::rng::Rng::new(77);
    let mut table: TransactionTable<4> = TransactionTable::new();
    let mut ids: Vec<TransactionId> = Vec::new();
    let mut now = Instant::ZERO;
    for _ in 0..20_000 {
        let base = pick(&mut rng, &corpus);
        let input = maybe_mutate(&mut rng, base);
        match rng.below(6) {
            0 => {
                let full = table.len() == table.capacity();
                let pool_empty = table.pool().available() == 0;
                let rel = if rng.below(2) == 0 {
                    Reliability::Unreliable
                } else {
                    Reliability::Reliable
                };
                let client = rng.below(2) == 0;
                let made = if client {
                    table.start_client(&input, peer(), rel, cfg(), now)
                } else {
                    table.start_server(&input, peer(), rel, cfg(), now)
                };
                match made {
                    Ok(id) => ids.push(id),
                    Err(TransactionError::TableFull) => assert!(full),
                    Err(TransactionError::PoolEmpty) => assert!(client && pool_empty),
                    Err(_) => {}
                }
            }
            1 => {
                if let Ok(m) = Message::parse_datagram(&input) {
                    if m.is_request() {
                        table.on_request(now, &m);
                        table.find_cancelled_invite(&m);
                    } else {
                        table.on_response(now, &m);
                    }
                }
            }
            2 => {
                if let Some(&id) = ids.get(rng.below(ids.len() as u32 + 1) as usize) {
                    let _ = table.send_response(id, now, &input);
                }
            }
            3 => {
                now += Duration::from_millis(u64::from(rng.below(20_000)));
                let mut n = 0;
                while table.handle_timer(now).is_some() {
                    n += 1;
                    assert!(n < 100);
                }
                assert!(table.poll_timeout().is_none_or(|t| t > now));
            }
            4 => {
                if let Some(&id) = ids.get(rng.below(ids.len() as u32 + 1) as usize) {
                    table.remove(id);
                    assert!(table.get(id).is_none());
                }
            }
            _ => {
                table.remove_terminated();
            }
        }
        assert!(table.len() <= 4);
        // No buffer is lent to nobody: each is held by a live transaction.
        let holders = table.iter().filter(|(_, t)| t.holds_buffer()).count();
        assert_eq!(table.pool().in_use(), holders);
    }
    // Whatever is left without a timer waits for its TU (a server without a
    // final response, an INVITE client in Proceeding); everything else ends
    // once time runs on.
    now += Duration::from_secs(3600);
    while table.handle_timer(now).is_some() {}
    for (_, t) in table.iter() {
        assert_eq!(t.poll_timeout(), None);
        let waits_for_tu = match t {
            Transaction::InviteClient(c) => c.state() == InviteClientState::Proceeding,
            Transaction::NonInviteClient(_) => false,
            Transaction::InviteServer(s) => s.state() == InviteServerState::Proceeding,
            Transaction::NonInviteServer(s) => s.state() != NonInviteServerState::Completed,
        };
        assert!(waits_for_tu || t.is_terminated());
    }
    let left: Vec<_> = table.iter().map(|(id, _)| id).collect();
    for id in left {
        table.remove(id);
    }
    assert_eq!(table.pool().in_use(), 0, "every buffer came back");
}

#[test]
fn a_table_costs_its_buffers_and_little_more_per_slot() {
    // A slot holds no message: key, timers and state stay small, and the
    // branch index and deadline heap add about 40 bytes a slot. Each slot
    // has beside it a record for an Accepted INVITE: its key and handle,
    // with the same two indexes. The messages are in the pool's buffers.
    let slot = core::mem::size_of::<Transaction>();
    assert!(slot <= 512, "slot is {slot} bytes");
    let record = core::mem::size_of::<TransactionKey>() + 16;
    let buffer = MAX_MESSAGE + 40;
    let table = core::mem::size_of::<TransactionTable<64, 0, 8>>();
    assert!(
        table <= 64 * (slot + 48 + record + 48) + 8 * buffer,
        "table is {table} bytes, slot {slot}, record {record}"
    );
    let per_buffer = core::mem::size_of::<TransactionTable<64, 0, 9>>() - table;
    assert!(per_buffer <= buffer, "a buffer costs {per_buffer} bytes");
    assert_eq!(core::mem::size_of::<TimerTable>(), 12 * 8);
}

/// Every way a transaction stops needing its message gives its buffer
/// back: the state (a final response, an ACK), the end of its timers
/// (Timer K, Timer B), a transport error ([`Transaction::terminate`]),
/// removal, and the move to a compact record.
#[test]
fn every_way_a_transaction_ends_gives_its_buffer_back() {
    let udp = Reliability::Unreliable;
    let mut table: TransactionTable<8, 2, 3> = TransactionTable::new();
    let start = |t: &mut TransactionTable<8, 2, 3>, m: &str, b: &str| {
        t.start_client(request(m, b).as_bytes(), peer(), udp, cfg(), at(0))
    };
    // Three requests out take the three buffers; a fourth is refused and
    // takes no slot.
    let options = start(&mut table, "OPTIONS", "z9hG4bKo").unwrap();
    let inv_client = start(&mut table, "INVITE", "z9hG4bKi").unwrap();
    let bye = start(&mut table, "BYE", "z9hG4bKb").unwrap();
    assert_eq!(
        start(&mut table, "INFO", "z9hG4bKn"),
        Err(TransactionError::PoolEmpty)
    );
    assert_eq!((table.len(), table.pool().in_use()), (3, 3));
    // A final response: the TU reads the request while it handles it, and
    // the buffer is back on the next call into the table.
    let ok = response(200, "OPTIONS", "z9hG4bKo", "x");
    assert_eq!(
        table.on_response(at(10), &parse(&ok)),
        Some((options, ClientEvent::Deliver))
    );
    assert_eq!(
        table.message(options).unwrap(),
        request("OPTIONS", "z9hG4bKo").as_bytes()
    );
    assert_eq!(table.pool().in_use(), 3);
    // A transport error: terminated, freed with its buffer.
    table.get_mut(bye).unwrap().terminate();
    assert_eq!(table.remove_terminated(), 1);
    assert_eq!(table.pool().in_use(), 1, "the OPTIONS' and the BYE's back");
    // Removal.
    assert!(table.remove(inv_client).is_some());
    assert_eq!(table.pool().in_use(), 0);
    // Timer B: an INVITE never answered.
    let unanswered = start(&mut table, "INVITE", "z9hG4bKj").unwrap();
    let mut ends = Vec::new();
    while let Some(e) = table.handle_timer(at(40_000)) {
        ends.push(e);
    }
    assert!(ends.contains(&(unanswered, TimerEvent::Timeout)));
    assert!(ends.contains(&(options, TimerEvent::Terminated)));
    assert_eq!((table.len(), table.pool().in_use()), (0, 0));

    // Servers: a 486 kept until the ACK (RFC 3261 §17.2.1), then Confirmed.
    let inv = table
        .start_server(invite().as_bytes(), peer(), udp, cfg(), at(0))
        .unwrap();
    assert_eq!(
        table.pool().in_use(),
        0,
        "nothing to keep before a response"
    );
    let busy = response(486, "INVITE", BRANCH, "u");
    table.send_response(inv, at(1), busy.as_bytes()).unwrap();
    assert_eq!(table.pool().in_use(), 1);
    let ack = request("ACK", BRANCH);
    assert_eq!(
        table.on_request(at(2), &parse(&ack)),
        Some((inv, ServerEvent::Absorb))
    );
    assert_eq!(table.pool().in_use(), 0, "Confirmed keeps nothing");
    // A 180 then a 2xx: the TU keeps the 2xx (RFC 6026 §8.7), and the
    // transaction moves to a record of its key.
    let inv2 = table
        .start_server(
            request("INVITE", "z9hG4bKs").as_bytes(),
            peer(),
            udp,
            cfg(),
            at(3),
        )
        .unwrap();
    let ringing = response(180, "INVITE", "z9hG4bKs", "u");
    table
        .send_response(inv2, at(3), ringing.as_bytes())
        .unwrap();
    assert_eq!(table.pool().in_use(), 1);
    let ok = response(200, "INVITE", "z9hG4bKs", "u");
    table.send_response(inv2, at(4), ok.as_bytes()).unwrap();
    assert_eq!(table.pool().in_use(), 0);
    // An answered BYE moves to a Completed record with its response: the
    // slot's buffer goes back.
    let bye = request("BYE", "z9hG4bKc");
    let id = table
        .start_server(bye.as_bytes(), peer(), udp, cfg(), at(5))
        .unwrap();
    let ok = response(200, "BYE", "z9hG4bKc", "u");
    table.send_response(id, at(5), ok.as_bytes()).unwrap();
    assert_eq!(
        table.on_request(at(6), &parse(&bye)),
        Some((id, ServerEvent::Resend))
    );
    assert_eq!(table.completed_len(), 1);
    assert_eq!(
        table.last_response(&parse(&bye)).map(|r| r.1),
        Some(ok.as_bytes())
    );
    assert_eq!(table.pool().in_use(), 0);
    while table.handle_timer(at(100_000)).is_some() {}
    assert!(table.is_empty() && table.pool().in_use() == 0);
    assert_eq!(table.pool().peak(), 3);
}
