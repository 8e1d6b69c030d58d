//! What the simulator drives: sans-IO nodes that take datagrams and ticks
//! and hand back datagrams to send, exactly as a socket loop would drive
//! the core.

use std::net::SocketAddr;

use handset_core::time::Instant;

/// A node's index in its [`Simulation`](crate::Simulation), in the order
/// nodes were added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub(crate) usize);

impl NodeId {
    /// The position of the node in the order nodes were added (0-based).
    pub const fn index(self) -> usize {
        self.0
    }
}

/// One datagram a node wants sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// The sending address (the node's own address and port; an unspecified
    /// address such as `0.0.0.0:0` means "the node's SIP address").
    pub from: SocketAddr,
    /// The destination; the network routes it by IP to the node that owns
    /// that address, whatever the port.
    pub to: SocketAddr,
    /// The payload.
    pub data: Vec<u8>,
}

/// What a node is told when it is created: who it is on the network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSetup {
    /// The node's id.
    pub id: NodeId,
    /// The node's display name ("User A", "Proxy").
    pub name: String,
    /// The node's SIP address; every port on its IP reaches it.
    pub addr: SocketAddr,
    /// A seed for the node's own randomness, derived from the simulation
    /// seed and the node's position, independent of the network's draws.
    pub seed: u64,
}

/// A sans-IO participant in a simulation.
///
/// The simulator calls [`handle_datagram`](SimNode::handle_datagram) for
/// every datagram that reaches the node and
/// [`handle_tick`](SimNode::handle_tick) once the clock reaches
/// [`poll_timeout`](SimNode::poll_timeout); after each call (and after a
/// scripted action) it drains [`poll_transmit`](SimNode::poll_transmit)
/// until it returns `None`. A node never reads a clock or a random source of
/// its own.
pub trait SimNode {
    /// A datagram from `from` arrived at `to` (one of this node's addresses)
    /// at `now`.
    fn handle_datagram(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: &[u8]);

    /// The clock reached the instant [`poll_timeout`](SimNode::poll_timeout)
    /// asked for (or later).
    fn handle_tick(&mut self, now: Instant);

    /// The next datagram to send, if any.
    fn poll_transmit(&mut self, now: Instant) -> Option<Transmit>;

    /// When the node next wants [`handle_tick`](SimNode::handle_tick), if
    /// ever. An instant in the past means "now".
    fn poll_timeout(&self) -> Option<Instant>;
}
