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

const NOTIFY: &[u8] = b"NOTIFY sip:alice@192.0.2.10 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.20;branch=z9hG4bKnotify1\r\n\
Max-Forwards: 70\r\n\
From: <sip:bob@biloxi.example.com>;tag=b1\r\n\
To: <sip:alice@atlanta.example.com>;tag=a1\r\n\
Call-ID: xfer-1@192.0.2.10\r\n\
CSeq: 5 NOTIFY\r\n\
Contact: <sip:bob@192.0.2.20>;expires=60;q=0.5, \"Bob 2\" <sip:bob@192.0.2.21>\r\n\
m: sip:bob@192.0.2.22;q=1\r\n\
Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n\
Record-Route: <sip:p3.example.com;lr>\r\n\
Expires: 3600\r\nMin-Expires: 60\r\n\
Allow: INVITE, ACK, BYE\r\nAllow: REFER, NOTIFY\r\n\
k: replaces, 100rel\r\nRequire: timer\r\nUnsupported: foo\r\n\
o: refer;id=93809824\r\n\
Subscription-State: terminated;reason=noresource\r\n\
Refer-To: <sip:carol@192.0.2.4?Replaces=425928%40bobster.example.org%3Bto-tag%3D7743%3Bfrom-tag%3D6472>\r\n\
b: <sip:bob@biloxi.example.com>;cid=\"20398823.2UWQFN309shb3@referrer.example\"\r\n\
Replaces: 98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff\r\n\
Refer-Sub: false\r\n\
RSeq: 988789\r\nRAck: 776656 1 INVITE\r\n\
x: 4000;refresher=uas\r\nMin-SE: 90\r\n\
Retry-After: 120 (in a meeting);duration=60\r\n\
Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n\
Authorization: Digest username=\"alice\", realm=\"atlanta.example.com\", nonce=\"n1\", uri=\"sip:b\", response=\"6629fae49393a05397450978507c4ef1\"\r\n\
Content-Length: 0\r\n\r\n";

#[test]
fn typed_accessors_read_every_header() {
    let m = Message::parse_datagram(NOTIFY).unwrap();
    let Some(Ok(Contacts::List(list))) = m.contacts() else {
        panic!("contacts")
    };
    let contacts: heapless::Vec<Contact<'_>, 4> = list.map(Result::unwrap).collect();
    assert_eq!(contacts.len(), 3);
    assert_eq!((contacts[0].expires, contacts[0].q), (Some(60), Some(500)));
    assert_eq!(contacts[1].addr.display_name, Some("\"Bob 2\""));
    assert_eq!(contacts[2].q, Some(1000));
    assert_eq!(m.content_length(), Some(Ok(0)));
    let routes: heapless::Vec<&str, 4> = m
        .routes()
        .map(|r| {
            r.unwrap().uri.host.map_or("", |h| match h {
                Host::Name(n) => n,
                _ => "",
            })
        })
        .collect();
    assert_eq!(&routes[..], ["p1.example.com", "p2.example.com"]);
    assert_eq!(m.record_routes().count(), 1);
    assert_eq!(
        (m.expires(), m.min_expires()),
        (Some(Ok(3600)), Some(Ok(60)))
    );
    let allow = m.allow().unwrap().unwrap();
    assert_eq!(allow.clone().count(), 5);
    assert!(allow.contains_method(Method::Refer) && !allow.contains_method(Method::Info));
    assert!(m.supported().unwrap().unwrap().contains("100REL"));
    assert!(m.require().unwrap().unwrap().contains("timer"));
    assert!(m.unsupported().unwrap().unwrap().contains("foo"));
    let ev = m.event().unwrap().unwrap();
    assert_eq!((ev.package(), ev.id), ("refer", Some("93809824")));
    let st = m.subscription_state().unwrap().unwrap();
    assert_eq!(
        (st.state, st.reason),
        (SubState::Terminated, Some("noresource"))
    );
    let refer_to = m.refer_to().unwrap().unwrap();
    let mut buf = [0u8; 128];
    let r = refer_to.replaces(&mut buf).unwrap().unwrap();
    assert_eq!(
        (r.call_id, r.to_tag, r.from_tag),
        ("425928@bobster.example.org", "7743", "6472")
    );
    let by = m.referred_by().unwrap().unwrap();
    assert!(by.param_list().get("cid").is_some());
    let rep = m.replaces().unwrap().unwrap();
    assert_eq!(
        (rep.call_id, rep.early_only),
        ("98732@sip.example.com", false)
    );
    assert_eq!(m.refer_sub(), Some(Ok(false)));
    assert_eq!(m.rseq(), Some(Ok(988789)));
    assert_eq!(m.rack().unwrap().unwrap().cseq, 1);
    let se = m.session_expires().unwrap().unwrap();
    assert_eq!((se.delta, se.refresher), (4000, Some(Refresher::Uas)));
    assert_eq!(m.min_se(), Some(Ok(90)));
    let ra = m.retry_after().unwrap().unwrap();
    assert_eq!((ra.delta, ra.duration), (120, Some(60)));
    assert_eq!(m.date().unwrap().unwrap().year, 2010);
    let cred = m.authorization().unwrap().unwrap().digest().unwrap();
    assert_eq!(cred.username, Some("alice"));
    assert!(m.www_authenticate().is_none() && m.proxy_authorization().is_none());
}

#[test]
fn typed_errors_point_into_the_input() {
    let raw = b"SIP/2.0 200 OK\r\nExpires: 99999999999\r\nContact: *, <sip:a@b>\r\n\r\n";
    let m = Message::parse_datagram(raw).unwrap();
    let e = m.expires().unwrap().unwrap_err();
    assert_eq!((e.kind, e.offset), (ParseErrorKind::Overflow, 25));
    assert_eq!(m.contacts().unwrap().unwrap_err().offset, 47);
    let star = Message::parse_datagram(b"REGISTER sip:x SIP/2.0\r\nContact: *\r\n\r\n").unwrap();
    assert!(matches!(star.contacts(), Some(Ok(Contacts::Wildcard))));
}
