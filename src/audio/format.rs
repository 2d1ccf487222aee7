//! The one audio format between the providers, the clip cache and the
//! stitcher: mono signed 16-bit little-endian PCM at a known sample rate,
//! and the canonical 44-byte WAV container it is stored in. Every check of a
//! WAV file's format, every header size and every byte-to-sample conversion
//! goes through [`PcmFormat`], so the four places that handle audio cannot
//! disagree about it.

use std::io;

/// Mono 16-bit PCM at `sample_rate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcmFormat {
    pub sample_rate: u32,
}

impl PcmFormat {
    /// Bytes of the WAV header this program writes (RIFF, `fmt `, `data`).
    pub const WAV_HEADER_BYTES: u64 = 44;
    /// The most samples a WAV file holds: its RIFF size field is 32 bits,
    /// and 36 of the header's bytes are counted in it.
    pub const MAX_WAV_SAMPLES: u64 = (u32::MAX as u64 - 36) / 2;

    pub fn new(sample_rate: u32) -> Self {
        PcmFormat { sample_rate }
    }

    /// The `hound` description of a WAV file in this format.
    pub fn wav_spec(self) -> hound::WavSpec {
        hound::WavSpec {
            channels: 1,
            sample_rate: self.sample_rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        }
    }

    /// The format of a WAV file, when it is mono 16-bit integer PCM (at any
    /// rate); `None` for anything else.
    pub fn of_wav(spec: hound::WavSpec) -> Option<PcmFormat> {
        let format = PcmFormat::new(spec.sample_rate);
        (format.wav_spec() == spec).then_some(format)
    }

    /// A WAV file's format in words, for messages.
    pub fn describe(spec: hound::WavSpec) -> String {
        let format = match spec.sample_format {
            hound::SampleFormat::Int => "pcm",
            hound::SampleFormat::Float => "float",
        };
        format!(
            "{} channel(s) of {}-bit {format} at {} Hz",
            spec.channels, spec.bits_per_sample, spec.sample_rate
        )
    }

    /// Samples in `ms` milliseconds, rounded to nearest, in integers so the
    /// same pause is always the same length.
    pub fn samples_in_ms(self, ms: u32) -> u64 {
        (u64::from(ms) * u64::from(self.sample_rate) + 500) / 1000
    }

    /// Seconds of audio in `samples` samples.
    pub fn secs(self, samples: u64) -> f64 {
        samples as f64 / f64::from(self.sample_rate)
    }

    /// The size of a WAV file in this format holding `samples` samples.
    pub fn wav_file_bytes(samples: u64) -> u64 {
        Self::WAV_HEADER_BYTES + 2 * samples
    }

    /// The canonical 44-byte header of a WAV file in this format holding
    /// `samples` samples (the caller keeps `samples` within
    /// [`PcmFormat::MAX_WAV_SAMPLES`]).
    pub fn wav_header(self, samples: u64) -> [u8; 44] {
        let data = (2 * samples) as u32;
        let mut h = [0u8; 44];
        let mut put = |at: usize, bytes: &[u8]| h[at..at + bytes.len()].copy_from_slice(bytes);
        put(0, b"RIFF");
        put(4, &(36 + data).to_le_bytes());
        put(8, b"WAVEfmt ");
        put(16, &16u32.to_le_bytes());
        put(20, &1u16.to_le_bytes()); // integer PCM
        put(22, &1u16.to_le_bytes()); // mono
        put(24, &self.sample_rate.to_le_bytes());
        put(28, &(self.sample_rate * 2).to_le_bytes()); // bytes per second
        put(32, &2u16.to_le_bytes()); // bytes per frame
        put(34, &16u16.to_le_bytes());
        put(36, b"data");
        put(40, &data.to_le_bytes());
        h
    }

    /// Samples as little-endian bytes, appended to `out`.
    pub fn samples_to_le(samples: &[i16], out: &mut Vec<u8>) {
        out.reserve(samples.len() * 2);
        for s in samples {
            out.extend_from_slice(&s.to_le_bytes());
        }
    }

    /// Reads exactly `buf.len()` samples of little-endian PCM from `reader`
    /// straight into `buf`: no copy on a little-endian machine (the bytes
    /// land in the samples' memory), a swap in place on a big-endian one.
    pub fn read_le(reader: &mut impl io::Read, buf: &mut [i16]) -> io::Result<()> {
        reader.read_exact(bytemuck::cast_slice_mut(buf))?;
        for s in buf.iter_mut() {
            *s = i16::from_le(*s);
        }
        Ok(())
    }

    /// Writes `samples` as little-endian PCM: straight from their memory on
    /// a little-endian machine, through a converted copy on a big-endian one.
    pub fn write_le(writer: &mut impl io::Write, samples: &[i16]) -> io::Result<()> {
        if cfg!(target_endian = "little") {
            writer.write_all(bytemuck::cast_slice(samples))
        } else {
            let mut bytes = Vec::new();
            Self::samples_to_le(samples, &mut bytes);
            writer.write_all(&bytes)
        }
    }

    /// Little-endian sample bytes as samples; an odd last byte is ignored
    /// (callers that must refuse it check the length first).
    pub fn samples_from_le(bytes: &[u8]) -> impl Iterator<Item = i16> + '_ {
        bytes
            .chunks_exact(2)
            .map(|pair| i16::from_le_bytes([pair[0], pair[1]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_is_rounded_in_integers() {
        assert_eq!(PcmFormat::new(24_000).samples_in_ms(250), 6_000);
        assert_eq!(PcmFormat::new(22_050).samples_in_ms(1), 22);
        assert_eq!(PcmFormat::new(44_100).samples_in_ms(3), 132);
        assert_eq!(PcmFormat::new(22_050).samples_in_ms(10), 221);
        assert_eq!(PcmFormat::new(48_000).samples_in_ms(0), 0);
    }

    #[test]
    fn only_mono_16_bit_integer_wav_is_this_format() {
        let ok = PcmFormat::new(16_000).wav_spec();
        assert_eq!(PcmFormat::of_wav(ok), Some(PcmFormat::new(16_000)));
        let stereo = hound::WavSpec { channels: 2, ..ok };
        let float = hound::WavSpec {
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
            ..ok
        };
        assert_eq!(PcmFormat::of_wav(stereo), None);
        assert_eq!(PcmFormat::of_wav(float), None);
        assert_eq!(
            PcmFormat::describe(float),
            "1 channel(s) of 32-bit float at 16000 Hz"
        );
    }

    /// The header size is what hound writes for this format: checked by
    /// writing a file, not assumed.
    #[test]
    fn wav_file_size_matches_what_is_written() {
        let mut bytes = std::io::Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut bytes, PcmFormat::new(8_000).wav_spec()).unwrap();
        for s in 0..123i16 {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        let bytes = bytes.into_inner();
        assert_eq!(bytes.len() as u64, PcmFormat::wav_file_bytes(123));
        assert_eq!(bytes[..44], PcmFormat::new(8_000).wav_header(123));
        let samples: Vec<i16> = PcmFormat::samples_from_le(&[1, 0, 0xff, 0xff, 7]).collect();
        assert_eq!(samples, [1, -1]);
    }

    /// Samples are read and written little-endian, whatever the machine:
    /// checked against bytes written out by hand.
    #[test]
    fn samples_are_read_and_written_little_endian() {
        let bytes = [1u8, 0, 0xff, 0xff, 0x00, 0x80, 0x34, 0x12];
        let mut samples = [0i16; 4];
        PcmFormat::read_le(&mut &bytes[..], &mut samples).unwrap();
        assert_eq!(samples, [1, -1, i16::MIN, 0x1234]);
        let mut out = Vec::new();
        PcmFormat::write_le(&mut out, &samples).unwrap();
        assert_eq!(out, bytes);
        let mut short = [0i16; 5];
        let err = PcmFormat::read_le(&mut &bytes[..], &mut short).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
