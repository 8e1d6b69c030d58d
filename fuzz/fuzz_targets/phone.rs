//! The whole phone driven by an arbitrary sequence of datagrams (built from
//! what it sent and from the corpus, then damaged), commands and time
//! steps; its invariants are checked after every step and every slot must
//! be free once calls end and timers run out.
//!
//! Run: `cargo +nightly fuzz run phone` (from the repository root).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    handset_conformance::harness::phone::run(data);
});
