//! What goes into a phone and what comes out of it.

pub use crate::call::EndReason;

/// A handle to one call. It carries the slot's generation, so a handle kept
/// after its call ended never reaches the call that reuses the slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallHandle {
    /// The call slot (a phone may have more than 256).
    pub slot: u16,
    /// How many calls the slot had held before this one.
    pub generation: u16,
}

/// Something the user (or the firmware's UI) asks the phone to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// Places a call to a SIP URI (`sip:bob@example.com`).
    Dial {
        /// The callee's URI.
        to: &'a str,
    },
    /// Answers a ringing incoming call with 200 OK.
    Answer(CallHandle),
    /// Rejects a ringing incoming call with a final status (486, 603, ...).
    Reject {
        /// The call.
        call: CallHandle,
        /// The 4xx-6xx status.
        code: u16,
    },
    /// Ends a call in any state: CANCEL while calling, reject while ringing,
    /// BYE once established.
    Hangup(CallHandle),
    /// Puts an established call on hold (re-INVITE with `a=sendonly`).
    Hold(CallHandle),
    /// Takes a held call off hold.
    Resume(CallHandle),
    /// Registers the configured address of record.
    Register,
    /// Removes the registration (`Expires: 0`).
    Unregister,
    /// Blind transfer: asks the other party of `call` to call `to` (REFER,
    /// RFC 3515). The call ends once the transfer is accepted or, when
    /// the transfer settings say so, once it succeeded.
    Transfer {
        /// The call whose other party is transferred.
        call: CallHandle,
        /// The transfer target's URI.
        to: &'a str,
    },
    /// Attended (or, while `consult` still rings, semi-attended) transfer:
    /// asks the other party of `held` to call the party of `consult` and
    /// take over this phone's call with it (REFER with Replaces, RFC 5589
    /// §7). On success both calls end.
    CompleteTransfer {
        /// The call whose other party is transferred (usually on hold).
        held: CallHandle,
        /// The call with the transfer target.
        consult: CallHandle,
    },
    /// Follows the transfer asked for in this call
    /// ([`Event::TransferRequested`]).
    AcceptTransfer(CallHandle),
    /// Refuses the transfer asked for in this call (603 Decline).
    RefuseTransfer(CallHandle),
    /// Replaces the feature settings (DND, forwarding, auto-answer, call
    /// waiting, ...); see [`Policy`](super::Policy).
    SetPolicy(&'a super::Policy),
    /// Joins two established calls into a local three-way conference:
    /// both are taken off hold and the shim is told to mix them
    /// ([`Event::ConferenceStarted`]).
    Conference(CallHandle, CallHandle),
    /// Ends the local conference; both calls stay up, the first one named
    /// is put on hold.
    SplitConference,
    /// Subscribes to message waiting (RFC 3842) of a voice mailbox and
    /// keeps the subscription refreshed ([`Event::MessageWaiting`]).
    SubscribeMwi {
        /// The mailbox: a user of the phone's domain, or `None` for the
        /// phone's own address of record.
        mailbox: Option<&'a str>,
    },
    /// Ends the message-waiting subscription ([`Event::MwiEnded`]).
    UnsubscribeMwi,
    /// Sends a DTMF digit on an established call, as the policy's
    /// [`DtmfMode`](super::DtmfMode) says: RFC 4733 events, an INFO, or
    /// both.
    SendDtmf {
        /// The call.
        call: CallHandle,
        /// `0`-`9`, `*`, `#`, `A`-`D`.
        digit: char,
        /// How long the tone lasts.
        duration: crate::time::Duration,
    },
    /// Offers the call's media anew in an UPDATE (RFC 3311): in an early
    /// dialog once the INVITE's offer was answered in a reliable
    /// provisional response, or in an established call without a
    /// re-INVITE. Refused while an offer is outstanding.
    Update(CallHandle),
}

/// Something the user should learn about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A call arrived and is ringing; answer or reject it.
    IncomingCall(CallHandle),
    /// A call this phone dials has left: its handle, for later commands.
    Calling(CallHandle),
    /// An outgoing call is ringing at the far end (180).
    Ringing(CallHandle),
    /// The far end sends early media (183 with SDP).
    EarlyMedia(CallHandle),
    /// The call is established.
    Answered(CallHandle),
    /// The call is on hold; `by_remote` tells who put it there.
    Held {
        /// The call.
        call: CallHandle,
        /// Whether the other party put the call on hold.
        by_remote: bool,
    },
    /// The call is off hold again.
    Resumed(CallHandle),
    /// The call ended; its handle is now stale.
    Ended {
        /// The call.
        call: CallHandle,
        /// Why.
        reason: EndReason,
    },
    /// The registrar accepted the registration for this many seconds.
    Registered {
        /// Granted expiry in seconds.
        expires: u32,
        /// Which registrar: 0 the primary, `n` the `n`-th of
        /// [`RegisterConfig::backup_registrars`](crate::register::RegisterConfig::backup_registrars).
        server: u8,
    },
    /// The registration was removed.
    Unregistered,
    /// The registrar refused, or did not answer (status 408).
    RegistrationFailed {
        /// The final status.
        code: u16,
        /// Which registrar, numbered as in [`Event::Registered`]. After a
        /// 408 or 503 the phone tries the next one at once.
        server: u8,
    },
    /// A command could not be carried out.
    CommandFailed(CommandError),
    /// The other party of `call` asks this phone to transfer (a REFER), or
    /// the ringing `call` would replace another call (INVITE with
    /// Replaces): answer with `AcceptTransfer` or `RefuseTransfer`.
    TransferRequested {
        /// The call.
        call: CallHandle,
    },
    /// A transfer this phone asked for progresses: 202 when the
    /// transferee accepted it, then the new call's provisional status.
    TransferProgress {
        /// The transferred call.
        call: CallHandle,
        /// The status.
        status: u16,
    },
    /// The transferee's new call was answered: the transfer is done.
    TransferSucceeded {
        /// The transferred call.
        call: CallHandle,
    },
    /// The transfer failed (refused, target busy or not answering); the
    /// call stays, on hold if it was, to be resumed.
    TransferFailed {
        /// The call.
        call: CallHandle,
        /// The status of the failure (408 when the outcome never came).
        code: u16,
    },
    /// The call `new` took over the call `old` (RFC 3891), which ended.
    Replaced {
        /// The replaced call, now ended.
        old: CallHandle,
        /// The call that replaces it.
        new: CallHandle,
    },
    /// An incoming call was refused or forwarded by policy (DND, forward,
    /// busy, anonymous rejection) without ringing: the final status sent.
    CallRefused {
        /// 302 when forwarded, else the refusal status.
        code: u16,
    },
    /// An outgoing call was redirected (3xx) and now tries the new target.
    Redirected(CallHandle),
    /// Mix these two calls' audio with the local microphone (local
    /// three-way conference).
    ConferenceStarted {
        /// The two calls.
        calls: [CallHandle; 2],
    },
    /// Stop mixing: the conference ended (by command or because one of its
    /// calls ended).
    ConferenceEnded,
    /// The voice mailbox reports its messages (a message-summary NOTIFY,
    /// RFC 3842): light the message lamp when `waiting`.
    MessageWaiting {
        /// `Messages-Waiting: yes`.
        waiting: bool,
        /// New voice messages.
        new: u32,
        /// Old voice messages.
        old: u32,
    },
    /// The message-waiting subscription was refused or not answered
    /// (408); it is retried after back-off unless the status was 489.
    MwiFailed {
        /// The final status.
        code: u16,
    },
    /// The message-waiting subscription ended (removed, or terminated by
    /// the mailbox for good).
    MwiEnded,
    /// The other party of `call` sent a DTMF digit by INFO
    /// (`application/dtmf-relay` or `application/dtmf`).
    DtmfReceived {
        /// The call.
        call: CallHandle,
        /// `0`-`9`, `*`, `#`, `A`-`D`.
        digit: char,
    },
}

/// Why a command was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandError {
    /// Every call slot is busy.
    NoFreeCallSlot,
    /// The handle names no live call.
    UnknownCall,
    /// The call is not in a state where the command applies.
    WrongState,
    /// The URI could not be parsed or routed.
    BadUri,
    /// The request did not fit its buffer or table.
    NoResources,
    /// Not a DTMF digit, or a tone of no length.
    InvalidDtmf,
    /// The phone was built without the cargo feature the command needs
    /// (`mwi` for the mailbox subscription, `prack` for UPDATE).
    Unsupported,
}
