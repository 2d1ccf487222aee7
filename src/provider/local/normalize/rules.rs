//! The rules of the normaliser, as a table: each kind of written number,
//! date or heading ([`Rule`]) with the pattern that finds it and what a
//! narrator says for it in English and in Chinese. Where a rule is tried and
//! which language it reads in is the parent module's business; the words
//! for a number are `english`'s and `chinese`'s.

use std::sync::LazyLock;

use regex::{Captures, Regex};

use super::{Lang, chinese, english};

/// What a rule reads: one kind of written number, date or heading.
#[derive(Debug, Clone, Copy)]
pub(super) enum Rule {
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
    /// The rule's pattern, anchored at the start of the text it is tried on.
    pub(super) fn regex(self) -> &'static Regex {
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

    /// The match names its language itself ("Chapter IV", "May 5").
    pub(super) fn has_english_word(self) -> bool {
        matches!(self, Rule::Heading | Rule::MonthDay | Rule::DayMonth)
    }

    /// The words for a match, or None when the match is not what the rule
    /// is for (a month 13, a time 25:00): the next rule gets a chance.
    /// `around` is the text before the match and the character after it.
    pub(super) fn say(
        self,
        caps: &Captures,
        lang: Lang,
        around: (&str, Option<char>),
    ) -> Option<String> {
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
