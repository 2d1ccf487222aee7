//! Chapter checks, so a wrong chapter rule is noticed before a night of
//! rendering: a rule that finds no chapter while a line looks like a heading
//! is an error; gaps in the chapter numbering (Arabic, Roman and Chinese
//! numerals), a chapter over four times the median length, and empty titles
//! are warnings.

use std::sync::LazyLock;

use regex::Regex;

use super::{Manuscript, ManuscriptError, count_visible};
use crate::job::{ChapterRule, Job};

/// How many times the median length a chapter may have before a warning.
const OUTSIZED: u64 = 4;

static HEADING_LIKE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^(?:\#{1,6}\s+\S
            | (?:chapter|part|book|prologue|epilogue|preface)\b
            | 第\s*[0-9〇零一二三四五六七八九十百千两]+\s*[章回节卷部篇]
            | [IVXLC]+\.?$ )",
    )
    .unwrap_or_else(|e| unreachable!("heading pattern is valid: {e}"))
});

static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)(?:\b(?:chapter|part|book|section)\s+([0-9]+|[ivxlcdm]+)\b
            | ^([0-9]+|[IVXLCDM]+)(?:[.:)]|\s|$)
            | 第\s*([0-9〇零一二三四五六七八九十百千两]+)\s*[章回节卷部篇])",
    )
    .unwrap_or_else(|e| unreachable!("number pattern is valid: {e}"))
});

/// The chapter rule found no chapter start in the whole book. An error for
/// a pattern (it was written to match something), and for headings when a
/// line looks like one; a book without anything heading-like is fine as one
/// chapter.
pub(crate) fn no_chapter_found(job: &Job, m: &Manuscript) -> Result<(), ManuscriptError> {
    let example = m
        .chapters
        .iter()
        .flat_map(|c| &c.paragraphs)
        .find(|p| p.text.chars().count() <= 80 && HEADING_LIKE.is_match(&p.text))
        .map(|p| {
            format!(
                "{}:{} looks like a heading: {:?}",
                p.file.display(),
                p.line,
                p.text
            )
        });
    let job_file = job.path.display();
    match (&job.manuscript.chapters, example) {
        (ChapterRule::Regex(re), example) => Err(ManuscriptError::Chapters(format!(
            "{job_file}: chapter_pattern {:?} matches no line of the manuscript; {}; fix \
             [manuscript] chapter_pattern",
            re.as_str(),
            example.unwrap_or_else(|| "no line looks like a heading either".to_string())
        ))),
        (ChapterRule::Headings, Some(example)) => Err(ManuscriptError::Chapters(format!(
            "{job_file}: chapters = \"headings\" found no heading (plain text has none; Markdown \
             has `#` and underlined headings, DOCX Heading 1 and 2); {example}; set [manuscript] \
             chapters = \"regex\" with a chapter_pattern that matches such lines"
        ))),
        _ => Ok(()),
    }
}

/// Warnings about chapters that look wrong.
pub(crate) fn warnings(m: &Manuscript) -> Vec<String> {
    let mut out = Vec::new();
    numbering_gaps(m, &mut out);
    outsized(m, &mut out);
    for (i, c) in m.chapters.iter().enumerate() {
        if c.title.trim().is_empty() {
            out.push(format!(
                "chapter {} ({}:{}) has no title",
                i + 1,
                c.file.display(),
                c.line
            ));
        }
    }
    out
}

fn numbering_gaps(m: &Manuscript, out: &mut Vec<String>) {
    let mut prev: Option<(u32, &super::Chapter)> = None;
    for c in &m.chapters {
        let Some(n) = chapter_number(&c.title) else {
            continue;
        };
        if let Some((p, pc)) = prev
            && n != p + 1
            && n != 1
        {
            let what = if n == p {
                "repeats".to_string()
            } else if n > p {
                format!(
                    "skips {}",
                    if n == p + 2 { "one number" } else { "numbers" }
                )
            } else {
                "goes backwards".to_string()
            };
            out.push(format!(
                "chapter numbering {what}: {:?} ({}:{}) is followed by {:?} ({}:{}); a heading \
                 may be missing (check chapter_pattern against the manuscript)",
                pc.title,
                pc.file.display(),
                pc.line,
                c.title,
                c.file.display(),
                c.line
            ));
        }
        prev = Some((n, c));
    }
}

fn outsized(m: &Manuscript, out: &mut Vec<String>) {
    if m.chapters.len() < 3 {
        return;
    }
    let lengths: Vec<u64> = m
        .chapters
        .iter()
        .map(|c| c.paragraphs.iter().map(|p| count_visible(&p.text)).sum())
        .collect();
    let mut sorted = lengths.clone();
    sorted.sort_unstable();
    let median = sorted[sorted.len() / 2].max(1);
    for (i, (c, len)) in m.chapters.iter().zip(&lengths).enumerate() {
        if *len > OUTSIZED * median {
            out.push(format!(
                "chapter {} {:?} ({}:{}) has {len} characters, {:.1} times the median chapter \
                 ({median}); a chapter heading may have been missed",
                i + 1,
                c.title,
                c.file.display(),
                c.line,
                *len as f64 / median as f64
            ));
        }
    }
}

/// The chapter number in a title: `Chapter 12`, `CHAPTER XII.`, `12.`,
/// `第十二回`.
pub(crate) fn chapter_number(title: &str) -> Option<u32> {
    let caps = NUMBER.captures(title.trim())?;
    let m = caps.iter().skip(1).flatten().next()?.as_str();
    if let Ok(n) = m.parse() {
        return Some(n);
    }
    crate::numerals::roman(m)
        .and_then(|n| u32::try_from(n).ok())
        .or_else(|| chinese(m))
}

fn chinese(s: &str) -> Option<u32> {
    let (mut total, mut digit) = (0u32, 0u32);
    for c in s.chars() {
        let d = match c {
            '〇' | '零' => 0,
            '一' => 1,
            '二' | '两' => 2,
            '三' => 3,
            '四' => 4,
            '五' => 5,
            '六' => 6,
            '七' => 7,
            '八' => 8,
            '九' => 9,
            '十' | '百' | '千' => {
                let unit = match c {
                    '十' => 10,
                    '百' => 100,
                    _ => 1000,
                };
                total += digit.max(1) * unit;
                digit = 0;
                continue;
            }
            _ => return None,
        };
        digit = digit * 10 + d;
    }
    Some(total + digit).filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manuscript::{Chapter, Paragraph, Removed};

    fn book(titles: &[&str], lengths: &[usize]) -> Manuscript {
        let chapters = titles
            .iter()
            .zip(lengths)
            .enumerate()
            .map(|(i, (t, n))| Chapter {
                title: t.to_string(),
                paragraphs: vec![Paragraph {
                    text: "a".repeat(*n),
                    file: "b.txt".into(),
                    line: i * 10 + 1,
                }],
                file: "b.txt".into(),
                line: i * 10 + 1,
            })
            .collect();
        Manuscript {
            chapters,
            removed: Removed::default(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn numbers_in_titles() {
        assert_eq!(chapter_number("CHAPTER XLVI."), Some(46));
        assert_eq!(chapter_number("Chapter 12: The End"), Some(12));
        assert_eq!(chapter_number("第十二回　玄奘秉诚建大会"), Some(12));
        assert_eq!(chapter_number("第一百零一回"), Some(101));
        assert_eq!(chapter_number("第二十一章"), Some(21));
        assert_eq!(chapter_number("IV."), Some(4));
        assert_eq!(chapter_number("The Light"), None);
    }

    /// Seen: a pattern that missed `CHAPTER III.` gave a book with a gap in
    /// its numbering and one chapter twice the size, and nothing warned.
    #[test]
    fn gaps_outsized_chapters_and_empty_titles_warn() {
        let m = book(
            &["CHAPTER I.", "CHAPTER II.", "CHAPTER IV.", "第五回", ""],
            &[100, 100, 450, 100, 100],
        );
        let w = warnings(&m);
        assert_eq!(w.len(), 3, "{w:#?}");
        assert!(
            w[0].contains("skips one number") && w[0].contains("b.txt:11"),
            "{}",
            w[0]
        );
        assert!(w[1].contains("4.5 times the median"), "{}", w[1]);
        assert!(
            w[2].contains("chapter 5") && w[2].contains("no title"),
            "{}",
            w[2]
        );
        let fine = book(&["第一回", "第二回", "第三回"], &[100, 120, 90]);
        assert!(warnings(&fine).is_empty());
    }
}
