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
//! ```
//! use std::collections::VecDeque;
//! use std::net::SocketAddr;
//! use handset_core::time::{Duration, Instant};
//! use handset_sim::render::{ladder, LadderOptions};
//! use handset_sim::{FaultProfile, NodeSetup, SimNode, Simulation, Transmit, Window};
//!
//! /// Sends what it is told; answers every OPTIONS with a 200 OK.
//! struct Peer { addr: SocketAddr, out: VecDeque<Transmit> }
//! impl SimNode for Peer {
//!     fn handle_datagram(&mut self, _: Instant, from: SocketAddr, _: SocketAddr, data: &[u8]) {
//!         if data.starts_with(b"OPTIONS") {
//!             let ok = b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec();
//!             self.out.push_back(Transmit { from: self.addr, to: from, data: ok });
//!         }
//!     }
//!     fn handle_tick(&mut self, _: Instant) {}
//!     fn poll_transmit(&mut self, _: Instant) -> Option<Transmit> { self.out.pop_front() }
//!     fn poll_timeout(&self) -> Option<Instant> { None }
//! }
//! let peer = |s: NodeSetup| Peer { addr: s.addr, out: VecDeque::new() };
//!
//! let mut sim = Simulation::new(1, FaultProfile::ideal());
//! let a = sim.add_node("User A", peer);
//! let b = sim.add_node("User B", peer);
//! // B is unreachable for the first second.
//! sim.network_mut().isolate(b, Window::new(Instant::ZERO, Instant::from_millis(1000)));
//! let to = sim.address(b);
//! let options = b"OPTIONS sip:b@192.0.2.2 SIP/2.0\r\nContent-Length: 0\r\n\r\n".to_vec();
//! for ms in [0, 500, 1500] {
//!     let data = options.clone();
//!     sim.schedule_on(Instant::from_millis(ms), a, move |p: &mut Peer, _| {
//!         p.out.push_back(Transmit { from: p.addr, to, data });
//!     });
//! }
//! sim.run_until(Instant::from_millis(2000));
//! assert_eq!(
//!     ladder(sim.trace(), &LadderOptions::default()),
//!     "F1  OPTIONS  User A -> User B (lost)\n\
//!      F2  OPTIONS  User A -> User B (retransmission) (lost)\n\
//!      F3  OPTIONS  User A -> User B (retransmission)\n\
//!      F4  200 OK   User B -> User A\n"
//! );
//! ```
//!
//! The [`cli`] module holds the `handset-sim` command line and the
//! [`cli::FlowRegistry`] that named flows register into.

#![warn(missing_docs)]

pub mod cli;
pub mod fault;
pub mod flows;
pub mod network;
pub mod node;
pub mod phone_node;
pub mod proxy;
pub mod render;
pub mod simulation;
pub mod sweep;
pub mod trace;

pub use fault::{Chance, FaultProfile, Window};
pub use network::{Network, NetworkStats};
pub use node::{NodeId, NodeSetup, SimNode, Transmit};
pub use render::{Format, MediaRows, RowOptions};
pub use simulation::{Simulation, StepEvent};
pub use trace::{Label, LossCause, Trace, TraceEntry};
