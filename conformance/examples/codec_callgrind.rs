//! Runs one codec workload a fixed number of times, for instruction counts
//! under `valgrind --tool=callgrind` (stable on a loaded machine, unlike
//! wall-clock time). The workloads are the criterion bench's
//! (`benches/codec.rs`), on the same messages.
//!
//! ```text
//! cargo build --release -p handset-conformance --example codec_callgrind
//! valgrind --tool=callgrind target/release/examples/codec_callgrind handset 1000
//! ```
//! Workloads: `handset`, `rsip`, `memchr`, `parse` (handset's parse alone),
//! `rsip_parse` (rsip's parse alone),
//! `write` (one INVITE per round),
//! `none` (set-up only, to subtract). Prints the message count per round.

use std::hint::black_box;

#[path = "../benches/common/codec_work.rs"]
mod work;

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "handset".into());
    let rounds: usize = args.next().map_or(1000, |n| n.parse().expect("rounds"));
    let both = work::messages_read_by_both();
    let mut sum = 0usize;
    let mut buf = [0u8; 1500];
    for round in 0..rounds {
        match which.as_str() {
            "handset" => {
                for m in &both {
                    sum += work::handset_read(black_box(m)).unwrap_or(0);
                }
            }
            "rsip" => {
                for m in &both {
                    sum += work::rsip_read(black_box(m)).unwrap_or(0);
                }
            }
            "parse" => {
                for m in &both {
                    sum += work::handset_parse(black_box(m)).unwrap_or(0);
                }
            }
            "rsip_parse" => {
                for m in &both {
                    sum += work::rsip_parse(black_box(m)).unwrap_or(0);
                }
            }
            "memchr" => {
                for m in &both {
                    sum += work::crlf_count(black_box(m));
                }
            }
            "write" => {
                sum += work::write_invite(black_box(&mut buf), round as u32).unwrap_or(0);
            }
            "none" => {}
            other => panic!("unknown workload {other}"),
        }
    }
    let bytes: usize = both.iter().map(Vec::len).sum();
    println!(
        "{which}: {rounds} rounds of {} messages ({bytes} bytes); checksum {}; size_of::<Message>() = {}",
        both.len(),
        black_box(sum),
        std::mem::size_of::<handset_core::message::Message<'_>>()
    );
}
