//! Registrar failover: the phone's primary registrar and outbound proxy
//! is down, so its REGISTER goes unanswered until Timer F; the phone tries
//! its backup registrar at once, registers there, and its calls follow
//! the registration to the backup.

use handset_core::phone::{Command, Config, Event};
use handset_core::time::{Duration, Instant};

use super::features::{establish, hang_up};
use super::{World, ABC, DOMAIN};
use crate::cli::{FlowParams, FlowRegistry, FlowRun};
use crate::fault::Window;
use crate::phone_node::PhoneNode;
use crate::proxy::{Proxy, ProxyConfig};
use crate::Simulation;

pub(super) fn register_flows(r: &mut FlowRegistry) {
    r.register(
        "register-failover",
        "User A's primary registrar (Proxy 1) is down: its REGISTER is retransmitted \
         until Timer F, then goes at once to the backup registrar (Proxy 2), which \
         accepts it; User A's call to User B leaves through Proxy 2 (RFC 3263 §4.3)",
        register_failover,
    );
}

/// Proxy 1 (down for the whole flow) and Proxy 2, User A configured with
/// Proxy 1 as registrar and outbound proxy and Proxy 2 as backup, User B
/// registered at Proxy 2 during the set-up.
fn failover_world(params: &FlowParams) -> Result<World, String> {
    let mut sim = Simulation::new(params.seed, params.profile);
    let users = ["alice", "bob"];
    let primary = sim.add_node("Proxy 1", |setup| {
        Proxy::<64>::new(setup, ProxyConfig::new(DOMAIN).with_users(&users))
    });
    let proxy = sim.add_node("Proxy 2", |setup| {
        Proxy::<64>::new(setup, ProxyConfig::new(DOMAIN).with_users(&users))
    });
    let always = Window::new(Instant::ZERO, Instant::from_micros(u64::MAX));
    sim.network_mut().isolate(primary, always);
    let (primary_addr, backup_addr) = (sim.address(primary), sim.address(proxy));
    let a = sim.add_node(ABC[0].0, move |setup| {
        let mut config = Config::new(ABC[0].1, DOMAIN, setup.addr).expect("short user and domain");
        config.registrar = Some(primary_addr);
        config.outbound_proxy = Some(primary_addr);
        config
            .register
            .backup_registrars
            .push(backup_addr)
            .expect("room for one backup");
        PhoneNode::with_config(&setup, config)
    });
    let b = sim.add_node(ABC[1].0, move |setup| {
        PhoneNode::new(&setup, ABC[1].1, DOMAIN, Some(backup_addr))
    });
    let mut world = World {
        sim,
        proxy,
        users: vec![a, b],
        setup_len: 0,
    };
    world.command(b, Command::Register);
    world.expect(b, "Registered", |e| matches!(e, Event::Registered { .. }))?;
    world.setup_len = world.sim.trace().len();
    Ok(world)
}

fn register_failover(params: &FlowParams) -> FlowRun {
    let mut world = match failover_world(params) {
        Ok(w) => w,
        Err(e) => {
            return FlowRun {
                trace: crate::Trace::new(),
                outcome: Err(e),
            }
        }
    };
    let body = |w: &mut World| -> Result<Vec<(crate::NodeId, usize)>, String> {
        let (a, b) = (w.users[0], w.users[1]);
        w.command(a, Command::Register);
        w.expect(a, "the primary's failure", |e| {
            matches!(
                e,
                Event::RegistrationFailed {
                    code: 408,
                    server: 0
                }
            )
        })?;
        w.expect(a, "Registered at the backup", |e| {
            matches!(e, Event::Registered { server: 1, .. })
        })?;
        if w.proxy().binding(w.sim.now(), "alice").is_none() {
            return Err("Proxy 2 holds no binding for alice".into());
        }
        w.sim.run_for(Duration::from_secs(1));
        let (out, inc) = establish(w, a, b, "sip:bob@example.com", true)?;
        w.sim.run_for(Duration::from_secs(2));
        hang_up(w, a, out, b, inc)?;
        Ok(vec![])
    };
    match body(&mut world) {
        Ok(live) => world.finish(&live),
        Err(e) => world.degraded_end(e),
    }
}
