//! The named call flows: each sets up users and a proxy on a simulated
//! network, scripts what the users do, and checks how everything ended.
//!
//! Users register first; a flow's trace starts after that set-up unless
//! the flow is about registration itself.

mod basic;
pub mod degraded;
mod failover;
mod features;
mod info_dtmf;
mod media;
mod mwi;
mod mwi_auth;
mod prack;
mod session_timer;
mod transfer;

use std::net::SocketAddr;

use handset_core::phone::{CallHandle, Command, Event, DESK_PHONE_BUFFERS};
use handset_core::time::{Duration, Instant};

use crate::cli::{FlowParams, FlowRegistry, FlowRun};
use crate::phone_node::PhoneNode;
use crate::proxy::{Proxy, ProxyConfig};
use crate::{NodeId, Simulation};

/// The domain every simulated user belongs to.
pub const DOMAIN: &str = "example.com";

/// How long a flow may take before it counts as stuck.
const FLOW_DEADLINE: Duration = Duration::from_secs(600);

/// After a flow's last action: long enough for a last request still
/// being retransmitted (up to 64·T1 = 32 s) and then every transaction
/// timer (Timers D, J, K, M: up to 32 s) to run out, and for a call that
/// rings where no CANCEL can reach it (the proxy never heard it ring,
/// RFC 3261 §9.1) to time out (120 s) and see its 480 through Timer H.
const DRAIN: Duration = Duration::from_secs(160);

/// RFC 3261 §17.1.2.2: a BYE's Timer F (64·T1) and a little more.
const BYE_TIMEOUT: Duration = Duration::from_secs(33);

/// Every flow this simulator knows, in the order `list` shows them.
pub fn registry() -> FlowRegistry {
    let mut r = FlowRegistry::new();
    basic::register_flows(&mut r);
    media::register_flows(&mut r);
    features::register_flows(&mut r);
    transfer::register_flows(&mut r);
    mwi::register_flows(&mut r);
    prack::register_flows(&mut r);
    session_timer::register_flows(&mut r);
    info_dtmf::register_flows(&mut r);
    failover::register_flows(&mut r);
    mwi_auth::register_flows(&mut r);
    r
}

/// Users, a proxy and the simulation that holds them.
pub struct World {
    /// The simulation.
    pub sim: Simulation,
    /// The proxy/registrar.
    pub proxy: NodeId,
    /// The users, in the order given.
    pub users: Vec<NodeId>,
    /// Trace entries that belong to the set-up.
    pub setup_len: usize,
}

/// A user of a world: display name and SIP user.
pub type User = (&'static str, &'static str);

/// User A (alice), User B (bob), User C (carol).
pub const ABC: [User; 3] = [("User A", "alice"), ("User B", "bob"), ("User C", "carol")];

impl World {
    /// A proxy for [`DOMAIN`] and `users`, each registered (unless
    /// `register` is false) before the flow proper starts.
    pub fn new(params: &FlowParams, users: &[User], register: bool) -> Result<World, String> {
        let mut sim = Simulation::new(params.seed, params.profile);
        let names: Vec<&str> = users.iter().map(|u| u.1).collect();
        let proxy = sim.add_node("Proxy", |setup| {
            Proxy::<64>::new(setup, ProxyConfig::new(DOMAIN).with_users(&names))
        });
        let proxy_addr = sim.address(proxy);
        let ids: Vec<NodeId> = users
            .iter()
            .map(|&(name, user)| {
                sim.add_node(name, move |setup| {
                    PhoneNode::new(&setup, user, DOMAIN, Some(proxy_addr))
                })
            })
            .collect();
        let mut world = World {
            sim,
            proxy,
            users: ids,
            setup_len: 0,
        };
        if register {
            for &u in &world.users.clone() {
                world.command(u, Command::Register);
            }
            let users = world.users.clone();
            let ok = world.run_until(|w| {
                users
                    .iter()
                    .all(|&u| w.phone(u).saw(|e| matches!(e, Event::Registered { .. })))
            });
            if !ok {
                return Err("registration did not complete".into());
            }
            world.setup_len = world.sim.trace().len();
        }
        Ok(world)
    }

    /// The phone node `id`.
    pub fn phone(&self, id: NodeId) -> &PhoneNode {
        self.sim.node::<PhoneNode>(id)
    }

    /// The proxy.
    pub fn proxy(&self) -> &Proxy<64> {
        self.sim.node::<Proxy<64>>(self.proxy)
    }

    /// The address of node `id`.
    pub fn address(&self, id: NodeId) -> SocketAddr {
        self.sim.address(id)
    }

    /// Has user `id` carry out `command` now.
    pub fn command(&mut self, id: NodeId, command: Command<'_>) {
        self.sim
            .with_node(id, |n: &mut PhoneNode, now| n.command(now, command));
    }

    /// Runs until `done` holds, at most ten minutes of virtual time from now.
    pub fn run_until(&mut self, mut done: impl FnMut(&World) -> bool) -> bool {
        let deadline = self.sim.now() + FLOW_DEADLINE;
        loop {
            if done(self) {
                return true;
            }
            if self.sim.now() > deadline || self.sim.step().is_none() {
                return done(self);
            }
        }
    }

    /// Runs until user `id` raised an event matching `pred`, or fails with
    /// `what`.
    pub fn expect(
        &mut self,
        id: NodeId,
        what: &str,
        pred: impl Fn(&Event) -> bool,
    ) -> Result<Instant, String> {
        let deadline = self.sim.now() + FLOW_DEADLINE;
        let found = self
            .sim
            .run_until_true(deadline, |sim| sim.node::<PhoneNode>(id).saw(&pred));
        if found {
            Ok(self.sim.now())
        } else {
            Err(format!(
                "{} never saw {what}",
                self.sim.trace().node_name(id)
            ))
        }
    }

    /// Like [`World::expect`], counting only events from index `from` on.
    pub fn expect_since(
        &mut self,
        id: NodeId,
        from: usize,
        what: &str,
        pred: impl Fn(&Event) -> bool,
    ) -> Result<Instant, String> {
        let deadline = self.sim.now() + FLOW_DEADLINE;
        let found = self.sim.run_until_true(deadline, |sim| {
            sim.node::<PhoneNode>(id)
                .events
                .iter()
                .skip(from)
                .any(|(_, e)| pred(e))
        });
        if found {
            Ok(self.sim.now())
        } else {
            Err(format!(
                "{} never saw {what}",
                self.sim.trace().node_name(id)
            ))
        }
    }

    /// The last call user `id` heard of.
    pub fn call_of(&self, id: NodeId) -> Result<CallHandle, String> {
        self.phone(id)
            .last_call()
            .ok_or_else(|| format!("{} has no call", self.sim.trace().node_name(id)))
    }

    /// Lets every timer run out, then checks that every call, dialog and
    /// transaction slot of every phone and of the proxy is free, except
    /// the calls listed in `live` (user, count).
    pub fn finish(mut self, live: &[(NodeId, usize)]) -> FlowRun {
        self.sim.run_for(DRAIN);
        let outcome = self.check_slots(live);
        FlowRun {
            trace: self.sim.trace().since(self.setup_len),
            outcome,
        }
    }

    /// The flow missed its intended end with `missed`. It still ends as
    /// the RFC prescribes when the trace proves the network starved one of
    /// its transactions (see [`degraded`]) and, once every user hung up
    /// what was still up and every timer ran out, no peer answered a
    /// hang-up with 481 (both sides agreed the call was up) and every slot
    /// of every node is free. Otherwise the run failed with `missed`.
    pub fn degraded_end(mut self, missed: String) -> FlowRun {
        // First let what is under way finish (a BYE already sent after a
        // timed-out request must not cross the users' own).
        self.sim.run_for(BYE_TIMEOUT);
        let hangup_from = self.sim.trace().len();
        // One user after the other, each BYE given its whole Timer F, so
        // two ends hanging up one call do not cross.
        for &u in &self.users.clone() {
            let calls: Vec<CallHandle> = self.phone(u).phone.live_calls().collect();
            let subscribed = self.phone(u).phone.mwi().subscription.is_some();
            if calls.is_empty() && !subscribed {
                continue;
            }
            for call in calls {
                self.command(u, Command::Hangup(call));
            }
            if subscribed {
                self.command(u, Command::UnsubscribeMwi);
            }
            self.sim.run_for(BYE_TIMEOUT);
        }
        self.sim.run_for(DRAIN);
        let mut trace = self.sim.trace().since(self.setup_len);
        let outcome = (|| {
            self.check_slots(&[])
                .map_err(|slots| format!("{missed}; then {slots}"))?;
            let proof = degraded::starved(&trace, &self.users);
            if proof.is_empty() {
                return Err(missed.clone());
            }
            // A hang-up answered 481 means one end still had a call the
            // other had ended: acceptable only when the other end's BYE
            // was starved (RFC 3261 §12.2.1.2 ends its side regardless).
            let unexplained = self.sim.trace().entries()[hangup_from..]
                .iter()
                .filter(|e| matches!(e.label(), crate::trace::Label::Response(481, _)))
                .filter_map(|e| degraded::call_id(&e.data))
                .find(|id| {
                    !proof.iter().any(|s| {
                        s.how == degraded::Starvation::NoResponse
                            && s.call_id == *id
                            && s.cseq.ends_with(" BYE")
                    })
                });
            if let Some(id) = unexplained {
                return Err(format!(
                    "{missed}; then a hang-up in call {id} met 481 though no BYE of it was starved"
                ));
            }
            let proof: Vec<String> = proof
                .iter()
                .map(|s| format!("{} ({})", s, self.sim.trace().node_name(s.node)))
                .collect();
            Ok(format!("{missed}, as {}", proof.join("; ")))
        })();
        match outcome {
            Ok(why) => {
                trace.set_degraded(why);
                FlowRun {
                    trace,
                    outcome: Ok(()),
                }
            }
            Err(e) => FlowRun {
                trace,
                outcome: Err(e),
            },
        }
    }

    fn check_slots(&self, live: &[(NodeId, usize)]) -> Result<(), String> {
        for &u in &self.users {
            let name = self.sim.trace().node_name(u).to_string();
            let p = &self.phone(u).phone;
            let want = live.iter().find(|l| l.0 == u).map_or(0, |l| l.1);
            let calls = p.live_calls().count();
            if calls != want {
                return Err(format!("{name} has {calls} live calls, expected {want}"));
            }
            if want == 0 && p.dialogs_in_use() != 0 {
                return Err(format!("{name} still holds {} dialogs", p.dialogs_in_use()));
            }
            if p.transactions_in_use() != 0 {
                return Err(format!(
                    "{name} still holds {} transactions",
                    p.transactions_in_use()
                ));
            }
            if p.buffers_in_use() != 0 {
                return Err(format!(
                    "{name} still holds {} message buffers",
                    p.buffers_in_use()
                ));
            }
            // The firmware's pool is sized by what the flows need; a phone
            // that had to refuse requests (a flood) is past any flow.
            if p.stats().refused_full == 0 && p.buffers_peak() > DESK_PHONE_BUFFERS {
                return Err(format!(
                    "{name} kept {} message buffers at once, more than a desk phone's {}",
                    p.buffers_peak(),
                    DESK_PHONE_BUFFERS
                ));
            }
        }
        let proxy = self.proxy();
        if proxy.transactions_in_use() != 0
            || proxy.relays_in_use() != 0
            || proxy.buffers_in_use() != 0
        {
            return Err(format!(
                "proxy still holds {} transactions, {} relays and {} message buffers",
                proxy.transactions_in_use(),
                proxy.relays_in_use(),
                proxy.buffers_in_use()
            ));
        }
        Ok(())
    }
}

/// Turns a flow body into a [`FlowRun`], keeping the trace when it fails.
pub fn run_flow(
    params: &FlowParams,
    users: &[User],
    register: bool,
    body: impl FnOnce(&mut World) -> Result<Vec<(NodeId, usize)>, String>,
) -> FlowRun {
    let mut world = match World::new(params, users, register) {
        Ok(w) => w,
        Err(e) => {
            return FlowRun {
                trace: crate::Trace::new(),
                outcome: Err(e),
            }
        }
    };
    match body(&mut world) {
        Ok(live) => world.finish(&live),
        Err(e) => world.degraded_end(e),
    }
}
