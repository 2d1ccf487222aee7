//! What the command line accepts: the clap definitions of the global options
//! and of every command's arguments, and nothing that acts on them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::segment::{Lang, Limits};

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
    Render(RenderArgs),
    /// Dry run: chapters, segments, characters and estimated duration.
    Plan(PlanArgs),
    /// Per job: segments done, pending and failed, and the last run.
    Status(StatusArgs),
    /// Put a job's permanently failed segments back to pending.
    RetryFailed(JobsArgs),
    /// List a provider's voices (Coze).
    Voices(crate::provider::voices::VoicesArgs),
    /// Check job files without rendering: the file, the manuscript, the
    /// token, and (where the provider can tell) that the voice exists and
    /// supports the requested emotion.
    Validate(JobsArgs),
    /// Serve a simulator of the Coze and Volcengine APIs on loopback.
    Sim(crate::sim::SimArgs),
    /// Print the segments of a manuscript as JSON lines.
    Segment(SegmentArgs),
}

/// Job files or folders of job files.
#[derive(Debug, Args)]
pub struct JobsArgs {
    #[arg(required = true)]
    pub jobs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[arg(required = true)]
    pub jobs: Vec<PathBuf>,
    /// Start no new segment after this local time (HH:MM, the next such
    /// time from now); in-flight segments finish, then exit 75.
    #[arg(long, value_name = "HH:MM")]
    pub until: Option<String>,
    /// Start no new segment after this long (e.g. `7h`, `90m`, `1h30m`).
    #[arg(long, value_name = "DURATION")]
    pub max_duration: Option<String>,
    /// Start no new segment once this many characters were sent in this
    /// run (overrides `[render] max_characters_per_run`); exit 75.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_characters: Option<u64>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[arg(required = true)]
    pub jobs: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Job files or names; all jobs in the database when omitted.
    pub jobs: Vec<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SegmentArgs {
    /// A job file (`*.toml`): exactly what a render sends, and the options
    /// below are the job's. Or a text or Markdown file, or `-` (or nothing)
    /// for standard input.
    pub file: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = LangArg::Mixed)]
    pub lang: LangArg,
    #[arg(long, default_value_t = Limits::MAX_CHARS)]
    pub max_chars: usize,
    #[arg(long, default_value_t = Limits::MAX_BYTES)]
    pub max_bytes: usize,
    /// Speak bracketed editorial blocks such as [Illustration: ...].
    #[arg(long)]
    pub keep_brackets: bool,
}

/// The sentence rules' language; `mixed` (alias `auto`) is the job file's
/// name for text in both scripts.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LangArg {
    Zh,
    En,
    #[value(alias = "auto")]
    Mixed,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Lang {
        match l {
            LangArg::Zh => Lang::Zh,
            LangArg::En => Lang::En,
            LangArg::Mixed => Lang::Auto,
        }
    }
}
