//! The call usage (RFC 3261 §13-15): the state of one INVITE session and
//! the messages only a call writes (the initial INVITE, answers carrying
//! SDP). The phone facade drives it: it owns the transaction and dialog
//! tables and routes every message to the call it belongs to.

pub mod reliable;
pub mod session_timer;
pub mod update;

use core::net::SocketAddr;

use crate::dialog::DialogHandle;
use crate::media::MediaStream;
use crate::message::{Decimal, Message, MessageWriter, Method};
use crate::rng::Rng;
use crate::sdp::MediaSession;
use crate::time::{Duration, Instant};
use crate::transaction::{Branch, BufferId, TransactionId};
use crate::ua::{self, random_token, LocalIdentity, Text};

use session_timer::SessionTimer;

/// Length of the tags the phone draws for its calls (From of an outgoing
/// call, To of an incoming one).
pub const LOCAL_TAG_LEN: usize = 12;

/// Length of the Call-IDs the phone draws for its outgoing calls.
pub const CALL_ID_LEN: usize = 24;

/// Why a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// This phone hung up an established call.
    LocalHangup,
    /// The other party hung up.
    RemoteHangup,
    /// This phone cancelled its outgoing call.
    Cancelled,
    /// The caller cancelled before this phone answered.
    CallerCancelled,
    /// This phone rejected the incoming call with this status.
    Rejected(u16),
    /// The callee (or a proxy) answered with a final error status; 513
    /// when a 2xx created a dialog too large for this phone to keep.
    Failed(u16),
    /// Nobody answered within the configured ring time.
    NoAnswer,
    /// The other side stopped answering: a transaction timed out
    /// (RFC 3261 §17.1.1.2 Timer B, §17.1.2.2 Timer F) or the ACK never came.
    Timeout,
    /// Another call took its place (INVITE with Replaces, RFC 3891).
    Replaced,
    /// The session timer ran out: no refresh came, or ours never
    /// succeeded (RFC 4028 §10).
    SessionExpired,
}

/// Which way a call was set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallDirection {
    /// This phone placed it.
    Outgoing,
    /// This phone received it.
    Incoming,
}

/// How long to wait before offering again after the peer refused our
/// re-INVITE or UPDATE with 491 (RFC 3261 §14.1, RFC 3311 §5.2).
pub fn glare_retry_delay(direction: CallDirection, rng: &mut Rng) -> Duration {
    // RFC 3261 §14.1: the Call-ID's owner (the side that sent the initial
    // INVITE) waits 2.1 to 4 s, the other side 0 to 2 s, in 10 ms steps, so
    // the two offers do not collide again.
    let ms = match direction {
        CallDirection::Outgoing => 2100 + 10 * u64::from(rng.below(191)),
        CallDirection::Incoming => 10 * u64::from(rng.below(201)),
    };
    Duration::from_millis(ms)
}

/// Where a call stands (RFC 3261 §13 with the UI states of a desk phone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallState {
    /// INVITE sent, nothing heard yet.
    Calling,
    /// A provisional response arrived (ringing, early media).
    Proceeding,
    /// CANCEL sent or due; waiting for the INVITE's final response.
    Cancelling,
    /// An INVITE arrived and rings; waiting for the user.
    Ringing,
    /// 200 OK sent; waiting for the ACK (§13.3.1.4).
    Answering,
    /// The session is established.
    Confirmed,
}

/// A 2xx the call retransmits until the ACK comes (RFC 3261 §13.3.1.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingOk {
    /// The response as sent, in a buffer borrowed from the phone's message
    /// pool (the transaction table's) and given back when the ACK comes,
    /// when the phone gives up, or when the call ends.
    pub bytes: BufferId,
    /// Where it goes.
    pub to: SocketAddr,
    /// The CSeq number of the INVITE it answers: only an ACK with this
    /// number stops it (a re-INVITE's 2xx is acknowledged by its own ACK).
    pub cseq: u32,
    /// The next retransmission.
    pub next: Instant,
    /// The current interval (T1 doubling up to T2).
    pub interval: Duration,
    /// When to give up and end the call (64·T1).
    pub give_up: Instant,
}

/// A re-INVITE this phone sent and has no final answer to yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnReinvite {
    /// Whether it asks for hold (`true`) or resume.
    pub hold: bool,
    /// Its CSeq number.
    pub cseq: u32,
    /// When to stop waiting for its final response: Timer C and 64·T1
    /// after it was sent, when no final response can come any more.
    pub give_up: Instant,
}

/// One call slot's state.
#[derive(Debug)]
pub struct Call {
    /// Who placed the call.
    pub direction: CallDirection,
    /// Where it stands.
    pub state: CallState,
    /// Its dialog once one exists (early or confirmed).
    pub dialog: Option<DialogHandle>,
    /// Our tag (From for outgoing, To for incoming calls), drawn by the
    /// phone. The Call-ID is not kept here: the INVITE's transaction holds
    /// it until a dialog does.
    pub local_tag: Text<LOCAL_TAG_LEN>,
    /// The transaction of the INVITE in progress (initial or re-INVITE,
    /// either direction).
    pub invite_tx: Option<TransactionId>,
    /// The CSeq number of the initial INVITE.
    pub invite_cseq: u32,
    /// The CSeq and branch of the last ACK sent, so that the ACK re-sent
    /// for a retransmitted 2xx is the same message (§13.2.2.4).
    pub ack_branch: Option<(u32, Branch)>,
    /// Offer/answer state.
    pub media: MediaSession,
    /// The media stream, once media flows.
    pub stream: Option<MediaStream>,
    /// This call's RTP address.
    pub rtp_local: SocketAddr,
    /// Whether a provisional response arrived (a CANCEL may only follow
    /// one, §9.1).
    pub provisional_seen: bool,
    /// Why the call is being cancelled, once the user or the ring timer
    /// asked for it.
    pub cancel_reason: Option<EndReason>,
    /// Whether the CANCEL went out.
    pub cancel_sent: bool,
    /// When an unanswered outgoing call is cancelled.
    pub no_answer_at: Option<Instant>,
    /// Our 2xx awaiting its ACK.
    pub pending_ok: Option<PendingOk>,
    /// Our re-INVITE awaiting its final response.
    pub own_reinvite: Option<OwnReinvite>,
    /// A hold or resume to retry after glare (§14.1), and when.
    pub glare_retry: Option<(Instant, bool)>,
    /// Whether the peer has put us on hold.
    pub held_by_peer: bool,
    /// The session timer (RFC 4028), inert unless the call uses one.
    pub session_timer: SessionTimer,
    /// Reliable provisional responses (RFC 3262), either role.
    pub reliable: reliable::ReliableProvisionals,
    /// UPDATE (RFC 3311): ours in flight, a glare retry.
    pub update: update::UpdateState,
}

impl Call {
    /// A fresh call in `state`.
    pub fn new(
        direction: CallDirection,
        state: CallState,
        media: MediaSession,
        rtp_local: SocketAddr,
    ) -> Call {
        Call {
            direction,
            state,
            dialog: None,
            local_tag: Text::new(),
            invite_tx: None,
            invite_cseq: 1,
            ack_branch: None,
            media,
            stream: None,
            rtp_local,
            provisional_seen: false,
            cancel_reason: None,
            cancel_sent: false,
            no_answer_at: None,
            pending_ok: None,
            own_reinvite: None,
            glare_retry: None,
            held_by_peer: false,
            session_timer: SessionTimer::default(),
            reliable: reliable::ReliableProvisionals::default(),
            update: update::UpdateState::default(),
        }
    }

    /// The earliest of the call's own timers (ring timeout, 2xx
    /// retransmission, glare retry, media).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t = self.no_answer_at;
        for c in [
            self.pending_ok.as_ref().map(|p| p.next.min(p.give_up)),
            self.glare_retry.map(|g| g.0),
            self.own_reinvite.map(|o| o.give_up),
            self.stream.as_ref().and_then(|s| s.poll_timeout()),
            self.session_timer.poll_timeout(),
            self.reliable.uas.poll_timeout(),
            self.update.poll_timeout(),
        ] {
            t = match (t, c) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, None) => a,
                (None, b) => b,
            };
        }
        t
    }

    /// Whether the call is established.
    pub fn is_confirmed(&self) -> bool {
        self.state == CallState::Confirmed
    }

    /// Whether the pending offer is that of our UPDATE (RFC 3311), not of
    /// the INVITE in progress.
    pub fn update_offer_pending(&self) -> bool {
        self.update.own.is_some_and(|u| u.offer)
    }
}

/// Writes a new out-of-dialog INVITE to `target` (RFC 3261 §8.1.1, §13.2.1)
/// with `sdp` as offer, drawing Call-ID and tag into `call`.
pub fn write_initial_invite(
    w: &mut MessageWriter<'_>,
    call: &mut Call,
    me: &LocalIdentity,
    target: &str,
    rng: &mut Rng,
    branch: &str,
    sdp: &[u8],
) {
    let call_id: Text<CALL_ID_LEN> = random_token(rng, CALL_ID_LEN);
    call.local_tag = random_token(rng, LOCAL_TAG_LEN);
    w.request_line(Method::Invite, target);
    me.write_via(w, branch);
    w.header("Max-Forwards", "70");
    w.raw(b"From: ");
    me.write_aor(w);
    w.text(&[";tag=", &call.local_tag, "\r\n"]);
    w.header_text("To", &["<", target, ">"]);
    w.header("Call-ID", &call_id);
    let cseq = Decimal::new(u64::from(call.invite_cseq));
    w.header_text("CSeq", &[cseq.as_str(), " INVITE"]);
    me.write_contact(w);
    w.header("Allow", ua::ALLOW);
    w.header("Supported", call.session_timer.supported());
    w.header("User-Agent", ua::PRODUCT);
    if !sdp.is_empty() {
        w.header("Content-Type", "application/sdp");
    }
}

/// Writes a response to an INVITE (initial or re-INVITE) that creates or
/// continues a dialog: Record-Route echoed (§12.1.1), Contact, and the
/// SDP when given. Returns the length.
pub fn write_invite_response(
    buf: &mut [u8],
    req: &Message<'_>,
    code: u16,
    local_tag: &str,
    me: &LocalIdentity,
    sdp: &[u8],
) -> Option<usize> {
    write_invite_response_with(buf, req, code, local_tag, me, None, sdp)
}

/// [`write_invite_response`] for a call whose session timer (RFC 4028 §9)
/// adds its Supported value and answer headers to a 2xx.
pub fn write_invite_response_with(
    buf: &mut [u8],
    req: &Message<'_>,
    code: u16,
    local_tag: &str,
    me: &LocalIdentity,
    timer: Option<&SessionTimer>,
    sdp: &[u8],
) -> Option<usize> {
    let mut w = MessageWriter::new(buf);
    let reason = crate::message::reason_phrase(code);
    ua::write_response_head(
        &mut w,
        req,
        code,
        reason,
        Some(local_tag),
        (101..300).contains(&code),
    );
    if code < 300 {
        me.write_contact(&mut w);
    }
    if (200..300).contains(&code) {
        w.header("Allow", ua::ALLOW);
        w.header("Supported", timer.map_or(ua::SUPPORTED, |t| t.supported()));
        if let Some(t) = timer {
            t.write_answer_headers(&mut w);
        }
    }
    w.header("Server", ua::PRODUCT);
    let ct = (!sdp.is_empty()).then_some("application/sdp");
    w.finish(ct, sdp).ok()
}
