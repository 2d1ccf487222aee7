//! The stitch stage: decides which chapters are complete, lays each one
//! out (head pause, clips with their gaps, trailing pause: sample-exact,
//! from the lengths recorded with the clips, so nothing is read), gives
//! each a stitch key (see [`crate::plan::chapter_stitch_key`]) that changes
//! exactly when its audio would, and builds the manifest. It writes no
//! audio: [`StitchedChapter::stream`] feeds a chapter's samples to whoever
//! asks (the delivery stage's encoders), one block at a time.

use std::collections::BTreeMap;

use anyhow::Result;

use crate::audio::{self, AudioError, ChapterAudio, PcmFormat, StitchItem, StitchSource};
use crate::cache::Cache;
use crate::job::Job;
use crate::plan::{self, Slot};
use crate::report::{ChapterEntry, Manifest};
use crate::store::{SegmentRow, SegmentState, Store};

/// Silence used for a segment the provider refused as unspeakable.
pub const PAUSE_MS: u32 = 500;

/// A complete chapter, laid out and ready to stream.
#[derive(Debug, Clone)]
pub struct StitchedChapter {
    pub idx: i64,
    pub title: String,
    /// Equal keys mean equal samples.
    pub key: String,
    pub rate: u32,
    pub items: Vec<StitchItem>,
    pub layout: ChapterAudio,
}

impl StitchedChapter {
    pub fn samples(&self) -> u64 {
        self.layout.samples
    }

    /// Feeds every sample of the chapter to `sink`, in order, in blocks.
    pub fn stream(
        &self,
        sink: &mut dyn FnMut(&[i16]) -> Result<(), AudioError>,
    ) -> Result<(), AudioError> {
        audio::stream_chapter(self.rate, &self.items, &self.layout, sink)
    }
}

/// What the stitcher found: the complete chapters, and the manifest with
/// every segment's place (files are filled in by the delivery stage).
#[derive(Debug)]
pub struct Stitched {
    pub chapters: Vec<StitchedChapter>,
    /// Chapters in the plan, complete or not.
    pub total: usize,
    pub manifest: Manifest,
    /// Every segment of the job, in book order.
    pub segments: Vec<SegmentRow>,
}

impl Stitched {
    pub fn complete(&self) -> bool {
        self.manifest.incomplete_chapters.is_empty() && !self.chapters.is_empty()
    }

    pub fn samples(&self) -> u64 {
        self.chapters.iter().map(StitchedChapter::samples).sum()
    }
}

/// Lays out every complete chapter and builds the manifest.
pub async fn stitch(store: &Store, cache: &Cache, job: &Job, job_id: i64) -> Result<Stitched> {
    let chapters = store.chapters(job_id).await?;
    let rows = store.segments(job_id).await?;
    let mut by_chapter: BTreeMap<i64, Vec<SegmentRow>> = BTreeMap::new();
    for row in &rows {
        by_chapter
            .entry(row.chapter_idx)
            .or_default()
            .push(row.clone());
    }
    let format = PcmFormat::new(job.audio.sample_rate);
    let mut manifest = Manifest::new(job);
    let mut stitched = Vec::new();
    let mut book_offset = 0u64;
    for chapter in &chapters {
        let segments = by_chapter.remove(&chapter.idx).unwrap_or_default();
        let complete = segments
            .iter()
            .all(|s| matches!(s.state, SegmentState::Done | SegmentState::Pause));
        if !complete {
            manifest.incomplete_chapters.push(chapter.idx as usize + 1);
            continue;
        }
        let key = plan::chapter_stitch_key(
            &job.audio,
            PAUSE_MS,
            &chapter.title,
            segments
                .iter()
                .map(|s| (&s.content_key, slot(s), s.ends_paragraph)),
        );
        let items: Vec<StitchItem> = segments
            .iter()
            .map(|s| StitchItem {
                source: match s.state {
                    SegmentState::Pause => StitchSource::Silence { ms: PAUSE_MS },
                    _ => StitchSource::Clip(cache.clip_path(&s.content_key)),
                },
                ends_paragraph: s.ends_paragraph,
            })
            .collect();
        let layout = audio::layout(&job.audio, &items, &clip_lengths(&segments, &items, format));
        if chapter.stitch_key.as_deref() != Some(key.as_str()) {
            store
                .set_stitched(job_id, chapter.idx, &key, layout.samples)
                .await?;
        }
        manifest.chapters.push(ChapterEntry::new(
            chapter.idx as usize + 1,
            &chapter.title,
            job.audio.sample_rate,
            book_offset,
            &layout,
            &segments,
        ));
        book_offset += layout.samples;
        stitched.push(StitchedChapter {
            idx: chapter.idx,
            title: chapter.title.clone(),
            key,
            rate: job.audio.sample_rate,
            items,
            layout,
        });
    }
    manifest.samples = book_offset;
    Ok(Stitched {
        chapters: stitched,
        total: chapters.len(),
        manifest,
        segments: rows,
    })
}

fn slot(s: &SegmentRow) -> Option<Slot<'_>> {
    match s.state {
        SegmentState::Pause => Some(Slot::Pause),
        _ => s.sha256.as_deref().map(Slot::Clip),
    }
}

/// Item lengths from the database (each clip's checksum was verified
/// before stitching), so laying out a chapter reads no audio.
fn clip_lengths(segments: &[SegmentRow], items: &[StitchItem], format: PcmFormat) -> Vec<u64> {
    segments
        .iter()
        .zip(items)
        .map(|(s, item)| match &item.source {
            StitchSource::Silence { ms } => format.samples_in_ms(*ms),
            StitchSource::Clip(_) => s.samples.unwrap_or(0) as u64,
        })
        .collect()
}
