//! The run lock: one `render` at a time per state database.
//!
//! An exclusive `flock` on `<db>.lock`, holding the owner's pid. The kernel
//! releases it when the owner exits in any way, SIGKILL included, so a lock
//! left by a killed process is simply taken over; the pid in the file only
//! serves the message naming who holds it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Held for as long as the value lives.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another audiobook run (pid {pid}) is using the state database {db}; wait for it to finish or stop it (lock file {lock})"
    )]
    Held {
        pid: String,
        db: String,
        lock: String,
    },
    #[error("cannot open the lock file {lock}: {source}")]
    Io {
        lock: String,
        source: std::io::Error,
    },
}

impl RunLock {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Takes the lock for `db`, or says who holds it.
    pub fn acquire(db: &Path) -> Result<RunLock, LockError> {
        let path = lock_path(db);
        let io = |source| LockError::Io {
            lock: path.display().to_string(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim().to_string();
                return Err(LockError::Held {
                    pid: if pid.is_empty() {
                        "unknown".into()
                    } else {
                        pid
                    },
                    db: db.display().to_string(),
                    lock: path.display().to_string(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        let mut previous = String::new();
        let _ = file.read_to_string(&mut previous);
        let previous = previous.trim();
        if !previous.is_empty() {
            tracing::info!(
                pid = previous,
                "taking over the lock left by an earlier run that is no longer running"
            );
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(RunLock { _file: file, path })
    }
}

impl Drop for RunLock {
    /// A run that ends normally clears its pid, so the next one does not
    /// mistake it for a killed run; the kernel drops the lock itself.
    fn drop(&mut self) {
        let _ = self._file.set_len(0);
    }
}

fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    db.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_and_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        let held = RunLock::acquire(&db).unwrap();
        let err = RunLock::acquire(&db).unwrap_err().to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        let path = held.path().to_path_buf();
        drop(held);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "",
            "a normal exit clears the pid, so the next run does not take it for a killed one"
        );
        RunLock::acquire(&db).expect("free again once dropped");
    }

    #[test]
    fn a_stale_pid_in_the_file_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        std::fs::write(lock_path(&db), "999999").unwrap();
        let lock = RunLock::acquire(&db).expect("no live holder");
        let pid = std::fs::read_to_string(lock.path()).unwrap();
        assert_eq!(pid, std::process::id().to_string());
    }
}
