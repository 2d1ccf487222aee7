//! Nesting: the matched pairs that change what a boundary means. Inside
//! Chinese quotes (`“…”`, `「…」`, `『…』`) a sentence end is only soft, so a
//! quotation stays whole unless it is over the limits; inside a book title
//! (`《…》`, `〈…〉`) there is no sentence end at all, and the limits cut
//! there only as a last resort.
//!
//! Only matched pairs count: a stray opener cannot swallow a paragraph.

use std::ops::Range;

use super::text::Text;
use crate::segment::script::{zh_quote_close, zh_quote_open};

/// How deep inside quotes and titles each char index is.
pub(super) struct Nesting {
    /// Depth inside matched Chinese quotes before each char index; empty when
    /// the text has no such quotes.
    quote_depth: Vec<u16>,
    /// Depth inside matched `《》`/`〈〉` before each char index; empty when
    /// the text has none.
    title_depth: Vec<u16>,
}

impl Nesting {
    pub(super) fn new(text: &Text) -> Self {
        Nesting {
            quote_depth: pair_depths(text.chars(), zh_quote_open, zh_quote_close),
            title_depth: pair_depths(
                text.chars(),
                |c| matches!(c, '《' | '〈'),
                |c| matches!(c, '》' | '〉'),
            ),
        }
    }

    /// True when a boundary before char `at` is inside a Chinese quotation.
    pub(super) fn in_quote(&self, at: usize) -> bool {
        self.quote_depth.get(at).is_some_and(|&d| d > 0)
    }

    /// True when a boundary before char `at` is inside a title.
    pub(super) fn in_title(&self, at: usize) -> bool {
        self.title_depth.get(at).is_some_and(|&d| d > 0)
    }

    /// Byte ranges of the chars inside a title, brackets included.
    pub(super) fn title_ranges(&self, text: &Text) -> Vec<Range<usize>> {
        let mut out: Vec<Range<usize>> = Vec::new();
        for (i, &d) in self.title_depth.iter().enumerate().take(text.len()) {
            if d == 0 {
                continue;
            }
            // Inside from the char after the opener: the opener is at i - 1.
            let start = text.byte_at(i.saturating_sub(1));
            let end = text.byte_at(i + 1);
            match out.last_mut() {
                Some(last) if last.end >= start => last.end = last.end.max(end),
                _ => out.push(start..end),
            }
        }
        out
    }
}

/// Depth inside matched pairs of marks before each char index; empty when
/// there is no pair. Unmatched marks are ignored.
fn pair_depths(
    chars: &[(usize, char)],
    opens: impl Fn(char) -> bool,
    closes: impl Fn(char) -> bool,
) -> Vec<u16> {
    let mut open = Vec::new();
    let mut pairs: Vec<Range<usize>> = Vec::new();
    for (i, &(_, c)) in chars.iter().enumerate() {
        if opens(c) {
            open.push(i);
        } else if closes(c)
            && let Some(o) = open.pop()
        {
            pairs.push(o..i);
        }
    }
    if pairs.is_empty() {
        return Vec::new();
    }
    let mut delta = vec![0i32; chars.len() + 2];
    for p in &pairs {
        // Inside from just after the opener up to and including the closer's
        // position (a boundary before the closer is inside).
        delta[p.start + 1] += 1;
        delta[p.end + 1] -= 1;
    }
    let mut depth = 0i32;
    delta
        .iter()
        .map(|d| {
            depth += d;
            u16::try_from(depth.max(0)).unwrap_or(u16::MAX)
        })
        .collect()
}
