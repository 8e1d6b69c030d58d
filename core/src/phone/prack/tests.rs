//! 100rel, PRACK and UPDATE between two phones wired to each other
//! directly, with messages dropped or rewritten on the way where a rule
//! needs it.

extern crate std;

use std::string::String;
use std::vec::Vec;

use super::*;
use crate::call::reliable::ReliableProvisional;
use crate::phone::test_support::{self, addr, header};
use crate::phone::{Command, Config, Policy};
use crate::time::Duration;

type Net = test_support::Net<2, 16>;

const BOB: &str = "sip:bob@10.0.0.2:5060";

/// Alice (0) and Bob (1) with the 100rel settings `policies`.
fn two_phones(policies: [ReliableProvisional; 2]) -> Net {
    let phone = |i: usize, user: &str| {
        Phone::new(
            Config::new(user, "example.com", addr(i)).unwrap(),
            70 + i as u64,
        )
    };
    let mut net = Net::new(std::vec![phone(0, "alice"), phone(1, "bob")]);
    for (i, setting) in policies.into_iter().enumerate() {
        let policy = Policy {
            reliable_provisional: setting,
            ..Policy::default()
        };
        net.command(i, Command::SetPolicy(&policy));
    }
    net
}

/// Hands phone `to` the message `data` from the other phone.
fn inject(net: &mut Net, to: usize, data: &str) {
    net.inject(addr(1 - to), to, data.as_bytes());
}

fn settle(net: &mut Net) {
    net.run(Duration::from_millis(100));
}

fn handle_of(net: &Net, i: usize, pick: impl Fn(&Event) -> Option<CallHandle>) -> CallHandle {
    net.events[i].iter().find_map(pick).unwrap()
}

fn incoming(net: &Net) -> CallHandle {
    handle_of(net, 1, |e| match *e {
        Event::IncomingCall(h) => Some(h),
        _ => None,
    })
}

fn outgoing(net: &Net) -> CallHandle {
    handle_of(net, 0, |e| match *e {
        Event::Calling(h) => Some(h),
        _ => None,
    })
}

/// Messages sent (delivered or not) by phone `i` whose first line starts
/// with `start`.
fn sent<'n>(net: &'n Net, i: usize, start: &str) -> Vec<&'n str> {
    net.transmitted
        .iter()
        .filter(|d| d.from == addr(i) && d.text.starts_with(start))
        .map(|d| d.text.as_str())
        .collect()
}

/// Index among the messages sent of the first whose first line starts
/// with `start` and whose CSeq line ends with `method`.
fn position(net: &Net, start: &str, method: &str) -> Option<usize> {
    net.transmitted.iter().position(|d| {
        d.text.starts_with(start) && header(&d.text, "CSeq").is_some_and(|c| c.ends_with(method))
    })
}

fn body(m: &str) -> &str {
    m.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// `m` with the value of header `name` replaced (the first line only).
fn with_header(m: &str, name: &str, value: &str) -> String {
    let mut out = String::new();
    let mut done = false;
    for l in m.split_inclusive("\r\n") {
        let is = l
            .split_once(':')
            .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name));
        if is && !done {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push_str("\r\n");
            done = true;
        } else {
            out.push_str(l);
        }
    }
    out
}

/// `m` with an extra header line after the first line.
fn add_header(m: &str, line: &str) -> String {
    let (first, rest) = m.split_once("\r\n").unwrap();
    std::format!("{first}\r\n{line}\r\n{rest}")
}

fn is_status(m: &str, code: u16, method: &str) -> bool {
    m.starts_with(&std::format!("SIP/2.0 {code} "))
        && header(m, "CSeq").is_some_and(|c| c.ends_with(method))
}

/// A dials B; returns after the 180 and (when reliable) the PRACK went
/// through.
fn dial(net: &mut Net) {
    net.command(0, Command::Dial { to: BOB });
    settle(net);
}

#[test]
fn off_by_default_the_wire_has_no_100rel() {
    let mut net = two_phones([ReliableProvisional::Off; 2]);
    dial(&mut net);
    let invite = sent(&net, 0, "INVITE")[0];
    assert!(header(invite, "Require").is_none());
    assert!(!invite.contains("100rel"));
    let ringing = sent(&net, 1, "SIP/2.0 180")[0];
    assert!(header(ringing, "RSeq").is_none());
    assert!(header(ringing, "Require").is_none());
    assert!(body(ringing).is_empty());
    assert!(sent(&net, 0, "PRACK").is_empty());
    assert!(net.saw(0, |e| matches!(e, Event::Ringing(_))));
}

#[test]
fn a_reliable_180_is_pracked_and_the_answer_needs_no_second_sdp() {
    let mut net = two_phones([ReliableProvisional::Supported; 2]);
    dial(&mut net);
    let invite = sent(&net, 0, "INVITE")[0];
    assert!(invite.contains("\r\nSupported: 100rel\r\n"));
    let ringing = sent(&net, 1, "SIP/2.0 180")[0];
    assert_eq!(header(ringing, "Require"), Some("100rel"));
    let rseq: u32 = header(ringing, "RSeq").unwrap().parse().unwrap();
    assert!((1..=crate::call::reliable::MAX_RSEQ).contains(&rseq));
    assert!(body(ringing).starts_with("v=0"), "the answer rides the 180");
    let prack = sent(&net, 0, "PRACK")[0];
    assert_eq!(
        header(prack, "RAck"),
        Some(std::format!("{rseq} 1 INVITE").as_str())
    );
    assert_eq!(header(prack, "CSeq"), Some("2 PRACK"));
    assert_eq!(sent(&net, 1, "SIP/2.0 200").len(), 1, "200 to the PRACK");
    assert!(net.saw(0, |e| matches!(e, Event::EarlyMedia(_))));
    let a = outgoing(&net);
    assert_eq!(
        net.phones[0].dialog_state(a),
        Some(crate::dialog::DialogState::Early)
    );
    // No retransmission of the 180 once PRACKed.
    net.run(Duration::from_secs(40));
    assert_eq!(sent(&net, 1, "SIP/2.0 180").len(), 1);
    let b = incoming(&net);
    net.command(1, Command::Answer(b));
    settle(&mut net);
    let ok = net
        .transmitted
        .iter()
        .rev()
        .find(|d| d.from == addr(1) && is_status(&d.text, 200, "INVITE"));
    assert!(
        body(&ok.unwrap().text).is_empty(),
        "the answer is not repeated"
    );
    assert!(net.saw(0, |e| matches!(e, Event::Answered(_))));
    assert!(net.saw(1, |e| matches!(e, Event::Answered(_))));
    assert!(net.phones[0].negotiated(a).is_some());
    net.command(0, Command::Hangup(a));
    net.run(Duration::from_secs(40));
    assert_eq!(net.phones[0].transactions_in_use(), 0);
    assert_eq!(net.phones[1].transactions_in_use(), 0);
    assert_eq!(net.phones[1].dialogs_in_use(), 0);
}

#[test]
fn a_caller_requiring_100rel_gets_it_even_when_the_setting_is_off() {
    let mut net = two_phones([ReliableProvisional::Required, ReliableProvisional::Off]);
    dial(&mut net);
    assert!(sent(&net, 0, "INVITE")[0].contains("\r\nRequire: 100rel\r\n"));
    assert_eq!(
        header(sent(&net, 1, "SIP/2.0 180")[0], "Require"),
        Some("100rel")
    );
    assert_eq!(sent(&net, 0, "PRACK").len(), 1);
}

#[test]
fn a_caller_merely_supporting_100rel_gets_a_plain_180_when_off() {
    let mut net = two_phones([ReliableProvisional::Supported, ReliableProvisional::Off]);
    dial(&mut net);
    assert!(header(sent(&net, 1, "SIP/2.0 180")[0], "RSeq").is_none());
    assert!(sent(&net, 0, "PRACK").is_empty());
}

#[test]
fn unpracked_180_is_retransmitted_doubling_then_the_invite_gets_a_5xx() {
    let mut net = two_phones([ReliableProvisional::Supported; 2]);
    net.command(0, Command::Dial { to: BOB });
    net.run_dropping(Duration::from_secs(40), |d| d.text.starts_with("PRACK"));
    let times: Vec<u64> = net
        .transmitted
        .iter()
        .filter(|d| d.from == addr(1) && d.text.starts_with("SIP/2.0 180"))
        .map(|d| d.at.as_millis())
        .collect();
    // RFC 3262 §3: T1, doubling, for 64·T1.
    assert_eq!(times, [0, 500, 1500, 3500, 7500, 15500, 31500]);
    let rseqs: Vec<&str> = sent(&net, 1, "SIP/2.0 180")
        .iter()
        .map(|m| header(m, "RSeq").unwrap())
        .collect();
    assert!(
        rseqs.windows(2).all(|w| w[0] == w[1]),
        "a retransmission keeps its RSeq"
    );
    // A acknowledged the first only; its PRACK transaction retransmits.
    let pracks = sent(&net, 0, "PRACK");
    assert!(pracks.len() > 1);
    assert!(pracks.iter().all(|p| header(p, "CSeq") == Some("2 PRACK")));
    let final_at = net
        .transmitted
        .iter()
        .find(|d| d.from == addr(1) && is_status(&d.text, 500, "INVITE"))
        .map(|d| d.at.as_millis());
    assert_eq!(final_at, Some(32_000));
    assert!(net.saw(1, |e| matches!(
        e,
        Event::Ended {
            reason: EndReason::Timeout,
            ..
        }
    )));
    assert!(net.saw(0, |e| matches!(
        e,
        Event::Ended {
            reason: EndReason::Failed(500),
            ..
        }
    )));
}

#[test]
fn the_2xx_waits_for_the_prack_of_an_sdp_carrying_180() {
    let mut net = two_phones([ReliableProvisional::Supported; 2]);
    net.command(0, Command::Dial { to: BOB });
    // The INVITE reaches B; B's reliable 180 waits on the wire while the
    // user answers at once.
    let invite = net.wire.pop_front().unwrap().data;
    inject(&mut net, 1, core::str::from_utf8(&invite).unwrap());
    let b = incoming(&net);
    net.command(1, Command::Answer(b));
    assert!(
        sent(&net, 1, "SIP/2.0 200").is_empty(),
        "no 2xx before the PRACK"
    );
    settle(&mut net);
    let prack_ok = position(&net, "SIP/2.0 200", "PRACK").unwrap();
    let invite_ok = position(&net, "SIP/2.0 200", "INVITE").unwrap();
    assert!(prack_ok < invite_ok);
    assert!(net.saw(0, |e| matches!(e, Event::Answered(_))));
    assert!(net.saw(1, |e| matches!(e, Event::Answered(_))));
}

#[test]
fn a_late_offer_goes_in_the_reliable_180_and_its_answer_in_the_prack() {
    let mut net = two_phones([ReliableProvisional::Off, ReliableProvisional::Supported]);
    net.command(0, Command::Dial { to: BOB });
    let invite = String::from(sent(&net, 0, "INVITE")[0]);
    net.wire.clear();
    // A's INVITE without its offer, supporting 100rel.
    let (head, offer) = invite.split_once("\r\n\r\n").unwrap();
    let late: String = head
        .split("\r\n")
        .filter(|l| !l.starts_with("Content-Type") && !l.starts_with("Content-Length"))
        .map(|l| std::format!("{l}\r\n"))
        .collect();
    let late = std::format!("{late}Supported: 100rel\r\nContent-Length: 0\r\n\r\n");
    inject(&mut net, 1, &late);
    let ringing = String::from(sent(&net, 1, "SIP/2.0 180")[0]);
    assert_eq!(header(&ringing, "Require"), Some("100rel"));
    assert!(body(&ringing).starts_with("v=0"), "our offer rides the 180");
    // The PRACK carries the answer (A's SDP serves as one).
    let prack = std::format!(
        "PRACK sip:bob@10.0.0.2:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKprack1\r\nMax-Forwards: 70\r\n\
         From: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: 2 PRACK\r\nRAck: {} 1 INVITE\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{offer}",
        header(&invite, "From").unwrap(),
        header(&ringing, "To").unwrap(),
        header(&invite, "Call-ID").unwrap(),
        header(&ringing, "RSeq").unwrap(),
        offer.len(),
    );
    inject(&mut net, 1, &prack);
    assert!(is_status(
        &net.transmitted.last().unwrap().text,
        200,
        "PRACK"
    ));
    let b = incoming(&net);
    assert!(net.phones[1].negotiated(b).is_some(), "the PRACK answered");
    net.command(1, Command::Answer(b));
    let ok = sent(&net, 1, "SIP/2.0 200");
    let ok = ok.iter().find(|m| is_status(m, 200, "INVITE")).unwrap();
    assert!(body(ok).is_empty(), "offer and answer are done");
}

#[test]
fn a_prack_naming_another_response_gets_481() {
    let mut net = two_phones([ReliableProvisional::Supported; 2]);
    net.command(0, Command::Dial { to: BOB });
    net.run_dropping(Duration::from_millis(100), |d| d.text.starts_with("PRACK"));
    let prack = String::from(sent(&net, 0, "PRACK")[0]);
    let rack = header(&prack, "RAck").unwrap();
    let (rseq, rest) = rack.split_once(' ').unwrap();
    let wrong: u32 = rseq.parse::<u32>().unwrap() + 1;
    let forged = with_header(&prack, "RAck", &std::format!("{wrong} {rest}"));
    let forged = with_header(
        &forged,
        "Via",
        "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKforged",
    );
    inject(&mut net, 1, &forged);
    assert!(is_status(
        net.transmitted.last().map(|l| l.text.as_str()).unwrap(),
        481,
        "PRACK"
    ));
    inject(&mut net, 1, &prack);
    assert!(is_status(
        net.transmitted.last().map(|l| l.text.as_str()).unwrap(),
        200,
        "PRACK"
    ));
    // The 180 is acknowledged now: no more retransmissions.
    let before = sent(&net, 1, "SIP/2.0 180").len();
    net.run_dropping(Duration::from_secs(40), |_| true);
    assert_eq!(sent(&net, 1, "SIP/2.0 180").len(), before);
}

/// A's INVITE (dropped on the way) and reliable provisionals built for it
/// by hand, fed to A.
#[test]
fn the_caller_pracks_in_sequence_and_drops_repeats_and_gaps() {
    let mut net = two_phones([ReliableProvisional::Supported, ReliableProvisional::Off]);
    net.command(0, Command::Dial { to: BOB });
    let invite = String::from(sent(&net, 0, "INVITE")[0]);
    net.wire.clear();
    let provisional = |code: u16, rseq: u32| {
        std::format!(
            "SIP/2.0 {code} Ringing\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=uas1\r\n\
             Call-ID: {}\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@10.0.0.2:5060>\r\n\
             Require: 100rel\r\nRSeq: {rseq}\r\nContent-Length: 0\r\n\r\n",
            header(&invite, "Via").unwrap(),
            header(&invite, "From").unwrap(),
            header(&invite, "To").unwrap(),
            header(&invite, "Call-ID").unwrap(),
        )
    };
    let pracks = |net: &Net| -> Vec<String> {
        sent(net, 0, "PRACK")
            .iter()
            .map(|p| String::from(header(p, "RAck").unwrap()))
            .collect()
    };
    inject(&mut net, 0, &provisional(180, 10));
    assert_eq!(pracks(&net), ["10 1 INVITE"]);
    inject(&mut net, 0, &provisional(180, 10));
    assert_eq!(
        pracks(&net).len(),
        1,
        "a retransmission is not acknowledged again"
    );
    inject(&mut net, 0, &provisional(183, 12));
    assert_eq!(pracks(&net).len(), 1, "a gap in RSeq is discarded");
    inject(&mut net, 0, &provisional(183, 11));
    assert_eq!(pracks(&net), ["10 1 INVITE", "11 1 INVITE"]);
    inject(&mut net, 0, &provisional(183, 12));
    assert_eq!(
        pracks(&net).len(),
        3,
        "the one after the gap, retransmitted, is taken"
    );
    let cseqs: Vec<&str> = sent(&net, 0, "PRACK")
        .iter()
        .map(|p| header(p, "CSeq").unwrap())
        .collect();
    assert_eq!(cseqs, ["2 PRACK", "3 PRACK", "4 PRACK"]);
    assert!(sent(&net, 0, "PRACK")[0].starts_with("PRACK sip:bob@10.0.0.2:5060 SIP/2.0"));
}

#[test]
fn a_second_fork_is_pracked_in_its_own_early_dialog() {
    let mut net = two_phones([ReliableProvisional::Supported, ReliableProvisional::Off]);
    net.command(0, Command::Dial { to: BOB });
    let invite = String::from(sent(&net, 0, "INVITE")[0]);
    net.wire.clear();
    let provisional = |tag: &str, rseq: u32| {
        std::format!(
            "SIP/2.0 180 Ringing\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag={tag}\r\n\
             Call-ID: {}\r\nCSeq: 1 INVITE\r\nContact: <sip:{tag}@10.0.0.2:5060>\r\n\
             Require: 100rel\r\nRSeq: {rseq}\r\nContent-Length: 0\r\n\r\n",
            header(&invite, "Via").unwrap(),
            header(&invite, "From").unwrap(),
            header(&invite, "To").unwrap(),
            header(&invite, "Call-ID").unwrap(),
        )
    };
    inject(&mut net, 0, &provisional("one", 10));
    inject(&mut net, 0, &provisional("two", 500));
    inject(&mut net, 0, &provisional("one", 11));
    let pracks: Vec<(&str, &str, &str)> = sent(&net, 0, "PRACK")
        .iter()
        .map(|p| {
            let target = p.split(' ').nth(1).unwrap();
            let to_tag = header(p, "To").unwrap().rsplit("tag=").next().unwrap();
            (target, to_tag, header(p, "RAck").unwrap())
        })
        .collect();
    assert_eq!(
        pracks,
        [
            ("sip:one@10.0.0.2:5060", "one", "10 1 INVITE"),
            ("sip:two@10.0.0.2:5060", "two", "500 1 INVITE"),
            ("sip:one@10.0.0.2:5060", "one", "11 1 INVITE"),
        ]
    );
    // The other fork's dialog was only lent for its PRACK.
    assert_eq!(net.phones[0].dialogs_in_use(), 1);
}

#[test]
#[cfg(feature = "redirect")]
fn after_a_redirect_the_new_target_has_its_own_rseq_sequence() {
    let mut net = two_phones([ReliableProvisional::Supported, ReliableProvisional::Off]);
    net.command(0, Command::Dial { to: BOB });
    let invite = String::from(sent(&net, 0, "INVITE")[0]);
    net.wire.clear();
    let response = |invite: &str, status: &str, tag: &str, extra: &str| {
        std::format!(
            "SIP/2.0 {status}\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag={tag}\r\n\
             Call-ID: {}\r\nCSeq: {}\r\n{extra}Content-Length: 0\r\n\r\n",
            header(invite, "Via").unwrap(),
            header(invite, "From").unwrap(),
            header(invite, "To").unwrap(),
            header(invite, "Call-ID").unwrap(),
            header(invite, "CSeq").unwrap(),
        )
    };
    let reliable = |rseq: u32| {
        std::format!("Contact: <sip:bob@10.0.0.2:5060>\r\nRequire: 100rel\r\nRSeq: {rseq}\r\n")
    };
    inject(
        &mut net,
        0,
        &response(&invite, "180 Ringing", "b1", &reliable(500)),
    );
    inject(
        &mut net,
        0,
        &response(
            &invite,
            "302 Moved Temporarily",
            "b1",
            "Contact: <sip:carol@10.0.0.3:5060>\r\n",
        ),
    );
    let again = String::from(*sent(&net, 0, "INVITE").last().unwrap());
    assert!(again.starts_with("INVITE sip:carol@10.0.0.3:5060 "));
    assert!(again.contains("\r\nSupported: 100rel\r\n"));
    net.wire.clear();
    inject(
        &mut net,
        0,
        &response(&again, "180 Ringing", "c1", &reliable(10)),
    );
    let racks: Vec<&str> = sent(&net, 0, "PRACK")
        .iter()
        .map(|p| header(p, "RAck").unwrap())
        .collect();
    assert_eq!(racks, ["500 1 INVITE", "10 2 INVITE"]);
}

#[test]
fn an_update_in_the_early_dialog_changes_the_session_before_the_answer() {
    let mut net = two_phones([ReliableProvisional::Supported; 2]);
    dial(&mut net);
    let a = outgoing(&net);
    net.command(0, Command::Update(a));
    settle(&mut net);
    let update = String::from(sent(&net, 0, "UPDATE")[0]);
    let update = update.as_str();
    assert_eq!(header(update, "Content-Type"), Some("application/sdp"));
    assert_eq!(header(update, "CSeq"), Some("3 UPDATE"));
    let ok = net
        .transmitted
        .iter()
        .find(|d| d.from == addr(1) && is_status(&d.text, 200, "UPDATE"))
        .map(|d| d.text.clone())
        .unwrap();
    assert!(
        body(&ok).starts_with("v=0"),
        "the answer to the UPDATE's offer"
    );
    assert!(header(&ok, "Contact").is_some());
    assert!(!net.saw(0, |e| matches!(e, Event::CommandFailed(_))));
    let b = incoming(&net);
    net.command(1, Command::Answer(b));
    settle(&mut net);
    assert!(net.saw(0, |e| matches!(e, Event::Answered(_))));
    assert_eq!(net.phones[0].call_state(a), Some(CallState::Confirmed));
    // Nothing changed in the offer: it keeps the version (RFC 3264 §8).
    let versions: Vec<&str> = [sent(&net, 0, "INVITE")[0], update]
        .iter()
        .map(|m| body(m).split("\r\n").find(|l| l.starts_with("o=")).unwrap())
        .collect();
    assert_eq!(versions[0], versions[1]);
}

#[test]
fn an_update_before_the_offer_is_answered_is_refused() {
    let mut net = two_phones([ReliableProvisional::Off; 2]);
    dial(&mut net);
    let a = outgoing(&net);
    net.command(0, Command::Update(a));
    assert!(net.saw(0, |e| matches!(
        e,
        Event::CommandFailed(CommandError::WrongState)
    )));
    // An UPDATE with an offer from A, hand-made in the early dialog: B has
    // not sent its answer yet (it goes in the 200), so 500 + Retry-After.
    let invite = String::from(sent(&net, 0, "INVITE")[0]);
    let ringing = String::from(sent(&net, 1, "SIP/2.0 180")[0]);
    let update = invite
        .replacen("INVITE sip:", "UPDATE sip:", 1)
        .replace("CSeq: 1 INVITE", "CSeq: 2 UPDATE");
    let update = with_header(&update, "To", header(&ringing, "To").unwrap());
    let update = with_header(
        &update,
        "Via",
        "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKupd1",
    );
    inject(&mut net, 1, &update);
    let last = &net.transmitted.last().unwrap().text;
    assert!(is_status(last, 500, "UPDATE"), "{last}");
    assert_eq!(header(last, "Retry-After"), Some("1"));
}

#[test]
fn crossing_updates_with_offers_get_491_and_are_retried() {
    let mut net = two_phones([ReliableProvisional::Off; 2]);
    dial(&mut net);
    let b = incoming(&net);
    net.command(1, Command::Answer(b));
    settle(&mut net);
    let a = outgoing(&net);
    net.command(0, Command::Update(a));
    net.command(1, Command::Update(b));
    settle(&mut net);
    assert_eq!(
        net.transmitted
            .iter()
            .filter(|d| is_status(&d.text, 491, "UPDATE"))
            .count(),
        2
    );
    // RFC 3261 §14.1: B (not the Call-ID's owner) retries within 2 s,
    // A after 2.1 s.
    net.run(Duration::from_secs(5));
    assert_eq!(sent(&net, 0, "UPDATE").len(), 2);
    assert_eq!(sent(&net, 1, "UPDATE").len(), 2);
    assert_eq!(
        net.transmitted
            .iter()
            .filter(|d| is_status(&d.text, 200, "UPDATE"))
            .count(),
        2
    );
    assert_eq!(net.phones[0].call_state(a), Some(CallState::Confirmed));
    assert_eq!(net.phones[1].call_state(b), Some(CallState::Confirmed));
    assert!(!net.phones[0]
        .calls
        .iter()
        .flatten()
        .any(|c| c.media.offer_pending()));
}

#[test]
fn an_update_without_sdp_is_a_refresh_answered_200_without_body() {
    let mut net = two_phones([ReliableProvisional::Off; 2]);
    dial(&mut net);
    let b = incoming(&net);
    net.command(1, Command::Answer(b));
    settle(&mut net);
    let slot = usize::from(b.slot);
    assert!(net.phones[1]
        .send_update(slot, false, &[("Session-Expires", "1800;refresher=uas")])
        .is_some());
    net.drain(1);
    settle(&mut net);
    let update = sent(&net, 1, "UPDATE")[0];
    assert!(body(update).is_empty());
    assert_eq!(
        header(update, "Session-Expires"),
        Some("1800;refresher=uas")
    );
    let ok = net
        .transmitted
        .iter()
        .find(|d| d.from == addr(0) && is_status(&d.text, 200, "UPDATE"))
        .map(|d| d.text.clone())
        .unwrap();
    assert!(body(&ok).is_empty());
    assert!(header(&ok, "Contact").is_some());
    assert!(net.phones[1]
        .calls
        .iter()
        .flatten()
        .all(|c| c.update.own.is_none()));
}

#[test]
fn an_unknown_required_extension_gets_420_and_100rel_does_not() {
    let mut net = two_phones([ReliableProvisional::Off; 2]);
    net.command(0, Command::Dial { to: BOB });
    let invite = String::from(sent(&net, 0, "INVITE")[0]);
    net.wire.clear();
    inject(
        &mut net,
        1,
        &add_header(&invite, "Require: 100rel, foo, bar"),
    );
    let last = net.transmitted.last().unwrap().text.clone();
    assert!(is_status(&last, 420, "INVITE"), "{last}");
    assert_eq!(header(&last, "Unsupported"), Some("foo, bar"));
    assert!(net.events[1].is_empty(), "the phone never rang");
    // A retransmission meets the same 420 from its transaction.
    inject(
        &mut net,
        1,
        &add_header(&invite, "Require: 100rel, foo, bar"),
    );
    assert_eq!(net.transmitted.last().unwrap().text, last);
    // A tag too long to repeat is refused all the same.
    let long = "x".repeat(200);
    let other = with_header(&invite, "Call-ID", "long1");
    let other = with_header(
        &other,
        "Via",
        "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKlong",
    );
    inject(
        &mut net,
        1,
        &add_header(&other, &std::format!("Require: {long}")),
    );
    assert!(is_status(
        &net.transmitted.last().unwrap().text,
        420,
        "INVITE"
    ));
    // An OPTIONS requiring it too.
    let options = invite
        .replacen("INVITE sip:", "OPTIONS sip:", 1)
        .replace("CSeq: 1 INVITE", "CSeq: 1 OPTIONS");
    let options = with_header(
        &options,
        "Via",
        "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKopt1",
    );
    let options = with_header(&options, "Call-ID", "opt1");
    inject(&mut net, 1, &add_header(&options, "Require: foo"));
    assert!(is_status(
        &net.transmitted.last().unwrap().text,
        420,
        "OPTIONS"
    ));
    // Replaces and 100rel are known.
    let fresh = with_header(
        &invite,
        "Via",
        "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKinv2",
    );
    let fresh = with_header(&fresh, "Call-ID", "known1");
    inject(
        &mut net,
        1,
        &add_header(&fresh, "Require: 100rel, replaces"),
    );
    let last = &net.transmitted.last().unwrap().text;
    assert!(last.starts_with("SIP/2.0 180"), "{last}");
    assert_eq!(header(last, "Require"), Some("100rel"));
}

#[test]
fn requiring_100rel_refuses_a_caller_without_it_with_421() {
    let mut net = two_phones([ReliableProvisional::Off, ReliableProvisional::Required]);
    net.command(0, Command::Dial { to: BOB });
    settle(&mut net);
    let refusal = sent(&net, 1, "SIP/2.0 421")[0];
    assert_eq!(header(refusal, "Require"), Some("100rel"));
    assert!(net.saw(0, |e| matches!(
        e,
        Event::Ended {
            reason: EndReason::Failed(421),
            ..
        }
    )));
}
