//! Stateful forwarding (RFC 3261 §16.6-§16.10, RFC 6026 §7): a relay links
//! the server transaction of a request received with the client
//! transaction of its forwarded copy, carries responses back, cancels and
//! times out branches.

use std::net::SocketAddr;

use handset_core::message::{Message, Method};
use handset_core::time::Instant;
use handset_core::transaction::{
    new_branch, ClientEvent, Reliability, Transaction, TransactionError, TransactionId,
};

use super::forward::{forward_request, forward_response, top_via_is};
use super::routing::{route, RoutingContext, Target};
use super::{ForwardParams, Proxy, MAX_DATAGRAM};

/// Names a relay for as long as it lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct RelayId(pub(super) u64);

/// What a live transaction is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Link {
    /// The server transaction of a received request; its responses go to
    /// `reply_to`. `relay` is set when the request was forwarded.
    Server {
        reply_to: SocketAddr,
        relay: Option<RelayId>,
    },
    /// The client transaction of a forwarded request.
    Client { relay: RelayId },
    /// A CANCEL the proxy sent downstream: hop by hop, its response stops
    /// here (§16.10).
    Cancel,
}

/// Where a request is forwarded and what changes on the way (§16.6).
#[derive(Clone, Copy, Debug)]
pub(super) struct Hop<'a> {
    /// The next hop.
    pub(super) next_hop: SocketAddr,
    /// The new Request-URI, if it changes.
    pub(super) request_uri: Option<&'a str>,
    /// Whether the topmost Route named the proxy.
    pub(super) strip_top_route: bool,
    /// Whether to record-route.
    pub(super) record_route: bool,
}

/// One forwarded request.
#[derive(Clone, Debug)]
pub(super) struct Relay {
    /// The upstream server transaction.
    pub(super) server: TransactionId,
    /// The downstream client transaction, once created.
    pub(super) client: Option<TransactionId>,
    /// The request as received, to answer it later (408, 487).
    request: Vec<u8>,
    /// A provisional response came back: a CANCEL may now go (§9.1).
    provisional: bool,
    /// Upstream cancelled the request (§16.10).
    cancel_requested: bool,
    /// The proxy sent a CANCEL downstream.
    cancel_sent: bool,
    /// A final response went upstream.
    final_sent: bool,
    /// Timer C (§16.6 step 11), INVITE only.
    timer_c: Option<Instant>,
    /// After a CANCEL: when to stop waiting for the final response
    /// (§16.8, 64·T1 as §9.1 has a UAC wait).
    give_up: Option<Instant>,
}

impl Relay {
    /// The relay's own next deadline.
    pub(super) fn next_timer(&self) -> Option<Instant> {
        match (self.timer_c, self.give_up) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// A branch for a request forwarded without a transaction: the same for
/// every retransmission of it (§16.11), different from the received one.
fn stateless_branch(req: &Message<'_>) -> String {
    let top = req
        .top_via()
        .and_then(Result::ok)
        .map(|v| v.raw)
        .unwrap_or("");
    // FNV-1a over the received top Via and Request-URI.
    let uri = req.request_line().map(|l| l.uri).unwrap_or("");
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in top.bytes().chain(b"|".iter().copied()).chain(uri.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("z9hG4bKsl{h:016x}")
}

impl<const N: usize> Proxy<N> {
    /// Forwards `req` statefully to `next_hop` (§16.6).
    pub(super) fn forward(
        &mut self,
        now: Instant,
        source: SocketAddr,
        req: &Message<'_>,
        raw: &[u8],
        hop: Hop<'_>,
    ) {
        let rid = self.next_relay;
        self.next_relay = RelayId(rid.0 + 1);
        let server = match self.new_server(now, source, req, raw, Some(rid)) {
            Ok(id) => id,
            Err(code) => return self.answer_stateless(source, req, code),
        };
        let invite = req.method() == Some(Method::Invite);
        if invite {
            // §16.2: a stateful proxy answers an INVITE with 100 Trying at
            // once, which stops the upstream retransmissions.
            if let Some(trying) = self.local_response(req, 100, &[]) {
                self.respond_through(now, server, trying);
            }
        }
        self.relays.insert(
            rid,
            Relay {
                server,
                client: None,
                request: raw.to_vec(),
                provisional: false,
                cancel_requested: false,
                cancel_sent: false,
                final_sent: false,
                timer_c: invite.then(|| now + self.config.timer_c),
                give_up: None,
            },
        );
        let branch = new_branch(&mut self.rng);
        let params = ForwardParams {
            proxy: self.addr,
            source,
            branch: &branch,
            request_uri: hop.request_uri,
            record_route: hop.record_route,
            strip_top_route: hop.strip_top_route,
        };
        let next_hop = hop.next_hop;
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let Some(n) = forward_request(req, &params, &mut buf) else {
            return self.fail_relay(now, rid, 513);
        };
        buf.truncate(n);
        let (rel, timers) = (Reliability::Unreliable, self.config.timers);
        let client = match self.table.start_client(&buf, next_hop, rel, timers, now) {
            Ok(id) => id,
            Err(TransactionError::TableFull | TransactionError::PoolEmpty) => {
                self.stats.table_full += 1;
                return self.fail_relay(now, rid, 503);
            }
            // RFC 3261 §18.1.1 would move it to TCP; the simulator has none.
            Err(TransactionError::MessageTooLarge) => return self.fail_relay(now, rid, 513),
            Err(_) => return self.fail_relay(now, rid, 500),
        };
        self.links
            .insert(client, super::Link::Client { relay: rid });
        if let Some(r) = self.relays.get_mut(&rid) {
            r.client = Some(client);
        }
        self.stats.requests_forwarded += 1;
        self.send(next_hop, buf);
    }

    /// Answers the request of relay `rid` with `code` from the proxy, if no
    /// final went upstream yet.
    fn fail_relay(&mut self, now: Instant, rid: RelayId, code: u16) {
        let Some(r) = self.relays.get_mut(&rid) else {
            return;
        };
        if r.final_sent {
            return;
        }
        r.final_sent = true;
        r.timer_c = None;
        r.give_up = None;
        let (server, request) = (r.server, r.request.clone());
        let extra: &[(&str, &str)] = if code == 503 {
            &[("Retry-After", "5")]
        } else {
            &[]
        };
        let response = Message::parse_datagram(&request)
            .ok()
            .and_then(|req| self.local_response(&req, code, extra));
        match response {
            Some(response) => self.respond_through(now, server, response),
            None => self.abandon(server),
        }
    }

    /// The downstream branch of `rid` timed out or was given up: 408, or
    /// 487 when upstream had cancelled it.
    pub(super) fn branch_failed(&mut self, now: Instant, rid: RelayId) {
        let cancelled = self.relays.get(&rid).is_some_and(|r| r.cancel_requested);
        self.fail_relay(now, rid, if cancelled { 487 } else { 408 });
    }

    /// A response from downstream (§16.7).
    pub(super) fn on_response(&mut self, now: Instant, resp: &Message<'_>) {
        let Some((id, event)) = self.table.on_response(now, resp) else {
            // §16.7 step 2 / §16.11: no transaction (a 2xx retransmission
            // after Timer M, say) — pass it on statelessly if it came back
            // through us.
            if top_via_is(resp, self.addr) {
                self.pass_upstream_stateless(resp);
            } else {
                self.stats.dropped += 1;
            }
            return;
        };
        let relay = match self.links.get(&id) {
            Some(super::Link::Client { relay }) => *relay,
            // The response to our own CANCEL goes no further.
            _ => return,
        };
        match event {
            ClientEvent::Absorb => {
                self.stats.retransmissions_absorbed += 1;
            }
            ClientEvent::Ack => {
                // §17.1.1.2: a retransmitted non-2xx final is ACKed again.
                self.stats.retransmissions_absorbed += 1;
                self.resend(id);
            }
            ClientEvent::DeliverAndAck => {
                self.resend(id);
                self.relay_response(now, relay, resp);
            }
            ClientEvent::Deliver => self.relay_response(now, relay, resp),
        }
    }

    /// Passes a response of relay `rid` upstream (§16.7 steps 3-9).
    fn relay_response(&mut self, now: Instant, rid: RelayId, resp: &Message<'_>) {
        let Some(code) = resp.status() else {
            return;
        };
        let timer_c = self.config.timer_c;
        let Some(r) = self.relays.get_mut(&rid) else {
            return;
        };
        let server = r.server;
        if code < 200 {
            r.provisional = true;
            // §16.7 step 2: a provisional restarts Timer C.
            if r.timer_c.is_some() {
                r.timer_c = Some(now + timer_c);
            }
            if r.cancel_requested && !r.cancel_sent && !r.final_sent {
                self.send_cancel(now, rid);
            }
            // §16.7 step 5: a 100 stops here; the proxy sent its own.
            if code == 100 {
                return;
            }
        } else {
            if code >= 300 && r.final_sent {
                return;
            }
            r.final_sent = true;
            r.timer_c = None;
            r.give_up = None;
        }
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let Some(n) = forward_response(resp, &mut buf) else {
            self.stats.dropped += 1;
            return;
        };
        buf.truncate(n);
        self.stats.responses_forwarded += 1;
        if self.table.get(server).is_some() {
            self.respond_through(now, server, buf);
        } else {
            // RFC 6026 §7.2: a 2xx after the server transaction is gone
            // still goes upstream.
            self.send_stateless_response(buf);
        }
    }

    /// A response for no transaction of ours, top Via ours: strip it and
    /// send the rest by the next Via.
    fn pass_upstream_stateless(&mut self, resp: &Message<'_>) {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let Some(n) = forward_response(resp, &mut buf) else {
            self.stats.dropped += 1;
            return;
        };
        buf.truncate(n);
        self.stats.responses_forwarded += 1;
        self.send_stateless_response(buf);
    }

    /// Sends a CANCEL for relay `rid`'s INVITE branch in a client
    /// transaction of its own (§16.10, §9.1).
    fn send_cancel(&mut self, now: Instant, rid: RelayId) {
        let give_up = now + self.config.timers.t1_x64();
        let Some(r) = self.relays.get_mut(&rid) else {
            return;
        };
        r.cancel_sent = true;
        r.timer_c = None;
        r.give_up = Some(give_up);
        let Some(client) = r.client else {
            return;
        };
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let (n, peer) = match self.table.get(client) {
            Some(tx @ Transaction::InviteClient(_)) => {
                match self.table.write_cancel(client, &mut buf) {
                    Ok(n) => (n, tx.peer()),
                    Err(_) => return,
                }
            }
            _ => return,
        };
        buf.truncate(n);
        let cancel =
            self.table
                .start_client(&buf, peer, Reliability::Unreliable, self.config.timers, now);
        match cancel {
            Ok(id) => {
                self.links.insert(id, super::Link::Cancel);
            }
            Err(TransactionError::TableFull | TransactionError::PoolEmpty) => {
                self.stats.table_full += 1
            }
            Err(_) => {}
        }
        // Sent even without a transaction to retransmit it.
        self.send(peer, buf);
    }

    /// A CANCEL from upstream (§16.10).
    pub(super) fn on_cancel(
        &mut self,
        now: Instant,
        source: SocketAddr,
        req: &Message<'_>,
        raw: &[u8],
    ) {
        let invite = self.table.find_cancelled_invite(req);
        let rid = invite.and_then(|sid| match self.links.get(&sid) {
            Some(super::Link::Server { relay, .. }) => *relay,
            _ => None,
        });
        if invite.is_none() {
            // Nothing to cancel here (§9.2 as a UAS would answer).
            return self.answer(now, source, req, raw, 481, &[]);
        }
        // §16.10: the CANCEL itself is answered at once.
        self.answer(now, source, req, raw, 200, &[]);
        let Some(rid) = rid else {
            return;
        };
        let Some(r) = self.relays.get_mut(&rid) else {
            return;
        };
        r.cancel_requested = true;
        if r.provisional && !r.cancel_sent && !r.final_sent {
            self.send_cancel(now, rid);
        }
    }

    /// Relay deadlines: Timer C, and giving up on a cancelled branch.
    pub(super) fn on_relay_timers(&mut self, now: Instant) {
        let due: Vec<RelayId> = self
            .relays
            .iter()
            .filter(|(_, r)| r.next_timer().is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        for rid in due {
            let Some(r) = self.relays.get_mut(&rid) else {
                continue;
            };
            if r.timer_c.is_some_and(|t| t <= now) {
                r.timer_c = None;
                // §16.8: Timer C fired — cancel a branch that rang; one
                // still calling ends by Timer B.
                if r.provisional && !r.cancel_sent && !r.final_sent {
                    self.send_cancel(now, rid);
                }
                continue;
            }
            r.give_up = None;
            // §16.8: no final after the CANCEL — end the branch.
            if let Some(client) = r.client {
                self.abandon(client);
            }
            self.branch_failed(now, rid);
        }
    }

    /// Forwards a request without transactions: an ACK for a 2xx, which
    /// the dialog's route set carries end to end (§16.11, §13.2.2.4). ACKs
    /// that go nowhere are dropped: no response is ever sent to an ACK.
    pub(super) fn forward_stateless(
        &mut self,
        now: Instant,
        source: SocketAddr,
        req: &Message<'_>,
    ) {
        if matches!(req.max_forwards(), Some(Ok(0)) | Some(Err(_))) {
            self.stats.dropped += 1;
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
        let Target::Forward {
            next_hop,
            request_uri,
            strip_top_route,
            ..
        } = target
        else {
            self.stats.dropped += 1;
            return;
        };
        let branch = stateless_branch(req);
        let params = ForwardParams {
            proxy: self.addr,
            source,
            branch: &branch,
            request_uri: request_uri.as_deref(),
            record_route: false,
            strip_top_route,
        };
        let mut buf = vec![0u8; MAX_DATAGRAM];
        match forward_request(req, &params, &mut buf) {
            Some(n) => {
                buf.truncate(n);
                self.stats.stateless_requests += 1;
                self.send(next_hop, buf);
            }
            None => self.stats.dropped += 1,
        }
    }
}
