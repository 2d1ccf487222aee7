//! Telling someone how a night went: the `[notify] command` of the jobs (or
//! `render --on-finish`) runs once per run, through `sh -c`, with the
//! outcome as JSON on stdin and in `AUDIOBOOK_*` environment variables.
//! Cron mails all output or nothing; this is what a failed night can call.
//! A notification that fails or hangs is logged and killed at its timeout;
//! it never changes the run's exit code.

use std::process::Stdio;
use std::time::Duration;

use serde::Serialize;
use tokio::io::AsyncWriteExt;

use super::Exit;
use super::common::RFC3339_LOCAL;

/// Without a job's `[notify] timeout_secs` (`--on-finish`).
pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// What the command receives on stdin.
#[derive(Debug, Serialize)]
pub(super) struct Notice {
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
    pub fn new(
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
            ("AUDIOBOOK_ERROR", self.error.clone().unwrap_or_default()),
            ("AUDIOBOOK_SUMMARY", self.summary.clone()),
        ]
    }
}

/// Runs each command once, one after another.
pub(super) async fn send(commands: &[(String, Duration)], notice: &Notice) {
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
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start it: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its stdin closes the pipe early:
        // that is its business, not an error.
        let _ = stdin.write_all(json).await;
    }
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(format!("it exited with {status}")),
        Ok(Err(e)) => Err(format!("cannot wait for it: {e}")),
        Err(_) => {
            let _ = child.kill().await;
            Err(format!(
                "it was still running after {}s and was killed; raise [notify] timeout_secs",
                timeout.as_secs()
            ))
        }
    }
}
