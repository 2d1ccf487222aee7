//! Streaming sample-rate conversion for the encoders that need 44.1 kHz
//! (MP3 for ACX, AAC in M4B), with rubato's FFT resampler: blocks in,
//! blocks out, memory fixed whatever the length. The output is exactly
//! `round(n × to / from)` samples for `n` in, with the resampler's delay
//! removed, so durations and chapter marks line up with the source.

use anyhow::{Context, Result};
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

/// Input frames per resampler call.
const CHUNK: usize = 4096;

pub struct Resample {
    inner: Fft<f32>,
    from: u32,
    to: u32,
    /// Input waiting for a full chunk.
    pending: Vec<f32>,
    out: Vec<f32>,
    block: Vec<i16>,
    /// Output samples of the resampler's delay still to drop.
    skip: usize,
    fed: u64,
    emitted: u64,
}

impl Resample {
    pub fn new(from: u32, to: u32) -> Result<Self> {
        let inner = Fft::<f32>::new(from as usize, to as usize, CHUNK, 1, FixedSync::Input)
            .with_context(|| format!("resampling {from} Hz to {to} Hz"))?;
        let skip = inner.output_delay();
        let out = vec![0.0; inner.output_frames_max()];
        Ok(Resample {
            inner,
            from,
            to,
            pending: Vec::with_capacity(CHUNK),
            out,
            block: Vec::new(),
            skip,
            fed: 0,
            emitted: 0,
        })
    }

    /// The output length for `n` input samples.
    pub fn output_len(from: u32, to: u32, n: u64) -> u64 {
        (n * u64::from(to) + u64::from(from) / 2) / u64::from(from)
    }

    pub fn push(
        &mut self,
        samples: &[i16],
        sink: &mut dyn FnMut(&[i16]) -> Result<()>,
    ) -> Result<()> {
        self.fed += samples.len() as u64;
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (CHUNK - self.pending.len()).min(rest.len());
            self.pending
                .extend(rest[..take].iter().map(|&s| f32::from(s) / 32768.0));
            rest = &rest[take..];
            if self.pending.len() == CHUNK {
                self.process(CHUNK, sink)?;
            }
        }
        Ok(())
    }

    /// Flushes the tail: silence goes in until every output sample the
    /// input owes has come out.
    pub fn finish(&mut self, sink: &mut dyn FnMut(&[i16]) -> Result<()>) -> Result<()> {
        let want = Self::output_len(self.from, self.to, self.fed);
        // The delay is a few chunks at most; the bound only guards a bug.
        for _ in 0..64 {
            if self.emitted >= want {
                return Ok(());
            }
            let real = self.pending.len();
            self.pending.resize(CHUNK, 0.0);
            self.process(real, sink)?;
        }
        anyhow::bail!(
            "the resampler did not drain ({} of {want} samples)",
            self.emitted
        )
    }

    fn process(&mut self, real: usize, sink: &mut dyn FnMut(&[i16]) -> Result<()>) -> Result<()> {
        let frames_out = self.out.len();
        let input =
            InterleavedSlice::new(&self.pending[..], 1, CHUNK).context("resampler input buffer")?;
        let mut output = InterleavedSlice::new_mut(&mut self.out[..], 1, frames_out)
            .context("resampler output buffer")?;
        let indexing = Indexing::new().partial_len(real);
        let (_, produced) = self
            .inner
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .context("resampling")?;
        self.pending.clear();
        let dropped = self.skip.min(produced);
        self.skip -= dropped;
        let want = Self::output_len(self.from, self.to, self.fed);
        let usable = ((produced - dropped) as u64).min(want.saturating_sub(self.emitted)) as usize;
        self.block.clear();
        self.block.extend(
            self.out[dropped..dropped + usable]
                .iter()
                .map(|&x| (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16),
        );
        self.emitted += usable as u64;
        if !self.block.is_empty() {
            sink(&self.block)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(from: u32, to: u32, input: &[i16], block: usize) -> Vec<i16> {
        let mut r = Resample::new(from, to).unwrap();
        let mut out = Vec::new();
        let mut sink = |b: &[i16]| {
            out.extend_from_slice(b);
            Ok(())
        };
        for chunk in input.chunks(block) {
            r.push(chunk, &mut sink).unwrap();
        }
        r.finish(&mut sink).unwrap();
        out
    }

    #[test]
    fn length_is_exact_and_a_tone_keeps_its_place() {
        // A 1 kHz tone burst from 0.5 s to 1.0 s at 24 kHz.
        let n = 36_017;
        let input: Vec<i16> = (0..n)
            .map(|i| {
                let t = i as f64 / 24_000.0;
                if (0.5..1.0).contains(&t) {
                    (10_000.0 * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()) as i16
                } else {
                    0
                }
            })
            .collect();
        let out = run(24_000, 44_100, &input, 1_000);
        assert_eq!(
            out.len() as u64,
            Resample::output_len(24_000, 44_100, n as u64)
        );
        // Energy before 0.49 s and after 1.01 s is negligible; the burst is
        // where it was (the delay was removed).
        let energy = |a: f64, b: f64| -> f64 {
            out[(a * 44_100.0) as usize..(b * 44_100.0) as usize]
                .iter()
                .map(|&s| f64::from(s).powi(2))
                .sum::<f64>()
        };
        assert!(energy(0.0, 0.49) < 1e-3 * energy(0.5, 1.0));
        assert!(energy(1.01, 1.49) < 1e-3 * energy(0.5, 1.0));
        let peak = out.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((9_000..=11_000).contains(&peak), "{peak}");
    }

    #[test]
    fn short_and_empty_inputs() {
        assert!(run(24_000, 44_100, &[], 10).is_empty());
        assert_eq!(run(16_000, 44_100, &[100; 5], 2).len(), 14);
    }
}
