//! Measuring a stream of audio as it goes by, in constant memory: integrated
//! loudness (EBU R128 through the `ebur128` crate, in histogram mode), RMS,
//! sample peak, true peak (4x oversampled, as BS.1770 does it), the noise
//! floor (the RMS of the quietest half second, as ACX measures it) and the
//! room before the first and after the last speech. The same meter measures
//! a render's output, its MP3 and M4B files as decoded, and the files
//! `audiobook check` is given.

use ebur128::{EbuR128, Mode};
use serde::{Deserialize, Serialize};

use crate::audio::decode::{self, DecodeError};
use crate::audio::edges::SpeechDetector;

/// What digital silence reads, in dB: the log of zero, floored.
pub const SILENCE_DB: f64 = -120.0;
/// Speech is above this for head and tail room: well over a -60 dB noise
/// floor, well under any spoken word.
pub const SPEECH_DB: f64 = -50.0;
/// The noise floor is the RMS of the quietest window of this length.
const FLOOR_WINDOW_MS: u64 = 500;
/// ...sliding in steps of this.
const FLOOR_STEP_MS: u64 = 100;

/// Everything measured of one file. Levels in dB relative to full scale
/// (a full-scale sine has an RMS of -3 dB), loudness in LUFS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub samples: u64,
    pub sample_rate: u32,
    pub duration_secs: f64,
    pub lufs: f64,
    pub rms_db: f64,
    pub peak_db: f64,
    pub true_peak_db: f64,
    pub noise_floor_db: f64,
    pub head_secs: f64,
    pub tail_secs: f64,
}

/// Decibels of an amplitude ratio, floored at [`SILENCE_DB`].
pub fn db(amplitude: f64) -> f64 {
    if amplitude > 0.0 {
        (20.0 * amplitude.log10()).max(SILENCE_DB)
    } else {
        SILENCE_DB
    }
}

/// Measures interleaved frames fed in order.
pub struct Meter {
    ebu: EbuR128,
    channels: usize,
    sample_rate: u32,
    frames: u64,
    sum_sq: f64,
    peak: f32,
    floor: NoiseFloor,
    speech: SpeechDetector,
    scratch: Vec<f32>,
}

impl Meter {
    /// A meter of everything (`full`), or of loudness and RMS only (the
    /// first mastering pass, which needs nothing else).
    pub fn new(sample_rate: u32, channels: u32, full: bool) -> Meter {
        let mode = if full {
            Mode::I | Mode::SAMPLE_PEAK | Mode::TRUE_PEAK | Mode::HISTOGRAM
        } else {
            Mode::I | Mode::HISTOGRAM
        };
        Meter {
            // Rates and channel counts come from a checked job or a WAV
            // header; ebur128 takes every rate from 16 Hz up and 1..=64
            // channels, which `check` verifies before it gets here.
            ebu: EbuR128::new(channels, sample_rate, mode)
                .unwrap_or_else(|_| EbuR128::new(1, 48_000, mode).expect("a valid mode")),
            channels: channels as usize,
            sample_rate,
            frames: 0,
            sum_sq: 0.0,
            peak: 0.0,
            floor: NoiseFloor::new(sample_rate),
            speech: SpeechDetector::new(sample_rate, SPEECH_DB),
            scratch: Vec::new(),
        }
    }

    /// Mono 16-bit samples.
    pub fn add_i16(&mut self, block: &[i16]) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend(block.iter().map(|&s| f32::from(s) / 32_768.0));
        self.add_f32(&scratch);
        self.scratch = scratch;
    }

    /// Interleaved frames in full scale (-1..=1).
    pub fn add_f32(&mut self, frames: &[f32]) {
        // Only errors on a mode without loudness, which `new` never makes.
        let _ = self.ebu.add_frames_f32(frames);
        for frame in frames.chunks_exact(self.channels) {
            let mut frame_sq = 0.0f64;
            let mut level = 0.0f32;
            for &s in frame {
                frame_sq += f64::from(s) * f64::from(s);
                level = level.max(s.abs());
            }
            self.sum_sq += frame_sq;
            self.peak = self.peak.max(level);
            self.floor.push(frame_sq / self.channels as f64);
            self.speech.push(level);
        }
        self.frames += (frames.len() / self.channels) as u64;
    }

    pub fn finish(self) -> Measurement {
        let samples = self.frames;
        let secs = |n: u64| n as f64 / f64::from(self.sample_rate);
        let ms = if samples == 0 {
            0.0
        } else {
            self.sum_sq / (samples as f64 * self.channels as f64)
        };
        let true_peak = (0..self.channels as u32)
            .filter_map(|c| self.ebu.true_peak(c).ok())
            .fold(f64::from(self.peak), f64::max);
        let speech = self.speech.finish();
        Measurement {
            samples,
            sample_rate: self.sample_rate,
            duration_secs: secs(samples),
            lufs: self
                .ebu
                .loudness_global()
                .ok()
                .filter(|l| l.is_finite())
                .map_or(SILENCE_DB, |l| l.max(SILENCE_DB)),
            rms_db: db(ms.sqrt()),
            peak_db: db(f64::from(self.peak)),
            true_peak_db: db(true_peak),
            noise_floor_db: db(self.floor.finish().sqrt()),
            head_secs: secs(speech.head()),
            tail_secs: secs(speech.tail()),
        }
    }
}

/// Everything measured of an audio file (WAV, FLAC, MP3, M4B), decoded as
/// a stream at its own rate, every channel as the file holds it.
pub fn measure_file(path: &std::path::Path) -> Result<Measurement, DecodeError> {
    let meter = decode::decode(
        path,
        |spec| Meter::new(spec.sample_rate, spec.channels, true),
        |meter, frames| meter.add_f32(frames),
    )?;
    Ok(meter.finish())
}

/// The quietest half second's mean square, from 100 ms steps.
struct NoiseFloor {
    step: u64,
    in_step: u64,
    step_sum: f64,
    recent: std::collections::VecDeque<f64>,
    per_window: usize,
    quietest: Option<f64>,
    total: f64,
    count: u64,
}

impl NoiseFloor {
    fn new(sample_rate: u32) -> NoiseFloor {
        NoiseFloor {
            step: (u64::from(sample_rate) * FLOOR_STEP_MS / 1000).max(1),
            in_step: 0,
            step_sum: 0.0,
            recent: std::collections::VecDeque::new(),
            per_window: (FLOOR_WINDOW_MS / FLOOR_STEP_MS) as usize,
            quietest: None,
            total: 0.0,
            count: 0,
        }
    }

    #[inline]
    fn push(&mut self, mean_sq: f64) {
        self.step_sum += mean_sq;
        self.total += mean_sq;
        self.count += 1;
        self.in_step += 1;
        if self.in_step == self.step {
            self.recent.push_back(self.step_sum);
            if self.recent.len() > self.per_window {
                self.recent.pop_front();
            }
            if self.recent.len() == self.per_window {
                let window =
                    self.recent.iter().sum::<f64>() / (self.step * self.per_window as u64) as f64;
                self.quietest = Some(self.quietest.map_or(window, |q| q.min(window)));
            }
            self.in_step = 0;
            self.step_sum = 0.0;
        }
    }

    /// A file shorter than the window: its whole mean square.
    fn finish(&self) -> f64 {
        match self.quietest {
            Some(q) => q,
            None if self.count > 0 => self.total / self.count as f64,
            None => 0.0,
        }
    }
}

/// A file made of consecutive parts (the book of its chapters), from the
/// parts' measurements: durations and room add up, peaks and the floor are
/// the extremes, RMS is exact, and loudness is the parts' energy-weighted
/// mean (exact when, as after mastering, every part is at one loudness).
pub fn combine(parts: &[Measurement]) -> Option<Measurement> {
    let first = parts.first()?;
    let last = parts.last()?;
    let samples: u64 = parts.iter().map(|m| m.samples).sum();
    let weighted = |value: fn(&Measurement) -> f64| {
        let energy: f64 = parts
            .iter()
            .map(|m| m.samples as f64 * 10f64.powf(value(m) / 10.0))
            .sum();
        10.0 * (energy / samples.max(1) as f64).log10()
    };
    let max = |value: fn(&Measurement) -> f64| parts.iter().map(value).fold(SILENCE_DB, f64::max);
    Some(Measurement {
        samples,
        sample_rate: first.sample_rate,
        duration_secs: samples as f64 / f64::from(first.sample_rate),
        lufs: weighted(|m| m.lufs).max(SILENCE_DB),
        rms_db: weighted(|m| m.rms_db).max(SILENCE_DB),
        peak_db: max(|m| m.peak_db),
        true_peak_db: max(|m| m.true_peak_db),
        noise_floor_db: parts
            .iter()
            .map(|m| m.noise_floor_db)
            .fold(f64::INFINITY, f64::min),
        head_secs: first.head_secs,
        tail_secs: last.tail_secs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, freq: f64, amplitude: f64, secs: f64) -> Vec<i16> {
        let n = (f64::from(rate) * secs) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                (amplitude * 32_767.0 * (2.0 * std::f64::consts::PI * freq * t).sin()).round()
                    as i16
            })
            .collect()
    }

    #[test]
    fn a_sine_between_silences_measures_as_the_maths_says() {
        let rate = 24_000;
        let mut s = vec![0i16; 12_000];
        s.extend(sine(rate, 1_000.0, 0.5, 4.0));
        s.extend(vec![0i16; 48_000]);
        let mut meter = Meter::new(rate, 1, true);
        for block in s.chunks(1_000) {
            meter.add_i16(block);
        }
        let m = meter.finish();
        assert_eq!(m.samples, 156_000);
        assert!((m.peak_db - db(0.5)).abs() < 0.01, "{m:?}");
        // The true peak of a 1 kHz sine at 24 kHz is its amplitude.
        assert!((m.true_peak_db - db(0.5)).abs() < 0.1, "{m:?}");
        // RMS: a sine's is amplitude/sqrt(2), over 4 of 6.5 seconds.
        let rms = 0.5 / 2f64.sqrt() * (4.0f64 / 6.5).sqrt();
        assert!((m.rms_db - db(rms)).abs() < 0.01, "{m:?}");
        assert_eq!(m.noise_floor_db, SILENCE_DB);
        assert!((m.head_secs - 0.5).abs() < 0.001, "{m:?}");
        assert!((m.tail_secs - 2.0).abs() < 0.001, "{m:?}");
        // BS.1770 is calibrated so a 1 kHz sine reads its RMS in LUFS; the
        // silence is gated out.
        assert!((m.lufs - db(0.5 / 2f64.sqrt())).abs() < 0.3, "{m:?}");
    }

    #[test]
    fn combining_parts_keeps_rms_exact() {
        let a = Measurement {
            samples: 100,
            sample_rate: 10,
            duration_secs: 10.0,
            lufs: -20.0,
            rms_db: -20.0,
            peak_db: -3.0,
            true_peak_db: -2.9,
            noise_floor_db: -70.0,
            head_secs: 0.5,
            tail_secs: 2.0,
        };
        let b = Measurement {
            samples: 300,
            rms_db: -30.0,
            peak_db: -6.0,
            head_secs: 0.7,
            tail_secs: 3.0,
            noise_floor_db: -80.0,
            ..a.clone()
        };
        let book = combine(&[a, b]).unwrap();
        let want = db(((100.0 * 0.01 + 300.0 * 0.001) / 400.0f64).sqrt());
        assert!((book.rms_db - want).abs() < 1e-9);
        assert_eq!((book.peak_db, book.noise_floor_db), (-3.0, -80.0));
        assert_eq!((book.head_secs, book.tail_secs), (0.5, 3.0));
        assert_eq!(book.samples, 400);
    }
}
