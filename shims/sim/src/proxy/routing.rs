//! Where a request goes (RFC 3261 §16.4 route information, §16.5 target
//! determination), decided from the request and the location service
//! alone.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use handset_core::message::{Message, Method, NameAddr, Scheme};
use handset_core::time::Instant;

use super::forward::{in_domain, names_proxy, uri_address};
use super::registrar::LocationService;

/// What the proxy does with a request (REGISTER for its domain aside).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Forward the request.
    Forward {
        /// The next hop.
        next_hop: SocketAddr,
        /// The new Request-URI (a registered contact), if it changes.
        request_uri: Option<String>,
        /// The topmost Route named the proxy (§16.4) and is removed.
        strip_top_route: bool,
        /// The proxy stays on the dialog's path (§16.6 step 4).
        record_route: bool,
    },
    /// Answer with this final status.
    Reject(u16),
    /// An OPTIONS for the proxy itself: answer 200.
    Local,
}

/// Everything the decision reads besides the request.
#[derive(Clone, Copy, Debug)]
pub struct RoutingContext<'a> {
    /// The proxy's address.
    pub proxy: SocketAddr,
    /// The domain the proxy is responsible for.
    pub domain: &'a str,
    /// Who is registered where.
    pub location: &'a LocationService,
    /// Users of the domain that exist even when not registered (480
    /// rather than 404).
    pub known_users: &'a BTreeSet<String>,
    /// The current time, for binding expiry.
    pub now: Instant,
}

/// Methods whose out-of-dialog requests create dialogs the proxy
/// record-routes (RFC 3261 §12.1, RFC 6665 §4.1, RFC 3515 §2.4.1).
fn forms_dialog(method: Method<'_>) -> bool {
    matches!(method, Method::Invite | Method::Subscribe | Method::Refer)
}

/// Decides where `req` goes.
pub fn route(req: &Message<'_>, cx: &RoutingContext<'_>) -> Target {
    let Some(method) = req.method() else {
        return Target::Reject(400);
    };
    let in_dialog = req
        .to()
        .and_then(Result::ok)
        .is_some_and(|t| t.tag().is_some());
    let record_route = forms_dialog(method) && !in_dialog;

    // §16.4: a topmost Route naming this proxy is removed; the next one, if
    // any, is where the request goes (loose routing, §16.12).
    let mut routes = req.header_values(handset_core::message::HeaderName::Route);
    let mut next_route = routes.next().map(NameAddr::parse);
    let strip_top_route = match next_route {
        Some(Ok(ref r)) if names_proxy(&r.uri, cx.proxy, cx.domain) => {
            next_route = routes.next().map(NameAddr::parse);
            true
        }
        _ => false,
    };
    match next_route {
        Some(Ok(r)) => {
            return match uri_address(&r.uri) {
                Some(next_hop) => Target::Forward {
                    next_hop,
                    request_uri: None,
                    strip_top_route,
                    record_route,
                },
                // The simulator resolves no host names.
                None => Target::Reject(404),
            };
        }
        Some(Err(_)) => return Target::Reject(400),
        None => {}
    }

    let Some(Ok(uri)) = req.request_uri() else {
        return Target::Reject(400);
    };
    if !matches!(uri.scheme, Scheme::Sip | Scheme::Sips) {
        // RFC 3261 §21.4.16.
        return Target::Reject(416);
    }
    if in_domain(&uri, cx.proxy, cx.domain) {
        if in_dialog {
            // A mid-dialog request that routes to the proxy itself names no
            // dialog the proxy has: refused as Kamailio's default
            // configuration does.
            return Target::Reject(404);
        }
        let Some(user) = uri.user else {
            return if method == Method::Options {
                Target::Local
            } else {
                Target::Reject(404)
            };
        };
        // §16.5: the location service gives the target set.
        return match cx.location.lookup(cx.now, user) {
            Some(b) => Target::Forward {
                next_hop: b.address,
                request_uri: Some(b.contact.clone()),
                strip_top_route,
                record_route,
            },
            None if cx.known_users.contains(user) => Target::Reject(480),
            None => Target::Reject(404),
        };
    }
    match uri_address(&uri) {
        Some(next_hop) => Target::Forward {
            next_hop,
            request_uri: None,
            strip_top_route,
            record_route,
        },
        None => Target::Reject(404),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::registrar::ExpiryPolicy;

    const PROXY: &str = "192.0.2.9:5060";

    fn request(line: &str, extra: &str) -> Vec<u8> {
        format!(
            "{line}\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
             From: <sip:alice@example.com>;tag=1\r\n{extra}Call-ID: c\r\nCSeq: 1 INVITE\r\n\
             Content-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    fn decide(raw: &[u8], location: &LocationService) -> Target {
        let users = BTreeSet::from(["carol".to_string()]);
        let cx = RoutingContext {
            proxy: PROXY.parse().unwrap(),
            domain: "example.com",
            location,
            known_users: &users,
            now: Instant::ZERO,
        };
        route(&Message::parse_datagram(raw).unwrap(), &cx)
    }

    #[test]
    fn targets_from_route_request_uri_and_location() {
        let mut loc = LocationService::new();
        let reg =
            b"REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2\r\n\
            From: <sip:bob@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: r\r\n\
            CSeq: 1 REGISTER\r\nContact: <sip:bob@192.0.2.2:5062>\r\nContent-Length: 0\r\n\r\n";
        let reg = Message::parse_datagram(reg).unwrap();
        let src = "192.0.2.2:5062".parse().unwrap();
        loc.register(Instant::ZERO, src, "bob", &reg, &ExpiryPolicy::default());

        let to_bob = "To: <sip:bob@example.com>\r\n";
        assert_eq!(
            decide(&request("INVITE sip:bob@example.com SIP/2.0", to_bob), &loc),
            Target::Forward {
                next_hop: src,
                request_uri: Some("sip:bob@192.0.2.2:5062".into()),
                strip_top_route: false,
                record_route: true,
            }
        );
        let to_carol = "To: <sip:carol@example.com>\r\n";
        assert_eq!(
            decide(
                &request("INVITE sip:carol@example.com SIP/2.0", to_carol),
                &loc
            ),
            Target::Reject(480)
        );
        assert_eq!(
            decide(
                &request("INVITE sip:dave@192.0.2.9 SIP/2.0", to_carol),
                &loc
            ),
            Target::Reject(404)
        );
        // In a dialog: our own Route goes, the R-URI (a contact) is the target.
        let in_dialog = "Route: <sip:192.0.2.9;lr>\r\nTo: <sip:bob@example.com>;tag=9\r\n";
        assert_eq!(
            decide(
                &request("BYE sip:bob@192.0.2.2:5062 SIP/2.0", in_dialog),
                &loc
            ),
            Target::Forward {
                next_hop: src,
                request_uri: None,
                strip_top_route: true,
                record_route: false,
            }
        );
        let lost = "To: <sip:bob@example.com>;tag=9\r\n";
        assert_eq!(
            decide(&request("BYE sip:bob@example.com SIP/2.0", lost), &loc),
            Target::Reject(404)
        );
        // A further Route wins over the Request-URI.
        let two =
            "Route: <sip:192.0.2.9;lr>, <sip:192.0.2.7:5070;lr>\r\nTo: <sip:x@example.com>\r\n";
        assert_eq!(
            decide(&request("INVITE sip:x@example.com SIP/2.0", two), &loc),
            Target::Forward {
                next_hop: "192.0.2.7:5070".parse().unwrap(),
                request_uri: None,
                strip_top_route: true,
                record_route: true,
            }
        );
        assert_eq!(
            decide(&request("OPTIONS sip:example.com SIP/2.0", to_bob), &loc),
            Target::Local
        );
        assert_eq!(
            decide(&request("INVITE tel:+15551234 SIP/2.0", to_bob), &loc),
            Target::Reject(416)
        );
    }
}
