//! Text normalisation for the embedded engine: what a narrator would say for
//! the numbers, money, dates and headings a manuscript writes in figures, and
//! which editorial notes a narrator would not read. Cloud voices normalise
//! for themselves; eSpeak NG reads `$3.50` as "dollar three point five zero",
//! so the local provider rewrites each segment with [`Normalizer`] first.
//!
//! English: cardinals ("1,005" → "one thousand and five"), years ("1894" →
//! "eighteen ninety-four"), decades, ordinals ("21st"), decimals, negative
//! numbers, ranges ("10-20" → "ten to twenty"), money ("$3.50" → "three
//! dollars and fifty cents", also £ € ¥ and "$2 million"), percentages,
//! times ("9:05" → "nine oh five"), dates ("2024-01-15", "January 15, 2024",
//! "15 March 1820"), and Roman numerals after a heading word ("Chapter IV" →
//! "Chapter four").
//!
//! Chinese: digits inside Chinese text read in Chinese ("3月15日" → 三月十五日,
//! "2024年" → 二零二四年, "2个" → 两个, "50%" → 百分之五十, "¥3.50" → 三点五元,
//! "10:30" → 十点三十分, "2024-01-15" → 二零二四年一月十五日); full-width digits
//! count as digits.
//!
//! Editorial notes in 【】 (glyph descriptions such as 【左“属”右“立刀”】)
//! are dropped unless the job keeps them (`[voice] keep_notes = true`).
//!
//! Which language a number is read in: the voice's, for an explicit voice;
//! with `voice = "auto"`, Chinese when a Han character touches the number (or
//! its unit), else the script of the nearest letter after it, else before it,
//! else English. The rules' version, [`VERSION`], is part of the local
//! provider's fingerprint, so changing a rule re-renders what it changes.
//!
//! This file owns the pass over a segment (where a rule may start, which
//! language it reads in, notes and full-width forms); the rules themselves,
//! as a table of patterns and readings, are in `rules`, and the words for a
//! number in `english` and `chinese`.

mod chinese;
mod english;
mod rules;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use self::rules::Rule;
use super::script::is_han;

/// Bump when any rule changes what a text is normalised to.
pub const VERSION: u32 = 1;

/// The language numbers are read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// By the script around each number (the `auto` voice).
    Auto,
    English,
    Chinese,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    En,
    Zh,
}

/// Rewrites a segment's text into what the engine should say.
#[derive(Debug, Clone, Copy)]
pub struct Normalizer {
    reading: Reading,
    keep_notes: bool,
}

impl Normalizer {
    pub fn new(reading: Reading, keep_notes: bool) -> Self {
        Normalizer {
            reading,
            keep_notes,
        }
    }

    pub fn normalize(&self, text: &str) -> String {
        let text = if self.keep_notes {
            Cow::Borrowed(text)
        } else {
            skip_notes(text)
        };
        let text = fold_full_width(&text);
        self.rewrite(&text)
    }

    /// One pass over the text: at every place a number (or a heading word,
    /// or a month) can start, the first rule that matches replaces it.
    fn rewrite(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + text.len() / 2);
        let mut i = 0;
        while i < text.len() {
            if token_starts(text, i)
                && let Some((len, words)) = self.rule_at(text, i)
            {
                out.push_str(&words);
                i += len;
                continue;
            }
            // Copy a whole word or number that no rule took, so no rule
            // starts again in the middle of it ("MP3", "3x4").
            let rest = &text[i..];
            let len = if rest.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                rest.find(|c: char| !c.is_ascii_alphanumeric())
                    .unwrap_or(rest.len())
            } else {
                rest.chars().next().map_or(1, char::len_utf8)
            };
            out.push_str(&rest[..len]);
            i += len;
        }
        out
    }

    fn rule_at(&self, text: &str, i: usize) -> Option<(usize, String)> {
        let rest = &text[i..];
        let first = rest.chars().next()?;
        let rules: &[Rule] = if first.is_ascii_digit() {
            &[
                Rule::Date,
                Rule::Time,
                Rule::Percent,
                Rule::Range,
                Rule::Code,
                Rule::DayMonth,
                Rule::Decade,
                Rule::Ordinal,
                Rule::Year,
                Rule::Decimal,
                Rule::Integer,
            ]
        } else if english::currency(first).is_some() {
            &[Rule::Money]
        } else if first == '-' || first == '−' {
            &[Rule::Negative]
        } else if first.is_ascii_uppercase() {
            &[Rule::Heading, Rule::MonthDay]
        } else {
            return None;
        };
        rules.iter().find_map(|rule| {
            let caps = rule.regex().captures(rest)?;
            let len = caps.get(0)?.end();
            if !ends_token(rest, len) {
                return None;
            }
            let lang = self.lang_at(*rule, text, i, i + len);
            let around = (&text[..i], rest[len..].chars().next());
            rule.say(&caps, lang, around).map(|words| (len, words))
        })
    }

    fn lang_at(&self, rule: Rule, text: &str, start: usize, end: usize) -> Lang {
        match self.reading {
            Reading::English => Lang::En,
            Reading::Chinese => Lang::Zh,
            // "Chapter IV" and "May 5" name themselves English.
            Reading::Auto if rule.has_english_word() => Lang::En,
            // "2024年": the unit inside the match is Chinese.
            Reading::Auto if text[start..end].contains(is_han) => Lang::Zh,
            Reading::Auto => lang_by_context(&text[..start], &text[end..]),
        }
    }
}

/// Chinese when a Han character touches the number; else the script of the
/// nearest letter after it, else before it; English when there is none.
fn lang_by_context(before: &str, after: &str) -> Lang {
    let touching = [before.chars().next_back(), after.chars().next()];
    if touching.into_iter().flatten().any(is_han) {
        return Lang::Zh;
    }
    let nearest_after = after.chars().find(|c| c.is_alphabetic());
    let nearest_before = before.chars().rev().find(|c| c.is_alphabetic());
    match nearest_after.or(nearest_before) {
        Some(c) if is_han(c) => Lang::Zh,
        _ => Lang::En,
    }
}

/// A rule may start here: not inside a word or a number ("MP3", the "2" of
/// "1,234" or "1.2").
fn token_starts(text: &str, i: usize) -> bool {
    let mut before = text[..i].chars().rev();
    match before.next() {
        None => true,
        Some(c) if c.is_ascii_alphanumeric() => false,
        Some('.' | ',' | ':') => !before.next().is_some_and(|c| c.is_ascii_digit()),
        Some(_) => true,
    }
}

/// A match must not stop inside a word or a number: "3x4", "12345a" and the
/// "1,2" of "1,234" are not ours. One that ends in a unit ("2024年3月",
/// "50%") has ended its token already.
fn ends_token(rest: &str, len: usize) -> bool {
    if !rest[..len].ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return true;
    }
    let mut after = rest[len..].chars();
    match after.next() {
        None => true,
        Some(c) if c.is_ascii_alphanumeric() => false,
        Some('.' | ',' | ':') => !after.next().is_some_and(|c| c.is_ascii_digit()),
        Some(_) => true,
    }
}

/// Drops 【…】 notes (nested ones too) and the space a dropped note leaves
/// doubled. An unclosed 【 is kept as written.
fn skip_notes(text: &str) -> Cow<'_, str> {
    if !text.contains('【') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    let mut opened_at = 0;
    for (i, c) in text.char_indices() {
        match c {
            '【' => {
                if depth == 0 {
                    opened_at = out.len();
                }
                depth += 1;
                out.push(c);
            }
            '】' if depth > 0 => {
                depth -= 1;
                out.push(c);
                if depth == 0 {
                    out.truncate(opened_at);
                    let next_is_space = text[i + c.len_utf8()..].starts_with(' ');
                    if next_is_space && (out.is_empty() || out.ends_with(' ')) {
                        // The space after the note would double the one before.
                        while out.ends_with(' ') {
                            out.pop();
                        }
                    }
                }
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out.trim().to_string())
}

/// Full-width digits and percent signs as ASCII, and a full-width colon
/// between digits as ':', so "１０：３０" and "５０％" follow the same rules.
fn fold_full_width(text: &str) -> Cow<'_, str> {
    let full = |c: char| ('０'..='９').contains(&c) || c == '％' || c == '：';
    if !text.contains(full) {
        return Cow::Borrowed(text);
    }
    let chars: Vec<char> = text.chars().collect();
    let digit =
        |c: Option<&char>| c.is_some_and(|c| c.is_ascii_digit() || ('０'..='９').contains(c));
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '０'..='９' => out.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
            '％' => out.push('%'),
            '：' if i > 0 && digit(chars.get(i - 1)) && digit(chars.get(i + 1)) => out.push(':'),
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}
