//! A job's plan made as it is read ([`Plan`]): the segments of one
//! paragraph at a time, in book order, each chapter announced just before
//! its first segment (a chapter with nothing to say is never announced, so
//! chapter numbers are those of the plan). Nothing holds the whole plan:
//! the state store records it and `plan` sums it as it comes, so planning
//! a book takes the memory of its manuscript, not of its segments too.
//!
//! The stream also counts what a documented rule left out on the way (the
//! pause rule) and which lexicon entries matched, for `plan`.

use sha2::{Digest, Sha256};

use super::{ContentKey, Fingerprint, PlannedChapter, PlannedSegment, lang, spoken};
use crate::job::Job;
use crate::lexicon::{Entry, Lexicon};
use crate::manuscript::{Chapter, Manuscript};
use crate::segment::{Lang, Limits};

/// A job's plan, made on demand from its manuscript.
pub struct Plan<'a> {
    job: &'a Job,
    manuscript: &'a Manuscript,
    fingerprint: Fingerprint,
}

/// One step of a plan, in book order.
#[derive(Debug)]
pub enum Item<'a> {
    /// The next chapter starts: its title. Its number in the plan is the
    /// count of chapters announced before it.
    Chapter(&'a str),
    /// The next segment of the current chapter.
    Segment(PlannedSegment),
}

impl<'a> Plan<'a> {
    pub fn new(job: &'a Job, manuscript: &'a Manuscript) -> Plan<'a> {
        Plan {
            job,
            manuscript,
            fingerprint: Fingerprint::of(job),
        }
    }

    pub fn job(&self) -> &'a Job {
        self.job
    }

    /// The plan's steps, made as they are read.
    pub fn items(&self) -> Items<'a> {
        let lexicon = &self.job.manuscript.lexicon;
        Items {
            chapters: &self.manuscript.chapters,
            lang: lang(self.job.book.language),
            limits: self.job.manuscript.limits,
            lexicon,
            fingerprint: self.fingerprint.clone(),
            chapter: 0,
            next_paragraph: 0,
            paragraph: 0,
            announced: false,
            queue: Vec::new().into_iter(),
            paused: 0,
            used: vec![false; lexicon.entries().len()],
        }
    }

    /// A digest of everything the plan is made from: the manuscript as
    /// read (every chapter's title and paragraphs), the language, the
    /// limits, the lexicon's entries, the voice's fingerprint, the job's
    /// name and title, and the program that splits them (its version and
    /// its executable's size and modification time, so a new build plans
    /// again). Equal digests mean equal plans, so a render whose digest is
    /// the one recorded need not make the plan at all. `None` when the
    /// executable cannot be looked at: the plan is then made and compared.
    pub fn inputs_digest(&self) -> Option<String> {
        use std::fmt::Write;
        let program = program_identity()?;
        let mut hash = Sha256::new();
        let mut out = HashWriter(&mut hash);
        // Debug output quotes and escapes every string, so no two inputs
        // write the same text by shifting characters between fields.
        writeln!(
            out,
            "plan inputs v1|{program}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.job.name,
            self.job.book.title,
            self.fingerprint.as_str(),
            self.job.book.language,
            self.job.manuscript.limits,
            self.job.manuscript.lexicon.entries(),
        )
        .ok()?;
        for chapter in &self.manuscript.chapters {
            writeln!(out, "{chapter:?}").ok()?;
        }
        Some(super::hex(&hash.finalize()))
    }

    /// The whole plan in memory, chapter by chapter: for small books
    /// (tests, library use); the commands stream [`Plan::items`].
    pub fn chapters(&self) -> Vec<PlannedChapter> {
        let mut chapters: Vec<PlannedChapter> = Vec::new();
        for item in self.items() {
            match item {
                Item::Chapter(title) => chapters.push(PlannedChapter {
                    title: title.to_string(),
                    segments: Vec::new(),
                }),
                Item::Segment(segment) => {
                    if let Some(chapter) = chapters.last_mut() {
                        chapter.segments.push(segment);
                    }
                }
            }
        }
        chapters
    }
}

/// The steps of a [`Plan`]; see [`Item`].
pub struct Items<'a> {
    chapters: &'a [Chapter],
    lang: Lang,
    limits: Limits,
    lexicon: &'a Lexicon,
    fingerprint: Fingerprint,
    /// The manuscript chapter being read.
    chapter: usize,
    /// Its next paragraph to split.
    next_paragraph: usize,
    /// The paragraph the queued segments are of.
    paragraph: usize,
    /// Whether the chapter being read has been announced.
    announced: bool,
    queue: std::vec::IntoIter<spoken::Spoken>,
    paused: u64,
    used: Vec<bool>,
}

impl<'a> Items<'a> {
    /// Characters the pause rule left out of the segments made so far.
    pub fn paused(&self) -> u64 {
        self.paused
    }

    /// Lexicon entries that matched none of the segments made so far: after
    /// the whole plan, those that never match.
    pub fn unused_entries(&self) -> Vec<&'a Entry> {
        self.lexicon
            .entries()
            .iter()
            .zip(&self.used)
            .filter(|(_, used)| !**used)
            .map(|(e, _)| e)
            .collect()
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        loop {
            if self.queue.len() > 0 {
                let chapter = &self.chapters[self.chapter];
                if !self.announced {
                    self.announced = true;
                    return Some(Item::Chapter(&chapter.title));
                }
                let s = self.queue.next()?;
                return Some(Item::Segment(PlannedSegment {
                    paragraph: self.paragraph as u32,
                    ends_paragraph: self.queue.len() == 0,
                    content_key: ContentKey::new(&self.fingerprint, s.sent()),
                    text: s.text,
                    spoken: s.spoken,
                }));
            }
            let chapter = self.chapters.get(self.chapter)?;
            match chapter.paragraphs.get(self.next_paragraph) {
                Some(p) => {
                    let (segments, paused) = spoken::paragraph_noting(
                        &p.text,
                        self.lang,
                        self.limits,
                        self.lexicon,
                        &mut self.used,
                    );
                    self.paused += paused;
                    self.queue = segments.into_iter();
                    self.paragraph = self.next_paragraph;
                    self.next_paragraph += 1;
                }
                None => {
                    self.chapter += 1;
                    self.next_paragraph = 0;
                    self.announced = false;
                }
            }
        }
    }
}

/// Formatted text fed straight into a hash, never held whole.
struct HashWriter<'h>(&'h mut Sha256);

impl std::fmt::Write for HashWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.update(s.as_bytes());
        Ok(())
    }
}

/// This program's version, and its executable's path, size and
/// modification time: a rebuilt or upgraded program may split text
/// differently.
fn program_identity() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(&exe).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!(
        "{} {:?} {} {}",
        env!("CARGO_PKG_VERSION"),
        exe,
        meta.len(),
        modified.as_nanos()
    ))
}
