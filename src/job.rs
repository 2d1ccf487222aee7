//! Job files: TOML parsed, then validated once into a [`Job`]. This module
//! owns the job file format, its defaults and every message about it. Every
//! error names the job file, the line and column, what is wrong and what to
//! do, because job files run from cron and a typo must never become a silent
//! default. Code downstream of this module never re-checks a value.
//!
//! Two steps: [`parse`] reads the text (with a folder's `defaults.toml`
//! merged under it) into the [`raw`] structs, collecting every unknown key
//! and wrong type; [`load()`] then validates everything at once, including
//! the file system (manuscripts exist, output dir creatable), writing
//! nothing. [`overrides`] changes a loaded job for one run (`--draft`,
//! `--output`).
//!
//! This file holds what a validated job is (the types below); the loading
//! steps are in `load`, the shared value checks in `check`, and each table
//! of the file is checked in the file named after it (`manuscript`,
//! `voice` with `cloud` and `volcengine`, `master` with `[audio]`,
//! `render`, `notify`, and `delivery` for `[book]`'s metadata and
//! `[output]`'s formats, `paths` for the files and folders).

mod check;
mod cloud;
mod delivery;
mod diag;
mod load;
mod manuscript;
mod many;
mod master;
mod notify;
mod overrides;
mod parse;
mod paths;
pub mod ranges;
mod raw;
mod render;
#[cfg(test)]
mod tests;
mod voice;
mod volcengine;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::segment::Limits;

use check::Check;
pub use delivery::{
    BookMeta, COVER_MIN_PX, Cover, Delivery, Format, MP3_BITRATES, Split, SubtitleFormat,
    read_cover,
};
pub use load::{load, load_with, sibling_defaults};
pub use many::{load_many, shared_outputs};
pub use master::{Master, Profile, Target};
pub use notify::notify_commands;
pub use paths::FilesEntry;

/// The file name of a folder's shared defaults, merged under every job file
/// in that folder and never a job itself.
pub const DEFAULTS_FILE: &str = "defaults.toml";

/// A validated job: one book.
#[derive(Debug, Clone)]
pub struct Job {
    /// The job file, absolute.
    pub path: PathBuf,
    /// The job's name: the job file's stem. Used in logs and `status`.
    pub name: String,
    pub book: Book,
    pub manuscript: Manuscript,
    pub voice: Voice,
    pub audio: Audio,
    /// `[master]`: loudness, peaks and room tone of the delivered files.
    pub master: Master,
    pub render: Render,
    pub output: Output,
    pub notify: Notify,
    /// The defaults file merged under this job, if any.
    pub defaults: Option<PathBuf>,
    /// A `--draft` copy of the job (embedded engine, its own output folder
    /// and state); `path` then ends in `#draft`.
    pub draft: bool,
    /// Things worth fixing that do not stop a render (a small cover).
    pub warnings: Vec<String>,
}

/// `[notify]`: what to run when a render ends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Notify {
    /// A shell command (`sh -c`), given the run's outcome as JSON on stdin
    /// and in `AUDIOBOOK_*` variables.
    pub command: Option<String>,
    /// How long it may run before it is killed.
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct Book {
    pub title: String,
    pub author: Option<String>,
    pub language: Language,
    /// Who reads the book: as written, or "Synthetic voice: …" naming the voice.
    pub narrator: String,
    pub meta: BookMeta,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Zh,
    En,
    Mixed,
}

#[derive(Debug, Clone)]
pub struct Manuscript {
    /// Absolute paths, globs expanded, in the order given (each glob sorted).
    pub files: Vec<PathBuf>,
    pub chapters: ChapterRule,
    pub encoding: Encoding,
    pub limits: Limits,
    /// Skip bracketed editorial blocks such as `[Illustration: ...]`.
    pub skip_brackets: bool,
    /// Text before the first chapter (and EPUB front and back matter).
    pub front_matter: FrontMatter,
    pub tables: Tables,
    /// The pronunciation lexicon, every file read and checked.
    pub lexicon: crate::lexicon::Lexicon,
    /// The `files` entries as written, to check a moved output folder
    /// against (the files they will match do not exist yet).
    pub entries: Vec<FilesEntry>,
}

/// What becomes of front matter: text before the first chapter heading,
/// and in EPUBs the cover, title page, copyright page, table of contents
/// and back matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontMatter {
    Skip,
    Chapter,
}

/// Tables in Markdown, EPUB and DOCX: skipped, or read one row at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tables {
    Skip,
    Rows,
}

#[derive(Debug, Clone)]
pub enum ChapterRule {
    /// Markdown `#` headings start chapters.
    Headings,
    /// Each file is one chapter.
    Files,
    /// A line matching the pattern starts a chapter; its first capture
    /// group, when it has one, is the title and all that is spoken.
    Regex(regex::Regex),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Auto,
    Utf8,
    Gbk,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    Local,
    Coze,
    Volcengine,
}

/// How a cloud provider is reached. The local engine has no transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Http,
    WebSocket,
}

#[derive(Debug, Clone)]
pub struct Voice {
    /// The provider's kind; `settings` holds the same choice with its table.
    pub provider: ProviderKind,
    /// `Http` unless a cloud provider asks for `websocket`.
    pub transport: Transport,
    /// Provider-specific voice name. For `local`: `auto` (by script), `en`,
    /// `en-us`, `cmn`, ... For cloud providers: the voice id (Coze
    /// `voice_id`, Volcengine `voice_type`), never `auto`.
    pub voice: String,
    /// Speaking rate factor, 1.0 = the voice's normal pace. Range by
    /// provider: local and Coze 0.5..=2.0, Volcengine 0.2..=3.0.
    pub speed: f32,
    /// Local engine: base pitch 0..=100.
    pub pitch: u8,
    /// Local engine: read editorial notes in 【】 instead of skipping them.
    pub keep_notes: bool,
    /// The provider's own table (`[voice.coze]`, `[voice.volcengine]`).
    pub settings: ProviderSettings,
}

impl Voice {
    /// The embedded engine with the given voice name, speed and pitch.
    pub fn local(voice: &str, speed: f32, pitch: u8) -> Voice {
        Voice {
            provider: ProviderKind::Local,
            transport: Transport::Http,
            voice: voice.to_string(),
            speed,
            pitch,
            keep_notes: false,
            settings: ProviderSettings::Local,
        }
    }
}

/// The provider-specific part of `[voice]`, one variant per provider.
#[derive(Debug, Clone)]
pub enum ProviderSettings {
    Local,
    Coze(CozeConfig),
    Volcengine(VolcengineConfig),
}

/// `[voice.coze]`. Optional audio parameters are `None` when not written,
/// so the request leaves them to the service's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct CozeConfig {
    /// HTTP base, no trailing slash (default `https://api.coze.cn`).
    pub base_url: String,
    /// WebSocket base, no trailing slash: `ws_url` as written, or derived
    /// from `base_url` (`https`→`wss`, `http`→`ws`, and only for the
    /// official hosts `api.coze.cn`/`api.coze.com` → `ws.`).
    pub ws_url: String,
    /// The environment variable holding the token (default `COZE_API_TOKEN`).
    pub token_env: String,
    pub emotion: Option<String>,
    /// 1.0..=5.0; needs `emotion`.
    pub emotion_scale: Option<f32>,
    /// -50..=100.
    pub loudness_rate: Option<i32>,
    pub context_texts: Option<String>,
    /// `response_format` over HTTP: pcm (default) or wav.
    pub response_format: AudioFormat,
    /// Whole-request timeout (HTTP), or the longest wait for one message (WebSocket).
    pub timeout: Duration,
}

/// `[voice.volcengine]` (openspeech v1).
#[derive(Debug, Clone, PartialEq)]
pub struct VolcengineConfig {
    /// HTTP base, no trailing slash (default `https://openspeech.bytedance.com`).
    pub base_url: String,
    /// WebSocket base: `ws_url` as written or `base_url` with `ws`/`wss`.
    pub ws_url: String,
    pub appid: String,
    /// `audio.encoding`: pcm (default) or wav (HTTP only: wav cannot stream).
    pub encoding: AudioFormat,
    /// Default `volcano_tts`; clone voices use `volcano_icl`.
    pub cluster: String,
    /// Default `audiobook`.
    pub uid: String,
    /// The environment variable holding the token (default `VOLCENGINE_TOKEN`).
    pub token_env: String,
    pub emotion: Option<String>,
    pub enable_emotion: Option<bool>,
    /// 1.0..=5.0.
    pub emotion_scale: Option<f32>,
    pub explicit_language: Option<String>,
    pub context_language: Option<String>,
    /// 0.5..=2.0.
    pub loudness_ratio: Option<f32>,
    pub text_type: TextType,
    /// Trailing silence in ms, 0..=30000.
    pub silence_duration: Option<u32>,
    /// Ask for word timings (logged at debug level; not yet returned).
    pub with_timestamp: bool,
    /// `extra_param` as the JSON-encoded string the service expects (keys
    /// sorted, so the fingerprint is stable).
    pub extra_param: Option<String>,
    pub timeout: Duration,
}

/// The audio format asked of a cloud provider: lossless only, because the
/// book is stitched from PCM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioFormat {
    Pcm,
    Wav,
}

impl AudioFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            AudioFormat::Pcm => "pcm",
            AudioFormat::Wav => "wav",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextType {
    Plain,
    Ssml,
}

impl TextType {
    pub fn as_str(self) -> &'static str {
        match self {
            TextType::Plain => "plain",
            TextType::Ssml => "ssml",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audio {
    pub sample_rate: u32,
    pub sentence_gap_ms: u32,
    pub paragraph_gap_ms: u32,
    pub chapter_head_ms: u32,
    pub chapter_trailing_ms: u32,
    /// How each clip's own leading and trailing silence is cut at stitch time.
    pub trim: Trim,
}

/// `[audio] trim`, `trim_threshold_db`, `trim_hold_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trim {
    pub enabled: bool,
    /// Speech is above this level (dBFS, RMS over 10 ms, then per sample).
    pub threshold_db: i32,
    /// Sound below the threshold kept around the speech, inside the pauses.
    pub hold_ms: u32,
}

impl Default for Trim {
    fn default() -> Self {
        Trim {
            enabled: true,
            threshold_db: -50,
            hold_ms: 40,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Render {
    pub concurrency: usize,
    pub max_attempts: u32,
    /// Stop starting new segments once this many characters were sent in
    /// one run (`--max-characters` overrides it).
    pub max_characters_per_run: Option<u64>,
    /// The provider's price, for `plan`'s cost estimate.
    pub price_per_million_characters: Option<f64>,
    pub currency: String,
}

#[derive(Debug, Clone)]
pub struct Output {
    pub dir: PathBuf,
    pub delivery: Delivery,
}

/// A job file that cannot be used. `Display` is the full message for the user.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JobError(pub String);

impl JobError {
    /// An error about a file as a whole, no position to point at.
    fn about(path: &Path, message: impl std::fmt::Display) -> Self {
        JobError(format!("{}: {message}", path.display()))
    }
}
