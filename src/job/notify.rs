//! The `[notify]` commands of a run's job files, read as far as each file
//! can be read: a night whose job files do not all validate renders nothing,
//! and that is exactly when the people behind each `[notify]` must hear of it.
//! Each file (with its defaults merged under it) goes through the same
//! parser and the same `[notify]` check as a full load, with every other
//! problem ignored; a file with a TOML syntax error still has its folder's
//! defaults file to speak for it.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::diag::{Problems, Source};
use super::load::read_text;
use super::paths::Base;
use super::raw::RawNotify;
use super::{Check, Notify, many, parse, sibling_defaults};

/// The `[notify]` command of every job file `args` names (folders expanded as
/// `render` expands them; `defaults` replacing each folder's
/// `defaults.toml`), each distinct command once, in job order, with the
/// timeout of the first job naming it.
pub fn notify_commands(args: &[PathBuf], defaults: Option<&Path>) -> Vec<Notify> {
    let mut found: Vec<Notify> = Vec::new();
    let files = args
        .iter()
        .flat_map(|arg| many::job_files(arg).unwrap_or_default());
    for file in files {
        let shared = defaults
            .map(Path::to_path_buf)
            .or_else(|| sibling_defaults(&file));
        if let Some(notify) = notify_of(&file, shared.as_deref())
            && !found.iter().any(|n| n.command == notify.command)
        {
            found.push(notify);
        }
    }
    found
}

/// The job file's `[notify]` with a command, or its defaults' when the job
/// file cannot be parsed at all.
fn notify_of(path: &Path, defaults: Option<&Path>) -> Option<Notify> {
    let defaults_text = defaults.and_then(|d| read_text(d).ok());
    let defaults = defaults.zip(defaults_text.as_deref());
    let from_job = read_text(path)
        .ok()
        .and_then(|text| read_notify(path, &text, defaults));
    from_job.or_else(|| defaults.and_then(|(shown, text)| read_notify(shown, text, None)))
}

fn read_notify(shown: &Path, text: &str, defaults: Option<(&Path, &str)>) -> Option<Notify> {
    let (src, padded) = Source::merged(shown, text, defaults);
    let mut problems = Problems::new(src);
    let mut covered = Vec::new();
    let raw = parse::read(src, padded.as_deref(), &mut problems, &mut covered).ok()??;
    // Paths play no part in `[notify]`.
    let base = Base::of(shown, Path::new(""));
    let mut check = Check::new(problems, base, covered);
    let notify = check.notify(raw.notify);
    notify
        .command
        .as_ref()
        .is_some_and(|c| !c.is_empty())
        .then_some(notify)
}

const NOTIFY_TIMEOUT_SECS: RangeInclusive<i64> = 1..=3600;

impl Check<'_> {
    pub(super) fn notify(&mut self, raw: Option<RawNotify>) -> Notify {
        let raw = raw.unwrap_or_default();
        let command = raw.command.map(|command| {
            self.non_empty(
                command,
                "notify",
                "command",
                "a shell command, or remove [notify]",
            )
        });
        let timeout: u64 = self.int(
            raw.timeout_secs,
            "notify",
            "timeout_secs",
            NOTIFY_TIMEOUT_SECS,
            60,
        );
        Notify {
            command,
            timeout: Duration::from_secs(timeout),
        }
    }
}
