//! DTMF by SIP INFO, the alternative to RFC 4733 telephone events that
//! many PBXs and desk phones still use: each digit travels as an INFO
//! within the call's dialog with an `application/dtmf-relay` body
//! (`Signal=5` and `Duration=160` lines), and a received INFO carrying
//! such a body, or an `application/dtmf` body of one digit, is reported as
//! [`Event::DtmfReceived`].
//!
//! INFO here is the legacy usage (RFC 6086 §2, compatible with RFC 2976):
//! no Info-Package header is sent. Digits leave one INFO at a time, in the
//! order they were asked for: two INFOs in flight at once may arrive in
//! either order (RFC 6086 §4.2.1 leaves ordering to the application), and
//! a reordered PIN is a wrong PIN.

use core::net::SocketAddr;

use heapless::Deque;

use super::{CallHandle, CommandError, Event, InputError, Phone};
use crate::call::CallState;
use crate::media::{dtmf_event_code, MediaError, MediaInput};
use crate::message::{push_all, Decimal, HeaderName, Message, Method};
use crate::time::Duration;
use crate::transaction::TransactionId;
use crate::ua::Text;

/// The body type of a DTMF INFO as desk phones and PBXs send it.
pub const DTMF_RELAY_TYPE: &str = "application/dtmf-relay";
/// The body type of a DTMF INFO holding the digit alone.
pub const DTMF_TYPE: &str = "application/dtmf";

/// Digits that may wait for their INFO, over all calls.
pub const INFO_DTMF_QUEUE: usize = 16;

/// The longest tone an INFO announces, in milliseconds.
const MAX_INFO_DURATION_MS: u64 = 10_000;

/// How the phone sends the digits of [`Command::SendDtmf`].
///
/// [`Command::SendDtmf`]: super::Command::SendDtmf
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DtmfMode {
    /// RFC 4733 telephone events in the call's RTP stream.
    #[default]
    Rfc4733,
    /// An INFO per digit with an `application/dtmf-relay` body.
    SipInfo,
    /// Both at once, for a far end whose mode is unknown.
    Both,
}

/// A digit read from a DTMF INFO body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InfoDigit {
    /// `0`-`9`, `*`, `#`, `A`-`D`.
    pub digit: char,
    /// The tone's length when the body gave one.
    pub duration: Option<Duration>,
}

/// Why a DTMF INFO body was not understood.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InfoBodyError {
    /// The body type is neither [`DTMF_RELAY_TYPE`] nor [`DTMF_TYPE`].
    UnknownType,
    /// The body has no `Signal` (or no digit at all).
    NoSignal,
    /// The signal is not a DTMF digit or event code 0-15.
    BadSignal,
}

/// Reads the digit of a DTMF INFO body of type `content_type`.
pub fn parse_dtmf_info(content_type: &str, body: &[u8]) -> Result<InfoDigit, InfoBodyError> {
    let media_type = content_type.split(';').next().unwrap_or("").trim_ascii();
    let text = core::str::from_utf8(body).map_err(|_| InfoBodyError::BadSignal)?;
    if media_type.eq_ignore_ascii_case(DTMF_RELAY_TYPE) {
        let mut digit = None;
        let mut duration = None;
        for line in text.lines() {
            let Some((name, value)) = line.split_once('=') else {
                continue;
            };
            let (name, value) = (name.trim_ascii(), value.trim_ascii());
            if name.eq_ignore_ascii_case("Signal") {
                digit = Some(signal_digit(value).ok_or(InfoBodyError::BadSignal)?);
            } else if name.eq_ignore_ascii_case("Duration") {
                duration = value
                    .parse::<u32>()
                    .ok()
                    .map(|ms| Duration::from_millis(ms.into()));
            }
        }
        let digit = digit.ok_or(InfoBodyError::NoSignal)?;
        Ok(InfoDigit { digit, duration })
    } else if media_type.eq_ignore_ascii_case(DTMF_TYPE) {
        let value = text.trim_ascii();
        if value.is_empty() {
            return Err(InfoBodyError::NoSignal);
        }
        let digit = signal_digit(value).ok_or(InfoBodyError::BadSignal)?;
        Ok(InfoDigit {
            digit,
            duration: None,
        })
    } else {
        Err(InfoBodyError::UnknownType)
    }
}

/// A signal as a digit: the digit itself, or its RFC 4733 §3.2 event
/// code (`10` for `*`, `11` for `#`, `12`-`15` for `A`-`D`), which some
/// gateways send instead.
fn signal_digit(value: &str) -> Option<char> {
    const DIGITS: &[u8; 16] = b"0123456789*#ABCD";
    let mut chars = value.chars();
    if let (Some(c), None) = (chars.next(), chars.clone().next()) {
        if dtmf_event_code(c).is_some() {
            return Some(c.to_ascii_uppercase());
        }
    }
    let code: usize = value.parse().ok()?;
    DIGITS.get(code).map(|&b| char::from(b))
}

/// Writes the `application/dtmf-relay` body for `digit` lasting
/// `duration` into `out`.
pub fn write_dtmf_relay(digit: char, duration: Duration, out: &mut Text<48>) -> Option<()> {
    let ms = (duration.as_micros() / 1000).clamp(1, MAX_INFO_DURATION_MS);
    let mut utf8 = [0u8; 4];
    let digit = digit.encode_utf8(&mut utf8);
    let ms = Decimal::new(ms);
    push_all(
        out,
        &["Signal=", digit, "\r\nDuration=", ms.as_str(), "\r\n"],
    )
    .ok()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct QueuedDigit {
    call: CallHandle,
    digit: char,
    duration: Duration,
}

/// Room for INFO digits: none is ever queued in a phone built without
/// `info-dtmf` (every mode sends RFC 4733 events), so it keeps the one
/// slot a `Deque` must have.
const INFO_QUEUE_SLOTS: usize = if cfg!(feature = "info-dtmf") {
    INFO_DTMF_QUEUE
} else {
    1
};

/// The INFO digits waiting and the one in flight.
#[derive(Clone, Debug, Default)]
pub(super) struct InfoDtmf {
    queue: Deque<QueuedDigit, INFO_QUEUE_SLOTS>,
    in_flight: Option<TransactionId>,
}

impl<const CALLS: usize, const TXNS: usize, const COMPLETED: usize, const BUFFERS: usize>
    Phone<CALLS, TXNS, COMPLETED, BUFFERS>
{
    /// Sends `digit` on `call` the way the policy's DTMF mode says.
    pub(super) fn send_dtmf(
        &mut self,
        call: CallHandle,
        digit: char,
        duration: Duration,
    ) -> Result<(), CommandError> {
        let slot = self.slot(call)?;
        if dtmf_event_code(digit).is_none() || duration == Duration::ZERO {
            return Err(CommandError::InvalidDtmf);
        }
        let confirmed =
            matches!(self.calls.get(slot), Some(Some(c)) if c.state == CallState::Confirmed);
        if !confirmed {
            return Err(CommandError::WrongState);
        }
        // Built without `info-dtmf`, every mode sends RFC 4733 events.
        let mode = if cfg!(feature = "info-dtmf") {
            self.policy.dtmf_mode
        } else {
            DtmfMode::Rfc4733
        };
        let rtp = if matches!(mode, DtmfMode::Rfc4733 | DtmfMode::Both) {
            self.send_rtp_dtmf(slot, digit, duration)
        } else {
            Ok(())
        };
        if matches!(mode, DtmfMode::SipInfo | DtmfMode::Both) {
            let queued = QueuedDigit {
                call,
                digit: digit.to_ascii_uppercase(),
                duration,
            };
            self.info_dtmf
                .queue
                .push_back(queued)
                .map_err(|_| CommandError::NoResources)?;
            self.poll_info_dtmf();
            // In `Both` the INFO reaches a far end without telephone-event.
            return Ok(());
        }
        rtp
    }

    fn send_rtp_dtmf(
        &mut self,
        slot: usize,
        digit: char,
        duration: Duration,
    ) -> Result<(), CommandError> {
        let now = self.now;
        let Some(Some(c)) = self.calls.get_mut(slot) else {
            return Err(CommandError::UnknownCall);
        };
        let stream = c.stream.as_mut().ok_or(CommandError::WrongState)?;
        stream
            .handle_input(now, MediaInput::SendDtmf { digit, duration })
            .map_err(|e| match e {
                MediaError::InvalidDigit | MediaError::InvalidDuration => CommandError::InvalidDtmf,
                MediaError::DtmfQueueFull => CommandError::NoResources,
                _ => CommandError::WrongState,
            })
    }

    /// Sends the next waiting digit when no INFO is in flight. Digits of
    /// calls that ended are dropped.
    pub(super) fn poll_info_dtmf(&mut self) {
        while self.info_dtmf.in_flight.is_none() {
            let Some(next) = self.info_dtmf.queue.pop_front() else {
                return;
            };
            let Ok(slot) = self.slot(next.call) else {
                continue;
            };
            let mut body: Text<48> = Text::new();
            if write_dtmf_relay(next.digit, next.duration, &mut body).is_none() {
                continue;
            }
            let sent = self.send_in_dialog(
                slot,
                Method::Info,
                &[],
                Some(DTMF_RELAY_TYPE),
                body.as_bytes(),
            );
            match sent {
                Some(id) => self.info_dtmf.in_flight = Some(id),
                None => self.event(Event::CommandFailed(CommandError::NoResources)),
            }
        }
    }

    /// Takes a response to the INFO in flight; `false` when `id` is
    /// another transaction. Whatever the final status, the next digit
    /// follows: a refused digit is not sent again.
    pub(super) fn info_on_response(&mut self, id: TransactionId, resp: &Message<'_>) -> bool {
        if self.info_dtmf.in_flight != Some(id) {
            return false;
        }
        if resp.status().is_some_and(|c| c >= 200) {
            self.info_dtmf.in_flight = None;
            self.poll_info_dtmf();
        }
        true
    }

    /// The INFO transaction `id` timed out, if it is ours.
    pub(super) fn info_on_timeout(&mut self, id: TransactionId) {
        if self.info_dtmf.in_flight == Some(id) {
            self.info_dtmf.in_flight = None;
        }
    }

    /// Answers an INFO within the dialog of the call in `slot`.
    // Own frame, as every in-dialog request handler: its locals stay out of
    // `on_in_dialog_request`'s frame, which is on the run loop's deepest
    // chains.
    #[inline(never)]
    pub(super) fn on_info(
        &mut self,
        slot: usize,
        from: SocketAddr,
        raw: &[u8],
        req: &Message<'_>,
    ) -> Result<(), InputError> {
        // RFC 6086 §4.2.2: an INFO for an Info Package this phone never
        // announced (it announces none) is 469, with an empty Recv-Info.
        if req.header(HeaderName::Other("Info-Package")).is_some() {
            return self.respond_in_transaction_with(raw, req, from, 469, &[("Recv-Info", "")]);
        }
        // Legacy INFO (RFC 6086 §9, RFC 2976 §2.2): no body is a keep-alive
        // answered 200; a body whose type the phone does not know is 415
        // with the types it takes (RFC 3261 §21.4.13).
        let Some(content_type) = req.content_type() else {
            return self.respond_in_transaction(raw, req, from, 200);
        };
        if req.body().is_empty() {
            return self.respond_in_transaction(raw, req, from, 200);
        }
        match parse_dtmf_info(content_type, req.body()) {
            Ok(d) => {
                self.respond_in_transaction(raw, req, from, 200)?;
                let call = self.handle(slot);
                self.event(Event::DtmfReceived {
                    call,
                    digit: d.digit,
                });
                Ok(())
            }
            Err(InfoBodyError::UnknownType) => {
                let accept = [("Accept", "application/dtmf-relay, application/dtmf")];
                self.respond_in_transaction_with(raw, req, from, 415, &accept)
            }
            // RFC 3261 §21.4.1: a body of a known type that says nothing
            // usable is a malformed request.
            Err(_) => self.respond_in_transaction(raw, req, from, 400),
        }
    }
}

#[cfg(all(test, feature = "info-dtmf"))]
mod tests;
