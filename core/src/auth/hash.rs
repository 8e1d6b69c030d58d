//! Streaming MD5/SHA-256 over the pieces of A1, A2 and KD, with the result
//! as lowercase hex in a fixed buffer.

#[cfg(feature = "sha256")]
use sha2::Digest as _;

use super::{AuthError, DigestAlgorithm};

/// A running hash for one [`DigestAlgorithm`]; pieces are fed in order, so
/// `a:b:c` never has to be assembled in memory.
#[derive(Clone)]
pub enum Hasher {
    /// MD5 state.
    Md5(super::md5::Md5),
    /// SHA-256 state.
    #[cfg(feature = "sha256")]
    Sha256(sha2::Sha256),
}

impl core::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Hasher::Md5(_) => "Hasher::Md5",
            #[cfg(feature = "sha256")]
            Hasher::Sha256(_) => "Hasher::Sha256",
        })
    }
}

impl Hasher {
    /// A fresh hash of the algorithm's function;
    /// [`AuthError::UnsupportedAlgorithm`] for one this build does not
    /// compute (see [`DigestAlgorithm::is_computed`]).
    pub fn new(algorithm: DigestAlgorithm) -> Result<Self, AuthError> {
        match algorithm {
            DigestAlgorithm::Md5 | DigestAlgorithm::Md5Sess => {
                Ok(Hasher::Md5(super::md5::Md5::new()))
            }
            #[cfg(feature = "sha256")]
            DigestAlgorithm::Sha256 | DigestAlgorithm::Sha256Sess => {
                Ok(Hasher::Sha256(sha2::Sha256::new()))
            }
            #[cfg(not(feature = "sha256"))]
            DigestAlgorithm::Sha256 | DigestAlgorithm::Sha256Sess => {
                Err(AuthError::UnsupportedAlgorithm)
            }
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(bytes),
            #[cfg(feature = "sha256")]
            Hasher::Sha256(h) => h.update(bytes),
        }
    }

    /// Feeds `parts` joined by `:`, the shape of every digest input.
    pub fn update_joined(&mut self, parts: &[&[u8]]) {
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                self.update(b":");
            }
            self.update(part);
        }
    }

    /// The digest as lowercase hex.
    pub fn finish_hex(self) -> DigestHex {
        match self {
            Hasher::Md5(h) => DigestHex::from_bytes(&h.finalize()),
            #[cfg(feature = "sha256")]
            Hasher::Sha256(h) => DigestHex::from_bytes(&h.finalize()),
        }
    }
}

/// A digest in lowercase hex: 32 characters for MD5, 64 for SHA-256.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DigestHex {
    hex: [u8; 64],
    len: u8,
}

/// The lowercase hex digit of the low four bits of `n`.
pub(super) fn hex_digit(n: u8) -> u8 {
    b"0123456789abcdef"
        .get(usize::from(n & 0x0f))
        .copied()
        .unwrap_or(b'0')
}

impl DigestHex {
    /// Hex of up to 32 raw bytes (longer input is cut at 32 bytes, which no
    /// supported algorithm produces).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut hex = [0u8; 64];
        let mut len = 0u8;
        for (pair, byte) in hex.chunks_exact_mut(2).zip(bytes) {
            pair.copy_from_slice(&[hex_digit(byte >> 4), hex_digit(*byte)]);
            len += 2;
        }
        DigestHex { hex, len }
    }

    /// The hex characters.
    pub fn as_bytes(&self) -> &[u8] {
        self.hex.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The hex characters as text.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

impl core::fmt::Debug for DigestHex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::fmt::Display for DigestHex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// H(`parts` joined by `:`) in hex.
pub(super) fn hash_joined(
    algorithm: DigestAlgorithm,
    parts: &[&[u8]],
) -> Result<DigestHex, AuthError> {
    let mut h = Hasher::new(algorithm)?;
    h.update_joined(parts);
    Ok(h.finish_hex())
}
