//! The `handset` commands that run a phone: `register`, `call`, `answer`
//! and `phone` (the console is in [`crate::console`]). Each prints one
//! line per state change on stdout (`registered 600`, `ringing 0`,
//! `answered 0`, `ended 0 Normal`, ...), logs to stderr with `-v`, and
//! exits non-zero with a clear message when it cannot do its job.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use handset_core::phone::{CallHandle, Command, Event, TransferPolicy};

use crate::config::{Settings, SettingsError};
use crate::rtp_session::SourceSpec;
use crate::runtime::{AudioPlan, Runtime, RuntimeEvent};
use crate::wav::{read_wav, SAMPLE_RATE};

/// How many calls and transactions the phone has room for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Capacity {
    /// A desk phone: 4 calls, 64 transactions.
    Desk,
    /// A test target: [`SERVER_CALLS`] calls, [`SERVER_TXNS`]
    /// transactions.
    Server,
    /// A load target: [`LOAD_CALLS`] calls, [`LOAD_TXNS`] transactions,
    /// [`LOAD_COMPLETED`] records of answered non-INVITE requests,
    /// [`LOAD_BUFFERS`] message buffers.
    Load,
}

/// Call slots of the server capacity.
pub const SERVER_CALLS: usize = 64;
/// Transaction slots of the server capacity: a UDP call keeps two
/// transactions for 64·T1 = 32 s after it ends (RFC 6026 Timer L, RFC 3261
/// Timer J), so this bounds the sustained call rate at about
/// `SERVER_TXNS / 64` per second with default timers.
pub const SERVER_TXNS: usize = 2048;
/// Call slots of the load capacity. A call holds one from its INVITE to
/// its BYE; at 2,000 calls/s, 1,024 slots ride out half a second in which
/// the caller or the phone is kept off the CPU.
pub const LOAD_CALLS: usize = 1024;
/// Transaction slots of the load capacity, and as many compact records
/// of answered INVITEs waiting out Timer L (64·T1 = 32 s, RFC 6026 §8.7):
/// at 2,000 calls/s, 64,000 INVITEs wait at once, 40,960 in records and
/// the rest in slots, where new callers may take three quarters of the
/// table (30,720 slots).
pub const LOAD_TXNS: usize = 40960;
/// Compact records of the load capacity for answered non-INVITE requests
/// (the BYEs) waiting out Timer J (64·T1 = 32 s, RFC 3261 §17.2.2): the
/// most a table has, 2,048 calls/s for 32 s.
pub const LOAD_COMPLETED: usize = 65536;
/// Message buffers of the load capacity. An answered call needs one from
/// its 180 to its ACK (the 2xx takes the 180's), and the answered BYE's
/// 200 moves to a record of its own: about one per call slot, so four per
/// slot leave new callers (who may take three quarters) room beyond
/// every call slot, and the rest for requests in dialogs.
pub const LOAD_BUFFERS: usize = 4 * LOAD_CALLS;

/// Flags every phone command takes.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Settings file of `key = value` lines (the flag names below).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// User part of the address of record.
    #[arg(long)]
    pub user: Option<String>,
    /// Domain of the address of record (default: the registrar's host).
    #[arg(long)]
    pub domain: Option<String>,
    /// Display name.
    #[arg(long)]
    pub display_name: Option<String>,
    /// Digest user name (default: --user).
    #[arg(long)]
    pub auth_user: Option<String>,
    /// Digest password.
    #[arg(long)]
    pub password: Option<String>,
    /// Local SIP address (default 0.0.0.0:5060; port 0 picks one).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Outbound proxy `host:port`.
    #[arg(long, value_name = "ADDR")]
    pub proxy: Option<String>,
    /// Registrar `host:port`; registers before anything else.
    #[arg(long, value_name = "ADDR")]
    pub registrar: Option<String>,
    /// Backup registrars `host:port[,host:port]`, tried in order when the
    /// registrar does not answer or answers 503.
    #[arg(long, value_name = "ADDR[,ADDR]")]
    pub backup_registrar: Option<String>,
    /// Registered at a backup, try the registrar again after SECS (0: never).
    #[arg(long, value_name = "SECS")]
    pub failback: Option<String>,
    /// SIP transport.
    #[arg(long, value_parser = ["udp", "tcp"])]
    pub transport: Option<String>,
    /// First RTP port (call n uses port + 2n).
    #[arg(long)]
    pub rtp_port: Option<u16>,
    /// Registration expiry in seconds.
    #[arg(long)]
    pub expires: Option<u32>,
    /// Codecs, preferred first (`pcmu,pcma`).
    #[arg(long)]
    pub codecs: Option<String>,
    /// Room for calls and transactions.
    #[arg(long, value_enum)]
    pub capacity: Option<Capacity>,
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No per-call lines on stdout (for load runs).
    #[arg(short, long)]
    pub quiet: bool,
}

impl Common {
    /// The settings: defaults, then the file, then the flags.
    pub fn settings(&self) -> Result<Settings, SettingsError> {
        let mut s = Settings::default();
        if let Some(p) = &self.config {
            s.load_file(p)?;
        }
        let flags: [(&str, &Option<String>); 10] = [
            ("user", &self.user),
            ("domain", &self.domain),
            ("display_name", &self.display_name),
            ("auth_user", &self.auth_user),
            ("password", &self.password),
            ("bind", &self.bind),
            ("proxy", &self.proxy),
            ("registrar", &self.registrar),
            ("backup_registrar", &self.backup_registrar),
            ("failback", &self.failback),
        ];
        for (k, v) in flags {
            if let Some(v) = v {
                s.set(k, v)
                    .map_err(|e| SettingsError(format!("--{k}: {e}")))?;
            }
        }
        if let Some(t) = &self.transport {
            s.set("transport", t)?;
        }
        if let Some(p) = self.rtp_port {
            s.rtp_port = p;
        }
        if let Some(e) = self.expires {
            s.expires = e;
        }
        if let Some(c) = &self.codecs {
            s.set("codecs", c)?;
        }
        Ok(s)
    }
}

/// Flags of the outgoing audio.
#[derive(Debug, Clone, Args)]
pub struct AudioArgs {
    /// Play this WAV file (8 kHz mono 16-bit) into the call.
    #[arg(long, value_name = "F.wav")]
    pub play: Option<PathBuf>,
    /// Send a sine tone of this frequency instead (Hz).
    #[arg(long, value_name = "HZ", conflicts_with = "play")]
    pub tone: Option<f64>,
    /// Record the received audio of the call to this WAV file.
    #[arg(long, value_name = "F.wav")]
    pub record: Option<PathBuf>,
}

impl AudioArgs {
    /// The audio plan, and how long a played file lasts.
    pub fn plan(&self) -> Result<(AudioPlan, Option<f64>), String> {
        let (source, seconds) = match (&self.play, self.tone) {
            (Some(p), _) => {
                let samples =
                    read_wav(p).map_err(|e| format!("cannot play {}: {e}", p.display()))?;
                let secs = samples.len() as f64 / f64::from(SAMPLE_RATE);
                (SourceSpec::File(Arc::new(samples)), Some(secs))
            }
            (None, Some(hz)) if hz > 0.0 && hz < 4000.0 => (SourceSpec::Tone(hz), None),
            (None, Some(hz)) => return Err(format!("--tone {hz}: must be between 0 and 4000 Hz")),
            (None, None) => (SourceSpec::Silence, None),
        };
        if let Some(r) = &self.record {
            let dir = r.parent().filter(|d| !d.as_os_str().is_empty());
            if dir.is_some_and(|d| !d.is_dir()) {
                return Err(format!("--record {}: no such directory", r.display()));
            }
        }
        Ok((
            AudioPlan {
                source,
                record: self.record.clone(),
            },
            seconds,
        ))
    }
}

/// `handset register`.
#[derive(Debug, Clone, Args)]
pub struct RegisterArgs {
    /// Flags every phone command takes.
    #[command(flatten)]
    pub common: Common,
    /// Stay registered this many seconds (refreshing), then unregister.
    #[arg(long, value_name = "S", default_value_t = 0.0)]
    pub stay: f64,
    /// Leave the binding at the registrar on exit.
    #[arg(long)]
    pub keep: bool,
}

/// `handset call`.
#[derive(Debug, Clone, Args)]
pub struct CallArgs {
    /// Flags every phone command takes.
    #[command(flatten)]
    pub common: Common,
    /// Whom to call (`sip:bob@192.0.2.7:5060`).
    pub uri: String,
    /// Outgoing audio and recording.
    #[command(flatten)]
    pub audio: AudioArgs,
    /// Hang up this many seconds after the answer (default: when the
    /// played file ends, else when the far end hangs up).
    #[arg(long, value_name = "S")]
    pub hangup_after: Option<f64>,
    /// Transfer the call to this URI (blind, REFER) ...
    #[arg(long, value_name = "URI", requires = "after")]
    pub transfer_to: Option<String>,
    /// ... this many seconds after the answer.
    #[arg(long, value_name = "S", requires = "transfer_to")]
    pub after: Option<f64>,
    /// Send these DTMF digits one second after the answer.
    #[arg(long, value_name = "DIGITS")]
    pub dtmf: Option<String>,
    /// Give up when nobody answers within this many seconds.
    #[arg(long, value_name = "S", default_value_t = 60.0)]
    pub ring_timeout: f64,
}

/// `handset answer`.
#[derive(Debug, Clone, Args)]
pub struct AnswerArgs {
    /// Flags every phone command takes.
    #[command(flatten)]
    pub common: Common,
    /// Answer every call at once (else: press Enter to answer).
    #[arg(long)]
    pub auto_answer: bool,
    /// Follow a transfer (REFER) without asking.
    #[arg(long)]
    pub accept_refer: bool,
    /// Outgoing audio and recording.
    #[command(flatten)]
    pub audio: AudioArgs,
    /// Exit after this many calls have ended (0: run until interrupted).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub calls: u64,
    /// Hang up answered calls after this many seconds.
    #[arg(long, value_name = "S")]
    pub hangup_after: Option<f64>,
    /// Exit after this many seconds (0: no limit).
    #[arg(long, value_name = "S", default_value_t = 0.0)]
    pub duration: f64,
}

/// A non-zero exit with a message.
#[derive(Debug)]
pub struct Failure {
    /// The message (printed to stderr as `handset: <message>`).
    pub message: String,
    /// The exit code.
    pub code: u8,
}

impl Failure {
    /// A failure with this exit code and message.
    pub fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code,
        }
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure::new(1, e.to_string())
    }
}

/// Turns a command's outcome into the exit code, printing the failure.
pub fn exit_code(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("handset: {}", f.message);
            ExitCode::from(f.code.max(1))
        }
    }
}

/// Runs `f` on a thread with a roomy stack. The phone itself lives on the
/// heap and is built on a thread of its own ([`Runtime::start`]); the core
/// still keeps whole messages in stack buffers along its call paths.
pub fn on_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let stack = 64 << 20;
    match std::thread::Builder::new()
        .name("phone".into())
        .stack_size(stack)
        .spawn(f)
    {
        Ok(h) => match h.join() {
            Ok(v) => v,
            Err(p) => std::panic::resume_unwind(p),
        },
        Err(e) => {
            eprintln!("handset: cannot start the phone thread: {e}");
            std::process::exit(1)
        }
    }
}

/// Set by SIGINT and SIGTERM: the commands end cleanly (hang up,
/// unregister) when they see it.
pub fn interrupted() -> Arc<AtomicBool> {
    use std::sync::OnceLock;
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            if let Err(e) = signal_hook::flag::register(sig, Arc::clone(&flag)) {
                log::warn!("cannot catch signal {sig}: {e}");
            }
        }
        flag
    })
    .clone()
}

struct StderrLogger {
    level: log::LevelFilter,
    start: Instant,
}

impl log::Log for StderrLogger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= self.level
    }

    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            eprintln!(
                "{:9.3} {:5} {}",
                self.start.elapsed().as_secs_f64(),
                r.level(),
                r.args()
            );
        }
    }

    fn flush(&self) {}
}

/// Installs the stderr logger: warnings by default, more per `-v`.
pub fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => log::LevelFilter::Warn,
        1 => log::LevelFilter::Info,
        2 => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    };
    let logger = StderrLogger {
        level,
        start: Instant::now(),
    };
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(level);
    }
}

/// Prints a state line on stdout unless quiet.
macro_rules! say {
    ($quiet:expr, $($t:tt)*) => {
        if !$quiet {
            println!($($t)*);
        }
    };
}
pub(crate) use say;

fn secs(s: f64, flag: &str) -> Result<Duration, Failure> {
    if (0.0..1e9).contains(&s) {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(Failure::new(
            2,
            format!("{flag} {s}: not a number of seconds"),
        ))
    }
}

/// Registers (when a registrar is set) and waits for the outcome.
pub fn register_first<const C: usize, const T: usize, const D: usize, const B: usize>(
    rt: &mut Runtime<C, T, D, B>,
    settings: &Settings,
    quiet: bool,
) -> Result<(), Failure> {
    let Some(registrar) = settings.registrar else {
        return Ok(());
    };
    rt.command(Command::Register);
    let stop = interrupted();
    // Timer F (64·T1 = 32 s) bounds the wait for each silent registrar;
    // after a 408 or 503 the phone tries the next backup at once.
    let servers = 1 + settings.backup_registrars.len() as u64;
    let deadline = Instant::now() + Duration::from_secs(40 * servers);
    while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
        match rt.next_event(Duration::from_millis(200))? {
            Some(RuntimeEvent::Phone(Event::Registered { expires, server })) => {
                match server {
                    0 => say!(quiet, "registered {expires}"),
                    n => say!(quiet, "registered {expires} backup {n}"),
                }
                return Ok(());
            }
            Some(RuntimeEvent::Phone(Event::RegistrationFailed { code, server }))
                if matches!(code, 408 | 503) && u64::from(server) + 1 < servers =>
            {
                say!(
                    quiet,
                    "registration-failed {code}, trying backup {}",
                    server + 1
                );
            }
            Some(RuntimeEvent::Phone(Event::RegistrationFailed { code, .. })) => {
                let why = match code {
                    408 => format!("registrar {registrar} did not answer"),
                    401 | 407 | 403 => {
                        format!("registrar {registrar} refused the credentials ({code})")
                    }
                    c => format!("registrar {registrar} refused with {c}"),
                };
                return Err(Failure::new(1, why));
            }
            _ => {}
        }
    }
    Err(Failure::new(
        1,
        format!("no answer from registrar {registrar}"),
    ))
}

fn start<const C: usize, const T: usize, const D: usize, const B: usize>(
    common: &Common,
    audio: AudioPlan,
    towards: Option<std::net::SocketAddr>,
    adjust: impl FnOnce(&mut Settings),
) -> Result<(Settings, Runtime<C, T, D, B>), Failure> {
    let mut settings = common.settings().map_err(|e| Failure::new(2, e.0))?;
    adjust(&mut settings);
    let rt =
        Runtime::start(&settings, audio, towards).map_err(|e| Failure::new(1, e.to_string()))?;
    println!(
        "listening {} {}",
        settings.transport.via_token(),
        rt.local_addr()
    );
    Ok((settings, rt))
}

/// `handset register`.
pub fn register(args: RegisterArgs) -> Result<(), Failure> {
    match args.common.capacity.unwrap_or(Capacity::Desk) {
        Capacity::Desk => register_with::<4, 64, 0, 64>(args),
        Capacity::Server => register_with::<SERVER_CALLS, SERVER_TXNS, 0, SERVER_TXNS>(args),
        Capacity::Load => {
            register_with::<LOAD_CALLS, LOAD_TXNS, LOAD_COMPLETED, LOAD_BUFFERS>(args)
        }
    }
}

fn register_with<const C: usize, const T: usize, const D: usize, const B: usize>(
    args: RegisterArgs,
) -> Result<(), Failure> {
    let stay = secs(args.stay, "--stay")?;
    let (settings, mut rt) = start::<C, T, D, B>(&args.common, AudioPlan::default(), None, |_| {})?;
    if settings.registrar.is_none() {
        return Err(Failure::new(
            2,
            "register needs --registrar (or registrar = in --config)",
        ));
    }
    register_first(&mut rt, &settings, args.common.quiet)?;
    let stop = interrupted();
    let until = Instant::now() + stay;
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        if let Some(RuntimeEvent::Phone(Event::RegistrationFailed { code, .. })) =
            rt.next_event(Duration::from_millis(200))?
        {
            return Err(Failure::new(1, format!("refresh failed with {code}")));
        }
    }
    if args.keep {
        return Ok(());
    }
    rt.command(Command::Unregister);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match rt.next_event(Duration::from_millis(200))? {
            Some(RuntimeEvent::Phone(Event::Unregistered)) => {
                say!(args.common.quiet, "unregistered");
                return Ok(());
            }
            Some(RuntimeEvent::Phone(Event::RegistrationFailed { code, .. })) => {
                return Err(Failure::new(
                    1,
                    format!("unregistration failed with {code}"),
                ));
            }
            _ => {}
        }
    }
    Err(Failure::new(1, "no answer to the unregistration"))
}

/// `handset call`.
pub fn call(args: CallArgs) -> Result<(), Failure> {
    match args.common.capacity.unwrap_or(Capacity::Desk) {
        Capacity::Desk => call_with::<4, 64, 0, 64>(args),
        Capacity::Server => call_with::<SERVER_CALLS, SERVER_TXNS, 0, SERVER_TXNS>(args),
        Capacity::Load => call_with::<LOAD_CALLS, LOAD_TXNS, LOAD_COMPLETED, LOAD_BUFFERS>(args),
    }
}

/// The IP:port a SIP URI names, when it names one.
fn uri_addr(uri: &str) -> Option<std::net::SocketAddr> {
    let u = handset_core::message::Uri::parse(uri).ok()?;
    Some(std::net::SocketAddr::new(
        u.host?.ip()?,
        u.port.unwrap_or(5060),
    ))
}

fn call_with<const C: usize, const T: usize, const D: usize, const B: usize>(
    args: CallArgs,
) -> Result<(), Failure> {
    let (plan, play_secs) = args.audio.plan().map_err(|m| Failure::new(2, m))?;
    if handset_core::message::Uri::parse(&args.uri).is_err() {
        return Err(Failure::new(2, format!("{:?} is not a SIP URI", args.uri)));
    }
    let hangup_after = match args.hangup_after {
        Some(s) => Some(secs(s, "--hangup-after")?),
        None => play_secs.map(|s| Duration::from_secs_f64(s + 0.3)),
    };
    let transfer = match (&args.transfer_to, args.after) {
        (Some(to), Some(after)) => Some((to.clone(), secs(after, "--after")?)),
        _ => None,
    };
    let ring_timeout = secs(args.ring_timeout, "--ring-timeout")?;
    let quiet = args.common.quiet;
    let (settings, mut rt) = start::<C, T, D, B>(&args.common, plan, uri_addr(&args.uri), |s| {
        // A transferor keeps its call until the transferee reports the
        // outcome (RFC 5589 §6.1), then hangs up.
        if transfer.is_some() {
            s.transfer.release_on_accept = false;
        }
    })?;
    register_first(&mut rt, &settings, quiet)?;
    if settings.proxy.is_none() && uri_addr(&args.uri).is_none() {
        return Err(Failure::new(
            2,
            format!("{}: the host is not an IP address; give --proxy", args.uri),
        ));
    }
    rt.command(Command::Dial { to: &args.uri });
    let stop = interrupted();
    let dialled = Instant::now();
    // The dialled call, then any call a transfer asked this phone to place.
    let mut calls: Vec<OwnCall> = Vec::new();
    let mut first: Option<CallHandle> = None;
    let mut any_answered = false;
    let mut transferred = transfer.is_none();
    let mut idle_since: Option<Instant> = None;
    let mut last_reason = None;
    let outcome = loop {
        if stop.load(Ordering::Relaxed) {
            break Err(Failure::new(1, "interrupted"));
        }
        let ev = rt.next_event(Duration::from_millis(50))?;
        match ev {
            Some(RuntimeEvent::Phone(e)) => match e {
                Event::Calling(h) => {
                    say!(quiet, "calling {}", h.slot);
                    first.get_or_insert(h);
                    calls.push(OwnCall::new(h));
                    idle_since = None;
                }
                Event::Answered(h) => {
                    say!(quiet, "answered {}", h.slot);
                    any_answered = true;
                    if let Some(c) = calls.iter_mut().find(|c| c.handle == h) {
                        c.answered_at = Some(Instant::now());
                    }
                }
                Event::Ended { call: h, reason } => {
                    say!(quiet, "ended {} {reason:?}", h.slot);
                    calls.retain(|c| c.handle != h);
                    if calls.is_empty() {
                        idle_since = Some(Instant::now());
                        last_reason = Some(reason);
                    }
                }
                Event::CommandFailed(err) if first.is_none() => {
                    break Err(Failure::new(
                        1,
                        format!("cannot call {}: {err:?}", args.uri),
                    ));
                }
                other => print_event(&other, quiet),
            },
            Some(RuntimeEvent::DtmfReceived { call: h, digit }) => {
                say!(quiet, "dtmf {} {digit}", h.slot)
            }
            _ => {}
        }
        if first.is_none() {
            if dialled.elapsed() > Duration::from_secs(5) {
                break Err(Failure::new(
                    1,
                    format!("the call to {} did not start", args.uri),
                ));
            }
            continue;
        }
        if let Some(t) = idle_since {
            // A transferor hangs up after its REFER; the transfer's call
            // follows within the settle time.
            let follow = matches!(
                last_reason,
                Some(handset_core::phone::EndReason::RemoteHangup)
            ) && any_answered;
            if !follow || t.elapsed() > Duration::from_millis(2500) {
                break if any_answered {
                    Ok(())
                } else {
                    Err(Failure::new(
                        1,
                        format!("call to {} failed: {:?}", args.uri, last_reason),
                    ))
                };
            }
        }
        let now = Instant::now();
        let mut commands = Vec::new();
        for c in calls.iter_mut() {
            let Some(t0) = c.answered_at else {
                if now.duration_since(c.started) > ring_timeout && !c.hung_up {
                    c.hung_up = true;
                    say!(quiet, "no-answer {}", c.handle.slot);
                    commands.push(Action::Hangup(c.handle));
                }
                continue;
            };
            if !c.dtmf_sent && t0.elapsed() >= Duration::from_secs(1) {
                c.dtmf_sent = true;
                if Some(c.handle) == first {
                    commands.push(Action::Dtmf(c.handle));
                }
            }
            if !transferred && Some(c.handle) == first {
                if let Some((_, after)) = &transfer {
                    if t0.elapsed() >= *after {
                        transferred = true;
                        commands.push(Action::Transfer(c.handle));
                    }
                }
            }
            if !c.hung_up && hangup_after.is_some_and(|d| t0.elapsed() >= d) {
                c.hung_up = true;
                commands.push(Action::Hangup(c.handle));
            }
        }
        for a in commands {
            match a {
                Action::Hangup(h) => rt.command(Command::Hangup(h)),
                Action::Dtmf(h) => {
                    for d in args.dtmf.as_deref().unwrap_or("").chars() {
                        rt.send_dtmf(h, d, handset_core::time::Duration::from_millis(160));
                    }
                }
                Action::Transfer(h) => {
                    if let Some((to, _)) = &transfer {
                        say!(quiet, "transferring {} {to}", h.slot);
                        rt.command(Command::Transfer { call: h, to });
                    }
                }
            }
        }
    };
    rt.shutdown(Duration::from_secs(5));
    outcome
}

/// A call `handset call` placed, and what is left to do with it.
struct OwnCall {
    handle: CallHandle,
    started: Instant,
    answered_at: Option<Instant>,
    hung_up: bool,
    dtmf_sent: bool,
}

impl OwnCall {
    fn new(handle: CallHandle) -> OwnCall {
        OwnCall {
            handle,
            started: Instant::now(),
            answered_at: None,
            hung_up: false,
            dtmf_sent: false,
        }
    }
}

enum Action {
    Hangup(CallHandle),
    Dtmf(CallHandle),
    Transfer(CallHandle),
}

/// Prints the events every command shows the same way.
pub fn print_event(e: &Event, quiet: bool) {
    match *e {
        Event::Ringing(h) => say!(quiet, "ringing {}", h.slot),
        Event::EarlyMedia(h) => say!(quiet, "early-media {}", h.slot),
        Event::Held { call, by_remote } => say!(
            quiet,
            "held {} {}",
            call.slot,
            if by_remote { "remote" } else { "local" }
        ),
        Event::Resumed(h) => say!(quiet, "resumed {}", h.slot),
        Event::TransferRequested { call } => say!(quiet, "transfer-requested {}", call.slot),
        Event::TransferProgress { call, status } => {
            say!(quiet, "transfer-progress {} {status}", call.slot)
        }
        Event::TransferSucceeded { call } => say!(quiet, "transfer-succeeded {}", call.slot),
        Event::TransferFailed { call, code } => {
            say!(quiet, "transfer-failed {} {code}", call.slot)
        }
        Event::Replaced { old, new } => say!(quiet, "replaced {} {}", old.slot, new.slot),
        Event::CommandFailed(err) => say!(quiet, "command-failed {err:?}"),
        Event::RegistrationFailed { code, .. } => say!(quiet, "registration-failed {code}"),
        ref other => log::info!("{other:?}"),
    }
}

/// `handset answer`.
pub fn answer(args: AnswerArgs) -> Result<(), Failure> {
    match args.common.capacity.unwrap_or(Capacity::Server) {
        Capacity::Desk => answer_with::<4, 64, 0, 64>(args),
        Capacity::Server => answer_with::<SERVER_CALLS, SERVER_TXNS, 0, SERVER_TXNS>(args),
        Capacity::Load => answer_with::<LOAD_CALLS, LOAD_TXNS, LOAD_COMPLETED, LOAD_BUFFERS>(args),
    }
}

fn answer_with<const C: usize, const T: usize, const D: usize, const B: usize>(
    args: AnswerArgs,
) -> Result<(), Failure> {
    let (plan, _) = args.audio.plan().map_err(|m| Failure::new(2, m))?;
    let hangup_after = args
        .hangup_after
        .map(|s| secs(s, "--hangup-after"))
        .transpose()?;
    let run_for = secs(args.duration, "--duration")?;
    let quiet = args.common.quiet;
    let (settings, mut rt) = start::<C, T, D, B>(&args.common, plan, None, |s| {
        s.transfer.policy = if args.accept_refer {
            TransferPolicy::AcceptAll
        } else {
            TransferPolicy::RefuseAll
        };
    })?;
    register_first(&mut rt, &settings, quiet)?;
    // An answering machine: every call rings (the command answers), and
    // answering one never puts the others on hold.
    let policy = handset_core::phone::Policy {
        call_waiting: true,
        hold_others_on_answer: false,
        ..handset_core::phone::Policy::default()
    };
    rt.command(Command::SetPolicy(&policy));
    let stop = interrupted();
    let started = Instant::now();
    // Without auto-answer, a line on stdin answers the oldest ringing call.
    let lines = if args.auto_answer {
        None
    } else {
        Some(crate::console::stdin_lines(rt.waker()))
    };
    let mut ringing: Vec<CallHandle> = Vec::new();
    let mut answered: Vec<(CallHandle, Instant)> = Vec::new();
    let mut ended = 0u64;
    while !stop.load(Ordering::Relaxed) {
        if !run_for.is_zero() && started.elapsed() >= run_for {
            break;
        }
        match rt.next_event(Duration::from_millis(100))? {
            Some(RuntimeEvent::Phone(e)) => match e {
                Event::IncomingCall(h) => {
                    say!(quiet, "incoming {}", h.slot);
                    if args.auto_answer {
                        rt.command(Command::Answer(h));
                    } else {
                        ringing.push(h);
                        say!(quiet, "press Enter to answer");
                    }
                }
                Event::Answered(h) => {
                    say!(quiet, "answered {}", h.slot);
                    answered.push((h, Instant::now()));
                }
                Event::Ended { call, reason } => {
                    ringing.retain(|c| *c != call);
                    answered.retain(|(c, _)| *c != call);
                    ended += 1;
                    say!(quiet, "ended {} {reason:?}", call.slot);
                    if args.calls > 0 && ended >= args.calls {
                        break;
                    }
                }
                other => print_event(&other, quiet),
            },
            Some(RuntimeEvent::DtmfReceived { call, digit }) => {
                say!(quiet, "dtmf {} {digit}", call.slot)
            }
            Some(RuntimeEvent::Woken) => {
                if let Some(rx) = &lines {
                    while rx.try_recv().is_ok() {
                        if !ringing.is_empty() {
                            let h = ringing.remove(0);
                            rt.command(Command::Answer(h));
                        }
                    }
                }
            }
            None => {}
        }
        if let Some(d) = hangup_after {
            let due: Vec<CallHandle> = answered
                .iter()
                .filter(|(_, t)| t.elapsed() >= d)
                .map(|(c, _)| *c)
                .collect();
            for c in due {
                answered.retain(|(x, _)| *x != c);
                rt.command(Command::Hangup(c));
            }
        }
    }
    rt.shutdown(Duration::from_secs(5));
    let s = rt.stats();
    let p = rt.phone_stats();
    println!(
        "done calls={ended} sip_in={} sip_out={} garbage={} malformed={} refused_full={}",
        s.sip_received, s.sip_sent, s.sip_garbage, p.malformed, p.refused_full
    );
    Ok(())
}
