//! DTMF by INFO between two phones wired to each other directly.

extern crate std;

use std::format;
use std::string::String;
use std::vec::Vec;

use super::*;
use crate::phone::test_support::{self, addr, Datagram};
use crate::phone::{Command, Config, Input, Output, Policy};

type Net = test_support::Net<2, 8>;

const BOB: &str = "sip:bob@10.0.0.2:5060";

/// Alice (0) and Bob (1) with the default policy.
fn two_phones() -> Net {
    let phone = |i: usize, user: &str| {
        Phone::new(
            Config::new(user, "example.com", addr(i)).unwrap(),
            40 + i as u64,
        )
    };
    Net::new(std::vec![phone(0, "alice"), phone(1, "bob")])
}

fn set_mode(net: &mut Net, i: usize, mode: DtmfMode) {
    let policy = Policy {
        dtmf_mode: mode,
        ..Policy::default()
    };
    net.command(i, Command::SetPolicy(&policy));
}

/// The digits phone `i` reported received, in order.
fn received(net: &Net, i: usize) -> String {
    net.events[i]
        .iter()
        .filter_map(|e| match *e {
            Event::DtmfReceived { digit, .. } => Some(digit),
            _ => None,
        })
        .collect()
}

/// The INFO requests delivered, as text.
fn infos(net: &Net) -> Vec<&String> {
    net.log
        .iter()
        .map(|d| &d.text)
        .filter(|m| m.starts_with("INFO "))
        .collect()
}

fn dtmf(call: CallHandle, digit: char) -> Command<'static> {
    Command::SendDtmf {
        call,
        digit,
        duration: Duration::from_millis(160),
    }
}

#[test]
fn info_digits_arrive_in_order_one_at_a_time() {
    let mut net = two_phones();
    let (a, b) = net.call(0, 1, BOB);
    set_mode(&mut net, 0, DtmfMode::SipInfo);
    for d in ['1', '#', '9'] {
        net.command(0, dtmf(a, d));
    }
    // Only the first INFO leaves before its answer.
    let on_wire = net
        .wire
        .iter()
        .filter(|w| w.data.starts_with(b"INFO "))
        .count();
    assert_eq!(on_wire, 1);
    net.run(Duration::from_secs(1));
    assert_eq!(received(&net, 1), "1#9");
    let hash = Event::DtmfReceived {
        call: b,
        digit: '#',
    };
    assert!(net.events[1].contains(&hash));
    let infos = infos(&net);
    assert_eq!(infos.len(), 3);
    assert!(infos[1].contains("Content-Type: application/dtmf-relay\r\n"));
    assert!(infos[1].ends_with("\r\n\r\nSignal=#\r\nDuration=160\r\n"));
    // CSeq numbers rise within the dialog.
    let cseq = |m: &str| {
        m.lines()
            .find_map(|l| l.strip_prefix("CSeq: "))
            .and_then(|v| v.split(' ').next())
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap()
    };
    assert!(cseq(infos[0]) < cseq(infos[1]) && cseq(infos[1]) < cseq(infos[2]));
}

#[test]
fn a_lost_info_is_retransmitted_and_reported_once() {
    let mut net = two_phones();
    let (a, _) = net.call(0, 1, BOB);
    set_mode(&mut net, 0, DtmfMode::SipInfo);
    net.command(0, dtmf(a, '5'));
    net.command(0, dtmf(a, '6'));
    // Lose the first INFO once and the first 200 to it once.
    let (mut info_lost, mut ok_lost) = (false, false);
    net.run_dropping(Duration::from_secs(10), |d: &Datagram| {
        if d.data.starts_with(b"INFO ") && !info_lost {
            info_lost = true;
            return true;
        }
        if d.data.starts_with(b"SIP/2.0 200")
            && d.data.windows(6).any(|w| w == b" INFO\r")
            && !ok_lost
        {
            ok_lost = true;
            return true;
        }
        false
    });
    assert!(info_lost && ok_lost);
    assert_eq!(received(&net, 1), "56");
}

#[test]
fn rfc4733_mode_sends_no_info_and_both_sends_one() {
    let mut net = two_phones();
    let (a, _) = net.call(0, 1, BOB);
    net.command(0, dtmf(a, '3'));
    net.run(Duration::from_secs(1));
    assert!(infos(&net).is_empty());
    assert!(received(&net, 1).is_empty());
    assert!(!net.events[0]
        .iter()
        .any(|e| matches!(e, Event::CommandFailed(_))));

    set_mode(&mut net, 0, DtmfMode::Both);
    net.command(0, dtmf(a, '4'));
    net.run(Duration::from_secs(1));
    assert_eq!(infos(&net).len(), 1);
    assert_eq!(received(&net, 1), "4");
}

#[test]
fn bad_digits_and_calls_are_refused() {
    let mut net = two_phones();
    let (a, _) = net.call(0, 1, BOB);
    set_mode(&mut net, 0, DtmfMode::SipInfo);
    net.command(0, dtmf(a, 'x'));
    net.command(
        0,
        Command::SendDtmf {
            call: a,
            digit: '1',
            duration: Duration::ZERO,
        },
    );
    let stale = CallHandle {
        slot: a.slot,
        generation: a.generation.wrapping_add(1),
    };
    net.command(0, dtmf(stale, '1'));
    let failures: Vec<_> = net.events[0]
        .iter()
        .filter_map(|e| match *e {
            Event::CommandFailed(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(
        failures,
        [
            CommandError::InvalidDtmf,
            CommandError::InvalidDtmf,
            CommandError::UnknownCall
        ]
    );
    assert!(net.wire.is_empty());
}

/// Sends B an INFO in A's dialog numbered `seq`, with `extra` headers
/// and `body`, and returns B's answer. The headers are those of an INFO A
/// really sent.
fn foreign_info(net: &mut Net, seq: u32, extra: &str, body: &str) -> String {
    if infos(net).is_empty() {
        set_mode(net, 0, DtmfMode::SipInfo);
        let a = net.phones[0].live_calls().next().unwrap();
        net.command(0, dtmf(a, '0'));
        net.run(Duration::from_secs(1));
        net.events[1].clear();
    }
    let sent = infos(net)[0].clone();
    let head: String = sent
        .split("\r\n")
        .take_while(|l| !l.is_empty())
        .filter(|l| !l.starts_with("Content-"))
        .map(|l| {
            if l.starts_with("CSeq: ") {
                format!("CSeq: {} INFO\r\n", 1000 + seq)
            } else if l.starts_with("Via: ") {
                format!(
                    "{}\r\n",
                    l.replace("branch=z9hG4bK", &format!("branch=z9hG4bKf{seq}"))
                )
            } else {
                format!("{l}\r\n")
            }
        })
        .collect();
    let out = format!("{head}{extra}Content-Length: {}\r\n\r\n{body}", body.len());
    net.phones[1]
        .handle_input(
            net.now,
            Input::Datagram {
                from: addr(0),
                to: addr(1),
                data: out.as_bytes(),
            },
        )
        .unwrap();
    let mut answer = String::new();
    while let Some(o) = net.phones[1].poll_output() {
        match o {
            Output::Transmit { data, .. } => answer = String::from_utf8_lossy(data).into_owned(),
            Output::Event(e) => net.events[1].push(e),
            Output::Media { .. } => {}
        }
    }
    answer
}

#[test]
fn received_info_is_answered_by_its_body() {
    let mut net = two_phones();
    let (_, b) = net.call(0, 1, BOB);
    let ok = foreign_info(&mut net, 1, "Content-Type: application/dtmf\r\n", "7");
    assert!(ok.starts_with("SIP/2.0 200 OK\r\n"), "{ok}");
    assert_eq!(
        net.events[1].last(),
        Some(&Event::DtmfReceived {
            call: b,
            digit: '7'
        })
    );
    let star = foreign_info(
        &mut net,
        2,
        "Content-Type: Application/DTMF-Relay\r\n",
        "Signal= 10\r\nDuration= 250\r\n",
    );
    assert!(star.starts_with("SIP/2.0 200 OK\r\n"));
    assert_eq!(received(&net, 1), "7*");

    let keepalive = foreign_info(&mut net, 3, "", "");
    assert!(keepalive.starts_with("SIP/2.0 200 OK\r\n"));
    let unknown = foreign_info(&mut net, 4, "Content-Type: text/plain\r\n", "hi");
    assert!(unknown.starts_with("SIP/2.0 415 Unsupported Media Type\r\n"));
    assert!(unknown.contains("Accept: application/dtmf-relay, application/dtmf\r\n"));
    let package = foreign_info(
        &mut net,
        5,
        "Info-Package: foo\r\nContent-Type: application/foo\r\n",
        "x",
    );
    assert!(package.starts_with("SIP/2.0 469 Bad Info Package\r\n"));
    assert!(package.contains("Recv-Info: \r\n"));
    let broken = foreign_info(
        &mut net,
        6,
        "Content-Type: application/dtmf-relay\r\n",
        "Signal=Z\r\n",
    );
    assert!(broken.starts_with("SIP/2.0 400 "));
    assert_eq!(received(&net, 1), "7*");
}

#[test]
fn dtmf_bodies_parse_and_write() {
    let relay = parse_dtmf_info(DTMF_RELAY_TYPE, b"Signal=5\r\nDuration=160\r\n").unwrap();
    assert_eq!(relay.digit, '5');
    assert_eq!(relay.duration, Some(Duration::from_millis(160)));
    assert_eq!(parse_dtmf_info(DTMF_TYPE, b"#\r\n").unwrap().digit, '#');
    assert_eq!(parse_dtmf_info(DTMF_TYPE, b"d").unwrap().digit, 'D');
    assert_eq!(parse_dtmf_info(DTMF_TYPE, b"15").unwrap().digit, 'D');
    assert_eq!(
        parse_dtmf_info(DTMF_RELAY_TYPE, b"Duration=160\r\n"),
        Err(InfoBodyError::NoSignal)
    );
    assert_eq!(
        parse_dtmf_info(DTMF_RELAY_TYPE, b"Signal=16\r\n"),
        Err(InfoBodyError::BadSignal)
    );
    assert_eq!(
        parse_dtmf_info("text/plain", b"5"),
        Err(InfoBodyError::UnknownType)
    );
    assert_eq!(
        parse_dtmf_info(DTMF_TYPE, &[0xff]),
        Err(InfoBodyError::BadSignal)
    );
    let mut out: Text<48> = Text::new();
    write_dtmf_relay('*', Duration::from_millis(100), &mut out).unwrap();
    assert_eq!(out.as_str(), "Signal=*\r\nDuration=100\r\n");
    let mut long: Text<48> = Text::new();
    write_dtmf_relay('1', Duration::from_secs(3600), &mut long).unwrap();
    assert_eq!(long.as_str(), "Signal=1\r\nDuration=10000\r\n");
}
