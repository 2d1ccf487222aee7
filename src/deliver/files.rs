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

/// Subtitles for every delivered audio stem and the proof sheet.
pub async fn write_texts(
    store: &Store,
    job: &Job,
    job_id: i64,
    manifest: &Manifest,
    recorded: &HashMap<String, Delivered>,
    wanted: &mut Vec<Wanted>,
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
    let sheet = proof::sheet(&heard, &job.voice.voice)?;
    texts.push(("proof.csv".to_string(), sheet));
    for (file, bytes) in texts {
        let key = format!("{:x}", Sha256::digest(&bytes));
        let path = dir.join(&file);
        if !up_to_date(dir, recorded, &path, &key) {
            crate::atomic::write_atomic(&path, &bytes)
                .with_context(|| format!("writing {}", path.display()))?;
            store
                .set_delivered(job_id, &file, &key, bytes.len() as u64, None)
                .await?;
        }
        wanted.push(Wanted { file });
    }
    Ok(())
}

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
