//! The stitch stage: decides which chapters are complete, has each one
//! trimmed and laid out ([`crate::audio`]) and measured for mastering
//! ([`crate::master`]): its gain to the profile's target and the QA
//! measurement of exactly what the mastered stream will hold. It writes no
//! audio: [`StitchedChapter::stream`] plays a chapter's mastered samples to
//! whoever asks (the delivery stage's encoders), one block at a time.
//!
//! A chapter whose stitch key (see [`crate::plan::chapter_stitch_key`]) is
//! unchanged is not read again: its layout, gain and measurement come from
//! the state database. Chapters that changed are measured in parallel
//! across cores (rayon, in a blocking task); each chapter is one
//! self-contained, sequential job, so the bytes never depend on the number
//! of cores.

use std::sync::Arc;

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audio::{self, AudioError, ChapterStream, Layout, PcmSink, StitchItem, StitchSource};
use crate::cache::Cache;
use crate::job::{Job, Master};
use crate::master::qa::{FileQa, Role};
use crate::master::{Mastering, Measurement, meter};
use crate::plan::{self, Slot};
use crate::report::{ChapterEntry, Manifest};
use crate::store::{SegmentRow, SegmentState, Store};

/// Silence used for a segment the provider refused as unspeakable.
pub const PAUSE_MS: u32 = 500;

/// A complete chapter, laid out and measured, ready to stream mastered.
#[derive(Debug, Clone)]
pub struct StitchedChapter {
    pub idx: i64,
    pub title: String,
    /// Equal keys mean equal samples.
    pub key: String,
    pub rate: u32,
    /// Shared, not copied, by every file the chapter is delivered in (its
    /// own and the book's): a segment's item and place are held once.
    pub items: Arc<Vec<StitchItem>>,
    pub layout: Arc<Layout>,
    /// The one gain of the chapter (dB), found by the measuring pass.
    pub gain_db: f64,
    pub master: Master,
    cache: Arc<Cache>,
}

impl StitchedChapter {
    pub fn samples(&self) -> u64 {
        self.layout.audio.samples
    }

    /// Feeds every mastered sample of the chapter to `sink`, in order, in
    /// blocks: the clips read through the cache, trimmed, with their
    /// pauses, then gain, room tone and the limiter (held `codec_room_db`
    /// lower for a lossy encoder that raised a peak over the ceiling).
    pub fn stream(
        &self,
        codec_room_db: f64,
        sink: &mut dyn FnMut(&[i16]) -> Result<(), AudioError>,
    ) -> Result<(), AudioError> {
        let mastering = Mastering {
            codec_room_db,
            ..Mastering::new(self.rate, self.master)
        };
        let mut stream = ChapterStream::new(&self.cache, &self.items, &self.layout, self.rate);
        let mut sink = FnSink { sink, failed: None };
        let result = mastering.play(self.gain_db, |out| stream.read(out), &mut [&mut sink]);
        match (result, sink.failed) {
            (_, Some(e)) => Err(e),
            (result, None) => result,
        }
    }
}

/// A closure as a [`PcmSink`], keeping the closure's own error.
struct FnSink<'a> {
    sink: &'a mut dyn FnMut(&[i16]) -> Result<(), AudioError>,
    failed: Option<AudioError>,
}

impl PcmSink for FnSink<'_> {
    fn put(&mut self, block: &[i16]) -> std::io::Result<()> {
        (self.sink)(block).map_err(|e| {
            let message = e.to_string();
            self.failed = Some(e);
            std::io::Error::other(message)
        })
    }
}

/// What the stitcher found: the complete chapters, the manifest with
/// every segment's place (files are filled in by the delivery stage), the
/// QA of each chapter (and of the book when it is complete), and the
/// segments whose clip was silence. The segments' rows are not kept: the
/// manifest holds what is said of them (a row is several times larger).
#[derive(Debug)]
pub struct Stitched {
    pub chapters: Vec<StitchedChapter>,
    /// Chapters in the plan, complete or not.
    pub total: usize,
    pub manifest: Manifest,
    /// The QA of each complete chapter, in order, then of the whole book
    /// when every chapter is complete.
    pub qa: Vec<FileQa>,
    /// Segments whose clip is silence from end to end.
    pub silent: Vec<SegmentRow>,
}

impl Stitched {
    pub fn complete(&self) -> bool {
        self.manifest.incomplete_chapters.is_empty() && !self.chapters.is_empty()
    }

    pub fn samples(&self) -> u64 {
        self.chapters.iter().map(StitchedChapter::samples).sum()
    }
}

/// A chapter as a render's clip check found it ([`crate::render`] makes
/// these in its one pass over the book): its stitch key, `None` when a
/// segment is neither done nor a pause, and whether any of its clips has
/// word timings. Handed to [`stitch`] only when nothing changed since.
#[derive(Debug, Clone)]
pub struct CheckedChapter {
    pub idx: i64,
    pub key: Option<String>,
    pub words: bool,
}

/// What a chapter was made into, kept in the state database.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Mastered {
    layout: Layout,
    gain_db: f64,
    measurement: Measurement,
}

/// One complete chapter.
struct Chapter {
    idx: i64,
    title: String,
    key: String,
    /// The rows, kept only while the chapter is still to be measured.
    segments: Vec<SegmentRow>,
    items: Vec<StitchItem>,
    /// Set when the database already holds what this key makes.
    done: Option<Mastered>,
    /// The manifest's entry (its place in the book set later) and the
    /// segments that are silence, once the layout is known.
    entry: Option<(ChapterEntry, Vec<SegmentRow>)>,
}

impl Chapter {
    /// The manifest entry and the silent segments from the layout; the
    /// rows are let go.
    fn describe(&mut self, job: &Job) {
        let Some(done) = &self.done else { return };
        let segments = std::mem::take(&mut self.segments);
        let entry = ChapterEntry::new(
            self.idx as usize + 1,
            &self.title,
            job.audio.sample_rate,
            0,
            &done.layout.audio,
            &segments,
        );
        // Cloned from borrowed rows, not collected from the owned ones: a
        // `collect` from `into_iter` keeps the whole chapter's allocation
        // for the few rows it keeps.
        let silent = segments
            .iter()
            .zip(&done.layout.audio.placed)
            .filter(|(row, placed)| placed.silent && row.state == SegmentState::Done)
            .map(|(row, _)| row.clone())
            .collect();
        self.entry = Some((entry, silent));
    }
}

/// Lays out and measures every complete chapter that changed, and builds
/// the manifest and the QA rows. `checked`: every chapter's key as the
/// render's clip check made it, when nothing changed since; otherwise the
/// keys are made here from the segments and their clips.
pub async fn stitch(
    store: &Store,
    cache: &Arc<Cache>,
    job: &Job,
    job_id: i64,
    checked: Option<&[CheckedChapter]>,
) -> Result<Stitched> {
    let (chapters, incomplete, total) = complete_chapters(store, job, job_id, checked).await?;
    let to_measure = chapters.iter().filter(|c| c.done.is_none()).count();
    let measured_now: std::collections::HashSet<i64> = chapters
        .iter()
        .filter(|c| c.done.is_none())
        .map(|c| c.idx)
        .collect();
    let started = std::time::Instant::now();
    let (measuring_cache, job_copy) = (Arc::clone(cache), job.clone());
    let chapters = tokio::task::spawn_blocking(move || -> Result<Vec<Chapter>> {
        measure_chapters(&measuring_cache, &job_copy, chapters)
    })
    .await??;
    if to_measure > 0 {
        tracing::info!(
            measured = to_measure,
            secs = format!("{:.3}", started.elapsed().as_secs_f64()),
            "chapters laid out and measured"
        );
    }

    let mut manifest = Manifest::new(job);
    manifest.incomplete_chapters = incomplete;
    let mut stitched = Vec::with_capacity(chapters.len());
    let mut qa = Vec::new();
    let mut silent = Vec::new();
    let mut parts = Vec::new();
    let mut book_offset = 0u64;
    for mut chapter in chapters {
        if chapter.entry.is_none() {
            chapter.describe(job);
        }
        let (Some(done), Some((mut entry, silent_here))) = (chapter.done, chapter.entry) else {
            anyhow::bail!("chapter {} was not measured", chapter.idx + 1);
        };
        // A chapter whose key was already recorded with its layout is not
        // written again: a render with nothing to do writes no chapter row.
        if measured_now.contains(&chapter.idx) {
            store
                .set_stitched(
                    job_id,
                    chapter.idx,
                    &chapter.key,
                    done.layout.audio.samples,
                    &serde_json::to_string(&done).context("describing a chapter")?,
                )
                .await?;
        }
        entry.place_in_book(job.audio.sample_rate, book_offset);
        manifest.chapters.push(entry);
        silent.extend(silent_here);
        book_offset += done.layout.audio.samples;
        qa.push(FileQa::new(
            format!("chapter {}", chapter.idx + 1),
            Role::Chapter,
            done.measurement.clone(),
            &job.master,
        ));
        parts.push(done.measurement);
        stitched.push(StitchedChapter {
            idx: chapter.idx,
            title: chapter.title,
            key: chapter.key,
            rate: job.audio.sample_rate,
            items: Arc::new(chapter.items),
            layout: Arc::new(done.layout),
            gain_db: done.gain_db,
            master: job.master,
            cache: Arc::clone(cache),
        });
    }
    manifest.samples = book_offset;
    let complete = manifest.incomplete_chapters.is_empty() && !stitched.is_empty();
    if complete && let Some(measurement) = meter::combine(&parts) {
        qa.push(FileQa::new(
            "book".into(),
            Role::Book,
            measurement,
            &job.master,
        ));
    }
    Ok(Stitched {
        chapters: stitched,
        total,
        manifest,
        qa,
        silent,
    })
}

/// What is already stitched, measuring nothing: the complete chapters
/// whose layout the database holds for their current key, and their audio
/// in samples (an interrupted run reports these).
pub async fn survey(store: &Store, job: &Job, job_id: i64) -> Result<(usize, u64)> {
    let (chapters, _, _) = complete_chapters(store, job, job_id, None).await?;
    Ok(chapters
        .iter()
        .filter_map(|c| c.done.as_ref())
        .fold((0, 0), |(n, samples), done| {
            (n + 1, samples + done.layout.audio.samples)
        }))
}

/// The complete chapters with their keys and items, the 1-based numbers of
/// the incomplete ones, and how many chapters the plan has. With the
/// chapters as checked, an incomplete chapter is not read, and a complete
/// one is read without its clips unless they have word timings.
async fn complete_chapters(
    store: &Store,
    job: &Job,
    job_id: i64,
    checked: Option<&[CheckedChapter]>,
) -> Result<(Vec<Chapter>, Vec<usize>, usize)> {
    let rows = store.chapters(job_id).await?;
    let total = rows.len();
    let mut chapters = Vec::new();
    let mut incomplete = Vec::new();
    // Each row's recorded layout is let go once read.
    for row in rows {
        let checked = checked.and_then(|all| all.iter().find(|c| c.idx == row.idx));
        if checked.is_some_and(|c| c.key.is_none()) {
            incomplete.push(row.idx as usize + 1);
            continue;
        }
        // One chapter's rows at a time from the database.
        let with_clips = checked.is_none_or(|c| c.words);
        let segments = store.chapter_segments(job_id, row.idx, with_clips).await?;
        if !segments
            .iter()
            .all(|s| matches!(s.state, SegmentState::Done | SegmentState::Pause))
        {
            incomplete.push(row.idx as usize + 1);
            continue;
        }
        let key = match checked.and_then(|c| c.key.clone()) {
            Some(key) => key,
            None => plan::chapter_stitch_key(
                &job.audio,
                &job.master,
                PAUSE_MS,
                &row.title,
                segments
                    .iter()
                    .map(|s| (&s.content_key, slot(s), s.ends_paragraph)),
            ),
        };
        let items = segments
            .iter()
            .map(|s| StitchItem {
                source: match s.state {
                    SegmentState::Pause => StitchSource::Silence { ms: PAUSE_MS },
                    _ => StitchSource::Clip(s.content_key.to_string()),
                },
                ends_paragraph: s.ends_paragraph,
            })
            .collect();
        let done = (row.stitch_key.as_deref() == Some(key.as_str()))
            .then_some(row.mastered)
            .flatten()
            .and_then(|json| serde_json::from_str::<Mastered>(&json).ok())
            .filter(|m| m.layout.audio.placed.len() == segments.len());
        let mut chapter = Chapter {
            idx: row.idx,
            title: row.title,
            key,
            segments,
            items,
            done,
            entry: None,
        };
        // Described now, so a book's rows are never all held at once.
        chapter.describe(job);
        chapters.push(chapter);
    }
    Ok((chapters, incomplete, total))
}

/// Trims, lays out and measures the chapters that are not up to date, in
/// parallel: the edges of every clip, the gain to the profile's target,
/// then the measurement of the mastered stream itself (what the QA judges
/// and every delivered format is encoded from).
fn measure_chapters(cache: &Cache, job: &Job, mut chapters: Vec<Chapter>) -> Result<Vec<Chapter>> {
    let rate = job.audio.sample_rate;
    let mastering = Mastering::new(rate, job.master);
    let measured: Vec<Option<Mastered>> = chapters
        .par_iter()
        .map(|c| {
            if c.done.is_some() {
                return Ok(None);
            }
            let edges = audio::measure_edges(cache, &job.audio, &c.items)?;
            let layout = audio::lay_out(&job.audio, &c.items, &edges);
            let gain_db = mastering.gain_db(|| {
                let mut stream = ChapterStream::new(cache, &c.items, &layout, rate);
                move |out: &mut [i16]| stream.read(out)
            })?;
            let mut stream = ChapterStream::new(cache, &c.items, &layout, rate);
            let measurement = mastering.apply(gain_db, |out| stream.read(out), &mut [])?;
            Ok(Some(Mastered {
                layout,
                gain_db,
                measurement,
            }))
        })
        .collect::<Result<_, AudioError>>()
        .with_context(|| "measuring the chapters")?;
    for (chapter, done) in chapters.iter_mut().zip(measured) {
        if done.is_some() {
            chapter.done = done;
        }
    }
    Ok(chapters)
}

fn slot(s: &SegmentRow) -> Option<Slot<'_>> {
    match s.state {
        SegmentState::Pause => Some(Slot::Pause),
        _ => s.sha256.as_deref().map(Slot::Clip),
    }
}
