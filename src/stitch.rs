//! The stitch stage: decides which chapter files are complete and not yet
//! up to date (by their stitch keys, see [`crate::plan::chapter_stitch_key`]),
//! has them trimmed, laid out ([`crate::audio`]) and mastered
//! ([`crate::master`]), writes the whole-book file alongside them from the
//! same mastered stream, and leaves `manifest.json`, `qa.json` and
//! `qa.csv`. A chapter whose key is unchanged is not read or written again;
//! its layout and measurement come from the state database.
//!
//! Chapters are measured and mastered in parallel across cores (rayon, in
//! a blocking task). Each chapter is one self-contained, sequential job, so
//! the bytes never depend on the number of cores.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audio::{
    self, BookWriter, ChapterAudio, ChapterStream, PcmFormat, StitchItem, StitchSource, WavWriter,
};
use crate::cache::Cache;
use crate::job::Job;
use crate::master::qa::{self, FileQa, Role};
use crate::master::{Mastering, Measurement, meter};
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
    /// The QA of every delivered file (chapters, then the book).
    pub qa: Vec<FileQa>,
    /// Segments whose clip is silence from end to end: (chapter index, row).
    pub silent: Vec<SegmentRow>,
}

/// `chapter-NNN.wav`, numbered from 1.
pub fn chapter_file_name(idx: i64) -> String {
    format!("chapter-{:03}.wav", idx + 1)
}

/// What a chapter file was made into, kept in the state database.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Mastered {
    audio: ChapterAudio,
    measurement: Measurement,
}

/// One complete chapter.
struct Chapter {
    idx: i64,
    title: String,
    file: PathBuf,
    key: String,
    segments: Vec<SegmentRow>,
    items: Vec<StitchItem>,
    /// Set when the file on disk is already right.
    done: Option<Mastered>,
}

/// Writes every complete chapter (unless its file is already up to date)
/// and the book when every chapter is complete, then the manifest and QA.
pub async fn stitch(store: &Store, cache: &Cache, job: &Job, job_id: i64) -> Result<Stitched> {
    let dir = job.output.dir.clone();
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating output dir {}", dir.display()))?;
    let (mut chapters, incomplete, total) = complete_chapters(store, job, job_id).await?;
    remove_stale_chapter_files(&dir, total)?;

    let keys: Vec<String> = chapters.iter().map(|c| c.key.clone()).collect();
    let book = dir.join("book.wav");
    let book_key = plan::book_stitch_key(&keys);
    let marker = dir.join(".book.key");
    let want_book = incomplete.is_empty() && !chapters.is_empty();
    let book_current = want_book
        && chapters.iter().all(|c| c.done.is_some())
        && std::fs::read_to_string(&marker).unwrap_or_default() == book_key
        && file_has_samples(
            &book,
            Some(chapters.iter().map(samples_of).sum::<u64>() as i64),
        );
    if !want_book && book.exists() {
        // A book file from an earlier, different plan would be stale.
        std::fs::remove_file(&book)
            .with_context(|| format!("removing stale {}", book.display()))?;
    }

    let (cache, job_copy) = (cache.clone(), job.clone());
    let book_out = (want_book && !book_current).then(|| book.clone());
    let to_master = chapters.iter().filter(|c| c.done.is_none()).count();
    let started = std::time::Instant::now();
    chapters = tokio::task::spawn_blocking(move || -> Result<Vec<Chapter>> {
        write_chapters(&cache, &job_copy, chapters, book_out.as_deref())
    })
    .await??;
    if to_master > 0 || (want_book && !book_current) {
        tracing::info!(
            mastered = to_master,
            copied_into_book = if want_book && !book_current {
                chapters.len() - to_master
            } else {
                0
            },
            book = want_book && !book_current,
            secs = format!("{:.3}", started.elapsed().as_secs_f64()),
            "chapter files written"
        );
    }
    if want_book && !book_current {
        crate::atomic::write_atomic(&marker, book_key.as_bytes())?;
    }

    let mut stitched = Stitched {
        total,
        ..Stitched::default()
    };
    let mut manifest = Manifest::new(job);
    manifest.incomplete_chapters = incomplete;
    let mut book_offset = 0u64;
    let mut parts = Vec::new();
    for chapter in chapters {
        let done = chapter.done.expect("every chapter was written");
        store
            .set_stitched(
                job_id,
                chapter.idx,
                &chapter.key,
                done.audio.samples,
                &serde_json::to_string(&done).context("describing a chapter")?,
            )
            .await?;
        manifest.chapters.push(ChapterEntry::new(
            chapter.idx as usize + 1,
            &chapter.title,
            &chapter.file,
            job.audio.sample_rate,
            book_offset,
            &done.audio,
            &chapter.segments,
        ));
        for (row, placed) in chapter.segments.iter().zip(&done.audio.placed) {
            if placed.silent && row.state == SegmentState::Done {
                stitched.silent.push(row.clone());
            }
        }
        book_offset += done.audio.samples;
        stitched.chapters += 1;
        stitched.qa.push(FileQa::new(
            chapter_file_name(chapter.idx),
            Role::Chapter,
            done.measurement.clone(),
            &job.master,
        ));
        parts.push(done.measurement);
    }
    stitched.samples = book_offset;
    if want_book && let Some(measurement) = meter::combine(&parts) {
        stitched.qa.push(FileQa::new(
            "book.wav".into(),
            Role::Book,
            measurement,
            &job.master,
        ));
        manifest.book_file = Some("book.wav".into());
        manifest.samples = book_offset;
        stitched.book = Some(book);
    }
    report::write_manifest(&dir, &manifest).context("writing manifest.json")?;
    qa::write_files(&dir, job.master.profile, &stitched.qa)
        .context("writing qa.json and qa.csv")?;
    Ok(stitched)
}

/// What is already stitched, writing nothing: the chapter files that are
/// complete and up to date, their audio, and the book file if it is up to
/// date too (an interrupted run reports these).
pub async fn survey(store: &Store, job: &Job, job_id: i64) -> Result<Stitched> {
    let (chapters, incomplete, total) = complete_chapters(store, job, job_id).await?;
    let mut stitched = Stitched {
        total,
        ..Stitched::default()
    };
    let keys: Vec<String> = chapters.iter().map(|c| c.key.clone()).collect();
    let mut all_done = true;
    for chapter in &chapters {
        match &chapter.done {
            Some(done) => {
                stitched.chapters += 1;
                stitched.samples += done.audio.samples;
            }
            None => all_done = false,
        }
    }
    let dir = &job.output.dir;
    let book = dir.join("book.wav");
    let book_current = incomplete.is_empty()
        && !chapters.is_empty()
        && all_done
        && std::fs::read_to_string(dir.join(".book.key")).unwrap_or_default()
            == plan::book_stitch_key(&keys)
        && file_has_samples(&book, Some(stitched.samples as i64));
    if book_current {
        stitched.book = Some(book);
    }
    Ok(stitched)
}

/// The complete chapters with their keys and items, the 1-based numbers of
/// the incomplete ones, and how many chapters the plan has.
async fn complete_chapters(
    store: &Store,
    job: &Job,
    job_id: i64,
) -> Result<(Vec<Chapter>, Vec<usize>, usize)> {
    let rows = store.chapters(job_id).await?;
    let mut by_chapter: BTreeMap<i64, Vec<SegmentRow>> = BTreeMap::new();
    for row in store.segments(job_id).await? {
        by_chapter.entry(row.chapter_idx).or_default().push(row);
    }
    let mut chapters = Vec::new();
    let mut incomplete = Vec::new();
    for row in &rows {
        let segments = by_chapter.remove(&row.idx).unwrap_or_default();
        if !segments
            .iter()
            .all(|s| matches!(s.state, SegmentState::Done | SegmentState::Pause))
        {
            incomplete.push(row.idx as usize + 1);
            continue;
        }
        let key = plan::chapter_stitch_key(
            &job.audio,
            &job.master,
            PAUSE_MS,
            &row.title,
            segments
                .iter()
                .map(|s| (&s.content_key, slot(s), s.ends_paragraph)),
        );
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
        let file = job.output.dir.join(chapter_file_name(row.idx));
        let done = (row.stitch_key.as_deref() == Some(key.as_str())
            && file_has_samples(&file, row.samples))
        .then_some(row.mastered.as_deref())
        .flatten()
        .and_then(|json| serde_json::from_str::<Mastered>(json).ok())
        .filter(|m| m.audio.placed.len() == segments.len());
        chapters.push(Chapter {
            idx: row.idx,
            title: row.title.clone(),
            file,
            key,
            segments,
            items,
            done,
        });
    }
    Ok((chapters, incomplete, rows.len()))
}

/// A chapter after the first pass: its layout and gain.
struct Planned {
    layout: audio::Layout,
    gain_db: f64,
}

/// Trims, lays out, measures and masters the chapters that are not up to
/// date, in parallel, writing each chapter file and (when `book` is given)
/// every chapter's part of the book file.
fn write_chapters(
    cache: &Cache,
    job: &Job,
    mut chapters: Vec<Chapter>,
    book: Option<&Path>,
) -> Result<Vec<Chapter>> {
    let rate = job.audio.sample_rate;
    let mastering = Mastering::new(rate, job.master);
    // Pass 1: edges, layout and gain of each chapter to write.
    let planned: Vec<Option<Planned>> = chapters
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
            Ok(Some(Planned { layout, gain_db }))
        })
        .collect::<Result<_, audio::AudioError>>()
        .with_context(|| "measuring the chapters")?;

    let lengths: Vec<u64> = chapters
        .iter()
        .zip(&planned)
        .map(|(c, p)| {
            p.as_ref()
                .map_or_else(|| samples_of(c), |p| p.layout.audio.samples)
        })
        .collect();
    let offsets: Vec<u64> = lengths
        .iter()
        .scan(0u64, |at, n| {
            let start = *at;
            *at += n;
            Some(start)
        })
        .collect();
    let book = match book {
        Some(path) => Some(BookWriter::create(path, rate, lengths.iter().sum())?),
        None => None,
    };

    // Pass 2: master each chapter into its file and its part of the book;
    // chapters already up to date are copied into the book.
    let written: Vec<Option<Mastered>> = chapters
        .par_iter()
        .zip(&planned)
        .zip(&offsets)
        .map(|((c, p), &offset)| {
            let Some(p) = p else {
                if let Some(book) = &book {
                    book.copy_chapter(&c.file, rate, offset, samples_of(c))?;
                }
                return Ok(None);
            };
            let mut wav = WavWriter::create(&c.file, rate, p.layout.audio.samples)?;
            let mut stream = ChapterStream::new(cache, &c.items, &p.layout, rate);
            let measurement = match &book {
                Some(book) => {
                    let mut part = book.part(offset);
                    mastering.apply(
                        p.gain_db,
                        |out| stream.read(out),
                        &mut [&mut wav, &mut part],
                    )?
                }
                None => mastering.apply(p.gain_db, |out| stream.read(out), &mut [&mut wav])?,
            };
            wav.finish()?;
            Ok(Some(Mastered {
                audio: p.layout.audio.clone(),
                measurement,
            }))
        })
        .collect::<Result<_, audio::AudioError>>()
        .with_context(|| "writing the chapter files")?;
    if let Some(book) = book {
        book.finish().context("writing the book file")?;
    }
    for (chapter, done) in chapters.iter_mut().zip(written) {
        if done.is_some() {
            chapter.done = done;
        }
    }
    Ok(chapters)
}

fn samples_of(c: &Chapter) -> u64 {
    c.done.as_ref().map_or(0, |d| d.audio.samples)
}

fn slot(s: &SegmentRow) -> Option<Slot<'_>> {
    match s.state {
        SegmentState::Pause => Some(Slot::Pause),
        _ => s.sha256.as_deref().map(Slot::Clip),
    }
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
