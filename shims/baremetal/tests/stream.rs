//! SIP messages through the stream transport: over an in-memory pipe pair
//! with hostile read and write sizes, and over a real loopback TCP socket.

mod common;

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};

use common::{addr, pipe_pair, PipeEnd};
use handset_baremetal::{
    FrameError, StreamError, StreamTransport, TransportError, TransportErrorKind,
};
use handset_core::message::{Message, MessageWriter, Method};

/// A MESSAGE request numbered `i` with a body of `body_len` bytes.
fn sip_message(i: u32, body_len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; 8192];
    let mut w = MessageWriter::new(&mut buf);
    w.request_line(Method::Message, "sip:bob@example.com");
    w.header_fmt(
        "Via",
        format_args!("SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK{i}"),
    );
    w.header("From", "<sip:alice@example.com>;tag=f1");
    w.header("To", "<sip:bob@example.com>");
    w.header("Call-ID", "stream-test");
    w.header_fmt("CSeq", format_args!("{i} MESSAGE"));
    w.header("Max-Forwards", "70");
    let body: Vec<u8> = (0..body_len)
        .map(|k| b'a' + ((k + i as usize) % 26) as u8)
        .collect();
    let n = w.finish(Some("text/plain"), &body).unwrap();
    buf.truncate(n);
    buf
}

fn cseq_of(data: &[u8]) -> u32 {
    let msg = Message::parse_stream(data).unwrap();
    assert_eq!(
        msg.len(),
        data.len(),
        "a framed message is exactly one message"
    );
    msg.cseq().unwrap().unwrap().seq
}

type Pipe<const RX: usize, const TX: usize> = StreamTransport<PipeEnd, RX, TX>;

fn transports<const RX: usize, const TX: usize>(
    capacity: usize,
    max_read: usize,
) -> (Pipe<RX, TX>, Pipe<RX, TX>) {
    let (a, b) = pipe_pair(capacity, max_read);
    (
        StreamTransport::new(a, addr("10.0.0.1:5060"), addr("10.0.0.2:5060")),
        StreamTransport::new(b, addr("10.0.0.2:5060"), addr("10.0.0.1:5060")),
    )
}

#[test]
fn one_byte_reads_reassemble_every_message() {
    let (mut a, mut b) = transports::<1500, 1500>(1 << 20, 1);
    let sent: Vec<Vec<u8>> = (1..=5).map(|i| sip_message(i, 100 * i as usize)).collect();
    for m in &sent {
        a.send(m).unwrap();
    }
    // Keep-alive CRLFs between messages are skipped.
    a.send(b"\r\n\r\n").unwrap();
    a.send(&sip_message(6, 0)).unwrap();
    let mut got = Vec::new();
    let mut calls = 0;
    while got.len() < 6 {
        calls += 1;
        assert!(calls < 20_000, "stuck after {} messages", got.len());
        if let Some(m) = b.receive().unwrap() {
            got.push(m.to_vec());
        }
    }
    assert_eq!(&got[..5], &sent[..]);
    assert_eq!(cseq_of(&got[5]), 6);
    assert_eq!(b.framer().rx_buffered(), 0);
    // Every byte took one read.
    let total: usize = sent.iter().map(Vec::len).sum::<usize>() + 4 + got[5].len();
    assert_eq!(b.io_mut().rx.borrow().reads, total);
}

#[test]
fn several_messages_in_one_read_are_all_framed() {
    let (mut a, mut b) = transports::<4096, 4096>(1 << 20, 1 << 20);
    for i in 1..=4 {
        a.queue(&sip_message(i, 10)).unwrap();
    }
    while a.write_once().unwrap() > 0 {}
    let mut seqs = Vec::new();
    while let Some(m) = b.receive().unwrap() {
        seqs.push(cseq_of(m));
    }
    assert_eq!(seqs, [1, 2, 3, 4]);
    assert_eq!(b.io_mut().rx.borrow().reads, 1);
}

#[test]
fn back_pressure_holds_messages_whole_and_in_order() {
    // The link takes 97 bytes at a time; the send buffer holds 1000.
    let (mut a, mut b) = transports::<1500, 1000>(97, 13);
    let sent: Vec<Vec<u8>> = (1..=12).map(|i| sip_message(i, 250)).collect();
    let mut next = 0;
    let mut refusals = 0;
    let mut got = Vec::new();
    for _round in 0..10_000 {
        if next < sent.len() {
            match a.send_ready(&sent[next]) {
                Ok(()) => next += 1,
                Err(e) => {
                    assert_eq!(e, StreamError::Frame(FrameError::Full));
                    assert_eq!(e.kind(), TransportErrorKind::WouldBlock);
                    refusals += 1;
                }
            }
        }
        a.write_ready().unwrap();
        // The link is full until the reader drains it.
        assert!(a.io_mut().tx.borrow().bytes.len() <= 97);
        while let Some(m) = b.receive_ready().unwrap() {
            got.push(m.to_vec());
        }
        if got.len() == sent.len() {
            break;
        }
    }
    assert!(refusals > 0, "the send buffer never filled");
    assert_eq!(got, sent);
    assert_eq!(a.pending(), 0);
}

#[test]
fn oversize_messages_are_refused_without_breaking_the_stream() {
    let (mut a, mut b) = transports::<600, 4096>(1 << 20, 64);
    assert_eq!(
        b.send(&sip_message(1, 5000)),
        Err(StreamError::Frame(FrameError::TooLarge))
    );
    a.send(&sip_message(1, 2000)).unwrap();
    a.send(&sip_message(2, 20)).unwrap();
    let mut results = Vec::new();
    for _ in 0..200 {
        match b.receive() {
            Ok(Some(m)) => results.push(Ok(cseq_of(m))),
            Ok(None) => {}
            Err(e) => results.push(Err(e)),
        }
    }
    assert_eq!(
        results,
        [
            Err(StreamError::Frame(FrameError::MessageTooLarge {
                resynced: true
            })),
            Ok(2)
        ]
    );
}

#[test]
fn a_closed_peer_is_reported() {
    let (mut a, mut b) = transports::<600, 600>(1 << 20, 64);
    a.send(&sip_message(1, 0)).unwrap();
    a.io_mut().tx.borrow_mut().closed = true;
    let mut reads = 0;
    while b.receive().unwrap().is_none() {
        reads += 1;
        assert!(reads < 100);
    }
    let e = b.receive().unwrap_err();
    assert_eq!(e, StreamError::Closed);
    assert_eq!(e.kind(), TransportErrorKind::Closed);
}

/// A std TCP stream seen through embedded-io, non-blocking readiness by peek.
struct Tcp(TcpStream);

#[derive(Debug)]
struct TcpError(std::io::Error);

impl embedded_io::Error for TcpError {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self.0.kind() {
            std::io::ErrorKind::ConnectionReset => embedded_io::ErrorKind::ConnectionReset,
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                embedded_io::ErrorKind::TimedOut
            }
            _ => embedded_io::ErrorKind::Other,
        }
    }
}

impl embedded_io::ErrorType for Tcp {
    type Error = TcpError;
}

impl embedded_io::Read for Tcp {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, TcpError> {
        self.0.read(buf).map_err(TcpError)
    }
}

impl embedded_io::Write for Tcp {
    fn write(&mut self, buf: &[u8]) -> Result<usize, TcpError> {
        self.0.write(buf).map_err(TcpError)
    }
    fn flush(&mut self) -> Result<(), TcpError> {
        self.0.flush().map_err(TcpError)
    }
}

impl embedded_io::ReadReady for Tcp {
    fn read_ready(&mut self) -> Result<bool, TcpError> {
        self.0.set_nonblocking(true).map_err(TcpError)?;
        let r = self.0.peek(&mut [0u8; 1]);
        self.0.set_nonblocking(false).map_err(TcpError)?;
        match r {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(TcpError(e)),
        }
    }
}

#[test]
fn loopback_tcp_carries_messages_both_ways() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server_addr = listener.local_addr().unwrap();
    let sent: Vec<Vec<u8>> = (1..=20)
        .map(|i| sip_message(i, (i as usize * 37) % 700))
        .collect();
    let to_send = sent.clone();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_nodelay(true).unwrap();
        // Odd-sized writes with pauses, so reads see split and joined messages.
        let all: Vec<u8> = to_send.concat();
        for (k, chunk) in all.chunks(333).enumerate() {
            s.write_all(chunk).unwrap();
            if k % 3 == 0 {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
        }
        // Read back what the transport sends, framed by the core's parser.
        let mut buf = Vec::new();
        let mut seqs = Vec::new();
        let mut chunk = [0u8; 512];
        while seqs.len() < 3 {
            let n = s.read(&mut chunk).unwrap();
            assert!(n > 0, "closed early");
            buf.extend_from_slice(&chunk[..n]);
            while let Ok(m) = Message::parse_stream(&buf) {
                seqs.push(m.cseq().unwrap().unwrap().seq);
                let len = m.len();
                buf.drain(..len);
            }
        }
        seqs
    });
    let stream = TcpStream::connect(server_addr).unwrap();
    let local = stream.local_addr().unwrap();
    let mut t: StreamTransport<Tcp, 1024, 1024> =
        StreamTransport::new(Tcp(stream), local, server_addr);
    let mut got = Vec::new();
    while got.len() < sent.len() {
        if let Some(m) = t.receive().unwrap() {
            got.push(m.to_vec());
        }
    }
    assert_eq!(got, sent);
    assert!(t.receive_ready().unwrap().is_none());
    for i in 101..=103 {
        t.send(&sip_message(i, 300)).unwrap();
    }
    assert_eq!(peer.join().unwrap(), [101, 102, 103]);
}
