//! Where speech starts and ends: the one detector behind clip trimming (a
//! clip's leading and trailing silence) and the QA's head and tail room.
//!
//! The signal is cut into windows of 10 ms. A window is speech when its RMS
//! is above the threshold, so a lone click or the peaks of a noise floor do
//! not count; inside the first and last speech windows the edge is the first
//! (last) sample above the threshold, so edges are exact to the sample for
//! a clean onset. What lies below the threshold around the speech (the start
//! of a soft consonant, a breath's tail) is what the stitcher's hold keeps.

use std::ops::Range;

/// Length of a detection window.
const WINDOW_MS: u64 = 10;

/// Sound under this level stays under the QA's speech threshold (-50 dBFS)
/// whatever gain mastering applies (at most 40 dB): in 16 bits, digital
/// silence and the lowest bit. Only such sound may lie in a chapter's head
/// and tail room ([`super::layout`]).
pub const INAUDIBLE_DB: f64 = -90.0;

/// Finds the first and last speech samples of a stream fed in order.
#[derive(Debug, Clone)]
pub struct SpeechDetector {
    threshold: f32,
    threshold_sq: f64,
    window: u64,
    /// Index of the next sample.
    pos: u64,
    win_len: u64,
    win_sq: f64,
    win_first: Option<u64>,
    win_last: Option<u64>,
    first: Option<u64>,
    last: Option<u64>,
    floor: f32,
    first_sound: Option<u64>,
    last_sound: Option<u64>,
}

/// What the detector found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Speech {
    /// Samples seen.
    pub samples: u64,
    /// From the first speech sample to one past the last; `None` when the
    /// stream held no speech at all.
    pub edges: Option<Range<u64>>,
    /// From the first sample over [`INAUDIBLE_DB`] to one past the last.
    pub sound: Option<Range<u64>>,
}

impl Speech {
    /// Samples before the first speech (all of them for silence).
    pub fn head(&self) -> u64 {
        self.edges.as_ref().map_or(self.samples, |e| e.start)
    }

    /// Samples after the last speech (all of them for silence).
    pub fn tail(&self) -> u64 {
        self.edges
            .as_ref()
            .map_or(self.samples, |e| self.samples - e.end)
    }
}

impl SpeechDetector {
    /// A detector for audio at `sample_rate`, with speech above
    /// `threshold_db` dBFS (RMS over a window, and per sample at the edges).
    pub fn new(sample_rate: u32, threshold_db: f64) -> SpeechDetector {
        let threshold = 10f64.powf(threshold_db / 20.0);
        SpeechDetector {
            threshold: threshold as f32,
            threshold_sq: threshold * threshold,
            window: (u64::from(sample_rate) * WINDOW_MS / 1000).max(1),
            pos: 0,
            win_len: 0,
            win_sq: 0.0,
            win_first: None,
            win_last: None,
            first: None,
            last: None,
            floor: 10f64.powf(INAUDIBLE_DB / 20.0) as f32,
            first_sound: None,
            last_sound: None,
        }
    }

    /// One sample's level: its magnitude in full scale (0..=1); for several
    /// channels, the largest of them.
    #[inline]
    pub fn push(&mut self, level: f32) {
        self.win_sq += f64::from(level) * f64::from(level);
        if level > self.floor {
            self.first_sound.get_or_insert(self.pos);
            self.last_sound = Some(self.pos);
            if level > self.threshold {
                self.win_first.get_or_insert(self.pos);
                self.win_last = Some(self.pos);
            }
        }
        self.pos += 1;
        self.win_len += 1;
        if self.win_len == self.window {
            self.close_window();
        }
    }

    /// A block of 16-bit samples.
    pub fn push_i16(&mut self, block: &[i16]) {
        for &s in block {
            self.push(f32::from(s).abs() / 32_768.0);
        }
    }

    fn close_window(&mut self) {
        if self.win_len > 0 && self.win_sq > self.threshold_sq * self.win_len as f64 {
            // RMS above the threshold implies a sample above it.
            if self.first.is_none() {
                self.first = self.win_first;
            }
            self.last = self.win_last.map(|l| l + 1);
        }
        self.win_len = 0;
        self.win_sq = 0.0;
        self.win_first = None;
        self.win_last = None;
    }

    pub fn finish(mut self) -> Speech {
        self.close_window();
        Speech {
            samples: self.pos,
            edges: self.first.zip(self.last).map(|(a, b)| a..b),
            sound: self.first_sound.zip(self.last_sound).map(|(a, b)| a..b + 1),
        }
    }
}

/// The speech edges of a whole block of samples.
pub fn speech_in(samples: &[i16], sample_rate: u32, threshold_db: f64) -> Speech {
    let mut detector = SpeechDetector::new(sample_rate, threshold_db);
    detector.push_i16(samples);
    detector.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_between_silences_has_exact_edges() {
        let mut s = vec![0i16; 1_000];
        s.extend((0..2_345).map(|i| if i % 2 == 0 { 3_000 } else { -3_000 }));
        s.extend(vec![0i16; 777]);
        s[400] = 1;
        s[500] = 2;
        s[3_900] = -2;
        let speech = speech_in(&s, 24_000, -50.0);
        assert_eq!(speech.edges, Some(1_000..3_345));
        // Sound: over the lowest bit.
        assert_eq!(speech.sound, Some(500..3_901));
        assert_eq!((speech.head(), speech.tail()), (1_000, 777));
    }

    #[test]
    fn clicks_and_a_noise_floor_are_not_speech() {
        // -60 dB of alternating noise with a -30 dBFS click every 50 ms.
        let mut s: Vec<i16> = (0..24_000)
            .map(|i| if i % 2 == 0 { 33 } else { -33 })
            .collect();
        for i in (0..24_000).step_by(1_200) {
            s[i] = 1_000;
        }
        let speech = speech_in(&s, 24_000, -50.0);
        assert_eq!(speech.edges, None);
        assert_eq!((speech.head(), speech.tail()), (24_000, 24_000));
    }

    #[test]
    fn a_soft_onset_starts_at_its_first_sample_above_the_threshold() {
        // A ramp from silence: the edge is the first sample over -50 dBFS
        // (103.6 of 32768) in the first window whose RMS is over it.
        let mut s = vec![0i16; 480];
        s.extend((0..960).map(|i| (i * 8) as i16));
        let speech = speech_in(&s, 24_000, -50.0);
        let first_loud = 480 + (0..960).find(|i| i * 8 >= 104).unwrap() as u64;
        let edges = speech.edges.unwrap();
        assert!(edges.start >= first_loud, "{edges:?}");
        assert!(edges.start < first_loud + 240, "{edges:?}");
    }
}
