//! The codec workloads shared by the criterion bench (`benches/codec.rs`)
//! and the instruction-count driver (`examples/codec_callgrind.rs`), so both
//! measure exactly the same work.

use handset_conformance::codec::load_corpus;
use handset_core::message::{Message, MessageWriter, Method};
use rsip::prelude::*;

/// The RFC 3665 call-flow messages and the RFC 4475 §3.1.1 valid messages.
pub fn messages() -> Vec<Vec<u8>> {
    load_corpus()
        .into_iter()
        .filter(|e| {
            e.expect_ok && (e.name.starts_with("rfc3665/") || e.name.starts_with("rfc4475/valid/"))
        })
        .map(|e| e.bytes)
        .collect()
}

/// The messages both codecs read, the set every comparison runs on.
pub fn messages_read_by_both() -> Vec<Vec<u8>> {
    messages()
        .into_iter()
        .filter(|m| handset_read(m).is_some() && rsip_read(m).is_some())
        .collect()
}

/// handset: parse, then read the common headers; returns a checksum.
pub fn handset_read(bytes: &[u8]) -> Option<usize> {
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
pub fn rsip_read(bytes: &[u8]) -> Option<usize> {
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

/// handset: parse alone (framing, start line, every header line checked
/// and indexed); returns the message length.
pub fn handset_parse(bytes: &[u8]) -> Option<usize> {
    Message::parse_datagram(bytes).ok().map(|m| m.len())
}

/// rsip: parse alone (start line and every header split into its untyped
/// form); returns the header count.
pub fn rsip_parse(bytes: &[u8]) -> Option<usize> {
    rsip::SipMessage::try_from(bytes)
        .ok()
        .map(|m| m.headers().iter().count())
}

/// The speed limit: one pass over the bytes counting CRLFs.
pub fn crlf_count(bytes: &[u8]) -> usize {
    memchr::memmem::find_iter(bytes, b"\r\n").count()
}

/// The SDP offer of the INVITE that [`write_invite`] builds.
pub const OFFER: &[u8] = b"v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 192.0.2.101\r\n\
s=-\r\n\
c=IN IP4 192.0.2.101\r\n\
t=0 0\r\n\
m=audio 49172 RTP/AVP 0 8 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=ptime:20\r\n";

/// Serialises a typical outgoing INVITE, as a phone sends it, with an SDP
/// offer; returns its length.
pub fn write_invite(buf: &mut [u8], cseq: u32) -> Option<usize> {
    let mut w = MessageWriter::new(buf);
    w.request_line(Method::Invite, "sip:bob@biloxi.example.com");
    w.header_fmt(
        "Via",
        format_args!(
            "SIP/2.0/UDP 192.0.2.101:5060;branch=z9hG4bK{:08x};rport",
            cseq
        ),
    );
    w.header("Max-Forwards", "70");
    w.header(
        "From",
        "\"Alice\" <sip:alice@atlanta.example.com>;tag=9fxced76sl",
    );
    w.header("To", "<sip:bob@biloxi.example.com>");
    w.header("Call-ID", "3848276298220188511@atlanta.example.com");
    w.header_fmt("CSeq", format_args!("{} INVITE", cseq));
    w.header("Contact", "<sip:alice@192.0.2.101:5060;transport=udp>");
    w.header(
        "Allow",
        "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO, PRACK, UPDATE",
    );
    w.header("Supported", "replaces, timer, norefersub");
    w.header("User-Agent", "handset");
    w.finish(Some("application/sdp"), OFFER).ok()
}
