//! Fixed-capacity storage for a message a transaction may have to resend.

use super::TransactionError;

/// The largest message a transaction stores. RFC 3261 §18.1.1: a request
/// within 200 bytes of a 1500-byte path MTU must go over a
/// congestion-controlled transport, so 1300 bytes covers every request the
/// phone sends over UDP and every response it sends.
pub const MAX_MESSAGE: usize = 1300;

/// The bytes of one stored message, at most [`MAX_MESSAGE`] long.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageBuf {
    bytes: heapless::Vec<u8, MAX_MESSAGE>,
}

impl MessageBuf {
    /// An empty buffer.
    pub const fn new() -> Self {
        MessageBuf {
            bytes: heapless::Vec::new(),
        }
    }

    /// A copy of `bytes`; longer than [`MAX_MESSAGE`] is
    /// [`TransactionError::MessageTooLarge`].
    pub fn from_slice(bytes: &[u8]) -> Result<Self, TransactionError> {
        heapless::Vec::from_slice(bytes)
            .map(|bytes| MessageBuf { bytes })
            .map_err(|()| TransactionError::MessageTooLarge)
    }

    /// Replaces the content with `bytes`; on error the old content stays.
    pub fn set(&mut self, bytes: &[u8]) -> Result<(), TransactionError> {
        if bytes.len() > MAX_MESSAGE {
            return Err(TransactionError::MessageTooLarge);
        }
        // Copied in place: building a new buffer and moving it here would
        // put a whole message-sized value on the stack.
        self.bytes.clear();
        self.bytes
            .extend_from_slice(bytes)
            .map_err(|()| TransactionError::MessageTooLarge)
    }

    /// The stored bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Forgets the content.
    pub fn clear(&mut self) {
        self.bytes.clear();
    }

    /// How many bytes are stored.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}
