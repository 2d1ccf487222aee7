//! What several commands share: loading and checking job files before
//! anything is written (with the per-run overrides applied), the run lock,
//! opening the state database, and how paths and durations are shown.

use std::path::{Path, PathBuf};

use super::args::{JobArgs, OverrideArgs};
use super::{CliError, Exit};
use crate::job::{self, Job};
use crate::manuscript;
use crate::store::{Reader, Store};

/// Every job file's errors at once, one per line, with the overrides of
/// this run applied (and checked) on top.
pub(super) fn load_job_files(
    args: &JobArgs,
    overrides: &OverrideArgs,
) -> Result<Vec<Job>, CliError> {
    let jobs = job::load_many(&args.jobs, args.defaults.as_deref())
        .map_err(|errors| bad_input_list(errors.iter().map(ToString::to_string)))?;
    let several = jobs.len() > 1;
    let mut changed = Vec::new();
    let mut errors = Vec::new();
    for mut job in jobs {
        if overrides.draft {
            job = job.into_draft();
        }
        if let Some(dir) = &overrides.output {
            let dir = if several {
                dir.join(&job.name)
            } else {
                dir.clone()
            };
            match job.with_output(&dir) {
                Ok(j) => job = j,
                Err(e) => {
                    errors.push(e.to_string());
                    continue;
                }
            }
        }
        let moved = match (&overrides.output, overrides.draft) {
            (Some(_), _) => Some("--output"),
            (None, true) => Some("--draft"),
            (None, false) => None,
        };
        if let Some(flag) = moved
            && let Err(e) = job.check_output_unread(flag)
        {
            errors.push(e.to_string());
            continue;
        }
        changed.push(job);
    }
    errors.extend(
        job::shared_outputs(&changed)
            .iter()
            .map(ToString::to_string),
    );
    if errors.is_empty() {
        Ok(changed)
    } else {
        Err(bad_input_list(errors))
    }
}

pub(super) fn bad_input_list(errors: impl IntoIterator<Item = String>) -> CliError {
    CliError::bad_input(errors.into_iter().collect::<Vec<_>>().join("\nerror: "))
}

/// Loads and validates every job and manuscript before anything is written.
pub(super) fn load_jobs(
    args: &JobArgs,
    overrides: &OverrideArgs,
) -> Result<Vec<(Job, manuscript::Manuscript)>, CliError> {
    let jobs = load_job_files(args, overrides)?;
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
    if let Some(chapters) = &overrides.chapters {
        let short: Vec<String> = loaded
            .iter()
            .filter(|(_, m)| chapters.max() > m.chapters.len())
            .map(|(job, m)| {
                format!(
                    "{}: --chapters {chapters}: the book has {} chapter(s); name chapters 1 to {}",
                    job.path.display(),
                    m.chapters.len(),
                    m.chapters.len()
                )
            })
            .collect();
        if !short.is_empty() {
            return Err(bad_input_list(short));
        }
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

/// The state database's folder exists (a new `--db` path is created, as
/// the database itself would be).
pub(super) fn ensure_db_folder(db: &Path) -> Result<(), CliError> {
    let Some(folder) = db.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    if folder.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(folder).map_err(|e| {
        CliError::bad_input(format!(
            "cannot create the folder {} for the state database {}: {e}; create it, or pass \
             --db (or AUDIOBOOK_DB) with a path in a folder you can write",
            folder.display(),
            db.display()
        ))
    })
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

/// A state database that exists but cannot be read: the same message and
/// exit code (1) from every command: name it, leave it alone, say how to go on.
pub(super) fn unreadable_db(db: &Path, cache: &Path, e: &dyn std::fmt::Display) -> CliError {
    CliError {
        exit: Exit::Failed,
        message: format!(
            "cannot read the state database {}: {e}; nothing was changed. \
             restore it from a backup, or move it aside and run again to start a new one \
             (the finished clips in the cache {} are reused, not rendered again)",
            db.display(),
            cache.display()
        ),
    }
}

/// The state database for reading (`status`, `plan`): `None` when there
/// is none yet, with the reason to show.
pub(super) async fn open_for_reading(
    db: &Path,
    cache: &Path,
) -> Result<Result<Store, String>, CliError> {
    if !db.exists() {
        return Ok(Err(format!(
            "no job has been rendered with the state database {} yet; `audiobook render JOB.toml` starts one",
            db.display()
        )));
    }
    if db.is_dir() {
        return Err(unreadable_db(db, cache, &"it is a folder, not a file"));
    }
    match Store::open_reader(db).await {
        Ok(Reader::Ready(store)) => Ok(Ok(store)),
        Ok(Reader::NoSchema) => Ok(Err(format!(
            "no job in the state database {} yet: a render is just creating it",
            db.display()
        ))),
        Ok(Reader::Older) => Ok(Err(format!(
            "the state database {} was written by an older audiobook (or a render is upgrading \
             it now); `audiobook render` brings it up to date",
            db.display()
        ))),
        Err(e) => Err(unreadable_db(db, cache, &e)),
    }
}

/// An existing state database to change (`retry-failed`).
pub(super) async fn open_existing_store(db: &Path, cache: &Path) -> Result<Store, CliError> {
    if !db.is_file() {
        return Err(CliError::bad_input(format!(
            "no state database at {}; run `audiobook render` first, or pass --db",
            db.display()
        )));
    }
    Store::open_existing(db)
        .await
        .map_err(|e| unreadable_db(db, cache, &e))
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

/// A UTC timestamp from the database in local time with its offset, as
/// `--until` reads times: `2026-11-23 06:30:12 +08:00`.
pub(super) fn local_time(utc: &str) -> String {
    in_local(utc, "%Y-%m-%d %H:%M:%S %:z")
}

/// The same, in RFC 3339 for JSON: `2026-11-23T06:30:12+08:00`.
pub(super) fn local_rfc3339(utc: &str) -> String {
    in_local(utc, RFC3339_LOCAL)
}

pub(super) const RFC3339_LOCAL: &str = "%Y-%m-%dT%H:%M:%S%:z";

fn in_local(utc: &str, format: &str) -> String {
    match utc.parse::<jiff::Timestamp>() {
        Ok(t) => t
            .to_zoned(jiff::tz::TimeZone::system())
            .strftime(format)
            .to_string(),
        Err(_) => utc.to_string(),
    }
}

/// Job file arguments given as paths, for commands that accept job names too.
pub(super) fn as_paths(args: &[String]) -> Vec<PathBuf> {
    args.iter().map(PathBuf::from).collect()
}
