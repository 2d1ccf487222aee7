//! Segmentation: paragraph text into sentence segments a voice can speak,
//! each within the character and byte limits, nothing lost or reordered.
//!
//! The work runs in three steps, each in its own module:
//! - [`prepare`]: raw hard-wrapped lines of one paragraph into one line of
//!   text (lines joined, whitespace collapsed; markup is the manuscript
//!   readers' business).
//! - `boundary`: where sentences end, by the rules of the script at each
//!   boundary (English abbreviations in `abbrev`, Chinese quotes and `……`):
//!   the scan in `boundary/mod.rs`, and beside it the paragraph by char
//!   (`text`), terminator clusters (`cluster`), the rules that decide at
//!   each one (`rules`), quotes and title brackets (`nesting`) and run-in
//!   lists (`lists`).
//! - `limit`: sentences over the limits cut at the best boundary into balanced
//!   pieces, and unspeakable pieces (punctuation, emoji) joined to a neighbour.
//!
//! Everything works on byte ranges into the paragraph, so a segment is always a
//! slice of the input: nothing can be reordered, and only whitespace and
//! unspeakable leftovers that fit nowhere (see [`split_paragraph`]) are lost.

mod abbrev;
mod boundary;
mod limit;
mod pause;
mod prepare;
mod script;

#[cfg(test)]
mod tests;

pub use pause::MAX_RUN;
pub use prepare::prepare_paragraph;
pub use script::is_han;

/// Per-segment limits. Never above 300 characters or 1024 UTF-8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_chars: usize,
    pub max_bytes: usize,
}

impl Limits {
    pub const MAX_CHARS: usize = 300;
    pub const MAX_BYTES: usize = 1024;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_chars: Self::MAX_CHARS,
            max_bytes: Self::MAX_BYTES,
        }
    }
}

/// Which script's sentence rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    Zh,
    En,
    #[default]
    Auto,
}

/// Splits one paragraph (already joined into one line, see
/// [`prepare_paragraph`]) into trimmed, non-empty, speakable segments, in order.
///
/// `lang` is only the fallback for boundaries whose neighbours belong to no
/// script (digits, symbols); a boundary between Han characters follows the
/// Chinese rules and one between Latin words the English rules, whatever
/// `lang` says. `Lang::Auto` resolves the fallback with [`detect_lang`].
///
/// Every segment holds at most `limits.max_chars` chars and `limits.max_bytes`
/// bytes. Two exceptions, both documented limits of the contract: a limit
/// below one character (or below 4 bytes) is raised to that, and a single
/// grapheme cluster longer than the limits is cut between its chars.
///
/// Text that cannot be spoken (only punctuation, symbols or emoji) follows
/// the one rule of [`pause`](self::pause): long runs become pauses, short
/// ones stay with a neighbouring segment. A paragraph with nothing speakable
/// gives `vec![]`.
pub fn split_paragraph(text: &str, lang: Lang, limits: Limits) -> Vec<String> {
    split_counted(text, lang, limits).0
}

/// [`split_paragraph`], and how many non-whitespace chars became pauses:
/// the only chars of `text` not in a segment.
pub fn split_counted(text: &str, lang: Lang, limits: Limits) -> (Vec<String>, u64) {
    let (ranges, paused) = split_ranges_counted(text, lang, limits);
    let segments = ranges.into_iter().map(|r| text[r].to_string()).collect();
    (segments, paused)
}

/// The segments of [`split_paragraph`] as trimmed byte ranges of `text`.
#[cfg(test)]
pub(crate) fn split_ranges(text: &str, lang: Lang, limits: Limits) -> Vec<std::ops::Range<usize>> {
    split_ranges_counted(text, lang, limits).0
}

fn split_ranges_counted(
    text: &str,
    lang: Lang,
    limits: Limits,
) -> (Vec<std::ops::Range<usize>>, u64) {
    let fallback = match lang {
        Lang::Auto => detect_lang(text),
        other => other,
    };
    let limits = limit::effective(limits);
    let mut paused = 0;
    let mut out = Vec::new();
    let runs = pause::long_runs(text);
    let stretches = runs
        .iter()
        .map(|r| r.start)
        .chain(std::iter::once(text.len()))
        .zip(std::iter::once(0).chain(runs.iter().map(|r| r.end)))
        .map(|(end, from)| from..end);
    for stretch in stretches.flat_map(|r| windows(text, r)) {
        let part = &text[stretch.clone()];
        let sentences = boundary::sentences(part, fallback);
        let pieces = limit::fit_sentences(part, &sentences, limits);
        let kept = limit::join_unspeakable(part, pieces, limits, &mut paused);
        out.extend(
            kept.into_iter()
                .map(|r| r.start + stretch.start..r.end + stretch.start),
        );
    }
    for r in &runs {
        paused += text[r.clone()]
            .chars()
            .filter(|c| !c.is_whitespace())
            .count() as u64;
    }
    (out, paused)
}

/// The longest stretch of text segmented in one piece, in bytes. A longer
/// paragraph (a file with no blank lines, a run-on wall of text) is cut into
/// windows first, each ending after a sentence terminator followed by a
/// space where there is one, else at a space, else at a char boundary:
/// this keeps memory bounded by the window, not the paragraph.
pub const WINDOW_BYTES: usize = 256 * 1024;

fn windows(text: &str, r: std::ops::Range<usize>) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = r.start;
    while r.end - start > WINDOW_BYTES {
        let mut limit = start + WINDOW_BYTES;
        while !text.is_char_boundary(limit) {
            limit -= 1;
        }
        let window = &text[start..limit];
        let after_terminator = window
            .char_indices()
            .rev()
            .take(WINDOW_BYTES / 2)
            .find(|&(i, c)| {
                c.is_whitespace()
                    && window[..i]
                        .chars()
                        .next_back()
                        .is_some_and(script::is_terminator)
            })
            .map(|(i, _)| i);
        let cut = after_terminator
            .or_else(|| window.rfind(char::is_whitespace))
            .filter(|&i| i > 0)
            .unwrap_or(window.len());
        out.push(start..start + cut);
        start += cut;
    }
    out.push(start..r.end);
    out
}

/// True iff `s` holds at least one letter, ideograph or digit (Unicode
/// alphanumeric). Punctuation, symbols and emoji alone are not speakable.
pub fn is_speakable(s: &str) -> bool {
    s.chars().any(char::is_alphanumeric)
}

/// `Zh` when Han characters dominate, else `En`.
///
/// One Han character is weighed against one Latin word, since each is about
/// one spoken unit: `我用Python写代码` is Chinese, `the word 你好 means hello`
/// is English. Text with no letters at all is `En`.
pub fn detect_lang(text: &str) -> Lang {
    let (han, words) = script::count_han_and_words(text);
    if han > 0 && han >= words {
        Lang::Zh
    } else {
        Lang::En
    }
}
