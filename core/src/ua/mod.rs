//! The user-agent core (RFC 3261 §8): who the phone is, and the headers
//! every request it sends and every response it answers must carry. The
//! usages (call, register, transfer) write their messages through it.

use core::net::SocketAddr;

use crate::message::{AddrText, Decimal, HeaderName, Message, MessageWriter, Method};
use crate::rng::Rng;

/// Bounded text owned by the core.
pub type Text<const N: usize> = heapless::String<N>;

/// Longest user part the phone is configured with.
pub const MAX_USER: usize = 32;
/// Longest domain the phone is configured with.
pub const MAX_DOMAIN: usize = 64;
/// Longest tag the phone generates or stores.
pub const MAX_TAG: usize = 64;
/// Longest Call-ID the phone stores.
pub const MAX_CALL_ID: usize = 128;

/// The product token sent in User-Agent and Server (RFC 3261 §20.41).
pub const PRODUCT: &str = "handset/0.1";

/// Methods the phone accepts, for Allow (RFC 3261 §20.5): INFO with the
/// `info-dtmf` cargo feature, UPDATE and PRACK with `prack`.
pub const ALLOW: &str = match (cfg!(feature = "info-dtmf"), cfg!(feature = "prack")) {
    (true, true) => "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO, UPDATE, PRACK",
    (true, false) => "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO",
    (false, true) => "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, UPDATE, PRACK",
    (false, false) => "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY",
};

/// Extensions the phone supports, for Supported (RFC 3261 §20.37).
pub const SUPPORTED: &str = "replaces, norefersub";

/// Who the phone is on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalIdentity {
    /// The user part of the address of record (`alice`).
    pub user: Text<MAX_USER>,
    /// The domain of the address of record (`example.com` or an IP).
    pub domain: Text<MAX_DOMAIN>,
    /// The display name, empty for none.
    pub display_name: Text<MAX_USER>,
    /// The address the phone's SIP socket is bound to: Via sent-by and
    /// Contact host.
    pub local: SocketAddr,
    /// The transport token for Via (`UDP` or `TCP`).
    pub transport: &'static str,
}

impl LocalIdentity {
    /// Writes `"Display" <sip:user@domain>` (or without display name).
    pub fn write_aor(&self, w: &mut MessageWriter<'_>) {
        if self.display_name.is_empty() {
            w.text(&["<sip:", &self.user, "@", &self.domain, ">"]);
        } else {
            w.text(&["\"", &self.display_name, "\" "]);
            w.text(&["<sip:", &self.user, "@", &self.domain, ">"]);
        }
    }

    /// The Contact header: where this phone receives requests (§8.1.1.8).
    pub fn write_contact(&self, w: &mut MessageWriter<'_>) {
        let local = AddrText::socket(self.local);
        w.header_text("Contact", &["<sip:", &self.user, "@", local.as_str(), ">"]);
    }

    /// The topmost Via for a request with `branch` (§8.1.1.7); `rport`
    /// asks for symmetric responses (RFC 3581 §3).
    pub fn write_via(&self, w: &mut MessageWriter<'_>, branch: &str) {
        let local = AddrText::socket(self.local);
        w.header_text(
            "Via",
            &[
                "SIP/2.0/",
                self.transport,
                " ",
                local.as_str(),
                ";rport;branch=",
                branch,
            ],
        );
    }
}

/// `host:port` with IPv6 hosts in brackets, as SIP writes them.
#[derive(Clone, Copy, Debug)]
pub struct SockAddrFmt(pub SocketAddr);

impl core::fmt::Display for SockAddrFmt {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(AddrText::socket(self.0).as_str())
    }
}

/// A fresh random token (tags, Call-IDs) of `len` characters.
pub fn random_token<const N: usize>(rng: &mut Rng, len: usize) -> Text<N> {
    let mut raw = [0u8; 64];
    let len = len.min(raw.len()).min(N);
    let slice = raw.get_mut(..len).unwrap_or(&mut []);
    rng.fill_token(slice);
    let mut t = Text::new();
    for &b in slice.iter() {
        let _ = t.push(char::from(b));
    }
    t
}

/// Copies `s` into bounded text, `None` when it does not fit.
pub fn text<const N: usize>(s: &str) -> Option<Text<N>> {
    let mut t = Text::new();
    t.push_str(s).ok()?;
    Some(t)
}

/// Writes the start of a response to `req` (RFC 3261 §8.2.6.2): status
/// line, every Via, From, To (with `to_tag` added when the request's To has
/// none), Call-ID, CSeq, and, for dialog-creating responses, the
/// Record-Route headers (§12.1.1). The caller adds the rest and finishes.
pub fn write_response_head(
    w: &mut MessageWriter<'_>,
    req: &Message<'_>,
    code: u16,
    reason: &str,
    to_tag: Option<&str>,
    copy_record_route: bool,
) {
    w.status_line(code, reason);
    for h in req.headers() {
        match h.header_name() {
            HeaderName::Via | HeaderName::From | HeaderName::CallId | HeaderName::CSeq => {
                w.header(h.name, h.value)
            }
            HeaderName::RecordRoute if copy_record_route => w.header(h.name, h.value),
            HeaderName::To => {
                let has_tag = req
                    .to()
                    .and_then(|t| t.ok())
                    .is_some_and(|t| t.tag().is_some());
                match to_tag {
                    // §8.2.6.2: a To tag is added only when the request had none.
                    Some(tag) if !has_tag => w.header_text(h.name, &[h.value, ";tag=", tag]),
                    _ => w.header(h.name, h.value),
                }
            }
            _ => {}
        }
    }
}

/// Writes a complete response without body, with `extra` headers, into
/// `buf` and returns its length (`None` when it does not fit).
pub fn write_simple_response(
    buf: &mut [u8],
    req: &Message<'_>,
    code: u16,
    to_tag: Option<&str>,
    extra: &[(&str, &str)],
) -> Option<usize> {
    let mut w = MessageWriter::new(buf);
    write_response_head(
        &mut w,
        req,
        code,
        crate::message::reason_phrase(code),
        to_tag,
        false,
    );
    for (n, v) in extra {
        w.header(n, v);
    }
    w.header("Server", PRODUCT);
    w.finish(None, b"").ok()
}

/// Where a response to `req` goes (RFC 3261 §18.2.2, RFC 3581 §4): the
/// source address when rport was asked for or the Via's received is set,
/// else the Via's sent-by, else the source.
pub fn response_destination(req: &Message<'_>, source: SocketAddr) -> SocketAddr {
    let Some(Ok(via)) = req.top_via() else {
        return source;
    };
    if via.rport().is_some() {
        return source;
    }
    match via.host.ip() {
        Some(ip) => SocketAddr::new(ip, via.port.unwrap_or(5060)),
        None => source,
    }
}

/// The request-line method of a request as a value that outlives it.
pub fn method_is(req: &Message<'_>, m: Method<'_>) -> bool {
    req.method() == Some(m)
}

/// Writes `n` as decimal text into a small buffer, for header values built
/// from numbers.
pub fn decimal(n: u32) -> Text<10> {
    let mut t = Text::new();
    let _ = t.push_str(Decimal::new(u64::from(n)).as_str());
    t
}
