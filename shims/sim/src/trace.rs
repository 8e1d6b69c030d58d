//! The record of every datagram a simulation put on the wire, in send order,
//! with what the network did to it. Renderers in [`crate::render`] turn it
//! into ladders, diagrams, JSON and pcap.

use std::collections::HashMap;
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::{IpAddr, SocketAddr};

use handset_core::time::Instant;

use crate::node::NodeId;

/// A node as the trace names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    /// Display name ("User A", "Proxy").
    pub name: String,
    /// The node's SIP address.
    pub addr: SocketAddr,
}

/// Why the network did not deliver a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LossCause {
    /// The link's random loss.
    Random,
    /// The link was cut (a partition) when the datagram was sent or due.
    Partition,
    /// No node owns the destination address.
    NoRoute,
    /// Larger than a UDP/IPv4 datagram can be.
    Oversized,
}

impl LossCause {
    /// A short lowercase name ("random", "partition", ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            LossCause::Random => "random",
            LossCause::Partition => "partition",
            LossCause::NoRoute => "no-route",
            LossCause::Oversized => "oversized",
        }
    }
}

/// One datagram on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEntry {
    /// Position in send order, from 1.
    pub step: usize,
    /// When the sender handed it to the network.
    pub sent_at: Instant,
    /// When it reached the receiver; `None` if lost.
    pub delivered_at: Option<Instant>,
    /// The sending node.
    pub from: NodeId,
    /// The receiving node; `None` when no node owns the destination.
    pub to: Option<NodeId>,
    /// Source address and port.
    pub src: SocketAddr,
    /// Destination address and port.
    pub dst: SocketAddr,
    /// The payload.
    pub data: Vec<u8>,
    /// The sender sent these very bytes to this receiver before.
    pub retransmission: bool,
    /// A copy the network made (the sender sent it once).
    pub duplicate: bool,
    /// Why it was not delivered, if it was not.
    pub lost: Option<LossCause>,
}

impl TraceEntry {
    /// What the datagram is, from its first bytes.
    pub fn label(&self) -> Label {
        Label::of(&self.data)
    }

    /// Whether the network dropped it.
    pub fn is_lost(&self) -> bool {
        self.lost.is_some()
    }
}

/// What a datagram carries, read from its first line or header bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Label {
    /// A SIP request; the method as written (`INVITE`).
    Request(String),
    /// A SIP response: status code and reason phrase (`200`, `OK`).
    Response(u16, String),
    /// An RTP packet.
    Rtp,
    /// An RTCP packet.
    Rtcp,
    /// A CRLF keep-alive.
    KeepAlive,
    /// Anything else.
    Other,
}

impl Label {
    /// Classifies a datagram by its first bytes. Parses the SIP start line
    /// only (RFC 3261 §7.1 and §7.2), leniently: enough to name a step.
    pub fn of(data: &[u8]) -> Label {
        // RFC 5626 §4.4.1: a CRLF (or double CRLF) is a keep-alive ping/pong.
        if data == b"\r\n" || data == b"\r\n\r\n" {
            return Label::KeepAlive;
        }
        if let Some(label) = sip_start_line(data) {
            return label;
        }
        // RFC 3550 §5.1: version 2 in the top bits; RFC 5761 §4: payload
        // types 192..=223 in the second byte are RTCP packet types.
        if data.len() >= 8 && data[0] >> 6 == 2 {
            if (192..=223).contains(&data[1]) {
                return Label::Rtcp;
            }
            if data.len() >= 12 {
                return Label::Rtp;
            }
        }
        Label::Other
    }

    /// Whether this is a SIP request or response.
    pub fn is_sip(&self) -> bool {
        matches!(self, Label::Request(_) | Label::Response(..))
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Label::Request(method) => f.write_str(method),
            Label::Response(code, reason) if reason.is_empty() => write!(f, "{code}"),
            Label::Response(code, reason) => write!(f, "{code} {reason}"),
            Label::Rtp => f.write_str("RTP"),
            Label::Rtcp => f.write_str("RTCP"),
            Label::KeepAlive => f.write_str("keep-alive"),
            Label::Other => f.write_str("UDP"),
        }
    }
}

/// The label of a SIP start line, or `None` if `data` does not begin with
/// one.
fn sip_start_line(data: &[u8]) -> Option<Label> {
    let end = data
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(data.len());
    let line = std::str::from_utf8(data.get(..end)?).ok()?;
    // RFC 3261 §7.2: Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    if let Some(rest) = strip_version_prefix(line) {
        let code = rest.get(..3)?;
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let after = rest.get(3..)?;
        if !(after.is_empty() || after.starts_with(' ')) {
            return None;
        }
        let code: u16 = code.parse().ok()?;
        return Some(Label::Response(code, after.trim().to_string()));
    }
    // RFC 3261 §7.1: Request-Line = Method SP Request-URI SP SIP-Version
    let mut parts = line.split(' ');
    let method = parts.next()?;
    let _uri = parts.next().filter(|u| !u.is_empty())?;
    let version = parts.next()?;
    if parts.next().is_some() || !version.eq_ignore_ascii_case("SIP/2.0") {
        return None;
    }
    if method.is_empty() || !method.bytes().all(is_token_byte) {
        return None;
    }
    Some(Label::Request(method.to_string()))
}

/// `line` after a leading `SIP/2.0 ` (version case-insensitive, §7.1).
fn strip_version_prefix(line: &str) -> Option<&str> {
    let version = line.get(..8)?;
    if version.eq_ignore_ascii_case("SIP/2.0 ") {
        line.get(8..)
    } else {
        None
    }
}

/// RFC 3261 §25.1 `token` characters.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// Every datagram of a run, in send order, and the nodes they went between.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    nodes: Vec<NodeInfo>,
    entries: Vec<TraceEntry>,
    /// Earlier sends by (sender, receiver IP, payload hash), to mark
    /// retransmissions without comparing against every entry.
    sent: HashMap<(NodeId, IpAddr, u64), Vec<usize>>,
    /// Lines a flow adds about what it measured (e.g. the loss and jitter
    /// the phones' RTCP reports gave), shown after the ladder.
    notes: Vec<String>,
    /// Set when the run missed its flow's intended end but reached a
    /// degraded end the RFC prescribes, proven from this trace: why.
    degraded: Option<String>,
}

impl Trace {
    /// An empty trace over no nodes.
    pub fn new() -> Trace {
        Trace::default()
    }

    /// Registers a node; returns its id.
    pub fn add_node(&mut self, info: NodeInfo) -> NodeId {
        self.nodes.push(info);
        NodeId(self.nodes.len() - 1)
    }

    /// All nodes, in the order they were added.
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    /// The node with this id, if any.
    pub fn node(&self, id: NodeId) -> Option<&NodeInfo> {
        self.nodes.get(id.0)
    }

    /// The display name of a node (`"?"` for an unknown id).
    pub fn node_name(&self, id: NodeId) -> &str {
        self.node(id).map_or("?", |n| n.name.as_str())
    }

    /// The display name of an entry's receiver: the node's name, or the
    /// destination address when no node owns it.
    pub fn receiver_name(&self, entry: &TraceEntry) -> String {
        match entry.to {
            Some(id) => self.node_name(id).to_string(),
            None => entry.dst.to_string(),
        }
    }

    /// Every datagram, in send order.
    pub fn entries(&self) -> &[TraceEntry] {
        &self.entries
    }

    /// Number of recorded datagrams (network-made duplicates included).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing was sent.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The SIP messages only, in send order.
    pub fn sip_entries(&self) -> impl Iterator<Item = &TraceEntry> {
        self.entries.iter().filter(|e| e.label().is_sip())
    }

    /// Records a datagram as its sender sent it; returns its index.
    /// Retransmission is decided here: the same bytes from the same sender to
    /// the same receiver as an earlier send.
    #[allow(clippy::too_many_arguments)]
    pub fn record_send(
        &mut self,
        sent_at: Instant,
        from: NodeId,
        to: Option<NodeId>,
        src: SocketAddr,
        dst: SocketAddr,
        data: Vec<u8>,
        delivered_at: Option<Instant>,
        lost: Option<LossCause>,
    ) -> usize {
        let mut h = DefaultHasher::new();
        data.hash(&mut h);
        let key = (from, dst.ip(), h.finish());
        let earlier = self.sent.entry(key).or_default();
        let retransmission = earlier
            .iter()
            .any(|&i| self.entries.get(i).is_some_and(|e| e.data == data));
        let index = self.entries.len();
        earlier.push(index);
        self.entries.push(TraceEntry {
            step: index + 1,
            sent_at,
            delivered_at,
            from,
            to,
            src,
            dst,
            data,
            retransmission,
            duplicate: false,
            lost,
        });
        index
    }

    /// The part of the trace from entry `first` (0-based) on, renumbered
    /// from step 1: a flow's ladder without the set-up that preceded it
    /// (registrations before the call a flow is about). Marks computed
    /// over the whole run (retransmission, duplicate) are kept.
    pub fn since(&self, first: usize) -> Trace {
        let mut t = Trace {
            nodes: self.nodes.clone(),
            notes: self.notes.clone(),
            degraded: self.degraded.clone(),
            ..Trace::default()
        };
        for (i, e) in self.entries.iter().skip(first).enumerate() {
            let mut e = e.clone();
            e.step = i + 1;
            t.entries.push(e);
        }
        t
    }

    /// Adds a line about the run, shown after the ladder.
    pub fn note(&mut self, line: impl Into<String>) {
        self.notes.push(line.into());
    }

    /// Marks the run as ending in a degraded end state (see
    /// `flows::degraded`), with the missed expectation and the proof; the
    /// reason is also added as a note.
    pub fn set_degraded(&mut self, why: impl Into<String>) {
        let why = why.into();
        self.notes.push(format!("degraded end: {why}"));
        self.degraded = Some(why);
    }

    /// Why the run ended in a degraded end state, if it did.
    pub fn degraded(&self) -> Option<&str> {
        self.degraded.as_deref()
    }

    /// The lines added with [`Trace::note`], in order.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Records the network's second copy of entry `original`, delivered at
    /// `delivered_at`; returns its index.
    pub fn record_duplicate(&mut self, original: usize, delivered_at: Instant) -> Option<usize> {
        let orig = self.entries.get(original)?;
        let index = self.entries.len();
        let copy = TraceEntry {
            step: index + 1,
            delivered_at: Some(delivered_at),
            retransmission: false,
            duplicate: true,
            lost: None,
            ..orig.clone()
        };
        self.entries.push(copy);
        Some(index)
    }

    /// Counts: (sent by nodes, lost, network duplicates, retransmissions).
    pub fn counts(&self) -> TraceCounts {
        let mut c = TraceCounts::default();
        for e in &self.entries {
            if e.duplicate {
                c.duplicates += 1;
                continue;
            }
            c.sent += 1;
            if e.is_lost() {
                c.lost += 1;
            }
            if e.retransmission {
                c.retransmissions += 1;
            }
        }
        c
    }
}

/// Totals over a trace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceCounts {
    /// Datagrams the nodes sent (duplicates excluded).
    pub sent: usize,
    /// Datagrams the network dropped.
    pub lost: usize,
    /// Extra copies the network delivered.
    pub duplicates: usize,
    /// Sends whose bytes repeated an earlier send on the same path.
    pub retransmissions: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_from_start_lines() {
        let cases: &[(&[u8], Label)] = &[
            (
                b"INVITE sip:bob@example.com SIP/2.0\r\nVia: x\r\n",
                Label::Request("INVITE".into()),
            ),
            (b"ACK sip:b@h SIP/2.0\r\n", Label::Request("ACK".into())),
            (
                b"SIP/2.0 200 OK\r\nVia: x\r\n",
                Label::Response(200, "OK".into()),
            ),
            (
                b"SIP/2.0 180 Ringing\r\n",
                Label::Response(180, "Ringing".into()),
            ),
            (
                b"sip/2.0 486 Busy Here\n",
                Label::Response(486, "Busy Here".into()),
            ),
            (b"SIP/2.0 603\r\n", Label::Response(603, String::new())),
            (b"\r\n\r\n", Label::KeepAlive),
            (b"SIP/2.0 20 OK\r\n", Label::Other),
            (b"SIP/2.0 2000 OK\r\n", Label::Other),
            (b"INVITE  SIP/2.0\r\n", Label::Other),
            (b"IN(VITE sip:a SIP/2.0\r\n", Label::Other),
            (b"INVITE sip:a SIP/3.0\r\n", Label::Other),
            (b"", Label::Other),
        ];
        for (data, want) in cases {
            assert_eq!(
                &Label::of(data),
                want,
                "{:?}",
                String::from_utf8_lossy(data)
            );
        }
        assert_eq!(Label::Response(200, "OK".into()).to_string(), "200 OK");
        assert_eq!(Label::Response(603, String::new()).to_string(), "603");
    }

    #[test]
    fn labels_rtp_and_rtcp() {
        let mut rtp = [0u8; 172];
        rtp[0] = 0x80;
        rtp[1] = 0; // PCMU
        assert_eq!(Label::of(&rtp), Label::Rtp);
        let mut rr = [0u8; 8];
        rr[0] = 0x81;
        rr[1] = 201; // receiver report
        assert_eq!(Label::of(&rr), Label::Rtcp);
        assert_eq!(Label::of(&rr[..4]), Label::Other);
        assert!(!Label::Rtp.is_sip());
    }

    fn addr(last: u8) -> SocketAddr {
        SocketAddr::from(([192, 0, 2, last], 5060))
    }

    #[test]
    fn same_bytes_same_path_is_a_retransmission_other_path_is_not() {
        let mut t = Trace::new();
        let a = t.add_node(NodeInfo {
            name: "A".into(),
            addr: addr(1),
        });
        let b = t.add_node(NodeInfo {
            name: "B".into(),
            addr: addr(2),
        });
        let c = t.add_node(NodeInfo {
            name: "C".into(),
            addr: addr(3),
        });
        let msg = b"OPTIONS sip:b SIP/2.0\r\n\r\n".to_vec();
        let at = Instant::ZERO;
        let i0 = t.record_send(at, a, Some(b), addr(1), addr(2), msg.clone(), None, None);
        let i1 = t.record_send(at, a, Some(c), addr(1), addr(3), msg.clone(), None, None);
        let i2 = t.record_send(at, b, Some(a), addr(2), addr(1), msg.clone(), None, None);
        let i3 = t.record_send(
            at,
            a,
            Some(b),
            addr(1),
            addr(2),
            msg.clone(),
            None,
            Some(LossCause::Random),
        );
        let d = t.record_duplicate(i0, Instant::from_millis(3)).unwrap();
        let flags: Vec<(bool, bool)> = t
            .entries()
            .iter()
            .map(|e| (e.retransmission, e.duplicate))
            .collect();
        assert_eq!(
            flags,
            [
                (false, false),
                (false, false),
                (false, false),
                (true, false),
                (false, true)
            ]
        );
        assert_eq!((i0, i1, i2, i3, d), (0, 1, 2, 3, 4));
        assert_eq!(t.entries()[4].step, 5);
        assert_eq!(
            t.counts(),
            TraceCounts {
                sent: 4,
                lost: 1,
                duplicates: 1,
                retransmissions: 1
            }
        );
    }
}
