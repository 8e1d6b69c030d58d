//! Session descriptions (SDP, RFC 8866) and the offer/answer model
//! (RFC 3264) for one audio stream per call.
//!
//! Three parts, each usable alone:
//!
//! - [`SessionDescription`]: a zero-copy, bounded view over a received SDP
//!   body ([`SessionDescription::parse`]). Malformed input is a typed
//!   [`SdpError`] with a byte offset, never a panic.
//! - [`LocalDescription`]: the small owned `Copy` description of what the
//!   phone sends; [`LocalDescription::write`] renders it into a caller buffer.
//! - [`MediaSession`]: the per-call offer/answer state. It turns the phone's
//!   [`MediaPolicy`] and the peer's SDP into the next [`LocalDescription`] and
//!   a [`Negotiated`] result the media layer starts streams from.
//!
//! # How the call layer drives a [`MediaSession`]
//!
//! The same four calls cover every SIP flow; only where the bodies travel
//! differs:
//!
//! | Flow | Offer | Answer |
//! |------|-------|--------|
//! | Outgoing call | [`MediaSession::create_offer`] → INVITE | 200 (or reliable 18x) → [`MediaSession::process_answer`] |
//! | Incoming call | INVITE → [`MediaSession::answer_offer`] | the answer → 200 |
//! | Late offer (INVITE without body) | [`MediaSession::create_offer`] → 200 | ACK → [`MediaSession::process_answer`] |
//! | Hold / resume by us | [`MediaSession::set_hold`], then [`MediaSession::create_offer`] → re-INVITE | 200 → [`MediaSession::process_answer`] |
//! | Hold / resume by the peer, re-offer after a transfer (new address) | re-INVITE → [`MediaSession::answer_offer`] | the answer → 200 |
//!
//! Error mapping: an offer that [`MediaSession::answer_offer`] refuses is
//! answered `488 Not Acceptable Here` ([`NegotiationError::REJECT_STATUS`])
//! and the session keeps its previous state (RFC 3261 §14.2). An answer that
//! [`MediaSession::process_answer`] refuses cannot be rejected in SIP: the
//! call layer acknowledges the 200 and ends the call with BYE (a late-offer
//! ACK without an acceptable answer likewise ends with BYE). Glare (an offer
//! arriving while ours is pending) is the call layer's business (491).
//!
//! The session version in `o=` grows by one exactly when the SDP the phone
//! sends differs from the last one it sent (RFC 3264 §8), so session
//! refreshes repeat the previous SDP byte for byte.

mod build;
mod offer_answer;
mod parse;
#[cfg(test)]
mod tests;

pub use build::{
    FormatList, LocalDescription, MediaSlot, RejectedMedia, ShortToken, MAX_LOCAL_FORMATS,
};
pub use offer_answer::{CodecList, MediaPolicy, MediaSession, Negotiated, NegotiationError};
pub use parse::{
    AddrType, Connection, Fmtp, MediaDescription, Origin, RtpMap, SessionDescription, Timing,
};

/// Media sections a parsed description holds; more is [`SdpErrorKind::TooManyMedia`]
/// because an answer must mirror every offered section (RFC 3264 §6).
pub const MAX_MEDIA: usize = 4;

/// Payload types, `rtpmap` and `fmtp` attributes kept per media section;
/// extras are ignored (a phone never needs more than a handful).
pub const MAX_FORMATS: usize = 16;

/// The RTP clock rate of every codec the phone speaks and of its
/// telephone events (RFC 3551 §4.5; RFC 4733 §2.1).
pub const AUDIO_RTP_CLOCK: u32 = 8000;

/// The direction attribute of a stream (RFC 8866 §6.7), always from the
/// point of view of the side that wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `a=sendrecv`: send and receive (the default).
    SendRecv,
    /// `a=sendonly`: send, do not receive.
    SendOnly,
    /// `a=recvonly`: receive, do not send.
    RecvOnly,
    /// `a=inactive`: neither send nor receive.
    Inactive,
}

impl Direction {
    /// The direction for an attribute name, if it is one.
    pub fn from_attribute(name: &str) -> Option<Direction> {
        // RFC 8866 §6.7: attribute names are case-sensitive.
        match name {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }

    /// The attribute name (`sendrecv`, `sendonly`, `recvonly`, `inactive`).
    pub const fn as_attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// A direction from its two halves.
    pub const fn from_flags(sends: bool, receives: bool) -> Direction {
        match (sends, receives) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    /// Whether this side sends media.
    pub const fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether this side receives media.
    pub const fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The same stream seen from the other side: sendonly ↔ recvonly.
    pub const fn reversed(self) -> Direction {
        Direction::from_flags(self.receives(), self.sends())
    }

    /// Both constraints at once: sends only if both allow sending, receives
    /// only if both allow receiving.
    pub const fn intersect(self, other: Direction) -> Direction {
        Direction::from_flags(
            self.sends() && other.sends(),
            self.receives() && other.receives(),
        )
    }
}

/// An audio codec the phone can encode and decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 µ-law, static payload type 0 (RFC 3551 §4.5.14).
    Pcmu,
    /// G.711 A-law, static payload type 8 (RFC 3551 §4.5.14).
    Pcma,
    /// G.722 wideband, static payload type 9 (RFC 3551 §4.5.2).
    G722,
}

impl Codec {
    /// Every codec, in the phone's default preference order.
    pub const ALL: [Codec; 3] = [Codec::Pcmu, Codec::Pcma, Codec::G722];

    /// The encoding name used in `a=rtpmap`.
    pub const fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
            Codec::G722 => "G722",
        }
    }

    /// The static payload type assigned by RFC 3551 Table 4.
    pub const fn static_pt(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
            Codec::G722 => 9,
        }
    }

    /// The RTP timestamp clock rate. G.722 samples at 16 kHz but its RTP
    /// clock runs at 8000 Hz (RFC 3551 §4.5.2), so all three use 8000.
    pub const fn rtp_clock_rate(self) -> u32 {
        AUDIO_RTP_CLOCK
    }

    /// The audio sampling rate the codec works at, in Hz.
    pub const fn sample_rate(self) -> u32 {
        match self {
            Codec::Pcmu | Codec::Pcma => 8000,
            Codec::G722 => 16000,
        }
    }

    /// The codec a static payload type stands for when no `rtpmap` says
    /// otherwise (RFC 3551 Table 4).
    pub const fn from_static_pt(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            9 => Some(Codec::G722),
            _ => None,
        }
    }

    /// The codec an `rtpmap` encoding names, if the phone speaks it at that
    /// clock rate and channel count (encoding names are case-insensitive,
    /// RFC 4855 §3).
    pub fn from_rtpmap(encoding: &str, clock_rate: u32, channels: u8) -> Option<Codec> {
        if clock_rate != AUDIO_RTP_CLOCK || channels != 1 {
            return None;
        }
        Codec::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(encoding))
    }
}

/// One payload type bound to a codec, as listed on an `m=` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PayloadFormat {
    /// The RTP payload type number (0..=127).
    pub pt: u8,
    /// The codec it carries.
    pub codec: Codec,
}

impl PayloadFormat {
    /// The codec at its static payload type.
    pub const fn of(codec: Codec) -> Self {
        PayloadFormat {
            pt: codec.static_pt(),
            codec,
        }
    }

    /// The encoding name (`PCMU`, `PCMA`, `G722`).
    pub const fn name(self) -> &'static str {
        self.codec.name()
    }

    /// The RTP clock rate (8000 for all three codecs).
    pub const fn clock_rate(self) -> u32 {
        self.codec.rtp_clock_rate()
    }
}

/// Why an SDP body could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SdpErrorKind {
    /// The body holds no lines.
    Empty,
    /// A line is not `<letter>=<value>` (RFC 8866 §5).
    BadLine,
    /// A line the parser reads is not UTF-8.
    NotUtf8,
    /// The first line is not `v=0` (RFC 8866 §5.1).
    BadVersion,
    /// The `o=` line is missing or does not have six fields (RFC 8866 §5.2).
    BadOrigin,
    /// The `s=` line is missing (RFC 8866 §5.3).
    MissingSessionName,
    /// A `c=` line is malformed (RFC 8866 §5.7).
    BadConnection,
    /// A `t=` line is malformed (RFC 8866 §5.9).
    BadTiming,
    /// An `m=` line is malformed (RFC 8866 §5.14).
    BadMedia,
    /// An `rtpmap`, `fmtp`, `ptime` or `maxptime` attribute is malformed
    /// (RFC 8866 §6).
    BadAttribute,
    /// More than [`MAX_MEDIA`] media sections.
    TooManyMedia,
    /// A number does not fit its field (RFC 3264 §5: session id and version
    /// fit in 64 bits).
    Overflow,
}

impl core::fmt::Display for SdpErrorKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            SdpErrorKind::Empty => "empty session description",
            SdpErrorKind::BadLine => "malformed line",
            SdpErrorKind::NotUtf8 => "line is not UTF-8",
            SdpErrorKind::BadVersion => "first line is not v=0",
            SdpErrorKind::BadOrigin => "missing or malformed o= line",
            SdpErrorKind::MissingSessionName => "missing s= line",
            SdpErrorKind::BadConnection => "malformed c= line",
            SdpErrorKind::BadTiming => "malformed t= line",
            SdpErrorKind::BadMedia => "malformed m= line",
            SdpErrorKind::BadAttribute => "malformed attribute",
            SdpErrorKind::TooManyMedia => "too many media sections",
            SdpErrorKind::Overflow => "number too large",
        })
    }
}

/// An SDP parse failure and the byte offset in the body where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SdpError {
    /// What went wrong.
    pub kind: SdpErrorKind,
    /// Byte offset into the parsed body.
    pub offset: usize,
}

impl SdpError {
    /// An error of `kind` at `offset`.
    pub const fn new(kind: SdpErrorKind, offset: usize) -> Self {
        SdpError { kind, offset }
    }
}

impl core::fmt::Display for SdpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

/// Why an SDP body could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuildError {
    /// The caller's buffer cannot hold the whole body; nothing usable was
    /// written.
    BufferTooSmall,
}

impl core::fmt::Display for BuildError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("buffer too small")
    }
}
