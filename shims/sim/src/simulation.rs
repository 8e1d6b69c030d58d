//! The discrete-event loop: nodes on a [`Network`], scripted actions, and a
//! virtual clock that jumps from one event to the next.

use std::any::Any;
use std::collections::BTreeMap;
use std::net::SocketAddr;

use handset_core::rng::Rng;
use handset_core::time::{Duration, Instant};

use crate::fault::FaultProfile;
use crate::network::Network;
use crate::node::{NodeId, NodeSetup, SimNode};
use crate::trace::Trace;

/// How many events may happen at one instant before the simulation calls it
/// a livelock (a node that keeps asking for a tick at the same time, or two
/// nodes ping-ponging with zero delay).
const MAX_EVENTS_PER_INSTANT: u64 = 1_000_000;

/// How many datagrams one node may hand over in one go.
const MAX_TRANSMITS_PER_DRAIN: usize = 100_000;

/// A scripted action, run when the clock reaches its time.
type Action = Box<dyn FnOnce(&mut Simulation)>;

/// A node of any type, kept so that scenarios can get their concrete type
/// back to script and inspect it.
trait NodeSlot {
    fn sim_node(&mut self) -> &mut dyn SimNode;
    fn timeout(&self) -> Option<Instant>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<N: SimNode + 'static> NodeSlot for N {
    fn sim_node(&mut self) -> &mut dyn SimNode {
        self
    }
    fn timeout(&self) -> Option<Instant> {
        self.poll_timeout()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// What one [`Simulation::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepEvent {
    /// A datagram (trace index `entry`) reached `to`.
    Delivered {
        /// The receiver.
        to: NodeId,
        /// Trace index of the datagram.
        entry: usize,
    },
    /// A node's timeout fired.
    Tick(NodeId),
    /// A scripted action ran.
    Action,
}

/// A deterministic discrete-event simulation of nodes on a network.
///
/// ```
/// use handset_sim::{FaultProfile, Simulation, SimNode, Transmit};
/// use handset_core::time::{Duration, Instant};
/// use std::net::SocketAddr;
///
/// /// Answers every datagram with the same bytes.
/// struct Echo { addr: SocketAddr, out: Vec<Transmit> }
/// impl SimNode for Echo {
///     fn handle_datagram(&mut self, _: Instant, from: SocketAddr, _: SocketAddr, data: &[u8]) {
///         self.out.push(Transmit { from: self.addr, to: from, data: data.to_vec() });
///     }
///     fn handle_tick(&mut self, _: Instant) {}
///     fn poll_transmit(&mut self, _: Instant) -> Option<Transmit> { self.out.pop() }
///     fn poll_timeout(&self) -> Option<Instant> { None }
/// }
///
/// let mut sim = Simulation::new(1, FaultProfile::ideal());
/// let a = sim.add_node("User A", |s| Echo { addr: s.addr, out: vec![] });
/// let b = sim.add_node("User B", |s| Echo { addr: s.addr, out: vec![] });
/// let b_addr = sim.address(b);
/// // At 5 ms, A says hello to B; B echoes it back, A echoes that, and so on.
/// sim.schedule_on(Instant::from_millis(5), a, move |n: &mut Echo, _| {
///     n.out.push(Transmit { from: n.addr, to: b_addr, data: b"hello".to_vec() });
/// });
/// sim.run_until(Instant::from_millis(10));
/// // One-way delay is 1 ms: sends at 5, 6, 7, 8, 9 and 10 ms.
/// assert_eq!(sim.trace().len(), 6);
/// assert!(sim.trace().entries()[2].retransmission); // A -> B "hello" again
/// ```
pub struct Simulation {
    network: Network,
    nodes: Vec<Box<dyn NodeSlot>>,
    actions: BTreeMap<(Instant, u64), Action>,
    seeds: Rng,
    last_instant: Instant,
    events_at_instant: u64,
}

impl std::fmt::Debug for Simulation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation")
            .field("now", &self.now())
            .field("nodes", &self.network.trace().nodes())
            .field("actions", &self.actions.len())
            .field("in_flight", &self.network.in_flight())
            .finish()
    }
}

impl Simulation {
    /// An empty simulation at time zero. `seed` fixes every random draw of
    /// the network and every node seed; `profile` applies to every link
    /// without one of its own.
    pub fn new(seed: u64, profile: FaultProfile) -> Simulation {
        Simulation {
            network: Network::new(seed, profile),
            nodes: Vec::new(),
            actions: BTreeMap::new(),
            // A separate stream, so node seeds do not depend on how many
            // datagrams the network has already decided.
            seeds: Rng::new(seed ^ 0x5EED_0000_0000_5EED),
            last_instant: Instant::ZERO,
            events_at_instant: 0,
        }
    }

    /// Adds a node at the next documentation address (port 5060);
    /// `make` builds it from its [`NodeSetup`].
    pub fn add_node<N, F>(&mut self, name: &str, make: F) -> NodeId
    where
        N: SimNode + 'static,
        F: FnOnce(NodeSetup) -> N,
    {
        let addr = self.network.next_address();
        self.add_node_at(name, addr, make)
    }

    /// Adds a node that owns `addr`'s IP.
    ///
    /// # Panics
    /// If another node owns that IP already.
    pub fn add_node_at<N, F>(&mut self, name: &str, addr: SocketAddr, make: F) -> NodeId
    where
        N: SimNode + 'static,
        F: FnOnce(NodeSetup) -> N,
    {
        let id = self.network.add_node(name, addr);
        let setup = NodeSetup {
            id,
            name: name.to_string(),
            addr,
            seed: self.seeds.next_u64(),
        };
        self.nodes.push(Box::new(make(setup)));
        id
    }

    /// The virtual clock.
    pub fn now(&self) -> Instant {
        self.network.now()
    }

    /// The network, to read its stats or trace.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The network, to set link profiles and partitions.
    pub fn network_mut(&mut self) -> &mut Network {
        &mut self.network
    }

    /// Everything sent so far.
    pub fn trace(&self) -> &Trace {
        self.network.trace()
    }

    /// Ends the simulation, keeping its trace.
    pub fn into_trace(self) -> Trace {
        self.network.into_trace()
    }

    /// A node's SIP address.
    ///
    /// # Panics
    /// For an id from another simulation.
    pub fn address(&self, id: NodeId) -> SocketAddr {
        self.network
            .node(id)
            .unwrap_or_else(|| panic!("no node {id:?}"))
            .addr
    }

    /// The node named `name`, if any.
    pub fn node_named(&self, name: &str) -> Option<NodeId> {
        self.network.node_named(name)
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The node `id` as its concrete type, or `None` if it is another type.
    pub fn try_node<N: SimNode + 'static>(&self, id: NodeId) -> Option<&N> {
        self.nodes.get(id.0)?.as_any().downcast_ref()
    }

    /// The node `id` as its concrete type.
    ///
    /// # Panics
    /// If the node is not an `N` (a mistake in the scenario).
    pub fn node<N: SimNode + 'static>(&self, id: NodeId) -> &N {
        self.try_node(id)
            .unwrap_or_else(|| panic!("node {id:?} is not a {}", std::any::type_name::<N>()))
    }

    /// The node `id` as its concrete type, mutably. Datagrams it queues are
    /// sent at the next step; prefer [`Simulation::with_node`], which sends
    /// them at once.
    ///
    /// # Panics
    /// If the node is not an `N`.
    pub fn node_mut<N: SimNode + 'static>(&mut self, id: NodeId) -> &mut N {
        self.nodes
            .get_mut(id.0)
            .and_then(|n| n.as_any_mut().downcast_mut())
            .unwrap_or_else(|| panic!("node {id:?} is not a {}", std::any::type_name::<N>()))
    }

    /// Runs `f` on node `id` now, then sends whatever it queued.
    ///
    /// # Panics
    /// If the node is not an `N`.
    pub fn with_node<N: SimNode + 'static, R>(
        &mut self,
        id: NodeId,
        f: impl FnOnce(&mut N, Instant) -> R,
    ) -> R {
        let now = self.now();
        let r = f(self.node_mut(id), now);
        self.drain(id);
        r
    }

    /// Runs `f` when the clock reaches `at` (at once on the next step if
    /// `at` is past). Actions due at the same instant run in the order they
    /// were scheduled, before the datagrams scheduled after them.
    pub fn schedule(&mut self, at: Instant, f: impl FnOnce(&mut Simulation) + 'static) {
        let seq = self.network.next_seq();
        self.actions.insert((at.max(self.now()), seq), Box::new(f));
    }

    /// Runs `f` on node `id` when the clock reaches `at`, then sends what it
    /// queued.
    pub fn schedule_on<N: SimNode + 'static>(
        &mut self,
        at: Instant,
        id: NodeId,
        f: impl FnOnce(&mut N, Instant) + 'static,
    ) {
        self.schedule(at, move |sim| sim.with_node(id, f));
    }

    /// When the next event is due: a delivery, a scripted action or a node's
    /// timeout; `None` if nothing will ever happen again.
    pub fn next_event_time(&self) -> Option<Instant> {
        let queued = self.next_queued().map(|(t, _)| t);
        let timer = self.next_timer().map(|(t, _)| t);
        match (queued, timer) {
            (Some(q), Some(t)) => Some(q.min(t)),
            (q, t) => q.or(t),
        }
    }

    /// Performs the earliest event, moving the clock to it. Returns what
    /// happened, or `None` if nothing is left to do.
    ///
    /// At one instant, deliveries and actions (in the order they were
    /// queued) come before node timeouts; timeouts due together fire in
    /// node order.
    ///
    /// # Panics
    /// If more than a million events happen at one instant (a livelock in a
    /// node: it keeps asking for a tick without advancing).
    pub fn step(&mut self) -> Option<StepEvent> {
        self.step_until(Instant::from_micros(u64::MAX))
    }

    fn step_until(&mut self, deadline: Instant) -> Option<StepEvent> {
        let queued = self.next_queued();
        let timer = self.next_timer();
        let now = self.now();
        let take_queued = match (queued, timer) {
            (Some((q, _)), Some((t, _))) => q.max(now) <= t.max(now),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        let due = if take_queued {
            queued.map(|(t, _)| t)
        } else {
            timer.map(|(t, _)| t)
        }?
        .max(now);
        if due > deadline {
            return None;
        }
        self.enter_instant(due);
        if take_queued {
            let (_, is_action) = queued?;
            if is_action {
                let (_, action) = self.actions.pop_first()?;
                action(self);
                Some(StepEvent::Action)
            } else {
                let d = self.network.pop_delivery()?;
                self.deliver(d.to, d.entry);
                Some(StepEvent::Delivered {
                    to: d.to,
                    entry: d.entry,
                })
            }
        } else {
            let (_, id) = timer?;
            let now = self.now();
            if let Some(node) = self.nodes.get_mut(id.0) {
                node.sim_node().handle_tick(now);
            }
            self.drain(id);
            Some(StepEvent::Tick(id))
        }
    }

    /// Runs every event due up to and including `deadline`, then sets the
    /// clock to `deadline`.
    pub fn run_until(&mut self, deadline: Instant) {
        while self.step_until(deadline).is_some() {}
        self.network.advance_to(deadline);
    }

    /// Runs for `d` of virtual time from now.
    pub fn run_for(&mut self, d: Duration) {
        let deadline = self.now() + d;
        self.run_until(deadline);
    }

    /// Runs until `done` holds (checked before each event) or the next event
    /// lies past `deadline`; returns whether `done` held. The clock stays at
    /// the last event.
    pub fn run_until_true(
        &mut self,
        deadline: Instant,
        mut done: impl FnMut(&Simulation) -> bool,
    ) -> bool {
        loop {
            if done(self) {
                return true;
            }
            if self.step_until(deadline).is_none() {
                return done(self);
            }
        }
    }

    /// Whether nothing is in flight, scheduled or waiting on a timer.
    pub fn is_idle(&self) -> bool {
        self.next_event_time().is_none()
    }

    /// The earliest queued delivery or action: its time and whether it is an
    /// action. Ties go to the lower sequence number (queued first).
    fn next_queued(&self) -> Option<(Instant, bool)> {
        let delivery = self.network.next_delivery();
        let action = self.actions.keys().next().copied();
        match (delivery, action) {
            (Some(d), Some(a)) => Some(if a < d { (a.0, true) } else { (d.0, false) }),
            (Some(d), None) => Some((d.0, false)),
            (None, Some(a)) => Some((a.0, true)),
            (None, None) => None,
        }
    }

    /// The earliest node timeout and its node (lowest id on ties).
    fn next_timer(&self) -> Option<(Instant, NodeId)> {
        self.nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.timeout().map(|t| (t, NodeId(i))))
            .min()
    }

    fn enter_instant(&mut self, t: Instant) {
        if t == self.last_instant {
            self.events_at_instant += 1;
            assert!(
                self.events_at_instant <= MAX_EVENTS_PER_INSTANT,
                "livelock: more than {MAX_EVENTS_PER_INSTANT} events at {} us",
                t.as_micros()
            );
        } else {
            self.last_instant = t;
            self.events_at_instant = 1;
        }
        self.network.advance_to(t);
    }

    fn deliver(&mut self, to: NodeId, entry: usize) {
        let now = self.now();
        let Some(e) = self.network.trace().entries().get(entry) else {
            return;
        };
        let (src, dst) = (e.src, e.dst);
        if let Some(node) = self.nodes.get_mut(to.0) {
            // The payload stays in the trace; lend it to the node.
            let data = &self.network.trace().entries()[entry].data;
            node.sim_node().handle_datagram(now, src, dst, data);
        }
        self.drain(to);
    }

    /// Sends everything node `id` has queued.
    fn drain(&mut self, id: NodeId) {
        let now = self.now();
        let Some(node) = self.nodes.get_mut(id.0) else {
            return;
        };
        let node = node.sim_node();
        let mut n = 0;
        while let Some(t) = node.poll_transmit(now) {
            n += 1;
            assert!(
                n <= MAX_TRANSMITS_PER_DRAIN,
                "node {id:?} queued more than {MAX_TRANSMITS_PER_DRAIN} datagrams at once"
            );
            self.network.send(id, t);
        }
    }
}
