//! Message waiting with an authenticating voice-mail server: the server
//! challenges the SUBSCRIBE (401), the phone answers with the credentials
//! of its registration, and the refresh answers the kept challenge before
//! being asked (RFC 3261 §22.2, RFC 7616, RFC 8760 SHA-256).

use std::collections::BTreeMap;

use handset_core::auth::DigestAlgorithm;
use handset_core::phone::{Command, Config, Event};
use handset_core::time::Duration;
use handset_core::ua::text;

use super::mwi::{vm, Mailbox, VoicemailNode, MAILBOX};
use super::{World, ABC, DOMAIN};
use crate::cli::{FlowParams, FlowRegistry, FlowRun};
use crate::phone_node::PhoneNode;
use crate::proxy::{Authenticator, Proxy, ProxyConfig};
use crate::{NodeId, Simulation};

/// User A's password, known to the voice-mail server.
const PASSWORD: &str = "wonderland";

pub(super) fn register_flows(r: &mut FlowRegistry) {
    r.register(
        "mwi-auth",
        "User A subscribes to message-summary at a voice-mail server that authenticates \
         subscribers: 401 with a SHA-256 digest challenge, the SUBSCRIBE again with \
         Authorization, 200 and NOTIFY; the refresh carries the next nonce count; removal",
        mwi_auth,
    );
}

/// A proxy, User A (with a password) and a voice-mail server that
/// challenges SUBSCRIBEs, both registered during the set-up.
fn auth_world(params: &FlowParams) -> Result<(World, NodeId), String> {
    let mut sim = Simulation::new(params.seed, params.profile);
    let proxy = sim.add_node("Proxy", |setup| {
        Proxy::<64>::new(
            setup,
            ProxyConfig::new(DOMAIN).with_users(&["alice", MAILBOX]),
        )
    });
    let proxy_addr = sim.address(proxy);
    let a = sim.add_node(ABC[0].0, move |setup| {
        let mut config = Config::new(ABC[0].1, DOMAIN, setup.addr).expect("short user and domain");
        config.outbound_proxy = Some(proxy_addr);
        config.registrar = Some(proxy_addr);
        config.register.password = text(PASSWORD).expect("short password");
        PhoneNode::with_config(&setup, config)
    });
    let mailbox = Mailbox {
        new: 3,
        old: 1,
        urgent_new: 1,
        urgent_old: 0,
    };
    let server = sim.add_node("Voicemail", move |setup| {
        let users = BTreeMap::from([(ABC[0].1.to_string(), PASSWORD.to_string())]);
        let auth = Authenticator::new(
            DOMAIN,
            users,
            DigestAlgorithm::Sha256,
            setup.seed,
            Duration::from_secs(600),
        );
        VoicemailNode::new(&setup, proxy_addr, mailbox).with_authenticator(auth)
    });
    let mut world = World {
        sim,
        proxy,
        users: vec![a],
        setup_len: 0,
    };
    world.command(a, Command::Register);
    world.expect(a, "Registered", |e| matches!(e, Event::Registered { .. }))?;
    world
        .sim
        .with_node(server, |n: &mut VoicemailNode, now| n.register(now));
    if !world.run_until(|w| vm(w, server).registered) {
        return Err("the voice-mail server did not register".into());
    }
    world.setup_len = world.sim.trace().len();
    Ok((world, server))
}

fn mwi_auth(params: &FlowParams) -> FlowRun {
    let (mut world, server) = match auth_world(params) {
        Ok(w) => w,
        Err(e) => {
            return FlowRun {
                trace: crate::Trace::new(),
                outcome: Err(e),
            }
        }
    };
    let body = |w: &mut World| -> Result<Vec<(NodeId, usize)>, String> {
        let a = w.users[0];
        w.command(
            a,
            Command::SubscribeMwi {
                mailbox: Some(MAILBOX),
            },
        );
        w.expect(a, "the summary", |e| {
            matches!(
                e,
                Event::MessageWaiting {
                    waiting: true,
                    new: 3,
                    old: 1
                }
            )
        })?;
        if vm(w, server).challenges == 0 {
            return Err("the server never challenged".into());
        }
        // Granted 120 s: the refresh after 60 s answers the kept
        // challenge, so the server accepts it without a new 401.
        let challenges = vm(w, server).challenges;
        let refreshed =
            w.run_until(|w| vm(w, server).subscribes >= 2 && vm(w, server).notifies_delivered >= 2);
        if !refreshed {
            return Err("the subscription was not refreshed".into());
        }
        w.command(a, Command::UnsubscribeMwi);
        w.expect(a, "MwiEnded", |e| matches!(e, Event::MwiEnded))?;
        if !w.run_until(|w| !vm(w, server).subscribed() && vm(w, server).idle()) {
            return Err("the server still holds the subscription".into());
        }
        if w.phone(a).saw(|e| matches!(e, Event::MwiFailed { .. })) {
            return Err("a subscription attempt failed".into());
        }
        if params.profile == crate::FaultProfile::ideal() && vm(w, server).challenges != challenges
        {
            return Err("the refresh was challenged again".into());
        }
        Ok(vec![])
    };
    match body(&mut world) {
        Ok(live) => world.finish(&live),
        Err(e) => world.degraded_end(e),
    }
}
