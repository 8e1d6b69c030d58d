//! The stream transport over `embedded_io_async` (feature `async`), for
//! executors such as embassy: the same framing as
//! [`crate::StreamTransport`], waiting instead of polling.

use core::net::SocketAddr;

use embedded_io_async::{Read, Write};

use crate::framer::{FrameError, StreamFramer};
use crate::stream::StreamError;

/// One SIP connection over an async byte stream, with an `RX`-byte receive
/// buffer and a `TX`-byte send buffer.
#[derive(Debug)]
pub struct AsyncStreamTransport<S, const RX: usize, const TX: usize> {
    io: S,
    framer: StreamFramer<RX, TX>,
    local: SocketAddr,
    peer: SocketAddr,
}

impl<S, const RX: usize, const TX: usize> AsyncStreamTransport<S, RX, TX> {
    /// A connection from `local` to `peer` over `io`.
    pub fn new(io: S, local: SocketAddr, peer: SocketAddr) -> Self {
        AsyncStreamTransport {
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
}

impl<S: Read + Write, const RX: usize, const TX: usize> AsyncStreamTransport<S, RX, TX> {
    /// Waits for the next whole message.
    pub async fn receive(&mut self) -> Result<&[u8], StreamError<S::Error>> {
        loop {
            if let Some(len) = self.framer.next_message_len()? {
                return Ok(self.framer.message(len).unwrap_or(&[]));
            }
            let n = self
                .io
                .read(self.framer.rx_space())
                .await
                .map_err(StreamError::Io)?;
            if n == 0 {
                return Err(StreamError::Closed);
            }
            self.framer.rx_commit(n);
        }
    }

    /// Sends one whole message, waiting while the writer pushes back.
    pub async fn send(&mut self, msg: &[u8]) -> Result<(), StreamError<S::Error>> {
        loop {
            match self.framer.queue(msg) {
                Ok(()) => break,
                Err(FrameError::Full) => self.write_some().await?,
                Err(e) => return Err(e.into()),
            }
        }
        while !self.framer.tx_pending().is_empty() {
            self.write_some().await?;
        }
        self.io.flush().await.map_err(StreamError::Io)
    }

    async fn write_some(&mut self) -> Result<(), StreamError<S::Error>> {
        let n = self
            .io
            .write(self.framer.tx_pending())
            .await
            .map_err(StreamError::Io)?;
        if n == 0 {
            return Err(StreamError::Closed);
        }
        self.framer.tx_advance(n);
        Ok(())
    }
}
