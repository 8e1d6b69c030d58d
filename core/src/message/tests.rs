use super::*;

const INVITE: &[u8] = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n\
Max-Forwards: 70\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
Call-ID: 3848276298220188511@atlanta.example.com\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@client.atlanta.example.com;transport=tcp>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\n";

#[test]
fn parses_a_request_and_its_headers() {
    let m = Message::parse_datagram(INVITE).unwrap();
    assert_eq!(m.method(), Some(Method::Invite));
    assert_eq!(m.request_line().unwrap().uri, "sip:bob@biloxi.example.com");
    assert_eq!(m.max_forwards(), Some(Ok(70)));
    assert_eq!(m.from().unwrap().unwrap().tag(), Some("9fxced76sl"));
    assert_eq!(m.to().unwrap().unwrap().tag(), None);
    assert_eq!(m.call_id(), Some("3848276298220188511@atlanta.example.com"));
    assert_eq!(
        m.cseq().unwrap().unwrap(),
        CSeq {
            seq: 1,
            method: Method::Invite
        }
    );
    assert_eq!(m.top_via().unwrap().unwrap().branch(), Some("z9hG4bK74bf9"));
    assert_eq!(m.contact().unwrap().unwrap().uri.transport(), Some("tcp"));
    assert_eq!(m.body(), b"v=0\n");
    assert_eq!(m.len(), INVITE.len());
    assert!(m.is_sip_2_0());
}

#[test]
fn stream_framing_reports_need_more_and_length() {
    for cut in 0..INVITE.len() {
        let e = Message::parse_stream(&INVITE[..cut]).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Incomplete, "cut at {cut}");
    }
    let mut two = [0u8; 2 * INVITE.len()];
    two[..INVITE.len()].copy_from_slice(INVITE);
    two[INVITE.len()..].copy_from_slice(INVITE);
    let first = Message::parse_stream(&two).unwrap();
    assert_eq!(first.len(), INVITE.len());
    let second = Message::parse_stream(&two[first.len()..]).unwrap();
    assert_eq!(second.body(), b"v=0\n");
}

#[test]
fn datagram_framing_rules() {
    // Larger Content-Length than the datagram: discarded (RFC 3261 §18.3).
    let short = &INVITE[..INVITE.len() - 1];
    assert_eq!(
        Message::parse_datagram(short).unwrap_err().kind,
        ParseErrorKind::BodyTruncated
    );
    // Trailing bytes beyond Content-Length are ignored.
    let mut long = [0u8; 1024];
    let n = INVITE.len();
    long[..n].copy_from_slice(INVITE);
    long[n..n + 2].copy_from_slice(b"xx");
    assert_eq!(
        Message::parse_datagram(&long[..n + 2]).unwrap().body(),
        b"v=0\n"
    );
}

#[test]
fn responses_compact_forms_and_multi_value_headers() {
    let raw = b"SIP/2.0 180 Ringing\r\n\
v: SIP/2.0/UDP p.example.com;branch=z9hG4bK1, SIP/2.0/UDP a.example.com;branch=z9hG4bK2\r\n\
v: SIP/2.0/UDP c.example.com;branch=z9hG4bK3\r\n\
f: <sip:a@b>;tag=1\r\nt: <sip:c@d>;tag=2\r\ni: x@y\r\nCSeq: 2 INVITE\r\n\
Record-Route: <sip:p1;lr>, <sip:p2;lr>\r\nl: 0\r\n\r\n";
    let m = Message::parse_datagram(raw).unwrap();
    assert_eq!(m.status(), Some(180));
    assert_eq!(m.status_line().unwrap().reason, "Ringing");
    let branches: heapless::Vec<&str, 4> = m.vias().map(|v| v.unwrap().branch().unwrap()).collect();
    assert_eq!(&branches[..], ["z9hG4bK1", "z9hG4bK2", "z9hG4bK3"]);
    assert_eq!(m.header_values(HeaderName::RecordRoute).count(), 2);
    assert_eq!(m.call_id(), Some("x@y"));
    assert_eq!(m.to().unwrap().unwrap().tag(), Some("2"));
}

#[test]
fn start_line_errors_carry_kind_and_offset() {
    let cases: [(&[u8], ParseErrorKind); 6] = [
        (
            b"INVITE  sip:a@b SIP/2.0\r\n\r\n",
            ParseErrorKind::BadRequestUri,
        ),
        (
            b"INVITE sip:a@b SIP/2.0 \r\n\r\n",
            ParseErrorKind::BadVersion,
        ),
        (
            b"SIP/2.0 4294967301 Big\r\n\r\n",
            ParseErrorKind::BadStatusCode,
        ),
        (b"SIP/2.0 99 Low\r\n\r\n", ParseErrorKind::BadStatusCode),
        (
            b"INVITE <sip:a@b> SIP/2.0\r\n\r\n",
            ParseErrorKind::BadRequestUri,
        ),
        (
            b"INVITE sip:a@b SIP/2.0\r\nNoColon\r\n\r\n",
            ParseErrorKind::BadHeader,
        ),
    ];
    for (raw, kind) in cases {
        assert_eq!(Message::parse_datagram(raw).unwrap_err().kind, kind);
    }
    assert_eq!(
        Message::parse_datagram(b"INVITE sip:a@b SIP/2.0\r\nl: -1\r\n\r\n").unwrap_err(),
        ParseError::new(ParseErrorKind::BadContentLength, 24)
    );
    // A foreign version parses so that the UA can answer 505.
    let m = Message::parse_datagram(b"OPTIONS sip:a@b SIP/7.0\r\n\r\n").unwrap();
    assert!(!m.is_sip_2_0());
}

#[test]
fn every_prefix_and_every_byte_flip_is_handled() {
    for cut in 0..=INVITE.len() {
        let _ = Message::parse_datagram(&INVITE[..cut]);
    }
    let mut buf = [0u8; 512];
    let n = INVITE.len();
    for i in 0..n {
        for v in [0u8, b'\r', b'\n', b':', b' ', b'"', b'<', 0xff] {
            buf[..n].copy_from_slice(INVITE);
            buf[i] = v;
            if let Ok(m) = Message::parse_datagram(&buf[..n]) {
                let _ = (
                    m.top_via(),
                    m.from(),
                    m.to(),
                    m.cseq(),
                    m.contact(),
                    m.request_uri(),
                );
            }
        }
    }
}
