//! Sentence boundaries: where one sentence ends and the next begins.
//!
//! One left-to-right pass finds each cluster of terminators (`?!`, `……`,
//! `. . .`), takes the closing quotes and brackets after it, and decides by the
//! script at that spot: Chinese rules when a Han character or a full-width
//! terminator is next to it, English rules when a Latin letter is, the
//! paragraph's language otherwise.
//!
//! Chinese: `。！？` always end a sentence; `……` ends one only when a closing
//! quote or bracket follows it (`“我……”`), never inside running text
//! (`然后离开了……真的吗？`). Inside matched Chinese quotes a boundary is only
//! *soft*: the quotation stays whole unless it is over the limits, and then
//! it is cut there first.
//!
//! English: a period after an abbreviation, an initial, a list number or
//! inside a number, URL or e-mail address does not end a sentence, nor does
//! any terminator before a lowercase word (`"Is it true?" she asked.`). An
//! ellipsis ends a sentence only before a capitalised word other than `I`.
//!
//! This file owns the pass itself and what it records ([`Boundaries`]: a
//! boundary only at a real position, between grapheme clusters, in order);
//! the questions it asks on the way each have their own file:
//! - `text`: the paragraph by char index, and the looks around one index;
//! - `cluster`: a run of terminators with its closers, and what it is made of;
//! - `rules`: whether a cluster ends a sentence, by which script's rules;
//! - `nesting`: matched Chinese quotes (soft boundaries) and title brackets
//!   (no boundary inside);
//! - `lists`: where the items of a run-in list start.

mod cluster;
mod lists;
mod nesting;
mod rules;
mod text;

use std::ops::Range;

use unicode_segmentation::GraphemeCursor;

use super::Lang;
use super::script::is_terminator;
use cluster::Cluster;
use nesting::Nesting;
use rules::{Decision, Rules};
use text::Text;

/// Sentence ends as byte offsets into the paragraph.
#[derive(Debug, Default)]
pub(crate) struct Boundaries {
    /// Where a sentence ends and the next begins, ascending.
    pub hard: Vec<usize>,
    /// Sentence ends inside a Chinese quotation, ascending: the first places to
    /// cut a quotation that is over the limits.
    pub soft: Vec<usize>,
    /// Book titles in `《》` or `〈〉` (byte ranges, brackets included): never
    /// a sentence end inside, and cut inside only when nothing else fits.
    pub titles: Vec<Range<usize>>,
}

/// Finds the sentence boundaries of `text`; `fallback` decides where neither
/// neighbour belongs to a script.
pub(crate) fn sentences(text: &str, fallback: Lang) -> Boundaries {
    Scanner::new(text, fallback).run()
}

/// The state of the pass.
struct Scanner<'t> {
    text: Text<'t>,
    nesting: Nesting,
    fallback: Lang,
    /// Char index of the current sentence's first word (see
    /// [`Rules::content_start`]); moves with every hard boundary.
    content_start: usize,
    out: Boundaries,
}

impl<'t> Scanner<'t> {
    fn new(text: &'t str, fallback: Lang) -> Self {
        let text = Text::new(text);
        Scanner {
            nesting: Nesting::new(&text),
            content_start: text.content_from(0),
            text,
            fallback,
            out: Boundaries::default(),
        }
    }

    fn run(mut self) -> Boundaries {
        let items = lists::list_items(&self.text);
        let mut next_item = items.iter().copied().peekable();
        let mut i = 0;
        while i < self.text.len() {
            while let Some(item) = next_item.next_if(|&q| q <= i) {
                self.push_boundary(item, false);
            }
            if !self.text.ch(i).is_some_and(is_terminator) {
                i += 1;
                continue;
            }
            let cluster = Cluster::at(&self.text, i);
            let rules = Rules {
                text: &self.text,
                fallback: self.fallback,
                content_start: self.content_start,
            };
            if let Decision::Break(at) = rules.decide(&cluster)
                && !self.nesting.in_title(at)
            {
                let soft = self.nesting.in_quote(at) && rules.is_zh_here(&cluster);
                self.push_boundary(at, soft);
            }
            i = cluster.close.max(i + 1);
        }
        self.out.titles = self.nesting.title_ranges(&self.text);
        self.out
    }

    /// Records a boundary before char `at`, if it is a real position inside
    /// the text and not inside a grapheme cluster.
    fn push_boundary(&mut self, at: usize, soft: bool) {
        let len = self.text.len();
        if at == 0 || at >= len || self.text.skip_ws(at) >= len {
            return;
        }
        let byte = self.text.byte_at(at);
        if !is_grapheme_boundary(self.text.as_str(), byte) {
            return;
        }
        if soft {
            self.out.soft.push(byte);
        } else {
            if self.out.hard.last().is_some_and(|&b| b >= byte) {
                return;
            }
            self.out.hard.push(byte);
            self.content_start = self.text.content_from(at);
        }
    }
}

/// True when a grapheme cluster boundary falls at `byte`.
fn is_grapheme_boundary(text: &str, byte: usize) -> bool {
    // A break before an ASCII char is always allowed after a terminator or
    // closer (the only exception, CR LF, cannot follow one).
    if text.as_bytes().get(byte).is_some_and(u8::is_ascii) {
        return true;
    }
    let mut cursor = GraphemeCursor::new(byte, text.len(), true);
    cursor.is_boundary(text, 0).unwrap_or(false)
}
