//! `audiobook render`: validates every job first, takes the run lock, then
//! renders the jobs one after another, jobs of one provider account sharing
//! one concurrency window; stops at signals, deadlines and budgets; prints
//! each job's summary.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use super::args::RenderArgs;
use super::common::{
    check_tokens, check_tools, display_path, format_duration, load_jobs, print_warnings, take_lock,
};
use super::progress::progress_for;
use super::{Cli, CliError, Exit};
use crate::cache::Cache;
use crate::job::Job;
use crate::pacing::Window;
use crate::provider::Provider;
use crate::render::{JobReport, Outcome, Renderer};
use crate::store::Store;

pub(super) async fn run(cli: &Cli, args: &RenderArgs) -> Result<Exit, CliError> {
    let deadline = deadline(args.until.as_deref(), args.max_duration.as_deref())?;
    let jobs = load_jobs(&args.jobs)?;
    check_tokens(&jobs)?;
    check_tools(&jobs)?;
    print_warnings(&jobs);
    let _lock = take_lock(&cli.db)?;
    let cancel = CancellationToken::new();
    watch_signals(cancel.clone());
    let (store, new_db) = open_store_for_render(cli).await?;
    let cache = Arc::new(
        Cache::open(&cli.cache)
            .with_context(|| format!("opening the cache folder {}", cli.cache.display()))?,
    );
    let mut worst = Exit::Ok;
    // Jobs of one provider account share what was learned of its quota.
    let mut windows: HashMap<String, Arc<Window>> = HashMap::new();
    for (job, manuscript) in &jobs {
        if cancel.is_cancelled() {
            worst = worst.max(Exit::Interrupted);
            break;
        }
        let synth = Provider::from_job(job, cache.root())
            .map_err(|e| CliError::bad_input(format!("{}: [voice]: {e}", job.path.display())))?;
        // Planning writes nothing: a stop signal during it ends the process
        // at once instead of after the plan of a big book.
        PLANNING.store(true, Ordering::SeqCst);
        let chapters = crate::plan::build(job, manuscript);
        PLANNING.store(false, Ordering::SeqCst);
        let window = windows
            .entry(account_key(job))
            .or_insert_with(|| Window::new(job.render.concurrency));
        let renderer = Renderer::new(
            store.clone(),
            Arc::clone(&cache),
            Arc::new(synth),
            Arc::clone(window),
            cancel.clone(),
        )
        .with_deadline(deadline)
        .with_max_characters(args.max_characters)
        .with_progress(progress_for(cli));
        match renderer.render(job, &chapters).await {
            Ok(report) => {
                print_summary(&report);
                if new_db && report.stats.cached > 0 {
                    println!(
                        "{}: the state database was new: {} clip(s) already in the cache were reused, {} synthesized",
                        report.job, report.stats.cached, report.stats.synthesized
                    );
                }
                worst = worst.max(Exit::from(report.outcome));
            }
            Err(e) => {
                eprintln!("error: {}: {e:#}{}", job.name, advice(&e));
                worst = worst.max(Exit::Failed);
            }
        }
    }
    store.close().await;
    Ok(worst)
}

/// Opens the state database for a render and says whether it is new. A
/// missing database is started afresh, and said so: the clips already in the
/// cache are adopted as their segments come up, never requested again. One
/// that exists but cannot be read is an error that changes nothing.
async fn open_store_for_render(cli: &Cli) -> Result<(Store, bool), CliError> {
    let db = &cli.db;
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
        let clips = crate::cache::count_clips(&cli.cache);
        if clips > 0 {
            tracing::warn!(
                "no state database at {}: starting a new one; the {clips} clip(s) already in the cache {} are checked and reused, not rendered again",
                db.display(),
                cli.cache.display()
            );
        } else {
            tracing::info!("no state database at {}: starting a new one", db.display());
        }
    }
    let store = Store::open(db)
        .await
        .map_err(|e| unreadable_db(db, &cli.cache, &e))?;
    Ok((store, new))
}

/// A state database that exists but cannot be opened: name it, leave it
/// alone, and say how to go on.
fn unreadable_db(db: &Path, cache: &Path, e: &sqlx::Error) -> CliError {
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

fn print_summary(report: &JobReport) {
    let stats = &report.stats;
    let mut out = std::io::stdout().lock();
    let what = match report.outcome {
        Outcome::Complete => "complete",
        Outcome::Failed => "incomplete",
        Outcome::Interrupted => "interrupted",
        Outcome::Incomplete => "stopped at the deadline",
    };
    let _ = writeln!(
        out,
        "{}: {what}: {} synthesized, {} already rendered, {} failed; {} of {} chapters, {} of audio in {} ({:.1}s)",
        report.job,
        stats.synthesized,
        stats.cached,
        report.counts.failed,
        report.chapters_written,
        report.chapters_total,
        format_duration(report.audio_secs),
        display_path(&report.output_dir),
        report.elapsed_secs,
    );
    if stats.requests > stats.synthesized || stats.rate_limited > 0 {
        let _ = writeln!(
            out,
            "{}: {} requests, {} retries, {} rate-limited ({:.1}s waiting on rate limits), final concurrency window {}",
            report.job,
            stats.requests,
            stats.retries,
            stats.rate_limited,
            stats.rate_limit_wait_ms as f64 / 1000.0,
            stats.window
        );
    }
    if stats.synthesized == 0 && report.outcome == Outcome::Complete {
        let _ = writeln!(
            out,
            "{}: nothing to synthesize, every segment was already rendered",
            report.job
        );
    }
    if report.files_encoded > 0 {
        let _ = writeln!(
            out,
            "{}: {} audio file(s) encoded",
            report.job, report.files_encoded
        );
    } else if report.outcome == Outcome::Complete {
        let _ = writeln!(out, "{}: every delivered file is up to date", report.job);
    }
    for (error, class, n) in crate::report::group_failures(&report.failures) {
        let _ = writeln!(out, "{}:   {n} segment(s) {class}: {error}", report.job);
    }
    if matches!(report.outcome, Outcome::Interrupted | Outcome::Incomplete) {
        let _ = writeln!(
            out,
            "{}: state saved; run the same command again to resume",
            report.job
        );
    }
}

/// Ctrl-C / SIGTERM: stop starting work and let in-flight segments finish;
/// a second signal exits at once (every state change is a committed
/// transaction, so that is still consistent).
/// True while a job is being planned (nothing written yet).
static PLANNING: AtomicBool = AtomicBool::new(false);

fn watch_signals(cancel: CancellationToken) {
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("cannot watch SIGTERM: {e}");
                    return;
                }
            };
        let mut signals = 0;
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term.recv() => {},
            }
            signals += 1;
            if PLANNING.load(Ordering::SeqCst) {
                eprintln!("stopped while planning; nothing was written");
                std::process::exit(Exit::Interrupted as i32);
            }
            if signals == 1 {
                tracing::warn!(
                    "stopping: finishing segments in flight (signal again to stop at once)"
                );
                cancel.cancel();
            } else {
                eprintln!("stopped at once; state is saved");
                std::process::exit(Exit::Interrupted as i32);
            }
        }
    });
}
