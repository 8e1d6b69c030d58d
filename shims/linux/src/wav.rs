//! WAV files for calls: 8 kHz, mono, 16-bit signed PCM, the format G.711
//! carries. Other formats are refused with a clear error rather than
//! resampled or mixed down.

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, Write};
use std::path::Path;

/// The only sample rate a call uses (G.711, RFC 3551 §4.5.14).
pub const SAMPLE_RATE: u32 = 8_000;

/// The WAV format written and accepted.
pub fn call_spec() -> hound::WavSpec {
    hound::WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    }
}

/// Why a WAV file could not be read or written.
#[derive(Debug)]
pub enum WavError {
    /// The file could not be opened, read or written, or is not a WAV file.
    Wav(hound::Error),
    /// A well-formed WAV file in a format other than 8 kHz mono 16-bit PCM.
    UnsupportedFormat {
        /// Its channel count.
        channels: u16,
        /// Its sample rate in Hz.
        sample_rate: u32,
        /// Its bits per sample.
        bits_per_sample: u16,
        /// Whether its samples are floating point.
        float: bool,
    },
}

impl fmt::Display for WavError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WavError::Wav(e) => write!(f, "WAV file: {e}"),
            WavError::UnsupportedFormat {
                channels,
                sample_rate,
                bits_per_sample,
                float,
            } => write!(
                f,
                "WAV file is {sample_rate} Hz, {channels} channel(s), {bits_per_sample}-bit {}; \
                 calls need 8000 Hz mono 16-bit PCM (convert it, e.g. `sox in.wav -r 8000 -c 1 -b 16 out.wav`)",
                if *float { "float" } else { "PCM" }
            ),
        }
    }
}

impl std::error::Error for WavError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WavError::Wav(e) => Some(e),
            WavError::UnsupportedFormat { .. } => None,
        }
    }
}

impl From<hound::Error> for WavError {
    fn from(e: hound::Error) -> Self {
        WavError::Wav(e)
    }
}

/// Reads every sample of an 8 kHz mono 16-bit WAV stream.
pub fn read_wav_from<R: Read>(input: R) -> Result<Vec<i16>, WavError> {
    let reader = hound::WavReader::new(input)?;
    let spec = reader.spec();
    if spec != call_spec() {
        return Err(WavError::UnsupportedFormat {
            channels: spec.channels,
            sample_rate: spec.sample_rate,
            bits_per_sample: spec.bits_per_sample,
            float: spec.sample_format == hound::SampleFormat::Float,
        });
    }
    reader
        .into_samples::<i16>()
        .collect::<Result<Vec<i16>, _>>()
        .map_err(WavError::from)
}

/// Reads every sample of an 8 kHz mono 16-bit WAV file.
pub fn read_wav(path: impl AsRef<Path>) -> Result<Vec<i16>, WavError> {
    let file = File::open(path).map_err(hound::Error::IoError)?;
    read_wav_from(std::io::BufReader::new(file))
}

/// Writes samples as an 8 kHz mono 16-bit WAV file.
pub fn write_wav(path: impl AsRef<Path>, samples: &[i16]) -> Result<(), WavError> {
    let mut rec = WavRecorder::create(path)?;
    rec.write(samples)?;
    rec.finish()
}

/// A WAV file being recorded as audio arrives; [`WavRecorder::finish`]
/// completes its header (dropping it does too, without reporting errors).
pub struct WavRecorder<W: Write + Seek = BufWriter<File>> {
    writer: hound::WavWriter<W>,
    samples: u64,
}

impl WavRecorder<BufWriter<File>> {
    /// Creates (or truncates) the file.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, WavError> {
        Ok(WavRecorder {
            writer: hound::WavWriter::create(path, call_spec())?,
            samples: 0,
        })
    }
}

impl<W: Write + Seek> WavRecorder<W> {
    /// Records into any seekable writer.
    pub fn new(out: W) -> Result<Self, WavError> {
        Ok(WavRecorder {
            writer: hound::WavWriter::new(out, call_spec())?,
            samples: 0,
        })
    }

    /// Appends samples.
    pub fn write(&mut self, samples: &[i16]) -> Result<(), WavError> {
        let mut w = self.writer.get_i16_writer(samples.len() as u32);
        for &s in samples {
            w.write_sample(s);
        }
        w.flush()?;
        self.samples += samples.len() as u64;
        Ok(())
    }

    /// How many samples were recorded.
    pub fn len(&self) -> u64 {
        self.samples
    }

    /// Whether nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.samples == 0
    }

    /// Writes the final header.
    pub fn finish(self) -> Result<(), WavError> {
        self.writer.finalize().map_err(WavError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn samples_survive_a_write_and_read() {
        let samples: Vec<i16> = (0..1000)
            .map(|i| (i * 37 % 65_536 - 32_768) as i16)
            .collect();
        let mut buf = Cursor::new(Vec::new());
        let mut rec = WavRecorder::new(&mut buf).unwrap();
        rec.write(&samples[..400]).unwrap();
        rec.write(&samples[400..]).unwrap();
        assert_eq!(rec.len(), 1000);
        rec.finish().unwrap();
        let bytes = buf.into_inner();
        // RIFF header + fmt chunk + data chunk header = 44 bytes, then 2 bytes a sample.
        assert_eq!(bytes.len(), 44 + 2000);
        assert_eq!(&bytes[..4], b"RIFF");
        assert_eq!(read_wav_from(Cursor::new(bytes)).unwrap(), samples);
    }

    #[test]
    fn files_round_trip() {
        let path = std::env::temp_dir().join(format!("handset-wav-{}.wav", std::process::id()));
        write_wav(&path, &[1, -2, 3]).unwrap();
        assert_eq!(read_wav(&path).unwrap(), [1, -2, 3]);
        std::fs::remove_file(&path).unwrap();
    }

    fn wav_with(spec: hound::WavSpec) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut buf, spec).unwrap();
        for _ in 0..spec.channels * 4 {
            if spec.sample_format == hound::SampleFormat::Float {
                w.write_sample(0.5f32).unwrap();
            } else {
                w.write_sample(1i16).unwrap();
            }
        }
        w.finalize().unwrap();
        buf.into_inner()
    }

    #[test]
    fn other_formats_are_refused() {
        let base = call_spec();
        let cases = [
            hound::WavSpec {
                sample_rate: 16_000,
                ..base
            },
            hound::WavSpec {
                channels: 2,
                ..base
            },
            hound::WavSpec {
                bits_per_sample: 8,
                ..base
            },
            hound::WavSpec {
                bits_per_sample: 32,
                sample_format: hound::SampleFormat::Float,
                ..base
            },
        ];
        for spec in cases {
            let err = read_wav_from(Cursor::new(wav_with(spec))).unwrap_err();
            match err {
                WavError::UnsupportedFormat {
                    channels,
                    sample_rate,
                    bits_per_sample,
                    ..
                } => {
                    assert_eq!(
                        (channels, sample_rate, bits_per_sample),
                        (spec.channels, spec.sample_rate, spec.bits_per_sample)
                    );
                }
                other => panic!("{other:?}"),
            }
            assert!(err.to_string().contains("8000 Hz mono 16-bit"));
        }
    }

    #[test]
    fn garbage_and_missing_files_are_errors() {
        assert!(matches!(
            read_wav_from(Cursor::new(b"not a wav file at all".to_vec())),
            Err(WavError::Wav(_))
        ));
        assert!(matches!(
            read_wav("/nonexistent/dir/x.wav"),
            Err(WavError::Wav(hound::Error::IoError(_)))
        ));
    }
}
