//! Validation of `[manuscript]`: the files (globs expanded, each opened, none
//! listed twice, none that is the job's own output or the job file itself),
//! the chapter rule and its pattern, encoding, segment limits, front matter,
//! tables, and the pronunciation lexicon files.

use std::collections::HashMap;
use std::fs;
use std::ops::RangeInclusive;
use std::path::PathBuf;

use toml::Spanned;

use super::raw::{FileList, RawManuscript};
use super::{ChapterRule, Check, Encoding, FilesEntry, FrontMatter, Job, Manuscript, Tables};
use crate::segment::Limits;

const ENCODINGS: &[(&str, Encoding)] = &[
    ("auto", Encoding::Auto),
    ("utf-8", Encoding::Utf8),
    ("gbk", Encoding::Gbk),
];
const FRONT_MATTER: &[(&str, FrontMatter)] = &[
    ("skip", FrontMatter::Skip),
    ("chapter", FrontMatter::Chapter),
];
const TABLES: &[(&str, Tables)] = &[("skip", Tables::Skip), ("rows", Tables::Rows)];
const MAX_CHARS: RangeInclusive<i64> = 20..=300;
const MAX_BYTES: RangeInclusive<i64> = 60..=1024;

#[derive(Clone, Copy)]
enum ChapterKind {
    Headings,
    Files,
    Regex,
}

impl Check<'_> {
    pub(super) fn manuscript(&mut self, raw: Option<Spanned<RawManuscript>>) -> Manuscript {
        let mut manuscript = Manuscript {
            files: Vec::new(),
            chapters: ChapterRule::Headings,
            encoding: Encoding::Auto,
            limits: Limits::default(),
            skip_brackets: true,
            front_matter: FrontMatter::Skip,
            tables: Tables::Skip,
            lexicon: crate::lexicon::Lexicon::default(),
            entries: Vec::new(),
        };
        let Some(raw) = self.required_table(raw, "manuscript", "files") else {
            return manuscript;
        };
        let (span, raw) = (raw.span(), raw.into_inner());
        match raw.files {
            Some(files) => manuscript.files = self.manuscript_files(files),
            None => self.missing_key(span, "manuscript", "files"),
        }
        manuscript.chapters = self.chapter_rule(raw.chapters, raw.chapter_pattern);
        manuscript.encoding = self
            .choice(raw.encoding, "manuscript", "encoding", ENCODINGS)
            .unwrap_or(Encoding::Auto);
        manuscript.limits = Limits {
            max_chars: self.int(raw.max_chars, "manuscript", "max_chars", MAX_CHARS, 300),
            max_bytes: self.int(raw.max_bytes, "manuscript", "max_bytes", MAX_BYTES, 1024),
        };
        manuscript.skip_brackets = raw.skip_brackets.unwrap_or(true);
        manuscript.front_matter = self
            .choice(raw.front_matter, "manuscript", "front_matter", FRONT_MATTER)
            .unwrap_or(FrontMatter::Skip);
        manuscript.tables = self
            .choice(raw.tables, "manuscript", "tables", TABLES)
            .unwrap_or(Tables::Skip);
        if let Some(files) = raw.lexicon {
            manuscript.lexicon = self.lexicon(files);
        }
        manuscript
    }

    /// Every lexicon file resolved, read and parsed; a problem points at
    /// the entry naming the file, and a malformed file names its own line.
    fn lexicon(&mut self, files: Spanned<FileList>) -> crate::lexicon::Lexicon {
        let mut paths = Vec::new();
        for entry in FileList::entries(files) {
            let span = entry.span();
            match self.base.expand(entry.get_ref()) {
                Ok(found) => {
                    for path in found {
                        match self.base.check_manuscript(&path) {
                            Ok(()) => paths.push(path),
                            Err(message) => {
                                self.problems.at(span.clone(), lexicon_message(&message))
                            }
                        }
                    }
                }
                Err(message) => self.problems.at(span, lexicon_message(&message)),
            }
        }
        match crate::lexicon::Lexicon::load(&paths, |p| self.base.show(p)) {
            Ok(lexicon) => lexicon,
            Err(e) => {
                self.problems.plain(e.to_string());
                crate::lexicon::Lexicon::default()
            }
        }
    }

    /// Each entry resolved, expanded and opened; an error points at the
    /// entry that named the file.
    fn manuscript_files(&mut self, files: Spanned<FileList>) -> Vec<PathBuf> {
        let list_span = files.span();
        let entries = FileList::entries(files);
        if entries.is_empty() {
            self.problems.at(
                list_span,
                "files is empty; list at least one manuscript file in [manuscript] files",
            );
        }
        // Keyed by canonical path, so `book.md` and `./book.md` are one file.
        let mut seen: HashMap<PathBuf, String> = HashMap::new();
        let mut resolved = Vec::new();
        self.entries = entries.clone();
        for entry in entries {
            let span = entry.span();
            let paths = match self.base.expand(entry.get_ref()) {
                Ok(paths) => paths,
                Err(message) => {
                    self.problems.at(span, message);
                    continue;
                }
            };
            for path in paths {
                if let Err(message) = self.base.check_manuscript(&path) {
                    self.problems.at(span.clone(), message);
                    continue;
                }
                let key = fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                if let Some(first) = seen.get(&key) {
                    self.problems.at(
                        span.clone(),
                        format!(
                            "manuscript file {} is listed twice (also by {first:?}); remove the \
                             duplicate from [manuscript] files",
                            self.base.show(&path)
                        ),
                    );
                    continue;
                }
                seen.insert(key, entry.get_ref().clone());
                resolved.push(path);
            }
        }
        resolved
    }

    fn chapter_rule(
        &mut self,
        chapters: Option<Spanned<String>>,
        pattern: Option<Spanned<String>>,
    ) -> ChapterRule {
        let given = chapters.as_ref().map(Spanned::span);
        let kinds = &[
            ("headings", ChapterKind::Headings),
            ("files", ChapterKind::Files),
            ("regex", ChapterKind::Regex),
        ];
        let kind = match (
            self.choice(chapters, "manuscript", "chapters", kinds),
            &given,
        ) {
            (Some(kind), _) => kind,
            (None, None) => ChapterKind::Headings,
            // Already reported; a pattern error now would only be noise.
            (None, Some(_)) => return ChapterRule::Headings,
        };
        match (kind, pattern) {
            (ChapterKind::Regex, Some(pattern)) => self.chapter_regex(pattern),
            (ChapterKind::Regex, None) => {
                self.problems.at(
                    given.unwrap_or(0..0),
                    "chapters = \"regex\" needs a chapter_pattern; add chapter_pattern = \
                     '^Chapter \\d+' (your pattern) under [manuscript]",
                );
                ChapterRule::Headings
            }
            (_, Some(pattern)) => {
                self.problems.at(
                    pattern.span(),
                    "chapter_pattern is only used with chapters = \"regex\"; set [manuscript] \
                     chapters = \"regex\" or remove chapter_pattern",
                );
                ChapterRule::Headings
            }
            (ChapterKind::Headings, None) => ChapterRule::Headings,
            (ChapterKind::Files, None) => ChapterRule::Files,
        }
    }

    fn chapter_regex(&mut self, pattern: Spanned<String>) -> ChapterRule {
        if pattern.get_ref().trim().is_empty() {
            self.problems.at(
                pattern.span(),
                "chapter_pattern is empty; set [manuscript] chapter_pattern to a regex that \
                 matches chapter title lines",
            );
            return ChapterRule::Headings;
        }
        match regex::Regex::new(pattern.get_ref()) {
            Ok(regex) => ChapterRule::Regex(regex),
            Err(e) => {
                self.problems.at(
                    pattern.span(),
                    format!(
                        "chapter_pattern is not a valid regex: {}; fix [manuscript] \
                         chapter_pattern (syntax: https://docs.rs/regex/#syntax)",
                        regex_reason(&e)
                    ),
                );
                ChapterRule::Headings
            }
        }
    }

    /// A manuscript entry must not read what the render writes (the next
    /// run would speak `report.json`, or fail on its own `book.wav`), nor
    /// the job file itself. Checked again when `--output` or `--draft`
    /// moves the output ([`Job::check_output_unread`]).
    pub(super) fn manuscript_reads_no_output(&mut self, job: &mut Job) {
        let mut own = vec![job.path.clone()];
        own.extend(job.defaults.iter().filter_map(|d| fs::canonicalize(d).ok()));
        for entry in std::mem::take(&mut self.entries) {
            let Some(files) = FilesEntry::new(&self.base, entry.get_ref()) else {
                continue;
            };
            if let Some(hit) = files.reads_output_of(&job.output.dir) {
                self.problems.at(
                    entry.span(),
                    format!(
                        "{:?} in [manuscript] files would read this job's own output ({}): the \
                         next run would speak it; narrow the entry (e.g. \"*.md\") or move \
                         [output] dir out of its folder",
                        entry.get_ref(),
                        self.base.show(&hit)
                    ),
                );
            } else if let Some(hit) = own.iter().find(|p| files.matches(p)) {
                self.problems.at(
                    entry.span(),
                    format!(
                        "{:?} in [manuscript] files matches the job file {} itself; narrow the \
                         entry (e.g. \"*.md\") so only manuscripts match",
                        entry.get_ref(),
                        self.base.show(hit)
                    ),
                );
            }
            job.manuscript.entries.push(files);
        }
    }
}

/// A message about a manuscript path, reworded for a lexicon path.
fn lexicon_message(message: &str) -> String {
    message
        .replace("manuscript file", "lexicon file")
        .replace("manuscript path", "lexicon path")
        .replace("[manuscript] files", "[manuscript] lexicon")
}

/// The regex crate's message is several lines with a caret; the last
/// `error:` line is the reason.
fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix("error: "))
        .map(str::to_owned)
        .unwrap_or_else(|| text.split_whitespace().collect::<Vec<_>>().join(" "))
}
