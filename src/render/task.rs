//! One request's task: an attempt in the place the dispatcher took, then,
//! with the place freed, the clip written to the cache and its state sent to
//! the writer task; or a clip found in the cache adopted without a request.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, Result};

use super::retry::Requests;
use super::{clips, preview};
use crate::cache::Cache;
use crate::pacing::Permit;
use crate::provider::{ErrorClass, ProviderError, Synthesizer};
use crate::store::{Change, StateWriter, Work};

/// A segment on its way through the round.
pub(super) struct Item {
    pub work: Work,
    /// Requests sent for it so far.
    pub attempts: u32,
}

/// How one task ended.
pub(super) enum Unit {
    Done,
    /// Its clip was already in the cache.
    Adopted,
    Failed(ProviderError),
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
        if matches!(&result, Err(e) if e.class == ErrorClass::TooLong) {
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
                self.writer.send(Change::Done {
                    key,
                    clip: stored,
                    attempts: item.attempts,
                });
                Ok(Unit::Done)
            }
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
                let message = err.to_string();
                tracing::warn!(text = %preview(&item.work.text), error = %message, "segment failed");
                self.writer.send(Change::Failed {
                    job_id: self.job_id,
                    key,
                    class: err.class,
                    message,
                    attempts: item.attempts,
                });
                Ok(Unit::Failed(err))
            }
        }
    }

    /// A clip found in the cache for a fresh segment: recorded if valid.
    pub async fn adopt(&self, item: Item) -> Result<Unit> {
        match clips::adopt(&self.cache, &item.work.content_key).await? {
            Some(stored) => {
                self.writer.send(Change::Done {
                    key: item.work.content_key.to_string(),
                    clip: stored,
                    attempts: 0,
                });
                Ok(Unit::Adopted)
            }
            None => Ok(Unit::Request(item)),
        }
    }
}
