//! A call flow of your own on the simulator: User A calls User B through
//! the proxy, B answers, A holds the call, B hangs up. The flow is
//! registered like the built-in ones, so the `handset-sim` command line
//! runs it: this example passes its arguments on (default `flow
//! hold-then-hang-up`), e.g.
//!
//! ```text
//! cargo run -p handset-sim --example custom_flow
//! cargo run -p handset-sim --example custom_flow -- sweep hold-then-hang-up --seeds 200 --loss 20
//! ```

use handset_core::phone::{Command, EndReason, Event};
use handset_core::time::Duration;
use handset_sim::cli::{self, FlowRegistry};
use handset_sim::flows::{run_flow, ABC};

fn main() {
    let mut flows = FlowRegistry::new();
    flows.register(
        "hold-then-hang-up",
        "User A calls User B, holds the call, and B hangs up",
        |params| {
            // Users A and B, registered with the proxy before the flow.
            run_flow(params, &ABC[..2], true, |w| {
                let (a, b) = (w.users[0], w.users[1]);
                w.command(
                    a,
                    Command::Dial {
                        to: "sip:bob@example.com",
                    },
                );
                w.expect(b, "IncomingCall", |e| matches!(e, Event::IncomingCall(_)))?;
                w.sim.run_for(Duration::from_secs(1));
                let ringing = w.call_of(b)?;
                w.command(b, Command::Answer(ringing));
                w.expect(a, "Answered", |e| matches!(e, Event::Answered(_)))?;
                let call = w.call_of(a)?;
                w.command(a, Command::Hold(call));
                w.expect(b, "Held by the remote", |e| {
                    matches!(
                        e,
                        Event::Held {
                            by_remote: true,
                            ..
                        }
                    )
                })?;
                w.sim.run_for(Duration::from_secs(2));
                let held = w.call_of(b)?;
                w.command(b, Command::Hangup(held));
                w.expect(a, "RemoteHangup", |e| {
                    matches!(
                        e,
                        Event::Ended {
                            reason: EndReason::RemoteHangup,
                            ..
                        }
                    )
                })?;
                // No call is left up; `finish` then checks every slot is free.
                Ok(vec![])
            })
        },
    );
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        args = vec!["flow".into(), "hold-then-hang-up".into()];
    }
    let code = cli::main_with(&flows, args, &mut std::io::stdout(), &mut std::io::stderr());
    std::process::exit(code);
}
