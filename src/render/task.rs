//! One request's task: an attempt in the place the dispatcher took, then,
//! with the place freed, the clip written to the cache and its state sent to
//! the writer task; or a clip found in the cache adopted without a request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, Result};

use super::retry::Requests;
use super::{Tick, clips, preview};
use crate::cache::Cache;
use crate::pacing::Permit;
use crate::provider::{ErrorClass, ProviderError, Synthesizer};
use crate::store::{Change, StateWriter, Work};

/// A segment on its way through the round.
pub(super) struct Item {
    pub work: Work,
    /// Requests sent for it so far.
    pub attempts: u32,
    /// Processing timeouts (3030) so far: one is retried, a second splits
    /// the text.
    pub timeouts: u32,
}

/// How one task ended.
pub(super) enum Unit {
    Done(Tick),
    /// Its clip was already in the cache.
    Adopted(Tick),
    Failed(Tick),
    /// The provider refused the account (bad token, no balance): the job
    /// stops; the segment is pending again.
    Stopped(ProviderError),
    /// Cancelled before a result: the segment is pending again.
    Abandoned,
    /// A transient answer with attempts left.
    Retry(Item, ProviderError),
    /// A clip file was there but unreadable: request it after all.
    Request(Item),
}

/// What the tasks of one round share.
pub(super) struct Task<S: Synthesizer> {
    pub cache: Arc<Cache>,
    pub writer: StateWriter,
    /// Told when work moves to another chapter (chapters finished early).
    pub early: super::early::Trigger,
    pub job_id: i64,
    pub requests: Requests<S>,
}

impl<S: Synthesizer> Task<S> {
    /// One attempt for `item` in the place `permit` holds; the clip is
    /// written and recorded after the place is freed.
    pub async fn request(&self, mut item: Item, permit: Permit) -> Result<Unit> {
        let requests = &self.requests;
        item.attempts += 1;
        let mut result = requests.attempt(permit, &item.work.text).await;
        // A processing timeout is worth one more try, like a transient
        // failure (unless the run is stopping).
        if let Err(e) = &result
            && e.class == ErrorClass::ProcessingTimeout
            && item.timeouts == 0
            && !requests.job_cancel.is_cancelled()
        {
            item.timeouts += 1;
            let err = e.clone();
            return Ok(Unit::Retry(item, err));
        }
        // Too long, or still timing out after its one retry (3030): the
        // service may manage the text in smaller pieces.
        if matches!(&result, Err(e) if matches!(e.class, ErrorClass::TooLong | ErrorClass::ProcessingTimeout))
        {
            let pieces = AtomicU32::new(0);
            result = requests
                .synthesize_in_pieces(&item.work.text, &pieces)
                .await;
            item.attempts += pieces.load(Ordering::Relaxed);
        }
        let key = item.work.content_key.to_string();
        match result {
            Ok(clip) => {
                let cache = Arc::clone(&self.cache);
                let put_key = key.clone();
                let stored = tokio::task::spawn_blocking(move || cache.put(&put_key, &clip))
                    .await?
                    .with_context(|| {
                        format!(
                            "writing a clip to the cache at {}",
                            self.cache.root().display()
                        )
                    })?;
                let tick = tick(&item, stored.samples, stored.sample_rate);
                self.writer.send(Change::Done {
                    key,
                    clip: stored,
                    attempts: item.attempts,
                });
                Ok(Unit::Done(tick))
            }
            // An account-wide refusal says nothing about this segment: it
            // goes back to pending, and the job stops (the attempt cancelled
            // it before its place was freed).
            Err(err) if err.class == ErrorClass::Fatal => {
                requests.job_cancel.cancel();
                self.writer.send(Change::Pending {
                    job_id: self.job_id,
                    key,
                });
                Ok(Unit::Stopped(err))
            }
            // Stopped (a signal, or an account-wide refusal of another
            // request) before this segment got an answer worth keeping: it
            // stays pending for the next run, never recorded as failed.
            Err(err) if err.class.is_retryable() && requests.job_cancel.is_cancelled() => {
                self.writer.send(Change::Pending {
                    job_id: self.job_id,
                    key,
                });
                Ok(Unit::Abandoned)
            }
            Err(err) if err.class.is_retryable() && item.attempts < requests.max_attempts => {
                Ok(Unit::Retry(item, err))
            }
            Err(err) => {
                tracing::warn!(text = %preview(&item.work.text), error = %err, "segment failed");
                let tick = tick(&item, 0, 1);
                self.writer.send(Change::Failed {
                    job_id: self.job_id,
                    key,
                    error: err,
                    attempts: item.attempts,
                });
                Ok(Unit::Failed(tick))
            }
        }
    }

    /// A clip found in the cache for a fresh segment: recorded if valid.
    pub async fn adopt(&self, item: Item) -> Result<Unit> {
        match clips::adopt(&self.cache, &item.work.content_key).await? {
            Some(stored) => {
                let tick = tick(&item, stored.samples, stored.sample_rate);
                self.writer.send(Change::Done {
                    key: item.work.content_key.to_string(),
                    clip: stored,
                    attempts: 0,
                });
                Ok(Unit::Adopted(tick))
            }
            None => Ok(Unit::Request(item)),
        }
    }
}

/// What settling `item` adds to the progress: each of its segments (a
/// repeated sentence settles them all), and its audio.
fn tick(item: &Item, samples: u64, rate: u32) -> Tick {
    Tick {
        segments: item.work.segments.max(1) as u64,
        chapter: item.work.chapter as usize + 1,
        audio_secs: samples as f64 / f64::from(rate.max(1)),
    }
}
