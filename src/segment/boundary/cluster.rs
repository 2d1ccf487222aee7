//! Terminator clusters: a run of sentence-ending marks (`?!`, `……`,
//! `. . .`) with the closing quotes and brackets after it, and what the run
//! is made of. The rules decide on a cluster as a whole, never on one mark.

use super::text::Text;
use crate::segment::script::{is_closer, is_terminator, is_zh_terminator};

/// What a terminator cluster is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Contains `! ? 。 ！ ？`.
    Strong,
    /// One or two periods.
    Period,
    /// `…`, `……`, `...`, `. . .`: trails off, usually inside a sentence.
    Ellipsis,
    /// An ellipsis plus the sentence's own period (`....`, `. . . .`, `….`).
    EllipsisPeriod,
}

/// A terminator cluster at chars `start..end`, its closers running to `close`.
pub(super) struct Cluster {
    pub start: usize,
    pub end: usize,
    pub close: usize,
    pub kind: Kind,
    pub has_zh: bool,
    /// Written `. . .` with spaces between the dots.
    pub spaced: bool,
}

impl Cluster {
    /// The terminator run starting at char `start` (with `. . .` spacing)
    /// and its closers.
    pub(super) fn at(text: &Text, start: usize) -> Cluster {
        let mut end = start;
        let mut spaced = false;
        loop {
            if text.ch(end).is_some_and(is_terminator) {
                end += 1;
            } else if end > start
                && text.ch(end - 1) == Some('.')
                && text.ch(end) == Some(' ')
                && text.ch(end + 1) == Some('.')
            {
                spaced = true;
                end += 2;
            } else {
                break;
            }
        }
        let mut close = end;
        while text.ch(close).is_some_and(is_closer) {
            close += 1;
        }
        let (kind, has_zh) = kind_of(text, start, end);
        Cluster {
            start,
            end,
            close,
            kind,
            has_zh,
            spaced,
        }
    }
}

/// The kind of the marks at chars `start..end`, and whether one of them is
/// a full-width (Chinese) terminator.
fn kind_of(text: &Text, start: usize, end: usize) -> (Kind, bool) {
    let (mut dots, mut ellipses, mut strong, mut has_zh) = (0, 0, false, false);
    for i in start..end {
        match text.ch(i) {
            Some('.') => dots += 1,
            Some('…' | '‥') => ellipses += 1,
            Some(c) if is_zh_terminator(c) => {
                has_zh = true;
                strong = true;
            }
            Some('!' | '?') => strong = true,
            _ => {}
        }
    }
    let kind = if strong {
        Kind::Strong
    } else if (ellipses > 0 && dots > 0) || dots >= 4 {
        Kind::EllipsisPeriod
    } else if ellipses > 0 || dots == 3 {
        Kind::Ellipsis
    } else {
        Kind::Period
    };
    (kind, has_zh)
}
