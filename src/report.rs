//! What a run leaves for people and tools: `manifest.json` (every chapter
//! file's duration, every segment's start and end in it and in the book, and
//! the segment's word timings when the provider gave them)
//! and `report.json` (what this run did and what failed, grouped by error).
//! Both are written atomically. Neither ever contains a secret.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::audio::{ChapterAudio, Placed};
use crate::job::Job;
use crate::provider::WordTiming;
use crate::store::{Counts, RunOutcome, RunStats, SegmentRow, SegmentState};

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub title: String,
    pub author: Option<String>,
    pub language: String,
    pub sample_rate: u32,
    /// The whole-book files (one per format), present only when every
    /// chapter is complete and `[output] split` asks for them.
    pub book_files: Vec<String>,
    /// Samples in the book file (sum of the chapter files).
    pub samples: u64,
    pub duration_secs: f64,
    pub chapters: Vec<ChapterEntry>,
    /// 1-based numbers of chapters not yet stitched (failed or pending segments).
    pub incomplete_chapters: Vec<usize>,
}

impl Manifest {
    pub fn new(job: &Job) -> Self {
        Manifest {
            title: job.book.title.clone(),
            author: job.book.author.clone(),
            language: format!("{:?}", job.book.language).to_lowercase(),
            sample_rate: job.audio.sample_rate,
            book_files: Vec::new(),
            samples: 0,
            duration_secs: 0.0,
            chapters: Vec::new(),
            incomplete_chapters: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ChapterEntry {
    /// 1-based.
    pub number: usize,
    pub title: String,
    /// The chapter's delivered files (one per format), when `[output]
    /// split` asks for chapter files.
    pub files: Vec<String>,
    pub samples: u64,
    pub duration_secs: f64,
    /// Where the chapter starts in the book file.
    pub book_start_sample: u64,
    pub book_start_secs: f64,
    pub segments: Vec<SegmentEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SegmentEntry {
    pub index: usize,
    pub paragraph: usize,
    pub text: String,
    /// Sample offsets in the chapter file; `end` is exclusive.
    pub start_sample: u64,
    pub end_sample: u64,
    pub start_secs: f64,
    pub end_secs: f64,
    /// Rendered as a pause because the provider could not speak it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pause: bool,
    /// The provider's clip was silence from end to end: it is not in the
    /// file (start equals end), and the report lists it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub silent: bool,
    /// Each spoken word's place in the chapter file, for subtitles and
    /// read-along; only when the provider gave timings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<WordEntry>,
}

/// One word's place in the chapter file, in seconds.
#[derive(Debug, Clone, Serialize)]
pub struct WordEntry {
    pub word: String,
    pub start_secs: f64,
    pub end_secs: f64,
}

/// Word offsets in a clip moved to the chapter file (from where the clip's
/// first sample would be, before trimming). A timing outside the speech
/// (the trimmed silence, rounding, a longer text normalisation) is clamped
/// to the segment, so a player never highlights a word in the next
/// segment's audio.
fn place_words(words: &[WordTiming], placed: &Placed, rate: u32) -> Vec<WordEntry> {
    let rate = f64::from(rate);
    let origin = placed.origin as f64 / rate;
    let start = placed.start as f64 / rate;
    let end = placed.end as f64 / rate;
    let at = |ms: u32| (origin + f64::from(ms) / 1000.0).clamp(start, end);
    words
        .iter()
        .map(|w| WordEntry {
            word: w.word.clone(),
            start_secs: at(w.start_ms),
            end_secs: at(w.end_ms.max(w.start_ms)),
        })
        .collect()
}

impl ChapterEntry {
    /// Where the chapter starts in the book file, once the chapters before
    /// it are known.
    pub fn place_in_book(&mut self, rate: u32, book_start_sample: u64) {
        self.book_start_sample = book_start_sample;
        self.book_start_secs = book_start_sample as f64 / f64::from(rate);
    }

    /// A chapter's entry without its segments: what a run holds of each
    /// chapter (the segments are read back a chapter at a time when the
    /// manifest, subtitles and proof sheet are written, see
    /// [`segment_entries`]).
    pub fn new(number: usize, title: &str, rate: u32, samples: u64) -> Self {
        let secs = |samples: u64| samples as f64 / f64::from(rate);
        ChapterEntry {
            number,
            title: title.to_string(),
            files: Vec::new(),
            samples,
            duration_secs: secs(samples),
            book_start_sample: 0,
            book_start_secs: 0.0,
            segments: Vec::new(),
        }
    }
}

/// Every segment's entry of a chapter laid out as `laid_out`: where its
/// speech is in the chapter file, and its words'.
pub fn segment_entries(
    rate: u32,
    laid_out: &ChapterAudio,
    segments: &[SegmentRow],
) -> Vec<SegmentEntry> {
    let secs = |samples: u64| samples as f64 / f64::from(rate);
    segments
        .iter()
        .zip(&laid_out.placed)
        .map(|(s, placed)| SegmentEntry {
            index: s.idx as usize,
            paragraph: s.paragraph_idx as usize,
            text: s.text.clone(),
            start_sample: placed.start,
            end_sample: placed.end,
            start_secs: secs(placed.start),
            end_secs: secs(placed.end),
            pause: s.state == SegmentState::Pause,
            silent: placed.silent && s.state != SegmentState::Pause,
            words: match s.state {
                // A pause is silence: nothing is spoken in it.
                SegmentState::Pause => Vec::new(),
                _ if placed.silent => Vec::new(),
                _ => place_words(&s.words(), placed, rate),
            },
        })
        .collect()
}

/// A segment that did not render as speech (failed, or a pause), for the
/// report.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// 1-based chapter number.
    pub chapter: usize,
    pub segment: usize,
    pub text: String,
    pub class: String,
    /// The error as shown: its cause and the ids of the request.
    pub error: String,
    /// The message and code, without ids: the same for every segment that
    /// failed for the same reason.
    pub cause: String,
    /// The service's log id (for a support ticket) and our request id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    pub attempts: u32,
}

impl Failure {
    /// `log id X; request Y`, or empty.
    pub fn ids(&self) -> String {
        crate::provider::ids_text(self.log_id.as_deref(), self.request_id.as_deref())
    }
}

/// `report.json`: the run's outcome, figures, and failures grouped by cause.
#[derive(Debug, Serialize)]
struct ReportFile<'a> {
    #[serde(flatten)]
    report: &'a JobReport,
    failures_by_error: Vec<ErrorGroup>,
}

/// The failures of one cause: how many, and the ids of one of them (a
/// support ticket needs one example, not thousands).
#[derive(Debug, Clone, Serialize)]
pub struct ErrorGroup {
    /// The cause, without ids.
    pub error: String,
    pub class: String,
    pub segments: usize,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub example_ids: String,
}

/// Failures grouped by cause, most frequent first.
pub fn group_failures(failures: &[Failure]) -> Vec<ErrorGroup> {
    let mut groups: Vec<ErrorGroup> = Vec::new();
    for f in failures {
        match groups
            .iter_mut()
            .find(|g| g.error == f.cause && g.class == f.class)
        {
            Some(g) => g.segments += 1,
            None => groups.push(ErrorGroup {
                error: f.cause.clone(),
                class: f.class.clone(),
                segments: 1,
                example_ids: f.ids(),
            }),
        }
    }
    groups.sort_by(|a, b| {
        b.segments
            .cmp(&a.segments)
            .then_with(|| a.error.cmp(&b.error))
    });
    groups
}

pub fn write_report(dir: &Path, report: &JobReport) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let file = ReportFile {
        report,
        failures_by_error: group_failures(&report.failures),
    };
    write_json(&dir.join("report.json"), &file)
}

/// `manifest.json`, the manifest as it is with its duration: the same
/// fields in the same order, borrowed, each chapter's entry made when the
/// writer reaches it.
#[derive(Serialize)]
struct ManifestFile<'a> {
    title: &'a str,
    author: &'a Option<String>,
    language: &'a str,
    sample_rate: u32,
    book_files: &'a [String],
    samples: u64,
    duration_secs: f64,
    chapters: Chapters<'a>,
    incomplete_chapters: &'a [usize],
}

/// The chapters' entries, the `i`th made by `entry(i)` as it is written.
struct Chapters<'a> {
    count: usize,
    entry: RefCell<&'a mut dyn FnMut(usize) -> anyhow::Result<ChapterEntry>>,
    /// Why making an entry failed (the serializer keeps only a message).
    failed: RefCell<Option<anyhow::Error>>,
}

impl Serialize for Chapters<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = serializer.serialize_seq(Some(self.count))?;
        for i in 0..self.count {
            let entry = (self.entry.borrow_mut())(i).map_err(|e| {
                let message = format!("{e:#}");
                *self.failed.borrow_mut() = Some(e);
                S::Error::custom(message)
            })?;
            seq.serialize_element(&entry)?;
        }
        seq.end()
    }
}

/// Writes `manifest.json`'s bytes (pretty JSON and a final newline) to
/// `out`, the `i`th chapter's entry, segments and all, made by `entry(i)`
/// when the writer reaches it: a book's segments are never held at once.
pub fn manifest_json(
    out: &mut dyn std::io::Write,
    manifest: &Manifest,
    entry: &mut dyn FnMut(usize) -> anyhow::Result<ChapterEntry>,
) -> anyhow::Result<()> {
    let file = ManifestFile {
        title: &manifest.title,
        author: &manifest.author,
        language: &manifest.language,
        sample_rate: manifest.sample_rate,
        book_files: &manifest.book_files,
        samples: manifest.samples,
        duration_secs: manifest.samples as f64 / f64::from(manifest.sample_rate),
        chapters: Chapters {
            count: manifest.chapters.len(),
            entry: RefCell::new(entry),
            failed: RefCell::new(None),
        },
        incomplete_chapters: &manifest.incomplete_chapters,
    };
    match pretty_json(out, &file) {
        Ok(()) => Ok(()),
        Err(e) => Err(match file.chapters.failed.into_inner() {
            Some(failed) => failed,
            None => e.into(),
        }),
    }
}

/// Pretty JSON and a final newline.
fn pretty_json<T: Serialize>(out: &mut dyn std::io::Write, value: &T) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}

/// Pretty JSON and a final newline, streamed into the atomic file (a large
/// book's manifest is never held as one string).
fn write_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    use std::io::Write as _;
    let (atomic, file) = crate::atomic::AtomicFile::create(path)?;
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, &file);
    pretty_json(&mut out, value)?;
    out.flush()?;
    drop(out);
    atomic.commit(&file)
}

/// How a job's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every segment rendered; chapter and book files written.
    Complete,
    /// Some segments failed permanently or became silence, or the provider
    /// refused the account and the job was stopped; the rest was rendered
    /// and stitched.
    Failed,
    /// Stopped by a signal before the end; state saved.
    Interrupted,
    /// No new segment was started after the deadline (`--until`,
    /// `--max-duration`); complete chapters were stitched, state saved.
    Incomplete,
}

impl From<Outcome> for RunOutcome {
    fn from(outcome: Outcome) -> RunOutcome {
        match outcome {
            Outcome::Complete => RunOutcome::Complete,
            Outcome::Failed => RunOutcome::Failed,
            Outcome::Interrupted => RunOutcome::Interrupted,
            Outcome::Incomplete => RunOutcome::Incomplete,
        }
    }
}

/// What one run of one job did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JobReport {
    pub job: String,
    pub outcome: Outcome,
    pub stats: RunStats,
    /// Segments by state: of the chapters asked for (`--chapters`), else
    /// of the whole book.
    pub counts: Counts,
    /// `--chapters` as given, when the run was limited to some chapters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chapters_selected: Option<String>,
    pub failures: Vec<Failure>,
    pub output_dir: PathBuf,
    /// Chapters complete and delivered (or confirmed up to date).
    pub chapters_written: usize,
    pub chapters_total: usize,
    /// The whole-book files delivered, one per format.
    pub book_files: Vec<PathBuf>,
    /// Audio files encoded by this run (0 when everything was up to date).
    pub files_encoded: usize,
    pub audio_secs: f64,
    pub elapsed_secs: f64,
    /// The provider error that stopped the job at once (an account-wide
    /// refusal), with its ids; the segments not rendered stay pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_by: Option<String>,
    /// Segments rendered as silence instead of speech, by reason. A job with
    /// any is never `complete`.
    pub pauses: BTreeMap<String, u64>,
    /// The `[master]` profile the delivered files were checked against.
    pub qa_profile: &'static str,
    /// Every rule a delivered file fails (the files are written all the
    /// same; `qa.json` has every measurement).
    pub qa_failures: Vec<QaFailure>,
}

/// A delivered file that fails a rule of its profile.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QaFailure {
    pub file: String,
    pub rule: String,
    pub value: f64,
    pub limit: String,
    /// What to change in the job file.
    pub fix: String,
}
