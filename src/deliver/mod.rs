//! The delivery stage: what a publisher uploads. From the stitched (and,
//! once mastering lands, mastered) chapter audio it writes the files
//! `[output]` asks for (MP3, M4B, FLAC, WAV; per chapter, for the whole
//! book, or both) with tags, cover and chapter marks, subtitles beside
//! them, `proof.csv`, and the manifest naming them all.
//!
//! Every delivered file has a content key (its audio's stitch keys, its
//! tags, its format settings, the encoder); the keys are kept in the state
//! database, so a rerun encodes only files whose key changed or that went
//! missing, and one with nothing changed encodes nothing. Files this stage
//! delivered earlier and no longer wants are removed; nothing hidden is
//! left in the folder.
//!
//! - [`encode`]: one streaming pass per file group, fanned out to the
//!   encoders, passes in parallel across cores;
//! - [`mp3`] (LAME), [`m4b`] (ffmpeg), [`flac`] (flacenc), [`wav`] (RIFF or
//!   RF64); [`resample`] to 44.1 kHz; [`tags`] in each container's terms;
//! - [`targets`]: which files the folder should hold and their keys;
//!   [`files`]: subtitles, `proof.csv`, and removing what is no longer wanted;
//!   [`subtitles`], [`proof`], and [`names`] for the folder.

mod encode;
mod files;
mod flac;
pub mod m4b;
mod mp3;
pub mod names;
mod proof;
mod resample;
pub mod subtitles;
pub mod tags;
mod targets;
mod wav;

use std::path::PathBuf;

use anyhow::{Context, Result};
use rayon::prelude::*;

use crate::job::Job;
use crate::master::qa::{self, FileQa, Role};
use crate::report;
use crate::stitch::Stitched;
use crate::store::{SegmentRow, Store};
use encode::Pass;

/// An encoder: blocks of mono 16-bit samples in, a finished file out
/// (renamed into place only by `finish`; dropped unfinished, it leaves
/// nothing behind).
pub(crate) trait Encode: Send {
    fn write(&mut self, block: &[i16]) -> Result<()>;
    fn finish(self: Box<Self>) -> Result<()>;
}

/// Completes a file whose header is known only at the end: flushes it,
/// writes `header` at `offset`, and renames it into place.
fn patch_and_commit(
    out: std::io::BufWriter<std::fs::File>,
    atomic: crate::atomic::AtomicFile,
    path: &std::path::Path,
    offset: u64,
    header: &[u8],
) -> Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    let mut file = out
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("writing {}", path.display()))?;
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(header)
        .with_context(|| format!("writing the header of {}", path.display()))?;
    atomic.commit(&file)?;
    Ok(())
}

/// What the stage did.
#[derive(Debug, Default)]
pub struct Delivered {
    /// Chapters delivered (or up to date).
    pub chapters: usize,
    pub book_files: Vec<PathBuf>,
    /// Audio files encoded by this run.
    pub encoded: usize,
    pub samples: u64,
    /// The QA of each chapter and of the book, named by their delivered
    /// files (written as `qa.json` and `qa.csv`).
    pub qa: Vec<FileQa>,
    /// Segments whose clip is silence from end to end.
    pub silent: Vec<SegmentRow>,
}

/// Delivers one job's complete chapters (and the whole book when every
/// chapter is complete), then writes the manifest. A self-contained step:
/// it needs the store, the job and what the stitcher found, nothing more.
pub async fn deliver(
    store: &Store,
    job: &Job,
    job_id: i64,
    stitched: Stitched,
) -> Result<Delivered> {
    let dir = job.output.dir.clone();
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating output dir {}", dir.display()))?;
    crate::atomic::remove_orphaned_temps(&dir)?;
    files::remove_legacy(&dir)?;
    let recorded = store.deliveries(job_id).await?;
    let mut manifest = stitched.manifest.clone();
    let targets = targets::plan(job, &stitched, &mut manifest)?;
    let mut wanted = targets.wanted;
    let passes: Vec<Pass> = targets
        .passes
        .into_iter()
        .filter_map(|mut pass| {
            pass.outputs
                .retain(|o| !files::up_to_date(&dir, &recorded, &o.path, &o.key));
            (!pass.outputs.is_empty()).then_some(pass)
        })
        .collect();
    let encoded = encode_all(store, job, job_id, passes).await?;
    files::write_texts(
        store,
        job,
        job_id,
        &stitched,
        &manifest,
        &recorded,
        &mut wanted,
    )
    .await?;
    files::remove_unwanted(store, job_id, &dir, &recorded, &wanted).await?;
    report::write_manifest(&dir, &manifest).context("writing manifest.json")?;
    let samples = stitched.samples();
    let qa = name_qa(stitched.qa, &manifest);
    qa::write_files(&dir, job.master.profile, &qa).context("writing qa.json and qa.csv")?;
    Ok(Delivered {
        chapters: stitched.chapters.len(),
        book_files: manifest.book_files.iter().map(|f| dir.join(f)).collect(),
        encoded,
        samples,
        qa,
        silent: stitched.silent,
    })
}

/// The QA rows carry the names of the files they judge: a chapter's
/// delivered files (or "chapter N" when only the book is delivered), the
/// book's files for the book row. The measurement is of the mastered PCM
/// every format is encoded from.
fn name_qa(mut qa: Vec<FileQa>, manifest: &report::Manifest) -> Vec<FileQa> {
    for row in &mut qa {
        let files = match row.role {
            Role::Book => &manifest.book_files,
            _ => match manifest
                .chapters
                .iter()
                .find(|c| format!("chapter {}", c.number) == row.file)
            {
                Some(chapter) => &chapter.files,
                None => continue,
            },
        };
        if !files.is_empty() {
            row.file = files.join(" ");
        }
    }
    qa
}

/// Runs every pass on rayon's pool (inside `spawn_blocking`), the longest
/// first; records each file that was finished, so after a failure or a
/// kill a rerun does not encode it again.
async fn encode_all(store: &Store, job: &Job, job_id: i64, mut passes: Vec<Pass>) -> Result<usize> {
    if passes.is_empty() {
        return Ok(0);
    }
    passes.sort_by_key(|p| std::cmp::Reverse(p.samples()));
    let rate = job.audio.sample_rate;
    let delivery = job.output.delivery.clone();
    let (passes, results) = tokio::task::spawn_blocking(move || {
        let results: Vec<Result<Vec<u64>>> = passes
            .par_iter()
            .with_max_len(1)
            .map(|pass| pass.run(&delivery, rate))
            .collect();
        (passes, results)
    })
    .await
    .context("the encoders stopped")?;
    let mut encoded = 0;
    let mut first_error = None;
    for (pass, result) in passes.iter().zip(results) {
        match result {
            Ok(sizes) => {
                for (output, bytes) in pass.outputs.iter().zip(sizes) {
                    let file = targets::file_name(&output.path);
                    store
                        .set_delivered(job_id, &file, &output.key, bytes)
                        .await?;
                    encoded += 1;
                }
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(encoded),
    }
}
