//! The clip cache: finished clips stored under their content key (see
//! [`crate::plan::ContentKey`]), written atomically, recorded with their
//! SHA-256, size and modification time. New clips are FLAC (lossless);
//! WAV clips written by earlier versions are still read, under the same
//! keys, so nothing is rendered again. [`ClipReader`] reads either, and is
//! the one way to read a clip's samples. A clip whose size and modification
//! time are as recorded is taken as it is; only a changed one is hashed.

mod clip_file;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};

use crate::atomic::{Published, annotate, write_atomic, write_new};
use crate::provider::{Clip, WordTiming};
pub use clip_file::{ClipError, ClipReader};

/// The clip store under one workspace cache folder.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    clips: PathBuf,
}

/// What the store recorded about a clip it wrote: what the database keeps
/// for it (`Store::mark_done`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredClip {
    /// Lowercase hex SHA-256 of the clip file's bytes.
    pub sha256: String,
    pub samples: u64,
    pub sample_rate: u32,
    /// The clip's word timings. The file cannot hold them, so they live
    /// only in the database; carried here so they reach it with the clip.
    pub words: Vec<WordTiming>,
    /// The file's size and modification time when it was hashed.
    pub stamp: Option<FileStamp>,
}

/// A file's size and modification time: equal stamps mean the file was not
/// changed since it was hashed, so it need not be read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub size: u64,
    /// Nanoseconds since the Unix epoch.
    pub modified_ns: i64,
}

impl FileStamp {
    pub fn of(meta: &fs::Metadata) -> Option<FileStamp> {
        let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
        Some(FileStamp {
            size: meta.len(),
            modified_ns: i64::try_from(modified.as_nanos()).ok()?,
        })
    }
}

/// What [`Cache::check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClipCheck {
    /// Size and modification time as recorded: not read.
    Unchanged,
    /// Changed on disk (or never stamped) but its bytes hash as recorded:
    /// record this stamp.
    Verified(FileStamp),
    Missing,
    Corrupt,
}

/// The file extensions of clips, newest format first.
const FORMATS: [&str; 2] = ["flac", "wav"];

impl Cache {
    /// Opens (creating if needed) the cache at `root`; clips live in `root/clips`.
    pub fn open(root: &Path) -> io::Result<Cache> {
        let clips = root.join("clips");
        fs::create_dir_all(&clips)
            .map_err(|e| annotate(e, &format!("creating {}", clips.display())))?;
        remove_orphaned_temps_under(&clips);
        Ok(Cache {
            root: root.to_path_buf(),
            clips,
        })
    }

    /// The cache at `root` for looking only: creates nothing (`plan`).
    pub fn at(root: &Path) -> Cache {
        Cache {
            root: root.to_path_buf(),
            clips: root.join("clips"),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `root/clips/<first two key chars>/<key>.<format>`: the fan-out keeps
    /// any one folder small for books with tens of thousands of segments.
    fn path_as(&self, key: &str, format: &str) -> PathBuf {
        let shard = key.get(..2).unwrap_or(key);
        self.clips.join(shard).join(format!("{key}.{format}"))
    }

    /// The clip file of `key`: the FLAC file, or an older WAV one when only
    /// that exists; where a new clip goes when there is neither.
    pub fn clip_path(&self, key: &str) -> PathBuf {
        FORMATS
            .iter()
            .map(|format| self.path_as(key, format))
            .find(|p| p.is_file())
            .unwrap_or_else(|| self.path_as(key, FORMATS[0]))
    }

    /// Opens the clip of `key` for reading, whatever its format.
    pub fn open_clip(&self, key: &str) -> Result<ClipReader, ClipError> {
        ClipReader::open(&self.clip_path(key))
    }

    /// Writes `clip` as FLAC under `key`, atomically (an older WAV clip of
    /// the key is removed after), and returns what the database records of
    /// it. A readable FLAC clip already stored under `key` by another
    /// writer is kept, and described instead (without word timings: the
    /// database keeps the ones recorded with it); an unreadable one is
    /// replaced.
    pub fn put(&self, key: &str, clip: &Clip) -> io::Result<StoredClip> {
        let path = self.path_as(key, FORMATS[0]);
        let bytes = clip_file::encode_flac(clip)
            .map_err(|e| annotate(e, &format!("encoding {}", path.display())))?;
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)
                .map_err(|e| annotate(e, &format!("creating {}", dir.display())))?;
        }
        if write_new(&path, &bytes)? == Published::Exists {
            // Another writer stored this key first: a book of the same
            // `render` that requested the same sentence at the same time.
            // Its clip stays (it may be being stitched, and a cloud voice's
            // second answer can differ from the first), unless it cannot be
            // read: then this one replaces it.
            if let Some(existing) = self.adopt(key)? {
                return Ok(existing);
            }
            write_atomic(&path, &bytes)?;
        }
        let old = self.path_as(key, "wav");
        match fs::remove_file(&old) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(annotate(e, &format!("removing {}", old.display())));
            }
            _ => {}
        }
        let stamp = fs::metadata(&path).ok().as_ref().and_then(FileStamp::of);
        Ok(StoredClip {
            sha256: hex_sha256(&bytes),
            samples: clip.samples.len() as u64,
            sample_rate: clip.sample_rate,
            words: clip.words.clone(),
            stamp,
        })
    }

    /// Whether the clip of `key` is still the one recorded with `sha256`:
    /// by size and modification time when `stamp` is given and matches,
    /// else by hashing its bytes.
    pub fn check(
        &self,
        key: &str,
        sha256: &str,
        stamp: Option<FileStamp>,
    ) -> io::Result<ClipCheck> {
        // One `stat` per clip (not `clip_path`'s and then another): a
        // render with nothing to do makes one for every clip of the book.
        let mut found = None;
        for format in FORMATS {
            let path = self.path_as(key, format);
            match fs::metadata(&path) {
                Ok(meta) if meta.is_file() => {
                    found = Some((path, meta));
                    break;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(annotate(e, &format!("reading {}", path.display()))),
            }
        }
        let Some((path, meta)) = found else {
            return Ok(ClipCheck::Missing);
        };
        let now = FileStamp::of(&meta);
        if stamp.is_some() && now == stamp {
            return Ok(ClipCheck::Unchanged);
        }
        if self.verify_path(&path, sha256)? {
            Ok(now.map_or(ClipCheck::Unchanged, ClipCheck::Verified))
        } else {
            Ok(ClipCheck::Corrupt)
        }
    }

    /// True when the clip file exists and its bytes hash to `expected_sha256`.
    pub fn verify(&self, key: &str, expected_sha256: &str) -> io::Result<bool> {
        self.verify_path(&self.clip_path(key), expected_sha256)
    }

    fn verify_path(&self, path: &Path, expected_sha256: &str) -> io::Result<bool> {
        match fs::read(path) {
            Ok(bytes) => Ok(hex_sha256(&bytes).eq_ignore_ascii_case(expected_sha256)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(annotate(e, &format!("reading {}", path.display()))),
        }
    }

    /// A clip already on disk that the database does not know of: a run
    /// killed between the clip's rename and the database commit leaves one.
    /// Returns its description when it is a complete, valid clip, so it can
    /// be recorded instead of synthesized again; `None` when it is missing or
    /// unreadable (it will then be overwritten).
    pub fn adopt(&self, key: &str) -> io::Result<Option<StoredClip>> {
        let path = self.clip_path(key);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(annotate(e, &format!("reading {}", path.display()))),
        };
        let Ok(reader) = ClipReader::open(&path) else {
            return Ok(None);
        };
        let (sample_rate, samples) = (reader.sample_rate(), reader.samples());
        if reader.read_to_end().is_err() {
            return Ok(None);
        }
        let stamp = fs::metadata(&path).ok().as_ref().and_then(FileStamp::of);
        Ok(Some(StoredClip {
            sha256: hex_sha256(&bytes),
            samples,
            sample_rate,
            // The file holds no timings; they died with the run that wrote it.
            words: Vec::new(),
            stamp,
        }))
    }

    /// Reads a stored clip back, whole.
    pub fn load(&self, key: &str) -> io::Result<Clip> {
        self.open_clip(key)
            .and_then(ClipReader::into_clip)
            .map_err(|e| match e {
                ClipError::Io { path, source } => {
                    annotate(source, &format!("reading {}", path.display()))
                }
                other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
            })
    }
}

/// Clears the half-written clips killed runs left in the shard folders.
/// Best effort: a file that cannot be removed is only untidy.
fn remove_orphaned_temps_under(clips: &Path) {
    let Ok(shards) = fs::read_dir(clips) else {
        return;
    };
    let mut removed = 0;
    for shard in shards.flatten().filter(|s| s.path().is_dir()) {
        match crate::atomic::remove_orphaned_temps(&shard.path()) {
            Ok(n) => removed += n,
            Err(e) => tracing::warn!("cleaning the cache: {e}"),
        }
    }
    if removed > 0 {
        tracing::info!(removed, "removed half-written clips left by killed runs");
    }
}

/// How many clip files the cache at `root` holds, without creating or
/// changing anything (a missing folder holds none).
pub fn count_clips(root: &Path) -> usize {
    let Ok(shards) = fs::read_dir(root.join("clips")) else {
        return 0;
    };
    shards
        .flatten()
        .filter_map(|shard| fs::read_dir(shard.path()).ok())
        .flat_map(|files| files.flatten())
        .filter(|f| {
            f.path()
                .extension()
                .is_some_and(|e| FORMATS.iter().any(|format| e == *format))
        })
        .count()
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests;
