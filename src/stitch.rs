//! The stitch stage: decides which chapter files are complete and not yet
//! up to date (by their stitch keys, see [`crate::plan::chapter_stitch_key`]),
//! has [`crate::audio`] write them, assembles the whole-book file once every
//! chapter is complete, and writes `manifest.json`. A chapter whose key is
//! unchanged is not read or written again.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::audio::{self, ChapterAudio, PcmFormat, StitchItem, StitchSource};
use crate::cache::Cache;
use crate::job::Job;
use crate::plan::{self, Slot};
use crate::report::{self, ChapterEntry, Manifest};
use crate::store::{SegmentRow, SegmentState, Store};

/// Silence used for a segment the provider refused as unspeakable.
pub const PAUSE_MS: u32 = 500;

/// What the stitcher wrote or found up to date.
#[derive(Debug, Default)]
pub struct Stitched {
    pub chapters: usize,
    pub total: usize,
    pub book: Option<PathBuf>,
    pub samples: u64,
}

/// `chapter-NNN.wav`, numbered from 1.
pub fn chapter_file_name(idx: i64) -> String {
    format!("chapter-{:03}.wav", idx + 1)
}

/// Writes every complete chapter (unless its file is already up to date),
/// then the book when every chapter is complete, then the manifest.
pub async fn stitch(store: &Store, cache: &Cache, job: &Job, job_id: i64) -> Result<Stitched> {
    run(store, Some(cache), job, job_id).await
}

/// What is already stitched, writing nothing: the chapter files that are
/// complete and up to date, and the book file if it is (an interrupted run
/// reports these).
pub async fn survey(store: &Store, job: &Job, job_id: i64) -> Result<Stitched> {
    run(store, None, job, job_id).await
}

/// Stitches with a cache to read clips from; without one, only counts what
/// is already up to date.
async fn run(store: &Store, cache: Option<&Cache>, job: &Job, job_id: i64) -> Result<Stitched> {
    let chapters = store.chapters(job_id).await?;
    let dir = &job.output.dir;
    if cache.is_some() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating output dir {}", dir.display()))?;
        remove_stale_chapter_files(dir, chapters.len())?;
    }

    let format = PcmFormat::new(job.audio.sample_rate);
    let mut stitched = Stitched {
        total: chapters.len(),
        ..Stitched::default()
    };
    let mut manifest = Manifest::new(job);
    let mut chapter_files = Vec::new();
    let mut chapter_keys = Vec::new();
    let mut book_offset = 0u64;
    for chapter in &chapters {
        // One chapter's rows at a time: a long book is never all in memory.
        let segments = store.chapter_segments(job_id, chapter.idx).await?;
        let complete = segments
            .iter()
            .all(|s| matches!(s.state, SegmentState::Done | SegmentState::Pause));
        let file = dir.join(chapter_file_name(chapter.idx));
        if !complete {
            manifest.incomplete_chapters.push(chapter.idx as usize + 1);
            continue;
        }
        let stitch_key = plan::chapter_stitch_key(
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
                source: match (s.state, cache) {
                    (SegmentState::Pause, _) => StitchSource::Silence { ms: PAUSE_MS },
                    (_, Some(cache)) => StitchSource::Clip(cache.clip_path(&s.content_key)),
                    (_, None) => StitchSource::Clip(PathBuf::new()),
                },
                ends_paragraph: s.ends_paragraph,
            })
            .collect();
        chapter_keys.push(stitch_key.clone());
        let up_to_date = chapter.stitch_key.as_deref() == Some(stitch_key.as_str())
            && file_has_samples(&file, chapter.samples);
        let laid_out = if up_to_date {
            audio::layout(&job.audio, &items, &clip_lengths(&segments, &items, format))
        } else if cache.is_none() {
            manifest.incomplete_chapters.push(chapter.idx as usize + 1);
            continue;
        } else {
            let laid = write_chapter(&file, job, items).await?;
            store
                .set_stitched(job_id, chapter.idx, &stitch_key, laid.samples)
                .await?;
            laid
        };
        manifest.chapters.push(ChapterEntry::new(
            chapter.idx as usize + 1,
            &chapter.title,
            &file,
            job.audio.sample_rate,
            book_offset,
            &laid_out,
            &segments,
        ));
        book_offset += laid_out.samples;
        stitched.samples += laid_out.samples;
        stitched.chapters += 1;
        chapter_files.push(file);
    }

    let book = dir.join("book.wav");
    if cache.is_none() {
        let book_key = plan::book_stitch_key(&chapter_keys);
        let current = std::fs::read_to_string(dir.join(".book.key")).unwrap_or_default();
        let whole = manifest.incomplete_chapters.is_empty() && !chapter_files.is_empty();
        if whole && current == book_key && file_has_samples(&book, Some(book_offset as i64)) {
            stitched.book = Some(book);
        }
        return Ok(stitched);
    }
    if manifest.incomplete_chapters.is_empty() && !chapter_files.is_empty() {
        let book_key = plan::book_stitch_key(&chapter_keys);
        let marker = dir.join(".book.key");
        let current = std::fs::read_to_string(&marker).unwrap_or_default();
        if current != book_key || !file_has_samples(&book, Some(book_offset as i64)) {
            let (out, files, rate) = (book.clone(), chapter_files.clone(), job.audio.sample_rate);
            tokio::task::spawn_blocking(move || audio::write_book(&out, rate, &files))
                .await?
                .with_context(|| format!("writing book file {}", book.display()))?;
            crate::atomic::write_atomic(&marker, book_key.as_bytes())?;
        }
        manifest.book_file = Some("book.wav".into());
        manifest.samples = book_offset;
        stitched.book = Some(book);
    } else if book.exists() {
        // A book file from an earlier, different plan would be stale.
        std::fs::remove_file(&book)
            .with_context(|| format!("removing stale {}", book.display()))?;
    }
    report::write_manifest(dir, &manifest).context("writing manifest.json")?;
    Ok(stitched)
}

fn slot(s: &SegmentRow) -> Option<Slot<'_>> {
    match s.state {
        SegmentState::Pause => Some(Slot::Pause),
        _ => s.sha256.as_deref().map(Slot::Clip),
    }
}

async fn write_chapter(file: &Path, job: &Job, items: Vec<StitchItem>) -> Result<ChapterAudio> {
    let out = file.to_path_buf();
    let audio_cfg = job.audio;
    tokio::task::spawn_blocking(move || audio::write_chapter(&out, &audio_cfg, &items))
        .await?
        .with_context(|| format!("writing chapter file {}", file.display()))
}

/// Chapter files from an earlier plan with more chapters would mislead.
fn remove_stale_chapter_files(dir: &Path, chapters: usize) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let number = name
            .strip_prefix("chapter-")
            .and_then(|n| n.strip_suffix(".wav"))
            .and_then(|n| n.parse::<usize>().ok());
        if number.is_some_and(|n| n > chapters) {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn file_has_samples(file: &Path, samples: Option<i64>) -> bool {
    match (std::fs::metadata(file), samples) {
        (Ok(meta), Some(samples)) => meta.len() == PcmFormat::wav_file_bytes(samples as u64),
        _ => false,
    }
}

/// Item lengths from the database, so an up-to-date chapter is not re-read.
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
