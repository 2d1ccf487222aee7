//! The dispatch loop of one round: every distinct pending segment becomes a
//! task holding one of `concurrency` permits; no task starts after a stop
//! signal, the deadline or the character budget; a fatal provider error
//! stops new requests before its permit is released. Each task adopts a clip
//! already in the cache, or synthesizes (see [`super::retry`]), writes the
//! clip and only then records the segment done.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, Result};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::retry::{Counters, Requests};
use super::{Renderer, Tick, clips, preview};
use crate::cache::Cache;
use crate::job::Job;
use crate::provider::{ErrorClass, ProviderError, Synthesizer};
use crate::store::{RunStats, Store, Work};

/// What one round did.
#[derive(Default)]
pub(super) struct RoundStats {
    /// The per-run character budget stopped new work.
    pub budget_hit: bool,
    pub requests: u64,
    pub rate_limited: u64,
    pub rate_limit_wait_ms: u64,
    /// Segments (a repeated sentence counts for each of its segments).
    pub synthesized: u64,
    /// Distinct texts synthesized: one clip each.
    pub clips: u64,
    pub adopted: u64,
    pub failed: u64,
    pub retries: u64,
    pub fatal: Option<ProviderError>,
}

impl RoundStats {
    pub fn add_to(&self, stats: &mut RunStats) {
        stats.synthesized += self.synthesized;
        stats.clips += self.clips;
        stats.failed += self.failed;
        stats.retries += self.retries;
        stats.requests += self.requests;
        stats.rate_limited += self.rate_limited;
        stats.rate_limit_wait_ms += self.rate_limit_wait_ms;
    }

    fn take_counters(&mut self, counters: &Counters) {
        self.retries = counters.retries.load(Ordering::Relaxed);
        self.requests = counters.requests.load(Ordering::Relaxed);
        self.rate_limited = counters.rate_limited.load(Ordering::Relaxed);
        self.rate_limit_wait_ms = counters.rate_limit_wait_ms.load(Ordering::Relaxed);
    }
}

/// How one task ended, with what it settled.
enum Unit {
    Done(Tick),
    /// Its clip was already in the cache.
    Adopted(Tick),
    Failed(ProviderError, Tick),
    /// Cancelled before a result: the segment is pending again.
    Abandoned,
}

/// State shared by the tasks of one round.
struct Task<S: Synthesizer> {
    store: Store,
    cache: Arc<Cache>,
    job_id: i64,
    requests: Requests<S>,
}

impl<S: Synthesizer> Renderer<S> {
    /// Runs every pending unit of work with at most `concurrency` in flight.
    pub(super) async fn synthesize_all(
        &self,
        job: &Job,
        job_id: i64,
        run_id: i64,
        work: Vec<Work>,
        budget_left: &mut Option<u64>,
    ) -> Result<RoundStats> {
        let semaphore = Arc::new(Semaphore::new(job.render.concurrency));
        let shared = Arc::new(Task {
            store: self.store.clone(),
            cache: Arc::clone(&self.cache),
            job_id,
            requests: Requests {
                synth: Arc::clone(&self.synth),
                window: Arc::clone(&self.window),
                cancel: self.cancel.clone(),
                job_cancel: self.cancel.child_token(),
                max_attempts: job.render.max_attempts,
                lang: crate::plan::lang(job.book.language),
                counters: Counters::default(),
            },
        });
        let job_cancel = shared.requests.job_cancel.clone();
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
                () = job_cancel.cancelled() => break,
                () = &mut deadline => {
                    tracing::info!("deadline reached: no new segments start; finishing those in flight");
                    break;
                }
            };
            if job_cancel.is_cancelled() || self.past_deadline() {
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
            let task = Arc::clone(&shared);
            tasks.spawn(async move {
                let _permit = permit;
                task.render_one(unit).await
            });
            while let Some(done) = tasks.try_join_next() {
                self.tally(done?, &mut totals, &job_cancel)?;
            }
            let window = self.window.limit();
            if window != last_window {
                last_window = window;
                self.store.set_run_window(run_id, window).await?;
            }
        }
        while let Some(done) = tasks.join_next().await {
            self.tally(done?, &mut totals, &job_cancel)?;
        }
        totals.take_counters(&shared.requests.counters);
        Ok(totals)
    }

    fn tally(
        &self,
        result: Result<Unit>,
        totals: &mut RoundStats,
        job_cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<()> {
        match result? {
            Unit::Done(tick) => {
                totals.synthesized += tick.segments;
                totals.clips += 1;
                self.progress.advance(tick);
            }
            Unit::Failed(err, tick) => {
                totals.failed += tick.segments;
                self.progress.advance(tick);
                if err.class == ErrorClass::Fatal && totals.fatal.is_none() {
                    tracing::error!(error = %err, "stopping the job: the provider refuses every request");
                    job_cancel.cancel();
                    totals.fatal = Some(err);
                }
            }
            Unit::Adopted(tick) => {
                totals.adopted += tick.segments;
                self.progress.advance(tick);
            }
            Unit::Abandoned => {}
        }
        Ok(())
    }
}

impl<S: Synthesizer> Task<S> {
    async fn render_one(&self, unit: Work) -> Result<Unit> {
        let tick = |samples: u64, rate: u32| Tick {
            segments: unit.segments.max(1) as u64,
            chapter: unit.chapter as usize + 1,
            audio_secs: samples as f64 / f64::from(rate.max(1)),
        };
        if let Some(stored) = clips::adopt(&self.store, &self.cache, &unit.content_key).await? {
            return Ok(Unit::Adopted(tick(stored.samples, stored.sample_rate)));
        }
        let requests = &self.requests;
        if requests.job_cancel.is_cancelled() {
            self.store
                .mark_pending(self.job_id, &unit.content_key)
                .await?;
            return Ok(Unit::Abandoned);
        }
        let attempts = AtomicU32::new(0);
        let mut result = requests.synthesize(&unit.text, &attempts).await;
        if matches!(&result, Err(e) if e.class == ErrorClass::TooLong) {
            result = requests.synthesize_in_pieces(&unit.text, &attempts).await;
        }
        if let Err(e) = &result
            && e.class.is_retryable()
            && requests.cancel.is_cancelled()
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
                Ok(Unit::Done(tick(stored.samples, stored.sample_rate)))
            }
            Err(err) => {
                if err.class == ErrorClass::Fatal {
                    // Before this task's permit is released, so no other
                    // request starts: every one would be refused.
                    requests.job_cancel.cancel();
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
                Ok(Unit::Failed(err, tick(0, 1)))
            }
        }
    }
}
