//! The RTP fixed header (RFC 3550 §5.1): written into a caller buffer and
//! read back from received bytes without copying the payload.

/// Length of the fixed RTP header without CSRCs.
pub const RTP_HEADER_LEN: usize = 12;

/// Why RTP bytes could not be read or written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RtpError {
    /// Fewer bytes than the header (with its CSRCs and extension) claims.
    TooShort,
    /// The version field is not 2.
    BadVersion,
    /// The padding count is zero or larger than the payload.
    BadPadding,
    /// The caller's buffer cannot hold what is to be written.
    BufferTooSmall,
}

/// The fields of an RTP header that a sender sets per packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RtpHeader {
    /// The marker bit: first packet of a talk-spurt or of an event.
    pub marker: bool,
    /// The 7-bit payload type.
    pub payload_type: u8,
    /// The 16-bit sequence number.
    pub sequence: u16,
    /// The media clock timestamp of the first sample.
    pub timestamp: u32,
    /// The synchronisation source.
    pub ssrc: u32,
}

/// A parsed RTP packet borrowing its payload from the received bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// The fixed header fields.
    pub header: RtpHeader,
    /// How many CSRC identifiers followed the fixed header (skipped).
    pub csrc_count: u8,
    /// The payload with header, CSRCs, extension and padding removed.
    pub payload: &'a [u8],
}

impl RtpHeader {
    /// Writes the 12-byte header (version 2, no padding, extension or
    /// CSRC) at the start of `buf` and returns its length.
    pub fn write(&self, buf: &mut [u8]) -> Result<usize, RtpError> {
        let out: &mut [u8; RTP_HEADER_LEN] = buf
            .get_mut(..RTP_HEADER_LEN)
            .and_then(|b| b.try_into().ok())
            .ok_or(RtpError::BufferTooSmall)?;
        out[0] = 2 << 6;
        out[1] = (u8::from(self.marker) << 7) | (self.payload_type & 0x7f);
        out[2..4].copy_from_slice(&self.sequence.to_be_bytes());
        out[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
        Ok(RTP_HEADER_LEN)
    }

    /// Writes the header followed by `payload` and returns the packet length.
    pub fn write_packet(&self, payload: &[u8], buf: &mut [u8]) -> Result<usize, RtpError> {
        let total = RTP_HEADER_LEN
            .checked_add(payload.len())
            .ok_or(RtpError::BufferTooSmall)?;
        let out = buf.get_mut(..total).ok_or(RtpError::BufferTooSmall)?;
        let (head, body) = out.split_at_mut(RTP_HEADER_LEN.min(total));
        self.write(head)?;
        body.copy_from_slice(payload);
        Ok(total)
    }
}

impl<'a> RtpPacket<'a> {
    /// Reads an RTP packet, skipping CSRCs and a header extension and
    /// removing padding (RFC 3550 §5.1, §5.3.1).
    pub fn parse(data: &'a [u8]) -> Result<Self, RtpError> {
        let fixed: &[u8; RTP_HEADER_LEN] = data
            .get(..RTP_HEADER_LEN)
            .and_then(|b| b.try_into().ok())
            .ok_or(RtpError::TooShort)?;
        if fixed[0] >> 6 != 2 {
            return Err(RtpError::BadVersion);
        }
        let padded = fixed[0] & 0x20 != 0;
        let extended = fixed[0] & 0x10 != 0;
        let csrc_count = fixed[0] & 0x0f;
        let header = RtpHeader {
            marker: fixed[1] & 0x80 != 0,
            payload_type: fixed[1] & 0x7f,
            sequence: u16::from_be_bytes([fixed[2], fixed[3]]),
            timestamp: u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
            ssrc: u32::from_be_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]),
        };
        let mut start = RTP_HEADER_LEN + 4 * usize::from(csrc_count);
        if extended {
            // RFC 3550 §5.3.1: 16-bit profile field, 16-bit length in words.
            let ext: &[u8; 4] = data
                .get(start..start + 4)
                .and_then(|b| b.try_into().ok())
                .ok_or(RtpError::TooShort)?;
            let words = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
            start += 4 + 4 * words;
        }
        let mut end = data.len();
        if start > end {
            return Err(RtpError::TooShort);
        }
        if padded {
            // RFC 3550 §5.1: the last octet counts the padding, itself included.
            let pad = usize::from(*data.last().ok_or(RtpError::TooShort)?);
            if pad == 0 || pad > end - start {
                return Err(RtpError::BadPadding);
            }
            end -= pad;
        }
        Ok(RtpPacket {
            header,
            csrc_count,
            payload: data.get(start..end).ok_or(RtpError::TooShort)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_with_payload() {
        let header = RtpHeader {
            marker: true,
            payload_type: 101,
            sequence: 65535,
            timestamp: 0xfedc_ba98,
            ssrc: 0x1234_5678,
        };
        let mut buf = [0u8; 32];
        let n = header.write_packet(&[1, 2, 3, 4], &mut buf).unwrap();
        assert_eq!(n, 16);
        assert_eq!(&buf[..2], &[0x80, 0x80 | 101]);
        let parsed = RtpPacket::parse(&buf[..n]).unwrap();
        assert_eq!(parsed.header, header);
        assert_eq!(parsed.payload, &[1, 2, 3, 4]);
        assert_eq!(parsed.csrc_count, 0);
    }

    #[test]
    fn csrcs_extension_and_padding_are_skipped() {
        let mut p = [0u8; 12 + 4 + 8 + 3 + 5];
        p[0] = 0x80 | 0x20 | 0x10 | 1; // V=2, P, X, CC=1
        p[1] = 8;
        p[16..20].copy_from_slice(&[0xbe, 0xde, 0, 1]); // one extension word
        p[24..27].copy_from_slice(b"abc");
        p[31] = 5; // five padding octets
        let parsed = RtpPacket::parse(&p).unwrap();
        assert_eq!(parsed.payload, b"abc");
        assert_eq!(parsed.csrc_count, 1);
    }

    #[test]
    fn malformed_bytes_are_errors() {
        assert_eq!(RtpPacket::parse(&[0x80; 11]), Err(RtpError::TooShort));
        let mut p = [0u8; 12];
        p[0] = 0x40;
        assert_eq!(RtpPacket::parse(&p), Err(RtpError::BadVersion));
        p[0] = 0x8f; // 15 CSRCs claimed, none present
        assert_eq!(RtpPacket::parse(&p), Err(RtpError::TooShort));
        p[0] = 0x90; // extension claimed, none present
        assert_eq!(RtpPacket::parse(&p), Err(RtpError::TooShort));
        let mut padded = [0u8; 14];
        padded[0] = 0xa0;
        padded[13] = 0;
        assert_eq!(RtpPacket::parse(&padded), Err(RtpError::BadPadding));
        padded[13] = 3;
        assert_eq!(RtpPacket::parse(&padded), Err(RtpError::BadPadding));
        let header = RtpHeader {
            marker: false,
            payload_type: 0,
            sequence: 0,
            timestamp: 0,
            ssrc: 0,
        };
        assert_eq!(header.write(&mut [0u8; 11]), Err(RtpError::BufferTooSmall));
        assert_eq!(
            header.write_packet(&[0; 4], &mut [0u8; 15]),
            Err(RtpError::BufferTooSmall)
        );
    }

    #[test]
    fn every_short_prefix_and_byte_flip_is_handled() {
        let mut base = [0u8; 40];
        base[0] = 0xb3; // P, X, CC=3
        base[39] = 2;
        for len in 0..=base.len() {
            for flip in 0..len {
                let mut p = base;
                p[flip] ^= 0xff;
                let _ = RtpPacket::parse(&p[..len]);
            }
        }
    }
}
