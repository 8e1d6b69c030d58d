//! The async stream transport over the in-memory pipe pair.

mod common;

use common::{addr, block_on, pipe_pair};
use handset_baremetal::{AsyncStreamTransport, FrameError, StreamError};
use handset_core::message::{Message, MessageWriter, Method};

fn notify(i: u32, body_len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let mut w = MessageWriter::new(&mut buf);
    w.request_line(Method::Notify, "sip:bob@example.com");
    w.header_fmt(
        "Via",
        format_args!("SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK{i}"),
    );
    w.header("From", "<sip:a@example.com>;tag=1");
    w.header("To", "<sip:bob@example.com>;tag=2");
    w.header("Call-ID", "async");
    w.header_fmt("CSeq", format_args!("{i} NOTIFY"));
    w.header("Event", "refer");
    let body = vec![b'n'; body_len];
    let n = w.finish(Some("message/sipfrag"), &body).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn async_transport_frames_split_reads_and_sends_whole_messages() {
    let (a_io, b_io) = pipe_pair(1 << 20, 5);
    let mut a: AsyncStreamTransport<_, 512, 400> =
        AsyncStreamTransport::new(a_io, addr("10.0.0.1:5060"), addr("10.0.0.2:5060"));
    let mut b: AsyncStreamTransport<_, 512, 512> =
        AsyncStreamTransport::new(b_io, addr("10.0.0.2:5060"), addr("10.0.0.1:5060"));
    let sent: Vec<Vec<u8>> = (1..=4).map(|i| notify(i, 20 * i as usize)).collect();
    for m in &sent {
        let (r, polls) = block_on(a.send(m));
        r.unwrap();
        assert!(polls > 1, "the writer yielded");
    }
    assert_eq!(
        block_on(a.send(&notify(9, 600))).0,
        Err(StreamError::Frame(FrameError::TooLarge))
    );
    let mut got = Vec::new();
    for _ in 0..sent.len() {
        let (m, polls) = block_on(b.receive());
        let m = m.unwrap().to_vec();
        // 5-byte reads: many waits per message.
        assert!(polls > m.len() / 5);
        assert_eq!(Message::parse_stream(&m).unwrap().len(), m.len());
        got.push(m);
    }
    assert_eq!(got, sent);
    b.io_mut().rx.borrow_mut().closed = true;
    assert_eq!(block_on(b.receive()).0, Err(StreamError::Closed));
}
