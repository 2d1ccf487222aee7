//! The text files beside the audio: subtitles for every delivered audio
//! stem, `proof.csv` and `manifest.json`, written a chapter at a time
//! (each chapter's segments read back from the state database when its
//! turn comes), so a run never holds a book's segments.
//!
//! A file is replaced only when its bytes change. The first pass writes
//! the chapter files that changed and only digests the book-wide ones; a
//! second pass writes the book-wide ones that differ from what is on disk
//! (a finished book's manifest, every night, is then not rewritten).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use super::files::up_to_date;
use super::proof::{Heard, Sheet};
use super::subtitles::{self, Header, Stream};
use super::targets::Wanted;
use super::unchanged::MANIFEST;
use crate::atomic::AtomicFile;
use crate::job::Job;
use crate::report::{self, ChapterEntry, Manifest};
use crate::stitch::record::Record;
use crate::store::Delivered;

/// Writes the subtitles, the proof sheet and the manifest; adds the files
/// it keeps to `wanted` (the manifest is not a delivered file: it is
/// always there).
pub async fn write_texts(
    record: &Record,
    job: &Job,
    manifest: &Manifest,
    recorded: &HashMap<String, Delivered>,
    wanted: &mut Vec<Wanted>,
) -> Result<()> {
    let texts = Texts {
        record: record.clone(),
        job: job.clone(),
        manifest: manifest.clone(),
        recorded: recorded.clone(),
    };
    let written = tokio::task::spawn_blocking(move || texts.write())
        .await
        .context("writing the text files stopped")??;
    let store = record.store();
    for file in written {
        if let Some((key, bytes)) = file.changed {
            store
                .set_delivered(record.job_id(), &file.name, &key, bytes, None)
                .await?;
        }
        wanted.push(Wanted { file: file.name });
    }
    Ok(())
}

struct Texts {
    record: Record,
    job: Job,
    manifest: Manifest,
    recorded: HashMap<String, Delivered>,
}

/// A delivered text file, and its new key and size when it was written.
struct TextFile {
    name: String,
    changed: Option<(String, u64)>,
}

/// Bytes counted and digested as they pass.
struct Digesting {
    hash: Sha256,
    bytes: u64,
}

impl Write for Digesting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.hash.update(buf);
        self.bytes += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Digesting {
    fn new() -> Self {
        Digesting {
            hash: Sha256::new(),
            bytes: 0,
        }
    }

    fn key(self) -> (String, u64) {
        (format!("{:x}", self.hash.finalize()), self.bytes)
    }
}

/// A book-wide file's writer in one pass: digesting, writing, or neither.
enum Sink {
    Digest(Digesting),
    File(
        Box<(AtomicFile, std::io::BufWriter<std::fs::File>)>,
        Digesting,
    ),
    Skip,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Digest(d) => d.write(buf),
            Sink::File(file, d) => {
                file.1.write_all(buf)?;
                d.write(buf)
            }
            Sink::Skip => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::File(file, _) => file.1.flush(),
            _ => Ok(()),
        }
    }
}

impl Sink {
    fn create(path: &Path) -> Result<Sink> {
        let (atomic, file) =
            AtomicFile::create(path).with_context(|| format!("writing {}", path.display()))?;
        let out = std::io::BufWriter::with_capacity(256 * 1024, file);
        Ok(Sink::File(Box::new((atomic, out)), Digesting::new()))
    }

    /// The file committed (if one was written); the content's key.
    fn finish(self, path: &Path) -> Result<Option<(String, u64)>> {
        match self {
            Sink::Digest(d) => Ok(Some(d.key())),
            Sink::File(file, d) => {
                let (atomic, out) = *file;
                let file = out
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| format!("writing {}", path.display()))?;
                atomic
                    .commit(&file)
                    .with_context(|| format!("writing {}", path.display()))?;
                Ok(Some(d.key()))
            }
            Sink::Skip => Ok(None),
        }
    }
}

/// The book-wide files of one pass, fed a chapter at a time.
struct BookFiles {
    /// The whole-book file's subtitles (when there is a book file).
    subtitles: Vec<(Stream, Sink)>,
    proof: Sheet<Sink>,
}

impl Texts {
    fn dir(&self) -> &Path {
        &self.job.output.dir
    }

    fn header<'a>(&'a self, title: &'a str) -> Header<'a> {
        // LRC's `[ti:]` is the file's own title, as in its audio's tags:
        // the chapter's in a chapter file, the book's in the book file.
        let job = &self.job;
        Header {
            title,
            artist: job.book.author.as_deref().unwrap_or(&job.book.narrator),
            album: &job.book.title,
        }
    }

    /// The book-wide text files: subtitles of the book file, the proof
    /// sheet, and the manifest (last).
    fn book_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = match self.manifest.book_files.first() {
            Some(book) => self
                .job
                .output
                .delivery
                .subtitles
                .iter()
                .map(|f| self.dir().join(format!("{}.{}", stem(book), f.extension())))
                .collect(),
            None => Vec::new(),
        };
        files.push(self.dir().join("proof.csv"));
        files.push(self.dir().join(MANIFEST));
        files
    }

    fn write(&self) -> Result<Vec<TextFile>> {
        let paths = self.book_files();
        let mut written = Vec::new();
        // First pass: chapter subtitles written where they changed, the
        // book-wide files digested.
        let digests = self.pass(
            paths.iter().map(|_| Ok(Sink::Digest(Digesting::new()))),
            Some(&mut written),
        )?;
        let changed: Vec<bool> = paths
            .iter()
            .zip(&digests)
            .map(|(path, digest)| {
                let (key, _) = digest.as_ref().expect("a digest per file");
                !self.on_disk(path, key)
            })
            .collect();
        // Second pass, only when a book-wide file differs.
        let rewritten = if changed.contains(&true) {
            self.pass(
                paths.iter().zip(&changed).map(|(path, &changed)| {
                    if changed {
                        Sink::create(path)
                    } else {
                        Ok(Sink::Skip)
                    }
                }),
                None,
            )?
        } else {
            vec![None; paths.len()]
        };
        // The manifest is last and is not a delivered file.
        for (path, key) in paths.iter().zip(rewritten).take(paths.len() - 1) {
            written.push(TextFile {
                name: super::targets::file_name(path),
                changed: key,
            });
        }
        Ok(written)
    }

    /// The file is on disk as `key` says: for a delivered file, recorded
    /// with this key at its size; for the manifest, its bytes.
    fn on_disk(&self, path: &Path, key: &str) -> bool {
        if path.file_name().is_some_and(|n| n == MANIFEST) {
            return file_digest(path).is_some_and(|k| k == key);
        }
        up_to_date(self.dir(), &self.recorded, path, key)
    }

    /// One pass over the chapters, feeding the book-wide files' `sinks`
    /// (in [`Self::book_files`]' order); with `chapter_files`, writes each
    /// chapter's subtitles that changed and lists them there. Returns the
    /// book-wide files' keys.
    fn pass(
        &self,
        sinks: impl Iterator<Item = Result<Sink>>,
        mut chapter_files: Option<&mut Vec<TextFile>>,
    ) -> Result<Vec<Option<(String, u64)>>> {
        let mut sinks = sinks.collect::<Result<Vec<_>>>()?;
        let manifest = sinks.pop().expect("the manifest's sink");
        let proof = sinks.pop().expect("the proof sheet's sink");
        let formats = &self.job.output.delivery.subtitles;
        let book_title = &self.job.book.title;
        let mut files = BookFiles {
            subtitles: formats
                .iter()
                .zip(sinks)
                .map(|(&format, mut sink)| {
                    let stream = Stream::new(format);
                    sink.write_all(stream.head(&self.header(book_title)).as_bytes())?;
                    Ok((stream, sink))
                })
                .collect::<Result<_>>()?,
            proof: Sheet::new(proof, &self.job.voice.voice)?,
        };
        let mut manifest_sink = manifest;
        let mut add = |i: usize| -> Result<ChapterEntry> {
            let header = &self.manifest.chapters[i];
            let entry = self.record.entry(header)?;
            if let Some(list) = chapter_files.as_deref_mut() {
                self.chapter_subtitles(&entry, list)?;
            }
            self.book_chapter(&mut files, &entry)?;
            Ok(entry)
        };
        report::manifest_json(&mut manifest_sink, &self.manifest, &mut add)
            .context("writing manifest.json")?;
        let mut paths = self.book_files().into_iter();
        let mut keys = Vec::new();
        for (_, sink) in files.subtitles {
            keys.push(sink.finish(&paths.next().expect("a path per file"))?);
        }
        let proof = files.proof.finish()?;
        keys.push(proof.finish(&paths.next().expect("the proof sheet's path"))?);
        keys.push(manifest_sink.finish(&paths.next().expect("the manifest's path"))?);
        Ok(keys)
    }

    /// A chapter's own subtitle files (when it has its own audio file),
    /// written when their bytes changed.
    fn chapter_subtitles(&self, entry: &ChapterEntry, list: &mut Vec<TextFile>) -> Result<()> {
        let Some(audio) = entry.files.first() else {
            return Ok(());
        };
        let cues = subtitles::cues([(entry, 0.0)]);
        for &format in &self.job.output.delivery.subtitles {
            let name = format!("{}.{}", stem(audio), format.extension());
            let bytes = subtitles::render(format, &cues, &self.header(&entry.title)).into_bytes();
            let key = format!("{:x}", Sha256::digest(&bytes));
            let path = self.dir().join(&name);
            let changed = if up_to_date(self.dir(), &self.recorded, &path, &key) {
                None
            } else {
                crate::atomic::write_atomic(&path, &bytes)
                    .with_context(|| format!("writing {}", path.display()))?;
                Some((key, bytes.len() as u64))
            };
            list.push(TextFile { name, changed });
        }
        Ok(())
    }

    /// A chapter's part of the book's subtitles and of the proof sheet.
    fn book_chapter(&self, files: &mut BookFiles, entry: &ChapterEntry) -> Result<()> {
        let book = self.manifest.book_files.first();
        if book.is_some() {
            let cues = subtitles::cues([(entry, entry.book_start_secs)]);
            for (stream, sink) in &mut files.subtitles {
                sink.write_all(stream.cues(&cues).as_bytes())?;
            }
        }
        let heard = match (entry.files.first(), book) {
            (Some(file), _) => Some(Heard {
                file,
                offset_secs: 0.0,
            }),
            (None, Some(book)) => Some(Heard {
                file: book,
                offset_secs: entry.book_start_secs,
            }),
            (None, None) => None,
        };
        files.proof.add(entry, heard)
    }
}

/// The SHA-256 of a file's bytes, or `None` when it cannot be read.
fn file_digest(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut digest = Digesting::new();
    std::io::copy(&mut file, &mut digest).ok()?;
    Some(digest.key().0)
}

fn stem(file: &str) -> &str {
    file.rsplit_once('.').map_or(file, |(stem, _)| stem)
}
