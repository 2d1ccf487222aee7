//! The rules: whether a terminator cluster ends a sentence, and where.
//!
//! Which rules apply is decided at each cluster by its neighbours (Chinese
//! next to a Han character or CJK punctuation, English next to a Latin
//! letter, the paragraph's language otherwise); then the Chinese rules
//! (`……` needs a closer after it), the English rules (abbreviations,
//! initials, list markers, ellipses, the case of the next word), or the
//! rules for a terminator with no space after it (decimals, URLs,
//! `U.S.A`, `world.Today`).

use super::cluster::{Cluster, Kind};
use super::lists::is_list_marker;
use super::text::Text;
use crate::segment::Lang;
use crate::segment::abbrev::{self, Abbrev};
use crate::segment::script::{is_cjk, is_han};

/// What to do at a cluster.
pub(super) enum Decision {
    No,
    /// A boundary before char index `at`.
    Break(usize),
}

/// The rules as they stand at one point of the scan.
pub(super) struct Rules<'s, 't> {
    pub text: &'s Text<'t>,
    /// The language of boundaries whose neighbours belong to no script.
    pub fallback: Lang,
    /// Char index of the current sentence's first word, past whitespace and
    /// bullets: a number or letter there followed by a period is a list marker.
    pub content_start: usize,
}

impl Rules<'_, '_> {
    pub(super) fn decide(&self, cl: &Cluster) -> Decision {
        let next = self.text.ch(cl.close);
        let Some(next) = next else {
            return Decision::No; // end of text
        };
        if is_clause_mark(next) {
            // `叫一声“变！”，即变做…`, `"Stop!", he said`: the sentence goes on.
            return Decision::No;
        }
        if cl.has_zh {
            return Decision::Break(cl.close);
        }
        if !next.is_whitespace() && next.is_alphanumeric() && !is_cjk(next) {
            return self.decide_unspaced(cl);
        }
        if self.is_zh_here(cl) {
            decide_zh(cl)
        } else {
            self.decide_en(cl)
        }
    }

    /// Chinese rules apply when a Han character or CJK punctuation is next to
    /// the cluster, English when a letter is, else the paragraph's language.
    pub(super) fn is_zh_here(&self, cl: &Cluster) -> bool {
        if cl.has_zh {
            return true;
        }
        let before = self.text.neighbour_before(cl.start);
        let after = self.text.ch(self.text.next_word(cl.close).0);
        let zh = |c: Option<char>| c.is_some_and(is_cjk);
        let latin = |c: Option<char>| c.is_some_and(|c| c.is_alphabetic() && !is_han(c));
        if zh(before) || zh(self.text.ch(cl.close)) {
            true
        } else if latin(before) || latin(after) {
            false
        } else if zh(after) {
            true
        } else {
            self.fallback == Lang::Zh
        }
    }

    /// A terminator directly followed by a letter or digit: a decimal, a URL,
    /// an abbreviation like `U.S.A`, or two sentences typed without a space
    /// (`world.Today`), which is a break only from a lowercase word or a
    /// number into a capitalised word.
    fn decide_unspaced(&self, cl: &Cluster) -> Decision {
        if self.in_address(cl) {
            return Decision::No;
        }
        let before = cl.start.checked_sub(1).and_then(|i| self.text.ch(i));
        let after = self.text.ch(cl.close);
        let after2 = self.text.ch(cl.close + 1);
        let from_word = before.is_some_and(|c| c.is_lowercase() || c.is_ascii_digit());
        let into_word =
            after.is_some_and(char::is_uppercase) && after2.is_some_and(char::is_lowercase);
        if from_word && into_word {
            Decision::Break(cl.close)
        } else {
            Decision::No
        }
    }

    /// True when the cluster sits inside a whitespace-delimited token that is
    /// an e-mail address or a URL.
    fn in_address(&self, cl: &Cluster) -> bool {
        let token = self.text.token_around(cl.start, cl.close);
        token.contains('@') || token.contains("://") || token.starts_with("www.")
    }

    /// English rules, for a cluster followed by whitespace or punctuation.
    fn decide_en(&self, cl: &Cluster) -> Decision {
        let (word_at, skipped_openers) = self.text.next_word(cl.close);
        let Some(first) = self.text.ch(word_at) else {
            return Decision::Break(cl.close);
        };
        if first.is_lowercase() {
            return Decision::No;
        }
        match cl.kind {
            Kind::Strong => Decision::Break(cl.close),
            Kind::Ellipsis => self.after_ellipsis(cl, word_at, first),
            Kind::EllipsisPeriod => self.after_final_ellipsis(cl, first),
            Kind::Period => self.after_period(cl, word_at, first, skipped_openers),
        }
    }

    /// `. . .` or `…` trails off; it ends a sentence before a capitalised
    /// word, except `I` and an elision in brackets (`[...]`).
    fn after_ellipsis(&self, cl: &Cluster, word_at: usize, first: char) -> Decision {
        let bracketed = cl.start > 0 && self.text.ch(cl.start - 1) == Some('[');
        if bracketed || !first.is_uppercase() || self.text.word_at(word_at) == "I" {
            Decision::No
        } else {
            Decision::Break(cl.close)
        }
    }

    /// `word. . . . Next`: the first period is the sentence's own, and the
    /// ellipsis opens the next one; `word .... Next` ends after the dots.
    fn after_final_ellipsis(&self, cl: &Cluster, first: char) -> Decision {
        if !(first.is_uppercase() || first.is_ascii_digit()) {
            return Decision::No;
        }
        let attached = cl.start > 0 && !self.text.is_ws(cl.start - 1);
        if cl.spaced && attached && self.text.ch(cl.start) == Some('.') {
            Decision::Break(cl.start + 1)
        } else {
            Decision::Break(cl.close)
        }
    }

    /// A single period: abbreviations, initials and list markers continue.
    fn after_period(&self, cl: &Cluster, word_at: usize, first: char, quoted: bool) -> Decision {
        let (start, word) = self.text.word_before(cl.start);
        if word.is_empty() {
            return Decision::Break(cl.close);
        }
        if start == self.content_start && is_list_marker(word) {
            return Decision::No;
        }
        let digit_next = first.is_ascii_digit();
        let opener_next = quoted || abbrev::is_sentence_opener(self.text.word_at(word_at));
        let continues = match classify_word(word) {
            Abbrev::None => false,
            Abbrev::Continues => true,
            Abbrev::BeforeNumber => digit_next,
            Abbrev::Month => digit_next || !opener_next,
            Abbrev::Ambiguous => !opener_next,
        };
        if continues {
            Decision::No
        } else {
            Decision::Break(cl.close)
        }
    }
}

/// Chinese rules: `……` needs a closer after it to end a sentence.
fn decide_zh(cl: &Cluster) -> Decision {
    match cl.kind {
        Kind::Ellipsis | Kind::EllipsisPeriod if cl.close == cl.end => Decision::No,
        _ => Decision::Break(cl.close),
    }
}

/// Classifies a word before a period; a word glued to the previous sentence
/// (`Tuesday.Mr`) is judged by its last part.
fn classify_word(word: &str) -> Abbrev {
    match (abbrev::classify(word), word.rsplit_once('.')) {
        (Abbrev::None, Some((_, last))) if !last.is_empty() => abbrev::classify(last),
        (class, _) => class,
    }
}

/// Punctuation that continues a clause: nothing ends right before it.
fn is_clause_mark(c: char) -> bool {
    matches!(c, '，' | '、' | '；' | '：' | ',' | ';' | ':')
}
