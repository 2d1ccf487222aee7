//! What the cache already holds, checked against the state store: clips a
//! killed run wrote but did not record are adopted (never requested again);
//! clips that vanished or fail their checksum are forgotten, and corrupt
//! ones deleted, so their segments render again instead of failing a stitch.
//! A clip whose size and modification time are as recorded is not read:
//! a render with nothing to do costs a `stat` per clip, not a hash.

use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;

use crate::cache::{Cache, ClipCheck, StoredClip};
use crate::plan::ContentKey;
use crate::store::{Change, ClipRow, StateWriter, Store};

/// Checks every clip the job's done segments use. Missing ones are
/// forgotten; corrupt ones deleted and forgotten; their segments are pending
/// again. A changed file whose hash still matches gets its new stamp.
/// Returns how many clips were forgotten. Cancelled, it stops between
/// batches: the clips not checked stay as recorded (an interrupted run
/// stitches nothing, and the next run checks them).
pub(super) async fn check(
    store: &Store,
    writer: &StateWriter,
    cache: &Arc<Cache>,
    job_id: i64,
    cancel: &CancellationToken,
) -> Result<usize> {
    let found: Arc<Mutex<Vec<(ContentKey, ClipCheck)>>> = Arc::default();
    // One batch is checked (its `stat`s, on a blocking thread) while the
    // next is read from the database.
    let checking: Arc<Mutex<Option<Checking>>> = Arc::default();
    store
        .for_each_clip_batch(job_id, |batch| {
            let cache = Arc::clone(cache);
            let found = Arc::clone(&found);
            let checking = Arc::clone(&checking);
            let cancelled = cancel.is_cancelled();
            async move {
                let previous = checking
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                if let Some(previous) = previous {
                    keep_found(previous, &found).await?;
                }
                if cancelled {
                    return Ok(ControlFlow::Break(()));
                }
                let next = tokio::task::spawn_blocking(move || check_batch(&cache, batch));
                *checking.lock().unwrap_or_else(PoisonError::into_inner) = Some(next);
                Ok(ControlFlow::Continue(()))
            }
        })
        .await?;
    let last = checking
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    if let Some(last) = last {
        keep_found(last, &found).await?;
    }
    let mut found = std::mem::take(&mut *found.lock().unwrap_or_else(PoisonError::into_inner));
    // A clip shared by several segments was checked once per segment.
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found.dedup_by(|a, b| a.0 == b.0);
    let mut forgotten = 0;
    for (key, check) in found {
        match check {
            ClipCheck::Unchanged => {}
            ClipCheck::Verified(stamp) => writer.send(Change::Stamp {
                key: key.to_string(),
                stamp,
            }),
            ClipCheck::Missing => {
                tracing::warn!(segment = %key, "cached clip is missing; it will be rendered again");
                store.forget_clip(&key).await?;
                forgotten += 1;
            }
            ClipCheck::Corrupt => {
                tracing::warn!(segment = %key, "cached clip failed its checksum; it will be rendered again");
                // Deleted, not only forgotten: a corrupt file must never be adopted.
                let path = cache.clip_path(&key);
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(e)
                            .with_context(|| format!("removing corrupt clip {}", path.display()));
                    }
                    _ => {}
                }
                store.forget_clip(&key).await?;
                forgotten += 1;
            }
        }
    }
    Ok(forgotten)
}

/// A batch's check running on a blocking thread: the clips that are not
/// as recorded.
type Checking = tokio::task::JoinHandle<std::io::Result<Vec<(ContentKey, ClipCheck)>>>;

/// Waits for a batch's check and keeps what it found.
async fn keep_found(checking: Checking, found: &Mutex<Vec<(ContentKey, ClipCheck)>>) -> Result<()> {
    let checked = checking.await??;
    found
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .extend(checked);
    Ok(())
}

/// Checks a batch of clips; keeps only those not as recorded.
fn check_batch(
    cache: &Cache,
    batch: Vec<ClipRow>,
) -> std::io::Result<Vec<(ContentKey, ClipCheck)>> {
    batch
        .into_iter()
        .map(|row| {
            let check = cache.check(&row.content_key, &row.sha256, row.stamp)?;
            Ok((row.content_key, check))
        })
        .filter(|r: &std::io::Result<_>| !matches!(r, Ok((_, ClipCheck::Unchanged))))
        .collect()
}

/// A valid clip already in the cache (left by a run killed between writing
/// it and recording it), to be recorded instead of requested again.
pub(super) async fn adopt(cache: &Arc<Cache>, key: &ContentKey) -> Result<Option<StoredClip>> {
    let cache = Arc::clone(cache);
    let lookup = key.clone();
    let found = tokio::task::spawn_blocking(move || cache.adopt(&lookup)).await??;
    if found.is_some() {
        tracing::info!(segment = %key, "found its clip already in the cache; recorded it");
    }
    Ok(found)
}
