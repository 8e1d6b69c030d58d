//! A flooding node sends a phone more INVITEs, REGISTERs and SUBSCRIBEs
//! than its tables hold, each retransmitted in a storm, while that phone
//! has a call up: the flood is refused (486 or 503, with Retry-After), the
//! retransmissions are absorbed, the live call stays up and hangs up
//! cleanly, and afterwards every slot is free.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;

use handset_core::message::{HeaderName, Message};
use handset_core::phone::{Command, EndReason, Event};
use handset_core::time::{Duration, Instant};
use handset_sim::cli::FlowParams;
use handset_sim::flows::{World, ABC};
use handset_sim::phone_node::{SIM_CALLS, SIM_TXNS};
use handset_sim::{FaultProfile, NodeSetup, SimNode, Transmit};

/// Requests of each method the flood sends: several times what the
/// phone's transaction table holds.
const PER_METHOD: usize = 3 * SIM_TXNS;
/// Copies of every request: the original and a retransmission storm.
const COPIES: usize = 4;

/// What came back for one flooded request.
#[derive(Debug, Default)]
struct Answers {
    /// (status, has Retry-After) of every response, in arrival order.
    responses: Vec<(u16, bool)>,
}

/// Sends the flood in waves (one per instant of `waves`, each with fresh
/// requests) and records every response by Call-ID.
struct Flooder {
    addr: SocketAddr,
    target: SocketAddr,
    waves: VecDeque<Instant>,
    wave: usize,
    out: VecDeque<Transmit>,
    answers: BTreeMap<String, Answers>,
}

impl Flooder {
    fn request(&self, method: &str, i: usize) -> Vec<u8> {
        let body = if method == "INVITE" {
            format!(
                "v=0\r\no=flood {i} 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
                 m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
                ip = self.addr.ip(),
                port = 30000 + 2 * i
            )
        } else {
            String::new()
        };
        let event = match method {
            "SUBSCRIBE" => "Event: presence\r\nExpires: 600\r\n",
            "REGISTER" => "Expires: 3600\r\n",
            _ => "",
        };
        let content_type = if body.is_empty() {
            ""
        } else {
            "Content-Type: application/sdp\r\n"
        };
        format!(
            "{method} sip:bob@{target} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {addr};branch=z9hG4bKflood{method}{i}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:flood@{addr}>;tag=fl{i}\r\n\
             To: <sip:bob@example.com>\r\n\
             Call-ID: flood-{method}-{i}\r\n\
             CSeq: 1 {method}\r\n\
             Contact: <sip:flood@{addr}>\r\n\
             {event}{content_type}Content-Length: {len}\r\n\r\n{body}",
            target = self.target,
            addr = self.addr,
            len = body.len(),
        )
        .into_bytes()
    }
}

impl SimNode for Flooder {
    fn handle_datagram(&mut self, _now: Instant, _from: SocketAddr, _to: SocketAddr, data: &[u8]) {
        let Ok(m) = Message::parse_datagram(data) else {
            return;
        };
        let (Some(code), Some(call_id)) = (m.status(), m.call_id()) else {
            return;
        };
        let retry_after = m.header(HeaderName::parse("Retry-After")).is_some();
        self.answers
            .entry(call_id.to_string())
            .or_default()
            .responses
            .push((code, retry_after));
    }

    fn handle_tick(&mut self, now: Instant) {
        if self.waves.front().is_none_or(|&t| now < t) {
            return;
        }
        self.waves.pop_front();
        let first = self.wave * PER_METHOD;
        self.wave += 1;
        for i in first..first + PER_METHOD {
            for method in ["INVITE", "REGISTER", "SUBSCRIBE"] {
                let data = self.request(method, i);
                // A storm: every request several times back to back.
                for _ in 0..COPIES {
                    self.out.push_back(Transmit {
                        from: self.addr,
                        to: self.target,
                        data: data.clone(),
                    });
                }
            }
        }
    }

    fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.waves.front().copied()
    }
}

#[test]
fn a_flood_is_refused_while_the_live_call_stays_up_and_every_slot_frees() {
    let params = FlowParams {
        seed: 7,
        profile: FaultProfile::ideal(),
    };
    let mut w = World::new(&params, &ABC[..2], true).expect("both users register");
    let (a, b) = (w.users[0], w.users[1]);

    // A live call between A and B, through the proxy.
    w.command(
        a,
        Command::Dial {
            to: "sip:bob@example.com",
        },
    );
    w.expect(b, "IncomingCall", |e| matches!(e, Event::IncomingCall(_)))
        .unwrap();
    let call_b = w.call_of(b).unwrap();
    w.command(b, Command::Answer(call_b));
    w.expect(a, "Answered", |e| matches!(e, Event::Answered(_)))
        .unwrap();
    w.expect(b, "Answered", |e| matches!(e, Event::Answered(_)))
        .unwrap();
    let call_a = w.call_of(a).unwrap();

    // The flood, aimed straight at B.
    let target = w.address(b);
    let start = w.sim.now() + Duration::from_millis(100);
    // A second wave just before B hangs up keeps the table at its limit.
    let waves = [start, start + Duration::from_millis(4_800)].into();
    let flooder = w.sim.add_node("Flooder", |setup: NodeSetup| Flooder {
        addr: setup.addr,
        target,
        waves,
        wave: 0,
        out: VecDeque::new(),
        answers: BTreeMap::new(),
    });
    w.sim.run_for(Duration::from_secs(5));

    // The live call is untouched.
    let ended = |w: &World, id| {
        w.phone(id)
            .events
            .iter()
            .filter(|(_, e)| matches!(e, Event::Ended { .. }))
            .count()
    };
    let (ended_a, ended_b) = (ended(&w, a), ended(&w, b));
    assert_eq!(ended_a, 0, "A's call ended under the flood");
    assert!(w.phone(a).phone.call_state(call_a).is_some());
    assert!(w.phone(b).phone.call_state(call_b).is_some());

    // Every flooded request got an answer; the INVITEs beyond what the
    // phone can hold were refused with 486 or 503 and Retry-After.
    let fl = w.sim.node::<Flooder>(flooder);
    assert_eq!(
        fl.answers.len(),
        2 * 3 * PER_METHOD,
        "some requests got no answer"
    );
    let mut refused = 0;
    for (call_id, answers) in &fl.answers {
        let finals: Vec<_> = answers.responses.iter().filter(|r| r.0 >= 200).collect();
        assert!(
            !finals.is_empty() || call_id.starts_with("flood-INVITE"),
            "{call_id}: {answers:?}"
        );
        for &&(code, retry_after) in &finals {
            assert!(code >= 400, "{call_id} was accepted: {code}");
            if code == 486 || code == 503 {
                assert!(retry_after, "{call_id}: {code} without Retry-After");
                refused += 1;
            }
        }
        // The storm is absorbed: no copy makes more than one answer of a
        // kind beyond what retransmission needs.
        assert!(
            answers.responses.len() <= 2 * COPIES,
            "{call_id}: {answers:?}"
        );
    }
    assert!(refused >= PER_METHOD, "only {refused} refusals");
    // A retransmitted INVITE rings once: at most the free lines ring.
    let rang: usize = w
        .phone(b)
        .events
        .iter()
        .filter(|(_, e)| matches!(e, Event::IncomingCall(_)))
        .count();
    assert!(
        rang <= SIM_CALLS,
        "{rang} incoming calls for {SIM_CALLS} lines"
    );
    let stats = w.phone(b).phone.stats();
    assert!(stats.refused_full > 0, "{stats:?}");
    eprintln!("B: {stats:?}, rang {rang}, flood refused {refused} times");

    // B hangs up the live call while the flood's transactions still fill
    // its table: the BYE goes out and both ends see the call end.
    // The flood holds much of the table, but a quarter stays free for the
    // phone's own requests and its dialogs.
    let busy = w.phone(b).phone.transactions_in_use();
    assert!(
        (SIM_TXNS / 2..=SIM_TXNS - SIM_TXNS / 4).contains(&busy),
        "{busy} of {SIM_TXNS} transactions in use"
    );
    w.command(b, Command::Hangup(call_b));
    w.expect(a, "Ended", |e| {
        matches!(
            e,
            Event::Ended {
                reason: EndReason::RemoteHangup,
                ..
            }
        )
    })
    .unwrap();
    assert_eq!(ended(&w, b), ended_b + 1);

    // The flood's ringing calls time out (480 after the ring timeout) and
    // every transaction runs out; then every slot is free.
    w.sim.run_for(Duration::from_secs(200));
    let run = w.finish(&[]);
    assert_eq!(run.outcome, Ok(()));
}
