//! Third-party SIP peers on loopback for the interop tests: Kamailio as
//! registrar/proxy, baresip as a full UA, SIPp as scripted UAs.
//!
//! The peers run from the fixtures in `conformance/peers/` (start and stop
//! scripts, configuration templates, SIPp scenarios). Every test gets its own
//! [`TestDir`] for pid files, logs and SIPp traces, and its own ports from
//! [`ports`], so tests can run in parallel threads. Guards stop their peer
//! when dropped, also when a test panics.
//!
//! A missing package makes [`require`] print a loud `SKIPPED` line and the
//! test return early; with `HANDSET_REQUIRE_PEERS=1` (set by CI, which
//! installs the packages) a missing package fails the test instead.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// The loopback address every peer binds to and sends to.
pub const LOOPBACK: &str = "127.0.0.1";

/// The directory that holds the peer fixtures (`conformance/peers`).
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// The path of a SIPp scenario in the fixtures, e.g. `scenario("uas_target.xml")`.
pub fn scenario(file: &str) -> PathBuf {
    fixtures_dir().join("sipp").join(file)
}

/// Whether `binary` is an executable file in one of the `PATH` directories.
pub fn which(binary: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(binary))
        .find(|p| {
            fs::metadata(p)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// Checks that every binary is installed. When one is missing, prints
/// `SKIPPED: <binary> not installed` to stderr and returns false, so the test
/// returns early; when `HANDSET_REQUIRE_PEERS=1`, panics instead (CI installs
/// the packages, so a missing one there is a failure, not a skip).
pub fn require(test: &str, binaries: &[&str]) -> bool {
    let missing: Vec<&str> = binaries
        .iter()
        .copied()
        .filter(|b| which(b).is_none())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let strict = std::env::var("HANDSET_REQUIRE_PEERS").is_ok_and(|v| v == "1");
    for b in &missing {
        let line = format!(
            "SKIPPED: {b} not installed ({test}); run conformance/peers/install.sh as root"
        );
        assert!(!strict, "{line} (HANDSET_REQUIRE_PEERS=1)");
        // Straight to the process's stderr: the test harness captures
        // eprintln! of passing tests, and a skip must not go unseen.
        let _ = writeln!(io::stderr(), "\n**************** {line} ****************\n");
    }
    false
}

/// Loopback ports for one test: consecutive, free for both UDP and TCP when
/// handed out, and never handed out twice by this process.
pub fn ports(count: u16) -> u16 {
    // Start from a pid-dependent base so that two test processes on the same
    // machine rarely probe the same ports.
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let _ = NEXT.compare_exchange(
        0,
        20_000 + (std::process::id() % 400) as u16 * 50,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    loop {
        let base = NEXT.fetch_add(count, Ordering::SeqCst);
        assert!(base < 60_000 - count, "out of test ports");
        if (base..base + count).all(port_is_free) {
            return base;
        }
    }
}

fn port_is_free(port: u16) -> bool {
    UdpSocket::bind((LOOPBACK, port)).is_ok()
        && std::net::TcpListener::bind((LOOPBACK, port)).is_ok()
}

/// Polls `done` every 50 ms until it returns true or `timeout` passes.
/// Returns whether it became true.
pub fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for `child` to exit, up to `timeout`; `None` when it is still running.
pub fn wait_child(child: &mut Child, timeout: Duration) -> io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Sends SIGTERM to a process (the peers flush their logs and statistics on it).
pub fn terminate(pid: u32) {
    // bash's builtin kill: no dependency on procps.
    let _ = Command::new("bash")
        .args(["-c", &format!("kill -TERM {pid}")])
        .stderr(Stdio::null())
        .status();
}

/// A scratch directory for one test's pid files, logs and traces, under the
/// system temp dir. Removed on drop when the test passed, kept (and its path
/// printed) when it failed.
#[derive(Debug)]
pub struct TestDir {
    path: PathBuf,
}

impl TestDir {
    /// Creates a fresh directory named after the test.
    pub fn new(test: &str) -> io::Result<TestDir> {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "handset-peers-{test}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        if path.exists() {
            fs::remove_dir_all(&path)?;
        }
        fs::create_dir_all(&path)?;
        Ok(TestDir { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A subdirectory, created if needed.
    pub fn sub(&self, name: &str) -> io::Result<PathBuf> {
        let p = self.path.join(name);
        fs::create_dir_all(&p)?;
        Ok(p)
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!("peer logs kept in {}", self.path.display());
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Runs a fixture script with the given environment, capturing its output.
fn run_script(script: &str, env: &[(&str, String)]) -> io::Result<Output> {
    let mut cmd = Command::new("bash");
    cmd.arg(fixtures_dir().join(script)).stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output()
}

fn script_error(script: &str, out: &Output) -> io::Error {
    io::Error::other(format!(
        "{script} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// Kamailio's configuration choices.
#[derive(Clone, Debug, Default)]
pub struct KamailioOptions {
    /// Challenge every REGISTER with digest authentication (`WITH_AUTH`):
    /// accounts `alice`, `bob`, `carol`, `handset`, password `<name>-secret`.
    pub auth: bool,
    /// Challenge with `algorithm=SHA-256` (RFC 8760) instead of MD5.
    pub sha256: bool,
}

/// A running Kamailio registrar/proxy on `127.0.0.1:<port>` (UDP); stopped on drop.
#[derive(Debug)]
pub struct Kamailio {
    port: u16,
    dir: PathBuf,
}

impl Kamailio {
    /// Starts the plain registrar/proxy (no authentication), with its
    /// files under `dir`; returns once it listens.
    pub fn start(dir: &TestDir, port: u16) -> io::Result<Kamailio> {
        Self::start_with(dir, port, &KamailioOptions::default())
    }

    /// Starts the registrar/proxy that challenges REGISTERs (MD5 digest).
    pub fn start_with_auth(dir: &TestDir, port: u16) -> io::Result<Kamailio> {
        let opts = KamailioOptions {
            auth: true,
            sha256: false,
        };
        Self::start_with(dir, port, &opts)
    }

    /// Starts Kamailio with the given options; returns once it listens.
    pub fn start_with(dir: &TestDir, port: u16, opts: &KamailioOptions) -> io::Result<Kamailio> {
        let kdir = dir.sub(&format!("kamailio-{port}"))?;
        let mut defines = String::new();
        if opts.auth {
            defines.push_str("WITH_AUTH ");
        }
        if opts.sha256 {
            defines.push_str("AUTH_SHA256");
        }
        let env = [
            ("PEERS_DIR", kdir.display().to_string()),
            ("KAM_IP", LOOPBACK.to_string()),
            ("KAM_PORT", port.to_string()),
            ("KAM_DEFINES", defines),
        ];
        let out = run_script("kamailio-start.sh", &env)?;
        // From here on the guard owns the process: dropping it stops kamailio
        // even when the start script timed out half-way.
        let kam = Kamailio { port, dir: kdir };
        if !out.status.success() {
            return Err(script_error("kamailio-start.sh", &out));
        }
        Ok(kam)
    }

    /// The UDP address it listens on.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its log so far (one `RX ...` line per request and reply).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("kamailio.log")).unwrap_or_default()
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        let _ = run_script(
            "kamailio-stop.sh",
            &[("PEERS_DIR", self.dir.display().to_string())],
        );
    }
}

/// The loopback ports of one baresip: SIP (UDP and TCP; SIP over TLS takes
/// the next port), `ctrl_tcp` (TCP), `cons` (UDP/TCP) and an RTP range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaresipPorts {
    /// SIP over UDP.
    pub sip: u16,
    /// The JSON control socket (`ctrl_tcp`).
    pub ctrl: u16,
    /// The plain-text console (`cons`).
    pub cons: u16,
    /// First RTP port (even).
    pub rtp_min: u16,
    /// Last RTP port.
    pub rtp_max: u16,
}

impl BaresipPorts {
    /// How many consecutive ports [`BaresipPorts::from_base`] uses.
    pub const COUNT: u16 = 24;

    /// Lays the ports out from `base`: SIP, then (after `base + 1`, where
    /// baresip opens SIP over TLS) control, console, and 20 for RTP.
    pub fn from_base(base: u16) -> BaresipPorts {
        let rtp_min = (base + 4) & !1;
        BaresipPorts {
            sip: base,
            ctrl: base + 2,
            cons: base + 3,
            rtp_min,
            rtp_max: rtp_min + 19,
        }
    }

    /// Takes fresh ports from [`ports`].
    pub fn fresh() -> BaresipPorts {
        Self::from_base(ports(Self::COUNT))
    }
}

/// The reply to one `ctrl_tcp` command and the events seen meanwhile.
#[derive(Clone, Debug, Default)]
pub struct BaresipReply {
    /// Whether the response said `"ok":true`.
    pub ok: bool,
    /// Every JSON object received, in order (events and the response).
    pub messages: Vec<String>,
}

impl BaresipReply {
    /// Everything received, one JSON object per line.
    pub fn text(&self) -> String {
        self.messages.join("\n")
    }
}

/// A running headless baresip (auto-answer, sine tone source); stopped on drop.
#[derive(Debug)]
pub struct Baresip {
    name: String,
    ports: BaresipPorts,
    dir: PathBuf,
}

/// baresip's configuration choices beyond name, ports and registrar.
#[derive(Clone, Debug)]
pub struct BaresipOptions {
    /// Frequency of the sine tone it sends, in Hz.
    pub tone_hz: u32,
    /// `auto` answers incoming calls at once, `manual` waits for `accept`.
    pub answer_mode: &'static str,
}

impl Default for BaresipOptions {
    fn default() -> Self {
        BaresipOptions {
            tone_hz: 440,
            answer_mode: "auto",
        }
    }
}

impl Baresip {
    /// Starts `sip:<name>@127.0.0.1:<ports.sip>`, auto-answering and sending
    /// a 440 Hz tone. With a registrar it registers there and uses it as
    /// outbound proxy. Returns once its SIP and control sockets listen.
    pub fn start(
        dir: &TestDir,
        name: &str,
        ports: BaresipPorts,
        registrar: Option<SocketAddr>,
    ) -> io::Result<Baresip> {
        Self::start_with(dir, name, ports, registrar, &BaresipOptions::default())
    }

    /// Like [`Baresip::start`], with a chosen tone and answer mode.
    pub fn start_with(
        dir: &TestDir,
        name: &str,
        ports: BaresipPorts,
        registrar: Option<SocketAddr>,
        opts: &BaresipOptions,
    ) -> io::Result<Baresip> {
        let bdir = dir.sub(&format!("baresip-{name}-{}", ports.sip))?;
        let env = [
            ("PEERS_DIR", bdir.display().to_string()),
            ("BS_NAME", name.to_string()),
            ("BS_IP", LOOPBACK.to_string()),
            ("BS_SIP_PORT", ports.sip.to_string()),
            ("BS_CTRL_PORT", ports.ctrl.to_string()),
            ("BS_CONS_PORT", ports.cons.to_string()),
            (
                "BS_RTP_PORTS",
                format!("{}-{}", ports.rtp_min, ports.rtp_max),
            ),
            ("BS_FREQ", opts.tone_hz.to_string()),
            ("BS_ANSWERMODE", opts.answer_mode.to_string()),
            (
                "BS_REGISTRAR",
                registrar.map(|a| a.to_string()).unwrap_or_default(),
            ),
        ];
        let out = run_script("baresip-start.sh", &env)?;
        let bs = Baresip {
            name: name.to_string(),
            ports,
            dir: bdir,
        };
        if !out.status.success() {
            return Err(script_error("baresip-start.sh", &out));
        }
        Ok(bs)
    }

    /// Its SIP address.
    pub fn sip_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.ports.sip))
    }

    /// Its SIP URI, `sip:<name>@127.0.0.1:<port>`.
    pub fn uri(&self) -> String {
        format!("sip:{}@{}:{}", self.name, LOOPBACK, self.ports.sip)
    }

    /// Its ports.
    pub fn ports(&self) -> BaresipPorts {
        self.ports
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join(format!("baresip-{}.log", self.name))).unwrap_or_default()
    }

    /// Sends one command over `ctrl_tcp` (JSON in netstrings), e.g.
    /// `cmd("dial", "sip:bob@127.0.0.1")`, `cmd("transfer", uri)`,
    /// `cmd("hangup", "")`, `cmd("listcalls", "")`, `cmd("reginfo", "")`.
    /// Waits for the response, then collects events for `linger` more.
    pub fn cmd(&self, command: &str, params: &str, linger: Duration) -> io::Result<BaresipReply> {
        let mut stream = TcpStream::connect((LOOPBACK, self.ports.ctrl))?;
        let mut json = String::new();
        write!(
            json,
            "{{\"command\":\"{}\",\"params\":\"{}\",\"token\":\"handset\"}}",
            json_escape(command),
            json_escape(params)
        )
        .map_err(io::Error::other)?;
        stream.write_all(format!("{}:{},", json.len(), json).as_bytes())?;
        stream.set_read_timeout(Some(Duration::from_millis(100)))?;

        let mut reply = BaresipReply::default();
        let mut buf = Vec::new();
        let mut deadline = Instant::now() + Duration::from_secs(5);
        let mut answered = false;
        while Instant::now() < deadline {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::TimedOut => {}
                Err(e) => return Err(e),
            }
            while let Some((body, used)) = take_netstring(&buf) {
                let obj = String::from_utf8_lossy(body).into_owned();
                buf.drain(..used);
                let compact: String = obj.chars().filter(|c| !c.is_whitespace()).collect();
                if !answered
                    && compact.contains("\"response\":true")
                    && compact.contains("\"token\":\"handset\"")
                {
                    answered = true;
                    reply.ok = compact.contains("\"ok\":true");
                    deadline = Instant::now() + linger;
                }
                reply.messages.push(obj);
            }
        }
        if !answered {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("baresip gave no response to {command}"),
            ));
        }
        Ok(reply)
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = run_script(
            "baresip-stop.sh",
            &[
                ("PEERS_DIR", self.dir.display().to_string()),
                ("BS_NAME", self.name.clone()),
            ],
        );
    }
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Splits one complete netstring (`<len>:<bytes>,`) off the front of `buf`:
/// its payload and how many bytes it took.
fn take_netstring(buf: &[u8]) -> Option<(&[u8], usize)> {
    let colon = buf.iter().position(|&b| b == b':')?;
    let len: usize = std::str::from_utf8(buf.get(..colon)?).ok()?.parse().ok()?;
    let end = colon.checked_add(1)?.checked_add(len)?;
    let body = buf.get(colon + 1..end)?;
    (buf.get(end) == Some(&b',')).then_some((body, end + 1))
}

/// How a SIPp run ended.
#[derive(Clone, Debug)]
pub struct SippOutcome {
    /// SIPp's exit code: 0 all calls succeeded, 1 at least one failed,
    /// 97 internal exit command, 99 no call processed, 255 fatal error,
    /// 254 socket bind error. `None` when killed by a signal.
    pub code: Option<i32>,
    /// Its final screen (stdout) and stderr.
    pub output: String,
}

impl SippOutcome {
    /// Whether SIPp exited with 0 (every call succeeded).
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The cumulative count of a statistics row of the final screen,
    /// e.g. `counter("Successful call")` or `counter("Failed call")`.
    pub fn counter(&self, row: &str) -> Option<u64> {
        self.output
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with(row))
            .and_then(|l| l.split('|').nth(2))
            .and_then(|v| v.trim().parse().ok())
    }
}

/// A SIPp process running in its own directory (its `-trace_*` files land
/// there); killed on drop.
#[derive(Debug)]
pub struct Sipp {
    child: Child,
    dir: PathBuf,
    out_path: PathBuf,
}

impl Sipp {
    /// Spawns `sipp -nostdin -trace_err -trace_msg <args>` in a new
    /// subdirectory `name` of `dir`; stdout and stderr go to `sipp.out` there.
    pub fn spawn(dir: &TestDir, name: &str, args: &[&str]) -> io::Result<Sipp> {
        let sdir = dir.sub(name)?;
        let out_path = sdir.join("sipp.out");
        let out = fs::File::create(&out_path)?;
        let err = out.try_clone()?;
        let child = Command::new("sipp")
            .args(["-nostdin", "-trace_err", "-trace_msg"])
            .args(args)
            .current_dir(&sdir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()?;
        Ok(Sipp {
            child,
            dir: sdir,
            out_path,
        })
    }

    /// Its process id (SIPp names its trace files after it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The directory with its output and traces.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Waits up to `timeout` for SIPp to exit. On timeout it is terminated
    /// and the outcome has `code: None`.
    pub fn wait(&mut self, timeout: Duration) -> io::Result<SippOutcome> {
        let status = match wait_child(&mut self.child, timeout)? {
            Some(s) => Some(s),
            None => {
                self.stop()?;
                None
            }
        };
        Ok(SippOutcome {
            code: status.and_then(|s| s.code()),
            output: fs::read_to_string(&self.out_path).unwrap_or_default(),
        })
    }

    /// Asks SIPp to quit (SIGTERM), then kills it if it is still running
    /// after 3 s.
    pub fn stop(&mut self) -> io::Result<()> {
        if self.child.try_wait()?.is_none() {
            terminate(self.child.id());
            if wait_child(&mut self.child, Duration::from_secs(3))?.is_none() {
                self.child.kill()?;
                self.child.wait()?;
            }
        }
        Ok(())
    }

    /// The contents of its trace file ending in `suffix` (`messages.log`,
    /// `errors.log`, `logs.log`, `.csv`), empty when absent.
    pub fn trace(&self, suffix: &str) -> String {
        let marker = format!("_{}_", self.child.id());
        fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                n.contains(&marker) && n.ends_with(suffix)
            })
            .and_then(|p| fs::read_to_string(p).ok())
            .unwrap_or_default()
    }

    /// Every SIP message it sent or received (`-trace_msg`).
    pub fn messages(&self) -> String {
        self.trace("messages.log")
    }

    /// Its error log (`-trace_err`).
    pub fn errors(&self) -> String {
        self.trace("errors.log")
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs SIPp to completion (see [`Sipp::spawn`]), up to `timeout`.
pub fn run_sipp(
    dir: &TestDir,
    name: &str,
    args: &[&str],
    timeout: Duration,
) -> io::Result<(Sipp, SippOutcome)> {
    let mut sipp = Sipp::spawn(dir, name, args)?;
    let outcome = sipp.wait(timeout)?;
    Ok((sipp, outcome))
}

/// The request methods and response codes of a SIPp `-trace_msg` log, in
/// order, each with its direction: `"> INVITE"`, `"< 200"`, ...
/// (`>` = sent by SIPp, `<` = received).
pub fn message_ladder(messages_log: &str) -> Vec<String> {
    let mut ladder = Vec::new();
    let mut dir = None;
    let mut expect_start = false;
    for line in messages_log.lines() {
        let l = line.trim();
        if l.contains("UDP message sent") || l.contains("TCP message sent") {
            dir = Some('>');
            expect_start = true;
            continue;
        }
        if l.contains("UDP message received") || l.contains("TCP message received") {
            dir = Some('<');
            expect_start = true;
            continue;
        }
        if expect_start && !l.is_empty() {
            expect_start = false;
            let Some(d) = dir else { continue };
            if let Some(rest) = l.strip_prefix("SIP/2.0 ") {
                ladder.push(format!("{d} {}", rest.get(..3).unwrap_or(rest)));
            } else if let Some(method) = l.split_whitespace().next() {
                ladder.push(format!("{d} {method}"));
            }
        }
    }
    ladder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netstrings_split_only_when_complete() {
        assert_eq!(take_netstring(b"3:abc,rest"), Some((&b"abc"[..], 6)));
        assert_eq!(take_netstring(b"3:ab"), None);
        assert_eq!(take_netstring(b"3:abcX"), None);
        assert_eq!(take_netstring(b"x:abc,"), None);
    }

    #[test]
    fn counters_read_the_last_screen() {
        let out = SippOutcome {
            code: Some(0),
            output: "  Successful call        |        0                  |       5\n\
                     ------\n  Successful call        |        2                  |       20                 \n\
                     \x20 Failed call            |        0                  |       0\n"
                .to_string(),
        };
        assert_eq!(out.counter("Successful call"), Some(20));
        assert_eq!(out.counter("Failed call"), Some(0));
        assert_eq!(out.counter("Retransmissions"), None);
    }

    #[test]
    fn ladder_reads_directions_and_start_lines() {
        let log = "----------------------------------------------- 2026-11-29 06:00:00.000\n\
                   UDP message sent (300 bytes):\n\nREGISTER sip:127.0.0.1 SIP/2.0\nVia: x\n\n\
                   ----------------------------------------------- 2026-11-29 06:00:00.001\n\
                   UDP message received [200] bytes :\n\nSIP/2.0 401 Unauthorized\nVia: x\n";
        assert_eq!(message_ladder(log), ["> REGISTER", "< 401"]);
    }

    #[test]
    fn ports_are_not_handed_out_twice() {
        let a = ports(10);
        let b = ports(10);
        assert!(b >= a + 10 || a >= b + 10);
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_escape("a\"b\\c\n"), "a\\\"b\\\\c\\u000a");
    }
}
