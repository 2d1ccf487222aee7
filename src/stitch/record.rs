//! A stitched chapter's per-segment data (its stitch items, its layout,
//! its manifest entries) read back from the state database a chapter at a
//! time, when a pass needs it: the measuring pass, each encoding pass, the
//! writers of the manifest, subtitles and proof sheet. What a run holds
//! for the whole book is a few numbers per chapter, so its memory does not
//! grow with the book's length.
//!
//! The readers run on blocking threads (rayon's, inside `spawn_blocking`)
//! and wait there for each query on the runtime that owns the database
//! pool; never call them from an async task.

use std::future::Future;

use anyhow::{Context, Result};

use super::{Mastered, PAUSE_MS};
use crate::audio::{Layout, StitchItem, StitchSource};
use crate::report::{self, ChapterEntry};
use crate::store::{SegmentRow, SegmentState, Store};

/// The state database as the record of one job's stitched chapters.
#[derive(Debug, Clone)]
pub struct Record {
    store: Store,
    runtime: tokio::runtime::Handle,
    job_id: i64,
    rate: u32,
}

impl Record {
    /// Must be made on the runtime (it keeps a handle to it).
    pub fn new(store: &Store, job_id: i64, rate: u32) -> Self {
        Record {
            store: store.clone(),
            runtime: tokio::runtime::Handle::current(),
            job_id,
            rate,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn job_id(&self) -> i64 {
        self.job_id
    }

    /// Waits for `query` on the runtime (from a blocking thread).
    pub fn wait<T>(&self, query: impl Future<Output = T>) -> T {
        self.runtime.block_on(query)
    }

    /// One chapter's segment rows, in order.
    pub fn rows(&self, idx: i64) -> Result<Vec<SegmentRow>> {
        self.wait(self.store.chapter_segments(self.job_id, idx, true))
            .with_context(|| format!("reading chapter {} from the state database", idx + 1))
    }

    /// What the chapter was made into, as recorded (whatever its key).
    pub(super) fn mastered(&self, idx: i64) -> Result<Option<Mastered>> {
        let json = self
            .wait(self.store.chapter_mastered(self.job_id, idx))
            .with_context(|| format!("reading chapter {} from the state database", idx + 1))?;
        Ok(json.and_then(|json| serde_json::from_str(&json).ok()))
    }

    /// A chapter's stitch items and its recorded layout, one entry each per
    /// segment.
    pub fn layout(&self, idx: i64) -> Result<(Vec<StitchItem>, Layout)> {
        let rows = self.rows(idx)?;
        let layout = self.recorded_layout(idx, rows.len())?;
        Ok((items(&rows), layout))
    }

    /// `header` with its segments' entries filled in.
    pub fn entry(&self, header: &ChapterEntry) -> Result<ChapterEntry> {
        let idx = header.number as i64 - 1;
        let rows = self.rows(idx)?;
        let layout = self.recorded_layout(idx, rows.len())?;
        let mut entry = header.clone();
        entry.segments = report::segment_entries(self.rate, &layout.audio, &rows);
        Ok(entry)
    }

    fn recorded_layout(&self, idx: i64, segments: usize) -> Result<Layout> {
        // The render's lock keeps other runs out, so a chapter stitched in
        // this run is as it was recorded; a mismatch is a broken database.
        self.mastered(idx)?
            .map(|m| m.layout)
            .filter(|layout| layout.audio.placed.len() == segments)
            .with_context(|| {
                format!(
                    "chapter {} has no layout recorded for its {segments} segments in the \
                     state database; run the render again to stitch it anew",
                    idx + 1
                )
            })
    }
}

/// The stitch items of a complete chapter's rows: a clip per segment, or
/// the pause that stands for one the provider could not speak.
pub fn items(rows: &[SegmentRow]) -> Vec<StitchItem> {
    rows.iter()
        .map(|s| StitchItem {
            source: match s.state {
                SegmentState::Pause => StitchSource::Silence { ms: PAUSE_MS },
                _ => StitchSource::Clip(s.content_key.to_string()),
            },
            ends_paragraph: s.ends_paragraph,
        })
        .collect()
}
