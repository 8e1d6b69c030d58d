//! The phone built without its optional usages (cargo features off): it
//! behaves as a phone that never had them. Run with
//! `cargo test -p handset-core --no-default-features`.

// Which helpers a build uses depends on which features it leaves out.
#![allow(dead_code, unused_imports)]

extern crate std;

use std::string::String;
use std::vec::Vec;

use super::test_support::{self, addr, header};
use super::{Command, CommandError, Config, Event, Phone, Policy};
use crate::time::Duration;

type Net = test_support::Net<2, 16>;

const BOB: &str = "sip:bob@10.0.0.2:5060";

/// Alice (0) and Bob (1), both with `policy`.
fn two_phones(policy: &Policy) -> Net {
    let phone = |i: usize, user: &str| {
        Phone::new(
            Config::new(user, "example.com", addr(i)).unwrap(),
            90 + i as u64,
        )
    };
    let mut net = Net::new(std::vec![phone(0, "alice"), phone(1, "bob")]);
    for i in 0..2 {
        net.command(i, Command::SetPolicy(policy));
    }
    net
}

/// The text of every datagram phone `i` sent whose first line starts with
/// `start`.
fn sent(net: &Net, i: usize, start: &str) -> Vec<String> {
    net.transmitted
        .iter()
        .filter(|d| d.from == addr(i) && d.text.starts_with(start))
        .map(|d| d.text.clone())
        .collect()
}

/// `m` with an extra header line after the first line.
fn add_header(m: &str, line: &str) -> String {
    let (first, rest) = m.split_once("\r\n").unwrap();
    std::format!("{first}\r\n{line}\r\n{rest}")
}

/// A request of `method` inside the call's dialog from Alice to Bob: the
/// re-INVITE Alice sends for hold, renamed.
fn in_dialog_request(net: &mut Net, method: &str) -> String {
    net.call(0, 1, BOB);
    let out = net.last_call(0);
    net.command(0, Command::Hold(out));
    let reinvite = sent(net, 0, "INVITE").last().unwrap().clone();
    net.wire.clear();
    let (head, _) = reinvite.split_once("\r\n\r\n").unwrap();
    let head = head.replacen("INVITE sip:", &std::format!("{method} sip:"), 1);
    let cseq = header(&head, "CSeq").unwrap();
    let head = head.replace(
        &std::format!("CSeq: {cseq}"),
        &std::format!("CSeq: {}", cseq.replace("INVITE", method)),
    );
    let head: String = head
        .lines()
        .filter(|l| !l.starts_with("Content-"))
        .map(|l| std::format!("{l}\r\n"))
        .collect();
    std::format!("{head}Content-Length: 0\r\n\r\n")
}

/// The last response Bob sent.
fn bobs_answer(net: &Net) -> String {
    sent(net, 1, "SIP/2.0").last().unwrap().clone()
}

#[test]
#[cfg(not(feature = "prack"))]
fn without_prack_100rel_is_neither_offered_nor_accepted() {
    use crate::call::reliable::ReliableProvisional;
    let policy = Policy {
        reliable_provisional: ReliableProvisional::Required,
        ..Policy::default()
    };
    let mut net = two_phones(&policy);
    net.command(0, Command::Dial { to: BOB });
    let invite = sent(&net, 0, "INVITE").pop().unwrap();
    assert_eq!(header(&invite, "Require"), None, "{invite}");
    assert!(!header(&invite, "Allow").unwrap().contains("PRACK"));
    net.wire.clear();
    // RFC 3261 §8.2.2.3: an extension the phone lacks, required, is refused.
    net.inject(
        addr(0),
        1,
        add_header(&invite, "Require: 100rel").as_bytes(),
    );
    let answer = bobs_answer(&net);
    assert!(answer.starts_with("SIP/2.0 420 "), "{answer}");
    assert_eq!(header(&answer, "Unsupported"), Some("100rel"));
    // Merely supported, it rings as usual: no 421 for the Required
    // setting, no reliable 180.
    let supported = add_header(&invite, "Supported: 100rel")
        .replace("z9hG4bK", "z9hG4bKs")
        .replace("Call-ID: ", "Call-ID: s");
    net.inject(addr(0), 1, supported.as_bytes());
    let ringing = bobs_answer(&net);
    assert!(ringing.starts_with("SIP/2.0 180 "), "{ringing}");
    assert_eq!(header(&ringing, "RSeq"), None);
}

#[test]
#[cfg(not(feature = "prack"))]
fn without_prack_update_is_not_implemented() {
    let mut net = two_phones(&Policy::default());
    let update = in_dialog_request(&mut net, "UPDATE");
    net.inject(addr(0), 1, update.as_bytes());
    let answer = bobs_answer(&net);
    assert!(answer.starts_with("SIP/2.0 501 "), "{answer}");
    let allow = header(&answer, "Allow").unwrap();
    assert!(
        !allow.contains("UPDATE") && !allow.contains("PRACK"),
        "{allow}"
    );
    let inc = net.last_call(1);
    net.command(1, Command::Update(inc));
    assert!(net.saw(1, |e| *e == Event::CommandFailed(CommandError::Unsupported)));
}

#[test]
#[cfg(not(feature = "info-dtmf"))]
fn without_info_dtmf_info_is_not_implemented_and_digits_go_in_rtp() {
    use crate::phone::DtmfMode;
    let policy = Policy {
        dtmf_mode: DtmfMode::SipInfo,
        ..Policy::default()
    };
    let mut net = two_phones(&policy);
    let info = in_dialog_request(&mut net, "INFO");
    net.inject(addr(0), 1, info.as_bytes());
    let answer = bobs_answer(&net);
    assert!(answer.starts_with("SIP/2.0 501 "), "{answer}");
    assert!(!header(&answer, "Allow").unwrap().contains("INFO"));
    let inc = net.last_call(1);
    net.command(1, Command::Resume(inc));
    net.run(Duration::from_millis(100));
    let digit = Command::SendDtmf {
        call: net.last_call(0),
        digit: '5',
        duration: Duration::from_millis(100),
    };
    net.command(0, digit);
    net.run(Duration::from_millis(100));
    assert!(sent(&net, 0, "INFO").is_empty());
}

#[test]
#[cfg(not(feature = "mwi"))]
fn without_mwi_the_mailbox_subscription_is_refused() {
    let mut net = two_phones(&Policy::default());
    net.command(0, Command::SubscribeMwi { mailbox: None });
    net.run(Duration::from_secs(1));
    assert!(net.saw(0, |e| *e == Event::CommandFailed(CommandError::Unsupported)));
    assert!(sent(&net, 0, "SUBSCRIBE").is_empty());
}

#[test]
#[cfg(not(feature = "session-timer"))]
fn without_session_timers_the_setting_changes_nothing_on_the_wire() {
    use crate::phone::SessionTimerSettings;
    let policy = Policy {
        session_timer: SessionTimerSettings {
            enabled: true,
            ..SessionTimerSettings::default()
        },
        ..Policy::default()
    };
    let mut net = two_phones(&policy);
    net.command(0, Command::Dial { to: BOB });
    let invite = sent(&net, 0, "INVITE").pop().unwrap();
    assert_eq!(header(&invite, "Session-Expires"), None, "{invite}");
    assert!(!header(&invite, "Supported").unwrap().contains("timer"));
    net.wire.clear();
    net.inject(addr(0), 1, add_header(&invite, "Require: timer").as_bytes());
    let answer = bobs_answer(&net);
    assert!(answer.starts_with("SIP/2.0 420 "), "{answer}");
    assert_eq!(header(&answer, "Unsupported"), Some("timer"));
}

#[test]
#[cfg(not(feature = "redirect"))]
fn without_redirect_a_3xx_ends_the_call() {
    use crate::message::Message;
    use crate::phone::EndReason;
    use crate::ua;
    let mut net = two_phones(&Policy::default());
    net.command(0, Command::Dial { to: BOB });
    let call = net.last_call(0);
    let invite = sent(&net, 0, "INVITE").pop().unwrap();
    net.wire.clear();
    let invite = Message::parse_datagram(invite.as_bytes()).unwrap();
    let mut buf = [0u8; 1300];
    let contact = [("Contact", "<sip:carol@10.0.0.3:5060>")];
    let n = ua::write_simple_response(&mut buf, &invite, 302, Some("r1"), &contact).unwrap();
    net.inject(addr(1), 0, &buf[..n]);
    let ended = Event::Ended {
        call,
        reason: EndReason::Failed(302),
    };
    assert!(net.saw(0, |e| *e == ended), "{:?}", net.events[0]);
    assert!(!net.saw(0, |e| matches!(e, Event::Redirected(_))));
    assert_eq!(sent(&net, 0, "INVITE").len(), 1);
    assert_eq!(sent(&net, 0, "ACK").len(), 1);
}

/// Phone 0 registers at a registrar that challenges with
/// `www_authenticate`; what it sends and reports after the 401.
#[cfg(not(feature = "sha256"))]
fn register_against(www_authenticate: &str) -> (Vec<String>, Vec<Event>) {
    use crate::phone::{Input, Output};
    use crate::time::Instant;
    let registrar = addr(5);
    let mut config = Config::new("alice", "example.com", addr(0)).unwrap();
    config.registrar = Some(registrar);
    config.register.auth_user = crate::ua::text("alice").unwrap();
    config.register.password = crate::ua::text("secret").unwrap();
    let mut phone: Phone<2, 16> = Phone::new(config, 7);
    let mut sent = Vec::new();
    let mut events = Vec::new();
    let mut drain = |phone: &mut Phone<2, 16>, sent: &mut Vec<String>| {
        while let Some(out) = phone.poll_output() {
            match out {
                Output::Transmit { data, .. } => {
                    sent.push(String::from_utf8_lossy(data).into_owned())
                }
                Output::Event(e) => events.push(e),
                Output::Media { .. } => {}
            }
        }
    };
    phone
        .handle_input(Instant::ZERO, Input::Command(Command::Register))
        .unwrap();
    drain(&mut phone, &mut sent);
    let register = sent.first().unwrap().clone();
    let copy = |name: &str| header(&register, name).unwrap();
    let challenge = std::format!(
        "SIP/2.0 401 Unauthorized\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=r\r\nCall-ID: {}\r\n\
         CSeq: {}\r\nWWW-Authenticate: {www_authenticate}\r\nContent-Length: 0\r\n\r\n",
        copy("Via"),
        copy("From"),
        copy("To"),
        copy("Call-ID"),
        copy("CSeq"),
    );
    let datagram = Input::Datagram {
        from: registrar,
        to: addr(0),
        data: challenge.as_bytes(),
    };
    phone.handle_input(Instant::ZERO, datagram).unwrap();
    drain(&mut phone, &mut sent);
    (sent, events)
}

#[test]
#[cfg(not(feature = "sha256"))]
fn without_sha256_a_sha256_challenge_fails_as_an_unknown_algorithm() {
    let failed = std::vec![Event::RegistrationFailed {
        code: 401,
        server: 0
    }];
    let unknown =
        register_against("Digest realm=\"example.com\", nonce=\"n1\", algorithm=SHA-512-256");
    assert_eq!(unknown.0.len(), 1, "{:?}", unknown.0);
    assert_eq!(unknown.1, failed);
    // RFC 8760 §2.4: a challenge of an algorithm the phone does not
    // compute is not answered; without the feature SHA-256 is one.
    for alg in ["SHA-256", "SHA-256-sess"] {
        let sha = register_against(&std::format!(
            "Digest realm=\"example.com\", nonce=\"n1\", qop=\"auth\", algorithm={alg}"
        ));
        assert_eq!(sha, unknown, "{alg}");
    }
    // MD5 is still answered.
    let (sent, events) =
        register_against("Digest realm=\"example.com\", nonce=\"n1\", qop=\"auth\", algorithm=MD5");
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(header(&sent[1], "Authorization")
        .unwrap()
        .contains("algorithm=MD5"));
    assert!(events.is_empty(), "{events:?}");
}

#[test]
#[cfg(not(feature = "policy"))]
fn without_policy_every_call_rings_and_a_call_while_busy_gets_486() {
    let carol = crate::ua::text("sip:carol@example.com");
    let policy = Policy {
        dnd: Some(480),
        reject_anonymous: Some(433),
        forward_always: carol.clone(),
        forward_busy: carol.clone(),
        forward_no_answer: carol,
        forward_no_answer_after: Duration::from_secs(1),
        auto_answer: Some(Duration::ZERO),
        call_waiting: false,
        ..Policy::default()
    };
    let mut net = two_phones(&policy);
    net.command(0, Command::Dial { to: BOB });
    net.run(Duration::from_secs(5));
    // Neither refused nor forwarded nor answered by itself: it rings.
    let answers = sent(&net, 1, "SIP/2.0");
    assert!(
        answers.iter().any(|a| a.starts_with("SIP/2.0 180 ")),
        "{answers:?}"
    );
    assert!(
        answers.iter().all(|a| !a.starts_with("SIP/2.0 302 ")
            && !a.starts_with("SIP/2.0 480 ")
            && !a.starts_with("SIP/2.0 200 ")),
        "{answers:?}"
    );
    // Call waiting off: a second call while one is live is refused 486,
    // not forwarded to the busy target.
    net.wire.clear();
    net.command(0, Command::Dial { to: BOB });
    net.run(Duration::from_millis(100));
    let busy = bobs_answer(&net);
    assert!(busy.starts_with("SIP/2.0 486 "), "{busy}");
}

#[test]
#[cfg(not(feature = "conference"))]
fn without_conference_the_commands_are_unsupported() {
    let mut net = two_phones(&Policy::default());
    net.call(0, 1, BOB);
    let first = net.last_call(0);
    net.call(0, 1, BOB);
    let second = net.last_call(0);
    assert_ne!(first, second);
    net.wire.clear();
    net.command(0, Command::Conference(first, second));
    assert!(net.saw(0, |e| *e == Event::CommandFailed(CommandError::Unsupported)));
    assert!(!net.saw(0, |e| matches!(e, Event::ConferenceStarted { .. })));
    net.command(0, Command::SplitConference);
    assert!(net.wire.is_empty());
}
