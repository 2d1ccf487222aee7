//! The renderer: runs a job's recorded plan through a [`Synthesizer`] and
//! hands the finished chapters to the stitcher and the delivery stage.
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
use crate::deliver::{self, Delivered};
use crate::job::Job;
use crate::pacing::Window;
use crate::plan::PlannedChapter;
use crate::provider::{ProviderError, Synthesizer};
use crate::report::{self, Failure};
pub use crate::report::{JobReport, Outcome};
use crate::stitch;
use crate::store::{RunOutcome, RunStats, SegmentState, Store};

/// Receives progress; the command line draws a bar or writes log lines.
pub trait Progress: Send + Sync {
    fn start(&self, job: &str, total: u64, done: u64);
    fn advance(&self, n: u64);
    fn finish(&self);
}

/// Progress that goes nowhere (library use, tests).
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &str, _: u64, _: u64) {}
    fn advance(&self, _: u64) {}
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
            progress: Arc::new(NoProgress),
        }
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
            let work = self.store.pending_work(job_id).await?;
            let counts = self.store.counts(job_id).await?;
            if stats.synthesized == 0 && stats.cached == 0 {
                stats.cached = counts.done;
            }
            if !work.is_empty() {
                self.progress
                    .start(&job.name, counts.total(), counts.total() - counts.pending);
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
        let delivered = if interrupted {
            Delivered::default()
        } else {
            let stitched = stitch::stitch(&self.store, &self.cache, job, job_id).await?;
            deliver::deliver(&self.store, job, job_id, stitched).await?
        };
        stats.window = self.window.limit() as u64;
        let counts = self.store.counts(job_id).await?;
        let failures = self.failures(job_id).await?;
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
            failures,
            output_dir: job.output.dir.clone(),
            chapters_written: delivered.chapters,
            chapters_total: self.store.chapters(job_id).await?.len(),
            book_files: delivered.book_files,
            files_encoded: delivered.encoded,
            audio_secs: delivered.samples as f64 / f64::from(job.audio.sample_rate),
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

    fn past_deadline(&self) -> bool {
        self.deadline
            .is_some_and(|d| tokio::time::Instant::now() >= d)
    }

    async fn failures(&self, job_id: i64) -> Result<Vec<Failure>> {
        let rows = self.store.segments(job_id).await?;
        Ok(rows
            .into_iter()
            .filter(|r| matches!(r.state, SegmentState::Failed | SegmentState::Pause))
            .map(|r| Failure {
                chapter: r.chapter_idx as usize + 1,
                segment: r.idx as usize,
                text: r.text,
                class: r.error_class.unwrap_or_default(),
                error: r.last_error.unwrap_or_default(),
                attempts: r.attempts as u32,
            })
            .collect())
    }
}

/// The start of a segment's text, for logs.
pub fn preview(text: &str) -> String {
    let mut s: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        s.push('…');
    }
    s
}
