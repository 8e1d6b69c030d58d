//! Parsing, validating and reading every typed header of the whole corpus
//! allocates nothing: the core works without a heap. This test binary
//! counts every allocation its test thread makes through its global
//! allocator (`allocation-counter` counts per thread, so the test
//! harness's own threads cannot disturb the count).

use handset_conformance::codec::{load_corpus, read_typed_headers};
use handset_core::message::Message;

/// Everything the codec does with one message; returns a checksum so that
/// nothing is optimised away.
fn exercise(bytes: &[u8]) -> usize {
    let mut sum = 0;
    for m in [Message::parse_datagram(bytes), Message::parse_stream(bytes)]
        .into_iter()
        .flatten()
    {
        sum += m.len();
        if m.validate().is_ok() {
            sum += 1;
        }
        sum += match read_typed_headers(&m) {
            Ok(n) => n,
            Err(e) => e.error.offset,
        };
    }
    sum
}

#[test]
fn the_whole_corpus_is_handled_without_allocating() {
    // Everything is read and set up before the measured region.
    let corpus = load_corpus();
    assert!(!corpus.is_empty());
    let inputs: Vec<&[u8]> = corpus.iter().map(|e| e.bytes.as_slice()).collect();

    let mut total = 0usize;
    let stats = allocation_counter::measure(|| {
        for bytes in &inputs {
            total = total.wrapping_add(exercise(bytes));
        }
    });

    assert!(total > 0);
    assert_eq!(
        (stats.count_total, stats.bytes_total),
        (0, 0),
        "the codec allocated while handling {} messages",
        inputs.len()
    );

    // The measurement itself works: a Vec is counted.
    let stats = allocation_counter::measure(|| drop(std::hint::black_box(vec![1u8; 64])));
    assert!(stats.count_total >= 1 && stats.bytes_total >= 64);
}
