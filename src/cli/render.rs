//! `audiobook render`: validates every job first, takes the run lock, then
//! synthesizes the jobs one after another (the next starting as soon as
//! the last fresh segment of the one before is sent), jobs of one provider
//! account sharing one concurrency window, while finished books are
//! stitched on a worker pool; stops at signals, deadlines and budgets; prints each job's
//! summary, in job order. A closed stdout or stderr (`| head`) never stops or
//! hangs a render: what cannot be written is dropped.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::args::{GlobalArgs, RenderArgs, StateArgs};
use super::common::{
    check_tokens, check_tools, ensure_db_folder, load_jobs, print_warnings, take_lock,
    unreadable_db,
};
use super::notify;
use super::progress::progress_for;
use super::signals;
use super::summary::summary;
use super::{CliError, Exit};
use crate::cache::Cache;
use crate::job::Job;
use crate::pacing::Window;
use crate::plan::Plan;
use crate::provider::Provider;
use crate::render::{JobReport, Renderer, StoppedPlanning};
use crate::store::Store;

pub(super) async fn run(global: &GlobalArgs, args: &RenderArgs) -> Result<Exit, CliError> {
    // Read from the job files apart from loading them, as far as each can
    // be read: a bad job file stops the whole run, and its `[notify]` must
    // still hear of it.
    let commands = match &args.on_finish {
        Some(command) => vec![(command.clone(), notify::DEFAULT_TIMEOUT)],
        None => crate::job::notify_commands(&args.jobs.jobs, args.jobs.defaults.as_deref())
            .into_iter()
            .filter_map(|n| n.command.map(|c| (c, n.timeout)))
            .collect(),
    };
    let run = Arc::new(notify::Run::new(commands));
    let cancel = CancellationToken::new();
    signals::watch(cancel.clone(), Arc::clone(&run));
    let result = render_all(global, args, &run, cancel).await;
    let (exit, error) = match &result {
        Ok(exit) => (*exit, None),
        Err(e) => (e.exit, Some(e.message.clone())),
    };
    run.finish(exit, error).await;
    result
}

async fn render_all(
    global: &GlobalArgs,
    args: &RenderArgs,
    record: &notify::Run,
    cancel: CancellationToken,
) -> Result<Exit, CliError> {
    let state = &args.state;
    let deadline = deadline(args.until.as_deref(), args.max_duration.as_deref())?;
    let loading = signals::NothingWritten::begin();
    let jobs = load_jobs(&args.jobs, &args.overrides)?;
    check_tokens(&jobs)?;
    check_tools(&jobs)?;
    drop(loading);
    print_warnings(&jobs);
    ensure_db_folder(&state.db)?;
    let _lock = take_lock(&state.db)?;
    let (store, new_db) = open_store_for_render(state).await?;
    let cache = Arc::new(
        Cache::open(&state.cache)
            .with_context(|| format!("opening the cache folder {}", state.cache.display()))?,
    );
    let mut worst = Exit::Ok;
    // Jobs of one provider account share what was learned of its quota.
    let mut windows: HashMap<String, Arc<Window>> = HashMap::new();
    // A book's stitching runs on a worker while the next book's synthesis
    // uses the quota (from the moment its own last fresh segment is sent);
    // results are reported in job order.
    let workers = Arc::new(Semaphore::new(finishing_workers()));
    let mut finishing: VecDeque<(String, JoinHandle<anyhow::Result<JobReport>>)> = VecDeque::new();
    // By value: each manuscript is dropped once its plan is recorded, so a
    // long render holds none.
    for (job, manuscript) in jobs {
        if cancel.is_cancelled() {
            worst = worst.max(Exit::Interrupted);
            break;
        }
        let synth = Provider::from_job(&job, cache.root())
            .map_err(|e| CliError::bad_input(format!("{}: [voice]: {e}", job.path.display())))?;
        let window = windows
            .entry(account_key(&job))
            .or_insert_with(|| Window::new(job.render.concurrency));
        let drained = CancellationToken::new();
        let renderer = Renderer::new(
            store.clone(),
            Arc::clone(&cache),
            Arc::new(synth),
            Arc::clone(window),
            cancel.clone(),
        )
        .with_deadline(deadline)
        .with_max_characters(args.max_characters)
        .with_chapters(args.overrides.chapters.clone())
        .with_progress(progress_for(global.quiet))
        .with_drained(drained.clone());
        // A stop signal while the plan is made and recorded rolls it back
        // at the next statement, so the job is as it was before this run.
        let started = Instant::now();
        let recorded = renderer.record_plan(&Plan::new(&job, &manuscript)).await;
        // The segments are in the database now: synthesis needs no text.
        drop(manuscript);
        let job_id = match recorded {
            Err(e) if e.is::<StoppedPlanning>() => {
                stopped_while_planning(&job.name, record);
                worst = worst.max(Exit::Interrupted);
                break;
            }
            recorded => recorded,
        };
        let name = job.name.clone();
        let workers = Arc::clone(&workers);
        // Dropped (even by a panic) once synthesis is over: the loop below
        // never waits for a job that ended.
        let signal = drained.clone().drop_guard();
        let rest = tokio::spawn(async move {
            let synthesized = match job_id {
                Ok(job_id) => renderer.synthesize_recorded(&job, job_id, started).await,
                Err(e) => Err(e),
            };
            drop(signal);
            let _worker = workers.acquire_owned().await.ok();
            synthesized?.finish().await
        });
        finishing.push_back((name, rest));
        // The next book starts once this one's fresh segments are all sent:
        // its last requests and retries share the window with the next
        // book's first, so the quota does not drain between books.
        drained.cancelled().await;
        while finishing
            .front()
            .is_some_and(|(_, rest)| rest.is_finished())
        {
            if let Some((name, rest)) = finishing.pop_front() {
                worst = worst.max(conclude(&name, rest.await, new_db, record));
            }
        }
    }
    for (name, rest) in finishing {
        worst = worst.max(conclude(&name, rest.await, new_db, record));
    }
    store.close().await;
    Ok(worst)
}

/// Says that a job was stopped while its plan was recorded, on stdout and
/// in the notification: nothing of it was written in this run.
fn stopped_while_planning(name: &str, record: &notify::Run) {
    let text = format!(
        "{name}: interrupted while planning: nothing of this job was written in this run\n\
         {name}: state saved; run the same command again to resume\n"
    );
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    record.add_job(
        serde_json::json!({
            "job": name,
            "outcome": "interrupted",
            "error": "stopped while planning; nothing of the job was written",
        }),
        &text,
    );
}

/// How many finished books may be stitched at once beside the synthesis of
/// the next: stitching is disk- and CPU-bound, synthesis waits on the network.
fn finishing_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().div_ceil(2).clamp(1, 4))
}

/// Prints a job's summary (or its error), records it for the
/// notification, and returns its exit code.
fn conclude(
    name: &str,
    result: Result<anyhow::Result<JobReport>, tokio::task::JoinError>,
    new_db: bool,
    record: &notify::Run,
) -> Exit {
    let result = result.unwrap_or_else(|e| Err(anyhow::anyhow!("the job's task failed: {e}")));
    match result {
        Ok(report) => {
            if let Some(error) = &report.stopped_by {
                let _ = writeln!(
                    std::io::stderr(),
                    "error: {name}: the provider refused the account, the job was stopped: {error}"
                );
            }
            let mut text = summary(&report);
            if new_db && report.stats.cached > 0 {
                let _ = writeln!(
                    text,
                    "{}: the state database was new: {} segment(s) already in the cache were reused, {} synthesized",
                    report.job, report.stats.cached, report.stats.synthesized
                );
            }
            // Dropped when stdout is closed (a reader such as `head` went
            // away), never a panic.
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            record.add_job(serde_json::to_value(&report).unwrap_or_default(), &text);
            Exit::of_report(&report)
        }
        Err(e) => {
            let message = format!("{e:#}{}", advice(&e));
            // A closed stderr must not stop the render: what cannot be
            // written is dropped.
            let _ = writeln!(std::io::stderr(), "error: {name}: {message}");
            record.add_job(
                serde_json::json!({
                    "job": name,
                    "outcome": "error",
                    "error": message,
                }),
                &format!("{name}: error: {message}\n"),
            );
            Exit::Failed
        }
    }
}

/// Opens the state database for a render and says whether it is new. A
/// missing database is started afresh, and said so: the clips already in the
/// cache are adopted as their segments come up, never requested again. One
/// that exists but cannot be read is an error that changes nothing.
async fn open_store_for_render(state: &StateArgs) -> Result<(Store, bool), CliError> {
    let db = &state.db;
    if db.is_dir() {
        return Err(CliError {
            exit: Exit::Failed,
            message: format!(
                "the state database {} is a folder, not a file; move the folder aside, or pass --db (or AUDIOBOOK_DB) with a file path",
                db.display()
            ),
        });
    }
    let new = !db.exists();
    if new {
        let clips = crate::cache::count_clips(&state.cache);
        if clips > 0 {
            tracing::warn!(
                "no state database at {}: starting a new one; the {clips} clip(s) already in the cache {} are checked and reused, not rendered again",
                db.display(),
                state.cache.display()
            );
        } else {
            tracing::info!("no state database at {}: starting a new one", db.display());
        }
    }
    let store = Store::open(db)
        .await
        .map_err(|e| unreadable_db(db, &state.cache, &e))?;
    Ok((store, new))
}

/// What to add to an error a person can fix: a full disk (a clip, a
/// chapter file or the database could not be written).
fn advice(e: &anyhow::Error) -> &'static str {
    let disk_full = e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::StorageFull)
            || cause
                .downcast_ref::<sqlx::Error>()
                .and_then(|s| s.as_database_error())
                .and_then(|d| d.code())
                // SQLITE_FULL
                .is_some_and(|code| code == "13")
    });
    if disk_full {
        "; the disk is full: free some space and run again: finished segments are kept"
    } else {
        ""
    }
}

/// Which provider account a job renders through: jobs with the same key
/// share one concurrency window.
fn account_key(job: &Job) -> String {
    match &job.voice.settings {
        crate::job::ProviderSettings::Local => "local".to_string(),
        crate::job::ProviderSettings::Coze(c) => format!("coze {} {}", c.base_url, c.token_env),
        crate::job::ProviderSettings::Volcengine(v) => {
            format!("volcengine {} {} {}", v.base_url, v.appid, v.token_env)
        }
    }
}

/// The earlier of `--until` and `--max-duration`, as a runtime instant.
fn deadline(
    until: Option<&str>,
    max_duration: Option<&str>,
) -> Result<Option<tokio::time::Instant>, CliError> {
    let mut limits = Vec::new();
    if let Some(text) = max_duration {
        limits.push(parse_duration(text).map_err(CliError::bad_input)?);
    }
    if let Some(text) = until {
        limits.push(until_local(text).map_err(CliError::bad_input)?);
    }
    Ok(limits
        .into_iter()
        .min()
        .map(|d| tokio::time::Instant::now() + d))
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let parsed: jiff::SignedDuration = text
        .trim()
        .parse()
        .map_err(|e| format!("--max-duration {text:?}: {e}; write it like 7h, 90m or 1h30m"))?;
    Duration::try_from(parsed).map_err(|_| format!("--max-duration {text:?} must be positive"))
}

/// Time from now until the next local `HH:MM` (today if still ahead, else tomorrow).
fn until_local(text: &str) -> Result<Duration, String> {
    let hint = || format!("--until {text:?}: expected a local time like 06:30");
    let time: jiff::civil::Time = text.trim().parse().map_err(|_| hint())?;
    let now = jiff::Zoned::now();
    let mut target = now.with().time(time).build().map_err(|_| hint())?;
    if target <= now {
        target = target.tomorrow().map_err(|_| hint())?;
    }
    let span = now.duration_until(&target);
    Duration::try_from(span).map_err(|_| hint())
}
