//! The pronunciation lexicon: a publisher's spreadsheet of names and how to
//! say them (`[manuscript] lexicon = ["names.csv"]`), applied to the text a
//! voice gets, never to the text shown in the manifest and subtitles.
//!
//! CSV with a header row: `text,say_as` and optionally `lang` (`zh`, `en`,
//! empty for any) and `case` (`sensitive`, the default, or `insensitive`).
//! Matching, one rule:
//! - An entry matches whole words: where an end of the entry is a Latin
//!   letter or digit, the text next to it must not be one. Chinese has no
//!   spaces between words, so an end that is a Han character matches
//!   anywhere in a run of Han characters (`悟空` inside `孙悟空说`).
//! - Where entries overlap, the longest match wins; among equally long ones,
//!   the entry listed first. The text is scanned left to right and a
//!   replacement is never matched again.
//! - An entry with `lang` applies only to segments in that language.
//!
//! Because the content key is computed from the text as spoken, editing one
//! entry re-renders exactly the segments that contain it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::segment::Lang;

/// Entries from every lexicon file, in the order listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lexicon {
    entries: Vec<Entry>,
    /// Entry indexes by the first char of their text (lowercased when the
    /// entry ignores case), longest first.
    by_first: HashMap<char, Vec<usize>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub text: String,
    pub say_as: String,
    pub lang: Option<Lang>,
    pub ignore_case: bool,
    /// Where the entry is written, for `plan`'s list of unused entries.
    pub file: PathBuf,
    pub line: u64,
    chars: Vec<char>,
}

/// A lexicon file that cannot be used; the message names file and line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LexiconError(pub String);

impl Lexicon {
    /// Reads every file, in order. Errors name the file and line and say
    /// what to fix.
    pub fn load(
        files: &[PathBuf],
        shown: impl Fn(&Path) -> String,
    ) -> Result<Lexicon, LexiconError> {
        let mut lexicon = Lexicon::default();
        for file in files {
            let bytes = std::fs::read(file).map_err(|e| {
                LexiconError(format!(
                    "{}: cannot read lexicon: {e}; check [manuscript] lexicon",
                    shown(file)
                ))
            })?;
            lexicon.read(file, &shown(file), &bytes)?;
        }
        lexicon.index();
        Ok(lexicon)
    }

    /// Parses CSV bytes (used by [`load`](Self::load) and tests).
    pub fn from_csv(file: &Path, bytes: &[u8]) -> Result<Lexicon, LexiconError> {
        let mut lexicon = Lexicon::default();
        lexicon.read(file, &file.display().to_string(), bytes)?;
        lexicon.index();
        Ok(lexicon)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    fn read(&mut self, file: &Path, shown: &str, bytes: &[u8]) -> Result<(), LexiconError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let at = |line: u64, what: String| LexiconError(format!("{shown}:{line}: {what}"));
        let headers = reader
            .headers()
            .map_err(|e| at(csv_line(&e), format!("not valid CSV: {e}")))?
            .clone();
        let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
        let (Some(text_col), Some(say_col)) = (column("text"), column("say_as")) else {
            return Err(at(
                1,
                format!(
                    "the header row must name the columns text and say_as (optionally lang and \
                     case), found {:?}; start the file with: text,say_as",
                    headers.iter().collect::<Vec<_>>()
                ),
            ));
        };
        if let Some(other) = headers.iter().find(|h| {
            !["text", "say_as", "lang", "case"].contains(&h.to_ascii_lowercase().as_str())
        }) {
            return Err(at(
                1,
                format!("unknown column {other:?}; the columns are text, say_as, lang and case"),
            ));
        }
        let (lang_col, case_col) = (column("lang"), column("case"));
        for record in reader.records() {
            let record = record.map_err(|e| at(csv_line(&e), format!("not valid CSV: {e}")))?;
            let line = record.position().map_or(0, csv::Position::line);
            let get = |col: Option<usize>| col.and_then(|c| record.get(c)).unwrap_or("");
            let text = get(Some(text_col));
            if text.is_empty() {
                return Err(at(line, "text is empty; write the word to replace".into()));
            }
            let lang = match get(lang_col) {
                "" => None,
                "zh" => Some(Lang::Zh),
                "en" => Some(Lang::En),
                other => {
                    return Err(at(
                        line,
                        format!("lang must be zh, en or empty, got {other:?}"),
                    ));
                }
            };
            let ignore_case = match get(case_col) {
                "" | "sensitive" => false,
                "insensitive" => true,
                other => {
                    return Err(at(
                        line,
                        format!("case must be sensitive or insensitive, got {other:?}"),
                    ));
                }
            };
            if let Some(first) = self
                .entries
                .iter()
                .find(|e| e.text == text && e.lang == lang && e.ignore_case == ignore_case)
            {
                return Err(at(
                    line,
                    format!(
                        "{text:?} is already in the lexicon ({}:{}); keep one entry",
                        first.file.display(),
                        first.line
                    ),
                ));
            }
            self.entries.push(Entry {
                text: text.to_string(),
                say_as: get(Some(say_col)).to_string(),
                lang,
                ignore_case,
                file: file.to_path_buf(),
                line,
                chars: text.chars().collect(),
            });
        }
        Ok(())
    }

    fn index(&mut self) {
        self.by_first.clear();
        for (i, e) in self.entries.iter().enumerate() {
            let first = fold(e.chars[0], e.ignore_case);
            self.by_first.entry(first).or_default().push(i);
        }
        for list in self.by_first.values_mut() {
            // Longest first; the sort is stable, so listing order breaks ties.
            list.sort_by_key(|&i| std::cmp::Reverse(self.entries[i].chars.len()));
            list.dedup();
        }
    }

    /// The text as spoken, and the indexes of the entries that matched.
    pub fn apply(&self, text: &str, lang: Lang) -> (String, Vec<usize>) {
        if self.entries.is_empty() {
            return (text.to_string(), Vec::new());
        }
        let chars: Vec<char> = text.chars().collect();
        let mut out = String::with_capacity(text.len());
        let mut used = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match self.match_at(&chars, i, lang) {
                Some(e) => {
                    out.push_str(&self.entries[e].say_as);
                    i += self.entries[e].chars.len();
                    used.push(e);
                }
                None => {
                    out.push(chars[i]);
                    i += 1;
                }
            }
        }
        (out, used)
    }

    fn match_at(&self, chars: &[char], i: usize, lang: Lang) -> Option<usize> {
        let c = chars[i];
        let mut candidates = self
            .by_first
            .get(&c)
            .into_iter()
            .chain(self.by_first.get(&fold(c, true)))
            .flatten()
            .copied()
            .collect::<Vec<_>>();
        candidates.sort_by_key(|&e| (std::cmp::Reverse(self.entries[e].chars.len()), e));
        candidates.dedup();
        candidates.into_iter().find(|&e| {
            let entry = &self.entries[e];
            let end = i + entry.chars.len();
            end <= chars.len()
                && entry.lang.is_none_or(|l| l == lang)
                && chars[i..end]
                    .iter()
                    .zip(&entry.chars)
                    .all(|(a, b)| fold(*a, entry.ignore_case) == fold(*b, entry.ignore_case))
                && word_edge(i.checked_sub(1).map(|p| chars[p]), entry.chars[0])
                && word_edge(chars.get(end).copied(), entry.chars[entry.chars.len() - 1])
        })
    }
}

/// One char's case-folded form (its first lowercase char).
fn fold(c: char, ignore_case: bool) -> char {
    if ignore_case {
        c.to_lowercase().next().unwrap_or(c)
    } else {
        c
    }
}

/// A Latin letter or digit at an entry's end must not continue into the
/// text beside it; a Han character (or punctuation) at the end may.
fn word_edge(beside: Option<char>, end: char) -> bool {
    let wordy = |c: char| c.is_alphanumeric() && !crate::segment::is_han(c);
    !wordy(end) || beside.is_none_or(|b| !wordy(b))
}

fn csv_line(e: &csv::Error) -> u64 {
    e.position().map_or(1, csv::Position::line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(csv: &str) -> Lexicon {
        Lexicon::from_csv(Path::new("names.csv"), csv.as_bytes()).unwrap()
    }

    #[test]
    fn whole_words_longest_first() {
        let l = lex("text,say_as\nDarcy,DAR-see\nMr. Darcy,Mister DAR-see\nSt,Saint\n");
        let (out, used) = l.apply(
            "Mr. Darcy met Darcyville and St Albans, not Stuart.",
            Lang::En,
        );
        assert_eq!(
            out,
            "Mister DAR-see met Darcyville and Saint Albans, not Stuart."
        );
        assert_eq!(used, [1, 2]);
    }

    #[test]
    fn han_runs_match_inside_and_case_and_lang_columns() {
        let l = lex(
            "text,say_as,lang,case\n悟空,巫控,zh,\n孙悟空,孙巫控,,\nbingley,BING-lee,en,insensitive\n",
        );
        assert_eq!(
            l.apply("孙悟空说，悟空来了。", Lang::Zh).0,
            "孙巫控说，巫控来了。"
        );
        // The zh entry does not apply to English text; the other does.
        assert_eq!(l.apply("悟空 and 孙悟空", Lang::En).0, "悟空 and 孙巫控");
        assert_eq!(
            l.apply("BINGLEY and Bingley.", Lang::En).0,
            "BING-lee and BING-lee."
        );
        assert_eq!(l.apply("Bingley", Lang::Zh).0, "Bingley");
    }

    #[test]
    fn malformed_csv_names_file_and_line() {
        let err = Lexicon::from_csv(Path::new("names.csv"), b"text,say_as\nA,B\n\"C,D\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("names.csv:3:"), "{err}");
        let err = Lexicon::from_csv(Path::new("names.csv"), b"word,sound\nA,B\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("names.csv:1:") && err.contains("text,say_as"),
            "{err}"
        );
        let err = Lexicon::from_csv(Path::new("n.csv"), b"text,say_as,lang\nA,B,fr\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("n.csv:2:") && err.contains("lang"), "{err}");
        let err = Lexicon::from_csv(Path::new("n.csv"), b"text,say_as\nA,B\nA,C\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("n.csv:3:") && err.contains("already"),
            "{err}"
        );
        let err = Lexicon::from_csv(Path::new("n.csv"), b"text,say_as\nA,B,C\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("n.csv:2:"), "{err}");
    }
}
