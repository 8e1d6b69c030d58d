//! What the [`crate::Runner`] needs from a transport: send one message, take
//! the next one received.

use core::net::SocketAddr;

use crate::datagram::{DatagramError, DatagramErrorKind, DatagramSocket};

/// How the runner reacts to a transport error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// No room now: keep the message and retry later.
    WouldBlock,
    /// The message cannot ever fit; it is dropped like a lost datagram.
    TooLarge,
    /// The destination cannot be reached now; the message is dropped like a
    /// lost datagram and the core's retransmissions take over.
    Unreachable,
    /// Received bytes were not a message and were dropped.
    Malformed,
    /// The connection is gone; the transport must be reopened.
    Closed,
    /// Any other failure.
    Other,
}

/// A transport error that can say what kind it is.
pub trait TransportError: core::fmt::Debug {
    /// The kind of failure.
    fn kind(&self) -> TransportErrorKind;
}

/// A message taken from a transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Incoming<'b> {
    /// The sender.
    pub from: SocketAddr,
    /// The local address it arrived on.
    pub to: SocketAddr,
    /// The whole message.
    pub data: &'b [u8],
}

/// A way to carry SIP messages: a datagram socket or a stream connection.
pub trait Transport {
    /// The transport's error.
    type Error: TransportError;

    /// Sends one whole message, or fails without sending any of it.
    fn transmit(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        data: &[u8],
    ) -> Result<(), Self::Error>;

    /// Takes the next whole received message without blocking, or
    /// `Ok(None)`. A datagram transport reads into `scratch`; a stream
    /// transport returns a view of its own receive buffer.
    fn receive<'b>(
        &'b mut self,
        scratch: &'b mut [u8],
    ) -> Result<Option<Incoming<'b>>, Self::Error>;

    /// Pushes out bytes accepted earlier but not yet written, as far as the
    /// link takes them now.
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl From<DatagramErrorKind> for TransportErrorKind {
    fn from(kind: DatagramErrorKind) -> Self {
        match kind {
            DatagramErrorKind::WouldBlock => TransportErrorKind::WouldBlock,
            DatagramErrorKind::TooLarge => TransportErrorKind::TooLarge,
            DatagramErrorKind::Unreachable => TransportErrorKind::Unreachable,
            DatagramErrorKind::Other => TransportErrorKind::Other,
        }
    }
}

/// A [`DatagramSocket`] used as a [`Transport`]: one datagram, one message
/// (RFC 3261 §18.1.1).
#[derive(Debug)]
pub struct Udp<D>(pub D);

/// The error of a [`Udp`] transport: the driver's own error.
#[derive(Debug)]
pub struct UdpError<E>(pub E);

impl<E: DatagramError> TransportError for UdpError<E> {
    fn kind(&self) -> TransportErrorKind {
        self.0.kind().into()
    }
}

impl<D: DatagramSocket> Transport for Udp<D> {
    type Error = UdpError<D::Error>;

    fn transmit(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        data: &[u8],
    ) -> Result<(), Self::Error> {
        self.0.send_to(from, to, data).map_err(UdpError)
    }

    fn receive<'b>(
        &'b mut self,
        scratch: &'b mut [u8],
    ) -> Result<Option<Incoming<'b>>, Self::Error> {
        match self.0.try_recv_from(scratch).map_err(UdpError)? {
            Some(r) => Ok(Some(Incoming {
                from: r.from,
                to: r.to,
                data: scratch.get(..r.len).unwrap_or(&[]),
            })),
            None => Ok(None),
        }
    }
}
