//! Typed parse and write errors.

/// Why a message could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParseErrorKind {
    /// The input ends before the message does: read more bytes and retry
    /// (stream transports only; a datagram is always complete).
    Incomplete,
    /// The input holds nothing but line breaks.
    Empty,
    /// The start line is neither a Request-Line nor a Status-Line (RFC 3261 §7.1, §7.2).
    BadStartLine,
    /// The method is not a `token` (RFC 3261 §25.1).
    BadMethod,
    /// The Request-URI is missing or holds characters a URI cannot (RFC 3261 §25.1).
    BadRequestUri,
    /// The SIP-Version is not `SIP/<digits>.<digits>`.
    BadVersion,
    /// The status code is not three digits (RFC 3261 §25.1 Status-Code).
    BadStatusCode,
    /// A header line lacks a `token` name followed by a colon (RFC 3261 §7.3.1).
    BadHeader,
    /// The header section is not valid UTF-8 (RFC 3261 §25.1 allows only UTF-8 text).
    NotUtf8,
    /// Content-Length is not a non-negative decimal that fits (RFC 3261 §20.14).
    BadContentLength,
    /// Content-Length claims more bytes than the datagram holds (RFC 3261 §18.3).
    BodyTruncated,
    /// A stream message has no Content-Length (RFC 3261 §18.3 requires it).
    MissingContentLength,
    /// A header value does not match its grammar.
    BadHeaderValue,
    /// A URI does not match the SIP, SIPS or tel grammar (RFC 3261 §19.1, RFC 3966).
    BadUri,
    /// A quoted string is not closed (RFC 3261 §25.1 quoted-string).
    UnterminatedQuote,
    /// A header the message needs is absent.
    MissingHeader,
    /// A number is too large for its field.
    Overflow,
    /// A well-formed absolute URI whose scheme is not SIP, SIPS or tel
    /// (RFC 3261 §8.2.2.1 answers 416 to such a Request-URI).
    UnsupportedScheme,
    /// A header that may appear only once appears more than once
    /// (RFC 4475 §3.3.8).
    DuplicateHeader,
    /// The CSeq method differs from the request method (RFC 3261 §8.1.1.5).
    MethodMismatch,
    /// A well-formed SIP-Version other than SIP/2.0 (answered 505, RFC 3261 §21.5.6).
    UnsupportedVersion,
}

/// A parse failure and the byte offset in the input where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParseError {
    /// What went wrong.
    pub kind: ParseErrorKind,
    /// Byte offset into the parsed input.
    pub offset: usize,
}

impl ParseError {
    /// An error of `kind` at `offset`.
    pub const fn new(kind: ParseErrorKind, offset: usize) -> Self {
        ParseError { kind, offset }
    }
}

impl core::fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let s = match self {
            ParseErrorKind::Incomplete => "incomplete message",
            ParseErrorKind::Empty => "empty message",
            ParseErrorKind::BadStartLine => "malformed start line",
            ParseErrorKind::BadMethod => "malformed method",
            ParseErrorKind::BadRequestUri => "malformed Request-URI",
            ParseErrorKind::BadVersion => "malformed SIP version",
            ParseErrorKind::BadStatusCode => "status code is not three digits",
            ParseErrorKind::BadHeader => "malformed header line",
            ParseErrorKind::NotUtf8 => "header section is not UTF-8",
            ParseErrorKind::BadContentLength => "malformed Content-Length",
            ParseErrorKind::BodyTruncated => "Content-Length larger than the message",
            ParseErrorKind::MissingContentLength => "stream message without Content-Length",
            ParseErrorKind::BadHeaderValue => "malformed header value",
            ParseErrorKind::BadUri => "malformed URI",
            ParseErrorKind::UnterminatedQuote => "unterminated quoted string",
            ParseErrorKind::MissingHeader => "missing mandatory header",
            ParseErrorKind::Overflow => "number too large",
            ParseErrorKind::UnsupportedScheme => "unsupported URI scheme",
            ParseErrorKind::DuplicateHeader => "header appears more than once",
            ParseErrorKind::MethodMismatch => "CSeq method differs from the request method",
            ParseErrorKind::UnsupportedVersion => "unsupported SIP version",
        };
        f.write_str(s)
    }
}

impl core::fmt::Display for ParseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.offset)
    }
}

/// Why a message could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WriteError {
    /// The caller's buffer cannot hold the whole message; nothing usable was
    /// written (a truncated SIP message is never emitted).
    BufferTooSmall,
}

impl core::fmt::Display for WriteError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("buffer too small")
    }
}
