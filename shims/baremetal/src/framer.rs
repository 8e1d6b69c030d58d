//! SIP message framing on a byte stream, without any I/O.
//!
//! [`StreamFramer`] owns a fixed receive buffer and a fixed send buffer. The
//! transports in [`crate::stream`] and `asynch` (feature `async`) move bytes between
//! these buffers and a reader/writer; the framer decides where one message
//! ends and the next begins (RFC 3261 §18.3: Content-Length frames a message
//! on a stream).

use handset_core::message::{Message, ParseError, ParseErrorKind};

/// Why the framer refused bytes or a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// An incoming message is larger than the receive buffer. Its bytes are
    /// dropped; when its Content-Length was readable the rest of it is
    /// skipped as it arrives, so the next message is framed correctly.
    MessageTooLarge {
        /// Whether the framer knows exactly where the next message starts.
        resynced: bool,
    },
    /// The buffered bytes up to a blank line are not a SIP message. That
    /// header section (and the body a readable Content-Length gives it) is
    /// dropped and framing goes on after it; repeated errors mean the
    /// stream is out of step and the caller may close it.
    Malformed(ParseError),
    /// An outgoing message is larger than the whole send buffer.
    TooLarge,
    /// The send buffer has no room for this message now: write out what is
    /// queued, then offer the message again.
    Full,
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FrameError::MessageTooLarge { .. } => f.write_str("incoming message exceeds buffer"),
            FrameError::Malformed(e) => write!(f, "malformed message at {}: {}", e.offset, e.kind),
            FrameError::TooLarge => f.write_str("outgoing message exceeds send buffer"),
            FrameError::Full => f.write_str("send buffer full"),
        }
    }
}

/// Receive and send buffers of a SIP stream connection, `RX` and `TX`
/// bytes long.
///
/// Receiving: write bytes read from the stream into [`StreamFramer::rx_space`],
/// report them with [`StreamFramer::rx_commit`], then take whole messages
/// with [`StreamFramer::next_message`]. Sending: [`StreamFramer::queue`] a
/// whole message, write out [`StreamFramer::tx_pending`], report what was
/// written with [`StreamFramer::tx_advance`].
#[derive(Debug)]
pub struct StreamFramer<const RX: usize, const TX: usize> {
    rx: [u8; RX],
    rx_len: usize,
    /// Bytes at the front of `rx` taken by the message last returned; they
    /// are dropped on the next call, so that message can be borrowed.
    rx_taken: usize,
    /// Bytes of an oversize message still to arrive and be discarded.
    skip: usize,
    tx: [u8; TX],
    tx_start: usize,
    tx_end: usize,
}

impl<const RX: usize, const TX: usize> Default for StreamFramer<RX, TX> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const RX: usize, const TX: usize> StreamFramer<RX, TX> {
    /// Empty buffers.
    pub const fn new() -> Self {
        StreamFramer {
            rx: [0; RX],
            rx_len: 0,
            rx_taken: 0,
            skip: 0,
            tx: [0; TX],
            tx_start: 0,
            tx_end: 0,
        }
    }

    /// Drops the bytes of the message returned last and moves what follows
    /// to the front of the buffer.
    fn release_taken(&mut self) {
        if self.rx_taken == 0 {
            return;
        }
        let taken = self.rx_taken.min(self.rx_len);
        self.rx.copy_within(taken..self.rx_len, 0);
        self.rx_len -= taken;
        self.rx_taken = 0;
    }

    /// The free part of the receive buffer, to read stream bytes into.
    /// Empty only while a whole message is waiting to be taken.
    pub fn rx_space(&mut self) -> &mut [u8] {
        self.release_taken();
        self.rx.get_mut(self.rx_len..).unwrap_or(&mut [])
    }

    /// Records that `n` bytes were written at the start of
    /// [`StreamFramer::rx_space`].
    pub fn rx_commit(&mut self, n: usize) {
        self.release_taken();
        let n = n.min(RX - self.rx_len);
        self.rx_len += n;
        if self.skip > 0 {
            // While skipping, the buffer held nothing before this read, so
            // the bytes to discard sit at the front.
            let drop = self.skip.min(self.rx_len);
            self.rx.copy_within(drop..self.rx_len, 0);
            self.rx_len -= drop;
            self.skip -= drop;
        }
    }

    /// How many received bytes wait to be framed.
    pub fn rx_buffered(&self) -> usize {
        self.rx_len - self.rx_taken.min(self.rx_len)
    }

    /// Frames the next whole message from the received bytes.
    ///
    /// `Ok(None)` means more bytes are needed. The message stays borrowed
    /// until the next call to any receive method.
    pub fn next_message(&mut self) -> Result<Option<&[u8]>, FrameError> {
        match self.next_message_len()? {
            Some(len) => Ok(self.message(len)),
            None => Ok(None),
        }
    }

    /// The message at the front of the receive buffer, `len` bytes long as
    /// [`StreamFramer::next_message_len`] reported.
    pub fn message(&self, len: usize) -> Option<&[u8]> {
        self.rx.get(..len.min(self.rx_len))
    }

    /// Like [`StreamFramer::next_message`], returning only the length of
    /// the message now at the front of the buffer.
    pub fn next_message_len(&mut self) -> Result<Option<usize>, FrameError> {
        self.release_taken();
        // RFC 3261 §7.5 / RFC 5626 §3.5.1: CRLFs between messages are
        // keep-alives; drop them so they never fill the buffer.
        let lead = self
            .rx
            .get(..self.rx_len)
            .unwrap_or(&[])
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        if lead > 0 {
            self.rx.copy_within(lead..self.rx_len, 0);
            self.rx_len -= lead;
        }
        let buffered = self.rx.get(..self.rx_len).unwrap_or(&[]);
        match Message::parse_stream(buffered) {
            Ok(msg) => {
                let len = msg.len().min(self.rx_len);
                self.rx_taken = len;
                Ok(Some(len))
            }
            Err(e) if e.kind == ParseErrorKind::Incomplete => {
                if self.rx_len < RX {
                    return Ok(None);
                }
                // The buffer is full and the message still incomplete.
                let total = framed_length(buffered);
                self.rx_len = 0;
                match total {
                    Some(total) => {
                        self.skip = total.saturating_sub(RX);
                        Err(FrameError::MessageTooLarge { resynced: true })
                    }
                    None => Err(FrameError::MessageTooLarge { resynced: false }),
                }
            }
            Err(e) => {
                // Any error but Incomplete comes after the blank line was
                // found: drop that header section and, when readable, the
                // body its Content-Length claims, and keep what follows.
                let drop = framed_length(buffered)
                    .or_else(|| header_end(buffered))
                    .unwrap_or(self.rx_len);
                if drop >= self.rx_len {
                    self.skip = drop - self.rx_len;
                    self.rx_len = 0;
                } else {
                    self.rx.copy_within(drop..self.rx_len, 0);
                    self.rx_len -= drop;
                }
                Err(FrameError::Malformed(e))
            }
        }
    }

    /// Appends one whole message to the send buffer, or nothing.
    pub fn queue(&mut self, msg: &[u8]) -> Result<(), FrameError> {
        if msg.len() > TX {
            return Err(FrameError::TooLarge);
        }
        if TX - self.tx_end < msg.len() {
            // Move the unsent tail to the front to make room at the end.
            self.tx.copy_within(self.tx_start..self.tx_end, 0);
            self.tx_end -= self.tx_start;
            self.tx_start = 0;
        }
        let dst = self
            .tx
            .get_mut(self.tx_end..self.tx_end + msg.len())
            .ok_or(FrameError::Full)?;
        dst.copy_from_slice(msg);
        self.tx_end += msg.len();
        Ok(())
    }

    /// Queued bytes not yet written to the stream.
    pub fn tx_pending(&self) -> &[u8] {
        self.tx.get(self.tx_start..self.tx_end).unwrap_or(&[])
    }

    /// Records that the first `n` pending bytes were written.
    pub fn tx_advance(&mut self, n: usize) {
        self.tx_start = (self.tx_start + n).min(self.tx_end);
        if self.tx_start == self.tx_end {
            self.tx_start = 0;
            self.tx_end = 0;
        }
    }

    /// Forgets everything buffered in both directions (after a reconnect).
    pub fn clear(&mut self) {
        self.rx_len = 0;
        self.rx_taken = 0;
        self.skip = 0;
        self.tx_start = 0;
        self.tx_end = 0;
    }
}

/// The whole length of a message whose header section is complete in
/// `bytes`, from its Content-Length (RFC 3261 §20.14, compact form `l`).
fn framed_length(bytes: &[u8]) -> Option<usize> {
    let head_end = header_end(bytes)?;
    let head = bytes.get(..head_end)?;
    let mut length = None;
    for line in head.split(|&b| b == b'\n').skip(1) {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line.get(..colon)?.trim_ascii();
        if name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l") {
            let value = line.get(colon + 1..)?.trim_ascii();
            let mut n: usize = 0;
            for &d in value {
                if !d.is_ascii_digit() {
                    return None;
                }
                n = n.checked_mul(10)?.checked_add(usize::from(d - b'0'))?;
            }
            length = Some(n);
        }
    }
    head_end.checked_add(length?)
}

/// The length of the header section with its blank line.
fn header_end(bytes: &[u8]) -> Option<usize> {
    Some(bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &[u8] = b"OPTIONS sip:b@example.com SIP/2.0\r\n\
Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK1\r\n\
From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n\
Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 4\r\n\r\nbody";

    fn feed<const RX: usize, const TX: usize>(f: &mut StreamFramer<RX, TX>, bytes: &[u8]) {
        let space = f.rx_space();
        space[..bytes.len()].copy_from_slice(bytes);
        f.rx_commit(bytes.len());
    }

    #[test]
    fn frames_two_messages_and_drops_keepalives() {
        let mut f: StreamFramer<1024, 64> = StreamFramer::new();
        feed(&mut f, b"\r\n\r\n");
        assert_eq!(f.next_message(), Ok(None));
        assert_eq!(f.rx_buffered(), 0);
        feed(&mut f, OPTIONS);
        feed(&mut f, OPTIONS);
        assert_eq!(f.next_message(), Ok(Some(OPTIONS)));
        assert_eq!(f.next_message(), Ok(Some(OPTIONS)));
        assert_eq!(f.next_message(), Ok(None));
        assert_eq!(f.rx_buffered(), 0);
    }

    fn drain<const RX: usize, const TX: usize>(
        f: &mut StreamFramer<RX, TX>,
        stream: &[u8],
        chunk: usize,
    ) -> (std::vec::Vec<std::vec::Vec<u8>>, std::vec::Vec<FrameError>) {
        let (mut got, mut errors) = (std::vec::Vec::new(), std::vec::Vec::new());
        for piece in stream.chunks(chunk) {
            let mut rest = piece;
            // A reader fills at most the free space; frame, then read on.
            while !rest.is_empty() {
                let space = f.rx_space();
                let n = space.len().min(rest.len());
                space[..n].copy_from_slice(&rest[..n]);
                f.rx_commit(n);
                rest = &rest[n..];
                loop {
                    match f.next_message() {
                        Ok(Some(m)) => got.push(m.to_vec()),
                        Ok(None) => break,
                        Err(e) => errors.push(e),
                    }
                }
            }
        }
        (got, errors)
    }

    const OK: &[u8] = b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn oversize_body_is_skipped_exactly_up_to_the_next_message() {
        let mut big = std::vec::Vec::from(
            &b"MESSAGE sip:b@example.com SIP/2.0\r\nContent-Length: 500\r\n\r\n"[..],
        );
        big.resize(big.len() + 500, b'x');
        let mut stream = big.clone();
        stream.extend_from_slice(OK);
        for chunk in [1, 7, 64, 1000] {
            let mut f: StreamFramer<128, 16> = StreamFramer::new();
            let (got, errors) = drain(&mut f, &stream, chunk);
            assert_eq!(
                errors,
                [FrameError::MessageTooLarge { resynced: true }],
                "chunk {chunk}"
            );
            assert_eq!(got, [OK.to_vec()], "chunk {chunk}");
        }
    }

    #[test]
    fn oversize_header_drops_the_buffer_and_recovers_on_a_later_message() {
        let mut stream = std::vec::Vec::from(OPTIONS);
        // A break in the byte stream such as a reconnect would leave: the
        // rest of the oversize header arrives, then a clean message.
        let mut f: StreamFramer<64, 16> = StreamFramer::new();
        let (got, errors) = drain(&mut f, &stream[..64], 64);
        assert!(got.is_empty());
        assert_eq!(errors, [FrameError::MessageTooLarge { resynced: false }]);
        stream.clear();
        stream.extend_from_slice(OK);
        let (got, errors) = drain(&mut f, &stream, 5);
        assert!(errors.is_empty());
        assert_eq!(got, [OK.to_vec()]);
    }

    #[test]
    fn garbage_is_reported_malformed_and_dropped() {
        let mut f: StreamFramer<128, 16> = StreamFramer::new();
        let (got, errors) = drain(&mut f, b"HELLO THERE\r\n\r\n", 100);
        assert!(got.is_empty());
        assert!(matches!(errors.as_slice(), [FrameError::Malformed(_)]));
        assert_eq!(f.rx_buffered(), 0);
        let (got, _) = drain(&mut f, OK, 3);
        assert_eq!(got, [OK.to_vec()]);
    }

    #[test]
    fn framed_length_reads_compact_content_length() {
        assert_eq!(
            framed_length(b"SIP/2.0 200 OK\r\nl: 7\r\n\r\nabc"),
            Some(31)
        );
        assert_eq!(framed_length(b"SIP/2.0 200 OK\r\nl: x\r\n\r\n"), None);
        assert_eq!(framed_length(b"SIP/2.0 200 OK\r\nl: 7\r\n"), None);
    }

    #[test]
    fn send_buffer_refuses_what_does_not_fit_and_compacts() {
        let mut f: StreamFramer<16, 8> = StreamFramer::new();
        assert_eq!(f.queue(b"123456789"), Err(FrameError::TooLarge));
        f.queue(b"12345").unwrap();
        assert_eq!(f.queue(b"6789"), Err(FrameError::Full));
        f.tx_advance(3);
        f.queue(b"6789").unwrap();
        assert_eq!(f.tx_pending(), b"456789");
        f.tx_advance(6);
        assert_eq!(f.tx_pending(), b"");
    }
}
