//! Loading one job file: read (UTF-8, a byte order mark dropped), merged
//! with its defaults, parsed into the raw structs, then every section checked
//! in turn into a [`Job`]; all problems of the file come back together.

use std::fs;
use std::path::{Path, PathBuf};

use super::diag::{Problems, Source};
use super::paths::Base;
use super::{Check, DEFAULTS_FILE, Job, JobError, ProviderKind, Voice, parse};

/// Reads, parses and validates a job file, with the `defaults.toml` beside
/// it merged under it. Writes nothing. When the file has several problems,
/// the error holds all of them, one per line.
pub fn load(path: &Path) -> Result<Job, JobError> {
    load_with(path, sibling_defaults(path).as_deref())
}

/// The `defaults.toml` in a job file's folder, when there is one (and the
/// job file is not that file).
pub fn sibling_defaults(job: &Path) -> Option<PathBuf> {
    let defaults = job.with_file_name(DEFAULTS_FILE);
    (job.file_name() != Some(DEFAULTS_FILE.as_ref()) && defaults.is_file()).then_some(defaults)
}

/// Like [`load`], with `defaults` (if any) merged under the job file: what
/// the job file sets wins, tables merge key by key. Paths in either resolve
/// against the job file's folder; every message names the file the value
/// came from.
pub fn load_with(path: &Path, defaults: Option<&Path>) -> Result<Job, JobError> {
    if path.file_name() == Some(DEFAULTS_FILE.as_ref()) {
        return Err(JobError::about(
            path,
            "this is a folder's shared defaults, merged under every job file beside it, \
             not a job; pass the folder or a job file",
        ));
    }
    let text = read_text(path)?;
    let defaults_text = defaults.map(read_text).transpose()?;
    let (src, padded) = Source::merged(path, &text, defaults.zip(defaults_text.as_deref()));
    let mut problems = Problems::new(src);
    let mut covered = Vec::new();
    let raw = parse::read(src, padded.as_deref(), &mut problems, &mut covered)?;
    let Some(raw) = raw else {
        problems.finish()?;
        return Err(JobError::about(path, "cannot be read"));
    };
    let abs = fs::canonicalize(path)
        .map_err(|e| JobError::about(path, format!("cannot read job file: {e}")))?;
    let name = job_name(path, &abs)?;
    let dir = abs.parent().unwrap_or(Path::new("/"));
    let mut check = Check::new(problems, Base::of(path, dir), covered);
    let book = check.book(raw.book);
    let manuscript = check.manuscript(raw.manuscript);
    let voice = check.voice(raw.voice);
    let master = check.master(raw.master);
    let audio = check.audio(raw.audio, &master);
    let mut job = Job {
        path: abs.clone(),
        name,
        book,
        manuscript,
        voice,
        audio,
        master,
        render: check.render(raw.render),
        output: check.output(raw.output),
        notify: check.notify(raw.notify),
        defaults: defaults.map(Path::to_path_buf),
        draft: false,
        warnings: Vec::new(),
    };
    check.manuscript_reads_no_output(&mut job);
    check.problems.finish()?;
    if job.book.narrator.is_empty() {
        job.book.narrator = default_narrator(&job.voice);
    }
    job.warnings = check.warnings;
    Ok(job)
}

/// The narrator credit of a synthetic voice: what a listener is owed.
fn default_narrator(voice: &Voice) -> String {
    let who = match voice.provider {
        ProviderKind::Local => format!("eSpeak NG ({})", voice.voice),
        ProviderKind::Coze => format!("Coze {}", voice.voice),
        ProviderKind::Volcengine => format!("Volcengine {}", voice.voice),
    };
    format!("Synthetic voice: {who}")
}

pub(super) fn read_text(path: &Path) -> Result<String, JobError> {
    let bytes =
        fs::read(path).map_err(|e| JobError::about(path, format!("cannot read job file: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| not_utf8(path, &e))?;
    // Windows editors like to write a byte order mark; it is not TOML.
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

fn not_utf8(path: &Path, e: &std::string::FromUtf8Error) -> JobError {
    let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
    let src = Source {
        shown: path,
        text: std::str::from_utf8(valid).unwrap_or_default(),
        defaults: None,
    };
    JobError(src.at(
        valid.len(),
        "job file is not valid UTF-8; save it as UTF-8 (the manuscripts may stay GBK)",
    ))
}

/// The job's name is its file stem; it keys the job in logs and the store.
fn job_name(path: &Path, abs: &Path) -> Result<String, JobError> {
    abs.file_stem()
        .and_then(|stem| stem.to_str())
        .filter(|stem| !stem.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            JobError::about(
                path,
                "job file name is not valid UTF-8 or has no stem; rename it, e.g. book.toml",
            )
        })
}
