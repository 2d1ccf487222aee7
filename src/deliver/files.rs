//! The delivery folder's bookkeeping: whether a recorded file is still
//! there as it was written, the text files written beside the audio
//! (subtitles and `proof.csv`, rewritten only when their bytes change),
//! and removing what this stage delivered before and no longer wants, and
//! what earlier versions of the program left (`chapter-NNN.wav`,
//! `book.wav`, the hidden `.book.key`).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use super::proof::{self, Heard};
use super::subtitles::{self, Header};
use super::targets::{Wanted, file_name};
use crate::cache::FileStamp;
use crate::job::Job;
use crate::report::Manifest;
use crate::store::{Delivered, Store};

/// The file is recorded with this key and is on disk at its recorded size.
pub fn up_to_date(
    dir: &Path,
    recorded: &HashMap<String, Delivered>,
    path: &Path,
    key: &str,
) -> bool {
    let file = file_name(path);
    recorded.get(&file).is_some_and(|r| {
        r.key == key && std::fs::metadata(dir.join(&file)).is_ok_and(|m| m.len() == r.bytes)
    })
}

/// A text file is recorded with this key and is on disk as it was written:
/// at its recorded size and modification time (one recorded before times
/// were kept: at its size).
pub fn text_up_to_date(
    dir: &Path,
    recorded: &HashMap<String, Delivered>,
    file: &str,
    key: &str,
) -> bool {
    match recorded.get(file) {
        Some(r) if r.modified_ns.is_some() => {
            r.key == key
                && std::fs::metadata(dir.join(file))
                    .ok()
                    .and_then(|m| FileStamp::of(&m))
                    .is_some_and(|s| s.size == r.bytes && Some(s.modified_ns) == r.modified_ns)
        }
        _ => up_to_date(dir, recorded, &dir.join(file), key),
    }
}

/// Records a text file as it is on disk now, made from `key`.
pub async fn record_text(
    store: &Store,
    job_id: i64,
    dir: &Path,
    file: &str,
    key: &str,
) -> Result<()> {
    let path = dir.join(file);
    let meta = std::fs::metadata(&path).with_context(|| format!("reading {}", path.display()))?;
    if let Some(stamp) = FileStamp::of(&meta) {
        store.set_delivered_text(job_id, file, key, stamp).await?;
    }
    Ok(())
}

/// Subtitles for every delivered audio stem and (`proof`) the proof sheet;
/// without `proof`, the sheet on disk is up to date and is kept.
pub async fn write_texts(
    store: &Store,
    job: &Job,
    job_id: i64,
    manifest: &Manifest,
    recorded: &HashMap<String, Delivered>,
    wanted: &mut Vec<Wanted>,
    proof: bool,
) -> Result<()> {
    let dir = &job.output.dir;
    // LRC's `[ti:]` is the file's own title, as in its audio's tags: the
    // chapter's in a chapter file, the book's in the book file.
    let artist = job.book.author.as_deref().unwrap_or(&job.book.narrator);
    let header = |title| Header {
        title,
        artist,
        album: &job.book.title,
    };
    let mut texts: Vec<(String, Vec<u8>)> = Vec::new();
    let subtitle_formats = &job.output.delivery.subtitles;
    for chapter in manifest.chapters.iter().filter(|c| !c.files.is_empty()) {
        let cues = subtitles::cues([(chapter, 0.0)]);
        for &format in subtitle_formats {
            let stem = stem(&chapter.files[0]);
            let text = subtitles::render(format, &cues, &header(&chapter.title));
            texts.push((format!("{stem}.{}", format.extension()), text.into_bytes()));
        }
    }
    if let Some(book) = manifest.book_files.first() {
        let cues = subtitles::cues(manifest.chapters.iter().map(|c| (c, c.book_start_secs)));
        for &format in subtitle_formats {
            let text = subtitles::render(format, &cues, &header(&job.book.title));
            texts.push((
                format!("{}.{}", stem(book), format.extension()),
                text.into_bytes(),
            ));
        }
    }
    if !proof {
        wanted.push(Wanted {
            file: PROOF.to_string(),
        });
    }
    let heard: Vec<_> = manifest
        .chapters
        .iter()
        .map(|c| match (c.files.first(), manifest.book_files.first()) {
            (Some(file), _) => (
                c,
                Some(Heard {
                    file,
                    offset_secs: 0.0,
                }),
            ),
            (None, Some(book)) => (
                c,
                Some(Heard {
                    file: book,
                    offset_secs: c.book_start_secs,
                }),
            ),
            (None, None) => (c, None),
        })
        .collect();
    if proof {
        texts.push((PROOF.to_string(), proof::sheet(&heard, &job.voice.voice)?));
    }
    for (file, bytes) in texts {
        let key = format!("{:x}", Sha256::digest(&bytes));
        let path = dir.join(&file);
        let current = text_up_to_date(dir, recorded, &file, &key);
        if !current {
            crate::atomic::write_atomic(&path, &bytes)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        if !current || recorded.get(&file).is_some_and(|r| r.modified_ns.is_none()) {
            record_text(store, job_id, dir, &file, &key).await?;
        }
        wanted.push(Wanted { file });
    }
    Ok(())
}

/// The manifest's name in the output folder.
pub const MANIFEST: &str = "manifest.json";

/// The version of what `manifest.json` and `proof.csv` hold and how they
/// are written: bumped when a change to either changes their bytes, so
/// every folder gets them written again.
const TEXTS_VERSION: u32 = 1;

/// Everything `manifest.json` and `proof.csv` are made from, without their
/// segments: the plan (by its hash: every segment's text, paragraph and
/// content key, every chapter's title), each complete chapter's stitch key
/// (its clips and their checksums, pauses, layout and length), what the
/// manifest says of the book and of each chapter (files, place in the
/// book), and the voice named in the sheet. Equal keys mean equal files.
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

/// Whether `manifest.json` and `proof.csv` are on disk as written from
/// `key`: each at its recorded size and modification time.
pub fn texts_current(dir: &Path, recorded: &HashMap<String, Delivered>, key: &str) -> bool {
    let stamped = |file: &str| recorded.get(file).is_some_and(|r| r.modified_ns.is_some());
    stamped(MANIFEST)
        && stamped(PROOF)
        && text_up_to_date(dir, recorded, MANIFEST, key)
        && text_up_to_date(dir, recorded, PROOF, &recorded[PROOF].key)
}

/// The proof sheet's name in the output folder.
pub const PROOF: &str = "proof.csv";

fn stem(file: &str) -> &str {
    file.rsplit_once('.').map_or(file, |(stem, _)| stem)
}

/// Removes files delivered earlier that are no longer wanted (a format
/// dropped, a chapter renamed or now incomplete).
pub async fn remove_unwanted(
    store: &Store,
    job_id: i64,
    dir: &Path,
    recorded: &HashMap<String, Delivered>,
    wanted: &[Wanted],
) -> Result<()> {
    let keep: HashSet<&str> = wanted.iter().map(|w| w.file.as_str()).collect();
    for file in recorded.keys().filter(|f| !keep.contains(f.as_str())) {
        let path = dir.join(file);
        match std::fs::remove_file(&path) {
            Ok(()) => tracing::info!("removed {}: no longer delivered", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
        }
        store.forget_delivered(job_id, file).await?;
    }
    Ok(())
}

/// What versions before the delivery stage wrote into the folder.
pub fn remove_legacy(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let legacy = name == "book.wav"
            || name == ".book.key"
            || name
                .strip_prefix("chapter-")
                .and_then(|n| n.strip_suffix(".wav"))
                .is_some_and(|n| n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit()));
        if legacy {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("removing {}", entry.path().display()))?;
            tracing::info!(
                "removed {}: written by an earlier version; see [output] formats",
                entry.path().display()
            );
        }
    }
    Ok(())
}
