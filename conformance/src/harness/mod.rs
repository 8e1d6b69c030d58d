//! Fuzz harnesses: plain functions that take arbitrary bytes and check the
//! core's invariants, so the cargo-fuzz targets (nightly, libFuzzer) and the
//! stable property tests run exactly the same checks.
//!
//! Each harness panics when an invariant breaks; that panic is the crash
//! libFuzzer reports and the failure a property test shows.

pub mod message;
pub mod phone;
pub mod sdp;

use handset_core::rng::Rng;

/// `len` bytes drawn from a generator seeded with `seed`: the input of one
/// property-test case, reproducible from its seed alone.
pub fn seeded_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    out.truncate(len);
    out
}
