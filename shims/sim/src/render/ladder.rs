//! The admin-guide step table as plain text: `F7  ACK  User A -> Proxy`.

use super::{rows, seconds, RowOptions};
use crate::trace::Trace;

/// Options of the text ladder.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LadderOptions {
    /// Which datagrams become lines.
    pub rows: RowOptions,
    /// Start each line with the send time in seconds.
    pub show_time: bool,
}

/// One line per step, columns aligned:
///
/// ```text
/// F1  INVITE          User A -> Proxy
/// F2  100 Trying      Proxy -> User A
/// F3  INVITE          Proxy -> User B
/// F4  INVITE          Proxy -> User B (retransmission)
/// ```
///
/// Media summaries (with [`MediaRows::Summarise`](super::MediaRows)) have no
/// step number. The trace's notes follow the steps, each on a line starting
/// with `-- `. Every line ends with a newline; an empty trace gives an
/// empty string.
pub fn ladder(trace: &Trace, opts: &LadderOptions) -> String {
    let rows = rows(trace, &opts.rows);
    let numbers: Vec<String> = rows
        .iter()
        .map(|r| r.number.map(|n| format!("F{n}")).unwrap_or_default())
        .collect();
    let texts: Vec<String> = rows.iter().map(|r| r.text()).collect();
    let times: Vec<String> = rows.iter().map(|r| seconds(r.sent_at)).collect();
    let number_width = numbers.iter().map(String::len).max().unwrap_or(0);
    let text_width = texts.iter().map(|t| t.chars().count()).max().unwrap_or(0);
    let time_width = times.iter().map(String::len).max().unwrap_or(0);
    let mut out = String::new();
    for (((r, number), text), time) in rows.iter().zip(&numbers).zip(&texts).zip(&times) {
        if opts.show_time {
            out.push_str(&format!("{time:>time_width$}  "));
        }
        let line = format!(
            "{number:<number_width$}  {text:<text_width$}  {} -> {}{}",
            r.from,
            r.to,
            r.marks()
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    for note in trace.notes() {
        out.push_str("-- ");
        out.push_str(note);
        out.push('\n');
    }
    out
}
