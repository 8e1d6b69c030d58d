use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::*;

/// RFC 3665 §3.1 F1: Alice's offer in the basic call flow.
const RFC3665_OFFER: &[u8] = b"v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 client.atlanta.example.com\r\n\
s=-\r\n\
c=IN IP4 192.0.2.101\r\n\
t=0 0\r\n\
m=audio 49172 RTP/AVP 0\r\n\
a=rtpmap:0 PCMU/8000\r\n";

/// RFC 3665 §3.1 F3: Bob's answer.
const RFC3665_ANSWER: &[u8] = b"v=0\r\n\
o=bob 2890844527 2890844527 IN IP4 client.biloxi.example.com\r\n\
s=-\r\n\
c=IN IP4 192.0.2.201\r\n\
t=0 0\r\n\
m=audio 3456 RTP/AVP 0\r\n\
a=rtpmap:0 PCMU/8000\r\n";

/// RFC 4317 §2.1: audio and video offered with host names, an empty `s=`
/// and a dynamic iLBC payload type.
const RFC4317_AUDIO_VIDEO: &[u8] = b"v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com\r\n\
s=\r\n\
c=IN IP4 host.atlanta.example.com\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 0 8 97\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:97 iLBC/8000\r\n\
m=video 51372 RTP/AVP 31 32\r\n\
a=rtpmap:31 H261/90000\r\n\
a=rtpmap:32 MPV/90000\r\n";

/// RFC 8866 §5: the session-level fields the phone skips, three sections,
/// and an IPv6 connection inside the last one.
const RFC8866_EXAMPLE: &[u8] = b"v=0\r\n\
o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1\r\n\
s=Call to John Smith\r\n\
i=SDP Offer #1\r\n\
u=http://www.jdoe.example.com/home.html\r\n\
e=Jane Doe <jane@jdoe.example.com>\r\n\
p=+1 617 555-6011\r\n\
c=IN IP4 198.51.100.1\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 0\r\n\
m=audio 49180 RTP/AVP 0\r\n\
m=video 51372 RTP/AVP 99\r\n\
c=IN IP6 2001:db8::2\r\n\
a=rtpmap:99 h263-1998/90000\r\n";

/// A PBX-style offer: bare LF line ends, DTMF, maxptime, session-level
/// direction.
const PBX_OFFER: &[u8] = b"v=0\n\
o=root 1130052305 1130052305 IN IP4 198.51.100.20\n\
s=PBX\n\
c=IN IP4 198.51.100.20\n\
t=0 0\n\
a=sendrecv\n\
m=audio 18584 RTP/AVP 8 0 9 101\n\
a=rtpmap:8 PCMA/8000\n\
a=rtpmap:0 PCMU/8000\n\
a=rtpmap:9 G722/8000\n\
a=rtpmap:101 telephone-event/8000\n\
a=fmtp:101 0-16\n\
a=ptime:20\n\
a=maxptime:150\n";

fn parse(body: &[u8]) -> SessionDescription<'_> {
    match SessionDescription::parse(body) {
        Ok(sdp) => sdp,
        Err(e) => panic!("{e}: {:?}", core::str::from_utf8(body)),
    }
}

fn err_of(body: &[u8]) -> SdpError {
    match SessionDescription::parse(body) {
        Ok(_) => panic!("parsed: {:?}", core::str::from_utf8(body)),
        Err(e) => e,
    }
}

/// A rendered description and its length.
struct Rendered {
    buf: [u8; 1024],
    len: usize,
}

impl Rendered {
    fn of(local: &LocalDescription) -> Self {
        let mut buf = [0u8; 1024];
        let len = local.write(&mut buf).unwrap();
        Rendered { buf, len }
    }
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
    fn text(&self) -> &str {
        core::str::from_utf8(self.bytes()).unwrap()
    }
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

const PHONE_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));

fn session() -> MediaSession {
    MediaSession::new(7000, PHONE_IP, 40000)
}

// ---------------------------------------------------------------- parsing

#[test]
fn parses_the_rfc3665_offer() {
    let sdp = parse(RFC3665_OFFER);
    assert_eq!(
        sdp.origin,
        Origin {
            username: "alice",
            session_id: 2890844526,
            session_version: 2890844526,
            nettype: "IN",
            addrtype: AddrType::Ip4,
            address: "client.atlanta.example.com",
        }
    );
    assert_eq!(sdp.session_name(), b"-");
    assert_eq!(sdp.timing, Some(Timing { start: 0, stop: 0 }));
    assert_eq!(sdp.direction, None);
    let conn = sdp.connection.unwrap();
    assert_eq!(conn.ip, Some(v4(192, 0, 2, 101)));
    let [audio] = sdp.media() else {
        panic!("one section expected")
    };
    assert!(audio.is_audio() && audio.is_rtp_avp() && !audio.is_disabled());
    assert_eq!(audio.port, 49172);
    assert_eq!(audio.payload_types(), &[0]);
    assert_eq!(
        audio.rtpmap(0),
        Some(RtpMap {
            pt: 0,
            encoding: "PCMU",
            clock_rate: 8000,
            channels: 1
        })
    );
    assert_eq!(audio.codec(0), Some(Codec::Pcmu));
    assert_eq!(audio.direction, Direction::SendRecv);
    assert_eq!(audio.connection, Some(conn));
    assert_eq!(audio.offset, 104);
    assert!(RFC3665_OFFER[audio.offset..].starts_with(b"m=audio"));
}

#[test]
fn parses_the_rfc4317_audio_and_video_offer() {
    let sdp = parse(RFC4317_AUDIO_VIDEO);
    assert_eq!(sdp.session_name(), b"");
    let conn = sdp.connection.unwrap();
    assert_eq!(conn.address, "host.atlanta.example.com");
    assert_eq!(conn.ip, None, "a domain name is not resolved");
    let [audio, video] = sdp.media() else {
        panic!("two sections expected")
    };
    assert_eq!(audio.payload_types(), &[0, 8, 97]);
    assert_eq!(audio.formats, "0 8 97");
    assert_eq!(audio.rtpmap(97).unwrap().encoding, "iLBC");
    assert_eq!(audio.codec(97), None);
    assert_eq!(audio.codec(8), Some(Codec::Pcma));
    assert!(!video.is_audio());
    assert_eq!(video.media, "video");
    assert_eq!(video.port, 51372);
    assert_eq!(video.payload_types(), &[31, 32]);
    assert_eq!(video.rtpmap(32).unwrap().clock_rate, 90000);
}

#[test]
fn parses_the_rfc8866_example_with_ipv6_media() {
    let sdp = parse(RFC8866_EXAMPLE);
    assert_eq!(sdp.origin.session_version, 3724394405);
    assert_eq!(sdp.session_name(), b"Call to John Smith");
    let media = sdp.media();
    assert_eq!(media.len(), 3);
    assert_eq!(media[0].connection.unwrap().ip, Some(v4(198, 51, 100, 1)));
    assert_eq!(media[1].port, 49180);
    let c = media[2].connection.unwrap();
    assert_eq!(c.addrtype, AddrType::Ip6);
    assert_eq!(
        c.ip,
        Some(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)))
    );
    assert_eq!(media[2].rtpmap(99).unwrap().encoding, "h263-1998");
}

#[test]
fn parses_ipv6_sessions() {
    let body = b"v=0\r\no=- 1 1 IN IP6 2001:db8::10\r\ns=-\r\nc=IN IP6 2001:db8::10\r\n\
t=0 0\r\nm=audio 5004 RTP/AVP 9\r\n";
    let sdp = parse(body);
    assert_eq!(sdp.origin.addrtype, AddrType::Ip6);
    let audio = &sdp.media()[0];
    assert_eq!(audio.codec(9), Some(Codec::G722));
    assert_eq!(
        audio.connection.unwrap().ip,
        Some("2001:db8::10".parse::<IpAddr>().unwrap())
    );
    // An IP6 address type with an IPv4 literal is not an IPv6 address.
    let mixed = b"v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 192.0.2.1\r\nt=0 0\r\n";
    assert_eq!(parse(mixed).connection.unwrap().ip, None);
}

#[test]
fn bare_lf_and_crlf_parse_alike() {
    let lf = parse(PBX_OFFER);
    let mut crlf_buf = [0u8; 512];
    let mut n = 0;
    for &b in PBX_OFFER {
        if b == b'\n' {
            crlf_buf[n] = b'\r';
            n += 1;
        }
        crlf_buf[n] = b;
        n += 1;
    }
    let crlf = parse(&crlf_buf[..n]);
    assert_eq!(lf.origin, crlf.origin);
    assert_eq!(
        lf.media()[0].payload_types(),
        crlf.media()[0].payload_types()
    );
    assert_eq!(lf.media()[0].rtpmaps(), crlf.media()[0].rtpmaps());
    assert_eq!(lf.media()[0].fmtps(), crlf.media()[0].fmtps());
    let audio = &lf.media()[0];
    assert_eq!(audio.telephone_event(8000), Some(101));
    assert_eq!(audio.fmtp(101), Some("0-16"));
    assert_eq!(audio.ptime, Some(20));
    assert_eq!(audio.maxptime, Some(150));
    assert_eq!(lf.direction, Some(Direction::SendRecv));
}

#[test]
fn session_level_direction_is_the_default_and_media_overrides_it() {
    let body = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
a=sendonly\r\nm=audio 5004 RTP/AVP 0\r\nm=audio 5006 RTP/AVP 0\r\na=inactive\r\n\
m=audio 5008 RTP/AVP 0\r\na=recvonly\r\n";
    let sdp = parse(body);
    let dirs: [Direction; 3] = core::array::from_fn(|i| sdp.media()[i].direction);
    assert_eq!(
        dirs,
        [
            Direction::SendOnly,
            Direction::Inactive,
            Direction::RecvOnly
        ]
    );
}

#[test]
fn multicast_suffixes_and_fractional_ptime_are_accepted() {
    let body = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 233.252.0.1/127/2\r\n\
t=0 0\r\nm=audio 5004/2 RTP/AVP 0\r\na=ptime:20.0\r\n";
    let sdp = parse(body);
    assert_eq!(sdp.connection.unwrap().address, "233.252.0.1");
    assert_eq!(sdp.connection.unwrap().ip, Some(v4(233, 252, 0, 1)));
    assert_eq!(sdp.media()[0].port_count, Some(2));
    assert_eq!(sdp.media()[0].ptime, Some(20));
}

#[test]
fn extra_payload_types_are_ignored() {
    let body = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n\
m=audio 5004 RTP/AVP 96 97 98 99 100 101 102 103 104 105 106 107 108 109 110 111 112 113 0\r\n";
    let sdp = parse(body);
    let pts = sdp.media()[0].payload_types();
    assert_eq!(pts.len(), MAX_FORMATS);
    assert_eq!(pts[0], 96);
    assert_eq!(pts[15], 111);
    assert_eq!(sdp.media()[0].format_tokens().count(), 19);
}

#[test]
fn non_rtp_sections_keep_their_formats_as_tokens() {
    let body = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n\
m=image 6000 udptl t38\r\na=fmtp:t38 ignored\r\n";
    let sdp = parse(body);
    let m = &sdp.media()[0];
    assert_eq!(m.payload_types(), &[] as &[u8]);
    assert_eq!(m.format_tokens().next(), Some("t38"));
    assert!(m.fmtps().is_empty());
}

#[test]
fn a_non_utf8_session_name_is_kept_as_bytes() {
    let body = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=Caf\xe9\r\nt=0 0\r\n";
    assert_eq!(parse(body).session_name(), b"Caf\xe9");
}

#[test]
fn malformed_bodies_are_typed_errors_with_offsets() {
    use SdpErrorKind::*;
    let cases: &[(&[u8], SdpErrorKind, usize)] = &[
        (b"", Empty, 0),
        (b"\r\n\r\n", Empty, 0),
        (b"v=1\r\n", BadVersion, 0),
        (b"o=- 1 1 IN IP4 a\r\nv=0\r\n", BadVersion, 0),
        (b"v=0\r\ns=-\r\n", BadOrigin, 10),
        (b"v=0\r\no=- 1 1 IN IP4 h\r\n", MissingSessionName, 23),
        (b"v=0\r\no=- 1 IN IP4 h\r\ns=-\r\n", BadOrigin, 7),
        (b"v=0\r\no=- x 1 IN IP4 h\r\ns=-\r\n", BadOrigin, 9),
        (b"v=0\r\no=- 1 1 IN IP4 h extra\r\ns=-\r\n", BadOrigin, 7),
        // RFC 3264 §5: the session id must fit in 64 bits.
        (
            b"v=0\r\no=- 18446744073709551616 1 IN IP4 h\r\ns=-\r\n",
            Overflow,
            9,
        ),
        (b"v=0\r\nthis is not sdp\r\n", BadLine, 5),
        (b"v=0\r\n=x\r\n", BadLine, 5),
        (b"v=0\r\n1=x\r\n", BadLine, 5),
        (
            b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4\r\n",
            BadConnection,
            30,
        ),
        (b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0\r\n", BadTiming, 30),
        (
            b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=a 0\r\n",
            BadTiming,
            30,
        ),
        (
            b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nm=audio\r\n",
            BadMedia,
            30,
        ),
        (
            b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nm=audio x RTP/AVP 0\r\n",
            BadMedia,
            36,
        ),
        (
            b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nm=audio 70000 RTP/AVP 0\r\n",
            Overflow,
            36,
        ),
        (
            b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nm=audio 1 RTP/AVP 128\r\n",
            BadMedia,
            46,
        ),
        (
            b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nm=audio 1 RTP/AVP zero\r\n",
            BadMedia,
            46,
        ),
        (
            b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n",
            BadAttribute,
            58,
        ),
        (
            b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:x PCMU/8000\r\n",
            BadAttribute,
            58,
        ),
        (
            b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\na=ptime:fast\r\n",
            BadAttribute,
            57,
        ),
        (
            b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\na=tool:\xff\r\n",
            NotUtf8,
            56,
        ),
    ];
    for &(body, kind, offset) in cases {
        assert_eq!(
            err_of(body),
            SdpError::new(kind, offset),
            "{:?}",
            core::str::from_utf8(body)
        );
    }
}

#[test]
fn more_media_sections_than_capacity_is_an_error() {
    let body = b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\n\
m=audio 2 RTP/AVP 0\r\nm=audio 3 RTP/AVP 0\r\nm=audio 4 RTP/AVP 0\r\nm=audio 5 RTP/AVP 0\r\n";
    let e = err_of(body);
    assert_eq!(e.kind, SdpErrorKind::TooManyMedia);
    assert!(body[e.offset..].starts_with(b"m=audio 5 "));
}

/// Every prefix of a valid body parses or fails cleanly; same for every
/// single-byte substitution with bytes that matter to the grammar.
#[test]
fn truncated_and_mutated_bodies_never_panic() {
    let mut parsed = 0usize;
    for body in [
        RFC3665_OFFER,
        RFC4317_AUDIO_VIDEO,
        RFC8866_EXAMPLE,
        PBX_OFFER,
    ] {
        for end in 0..=body.len() {
            if let Ok(sdp) = SessionDescription::parse(&body[..end]) {
                parsed += 1;
                assert!(sdp.media().len() <= MAX_MEDIA);
            }
        }
        let mut copy = [0u8; 1024];
        let copy = &mut copy[..body.len()];
        for i in 0..body.len() {
            for b in [0u8, b'\n', b'\r', b' ', b'=', b'/', b':', b'9', b'.', 0xff] {
                copy.copy_from_slice(body);
                copy[i] = b;
                let _ = SessionDescription::parse(copy);
            }
        }
    }
    // Prefixes that end after the s= line are complete descriptions.
    assert!(parsed > 100, "{parsed}");
}

// --------------------------------------------------------------- building

fn sample_local() -> LocalDescription {
    let mut local = LocalDescription::new(3344, v4(192, 0, 2, 10), 40000);
    local.session_version = 3345;
    local.formats.push(PayloadFormat::of(Codec::G722));
    local.formats.push(PayloadFormat::of(Codec::Pcmu));
    local.dtmf_pt = Some(101);
    local.ptime = Some(20);
    local.direction = Direction::SendOnly;
    local
}

#[test]
fn writes_the_expected_text() {
    let out = Rendered::of(&sample_local());
    assert_eq!(
        out.text(),
        "v=0\r\n\
o=- 3344 3345 IN IP4 192.0.2.10\r\n\
s=-\r\n\
c=IN IP4 192.0.2.10\r\n\
t=0 0\r\n\
m=audio 40000 RTP/AVP 9 0 101\r\n\
a=rtpmap:9 G722/8000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=ptime:20\r\n\
a=sendonly\r\n"
    );
}

#[test]
fn build_then_parse_round_trips() {
    for address in [v4(192, 0, 2, 10), "2001:db8::7".parse::<IpAddr>().unwrap()] {
        let mut local = sample_local();
        local.address = address;
        let out = Rendered::of(&local);
        let sdp = parse(out.bytes());
        assert_eq!(sdp.origin.session_id, 3344);
        assert_eq!(sdp.origin.session_version, 3345);
        assert_eq!(sdp.origin.addrtype, AddrType::of(address));
        assert_eq!(sdp.connection.unwrap().ip, Some(address));
        let audio = &sdp.media()[0];
        assert_eq!(audio.port, 40000);
        assert_eq!(audio.payload_types(), &[9, 0, 101]);
        assert_eq!(audio.codec(9), Some(Codec::G722));
        assert_eq!(audio.codec(0), Some(Codec::Pcmu));
        assert_eq!(audio.telephone_event(8000), Some(101));
        assert_eq!(audio.fmtp(101), Some("0-15"));
        assert_eq!(audio.ptime, Some(20));
        assert_eq!(audio.direction, Direction::SendOnly);
    }
}

#[test]
fn writing_never_truncates() {
    let local = sample_local();
    let full = Rendered::of(&local);
    let mut buf = [0u8; 1024];
    for size in 0..full.len {
        assert_eq!(
            local.write(&mut buf[..size]),
            Err(BuildError::BufferTooSmall)
        );
    }
    assert_eq!(local.write(&mut buf[..full.len]), Ok(full.len));
    assert_eq!(&buf[..full.len], full.bytes());
}

#[test]
fn short_tokens_hold_up_to_capacity() {
    assert_eq!(ShortToken::new("RTP/AVP").unwrap().as_str(), "RTP/AVP");
    let longest = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    assert_eq!(ShortToken::new(longest).unwrap().as_str(), longest);
    assert!(ShortToken::new("123456789012345678901234567890123").is_none());
}

#[test]
fn a_rejected_section_keeps_its_tokens_within_their_shared_capacity() {
    let r = RejectedMedia::new("application", "TCP/DTLS/RTP/SAVPF", "webrtc-datachannel").unwrap();
    assert_eq!(
        (r.media(), r.proto(), r.format()),
        ("application", "TCP/DTLS/RTP/SAVPF", "webrtc-datachannel")
    );
    let r = RejectedMedia::new("video", "RTP/AVP", "").unwrap();
    assert_eq!((r.media(), r.proto(), r.format()), ("video", "RTP/AVP", ""));
    // Exactly the shared capacity, each token within its own; one byte
    // more anywhere is refused.
    let xs = core::str::from_utf8(&[b'x'; 64]).unwrap();
    let full = ShortToken::CAPACITY;
    let rest = RejectedMedia::CAPACITY - full - 2;
    let (a, b) = (&xs[..full], &xs[..rest]);
    let r = RejectedMedia::new(a, b, "ff").unwrap();
    assert_eq!((r.media(), r.proto(), r.format()), (a, b, "ff"));
    assert!(RejectedMedia::new(a, b, "fff").is_none());
    assert!(RejectedMedia::new(a, &xs[..rest + 1], "ff").is_none());
    assert!(RejectedMedia::new(&xs[..full + 1], &xs[..rest - 1], "ff").is_none());
    assert!(RejectedMedia::new("video", &xs[..full + 1], "").is_none());
}

// ------------------------------------------------------- answering offers

#[test]
fn answers_the_rfc3665_offer() {
    let policy = MediaPolicy::default();
    let mut s = session();
    let n = s.answer_offer(&policy, &parse(RFC3665_OFFER)).unwrap();
    assert_eq!(
        n,
        Negotiated {
            remote: SocketAddr::new(v4(192, 0, 2, 101), 49172),
            codec: PayloadFormat::of(Codec::Pcmu),
            ptime: 20,
            dtmf_pt: None,
            direction: Direction::SendRecv,
        }
    );
    assert_eq!(n.codec.name(), "PCMU");
    assert_eq!(n.codec.clock_rate(), 8000);
    assert_eq!(s.negotiated(), Some(n));
    let out = Rendered::of(s.local());
    let answer = parse(out.bytes());
    assert_eq!(answer.origin.session_id, 7000);
    assert_eq!(answer.media()[0].payload_types(), &[0]);
    assert_eq!(answer.media()[0].port, 40000);
    assert_eq!(answer.media()[0].direction, Direction::SendRecv);
}

#[test]
fn answer_takes_the_first_offered_codec_the_policy_enables() {
    // The policy prefers G.722 and has PCMA disabled; the offer lists
    // PCMA, PCMU, G722: the offerer's order wins among enabled codecs.
    let policy = MediaPolicy {
        codecs: CodecList::from_slice(&[Codec::G722, Codec::Pcmu]),
        ..MediaPolicy::default()
    };
    let mut s = session();
    let n = s.answer_offer(&policy, &parse(PBX_OFFER)).unwrap();
    assert_eq!(n.codec, PayloadFormat::of(Codec::Pcmu));
    assert_eq!(n.dtmf_pt, Some(101));
    assert_eq!(n.remote, SocketAddr::new(v4(198, 51, 100, 20), 18584));
    let out = Rendered::of(s.local());
    let answer = parse(out.bytes());
    assert_eq!(answer.media()[0].payload_types(), &[0, 101]);
    assert_eq!(answer.media()[0].fmtp(101), Some("0-15"));
}

#[test]
fn answer_keeps_the_offers_dynamic_payload_types() {
    let offer = b"v=0\r\no=- 5 5 IN IP4 198.51.100.9\r\ns=-\r\nc=IN IP4 198.51.100.9\r\nt=0 0\r\n\
m=audio 6000 RTP/AVP 18 96 97 98\r\na=rtpmap:18 G729/8000\r\na=rtpmap:96 pcmu/8000\r\n\
a=rtpmap:97 telephone-event/16000\r\na=rtpmap:98 telephone-event/8000\r\na=fmtp:98 0-15\r\n";
    let mut s = session();
    let n = s
        .answer_offer(&MediaPolicy::default(), &parse(offer))
        .unwrap();
    assert_eq!(
        n.codec,
        PayloadFormat {
            pt: 96,
            codec: Codec::Pcmu
        }
    );
    // RFC 4733 §2.1: the event clock matches the audio clock (8000, not 16000).
    assert_eq!(n.dtmf_pt, Some(98));
    let out = Rendered::of(s.local());
    let answer = parse(out.bytes());
    assert_eq!(answer.media()[0].payload_types(), &[96, 98]);
    assert_eq!(answer.media()[0].rtpmap(96).unwrap().encoding, "PCMU");
}

#[test]
fn dtmf_is_left_out_when_disabled_or_not_offered() {
    let policy = MediaPolicy {
        dtmf_pt: None,
        ..MediaPolicy::default()
    };
    let mut s = session();
    assert_eq!(
        s.answer_offer(&policy, &parse(PBX_OFFER)).unwrap().dtmf_pt,
        None
    );
    assert_eq!(s.local().dtmf_pt, None);
    let mut s = session();
    let n = s
        .answer_offer(&MediaPolicy::default(), &parse(RFC3665_OFFER))
        .unwrap();
    assert_eq!(n.dtmf_pt, None);
}

#[test]
fn g722_negotiates_with_an_8000_hz_rtp_clock() {
    let policy = MediaPolicy {
        codecs: CodecList::from_slice(&[Codec::G722]),
        ..MediaPolicy::default()
    };
    let mut s = session();
    let n = s.answer_offer(&policy, &parse(PBX_OFFER)).unwrap();
    assert_eq!(n.codec, PayloadFormat::of(Codec::G722));
    assert_eq!(n.codec.clock_rate(), 8000);
    assert_eq!(n.codec.codec.sample_rate(), 16000);
    assert_eq!(n.dtmf_pt, Some(101));
}

#[test]
fn nothing_in_common_is_a_488() {
    let g729_only = b"v=0\r\no=- 5 5 IN IP4 198.51.100.9\r\ns=-\r\nc=IN IP4 198.51.100.9\r\n\
t=0 0\r\nm=audio 6000 RTP/AVP 18 101\r\na=rtpmap:18 G729/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n";
    let srtp = b"v=0\r\no=- 5 5 IN IP4 198.51.100.9\r\ns=-\r\nc=IN IP4 198.51.100.9\r\n\
t=0 0\r\nm=audio 6000 RTP/SAVP 0\r\n";
    let video_only = b"v=0\r\no=- 5 5 IN IP4 198.51.100.9\r\ns=-\r\nc=IN IP4 198.51.100.9\r\n\
t=0 0\r\nm=video 6000 RTP/AVP 31\r\n";
    let no_media = b"v=0\r\no=- 5 5 IN IP4 198.51.100.9\r\ns=-\r\nt=0 0\r\n";
    let pcma_only_policy = MediaPolicy {
        codecs: CodecList::from_slice(&[Codec::Pcma]),
        ..MediaPolicy::default()
    };
    let cases: [(&[u8], MediaPolicy, NegotiationError); 5] = [
        (
            g729_only,
            MediaPolicy::default(),
            NegotiationError::NoCommonCodec,
        ),
        (
            srtp,
            MediaPolicy::default(),
            NegotiationError::NoCommonCodec,
        ),
        (
            RFC3665_OFFER,
            pcma_only_policy,
            NegotiationError::NoCommonCodec,
        ),
        (
            video_only,
            MediaPolicy::default(),
            NegotiationError::NoAudio,
        ),
        (no_media, MediaPolicy::default(), NegotiationError::NoAudio),
    ];
    for (body, policy, expected) in cases {
        let mut s = session();
        let before = s;
        assert_eq!(s.answer_offer(&policy, &parse(body)), Err(expected));
        assert_eq!(s, before, "a refused offer changes nothing");
    }
    assert_eq!(NegotiationError::REJECT_STATUS, 488);
}

#[test]
fn a_refused_reoffer_keeps_the_call_running() {
    let mut s = session();
    let policy = MediaPolicy::default();
    let n = s.answer_offer(&policy, &parse(RFC3665_OFFER)).unwrap();
    let before = *s.local();
    let g729 = b"v=0\r\no=alice 2890844526 2890844527 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.101\r\n\
t=0 0\r\nm=audio 49172 RTP/AVP 18\r\n";
    assert_eq!(
        s.answer_offer(&policy, &parse(g729)),
        Err(NegotiationError::NoCommonCodec)
    );
    assert_eq!(s.negotiated(), Some(n));
    assert_eq!(*s.local(), before);
}

#[test]
fn unresolved_addresses_are_refused() {
    let mut s = session();
    assert_eq!(
        s.answer_offer(&MediaPolicy::default(), &parse(RFC4317_AUDIO_VIDEO)),
        Err(NegotiationError::NoRemoteAddress)
    );
}

#[test]
fn other_streams_are_answered_with_port_zero() {
    let offer = b"v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
m=video 51372 RTP/AVP 31 32\r\na=rtpmap:31 H261/90000\r\n\
m=audio 0 RTP/AVP 0\r\n\
m=audio 49170 RTP/AVP 97 8\r\na=rtpmap:97 iLBC/8000\r\n\
m=image 6000 udptl t38\r\n";
    let mut s = session();
    let n = s
        .answer_offer(&MediaPolicy::default(), &parse(offer))
        .unwrap();
    assert_eq!(n.codec, PayloadFormat::of(Codec::Pcma));
    assert_eq!(n.remote.port(), 49170);
    let out = Rendered::of(s.local());
    assert!(
        out.text().contains("m=video 0 RTP/AVP 31\r\n"),
        "{}",
        out.text()
    );
    assert!(out.text().contains("m=audio 0 RTP/AVP 0\r\n"));
    assert!(out.text().contains("m=image 0 udptl t38\r\n"));
    let answer = parse(out.bytes());
    let ports: [u16; 4] = core::array::from_fn(|i| answer.media()[i].port);
    assert_eq!(ports, [0, 0, 40000, 0]);
    assert_eq!(answer.media()[2].payload_types(), &[8]);
    assert_eq!(s.local().audio_index(), Some(2));
}

#[test]
fn ptime_follows_the_peer_within_its_maxptime() {
    let body = |attrs: &'static [u8]| -> ([u8; 256], usize) {
        let head = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
m=audio 5004 RTP/AVP 0\r\n";
        let mut buf = [0u8; 256];
        buf[..head.len()].copy_from_slice(head);
        buf[head.len()..head.len() + attrs.len()].copy_from_slice(attrs);
        (buf, head.len() + attrs.len())
    };
    let policy = MediaPolicy {
        ptime: 30,
        ..MediaPolicy::default()
    };
    for (attrs, expected) in [
        (&b""[..], 30),
        (b"a=ptime:40\r\n", 40),
        (b"a=maxptime:20\r\n", 20),
        (b"a=ptime:60\r\na=maxptime:40\r\n", 40),
        (b"a=ptime:0\r\n", 30),
    ] {
        let (buf, len) = body(attrs);
        let mut s = session();
        let n = s.answer_offer(&policy, &parse(&buf[..len])).unwrap();
        assert_eq!(n.ptime, expected, "{:?}", core::str::from_utf8(attrs));
        assert_eq!(s.local().ptime, Some(30));
    }
}

// -------------------------------------------------- our offers and answers

#[test]
fn initial_offer_lists_the_policy_in_order() {
    let policy = MediaPolicy {
        codecs: CodecList::from_slice(&[Codec::G722, Codec::Pcma, Codec::G722]),
        ..MediaPolicy::default()
    };
    let mut s = session();
    let out = Rendered::of(s.create_offer(&policy));
    assert!(s.offer_pending());
    let offer = parse(out.bytes());
    assert_eq!(offer.origin.session_version, 7000);
    assert_eq!(offer.media()[0].payload_types(), &[9, 8, 101]);
    assert_eq!(offer.media()[0].direction, Direction::SendRecv);
    assert_eq!(offer.media()[0].ptime, Some(20));
}

#[test]
fn processes_the_rfc3665_answer() {
    let mut s = session();
    s.create_offer(&MediaPolicy::default());
    let n = s.process_answer(&parse(RFC3665_ANSWER)).unwrap();
    assert_eq!(n.remote, SocketAddr::new(v4(192, 0, 2, 201), 3456));
    assert_eq!(n.codec, PayloadFormat::of(Codec::Pcmu));
    assert_eq!(n.dtmf_pt, None);
    assert_eq!(n.direction, Direction::SendRecv);
    assert!(!s.offer_pending());
}

#[test]
fn the_answerers_first_codec_is_sent() {
    let answer = b"v=0\r\no=b 1 1 IN IP4 198.51.100.5\r\ns=-\r\nc=IN IP4 198.51.100.5\r\nt=0 0\r\n\
m=audio 7000 RTP/AVP 9 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:30\r\n";
    let mut s = session();
    s.create_offer(&MediaPolicy::default());
    let n = s.process_answer(&parse(answer)).unwrap();
    assert_eq!(n.codec, PayloadFormat::of(Codec::G722));
    assert_eq!(n.dtmf_pt, Some(101));
    assert_eq!(n.ptime, 30);
}

/// Late offer: the INVITE had no body, the phone's offer travels in the 200
/// and the answer in the ACK. The functions are the same as for an early
/// offer.
#[test]
fn late_offer_in_200_with_answer_in_ack() {
    let mut s = session();
    let mut buf = [0u8; 512];
    let n = s
        .create_offer(&MediaPolicy::default())
        .write(&mut buf)
        .unwrap();
    let offer_in_200 = parse(&buf[..n]);
    assert_eq!(offer_in_200.media()[0].payload_types(), &[0, 8, 9, 101]);
    let ack_body = b"v=0\r\no=- 9 9 IN IP4 198.51.100.77\r\ns=-\r\nc=IN IP4 198.51.100.77\r\n\
t=0 0\r\nm=audio 9000 RTP/AVP 8\r\n";
    let n = s.process_answer(&parse(ack_body)).unwrap();
    assert_eq!(n.codec, PayloadFormat::of(Codec::Pcma));
    assert_eq!(n.remote, SocketAddr::new(v4(198, 51, 100, 77), 9000));
}

#[test]
fn unusable_answers_are_errors() {
    let head = "v=0\r\no=b 1 1 IN IP4 198.51.100.5\r\ns=-\r\nc=IN IP4 198.51.100.5\r\nt=0 0\r\n";
    let cases: [(&str, NegotiationError); 5] = [
        ("m=audio 0 RTP/AVP 0\r\n", NegotiationError::AudioRejected),
        (
            "m=audio 7000 RTP/AVP 18\r\n",
            NegotiationError::NoCommonCodec,
        ),
        (
            "m=video 7000 RTP/AVP 31\r\n",
            NegotiationError::MediaMismatch,
        ),
        (
            "m=audio 7000 RTP/AVP 0\r\nm=video 0 RTP/AVP 31\r\n",
            NegotiationError::MediaMismatch,
        ),
        ("", NegotiationError::MediaMismatch),
    ];
    for (media, expected) in cases {
        let mut buf = [0u8; 256];
        buf[..head.len()].copy_from_slice(head.as_bytes());
        buf[head.len()..head.len() + media.len()].copy_from_slice(media.as_bytes());
        let answer = parse(&buf[..head.len() + media.len()]);
        let mut s = session();
        s.create_offer(&MediaPolicy::default());
        assert_eq!(s.process_answer(&answer), Err(expected), "{media}");
        assert_eq!(s.negotiated(), None);
        assert!(!s.offer_pending());
    }
    let mut s = session();
    assert_eq!(
        s.process_answer(&parse(RFC3665_ANSWER)),
        Err(NegotiationError::NoOfferPending)
    );
}

// ------------------------------------------------------ hold and resume

/// The peer's SDP with a given direction line (or none) and address.
fn peer_sdp<'b>(
    buf: &'b mut [u8; 256],
    version: u64,
    address: &str,
    port: u16,
    direction: &str,
) -> SessionDescription<'b> {
    use core::fmt::Write as _;
    struct W<'x>(&'x mut [u8; 256], usize);
    impl core::fmt::Write for W<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            self.0[self.1..self.1 + s.len()].copy_from_slice(s.as_bytes());
            self.1 += s.len();
            Ok(())
        }
    }
    let mut w = W(buf, 0);
    write!(
        w,
        "v=0\r\no=peer 500 {version} IN IP4 {address}\r\ns=-\r\nc=IN IP4 {address}\r\nt=0 0\r\n\
m=audio {port} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n{direction}"
    )
    .unwrap();
    let len = w.1;
    SessionDescription::parse(&buf[..len]).unwrap()
}

#[test]
fn we_hold_and_resume() {
    let policy = MediaPolicy::default();
    let mut s = session();
    let mut b = [0u8; 256];
    s.create_offer(&policy);
    s.process_answer(&peer_sdp(&mut b, 1, "198.51.100.5", 7000, ""))
        .unwrap();
    let v0 = s.local().session_version;

    // RFC 3264 §8.4: hold a sendrecv stream by offering sendonly.
    s.set_hold(true);
    let offer = Rendered::of(s.create_offer(&policy));
    let offer = parse(offer.bytes());
    assert_eq!(offer.media()[0].direction, Direction::SendOnly);
    assert_eq!(offer.origin.session_version, v0 + 1);
    let n = s
        .process_answer(&peer_sdp(&mut b, 2, "198.51.100.5", 7000, "a=recvonly\r\n"))
        .unwrap();
    assert_eq!(n.direction, Direction::SendOnly);
    assert!(!s.is_held_by_peer());

    s.set_hold(false);
    let offer = Rendered::of(s.create_offer(&policy));
    let offer = parse(offer.bytes());
    assert_eq!(offer.media()[0].direction, Direction::SendRecv);
    assert_eq!(offer.origin.session_version, v0 + 2);
    let n = s
        .process_answer(&peer_sdp(&mut b, 3, "198.51.100.5", 7000, "a=sendrecv\r\n"))
        .unwrap();
    assert_eq!(n.direction, Direction::SendRecv);
}

#[test]
fn peer_holds_and_resumes() {
    let policy = MediaPolicy::default();
    let mut s = session();
    let mut b = [0u8; 256];
    let n = s
        .answer_offer(&policy, &peer_sdp(&mut b, 1, "198.51.100.5", 7000, ""))
        .unwrap();
    assert_eq!(n.direction, Direction::SendRecv);
    let v0 = s.local().session_version;

    // Peer offers sendonly: the phone answers recvonly (RFC 3264 §6.1).
    let n = s
        .answer_offer(
            &policy,
            &peer_sdp(&mut b, 2, "198.51.100.5", 7000, "a=sendonly\r\n"),
        )
        .unwrap();
    assert_eq!(n.direction, Direction::RecvOnly);
    assert!(s.is_held_by_peer());
    assert_eq!(s.local().direction, Direction::RecvOnly);
    assert_eq!(s.local().session_version, v0 + 1);

    // Peer goes inactive: so does the answer.
    let n = s
        .answer_offer(
            &policy,
            &peer_sdp(&mut b, 3, "198.51.100.5", 7000, "a=inactive\r\n"),
        )
        .unwrap();
    assert_eq!(n.direction, Direction::Inactive);
    assert_eq!(s.local().session_version, v0 + 2);

    // Peer resumes.
    let n = s
        .answer_offer(
            &policy,
            &peer_sdp(&mut b, 4, "198.51.100.5", 7000, "a=sendrecv\r\n"),
        )
        .unwrap();
    assert_eq!(n.direction, Direction::SendRecv);
    assert!(!s.is_held_by_peer());
    assert_eq!(s.local().session_version, v0 + 3);
}

#[test]
fn legacy_hold_with_a_null_address_is_recognised() {
    let policy = MediaPolicy::default();
    let mut s = session();
    let mut b = [0u8; 256];
    s.answer_offer(&policy, &peer_sdp(&mut b, 1, "198.51.100.5", 7000, ""))
        .unwrap();
    let n = s
        .answer_offer(&policy, &peer_sdp(&mut b, 2, "0.0.0.0", 7000, ""))
        .unwrap();
    assert_eq!(n.direction, Direction::RecvOnly);
    assert!(!n.direction.sends(), "nothing may be sent to 0.0.0.0");
    assert!(s.is_held_by_peer());
    let out = Rendered::of(s.local());
    assert!(out.text().contains("a=recvonly\r\n"));
}

#[test]
fn holding_while_held_goes_inactive() {
    let policy = MediaPolicy::default();
    let mut s = session();
    let mut b = [0u8; 256];
    s.answer_offer(
        &policy,
        &peer_sdp(&mut b, 1, "198.51.100.5", 7000, "a=sendonly\r\n"),
    )
    .unwrap();
    assert_eq!(s.local().direction, Direction::RecvOnly);
    // RFC 3264 §8.4: a recvonly stream is held by marking it inactive.
    s.set_hold(true);
    assert_eq!(s.create_offer(&policy).direction, Direction::Inactive);
    let n = s
        .process_answer(&peer_sdp(&mut b, 2, "198.51.100.5", 7000, "a=inactive\r\n"))
        .unwrap();
    assert_eq!(n.direction, Direction::Inactive);
    // The peer resumes while the phone still holds: sendonly from the phone.
    let n = s
        .answer_offer(&policy, &peer_sdp(&mut b, 3, "198.51.100.5", 7000, ""))
        .unwrap();
    assert_eq!(n.direction, Direction::SendOnly);
    // The phone resumes while the peer holds again: it offers sendrecv and
    // the peer's recvonly answer leaves the phone sending only.
    s.answer_offer(
        &policy,
        &peer_sdp(&mut b, 4, "198.51.100.5", 7000, "a=sendonly\r\n"),
    )
    .unwrap();
    assert_eq!(s.local().direction, Direction::Inactive);
    s.set_hold(false);
    assert_eq!(s.create_offer(&policy).direction, Direction::SendRecv);
    let n = s
        .process_answer(&peer_sdp(&mut b, 5, "198.51.100.5", 7000, "a=sendonly\r\n"))
        .unwrap();
    assert_eq!(n.direction, Direction::RecvOnly);
}

// ------------------------------------------------------------ versions

#[test]
fn the_version_grows_only_when_the_sdp_changes() {
    let policy = MediaPolicy::default();
    let mut s = session();
    let first = Rendered::of(s.create_offer(&policy));
    let mut b = [0u8; 256];
    s.process_answer(&peer_sdp(&mut b, 1, "198.51.100.5", 7000, ""))
        .unwrap();
    // A session refresh re-offer repeats the same bytes (RFC 3264 §8).
    let again = Rendered::of(s.create_offer(&policy));
    assert_eq!(first.text(), again.text());
    s.process_answer(&peer_sdp(&mut b, 1, "198.51.100.5", 7000, ""))
        .unwrap();

    // A failed re-offer still counts: the next different SDP is one more.
    s.set_hold(true);
    assert_eq!(s.create_offer(&policy).session_version, 7001);
    s.offer_failed();
    assert!(!s.offer_pending());
    s.set_hold(false);
    assert_eq!(s.create_offer(&policy).session_version, 7002);
    s.offer_failed();

    // Answers follow the same rule: an unchanged offer gets the same answer.
    let a1 = Rendered::of({
        s.answer_offer(&policy, &peer_sdp(&mut b, 2, "198.51.100.5", 7000, ""))
            .unwrap();
        s.local()
    });
    assert_eq!(s.local().session_version, 7003);
    s.answer_offer(&policy, &peer_sdp(&mut b, 2, "198.51.100.5", 7000, ""))
        .unwrap();
    assert_eq!(Rendered::of(s.local()).text(), a1.text());
}

#[test]
fn the_version_saturates_instead_of_wrapping() {
    let policy = MediaPolicy::default();
    let mut s = MediaSession::new(u64::MAX, PHONE_IP, 40000);
    s.create_offer(&policy);
    s.set_hold(true);
    assert_eq!(s.create_offer(&policy).session_version, u64::MAX);
}

// ------------------------------------------------ transfer and re-offers

#[test]
fn reoffer_after_transfer_moves_the_remote_address() {
    let policy = MediaPolicy::default();
    let mut s = session();
    let mut b = [0u8; 256];
    let n = s
        .answer_offer(&policy, &peer_sdp(&mut b, 1, "198.51.100.5", 7000, ""))
        .unwrap();
    assert_eq!(n.remote, SocketAddr::new(v4(198, 51, 100, 5), 7000));
    let version = s.local().session_version;
    // After a transfer the peer's media come from another host.
    let n = s
        .answer_offer(&policy, &peer_sdp(&mut b, 2, "203.0.113.9", 8200, ""))
        .unwrap();
    assert_eq!(n.remote, SocketAddr::new(v4(203, 0, 113, 9), 8200));
    // The phone's own SDP did not change, so neither does its version.
    assert_eq!(s.local().session_version, version);
}

#[test]
fn moving_the_local_endpoint_is_a_new_version() {
    let policy = MediaPolicy::default();
    let mut s = session();
    let v = s.create_offer(&policy).session_version;
    s.offer_failed();
    s.set_local_address(IpAddr::V6(Ipv6Addr::LOCALHOST), 41000);
    let out = Rendered::of(s.create_offer(&policy));
    let offer = parse(out.bytes());
    assert_eq!(offer.origin.session_version, v + 1);
    assert_eq!(
        offer.connection.unwrap().ip,
        Some(IpAddr::V6(Ipv6Addr::LOCALHOST))
    );
    assert_eq!(offer.media()[0].port, 41000);
}

#[test]
fn reoffers_keep_rejected_sections_and_the_agreed_dtmf_type() {
    let offer = b"v=0\r\no=- 5 5 IN IP4 198.51.100.9\r\ns=-\r\nc=IN IP4 198.51.100.9\r\nt=0 0\r\n\
m=audio 6000 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\n\
m=video 6002 RTP/AVP 31\r\n";
    let policy = MediaPolicy::default();
    let mut s = session();
    s.answer_offer(&policy, &parse(offer)).unwrap();
    s.set_hold(true);
    let out = Rendered::of(s.create_offer(&policy));
    let reoffer = parse(out.bytes());
    assert_eq!(reoffer.media().len(), 2, "RFC 3264 §8: sections stay");
    assert_eq!(reoffer.media()[0].payload_types(), &[0, 8, 9, 96]);
    assert_eq!(reoffer.media()[1].port, 0);
    assert_eq!(reoffer.media()[1].media, "video");
    let answer = b"v=0\r\no=- 5 6 IN IP4 198.51.100.9\r\ns=-\r\nc=IN IP4 198.51.100.9\r\nt=0 0\r\n\
m=audio 6000 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\na=recvonly\r\n\
m=video 0 RTP/AVP 31\r\n";
    let n = s.process_answer(&parse(answer)).unwrap();
    assert_eq!(n.direction, Direction::SendOnly);
    assert_eq!(n.dtmf_pt, Some(96));
}

// ------------------------------------------------------------- helpers

#[test]
fn direction_algebra() {
    use Direction::*;
    let all = [SendRecv, SendOnly, RecvOnly, Inactive];
    for d in all {
        assert_eq!(d.reversed().reversed(), d);
        assert_eq!(Direction::from_attribute(d.as_attribute()), Some(d));
        assert_eq!(d.intersect(SendRecv), d);
        assert_eq!(d.intersect(Inactive), Inactive);
    }
    assert_eq!(SendOnly.reversed(), RecvOnly);
    assert_eq!(SendOnly.intersect(RecvOnly), Inactive);
    assert_eq!(Direction::from_attribute("SENDONLY"), None);
}

#[test]
fn codec_tables() {
    for c in Codec::ALL {
        assert_eq!(Codec::from_static_pt(c.static_pt()), Some(c));
        assert_eq!(
            Codec::from_rtpmap(&c.name().to_ascii_lowercase_free(), 8000, 1),
            Some(c)
        );
        assert_eq!(Codec::from_rtpmap(c.name(), 16000, 1), None);
        assert_eq!(Codec::from_rtpmap(c.name(), 8000, 2), None);
        assert_eq!(c.rtp_clock_rate(), 8000);
    }
}

trait LowerFree {
    fn to_ascii_lowercase_free(&self) -> heapless::String<8>;
}

impl LowerFree for str {
    fn to_ascii_lowercase_free(&self) -> heapless::String<8> {
        let mut s = heapless::String::new();
        for c in self.chars() {
            s.push(c.to_ascii_lowercase()).unwrap();
        }
        s
    }
}

#[test]
fn a_recvonly_offer_is_answered_sendonly() {
    let policy = MediaPolicy::default();
    let mut s = session();
    let mut b = [0u8; 256];
    let n = s
        .answer_offer(
            &policy,
            &peer_sdp(&mut b, 1, "198.51.100.5", 7000, "a=recvonly\r\n"),
        )
        .unwrap();
    assert_eq!(n.direction, Direction::SendOnly);
    assert!(!s.is_held_by_peer());
    // Holding on top of it does not stop the phone's sending half: the peer
    // asked only to receive.
    s.set_hold(true);
    let n = s
        .answer_offer(
            &policy,
            &peer_sdp(&mut b, 2, "198.51.100.5", 7000, "a=recvonly\r\n"),
        )
        .unwrap();
    assert_eq!(n.direction, Direction::SendOnly);
}
