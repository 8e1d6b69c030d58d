//! A Mermaid `sequenceDiagram` of the trace.

use super::{participants, rows, RowOptions};
use crate::trace::Trace;

/// The rows of `trace` as a Mermaid sequence diagram: participants in
/// order of first appearance, one arrow per row labelled `F1 INVITE`.
/// Lost datagrams end in a cross (`-x`), duplicates and media summaries
/// are dotted (`-->>`).
pub fn mermaid(trace: &Trace, opts: &RowOptions) -> String {
    let rows = rows(trace, opts);
    let names = participants(&rows);
    let id = |name: &str| {
        let i = names.iter().position(|n| n == name).unwrap_or(0);
        format!("P{}", i + 1)
    };
    let mut out = String::from("sequenceDiagram\n");
    for (i, name) in names.iter().enumerate() {
        out.push_str(&format!("    participant P{} as {}\n", i + 1, escape(name)));
    }
    for r in &rows {
        let arrow = if r.all_lost() {
            "-x"
        } else if r.duplicate || r.number.is_none() {
            "-->>"
        } else {
            "->>"
        };
        let text = r.caption();
        out.push_str(&format!(
            "    {}{arrow}{}: {}\n",
            id(&r.from),
            id(&r.to),
            escape(&text)
        ));
    }
    out
}

/// Mermaid treats `;` as a statement end and `#` as an entity start, and a
/// line break ends a message; write them as entity codes.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            ';' => out.push_str("#59;"),
            '#' => out.push_str("#35;"),
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn statement_and_entity_characters_are_escaped() {
        assert_eq!(escape("a;b#c\nd"), "a#59;b#35;c d");
    }
}
