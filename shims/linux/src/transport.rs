//! SIP transports on `std::net`, IPv4 and IPv6: UDP, where one datagram is
//! one message, and TCP, where messages are framed out of the byte stream by
//! their Content-Length (RFC 3261 §18.3) using the core's stream parser.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use handset_core::message::{Message, ParseError, ParseErrorKind};

/// Receive buffer for one datagram: larger than any UDP payload (65,507
/// bytes over IPv4, 65,527 over IPv6), so a datagram is never cut.
pub const MAX_DATAGRAM: usize = 65_536;

/// Default bound on a message being assembled from a stream: a peer that
/// sends more without completing a message is cut off.
pub const MAX_STREAM_MESSAGE: usize = 65_536;

/// Bytes read from a stream per system call.
const READ_CHUNK: usize = 16 * 1024;

/// The transport protocols, as named in a Via header (RFC 3261 §18.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Datagrams.
    Udp,
    /// A byte stream.
    Tcp,
}

impl Transport {
    /// The `transport` token of a Via header.
    pub fn via_token(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }

    /// Whether messages need Content-Length framing.
    pub fn is_stream(self) -> bool {
        self == Transport::Tcp
    }
}

/// How long a receive call may wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wait {
    /// Return at once.
    Never,
    /// Up to this long.
    Upto(Duration),
    /// Until something arrives.
    Forever,
}

impl Wait {
    fn from(timeout: Option<Duration>) -> Wait {
        match timeout {
            None => Wait::Forever,
            Some(d) if d.is_zero() => Wait::Never,
            Some(d) => Wait::Upto(d),
        }
    }
}

/// Whether an I/O error only means "nothing yet".
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// A UDP socket that sends and receives whole SIP messages.
#[derive(Debug)]
pub struct UdpTransport {
    socket: UdpSocket,
    rx: BytesMut,
    wait: Option<Wait>,
}

impl UdpTransport {
    /// Binds to an address (`127.0.0.1:5060`, `[::1]:0`, `0.0.0.0:5060`, ...).
    pub fn bind(addr: SocketAddr) -> io::Result<UdpTransport> {
        Ok(UdpTransport {
            socket: UdpSocket::bind(addr)?,
            rx: BytesMut::zeroed(MAX_DATAGRAM),
            wait: None,
        })
    }

    /// The bound address (with the port the system chose for port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// The socket, for registration with a poller.
    pub fn socket(&self) -> &UdpSocket {
        &self.socket
    }

    /// Sends one message as one datagram.
    pub fn send_to(&self, message: &[u8], to: SocketAddr) -> io::Result<()> {
        let sent = self.socket.send_to(message, to)?;
        if sent != message.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("datagram cut to {sent} of {} bytes", message.len()),
            ));
        }
        Ok(())
    }

    fn set_wait(&mut self, wait: Wait) -> io::Result<()> {
        if self.wait == Some(wait) {
            return Ok(());
        }
        match wait {
            Wait::Never => self.socket.set_nonblocking(true)?,
            Wait::Upto(d) => {
                self.socket.set_nonblocking(false)?;
                self.socket.set_read_timeout(Some(d))?;
            }
            Wait::Forever => {
                self.socket.set_nonblocking(false)?;
                self.socket.set_read_timeout(None)?;
            }
        }
        self.wait = Some(wait);
        Ok(())
    }

    /// Receives one datagram: its bytes (valid until the next call) and
    /// sender. `timeout` `None` waits forever, zero only polls; `Ok(None)`
    /// when nothing arrived in time.
    pub fn recv(&mut self, timeout: Option<Duration>) -> io::Result<Option<(&[u8], SocketAddr)>> {
        self.set_wait(Wait::from(timeout))?;
        match self.socket.recv_from(&mut self.rx) {
            Ok((n, from)) => Ok(self.rx.get(..n).map(|b| (b, from))),
            Err(e) if is_timeout(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Why bytes from a stream cannot be framed into messages. Either way the
/// stream cannot be resynchronised and the connection should be closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The bytes are not a SIP message (or lack Content-Length, which a
    /// stream requires, RFC 3261 §18.3).
    Parse(ParseError),
    /// More than the limit arrived without completing a message.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Parse(e) => write!(f, "unframeable SIP on stream: {e:?}"),
            FrameError::TooLarge { limit } => {
                write!(f, "no complete SIP message within {limit} bytes")
            }
        }
    }
}

impl std::error::Error for FrameError {}

/// One unit taken off a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A complete message (leading CRLFs removed).
    Message(Bytes),
    /// A keep-alive ping, a double CRLF (RFC 5626 §3.5.1); answer with a
    /// single CRLF.
    Ping,
}

/// Takes the first complete message (or keep-alive) off the front of `buf`.
/// `Ok(None)` means more bytes are needed; `limit` bounds how much may be
/// buffered before a message completes.
pub fn take_frame(buf: &mut BytesMut, limit: usize) -> Result<Option<Frame>, FrameError> {
    // RFC 5626 §3.5.1: CRLFCRLF is a ping, a lone CRLF its pong (dropped).
    if buf.starts_with(b"\r\n\r\n") {
        let _ = buf.split_to(4);
        return Ok(Some(Frame::Ping));
    }
    if buf.starts_with(b"\r\n") && buf.len() > 2 && !buf[2..].starts_with(b"\r") {
        let _ = buf.split_to(2);
    }
    if buf.is_empty() || buf[..] == b"\r\n"[..] || buf[..] == b"\r\n\r"[..] {
        return Ok(None);
    }
    match Message::parse_stream(buf) {
        Ok(m) => {
            let len = m.len();
            let msg = buf.split_to(len).freeze();
            // parse_stream counted any stray leading line breaks in len.
            let start = msg
                .iter()
                .position(|&b| b != b'\r' && b != b'\n')
                .unwrap_or(msg.len());
            Ok(Some(Frame::Message(msg.slice(start..))))
        }
        Err(e) if e.kind == ParseErrorKind::Incomplete => {
            if buf.len() > limit {
                Err(FrameError::TooLarge { limit })
            } else {
                Ok(None)
            }
        }
        Err(e) => Err(FrameError::Parse(e)),
    }
}

/// One TCP connection carrying SIP messages both ways.
#[derive(Debug)]
pub struct TcpConnection {
    stream: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    rx: BytesMut,
    limit: usize,
    wait: Option<Wait>,
}

impl TcpConnection {
    /// Connects to a peer, waiting at most `timeout`.
    pub fn connect(to: SocketAddr, timeout: Duration) -> io::Result<TcpConnection> {
        Self::from_stream(TcpStream::connect_timeout(&to, timeout)?)
    }

    /// Wraps an accepted or connected stream.
    pub fn from_stream(stream: TcpStream) -> io::Result<TcpConnection> {
        // SIP messages are small and latency matters more than packet count.
        stream.set_nodelay(true)?;
        Ok(TcpConnection {
            peer: stream.peer_addr()?,
            local: stream.local_addr()?,
            stream,
            rx: BytesMut::with_capacity(READ_CHUNK),
            limit: MAX_STREAM_MESSAGE,
            wait: None,
        })
    }

    /// Sets the bound on a message being assembled (default
    /// [`MAX_STREAM_MESSAGE`]).
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    /// The remote address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// The local address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The stream, for registration with a poller.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Sends one message (all of it; a stream has no message boundaries).
    pub fn send(&mut self, message: &[u8]) -> io::Result<()> {
        // A non-blocking socket would make write_all fail half-way.
        self.set_wait(Wait::Forever)?;
        self.stream.write_all(message)
    }

    fn set_wait(&mut self, wait: Wait) -> io::Result<()> {
        if self.wait == Some(wait) {
            return Ok(());
        }
        match wait {
            Wait::Never => self.stream.set_nonblocking(true)?,
            Wait::Upto(d) => {
                self.stream.set_nonblocking(false)?;
                self.stream.set_read_timeout(Some(d))?;
            }
            Wait::Forever => {
                self.stream.set_nonblocking(false)?;
                self.stream.set_read_timeout(None)?;
            }
        }
        self.wait = Some(wait);
        Ok(())
    }

    /// Receives the next complete message. `timeout` `None` waits forever,
    /// zero only takes what has arrived; `Ok(None)` when no complete
    /// message arrived in time (partial bytes stay buffered). Keep-alive
    /// pings are answered with a pong. A peer that closes gives
    /// `UnexpectedEof`; unframeable bytes give `InvalidData` wrapping a
    /// [`FrameError`]: close the connection then.
    pub fn recv(&mut self, timeout: Option<Duration>) -> io::Result<Option<Bytes>> {
        let wait = Wait::from(timeout);
        let deadline = match wait {
            Wait::Upto(d) => Some(std::time::Instant::now() + d),
            _ => None,
        };
        loop {
            // Frames already buffered first.
            loop {
                match take_frame(&mut self.rx, self.limit) {
                    Ok(Some(Frame::Message(m))) => return Ok(Some(m)),
                    Ok(Some(Frame::Ping)) => {
                        self.send(b"\r\n")?;
                    }
                    Ok(None) => break,
                    Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
                }
            }
            let this_wait = match deadline {
                Some(d) => match d.checked_duration_since(std::time::Instant::now()) {
                    Some(left) if !left.is_zero() => Wait::Upto(left),
                    _ => return Ok(None),
                },
                None => wait,
            };
            self.set_wait(this_wait)?;
            let have = self.rx.len();
            self.rx.resize(have + READ_CHUNK, 0);
            let read = self.stream.read(&mut self.rx[have..]);
            let n = *read.as_ref().unwrap_or(&0);
            self.rx.truncate(have + n);
            match read {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("{} closed the connection", self.peer),
                    ))
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }
}

/// A TCP listening socket for incoming SIP connections.
#[derive(Debug)]
pub struct TcpAcceptor {
    listener: TcpListener,
}

impl TcpAcceptor {
    /// Binds and listens.
    pub fn bind(addr: SocketAddr) -> io::Result<TcpAcceptor> {
        Ok(TcpAcceptor {
            listener: TcpListener::bind(addr)?,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The listener, for registration with a poller.
    pub fn listener(&self) -> &TcpListener {
        &self.listener
    }

    /// Waits for the next connection.
    pub fn accept(&self) -> io::Result<TcpConnection> {
        self.listener.set_nonblocking(false)?;
        let (stream, _) = self.listener.accept()?;
        TcpConnection::from_stream(stream)
    }

    /// Takes a pending connection, if any, without waiting.
    pub fn try_accept(&self) -> io::Result<Option<TcpConnection>> {
        self.listener.set_nonblocking(true)?;
        match self.listener.accept() {
            Ok((stream, _)) => {
                // Accepted sockets do not inherit non-blocking mode on Linux,
                // but say so explicitly.
                stream.set_nonblocking(false)?;
                TcpConnection::from_stream(stream).map(Some)
            }
            Err(e) if is_timeout(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;
    use std::time::Instant;

    fn options(call_id: &str, body: &str) -> String {
        format!(
            "OPTIONS sip:bob@example.com SIP/2.0\r\n\
             Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK{call_id}\r\n\
             Max-Forwards: 70\r\n\
             To: <sip:bob@example.com>\r\n\
             From: <sip:alice@example.com>;tag=1928301774\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: 1 OPTIONS\r\n\
             Content-Type: text/plain\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    #[test]
    fn frames_come_off_a_buffer_one_by_one() {
        let a = options("a", "hello");
        let b = options("b", "");
        let mut buf = BytesMut::from(format!("{a}{b}\r\n\r\n{}", &a[..20]).as_bytes());
        assert_eq!(
            take_frame(&mut buf, 1000),
            Ok(Some(Frame::Message(Bytes::from(a.clone()))))
        );
        assert_eq!(
            take_frame(&mut buf, 1000),
            Ok(Some(Frame::Message(Bytes::from(b))))
        );
        assert_eq!(take_frame(&mut buf, 1000), Ok(Some(Frame::Ping)));
        assert_eq!(take_frame(&mut buf, 1000), Ok(None));
        assert_eq!(&buf[..], &a.as_bytes()[..20]);
        buf.extend_from_slice(&a.as_bytes()[20..]);
        assert_eq!(
            take_frame(&mut buf, 1000),
            Ok(Some(Frame::Message(Bytes::from(a))))
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn a_pong_is_dropped_and_a_split_ping_waits() {
        let m = options("p", "");
        let mut buf = BytesMut::from(format!("\r\n{m}").as_bytes());
        assert_eq!(
            take_frame(&mut buf, 1000),
            Ok(Some(Frame::Message(Bytes::from(m))))
        );
        let mut buf = BytesMut::from(&b"\r\n"[..]);
        assert_eq!(take_frame(&mut buf, 1000), Ok(None));
        buf.extend_from_slice(b"\r\n");
        assert_eq!(take_frame(&mut buf, 1000), Ok(Some(Frame::Ping)));
    }

    #[test]
    fn unframeable_and_endless_streams_are_errors() {
        let mut buf = BytesMut::from(&b"\x00\x01garbage\r\n\r\n"[..]);
        assert!(matches!(
            take_frame(&mut buf, 1000),
            Err(FrameError::Parse(_))
        ));
        // RFC 3261 §18.3: a stream message must carry Content-Length.
        let mut buf = BytesMut::from(&b"OPTIONS sip:a@b SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n"[..]);
        assert!(matches!(
            take_frame(&mut buf, 1000),
            Err(FrameError::Parse(ParseError {
                kind: ParseErrorKind::MissingContentLength,
                ..
            }))
        ));
        let mut buf = BytesMut::from(options("big", "").as_bytes());
        buf.truncate(buf.len() - 4); // no blank line yet
        buf.extend_from_slice(&b"X-Filler: y\r\n".repeat(100));
        assert_eq!(
            take_frame(&mut buf, 1000),
            Err(FrameError::TooLarge { limit: 1000 })
        );
    }

    fn udp_round_trip(ip: &str) {
        let any: SocketAddr = format!("{ip}:0").parse().unwrap();
        let mut a = UdpTransport::bind(any).unwrap();
        let mut b = UdpTransport::bind(any).unwrap();
        let a_addr = a.local_addr().unwrap();
        let b_addr = b.local_addr().unwrap();
        let msg = options("udp", "payload");
        a.send_to(msg.as_bytes(), b_addr).unwrap();
        let (got, from) = b.recv(Some(Duration::from_secs(2))).unwrap().unwrap();
        assert_eq!(got, msg.as_bytes());
        assert_eq!(from, a_addr);
        // A big datagram (the IPv4 UDP maximum) arrives whole.
        let big = vec![b'x'; 65_507];
        b.send_to(&big, a_addr).unwrap();
        let (got, _) = a.recv(None).unwrap().unwrap();
        assert_eq!(got.len(), big.len());
        // Nothing more: a zero timeout polls, a short one waits that long.
        assert!(a.recv(Some(Duration::ZERO)).unwrap().is_none());
        let t = Instant::now();
        assert!(a.recv(Some(Duration::from_millis(50))).unwrap().is_none());
        assert!(t.elapsed() >= Duration::from_millis(40));
    }

    #[test]
    fn udp_on_ipv4_loopback() {
        udp_round_trip("127.0.0.1");
    }

    #[test]
    fn udp_on_ipv6_loopback() {
        udp_round_trip("[::1]");
    }

    fn tcp_exchange(ip: &str) {
        let acceptor = TcpAcceptor::bind(format!("{ip}:0").parse().unwrap()).unwrap();
        let server_addr = acceptor.local_addr().unwrap();
        assert!(acceptor.try_accept().unwrap().is_none());
        let first = options("one", "body of one");
        let second = options("two", "");
        let (f, s) = (first.clone(), second.clone());
        let client = thread::spawn(move || {
            let mut c = TcpConnection::connect(server_addr, Duration::from_secs(2)).unwrap();
            assert_eq!(c.peer_addr(), server_addr);
            // Two messages in one write, then one byte at a time.
            c.send(format!("{f}{s}").as_bytes()).unwrap();
            for byte in f.as_bytes() {
                c.send(&[*byte]).unwrap();
            }
            // A keep-alive ping gets a pong back.
            c.send(b"\r\n\r\n").unwrap();
            let mut pong = [0u8; 2];
            c.stream.read_exact(&mut pong).unwrap();
            assert_eq!(&pong, b"\r\n");
            // The server's reply.
            let reply = c.recv(Some(Duration::from_secs(2))).unwrap().unwrap();
            assert!(reply.starts_with(b"SIP/2.0 200 OK"));
        });
        let mut server = acceptor.accept().unwrap();
        let timeout = Some(Duration::from_secs(2));
        assert_eq!(server.recv(timeout).unwrap().unwrap(), first.as_bytes());
        assert_eq!(server.recv(timeout).unwrap().unwrap(), second.as_bytes());
        assert_eq!(server.recv(timeout).unwrap().unwrap(), first.as_bytes());
        // The ping is answered while waiting; nothing else arrives.
        assert!(server
            .recv(Some(Duration::from_millis(200)))
            .unwrap()
            .is_none());
        let reply = "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKone\r\n\
                     CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
        server.send(reply.as_bytes()).unwrap();
        client.join().unwrap();
        let err = server.recv(timeout).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn tcp_on_ipv4_loopback() {
        tcp_exchange("127.0.0.1");
    }

    #[test]
    fn tcp_on_ipv6_loopback() {
        tcp_exchange("[::1]");
    }

    #[test]
    fn tcp_garbage_is_invalid_data() {
        let acceptor = TcpAcceptor::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = acceptor.local_addr().unwrap();
        let client = thread::spawn(move || {
            let mut c = TcpConnection::connect(addr, Duration::from_secs(2)).unwrap();
            c.send(b"\xff\xfe not SIP at all\r\n\r\n").unwrap();
            c
        });
        let mut server = acceptor.accept().unwrap();
        let err = server.recv(Some(Duration::from_secs(2))).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.get_ref().unwrap().is::<FrameError>());
        drop(client.join().unwrap());
    }

    #[test]
    fn transport_tokens() {
        assert_eq!(Transport::Udp.via_token(), "UDP");
        assert!(Transport::Tcp.is_stream());
        assert!(!Transport::Udp.is_stream());
    }
}
