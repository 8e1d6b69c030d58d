//! MD5 (RFC 1321), the digest authentication's default hash, written as
//! one loop over the 64 steps. The `md-5` crate unrolls them (1.8 KiB of
//! code on a Cortex-M4); this loop is a fraction of that, and a digest is
//! computed only a few times per registration or challenged request, so
//! the unrolled speed buys nothing here.

/// The per-step additive constants T[i] = floor(2^32 · |sin(i + 1)|)
/// (RFC 1321 §3.4).
#[rustfmt::skip]
const T: [u32; 64] = [
    0xd76a_a478, 0xe8c7_b756, 0x2420_70db, 0xc1bd_ceee, 0xf57c_0faf, 0x4787_c62a, 0xa830_4613,
    0xfd46_9501, 0x6980_98d8, 0x8b44_f7af, 0xffff_5bb1, 0x895c_d7be, 0x6b90_1122, 0xfd98_7193,
    0xa679_438e, 0x49b4_0821, 0xf61e_2562, 0xc040_b340, 0x265e_5a51, 0xe9b6_c7aa, 0xd62f_105d,
    0x0244_1453, 0xd8a1_e681, 0xe7d3_fbc8, 0x21e1_cde6, 0xc337_07d6, 0xf4d5_0d87, 0x455a_14ed,
    0xa9e3_e905, 0xfcef_a3f8, 0x676f_02d9, 0x8d2a_4c8a, 0xfffa_3942, 0x8771_f681, 0x6d9d_6122,
    0xfde5_380c, 0xa4be_ea44, 0x4bde_cfa9, 0xf6bb_4b60, 0xbebf_bc70, 0x289b_7ec6, 0xeaa1_27fa,
    0xd4ef_3085, 0x0488_1d05, 0xd9d4_d039, 0xe6db_99e5, 0x1fa2_7cf8, 0xc4ac_5665, 0xf429_2244,
    0x432a_ff97, 0xab94_23a7, 0xfc93_a039, 0x655b_59c3, 0x8f0c_cc92, 0xffef_f47d, 0x8584_5dd1,
    0x6fa8_7e4f, 0xfe2c_e6e0, 0xa301_4314, 0x4e08_11a1, 0xf753_7e82, 0xbd3a_f235, 0x2ad7_d2bb,
    0xeb86_d391,
];

/// The left rotations of each round, four per round (RFC 1321 §3.4).
const SHIFTS: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

/// A running MD5.
#[derive(Clone)]
pub struct Md5 {
    state: [u32; 4],
    block: [u8; 64],
    /// Bytes of `block` filled.
    filled: usize,
    /// Bytes fed in all.
    total: u64,
}

impl Md5 {
    /// The initial state (RFC 1321 §3.3).
    pub fn new() -> Self {
        Md5 {
            state: [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476],
            block: [0; 64],
            filled: 0,
            total: 0,
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        while !data.is_empty() {
            let take = (64 - self.filled).min(data.len());
            let (head, rest) = data.split_at(take);
            if let Some(room) = self.block.get_mut(self.filled..self.filled + take) {
                room.copy_from_slice(head);
            }
            self.filled += take;
            data = rest;
            if self.filled == 64 {
                compress(&mut self.state, &self.block);
                self.filled = 0;
            }
        }
    }

    /// The 16-byte digest.
    pub fn finalize(mut self) -> [u8; 16] {
        // RFC 1321 §3.1–3.2: a 1 bit, zeros up to 56 bytes mod 64, then the
        // message length in bits, little-endian.
        let bits = self.total.wrapping_mul(8);
        self.update(&[0x80]);
        while self.filled != 56 {
            self.update(&[0]);
        }
        self.update(&bits.to_le_bytes());
        let mut out = [0u8; 16];
        for (bytes, word) in out.chunks_exact_mut(4).zip(self.state) {
            bytes.copy_from_slice(&word.to_le_bytes());
        }
        out
    }
}

impl Default for Md5 {
    fn default() -> Self {
        Md5::new()
    }
}

/// One 64-byte block into the state (RFC 1321 §3.4).
fn compress(state: &mut [u32; 4], block: &[u8; 64]) {
    let mut x = [0u32; 16];
    for (word, bytes) in x.iter_mut().zip(block.chunks_exact(4)) {
        if let [a, b, c, d] = *bytes {
            *word = u32::from_le_bytes([a, b, c, d]);
        }
    }
    let [mut a, mut b, mut c, mut d] = *state;
    for (i, &t) in T.iter().enumerate() {
        let round = i / 16;
        // The round's function F, G, H or I, and which word it takes.
        let (f, k) = match round {
            0 => ((b & c) | (!b & d), i),
            1 => ((b & d) | (c & !d), (5 * i + 1) % 16),
            2 => (b ^ c ^ d, (3 * i + 5) % 16),
            _ => (c ^ (b | !d), (7 * i) % 16),
        };
        let s = SHIFTS.get(round * 4 + i % 4).copied().unwrap_or(0);
        let sum = a
            .wrapping_add(f)
            .wrapping_add(t)
            .wrapping_add(x.get(k).copied().unwrap_or(0));
        a = d;
        d = c;
        c = b;
        b = b.wrapping_add(sum.rotate_left(s));
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d]) {
        *s = s.wrapping_add(v);
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use md5_crate::Digest as _;

    fn hex(bytes: &[u8]) -> std::string::String {
        bytes.iter().map(|b| std::format!("{b:02x}")).collect()
    }

    fn md5(data: &[u8]) -> std::string::String {
        let mut h = Md5::new();
        h.update(data);
        hex(&h.finalize())
    }

    #[test]
    fn rfc1321_test_suite() {
        // RFC 1321 §A.5.
        for (input, digest) in [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "abcdefghijklmnopqrstuvwxyz",
                "c3fcd3d76192e4007dfb496cca67e13b",
            ),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f",
            ),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ] {
            assert_eq!(md5(input.as_bytes()), digest, "{input}");
        }
    }

    #[test]
    fn agrees_with_the_md5_crate_on_every_length_and_split() {
        // Lengths across the 55/56/64-byte padding edges and several
        // blocks, fed whole and in two pieces.
        let data: std::vec::Vec<u8> = (0..300u32).map(|i| (i * 31 + 7) as u8).collect();
        for len in 0..data.len() {
            let input = &data[..len];
            let expected = hex(&md5_crate::Md5::digest(input));
            assert_eq!(md5(input), expected, "length {len}");
            let split = len / 3;
            let mut h = Md5::new();
            h.update(&input[..split]);
            h.update(&input[split..]);
            assert_eq!(hex(&h.finalize()), expected, "length {len} split {split}");
        }
    }
}
