//! Example firmware: the handset core on a Cortex-M4F with a stub network
//! driver and timer, built to prove the core links without an allocator and
//! to measure its flash and RAM cost.
#![no_std]
#![no_main]

mod driver;
mod parts;

use core::hint::black_box;
use core::net::SocketAddr;

use cortex_m_rt::entry;
use handset_baremetal::{Runner, Udp};
use handset_core::time::Instant;
use handset_core::ua::{text, LocalIdentity};
use static_cell::StaticCell;

/// Call slots of the phone in this image (cargo feature `calls-N`).
#[cfg(feature = "calls-1")]
const CALLS: usize = 1;
#[cfg(all(feature = "calls-2", not(feature = "calls-1")))]
const CALLS: usize = 2;
#[cfg(not(any(feature = "calls-1", feature = "calls-2")))]
const CALLS: usize = 4;

/// Transaction slots: a few per call plus registration and stray requests.
const TRANSACTIONS: usize = 2 * CALLS + 4;

/// Receive buffer and held-transmit buffer of the runner: one Ethernet MTU.
const DATAGRAM: usize = 1500;

type Core = parts::Agent<CALLS, TRANSACTIONS>;
type Phone = Runner<Core, Udp<driver::StubNet>, driver::StubTimer, DATAGRAM>;

/// The runner lives in a static, so its RAM shows in `.bss` and the stack
/// holds only call frames.
static PHONE: StaticCell<Phone> = StaticCell::new();

#[entry]
fn main() -> ! {
    let phone = boot();
    loop {
        step(phone);
    }
}

/// Builds the phone in its static. Kept out of line so the footprint
/// report can tell this one-off stack use (the constructors return by
/// value, so the phone passes through the stack once) from the run loop's.
#[inline(never)]
fn boot() -> &'static mut Phone {
    let local = parts::local_address();
    let proxy = SocketAddr::from(([192, 168, 1, 1], 5060));
    let me = LocalIdentity {
        user: text("alice").unwrap_or_default(),
        domain: text("example.com").unwrap_or_default(),
        display_name: text("Alice").unwrap_or_default(),
        local,
        transport: "UDP",
    };
    let seed = black_box(0x5eed_u64);
    PHONE.uninit().write(Runner::new(
        Core::new(seed, me, proxy, Instant::ZERO),
        Udp(driver::StubNet::new(local, proxy)),
        driver::StubTimer::new(),
    ))
}

/// One turn of the run loop.
#[inline(never)]
fn step(phone: &mut Phone) {
    match phone.poll(|event| {
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

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
