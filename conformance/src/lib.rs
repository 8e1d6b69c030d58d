//! handset-conformance: helpers shared by the conformance tests.

pub mod codec;
pub mod harness;
pub mod loopback;
pub mod peers;
