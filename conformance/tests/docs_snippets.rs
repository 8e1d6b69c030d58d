//! The code in the docs is code that compiles: every Rust block in
//! `docs/*.md` marked `<!-- excerpt: PATH -->` must appear, line for line
//! (up to a common indentation), in the file PATH, which the workspace
//! builds (an example, a test or a crate source).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `(path, code)` for every marked block of `markdown`.
fn excerpts(markdown: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        let Some(path) = line
            .trim()
            .strip_prefix("<!-- excerpt:")
            .and_then(|r| r.strip_suffix("-->"))
        else {
            continue;
        };
        assert_eq!(
            lines.next().map(str::trim),
            Some("```rust"),
            "the excerpt of {path} must be a ```rust block right below its marker"
        );
        let code: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        found.push((path.trim().to_string(), code.join("\n")));
    }
    found
}

/// Whether `code`'s lines occur consecutively in `source`, each indented
/// by the same number of extra spaces.
fn contains_block(source: &str, code: &str) -> bool {
    let src: Vec<&str> = source.lines().collect();
    let want: Vec<&str> = code.lines().collect();
    if want.is_empty() {
        return false;
    }
    (0..=16).step_by(4).any(|indent| {
        let pad = " ".repeat(indent);
        let shifted: Vec<String> = want
            .iter()
            .map(|l| {
                if l.is_empty() {
                    String::new()
                } else {
                    format!("{pad}{l}")
                }
            })
            .collect();
        src.windows(shifted.len())
            .any(|w| w.iter().zip(&shifted).all(|(a, b)| a.trim_end() == b))
    })
}

#[test]
fn every_excerpt_in_the_docs_is_still_in_its_source_file() {
    let docs = root().join("docs");
    let mut checked = 0;
    for entry in std::fs::read_dir(&docs).expect("docs/ exists") {
        let path = entry.expect("a directory entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("md") {
            continue;
        }
        let markdown = std::fs::read_to_string(&path).expect("readable markdown");
        for (source, code) in excerpts(&markdown) {
            let text = std::fs::read_to_string(root().join(&source)).unwrap_or_else(|e| {
                panic!(
                    "{} quotes {source}, which cannot be read: {e}",
                    path.display()
                )
            });
            assert!(
                contains_block(&text, &code),
                "{} quotes code that is no longer in {source}; copy the current code into the doc:\n{code}",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no excerpts found under docs/");
}

#[test]
fn the_check_finds_indented_blocks_and_refuses_changed_ones() {
    let source = "fn main() {\n    let a = 1;\n\n    let b = a + 1;\n}\n";
    assert!(contains_block(source, "let a = 1;\n\nlet b = a + 1;"));
    assert!(!contains_block(source, "let a = 1;\nlet b = a + 2;"));
    assert!(!contains_block(source, ""));
    let md = "text\n<!-- excerpt: x.rs -->\n```rust\nlet a = 1;\n```\nmore";
    assert_eq!(excerpts(md), vec![("x.rs".into(), "let a = 1;".into())]);
}
