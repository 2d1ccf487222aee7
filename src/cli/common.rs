//! What several commands share: loading and checking job files before
//! anything is written, the run lock, opening an existing state database,
//! and how paths and durations are shown.

use std::path::{Path, PathBuf};

use super::{CliError, Exit};
use crate::job::{self, Job};
use crate::manuscript;
use crate::store::Store;

/// Every job file's errors at once, one per line.
pub(super) fn load_job_files(paths: &[PathBuf]) -> Result<Vec<Job>, CliError> {
    job::load_many(paths).map_err(|errors| bad_input_list(errors.iter().map(ToString::to_string)))
}

pub(super) fn bad_input_list(errors: impl IntoIterator<Item = String>) -> CliError {
    CliError::bad_input(errors.into_iter().collect::<Vec<_>>().join("\nerror: "))
}

/// Loads and validates every job and manuscript before anything is written.
pub(super) fn load_jobs(paths: &[PathBuf]) -> Result<Vec<(Job, manuscript::Manuscript)>, CliError> {
    let jobs = load_job_files(paths)?;
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for job in jobs {
        match manuscript::load(&job) {
            Ok(m) => {
                for w in &m.warnings {
                    tracing::warn!(job = %job.name, "{w}");
                }
                loaded.push((job, m));
            }
            Err(e) => errors.push(format!("{} (job {}): {e}", job.name, job.path.display())),
        }
    }
    if !errors.is_empty() {
        return Err(bad_input_list(errors));
    }
    Ok(loaded)
}

/// Every cloud job's token variable is set, checked before anything is
/// written: a missing token is bad configuration (exit 2).
pub(super) fn check_tokens(jobs: &[(Job, manuscript::Manuscript)]) -> Result<(), CliError> {
    let errors: Vec<String> = jobs
        .iter()
        .filter_map(|(job, _)| {
            let var = match &job.voice.settings {
                crate::job::ProviderSettings::Local => return None,
                crate::job::ProviderSettings::Coze(c) => &c.token_env,
                crate::job::ProviderSettings::Volcengine(v) => &v.token_env,
            };
            crate::provider::token_from_env(var)
                .err()
                .map(|e| format!("{}: [voice]: {e}", job.path.display()))
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(bad_input_list(errors))
    }
}

/// The programs a job's formats need are installed (ffmpeg for m4b),
/// checked before anything renders: a missing one is exit 2 naming what to
/// install.
pub(super) fn check_tools(jobs: &[(Job, manuscript::Manuscript)]) -> Result<(), CliError> {
    let needs_ffmpeg: Vec<String> = jobs
        .iter()
        .filter(|(job, _)| {
            job.output
                .delivery
                .formats
                .contains(&crate::job::Format::M4b)
        })
        .map(|(job, _)| {
            format!(
                "{}: [output]: {}",
                job.path.display(),
                crate::deliver::m4b::INSTALL_HINT
            )
        })
        .collect();
    if needs_ffmpeg.is_empty() || crate::deliver::m4b::ffmpeg().is_some() {
        Ok(())
    } else {
        Err(bad_input_list(needs_ffmpeg))
    }
}

/// A job's warnings (a small cover), on stderr: worth fixing, not fatal.
pub(super) fn print_warnings(jobs: &[(Job, manuscript::Manuscript)]) {
    for (job, _) in jobs {
        for warning in &job.warnings {
            eprintln!("warning: {}: {warning}", job.name);
        }
    }
}

pub(super) fn take_lock(db: &Path) -> Result<crate::lock::RunLock, CliError> {
    crate::lock::RunLock::acquire(db).map_err(|e| CliError {
        exit: match e {
            crate::lock::LockError::Held { .. } => Exit::Locked,
            crate::lock::LockError::Io { .. } => Exit::Failed,
        },
        message: e.to_string(),
    })
}

pub(super) async fn open_existing_store(db: &Path) -> Result<Store, CliError> {
    if !db.is_file() {
        return Err(CliError::bad_input(format!(
            "no state database at {}; run `audiobook render` first, or pass --db",
            db.display()
        )));
    }
    Store::open_existing(db).await.map_err(|e| {
        CliError::bad_input(format!(
            "cannot read the state database {}: {e}; restore it from a backup, or pass --db with the right file",
            db.display()
        ))
    })
}

/// A path as a person wants to read it: resolved, and relative to the
/// working directory when it lies below it (`out/demo`, not `jobs/../out/demo`).
pub(super) fn display_path(path: &Path) -> String {
    let resolved = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| resolved.strip_prefix(cwd).ok().map(Path::to_path_buf));
    relative.unwrap_or(resolved).display().to_string()
}

pub(super) fn format_duration(secs: f64) -> String {
    let total = secs.round() as u64;
    format!("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60)
}
