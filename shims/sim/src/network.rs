//! The simulated network: a virtual clock, the datagrams in flight ordered by
//! (arrival time, send sequence), per-link fault profiles drawn from one
//! seed, partitions that heal, and the [`Trace`] of everything sent.
//!
//! Nothing here touches a real socket. Node addresses come from the
//! documentation ranges of RFC 5737 (192.0.2.0/24, then 198.51.100.0/24 and
//! 203.0.113.0/24) and only ever label traces and pcap files.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use handset_core::rng::Rng;
use handset_core::time::Instant;

use crate::fault::{Fate, FaultProfile, Window};
use crate::node::{NodeId, Transmit};
use crate::trace::{LossCause, NodeInfo, Trace};

/// The SIP port every node gets unless placed elsewhere (RFC 3261 §19.1.2).
pub const SIP_PORT: u16 = 5060;

/// The largest UDP payload an IPv4 datagram can carry (65,535 − 20 − 8).
pub const MAX_UDP_PAYLOAD: usize = 65_507;

/// A cut in the network for a time window: datagrams sent or due inside it
/// are dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// The link between two nodes, both directions.
    Link(NodeId, NodeId, Window),
    /// Every link of one node.
    Node(NodeId, Window),
}

impl Cut {
    fn window(&self) -> Window {
        match *self {
            Cut::Link(_, _, w) | Cut::Node(_, w) => w,
        }
    }

    fn covers(&self, from: NodeId, to: NodeId) -> bool {
        match *self {
            Cut::Link(a, b, _) => (a, b) == (from, to) || (b, a) == (from, to),
            Cut::Node(n, _) => n == from || n == to,
        }
    }
}

/// A datagram that has reached its receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Arrival time.
    pub at: Instant,
    /// The receiving node.
    pub to: NodeId,
    /// Index of the datagram in the trace (its payload lives there).
    pub entry: usize,
}

/// Counters of what the network did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetworkStats {
    /// Datagrams handed to the network by nodes.
    pub sent: u64,
    /// Datagrams (copies included) that reached a node.
    pub delivered: u64,
    /// Datagrams dropped by random loss.
    pub lost_random: u64,
    /// Datagrams dropped by a partition.
    pub lost_partition: u64,
    /// Datagrams to an address no node owns, or too large.
    pub undeliverable: u64,
    /// Extra copies made.
    pub duplicated: u64,
}

/// The virtual network: clock, links, datagrams in flight and the trace.
#[derive(Debug)]
pub struct Network {
    now: Instant,
    rng: Rng,
    default_profile: FaultProfile,
    links: BTreeMap<(NodeId, NodeId), FaultProfile>,
    cuts: Vec<Cut>,
    by_ip: HashMap<IpAddr, NodeId>,
    in_flight: BTreeMap<(Instant, u64), Delivery>,
    seq: u64,
    trace: Trace,
    stats: NetworkStats,
}

impl Network {
    /// A network with no nodes, all links following `profile`, whose every
    /// random draw comes from `seed`.
    pub fn new(seed: u64, profile: FaultProfile) -> Network {
        Network {
            now: Instant::ZERO,
            rng: Rng::new(seed),
            default_profile: profile,
            links: BTreeMap::new(),
            cuts: Vec::new(),
            by_ip: HashMap::new(),
            in_flight: BTreeMap::new(),
            seq: 0,
            trace: Trace::new(),
            stats: NetworkStats::default(),
        }
    }

    /// The virtual clock.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Moves the clock forward to `t` (never backwards).
    pub fn advance_to(&mut self, t: Instant) {
        if t > self.now {
            self.now = t;
        }
    }

    /// The address the next added node gets by default: the n-th
    /// documentation address (RFC 5737), port 5060.
    pub fn next_address(&self) -> SocketAddr {
        documentation_address(self.trace.nodes().len())
    }

    /// Adds a node that owns every port of `addr`'s IP.
    ///
    /// # Panics
    /// If another node already owns that IP (a mistake in the scenario).
    pub fn add_node(&mut self, name: &str, addr: SocketAddr) -> NodeId {
        assert!(
            !self.by_ip.contains_key(&addr.ip()),
            "two simulated nodes cannot share the address {}",
            addr.ip()
        );
        let id = self.trace.add_node(NodeInfo {
            name: name.to_string(),
            addr,
        });
        self.by_ip.insert(addr.ip(), id);
        id
    }

    /// The node that owns `ip`, if any.
    pub fn node_at(&self, ip: IpAddr) -> Option<NodeId> {
        self.by_ip.get(&ip).copied()
    }

    /// A node's name and address.
    pub fn node(&self, id: NodeId) -> Option<&NodeInfo> {
        self.trace.node(id)
    }

    /// The node whose name is `name`, if any.
    pub fn node_named(&self, name: &str) -> Option<NodeId> {
        self.trace
            .nodes()
            .iter()
            .position(|n| n.name == name)
            .map(NodeId)
    }

    /// Sets the profile of every link that has none of its own.
    pub fn set_default_profile(&mut self, profile: FaultProfile) {
        self.default_profile = profile;
    }

    /// Sets the profile of the direction `from` → `to`.
    pub fn set_link(&mut self, from: NodeId, to: NodeId, profile: FaultProfile) {
        self.links.insert((from, to), profile);
    }

    /// Sets the profile of both directions between `a` and `b`.
    pub fn set_link_both(&mut self, a: NodeId, b: NodeId, profile: FaultProfile) {
        self.set_link(a, b, profile);
        self.set_link(b, a, profile);
    }

    /// The profile that applies to `from` → `to`.
    pub fn profile(&self, from: NodeId, to: NodeId) -> FaultProfile {
        self.links
            .get(&(from, to))
            .copied()
            .unwrap_or(self.default_profile)
    }

    /// Cuts the link between `a` and `b` (both ways) during `window`.
    pub fn partition(&mut self, a: NodeId, b: NodeId, window: Window) {
        self.cuts.push(Cut::Link(a, b, window));
    }

    /// Cuts every link of `node` during `window`.
    pub fn isolate(&mut self, node: NodeId, window: Window) {
        self.cuts.push(Cut::Node(node, window));
    }

    /// Every cut declared so far.
    pub fn cuts(&self) -> &[Cut] {
        &self.cuts
    }

    /// Whether `from` → `to` is cut at `t`.
    pub fn is_cut(&self, from: NodeId, to: NodeId, t: Instant) -> bool {
        self.cuts
            .iter()
            .any(|c| c.covers(from, to) && c.window().contains(t))
    }

    /// Hands a datagram from `from` to the network at the current time:
    /// records it in the trace and, unless the link drops it, schedules its
    /// delivery (twice if duplicated). Returns the trace index.
    ///
    /// A datagram is lost to a partition when the link is cut at the moment
    /// it is sent or at the moment it would arrive.
    pub fn send(&mut self, from: NodeId, transmit: Transmit) -> usize {
        let now = self.now;
        let Transmit {
            from: src,
            to: dst,
            data,
        } = transmit;
        let src = if src.ip().is_unspecified() {
            self.node(from).map_or(src, |n| n.addr)
        } else {
            src
        };
        self.stats.sent += 1;
        let Some(to) = self.node_at(dst.ip()) else {
            self.stats.undeliverable += 1;
            let cause = Some(LossCause::NoRoute);
            return self
                .trace
                .record_send(now, from, None, src, dst, data, None, cause);
        };
        let (arrival, copy_arrival) = match self.route(from, to, data.len()) {
            Ok(arrivals) => arrivals,
            Err(cause) => {
                return self.trace.record_send(
                    now,
                    from,
                    Some(to),
                    src,
                    dst,
                    data,
                    None,
                    Some(cause),
                );
            }
        };
        let entry =
            self.trace
                .record_send(now, from, Some(to), src, dst, data, Some(arrival), None);
        self.schedule(arrival, to, entry);
        if let Some(copy_arrival) = copy_arrival {
            if let Some(dup) = self.trace.record_duplicate(entry, copy_arrival) {
                self.stats.duplicated += 1;
                self.schedule(copy_arrival, to, dup);
            }
        }
        entry
    }

    /// The fate of a datagram of `len` bytes sent now from `from` to `to`:
    /// its arrival time and that of a duplicate, if any, or why it is lost.
    fn route(
        &mut self,
        from: NodeId,
        to: NodeId,
        len: usize,
    ) -> Result<(Instant, Option<Instant>), LossCause> {
        if len > MAX_UDP_PAYLOAD {
            self.stats.undeliverable += 1;
            return Err(LossCause::Oversized);
        }
        // Draw the fate first, whatever the partitions say, so that adding a
        // partition does not shift the random stream of later datagrams.
        let profile = self.profile(from, to);
        let Fate::Delivered { delay, copy } = profile.decide(&mut self.rng) else {
            self.stats.lost_random += 1;
            return Err(LossCause::Random);
        };
        let now = self.now;
        let arrival = now + delay;
        let down = |net: &Network, t: Instant| net.is_cut(from, to, t) || profile.is_down(t);
        if down(self, now) || down(self, arrival) {
            self.stats.lost_partition += 1;
            return Err(LossCause::Partition);
        }
        let copy = copy.map(|d| now + d).filter(|&t| !down(self, t));
        Ok((arrival, copy))
    }

    fn schedule(&mut self, at: Instant, to: NodeId, entry: usize) {
        let seq = self.next_seq();
        self.in_flight.insert((at, seq), Delivery { at, to, entry });
    }

    /// The next value of the sequence that orders events due at the same
    /// instant (shared with the simulation's scripted actions).
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// The (time, sequence) key of the next delivery, if any is in flight.
    pub fn next_delivery(&self) -> Option<(Instant, u64)> {
        self.in_flight.keys().next().copied()
    }

    /// Takes the next delivery off the queue (without moving the clock).
    pub fn pop_delivery(&mut self) -> Option<Delivery> {
        let (_, d) = self.in_flight.pop_first()?;
        self.stats.delivered += 1;
        Some(d)
    }

    /// Number of datagrams in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// The trace of everything sent so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Adds a line about the run to the trace (see [`Trace::note`]).
    pub fn note(&mut self, line: impl Into<String>) {
        self.trace.note(line);
    }

    /// Gives up the trace.
    pub fn into_trace(self) -> Trace {
        self.trace
    }

    /// What the network did so far.
    pub fn stats(&self) -> NetworkStats {
        self.stats
    }
}

/// The `n`-th (0-based) pseudo-address: 192.0.2.1–254, then 198.51.100.1–254,
/// then 203.0.113.1–254 (RFC 5737 documentation ranges), port 5060.
///
/// # Panics
/// Past 762 nodes, which no scenario needs.
pub fn documentation_address(n: usize) -> SocketAddr {
    const NETS: [[u8; 3]; 3] = [[192, 0, 2], [198, 51, 100], [203, 0, 113]];
    let net = NETS
        .get(n / 254)
        .unwrap_or_else(|| panic!("no documentation address left for node {n}"));
    // n % 254 + 1 is in 1..=254.
    let host = (n % 254 + 1) as u8;
    SocketAddr::new(
        IpAddr::V4(Ipv4Addr::new(net[0], net[1], net[2], host)),
        SIP_PORT,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use handset_core::time::Duration;

    #[test]
    fn documentation_addresses_stay_in_rfc5737_ranges() {
        assert_eq!(documentation_address(0).to_string(), "192.0.2.1:5060");
        assert_eq!(documentation_address(253).to_string(), "192.0.2.254:5060");
        assert_eq!(documentation_address(254).to_string(), "198.51.100.1:5060");
        assert_eq!(documentation_address(761).to_string(), "203.0.113.254:5060");
    }

    fn tx(to: SocketAddr, data: &[u8]) -> Transmit {
        Transmit {
            from: SocketAddr::from(([0, 0, 0, 0], 0)),
            to,
            data: data.to_vec(),
        }
    }

    #[test]
    fn delivers_after_the_link_delay_in_send_order() {
        let mut net = Network::new(1, FaultProfile::ideal());
        let a = net.add_node("A", net.next_address());
        let b = net.add_node("B", net.next_address());
        net.set_link(
            a,
            b,
            FaultProfile::ideal().with_delay(Duration::from_millis(20)),
        );
        let b_addr = net.node(b).unwrap().addr;
        net.send(a, tx(b_addr, b"one"));
        net.send(a, tx(b_addr, b"two"));
        let first = net.pop_delivery().unwrap();
        let second = net.pop_delivery().unwrap();
        assert_eq!(first.at, Instant::from_millis(20));
        assert_eq!((first.entry, second.entry), (0, 1));
        assert_eq!(first.to, b);
        // The unspecified source was replaced by the sender's address.
        assert_eq!(net.trace().entries()[0].src, net.node(a).unwrap().addr);
        assert!(net.pop_delivery().is_none());
    }

    #[test]
    fn unknown_destination_and_oversized_datagrams_are_recorded_as_lost() {
        let mut net = Network::new(1, FaultProfile::ideal());
        let a = net.add_node("A", net.next_address());
        let b = net.add_node("B", net.next_address());
        let b_addr = net.node(b).unwrap().addr;
        net.send(a, tx(SocketAddr::from(([192, 0, 2, 99], 5060)), b"x"));
        net.send(a, tx(b_addr, &vec![b'x'; MAX_UDP_PAYLOAD + 1]));
        let causes: Vec<_> = net.trace().entries().iter().map(|e| e.lost).collect();
        assert_eq!(
            causes,
            [Some(LossCause::NoRoute), Some(LossCause::Oversized)]
        );
        assert_eq!(net.in_flight(), 0);
        assert_eq!(net.stats().undeliverable, 2);
    }

    #[test]
    fn a_cut_drops_datagrams_sent_or_due_inside_it() {
        let mut net = Network::new(
            1,
            FaultProfile::ideal().with_delay(Duration::from_millis(10)),
        );
        let a = net.add_node("A", net.next_address());
        let b = net.add_node("B", net.next_address());
        let b_addr = net.node(b).unwrap().addr;
        net.partition(
            b,
            a,
            Window::new(Instant::from_millis(100), Instant::from_millis(200)),
        );
        for (t, want_lost) in [
            (85, false),
            (95, true),
            (150, true),
            (199, true),
            (200, false),
        ] {
            net.advance_to(Instant::from_millis(t));
            let i = net.send(a, tx(b_addr, format!("{t}").as_bytes()));
            assert_eq!(
                net.trace().entries()[i].is_lost(),
                want_lost,
                "sent at {t} ms"
            );
        }
        assert_eq!(net.stats().lost_partition, 3);
    }

    #[test]
    #[should_panic(expected = "cannot share")]
    fn two_nodes_on_one_ip_is_a_scenario_error() {
        let mut net = Network::new(1, FaultProfile::ideal());
        let addr = net.next_address();
        net.add_node("A", addr);
        net.add_node("B", addr);
    }
}
