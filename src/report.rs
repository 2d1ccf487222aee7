//! What a run leaves for people and tools: `manifest.json` (every chapter
//! file's duration, every segment's start and end in it and in the book, and
//! the segment's word timings when the provider gave them)
//! and `report.json` (what this run did and what failed, grouped by error).
//! Both are written atomically. Neither ever contains a secret.

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

/// Word offsets in a clip moved to the chapter file. A provider's timing
/// past the clip's end (rounding, or a longer text normalisation) is
/// clamped to the segment's end so a player never highlights a word in the
/// next segment's audio.
fn place_words(words: &[WordTiming], placed: &Placed, rate: u32) -> Vec<WordEntry> {
    let rate = f64::from(rate);
    let start = placed.start as f64 / rate;
    let end = placed.end as f64 / rate;
    let at = |ms: u32| (start + f64::from(ms) / 1000.0).min(end);
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
    pub fn new(
        number: usize,
        title: &str,
        rate: u32,
        book_start_sample: u64,
        laid_out: &ChapterAudio,
        segments: &[SegmentRow],
    ) -> Self {
        let secs = |samples: u64| samples as f64 / f64::from(rate);
        ChapterEntry {
            number,
            title: title.to_string(),
            files: Vec::new(),
            samples: laid_out.samples,
            duration_secs: secs(laid_out.samples),
            book_start_sample,
            book_start_secs: secs(book_start_sample),
            segments: segments
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
                    words: match s.state {
                        // A pause is silence: nothing is spoken in it.
                        SegmentState::Pause => Vec::new(),
                        _ => place_words(&s.words(), placed, rate),
                    },
                })
                .collect(),
        }
    }
}

/// A segment that did not render, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// 1-based chapter number.
    pub chapter: usize,
    pub segment: usize,
    pub text: String,
    pub class: String,
    pub error: String,
    pub attempts: u32,
}

/// `report.json`: the run's outcome, figures, and failures grouped by error.
#[derive(Debug, Serialize)]
struct ReportFile<'a> {
    #[serde(flatten)]
    report: &'a JobReport,
    failures_by_error: Vec<ErrorGroup>,
}

#[derive(Debug, Serialize)]
struct ErrorGroup {
    error: String,
    class: String,
    segments: usize,
}

pub fn group_failures(failures: &[Failure]) -> Vec<(String, String, usize)> {
    let mut groups: Vec<(String, String, usize)> = Vec::new();
    for f in failures {
        match groups.iter_mut().find(|g| g.0 == f.error) {
            Some(g) => g.2 += 1,
            None => groups.push((f.error.clone(), f.class.clone(), 1)),
        }
    }
    groups.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    groups
}

pub fn write_report(dir: &Path, report: &JobReport) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let file = ReportFile {
        report,
        failures_by_error: group_failures(&report.failures)
            .into_iter()
            .map(|(error, class, segments)| ErrorGroup {
                error,
                class,
                segments,
            })
            .collect(),
    };
    write_json(&dir.join("report.json"), &file)
}

pub fn write_manifest(dir: &Path, manifest: &Manifest) -> std::io::Result<()> {
    let mut manifest = manifest.clone();
    manifest.duration_secs = manifest.samples as f64 / f64::from(manifest.sample_rate);
    write_json(&dir.join("manifest.json"), &manifest)
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    crate::atomic::write_atomic(path, &bytes)
}

/// How a job's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every segment rendered; chapter and book files written.
    Complete,
    /// Some segments failed permanently; the rest was rendered and stitched.
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
    pub counts: Counts,
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
}
