//! handset-linux: the handset phone core wired to Linux sockets.

pub mod audio;
pub mod cli;
pub mod config;
pub mod console;
pub mod features;
pub mod g711;
pub mod rtp_session;
pub mod runtime;
pub mod tone;
pub mod transport;
pub mod wav;
