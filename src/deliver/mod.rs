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
//!   [`texts`]: subtitles, `proof.csv` and the manifest, written a chapter
//!   at a time; [`files`]: what is up to date, and removing what is no
//!   longer wanted; `unchanged`: whether the text files can be left as
//!   they are without being built; [`subtitles`], [`proof`], and [`names`]
//!   for the folder.

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
mod texts;
mod unchanged;
mod wav;
pub use wav::WavEncoder;

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use rayon::prelude::*;

use crate::job::{Job, Master};
use crate::master::Measurement;
use crate::master::meter::measure_file;
use crate::master::qa::{self, FileQa, Measured, Role};
use crate::report;
use crate::stitch::Stitched;
use crate::store::{SegmentRow, Store};
use encode::{Pass, Written};

/// An encoder: blocks of mono 16-bit samples in, a finished file out
/// (renamed into place only by `finish`; dropped unfinished, it leaves
/// nothing behind). Public with [`WavEncoder`] for the stitching benchmark
/// (`benches/stitch.rs`), which writes chapters the way delivery does.
pub trait Encode: Send {
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
    /// The QA of every delivered audio file (written as `qa.json` and
    /// `qa.csv`).
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
    // A few fields per chapter: the segments are read back as written.
    let mut manifest = stitched.manifest.clone();
    let targets = targets::plan(job, &stitched, &mut manifest)?;
    let lossy: Vec<PathBuf> = targets
        .passes
        .iter()
        .flat_map(|p| &p.outputs)
        .filter(|o| o.format.lossy())
        .map(|o| o.path.clone())
        .collect();
    let mut wanted = targets.wanted;
    let passes = out_of_date(&dir, &recorded, targets.passes);
    // The text files are not built (every segment read back, the manifest
    // serialized) when what they are made from is unchanged and each is
    // on disk as written. They need the layouts, not the audio files, so
    // they are written while the encoders run: the book's last chapter
    // is encoded and its texts written at once.
    let chapter_keys: Vec<&str> = stitched.chapters.iter().map(|c| c.key.as_str()).collect();
    let plan_hash = store.plan_hash(job_id).await?.unwrap_or_default();
    let texts_key = unchanged::texts_key(job, &plan_hash, &chapter_keys, &manifest);
    let texts = async {
        let mut written = Vec::new();
        match unchanged::current(&dir, &recorded, &texts_key) {
            Some(keep) => written.extend(keep),
            None => {
                texts::write_texts(&stitched.record, job, &manifest, &recorded, &mut written)
                    .await?;
                let names: Vec<String> = written.iter().map(|w| w.file.clone()).collect();
                unchanged::stamp(store, job_id, &dir, &names, &texts_key).await?;
            }
        }
        anyhow::Ok(written)
    };
    let (encoding, texts) = tokio::join!(encode_all(store, job, job_id, passes), texts);
    let (encoded, mut decoded) = encoding?;
    wanted.extend(texts?);
    decoded_earlier(store, job_id, &recorded, &lossy, &mut decoded).await?;
    wanted.push(targets::Wanted {
        file: unchanged::MANIFEST.to_string(),
    });
    files::remove_unwanted(store, job_id, &dir, &recorded, &wanted).await?;
    let samples = stitched.samples();
    let qa = qa_rows(stitched.qa, &manifest, &decoded, &job.master);
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

/// Encodes the audio files of the chapters in `stitched` that are not up
/// to date, and records each; returns how many it encoded. Nothing else:
/// no text files, no QA files, nothing removed. Chapters finished while
/// synthesis goes on are delivered this way; the finish's [`deliver`]
/// then finds their files up to date and writes the rest.
pub async fn deliver_audio(
    store: &Store,
    job: &Job,
    job_id: i64,
    stitched: &Stitched,
) -> Result<usize> {
    let dir = &job.output.dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating output dir {}", dir.display()))?;
    let recorded = store.deliveries(job_id).await?;
    let mut manifest = stitched.manifest.clone();
    let passes = out_of_date(
        dir,
        &recorded,
        targets::plan(job, stitched, &mut manifest)?.passes,
    );
    Ok(encode_all(store, job, job_id, passes).await?.0)
}

/// The passes with only their outputs that are not up to date; a pass
/// with none left is dropped.
fn out_of_date(
    dir: &std::path::Path,
    recorded: &HashMap<String, crate::store::Delivered>,
    passes: Vec<Pass>,
) -> Vec<Pass> {
    passes
        .into_iter()
        .filter_map(|mut pass| {
            pass.outputs
                .retain(|o| !files::up_to_date(dir, recorded, &o.path, &o.key));
            (!pass.outputs.is_empty()).then_some(pass)
        })
        .collect()
}

/// One QA row per delivered audio file: a lossy file's as decoded, a
/// FLAC or WAV file's the mastered stream's it holds sample for sample
/// (the book's computed from its chapters'). A chapter delivered only
/// inside the book file keeps its own row, "chapter N".
fn qa_rows(
    stitched: Vec<FileQa>,
    manifest: &report::Manifest,
    decoded: &HashMap<String, Measurement>,
    master: &Master,
) -> Vec<FileQa> {
    let mut rows = Vec::new();
    for row in stitched {
        let files = match row.role {
            Role::Book => &manifest.book_files,
            _ => match manifest
                .chapters
                .iter()
                .find(|c| format!("chapter {}", c.number) == row.file)
            {
                Some(chapter) => &chapter.files,
                None => {
                    rows.push(row.measured(Measured::Mastered));
                    continue;
                }
            },
        };
        if files.is_empty() {
            rows.push(row.measured(Measured::Mastered));
            continue;
        }
        for file in files {
            rows.push(match decoded.get(file) {
                Some(m) => FileQa::new(file.clone(), row.role, m.clone(), master)
                    .measured(Measured::Decoded),
                None => FileQa {
                    file: file.clone(),
                    ..row.clone()
                }
                .measured(Measured::Mastered),
            });
        }
    }
    rows
}

/// The decoded measurement of every lossy file this run did not encode:
/// as recorded, or (delivered by a version that did not measure it)
/// decoded and measured now, in parallel, and recorded.
async fn decoded_earlier(
    store: &Store,
    job_id: i64,
    recorded: &HashMap<String, crate::store::Delivered>,
    lossy: &[PathBuf],
    decoded: &mut HashMap<String, Measurement>,
) -> Result<()> {
    let mut missing = Vec::new();
    for path in lossy {
        let file = targets::file_name(path);
        if decoded.contains_key(&file) {
            continue;
        }
        let kept = recorded
            .get(&file)
            .and_then(|r| r.measurement.as_deref())
            .and_then(|json| serde_json::from_str::<Measurement>(json).ok());
        match kept {
            Some(m) => {
                decoded.insert(file, m);
            }
            None => missing.push((file, path.clone())),
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let measured = tokio::task::spawn_blocking(move || {
        crate::workers::install(move || {
            missing
                .into_par_iter()
                .map(|(file, path)| Ok((file, measure_file(&path)?)))
                .collect::<Result<Vec<_>>>()
        })
    })
    .await
    .context("measuring the delivered files stopped")??;
    for (file, m) in measured {
        let json = serde_json::to_string(&m).context("describing a measurement")?;
        store
            .set_delivered_measurement(job_id, &file, &json)
            .await?;
        decoded.insert(file, m);
    }
    Ok(())
}

/// Runs every pass on the workers' pool (inside `spawn_blocking`), the longest
/// first; records each file that was finished, so after a failure or a
/// kill a rerun does not encode it again. Returns how many files were
/// encoded and the lossy ones' measurements as decoded.
async fn encode_all(
    store: &Store,
    job: &Job,
    job_id: i64,
    mut passes: Vec<Pass>,
) -> Result<(usize, HashMap<String, Measurement>)> {
    let mut decoded = HashMap::new();
    if passes.is_empty() {
        return Ok((0, decoded));
    }
    passes.sort_by_key(|p| std::cmp::Reverse(p.samples()));
    let rate = job.audio.sample_rate;
    let delivery = job.output.delivery.clone();
    let master = job.master;
    let (passes, results) = tokio::task::spawn_blocking(move || {
        let results: Vec<Result<Vec<Written>>> = crate::workers::install(|| {
            passes
                .par_iter()
                .with_max_len(1)
                .map(|pass| pass.run(&delivery, rate, &master))
                .collect()
        });
        (passes, results)
    })
    .await
    .context("the encoders stopped")?;
    let mut encoded = 0;
    let mut first_error = None;
    for (pass, result) in passes.iter().zip(results) {
        match result {
            Ok(written) => {
                for (output, written) in pass.outputs.iter().zip(written) {
                    let file = targets::file_name(&output.path);
                    let json = written
                        .decoded
                        .as_ref()
                        .map(serde_json::to_string)
                        .transpose()
                        .context("describing a measurement")?;
                    store
                        .set_delivered(job_id, &file, &output.key, written.bytes, json.as_deref())
                        .await?;
                    if let Some(m) = written.decoded {
                        decoded.insert(file, m);
                    }
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
        None => Ok((encoded, decoded)),
    }
}
