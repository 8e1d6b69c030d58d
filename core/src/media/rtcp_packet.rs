//! RTCP sender and receiver reports (RFC 3550 §6.4) with at most one
//! reception report block, the SDES CNAME that completes a compound packet
//! (§6.5.1), and a reader for received compound packets (§6.1, A.2).

/// RTCP packet type of a sender report.
pub const PT_SR: u8 = 200;
/// RTCP packet type of a receiver report.
pub const PT_RR: u8 = 201;
/// RTCP packet type of source descriptions.
pub const PT_SDES: u8 = 202;

/// Length of an SR without report blocks.
const SR_LEN: usize = 28;
/// Length of an RR without report blocks.
const RR_LEN: usize = 8;
/// Length of one reception report block.
const BLOCK_LEN: usize = 24;

/// Why RTCP bytes could not be read or written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RtcpError {
    /// Fewer bytes than a header or its length field claims.
    TooShort,
    /// A version field is not 2.
    BadVersion,
    /// The first packet of the compound is not an SR or RR (RFC 3550 A.2).
    NotAReport,
    /// The length fields do not add up to the datagram length, or padding
    /// appears before the last packet (RFC 3550 A.2).
    BadLength,
    /// The caller's buffer cannot hold what is to be written.
    BufferTooSmall,
    /// An SDES item longer than 255 octets.
    ItemTooLong,
}

/// The sender information of an SR (RFC 3550 §6.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SenderInfo {
    /// 64-bit NTP timestamp: seconds in the high word, fraction in the low.
    pub ntp_timestamp: u64,
    /// The RTP timestamp of the same instant as `ntp_timestamp`.
    pub rtp_timestamp: u32,
    /// RTP packets sent since the stream began.
    pub packet_count: u32,
    /// Payload octets sent since the stream began.
    pub octet_count: u32,
}

/// One reception report block (RFC 3550 §6.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReceptionReport {
    /// The source this block reports on.
    pub ssrc: u32,
    /// Fraction of packets lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Packets lost since reception began, a 24-bit signed value.
    pub cumulative_lost: i32,
    /// Highest sequence number received, extended by the wrap count.
    pub extended_highest_seq: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR received.
    pub last_sr: u32,
    /// Delay since that SR arrived, in 1/65536 s.
    pub delay_since_last_sr: u32,
}

/// Whether a report carries sender information.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReportKind {
    /// A sender report.
    Sender(SenderInfo),
    /// A receiver report.
    Receiver,
}

/// An SR or RR with at most one reception report block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RtcpReport {
    /// The reporter's SSRC.
    pub ssrc: u32,
    /// SR or RR.
    pub kind: ReportKind,
    /// The report block about the one remote source, if it has been heard.
    pub block: Option<ReceptionReport>,
}

/// A report as read from a compound packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParsedRtcp {
    /// The first SR or RR; its first report block when it has several.
    pub report: RtcpReport,
    /// How many report blocks the first packet announced.
    pub block_count: u8,
}

fn be32(b: &[u8], at: usize) -> Result<u32, RtcpError> {
    let w: [u8; 4] = b
        .get(at..at + 4)
        .and_then(|w| w.try_into().ok())
        .ok_or(RtcpError::TooShort)?;
    Ok(u32::from_be_bytes(w))
}

/// Copies `bytes` into `out` at `at`; a buffer too short is an error, never
/// a panic.
fn put(out: &mut [u8], at: usize, bytes: &[u8]) -> Result<(), RtcpError> {
    out.get_mut(at..at + bytes.len())
        .ok_or(RtcpError::BufferTooSmall)?
        .copy_from_slice(bytes);
    Ok(())
}

fn header(b: &mut [u8], count: u8, pt: u8, len: usize) -> Result<(), RtcpError> {
    // RFC 3550 §6.4.1: length in 32-bit words minus one.
    let words = (len / 4).saturating_sub(1) as u16;
    put(b, 0, &[(2 << 6) | (count & 0x1f), pt])?;
    put(b, 2, &words.to_be_bytes())
}

impl RtcpReport {
    /// The report's length on the wire (without UDP/IP headers).
    pub fn wire_len(&self) -> usize {
        let base = match self.kind {
            ReportKind::Sender(_) => SR_LEN,
            ReportKind::Receiver => RR_LEN,
        };
        base + if self.block.is_some() { BLOCK_LEN } else { 0 }
    }

    /// Writes the SR or RR at the start of `buf` and returns its length.
    pub fn write(&self, buf: &mut [u8]) -> Result<usize, RtcpError> {
        let len = self.wire_len();
        let out = buf.get_mut(..len).ok_or(RtcpError::BufferTooSmall)?;
        let (pt, body) = match self.kind {
            ReportKind::Sender(_) => (PT_SR, SR_LEN),
            ReportKind::Receiver => (PT_RR, RR_LEN),
        };
        header(out, u8::from(self.block.is_some()), pt, len)?;
        put(out, 4, &self.ssrc.to_be_bytes())?;
        if let ReportKind::Sender(info) = self.kind {
            put(out, 8, &info.ntp_timestamp.to_be_bytes())?;
            put(out, 16, &info.rtp_timestamp.to_be_bytes())?;
            put(out, 20, &info.packet_count.to_be_bytes())?;
            put(out, 24, &info.octet_count.to_be_bytes())?;
        }
        if let Some(block) = self.block {
            // RFC 3550 §6.4.1: cumulative loss is 24-bit two's complement.
            let lost = (block.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff) as u32) & 0xff_ffff;
            let loss_word = (u32::from(block.fraction_lost) << 24) | lost;
            for (i, word) in [
                block.ssrc,
                loss_word,
                block.extended_highest_seq,
                block.jitter,
                block.last_sr,
                block.delay_since_last_sr,
            ]
            .iter()
            .enumerate()
            {
                put(out, body + 4 * i, &word.to_be_bytes())?;
            }
        }
        Ok(len)
    }

    /// Writes this report followed by an SDES packet carrying `cname`
    /// (RFC 3550 §6.1: every compound packet has an SR/RR and a CNAME).
    pub fn write_compound(&self, cname: &[u8], buf: &mut [u8]) -> Result<usize, RtcpError> {
        let n = self.write(buf)?;
        let rest = buf.get_mut(n..).ok_or(RtcpError::BufferTooSmall)?;
        Ok(n + write_sdes_cname(self.ssrc, cname, rest)?)
    }

    /// Reads a compound RTCP packet: checks it as RFC 3550 A.2 does and
    /// returns its leading SR or RR with the first report block.
    pub fn parse(data: &[u8]) -> Result<ParsedRtcp, RtcpError> {
        let first = validate_compound(data)?;
        let count = data.first().map_or(0, |b| b & 0x1f);
        let ssrc = be32(data, 4)?;
        let (kind, body) = if first.pt == PT_SR {
            let ntp_hi = be32(data, 8)?;
            let ntp_lo = be32(data, 12)?;
            let info = SenderInfo {
                ntp_timestamp: (u64::from(ntp_hi) << 32) | u64::from(ntp_lo),
                rtp_timestamp: be32(data, 16)?,
                packet_count: be32(data, 20)?,
                octet_count: be32(data, 24)?,
            };
            (ReportKind::Sender(info), SR_LEN)
        } else {
            (ReportKind::Receiver, RR_LEN)
        };
        let needed = body + BLOCK_LEN * usize::from(count);
        if needed > first.len {
            return Err(RtcpError::BadLength);
        }
        let block = if count == 0 {
            None
        } else {
            let word = be32(data, body + 4)?;
            // Sign-extend the 24-bit cumulative loss.
            let lost = ((word << 8) as i32) >> 8;
            Some(ReceptionReport {
                ssrc: be32(data, body)?,
                fraction_lost: (word >> 24) as u8,
                cumulative_lost: lost,
                extended_highest_seq: be32(data, body + 8)?,
                jitter: be32(data, body + 12)?,
                last_sr: be32(data, body + 16)?,
                delay_since_last_sr: be32(data, body + 20)?,
            })
        };
        Ok(ParsedRtcp {
            report: RtcpReport { ssrc, kind, block },
            block_count: count,
        })
    }
}

/// Writes an SDES packet with one chunk holding the CNAME item
/// (RFC 3550 §6.5) and returns its length.
pub fn write_sdes_cname(ssrc: u32, cname: &[u8], buf: &mut [u8]) -> Result<usize, RtcpError> {
    let item_len = u8::try_from(cname.len()).map_err(|_| RtcpError::ItemTooLong)?;
    // Header, SSRC, type, length, text, then a null end item padded to a
    // 32-bit boundary (§6.5: at least one null octet).
    let unpadded = 4 + 4 + 2 + cname.len() + 1;
    let len = unpadded.div_ceil(4) * 4;
    let out = buf.get_mut(..len).ok_or(RtcpError::BufferTooSmall)?;
    out.fill(0);
    header(out, 1, PT_SDES, len)?;
    put(out, 4, &ssrc.to_be_bytes())?;
    put(out, 8, &[1, item_len])?; // CNAME
    put(out, 10, cname)?;
    Ok(len)
}

/// The first packet of a checked compound.
struct FirstPacket {
    pt: u8,
    len: usize,
}

/// RFC 3550 A.2: version 2 everywhere, the first packet an SR or RR,
/// padding only in the last packet, lengths summing to the datagram.
fn validate_compound(data: &[u8]) -> Result<FirstPacket, RtcpError> {
    let mut at = 0usize;
    let mut first = None;
    while at < data.len() {
        let head: &[u8; 4] = data
            .get(at..at + 4)
            .and_then(|h| h.try_into().ok())
            .ok_or(RtcpError::TooShort)?;
        if head[0] >> 6 != 2 {
            return Err(RtcpError::BadVersion);
        }
        let len = (usize::from(u16::from_be_bytes([head[2], head[3]])) + 1) * 4;
        let end = at + len;
        if end > data.len() {
            return Err(RtcpError::TooShort);
        }
        let padded = head[0] & 0x20 != 0;
        if padded && end != data.len() {
            return Err(RtcpError::BadLength);
        }
        if first.is_none() {
            if head[1] != PT_SR && head[1] != PT_RR {
                return Err(RtcpError::NotAReport);
            }
            if padded {
                return Err(RtcpError::BadLength);
            }
            first = Some(FirstPacket { pt: head[1], len });
        }
        at = end;
    }
    first.ok_or(RtcpError::TooShort)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block() -> ReceptionReport {
        ReceptionReport {
            ssrc: 0xdead_beef,
            fraction_lost: 25,
            cumulative_lost: -3,
            extended_highest_seq: 0x0001_0005,
            jitter: 17,
            last_sr: 0x1234_5678,
            delay_since_last_sr: 65536,
        }
    }

    #[test]
    fn sender_report_round_trips() {
        let report = RtcpReport {
            ssrc: 7,
            kind: ReportKind::Sender(SenderInfo {
                ntp_timestamp: 0x0000_0e10_8000_0000,
                rtp_timestamp: 0xffff_fff0,
                packet_count: 180_000,
                octet_count: 28_800_000,
            }),
            block: Some(block()),
        };
        let mut buf = [0u8; 128];
        let n = report.write_compound(b"phone@192.0.2.1", &mut buf).unwrap();
        assert_eq!(n, 52 + 28);
        assert_eq!(&buf[..4], &[0x81, 200, 0, 12]);
        let parsed = RtcpReport::parse(&buf[..n]).unwrap();
        assert_eq!(parsed.report, report);
        assert_eq!(parsed.block_count, 1);
    }

    #[test]
    fn receiver_report_round_trips_with_and_without_block() {
        for block in [None, Some(block())] {
            let report = RtcpReport {
                ssrc: 9,
                kind: ReportKind::Receiver,
                block,
            };
            let mut buf = [0u8; 64];
            let n = report.write(&mut buf).unwrap();
            assert_eq!(n, report.wire_len());
            assert_eq!(RtcpReport::parse(&buf[..n]).unwrap().report, report);
        }
    }

    #[test]
    fn cumulative_loss_saturates_to_24_bits() {
        for (given, read) in [
            (i32::MAX, 0x7f_ffff),
            (i32::MIN, -0x80_0000),
            (0x7f_ffff, 0x7f_ffff),
            (-1, -1),
        ] {
            let report = RtcpReport {
                ssrc: 1,
                kind: ReportKind::Receiver,
                block: Some(ReceptionReport {
                    cumulative_lost: given,
                    ..block()
                }),
            };
            let mut buf = [0u8; 32];
            let n = report.write(&mut buf).unwrap();
            let parsed = RtcpReport::parse(&buf[..n]).unwrap().report;
            assert_eq!(parsed.block.unwrap().cumulative_lost, read);
        }
    }

    #[test]
    fn malformed_compounds_are_errors() {
        let rr = RtcpReport {
            ssrc: 1,
            kind: ReportKind::Receiver,
            block: Some(block()),
        };
        let mut buf = [0u8; 64];
        let n = rr.write(&mut buf).unwrap();
        assert_eq!(RtcpReport::parse(&[]), Err(RtcpError::TooShort));
        assert_eq!(RtcpReport::parse(&buf[..n - 1]), Err(RtcpError::TooShort));
        assert_eq!(RtcpReport::parse(&buf[..3]), Err(RtcpError::TooShort));
        let mut bad = buf;
        bad[0] = 0x41;
        assert_eq!(RtcpReport::parse(&bad[..n]), Err(RtcpError::BadVersion));
        let mut bad = buf;
        bad[1] = PT_SDES;
        assert_eq!(RtcpReport::parse(&bad[..n]), Err(RtcpError::NotAReport));
        let mut bad = buf;
        bad[0] = 0x82; // two blocks announced, one present
        assert_eq!(RtcpReport::parse(&bad[..n]), Err(RtcpError::BadLength));
        let mut bad = buf;
        bad[0] |= 0x20; // padding in the first (and here only) packet
        assert_eq!(RtcpReport::parse(&bad[..n]), Err(RtcpError::BadLength));
        // Trailing bytes that are not a whole packet.
        assert_eq!(RtcpReport::parse(&buf[..n + 2]), Err(RtcpError::TooShort));
        assert_eq!(rr.write(&mut [0u8; 31]), Err(RtcpError::BufferTooSmall));
        assert_eq!(
            write_sdes_cname(1, &[b'a'; 256], &mut [0u8; 300]),
            Err(RtcpError::ItemTooLong)
        );
    }

    #[test]
    fn every_prefix_and_byte_flip_of_a_compound_is_handled() {
        let sr = RtcpReport {
            ssrc: 3,
            kind: ReportKind::Sender(SenderInfo {
                ntp_timestamp: 1,
                rtp_timestamp: 2,
                packet_count: 3,
                octet_count: 4,
            }),
            block: Some(block()),
        };
        let mut base = [0u8; 96];
        let n = sr.write_compound(b"a@b", &mut base).unwrap();
        for len in 0..=n {
            for flip in 0..len {
                let mut p = base;
                p[flip] ^= 0xff;
                let _ = RtcpReport::parse(&p[..len]);
                p[flip] ^= 0x5a;
                let _ = RtcpReport::parse(&p[..len]);
            }
        }
    }
}
