//! The paragraph as the boundary rules see it: chars by index, with their
//! byte offsets, and the looks around one index that the rules ask for (the
//! next word, the word before a period, the nearest char before a cluster,
//! the whitespace-delimited token around it).
//!
//! The rules count in chars, the boundaries they report are in bytes: this is
//! the one place that converts.

use crate::segment::script::{is_bullet, is_closer, is_opener};

/// One paragraph, indexed by char.
pub(super) struct Text<'t> {
    text: &'t str,
    chars: Vec<(usize, char)>,
}

impl<'t> Text<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        Text {
            text,
            chars: text.char_indices().collect(),
        }
    }

    /// The paragraph's length in chars.
    pub(super) fn len(&self) -> usize {
        self.chars.len()
    }

    /// The chars with their byte offsets.
    pub(super) fn chars(&self) -> &[(usize, char)] {
        &self.chars
    }

    /// The text as given.
    pub(super) fn as_str(&self) -> &'t str {
        self.text
    }

    pub(super) fn ch(&self, i: usize) -> Option<char> {
        self.chars.get(i).map(|&(_, c)| c)
    }

    /// Byte offset of char `i`; the text's length past the end.
    pub(super) fn byte_at(&self, i: usize) -> usize {
        self.chars.get(i).map_or(self.text.len(), |&(b, _)| b)
    }

    /// The text of chars `a..b`.
    pub(super) fn slice(&self, a: usize, b: usize) -> &'t str {
        &self.text[self.byte_at(a)..self.byte_at(b)]
    }

    pub(super) fn is_ws(&self, i: usize) -> bool {
        self.ch(i).is_some_and(char::is_whitespace)
    }

    /// First char index at or after `i` that is not whitespace.
    pub(super) fn skip_ws(&self, mut i: usize) -> usize {
        while self.is_ws(i) {
            i += 1;
        }
        i
    }

    /// First word char at or after `i`, past whitespace and bullets.
    pub(super) fn content_from(&self, mut i: usize) -> usize {
        while self
            .ch(i)
            .is_some_and(|c| c.is_whitespace() || is_bullet(c))
        {
            i += 1;
        }
        i
    }

    /// Char index of the next word after `i` (past whitespace and opening
    /// quotes, brackets and dashes), and whether any opener was skipped.
    pub(super) fn next_word(&self, i: usize) -> (usize, bool) {
        let mut j = self.skip_ws(i);
        let mut skipped = false;
        while self.ch(j).is_some_and(is_opener) {
            j += 1;
            skipped = true;
        }
        (j, skipped)
    }

    /// The word starting at char `i`: its letters only.
    pub(super) fn word_at(&self, i: usize) -> &'t str {
        let mut j = i;
        while self.ch(j).is_some_and(char::is_alphabetic) {
            j += 1;
        }
        self.slice(i, j)
    }

    /// The token before char `end`: letters, digits, inner periods and `°`,
    /// with its start.
    pub(super) fn word_before(&self, end: usize) -> (usize, &'t str) {
        let mut a = end;
        while a > 0
            && self
                .ch(a - 1)
                .is_some_and(|c| c.is_alphanumeric() || matches!(c, '.' | '°' | 'º'))
        {
            a -= 1;
        }
        while a < end && self.ch(a) == Some('.') {
            a += 1;
        }
        (a, self.slice(a, end))
    }

    /// The whitespace-delimited token that holds chars `start..end`.
    pub(super) fn token_around(&self, start: usize, end: usize) -> &'t str {
        let mut a = start;
        while a > 0 && !self.is_ws(a - 1) {
            a -= 1;
        }
        let mut b = end;
        while b < self.len() && !self.is_ws(b) {
            b += 1;
        }
        self.slice(a, b)
    }

    /// The nearest char before `i` that is not a closer or whitespace.
    pub(super) fn neighbour_before(&self, i: usize) -> Option<char> {
        let mut j = i;
        while j > 0 {
            j -= 1;
            match self.ch(j) {
                Some(c) if is_closer(c) || c.is_whitespace() => continue,
                other => return other,
            }
        }
        None
    }
}
