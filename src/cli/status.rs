//! `audiobook status`: each job's state as the database holds it, read
//! while a render may be writing (WAL readers do not wait for the writer):
//! chapters and segments done, the last run, and while a render runs its
//! pace and an estimate of the time left. A run recorded as running whose
//! process is gone is shown as killed.

use std::io::Write;

use super::args::StatusArgs;
use super::common::{format_duration, open_existing_store};
use super::{Cli, CliError, Exit};
use crate::store::{Counts, JobRow, RunOutcome, RunRow, SegmentState, Store};

#[derive(serde::Serialize)]
struct StatusLine {
    job: String,
    path: String,
    title: String,
    chapters: usize,
    chapters_done: usize,
    counts: Counts,
    /// A render of this job is going on now.
    running: bool,
    last_run: Option<RunSummary>,
}

#[derive(serde::Serialize)]
struct RunSummary {
    pid: i64,
    started_at: String,
    finished_at: Option<String>,
    /// As recorded when the run ended; `running` while it goes on, and
    /// `killed` for a run recorded as running whose process is gone.
    outcome: RunOutcome,
    /// The run's process is alive.
    alive: bool,
    synthesized: i64,
    failed: i64,
    requests: i64,
    rate_limited: i64,
    /// The adaptive concurrency window (current while running, final after).
    window: Option<i64>,
    /// The provider error that stopped the run at once, with its ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    stopped_by: Option<String>,
    /// While running: what it has done so far, and how long the rest should
    /// take at its pace (`None` until it has finished a segment).
    progress: Option<RunProgress>,
}

#[derive(serde::Serialize)]
struct RunProgress {
    segments_done: u64,
    elapsed_secs: f64,
    segments_per_sec: f64,
    eta_secs: Option<f64>,
}

pub(super) async fn run(cli: &Cli, args: &StatusArgs) -> Result<Exit, CliError> {
    let (filter, json) = (&args.jobs, args.json);
    let store = open_existing_store(&cli.db).await?;
    let wanted: Vec<String> = filter
        .iter()
        .map(|f| {
            std::fs::canonicalize(f)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| f.clone())
        })
        .collect();
    let mut out = std::io::stdout().lock();
    let mut shown = 0;
    for row in store.jobs().await.map_err(anyhow::Error::from)? {
        if !wanted.is_empty() && !wanted.iter().any(|w| *w == row.path || *w == row.name) {
            continue;
        }
        shown += 1;
        let line = job_status(&store, row).await.map_err(anyhow::Error::from)?;
        if json {
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string(&line).map_err(anyhow::Error::from)?
            );
        } else {
            print_status(&mut out, &line);
        }
    }
    if shown == 0 && !filter.is_empty() {
        return Err(CliError::bad_input(format!(
            "no job matching {} in {}",
            filter.join(", "),
            cli.db.display()
        )));
    }
    Ok(Exit::Ok)
}

/// One job's state as the database holds it, read while a render may be
/// writing (WAL readers do not wait for the writer).
async fn job_status(store: &Store, row: JobRow) -> Result<StatusLine, sqlx::Error> {
    let counts = store.counts(row.id).await?;
    let chapters = store.chapters(row.id).await?;
    let segments = store.segments(row.id).await?;
    let chapters_done = chapters
        .iter()
        .filter(|c| {
            segments
                .iter()
                .filter(|s| s.chapter_idx == c.idx)
                .all(|s| matches!(s.state, SegmentState::Done | SegmentState::Pause))
        })
        .count();
    let last_run = match store.last_run(row.id).await? {
        Some(run) => Some(run_summary(store, row.id, run, &counts).await?),
        None => None,
    };
    // Counted again after the run's progress: a segment finishing between
    // the reads then shows in the counts too, never in the progress alone.
    let counts = store.counts(row.id).await?;
    Ok(StatusLine {
        job: row.name,
        path: row.path,
        title: row.title,
        chapters: chapters.len(),
        chapters_done,
        counts,
        running: last_run
            .as_ref()
            .is_some_and(|r| r.outcome == RunOutcome::Running),
        last_run,
    })
}

/// The outcome `status` shows: a run recorded as running whose process is
/// gone was killed (a SIGKILL, a power cut, the OOM killer) and never said so.
fn shown_outcome(recorded: RunOutcome, process_alive: bool) -> RunOutcome {
    match recorded {
        RunOutcome::Running if !process_alive => RunOutcome::Killed,
        other => other,
    }
}

async fn run_summary(
    store: &Store,
    job_id: i64,
    run: RunRow,
    counts: &Counts,
) -> Result<RunSummary, sqlx::Error> {
    let alive = run.outcome == RunOutcome::Running && crate::atomic::process_alive(run.pid);
    let outcome = shown_outcome(run.outcome, alive);
    let progress = if alive {
        let (segments_done, elapsed_secs) = store.progress_since(job_id, &run.started_at).await?;
        let segments_per_sec = segments_done as f64 / elapsed_secs.max(0.001);
        let left = counts.pending + counts.in_flight;
        Some(RunProgress {
            segments_done,
            elapsed_secs,
            segments_per_sec,
            eta_secs: (segments_done > 0).then(|| left as f64 / segments_per_sec),
        })
    } else {
        None
    };
    Ok(RunSummary {
        pid: run.pid,
        started_at: run.started_at,
        finished_at: run.finished_at,
        outcome,
        alive,
        synthesized: run.synthesized,
        failed: run.failed,
        requests: run.requests,
        rate_limited: run.rate_limited,
        window: run.window,
        stopped_by: run.stopped_by,
        progress,
    })
}

fn print_status(out: &mut impl Write, s: &StatusLine) {
    let c = &s.counts;
    let _ = writeln!(
        out,
        "{}: chapters {}/{} done; segments {} done, {} pending, {} failed, {} paused; {} of {} characters rendered",
        s.job,
        s.chapters_done,
        s.chapters,
        c.done,
        c.pending + c.in_flight,
        c.failed,
        c.pause,
        c.chars_done,
        c.chars_total
    );
    let Some(r) = &s.last_run else {
        return;
    };
    match &r.progress {
        Some(p) => {
            let eta = p.eta_secs.map_or_else(
                || "time left unknown yet".to_string(),
                |e| format!("about {} left", format_duration(e)),
            );
            let window = r
                .window
                .map(|w| format!(", concurrency window {w}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  running since {} (pid {}): {} segments in {} ({:.1}/s), {eta}{window}",
                r.started_at,
                r.pid,
                p.segments_done,
                format_duration(p.elapsed_secs),
                p.segments_per_sec,
            );
        }
        None if r.outcome == RunOutcome::Killed => {
            let _ = writeln!(
                out,
                "  last run: killed (pid {} is gone) started {}, did not finish; run `audiobook render` again to resume",
                r.pid, r.started_at
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  last run: {} started {}, finished {}, {} synthesized, {} failed, {} requests ({} rate-limited), final concurrency window {}",
                r.outcome,
                r.started_at,
                r.finished_at.as_deref().unwrap_or("-"),
                r.synthesized,
                r.failed,
                r.requests,
                r.rate_limited,
                r.window.map_or_else(|| "-".to_string(), |w| w.to_string()),
            );
            if let Some(error) = &r.stopped_by {
                let _ = writeln!(out, "  stopped by the provider: {error}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_run_without_its_process_is_shown_killed() {
        assert_eq!(
            shown_outcome(RunOutcome::Running, false),
            RunOutcome::Killed
        );
        assert_eq!(
            shown_outcome(RunOutcome::Running, true),
            RunOutcome::Running
        );
        for ended in [
            RunOutcome::Complete,
            RunOutcome::Failed,
            RunOutcome::Interrupted,
            RunOutcome::Incomplete,
            RunOutcome::Error,
            RunOutcome::Killed,
        ] {
            // A finished run's process is long gone; that says nothing.
            assert_eq!(shown_outcome(ended, false), ended);
        }
    }

    /// The rule as `status` applies it to a real database: a run whose pid
    /// is no process at all.
    #[tokio::test]
    async fn status_reads_a_dead_runs_row_as_killed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).await.unwrap();
        std::fs::write(dir.path().join("b.md"), "# One\n\nText.\n").unwrap();
        let path = dir.path().join("j.toml");
        std::fs::write(
            &path,
            "[book]\ntitle = \"T\"\n[manuscript]\nfiles = \"b.md\"\n[output]\ndir = \"out\"\n",
        )
        .unwrap();
        let job = crate::job::load(&path).unwrap();
        let manuscript = crate::manuscript::load(&job).unwrap();
        let job_id = store
            .write_plan(&job, &crate::plan::build(&job, &manuscript))
            .await
            .unwrap();
        let run_id = store.start_run(job_id).await.unwrap();
        let mut run = store.last_run(job_id).await.unwrap().unwrap();
        assert_eq!(run.id, run_id);
        assert_eq!(run.outcome, RunOutcome::Running);
        // No pid is this large on Linux (pid_max is at most 2^22).
        run.pid = 99_999_999;
        let counts = store.counts(job_id).await.unwrap();
        let summary = run_summary(&store, job_id, run, &counts).await.unwrap();
        assert!(!summary.alive);
        assert_eq!(summary.outcome, RunOutcome::Killed);
        assert!(summary.progress.is_none());
    }
}
