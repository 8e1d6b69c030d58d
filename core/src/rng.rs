//! The core's only source of randomness: a seeded generator.
//!
//! Tags, branches, Call-IDs, SSRCs and timer jitter all come from here, so
//! the same seed and the same inputs give byte-identical outputs.

/// A xoshiro128++-style generator seeded through SplitMix64. Small, fast and
/// good enough for identifiers that must be unique, not secret.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u32; 4],
}

impl Rng {
    /// A generator whose whole output is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let a = next();
        let b = next();
        let s = [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32];
        // xoshiro's state must not be all zero; SplitMix64 makes that
        // practically impossible, but guard it so no seed can stall it.
        let s = if s == [0; 4] { [1, 2, 3, 4] } else { s };
        Rng { s }
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(7).wrapping_add(s[0]);
        let t = s[1] << 9;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(11);
        result
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        (u64::from(self.next_u32()) << 32) | u64::from(self.next_u32())
    }

    /// A value uniformly drawn from `0..bound` (0 when `bound` is 0).
    pub fn below(&mut self, bound: u32) -> u32 {
        if bound == 0 {
            return 0;
        }
        // Lemire's multiply-shift: unbiased enough for timer jitter and ids.
        ((u64::from(self.next_u32()) * u64::from(bound)) >> 32) as u32
    }

    /// Fills `out` with lowercase alphanumeric characters, for tags,
    /// branches and Call-IDs (all `token` characters, RFC 3261 §25.1).
    pub fn fill_token(&mut self, out: &mut [u8]) {
        const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        for b in out.iter_mut() {
            // `below(36)` is always a valid index.
            *b = ALPHABET
                .get(self.below(36) as usize)
                .copied()
                .unwrap_or(b'0');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_other_seed_other_stream() {
        let (mut a, mut b, mut c) = (Rng::new(7), Rng::new(7), Rng::new(8));
        let xs: [u32; 4] = core::array::from_fn(|_| a.next_u32());
        let ys: [u32; 4] = core::array::from_fn(|_| b.next_u32());
        let zs: [u32; 4] = core::array::from_fn(|_| c.next_u32());
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn below_stays_in_range_and_tokens_are_token_chars() {
        let mut r = Rng::new(1);
        for _ in 0..1000 {
            assert!(r.below(10) < 10);
        }
        let mut tok = [0u8; 16];
        r.fill_token(&mut tok);
        assert!(tok.iter().all(|b| b.is_ascii_alphanumeric()));
    }
}
