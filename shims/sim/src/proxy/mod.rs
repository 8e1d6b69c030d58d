//! A transaction-stateful SIP proxy and registrar for one domain, built on
//! the core's message codec and transaction layer (RFC 3261 §10, §16,
//! RFC 6026).
//!
//! [`Proxy`] is a [`SimNode`]: add it to a [`Simulation`](crate::Simulation)
//! and point phones at its address.
//!
//! - REGISTER for its domain goes to the registrar: bindings in a
//!   [`LocationService`], 423 below the minimum interval, and, when
//!   credentials are configured, a digest challenge (401) with nonces drawn
//!   from the node's seed, stale nonces and replays refused.
//! - Every other request is routed (§16.4, §16.5): Max-Forwards 0 gets 483,
//!   a Route naming the proxy is removed, a further Route or an IP
//!   Request-URI is followed, a user of the domain is looked up: forwarded
//!   to the registered contact, 480 for a known user not registered, 404
//!   otherwise. Dialog-forming requests are record-routed.
//! - Each forwarded request has a server transaction upstream and a client
//!   transaction downstream, linked in a relay: INVITE gets 100 Trying at
//!   once, responses travel back without the proxy's Via, the transactions
//!   retransmit over lossy links and absorb retransmissions, a CANCEL is
//!   answered and passed on once the branch has had a provisional, and a
//!   downstream timeout becomes 408 upstream. ACK for a 2xx and stray 2xx
//!   retransmissions are forwarded statelessly.
//!
//! ```
//! use handset_core::time::Instant;
//! use handset_sim::proxy::{Proxy, ProxyConfig};
//! use handset_sim::{FaultProfile, Simulation};
//!
//! let mut sim = Simulation::new(1, FaultProfile::ideal());
//! let config = ProxyConfig::new("example.com").with_users(&["alice", "bob"]);
//! let proxy = sim.add_node("Proxy", |s| Proxy::<64>::new(s, config));
//! sim.run_until(Instant::from_millis(10));
//! assert_eq!(sim.node::<Proxy<64>>(proxy).transactions_in_use(), 0);
//! ```

mod digest;
mod forward;
mod registrar;
mod relay;
mod routing;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;

use handset_core::auth::DigestAlgorithm;
use handset_core::message::{Message, Method};
use handset_core::rng::Rng;
use handset_core::time::{Duration, Instant};
use handset_core::transaction::{
    InviteServerTransaction, NonInviteServerTransaction, Reliability, ServerEvent, TableFull,
    TimerConfig, TimerEvent, Transaction, TransactionError, TransactionId, TransactionTable,
};
use handset_core::ua::{random_token, response_destination, write_simple_response, Text};

use crate::node::{NodeSetup, SimNode, Transmit};

pub use digest::{AuthCheck, Authenticator};
pub use forward::{
    forward_request, forward_response, in_domain, names_proxy, stamp_via, top_via_is, uri_address,
    via_destination, ForwardParams, DEFAULT_MAX_FORWARDS, DEFAULT_PORT,
};
pub use registrar::{Binding, ExpiryPolicy, LocationService, RegisterOutcome};
pub use routing::{route, RoutingContext, Target};

use relay::{Hop, Link, Relay, RelayId};

/// Transaction slots a [`Proxy`] has unless told otherwise.
pub const DEFAULT_TRANSACTIONS: usize = 256;

/// The largest message the proxy writes. Far above what UDP should carry
/// (RFC 3261 §18.1.1 moves requests over 1,300 bytes to TCP); a request
/// that grows beyond it is refused with 513.
const MAX_DATAGRAM: usize = 16_384;

/// How the proxy behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyConfig {
    /// The domain the proxy and registrar are responsible for.
    pub domain: String,
    /// Users of the domain that exist even when not registered: a request
    /// for one gets 480 rather than 404.
    pub users: BTreeSet<String>,
    /// Passwords by user; when not empty, REGISTER needs digest
    /// authentication.
    pub credentials: BTreeMap<String, String>,
    /// The digest algorithm of the challenges.
    pub algorithm: DigestAlgorithm,
    /// How long a nonce is good for before it is stale.
    pub nonce_lifetime: Duration,
    /// Registration intervals.
    pub expiry: ExpiryPolicy,
    /// T1, T2, T4 for the proxy's transactions.
    pub timers: TimerConfig,
    /// Timer C (RFC 3261 §16.6 step 11): how long an INVITE branch may
    /// stay in the provisional state before the proxy cancels it.
    pub timer_c: Duration,
}

impl ProxyConfig {
    /// A proxy for `domain` with no known users, no authentication and the
    /// RFC default timers.
    pub fn new(domain: &str) -> Self {
        ProxyConfig {
            domain: domain.to_string(),
            users: BTreeSet::new(),
            credentials: BTreeMap::new(),
            algorithm: DigestAlgorithm::Md5,
            nonce_lifetime: Duration::from_secs(300),
            expiry: ExpiryPolicy::default(),
            timers: TimerConfig::default(),
            // RFC 3261 §16.6 step 11: greater than 3 minutes.
            timer_c: Duration::from_secs(181),
        }
    }

    /// Adds users that exist in the domain.
    pub fn with_users(mut self, users: &[&str]) -> Self {
        self.users.extend(users.iter().map(|u| u.to_string()));
        self
    }

    /// Requires digest authentication for REGISTER with these
    /// `(user, password)` pairs; the users become known users.
    pub fn with_credentials(mut self, credentials: &[(&str, &str)]) -> Self {
        for (u, p) in credentials {
            self.users.insert(u.to_string());
            self.credentials.insert(u.to_string(), p.to_string());
        }
        self
    }

    /// Sets the shortest registration interval granted.
    pub fn with_min_expires(mut self, secs: u32) -> Self {
        self.expiry.min_expires = secs;
        self
    }

    /// Sets the transaction timer base values.
    pub fn with_timers(mut self, timers: TimerConfig) -> Self {
        self.timers = timers;
        self
    }

    /// Sets Timer C.
    pub fn with_timer_c(mut self, timer_c: Duration) -> Self {
        self.timer_c = timer_c;
        self
    }

    /// Sets the nonce lifetime.
    pub fn with_nonce_lifetime(mut self, lifetime: Duration) -> Self {
        self.nonce_lifetime = lifetime;
        self
    }
}

/// Counters of what the proxy did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Requests forwarded through a client transaction.
    pub requests_forwarded: u64,
    /// ACKs (and other requests) forwarded without a transaction.
    pub stateless_requests: u64,
    /// Responses passed upstream (retransmitted 2xx included).
    pub responses_forwarded: u64,
    /// Responses the proxy or registrar wrote itself (100 Trying included).
    pub local_responses: u64,
    /// Retransmissions received and absorbed or answered by a transaction.
    pub retransmissions_absorbed: u64,
    /// Messages the transactions sent again on a timer.
    pub retransmissions_sent: u64,
    /// Datagrams that did not parse, or that nobody could take.
    pub dropped: u64,
    /// Requests refused because the transaction table was full.
    pub table_full: u64,
}

/// A stateful proxy and registrar; `N` bounds its live transactions.
pub struct Proxy<const N: usize = DEFAULT_TRANSACTIONS> {
    addr: SocketAddr,
    config: ProxyConfig,
    rng: Rng,
    table: Box<TransactionTable<N>>,
    /// What each live transaction is for.
    links: BTreeMap<TransactionId, Link>,
    relays: BTreeMap<RelayId, Relay>,
    next_relay: RelayId,
    location: LocationService,
    /// Users that exist: configured, or registered once.
    known_users: BTreeSet<String>,
    auth: Option<Authenticator>,
    out: VecDeque<Transmit>,
    stats: ProxyStats,
}

impl<const N: usize> std::fmt::Debug for Proxy<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("addr", &self.addr)
            .field("domain", &self.config.domain)
            .field("transactions", &self.table.len())
            .field("relays", &self.relays.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl<const N: usize> Proxy<N> {
    /// A proxy at the node's address with the node's seed.
    pub fn new(setup: NodeSetup, config: ProxyConfig) -> Self {
        let mut rng = Rng::new(setup.seed);
        let auth = (!config.credentials.is_empty()).then(|| {
            Authenticator::new(
                &config.domain,
                config.credentials.clone(),
                config.algorithm,
                rng.next_u64(),
                config.nonce_lifetime,
            )
        });
        Proxy {
            addr: setup.addr,
            known_users: config.users.clone(),
            config,
            rng,
            table: Box::new(TransactionTable::new()),
            links: BTreeMap::new(),
            relays: BTreeMap::new(),
            next_relay: RelayId(0),
            location: LocationService::new(),
            auth,
            out: VecDeque::new(),
            stats: ProxyStats::default(),
        }
    }

    /// The proxy's address.
    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration.
    pub fn config(&self) -> &ProxyConfig {
        &self.config
    }

    /// Live transactions, server and client.
    pub fn transactions_in_use(&self) -> usize {
        self.table.len()
    }

    /// Message buffers its transactions hold.
    pub fn buffers_in_use(&self) -> usize {
        self.table.pool().in_use()
    }

    /// One line per live transaction (kind, state, method, branch), to
    /// tell which slot a flow left behind.
    pub fn transaction_summaries(&self) -> Vec<String> {
        self.table
            .iter()
            .map(|(_, t)| {
                let state = match t {
                    Transaction::InviteClient(t) => format!("INVITE client {:?}", t.state()),
                    Transaction::NonInviteClient(t) => format!("client {:?}", t.state()),
                    Transaction::InviteServer(t) => format!("INVITE server {:?}", t.state()),
                    Transaction::NonInviteServer(t) => format!("server {:?}", t.state()),
                };
                let key = t.key();
                format!(
                    "{state} {} {} next {:?}",
                    key.method(),
                    key.branch(),
                    t.poll_timeout()
                )
            })
            .collect()
    }

    /// Forwarded requests whose transactions are not all over yet.
    pub fn relays_in_use(&self) -> usize {
        self.relays.len()
    }

    /// Live registrations at `now`, over every user.
    pub fn bindings(&self, now: Instant) -> usize {
        self.location.len(now)
    }

    /// The contact requests for `user` go to at `now`.
    pub fn binding(&self, now: Instant, user: &str) -> Option<&Binding> {
        self.location.lookup(now, user)
    }

    /// The location service.
    pub fn location(&self) -> &LocationService {
        &self.location
    }

    /// What the proxy has done so far.
    pub fn stats(&self) -> ProxyStats {
        self.stats
    }

    fn send(&mut self, to: SocketAddr, data: Vec<u8>) {
        self.out.push_back(Transmit {
            from: self.addr,
            to,
            data,
        });
    }

    fn new_tag(&mut self) -> Text<16> {
        random_token(&mut self.rng, 10)
    }

    /// A server transaction for a request the proxy answers or forwards.
    fn new_server(
        &mut self,
        now: Instant,
        source: SocketAddr,
        req: &Message<'_>,
        raw: &[u8],
        relay: Option<RelayId>,
    ) -> Result<TransactionId, u16> {
        let (t, u) = (Reliability::Unreliable, self.config.timers);
        let inserted = if req.method() == Some(Method::Invite) {
            InviteServerTransaction::new(raw, source, t, u, now).map(|tx| self.table.insert(tx))
        } else {
            NonInviteServerTransaction::new(raw, source, t, u, now).map(|tx| self.table.insert(tx))
        };
        match inserted {
            Ok(Ok(id)) => {
                let reply_to = response_destination(req, source);
                self.links.insert(id, Link::Server { reply_to, relay });
                Ok(id)
            }
            Ok(Err(TableFull)) => {
                self.stats.table_full += 1;
                Err(503)
            }
            Err(TransactionError::MessageTooLarge) => Err(513),
            Err(_) => Err(400),
        }
    }

    /// Sends `response` through server transaction `id`. A response the
    /// transaction cannot take (too large, or a 2xx after another final)
    /// still goes out, without it; a final that could not be stored ends
    /// the transaction so that its slot is not kept forever.
    fn respond_through(&mut self, now: Instant, id: TransactionId, response: Vec<u8>) {
        let reply_to = match self.links.get(&id) {
            Some(Link::Server { reply_to, .. }) => *reply_to,
            _ => {
                self.send_stateless_response(response);
                return;
            }
        };
        if self.table.get(id).is_none() {
            self.send_stateless_response(response);
            return;
        }
        match self.table.send_response(id, now, &response) {
            Ok(()) => self.send(reply_to, response),
            Err(_) => {
                // Too large to store, or refused by the transaction (a 2xx
                // after another final, a Via it cannot match): the response
                // still goes out. A transaction left without a final and
                // without timers would hold its slot forever: end it.
                let is_final = Message::parse_datagram(&response)
                    .ok()
                    .and_then(|m| m.status())
                    .is_some_and(|c| c >= 200);
                let stuck = self
                    .table
                    .get(id)
                    .is_some_and(|t| t.poll_timeout().is_none());
                if is_final && stuck {
                    self.abandon(id);
                }
                self.send(reply_to, response);
            }
        }
    }

    /// Frees transaction `id` at once.
    fn abandon(&mut self, id: TransactionId) {
        self.table.remove(id);
        self.links.remove(&id);
    }

    /// Sends a response by its topmost Via (§18.2.2).
    fn send_stateless_response(&mut self, response: Vec<u8>) {
        let dest = Message::parse_datagram(&response)
            .ok()
            .and_then(|m| via_destination(&m));
        match dest {
            Some(d) => self.send(d, response),
            None => self.stats.dropped += 1,
        }
    }

    /// Answers `req` with `code` (and `extra` headers) from the proxy
    /// itself, through a server transaction when one can be had.
    fn answer(
        &mut self,
        now: Instant,
        source: SocketAddr,
        req: &Message<'_>,
        raw: &[u8],
        code: u16,
        extra: &[(&str, &str)],
    ) {
        match self.new_server(now, source, req, raw, None) {
            Ok(id) => match self.local_response(req, code, extra) {
                Some(response) => self.respond_through(now, id, response),
                // Nothing to answer with: a transaction with no response
                // would never end.
                None => self.abandon(id),
            },
            Err(refusal) => self.answer_stateless(source, req, refusal),
        }
    }

    /// Answers `req` without a transaction: the refusal when none could be
    /// had (503 with Retry-After for a full table, RFC 3261 §21.5.4).
    fn answer_stateless(&mut self, source: SocketAddr, req: &Message<'_>, code: u16) {
        let extra: &[(&str, &str)] = if code == 503 {
            &[("Retry-After", "5")]
        } else {
            &[]
        };
        if let Some(response) = self.local_response(req, code, extra) {
            self.send(response_destination(req, source), response);
        }
    }

    /// A response the proxy writes itself, with a fresh To tag for finals.
    fn local_response(
        &mut self,
        req: &Message<'_>,
        code: u16,
        extra: &[(&str, &str)],
    ) -> Option<Vec<u8>> {
        let tag = (code >= 200).then(|| self.new_tag());
        let mut buf = vec![0u8; MAX_DATAGRAM];
        match write_simple_response(&mut buf, req, code, tag.as_deref(), extra) {
            Some(n) => {
                buf.truncate(n);
                self.stats.local_responses += 1;
                Some(buf)
            }
            None => {
                self.stats.dropped += 1;
                None
            }
        }
    }

    fn on_request(&mut self, now: Instant, source: SocketAddr, req: &Message<'_>, raw: &[u8]) {
        let Some(method) = req.method() else {
            return;
        };
        // §16.3 / §17.2.3: a retransmission, or the ACK of a non-2xx final,
        // belongs to its server transaction.
        if let Some((id, event)) = self.table.on_request(now, req) {
            match event {
                ServerEvent::Resend => {
                    self.stats.retransmissions_absorbed += 1;
                    self.resend(id);
                    return;
                }
                ServerEvent::Absorb => {
                    if method != Method::Ack {
                        self.stats.retransmissions_absorbed += 1;
                    }
                    return;
                }
                // RFC 6026 §8.7: an ACK in Accepted is the TU's, and a
                // proxy passes it on.
                ServerEvent::Deliver => {}
            }
        }
        // RFC 3261 §16.3 request validation; nothing is ever answered to
        // an ACK (§17.2.1), so a broken one is dropped.
        let well_formed = is_well_formed(req);
        if method == Method::Ack {
            if well_formed && req.is_sip_2_0() {
                self.forward_stateless(now, source, req);
            } else {
                self.stats.dropped += 1;
            }
            return;
        }
        if !req.is_sip_2_0() {
            self.answer(now, source, req, raw, 505, &[]);
            return;
        }
        if !well_formed {
            if matches!(req.top_via(), Some(Ok(_))) {
                self.answer(now, source, req, raw, 400, &[]);
            } else {
                self.stats.dropped += 1;
            }
            return;
        }
        match req.max_forwards() {
            Some(Err(_)) => return self.answer(now, source, req, raw, 400, &[]),
            // §16.3 step 3: no hops left.
            Some(Ok(0)) => return self.answer(now, source, req, raw, 483, &[]),
            _ => {}
        }
        if method == Method::Cancel {
            self.on_cancel(now, source, req, raw);
            return;
        }
        // §16.3 step 5: the proxy supports no extension a client can require.
        if let Some(tags) = req.header(handset_core::message::HeaderName::ProxyRequire) {
            let tags = tags.to_string();
            self.answer(now, source, req, raw, 420, &[("Unsupported", &tags)]);
            return;
        }
        let for_us = req
            .request_uri()
            .and_then(Result::ok)
            .is_some_and(|u| in_domain(&u, self.addr, &self.config.domain));
        if method == Method::Register && for_us {
            self.on_register(now, source, req, raw);
            return;
        }
        let target = route(
            req,
            &RoutingContext {
                proxy: self.addr,
                domain: &self.config.domain,
                location: &self.location,
                known_users: &self.known_users,
                now,
            },
        );
        match target {
            Target::Reject(code) => self.answer(now, source, req, raw, code, &[]),
            Target::Local => self.answer(
                now,
                source,
                req,
                raw,
                200,
                &[("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER")],
            ),
            Target::Forward {
                next_hop,
                request_uri,
                strip_top_route,
                record_route,
            } => {
                let hop = Hop {
                    next_hop,
                    request_uri: request_uri.as_deref(),
                    strip_top_route,
                    record_route,
                };
                self.forward(now, source, req, raw, hop);
            }
        }
    }

    /// The registrar (RFC 3261 §10.3).
    fn on_register(&mut self, now: Instant, source: SocketAddr, req: &Message<'_>, raw: &[u8]) {
        let user = req
            .to()
            .and_then(Result::ok)
            .and_then(|to| to.uri.user)
            .map(str::to_string);
        let Some(user) = user else {
            return self.answer(now, source, req, raw, 400, &[]);
        };
        // §10.3 step 3: authenticate.
        if let Some(auth) = &mut self.auth {
            match auth.check(now, req) {
                AuthCheck::Authorized(who) if who == user => {}
                // §10.3 step 4: authorized, but not for this address of record.
                AuthCheck::Authorized(_) => return self.answer(now, source, req, raw, 403, &[]),
                AuthCheck::Challenge { stale } => {
                    let challenge = auth.challenge(now, stale);
                    return self.answer(
                        now,
                        source,
                        req,
                        raw,
                        401,
                        &[("WWW-Authenticate", &challenge)],
                    );
                }
                AuthCheck::BadRequest => return self.answer(now, source, req, raw, 400, &[]),
            }
        }
        let outcome = self
            .location
            .register(now, source, &user, req, &self.config.expiry);
        match outcome {
            RegisterOutcome::Done => {
                self.known_users.insert(user.clone());
                // §10.3 step 8: every current binding, with its interval.
                let contacts: Vec<String> = self
                    .location
                    .live(now, &user)
                    .map(|b| format!("<{}>;expires={}", b.contact, b.remaining_secs(now)))
                    .collect();
                let extra: Vec<(&str, &str)> =
                    contacts.iter().map(|c| ("Contact", c.as_str())).collect();
                self.answer(now, source, req, raw, 200, &extra);
            }
            RegisterOutcome::IntervalTooBrief(min) => {
                let min = min.to_string();
                self.answer(now, source, req, raw, 423, &[("Min-Expires", &min)]);
            }
            RegisterOutcome::OutOfOrder => self.answer(now, source, req, raw, 500, &[]),
            RegisterOutcome::Invalid => self.answer(now, source, req, raw, 400, &[]),
        }
    }

    /// Sends transaction `id`'s message again: a server's last response
    /// upstream, a client's request (or ACK) downstream.
    fn resend(&mut self, id: TransactionId) {
        let Some(tx) = self.table.get(id) else {
            return;
        };
        let data = tx.message(self.table.pool()).to_vec();
        if data.is_empty() {
            return;
        }
        let to = match self.links.get(&id) {
            Some(Link::Server { reply_to, .. }) => *reply_to,
            _ => tx.peer(),
        };
        self.send(to, data);
    }

    fn on_timers(&mut self, now: Instant) {
        while let Some((id, event)) = self.table.handle_timer(now) {
            match event {
                TimerEvent::Retransmit => {
                    self.stats.retransmissions_sent += 1;
                    self.resend(id);
                }
                TimerEvent::Timeout => {
                    let link = self.links.remove(&id);
                    if let Some(Link::Client { relay }) = link {
                        // §16.7 step 10 / §8.1.3.1: no answer is a 408.
                        self.branch_failed(now, relay);
                    }
                }
                TimerEvent::Terminated => {
                    self.links.remove(&id);
                }
            }
        }
        self.on_relay_timers(now);
    }

    /// Forgets relays whose transactions are all over.
    fn collect_relays(&mut self) {
        let table = &self.table;
        self.relays.retain(|_, r| {
            table.get(r.server).is_some() || r.client.is_some_and(|c| table.get(c).is_some())
        });
        let links = &mut self.links;
        links.retain(|id, _| table.get(*id).is_some());
    }
}

/// Whether the headers every transaction and dialog relies on are present
/// and parse (RFC 3261 §8.1.1): Via, CSeq, Call-ID, From, To.
fn is_well_formed(msg: &Message<'_>) -> bool {
    matches!(
        (
            msg.top_via(),
            msg.cseq(),
            msg.call_id(),
            msg.from(),
            msg.to()
        ),
        (Some(Ok(_)), Some(Ok(_)), Some(_), Some(Ok(_)), Some(Ok(_)))
    )
}

impl<const N: usize> SimNode for Proxy<N> {
    fn handle_datagram(&mut self, now: Instant, from: SocketAddr, _to: SocketAddr, data: &[u8]) {
        // Timers due now run first, as a socket loop would run them.
        self.on_timers(now);
        match Message::parse_datagram(data) {
            Ok(msg) if msg.is_request() => self.on_request(now, from, &msg, data),
            Ok(msg) if is_well_formed(&msg) => self.on_response(now, &msg),
            Ok(_) => self.stats.dropped += 1,
            Err(_) => self.stats.dropped += 1,
        }
        self.collect_relays();
    }

    fn handle_tick(&mut self, now: Instant) {
        self.on_timers(now);
        self.collect_relays();
    }

    fn poll_transmit(&mut self, _now: Instant) -> Option<Transmit> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let relays = self.relays.values().filter_map(Relay::next_timer).min();
        match (self.table.poll_timeout(), relays) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
