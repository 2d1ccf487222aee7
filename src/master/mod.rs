//! The mastering stage: a chapter's stitched stream brought to the job's
//! profile in two passes over the stream, in constant memory whatever the
//! book's length. The first pass measures (loudness or RMS); one gain per
//! chapter brings it to the target; the second pass applies the gain, adds
//! room tone if asked, runs the true-peak limiter, and hands 16-bit blocks
//! to the sinks (chapter file, its place in the book file, and later the
//! encoders) while measuring the result for the QA ([`qa`]).
//!
//! Every pass reads its stream a few blocks ahead on another core
//! ([`crate::audio::read_ahead`]), so decoding the clips and mastering run
//! at once. Deterministic: the samples arrive in order whatever the threads
//! do, the operations have a fixed order and room tone a fixed seed, so a
//! rerun writes the same bytes.

pub mod limiter;
pub mod meter;
pub mod qa;

use crate::audio::{AudioError, PcmSink};
use crate::job::{Master, Target};
pub use meter::{Measurement, Meter};

/// The most one chapter's gain moves it, either way: a chapter quieter
/// than this is not speech worth raising to the target.
const MAX_GAIN_DB: f64 = 40.0;
// What the layout leaves in a chapter's head and tail room must stay under
// the QA's speech threshold at the largest gain.
const _: () = assert!(crate::audio::edges::INAUDIBLE_DB + MAX_GAIN_DB <= meter::SPEECH_DB);
/// Room tone's seed: the same noise on every run.
const ROOM_TONE_SEED: u64 = 0x5eed_a0d1_0b00_c0de;
/// Samples mastered per block.
const BLOCK: usize = 16 * 1024;

/// How one job's chapters are mastered.
#[derive(Debug, Clone, Copy)]
pub struct Mastering {
    pub sample_rate: u32,
    pub master: Master,
    /// dB the limiter holds under the ceiling beyond its own margin: room
    /// for a lossy encoder that raised a peak over the ceiling (the
    /// delivery stage encodes such a file again with it).
    pub codec_room_db: f64,
}

impl Mastering {
    pub fn new(sample_rate: u32, master: Master) -> Mastering {
        Mastering {
            sample_rate,
            master,
            codec_room_db: 0.0,
        }
    }

    /// The first pass: the chapter's gain in dB, from reading the stream
    /// that `open` starts (once, or twice when the limiter will take some
    /// of the loudness: then the gain is measured again through it and
    /// corrected, so the delivered file lands on the target). No target
    /// (profile `none`): 0 dB without reading anything.
    pub fn gain_db<R>(&self, mut open: impl FnMut() -> R) -> Result<f64, AudioError>
    where
        R: FnMut(&mut [i16]) -> Result<usize, AudioError> + Send,
    {
        let Some(target) = self.master.target else {
            return Ok(0.0);
        };
        let off_target = |m: &Measurement| match target {
            Target::Lufs(lufs) => (m.lufs > meter::SILENCE_DB).then_some(lufs - m.lufs),
            Target::RmsDb(rms) => (m.rms_db > meter::SILENCE_DB).then_some(rms - m.rms_db),
        };
        let metered = |gain, limit, read| {
            let mut meter = Meter::new(self.sample_rate, 1, false);
            self.run(gain, limit, Some(&mut meter), read, &mut [])?;
            Ok::<_, AudioError>(meter.finish())
        };
        let plain = metered(0.0, false, open())?;
        let Some(first) = off_target(&plain) else {
            return Ok(0.0);
        };
        let first = first.clamp(-MAX_GAIN_DB, MAX_GAIN_DB);
        let limits = self
            .master
            .ceiling_db
            .is_some_and(|ceiling| plain.peak_db + first > ceiling - limiter::MARGIN_DB);
        if !limits {
            return Ok(first);
        }
        let limited = metered(first, true, open())?;
        let correction = off_target(&limited).unwrap_or(0.0);
        Ok((first + correction).clamp(-MAX_GAIN_DB, MAX_GAIN_DB))
    }

    /// The second pass: applies `gain_db`, room tone and the limiter to
    /// the stream and writes it to every sink; returns the measurement of
    /// exactly what was written.
    pub fn apply(
        &self,
        gain_db: f64,
        read: impl FnMut(&mut [i16]) -> Result<usize, AudioError> + Send,
        sinks: &mut [&mut dyn PcmSink],
    ) -> Result<Measurement, AudioError> {
        let mut meter = Meter::new(self.sample_rate, 1, true);
        self.run(gain_db, true, Some(&mut meter), read, sinks)?;
        Ok(meter.finish())
    }

    /// The second pass again, measuring nothing: the same samples as
    /// [`Mastering::apply`] into the sinks, for a stream already measured
    /// (the delivery stage's encoders), without the meter's cost.
    pub fn play(
        &self,
        gain_db: f64,
        read: impl FnMut(&mut [i16]) -> Result<usize, AudioError> + Send,
        sinks: &mut [&mut dyn PcmSink],
    ) -> Result<(), AudioError> {
        self.run(gain_db, true, None, read, sinks)
    }

    /// Gain, room tone, the limiter (when `limit` and the profile has a
    /// ceiling), 16 bits; into the sinks and the meter, if given. The
    /// stream is read ahead on another thread.
    fn run(
        &self,
        gain_db: f64,
        limit: bool,
        meter: Option<&mut Meter>,
        read: impl FnMut(&mut [i16]) -> Result<usize, AudioError> + Send,
        sinks: &mut [&mut dyn PcmSink],
    ) -> Result<(), AudioError> {
        crate::audio::read_ahead(read, |read| self.run_on(gain_db, limit, meter, read, sinks))
    }

    fn run_on(
        &self,
        gain_db: f64,
        limit: bool,
        mut meter: Option<&mut Meter>,
        read: &mut dyn FnMut(&mut [i16]) -> Result<usize, AudioError>,
        sinks: &mut [&mut dyn PcmSink],
    ) -> Result<(), AudioError> {
        let gain = 10f64.powf(gain_db / 20.0) as f32;
        let mut limiter = self
            .master
            .ceiling_db
            .filter(|_| limit)
            .map(|db| limiter::Limiter::new(self.sample_rate, db - self.codec_room_db));
        let mut room = self.master.room_tone_db.map(RoomTone::new);
        let mut input = vec![0i16; BLOCK];
        let mut scaled = Vec::with_capacity(BLOCK);
        let mut limited = Vec::with_capacity(BLOCK + 1024);
        let mut pcm = Vec::with_capacity(BLOCK + 1024);
        loop {
            let n = read(&mut input)?;
            scaled.clear();
            scaled.extend(input[..n].iter().map(|&s| f32::from(s) / 32_768.0 * gain));
            if let Some(room) = &mut room {
                room.add_to(&mut scaled);
            }
            limited.clear();
            match &mut limiter {
                Some(limiter) if n > 0 => limiter.process(&scaled, &mut limited),
                Some(limiter) => limiter.flush(&mut limited),
                None => limited.extend_from_slice(&scaled),
            }
            pcm.clear();
            pcm.extend(limited.iter().map(|&v| to_i16(v)));
            if let Some(meter) = meter.as_deref_mut() {
                meter.add_i16(&pcm);
            }
            for sink in sinks.iter_mut() {
                sink.put(&pcm).map_err(AudioError::Sink)?;
            }
            if n == 0 {
                break;
            }
        }
        Ok(())
    }
}

/// Full scale to 16 bits, rounded; anything beyond full scale (only ever
/// without a limiter, profile `none`) is held at full scale.
#[inline]
fn to_i16(v: f32) -> i16 {
    (v * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16
}

/// White noise at a given RMS from a fixed seed (xorshift64*), uniform so
/// its peaks are bounded: at -60 dB RMS they stay under -55 dBFS, never
/// taken for speech.
struct RoomTone {
    state: u64,
    amplitude: f32,
}

impl RoomTone {
    fn new(rms_db: f64) -> RoomTone {
        RoomTone {
            state: ROOM_TONE_SEED,
            // A uniform distribution on [-a, a] has an RMS of a/sqrt(3).
            amplitude: (10f64.powf(rms_db / 20.0) * 3f64.sqrt()) as f32,
        }
    }

    fn add_to(&mut self, samples: &mut [f32]) {
        for s in samples {
            self.state ^= self.state >> 12;
            self.state ^= self.state << 25;
            self.state ^= self.state >> 27;
            let bits = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40;
            // 24 random bits to -1..1.
            let unit = bits as f32 / (1u64 << 23) as f32 - 1.0;
            *s += unit * self.amplitude;
        }
    }
}

#[cfg(test)]
mod tests;
