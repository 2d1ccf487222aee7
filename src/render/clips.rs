//! What the cache already holds, checked against the state store: clips a
//! killed run wrote but did not record are adopted (never requested again);
//! clips that vanished or fail their checksum are forgotten, and corrupt
//! ones deleted, so their segments render again instead of failing a stitch.

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::cache::{Cache, StoredClip};
use crate::plan::ContentKey;
use crate::store::{SegmentState, Store};

/// Segments marked done whose clip file has disappeared (someone cleaned
/// the cache) are rendered again rather than failing the stitch.
pub(super) async fn drop_missing(store: &Store, cache: &Cache, job_id: i64) -> Result<()> {
    let rows = store.segments(job_id).await?;
    let mut seen = HashSet::new();
    for row in rows.iter().filter(|r| r.state == SegmentState::Done) {
        if seen.insert(&row.content_key) && !cache.clip_path(&row.content_key).is_file() {
            tracing::warn!(segment = %row.content_key, "cached clip is missing; it will be rendered again");
            store.forget_clip(&row.content_key).await?;
        }
    }
    Ok(())
}

/// Checks every done clip of the job against its checksum; corrupt ones
/// are deleted and forgotten so they are rendered again. Returns how many.
pub(super) async fn verify(store: &Store, cache: &Arc<Cache>, job_id: i64) -> Result<usize> {
    let rows = store.segments(job_id).await?;
    let mut keys: Vec<(ContentKey, String)> = rows
        .into_iter()
        .filter(|r| r.state == SegmentState::Done)
        .filter_map(|r| r.sha256.map(|sha| (r.content_key, sha)))
        .collect();
    keys.sort();
    keys.dedup();
    let checker = Arc::clone(cache);
    let bad = tokio::task::spawn_blocking(move || {
        keys.into_iter()
            .filter(|(key, sha)| !checker.verify(key, sha).unwrap_or(false))
            .map(|(key, _)| key)
            .collect::<Vec<_>>()
    })
    .await?;
    for key in &bad {
        tracing::warn!(segment = %key, "cached clip failed its checksum; it will be rendered again");
        // Deleted, not only forgotten: a corrupt file must never be adopted.
        let path = cache.clip_path(key);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("removing corrupt clip {}", path.display()));
            }
            _ => {}
        }
        store.forget_clip(key).await?;
    }
    Ok(bad.len())
}

/// A valid clip already in the cache (left by a run killed between writing
/// it and recording it) is recorded, never requested again. The clip when
/// it was.
pub(super) async fn adopt(
    store: &Store,
    cache: &Arc<Cache>,
    key: &ContentKey,
) -> Result<Option<StoredClip>> {
    let cache = Arc::clone(cache);
    let lookup = key.clone();
    let found = tokio::task::spawn_blocking(move || cache.adopt(&lookup)).await??;
    let Some(stored) = found else {
        return Ok(None);
    };
    tracing::info!(segment = %key, "found its clip already in the cache; recorded it");
    store.mark_done(key, &stored, 0).await?;
    Ok(Some(stored))
}
