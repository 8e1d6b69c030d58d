//! Runs the strict codec (parse as a datagram, then validate) over every
//! corpus message listed in a `verdicts.txt` and checks each verdict.
//! RFC 4475 §3.1.1 messages must pass and §3.1.2 messages must fail; every
//! accepted message must also read through all its typed headers.

use handset_conformance::codec::{judge, load_corpus, read_typed_headers};

#[test]
fn every_corpus_message_gets_its_verdict() {
    let corpus = load_corpus();
    assert!(corpus.len() >= 49, "corpus too small: {}", corpus.len());
    let mut wrong = Vec::new();
    println!("{:<42} {:<6} {:<6} detail", "message", "expect", "got");
    for entry in &corpus {
        let got = judge(&entry.bytes);
        let detail = match &got {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        };
        let got_ok = got.is_ok();
        let mark = if got_ok == entry.expect_ok {
            ""
        } else {
            "  <-- WRONG"
        };
        println!(
            "{:<42} {:<6} {:<6} {detail}{mark}",
            entry.name,
            if entry.expect_ok { "ok" } else { "error" },
            if got_ok { "ok" } else { "error" },
        );
        if got_ok != entry.expect_ok {
            wrong.push(entry.name.clone());
        }
    }
    assert!(wrong.is_empty(), "wrong verdicts: {wrong:?}");
}

#[test]
fn rfc4475_split_is_exact() {
    let corpus = load_corpus();
    let valid: Vec<_> = corpus
        .iter()
        .filter(|e| e.name.starts_with("rfc4475/valid/"))
        .collect();
    let invalid: Vec<_> = corpus
        .iter()
        .filter(|e| e.name.starts_with("rfc4475/invalid/"))
        .collect();
    // RFC 4475 §3.1.1 has 13 valid messages, §3.1.2 has 19 invalid ones.
    assert_eq!((valid.len(), invalid.len()), (13, 19));
    for e in valid {
        assert!(judge(&e.bytes).is_ok(), "{} must pass", e.name);
    }
    for e in invalid {
        assert!(judge(&e.bytes).is_err(), "{} must fail", e.name);
    }
}

#[test]
fn accepted_messages_read_through_every_typed_header() {
    for entry in load_corpus() {
        // §3.3.4 messages carry URIs of unknown schemes: well formed, but
        // not addresses the typed accessors can hold.
        let typed = entry.name.starts_with("rfc4475/valid/") || entry.name.starts_with("rfc3665/");
        if !entry.expect_ok || !typed {
            continue;
        }
        let m = judge(&entry.bytes).expect("accepted");
        let n = read_typed_headers(&m)
            .unwrap_or_else(|e| panic!("{}: header {} failed: {}", entry.name, e.name, e.error));
        assert!(n >= 5, "{}: only {n} typed values read", entry.name);
        // Every header line is reachable by name, compact forms included.
        for field in m.headers() {
            assert!(
                m.header_by_name(field.name).is_some(),
                "{}: {} not reachable",
                entry.name,
                field.name
            );
        }
    }
}
