//! Which registrar the phone uses, seen from the rest of the phone: the
//! registration usage picks the server (failover to backups, failback,
//! see [`crate::register`]); an outbound proxy that is one of the
//! registrars follows the registration to the server that accepted it,
//! so calls and subscriptions go where the phone is bound (a desk phone's
//! "server 1 / server 2" each act as registrar and proxy).

use core::net::SocketAddr;

use super::Phone;

impl<const CALLS: usize, const TXNS: usize, const COMPLETED: usize, const BUFFERS: usize>
    Phone<CALLS, TXNS, COMPLETED, BUFFERS>
{
    /// The registrar the phone registers at now (the primary until a
    /// failover), `None` when registration is off.
    pub fn active_registrar(&self) -> Option<SocketAddr> {
        let primary = self.config.registrar?;
        Some(
            self.registration
                .server_address(primary, &self.config.register),
        )
    }

    /// Points an outbound proxy that is one of the registrars at the one
    /// that accepted the registration.
    pub(super) fn follow_registrar(&mut self) {
        let (Some(proxy), Some(active)) = (self.config.outbound_proxy, self.active_registrar())
        else {
            return;
        };
        let is_registrar = self.config.registrar == Some(proxy)
            || self.config.register.backup_registrars.contains(&proxy);
        if is_registrar && proxy != active {
            self.config.outbound_proxy = Some(active);
        }
    }
}

#[cfg(all(test, feature = "registrar-failover"))]
mod tests {
    extern crate std;
    use std::format;
    use std::string::{String, ToString};
    use std::vec::Vec;

    use super::super::{Command, Config, Event, Input, Output};
    use super::*;
    use crate::time::{Duration, Instant};

    const PRIMARY: &str = "192.0.2.10:5060";
    const BACKUP: &str = "192.0.2.11:5060";

    fn run(
        p: &mut Phone<2>,
        now: Instant,
        input: Input<'_>,
    ) -> (Vec<(SocketAddr, String)>, Vec<Event>) {
        p.handle_input(now, input).unwrap();
        let (mut sent, mut events) = (Vec::new(), Vec::new());
        while let Some(o) = p.poll_output() {
            match o {
                Output::Transmit { to, data, .. } => {
                    sent.push((to, String::from_utf8_lossy(data).into_owned()))
                }
                Output::Event(e) => events.push(e),
                Output::Media { .. } => {}
            }
        }
        (sent, events)
    }

    #[test]
    fn a_silent_primary_hands_registration_and_proxy_to_the_backup() {
        let mut c = Config::new("alice", "example.com", "192.0.2.1:5060".parse().unwrap()).unwrap();
        c.registrar = Some(PRIMARY.parse().unwrap());
        c.outbound_proxy = c.registrar;
        c.register
            .backup_registrars
            .push(BACKUP.parse().unwrap())
            .unwrap();
        let mut p: Phone<2> = Phone::new(c, 11);
        let (sent, _) = run(&mut p, Instant::ZERO, Input::Command(Command::Register));
        assert_eq!(sent[0].0, PRIMARY.parse().unwrap());
        // Retransmissions go unanswered until Timer F (64·T1).
        let mut now = Instant::ZERO;
        let mut to_backup = None;
        let mut failed = Vec::new();
        while let Some(t) = p.poll_timeout() {
            now = t;
            let (sent, events) = run(&mut p, now, Input::Tick);
            failed.extend(events);
            if let Some(m) = sent.into_iter().find(|m| m.0 == BACKUP.parse().unwrap()) {
                to_backup = Some(m.1);
                break;
            }
        }
        assert_eq!(now, Instant::ZERO + Duration::from_secs(32));
        assert_eq!(
            failed,
            [Event::RegistrationFailed {
                code: 408,
                server: 0
            }]
        );
        let register = to_backup.unwrap();
        let header = |name: &str| {
            register
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap()
                .to_string()
        };
        let ok = format!(
            "SIP/2.0 200 OK\r\nVia:{}\r\nFrom:{}\r\nTo:{};tag=r\r\nCall-ID:{}\r\nCSeq:{}\r\n\
             Contact: <sip:alice@192.0.2.1:5060>;expires=300\r\nContent-Length: 0\r\n\r\n",
            header("Via:"),
            header("From:"),
            header("To:"),
            header("Call-ID:"),
            header("CSeq:"),
        );
        let (_, events) = run(
            &mut p,
            now,
            Input::Datagram {
                from: BACKUP.parse().unwrap(),
                to: "192.0.2.1:5060".parse().unwrap(),
                data: ok.as_bytes(),
            },
        );
        assert_eq!(
            events,
            [Event::Registered {
                expires: 300,
                server: 1
            }]
        );
        assert_eq!(p.active_registrar(), Some(BACKUP.parse().unwrap()));
        // Calls now leave through the backup.
        let (sent, _) = run(
            &mut p,
            now,
            Input::Command(Command::Dial {
                to: "sip:bob@example.com",
            }),
        );
        assert!(sent[0].1.starts_with("INVITE sip:bob@example.com "));
        assert_eq!(sent[0].0, BACKUP.parse().unwrap());
    }
}
