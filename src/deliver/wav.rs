//! WAV delivery: mono 16-bit PCM at the render rate. The sample count is
//! known before the first sample is written, so the header is final from
//! the start: the canonical 44-byte RIFF header when the data fits a RIFF
//! file's 32-bit sizes, and RF64 (EBU Tech 3306: a `ds64` chunk holding
//! 64-bit sizes) when it does not, so a long book is never refused or cut.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::Encode;
use crate::atomic::AtomicFile;
use crate::audio::PcmFormat;

pub struct WavEncoder {
    path: PathBuf,
    atomic: AtomicFile,
    out: BufWriter<File>,
    expected: u64,
    written: u64,
}

impl WavEncoder {
    /// A WAV of `samples` samples at `rate`, RF64 when more than
    /// `riff_max_samples` (the RIFF limit, lowered only by tests).
    pub fn create(path: &Path, rate: u32, samples: u64, riff_max_samples: u64) -> Result<Self> {
        let (atomic, file) = AtomicFile::create(path)?;
        let mut out = BufWriter::with_capacity(1 << 18, file);
        out.write_all(&header(rate, samples, samples > riff_max_samples))
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(WavEncoder {
            path: path.to_path_buf(),
            atomic,
            out,
            expected: samples,
            written: 0,
        })
    }
}

impl Encode for WavEncoder {
    fn write(&mut self, block: &[i16]) -> Result<()> {
        PcmFormat::write_le(&mut self.out, block)
            .with_context(|| format!("writing {}", self.path.display()))?;
        self.written += block.len() as u64;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<()> {
        anyhow::ensure!(
            self.written == self.expected,
            "{}: got {} samples, the header says {}",
            self.path.display(),
            self.written,
            self.expected
        );
        let file = self
            .out
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("writing {}", self.path.display()))?;
        self.atomic.commit(&file)?;
        Ok(())
    }
}

/// The header of a mono 16-bit WAV holding `samples` samples.
fn header(rate: u32, samples: u64, rf64: bool) -> Vec<u8> {
    let data = samples * 2;
    let mut h = Vec::with_capacity(80);
    let fmt = |h: &mut Vec<u8>| {
        h.extend_from_slice(b"fmt ");
        h.extend_from_slice(&16u32.to_le_bytes());
        h.extend_from_slice(&1u16.to_le_bytes()); // PCM
        h.extend_from_slice(&1u16.to_le_bytes()); // mono
        h.extend_from_slice(&rate.to_le_bytes());
        h.extend_from_slice(&(rate * 2).to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&16u16.to_le_bytes());
    };
    if rf64 {
        // RF64, ds64 (28 bytes of content), fmt, data: 80 bytes of header.
        let riff_size = 72 + data;
        h.extend_from_slice(b"RF64");
        h.extend_from_slice(&u32::MAX.to_le_bytes());
        h.extend_from_slice(b"WAVE");
        h.extend_from_slice(b"ds64");
        h.extend_from_slice(&28u32.to_le_bytes());
        h.extend_from_slice(&riff_size.to_le_bytes());
        h.extend_from_slice(&data.to_le_bytes());
        h.extend_from_slice(&samples.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes()); // no table entries
        fmt(&mut h);
        h.extend_from_slice(b"data");
        h.extend_from_slice(&u32::MAX.to_le_bytes());
    } else {
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&((36 + data) as u32).to_le_bytes());
        h.extend_from_slice(b"WAVE");
        fmt(&mut h);
        h.extend_from_slice(b"data");
        h.extend_from_slice(&(data as u32).to_le_bytes());
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::PcmFormat;

    fn write(path: &Path, samples: &[i16], riff_max: u64) {
        let mut enc =
            Box::new(WavEncoder::create(path, 22_050, samples.len() as u64, riff_max).unwrap());
        enc.write(samples).unwrap();
        enc.finish().unwrap();
    }

    /// A small file is exactly what hound writes, read back by hound.
    #[test]
    fn riff_header_is_the_canonical_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        let samples: Vec<i16> = (0..1000).map(|i| i as i16 * 7).collect();
        write(&path, &samples, PcmFormat::MAX_WAV_SAMPLES);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len() as u64, PcmFormat::wav_file_bytes(1000));
        let mut reader = hound::WavReader::open(&path).unwrap();
        assert_eq!(reader.spec(), PcmFormat::new(22_050).wav_spec());
        let back: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        assert_eq!(back, samples);
    }

    /// RF64 laid out as EBU Tech 3306 says, parsed here field by field.
    #[test]
    fn over_the_limit_is_rf64() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.wav");
        let samples = vec![5i16; 300];
        write(&path, &samples, 100);
        let b = std::fs::read(&path).unwrap();
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        assert_eq!(&b[0..4], b"RF64");
        assert_eq!(u32_at(4), u32::MAX);
        assert_eq!(&b[8..16], b"WAVEds64");
        assert_eq!(u32_at(16), 28);
        assert_eq!(u64_at(20), b.len() as u64 - 8);
        assert_eq!(u64_at(28), 600);
        assert_eq!(u64_at(36), 300);
        assert_eq!(&b[48..52], b"fmt ");
        assert_eq!(u32_at(60), 22_050);
        assert_eq!(&b[72..76], b"data");
        assert_eq!(u32_at(76), u32::MAX);
        assert_eq!(b.len(), 80 + 600);
        assert!(b[80..].chunks(2).all(|p| p == [5, 0]));
    }

    #[test]
    fn a_short_stream_is_an_error_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.wav");
        let mut enc = Box::new(WavEncoder::create(&path, 8_000, 10, u64::MAX).unwrap());
        enc.write(&[1, 2, 3]).unwrap();
        assert!(enc.finish().is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
