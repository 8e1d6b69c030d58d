//! Transaction table cost per transaction at a steady fill: how the time
//! to match a message and run timers grows (or not) with table size.
//!
//! Each iteration is the table's share of one request over UDP: a new
//! non-INVITE server transaction is started in its slot (`start_server`),
//! its retransmission is matched (`on_request`), the TU's 200 is sent
//! through the table (`send_response`, into a buffer of its pool), the
//! next wake-up is asked for (`poll_timeout`), the clock advances, and the
//! timers due run (`handle_timer`, about one Timer J a step), so half the
//! slots stay live throughout, each waiting out its 32 s Timer J.
//!
//! - `table/steady/2048`, `table/steady/16384`: 1,024 and 8,192 live
//!   transactions (the Linux shim's `server` and `load` capacities).
//!
//! Criterion's `thrpt` is transactions per second.
//!
//! Run (release, ~20 s): `cargo bench -p handset-conformance --bench table`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use handset_core::message::Message;
use handset_core::time::{Duration, Instant};
use handset_core::transaction::{Reliability, TimerConfig, TransactionTable};

fn request(n: u64) -> String {
    format!(
        "OPTIONS sip:bob@example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{n:016x}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=1\r\n\
         To: <sip:bob@example.com>\r\nCall-ID: c{n}\r\nCSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

fn ok(n: u64) -> String {
    format!(
        "SIP/2.0 200 OK\r\n\
         Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{n:016x}\r\n\
         From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>;tag=2\r\n\
         Call-ID: c{n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
}

/// A table with `live` transactions whose Timer J deadlines are spread
/// evenly over the next 32 s, and the step between two deadlines.
struct Steady<const N: usize> {
    table: Box<TransactionTable<N>>,
    now: Instant,
    step: Duration,
    next: u64,
}

impl<const N: usize> Steady<N> {
    fn new(live: u64) -> Self {
        // A large table is built on a thread whose stack holds it.
        let table = std::thread::Builder::new()
            .stack_size(4 * std::mem::size_of::<TransactionTable<N>>() + (16 << 20))
            .spawn(|| Box::new(TransactionTable::<N>::new()))
            .expect("spawn")
            .join()
            .expect("build table");
        let step = Duration::from_micros(32_000_000 / live);
        let mut s = Steady {
            table,
            now: Instant::ZERO,
            step,
            next: 0,
        };
        for _ in 0..live {
            s.one();
        }
        s
    }

    /// The table's work for one request.
    fn one(&mut self) {
        let n = self.next;
        self.next += 1;
        let req = request(n);
        let peer = "192.0.2.1:5060".parse().expect("peer");
        let id = self
            .table
            .start_server(
                req.as_bytes(),
                peer,
                Reliability::Unreliable,
                TimerConfig::default(),
                self.now,
            )
            .expect("room");
        let msg = Message::parse_datagram(req.as_bytes()).expect("parse");
        black_box(self.table.on_request(self.now, &msg));
        let resp = ok(n);
        self.table
            .send_response(id, self.now, resp.as_bytes())
            .expect("200");
        black_box(self.table.poll_timeout());
        self.now += self.step;
        while let Some(e) = self.table.handle_timer(self.now) {
            black_box(e);
        }
    }
}

fn steady<const N: usize>(c: &mut Criterion) {
    let mut g = c.benchmark_group("table/steady");
    g.throughput(Throughput::Elements(1));
    let mut s = Steady::<N>::new(N as u64 / 2);
    g.bench_function(BenchmarkId::from_parameter(N), |b| b.iter(|| s.one()));
    assert!(s.table.len() <= N / 2 + 2, "the fill stays steady");
    g.finish();
}

fn benches(c: &mut Criterion) {
    steady::<2048>(c);
    steady::<16384>(c);
}

criterion_group! {
    name = table;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_secs(2))
        .measurement_time(std::time::Duration::from_secs(5));
    targets = benches
}
criterion_main!(table);
