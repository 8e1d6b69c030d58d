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

fn invite_client(rel: Reliability) -> InviteClientTransaction {
    InviteClientTransaction::new(invite().as_bytes(), peer(), rel, cfg(), at(0)).unwrap()
}

fn non_invite_client(rel: Reliability) -> NonInviteClientTransaction {
    let r = request("OPTIONS", BRANCH);
    NonInviteClientTransaction::new(r.as_bytes(), peer(), rel, cfg(), at(0)).unwrap()
}

fn invite_server(rel: Reliability) -> InviteServerTransaction {
    InviteServerTransaction::new(invite().as_bytes(), peer(), rel, cfg(), at(0)).unwrap()
}

fn non_invite_server(rel: Reliability) -> NonInviteServerTransaction {
    let r = request("BYE", BRANCH);
    NonInviteServerTransaction::new(r.as_bytes(), peer(), rel, cfg(), at(0)).unwrap()
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
    let mut tx = InviteClientTransaction::new(
        invite().as_bytes(),
        peer(),
        Reliability::Unreliable,
        config,
        at(1000),
    )
    .unwrap();
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
    let mut tx = InviteClientTransaction::new(
        invite().as_bytes(),
        peer(),
        Reliability::Unreliable,
        config,
        at(0),
    )
    .unwrap();
    tx.on_response(at(0), &parse(&busy));
    assert_eq!(tx.timer(TimerKind::D), Some(at(64_000)));
}

#[test]
fn invite_client_accepted_passes_every_2xx_until_timer_m() {
    let mut tx = invite_client(Reliability::Unreliable);
    let ok = response(200, "INVITE", BRANCH, "a");
    assert_eq!(tx.on_response(at(300), &parse(&ok)), ClientEvent::Deliver);
    assert_eq!(tx.state(), InviteClientState::Accepted);
    // The 2xx ACK is the TU's: the stored message is still the INVITE.
    assert_eq!(tx.message(), invite().as_bytes());
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
    let cancel_tx =
        NonInviteClientTransaction::new(&buf[..n], peer(), Reliability::Unreliable, cfg(), at(2))
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
                at(0)
            )
            .unwrap_err(),
            TransactionError::WrongMethod
        );
    }
    let r = request("BYE", BRANCH);
    assert_eq!(
        InviteClientTransaction::new(r.as_bytes(), peer(), Reliability::Reliable, cfg(), at(0))
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
    let ack = request("ACK", BRANCH);
    assert_eq!(tx.on_request(at(1_000), &parse(&ack)), ServerEvent::Absorb);
    assert_eq!(tx.state(), InviteServerState::Confirmed);
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
    let ok = response(200, "INVITE", BRANCH, "u");
    tx.send_response(at(1_000), ok.as_bytes()).unwrap();
    assert_eq!(tx.state(), InviteServerState::Accepted);
    assert_eq!(tx.poll_timeout(), Some(at(33_000)));
    // RFC 6026 §8.7: INVITE retransmissions are absorbed; the TU resends
    // the 2xx itself, and those pass.
    assert_eq!(
        tx.on_request(at(1_500), &parse(&invite())),
        ServerEvent::Absorb
    );
    tx.send_response(at(1_500), ok.as_bytes()).unwrap();
    assert_eq!(tx.message(), ok.as_bytes());
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
            at(0)
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
