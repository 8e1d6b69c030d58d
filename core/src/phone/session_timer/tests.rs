//! Session timers between two phones wired to each other directly (no
//! proxy): requests go by the Request-URI's IP host.

extern crate std;

use std::collections::VecDeque;
use std::string::String;
use std::vec::Vec;

use core::net::SocketAddr;

use crate::call::session_timer::RefreshMethod;
use crate::message::Refresher;
use crate::phone::{
    CallHandle, Command, Config, EndReason, Event, Input, Output, Phone, SessionTimerSettings,
};
use crate::time::{Duration, Instant};

type P = Phone<4, 16>;

const A: usize = 0;
const B: usize = 1;
const BOB: &str = "sip:bob@10.0.0.2:5060";

fn addr(i: usize) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 1 + i as u8], 5060))
}

struct Datagram {
    at: Instant,
    from: SocketAddr,
    text: String,
}

impl Datagram {
    fn first_line(&self) -> &str {
        self.text.lines().next().unwrap_or("")
    }
}

struct Net {
    phones: Vec<P>,
    events: Vec<Vec<Event>>,
    wire: VecDeque<(SocketAddr, SocketAddr, Vec<u8>)>,
    log: Vec<Datagram>,
    now: Instant,
    /// When B answered the last call.
    answered: Instant,
}

fn timer(session_expires: u32, min_se: u32, refresher: Option<Refresher>) -> SessionTimerSettings {
    SessionTimerSettings {
        enabled: true,
        session_expires,
        min_se,
        refresher,
        ..SessionTimerSettings::default()
    }
}

impl Net {
    fn new(a: Option<SessionTimerSettings>, b: Option<SessionTimerSettings>) -> Net {
        let users = ["alice", "bob"];
        let phones = [a, b]
            .iter()
            .enumerate()
            .map(|(i, st)| {
                let config = Config::new(users[i], "example.com", addr(i)).unwrap();
                let mut p = P::new(config, 40 + i as u64);
                if let Some(st) = st {
                    p.policy_mut().session_timer = *st;
                }
                p
            })
            .collect();
        Net {
            phones,
            events: std::vec![Vec::new(), Vec::new()],
            wire: VecDeque::new(),
            log: Vec::new(),
            now: Instant::ZERO,
            answered: Instant::ZERO,
        }
    }

    fn drain(&mut self, i: usize) {
        while let Some(o) = self.phones[i].poll_output() {
            match o {
                Output::Transmit { from, to, data } => {
                    self.wire.push_back((from, to, data.to_vec()))
                }
                Output::Event(e) => self.events[i].push(e),
                Output::Media { .. } => {}
            }
        }
    }

    fn command(&mut self, i: usize, c: Command<'_>) {
        self.phones[i]
            .handle_input(self.now, Input::Command(c))
            .unwrap();
        self.drain(i);
    }

    fn deliver(&mut self, drop: &dyn Fn(&Datagram) -> bool) {
        while let Some((from, to, data)) = self.wire.pop_front() {
            let d = Datagram {
                at: self.now,
                from,
                text: String::from_utf8_lossy(&data).into_owned(),
            };
            if drop(&d) {
                continue;
            }
            let Some(i) = (0..2).find(|&i| addr(i) == to) else {
                continue;
            };
            let _ = self.phones[i].handle_input(
                self.now,
                Input::Datagram {
                    from,
                    to,
                    data: &data,
                },
            );
            self.drain(i);
            self.log.push(d);
        }
    }

    fn run_dropping(&mut self, d: Duration, drop: &dyn Fn(&Datagram) -> bool) {
        let end = self.now + d;
        loop {
            self.deliver(drop);
            let next = self.phones.iter().filter_map(|p| p.poll_timeout()).min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    for i in 0..2 {
                        if self.phones[i].poll_timeout().is_some_and(|t| t <= self.now) {
                            self.phones[i].handle_input(self.now, Input::Tick).unwrap();
                            self.drain(i);
                        }
                    }
                }
                _ => {
                    self.now = end;
                    self.deliver(drop);
                    return;
                }
            }
        }
    }

    fn run(&mut self, d: Duration) {
        self.run_dropping(d, &|_| false);
    }

    fn last_call(&self, i: usize) -> CallHandle {
        self.events[i]
            .iter()
            .rev()
            .find_map(|e| match *e {
                Event::IncomingCall(h) | Event::Calling(h) => Some(h),
                _ => None,
            })
            .unwrap()
    }

    /// A calls B, B answers; both handles.
    fn call(&mut self) -> (CallHandle, CallHandle) {
        self.command(A, Command::Dial { to: BOB });
        let out = self.last_call(A);
        self.run(Duration::from_millis(10));
        let inc = self.last_call(B);
        self.command(B, Command::Answer(inc));
        self.answered = self.now;
        self.run(Duration::from_millis(10));
        assert!(self.events[A].contains(&Event::Answered(out)));
        assert!(self.events[B].contains(&Event::Answered(inc)));
        (out, inc)
    }

    /// Delivered messages from phone `from` whose first line starts with
    /// `start`.
    fn sent(&self, from: usize, start: &str) -> Vec<&Datagram> {
        self.log
            .iter()
            .filter(|d| d.from == addr(from) && d.first_line().starts_with(start))
            .collect()
    }

    /// Re-INVITEs (INVITEs with a To tag) phone `from` sent.
    fn reinvites(&self, from: usize) -> Vec<&Datagram> {
        self.sent(from, "INVITE ")
            .into_iter()
            .filter(|d| header(&d.text, "To").is_some_and(|t| t.contains("tag=")))
            .collect()
    }
}

fn header<'t>(msg: &'t str, name: &str) -> Option<&'t str> {
    msg.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn origin(msg: &str) -> Option<&str> {
    msg.lines().find(|l| l.starts_with("o="))
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn off_by_default_no_timer_headers_and_no_refresh() {
    let mut net = Net::new(None, None);
    net.call();
    net.run(secs(4000));
    for d in &net.log {
        assert!(header(&d.text, "Session-Expires").is_none(), "{}", d.text);
        assert!(header(&d.text, "Min-SE").is_none(), "{}", d.text);
        assert!(!d.text.contains("timer"), "{}", d.text);
    }
    assert!(net.reinvites(A).is_empty() && net.reinvites(B).is_empty());
    assert_eq!(net.phones[A].live_calls().count(), 1);
}

#[test]
fn a_422_is_retried_with_its_min_se_and_the_2xx_names_the_refresher() {
    let mut net = Net::new(Some(timer(90, 90, None)), Some(timer(1800, 120, None)));
    net.call();
    let invites = net.sent(A, "INVITE ");
    assert_eq!(invites.len(), 2);
    let (first, retry) = (&invites[0].text, &invites[1].text);
    assert_eq!(header(first, "Session-Expires"), Some("90"));
    assert_eq!(header(first, "Min-SE"), None);
    assert_eq!(
        header(first, "Supported"),
        Some("replaces, norefersub, timer")
    );
    let rejected = net.sent(B, "SIP/2.0 422");
    assert_eq!(rejected.len(), 1);
    assert_eq!(header(&rejected[0].text, "Min-SE"), Some("120"));
    // RFC 4028 §7.4: same Call-ID, From and To (no tag), a higher CSeq,
    // Session-Expires and Min-SE at the 422's Min-SE.
    assert_eq!(header(retry, "Call-ID"), header(first, "Call-ID"));
    assert_eq!(header(retry, "From"), header(first, "From"));
    assert_eq!(header(retry, "To"), Some("<sip:bob@10.0.0.2:5060>"));
    assert_eq!(header(first, "CSeq"), Some("1 INVITE"));
    assert_eq!(header(retry, "CSeq"), Some("2 INVITE"));
    assert_eq!(header(retry, "Session-Expires"), Some("120"));
    assert_eq!(header(retry, "Min-SE"), Some("120"));
    assert_ne!(header(retry, "Via"), header(first, "Via"));
    // The 422 was acknowledged.
    assert_eq!(net.sent(A, "ACK ").len(), 2);
    let ok = net.sent(B, "SIP/2.0 200");
    assert_eq!(
        header(&ok[0].text, "Session-Expires"),
        Some("120;refresher=uac")
    );
    assert_eq!(header(&ok[0].text, "Require"), Some("timer"));
    assert_eq!(
        header(&ok[0].text, "Supported"),
        Some("replaces, norefersub, timer")
    );
}

#[test]
fn the_refresher_refreshes_at_half_interval_with_the_sdp_unchanged() {
    let mut net = Net::new(Some(timer(120, 90, None)), Some(timer(1800, 90, None)));
    let (a, b) = net.call();
    let answered = net.answered;
    net.run(secs(59));
    assert!(net.reinvites(A).is_empty());
    net.run(secs(2));
    let refreshes = net.reinvites(A);
    assert_eq!(refreshes.len(), 1);
    let r = refreshes[0];
    assert!(r.at >= answered + secs(60) && r.at <= answered + secs(61));
    assert_eq!(
        header(&r.text, "Session-Expires"),
        Some("120;refresher=uac")
    );
    assert_eq!(
        header(&r.text, "Supported"),
        Some("replaces, norefersub, timer")
    );
    // RFC 3264 §8: the same session, the same version.
    let first = &net.sent(A, "INVITE ")[0].text;
    assert_eq!(origin(&r.text), origin(first));
    // The peer's 2xx carries the timer again.
    let oks = net.sent(B, "SIP/2.0 200");
    let last = &oks.last().unwrap().text;
    assert!(header(last, "CSeq").is_some_and(|c| c.starts_with("2 ")));
    assert_eq!(header(last, "Session-Expires"), Some("120;refresher=uac"));
    // Two more refreshes in two more minutes, the user hears of none.
    net.run(secs(120));
    assert_eq!(net.reinvites(A).len(), 3);
    for i in [A, B] {
        assert!(!net.events[i].iter().any(|e| matches!(
            e,
            Event::Held { .. } | Event::Resumed(_) | Event::Ended { .. }
        )));
    }
    assert!(net.phones[A].call_state(a).is_some() && net.phones[B].call_state(b).is_some());
    assert!(net.reinvites(B).is_empty());
}

#[test]
fn without_a_refresh_the_other_side_sends_bye_before_expiry() {
    let mut net = Net::new(Some(timer(120, 90, None)), Some(timer(1800, 90, None)));
    let (a, b) = net.call();
    let answered = net.answered;
    // Every re-INVITE of A's is lost.
    let no_refresh = |d: &Datagram| {
        d.from == addr(A)
            && d.first_line().starts_with("INVITE ")
            && header(&d.text, "To").is_some_and(|t| t.contains("tag="))
    };
    net.run_dropping(secs(87), &no_refresh);
    assert!(net.sent(B, "BYE ").is_empty());
    net.run_dropping(secs(2), &no_refresh);
    // RFC 4028 §10: 120 s minus min(32 s, 40 s).
    let bye = net.sent(B, "BYE ");
    assert_eq!(bye.len(), 1);
    assert!(bye[0].at >= answered + secs(88) && bye[0].at < answered + secs(89));
    assert!(net.events[B].contains(&Event::Ended {
        call: b,
        reason: EndReason::SessionExpired
    }));
    assert!(net.events[A].contains(&Event::Ended {
        call: a,
        reason: EndReason::RemoteHangup
    }));
    net.run(secs(60));
    for p in &net.phones {
        assert_eq!(p.live_calls().count(), 0);
        assert_eq!(p.dialogs_in_use(), 0);
        assert_eq!(p.transactions_in_use(), 0);
    }
}

#[test]
fn refreshes_by_the_peer_reset_the_timer() {
    // B answers and prefers to refresh itself; A leaves it open.
    let mut net = Net::new(
        Some(timer(90, 90, None)),
        Some(timer(1800, 90, Some(Refresher::Uas))),
    );
    let (a, _) = net.call();
    let ok = &net.sent(B, "SIP/2.0 200")[0].text;
    assert_eq!(header(ok, "Session-Expires"), Some("90;refresher=uas"));
    // A would end the call 60 s after the 2xx without refreshes; B's come
    // every 45 s, and each one's 2xx says who refreshes.
    net.run(secs(300));
    let refreshes = net.reinvites(B);
    assert_eq!(refreshes.len(), 6);
    for r in &refreshes {
        assert_eq!(header(&r.text, "Session-Expires"), Some("90;refresher=uac"));
    }
    assert!(net.reinvites(A).is_empty());
    assert!(net.sent(A, "BYE ").is_empty() && net.sent(B, "BYE ").is_empty());
    assert!(net.phones[A].call_state(a).is_some());
    let a_ok = net.sent(A, "SIP/2.0 200");
    let last = &a_ok.last().unwrap().text;
    assert_eq!(header(last, "Session-Expires"), Some("90;refresher=uac"));
    assert_eq!(header(last, "Require"), Some("timer"));
}

#[test]
fn a_peer_without_timers_still_gets_refreshed_by_the_caller() {
    let mut net = Net::new(Some(timer(90, 90, None)), None);
    let (a, b) = net.call();
    let ok = &net.sent(B, "SIP/2.0 200")[0].text;
    assert_eq!(header(ok, "Session-Expires"), None);
    // RFC 4028 §7.2: A refreshes at its own interval anyway.
    net.run(secs(100));
    assert_eq!(net.reinvites(A).len(), 2);
    assert!(net.phones[A].call_state(a).is_some() && net.phones[B].call_state(b).is_some());
    assert!(!net.events[B]
        .iter()
        .any(|e| matches!(e, Event::Held { .. } | Event::Resumed(_))));
}

#[test]
fn a_hold_reinvite_refreshes_too_and_still_reports_hold() {
    let mut net = Net::new(Some(timer(120, 90, None)), Some(timer(1800, 90, None)));
    let (a, _) = net.call();
    net.run(secs(30));
    net.command(A, Command::Hold(a));
    net.run(secs(1));
    assert!(net.events[A].contains(&Event::Held {
        call: a,
        by_remote: false
    }));
    let hold = &net.reinvites(A)[0].text;
    assert_eq!(header(hold, "Session-Expires"), Some("120;refresher=uac"));
    // The hold's 2xx restarted the clock: the next refresh is 60 s after it.
    net.run(secs(58));
    assert_eq!(net.reinvites(A).len(), 1);
    net.run(secs(2));
    assert_eq!(net.reinvites(A).len(), 2);
    assert!(!net.events[A].iter().any(|e| matches!(e, Event::Resumed(_))));
}

#[test]
fn refresh_by_update_where_the_peer_allows_it() {
    let a = SessionTimerSettings {
        refresh_method: RefreshMethod::UpdateWhenAllowed,
        ..timer(120, 90, None)
    };
    let mut net = Net::new(Some(a), Some(timer(1800, 90, None)));
    let (a_call, b_call) = net.call();
    net.run(secs(200));
    // RFC 4028 §10: bare UPDATEs at 60, 120 and 180 s, no re-INVITE.
    let updates = net.sent(A, "UPDATE ");
    assert_eq!(updates.len(), 3);
    assert!(net.reinvites(A).is_empty());
    for u in &updates {
        assert_eq!(header(&u.text, "Session-Expires"), Some("120;refresher=uac"));
        assert_eq!(header(&u.text, "Content-Length"), Some("0"));
    }
    let oks: Vec<_> = net
        .sent(B, "SIP/2.0 200")
        .into_iter()
        .filter(|d| header(&d.text, "CSeq").is_some_and(|c| c.ends_with("UPDATE")))
        .collect();
    assert_eq!(oks.len(), 3);
    for ok in &oks {
        assert_eq!(header(&ok.text, "Session-Expires"), Some("120;refresher=uac"));
        assert_eq!(header(&ok.text, "Require"), Some("timer"));
    }
    // Each 2xx restarted B's clock: no BYE, the call is up.
    assert!(net.sent(B, "BYE ").is_empty());
    assert!(net.phones[A].call_state(a_call).is_some());
    assert!(net.phones[B].call_state(b_call).is_some());
    assert!(net.phones[B].session_timer(b_call).is_some());
}

#[test]
fn an_update_refresh_that_times_out_ends_the_call() {
    let a = SessionTimerSettings {
        refresh_method: RefreshMethod::UpdateWhenAllowed,
        ..timer(120, 90, None)
    };
    let mut net = Net::new(Some(a), Some(timer(1800, 90, None)));
    let (a_call, _) = net.call();
    // B's answers to UPDATE never come back: the UPDATE times out, which
    // ends the dialog (RFC 4028 §10 treats it as a failed refresh).
    let no_update_answer = |d: &Datagram| {
        d.from == addr(B) && header(&d.text, "CSeq").is_some_and(|c| c.ends_with("UPDATE"))
    };
    net.run_dropping(secs(60 + 33), &no_update_answer);
    assert!(net.events[A].contains(&Event::Ended {
        call: a_call,
        reason: EndReason::Timeout
    }));
}
