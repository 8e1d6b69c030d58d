//! The trace as JSON: an array with one object per datagram.

use std::fmt::Write as _;

use crate::trace::Trace;

/// Every datagram of `trace` (media and network duplicates included), one
/// object per line:
///
/// ```json
/// {"step":1,"time_us":0,"delivered_us":1000,"from":"User A","to":"Proxy",
///  "src":"192.0.2.1:5060","dst":"192.0.2.3:5060","label":"INVITE",
///  "retransmission":false,"duplicate":false,"lost":false,"loss_cause":null,
///  "encoding":"utf-8","bytes":"INVITE sip:..."}
/// ```
///
/// `bytes` holds the payload as text: UTF-8 when it is valid UTF-8
/// (`"encoding":"utf-8"`), otherwise one character U+0000–U+00FF per byte
/// (`"encoding":"latin-1"`), so the bytes can always be recovered.
pub fn json(trace: &Trace) -> String {
    let mut out = String::from("[\n");
    let entries = trace.entries();
    for (i, e) in entries.iter().enumerate() {
        let (encoding, text) = match std::str::from_utf8(&e.data) {
            Ok(s) => ("utf-8", s.to_string()),
            Err(_) => ("latin-1", e.data.iter().map(|&b| char::from(b)).collect()),
        };
        let delivered = e
            .delivered_at
            .map_or("null".to_string(), |t| t.as_micros().to_string());
        let cause = e.lost.map_or("null".to_string(), |c| string(c.as_str()));
        let _ = write!(
            out,
            "  {{\"step\":{},\"time_us\":{},\"delivered_us\":{},\"from\":{},\"to\":{},\
             \"src\":{},\"dst\":{},\"label\":{},\"retransmission\":{},\"duplicate\":{},\
             \"lost\":{},\"loss_cause\":{},\"encoding\":{},\"bytes\":{}}}",
            e.step,
            e.sent_at.as_micros(),
            delivered,
            string(trace.node_name(e.from)),
            string(&trace.receiver_name(e)),
            string(&e.src.to_string()),
            string(&e.dst.to_string()),
            string(&e.label().to_string()),
            e.retransmission,
            e.duplicate,
            e.is_lost(),
            cause,
            string(encoding),
            string(&text),
        );
        out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
    }
    out.push_str("]\n");
    out
}

/// `s` as a JSON string literal (RFC 8259 §7).
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // C0 and C1 controls and DEL, escaped so they stay visible.
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::string;

    #[test]
    fn strings_escape_quotes_backslashes_and_controls() {
        assert_eq!(string("a\"b\\c\r\n\t\u{1}é"), r#""a\"b\\c\r\n\t\u0001é""#);
    }
}
