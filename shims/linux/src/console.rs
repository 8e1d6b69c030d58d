//! `handset phone`: an interactive console. Commands are read from stdin
//! one per line; every change of a call or the registration is printed as
//! it happens, in the same `word slot ...` lines the other commands print.

use std::io::BufRead;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use handset_core::call::CallState;
use handset_core::phone::{CallHandle, Command, Event};
use mio::Waker;

use crate::cli::{
    interrupted, register_first, say, AudioArgs, Capacity, Common, Failure, LOAD_BUFFERS,
    LOAD_CALLS, LOAD_COMPLETED, LOAD_TXNS, SERVER_CALLS, SERVER_TXNS,
};
use crate::runtime::{Runtime, RuntimeEvent};

/// `handset phone`.
#[derive(Debug, Clone, Args)]
pub struct PhoneArgs {
    /// Flags every phone command takes.
    #[command(flatten)]
    pub common: Common,
    /// Outgoing audio and recording.
    #[command(flatten)]
    pub audio: AudioArgs,
}

/// Reads stdin lines on a thread; each line is sent and `waker` woken.
/// The channel closes (and the waker is woken once more) at end of input.
pub fn stdin_lines(waker: Arc<Waker>) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let stdin = std::io::stdin();
            for line in stdin.lock().lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    return;
                }
                let _ = waker.wake();
            }
            drop(tx);
            let _ = waker.wake();
        });
    if let Err(e) = spawned {
        log::error!("cannot read stdin: {e}");
    }
    rx
}

const HELP: &str = "commands:
  dial URI            call URI
  answer [SLOT]       answer a ringing call
  hangup [SLOT]       end a call (cancel, reject or BYE)
  hold [SLOT]         put a call on hold
  resume [SLOT]       take it off hold
  dtmf SLOT DIGITS    send DTMF digits (RFC 4733 or SIP INFO: see dtmfmode)
  transfer SLOT URI   blind transfer (REFER)
  attended HELD CONSULT  attended transfer: connect HELD's party to CONSULT's
  accept-transfer [SLOT] | refuse-transfer [SLOT]  answer a transfer request
  status              registration, registrar in use and calls
  register | unregister
  quit";

/// One parsed console line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// `dial URI`.
    Dial(String),
    /// `answer [slot]`.
    Answer(Option<u8>),
    /// `hangup [slot]`.
    Hangup(Option<u8>),
    /// `hold [slot]`.
    Hold(Option<u8>),
    /// `resume [slot]`.
    Resume(Option<u8>),
    /// `dtmf slot digits`.
    Dtmf(u8, String),
    /// `transfer slot uri`.
    Transfer(u8, String),
    /// `attended held consult`.
    Attended(u8, u8),
    /// `accept-transfer [slot]`.
    AcceptTransfer(Option<u8>),
    /// `refuse-transfer [slot]`.
    RefuseTransfer(Option<u8>),
    /// `status`.
    Status,
    /// `register`.
    Register,
    /// `unregister`.
    Unregister,
    /// `help`.
    Help,
    /// `quit`.
    Quit,
    /// Nothing (a blank line).
    Empty,
    /// A feature key (DND, forwarding, conference, ...).
    Feature(crate::features::FeatureLine),
}

/// Parses one console line; the error explains what is wrong.
pub fn parse_line(line: &str) -> Result<Line, String> {
    let mut words = line.split_whitespace();
    let Some(cmd) = words.next() else {
        return Ok(Line::Empty);
    };
    let rest: Vec<&str> = words.collect();
    let slot = |i: usize| -> Result<Option<u8>, String> {
        match rest.get(i) {
            None => Ok(None),
            Some(w) => w
                .parse()
                .map(Some)
                .map_err(|_| format!("{w:?} is not a call slot number")),
        }
    };
    Ok(match cmd.to_ascii_lowercase().as_str() {
        "dial" | "d" | "call" => match rest.first() {
            Some(uri) => Line::Dial((*uri).to_string()),
            None => return Err("dial needs a URI".into()),
        },
        "answer" | "a" => Line::Answer(slot(0)?),
        "hangup" | "h" | "bye" => Line::Hangup(slot(0)?),
        "hold" => Line::Hold(slot(0)?),
        "resume" | "unhold" => Line::Resume(slot(0)?),
        "dtmf" => match (slot(0)?, rest.get(1)) {
            (Some(s), Some(d)) => Line::Dtmf(s, (*d).to_string()),
            _ => return Err("dtmf needs a slot and digits".into()),
        },
        "transfer" | "xfer" => match (slot(0)?, rest.get(1)) {
            (Some(s), Some(uri)) => Line::Transfer(s, (*uri).to_string()),
            _ => return Err("transfer needs a slot and a URI".into()),
        },
        "attended" => match (slot(0)?, slot(1)?) {
            (Some(a), Some(b)) => Line::Attended(a, b),
            _ => return Err("attended needs the held slot and the consultation slot".into()),
        },
        "accept-transfer" => Line::AcceptTransfer(slot(0)?),
        "refuse-transfer" => Line::RefuseTransfer(slot(0)?),
        "status" | "s" => Line::Status,
        "register" => Line::Register,
        "unregister" => Line::Unregister,
        "help" | "?" => Line::Help,
        "quit" | "exit" | "q" => Line::Quit,
        other => match crate::features::parse_feature(other, &rest) {
            Some(f) => Line::Feature(f?),
            None => return Err(format!("unknown command {other:?} (try help)")),
        },
    })
}

/// `handset phone`.
pub fn phone(args: PhoneArgs) -> Result<(), Failure> {
    match args.common.capacity.unwrap_or(Capacity::Desk) {
        Capacity::Desk => phone_with::<4, 64, 0, 64>(args),
        Capacity::Server => phone_with::<SERVER_CALLS, SERVER_TXNS, 0, SERVER_TXNS>(args),
        Capacity::Load => phone_with::<LOAD_CALLS, LOAD_TXNS, LOAD_COMPLETED, LOAD_BUFFERS>(args),
    }
}

fn pick<const C: usize, const T: usize, const D: usize, const B: usize>(
    rt: &Runtime<C, T, D, B>,
    slot: Option<u8>,
    want: impl Fn(CallState) -> bool,
) -> Option<CallHandle> {
    let mut calls = rt.phone().live_calls();
    match slot {
        Some(s) => calls.find(|h| h.slot == u16::from(s)),
        None => {
            let all: Vec<CallHandle> = calls.collect();
            all.iter()
                .copied()
                .find(|h| rt.phone().call_state(*h).is_some_and(&want))
                .or_else(|| all.first().copied())
        }
    }
}

fn phone_with<const C: usize, const T: usize, const D: usize, const B: usize>(
    args: PhoneArgs,
) -> Result<(), Failure> {
    let (plan, _) = args.audio.plan().map_err(|m| Failure::new(2, m))?;
    let mut settings = args.common.settings().map_err(|e| Failure::new(2, e.0))?;
    // The console's user decides on transfers (accept-transfer).
    settings.transfer.policy = handset_core::phone::TransferPolicy::Ask;
    let mut rt: Runtime<C, T, D, B> =
        Runtime::start(&settings, plan, None).map_err(|e| Failure::new(1, e.to_string()))?;
    println!(
        "listening {} {}",
        settings.transport.via_token(),
        rt.local_addr()
    );
    register_first(&mut rt, &settings, false)?;
    println!("ready (help for commands)");
    let lines = stdin_lines(rt.waker());
    let stop = interrupted();
    'run: while !stop.load(Ordering::Relaxed) {
        let ev = rt.next_event(Duration::from_millis(200))?;
        match ev {
            Some(RuntimeEvent::Phone(e)) => print_event(&e),
            Some(RuntimeEvent::DtmfReceived { call, digit }) => {
                say!(false, "dtmf {} {digit}", call.slot)
            }
            Some(RuntimeEvent::Woken) => loop {
                let line = match lines.try_recv() {
                    Ok(l) => l,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => break 'run,
                };
                match parse_line(&line) {
                    Ok(Line::Quit) => break 'run,
                    Ok(l) => run_line(&mut rt, l),
                    Err(e) => println!("error {e}"),
                }
            },
            None => {}
        }
    }
    rt.shutdown(Duration::from_secs(5));
    println!("bye");
    Ok(())
}

fn run_line<const C: usize, const T: usize, const D: usize, const B: usize>(
    rt: &mut Runtime<C, T, D, B>,
    line: Line,
) {
    let no_call = || println!("error no such call");
    match line {
        Line::Dial(uri) => rt.command(Command::Dial { to: &uri }),
        Line::Answer(s) => match pick(rt, s, |st| st == CallState::Ringing) {
            Some(h) => rt.command(Command::Answer(h)),
            None => no_call(),
        },
        Line::Hangup(s) => match pick(rt, s, |_| true) {
            Some(h) => rt.command(Command::Hangup(h)),
            None => no_call(),
        },
        Line::Hold(s) => match pick(rt, s, |st| st == CallState::Confirmed) {
            Some(h) => rt.command(Command::Hold(h)),
            None => no_call(),
        },
        Line::Resume(s) => match pick(rt, s, |_| true) {
            Some(h) => rt.command(Command::Resume(h)),
            None => no_call(),
        },
        Line::Dtmf(s, digits) => match pick(rt, Some(s), |_| true) {
            // The phone sends each digit as its DTMF mode says (RTP
            // events, INFO or both); INFO digits leave one at a time.
            Some(h) => {
                for digit in digits.chars() {
                    rt.command(Command::SendDtmf {
                        call: h,
                        digit,
                        duration: handset_core::time::Duration::from_millis(160),
                    });
                }
            }
            None => no_call(),
        },
        Line::Transfer(s, uri) => match pick(rt, Some(s), |_| true) {
            Some(h) => rt.command(Command::Transfer { call: h, to: &uri }),
            None => no_call(),
        },
        Line::Attended(a, b) => match (pick(rt, Some(a), |_| true), pick(rt, Some(b), |_| true)) {
            (Some(held), Some(consult)) => rt.command(Command::CompleteTransfer { held, consult }),
            _ => no_call(),
        },
        Line::AcceptTransfer(s) => match pick(rt, s, |_| true) {
            Some(h) => rt.command(Command::AcceptTransfer(h)),
            None => no_call(),
        },
        Line::RefuseTransfer(s) => match pick(rt, s, |_| true) {
            Some(h) => rt.command(Command::RefuseTransfer(h)),
            None => no_call(),
        },
        Line::Status => {
            println!("registration {:?}", rt.phone().registration());
            if let Some(r) = rt.phone().active_registrar() {
                println!("registrar {r}");
            }
            let calls: Vec<CallHandle> = rt.phone().live_calls().collect();
            if calls.is_empty() {
                println!("no calls");
            }
            for h in calls {
                let state = rt.phone().call_state(h);
                let codec = rt.phone().negotiated(h).map(|n| n.codec.codec.name());
                println!(
                    "call {} {:?} codec={} packets_sent={}",
                    h.slot,
                    state,
                    codec.unwrap_or("-"),
                    rt.packets_sent(h)
                );
            }
        }
        Line::Register => rt.command(Command::Register),
        Line::Unregister => rt.command(Command::Unregister),
        Line::Help => println!("{HELP}\n{}", crate::features::HELP),
        Line::Feature(f) => run_feature(rt, f),
        Line::Quit | Line::Empty => {}
    }
}

fn run_feature<const C: usize, const T: usize, const D: usize, const B: usize>(
    rt: &mut Runtime<C, T, D, B>,
    f: crate::features::FeatureLine,
) {
    use crate::features::{describe, FeatureLine};
    match f {
        FeatureLine::Set(change) => {
            let mut policy = rt.phone().policy().clone();
            change.apply(&mut policy);
            rt.command(Command::SetPolicy(&policy));
            println!("{}", describe(rt.phone().policy()));
        }
        FeatureLine::Show => println!("{}", describe(rt.phone().policy())),
        FeatureLine::Conference(a, b) => {
            match (pick(rt, Some(a), |_| true), pick(rt, Some(b), |_| true)) {
                (Some(a), Some(b)) => rt.command(Command::Conference(a, b)),
                _ => println!("error no such call"),
            }
        }
        FeatureLine::Split => rt.command(Command::SplitConference),
        FeatureLine::MwiOn(mailbox) => rt.command(Command::SubscribeMwi {
            mailbox: mailbox.as_deref(),
        }),
        FeatureLine::MwiOff => rt.command(Command::UnsubscribeMwi),
        FeatureLine::MwiShow => println!("{}", crate::features::describe_mwi(&rt.phone().mwi())),
    }
}

/// Prints a phone event as one state line.
pub fn print_event(e: &Event) {
    match *e {
        Event::IncomingCall(h) => println!("incoming {}", h.slot),
        Event::Calling(h) => println!("calling {}", h.slot),
        Event::Ringing(h) => println!("ringing {}", h.slot),
        Event::EarlyMedia(h) => println!("early-media {}", h.slot),
        Event::Answered(h) => println!("answered {}", h.slot),
        Event::Held { call, by_remote } => println!(
            "held {} {}",
            call.slot,
            if by_remote { "remote" } else { "local" }
        ),
        Event::Resumed(h) => println!("resumed {}", h.slot),
        Event::Ended { call, reason } => println!("ended {} {reason:?}", call.slot),
        Event::Registered { expires, server } => {
            println!("registered {expires}{}", backup_suffix(server))
        }
        Event::Unregistered => println!("unregistered"),
        Event::RegistrationFailed { code, server } => {
            println!("registration-failed {code}{}", backup_suffix(server))
        }
        Event::DtmfReceived { call, digit } => println!("dtmf {} {digit}", call.slot),
        ref other => crate::cli::print_event(other, false),
    }
}

/// ` backup N` when the event is about the `n`-th backup registrar.
fn backup_suffix(server: u8) -> String {
    if server == 0 {
        String::new()
    } else {
        format!(" backup {server}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{FeatureLine, PolicyChange};
    use handset_core::phone::DtmfMode;

    #[test]
    fn every_feature_key_parses() {
        let set = |line: &str| match parse_line(line) {
            Ok(Line::Feature(FeatureLine::Set(c))) => c,
            other => panic!("{line}: {other:?}"),
        };
        assert_eq!(set("dnd on 480"), PolicyChange::Dnd(Some(480)));
        assert_eq!(set("dnd off"), PolicyChange::Dnd(None));
        assert!(matches!(
            set("fwd noanswer sip:c@example.com 9"),
            PolicyChange::ForwardNoAnswer(Some((_, d))) if d == handset_core::time::Duration::from_secs(9)
        ));
        assert!(matches!(
            set("fwd always sip:c@example.com"),
            PolicyChange::ForwardAlways(Some(_))
        ));
        assert_eq!(set("fwd off busy"), PolicyChange::ForwardBusy(None));
        assert_eq!(set("cw off"), PolicyChange::CallWaiting(false));
        assert!(matches!(
            set("autoanswer 2"),
            PolicyChange::AutoAnswer(Some(_))
        ));
        assert_eq!(set("anon reject"), PolicyChange::RejectAnonymous(Some(433)));
        assert_eq!(
            set("dtmfmode info"),
            PolicyChange::DtmfMode(DtmfMode::SipInfo)
        );
        assert!(matches!(
            set("timer on 600"),
            PolicyChange::SessionTimer(Some((600, 90)))
        ));
        assert!(matches!(
            set("100rel required"),
            PolicyChange::ReliableProvisional(_)
        ));
        assert_eq!(
            parse_line("conf 0 1"),
            Ok(Line::Feature(FeatureLine::Conference(0, 1)))
        );
        assert_eq!(parse_line("split"), Ok(Line::Feature(FeatureLine::Split)));
        assert_eq!(
            parse_line("mwi on vm"),
            Ok(Line::Feature(FeatureLine::MwiOn(Some("vm".into()))))
        );
        assert_eq!(
            parse_line("mwi off"),
            Ok(Line::Feature(FeatureLine::MwiOff))
        );
        assert!(parse_line("dtmfmode").is_err());
        assert!(parse_line("dnd on 404").is_err());
        assert!(parse_line("fwd always bob").is_err());
        // The help names every command.
        let help = format!("{HELP}\n{}", crate::features::HELP);
        for word in [
            "dial",
            "answer",
            "hangup",
            "hold",
            "resume",
            "dtmf",
            "transfer",
            "attended",
            "accept-transfer",
            "status",
            "register",
            "dnd",
            "fwd",
            "autoanswer",
            "intercom",
            "anon",
            "cw",
            "conf",
            "split",
            "timer",
            "100rel",
            "dtmfmode",
            "mwi",
            "policy",
        ] {
            assert!(
                help.contains(&format!("  {word}")) || help.contains(&format!("| {word}")),
                "{word}"
            );
        }
    }

    #[test]
    fn registrar_events_name_the_backup() {
        assert_eq!(backup_suffix(0), "");
        assert_eq!(backup_suffix(2), " backup 2");
    }

    #[test]
    fn lines_parse_into_commands() {
        assert_eq!(
            parse_line("dial sip:bob@127.0.0.1"),
            Ok(Line::Dial("sip:bob@127.0.0.1".into()))
        );
        assert_eq!(parse_line("  answer "), Ok(Line::Answer(None)));
        assert_eq!(parse_line("hangup 2"), Ok(Line::Hangup(Some(2))));
        assert_eq!(parse_line("dtmf 0 123#"), Ok(Line::Dtmf(0, "123#".into())));
        assert_eq!(parse_line(""), Ok(Line::Empty));
        assert_eq!(parse_line("QUIT"), Ok(Line::Quit));
        assert!(parse_line("dial").is_err());
        assert!(parse_line("hold x").is_err());
        assert!(parse_line("dtmf 1").is_err());
        assert!(parse_line("fly").unwrap_err().contains("unknown command"));
        assert_eq!(
            parse_line("transfer 1 sip:carol@127.0.0.1"),
            Ok(Line::Transfer(1, "sip:carol@127.0.0.1".into()))
        );
        assert_eq!(parse_line("attended 0 1"), Ok(Line::Attended(0, 1)));
        assert_eq!(
            parse_line("accept-transfer"),
            Ok(Line::AcceptTransfer(None))
        );
        assert!(parse_line("attended 0").is_err());
    }
}
