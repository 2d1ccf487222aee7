//! A look-ahead true-peak limiter: keeps every sample, and every peak
//! between samples as a 4x oversampled reading sees it, under the ceiling,
//! without clipping and without pumping.
//!
//! How: each sample's true peak is estimated by 4x polyphase interpolation
//! (Blackman-windowed sinc, 32 taps a phase). The gain a sample needs is
//! `ceiling / peak` (or 1). That need is spread to the interpolator's reach
//! on both sides and held over the look-ahead, then averaged over the
//! look-ahead: the gain glides down over 5 ms before a peak (no click), is
//! flat across it (so the peaks between samples shrink with it), and glides
//! back up with a 80 ms release (no pumping on speech). Each gain is at most
//! what every sample near it needs, so nothing is ever clipped. Everything
//! runs in one thread in a fixed order, so the output is the same bytes on
//! every run.

use std::collections::VecDeque;

/// Half the interpolator's taps: its reach on each side of a sample. A
/// full-scale square wave needs this much to read its peaks between
/// samples within a tenth of a dB of the ideal.
const REACH: usize = 16;
const LOOKAHEAD_MS: f64 = 5.0;
const RELEASE_MS: f64 = 80.0;
/// Head room under the ceiling for the interpolators of other meters,
/// which read inter-sample peaks a little differently.
pub const MARGIN_DB: f64 = 0.2;

pub struct Limiter {
    ceiling: f32,
    /// Below this, no interpolated point can reach the ceiling (see
    /// `need_at_center`).
    quiet: f32,
    /// The input count when the last sample above `quiet` came in.
    last_loud: Option<u64>,
    /// Interpolation coefficients for the points 1/4, 2/4, 3/4 of the way
    /// from sample n to n+1, over samples n-REACH+1..=n+REACH.
    phases: [[f32; 2 * REACH]; 3],
    /// The last 2*REACH inputs, for the interpolator.
    history: VecDeque<f32>,
    /// Inputs waiting for their gain.
    delayed: VecDeque<f32>,
    /// Index of the next input, and of the next need to be computed.
    inputs: u64,
    needs: u64,
    /// Sliding minimum of needs (index, need), increasing values.
    window: VecDeque<(u64, f32)>,
    width: u64,
    lookahead: usize,
    /// The last `lookahead` held needs and their sum.
    held: VecDeque<f32>,
    held_sum: f64,
    gain: f32,
    release: f32,
    emitted: u64,
}

impl Limiter {
    /// A limiter at `ceiling_db` dBFS (less [`MARGIN_DB`]).
    pub fn new(sample_rate: u32, ceiling_db: f64) -> Limiter {
        let lookahead = ((f64::from(sample_rate) * LOOKAHEAD_MS / 1000.0).round() as usize).max(1);
        let release_samples = f64::from(sample_rate) * RELEASE_MS / 1000.0;
        let ceiling = 10f64.powf((ceiling_db - MARGIN_DB) / 20.0);
        let phases = [0.25, 0.5, 0.75].map(interpolation_taps);
        // An interpolated point is at most the sum of its taps' sizes times
        // the largest sample it reads (and the sample itself at most that
        // sample), so while every sample in reach is under ceiling / that
        // sum, the need is exactly 1 and the taps need not run. A thousandth
        // more keeps f32 rounding on the safe side.
        let reach = phases
            .iter()
            .map(|p| p.iter().map(|c| f64::from(c.abs())).sum::<f64>())
            .fold(1.0, f64::max);
        Limiter {
            ceiling: ceiling as f32,
            quiet: (ceiling / (reach * 1.001)) as f32,
            last_loud: None,
            phases,
            history: VecDeque::from(vec![0.0; 2 * REACH]),
            delayed: VecDeque::new(),
            inputs: 0,
            needs: 0,
            window: VecDeque::new(),
            width: (lookahead + 2 * REACH) as u64,
            lookahead,
            held: VecDeque::from(vec![1.0; lookahead]),
            held_sum: lookahead as f64,
            gain: 1.0,
            release: (1.0 - (-1.0 / release_samples).exp()) as f32,
            emitted: 0,
        }
    }

    /// The same limiter computing every sample's need in full.
    #[cfg(test)]
    pub(super) fn without_shortcut(mut self) -> Limiter {
        self.quiet = 0.0;
        self
    }

    /// Takes `input`, appends to `out` whatever is ready: the output runs
    /// `lookahead + 2 * REACH - 1` samples behind the input.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        for &x in input {
            self.push(x, out);
        }
    }

    /// Pushes silence through until every real input has come out.
    pub fn flush(&mut self, out: &mut Vec<f32>) {
        let real = self.inputs;
        while self.emitted < real {
            self.push(0.0, out);
        }
        self.delayed.clear();
    }

    #[inline]
    fn push(&mut self, x: f32, out: &mut Vec<f32>) {
        self.delayed.push_back(x);
        self.history.pop_front();
        self.history.push_back(x);
        self.inputs += 1;
        if x.abs() > self.quiet {
            self.last_loud = Some(self.inputs);
        }
        // The need of the sample REACH back: its neighbours on both sides
        // are in `history` now (the first ones are the zeros before it).
        if self.inputs > REACH as u64 {
            let loud_in_reach = self
                .last_loud
                .is_some_and(|at| at + 2 * REACH as u64 > self.inputs);
            let need = if loud_in_reach {
                self.need_at_center()
            } else {
                1.0
            };
            self.add_need(need, out);
        }
    }

    /// True peak around the sample at history[REACH - 1] (between it and
    /// the next) and the gain it needs.
    #[inline]
    fn need_at_center(&self) -> f32 {
        let (a, b) = self.history.as_slices();
        let mut taps = [0f32; 2 * REACH];
        taps[..a.len()].copy_from_slice(a);
        taps[a.len()..].copy_from_slice(b);
        let mut peak = taps[REACH - 1].abs();
        for phase in &self.phases {
            let v: f32 = phase.iter().zip(&taps).map(|(c, x)| c * x).sum();
            peak = peak.max(v.abs());
        }
        if peak > self.ceiling {
            self.ceiling / peak
        } else {
            1.0
        }
    }

    fn add_need(&mut self, need: f32, out: &mut Vec<f32>) {
        let index = self.needs;
        self.needs += 1;
        while self.window.back().is_some_and(|&(_, v)| v >= need) {
            self.window.pop_back();
        }
        self.window.push_back((index, need));
        while self
            .window
            .front()
            .is_some_and(|&(i, _)| i + self.width <= index)
        {
            self.window.pop_front();
        }
        // The minimum of the needs index-width+1..=index is what sample
        // k = index - lag needs for every sample within REACH of it over the
        // look-ahead that follows it.
        let held = self.window.front().map_or(1.0, |&(_, v)| v);
        self.held_sum += f64::from(held) - f64::from(self.held.pop_front().unwrap_or(1.0));
        self.held.push_back(held);
        let lag = self.width - REACH as u64 - 1;
        if index < lag {
            return;
        }
        // The mean of the last `lookahead` held needs: every one of them
        // covers sample k and its neighbours, so the mean is at most what
        // they need, and it glides.
        let smooth = (self.held_sum / self.lookahead as f64) as f32;
        let rising = self.gain + (1.0 - self.gain) * self.release;
        self.gain = smooth.min(rising);
        if let Some(x) = self.delayed.pop_front() {
            out.push(x * self.gain);
            self.emitted += 1;
        }
    }
}

/// Windowed-sinc taps for the point `frac` of the way from sample n to
/// n+1, over samples n-REACH+1..=n+REACH, normalised to unity gain.
fn interpolation_taps(frac: f64) -> [f32; 2 * REACH] {
    let mut taps = [0f64; 2 * REACH];
    for (k, tap) in taps.iter_mut().enumerate() {
        let t = k as f64 - (REACH as f64 - 1.0) - frac;
        let sinc = if t == 0.0 {
            1.0
        } else {
            (std::f64::consts::PI * t).sin() / (std::f64::consts::PI * t)
        };
        // Blackman window over the span.
        let x = std::f64::consts::PI * t / (REACH as f64 + 0.5);
        let w = 0.42 + 0.5 * x.cos() + 0.08 * (2.0 * x).cos();
        *tap = sinc * w;
    }
    let sum: f64 = taps.iter().sum();
    taps.map(|t| (t / sum) as f32)
}
