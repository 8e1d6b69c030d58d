//! The SIP message codec: a zero-copy view over one message (RFC 3261 §7)
//! and typed accessors for the headers the phone uses.
//!
//! ```
//! use handset_core::message::{Message, Method};
//! let raw = b"OPTIONS sip:bob@example.com SIP/2.0\r\n\
//!     Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
//!     Call-ID: abc\r\nCSeq: 7 OPTIONS\r\nContent-Length: 0\r\n\r\n";
//! let msg = Message::parse_datagram(raw).unwrap();
//! assert_eq!(msg.method(), Some(Method::Options));
//! assert_eq!(msg.cseq().unwrap().unwrap().seq, 7);
//! ```

mod accessors;
mod addr;
mod auth;
mod contact;
mod date;
mod error;
mod event;
mod header;
mod index;
mod params;
mod refer;
mod reliable;
mod retry_after;
mod scan;
mod session_timer;
mod text;
mod tokens;
mod uri;
mod validate;
mod via;
mod walk;
mod write;

pub use accessors::NameAddrs;
pub use addr::NameAddr;
pub use auth::{AuthParams, Challenge, Credentials, DigestChallenge, DigestCredentials};
pub use contact::{parse_qvalue, Contact, ContactIter, Contacts};
pub use date::SipDate;
pub use error::{ParseError, ParseErrorKind, WriteError};
pub use event::{Event, SubState, SubscriptionState};
pub use header::{HeaderField, HeaderName, Headers};
pub use params::{unescape_quoted, unquote, Params};
pub use refer::{parse_refer_sub, HeaderEscaped, ReferTo, ReferToReplaces, Replaces};
pub use reliable::{parse_rseq, RAck};
pub use retry_after::RetryAfter;
pub use scan::CommaList;
pub use session_timer::{parse_delta_params, Refresher, SessionExpires};
pub use text::{push_all, AddrText, Decimal};
pub use tokens::TokenList;
pub(crate) use uri::{parse_ip, parse_ipv6};
pub use uri::{percent_decode, Host, Scheme, Uri};
pub use via::Via;
pub use write::{reason_phrase, MessageWriter};

use accessors::Origin;
use index::{HeaderIndex, Lookup};
use scan::byte_set;
use scan::{bytes_in, is_token, is_token_char, parse_u32, splat, trim_lws, word_at};
use walk::walk_head;

/// A SIP method (RFC 3261 §7.1 and the extensions the phone speaks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method<'a> {
    /// INVITE (RFC 3261).
    Invite,
    /// ACK (RFC 3261).
    Ack,
    /// BYE (RFC 3261).
    Bye,
    /// CANCEL (RFC 3261).
    Cancel,
    /// OPTIONS (RFC 3261).
    Options,
    /// REGISTER (RFC 3261).
    Register,
    /// PRACK (RFC 3262).
    Prack,
    /// SUBSCRIBE (RFC 6665).
    Subscribe,
    /// NOTIFY (RFC 6665).
    Notify,
    /// PUBLISH (RFC 3903).
    Publish,
    /// INFO (RFC 6086).
    Info,
    /// REFER (RFC 3515).
    Refer,
    /// MESSAGE (RFC 3428).
    Message,
    /// UPDATE (RFC 3311).
    Update,
    /// Any other method token, as written.
    Extension(&'a str),
}

impl<'a> Method<'a> {
    /// The method for a token; methods are case-sensitive (RFC 3261 §7.1).
    pub fn from_token(s: &'a str) -> Method<'a> {
        match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            "REGISTER" => Method::Register,
            "PRACK" => Method::Prack,
            "SUBSCRIBE" => Method::Subscribe,
            "NOTIFY" => Method::Notify,
            "PUBLISH" => Method::Publish,
            "INFO" => Method::Info,
            "REFER" => Method::Refer,
            "MESSAGE" => Method::Message,
            "UPDATE" => Method::Update,
            other => Method::Extension(other),
        }
    }

    /// The method's token.
    pub fn as_str(&self) -> &'a str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Prack => "PRACK",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Publish => "PUBLISH",
            Method::Info => "INFO",
            Method::Refer => "REFER",
            Method::Message => "MESSAGE",
            Method::Update => "UPDATE",
            Method::Extension(s) => s,
        }
    }
}

impl core::fmt::Display for Method<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The first line of a request (RFC 3261 §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestLine<'a> {
    /// The method.
    pub method: Method<'a>,
    /// The Request-URI as written; parse it with [`Uri::parse`].
    pub uri: &'a str,
    /// The SIP-Version as written, e.g. `SIP/2.0`.
    pub version: &'a str,
}

/// The first line of a response (RFC 3261 §7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusLine<'a> {
    /// The SIP-Version as written.
    pub version: &'a str,
    /// The three-digit status code.
    pub code: u16,
    /// The reason phrase (may be empty).
    pub reason: &'a str,
}

/// A request line or a status line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// A request.
    Request(RequestLine<'a>),
    /// A response.
    Response(StatusLine<'a>),
}

/// The CSeq header (RFC 3261 §20.16).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CSeq<'a> {
    /// The sequence number (below 2^31, RFC 3261 §8.1.1.5).
    pub seq: u32,
    /// The method.
    pub method: Method<'a>,
}

impl<'a> CSeq<'a> {
    /// Parses `1*DIGIT LWS Method`.
    pub fn parse(s: &'a str) -> Result<CSeq<'a>, ParseError> {
        let bad = ParseError::new(ParseErrorKind::BadHeaderValue, 0);
        let s = trim_lws(s);
        // The common shape first: digits, one space, a token to the end.
        let b = s.as_bytes();
        let (mut seq, mut digits) = (0u32, 0);
        // Nine digits at most here: no overflow, and 10^9 > 2^31.
        while let Some(d) = b.get(digits).map(|c| c.wrapping_sub(b'0')) {
            if d > 9 || digits == 9 {
                break;
            }
            seq = seq * 10 + u32::from(d);
            digits += 1;
        }
        if digits > 0 && b.get(digits) == Some(&b' ') {
            let token = s.get(digits + 1..).unwrap_or("");
            // A known method is a token; any other is checked.
            let method = Method::from_token(token);
            if !matches!(method, Method::Extension(_)) || is_token(token) {
                // RFC 3261 §8.1.1.5: the sequence number MUST be less than 2^31.
                if seq >= 1 << 31 {
                    return Err(ParseError::new(ParseErrorKind::Overflow, 0));
                }
                return Ok(CSeq { seq, method });
            }
        }
        let sp = s.find(|c: char| c.is_ascii_whitespace()).ok_or(bad)?;
        let num = s.get(..sp).ok_or(bad)?;
        let method = trim_lws(s.get(sp..).ok_or(bad)?);
        let seq = parse_u32(num).ok_or(ParseError::new(ParseErrorKind::Overflow, 0))?;
        // RFC 3261 §8.1.1.5: the sequence number MUST be less than 2^31.
        if seq >= 1 << 31 {
            return Err(ParseError::new(ParseErrorKind::Overflow, 0));
        }
        if !is_token(method) {
            return Err(bad);
        }
        Ok(CSeq {
            seq,
            method: Method::from_token(method),
        })
    }
}

/// A parsed message: a view that borrows the input bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    start: StartLine<'a>,
    headers: &'a str,
    headers_offset: usize,
    body: &'a [u8],
    len: usize,
    index: HeaderIndex,
}

/// Which framing rules apply (RFC 3261 §18.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// One datagram is one message: a missing Content-Length means the body
    /// runs to the end, extra bytes after Content-Length are ignored.
    Datagram,
    /// Bytes from a stream: the header section and the body may be incomplete,
    /// and Content-Length is mandatory.
    Stream,
}

impl<'a> Message<'a> {
    /// Parses one message received as a datagram (UDP).
    pub fn parse_datagram(input: &'a [u8]) -> Result<Message<'a>, ParseError> {
        Self::parse_framed(input, Framing::Datagram)
    }

    /// Parses the first message in bytes read from a stream (TCP, TLS).
    /// [`ParseErrorKind::Incomplete`] means more bytes are needed;
    /// [`Message::len`] tells how many bytes the message took.
    pub fn parse_stream(input: &'a [u8]) -> Result<Message<'a>, ParseError> {
        Self::parse_framed(input, Framing::Stream)
    }

    fn parse_framed(input: &'a [u8], framing: Framing) -> Result<Message<'a>, ParseError> {
        // RFC 3261 §7.5: CRLFs before the start line are ignored (keep-alives
        // on streams, RFC 5626 §3.5.1).
        let lead = input
            .iter()
            .position(|&b| b != b'\r' && b != b'\n')
            .unwrap_or(input.len());
        let rest = input.get(lead..).unwrap_or(&[]);
        if rest.is_empty() {
            return Err(ParseError::new(
                match framing {
                    Framing::Stream => ParseErrorKind::Incomplete,
                    Framing::Datagram => ParseErrorKind::Empty,
                },
                lead,
            ));
        }
        let Some(walk) = walk_head(rest) else {
            let kind = match framing {
                Framing::Stream => ParseErrorKind::Incomplete,
                Framing::Datagram => ParseErrorKind::BadHeader,
            };
            return Err(ParseError::new(kind, input.len()));
        };
        let body_start = walk.body_start;
        let head_bytes = rest.get(..walk.head_len).unwrap_or(&[]);
        let head = core::str::from_utf8(head_bytes)
            .map_err(|e| ParseError::new(ParseErrorKind::NotUtf8, lead + e.valid_up_to()))?;
        let first = head
            .get(..walk.section_start.saturating_sub(1))
            .unwrap_or("");
        let headers = head.get(walk.section_start..).unwrap_or("");
        let first = first.strip_suffix('\r').unwrap_or(first);
        let start =
            parse_start_line(first).map_err(|e| ParseError::new(e.kind, lead + e.offset))?;
        let headers_offset = lead + walk.section_start;
        let content_length = walk
            .content_length
            .map_err(|e| ParseError::new(e.kind, lead + e.offset))?;
        let index = walk.index;

        let available = rest.len().saturating_sub(body_start);
        let body_len = match (content_length, framing) {
            (Some(cl), _) if cl <= available => cl,
            (Some(_), Framing::Stream) => {
                return Err(ParseError::new(ParseErrorKind::Incomplete, input.len()))
            }
            // RFC 3261 §18.3: a datagram shorter than Content-Length is discarded.
            (Some(_), Framing::Datagram) => {
                return Err(ParseError::new(
                    ParseErrorKind::BodyTruncated,
                    lead + body_start,
                ))
            }
            (None, Framing::Datagram) => available,
            (None, Framing::Stream) => {
                return Err(ParseError::new(
                    ParseErrorKind::MissingContentLength,
                    headers_offset,
                ))
            }
        };
        let body = rest.get(body_start..body_start + body_len).unwrap_or(&[]);
        Ok(Message {
            start,
            headers,
            headers_offset,
            body,
            len: lead + body_start + body_len,
            index,
        })
    }

    /// The start line.
    pub fn start_line(&self) -> &StartLine<'a> {
        &self.start
    }

    /// The request line, for a request.
    pub fn request_line(&self) -> Option<&RequestLine<'a>> {
        match &self.start {
            StartLine::Request(r) => Some(r),
            StartLine::Response(_) => None,
        }
    }

    /// The status line, for a response.
    pub fn status_line(&self) -> Option<&StatusLine<'a>> {
        match &self.start {
            StartLine::Response(s) => Some(s),
            StartLine::Request(_) => None,
        }
    }

    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request(_))
    }

    /// The request's method.
    pub fn method(&self) -> Option<Method<'a>> {
        self.request_line().map(|r| r.method)
    }

    /// The response's status code.
    pub fn status(&self) -> Option<u16> {
        self.status_line().map(|s| s.code)
    }

    /// The parsed Request-URI.
    pub fn request_uri(&self) -> Option<Result<Uri<'a>, ParseError>> {
        self.request_line().map(|r| Uri::parse(r.uri))
    }

    /// How many input bytes the message took, leading CRLFs and body
    /// included: the offset of the next message in a stream.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the message took no bytes (never true for a parsed message).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The body, bounded by Content-Length.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// The header section as written (without start line and blank line).
    pub fn header_section(&self) -> &'a str {
        self.headers
    }

    /// The input offset where the header section starts.
    pub fn header_section_offset(&self) -> usize {
        self.headers_offset
    }

    /// Every header line in order.
    pub fn headers(&self) -> Headers<'a> {
        Headers::new(self.headers)
    }

    /// The value of the first header called `name`.
    pub fn header(&self, name: HeaderName<'_>) -> Option<&'a str> {
        match self.index.lookup(&name) {
            Lookup::Absent => None,
            Lookup::At(start, end) => self.value_at(start, end),
            Lookup::Scan => self.headers().next_named(&name).map(|h| h.value),
        }
    }

    /// The value of the first header written with `name` (full, compact or
    /// unknown, any case).
    pub fn header_by_name(&self, name: &str) -> Option<&'a str> {
        self.header(HeaderName::parse(name))
    }

    /// Every value of header `name`: each line, and for list headers each
    /// comma-separated element of each line (RFC 3261 §7.3.1).
    pub fn header_values<'n>(&self, name: HeaderName<'n>) -> HeaderValues<'a, 'n> {
        let (headers, first) = match self.index.lookup(&name) {
            Lookup::Absent => (Headers::new(""), None),
            // The lines after the first start at the LF that ends it: an
            // empty line, which no header name matches.
            Lookup::At(start, end) => (
                Headers::new(self.headers.get(end..).unwrap_or("")),
                self.value_at(start, end),
            ),
            Lookup::Scan => (self.headers(), None),
        };
        HeaderValues {
            headers,
            name,
            current: None,
            first,
        }
    }

    /// The topmost Via (RFC 3261 §8.1.1.7, §18.2.2 route responses by it).
    pub fn top_via(&self) -> Option<Result<Via<'a>, ParseError>> {
        // The common case without splitting the list first: the plain
        // reading stops at the comma that ends the first element.
        if let Some(via) = self
            .first_value(HeaderName::Via)
            .and_then(Via::parse_first_plain)
        {
            return Some(Ok(via));
        }
        self.header_values(HeaderName::Via).next().map(Via::parse)
    }

    /// The value of the first `name` line, when the index holds it.
    fn first_value(&self, name: HeaderName<'_>) -> Option<&'a str> {
        match self.index.lookup(&name) {
            Lookup::At(start, end) => self.value_at(start, end),
            _ => None,
        }
    }

    /// The value the index holds at `start..end` of the header section,
    /// without the white space around it.
    #[inline]
    fn value_at(&self, start: usize, end: usize) -> Option<&'a str> {
        let b = self.headers.as_bytes();
        // The common line: one space after the colon, CRLF at the end.
        let start = start + usize::from(b.get(start) == Some(&b' '));
        let end = end - usize::from(end > start && b.get(end.wrapping_sub(1)) == Some(&b'\r'));
        self.headers.get(start..end).map(trim_lws)
    }

    /// Every Via in order, topmost first.
    pub fn vias(&self) -> impl Iterator<Item = Result<Via<'a>, ParseError>> + '_ {
        self.header_values(HeaderName::Via).map(Via::parse)
    }

    /// The Call-ID.
    pub fn call_id(&self) -> Option<&'a str> {
        self.header(HeaderName::CallId)
    }

    /// The CSeq.
    pub fn cseq(&self) -> Option<Result<CSeq<'a>, ParseError>> {
        self.header(HeaderName::CSeq).map(CSeq::parse)
    }

    /// The From header.
    #[inline]
    pub fn from(&self) -> Option<Result<NameAddr<'a>, ParseError>> {
        self.header(HeaderName::From).map(NameAddr::parse)
    }

    /// The To header.
    #[inline]
    pub fn to(&self) -> Option<Result<NameAddr<'a>, ParseError>> {
        self.header(HeaderName::To).map(NameAddr::parse)
    }

    /// The first Contact, `None` for none or `Contact: *`.
    #[inline]
    pub fn contact(&self) -> Option<Result<NameAddr<'a>, ParseError>> {
        // As for the top Via: a plain first element is read in place.
        let first = self.first_value(HeaderName::Contact);
        if let Some(addr) = first.and_then(NameAddr::parse_first_plain) {
            return Some(Ok(addr));
        }
        self.header_values(HeaderName::Contact)
            .find(|v| *v != "*")
            .map(NameAddr::parse)
    }

    /// Max-Forwards, 0-255 (RFC 3261 §20.22).
    pub fn max_forwards(&self) -> Option<Result<u8, ParseError>> {
        self.header(HeaderName::MaxForwards).map(|v| {
            parse_u32(v)
                .and_then(|n| u8::try_from(n).ok())
                .ok_or(ParseError::new(ParseErrorKind::BadHeaderValue, 0))
        })
    }

    /// Content-Type as written (e.g. `application/sdp`).
    pub fn content_type(&self) -> Option<&'a str> {
        self.header(HeaderName::ContentType)
    }
}

/// Iterates the values of one header across lines and list elements.
#[derive(Clone, Debug)]
pub struct HeaderValues<'a, 'n> {
    headers: Headers<'a>,
    name: HeaderName<'n>,
    current: Option<CommaList<'a>>,
    /// The value of the first `name` line, when the index found it.
    first: Option<&'a str>,
}

impl<'a> Iterator for HeaderValues<'a, '_> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        loop {
            if let Some(list) = &mut self.current {
                if let Some(v) = list.next() {
                    return Some(v);
                }
                self.current = None;
            }
            let value = match self.first.take() {
                Some(v) => v,
                None => self.headers.next_named(&self.name)?.value,
            };
            if self.name.is_list() {
                self.current = Some(CommaList::new(value));
            } else {
                return Some(value);
            }
        }
    }
}

byte_set!(
    /// The bytes a Request-URI may hold, as the start line checks them: visible
    /// ASCII but the `<`, `>` and `"` that delimit URIs elsewhere.
    REQUEST_URI_BYTES = |b| b > 0x20 && b < 0x7f && !matches!(b, b'<' | b'>' | b'"')
);

/// The end of the run of [`REQUEST_URI_BYTES`] from `start` of `b`, eight
/// bytes per step while eight are left; `None` when it runs to the end.
fn request_uri_end(b: &[u8], start: usize) -> Option<usize> {
    let mut at = start;
    while let Some(w) = word_at(b, at) {
        // Visible ASCII but the three delimiters.
        let delimiters =
            bytes_in(w, b'<', b'<') | bytes_in(w, b'>', b'>') | bytes_in(w, b'"', b'"');
        let ends = (!bytes_in(w, 0x21, 0x7e) | delimiters) & splat(0x80);
        if ends != 0 {
            return Some(at + (ends.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let len = b.get(at..)?.iter().position(|&c| {
        !REQUEST_URI_BYTES
            .get(usize::from(c))
            .copied()
            .unwrap_or(false)
    })?;
    Some(at + len)
}

/// The common request line in one pass: a `token` method, one space, a
/// Request-URI of [`REQUEST_URI_BYTES`], one space, `SIP/2.0`. `None` for
/// anything else, which the general reading judges (and reads the same).
fn parse_plain_request_line(line: &str) -> Option<RequestLine<'_>> {
    let b = line.as_bytes();
    let m_end = b.iter().position(|&c| !is_token_char(c))?;
    if m_end == 0 || b.get(m_end) != Some(&b' ') {
        return None;
    }
    let uri_start = m_end + 1;
    let uri_end = request_uri_end(b, uri_start)?;
    if uri_end == uri_start || b.get(uri_end) != Some(&b' ') {
        return None;
    }
    let version = line.get(uri_end + 1..)?;
    if version != "SIP/2.0" {
        return None;
    }
    Some(RequestLine {
        method: Method::from_token(line.get(..m_end)?),
        uri: line.get(uri_start..uri_end)?,
        version,
    })
}

fn parse_start_line(line: &str) -> Result<StartLine<'_>, ParseError> {
    let err = |kind, off| Err(ParseError::new(kind, off));
    if let Some(after) = line.strip_prefix("SIP/") {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        let sp = if after.starts_with("2.0 ") {
            7
        } else {
            match after.find(' ') {
                Some(i) => i + 4,
                None => return err(ParseErrorKind::BadStartLine, line.len()),
            }
        };
        let version = line.get(..sp).unwrap_or("");
        check_version(version)?;
        let rest = line.get(sp + 1..).unwrap_or("");
        let (code_str, reason) = match rest.find(' ') {
            Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i + 1..).unwrap_or("")),
            None => (rest, ""),
        };
        if code_str.len() != 3 || !code_str.bytes().all(|b| b.is_ascii_digit()) {
            return err(ParseErrorKind::BadStatusCode, sp + 1);
        }
        let code = code_str
            .bytes()
            .fold(0u16, |a, b| a * 10 + u16::from(b - b'0'));
        if !(100..=699).contains(&code) {
            return err(ParseErrorKind::BadStatusCode, sp + 1);
        }
        return Ok(StartLine::Response(StatusLine {
            version,
            code,
            reason,
        }));
    }
    // Request-Line = Method SP Request-URI SP SIP-Version, single spaces.
    if let Some(request) = parse_plain_request_line(line) {
        return Ok(StartLine::Request(request));
    }
    let m_end = match line.find(' ') {
        Some(i) => i,
        None => return err(ParseErrorKind::BadStartLine, line.len()),
    };
    let method = line.get(..m_end).unwrap_or("");
    if !is_token(method) {
        return err(ParseErrorKind::BadMethod, 0);
    }
    let rest = line.get(m_end + 1..).unwrap_or("");
    let u_end = match rest.find(' ') {
        Some(i) => i,
        None => return err(ParseErrorKind::BadStartLine, line.len()),
    };
    let uri = rest.get(..u_end).unwrap_or("");
    let uri_off = m_end + 1;
    if uri.is_empty()
        || uri
            .bytes()
            .any(|b| b <= b' ' || b == b'<' || b == b'>' || b == b'"' || b >= 0x7f)
    {
        return err(ParseErrorKind::BadRequestUri, uri_off);
    }
    let version = rest.get(u_end + 1..).unwrap_or("");
    check_version(version).map_err(|e| ParseError::new(e.kind, uri_off + u_end + 1))?;
    Ok(StartLine::Request(RequestLine {
        method: Method::from_token(method),
        uri,
        version,
    }))
}

/// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (RFC 3261 §25.1; the name is
/// case-insensitive). Versions other than 2.0 parse so that a UA can answer
/// 505 (RFC 3261 §8.2.2... via §21.5.6).
fn check_version(v: &str) -> Result<(), ParseError> {
    if v == "SIP/2.0" {
        return Ok(());
    }
    let bad = ParseError::new(ParseErrorKind::BadVersion, 0);
    let name = v.get(..4).ok_or(bad)?;
    if !name.eq_ignore_ascii_case("SIP/") {
        return Err(bad);
    }
    let num = v.get(4..).ok_or(bad)?;
    let (major, minor) = num.split_once('.').ok_or(bad)?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if digits(major) && digits(minor) {
        Ok(())
    } else {
        Err(bad)
    }
}

impl<'a> Message<'a> {
    /// Whether the SIP-Version is exactly `SIP/2.0` (RFC 3261 §7.1).
    pub fn is_sip_2_0(&self) -> bool {
        let v = match &self.start {
            StartLine::Request(r) => r.version,
            StartLine::Response(s) => s.version,
        };
        v.eq_ignore_ascii_case("SIP/2.0")
    }
}

#[cfg(test)]
mod tests;
