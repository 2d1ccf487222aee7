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

mod chinese;
mod english;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};

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

// ── rules ────────────────────────────────────────────────────────────────

#[derive(Debug, Clone, Copy)]
enum Rule {
    Money,
    Date,
    Time,
    Percent,
    Range,
    Code,
    DayMonth,
    MonthDay,
    Decade,
    Ordinal,
    Year,
    Decimal,
    Integer,
    Negative,
    Heading,
}

/// An integer as written: plain digits or thousands separated by commas.
const INT: &str = r"(\d{1,3}(?:,\d{3})+|\d+)";
const MONTH: &str = r"(January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)";

fn regex(pattern: &str) -> Regex {
    Regex::new(&format!(r"\A(?:{pattern})")).expect("normalisation patterns are valid")
}

static MONEY: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"([$£€¥￥])\s?{INT}(?:\.(\d+))?(?:\s(thousand|million|billion|trillion)\b)?"
    ))
});
static DATE: LazyLock<Regex> = LazyLock::new(|| regex(r"(\d{4})([-/.])(\d{1,2})([-/.])(\d{1,2})"));
static TIME: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(\d{1,2}):(\d{2})(?:\s?([aApP])\.?[mM]\.?)?"));
static PERCENT: LazyLock<Regex> = LazyLock::new(|| regex(&format!(r"{INT}(?:\.(\d+))?\s?%")));
static RANGE: LazyLock<Regex> = LazyLock::new(|| regex(r"(\d{1,4})[-–](\d{1,4})"));
static CODE: LazyLock<Regex> = LazyLock::new(|| regex(r"\d+(?:-\d+)+"));
static DAY_MONTH: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"(\d{{1,2}})(?:st|nd|rd|th)?\s+{MONTH}\b\.?(?:,?\s+(\d{{4}}))?"
    ))
});
static MONTH_DAY: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"{MONTH}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?"
    ))
});
static DECADE: LazyLock<Regex> = LazyLock::new(|| regex(r"(\d{3}0)'?s"));
static ORDINAL: LazyLock<Regex> = LazyLock::new(|| regex(r"(\d+)(st|nd|rd|th)"));
static YEAR: LazyLock<Regex> = LazyLock::new(|| regex(r"(\d{4})(年)?"));
static DECIMAL: LazyLock<Regex> = LazyLock::new(|| regex(&format!(r"{INT}\.(\d+)")));
static INTEGER: LazyLock<Regex> = LazyLock::new(|| regex(INT));
static NEGATIVE: LazyLock<Regex> = LazyLock::new(|| regex(&format!(r"[-−]{INT}(?:\.(\d+))?")));
static HEADING: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(Chapter|CHAPTER|Book|BOOK|Part|PART|Volume|VOLUME|Vol\.|VOL\.|Act|ACT|Scene|SCENE|Canto|CANTO|Letter|LETTER|Section|SECTION|Stave|STAVE)\s+([IVXLCDM]+)",
    )
});

impl Rule {
    fn regex(self) -> &'static Regex {
        match self {
            Rule::Money => &MONEY,
            Rule::Date => &DATE,
            Rule::Time => &TIME,
            Rule::Percent => &PERCENT,
            Rule::Range => &RANGE,
            Rule::Code => &CODE,
            Rule::DayMonth => &DAY_MONTH,
            Rule::MonthDay => &MONTH_DAY,
            Rule::Decade => &DECADE,
            Rule::Ordinal => &ORDINAL,
            Rule::Year => &YEAR,
            Rule::Decimal => &DECIMAL,
            Rule::Integer => &INTEGER,
            Rule::Negative => &NEGATIVE,
            Rule::Heading => &HEADING,
        }
    }

    fn has_english_word(self) -> bool {
        matches!(self, Rule::Heading | Rule::MonthDay | Rule::DayMonth)
    }

    /// The words for a match, or None when the match is not what the rule
    /// is for (a month 13, a time 25:00): the next rule gets a chance.
    /// `around` is the text before the match and the character after it.
    fn say(self, caps: &Captures, lang: Lang, around: (&str, Option<char>)) -> Option<String> {
        let (before, after) = around;
        let cap = |i| caps.get(i).map(|m| m.as_str());
        let num = |i| cap(i).and_then(|s: &str| s.replace(',', "").parse::<u64>().ok());
        match (self, lang) {
            (Rule::Money, Lang::En) => {
                let unit = english::currency(cap(1)?.chars().next()?)?;
                Some(english::money(&unit, cap(2)?, cap(3), cap(4)))
            }
            (Rule::Money, Lang::Zh) => {
                let unit = chinese::currency(cap(1)?.chars().next()?)?;
                let frac = cap(3)
                    .map(|f| f.trim_end_matches('0'))
                    .filter(|f| !f.is_empty());
                let amount = match frac {
                    Some(f) => chinese::decimal(cap(2)?, f),
                    None => chinese::integer(cap(2)?),
                };
                let scale = match cap(4) {
                    Some("thousand") => "千",
                    Some("million") => "百万",
                    Some("billion") => "十亿",
                    Some("trillion") => "万亿",
                    _ => "",
                };
                Some(format!("{amount}{scale}{unit}"))
            }
            (Rule::Date, _) => {
                let (month, day) = (num(3)?, num(5)?);
                let valid = (1..=12).contains(&month) && (1..=31).contains(&day);
                // "2024-01-15" and "2024/1/15", not "2024-01/15".
                if !valid || cap(2) != cap(4) {
                    return None;
                }
                Some(match lang {
                    Lang::En => format!(
                        "{} {}, {}",
                        english::MONTHS[month as usize - 1],
                        english::ordinal(day),
                        english::year(num(1)?)
                    ),
                    Lang::Zh => chinese::date(cap(1)?, month, day),
                })
            }
            (Rule::Time, _) => {
                let (hour, minute) = (num(1)?, num(2)?);
                if hour > 24 || minute > 59 {
                    return None;
                }
                Some(match lang {
                    Lang::En => {
                        let suffix = cap(3).map(|s| match s {
                            "a" | "A" => " a.m.",
                            _ => " p.m.",
                        });
                        let words = english::time(hour, minute, suffix.is_some());
                        format!("{words}{}", suffix.unwrap_or_default())
                    }
                    Lang::Zh => {
                        let prefix = match cap(3) {
                            Some("a" | "A") => "上午",
                            Some(_) => "下午",
                            None => "",
                        };
                        format!("{prefix}{}", chinese::time(hour, minute))
                    }
                })
            }
            (Rule::Percent, Lang::En) => {
                let amount = match cap(2) {
                    Some(frac) => english::decimal(cap(1)?, frac),
                    None => english::integer(cap(1)?),
                };
                Some(format!("{amount} percent"))
            }
            (Rule::Percent, Lang::Zh) => {
                let amount = match cap(2) {
                    Some(frac) => chinese::decimal(cap(1)?, frac),
                    None => chinese::integer(cap(1)?),
                };
                Some(chinese::percent(&amount))
            }
            (Rule::Range, _) => {
                let (from, to) = (num(1)?, num(2)?);
                let years = |n: u64| (1100..=2099).contains(&n);
                let is_range =
                    from < to && (years(from) == years(to)) && cap(1)?.len() <= cap(2)?.len();
                // "555-1234" is a telephone number, not a range.
                if !is_range || (!years(from) && to >= 1000) {
                    return None;
                }
                Some(match lang {
                    Lang::En if years(from) => {
                        format!("{} to {}", english::year(from), english::year(to))
                    }
                    Lang::En => format!("{} to {}", english::cardinal(from), english::cardinal(to)),
                    Lang::Zh => format!("{}到{}", chinese::cardinal(from), chinese::cardinal(to)),
                })
            }
            (Rule::Code, _) => {
                // Telephone and other hyphenated numbers, digit by digit,
                // with a pause at each hyphen; short ones ("1894-95") are
                // left to the other rules.
                let text = cap(0)?;
                let digits = text.chars().filter(char::is_ascii_digit).count();
                if digits < 7 {
                    return None;
                }
                let groups = text.split('-');
                Some(match lang {
                    Lang::En => groups.map(english::digits).collect::<Vec<_>>().join(", "),
                    Lang::Zh => groups.map(chinese::digits).collect::<Vec<_>>().join("，"),
                })
            }
            (Rule::DayMonth, Lang::En) => {
                let day = num(1).filter(|d| (1..=31).contains(d))?;
                let month = full_month(cap(2)?);
                let year = num(3).map(|y| format!(" {}", english::year(y)));
                // "on the 3rd May" already has its article.
                let the = if ends_with_word(before, "the") {
                    ""
                } else {
                    "the "
                };
                Some(format!(
                    "{the}{} of {month}{}",
                    english::ordinal(day),
                    year.unwrap_or_default()
                ))
            }
            (Rule::MonthDay, Lang::En) => {
                let day = num(2).filter(|d| (1..=31).contains(d))?;
                let month = full_month(cap(1)?);
                let year = num(3).map(|y| format!(", {}", english::year(y)));
                Some(format!(
                    "{month} {}{}",
                    english::ordinal(day),
                    year.unwrap_or_default()
                ))
            }
            (Rule::Decade, Lang::En) => {
                let n = num(1).filter(|n| (1100..=2090).contains(n))?;
                Some(english::decade(n))
            }
            (Rule::Ordinal, _) => {
                let n = num(1).filter(|n| *n <= english::MAX_CARDINAL)?;
                let suffix_fits = cap(2)? == ordinal_suffix(n);
                if !suffix_fits {
                    return None;
                }
                Some(match lang {
                    Lang::En => english::ordinal(n),
                    Lang::Zh => format!("第{}", chinese::cardinal(n)),
                })
            }
            (Rule::Year, Lang::En) => {
                let n = num(1).filter(|n| (1100..=2099).contains(n))?;
                let unit = cap(2).unwrap_or_default();
                Some(format!("{}{unit}", english::year(n)))
            }
            (Rule::Year, Lang::Zh) => {
                // "2024年" is read digit by digit; a four-digit number
                // without 年 is a quantity (the integer rule).
                cap(2)?;
                Some(format!("{}年", chinese::digits(cap(1)?)))
            }
            (Rule::Decimal, Lang::En) => Some(english::decimal(cap(1)?, cap(2)?)),
            (Rule::Decimal, Lang::Zh) => Some(chinese::decimal(cap(1)?, cap(2)?)),
            (Rule::Integer, Lang::En) => Some(english::integer(cap(1)?)),
            (Rule::Integer, Lang::Zh) => Some(chinese::counted(
                cap(1)?,
                (before.chars().next_back(), after),
            )),
            (Rule::Negative, _) => {
                let amount = match (lang, cap(2)) {
                    (Lang::En, Some(frac)) => english::decimal(cap(1)?, frac),
                    (Lang::En, None) => english::integer(cap(1)?),
                    (Lang::Zh, Some(frac)) => chinese::decimal(cap(1)?, frac),
                    (Lang::Zh, None) => chinese::integer(cap(1)?),
                };
                Some(match lang {
                    Lang::En => format!("minus {amount}"),
                    Lang::Zh => format!("负{amount}"),
                })
            }
            (Rule::Heading, Lang::En) => {
                let n = crate::numerals::roman(cap(2)?)?;
                Some(format!("{} {}", cap(1)?, english::cardinal(n)))
            }
            // Month names, decades and Roman headings are English only.
            (Rule::DayMonth | Rule::MonthDay | Rule::Decade | Rule::Heading, Lang::Zh) => None,
        }
    }
}

/// Whether `text` ends with the word `word` (any case).
fn ends_with_word(text: &str, word: &str) -> bool {
    let last = text.trim_end().rsplit(|c: char| !c.is_alphabetic()).next();
    last.is_some_and(|w| w.eq_ignore_ascii_case(word))
}

fn full_month(name: &str) -> &'static str {
    let short = name.get(..3).unwrap_or(name);
    english::MONTHS
        .iter()
        .find(|m| m.starts_with(short))
        .copied()
        .unwrap_or("January")
}

fn ordinal_suffix(n: u64) -> &'static str {
    match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}
