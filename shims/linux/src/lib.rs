//! handset-linux: the handset phone core wired to Linux sockets.

pub mod g711;
