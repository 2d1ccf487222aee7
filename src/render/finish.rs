//! The rest of a job once its synthesis is over ([`Finishing`]): stitching
//! and mastering what is complete, delivering it, the outcome, the report
//! and the run's record; and the counts of the chapters asked for
//! ([`Tally`]), which the progress display starts from too.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::cache::Cache;
use crate::deliver::{self, Delivered};
use crate::job::Job;
use crate::plan::ChapterSet;
use crate::provider::ProviderError;
use crate::report::{self, Failure, JobReport, Outcome};
use crate::stitch::{self, CheckedChapter};
use crate::store::{Counts, RunOutcome, RunStats, SegmentState, Store};

/// The rest of a job once its synthesis is over: stitching what is
/// complete, the report and the run's record.
pub struct Finishing {
    pub(super) store: Store,
    pub(super) cache: Arc<Cache>,
    pub(super) job: Job,
    pub(super) job_id: i64,
    pub(super) run_id: i64,
    pub(super) stats: RunStats,
    pub(super) fatal: Option<ProviderError>,
    pub(super) budget_hit: bool,
    /// Audio files encoded while synthesis went on (chapters finished early).
    pub(super) early_encoded: usize,
    /// The chapters (by index) whose audio files were delivered early.
    pub(super) early_chapters: BTreeSet<i64>,
    pub(super) interrupted: bool,
    pub(super) deadline: Option<tokio::time::Instant>,
    pub(super) window: u64,
    pub(super) started: Instant,
    /// Only these chapters (`--chapters`); the whole book otherwise.
    pub(super) chapters: Option<ChapterSet>,
    /// Every chapter's stitch key from the clip check, when nothing
    /// changed since it ran.
    pub(super) checked: Option<Vec<CheckedChapter>>,
    /// The counts of the chapters asked for, taken with `checked` when
    /// nothing changed since.
    pub(super) counts: Option<Counts>,
}

impl Finishing {
    pub async fn finish(self) -> Result<JobReport> {
        let result = self.stitch_and_report().await;
        let (outcome, stats, stopped_by) = match &result {
            Ok(report) => (
                RunOutcome::from(report.outcome),
                report.stats,
                report.stopped_by.as_deref(),
            ),
            Err(_) => (RunOutcome::Error, RunStats::default(), None),
        };
        self.store
            .finish_run(self.run_id, outcome, &stats, stopped_by)
            .await?;
        result
    }

    async fn stitch_and_report(&self) -> Result<JobReport> {
        let job = &self.job;
        let delivered = if self.interrupted {
            // An interrupted run writes nothing more, but still says which
            // chapters are complete and how much audio they hold. Chapters
            // whose files went out early are named in the text files, as a
            // finish of only those chapters would (nothing is measured or
            // encoded: they are up to date).
            if !self.early_chapters.is_empty() {
                let (store, cache) = (&self.store, &self.cache);
                let only = &self.early_chapters;
                let stitched =
                    stitch::stitch_chapters(store, cache, job, self.job_id, only).await?;
                deliver::deliver(store, job, self.job_id, stitched).await?;
            }
            let (chapters, samples) = stitch::survey(&self.store, job, self.job_id).await?;
            Delivered {
                chapters,
                samples,
                ..Delivered::default()
            }
        } else {
            let stitched = stitch::stitch(
                &self.store,
                &self.cache,
                job,
                self.job_id,
                self.checked.as_deref(),
            )
            .await?;
            deliver::deliver(&self.store, job, self.job_id, stitched).await?
        };
        let mut stats = self.stats;
        stats.window = self.window;
        // Stitching and delivering change no segment: counts taken when
        // nothing had changed since still hold.
        let counts = match self.counts {
            Some(counts) => counts,
            None => {
                Tally::of(&self.store, self.job_id, self.chapters.as_ref(), job, false)
                    .await?
                    .counts
            }
        };
        // Segments, each counted once: those synthesized now, the rest of
        // the done ones already rendered (a clip re-rendered after damage
        // is not counted twice).
        stats.synthesized = stats.synthesized.min(counts.done);
        stats.cached = counts.done - stats.synthesized;
        let mut failures = self.failures().await?;
        let pauses = pauses_by_reason(&failures);
        let silent = "the provider's clip is silence from end to end; it is left out of the \
                      chapter. Reword the segment or change the voice";
        failures.extend(delivered.silent.iter().map(|r| Failure {
            chapter: r.chapter_idx as usize + 1,
            segment: r.idx as usize,
            text: r.text.clone(),
            class: "silent".into(),
            error: silent.into(),
            cause: silent.into(),
            log_id: None,
            request_id: None,
            attempts: r.attempts as u32,
        }));
        let past_deadline = self
            .deadline
            .is_some_and(|d| tokio::time::Instant::now() >= d);
        // Narration that became silence is never a complete book.
        let outcome = if self.interrupted {
            Outcome::Interrupted
        } else if self.fatal.is_some() {
            Outcome::Failed
        } else if counts.pending > 0 && (past_deadline || self.budget_hit) {
            Outcome::Incomplete
        } else if counts.failed > 0
            || counts.pending > 0
            || counts.pause > 0
            || !delivered.silent.is_empty()
        {
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
            chapters_written: delivered.chapters,
            chapters_total: self.store.chapter_titles(self.job_id).await?.len(),
            book_files: delivered.book_files,
            files_encoded: delivered.encoded + self.early_encoded,
            audio_secs: delivered.samples as f64 / f64::from(job.audio.sample_rate),
            elapsed_secs: self.started.elapsed().as_secs_f64(),
            stopped_by: self.fatal.as_ref().map(|e| e.to_string()),
            pauses,
            qa_profile: job.master.profile.name(),
            qa_failures: qa_failures(&delivered.qa),
        };
        // Every run leaves its report, a stopped or interrupted one too:
        // cron's morning reader learns from it what was done before the stop.
        report::write_report(&job.output.dir, &report).context("writing report.json")?;
        Ok(report)
    }

    async fn failures(&self) -> Result<Vec<Failure>> {
        let rows = self.store.failed_segments(self.job_id).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let mut failure = Failure {
                    chapter: r.chapter_idx as usize + 1,
                    segment: r.idx as usize,
                    text: r.text,
                    class: r.error_class.unwrap_or_default(),
                    error: String::new(),
                    cause: r.last_error.unwrap_or_default(),
                    log_id: r.error_log_id,
                    request_id: r.error_request_id,
                    attempts: r.attempts as u32,
                };
                let ids = failure.ids();
                failure.error = if ids.is_empty() {
                    failure.cause.clone()
                } else {
                    format!("{} ({ids})", failure.cause)
                };
                failure
            })
            .collect())
    }
}

/// Counts of the chapters asked for (the whole book by default), read
/// per chapter from the database.
pub(super) struct Tally {
    pub(super) counts: Counts,
    /// Chapters in the book.
    pub(super) chapters: usize,
    /// Audio of the done segments, in seconds.
    pub(super) audio_secs: f64,
}

impl Tally {
    /// `with_audio`: also the audio already rendered (a join with the
    /// clips; only a round of synthesis shows it).
    pub(super) async fn of(
        store: &Store,
        job_id: i64,
        selected: Option<&ChapterSet>,
        job: &Job,
        with_audio: bool,
    ) -> Result<Tally> {
        let mut tally = Tally {
            counts: Counts::default(),
            chapters: 0,
            audio_secs: 0.0,
        };
        let mut samples = 0u64;
        for t in store.chapter_tallies(job_id, with_audio).await? {
            tally.chapters = tally.chapters.max(t.chapter_idx as usize + 1);
            if selected.is_some_and(|set| !set.contains_index(t.chapter_idx as usize)) {
                continue;
            }
            tally.counts.add(t.state, t.segments, t.chars);
            if t.state == SegmentState::Done {
                samples += t.samples;
            }
        }
        tally.audio_secs = samples as f64 / f64::from(job.audio.sample_rate);
        Ok(tally)
    }
}

/// Segments rendered as silence, counted by their reason.
fn pauses_by_reason(failures: &[Failure]) -> BTreeMap<String, u64> {
    let mut pauses = BTreeMap::new();
    for f in failures.iter().filter(|f| f.class == "unspeakable") {
        *pauses.entry(f.cause.clone()).or_insert(0) += 1;
    }
    pauses
}

/// Every rule a delivered file fails, for the report and the summary.
fn qa_failures(files: &[crate::master::qa::FileQa]) -> Vec<report::QaFailure> {
    files
        .iter()
        .flat_map(|f| {
            f.failed().map(|r| report::QaFailure {
                file: f.file.clone(),
                rule: r.rule.to_string(),
                value: r.value,
                limit: r.limit.clone(),
                fix: r.fix.unwrap_or_default().to_string(),
            })
        })
        .collect()
}
