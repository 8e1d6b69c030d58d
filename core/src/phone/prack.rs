//! Reliable provisional responses (RFC 3262: `100rel`, RSeq, RAck, PRACK)
//! and UPDATE (RFC 3311) for the phone's calls, in both roles.
//!
//! As UAS the phone rings with a reliable 180 when the caller requires
//! `100rel`, or supports it and the policy's
//! [`ReliableProvisional`](crate::call::reliable::ReliableProvisional) is
//! not `Off`. The 180 carries the session description (the answer to the
//! INVITE's offer, or the offer of a late-offer INVITE), so the early
//! dialog can carry UPDATEs; it is retransmitted until its PRACK, and a
//! 2xx waits for that PRACK.
//!
//! As UAC the phone acknowledges every reliable provisional response of
//! its early dialog that comes in sequence, whatever its own setting: it
//! always supports the extension.
//!
//! UPDATE: [`Phone::on_update`] answers an incoming one (a refresh without
//! SDP, or an offer), [`Phone::send_update`] sends one (a refresh, or a new
//! offer of the call's media); the session timer uses both.

use core::net::SocketAddr;

use super::calls::{answer_offer, insert_uac_dialog, take_answer};
use super::{CallHandle, CommandError, EndReason, Event, InputError, Phone};
use crate::call::reliable::{
    write_reliable_provisional, ProvisionalTimer, Receipt, ReliableReceiver, OPTION_TAG,
};
use crate::call::update::{judge_update, OwnUpdate, UpdateVerdict};
use crate::call::{glare_retry_delay, CallDirection, CallState};
use crate::message::{push_all, reason_phrase, Decimal, Message, MessageWriter, Method};
use crate::transaction::{
    InviteServerState, Transaction, TransactionError, TransactionId, MAX_MESSAGE,
};
use crate::ua::{self, Text};

/// Longest Unsupported value the phone writes.
const MAX_UNSUPPORTED: usize = 128;

/// The status an INVITE gets when its reliable provisional response is
/// never acknowledged (RFC 3262 §3 asks for a 5xx).
const PRACK_TIMEOUT_STATUS: u16 = 500;

/// Whether `tag` names an extension this phone supports: one it lists in
/// Supported (`supported`), or `100rel` (with the `prack` feature).
fn supports_option(supported: &str, tag: &str) -> bool {
    (cfg!(feature = "prack") && tag.eq_ignore_ascii_case(OPTION_TAG))
        || supported
            .split(',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(tag))
}

/// Whether an option-tag list names `100rel` (a malformed list counts as not).
fn lists_100rel(
    list: Option<Result<crate::message::TokenList<'_>, crate::message::ParseError>>,
) -> bool {
    list.and_then(Result::ok)
        .is_some_and(|l| l.contains(OPTION_TAG))
}

impl<const CALLS: usize, const TXNS: usize, const COMPLETED: usize, const BUFFERS: usize>
    Phone<CALLS, TXNS, COMPLETED, BUFFERS>
{
    /// RFC 3261 §8.2.2.3: a request that requires an extension the phone
    /// does not know gets 420 Bad Extension listing it in Unsupported.
    /// With the policy requiring `100rel`, a new INVITE that neither
    /// requires nor supports it gets 421 Extension Required. `None` lets
    /// the request go on.
    // Own frame: the refusal's transaction stays off the stack of the
    // request handlers that run after the check.
    #[inline(never)]
    pub(super) fn check_extensions(
        &mut self,
        from: SocketAddr,
        raw: &[u8],
        req: &Message<'_>,
        in_dialog: bool,
    ) -> Option<Result<(), InputError>> {
        let method = req.method()?;
        if matches!(method, Method::Ack | Method::Cancel) {
            return None;
        }
        let mut unknown: Text<MAX_UNSUPPORTED> = Text::new();
        let mut refused = false;
        let supported = self.new_session_timer().supported();
        if let Some(Ok(tags)) = req.require() {
            for tag in tags.filter(|t| !supports_option(supported, t)) {
                refused = true;
                let sep = if unknown.is_empty() { "" } else { ", " };
                // A list too long to repeat in full is cut short; the
                // refusal stands either way.
                let _ = push_all(&mut unknown, &[sep, tag]);
            }
        }
        let (code, extra): (u16, (&str, &str)) = if refused {
            (420, ("Unsupported", unknown.as_str()))
        } else if method == Method::Invite
            && !in_dialog
            && self
                .policy
                .reliable_provisional
                .refuses_without(lists_100rel(req.require()), lists_100rel(req.supported()))
        {
            (421, ("Require", OPTION_TAG))
        } else {
            return None;
        };
        if method != Method::Invite {
            return Some(self.respond_with_body(raw, req, from, code, &[extra], b""));
        }
        let to = ua::response_destination(req, from);
        match self.txns.start_server(
            raw,
            to,
            self.config.reliability,
            self.config.timers,
            self.now,
        ) {
            Ok(id) => self.reply_in_invite_tx(id, req, code, &[extra]),
            Err(TransactionError::TableFull) => {
                self.stats.refused_full = self.stats.refused_full.saturating_add(1);
                return Some(self.respond_stateless(req, to, 503, &[("Retry-After", "5")]));
            }
            Err(_) => return Some(Err(InputError::Unusable)),
        }
        Some(Ok(()))
    }

    /// Rings the new incoming call in `slot` with a reliable 180 when the
    /// INVITE `req` (server transaction `id`) asks for one (RFC 3262 §3).
    /// Returns false when the 180 is to go out as usual.
    pub(super) fn send_reliable_ringing(
        &mut self,
        slot: usize,
        id: TransactionId,
        req: &Message<'_>,
    ) -> bool {
        let wanted = self
            .policy
            .reliable_provisional
            .answers_reliably(lists_100rel(req.require()), lists_100rel(req.supported()));
        if !wanted {
            return false;
        }
        let Some(Some(call)) = self.calls.get(slot) else {
            return false;
        };
        let Ok(rseq) = call.reliable.uas.next_rseq(&mut self.rng) else {
            return false;
        };
        // RFC 3262 §5: the INVITE's offer is answered here (a late-offer
        // INVITE gets our offer), so the early dialog's offer/answer is
        // complete once the PRACK comes, and UPDATE may follow.
        let mut sdp = [0u8; 512];
        let Ok(sdp_len) = call.media.local().write(&mut sdp) else {
            return false;
        };
        let cseq = req.cseq().and_then(|c| c.ok()).map_or(0, |c| c.seq);
        let mut buf = [0u8; MAX_MESSAGE];
        let Some(n) = write_reliable_provisional(
            &mut buf,
            req,
            180,
            &call.local_tag,
            &self.config.identity,
            rseq,
            sdp.get(..sdp_len).unwrap_or(&[]),
        ) else {
            return false;
        };
        let bytes = buf.get(..n).unwrap_or(&[]);
        let Some(peer) = self.txns.get(id).map(|t| t.peer()) else {
            return false;
        };
        if self.txns.send_response(id, self.now, bytes).is_err() {
            return false;
        }
        let t1 = self.config.timers.t1;
        if let Some(Some(c)) = self.calls.get_mut(slot) {
            c.reliable.uas.sent(rseq, cseq, sdp_len > 0, self.now, t1);
        }
        self.transmit(peer, bytes);
        true
    }

    /// Whether answering the call in `slot` must wait for the PRACK of a
    /// provisional response that carried SDP (RFC 3262 §3); the answer
    /// then goes out with that PRACK.
    pub(super) fn answer_waits_for_prack(&mut self, slot: usize) -> bool {
        if !cfg!(feature = "prack") {
            return false;
        }
        match self.calls.get_mut(slot) {
            Some(Some(c)) if c.reliable.uas.holds_final() => {
                c.reliable.uas.answer_waiting = true;
                true
            }
            _ => false,
        }
    }

    /// Whether the 2xx to the ringing call in `slot` leaves its SDP out:
    /// the answer already went in a reliable provisional response, and an
    /// answer is given once (RFC 3264 §4, RFC 3262 §5).
    pub(super) fn answered_in_provisional(&self, slot: usize) -> bool {
        cfg!(feature = "prack")
            && matches!(self.calls.get(slot), Some(Some(c))
            if c.state == CallState::Ringing
                && c.reliable.uas.sdp_sent()
                && !c.media.offer_pending())
    }

    /// A PRACK in the dialog of the call in `slot` (RFC 3262 §3): 200 when
    /// its RAck names the provisional response awaiting it, else 481.
    // Own frame, as every in-dialog request handler: its locals stay out of
    // `on_in_dialog_request`'s frame, which is on the run loop's deepest
    // chains.
    #[inline(never)]
    pub(super) fn on_prack(
        &mut self,
        slot: usize,
        from: SocketAddr,
        raw: &[u8],
        req: &Message<'_>,
    ) -> Result<(), InputError> {
        let Some(Ok(rack)) = req.rack() else {
            return self.respond_with_body(raw, req, from, 400, &[], b"");
        };
        let handle = self.handle(slot);
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return self.respond_with_body(raw, req, from, 481, &[], b"");
        };
        if call
            .reliable
            .uas
            .on_prack(rack.rseq, rack.cseq, rack.method)
            .is_none()
        {
            return self.respond_with_body(raw, req, from, 481, &[], b"");
        }
        // A late-offer INVITE: our offer went in the provisional response,
        // the answer comes in the PRACK (RFC 3262 §5).
        if call.media.offer_pending() && !req.body().is_empty() {
            let _ = take_answer(&mut call.media, req.body());
        }
        let answer_now = core::mem::take(&mut call.reliable.uas.answer_waiting);
        self.respond_with_body(raw, req, from, 200, &[], b"")?;
        if answer_now {
            if let Err(e) = self.answer(handle) {
                self.event(Event::CommandFailed(e));
            }
        }
        Ok(())
    }

    /// What a provisional response to the INVITE of the call in `slot`
    /// means under RFC 3262 §4: `None` to discard it (a retransmission, or
    /// out of sequence), `Some(Some(rseq))` to process and acknowledge it,
    /// `Some(None)` to process it as an unreliable one.
    pub(super) fn judge_provisional(
        &mut self,
        slot: usize,
        resp: &Message<'_>,
    ) -> Option<Option<u32>> {
        // RFC 3262 §4: without the `prack` feature the INVITE never said
        // it supports 100rel, so every provisional counts as unreliable.
        let reliable = cfg!(feature = "prack")
            && resp.status().is_some_and(|c| c > 100)
            && lists_100rel(resp.require());
        let Some(Ok(rseq)) = resp.rseq().filter(|_| reliable) else {
            return Some(None);
        };
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return Some(None);
        };
        // The sequence is that of the call's early dialog: it starts anew
        // with the first dialog (again after a redirect or a 422 retry).
        // Another fork's early dialog is not kept: each of its reliable
        // provisional responses is acknowledged as it comes (§4 asks for a
        // PRACK in every early dialog).
        if call.dialog.is_none() {
            call.reliable.uac = ReliableReceiver::default();
        }
        let other_fork = call
            .dialog
            .and_then(|d| self.dialogs.get(d))
            .is_some_and(|d| !d.matches_response(resp));
        if other_fork {
            return Some(Some(rseq));
        }
        match call.reliable.uac.receive(rseq) {
            Receipt::Acknowledge => Some(Some(rseq)),
            Receipt::Duplicate | Receipt::OutOfOrder => None,
        }
    }

    /// Acknowledges the reliable provisional response `resp` numbered
    /// `rseq` with a PRACK in the call's early dialog, its own non-INVITE
    /// transaction (RFC 3262 §7.2: `RAck: rseq cseq method`).
    pub(super) fn send_prack(&mut self, slot: usize, rseq: u32, resp: &Message<'_>) {
        let Some(Ok(cseq)) = resp.cseq() else {
            return;
        };
        let mut rack: Text<48> = Text::new();
        let (rseq, seq) = (
            Decimal::new(u64::from(rseq)),
            Decimal::new(u64::from(cseq.seq)),
        );
        let parts = [rseq.as_str(), " ", seq.as_str(), " ", cseq.method.as_str()];
        if push_all(&mut rack, &parts).is_err() {
            return;
        }
        let extra: [(&str, &str); 1] = [("RAck", &rack)];
        let own = match self.calls.get(slot) {
            Some(Some(c)) => c.dialog.filter(|&d| {
                self.dialogs
                    .get(d)
                    .is_some_and(|d| d.matches_response(resp))
            }),
            _ => None,
        };
        if let Some(dh) = own {
            let _ = self.send_in_dialog_of(dh, Method::Prack, &extra, None, b"");
            return;
        }
        // Another fork: its early dialog, built from the INVITE and this
        // response, lives just long enough to send the PRACK. The INVITE
        // is read where its transaction keeps it; the dialog borrows
        // nothing of it, so the phone is free again once it is built.
        let tx = match self.calls.get(slot) {
            Some(Some(c)) => c.invite_tx,
            _ => None,
        };
        let Some(invite) = tx.and_then(|id| self.txns.message(id)) else {
            return;
        };
        let Ok(req) = Message::parse_datagram(invite) else {
            return;
        };
        let Some(inserted) = insert_uac_dialog(&mut self.dialogs, &req, resp) else {
            return;
        };
        if let Some(dh) = inserted {
            let _ = self.send_in_dialog_of(dh, Method::Prack, &extra, None, b"");
            self.dialogs.discard(dh);
        }
    }

    /// The reliable provisional responses' timers and the UPDATE glare
    /// retries of every call.
    pub(super) fn run_reliable_timers(&mut self) {
        for slot in self.call_slots() {
            let Some(Some(call)) = self.calls.get_mut(slot) else {
                continue;
            };
            let due = call.reliable.uas.poll(self.now);
            let tx = call.invite_tx;
            let retry = call.update.retry.filter(|r| r.0 <= self.now);
            if retry.is_some() {
                call.update.retry = None;
            }
            // The INVITE still without a final response: once it has one,
            // the caller's transaction takes no provisional any more.
            let proceeding = match tx.and_then(|id| self.txns.get(id)) {
                Some(Transaction::InviteServer(t)) => t.state() == InviteServerState::Proceeding,
                _ => false,
            };
            match due {
                Some(ProvisionalTimer::Retransmit) if proceeding => {
                    if let Some(id) = tx {
                        self.resend_server_message(id);
                    }
                }
                Some(ProvisionalTimer::Retransmit) => {
                    if let Some(Some(c)) = self.calls.get_mut(slot) {
                        c.reliable.uas.stop();
                    }
                }
                Some(ProvisionalTimer::GiveUp) => {
                    // RFC 3262 §3: no PRACK within 64·T1 rejects the INVITE.
                    let ringing = matches!(self.calls.get(slot), Some(Some(c)) if c.state == CallState::Ringing);
                    if ringing && proceeding {
                        self.final_to_incoming(slot, PRACK_TIMEOUT_STATUS);
                        self.end_call(slot, EndReason::Timeout);
                        continue;
                    }
                }
                None => {}
            }
            if let Some((_, offer)) = retry {
                let _ = self.send_update(slot, offer, &[]);
            }
        }
    }

    /// Sends the message transaction `id` holds again, to its peer.
    fn resend_server_message(&mut self, id: TransactionId) {
        let mut copy = [0u8; MAX_MESSAGE];
        let (Some(t), Some(bytes)) = (self.txns.get(id), self.txns.message(id)) else {
            return;
        };
        let peer = t.peer();
        let n = bytes.len();
        if let Some(dst) = copy.get_mut(..n) {
            dst.copy_from_slice(bytes);
            self.transmit(peer, copy.get(..n).unwrap_or(&[]));
        }
    }

    /// An UPDATE in the (early or confirmed) dialog of the call in `slot`
    /// (RFC 3311 §5.2): without SDP a refresh of the session, answered
    /// 200; with an offer, 200 with the answer, 488 when it cannot be
    /// accepted, 491 when our own offer is pending (glare), 500 with
    /// Retry-After while an offer we received is still unanswered.
    // Own frame, as every in-dialog request handler: its locals stay out of
    // `on_in_dialog_request`'s frame, which is on the run loop's deepest
    // chains.
    #[inline(never)]
    pub(super) fn on_update(
        &mut self,
        slot: usize,
        from: SocketAddr,
        raw: &[u8],
        req: &Message<'_>,
    ) -> Result<(), InputError> {
        let handle = self.handle(slot);
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return self.respond_with_body(raw, req, from, 481, &[], b"");
        };
        let answer_unsent = call.direction == CallDirection::Incoming
            && call.state == CallState::Ringing
            && !call.reliable.uas.sdp_sent();
        let verdict = judge_update(
            !req.body().is_empty(),
            answer_unsent,
            call.media.offer_pending(),
        );
        match verdict {
            UpdateVerdict::Refresh => {}
            UpdateVerdict::Glare => return self.respond_to_update(slot, raw, req, from, 491),
            UpdateVerdict::Busy => {
                return self.respond_with_body(raw, req, from, 500, &[("Retry-After", "1")], b"")
            }
            UpdateVerdict::Answer => {
                let was_held = call.held_by_peer;
                let answer = answer_offer(&mut call.media, &self.config.media, req.body());
                let Ok(neg) = answer else {
                    return self.respond_to_update(slot, raw, req, from, 488);
                };
                let confirmed = call.is_confirmed();
                let held_now = !neg.direction.receives() || call.media.is_held_by_peer();
                if confirmed {
                    call.held_by_peer = held_now;
                }
                self.respond_to_update(slot, raw, req, from, 200)?;
                self.apply_media(slot);
                if confirmed && held_now && !was_held {
                    self.event(Event::Held {
                        call: handle,
                        by_remote: true,
                    });
                } else if confirmed && !held_now && was_held {
                    self.event(Event::Resumed(handle));
                }
                return Ok(());
            }
        }
        self.respond_to_update(slot, raw, req, from, 200)
    }

    /// Answers an UPDATE of the call in `slot` with `code`: a 2xx carries
    /// Contact (UPDATE refreshes the remote target, RFC 3311 §5.2) and, when
    /// an offer was answered, the call's SDP. The one place a 2xx to
    /// UPDATE is written, for the session timer's headers as well.
    pub(super) fn respond_to_update(
        &mut self,
        slot: usize,
        raw: &[u8],
        req: &Message<'_>,
        from: SocketAddr,
        code: u16,
    ) -> Result<(), InputError> {
        // RFC 4028 §9: a refresh below our Min-SE gets 422; a 2xx carries
        // the session timer and restarts it.
        let timer = match (200..300).contains(&code) {
            true => match self.session_timer_on_update(slot, req) {
                Ok(t) => t,
                Err(min_se) => {
                    return self.respond_with_body(raw, req, from, 422, &[("Min-SE", &min_se)], b"")
                }
            },
            false => None,
        };
        let mut sdp = [0u8; 512];
        let mut sdp_len = 0;
        if let Some(Some(call)) = self.calls.get_mut(slot) {
            if (200..300).contains(&code) {
                if let Some(d) = call.dialog.and_then(|d| self.dialogs.get_mut(d)) {
                    let _ = d.refresh_remote_target(req);
                }
                if !req.body().is_empty() {
                    sdp_len = call.media.local().write(&mut sdp).unwrap_or(0);
                }
            }
        }
        let extra = timer.as_ref().map(|t| t.extra()).unwrap_or_default();
        self.respond_with_body(
            raw,
            req,
            from,
            code,
            &extra,
            sdp.get(..sdp_len).unwrap_or(&[]),
        )?;
        if timer.is_some() {
            self.session_timer_answered(slot);
        }
        Ok(())
    }

    /// Sends an UPDATE in the dialog of the call in `slot` (RFC 3311 §5.1):
    /// with a new offer of the call's media when `with_offer`, else a bare
    /// refresh; `extra` headers are added (Session-Expires for the session
    /// timer). An offer needs the previous offer/answer complete and no
    /// UPDATE of ours in flight. Returns its transaction.
    pub(super) fn send_update(
        &mut self,
        slot: usize,
        with_offer: bool,
        extra: &[(&str, &str)],
    ) -> Option<TransactionId> {
        let call = self.calls.get_mut(slot)?.as_mut()?;
        call.dialog?;
        if call.update.own.is_some() {
            return None;
        }
        let mut sdp = [0u8; 512];
        let mut sdp_len = 0;
        if with_offer {
            if call.media.offer_pending() || call.media.negotiated().is_none() {
                return None;
            }
            sdp_len = call
                .media
                .create_offer(&self.config.media)
                .write(&mut sdp)
                .ok()?;
        }
        let ct = with_offer.then_some("application/sdp");
        let sent = self.send_in_dialog(
            slot,
            Method::Update,
            extra,
            ct,
            sdp.get(..sdp_len).unwrap_or(&[]),
        );
        let call = self.calls.get_mut(slot)?.as_mut()?;
        match sent {
            Some(tx) => {
                call.update.own = Some(OwnUpdate {
                    tx,
                    offer: with_offer,
                });
                Some(tx)
            }
            None => {
                if with_offer {
                    call.media.offer_failed();
                }
                None
            }
        }
    }

    /// The user's [`Command::Update`](super::Command::Update): a new offer
    /// of the call's media in an UPDATE, early or established.
    pub(super) fn update_media(&mut self, h: CallHandle) -> Result<(), CommandError> {
        let slot = self.slot(h)?;
        let ok = matches!(self.calls.get(slot), Some(Some(c))
            if c.dialog.is_some()
                && c.cancel_reason.is_none()
                && c.own_reinvite.is_none()
                && c.update.own.is_none()
                && c.media.negotiated().is_some()
                && !c.media.offer_pending());
        if !ok {
            return Err(CommandError::WrongState);
        }
        self.send_update(slot, true, &[])
            .map(|_| ())
            .ok_or(CommandError::NoResources)
    }

    /// A final response to one of our UPDATEs; false when `id` is no
    /// UPDATE of ours.
    pub(super) fn update_on_response(&mut self, id: TransactionId, resp: &Message<'_>) -> bool {
        let Some(slot) = self.calls.iter().position(|c| {
            c.as_ref()
                .is_some_and(|c| c.update.own.is_some_and(|u| u.tx == id))
        }) else {
            return false;
        };
        let code = resp.status().unwrap_or(0);
        if code < 200 {
            return true;
        }
        self.update_done(slot, code, resp);
        true
    }

    /// Our UPDATE's transaction `id` timed out: as a 408 (RFC 3261
    /// §12.2.1.2).
    pub(super) fn update_on_timeout(&mut self, id: TransactionId) {
        let slot = self.calls.iter().position(|c| {
            c.as_ref()
                .is_some_and(|c| c.update.own.is_some_and(|u| u.tx == id))
        });
        if let Some(slot) = slot {
            self.update_finished(slot, 408, None);
        }
    }

    fn update_done(&mut self, slot: usize, code: u16, resp: &Message<'_>) {
        self.update_finished(slot, code, Some(resp));
    }

    /// Our UPDATE of the call in `slot` ended with `code` (`resp` when a
    /// response came).
    fn update_finished(&mut self, slot: usize, code: u16, resp: Option<&Message<'_>>) {
        if resp.is_some_and(|r| self.session_timer_update_done(slot, code, r)) {
            return;
        }
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return;
        };
        let Some(own) = call.update.own.take() else {
            return;
        };
        if (200..300).contains(&code) {
            if let (Some(d), Some(r)) = (call.dialog.and_then(|d| self.dialogs.get_mut(d)), resp) {
                let _ = d.refresh_remote_target(r);
            }
            if own.offer {
                let body = resp.map_or(&[][..], |r| r.body());
                let answered = take_answer(&mut call.media, body).is_some();
                if !answered {
                    // The agreed media stay as they were.
                    call.media.offer_failed();
                } else {
                    self.apply_media(slot);
                }
            }
            return;
        }
        if own.offer {
            call.media.offer_failed();
        }
        match code {
            // RFC 3311 §5.2 / RFC 3261 §14.1: glare; try again after a
            // random delay.
            491 => {
                let delay = glare_retry_delay(call.direction, &mut self.rng);
                call.update.retry = Some((self.now + delay, own.offer));
            }
            // RFC 3261 §12.2.1.2: 481 and 408 end an established dialog.
            408 | 481 if call.is_confirmed() => {
                self.send_bye(slot);
                self.end_call(slot, EndReason::Timeout);
            }
            _ => {}
        }
    }

    /// Answers a non-INVITE request through a new server transaction with
    /// `code`, `extra` headers and `sdp` as body; a 2xx carries Contact.
    fn respond_with_body(
        &mut self,
        raw: &[u8],
        req: &Message<'_>,
        from: SocketAddr,
        code: u16,
        extra: &[(&str, &str)],
        sdp: &[u8],
    ) -> Result<(), InputError> {
        let to = ua::response_destination(req, from);
        // §8.2.6.2: a tag is added only where the request had none.
        let tag: Text<16> = ua::random_token(&mut self.rng, 10);
        let mut buf = [0u8; MAX_MESSAGE];
        let mut w = MessageWriter::new(&mut buf);
        ua::write_response_head(&mut w, req, code, reason_phrase(code), Some(&tag), false);
        if (200..300).contains(&code) {
            self.config.identity.write_contact(&mut w);
        }
        for (n, v) in extra {
            w.header(n, v);
        }
        w.header("Server", ua::PRODUCT);
        let ct = (!sdp.is_empty()).then_some("application/sdp");
        let Ok(n) = w.finish(ct, sdp) else {
            return Err(InputError::Unusable);
        };
        self.answer_in_new_server_transaction(raw, to, buf.get(..n).unwrap_or(&[]));
        Ok(())
    }
}

#[cfg(all(test, feature = "prack"))]
mod tests;
