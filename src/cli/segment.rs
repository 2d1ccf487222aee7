//! `audiobook segment`: a manuscript's segments as JSON lines, exactly as
//! the plan splits them.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::args::SegmentArgs;
use super::{CliError, Exit};
use crate::job::{ChapterRule, Encoding};
use crate::manuscript;
use crate::plan;
use crate::segment::{Lang, Limits, Prepare};

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
    text: &'a str,
}

pub(super) fn run(args: &SegmentArgs) -> Result<Exit, CliError> {
    let (lang, max_chars, max_bytes): (Lang, usize, usize) =
        (args.lang.into(), args.max_chars, args.max_bytes);
    let skip_brackets = !args.keep_brackets;
    let file = args.file.as_deref();
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
    let (name, text) = match file {
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
            let text = manuscript::decode(&bytes, Encoding::Auto)
                .map_err(|e| CliError::bad_input(format!("standard input: {e}")))?;
            (
                PathBuf::from("-"),
                text.replace("\r\n", "\n").replace('\r', "\n"),
            )
        }
    };
    let prepare = Prepare { skip_brackets };
    let chapters = manuscript::split_chapters(&text, &name, &ChapterRule::Headings, &prepare);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (c, chapter) in chapters.iter().enumerate() {
        for (index, piece) in plan::split_chapter(chapter, lang, limits)
            .iter()
            .enumerate()
        {
            let line = SegmentLine {
                chapter: c + 1,
                chapter_title: &chapter.title,
                paragraph: piece.paragraph,
                index,
                line: piece.line,
                ends_paragraph: piece.ends_paragraph,
                chars: piece.text.chars().count(),
                bytes: piece.text.len(),
                text: &piece.text,
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
