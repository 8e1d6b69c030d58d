//! Self-tests of the interop fixtures: the third-party peers talk to each
//! other on loopback through the harness in `handset_conformance::peers`.
//! They prove the fixtures and the harness before a handset joins the calls.

use std::time::Duration;

use handset_conformance::peers::{
    message_ladder, ports, require, run_sipp, scenario, Baresip, BaresipPorts, Kamailio, Sipp,
    TestDir,
};

const IP: &str = "127.0.0.1";

fn path(file: &str) -> String {
    scenario(file).display().to_string()
}

#[test]
fn sipp_uac_makes_20_calls_to_sipp_uas() {
    if !require("sipp_uac_makes_20_calls_to_sipp_uas", &["sipp"]) {
        return;
    }
    let dir = TestDir::new("sipp-20").unwrap();
    let base = ports(2);
    let (uas_port, uac_port) = (base.to_string(), (base + 1).to_string());
    let mut uas = Sipp::spawn(
        &dir,
        "uas",
        &["-sn", "uas", "-i", IP, "-p", &uas_port, "-m", "20"],
    )
    .unwrap();
    let target = format!("{IP}:{uas_port}");
    let (_uac, uac_out) = run_sipp(
        &dir,
        "uac",
        &[
            "-sn", "uac", &target, "-i", IP, "-p", &uac_port, "-m", "20", "-r", "20",
        ],
        Duration::from_secs(30),
    )
    .unwrap();
    assert!(uac_out.success(), "uac failed: {}", uac_out.output);
    assert_eq!(
        uac_out.counter("Successful call"),
        Some(20),
        "{}",
        uac_out.output
    );
    assert_eq!(uac_out.counter("Failed call"), Some(0));
    let uas_out = uas.wait(Duration::from_secs(10)).unwrap();
    assert!(uas_out.success(), "uas failed: {}", uas_out.output);
    assert_eq!(uas_out.counter("Successful call"), Some(20));
    let ladder = message_ladder(&uas.messages());
    assert_eq!(ladder.iter().filter(|m| *m == "< INVITE").count(), 20);
    assert_eq!(ladder.iter().filter(|m| *m == "> 200").count(), 40);
}

#[test]
fn register_through_kamailio_without_auth() {
    if !require(
        "register_through_kamailio_without_auth",
        &["sipp", "kamailio"],
    ) {
        return;
    }
    let dir = TestDir::new("kam-register").unwrap();
    let base = ports(3);
    let kam = Kamailio::start(&dir, base).unwrap();
    let registrar = kam.addr().to_string();
    let (reg, out) = run_sipp(
        &dir,
        "register",
        &[
            "-sf",
            &path("uac_register.xml"),
            "-s",
            "bob",
            &registrar,
            "-i",
            IP,
            "-p",
            &(base + 1).to_string(),
            "-m",
            "1",
            "-key",
            "contact_port",
            &(base + 2).to_string(),
            "-key",
            "expires",
            "600",
            "-recv_timeout",
            "5000",
        ],
        Duration::from_secs(15),
    )
    .unwrap();
    assert!(
        out.success(),
        "REGISTER failed: {}\n{}",
        out.output,
        reg.errors()
    );
    assert_eq!(message_ladder(&reg.messages()), ["> REGISTER", "< 200"]);
    // The registrar echoes the binding it stored.
    let contact = format!("sip:bob@{IP}:{}", base + 2);
    assert!(reg.messages().contains(&contact), "{}", reg.messages());
    assert!(kam.log().contains("RX REGISTER"), "{}", kam.log());
}

#[test]
fn calls_through_kamailio_follow_record_route() {
    if !require(
        "calls_through_kamailio_follow_record_route",
        &["sipp", "kamailio"],
    ) {
        return;
    }
    let dir = TestDir::new("kam-calls").unwrap();
    let base = ports(4);
    let kam = Kamailio::start(&dir, base).unwrap();
    let registrar = kam.addr().to_string();
    let bob_port = (base + 1).to_string();
    let mut bob = Sipp::spawn(
        &dir,
        "bob",
        &[
            "-sf",
            &path("uas_target.xml"),
            "-i",
            IP,
            "-p",
            &bob_port,
            "-m",
            "3",
            "-recv_timeout",
            "15000",
        ],
    )
    .unwrap();
    let (_, reg) = run_sipp(
        &dir,
        "register",
        &[
            "-sf",
            &path("uac_register.xml"),
            "-s",
            "bob",
            &registrar,
            "-i",
            IP,
            "-p",
            &(base + 2).to_string(),
            "-m",
            "1",
            "-key",
            "contact_port",
            &bob_port,
            "-key",
            "expires",
            "600",
        ],
        Duration::from_secs(15),
    )
    .unwrap();
    assert!(reg.success(), "{}", reg.output);
    let (caller, calls) = run_sipp(
        &dir,
        "caller",
        &[
            "-sf",
            &path("uac_call.xml"),
            "-s",
            "bob",
            &registrar,
            "-i",
            IP,
            "-p",
            &(base + 3).to_string(),
            "-m",
            "3",
            "-r",
            "3",
            "-d",
            "200",
        ],
        Duration::from_secs(30),
    )
    .unwrap();
    assert!(calls.success(), "{}\n{}", calls.output, caller.errors());
    let bob_out = bob.wait(Duration::from_secs(10)).unwrap();
    assert!(bob_out.success(), "{}\n{}", bob_out.output, bob.errors());
    // Every in-dialog request reached bob through the proxy's Record-Route.
    let bob_msgs = bob.messages();
    assert!(
        bob_msgs.contains("Record-Route: <sip:127.0.0.1:"),
        "{bob_msgs}"
    );
    let ladder = message_ladder(&bob_msgs);
    for m in ["< INVITE", "< ACK", "< BYE"] {
        assert_eq!(
            ladder.iter().filter(|x| *x == m).count(),
            3,
            "{m}: {ladder:?}"
        );
    }
}

#[test]
fn register_through_kamailio_with_digest_auth() {
    if !require(
        "register_through_kamailio_with_digest_auth",
        &["sipp", "kamailio"],
    ) {
        return;
    }
    let dir = TestDir::new("kam-auth").unwrap();
    let base = ports(3);
    let kam = Kamailio::start_with_auth(&dir, base).unwrap();
    let registrar = kam.addr().to_string();
    let local = (base + 1).to_string();
    let contact = (base + 2).to_string();
    let register = |name: &str, file: &str, password: &str| {
        let mut args = vec![
            "-sf".to_string(),
            path(file),
            "-s".into(),
            "alice".into(),
            registrar.clone(),
            "-i".into(),
            IP.into(),
            "-p".into(),
            local.clone(),
            "-m".into(),
            "1".into(),
            "-key".into(),
            "contact_port".into(),
            contact.clone(),
            "-key".into(),
            "expires".into(),
            "600".into(),
            "-recv_timeout".into(),
            "3000".into(),
        ];
        if !password.is_empty() {
            args.extend(["-au".into(), "alice".into(), "-ap".into(), password.into()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_sipp(&dir, name, &args, Duration::from_secs(15)).unwrap()
    };

    // The right password: challenged once, then accepted.
    let (sipp, out) = register("good", "uac_register_auth.xml", "alice-secret");
    assert!(out.success(), "{}\n{}", out.output, sipp.errors());
    let msgs = sipp.messages();
    assert_eq!(
        message_ladder(&msgs),
        ["> REGISTER", "< 401", "> REGISTER", "< 200"]
    );
    assert!(
        msgs.contains("WWW-Authenticate: Digest realm=\"127.0.0.1\""),
        "{msgs}"
    );
    assert!(msgs.contains("qop=\"auth\""), "{msgs}");
    assert!(
        msgs.contains("Authorization: Digest username=\"alice\""),
        "{msgs}"
    );

    // A wrong password is challenged again, never accepted.
    let (sipp, out) = register("wrong", "uac_register_auth.xml", "not-the-password");
    assert!(!out.success(), "{}", out.output);
    let ladder = message_ladder(&sipp.messages());
    assert_eq!(
        ladder.get(..4),
        Some(&["> REGISTER", "< 401", "> REGISTER", "< 401"].map(String::from)[..]),
        "{ladder:?}"
    );

    // No credentials at all: 401, no binding.
    let (sipp, out) = register("none", "uac_register.xml", "");
    assert!(!out.success(), "{}", out.output);
    assert_eq!(
        message_ladder(&sipp.messages()).get(..2),
        Some(&["> REGISTER".to_string(), "< 401".to_string()][..])
    );
    assert!(kam.log().contains("not authenticated"), "{}", kam.log());
}

#[test]
fn baresip_auto_answers_a_sipp_call() {
    if !require("baresip_auto_answers_a_sipp_call", &["sipp", "baresip"]) {
        return;
    }
    let dir = TestDir::new("baresip-answer").unwrap();
    let bs = Baresip::start(&dir, "alice", BaresipPorts::fresh(), None).unwrap();
    let target = bs.sip_addr().to_string();
    let (caller, out) = run_sipp(
        &dir,
        "caller",
        &[
            "-sf",
            &path("uac_call.xml"),
            "-s",
            "alice",
            &target,
            "-i",
            IP,
            "-p",
            &ports(1).to_string(),
            "-m",
            "2",
            "-r",
            "1",
            "-d",
            "1000",
            "-recv_timeout",
            "10000",
        ],
        Duration::from_secs(30),
    )
    .unwrap();
    assert!(
        out.success(),
        "{}\n{}\n{}",
        out.output,
        caller.errors(),
        bs.log()
    );
    let ladder = message_ladder(&caller.messages());
    // Two calls: 200 to each INVITE and to each BYE.
    for (m, n) in [("> INVITE", 2), ("< 200", 4), ("> ACK", 2), ("> BYE", 2)] {
        assert_eq!(
            ladder.iter().filter(|x| *x == m).count(),
            n,
            "{m}: {ladder:?}"
        );
    }
    // baresip answers with PCMU or PCMA, the codecs its account offers.
    assert!(
        caller.messages().contains("RTP/AVP 0"),
        "{}",
        caller.messages()
    );
    let calls = bs.cmd("listcalls", "", Duration::ZERO).unwrap();
    assert!(calls.ok, "{}", calls.text());
}

#[test]
fn baresip_registers_at_kamailio() {
    if !require("baresip_registers_at_kamailio", &["kamailio", "baresip"]) {
        return;
    }
    let dir = TestDir::new("baresip-register").unwrap();
    let kam = Kamailio::start(&dir, ports(1)).unwrap();
    let bs = Baresip::start(&dir, "alice", BaresipPorts::fresh(), Some(kam.addr())).unwrap();
    let registered = handset_conformance::peers::wait_until(Duration::from_secs(5), || {
        bs.cmd("reginfo", "", Duration::ZERO)
            .map(|r| r.ok && r.text().contains("OK"))
            .unwrap_or(false)
    });
    assert!(registered, "{}\n{}", bs.log(), kam.log());
    assert!(
        kam.log().contains("RX REGISTER sip:127.0.0.1"),
        "{}",
        kam.log()
    );
}

#[test]
fn baresip_sends_pcmu_to_the_offered_port() {
    if !require(
        "baresip_sends_pcmu_to_the_offered_port",
        &["sipp", "baresip"],
    ) {
        return;
    }
    let dir = TestDir::new("baresip-rtp").unwrap();
    let bs = Baresip::start(&dir, "alice", BaresipPorts::fresh(), None).unwrap();
    let rtp_port = ports(2);
    let rtp = std::net::UdpSocket::bind((IP, rtp_port)).unwrap();
    rtp.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let target = bs.sip_addr().to_string();
    let mut caller = Sipp::spawn(
        &dir,
        "caller",
        &[
            "-sf",
            &path("uac_call_rtp.xml"),
            "-s",
            "alice",
            &target,
            "-i",
            IP,
            "-p",
            &ports(1).to_string(),
            "-m",
            "1",
            "-d",
            "2000",
            "-key",
            "rtp_port",
            &rtp_port.to_string(),
        ],
    )
    .unwrap();
    // RFC 3550 §5.1 header, PCMU (RFC 3551: payload type 0), 20 ms = 160 bytes.
    let mut packets = 0;
    let mut distinct_payload_bytes = std::collections::BTreeSet::new();
    let mut buf = [0u8; 2048];
    let deadline = std::time::Instant::now() + Duration::from_secs(4);
    while std::time::Instant::now() < deadline {
        let Ok((n, from)) = rtp.recv_from(&mut buf) else {
            continue;
        };
        let p = &buf[..n];
        assert!(n >= 12, "short packet {p:?}");
        assert_eq!(p[0] >> 6, 2, "RTP version");
        assert_eq!(p[1] & 0x7F, 0, "payload type");
        assert_eq!(n, 12 + 160);
        let rtp_range = bs.ports().rtp_min..=bs.ports().rtp_max;
        assert!(rtp_range.contains(&from.port()), "{from}");
        distinct_payload_bytes.extend(p[12..].iter().copied());
        packets += 1;
    }
    let out = caller.wait(Duration::from_secs(5)).unwrap();
    assert!(out.success(), "{}\n{}", out.output, caller.errors());
    // About 2 s of a call: 100 packets at 20 ms, minus set-up.
    assert!(packets >= 75, "{packets} RTP packets");
    // A tone, not digital silence (µ-law 0xFF/0x7F).
    assert!(
        distinct_payload_bytes.len() > 20,
        "{distinct_payload_bytes:?}"
    );
}
