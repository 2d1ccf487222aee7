//! The delivery folder's bookkeeping: whether a recorded file is still
//! there as it was written, and removing what this stage delivered before and no longer wants, and
//! what earlier versions of the program left (`chapter-NNN.wav`,
//! `book.wav`, the hidden `.book.key`).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::{Context, Result};

use super::targets::{Wanted, file_name};
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
