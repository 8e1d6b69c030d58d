//! An SVG sequence diagram of the trace: one lifeline per node, one
//! labelled horizontal arrow per row, send times down the left margin.
//! Integer coordinates only, so the output is byte-for-byte deterministic.

use std::fmt::Write as _;

use super::{participants, rows, seconds, Row, RowOptions};
use crate::trace::Trace;

/// Width of the time margin on the left.
const LEFT: i64 = 90;
/// Distance between two lifelines.
const COLUMN: i64 = 190;
/// Height of a participant's name box.
const BOX_HEIGHT: i64 = 30;
/// Top of the name boxes.
const TOP: i64 = 10;
/// Vertical distance between two arrows.
const ROW: i64 = 34;
/// Gap between the name boxes and the first arrow.
const FIRST_ROW_GAP: i64 = 36;

/// Stroke colours by kind of row.
const PLAIN: &str = "#1f3a5f";
const RETRANSMITTED: &str = "#b35900";
const LOST: &str = "#b22222";
const FAINT: &str = "#7a7a7a";

/// A white outline under label text, so lifelines crossing a label do not
/// strike through it.
const HALO: &str = " stroke=\"white\" stroke-width=\"4\" paint-order=\"stroke\"";

/// The rows of `trace` as a standalone SVG document.
pub fn svg(trace: &Trace, opts: &RowOptions) -> String {
    let rows = rows(trace, opts);
    let names = participants(&rows);
    let columns = names.len().max(1) as i64;
    let width = LEFT + columns * COLUMN + 10;
    let first_row = TOP + BOX_HEIGHT + FIRST_ROW_GAP;
    let bottom_box = first_row + rows.len() as i64 * ROW;
    let height = bottom_box + BOX_HEIGHT + TOP;
    let center = |name: &str| {
        let i = names.iter().position(|n| n == name).unwrap_or(0) as i64;
        LEFT + COLUMN / 2 + i * COLUMN
    };

    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"Helvetica, Arial, sans-serif\" \
         font-size=\"13\">"
    );
    out.push_str("<defs>\n");
    for (id, colour) in [
        ("plain", PLAIN),
        ("retransmitted", RETRANSMITTED),
        ("faint", FAINT),
    ] {
        let _ = writeln!(
            out,
            "<marker id=\"arrow-{id}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
             markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">\
             <path d=\"M0,0 L10,5 L0,10 z\" fill=\"{colour}\"/></marker>"
        );
    }
    out.push_str("</defs>\n");
    let _ = writeln!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"white\"/>"
    );

    // Lifelines and the name boxes at both ends.
    for name in &names {
        let x = center(name);
        let _ = writeln!(
            out,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{bottom_box}\" stroke=\"#999999\" \
             stroke-dasharray=\"4,4\"/>",
            TOP + BOX_HEIGHT
        );
        for y in [TOP, bottom_box] {
            let _ = writeln!(
                out,
                "<rect x=\"{}\" y=\"{y}\" width=\"{}\" height=\"{BOX_HEIGHT}\" rx=\"4\" \
                 fill=\"#eef3f8\" stroke=\"{PLAIN}\"/>\
                 <text x=\"{x}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"bold\">{}</text>",
                x - COLUMN / 2 + 10,
                COLUMN - 20,
                y + BOX_HEIGHT / 2 + 5,
                escape(name)
            );
        }
    }

    for (i, row) in rows.iter().enumerate() {
        let y = first_row + i as i64 * ROW + ROW / 2;
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{FAINT}\">{} s</text>",
            LEFT - 8,
            y + 4,
            seconds(row.sent_at)
        );
        arrow(&mut out, row, center(&row.from), center(&row.to), y);
    }
    out.push_str("</svg>\n");
    out
}

/// One row's arrow and label at height `y`, from `x1` to `x2`.
fn arrow(out: &mut String, row: &Row, x1: i64, x2: i64, y: i64) {
    let (colour, marker) = if row.all_lost() {
        (LOST, None)
    } else if row.retransmission {
        (RETRANSMITTED, Some("retransmitted"))
    } else if row.duplicate || row.number.is_none() {
        (FAINT, Some("faint"))
    } else {
        (PLAIN, Some("plain"))
    };
    let dash = if row.duplicate || row.number.is_none() || row.all_lost() {
        " stroke-dasharray=\"6,3\""
    } else {
        ""
    };
    let marker_attr = marker
        .map(|m| format!(" marker-end=\"url(#arrow-{m})\""))
        .unwrap_or_default();
    let label = row.caption();
    if x1 == x2 {
        // A datagram to itself: a small loop to the right of the lifeline.
        let _ = writeln!(
            out,
            "<path d=\"M{x1},{} h30 v12 h-30\" fill=\"none\" stroke=\"{colour}\" \
             stroke-width=\"1.5\"{dash}{marker_attr}/>\
             <text x=\"{}\" y=\"{}\" fill=\"{colour}\"{HALO}>{}</text>",
            y - 6,
            x1 + 36,
            y + 4,
            escape(&label)
        );
        return;
    }
    // A lost datagram stops three quarters of the way, under a cross.
    let end = if row.all_lost() {
        x1 + (x2 - x1) * 3 / 4
    } else {
        x2
    };
    let _ = writeln!(
        out,
        "<line x1=\"{x1}\" y1=\"{y}\" x2=\"{end}\" y2=\"{y}\" stroke=\"{colour}\" \
         stroke-width=\"1.5\"{dash}{marker_attr}/>"
    );
    if row.all_lost() {
        let _ = writeln!(
            out,
            "<path d=\"M{},{} l10,10 M{},{} l-10,10\" stroke=\"{LOST}\" stroke-width=\"2\"/>",
            end - 5,
            y - 5,
            end + 5,
            y - 5
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{colour}\"{HALO}>{}</text>",
        (x1 + x2) / 2,
        y - 6,
        escape(&label)
    );
}

/// `s` as XML character data or attribute text.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if u32::from(c) < 0x20 => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_characters_are_escaped() {
        assert_eq!(
            escape("<a & 'b'>\"\n"),
            "&lt;a &amp; &#39;b&#39;&gt;&quot; "
        );
    }
}
