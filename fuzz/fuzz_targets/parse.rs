//! Any bytes, parsed as a datagram and as a stream, validated, and read
//! through every typed accessor: nothing may panic.
//!
//! Run: `cargo +nightly fuzz run parse` (from the repository root).
#![no_main]

use handset_conformance::codec::read_typed_headers;
use handset_core::message::{HeaderName, Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for parsed in [Message::parse_datagram(data), Message::parse_stream(data)] {
        let Ok(m) = parsed else {
            continue;
        };
        assert!(m.len() <= data.len());
        let _ = m.validate();
        let _ = read_typed_headers(&m);
        for field in m.headers() {
            let _ = m.header_values(HeaderName::parse(field.name)).count();
        }
        if let Some(Ok(refer_to)) = m.refer_to() {
            let mut buf = [0u8; 64];
            let _ = refer_to.replaces(&mut buf);
        }
        for c in m.challenges(HeaderName::WwwAuthenticate) {
            if let Ok(c) = c {
                let _ = c.digest().map(|d| d.qop_options().count());
            }
        }
    }
});
