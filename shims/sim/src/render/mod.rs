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
