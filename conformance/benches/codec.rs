//! Codec speed: handset against the `rsip` crate on the same messages,
//! with a plain `memchr` CRLF count over the same bytes as the speed limit.
//!
//! The main workloads parse a message and read the headers a phone reads
//! on every message: the top Via's branch, the From and To tags, Call-ID,
//! CSeq (number and method) and the first Contact's URI. Two more parse
//! alone, without reading anything.
//!
//! A second group serialises a typical INVITE (with an SDP offer) through
//! `MessageWriter` into a stack buffer.
//!
//! Run (release, ~1 minute):
//! `cargo bench -p handset-conformance --bench codec`
//! Per-message time = reported time / number of messages (printed first).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

#[path = "common/codec_work.rs"]
mod work;
use work::{
    crlf_count, handset_parse, handset_read, messages, messages_read_by_both, rsip_parse,
    rsip_read, write_invite,
};

fn bench(c: &mut Criterion) {
    let all = messages();
    // Compare on the messages both codecs read.
    let both = messages_read_by_both();
    let bytes: usize = both.iter().map(Vec::len).sum();
    println!(
        "codec bench: {} messages ({} bytes); {} of {} read by both handset and rsip",
        both.len(),
        bytes,
        both.len(),
        all.len()
    );
    let mut g = c.benchmark_group("corpus");
    g.throughput(Throughput::Elements(both.len() as u64));
    g.bench_function("handset", |b| {
        b.iter(|| {
            both.iter()
                .map(|m| handset_read(black_box(m)).unwrap_or(0))
                .sum::<usize>()
        })
    });
    g.bench_function("rsip", |b| {
        b.iter(|| {
            both.iter()
                .map(|m| rsip_read(black_box(m)).unwrap_or(0))
                .sum::<usize>()
        })
    });
    // Parse alone, nothing read: rsip splits every header into its untyped
    // form, handset checks and indexes every header line.
    g.bench_function("handset_parse", |b| {
        b.iter(|| {
            both.iter()
                .map(|m| handset_parse(black_box(m)).unwrap_or(0))
                .sum::<usize>()
        })
    });
    g.bench_function("rsip_parse", |b| {
        b.iter(|| {
            both.iter()
                .map(|m| rsip_parse(black_box(m)).unwrap_or(0))
                .sum::<usize>()
        })
    });
    g.bench_function("memchr_crlf", |b| {
        b.iter(|| both.iter().map(|m| crlf_count(black_box(m))).sum::<usize>())
    });
    g.finish();

    let mut buf = [0u8; 1500];
    let invite_len = write_invite(&mut buf, 1).expect("the INVITE fits one MTU");
    println!("codec bench: the serialised INVITE is {invite_len} bytes");
    let mut w = c.benchmark_group("write");
    w.throughput(Throughput::Elements(1));
    w.bench_function("handset_invite", |b| {
        let mut cseq = 0u32;
        b.iter(|| {
            cseq = cseq.wrapping_add(1);
            write_invite(black_box(&mut buf), black_box(cseq))
        })
    });
    w.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
