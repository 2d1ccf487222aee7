//! The plan: a job's manuscript as the segments a render synthesizes, each
//! with its content key. This is the one place that says what a segment
//! *is* for the cache: [`Fingerprint`] (everything but the text that changes
//! the audio, built once for every provider), [`ContentKey`] (fingerprint +
//! text), and the stitch keys that say whether a chapter or book file is
//! already right. A segment needs synthesis exactly when no clip with its
//! content key exists: [`ToSynthesize`] applies that rule for dry runs, the
//! state store applies it to the recorded plan. A plan is made as it is
//! read ([`Plan`], in `stream`), so no command holds a whole book's
//! segments.
//!
//! It also owns the one chapter → paragraph → segment loop
//! ([`split_chapter`]), which `audiobook segment` shows as it is: there the
//! pronunciation lexicon is applied to what is sent (never to what is
//! shown), so a content key is of the text as spoken and editing one entry
//! re-renders exactly the segments containing its word.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::job::{Audio, Job, Language, Master};
use crate::lexicon::Lexicon;
use crate::manuscript::{Chapter, Manuscript};
use crate::segment::{Lang, Limits};

mod spoken;
mod stream;
pub use spoken::Spoken;
pub use stream::{Item, Items, Plan};

/// Everything besides the text that changes a clip's audio: provider, voice,
/// speed, every audio parameter, sample rate, engine version. Never a token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of the voice `job` asks for. Needs no token and no
    /// client, so `plan` and `validate` compute the same one `render` does.
    pub fn of(job: &Job) -> Fingerprint {
        Fingerprint(crate::provider::fingerprint_for(job))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A clip's name in the cache: a hash of the fingerprint and the text, so
/// equal keys mean equal audio.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::Type)]
#[sqlx(transparent)]
pub struct ContentKey(String);

impl ContentKey {
    /// Lowercase hex SHA-256 over a tag and length-prefixed fields, so no
    /// two different (fingerprint, text) pairs encode to the same bytes.
    pub fn new(fingerprint: &Fingerprint, text: &str) -> ContentKey {
        let mut hasher = Sha256::new();
        hasher.update(b"audiobook-clip-key-v1\0");
        for field in [fingerprint.as_str(), text] {
            hasher.update((field.len() as u64).to_le_bytes());
            hasher.update(field.as_bytes());
        }
        ContentKey(hex(&hasher.finalize()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key's first 16 bytes (its hex decoded), where many keys are kept.
    pub fn short_digest(&self) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        let nibble = |c: u8| match c {
            b'0'..=b'9' => c - b'0',
            _ => (c | 0x20).wrapping_sub(b'a' - 10) & 0x0f,
        };
        for (byte, pair) in bytes.iter_mut().zip(self.0.as_bytes().chunks_exact(2)) {
            *byte = nibble(pair[0]) << 4 | nibble(pair[1]);
        }
        bytes
    }
}

impl std::ops::Deref for ContentKey {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One chapter of a plan.
#[derive(Debug, Clone)]
pub struct PlannedChapter {
    pub title: String,
    pub segments: Vec<PlannedSegment>,
}

#[derive(Debug, Clone)]
pub struct PlannedSegment {
    pub paragraph: u32,
    pub ends_paragraph: bool,
    /// The text as the manuscript has it: the manifest shows it.
    pub text: String,
    /// The text sent to the voice when the lexicon changed it.
    pub spoken: Option<String>,
    pub content_key: ContentKey,
}

impl PlannedSegment {
    /// The text sent to the voice.
    pub fn sent(&self) -> &str {
        self.spoken.as_deref().unwrap_or(&self.text)
    }
}

/// One segment as the splitter made it, before it has a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Paragraph number within the chapter, from 0.
    pub paragraph: usize,
    /// The paragraph's first line in its file.
    pub line: usize,
    pub ends_paragraph: bool,
    /// The text as shown.
    pub text: String,
    /// The text sent to the voice when the lexicon changed it.
    pub spoken: Option<String>,
}

impl Piece {
    /// The text sent to the voice.
    pub fn sent(&self) -> &str {
        self.spoken.as_deref().unwrap_or(&self.text)
    }
}

/// The sentence rules a job's language asks for.
pub fn lang(language: Language) -> Lang {
    match language {
        Language::Zh => Lang::Zh,
        Language::En => Lang::En,
        Language::Mixed => Lang::Auto,
    }
}

/// A chapter's paragraphs split into segments within `limits`, in order,
/// with the lexicon applied to what is sent.
pub fn split_chapter(
    chapter: &Chapter,
    lang: Lang,
    limits: Limits,
    lexicon: &Lexicon,
) -> Vec<Piece> {
    split_chapter_counted(chapter, lang, limits, lexicon).0
}

/// [`split_chapter`], and the characters the pause rule left out.
pub fn split_chapter_counted(
    chapter: &Chapter,
    lang: Lang,
    limits: Limits,
    lexicon: &Lexicon,
) -> (Vec<Piece>, u64) {
    let mut pieces = Vec::new();
    let mut paused = 0;
    for (p, paragraph) in chapter.paragraphs.iter().enumerate() {
        let (texts, p_paused) = spoken::paragraph(&paragraph.text, lang, limits, lexicon);
        paused += p_paused;
        let last = texts.len().saturating_sub(1);
        pieces.extend(texts.into_iter().enumerate().map(|(i, s)| Piece {
            paragraph: p,
            line: paragraph.line,
            ends_paragraph: i == last,
            text: s.text,
            spoken: s.spoken,
        }));
    }
    (pieces, paused)
}

/// The job's plan: every non-empty chapter's segments with their content
/// keys, all in memory (tests, small books); the commands stream
/// [`Plan::items`] instead.
pub fn build(job: &Job, manuscript: &Manuscript) -> Vec<PlannedChapter> {
    Plan::new(job, manuscript).chapters()
}

/// What a render would synthesize, counted as a plan streams past: a
/// segment needs synthesis exactly when no clip with its content key
/// exists, and a text repeated in the book is synthesized once.
#[derive(Debug, Default)]
pub struct ToSynthesize {
    /// Each distinct key seen, by its first 16 bytes: 128 bits of SHA-256,
    /// so two texts of even the largest book share them with a chance far
    /// below 10^-25, in half the memory of the whole key.
    seen: std::collections::HashSet<[u8; 16]>,
    /// Segments whose clip is missing, each occurrence of a repeated text
    /// counted.
    pub segments: usize,
    /// Distinct texts among them: what a render requests.
    pub texts: usize,
    /// Characters of those distinct texts, as sent.
    pub characters: usize,
}

impl ToSynthesize {
    /// Counts one segment of the plan; `has_clip` says whether its key has
    /// a clip (asked again for a repeated text, which is rare, instead of
    /// keeping an answer for every key).
    pub fn add(&mut self, segment: &PlannedSegment, has_clip: impl FnOnce(&ContentKey) -> bool) {
        if has_clip(&segment.content_key) {
            return;
        }
        self.segments += 1;
        if self.seen.insert(segment.content_key.short_digest()) {
            self.texts += 1;
            self.characters += segment.sent().chars().count();
        }
    }
}

/// The chapters a run is limited to (`--chapters 3-5,9`): numbers from 1,
/// as ranges. The whole book is still planned, so chapter numbers and
/// state stay those of the book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChapterSet(pub Vec<(usize, usize)>);

impl ChapterSet {
    /// Whether the 0-based chapter index is selected.
    pub fn contains_index(&self, idx: usize) -> bool {
        self.0
            .iter()
            .any(|&(lo, hi)| (lo..=hi).contains(&(idx + 1)))
    }

    /// The highest chapter number named.
    pub fn max(&self) -> usize {
        self.0.iter().map(|&(_, hi)| hi).max().unwrap_or(0)
    }
}

impl std::fmt::Display for ChapterSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|&(lo, hi)| {
                if lo == hi {
                    lo.to_string()
                } else {
                    format!("{lo}-{hi}")
                }
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

impl ChapterSet {
    /// `3`, `3-5`, `3-5,9`: chapter numbers from 1.
    pub fn parse(text: &str) -> Result<ChapterSet, String> {
        let hint = "write chapter numbers from 1 like 3, 3-5 or 3-5,9";
        let mut ranges = Vec::new();
        for part in text.split(',').map(str::trim) {
            let (lo, hi) = part.split_once('-').unwrap_or((part, part));
            let number = |s: &str| s.trim().parse::<usize>().ok().filter(|n| *n >= 1);
            match (number(lo), number(hi)) {
                (Some(lo), Some(hi)) if lo <= hi => ranges.push((lo, hi)),
                _ => return Err(format!("{part:?} is not a chapter or range; {hint}")),
            }
        }
        Ok(ChapterSet(ranges))
    }
}

/// What fills one slot of a chapter file, for its stitch key.
#[derive(Debug, Clone, Copy)]
pub enum Slot<'a> {
    /// A clip, by the checksum of its file.
    Clip(&'a str),
    /// A pause in place of text the provider could not speak.
    Pause,
}

/// The version of the trimming and mastering code: bumped when a change
/// to it changes the bytes of a chapter file, so every chapter is written
/// again with it.
const MASTERING_VERSION: u32 = 2;

/// Everything a chapter file is made of: equal keys mean equal files, so a
/// chapter whose key is unchanged is not stitched again. The trim and
/// `[master]` settings are part of it (the cache keeps the provider's
/// clips untouched, so changing them re-stitches without re-rendering).
pub fn chapter_stitch_key<'a>(
    audio: &Audio,
    master: &Master,
    pause_ms: u32,
    title: &str,
    slots: impl IntoIterator<Item = (&'a ContentKey, Option<Slot<'a>>, bool)>,
) -> String {
    let mut key = StitchKey::new(audio, master, pause_ms, title);
    for (content_key, slot, ends_paragraph) in slots {
        key.add(content_key, slot, ends_paragraph);
    }
    key.finish()
}

/// [`chapter_stitch_key`] made a segment at a time, as the segments stream
/// from the database (a render's clip check computes every chapter's key in
/// its one pass over the book).
pub struct StitchKey(Sha256);

impl StitchKey {
    pub fn new(audio: &Audio, master: &Master, pause_ms: u32, title: &str) -> StitchKey {
        let mut hash = Sha256::new();
        hash.update(
            format!(
                "{}|{}|{}|{}|{}|{}|{}\n",
                audio.sample_rate,
                audio.sentence_gap_ms,
                audio.paragraph_gap_ms,
                audio.chapter_head_ms,
                audio.chapter_trailing_ms,
                pause_ms,
                title.len()
            )
            .as_bytes(),
        );
        // Debug formatting prints every field, so a new setting joins the key.
        hash.update(
            format!(
                "v{MASTERING_VERSION}|trim {:?}|master {:?}\n",
                audio.trim, master
            )
            .as_bytes(),
        );
        StitchKey(hash)
    }

    /// The next segment: its content key, its clip's checksum (or a
    /// pause; `None` when it has neither), and whether it ends a paragraph.
    pub fn add(&mut self, key: &str, slot: Option<Slot<'_>>, ends_paragraph: bool) {
        let source = match slot {
            Some(Slot::Pause) => "pause",
            Some(Slot::Clip(sha256)) => sha256,
            None => "?",
        };
        let hash = &mut self.0;
        hash.update(key.as_bytes());
        hash.update(b"|");
        hash.update(source.as_bytes());
        hash.update(if ends_paragraph {
            &b"|true\n"[..]
        } else {
            &b"|false\n"[..]
        });
    }

    pub fn finish(self) -> String {
        hex(&self.0.finalize())
    }
}

/// The whole-book file's key: its chapters' keys in order.
pub fn book_stitch_key(chapter_keys: &[String]) -> String {
    let mut hash = Sha256::new();
    for key in chapter_keys {
        hash.update(key.as_bytes());
        hash.update(b"\n");
    }
    hex(&hash.finalize())
}

fn hex(bytes: &[u8]) -> String {
    // A table, not `format!` per byte: a render hashes every segment's key.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod tests;
