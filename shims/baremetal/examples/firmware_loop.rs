//! The shape of a firmware main loop, runnable on a host: a phone in a
//! [`Runner`] over a [`DatagramSocket`] driver and a [`CounterClock`] that
//! reads a wrapping 32-bit tick counter. On a board, the driver wraps the
//! network stack's UDP socket, the counter is a hardware timer, and the
//! sleep is a low-power wait for the timer or the network interrupt; here
//! they are a non-blocking `std::net` socket, a microsecond counter and
//! `thread::sleep`.
//!
//! It answers every incoming call and, given a URI, calls it first:
//!
//! ```text
//! cargo run -p handset-baremetal --example firmware_loop -- 127.0.0.1:5072
//! cargo run -p handset-baremetal --example firmware_loop -- 127.0.0.1:5082 sip:bob@127.0.0.1:5072
//! ```

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration as StdDuration, Instant as StdInstant};

use handset_baremetal::{
    CounterClock, DatagramErrorKind, DatagramSocket, PhoneEvent, Received, Runner, Udp,
};
use handset_core::phone::{Command, Config, Event, Input, Phone};

/// The driver: what a firmware's UDP socket must offer. It never blocks.
struct Driver(UdpSocket);

impl DatagramSocket for Driver {
    type Error = DatagramErrorKind;

    fn send_to(
        &mut self,
        _from: SocketAddr,
        to: SocketAddr,
        data: &[u8],
    ) -> Result<(), Self::Error> {
        match self.0.send_to(data, to) {
            Ok(_) => Ok(()),
            // The runner holds the datagram and offers it again later.
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                Err(DatagramErrorKind::WouldBlock)
            }
            Err(_) => Err(DatagramErrorKind::Unreachable),
        }
    }

    fn try_recv_from(&mut self, buf: &mut [u8]) -> Result<Option<Received>, Self::Error> {
        match self.0.recv_from(buf) {
            Ok((len, from)) => Ok(Some(Received {
                len,
                from,
                to: self.0.local_addr().map_err(|_| DatagramErrorKind::Other)?,
            })),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
            Err(_) => Err(DatagramErrorKind::Other),
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let local: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:5072".into())
        .parse()
        .expect("a local address such as 127.0.0.1:5072");
    let dial = args.next();

    let socket = UdpSocket::bind(local).expect("bind");
    socket.set_nonblocking(true).expect("non-blocking socket");

    // A free-running 1 MHz counter that wraps every 71 minutes, as a
    // hardware timer would; the clock turns it into a monotonic Instant.
    let boot = StdInstant::now();
    let counter = move || boot.elapsed().as_micros() as u32;
    let clock: CounterClock<_, 1_000_000> = CounterClock::new(counter);

    let config = Config::new("handset", "localhost", local).expect("short names");
    // Firmware seeds from a hardware RNG or unique ID mixed with a counter.
    let phone: Phone<2> = Phone::new(config, 0xfeed);
    // 1500: the largest datagram the runner receives.
    let mut runner: Runner<Phone<2>, _, _, 1500> = Runner::new(phone, Udp(Driver(socket)), clock);

    if let Some(uri) = &dial {
        runner
            .with_core(|p, now| p.handle_input(now, Input::Command(Command::Dial { to: uri })))
            .expect("a dial command is always taken");
    }

    while boot.elapsed() < StdDuration::from_secs(30) {
        // Events are collected during the poll and acted on after it: the
        // runner owns the phone while it polls.
        let mut ringing = Vec::new();
        let wake = runner
            .poll(|e| match e {
                PhoneEvent::User(Event::IncomingCall(call)) => ringing.push(call),
                PhoneEvent::User(u) => println!("event: {u:?}"),
                // StartStream / SendRtp / StopStream: the audio task's work.
                PhoneEvent::Media { .. } => {}
            })
            .expect("the UDP driver reports no fatal error");
        for call in ringing {
            println!("answering {call:?}");
            let _ = runner
                .with_core(|p, now| p.handle_input(now, Input::Command(Command::Answer(call))));
        }
        // Sleep until `wake` (or an interrupt). The host has no network
        // interrupt, so it sleeps at most 5 ms to look at the socket.
        let now = runner.with_core(|_, now| now);
        let until = wake.map_or(5_000, |w| w.saturating_duration_since(now).as_micros());
        std::thread::sleep(StdDuration::from_micros(until.min(5_000)));
    }
    println!("runner counters: {:?}", runner.stats());
}
