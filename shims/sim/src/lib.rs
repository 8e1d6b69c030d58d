//! handset-sim: a deterministic network simulator for handset phones.
//!
//! A [`Simulation`] drives sans-IO [`SimNode`]s (phones, a proxy, test
//! peers) over a virtual [`Network`] whose links delay, jitter, lose,
//! duplicate and reorder datagrams, and cut and heal, all from one seed.
//! The virtual clock jumps from one event to the next, so an hour of calls
//! runs in milliseconds, and the same seed gives the same run byte for
//! byte. Every datagram lands in a [`Trace`] that [`render`] turns into the
//! admin-guide ladder (`F7  ACK  User A -> Proxy`), Mermaid and SVG
//! sequence diagrams, JSON and a pcap file for Wireshark.
//!
//! A flow is written as:
//! 1. [`Simulation::new`] with a seed and a [`FaultProfile`]; per-link
//!    profiles and partitions through [`Simulation::network_mut`];
//! 2. [`Simulation::add_node`] for each participant, built from its
//!    [`NodeSetup`] (name, documentation address, seed);
//! 3. scripted actions with [`Simulation::schedule_on`] (dial at 0 s,
//!    answer at 2 s, ...) or [`Simulation::with_node`];
//! 4. [`Simulation::run_until`] / [`Simulation::run_until_true`];
//! 5. assertions on the nodes ([`Simulation::node`]) and the trace, and a
//!    rendering of [`Simulation::trace`].
//!
//! The [`cli`] module holds the `handset-sim` command line and the
//! [`cli::FlowRegistry`] that named flows register into.

#![warn(missing_docs)]

pub mod cli;
pub mod fault;
pub mod network;
pub mod node;
pub mod render;
pub mod simulation;
pub mod trace;

pub use fault::{Chance, FaultProfile, Window};
pub use network::{Network, NetworkStats};
pub use node::{NodeId, NodeSetup, SimNode, Transmit};
pub use render::{Format, MediaRows, RowOptions};
pub use simulation::{Simulation, StepEvent};
pub use trace::{Label, LossCause, Trace, TraceEntry};
