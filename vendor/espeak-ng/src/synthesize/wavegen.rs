//! Harmonic additive waveform synthesizer — port of `wavegen.c`.
//!
//! Implements [`wavegen_segment`] (single inter-frame transition) and
//! [`synthesize_frames`] (full [`SpectSeq`] → raw `i32` samples).
//!
//! [`SpectSeq`]: super::phondata::SpectSeq
//
// ## Algorithm
//
// eSpeak NG uses *additive harmonic synthesis* to generate audio from formant
// data.  The key steps (mirroring `Wavegen()` + `PeaksToHarmspect()` in the C
// source) are:
//
//   1. For each pair of consecutive spectral frames (fr1, fr2) covering `length`
//      samples:
//      a. Compute formant peaks from the frame (ffreq, fheight, fwidth).
//      b. Build a harmonic spectrum table (`htab`) using `PeaksToHarmspect`:
//         for every harmonic h=1…hmax, sum the contributions from all peaks
//         using the peak-shape table.
//      c. Every STEPSIZE (64) samples, re-interpolate fr1→fr2 and rebuild htab.
//      d. For each sample: sum sin_tab[h·waveph >> 5] * htab[h] over all
//         harmonics.  `waveph` is the current oscillator phase (u16, wrapping).
//
//   2. The glottal oscillator: `wavephase` (i32) starts at i32::MAX and
//      increments by `phaseinc` each sample.  When it crosses zero from
//      positive→negative, that is the "quiet point" of the waveform cycle.
//      `waveph = (wavephase >> 16) as u16` gives the phase in [0, 65535].
//
//   3. Unvoiced phonemes use white noise instead of (or mixed with) the
//      harmonic source.
//
// References: wavegen.c (Wavegen, SetSynth, PeaksToHarmspect, WavegenInit)

use super::phondata::SpectFrame;
use super::VoiceParams;

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

/// Maximum harmonic count.  C uses 400 but we cap at 200 for speed.
pub const MAX_HARMONIC: usize = 200;

/// Harmonics below this index are interpolated between STEPSIZE steps.
const N_LOWHARM: usize = 30;

/// Coefficient update interval (samples).  Matches espeak-ng's `STEPSIZE`.
pub const STEPSIZE: usize = 64;

/// Phase increment factor.  C: `0x8000000 / samplerate`.
/// For 22050 Hz: 134217728 / 22050 = 6088 (approx).
const PHASE_INC_FACTOR: i32 = 6088;

// ---------------------------------------------------------------------------
// sin_tab — copied verbatim from sintab.h (2048 entries)
// ---------------------------------------------------------------------------

include!("sintab_data.rs");

// ---------------------------------------------------------------------------
// Peak-shape lookup tables
// ---------------------------------------------------------------------------

/// Peak shape table 1, C's `pk_shape1[257]` (wavegen.c).
///
/// audiobook patch (PATCHES.md #4): C plays this shape unless a voice file
/// asks for squarer peaks (`formantshape` above 4, `peak_shape = 1`, which
/// selects `pk_shape2`); no voice we ship does, and the port never parsed that
/// keyword. The port used `pk_shape2` always: peaks whose skirts stop at half
/// the width, so each formant excited fewer harmonics than in C.
static PK_SHAPE1: [u8; 257] = [
    255, 254, 254, 254, 254, 254, 253, 253, 252, 251, 251, 250, 249, 248, 247, 246,
    245, 244, 242, 241, 239, 238, 236, 234, 233, 231, 229, 227, 225, 223, 220, 218,
    216, 213, 211, 209, 207, 205, 203, 201, 199, 197, 195, 193, 191, 189, 187, 185,
    183, 180, 178, 176, 173, 171, 169, 166, 164, 161, 159, 156, 154, 151, 148, 146,
    143, 140, 138, 135, 132, 129, 126, 123, 120, 118, 115, 112, 108, 105, 102,  99,
     96,  95,  93,  91,  90,  88,  86,  85,  83,  82,  80,  79,  77,  76,  74,  73,
     72,  70,  69,  68,  67,  66,  64,  63,  62,  61,  60,  59,  58,  57,  56,  55,
     55,  54,  53,  52,  52,  51,  50,  50,  49,  48,  48,  47,  47,  46,  46,  46,
     45,  45,  45,  44,  44,  44,  44,  44,  44,  44,  43,  43,  43,  43,  44,  43,
     42,  42,  41,  40,  40,  39,  38,  38,  37,  36,  36,  35,  35,  34,  33,  33,
     32,  32,  31,  30,  30,  29,  29,  28,  28,  27,  26,  26,  25,  25,  24,  24,
     23,  23,  22,  22,  21,  21,  20,  20,  19,  19,  18,  18,  18,  17,  17,  16,
     16,  15,  15,  15,  14,  14,  13,  13,  13,  12,  12,  11,  11,  11,  10,  10,
     10,   9,   9,   9,   8,   8,   8,   7,   7,   7,   7,   6,   6,   6,   5,   5,
      5,   5,   4,   4,   4,   4,   4,   3,   3,   3,   3,   2,   2,   2,   2,   2,
      2,   1,   1,   1,   1,   1,   1,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0
];

/// Wavemult window — Hanning window for HF peak synthesis.
/// Preset for 22050 Hz sample rate; 128 entries (N_WAVEMULT=128).
/// Mirrors `wavemult[N_WAVEMULT]` in wavegen.c.
static WAVEMULT: [u8; 128] = [
      0,   0,   0,   2,   3,   5,   8,  11,  14,  18,  22,  27,  32,  37,  43,  49,
     55,  62,  69,  76,  83,  90,  98, 105, 113, 121, 128, 136, 144, 152, 159, 166,
    174, 181, 188, 194, 201, 207, 213, 218, 224, 228, 233, 237, 240, 244, 246, 249,
    251, 252, 253, 253, 253, 253, 252, 251, 249, 246, 244, 240, 237, 233, 228, 224,
    218, 213, 207, 201, 194, 188, 181, 174, 166, 159, 152, 144, 136, 128, 121, 113,
    105,  98,  90,  83,  76,  69,  62,  55,  49,  43,  37,  32,  27,  22,  18,  14,
     11,   8,   5,   3,   2,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
];

/// Compute wavemult_max for 22050 Hz rate.
/// C: wavemult_max = (samplerate * wavemult_fact) / (256 * 50); wavemult_fact = 60.
const WAVEMULT_MAX: usize = (22050 * 60) / (256 * 50); // = 103

/// Wavemult offset (center of window): wavemult_offset = wavemult_max / 2.
const WAVEMULT_OFFSET: i32 = (WAVEMULT_MAX / 2) as i32; // = 51

// ---------------------------------------------------------------------------
// Voice scale factors (default voice)
// ---------------------------------------------------------------------------

/// Default voice frequency scaling per formant (C: `voice.freq[i]`).
/// 256 = unity scaling.
const VOICE_FREQ: [i32; 9] = [256, 256, 256, 256, 256, 256, 256, 256, 256];

/// Default voice height (amplitude) scaling per formant.
///
/// audiobook patch (PATCHES.md #4): C's `VoiceReset` sets
/// `voice->height[pk] = default_heights[pk] * 2` with
/// `default_heights = {130, 128, 120, 116, 100, 100, 128, 128, 128}`. The port
/// used a quarter of that and made up for it by not applying the tone curve's
/// `>> 13`; the two do not cancel: the low harmonics came out 3 times (10 dB)
/// louder than C's, clipping in every loud vowel, and the high peaks F6-F7
/// (5-8 kHz, whose heights are squared separately) 16 times (24 dB) quieter.
/// Now both are C's, and the levels and the balance with them.
const VOICE_HEIGHT: [i64; 9] = [260, 256, 240, 232, 200, 200, 256, 256, 256];

/// Default voice width scaling per formant.
///
/// audiobook patch (PATCHES.md #2): C's `VoiceReset` (voices.c, 1.47 to
/// today) sets `voice->width[pk] = default_widths[pk] * 2` with
/// `default_widths = {140, 128, 128, 160, 171, 171, …}`, then widens F0 by
/// 5 %. The port had `{48, 40, 40, 40, 40, 40}` × 2, peaks about three times
/// too narrow: each formant then excited little more than its nearest
/// harmonic, so voiced sounds came out as a few whistling sine waves (a pitch
/// tracker follows F1 instead of F0) rather than a buzz-rich glottal source.
const VOICE_WIDTH: [i64; 9] = [280 * 105 / 100, 256, 256, 320, 342, 342, 256, 256, 256];

/// Number of formant peaks used for harmonic computation (n_harmonic_peaks).
const N_HARMONIC_PEAKS: usize = 5;

// ---------------------------------------------------------------------------
// Peak struct (mirrors wavegen_peaks_t)
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, Default)]
struct Peak {
    freq:   i64,  // Hz << 16 (fixed point)
    height: i64,  // amplitude (scaled)
    left:   i64,  // left bandwidth
    right:  i64,  // right bandwidth (= left for f3-f5)
}

/// Apply a `+variant`'s per-formant frequency/height/width scaling
/// (`voice.freq[i]` / `voice.height[i]` / `voice.width[i]`, percent) to a frame.
/// Returns a scaled clone; F0–F6 only (the fixed high peaks F7/F8 are added later
/// in `frame_to_peaks`).  A scale of 100 is exact integer identity, so the
/// default path can skip this call entirely.
fn scale_frame_formants(fr: &SpectFrame, voice: &VoiceParams) -> SpectFrame {
    let scale_u8 = |v: u8, pct: i32| (v as i32 * pct / 100).clamp(0, u8::MAX as i32) as u8;
    let mut out = fr.clone();
    // Frequency (ffreq[0..7]).
    for i in 0..7 {
        out.ffreq[i] = (fr.ffreq[i] as i32 * voice.formant_freq_pct[i] / 100)
            .clamp(0, i16::MAX as i32) as i16;
    }
    // Height / amplitude (fheight[0..8]; F7 has no variant entry → unity).
    for i in 0..8 {
        let pct = voice.formant_height_pct.get(i).copied().unwrap_or(100);
        out.fheight[i] = scale_u8(fr.fheight[i], pct);
    }
    // Width / bandwidth (fwidth[0..6], fright[0..3]).
    for i in 0..6 {
        out.fwidth[i] = scale_u8(fr.fwidth[i], voice.formant_width_pct[i]);
    }
    for i in 0..3 {
        out.fright[i] = scale_u8(fr.fright[i], voice.formant_width_pct[i]);
    }
    out
}

/// Convert a `SpectFrame` to a peak array using the default voice scaling.
///
/// Mirrors the `SetSynth()` initialisation in wavegen.c.
fn frame_to_peaks(fr: &SpectFrame) -> [Peak; 9] {
    let mut peaks = [Peak::default(); 9];
    // C runs `for (ix = 0; ix < 8; ix++)`: frequencies for peaks 0–6 come from
    // the frame, but **heights run to peak 7** — `fheight` has eight entries, and
    // peak 7 sits at the fixed 7800 Hz set below.  Stopping the height loop at 6
    // silences that peak and costs ~10 dB above 5 kHz.
    for ix in 0..8 {
        if ix < 7 {
            peaks[ix].freq = (fr.ffreq[ix] as i64 * VOICE_FREQ[ix] as i64) << 8;
        }
        peaks[ix].height = (fr.fheight[ix] as i64 * VOICE_HEIGHT[ix] as i64) << 6;
        if ix <= 5 {
            let width = (fr.fwidth[ix] as i64 * VOICE_WIDTH[ix.min(8)] as i64) << 10;
            peaks[ix].left = width;
            if ix < 3 {
                let rw = (fr.fright[ix] as i64 * VOICE_WIDTH[ix.min(8)] as i64) << 10;
                peaks[ix].right = rw;
            } else {
                peaks[ix].right = width;
            }
        }
    }
    // Peaks 7 and 8 sit at fixed frequencies (C's `SetSynth` hardcodes them).
    // Peak 8's height is never assigned by C either, so it stays silent.
    peaks[7].freq = 7800_i64 << 16;
    peaks[8].freq = 9000_i64 << 16;
    peaks
}

/// Interpolate two peak arrays by factor t ∈ [0, 1].
fn interpolate_peaks(p1: &[Peak; 9], p2: &[Peak; 9], t: f64) -> [Peak; 9] {
    let mut out = [Peak::default(); 9];
    for i in 0..9 {
        out[i].freq   = (p1[i].freq   as f64 + (p2[i].freq   - p1[i].freq)   as f64 * t) as i64;
        out[i].height = (p1[i].height as f64 + (p2[i].height - p1[i].height) as f64 * t) as i64;
        out[i].left   = (p1[i].left   as f64 + (p2[i].left   - p1[i].left)   as f64 * t) as i64;
        out[i].right  = (p1[i].right  as f64 + (p2[i].right  - p1[i].right)  as f64 * t) as i64;
    }
    out
}

// ---------------------------------------------------------------------------
// PeaksToHarmspect — compute harmonic amplitude table
// ---------------------------------------------------------------------------

/// Compute the harmonic amplitude table from formant peaks.
///
/// `pitch_hz16` — fundamental frequency in Hz << 16 (fixed-point).
/// Returns the highest non-zero harmonic index.
///
/// Mirrors `PeaksToHarmspect()` from wavegen.c.
fn peaks_to_harmspect(
    peaks: &[Peak; 9],
    pitch_hz16: i64,
    htab: &mut [i32; MAX_HARMONIC],
    tone_adjust: &[u8; N_TONE_ADJUST],
) -> usize {
    // Zero out the table first
    htab.fill(0);

    if pitch_hz16 <= 0 {
        return 0;
    }

    // Compute hmax: highest harmonic within 95% of Nyquist (22050 Hz)
    let nyquist_limit = (22050_i64 * 19 / 40) << 16; // 95% of Nyquist in Hz<<16
    let hmax_samplerate = (nyquist_limit / pitch_hz16) as usize;
    let hmax = {
        // From the highest peak frequency + its width (N_HARMONIC_PEAKS = wvoice->n_harmonic_peaks)
        let top_peak = &peaks[N_HARMONIC_PEAKS];
        let top_freq = top_peak.freq + top_peak.right;
        let hmax_peak = if pitch_hz16 > 0 { (top_freq / pitch_hz16) as usize } else { 0 };
        hmax_peak.min(hmax_samplerate).min(MAX_HARMONIC - 1)
    };

    // ── Phase 1: Sum formant peak contributions (WITHOUT >>15 — applied later) ──
    // Mirrors: htab[h++] += pk_shape[...] * p->height;  (C does NOT shift here)
    for pk in 0..=N_HARMONIC_PEAKS {
        let p = &peaks[pk];
        if p.height == 0 || p.freq == 0 {
            continue;
        }
        let fp = p.freq;     // centre freq in Hz<<16
        let fhi = fp + p.right;

        // Starting harmonic at the left edge of this peak.  C is
        // `h = ((p->freq - p->left) / pitch) + 1; if (h <= 0) h = 1;` — the
        // `+1` picks the first harmonic *inside* the peak's skirt.
        let h_start = {
            let edge = if p.left > 0 { fp - p.left } else { fp };
            let h = edge / pitch_hz16 + 1;
            if h <= 0 { 1usize } else { h as usize }
        };

        let mut h = h_start;
        let mut f = pitch_hz16 * h as i64;

        // audiobook patch (PATCHES.md #7): the peak-shape index
        // `diff / bw` of C's two loops, kept up to date as `f` steps by
        // `pitch` (quotient and remainder of the step subtracted or added)
        // instead of divided afresh for every harmonic: the same indices,
        // without a 64-bit division per harmonic.
        let add = |htab: &mut [i32; MAX_HARMONIC], h: usize, q: i64| {
            let idx = (q as usize).min(256);
            let contrib = (PK_SHAPE1[idx] as i64 * p.height).min(i32::MAX as i64) as i32;
            htab[h] = htab[h].saturating_add(contrib);
        };
        // Rising slope (below peak centre): `diff = fp - f` falls by `pitch`.
        let bw = p.left >> 8;
        if bw > 0 && f < fp {
            let (step_q, step_r) = (pitch_hz16 / bw, pitch_hz16 % bw);
            let (mut q, mut r) = ((fp - f) / bw, (fp - f) % bw);
            while f < fp && h < MAX_HARMONIC {
                add(htab, h, q);
                h += 1;
                f += pitch_hz16;
                q -= step_q;
                r -= step_r;
                if r < 0 {
                    r += bw;
                    q -= 1;
                }
            }
        } else {
            while f < fp && h < MAX_HARMONIC {
                h += 1;
                f += pitch_hz16;
            }
        }
        // Falling slope (above peak centre): `diff = f - fp` grows by `pitch`.
        let bw = p.right >> 8;
        if bw > 0 && f < fhi {
            let (step_q, step_r) = (pitch_hz16 / bw, pitch_hz16 % bw);
            let (mut q, mut r) = ((f - fp) / bw, (f - fp) % bw);
            while f < fhi && h < MAX_HARMONIC {
                add(htab, h, q);
                h += 1;
                f += pitch_hz16;
                q += step_q;
                r += step_r;
                if r >= bw {
                    r -= bw;
                    q += 1;
                }
            }
        }
    }

    // ── Phase 2: Add bass boost (BEFORE squaring — mirrors C order) ──
    // C: y = peaks[1].height * 10; h2 = (1000<<16)/pitch; x = y/h2; while(y>0){htab[h++]+=y; y-=x;}
    let bass_h = (1000_i64 << 16) / pitch_hz16; // harmonics below 1000 Hz
    if bass_h > 0 {
        // peaks[1].height is in our scaled units (fheight * 4096); convert to C units
        // C: peaks[1].height = fheight * voice->height << 6 = fheight * 64 * 64 = fheight * 4096
        // Our frame_to_peaks stores peaks[1].height = fheight * 64 * 64 (same)
        // C bass: y = peaks[1].height * 10; but after PeaksToHarmspect squaring the units differ.
        // To match: bass_add ≈ peaks[1].height_after_squaring * 10, where height_after_squaring
        // = (htab_contrib >> 15)^2 >> 8 ≈ same order as peak htab entries.
        // Simpler: replicate C exactly: y = peaks[1].height * 10 (pre-squaring units)
        // C: y = peaks[1].height * 10; x = y/h2; while(y>0){htab[h++]+=y; y-=x;}
        let bass_y0 = peaks[1].height * 10;
        let bass_step = (bass_y0 / bass_h).max(1);
        let mut y = bass_y0;
        let mut h = 1usize;
        while y > 0 && h < MAX_HARMONIC {
            htab[h] = htab[h].saturating_add(y.min(i32::MAX as i64) as i32);
            y -= bass_step;
            h += 1;
        }
    }

    // ── Phase 3: Square-root conversion — x = htab[h]>>15; htab[h] = (x*x)>>8 ──
    // …then the voice's `tone` curve, indexed by the harmonic's frequency in
    // 8 Hz steps (`wvoice->tone_adjust`).  The default curve tilts the spectrum
    // down above 600 Hz; leaving it out left the port ~5 dB hot around F2.
    let mut effective_hmax = 0;
    for h in 1..=hmax {
        // audiobook patch (PATCHES.md #4): C's `(x * x) >> 8` and
        // `(htab[h] * tone_adjust[ix]) >> 13`, with C's heights (see
        // `VOICE_HEIGHT`); the square is taken in 64 bits, where C's `int`
        // would wrap on the rare frame whose peaks overlap at full height.
        let x = i64::from(htab[h] >> 15);
        let mut y = (x * x) >> 8;
        let ix = ((pitch_hz16 * h as i64) >> 19) as usize;
        if ix < N_TONE_ADJUST {
            y = (y * tone_adjust[ix] as i64) >> 13;
        }
        htab[h] = y.min(i32::MAX as i64) as i32;
        if htab[h] > 0 {
            effective_hmax = h;
        }
    }

    // ── Phase 4: First harmonic adjustment — option_harmonic1 = 10 ──
    // C: h1 = htab[1] * option_harmonic1; htab[1] = h1/8;
    if hmax >= 1 {
        htab[1] = htab[1] * 10 / 8;
        if htab[1] > 0 { effective_hmax = effective_hmax.max(1); }
    }

    effective_hmax.max(1)
}

/// `N_TONE_ADJUST` — the voice tone curve has 1000 entries in 8 Hz steps (8 kHz).
pub const N_TONE_ADJUST: usize = 1000;

/// `tone_points` — the default tone curve every voice starts from
/// (`voices.c`): flat to 600 Hz, then falling.  `-1` ends the list and extends
/// the last height to the top of the range.
pub const DEFAULT_TONE_POINTS: [i32; 12] =
    [600, 170, 1200, 135, 2000, 110, 3000, 110, -1, 0, 0, 0];

/// `SetToneAdjust` — expand `tone <freq> <height> …` pairs into the per-harmonic
/// amplitude table, linearly interpolating between the points.
pub fn set_tone_adjust(tone_pts: &[i32; 12]) -> [u8; N_TONE_ADJUST] {
    let mut out = [0u8; N_TONE_ADJUST];
    let mut pts = *tone_pts;
    let mut freq1 = 0usize;
    let mut height1 = pts[1];

    let mut pt = 0usize;
    while pt < 12 {
        if pts[pt] == -1 {
            pts[pt] = (N_TONE_ADJUST * 8) as i32;
            if pt > 0 {
                pts[pt + 1] = pts[pt - 1];
            }
        }
        let freq2 = (pts[pt] / 8) as usize; // 8 Hz steps
        let height2 = pts[pt + 1];
        if freq2 > freq1 {
            for ix in freq1..freq2.min(N_TONE_ADJUST) {
                let y = height1
                    + ((ix - freq1) as i32 * (height2 - height1)) / (freq2 - freq1) as i32;
                out[ix] = y.clamp(0, 255) as u8;
            }
        }
        freq1 = freq2;
        height1 = height2;
        pt += 2;
    }
    out
}

// ---------------------------------------------------------------------------
// Xorshift32 PRNG (for unvoiced noise)
// ---------------------------------------------------------------------------

struct Xorshift32(u32);
impl Xorshift32 {
    fn new() -> Self { Xorshift32(0xBAD_5EED) }

    /// Start from an explicit seed (`espeak_ng_SetRandSeed`, the CLI's `-D`).
    ///
    /// Seed 0 keeps the default state: it is the port's "unset" value, and zero
    /// is also absorbing for xorshift, which would produce silence.
    fn seeded(seed: u32) -> Self {
        if seed == 0 { Self::new() } else { Xorshift32(seed) }
    }
    #[inline]
    fn next_i32(&mut self) -> i32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0 as i32
    }
}

// ---------------------------------------------------------------------------
// Segment — a synthesis unit between two frames
// ---------------------------------------------------------------------------

/// A synthesis segment: the harmonic-additive transition from `fr1` to `fr2`.
///
/// Corresponds to one inter-frame interval in a [`SpectSeq`].
///
/// [`SpectSeq`]: super::phondata::SpectSeq
#[derive(Debug, Clone)]
pub struct SynthSegment {
    /// Starting formant frame.
    pub fr1: SpectFrame,
    /// Ending formant frame (linearly interpolated towards over `n_samples`).
    pub fr2: SpectFrame,
    /// Number of samples to generate for this segment.
    pub n_samples: usize,
    /// True if this is a voiced segment (glottal source active).
    pub voiced: bool,
    /// Noise fraction mixed in (0.0 = pure tone, 1.0 = pure noise).
    pub noise_frac: f64,
    /// Amplitude multiplier relative to the voice default (1.0 = normal).
    pub amp_factor: f64,
    /// Seed for the unvoiced-noise generator (`espeak_ng_SetRandSeed`); 0 keeps
    /// the built-in default.
    pub rand_seed: u32,
    /// The voice's `tone` curve (`wvoice->tone_adjust`), 8 Hz per entry.
    pub tone_adjust: [u8; N_TONE_ADJUST],
}

// ---------------------------------------------------------------------------
// wavegen_segment — synthesize one segment
// ---------------------------------------------------------------------------

/// Synthesize one segment (transition between two spectral frames) to samples.
///
/// Mirrors the inner loop of `Wavegen()` in wavegen.c.
///
/// # Arguments
/// * `seg`     — segment to synthesize
/// * `f0_hz`  — fundamental frequency (pitch) in Hz
/// * `global_amp` — overall amplitude scale (0.0–1.0)
/// * `wavephase` — carry-over oscillator phase (i32, mutable)
///
/// The `wavephase` state is threaded through calls so that the oscillator
/// continues smoothly across frame boundaries.
pub fn wavegen_segment(
    seg: &SynthSegment,
    f0_hz: f64,
    global_amp: f64,
    wavephase: &mut i32,
) -> Vec<i32> {
    wavegen_segment_glide(seg, f0_hz, f0_hz, global_amp, wavephase, &mut 0)
}

/// audiobook patch (PATCHES.md #13): C's `modulation_tab` row for the
/// default `roughness` 2 (voices.c), by `modulation_type`: bits 0-3 the
/// amplitude in 16ths, bits 4-7 every how many glottal cycles (0xf: the
/// segment's first cycle only). 1 is an unstressed vowel, 3 a tonic one, 5 a
/// trill, 6 a frame flagged `FRFLAG_MODULATE`.
const MODULATION_TAB: [u8; 8] = [0, 0x2f, 0x00, 0x2e, 0, 0x45, 0xf2, 0x28];

/// [`wavegen_segment`] with the pitch gliding from `f0_start` (Hz) at the
/// segment's first sample to `f0_end` at its end.
///
/// audiobook patch (PATCHES.md #9): C's `Wavegen` moves the pitch every
/// 64 samples (`AdvanceParameters` steps `pitch_ix` through the syllable's
/// pitch envelope, and the phase increment, the harmonic tables and the HF
/// peaks' window follow). The port held one pitch for a whole frame (5 to
/// 30 ms), so a falling or rising syllable came out as a staircase of flat
/// notes. Now each 64-sample block takes the pitch at its start, on the line
/// between the frame's pitch and the next frame's.
pub fn wavegen_segment_glide(
    seg: &SynthSegment,
    f0_start: f64,
    f0_end: f64,
    global_amp: f64,
    wavephase: &mut i32,
    // audiobook patch (PATCHES.md #13): glottal cycles played so far (C's
    // static `cycle_count`), for the roughness modulation.
    cycle_count: &mut u32,
) -> Vec<i32> {
    let n = seg.n_samples;
    let modulation = MODULATION_TAB[usize::from(seg.fr1.modulation & 7)];
    let mut modulate_once = modulation >> 4 == 0xf;
    if n == 0 {
        return Vec::new();
    }

    let mut output = vec![0i32; n];

    // The pitch at sample `i` of the segment, in Hz.
    let f0_at = |i: usize| f0_start + (f0_end - f0_start) * i as f64 / n as f64;
    let mut f0_hz = f0_start;
    let mut pitch_i32: i32 = ((f0_hz as i64 * 4096) as i32).max(25 * 4096);
    // phaseinc = (pitch >> 7) * PHASE_INC_FACTOR  (from C: pitch is Hz<<12)
    let mut phaseinc: i32 = ((pitch_i32 >> 7) as i64 * PHASE_INC_FACTOR as i64) as i32;
    let mut pitch_hz16: i64 = (f0_hz as i64) << 16;

    let peaks1 = frame_to_peaks(&seg.fr1);
    let peaks2 = frame_to_peaks(&seg.fr2);

    // Amplitude: mirrors C formula:
    //   wdata.amplitude = stress_amp * general_amplitude / 16   (e.g. 75 for primary stress)
    //   amplitude2 = wdata.amplitude * (pitch>>8) * amplitude_fmt / 80000
    // We receive amp_factor = wdata_amplitude * amplitude_fmt (= ~7500 for primary, normalized to 1.0)
    // so amp_scale = global_amp * 7500 * amp_factor
    // (7500 = 75 * 100 for primary stress at default volume)
    let amp_scale: i64 = (global_amp * 7500.0 * seg.amp_factor) as i64;

    // harmonic amplitude tables (two copies, we interpolate between them)
    let mut htab = [[0i32; MAX_HARMONIC]; 2];
    let mut harm_inc = [0i32; N_LOWHARM];
    let mut hswitch = 0usize;
    let mut maxh = 0usize;
    let mut maxh2 = 0usize; // the target table's top harmonic

    let mut rng = Xorshift32::seeded(seg.rand_seed);
    let tone_adjust = seg.tone_adjust;
    let mut amplitude2: i64 = 0;

    // ── HF peak state ─────────────────────────────────────────────────────
    // Harmonics for peaks above N_HARMONIC_PEAKS (F6, F7, F8) are windowed
    // by the wavemult Hanning window centered on the glottal pulse.
    // C: cbytes = wavemult_offset - cycle_samples/2 at start of each cycle.
    // C: hf_factor = wdata.pitch >> 11 = f0_hz*4096 >> 11 = f0_hz*2
    const SAMPLERATE: f64 = 22050.0;
    let mut cycle_samples = (SAMPLERATE / f0_hz) as i32;
    let mut hf_factor = ((f0_hz as i64 * 4096) >> 11).max(1); // = f0_hz * 2
    // peak_harmonic[pk-6] = nearest harmonic to F(6+pk)
    // peak_height[pk-6] = amplitude^2 for HF peak
    const N_HF: usize = 3; // peaks 6,7,8
    let mut peak_harmonic = [0u32; N_HF];
    let mut peak_height = [0i64; N_HF];
    let mut hmax_sr = ((22050 * 19 / 40) as f64 / f0_hz) as u32; // Nyquist limit

    // audiobook patch (PATCHES.md #5): the HF peaks' window position `cbytes`
    // carries on from where the glottal cycle is, as C's static `cbytes` does
    // across frames, instead of restarting mid-cycle at every frame (a click
    // of F6-F8 energy at the frame rate). The samples since the cycle's start
    // follow from the phase: it wrapped from positive to negative there and
    // has advanced `phaseinc` a sample since. After a silence the phase is
    // `i32::MAX` and the cycle starts at the first sample, as in C.
    let since_cycle_start = (i64::from(*wavephase) - i64::from(i32::MIN)) / i64::from(phaseinc.max(1));
    let mut cbytes: i32 =
        (i64::from(WAVEMULT_OFFSET - cycle_samples / 2) + since_cycle_start).min(WAVEMULT_MAX as i64) as i32;
    // The HF peaks' heights follow the table played (C sets them in every
    // `PeaksToHarmspect`); their nearest harmonics change only at the start
    // of a glottal cycle, from the peaks of the moment.
    let mut block_peaks = peaks1;
    let hf_heights = |peaks: &[Peak; 9], harmonic: &[u32; N_HF], heights: &mut [i64; N_HF]| {
        for (k, fk) in (N_HARMONIC_PEAKS + 1..9).enumerate() {
            let x = peaks[fk].height >> 14;
            heights[k] = if harmonic[k] > 0 { (x * x * 5) / 2 } else { 0 };
        }
    };
    let hf_harmonics = |peaks: &[Peak; 9], harmonic: &mut [u32; N_HF], f0_hz: f64, hmax_sr: u32| {
        let pitch = (f0_hz as i64) * 4096; // wdata.pitch = Hz<<12
        for (k, fk) in (N_HARMONIC_PEAKS + 1..9).enumerate() {
            // C: peak_harmonic = (peaks.freq / (pitch*8) + 1) / 2
            let h = if pitch > 0 { ((peaks[fk].freq / (pitch * 8) + 1) / 2).max(0) as u32 } else { 0 };
            harmonic[k] = if h <= hmax_sr { h } else { 0 };
        }
    };
    hf_harmonics(&block_peaks, &mut peak_harmonic, f0_hz, hmax_sr);
    hf_heights(&block_peaks, &peak_harmonic, &mut peak_height);
    // C sets `h_switch_sign` once a segment, from the pitch at its start.
    let h_switch_sign_hz = f0_hz;

    for i in 0..n {
        // ── Every 64 samples: update harmonic table ──────────────────────
        // audiobook patch (PATCHES.md #1): play the table for the start of
        // this 64-sample block and interpolate its low harmonics towards the
        // table for the block's end, as C's `Wavegen` does (it plays the
        // table it computed one step earlier). The port used to play
        // `htab[1]` for the first block of every segment before anything had
        // been written to it: 64 samples of silence at every frame boundary,
        // heard as a buzz at the frame rate and seen as vertical streaks.
        if (i & 63) == 0 {
            // audiobook patch (PATCHES.md #9): the pitch of this block, and
            // what follows from it, as C's `Wavegen` sets them every 64
            // samples (`phaseinc`, `cycle_samples`, `hf_factor`).
            if i > 0 && f0_start != f0_end {
                f0_hz = f0_at(i).max(25.0);
                pitch_i32 = ((f0_hz as i64 * 4096) as i32).max(25 * 4096);
                phaseinc = ((pitch_i32 >> 7) as i64 * PHASE_INC_FACTOR as i64) as i32;
                pitch_hz16 = (f0_hz as i64) << 16;
                cycle_samples = (SAMPLERATE / f0_hz) as i32;
                hf_factor = ((f0_hz as i64 * 4096) >> 11).max(1);
                hmax_sr = ((22050 * 19 / 40) as f64 / f0_hz) as u32;
            }
            if i == 0 {
                hswitch = 0;
                maxh = peaks_to_harmspect(&peaks1, pitch_hz16, &mut htab[0], &tone_adjust);
                // adjust amplitude for pitch (fewer harmonics at high pitch)
                amplitude2 = (amp_scale * ((pitch_i32 >> 8) as i64)) / (10000 * 8);
            } else {
                // The target computed one block ago becomes the table played.
                hswitch ^= 1;
                maxh = maxh2;
            }
            if i > 0 {
                hf_heights(&block_peaks, &peak_harmonic, &mut peak_height);
            }
            let t_next = (i + STEPSIZE).min(n) as f64 / n as f64;
            let target_peaks = interpolate_peaks(&peaks1, &peaks2, t_next);
            let target = hswitch ^ 1;
            // The target table is for the block's end, at the pitch there.
            let target_pitch = if f0_start != f0_end {
                (f0_at((i + STEPSIZE).min(n)).max(25.0) as i64) << 16
            } else {
                pitch_hz16
            };
            maxh2 = peaks_to_harmspect(&target_peaks, target_pitch, &mut htab[target], &tone_adjust);
            block_peaks = target_peaks;
            for h in 1..N_LOWHARM {
                harm_inc[h] = (htab[target][h] - htab[hswitch][h]) >> 3;
            }
        } else if (i & 7) == 0 {
            // Every 8 samples: interpolate low harmonics
            for h in 1..N_LOWHARM.min(maxh + 1).min(maxh2 + 1) {
                htab[hswitch][h] = htab[hswitch][h].saturating_add(harm_inc[h]);
            }
        }

        // ── Advance oscillator ────────────────────────────────────────────
        let old_phase = *wavephase;
        *wavephase = wavephase.wrapping_add(phaseinc);

        // Detect zero crossing (quiet point of waveform cycle) — new glottal pulse
        if old_phase > 0 && *wavephase < 0 {
            // Recompute amplitude every cycle
            amplitude2 = (amp_scale * ((pitch_i32 >> 8) as i64)) / (10000 * 8);
            // audiobook patch (PATCHES.md #13): C's roughness: some cycles
            // quieter (every second one of an unstressed vowel at 15/16).
            *cycle_count = cycle_count.wrapping_add(1);
            let (period, amp16) = (u32::from(modulation >> 4), i64::from(modulation & 0xf));
            if period == 0xf {
                if modulate_once {
                    amplitude2 = amplitude2 * amp16 / 16;
                    modulate_once = false;
                }
            } else if period != 0 && *cycle_count % period == 0 {
                amplitude2 = amplitude2 * amp16 / 16;
            }
            // Reset cbytes to start of window (C: cbytes = wavemult_offset - cycle_samples/2)
            cbytes = WAVEMULT_OFFSET - cycle_samples / 2;
            hf_harmonics(&block_peaks, &mut peak_harmonic, f0_hz, hmax_sr);
            hf_heights(&block_peaks, &peak_harmonic, &mut peak_height);
        }

        // ── Generate sample ───────────────────────────────────────────────
        let waveph = (*wavephase >> 16) as u16;

        let mut total: i64 = 0;

        if seg.voiced {
            // ── Step 1: HF peaks (windowed by wavemult) ──────────────────
            // C applies HF contributions FIRST, then multiplies by window.
            // This creates the glottal pulse shape.
            cbytes += 1;
            if cbytes >= 0 && (cbytes as usize) < WAVEMULT_MAX {
                let mut hf_total: i64 = 0;
                for k in 0..N_HF {
                    let h = peak_harmonic[k];
                    if h > 0 && peak_height[k] > 0 {
                        let theta = (waveph as u32).wrapping_mul(h) as u16;
                        let idx = (theta >> 5) as usize;
                        hf_total += SIN_TAB[idx] as i64 * peak_height[k];
                    }
                }
                // C: total = (long)(total / hf_factor) * wavemult[cbytes]
                // hf_total is the HF contribution; multiply by window
                total = (hf_total / hf_factor) * WAVEMULT[cbytes as usize] as i64;
            } else {
                total = 0;
            }

            // ── Step 2: Main peaks (F0-F5), sign-switched above ~900 Hz ─
            let mut theta = waveph;
            let mh = maxh.min(MAX_HARMONIC - 1);
            let h_switch_sign = (890_u32 / (h_switch_sign_hz as u32).max(1)) as usize;
            let h_switch_sign = h_switch_sign.min(mh);

            // audiobook patch (PATCHES.md #7): over slices, so the loop has
            // no bounds checks or inclusive-range bookkeeping (the same sums).
            let (below, above) = htab[hswitch][1..=mh].split_at(h_switch_sign);
            for &amp in below {
                total += SIN_TAB[(theta >> 5) as usize] as i64 * amp as i64;
                theta = theta.wrapping_add(waveph);
            }
            for &amp in above {
                total -= SIN_TAB[(theta >> 5) as usize] as i64 * amp as i64;
                theta = theta.wrapping_add(waveph);
            }
        }

        if seg.noise_frac > 0.0 {
            let noise_amp = (seg.noise_frac * amplitude2 as f64) as i64;
            total += rng.next_i32() as i64 * noise_amp / (1 << 20);
        }

        // Scale by amplitude
        let z = (total >> 8) * amplitude2 / (1 << 13);
        output[i] = z.clamp(i32::MIN as i64 + 1, i32::MAX as i64) as i32;
    }

    output
}

// ---------------------------------------------------------------------------
// synthesize_frames — synthesize a full spectral sequence
// ---------------------------------------------------------------------------

/// Synthesize a full `SpectSeq` (all frames) into raw samples.
///
/// Frames are synthesized in pairs: frame[i] → frame[i+1].
/// The last frame is held for one extra segment (repeated).
///
/// Returns unnormalized i32 samples.
pub fn synthesize_frames(
    seq: &super::phondata::SpectSeq,
    voice: &VoiceParams,
    amp_factor: f64,
    wavephase: &mut i32,
) -> Vec<i32> {
    if seq.frames.is_empty() {
        return Vec::new();
    }

    // The rate is already folded into the frame *count* by
    // `synthesize_phoneme_info`; applying `speed_percent` again here scaled it
    // twice, so an extreme `-s` stretched the audio far past upstream.  Only the
    // per-frame `speeds` multiplier (inline `\x01<n>S`) applies here.
    let speed_factor = 1.0;
    let f0_hz = voice.pitch_hz.max(25) as f64;
    // audiobook patch (PATCHES.md #4): `amplitude` is half the volume (0-200),
    // and C's voiced level at the default volume of 100 (general amplitude 55,
    // `wdata.amplitude` 75 at primary stress) is what `amp_scale` 7500 means;
    // dividing by 100 played every voiced sound at half C's level.
    let global_amp = voice.amplitude.clamp(0, 100) as f64 / 50.0;

    // Per-formant `+variant` scaling; the all-100 default leaves this unchanged.
    let fscale = voice.formant_scaling_active();

    let mut output = Vec::new();

    let n = seq.frames.len();
    for i in 0..n {
        let fr1 = &seq.frames[i];
        let fr2 = if i + 1 < n { &seq.frames[i + 1] } else { fr1 };

        let n_samples = fr1.dur_samples(speed_factor);

        // Determine voiced/noise character from the frame
        let av = fr1.klattp[0]; // AV (voicing amplitude)
        // `klattp2` continues `klattp` from index 5: Kopen, AVp, Fric, FricBP,
        // Turb — so frication amplitude is index 2, not 1 (which is AVp).
        let fric = if seq.is_klatt { fr1.klattp2[2] } else { 0 }; // Fric

        let (voiced, noise_frac) = if av > 0 && fr1.ffreq[1] > 0 {
            (true, fric as f64 / 255.0)
        } else if fr1.ffreq[1] == 0 && av == 0 {
            (false, 0.5) // fricative/stop: mostly noise
        } else {
            (av > 0, fric as f64 / 255.0)
        };

        let seg = SynthSegment {
            fr1: if fscale { scale_frame_formants(fr1, voice) } else { fr1.clone() },
            fr2: if fscale { scale_frame_formants(fr2, voice) } else { fr2.clone() },
            n_samples,
            voiced,
            noise_frac,
            amp_factor,
            rand_seed: voice.rand_seed,
            tone_adjust: voice.tone_adjust,
        };

        let samples = wavegen_segment(&seg, f0_hz, global_amp, wavephase);
        output.extend_from_slice(&samples);
    }

    output
}

/// Synthesize a *run* of formant frames spanning one or more phonemes, with a
/// per-frame amplitude factor and per-frame pitch (Hz).  Because the whole run
/// is one sequence, consecutive frames across phoneme boundaries interpolate
/// continuously (the cross-phoneme continuity the per-phoneme path lacks).
///
/// `amps` and `pitches_hz` are parallel to `frames`.  `voice.speed_percent`
/// still governs the per-frame sample count (frame lengths already encode the
/// duration model).  Returns unnormalised i32 samples.
pub fn synthesize_frames_seq(
    frames: &[super::phondata::SpectFrame],
    amps: &[f64],
    pitches_hz: &[f64],
    // Per-frame duration multiplier: `1.0` is the voice's own rate, and an
    // inline `\x01<n>S` command scales the frames after it.
    speeds: &[f64],
    voice: &VoiceParams,
    wavephase: &mut i32,
) -> Vec<i32> {
    if frames.is_empty() {
        return Vec::new();
    }
    // audiobook patch (PATCHES.md #4): `amplitude` is half the volume (0-200),
    // and C's voiced level at the default volume of 100 (general amplitude 55,
    // `wdata.amplitude` 75 at primary stress) is what `amp_scale` 7500 means;
    // dividing by 100 played every voiced sound at half C's level.
    let global_amp = voice.amplitude.clamp(0, 100) as f64 / 50.0;

    // Pre-scale formants for a `+variant` (`voice.freq/height/width[i]`); the
    // all-100 default skips this so the standard path is byte-for-byte unchanged.
    let fscale = voice.formant_scaling_active();

    let mut output = Vec::new();
    let n = frames.len();
    let lengths = frame_lengths(frames, speeds, voice);
    let mut cycle_count = 0u32;
    for i in 0..n {
        let fr1 = &frames[i];
        let fr2 = if i + 1 < n { &frames[i + 1] } else { fr1 };
        let n_samples = lengths[i];

        // Voiced/noise character (en voices are non-Klatt, so Fric = 0).
        let av = fr1.klattp[0];
        let (voiced, noise_frac) = if av > 0 && fr1.ffreq[1] > 0 {
            (true, 0.0)
        } else if fr1.ffreq[1] == 0 && av == 0 {
            (false, 0.5)
        } else {
            (av > 0, 0.0)
        };

        let seg = SynthSegment {
            fr1: if fscale { scale_frame_formants(fr1, voice) } else { fr1.clone() },
            fr2: if fscale { scale_frame_formants(fr2, voice) } else { fr2.clone() },
            n_samples,
            voiced,
            noise_frac,
            amp_factor: amps.get(i).copied().unwrap_or(1.0),
            rand_seed: voice.rand_seed,
            tone_adjust: voice.tone_adjust,
        };
        let f0 = pitches_hz.get(i).copied().unwrap_or(120.0).max(25.0);
        // audiobook patch (PATCHES.md #9): glide to the next frame's pitch
        // within the segment, as the frames' formants do.
        let f0_next = pitches_hz.get(i + 1).copied().unwrap_or(f0).max(25.0);
        let samples =
            wavegen_segment_glide(&seg, f0, f0_next, global_amp, wavephase, &mut cycle_count);
        output.extend_from_slice(&samples);
    }
    output
}

/// How many samples [`synthesize_frames_seq`] plays for each frame (the
/// segment from it to the next): its length at the voice's rate, times its
/// `speeds` multiplier.
///
/// audiobook patch (PATCHES.md #8): shared with the voiced consonants'
/// noise mix, which follows the same frames.
pub fn frame_lengths(
    frames: &[super::phondata::SpectFrame],
    speeds: &[f64],
    voice: &VoiceParams,
) -> Vec<usize> {
    let speed_factor = 100.0 / voice.speed_percent.max(1) as f64;
    frames
        .iter()
        .enumerate()
        .map(|(i, fr)| fr.dur_samples(speed_factor * speeds.get(i).copied().unwrap_or(1.0)))
        .collect()
}

// ---------------------------------------------------------------------------
// f32_to_i16 normalisation
// ---------------------------------------------------------------------------

/// Normalise an i32 sample buffer and clip to i16.
pub fn i32_to_i16(samples: &[i32]) -> Vec<i16> {
    if samples.is_empty() {
        return Vec::new();
    }
    let peak = samples.iter().map(|&x| x.unsigned_abs()).max().unwrap_or(0);
    // Target: 90% of i16 full scale
    let target = (0.90 * 32767.0) as i64;
    let scale: i64 = if peak > 0 { target * 4096 / peak as i64 } else { 0 };

    samples.iter()
        .map(|&x| ((x as i64 * scale) >> 12).clamp(-32767, 32767) as i16)
        .collect()
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn voiced_frame(f1: i16, f2: i16, f3: i16, len: u8) -> SpectFrame {
        let mut f = SpectFrame::default();
        f.ffreq[1] = f1;
        f.ffreq[2] = f2;
        f.ffreq[3] = f3;
        f.fwidth[0] = 25;  // F0 width
        f.fwidth[1] = 50;  // F1 width
        f.fwidth[2] = 80;  // F2 width
        f.fright[0] = 25;
        f.fright[1] = 50;
        f.fright[2] = 80;
        f.fheight = [100, 60, 40, 20, 10, 5, 2, 0];
        f.rms = 50;
        f.klattp[0] = 50; // AV = 50 (voiced)
        f.length = len;
        f
    }

    fn default_voice() -> VoiceParams { VoiceParams::default() }

    #[test]
    fn scale_frame_formants_scales_freqs() {
        let mut fr = voiced_frame(500, 1500, 2500, 4);
        fr.fheight = [10, 20, 40, 60, 80, 100, 120, 0];
        fr.fwidth = [10, 20, 30, 40, 50, 60];
        // +50 % frequency, +50 % height, −50 % width — each scales exactly.
        let v = VoiceParams {
            formant_freq_pct:   [150; 7],
            formant_height_pct: [150; 7],
            formant_width_pct:  [50; 7],
            ..VoiceParams::default()
        };
        let up = scale_frame_formants(&fr, &v);
        assert_eq!(up.ffreq[2], 2250);
        assert_eq!(up.fheight[2], 60); // 40 × 1.5
        assert_eq!(up.fwidth[2], 15);  // 30 × 0.5
        // All 100 % is exact identity.
        let same = scale_frame_formants(&fr, &VoiceParams::default());
        assert_eq!(same.ffreq, fr.ffreq);
        assert_eq!(same.fheight, fr.fheight);
        assert_eq!(same.fwidth, fr.fwidth);
    }

    /// Goertzel power at a single frequency (FFT-free single-bin DFT).
    fn goertzel_power(s: &[i32], f_hz: f64, sr: f64) -> f64 {
        let w = 2.0 * std::f64::consts::PI * f_hz / sr;
        let coeff = 2.0 * w.cos();
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        for &x in s {
            let s0 = x as f64 + coeff * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        (s1 * s1 + s2 * s2 - coeff * s1 * s2).max(0.0)
    }

    /// A fully-populated voiced frame (all of F1–F5 present, with widths and
    /// heights) so the synthesizer's `hmax` — derived from the F5 peak — is
    /// non-zero and the mid formants actually reach the output.
    fn full_voiced_frame(f1: i16, f2: i16, f3: i16) -> SpectFrame {
        let mut f = SpectFrame::default();
        f.ffreq = [0, f1, f2, f3, 3300, 4300, 5300];
        f.fheight = [0, 100, 80, 60, 45, 30, 15, 0];
        f.fwidth = [40, 55, 70, 90, 110, 130];
        f.fright = [40, 55, 70];
        f.rms = 50;
        f.klattp[0] = 50; // AV = 50 (voiced)
        f.length = 40;
        f
    }

    #[test]
    fn formant_scaling_shifts_energy_upward() {
        // Same voiced frames + pitch; only the per-formant scale differs.  Raising
        // the formants by 60 % moves F2 from 1400 Hz to ~2240 Hz, so the spectral
        // energy *at 2240 Hz* (normalised by total energy) must grow markedly.
        let frames: Vec<SpectFrame> = (0..8).map(|_| full_voiced_frame(400, 1400, 2400)).collect();
        let amps = vec![1.0; frames.len()];
        let pitch = vec![120.0; frames.len()];
        const SR: f64 = 22050.0;

        let probe_energy = |pct: [i32; 7], f_hz: f64| -> f64 {
            let voice = VoiceParams { formant_freq_pct: pct, ..VoiceParams::default() };
            let mut phase = i32::MAX;
            let s = synthesize_frames_seq(&frames, &amps, &pitch, &[], &voice, &mut phase);
            let total: f64 = s.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().max(1.0);
            goertzel_power(&s, f_hz, SR) / total
        };

        // Probe at the *raised* F2 location (1400 × 1.6 ≈ 2240 Hz).
        let base = probe_energy([100; 7], 2240.0);
        let raised = probe_energy([160; 7], 2240.0);
        assert!(
            raised > base * 2.0,
            "raising formants should push energy to the higher band: base {base:.3e} vs raised {raised:.3e}"
        );
    }

    #[test]
    fn formant_height_scaling_boosts_its_band() {
        // Doubling F2's height (freq unchanged) must raise the raw spectral power
        // at the F2 frequency (1400 Hz).
        let frames: Vec<SpectFrame> = (0..8).map(|_| full_voiced_frame(400, 1400, 2400)).collect();
        let amps = vec![1.0; frames.len()];
        let pitch = vec![120.0; frames.len()];
        const SR: f64 = 22050.0;

        let power = |height: [i32; 7]| -> f64 {
            let voice = VoiceParams { formant_height_pct: height, ..VoiceParams::default() };
            let mut phase = i32::MAX;
            let s = synthesize_frames_seq(&frames, &amps, &pitch, &[], &voice, &mut phase);
            goertzel_power(&s, 1400.0, SR)
        };

        let base = power([100; 7]);
        let boosted = power([100, 100, 220, 100, 100, 100, 100]); // F2 × 2.2
        assert!(
            boosted > base * 1.5,
            "boosting F2 height should raise its band's power: base {base:.3e} vs boosted {boosted:.3e}"
        );
    }

    #[test]
    fn formant_scaling_active_flag() {
        assert!(!VoiceParams::default().formant_scaling_active());
        let freq = VoiceParams { formant_freq_pct: [100, 100, 130, 100, 100, 100, 100], ..VoiceParams::default() };
        assert!(freq.formant_scaling_active());
        let height = VoiceParams { formant_height_pct: [80, 100, 100, 100, 100, 100, 100], ..VoiceParams::default() };
        assert!(height.formant_scaling_active(), "height scale must count as active");
        let width = VoiceParams { formant_width_pct: [100, 100, 100, 100, 100, 100, 150], ..VoiceParams::default() };
        assert!(width.formant_scaling_active(), "width scale must count as active");
    }

    #[test]
    fn peaks_to_harmspect_nonzero() {
        let frame = voiced_frame(500, 1500, 2500, 4);
        let peaks = frame_to_peaks(&frame);
        let mut htab = [0i32; MAX_HARMONIC];
        let hmax = peaks_to_harmspect(&peaks, 118_i64 << 16, &mut htab, &set_tone_adjust(&DEFAULT_TONE_POINTS));
        // Should produce non-zero harmonics
        assert!(hmax > 0);
        let total: i32 = htab[1..].iter().sum();
        assert!(total > 0, "harmonic table should be non-zero");
    }

    #[test]
    fn wavegen_segment_produces_audio() {
        let fr = voiced_frame(500, 1500, 2500, 4);
        let seg = SynthSegment {
            fr1: fr.clone(),
            fr2: fr.clone(),
            n_samples: 512,
            voiced: true,
            noise_frac: 0.0,
            amp_factor: 1.0,
            rand_seed: 0,
            tone_adjust: set_tone_adjust(&DEFAULT_TONE_POINTS)
        };
        let mut phase = i32::MAX;
        let samples = wavegen_segment(&seg, 118.0, 0.8, &mut phase);
        assert_eq!(samples.len(), 512);
        let max = samples.iter().map(|x| x.unsigned_abs()).max().unwrap_or(0);
        assert!(max > 0, "voiced segment must produce non-zero audio");
    }

    #[test]
    fn wavegen_segment_silence_when_zero_peaks() {
        let fr = SpectFrame::default(); // all zeros
        let seg = SynthSegment {
            fr1: fr.clone(),
            fr2: fr.clone(),
            n_samples: 256,
            voiced: false,
            noise_frac: 0.0,
            amp_factor: 1.0,
            rand_seed: 0,
            tone_adjust: set_tone_adjust(&DEFAULT_TONE_POINTS)
        };
        let mut phase = i32::MAX;
        let samples = wavegen_segment(&seg, 118.0, 0.8, &mut phase);
        assert_eq!(samples.len(), 256);
        // All-zero frame with no voicing and no noise → silence
        let max = samples.iter().map(|x| x.unsigned_abs()).max().unwrap_or(0);
        assert_eq!(max, 0, "zero frame + no voice → silence");
    }

    #[test]
    fn synthesize_frames_uses_all_frames() {
        let seq = super::super::phondata::SpectSeq {
            frames: vec![
                voiced_frame(500, 1500, 2500, 2),
                voiced_frame(510, 1480, 2480, 2),
                voiced_frame(520, 1460, 2460, 2),
            ],
            is_klatt: false,
        };
        let mut phase = i32::MAX;
        let samples = synthesize_frames(&seq, &default_voice(), 1.0, &mut phase);
        // 3 frames × 2 steps × 64 = 384 samples
        let expected = 3 * 2 * 64;
        assert_eq!(samples.len(), expected,
            "expected {expected} samples, got {}", samples.len());
    }

    #[test]
    fn i32_to_i16_normalises() {
        let big = vec![100_000i32, -200_000i32, 150_000i32];
        let out = i32_to_i16(&big);
        assert_eq!(out.len(), 3);
        // Peak should be close to 90% of 32767
        let peak = out.iter().map(|&x| x.unsigned_abs()).max().unwrap();
        assert!(peak > 28000, "should normalise close to full scale: peak={peak}");
    }

    #[test]
    fn i32_to_i16_empty() {
        assert!(i32_to_i16(&[]).is_empty());
    }

    #[test]
    fn phase_carries_over() {
        // Phase must evolve smoothly across two calls
        let fr = voiced_frame(500, 1500, 2500, 1);
        let seg = SynthSegment {
            fr1: fr.clone(),
            fr2: fr.clone(),
            n_samples: 64,
            voiced: true,
            noise_frac: 0.0,
            amp_factor: 1.0,
            rand_seed: 0,
            tone_adjust: set_tone_adjust(&DEFAULT_TONE_POINTS)
        };
        let mut phase = i32::MAX;
        let _ = wavegen_segment(&seg, 118.0, 0.8, &mut phase);
        let phase_after_first = phase;
        let _ = wavegen_segment(&seg, 118.0, 0.8, &mut phase);
        // Phase should have advanced (not reset)
        assert_ne!(phase, phase_after_first,
            "phase should evolve between calls");
    }

    /// `SetToneAdjust` interpolates between the `tone` points and extends the
    /// last height to the top of the range (the `-1` sentinel).
    #[test]
    fn tone_curve_interpolates_between_points() {
        let t = set_tone_adjust(&DEFAULT_TONE_POINTS);
        // Flat at the first height below the first point (600 Hz = index 75).
        assert_eq!(t[0], 170);
        assert_eq!(t[74], 170);
        // 1200 Hz = index 150 → the second height.
        assert_eq!(t[150], 135);
        // Halfway between 600 and 1200 Hz, halfway between the two heights.
        assert_eq!(t[112] as i32, 170 + (112 - 75) * (135 - 170) / (150 - 75));
        // 2000 Hz = index 250 → 110, and `-1` holds it to the end.
        assert_eq!(t[250], 110);
        assert_eq!(t[N_TONE_ADJUST - 1], 110);
    }

    /// audiobook patch (PATCHES.md #4): the tone curve scales each harmonic by
    /// `tone / 8192`, as C's `>> 13` does: against a flat curve of 128, the
    /// default's 170 below 600 Hz and 110 above 2 kHz show in those ratios.
    /// audiobook patch (PATCHES.md #13): an unstressed vowel's frames
    /// (`modulation` 1) play every second glottal cycle at 15/16 of the
    /// level, as C's `modulation_tab` for the default roughness; a stressed
    /// one's (2) like a consonant's (0), every cycle alike. Measured on a
    /// steady 100 Hz vowel as the energy of each 10 ms cycle against the same
    /// cycle played without modulation, even cycles against odd ones.
    #[test]
    fn unstressed_vowels_are_rough() {
        let render = |modulation: u8| {
            let frame = SpectFrame { modulation, ..full_voiced_frame(500, 1500, 2500) };
            let frames = [frame.clone(), frame];
            let mut phase = i32::MAX;
            synthesize_frames_seq(
                &frames, &[1.0; 2], &[100.0; 2], &[], &VoiceParams::default(), &mut phase,
            )
        };
        // 100 Hz at 22 050 Hz: a cycle every 220.5 samples from the first.
        let cycle_energy = |wave: &[i32]| {
            let mut energy = vec![0.0f64; (wave.len() as f64 / 220.5) as usize + 1];
            for (i, &v) in wave.iter().enumerate() {
                energy[(i as f64 / 220.5) as usize] += (v as f64).powi(2);
            }
            energy
        };
        let (plain, rough) = (render(0), render(1));
        assert_eq!(render(2), plain, "modulation 2 changes nothing");
        let (plain, rough) = (cycle_energy(&plain), cycle_energy(&rough));
        let mut ratio_db = [0.0f64; 2];
        let mut count = [0usize; 2];
        for k in 2..plain.len() - 1 {
            ratio_db[k % 2] += 10.0 * (rough[k] / plain[k]).log10();
            count[k % 2] += 1;
        }
        let even_odd = ratio_db[0] / count[0] as f64 - ratio_db[1] / count[1] as f64;
        assert!(even_odd.abs() > 0.3, "even against odd cycles {even_odd:.2} dB");
    }

    #[test]
    fn tone_curve_scales_harmonics_like_c() {
        let peaks = frame_to_peaks(&SpectFrame {
            ffreq: [100, 400, 1200, 2500, 3300, 3700, 7000],
            fheight: [100; 8],
            fwidth: [40; 6],
            fright: [40; 3],
            ..Default::default()
        });
        let pitch = 100_i64 << 16;
        let mut default = [0i32; MAX_HARMONIC];
        let mut flat = [0i32; MAX_HARMONIC];
        peaks_to_harmspect(&peaks, pitch, &mut default, &set_tone_adjust(&DEFAULT_TONE_POINTS));
        peaks_to_harmspect(&peaks, pitch, &mut flat, &[128u8; N_TONE_ADJUST]);
        // Harmonic 4 (400 Hz) and harmonic 25 (2500 Hz).
        let low = default[4] as f64 / flat[4] as f64;
        let high = default[25] as f64 / flat[25] as f64;
        assert!((low - 170.0 / 128.0).abs() < 0.02, "400 Hz: {low}");
        assert!((high - 110.0 / 128.0).abs() < 0.02, "2500 Hz: {high}");
    }
}
