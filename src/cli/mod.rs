//! The command line: one file per command (`init`, `render`, `plan`,
//! `status`, `retry-failed`, `validate`, `voices`, `segment`, `sim`,
//! `check`, and `completions`/`man` in [`docs`]), their arguments and help in [`args`],
//! what several commands share in [`common`], progress display in
//! [`progress`], a render's per-job summary in [`summary`], the end-of-run
//! notification in [`notify`], stop signals during a render in [`signals`].
//! Every outcome
//! becomes an exit code here, in one place ([`Exit`]).

mod args;
mod book;
mod check;
mod common;
mod docs;
mod init;
mod notify;
mod plan;
mod progress;
mod render;
mod retry_failed;
mod segment;
mod signals;
mod sim;
mod status;
mod summary;
mod validate;
mod voices;

use std::io::IsTerminal;

pub use args::{Cli, Command, GlobalArgs, LangArg, LogFormat};

use crate::report::{JobReport, Outcome};

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
    pub(crate) fn bad_input(message: impl Into<String>) -> Self {
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

impl From<Outcome> for Exit {
    fn from(outcome: Outcome) -> Exit {
        match outcome {
            Outcome::Complete => Exit::Ok,
            Outcome::Failed => Exit::Failed,
            Outcome::Interrupted => Exit::Interrupted,
            Outcome::Incomplete => Exit::Incomplete,
        }
    }
}

impl Exit {
    /// A rendered job: its outcome, and 1 when a delivered file fails its
    /// profile (the files are written all the same).
    pub(crate) fn of_report(report: &JobReport) -> Exit {
        let qa = if report.qa_failures.is_empty() {
            Exit::Ok
        } else {
            Exit::Failed
        };
        Exit::from(report.outcome).max(qa)
    }
}

/// Runs a parsed command line and returns the exit code.
pub async fn run(cli: Cli) -> Exit {
    let result = match &cli.command {
        Command::Init(args) => init::run(args),
        Command::Render(args) => render::run(&cli.global, args).await,
        Command::Plan(args) => plan::run(args).await,
        Command::Status(args) => status::run(args).await,
        Command::RetryFailed(args) => retry_failed::run(args).await,
        Command::Voices(args) => voices::run(args).await,
        Command::Validate(args) => validate::run(args).await,
        Command::Sim(args) => sim::run(args).await,
        Command::Segment(args) => segment::run(args),
        Command::Completions(args) => docs::completions(args),
        Command::Man(args) => docs::man(args),
        Command::Check(args) => check::run(args),
    };
    match result {
        Ok(exit) => exit,
        Err(e) => {
            // Never a panic on a closed stderr: the exit code still tells.
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "error: {}", e.message);
            e.exit
        }
    }
}

/// Sets up logging on stderr: text or JSON lines; no ANSI colours unless
/// stderr is a terminal; lines that cannot be written are dropped.
pub fn init_logging(cli: &Cli) {
    use tracing_subscriber::EnvFilter;
    // sqlx warns of slow statements when the disk is busy, symphonia of
    // what its probe skipped: noise to a publisher, so only their errors
    // show unless AUDIOBOOK_LOG asks.
    let default = if cli.global.quiet {
        "error"
    } else if std::io::stderr().is_terminal() {
        // The progress bar says what info lines would.
        "warn,sqlx=error,symphonia=error"
    } else {
        "info,sqlx=error,symphonia=error"
    };
    let filter =
        EnvFilter::try_from_env("AUDIOBOOK_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Every line masked: libraries log request headers at trace level.
        .with_writer(crate::redact::RedactedStderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        // A log line that cannot be written (stderr closed: `2>&1 | head`)
        // is dropped. Reporting that failure would write to stderr again,
        // and `eprintln!` panics when it cannot.
        .log_internal_errors(false);
    match cli.global.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
