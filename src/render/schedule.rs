//! The dispatcher of one round. It reads the job's pending segments a page
//! at a time and sends each through a place in the adaptive window; the
//! place is the only thing a request holds, and only while it is in flight.
//! A segment that must be retried goes to a delay queue, not to sleep in a
//! task: while fresh segments remain, the window stays full of them and a
//! retry goes when its backoff is due (before fresh work); once only retries
//! are left, each goes as soon as the service allows ([`Backoff::floor`]).
//! Writing clips and recording states happen after the place is freed; the
//! states go to the writer task, which commits them in groups.
//!
//! Nothing new starts after a stop signal, the deadline or the character
//! budget, or once the provider refused the account (a fatal answer stops
//! the job before its place is freed, and leaves every segment it did not
//! answer pending: none is recorded as failed for it). After a stop signal,
//! a refusal or the deadline, retries waiting (and those that come back
//! from requests still in flight) go back to pending, never out; under the
//! budget they still go (their characters were counted when they started).
//!
//! [`Backoff::floor`]: super::retry::Backoff

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Result;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::Renderer;
use super::delay::{DelayQueue, Released};
use super::early::Trigger;
use super::retry::{Backoff, Counters, Requests, backoff};
use super::task::{Item, Task, Unit};
use super::work::Fresh;
use crate::job::Job;
use crate::provider::{ErrorClass, ProviderError, Synthesizer};
use crate::store::{Change, RunStats, StateWriter};

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

    /// Adds what the requests counted (the pieces of a split segment
    /// count their own retries and waits).
    fn take_counters(&mut self, counters: &Counters) {
        self.requests = counters.requests.load(Ordering::Relaxed);
        self.rate_limited = counters.rate_limited.load(Ordering::Relaxed);
        self.retries += counters.retries.load(Ordering::Relaxed);
        self.rate_limit_wait_ms += counters.rate_limit_wait_ms.load(Ordering::Relaxed);
    }
}

impl<S: Synthesizer> Renderer<S> {
    /// Runs every pending segment of the job through the window.
    pub(super) async fn synthesize_all(
        &self,
        job: &Job,
        job_id: i64,
        run_id: i64,
        writer: &StateWriter,
        early: &Trigger,
        budget_left: &mut Option<u64>,
    ) -> Result<RoundStats> {
        let job_cancel = self.cancel.child_token();
        let shared = Arc::new(Task {
            cache: Arc::clone(&self.cache),
            writer: writer.clone(),
            early: early.clone(),
            job_id,
            requests: Requests {
                synth: Arc::clone(&self.synth),
                window: Arc::clone(&self.window),
                cancel: self.cancel.clone(),
                job_cancel: job_cancel.clone(),
                max_attempts: job.render.max_attempts,
                lang: crate::plan::lang(job.book.language),
                counters: Counters::default(),
            },
        });
        self.window.set_ceiling(job.render.concurrency);
        // Requests in flight are bounded by the window; this bounds the
        // tasks still writing their clip after their answer came.
        let max_tasks = 2 * job.render.concurrency + 4;
        let mut fresh = Fresh::new(self.store.clone(), job_id, self.chapters.clone());
        let mut delayed: DelayQueue<Item> = DelayQueue::default();
        let mut tasks: JoinSet<Result<Unit>> = JoinSet::new();
        let mut totals = RoundStats::default();
        let mut stop_fresh = false;
        // A local failure (a clip that cannot be written: a full disk)
        // stops the job as a signal does: nothing new starts, the requests
        // already sent are answered (they are paid for, and a clip that can
        // still be written is kept), then the first such error is returned.
        // Dropping the tasks at once would tear connections mid-answer.
        let mut failure: Option<anyhow::Error> = None;
        let mut last_window = 0;
        let deadline = async {
            match self.deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(deadline);
        loop {
            while let Some(done) = tasks.try_join_next() {
                let settled = self.settle(done?, &mut totals, &mut delayed, &job_cancel, &shared);
                stop_on_failure(settled, &mut failure, &job_cancel);
            }
            let window = self.window.limit();
            if window != last_window {
                last_window = window;
                writer.send(Change::Window { run_id, window });
            }
            if writer.is_closed() {
                // A commit failed; `Renderer::run` reports why.
                job_cancel.cancel();
            }
            if !stop_fresh && self.past_deadline() {
                tracing::info!(
                    "deadline reached: no new segments start; finishing those in flight"
                );
            }
            if self.stopping(&job_cancel) {
                stop_fresh = true;
                for item in delayed.drain() {
                    writer.send(Change::Pending {
                        job_id,
                        key: item.work.content_key.to_string(),
                    });
                }
            }
            if !stop_fresh {
                self.adopt_cached(&mut fresh, &mut tasks, max_tasks, &shared, writer)
                    .await?;
            }
            let fresh_ready = !stop_fresh && fresh.peek().await?.is_some();
            if !fresh_ready && let Some(drained) = &self.drained {
                drained.cancel();
            }
            let next_at = delayed.next_at(fresh_ready);
            if next_at.is_none() && tasks.is_empty() {
                break;
            }
            let can_start = next_at.is_some() && tasks.len() < max_tasks;
            let window = Arc::clone(&self.window);
            let place = async move {
                if let Some(at) = next_at {
                    tokio::time::sleep_until(at).await;
                }
                window.acquire().await
            };
            tokio::select! {
                biased;
                () = job_cancel.cancelled(), if !stop_fresh || !delayed.is_empty() => {}
                Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                    let settled = self.settle(done?, &mut totals, &mut delayed, &job_cancel, &shared);
                    stop_on_failure(settled, &mut failure, &job_cancel);
                }
                () = &mut deadline, if !stop_fresh => {}
                permit = place, if can_start => {
                    // The deadline may have passed while the place was
                    // awaited: nothing goes out after it.
                    if self.stopping(&job_cancel) {
                        continue;
                    }
                    let Some(item) =
                        self.next_item(&mut fresh, &mut delayed, stop_fresh, budget_left, &mut totals)?
                    else {
                        if totals.budget_hit {
                            stop_fresh = true;
                        }
                        continue;
                    };
                    writer.send(Change::InFlight {
                        job_id,
                        key: item.work.content_key.to_string(),
                    });
                    let task = Arc::clone(&shared);
                    tasks.spawn(async move { task.request(item, permit).await });
                }
            }
        }
        totals.take_counters(&shared.requests.counters);
        match failure {
            Some(e) => Err(e),
            None => Ok(totals),
        }
    }

    /// Fresh segments whose clip is already on disk (a killed run wrote it
    /// but did not record it) are adopted without a place in the window.
    async fn adopt_cached(
        &self,
        fresh: &mut Fresh,
        tasks: &mut JoinSet<Result<Unit>>,
        max_tasks: usize,
        shared: &Arc<Task<S>>,
        writer: &StateWriter,
    ) -> Result<()> {
        while tasks.len() < max_tasks
            && let Some(work) = fresh.peek().await?
        {
            if !self.cache.clip_path(&work.content_key).is_file() {
                break;
            }
            let Some(work) = fresh.take() else { break };
            writer.send(Change::InFlight {
                job_id: shared.job_id,
                key: work.content_key.to_string(),
            });
            let task = Arc::clone(shared);
            tasks.spawn(async move {
                task.adopt(Item {
                    work,
                    attempts: 0,
                    timeouts: 0,
                })
                .await
            });
        }
        Ok(())
    }

    /// The segment to send in a place just taken: a retry that is due, else
    /// a fresh segment (within the budget), else at the tail the retry the
    /// service lets go first.
    fn next_item(
        &self,
        fresh: &mut Fresh,
        delayed: &mut DelayQueue<Item>,
        stop_fresh: bool,
        budget_left: &mut Option<u64>,
        totals: &mut RoundStats,
    ) -> Result<Option<Item>> {
        if let Some(r) = delayed.take_due() {
            return Ok(Some(released(r, totals)));
        }
        if !stop_fresh && let Some(work) = fresh.page.front() {
            let chars = work.text.chars().count() as u64;
            if let Some(left) = budget_left {
                if chars > *left {
                    tracing::info!(
                        "character budget reached: no new segments start; finishing those in flight"
                    );
                    totals.budget_hit = true;
                    return Ok(None);
                }
                *left -= chars;
            }
            return Ok(fresh.take().map(|work| Item {
                work,
                attempts: 0,
                timeouts: 0,
            }));
        }
        Ok(delayed.take_tail().map(|r| released(r, totals)))
    }

    /// Whether retries must go back to pending instead of out: the run or
    /// the job was stopped, or the deadline passed.
    fn stopping(&self, job_cancel: &CancellationToken) -> bool {
        job_cancel.is_cancelled() || self.past_deadline()
    }

    /// Counts a finished task; a retry goes to the delay queue.
    fn settle(
        &self,
        result: Result<Unit>,
        totals: &mut RoundStats,
        delayed: &mut DelayQueue<Item>,
        job_cancel: &CancellationToken,
        shared: &Task<S>,
    ) -> Result<()> {
        match result? {
            Unit::Done(tick) => {
                totals.synthesized += tick.segments;
                totals.clips += 1;
                self.progress.advance(tick);
                shared.early.settled(tick.chapter);
            }
            Unit::Failed(tick) => {
                totals.failed += tick.segments;
                self.progress.advance(tick);
                shared.early.settled(tick.chapter);
            }
            Unit::Stopped(err) => {
                job_cancel.cancel();
                if totals.fatal.is_none() {
                    tracing::error!(error = %err, "stopping the job: the provider refuses the account");
                    totals.fatal = Some(err);
                }
            }
            Unit::Adopted(tick) => {
                totals.adopted += tick.segments;
                self.progress.advance(tick);
                shared.early.settled(tick.chapter);
            }
            Unit::Abandoned => {}
            Unit::Retry(item, _) | Unit::Request(item) if self.stopping(job_cancel) => {
                shared.writer.send(Change::Pending {
                    job_id: shared.job_id,
                    key: item.work.content_key.to_string(),
                });
            }
            Unit::Retry(item, err) => {
                totals.retries += 1;
                let wait = backoff(item.attempts, &err);
                tracing::warn!(error = %err, retry_in_ms = wait.due.as_millis() as u64, "transient failure, retrying");
                delayed.push(item, wait, err.class == ErrorClass::RateLimit);
            }
            Unit::Request(item) => {
                let now = Backoff {
                    due: Duration::ZERO,
                    floor: Duration::ZERO,
                };
                delayed.push(item, now, false);
            }
        }
        Ok(())
    }
}

/// Keeps the first local failure and stops the job on it (see
/// `synthesize_all`); later ones (the same full disk) are logged.
fn stop_on_failure(
    settled: Result<()>,
    failure: &mut Option<anyhow::Error>,
    job_cancel: &CancellationToken,
) {
    let Err(e) = settled else { return };
    if failure.is_none() {
        tracing::warn!(error = %format!("{e:#}"), "stopping the job; the requests in flight may finish");
        job_cancel.cancel();
        *failure = Some(e);
    } else {
        tracing::debug!(error = %format!("{e:#}"), "another failure while stopping");
    }
}

/// A retry let go: its wait on a rate limit counts in the run's figures.
fn released(r: Released<Item>, totals: &mut RoundStats) -> Item {
    totals.rate_limit_wait_ms += r.rate_limit_wait.as_millis() as u64;
    r.item
}
