//! The socket loop around the core's [`Phone`]: it sleeps until the
//! phone's next timeout or a packet (one `mio` poll over the SIP socket,
//! every call's RTP and RTCP sockets and a waker), feeds what arrived, and
//! carries out every output: datagrams onto the SIP transport, media
//! outputs onto the call's [`CallMedia`], events into a queue the
//! application reads with [`Runtime::next_event`].
//!
//! The run-loop contract of the core is kept: after every input the
//! outputs are drained before anything else happens.

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use bytes::BytesMut;
use handset_core::media::{DtmfPayload, MediaInput, MediaOutput};
use handset_core::phone::{
    CallHandle, Command, Config, Event, Input, InputError, Output, Phone, Stats,
};
use handset_core::time::{Duration, Instant};
use mio::net::{TcpListener, TcpStream, UdpSocket};
use mio::{Events, Interest, Poll, Registry, Token, Waker};

use crate::config::{Settings, SettingsError};
use crate::rtp_session::{rtp_input, CallMedia, MediaArrival, SourceSpec, StreamSetup};
use crate::transport::{take_frame, Frame, Transport, MAX_DATAGRAM, MAX_STREAM_MESSAGE};

const SIP: Token = Token(0);
const WAKER: Token = Token(1);
/// TCP connections take tokens from here up.
const TCP_BASE: usize = 16;
/// Call slot `n` has its RTP socket at `MEDIA_BASE + 2n`, RTCP one above.
const MEDIA_BASE: usize = 1 << 30;

/// The core's clock: microseconds since the runtime started.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: std::time::Instant,
}

impl Clock {
    /// A clock starting now.
    pub fn new() -> Clock {
        Clock {
            start: std::time::Instant::now(),
        }
    }

    /// The current instant.
    pub fn now(&self) -> Instant {
        let us = self.start.elapsed().as_micros();
        Instant::from_micros(u64::try_from(us).unwrap_or(u64::MAX))
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

/// 64 random bits from the operating system, for the core's seed.
pub fn os_seed() -> io::Result<u64> {
    let mut b = [0u8; 8];
    getrandom::getrandom(&mut b).map_err(|e| io::Error::other(e.to_string()))?;
    Ok(u64::from_le_bytes(b))
}

/// What the application learns from the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeEvent {
    /// Something the phone reports.
    Phone(Event),
    /// The far end of a call sent a DTMF digit (RFC 4733).
    DtmfReceived {
        /// The call.
        call: CallHandle,
        /// The digit.
        digit: char,
    },
    /// Another thread called [`Waker::wake`] on [`Runtime::waker`].
    Woken,
}

/// What a call sends and whether it is recorded.
#[derive(Clone, Debug)]
pub struct AudioPlan {
    /// Outgoing audio of every call.
    pub source: SourceSpec,
    /// The first call's recording goes here, later calls' to `NAME-2.wav`,
    /// `NAME-3.wav`, ...
    pub record: Option<PathBuf>,
}

impl Default for AudioPlan {
    fn default() -> Self {
        AudioPlan {
            source: SourceSpec::Silence,
            record: None,
        }
    }
}

/// Counters of the loop itself (the core keeps its own, [`Stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoopStats {
    /// SIP datagrams or stream messages fed to the phone.
    pub sip_received: u64,
    /// SIP messages sent.
    pub sip_sent: u64,
    /// Received SIP data the phone could not parse (dropped).
    pub sip_garbage: u64,
    /// Sends that failed.
    pub send_errors: u64,
    /// Datagrams on RTP ports that were not RTP.
    pub media_garbage: u64,
}

/// One TCP connection of the SIP transport.
#[derive(Debug)]
struct TcpConn {
    stream: TcpStream,
    peer: SocketAddr,
    rx: BytesMut,
    tx: BytesMut,
}

#[derive(Debug)]
enum SipSocket {
    Udp(UdpSocket),
    Tcp {
        listener: TcpListener,
        conns: HashMap<usize, TcpConn>,
        by_peer: HashMap<SocketAddr, usize>,
        next: usize,
    },
}

/// A phone with `CALLS` call slots, `TXNS` transaction slots and
/// `BUFFERS` message buffers, live on sockets.
pub struct Runtime<
    const CALLS: usize,
    const TXNS: usize,
    const COMPLETED: usize = 0,
    const BUFFERS: usize = TXNS,
> {
    phone: Box<Phone<CALLS, TXNS, COMPLETED, BUFFERS>>,
    clock: Clock,
    poll: Poll,
    mio_events: Events,
    sip: SipSocket,
    local: SocketAddr,
    waker: Arc<Waker>,
    media: Vec<Option<(CallHandle, CallMedia)>>,
    recordings: HashMap<CallHandle, (PathBuf, Vec<i16>)>,
    recordings_started: usize,
    audio: AudioPlan,
    events: VecDeque<RuntimeEvent>,
    stats: LoopStats,
    cname: String,
}

/// Why a runtime could not start.
#[derive(Debug)]
pub enum StartError {
    /// The settings do not make a phone.
    Settings(SettingsError),
    /// A socket could not be opened.
    Io(String, io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Settings(e) => write!(f, "{e}"),
            StartError::Io(what, e) => write!(f, "{what}: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

fn to_std(d: Duration) -> StdDuration {
    StdDuration::from_micros(d.as_micros())
}

impl<const CALLS: usize, const TXNS: usize, const COMPLETED: usize, const BUFFERS: usize>
    Runtime<CALLS, TXNS, COMPLETED, BUFFERS>
{
    /// Binds the SIP socket and builds the phone. `towards` helps pick the
    /// local IP when the bind address is unspecified.
    pub fn start(
        settings: &Settings,
        audio: AudioPlan,
        towards: Option<SocketAddr>,
    ) -> Result<Self, StartError> {
        let ip = settings.local_ip_towards(settings.first_peer().or(towards));
        let bind = SocketAddr::new(ip, settings.bind.port());
        let poll = Poll::new().map_err(|e| StartError::Io("poll".into(), e))?;
        let bind_err = |e| StartError::Io(format!("cannot bind SIP to {bind}"), e);
        let (sip, local) = match settings.transport {
            Transport::Udp => {
                let mut s = bind_sip_udp(bind).map_err(bind_err)?;
                let local = s.local_addr().map_err(bind_err)?;
                poll.registry()
                    .register(&mut s, SIP, Interest::READABLE)
                    .map_err(bind_err)?;
                (SipSocket::Udp(s), local)
            }
            Transport::Tcp => {
                let mut l = TcpListener::bind(bind).map_err(bind_err)?;
                let local = l.local_addr().map_err(bind_err)?;
                poll.registry()
                    .register(&mut l, SIP, Interest::READABLE)
                    .map_err(bind_err)?;
                (
                    SipSocket::Tcp {
                        listener: l,
                        conns: HashMap::new(),
                        by_peer: HashMap::new(),
                        next: TCP_BASE,
                    },
                    local,
                )
            }
        };
        let config: Config = settings.core_config(local).map_err(StartError::Settings)?;
        let seed = os_seed().map_err(|e| StartError::Io("OS entropy".into(), e))?;
        let waker =
            Waker::new(poll.registry(), WAKER).map_err(|e| StartError::Io("waker".into(), e))?;
        let cname = format!("{}@{}", settings.user, local.ip());
        log::info!(
            "SIP {} on {local} as sip:{}@{}",
            settings.transport.via_token(),
            config.identity.user,
            config.identity.domain
        );
        Ok(Runtime {
            phone: boxed_phone(config, seed)?,
            clock: Clock::new(),
            poll,
            mio_events: Events::with_capacity(256),
            sip,
            local,
            waker: Arc::new(waker),
            media: (0..CALLS).map(|_| None).collect(),
            recordings: HashMap::new(),
            recordings_started: 0,
            audio,
            events: VecDeque::new(),
            stats: LoopStats::default(),
            cname,
        })
    }

    /// The phone.
    pub fn phone(&self) -> &Phone<CALLS, TXNS, COMPLETED, BUFFERS> {
        &self.phone
    }

    /// The bound SIP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The loop's counters.
    pub fn stats(&self) -> LoopStats {
        self.stats
    }

    /// The core's counters.
    pub fn phone_stats(&self) -> Stats {
        self.phone.stats()
    }

    /// A waker other threads use to interrupt [`Runtime::next_event`]
    /// (it then returns [`RuntimeEvent::Woken`]).
    pub fn waker(&self) -> Arc<Waker> {
        Arc::clone(&self.waker)
    }

    /// Changes the audio of calls whose streams start from now on.
    pub fn set_audio(&mut self, audio: AudioPlan) {
        self.audio = audio;
    }

    /// Samples recorded so far for a call (empty when not recording).
    pub fn recorded(&self, call: CallHandle) -> usize {
        self.recordings.get(&call).map_or(0, |(_, s)| s.len())
    }

    /// Whether a call's media stream is open.
    pub fn has_media(&self, call: CallHandle) -> bool {
        self.media.iter().flatten().any(|(h, _)| *h == call)
    }

    /// Audio packets a call sent so far on its current stream.
    pub fn packets_sent(&self, call: CallHandle) -> u64 {
        self.media
            .iter()
            .flatten()
            .find(|(h, _)| *h == call)
            .map_or(0, |(_, m)| m.packets_sent())
    }

    /// Asks the phone to do something; the outcome arrives as events.
    pub fn command(&mut self, c: Command<'_>) {
        self.input(Input::Command(c));
    }

    /// Sends a DTMF digit on a call (RFC 4733 events timed by the core).
    pub fn send_dtmf(&mut self, call: CallHandle, digit: char, duration: Duration) {
        self.input(Input::Media {
            call,
            input: MediaInput::SendDtmf { digit, duration },
        });
    }

    fn input(&mut self, input: Input<'_>) {
        let now = self.clock.now();
        if let Err(e) = self.phone.handle_input(now, input) {
            log::debug!("input refused: {e:?}");
        }
        self.drain();
    }

    /// Runs the loop until an event is ready or `max_wait` passed.
    pub fn next_event(&mut self, max_wait: StdDuration) -> io::Result<Option<RuntimeEvent>> {
        let deadline = std::time::Instant::now() + max_wait;
        loop {
            if let Some(e) = self.events.pop_front() {
                return Ok(Some(e));
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            self.turn(left)?;
            if left.is_zero() {
                return Ok(self.events.pop_front());
            }
        }
    }

    /// One turn: wait at most `max_wait` (less when the phone has a timer
    /// due), take in whatever arrived, run due timers.
    pub fn turn(&mut self, max_wait: StdDuration) -> io::Result<()> {
        let now = self.clock.now();
        let wait = match self.phone.poll_timeout() {
            Some(t) => to_std(t.saturating_duration_since(now)).min(max_wait),
            None => max_wait,
        };
        match self.poll.poll(&mut self.mio_events, Some(wait)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        let ready: Vec<(Token, bool)> = self
            .mio_events
            .iter()
            .map(|e| (e.token(), e.is_writable()))
            .collect();
        for (token, writable) in ready {
            match token {
                SIP => self.on_sip_readable(),
                WAKER => self.events.push_back(RuntimeEvent::Woken),
                Token(t) if t >= MEDIA_BASE => self.on_media_readable(t - MEDIA_BASE),
                Token(t) => self.on_tcp_ready(t, writable),
            }
        }
        let now = self.clock.now();
        if self.phone.poll_timeout().is_some_and(|t| t <= now) {
            self.input(Input::Tick);
        }
        Ok(())
    }

    /// Hangs up every call and removes the registration, running the loop
    /// for at most `grace` while the far ends answer.
    pub fn shutdown(&mut self, grace: StdDuration) {
        let live: Vec<CallHandle> = self.phone.live_calls().collect();
        for call in live {
            self.command(Command::Hangup(call));
        }
        let registered = matches!(
            self.phone.registration(),
            handset_core::register::RegistrationState::Registered { .. }
        );
        if registered {
            self.command(Command::Unregister);
        }
        let deadline = std::time::Instant::now() + grace;
        let mut unregistered = !registered;
        while std::time::Instant::now() < deadline {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.next_event(left.min(StdDuration::from_millis(100))) {
                Ok(Some(RuntimeEvent::Phone(Event::Unregistered)))
                | Ok(Some(RuntimeEvent::Phone(Event::RegistrationFailed { .. }))) => {
                    unregistered = true
                }
                Ok(_) => {}
                Err(_) => break,
            }
            if unregistered && self.phone.live_calls().next().is_none() {
                break;
            }
        }
        // Whatever is still recording is written now.
        for slot in 0..self.media.len() {
            self.close_media(slot);
        }
    }

    fn on_sip_readable(&mut self) {
        match &mut self.sip {
            SipSocket::Udp(_) => self.read_udp(),
            SipSocket::Tcp { .. } => self.accept_tcp(),
        }
    }

    fn read_udp(&mut self) {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let SipSocket::Udp(sock) = &self.sip else {
                return;
            };
            match sock.recv_from(&mut buf) {
                Ok((n, from)) => {
                    let data = buf.get(..n).unwrap_or(&[]);
                    self.sip_message(from, data);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // ICMP errors from an earlier send (port unreachable)
                // surface here; the socket is still good.
                Err(e) => log::debug!("SIP receive: {e}"),
            }
        }
    }

    fn sip_message(&mut self, from: SocketAddr, data: &[u8]) {
        self.stats.sip_received += 1;
        let now = self.clock.now();
        let input = Input::Datagram {
            from,
            to: self.local,
            data,
        };
        match self.phone.handle_input(now, input) {
            Ok(()) => {}
            Err(InputError::Malformed(e)) => {
                self.stats.sip_garbage += 1;
                log::warn!(
                    "dropped {} bytes from {from}: not a SIP message ({:?} at {})",
                    data.len(),
                    e.kind,
                    e.offset
                );
            }
            Err(e) => log::debug!("message from {from} not used: {e:?}"),
        }
        self.drain();
    }

    fn accept_tcp(&mut self) {
        loop {
            let SipSocket::Tcp {
                listener,
                conns,
                by_peer,
                next,
            } = &mut self.sip
            else {
                return;
            };
            match listener.accept() {
                Ok((mut stream, peer)) => {
                    let token = *next;
                    *next += 1;
                    let _ = stream.set_nodelay(true);
                    if let Err(e) = self.poll.registry().register(
                        &mut stream,
                        Token(token),
                        Interest::READABLE | Interest::WRITABLE,
                    ) {
                        log::warn!("TCP from {peer}: {e}");
                        continue;
                    }
                    log::debug!("TCP connection from {peer}");
                    conns.insert(
                        token,
                        TcpConn {
                            stream,
                            peer,
                            rx: BytesMut::new(),
                            tx: BytesMut::new(),
                        },
                    );
                    by_peer.insert(peer, token);
                    // Data may already wait on the new connection.
                    self.on_tcp_ready(token, true);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::warn!("TCP accept: {e}");
                    return;
                }
            }
        }
    }

    fn on_tcp_ready(&mut self, token: usize, writable: bool) {
        let mut messages = Vec::new();
        let mut close = false;
        let peer;
        {
            let SipSocket::Tcp { conns, .. } = &mut self.sip else {
                return;
            };
            let Some(conn) = conns.get_mut(&token) else {
                return;
            };
            peer = conn.peer;
            if writable && flush(conn).is_err() {
                close = true;
            }
            let mut chunk = [0u8; 16 * 1024];
            loop {
                match conn.stream.read(&mut chunk) {
                    Ok(0) => {
                        close = true;
                        break;
                    }
                    Ok(n) => conn.rx.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        log::debug!("TCP {peer}: {e}");
                        close = true;
                        break;
                    }
                }
            }
            loop {
                match take_frame(&mut conn.rx, MAX_STREAM_MESSAGE) {
                    Ok(Some(Frame::Message(m))) => messages.push(m),
                    Ok(Some(Frame::Ping)) => {
                        // RFC 5626 §3.5.1: a CRLF pong.
                        conn.tx.extend_from_slice(b"\r\n");
                        let _ = flush(conn);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        self.stats.sip_garbage += 1;
                        log::warn!("closing TCP from {peer}: {e}");
                        close = true;
                        break;
                    }
                }
            }
        }
        for m in messages {
            self.sip_message(peer, &m);
        }
        if close {
            self.close_tcp(token);
        }
    }

    fn close_tcp(&mut self, token: usize) {
        let SipSocket::Tcp { conns, by_peer, .. } = &mut self.sip else {
            return;
        };
        if let Some(mut c) = conns.remove(&token) {
            let _ = self.poll.registry().deregister(&mut c.stream);
            if by_peer.get(&c.peer) == Some(&token) {
                by_peer.remove(&c.peer);
            }
            log::debug!("TCP connection with {} closed", c.peer);
        }
    }

    /// Carries out every output of the phone.
    fn drain(&mut self) {
        let mut media_outputs = Vec::new();
        let Runtime {
            phone,
            sip,
            poll,
            stats,
            events,
            ..
        } = self;
        while let Some(out) = phone.poll_output() {
            match out {
                Output::Transmit { to, data, .. } => {
                    stats.sip_sent += 1;
                    if let Err(e) = send_sip(sip, poll.registry(), to, data) {
                        stats.send_errors += 1;
                        log::warn!("SIP to {to}: {e}");
                    }
                }
                Output::Event(e) => {
                    log::debug!("event {e:?}");
                    events.push_back(RuntimeEvent::Phone(e));
                }
                Output::Media { call, output } => media_outputs.push((call, output)),
            }
        }
        for (call, output) in media_outputs {
            self.media_output(call, output);
        }
    }

    fn media_output(&mut self, call: CallHandle, output: MediaOutput) {
        let slot = usize::from(call.slot);
        match output {
            MediaOutput::StartStream {
                local,
                remote,
                payload_type,
                clock_rate,
                ptime,
                ssrc,
            } => {
                self.close_media(slot);
                let frame_samples =
                    usize::try_from(u64::from(clock_rate) * ptime.as_millis() / 1000)
                        .unwrap_or(160)
                        .clamp(1, 4800);
                let setup = StreamSetup {
                    local,
                    remote,
                    frame_samples,
                    dtmf_payload_type: self.phone.negotiated(call).and_then(|n| n.dtmf_pt),
                    source: self.audio.source.open(),
                    cname: self.cname.clone(),
                    ssrc,
                };
                self.start_recording(call);
                match CallMedia::open(setup) {
                    Ok(mut m) => {
                        let reg = self.poll.registry();
                        let tok = MEDIA_BASE + 2 * slot;
                        let ok = reg
                            .register(m.rtp_socket(), Token(tok), Interest::READABLE)
                            .is_ok();
                        if let Some(s) = m.rtcp_socket() {
                            let _ = reg.register(s, Token(tok + 1), Interest::READABLE);
                        }
                        if !ok {
                            log::warn!("cannot poll RTP socket {local}");
                        }
                        log::info!(
                            "call {}: audio PT {payload_type} {local} <-> {remote}",
                            call.slot
                        );
                        if let Some(s) = self.media.get_mut(slot) {
                            *s = Some((call, m));
                        }
                    }
                    Err(e) => log::warn!("cannot open RTP on {local}: {e}; call has no audio"),
                }
            }
            MediaOutput::SendRtp {
                seq,
                timestamp,
                marker,
                payload_type,
                ..
            } => {
                if let Some(m) = self.media_of(call) {
                    m.send_audio(seq, timestamp, marker, payload_type);
                }
            }
            MediaOutput::SendDtmfEvent {
                seq,
                timestamp,
                marker,
                payload_type,
                event,
                end,
                volume,
                duration,
                ..
            } => {
                let payload = DtmfPayload {
                    event,
                    end,
                    volume,
                    duration,
                };
                if let Some(m) = self.media_of(call) {
                    m.send_dtmf(seq, timestamp, marker, payload_type, payload);
                }
            }
            MediaOutput::SendRtcp(report) => {
                if let Some(m) = self.media_of(call) {
                    m.send_rtcp(&report);
                }
            }
            MediaOutput::TicksSkipped { count } => {
                log::debug!(
                    "call {}: {count} audio ticks skipped (loop ran late)",
                    call.slot
                );
            }
            MediaOutput::StopStream => self.close_media(slot),
        }
    }

    fn media_of(&mut self, call: CallHandle) -> Option<&mut CallMedia> {
        match self.media.get_mut(usize::from(call.slot)) {
            Some(Some((h, m))) if *h == call => Some(m),
            _ => None,
        }
    }

    fn start_recording(&mut self, call: CallHandle) {
        let Some(base) = &self.audio.record else {
            return;
        };
        if self.recordings.contains_key(&call) {
            return;
        }
        self.recordings_started += 1;
        let path = numbered(base, self.recordings_started);
        self.recordings.insert(call, (path, Vec::new()));
    }

    fn close_media(&mut self, slot: usize) {
        let Some((call, mut m)) = self.media.get_mut(slot).and_then(Option::take) else {
            return;
        };
        let reg = self.poll.registry();
        let _ = reg.deregister(m.rtp_socket());
        if let Some(s) = m.rtcp_socket() {
            let _ = reg.deregister(s);
        }
        let samples = m.finish();
        let live = self.phone.call_state(call).is_some();
        if let Some((path, all)) = self.recordings.get_mut(&call) {
            all.extend_from_slice(&samples);
            // Rewritten at every stream stop, so a call that moves its
            // stream (re-INVITE) keeps one recording.
            match crate::wav::write_wav(&*path, all) {
                Ok(()) => log::info!(
                    "call {}: {:.1} s of received audio in {}",
                    call.slot,
                    all.len() as f64 / 8000.0,
                    path.display()
                ),
                Err(e) => log::error!("cannot write {}: {e}", path.display()),
            }
            if !live {
                self.recordings.remove(&call);
            }
        }
    }

    fn on_media_readable(&mut self, index: usize) {
        let slot = index / 2;
        let rtcp = index % 2 == 1;
        let now = self.clock.now();
        let mut arrivals = Vec::new();
        let mut reports: Vec<Vec<u8>> = Vec::new();
        let call = match self.media.get_mut(slot) {
            Some(Some((h, m))) => {
                if rtcp {
                    m.drain_rtcp(|d| reports.push(d.to_vec()));
                } else {
                    m.drain_rtp(|a| arrivals.push(a));
                }
                *h
            }
            _ => return,
        };
        for a in arrivals {
            if let MediaArrival::Rtp {
                dtmf_end: Some(digit),
                ..
            } = a
            {
                log::info!("call {}: DTMF {digit} received", call.slot);
                self.events
                    .push_back(RuntimeEvent::DtmfReceived { call, digit });
            }
            match rtp_input(a, now) {
                Some(input) => self.input(Input::Media { call, input }),
                None => self.stats.media_garbage += 1,
            }
        }
        for r in reports {
            self.input(Input::Media {
                call,
                input: MediaInput::RtcpReceived {
                    data: &r,
                    arrival: now,
                },
            });
        }
    }
}

impl<const CALLS: usize, const TXNS: usize, const COMPLETED: usize, const BUFFERS: usize> Drop
    for Runtime<CALLS, TXNS, COMPLETED, BUFFERS>
{
    fn drop(&mut self) {
        for slot in 0..self.media.len() {
            self.close_media(slot);
        }
    }
}

/// What the SIP UDP socket asks of the kernel for its receive buffer
/// (Linux caps it at `net.core.rmem_max`). The default, about 200 KiB,
/// holds some 90 datagrams: under load a loop that loses the CPU for
/// 15 ms drops requests and ACKs, and every drop keeps a call waiting for
/// a retransmission 500 ms later (T1).
const SIP_UDP_RECEIVE_BUFFER: usize = 4 << 20;

/// The SIP UDP socket, non-blocking, with a large receive buffer.
fn bind_sip_udp(addr: SocketAddr) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if let Err(e) = socket.set_recv_buffer_size(SIP_UDP_RECEIVE_BUFFER) {
        log::warn!("SIP receive buffer stays at the default: {e}");
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    Ok(UdpSocket::from_std(socket.into()))
}

/// A phone on the heap, built on a thread of its own. The core builds a
/// phone by value, and it passes through a stack temporary on the way into
/// the box (in a release build one copy of all but the slot tables, which
/// hold no bytes while empty; more in a debug build); on the builder's
/// stack that copy is unmapped when it exits, instead of staying resident
/// on the stack of the thread that runs the loop.
fn boxed_phone<
    const CALLS: usize,
    const TXNS: usize,
    const COMPLETED: usize,
    const BUFFERS: usize,
>(
    config: Config,
    seed: u64,
) -> Result<Box<Phone<CALLS, TXNS, COMPLETED, BUFFERS>>, StartError> {
    let stack = 8 * std::mem::size_of::<Phone<CALLS, TXNS, COMPLETED, BUFFERS>>() + (16 << 20);
    std::thread::scope(|s| {
        let builder = std::thread::Builder::new()
            .name("phone-init".into())
            .stack_size(stack)
            .spawn_scoped(s, move || Box::new(Phone::new(config, seed)))
            .map_err(|e| StartError::Io("cannot start a thread to build the phone".into(), e))?;
        match builder.join() {
            Ok(phone) => Ok(phone),
            Err(p) => std::panic::resume_unwind(p),
        }
    })
}

/// `NAME.wav` for the first recording, `NAME-n.wav` for the n-th.
fn numbered(base: &Path, n: usize) -> PathBuf {
    if n <= 1 {
        return base.to_path_buf();
    }
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match base.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    base.with_file_name(name)
}

fn flush(conn: &mut TcpConn) -> io::Result<()> {
    while !conn.tx.is_empty() {
        match conn.stream.write(&conn.tx) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                let _ = conn.tx.split_to(n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // Not yet connected: the WRITABLE event brings us back.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn send_sip(
    sip: &mut SipSocket,
    registry: &Registry,
    to: SocketAddr,
    data: &[u8],
) -> io::Result<()> {
    match sip {
        SipSocket::Udp(s) => {
            let n = s.send_to(data, to)?;
            if n != data.len() {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!("datagram cut to {n} of {} bytes", data.len()),
                ));
            }
            Ok(())
        }
        SipSocket::Tcp {
            conns,
            by_peer,
            next,
            ..
        } => {
            // RFC 3261 §18.2.2: responses go back on the request's
            // connection; a new one is opened when there is none.
            let token = match by_peer.get(&to) {
                Some(&t) => t,
                None => {
                    let mut stream = TcpStream::connect(to)?;
                    let _ = stream.set_nodelay(true);
                    let t = *next;
                    *next += 1;
                    registry.register(
                        &mut stream,
                        Token(t),
                        Interest::READABLE | Interest::WRITABLE,
                    )?;
                    conns.insert(
                        t,
                        TcpConn {
                            stream,
                            peer: to,
                            rx: BytesMut::new(),
                            tx: BytesMut::new(),
                        },
                    );
                    by_peer.insert(to, t);
                    t
                }
            };
            let conn = conns
                .get_mut(&token)
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
            conn.tx.extend_from_slice(data);
            flush(conn)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordings_are_numbered_after_the_first() {
        let p = Path::new("/tmp/x/rec.wav");
        assert_eq!(numbered(p, 1), p);
        assert_eq!(numbered(p, 3), Path::new("/tmp/x/rec-3.wav"));
        assert_eq!(numbered(Path::new("rec"), 2), Path::new("rec-2"));
    }

    /// Kibibytes resident in this process (`VmRSS`).
    #[cfg(not(debug_assertions))]
    fn resident_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    // Release builds only: a debug build copies the phone into the box
    // whole (see `boxed_phone`). A table built out of line and copied into
    // place makes its slots and buffers resident (all 81 MiB of the load
    // phone); built in place, only the indexes and free lists are written
    // (about 20 MiB: the BYE records' index is 65,536 entries).
    #[cfg(not(debug_assertions))]
    #[test]
    fn a_new_load_phone_leaves_its_tables_untouched() {
        use crate::cli::{LOAD_BUFFERS, LOAD_CALLS, LOAD_COMPLETED, LOAD_TXNS};
        type LoadPhone = Phone<LOAD_CALLS, LOAD_TXNS, LOAD_COMPLETED, LOAD_BUFFERS>;
        let local: SocketAddr = "127.0.0.1:5060".parse().unwrap();
        let config = Config::new("load", "example.com", local).unwrap();
        let before = resident_kib();
        let phone = boxed_phone::<LOAD_CALLS, LOAD_TXNS, LOAD_COMPLETED, LOAD_BUFFERS>(config, 1)
            .unwrap_or_else(|_| panic!("no thread to build the phone"));
        let grown = resident_kib().saturating_sub(before);
        let size = (std::mem::size_of::<LoadPhone>() / 1024) as u64;
        assert!(
            grown < size / 2,
            "building a {size} KiB phone made {grown} KiB resident"
        );
        assert_eq!(phone.transactions_in_use(), 0);
    }

    #[test]
    fn the_clock_runs_forwards() {
        let c = Clock::new();
        let a = c.now();
        std::thread::sleep(StdDuration::from_millis(2));
        assert!(c.now() > a);
    }
}
