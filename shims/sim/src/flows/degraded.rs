//! Degraded end states: a flow that did not reach its intended end still
//! counts as ending as RFC 3261 says it must when the trace proves that
//! the network starved one of its transactions of every retransmission
//! the RFC allows, and once its users hung up every slot of every node is
//! free.
//!
//! The proof is read from the wire alone, never from what a node says
//! about itself: a request whose sender sent every copy its timer allows
//! (RFC 3261 §17.1.1.2 Timer A within Timer B for INVITE, §17.1.2.2 Timer
//! E within Timer F otherwise) without one response reaching it, a 2xx
//! retransmitted for 64·T1 (§13.3.1.4) without one ACK reaching its
//! sender, or an INVITE whose every final response was lost on the way
//! back to its sender.

use std::fmt;

use handset_core::time::{Duration, Instant};

use crate::trace::{Label, Trace, TraceEntry};
use crate::NodeId;

/// RFC 3261 §17.1.1.1: T1, the round-trip estimate every phone and the
/// proxy of the simulator use.
#[cfg(test)]
const T1: Duration = Duration::from_millis(500);

/// RFC 3261 §17.1.1.2, §17.1.2.2, §13.3.1.4: 64·T1.
const T1_X64: Duration = Duration::from_millis(500 * 64);

/// Copies of an INVITE sent over unreliable transport before Timer B:
/// at 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s (Timer A doubles).
const INVITE_COPIES: usize = 7;

/// Copies of a non-INVITE request sent before Timer F: Timer E doubles up
/// to T2 = 4 s, at 0, 0.5, 1.5, 3.5, 7.5, 11.5, ... 31.5 s.
const NON_INVITE_COPIES: usize = 11;

/// Copies of a 2xx to INVITE a UAS sends before it gives up on the ACK
/// (§13.3.1.4: T1 doubling up to T2, for 64·T1): same schedule as Timer E.
const OK_COPIES: usize = 11;

/// How a transaction was starved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Starvation {
    /// Every copy of the request was sent within 64·T1 and no response
    /// to it reached the sender in that time (Timer B or F fired).
    NoResponse,
    /// A 2xx to INVITE was sent for 64·T1 and no ACK for it reached its
    /// sender in that time.
    NoAck,
    /// The INVITE had a provisional answer but every final response sent
    /// towards its sender was lost, while the answering phone sent its
    /// 2xx for the whole 64·T1.
    NoFinal,
}

/// One starved transaction, as the trace shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Starved {
    /// How.
    pub how: Starvation,
    /// The node that waited in vain (the request's or the 2xx's sender).
    pub node: NodeId,
    /// The transaction's Call-ID.
    pub call_id: String,
    /// Its CSeq (`2 INVITE`).
    pub cseq: String,
    /// When the first copy was sent.
    pub from: Instant,
    /// Copies the waiting node sent.
    pub copies: usize,
}

impl fmt::Display for Starved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.how {
            Starvation::NoResponse => "no response reached the sender of",
            Starvation::NoAck => "no ACK reached the sender of the 2xx to",
            Starvation::NoFinal => "no final response reached the sender of",
        };
        write!(
            f,
            "{what} {} (Call-ID {}, {} copies from {:.3} s)",
            self.cseq,
            self.call_id,
            self.copies,
            self.from.as_micros() as f64 / 1e6
        )
    }
}

/// A SIP datagram of the trace with the fields the proofs match on.
struct Sip<'a> {
    entry: &'a TraceEntry,
    call_id: &'a str,
    cseq_num: &'a str,
    cseq_method: &'a str,
}

impl<'a> Sip<'a> {
    fn of(entry: &'a TraceEntry) -> Option<Sip<'a>> {
        let text = std::str::from_utf8(&entry.data).ok()?;
        let head = text.split("\r\n\r\n").next()?;
        let mut call_id = None;
        let mut cseq = None;
        for line in head.split("\r\n").skip(1) {
            let (name, value) = line.split_once(':')?;
            let name = name.trim();
            if name.eq_ignore_ascii_case("call-id") || name.eq_ignore_ascii_case("i") {
                call_id = Some(value.trim());
            } else if name.eq_ignore_ascii_case("cseq") {
                cseq = Some(value.trim());
            }
        }
        let (num, method) = cseq?.split_once(' ')?;
        Some(Sip {
            entry,
            call_id: call_id?,
            cseq_num: num.trim(),
            cseq_method: method.trim(),
        })
    }

    fn request(&self) -> Option<&str> {
        match self.entry.label() {
            Label::Request(_) => Some(self.cseq_method),
            _ => None,
        }
    }

    fn status(&self) -> Option<u16> {
        match self.entry.label() {
            Label::Response(code, _) => Some(code),
            _ => None,
        }
    }

    fn same_transaction(&self, other: &Sip<'_>) -> bool {
        self.call_id == other.call_id
            && self.cseq_num == other.cseq_num
            && self.cseq_method == other.cseq_method
    }

    /// Sent by the node itself (not a copy the network made).
    fn sent(&self) -> bool {
        !self.entry.duplicate
    }

    fn delivered_by(&self, t: Instant) -> bool {
        self.entry.delivered_at.is_some_and(|d| d <= t)
    }
}

/// The Call-ID of a SIP datagram, if it has one.
pub fn call_id(data: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(data).ok()?;
    let head = text.split("\r\n\r\n").next()?;
    head.split("\r\n").skip(1).find_map(|line| {
        let (name, value) = line.split_once(':')?;
        let name = name.trim();
        (name.eq_ignore_ascii_case("call-id") || name.eq_ignore_ascii_case("i"))
            .then(|| value.trim().to_string())
    })
}

/// Every transaction of `trace` the network starved as [`Starvation`]
/// says; `users` are the phones (a 2xx's sender must be one, so a proxy
/// forwarding it is not taken for its author).
pub fn starved(trace: &Trace, users: &[NodeId]) -> Vec<Starved> {
    let sip: Vec<Sip<'_>> = trace.sip_entries().filter_map(Sip::of).collect();
    let mut found: Vec<Starved> = Vec::new();
    let seen = |s: Starved, found: &mut Vec<Starved>| {
        if !found.iter().any(|f| {
            f.how == s.how && f.node == s.node && f.call_id == s.call_id && f.cseq == s.cseq
        }) {
            found.push(s);
        }
    };
    for (i, first) in sip.iter().enumerate() {
        let Some(to) = first.entry.to else { continue };
        // The first copy of each (sender, receiver, transaction).
        let earlier = sip[..i].iter().any(|o| {
            o.entry.from == first.entry.from
                && o.entry.to == first.entry.to
                && o.same_transaction(first)
                && o.status() == first.status()
                && o.request().is_some() == first.request().is_some()
        });
        if earlier || !first.sent() {
            continue;
        }
        let from = first.entry.from;
        let t0 = first.entry.sent_at;
        let end = t0 + T1_X64;
        let cseq = format!("{} {}", first.cseq_num, first.cseq_method);
        let copies = |pred: &dyn Fn(&Sip<'_>) -> bool| {
            sip.iter()
                .filter(|o| o.entry.from == from && o.entry.to == Some(to) && o.sent())
                .filter(|o| o.same_transaction(first) && o.entry.sent_at <= end && pred(o))
                .count()
        };
        match (first.request(), first.status()) {
            (Some(method), _) if method != "ACK" => {
                let budget = if method == "INVITE" {
                    INVITE_COPIES
                } else {
                    NON_INVITE_COPIES
                };
                let sent = copies(&|o| o.request().is_some());
                let answered = sip.iter().any(|o| {
                    o.entry.from == to
                        && o.entry.to == Some(from)
                        && o.status().is_some()
                        && o.same_transaction(first)
                        && o.delivered_by(end)
                });
                if sent >= budget && !answered {
                    seen(
                        Starved {
                            how: Starvation::NoResponse,
                            node: from,
                            call_id: first.call_id.to_string(),
                            cseq: cseq.clone(),
                            from: t0,
                            copies: sent,
                        },
                        &mut found,
                    );
                }
                if method == "INVITE" && users.contains(&from) {
                    if let Some(s) = no_final(&sip, first, users) {
                        seen(s, &mut found);
                    }
                }
            }
            (None, Some(200..=299)) if first.cseq_method == "INVITE" && users.contains(&from) => {
                let sent = copies(&|o| o.status().is_some_and(|c| (200..300).contains(&c)));
                let acked = sip.iter().any(|o| {
                    o.entry.to == Some(from)
                        && o.request() == Some("ACK")
                        && o.call_id == first.call_id
                        && o.cseq_num == first.cseq_num
                        && o.delivered_by(end)
                });
                if sent >= OK_COPIES && !acked {
                    seen(
                        Starved {
                            how: Starvation::NoAck,
                            node: from,
                            call_id: first.call_id.to_string(),
                            cseq,
                            from: t0,
                            copies: sent,
                        },
                        &mut found,
                    );
                }
            }
            _ => {}
        }
    }
    found
}

/// The INVITE `invite` (its first copy) got a provisional but no final
/// response ever reached its sender, while the phone that answered it
/// sent its 2xx for the whole of §13.3.1.4's 64·T1.
fn no_final(sip: &[Sip<'_>], invite: &Sip<'_>, users: &[NodeId]) -> Option<Starved> {
    let sender = invite.entry.from;
    let responses = || {
        sip.iter()
            .filter(move |o| o.status().is_some() && o.same_transaction(invite))
    };
    let to_sender = |o: &&Sip<'_>| o.entry.to == Some(sender);
    let provisional = responses()
        .filter(to_sender)
        .any(|o| o.status().is_some_and(|c| c < 200) && o.entry.delivered_at.is_some());
    let final_reached = responses()
        .filter(to_sender)
        .any(|o| o.status().is_some_and(|c| c >= 200) && o.entry.delivered_at.is_some());
    if !provisional || final_reached {
        return None;
    }
    // The answering phone: a user other than the sender that sent a 2xx.
    let answerer = responses().find(|o| {
        o.entry.from != sender
            && users.contains(&o.entry.from)
            && o.status().is_some_and(|c| (200..300).contains(&c))
    })?;
    let first_ok = answerer.entry.sent_at;
    let ok_copies = responses()
        .filter(|o| {
            o.entry.from == answerer.entry.from
                && o.sent()
                && o.status().is_some_and(|c| (200..300).contains(&c))
                && o.entry.sent_at <= first_ok + T1_X64
        })
        .count();
    (ok_copies >= OK_COPIES).then(|| Starved {
        how: Starvation::NoFinal,
        node: sender,
        call_id: invite.call_id.to_string(),
        cseq: format!("{} {}", invite.cseq_num, invite.cseq_method),
        from: invite.entry.sent_at,
        copies: ok_copies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_match_the_rfc_timers() {
        // Timer A doubles from T1 within Timer B: 0, T1, 3·T1, ... < 64·T1.
        let mut t = Duration::ZERO;
        let mut gap = T1;
        let mut invite = 0;
        while t < T1_X64 {
            invite += 1;
            t = t + gap;
            gap = gap + gap;
        }
        assert_eq!(invite, INVITE_COPIES);
        // Timer E doubles up to T2 = 8·T1 within Timer F.
        let (mut t, mut gap, mut other) = (Duration::ZERO, T1, 0);
        while t < T1_X64 {
            other += 1;
            t = t + gap;
            gap = (gap + gap).min(Duration::from_secs(4));
        }
        assert_eq!(other, NON_INVITE_COPIES);
        assert_eq!(OK_COPIES, NON_INVITE_COPIES);
    }
}
