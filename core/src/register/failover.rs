//! Registrar failover, as a desk phone's "server 1 / server 2" settings
//! do it: when the registrar in use does not answer (Timer F, or a 408
//! from a proxy on the way) or says it is unavailable (503), the next
//! configured registrar is tried at once (RFC 3263 §4.3 asks the same of
//! a client with several servers for one domain). Only when every one
//! failed in a row does the phone back off, and the round after the
//! back-off starts again at the primary.
//!
//! Registered at a backup, the phone keeps refreshing there. With a
//! failback interval set it also tries the primary again after that long;
//! if the primary does not take the registration, the phone stays bound
//! at the backup (its binding there is still valid) and tries again one
//! interval later. Failback is off by default: a phone that moved to a
//! backup stays there until the backup fails, as a Yealink T4X does
//! unless its failback timer is set.

use core::net::SocketAddr;

use super::{RegisterConfig, Registration, RegistrationOutcome, RegistrationState};
use crate::time::Instant;

/// How many registrars may follow the primary.
pub const MAX_BACKUP_REGISTRARS: usize = 2;

/// Where to go back to when a failback attempt fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Resume {
    server: u8,
    due: Option<Instant>,
    state: RegistrationState,
}

/// Which registrar is in use, and the failover round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Failover {
    /// The registrar the next REGISTER goes to: 0 the primary, then the
    /// backups in order.
    server: u8,
    /// The registrar whose answer (or silence) gave the last outcome.
    answered_by: u8,
    /// Registrars that failed in a row since the last success.
    failed_in_round: u8,
    /// When to try the primary again while bound at a backup.
    failback_at: Option<Instant>,
    /// A failback attempt is in flight: where the registration returns if
    /// the primary refuses it.
    resume: Option<Resume>,
}

/// How many registrars the configuration names (primary included).
fn server_count(config: &RegisterConfig) -> u8 {
    // Built without the `registrar-failover` feature: the primary only.
    if !cfg!(feature = "registrar-failover") {
        return 1;
    }
    1 + config.backup_registrars.len().min(MAX_BACKUP_REGISTRARS) as u8
}

/// Whether a failure of the registrar in use sends the phone to the next
/// one: no answer (408) or unavailable (503). Any other status is the
/// registrar's answer about this phone and would be the same elsewhere.
fn is_server_failure(code: u16) -> bool {
    matches!(code, 408 | 503)
}

impl Registration {
    /// The registrar the next REGISTER goes to: 0 for the primary, `n`
    /// for the `n`-th backup.
    pub fn server(&self) -> u8 {
        self.failover.server
    }

    /// The registrar that gave the last outcome (the index of
    /// [`server`](Self::server)).
    pub fn answered_by(&self) -> u8 {
        self.failover.answered_by
    }

    /// The address of the registrar the next REGISTER goes to, given the
    /// primary's.
    pub fn server_address(&self, primary: SocketAddr, config: &RegisterConfig) -> SocketAddr {
        match usize::from(self.failover.server).checked_sub(1) {
            Some(i) => config.backup_registrars.get(i).copied().unwrap_or(primary),
            None => primary,
        }
    }

    /// When the primary is next tried while bound at a backup.
    pub(super) fn failback_at(&self) -> Option<Instant> {
        self.failover.failback_at
    }

    /// Turns to the primary when the failback interval ran out, keeping
    /// what is needed to come back to the backup. Returns whether a
    /// REGISTER is now due.
    pub(super) fn start_failback_if_due(&mut self, now: Instant) -> bool {
        let f = &mut self.failover;
        let due = f.failback_at.is_some_and(|t| t <= now);
        if !due || self.removing || f.server == 0 {
            return false;
        }
        f.resume = Some(Resume {
            server: f.server,
            due: self.due,
            state: self.state,
        });
        f.failback_at = None;
        f.server = 0;
        // Another registrar, another realm and nonce.
        self.auth.forget();
        self.due = Some(now);
        true
    }

    /// Notes the registrar that answered, before the outcome is worked out.
    pub(super) fn note_answer(&mut self) {
        self.failover.answered_by = self.failover.server;
    }

    /// The registration succeeded at the registrar in use.
    pub(super) fn failover_success(&mut self, now: Instant, config: &RegisterConfig) {
        let f = &mut self.failover;
        f.failed_in_round = 0;
        f.resume = None;
        if f.server == 0 {
            f.failback_at = None;
        } else if f.failback_at.is_none() {
            f.failback_at = config.failback_after.map(|d| now + d);
        }
    }

    /// A failure with `code`: back to the backup after a failed failback,
    /// on to the next registrar after a server failure, else (or once all
    /// failed in a row) back-off. `None` when the caller's back-off
    /// applies.
    pub(super) fn failover_on_failure(
        &mut self,
        now: Instant,
        code: u16,
        config: &RegisterConfig,
    ) -> Option<RegistrationOutcome> {
        if self.removing || !cfg!(feature = "registrar-failover") {
            return None;
        }
        if let Some(r) = self.failover.resume.take() {
            // The primary did not take the registration back; the binding
            // at the backup still holds.
            self.failover.server = r.server;
            self.failover.failback_at = config.failback_after.map(|d| now + d);
            self.due = r.due;
            self.state = r.state;
            self.auth.forget();
            return Some(RegistrationOutcome::FailbackFailed(code));
        }
        if !is_server_failure(code) {
            return None;
        }
        let count = server_count(config);
        let f = &mut self.failover;
        f.failed_in_round = f.failed_in_round.saturating_add(1);
        f.failback_at = None;
        let next = if f.failed_in_round < count {
            // RFC 3263 §4.3: on to the next server at once.
            Some((f.server + 1) % count)
        } else {
            // Every registrar failed: back off, then start over at the
            // primary.
            f.failed_in_round = 0;
            None
        };
        let moved = match next {
            Some(s) => {
                f.server = s;
                true
            }
            None => core::mem::replace(&mut f.server, 0) != 0,
        };
        if moved {
            self.auth.forget();
        }
        next.map(|_| {
            self.state = RegistrationState::Failed {
                retry_at: now,
                code,
            };
            self.due = Some(now);
            RegistrationOutcome::Failed(code)
        })
    }
}

#[cfg(all(test, feature = "registrar-failover"))]
mod tests {
    use super::super::*;
    use crate::message::Message;
    use crate::rng::Rng;
    use crate::time::Duration;
    use crate::ua::text;

    fn me() -> LocalIdentity {
        LocalIdentity {
            user: text("alice").unwrap(),
            domain: text("example.com").unwrap(),
            display_name: Text::new(),
            local: "192.0.2.4:5060".parse().unwrap(),
            transport: "UDP",
        }
    }

    const PRIMARY: &str = "192.0.2.10:5060";

    fn config(failback: Option<u64>) -> RegisterConfig {
        let mut c = RegisterConfig {
            expires: 600,
            failback_after: failback.map(Duration::from_secs),
            ..RegisterConfig::default()
        };
        c.backup_registrars
            .push("192.0.2.11:5060".parse().unwrap())
            .unwrap();
        c.backup_registrars
            .push("192.0.2.12:5060".parse().unwrap())
            .unwrap();
        c
    }

    fn t(s: u64) -> Instant {
        Instant::ZERO + Duration::from_secs(s)
    }

    /// Sends the REGISTER due at `now`; returns where it goes.
    fn send(reg: &mut Registration, rng: &mut Rng, cfg: &RegisterConfig, now: Instant) -> String {
        let mut buf = [0u8; 1300];
        reg.poll_request(now, &me(), cfg, rng, "z9hG4bK1", &mut buf)
            .expect("a REGISTER is due");
        reg.server_address(PRIMARY.parse().unwrap(), cfg)
            .to_string()
    }

    fn answer(
        reg: &mut Registration,
        cfg: &RegisterConfig,
        now: Instant,
        code: u16,
    ) -> RegistrationOutcome {
        let text = format!(
            "SIP/2.0 {code} X\r\nVia: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK1\r\n\
             From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>;tag=2\r\n\
             Call-ID: c\r\nCSeq: 1 REGISTER\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n"
        );
        let resp = Message::parse_datagram(text.as_bytes()).unwrap();
        reg.on_response(now, &me(), cfg, &resp)
    }

    extern crate std;
    use std::format;
    use std::string::{String, ToString};

    #[test]
    fn silence_and_503_move_on_at_once_then_back_off_from_the_primary() {
        let mut rng = Rng::new(1);
        let cfg = config(None);
        let mut reg = Registration::new(&mut rng, 600);
        reg.start(t(0));
        assert_eq!(send(&mut reg, &mut rng, &cfg, t(0)), PRIMARY);
        assert_eq!(
            reg.on_timeout(t(32), &cfg),
            RegistrationOutcome::Failed(408)
        );
        assert_eq!(reg.answered_by(), 0);
        // The first backup at once.
        assert_eq!(reg.poll_timeout(), Some(t(32)));
        assert_eq!(send(&mut reg, &mut rng, &cfg, t(32)), "192.0.2.11:5060");
        assert_eq!(
            answer(&mut reg, &cfg, t(33), 503),
            RegistrationOutcome::Failed(503)
        );
        assert_eq!(reg.answered_by(), 1);
        assert_eq!(send(&mut reg, &mut rng, &cfg, t(33)), "192.0.2.12:5060");
        assert_eq!(
            reg.on_timeout(t(65), &cfg),
            RegistrationOutcome::Failed(408)
        );
        // All three failed: back-off, then the primary again.
        assert_eq!(reg.poll_timeout(), Some(t(65 + 30)));
        assert_eq!(reg.server(), 0);
        assert_eq!(send(&mut reg, &mut rng, &cfg, t(95)), PRIMARY);
        assert_eq!(
            reg.on_timeout(t(127), &cfg),
            RegistrationOutcome::Failed(408)
        );
        assert_eq!(send(&mut reg, &mut rng, &cfg, t(127)), "192.0.2.11:5060");
        assert_eq!(
            answer(&mut reg, &cfg, t(128), 200),
            RegistrationOutcome::Registered(600)
        );
        assert_eq!(reg.answered_by(), 1);
        // Refreshes stay at the backup; without failback the primary is
        // not tried again.
        assert_eq!(reg.poll_timeout(), Some(t(128 + 570)));
        assert_eq!(send(&mut reg, &mut rng, &cfg, t(698)), "192.0.2.11:5060");
    }

    #[test]
    fn a_refusal_is_not_a_server_failure() {
        let mut rng = Rng::new(2);
        let cfg = config(None);
        let mut reg = Registration::new(&mut rng, 600);
        reg.start(t(0));
        send(&mut reg, &mut rng, &cfg, t(0));
        assert_eq!(
            answer(&mut reg, &cfg, t(1), 403),
            RegistrationOutcome::Failed(403)
        );
        assert_eq!(reg.server(), 0);
        assert_eq!(reg.poll_timeout(), Some(t(31)));
    }

    #[test]
    fn failback_tries_the_primary_and_keeps_the_backup_when_it_fails() {
        let mut rng = Rng::new(3);
        let cfg = config(Some(100));
        let mut reg = Registration::new(&mut rng, 600);
        reg.start(t(0));
        send(&mut reg, &mut rng, &cfg, t(0));
        reg.on_timeout(t(32), &cfg);
        send(&mut reg, &mut rng, &cfg, t(32));
        assert_eq!(
            answer(&mut reg, &cfg, t(32), 200),
            RegistrationOutcome::Registered(600)
        );
        let refresh = t(32 + 570);
        // Failback is due before the refresh.
        assert_eq!(reg.poll_timeout(), Some(t(132)));
        assert_eq!(send(&mut reg, &mut rng, &cfg, t(132)), PRIMARY);
        assert_eq!(
            reg.on_timeout(t(164), &cfg),
            RegistrationOutcome::FailbackFailed(408)
        );
        // Still bound at the backup, its refresh as planned, the next
        // failback one interval later.
        assert!(matches!(reg.state(), RegistrationState::Registered { .. }));
        assert_eq!(reg.server(), 1);
        assert_eq!(reg.poll_timeout(), Some(t(264)));
        assert_eq!(send(&mut reg, &mut rng, &cfg, t(264)), PRIMARY);
        assert_eq!(
            answer(&mut reg, &cfg, t(265), 200),
            RegistrationOutcome::Registered(600)
        );
        assert_eq!(reg.answered_by(), 0);
        // Back at the primary: no failback timer, refresh at the primary.
        assert_eq!(reg.poll_timeout(), Some(t(265 + 570)));
        assert!(refresh < t(265 + 570));
        assert_eq!(send(&mut reg, &mut rng, &cfg, t(835)), PRIMARY);
    }
}
