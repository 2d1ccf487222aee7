//! Resampling mono 16-bit PCM from one fixed rate to another with rubato's
//! FFT resampler: the embedded engine's 22 050 Hz output, and cloud audio
//! requested at the documented rate nearest above the job's.

use std::sync::Mutex;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use super::{ErrorClass, ProviderError};

/// Resampler chunk: small enough for short clips, large enough to be efficient.
const RESAMPLE_CHUNK: usize = 1024;

/// FFT resamplers for one fixed ratio. Building one is costly and using one
/// needs `&mut`, so concurrent calls each borrow one from the pool.
pub(crate) struct ResamplerPool {
    from: u32,
    to: u32,
    idle: Mutex<Vec<Fft<f32>>>,
}

impl ResamplerPool {
    pub(crate) fn new(from: u32, to: u32) -> Result<Self, ProviderError> {
        let pool = ResamplerPool {
            from,
            to,
            idle: Mutex::new(Vec::new()),
        };
        // Build one now so a bad rate fails at construction.
        let first = pool.build()?;
        pool.give_back(first);
        Ok(pool)
    }

    fn build(&self) -> Result<Fft<f32>, ProviderError> {
        Fft::<f32>::new(
            self.from as usize,
            self.to as usize,
            RESAMPLE_CHUNK,
            1,
            FixedSync::Both,
        )
        .map_err(|e| {
            permanent(format!(
                "resampling {} Hz to {} Hz: {e}",
                self.from, self.to
            ))
        })
    }

    fn take(&self) -> Result<Fft<f32>, ProviderError> {
        let pooled = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        match pooled {
            Some(r) => Ok(r),
            None => self.build(),
        }
    }

    fn give_back(&self, resampler: Fft<f32>) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(resampler);
        }
    }

    /// Resamples a whole clip; `process_all` resets the resampler and trims
    /// its delay, so the output lines up with the input and is deterministic.
    pub(crate) fn resample(&self, pcm: &[i16]) -> Result<Vec<i16>, ProviderError> {
        let input: Vec<f32> = pcm.iter().map(|&s| f32::from(s) / 32768.0).collect();
        let adapter = InterleavedSlice::new(&input, 1, input.len())
            .map_err(|e| permanent(format!("resampling: {e}")))?;
        let mut resampler = self.take()?;
        let result = resampler.process_all(&adapter, input.len(), None);
        self.give_back(resampler);
        let output = result.map_err(|e| permanent(format!("resampling: {e}")))?;
        Ok(output.take_data().into_iter().map(to_i16).collect())
    }
}

fn to_i16(x: f32) -> i16 {
    (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

impl ResamplerPool {
    /// The rate the pool resamples to.
    pub(crate) fn to_rate(&self) -> u32 {
        self.to
    }
}

impl std::fmt::Debug for ResamplerPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResamplerPool({} Hz -> {} Hz)", self.from, self.to)
    }
}

fn permanent(message: String) -> ProviderError {
    ProviderError::new(ErrorClass::Permanent, message)
}
