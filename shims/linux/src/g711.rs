//! G.711 companding (ITU-T G.711): µ-law (PCMU, RTP payload type 0) and
//! A-law (PCMA, payload type 8) between 16-bit linear PCM and 8-bit codes.
//!
//! Both laws split the magnitude into eight segments (exponent) of sixteen
//! steps (mantissa); decoding returns the middle of the step, so decoding a
//! code and encoding the result gives the same code back.

/// One of the two G.711 laws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum G711 {
    /// µ-law, used in North America and Japan; `PCMU/8000`.
    Ulaw,
    /// A-law, used elsewhere; `PCMA/8000`.
    Alaw,
}

impl G711 {
    /// The static RTP payload type (RFC 3551 §6, Table 4).
    pub fn payload_type(self) -> u8 {
        match self {
            G711::Ulaw => 0,
            G711::Alaw => 8,
        }
    }

    /// The codec for a static RTP payload type, if it is PCMU or PCMA.
    pub fn from_payload_type(pt: u8) -> Option<G711> {
        match pt {
            0 => Some(G711::Ulaw),
            8 => Some(G711::Alaw),
            _ => None,
        }
    }

    /// The SDP encoding name (`a=rtpmap:<pt> <name>/8000`).
    pub fn encoding_name(self) -> &'static str {
        match self {
            G711::Ulaw => "PCMU",
            G711::Alaw => "PCMA",
        }
    }

    /// Encodes one sample.
    pub fn encode_sample(self, sample: i16) -> u8 {
        match self {
            G711::Ulaw => ulaw_encode(sample),
            G711::Alaw => alaw_encode(sample),
        }
    }

    /// Decodes one code.
    pub fn decode_sample(self, code: u8) -> i16 {
        match self {
            G711::Ulaw => ulaw_decode(code),
            G711::Alaw => alaw_decode(code),
        }
    }

    /// Appends the codes for `pcm` to `out` (one byte per sample).
    pub fn encode(self, pcm: &[i16], out: &mut impl Extend<u8>) {
        out.extend(pcm.iter().map(|&s| self.encode_sample(s)));
    }

    /// Appends the samples for `codes` to `out`.
    pub fn decode(self, codes: &[u8], out: &mut impl Extend<i16>) {
        out.extend(codes.iter().map(|&c| self.decode_sample(c)));
    }
}

/// µ-law bias: added to the magnitude so that every segment starts at a
/// power of two (132 = 33 << 2 on the 16-bit scale of the 14-bit law).
const ULAW_BIAS: i32 = 0x84;
/// Largest magnitude µ-law represents before the bias is added.
const ULAW_CLIP: i32 = 32_635;

/// The index of the highest set bit of a non-zero value.
fn highest_bit(v: i32) -> i32 {
    31 - v.leading_zeros() as i32
}

/// Encodes one linear sample to µ-law.
pub fn ulaw_encode(sample: i16) -> u8 {
    let s = i32::from(sample);
    // Negative values are taken as one's complement (-s - 1), as in the
    // ITU-T G.191 reference, so that -1 is the negative zero 0x7F.
    let (sign, mag) = if s < 0 { (0x80u8, -s - 1) } else { (0x00u8, s) };
    let mag = mag.min(ULAW_CLIP) + ULAW_BIAS;
    // mag is in 132..=32767: its top bit is bit 7..=14, exponent 0..=7.
    let exponent = highest_bit(mag) - 7;
    let mantissa = (mag >> (exponent + 3)) & 0x0F;
    // G.711 transmits µ-law codes with every bit inverted.
    !(sign | ((exponent as u8) << 4) | mantissa as u8)
}

/// Decodes one µ-law code to a linear sample.
pub fn ulaw_decode(code: u8) -> i16 {
    let c = !code;
    let exponent = i32::from((c >> 4) & 0x07);
    let mantissa = i32::from(c & 0x0F);
    let mag = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    // mag is at most 32124, so it fits i16 with either sign.
    let s = if c & 0x80 != 0 { -mag } else { mag };
    s as i16
}

/// Encodes one linear sample to A-law.
pub fn alaw_encode(sample: i16) -> u8 {
    let s = i32::from(sample);
    // A-law is symmetric around -1/2: negative values are shifted by one
    // step so that -1 maps like 0 with the sign bit clear.
    let (sign, mag) = if s >= 0 {
        (0x80u8, s)
    } else {
        (0x00u8, -s - 1)
    };
    let (exponent, mantissa) = if mag < 0x100 {
        (0, (mag >> 4) & 0x0F)
    } else {
        // top bit 8..=14: exponent 1..=7
        let e = highest_bit(mag) - 7;
        (e, (mag >> (e + 3)) & 0x0F)
    };
    // G.711 transmits A-law codes with the even bits inverted.
    (sign | ((exponent as u8) << 4) | mantissa as u8) ^ 0x55
}

/// Decodes one A-law code to a linear sample.
pub fn alaw_decode(code: u8) -> i16 {
    let c = code ^ 0x55;
    let exponent = i32::from((c >> 4) & 0x07);
    let mantissa = i32::from(c & 0x0F);
    let mag = if exponent == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (exponent - 1)
    };
    // mag is at most 32256.
    let s = if c & 0x80 != 0 { mag } else { -mag };
    s as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_known_values() {
        // Silence, full scale and the segment edges of G.711 Table 2a.
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(ulaw_encode(-1), 0x7F);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(ulaw_decode(0x7F), 0);
        assert_eq!(ulaw_decode(0x80), 32_124);
        assert_eq!(ulaw_decode(0x00), -32_124);
        assert_eq!(ulaw_decode(0xEF), 132); // first step of segment 1
        assert_eq!(ulaw_decode(0xF0), 120);
        assert_eq!(ulaw_encode(1000), 0xCE);
        assert_eq!(ulaw_decode(0xCE), 988);
        assert_eq!(ulaw_encode(-1000), 0x4E);
    }

    #[test]
    fn alaw_known_values() {
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_encode(-1), 0x55);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xAA), 32_256);
        assert_eq!(alaw_decode(0x2A), -32_256);
        assert_eq!(alaw_encode(1000), 0xFA);
        assert_eq!(alaw_decode(0xFA), 1008);
    }

    #[test]
    fn every_code_survives_decode_then_encode() {
        for code in 0..=255u8 {
            assert_eq!(alaw_encode(alaw_decode(code)), code, "A-law {code:#04x}");
            // µ-law has two zeros (0xFF, 0x7F); both decode to 0, which encodes as 0xFF.
            let expect = if code == 0x7F { 0xFF } else { code };
            assert_eq!(ulaw_encode(ulaw_decode(code)), expect, "µ-law {code:#04x}");
        }
    }

    #[test]
    fn quantisation_error_stays_within_half_a_step() {
        for law in [G711::Ulaw, G711::Alaw] {
            for s in (i16::MIN..=i16::MAX).step_by(7) {
                let back = i32::from(law.decode_sample(law.encode_sample(s)));
                let s = i32::from(s);
                // Steps are 1/16 of the segment: error below 1/32 of |s|
                // plus the smallest step, and clipping at the extremes.
                let bound = s.abs() / 16 + 16;
                let clipped = s.abs() > 32_000;
                assert!(
                    clipped || (back - s).abs() <= bound,
                    "{law:?}: {s} -> {back}"
                );
            }
        }
    }

    #[test]
    fn decoding_is_monotonic_in_the_linear_value() {
        for law in [G711::Ulaw, G711::Alaw] {
            let mut last = i32::MIN;
            for s in i16::MIN..=i16::MAX {
                let v = i32::from(law.decode_sample(law.encode_sample(s)));
                assert!(v >= last, "{law:?} at {s}");
                last = v;
            }
        }
    }

    #[test]
    fn slices_and_payload_types() {
        let pcm = [0i16, 1000, -1000, i16::MAX];
        let mut codes = Vec::new();
        G711::Ulaw.encode(&pcm, &mut codes);
        assert_eq!(codes, [0xFF, 0xCE, 0x4E, 0x80]);
        let mut back = Vec::new();
        G711::Ulaw.decode(&codes, &mut back);
        assert_eq!(back, [0, 988, -988, 32_124]);
        assert_eq!(G711::from_payload_type(8), Some(G711::Alaw));
        assert_eq!(G711::from_payload_type(9), None);
        assert_eq!(G711::Alaw.payload_type(), 8);
        assert_eq!(G711::Ulaw.encoding_name(), "PCMU");
    }
}
