//! What the cache already holds, checked against the state store: clips a
//! killed run wrote but did not record are adopted (never requested again);
//! clips that vanished or fail their checksum are forgotten, and corrupt
//! ones deleted, so their segments render again instead of failing a stitch.
//! A clip whose size and modification time are as recorded is not read:
//! a render with nothing to do costs a `stat` per clip, not a hash. The
//! same pass makes every chapter's stitch key, so stitching after a render
//! that changed nothing does not read the clips again.

use std::ops::ControlFlow;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context, Result};
use tokio_util::sync::CancellationToken;

use crate::cache::{Cache, ClipCheck, StoredClip};
use crate::job::Job;
use crate::plan::{ChapterSet, ContentKey, Slot, StitchKey};
use crate::stitch::{CheckedChapter, PAUSE_MS};
use crate::store::{Change, CheckRow, SegmentState, StateWriter, Store};

/// What the check found: how many clips it forgot, which chapters it saw
/// with a segment still open (pending or in flight), and each chapter's stitch key as
/// the segments and clips stood (valid for stitching only while nothing
/// changes them: nothing forgotten, nothing synthesized, and nothing open,
/// since another book of the same `render` may finish an open segment's
/// clip, which settles every segment with its key, at any moment).
pub(super) struct Checked {
    pub(super) forgotten: usize,
    /// Indices, in order.
    pub(super) open_chapters: Vec<i64>,
    pub(super) chapters: Vec<CheckedChapter>,
}

impl Checked {
    /// Whether the chapters' keys still hold once the counts say nothing is
    /// pending in the chapters asked for (`selected`; all when `None`):
    /// nothing was forgotten, the run is not stopping, and every segment of
    /// those chapters was already settled when the check passed (an open
    /// one may have been settled since by another book's clip: its
    /// chapter's key, made while it was open, is missing).
    pub(super) fn holds(&self, cancelled: bool, selected: Option<&ChapterSet>) -> bool {
        let open_selected = self
            .open_chapters
            .iter()
            .any(|&idx| selected.is_none_or(|s| s.contains_index(idx as usize)));
        self.forgotten == 0 && !open_selected && !cancelled
    }
}

/// Checks every clip the job's done segments use, in one pass over the
/// book that also makes every chapter's stitch key. Missing ones are
/// forgotten; corrupt ones deleted and forgotten; their segments are
/// pending again. A changed file whose hash still matches gets its new
/// stamp. Cancelled, it stops between batches: the clips not checked stay
/// as recorded (an interrupted run stitches nothing, and the next run
/// checks them).
pub(super) async fn check(
    store: &Store,
    writer: &StateWriter,
    cache: &Arc<Cache>,
    job: &Job,
    job_id: i64,
    cancel: &CancellationToken,
) -> Result<Checked> {
    let found: Arc<Mutex<Vec<(ContentKey, ClipCheck)>>> = Arc::default();
    // One batch is checked (its `stat`s, on a blocking thread) while the
    // next is read from the database.
    let checking: Arc<Mutex<Option<Checking>>> = Arc::default();
    let mut keys = Keys::new(job, store.chapter_titles(job_id).await?);
    store
        .for_each_check_batch(job_id, |batch| {
            let cache = Arc::clone(cache);
            let found = Arc::clone(&found);
            let checking = Arc::clone(&checking);
            let cancelled = cancel.is_cancelled();
            keys.add(&batch);
            async move {
                if let Some(previous) = take(&checking) {
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
    if let Some(last) = take(&checking) {
        keep_found(last, &found).await?;
    }
    let open_chapters = std::mem::take(&mut keys.open_chapters);
    let chapters = keys.finish();
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
    Ok(Checked {
        forgotten,
        open_chapters,
        chapters,
    })
}

/// Every chapter's stitch key, made as the segments stream past in book
/// order: a chapter with a segment neither done nor a pause is incomplete
/// and has none.
struct Keys<'a> {
    job: &'a Job,
    /// The chapters' titles, in order, and where the pass is.
    titles: std::vec::IntoIter<(i64, String)>,
    current: Option<(CheckedChapter, Option<StitchKey>)>,
    done: Vec<CheckedChapter>,
    /// Chapters with a segment seen pending or in flight.
    open_chapters: Vec<i64>,
}

impl<'a> Keys<'a> {
    fn new(job: &'a Job, titles: Vec<(i64, String)>) -> Keys<'a> {
        Keys {
            job,
            titles: titles.into_iter(),
            current: None,
            done: Vec::new(),
            open_chapters: Vec::new(),
        }
    }

    fn add(&mut self, batch: &[CheckRow]) {
        for row in batch {
            while self
                .current
                .as_ref()
                .is_none_or(|(c, _)| c.idx < row.chapter_idx)
            {
                if !self.next_chapter() {
                    return;
                }
            }
            let Some((chapter, key)) = self.current.as_mut() else {
                return;
            };
            if chapter.idx != row.chapter_idx {
                continue;
            }
            chapter.segments += 1;
            let slot = match row.state {
                SegmentState::Pause => Some(Slot::Pause),
                SegmentState::Done => row.sha256.as_deref().map(Slot::Clip),
                // The chapter is incomplete: it has no key.
                state => {
                    if matches!(state, SegmentState::Pending | SegmentState::InFlight)
                        && self.open_chapters.last() != Some(&chapter.idx)
                    {
                        self.open_chapters.push(chapter.idx);
                    }
                    *key = None;
                    continue;
                }
            };
            if let Some(key) = key {
                key.add(&row.content_key, slot, row.ends_paragraph);
            }
        }
    }

    /// Closes the chapter in progress and opens the next; `false` when
    /// there is none.
    fn next_chapter(&mut self) -> bool {
        self.close();
        let Some((idx, title)) = self.titles.next() else {
            return false;
        };
        let key = StitchKey::new(&self.job.audio, &self.job.master, PAUSE_MS, &title);
        self.current = Some((
            CheckedChapter {
                idx,
                key: None,
                segments: 0,
            },
            Some(key),
        ));
        true
    }

    fn close(&mut self) {
        if let Some((mut chapter, key)) = self.current.take() {
            chapter.key = key.map(StitchKey::finish);
            self.done.push(chapter);
        }
    }

    fn finish(mut self) -> Vec<CheckedChapter> {
        // Chapters after the last segment (none in a recorded plan) have no
        // segments: their key is their header's.
        while self.next_chapter() {}
        self.close();
        self.done
    }
}

/// A batch's check running on a blocking thread: the clips that are not
/// as recorded.
type Checking = tokio::task::JoinHandle<std::io::Result<Vec<(ContentKey, ClipCheck)>>>;

/// The batch being checked, if any, taken out of its slot.
fn take(checking: &Mutex<Option<Checking>>) -> Option<Checking> {
    checking
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
}

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
    batch: Vec<CheckRow>,
) -> std::io::Result<Vec<(ContentKey, ClipCheck)>> {
    let mut changed = Vec::new();
    for row in batch {
        // A done segment's clip, when its row exists (the rows are moved
        // from, not copied: this runs for every segment of the book).
        let (SegmentState::Done, Some(sha256)) = (row.state, &row.sha256) else {
            continue;
        };
        let check = cache.check(&row.content_key, sha256, row.stamp)?;
        if !matches!(check, ClipCheck::Unchanged) {
            changed.push((row.content_key, check));
        }
    }
    Ok(changed)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(forgotten: usize, open_chapters: &[i64]) -> Checked {
        Checked {
            forgotten,
            open_chapters: open_chapters.to_vec(),
            chapters: Vec::new(),
        }
    }

    /// The race two books of one `render` met: the check saw a segment
    /// pending; the book before wrote its clip (settling this book's
    /// segment too) before this book counted. The counts then say nothing
    /// is pending, but the keys were made with the chapter incomplete.
    #[test]
    fn keys_made_while_a_segment_was_open_do_not_hold() {
        assert!(checked(0, &[]).holds(false, None));
        assert!(!checked(0, &[1]).holds(false, None));
        assert!(!checked(1, &[]).holds(false, None));
        assert!(!checked(0, &[]).holds(true, None));
        // Chapter 2 (index 1) open: keys of chapter 1 alone still hold.
        let first = ChapterSet::parse("1").unwrap();
        let second = ChapterSet::parse("2").unwrap();
        assert!(checked(0, &[1]).holds(false, Some(&first)));
        assert!(!checked(0, &[1]).holds(false, Some(&second)));
    }
}
