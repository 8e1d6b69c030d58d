//! The registration usage (RFC 3261 §10.2): REGISTER with digest
//! authentication (§22, RFC 8760), refresh before expiry, 423 Interval Too
//! Brief (§10.2.8), retry with back-off after failures, failover to
//! backup registrars (see [`failover`](self#failover)), and removal.
//!
//! # Failover
//!
//! When the registrar in use does not answer (Timer F, 408) or answers 503,
//! the next of [`RegisterConfig::backup_registrars`] is tried at once;
//! once all failed in a row the phone backs off and starts over at the
//! primary. Registered at a backup it refreshes there and, when
//! [`RegisterConfig::failback_after`] is set, tries the primary again
//! after that long, staying at the backup if the primary still fails.
//!
//! Sans-IO like every usage: [`Registration::poll_request`] says when a
//! REGISTER is due and writes it; the phone wraps it in a non-INVITE client
//! transaction and feeds the final response to
//! [`Registration::on_response`].

mod failover;

pub use crate::credentials::MAX_CHALLENGE_FIELD;
pub use failover::MAX_BACKUP_REGISTRARS;

use core::net::SocketAddr;

use heapless::Vec;

use crate::credentials::{ChallengeVerdict, ClientAuth, Credentials};
use crate::message::{Contacts, Decimal, Message, MessageWriter, Method};
use crate::rng::Rng;
use crate::time::{Duration, Instant};
use crate::ua::{random_token, LocalIdentity, Text, PRODUCT};

/// Length of the Call-ID a registration draws (RFC 3261 §10.2: one for
/// every REGISTER of this AOR from this UA).
const CALL_ID_LEN: usize = 24;
/// Length of the From tag a registration draws.
const TAG_LEN: usize = 12;

/// Registration settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterConfig {
    /// The expiry the phone asks for, in seconds.
    pub expires: u32,
    /// The authentication user name (often the AOR user).
    pub auth_user: Text<32>,
    /// The password; empty when the registrar needs none.
    pub password: Text<64>,
    /// The first retry delay after a failure; doubles up to `max_backoff`.
    pub min_backoff: Duration,
    /// The longest retry delay.
    pub max_backoff: Duration,
    /// Registrars tried in order after the primary when it does not
    /// answer or is unavailable (408, 503).
    pub backup_registrars: Vec<SocketAddr, MAX_BACKUP_REGISTRARS>,
    /// While registered at a backup, try the primary again after this
    /// long; `None` (the default) stays at the backup until it fails.
    pub failback_after: Option<Duration>,
}

impl Default for RegisterConfig {
    fn default() -> Self {
        RegisterConfig {
            expires: 3600,
            auth_user: Text::new(),
            password: Text::new(),
            min_backoff: Duration::from_secs(30),
            max_backoff: Duration::from_secs(1800),
            backup_registrars: Vec::new(),
            failback_after: None,
        }
    }
}

/// Where a registration stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistrationState {
    /// Not registered and not trying.
    Idle,
    /// A REGISTER is (about to be) in flight.
    Registering,
    /// Bound until the instant given.
    Registered {
        /// When the binding lapses at the registrar.
        until: Instant,
    },
    /// Removal in flight.
    Unregistering,
    /// The last attempt failed; another follows at the given instant.
    Failed {
        /// When the next attempt starts.
        retry_at: Instant,
        /// The status that failed it (408 for no answer).
        code: u16,
    },
}

/// What a final response did to the registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistrationOutcome {
    /// Bound for this many seconds.
    Registered(u32),
    /// The binding is removed.
    Unregistered,
    /// Challenged or asked for a longer interval: a new REGISTER is due now.
    Retrying,
    /// Refused, or the registrar failed; retried after back-off, or at
    /// once at the next registrar after a 408 or 503.
    Failed(u16),
    /// The primary did not take the registration back from a backup
    /// (failback) with this status; the phone stays bound at the backup.
    FailbackFailed(u16),
    /// The response was not for the REGISTER in flight.
    Ignored,
}

/// One address-of-record binding kept alive at one registrar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    state: RegistrationState,
    call_id: Text<CALL_ID_LEN>,
    from_tag: Text<TAG_LEN>,
    cseq: u32,
    wanted: u32,
    due: Option<Instant>,
    in_flight: bool,
    removing: bool,
    auth: ClientAuth,
    backoff: Duration,
    failover: failover::Failover,
}

impl Registration {
    /// A registration that is idle until [`Registration::start`].
    pub fn new(rng: &mut Rng, expires: u32) -> Self {
        Registration {
            state: RegistrationState::Idle,
            // §10.2: one Call-ID for all REGISTERs of this AOR from this UA.
            call_id: random_token(rng, CALL_ID_LEN),
            from_tag: random_token(rng, TAG_LEN),
            cseq: 0,
            wanted: expires,
            due: None,
            in_flight: false,
            removing: false,
            auth: ClientAuth::new(),
            backoff: Duration::ZERO,
            failover: failover::Failover::default(),
        }
    }

    /// The current state.
    pub fn state(&self) -> RegistrationState {
        self.state
    }

    /// Asks for a REGISTER now.
    pub fn start(&mut self, now: Instant) {
        self.removing = false;
        self.state = RegistrationState::Registering;
        self.due = Some(now);
    }

    /// Asks for removal of the binding (`Expires: 0`, §10.2.2).
    pub fn stop(&mut self, now: Instant) {
        self.removing = true;
        self.state = RegistrationState::Unregistering;
        self.due = Some(now);
    }

    /// When the next REGISTER is due, unless one is in flight.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.in_flight {
            return None;
        }
        match (self.due, self.failback_at()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Writes the next REGISTER when one is due at `now`, returning its
    /// length. `branch` is the new transaction's Via branch.
    pub fn poll_request(
        &mut self,
        now: Instant,
        me: &LocalIdentity,
        config: &RegisterConfig,
        rng: &mut Rng,
        branch: &str,
        buf: &mut [u8],
    ) -> Option<usize> {
        if self.in_flight {
            return None;
        }
        if self.due.is_none_or(|d| d > now) && !self.start_failback_if_due(now) {
            return None;
        }
        self.cseq = self.cseq.wrapping_add(1) & 0x7fff_ffff;
        let expires = if self.removing { 0 } else { self.wanted };
        let mut uri: Text<{ 4 + crate::ua::MAX_DOMAIN }> = Text::new();
        let _ = crate::message::push_all(&mut uri, &["sip:", &me.domain]);
        let mut w = MessageWriter::new(buf);
        w.request_line(Method::Register, &uri);
        me.write_via(&mut w, branch);
        w.header("Max-Forwards", "70");
        w.raw(b"From: ");
        me.write_aor(&mut w);
        w.text(&[";tag=", &self.from_tag, "\r\n"]);
        w.raw(b"To: ");
        me.write_aor(&mut w);
        w.raw(b"\r\n");
        w.header("Call-ID", &self.call_id);
        let cseq = Decimal::new(u64::from(self.cseq));
        w.header_text("CSeq", &[cseq.as_str(), " REGISTER"]);
        me.write_contact(&mut w);
        w.header("Expires", Decimal::new(u64::from(expires)).as_str());
        w.header("User-Agent", PRODUCT);
        let credentials = Credentials {
            username: if config.auth_user.is_empty() {
                &me.user
            } else {
                &config.auth_user
            },
            password: &config.password,
        };
        self.auth.write_answer(&mut w, rng, credentials)?;
        let n = w.finish(None, b"").ok()?;
        self.in_flight = true;
        self.due = None;
        Some(n)
    }

    /// The final response to the REGISTER in flight.
    pub fn on_response(
        &mut self,
        now: Instant,
        me: &LocalIdentity,
        config: &RegisterConfig,
        resp: &Message<'_>,
    ) -> RegistrationOutcome {
        let me_port = me.local.port();
        let Some(code) = resp.status() else {
            return RegistrationOutcome::Ignored;
        };
        if !self.in_flight || code < 200 {
            return RegistrationOutcome::Ignored;
        }
        self.in_flight = false;
        self.note_answer();
        match code {
            200..=299 if self.removing => {
                self.state = RegistrationState::Idle;
                self.auth.settle();
                RegistrationOutcome::Unregistered
            }
            200..=299 => {
                // §10.2.4: the registrar's grant is the Contact's expires,
                // else the Expires header, else what was asked.
                let granted = granted_expires(resp, me_port)
                    .or_else(|| resp.expires().and_then(|e| e.ok()))
                    .unwrap_or(self.wanted)
                    .max(1);
                let until = now + Duration::from_secs(granted.into());
                self.state = RegistrationState::Registered { until };
                // Refresh ahead of expiry: halfway for short grants, else
                // 30 s before, so a lost REGISTER still has retries left.
                let lead = if granted < 60 { granted / 2 } else { 30 };
                self.due = Some(now + Duration::from_secs((granted - lead).max(1).into()));
                self.backoff = Duration::ZERO;
                self.auth.settle();
                self.failover_success(now, config);
                RegistrationOutcome::Registered(granted)
            }
            401 | 407 => match self.auth.on_challenge(resp) {
                ChallengeVerdict::Retry => {
                    self.due = Some(now);
                    RegistrationOutcome::Retrying
                }
                ChallengeVerdict::Refused => self.fail(now, code, config),
            },
            423 => {
                // §10.2.8: retry with at least Min-Expires.
                match resp.min_expires().and_then(|m| m.ok()) {
                    Some(min) if min > self.wanted => {
                        self.wanted = min;
                        self.due = Some(now);
                        RegistrationOutcome::Retrying
                    }
                    _ => self.fail(now, code, config),
                }
            }
            _ => self.fail(now, code, config),
        }
    }

    /// The REGISTER's transaction timed out (Timer F): treated as 408.
    pub fn on_timeout(&mut self, now: Instant, config: &RegisterConfig) -> RegistrationOutcome {
        if !self.in_flight {
            return RegistrationOutcome::Ignored;
        }
        self.in_flight = false;
        self.note_answer();
        self.fail(now, 408, config)
    }

    fn fail(&mut self, now: Instant, code: u16, config: &RegisterConfig) -> RegistrationOutcome {
        self.auth.settle();
        if let Some(outcome) = self.failover_on_failure(now, code, config) {
            return outcome;
        }
        if self.removing {
            self.state = RegistrationState::Idle;
            self.due = None;
            return RegistrationOutcome::Failed(code);
        }
        // Exponential back-off so a dead registrar is not hammered.
        self.backoff = if self.backoff == Duration::ZERO {
            config.min_backoff
        } else {
            self.backoff.saturating_mul(2).min(config.max_backoff)
        };
        let retry_at = now + self.backoff;
        self.state = RegistrationState::Failed { retry_at, code };
        self.due = Some(retry_at);
        RegistrationOutcome::Failed(code)
    }
}

/// The expiry the registrar granted to this phone's Contact (§10.2.4): the
/// Contact with our port, else the only one.
fn granted_expires(resp: &Message<'_>, our_port: u16) -> Option<u32> {
    let Some(Ok(Contacts::List(list))) = resp.contacts() else {
        return None;
    };
    let mut first = None;
    for c in list.flatten() {
        if c.addr.uri.port.unwrap_or(5060) == our_port {
            return c.expires;
        }
        first = first.or(Some(c.expires));
    }
    first.flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ua::text;

    fn me() -> LocalIdentity {
        LocalIdentity {
            user: text("bob").unwrap(),
            domain: text("biloxi.example.com").unwrap(),
            display_name: Text::new(),
            local: "192.0.2.4:5060".parse().unwrap(),
            transport: "UDP",
        }
    }

    fn config() -> RegisterConfig {
        RegisterConfig {
            password: text("zanzibar").unwrap(),
            ..RegisterConfig::default()
        }
    }

    fn response(code: u16, extra: &str) -> heapless::Vec<u8, 1024> {
        let mut v = heapless::Vec::new();
        let mut s: Text<1024> = Text::new();
        let _ = core::fmt::write(
            &mut s,
            format_args!(
                "SIP/2.0 {code} X\r\nVia: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK1\r\n\
                 From: <sip:bob@biloxi.example.com>;tag=1\r\nTo: <sip:bob@biloxi.example.com>;tag=2\r\n\
                 Call-ID: c\r\nCSeq: 1 REGISTER\r\n{extra}Content-Length: 0\r\n\r\n"
            ),
        );
        let _ = v.extend_from_slice(s.as_bytes());
        v
    }

    #[test]
    fn challenge_then_success_then_refresh_before_expiry() {
        let mut rng = Rng::new(1);
        let mut reg = Registration::new(&mut rng, 3600);
        let (me, cfg) = (me(), config());
        let t0 = Instant::from_millis(1000);
        assert!(reg
            .poll_request(t0, &me, &cfg, &mut rng, "z9hG4bK1", &mut [0u8; 1300])
            .is_none());
        reg.start(t0);
        let mut buf = [0u8; 1300];
        let n = reg
            .poll_request(t0, &me, &cfg, &mut rng, "z9hG4bK1", &mut buf)
            .unwrap();
        let first_bytes = buf;
        let first = Message::parse_datagram(&first_bytes[..n]).unwrap();
        assert_eq!(first.method(), Some(Method::Register));
        assert_eq!(first.expires(), Some(Ok(3600)));
        assert!(first.authorization().is_none());

        let ch = response(401, "WWW-Authenticate: Digest realm=\"biloxi.example.com\", qop=\"auth\", nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", opaque=\"\"\r\n");
        let ch = Message::parse_datagram(&ch).unwrap();
        assert_eq!(
            reg.on_response(t0, &me, &cfg, &ch),
            RegistrationOutcome::Retrying
        );
        let n = reg
            .poll_request(t0, &me, &cfg, &mut rng, "z9hG4bK2", &mut buf)
            .unwrap();
        let second = Message::parse_datagram(&buf[..n]).unwrap();
        assert_eq!(second.cseq().unwrap().unwrap().seq, 2);
        assert_eq!(second.call_id(), first.call_id());
        let cred = second.authorization().unwrap().unwrap().digest().unwrap();
        assert_eq!(cred.username, Some("bob"));
        assert_eq!(cred.nc, Some(1));

        let ok = response(200, "Contact: <sip:bob@192.0.2.4:5060>;expires=120\r\n");
        let ok = Message::parse_datagram(&ok).unwrap();
        assert_eq!(
            reg.on_response(t0, &me, &cfg, &ok),
            RegistrationOutcome::Registered(120)
        );
        // Refreshed 30 s before the 120 s grant runs out.
        assert_eq!(reg.poll_timeout(), Some(t0 + Duration::from_secs(90)));
    }

    #[test]
    fn wrong_password_fails_with_backoff_and_423_raises_the_interval() {
        let mut rng = Rng::new(2);
        let mut reg = Registration::new(&mut rng, 60);
        let (me, cfg) = (me(), config());
        let t0 = Instant::ZERO;
        let mut buf = [0u8; 1300];
        reg.start(t0);
        reg.poll_request(t0, &me, &cfg, &mut rng, "z9hG4bK1", &mut buf)
            .unwrap();
        let brief = response(423, "Min-Expires: 600\r\n");
        let brief = Message::parse_datagram(&brief).unwrap();
        assert_eq!(
            reg.on_response(t0, &me, &cfg, &brief),
            RegistrationOutcome::Retrying
        );
        let n = reg
            .poll_request(t0, &me, &cfg, &mut rng, "z9hG4bK2", &mut buf)
            .unwrap();
        assert_eq!(
            Message::parse_datagram(&buf[..n]).unwrap().expires(),
            Some(Ok(600))
        );

        let ch = response(401, "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n");
        let ch = Message::parse_datagram(&ch).unwrap();
        assert_eq!(
            reg.on_response(t0, &me, &cfg, &ch),
            RegistrationOutcome::Retrying
        );
        reg.poll_request(t0, &me, &cfg, &mut rng, "z9hG4bK3", &mut buf)
            .unwrap();
        // Challenged again although credentials were sent: they are wrong.
        assert_eq!(
            reg.on_response(t0, &me, &cfg, &ch),
            RegistrationOutcome::Failed(401)
        );
        assert_eq!(reg.poll_timeout(), Some(t0 + Duration::from_secs(30)));
        reg.poll_request(
            t0 + Duration::from_secs(30),
            &me,
            &cfg,
            &mut rng,
            "z9hG4bK4",
            &mut buf,
        )
        .unwrap();
        assert_eq!(
            reg.on_timeout(t0 + Duration::from_secs(62), &cfg),
            RegistrationOutcome::Failed(408)
        );
        // Back-off doubled.
        assert_eq!(reg.poll_timeout(), Some(t0 + Duration::from_secs(62 + 60)));
    }
}
