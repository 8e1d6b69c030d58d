//! The location service a registrar fills (RFC 3261 §10.3) and a proxy
//! reads.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use handset_core::message::{HeaderName, Message, NameAddr};
use handset_core::time::{Duration, Instant};

/// One registered contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The Contact URI as registered.
    pub contact: String,
    /// Where requests for it go.
    pub address: SocketAddr,
    /// When the binding lapses.
    pub expires_at: Instant,
}

/// Bindings by address-of-record user (`alice` for `sip:alice@domain`).
#[derive(Clone, Debug, Default)]
pub struct LocationService {
    bindings: BTreeMap<String, Binding>,
}

/// What a REGISTER did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegisterOutcome {
    /// Bound (or refreshed) for this many seconds; the Contact to echo.
    Bound {
        /// The contact.
        contact: String,
        /// Granted seconds.
        expires: u32,
    },
    /// The binding was removed (`Expires: 0`).
    Removed,
    /// A query without Contact (RFC 3261 §10.2.3).
    Queried,
    /// The REGISTER is malformed (answer 400).
    Invalid,
}

impl LocationService {
    /// Applies a REGISTER (RFC 3261 §10.3 steps 6-8; one contact per AOR,
    /// which is what a desk phone registers).
    pub fn register(&mut self, now: Instant, req: &Message<'_>) -> RegisterOutcome {
        let Some(Ok(to)) = req.to() else {
            return RegisterOutcome::Invalid;
        };
        let Some(user) = to.uri.user else {
            return RegisterOutcome::Invalid;
        };
        let Some(contact_val) = req.header_values(HeaderName::Contact).next() else {
            return RegisterOutcome::Queried;
        };
        if contact_val == "*" {
            self.bindings.remove(user);
            return RegisterOutcome::Removed;
        }
        let Ok(contact) = NameAddr::parse(contact_val) else {
            return RegisterOutcome::Invalid;
        };
        let header_expires = req
            .header(HeaderName::Expires)
            .and_then(|e| e.trim().parse::<u32>().ok());
        let expires = contact
            .param_list()
            .get("expires")
            .flatten()
            .and_then(|e| e.parse::<u32>().ok())
            .or(header_expires)
            .unwrap_or(3600)
            .min(7200);
        if expires == 0 {
            self.bindings.remove(user);
            return RegisterOutcome::Removed;
        }
        let Some(address) = super::forward::uri_address(&contact.uri, 5060) else {
            return RegisterOutcome::Invalid;
        };
        self.bindings.insert(
            user.to_string(),
            Binding {
                contact: contact.uri.raw.to_string(),
                address,
                expires_at: now + Duration::from_secs(expires.into()),
            },
        );
        RegisterOutcome::Bound {
            contact: contact.uri.raw.to_string(),
            expires,
        }
    }

    /// The live binding of `user`, if any.
    pub fn lookup(&self, now: Instant, user: &str) -> Option<&Binding> {
        self.bindings.get(user).filter(|b| b.expires_at > now)
    }

    /// How many bindings are live.
    pub fn len(&self, now: Instant) -> usize {
        self.bindings.values().filter(|b| b.expires_at > now).count()
    }

    /// Whether nobody is registered.
    pub fn is_empty(&self, now: Instant) -> bool {
        self.len(now) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(contact: &str, expires: &str) -> Vec<u8> {
        format!(
            "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
             From: <sip:bob@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: r1\r\n\
             CSeq: 1 REGISTER\r\nContact: {contact}\r\nExpires: {expires}\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn bind_lookup_expire_and_remove() {
        let mut loc = LocationService::default();
        let now = Instant::ZERO;
        let raw = reg("<sip:bob@192.0.2.2:5062>", "60");
        let m = Message::parse_datagram(&raw).unwrap();
        assert_eq!(
            loc.register(now, &m),
            RegisterOutcome::Bound { contact: "sip:bob@192.0.2.2:5062".into(), expires: 60 }
        );
        let b = loc.lookup(now, "bob").unwrap();
        assert_eq!(b.address, "192.0.2.2:5062".parse().unwrap());
        assert!(loc.lookup(now + Duration::from_secs(61), "bob").is_none());
        let raw = reg("<sip:bob@192.0.2.2:5062>", "0");
        assert_eq!(loc.register(now, &Message::parse_datagram(&raw).unwrap()), RegisterOutcome::Removed);
        assert!(loc.is_empty(now));
    }
}
