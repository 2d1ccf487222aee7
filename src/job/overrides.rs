//! Changes to a loaded job for one run, never written back to its file:
//! `--draft` (the embedded engine, its own output folder and its own state,
//! so a cloud job is proof-listened for free) and `--output DIR`; a moved
//! output folder is checked against the manuscript entries again.

use std::path::{Path, PathBuf};

use super::{Job, JobError, Voice, paths};

/// What a draft speaks with: the embedded engine at the job's pace (within
/// the engine's range), the voice chosen by script.
const DRAFT_SPEED: std::ops::RangeInclusive<f32> = 0.5..=2.0;

impl Job {
    /// This job as a draft: rendered by the embedded offline engine (no
    /// token, no network), into `<output dir>-draft`, as a job of its own in
    /// the state database (`<name>-draft`), so the real job's state and
    /// files are untouched. Clips are keyed by provider and voice, so draft
    /// clips never stand in for cloud ones.
    pub fn into_draft(mut self) -> Job {
        if self.draft {
            return self;
        }
        let speed = self
            .voice
            .speed
            .clamp(*DRAFT_SPEED.start(), *DRAFT_SPEED.end());
        self.voice = Voice::local("auto", speed, 50);
        self.name = format!("{}-draft", self.name);
        self.path = suffixed(&self.path, "#draft");
        self.output.dir = suffixed(&self.output.dir, "-draft");
        self.draft = true;
        self
    }

    /// The job writing into `dir` (relative to the working directory)
    /// instead of its `[output] dir`; checked like the job file's.
    pub fn with_output(mut self, dir: &Path) -> Result<Job, JobError> {
        let cwd = std::env::current_dir().unwrap_or_default();
        let dir: PathBuf = paths::normalize(&cwd.join(dir));
        let base = paths::Base {
            dir: &cwd,
            shown: Path::new(""),
        };
        base.check_output_dir(&dir)
            .map_err(|message| JobError(format!("--output: {message}")))?;
        self.output.dir = dir;
        Ok(self)
    }

    /// After `--output` or `--draft` (`flag`) moved the output folder: no
    /// `[manuscript] files` entry may read what the render will write there,
    /// as the job file's own `[output] dir` is checked when it is loaded.
    pub fn check_output_unread(&self, flag: &str) -> Result<(), JobError> {
        let Some((entry, hit)) = self.manuscript.entries.iter().find_map(|entry| {
            entry
                .reads_output_of(&self.output.dir)
                .map(|hit| (entry, hit))
        }) else {
            return Ok(());
        };
        let job_file = suffixless(&self.path);
        Err(JobError::about(
            &job_file,
            format!(
                "{flag} writes into {}, which {:?} in [manuscript] files would read ({}): the \
                 next run would speak it; choose another {flag} folder or narrow the entry \
                 (e.g. \"*.md\")",
                self.output.dir.display(),
                entry.written,
                hit.display()
            ),
        ))
    }
}

/// The job file's own path, without the `#draft` mark of a draft.
fn suffixless(path: &Path) -> PathBuf {
    let text = path.to_string_lossy();
    PathBuf::from(text.strip_suffix("#draft").unwrap_or(&text).to_string())
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut text = path.as_os_str().to_os_string();
    text.push(suffix);
    PathBuf::from(text)
}
