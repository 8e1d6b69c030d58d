//! The datagram (UDP) driver interface.

use core::net::SocketAddr;

/// What went wrong with a datagram operation, as the runner needs to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatagramErrorKind {
    /// The driver cannot take the datagram now (transmit queue full); try
    /// again later with the same bytes.
    WouldBlock,
    /// The datagram is larger than the driver can send or the caller's
    /// buffer can hold; it is dropped.
    TooLarge,
    /// The destination cannot be reached (no route, ARP failure, link down).
    Unreachable,
    /// Anything else; the socket may need to be reopened.
    Other,
}

/// A driver error that can say what kind it is.
pub trait DatagramError: core::fmt::Debug {
    /// The kind of failure.
    fn kind(&self) -> DatagramErrorKind;
}

impl DatagramError for DatagramErrorKind {
    fn kind(&self) -> DatagramErrorKind {
        *self
    }
}

/// One datagram that [`DatagramSocket::try_recv_from`] placed in the
/// caller's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// How many bytes of the buffer it took.
    pub len: usize,
    /// The sender.
    pub from: SocketAddr,
    /// The local address it arrived on.
    pub to: SocketAddr,
}

/// A non-blocking UDP socket of the firmware's network stack.
///
/// Buffers belong to the caller: the driver copies into or out of them and
/// keeps no reference.
pub trait DatagramSocket {
    /// The driver's error.
    type Error: DatagramError;

    /// Sends `data` from the local address `from` to `to`, or fails without
    /// sending anything. A driver with one local address ignores `from`.
    fn send_to(&mut self, from: SocketAddr, to: SocketAddr, data: &[u8])
        -> Result<(), Self::Error>;

    /// Takes the next received datagram into `buf`, or `Ok(None)` when none
    /// is waiting. A datagram longer than `buf` is dropped with
    /// [`DatagramErrorKind::TooLarge`].
    fn try_recv_from(&mut self, buf: &mut [u8]) -> Result<Option<Received>, Self::Error>;
}

impl<T: DatagramSocket + ?Sized> DatagramSocket for &mut T {
    type Error = T::Error;
    fn send_to(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        data: &[u8],
    ) -> Result<(), Self::Error> {
        (**self).send_to(from, to, data)
    }
    fn try_recv_from(&mut self, buf: &mut [u8]) -> Result<Option<Received>, Self::Error> {
        (**self).try_recv_from(buf)
    }
}
