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

use std::ops::Range;

use unicode_segmentation::GraphemeCursor;

use super::Lang;
use super::abbrev::{self, Abbrev};
use super::script::{
    is_bullet, is_cjk, is_closer, is_han, is_opener, is_terminator, is_zh_terminator,
    zh_quote_close, zh_quote_open,
};

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

/// What a terminator cluster is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
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
struct Cluster {
    start: usize,
    end: usize,
    close: usize,
    kind: Kind,
    has_zh: bool,
    /// Written `. . .` with spaces between the dots.
    spaced: bool,
}

/// What to do at a cluster.
enum Decision {
    No,
    /// A boundary before char index `at`.
    Break(usize),
}

/// Finds the sentence boundaries of `text`; `fallback` decides where neither
/// neighbour belongs to a script.
pub(crate) fn sentences(text: &str, fallback: Lang) -> Boundaries {
    let scan = Scanner::new(text, fallback);
    scan.run()
}

struct Scanner<'t> {
    text: &'t str,
    chars: Vec<(usize, char)>,
    /// Depth inside matched Chinese quotes before each char index; empty when
    /// the text has no such quotes.
    quote_depth: Vec<u16>,
    /// Depth inside matched `《》`/`〈〉` before each char index; empty when
    /// the text has none.
    title_depth: Vec<u16>,
    fallback: Lang,
    /// Char index of the current sentence's first word, past whitespace and
    /// bullets: a number or letter there followed by a period is a list marker.
    content_start: usize,
    out: Boundaries,
}

impl<'t> Scanner<'t> {
    fn new(text: &'t str, fallback: Lang) -> Self {
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let quote_depth = pair_depths(&chars, zh_quote_open, zh_quote_close);
        let title_depth = pair_depths(
            &chars,
            |c| matches!(c, '《' | '〈'),
            |c| matches!(c, '》' | '〉'),
        );
        let mut scan = Scanner {
            text,
            chars,
            quote_depth,
            title_depth,
            fallback,
            content_start: 0,
            out: Boundaries::default(),
        };
        scan.content_start = scan.content_from(0);
        scan
    }

    fn run(mut self) -> Boundaries {
        let items = list_items(&self.chars);
        let mut next_item = items.iter().copied().peekable();
        let mut i = 0;
        while i < self.chars.len() {
            while let Some(item) = next_item.next_if(|&q| q <= i) {
                self.push_boundary(item, false);
            }
            if !is_terminator(self.chars[i].1) {
                i += 1;
                continue;
            }
            let cluster = self.cluster_at(i);
            if let Decision::Break(at) = self.decide(&cluster)
                && self.title_depth.get(at).is_none_or(|&d| d == 0)
            {
                let soft = self.is_soft(&cluster, at);
                self.push_boundary(at, soft);
            }
            i = cluster.close.max(i + 1);
        }
        self.out.titles = self.title_ranges();
        self.out
    }

    /// Byte ranges of the chars inside a title, brackets included.
    fn title_ranges(&self) -> Vec<Range<usize>> {
        let mut out: Vec<Range<usize>> = Vec::new();
        for (i, &d) in self.title_depth.iter().enumerate().take(self.chars.len()) {
            if d == 0 {
                continue;
            }
            // Inside from the char after the opener: the opener is at i - 1.
            let start = self.byte_at(i.saturating_sub(1));
            let end = self.byte_at(i + 1);
            match out.last_mut() {
                Some(last) if last.end >= start => last.end = last.end.max(end),
                _ => out.push(start..end),
            }
        }
        out
    }

    fn ch(&self, i: usize) -> Option<char> {
        self.chars.get(i).map(|&(_, c)| c)
    }

    fn byte_at(&self, i: usize) -> usize {
        self.chars.get(i).map_or(self.text.len(), |&(b, _)| b)
    }

    fn is_ws(&self, i: usize) -> bool {
        self.ch(i).is_some_and(char::is_whitespace)
    }

    /// First char index at or after `i` that is not whitespace.
    fn skip_ws(&self, mut i: usize) -> usize {
        while self.is_ws(i) {
            i += 1;
        }
        i
    }

    /// First word char at or after `i`, past whitespace and bullets.
    fn content_from(&self, mut i: usize) -> usize {
        while self
            .ch(i)
            .is_some_and(|c| c.is_whitespace() || is_bullet(c))
        {
            i += 1;
        }
        i
    }

    /// Records a boundary before char `at`, if it is a real position inside
    /// the text and not inside a grapheme cluster.
    fn push_boundary(&mut self, at: usize, soft: bool) {
        if at == 0 || at >= self.chars.len() || self.skip_ws(at) >= self.chars.len() {
            return;
        }
        let byte = self.byte_at(at);
        if !is_grapheme_boundary(self.text, byte) {
            return;
        }
        if soft {
            self.out.soft.push(byte);
        } else {
            if self.out.hard.last().is_some_and(|&b| b >= byte) {
                return;
            }
            self.out.hard.push(byte);
            self.content_start = self.content_from(at);
        }
    }

    /// The terminator run starting at `i` (with `. . .` spacing) and its closers.
    fn cluster_at(&self, start: usize) -> Cluster {
        let mut end = start;
        let mut spaced = false;
        loop {
            if self.ch(end).is_some_and(is_terminator) {
                end += 1;
            } else if end > start
                && self.ch(end - 1) == Some('.')
                && self.ch(end) == Some(' ')
                && self.ch(end + 1) == Some('.')
            {
                spaced = true;
                end += 2;
            } else {
                break;
            }
        }
        let mut close = end;
        while self.ch(close).is_some_and(is_closer) {
            close += 1;
        }
        let (kind, has_zh) = self.kind_of(start, end);
        Cluster {
            start,
            end,
            close,
            kind,
            has_zh,
            spaced,
        }
    }

    fn kind_of(&self, start: usize, end: usize) -> (Kind, bool) {
        let (mut dots, mut ellipses, mut strong, mut has_zh) = (0, 0, false, false);
        for i in start..end {
            match self.ch(i) {
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

    /// A boundary inside a matched Chinese quotation is soft.
    fn is_soft(&self, cluster: &Cluster, at: usize) -> bool {
        let inside = self.quote_depth.get(at).is_some_and(|&d| d > 0);
        inside && self.is_zh_here(cluster)
    }

    fn decide(&self, cl: &Cluster) -> Decision {
        let next = self.ch(cl.close);
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
            self.decide_zh(cl)
        } else {
            self.decide_en(cl)
        }
    }

    /// Chinese rules: `……` needs a closer after it to end a sentence.
    fn decide_zh(&self, cl: &Cluster) -> Decision {
        match cl.kind {
            Kind::Ellipsis | Kind::EllipsisPeriod if cl.close == cl.end => Decision::No,
            _ => Decision::Break(cl.close),
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
        let before = cl.start.checked_sub(1).and_then(|i| self.ch(i));
        let after = self.ch(cl.close);
        let after2 = self.ch(cl.close + 1);
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
        let mut a = cl.start;
        while a > 0 && !self.is_ws(a - 1) {
            a -= 1;
        }
        let mut b = cl.close;
        while b < self.chars.len() && !self.is_ws(b) {
            b += 1;
        }
        let token = &self.text[self.byte_at(a)..self.byte_at(b)];
        token.contains('@') || token.contains("://") || token.starts_with("www.")
    }

    /// English rules, for a cluster followed by whitespace or punctuation.
    fn decide_en(&self, cl: &Cluster) -> Decision {
        let (word_at, skipped_openers) = self.next_word(cl.close);
        let Some(first) = self.ch(word_at) else {
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

    /// Char index of the next word after `i` (past whitespace and opening
    /// quotes, brackets and dashes), and whether any opener was skipped.
    fn next_word(&self, i: usize) -> (usize, bool) {
        let mut j = self.skip_ws(i);
        let mut skipped = false;
        while self.ch(j).is_some_and(is_opener) {
            j += 1;
            skipped = true;
        }
        (j, skipped)
    }

    /// The word starting at char `i`: its letters only.
    fn word_at(&self, i: usize) -> &'t str {
        let mut j = i;
        while self.ch(j).is_some_and(char::is_alphabetic) {
            j += 1;
        }
        &self.text[self.byte_at(i)..self.byte_at(j)]
    }

    /// `. . .` or `…` trails off; it ends a sentence before a capitalised
    /// word, except `I` and an elision in brackets (`[...]`).
    fn after_ellipsis(&self, cl: &Cluster, word_at: usize, first: char) -> Decision {
        let bracketed = cl.start > 0 && self.ch(cl.start - 1) == Some('[');
        if bracketed || !first.is_uppercase() || self.word_at(word_at) == "I" {
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
        let attached = cl.start > 0 && !self.is_ws(cl.start - 1);
        if cl.spaced && attached && self.ch(cl.start) == Some('.') {
            Decision::Break(cl.start + 1)
        } else {
            Decision::Break(cl.close)
        }
    }

    /// A single period: abbreviations, initials and list markers continue.
    fn after_period(&self, cl: &Cluster, word_at: usize, first: char, quoted: bool) -> Decision {
        let (start, word) = self.word_before(cl.start);
        if word.is_empty() {
            return Decision::Break(cl.close);
        }
        if start == self.content_start && is_list_marker(word) {
            return Decision::No;
        }
        let digit_next = first.is_ascii_digit();
        let opener_next = quoted || abbrev::is_sentence_opener(self.word_at(word_at));
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

    /// The token before char `end`: letters, digits, inner periods and `°`.
    fn word_before(&self, end: usize) -> (usize, &'t str) {
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
        (a, &self.text[self.byte_at(a)..self.byte_at(end)])
    }

    /// Chinese rules apply when a Han character or CJK punctuation is next to
    /// the cluster, English when a letter is, else the paragraph's language.
    fn is_zh_here(&self, cl: &Cluster) -> bool {
        if cl.has_zh {
            return true;
        }
        let before = self.neighbour_before(cl.start);
        let after = self.ch(self.next_word(cl.close).0);
        let zh = |c: Option<char>| c.is_some_and(is_cjk);
        let latin = |c: Option<char>| c.is_some_and(|c| c.is_alphabetic() && !is_han(c));
        if zh(before) || zh(self.ch(cl.close)) {
            true
        } else if latin(before) || latin(after) {
            false
        } else if zh(after) {
            true
        } else {
            self.fallback == Lang::Zh
        }
    }

    /// The nearest char before `i` that is not a closer or whitespace.
    fn neighbour_before(&self, i: usize) -> Option<char> {
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

/// A list number (`1`, `12`) or a lowercase item letter (`a`) at the start of
/// a sentence.
fn is_list_marker(word: &str) -> bool {
    let digits = (1..=3).contains(&word.len()) && word.bytes().all(|b| b.is_ascii_digit());
    let letter = word.len() == 1 && word.bytes().all(|b| b.is_ascii_lowercase());
    digits || letter
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

/// Depth inside matched pairs of marks (Chinese quotes, title brackets)
/// before each char index. Unmatched marks are ignored, so a stray `“`
/// cannot swallow a paragraph.
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

/// Char indices where a new list item starts, when the paragraph opens like a
/// list: with a bullet (`• a • b`), or with a marker (`1.`, `1)`, `1.)`, `a.`)
/// followed later by the next marker in sequence (`2.`, `b.`).
fn list_items(chars: &[(usize, char)]) -> Vec<usize> {
    let ch = |i: usize| chars.get(i).map(|&(_, c)| c);
    let ws = |i: usize| ch(i).is_some_and(char::is_whitespace);
    let start = (0..chars.len()).find(|&i| !ws(i)).unwrap_or(chars.len());
    let Some(first) = ch(start) else {
        return Vec::new();
    };
    if is_bullet(first) {
        return (start + 1..chars.len())
            .filter(|&q| ch(q) == Some(first) && ws(q - 1))
            .collect();
    }
    let Some(marker) = Marker::parse(chars, start) else {
        return Vec::new();
    };
    let mut items = Vec::new();
    let mut want = marker.next();
    for q in start + 1..chars.len() {
        if ws(q - 1) && want.matches_at(chars, q) {
            items.push(q);
            want = want.next();
        }
    }
    items
}

/// A list marker: a number or a lowercase letter, then `.`, `)` or `.)`.
#[derive(Debug, Clone, Copy)]
struct Marker {
    value: u32,
    letter: bool,
    suffix: &'static str,
}

impl Marker {
    fn parse(chars: &[(usize, char)], at: usize) -> Option<Marker> {
        let ch = |i: usize| chars.get(i).map(|&(_, c)| c);
        let mut i = at;
        let mut value = 0u32;
        while let Some(d) = ch(i).and_then(|c| c.to_digit(10)) {
            value = value.saturating_mul(10).saturating_add(d);
            i += 1;
        }
        let letter = i == at;
        if letter {
            let c = ch(i).filter(char::is_ascii_lowercase)?;
            value = u32::from(c);
            i += 1;
        } else if i - at > 3 {
            return None;
        }
        let suffix = match (ch(i), ch(i + 1)) {
            (Some('.'), Some(')')) => ".)",
            (Some(')'), _) => ")",
            (Some('.'), _) => ".",
            _ => return None,
        };
        let after = i + suffix.len();
        let followed = ch(after).is_some_and(char::is_whitespace)
            && ch(after + 1).is_some_and(|c| c.is_uppercase() || c.is_ascii_digit());
        followed.then_some(Marker {
            value,
            letter,
            suffix,
        })
    }

    fn next(self) -> Marker {
        Marker {
            value: self.value.saturating_add(1),
            ..self
        }
    }

    fn matches_at(&self, chars: &[(usize, char)], at: usize) -> bool {
        Marker::parse(chars, at).is_some_and(|m| {
            m.value == self.value && m.letter == self.letter && m.suffix == self.suffix
        })
    }
}
