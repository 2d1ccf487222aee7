//! Several job files at once: folders expanded (every `*.toml` but
//! `defaults.toml`, by file name), each file loaded with its folder's
//! defaults, and the checks that span jobs: one name per job, one output
//! folder per job. Every error of every file is returned together.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::{DEFAULTS_FILE, Job, JobError, load_with, paths, sibling_defaults};

/// Loads every job named by `args`: a file is one job; a folder means every
/// `*.toml` directly in it (not recursive, hidden files skipped like a shell
/// glob would), sorted by file name. All errors of all files are returned
/// together, so one run shows everything to fix.
///
/// `defaults` replaces the `defaults.toml` beside each job file.
pub fn load_many(args: &[PathBuf], defaults: Option<&Path>) -> Result<Vec<Job>, Vec<JobError>> {
    if args.is_empty() {
        return Err(vec![JobError(
            "no job files given; pass job files or folders of job files".to_owned(),
        )]);
    }
    let mut jobs = Vec::new();
    let mut errors = Vec::new();
    for arg in args {
        match job_files(arg) {
            Ok(files) => {
                for file in files {
                    let found = defaults
                        .map(Path::to_path_buf)
                        .or_else(|| sibling_defaults(&file));
                    match load_with(&file, found.as_deref()) {
                        Ok(job) => jobs.push(job),
                        Err(e) => errors.push(e),
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
    errors.extend(duplicate_names(&jobs));
    errors.extend(shared_outputs(&jobs));
    if errors.is_empty() {
        Ok(jobs)
    } else {
        Err(errors)
    }
}

pub(super) fn job_files(arg: &Path) -> Result<Vec<PathBuf>, JobError> {
    if !arg.is_dir() {
        return Ok(vec![arg.to_path_buf()]);
    }
    let cannot = |e: std::io::Error| JobError::about(arg, format!("cannot read job folder: {e}"));
    let mut files = Vec::new();
    for entry in fs::read_dir(arg).map_err(cannot)? {
        let path = entry.map_err(cannot)?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        let defaults = path.file_name() == Some(DEFAULTS_FILE.as_ref());
        if !hidden && !defaults && path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(JobError::about(
            arg,
            "no job files (*.toml) in this folder; add one or pass a job file",
        ));
    }
    // One folder, so path order is file-name order.
    files.sort();
    Ok(files)
}

/// Jobs are keyed by name, so two jobs with one name in a run would mix
/// their state.
fn duplicate_names(jobs: &[Job]) -> Vec<JobError> {
    let mut first: HashMap<&str, &Path> = HashMap::new();
    let mut errors = Vec::new();
    for job in jobs {
        match first.get(job.name.as_str()) {
            Some(other) if *other == job.path => errors.push(JobError::about(
                &job.path,
                "job file is given twice; pass each job once",
            )),
            Some(other) => errors.push(JobError::about(
                &job.path,
                format!(
                    "job name `{}` is also used by {}; job names (file stems) must be unique \
                     in one run, rename one of the files",
                    job.name,
                    other.display()
                ),
            )),
            None => {
                first.insert(&job.name, &job.path);
            }
        }
    }
    errors
}

/// Two jobs writing one output folder would overwrite each other's book.
pub fn shared_outputs(jobs: &[Job]) -> Vec<JobError> {
    let mut first: HashMap<PathBuf, &Job> = HashMap::new();
    let mut errors = Vec::new();
    for job in jobs {
        let key = paths::canonical_or_lexical(&job.output.dir);
        match first.get(&key) {
            Some(other) if other.path != job.path => errors.push(JobError::about(
                &job.path,
                format!(
                    "[output] dir {} is also the output folder of {}; two jobs in one run would \
                     overwrite each other's book: give each job its own [output] dir",
                    job.output.dir.display(),
                    other.path.display()
                ),
            )),
            _ => {
                first.insert(key, job);
            }
        }
    }
    errors
}
