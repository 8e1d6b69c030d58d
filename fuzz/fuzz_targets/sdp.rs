//! Any bytes as an SDP body: parsed, answered as an offer, applied as an
//! answer; the phone's own SDP always parses back.
//!
//! Run: `cargo +nightly fuzz run sdp` (from the repository root).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| handset_conformance::harness::sdp::run(data));
