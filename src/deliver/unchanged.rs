//! Whether the text files beside the audio (`manifest.json`, `proof.csv`,
//! subtitles) can be left as they are without being built: a render with
//! nothing to do would otherwise read every segment back and serialize
//! the whole manifest only to find it equal. The manifest is recorded
//! among the deliveries with a key of everything the text files are made
//! from ([`texts_key`]); every text file with its size and modification
//! time as written. Equal key and every file as written: nothing is built.
//! A file deleted or edited by hand (another time) has them all built
//! again, and those that differ written.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use super::targets::Wanted;
use crate::cache::FileStamp;
use crate::job::Job;
use crate::report::Manifest;
use crate::store::{Delivered, Store};

/// The manifest's name in the output folder.
pub const MANIFEST: &str = "manifest.json";

/// The version of what the text files hold and how they are written:
/// bumped when a change to any of them changes their bytes, so every
/// folder gets them built again.
const TEXTS_VERSION: u32 = 1;

/// Everything the text files are made from, without their segments: the
/// plan (by its hash: every segment's text, paragraph and content key,
/// every chapter's title), each complete chapter's stitch key (its clips
/// and their checksums, pauses, layout and length), what the manifest says
/// of the book and of each chapter (files, place in the book), the voice
/// named in the proof sheet and the subtitles' formats and header. Equal
/// keys mean equal files. (A clip's word timings are taken to change only
/// with its checksum: a provider that sent other timings with the same
/// bytes would not have them shown until the chapter changes.)
pub fn texts_key(job: &Job, plan_hash: &str, chapter_keys: &[&str], manifest: &Manifest) -> String {
    let mut hash = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    field(format!("texts v{TEXTS_VERSION}").as_bytes());
    field(plan_hash.as_bytes());
    field(job.voice.voice.as_bytes());
    field(
        format!(
            "{:?}|{:?}|{:?}|{:?}",
            job.output.delivery.subtitles, job.book.author, job.book.narrator, job.book.title
        )
        .as_bytes(),
    );
    field(
        format!(
            "{:?}|{:?}|{:?}|{}|{:?}|{}|{:?}",
            manifest.title,
            manifest.author,
            manifest.language,
            manifest.sample_rate,
            manifest.book_files,
            manifest.samples,
            manifest.incomplete_chapters
        )
        .as_bytes(),
    );
    field(&(manifest.chapters.len() as u64).to_le_bytes());
    for (chapter, key) in manifest.chapters.iter().zip(chapter_keys) {
        field(
            format!(
                "{}|{:?}|{:?}|{}|{}|{key}",
                chapter.number,
                chapter.title,
                chapter.files,
                chapter.samples,
                chapter.book_start_sample
            )
            .as_bytes(),
        );
    }
    format!("{:x}", hash.finalize())
}

/// The text files to keep, when the manifest is recorded with `key` and
/// every text file is on disk as written; `None` when they are to be built.
pub fn current(
    dir: &Path,
    recorded: &HashMap<String, Delivered>,
    key: &str,
) -> Option<Vec<Wanted>> {
    let manifest = recorded.get(MANIFEST)?;
    if manifest.key != key {
        return None;
    }
    let mut keep = Vec::new();
    for (file, r) in recorded {
        let Some(modified_ns) = r.modified_ns else {
            continue;
        };
        let on_disk = std::fs::metadata(dir.join(file))
            .ok()
            .and_then(|m| FileStamp::of(&m));
        if on_disk
            != Some(FileStamp {
                size: r.bytes,
                modified_ns,
            })
        {
            return None;
        }
        if file != MANIFEST {
            keep.push(Wanted { file: file.clone() });
        }
    }
    // A manifest recorded without its time was never stamped: build.
    manifest.modified_ns.map(|_| keep)
}

/// Records every text file just built (`files`, with the keys the
/// deliveries now hold) and the manifest (with `key`) as they are on disk.
pub async fn stamp(
    store: &Store,
    job_id: i64,
    dir: &Path,
    files: &[String],
    key: &str,
) -> Result<()> {
    let recorded = store.deliveries(job_id).await?;
    for file in files {
        if let Some(r) = recorded.get(file) {
            stamp_one(store, job_id, dir, file, &r.key).await?;
        }
    }
    stamp_one(store, job_id, dir, MANIFEST, key).await
}

async fn stamp_one(store: &Store, job_id: i64, dir: &Path, file: &str, key: &str) -> Result<()> {
    let path = dir.join(file);
    let meta = std::fs::metadata(&path).with_context(|| format!("reading {}", path.display()))?;
    if let Some(stamp) = FileStamp::of(&meta) {
        store.set_delivered_text(job_id, file, key, stamp).await?;
    }
    Ok(())
}
