//! The renderer: runs a job's recorded plan through a [`Synthesizer`] and
//! hands the finished chapters to the stitcher and the delivery stage.
//!
//! - [`schedule`]: the dispatcher: pending segments a page at a time
//!   through places in the adaptive window, a deadline, a character budget
//!   and cancellation;
//! - [`delay`]: the delay queue of retries, and how long each waits (its
//!   backoff while fresh work remains, only the service's floor at the tail);
//! - [`task`]: one request's task: the attempt, then (its place freed) the
//!   clip written and its state sent to the writer;
//! - [`work`]: the pending segments, a page at a time;
//! - [`retry`]: one request in a place of the window, the backoff before a
//!   retry, and splitting a text the service finds too long;
//! - [`clips`]: what is already in the cache: adopting clips a killed run
//!   left, forgetting missing or corrupt ones (checked by size and
//!   modification time, hashed when those changed).
//! - [`early`]: chapters stitched and delivered as soon as they are
//!   complete, while the later ones are still being synthesised;
//! - [`finish`]: the rest once synthesis is over: stitching, mastering and
//!   delivering what is complete, the outcome, the report and the run's
//!   record, and the counts of the chapters asked for.
//!
//! State changes go to the store's writer task, which commits them in
//! groups. Ordering that makes resume safe: a clip is written to the cache
//! (fsynced, renamed) before its `Done` is sent, so the database never claims
//! a clip the disk does not hold, and a clip without a row (a kill between
//! the two) is adopted by the next run; a cancelled run stops starting work,
//! lets what is in flight finish, and leaves every segment either done or
//! pending.

mod clips;
mod delay;
mod early;
mod finish;
mod retry;
mod schedule;
mod task;
mod work;

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;

use crate::cache::Cache;
use crate::job::Job;
use crate::pacing::Window;
use crate::plan::{ChapterSet, Plan};
use crate::provider::{ProviderError, Synthesizer};
pub use crate::report::{JobReport, Outcome};
use crate::stitch::CheckedChapter;
use crate::store::{Counts, PlanWritten, RunOutcome, RunStats, StateWriter, Store};
pub use finish::Finishing;
use finish::Tally;

/// A stop was asked for while the job's plan was being recorded: the plan
/// was rolled back, so nothing of the job changed in this run.
#[derive(Debug, thiserror::Error)]
#[error("stopped while planning; nothing of the job was written")]
pub struct StoppedPlanning;

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

/// What a round of synthesis did: the run's figures, a fatal provider
/// error if one stopped the job, whether the character budget stopped it,
/// and the chapters as the clip check found them when nothing changed since
/// (stitching then need not read the clips again).
struct Synthesis {
    stats: RunStats,
    fatal: Option<ProviderError>,
    budget_hit: bool,
    checked: Option<Vec<CheckedChapter>>,
    /// The counts of the chapters asked for, when nothing changed them
    /// since they were taken (with `checked`): the finish need not count again.
    counts: Option<Counts>,
    /// What was delivered while synthesis went on (chapters finished early).
    early: early::Delivered,
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
    /// Cancelled once every fresh segment has been sent (only requests in
    /// flight and retries are left): the next book may start meanwhile.
    drained: Option<CancellationToken>,
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
            drained: None,
        }
    }

    /// `drained` is cancelled once this job's fresh segments have all been
    /// sent, so the caller can start the next job's synthesis while this
    /// one's last requests and retries are still out.
    pub fn with_drained(mut self, drained: CancellationToken) -> Self {
        self.drained = Some(drained);
        self
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
    pub async fn render(&self, plan: &Plan<'_>) -> Result<JobReport> {
        self.synthesize_job(plan).await?.finish().await
    }

    /// The first part of [`Renderer::render`]: records the plan and
    /// synthesizes what is pending. The rest (stitching, the report) is the
    /// returned [`Finishing`], which owns what it needs, so it can run on a
    /// worker while the next job's synthesis uses the quota.
    pub async fn synthesize_job(&self, plan: &Plan<'_>) -> Result<Finishing> {
        let started = Instant::now();
        let job_id = self.record_plan(plan).await?;
        self.synthesize_recorded(plan.job(), job_id, started).await
    }

    /// Records the job's plan in the state database and returns the job's
    /// id. Cancelled meanwhile, it rolls the plan back and returns
    /// [`StoppedPlanning`]: nothing of the job changed. The caller may drop
    /// the manuscript once this returns.
    pub async fn record_plan(&self, plan: &Plan<'_>) -> Result<i64> {
        let stop = || self.cancel.is_cancelled();
        match self
            .store
            .write_plan(plan, &stop)
            .await
            .context("recording the plan in the state database")?
        {
            PlanWritten::Recorded(job_id) => Ok(job_id),
            PlanWritten::Stopped => Err(StoppedPlanning.into()),
        }
    }

    /// The rest of [`Renderer::synthesize_job`] once the plan is recorded
    /// ([`Renderer::record_plan`]); `started` is when the job's run began.
    pub async fn synthesize_recorded(
        &self,
        job: &Job,
        job_id: i64,
        started: Instant,
    ) -> Result<Finishing> {
        let demoted = self.store.recover(job_id).await?;
        if demoted > 0 {
            tracing::info!(job = %job.name, demoted, "resuming: segments left in flight by an earlier run are pending again");
        }
        remove_orphaned_outputs(&job.output.dir);
        let run_id = self.store.start_run(job_id).await?;
        match self.synthesize_committed(job, job_id, run_id).await {
            Ok(Synthesis {
                stats,
                fatal,
                budget_hit,
                checked,
                early,
                counts,
            }) => Ok(Finishing {
                store: self.store.clone(),
                cache: Arc::clone(&self.cache),
                job: job.clone(),
                job_id,
                run_id,
                stats,
                fatal,
                budget_hit,
                early_encoded: early.encoded,
                early_chapters: early.chapters,
                interrupted: self.cancel.is_cancelled(),
                deadline: self.deadline,
                window: self.window.limit() as u64,
                started,
                chapters: self.chapters.clone(),
                checked,
                counts,
            }),
            Err(e) => {
                self.store
                    .finish_run(run_id, RunOutcome::Error, &RunStats::default(), None)
                    .await?;
                Err(e)
            }
        }
    }

    /// Synthesizes with a writer task, chapters finished early beside it,
    /// and returns once every state change it sent is committed.
    async fn synthesize_committed(&self, job: &Job, job_id: i64, run_id: i64) -> Result<Synthesis> {
        let (writer, writer_task) = self.store.writer();
        let early = early::Early::start(early::Context {
            store: self.store.clone(),
            cache: Arc::clone(&self.cache),
            job: job.clone(),
            job_id,
            writer: writer.clone(),
            cancel: self.cancel.clone(),
        });
        let synthesized = self
            .synthesize(job, job_id, run_id, &writer, early.trigger())
            .await;
        // Nothing is delivered early once the finish may start.
        let delivered_early = early.stop().await;
        // Everything the tasks sent is committed before anything reads it.
        let committed = writer.flush().await;
        tracing::debug!(transactions = writer.commits(), "segment states committed");
        drop(writer);
        let written = writer_task.finish().await;
        if !committed || written.is_err() {
            written.context("recording segment states in the state database")?;
        }
        synthesized.map(|synthesis| Synthesis {
            early: delivered_early,
            ..synthesis
        })
    }

    /// Checks the clips already rendered, then synthesizes what is pending.
    async fn synthesize(
        &self,
        job: &Job,
        job_id: i64,
        run_id: i64,
        writer: &StateWriter,
        early: &early::Trigger,
    ) -> Result<Synthesis> {
        let mut stats = RunStats::default();
        let mut budget_left = self.max_characters.or(job.render.max_characters_per_run);
        let checked =
            clips::check(&self.store, writer, &self.cache, job, job_id, &self.cancel).await?;
        // The checks' stamps and forgotten clips are in before counting.
        writer.flush().await;
        let selected = self.chapters.as_ref();
        let counts = Tally::of(&self.store, job_id, selected, job, false)
            .await?
            .counts;
        if counts.pending == 0 {
            // Nothing changed the segments or their clips since the check
            // (a forgotten clip leaves its segments pending): its keys and
            // these counts hold. Unless the check saw open segments that
            // are settled now: the book before this one, still finishing
            // its last requests, wrote their clips in between; the keys are
            // made again after.
            let unchanged = checked.holds(self.cancel.is_cancelled(), selected);
            return Ok(Synthesis {
                stats,
                fatal: None,
                budget_hit: false,
                checked: unchanged.then_some(checked.chapters),
                counts: unchanged.then_some(counts),
                early: early::Delivered::default(),
            });
        }
        let tally = Tally::of(&self.store, job_id, selected, job, true).await?;
        let counts = tally.counts;
        self.progress.start(&ProgressStart {
            job: job.name.clone(),
            chapters: tally.chapters,
            segments: counts.total(),
            done: counts.total() - counts.pending - counts.in_flight,
            audio_secs: tally.audio_secs,
        });
        let round = self
            .synthesize_all(job, job_id, run_id, writer, early, &mut budget_left)
            .await?;
        self.progress.finish();
        round.add_to(&mut stats);
        Ok(Synthesis {
            stats,
            fatal: round.fatal,
            budget_hit: round.budget_hit,
            checked: None,
            early: early::Delivered::default(),
            counts: None,
        })
    }

    fn past_deadline(&self) -> bool {
        self.deadline
            .is_some_and(|d| tokio::time::Instant::now() >= d)
    }
}

/// Temporary files a killed run left in the output folder (a chapter or
/// book file being stitched when it was killed: hundreds of MB for a book).
/// Best effort: a file that cannot be removed is only untidy.
fn remove_orphaned_outputs(dir: &std::path::Path) {
    match crate::atomic::remove_orphaned_temps(dir) {
        Ok(0) => {}
        Ok(removed) => {
            tracing::info!(removed, dir = %dir.display(), "removed half-written files left by killed runs");
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!("cleaning the output folder: {e}"),
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
