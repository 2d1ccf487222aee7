//! The command line: one file per command (`render`, `plan`, `status`,
//! `retry-failed`, `validate`, `voices`, `segment`, `sim`), their arguments
//! in [`args`], what several commands share in [`common`], progress display
//! in [`progress`]. Every outcome becomes an exit code here, in one place
//! ([`Exit`]).

mod args;
mod book;
mod common;
mod plan;
mod progress;
mod render;
mod retry_failed;
mod segment;
mod sim;
mod status;
mod validate;
mod voices;

use std::io::IsTerminal;

pub use args::{Cli, Command, LangArg, LogFormat};

use crate::report::Outcome;

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

/// Runs a parsed command line and returns the exit code.
pub async fn run(cli: Cli) -> Exit {
    let result = match &cli.command {
        Command::Render(args) => render::run(&cli, args).await,
        Command::Plan(args) => plan::run(&cli, args),
        Command::Status(args) => status::run(&cli, args).await,
        Command::RetryFailed(args) => retry_failed::run(&cli, &args.jobs).await,
        Command::Voices(args) => voices::run(args).await,
        Command::Validate(args) => validate::run(&args.jobs).await,
        Command::Sim(args) => sim::run(&cli, args).await,
        Command::Segment(args) => segment::run(args),
    };
    match result {
        Ok(exit) => exit,
        Err(e) => {
            eprintln!("error: {}", e.message);
            e.exit
        }
    }
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
    let filter =
        EnvFilter::try_from_env("AUDIOBOOK_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
