//! Test doubles: an in-memory `embedded_io` pipe pair, a manual clock, an
//! in-memory datagram network, and a small sans-IO core that answers and
//! sends OPTIONS.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::rc::Rc;

use handset_baremetal::{
    Clock, CoreOutput, DatagramErrorKind, DatagramSocket, FrameError, Incoming, Received,
    SansIoCore, StreamError, StreamTransport, Transport,
};
use handset_core::message::{Message, MessageWriter, Method};
use handset_core::time::{Duration, Instant};

/// One direction of a pipe.
#[derive(Debug)]
pub struct Channel {
    pub bytes: VecDeque<u8>,
    /// Most bytes the channel holds (the peer's TCP window).
    pub capacity: usize,
    /// Most bytes one read returns.
    pub max_read: usize,
    pub closed: bool,
    pub reads: usize,
}

impl Channel {
    pub fn new(capacity: usize, max_read: usize) -> Rc<RefCell<Channel>> {
        Rc::new(RefCell::new(Channel {
            bytes: VecDeque::new(),
            capacity,
            max_read,
            closed: false,
            reads: 0,
        }))
    }
}

/// One end of an in-memory byte stream pair.
#[derive(Debug, Clone)]
pub struct PipeEnd {
    pub rx: Rc<RefCell<Channel>>,
    pub tx: Rc<RefCell<Channel>>,
}

/// Two connected ends: what `a` writes, `b` reads, and back.
pub fn pipe_pair(capacity: usize, max_read: usize) -> (PipeEnd, PipeEnd) {
    let ab = Channel::new(capacity, max_read);
    let ba = Channel::new(capacity, max_read);
    (
        PipeEnd {
            rx: ba.clone(),
            tx: ab.clone(),
        },
        PipeEnd { rx: ab, tx: ba },
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipeError(pub embedded_io::ErrorKind);

impl embedded_io::Error for PipeError {
    fn kind(&self) -> embedded_io::ErrorKind {
        self.0
    }
}

impl embedded_io::ErrorType for PipeEnd {
    type Error = PipeError;
}

impl embedded_io::Read for PipeEnd {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, PipeError> {
        let mut ch = self.rx.borrow_mut();
        if ch.bytes.is_empty() {
            // A single-threaded test cannot block: report a timeout.
            return if ch.closed {
                Ok(0)
            } else {
                Err(PipeError(embedded_io::ErrorKind::TimedOut))
            };
        }
        ch.reads += 1;
        let n = buf.len().min(ch.max_read).min(ch.bytes.len());
        for b in buf.iter_mut().take(n) {
            *b = ch.bytes.pop_front().unwrap();
        }
        Ok(n)
    }
}

impl embedded_io::ReadReady for PipeEnd {
    fn read_ready(&mut self) -> Result<bool, PipeError> {
        let ch = self.rx.borrow();
        Ok(!ch.bytes.is_empty() || ch.closed)
    }
}

impl embedded_io::Write for PipeEnd {
    fn write(&mut self, buf: &[u8]) -> Result<usize, PipeError> {
        let mut ch = self.tx.borrow_mut();
        if ch.closed {
            return Err(PipeError(embedded_io::ErrorKind::BrokenPipe));
        }
        let n = buf.len().min(ch.capacity - ch.bytes.len());
        if n == 0 && !buf.is_empty() {
            return Err(PipeError(embedded_io::ErrorKind::TimedOut));
        }
        ch.bytes.extend(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> Result<(), PipeError> {
        Ok(())
    }
}

impl embedded_io::WriteReady for PipeEnd {
    fn write_ready(&mut self) -> Result<bool, PipeError> {
        let ch = self.tx.borrow();
        Ok(ch.bytes.len() < ch.capacity)
    }
}

/// A clock the test moves by hand; clones share the time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(pub Rc<Cell<u64>>);

impl ManualClock {
    pub fn advance(&self, d: Duration) {
        self.0.set(self.0.get() + d.as_micros());
    }
}

impl Clock for ManualClock {
    fn now(&mut self) -> Instant {
        Instant::from_micros(self.0.get())
    }
}

/// Datagrams in flight between in-memory sockets.
pub type Network = Rc<RefCell<VecDeque<(SocketAddr, SocketAddr, Vec<u8>)>>>;

/// A UDP socket on an in-memory network whose driver refuses every
/// `refuse_every`-th send with `WouldBlock`.
pub struct MemSocket {
    pub local: SocketAddr,
    pub net: Network,
    pub refuse_every: usize,
    pub sends: usize,
}

impl DatagramSocket for MemSocket {
    type Error = DatagramErrorKind;
    fn send_to(
        &mut self,
        _from: SocketAddr,
        to: SocketAddr,
        data: &[u8],
    ) -> Result<(), Self::Error> {
        self.sends += 1;
        if self.refuse_every > 0 && self.sends.is_multiple_of(self.refuse_every) {
            return Err(DatagramErrorKind::WouldBlock);
        }
        self.net
            .borrow_mut()
            .push_back((self.local, to, data.to_vec()));
        Ok(())
    }
    fn try_recv_from(&mut self, buf: &mut [u8]) -> Result<Option<Received>, Self::Error> {
        let mut net = self.net.borrow_mut();
        let Some(pos) = net.iter().position(|(_, to, _)| *to == self.local) else {
            return Ok(None);
        };
        let (from, to, data) = net.remove(pos).unwrap();
        let dst = buf
            .get_mut(..data.len())
            .ok_or(DatagramErrorKind::TooLarge)?;
        dst.copy_from_slice(&data);
        Ok(Some(Received {
            len: data.len(),
            from,
            to,
        }))
    }
}

/// What the OPTIONS core reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PingEvent {
    /// An OPTIONS request arrived and was answered.
    Pinged { cseq: u32 },
    /// A response to our OPTIONS arrived.
    Answered { cseq: u32, status: u16 },
    /// Bytes that are not a SIP message arrived.
    Garbage,
}

/// A small sans-IO core: answers every OPTIONS with 200 and, if it has a
/// peer, sends `pings` OPTIONS to it, one every `interval`.
pub struct OptionsCore {
    pub local: SocketAddr,
    pub peer: Option<SocketAddr>,
    pub pings: u32,
    pub sent: u32,
    pub interval: Duration,
    pub next: Option<Instant>,
    pub body_len: usize,
    out: VecDeque<(SocketAddr, Vec<u8>)>,
    /// The message the last `poll_output` returned, while it may be put
    /// back.
    current: Option<(SocketAddr, Vec<u8>)>,
    events: VecDeque<PingEvent>,
}

impl OptionsCore {
    pub fn new(local: SocketAddr, peer: Option<SocketAddr>, pings: u32, body_len: usize) -> Self {
        OptionsCore {
            local,
            peer,
            pings,
            sent: 0,
            interval: Duration::from_millis(100),
            next: peer.map(|_| Instant::ZERO),
            body_len,
            out: VecDeque::new(),
            current: None,
            events: VecDeque::new(),
        }
    }

    fn options(&self, cseq: u32) -> Vec<u8> {
        let mut buf = vec![0u8; 4096];
        let mut w = MessageWriter::new(&mut buf);
        w.request_line(Method::Options, "sip:peer@example.com");
        w.header_fmt(
            "Via",
            format_args!("SIP/2.0/TCP {};branch=z9hG4bK{cseq}", self.local),
        );
        w.header("From", "<sip:me@example.com>;tag=a1");
        w.header("To", "<sip:peer@example.com>");
        w.header("Call-ID", "ping-1");
        w.header_fmt("CSeq", format_args!("{cseq} OPTIONS"));
        w.header("Max-Forwards", "70");
        let body = vec![b'v'; self.body_len];
        let n = w.finish(Some("text/plain"), &body).unwrap();
        buf.truncate(n);
        buf
    }
}

impl SansIoCore for OptionsCore {
    type Event = PingEvent;

    fn handle_datagram(&mut self, _now: Instant, from: SocketAddr, _to: SocketAddr, data: &[u8]) {
        let Ok(msg) = Message::parse_datagram(data) else {
            self.events.push_back(PingEvent::Garbage);
            return;
        };
        let cseq = msg.cseq().and_then(|c| c.ok()).map_or(0, |c| c.seq);
        if msg.method() == Some(Method::Options) {
            let mut buf = vec![0u8; 2048];
            let n = handset_core::ua::write_simple_response(&mut buf, &msg, 200, Some("b2"), &[])
                .unwrap();
            buf.truncate(n);
            self.out.push_back((from, buf));
            self.events.push_back(PingEvent::Pinged { cseq });
        } else if let Some(status) = msg.status() {
            self.events.push_back(PingEvent::Answered { cseq, status });
        }
    }

    fn handle_tick(&mut self, now: Instant) {
        let (Some(peer), Some(due)) = (self.peer, self.next) else {
            return;
        };
        if due > now {
            return;
        }
        self.sent += 1;
        let msg = self.options(self.sent);
        self.out.push_back((peer, msg));
        self.next = (self.sent < self.pings).then(|| now + self.interval);
    }

    fn poll_output(&mut self) -> Option<CoreOutput<'_, PingEvent>> {
        self.current = None;
        if let Some(e) = self.events.pop_front() {
            return Some(CoreOutput::Event(e));
        }
        let (to, data) = self.current.insert(self.out.pop_front()?);
        Some(CoreOutput::Transmit {
            from: self.local,
            to: *to,
            data,
        })
    }

    fn put_back_transmit(&mut self) -> bool {
        match self.current.take() {
            Some(m) => {
                self.out.push_front(m);
                true
            }
            None => false,
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.next
    }
}

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

impl embedded_io_async::Read for PipeEnd {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, PipeError> {
        // Yield once per read, as a real driver waiting on an interrupt does.
        YieldOnce(false).await;
        embedded_io::Read::read(self, buf)
    }
}

impl embedded_io_async::Write for PipeEnd {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, PipeError> {
        YieldOnce(false).await;
        embedded_io::Write::write(self, buf)
    }
}

/// A future that is pending once, then ready.
pub struct YieldOnce(pub bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

/// Runs a future to completion on this thread, counting its polls.
pub fn block_on<F: std::future::Future>(f: F) -> (F::Output, usize) {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut polls = 0;
    loop {
        polls += 1;
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return (v, polls);
        }
        assert!(polls < 1_000_000, "future never finished");
    }
}

/// A std TCP socket seen through embedded-io the way a firmware network
/// stack offers one: non-blocking, "not now" reported as `TimedOut`.
pub struct LoopbackTcp(pub std::net::TcpStream);

#[derive(Debug)]
pub struct TcpError(pub std::io::Error);

impl embedded_io::Error for TcpError {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self.0.kind() {
            std::io::ErrorKind::ConnectionReset => embedded_io::ErrorKind::ConnectionReset,
            std::io::ErrorKind::BrokenPipe => embedded_io::ErrorKind::BrokenPipe,
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                embedded_io::ErrorKind::TimedOut
            }
            _ => embedded_io::ErrorKind::Other,
        }
    }
}

impl embedded_io::ErrorType for LoopbackTcp {
    type Error = TcpError;
}

impl embedded_io::Read for LoopbackTcp {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, TcpError> {
        std::io::Read::read(&mut self.0, buf).map_err(TcpError)
    }
}

impl embedded_io::Write for LoopbackTcp {
    fn write(&mut self, buf: &[u8]) -> Result<usize, TcpError> {
        std::io::Write::write(&mut self.0, buf).map_err(TcpError)
    }
    fn flush(&mut self) -> Result<(), TcpError> {
        std::io::Write::flush(&mut self.0).map_err(TcpError)
    }
}

impl embedded_io::ReadReady for LoopbackTcp {
    fn read_ready(&mut self) -> Result<bool, TcpError> {
        match self.0.peek(&mut [0u8; 1]) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(TcpError(e)),
        }
    }
}

impl embedded_io::WriteReady for LoopbackTcp {
    fn write_ready(&mut self) -> Result<bool, TcpError> {
        // A full socket buffer shows as `WouldBlock` from the write itself.
        Ok(true)
    }
}

/// A connected pair of non-blocking loopback TCP sockets.
pub fn loopback_pair() -> (LoopbackTcp, LoopbackTcp) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    for s in [&client, &server] {
        s.set_nodelay(true).unwrap();
        s.set_nonblocking(true).unwrap();
    }
    (LoopbackTcp(client), LoopbackTcp(server))
}

/// Several stream connections seen as one transport, as a phone with a
/// connection to each peer uses them: a message goes out on the
/// connection to its destination, and every connection is read in turn.
pub struct Links<S, const RX: usize, const TX: usize> {
    pub links: Vec<StreamTransport<S, RX, TX>>,
    next: usize,
}

impl<S, const RX: usize, const TX: usize> Links<S, RX, TX> {
    pub fn new(links: Vec<StreamTransport<S, RX, TX>>) -> Self {
        Links { links, next: 0 }
    }
}

impl<S, const RX: usize, const TX: usize> Transport for Links<S, RX, TX>
where
    S: embedded_io::Read + embedded_io::ReadReady + embedded_io::Write + embedded_io::WriteReady,
{
    type Error = StreamError<S::Error>;

    fn transmit(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        data: &[u8],
    ) -> Result<(), Self::Error> {
        match self.links.iter_mut().find(|l| l.peer() == to) {
            Some(link) => link.transmit(from, to, data),
            // No connection to that peer: refused like an unroutable datagram.
            None => Err(StreamError::Frame(FrameError::TooLarge)),
        }
    }

    fn receive<'b>(
        &'b mut self,
        _scratch: &'b mut [u8],
    ) -> Result<Option<Incoming<'b>>, Self::Error> {
        let Links { links, next } = self;
        let n = links.len();
        // Start after the link served last, so no connection starves.
        let (before, after) = links.split_at_mut((*next).min(n));
        for (k, link) in after.iter_mut().chain(before.iter_mut()).enumerate() {
            if let Some(m) = Transport::receive(link, &mut [])? {
                *next = (*next + k + 1) % n;
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        for l in &mut self.links {
            l.flush()?;
        }
        Ok(())
    }
}
