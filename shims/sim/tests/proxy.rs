//! The simulator's proxy and registrar against scripted user agents that
//! speak raw SIP: registration (with and without digest), forwarding with
//! Record-Route and 100 Trying, 404/480/483, CANCEL, timeouts, and
//! retransmissions over duplicating and lossy links.

mod support;

use std::collections::VecDeque;
use std::net::SocketAddr;

use handset_core::auth::{
    write_authorization, Challenge, DigestAlgorithm, DigestRequest, QopOptions,
};
use handset_core::message::{HeaderName, Message, Method};
use handset_core::time::{Duration, Instant};
use handset_sim::proxy::{Proxy, ProxyConfig};
use handset_sim::render::{ladder, LadderOptions};
use handset_sim::{Chance, FaultProfile, NodeId, NodeSetup, SimNode, Simulation, Transmit};
use support::sip;

type P = Proxy<64>;

const DOMAIN: &str = "example.com";

/// How a scripted user agent reacts to what it receives.
#[derive(Default)]
struct Behaviour {
    /// Statuses sent back for every INVITE, in order (e.g. 180 then 200).
    invite: Vec<u16>,
    /// Whether to acknowledge final responses to its own INVITEs.
    ack: bool,
}

/// A user agent without transactions: records everything, answers by its
/// [`Behaviour`], sends what the test queues.
struct Ua {
    addr: SocketAddr,
    proxy: SocketAddr,
    behaviour: Behaviour,
    out: VecDeque<Transmit>,
    received: Vec<(Instant, Vec<u8>)>,
    /// The last INVITE received, to answer a CANCEL for it with 487.
    last_invite: Option<Vec<u8>>,
}

impl Ua {
    fn new(setup: NodeSetup, proxy: SocketAddr, behaviour: Behaviour) -> Ua {
        Ua {
            addr: setup.addr,
            proxy,
            behaviour,
            out: VecDeque::new(),
            received: Vec::new(),
            last_invite: None,
        }
    }

    fn send(&mut self, to: SocketAddr, data: Vec<u8>) {
        self.out.push_back(Transmit {
            from: self.addr,
            to,
            data,
        });
    }

    /// First lines of everything received, in order.
    fn lines(&self) -> Vec<String> {
        self.received
            .iter()
            .map(|(_, d)| first_line(d).to_string())
            .collect()
    }

    /// The received messages whose first line is `line`.
    fn got(&self, line: &str) -> Vec<&[u8]> {
        self.received
            .iter()
            .filter(|(_, d)| first_line(d) == line)
            .map(|(_, d)| d.as_slice())
            .collect()
    }
}

impl SimNode for Ua {
    fn handle_datagram(&mut self, now: Instant, from: SocketAddr, _to: SocketAddr, data: &[u8]) {
        self.received.push((now, data.to_vec()));
        let msg = Message::parse_datagram(data).expect("the proxy sends valid SIP");
        match msg.method() {
            Some(Method::Invite) => {
                self.last_invite = Some(data.to_vec());
                for code in self.behaviour.invite.clone() {
                    let r = respond(data, code, Some("bobtag"), self.addr);
                    self.send(from, r);
                }
            }
            Some(Method::Cancel) => {
                self.send(from, respond(data, 200, Some("bobtag"), self.addr));
                if let Some(inv) = self.last_invite.take() {
                    self.send(from, respond(&inv, 487, Some("bobtag"), self.addr));
                }
            }
            Some(Method::Ack) => {}
            Some(_) => self.send(from, respond(data, 200, Some("bobtag"), self.addr)),
            None => {
                // A 400 to a request without CSeq has none either.
                let (Some(Ok(cseq)), Some(code)) = (msg.cseq(), msg.status()) else {
                    return;
                };
                if self.behaviour.ack && cseq.method == Method::Invite && code >= 200 {
                    let ack = ack_for(&msg, self.addr);
                    self.send(self.proxy, ack);
                }
            }
        }
    }

    fn handle_tick(&mut self, _now: Instant) {}

    fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

fn first_line(data: &[u8]) -> &str {
    let s = std::str::from_utf8(data).unwrap();
    s.split("\r\n").next().unwrap()
}

fn parse(data: &[u8]) -> Message<'_> {
    Message::parse_datagram(data).unwrap()
}

/// A request from `user` at `addr` with the headers every request needs.
fn request(
    method: &str,
    uri: &str,
    (user, addr): (&str, SocketAddr),
    branch: &str,
    to: &str,
    cseq: u32,
    extra: &[(&str, String)],
) -> Vec<u8> {
    let mut h = vec![
        ("Via", format!("SIP/2.0/UDP {addr};rport;branch={branch}")),
        ("Max-Forwards", "70".to_string()),
        ("From", format!("<sip:{user}@{DOMAIN}>;tag={user}tag")),
        ("To", to.to_string()),
        ("Call-ID", format!("{branch}-call")),
        ("CSeq", format!("{cseq} {method}")),
    ];
    h.extend(extra.iter().cloned());
    sip(&format!("{method} {uri} SIP/2.0"), &h, "")
}

fn invite(from: SocketAddr, to_user: &str, branch: &str, extra: &[(&str, String)]) -> Vec<u8> {
    let mut e = vec![("Contact", format!("<sip:alice@{from}>"))];
    e.extend(extra.iter().cloned());
    let uri = format!("sip:{to_user}@{DOMAIN}");
    request(
        "INVITE",
        &uri,
        ("alice", from),
        branch,
        &format!("<{uri}>"),
        1,
        &e,
    )
}

fn register(
    addr: SocketAddr,
    user: &str,
    cseq: u32,
    expires: u32,
    extra: &[(&str, String)],
) -> Vec<u8> {
    let mut e = vec![
        ("Contact", format!("<sip:{user}@{addr}>")),
        ("Expires", expires.to_string()),
    ];
    e.extend(extra.iter().cloned());
    let aor = format!("<sip:{user}@{DOMAIN}>");
    let branch = format!("z9hG4bKreg{user}{cseq}");
    let mut raw = request(
        "REGISTER",
        &format!("sip:{DOMAIN}"),
        (user, addr),
        &branch,
        &aor,
        cseq,
        &e,
    );
    // One Call-ID for every REGISTER of a user (RFC 3261 §10.2).
    let s = String::from_utf8(raw).unwrap();
    raw = s
        .replace(
            &format!("Call-ID: {branch}-call"),
            &format!("Call-ID: reg-{user}"),
        )
        .into_bytes();
    raw
}

/// A response to `req`: its Vias, From, To (with `to_tag` added), Call-ID,
/// CSeq, and for 1xx/2xx to INVITE its Record-Route and a Contact.
fn respond(req: &[u8], code: u16, to_tag: Option<&str>, contact: SocketAddr) -> Vec<u8> {
    let m = parse(req);
    let mut h: Vec<(&str, String)> = Vec::new();
    for v in m.header_values(HeaderName::Via) {
        h.push(("Via", v.to_string()));
    }
    h.push(("From", m.header(HeaderName::From).unwrap().to_string()));
    let to = m.header(HeaderName::To).unwrap();
    let to = match to_tag {
        Some(t) if !to.contains("tag=") && code > 100 => format!("{to};tag={t}"),
        _ => to.to_string(),
    };
    h.push(("To", to));
    h.push(("Call-ID", m.call_id().unwrap().to_string()));
    h.push(("CSeq", m.header(HeaderName::CSeq).unwrap().to_string()));
    if m.method() == Some(Method::Invite) && code < 300 && code > 100 {
        for rr in m.header_values(HeaderName::RecordRoute) {
            h.push(("Record-Route", rr.to_string()));
        }
        h.push(("Contact", format!("<sip:bob@{contact}>")));
    }
    let reason = handset_core::message::reason_phrase(code);
    sip(&format!("SIP/2.0 {code} {reason}"), &h, "")
}

/// The ACK a UAC sends for a final response to its INVITE: same branch
/// for a non-2xx (§17.1.1.3), a new one along the route set for a 2xx
/// (§13.2.2.4).
fn ack_for(resp: &Message<'_>, addr: SocketAddr) -> Vec<u8> {
    let code = resp.status().unwrap();
    let cseq = resp.cseq().unwrap().unwrap().seq;
    let mut h: Vec<(&str, String)> = Vec::new();
    let via = resp
        .header_values(HeaderName::Via)
        .next()
        .unwrap()
        .to_string();
    let uri = if code >= 300 {
        h.push(("Via", via));
        resp.to().unwrap().unwrap().uri.raw.to_string()
    } else {
        let branch = resp.top_via().unwrap().unwrap().branch().unwrap();
        h.push((
            "Via",
            format!("SIP/2.0/UDP {addr};rport;branch={branch}ack"),
        ));
        // §12.1.2: the route set is the Record-Route in reverse.
        let mut rr: Vec<&str> = resp.header_values(HeaderName::RecordRoute).collect();
        rr.reverse();
        for r in rr {
            h.push(("Route", r.to_string()));
        }
        resp.contact().unwrap().unwrap().uri.raw.to_string()
    };
    h.push(("Max-Forwards", "70".into()));
    h.push(("From", resp.header(HeaderName::From).unwrap().to_string()));
    h.push(("To", resp.header(HeaderName::To).unwrap().to_string()));
    h.push(("Call-ID", resp.call_id().unwrap().to_string()));
    h.push(("CSeq", format!("{cseq} ACK")));
    sip(&format!("ACK {uri} SIP/2.0"), &h, "")
}

struct World {
    sim: Simulation,
    proxy: NodeId,
    alice: NodeId,
    bob: NodeId,
}

impl World {
    fn proxy(&self) -> &P {
        self.sim.node::<P>(self.proxy)
    }
    fn alice(&self) -> &Ua {
        self.sim.node::<Ua>(self.alice)
    }
    fn bob(&self) -> &Ua {
        self.sim.node::<Ua>(self.bob)
    }
    fn addr(&self, id: NodeId) -> SocketAddr {
        self.sim.address(id)
    }
    /// Queues `data` from `who` to the proxy now and sends it.
    fn send_to_proxy(&mut self, who: NodeId, data: Vec<u8>) {
        let to = self.addr(self.proxy);
        self.sim.with_node(who, |ua: &mut Ua, _| ua.send(to, data));
    }
    fn run_ms(&mut self, ms: u64) {
        self.sim.run_for(Duration::from_millis(ms));
    }
    /// Runs until every timer ran out, then checks that nothing is left.
    fn drain(&mut self) {
        self.run_ms(60_000);
        assert_eq!(self.proxy().transactions_in_use(), 0, "transaction slots");
        assert_eq!(self.proxy().relays_in_use(), 0, "relays");
        assert!(self.sim.is_idle());
    }
    fn ladder(&self) -> String {
        ladder(self.sim.trace(), &LadderOptions::default())
    }
}

/// A proxy, a caller (User A, who ACKs) and a callee (User B) answering
/// INVITEs with `bob_answers`; B registered when `register_bob`.
fn world(seed: u64, config: ProxyConfig, bob_answers: &[u16], register_bob: bool) -> World {
    let mut sim = Simulation::new(seed, FaultProfile::ideal());
    let proxy = sim.add_node("Proxy", |s| P::new(s, config));
    let paddr = sim.address(proxy);
    let alice = sim.add_node("User A", |s| {
        Ua::new(
            s,
            paddr,
            Behaviour {
                invite: vec![],
                ack: true,
            },
        )
    });
    let answers = bob_answers.to_vec();
    let bob = sim.add_node("User B", |s| {
        Ua::new(
            s,
            paddr,
            Behaviour {
                invite: answers,
                ack: false,
            },
        )
    });
    let mut w = World {
        sim,
        proxy,
        alice,
        bob,
    };
    if register_bob {
        let baddr = w.addr(bob);
        w.send_to_proxy(bob, register(baddr, "bob", 1, 3600, &[]));
        w.run_ms(10);
        assert_eq!(w.bob().lines(), ["SIP/2.0 200 OK"]);
        w.sim.with_node(bob, |ua: &mut Ua, _| ua.received.clear());
    }
    w
}

fn config() -> ProxyConfig {
    ProxyConfig::new(DOMAIN).with_users(&["alice", "bob", "carol"])
}

#[test]
fn register_binds_the_contact_and_answers_with_it() {
    let mut w = world(1, config(), &[], false);
    let baddr = w.addr(w.bob);
    w.send_to_proxy(w.bob, register(baddr, "bob", 1, 600, &[]));
    w.run_ms(10);
    let ok = w.bob().got("SIP/2.0 200 OK");
    assert_eq!(ok.len(), 1);
    let ok = parse(ok[0]);
    let contact = ok.contacts().unwrap().unwrap();
    let c: Vec<_> = match contact {
        handset_core::message::Contacts::List(l) => l.map(Result::unwrap).collect(),
        _ => panic!("wildcard"),
    };
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].addr.uri.raw, format!("sip:bob@{baddr}"));
    assert_eq!(c[0].expires, Some(600));
    assert!(ok.to().unwrap().unwrap().tag().is_some());
    let now = w.sim.now();
    assert_eq!(w.proxy().bindings(now), 1);
    assert_eq!(w.proxy().binding(now, "bob").unwrap().address, baddr);
    // The registrar's transaction waits out Timer J, then its slot is free.
    assert_eq!(w.proxy().transactions_in_use(), 1);
    w.drain();
    // Unregister.
    w.send_to_proxy(w.bob, register(baddr, "bob", 2, 0, &[]));
    w.run_ms(10);
    assert_eq!(w.proxy().bindings(w.sim.now()), 0);
    // And a binding lapses on its own.
    w.send_to_proxy(w.bob, register(baddr, "bob", 3, 60, &[]));
    w.run_ms(10);
    assert_eq!(w.proxy().bindings(w.sim.now()), 1);
    w.run_ms(61_000);
    assert_eq!(w.proxy().bindings(w.sim.now()), 0);
}

#[test]
fn register_below_the_minimum_interval_gets_423() {
    let mut w = world(1, config().with_min_expires(120), &[], false);
    let baddr = w.addr(w.bob);
    w.send_to_proxy(w.bob, register(baddr, "bob", 1, 30, &[]));
    w.run_ms(10);
    let brief = w.bob().got("SIP/2.0 423 Interval Too Brief");
    assert_eq!(brief.len(), 1);
    assert_eq!(parse(brief[0]).min_expires(), Some(Ok(120)));
    assert_eq!(w.proxy().bindings(w.sim.now()), 0);
    w.drain();
}

/// The Authorization for a REGISTER answering the challenge in `resp`.
fn authorization(resp: &[u8], user: &str, password: &str, nc: u32) -> String {
    let m = parse(resp);
    let ch = m.www_authenticate().unwrap().unwrap();
    let d = ch.digest().unwrap();
    let challenge = Challenge {
        realm: d.realm.unwrap(),
        nonce: d.nonce.unwrap(),
        opaque: d.opaque,
        algorithm: DigestAlgorithm::from_token(d.algorithm.unwrap_or("MD5")).unwrap(),
        qop: QopOptions::from_list(d.qop.unwrap_or("")),
        stale: d.stale,
    };
    let uri = format!("sip:{DOMAIN}");
    let req = DigestRequest {
        method: "REGISTER",
        uri: &uri,
        username: user,
        password,
        cnonce: "c0ffee",
        nc,
        body: b"",
    };
    let mut buf = [0u8; 512];
    let n = write_authorization(&challenge, &req, &mut buf).unwrap();
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

#[test]
fn register_with_digest_challenge_wrong_password_and_stale_nonce() {
    let cfg = config()
        .with_credentials(&[("bob", "zanzibar")])
        .with_nonce_lifetime(Duration::from_secs(30));
    let mut w = world(5, cfg, &[], false);
    let baddr = w.addr(w.bob);
    w.send_to_proxy(w.bob, register(baddr, "bob", 1, 3600, &[]));
    w.run_ms(10);
    let first = w.bob().got("SIP/2.0 401 Unauthorized");
    assert_eq!(first.len(), 1);
    let first = first[0].to_vec();
    let ch = parse(&first).www_authenticate().unwrap().unwrap();
    let d = ch.digest().unwrap();
    assert_eq!(d.realm, Some(DOMAIN));
    assert!(d.offers_qop("auth"));
    assert!(!d.stale);
    assert_eq!(w.proxy().bindings(w.sim.now()), 0);

    // A wrong password is challenged again, not bound.
    let wrong = authorization(&first, "bob", "guess", 1);
    w.send_to_proxy(
        w.bob,
        register(baddr, "bob", 2, 3600, &[("Authorization", wrong)]),
    );
    w.run_ms(10);
    assert_eq!(w.bob().got("SIP/2.0 401 Unauthorized").len(), 2);
    assert_eq!(w.proxy().bindings(w.sim.now()), 0);

    // The right one binds.
    let right = authorization(&first, "bob", "zanzibar", 2);
    w.send_to_proxy(
        w.bob,
        register(baddr, "bob", 3, 3600, &[("Authorization", right.clone())]),
    );
    w.run_ms(10);
    assert_eq!(w.bob().got("SIP/2.0 200 OK").len(), 1);
    assert_eq!(w.proxy().bindings(w.sim.now()), 1);

    // Replaying the same answer (same nonce count) is refused as stale.
    w.send_to_proxy(
        w.bob,
        register(baddr, "bob", 4, 3600, &[("Authorization", right)]),
    );
    w.run_ms(10);
    let replay = w.bob().got("SIP/2.0 401 Unauthorized");
    assert_eq!(replay.len(), 3);
    assert!(
        parse(replay[2])
            .www_authenticate()
            .unwrap()
            .unwrap()
            .digest()
            .unwrap()
            .stale
    );

    // After the nonce lifetime, a right answer gets stale=true.
    w.run_ms(31_000);
    let late = authorization(&first, "bob", "zanzibar", 5);
    w.send_to_proxy(
        w.bob,
        register(baddr, "bob", 5, 3600, &[("Authorization", late)]),
    );
    w.run_ms(10);
    let stale = w.bob().got("SIP/2.0 401 Unauthorized");
    assert_eq!(stale.len(), 4);
    let fresh = stale[3].to_vec();
    assert!(
        parse(&fresh)
            .www_authenticate()
            .unwrap()
            .unwrap()
            .digest()
            .unwrap()
            .stale
    );
    // And the fresh nonce works.
    let again = authorization(&fresh, "bob", "zanzibar", 1);
    w.send_to_proxy(
        w.bob,
        register(baddr, "bob", 6, 3600, &[("Authorization", again)]),
    );
    w.run_ms(10);
    assert_eq!(w.bob().got("SIP/2.0 200 OK").len(), 2);

    // Another user's credentials do not register bob.
    let cfg = config().with_credentials(&[("bob", "zanzibar"), ("eve", "x")]);
    let mut w = world(5, cfg, &[], false);
    w.send_to_proxy(w.bob, register(baddr, "bob", 1, 3600, &[]));
    w.run_ms(10);
    let ch = w.bob().got("SIP/2.0 401 Unauthorized")[0].to_vec();
    let eve = authorization(&ch, "eve", "x", 1);
    w.send_to_proxy(
        w.bob,
        register(baddr, "bob", 2, 3600, &[("Authorization", eve)]),
    );
    w.run_ms(10);
    assert_eq!(w.bob().got("SIP/2.0 403 Forbidden").len(), 1);
    w.drain();
}

#[test]
fn invite_reaches_the_registered_contact_with_record_route_and_the_call_completes() {
    let mut w = world(1, config(), &[180, 200], true);
    let (aaddr, baddr, paddr) = (w.addr(w.alice), w.addr(w.bob), w.addr(w.proxy));
    w.send_to_proxy(w.alice, invite(aaddr, "bob", "z9hG4bKinv1", &[]));
    w.run_ms(100);

    // B got the INVITE at its registered contact, record-routed, with the
    // proxy's Via on top and one hop fewer.
    let invites = w.bob().got(&format!("INVITE sip:bob@{baddr} SIP/2.0"));
    assert_eq!(invites.len(), 1);
    let inv = parse(invites[0]);
    assert_eq!(
        inv.header(HeaderName::RecordRoute),
        Some(format!("<sip:{paddr};lr>").as_str())
    );
    let vias: Vec<_> = inv.vias().map(Result::unwrap).collect();
    assert_eq!(vias.len(), 2);
    assert_eq!(vias[0].host.ip(), Some(paddr.ip()));
    assert!(vias[0].has_rfc3261_branch());
    assert_ne!(vias[0].branch(), Some("z9hG4bKinv1"));
    assert_eq!(vias[1].branch(), Some("z9hG4bKinv1"));
    assert_eq!(vias[1].rport(), Some(Some(aaddr.port())));
    assert_eq!(inv.max_forwards(), Some(Ok(69)));

    // A got 100 Trying from the proxy, then B's 180 and 200 with the
    // proxy's Via stripped.
    assert_eq!(
        w.alice().lines(),
        [
            "SIP/2.0 100 Trying",
            "SIP/2.0 180 Ringing",
            "SIP/2.0 200 OK"
        ]
    );
    for (_, r) in &w.alice().received {
        let r = parse(r);
        assert_eq!(r.vias().count(), 1);
        assert_eq!(r.top_via().unwrap().unwrap().branch(), Some("z9hG4bKinv1"));
    }
    let ok = parse(w.alice().got("SIP/2.0 200 OK")[0]);
    assert_eq!(
        ok.header(HeaderName::RecordRoute),
        Some(format!("<sip:{paddr};lr>").as_str())
    );

    // A's ACK for the 2xx went statelessly to B along the route set, the
    // proxy's Route removed.
    let acks = w.bob().got(&format!("ACK sip:bob@{baddr} SIP/2.0"));
    assert_eq!(acks.len(), 1);
    let ack = parse(acks[0]);
    assert_eq!(ack.routes().count(), 0);
    assert_eq!(ack.vias().count(), 2);

    // A hangs up inside the dialog: loose-routed through the proxy.
    let bye = request(
        "BYE",
        &format!("sip:bob@{baddr}"),
        ("alice", aaddr),
        "z9hG4bKbye1",
        &format!("<sip:bob@{DOMAIN}>;tag=bobtag"),
        2,
        &[("Route", format!("<sip:{paddr};lr>"))],
    );
    w.send_to_proxy(w.alice, bye);
    w.run_ms(100);
    assert_eq!(
        w.bob().got(&format!("BYE sip:bob@{baddr} SIP/2.0")).len(),
        1
    );
    let lines = w.alice().lines();
    assert_eq!(lines.last().unwrap(), "SIP/2.0 200 OK");
    assert_eq!(w.proxy().stats().requests_forwarded, 2);
    assert_eq!(w.proxy().stats().stateless_requests, 1);
    w.drain();

    insta::assert_snapshot!(w.ladder(), @r"
    F1   REGISTER     User B -> Proxy
    F2   200 OK       Proxy -> User B
    F3   INVITE       User A -> Proxy
    F4   100 Trying   Proxy -> User A
    F5   INVITE       Proxy -> User B
    F6   180 Ringing  User B -> Proxy
    F7   200 OK       User B -> Proxy
    F8   180 Ringing  Proxy -> User A
    F9   200 OK       Proxy -> User A
    F10  ACK          User A -> Proxy
    F11  ACK          Proxy -> User B
    F12  BYE          User A -> Proxy
    F13  BYE          Proxy -> User B
    F14  200 OK       User B -> Proxy
    F15  200 OK       Proxy -> User A
    ");
}

#[test]
fn a_2xx_retransmitted_after_the_transactions_ended_still_reaches_the_caller() {
    let mut w = world(1, config(), &[180, 200], true);
    let aaddr = w.addr(w.alice);
    w.send_to_proxy(w.alice, invite(aaddr, "bob", "z9hG4bKlate", &[]));
    w.run_ms(100);
    w.drain();
    // B never saw an ACK (say) and sends its 200 once more: no transaction
    // is left, yet the top Via is the proxy's, so it goes on statelessly.
    let ok = w.bob().received[0].1.clone();
    let (baddr, paddr) = (w.addr(w.bob), w.addr(w.proxy));
    w.sim.with_node(w.bob, |ua: &mut Ua, _| {
        ua.send(paddr, respond(&ok, 200, Some("bobtag"), baddr))
    });
    w.run_ms(100);
    let oks = w.alice().got("SIP/2.0 200 OK");
    assert_eq!(oks.len(), 2);
    assert_eq!(parse(oks[1]).vias().count(), 1);
    w.drain();
}

#[test]
fn timer_c_cancels_a_branch_that_rings_too_long() {
    let cfg = config().with_timer_c(Duration::from_secs(10));
    let mut w = world(1, cfg, &[180], true);
    let aaddr = w.addr(w.alice);
    w.send_to_proxy(w.alice, invite(aaddr, "bob", "z9hG4bKlong", &[]));
    w.run_ms(9_000);
    assert!(w.bob().got("SIP/2.0 487 Request Terminated").is_empty());
    assert!(!w
        .bob()
        .received
        .iter()
        .any(|(_, d)| d.starts_with(b"CANCEL")));
    w.run_ms(2_000);
    // RFC 3261 §16.8: the proxy cancels the branch; B's 487 goes to A.
    assert!(w
        .bob()
        .received
        .iter()
        .any(|(_, d)| d.starts_with(b"CANCEL")));
    assert_eq!(w.alice().got("SIP/2.0 487 Request Terminated").len(), 1);
    w.drain();
}

#[test]
fn request_uri_with_an_ip_host_elsewhere_is_forwarded_there() {
    let mut w = world(1, config(), &[], false);
    let (aaddr, baddr) = (w.addr(w.alice), w.addr(w.bob));
    let options = request(
        "OPTIONS",
        &format!("sip:bob@{baddr}"),
        ("alice", aaddr),
        "z9hG4bKopt",
        &format!("<sip:bob@{baddr}>"),
        1,
        &[],
    );
    w.send_to_proxy(w.alice, options);
    w.run_ms(100);
    assert_eq!(
        w.bob().lines(),
        [format!("OPTIONS sip:bob@{baddr} SIP/2.0")]
    );
    // Not dialog-forming: no Record-Route.
    assert!(parse(&w.bob().received[0].1)
        .header(HeaderName::RecordRoute)
        .is_none());
    assert_eq!(w.alice().lines(), ["SIP/2.0 200 OK"]);
    // And an OPTIONS for the proxy itself is answered by it.
    let ping = request(
        "OPTIONS",
        &format!("sip:{DOMAIN}"),
        ("alice", aaddr),
        "z9hG4bKping",
        &format!("<sip:{DOMAIN}>"),
        1,
        &[],
    );
    w.send_to_proxy(w.alice, ping);
    w.run_ms(100);
    let oks = w.alice().got("SIP/2.0 200 OK");
    assert_eq!(oks.len(), 2);
    assert!(parse(oks[1]).allow().is_some());
    assert_eq!(w.bob().received.len(), 1);
    w.drain();
}

#[test]
fn unsupported_extensions_and_versions_are_refused() {
    let mut w = world(1, config(), &[200], true);
    let aaddr = w.addr(w.alice);
    w.send_to_proxy(
        w.alice,
        invite(
            aaddr,
            "bob",
            "z9hG4bKext",
            &[("Proxy-Require", "foo".into())],
        ),
    );
    w.run_ms(100);
    let bad = w.alice().got("SIP/2.0 420 Bad Extension");
    assert_eq!(bad.len(), 1);
    assert_eq!(parse(bad[0]).header(HeaderName::Unsupported), Some("foo"));
    let v7 = String::from_utf8(invite(aaddr, "bob", "z9hG4bKv7", &[]))
        .unwrap()
        .replacen("SIP/2.0\r\n", "SIP/7.0\r\n", 1);
    w.send_to_proxy(w.alice, v7.into_bytes());
    w.run_ms(100);
    assert_eq!(w.alice().got("SIP/2.0 505 Version Not Supported").len(), 1);
    assert!(w.bob().received.is_empty());
    w.drain();
}

#[test]
fn unknown_user_404_unregistered_user_480_no_hops_483() {
    let mut w = world(1, config(), &[200], false);
    let aaddr = w.addr(w.alice);
    w.send_to_proxy(w.alice, invite(aaddr, "zed", "z9hG4bKa1", &[]));
    w.send_to_proxy(w.alice, invite(aaddr, "carol", "z9hG4bKa2", &[]));
    w.send_to_proxy(w.alice, invite(aaddr, "bob", "z9hG4bKa3", &[]));
    w.run_ms(100);
    // Bob is known but not registered: 480; zed is nobody: 404.
    let lines = w.alice().lines();
    assert!(
        lines.contains(&"SIP/2.0 404 Not Found".to_string()),
        "{lines:?}"
    );
    assert_eq!(
        w.alice().got("SIP/2.0 480 Temporarily Unavailable").len(),
        2
    );
    assert!(w.bob().received.is_empty());

    // Max-Forwards 0 is answered 483 by the proxy (RFC 3261 §16.3).
    let mut raw = String::from_utf8(invite(aaddr, "bob", "z9hG4bKa4", &[])).unwrap();
    raw = raw.replace("Max-Forwards: 70", "Max-Forwards: 0");
    w.send_to_proxy(w.alice, raw.into_bytes());
    w.run_ms(100);
    let hops = w.alice().got("SIP/2.0 483 Too Many Hops");
    assert_eq!(hops.len(), 1);
    assert!(parse(hops[0]).to().unwrap().unwrap().tag().is_some());
    // A acknowledged each final; the ACKs stopped at the proxy's server
    // transactions, which then free their slots.
    assert!(w.bob().received.is_empty());
    let acks = w
        .sim
        .trace()
        .entries()
        .iter()
        .filter(|e| e.from == w.alice && e.data.starts_with(b"ACK"))
        .count();
    assert_eq!(acks, 4);
    assert_eq!(
        w.proxy().stats().retransmissions_sent,
        0,
        "every final was ACKed at once"
    );
    w.drain();
}

#[test]
fn in_dialog_request_aimed_at_the_proxy_gets_404() {
    let mut w = world(1, config(), &[], true);
    let aaddr = w.addr(w.alice);
    let bye = request(
        "BYE",
        &format!("sip:bob@{DOMAIN}"),
        ("alice", aaddr),
        "z9hG4bKlost",
        &format!("<sip:bob@{DOMAIN}>;tag=gone"),
        5,
        &[],
    );
    w.send_to_proxy(w.alice, bye);
    w.run_ms(100);
    assert_eq!(w.alice().lines(), ["SIP/2.0 404 Not Found"]);
    assert!(w.bob().received.is_empty());
    w.drain();
}

#[test]
fn cancel_after_ringing_is_answered_and_passed_downstream() {
    let mut w = world(1, config(), &[180], true);
    let (aaddr, paddr) = (w.addr(w.alice), w.addr(w.proxy));
    let inv = invite(aaddr, "bob", "z9hG4bKc1", &[]);
    w.send_to_proxy(w.alice, inv.clone());
    w.run_ms(100);
    assert_eq!(
        w.alice().lines(),
        ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing"]
    );

    // A's CANCEL: same branch, same Request-URI (RFC 3261 §9.1).
    let cancel = cancel_for(&inv, aaddr);
    w.send_to_proxy(w.alice, cancel);
    w.run_ms(100);

    // The proxy answered the CANCEL itself and cancelled B's branch with
    // the branch of the INVITE it had sent there.
    let b_invite = parse(w.bob().received[0].1.as_slice())
        .top_via()
        .unwrap()
        .unwrap()
        .branch()
        .unwrap()
        .to_string();
    let b_cancel = w
        .bob()
        .received
        .iter()
        .find(|(_, d)| d.starts_with(b"CANCEL"))
        .expect("CANCEL downstream");
    let b_cancel = parse(&b_cancel.1);
    assert_eq!(
        b_cancel.top_via().unwrap().unwrap().branch(),
        Some(b_invite.as_str())
    );
    assert_eq!(
        b_cancel.top_via().unwrap().unwrap().host.ip(),
        Some(paddr.ip())
    );
    assert_eq!(b_cancel.vias().count(), 1);

    // B's 487 was ACKed by the proxy (hop by hop) and passed to A, whose ACK
    // stops at the proxy.
    let lines = w.alice().lines();
    assert!(lines.contains(&"SIP/2.0 200 OK".to_string()), "{lines:?}");
    assert_eq!(w.alice().got("SIP/2.0 487 Request Terminated").len(), 1);
    let b_acks: Vec<_> = w
        .bob()
        .received
        .iter()
        .filter(|(_, d)| d.starts_with(b"ACK"))
        .collect();
    assert_eq!(b_acks.len(), 1);
    let b_ack = parse(&b_acks[0].1);
    assert_eq!(
        b_ack.top_via().unwrap().unwrap().branch(),
        Some(b_invite.as_str())
    );
    assert!(b_ack.to().unwrap().unwrap().tag().is_some());
    w.drain();
    insta::assert_snapshot!(w.ladder(), @r"
    F1   REGISTER                User B -> Proxy
    F2   200 OK                  Proxy -> User B
    F3   INVITE                  User A -> Proxy
    F4   100 Trying              Proxy -> User A
    F5   INVITE                  Proxy -> User B
    F6   180 Ringing             User B -> Proxy
    F7   180 Ringing             Proxy -> User A
    F8   CANCEL                  User A -> Proxy
    F9   200 OK                  Proxy -> User A
    F10  CANCEL                  Proxy -> User B
    F11  200 OK                  User B -> Proxy
    F12  487 Request Terminated  User B -> Proxy
    F13  ACK                     Proxy -> User B
    F14  487 Request Terminated  Proxy -> User A
    F15  ACK                     User A -> Proxy
    ");
}

fn cancel_for(inv: &[u8], addr: SocketAddr) -> Vec<u8> {
    let m = parse(inv);
    let branch = m.top_via().unwrap().unwrap().branch().unwrap();
    request(
        "CANCEL",
        m.request_line().unwrap().uri,
        ("alice", addr),
        branch,
        m.header(HeaderName::To).unwrap(),
        1,
        &[],
    )
}

#[test]
fn cancel_before_any_provisional_waits_for_one() {
    // B stays silent at first, then rings 2 s later.
    let mut w = world(1, config(), &[], true);
    let aaddr = w.addr(w.alice);
    let inv = invite(aaddr, "bob", "z9hG4bKc2", &[]);
    w.send_to_proxy(w.alice, inv.clone());
    w.run_ms(100);
    w.send_to_proxy(w.alice, cancel_for(&inv, aaddr));
    w.run_ms(100);
    // Answered at once, but nothing may go to B before it has answered
    // (RFC 3261 §9.1).
    assert_eq!(w.alice().lines(), ["SIP/2.0 100 Trying", "SIP/2.0 200 OK"]);
    assert!(!w
        .bob()
        .received
        .iter()
        .any(|(_, d)| d.starts_with(b"CANCEL")));
    // B rings (answering the proxy's INVITE, retransmitted meanwhile).
    let b_inv = w.bob().received[0].1.clone();
    let baddr = w.addr(w.bob);
    let paddr = w.addr(w.proxy);
    w.sim.with_node(w.bob, |ua: &mut Ua, _| {
        ua.send(paddr, respond(&b_inv, 180, Some("bobtag"), baddr));
    });
    w.run_ms(100);
    let cancels = w.bob().got(&format!("CANCEL sip:bob@{baddr} SIP/2.0"));
    assert_eq!(
        cancels.len(),
        1,
        "the pending CANCEL goes as soon as B rang"
    );
    // The 180 still reached A; then B's 487 ends the call.
    assert_eq!(w.alice().got("SIP/2.0 180 Ringing").len(), 1);
    assert_eq!(w.alice().got("SIP/2.0 487 Request Terminated").len(), 1);
    w.drain();
}

#[test]
fn silent_callee_means_timer_a_retransmissions_then_408() {
    let mut w = world(1, config(), &[], true);
    let aaddr = w.addr(w.alice);
    w.send_to_proxy(w.alice, invite(aaddr, "bob", "z9hG4bKt1", &[]));
    w.run_ms(40_000);
    // RFC 3261 §17.1.1.2: sent at 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s;
    // Timer B ends it at 32 s.
    let sent: Vec<u64> = w
        .sim
        .trace()
        .entries()
        .iter()
        .filter(|e| e.from == w.proxy && e.data.starts_with(b"INVITE"))
        .map(|e| e.sent_at.as_millis())
        .collect();
    let start = sent[0];
    let offsets: Vec<u64> = sent.iter().map(|t| t - start).collect();
    assert_eq!(offsets, [0, 500, 1500, 3500, 7500, 15500, 31500]);
    let timeouts = w.alice().got("SIP/2.0 408 Request Timeout");
    assert_eq!(timeouts.len(), 1);
    let at = w
        .alice()
        .received
        .iter()
        .find(|(_, d)| d.starts_with(b"SIP/2.0 408"))
        .unwrap()
        .0;
    assert_eq!(at.as_millis() - start, 32_000 + 1);
    w.drain();
}

#[test]
fn cancelled_branch_that_never_answers_ends_with_487() {
    let mut w = world(1, config(), &[], true);
    let aaddr = w.addr(w.alice);
    let inv = invite(aaddr, "bob", "z9hG4bKt2", &[]);
    w.send_to_proxy(w.alice, inv.clone());
    w.run_ms(100);
    w.send_to_proxy(w.alice, cancel_for(&inv, aaddr));
    w.run_ms(40_000);
    assert_eq!(w.alice().got("SIP/2.0 487 Request Terminated").len(), 1);
    assert!(w.alice().got("SIP/2.0 408 Request Timeout").is_empty());
    w.drain();
}

#[test]
fn duplicated_links_are_absorbed_by_the_transactions() {
    let mut w = world(3, config(), &[180, 200], true);
    // Every datagram on every link arrives twice.
    let dup = FaultProfile::ideal().with_duplicate(Chance::ALWAYS);
    w.sim.network_mut().set_default_profile(dup);
    let aaddr = w.addr(w.alice);
    w.send_to_proxy(w.alice, invite(aaddr, "bob", "z9hG4bKd1", &[]));
    w.run_ms(1000);
    let trace = w.sim.trace();
    let from_proxy_to_b = |prefix: &[u8]| {
        trace
            .entries()
            .iter()
            .filter(|e| e.from == w.proxy && e.to == Some(w.bob) && !e.duplicate)
            .filter(|e| e.data.starts_with(prefix))
            .count()
    };
    // The INVITE went to B once; A's duplicate got the 100 Trying again.
    assert_eq!(from_proxy_to_b(b"INVITE"), 1);
    let trying_sent = trace
        .entries()
        .iter()
        .filter(|e| e.from == w.proxy && !e.duplicate && e.data.starts_with(b"SIP/2.0 100"))
        .count();
    assert_eq!(trying_sent, 2);
    // B answered each copy of the INVITE, and the network doubled each
    // answer: the extra 180s are absorbed, every 200 is passed on (RFC
    // 6026 §7.2: each 2xx goes upstream).
    let from_proxy_to_a = |prefix: &[u8]| {
        trace
            .entries()
            .iter()
            .filter(|e| e.from == w.proxy && e.to == Some(w.alice) && !e.duplicate)
            .filter(|e| e.data.starts_with(prefix))
            .count()
    };
    assert_eq!(from_proxy_to_a(b"SIP/2.0 180"), 1);
    let oks_from_b = trace
        .entries()
        .iter()
        .filter(|e| e.from == w.bob && e.to == Some(w.proxy) && e.delivered_at.is_some())
        .filter(|e| e.data.starts_with(b"SIP/2.0 200"))
        .count();
    assert_eq!(oks_from_b, 4);
    assert_eq!(from_proxy_to_a(b"SIP/2.0 200"), oks_from_b);
    assert!(w.proxy().stats().retransmissions_absorbed >= 2);
    // Each ACK A sent reached B (stateless forwarding).
    assert!(from_proxy_to_b(b"ACK") >= 1);
    w.drain();
}

#[test]
fn busy_callee_over_a_lossy_link_always_gets_one_486_to_the_caller() {
    for seed in 1..=60 {
        let mut w = world(seed, config(), &[486], true);
        let lossy = FaultProfile::ideal().with_loss(Chance::percent(30.0));
        w.sim.network_mut().set_link_both(w.proxy, w.bob, lossy);
        let aaddr = w.addr(w.alice);
        w.send_to_proxy(w.alice, invite(aaddr, "bob", "z9hG4bKl1", &[]));
        w.run_ms(40_000);
        let a = w.alice();
        let busy = a.got("SIP/2.0 486 Busy Here").len();
        let timeout = a.got("SIP/2.0 408 Request Timeout").len();
        // Either B's answer got through (once to A, however often B sent
        // it) or every INVITE or answer was lost and Timer B said 408.
        assert_eq!(busy + timeout, 1, "seed {seed}: {:?}", a.lines());
        let sent_486 = w
            .sim
            .trace()
            .entries()
            .iter()
            .filter(|e| e.from == w.proxy && e.data.starts_with(b"SIP/2.0 486"))
            .count();
        assert_eq!(sent_486, busy, "seed {seed}");
        w.drain();
    }
}

#[test]
fn full_table_answers_503_with_retry_after() {
    let mut sim = Simulation::new(1, FaultProfile::ideal());
    let proxy = sim.add_node("Proxy", |s| Proxy::<2>::new(s, config()));
    let paddr = sim.address(proxy);
    let alice = sim.add_node("User A", |s| {
        Ua::new(
            s,
            paddr,
            Behaviour {
                invite: vec![],
                ack: false,
            },
        )
    });
    let bob = sim.add_node("User B", |s| Ua::new(s, paddr, Behaviour::default()));
    let (aaddr, baddr) = (sim.address(alice), sim.address(bob));
    sim.with_node(bob, |ua: &mut Ua, _| {
        ua.send(paddr, register(baddr, "bob", 1, 3600, &[]))
    });
    sim.run_for(Duration::from_secs(40));
    // Two slots: the first INVITE takes both, the second finds none.
    sim.with_node(alice, |ua: &mut Ua, _| {
        ua.send(paddr, invite(aaddr, "bob", "z9hG4bKf1", &[]));
        ua.send(paddr, invite(aaddr, "bob", "z9hG4bKf2", &[]));
    });
    sim.run_for(Duration::from_millis(100));
    let a = sim.node::<Ua>(alice);
    let full = a.got("SIP/2.0 503 Service Unavailable");
    assert_eq!(
        full.len(),
        1,
        "{}",
        ladder(sim.trace(), &LadderOptions::default())
    );
    assert!(parse(full[0]).retry_after().is_some());
    assert_eq!(sim.node::<Proxy<2>>(proxy).stats().table_full, 1);
}

#[test]
fn same_seed_same_trace() {
    let run = |seed| {
        let mut w = world(seed, config(), &[180, 200], true);
        w.sim
            .network_mut()
            .set_default_profile(FaultProfile::lossy(20.0, 5.0, 5.0));
        let aaddr = w.addr(w.alice);
        w.send_to_proxy(w.alice, invite(aaddr, "bob", "z9hG4bKs1", &[]));
        w.run_ms(40_000);
        w.sim
            .trace()
            .entries()
            .iter()
            .map(|e| e.data.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(run(9), run(9));
    assert_ne!(run(9), run(10));
}

/// Sends `data` from `who` to the proxy at each of `offsets_ms` after `at`,
/// as a UAC's transaction would retransmit it (blindly, here).
fn send_repeatedly(w: &mut World, who: NodeId, at: u64, offsets_ms: &[u64], data: Vec<u8>) {
    let to = w.addr(w.proxy);
    for off in offsets_ms {
        let data = data.clone();
        w.sim.schedule_on(
            Instant::from_millis(at + off),
            who,
            move |ua: &mut Ua, _| ua.send(to, data),
        );
    }
}

#[test]
fn every_slot_is_freed_after_calls_over_faulty_links() {
    let mut completed = 0;
    for seed in 1..=200 {
        let mut w = world(seed, config(), &[180, 200], true);
        w.sim
            .network_mut()
            .set_default_profile(FaultProfile::lossy(20.0, 5.0, 5.0));
        let (aaddr, baddr, paddr) = (w.addr(w.alice), w.addr(w.bob), w.addr(w.proxy));
        let start = w.sim.now().as_millis();
        let timer_a = [0, 500, 1500, 3500, 7500, 15500];
        let alice = w.alice;
        send_repeatedly(
            &mut w,
            alice,
            start,
            &timer_a,
            invite(aaddr, "bob", "z9hG4bKx1", &[]),
        );
        let bye = request(
            "BYE",
            &format!("sip:bob@{baddr}"),
            ("alice", aaddr),
            "z9hG4bKx2",
            &format!("<sip:bob@{DOMAIN}>;tag=bobtag"),
            2,
            &[("Route", format!("<sip:{paddr};lr>"))],
        );
        send_repeatedly(&mut w, alice, start + 20_000, &timer_a, bye);
        w.run_ms(300_000);
        if w.alice().got("SIP/2.0 200 OK").len() >= 2 {
            completed += 1;
        }
        assert_eq!(w.proxy().transactions_in_use(), 0, "seed {seed}");
        assert_eq!(w.proxy().relays_in_use(), 0, "seed {seed}");
        assert!(w.sim.is_idle(), "seed {seed}");
    }
    // Most calls get through despite the faults (the scripted callee does
    // not retransmit its 200, so some cannot).
    assert!(completed > 100, "{completed}");
}

#[test]
fn mangled_messages_never_break_the_proxy() {
    let mut w = world(1, config(), &[180, 200], true);
    let (aaddr, baddr) = (w.addr(w.alice), w.addr(w.bob));
    // The sender of garbage does not acknowledge what comes back.
    let alice = w.alice;
    w.sim.node_mut::<Ua>(alice).behaviour.ack = false;
    let samples = [
        invite(aaddr, "bob", "z9hG4bKm1", &[]),
        register(aaddr, "alice", 1, 60, &[]),
        respond(
            &invite(aaddr, "bob", "z9hG4bKm2", &[]),
            200,
            Some("t"),
            baddr,
        ),
        request(
            "BYE",
            &format!("sip:bob@{baddr}"),
            ("alice", aaddr),
            "z9hG4bKm3",
            "<sip:bob@example.com>;tag=x",
            2,
            &[("Route", "<sip:192.0.2.1;lr>".to_string())],
        ),
    ];
    let mut rng = handset_core::rng::Rng::new(77);
    for i in 0..3000u32 {
        let mut m = samples[(i % 4) as usize].clone();
        for _ in 0..=rng.below(4) {
            let pos = rng.below(m.len() as u32) as usize;
            match rng.below(3) {
                0 => m[pos] = b"0123456789:;,<>@ =\r\nz"[rng.below(21) as usize],
                1 => m.truncate(pos.max(1)),
                _ => m.insert(pos, b'9'),
            }
        }
        w.send_to_proxy(w.alice, m);
        if i % 100 == 0 {
            w.run_ms(50);
        }
    }
    w.run_ms(400_000);
    assert_eq!(
        w.proxy().transactions_in_use(),
        0,
        "{:?}",
        w.proxy().transaction_summaries()
    );
    assert_eq!(w.proxy().relays_in_use(), 0);
    assert!(w.sim.is_idle());
    assert!(w.proxy().stats().dropped > 0);
}

/// A core phone ("User A") registering with the proxy's registrar.
fn phone_registering(
    seed: u64,
    profile: FaultProfile,
    config: ProxyConfig,
    password: &str,
    expires: u32,
) -> (Simulation, NodeId, NodeId) {
    use handset_core::phone::Config;
    use handset_sim::phone_node::PhoneNode;
    let mut sim = Simulation::new(seed, profile);
    let proxy = sim.add_node("Proxy", |s| P::new(s, config));
    let paddr = sim.address(proxy);
    let password = password.to_string();
    let phone = sim.add_node("User A", move |s| {
        let mut c = Config::new("alice", DOMAIN, s.addr).unwrap();
        c.outbound_proxy = Some(paddr);
        c.registrar = Some(paddr);
        c.register.expires = expires;
        c.register.auth_user = "alice".try_into().unwrap();
        c.register.password = password.as_str().try_into().unwrap();
        PhoneNode::with_config(&s, c)
    });
    sim.with_node(phone, |p: &mut handset_sim::phone_node::PhoneNode, now| {
        p.command(now, handset_core::phone::Command::Register)
    });
    (sim, proxy, phone)
}

#[test]
fn the_core_phone_registers_through_a_digest_challenge_and_refreshes_past_stale_nonces() {
    use handset_core::phone::Event;
    use handset_sim::phone_node::PhoneNode;
    let cfg = || {
        ProxyConfig::new(DOMAIN)
            .with_credentials(&[("alice", "wonderland")])
            .with_min_expires(120)
            .with_nonce_lifetime(Duration::from_secs(60))
    };
    // Asks for 60 s: 423, then again with 120; a challenge each time.
    let (mut sim, proxy, phone) =
        phone_registering(1, FaultProfile::ideal(), cfg(), "wonderland", 60);
    sim.run_for(Duration::from_secs(5));
    let registered = |sim: &Simulation| {
        sim.node::<PhoneNode>(phone)
            .events
            .iter()
            .filter(|(_, e)| matches!(e, Event::Registered { .. }))
            .count()
    };
    assert_eq!(
        registered(&sim),
        1,
        "{}",
        ladder(sim.trace(), &LadderOptions::default())
    );
    let now = sim.now();
    let binding = sim.node::<P>(proxy).binding(now, "alice").unwrap();
    assert!(binding.remaining_secs(now) > 100);
    let lines = ladder(sim.trace(), &LadderOptions::default());
    assert!(lines.contains("423 Interval Too Brief"), "{lines}");
    assert!(lines.contains("401 Unauthorized"), "{lines}");
    // The refresh comes after the 60 s nonce lifetime: the registrar says
    // stale, the phone answers the new nonce, the binding never lapses.
    for _ in 0..10 {
        sim.run_for(Duration::from_secs(30));
        let now = sim.now();
        assert_eq!(sim.node::<P>(proxy).bindings(now), 1);
    }
    assert!(registered(&sim) >= 3);
    let stale = sim
        .trace()
        .entries()
        .iter()
        .filter(|e| e.data.starts_with(b"SIP/2.0 401"))
        .filter(|e| {
            let m = parse(&e.data);
            m.www_authenticate()
                .unwrap()
                .unwrap()
                .digest()
                .unwrap()
                .stale
        })
        .count();
    assert!(stale >= 1, "no refresh met a stale nonce");
    assert!(!sim
        .node::<PhoneNode>(phone)
        .saw(|e| matches!(e, Event::RegistrationFailed { .. })));

    // A wrong password ends in a failure event, nothing bound.
    let (mut sim, proxy, phone) = phone_registering(1, FaultProfile::ideal(), cfg(), "guess", 600);
    sim.run_for(Duration::from_secs(5));
    assert!(sim
        .node::<PhoneNode>(phone)
        .saw(|e| matches!(e, Event::RegistrationFailed { code: 401, .. })));
    assert_eq!(sim.node::<P>(proxy).bindings(sim.now()), 0);
}

#[test]
fn the_core_phone_registers_with_digest_over_lossy_links() {
    use handset_core::phone::Event;
    use handset_sim::phone_node::PhoneNode;
    for seed in 1..=200 {
        let cfg = ProxyConfig::new(DOMAIN).with_credentials(&[("alice", "wonderland")]);
        let lossy = FaultProfile::lossy(20.0, 5.0, 5.0);
        let (mut sim, proxy, phone) = phone_registering(seed, lossy, cfg, "wonderland", 600);
        sim.run_for(Duration::from_secs(60));
        assert!(
            sim.node::<PhoneNode>(phone)
                .saw(|e| matches!(e, Event::Registered { .. })),
            "seed {seed}"
        );
        assert_eq!(sim.node::<P>(proxy).bindings(sim.now()), 1, "seed {seed}");
        assert_eq!(sim.node::<P>(proxy).transactions_in_use(), 0, "seed {seed}");
    }
}
