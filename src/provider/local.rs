//! The embedded offline engine: eSpeak NG (pure Rust port) behind the
//! [`Synthesizer`] contract. It owns installing the engine's data once per
//! workspace, choosing a language per script run in `auto` mode, running the
//! CPU-bound synthesis off the async runtime, and resampling the engine's fixed
//! 22050 Hz output to the job's sample rate.

use std::collections::HashSet;
use std::fs;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use espeak_ng::EspeakNg;

use crate::job::Voice;
use crate::provider::resample::ResamplerPool;
use crate::provider::{Clip, ErrorClass, ProviderError, SynthRequest, Synthesizer};

/// The engine always renders at this rate.
const ENGINE_RATE: u32 = 22_050;
/// The voice's normal pace in words per minute, and the range the engine accepts.
const BASE_WPM: f32 = 175.0;
const MIN_WPM: u32 = 80;
const MAX_WPM: u32 = 450;
/// The languages whose data is compiled in (see the crate features in Cargo.toml).
const BUNDLED: &[&str] = &["en", "cmn"];
/// Bump when the script splitting or the resampling changes the audio, so
/// cached clips from the old scheme are not reused.
const SCHEME: &str = "v1";

/// The embedded eSpeak NG engine, configured for one voice and sample rate.
/// Cheap to share; every call runs on tokio's blocking pool.
pub struct LocalEngine {
    inner: Arc<Inner>,
}

struct Inner {
    voices: Voices,
    resampler: Option<ResamplerPool>,
    sample_rate: u32,
    data_dir: PathBuf,
}

/// `auto` keeps one engine per language and picks by script; an explicit
/// voice uses one engine for all text.
// Built once per job and never moved afterwards, so the size gap is harmless.
#[allow(clippy::large_enum_variant)]
enum Voices {
    Auto { en: EspeakNg, cmn: EspeakNg },
    Fixed(EspeakNg),
}

impl LocalEngine {
    /// Installs the engine data under `cache_root/espeak-ng-data/<version>/`
    /// (once; later calls reuse it) and builds the engine for `voice`. An
    /// unknown voice fails here, not on the first segment.
    pub fn new(cache_root: &Path, voice: &Voice, sample_rate: u32) -> Result<Self, ProviderError> {
        if sample_rate == 0 {
            return Err(permanent("the sample rate must be above 0 Hz"));
        }
        let data_dir = install_data(cache_root)
            .map_err(|e| permanent(format!("installing the espeak-ng data: {e}")))?;
        let wpm = words_per_minute(voice.speed);
        let pitch = u32::from(voice.pitch.min(100));
        let voices = build_voices(&voice.voice, wpm, pitch, &data_dir)?;
        let resampler = (sample_rate != ENGINE_RATE)
            .then(|| ResamplerPool::new(ENGINE_RATE, sample_rate))
            .transpose()?;
        let inner = Inner {
            voices,
            resampler,
            sample_rate,
            data_dir,
        };
        Ok(LocalEngine {
            inner: Arc::new(inner),
        })
    }

    /// Where the engine's data is installed.
    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }
}

/// Everything besides the text that changes the engine's audio.
pub fn fingerprint(voice: &Voice, sample_rate: u32) -> String {
    let wpm = words_per_minute(voice.speed);
    let pitch = u32::from(voice.pitch.min(100));
    format!(
        "local/{SCHEME}/espeak-ng-{}/voice={}/speed={:.2}/wpm={wpm}/pitch={pitch}/rate={sample_rate}/rubato-5-fft",
        EspeakNg::version(),
        voice.voice,
        voice.speed,
    )
}

impl Synthesizer for LocalEngine {
    fn synthesize(
        &self,
        request: &SynthRequest,
    ) -> impl Future<Output = Result<Clip, ProviderError>> + Send {
        let inner = Arc::clone(&self.inner);
        let text = request.text.clone();
        async move {
            tokio::task::spawn_blocking(move || inner.synthesize(&text))
                .await
                .map_err(|e| permanent(format!("the engine task failed: {e}")))?
        }
    }
}

impl Inner {
    fn synthesize(&self, text: &str) -> Result<Clip, ProviderError> {
        let pcm = self.render(text)?;
        if pcm.is_empty() {
            return Err(ProviderError::new(
                ErrorClass::Unspeakable,
                format!("the engine produced no audio for {:?}", preview(text)),
            ));
        }
        let samples = match &self.resampler {
            Some(pool) => pool.resample(&pcm)?,
            None => pcm,
        };
        Ok(Clip::new(self.sample_rate, samples))
    }

    /// Engine-rate PCM for the whole text, run by run in `auto` mode.
    fn render(&self, text: &str) -> Result<Vec<i16>, ProviderError> {
        match &self.voices {
            Voices::Fixed(engine) => synth(engine, text),
            Voices::Auto { en, cmn } => {
                let runs = script_runs(text);
                let last = runs.len().saturating_sub(1);
                let mut pcm = Vec::new();
                for (i, run) in runs.iter().enumerate() {
                    let engine = if run.han { cmn } else { en };
                    let mut part = synth(engine, run.text)?;
                    // Each run ends with the engine's end-of-utterance pause;
                    // inside a sentence that would sound like a full stop.
                    if i != last {
                        trim_trailing_silence(&mut part);
                    }
                    pcm.extend_from_slice(&part);
                }
                Ok(pcm)
            }
        }
    }
}

fn synth(engine: &EspeakNg, text: &str) -> Result<Vec<i16>, ProviderError> {
    let (pcm, rate) = engine
        .synth(text)
        .map_err(|e| permanent(format!("the engine failed on {:?}: {e}", preview(text))))?;
    if rate != ENGINE_RATE {
        return Err(permanent(format!(
            "the engine rendered at {rate} Hz, expected {ENGINE_RATE} Hz"
        )));
    }
    Ok(pcm)
}

fn permanent(message: impl Into<String>) -> ProviderError {
    ProviderError::new(ErrorClass::Permanent, message)
}

/// The start of a segment's text, for error messages.
fn preview(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    let mut out: String = text.chars().take(MAX_CHARS).collect();
    if text.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Speed factor to the engine's words per minute, kept within its range.
fn words_per_minute(speed: f32) -> u32 {
    let wpm = (BASE_WPM * speed).round();
    if wpm.is_finite() && wpm > 0.0 {
        (wpm as u32).clamp(MIN_WPM, MAX_WPM)
    } else {
        BASE_WPM as u32
    }
}

// ── data install ─────────────────────────────────────────────────────────

/// Installs the bundled data into a temp folder beside its final place and
/// renames it there, so a killed install never leaves a half folder that a
/// later run would trust.
fn install_data(cache_root: &Path) -> std::io::Result<PathBuf> {
    let parent = cache_root.join("espeak-ng-data");
    let target = parent.join(EspeakNg::version());
    if target.is_dir() {
        return Ok(target);
    }
    fs::create_dir_all(&parent).map_err(|e| with_path(e, "creating", &parent))?;
    let temp = crate::atomic::temp_path_beside(&target);
    let installed = espeak_ng::install_bundled_languages(&temp, BUNDLED)
        .map_err(|e| with_path(e, "writing", &temp))
        .and_then(|()| fs::rename(&temp, &target).map_err(|e| with_path(e, "renaming", &target)));
    match installed {
        Ok(()) => Ok(target),
        // Another process finished the same install first: use theirs.
        Err(_) if target.is_dir() => {
            let _ = fs::remove_dir_all(&temp);
            Ok(target)
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&temp);
            Err(e)
        }
    }
}

fn with_path(e: std::io::Error, doing: &str, path: &Path) -> std::io::Error {
    crate::atomic::annotate(e, &format!("{doing} {}", path.display()))
}

// ── voices ───────────────────────────────────────────────────────────────

fn build_voices(
    name: &str,
    wpm: u32,
    pitch: u32,
    data_dir: &Path,
) -> Result<Voices, ProviderError> {
    if name == "auto" {
        return Ok(Voices::Auto {
            en: build_engine("en", wpm, pitch, data_dir)?,
            cmn: build_engine("cmn", wpm, pitch, data_dir)?,
        });
    }
    build_engine(name, wpm, pitch, data_dir).map(Voices::Fixed)
}

/// Builds and probes an engine: building alone accepts any name, so a short
/// test phrase proves the voice's data is really there.
fn build_engine(
    lang: &str,
    wpm: u32,
    pitch: u32,
    data_dir: &Path,
) -> Result<EspeakNg, ProviderError> {
    let unknown = |detail: String| {
        permanent(format!(
            "unknown local voice {lang:?} ({detail}); use auto, or an espeak voice of a bundled language ({})",
            BUNDLED.join(", ")
        ))
    };
    if !is_bundled(lang) {
        return Err(unknown("its language data is not bundled".into()));
    }
    // The engine falls back to its default voice for a name it does not know
    // (`en-zz`), which would read the book in the wrong accent without a word.
    if !voice_tags(data_dir).contains(&base_tag(lang)) {
        return Err(unknown(format!(
            "no such voice in {}",
            data_dir.join("lang").display()
        )));
    }
    let engine = EspeakNg::builder()
        .voice(lang)
        .rate(wpm)
        .pitch(pitch)
        .data_dir(data_dir)
        .build()
        .map_err(|e| unknown(e.to_string()))?;
    match engine.synth(probe_text(lang)) {
        Ok((pcm, _)) if !pcm.is_empty() => Ok(engine),
        Ok(_) => Err(unknown("it produced no audio".into())),
        Err(e) => Err(unknown(e.to_string())),
    }
}

/// Every voice name and language tag the installed data declares: each file
/// under `lang/` is a voice, and its `language` lines are the tags it answers to.
fn voice_tags(data_dir: &Path) -> HashSet<String> {
    let mut tags = HashSet::new();
    let mut dirs = vec![data_dir.join("lang")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            tags.insert(entry.file_name().to_string_lossy().to_ascii_lowercase());
            let Ok(text) = fs::read_to_string(&path) else {
                continue;
            };
            let declared = text
                .lines()
                .filter_map(|line| line.strip_prefix("language "));
            tags.extend(
                declared
                    .filter_map(|rest| rest.split_whitespace().next())
                    .map(str::to_ascii_lowercase),
            );
        }
    }
    tags
}

/// A voice name without its `+variant` suffix, normalised like the engine does.
fn base_tag(lang: &str) -> String {
    let base = lang.split('+').next().unwrap_or(lang);
    base.trim().replace('_', "-").to_ascii_lowercase()
}

/// The base language of an espeak voice name (`en-gb+f3` → `en`).
fn is_bundled(lang: &str) -> bool {
    let base = lang.split(['-', '+', '_']).next().unwrap_or(lang);
    BUNDLED.iter().any(|b| b.eq_ignore_ascii_case(base))
}

fn probe_text(lang: &str) -> &'static str {
    if lang.to_ascii_lowercase().starts_with("cmn") {
        "你好"
    } else {
        "hello"
    }
}

// ── script runs ──────────────────────────────────────────────────────────

/// A stretch of text in one script: Han goes to the Mandarin voice, the rest
/// to English.
#[derive(Debug, PartialEq, Eq)]
struct Run<'a> {
    text: &'a str,
    han: bool,
}

/// Splits text where it switches between Han and other letters. Characters
/// that belong to neither (spaces, digits, punctuation) stay with the run
/// they follow, so "2024年" and "hello, world" are not cut apart.
fn script_runs(text: &str) -> Vec<Run<'_>> {
    let mut runs = Vec::new();
    let mut start = 0;
    let mut current: Option<bool> = None;
    for (i, c) in text.char_indices() {
        let Some(han) = letter_script(c) else {
            continue;
        };
        match current {
            Some(cur) if cur != han => {
                runs.push(Run {
                    text: &text[start..i],
                    han: cur,
                });
                start = i;
                current = Some(han);
            }
            Some(_) => {}
            None => current = Some(han),
        }
    }
    runs.push(Run {
        text: &text[start..],
        han: current.unwrap_or(false),
    });
    runs
}

/// `Some(true)` for Han, `Some(false)` for other letters, `None` for
/// characters that read the same in either voice's context.
fn letter_script(c: char) -> Option<bool> {
    if is_han(c) {
        Some(true)
    } else if c.is_alphabetic() {
        Some(false)
    } else {
        None
    }
}

fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2EBEF}'
        | '\u{30000}'..='\u{3134F}')
}

/// Drops the near-silent tail of a run (below about -54 dBFS).
fn trim_trailing_silence(pcm: &mut Vec<i16>) {
    const THRESHOLD: u16 = 64;
    let keep = pcm
        .iter()
        .rposition(|s| s.unsigned_abs() > THRESHOLD)
        .map_or(0, |i| i + 1);
    pcm.truncate(keep);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voice(name: &str, speed: f32) -> Voice {
        Voice::local(name, speed, 50)
    }

    fn request(text: &str) -> SynthRequest {
        SynthRequest { text: text.into() }
    }

    const TEN_WORDS: &str = "The quick brown fox jumps over the lazy sleeping dog.";

    #[tokio::test]
    async fn english_at_24k_has_plausible_duration() {
        let dir = tempfile::tempdir().unwrap();
        let engine = LocalEngine::new(dir.path(), &voice("auto", 1.0), 24_000).unwrap();
        let clip = engine.synthesize(&request(TEN_WORDS)).await.unwrap();
        assert_eq!(clip.sample_rate, 24_000);
        let secs = clip.duration_secs();
        assert!((1.5..8.0).contains(&secs), "{secs} s");
    }

    #[tokio::test]
    async fn chinese_at_24k_is_not_empty() {
        let dir = tempfile::tempdir().unwrap();
        let engine = LocalEngine::new(dir.path(), &voice("cmn", 1.0), 24_000).unwrap();
        let clip = engine
            .synthesize(&request("今天天气很好，我们去公园散步吧。"))
            .await
            .unwrap();
        assert_eq!(clip.sample_rate, 24_000);
        let secs = clip.duration_secs();
        assert!((1.0..8.0).contains(&secs), "{secs} s");
    }

    #[tokio::test]
    async fn auto_mixed_script_reads_both_parts() {
        let dir = tempfile::tempdir().unwrap();
        let engine = LocalEngine::new(dir.path(), &voice("auto", 1.0), 24_000).unwrap();
        let han = engine.synthesize(&request("他说世界")).await.unwrap();
        let mixed = engine
            .synthesize(&request("他说 hello 世界"))
            .await
            .unwrap();
        assert!(mixed.samples.len() > han.samples.len());
    }

    #[test]
    fn resampled_length_matches_the_ratio() {
        let pool = ResamplerPool::new(ENGINE_RATE, 24_000).unwrap();
        let input: Vec<i16> = (0..10_000).map(|i| ((i % 100) * 100) as i16).collect();
        let out = pool.resample(&input).unwrap();
        let expected = (10_000u64 * 24_000 + 11_025) / 22_050;
        assert!(out.len().abs_diff(expected as usize) <= 3, "{}", out.len());
    }

    #[tokio::test]
    async fn same_text_same_samples_across_engines() {
        let dir = tempfile::tempdir().unwrap();
        let a = LocalEngine::new(dir.path(), &voice("auto", 1.0), 24_000).unwrap();
        let b = LocalEngine::new(dir.path(), &voice("auto", 1.0), 24_000).unwrap();
        let clip_a = a.synthesize(&request(TEN_WORDS)).await.unwrap();
        let clip_b = b.synthesize(&request(TEN_WORDS)).await.unwrap();
        assert_eq!(clip_a, clip_b);
    }

    #[tokio::test]
    async fn double_speed_is_shorter() {
        let dir = tempfile::tempdir().unwrap();
        let normal = LocalEngine::new(dir.path(), &voice("en", 1.0), 24_000).unwrap();
        let fast = LocalEngine::new(dir.path(), &voice("en", 2.0), 24_000).unwrap();
        let n = normal.synthesize(&request(TEN_WORDS)).await.unwrap();
        let f = fast.synthesize(&request(TEN_WORDS)).await.unwrap();
        assert!(
            f.samples.len() * 10 < n.samples.len() * 8,
            "{} vs {}",
            f.samples.len(),
            n.samples.len()
        );
    }

    #[test]
    fn unknown_voice_fails_at_new() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["klingon", "de", "", "en-zz"] {
            let err = LocalEngine::new(dir.path(), &voice(name, 1.0), 24_000)
                .err()
                .unwrap_or_else(|| panic!("{name:?} was accepted"));
            assert_eq!(err.class, ErrorClass::Permanent);
            assert!(
                err.message.contains("unknown local voice"),
                "{}",
                err.message
            );
        }
    }

    #[test]
    fn explicit_bundled_voices_are_accepted() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["en", "en-us", "en-gb", "en_US", "en-gb+f3", "cmn"] {
            LocalEngine::new(dir.path(), &voice(name, 1.0), 22_050)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[tokio::test]
    async fn punctuation_only_is_unspeakable() {
        let dir = tempfile::tempdir().unwrap();
        let engine = LocalEngine::new(dir.path(), &voice("auto", 1.0), 24_000).unwrap();
        let err = engine.synthesize(&request("…”")).await.unwrap_err();
        assert_eq!(err.class, ErrorClass::Unspeakable);
    }

    #[test]
    fn data_install_is_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = LocalEngine::new(dir.path(), &voice("auto", 1.0), 24_000).unwrap();
        let phontab = first.data_dir().join("phontab");
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        fs::File::options()
            .write(true)
            .open(&phontab)
            .unwrap()
            .set_modified(old)
            .unwrap();

        let second = LocalEngine::new(dir.path(), &voice("en", 1.0), 24_000).unwrap();
        assert_eq!(first.data_dir(), second.data_dir());
        assert_eq!(fs::metadata(&phontab).unwrap().modified().unwrap(), old);
        let entries: Vec<_> = fs::read_dir(dir.path().join("espeak-ng-data"))
            .unwrap()
            .collect();
        assert_eq!(entries.len(), 1, "leftover temp folders: {entries:?}");
    }

    #[test]
    fn fingerprint_changes_with_every_setting() {
        let print = |name: &str, speed: f32, rate: u32| fingerprint(&voice(name, speed), rate);
        let base = print("auto", 1.0, 24_000);
        assert_eq!(base, print("auto", 1.0, 24_000));
        assert_ne!(base, print("auto", 1.5, 24_000));
        assert_ne!(base, print("en", 1.0, 24_000));
        assert_ne!(base, print("auto", 1.0, 44_100));
        assert!(
            base.starts_with("local/v1/espeak-ng-0.2.0/voice=auto/speed=1.00/"),
            "{base}"
        );
    }

    #[test]
    fn script_runs_split_han_from_latin() {
        let runs = script_runs("他说 hello 世界");
        let got: Vec<_> = runs.iter().map(|r| (r.text, r.han)).collect();
        assert_eq!(got, [("他说 ", true), ("hello ", false), ("世界", true)]);
        assert_eq!(
            script_runs("2024年。"),
            [Run {
                text: "2024年。",
                han: true
            }]
        );
        assert_eq!(
            script_runs("…"),
            [Run {
                text: "…",
                han: false
            }]
        );
    }

    #[test]
    fn wpm_follows_speed_within_range() {
        assert_eq!(words_per_minute(1.0), 175);
        assert_eq!(words_per_minute(2.0), 350);
        assert_eq!(words_per_minute(0.25), 80);
        assert_eq!(words_per_minute(f32::NAN), 175);
    }
}
