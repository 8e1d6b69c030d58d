//! Request and response rewriting for a forwarding proxy (RFC 3261 §16.6,
//! §16.7).

use std::net::SocketAddr;

use handset_core::message::{HeaderName, Message, MessageWriter, NameAddr, Uri};

/// What the proxy adds to a request it forwards.
#[derive(Clone, Copy, Debug)]
pub struct ForwardParams<'a> {
    /// The proxy's own address (for Via and Record-Route).
    pub proxy: SocketAddr,
    /// The branch of the new Via (RFC 3261 §16.6 step 8).
    pub branch: &'a str,
    /// The new Request-URI, when the target set changed it (§16.6 step 2).
    pub request_uri: Option<&'a str>,
    /// Whether to add a Record-Route (§16.6 step 4).
    pub record_route: bool,
    /// Whether the topmost Route named this proxy and is to be removed
    /// (§16.4).
    pub strip_top_route: bool,
}

/// Writes the forwarded copy of `req` into `buf`; returns its length.
pub fn forward_request(req: &Message<'_>, p: &ForwardParams<'_>, buf: &mut [u8]) -> Option<usize> {
    let line = req.request_line()?;
    let mut w = MessageWriter::new(buf);
    w.request_line(line.method, p.request_uri.unwrap_or(line.uri));
    // §16.6 step 8: the proxy's Via goes on top.
    w.header_fmt(
        "Via",
        format_args!("SIP/2.0/UDP {};branch={}", p.proxy, p.branch),
    );
    if p.record_route {
        // §16.6 step 4: a URI that resolves to this proxy, with lr (loose routing).
        w.header_fmt("Record-Route", format_args!("<sip:{};lr>", p.proxy));
    }
    let mut route_skipped = !p.strip_top_route;
    let mut saw_max_forwards = false;
    for h in req.headers() {
        match h.header_name() {
            HeaderName::ContentLength => {}
            HeaderName::MaxForwards => {
                saw_max_forwards = true;
                // §16.6 step 3: decrement (callers answered 483 for 0 before).
                let n: u8 = h.value.trim().parse().unwrap_or(70);
                w.header_fmt("Max-Forwards", format_args!("{}", n.saturating_sub(1)));
            }
            HeaderName::Route if !route_skipped => {
                route_skipped = true;
                // Drop the first element only; keep the others on this line.
                let rest: Vec<&str> = handset_core::message::CommaList::new(h.value).skip(1).collect();
                if !rest.is_empty() {
                    w.header("Route", &rest.join(", "));
                }
            }
            _ => w.header(h.name, h.value),
        }
    }
    if !saw_max_forwards {
        w.header("Max-Forwards", "69");
    }
    let ct = req.content_type();
    w.finish(ct, req.body()).ok()
}

/// Writes `resp` without its topmost Via (§16.7 step 9) into `buf`.
pub fn forward_response(resp: &Message<'_>, buf: &mut [u8]) -> Option<usize> {
    let status = resp.status_line()?;
    let mut w = MessageWriter::new(buf);
    w.status_line(status.code, status.reason);
    let mut via_dropped = false;
    for h in resp.headers() {
        match h.header_name() {
            HeaderName::ContentLength => {}
            HeaderName::Via if !via_dropped => {
                via_dropped = true;
                let rest: Vec<&str> = handset_core::message::CommaList::new(h.value).skip(1).collect();
                if !rest.is_empty() {
                    w.header("Via", &rest.join(", "));
                }
            }
            _ => w.header(h.name, h.value),
        }
    }
    w.finish(resp.content_type(), resp.body()).ok()
}

/// Where a response goes: the topmost Via's received/rport or sent-by
/// (RFC 3261 §18.2.2, RFC 3581 §4).
pub fn response_destination(msg: &Message<'_>, default_port: u16) -> Option<SocketAddr> {
    let via = msg.top_via()?.ok()?;
    let ip = via
        .received()
        .and_then(|r| r.parse().ok())
        .or_else(|| via.host.ip())?;
    let port = via.rport().flatten().or(via.port).unwrap_or(default_port);
    Some(SocketAddr::new(ip, port))
}

/// The address a URI resolves to when its host is an IP address.
pub fn uri_address(uri: &Uri<'_>, default_port: u16) -> Option<SocketAddr> {
    Some(SocketAddr::new(uri.host?.ip()?, uri.port.unwrap_or(default_port)))
}

/// Whether the topmost Route names this proxy (RFC 3261 §16.4).
pub fn top_route_is(msg: &Message<'_>, proxy: SocketAddr) -> bool {
    msg.header_values(HeaderName::Route)
        .next()
        .and_then(|r| NameAddr::parse(r).ok())
        .and_then(|na| uri_address(&na.uri, 5060))
        == Some(proxy)
}

/// The next hop named by the topmost Route, if any.
pub fn top_route_address(msg: &Message<'_>) -> Option<SocketAddr> {
    let first = msg.header_values(HeaderName::Route).next()?;
    uri_address(&NameAddr::parse(first).ok()?.uri, 5060)
}

/// Writes a response the proxy itself generates for `req` (§8.2.6, §16.7).
pub fn local_response(req: &Message<'_>, code: u16, to_tag: Option<&str>, extra: &[(&str, &str)], buf: &mut [u8]) -> Option<usize> {
    let mut w = MessageWriter::new(buf);
    w.status_line(code, handset_core::message::reason_phrase(code));
    for h in req.headers() {
        match h.header_name() {
            HeaderName::Via | HeaderName::From | HeaderName::CallId | HeaderName::CSeq => {
                w.header(h.name, h.value)
            }
            HeaderName::To => match to_tag {
                Some(tag) if !h.value.contains("tag=") => {
                    w.header_fmt(h.name, format_args!("{};tag={tag}", h.value))
                }
                _ => w.header(h.name, h.value),
            },
            _ => {}
        }
    }
    for (n, v) in extra {
        w.header(n, v);
    }
    w.finish(None, b"").ok()
}
