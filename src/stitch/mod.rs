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
//! of cores. A chapter's layout is recorded as soon as it is measured, and
//! what needs its segments later reads them back a chapter at a time
//! ([`record`]): the stage holds a few numbers per chapter, not a book's
//! segments.

mod complete;
pub mod record;

use std::collections::BTreeSet;
use std::sync::Arc;

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audio::{self, AudioError, ChapterStream, Layout, PcmSink};
use crate::cache::Cache;
use crate::job::{Job, Master};
use crate::master::qa::{FileQa, Role};
use crate::master::{Mastering, Measurement, meter};
use crate::report::{ChapterEntry, Manifest};
use crate::store::{SegmentRow, Store};
use complete::{Summary, complete_chapters, silent_rows};
use record::Record;

/// Silence used for a segment the provider refused as unspeakable.
pub const PAUSE_MS: u32 = 500;

/// A complete chapter, laid out and measured, ready to stream mastered.
/// Its segments are not held: [`StitchedChapter::stream`] reads the
/// chapter's items and layout back when it plays it.
#[derive(Debug, Clone)]
pub struct StitchedChapter {
    pub idx: i64,
    pub title: String,
    /// Equal keys mean equal samples.
    pub key: String,
    pub rate: u32,
    samples: u64,
    /// The one gain of the chapter (dB), found by the measuring pass.
    pub gain_db: f64,
    pub master: Master,
    cache: Arc<Cache>,
    record: Record,
}

impl StitchedChapter {
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Feeds every mastered sample of the chapter to `sink`, in order, in
    /// blocks: the clips read through the cache, trimmed, with their
    /// pauses, then gain, room tone and the limiter (held `codec_room_db`
    /// lower for a lossy encoder that raised a peak over the ceiling).
    /// Blocking: it reads the chapter's layout from the state database.
    pub fn stream(
        &self,
        codec_room_db: f64,
        sink: &mut dyn FnMut(&[i16]) -> Result<(), AudioError>,
    ) -> Result<(), AudioError> {
        let (items, layout) = self
            .record
            .layout(self.idx)
            .map_err(|e| AudioError::Record(format!("{e:#}")))?;
        let mastering = Mastering {
            codec_room_db,
            ..Mastering::new(self.rate, self.master)
        };
        let mut stream = ChapterStream::new(&self.cache, &items, &layout, self.rate);
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

/// What the stitcher found: the complete chapters, the manifest with each
/// chapter's place (its segments' entries are read back when it is
/// written, its files are filled in by the delivery stage), the QA of each
/// chapter (and of the book when it is complete), and the segments whose
/// clip was silence.
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
    /// Where the chapters' segments are read back from.
    pub record: Record,
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
/// segment is neither done nor a pause. Handed to [`stitch`] only when
/// nothing changed since.
#[derive(Debug, Clone)]
pub struct CheckedChapter {
    pub idx: i64,
    pub key: Option<String>,
    /// Its segments, as the check counted them.
    pub segments: usize,
}

/// What a chapter was made into, kept in the state database.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Mastered {
    layout: Layout,
    gain_db: f64,
    measurement: Measurement,
}

/// What a run keeps of a chapter it made: no per-segment data.
#[derive(Debug, Clone)]
struct Made {
    samples: u64,
    gain_db: f64,
    measurement: Measurement,
}

impl From<&Mastered> for Made {
    fn from(m: &Mastered) -> Made {
        Made {
            samples: m.layout.audio.samples,
            gain_db: m.gain_db,
            measurement: m.measurement.clone(),
        }
    }
}

/// One complete chapter.
struct Chapter {
    idx: i64,
    title: String,
    key: String,
    /// Set when the database holds what this key makes.
    made: Option<Made>,
    /// Its segments whose clip is silence, once it is laid out.
    silent: Vec<SegmentRow>,
}

/// Lays out and measures every complete chapter that changed (recording
/// each one's layout as it is done), and builds the manifest and the QA
/// rows.
///
/// `checked`: every chapter's key as the render's clip check made it, when
/// nothing changed since; otherwise the keys are made here from the
/// segments and their clips.
pub async fn stitch(
    store: &Store,
    cache: &Arc<Cache>,
    job: &Job,
    job_id: i64,
    checked: Option<&[CheckedChapter]>,
) -> Result<Stitched> {
    stitch_some(store, cache, job, job_id, checked, None).await
}

/// [`stitch`] of only the chapters in `only` (by index): the others are
/// not read and count as incomplete, so what this returns never makes a
/// whole-book file. Chapters finished while synthesis goes on are
/// stitched this way, one pass costing what its chapters cost, not the
/// book.
pub async fn stitch_chapters(
    store: &Store,
    cache: &Arc<Cache>,
    job: &Job,
    job_id: i64,
    only: &BTreeSet<i64>,
) -> Result<Stitched> {
    stitch_some(store, cache, job, job_id, None, Some(only)).await
}

async fn stitch_some(
    store: &Store,
    cache: &Arc<Cache>,
    job: &Job,
    job_id: i64,
    checked: Option<&[CheckedChapter]>,
    only: Option<&BTreeSet<i64>>,
) -> Result<Stitched> {
    let record = Record::new(store, job_id, job.audio.sample_rate);
    let (chapters, incomplete, total) = complete_chapters(&record, job, checked, only).await?;
    let to_measure = chapters.iter().filter(|c| c.made.is_none()).count();
    let started = std::time::Instant::now();
    let (measuring_cache, job_copy, measuring) = (Arc::clone(cache), job.clone(), record.clone());
    let chapters = tokio::task::spawn_blocking(move || -> Result<Vec<Chapter>> {
        // Nothing to measure (an unchanged book): no worker is needed.
        if to_measure == 0 {
            return Ok(chapters);
        }
        crate::workers::install(|| {
            measure_chapters(&measuring, &measuring_cache, &job_copy, chapters)
        })
    })
    .await??;
    if to_measure > 0 {
        tracing::info!(
            measured = to_measure,
            secs = format!("{:.3}", started.elapsed().as_secs_f64()),
            "chapters laid out and measured"
        );
    }

    let rate = job.audio.sample_rate;
    let mut manifest = Manifest::new(job);
    manifest.incomplete_chapters = incomplete;
    let mut stitched = Vec::with_capacity(chapters.len());
    let mut qa = Vec::new();
    let mut silent = Vec::new();
    let mut parts = Vec::new();
    let mut book_offset = 0u64;
    for chapter in chapters {
        let Some(made) = chapter.made else {
            anyhow::bail!("chapter {} was not measured", chapter.idx + 1);
        };
        let mut entry =
            ChapterEntry::new(chapter.idx as usize + 1, &chapter.title, rate, made.samples);
        entry.place_in_book(rate, book_offset);
        manifest.chapters.push(entry);
        silent.extend(chapter.silent);
        book_offset += made.samples;
        qa.push(FileQa::new(
            format!("chapter {}", chapter.idx + 1),
            Role::Chapter,
            made.measurement.clone(),
            &job.master,
        ));
        parts.push(made.measurement);
        stitched.push(StitchedChapter {
            idx: chapter.idx,
            title: chapter.title,
            key: chapter.key,
            rate,
            samples: made.samples,
            gain_db: made.gain_db,
            master: job.master,
            cache: Arc::clone(cache),
            record: record.clone(),
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
        record,
    })
}

/// What is already stitched, measuring nothing: the complete chapters
/// whose layout the database holds for their current key, and their audio
/// in samples (an interrupted run reports these).
pub async fn survey(store: &Store, job: &Job, job_id: i64) -> Result<(usize, u64)> {
    let record = Record::new(store, job_id, job.audio.sample_rate);
    let (chapters, _, _) = complete_chapters(&record, job, None, None).await?;
    Ok(chapters
        .iter()
        .filter_map(|c| c.made.as_ref())
        .fold((0, 0), |(n, samples), made| (n + 1, samples + made.samples)))
}

/// Trims, lays out and measures the chapters that are not up to date, in
/// parallel: the edges of every clip, the gain to the profile's target,
/// then the measurement of the mastered stream itself (what the QA judges
/// and every delivered format is encoded from). Each chapter's rows are
/// read when its turn comes and its layout recorded as soon as it is
/// measured, so a worker holds one chapter and a later failure loses no
/// chapter already measured.
fn measure_chapters(
    record: &Record,
    cache: &Cache,
    job: &Job,
    mut chapters: Vec<Chapter>,
) -> Result<Vec<Chapter>> {
    let rate = job.audio.sample_rate;
    let mastering = Mastering::new(rate, job.master);
    let measured: Vec<Option<(Made, Vec<SegmentRow>)>> = chapters
        .par_iter()
        .map(|c| -> Result<_> {
            if c.made.is_some() {
                return Ok(None);
            }
            let rows = record.rows(c.idx)?;
            let items = record::items(&rows);
            let number = c.idx + 1;
            let edges = audio::measure_edges(cache, &job.audio, &items)
                .with_context(|| format!("measuring chapter {number}"))?;
            let layout = audio::lay_out(&job.audio, &items, &edges);
            drop(edges);
            let gain_db = mastering
                .gain_db(|| {
                    let mut stream = ChapterStream::new(cache, &items, &layout, rate);
                    move |out: &mut [i16]| stream.read(out)
                })
                .with_context(|| format!("measuring chapter {number}"))?;
            let mut stream = ChapterStream::new(cache, &items, &layout, rate);
            let measurement = mastering
                .apply(gain_db, |out| stream.read(out), &mut [])
                .with_context(|| format!("measuring chapter {number}"))?;
            let silent = silent_rows(&rows, &layout);
            let mastered = Mastered {
                layout,
                gain_db,
                measurement,
            };
            let json = serde_json::to_string(&mastered).context("describing a chapter")?;
            let summary = Summary::of(&mastered, silent.len()).json()?;
            record.wait(record.store().set_stitched(
                record.job_id(),
                c.idx,
                &c.key,
                mastered.layout.audio.samples,
                &json,
                &summary,
            ))?;
            Ok(Some((Made::from(&mastered), silent)))
        })
        .collect::<Result<_>>()
        .context("measuring the chapters")?;
    for (chapter, done) in chapters.iter_mut().zip(measured) {
        if let Some((made, silent)) = done {
            chapter.made = Some(made);
            chapter.silent = silent;
        }
    }
    Ok(chapters)
}
