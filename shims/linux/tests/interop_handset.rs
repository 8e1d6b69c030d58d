//! The `handset` binary against real SIP peers on loopback: SIPp, Kamailio
//! and baresip, started and stopped by the harness in
//! `handset_conformance::peers`, each test on its own ports.
//!
//! The tests live in the handset-linux package so that cargo builds the
//! `handset` binary for them (`CARGO_BIN_EXE_handset`).

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use handset_conformance::peers::{
    message_ladder, ports, require, run_sipp, scenario, terminate, wait_child, Baresip,
    BaresipPorts, Kamailio, Sipp, SippOutcome, TestDir,
};
use handset_linux::tone::analyse;
use handset_linux::wav::read_wav;

const IP: &str = "127.0.0.1";

fn path(file: &str) -> String {
    scenario(file).display().to_string()
}

/// A running `handset`: stdout lines collected as they come, stderr in a file.
struct Handset {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    stderr: PathBuf,
}

impl Handset {
    fn spawn(dir: &TestDir, name: &str, args: &[&str]) -> Handset {
        let stderr = dir.path().join(format!("{name}.stderr"));
        let err = fs::File::create(&stderr).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_handset"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().unwrap();
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        Handset {
            child,
            lines,
            stderr,
        }
    }

    fn stdout(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn report(&self) -> String {
        format!(
            "--- handset stdout\n{}\n--- handset stderr\n{}",
            self.stdout(),
            self.stderr()
        )
    }

    /// Waits for a stdout line starting with `prefix`.
    fn wait_line(&self, prefix: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(l) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.starts_with(prefix))
            {
                return Some(l.clone());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let status = wait_child(&mut self.child, timeout).unwrap();
        // Let the reader thread take the last lines.
        std::thread::sleep(Duration::from_millis(50));
        status
    }

    /// SIGTERM (the phone hangs up and unregisters), then the exit status.
    fn stop(&mut self) -> Option<ExitStatus> {
        terminate(self.child.id());
        self.wait(Duration::from_secs(10))
    }
}

impl Drop for Handset {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Unexpected messages in SIPp's final screen (the last column of the
/// message rows).
fn unexpected_messages(out: &SippOutcome) -> u64 {
    let screen = out
        .output
        .rfind("Messages  Retrans")
        .map_or("", |i| &out.output[i..]);
    screen
        .lines()
        .take_while(|l| !l.contains("Test Terminated") && !l.starts_with("---"))
        .filter(|l| l.contains("<----------") || l.contains("Pause"))
        .filter_map(|l| {
            let nums: Vec<u64> = l
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect();
            // Receive rows: messages, retrans, timeout, unexpected; pause
            // rows: count, unexpected.
            match nums.len() {
                4 => nums.get(3).copied(),
                n if l.contains("Pause") && n >= 2 => nums.last().copied(),
                _ => None,
            }
        })
        .sum()
}

fn answerer_args(sip: u16, rtp: u16) -> Vec<String> {
    vec![
        "answer".into(),
        "--auto-answer".into(),
        "--bind".into(),
        format!("{IP}:{sip}"),
        "--rtp-port".into(),
        rtp.to_string(),
    ]
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn sipp_uac_makes_500_calls_at_50_per_second_to_handset_answer() {
    if !require("sipp_uac_500_calls_to_handset", &["sipp"]) {
        return;
    }
    let dir = TestDir::new("handset-answer-500").unwrap();
    let base = ports(2);
    let rtp = ports(130);
    let mut args = answerer_args(base, rtp);
    args.push("--quiet".into());
    let mut phone = Handset::spawn(&dir, "answer", &strs(&args));
    assert!(
        phone
            .wait_line("listening", Duration::from_secs(5))
            .is_some(),
        "{}",
        phone.report()
    );
    let target = format!("{IP}:{base}");
    let (uac, out) = run_sipp(
        &dir,
        "uac",
        &[
            "-sn",
            "uac",
            &target,
            "-i",
            IP,
            "-p",
            &(base + 1).to_string(),
            "-m",
            "500",
            "-r",
            "50",
            "-recv_timeout",
            "10000",
        ],
        Duration::from_secs(90),
    )
    .unwrap();
    let status = phone.stop();
    assert!(
        out.success(),
        "{}\n{}\n{}",
        out.output,
        uac.errors(),
        phone.report()
    );
    assert_eq!(out.counter("Successful call"), Some(500), "{}", out.output);
    assert_eq!(out.counter("Failed call"), Some(0), "{}", out.output);
    assert_eq!(unexpected_messages(&out), 0, "{}", out.output);
    assert!(status.is_some_and(|s| s.success()), "{}", phone.report());
    let done = phone.stdout();
    assert!(done.contains("garbage=0 malformed=0"), "{done}");
}

#[test]
fn handset_call_to_sipp_uas() {
    if !require("handset_call_to_sipp_uas", &["sipp"]) {
        return;
    }
    let dir = TestDir::new("handset-call-uas").unwrap();
    let base = ports(2);
    let rtp = ports(2);
    let mut uas = Sipp::spawn(
        &dir,
        "uas",
        &["-sn", "uas", "-i", IP, "-p", &base.to_string(), "-m", "1"],
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let uri = format!("sip:service@{IP}:{base}");
    let mut phone = Handset::spawn(
        &dir,
        "call",
        &[
            "call",
            &uri,
            "--bind",
            &format!("{IP}:{}", base + 1),
            "--rtp-port",
            &rtp.to_string(),
            "--tone",
            "700",
            "--hangup-after",
            "1",
        ],
    );
    let status = phone.wait(Duration::from_secs(20));
    assert!(status.is_some_and(|s| s.success()), "{}", phone.report());
    for l in ["calling 0", "answered 0", "ended 0 LocalHangup"] {
        assert!(phone.stdout().contains(l), "{l}\n{}", phone.report());
    }
    let out = uas.wait(Duration::from_secs(10)).unwrap();
    assert!(out.success(), "{}\n{}", out.output, uas.errors());
    assert_eq!(
        message_ladder(&uas.messages()),
        ["< INVITE", "> 180", "> 200", "< ACK", "< BYE", "> 200"]
    );
}

/// Registers SIPp's `uas_target.xml` as `name` at Kamailio.
fn register_sipp_user(dir: &TestDir, kam: &Kamailio, name: &str, contact_port: u16) {
    let (reg, out) = run_sipp(
        dir,
        &format!("register-{name}"),
        &[
            "-sf",
            &path("uac_register.xml"),
            "-s",
            name,
            &kam.addr().to_string(),
            "-i",
            IP,
            "-p",
            &ports(1).to_string(),
            "-m",
            "1",
            "-key",
            "contact_port",
            &contact_port.to_string(),
            "-key",
            "expires",
            "600",
            "-recv_timeout",
            "5000",
        ],
        Duration::from_secs(15),
    )
    .unwrap();
    assert!(out.success(), "{}\n{}", out.output, reg.errors());
}

#[test]
fn handset_call_through_kamailio_follows_record_route() {
    if !require("handset_call_through_kamailio", &["sipp", "kamailio"]) {
        return;
    }
    let dir = TestDir::new("handset-call-kam").unwrap();
    let base = ports(3);
    let kam = Kamailio::start(&dir, base).unwrap();
    let bob_port = base + 1;
    let mut bob = Sipp::spawn(
        &dir,
        "bob",
        &[
            "-sf",
            &path("uas_target.xml"),
            "-i",
            IP,
            "-p",
            &bob_port.to_string(),
            "-m",
            "1",
            "-recv_timeout",
            "15000",
        ],
    )
    .unwrap();
    register_sipp_user(&dir, &kam, "bob", bob_port);
    let mut phone = Handset::spawn(
        &dir,
        "call",
        &[
            "call",
            &format!("sip:bob@127.0.0.1:{base}"),
            "--user",
            "alice",
            "--proxy",
            &kam.addr().to_string(),
            "--bind",
            &format!("{IP}:{}", base + 2),
            "--rtp-port",
            &ports(2).to_string(),
            "--hangup-after",
            "1",
        ],
    );
    let status = phone.wait(Duration::from_secs(20));
    assert!(
        status.is_some_and(|s| s.success()),
        "{}\n{}",
        phone.report(),
        kam.log()
    );
    let out = bob.wait(Duration::from_secs(10)).unwrap();
    assert!(out.success(), "{}\n{}", out.output, bob.errors());
    let msgs = bob.messages();
    assert_eq!(
        message_ladder(&msgs),
        ["< INVITE", "> 180", "> 200", "< ACK", "< BYE", "> 200"]
    );
    // The proxy record-routed the INVITE; the ACK and the BYE came back
    // through it (its Via on top), so the handset used the route set.
    assert!(msgs.contains("Record-Route: <sip:127.0.0.1:"), "{msgs}");
    let kam_via = format!("Via: SIP/2.0/UDP 127.0.0.1:{base};branch=");
    for method in ["ACK sip:", "BYE sip:"] {
        let m = msgs.split(method).nth(1).unwrap_or("");
        let first_via = m.lines().find(|l| l.starts_with("Via:")).unwrap_or("");
        assert!(
            first_via.starts_with(&kam_via),
            "{method}: {first_via}\n{msgs}"
        );
    }
    let log = kam.log();
    assert!(log.contains("RX BYE"), "{log}");
}

#[test]
fn handsets_register_with_digest_auth_and_call_through_kamailio() {
    if !require("handsets_register_with_digest_auth", &["kamailio"]) {
        return;
    }
    let dir = TestDir::new("handset-kam-auth").unwrap();
    let base = ports(3);
    let kam = Kamailio::start_with_auth(&dir, base).unwrap();
    let kam_addr = kam.addr().to_string();
    let rec = dir.path().join("bob.wav");

    // A wrong password is refused with a clear message and exit 1.
    let mut wrong = Handset::spawn(
        &dir,
        "wrong",
        &[
            "register",
            "--user",
            "bob",
            "--password",
            "not-it",
            "--registrar",
            &kam_addr,
            "--bind",
            &format!("{IP}:{}", base + 1),
        ],
    );
    let status = wrong.wait(Duration::from_secs(40));
    assert_eq!(status.and_then(|s| s.code()), Some(1), "{}", wrong.report());
    assert!(wrong.stderr().contains("refused"), "{}", wrong.report());

    let mut bob = Handset::spawn(
        &dir,
        "bob",
        &[
            "answer",
            "--auto-answer",
            "--user",
            "bob",
            "--password",
            "bob-secret",
            "--registrar",
            &kam_addr,
            "--proxy",
            &kam_addr,
            "--bind",
            &format!("{IP}:{}", base + 1),
            "--rtp-port",
            &ports(2).to_string(),
            "--record",
            rec.to_str().unwrap(),
            "--calls",
            "1",
        ],
    );
    assert!(
        bob.wait_line("registered", Duration::from_secs(10))
            .is_some(),
        "{}\n{}",
        bob.report(),
        kam.log()
    );
    let mut alice = Handset::spawn(
        &dir,
        "alice",
        &[
            "call",
            &format!("sip:bob@127.0.0.1:{base}"),
            "--user",
            "alice",
            "--password",
            "alice-secret",
            "--registrar",
            &kam_addr,
            "--proxy",
            &kam_addr,
            "--bind",
            &format!("{IP}:{}", base + 2),
            "--rtp-port",
            &ports(2).to_string(),
            "--tone",
            "800",
            "--hangup-after",
            "2",
        ],
    );
    let status = alice.wait(Duration::from_secs(20));
    assert!(
        status.is_some_and(|s| s.success()),
        "{}\n{}",
        alice.report(),
        kam.log()
    );
    assert!(alice.stdout().contains("registered"), "{}", alice.report());
    let status = bob.wait(Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()), "{}", bob.report());
    assert!(
        bob.stdout().contains("ended 0 RemoteHangup"),
        "{}",
        bob.report()
    );
    // Both unregistered on exit; the registrar saw each REGISTER twice
    // (challenge, then credentials) at least.
    let log = kam.log();
    assert!(log.matches("RX REGISTER").count() >= 6, "{log}");
    let samples = read_wav(&rec).unwrap();
    let r = analyse(&samples, 8000);
    assert!(r.is_tone(800.0, 15.0, 500.0), "{r:?}");
}

/// Starts tshark on loopback for `ports`; returns once it captures.
struct Capture {
    child: Child,
    file: PathBuf,
}

impl Capture {
    fn start(dir: &Path, filter: &str) -> Capture {
        let file = dir.join("capture.pcap");
        let err = dir.join("tshark.stderr");
        let child = Command::new("tshark")
            .args(["-i", "lo", "-f", filter, "-w"])
            .arg(&file)
            .arg("-q")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        let ok = handset_conformance::peers::wait_until(Duration::from_secs(10), || {
            fs::read_to_string(&err).is_ok_and(|s| s.contains("Capturing on"))
        });
        assert!(ok, "tshark did not start: {:?}", fs::read_to_string(&err));
        // dumpcap announces itself a moment before its first packet is
        // written; on a loaded machine the first datagrams can slip by.
        std::thread::sleep(Duration::from_millis(1500));
        Capture { child, file }
    }

    fn stop(mut self) -> PathBuf {
        std::thread::sleep(Duration::from_millis(500));
        terminate(self.child.id());
        let _ = wait_child(&mut self.child, Duration::from_secs(5));
        self.file.clone()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tshark_fields(pcap: &Path, decode_as: &[String], filter: &str, fields: &[&str]) -> String {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(pcap);
    for d in decode_as {
        cmd.args(["-d", d]);
    }
    cmd.args(["-Y", filter, "-T", "fields", "-E", "separator=|"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn call_to_baresip_carries_audio_both_ways_and_tshark_finds_nothing_malformed() {
    if !require("call_to_baresip_audio", &["baresip", "tshark"]) {
        return;
    }
    let dir = TestDir::new("handset-baresip-audio").unwrap();
    let bs = Baresip::start(&dir, "alice", BaresipPorts::fresh(), None).unwrap();
    let sip = ports(1);
    let rtp = ports(2);
    let bp = bs.ports();
    let filter = format!(
        "udp port {} or udp port {sip} or udp portrange {}-{} or udp portrange {rtp}-{}",
        bp.sip,
        bp.rtp_min,
        bp.rtp_max,
        rtp + 1
    );
    let capture = Capture::start(dir.path(), &filter);
    let rec = dir.path().join("from-baresip.wav");
    let mut phone = Handset::spawn(
        &dir,
        "call",
        &[
            "call",
            &bs.uri(),
            "--bind",
            &format!("{IP}:{sip}"),
            "--rtp-port",
            &rtp.to_string(),
            "--tone",
            "1000",
            "--record",
            rec.to_str().unwrap(),
            "--hangup-after",
            "3",
        ],
    );
    let status = phone.wait(Duration::from_secs(20));
    let pcap = capture.stop();
    assert!(
        status.is_some_and(|s| s.success()),
        "{}\n{}",
        phone.report(),
        bs.log()
    );
    // What baresip sent: its 440 Hz tone, recorded by the handset.
    let samples = read_wav(&rec).unwrap();
    assert!(samples.len() > 8000 * 2, "{} samples", samples.len());
    let r = analyse(&samples, 8000);
    assert!(r.is_tone(440.0, 10.0, 500.0), "{r:?}");

    // What the handset sent: RTP reached baresip's port, and every packet
    // on the wire decodes cleanly.
    let decode = vec![
        format!("udp.port=={sip},sip"),
        format!("udp.port=={rtp},rtp"),
        format!("udp.port=={},rtcp", rtp + 1),
    ];
    let rtp_rows = tshark_fields(
        &pcap,
        &decode,
        "rtp",
        &["udp.srcport", "udp.dstport", "rtp.p_type", "rtp.seq"],
    );
    let to_baresip = rtp_rows
        .lines()
        .filter(|l| l.starts_with(&format!("{rtp}|")))
        .count();
    let from_baresip = rtp_rows
        .lines()
        .filter(|l| l.split('|').nth(1) == Some(&rtp.to_string()))
        .count();
    assert!(
        to_baresip >= 100,
        "{to_baresip} packets to baresip\n{rtp_rows}"
    );
    assert!(from_baresip >= 100, "{from_baresip} packets from baresip");
    let sip_rows = tshark_fields(
        &pcap,
        &decode,
        "sip",
        &["sip.Method", "sip.Status-Code", "sip.CSeq"],
    );
    for m in ["INVITE", "ACK", "BYE"] {
        assert!(sip_rows.contains(m), "{m}\n{sip_rows}");
    }
    let malformed = tshark_fields(
        &pcap,
        &decode,
        "_ws.malformed || _ws.expert.severity >= 8388608",
        &["frame.number", "_ws.expert.message"],
    );
    assert!(
        malformed.trim().is_empty(),
        "malformed frames:\n{malformed}"
    );
}

#[test]
fn garbage_on_the_socket_is_dropped_and_the_call_goes_on() {
    if !require("garbage_is_dropped", &["sipp"]) {
        return;
    }
    let dir = TestDir::new("handset-garbage").unwrap();
    let base = ports(2);
    let args = answerer_args(base, ports(2));
    let mut phone = Handset::spawn(&dir, "answer", &strs(&args));
    assert!(phone
        .wait_line("listening", Duration::from_secs(5))
        .is_some());
    let target = format!("{IP}:{base}");
    let mut uac = Sipp::spawn(
        &dir,
        "uac",
        &[
            "-sn",
            "uac",
            &target,
            "-i",
            IP,
            "-p",
            &(base + 1).to_string(),
            "-m",
            "1",
            "-d",
            "3000",
        ],
    )
    .unwrap();
    assert!(phone
        .wait_line("answered", Duration::from_secs(5))
        .is_some());
    let s = std::net::UdpSocket::bind((IP, 0)).unwrap();
    let invite =
        "INVITE sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\n\
                  Call-ID: trunc\r\nCSeq: 1 INV";
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for i in 0..200 {
        let len = 1 + (seed % 1400) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        s.send_to(&bytes, &target).unwrap();
        if i % 20 == 0 {
            s.send_to(invite.as_bytes(), &target).unwrap();
            s.send_to(&vec![b'A'; 65_000], &target).unwrap();
            s.send_to(b"SIP/2.0 200 OK\r\n\r\n", &target).unwrap();
        }
    }
    let out = uac.wait(Duration::from_secs(15)).unwrap();
    assert!(
        out.success(),
        "{}\n{}\n{}",
        out.output,
        uac.errors(),
        phone.report()
    );
    assert!(
        phone.stop().is_some_and(|s| s.success()),
        "{}",
        phone.report()
    );
    let done = phone.stdout();
    assert!(done.contains("done calls=1"), "{done}");
    assert!(!done.contains("garbage=0 "), "{done}");
    assert!(!phone.stderr().contains("panicked"), "{}", phone.report());
}

#[test]
fn bad_flags_and_files_give_a_message_and_a_nonzero_exit() {
    let bin = env!("CARGO_BIN_EXE_handset");
    let run = |args: &[&str]| {
        let out = Command::new(bin).args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["call", "sip:bob@127.0.0.1", "--transport", "sctp"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("sctp"), "{err}");
    let (code, err) = run(&["call", "not a uri", "--bind", "127.0.0.1:0"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not a SIP URI"), "{err}");
    let (code, err) = run(&[
        "call",
        "sip:bob@127.0.0.1",
        "--play",
        "/nonexistent/x.wav",
        "--bind",
        "127.0.0.1:0",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot play"), "{err}");
    let (code, err) = run(&["register", "--bind", "127.0.0.1:0"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--registrar"), "{err}");
    let (code, err) = run(&["answer", "--bind", "999.0.0.1:5060"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("bad address"), "{err}");
    let taken = std::net::UdpSocket::bind((IP, 0)).unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, err) = run(&["answer", "--bind", &addr]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("cannot bind"), "{err}");
    let dir = TestDir::new("handset-bad-config").unwrap();
    let conf = dir.path().join("phone.conf");
    fs::write(&conf, "user = alice\ncolour = blue\n").unwrap();
    let (code, err) = run(&["answer", "--config", conf.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("phone.conf:2") && err.contains("colour"),
        "{err}"
    );
    for (_, err) in [run(&["call"]), run(&["answer", "--calls", "x"])] {
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// The ladder without the NOTIFYs and the 200s that answer them (SIPp's
/// `-aa` answers NOTIFYs whenever they come).
fn without_notifies(ladder: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip_answer = false;
    for m in ladder {
        if m == "< NOTIFY" {
            skip_answer = true;
            continue;
        }
        if skip_answer && m == "> 200" {
            skip_answer = false;
            continue;
        }
        out.push(m.clone());
    }
    out
}

/// The value of the first `name:` header in the first message of `log`
/// that starts with `start`.
fn header_of(log: &str, start: &str, name: &str) -> Option<String> {
    let msg = log.split(start).nth(1)?;
    let head = msg.split("\n\n").next()?;
    head.lines()
        .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
}

fn strs_owned(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

/// Handset A calls SIPp B (`scenario`), B blind-transfers A to SIPp C;
/// directly or with every user registered at Kamailio.
fn handset_as_transferee(name: &str, scenario_file: &str, via_kamailio: bool) {
    let dir = TestDir::new(name).unwrap();
    let base = ports(4);
    let (b_port, c_port, a_port) = (base + 1, base + 2, base + 3);
    let kam = if via_kamailio {
        Some(Kamailio::start(&dir, base).unwrap())
    } else {
        None
    };
    let domain = match &kam {
        Some(k) => format!("127.0.0.1:{}", k.port()),
        None => String::new(),
    };
    let carol = match &kam {
        Some(_) => format!("sip:carol@{domain}"),
        None => format!("sip:carol@{IP}:{c_port}"),
    };
    let bob = match &kam {
        Some(_) => format!("sip:bob@{domain}"),
        None => format!("sip:bob@{IP}:{b_port}"),
    };
    let mut c = Sipp::spawn(
        &dir,
        "carol",
        &[
            "-sf",
            &path("uas_target.xml"),
            "-i",
            IP,
            "-p",
            &c_port.to_string(),
            "-m",
            "1",
            "-recv_timeout",
            "20000",
        ],
    )
    .unwrap();
    let mut b = Sipp::spawn(
        &dir,
        "bob",
        &[
            "-sf",
            &path(scenario_file),
            "-i",
            IP,
            "-p",
            &b_port.to_string(),
            "-m",
            "1",
            "-aa",
            "-key",
            "refer_to",
            &carol,
            "-recv_timeout",
            "20000",
        ],
    )
    .unwrap();
    if let Some(k) = &kam {
        register_sipp_user(&dir, k, "bob", b_port);
        register_sipp_user(&dir, k, "carol", c_port);
    } else {
        std::thread::sleep(Duration::from_millis(300));
    }
    let mut args = vec![
        "call".to_string(),
        bob.clone(),
        "--user".into(),
        "alice".into(),
        "--bind".into(),
        format!("{IP}:{a_port}"),
        "--rtp-port".into(),
        ports(4).to_string(),
        // Longer than B's part of the flow: B hangs up the first call.
        "--hangup-after".into(),
        "4".into(),
    ];
    if let Some(k) = &kam {
        args.extend(["--proxy".into(), k.addr().to_string()]);
    }
    let mut a = Handset::spawn(&dir, "alice", &strs(&args));
    let status = a.wait(Duration::from_secs(30));
    let kam_log = kam.as_ref().map(Kamailio::log).unwrap_or_default();
    assert!(
        status.is_some_and(|s| s.success()),
        "{}\n{kam_log}",
        a.report()
    );
    let b_out = b.wait(Duration::from_secs(15)).unwrap();
    assert!(b_out.success(), "{}\n{}", b_out.output, b.errors());
    let c_out = c.wait(Duration::from_secs(15)).unwrap();
    assert!(c_out.success(), "{}\n{}", c_out.output, c.errors());

    // A: the call to B ended by B's BYE, then a second call (to C) that A
    // hung up.
    let out = a.stdout();
    assert_eq!(out.matches("calling").count(), 2, "{out}");
    assert!(
        out.contains("RemoteHangup") && out.contains("LocalHangup"),
        "{out}"
    );

    // B: every message in order; the NOTIFYs are checked apart.
    let b_log = b.messages();
    let ladder = message_ladder(&b_log);
    let strict = scenario_file.contains("notify");
    if strict {
        // The strict B waits for a sipfrag NOTIFY before its BYE: between
        // the 202 and the BYE come only NOTIFYs and their 200s, one at least.
        let upto = ladder.iter().position(|m| m == "> BYE").unwrap();
        let between = &ladder[6..upto];
        assert!(!between.is_empty(), "{ladder:?}");
        for pair in between.chunks(2) {
            assert_eq!(pair, ["< NOTIFY", "> 200"], "{ladder:?}");
        }
    }
    assert_eq!(
        without_notifies(&ladder),
        strs_owned(&["< INVITE", "> 180", "> 200", "< ACK", "> REFER", "< 202", "> BYE", "< 200"]),
        "{ladder:?}"
    );
    let notifies: Vec<&str> = b_log.split("NOTIFY sip:").skip(1).collect();
    assert!(!notifies.is_empty(), "{b_log}");
    for n in &notifies {
        let head = n.split("\n\n").next().unwrap_or("");
        assert!(head.contains("Event: refer"), "{n}");
        assert!(head.contains("Content-Type: message/sipfrag"), "{n}");
        assert!(n.contains("SIP/2.0 1") || n.contains("SIP/2.0 2"), "{n}");
    }
    let last = notifies.last().unwrap();
    assert!(last.contains("Subscription-State: terminated"), "{last}");
    assert!(last.contains("SIP/2.0 200"), "{last}");

    // C: a new call with a new Call-ID, carrying B's Referred-By.
    let c_log = c.messages();
    assert_eq!(
        message_ladder(&c_log),
        strs_owned(&["< INVITE", "> 180", "> 200", "< ACK", "< BYE", "> 200"])
    );
    let b_call_id = header_of(&b_log, "INVITE sip:", "Call-ID:").unwrap();
    let c_call_id = header_of(&c_log, "INVITE sip:", "Call-ID:").unwrap();
    assert_ne!(b_call_id, c_call_id);
    let referred_by = header_of(&b_log, "REFER sip:", "Referred-By:").unwrap();
    assert_eq!(
        header_of(&c_log, "INVITE sip:", "Referred-By:").as_deref(),
        Some(referred_by.as_str()),
        "{c_log}"
    );
    if kam.is_some() {
        for m in ["RX REFER", "RX NOTIFY", "RX INVITE sip:carol"] {
            assert!(kam_log.contains(m), "{m}\n{kam_log}");
        }
    }
}

#[test]
fn handset_as_transferee_of_sipp_direct() {
    if require("handset_as_transferee_direct", &["sipp"]) {
        handset_as_transferee("xfer-direct", "uas_refer.xml", false);
    }
}

#[test]
fn handset_as_transferee_of_strict_sipp_direct() {
    if require("handset_as_transferee_strict_direct", &["sipp"]) {
        handset_as_transferee("xfer-strict-direct", "uas_refer_notify.xml", false);
    }
}

#[test]
fn handset_as_transferee_of_sipp_through_kamailio() {
    if require("handset_as_transferee_kamailio", &["sipp", "kamailio"]) {
        handset_as_transferee("xfer-kam", "uas_refer.xml", true);
    }
}

#[test]
fn handset_as_transferee_of_strict_sipp_through_kamailio() {
    if require(
        "handset_as_transferee_strict_kamailio",
        &["sipp", "kamailio"],
    ) {
        handset_as_transferee("xfer-strict-kam", "uas_refer_notify.xml", true);
    }
}

fn sipp_target(dir: &TestDir, port: u16) -> Sipp {
    Sipp::spawn(
        dir,
        "carol",
        &[
            "-sf",
            &path("uas_target.xml"),
            "-i",
            IP,
            "-p",
            &port.to_string(),
            "-m",
            "1",
            "-recv_timeout",
            "30000",
        ],
    )
    .unwrap()
}

#[test]
fn handset_transfers_baresip_to_sipp() {
    if !require("handset_transfers_baresip", &["sipp", "baresip"]) {
        return;
    }
    let dir = TestDir::new("xfer-handset-baresip").unwrap();
    let bs = Baresip::start(&dir, "bob", BaresipPorts::fresh(), None).unwrap();
    let c_port = ports(1);
    let mut c = sipp_target(&dir, c_port);
    let carol = format!("sip:carol@{IP}:{c_port}");
    let mut a = Handset::spawn(
        &dir,
        "alice",
        &[
            "call",
            &bs.uri(),
            "--user",
            "alice",
            "--bind",
            &format!("{IP}:{}", ports(1)),
            "--rtp-port",
            &ports(2).to_string(),
            "--transfer-to",
            &carol,
            "--after",
            "1",
            "--hangup-after",
            "20",
        ],
    );
    let status = a.wait(Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| s.success()),
        "{}\n{}",
        a.report(),
        bs.log()
    );
    let out = a.stdout();
    for l in [
        "answered 0",
        "transferring 0",
        "transfer-succeeded 0",
        "ended 0",
    ] {
        assert!(out.contains(l), "{l}\n{}\n{}", a.report(), bs.log());
    }
    // baresip called C; end that call from baresip.
    assert!(
        handset_conformance::peers::wait_until(Duration::from_secs(5), || {
            message_ladder(&c.messages()).contains(&"< ACK".to_string())
        }),
        "{}",
        c.messages()
    );
    let hangup = bs.cmd("hangup", "", Duration::from_millis(200)).unwrap();
    assert!(hangup.ok, "{}", hangup.text());
    let c_out = c.wait(Duration::from_secs(10)).unwrap();
    assert!(c_out.success(), "{}\n{}", c_out.output, c.errors());
    let c_log = c.messages();
    assert_eq!(
        message_ladder(&c_log),
        strs_owned(&["< INVITE", "> 180", "> 200", "< ACK", "< BYE", "> 200"])
    );
    // The transferee (baresip, as bob) placed the call to C.
    assert!(
        header_of(&c_log, "INVITE sip:", "From:").is_some_and(|f| f.contains("bob")),
        "{c_log}"
    );
}

#[test]
fn baresip_transfers_handset_to_sipp() {
    if !require("baresip_transfers_handset", &["sipp", "baresip"]) {
        return;
    }
    let dir = TestDir::new("xfer-baresip-handset").unwrap();
    let bs = Baresip::start(&dir, "bob", BaresipPorts::fresh(), None).unwrap();
    let c_port = ports(1);
    let mut c = sipp_target(&dir, c_port);
    let a_port = ports(1);
    let mut a = Handset::spawn(
        &dir,
        "alice",
        &[
            "answer",
            "--auto-answer",
            "--accept-refer",
            "--user",
            "alice",
            "--bind",
            &format!("{IP}:{a_port}"),
            "--rtp-port",
            &ports(4).to_string(),
            "--calls",
            "2",
            "--hangup-after",
            "4",
        ],
    );
    assert!(a.wait_line("listening", Duration::from_secs(5)).is_some());
    let dial = bs
        .cmd(
            "dial",
            &format!("sip:alice@{IP}:{a_port}"),
            Duration::from_millis(100),
        )
        .unwrap();
    assert!(dial.ok, "{}", dial.text());
    assert!(
        a.wait_line("answered", Duration::from_secs(5)).is_some(),
        "{}\n{}",
        a.report(),
        bs.log()
    );
    std::thread::sleep(Duration::from_millis(500));
    let carol = format!("sip:carol@{IP}:{c_port}");
    let xfer = bs.cmd("transfer", &carol, Duration::from_secs(2)).unwrap();
    assert!(xfer.ok, "{}", xfer.text());
    let status = a.wait(Duration::from_secs(20));
    assert!(
        status.is_some_and(|s| s.success()),
        "{}\n{}",
        a.report(),
        bs.log()
    );
    let out = a.stdout();
    assert!(out.contains("done calls=2"), "{out}");
    let c_out = c.wait(Duration::from_secs(10)).unwrap();
    assert!(c_out.success(), "{}\n{}", c_out.output, c.errors());
    let c_log = c.messages();
    assert_eq!(
        message_ladder(&c_log),
        strs_owned(&["< INVITE", "> 180", "> 200", "< ACK", "< BYE", "> 200"])
    );
    // The handset called C in a new dialog, as alice.
    assert!(
        header_of(&c_log, "INVITE sip:", "From:").is_some_and(|f| f.contains("alice")),
        "{c_log}"
    );
}
