//! The one rule for text that cannot be spoken (no letter, ideograph or
//! digit: punctuation, symbols, emoji): it is never sent on its own and
//! never partly dropped.
//!
//! - A run of more than [`MAX_RUN`] such characters (spaces between them do
//!   not break a run; quotes and brackets are not counted) is a pause: the
//!   sentence is cut there and the whole run left out (`........`, a `=`
//!   rule, `* * * * * *`, a line of emoji). Marks written against the word
//!   before the run (`it. ======`) stay with that word when the rest is
//!   long enough to be the pause.
//! - A shorter run stays with the words beside it (`……`, `?!`, `“……”`), in
//!   the previous segment, or else the next; only when it fits with neither
//!   is it a pause too.
//! - A paragraph with nothing speakable is a pause.
//!
//! Every character left out by this rule is counted (`pauses` in `plan`).

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use super::script::{is_closer, is_opener};

/// The longest run of unspeakable characters kept in the text.
pub const MAX_RUN: usize = 5;

/// Byte ranges of the runs over [`MAX_RUN`] in `text`, ascending. A run
/// written against a word (`it. !!!!!!`) leaves the word its attached marks
/// when the rest of the run is long enough to be a pause on its own.
pub(crate) fn long_runs(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut run: Option<Run> = None;
    let mut after_word = false;
    for (i, g) in text.grapheme_indices(true) {
        let end = i + g.len();
        if g.chars().any(char::is_alphanumeric) {
            if let Some(r) = run.take() {
                r.finish(&mut out);
            }
            after_word = true;
            continue;
        }
        if g.chars().all(char::is_whitespace) {
            if let Some(r) = &mut run
                && r.prefix.is_none()
            {
                r.prefix = Some((i, r.weight));
            }
            after_word = false;
            continue;
        }
        let counted = usize::from(!g.chars().all(is_quote_or_bracket));
        match &mut run {
            Some(r) => {
                r.range.end = end;
                r.weight += counted;
                if r.prefix.is_some_and(|(_, w)| w == r.weight - counted) && r.rest_start.is_none()
                {
                    r.rest_start = Some(i);
                }
            }
            None => {
                run = Some(Run {
                    range: i..end,
                    weight: counted,
                    attached: after_word,
                    prefix: None,
                    rest_start: None,
                });
            }
        }
        after_word = false;
    }
    if let Some(r) = run {
        r.finish(&mut out);
    }
    out
}

/// A run being read.
struct Run {
    range: Range<usize>,
    weight: usize,
    /// Written directly after a word.
    attached: bool,
    /// Where the first whitespace inside the run is, and the weight before it.
    prefix: Option<(usize, usize)>,
    /// Where the run goes on after that whitespace.
    rest_start: Option<usize>,
}

impl Run {
    fn finish(self, out: &mut Vec<Range<usize>>) {
        if self.weight <= MAX_RUN {
            return;
        }
        if self.attached
            && let (Some((_, before)), Some(rest)) = (self.prefix, self.rest_start)
            && self.weight - before > MAX_RUN
        {
            out.push(rest..self.range.end);
            return;
        }
        out.push(self.range);
    }
}

/// Quotes and brackets frame words rather than stand for sound.
fn is_quote_or_bracket(c: char) -> bool {
    (is_opener(c) || is_closer(c)) && !matches!(c, '-' | '—' | '–' | '_' | '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_runs_only() {
        let text = "Wait...... then “……” went on. ======= ok ?! 🎉🎉🎉🎉🎉🎉 * * * * * *";
        let runs: Vec<&str> = long_runs(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(runs, ["......", "=======", "?! 🎉🎉🎉🎉🎉🎉 * * * * * *"]);
        assert!(long_runs("《摔跤吧！爸爸》“……！”").is_empty());
    }
}
