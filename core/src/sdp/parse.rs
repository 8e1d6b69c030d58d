//! A zero-copy, bounded view over a received SDP body (RFC 8866 §5).

use core::net::IpAddr;

use heapless::Vec;

use super::{Codec, Direction, SdpError, SdpErrorKind, MAX_FORMATS, MAX_MEDIA};
use crate::message::{parse_ip, parse_ipv6};

/// The address family named in `o=` and `c=` lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddrType {
    /// `IP4`.
    Ip4,
    /// `IP6`.
    Ip6,
    /// Any other token (the phone cannot use it).
    Other,
}

impl AddrType {
    fn from_token(s: &str) -> AddrType {
        if s.eq_ignore_ascii_case("IP4") {
            AddrType::Ip4
        } else if s.eq_ignore_ascii_case("IP6") {
            AddrType::Ip6
        } else {
            AddrType::Other
        }
    }

    /// The token written in SDP (`IP4`, `IP6`; `Other` has none and writes `IP4`).
    pub const fn as_token(self) -> &'static str {
        match self {
            AddrType::Ip6 => "IP6",
            AddrType::Ip4 | AddrType::Other => "IP4",
        }
    }

    /// The family of an IP address.
    pub const fn of(ip: IpAddr) -> AddrType {
        match ip {
            IpAddr::V4(_) => AddrType::Ip4,
            IpAddr::V6(_) => AddrType::Ip6,
        }
    }
}

/// The `o=` line: who made the description and which revision it is
/// (RFC 8866 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Origin<'a> {
    /// The originator's login, or `-`.
    pub username: &'a str,
    /// The session id; with the other fields it names the session.
    pub session_id: u64,
    /// The session version; grows when the description changes (RFC 3264 §8).
    pub session_version: u64,
    /// The network type, `IN` for the Internet.
    pub nettype: &'a str,
    /// The address family.
    pub addrtype: AddrType,
    /// The originating host as written (an address or a domain name).
    pub address: &'a str,
}

/// A `c=` line (RFC 8866 §5.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Connection<'a> {
    /// The network type, `IN` for the Internet.
    pub nettype: &'a str,
    /// The address family.
    pub addrtype: AddrType,
    /// The address as written, without any `/ttl` or `/count` suffix.
    pub address: &'a str,
    /// The address resolved as an IP literal of `addrtype`; `None` for a
    /// domain name (the core does no DNS) or an unknown family.
    pub ip: Option<IpAddr>,
}

impl Connection<'_> {
    /// True for `0.0.0.0` (or `::`): the RFC 2543 hold still seen in the
    /// wild; no RTP or RTCP may be sent to it (RFC 3264 §8.4).
    pub fn is_null(&self) -> bool {
        self.ip.is_some_and(|ip| ip.is_unspecified())
    }
}

/// A `t=` line (RFC 8866 §5.9); `0 0` is a permanent session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Timing {
    /// Start time (NTP seconds), 0 for unbounded.
    pub start: u64,
    /// Stop time (NTP seconds), 0 for unbounded.
    pub stop: u64,
}

/// An `a=rtpmap:` attribute: what a payload type carries (RFC 8866 §6.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RtpMap<'a> {
    /// The payload type.
    pub pt: u8,
    /// The encoding name as written (compare case-insensitively).
    pub encoding: &'a str,
    /// The RTP clock rate in Hz.
    pub clock_rate: u32,
    /// Audio channels (1 when absent).
    pub channels: u8,
}

/// An `a=fmtp:` attribute: format parameters for one payload type
/// (RFC 8866 §6.15).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fmtp<'a> {
    /// The payload type.
    pub pt: u8,
    /// The parameter string as written, e.g. `0-15` for telephone events.
    pub params: &'a str,
}

/// One media section: an `m=` line and the lines up to the next one
/// (RFC 8866 §5.14).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaDescription<'a> {
    /// The media type (`audio`, `video`, `image`, ...).
    pub media: &'a str,
    /// The transport port; 0 marks a disabled or rejected stream (RFC 3264 §5.1).
    pub port: u16,
    /// The `/<number of ports>` suffix, when present.
    pub port_count: Option<u16>,
    /// The transport protocol (`RTP/AVP`, ...).
    pub proto: &'a str,
    /// The format list as written (payload types for RTP).
    pub formats: &'a str,
    /// `a=ptime`, in milliseconds (fractions dropped).
    pub ptime: Option<u32>,
    /// `a=maxptime`, in milliseconds (fractions dropped).
    pub maxptime: Option<u32>,
    /// The effective direction: the section's own attribute, else the
    /// session-level one, else `sendrecv` (RFC 8866 §6.7).
    pub direction: Direction,
    /// The effective connection: the section's `c=`, else the session's.
    pub connection: Option<Connection<'a>>,
    /// Byte offset of the `m=` line in the body.
    pub offset: usize,
    payload_types: Vec<u8, MAX_FORMATS>,
    rtpmaps: Vec<RtpMap<'a>, MAX_FORMATS>,
    fmtps: Vec<Fmtp<'a>, MAX_FORMATS>,
}

impl<'a> MediaDescription<'a> {
    /// True for `m=audio`.
    pub fn is_audio(&self) -> bool {
        self.media.eq_ignore_ascii_case("audio")
    }

    /// True when the protocol is plain `RTP/AVP` (RFC 3551), the only one the
    /// phone's media layer carries.
    pub fn is_rtp_avp(&self) -> bool {
        self.proto.eq_ignore_ascii_case("RTP/AVP")
    }

    /// True when the port is 0: the stream is disabled (RFC 3264 §5.1, §6).
    pub fn is_disabled(&self) -> bool {
        self.port == 0
    }

    /// The payload types in the order listed (the writer's preference),
    /// up to [`MAX_FORMATS`]; empty for non-RTP protocols.
    pub fn payload_types(&self) -> &[u8] {
        &self.payload_types
    }

    /// The format tokens as written, whatever the protocol.
    pub fn format_tokens(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.formats.split_ascii_whitespace()
    }

    /// The `rtpmap` attributes, up to [`MAX_FORMATS`].
    pub fn rtpmaps(&self) -> &[RtpMap<'a>] {
        &self.rtpmaps
    }

    /// The `fmtp` attributes, up to [`MAX_FORMATS`].
    pub fn fmtps(&self) -> &[Fmtp<'a>] {
        &self.fmtps
    }

    /// The `rtpmap` for payload type `pt`.
    pub fn rtpmap(&self, pt: u8) -> Option<RtpMap<'a>> {
        self.rtpmaps.iter().copied().find(|m| m.pt == pt)
    }

    /// The `fmtp` parameters for payload type `pt`.
    pub fn fmtp(&self, pt: u8) -> Option<&'a str> {
        self.fmtps.iter().find(|f| f.pt == pt).map(|f| f.params)
    }

    /// The codec payload type `pt` carries: its `rtpmap` when present, else
    /// the static assignment (RFC 3551 Table 4; only 0..=95 are static).
    pub fn codec(&self, pt: u8) -> Option<Codec> {
        match self.rtpmap(pt) {
            Some(m) => Codec::from_rtpmap(m.encoding, m.clock_rate, m.channels),
            None => Codec::from_static_pt(pt),
        }
    }

    /// The listed payload type for `telephone-event` at `clock_rate`
    /// (RFC 4733 §7.1.1), if any.
    pub fn telephone_event(&self, clock_rate: u32) -> Option<u8> {
        self.payload_types.iter().copied().find(|&pt| {
            self.rtpmap(pt).is_some_and(|m| {
                m.encoding.eq_ignore_ascii_case("telephone-event") && m.clock_rate == clock_rate
            })
        })
    }
}

/// A parsed SDP body borrowing the bytes it was parsed from.
///
/// ```
/// use handset_core::sdp::{Direction, SessionDescription};
/// let body = b"v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n\
///     t=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n\
///     a=sendonly\r\n";
/// let sdp = SessionDescription::parse(body).unwrap();
/// let audio = &sdp.media()[0];
/// assert_eq!(audio.port, 4000);
/// assert_eq!(audio.payload_types(), &[0, 101]);
/// assert_eq!(audio.telephone_event(8000), Some(101));
/// assert_eq!(audio.direction, Direction::SendOnly);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionDescription<'a> {
    /// The `o=` line.
    pub origin: Origin<'a>,
    /// The session-level `c=` line.
    pub connection: Option<Connection<'a>>,
    /// The first `t=` line.
    pub timing: Option<Timing>,
    /// The session-level direction attribute, the default of every section.
    pub direction: Option<Direction>,
    session_name: &'a [u8],
    media: Vec<MediaDescription<'a>, MAX_MEDIA>,
}

/// Byte offset of `part` inside `whole` (both from the same body).
fn offset_in(whole: &[u8], part: &[u8]) -> usize {
    (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize)
}

fn err(kind: SdpErrorKind, offset: usize) -> SdpError {
    SdpError::new(kind, offset)
}

/// A decimal number of only ASCII digits; `None` when empty or not digits,
/// `Some(Err)` when it overflows.
fn parse_num<T: TryFrom<u64>>(s: &str) -> Option<Result<T, ()>> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n: u64 = 0;
    for b in s.bytes() {
        n = match n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
        {
            Some(n) => n,
            None => return Some(Err(())),
        };
    }
    Some(T::try_from(n).map_err(|_| ()))
}

/// A number field: malformed is `bad`, too large is `Overflow`.
fn num_field<T: TryFrom<u64>>(body: &[u8], s: &str, bad: SdpErrorKind) -> Result<T, SdpError> {
    let at = offset_in(body, s.as_bytes());
    match parse_num(s) {
        Some(Ok(n)) => Ok(n),
        Some(Err(())) => Err(err(SdpErrorKind::Overflow, at)),
        None => Err(err(bad, at)),
    }
}

/// Milliseconds in `ptime`/`maxptime`; a decimal fraction (`20.0`) is
/// accepted and dropped.
fn parse_millis(body: &[u8], s: &str) -> Result<u32, SdpError> {
    let whole = match s.split_once('.') {
        Some((w, frac)) if frac.bytes().all(|b| b.is_ascii_digit()) => w,
        Some(_) => {
            return Err(err(
                SdpErrorKind::BadAttribute,
                offset_in(body, s.as_bytes()),
            ))
        }
        None => s,
    };
    num_field(body, whole, SdpErrorKind::BadAttribute)
}

/// The lines of a body: split at LF, a trailing CR dropped, empty lines
/// skipped. Yields each line's offset and bytes.
struct Lines<'a> {
    body: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let rest = self.body.get(self.pos..)?;
            if rest.is_empty() {
                return None;
            }
            let start = self.pos;
            let (line, advance) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (rest.get(..i).unwrap_or_default(), i + 1),
                None => (rest, rest.len()),
            };
            self.pos = start + advance;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if !line.is_empty() {
                return Some((start, line));
            }
        }
    }
}

/// A line's text after `x=`, trailing blanks removed.
fn line_text(line_offset: usize, value: &[u8]) -> Result<&str, SdpError> {
    core::str::from_utf8(value)
        .map(|s| s.trim_end_matches([' ', '\t']))
        .map_err(|e| err(SdpErrorKind::NotUtf8, line_offset + 2 + e.valid_up_to()))
}

fn parse_origin<'a>(body: &'a [u8], text: &'a str) -> Result<Origin<'a>, SdpError> {
    let bad = err(SdpErrorKind::BadOrigin, offset_in(body, text.as_bytes()));
    let mut f = text.split_ascii_whitespace();
    let (Some(username), Some(id), Some(version), Some(nettype), Some(addrtype), Some(address)) =
        (f.next(), f.next(), f.next(), f.next(), f.next(), f.next())
    else {
        return Err(bad);
    };
    if f.next().is_some() {
        return Err(bad);
    }
    // RFC 3264 §5: session id and version are representable in 64 bits.
    Ok(Origin {
        username,
        session_id: num_field(body, id, SdpErrorKind::BadOrigin)?,
        session_version: num_field(body, version, SdpErrorKind::BadOrigin)?,
        nettype,
        addrtype: AddrType::from_token(addrtype),
        address,
    })
}

fn parse_connection<'a>(body: &'a [u8], text: &'a str) -> Result<Connection<'a>, SdpError> {
    let bad = err(
        SdpErrorKind::BadConnection,
        offset_in(body, text.as_bytes()),
    );
    let mut f = text.split_ascii_whitespace();
    let (Some(nettype), Some(addrtype), Some(address)) = (f.next(), f.next(), f.next()) else {
        return Err(bad);
    };
    if f.next().is_some() {
        return Err(bad);
    }
    // RFC 8866 §5.7: multicast addresses carry `/ttl` and `/count` suffixes.
    let address = address.split('/').next().unwrap_or(address);
    if address.is_empty() {
        return Err(bad);
    }
    let addrtype = AddrType::from_token(addrtype);
    let ip = if !nettype.eq_ignore_ascii_case("IN") {
        None
    } else {
        match addrtype {
            AddrType::Ip4 => parse_ip(address).filter(IpAddr::is_ipv4),
            AddrType::Ip6 => parse_ipv6(address).map(IpAddr::V6),
            AddrType::Other => None,
        }
    };
    Ok(Connection {
        nettype,
        addrtype,
        address,
        ip,
    })
}

fn parse_timing(body: &[u8], text: &str) -> Result<Timing, SdpError> {
    let bad = err(SdpErrorKind::BadTiming, offset_in(body, text.as_bytes()));
    let mut f = text.split_ascii_whitespace();
    let (Some(start), Some(stop), None) = (f.next(), f.next(), f.next()) else {
        return Err(bad);
    };
    Ok(Timing {
        start: num_field(body, start, SdpErrorKind::BadTiming)?,
        stop: num_field(body, stop, SdpErrorKind::BadTiming)?,
    })
}

fn parse_media<'a>(
    body: &'a [u8],
    line_offset: usize,
    text: &'a str,
    session: &SessionDescription<'a>,
) -> Result<MediaDescription<'a>, SdpError> {
    let bad = |s: &str| err(SdpErrorKind::BadMedia, offset_in(body, s.as_bytes()));
    let mut f = text.split_ascii_whitespace();
    let (Some(media), Some(port_field), Some(proto)) = (f.next(), f.next(), f.next()) else {
        return Err(bad(text));
    };
    let (port, port_count) = match port_field.split_once('/') {
        Some((p, n)) => (p, Some(num_field(body, n, SdpErrorKind::BadMedia)?)),
        None => (port_field, None),
    };
    let port = num_field(body, port, SdpErrorKind::BadMedia)?;
    let formats = match f.clone().next() {
        Some(first) => text
            .get(offset_in(text.as_bytes(), first.as_bytes())..)
            .unwrap_or(""),
        None => "",
    };
    let mut payload_types = Vec::new();
    // RFC 8866 §5.14: for RTP profiles the formats are payload type numbers.
    if proto.len() >= 4
        && proto
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("RTP/"))
    {
        for fmt in f {
            let pt: u8 = num_field(body, fmt, SdpErrorKind::BadMedia)?;
            if pt > 127 {
                return Err(bad(fmt));
            }
            if !payload_types.contains(&pt) {
                // Extras beyond MAX_FORMATS are ignored: a phone picks from the first few.
                let _ = payload_types.push(pt);
            }
        }
    }
    Ok(MediaDescription {
        media,
        port,
        port_count,
        proto,
        formats,
        ptime: None,
        maxptime: None,
        direction: session.direction.unwrap_or(Direction::SendRecv),
        connection: session.connection,
        offset: line_offset,
        payload_types,
        rtpmaps: Vec::new(),
        fmtps: Vec::new(),
    })
}

fn parse_rtpmap<'a>(body: &'a [u8], value: &'a str) -> Result<RtpMap<'a>, SdpError> {
    let bad = err(
        SdpErrorKind::BadAttribute,
        offset_in(body, value.as_bytes()),
    );
    let (pt, rest) = value.split_once([' ', '\t']).ok_or(bad)?;
    let pt: u8 = num_field(body, pt, SdpErrorKind::BadAttribute)?;
    let mut parts = rest.trim_ascii_start().split('/');
    let encoding = parts.next().unwrap_or("");
    let clock = parts.next().ok_or(bad)?;
    if encoding.is_empty() || pt > 127 {
        return Err(bad);
    }
    let clock_rate = num_field(body, clock, SdpErrorKind::BadAttribute)?;
    let channels = match parts.next() {
        Some(ch) => num_field(body, ch, SdpErrorKind::BadAttribute)?,
        None => 1,
    };
    Ok(RtpMap {
        pt,
        encoding,
        clock_rate,
        channels,
    })
}

impl<'a> SessionDescription<'a> {
    /// Parses an SDP body. Lines may end in CRLF or a bare LF; empty lines
    /// are skipped; lines the phone has no use for (`i=`, `b=`, `k=`,
    /// unknown attributes, ...) are ignored.
    pub fn parse(body: &'a [u8]) -> Result<Self, SdpError> {
        let mut lines = Lines { body, pos: 0 };
        let (first_offset, first) = lines.next().ok_or(err(SdpErrorKind::Empty, 0))?;
        // RFC 8866 §5.1: the body starts with `v=0`.
        if first.trim_ascii_end() != b"v=0" {
            return Err(err(SdpErrorKind::BadVersion, first_offset));
        }
        let mut sdp = SessionDescription {
            origin: Origin {
                username: "",
                session_id: 0,
                session_version: 0,
                nettype: "",
                addrtype: AddrType::Other,
                address: "",
            },
            connection: None,
            timing: None,
            direction: None,
            session_name: b"",
            media: Vec::new(),
        };
        let mut have_origin = false;
        let mut have_name = false;
        for (offset, line) in lines {
            let (Some(&kind), Some(b'='), Some(value)) = (line.first(), line.get(1), line.get(2..))
            else {
                return Err(err(SdpErrorKind::BadLine, offset));
            };
            if !kind.is_ascii_alphabetic() {
                return Err(err(SdpErrorKind::BadLine, offset));
            }
            match kind {
                b'o' if !have_origin => {
                    sdp.origin = parse_origin(body, line_text(offset, value)?)?;
                    have_origin = true;
                }
                b's' if !have_name => {
                    // Kept as bytes: a session name in another charset must not
                    // fail the call (RFC 8866 §6.10 `charset`).
                    sdp.session_name = value;
                    have_name = true;
                }
                b'c' => {
                    let conn = parse_connection(body, line_text(offset, value)?)?;
                    match sdp.media.last_mut() {
                        Some(m) => m.connection = Some(conn),
                        None => sdp.connection = Some(conn),
                    }
                }
                b't' if sdp.timing.is_none() => {
                    sdp.timing = Some(parse_timing(body, line_text(offset, value)?)?);
                }
                b'm' => {
                    let m = parse_media(body, offset, line_text(offset, value)?, &sdp)?;
                    if sdp.media.push(m).is_err() {
                        return Err(err(SdpErrorKind::TooManyMedia, offset));
                    }
                }
                b'a' => sdp.attribute(body, line_text(offset, value)?)?,
                _ => {}
            }
        }
        if !have_origin {
            return Err(err(SdpErrorKind::BadOrigin, body.len()));
        }
        if !have_name {
            return Err(err(SdpErrorKind::MissingSessionName, body.len()));
        }
        Ok(sdp)
    }

    fn attribute(&mut self, body: &'a [u8], text: &'a str) -> Result<(), SdpError> {
        let (name, value) = match text.split_once(':') {
            Some((n, v)) => (n, Some(v.trim_ascii())),
            None => (text, None),
        };
        if let Some(d) = Direction::from_attribute(name) {
            match self.media.last_mut() {
                Some(m) => m.direction = d,
                None => self.direction = Some(d),
            }
            return Ok(());
        }
        // The remaining attributes the phone reads are media-level only.
        let (Some(m), Some(value)) = (self.media.last_mut(), value) else {
            return Ok(());
        };
        match name {
            "rtpmap" => {
                let map = parse_rtpmap(body, value)?;
                if m.rtpmap(map.pt).is_none() {
                    let _ = m.rtpmaps.push(map);
                }
            }
            "fmtp" => {
                let (pt, params) = value.split_once([' ', '\t']).unwrap_or((value, ""));
                // Non-numeric formats belong to non-RTP protocols: not ours.
                if let Some(Ok(pt)) = parse_num::<u8>(pt) {
                    if m.fmtp(pt).is_none() {
                        let _ = m.fmtps.push(Fmtp {
                            pt,
                            params: params.trim_ascii(),
                        });
                    }
                }
            }
            "ptime" => m.ptime = Some(parse_millis(body, value)?),
            "maxptime" => m.maxptime = Some(parse_millis(body, value)?),
            _ => {}
        }
        Ok(())
    }

    /// The `s=` value as written (may be a single space or `-`).
    pub fn session_name(&self) -> &'a [u8] {
        self.session_name
    }

    /// The media sections in order.
    pub fn media(&self) -> &[MediaDescription<'a>] {
        &self.media
    }
}
