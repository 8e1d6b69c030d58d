//! Writing messages into a caller-provided buffer.
//!
//! The writer never truncates: once anything does not fit, every later call
//! is a no-op and [`MessageWriter::finish`] reports
//! [`WriteError::BufferTooSmall`].

use core::fmt::{self, Write as _};

use super::error::WriteError;
use super::text::Decimal;
use super::Method;

/// Builds one SIP message in a caller buffer.
///
/// ```
/// use handset_core::message::{Message, MessageWriter, Method};
/// let mut buf = [0u8; 256];
/// let mut w = MessageWriter::new(&mut buf);
/// w.request_line(Method::Options, "sip:bob@example.com");
/// w.header("Call-ID", "abc");
/// w.header_fmt("CSeq", format_args!("{} {}", 1, "OPTIONS"));
/// let n = w.finish(None, b"").unwrap();
/// let msg = Message::parse_datagram(&buf[..n]).unwrap();
/// assert_eq!(msg.call_id(), Some("abc"));
/// ```
#[derive(Debug)]
pub struct MessageWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
    overflow: bool,
}

impl<'b> MessageWriter<'b> {
    /// A writer that fills `buf` from its start.
    pub fn new(buf: &'b mut [u8]) -> Self {
        MessageWriter {
            buf,
            len: 0,
            overflow: false,
        }
    }

    /// Appends raw bytes.
    pub fn raw(&mut self, bytes: &[u8]) {
        if self.overflow {
            return;
        }
        match self.buf.get_mut(self.len..self.len + bytes.len()) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.len += bytes.len();
            }
            None => self.overflow = true,
        }
    }

    /// Appends formatted text.
    pub fn fmt(&mut self, args: fmt::Arguments<'_>) {
        if self.write_fmt(args).is_err() {
            self.overflow = true;
        }
    }

    /// Appends the parts one after another. With [`Decimal`] and
    /// [`AddrText`](super::AddrText) for numbers and addresses, this writes
    /// what [`fmt`](Self::fmt) would without linking `core::fmt`.
    pub fn text(&mut self, parts: &[&str]) {
        for part in parts {
            self.raw(part.as_bytes());
        }
    }

    /// `name: value CRLF` with the value written in parts, as by
    /// [`text`](Self::text).
    pub fn header_text(&mut self, name: &str, parts: &[&str]) {
        self.text(&[name, ": "]);
        self.text(parts);
        self.raw(b"\r\n");
    }

    /// `Method SP Request-URI SP SIP/2.0 CRLF` (RFC 3261 §7.1).
    pub fn request_line(&mut self, method: Method<'_>, uri: &str) {
        self.text(&[method.as_str(), " ", uri, " SIP/2.0\r\n"]);
    }

    /// `SIP/2.0 SP code SP reason CRLF` (RFC 3261 §7.2).
    pub fn status_line(&mut self, code: u16, reason: &str) {
        let code = Decimal::new(u64::from(code));
        self.text(&["SIP/2.0 ", code.as_str(), " ", reason, "\r\n"]);
    }

    /// `name: value CRLF`.
    pub fn header(&mut self, name: &str, value: &str) {
        self.text(&[name, ": ", value, "\r\n"]);
    }

    /// `name: <formatted value> CRLF`.
    pub fn header_fmt(&mut self, name: &str, value: fmt::Arguments<'_>) {
        self.fmt(format_args!("{name}: {value}\r\n"));
    }

    /// Bytes written so far.
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// Whether something did not fit.
    pub fn overflowed(&self) -> bool {
        self.overflow
    }

    /// Ends a piece of text that is not a whole message (e.g. one header
    /// value): returns its length, or the error if anything did not fit.
    pub fn finish_fragment(self) -> Result<usize, WriteError> {
        if self.overflow {
            Err(WriteError::BufferTooSmall)
        } else {
            Ok(self.len)
        }
    }

    /// Ends the header section with Content-Type (when given and the body is
    /// not empty), Content-Length and the blank line, then appends the body.
    /// Returns the message's length.
    pub fn finish(mut self, content_type: Option<&str>, body: &[u8]) -> Result<usize, WriteError> {
        if let Some(ct) = content_type.filter(|_| !body.is_empty()) {
            self.header("Content-Type", ct);
        }
        let length = Decimal::new(body.len() as u64);
        self.text(&["Content-Length: ", length.as_str(), "\r\n\r\n"]);
        self.raw(body);
        if self.overflow {
            Err(WriteError::BufferTooSmall)
        } else {
            Ok(self.len)
        }
    }
}

impl fmt::Write for MessageWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.raw(s.as_bytes());
        if self.overflow {
            Err(fmt::Error)
        } else {
            Ok(())
        }
    }
}

/// Defines the reason-phrase table: the codes, the length of each phrase and
/// the phrases back to back in one string. A `match` of 55 arms compiled to
/// 0.7 KiB of jump tables and address loads on a Cortex-M; these tables are
/// a third of that.
macro_rules! reason_phrases {
    ($($code:literal => $text:literal,)*) => {
        const REASON_CODES: &[u16] = &[$($code),*];
        const REASON_LENGTHS: &[u8] = &[$($text.len() as u8),*];
        const REASON_TEXT: &str = concat!($($text),*);
    };
}

// RFC 3261 §21.
reason_phrases! {
    100 => "Trying",
    180 => "Ringing",
    181 => "Call Is Being Forwarded",
    182 => "Queued",
    183 => "Session Progress",
    200 => "OK",
    202 => "Accepted",
    300 => "Multiple Choices",
    301 => "Moved Permanently",
    302 => "Moved Temporarily",
    305 => "Use Proxy",
    380 => "Alternative Service",
    400 => "Bad Request",
    401 => "Unauthorized",
    402 => "Payment Required",
    403 => "Forbidden",
    404 => "Not Found",
    405 => "Method Not Allowed",
    406 => "Not Acceptable",
    407 => "Proxy Authentication Required",
    408 => "Request Timeout",
    410 => "Gone",
    413 => "Request Entity Too Large",
    414 => "Request-URI Too Long",
    415 => "Unsupported Media Type",
    416 => "Unsupported URI Scheme",
    420 => "Bad Extension",
    421 => "Extension Required",
    422 => "Session Interval Too Small",
    423 => "Interval Too Brief",
    // RFC 6086 §11.6.
    469 => "Bad Info Package",
    480 => "Temporarily Unavailable",
    481 => "Call/Transaction Does Not Exist",
    482 => "Loop Detected",
    483 => "Too Many Hops",
    484 => "Address Incomplete",
    485 => "Ambiguous",
    486 => "Busy Here",
    487 => "Request Terminated",
    488 => "Not Acceptable Here",
    489 => "Bad Event",
    491 => "Request Pending",
    493 => "Undecipherable",
    500 => "Server Internal Error",
    501 => "Not Implemented",
    502 => "Bad Gateway",
    503 => "Service Unavailable",
    504 => "Server Time-out",
    505 => "Version Not Supported",
    513 => "Message Too Large",
    600 => "Busy Everywhere",
    603 => "Decline",
    604 => "Does Not Exist Anywhere",
    606 => "Not Acceptable",
}

/// The RFC 3261 §21 reason phrase for a status code ("" when unknown).
pub fn reason_phrase(code: u16) -> &'static str {
    let mut start = 0usize;
    for (&c, &len) in REASON_CODES.iter().zip(REASON_LENGTHS) {
        let end = start + usize::from(len);
        if c == code {
            return REASON_TEXT.get(start..end).unwrap_or("");
        }
        start = end;
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_phrases_from_the_table() {
        assert_eq!(REASON_CODES.len(), REASON_LENGTHS.len());
        let total: usize = REASON_LENGTHS.iter().map(|&l| usize::from(l)).sum();
        assert_eq!(total, REASON_TEXT.len());
        for (code, phrase) in [
            (100, "Trying"),
            (180, "Ringing"),
            (200, "OK"),
            (302, "Moved Temporarily"),
            (407, "Proxy Authentication Required"),
            (469, "Bad Info Package"),
            (481, "Call/Transaction Does Not Exist"),
            (486, "Busy Here"),
            (606, "Not Acceptable"),
            (199, ""),
            (0, ""),
            (699, ""),
        ] {
            assert_eq!(reason_phrase(code), phrase, "{code}");
        }
        // Every code once, each with a phrase.
        for (i, &code) in REASON_CODES.iter().enumerate() {
            assert!(!REASON_CODES[..i].contains(&code), "{code}");
            assert!(!reason_phrase(code).is_empty(), "{code}");
        }
    }

    #[test]
    fn too_small_buffer_is_an_error_never_a_truncated_message() {
        for size in 0..60 {
            let mut buf = [0u8; 64];
            let mut w = MessageWriter::new(&mut buf[..size]);
            w.status_line(200, reason_phrase(200));
            w.header("Call-ID", "x");
            let r = w.finish(Some("text/plain"), b"hi");
            let needed = "SIP/2.0 200 OK\r\nCall-ID: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi".len();
            if size >= needed {
                assert_eq!(r, Ok(needed));
            } else {
                assert_eq!(r, Err(WriteError::BufferTooSmall), "size {size}");
            }
        }
    }
}
