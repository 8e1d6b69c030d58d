//! The location service a registrar fills (RFC 3261 §10.3) and a proxy
//! reads: bindings from an address-of-record user to contact addresses.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use handset_core::message::{Contact, Contacts, Message};
use handset_core::time::{Duration, Instant};

use super::forward::uri_address;

/// One registered contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The Contact URI as registered.
    pub contact: String,
    /// Where requests for it go: the contact's address, or the REGISTER's
    /// source when the contact names a host the simulator cannot resolve.
    pub address: SocketAddr,
    /// When the binding lapses.
    pub expires_at: Instant,
    /// When it was last written, to prefer the freshest contact.
    pub updated_at: Instant,
    /// Call-ID of the REGISTER that wrote it (§10.3 step 7).
    pub call_id: String,
    /// CSeq of the REGISTER that wrote it (§10.3 step 7).
    pub cseq: u32,
}

impl Binding {
    /// Whole seconds left before the binding lapses (rounded up).
    pub fn remaining_secs(&self, now: Instant) -> u64 {
        let left = self.expires_at.as_micros().saturating_sub(now.as_micros());
        left.div_ceil(1_000_000)
    }
}

/// How long bindings may last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpiryPolicy {
    /// Shortest interval granted; shorter (non-zero) requests get 423 with
    /// Min-Expires (§10.3 step 7).
    pub min_expires: u32,
    /// Longest interval granted; longer requests are shortened.
    pub max_expires: u32,
    /// The interval when the REGISTER names none (§10.2.1.1).
    pub default_expires: u32,
}

impl Default for ExpiryPolicy {
    fn default() -> Self {
        ExpiryPolicy {
            min_expires: 60,
            max_expires: 7200,
            default_expires: 3600,
        }
    }
}

/// What a REGISTER did to the location service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterOutcome {
    /// Applied (or a query); answer 200 with the user's current contacts.
    Done,
    /// An interval below the minimum: answer 423 with this Min-Expires.
    IntervalTooBrief(u32),
    /// An older REGISTER of the same Call-ID than the one already applied:
    /// answer 500 (§10.3 step 7).
    OutOfOrder,
    /// Malformed (no AOR user, a bad Contact, `*` with a non-zero expiry):
    /// answer 400.
    Invalid,
}

/// Bindings by address-of-record user (`alice` for `sip:alice@domain`).
#[derive(Clone, Debug, Default)]
pub struct LocationService {
    aors: BTreeMap<String, Vec<Binding>>,
}

impl LocationService {
    /// An empty location service.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies a REGISTER for `user` received from `source` (RFC 3261
    /// §10.3 steps 6-7). Nothing changes unless every contact is
    /// acceptable.
    pub fn register(
        &mut self,
        now: Instant,
        source: SocketAddr,
        user: &str,
        req: &Message<'_>,
        policy: &ExpiryPolicy,
    ) -> RegisterOutcome {
        self.purge(now);
        let (Some(call_id), Some(Ok(cseq))) = (req.call_id(), req.cseq()) else {
            return RegisterOutcome::Invalid;
        };
        let header_expires = match req.expires() {
            Some(Ok(e)) => Some(e),
            Some(Err(_)) => return RegisterOutcome::Invalid,
            None => None,
        };
        let contacts: Vec<Contact<'_>> = match req.contacts() {
            // §10.3 step 6: no Contact is a query.
            None => return RegisterOutcome::Done,
            Some(Err(_)) => return RegisterOutcome::Invalid,
            Some(Ok(Contacts::Wildcard)) => {
                // §10.3 step 6: `*` only with Expires: 0, removing all.
                if header_expires != Some(0) {
                    return RegisterOutcome::Invalid;
                }
                let existing = self.aors.get(user).map(Vec::as_slice).unwrap_or(&[]);
                if existing.iter().any(|b| is_stale(b, call_id, cseq.seq)) {
                    return RegisterOutcome::OutOfOrder;
                }
                self.aors.remove(user);
                return RegisterOutcome::Done;
            }
            Some(Ok(Contacts::List(list))) => match list.collect() {
                Ok(v) => v,
                Err(_) => return RegisterOutcome::Invalid,
            },
        };
        // Check every contact before touching anything.
        let mut updates = Vec::with_capacity(contacts.len());
        for c in &contacts {
            let wanted = c
                .expires
                .or(header_expires)
                .unwrap_or(policy.default_expires);
            if wanted != 0 && wanted < policy.min_expires {
                return RegisterOutcome::IntervalTooBrief(policy.min_expires);
            }
            let uri = c.addr.uri.raw;
            let existing = self
                .aors
                .get(user)
                .and_then(|v| v.iter().find(|b| b.contact == uri));
            if existing.is_some_and(|b| is_stale(b, call_id, cseq.seq)) {
                return RegisterOutcome::OutOfOrder;
            }
            let address = uri_address(&c.addr.uri).unwrap_or(source);
            updates.push((uri, address, wanted.min(policy.max_expires)));
        }
        let bindings = self.aors.entry(user.to_string()).or_default();
        for (uri, address, expires) in updates {
            bindings.retain(|b| b.contact != uri);
            if expires > 0 {
                bindings.push(Binding {
                    contact: uri.to_string(),
                    address,
                    expires_at: now + Duration::from_secs(expires.into()),
                    updated_at: now,
                    call_id: call_id.to_string(),
                    cseq: cseq.seq,
                });
            }
        }
        if bindings.is_empty() {
            self.aors.remove(user);
        }
        RegisterOutcome::Done
    }

    /// The contact to forward a request for `user` to: the live binding
    /// written last (the simulator's proxy does not fork).
    pub fn lookup(&self, now: Instant, user: &str) -> Option<&Binding> {
        self.live(now, user).max_by_key(|b| b.updated_at)
    }

    /// Every live binding of `user`.
    pub fn live<'s>(&'s self, now: Instant, user: &str) -> impl Iterator<Item = &'s Binding> + 's {
        self.aors
            .get(user)
            .into_iter()
            .flatten()
            .filter(move |b| b.expires_at > now)
    }

    /// How many bindings are live, over every user.
    pub fn len(&self, now: Instant) -> usize {
        self.aors
            .values()
            .flatten()
            .filter(|b| b.expires_at > now)
            .count()
    }

    /// Whether nobody is registered.
    pub fn is_empty(&self, now: Instant) -> bool {
        self.len(now) == 0
    }

    /// Forgets bindings that have lapsed.
    pub fn purge(&mut self, now: Instant) {
        for v in self.aors.values_mut() {
            v.retain(|b| b.expires_at > now);
        }
        self.aors.retain(|_, v| !v.is_empty());
    }
}

/// §10.3 step 7: a REGISTER with the binding's Call-ID and a CSeq not
/// above the one applied is older than the binding.
fn is_stale(b: &Binding, call_id: &str, cseq: u32) -> bool {
    b.call_id == call_id && cseq <= b.cseq
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(contact: &str, expires: &str, cseq: u32) -> Vec<u8> {
        format!(
            "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
             From: <sip:bob@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: r1\r\n\
             CSeq: {cseq} REGISTER\r\nContact: {contact}\r\nExpires: {expires}\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    fn apply(loc: &mut LocationService, now: Instant, raw: &[u8]) -> RegisterOutcome {
        let m = Message::parse_datagram(raw).unwrap();
        let src = "192.0.2.2:5062".parse().unwrap();
        loc.register(now, src, "bob", &m, &ExpiryPolicy::default())
    }

    #[test]
    fn bind_lookup_expire_and_remove() {
        let mut loc = LocationService::new();
        let now = Instant::ZERO;
        let raw = reg("<sip:bob@192.0.2.2:5062>", "60", 1);
        assert_eq!(apply(&mut loc, now, &raw), RegisterOutcome::Done);
        let b = loc.lookup(now, "bob").unwrap();
        assert_eq!(b.address, "192.0.2.2:5062".parse().unwrap());
        assert_eq!(b.contact, "sip:bob@192.0.2.2:5062");
        assert_eq!(b.remaining_secs(now + Duration::from_millis(500)), 60);
        assert!(loc.lookup(now + Duration::from_secs(61), "bob").is_none());
        let raw = reg("<sip:bob@192.0.2.2:5062>", "0", 2);
        assert_eq!(apply(&mut loc, now, &raw), RegisterOutcome::Done);
        assert!(loc.is_empty(now));
    }

    #[test]
    fn policy_order_and_wildcard() {
        let mut loc = LocationService::new();
        let now = Instant::ZERO;
        assert_eq!(
            apply(&mut loc, now, &reg("<sip:bob@192.0.2.2>", "30", 1)),
            RegisterOutcome::IntervalTooBrief(60)
        );
        assert!(loc.is_empty(now));
        assert_eq!(
            apply(
                &mut loc,
                now,
                &reg("<sip:bob@192.0.2.2>;expires=99999", "30", 2)
            ),
            RegisterOutcome::Done
        );
        assert_eq!(loc.lookup(now, "bob").unwrap().remaining_secs(now), 7200);
        // The same Call-ID with an older CSeq is refused.
        assert_eq!(
            apply(&mut loc, now, &reg("<sip:bob@192.0.2.2>", "0", 2)),
            RegisterOutcome::OutOfOrder
        );
        // A second contact; the newer one is where requests go.
        let later = now + Duration::from_secs(1);
        apply(&mut loc, later, &reg("<sip:bob@192.0.2.3>", "120", 3));
        assert_eq!(loc.len(later), 2);
        assert_eq!(
            loc.lookup(later, "bob").unwrap().contact,
            "sip:bob@192.0.2.3"
        );
        assert_eq!(
            apply(&mut loc, later, &reg("*", "5", 4)),
            RegisterOutcome::Invalid
        );
        assert_eq!(
            apply(&mut loc, later, &reg("*", "0", 4)),
            RegisterOutcome::Done
        );
        assert!(loc.is_empty(later));
    }
}
