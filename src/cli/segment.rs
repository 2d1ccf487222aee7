//! `audiobook segment`: segments as JSON lines, exactly as the plan splits
//! them. For a job file, what a render sends, chapter by chapter (the
//! lexicon applied, `shown` holding the manuscript's text where it changed
//! it); for a bare text or Markdown file or standard input, its segments
//! with the options given.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::args::SegmentArgs;
use super::{CliError, Exit};
use crate::job::{ChapterRule, Encoding};
use crate::lexicon::Lexicon;
use crate::manuscript::{self, Chapter};
use crate::plan;
use crate::segment::{Lang, Limits};

#[derive(serde::Serialize)]
struct SegmentLine<'a> {
    chapter: usize,
    chapter_title: &'a str,
    paragraph: usize,
    index: usize,
    line: usize,
    ends_paragraph: bool,
    chars: usize,
    bytes: usize,
    /// What the voice is sent.
    text: &'a str,
    /// The manuscript's text, when the lexicon changed what is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    shown: Option<&'a str>,
}

pub(super) fn run(args: &SegmentArgs) -> Result<Exit, CliError> {
    if let Some(job) = args
        .file
        .as_deref()
        .filter(|f| f.extension().is_some_and(|e| e == "toml"))
    {
        return job_segments(job);
    }
    let (lang, max_chars, max_bytes): (Lang, usize, usize) =
        (args.lang.into(), args.max_chars, args.max_bytes);
    if !(1..=Limits::MAX_CHARS).contains(&max_chars)
        || !(4..=Limits::MAX_BYTES).contains(&max_bytes)
    {
        return Err(CliError::bad_input(format!(
            "--max-chars must be in 1..={} and --max-bytes in 4..={}",
            Limits::MAX_CHARS,
            Limits::MAX_BYTES
        )));
    }
    let limits = Limits {
        max_chars,
        max_bytes,
    };
    let (name, text) = match args.file.as_deref() {
        Some(path) if path != Path::new("-") => (
            path.to_path_buf(),
            manuscript::read_text(path, Encoding::Auto)
                .map_err(|e| CliError::bad_input(e.to_string()))?,
        ),
        _ => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| CliError::bad_input(format!("reading standard input: {e}")))?;
            let text = manuscript::bytes::decode_text(Path::new("-"), bytes, Encoding::Auto)
                .map_err(|e| CliError::bad_input(format!("standard input: {e}")))?;
            (PathBuf::from("-"), text)
        }
    };
    let format =
        manuscript::bytes::sniff(&name, text.as_bytes()).unwrap_or(manuscript::Format::Text);
    let book = manuscript::split_text(
        &text,
        &name,
        format,
        &ChapterRule::Headings,
        !args.keep_brackets,
    );
    print(&book.chapters, lang, limits, &Lexicon::default())
}

/// A job's manuscripts read, split and spoken exactly as `render` will.
fn job_segments(path: &Path) -> Result<Exit, CliError> {
    let job = crate::job::load(path).map_err(|e| CliError::bad_input(e.to_string()))?;
    let book = manuscript::load(&job).map_err(|e| CliError::bad_input(e.to_string()))?;
    for w in &book.warnings {
        eprintln!("warning: {}: {w}", job.name);
    }
    let lang = plan::lang(job.book.language);
    print(
        &book.chapters,
        lang,
        job.manuscript.limits,
        &job.manuscript.lexicon,
    )
}

fn print(
    chapters: &[Chapter],
    lang: Lang,
    limits: Limits,
    lexicon: &Lexicon,
) -> Result<Exit, CliError> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (c, chapter) in chapters.iter().enumerate() {
        for (index, piece) in plan::split_chapter(chapter, lang, limits, lexicon)
            .iter()
            .enumerate()
        {
            let sent = piece.sent();
            let line = SegmentLine {
                chapter: c + 1,
                chapter_title: &chapter.title,
                paragraph: piece.paragraph,
                index,
                line: piece.line,
                ends_paragraph: piece.ends_paragraph,
                chars: sent.chars().count(),
                bytes: sent.len(),
                text: sent,
                shown: piece.spoken.as_ref().map(|_| piece.text.as_str()),
            };
            let json = serde_json::to_string(&line).map_err(anyhow::Error::from)?;
            if writeln!(out, "{json}").is_err() {
                // A closed pipe (`| head`) is not an error.
                return Ok(Exit::Ok);
            }
        }
    }
    let _ = out.flush();
    Ok(Exit::Ok)
}
