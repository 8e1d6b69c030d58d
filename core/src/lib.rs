//! handset-core: an allocation-free, sans-IO SIP desk-phone engine.
//!
//! The core never reads a clock, a socket or a random source: every input
//! arrives with the current [`time::Instant`], every effect leaves as an
//! output the caller carries out.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// No input may panic the core: these constructs are refused outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod auth;
pub mod call;
pub mod credentials;
pub mod dialog;
pub mod media;
pub mod message;
pub mod phone;
pub mod register;
pub mod rng;
pub mod sdp;
pub mod slots;
pub mod subscribe;
pub mod time;
pub mod transaction;
pub mod transfer;
pub mod ua;
