//! Telling someone how a night went: the `[notify] command` of the jobs (or
//! `render --on-finish`) runs once per run, through `sh -c`, with the
//! outcome as JSON on stdin and in `AUDIOBOOK_*` environment variables.
//! Cron mails all output or nothing; this is what a failed night can call.
//! A notification that fails or hangs is logged and killed at its timeout;
//! it never changes the run's exit code. [`Run`] keeps what a run did, so a
//! stop signal that ends the process early can still send it, once.

use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use tokio::io::AsyncWriteExt;

use super::Exit;
use super::common::RFC3339_LOCAL;

/// Without a job's `[notify] timeout_secs` (`--on-finish`).
pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// One render run as the notification tells it: the commands to run, and
/// each job's report or error as the jobs end. Shared between the run and
/// its signal watcher; whichever ends the run sends the notice, once.
pub(super) struct Run {
    started: jiff::Timestamp,
    commands: Vec<(String, Duration)>,
    done: Mutex<Done>,
    sent: tokio::sync::OnceCell<()>,
}

#[derive(Default)]
struct Done {
    /// Each job's report, or the error that stopped it.
    jobs: Vec<serde_json::Value>,
    /// The summary lines printed on stdout.
    summary: String,
}

impl Run {
    pub fn new(commands: Vec<(String, Duration)>) -> Run {
        Run {
            started: jiff::Timestamp::now(),
            commands,
            done: Mutex::new(Done::default()),
            sent: tokio::sync::OnceCell::new(),
        }
    }

    /// A job ended: its report (or error) and the summary printed for it.
    pub fn add_job(&self, job: serde_json::Value, summary: &str) {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        done.jobs.push(job);
        done.summary.push_str(summary);
    }

    /// Sends the notice of the run as it stands, the first time it is
    /// called; a later call returns once that one has been sent.
    pub async fn finish(&self, exit: Exit, error: Option<String>) {
        self.sent
            .get_or_init(|| async {
                if self.commands.is_empty() {
                    return;
                }
                let notice = {
                    let done = self.done.lock().unwrap_or_else(|e| e.into_inner());
                    Notice::new(
                        self.started,
                        exit,
                        done.jobs.clone(),
                        error,
                        done.summary.clone(),
                    )
                };
                send(&self.commands, &notice).await;
            })
            .await;
    }
}

/// What the command receives on stdin.
#[derive(Debug, Serialize)]
struct Notice {
    /// `complete`, `failed`, `incomplete` (deadline or budget),
    /// `interrupted`, `bad_input` (nothing rendered) or `locked`.
    pub outcome: &'static str,
    pub exit_code: u8,
    pub started_at: String,
    pub finished_at: String,
    pub host: String,
    /// Each job's report (as in its `report.json`), or its error.
    pub jobs: Vec<serde_json::Value>,
    /// What stopped the run before or between jobs, if anything.
    pub error: Option<String>,
    /// The summary lines the run printed.
    pub summary: String,
}

impl Notice {
    fn new(
        started: jiff::Timestamp,
        exit: Exit,
        jobs: Vec<serde_json::Value>,
        error: Option<String>,
        summary: String,
    ) -> Notice {
        let local = |t: jiff::Timestamp| {
            t.to_zoned(jiff::tz::TimeZone::system())
                .strftime(RFC3339_LOCAL)
                .to_string()
        };
        Notice {
            outcome: match exit {
                Exit::Ok => "complete",
                Exit::Failed => "failed",
                Exit::BadInput => "bad_input",
                Exit::Locked => "locked",
                Exit::Incomplete => "incomplete",
                Exit::Interrupted => "interrupted",
            },
            exit_code: exit as u8,
            started_at: local(started),
            finished_at: local(jiff::Timestamp::now()),
            host: std::fs::read_to_string("/etc/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_default(),
            jobs,
            error,
            summary,
        }
    }

    /// The variables the command gets besides stdin.
    fn env(&self) -> Vec<(&'static str, String)> {
        let names = |wanted: &dyn Fn(&str) -> bool| {
            self.jobs
                .iter()
                .filter(|j| wanted(j["outcome"].as_str().unwrap_or("")))
                .filter_map(|j| j["job"].as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        vec![
            ("AUDIOBOOK_OUTCOME", self.outcome.to_string()),
            ("AUDIOBOOK_EXIT_CODE", self.exit_code.to_string()),
            ("AUDIOBOOK_JOBS", self.jobs.len().to_string()),
            ("AUDIOBOOK_JOBS_COMPLETE", names(&|o| o == "complete")),
            ("AUDIOBOOK_JOBS_NOT_COMPLETE", names(&|o| o != "complete")),
            ("AUDIOBOOK_STARTED_AT", self.started_at.clone()),
            ("AUDIOBOOK_FINISHED_AT", self.finished_at.clone()),
            (
                "AUDIOBOOK_ERROR",
                capped(self.error.as_deref().unwrap_or_default()),
            ),
            ("AUDIOBOOK_SUMMARY", capped(&self.summary)),
        ]
    }
}

/// The longest text put in one variable. Linux refuses to start a program
/// given an environment string over 128 KiB (`MAX_ARG_STRLEN`), and a night
/// of many bad job files has a longer error; the whole text is on stdin.
const ENV_VALUE_MAX: usize = 32 * 1024;

fn capped(text: &str) -> String {
    if text.len() <= ENV_VALUE_MAX {
        return text.to_string();
    }
    let mut end = ENV_VALUE_MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n… ({} bytes more: the whole text is in the JSON on stdin)",
        &text[..end],
        text.len() - end
    )
}

/// Runs each command once, one after another.
async fn send(commands: &[(String, Duration)], notice: &Notice) {
    let json = match serde_json::to_vec_pretty(notice) {
        Ok(mut json) => {
            json.push(b'\n');
            json
        }
        Err(e) => {
            tracing::error!("cannot encode the notification: {e}");
            return;
        }
    };
    for (command, timeout) in commands {
        if let Err(e) = run_one(command, *timeout, notice, &json).await {
            tracing::error!(command = %command, "the notification command failed: {e}");
        }
    }
}

async fn run_one(
    command: &str,
    timeout: Duration,
    notice: &Notice,
    json: &[u8],
) -> Result<(), String> {
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .envs(notice.env())
        .stdin(Stdio::piped())
        // Its own process group, so the timeout ends what it started too
        // (a pipeline, a background `sleep`), not only the shell.
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start it: {e}"))?;
    let stdin = child.stdin.take();
    // The notice is written while the command runs, under the timeout: a
    // command that never reads its stdin cannot hold the run once the
    // notice outgrows the pipe. The pipe closes when the writing is done,
    // or when the command has exited.
    let feed = async move {
        if let Some(mut stdin) = stdin {
            // A command that does not read its stdin closes the pipe
            // early: that is its business, not an error.
            let _ = stdin.write_all(json).await;
        }
    };
    let finished = async {
        tokio::pin!(feed);
        let mut fed = false;
        loop {
            tokio::select! {
                () = &mut feed, if !fed => fed = true,
                status = child.wait() => return status,
            }
        }
    };
    match tokio::time::timeout(timeout, finished).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(format!("it exited with {status}")),
        Ok(Err(e)) => Err(format!("cannot wait for it: {e}")),
        Err(_) => {
            kill_group(&mut child).await;
            Err(format!(
                "it was still running after {}s and was killed; raise [notify] timeout_secs",
                timeout.as_secs()
            ))
        }
    }
}

/// Kills the command and everything in its process group.
async fn kill_group(child: &mut tokio::process::Child) {
    let group = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .and_then(rustix::process::Pid::from_raw);
    if let Some(group) = group
        && let Err(e) = rustix::process::kill_process_group(group, rustix::process::Signal::KILL)
    {
        tracing::debug!("cannot kill the notification's process group: {e}");
    }
    let _ = child.kill().await;
}
