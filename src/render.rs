//! The renderer: turns a job's manuscript into a plan, records it, runs the
//! pending segments through a [`Synthesizer`] with bounded concurrency and
//! retries, and stitches the finished chapters and the book.
//!
//! Ordering that makes resume safe: a clip is written to the cache (fsynced,
//! renamed) before its segments are marked done; a cancelled run stops
//! starting work, lets what is in flight finish, and leaves every segment
//! either done or pending.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use backon::{ExponentialBuilder, Retryable};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::audio::{self, StitchItem, StitchSource};
use crate::cache::{self, Cache};
use crate::job::Job;
use crate::manuscript::Manuscript;
use crate::pacing::Window;
use crate::provider::{Clip, ErrorClass, ProviderError, SynthRequest, Synthesizer};
use crate::report::{self, ChapterEntry, Failure, Manifest};
pub use crate::report::{JobReport, Outcome};
use crate::segment::{self, Lang, Limits};
use crate::store::{
    PlannedChapter, PlannedSegment, RunStats, SegmentRow, SegmentState, Store, Work,
};

/// How long a request in flight may still finish after a stop signal.
const CANCEL_GRACE: Duration = Duration::from_secs(20);

/// Silence used for a segment the provider refused as unspeakable.
const PAUSE_MS: u32 = 500;

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
    pub store: Store,
    pub cache: Arc<Cache>,
    pub synth: Arc<S>,
    pub cancel: CancellationToken,
    /// No new segment starts after this instant.
    pub deadline: Option<tokio::time::Instant>,
    /// The adaptive concurrency window, shared by the jobs of one account.
    pub window: Arc<Window>,
    /// Overrides `[render] max_characters_per_run` (`--max-characters`).
    pub max_characters: Option<u64>,
    pub progress: Arc<dyn Progress>,
}

/// Splits a manuscript into the segments of a plan, each with its content
/// key: the lexicon is applied to what is sent (see [`crate::speech`]), and
/// the key is computed from that.
pub fn plan(job: &Job, manuscript: &Manuscript, fingerprint: &str) -> Vec<PlannedChapter> {
    let lang = crate::speech::lang_of(job);
    let lexicon = &job.manuscript.lexicon;
    manuscript
        .chapters
        .iter()
        .map(|chapter| {
            let mut segments = Vec::new();
            for (p, paragraph) in chapter.paragraphs.iter().enumerate() {
                let (pieces, _) =
                    crate::speech::paragraph(&paragraph.text, lang, job.manuscript.limits, lexicon);
                let last = pieces.len().saturating_sub(1);
                for (i, piece) in pieces.into_iter().enumerate() {
                    segments.push(PlannedSegment {
                        paragraph: p as u32,
                        ends_paragraph: i == last,
                        content_key: cache::content_key(fingerprint, piece.sent()),
                        text: piece.text,
                        spoken: piece.spoken,
                    });
                }
            }
            PlannedChapter {
                title: chapter.title.clone(),
                segments,
            }
        })
        .filter(|c| !c.segments.is_empty())
        .collect()
}

impl<S: Synthesizer> Renderer<S> {
    /// Renders one job: plan, synthesize what is pending, stitch what is complete.
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
            Ok(report) => (report.outcome.as_str(), report.stats),
            Err(_) => ("error", RunStats::default()),
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
            self.drop_missing_clips(job_id).await?;
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
                stats.synthesized += round.synthesized;
                stats.cached += round.adopted;
                stats.failed += round.failed;
                stats.retries += round.retries;
                stats.requests += round.requests;
                stats.rate_limited += round.rate_limited;
                stats.rate_limit_wait_ms += round.rate_limit_wait_ms;
                fatal = round.fatal;
            }
            if self.cancel.is_cancelled() || fatal.is_some() || self.past_deadline() || budget_hit {
                break;
            }
            if self.verify_clips(job_id).await? == 0 {
                break;
            }
        }
        let interrupted = self.cancel.is_cancelled();
        let stitched = if interrupted {
            Stitched::default()
        } else {
            self.stitch(job, job_id).await?
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

    fn past_deadline(&self) -> bool {
        self.deadline
            .is_some_and(|d| tokio::time::Instant::now() >= d)
    }

    /// Segments marked done whose clip file has disappeared (someone cleaned
    /// the cache) are rendered again rather than failing the stitch.
    async fn drop_missing_clips(&self, job_id: i64) -> Result<()> {
        let rows = self.store.segments(job_id).await?;
        let mut seen = std::collections::HashSet::new();
        for row in rows.iter().filter(|r| r.state() == SegmentState::Done) {
            if seen.insert(row.content_key.as_str())
                && !self.cache.clip_path(&row.content_key).is_file()
            {
                tracing::warn!(segment = %row.content_key, "cached clip is missing; it will be rendered again");
                self.store.forget_clip(&row.content_key).await?;
            }
        }
        Ok(())
    }

    /// Checks every done clip of the job against its checksum; corrupt ones
    /// are forgotten so they are rendered again. Returns how many.
    async fn verify_clips(&self, job_id: i64) -> Result<usize> {
        let rows = self.store.segments(job_id).await?;
        let mut keys: Vec<(String, String)> = rows
            .into_iter()
            .filter(|r| r.state() == SegmentState::Done)
            .filter_map(|r| r.sha256.map(|sha| (r.content_key, sha)))
            .collect();
        keys.sort();
        keys.dedup();
        let cache = Arc::clone(&self.cache);
        let bad = tokio::task::spawn_blocking(move || {
            keys.into_iter()
                .filter(|(key, sha)| !cache.verify(key, sha).unwrap_or(false))
                .map(|(key, _)| key)
                .collect::<Vec<_>>()
        })
        .await?;
        for key in &bad {
            tracing::warn!(segment = %key, "cached clip failed its checksum; it will be rendered again");
            // Deleted, not only forgotten: a corrupt file must never be adopted.
            let path = self.cache.clip_path(key);
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(e)
                        .with_context(|| format!("removing corrupt clip {}", path.display()));
                }
                _ => {}
            }
            self.store.forget_clip(key).await?;
        }
        Ok(bad.len())
    }

    /// Runs every pending unit of work with at most `concurrency` in flight.
    async fn synthesize_all(
        &self,
        job: &Job,
        job_id: i64,
        run_id: i64,
        work: Vec<Work>,
        budget_left: &mut Option<u64>,
    ) -> Result<RoundStats> {
        let semaphore = Arc::new(Semaphore::new(job.render.concurrency));
        let shared = Arc::new(TaskShared {
            store: self.store.clone(),
            cache: Arc::clone(&self.cache),
            synth: Arc::clone(&self.synth),
            cancel: self.cancel.clone(),
            job_cancel: self.cancel.child_token(),
            max_attempts: job.render.max_attempts,
            job_id,
            window: Arc::clone(&self.window),
            retries: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            rate_limit_wait_ms: AtomicU64::new(0),
        });
        self.window.set_ceiling(job.render.concurrency);
        let mut tasks = JoinSet::new();
        let mut totals = RoundStats::default();
        let mut last_window = 0;
        let deadline = async {
            match self.deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(deadline);
        for unit in work {
            let permit = tokio::select! {
                permit = Arc::clone(&semaphore).acquire_owned() => permit?,
                () = shared.job_cancel.cancelled() => break,
                () = &mut deadline => {
                    tracing::info!("deadline reached: no new segments start; finishing those in flight");
                    break;
                }
            };
            if shared.job_cancel.is_cancelled() || self.past_deadline() {
                break;
            }
            let chars = unit.text.chars().count() as u64;
            if let Some(left) = budget_left {
                if chars > *left {
                    tracing::info!(
                        "character budget reached: no new segments start; finishing those in flight"
                    );
                    totals.budget_hit = true;
                    break;
                }
                *left -= chars;
            }
            self.store.mark_in_flight(job_id, &unit.content_key).await?;
            let task_shared = Arc::clone(&shared);
            tasks.spawn(async move {
                let _permit = permit;
                task_shared.render_one(unit).await
            });
            while let Some(done) = tasks.try_join_next() {
                self.tally(done?, &mut totals, &shared)?;
            }
            let window = self.window.limit();
            if window != last_window {
                last_window = window;
                self.store.set_run_window(run_id, window).await?;
            }
        }
        while let Some(done) = tasks.join_next().await {
            self.tally(done?, &mut totals, &shared)?;
        }
        totals.retries = shared.retries.load(Ordering::Relaxed);
        totals.requests = shared.requests.load(Ordering::Relaxed);
        totals.rate_limited = shared.rate_limited.load(Ordering::Relaxed);
        totals.rate_limit_wait_ms = shared.rate_limit_wait_ms.load(Ordering::Relaxed);
        Ok(totals)
    }

    fn tally(
        &self,
        result: Result<Unit>,
        totals: &mut RoundStats,
        shared: &TaskShared<S>,
    ) -> Result<()> {
        match result? {
            Unit::Done => {
                totals.synthesized += 1;
                self.progress.advance(1);
            }
            Unit::Failed(err) => {
                totals.failed += 1;
                self.progress.advance(1);
                if err.class == ErrorClass::Fatal && totals.fatal.is_none() {
                    tracing::error!(error = %err, "stopping the job: the provider refuses every request");
                    shared.job_cancel.cancel();
                    totals.fatal = Some(err);
                }
            }
            Unit::Adopted => {
                totals.adopted += 1;
                self.progress.advance(1);
            }
            Unit::Abandoned => {}
        }
        Ok(())
    }

    async fn failures(&self, job_id: i64) -> Result<Vec<Failure>> {
        let rows = self.store.segments(job_id).await?;
        Ok(rows
            .into_iter()
            .filter(|r| matches!(r.state(), SegmentState::Failed | SegmentState::Pause))
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

    /// Writes every complete chapter (unless its file is already up to date),
    /// then the book when every chapter is complete, then the manifest.
    async fn stitch(&self, job: &Job, job_id: i64) -> Result<Stitched> {
        let chapters = self.store.chapters(job_id).await?;
        let rows = self.store.segments(job_id).await?;
        let mut by_chapter: BTreeMap<i64, Vec<SegmentRow>> = BTreeMap::new();
        for row in rows {
            by_chapter.entry(row.chapter_idx).or_default().push(row);
        }
        std::fs::create_dir_all(&job.output.dir)
            .with_context(|| format!("creating output dir {}", job.output.dir.display()))?;
        remove_stale_chapter_files(&job.output.dir, chapters.len())?;

        let mut stitched = Stitched {
            total: chapters.len(),
            ..Stitched::default()
        };
        let mut manifest = Manifest::new(job);
        let mut chapter_files = Vec::new();
        let mut chapter_keys = Vec::new();
        let mut book_offset = 0u64;
        for chapter in &chapters {
            let segments = by_chapter.remove(&chapter.idx).unwrap_or_default();
            let complete = segments
                .iter()
                .all(|s| matches!(s.state(), SegmentState::Done | SegmentState::Pause));
            let file = job.output.dir.join(chapter_file_name(chapter.idx));
            if !complete {
                manifest.incomplete_chapters.push(chapter.idx as usize + 1);
                continue;
            }
            let stitch_key = chapter_stitch_key(job, &chapter.title, &segments);
            let items: Vec<StitchItem> = segments
                .iter()
                .map(|s| StitchItem {
                    source: match s.state() {
                        SegmentState::Pause => StitchSource::Silence { ms: PAUSE_MS },
                        _ => StitchSource::Clip(self.cache.clip_path(&s.content_key)),
                    },
                    ends_paragraph: s.ends_paragraph,
                })
                .collect();
            chapter_keys.push(stitch_key.clone());
            let up_to_date = chapter.stitch_key.as_deref() == Some(stitch_key.as_str())
                && file_has_samples(&file, chapter.samples);
            let laid_out = if up_to_date {
                audio::layout(
                    &job.audio,
                    &items,
                    &clip_lengths(&segments, &items, job.audio.sample_rate),
                )
            } else {
                let out = file.clone();
                let audio_cfg = job.audio;
                let laid = tokio::task::spawn_blocking(move || {
                    audio::write_chapter(&out, &audio_cfg, &items)
                })
                .await?
                .with_context(|| format!("writing chapter file {}", file.display()))?;
                self.store
                    .set_stitched(job_id, chapter.idx, &stitch_key, laid.samples)
                    .await?;
                laid
            };
            manifest.chapters.push(ChapterEntry::new(
                chapter.idx as usize + 1,
                &chapter.title,
                &file,
                job.audio.sample_rate,
                book_offset,
                &laid_out,
                &segments,
            ));
            book_offset += laid_out.samples;
            stitched.samples += laid_out.samples;
            stitched.chapters += 1;
            chapter_files.push(file);
        }

        let book = job.output.dir.join("book.wav");
        if manifest.incomplete_chapters.is_empty() && !chapter_files.is_empty() {
            let book_key = book_stitch_key(&chapter_keys);
            let marker = job.output.dir.join(".book.key");
            let current = std::fs::read_to_string(&marker).unwrap_or_default();
            if current != book_key || !file_has_samples(&book, Some(book_offset as i64)) {
                let (out, files, rate) =
                    (book.clone(), chapter_files.clone(), job.audio.sample_rate);
                tokio::task::spawn_blocking(move || audio::write_book(&out, rate, &files))
                    .await?
                    .with_context(|| format!("writing book file {}", book.display()))?;
                report::write_atomic(&marker, book_key.as_bytes())?;
            }
            manifest.book_file = Some("book.wav".into());
            manifest.samples = book_offset;
            stitched.book = Some(book);
        } else if book.exists() {
            // A book file from an earlier, different plan would be stale.
            std::fs::remove_file(&book)
                .with_context(|| format!("removing stale {}", book.display()))?;
        }
        report::write_manifest(&job.output.dir, &manifest).context("writing manifest.json")?;
        Ok(stitched)
    }
}

/// State shared by the tasks of one round.
struct TaskShared<S: Synthesizer> {
    store: Store,
    cache: Arc<Cache>,
    synth: Arc<S>,
    /// The run's cancellation (signals): abandons waits, not finished work.
    cancel: CancellationToken,
    /// Cancelled also when the provider refuses every request.
    job_cancel: CancellationToken,
    max_attempts: u32,
    job_id: i64,
    window: Arc<Window>,
    retries: AtomicU64,
    requests: AtomicU64,
    rate_limited: AtomicU64,
    rate_limit_wait_ms: AtomicU64,
}

enum Unit {
    Done,
    /// Its clip was already in the cache.
    Adopted,
    Failed(ProviderError),
    /// Cancelled before a result: the segment is pending again.
    Abandoned,
}

impl<S: Synthesizer> TaskShared<S> {
    /// A valid clip already in the cache (left by a run killed between
    /// writing it and recording it) is recorded, never requested again.
    async fn adopt(&self, unit: &Work) -> Result<Option<Unit>> {
        let cache = Arc::clone(&self.cache);
        let key = unit.content_key.clone();
        let found = tokio::task::spawn_blocking(move || cache.adopt(&key)).await??;
        let Some(stored) = found else {
            return Ok(None);
        };
        tracing::info!(segment = %unit.content_key, "found its clip already in the cache; recorded it");
        self.store.mark_done(&unit.content_key, &stored, 0).await?;
        Ok(Some(Unit::Adopted))
    }

    async fn render_one(&self, unit: Work) -> Result<Unit> {
        if let Some(unit_done) = self.adopt(&unit).await? {
            return Ok(unit_done);
        }
        if self.job_cancel.is_cancelled() {
            self.store
                .mark_pending(self.job_id, &unit.content_key)
                .await?;
            return Ok(Unit::Abandoned);
        }
        let attempts = AtomicU32::new(0);
        let mut result = self.synthesize_with_retry(&unit.text, &attempts).await;
        if matches!(&result, Err(e) if e.class == ErrorClass::TooLong) {
            result = self.synthesize_in_pieces(&unit.text, &attempts).await;
        }
        if let Err(e) = &result
            && e.class.is_retryable()
            && self.cancel.is_cancelled()
        {
            self.store
                .mark_pending(self.job_id, &unit.content_key)
                .await?;
            return Ok(Unit::Abandoned);
        }
        let attempts = attempts.load(Ordering::Relaxed);
        match result {
            Ok(clip) => {
                let cache = Arc::clone(&self.cache);
                let key = unit.content_key.clone();
                let stored = tokio::task::spawn_blocking(move || cache.put(&key, &clip))
                    .await?
                    .with_context(|| {
                        format!(
                            "writing a clip to the cache at {}",
                            self.cache.root().display()
                        )
                    })?;
                self.store
                    .mark_done(&unit.content_key, &stored, attempts)
                    .await?;
                Ok(Unit::Done)
            }
            Err(err) => {
                if err.class == ErrorClass::Fatal {
                    // Before this task's permit is released, so no other
                    // request starts: every one would be refused.
                    self.job_cancel.cancel();
                }
                let message = err.to_string();
                tracing::warn!(text = %preview(&unit.text), error = %message, "segment failed");
                self.store
                    .mark_failed(
                        self.job_id,
                        &unit.content_key,
                        err.class,
                        &message,
                        attempts,
                    )
                    .await?;
                Ok(Unit::Failed(err))
            }
        }
    }

    /// One text through the provider: retries with backoff on transient
    /// errors, stops retrying once the run is cancelled, and gives up on a
    /// request still in flight after the grace period.
    async fn synthesize_with_retry(
        &self,
        text: &str,
        attempts: &AtomicU32,
    ) -> Result<Clip, ProviderError> {
        let request = SynthRequest {
            text: text.to_string(),
        };
        let attempt = || async {
            // A place in the window per attempt, so a task waiting out a
            // backoff holds none.
            let permit = tokio::select! {
                permit = self.window.acquire() => permit,
                () = self.job_cancel.cancelled() => {
                    return Err(ProviderError::new(ErrorClass::Transient, "stopped before the request was sent"));
                }
            };
            attempts.fetch_add(1, Ordering::Relaxed);
            self.requests.fetch_add(1, Ordering::Relaxed);
            let result = self.synth.synthesize(&request).await;
            match &result {
                Ok(_) => permit.success(),
                Err(e) if e.class == ErrorClass::RateLimit => {
                    self.rate_limited.fetch_add(1, Ordering::Relaxed);
                    permit.rate_limited();
                }
                Err(_) => {}
            }
            result
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(250))
            .with_max_delay(Duration::from_secs(30))
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
            .with_jitter();
        // A backoff wait ends early when the run is cancelled, and no retry
        // starts after that: the segment goes back to pending instead.
        let cancel = self.cancel.clone();
        let sleep = move |delay: Duration| {
            let cancel = cancel.clone();
            async move {
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = cancel.cancelled() => {}
                }
            }
        };
        let retried = attempt
            .retry(backoff)
            .sleep(sleep)
            .when(|e: &ProviderError| e.class.is_retryable() && !self.job_cancel.is_cancelled())
            .adjust(|e: &ProviderError, delay| delay.map(|d| e.retry_after.map_or(d, |r| r.max(d))))
            .notify(|e: &ProviderError, delay| {
                self.retries.fetch_add(1, Ordering::Relaxed);
                if e.class == ErrorClass::RateLimit {
                    self.rate_limit_wait_ms
                        .fetch_add(delay.as_millis() as u64, Ordering::Relaxed);
                }
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "transient failure, retrying");
            });
        // A request in flight when the run is cancelled may finish within
        // the grace period; after that it is abandoned.
        let grace = async {
            self.cancel.cancelled().await;
            tokio::time::sleep(CANCEL_GRACE).await;
        };
        tokio::select! {
            r = retried => r,
            () = grace => Err(ProviderError::new(ErrorClass::Transient, "abandoned: the run was stopped")),
        }
    }

    /// The provider said the text is too long (Volcengine 3010): render it
    /// in pieces at half the limits and join them into the segment's one
    /// clip, so the plan and the manifest stay as they are.
    async fn synthesize_in_pieces(
        &self,
        text: &str,
        attempts: &AtomicU32,
    ) -> Result<Clip, ProviderError> {
        let limits = Limits {
            max_chars: text.chars().count().div_ceil(2).max(1),
            max_bytes: text.len().div_ceil(2).max(4),
        };
        let pieces = segment::split_paragraph(text, Lang::Auto, limits);
        if pieces.len() < 2 {
            return Err(ProviderError::new(
                ErrorClass::TooLong,
                "the provider says the text is too long, and it cannot be split further",
            ));
        }
        tracing::info!(text = %preview(text), pieces = pieces.len(), "too long for the provider: rendering it in pieces");
        let mut joined: Option<Clip> = None;
        for piece in &pieces {
            let clip = self.synthesize_with_retry(piece, attempts).await?;
            match &mut joined {
                None => joined = Some(clip),
                Some(j) if j.sample_rate == clip.sample_rate => j.append(clip),
                Some(_) => {
                    return Err(ProviderError::new(
                        ErrorClass::Permanent,
                        "the provider answered the pieces of one segment at different sample rates",
                    ));
                }
            }
        }
        joined.ok_or_else(|| ProviderError::new(ErrorClass::TooLong, "no piece to render"))
    }
}

#[derive(Default)]
struct RoundStats {
    /// The per-run character budget stopped new work.
    budget_hit: bool,
    requests: u64,
    rate_limited: u64,
    rate_limit_wait_ms: u64,
    synthesized: u64,
    adopted: u64,
    failed: u64,
    retries: u64,
    fatal: Option<ProviderError>,
}

#[derive(Default)]
struct Stitched {
    chapters: usize,
    total: usize,
    book: Option<PathBuf>,
    samples: u64,
}

pub fn chapter_file_name(idx: i64) -> String {
    format!("chapter-{:03}.wav", idx + 1)
}

/// Chapter files from an earlier plan with more chapters would mislead.
fn remove_stale_chapter_files(dir: &Path, chapters: usize) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let number = name
            .strip_prefix("chapter-")
            .and_then(|n| n.strip_suffix(".wav"))
            .and_then(|n| n.parse::<usize>().ok());
        if number.is_some_and(|n| n > chapters) {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn file_has_samples(file: &Path, samples: Option<i64>) -> bool {
    const WAV_HEADER: u64 = 44;
    match (std::fs::metadata(file), samples) {
        (Ok(meta), Some(samples)) => meta.len() == WAV_HEADER + 2 * samples as u64,
        _ => false,
    }
}

/// Item lengths from the database, so an up-to-date chapter is not re-read.
fn clip_lengths(segments: &[SegmentRow], items: &[StitchItem], rate: u32) -> Vec<u64> {
    segments
        .iter()
        .zip(items)
        .map(|(s, item)| match &item.source {
            StitchSource::Silence { ms } => audio::silence_samples(*ms, rate),
            StitchSource::Clip(_) => s.samples.unwrap_or(0) as u64,
        })
        .collect()
}

/// Everything a chapter file is made of: equal keys mean equal files.
fn chapter_stitch_key(job: &Job, title: &str, segments: &[SegmentRow]) -> String {
    let mut hash = Sha256::new();
    let a = job.audio;
    hash.update(
        format!(
            "{}|{}|{}|{}|{}|{}|{}\n",
            a.sample_rate,
            a.sentence_gap_ms,
            a.paragraph_gap_ms,
            a.chapter_head_ms,
            a.chapter_trailing_ms,
            PAUSE_MS,
            title.len()
        )
        .as_bytes(),
    );
    for s in segments {
        let source = match s.state() {
            SegmentState::Pause => "pause",
            _ => s.sha256.as_deref().unwrap_or("?"),
        };
        hash.update(format!("{}|{}|{}\n", s.content_key, source, s.ends_paragraph).as_bytes());
    }
    hex(&hash.finalize())
}

fn book_stitch_key(chapter_keys: &[String]) -> String {
    let mut hash = Sha256::new();
    for key in chapter_keys {
        hash.update(key.as_bytes());
        hash.update(b"\n");
    }
    hex(&hash.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The start of a segment's text, for logs.
pub fn preview(text: &str) -> String {
    let mut s: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        s.push('…');
    }
    s
}
