//! The embedded offline engine: eSpeak NG (pure Rust port, with the fixes in
//! `vendor/espeak-ng/PATCHES.md`) behind the [`Synthesizer`] contract. It owns
//! installing the engine's data once per workspace, the local voice names
//! (`zh` and `zh-cn` are Mandarin), normalising each segment's text
//! ([`normalize`]), choosing a language per script run in `auto` mode
//! ([`script`]), running the CPU-bound synthesis off the async runtime, and
//! resampling the engine's fixed 22050 Hz output to the job's sample rate
//! ([`resample`]).

pub mod normalize;
mod script;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::fs;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use espeak_ng::EspeakNg;

use crate::job::Voice;
use crate::provider::resample::ResamplerPool;
use crate::provider::{Clip, ErrorClass, ProviderError, SynthRequest, Synthesizer};
use normalize::{Normalizer, Reading};
use script::{script_runs, trim_trailing_silence};

/// The engine always renders at this rate.
const ENGINE_RATE: u32 = 22_050;
/// The voice's normal pace in words per minute, and the range the engine accepts.
const BASE_WPM: f32 = 175.0;
const MIN_WPM: u32 = 80;
const MAX_WPM: u32 = 450;
/// The languages whose data is compiled in (see the crate features in Cargo.toml).
const BUNDLED: &[&str] = &["en", "cmn"];
/// Bump when the script splitting or the resampling changes the audio, so
/// cached clips from the old scheme are not reused. (A change to the engine
/// itself shows in its version, a change to normalisation in
/// [`normalize::VERSION`]: both are in the fingerprint too.)
const SCHEME: &str = "v1";

/// The embedded eSpeak NG engine, configured for one voice and sample rate.
/// Cheap to share; every call runs on tokio's blocking pool.
pub struct LocalEngine {
    inner: Arc<Inner>,
}

struct Inner {
    voices: Voices,
    normalizer: Normalizer,
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
        let name = espeak_voice(&voice.voice);
        let voices = build_voices(&name, wpm, pitch, &data_dir)?;
        let resampler = (sample_rate != ENGINE_RATE)
            .then(|| ResamplerPool::new(ENGINE_RATE, sample_rate))
            .transpose()?;
        let inner = Inner {
            voices,
            normalizer: normalizer(voice),
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

/// Everything besides the text that changes the engine's audio: the engine
/// version (which carries our patch level), the voice as the engine knows it
/// (`zh` and `cmn` are one voice), speed, pitch, rate, and the normalisation
/// rules' version and whether notes are kept. The text in the content key is
/// the segment's own; the normalised text is a function of it and these.
pub fn fingerprint(voice: &Voice, sample_rate: u32) -> String {
    let wpm = words_per_minute(voice.speed);
    let pitch = u32::from(voice.pitch.min(100));
    let notes = if voice.keep_notes { "keep" } else { "skip" };
    format!(
        "local/{SCHEME}/espeak-ng-{}/voice={}/speed={:.2}/wpm={wpm}/pitch={pitch}/rate={sample_rate}/rubato-5-fft/normalize-v{}/notes={notes}",
        EspeakNg::version(),
        espeak_voice(&voice.voice),
        voice.speed,
        normalize::VERSION,
    )
}

/// The engine's name for a local voice: `zh` and `zh-cn` (any case, `_` or
/// `-`) are Mandarin, `cmn`; other names pass through.
fn espeak_voice(name: &str) -> String {
    let (base, variant) = match name.split_once('+') {
        Some((base, variant)) => (base, Some(variant)),
        None => (name, None),
    };
    let canonical = base.trim().replace('_', "-").to_ascii_lowercase();
    let base = match canonical.as_str() {
        "zh" | "zh-cn" => "cmn",
        _ => base,
    };
    match variant {
        Some(variant) => format!("{base}+{variant}"),
        None => base.to_string(),
    }
}

/// Numbers are read in the voice's language, or by context with `auto`.
fn normalizer(voice: &Voice) -> Normalizer {
    let name = espeak_voice(&voice.voice);
    let reading = if name == "auto" {
        Reading::Auto
    } else if name.to_ascii_lowercase().starts_with("cmn") {
        Reading::Chinese
    } else {
        Reading::English
    };
    Normalizer::new(reading, voice.keep_notes)
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
        let spoken = self.normalizer.normalize(text);
        let pcm = if spoken.trim().is_empty() {
            // Nothing left to say (a segment that was only a note).
            Vec::new()
        } else {
            self.render(&spoken)?
        };
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
/// later run would trust. The temp folder is named like every temp file we
/// make (`.VERSION.PID.N.tmp`), so the half folder of an install that was
/// killed is recognised, and removed here the next time the engine starts.
fn install_data(cache_root: &Path) -> std::io::Result<PathBuf> {
    let parent = cache_root.join("espeak-ng-data");
    let target = parent.join(EspeakNg::version());
    match crate::atomic::remove_orphaned_temps(&parent) {
        Ok(0) => {}
        Ok(removed) => {
            tracing::info!(removed, dir = %parent.display(), "removed half-installed engine data left by a killed run");
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        // Only untidy: the install itself does not depend on it.
        Err(e) => tracing::warn!("cleaning {}: {e}", parent.display()),
    }
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
