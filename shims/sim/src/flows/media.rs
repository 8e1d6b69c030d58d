//! Media on the wire: RTP and RTCP travel between the phones as real
//! packets over a lossy, jittery path, and the phones' RTCP reports must
//! tell the loss and jitter that path injected (RFC 3550 §6.4.1, §A.8).

use handset_core::media::ReceptionReport;
use handset_core::phone::{CallHandle, Command, EndReason, Event};
use handset_core::time::Duration;

use super::basic::establish;
use super::{run_flow, World, ABC};
use crate::cli::FlowRegistry;
use crate::fault::{Chance, FaultProfile};
use crate::phone_node::PhoneNode;
use crate::NodeId;

/// How long the call talks.
const TALK: Duration = Duration::from_secs(30);
/// Loss injected on the media path, in percent.
const MEDIA_LOSS_PCT: f64 = 5.0;
/// Jitter injected on the media path: every packet is delayed by an extra
/// amount drawn uniformly from 0 to this.
const MEDIA_JITTER: Duration = Duration::from_millis(20);
/// RTP clock of the G.711 audio the phones send (RFC 3551 §4.5.14).
const RTP_CLOCK_HZ: f64 = 8000.0;

/// How far the reported mean loss may stray from the injected one, in
/// percentage points. Each report's fraction covers one RTCP interval
/// (about 250 packets at 20 ms); the flow averages every report of both
/// directions (about 2,500 packets), a binomial mean with a standard
/// deviation of about 0.45 points at 5 % (0.43 measured over 300 seeds),
/// so 2 points is over four standard deviations. The 8-bit fraction
/// (1/256, rounded down) pulls the mean about 0.2 points low.
const LOSS_TOLERANCE_PCT: f64 = 2.0;

/// How far the reported mean jitter may stray from the expected one, in
/// milliseconds. A uniform extra delay on [0, a] gives independent transit
/// times, so the RFC 3550 §A.8 estimator (a 1/16 running mean of
/// |D(i−1, i)|) settles at E|X − Y| = a/3 for X, Y uniform on [0, a]:
/// 6.7 ms for 20 ms. One report's value wanders by about 1 ms around that
/// (|D| has a standard deviation of a/√18 = 4.7 ms, the running mean
/// keeps about a sixth of it); the mean of about ten reports by about
/// 0.3 ms (0.29 measured over 300 seeds), so 1.5 ms is five standard
/// deviations.
const JITTER_TOLERANCE_MS: f64 = 1.5;

pub(super) fn register_flows(r: &mut FlowRegistry) {
    r.register(
        "media-stats",
        "A 30 s call whose RTP crosses 5 % loss and 20 ms jitter; RTCP reports both",
        |p| {
            run_flow(p, &ABC[..2], true, |w| {
                let (a, b) = (w.users[0], w.users[1]);
                for u in [a, b] {
                    w.sim.node_mut::<PhoneNode>(u).set_carry_media(true);
                }
                // Signalling crosses the proxy on the run's own links; the
                // phones' direct path carries only media.
                let media = FaultProfile::ideal()
                    .with_loss(Chance::percent(MEDIA_LOSS_PCT))
                    .with_jitter(MEDIA_JITTER);
                w.sim.network_mut().set_link_both(a, b, media);
                establish(w, a, b)?;
                w.sim.run_for(TALK);
                let (call_a, call_b) = (w.call_of(a)?, w.call_of(b)?);
                check_media_path(w, (a, call_a), (b, call_b))?;
                let on_a = reported(w, (a, call_a), "User B", "User A")?;
                let on_b = reported(w, (b, call_b), "User A", "User B")?;
                for r in [&on_a, &on_b] {
                    w.sim.network_mut().note(r.line());
                }
                check_reports(&[on_a, on_b])?;
                w.command(a, Command::Hangup(call_a));
                w.expect(b, "the call end", |e| {
                    matches!(
                        e,
                        Event::Ended {
                            reason: EndReason::RemoteHangup,
                            ..
                        }
                    )
                })?;
                Ok(vec![])
            })
        },
    );
}

/// Each phone sends RTP where the other's SDP said, from where its own
/// SDP said, and heard most of what the other sent.
fn check_media_path(
    w: &World,
    (a, call_a): (NodeId, CallHandle),
    (b, call_b): (NodeId, CallHandle),
) -> Result<(), String> {
    let leg = |id: NodeId, call| {
        w.phone(id)
            .media_legs()
            .iter()
            .find(|l| l.call == call)
            .copied()
            .ok_or_else(|| format!("{} has no media stream", w.sim.trace().node_name(id)))
    };
    let (leg_a, leg_b) = (leg(a, call_a)?, leg(b, call_b)?);
    let sides = [(a, call_a, leg_a, leg_b), (b, call_b, leg_b, leg_a)];
    for (id, call, mine, theirs) in sides {
        let name = w.sim.trace().node_name(id);
        let neg = w
            .phone(id)
            .phone
            .negotiated(call)
            .ok_or_else(|| format!("{name} negotiated no media"))?;
        if mine.remote != neg.remote || mine.remote != theirs.local {
            return Err(format!(
                "{name} sends RTP to {} but the peer's SDP said {} and it listens on {}",
                mine.remote, neg.remote, theirs.local
            ));
        }
        if mine.local.ip() != w.address(id).ip() {
            return Err(format!("{name} sends RTP from {}", mine.local));
        }
        // Counted by the receiving stream, over the time it listened: the
        // answerer's stream opens with the ACK, and under signalling loss
        // the caller may have sent for a while before that.
        let (heard, expected) = w.phone(id).phone.media_stream(call).map_or((0, 0), |s| {
            (s.receive_stats().received(), s.receive_stats().expected())
        });
        let ticks = TALK.as_micros() / theirs.ptime.as_micros().max(1);
        // 5 % loss leaves about 95 %; under 80 % something else is wrong.
        if u64::from(heard) * 5 < u64::from(expected) * 4 || u64::from(heard) * 5 < ticks * 4 {
            return Err(format!(
                "{name} heard {heard} of {expected} RTP packets expected ({ticks} ticks in {} s)",
                TALK.as_secs()
            ));
        }
    }
    Ok(())
}

/// What one phone's RTCP reports said about the other's audio.
struct Reported {
    reporter: &'static str,
    sender: &'static str,
    blocks: Vec<ReceptionReport>,
}

impl Reported {
    fn mean_fraction_lost_pct(&self) -> f64 {
        mean(
            self.blocks
                .iter()
                .map(|b| f64::from(b.fraction_lost) / 2.56),
        )
    }

    fn mean_jitter_ms(&self) -> f64 {
        mean(
            self.blocks
                .iter()
                .map(|b| f64::from(b.jitter) * 1000.0 / RTP_CLOCK_HZ),
        )
    }

    fn line(&self) -> String {
        format!(
            "RTCP {} -> {}: {} reports on {}'s audio, fraction lost {:.1} % (injected {MEDIA_LOSS_PCT} %), \
             jitter {:.1} ms (expected {:.1} ms for 0-{} ms extra delay)",
            self.reporter,
            self.sender,
            self.blocks.len(),
            self.sender,
            self.mean_fraction_lost_pct(),
            self.mean_jitter_ms(),
            expected_jitter_ms(),
            MEDIA_JITTER.as_millis(),
        )
    }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        0.0
    } else {
        sum / f64::from(n)
    }
}

/// RFC 3550 §A.8 jitter for a uniform extra delay on [0, a]: a/3.
fn expected_jitter_ms() -> f64 {
    MEDIA_JITTER.as_micros() as f64 / 3000.0
}

/// The report blocks phone `id` received about its own stream of `call`.
fn reported(
    w: &World,
    (id, call): (NodeId, CallHandle),
    reporter: &'static str,
    sender: &'static str,
) -> Result<Reported, String> {
    let node = w.phone(id);
    let ssrc = node
        .media_legs()
        .iter()
        .find(|l| l.call == call)
        .map(|l| l.ssrc)
        .ok_or_else(|| format!("{sender} has no media stream"))?;
    let blocks: Vec<ReceptionReport> = node
        .reports
        .iter()
        .filter(|r| r.call == call)
        .filter_map(|r| r.report.block)
        .filter(|b| b.ssrc == ssrc)
        .collect();
    // RTCP leaves every 2-6 s (RFC 3550 §6.3.1: 5 s minimum, randomised,
    // halved for the first report), so 30 s give about six reports each
    // way. Losing five of six at 5 % happens less than twice in a million
    // runs; two reports are enough for the means below.
    if blocks.len() < 2 {
        return Err(format!(
            "{sender} heard {} RTCP reports about its audio in {} s",
            blocks.len(),
            TALK.as_secs()
        ));
    }
    Ok(Reported {
        reporter,
        sender,
        blocks,
    })
}

/// The reports of both directions together tell the injected loss and
/// the jitter it implies, within the tolerances above.
fn check_reports(all: &[Reported]) -> Result<(), String> {
    let blocks: Vec<&ReceptionReport> = all.iter().flat_map(|r| &r.blocks).collect();
    let loss = mean(blocks.iter().map(|b| f64::from(b.fraction_lost) / 2.56));
    let jitter = mean(
        blocks
            .iter()
            .map(|b| f64::from(b.jitter) * 1000.0 / RTP_CLOCK_HZ),
    );
    if (loss - MEDIA_LOSS_PCT).abs() > LOSS_TOLERANCE_PCT {
        return Err(format!(
            "RTCP reported {loss:.2} % lost, {MEDIA_LOSS_PCT} % was injected"
        ));
    }
    let expected = expected_jitter_ms();
    if (jitter - expected).abs() > JITTER_TOLERANCE_MS {
        return Err(format!(
            "RTCP reported {jitter:.2} ms jitter, {expected:.2} ms expected"
        ));
    }
    Ok(())
}
