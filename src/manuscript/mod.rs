//! Manuscripts: reading the files of a job in whatever form a publisher has
//! them (plain text, Markdown, EPUB 2 and 3, DOCX), and turning them into
//! chapters of speakable paragraphs, with a count of every character a
//! documented rule removed and warnings about chapters that look wrong.
//!
//! The stages, one file each:
//! - [`bytes`]: size limit, the format from the bytes, text decoding
//!   (UTF-8, UTF-16, GBK), control characters refused.
//! - `text`, `markdown`, `epub` (with `xhtml`), `docx`: one reader per
//!   format, each giving a flat list of [`Block`]s: chapter starts and
//!   paragraphs, markup already gone.
//! - `brackets`: editorial blocks (`[Illustration: ...]`) removed, and the
//!   text around one joined when it interrupted a sentence.
//! - `chapters`: blocks into chapters (front matter, capture-group titles,
//!   files continuing the last chapter); `checks`: the chapter warnings and
//!   the error for a chapter rule that finds nothing.

mod brackets;
pub mod bytes;
mod chapters;
mod checks;
mod docx;
mod epub;
mod markdown;
#[cfg(test)]
mod tests;
mod text;
mod xhtml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::job::{ChapterRule, Encoding, FrontMatter, Job, Tables};
pub use bytes::{Format, MAX_FILE_BYTES, decode};

/// A manuscript split into chapters and paragraphs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manuscript {
    pub chapters: Vec<Chapter>,
    /// Characters removed by each documented rule (see [`Removed`]).
    pub removed: Removed,
    /// Chapters that look wrong: numbering gaps, outsized chapters, empty
    /// titles. Printed by `validate`, `plan` and `render`; never fatal.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chapter {
    /// The title as shown (a heading, a matched line or its capture group,
    /// the navigation label of an EPUB, or the file name).
    pub title: String,
    /// Paragraphs of text, in order. When the title came from the text, the
    /// spoken heading is the first paragraph.
    pub paragraphs: Vec<Paragraph>,
    /// Where the chapter starts, for warnings.
    pub file: PathBuf,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    pub text: String,
    /// Where the paragraph starts, for messages and the `segment` command:
    /// the line in text and Markdown files, the paragraph's number in EPUB
    /// and DOCX files.
    pub file: PathBuf,
    pub line: usize,
}

/// What a reader gives: a chapter start or a paragraph, markup removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    pub kind: BlockKind,
    pub text: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BlockKind {
    /// A line that starts a chapter under the job's rule; spoken.
    Heading,
    /// A chapter start whose title is not in the text (an EPUB document
    /// without a heading): the title is shown, nothing is spoken.
    Start,
    Para,
}

impl Block {
    pub fn para(text: String, line: usize) -> Block {
        Block {
            kind: BlockKind::Para,
            text,
            line,
        }
    }
}

/// Non-whitespace characters removed from the manuscript, by rule. The
/// rules and their names are documented in the README ("What is not
/// spoken"); nothing else is ever dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Removed(pub BTreeMap<&'static str, u64>);

impl Removed {
    /// Markdown and HTML syntax: `#`, `>`, `*`, list markers, link targets, tags.
    pub const MARKUP: &str = "markup";
    pub const CODE: &str = "code_blocks";
    pub const COMMENTS: &str = "comments";
    pub const FOOTNOTES: &str = "footnotes";
    pub const IMAGES: &str = "image_text";
    pub const TABLES: &str = "tables";
    pub const METADATA: &str = "metadata";
    pub const BRACKETS: &str = "bracket_blocks";
    pub const FRONT_MATTER: &str = "front_matter";
    pub const BACK_MATTER: &str = "back_matter";
    pub const DELETIONS: &str = "tracked_deletions";
    pub const HEADING_PREFIX: &str = "heading_prefix";
    /// Runs of punctuation, symbols or emoji replaced by a pause.
    pub const PAUSES: &str = "pauses";

    /// Counts the non-whitespace characters of `text` under `rule`.
    pub fn add(&mut self, rule: &'static str, text: &str) {
        self.add_count(rule, count_visible(text));
    }

    pub fn add_count(&mut self, rule: &'static str, n: u64) {
        if n > 0 {
            *self.0.entry(rule).or_default() += n;
        }
    }

    pub fn merge(&mut self, other: &Removed) {
        for (rule, n) in &other.0 {
            self.add_count(rule, *n);
        }
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

/// Characters that are not whitespace: what the counts count.
pub fn count_visible(text: &str) -> u64 {
    text.chars().filter(|c| !c.is_whitespace()).count() as u64
}

#[derive(Debug, thiserror::Error)]
pub enum ManuscriptError {
    #[error("{path}: cannot read manuscript: {source}; check [manuscript] files")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Encoding { path: String, message: String },
    /// A file we cannot use: its format, its size, a control character, a
    /// damaged or DRM-protected archive. `path` may carry `:line:col`.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: manuscript file is empty; add text or remove it from [manuscript] files")]
    Empty { path: String },
    #[error(
        "{path}: manuscript has no speakable text (only whitespace, markup or punctuation); check the file"
    )]
    NothingToSay { path: String },
    /// The chapter rule found no chapter at all, though a line looks like one.
    #[error("{0}")]
    Chapters(String),
}

impl ManuscriptError {
    /// A file that cannot be used, and why.
    pub fn invalid(path: &Path, message: impl Into<String>) -> ManuscriptError {
        ManuscriptError::Invalid {
            path: path.display().to_string(),
            message: message.into(),
        }
    }
}

/// Reads and splits every manuscript file of a job, then checks the chapters.
pub fn load(job: &Job) -> Result<Manuscript, ManuscriptError> {
    let m = &job.manuscript;
    let mut book = chapters::Assembler::new(&m.chapters, m.front_matter);
    for path in &m.files {
        let (blocks, removed) = read_blocks(path, job)?;
        book.add_file(path, blocks, removed);
    }
    let headingless = book.found_no_chapter_start();
    let mut manuscript = book.finish(&job.book.title);
    if !manuscript
        .chapters
        .iter()
        .flat_map(|c| &c.paragraphs)
        .any(|p| crate::segment::is_speakable(&p.text))
    {
        let path = m.files.first().map(|p| p.display().to_string());
        return Err(ManuscriptError::NothingToSay {
            path: path.unwrap_or_default(),
        });
    }
    if headingless {
        checks::no_chapter_found(job, &manuscript)?;
    }
    manuscript.warnings = checks::warnings(&manuscript);
    Ok(manuscript)
}

/// One file's blocks, by its format, with editorial brackets removed.
fn read_blocks(path: &Path, job: &Job) -> Result<(Vec<Block>, Removed), ManuscriptError> {
    let m = &job.manuscript;
    let bytes = bytes::read_file(path)?;
    let mut removed = Removed::default();
    let format = bytes::sniff(path, &bytes)?;
    let blocks = match format {
        Format::Text | Format::Markdown => {
            // The bytes become the text: a manuscript is held once, then
            // as its blocks.
            let text = bytes::decode_text(path, bytes, m.encoding)?;
            if text.trim().is_empty() {
                return Err(ManuscriptError::Empty {
                    path: path.display().to_string(),
                });
            }
            if format == Format::Text {
                text::read(&text, &m.chapters)
            } else {
                markdown::read(&text, &m.chapters, m.tables, &mut removed)
            }
        }
        Format::Epub => epub::read(path, &bytes, job, &mut removed)?,
        Format::Docx => docx::read(path, &bytes, job, &mut removed)?,
    };
    let blocks = if m.skip_brackets {
        brackets::remove(blocks, &mut removed)
    } else {
        blocks
    };
    Ok((blocks, removed))
}

/// Reads a text manuscript file (size limit, format check, decoding), for
/// the `segment` command's plain-file mode.
pub fn read_text(path: &Path, encoding: Encoding) -> Result<String, ManuscriptError> {
    let bytes = bytes::read_file(path)?;
    match bytes::sniff(path, &bytes)? {
        Format::Text | Format::Markdown => bytes::decode_text(path, bytes, encoding),
        other => Err(ManuscriptError::Invalid {
            path: path.display().to_string(),
            message: format!(
                "this is {} {}; read it through a job file (audiobook segment JOB.toml)",
                if other == Format::Epub { "an" } else { "a" },
                other.name()
            ),
        }),
    }
}

/// Splits the text of one plain-text or Markdown file into chapters the way
/// [`load`] does, front matter kept as a chapter: for the `segment` command
/// on a bare file, the benchmark and the corpus tests.
pub fn split_text(
    text: &str,
    file: &Path,
    format: Format,
    rule: &ChapterRule,
    skip_brackets: bool,
) -> Manuscript {
    let mut removed = Removed::default();
    let blocks = match format {
        Format::Markdown => markdown::read(text, rule, Tables::Skip, &mut removed),
        _ => text::read(text, rule),
    };
    let blocks = if skip_brackets {
        brackets::remove(blocks, &mut removed)
    } else {
        blocks
    };
    let mut book = chapters::Assembler::new(rule, FrontMatter::Chapter);
    book.add_file(file, blocks, removed);
    book.finish("")
}
