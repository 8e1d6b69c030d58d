//! Codec speed: handset against the `rsip` crate on the same messages,
//! with a plain `memchr` CRLF count over the same bytes as the speed limit.
//!
//! Each workload parses a message and reads the headers a phone reads on
//! every message: the top Via's branch, the From and To tags, Call-ID,
//! CSeq (number and method) and the first Contact's URI.
//!
//! Run (release, ~1 minute):
//! `cargo bench -p handset-conformance --bench codec`
//! Per-message time = reported time / number of messages (printed first).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use handset_conformance::codec::load_corpus;
use handset_core::message::Message;
use rsip::prelude::*;

/// The RFC 3665 call-flow messages and the RFC 4475 §3.1.1 valid messages.
fn messages() -> Vec<Vec<u8>> {
    load_corpus()
        .into_iter()
        .filter(|e| {
            e.expect_ok && (e.name.starts_with("rfc3665/") || e.name.starts_with("rfc4475/valid/"))
        })
        .map(|e| e.bytes)
        .collect()
}

/// handset: parse, then read the common headers; returns a checksum.
fn handset_read(bytes: &[u8]) -> Option<usize> {
    let m = Message::parse_datagram(bytes).ok()?;
    let via = m.top_via()?.ok()?;
    let mut sum = via.branch().map_or(0, str::len);
    sum += m.from()?.ok()?.tag().map_or(0, str::len);
    sum += m.to()?.ok()?.tag().map_or(0, str::len);
    sum += m.call_id()?.len();
    let cseq = m.cseq()?.ok()?;
    sum += cseq.seq as usize + cseq.method.as_str().len();
    if let Some(c) = m.contact() {
        sum += c.ok()?.uri.raw.len();
    }
    Some(sum)
}

/// rsip: the same reads through its typed headers.
fn rsip_read(bytes: &[u8]) -> Option<usize> {
    let m = rsip::SipMessage::try_from(bytes).ok()?;
    let via = m.via_header().ok()?.typed().ok()?;
    let mut sum = via.branch().map_or(0, |b| b.to_string().len());
    sum += m
        .from_header()
        .ok()?
        .tag()
        .ok()?
        .map_or(0, |t| t.to_string().len());
    sum += m
        .to_header()
        .ok()?
        .tag()
        .ok()?
        .map_or(0, |t| t.to_string().len());
    sum += m.call_id_header().ok()?.to_string().len();
    let cseq = m.cseq_header().ok()?.typed().ok()?;
    sum += cseq.seq as usize + cseq.method.to_string().len();
    if let Ok(c) = m.contact_header() {
        sum += c.uri().ok()?.to_string().len();
    }
    Some(sum)
}

fn crlf_count(bytes: &[u8]) -> usize {
    memchr::memmem::find_iter(bytes, b"\r\n").count()
}

fn bench(c: &mut Criterion) {
    let all = messages();
    // Compare on the messages both codecs read.
    let both: Vec<Vec<u8>> = all
        .iter()
        .filter(|m| handset_read(m).is_some() && rsip_read(m).is_some())
        .cloned()
        .collect();
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
    g.bench_function("memchr_crlf", |b| {
        b.iter(|| both.iter().map(|m| crlf_count(black_box(m))).sum::<usize>())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
