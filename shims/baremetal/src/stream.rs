//! SIP over a byte stream (TCP) through `embedded_io`.

use core::net::SocketAddr;

use embedded_io::{ErrorKind, ErrorType, Read, ReadReady, Write, WriteReady};

use crate::framer::{FrameError, StreamFramer};
use crate::transport::{Incoming, Transport, TransportError, TransportErrorKind};

/// Why a stream operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamError<E> {
    /// Framing refused a message (see [`FrameError`]).
    Frame(FrameError),
    /// The peer closed the connection (a read or write of zero bytes).
    Closed,
    /// The reader or writer failed.
    Io(E),
}

impl<E> From<FrameError> for StreamError<E> {
    fn from(e: FrameError) -> Self {
        StreamError::Frame(e)
    }
}

impl<E: embedded_io::Error> TransportError for StreamError<E> {
    fn kind(&self) -> TransportErrorKind {
        match self {
            StreamError::Frame(FrameError::Full) => TransportErrorKind::WouldBlock,
            StreamError::Frame(FrameError::TooLarge | FrameError::MessageTooLarge { .. }) => {
                TransportErrorKind::TooLarge
            }
            StreamError::Frame(FrameError::Malformed(_)) => TransportErrorKind::Malformed,
            StreamError::Closed => TransportErrorKind::Closed,
            StreamError::Io(e) => match e.kind() {
                ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::NotConnected
                | ErrorKind::BrokenPipe => TransportErrorKind::Closed,
                ErrorKind::Interrupted | ErrorKind::TimedOut => TransportErrorKind::WouldBlock,
                _ => TransportErrorKind::Other,
            },
        }
    }
}

/// Whether an I/O error only means "not now".
fn is_transient<E: embedded_io::Error>(e: &E) -> bool {
    matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::TimedOut)
}

/// One SIP connection over a byte stream, with an `RX`-byte receive buffer
/// and a `TX`-byte send buffer.
///
/// `S` is any `embedded_io` reader and writer: a TCP socket of the
/// firmware's network stack, a UART, a test pipe. The plain methods follow
/// embedded-io's blocking contract; the `_ready` methods and the
/// [`Transport`] implementation use `ReadReady`/`WriteReady` so they never
/// block. `RX` must hold the largest message expected (RFC 3261 §18.1.1
/// leaves the size to the stream); `TX` at least the largest one sent.
#[derive(Debug)]
pub struct StreamTransport<S, const RX: usize, const TX: usize> {
    io: S,
    framer: StreamFramer<RX, TX>,
    local: SocketAddr,
    peer: SocketAddr,
}

impl<S, const RX: usize, const TX: usize> StreamTransport<S, RX, TX> {
    /// A connection from `local` to `peer` over `io`.
    pub fn new(io: S, local: SocketAddr, peer: SocketAddr) -> Self {
        StreamTransport {
            io,
            framer: StreamFramer::new(),
            local,
            peer,
        }
    }

    /// The local address of the connection.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// The peer's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The reader/writer.
    pub fn io_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// The buffers, e.g. to see how much is still queued.
    pub fn framer(&self) -> &StreamFramer<RX, TX> {
        &self.framer
    }

    /// Replaces the reader/writer after a reconnect and forgets everything
    /// buffered for the old one.
    pub fn reconnect(&mut self, io: S, peer: SocketAddr) -> S {
        self.framer.clear();
        self.peer = peer;
        core::mem::replace(&mut self.io, io)
    }

    /// Queues one whole message without writing anything.
    pub fn queue(&mut self, msg: &[u8]) -> Result<(), FrameError> {
        self.framer.queue(msg)
    }

    /// Bytes queued but not yet written.
    pub fn pending(&self) -> usize {
        self.framer.tx_pending().len()
    }
}

impl<S: Read, const RX: usize, const TX: usize> StreamTransport<S, RX, TX> {
    /// Frames a buffered message or, failing that, reads once (blocking
    /// until at least one byte arrives) and tries again. `Ok(None)` means
    /// the message is still incomplete.
    pub fn receive(&mut self) -> Result<Option<&[u8]>, StreamError<S::Error>> {
        self.receive_with(|_| Ok(true), false)
    }

    fn receive_with(
        &mut self,
        mut may_read: impl FnMut(&mut S) -> Result<bool, S::Error>,
        keep_reading: bool,
    ) -> Result<Option<&[u8]>, StreamError<S::Error>> {
        let mut len = self.framer.next_message_len()?;
        while len.is_none() && may_read(&mut self.io).map_err(StreamError::Io)? {
            let space = self.framer.rx_space();
            if space.is_empty() {
                break;
            }
            match self.io.read(space) {
                Ok(0) => return Err(StreamError::Closed),
                Ok(n) => self.framer.rx_commit(n),
                Err(e) if is_transient(&e) => break,
                Err(e) => return Err(StreamError::Io(e)),
            }
            len = self.framer.next_message_len()?;
            if !keep_reading {
                break;
            }
        }
        Ok(len.and_then(|len| self.framer.message(len)))
    }
}

impl<S: Read + ReadReady, const RX: usize, const TX: usize> StreamTransport<S, RX, TX> {
    /// Like [`StreamTransport::receive`], but reads only while the reader
    /// says bytes are waiting, so it never blocks, and goes on reading
    /// until a message is whole or nothing more is waiting.
    pub fn receive_ready(&mut self) -> Result<Option<&[u8]>, StreamError<S::Error>> {
        self.receive_with(|io| io.read_ready(), true)
    }
}

impl<S: Write, const RX: usize, const TX: usize> StreamTransport<S, RX, TX> {
    /// Writes queued bytes once; the writer may take only part of them.
    /// Returns how many bytes are still queued.
    pub fn write_once(&mut self) -> Result<usize, StreamError<S::Error>> {
        let pending = self.framer.tx_pending();
        if pending.is_empty() {
            return Ok(0);
        }
        match self.io.write(pending) {
            Ok(0) => return Err(StreamError::Closed),
            Ok(n) => self.framer.tx_advance(n),
            Err(e) if is_transient(&e) => {}
            Err(e) => return Err(StreamError::Io(e)),
        }
        Ok(self.framer.tx_pending().len())
    }

    /// Sends one whole message, blocking until the writer took all of it.
    pub fn send(&mut self, msg: &[u8]) -> Result<(), StreamError<S::Error>> {
        loop {
            match self.framer.queue(msg) {
                Ok(()) => break,
                // Make room by writing out what is queued ahead of it.
                Err(FrameError::Full) => {
                    self.write_once()?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        while self.write_once()? > 0 {}
        self.io.flush().map_err(StreamError::Io)
    }
}

impl<S: Write + WriteReady, const RX: usize, const TX: usize> StreamTransport<S, RX, TX> {
    /// Writes queued bytes for as long as the writer is ready, without
    /// blocking. Returns how many bytes are still queued.
    pub fn write_ready(&mut self) -> Result<usize, StreamError<S::Error>> {
        while !self.framer.tx_pending().is_empty()
            && self.io.write_ready().map_err(StreamError::Io)?
        {
            let before = self.framer.tx_pending().len();
            if self.write_once()? == before {
                break;
            }
        }
        Ok(self.framer.tx_pending().len())
    }

    /// Queues one whole message and writes as much as the writer takes
    /// now. [`FrameError::Full`] means the send buffer is still too full:
    /// nothing of `msg` was queued; offer it again later.
    pub fn send_ready(&mut self, msg: &[u8]) -> Result<(), StreamError<S::Error>> {
        match self.framer.queue(msg) {
            Err(FrameError::Full) => {
                self.write_ready()?;
                self.framer.queue(msg)?;
            }
            other => other?,
        }
        self.write_ready()?;
        Ok(())
    }
}

impl<S, const RX: usize, const TX: usize> Transport for StreamTransport<S, RX, TX>
where
    S: Read + ReadReady + Write + WriteReady,
{
    type Error = StreamError<<S as ErrorType>::Error>;

    /// Sends on this connection whatever the destination: RFC 3261 §18.2.2
    /// sends responses back over the connection the request came on, and
    /// the connection is the only route this transport has.
    fn transmit(
        &mut self,
        _from: SocketAddr,
        _to: SocketAddr,
        data: &[u8],
    ) -> Result<(), Self::Error> {
        self.send_ready(data)
    }

    fn receive<'b>(
        &'b mut self,
        _scratch: &'b mut [u8],
    ) -> Result<Option<Incoming<'b>>, Self::Error> {
        let (from, to) = (self.peer, self.local);
        Ok(self
            .receive_ready()?
            .map(|data| Incoming { from, to, data }))
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.write_ready().map(|_| ())
    }
}
