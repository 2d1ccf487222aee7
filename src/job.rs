//! Job files: TOML parsed, then validated once into a [`Job`]. This module
//! owns the job file format, its defaults and every message about it. Every
//! error names the job file, the line and column, what is wrong and what to
//! do, because job files run from cron and a typo must never become a silent
//! default. Code downstream of this module never re-checks a value.
//!
//! Two steps: [`parse`] reads the text (with a folder's `defaults.toml`
//! merged under it) into the [`raw`] structs, collecting every unknown key
//! and wrong type; [`load`] then validates everything at once, including
//! the file system (manuscripts exist, output dir creatable), writing
//! nothing. [`overrides`] changes a loaded job for one run (`--draft`,
//! `--output`).

mod cloud;
mod delivery;
mod diag;
mod many;
mod master;
mod notify;
mod overrides;
mod parse;
mod paths;
pub mod ranges;
mod raw;
#[cfg(test)]
mod tests;
mod voice;
mod volcengine;

use std::collections::HashMap;
use std::fs;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use crate::segment::Limits;
pub use delivery::{
    BookMeta, COVER_MIN_PX, Cover, Delivery, Format, MP3_BITRATES, Split, SubtitleFormat,
    read_cover,
};
use diag::{Problems, Source};
pub use many::{load_many, shared_outputs};
pub use master::{Master, Profile, Target};
pub use notify::notify_commands;
use paths::Base;
pub use paths::FilesEntry;
use raw::{FileList, RawAudio, RawBook, RawManuscript, RawNotify, RawOutput, RawRender};

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

/// Reads, parses and validates a job file, with the `defaults.toml` beside
/// it merged under it. Writes nothing. When the file has several problems,
/// the error holds all of them, one per line.
pub fn load(path: &Path) -> Result<Job, JobError> {
    load_with(path, sibling_defaults(path).as_deref())
}

/// The `defaults.toml` in a job file's folder, when there is one (and the
/// job file is not that file).
pub fn sibling_defaults(job: &Path) -> Option<PathBuf> {
    let defaults = job.with_file_name(DEFAULTS_FILE);
    (job.file_name() != Some(DEFAULTS_FILE.as_ref()) && defaults.is_file()).then_some(defaults)
}

/// Like [`load`], with `defaults` (if any) merged under the job file: what
/// the job file sets wins, tables merge key by key. Paths in either resolve
/// against the job file's folder; every message names the file the value
/// came from.
pub fn load_with(path: &Path, defaults: Option<&Path>) -> Result<Job, JobError> {
    if path.file_name() == Some(DEFAULTS_FILE.as_ref()) {
        return Err(JobError::about(
            path,
            "this is a folder's shared defaults, merged under every job file beside it, \
             not a job; pass the folder or a job file",
        ));
    }
    let text = read_text(path)?;
    let defaults_text = defaults.map(read_text).transpose()?;
    let (src, padded) = Source::merged(path, &text, defaults.zip(defaults_text.as_deref()));
    let mut problems = Problems::new(src);
    let mut covered = Vec::new();
    let raw = parse::read(src, padded.as_deref(), &mut problems, &mut covered)?;
    let Some(raw) = raw else {
        problems.finish()?;
        return Err(JobError::about(path, "cannot be read"));
    };
    let abs = fs::canonicalize(path)
        .map_err(|e| JobError::about(path, format!("cannot read job file: {e}")))?;
    let name = job_name(path, &abs)?;
    let dir = abs.parent().unwrap_or(Path::new("/"));
    let mut check = Check::new(problems, Base::of(path, dir), covered);
    let book = check.book(raw.book);
    let manuscript = check.manuscript(raw.manuscript);
    let voice = check.voice(raw.voice);
    let master = check.master(raw.master);
    let audio = check.audio(raw.audio, &master);
    let mut job = Job {
        path: abs.clone(),
        name,
        book,
        manuscript,
        voice,
        audio,
        master,
        render: check.render(raw.render),
        output: check.output(raw.output),
        notify: check.notify(raw.notify),
        defaults: defaults.map(Path::to_path_buf),
        draft: false,
        warnings: Vec::new(),
    };
    check.manuscript_reads_no_output(&mut job);
    check.problems.finish()?;
    if job.book.narrator.is_empty() {
        job.book.narrator = default_narrator(&job.voice);
    }
    job.warnings = check.warnings;
    Ok(job)
}

/// The narrator credit of a synthetic voice: what a listener is owed.
fn default_narrator(voice: &Voice) -> String {
    let who = match voice.provider {
        ProviderKind::Local => format!("eSpeak NG ({})", voice.voice),
        ProviderKind::Coze => format!("Coze {}", voice.voice),
        ProviderKind::Volcengine => format!("Volcengine {}", voice.voice),
    };
    format!("Synthetic voice: {who}")
}

fn read_text(path: &Path) -> Result<String, JobError> {
    let bytes =
        fs::read(path).map_err(|e| JobError::about(path, format!("cannot read job file: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| not_utf8(path, &e))?;
    // Windows editors like to write a byte order mark; it is not TOML.
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

fn not_utf8(path: &Path, e: &std::string::FromUtf8Error) -> JobError {
    let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
    let src = Source {
        shown: path,
        text: std::str::from_utf8(valid).unwrap_or_default(),
        defaults: None,
    };
    JobError(src.at(
        valid.len(),
        "job file is not valid UTF-8; save it as UTF-8 (the manuscripts may stay GBK)",
    ))
}

/// The job's name is its file stem; it keys the job in logs and the store.
fn job_name(path: &Path, abs: &Path) -> Result<String, JobError> {
    abs.file_stem()
        .and_then(|stem| stem.to_str())
        .filter(|stem| !stem.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            JobError::about(
                path,
                "job file name is not valid UTF-8 or has no stem; rename it, e.g. book.toml",
            )
        })
}

const LANGUAGES: &[(&str, Language)] = &[
    ("zh", Language::Zh),
    ("en", Language::En),
    ("mixed", Language::Mixed),
];
const ENCODINGS: &[(&str, Encoding)] = &[
    ("auto", Encoding::Auto),
    ("utf-8", Encoding::Utf8),
    ("gbk", Encoding::Gbk),
];
const FRONT_MATTER: &[(&str, FrontMatter)] = &[
    ("skip", FrontMatter::Skip),
    ("chapter", FrontMatter::Chapter),
];
const TABLES: &[(&str, Tables)] = &[("skip", Tables::Skip), ("rows", Tables::Rows)];
const SAMPLE_RATES: &[i64] = &[8000, 16000, 22050, 24000, 32000, 44100, 48000];
const MAX_CHARS: RangeInclusive<i64> = 20..=300;
const MAX_BYTES: RangeInclusive<i64> = 60..=1024;
const GAP_MS: RangeInclusive<i64> = 0..=10_000;
const CHAPTER_SILENCE_MS: RangeInclusive<i64> = 0..=30_000;
const CONCURRENCY: RangeInclusive<i64> = 1..=64;
const MAX_CHARACTERS: RangeInclusive<i64> = 1..=1_000_000_000_000;
const MAX_ATTEMPTS: RangeInclusive<i64> = 1..=20;
const NOTIFY_TIMEOUT_SECS: RangeInclusive<i64> = 1..=3600;

#[derive(Clone, Copy)]
enum ChapterKind {
    Headings,
    Files,
    Regex,
}

/// Validation of one parsed job file. Each section is checked in full even
/// after an error (with defaults standing in), so every problem is reported.
struct Check<'a> {
    problems: Problems<'a>,
    base: Base<'a>,
    /// `[manuscript] files` entries as written, to check against the output.
    entries: Vec<Spanned<String>>,
    /// Dotted keys a structural problem already speaks for (a wrong type, or
    /// a misspelling whose suggestion names the key): not "missing" too.
    covered: Vec<String>,
    /// `[master] profile` was written in the job (not the default).
    profile_given: bool,
    warnings: Vec<String>,
}

impl<'a> Check<'a> {
    fn new(problems: Problems<'a>, base: Base<'a>, covered: Vec<String>) -> Check<'a> {
        Check {
            problems,
            base,
            entries: Vec::new(),
            covered,
            profile_given: false,
            warnings: Vec::new(),
        }
    }

    fn book(&mut self, raw: Option<Spanned<RawBook>>) -> Book {
        let mut book = Book {
            title: String::new(),
            author: None,
            language: Language::Mixed,
            narrator: String::new(),
            meta: BookMeta::default(),
        };
        let Some(raw) = self.required_table(raw, "book", "title") else {
            return book;
        };
        let (span, mut raw) = (raw.span(), raw.into_inner());
        book.meta = self.book_meta(&mut raw);
        book.narrator = book.meta.narrator.clone().unwrap_or_default();
        match raw.title {
            Some(title) => book.title = self.non_empty(title, "book", "title", "the book's title"),
            None => self.missing_key(span, "book", "title"),
        }
        book.author = raw
            .author
            .map(|author| self.non_empty(author, "book", "author", "a name or remove it"));
        // `auto` is what `segment --lang` used to call it: kept as an alias.
        let language = raw.language.map(|l| {
            if l.get_ref() == "auto" {
                Spanned::new(l.span(), "mixed".to_string())
            } else {
                l
            }
        });
        book.language = self
            .choice(language, "book", "language", LANGUAGES)
            .unwrap_or(Language::Mixed);
        book
    }

    fn manuscript(&mut self, raw: Option<Spanned<RawManuscript>>) -> Manuscript {
        let mut manuscript = Manuscript {
            files: Vec::new(),
            chapters: ChapterRule::Headings,
            encoding: Encoding::Auto,
            limits: Limits::default(),
            skip_brackets: true,
            front_matter: FrontMatter::Skip,
            tables: Tables::Skip,
            lexicon: crate::lexicon::Lexicon::default(),
            entries: Vec::new(),
        };
        let Some(raw) = self.required_table(raw, "manuscript", "files") else {
            return manuscript;
        };
        let (span, raw) = (raw.span(), raw.into_inner());
        match raw.files {
            Some(files) => manuscript.files = self.manuscript_files(files),
            None => self.missing_key(span, "manuscript", "files"),
        }
        manuscript.chapters = self.chapter_rule(raw.chapters, raw.chapter_pattern);
        manuscript.encoding = self
            .choice(raw.encoding, "manuscript", "encoding", ENCODINGS)
            .unwrap_or(Encoding::Auto);
        manuscript.limits = Limits {
            max_chars: self.int(raw.max_chars, "manuscript", "max_chars", MAX_CHARS, 300),
            max_bytes: self.int(raw.max_bytes, "manuscript", "max_bytes", MAX_BYTES, 1024),
        };
        manuscript.skip_brackets = raw.skip_brackets.unwrap_or(true);
        manuscript.front_matter = self
            .choice(raw.front_matter, "manuscript", "front_matter", FRONT_MATTER)
            .unwrap_or(FrontMatter::Skip);
        manuscript.tables = self
            .choice(raw.tables, "manuscript", "tables", TABLES)
            .unwrap_or(Tables::Skip);
        if let Some(files) = raw.lexicon {
            manuscript.lexicon = self.lexicon(files);
        }
        manuscript
    }

    /// Every lexicon file resolved, read and parsed; a problem points at
    /// the entry naming the file, and a malformed file names its own line.
    fn lexicon(&mut self, files: Spanned<FileList>) -> crate::lexicon::Lexicon {
        let mut paths = Vec::new();
        for entry in FileList::entries(files) {
            let span = entry.span();
            match self.base.expand(entry.get_ref()) {
                Ok(found) => {
                    for path in found {
                        match self.base.check_manuscript(&path) {
                            Ok(()) => paths.push(path),
                            Err(message) => {
                                self.problems.at(span.clone(), lexicon_message(&message))
                            }
                        }
                    }
                }
                Err(message) => self.problems.at(span, lexicon_message(&message)),
            }
        }
        match crate::lexicon::Lexicon::load(&paths, |p| self.base.show(p)) {
            Ok(lexicon) => lexicon,
            Err(e) => {
                self.problems.plain(e.to_string());
                crate::lexicon::Lexicon::default()
            }
        }
    }

    /// Each entry resolved, expanded and opened; an error points at the
    /// entry that named the file.
    fn manuscript_files(&mut self, files: Spanned<FileList>) -> Vec<PathBuf> {
        let list_span = files.span();
        let entries = FileList::entries(files);
        if entries.is_empty() {
            self.problems.at(
                list_span,
                "files is empty; list at least one manuscript file in [manuscript] files",
            );
        }
        // Keyed by canonical path, so `book.md` and `./book.md` are one file.
        let mut seen: HashMap<PathBuf, String> = HashMap::new();
        let mut resolved = Vec::new();
        self.entries = entries.clone();
        for entry in entries {
            let span = entry.span();
            let paths = match self.base.expand(entry.get_ref()) {
                Ok(paths) => paths,
                Err(message) => {
                    self.problems.at(span, message);
                    continue;
                }
            };
            for path in paths {
                if let Err(message) = self.base.check_manuscript(&path) {
                    self.problems.at(span.clone(), message);
                    continue;
                }
                let key = fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                if let Some(first) = seen.get(&key) {
                    self.problems.at(
                        span.clone(),
                        format!(
                            "manuscript file {} is listed twice (also by {first:?}); remove the \
                             duplicate from [manuscript] files",
                            self.base.show(&path)
                        ),
                    );
                    continue;
                }
                seen.insert(key, entry.get_ref().clone());
                resolved.push(path);
            }
        }
        resolved
    }

    fn chapter_rule(
        &mut self,
        chapters: Option<Spanned<String>>,
        pattern: Option<Spanned<String>>,
    ) -> ChapterRule {
        let given = chapters.as_ref().map(Spanned::span);
        let kinds = &[
            ("headings", ChapterKind::Headings),
            ("files", ChapterKind::Files),
            ("regex", ChapterKind::Regex),
        ];
        let kind = match (
            self.choice(chapters, "manuscript", "chapters", kinds),
            &given,
        ) {
            (Some(kind), _) => kind,
            (None, None) => ChapterKind::Headings,
            // Already reported; a pattern error now would only be noise.
            (None, Some(_)) => return ChapterRule::Headings,
        };
        match (kind, pattern) {
            (ChapterKind::Regex, Some(pattern)) => self.chapter_regex(pattern),
            (ChapterKind::Regex, None) => {
                self.problems.at(
                    given.unwrap_or(0..0),
                    "chapters = \"regex\" needs a chapter_pattern; add chapter_pattern = \
                     '^Chapter \\d+' (your pattern) under [manuscript]",
                );
                ChapterRule::Headings
            }
            (_, Some(pattern)) => {
                self.problems.at(
                    pattern.span(),
                    "chapter_pattern is only used with chapters = \"regex\"; set [manuscript] \
                     chapters = \"regex\" or remove chapter_pattern",
                );
                ChapterRule::Headings
            }
            (ChapterKind::Headings, None) => ChapterRule::Headings,
            (ChapterKind::Files, None) => ChapterRule::Files,
        }
    }

    fn chapter_regex(&mut self, pattern: Spanned<String>) -> ChapterRule {
        if pattern.get_ref().trim().is_empty() {
            self.problems.at(
                pattern.span(),
                "chapter_pattern is empty; set [manuscript] chapter_pattern to a regex that \
                 matches chapter title lines",
            );
            return ChapterRule::Headings;
        }
        match regex::Regex::new(pattern.get_ref()) {
            Ok(regex) => ChapterRule::Regex(regex),
            Err(e) => {
                self.problems.at(
                    pattern.span(),
                    format!(
                        "chapter_pattern is not a valid regex: {}; fix [manuscript] \
                         chapter_pattern (syntax: https://docs.rs/regex/#syntax)",
                        regex_reason(&e)
                    ),
                );
                ChapterRule::Headings
            }
        }
    }

    fn audio(&mut self, raw: Option<RawAudio>, master: &Master) -> Audio {
        let raw = raw.unwrap_or_default();
        let head = raw.chapter_head_ms.clone();
        let trailing = raw.chapter_trailing_ms.clone();
        let trim = self.trim(&raw);
        let audio = Audio {
            sample_rate: self.sample_rate(raw.sample_rate),
            sentence_gap_ms: self.int(raw.sentence_gap_ms, "audio", "sentence_gap_ms", GAP_MS, 250),
            paragraph_gap_ms: self.int(
                raw.paragraph_gap_ms,
                "audio",
                "paragraph_gap_ms",
                GAP_MS,
                700,
            ),
            chapter_head_ms: self.int(
                raw.chapter_head_ms,
                "audio",
                "chapter_head_ms",
                CHAPTER_SILENCE_MS,
                500,
            ),
            chapter_trailing_ms: self.int(
                raw.chapter_trailing_ms,
                "audio",
                "chapter_trailing_ms",
                CHAPTER_SILENCE_MS,
                2000,
            ),
            trim,
        };
        let hold = if audio.trim.enabled {
            audio.trim.hold_ms
        } else {
            0
        };
        self.room_for_profile(master, head, audio.chapter_head_ms, hold, "chapter_head_ms");
        self.room_for_profile(
            master,
            trailing,
            audio.chapter_trailing_ms,
            hold,
            "chapter_trailing_ms",
        );
        audio
    }

    fn sample_rate(&mut self, raw: Option<Spanned<i64>>) -> u32 {
        let Some(raw) = raw else { return 24_000 };
        let rate = *raw.get_ref();
        if SAMPLE_RATES.contains(&rate)
            && let Ok(rate) = u32::try_from(rate)
        {
            return rate;
        }
        let rates: Vec<String> = SAMPLE_RATES.iter().map(i64::to_string).collect();
        self.problems.at(
            raw.span(),
            format!(
                "sample_rate must be one of {}, got {rate}; set [audio] sample_rate to one of these",
                rates.join(", ")
            ),
        );
        24_000
    }

    fn render(&mut self, raw: Option<RawRender>) -> Render {
        let raw = raw.unwrap_or_default();
        let max_characters_per_run = raw.max_characters_per_run.map(|v| {
            self.int::<u64>(
                Some(v),
                "render",
                "max_characters_per_run",
                MAX_CHARACTERS,
                0,
            )
        });
        Render {
            concurrency: self.int(raw.concurrency, "render", "concurrency", CONCURRENCY, 4),
            max_attempts: self.int(raw.max_attempts, "render", "max_attempts", MAX_ATTEMPTS, 4),
            max_characters_per_run,
            price_per_million_characters: self
                .float(
                    raw.price_per_million_characters,
                    "render",
                    "price_per_million_characters",
                    0.0..=1_000_000.0,
                )
                .map(f64::from),
            currency: self.currency(raw.currency),
        }
    }

    /// A short currency name such as CNY or USD; default CNY, in which both
    /// cloud providers bill.
    fn currency(&mut self, raw: Option<Spanned<String>>) -> String {
        let Some(raw) = raw else {
            return "CNY".to_string();
        };
        let name = raw.get_ref().trim();
        if (1..=8).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return name.to_string();
        }
        self.problems.at(
            raw.span(),
            "currency must be a short name such as CNY or USD; set [render] currency".to_string(),
        );
        "CNY".to_string()
    }

    fn output(&mut self, raw: Option<Spanned<RawOutput>>) -> Output {
        let mut output = Output {
            dir: self.base.dir.to_path_buf(),
            delivery: Delivery::default(),
        };
        let Some(raw) = self.required_table(raw, "output", "dir") else {
            return output;
        };
        let (span, mut raw) = (raw.span(), raw.into_inner());
        output.delivery = self.delivery(&mut raw);
        let Some(dir) = raw.dir else {
            self.missing_key(span, "output", "dir");
            return output;
        };
        if dir.get_ref().trim().is_empty() {
            self.problems.at(
                dir.span(),
                "dir is empty; set [output] dir to the folder for the finished audio",
            );
            return output;
        }
        // `jobs/../out/x` as `out/x`: resolved through the file system where
        // it exists (right across symlinks), so reports show a clean path.
        output.dir = paths::canonical_or_lexical(&self.base.resolve(dir.get_ref()));
        if let Err(message) = self.base.check_output_dir(&output.dir) {
            self.problems.at(dir.span(), message);
        }
        output
    }

    fn notify(&mut self, raw: Option<RawNotify>) -> Notify {
        let raw = raw.unwrap_or_default();
        let command = raw.command.map(|command| {
            self.non_empty(
                command,
                "notify",
                "command",
                "a shell command, or remove [notify]",
            )
        });
        let timeout: u64 = self.int(
            raw.timeout_secs,
            "notify",
            "timeout_secs",
            NOTIFY_TIMEOUT_SECS,
            60,
        );
        Notify {
            command,
            timeout: Duration::from_secs(timeout),
        }
    }

    /// A manuscript entry must not read what the render writes (the next
    /// run would speak `report.json`, or fail on its own `book.wav`), nor
    /// the job file itself. Checked again when `--output` or `--draft`
    /// moves the output ([`Job::check_output_unread`]).
    fn manuscript_reads_no_output(&mut self, job: &mut Job) {
        let mut own = vec![job.path.clone()];
        own.extend(job.defaults.iter().filter_map(|d| fs::canonicalize(d).ok()));
        for entry in std::mem::take(&mut self.entries) {
            let Some(files) = FilesEntry::new(&self.base, entry.get_ref()) else {
                continue;
            };
            if let Some(hit) = files.reads_output_of(&job.output.dir) {
                self.problems.at(
                    entry.span(),
                    format!(
                        "{:?} in [manuscript] files would read this job's own output ({}): the \
                         next run would speak it; narrow the entry (e.g. \"*.md\") or move \
                         [output] dir out of its folder",
                        entry.get_ref(),
                        self.base.show(&hit)
                    ),
                );
            } else if let Some(hit) = own.iter().find(|p| files.matches(p)) {
                self.problems.at(
                    entry.span(),
                    format!(
                        "{:?} in [manuscript] files matches the job file {} itself; narrow the \
                         entry (e.g. \"*.md\") so only manuscripts match",
                        entry.get_ref(),
                        self.base.show(hit)
                    ),
                );
            }
            job.manuscript.entries.push(files);
        }
    }

    /// A required table, or a problem at the top of the file saying what to add.
    fn required_table<T>(
        &mut self,
        table: Option<Spanned<T>>,
        name: &str,
        key: &str,
    ) -> Option<Spanned<T>> {
        if table.is_none() && !self.covers(name) {
            let example = raw::example(name, key).unwrap_or_default();
            self.problems.at(
                0..0,
                format!("missing table [{name}]; add [{name}] with {example}"),
            );
        }
        table
    }

    /// Points at the table's header.
    /// A structural problem already speaks for this dotted key.
    fn covers(&self, dotted: &str) -> bool {
        self.covered.iter().any(|c| c == dotted)
    }

    fn missing_key(&mut self, table_span: std::ops::Range<usize>, table: &str, key: &str) {
        if self.covers(&format!("{table}.{key}")) {
            return;
        }
        let example = raw::example(table, key).unwrap_or_default();
        self.problems.at(
            table_span,
            format!("missing key `{key}` in [{table}]; add {example} under [{table}]"),
        );
    }

    fn non_empty(&mut self, value: Spanned<String>, table: &str, key: &str, what: &str) -> String {
        let trimmed = value.get_ref().trim();
        if trimmed.is_empty() {
            self.problems.at(
                value.span(),
                format!("{key} is empty; set [{table}] {key} to {what}"),
            );
        }
        trimmed.to_owned()
    }

    /// The named option `value` picks; `None` when absent or reported as
    /// invalid, so the caller picks the default.
    fn choice<T: Copy>(
        &mut self,
        value: Option<Spanned<String>>,
        table: &str,
        key: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        let value = value?;
        if let Some((_, picked)) = options.iter().find(|(name, _)| name == value.get_ref()) {
            return Some(*picked);
        }
        let names: Vec<String> = options
            .iter()
            .map(|(name, _)| format!("{name:?}"))
            .collect();
        let meant = diag::did_you_mean(value.get_ref(), options.iter().map(|(name, _)| *name))
            .map(|name| format!("did you mean {name:?}? "))
            .unwrap_or_default();
        self.problems.at(
            value.span(),
            format!(
                "{key} must be one of {}, got {:?}; {meant}set [{table}] {key} to one of these",
                names.join(", "),
                value.get_ref()
            ),
        );
        None
    }

    fn int<T: TryFrom<i64>>(
        &mut self,
        value: Option<Spanned<i64>>,
        table: &str,
        key: &str,
        range: RangeInclusive<i64>,
        default: T,
    ) -> T {
        let Some(value) = value else { return default };
        let number = *value.get_ref();
        if range.contains(&number)
            && let Ok(number) = T::try_from(number)
        {
            return number;
        }
        let (lo, hi) = (range.start(), range.end());
        self.problems.at(
            value.span(),
            format!(
                "{key} must be between {lo} and {hi}, got {number}; set [{table}] {key} to a \
                 value in {lo}..={hi}"
            ),
        );
        default
    }

    /// A number in `range`; `None` when absent or reported as out of range.
    fn float(
        &mut self,
        value: Option<Spanned<f64>>,
        table: &str,
        key: &str,
        range: RangeInclusive<f64>,
    ) -> Option<f32> {
        let value = value?;
        let number = *value.get_ref();
        // NaN is in no range, so it lands in the message below.
        if range.contains(&number) {
            return Some(number as f32);
        }
        let (lo, hi) = (range.start(), range.end());
        self.problems.at(
            value.span(),
            format!(
                "{key} must be between {lo:?} and {hi:?}, got {number}; set [{table}] {key} to a \
                 value in {lo:?}..={hi:?}"
            ),
        );
        None
    }
}

/// A message about a manuscript path, reworded for a lexicon path.
fn lexicon_message(message: &str) -> String {
    message
        .replace("manuscript file", "lexicon file")
        .replace("manuscript path", "lexicon path")
        .replace("[manuscript] files", "[manuscript] lexicon")
}

/// The regex crate's message is several lines with a caret; the last
/// `error:` line is the reason.
fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix("error: "))
        .map(str::to_owned)
        .unwrap_or_else(|| text.split_whitespace().collect::<Vec<_>>().join(" "))
}
