//! The smallest socket loop around the core: one blocking `std::net`
//! UDP socket whose read timeout is the phone's next deadline. It answers
//! every incoming call and, when given a URI, calls it first. Signalling
//! only: the media outputs (when to send each RTP packet) are printed, not
//! carried out. The Linux shim (`shims/linux`, `handset` command) is the
//! complete version, with mio, TCP, audio and registration.
//!
//! ```text
//! cargo run -p handset-core --example udp_phone -- 127.0.0.1:5070
//! cargo run -p handset-core --example udp_phone -- 127.0.0.1:5080 sip:alice@127.0.0.1:5070
//! ```
//! (the first waits 30 s for calls; the second calls it; run both).

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration as StdDuration, Instant as StdInstant};

use handset_core::media::MediaOutput;
use handset_core::phone::{Command, Config, Event, Input, Output, Phone};
use handset_core::time::Instant;

/// Carries out everything the phone asks for, until it has nothing left.
fn drain(phone: &mut Phone<4>, socket: &UdpSocket, events: &mut Vec<Event>) {
    while let Some(out) = phone.poll_output() {
        match out {
            Output::Transmit { to, data, .. } => {
                if let Err(e) = socket.send_to(data, to) {
                    // A lost datagram: the transaction layer retransmits.
                    eprintln!("send to {to}: {e}");
                }
            }
            Output::Event(e) => {
                println!("event: {e:?}");
                events.push(e);
            }
            // Every 20 ms a SendRtp; print the rest (start, RTCP, stop).
            Output::Media {
                output: MediaOutput::SendRtp { .. },
                ..
            } => {}
            Output::Media { call, output } => println!("media {call:?}: {output:?}"),
        }
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let local: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:5070".into())
        .parse()
        .expect("a local address such as 127.0.0.1:5070");
    let dial = args.next();

    let socket = UdpSocket::bind(local)?;
    let config = Config::new("handset", "localhost", socket.local_addr()?).expect("short names");
    // A real phone seeds from the OS; a fixed seed repeats the same run.
    let mut phone: Phone<4> = Phone::new(config, 0x5eed);
    // The core's clock: microseconds since start, from a monotonic clock.
    let start = StdInstant::now();
    let now = || Instant::from_micros(start.elapsed().as_micros() as u64);
    let mut seen = Vec::new();

    if let Some(uri) = &dial {
        let _ = phone.handle_input(now(), Input::Command(Command::Dial { to: uri }));
        drain(&mut phone, &socket, &mut seen);
    }

    let mut buf = [0u8; 65_535];
    while start.elapsed() < StdDuration::from_secs(30) {
        // Sleep until the phone's next deadline or a datagram, whichever
        // comes first (at most 1 s, to check the run time).
        let wait = phone
            .poll_timeout()
            .map(|t| t.saturating_duration_since(now()).as_micros())
            .map_or(StdDuration::from_secs(1), |us| {
                StdDuration::from_micros(us)
                    .clamp(StdDuration::from_millis(1), StdDuration::from_secs(1))
            });
        socket.set_read_timeout(Some(wait))?;
        let input_result = match socket.recv_from(&mut buf) {
            Ok((n, from)) => phone.handle_input(
                now(),
                Input::Datagram {
                    from,
                    to: local,
                    data: &buf[..n],
                },
            ),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                phone.handle_input(now(), Input::Tick)
            }
            Err(e) => return Err(e),
        };
        if let Err(e) = input_result {
            // Garbage or an unusable message: the phone counted and, where
            // it could, answered it; live calls go on.
            eprintln!("input refused: {e:?}");
        }
        drain(&mut phone, &socket, &mut seen);

        // The "user": answer whatever rings.
        for e in std::mem::take(&mut seen) {
            if let Event::IncomingCall(call) = e {
                let _ = phone.handle_input(now(), Input::Command(Command::Answer(call)));
                drain(&mut phone, &socket, &mut Vec::new());
            }
        }
    }
    Ok(())
}
