//! One dialog's state (RFC 3261 §12.1) and the rules that change it: early
//! to confirmed, remote target refresh, and the CSeq numbers of both sides.

use heapless::{String, Vec};

use super::error::{DialogError, Field};
use super::id::{DialogId, DialogKey};
use super::{MAX_CALL_ID, MAX_DIALOG_TEXT, MAX_DISPLAY_NAME, MAX_ROUTES, MAX_TAG, MAX_URI};
use crate::message::{CSeq, Message, Method, NameAddr, ParseError, ReferToReplaces, Scheme, Uri};

/// Where a dialog stands. A terminated dialog is not a state: its owner
/// removes it from the [`DialogTable`](super::DialogTable).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DialogState {
    /// Created by a provisional response with a To tag (RFC 3261 §12.1).
    Early,
    /// Created or confirmed by a 2xx.
    Confirmed,
}

/// Which side of the dialog-creating request this user agent was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// We sent the request (RFC 3261 §12.1.2).
    Uac,
    /// We received it and answered (RFC 3261 §12.1.1).
    Uas,
}

/// What to do with an in-dialog request after the remote CSeq check
/// (RFC 3261 §12.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CSeqCheck {
    /// Process the request; the remote CSeq now holds its number.
    InOrder,
    /// Its number is lower than the remote CSeq: answer 500 and leave the
    /// dialog as it was.
    OutOfOrder,
}

impl CSeqCheck {
    /// The status code to answer with, if the request is refused.
    pub fn refusal(self) -> Option<u16> {
        match self {
            CSeqCheck::InOrder => None,
            CSeqCheck::OutOfOrder => Some(500),
        }
    }
}

/// Whether requests of `method` refresh the remote target: INVITE (RFC
/// 3261 §12.2), UPDATE (RFC 3311 §5.1), SUBSCRIBE and NOTIFY (RFC 6665
/// §4.1.2.1, §4.1.3).
pub fn is_target_refresh(method: Method<'_>) -> bool {
    matches!(
        method,
        Method::Invite | Method::Update | Method::Subscribe | Method::Notify
    )
}

/// Methods whose non-failure responses create a dialog: INVITE (RFC 3261
/// §12.1), SUBSCRIBE (RFC 6665 §4.1.2.1) and REFER (RFC 3515 §2.4.4).
fn creates_dialog(method: Method<'_>) -> bool {
    matches!(method, Method::Invite | Method::Subscribe | Method::Refer)
}

/// The state a response with `status` to `method` creates.
fn created_state(method: Method<'_>, status: u16) -> Result<DialogState, DialogError> {
    if !creates_dialog(method) {
        return Err(DialogError::NotDialogCreating);
    }
    match status {
        // RFC 3261 §12.1: 101-199 with a To tag create an early dialog, and
        // only for INVITE.
        101..=199 if method == Method::Invite => Ok(DialogState::Early),
        200..=299 => Ok(DialogState::Confirmed),
        _ => Err(DialogError::NotDialogCreating),
    }
}

/// Where one value lies in a dialog's text (byte offsets; the text is at
/// most [`MAX_DIALOG_TEXT`] bytes, so `u16` holds them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: u16,
    len: u16,
}

impl Span {
    /// An empty span at `offset`, an offset in a dialog's text.
    fn at(offset: usize) -> Span {
        // Within MAX_DIALOG_TEXT, which u16 holds (asserted below).
        Span {
            start: offset as u16,
            len: 0,
        }
    }

    fn end(self) -> usize {
        usize::from(self.start) + usize::from(self.len)
    }
}

// Spans count bytes of the text in u16.
const _: () = assert!(MAX_DIALOG_TEXT <= u16::MAX as usize);

/// A dialog's values as borrowed from the messages that create it,
/// checked, before they are copied into its text.
struct Values<'a> {
    call_id: &'a str,
    local_tag: &'a str,
    remote_tag: &'a str,
    /// The field named when our URI is too long (From for a UAC, To for a
    /// UAS), and the peer's.
    local_field: Field,
    remote_field: Field,
    local: NameAddr<'a>,
    remote: NameAddr<'a>,
    route_set: Vec<&'a str, MAX_ROUTES>,
    remote_target: &'a str,
}

/// A display name worth keeping: cosmetic only, so one with folded line
/// breaks, or one longer than [`MAX_DISPLAY_NAME`], is left out rather
/// than refusing the dialog.
fn display_name<'a>(addr: &NameAddr<'a>) -> Option<&'a str> {
    addr.display_name
        .filter(|d| d.len() <= MAX_DISPLAY_NAME && !d.bytes().any(|b| b == b'\r' || b == b'\n'))
}

/// Checks that values of `lens` bytes fit the text after `used` bytes;
/// returns the bytes used after them.
fn fit(used: usize, lens: &[usize]) -> Result<usize, DialogError> {
    lens.iter()
        .try_fold(used, |used, &len| used.checked_add(len))
        .filter(|&n| n <= MAX_DIALOG_TEXT)
        .ok_or(DialogError::NoRoom)
}

/// A dialog: everything needed to send and recognise requests within it
/// (RFC 3261 §12). Fixed size, no borrowed data: it outlives the messages
/// it was built from.
///
/// Its text (Call-ID, tags, URIs, display names, route set and remote
/// target) is kept in one buffer of [`MAX_DIALOG_TEXT`] bytes, one value
/// after the other, each found by its span: a dialog costs what real peers
/// send, not the longest value allowed for every field. The route set and
/// the remote target come last, so that a target refresh or a 2xx that
/// replaces them rewrites only the end of the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dialog {
    text: String<MAX_DIALOG_TEXT>,
    call_id: Span,
    local_tag: Span,
    remote_tag: Span,
    local_uri: Span,
    remote_uri: Span,
    local_display_name: Option<Span>,
    remote_display_name: Option<Span>,
    route_set: Vec<Span, MAX_ROUTES>,
    remote_target: Span,
    pub(super) local_cseq: Option<u32>,
    pub(super) remote_cseq: Option<u32>,
    pub(super) secure: bool,
    pub(super) state: DialogState,
    pub(super) role: Role,
    pub(super) by_invite: bool,
}

impl Dialog {
    /// The dialog a response creates for the request we sent (RFC 3261
    /// §12.1.2): a 101-199 with a To tag makes it early, a 2xx confirmed.
    /// `request` is the request as sent (parse it back from the bytes
    /// handed to the transport); `secure_transport` says whether it went
    /// over TLS. The route set is the response's Record-Route in reverse,
    /// the remote target its Contact.
    pub fn new_uac(
        request: &Message<'_>,
        response: &Message<'_>,
        secure_transport: bool,
    ) -> Result<Dialog, DialogError> {
        let method = request.method().ok_or(DialogError::NotDialogCreating)?;
        let status = response.status().ok_or(DialogError::NotDialogCreating)?;
        let state = created_state(method, status)?;
        let call_id = call_id(request)?;
        if response.call_id() != Some(call_id) {
            return Err(DialogError::Mismatch);
        }
        let sent_cseq = cseq(request)?;
        if sent_cseq.method != method {
            return Err(DialogError::BadHeader(Field::CSeq));
        }
        if cseq(response)? != sent_cseq {
            return Err(DialogError::Mismatch);
        }
        let from = addr(request.from(), Field::From)?;
        let local_tag = tag(&from, Field::From)?;
        if addr(response.from(), Field::From)?.tag() != Some(local_tag) {
            return Err(DialogError::Mismatch);
        }
        let to = addr(request.to(), Field::To)?;
        // RFC 3261 §8.2.6.2: the UAS adds its tag; without one there is
        // no dialog to speak of (RFC 2543 peers are not supported).
        let remote_tag = tag(&addr(response.to(), Field::To)?, Field::To)?;
        let remote_target = remote_target(response)?.ok_or(DialogError::MissingContact)?;
        // RFC 3261 §12.1.2: the route set is the Record-Route list reversed.
        let route_set = route_set(response, true)?;
        let mut dialog = Dialog::with_text(Values {
            call_id,
            local_tag,
            remote_tag,
            local_field: Field::From,
            remote_field: Field::To,
            local: from,
            remote: to,
            route_set,
            remote_target,
        })?;
        dialog.local_cseq = Some(sent_cseq.seq);
        dialog.secure = secure_transport && is_sips(request);
        dialog.state = state;
        dialog.role = Role::Uac;
        dialog.by_invite = method == Method::Invite;
        Ok(dialog)
    }

    /// The dialog we create by answering `request` with `status` (RFC 3261
    /// §12.1.1): 101-199 makes it early, 2xx confirmed. `local_tag` is the
    /// tag we put in the response's To (the same in every response to the
    /// request). `secure_transport` says whether the request came over TLS.
    /// The route set is the request's Record-Route in order, the remote
    /// target its Contact.
    pub fn new_uas(
        request: &Message<'_>,
        local_tag: &str,
        status: u16,
        secure_transport: bool,
    ) -> Result<Dialog, DialogError> {
        let method = request.method().ok_or(DialogError::NotDialogCreating)?;
        let state = created_state(method, status)?;
        let call_id = call_id(request)?;
        let received_cseq = cseq(request)?;
        if received_cseq.method != method {
            return Err(DialogError::BadHeader(Field::CSeq));
        }
        let to = addr(request.to(), Field::To)?;
        // A To tag means the request is already inside a dialog.
        if to.tag().is_some() {
            return Err(DialogError::NotDialogCreating);
        }
        let from = addr(request.from(), Field::From)?;
        let remote_tag = tag(&from, Field::From)?;
        if !is_token(local_tag) {
            return Err(DialogError::BadHeader(Field::To));
        }
        if local_tag.len() > MAX_TAG {
            return Err(DialogError::TooLong(Field::To));
        }
        let remote_target = remote_target(request)?.ok_or(DialogError::MissingContact)?;
        // RFC 3261 §12.1.1: the route set is the Record-Route list in order.
        let route_set = route_set(request, false)?;
        let mut dialog = Dialog::with_text(Values {
            call_id,
            local_tag,
            remote_tag,
            local_field: Field::To,
            remote_field: Field::From,
            local: to,
            remote: from,
            route_set,
            remote_target,
        })?;
        dialog.remote_cseq = Some(received_cseq.seq);
        dialog.secure = secure_transport && is_sips(request);
        dialog.state = state;
        dialog.role = Role::Uas;
        dialog.by_invite = method == Method::Invite;
        Ok(dialog)
    }

    /// A dialog holding `v` as its text, every other part at its default
    /// (the constructors set them). Display names are kept only in the
    /// room the other values leave: the route set and remote target are
    /// reserved before them.
    fn with_text(v: Values<'_>) -> Result<Dialog, DialogError> {
        for (uri, field) in [(&v.local, v.local_field), (&v.remote, v.remote_field)] {
            if uri.uri.raw.len() > MAX_URI {
                return Err(DialogError::TooLong(field));
            }
        }
        // The text is written where the dialog lies, not in a local copied
        // into it afterwards.
        let empty = Span::at(0);
        let mut dialog = Dialog {
            text: String::new(),
            call_id: empty,
            local_tag: empty,
            remote_tag: empty,
            local_uri: empty,
            remote_uri: empty,
            local_display_name: None,
            remote_display_name: None,
            route_set: Vec::new(),
            remote_target: empty,
            local_cseq: None,
            remote_cseq: None,
            secure: false,
            state: DialogState::Early,
            role: Role::Uac,
            by_invite: false,
        };
        let d = &mut dialog;
        d.call_id = push(&mut d.text, v.call_id)?;
        d.local_tag = push(&mut d.text, v.local_tag)?;
        d.remote_tag = push(&mut d.text, v.remote_tag)?;
        d.local_uri = push(&mut d.text, v.local.uri.raw)?;
        d.remote_uri = push(&mut d.text, v.remote.uri.raw)?;
        let routes_len: usize = v.route_set.iter().map(|r| r.len()).sum();
        let tail = routes_len + v.remote_target.len();
        d.local_display_name = push_if_room(&mut d.text, display_name(&v.local), tail);
        d.remote_display_name = push_if_room(&mut d.text, display_name(&v.remote), tail);
        // An empty target where the tail starts, replaced just below.
        d.remote_target = Span::at(d.text.len());
        dialog.set_route_set_and_target(&v.route_set, v.remote_target)?;
        Ok(dialog)
    }

    /// Where the route set (or, without one, the remote target) starts:
    /// everything from there on is rewritten when they change.
    fn tail_start(&self) -> usize {
        usize::from(
            self.route_set
                .first()
                .map_or(self.remote_target.start, |r| r.start),
        )
    }

    /// Replaces the route set and the remote target, the end of the text.
    /// On error (they do not fit) the dialog is left as it was.
    fn set_route_set_and_target(
        &mut self,
        routes: &[&str],
        target: &str,
    ) -> Result<(), DialogError> {
        let start = self.tail_start().min(self.text.len());
        let routes_len = routes.iter().map(|r| r.len()).sum();
        fit(start, &[routes_len, target.len()])?;
        if self.text.is_char_boundary(start) {
            self.text.truncate(start);
        }
        self.route_set.clear();
        for route in routes {
            let span = push(&mut self.text, route)?;
            self.route_set
                .push(span)
                .map_err(|_| DialogError::TooManyRoutes)?;
        }
        self.remote_target = push(&mut self.text, target)?;
        Ok(())
    }

    /// The text a span covers ("" for a span that is not in it, which the
    /// constructors never make).
    fn get(&self, span: Span) -> &str {
        self.text
            .get(usize::from(span.start)..span.end())
            .unwrap_or("")
    }

    /// The Call-ID.
    pub fn call_id(&self) -> &str {
        self.get(self.call_id)
    }

    /// Our tag.
    pub fn local_tag(&self) -> &str {
        self.get(self.local_tag)
    }

    /// The peer's tag.
    pub fn remote_tag(&self) -> &str {
        self.get(self.remote_tag)
    }

    /// The dialog's identity, owned.
    pub fn id(&self) -> DialogId {
        // The constructors keep Call-ID and tags within MAX_CALL_ID and
        // MAX_TAG, so these copies are whole.
        DialogId {
            call_id: owned(self.call_id()),
            local_tag: owned(self.local_tag()),
            remote_tag: owned(self.remote_tag()),
        }
    }

    /// The dialog's identity, borrowed.
    pub fn key(&self) -> DialogKey<'_> {
        DialogKey {
            call_id: self.call_id(),
            local_tag: self.local_tag(),
            remote_tag: self.remote_tag(),
        }
    }

    /// Our URI: From of the requests we send.
    pub fn local_uri(&self) -> &str {
        self.get(self.local_uri)
    }

    /// Our display name as written in the dialog-creating request, if kept.
    pub fn local_display_name(&self) -> Option<&str> {
        self.local_display_name.map(|s| self.get(s))
    }

    /// The peer's URI: To of the requests we send.
    pub fn remote_uri(&self) -> &str {
        self.get(self.remote_uri)
    }

    /// The peer's display name as written, if kept.
    pub fn remote_display_name(&self) -> Option<&str> {
        self.remote_display_name.map(|s| self.get(s))
    }

    /// Where requests go: the peer's Contact URI.
    pub fn remote_target(&self) -> &str {
        self.get(self.remote_target)
    }

    /// The route set, first hop first.
    pub fn route_set(&self) -> impl Iterator<Item = &str> + '_ {
        self.route_set.iter().map(|&r| self.get(r))
    }

    /// The CSeq number of our last request, `None` before the first.
    pub fn local_cseq(&self) -> Option<u32> {
        self.local_cseq
    }

    /// The CSeq number of the peer's last request, `None` before the first.
    pub fn remote_cseq(&self) -> Option<u32> {
        self.remote_cseq
    }

    /// Whether the dialog is secure: its creating request went over TLS to
    /// a SIPS Request-URI (RFC 3261 §12.1.1, §12.1.2).
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// Early or confirmed.
    pub fn state(&self) -> DialogState {
        self.state
    }

    /// Whether we sent the dialog-creating request.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether an INVITE created the dialog (RFC 3891 §3 replaces only
    /// those).
    pub fn created_by_invite(&self) -> bool {
        self.by_invite
    }

    /// Whether the identity is `key`.
    pub fn matches_key(&self, key: &DialogKey<'_>) -> bool {
        // RFC 3261 §20.8: Call-IDs compare byte by byte; tags are tokens we
        // compare the same way.
        self.call_id() == key.call_id
            && self.local_tag() == key.local_tag
            && self.remote_tag() == key.remote_tag
    }

    /// Whether a request we received belongs to this dialog: same Call-ID,
    /// To tag ours, From tag the peer's (RFC 3261 §12.2.2).
    pub fn matches_request(&self, request: &Message<'_>) -> bool {
        request.is_request() && DialogKey::of_request(request).is_some_and(|k| self.matches_key(&k))
    }

    /// Whether a response we received belongs to this dialog: same Call-ID,
    /// From tag ours, To tag the peer's.
    pub fn matches_response(&self, response: &Message<'_>) -> bool {
        !response.is_request()
            && DialogKey::of_response(response).is_some_and(|k| self.matches_key(&k))
    }

    /// UAS side: we sent a 2xx to the dialog-creating request.
    pub fn confirm(&mut self) {
        self.state = DialogState::Confirmed;
    }

    /// UAC side: a 2xx to our INVITE arrived for this early dialog. The
    /// dialog becomes confirmed and its route set and remote target are
    /// taken from the 2xx (RFC 3261 §13.2.2.4). A dialog already confirmed
    /// stays as it is: the route set never changes once confirmed (§12.2).
    pub fn confirm_with_response(&mut self, response: &Message<'_>) -> Result<(), DialogError> {
        if self.role != Role::Uac || !self.matches_response(response) {
            return Err(DialogError::Mismatch);
        }
        let status = response.status().unwrap_or(0);
        if !(200..=299).contains(&status) || cseq(response)?.method != Method::Invite {
            return Err(DialogError::NotDialogCreating);
        }
        if self.state == DialogState::Confirmed {
            return Ok(());
        }
        // Build both before changing anything, so an error leaves the
        // dialog untouched.
        let target = remote_target(response)?.ok_or(DialogError::MissingContact)?;
        let routes = route_set(response, true)?;
        self.set_route_set_and_target(&routes, target)?;
        self.state = DialogState::Confirmed;
        Ok(())
    }

    /// Applies a target refresh (RFC 3261 §12.2): the Contact of a
    /// target-refresh request we accept (§12.2.2), or of a 2xx to one we
    /// sent (§12.2.1.2), becomes the remote target. Messages of other
    /// methods, non-2xx responses and messages without Contact change
    /// nothing. A UAS calls this once it accepts the request: RFC 6141
    /// ties a refresh to the request's success. Returns whether the remote
    /// target changed.
    pub fn refresh_remote_target(&mut self, message: &Message<'_>) -> Result<bool, DialogError> {
        let belongs = if message.is_request() {
            self.matches_request(message)
        } else {
            self.matches_response(message)
        };
        if !belongs {
            return Err(DialogError::Mismatch);
        }
        if !is_target_refresh(cseq(message)?.method) {
            return Ok(false);
        }
        if message.status().is_some_and(|s| !(200..=299).contains(&s)) {
            return Ok(false);
        }
        match remote_target(message)? {
            Some(target) if target != self.remote_target() => {
                let start = usize::from(self.remote_target.start).min(self.text.len());
                fit(start, &[target.len()])?;
                if self.text.is_char_boundary(start) {
                    self.text.truncate(start);
                }
                self.remote_target = push(&mut self.text, target)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// The remote CSeq check for a request received in this dialog (RFC
    /// 3261 §12.2.2): a number lower than the last one is out of order (the
    /// caller answers 500); any other number is accepted, gaps included, and
    /// remembered. ACK and CANCEL reuse their INVITE's number and never
    /// move the remote CSeq.
    pub fn check_remote_cseq(&mut self, request: &Message<'_>) -> Result<CSeqCheck, DialogError> {
        if !self.matches_request(request) {
            return Err(DialogError::Mismatch);
        }
        let c = cseq(request)?;
        Ok(self.check_remote_cseq_number(c.seq, c.method))
    }

    /// [`check_remote_cseq`](Self::check_remote_cseq) for a CSeq already
    /// read.
    pub fn check_remote_cseq_number(&mut self, seq: u32, method: Method<'_>) -> CSeqCheck {
        if matches!(method, Method::Ack | Method::Cancel) {
            return CSeqCheck::InOrder;
        }
        match self.remote_cseq {
            Some(last) if seq < last => CSeqCheck::OutOfOrder,
            _ => {
                self.remote_cseq = Some(seq);
                CSeqCheck::InOrder
            }
        }
    }

    /// Takes the CSeq number for our next request (RFC 3261 §12.2.1.1: one
    /// more than the last; 1 for the first request of a UAS, any value
    /// below 2^31 being allowed by §8.1.1.5). ACK and CANCEL must not take
    /// one: they reuse the INVITE's.
    pub fn next_local_cseq(&mut self) -> Result<u32, DialogError> {
        let next = match self.local_cseq {
            None => 1,
            Some(n) => n
                .checked_add(1)
                .filter(|&n| n < 1 << 31)
                .ok_or(DialogError::CSeqExhausted)?,
        };
        self.local_cseq = Some(next);
        Ok(next)
    }

    /// The Refer-To value that asks a transferee to replace this dialog
    /// (attended transfer, RFC 5589 §7; RFC 3891 §3): the target is the
    /// peer's Contact, `to-tag` the peer's tag and `from-tag` ours, because
    /// the peer, receiving the INVITE with Replaces, compares `to-tag`
    /// with its local tag whichever side created the dialog.
    pub fn refer_to_replaces(&self, early_only: bool) -> ReferToReplaces<'_> {
        ReferToReplaces {
            target: self.remote_target(),
            call_id: self.call_id(),
            to_tag: self.remote_tag(),
            from_tag: self.local_tag(),
            early_only,
        }
    }
}

/// Appends `s` to a dialog's text.
fn push(text: &mut String<MAX_DIALOG_TEXT>, s: &str) -> Result<Span, DialogError> {
    let start = text.len();
    text.push_str(s).map_err(|()| DialogError::NoRoom)?;
    // Both within MAX_DIALOG_TEXT, which u16 holds (asserted above).
    Ok(Span {
        start: start as u16,
        len: s.len() as u16,
    })
}

/// Appends a display name when it fits with `reserve` bytes left after it.
fn push_if_room(
    text: &mut String<MAX_DIALOG_TEXT>,
    name: Option<&str>,
    reserve: usize,
) -> Option<Span> {
    let name = name?;
    fit(text.len(), &[name.len(), reserve]).ok()?;
    push(text, name).ok()
}

/// Copies `s` into bounded text, empty if it does not fit.
fn owned<const N: usize>(s: &str) -> String<N> {
    let mut t = String::new();
    if t.push_str(s).is_err() {
        t.clear();
    }
    t
}

/// token (RFC 3261 §25.1), as tags are.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
                )
        })
}

fn call_id<'a>(m: &Message<'a>) -> Result<&'a str, DialogError> {
    let id = m
        .call_id()
        .ok_or(DialogError::MissingHeader(Field::CallId))?;
    // RFC 3261 §25.1 callid = word ["@" word]: visible characters only.
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DialogError::BadHeader(Field::CallId));
    }
    if id.len() > MAX_CALL_ID {
        return Err(DialogError::TooLong(Field::CallId));
    }
    Ok(id)
}

fn cseq<'a>(m: &Message<'a>) -> Result<CSeq<'a>, DialogError> {
    m.cseq()
        .ok_or(DialogError::MissingHeader(Field::CSeq))?
        .map_err(|_| DialogError::BadHeader(Field::CSeq))
}

fn addr<'a>(
    value: Option<Result<NameAddr<'a>, ParseError>>,
    field: Field,
) -> Result<NameAddr<'a>, DialogError> {
    value
        .ok_or(DialogError::MissingHeader(field))?
        .map_err(|_| DialogError::BadHeader(field))
}

fn tag<'a>(a: &NameAddr<'a>, field: Field) -> Result<&'a str, DialogError> {
    let t = a.tag().ok_or(DialogError::MissingTag(field))?;
    if !is_token(t) {
        return Err(DialogError::BadHeader(field));
    }
    if t.len() > MAX_TAG {
        return Err(DialogError::TooLong(field));
    }
    Ok(t)
}

/// A SIP or SIPS URI of at most [`MAX_URI`] bytes (remote target, route
/// entries).
fn sip_uri(raw: &str, field: Field) -> Result<&str, DialogError> {
    let uri = Uri::parse(raw).map_err(|_| DialogError::BadHeader(field))?;
    if !matches!(uri.scheme, Scheme::Sip | Scheme::Sips) {
        return Err(DialogError::BadHeader(field));
    }
    if raw.len() > MAX_URI {
        return Err(DialogError::TooLong(field));
    }
    Ok(raw)
}

/// The URI of the first Contact, `None` without one.
fn remote_target<'a>(m: &Message<'a>) -> Result<Option<&'a str>, DialogError> {
    match m.contact() {
        None => Ok(None),
        Some(Err(_)) => Err(DialogError::BadHeader(Field::Contact)),
        Some(Ok(c)) => sip_uri(c.uri.raw, Field::Contact).map(Some),
    }
}

/// The Record-Route URIs of `m`, with their URI parameters (RFC 3261
/// §12.1.1: "preserving all URI parameters"), reversed for a UAC.
fn route_set<'a>(m: &Message<'a>, reverse: bool) -> Result<Vec<&'a str, MAX_ROUTES>, DialogError> {
    let mut routes = Vec::new();
    for rr in m.record_routes() {
        let rr = rr.map_err(|_| DialogError::BadHeader(Field::RecordRoute))?;
        let uri = sip_uri(rr.uri.raw, Field::RecordRoute)?;
        routes.push(uri).map_err(|_| DialogError::TooManyRoutes)?;
    }
    if reverse {
        routes.reverse();
    }
    Ok(routes)
}

fn is_sips(request: &Message<'_>) -> bool {
    request
        .request_uri()
        .and_then(|u| u.ok())
        .is_some_and(|u| u.scheme == Scheme::Sips)
}
