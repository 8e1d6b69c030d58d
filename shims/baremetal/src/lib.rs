//! handset-baremetal: run the handset core on a microcontroller.
//!
//! Everything here is `no_std` without an allocator; every buffer is a
//! fixed array sized by a const generic.
//!
//! - [`Clock`]: the firmware's monotonic time ([`CounterClock`] turns a
//!   wrapping hardware counter into one).
//! - [`DatagramSocket`]: what a UDP driver offers; [`Udp`] makes it a
//!   [`Transport`].
//! - [`StreamTransport`]: SIP over any `embedded_io` reader/writer (TCP),
//!   framed by Content-Length with fixed receive and send buffers
//!   ([`StreamFramer`] is the framing alone, without I/O).
//! - `AsyncStreamTransport` (feature `async`): the same over
//!   `embedded_io_async`, for async executors.
//! - [`Runner`]: pumps any [`SansIoCore`] over a transport: feeds what
//!   arrives, sends what the core emits, reports the next wake-up.
//!
//! A firmware main loop:
//!
//! ```text
//! let mut runner: Runner<_, _, _, 1500> = Runner::new(core, Udp(driver), clock);
//! loop {
//!     let wake = runner.poll(|event| ui.show(event))?;
//!     sleep_until_irq_or(wake);
//! }
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(test)]
extern crate std;

#[cfg(feature = "async")]
pub mod asynch;
pub mod clock;
pub mod datagram;
pub mod framer;
pub mod runner;
pub mod stream;
pub mod transport;

#[cfg(feature = "async")]
pub use asynch::AsyncStreamTransport;
pub use clock::{Clock, CounterClock, WrappingTicks};
pub use datagram::{DatagramError, DatagramErrorKind, DatagramSocket, Received};
pub use framer::{FrameError, StreamFramer};
pub use runner::{CoreOutput, Runner, RunnerStats, SansIoCore};
pub use stream::{StreamError, StreamTransport};
pub use transport::{Incoming, Transport, TransportError, TransportErrorKind, Udp, UdpError};
