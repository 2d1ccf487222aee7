//! The renderer: runs a job's recorded plan through a [`Synthesizer`] and
//! hands the finished chapters to the stitcher.
//!
//! - [`schedule`]: the dispatch loop and one task per distinct segment, with
//!   bounded concurrency, a deadline, a character budget and cancellation;
//! - [`retry`]: one segment's requests: backoff, the adaptive window, and
//!   splitting a text the service finds too long;
//! - [`clips`]: what is already in the cache: adopting clips a killed run
//!   left, forgetting missing or corrupt ones.
//!
//! Ordering that makes resume safe: a clip is written to the cache (fsynced,
//! renamed) before its segments are marked done; a cancelled run stops
//! starting work, lets what is in flight finish, and leaves every segment
//! either done or pending.

mod clips;
mod retry;
mod schedule;

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;

use crate::cache::Cache;
use crate::job::Job;
use crate::pacing::Window;
use crate::plan::{ChapterSet, PlannedChapter};
use crate::provider::{ProviderError, Synthesizer};
use crate::report::{self, Failure};
pub use crate::report::{JobReport, Outcome};
use crate::stitch;
use crate::store::{Counts, RunOutcome, RunStats, SegmentRow, SegmentState, Store, Work};

/// Receives progress; the command line draws a bar or writes log lines.
/// Everything counts segments, the unit of `plan`, `status` and the
/// summary: a sentence repeated in the book is synthesized once and
/// advances the count by each of its segments.
pub trait Progress: Send + Sync {
    fn start(&self, start: &ProgressStart);
    fn advance(&self, tick: Tick);
    fn finish(&self);
}

/// Where a round of synthesis starts.
#[derive(Debug, Clone)]
pub struct ProgressStart {
    pub job: String,
    /// Chapters in the book.
    pub chapters: usize,
    /// Segments this run covers (the book, or the chapters asked for).
    pub segments: u64,
    /// Of those, already done, failed or paused.
    pub done: u64,
    /// Audio already rendered, in seconds.
    pub audio_secs: f64,
}

/// One piece of work finished (synthesized, found in the cache, or failed).
#[derive(Debug, Clone, Copy, Default)]
pub struct Tick {
    /// Segments it settles (more than one for a repeated sentence).
    pub segments: u64,
    /// The chapter it is in, from 1.
    pub chapter: usize,
    /// Audio it adds, in seconds (0 for a failure).
    pub audio_secs: f64,
}

/// Progress that goes nowhere (library use, tests).
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &ProgressStart) {}
    fn advance(&self, _: Tick) {}
    fn finish(&self) {}
}

/// Everything a render needs besides the job.
pub struct Renderer<S: Synthesizer> {
    store: Store,
    cache: Arc<Cache>,
    synth: Arc<S>,
    cancel: CancellationToken,
    /// The adaptive concurrency window, shared by the jobs of one account.
    window: Arc<Window>,
    /// No new segment starts after this instant.
    deadline: Option<tokio::time::Instant>,
    /// Overrides `[render] max_characters_per_run` (`--max-characters`).
    max_characters: Option<u64>,
    /// Only these chapters (`--chapters`); the whole book otherwise.
    chapters: Option<ChapterSet>,
    progress: Arc<dyn Progress>,
}

impl<S: Synthesizer> Renderer<S> {
    /// A renderer with no deadline, no budget override and no progress display.
    pub fn new(
        store: Store,
        cache: Arc<Cache>,
        synth: Arc<S>,
        window: Arc<Window>,
        cancel: CancellationToken,
    ) -> Self {
        Renderer {
            store,
            cache,
            synth,
            cancel,
            window,
            deadline: None,
            max_characters: None,
            chapters: None,
            progress: Arc::new(NoProgress),
        }
    }

    /// Renders only these chapters; the rest of the book keeps its state.
    pub fn with_chapters(mut self, chapters: Option<ChapterSet>) -> Self {
        self.chapters = chapters;
        self
    }

    /// No new segment starts after `deadline`.
    pub fn with_deadline(mut self, deadline: Option<tokio::time::Instant>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Overrides the job's `max_characters_per_run`.
    pub fn with_max_characters(mut self, max_characters: Option<u64>) -> Self {
        self.max_characters = max_characters;
        self
    }

    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.progress = progress;
        self
    }

    /// Renders one job: record the plan, synthesize what is pending, stitch
    /// what is complete, and record the run.
    pub async fn render(&self, job: &Job, chapters: &[PlannedChapter]) -> Result<JobReport> {
        let started = Instant::now();
        let job_id = self
            .store
            .write_plan(job, chapters)
            .await
            .context("recording the plan in the state database")?;
        let demoted = self.store.recover(job_id).await?;
        if demoted > 0 {
            tracing::info!(job = %job.name, demoted, "resuming: segments left in flight by an earlier run are pending again");
        }
        let run_id = self.store.start_run(job_id).await?;
        let result = self.run(job, job_id, run_id, started).await;
        let (outcome, stats) = match &result {
            Ok(report) => (RunOutcome::from(report.outcome), report.stats),
            Err(_) => (RunOutcome::Error, RunStats::default()),
        };
        self.store.finish_run(run_id, outcome, &stats).await?;
        result
    }

    async fn run(
        &self,
        job: &Job,
        job_id: i64,
        run_id: i64,
        started: Instant,
    ) -> Result<JobReport> {
        let mut stats = RunStats::default();
        let mut fatal: Option<ProviderError> = None;
        let mut budget_left = self.max_characters.or(job.render.max_characters_per_run);
        let mut budget_hit = false;
        // A clip found corrupt while stitching is rendered again; two rounds
        // cover that, a third would mean the disk itself is failing.
        for _round in 0..3 {
            clips::drop_missing(&self.store, &self.cache, job_id).await?;
            let rows = self.store.segments(job_id).await?;
            let work = self.selected(&rows, self.store.pending_work(job_id).await?);
            if !work.is_empty() {
                self.progress.start(&self.progress_start(job, &rows));
                let round = self
                    .synthesize_all(job, job_id, run_id, work, &mut budget_left)
                    .await?;
                budget_hit |= round.budget_hit;
                self.progress.finish();
                round.add_to(&mut stats);
                fatal = round.fatal;
            }
            if self.cancel.is_cancelled() || fatal.is_some() || self.past_deadline() || budget_hit {
                break;
            }
            if clips::verify(&self.store, &self.cache, job_id).await? == 0 {
                break;
            }
        }
        let interrupted = self.cancel.is_cancelled();
        // An interrupted run writes nothing more, but still says which
        // chapter files are complete and how much audio they hold.
        let stitched = if interrupted {
            stitch::survey(&self.store, job, job_id).await?
        } else {
            stitch::stitch(&self.store, &self.cache, job, job_id).await?
        };
        stats.window = self.window.limit() as u64;
        let rows = self.store.segments(job_id).await?;
        let counts = self.selected_counts(&rows);
        // Segments, each counted once: those synthesized now, the rest of
        // the done ones already rendered (a clip re-rendered after damage
        // is not counted twice).
        stats.synthesized = stats.synthesized.min(counts.done);
        stats.cached = counts.done - stats.synthesized;
        let failures = failures(&rows);
        let outcome = if interrupted {
            Outcome::Interrupted
        } else if counts.pending > 0 && (self.past_deadline() || budget_hit) {
            Outcome::Incomplete
        } else if counts.failed > 0 || counts.pending > 0 || fatal.is_some() {
            Outcome::Failed
        } else {
            Outcome::Complete
        };
        let report = JobReport {
            job: job.name.clone(),
            outcome,
            stats,
            counts,
            chapters_selected: self.chapters.as_ref().map(ToString::to_string),
            failures,
            output_dir: job.output.dir.clone(),
            chapters_written: stitched.chapters,
            chapters_total: stitched.total,
            book_file: stitched.book,
            audio_secs: stitched.samples as f64 / f64::from(job.audio.sample_rate),
            elapsed_secs: started.elapsed().as_secs_f64(),
        };
        // Every run leaves its report, an interrupted one too: cron's morning
        // reader learns from it what was done before the stop.
        report::write_report(&job.output.dir, &report).context("writing report.json")?;
        if let Some(err) = fatal {
            anyhow::bail!("the provider refused every request, the job was stopped: {err}");
        }
        Ok(report)
    }

    fn in_selection(&self, chapter_idx: i64) -> bool {
        self.chapters
            .as_ref()
            .is_none_or(|set| set.contains_index(chapter_idx as usize))
    }

    /// The pending work of the chapters asked for (a text shared with a
    /// chapter asked for is rendered, whichever chapter it first occurs in).
    fn selected(&self, rows: &[SegmentRow], mut work: Vec<Work>) -> Vec<Work> {
        if self.chapters.is_some() {
            let wanted: std::collections::HashSet<&str> = rows
                .iter()
                .filter(|r| self.in_selection(r.chapter_idx))
                .map(|r| r.content_key.as_str())
                .collect();
            work.retain(|w| wanted.contains(w.content_key.as_str()));
        }
        work
    }

    /// Segment counts of the chapters asked for (the whole book by default).
    fn selected_counts(&self, rows: &[SegmentRow]) -> Counts {
        let mut counts = Counts::default();
        for row in rows.iter().filter(|r| self.in_selection(r.chapter_idx)) {
            let chars = row.text.chars().count() as u64;
            counts.chars_total += chars;
            match row.state {
                SegmentState::Pending => counts.pending += 1,
                SegmentState::InFlight => counts.in_flight += 1,
                SegmentState::Done => {
                    counts.done += 1;
                    counts.chars_done += chars;
                }
                SegmentState::Failed => counts.failed += 1,
                SegmentState::Pause => counts.pause += 1,
            }
        }
        counts
    }

    fn progress_start(&self, job: &Job, rows: &[SegmentRow]) -> ProgressStart {
        let counts = self.selected_counts(rows);
        let samples: i64 = rows
            .iter()
            .filter(|r| self.in_selection(r.chapter_idx) && r.state == SegmentState::Done)
            .filter_map(|r| r.samples)
            .sum();
        ProgressStart {
            job: job.name.clone(),
            chapters: rows
                .iter()
                .map(|r| r.chapter_idx as usize + 1)
                .max()
                .unwrap_or(0),
            segments: counts.total(),
            done: counts.total() - counts.pending - counts.in_flight,
            audio_secs: samples as f64 / f64::from(job.audio.sample_rate),
        }
    }

    fn past_deadline(&self) -> bool {
        self.deadline
            .is_some_and(|d| tokio::time::Instant::now() >= d)
    }
}

fn failures(rows: &[SegmentRow]) -> Vec<Failure> {
    rows.iter()
        .filter(|r| matches!(r.state, SegmentState::Failed | SegmentState::Pause))
        .map(|r| Failure {
            chapter: r.chapter_idx as usize + 1,
            segment: r.idx as usize,
            text: r.text.clone(),
            class: r.error_class.clone().unwrap_or_default(),
            error: r.last_error.clone().unwrap_or_default(),
            attempts: r.attempts as u32,
        })
        .collect()
}

/// The start of a segment's text, for logs.
pub fn preview(text: &str) -> String {
    let mut s: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        s.push('…');
    }
    s
}
