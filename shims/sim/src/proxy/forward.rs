//! Request and response rewriting for a forwarding proxy (RFC 3261 §16.6,
//! §16.7) and the addresses those messages go to.

use std::net::{IpAddr, SocketAddr};

use handset_core::message::{CommaList, HeaderName, Host, Message, MessageWriter, Uri, Via};
use handset_core::ua::SockAddrFmt;

/// The port a SIP URI or Via without one means (RFC 3261 §19.1.2).
pub const DEFAULT_PORT: u16 = 5060;

/// Max-Forwards a proxy adds when a request carries none (RFC 3261 §16.6
/// step 3).
pub const DEFAULT_MAX_FORWARDS: u8 = 70;

/// What the proxy changes in a request it forwards.
#[derive(Clone, Copy, Debug)]
pub struct ForwardParams<'a> {
    /// The proxy's own address (for Via and Record-Route).
    pub proxy: SocketAddr,
    /// Where the request came from: the sender's Via gets `received` and a
    /// filled-in `rport` from it (RFC 3261 §18.2.1, RFC 3581 §4).
    pub source: SocketAddr,
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

/// Writes the forwarded copy of `req` into `buf`; returns its length, or
/// `None` when it does not fit or the request has no usable Max-Forwards.
pub fn forward_request(req: &Message<'_>, p: &ForwardParams<'_>, buf: &mut [u8]) -> Option<usize> {
    let line = req.request_line()?;
    let mut w = MessageWriter::new(buf);
    w.request_line(line.method, p.request_uri.unwrap_or(line.uri));
    // §16.6 step 8: the proxy's Via goes on top of the others.
    w.header_fmt(
        "Via",
        format_args!("SIP/2.0/UDP {};branch={}", SockAddrFmt(p.proxy), p.branch),
    );
    if p.record_route {
        // §16.6 step 4: a URI that resolves to this proxy, with lr (loose
        // routing, §16.12.1.1), above any Record-Route already present.
        w.header_fmt(
            "Record-Route",
            format_args!("<sip:{};lr>", SockAddrFmt(p.proxy)),
        );
    }
    let mut route_pending = p.strip_top_route;
    let mut via_pending = true;
    let mut saw_max_forwards = false;
    for h in req.headers() {
        match h.header_name() {
            // Written again by `finish`, from the body actually sent.
            HeaderName::ContentLength => {}
            HeaderName::MaxForwards => {
                saw_max_forwards = true;
                // §16.6 step 3: decrement (the caller answered 483 for 0).
                let n: u8 = h.value.trim().parse().ok()?;
                w.header_fmt("Max-Forwards", format_args!("{}", n.saturating_sub(1)));
            }
            HeaderName::Via if via_pending => {
                via_pending = false;
                let mut values = CommaList::new(h.value);
                if let Some(top) = values.next() {
                    w.header_fmt("Via", format_args!("{}", stamp_via(top, p.source)));
                }
                write_rest(&mut w, h.name, values);
            }
            HeaderName::Route if route_pending => {
                // §16.4: remove only the first element, which named us.
                route_pending = false;
                let mut values = CommaList::new(h.value);
                values.next();
                write_rest(&mut w, h.name, values);
            }
            _ => w.header(h.name, h.value),
        }
    }
    if !saw_max_forwards {
        w.header_fmt("Max-Forwards", format_args!("{DEFAULT_MAX_FORWARDS}"));
    }
    // Content-Type was copied with the other headers.
    w.finish(None, req.body()).ok()
}

/// Writes the values left in `values` on one `name` line, if any are left.
fn write_rest(w: &mut MessageWriter<'_>, name: &str, values: CommaList<'_>) {
    let rest: Vec<&str> = values.collect();
    if !rest.is_empty() {
        w.header(name, &rest.join(", "));
    }
}

/// The sender's Via as the proxy passes it on: a bare `rport` filled in
/// with the source port and `received` added when the source address is
/// not the sent-by host or `rport` was asked for (RFC 3261 §18.2.1,
/// RFC 3581 §4). A Via that does not parse is passed on unchanged.
pub fn stamp_via(value: &str, source: SocketAddr) -> String {
    let Ok(via) = Via::parse(value) else {
        return value.trim().to_string();
    };
    let Some(sent_by) = via.raw.strip_suffix(via.params) else {
        return via.raw.to_string();
    };
    let mut out = sent_by.trim_end().to_string();
    let mut rport_asked = false;
    for (name, v) in via.param_list() {
        if name.eq_ignore_ascii_case("received") {
            continue; // replaced below
        }
        out.push(';');
        out.push_str(name);
        match v {
            None if name.eq_ignore_ascii_case("rport") => {
                rport_asked = true;
                out.push_str(&format!("={}", source.port()));
            }
            None => {}
            Some(v) => {
                out.push('=');
                out.push_str(v);
            }
        }
    }
    if rport_asked || via.host.ip() != Some(source.ip()) {
        out.push_str(&format!(";received={}", source.ip()));
    }
    out
}

/// Writes `resp` without its topmost Via (§16.7 step 3) into `buf`.
pub fn forward_response(resp: &Message<'_>, buf: &mut [u8]) -> Option<usize> {
    let status = resp.status_line()?;
    let mut w = MessageWriter::new(buf);
    w.status_line(status.code, status.reason);
    let mut via_pending = true;
    for h in resp.headers() {
        match h.header_name() {
            HeaderName::ContentLength => {}
            HeaderName::Via if via_pending => {
                via_pending = false;
                let mut values = CommaList::new(h.value);
                values.next();
                write_rest(&mut w, h.name, values);
            }
            _ => w.header(h.name, h.value),
        }
    }
    w.finish(None, resp.body()).ok()
}

/// Where a response goes by its topmost Via alone: `received` and `rport`
/// when present, else the sent-by (RFC 3261 §18.2.2, RFC 3581 §4). `None`
/// when the sent-by is a host name and no `received` says better.
pub fn via_destination(msg: &Message<'_>) -> Option<SocketAddr> {
    let via = msg.top_via()?.ok()?;
    let ip = via
        .received()
        .and_then(|r| r.parse::<IpAddr>().ok())
        .or_else(|| via.host.ip())?;
    let port = via.rport().flatten().or(via.port).unwrap_or(DEFAULT_PORT);
    Some(SocketAddr::new(ip, port))
}

/// Whether the topmost Via is the proxy's own (sent-by is its address).
pub fn top_via_is(msg: &Message<'_>, proxy: SocketAddr) -> bool {
    msg.top_via().and_then(Result::ok).is_some_and(|v| {
        v.host.ip() == Some(proxy.ip()) && v.port.unwrap_or(DEFAULT_PORT) == proxy.port()
    })
}

/// The address a URI resolves to when its host is an IP address (the
/// simulator has no DNS); `maddr` is not honoured.
pub fn uri_address(uri: &Uri<'_>) -> Option<SocketAddr> {
    Some(SocketAddr::new(
        uri.host?.ip()?,
        uri.port.unwrap_or(DEFAULT_PORT),
    ))
}

/// Whether `uri` names the proxy: its domain, or its IP address and port.
pub fn names_proxy(uri: &Uri<'_>, proxy: SocketAddr, domain: &str) -> bool {
    match uri.host {
        Some(Host::Name(name)) => {
            name.eq_ignore_ascii_case(domain) && uri.port.is_none_or(|p| p == proxy.port())
        }
        Some(host) => {
            host.ip() == Some(proxy.ip()) && uri.port.unwrap_or(DEFAULT_PORT) == proxy.port()
        }
        None => false,
    }
}

/// Whether `uri` is in the proxy's domain: the domain name or the proxy's
/// IP address, whatever the port (RFC 3261 §16.5: the proxy is responsible
/// for it).
pub fn in_domain(uri: &Uri<'_>, proxy: SocketAddr, domain: &str) -> bool {
    match uri.host {
        Some(Host::Name(name)) => name.eq_ignore_ascii_case(domain),
        Some(host) => host.ip() == Some(proxy.ip()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &[u8] = b"INVITE sip:bob@example.com SIP/2.0\r\n\
        Via: SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bKa, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb\r\n\
        Route: <sip:192.0.2.9;lr>, <sip:192.0.2.7;lr>\r\n\
        Max-Forwards: 5\r\nFrom: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n\
        Call-ID: c\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: 3\r\n\r\nv=0";

    #[test]
    fn forwarded_request_gets_via_record_route_and_loses_our_route() {
        let req = Message::parse_datagram(INVITE).unwrap();
        let proxy: SocketAddr = "192.0.2.9:5060".parse().unwrap();
        let mut buf = [0u8; 1500];
        let n = forward_request(
            &req,
            &ForwardParams {
                proxy,
                source: "192.0.2.1:5062".parse().unwrap(),
                branch: "z9hG4bKp",
                request_uri: Some("sip:bob@192.0.2.2:5060"),
                record_route: true,
                strip_top_route: true,
            },
            &mut buf,
        )
        .unwrap();
        let out = Message::parse_datagram(&buf[..n]).unwrap();
        assert_eq!(out.request_line().unwrap().uri, "sip:bob@192.0.2.2:5060");
        let vias: Vec<&str> = out.header_values(HeaderName::Via).collect();
        assert_eq!(
            vias,
            [
                "SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKp",
                "SIP/2.0/UDP 192.0.2.1:5060;rport=5062;branch=z9hG4bKa;received=192.0.2.1",
                "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKb",
            ]
        );
        let routes: Vec<&str> = out.header_values(HeaderName::Route).collect();
        assert_eq!(routes, ["<sip:192.0.2.7;lr>"]);
        assert_eq!(
            out.header(HeaderName::RecordRoute),
            Some("<sip:192.0.2.9:5060;lr>")
        );
        assert_eq!(out.max_forwards(), Some(Ok(4)));
        assert_eq!(out.body(), b"v=0");
        assert_eq!(out.header_values(HeaderName::ContentType).count(), 1);
    }

    #[test]
    fn forwarded_response_loses_the_top_via() {
        let resp = b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKp\r\n\
            Via: SIP/2.0/UDP 192.0.2.1:5060;rport=5060;received=192.0.2.1;branch=z9hG4bKa\r\n\
            To: <sip:bob@example.com>;tag=2\r\nContent-Length: 0\r\n\r\n";
        let resp = Message::parse_datagram(resp).unwrap();
        assert!(top_via_is(&resp, "192.0.2.9:5060".parse().unwrap()));
        let mut buf = [0u8; 512];
        let n = forward_response(&resp, &mut buf).unwrap();
        let out = Message::parse_datagram(&buf[..n]).unwrap();
        assert_eq!(out.header_values(HeaderName::Via).count(), 1);
        assert_eq!(
            via_destination(&out),
            Some("192.0.2.1:5060".parse().unwrap())
        );
    }

    #[test]
    fn domain_and_address_naming() {
        let proxy: SocketAddr = "192.0.2.9:5060".parse().unwrap();
        let uri = |s| Uri::parse(s).unwrap();
        assert!(names_proxy(&uri("sip:192.0.2.9;lr"), proxy, "example.com"));
        assert!(names_proxy(
            &uri("sip:EXAMPLE.com;lr"),
            proxy,
            "example.com"
        ));
        assert!(!names_proxy(
            &uri("sip:192.0.2.9:5070;lr"),
            proxy,
            "example.com"
        ));
        assert!(in_domain(
            &uri("sip:bob@192.0.2.9:5070"),
            proxy,
            "example.com"
        ));
        assert!(!in_domain(&uri("sip:bob@192.0.2.2"), proxy, "example.com"));
        assert_eq!(
            stamp_via(
                "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa",
                "192.0.2.1:5060".parse().unwrap()
            ),
            "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa"
        );
    }
}
