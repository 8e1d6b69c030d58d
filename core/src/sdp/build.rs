//! The phone's own session description and its rendering into a caller
//! buffer.

use core::net::IpAddr;

use super::parse::{AddrType, MediaDescription};
use super::{BuildError, Direction, PayloadFormat, AUDIO_RTP_CLOCK, MAX_MEDIA};
use crate::message::{AddrText, Decimal};

/// Codec formats a [`LocalDescription`] lists on its audio line.
pub const MAX_LOCAL_FORMATS: usize = 4;

/// A short token copied out of a peer's SDP, stored inline so descriptions
/// stay `Copy`; its capacity is also the longest token a rejected stream
/// echoes ([`RejectedMedia`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ShortToken {
    bytes: [u8; ShortToken::CAPACITY],
    len: u8,
}

impl ShortToken {
    /// The longest token held, in bytes.
    pub const CAPACITY: usize = 32;

    /// A copy of `s`, or `None` when it is longer than [`Self::CAPACITY`].
    pub fn new(s: &str) -> Option<Self> {
        let mut bytes = [0u8; Self::CAPACITY];
        bytes.get_mut(..s.len())?.copy_from_slice(s.as_bytes());
        Some(ShortToken {
            bytes,
            len: u8::try_from(s.len()).ok()?,
        })
    }

    /// The token text.
    pub fn as_str(&self) -> &str {
        let bytes = self.bytes.get(..usize::from(self.len)).unwrap_or_default();
        core::str::from_utf8(bytes).unwrap_or_default()
    }
}

/// A media section the phone declines, answered (and re-offered) with port
/// 0 and the peer's media type, protocol and first format (RFC 3264 §6, §8).
/// The three tokens share [`RejectedMedia::CAPACITY`] bytes, each at most
/// [`ShortToken::CAPACITY`]: the longest real ones, e.g. `application`
/// `TCP/DTLS/RTP/SAVPF` `webrtc-datachannel`, take 47.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RejectedMedia {
    /// The media type, protocol and format, one after the other.
    text: [u8; RejectedMedia::CAPACITY],
    media_len: u8,
    proto_len: u8,
    format_len: u8,
}

impl RejectedMedia {
    /// The bytes the three tokens share.
    pub const CAPACITY: usize = 48;

    /// The rejection of an offered section; `None` when one of its tokens is
    /// longer than [`ShortToken::CAPACITY`] or together they are longer
    /// than [`Self::CAPACITY`].
    pub fn of(offered: &MediaDescription<'_>) -> Option<Self> {
        let format = offered.format_tokens().next().unwrap_or("");
        Self::new(offered.media, offered.proto, format)
    }

    /// The rejection of a section with these tokens (see
    /// [`of`](Self::of)).
    pub fn new(media: &str, proto: &str, format: &str) -> Option<Self> {
        let mut text = [0u8; Self::CAPACITY];
        let mut at = 0;
        for token in [media, proto, format] {
            if token.len() > ShortToken::CAPACITY {
                return None;
            }
            let end = at + token.len();
            text.get_mut(at..end)?.copy_from_slice(token.as_bytes());
            at = end;
        }
        Some(RejectedMedia {
            text,
            media_len: u8::try_from(media.len()).ok()?,
            proto_len: u8::try_from(proto.len()).ok()?,
            format_len: u8::try_from(format.len()).ok()?,
        })
    }

    /// The token of `len` bytes at `start`.
    fn token(&self, start: usize, len: u8) -> &str {
        let bytes = self
            .text
            .get(start..start + usize::from(len))
            .unwrap_or_default();
        core::str::from_utf8(bytes).unwrap_or_default()
    }

    /// The media type, e.g. `video`.
    pub fn media(&self) -> &str {
        self.token(0, self.media_len)
    }

    /// The transport protocol, e.g. `RTP/AVP`.
    pub fn proto(&self) -> &str {
        self.token(usize::from(self.media_len), self.proto_len)
    }

    /// One format from the offer (empty when the offer listed none).
    pub fn format(&self) -> &str {
        let start = usize::from(self.media_len) + usize::from(self.proto_len);
        self.token(start, self.format_len)
    }
}

/// One `m=` line of a [`LocalDescription`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaSlot {
    /// The call's audio stream.
    Audio,
    /// A declined stream, kept so later offers keep the section count
    /// (RFC 3264 §8: sections are never removed).
    Rejected(RejectedMedia),
}

/// The ordered codec formats on the phone's audio line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FormatList {
    items: [Option<PayloadFormat>; MAX_LOCAL_FORMATS],
}

impl FormatList {
    /// An empty list.
    pub const fn new() -> Self {
        FormatList {
            items: [None; MAX_LOCAL_FORMATS],
        }
    }

    /// Appends `format` unless its payload type is already listed; `false`
    /// when the list is full.
    pub fn push(&mut self, format: PayloadFormat) -> bool {
        if self.iter().any(|f| f.pt == format.pt) {
            return true;
        }
        match self.items.iter_mut().find(|s| s.is_none()) {
            Some(slot) => {
                *slot = Some(format);
                true
            }
            None => false,
        }
    }

    /// The formats in order.
    pub fn iter(&self) -> impl Iterator<Item = PayloadFormat> + '_ {
        self.items.iter().flatten().copied()
    }

    /// The format for payload type `pt`.
    pub fn get(&self, pt: u8) -> Option<PayloadFormat> {
        self.iter().find(|f| f.pt == pt)
    }

    /// The first (preferred) format.
    pub fn first(&self) -> Option<PayloadFormat> {
        self.iter().next()
    }

    /// True when nothing is listed.
    pub fn is_empty(&self) -> bool {
        self.first().is_none()
    }
}

/// The session description the phone sends: small, owned and `Copy`, kept
/// once per call and re-rendered for every offer or answer.
///
/// ```
/// use core::net::{IpAddr, Ipv4Addr};
/// use handset_core::sdp::{Codec, LocalDescription, PayloadFormat, SessionDescription};
/// let mut local = LocalDescription::new(42, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)), 4000);
/// local.formats.push(PayloadFormat::of(Codec::Pcmu));
/// local.dtmf_pt = Some(101);
/// let mut buf = [0u8; 512];
/// let n = local.write(&mut buf).unwrap();
/// let parsed = SessionDescription::parse(&buf[..n]).unwrap();
/// assert_eq!(parsed.media()[0].payload_types(), &[0, 101]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LocalDescription {
    /// The `o=` session id, fixed for the call.
    pub session_id: u64,
    /// The `o=` session version (RFC 3264 §8).
    pub session_version: u64,
    /// The phone's address, written in `o=` and `c=`.
    pub address: IpAddr,
    /// The phone's RTP port.
    pub audio_port: u16,
    /// The codec formats, preferred first.
    pub formats: FormatList,
    /// The telephone-event payload type (RFC 4733), listed after the codecs.
    pub dtmf_pt: Option<u8>,
    /// `a=ptime` in milliseconds: the packet time the phone wants to receive.
    pub ptime: Option<u16>,
    /// The audio stream's direction.
    pub direction: Direction,
    /// The `m=` lines in order.
    pub slots: [Option<MediaSlot>; MAX_MEDIA],
}

/// Renders text into a caller buffer, failing once it no longer fits.
struct SliceWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl SliceWriter<'_> {
    /// Appends the parts one after another.
    fn put(&mut self, parts: &[&str]) -> Result<(), BuildError> {
        for part in parts {
            let end = self
                .len
                .checked_add(part.len())
                .ok_or(BuildError::BufferTooSmall)?;
            let dst = self
                .buf
                .get_mut(self.len..end)
                .ok_or(BuildError::BufferTooSmall)?;
            dst.copy_from_slice(part.as_bytes());
            self.len = end;
        }
        Ok(())
    }
}

impl LocalDescription {
    /// A single audio section.
    pub(super) const AUDIO_ONLY: [Option<MediaSlot>; MAX_MEDIA] = {
        let mut slots = [None; MAX_MEDIA];
        slots[0] = Some(MediaSlot::Audio);
        slots
    };

    /// A description with one audio section, no formats yet, `sendrecv`,
    /// and version equal to the session id (a common convention; RFC 8866
    /// §5.2 only asks for a number).
    pub const fn new(session_id: u64, address: IpAddr, audio_port: u16) -> Self {
        LocalDescription {
            session_id,
            session_version: session_id,
            address,
            audio_port,
            formats: FormatList::new(),
            dtmf_pt: None,
            ptime: None,
            direction: Direction::SendRecv,
            slots: LocalDescription::AUDIO_ONLY,
        }
    }

    /// The index of the audio section among the `m=` lines.
    pub fn audio_index(&self) -> Option<usize> {
        self.slots
            .iter()
            .flatten()
            .position(|s| matches!(s, MediaSlot::Audio))
    }

    /// True when both describe the same session apart from the version:
    /// the test for "the SDP changed" (RFC 3264 §8).
    pub fn same_content(&self, other: &LocalDescription) -> bool {
        LocalDescription {
            session_version: other.session_version,
            ..*self
        } == *other
    }

    /// Writes the SDP body into `buf` (CRLF line ends) and returns its
    /// length; [`BuildError::BufferTooSmall`] when it does not fit.
    pub fn write(&self, buf: &mut [u8]) -> Result<usize, BuildError> {
        let mut w = SliceWriter { buf, len: 0 };
        self.render(&mut w)?;
        Ok(w.len)
    }

    fn render(&self, w: &mut SliceWriter<'_>) -> Result<(), BuildError> {
        let family = AddrType::of(self.address).as_token();
        let id = Decimal::new(self.session_id);
        let version = Decimal::new(self.session_version);
        let address = AddrText::ip(self.address);
        let address = address.as_str();
        // RFC 8866 §5.2, §5.3: `-` stands for no user name and no session name.
        w.put(&["v=0\r\no=- ", id.as_str(), " ", version.as_str()])?;
        w.put(&[" IN ", family, " ", address, "\r\ns=-\r\n"])?;
        w.put(&["c=IN ", family, " ", address, "\r\nt=0 0\r\n"])?;
        for slot in self.slots.iter().flatten() {
            match slot {
                MediaSlot::Audio => self.render_audio(w)?,
                MediaSlot::Rejected(r) => {
                    // RFC 3264 §6: a rejected stream keeps its type with port 0.
                    w.put(&["m=", r.media(), " 0 ", r.proto()])?;
                    if !r.format().is_empty() {
                        w.put(&[" ", r.format()])?;
                    }
                    w.put(&["\r\n"])?;
                }
            }
        }
        Ok(())
    }

    fn render_audio(&self, w: &mut SliceWriter<'_>) -> Result<(), BuildError> {
        let port = Decimal::new(u64::from(self.audio_port));
        w.put(&["m=audio ", port.as_str(), " RTP/AVP"])?;
        for f in self.formats.iter() {
            w.put(&[" ", Decimal::new(u64::from(f.pt)).as_str()])?;
        }
        let dtmf_pt = self.dtmf_pt.map(|pt| Decimal::new(u64::from(pt)));
        if let Some(pt) = &dtmf_pt {
            w.put(&[" ", pt.as_str()])?;
        }
        w.put(&["\r\n"])?;
        // RFC 3264 §5.1: rtpmap for static types too, so names are never guessed.
        for f in self.formats.iter() {
            let pt = Decimal::new(u64::from(f.pt));
            let clock = Decimal::new(u64::from(f.clock_rate()));
            w.put(&[
                "a=rtpmap:",
                pt.as_str(),
                " ",
                f.name(),
                "/",
                clock.as_str(),
                "\r\n",
            ])?;
        }
        if let Some(pt) = &dtmf_pt {
            // RFC 4733 §3.2: events 0-15 are the DTMF digits, * # and A-D.
            let clock = Decimal::new(u64::from(AUDIO_RTP_CLOCK));
            w.put(&[
                "a=rtpmap:",
                pt.as_str(),
                " telephone-event/",
                clock.as_str(),
            ])?;
            w.put(&["\r\na=fmtp:", pt.as_str(), " 0-15\r\n"])?;
        }
        if let Some(ms) = self.ptime {
            w.put(&["a=ptime:", Decimal::new(u64::from(ms)).as_str(), "\r\n"])?;
        }
        w.put(&["a=", self.direction.as_attribute(), "\r\n"])
    }
}
