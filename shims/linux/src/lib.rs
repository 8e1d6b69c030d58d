//! handset-linux: the handset phone core wired to Linux sockets.
