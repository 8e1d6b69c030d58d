//! The phone's call handling: it routes INVITE sessions between the
//! transaction layer, the dialogs and the call usage, and carries out what
//! the user asks of a call.

use core::net::SocketAddr;

use super::{CallHandle, Command, CommandError, EndReason, Event, InputError, Phone};
use crate::call::{
    glare_retry_delay, write_initial_invite, write_invite_response, write_invite_response_with,
    Call, CallDirection, CallState, OwnReinvite, PendingOk,
};
use crate::dialog::{CSeqCheck, Dialog, DialogHandle, DialogState, DialogTable, RequestClass};
use crate::media::{MediaInput, MediaStream, StreamParams};
use crate::message::{Message, MessageWriter, Method, Uri};
use crate::sdp::{
    MediaPolicy, MediaSession, Negotiated, NegotiationError, SessionDescription, AUDIO_RTP_CLOCK,
};
use crate::time::Duration;
use crate::transaction::{
    new_branch, ClientEvent, TimerEvent, TransactionError, TransactionId, MAX_MESSAGE,
};
use crate::ua::{self, random_token};

/// RFC 3261 §16.6 step 11: Timer C, a proxy's limit for an INVITE branch
/// that had a provisional but no final response.
const REINVITE_TIMER_C: Duration = Duration::from_secs(180);

impl<const CALLS: usize, const TXNS: usize, const COMPLETED: usize, const BUFFERS: usize>
    Phone<CALLS, TXNS, COMPLETED, BUFFERS>
{
    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    pub(super) fn handle_call_command(&mut self, c: Command<'_>) {
        let result = match c {
            Command::Dial { to } => self.dial(to),
            Command::Transfer { call, to } => self.transfer_blind(call, to),
            Command::CompleteTransfer { held, consult } => self.complete_transfer(held, consult),
            Command::AcceptTransfer(h) => self.transfer_consent(h, true),
            Command::RefuseTransfer(h) => self.transfer_consent(h, false),
            Command::Answer(h) => self.answer(h),
            Command::Reject { call, code } => self.reject(call, code),
            Command::Hangup(h) => self.hangup(h),
            Command::Hold(h) => self.start_reinvite(h, true),
            Command::Resume(h) => self.start_reinvite(h, false),
            Command::Conference(..) | Command::SplitConference if !cfg!(feature = "conference") => {
                Err(CommandError::Unsupported)
            }
            Command::Conference(a, b) => self.start_conference(a, b),
            Command::SplitConference => self.split_conference(),
            Command::SendDtmf {
                call,
                digit,
                duration,
            } => self.send_dtmf(call, digit, duration),
            Command::Update(_) if !cfg!(feature = "prack") => Err(CommandError::Unsupported),
            Command::Update(h) => self.update_media(h),
            Command::Register
            | Command::Unregister
            | Command::SetPolicy(_)
            | Command::SubscribeMwi { .. }
            | Command::UnsubscribeMwi => Ok(()),
        };
        if let Err(e) = result {
            self.event(Event::CommandFailed(e));
        }
    }

    /// The slot index of a live call.
    pub(super) fn slot(&self, h: CallHandle) -> Result<usize, CommandError> {
        let i = usize::from(h.slot);
        match (self.calls.get(i), self.generations.get(i)) {
            (Some(Some(_)), Some(&g)) if g == h.generation => Ok(i),
            _ => Err(CommandError::UnknownCall),
        }
    }

    pub(super) fn handle(&self, slot: usize) -> CallHandle {
        CallHandle {
            slot: u16::try_from(slot).unwrap_or(u16::MAX),
            generation: self.generations.get(slot).copied().unwrap_or(0),
        }
    }

    fn free_slot(&self) -> Option<usize> {
        self.live_slots.iter().position(|live| !live)
    }

    fn new_media_session(&mut self, slot: usize) -> (MediaSession, SocketAddr) {
        let ip = self.config.identity.local.ip();
        let port = self
            .config
            .rtp_port
            .saturating_add((slot as u16).saturating_mul(2));
        let session_id = u64::from(self.rng.next_u32());
        (
            MediaSession::new(session_id, ip, port),
            SocketAddr::new(ip, port),
        )
    }

    /// Resolves a URI to the address a request for it is sent to: its IP
    /// host, else the outbound proxy (the core does no DNS).
    fn resolve(&self, uri: &str) -> Option<SocketAddr> {
        let parsed = Uri::parse(uri.trim_start_matches('<').trim_end_matches('>')).ok();
        let direct = parsed.and_then(|u| {
            let ip = u.host?.ip()?;
            Some(SocketAddr::new(ip, u.port.unwrap_or(5060)))
        });
        direct.or(self.config.outbound_proxy)
    }

    /// Where a new out-of-dialog request goes.
    pub(super) fn first_hop(&self, target: &str) -> Option<SocketAddr> {
        self.config.outbound_proxy.or_else(|| self.resolve(target))
    }

    /// Where an in-dialog request goes: the first route, else the remote
    /// target (RFC 3261 §12.2.1.1, §8.1.2).
    fn dialog_hop(&self, d: &Dialog) -> Option<SocketAddr> {
        match d.route_set().next() {
            Some(r) => self.resolve(r),
            None => self.resolve(d.remote_target()),
        }
    }

    fn dial(&mut self, to: &str) -> Result<(), CommandError> {
        self.dial_with(to, &[]).map(|_| ())
    }

    /// Places a call to `to`, with `extra` headers (Referred-By and
    /// Replaces for a transfer). Returns its slot.
    pub(super) fn dial_with(
        &mut self,
        to: &str,
        extra: &[(&str, &str)],
    ) -> Result<usize, CommandError> {
        let slot = self.start_outgoing_call(to, extra)?;
        let handle = self.handle(slot);
        self.event(Event::Calling(handle));
        Ok(slot)
    }

    /// Sets up an outgoing call in a free slot and sends its INVITE.
    // Own frame: the INVITE, its transaction and the call are built here,
    // and the events that follow (which may end other calls) run after
    // this frame is gone.
    #[inline(never)]
    fn start_outgoing_call(
        &mut self,
        to: &str,
        extra: &[(&str, &str)],
    ) -> Result<usize, CommandError> {
        Uri::parse(to).map_err(|_| CommandError::BadUri)?;
        let dest = self.first_hop(to).ok_or(CommandError::BadUri)?;
        let slot = self.free_slot().ok_or(CommandError::NoFreeCallSlot)?;
        let (media, rtp) = self.new_media_session(slot);
        // The call is built in its slot rather than on the stack and moved
        // there; the slot is taken into use (a new handle) only once the
        // INVITE is out, and left empty when it cannot be sent.
        self.place(
            slot,
            Call::new(CallDirection::Outgoing, CallState::Calling, media, rtp),
        );
        match self.send_initial_invite(slot, to, extra, dest) {
            Ok(()) => {
                self.take_slot(slot);
                Ok(slot)
            }
            Err(e) => {
                if let Some(entry) = self.calls.get_mut(slot) {
                    *entry = None;
                }
                Err(e)
            }
        }
    }

    /// Writes the initial INVITE of the call placed in `slot` and sends it
    /// to `dest` from a new client transaction.
    fn send_initial_invite(
        &mut self,
        slot: usize,
        to: &str,
        extra: &[(&str, &str)],
        dest: SocketAddr,
    ) -> Result<(), CommandError> {
        let session_timer = self.new_session_timer();
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return Err(CommandError::NoResources);
        };
        let mut sdp = [0u8; 512];
        let sdp_len = call
            .media
            .create_offer(&self.config.media)
            .write(&mut sdp)
            .map_err(|_| CommandError::NoResources)?;
        call.session_timer = session_timer;
        let branch = new_branch(&mut self.rng);
        let mut buf = [0u8; MAX_MESSAGE];
        let mut w = MessageWriter::new(&mut buf);
        let body = sdp.get(..sdp_len).unwrap_or(&[]);
        write_initial_invite(
            &mut w,
            call,
            &self.config.identity,
            to,
            &mut self.rng,
            &branch,
            body,
        );
        for (name, value) in extra {
            w.header(name, value);
        }
        call.session_timer.write_request_headers(&mut w);
        for (name, value) in self.policy.reliable_provisional.invite_headers() {
            w.header(name, value);
        }
        let n = w
            .finish(None, body)
            .map_err(|_| CommandError::NoResources)?;
        let bytes = buf.get(..n).unwrap_or(&[]);
        // `call` borrows a slot, so the table is reached as a field.
        let id = self
            .txns
            .start_client(
                bytes,
                dest,
                self.config.reliability,
                self.config.timers,
                self.now,
            )
            .map_err(|_| CommandError::NoResources)?;
        call.invite_tx = Some(id);
        call.no_answer_at = Some(self.now + self.config.no_answer_timeout);
        self.transmit(dest, bytes);
        Ok(())
    }

    /// Puts `call` in `slot` and takes the slot into use.
    fn install(&mut self, slot: usize, call: Call) {
        self.place(slot, call);
        self.take_slot(slot);
    }

    /// Puts `call` in the storage of `slot`, which stays free (no handle
    /// reaches it, the walks over calls skip it) until [`Self::take_slot`].
    fn place(&mut self, slot: usize, call: Call) {
        // A slot's storage is taken on its first use (see `Phone::calls`).
        while self.calls.len() <= slot && self.calls.push(None).is_ok() {}
        if let Some(s) = self.calls.get_mut(slot) {
            *s = Some(call);
        }
    }

    /// Takes the placed call in `slot` into use: a new generation for its
    /// handle, and the walks over calls include it.
    fn take_slot(&mut self, slot: usize) {
        if let Some(g) = self.generations.get_mut(slot) {
            *g = g.wrapping_add(1);
        }
        if matches!(self.calls.get(slot), Some(Some(_))) {
            self.calls_high = self.calls_high.max(slot + 1);
            if let Some(live) = self.live_slots.get_mut(slot) {
                *live = true;
            }
        }
    }

    /// Stops retransmitting the 2xx of the call in `slot`, if any, and
    /// gives its buffer back to the pool.
    pub(super) fn drop_pending_ok(&mut self, slot: usize) {
        if let Some(p) = self
            .calls
            .get_mut(slot)
            .and_then(|c| c.as_mut())
            .and_then(|c| c.pending_ok.take())
        {
            self.txns.pool_mut().give_back(p.bytes);
        }
    }

    /// The call slots that hold a call when the walk starts, lowest first.
    /// The walks over calls (timers, media, outputs) read the live flags
    /// up to the highest live slot, so their cost follows the calls in
    /// progress, not the capacity; the caller may change calls meanwhile.
    pub(super) fn call_slots(&self) -> impl Iterator<Item = usize> {
        let live = self.live_slots;
        (0..self.calls_high.min(CALLS)).filter(move |&i| live.get(i).copied().unwrap_or(false))
    }

    /// Ends the call in `slot`: its media stops, its dialog is freed, the
    /// user hears why. Transactions run out on their own timers.
    pub(super) fn end_call(&mut self, slot: usize, reason: EndReason) {
        let handle = self.handle(slot);
        self.drop_pending_ok(slot);
        // Only the parts still needed leave the slot; the call itself is
        // dropped where it is rather than moved onto the stack.
        let Some(entry) = self.calls.get_mut(slot) else {
            return;
        };
        let Some(ended) = entry.as_mut() else {
            return;
        };
        let call = EndedCall {
            invite_tx: ended.invite_tx,
            dialog: ended.dialog,
        };
        // The stream stops where it is; only its last output is queued.
        if let Some(s) = ended.stream.take() {
            self.stopped_streams.stop(self.now, handle, s);
        }
        *entry = None;
        if let Some(live) = self.live_slots.get_mut(slot) {
            *live = false;
        }
        while self.calls_high > 0 && self.live_slots.get(self.calls_high - 1) == Some(&false) {
            self.calls_high -= 1;
        }
        // An INVITE of ours that had a provisional but no final response
        // has no timer left (RFC 3261 §17.1.1.2 runs Timer B only while
        // Calling): with its call gone, nobody waits for it any more. One
        // still Calling ends too: a provisional arriving after the call
        // ended (a re-INVITE outrun by the peer's BYE) would otherwise
        // move it to Proceeding, where it would stay for good.
        if let Some(crate::transaction::Transaction::InviteClient(t)) =
            call.invite_tx.and_then(|id| self.txns.get_mut(id))
        {
            use crate::transaction::InviteClientState::{Calling, Proceeding};
            if matches!(t.state(), Calling | Proceeding) {
                t.terminate();
            }
        }
        if let Some(d) = call.dialog {
            // A REFER subscription may outlive the call (RFC 5057 §5).
            if !self.transfer_keeps_dialog(handle, d) {
                self.dialogs.discard(d);
            }
        }
        self.event(Event::Ended {
            call: handle,
            reason,
        });
        self.features_call_ended(slot);
    }

    pub(super) fn answer(&mut self, h: CallHandle) -> Result<(), CommandError> {
        let slot = self.slot(h)?;
        let (tx, state) = match self.calls.get(slot) {
            Some(Some(c)) => (c.invite_tx, c.state),
            _ => return Err(CommandError::UnknownCall),
        };
        if state != CallState::Ringing {
            return Err(CommandError::WrongState);
        }
        // RFC 3262 §3: the 2xx waits for the PRACK of a provisional
        // response that carried SDP; it goes out when the PRACK comes.
        if self.answer_waits_for_prack(slot) {
            return Ok(());
        }
        let tx = tx.ok_or(CommandError::WrongState)?;
        self.send_answer(slot, tx)?;
        if let Some(Some(c)) = self.calls.get_mut(slot) {
            c.state = CallState::Answering;
            c.no_answer_at = None;
            if let Some(d) = c.dialog.and_then(|d| self.dialogs.get_mut(d)) {
                d.confirm();
            }
        }
        if !self.is_replacing(slot) {
            self.hold_others(slot);
        }
        Ok(())
    }

    /// Sends the 2xx to the ringing INVITE (server transaction `tx`) of
    /// the call in `slot`.
    // Own frame: the 2xx's buffer stays out of `answer`'s frame, which goes
    // on into the events of the calls put on hold.
    #[inline(never)]
    fn send_answer(&mut self, slot: usize, tx: TransactionId) -> Result<(), CommandError> {
        // The 180 the transaction holds carries every header a final
        // response repeats (Via, From, To with our tag, Call-ID, CSeq,
        // Record-Route), so the answer is built from it, read where the
        // transaction keeps it: the 200 is written before the table
        // changes, so no copy of it is needed.
        let mut buf = [0u8; MAX_MESSAGE];
        let m = self.txns.message(tx).ok_or(CommandError::WrongState)?;
        let req = Message::parse_datagram(m).map_err(|_| CommandError::WrongState)?;
        let (n, cseq) = self
            .write_ok_with_sdp(slot, &req, &mut buf)
            .map_err(|_| CommandError::NoResources)?;
        self.send_written_ok(slot, tx, buf.get(..n).unwrap_or(&[]), cseq)
            .map_err(|_| CommandError::NoResources)
    }

    /// Sends the 2xx to an INVITE of the call in `slot` with our current
    /// SDP and arms its retransmission (§13.3.1.4).
    pub(super) fn send_ok_with_sdp(
        &mut self,
        slot: usize,
        tx: TransactionId,
        req: &Message<'_>,
    ) -> Result<(), InputError> {
        let mut buf = [0u8; MAX_MESSAGE];
        let (n, cseq) = self.write_ok_with_sdp(slot, req, &mut buf)?;
        self.send_written_ok(slot, tx, buf.get(..n).unwrap_or(&[]), cseq)
    }

    /// Writes into `buf` the 2xx to `req`, an INVITE of the call in `slot`,
    /// with our current SDP. Returns its length and the INVITE's CSeq.
    fn write_ok_with_sdp(
        &self,
        slot: usize,
        req: &Message<'_>,
        buf: &mut [u8],
    ) -> Result<(usize, u32), InputError> {
        let Some(Some(call)) = self.calls.get(slot) else {
            return Err(InputError::Unusable);
        };
        let mut sdp = [0u8; 512];
        let sdp_len = if self.answered_in_provisional(slot) {
            0
        } else {
            call.media
                .local()
                .write(&mut sdp)
                .map_err(|_| InputError::Unusable)?
        };
        let n = write_invite_response_with(
            buf,
            req,
            200,
            &call.local_tag,
            &self.config.identity,
            Some(&call.session_timer),
            sdp.get(..sdp_len).unwrap_or(&[]),
        )
        .ok_or(InputError::Unusable)?;
        let cseq = req.cseq().and_then(|c| c.ok()).map_or(0, |c| c.seq);
        Ok((n, cseq))
    }

    /// Sends `bytes`, the 2xx to the INVITE of server transaction `tx`
    /// whose CSeq is `cseq`, and arms its retransmission for the call in
    /// `slot`.
    fn send_written_ok(
        &mut self,
        slot: usize,
        tx: TransactionId,
        bytes: &[u8],
        cseq: u32,
    ) -> Result<(), InputError> {
        let (to, held) = match self.txns.get(tx) {
            Some(t) => (t.peer(), t.holds_buffer()),
            None => return Err(InputError::Unusable),
        };
        // The call keeps the 2xx in a buffer of the pool (§13.3.1.4). The
        // transaction gives back the one its provisional held, so a buffer
        // is sure once the 2xx goes to it; with none, nothing is sent and
        // the caller refuses (the user's answer fails, and may be tried
        // again).
        if !held && self.txns.pool().available() == 0 {
            return Err(InputError::Unusable);
        }
        let _ = self.txns.send_response(tx, self.now, bytes);
        let kept = self
            .txns
            .pool_mut()
            .lend(bytes)
            .map_err(|_| InputError::Unusable)?;
        let t1 = self.config.timers.t1;
        let pending = PendingOk {
            bytes: kept,
            to,
            cseq,
            next: self.now + t1,
            interval: t1,
            give_up: self.now + self.config.timers.t1_x64(),
        };
        self.drop_pending_ok(slot);
        if let Some(Some(c)) = self.calls.get_mut(slot) {
            c.pending_ok = Some(pending);
            // RFC 4028 §9: the UAS's session timer runs from its 2xx.
            c.session_timer.answered(self.now);
        }
        self.transmit(to, bytes);
        Ok(())
    }

    pub(super) fn reject(&mut self, h: CallHandle, code: u16) -> Result<(), CommandError> {
        let slot = self.slot(h)?;
        if !(300..=699).contains(&code) {
            return Err(CommandError::WrongState);
        }
        match self.calls.get(slot) {
            Some(Some(c)) if c.state == CallState::Ringing => {}
            _ => return Err(CommandError::WrongState),
        }
        self.final_to_incoming(slot, code);
        self.end_call(slot, EndReason::Rejected(code));
        Ok(())
    }

    /// Sends a 300-699 to the ringing INVITE of the call in `slot`.
    pub(super) fn final_to_incoming(&mut self, slot: usize, code: u16) {
        let Some(Some(call)) = self.calls.get(slot) else {
            return;
        };
        let Some(tx) = call.invite_tx else {
            return;
        };
        // The INVITE is read where its transaction keeps it: the response
        // is written before the table changes, so no copy of it is needed.
        let mut buf = [0u8; MAX_MESSAGE];
        let Some(len) = self
            .txns
            .message(tx)
            .and_then(|m| Message::parse_datagram(m).ok())
            .and_then(|req| {
                let me = &self.config.identity;
                write_invite_response(&mut buf, &req, code, &call.local_tag, me, b"")
            })
        else {
            return;
        };
        let bytes = buf.get(..len).unwrap_or(&[]);
        if let Some(peer) = self.txns.get(tx).map(|t| t.peer()) {
            let _ = self.txns.send_response(tx, self.now, bytes);
            self.transmit(peer, bytes);
        }
    }

    pub(super) fn hangup(&mut self, h: CallHandle) -> Result<(), CommandError> {
        let slot = self.slot(h)?;
        let state = match self.calls.get(slot) {
            Some(Some(c)) => c.state,
            _ => return Err(CommandError::UnknownCall),
        };
        match state {
            CallState::Calling | CallState::Proceeding => {
                self.cancel_outgoing(slot, EndReason::Cancelled);
                Ok(())
            }
            CallState::Cancelling => Ok(()),
            CallState::Ringing => self.reject(h, 603),
            CallState::Answering | CallState::Confirmed => {
                self.send_bye(slot);
                self.end_call(slot, EndReason::LocalHangup);
                Ok(())
            }
        }
    }

    /// Cancels an outgoing call: now when a provisional has arrived, else
    /// as soon as one does (RFC 3261 §9.1).
    pub(super) fn cancel_outgoing(&mut self, slot: usize, reason: EndReason) {
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return;
        };
        call.cancel_reason = Some(reason);
        call.state = CallState::Cancelling;
        if call.cancel_sent {
            // The give-up timer set below keeps running.
            return;
        }
        // RFC 3261 §9.1: with no final response 64·T1 after the CANCEL,
        // the INVITE counts as cancelled (its Timer B no longer runs).
        // Armed before any provisional too: Timer B normally ends such a
        // call first, but an INVITE transaction already gone (a damaged
        // 2xx ended it) must not leave the call cancelling for good.
        call.no_answer_at = Some(self.now + self.config.timers.t1.saturating_mul(64));
        if !call.provisional_seen {
            return;
        }
        call.cancel_sent = true;
        let Some(tx) = call.invite_tx else {
            return;
        };
        let mut buf = [0u8; MAX_MESSAGE];
        let Some(peer) = self.txns.get(tx).map(|t| t.peer()) else {
            return;
        };
        let Ok(n) = self.txns.write_cancel(tx, &mut buf) else {
            return;
        };
        let bytes = buf.get(..n).unwrap_or(&[]);
        let _ = self.start_client_tx(bytes, peer);
        self.transmit(peer, bytes);
    }

    /// Sends a request inside the call's dialog through a new non-INVITE
    /// client transaction (BYE, INFO, ...). Returns its transaction.
    pub(super) fn send_in_dialog(
        &mut self,
        slot: usize,
        method: Method<'_>,
        extra: &[(&str, &str)],
        content_type: Option<&str>,
        body: &[u8],
    ) -> Option<TransactionId> {
        let dh = self.calls.get(slot)?.as_ref()?.dialog?;
        self.send_in_dialog_of(dh, method, extra, content_type, body)
    }

    /// [`send_in_dialog`](Self::send_in_dialog) in dialog `dh`, which may
    /// outlive its call (a REFER subscription's NOTIFYs).
    pub(super) fn send_in_dialog_of(
        &mut self,
        dh: crate::dialog::DialogHandle,
        method: Method<'_>,
        extra: &[(&str, &str)],
        content_type: Option<&str>,
        body: &[u8],
    ) -> Option<TransactionId> {
        let branch = new_branch(&mut self.rng);
        let mut buf = [0u8; MAX_MESSAGE];
        let mut w = MessageWriter::new(&mut buf);
        let d = self.dialogs.get_mut(dh)?;
        d.start_request(&mut w, method).ok()?;
        let dest = {
            let d = self.dialogs.get(dh)?;
            self.dialog_hop(d)?
        };
        self.config.identity.write_via(&mut w, &branch);
        w.header("Max-Forwards", "70");
        self.config.identity.write_contact(&mut w);
        for (n, v) in extra {
            w.header(n, v);
        }
        w.header("User-Agent", ua::PRODUCT);
        let n = w.finish(content_type, body).ok()?;
        let bytes = buf.get(..n).unwrap_or(&[]);
        let id = match self.start_client_tx(bytes, dest) {
            Ok(id) => Some(id),
            Err(TransactionError::TableFull) => None,
            Err(_) => return None,
        };
        self.transmit(dest, bytes);
        id
    }

    pub(super) fn send_bye(&mut self, slot: usize) {
        let _ = self.send_in_dialog(slot, Method::Bye, &[], None, b"");
    }

    /// Sends (or re-sends) the ACK for the 2xx numbered `cseq`
    /// (§13.2.2.4); the same branch every time, so a re-sent ACK is the
    /// same message.
    fn send_ack(&mut self, slot: usize, cseq: u32, sdp: &[u8]) {
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return;
        };
        let Some(dh) = call.dialog else {
            return;
        };
        let branch = match &call.ack_branch {
            Some((n, b)) if *n == cseq => b.clone(),
            _ => {
                let b = new_branch(&mut self.rng);
                call.ack_branch = Some((cseq, b.clone()));
                b
            }
        };
        let Some(d) = self.dialogs.get(dh) else {
            return;
        };
        let Some(dest) = self.dialog_hop(d) else {
            return;
        };
        let mut buf = [0u8; MAX_MESSAGE];
        let mut w = MessageWriter::new(&mut buf);
        d.write_ack(&mut w, cseq);
        self.config.identity.write_via(&mut w, &branch);
        w.header("Max-Forwards", "70");
        let ct = (!sdp.is_empty()).then_some("application/sdp");
        if let Ok(n) = w.finish(ct, sdp) {
            let bytes = buf.get(..n).unwrap_or(&[]);
            self.transmit(dest, bytes);
        }
    }

    pub(super) fn start_reinvite(&mut self, h: CallHandle, hold: bool) -> Result<(), CommandError> {
        let slot = self.slot(h)?;
        let ok = matches!(self.calls.get(slot), Some(Some(c)) if c.is_confirmed() && c.own_reinvite.is_none() && c.pending_ok.is_none() && !c.update_offer_pending());
        if !ok {
            return Err(CommandError::WrongState);
        }
        self.send_reinvite(slot, hold)
            .ok_or(CommandError::NoResources)
    }

    /// Sends a re-INVITE offering hold or resume (RFC 3264 §8.4).
    pub(super) fn send_reinvite(&mut self, slot: usize, hold: bool) -> Option<()> {
        let call = self.calls.get_mut(slot)?.as_mut()?;
        let dh = call.dialog?;
        call.media.set_hold(hold);
        let mut sdp = [0u8; 512];
        let sdp_len = call
            .media
            .create_offer(&self.config.media)
            .write(&mut sdp)
            .ok()?;
        let branch = new_branch(&mut self.rng);
        let mut buf = [0u8; MAX_MESSAGE];
        let mut w = MessageWriter::new(&mut buf);
        let seq = self
            .dialogs
            .get_mut(dh)?
            .start_request(&mut w, Method::Invite)
            .ok()?;
        let dest = self.dialog_hop(self.dialogs.get(dh)?)?;
        self.config.identity.write_via(&mut w, &branch);
        w.header("Max-Forwards", "70");
        self.config.identity.write_contact(&mut w);
        w.header("Allow", ua::ALLOW);
        w.header("User-Agent", ua::PRODUCT);
        if let Some(Some(c)) = self.calls.get(slot) {
            c.session_timer.write_reinvite_headers(&mut w);
        }
        let n = w
            .finish(Some("application/sdp"), sdp.get(..sdp_len)?)
            .ok()?;
        let bytes = buf.get(..n)?;
        let id = self.start_client_tx(bytes, dest).ok()?;
        let call = self.calls.get_mut(slot)?.as_mut()?;
        call.invite_tx = Some(id);
        // RFC 3261 gives a UAC no timer for an INVITE past its provisional
        // (§17.1.1.2 runs Timer B only while Calling). A proxy gives up on
        // such a branch after Timer C (§16.6 step 11: over 3 min), and a
        // 2xx sent before then is retransmitted for 64·T1 (§13.3.1.4): no
        // final response can come after both, so stop waiting then.
        let give_up = self.now + REINVITE_TIMER_C + self.config.timers.t1_x64();
        call.own_reinvite = Some(OwnReinvite {
            hold,
            cseq: seq,
            give_up,
        });
        self.transmit(dest, bytes);
        Some(())
    }

    /// The call whose INVITE transaction is `id`.
    pub(super) fn call_by_invite_tx(&self, id: TransactionId) -> Option<usize> {
        self.calls
            .iter()
            .position(|c| c.as_ref().is_some_and(|c| c.invite_tx == Some(id)))
    }

    /// The call owning dialog-matching message `m`.
    fn call_by_dialog(&self, m: &Message<'_>) -> Option<usize> {
        let dh = self.dialogs.find(m)?;
        self.calls
            .iter()
            .position(|c| c.as_ref().is_some_and(|c| c.dialog == Some(dh)))
    }

    /// A response delivered by the INVITE client transaction `id`.
    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    pub(super) fn on_invite_response(
        &mut self,
        id: TransactionId,
        ev: ClientEvent,
        resp: &Message<'_>,
    ) {
        let Some(slot) = self.call_by_invite_tx(id) else {
            return;
        };
        let Some(code) = resp.status() else {
            return;
        };
        let is_reinvite = matches!(self.calls.get(slot), Some(Some(c)) if c.own_reinvite.is_some());
        if is_reinvite {
            self.on_reinvite_response(slot, code, resp);
            return;
        }
        let _ = ev;
        match code {
            100..=199 => self.on_provisional(slot, id, code, resp),
            200..=299 => self.on_invite_ok(slot, id, resp),
            // RFC 3261 §8.1.3.4: without the `redirect` feature a 3xx ends
            // the call like any failure.
            300..=399 if cfg!(feature = "redirect") && self.follow_redirect(slot, id, resp) => {}
            422 if cfg!(feature = "session-timer") && self.session_timer_retry(slot, id, resp) => {}
            _ => {
                let reason = match self.calls.get(slot) {
                    Some(Some(c)) => match c.cancel_reason {
                        Some(r) if code == 487 => r,
                        _ => EndReason::Failed(code),
                    },
                    _ => EndReason::Failed(code),
                };
                self.end_call(slot, reason);
            }
        }
    }

    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    fn on_provisional(&mut self, slot: usize, id: TransactionId, code: u16, resp: &Message<'_>) {
        // RFC 3262 §4: a reliable one out of sequence or repeated is dropped.
        let Some(prack) = self.judge_provisional(slot, resp) else {
            return;
        };
        let handle = self.handle(slot);
        let has_tag = resp
            .to()
            .and_then(|t| t.ok())
            .is_some_and(|t| t.tag().is_some());
        let mut early_media = false;
        if let Some(Some(call)) = self.calls.get_mut(slot) {
            call.provisional_seen = true;
            if call.state == CallState::Calling {
                call.state = CallState::Proceeding;
            }
            if call.dialog.is_none() && has_tag {
                // The INVITE is read where its transaction keeps it: the
                // table and the call slots are borrowed apart, no copy.
                let invite = self.txns.message(id).unwrap_or(&[]);
                if let Ok(req) = Message::parse_datagram(invite) {
                    if let Some(d) = insert_uac_dialog(&mut self.dialogs, &req, resp) {
                        call.dialog = d;
                    }
                }
            }
            // Early media: an answer in a 183 (RFC 3261 §13.2.1 / RFC 3960).
            if !resp.body().is_empty() && call.media.offer_pending() {
                early_media = take_answer(&mut call.media, resp.body()).is_some();
            }
        }
        if let Some(rseq) = prack {
            self.send_prack(slot, rseq, resp);
        }
        let cancelling = matches!(self.calls.get(slot), Some(Some(c)) if c.cancel_reason.is_some());
        if cancelling {
            let reason = self
                .calls
                .get(slot)
                .and_then(|c| c.as_ref())
                .and_then(|c| c.cancel_reason)
                .unwrap_or(EndReason::Cancelled);
            self.cancel_outgoing(slot, reason);
            return;
        }
        if early_media {
            self.start_media(slot);
            self.event(Event::EarlyMedia(handle));
        } else if code == 180 || code == 183 {
            self.event(Event::Ringing(handle));
        }
    }

    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    fn on_invite_ok(&mut self, slot: usize, id: TransactionId, resp: &Message<'_>) {
        let handle = self.handle(slot);
        let cseq = resp.cseq().and_then(|c| c.ok()).map_or(0, |c| c.seq);
        let already = matches!(self.calls.get(slot), Some(Some(c)) if c.is_confirmed() || c.cancel_reason.is_some() && c.dialog.is_some() && c.ack_branch.is_some());
        if already {
            // A retransmitted 2xx: the same ACK again (§13.2.2.4).
            self.send_ack(slot, cseq, b"");
            return;
        }
        // The INVITE is read where its transaction keeps it: the table and
        // the call slots are borrowed apart, no copy.
        let invite = self.txns.message(id).unwrap_or(&[]);
        let Ok(req) = Message::parse_datagram(invite) else {
            return;
        };
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return;
        };
        // A 2xx from another fork than the early dialog, or the first
        // dialog: (re)create it from the 2xx.
        let fits = call
            .dialog
            .and_then(|d| self.dialogs.get_mut(d))
            .is_some_and(|d| d.confirm_with_response(resp).is_ok());
        if !fits {
            if let Some(d) = call.dialog.take() {
                self.dialogs.discard(d);
            }
            match insert_uac_dialog(&mut self.dialogs, &req, resp) {
                Some(d) => call.dialog = d,
                None => {
                    // A 2xx whose dialog this phone cannot hold (e.g. over
                    // its text budget: 513, RFC 3261 §21.5.11): without the
                    // dialog no ACK or BYE can follow, so the call ends
                    // here; the callee gives up its 2xx (§13.3.1.4).
                    self.end_call(slot, EndReason::Failed(513));
                    return;
                }
            }
        }
        let cancelled = call.cancel_reason;
        // An answer already taken from a provisional response stands
        // (RFC 3262 §5); the 2xx need not repeat it.
        let negotiated = if call.media.offer_pending() && !call.update_offer_pending() {
            take_answer(&mut call.media, resp.body())
        } else {
            call.media.negotiated()
        };
        call.no_answer_at = None;
        call.state = CallState::Confirmed;
        call.session_timer.on_uac_2xx(self.now, resp);
        self.send_ack(slot, cseq, b"");
        if let Some(reason) = cancelled {
            // The 2xx crossed our CANCEL: the call is up, so end it with BYE.
            self.send_bye(slot);
            self.end_call(slot, reason);
            return;
        }
        if negotiated.is_none() {
            // §13.2.1 / RFC 3264: an unusable answer cannot be refused,
            // so the call ends with BYE.
            self.send_bye(slot);
            self.end_call(slot, EndReason::Failed(488));
            return;
        }
        self.start_media(slot);
        self.event(Event::Answered(handle));
    }

    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    fn on_reinvite_response(&mut self, slot: usize, code: u16, resp: &Message<'_>) {
        let handle = self.handle(slot);
        if code < 200 {
            return;
        }
        let cseq = resp.cseq().and_then(|c| c.ok()).map_or(0, |c| c.seq);
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return;
        };
        let Some(own) = call.own_reinvite else {
            return;
        };
        if (200..300).contains(&code) {
            if cseq != own.cseq {
                // The 2xx of an earlier INVITE: acknowledge it, nothing more.
                self.send_ack(slot, cseq, b"");
                return;
            }
            let neg = take_answer(&mut call.media, resp.body());
            if let Some(d) = call.dialog.and_then(|d| self.dialogs.get_mut(d)) {
                let _ = d.refresh_remote_target(resp);
            }
            call.own_reinvite = None;
            self.send_ack(slot, cseq, b"");
            let refresh = self.session_timer_on_reinvite_ok(slot, cseq, resp);
            if neg.is_some() {
                self.apply_media(slot);
                if !refresh {
                    self.event(if own.hold {
                        Event::Held {
                            call: handle,
                            by_remote: false,
                        }
                    } else {
                        Event::Resumed(handle)
                    });
                }
            }
            return;
        }
        if self.session_timer_refresh_failed(slot, cseq, resp) {
            return;
        }
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return;
        };
        call.media.offer_failed();
        call.own_reinvite = None;
        match code {
            // RFC 3261 §14.1: glare; retry after a random delay.
            491 => {
                let delay = glare_retry_delay(call.direction, &mut self.rng);
                if let Some(Some(c)) = self.calls.get_mut(slot) {
                    c.glare_retry = Some((self.now + delay, own.hold));
                }
            }
            // §14.2 / §21.5.1: the peer is still finishing the previous
            // exchange (its 2xx awaits our ACK); try again after Retry-After.
            500 | 503 => {
                let after = resp
                    .retry_after()
                    .and_then(|r| r.ok())
                    .map_or(0, |r| r.delta)
                    .min(10);
                if after > 0 {
                    if let Some(Some(c)) = self.calls.get_mut(slot) {
                        c.glare_retry =
                            Some((self.now + Duration::from_secs(u64::from(after)), own.hold));
                    }
                }
            }
            // §12.2.1.2: 481 and 408 end the dialog.
            408 | 481 => {
                self.send_bye(slot);
                self.end_call(slot, EndReason::Timeout);
            }
            _ => {}
        }
    }

    /// Starts or updates the call's media after an offer/answer exchange.
    pub(super) fn start_media(&mut self, slot: usize) {
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return;
        };
        let Some(neg) = call.media.negotiated() else {
            return;
        };
        if call.stream.is_none() {
            let params = stream_params(call.rtp_local, &neg, self.rng.next_u32());
            call.stream = MediaStream::start(self.now, params, &mut self.rng).ok();
        }
        self.apply_media(slot);
    }

    /// Pauses or resumes sending by the negotiated direction, and moves the
    /// stream when the peer's address changed (re-offer after transfer).
    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    pub(super) fn apply_media(&mut self, slot: usize) {
        let handle = self.handle(slot);
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return;
        };
        let Some(neg) = call.media.negotiated() else {
            return;
        };
        let moved = call.stream.as_ref().is_some_and(|s| {
            s.params().remote != neg.remote || s.params().payload_type != neg.codec.pt
        });
        if moved {
            if let Some(s) = call.stream.take() {
                self.stopped_streams.stop(self.now, handle, s);
            }
            let params = stream_params(call.rtp_local, &neg, self.rng.next_u32());
            call.stream = MediaStream::start(self.now, params, &mut self.rng).ok();
        }
        if let Some(s) = call.stream.as_mut() {
            let sends = neg.direction.sends();
            if sends && s.is_held() {
                let _ = s.handle_input(self.now, MediaInput::Resume);
            } else if !sends && !s.is_held() {
                let _ = s.handle_input(self.now, MediaInput::Hold);
            }
        }
    }

    /// An INVITE outside any dialog: a new incoming call.
    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    pub(super) fn on_new_invite(
        &mut self,
        from: SocketAddr,
        raw: &[u8],
        req: &Message<'_>,
    ) -> Result<(), InputError> {
        let to = ua::response_destination(req, from);
        let id = match self.txns.start_server(
            raw,
            to,
            self.config.reliability,
            self.config.timers,
            self.now,
        ) {
            Ok(id) => id,
            Err(TransactionError::TableFull) => {
                // No transaction slot: answer statelessly (RFC 3261 §21.5.4).
                self.stats.refused_full = self.stats.refused_full.saturating_add(1);
                return self.respond_stateless(req, to, 503, &[("Retry-After", "5")]);
            }
            Err(_) => return Err(InputError::Unusable),
        };
        // Desk-phone policy (DND, forwarding, call waiting, ...) may answer
        // the call before it rings.
        // RFC 3891 §3: an INVITE with Replaces must name a call of ours.
        let replacing = match self.check_replaces(req) {
            Ok(r) => r,
            Err(code) => {
                self.reply_in_invite_tx(id, req, code, &[]);
                return Ok(());
            }
        };
        let Some(ring_timers) = self.incoming_policy(id, req) else {
            return Ok(());
        };
        let Some(slot) = self.free_slot() else {
            // Every line busy: 486 through the transaction, so a
            // retransmitted INVITE gets it again.
            self.stats.refused_full = self.stats.refused_full.saturating_add(1);
            self.reply_in_invite_tx(id, req, 486, &[("Retry-After", "30")]);
            return Ok(());
        };
        let Some(timer) = self.session_timer_for_invite(id, req) else {
            return Ok(());
        };
        let (mut media, rtp) = self.new_media_session(slot);
        // RFC 3264 §6: answer the offer, or refuse it with 488.
        if !take_initial_offer(&mut media, &self.config.media, req.body()) {
            self.reply_in_invite_tx(id, req, 488, &[]);
            return Ok(());
        }
        let tag: ua::Text<{ crate::call::LOCAL_TAG_LEN }> =
            random_token(&mut self.rng, crate::call::LOCAL_TAG_LEN);
        let Some(dialog) = self.insert_uas_dialog(req, &tag) else {
            self.reply_in_invite_tx(id, req, 400, &[]);
            return Ok(());
        };
        // The call is set up in its slot, not built whole on the stack and
        // moved there.
        self.install(
            slot,
            Call::new(CallDirection::Incoming, CallState::Ringing, media, rtp),
        );
        if let Some(Some(call)) = self.calls.get_mut(slot) {
            call.session_timer = timer;
            call.local_tag = tag.clone();
            call.invite_tx = Some(id);
            call.invite_cseq = req.cseq().and_then(|c| c.ok()).map_or(0, |c| c.seq);
            call.dialog = dialog;
            call.no_answer_at = Some(self.now + self.config.incoming_ring_timeout);
        }
        if let Some(r) = replacing {
            if self.admit_replacing(slot, id, req, r) {
                return Ok(());
            }
        }
        // 180 right away: the phone rings (RFC 3261 §13.3.1.1), reliably
        // when the caller asks for it (RFC 3262 §3).
        let reliable = self.send_reliable_ringing(slot, id, req);
        let mut buf = [0u8; MAX_MESSAGE];
        let ringing = if reliable {
            None
        } else {
            write_invite_response(&mut buf, req, 180, &tag, &self.config.identity, b"")
        };
        if let Some(n) = ringing {
            let bytes = buf.get(..n).unwrap_or(&[]);
            let _ = self.txns.send_response(id, self.now, bytes);
            self.transmit(to, bytes);
        }
        let handle = self.handle(slot);
        self.event(Event::IncomingCall(handle));
        self.arm_ring_timers(slot, ring_timers);
        Ok(())
    }

    /// Sets up the early dialog of a new incoming call (RFC 3261 §12.1.1)
    /// in the dialog table. `None` when the INVITE cannot create one (the
    /// caller answers 400); `Some(None)` when the table is full: the call
    /// goes on without a dialog.
    // Own frame: the dialog is built on the stack before it moves into the
    // table, and that copy stays out of `on_new_invite`'s frame.
    #[inline(never)]
    fn insert_uas_dialog(
        &mut self,
        req: &Message<'_>,
        local_tag: &str,
    ) -> Option<Option<DialogHandle>> {
        let dialog = Dialog::new_uas(req, local_tag, 180, false).ok()?;
        Some(self.dialogs.insert(dialog).ok())
    }

    /// Answers the INVITE server transaction `id` with a final status.
    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    pub(super) fn reply_in_invite_tx(
        &mut self,
        id: TransactionId,
        req: &Message<'_>,
        code: u16,
        extra: &[(&str, &str)],
    ) {
        let tag: ua::Text<16> = random_token(&mut self.rng, 10);
        let mut buf = [0u8; MAX_MESSAGE];
        if let Some(n) = ua::write_simple_response(&mut buf, req, code, Some(&tag), extra) {
            let bytes = buf.get(..n).unwrap_or(&[]);
            if let Some(peer) = self.txns.get(id).map(|t| t.peer()) {
                let _ = self.txns.send_response(id, self.now, bytes);
                self.transmit(peer, bytes);
            }
        }
    }

    /// A CANCEL (RFC 3261 §9.2): 200 for the CANCEL, 487 for the INVITE if
    /// it is still unanswered, 481 when no INVITE matches.
    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    pub(super) fn on_cancel(
        &mut self,
        from: SocketAddr,
        raw: &[u8],
        req: &Message<'_>,
    ) -> Result<(), InputError> {
        let Some(inv) = self.txns.find_cancelled_invite(req) else {
            return self.respond_in_transaction(raw, req, from, 481);
        };
        self.respond_in_transaction(raw, req, from, 200)?;
        if let Some(slot) = self.call_by_invite_tx(inv) {
            let ringing =
                matches!(self.calls.get(slot), Some(Some(c)) if c.state == CallState::Ringing);
            if ringing {
                self.final_to_incoming(slot, 487);
                self.end_call(slot, EndReason::CallerCancelled);
            }
        }
        Ok(())
    }

    /// An ACK outside any transaction: the ACK for one of our 2xx.
    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    pub(super) fn on_ack(&mut self, req: &Message<'_>) {
        let Some(slot) = self.call_by_dialog(req) else {
            return;
        };
        let cseq = req.cseq().and_then(|c| c.ok()).map_or(0, |c| c.seq);
        self.ack_received(slot, cseq, req.body());
    }

    /// The ACK numbered `cseq` (with `body`, a late answer) reached the call
    /// in `slot`. Only the ACK for our pending 2xx counts: an ACK is matched
    /// to its INVITE by CSeq, so a late ACK of an earlier INVITE does not
    /// stop a re-INVITE's 2xx (§13.3.1.4).
    fn ack_received(&mut self, slot: usize, cseq: u32, body: &[u8]) {
        let handle = self.handle(slot);
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return;
        };
        if call.pending_ok.as_ref().is_none_or(|p| p.cseq != cseq) {
            return;
        }
        if let Some(p) = call.pending_ok.take() {
            self.txns.pool_mut().give_back(p.bytes);
        }
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            return;
        };
        let was_answering = call.state == CallState::Answering;
        // Late offer: the answer arrives in the ACK.
        if call.media.offer_pending()
            && !call.update_offer_pending()
            && take_answer(&mut call.media, body).is_none()
        {
            self.send_bye(slot);
            self.end_call(slot, EndReason::Failed(488));
            return;
        }
        call.state = CallState::Confirmed;
        if was_answering {
            self.start_media(slot);
            self.event(Event::Answered(handle));
        } else {
            self.apply_media(slot);
        }
    }

    /// A request inside (or claiming to be inside) a dialog.
    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    pub(super) fn on_in_dialog_request(
        &mut self,
        from: SocketAddr,
        raw: &[u8],
        req: &Message<'_>,
    ) -> Result<(), InputError> {
        let method = req.method().unwrap_or(Method::Ack);
        let dh = match self.dialogs.classify(req) {
            RequestClass::InDialog(h) => h,
            // §12.2.2: a To tag naming no dialog gets 481.
            _ => return self.respond_in_transaction(raw, req, from, 481),
        };
        let Some(slot) = self
            .calls
            .iter()
            .position(|c| c.as_ref().is_some_and(|c| c.dialog == Some(dh)))
        else {
            return self.respond_in_transaction(raw, req, from, 481);
        };
        if let Some(d) = self.dialogs.get_mut(dh) {
            if let Ok(CSeqCheck::OutOfOrder) = d.check_remote_cseq(req) {
                return self.respond_in_transaction(raw, req, from, 500);
            }
        }
        let handle = self.handle(slot);
        match method {
            Method::Bye => {
                self.respond_in_transaction(raw, req, from, 200)?;
                // RFC 3261 §15.1.2: a BYE on an early dialog leaves the
                // INVITE pending; it still gets a final response (487).
                if matches!(self.calls.get(slot), Some(Some(c)) if c.state == CallState::Ringing) {
                    self.final_to_incoming(slot, 487);
                }
                self.end_call(slot, EndReason::RemoteHangup);
                Ok(())
            }
            Method::Invite => self.on_reinvite(slot, from, raw, req),
            Method::Options => self.respond_in_transaction(raw, req, from, 200),
            Method::Info if cfg!(feature = "info-dtmf") => self.on_info(slot, from, raw, req),
            Method::Refer => self.on_refer(slot, from, raw, req),
            Method::Notify => self.on_notify(slot, from, raw, req),
            Method::Prack if cfg!(feature = "prack") => self.on_prack(slot, from, raw, req),
            Method::Update if cfg!(feature = "prack") => self.on_update(slot, from, raw, req),
            _ => {
                let _ = handle;
                self.respond_in_transaction(raw, req, from, 501)
            }
        }
    }

    // Own frame: its message-sized locals stay off its callers' stack.
    #[inline(never)]
    fn on_reinvite(
        &mut self,
        slot: usize,
        from: SocketAddr,
        raw: &[u8],
        req: &Message<'_>,
    ) -> Result<(), InputError> {
        let handle = self.handle(slot);
        let to = ua::response_destination(req, from);
        let id = match self.txns.start_server(
            raw,
            to,
            self.config.reliability,
            self.config.timers,
            self.now,
        ) {
            Ok(id) => id,
            Err(TransactionError::TableFull) => {
                return self.respond_stateless(req, to, 503, &[("Retry-After", "5")]);
            }
            Err(_) => return Err(InputError::Unusable),
        };
        // A re-INVITE with a higher CSeq than the INVITE our pending 2xx
        // answers shows the peer got that 2xx: its ACK was lost on the way.
        // RFC 3261 §14.2 asks for 500 only before the final response is
        // sent, so take the new INVITE as that ACK and go on.
        let cseq = req.cseq().and_then(|c| c.ok()).map_or(0, |c| c.seq);
        let stale_ok = match self.calls.get(slot) {
            Some(Some(c)) => c
                .pending_ok
                .as_ref()
                .filter(|p| p.cseq < cseq)
                .map(|p| p.cseq),
            _ => None,
        };
        if let Some(acked) = stale_ok {
            self.ack_received(slot, acked, b"");
        }
        let Some(Some(call)) = self.calls.get_mut(slot) else {
            // Taking it as the ACK ended the call (a late offer left
            // unanswered): the dialog is gone, and the re-INVITE still
            // needs its final response (RFC 3261 §12.2.2).
            self.reply_in_invite_tx(id, req, 481, &[]);
            return Ok(());
        };
        // RFC 3261 §14.2: an offer while ours is outstanding is glare (491);
        // while our 2xx awaits its ACK, 500 with Retry-After.
        if call.own_reinvite.is_some() || call.update_offer_pending() {
            self.reply_in_invite_tx(id, req, 491, &[]);
            return Ok(());
        }
        if call.pending_ok.is_some() || !call.is_confirmed() {
            self.reply_in_invite_tx(id, req, 500, &[("Retry-After", "1")]);
            return Ok(());
        }
        // RFC 4028 §9: a refresh asking for less than our Min-SE.
        if let Err(min_se) = call.session_timer.on_request(req) {
            self.reply_422(id, req, min_se);
            return Ok(());
        }
        let was_held = call.held_by_peer;
        let result = if req.body().is_empty() {
            call.media.create_offer(&self.config.media);
            Ok(None)
        } else {
            answer_offer(&mut call.media, &self.config.media, req.body()).map(Some)
        };
        let neg = match result {
            Ok(n) => n,
            Err(_) => {
                self.reply_in_invite_tx(id, req, 488, &[]);
                return Ok(());
            }
        };
        call.invite_tx = Some(id);
        if let Some(d) = call.dialog.and_then(|d| self.dialogs.get_mut(d)) {
            let _ = d.refresh_remote_target(req);
        }
        let held_now = neg.is_some_and(|n| !n.direction.receives() || call.media.is_held_by_peer());
        call.held_by_peer = held_now;
        self.send_ok_with_sdp(slot, id, req)?;
        self.apply_media(slot);
        if held_now && !was_held {
            self.event(Event::Held {
                call: handle,
                by_remote: true,
            });
        } else if !held_now && was_held {
            self.event(Event::Resumed(handle));
        }
        Ok(())
    }

    /// A 2xx to an INVITE whose transaction is gone (Timer M ran out, or a
    /// proxy forked): re-send the ACK if it is for one of our calls.
    pub(super) fn on_stray_ok(&mut self, resp: &Message<'_>) {
        let is_invite_ok = resp.status().is_some_and(|c| (200..300).contains(&c))
            && resp
                .cseq()
                .and_then(|c| c.ok())
                .is_some_and(|c| c.method == Method::Invite);
        if !is_invite_ok {
            return;
        }
        if let Some(slot) = self.call_by_dialog(resp) {
            let cseq = resp.cseq().and_then(|c| c.ok()).map_or(0, |c| c.seq);
            self.send_ack(slot, cseq, b"");
        }
    }

    /// A transaction timed out.
    pub(super) fn on_call_tx_timeout(&mut self, id: TransactionId) {
        let Some(slot) = self.call_by_invite_tx(id) else {
            return;
        };
        let Some(Some(call)) = self.calls.get(slot) else {
            return;
        };
        match call.state {
            CallState::Calling | CallState::Proceeding | CallState::Cancelling => {
                let reason = call.cancel_reason.unwrap_or(EndReason::Timeout);
                self.end_call(slot, reason);
            }
            CallState::Confirmed if call.own_reinvite.is_some() => {
                // §12.2.1.2: a timed-out re-INVITE ends the dialog.
                self.send_bye(slot);
                self.end_call(slot, EndReason::Timeout);
            }
            _ => {}
        }
    }

    /// The calls' own timers: ring timeout, 2xx retransmission, glare
    /// retry, and media ticks.
    pub(super) fn run_call_timers(&mut self) {
        for slot in self.call_slots() {
            let Some(Some(call)) = self.calls.get_mut(slot) else {
                continue;
            };
            if call.no_answer_at.is_some_and(|t| t <= self.now) {
                call.no_answer_at = None;
                if call.direction == CallDirection::Outgoing && call.state == CallState::Cancelling
                {
                    let reason = call.cancel_reason.unwrap_or(EndReason::NoAnswer);
                    self.end_call(slot, reason);
                } else if call.direction == CallDirection::Outgoing {
                    self.cancel_outgoing(slot, EndReason::NoAnswer);
                } else if call.state == CallState::Ringing {
                    self.final_to_incoming(slot, 480);
                    self.end_call(slot, EndReason::NoAnswer);
                }
            }
            // A call still live runs its other timers in this same tick,
            // so none of its deadlines is left in the past.
            let Some(Some(call)) = self.calls.get_mut(slot) else {
                continue;
            };
            if call.is_confirmed() && call.own_reinvite.is_some_and(|o| o.give_up <= self.now) {
                // Every final response to our re-INVITE was lost: end the
                // dialog as for a timed-out re-INVITE (§12.2.1.2).
                self.send_bye(slot);
                self.end_call(slot, EndReason::Timeout);
                continue;
            }
            let mut give_up = false;
            if let Some(p) = call.pending_ok.as_mut() {
                if p.give_up <= self.now {
                    give_up = true;
                } else if p.next <= self.now {
                    // Queued straight from the call's copy: no
                    // message-sized copy on the stack.
                    let from = self.config.identity.local;
                    let _ = self
                        .outbox
                        .push(from, p.to, self.txns.pool().bytes(p.bytes));
                    // §13.3.1.4: T1 doubling, capped at T2.
                    p.interval = (p.interval + p.interval).min(self.config.timers.t2);
                    p.next = self.now + p.interval;
                }
            }
            if give_up {
                // §13.3.1.4: no ACK within 64·T1 ends the session with BYE
                // (a SHOULD). Not for a re-INVITE that carried its offer:
                // the call was up before it and our 2xx held the answer,
                // so a lost ACK changes nothing, and a live call is not
                // dropped for it.
                let mut keep = false;
                self.drop_pending_ok(slot);
                if let Some(c) = self.calls.get_mut(slot).and_then(|c| c.as_mut()) {
                    keep = c.is_confirmed() && !c.media.offer_pending();
                }
                // A kept call falls through: its other timers (a glare
                // retry) may be due in this same tick.
                if !keep {
                    self.send_bye(slot);
                    self.end_call(slot, EndReason::Timeout);
                    continue;
                }
            }
            let Some(Some(call)) = self.calls.get_mut(slot) else {
                continue;
            };
            if let Some((at, hold)) = call.glare_retry {
                if at <= self.now {
                    call.glare_retry = None;
                    if call.is_confirmed() && call.own_reinvite.is_none() {
                        let _ = self.send_reinvite(slot, hold);
                    }
                }
            }
        }
        // Media last and for every call, so a call whose timer fired above
        // still has its stream ticked and no deadline is left in the past.
        for slot in self.call_slots() {
            let Some(Some(call)) = self.calls.get_mut(slot) else {
                continue;
            };
            if let Some(s) = call.stream.as_mut() {
                let _ = s.handle_input(self.now, MediaInput::Tick);
            }
        }
    }

    /// Whether any call's timer handled a transaction timer event.
    pub(super) fn on_tx_timer(&mut self, id: TransactionId, ev: TimerEvent) {
        if ev == TimerEvent::Timeout {
            self.on_call_tx_timeout(id);
        }
    }

    /// The state of the call `h`, if it is live.
    pub fn call_state(&self, h: CallHandle) -> Option<CallState> {
        let slot = self.slot(h).ok()?;
        self.calls.get(slot)?.as_ref().map(|c| c.state)
    }

    /// Handles of every live call.
    pub fn live_calls(&self) -> impl Iterator<Item = CallHandle> + '_ {
        self.call_slots()
            .filter(|&i| matches!(self.calls.get(i), Some(Some(_))))
            .map(|i| self.handle(i))
    }

    /// Live dialogs (0 once every call ended).
    pub fn dialogs_in_use(&self) -> usize {
        self.dialogs.len()
    }

    /// The media session of a live call, to read what was negotiated.
    pub fn negotiated(&self, h: CallHandle) -> Option<Negotiated> {
        let slot = self.slot(h).ok()?;
        self.calls.get(slot)?.as_ref()?.media.negotiated()
    }

    /// The media stream of a live call, once media flows: its receive
    /// statistics, the peer's latest report about it, what it sent.
    pub fn media_stream(&self, h: CallHandle) -> Option<&MediaStream> {
        let slot = self.slot(h).ok()?;
        self.calls.get(slot)?.as_ref()?.stream.as_ref()
    }

    /// Feeds a media input to a call's stream.
    pub(super) fn media_input(&mut self, h: CallHandle, input: MediaInput<'_>) {
        if let Ok(slot) = self.slot(h) {
            if let Some(Some(c)) = self.calls.get_mut(slot) {
                if let Some(s) = c.stream.as_mut() {
                    let _ = s.handle_input(self.now, input);
                }
            }
        }
    }

    /// Whether the dialog of a call is confirmed (for tests).
    pub fn dialog_state(&self, h: CallHandle) -> Option<DialogState> {
        let slot = self.slot(h).ok()?;
        let dh = self.calls.get(slot)?.as_ref()?.dialog?;
        self.dialogs.get(dh).map(Dialog::state)
    }

    /// Writes `sip:` and this phone's contact address, for tests and shims.
    pub fn contact_uri(&self, out: &mut ua::Text<96>) {
        let local = crate::message::AddrText::socket(self.config.identity.local);
        let user = &self.config.identity.user;
        let _ = crate::message::push_all(out, &["sip:", user, "@", local.as_str()]);
    }
}

/// Takes the offer of a new incoming INVITE into `media`: answers the
/// offer in `body` (RFC 3264 §6), or with no body prepares our own offer
/// for the 200 (the answer comes in the ACK, RFC 3261 §13.2.1). `false`
/// when the offer cannot be answered (488).
// Own frame: the parsed offer and the answer stay out of `on_new_invite`'s
// frame, which is on the deepest chains of the run loop.
#[inline(never)]
fn take_initial_offer(media: &mut MediaSession, policy: &MediaPolicy, body: &[u8]) -> bool {
    if body.is_empty() {
        media.create_offer(policy);
        return true;
    }
    answer_offer(media, policy, body).is_ok()
}

/// Answers the offer in `body` (RFC 3264 §6) with `media`'s answer.
// Own frame, as the two below: the parsed SDP (2.4 KiB) and the answer stay
// out of the frames of the message handlers that call these.
#[inline(never)]
pub(super) fn answer_offer(
    media: &mut MediaSession,
    policy: &MediaPolicy,
    body: &[u8],
) -> Result<Negotiated, NegotiationError> {
    SessionDescription::parse(body)
        .as_ref()
        .map_err(|_| NegotiationError::NoAudio)
        .and_then(|sdp| media.answer_offer(policy, sdp))
}

/// Takes the answer in `body` to `media`'s pending offer (RFC 3264 §5):
/// the negotiated media, `None` when the body is no usable answer.
#[inline(never)]
pub(super) fn take_answer(media: &mut MediaSession, body: &[u8]) -> Option<Negotiated> {
    SessionDescription::parse(body)
        .as_ref()
        .ok()
        .and_then(|sdp| media.process_answer(sdp).ok())
}

/// Sets up the dialog the response `resp` to our `invite` creates (RFC
/// 3261 §12.1.2) in `dialogs`. `None` when the response cannot create
/// one; `Some(None)` when the table is full.
// Own frame: the dialog is built on the stack before it moves into the
// table, and that copy stays out of the response handlers' frames.
#[inline(never)]
pub(super) fn insert_uac_dialog<const N: usize>(
    dialogs: &mut DialogTable<N>,
    invite: &Message<'_>,
    resp: &Message<'_>,
) -> Option<Option<DialogHandle>> {
    let dialog = Dialog::new_uac(invite, resp, false).ok()?;
    Some(dialogs.insert(dialog).ok())
}

fn stream_params(local: SocketAddr, neg: &Negotiated, ssrc: u32) -> StreamParams {
    StreamParams {
        local,
        remote: neg.remote,
        payload_type: neg.codec.pt,
        clock_rate: AUDIO_RTP_CLOCK,
        ptime_ms: neg.ptime,
        dtmf_payload_type: neg.dtmf_pt,
        ssrc,
    }
}

/// What [`Phone::end_call`] still needs of a call once its slot is free.
struct EndedCall {
    invite_tx: Option<TransactionId>,
    dialog: Option<crate::dialog::DialogHandle>,
}
