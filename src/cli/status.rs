//! `audiobook status`: each job's state as the database holds it, read
//! while a render may be writing (WAL readers do not wait for the writer):
//! chapters and segments done, the latest run and the last run that did
//! work, and while a render runs its pace and an estimate of the time left.
//! A run recorded as running whose process is gone is shown as killed. A
//! job file never rendered is "not started", with its plan's counts. Times
//! are local, with their offset. It always answers something.

use std::io::Write;
use std::path::Path;

use super::args::{JobArgs, OverrideArgs, StatusArgs};
use super::common::{
    as_paths, format_duration, load_jobs, local_rfc3339, local_time, open_for_reading,
};
use super::{CliError, Exit};
use crate::store::{Counts, JobRow, RunOutcome, RunRow, SegmentState, Store};

#[derive(serde::Serialize)]
struct StatusLine {
    job: String,
    path: String,
    title: String,
    /// `not_started`, `running`, or how the latest run ended.
    state: String,
    chapters: usize,
    chapters_done: usize,
    counts: Counts,
    /// A render of this job is going on now.
    running: bool,
    /// The latest run.
    last_run: Option<RunSummary>,
    /// The latest run that did work (a rerun that found everything done
    /// did none); the same as `last_run` when that one did.
    last_working_run: Option<RunSummary>,
}

#[derive(serde::Serialize)]
struct RunSummary {
    /// The run's number in the state database.
    id: i64,
    pid: i64,
    /// RFC 3339 in local time with its offset.
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

/// What `status --json` prints when there is no job to show.
#[derive(serde::Serialize)]
struct Empty {
    database: String,
    jobs: usize,
    note: String,
}

pub(super) async fn run(args: &StatusArgs) -> Result<Exit, CliError> {
    loop {
        let running = show(args).await?;
        if !args.watch || !running {
            return Ok(Exit::Ok);
        }
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_secs(args.interval)) => {}
            _ = tokio::signal::ctrl_c() => return Ok(Exit::Ok),
        }
        if !args.json {
            println!();
        }
    }
}

/// Prints every job asked for once; true when a render of one is running.
async fn show(args: &StatusArgs) -> Result<bool, CliError> {
    let state = &args.state;
    let store = open_for_reading(&state.db, &state.cache).await?;
    let (lines, note) = match &store {
        Ok(store) => (
            collect(store, args).await?,
            format!(
                "no job in the state database {} yet; `audiobook render JOB.toml` starts one",
                state.db.display()
            ),
        ),
        Err(note) => (not_started(args, &args.jobs)?, note.clone()),
    };
    if let Ok(store) = store {
        store.close().await;
    }
    let mut out = std::io::stdout().lock();
    if lines.is_empty() {
        if args.json {
            let empty = Empty {
                database: state.db.display().to_string(),
                jobs: 0,
                note,
            };
            let _ = writeln!(out, "{}", serde_json::to_string(&empty).unwrap_or_default());
        } else {
            let _ = writeln!(out, "{note}");
        }
        return Ok(false);
    }
    for line in &lines {
        if args.json {
            let text = serde_json::to_string(line).map_err(anyhow::Error::from)?;
            let _ = writeln!(out, "{text}");
        } else {
            print_status(&mut out, line);
        }
    }
    let _ = out.flush();
    Ok(lines.iter().any(|l| l.running))
}

/// The jobs asked for (all in the database when none is named); job files
/// not in the database are "not started".
async fn collect(store: &Store, args: &StatusArgs) -> Result<Vec<StatusLine>, CliError> {
    let rows = store.jobs().await.map_err(anyhow::Error::from)?;
    let mut lines = Vec::new();
    let mut unknown = Vec::new();
    for wanted in &args.jobs {
        let canonical = std::fs::canonicalize(wanted)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| wanted.clone());
        let found: Vec<&JobRow> = rows
            .iter()
            .filter(|r| r.path == canonical || r.name == *wanted)
            .collect();
        if found.is_empty() {
            unknown.push(wanted.clone());
        }
        for row in found {
            lines.push(
                job_status(store, row.clone())
                    .await
                    .map_err(anyhow::Error::from)?,
            );
        }
    }
    if args.jobs.is_empty() {
        for row in rows {
            lines.push(job_status(store, row).await.map_err(anyhow::Error::from)?);
        }
    }
    lines.extend(not_started(args, &unknown)?);
    Ok(lines)
}

/// Job files that were never rendered, with their plan's counts; a name
/// that is neither a job in the database nor a job file is an error.
fn not_started(args: &StatusArgs, names: &[String]) -> Result<Vec<StatusLine>, CliError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(missing) = names.iter().find(|n| !Path::new(n).exists()) {
        return Err(CliError::bad_input(format!(
            "no job named {missing:?} in the state database {}, and no such job file; \
             `audiobook status` lists the jobs it holds",
            args.state.db.display()
        )));
    }
    let jobs = JobArgs {
        jobs: as_paths(names),
        defaults: args.defaults.clone(),
    };
    let loaded = load_jobs(&jobs, &OverrideArgs::default())?;
    Ok(loaded
        .iter()
        .map(|(job, manuscript)| {
            // Counted as the plan streams past: never the book's segments at once.
            let mut chapters = 0;
            let mut counts = Counts::default();
            for item in crate::plan::Plan::new(job, manuscript).items() {
                match item {
                    crate::plan::Item::Chapter(_) => chapters += 1,
                    crate::plan::Item::Segment(s) => {
                        counts.pending += 1;
                        counts.chars_total += s.text.chars().count() as u64;
                    }
                }
            }
            StatusLine {
                job: job.name.clone(),
                path: job.path.display().to_string(),
                title: job.book.title.clone(),
                state: "not_started".into(),
                chapters,
                chapters_done: 0,
                counts,
                running: false,
                last_run: None,
                last_working_run: None,
            }
        })
        .collect())
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
    let last_working_run = match store.last_working_run(row.id).await? {
        Some(run) => Some(run_summary(store, row.id, run, &counts).await?),
        None => None,
    };
    let running = last_run
        .as_ref()
        .is_some_and(|r| r.outcome == RunOutcome::Running);
    Ok(StatusLine {
        job: row.name,
        path: row.path,
        title: row.title,
        state: last_run
            .as_ref()
            .map_or_else(|| "not_started".to_string(), |r| r.outcome.to_string()),
        chapters: chapters.len(),
        chapters_done,
        counts,
        running,
        last_run,
        last_working_run,
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
        id: run.id,
        pid: run.pid,
        started_at: local_rfc3339(&run.started_at),
        finished_at: run.finished_at.as_deref().map(local_rfc3339),
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
    if s.state == "not_started" && s.last_run.is_none() {
        let _ = writeln!(
            out,
            "{}: not started: {} chapters, {} segments, {} characters to render ({})",
            s.job, s.chapters, c.pending, c.chars_total, s.path
        );
        return;
    }
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
    if let Some(r) = &s.last_run {
        print_run(out, "last run", r);
    }
    if let (Some(latest), Some(worked)) = (&s.last_run, &s.last_working_run)
        && latest.id != worked.id
    {
        print_run(out, "last run that did work", worked);
    }
}

fn print_run(out: &mut impl Write, label: &str, r: &RunSummary) {
    let shown = |t: &str| local_time(t);
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
                "  running since {} (pid {}): {} segments in {} ({:.1} segments/s), {eta}{window}",
                shown(&r.started_at),
                r.pid,
                p.segments_done,
                format_duration(p.elapsed_secs),
                p.segments_per_sec,
            );
        }
        None if r.outcome == RunOutcome::Killed => {
            let _ = writeln!(
                out,
                "  {label}: killed (pid {} is gone) started {}, did not finish; run `audiobook render` again to resume",
                r.pid,
                shown(&r.started_at)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  {label}: {} started {}, finished {}, {} synthesized, {} failed, {} requests ({} rate-limited), final concurrency window {}",
                r.outcome,
                shown(&r.started_at),
                r.finished_at
                    .as_deref()
                    .map_or_else(|| "-".to_string(), shown),
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
            .write_plan(&crate::plan::Plan::new(&job, &manuscript), &|| false)
            .await
            .unwrap();
        let crate::store::PlanWritten::Recorded(job_id) = job_id else {
            panic!("nothing asked to stop");
        };
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
