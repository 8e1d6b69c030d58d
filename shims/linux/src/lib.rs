//! handset-linux: the handset phone core wired to Linux sockets.

pub mod audio;
pub mod g711;
pub mod tone;
pub mod transport;
pub mod wav;
