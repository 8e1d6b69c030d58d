//! The offer/answer model (RFC 3264) for the phone's single audio stream.

use core::net::{IpAddr, SocketAddr};

use super::build::{FormatList, LocalDescription, MediaSlot, RejectedMedia};
use super::parse::{MediaDescription, SessionDescription};
use super::{Codec, Direction, PayloadFormat, MAX_MEDIA};

/// The phone's codecs in preference order, each at most once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CodecList {
    items: [Option<Codec>; Codec::ALL.len()],
}

impl CodecList {
    /// The codecs of `codecs` in order; repeats are dropped.
    pub fn from_slice(codecs: &[Codec]) -> Self {
        let mut items = [None; Codec::ALL.len()];
        let mut len = 0;
        for &c in codecs {
            if items.contains(&Some(c)) {
                continue;
            }
            if let Some(slot) = items.get_mut(len) {
                *slot = Some(c);
                len += 1;
            }
        }
        CodecList { items }
    }

    /// The codecs, preferred first.
    pub fn iter(&self) -> impl Iterator<Item = Codec> + '_ {
        self.items.iter().flatten().copied()
    }

    /// Whether `codec` is enabled.
    pub fn contains(&self, codec: Codec) -> bool {
        self.items.contains(&Some(codec))
    }
}

/// What the phone is willing to send and receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MediaPolicy {
    /// Enabled codecs, preferred first: the order of the phone's offers.
    pub codecs: CodecList,
    /// The payload type offered for telephone events (RFC 4733); `None`
    /// disables RTP DTMF.
    pub dtmf_pt: Option<u8>,
    /// The packet time the phone asks to receive and sends by default, in ms.
    pub ptime: u16,
}

impl Default for MediaPolicy {
    /// PCMU, PCMA, G.722; telephone events on payload type 101; 20 ms.
    fn default() -> Self {
        MediaPolicy {
            codecs: CodecList::from_slice(&Codec::ALL),
            dtmf_pt: Some(101),
            ptime: 20,
        }
    }
}

/// The outcome of an offer/answer exchange: everything the media layer needs
/// to start or change the call's stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Negotiated {
    /// Where to send RTP (RTCP goes to the next port, RFC 3550 §11). Under
    /// an RFC 2543 hold this is `0.0.0.0`, and `direction` then never sends.
    pub remote: SocketAddr,
    /// The codec to send, with the payload type the peer expects.
    pub codec: PayloadFormat,
    /// The packet time to send at, in ms: the peer's `a=ptime`, capped by its
    /// `a=maxptime`, else the policy's (RFC 8866 §6.4).
    pub ptime: u16,
    /// The telephone-event payload type both sides agreed on.
    pub dtmf_pt: Option<u8>,
    /// The phone's direction: whether it sends and whether it plays out.
    pub direction: Direction,
}

/// Why an offer or answer could not be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NegotiationError {
    /// The offer has no audio stream the phone could accept.
    NoAudio,
    /// Audio is offered, but in no codec or protocol the phone enables.
    NoCommonCodec,
    /// The audio stream's connection address is missing or not an IP
    /// literal (the core does no DNS).
    NoRemoteAddress,
    /// An offered section cannot be echoed: a token is longer than
    /// [`super::ShortToken::CAPACITY`], or its tokens together longer than
    /// [`super::RejectedMedia::CAPACITY`].
    UnsupportedMedia,
    /// The answer disabled the audio stream (port 0).
    AudioRejected,
    /// The answer's sections do not match the offer's (RFC 3264 §6).
    MediaMismatch,
    /// An answer arrived while no offer of ours was outstanding.
    NoOfferPending,
}

impl NegotiationError {
    /// The SIP status that rejects an unacceptable offer: 488 Not Acceptable
    /// Here (RFC 3261 §13.3.1.3, RFC 3264 §6).
    pub const REJECT_STATUS: u16 = 488;
}

impl core::fmt::Display for NegotiationError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            NegotiationError::NoAudio => "no audio stream",
            NegotiationError::NoCommonCodec => "no common codec",
            NegotiationError::NoRemoteAddress => "no usable connection address",
            NegotiationError::UnsupportedMedia => "media section cannot be echoed",
            NegotiationError::AudioRejected => "audio stream rejected",
            NegotiationError::MediaMismatch => "answer does not match the offer",
            NegotiationError::NoOfferPending => "no offer outstanding",
        })
    }
}

/// The offer/answer state of one call: the last SDP the phone sent, its hold
/// wish, and the last agreed media.
///
/// A failed exchange leaves the agreed media unchanged (RFC 3261 §14.2), so
/// the call keeps running on what was negotiated before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MediaSession {
    local: LocalDescription,
    address: IpAddr,
    audio_port: u16,
    sent: bool,
    hold: bool,
    offer_pending: bool,
    peer_direction: Option<Direction>,
    negotiated: Option<Negotiated>,
}

/// The peer's direction as seen from the peer, with the RFC 2543 hold
/// folded in: a `0.0.0.0` connection means nothing may be sent to it
/// (RFC 3264 §8.4).
fn peer_direction(m: &MediaDescription<'_>) -> Direction {
    match m.connection {
        Some(c) if c.is_null() => m.direction.intersect(Direction::SendOnly),
        _ => m.direction,
    }
}

fn remote_addr(m: &MediaDescription<'_>) -> Result<SocketAddr, NegotiationError> {
    let ip = m
        .connection
        .and_then(|c| c.ip)
        .ok_or(NegotiationError::NoRemoteAddress)?;
    Ok(SocketAddr::new(ip, m.port))
}

/// The packet time to send: the peer's `ptime` capped by its `maxptime`,
/// else `fallback` (RFC 8866 §6.4, §6.5).
fn send_ptime(m: &MediaDescription<'_>, fallback: u16) -> u16 {
    let wanted = m
        .ptime
        .and_then(|p| u16::try_from(p).ok())
        .filter(|&p| p > 0)
        .unwrap_or(fallback);
    match m.maxptime.and_then(|p| u16::try_from(p).ok()) {
        Some(max) if max > 0 && wanted > max => max,
        _ => wanted,
    }
}

impl MediaSession {
    /// A call's session: `session_id` (from the phone's seeded random
    /// source) names it for its whole life; `address` and `audio_port` are
    /// where the phone receives RTP.
    pub const fn new(session_id: u64, address: IpAddr, audio_port: u16) -> Self {
        MediaSession {
            local: LocalDescription::new(session_id, address, audio_port),
            address,
            audio_port,
            sent: false,
            hold: false,
            offer_pending: false,
            peer_direction: None,
            negotiated: None,
        }
    }

    /// The SDP to send: after [`Self::create_offer`] the offer, after
    /// [`Self::answer_offer`] the answer. Render it with
    /// [`LocalDescription::write`].
    pub fn local(&self) -> &LocalDescription {
        &self.local
    }

    /// The media agreed by the last successful exchange.
    pub fn negotiated(&self) -> Option<Negotiated> {
        self.negotiated
    }

    /// True between [`Self::create_offer`] and the answer (or
    /// [`Self::offer_failed`]).
    pub fn offer_pending(&self) -> bool {
        self.offer_pending
    }

    /// Records that the offer will get no answer (the request failed, e.g. a
    /// 488 or 491 to a re-INVITE): the previously agreed media stay in force.
    /// The version already sent is kept, so the next offer still counts up.
    pub fn offer_failed(&mut self) {
        self.offer_pending = false;
    }

    /// Sets the user's hold wish; takes effect with the next offer (or
    /// answer).
    pub fn set_hold(&mut self, hold: bool) {
        self.hold = hold;
    }

    /// True when the user has put the call on hold.
    pub fn is_local_hold(&self) -> bool {
        self.hold
    }

    /// True when the peer's last SDP asked the phone not to send
    /// (`sendonly`, `inactive` or a `0.0.0.0` connection): the peer holds us.
    pub fn is_held_by_peer(&self) -> bool {
        self.peer_direction.is_some_and(|d| !d.receives())
    }

    /// Moves the phone's RTP endpoint; takes effect with the next offer or
    /// answer.
    pub fn set_local_address(&mut self, address: IpAddr, audio_port: u16) {
        // Not written into `local` yet: that is the last SDP sent, the
        // reference for the next version comparison.
        self.address = address;
        self.audio_port = audio_port;
    }

    /// The direction the phone would like: RFC 3264 §8.4 holds by sending
    /// only, and by going inactive when the stream was already recvonly
    /// (the peer holds us).
    fn wanted_direction(&self) -> Direction {
        match (self.hold, self.is_held_by_peer()) {
            (false, _) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (true, true) => Direction::Inactive,
        }
    }

    /// Adopts `next` as the SDP to send, counting the version up only when
    /// its content differs from the last SDP sent (RFC 3264 §8).
    fn commit(&mut self, mut next: LocalDescription) {
        next.address = self.address;
        next.audio_port = self.audio_port;
        if self.sent {
            next.session_version = if next.same_content(&self.local) {
                self.local.session_version
            } else {
                self.local.session_version.saturating_add(1)
            };
        }
        self.local = next;
        self.sent = true;
    }

    /// Prepares an offer (initial, re-offer for hold / resume / a new local
    /// address, or the late offer placed in a 200 OK) and returns it.
    ///
    /// Codecs follow the policy's order at their static payload types; a
    /// telephone-event payload type agreed before is kept so the mapping
    /// does not change mid-call (RFC 3264 §8.3.2). Sections rejected earlier
    /// stay, with port 0 (RFC 3264 §8).
    pub fn create_offer(&mut self, policy: &MediaPolicy) -> &LocalDescription {
        let mut next = self.local;
        next.formats = FormatList::new();
        for codec in policy.codecs.iter() {
            next.formats.push(PayloadFormat::of(codec));
        }
        next.dtmf_pt = policy.dtmf_pt.map(|pt| {
            self.negotiated
                .and_then(|n| n.dtmf_pt)
                .filter(|&agreed| next.formats.get(agreed).is_none())
                .unwrap_or(pt)
        });
        next.ptime = Some(policy.ptime);
        next.direction = self.wanted_direction();
        if next.audio_index().is_none() {
            next.slots = LocalDescription::AUDIO_ONLY;
        }
        self.commit(next);
        self.offer_pending = true;
        &self.local
    }

    /// Answers a peer's offer (initial INVITE, re-INVITE for hold / resume,
    /// or a re-offer after a transfer with a new address). On success
    /// [`Self::local`] is the answer to send; on error, reject the offer with
    /// [`NegotiationError::REJECT_STATUS`] and nothing changes.
    ///
    /// The first audio section over `RTP/AVP` with a common codec is
    /// accepted; every other section is answered with port 0 (RFC 3264 §6).
    ///
    /// Codec choice (RFC 3264 §6.1): the first payload type *in the offer's
    /// order* whose codec the policy enables, and the answer lists only that
    /// codec (plus telephone-event). §6.1 recommends keeping the offerer's
    /// order unless there is reason not to; answering with a single codec
    /// additionally leaves both sides no choice, so both directions use the
    /// same codec and the media layer never meets a payload switch. The
    /// policy's order governs the phone's own offers. Payload type numbers are
    /// the offer's, including the telephone-event one (§6.1).
    pub fn answer_offer(
        &mut self,
        policy: &MediaPolicy,
        offer: &SessionDescription<'_>,
    ) -> Result<Negotiated, NegotiationError> {
        let mut slots = [None; MAX_MEDIA];
        let mut chosen: Option<(&MediaDescription<'_>, PayloadFormat)> = None;
        let mut saw_audio = false;
        for (slot, m) in slots.iter_mut().zip(offer.media()) {
            saw_audio |= m.is_audio() && !m.is_disabled();
            let accepted = match chosen {
                None if m.is_audio() && m.is_rtp_avp() && !m.is_disabled() => {
                    Self::pick_codec(policy, m)
                }
                _ => None,
            };
            *slot = Some(match accepted {
                Some(format) => {
                    chosen = Some((m, format));
                    MediaSlot::Audio
                }
                None => MediaSlot::Rejected(
                    RejectedMedia::of(m).ok_or(NegotiationError::UnsupportedMedia)?,
                ),
            });
        }
        let (m, codec) = chosen.ok_or(if saw_audio {
            NegotiationError::NoCommonCodec
        } else {
            NegotiationError::NoAudio
        })?;
        let remote = remote_addr(m)?;
        let peer = peer_direction(m);
        // RFC 3264 §6.1: the answer's direction mirrors the offer's, narrowed
        // by the phone's own hold wish (sendonly ↔ recvonly, inactive stays).
        let wanted = if self.hold {
            Direction::SendOnly
        } else {
            Direction::SendRecv
        };
        let direction = wanted.intersect(peer.reversed());
        let dtmf_pt = policy
            .dtmf_pt
            .and_then(|_| m.telephone_event(codec.clock_rate()));

        let mut next = self.local;
        next.formats = FormatList::new();
        next.formats.push(codec);
        next.dtmf_pt = dtmf_pt;
        next.ptime = Some(policy.ptime);
        next.direction = direction;
        next.slots = slots;
        self.commit(next);

        let negotiated = Negotiated {
            remote,
            codec,
            ptime: send_ptime(m, policy.ptime),
            dtmf_pt,
            direction,
        };
        self.peer_direction = Some(peer);
        self.negotiated = Some(negotiated);
        Ok(negotiated)
    }

    /// The first offered payload type whose codec the policy enables.
    fn pick_codec(policy: &MediaPolicy, m: &MediaDescription<'_>) -> Option<PayloadFormat> {
        m.payload_types().iter().find_map(|&pt| {
            let codec = m.codec(pt).filter(|&c| policy.codecs.contains(c))?;
            Some(PayloadFormat { pt, codec })
        })
    }

    /// Applies the peer's answer to the pending offer (a 200 OK, or the ACK
    /// of a late offer). The answerer may list several formats; the phone
    /// sends the first one it offered (RFC 3264 §7).
    pub fn process_answer(
        &mut self,
        answer: &SessionDescription<'_>,
    ) -> Result<Negotiated, NegotiationError> {
        if !self.offer_pending {
            return Err(NegotiationError::NoOfferPending);
        }
        self.offer_pending = false;
        let index = self.local.audio_index().ok_or(NegotiationError::NoAudio)?;
        // RFC 3264 §6: the answer has exactly the offer's sections, in order.
        if answer.media().len() != self.local.slots.iter().flatten().count() {
            return Err(NegotiationError::MediaMismatch);
        }
        let m = answer
            .media()
            .get(index)
            .filter(|m| m.is_audio())
            .ok_or(NegotiationError::MediaMismatch)?;
        if m.is_disabled() {
            return Err(NegotiationError::AudioRejected);
        }
        let offered = self.local.formats;
        let codec = m
            .payload_types()
            .iter()
            .find_map(|&pt| {
                let codec = m.codec(pt)?;
                offered
                    .iter()
                    .any(|f| f.codec == codec)
                    .then_some(PayloadFormat { pt, codec })
            })
            .ok_or(NegotiationError::NoCommonCodec)?;
        let remote = remote_addr(m)?;
        let peer = peer_direction(m);
        let dtmf_pt = self
            .local
            .dtmf_pt
            .and_then(|_| m.telephone_event(codec.clock_rate()));
        let negotiated = Negotiated {
            remote,
            codec,
            // Our offer always carries the policy's ptime; 20 ms is RFC 3551's default.
            ptime: send_ptime(m, self.local.ptime.unwrap_or(20)),
            dtmf_pt,
            direction: self.local.direction.intersect(peer.reversed()),
        };
        self.peer_direction = Some(peer);
        self.negotiated = Some(negotiated);
        Ok(negotiated)
    }
}
