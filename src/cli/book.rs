//! What the manuscript stage has to say on the command line: `segment
//! JOB.toml` (exactly what a render sends, chapter by chapter), and for
//! `plan` and `validate` the characters each documented rule removed, the
//! chapter warnings and the lexicon entries that never match.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use super::{CliError, Exit};
use crate::job::Job;
use crate::manuscript::{self, Manuscript, Removed};
use crate::speech;

/// One line of `segment` output.
#[derive(serde::Serialize)]
pub(super) struct SegmentLine<'a> {
    pub chapter: usize,
    pub chapter_title: &'a str,
    pub paragraph: usize,
    pub index: usize,
    pub line: usize,
    pub ends_paragraph: bool,
    pub chars: usize,
    pub bytes: usize,
    /// What the voice is sent.
    pub text: &'a str,
    /// The manuscript's text, when the lexicon changed what is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shown: Option<&'a str>,
}

/// `audiobook segment JOB.toml`: the job's manuscripts read, split and
/// spoken exactly as `render` will, one JSON line per segment.
pub(super) fn segment_job(path: &Path) -> Result<Exit, CliError> {
    let job = crate::job::load(path).map_err(|e| CliError::bad_input(e.to_string()))?;
    let book = manuscript::load(&job).map_err(|e| CliError::bad_input(e.to_string()))?;
    for w in &book.warnings {
        eprintln!("warning: {}: {w}", job.name);
    }
    let lang = speech::lang_of(&job);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (c, chapter) in book.chapters.iter().enumerate() {
        let mut index = 0;
        for (p, paragraph) in chapter.paragraphs.iter().enumerate() {
            let (pieces, _) = speech::paragraph(
                &paragraph.text,
                lang,
                job.manuscript.limits,
                &job.manuscript.lexicon,
            );
            let last = pieces.len().saturating_sub(1);
            for (i, piece) in pieces.iter().enumerate() {
                let sent = piece.sent();
                let line = SegmentLine {
                    chapter: c + 1,
                    chapter_title: &chapter.title,
                    paragraph: p,
                    index,
                    line: paragraph.line,
                    ends_paragraph: i == last,
                    chars: sent.chars().count(),
                    bytes: sent.len(),
                    text: sent,
                    shown: piece.spoken.as_ref().map(|_| piece.text.as_str()),
                };
                index += 1;
                let json = serde_json::to_string(&line).map_err(anyhow::Error::from)?;
                if writeln!(out, "{json}").is_err() {
                    return Ok(Exit::Ok);
                }
            }
        }
    }
    let _ = out.flush();
    Ok(Exit::Ok)
}

/// What `plan` reports about the manuscript besides its segments.
#[derive(serde::Serialize)]
pub(super) struct BookNotes {
    /// Non-whitespace characters removed, by documented rule.
    pub removed: BTreeMap<&'static str, u64>,
    pub warnings: Vec<String>,
    /// Lexicon entries that match nowhere, as `file:line: text`.
    pub unused_lexicon: Vec<String>,
}

pub(super) fn notes(job: &Job, book: &Manuscript) -> BookNotes {
    let lang = speech::lang_of(job);
    let mut removed = book.removed.clone();
    let mut shown = Vec::new();
    for p in book.chapters.iter().flat_map(|c| &c.paragraphs) {
        let (pieces, paused) =
            speech::paragraph(&p.text, lang, job.manuscript.limits, &Default::default());
        removed.add_count(Removed::PAUSES, paused);
        shown.extend(pieces.into_iter().map(|s| s.text));
    }
    let unused = speech::unused_entries(
        &job.manuscript.lexicon,
        shown.iter().map(String::as_str),
        lang,
    );
    BookNotes {
        removed: removed.0,
        warnings: book.warnings.clone(),
        unused_lexicon: unused
            .iter()
            .map(|e| format!("{}:{}: {:?}", e.file.display(), e.line, e.text))
            .collect(),
    }
}

/// The notes as text lines for `plan`.
pub(super) fn print_notes(out: &mut impl Write, notes: &BookNotes) {
    if !notes.removed.is_empty() {
        let list: Vec<String> = notes
            .removed
            .iter()
            .map(|(rule, n)| format!("{rule} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "  not spoken (characters, by rule): {}",
            list.join(", ")
        );
    }
    for w in &notes.warnings {
        let _ = writeln!(out, "  warning: {w}");
    }
    for e in &notes.unused_lexicon {
        let _ = writeln!(out, "  lexicon entry never matches: {e}");
    }
}
