//! The phone harness: a whole [`Phone`] driven by an arbitrary sequence of
//! steps (datagrams built from what the phone sent and from the corpus,
//! damaged by [`Edit`]s; raw bytes; user commands with any handle; time
//! steps), with its invariants checked after every step.
//!
//! The peer the harness plays answers the phone's requests, ACKs its
//! responses and sends requests inside its dialogs, so the steps reach deep
//! call states instead of bouncing off the parser.

use std::collections::VecDeque;
use std::net::SocketAddr;

use arbitrary::{Arbitrary, Unstructured};
use handset_core::media::MediaInput;
use handset_core::phone::{CallHandle, Command, Config, Event, Input, Output, Phone};
use handset_core::time::{Duration, Instant};

use super::message::{tag_of, with_tag, without_tag, Draft, Edit, Sent};

/// The phone under test: two call slots and eight transactions, so full
/// tables are reached quickly.
pub type FuzzPhone = Phone<2, 8>;

/// Where the phone's SIP socket is.
pub const PHONE: &str = "192.0.2.1:5060";
/// The peer the harness plays: outbound proxy, registrar and far end.
pub const PEER: &str = "192.0.2.9:5060";
/// Outputs one input may cause before the harness calls it a storm.
const MAX_OUTPUTS_PER_STEP: usize = 4096;
/// Steps one run takes at most.
pub const MAX_STEPS: usize = 64;
/// The tag of the peer's side of every dialog.
const PEER_TAG: &str = "peer7";

/// The corpus messages the `Template` step sends, damaged.
const TEMPLATES: &[&[u8]] = &[
    include_bytes!("../../corpus/rfc3665/3.1-F1-INVITE.sip"),
    include_bytes!("../../corpus/rfc3665/3.1-F4-ACK.sip"),
    include_bytes!("../../corpus/rfc3665/3.1-F5-BYE.sip"),
    include_bytes!("../../corpus/rfc3665/3.2-F7-INVITE.sip"),
    include_bytes!("../../corpus/rfc3665/3.8-F9-CANCEL.sip"),
    include_bytes!("../../corpus/rfc3665/3.9-F1-INVITE.sip"),
    include_bytes!("../../corpus/rfc3665/2.1-F2-401.sip"),
    include_bytes!("../../corpus/rfc3665/3.1-F3-200.sip"),
    include_bytes!("../../corpus/rfc4475/valid/intmeth.dat"),
    include_bytes!("../../corpus/rfc4475/valid/esc01.dat"),
    include_bytes!("../../corpus/rfc4475/valid/dblreq.dat"),
    include_bytes!("../../corpus/rfc4475/other/zeromf.dat"),
    include_bytes!("../../corpus/rfc4475/other/sdp01.dat"),
    include_bytes!("../../corpus/rfc4475/invalid/badvers.dat"),
];

/// A user command with an arbitrary handle.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Cmd {
    /// Dial one of a few targets (some unroutable or malformed).
    Dial(u8),
    /// Answer.
    Answer(HandlePick),
    /// Reject with any code.
    Reject(HandlePick, u16),
    /// Hang up.
    Hangup(HandlePick),
    /// Hold.
    Hold(HandlePick),
    /// Resume.
    Resume(HandlePick),
    /// Register.
    Register,
    /// Unregister.
    Unregister,
}

/// A call handle: one the phone announced, or any slot and generation.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum HandlePick {
    /// The n-th handle the phone announced (modulo their count).
    Known(u8),
    /// Any handle.
    Any(u8, u16),
}

/// Which tags an in-dialog message carries.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum TagPick {
    /// Both right.
    Right,
    /// The phone's tag is wrong.
    WrongLocal,
    /// The peer's tag is wrong.
    WrongRemote,
    /// The phone's tag is missing.
    NoLocal,
}

/// The body a message carries.
#[derive(Arbitrary, Clone, Debug)]
pub enum SdpPick {
    /// None.
    None,
    /// An audio offer or answer (PCMU, PCMA, telephone-event).
    Audio,
    /// `a=sendonly`: the peer holds.
    SendOnly,
    /// `a=inactive`.
    Inactive,
    /// An RFC 2543 hold (`c=IN IP4 0.0.0.0`).
    NullAddress,
    /// Only a codec the phone lacks.
    NoCommonCodec,
    /// Video only.
    VideoOnly,
    /// Any bytes.
    Bytes(Vec<u8>),
}

/// A header the peer adds to a request.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Extra {
    /// Nothing.
    None,
    /// `Max-Forwards: 0` (RFC 4475 §3.3.11: still processed by a UA).
    MaxForwardsZero,
    /// `Replaces` naming the dialog of the n-th message the phone sent.
    Replaces(u8),
    /// `Replaces` naming a dialog that does not exist.
    ReplacesUnknown,
    /// `Require` of an extension the phone lacks.
    RequireUnknown,
    /// `Refer-To` a third party (with `Replaces` when true).
    ReferTo(bool),
    /// `Event: refer` and `Subscription-State` with a sipfrag body.
    NotifyRefer,
    /// `Expires: 0`.
    ExpiresZero,
}

/// A method for a peer's request.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum MethodPick {
    /// INVITE.
    Invite,
    /// ACK.
    Ack,
    /// BYE.
    Bye,
    /// CANCEL.
    Cancel,
    /// OPTIONS.
    Options,
    /// INFO.
    Info,
    /// UPDATE.
    Update,
    /// REFER.
    Refer,
    /// NOTIFY.
    Notify,
    /// SUBSCRIBE.
    Subscribe,
    /// PRACK.
    Prack,
    /// MESSAGE.
    Message,
    /// REGISTER.
    Register,
    /// A method nobody knows.
    Unknown,
}

impl MethodPick {
    fn name(self) -> &'static str {
        match self {
            MethodPick::Invite => "INVITE",
            MethodPick::Ack => "ACK",
            MethodPick::Bye => "BYE",
            MethodPick::Cancel => "CANCEL",
            MethodPick::Options => "OPTIONS",
            MethodPick::Info => "INFO",
            MethodPick::Update => "UPDATE",
            MethodPick::Refer => "REFER",
            MethodPick::Notify => "NOTIFY",
            MethodPick::Subscribe => "SUBSCRIBE",
            MethodPick::Prack => "PRACK",
            MethodPick::Message => "MESSAGE",
            MethodPick::Register => "REGISTER",
            MethodPick::Unknown => "FROBNICATE",
        }
    }
}

/// A CSeq number for a peer's in-dialog request.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum CseqPick {
    /// One above the peer's last.
    Next,
    /// The peer's last again.
    Same,
    /// Lower than any before.
    Low,
    /// Any number.
    Any(u32),
}

/// The damage done to a built message: none three times in four, so
/// that most messages reach the call states behind the parser.
#[derive(Clone, Debug, Default)]
pub struct Damage(pub Vec<Edit>);

impl<'a> Arbitrary<'a> for Damage {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        if u8::arbitrary(u)? < 192 {
            Ok(Damage(Vec::new()))
        } else {
            Ok(Damage(u.arbitrary()?))
        }
    }
}

/// A status code for a reply.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum CodePick {
    /// One of the codes a phone meets every day (modulo their count).
    Common(u8),
    /// Any number at all.
    Any(u16),
}

/// Something for a call's media stream.
#[derive(Arbitrary, Clone, Debug)]
pub enum MediaPick {
    /// Tick.
    Tick,
    /// Hold.
    Hold,
    /// Resume.
    Resume,
    /// A DTMF digit of some length.
    Dtmf(u8, u16),
    /// An RTP packet arrived.
    Rtp(u16, u32, u32),
    /// An RTCP datagram arrived.
    Rtcp(Vec<u8>),
    /// Stop.
    Stop,
}

/// One step of a run.
#[derive(Arbitrary, Clone, Debug)]
pub enum Step {
    /// A new INVITE from the peer, Call-ID from a pool of four.
    Invite {
        /// Call-ID pool index.
        call: u8,
        /// Body.
        sdp: SdpPick,
        /// Added header.
        extra: Extra,
        /// Damage.
        edits: Damage,
    },
    /// A new out-of-dialog request of another method.
    Request {
        /// Method.
        method: MethodPick,
        /// Call-ID pool index.
        call: u8,
        /// Added header.
        extra: Extra,
        /// Damage.
        edits: Damage,
    },
    /// A response to the n-th latest request the phone sent.
    Reply {
        /// Which request.
        to: u8,
        /// Status code.
        code: CodePick,
        /// Whether the To gets the peer's tag (else a fork's fresh tag).
        tag: bool,
        /// Body.
        sdp: SdpPick,
        /// Damage.
        edits: Damage,
    },
    /// An ACK for the n-th latest response the phone sent to an INVITE.
    Ack {
        /// Which response.
        to: u8,
        /// Tags.
        tag: TagPick,
        /// Body (a late offer's answer).
        sdp: SdpPick,
        /// Damage.
        edits: Damage,
    },
    /// A request inside the dialog of the n-th latest message the phone sent.
    InDialog {
        /// Which message.
        of: u8,
        /// Method.
        method: MethodPick,
        /// Tags.
        tag: TagPick,
        /// CSeq.
        cseq: CseqPick,
        /// Body.
        sdp: SdpPick,
        /// Added header.
        extra: Extra,
        /// Damage.
        edits: Damage,
    },
    /// The n-th latest datagram fed again (a retransmission).
    Repeat(u8),
    /// A corpus message, damaged.
    Template {
        /// Which.
        which: u8,
        /// Damage.
        edits: Damage,
    },
    /// Any bytes.
    Raw(Vec<u8>),
    /// A user command.
    Command(Cmd),
    /// Time passes (milliseconds).
    Wait(u16),
    /// Time passes up to the phone's next timer.
    WaitForTimer,
    /// Time passes (seconds).
    WaitLong(u8),
    /// A media input.
    Media(HandlePick, MediaPick),
}

/// A run: settings, then the steps.
#[derive(Arbitrary, Clone, Debug)]
pub struct Script {
    /// The phone's seed.
    pub seed: u64,
    /// Whether the phone has a registrar (the peer).
    pub registrar: bool,
    /// Whether the registrar wants a password.
    pub password: bool,
    /// The steps.
    pub steps: Vec<Step>,
}

/// What a run saw, for property tests that want coverage figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Steps run.
    pub steps: usize,
    /// Datagrams the phone sent.
    pub transmitted: usize,
    /// Calls that reached the established state.
    pub answered: usize,
    /// Calls that rang.
    pub incoming: usize,
}

/// Runs the script read from `data` (libFuzzer's input).
///
/// The settings come first, then steps one after another until the bytes
/// run out, so every byte of the input shapes the run.
pub fn run(data: &[u8]) -> Summary {
    run_script(&script_of(data))
}

/// Reads a script from `data`: settings first, then steps until the bytes
/// run out or [`MAX_STEPS`] are read.
pub fn script_of(data: &[u8]) -> Script {
    let mut u = Unstructured::new(data);
    let mut script = Script {
        seed: u.arbitrary().unwrap_or(0),
        registrar: u.arbitrary().unwrap_or(false),
        password: u.arbitrary().unwrap_or(false),
        steps: Vec::new(),
    };
    while !u.is_empty() && script.steps.len() < MAX_STEPS {
        match Step::arbitrary(&mut u) {
            Ok(step) => script.steps.push(step),
            Err(_) => break,
        }
    }
    script
}

/// Runs `script`, checking the invariants after every step and the
/// clean-up at the end.
///
/// # Panics
/// When an invariant breaks: that is the finding.
pub fn run_script(script: &Script) -> Summary {
    let mut h = Driver::new(script);
    for step in script.steps.iter().take(MAX_STEPS) {
        if h.trace {
            eprintln!("--- {:?} step {step:?}", h.now);
        }
        h.step(step);
        h.summary.steps += 1;
    }
    h.finish();
    h.summary
}

/// The phone with the harness's peer around it: feeds steps, drains
/// outputs, checks invariants. Tests drive it step by step and read what
/// the phone sent.
pub struct Driver {
    phone: FuzzPhone,
    now: Instant,
    peer: SocketAddr,
    phone_addr: SocketAddr,
    /// The phone's latest requests and responses, newest first.
    requests: VecDeque<Vec<u8>>,
    responses: VecDeque<Vec<u8>>,
    /// Datagrams fed, newest first (for retransmissions).
    fed: VecDeque<Vec<u8>>,
    handles: Vec<CallHandle>,
    peer_cseq: u32,
    branch: u32,
    summary: Summary,
    /// Every datagram the phone sent, in order (kept only when asked for).
    log: Option<Vec<Vec<u8>>>,
    /// Every event, in order (kept only when asked for).
    events: Option<Vec<Event>>,
    /// `HANDSET_FUZZ_TRACE` set: print every step, datagram and event.
    trace: bool,
}

impl Driver {
    /// A driver whose phone has the script's settings (its steps are not
    /// run).
    pub fn new(script: &Script) -> Driver {
        let phone_addr: SocketAddr = PHONE.parse().expect("constant address");
        let peer: SocketAddr = PEER.parse().expect("constant address");
        let mut config = Config::new("alice", "example.com", phone_addr).expect("short names");
        config.outbound_proxy = Some(peer);
        if script.registrar {
            config.registrar = Some(peer);
            if script.password {
                config.register.password = handset_core::ua::text("secret").expect("short");
                config.register.auth_user = handset_core::ua::text("alice").expect("short");
            }
        }
        Driver {
            phone: Phone::new(config, script.seed),
            now: Instant::ZERO,
            peer,
            phone_addr,
            requests: VecDeque::new(),
            responses: VecDeque::new(),
            fed: VecDeque::new(),
            handles: Vec::new(),
            peer_cseq: 1000,
            branch: 0,
            summary: Summary::default(),
            log: None,
            events: None,
            trace: std::env::var_os("HANDSET_FUZZ_TRACE").is_some(),
        }
    }

    /// A driver that keeps every datagram and event for the test to read.
    pub fn recording(script: &Script) -> Driver {
        let mut d = Driver::new(script);
        d.log = Some(Vec::new());
        d.events = Some(Vec::new());
        d
    }

    /// The phone.
    pub fn phone(&self) -> &FuzzPhone {
        &self.phone
    }

    /// The current time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Every datagram the phone sent so far (recording drivers only).
    pub fn sent(&self) -> &[Vec<u8>] {
        self.log.as_deref().unwrap_or(&[])
    }

    /// Every event so far (recording drivers only).
    pub fn events(&self) -> &[Event] {
        self.events.as_deref().unwrap_or(&[])
    }

    /// Feeds a datagram from the peer.
    pub fn send(&mut self, data: &[u8]) {
        self.feed(data.to_vec());
    }

    /// Runs one step, checking the invariants.
    pub fn step(&mut self, step: &Step) {
        match step {
            Step::Invite {
                call,
                sdp,
                extra,
                edits,
            } => {
                let d = self.new_request(MethodPick::Invite, *call, sdp, *extra);
                self.feed(d.render(&edits.0));
            }
            Step::Request {
                method,
                call,
                extra,
                edits,
            } => {
                let d = self.new_request(*method, *call, &SdpPick::None, *extra);
                self.feed(d.render(&edits.0));
            }
            Step::Reply {
                to,
                code,
                tag,
                sdp,
                edits,
            } => {
                if let Some(d) = self.reply(*to, *code, *tag, sdp) {
                    self.feed(d.render(&edits.0));
                }
            }
            Step::Ack {
                to,
                tag,
                sdp,
                edits,
            } => {
                if let Some(d) = self.ack(*to, *tag, sdp) {
                    self.feed(d.render(&edits.0));
                }
            }
            Step::InDialog {
                of,
                method,
                tag,
                cseq,
                sdp,
                extra,
                edits,
            } => {
                if let Some(d) = self.in_dialog(*of, *method, *tag, *cseq, sdp, *extra) {
                    self.feed(d.render(&edits.0));
                }
            }
            Step::Repeat(n) => {
                if let Some(d) = pick(&self.fed, *n).cloned() {
                    self.feed(d);
                }
            }
            Step::Template { which, edits } => {
                let t = TEMPLATES[usize::from(*which) % TEMPLATES.len()];
                self.feed(Draft::parse(t).render(&edits.0));
            }
            Step::Raw(bytes) => self.feed(bytes.clone()),
            Step::Command(c) => self.command(*c),
            Step::Wait(ms) => self.advance(Duration::from_millis(u64::from(*ms))),
            Step::WaitLong(s) => self.advance(Duration::from_secs(u64::from(*s))),
            Step::WaitForTimer => {
                if let Some(t) = self.phone.poll_timeout() {
                    self.now = self.now.max(t);
                    self.input(Input::Tick);
                }
            }
            Step::Media(h, m) => {
                let call = self.handle(*h);
                let arrival = self.now;
                let input = match m {
                    MediaPick::Tick => MediaInput::Tick,
                    MediaPick::Hold => MediaInput::Hold,
                    MediaPick::Resume => MediaInput::Resume,
                    MediaPick::Dtmf(d, ms) => MediaInput::SendDtmf {
                        digit: char::from(*d),
                        duration: Duration::from_millis(u64::from(*ms)),
                    },
                    MediaPick::Rtp(seq, timestamp, ssrc) => MediaInput::RtpReceived {
                        seq: *seq,
                        timestamp: *timestamp,
                        ssrc: *ssrc,
                        arrival,
                    },
                    MediaPick::Rtcp(data) => {
                        let data = data.clone();
                        self.input(Input::Media {
                            call,
                            input: MediaInput::RtcpReceived {
                                data: &data,
                                arrival,
                            },
                        });
                        return;
                    }
                    MediaPick::Stop => MediaInput::Stop,
                };
                self.input(Input::Media { call, input });
            }
        }
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.input(Input::Tick);
    }

    fn handle(&self, pick: HandlePick) -> CallHandle {
        match pick {
            HandlePick::Known(i) if !self.handles.is_empty() => {
                // Newest first: `Known(0)` is the call announced last.
                let n = self.handles.len();
                self.handles[n - 1 - usize::from(i) % n]
            }
            HandlePick::Known(i) => CallHandle {
                slot: u16::from(i),
                generation: 0,
            },
            HandlePick::Any(slot, generation) => CallHandle {
                slot: u16::from(slot),
                generation,
            },
        }
    }

    fn command(&mut self, c: Cmd) {
        const TARGETS: [&str; 6] = [
            "sip:bob@example.com",
            "sip:bob@192.0.2.9",
            "sip:carol@192.0.2.10:5070",
            "sip:alice@192.0.2.1",
            "bob",
            "sip:",
        ];
        let command = match c {
            Cmd::Dial(i) => Command::Dial {
                to: TARGETS[usize::from(i) % TARGETS.len()],
            },
            Cmd::Answer(h) => Command::Answer(self.handle(h)),
            Cmd::Reject(h, code) => Command::Reject {
                call: self.handle(h),
                code,
            },
            Cmd::Hangup(h) => Command::Hangup(self.handle(h)),
            Cmd::Hold(h) => Command::Hold(self.handle(h)),
            Cmd::Resume(h) => Command::Resume(self.handle(h)),
            Cmd::Register => Command::Register,
            Cmd::Unregister => Command::Unregister,
        };
        self.input(Input::Command(command));
    }

    fn feed(&mut self, data: Vec<u8>) {
        if self.trace {
            eprintln!(">>> in:\n{}", String::from_utf8_lossy(&data));
        }
        self.input(Input::Datagram {
            from: self.peer,
            to: self.phone_addr,
            data: &data,
        });
        self.fed.push_front(data);
        self.fed.truncate(8);
    }

    /// Feeds one input, drains every output and checks the invariants.
    fn input(&mut self, input: Input<'_>) {
        let result = self.phone.handle_input(self.now, input);
        assert_ne!(
            result,
            Err(handset_core::phone::InputError::TimeWentBackwards),
            "the harness never goes back in time"
        );
        self.drain();
        self.check();
    }

    fn drain(&mut self) {
        let mut count = 0;
        while let Some(out) = self.phone.poll_output() {
            count += 1;
            assert!(
                count <= MAX_OUTPUTS_PER_STEP,
                "one input caused more than {MAX_OUTPUTS_PER_STEP} outputs"
            );
            match out {
                Output::Transmit { data, .. } => {
                    if self.trace {
                        eprintln!("<<< out:\n{}", String::from_utf8_lossy(data));
                    }
                    self.summary.transmitted += 1;
                    let data = data.to_vec();
                    if let Some(log) = self.log.as_mut() {
                        log.push(data.clone());
                    }
                    let is_response = data.starts_with(b"SIP/2.0 ");
                    let ring = if is_response {
                        &mut self.responses
                    } else {
                        &mut self.requests
                    };
                    ring.push_front(data);
                    ring.truncate(8);
                }
                Output::Event(e) => {
                    if self.trace {
                        eprintln!("*** {e:?}");
                    }
                    self.on_event(e);
                }
                Output::Media { .. } => {}
            }
        }
    }

    fn on_event(&mut self, e: Event) {
        if let Some(events) = self.events.as_mut() {
            events.push(e);
        }
        match e {
            Event::IncomingCall(h) | Event::Calling(h) => {
                if matches!(e, Event::IncomingCall(_)) {
                    self.summary.incoming += 1;
                }
                self.handles.push(h);
                if self.handles.len() > 8 {
                    self.handles.remove(0);
                }
            }
            Event::Answered(_) => self.summary.answered += 1,
            _ => {}
        }
    }

    fn check(&self) {
        if let Some(t) = self.phone.poll_timeout() {
            assert!(
                t >= self.now,
                "poll_timeout {t:?} lies before now {:?} after draining",
                self.now
            );
        }
        assert!(
            self.phone.transactions_in_use() <= 8,
            "transaction table overflow"
        );
        assert!(self.phone.dialogs_in_use() <= 2, "dialog table overflow");
        assert!(self.phone.live_calls().count() <= 2, "call table overflow");
    }

    /// Ends every call, lets every timer run out, and checks that every
    /// slot is free.
    pub fn finish(&mut self) {
        if self.trace {
            eprintln!("--- {:?} finish", self.now);
        }
        self.input(Input::Command(Command::Unregister));
        for _ in 0..4 {
            let live: Vec<CallHandle> = self.phone.live_calls().collect();
            for h in live {
                self.input(Input::Command(Command::Hangup(h)));
            }
            // Timers run out: every transaction ends within 64·T1 plus
            // Timer K/D (32 s); five minutes covers every chain of them.
            let deadline = self.now + Duration::from_secs(300);
            let mut ticks = 0;
            while let Some(t) = self.phone.poll_timeout() {
                if t > deadline {
                    break;
                }
                ticks += 1;
                assert!(ticks < 100_000, "timers keep firing without end");
                self.now = self.now.max(t);
                self.input(Input::Tick);
            }
            self.now = deadline;
            self.input(Input::Tick);
        }
        assert_eq!(
            self.phone.live_calls().count(),
            0,
            "calls outlive hang-up and every timer: {:?}",
            self.phone
                .live_calls()
                .map(|h| (h, self.phone.call_state(h)))
                .collect::<Vec<_>>()
        );
        assert_eq!(self.phone.dialogs_in_use(), 0, "dialog slots leak");
        assert_eq!(
            self.phone.transactions_in_use(),
            0,
            "transaction slots leak"
        );
    }

    fn next_branch(&mut self) -> String {
        self.branch += 1;
        format!("SIP/2.0/UDP {};branch=z9hG4bKfz{}", self.peer, self.branch)
    }

    fn new_request(&mut self, method: MethodPick, call: u8, sdp: &SdpPick, extra: Extra) -> Draft {
        let name = method.name();
        let mut d = Draft::new(format!("{name} sip:alice@{} SIP/2.0", self.phone_addr));
        let via = self.next_branch();
        self.peer_cseq += 1;
        d.header("Via", via)
            .header("Max-Forwards", "70")
            .header(
                "From",
                format!("\"Bob\" <sip:bob@example.com>;tag={PEER_TAG}{}", call % 4),
            )
            .header("To", "<sip:alice@example.com>")
            .header("Call-ID", format!("fuzzcall{}@192.0.2.9", call % 4))
            .header("CSeq", format!("{} {name}", self.peer_cseq))
            .header("Contact", format!("<sip:bob@{}>", self.peer));
        self.add_extra(&mut d, extra);
        add_sdp(&mut d, sdp);
        d
    }

    fn reply(&mut self, to: u8, code: CodePick, tag: bool, sdp: &SdpPick) -> Option<Draft> {
        const CODES: [u16; 20] = [
            100, 180, 183, 200, 202, 401, 407, 408, 423, 481, 486, 487, 488, 491, 500, 503, 603,
            302, 199, 699,
        ];
        let req = Sent::read(pick(&self.requests, to)?)?;
        let code = match code {
            CodePick::Common(i) => CODES[usize::from(i) % CODES.len()],
            CodePick::Any(c) => c,
        };
        let method = req.method().to_string();
        let mut d = Draft::new(format!("SIP/2.0 {code} Whatever"));
        for v in req.all("Via") {
            d.header("Via", v);
        }
        let to_value = req.get("To").unwrap_or("");
        let to_value = if code == 100 || tag_of(to_value).is_some() {
            to_value.to_string()
        } else if tag {
            with_tag(to_value, PEER_TAG)
        } else {
            with_tag(to_value, "fork2")
        };
        d.header("From", req.get("From").unwrap_or(""))
            .header("To", to_value)
            .header("Call-ID", req.get("Call-ID").unwrap_or(""))
            .header("CSeq", req.get("CSeq").unwrap_or(""));
        if code > 100 && code < 300 {
            d.header("Contact", format!("<sip:bob@{}>", self.peer));
        }
        match code {
            401 => {
                d.header(
                    "WWW-Authenticate",
                    format!(
                        "Digest realm=\"example.com\", nonce=\"n{}\", qop=\"auth\", algorithm=MD5{}",
                        self.branch,
                        if self.branch.is_multiple_of(3) { ", stale=true" } else { "" }
                    ),
                );
            }
            407 => {
                d.header(
                    "Proxy-Authenticate",
                    "Digest realm=\"example.com\", nonce=\"p1\", algorithm=MD5",
                );
            }
            423 => {
                d.header("Min-Expires", "7200");
            }
            486 | 503 => {
                d.header("Retry-After", "5");
            }
            302 => {
                d.header("Contact", "<sip:carol@192.0.2.10>");
            }
            _ => {}
        }
        if method == "REGISTER" && code == 200 {
            if let Some(c) = req.get("Contact") {
                d.header("Contact", format!("{c};expires=60"));
            }
        }
        // Bodies belong to 183/2xx answers; any bytes go anywhere.
        let answers = method == "INVITE" && (code == 183 || (200..300).contains(&code));
        if answers || matches!(sdp, SdpPick::Bytes(_)) {
            add_sdp(&mut d, sdp);
        }
        Some(d)
    }

    fn ack(&mut self, to: u8, tag: TagPick, sdp: &SdpPick) -> Option<Draft> {
        // Only final responses to INVITEs want an ACK.
        let finals: VecDeque<Sent> = self
            .responses
            .iter()
            .filter_map(|r| Sent::read(r))
            .filter(|r| r.method() == "INVITE" && r.status().is_some_and(|c| c >= 200))
            .collect();
        let resp = pick(&finals, to)?.clone();
        let code = resp.status()?;
        let via = if (200..300).contains(&code) {
            self.next_branch()
        } else {
            resp.get("Via")?.to_string()
        };
        let mut d = Draft::new(format!("ACK sip:alice@{} SIP/2.0", self.phone_addr));
        d.header("Via", via)
            .header("Max-Forwards", "70")
            .header("From", retag(resp.get("From")?, tag, false))
            .header("To", retag(resp.get("To")?, tag, true))
            .header("Call-ID", resp.get("Call-ID")?)
            .header("CSeq", format!("{} ACK", resp.cseq()));
        add_sdp(&mut d, sdp);
        Some(d)
    }

    fn in_dialog(
        &mut self,
        of: u8,
        method: MethodPick,
        tag: TagPick,
        cseq: CseqPick,
        sdp: &SdpPick,
        extra: Extra,
    ) -> Option<Draft> {
        let all: Vec<&Vec<u8>> = self.requests.iter().chain(self.responses.iter()).collect();
        if all.is_empty() {
            return None;
        }
        let sent = Sent::read(all[usize::from(of) % all.len()])?;
        // The phone's side and the peer's side of the dialog.
        let (local, remote) = if sent.is_response() {
            (sent.get("To")?.to_string(), sent.get("From")?.to_string())
        } else {
            let to = sent.get("To")?;
            let remote = if tag_of(to).is_some() {
                to.to_string()
            } else {
                with_tag(to, PEER_TAG)
            };
            (sent.get("From")?.to_string(), remote)
        };
        let name = method.name();
        let target = sent
            .contact_uri()
            .filter(|_| !sent.is_response() || sent.status().is_some_and(|c| c < 300))
            .map(str::to_string)
            .unwrap_or_else(|| format!("sip:alice@{}", self.phone_addr));
        let mut d = Draft::new(format!("{name} {target} SIP/2.0"));
        let number = match method {
            MethodPick::Cancel | MethodPick::Ack => sent.cseq(),
            _ => match cseq {
                CseqPick::Next => {
                    self.peer_cseq += 1;
                    self.peer_cseq
                }
                CseqPick::Same => self.peer_cseq,
                CseqPick::Low => 1,
                CseqPick::Any(n) => n,
            },
        };
        let via = match method {
            // CANCEL and a non-2xx ACK share the INVITE's branch (§9.1).
            MethodPick::Cancel if sent.is_response() => sent.get("Via")?.to_string(),
            _ => self.next_branch(),
        };
        let to = match method {
            MethodPick::Cancel => without_tag(&local),
            _ => retag(&local, tag, true),
        };
        d.header("Via", via)
            .header("Max-Forwards", "70")
            .header("From", retag(&remote, tag, false))
            .header("To", to)
            .header("Call-ID", sent.get("Call-ID")?)
            .header("CSeq", format!("{number} {name}"))
            .header("Contact", format!("<sip:bob@{}>", self.peer));
        self.add_extra(&mut d, extra);
        add_sdp(&mut d, sdp);
        Some(d)
    }

    fn add_extra(&self, d: &mut Draft, extra: Extra) {
        match extra {
            Extra::None => {}
            Extra::MaxForwardsZero => {
                d.headers.retain(|h| !h.starts_with(b"Max-Forwards"));
                d.header("Max-Forwards", "0");
            }
            Extra::Replaces(n) => {
                let all: Vec<&Vec<u8>> =
                    self.requests.iter().chain(self.responses.iter()).collect();
                if let Some(s) = all
                    .get(usize::from(n) % all.len().max(1))
                    .and_then(|m| Sent::read(m))
                {
                    let call_id = s.get("Call-ID").unwrap_or("");
                    let from = s.get("From").and_then(tag_of).unwrap_or("");
                    let to = s.get("To").and_then(tag_of).unwrap_or(PEER_TAG);
                    d.header("Replaces", format!("{call_id};to-tag={to};from-tag={from}"));
                }
            }
            Extra::ReplacesUnknown => {
                d.header("Replaces", "nosuch@x;to-tag=a;from-tag=b");
            }
            Extra::RequireUnknown => {
                d.header("Require", "frobnication");
            }
            Extra::ReferTo(replaces) => {
                let target = if replaces {
                    "<sip:carol@192.0.2.10?Replaces=c3%40x%3Bto-tag%3Da%3Bfrom-tag%3Db>"
                } else {
                    "<sip:carol@192.0.2.10>"
                };
                d.header("Refer-To", target)
                    .header("Referred-By", "<sip:bob@example.com>");
            }
            Extra::NotifyRefer => {
                d.header("Event", "refer")
                    .header("Subscription-State", "active;expires=60")
                    .body("message/sipfrag;version=2.0", b"SIP/2.0 180 Ringing\r\n");
            }
            Extra::ExpiresZero => {
                d.header("Expires", "0");
            }
        }
    }
}

/// The n-th item (modulo the count), newest first.
fn pick<T>(items: &VecDeque<T>, n: u8) -> Option<&T> {
    if items.is_empty() {
        None
    } else {
        items.get(usize::from(n) % items.len())
    }
}

/// `value` (a From/To) with its tag as `tag` says; `local` tells whether
/// it is the phone's side.
fn retag(value: &str, tag: TagPick, local: bool) -> String {
    match (tag, local) {
        (TagPick::WrongLocal, true) => with_tag(value, "wrongtag"),
        (TagPick::NoLocal, true) => without_tag(value),
        (TagPick::WrongRemote, false) => with_tag(value, "strangertag"),
        _ => value.to_string(),
    }
}

/// Adds the body `sdp` stands for.
fn add_sdp(d: &mut Draft, sdp: &SdpPick) {
    let audio = |dir: &str, addr: &str, pts: &str, maps: &str| {
        format!(
            "v=0\r\no=bob 1 1 IN IP4 {addr}\r\ns=-\r\nc=IN IP4 {addr}\r\nt=0 0\r\n\
             m=audio 40000 RTP/AVP {pts}\r\n{maps}a={dir}\r\n"
        )
    };
    let maps =
        "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n";
    let body = match sdp {
        SdpPick::None => return,
        SdpPick::Audio => audio("sendrecv", "192.0.2.9", "0 8 101", maps),
        SdpPick::SendOnly => audio("sendonly", "192.0.2.9", "0 8 101", maps),
        SdpPick::Inactive => audio("inactive", "192.0.2.9", "0 8 101", maps),
        SdpPick::NullAddress => audio("sendrecv", "0.0.0.0", "0 8 101", maps),
        SdpPick::NoCommonCodec => audio("sendrecv", "192.0.2.9", "18", "a=rtpmap:18 G729/8000\r\n"),
        SdpPick::VideoOnly => "v=0\r\no=bob 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\n\
             t=0 0\r\nm=video 40002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
            .to_string(),
        SdpPick::Bytes(b) => {
            d.body("application/sdp", b);
            return;
        }
    };
    d.body("application/sdp", body.as_bytes());
}
