//! Crash-safe file replacement shared by the clip cache and the stitcher: a
//! file is written under a temporary name beside its target, flushed to disk,
//! and renamed over the target, so a reader sees either the old file or the
//! whole new one, never a torn write.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// A temporary file beside `target` that becomes `target` on [`commit`].
/// Dropped without a commit, it removes itself.
///
/// [`commit`]: AtomicFile::commit
pub(crate) struct AtomicFile {
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl AtomicFile {
    /// Creates the temporary file and returns it with its handle.
    pub(crate) fn create(target: &Path) -> io::Result<(AtomicFile, File)> {
        let temp = temp_path_beside(target);
        let file = File::create(&temp)
            .map_err(|e| annotate(e, &format!("creating {}", temp.display())))?;
        let atomic = AtomicFile {
            temp,
            target: target.to_path_buf(),
            committed: false,
        };
        Ok((atomic, file))
    }

    /// Syncs `file` (the handle from [`AtomicFile::create`]), renames it over
    /// the target and syncs the directory so the rename itself survives a crash.
    pub(crate) fn commit(mut self, file: &File) -> io::Result<()> {
        file.sync_all()
            .map_err(|e| annotate(e, &format!("syncing {}", self.temp.display())))?;
        fs::rename(&self.temp, &self.target)
            .map_err(|e| annotate(e, &format!("renaming into {}", self.target.display())))?;
        self.committed = true;
        sync_parent_dir(&self.target)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: a leftover temp file is harmless, only untidy.
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// A hidden name in the target's directory, unique per process and call, so
/// concurrent writers never share a temp file.
pub(crate) fn temp_path_beside(target: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Makes a rename in `path`'s directory durable.
pub(crate) fn sync_parent_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| annotate(e, &format!("syncing directory {}", dir.display())))
}

/// Keeps the error kind and prefixes what was being done to which file.
pub(crate) fn annotate(e: io::Error, doing: &str) -> io::Error {
    io::Error::new(e.kind(), format!("{doing}: {e}"))
}
