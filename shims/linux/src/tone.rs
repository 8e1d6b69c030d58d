//! Test tones and their detection: a sine generator for outgoing audio, and
//! the measurements that tell whether recorded audio holds a given tone or
//! only silence (RMS level, Goertzel power, dominant frequency).

use std::f64::consts::PI;

/// A sine generator that keeps its phase across calls, so consecutive
/// frames join without clicks.
#[derive(Clone, Debug)]
pub struct Tone {
    /// Phase advance per sample, in radians.
    step: f64,
    phase: f64,
    amplitude: f64,
}

impl Tone {
    /// A sine of `freq_hz` at `sample_rate`, peaking at `amplitude`.
    pub fn new(freq_hz: f64, amplitude: i16, sample_rate: u32) -> Tone {
        Tone {
            step: 2.0 * PI * freq_hz / f64::from(sample_rate.max(1)),
            phase: 0.0,
            amplitude: f64::from(amplitude),
        }
    }

    /// Fills `out` with the next samples.
    pub fn fill(&mut self, out: &mut [i16]) {
        for s in out {
            *s = (self.phase.sin() * self.amplitude).round() as i16;
            self.phase = (self.phase + self.step) % (2.0 * PI);
        }
    }

    /// The next `count` samples.
    pub fn take(&mut self, count: usize) -> Vec<i16> {
        let mut v = vec![0; count];
        self.fill(&mut v);
        v
    }
}

/// Root mean square of the samples (0.0 for none): about 0.707 × amplitude
/// for a sine, a few units for silence through G.711.
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt()
}

/// The Hann window weight of sample `i` of `n`: tapers the block edges so
/// that a tone between analysis frequencies leaks little into its neighbours.
fn hann(i: usize, n: usize) -> f64 {
    if n < 2 {
        return 1.0;
    }
    0.5 - 0.5 * (2.0 * PI * i as f64 / (n - 1) as f64).cos()
}

/// The power of `freq_hz` in the (Hann-windowed) samples, by the Goertzel
/// recurrence; the frequency need not fall on a DFT bin.
pub fn goertzel_power(samples: &[i16], sample_rate: u32, freq_hz: f64) -> f64 {
    let n = samples.len();
    let w = 2.0 * PI * freq_hz / f64::from(sample_rate.max(1));
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for (i, &x) in samples.iter().enumerate() {
        let s0 = f64::from(x) * hann(i, n) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// The frequency in `min_hz..=max_hz` with the most power, to within about
/// 1 Hz: a scan every 10 Hz, then a 1 Hz scan around the best. Analyses at
/// most the first second (enough for a steady tone, and bounded work).
pub fn dominant_frequency(samples: &[i16], sample_rate: u32, min_hz: f64, max_hz: f64) -> f64 {
    let block = samples.get(..sample_rate as usize).unwrap_or(samples);
    let best_in = |from: f64, to: f64, step: f64| -> f64 {
        let mut best = (from, f64::MIN);
        let mut f = from;
        while f <= to {
            let p = goertzel_power(block, sample_rate, f);
            if p > best.1 {
                best = (f, p);
            }
            f += step;
        }
        best.0
    };
    let coarse = best_in(min_hz, max_hz, 10.0);
    best_in(
        (coarse - 10.0).max(min_hz),
        (coarse + 10.0).min(max_hz),
        1.0,
    )
}

/// What [`analyse`] found in a recording.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ToneReport {
    /// RMS level of the whole recording.
    pub rms: f64,
    /// The strongest frequency between 50 Hz and just under Nyquist.
    pub dominant_hz: f64,
    /// The share of the (windowed) signal power that lies within ±20 Hz of
    /// the dominant frequency, 0.0 to about 1.0: near 1 for a clean tone,
    /// small for noise or speech.
    pub purity: f64,
}

impl ToneReport {
    /// Whether the recording is a tone of `freq_hz` (±`tolerance_hz`) and
    /// not silence (RMS above `min_rms`).
    pub fn is_tone(&self, freq_hz: f64, tolerance_hz: f64, min_rms: f64) -> bool {
        self.rms > min_rms && (self.dominant_hz - freq_hz).abs() <= tolerance_hz
    }
}

/// Measures a recording: level, dominant frequency and how pure the tone is.
/// The analysis skips the first 100 ms (call set-up, jitter buffer filling).
pub fn analyse(samples: &[i16], sample_rate: u32) -> ToneReport {
    let skip = (sample_rate / 10) as usize;
    let body = if samples.len() > skip * 2 {
        samples.get(skip..).unwrap_or(samples)
    } else {
        samples
    };
    let nyquist = f64::from(sample_rate) / 2.0;
    let dominant_hz = dominant_frequency(body, sample_rate, 50.0, nyquist - 50.0);
    let block = body.get(..sample_rate as usize).unwrap_or(body);
    let n = block.len();
    // Parseval: the windowed signal's energy spread over n/2 bins of the
    // one-sided spectrum; a Goertzel power equals |X(f)|², and a pure tone's
    // main lobe under the Hann window holds its energy over ±2 bins.
    let total: f64 = block
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let v = f64::from(x) * hann(i, n);
            v * v
        })
        .sum();
    let bin_hz = f64::from(sample_rate) / n.max(1) as f64;
    let mut near = 0.0;
    let mut f = dominant_hz - 20.0;
    while f <= dominant_hz + 20.0 {
        near += goertzel_power(block, sample_rate, f);
        f += bin_hz;
    }
    let purity = if total > 0.0 {
        // Each bin's |X|² counts energy n/2 times over (one-sided, both
        // halves of the spectrum): normalise back to a share of the total.
        (2.0 * near / n as f64 / total).min(1.0)
    } else {
        0.0
    };
    ToneReport {
        rms: rms(samples),
        dominant_hz,
        purity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711::G711;

    const RATE: u32 = 8_000;

    #[test]
    fn sine_has_the_expected_level_and_continuity() {
        let mut t = Tone::new(1000.0, 10_000, RATE);
        let a = t.take(80);
        let b = t.take(80);
        let whole = Tone::new(1000.0, 10_000, RATE).take(160);
        assert_eq!([a, b].concat(), whole);
        // 1000 Hz at 8 kHz: a period is 8 samples, 0, +peak, 0, -peak...
        assert_eq!(&whole[..5], &[0, 7071, 10_000, 7071, 0]);
        let level = rms(&whole);
        assert!((level - 7071.0).abs() < 10.0, "{level}");
    }

    #[test]
    fn dominant_frequency_finds_tones_off_the_bins() {
        for f in [400.0, 440.0, 1000.0, 1234.0, 3100.0] {
            let s = Tone::new(f, 8000, RATE).take(8000);
            let found = dominant_frequency(&s, RATE, 50.0, 3950.0);
            assert!((found - f).abs() <= 1.0, "{f}: {found}");
        }
    }

    #[test]
    fn a_tone_through_g711_is_still_that_tone() {
        for law in [G711::Ulaw, G711::Alaw] {
            let s = Tone::new(440.0, 6000, RATE).take(16_000);
            let mut codes = Vec::new();
            law.encode(&s, &mut codes);
            let mut back = Vec::new();
            law.decode(&codes, &mut back);
            let r = analyse(&back, RATE);
            assert!(r.is_tone(440.0, 5.0, 1000.0), "{law:?}: {r:?}");
            assert!(r.purity > 0.9, "{law:?}: {r:?}");
            assert!(!r.is_tone(1000.0, 5.0, 1000.0));
        }
    }

    #[test]
    fn silence_and_noise_are_not_tones() {
        let silence = vec![0i16; 8000];
        let r = analyse(&silence, RATE);
        assert_eq!(r.rms, 0.0);
        assert!(!r.is_tone(r.dominant_hz, 5.0, 100.0));

        // Noise from a fixed linear congruential sequence: loud but flat.
        let mut x: u32 = 12_345;
        let noise: Vec<i16> = (0..8000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                ((x >> 16) as i16) / 4
            })
            .collect();
        let r = analyse(&noise, RATE);
        assert!(r.rms > 1000.0, "{r:?}");
        assert!(r.purity < 0.1, "{r:?}");
    }

    #[test]
    fn two_tones_report_the_louder_one() {
        let a = Tone::new(400.0, 8000, RATE).take(8000);
        let b = Tone::new(1000.0, 2000, RATE).take(8000);
        let mix: Vec<i16> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
        let r = analyse(&mix, RATE);
        assert!((r.dominant_hz - 400.0).abs() <= 1.0, "{r:?}");
        assert!(r.purity > 0.8 && r.purity < 0.99, "{r:?}");
    }

    #[test]
    fn empty_input_does_not_panic() {
        assert_eq!(rms(&[]), 0.0);
        let r = analyse(&[], RATE);
        assert_eq!(r.purity, 0.0);
        let _ = goertzel_power(&[], 0, 100.0);
    }
}
