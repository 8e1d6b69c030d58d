//! Session timers (RFC 4028): a keep-alive for an INVITE session. One side,
//! the refresher, repeats the session (a re-INVITE with the unchanged SDP)
//! every half interval; the other ends the call with BYE when the refresh
//! never comes, so a call whose peer vanished (or whose BYE was lost) does
//! not hold a line, a proxy's record-route state or a media port for good.
//!
//! This is the per-call negotiation and clock, free of the phone: what a
//! request or a 2xx says, which headers ours carry, when the next refresh
//! or the expiry is due. The phone sends and receives the messages.
//!
//! "uac" and "uas" in the headers name the roles of one transaction, which
//! change from request to request; the running timer keeps who refreshes
//! from this phone's point of view.

use crate::message::{push_all, Decimal, Message, MessageWriter, Method, Refresher};
use crate::time::{Duration, Instant};
use crate::ua::Text;

/// The smallest session interval RFC 4028 §4 allows, and the Min-SE of a
/// request that carries none (§5).
pub const MIN_SE_FLOOR: u32 = 90;

/// How many 422 responses one request follows: every proxy on the path
/// may raise the minimum once (RFC 4028 §7.4).
pub const MAX_422_RETRIES: u8 = 4;

/// The option tag of the extension (RFC 4028 §3).
pub const TIMER_TAG: &str = "timer";

/// [`ua::SUPPORTED`](crate::ua::SUPPORTED) with the `timer` option tag, for
/// the requests and 2xx responses of a call that runs session timers
/// (RFC 4028 §7.1: every request but ACK lists it).
pub const SUPPORTED_WITH_TIMER: &str = "replaces, norefersub, timer";

/// How this phone refreshes a session it is the refresher of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RefreshMethod {
    /// A re-INVITE offering the session unchanged.
    #[default]
    ReInvite,
    /// An UPDATE without a body (RFC 4028 §10 recommends it) when the
    /// peer lists UPDATE in Allow, else a re-INVITE.
    UpdateWhenAllowed,
}

/// A Session-Expires value as written (`1800;refresher=uac`).
pub type SessionExpiresValue = Text<32>;

/// The session-timer settings of a phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionTimerSettings {
    /// Whether the phone uses session timers at all. Off (as on most desk
    /// phones out of the box): requests carry none of the headers, and
    /// Session-Expires in a peer's request is ignored, as by a UA without
    /// the extension (RFC 4028 §9).
    pub enabled: bool,
    /// The session interval asked for, in seconds.
    pub session_expires: u32,
    /// The smallest interval accepted, in seconds; never below 90 (§4).
    pub min_se: u32,
    /// Who should refresh: asked for in our INVITE, chosen when a peer's
    /// INVITE leaves it open. `None` leaves it to the answerer; this phone,
    /// answering, then lets the caller refresh.
    pub refresher: Option<Refresher>,
    /// How this phone refreshes when it is the refresher.
    pub refresh_method: RefreshMethod,
}

impl Default for SessionTimerSettings {
    fn default() -> Self {
        SessionTimerSettings {
            enabled: false,
            session_expires: 1800,
            min_se: MIN_SE_FLOOR,
            refresher: None,
            refresh_method: RefreshMethod::ReInvite,
        }
    }
}

impl SessionTimerSettings {
    /// The effective Min-SE: the setting, raised to the floor of §4.
    pub fn floor(&self) -> u32 {
        self.min_se.max(MIN_SE_FLOOR)
    }

    /// The interval to ask for: the setting, never below our own minimum.
    pub fn interval(&self) -> u32 {
        self.session_expires.max(self.floor())
    }
}

/// What the next 2xx to a peer's INVITE says about the timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerAnswer {
    /// The session interval, in seconds.
    pub interval: u32,
    /// Who refreshes, in the roles of that INVITE's transaction.
    pub refresher: Refresher,
    /// Whether the 2xx carries `Require: timer` (the caller supports the
    /// extension, RFC 4028 §9).
    pub require: bool,
}

/// A session timer that runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunningTimer {
    /// The session interval, in seconds.
    pub interval: u32,
    /// Whether this phone sends the refreshes.
    pub local_refresher: bool,
    /// When this phone sends the next refresh (refresher only; `None`
    /// while one is in flight).
    pub refresh_at: Option<Instant>,
    /// When the session counts as expired and this phone ends it with BYE.
    pub expire_at: Instant,
}

impl RunningTimer {
    /// A timer started `now` for `interval` seconds. RFC 4028 §10: the
    /// refresher refreshes at half the interval; the other side sends BYE
    /// before expiry, by the smaller of 32 s and a third of the interval.
    /// The refresher gives up at the full interval (its own refresh, with
    /// every retransmission, has failed by then).
    pub fn start(now: Instant, interval: u32, local_refresher: bool) -> RunningTimer {
        let full = Duration::from_secs(u64::from(interval));
        if local_refresher {
            RunningTimer {
                interval,
                local_refresher,
                refresh_at: Some(now + Duration::from_micros(full.as_micros() / 2)),
                expire_at: now + full,
            }
        } else {
            let margin = Duration::from_secs(32).min(Duration::from_micros(full.as_micros() / 3));
            let until = full.as_micros().saturating_sub(margin.as_micros());
            RunningTimer {
                interval,
                local_refresher,
                refresh_at: None,
                expire_at: now + Duration::from_micros(until),
            }
        }
    }

    /// The earlier of the two deadlines.
    pub fn next_deadline(&self) -> Instant {
        match self.refresh_at {
            Some(r) => r.min(self.expire_at),
            None => self.expire_at,
        }
    }
}

/// What a session timer asks of the phone when its deadline passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerDue {
    /// Send a refresh now.
    Refresh,
    /// No refresh came (or ours never succeeded): end the call with BYE.
    Expired,
}

/// What became of a refresh of ours that got a final non-2xx response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshFailure {
    /// The response was not to a refresh of ours.
    NotOurs,
    /// Refresh again at this instant (491 glare, 500 or 503 with
    /// Retry-After, 422 with a larger Min-SE, or another refusal that
    /// leaves the dialog up).
    RetryAt(Instant),
    /// RFC 4028 §10: a 408 or 481 ends the session.
    EndSession,
}

/// The session-timer state of one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionTimer {
    settings: SessionTimerSettings,
    /// The interval our next request asks for.
    requested: u32,
    /// The Min-SE our requests carry: our own, raised by 422 responses and
    /// by the peer's requests (RFC 4028 §7.4).
    min_se: u32,
    running: Option<RunningTimer>,
    answer: Option<TimerAnswer>,
    /// The CSeq of the refresh re-INVITE in flight.
    refreshing: Option<u32>,
    /// 422 responses followed for the current request.
    retries: u8,
    /// The peer lists UPDATE in Allow (of its INVITE or its 2xx).
    peer_allows_update: bool,
}

impl Default for SessionTimer {
    fn default() -> Self {
        SessionTimer::new(SessionTimerSettings::default())
    }
}

impl SessionTimer {
    /// The timer of a new call under `settings`; inert when they are off.
    pub fn new(settings: SessionTimerSettings) -> SessionTimer {
        SessionTimer {
            settings,
            requested: settings.interval(),
            min_se: settings.floor(),
            running: None,
            answer: None,
            refreshing: None,
            retries: 0,
            peer_allows_update: false,
        }
    }

    /// Whether the call uses session timers.
    pub fn enabled(&self) -> bool {
        // Built without the `session-timer` feature, never.
        cfg!(feature = "session-timer") && self.settings.enabled
    }

    /// The Supported value for the call's requests and 2xx responses.
    pub fn supported(&self) -> &'static str {
        if self.enabled() {
            SUPPORTED_WITH_TIMER
        } else {
            crate::ua::SUPPORTED
        }
    }

    /// The running timer, if any.
    pub fn running(&self) -> Option<RunningTimer> {
        self.running
    }

    /// The interval our next request asks for.
    pub fn requested(&self) -> u32 {
        self.requested
    }

    /// The Min-SE our requests carry.
    pub fn min_se(&self) -> u32 {
        self.min_se
    }

    /// Writes Session-Expires and, when it is not the default, Min-SE into
    /// a request (initial INVITE or re-INVITE; RFC 4028 §7.1, §7.4). A
    /// refresh names the current refresher in the roles of the new
    /// request; the initial INVITE asks for the preferred one, or leaves it
    /// to the answerer.
    pub fn write_request_headers(&self, w: &mut MessageWriter<'_>) {
        let Some(value) = self.request_value() else {
            return;
        };
        w.header("Session-Expires", &value);
        if self.min_se != MIN_SE_FLOOR {
            w.header("Min-SE", Decimal::new(u64::from(self.min_se)).as_str());
        }
    }

    /// The Session-Expires value of our next request, `None` when the call
    /// runs no timer. See [`Self::write_request_headers`].
    pub fn request_value(&self) -> Option<SessionExpiresValue> {
        if !self.enabled() {
            return None;
        }
        let (interval, refresher) = match self.running {
            Some(r) => (
                r.interval.max(self.min_se),
                Some(if r.local_refresher {
                    Refresher::Uac
                } else {
                    Refresher::Uas
                }),
            ),
            None => (self.requested, self.settings.refresher),
        };
        Some(se_value(interval, refresher))
    }

    /// The Min-SE our requests carry when it is not the default.
    pub fn min_se_value(&self) -> Option<Text<12>> {
        let mut v = Text::new();
        (self.enabled() && self.min_se != MIN_SE_FLOOR)
            .then(|| {
                v.push_str(Decimal::new(u64::from(self.min_se)).as_str())
                    .ok()
                    .map(|_| v)
            })
            .flatten()
    }

    /// Writes Supported and the timer headers into a re-INVITE of a call
    /// that runs session timers (a re-INVITE carries no Supported of its
    /// own otherwise).
    pub fn write_reinvite_headers(&self, w: &mut MessageWriter<'_>) {
        if self.enabled() {
            w.header("Supported", self.supported());
            self.write_request_headers(w);
        }
    }

    /// Writes Session-Expires with the refresher and, when the caller
    /// supports the extension, `Require: timer` into the 2xx answering a
    /// peer's INVITE (RFC 4028 §9).
    pub fn write_answer_headers(&self, w: &mut MessageWriter<'_>) {
        if let Some((value, require)) = self.answer_value() {
            w.header("Session-Expires", &value);
            if require {
                w.header("Require", TIMER_TAG);
            }
        }
    }

    /// The Session-Expires value of the next 2xx to a peer's request and
    /// whether it carries `Require: timer`; `None` when it carries neither.
    pub fn answer_value(&self) -> Option<(SessionExpiresValue, bool)> {
        let a = self.answer.filter(|_| self.enabled())?;
        Some((se_value(a.interval, Some(a.refresher)), a.require))
    }

    /// Whether our next refresh goes as an UPDATE: the settings ask for it
    /// and the peer allows the method.
    pub fn refresh_by_update(&self) -> bool {
        // UPDATE comes with the `prack` feature (RFC 3311).
        cfg!(feature = "prack")
            && self.settings.refresh_method == RefreshMethod::UpdateWhenAllowed
            && self.peer_allows_update
    }

    /// Decides on a peer's INVITE (initial or re-INVITE) as its UAS
    /// (RFC 4028 §9), keeping what the 2xx will say. `Err` carries our
    /// Min-SE for a 422 Session Interval Too Small.
    pub fn on_request(&mut self, req: &Message<'_>) -> Result<(), u32> {
        if !self.enabled() {
            return Ok(());
        }
        self.note_allow(req);
        let uac_supports = req
            .supported()
            .and_then(Result::ok)
            .is_some_and(|t| t.contains(TIMER_TAG));
        let their_min = req
            .min_se()
            .and_then(Result::ok)
            .unwrap_or(MIN_SE_FLOOR)
            .max(MIN_SE_FLOOR);
        // §7.4: later requests of ours carry the largest Min-SE seen.
        self.min_se = self.min_se.max(their_min);
        let floor = self.settings.floor().max(their_min);
        let asked = req.session_expires().and_then(Result::ok);
        let (interval, asked_refresher) = match asked {
            Some(se) if se.delta < self.settings.floor() => {
                if uac_supports {
                    // §9: too small for us, and the caller can retry.
                    return Err(self.settings.floor().max(their_min));
                }
                // The caller cannot understand a 422 (a proxy added the
                // header): raise the interval instead (RFC 4028 erratum
                // 1687, as §8.1 asks of a proxy).
                (floor, None)
            }
            // §9: the answerer may shorten the interval, not below Min-SE.
            Some(se) => (
                se.delta.min(self.settings.interval()).max(floor),
                se.refresher,
            ),
            None => (self.settings.interval().max(floor), None),
        };
        let refresher = if !uac_supports {
            // §9: only a caller that supports the extension can refresh.
            Refresher::Uas
        } else {
            // Mid-call, a request that leaves it open keeps the side that
            // refreshes now, so a hold from the other party does not move
            // the duty back and forth.
            let current = self.running.map(|r| {
                if r.local_refresher {
                    Refresher::Uas
                } else {
                    Refresher::Uac
                }
            });
            asked_refresher
                .or(current)
                .or(self.settings.refresher)
                .unwrap_or(Refresher::Uac)
        };
        self.answer = Some(TimerAnswer {
            interval,
            refresher,
            require: uac_supports,
        });
        Ok(())
    }

    /// The 2xx carrying [`Self::write_answer_headers`] went out `now`: the
    /// timer (re)starts (RFC 4028 §9, §10).
    pub fn answered(&mut self, now: Instant) {
        if let Some(a) = self.answer.take().filter(|_| self.enabled()) {
            self.running = Some(RunningTimer::start(
                now,
                a.interval,
                a.refresher == Refresher::Uas,
            ));
        }
    }

    /// A 2xx to an INVITE of ours (initial or re-INVITE) arrived `now`
    /// (RFC 4028 §7.2). Its Session-Expires sets the interval and who
    /// refreshes; without one the peer runs no timer, and this phone keeps
    /// refreshing at its own interval, which §7.2 allows and which keeps
    /// stateful proxies' view of the call alive.
    pub fn on_uac_2xx(&mut self, now: Instant, resp: &Message<'_>) {
        if !self.enabled() {
            return;
        }
        self.refreshing = None;
        self.retries = 0;
        self.note_allow(resp);
        let (interval, local) = match resp.session_expires().and_then(Result::ok) {
            // A peer below the Min-SE we sent breaks §9; it cannot make
            // this phone refresh faster than its own minimum.
            Some(se) => (
                se.delta.max(self.min_se),
                se.refresher != Some(Refresher::Uas),
            ),
            None => (self.requested, true),
        };
        self.running = Some(RunningTimer::start(now, interval, local));
    }

    /// A 422 to our initial INVITE (RFC 4028 §7.4): whether to send it
    /// again, asking for the 422's Min-SE. `false` when the timer is off,
    /// the 422 names no usable Min-SE, or too many 422s came already.
    pub fn on_422(&mut self, resp: &Message<'_>) -> bool {
        if !self.enabled() || self.retries >= MAX_422_RETRIES {
            return false;
        }
        let Some(Ok(min)) = resp.min_se() else {
            return false;
        };
        // A 422 whose Min-SE we already met would loop.
        if min <= self.requested && min <= self.min_se {
            return false;
        }
        self.retries = self.retries.saturating_add(1);
        self.min_se = self.min_se.max(min);
        self.requested = self.requested.max(self.min_se);
        if let Some(r) = self.running.as_mut() {
            r.interval = r.interval.max(self.min_se);
        }
        true
    }

    /// The earliest deadline of the running timer.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.running.map(|r| r.next_deadline())
    }

    /// What is due at `now`. A refresh is reported once; the phone then
    /// calls [`Self::refresh_sent`] or [`Self::refresh_later`].
    pub fn due(&mut self, now: Instant) -> Option<TimerDue> {
        let r = self.running.as_mut()?;
        if r.expire_at <= now {
            self.running = None;
            return Some(TimerDue::Expired);
        }
        if r.refresh_at.is_some_and(|t| t <= now) {
            r.refresh_at = None;
            return Some(TimerDue::Refresh);
        }
        None
    }

    /// Our refresh re-INVITE numbered `cseq` went out.
    pub fn refresh_sent(&mut self, cseq: u32) {
        self.refreshing = Some(cseq);
    }

    /// The refresh could not go out now (another exchange is in progress);
    /// try again at `at`, if the session is still alive then.
    pub fn refresh_later(&mut self, at: Instant) {
        if let Some(r) = self.running.as_mut().filter(|r| r.local_refresher) {
            r.refresh_at = Some(at.min(r.expire_at));
        }
    }

    /// Whether our INVITE numbered `cseq` is a refresh of ours (its 2xx
    /// changes nothing the user sees).
    pub fn is_refresh(&self, cseq: u32) -> bool {
        self.enabled() && self.refreshing == Some(cseq)
    }

    /// A final non-2xx `code` to our re-INVITE numbered `cseq` came `now`.
    /// `retry_delay` is how long to wait before refreshing again when the
    /// refusal leaves the dialog up (the §14.1 glare delay, Retry-After).
    pub fn on_refresh_failure(
        &mut self,
        now: Instant,
        cseq: u32,
        resp: &Message<'_>,
        retry_delay: Duration,
    ) -> RefreshFailure {
        if !self.is_refresh(cseq) {
            return RefreshFailure::NotOurs;
        }
        self.refreshing = None;
        let code = resp.status().unwrap_or(500);
        match code {
            // §10: the session is gone.
            408 | 481 => RefreshFailure::EndSession,
            // An UPDATE the peer turned down after all: re-INVITE next time.
            405 | 501 if self.refresh_by_update() => {
                self.peer_allows_update = false;
                self.refresh_later(now);
                RefreshFailure::RetryAt(now)
            }
            // §7.4 in a dialog: ask again for at least the 422's Min-SE.
            422 if self.on_422(resp) => {
                self.refresh_later(now);
                RefreshFailure::RetryAt(now)
            }
            _ => {
                let at = now + retry_delay;
                self.refresh_later(at);
                RefreshFailure::RetryAt(at)
            }
        }
    }
}

impl SessionTimer {
    /// Keeps whether the peer's message lists UPDATE in Allow.
    fn note_allow(&mut self, m: &Message<'_>) {
        if let Some(Ok(allow)) = m.allow() {
            self.peer_allows_update = allow.contains_method(Method::Update);
        }
    }
}

/// `interval[;refresher=uac|uas]`.
fn se_value(interval: u32, refresher: Option<Refresher>) -> SessionExpiresValue {
    let mut v = Text::new();
    let interval = Decimal::new(u64::from(interval));
    let _ = match refresher {
        Some(who) => push_all(
            &mut v,
            &[interval.as_str(), ";refresher=", refresher_token(who)],
        ),
        None => push_all(&mut v, &[interval.as_str()]),
    };
    v
}

fn refresher_token(r: Refresher) -> &'static str {
    match r {
        Refresher::Uac => "uac",
        Refresher::Uas => "uas",
    }
}

#[cfg(all(test, feature = "session-timer"))]
mod tests;
