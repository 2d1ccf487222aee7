//! Crash-safe file replacement, the one way this program replaces a file
//! (clips, chapter and book files, manifest and report): a file is written
//! under a temporary name beside its target, flushed to disk, renamed over
//! the target and the directory synced, so a reader sees either the old file
//! or the whole new one, never a torn write. A clip is linked into place
//! instead, only where no file is ([`AtomicFile::commit_new`]): of two
//! writers of one name the first wins. The temporary names carry the
//! writer's pid, so [`remove_orphaned_temps`] can tell a dead run's leftovers
//! (a folder built under such a name and renamed into place, like the
//! engine's data, is swept the same way).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// What [`AtomicFile::commit_new`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Published {
    /// The file is the target now.
    New,
    /// A target was already there and is left as it was; this file is gone.
    Exists,
}

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
    /// Where the file is being written, for a writer that needs a path
    /// (an external program); commit it like any other.
    pub(crate) fn temp_path(&self) -> &Path {
        &self.temp
    }

    pub(crate) fn commit(mut self, file: &File) -> io::Result<()> {
        file.sync_all()
            .map_err(|e| annotate(e, &format!("syncing {}", self.temp.display())))?;
        fs::rename(&self.temp, &self.target)
            .map_err(|e| annotate(e, &format!("renaming into {}", self.target.display())))?;
        self.committed = true;
        sync_parent_dir(&self.target)
    }

    /// Like [`commit`](AtomicFile::commit), but never replaces a target that
    /// is already there: the file is linked to the target's name, which
    /// fails atomically when the name exists, so of two writers racing for
    /// one name the first wins and the second learns it. On a filesystem
    /// without hard links, the check and the rename are two steps.
    pub(crate) fn commit_new(mut self, file: &File) -> io::Result<Published> {
        file.sync_all()
            .map_err(|e| annotate(e, &format!("syncing {}", self.temp.display())))?;
        match fs::hard_link(&self.temp, &self.target) {
            Ok(()) => {
                self.committed = true;
                // Best effort: a leftover temp name is swept by a later run.
                let _ = fs::remove_file(&self.temp);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(Published::Exists),
            Err(_) => {
                if fs::symlink_metadata(&self.target).is_ok() {
                    return Ok(Published::Exists);
                }
                fs::rename(&self.temp, &self.target).map_err(|e| {
                    annotate(e, &format!("renaming into {}", self.target.display()))
                })?;
                self.committed = true;
            }
        }
        sync_parent_dir(&self.target)?;
        Ok(Published::New)
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

/// `bytes` in a temporary file beside `target`, to be committed.
fn written_beside(target: &Path, bytes: &[u8]) -> io::Result<(AtomicFile, File)> {
    let (atomic, mut file) = AtomicFile::create(target)?;
    file.write_all(bytes)
        .map_err(|e| annotate(e, &format!("writing {}", target.display())))?;
    Ok((atomic, file))
}

/// Writes `bytes` as `target` atomically and durably, unless a `target` is
/// already there (see [`AtomicFile::commit_new`]).
pub(crate) fn write_new(target: &Path, bytes: &[u8]) -> io::Result<Published> {
    let (atomic, file) = written_beside(target, bytes)?;
    atomic.commit_new(&file)
}

/// Replaces `target` with `bytes` atomically and durably.
pub(crate) fn write_atomic(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let (atomic, file) = written_beside(target, bytes)?;
    atomic.commit(&file)
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

/// Removes the temporary files and folders in `dir` whose writer is gone (a
/// SIGKILL skips `Drop`, so a killed run leaves its half-written files
/// behind, and they would fill the disk over many runs). A live process's
/// file is left alone. Returns how many were removed.
pub(crate) fn remove_orphaned_temps(dir: &Path) -> io::Result<usize> {
    let mut removed = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_file_pid) else {
            continue;
        };
        if pid == std::process::id() || process_alive(i64::from(pid)) {
            continue;
        }
        let path = entry.path();
        // Not followed if it is a link: only what we made is removed.
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let result = if is_dir {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        match result {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(annotate(e, &format!("removing {}", path.display()))),
        }
    }
    Ok(removed)
}

/// The writer's pid in a name made by [`temp_path_beside`]: `.NAME.PID.N.tmp`.
fn temp_file_pid(name: &str) -> Option<u32> {
    let inner = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (rest, n) = inner.rsplit_once('.')?;
    n.parse::<u64>().ok()?;
    let (_, pid) = rest.rsplit_once('.')?;
    pid.parse().ok()
}

/// Whether process `pid` is alive. On Linux: its `/proc` entry exists and
/// is not a zombie. Elsewhere this cannot be told without a system call,
/// and it is taken to be alive (nothing is removed, nothing is called dead).
pub(crate) fn process_alive(pid: i64) -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // `pid (name) S ...`: the state follows the last parenthesis.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_files_of_dead_writers_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("abc.wav");
        let mine = temp_path_beside(&target);
        fs::write(&mine, b"live").unwrap();
        // No pid is this large on Linux (pid_max is at most 2^22).
        let dead = dir.path().join(".abc.wav.99999999.3.tmp");
        fs::write(&dead, b"orphan").unwrap();
        fs::write(&target, b"clip").unwrap();
        assert_eq!(temp_file_pid(".abc.wav.99999999.3.tmp"), Some(99_999_999));
        assert_eq!(temp_file_pid("abc.wav"), None);
        assert_eq!(remove_orphaned_temps(dir.path()).unwrap(), 1);
        assert!(mine.exists() && target.exists() && !dead.exists());
    }

    /// A folder built under a temp name (the engine's data install) by a
    /// writer that died is removed with what it holds; a live one is kept,
    /// and so is the finished folder.
    #[test]
    fn temp_folders_of_dead_writers_are_removed_with_their_contents() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("1.52");
        let mine = temp_path_beside(&target);
        fs::create_dir_all(mine.join("voices")).unwrap();
        let dead = dir.path().join(".1.52.99999999.0.tmp");
        fs::create_dir_all(dead.join("voices/en")).unwrap();
        fs::write(dead.join("voices/en/en"), b"half").unwrap();
        fs::write(dead.join("phontab"), b"half").unwrap();
        fs::create_dir_all(&target).unwrap();
        assert_eq!(remove_orphaned_temps(dir.path()).unwrap(), 1);
        assert!(!dead.exists());
        assert!(mine.is_dir() && target.is_dir());
    }
}
