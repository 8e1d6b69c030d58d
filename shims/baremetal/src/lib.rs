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
//!   arrives, sends what the core emits, reports the next wake-up. The
//!   core's `Phone` is one ([`PhoneEvent`] carries its events and media
//!   instructions).
//!
//! A firmware main loop, here with a driver that never receives anything
//! and a clock that advances 10 ms per reading:
//!
//! ```
//! use core::net::SocketAddr;
//! use handset_baremetal::{
//!     Clock, DatagramErrorKind, DatagramSocket, PhoneEvent, Received, Runner, Udp,
//! };
//! use handset_core::phone::{Command, Config, Input, Phone};
//! use handset_core::time::{Duration, Instant};
//!
//! struct Driver { sent: usize }
//! impl DatagramSocket for Driver {
//!     type Error = DatagramErrorKind;
//!     fn send_to(&mut self, _: SocketAddr, _: SocketAddr, _: &[u8]) -> Result<(), Self::Error> {
//!         self.sent += 1;
//!         Ok(())
//!     }
//!     fn try_recv_from(&mut self, _: &mut [u8]) -> Result<Option<Received>, Self::Error> {
//!         Ok(None)
//!     }
//! }
//! struct Ticks(Instant);
//! impl Clock for Ticks {
//!     fn now(&mut self) -> Instant {
//!         self.0 += Duration::from_millis(10);
//!         self.0
//!     }
//! }
//!
//! let local: SocketAddr = "192.0.2.1:5060".parse().unwrap();
//! let mut config = Config::new("alice", "example.com", local).unwrap();
//! config.registrar = Some("192.0.2.9:5060".parse().unwrap());
//! let mut runner: Runner<Phone<2>, _, _, 1500> =
//!     Runner::new(Phone::new(config, 1), Udp(Driver { sent: 0 }), Ticks(Instant::ZERO));
//! runner.with_core(|phone, now| phone.handle_input(now, Input::Command(Command::Register)))
//!     .unwrap();
//! for _ in 0..3 {
//!     let wake = runner.poll(|event: PhoneEvent| { /* show it, start RTP, ... */ }).unwrap();
//!     // A board sleeps here until `wake` or a network interrupt.
//!     assert!(wake.is_some(), "the REGISTER transaction has timers");
//! }
//! assert!(runner.stats().transmitted >= 1);
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
pub mod phone;
pub mod runner;
pub mod stream;
pub mod transport;

#[cfg(feature = "async")]
pub use asynch::AsyncStreamTransport;
pub use clock::{Clock, CounterClock, WrappingTicks};
pub use datagram::{DatagramError, DatagramErrorKind, DatagramSocket, Received};
pub use framer::{FrameError, StreamFramer};
pub use phone::PhoneEvent;
pub use runner::{CoreOutput, Runner, RunnerStats, SansIoCore};
pub use stream::{StreamError, StreamTransport};
pub use transport::{Incoming, Transport, TransportError, TransportErrorKind, Udp, UdpError};
