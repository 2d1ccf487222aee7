//! What `plan` says about the manuscript besides its segments: the
//! characters each documented rule left out, the chapter warnings and the
//! lexicon entries that never match.

use std::collections::BTreeMap;
use std::io::Write;

use crate::manuscript::{Manuscript, Removed};
use crate::plan;

/// What `plan` reports about the manuscript besides its segments.
#[derive(serde::Serialize, Default)]
pub(super) struct BookNotes {
    /// Non-whitespace characters removed, by documented rule.
    pub removed: BTreeMap<&'static str, u64>,
    pub warnings: Vec<String>,
    /// Lexicon entries that match nowhere, as `file:line: text`.
    pub unused_lexicon: Vec<String>,
}

/// The notes of a book whose plan `items` has streamed to its end: the
/// pause rule's count and the lexicon's matches are taken on the way.
pub(super) fn notes(book: &Manuscript, items: &plan::Items<'_>) -> BookNotes {
    let mut removed = book.removed.clone();
    removed.add_count(Removed::PAUSES, items.paused());
    BookNotes {
        removed: removed.0,
        warnings: book.warnings.clone(),
        unused_lexicon: items
            .unused_entries()
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
