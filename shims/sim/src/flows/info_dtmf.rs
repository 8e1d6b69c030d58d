//! DTMF by SIP INFO: the alternative to RFC 4733 telephone events that a
//! desk phone offers for PBXs and IVRs that read digits from signalling.

use handset_core::phone::{CallHandle, Command, DtmfMode, Event, Policy};
use handset_core::time::Duration;

use super::features::{establish, hang_up};
use super::{run_flow, World, ABC};
use crate::cli::{FlowParams, FlowRegistry, FlowRun};
use crate::NodeId;

/// The digits User A keys in.
const DIGITS: &str = "12*#";

pub(super) fn register_flows(r: &mut FlowRegistry) {
    r.register(
        "info-dtmf",
        "User A calls User B and keys 1 2 * # with DTMF set to SIP INFO: one INFO with \
         application/dtmf-relay per digit, each sent when the one before was answered, \
         and User B's phone reports the digits in order; A hangs up",
        info_dtmf,
    );
}

/// The digits `id` reported for `call`, in order.
fn digits_of(w: &World, id: NodeId, call: CallHandle) -> String {
    w.phone(id)
        .events
        .iter()
        .filter_map(|(_, e)| match *e {
            Event::DtmfReceived { call: c, digit } if c == call => Some(digit),
            _ => None,
        })
        .collect()
}

fn info_dtmf(params: &FlowParams) -> FlowRun {
    run_flow(params, &ABC[..2], true, |w| {
        let (a, b) = (w.users[0], w.users[1]);
        let policy = Policy {
            dtmf_mode: DtmfMode::SipInfo,
            ..Policy::default()
        };
        w.command(a, Command::SetPolicy(&policy));
        let (out, inc) = establish(w, a, b, "sip:bob@example.com", true)?;
        w.sim.run_for(Duration::from_secs(1));
        for digit in DIGITS.chars() {
            w.command(
                a,
                Command::SendDtmf {
                    call: out,
                    digit,
                    duration: Duration::from_millis(160),
                },
            );
        }
        if w.phone(a).saw(|e| matches!(e, Event::CommandFailed(_))) {
            return Err("User A's phone refused a digit".into());
        }
        let want = DIGITS.len();
        let done = w.run_until(|w| digits_of(w, b, inc).len() >= want);
        let got = digits_of(w, b, inc);
        if !done || got != DIGITS {
            return Err(format!("User B received {got:?}, expected {DIGITS:?}"));
        }
        w.sim.run_for(Duration::from_secs(1));
        hang_up(w, a, out, b, inc)?;
        Ok(vec![])
    })
}
