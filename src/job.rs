//! Job files: TOML parsed, then validated once into a [`Job`]. Every error
//! names the job file, the line and column, and what is expected. Code
//! downstream of this module never re-checks a value.

use std::path::{Path, PathBuf};

use crate::segment::Limits;

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
    pub render: Render,
    pub output: Output,
}

#[derive(Debug, Clone)]
pub struct Book {
    pub title: String,
    pub author: Option<String>,
    pub language: Language,
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
}

#[derive(Debug, Clone)]
pub enum ChapterRule {
    /// Markdown `#` headings start chapters.
    Headings,
    /// Each file is one chapter.
    Files,
    /// A line matching the pattern starts a chapter.
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
}

#[derive(Debug, Clone)]
pub struct Voice {
    pub provider: ProviderKind,
    /// Provider-specific voice name. For `local`: `auto` (by script), `en`,
    /// `en-us`, `cmn`, ...
    pub voice: String,
    /// Speaking rate factor, 1.0 = the voice's normal pace.
    pub speed: f32,
    /// Local engine: base pitch 0..=100.
    pub pitch: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audio {
    pub sample_rate: u32,
    pub sentence_gap_ms: u32,
    pub paragraph_gap_ms: u32,
    pub chapter_head_ms: u32,
    pub chapter_trailing_ms: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Render {
    pub concurrency: usize,
    pub max_attempts: u32,
}

#[derive(Debug, Clone)]
pub struct Output {
    pub dir: PathBuf,
}

/// A job file that cannot be used. `Display` is the full message for the user.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JobError(pub String);

/// Reads, parses and validates a job file. Writes nothing.
pub fn load(path: &Path) -> Result<Job, JobError> {
    let _ = path;
    Err(JobError("job loading is not implemented yet".into()))
}

/// Loads job files and folders of job files. Placeholder until the job branch merges.
pub fn load_many(paths: &[PathBuf]) -> Result<Vec<Job>, Vec<JobError>> {
    paths
        .iter()
        .map(|p| load(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| vec![e])
}
