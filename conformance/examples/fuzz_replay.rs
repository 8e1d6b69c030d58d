//! Replays one fuzz input (a file, or a property-test seed and length) with
//! every step, datagram and event printed:
//! `cargo run -p handset-conformance --example fuzz_replay -- phone FILE`,
//! `... -- phone-seed SEED LEN`, `... -- sdp FILE`.

use handset_conformance::harness::{phone, sdp, seeded_bytes};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::env::set_var("HANDSET_FUZZ_TRACE", "1");
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["phone", file] => {
            let data = std::fs::read(file).expect("readable input");
            println!("{:?}", phone::run(&data));
        }
        ["phone-seed", seed, len] => {
            let data = seeded_bytes(seed.parse().expect("seed"), len.parse().expect("len"));
            println!("{:?}", phone::run(&data));
        }
        ["sdp", file] => sdp::run(&std::fs::read(file).expect("readable input")),
        _ => eprintln!("usage: fuzz_replay phone FILE | phone-seed SEED LEN | sdp FILE"),
    }
}
