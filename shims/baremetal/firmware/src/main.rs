//! Example firmware: the complete handset phone on a Cortex-M4F with a stub
//! network driver and timer, built to prove it links without an allocator
//! and to measure its flash and RAM cost.
#![no_std]
#![no_main]

mod driver;
#[cfg(feature = "size-report")]
mod sizes;

use core::hint::black_box;
use core::net::SocketAddr;

use cortex_m_rt::entry;
use handset_baremetal::{Runner, Udp};
use handset_core::media::MediaInput;
use handset_core::phone::{CallHandle, Command, Config, Input, Phone, Policy, DESK_PHONE_BUFFERS};
use handset_core::time::Duration;
use handset_core::ua::text;
use static_cell::StaticCell;

/// Call slots of the phone in this image (cargo feature `calls-N`).
#[cfg(feature = "calls-1")]
const CALLS: usize = 1;
#[cfg(all(feature = "calls-2", not(feature = "calls-1")))]
const CALLS: usize = 2;
#[cfg(not(any(feature = "calls-1", feature = "calls-2")))]
const CALLS: usize = 4;

/// Transaction slots: two per call (the INVITE and a BYE, re-INVITE or
/// REFER beside it) plus registration and requests outside calls.
const TRANSACTIONS: usize = 2 * CALLS + 4;

/// Message buffers: what the phone may send again (a request until its
/// final response, a response until the request stops coming, a 2xx until
/// its ACK). Few transactions need one at a time: a desk phone's flows
/// keep at most 7 at once, so [`DESK_PHONE_BUFFERS`] (8), and never more
/// than one per transaction.
const BUFFERS: usize = if DESK_PHONE_BUFFERS < TRANSACTIONS {
    DESK_PHONE_BUFFERS
} else {
    TRANSACTIONS
};

/// Receive buffer of the runner: one Ethernet MTU. A datagram the driver
/// refuses stays in the phone until it takes it.
const DATAGRAM: usize = 1500;

/// The phone of this image.
type Handset = Phone<CALLS, TRANSACTIONS, 0, BUFFERS>;

type Board = Runner<Handset, Udp<driver::StubNet>, driver::StubTimer, DATAGRAM>;

/// The phone lives in a static, so its RAM shows in `.bss` and the stack
/// holds only call frames.
static BOARD: StaticCell<Board> = StaticCell::new();

#[entry]
fn main() -> ! {
    let board = boot();
    loop {
        step(board);
    }
}

/// Builds the phone in its static. Kept out of line so the footprint
/// report can tell this one-off stack use (constructors return by value,
/// so the phone passes through the stack once) from the run loop's.
#[inline(never)]
fn boot() -> &'static mut Board {
    let local = SocketAddr::from(([192, 168, 1, 20], 5060));
    let proxy = SocketAddr::from(([192, 168, 1, 1], 5060));
    let mut config = match Config::new("alice", "example.com", local) {
        Some(c) => c,
        None => panic!("static names fit"),
    };
    config.registrar = Some(proxy);
    config.outbound_proxy = Some(proxy);
    let seed = black_box(0x5eed_u64);
    BOARD.uninit().write(Runner::new(
        Phone::new(config, seed),
        Udp(driver::StubNet::new(local, proxy)),
        driver::StubTimer::new(),
    ))
}

/// One turn of the run loop: maybe a user action (from the stub keypad),
/// then everything due.
#[inline(never)]
fn step(board: &mut Board) {
    let key = black_box(board.stats().received) % 20;
    let call = CallHandle {
        slot: black_box(0),
        generation: black_box(0),
    };
    let other = CallHandle {
        slot: black_box(1),
        generation: black_box(0),
    };
    let command = match key {
        0 => Some(Command::Register),
        1 => Some(Command::Dial {
            to: "sip:bob@example.com",
        }),
        2 => Some(Command::Answer(call)),
        3 => Some(Command::Hangup(call)),
        4 => Some(Command::Hold(call)),
        5 => Some(Command::Resume(call)),
        6 => Some(Command::Reject { call, code: 486 }),
        7 => Some(Command::Unregister),
        8 => Some(Command::Conference(call, other)),
        9 => Some(Command::SplitConference),
        10 => {
            set_policy(board);
            None
        }
        13 => Some(Command::Transfer {
            call,
            to: "sip:carol@example.com",
        }),
        14 => Some(Command::CompleteTransfer {
            held: call,
            consult: other,
        }),
        15 => Some(Command::AcceptTransfer(call)),
        16 => Some(Command::RefuseTransfer(call)),
        _ => None,
    };
    let input = match (command, key) {
        (Some(c), _) => Some(Input::Command(c)),
        // What the RTP driver would report.
        (None, 11) => Some(Input::Media {
            call,
            input: MediaInput::RtpReceived {
                seq: black_box(1),
                timestamp: black_box(160),
                ssrc: black_box(0x1234),
                arrival: board.with_core(|_, now| now),
            },
        }),
        (None, 12) => Some(Input::Media {
            call,
            input: MediaInput::SendDtmf {
                digit: '5',
                duration: Duration::from_millis(100),
            },
        }),
        _ => None,
    };
    if let Some(input) = input {
        let _ = board.with_core(|phone, now| phone.handle_input(now, input));
    }
    match board.poll(|event| {
        // A real board updates its display and its RTP engine here.
        black_box(event);
    }) {
        // A real board sleeps (WFI) until the wake-up or a network IRQ.
        Ok(wake) => {
            black_box(wake);
        }
        Err(e) => {
            black_box(e);
        }
    }
}

/// What the settings menu would change: do-not-disturb, forwarding on
/// busy, auto-answer.
#[inline(never)]
fn set_policy(board: &mut Board) {
    let policy = Policy {
        dnd: black_box(None),
        forward_busy: text(black_box("sip:voicemail@example.com")),
        auto_answer: black_box(Some(Duration::from_secs(3))),
        ..Policy::default()
    };
    let _ = board.with_core(|phone, now| {
        phone.handle_input(now, Input::Command(Command::SetPolicy(&policy)))
    });
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
