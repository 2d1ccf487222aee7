//! The command line: `render`, `plan`, `status`, `retry-failed` and `segment`.
//! It wires the pipeline together, draws progress (a bar on a terminal,
//! periodic log lines under cron), handles signals, and maps every outcome
//! to an exit code in one place ([`Exit`]).

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use tokio_util::sync::CancellationToken;

use crate::cache::Cache;
use crate::job::{self, ChapterRule, Encoding, Job};
use crate::manuscript;
use crate::provider::Provider;
use crate::provider::Synthesizer;
use crate::render::{self, JobReport, Outcome, Progress, Renderer};
use crate::segment::{self, Lang, Limits, Prepare};
use crate::store::{PlannedChapter, Store};

/// Exit codes, documented in the README. Cron alerts on anything but 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    Ok = 0,
    /// Some segments failed permanently (the rest was rendered), or a run
    /// could not finish (disk full, database error).
    Failed = 1,
    /// Bad input or configuration: nothing was written.
    BadInput = 2,
    /// Another run holds the lock on the database.
    Locked = 3,
    /// Stopped at the deadline (`--until`, `--max-duration`) with segments
    /// still pending; state saved, the next run continues (EX_TEMPFAIL).
    Incomplete = 75,
    /// Stopped by SIGINT/SIGTERM; state saved, rerun to resume.
    Interrupted = 130,
}

/// An error with the exit code it deserves. Its message is the whole story.
#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    pub message: String,
}

impl CliError {
    fn bad_input(message: impl Into<String>) -> Self {
        CliError {
            exit: Exit::BadInput,
            message: message.into(),
        }
    }
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        CliError {
            exit: Exit::Failed,
            message: format!("{e:#}"),
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "audiobook",
    version,
    about = "Render manuscripts into audiobooks, in batch, resumably"
)]
pub struct Cli {
    /// State database (SQLite).
    #[arg(
        long,
        global = true,
        env = "AUDIOBOOK_DB",
        default_value = "audiobook.db"
    )]
    pub db: PathBuf,
    /// Segment cache folder (content-addressed clips; safe to delete).
    #[arg(long, global = true, env = "AUDIOBOOK_CACHE", default_value = "cache")]
    pub cache: PathBuf,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Print only the summary (and errors).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render job files (or every *.toml in a folder): synthesize what is not
    /// yet rendered, then stitch chapter and book files.
    Render {
        #[arg(required = true)]
        jobs: Vec<PathBuf>,
        /// Start no new segment after this local time (HH:MM, the next such
        /// time from now); in-flight segments finish, then exit 75.
        #[arg(long, value_name = "HH:MM")]
        until: Option<String>,
        /// Start no new segment after this long (e.g. `7h`, `90m`, `1h30m`).
        #[arg(long, value_name = "DURATION")]
        max_duration: Option<String>,
        /// Start no new segment once this many characters were sent in this
        /// run (overrides `[render] max_characters_per_run`); exit 75.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        max_characters: Option<u64>,
    },
    /// Dry run: chapters, segments, characters and estimated duration.
    Plan {
        #[arg(required = true)]
        jobs: Vec<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Per job: segments done, pending and failed, and the last run.
    Status {
        /// Job files or names; all jobs in the database when omitted.
        jobs: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Put a job's permanently failed segments back to pending.
    RetryFailed {
        #[arg(required = true)]
        jobs: Vec<PathBuf>,
    },
    /// List a provider's voices (Coze).
    Voices(crate::provider::voices::VoicesArgs),
    /// Check job files without rendering: the file, the manuscript, the
    /// token, and (where the provider can tell) that the voice exists and
    /// supports the requested emotion.
    Validate {
        #[arg(required = true)]
        jobs: Vec<PathBuf>,
    },
    /// Serve a simulator of the Coze and Volcengine APIs on loopback.
    Sim(crate::sim::SimArgs),
    /// Print the segments of a manuscript as JSON lines.
    Segment {
        /// A file, or `-` (or nothing) for standard input.
        file: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = LangArg::Auto)]
        lang: LangArg,
        #[arg(long, default_value_t = Limits::MAX_CHARS)]
        max_chars: usize,
        #[arg(long, default_value_t = Limits::MAX_BYTES)]
        max_bytes: usize,
        /// Speak bracketed editorial blocks such as [Illustration: ...].
        #[arg(long)]
        keep_brackets: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LangArg {
    Zh,
    En,
    Auto,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Lang {
        match l {
            LangArg::Zh => Lang::Zh,
            LangArg::En => Lang::En,
            LangArg::Auto => Lang::Auto,
        }
    }
}

/// Runs a parsed command line and returns the exit code.
pub async fn run(cli: Cli) -> Exit {
    let result = match &cli.command {
        Command::Render {
            jobs,
            until,
            max_duration,
            max_characters,
        } => {
            let limits = RunLimits {
                until: until.as_deref(),
                max_duration: max_duration.as_deref(),
                max_characters: *max_characters,
            };
            render_cmd(&cli, jobs, limits).await
        }
        Command::Plan { jobs, json } => plan_cmd(&cli, jobs, *json),
        Command::Status { jobs, json } => status_cmd(&cli, jobs, *json).await,
        Command::RetryFailed { jobs } => retry_failed_cmd(&cli, jobs).await,
        Command::Voices(args) => voices_cmd(args).await,
        Command::Validate { jobs } => validate_cmd(&cli, jobs).await,
        Command::Sim(args) => sim_cmd(&cli, args).await,
        Command::Segment {
            file,
            lang,
            max_chars,
            max_bytes,
            keep_brackets,
        } => segment_cmd(
            file.as_deref(),
            (*lang).into(),
            *max_chars,
            *max_bytes,
            !keep_brackets,
        ),
    };
    match result {
        Ok(exit) => exit,
        Err(e) => {
            eprintln!("error: {}", e.message);
            e.exit
        }
    }
}

/// Every job file's errors at once, one per line.
fn load_job_files(paths: &[PathBuf]) -> Result<Vec<Job>, CliError> {
    job::load_many(paths).map_err(|errors| bad_input_list(errors.iter().map(ToString::to_string)))
}

fn bad_input_list(errors: impl IntoIterator<Item = String>) -> CliError {
    CliError::bad_input(errors.into_iter().collect::<Vec<_>>().join("\nerror: "))
}

/// Loads and validates every job and manuscript before anything is written.
fn load_jobs(paths: &[PathBuf]) -> Result<Vec<(Job, manuscript::Manuscript)>, CliError> {
    let jobs = load_job_files(paths)?;
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for job in jobs {
        match manuscript::load(&job) {
            Ok(m) => loaded.push((job, m)),
            Err(e) => errors.push(format!("{} (job {}): {e}", job.name, job.path.display())),
        }
    }
    if !errors.is_empty() {
        return Err(bad_input_list(errors));
    }
    Ok(loaded)
}

/// What bounds one `render` run besides the work itself.
struct RunLimits<'a> {
    until: Option<&'a str>,
    max_duration: Option<&'a str>,
    max_characters: Option<u64>,
}

async fn render_cmd(cli: &Cli, paths: &[PathBuf], limits: RunLimits<'_>) -> Result<Exit, CliError> {
    let deadline = deadline(limits.until, limits.max_duration)?;
    let jobs = load_jobs(paths)?;
    check_tokens(&jobs)?;
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
    let mut windows: std::collections::HashMap<String, Arc<crate::pacing::Window>> =
        std::collections::HashMap::new();
    for (job, manuscript) in &jobs {
        if cancel.is_cancelled() {
            worst = worst.max(Exit::Interrupted);
            break;
        }
        let synth = Provider::from_job(job, cache.root())
            .map_err(|e| CliError::bad_input(format!("{}: [voice]: {e}", job.path.display())))?;
        let chapters = render::plan(job, manuscript, &synth.fingerprint());
        let renderer = Renderer {
            store: store.clone(),
            cache: Arc::clone(&cache),
            synth: Arc::new(synth),
            cancel: cancel.clone(),
            deadline,
            max_characters: limits.max_characters,
            window: Arc::clone(
                windows
                    .entry(account_key(job))
                    .or_insert_with(|| crate::pacing::Window::new(job.render.concurrency)),
            ),
            progress: progress_for(cli),
        };
        match renderer.render(job, &chapters).await {
            Ok(report) => {
                print_summary(&report);
                if new_db && report.stats.cached > 0 {
                    println!(
                        "{}: the state database was new: {} clip(s) already in the cache were reused, {} synthesized",
                        report.job, report.stats.cached, report.stats.synthesized
                    );
                }
                worst = worst.max(match report.outcome {
                    Outcome::Complete => Exit::Ok,
                    Outcome::Failed => Exit::Failed,
                    Outcome::Interrupted => Exit::Interrupted,
                    Outcome::Incomplete => Exit::Incomplete,
                });
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

/// Every cloud job's token variable is set, checked before anything is
/// written: a missing token is bad configuration (exit 2).
fn check_tokens(jobs: &[(Job, manuscript::Manuscript)]) -> Result<(), CliError> {
    let errors: Vec<String> = jobs
        .iter()
        .filter_map(|(job, _)| {
            let var = match &job.voice.settings {
                crate::job::ProviderSettings::Local => return None,
                crate::job::ProviderSettings::Coze(c) => &c.token_env,
                crate::job::ProviderSettings::Volcengine(v) => &v.token_env,
            };
            crate::provider::token_from_env(var)
                .err()
                .map(|e| format!("{}: [voice]: {e}", job.path.display()))
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(bad_input_list(errors))
    }
}

async fn voices_cmd(args: &crate::provider::voices::VoicesArgs) -> Result<Exit, CliError> {
    let text = crate::provider::voices::voices_command(args)
        .await
        .map_err(|e| CliError::bad_input(format!("{e:#}")))?;
    print!("{text}");
    Ok(Exit::Ok)
}

async fn validate_cmd(cli: &Cli, paths: &[PathBuf]) -> Result<Exit, CliError> {
    let jobs = load_jobs(paths)?;
    check_tokens(&jobs)?;
    let _ = cli;
    let mut worst = Exit::Ok;
    for (job, manuscript) in &jobs {
        let segments: usize = render::plan(job, manuscript, "validate")
            .iter()
            .map(|c| c.segments.len())
            .sum();
        match crate::provider::voices::validate_voice(job).await {
            Ok(note) => println!(
                "{}: ok: {} chapters, {segments} segments; {note}",
                job.name,
                manuscript.chapters.len()
            ),
            Err(e) => {
                println!("{}: voice: {e}", job.name);
                worst = worst.max(Exit::BadInput);
            }
        }
    }
    Ok(worst)
}

async fn sim_cmd(cli: &Cli, args: &crate::sim::SimArgs) -> Result<Exit, CliError> {
    let mut args = args.clone();
    if args.cache.is_none() {
        args.cache = Some(cli.cache.clone());
    }
    crate::sim::run(args)
        .await
        .map_err(|e| CliError::bad_input(format!("{e:#}")))?;
    Ok(Exit::Ok)
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

fn take_lock(db: &Path) -> Result<crate::lock::RunLock, CliError> {
    crate::lock::RunLock::acquire(db).map_err(|e| CliError {
        exit: match e {
            crate::lock::LockError::Held { .. } => Exit::Locked,
            crate::lock::LockError::Io { .. } => Exit::Failed,
        },
        message: e.to_string(),
    })
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

/// A path as a person wants to read it: resolved, and relative to the
/// working directory when it lies below it (`out/demo`, not `jobs/../out/demo`).
fn display_path(path: &Path) -> String {
    let resolved = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| resolved.strip_prefix(cwd).ok().map(Path::to_path_buf));
    relative.unwrap_or(resolved).display().to_string()
}

fn format_duration(secs: f64) -> String {
    let total = secs.round() as u64;
    format!("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60)
}

/// Ctrl-C / SIGTERM: stop starting work and let in-flight segments finish;
/// a second signal exits at once (every state change is a committed
/// transaction, so that is still consistent).
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

fn progress_for(cli: &Cli) -> Arc<dyn Progress> {
    if cli.quiet {
        Arc::new(render::NoProgress)
    } else if std::io::stderr().is_terminal() {
        Arc::new(BarProgress::default())
    } else {
        Arc::new(LogProgress::default())
    }
}

/// A progress bar, for a person at a terminal.
#[derive(Default)]
struct BarProgress {
    bar: Mutex<Option<indicatif::ProgressBar>>,
}

impl Progress for BarProgress {
    fn start(&self, job: &str, total: u64, done: u64) {
        let bar = indicatif::ProgressBar::new(total).with_prefix(job.to_string());
        let style = indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:40}] {pos}/{len} segments, {per_sec}, eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_position(done);
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
    }
    fn advance(&self, n: u64) {
        if let Some(bar) = &*self.bar.lock().unwrap_or_else(|e| e.into_inner()) {
            bar.inc(n);
        }
    }
    fn finish(&self) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
}

/// Plain progress lines at most every few seconds, for cron and log files.
#[derive(Default)]
struct LogProgress {
    state: Mutex<LogState>,
}

#[derive(Default)]
struct LogState {
    job: String,
    total: u64,
    done: u64,
    at_start: u64,
    started: Option<Instant>,
    last: Option<Instant>,
}

const LOG_EVERY: Duration = Duration::from_secs(5);

impl Progress for LogProgress {
    fn start(&self, job: &str, total: u64, done: u64) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *s = LogState {
            job: job.to_string(),
            total,
            done,
            at_start: done,
            started: Some(Instant::now()),
            last: Some(Instant::now()),
        };
        tracing::info!(job = %s.job, done, total, "rendering");
    }
    fn advance(&self, n: u64) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.done += n;
        if s.last.is_some_and(|t| t.elapsed() >= LOG_EVERY) {
            s.last = Some(Instant::now());
            log_progress(&s);
        }
    }
    fn finish(&self) {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        log_progress(&s);
    }
}

fn log_progress(s: &LogState) {
    let elapsed = s.started.map_or(0.0, |t| t.elapsed().as_secs_f64());
    let rate = (s.done - s.at_start) as f64 / elapsed.max(0.001);
    let eta = if rate > 0.0 {
        format_duration((s.total - s.done.min(s.total)) as f64 / rate)
    } else {
        "?".into()
    };
    tracing::info!(job = %s.job, done = s.done, total = s.total, per_sec = format!("{rate:.1}"), eta = %eta, "progress");
}

/// Estimated speaking pace for `plan`, in characters per second: about 160
/// words a minute for English, about 4.5 characters a second for Chinese.
fn estimate_secs(text: &str) -> f64 {
    let han = text
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count();
    let other = text.chars().count() - han;
    han as f64 / 4.5 + other as f64 / 14.0
}

#[derive(serde::Serialize)]
struct PlanSummary {
    job: String,
    chapters: usize,
    segments: usize,
    characters: usize,
    /// Characters of segments not yet in the cache: what the next render sends.
    characters_to_render: usize,
    segments_to_render: usize,
    /// At `[render] price_per_million_characters`, when given.
    estimated_cost: Option<f64>,
    currency: String,
    estimated_secs: f64,
    chapter_list: Vec<PlanChapter>,
}

#[derive(serde::Serialize)]
struct PlanChapter {
    number: usize,
    title: String,
    segments: usize,
    characters: usize,
    estimated_secs: f64,
}

fn plan_cmd(cli: &Cli, paths: &[PathBuf], json: bool) -> Result<Exit, CliError> {
    let cache = Cache::at(&cli.cache);
    for (job, manuscript) in load_jobs(paths)? {
        let fingerprint = crate::provider::fingerprint_for(&job);
        let chapters = render::plan(&job, &manuscript, &fingerprint);
        let summary = summarize_plan(&job, &chapters, &cache);
        let mut out = std::io::stdout().lock();
        if json {
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string(&summary).map_err(anyhow::Error::from)?
            );
            continue;
        }
        let _ = writeln!(
            out,
            "{}: {} chapters, {} segments, {} characters, about {} of audio",
            summary.job,
            summary.chapters,
            summary.segments,
            summary.characters,
            format_duration(summary.estimated_secs)
        );
        let cost = summary.estimated_cost.map_or_else(
            || "set [render] price_per_million_characters for a cost estimate".to_string(),
            |c| format!("estimated cost {c:.2} {}", summary.currency),
        );
        let _ = writeln!(
            out,
            "  to render: {} segments, {} characters; {cost}",
            summary.segments_to_render, summary.characters_to_render
        );
        for c in &summary.chapter_list {
            let _ = writeln!(
                out,
                "  {:>3}  {:<40} {:>6} segments {:>8} chars  {}",
                c.number,
                render::preview(&c.title),
                c.segments,
                c.characters,
                format_duration(c.estimated_secs)
            );
        }
    }
    Ok(Exit::Ok)
}

fn summarize_plan(job: &Job, chapters: &[PlannedChapter], cache: &Cache) -> PlanSummary {
    let mut seen = std::collections::HashSet::new();
    let (mut segments_to_render, mut characters_to_render) = (0, 0);
    for s in chapters.iter().flat_map(|c| &c.segments) {
        if seen.insert(s.content_key.as_str()) && !cache.clip_path(&s.content_key).is_file() {
            segments_to_render += 1;
            characters_to_render += s.text.chars().count();
        }
    }
    let a = job.audio;
    let chapter_list: Vec<PlanChapter> = chapters
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let characters = c.segments.iter().map(|s| s.text.chars().count()).sum();
            let paragraphs = c.segments.iter().filter(|s| s.ends_paragraph).count();
            let gaps_ms = u64::from(a.chapter_head_ms)
                + u64::from(a.chapter_trailing_ms)
                + paragraphs as u64 * u64::from(a.paragraph_gap_ms)
                + (c.segments.len() - paragraphs) as u64 * u64::from(a.sentence_gap_ms);
            let speech: f64 = c.segments.iter().map(|s| estimate_secs(&s.text)).sum();
            PlanChapter {
                number: i + 1,
                title: c.title.clone(),
                segments: c.segments.len(),
                characters,
                estimated_secs: speech + gaps_ms as f64 / 1000.0,
            }
        })
        .collect();
    PlanSummary {
        job: job.name.clone(),
        characters_to_render,
        segments_to_render,
        estimated_cost: job
            .render
            .price_per_million_characters
            .map(|price| characters_to_render as f64 * price / 1_000_000.0),
        currency: job.render.currency.clone(),
        chapters: chapter_list.len(),
        segments: chapter_list.iter().map(|c| c.segments).sum(),
        characters: chapter_list.iter().map(|c| c.characters).sum(),
        estimated_secs: chapter_list.iter().map(|c| c.estimated_secs).sum(),
        chapter_list,
    }
}

async fn open_existing_store(db: &Path) -> Result<Store, CliError> {
    if !db.is_file() {
        return Err(CliError::bad_input(format!(
            "no state database at {}; run `audiobook render` first, or pass --db",
            db.display()
        )));
    }
    Store::open_existing(db).await.map_err(|e| {
        CliError::bad_input(format!(
            "cannot read the state database {}: {e}; restore it from a backup, or pass --db with the right file",
            db.display()
        ))
    })
}

#[derive(serde::Serialize)]
struct StatusLine {
    job: String,
    path: String,
    title: String,
    chapters: usize,
    chapters_done: usize,
    counts: crate::store::Counts,
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
    outcome: String,
    /// The run's process is alive.
    alive: bool,
    synthesized: i64,
    failed: i64,
    requests: i64,
    rate_limited: i64,
    /// The adaptive concurrency window (current while running, final after).
    window: Option<i64>,
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

async fn status_cmd(cli: &Cli, filter: &[String], json: bool) -> Result<Exit, CliError> {
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
async fn job_status(store: &Store, row: crate::store::JobRow) -> Result<StatusLine, sqlx::Error> {
    let counts = store.counts(row.id).await?;
    let chapters = store.chapters(row.id).await?;
    let segments = store.segments(row.id).await?;
    let chapters_done = chapters
        .iter()
        .filter(|c| {
            segments.iter().filter(|s| s.chapter_idx == c.idx).all(|s| {
                matches!(
                    s.state(),
                    crate::store::SegmentState::Done | crate::store::SegmentState::Pause
                )
            })
        })
        .count();
    let last_run = match store.last_run(row.id).await? {
        Some(run) => Some(run_summary(store, row.id, run, &counts).await?),
        None => None,
    };
    Ok(StatusLine {
        job: row.name,
        path: row.path,
        title: row.title,
        chapters: chapters.len(),
        chapters_done,
        counts,
        running: last_run.as_ref().is_some_and(|r| r.outcome == "running"),
        last_run,
    })
}

async fn run_summary(
    store: &Store,
    job_id: i64,
    run: crate::store::RunRow,
    counts: &crate::store::Counts,
) -> Result<RunSummary, sqlx::Error> {
    let alive = run.outcome == "running" && crate::atomic::process_alive(run.pid);
    let outcome = if run.outcome == "running" && !alive {
        "killed".to_string()
    } else {
        run.outcome
    };
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
        None if r.outcome == "killed" => {
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
        }
    }
}

async fn retry_failed_cmd(cli: &Cli, paths: &[PathBuf]) -> Result<Exit, CliError> {
    let jobs = load_job_files(paths)?;
    let store = open_existing_store(&cli.db).await?;
    let _lock = take_lock(&cli.db)?;
    let known = store.jobs().await.map_err(anyhow::Error::from)?;
    for job in jobs {
        let path = job.path.display().to_string();
        let Some(row) = known.iter().find(|r| r.path == path) else {
            return Err(CliError::bad_input(format!(
                "{path}: this job has never been rendered"
            )));
        };
        let n = store
            .retry_failed(row.id)
            .await
            .map_err(anyhow::Error::from)?;
        println!(
            "{}: {n} failed segment(s) will be tried again on the next render",
            job.name
        );
    }
    Ok(Exit::Ok)
}

#[derive(serde::Serialize)]
struct SegmentLine<'a> {
    chapter: usize,
    chapter_title: &'a str,
    paragraph: usize,
    index: usize,
    line: usize,
    ends_paragraph: bool,
    chars: usize,
    bytes: usize,
    text: &'a str,
}

fn segment_cmd(
    file: Option<&Path>,
    lang: Lang,
    max_chars: usize,
    max_bytes: usize,
    skip_brackets: bool,
) -> Result<Exit, CliError> {
    if !(1..=Limits::MAX_CHARS).contains(&max_chars)
        || !(4..=Limits::MAX_BYTES).contains(&max_bytes)
    {
        return Err(CliError::bad_input(format!(
            "--max-chars must be in 1..={} and --max-bytes in 4..={}",
            Limits::MAX_CHARS,
            Limits::MAX_BYTES
        )));
    }
    let limits = Limits {
        max_chars,
        max_bytes,
    };
    let (name, text) = match file {
        Some(path) if path != Path::new("-") => (
            path.to_path_buf(),
            manuscript::read_text(path, Encoding::Auto)
                .map_err(|e| CliError::bad_input(e.to_string()))?,
        ),
        _ => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| CliError::bad_input(format!("reading standard input: {e}")))?;
            let text = manuscript::decode(&bytes, Encoding::Auto)
                .map_err(|e| CliError::bad_input(format!("standard input: {e}")))?;
            (
                PathBuf::from("-"),
                text.replace("\r\n", "\n").replace('\r', "\n"),
            )
        }
    };
    let prepare = Prepare { skip_brackets };
    let chapters = manuscript::split_chapters(&text, &name, &ChapterRule::Headings, &prepare);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (c, chapter) in chapters.iter().enumerate() {
        let mut index = 0;
        for (p, paragraph) in chapter.paragraphs.iter().enumerate() {
            let pieces = segment::split_paragraph(&paragraph.text, lang, limits);
            let last = pieces.len().saturating_sub(1);
            for (i, piece) in pieces.iter().enumerate() {
                let line = SegmentLine {
                    chapter: c + 1,
                    chapter_title: &chapter.title,
                    paragraph: p,
                    index,
                    line: paragraph.line,
                    ends_paragraph: i == last,
                    chars: piece.chars().count(),
                    bytes: piece.len(),
                    text: piece,
                };
                index += 1;
                let json = serde_json::to_string(&line).map_err(anyhow::Error::from)?;
                if writeln!(out, "{json}").is_err() {
                    // A closed pipe (`| head`) is not an error.
                    return Ok(Exit::Ok);
                }
            }
        }
    }
    let _ = out.flush();
    Ok(Exit::Ok)
}

/// Sets up logging on stderr: text or JSON lines; no ANSI colours unless
/// stderr is a terminal.
pub fn init_logging(cli: &Cli) {
    use tracing_subscriber::EnvFilter;
    let default = if cli.quiet {
        "warn"
    } else if std::io::stderr().is_terminal() {
        // The progress bar says what info lines would.
        "warn"
    } else {
        "info"
    };
    let mut filter =
        EnvFilter::try_from_env("AUDIOBOOK_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    // Their trace lines are whole requests, Authorization header included.
    for target in crate::redact::HEADER_TRACING_TARGETS {
        if let Ok(cap) = format!("{target}=debug").parse() {
            filter = filter.add_directive(cap);
        }
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::redact::RedactedStderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
