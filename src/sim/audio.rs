//! The audio the simulator answers with: real mono s16le PCM at the requested
//! rate, from a quiet test tone or the embedded engine, packed as raw PCM or
//! WAV, cut into stream chunks, plus made-up word timings for timestamps.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

use crate::job::Voice;
use crate::provider::local::LocalEngine;
use crate::provider::{Clip, ProviderError, SynthRequest, Synthesizer};

/// Tone length per non-space character, and the floor.
const TONE_MS_PER_CHAR: f64 = 60.0;
const TONE_MIN_MS: f64 = 200.0;
const TONE_HZ: f64 = 440.0;
/// About −20 dBFS: audible, never loud.
const TONE_AMPLITUDE: f64 = 0.1 * i16::MAX as f64;

/// What the client asked to hear.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Voicing {
    pub sample_rate: u32,
    /// 1.0 = normal pace.
    pub speed: f64,
    /// 1.0 = unchanged volume.
    pub gain: f64,
}

/// The two containers the simulator can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Pcm,
    Wav,
}

/// The embedded engines built so far, one per (sample rate, speed), since
/// building one may load voice data.
#[derive(Default)]
pub(crate) struct Engines {
    built: Mutex<HashMap<(u32, u64), Arc<LocalEngine>>>,
}

/// Renders `text`: the tone when `tone` is set, else the embedded engine.
pub(crate) async fn render(
    tone: bool,
    engines: &Engines,
    cache_root: &Path,
    text: &str,
    voicing: Voicing,
) -> Result<Clip, ProviderError> {
    let mut clip = if tone {
        tone_clip(text, voicing)
    } else {
        engine_clip(engines, cache_root, text, voicing).await?
    };
    apply_gain(&mut clip.samples, voicing.gain);
    Ok(clip)
}

/// A sine tone whose length is proportional to the text, divided by speed.
pub(crate) fn tone_clip(text: &str, voicing: Voicing) -> Clip {
    let chars = text.chars().filter(|c| !c.is_whitespace()).count() as f64;
    let ms = (chars * TONE_MS_PER_CHAR).max(TONE_MIN_MS) / voicing.speed.max(0.1);
    let rate = f64::from(voicing.sample_rate);
    let n = (ms / 1000.0 * rate).round() as usize;
    let samples = (0..n)
        .map(|i| {
            let t = i as f64 / rate;
            (TONE_AMPLITUDE * (std::f64::consts::TAU * TONE_HZ * t).sin()) as i16
        })
        .collect();
    Clip::new(voicing.sample_rate, samples)
}

/// The one place the simulator calls the embedded engine.
async fn engine_clip(
    engines: &Engines,
    cache_root: &Path,
    text: &str,
    voicing: Voicing,
) -> Result<Clip, ProviderError> {
    let engine = engines.get(cache_root, voicing)?;
    engine
        .synthesize(&SynthRequest {
            text: text.to_owned(),
        })
        .await
}

impl Engines {
    fn get(&self, cache_root: &Path, voicing: Voicing) -> Result<Arc<LocalEngine>, ProviderError> {
        let key = (voicing.sample_rate, (voicing.speed * 1000.0).round() as u64);
        let mut built = self.built.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(engine) = built.get(&key) {
            return Ok(Arc::clone(engine));
        }
        let voice = Voice::local("auto", voicing.speed as f32, 50);
        let engine = Arc::new(LocalEngine::new(cache_root, &voice, voicing.sample_rate)?);
        built.insert(key, Arc::clone(&engine));
        Ok(engine)
    }
}

fn apply_gain(samples: &mut [i16], gain: f64) {
    if (gain - 1.0).abs() < f64::EPSILON {
        return;
    }
    for s in samples {
        *s = (f64::from(*s) * gain).clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16;
    }
}

/// Little-endian 16-bit samples.
pub(crate) fn pcm_bytes(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// The clip as a file in `format`.
pub(crate) fn encode(clip: &Clip, format: Format) -> Result<Vec<u8>, hound::Error> {
    match format {
        Format::Pcm => Ok(pcm_bytes(&clip.samples)),
        Format::Wav => wav_bytes(clip),
    }
}

fn wav_bytes(clip: &Clip) -> Result<Vec<u8>, hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: clip.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::with_capacity(44 + clip.samples.len() * 2));
    let mut writer = hound::WavWriter::new(&mut cursor, spec)?;
    for &s in &clip.samples {
        writer.write_sample(s)?;
    }
    writer.finalize()?;
    Ok(cursor.into_inner())
}

pub(crate) fn duration_ms(clip: &Clip) -> u64 {
    (clip.duration_secs() * 1000.0).round() as u64
}

/// PCM bytes per stream chunk of `chunk_ms` (whole samples, at least one).
pub(crate) fn chunk_bytes(sample_rate: u32, chunk_ms: u32) -> usize {
    let samples = (u64::from(sample_rate) * u64::from(chunk_ms) / 1000).max(1);
    samples as usize * 2
}

/// One timed word, in ms, as Volcengine's `frontend.words`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct WordTiming {
    pub word: String,
    pub start_time: u64,
    pub end_time: u64,
    pub confidence: f64,
}

/// Plausible timings: one word per CJK character or Latin word, the clip's
/// duration shared out by character count. Punctuation gets no word.
pub(crate) fn word_timings(text: &str, total_ms: u64) -> Vec<WordTiming> {
    let words = split_words(text);
    let weight: usize = words.iter().map(|w| w.chars().count()).sum();
    if weight == 0 {
        return Vec::new();
    }
    let mut done = 0usize;
    words
        .into_iter()
        .map(|word| {
            let start = total_ms * done as u64 / weight as u64;
            done += word.chars().count();
            let end = total_ms * done as u64 / weight as u64;
            WordTiming {
                word,
                start_time: start,
                end_time: end,
                confidence: 0.9,
            }
        })
        .collect()
}

fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut latin = String::new();
    for c in text.chars() {
        if is_cjk(c) {
            flush(&mut latin, &mut words);
            words.push(c.to_string());
        } else if c.is_alphanumeric() || (c == '\'' && !latin.is_empty()) {
            latin.push(c);
        } else {
            flush(&mut latin, &mut words);
        }
    }
    flush(&mut latin, &mut words);
    words
}

fn flush(latin: &mut String, words: &mut Vec<String>) {
    if !latin.is_empty() {
        words.push(std::mem::take(latin));
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F
        | 0x3040..=0x30FF | 0xAC00..=0xD7AF)
}

/// True when the text has nothing to speak: empty, or only punctuation,
/// symbols (emoji) and spaces. Volcengine answers such text with 3011.
pub(crate) fn is_unspeakable(text: &str) -> bool {
    !text.chars().any(char::is_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_tone_length_follows_text_and_speed() {
        let v = Voicing {
            sample_rate: 16000,
            speed: 1.0,
            gain: 1.0,
        };
        assert_eq!(tone_clip("ab", v).samples.len(), 3200); // the 200 ms floor
        assert_eq!(tone_clip("一二三四五", v).samples.len(), 4800);
        let fast = Voicing { speed: 2.0, ..v };
        assert_eq!(tone_clip("一二三四五", fast).samples.len(), 2400);
    }

    #[test]
    fn sim_words_split_cjk_per_char_and_latin_per_word() {
        let t = word_timings("今天 nice day!", 1000);
        let words: Vec<_> = t.iter().map(|w| w.word.as_str()).collect();
        assert_eq!(words, ["今", "天", "nice", "day"]);
        assert_eq!(t.last().map(|w| w.end_time), Some(1000));
        assert!(is_unspeakable("。！？…🙂 "));
        assert!(!is_unspeakable("a。"));
    }
}
