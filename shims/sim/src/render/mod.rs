//! Renderers of a [`Trace`]: the admin-guide ladder, a Mermaid and an SVG
//! sequence diagram, JSON and pcap.
//!
//! The ladder and the two diagrams share one view of the trace, a list of
//! [`Row`]s chosen by [`RowOptions`]: SIP messages one per row, numbered
//! `F1`, `F2`, … in send order, and media (RTP, RTCP, keep-alives) omitted,
//! summarised or listed. JSON and pcap carry every datagram.

mod json;
mod ladder;
mod mermaid;
mod pcap;
mod svg;

use std::fmt;
use std::str::FromStr;

use handset_core::time::Instant;

use crate::trace::{Trace, TraceEntry};

pub use json::json;
pub use ladder::{ladder, LadderOptions};
pub use mermaid::mermaid;
pub use pcap::{pcap, PcapOptions};
pub use svg::svg;

/// What to do with datagrams that are not SIP messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MediaRows {
    /// Leave them out.
    #[default]
    Omit,
    /// One unnumbered row per (kind, sender, receiver) between two SIP
    /// messages, with a count.
    Summarise,
    /// One numbered row each, like SIP messages.
    Each,
}

/// Which datagrams become rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RowOptions {
    /// Show datagrams the network dropped, marked `(lost)`.
    pub show_lost: bool,
    /// Show retransmissions, marked `(retransmission)`.
    pub show_retransmissions: bool,
    /// Show the network's duplicate copies, marked `(duplicate)`.
    pub show_duplicates: bool,
    /// What to do with non-SIP datagrams.
    pub media: MediaRows,
}

impl Default for RowOptions {
    fn default() -> Self {
        RowOptions {
            show_lost: true,
            show_retransmissions: true,
            show_duplicates: true,
            media: MediaRows::Omit,
        }
    }
}

impl RowOptions {
    /// Only what the receivers made use of: no lost datagrams, no
    /// retransmissions, no duplicates. The numbering then reads like a
    /// fault-free flow.
    pub fn clean() -> RowOptions {
        RowOptions {
            show_lost: false,
            show_retransmissions: false,
            show_duplicates: false,
            media: MediaRows::Omit,
        }
    }

    fn shows(&self, e: &TraceEntry) -> bool {
        (self.show_lost || !e.is_lost())
            && (self.show_retransmissions || !e.retransmission)
            && (self.show_duplicates || !e.duplicate)
    }
}

/// One line of a ladder or one arrow of a diagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// `F` number for single-message rows (from 1, counting shown rows
    /// only); `None` for a media summary.
    pub number: Option<usize>,
    /// Send time of the (first) datagram.
    pub sent_at: Instant,
    /// Sender's name.
    pub from: String,
    /// Receiver's name (or address when no node owns it).
    pub to: String,
    /// `INVITE`, `200 OK`, `RTP`, ...
    pub label: String,
    /// Datagrams this row stands for (1 unless a summary).
    pub count: usize,
    /// How many of them were lost.
    pub lost: usize,
    /// A retransmission (single rows only).
    pub retransmission: bool,
    /// A network duplicate (single rows only).
    pub duplicate: bool,
}

impl Row {
    /// The label with its count, e.g. `INVITE` or `RTP x50`.
    pub fn text(&self) -> String {
        if self.number.is_none() {
            format!("{} x{}", self.label, self.count)
        } else {
            self.label.clone()
        }
    }

    /// Markers after the route, e.g. ` (retransmission) (lost)`; empty for
    /// a clean row.
    pub fn marks(&self) -> String {
        let mut s = String::new();
        if self.retransmission {
            s.push_str(" (retransmission)");
        }
        if self.duplicate {
            s.push_str(" (duplicate)");
        }
        if self.number.is_some() {
            if self.lost > 0 {
                s.push_str(" (lost)");
            }
        } else if self.lost > 0 {
            s.push_str(&format!(" ({} lost)", self.lost));
        }
        s
    }

    /// The text of an arrow in a diagram: `F3 INVITE (lost)`, or
    /// `RTP x50` for a summary.
    pub fn caption(&self) -> String {
        match self.number {
            Some(n) => format!("F{n} {}{}", self.text(), self.marks()),
            None => format!("{}{}", self.text(), self.marks()),
        }
    }

    /// Whether every datagram of the row was lost.
    pub fn all_lost(&self) -> bool {
        self.lost > 0 && self.lost == self.count
    }
}

/// The rows of `trace` under `opts`.
pub fn rows(trace: &Trace, opts: &RowOptions) -> Vec<Row> {
    let mut out = Vec::new();
    let mut next_number = 1;
    // Media seen since the last SIP row, summarised by (label, from, to).
    let mut pending: Vec<Row> = Vec::new();
    for e in trace.entries() {
        if !opts.shows(e) {
            continue;
        }
        let label = e.label();
        let single = label.is_sip() || opts.media == MediaRows::Each;
        if !label.is_sip() && opts.media == MediaRows::Omit {
            continue;
        }
        let row = Row {
            number: None,
            sent_at: e.sent_at,
            from: trace.node_name(e.from).to_string(),
            to: trace.receiver_name(e),
            label: label.to_string(),
            count: 1,
            lost: usize::from(e.is_lost()),
            retransmission: e.retransmission,
            duplicate: e.duplicate,
        };
        if single {
            out.append(&mut pending);
            out.push(Row {
                number: Some(next_number),
                ..row
            });
            next_number += 1;
        } else if let Some(same) = pending
            .iter_mut()
            .find(|r| r.label == row.label && r.from == row.from && r.to == row.to)
        {
            same.count += 1;
            same.lost += row.lost;
        } else {
            pending.push(Row {
                retransmission: false,
                duplicate: false,
                ..row
            });
        }
    }
    out.append(&mut pending);
    out
}

/// Participants of `rows` in order of first appearance (sender before
/// receiver).
pub fn participants(rows: &[Row]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in rows {
        for n in [&r.from, &r.to] {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    names
}

/// `t` as seconds with millisecond precision, e.g. `1.032`.
pub fn seconds(t: Instant) -> String {
    let us = t.as_micros();
    format!("{}.{:03}", us / 1_000_000, us % 1_000_000 / 1000)
}

/// An output format of the simulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// The admin-guide step table as text.
    Ladder,
    /// A Mermaid `sequenceDiagram`.
    Mermaid,
    /// A JSON array, one object per datagram.
    Json,
    /// A classic libpcap capture (binary).
    Pcap,
    /// An SVG sequence diagram.
    Svg,
}

impl Format {
    /// Every format, in the order the command line lists them.
    pub const ALL: [Format; 5] = [
        Format::Ladder,
        Format::Mermaid,
        Format::Json,
        Format::Pcap,
        Format::Svg,
    ];

    /// The format's command-line name.
    pub const fn name(self) -> &'static str {
        match self {
            Format::Ladder => "ladder",
            Format::Mermaid => "mermaid",
            Format::Json => "json",
            Format::Pcap => "pcap",
            Format::Svg => "svg",
        }
    }

    /// Whether the output is binary (not fit for a terminal).
    pub const fn is_binary(self) -> bool {
        matches!(self, Format::Pcap)
    }

    /// Renders `trace` in this format, with `rows` choosing what the ladder
    /// and the diagrams show and whether the capture keeps lost datagrams
    /// and duplicates. JSON always carries every datagram.
    pub fn render(self, trace: &Trace, rows: &RowOptions) -> Vec<u8> {
        match self {
            Format::Ladder => ladder(
                trace,
                &LadderOptions {
                    rows: *rows,
                    show_time: false,
                },
            )
            .into_bytes(),
            Format::Mermaid => mermaid(trace, rows).into_bytes(),
            Format::Json => json(trace).into_bytes(),
            Format::Pcap => pcap(
                trace,
                &PcapOptions {
                    include_lost: rows.show_lost,
                    include_duplicates: rows.show_duplicates,
                },
            ),
            Format::Svg => svg(trace, rows).into_bytes(),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                format!("unknown format {s:?} (expected {})", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{LossCause, NodeInfo};
    use std::net::SocketAddr;

    /// A, B; an INVITE, its lost retransmission, five RTP packets A -> B
    /// (two lost), one RTP B -> A, then a 200 OK and its duplicate.
    fn trace() -> Trace {
        let addr = |last: u8| SocketAddr::from(([192, 0, 2, last], 5060));
        let mut t = Trace::new();
        let a = t.add_node(NodeInfo {
            name: "A".into(),
            addr: addr(1),
        });
        let b = t.add_node(NodeInfo {
            name: "B".into(),
            addr: addr(2),
        });
        let at = |ms| Instant::from_millis(ms);
        let invite = b"INVITE sip:b@192.0.2.2 SIP/2.0\r\n\r\n".to_vec();
        let lost = Some(LossCause::Random);
        t.record_send(
            at(0),
            a,
            Some(b),
            addr(1),
            addr(2),
            invite.clone(),
            Some(at(1)),
            None,
        );
        t.record_send(at(500), a, Some(b), addr(1), addr(2), invite, None, lost);
        for i in 0..5u8 {
            let mut rtp = vec![0u8; 12];
            rtp[0] = 0x80;
            rtp[3] = i;
            let fate = if i % 2 == 1 { lost } else { None };
            t.record_send(at(600), a, Some(b), addr(1), addr(2), rtp, None, fate);
        }
        let mut rtp = vec![0u8; 12];
        rtp[0] = 0x80;
        t.record_send(
            at(610),
            b,
            Some(a),
            addr(2),
            addr(1),
            rtp,
            Some(at(611)),
            None,
        );
        let ok = b"SIP/2.0 200 OK\r\n\r\n".to_vec();
        let i = t.record_send(
            at(700),
            b,
            Some(a),
            addr(2),
            addr(1),
            ok,
            Some(at(701)),
            None,
        );
        t.record_duplicate(i, at(703));
        t
    }

    fn lines(opts: RowOptions) -> Vec<String> {
        rows(&trace(), &opts)
            .iter()
            .map(|r| {
                let n = r.number.map(|n| format!("F{n}")).unwrap_or_default();
                format!("{n} {} {}>{}{}", r.text(), r.from, r.to, r.marks())
            })
            .collect()
    }

    #[test]
    fn default_rows_show_every_sip_message_with_marks() {
        assert_eq!(
            lines(RowOptions::default()),
            [
                "F1 INVITE A>B",
                "F2 INVITE A>B (retransmission) (lost)",
                "F3 200 OK B>A",
                "F4 200 OK B>A (duplicate)",
            ]
        );
    }

    #[test]
    fn summaries_count_media_per_direction_and_its_losses() {
        let opts = RowOptions {
            media: MediaRows::Summarise,
            ..RowOptions::default()
        };
        assert_eq!(
            lines(opts),
            [
                "F1 INVITE A>B",
                "F2 INVITE A>B (retransmission) (lost)",
                " RTP x5 A>B (2 lost)",
                " RTP x1 B>A",
                "F3 200 OK B>A",
                "F4 200 OK B>A (duplicate)",
            ]
        );
    }

    #[test]
    fn filters_drop_rows_and_renumber() {
        let opts = RowOptions {
            media: MediaRows::Each,
            ..RowOptions::clean()
        };
        assert_eq!(
            lines(opts),
            [
                "F1 INVITE A>B",
                "F2 RTP A>B",
                "F3 RTP A>B",
                "F4 RTP A>B",
                "F5 RTP B>A",
                "F6 200 OK B>A",
            ]
        );
        // Hiding retransmissions alone keeps the lost media.
        let opts = RowOptions {
            show_retransmissions: false,
            media: MediaRows::Summarise,
            ..RowOptions::default()
        };
        assert_eq!(lines(opts)[1], " RTP x5 A>B (2 lost)");
        assert_eq!(participants(&rows(&trace(), &opts)), ["A", "B"]);
    }

    #[test]
    fn formats_parse_from_their_names() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>(), Ok(f));
        }
        assert!("png".parse::<Format>().is_err());
        assert!(Format::Pcap.is_binary() && !Format::Svg.is_binary());
        assert_eq!(seconds(Instant::from_micros(61_032_999)), "61.032");
    }
}
