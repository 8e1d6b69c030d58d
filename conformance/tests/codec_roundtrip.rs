//! Round trip: arbitrary message fields, written with `MessageWriter`,
//! parse back to the same fields and pass `validate()`. The inputs come
//! from a fixed-seed byte source, so every run checks the same cases.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use arbitrary::{Arbitrary, Result as ArbResult, Unstructured};
use handset_core::message::{
    Contact, Contacts, Host, Message, MessageWriter, Method, ReferToReplaces, Scheme,
};

const TOKEN: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~";
const LABEL: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// unreserved characters: allowed in user parts and URI parameters.
const URI_SAFE: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'";
const TEXT: &[u8] = b"abcdefghijklmnopqrstuvwxyz ABC0123456789-.!%*_+`'~()<>@,;:/[]?={}";

fn pick(u: &mut Unstructured<'_>, alphabet: &[u8], min: usize, max: usize) -> ArbResult<String> {
    let len = u.int_in_range(min..=max)?;
    let mut s = String::with_capacity(len);
    for _ in 0..len {
        let i = u.choose_index(alphabet.len())?;
        s.push(char::from(alphabet[i]));
    }
    Ok(s)
}

/// 1-12 unreserved URI characters.
#[derive(Clone, Debug, PartialEq)]
struct UriToken(String);
impl<'a> Arbitrary<'a> for UriToken {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        pick(u, URI_SAFE, 1, 12).map(UriToken)
    }
}

/// A `token` of 1-12 characters.
#[derive(Clone, Debug, PartialEq)]
struct Token(String);
impl<'a> Arbitrary<'a> for Token {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        pick(u, TOKEN, 1, 12).map(Token)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum HostPart {
    Name(String),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}
impl<'a> Arbitrary<'a> for HostPart {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        Ok(match u.int_in_range(0..=2)? {
            0 => {
                let labels = u.int_in_range(1..=4)?;
                let mut name = String::new();
                for i in 0..labels {
                    if i > 0 {
                        name.push('.');
                    }
                    // A label starts with a letter so that it never reads as IPv4.
                    name.push_str(&pick(u, b"abcdefghijklmnopqrstuvwxyz", 1, 1)?);
                    name.push_str(&pick(u, LABEL, 0, 10)?);
                }
                HostPart::Name(name)
            }
            1 => HostPart::V4(Ipv4Addr::from(u32::arbitrary(u)?)),
            _ => HostPart::V6(Ipv6Addr::from(u128::arbitrary(u)?)),
        })
    }
}
impl std::fmt::Display for HostPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostPart::Name(n) => f.write_str(n),
            HostPart::V4(a) => write!(f, "{a}"),
            HostPart::V6(a) => write!(f, "[{a}]"),
        }
    }
}

#[derive(Clone, Debug, Arbitrary)]
struct UriParts {
    secure: bool,
    user: Option<UriToken>,
    host: HostPart,
    port: Option<u16>,
    params: Vec<(UriToken, Option<UriToken>)>,
}
impl UriParts {
    fn user(&self) -> Option<&str> {
        self.user.as_ref().map(|t| t.0.as_str())
    }
    fn write(&self) -> String {
        let mut s = String::from(if self.secure { "sips:" } else { "sip:" });
        if let Some(u) = self.user() {
            s.push_str(u);
            s.push('@');
        }
        write!(s, "{}", self.host).unwrap();
        if let Some(p) = self.port {
            write!(s, ":{p}").unwrap();
        }
        for (n, v) in &self.params {
            write!(s, ";{}", n.0).unwrap();
            if let Some(v) = v {
                write!(s, "={}", v.0).unwrap();
            }
        }
        s
    }
    fn check(&self, uri: &handset_core::message::Uri<'_>) {
        let scheme = if self.secure {
            Scheme::Sips
        } else {
            Scheme::Sip
        };
        assert_eq!(uri.scheme, scheme);
        assert_eq!(uri.user, self.user());
        let host = uri.host.expect("host");
        match (&self.host, host) {
            (HostPart::Name(a), Host::Name(b)) => assert_eq!(a, b),
            (HostPart::V4(a), Host::V4(b)) => assert_eq!(*a, b),
            (HostPart::V6(a), Host::V6(b)) => assert_eq!(*a, b),
            (a, b) => panic!("host {a:?} read as {b:?}"),
        }
        assert_eq!(uri.port, self.port);
        let params: Vec<_> = uri.param_list().collect();
        assert_eq!(params.len(), self.params.len());
        for ((n, v), (pn, pv)) in self.params.iter().zip(params) {
            assert_eq!((n.0.as_str(), v.as_ref().map(|t| t.0.as_str())), (pn, pv));
        }
    }
}

/// A display name: a run of tokens or a quoted string with escapes.
#[derive(Clone, Debug)]
enum Display {
    Tokens(Vec<Token>),
    Quoted(String),
}
impl<'a> Arbitrary<'a> for Display {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        if bool::arbitrary(u)? {
            let n = u.int_in_range(1..=3)?;
            (0..n)
                .map(|_| Token::arbitrary(u))
                .collect::<ArbResult<_>>()
                .map(Display::Tokens)
        } else {
            pick(u, b"ab \"\\,;:<>@", 0, 16).map(Display::Quoted)
        }
    }
}
impl Display {
    fn write(&self) -> String {
        match self {
            Display::Tokens(t) => t.iter().map(|t| t.0.as_str()).collect::<Vec<_>>().join(" "),
            Display::Quoted(q) => {
                let mut s = String::from("\"");
                for c in q.chars() {
                    if c == '"' || c == '\\' {
                        s.push('\\');
                    }
                    s.push(c);
                }
                s.push('"');
                s
            }
        }
    }
}

#[derive(Clone, Debug)]
struct Delta(u32);
impl<'a> Arbitrary<'a> for Delta {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        u32::arbitrary(u).map(Delta)
    }
}

#[derive(Clone, Debug, Arbitrary)]
enum StartKind {
    Request(u8, Option<Token>),
    Response(u16),
}

#[derive(Clone, Debug, Arbitrary)]
struct Fields {
    start: StartKind,
    request_uri: UriParts,
    transport: Token,
    via_host: HostPart,
    via_port: Option<u16>,
    branch: Token,
    from_display: Option<Display>,
    from: UriParts,
    from_tag: Token,
    to: UriParts,
    to_tag: Option<Token>,
    call_id: (Token, Option<Token>),
    cseq: u32,
    max_forwards: u8,
    contact: Option<(UriParts, Option<Delta>, Option<u16>)>,
    expires: Option<Delta>,
    supported: Vec<Token>,
    replaces: Option<(Token, Token, Token, bool)>,
    extra: Vec<(Token, String)>,
    body: Vec<u8>,
}

const METHODS: [Method<'static>; 8] = [
    Method::Invite,
    Method::Ack,
    Method::Bye,
    Method::Options,
    Method::Register,
    Method::Refer,
    Method::Notify,
    Method::Prack,
];

impl Fields {
    fn method(&self) -> Option<Method<'_>> {
        match &self.start {
            StartKind::Request(_, Some(t)) => Some(Method::from_token(&t.0)),
            StartKind::Request(i, None) => Some(METHODS[usize::from(*i) % METHODS.len()]),
            StartKind::Response(_) => None,
        }
    }
    fn status(&self) -> Option<u16> {
        match self.start {
            StartKind::Response(c) => Some(100 + c % 600),
            StartKind::Request(..) => None,
        }
    }
    fn call_id(&self) -> String {
        match &self.call_id.1 {
            Some(h) => format!("{}@{}", self.call_id.0 .0, h.0),
            None => self.call_id.0 .0.clone(),
        }
    }
    fn cseq(&self) -> u32 {
        self.cseq % (1 << 31)
    }
    fn q(q: Option<u16>) -> Option<u16> {
        q.map(|q| q % 1001)
    }
    fn extra_value(v: &str) -> String {
        // Header values are written without surrounding white space.
        let filtered: String = v.chars().filter(|c| TEXT.contains(&(*c as u8))).collect();
        format!("v{}v", filtered.trim())
    }

    fn write(&self, buf: &mut [u8]) -> usize {
        let mut w = MessageWriter::new(buf);
        let cseq_method = match self.method() {
            Some(m) => {
                w.request_line(m, &self.request_uri.write());
                m
            }
            None => {
                let code = self.status().unwrap();
                w.status_line(code, handset_core::message::reason_phrase(code));
                Method::Invite
            }
        };
        w.header_fmt(
            "Via",
            format_args!(
                "SIP/2.0/{} {}{};branch=z9hG4bK{}",
                self.transport.0,
                self.via_host,
                self.via_port.map(|p| format!(":{p}")).unwrap_or_default(),
                self.branch.0
            ),
        );
        w.header_fmt("Max-Forwards", format_args!("{}", self.max_forwards));
        let display = self
            .from_display
            .as_ref()
            .map(|d| format!("{} ", d.write()));
        w.header_fmt(
            "From",
            format_args!(
                "{}<{}>;tag={}",
                display.unwrap_or_default(),
                self.from.write(),
                self.from_tag.0
            ),
        );
        let to_tag = self.to_tag.as_ref().map(|t| format!(";tag={}", t.0));
        w.header_fmt(
            "To",
            format_args!("<{}>{}", self.to.write(), to_tag.unwrap_or_default()),
        );
        w.header("Call-ID", &self.call_id());
        w.header_fmt("CSeq", format_args!("{} {}", self.cseq(), cseq_method));
        if let Some((uri, expires, q)) = &self.contact {
            let mut v = format!("<{}>", uri.write());
            if let Some(e) = expires {
                write!(v, ";expires={}", e.0).unwrap();
            }
            if let Some(q) = Self::q(*q) {
                write!(v, ";q={}.{:03}", q / 1000, q % 1000).unwrap();
            }
            w.header("Contact", &v);
        }
        if let Some(e) = &self.expires {
            w.header_fmt("Expires", format_args!("{}", e.0));
        }
        if !self.supported.is_empty() {
            let list: Vec<&str> = self.supported.iter().map(|t| t.0.as_str()).collect();
            w.header("Supported", &list.join(", "));
        }
        if let Some((call_id, to_tag, from_tag, early_only)) = &self.replaces {
            let target = self.to.write();
            let value = ReferToReplaces {
                target: &target,
                call_id: &format!("{}@x", call_id.0),
                to_tag: &to_tag.0,
                from_tag: &from_tag.0,
                early_only: *early_only,
            };
            w.header_fmt("Refer-To", format_args!("{value}"));
        }
        for (name, value) in &self.extra {
            w.header_fmt(
                &format!("X-{}", name.0),
                format_args!("{}", Self::extra_value(value)),
            );
        }
        let body = if self.body.is_empty() {
            None
        } else {
            Some("application/octet-stream")
        };
        w.finish(body, &self.body).expect("buffer large enough")
    }

    fn check(&self, m: &Message<'_>) {
        if let Err(e) = m.validate() {
            panic!("validate: {e}");
        }
        assert_eq!(m.method(), self.method());
        assert_eq!(m.status(), self.status());
        if let Some(uri) = m.request_uri() {
            self.request_uri.check(&uri.unwrap());
        }
        let via = m.top_via().unwrap().unwrap();
        assert_eq!(via.transport, self.transport.0);
        assert_eq!(via.port, self.via_port);
        assert_eq!(via.branch().unwrap(), format!("z9hG4bK{}", self.branch.0));
        assert_eq!(m.max_forwards(), Some(Ok(self.max_forwards)));
        let from = m.from().unwrap().unwrap();
        assert_eq!(from.tag(), Some(self.from_tag.0.as_str()));
        assert_eq!(
            from.display_name.map(str::to_owned),
            self.from_display.as_ref().map(Display::write)
        );
        if let Some(Display::Quoted(q)) = &self.from_display {
            let mut buf = [0u8; 64];
            let raw = from.display_name.unwrap();
            assert_eq!(
                handset_core::message::unescape_quoted(raw, &mut buf),
                Some(q.as_str())
            );
        }
        self.from.check(&from.uri);
        let to = m.to().unwrap().unwrap();
        assert_eq!(to.tag(), self.to_tag.as_ref().map(|t| t.0.as_str()));
        self.to.check(&to.uri);
        assert_eq!(m.call_id(), Some(self.call_id().as_str()));
        assert_eq!(m.cseq().unwrap().unwrap().seq, self.cseq());
        match (&self.contact, m.contacts()) {
            (None, None) => {}
            (Some((uri, expires, q)), Some(Ok(Contacts::List(mut list)))) => {
                let c: Contact<'_> = list.next().unwrap().unwrap();
                uri.check(&c.addr.uri);
                assert_eq!(c.expires, expires.as_ref().map(|e| e.0));
                assert_eq!(c.q, Self::q(*q));
                assert!(list.next().is_none());
            }
            (a, b) => panic!("contact {a:?} read as {b:?}"),
        }
        assert_eq!(m.expires(), self.expires.as_ref().map(|e| Ok(e.0)));
        match m.supported() {
            None => assert!(self.supported.is_empty()),
            Some(list) => {
                let got: Vec<&str> = list.unwrap().collect();
                let want: Vec<&str> = self.supported.iter().map(|t| t.0.as_str()).collect();
                assert_eq!(got, want);
            }
        }
        if let Some((call_id, to_tag, from_tag, early_only)) = &self.replaces {
            let refer_to = m.refer_to().unwrap().unwrap();
            self.to.check(&refer_to.addr.uri);
            let mut buf = [0u8; 256];
            let r = refer_to.replaces(&mut buf).unwrap().unwrap();
            assert_eq!(r.call_id, format!("{}@x", call_id.0));
            assert_eq!(
                (r.to_tag, r.from_tag),
                (to_tag.0.as_str(), from_tag.0.as_str())
            );
            assert_eq!(r.early_only, *early_only);
        }
        for (name, value) in &self.extra {
            let want = Self::extra_value(value);
            let found = m
                .header_values(handset_core::message::HeaderName::Other(&format!(
                    "X-{}",
                    name.0
                )))
                .any(|v| v == want);
            assert!(found, "X-{} lost", name.0);
        }
        assert_eq!(m.body(), &self.body[..]);
    }
}

/// A fixed-seed source of bytes (xorshift64*), so the test is repeatable.
struct ByteSource(u64);
impl ByteSource {
    fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

#[test]
fn written_fields_parse_back_unchanged() {
    let mut source = ByteSource(0x9E37_79B9_7F4A_7C15);
    let mut raw = vec![0u8; 4096];
    let mut out = vec![0u8; 16 * 1024];
    let mut checked = 0;
    for case in 0..3000 {
        source.fill(&mut raw);
        let mut u = Unstructured::new(&raw);
        let Ok(fields) = Fields::arbitrary(&mut u) else {
            continue;
        };
        let n = fields.write(&mut out);
        let msg = Message::parse_datagram(&out[..n])
            .unwrap_or_else(|e| panic!("case {case}: {e}\n{}", String::from_utf8_lossy(&out[..n])));
        assert_eq!(msg.len(), n);
        let result = std::panic::catch_unwind(|| fields.check(&msg));
        if result.is_err() {
            panic!(
                "case {case} failed:\n{}",
                String::from_utf8_lossy(&out[..n])
            );
        }
        // The same bytes framed as a stream give the same message.
        assert_eq!(Message::parse_stream(&out[..n]).unwrap().len(), n);
        checked += 1;
    }
    assert!(checked > 2500, "only {checked} cases were built");
}
