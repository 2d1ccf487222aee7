//! What the command line accepts: the clap definitions of the global options
//! and of every command's arguments, with their help and examples, and
//! nothing that acts on them (beyond naming the domain value an argument
//! stands for). Options that only some commands use (the state database,
//! the cache, per-run overrides) are flattened into those commands, so
//! `sim --help` does not offer a `--db` it would ignore.
//!
//! One file on purpose, though it is long: it is table-like (declarations
//! and help text, no control flow), read as the whole surface of the
//! command line when a flag is added, so names, headings and wording stay
//! consistent across commands; a split per command group would scatter that
//! review over several files and leave [`Command`] pointing into all of
//! them. What each command does is in its own file beside this one. The
//! order: the top level, the option groups several commands share, then one
//! section per command in [`Command`]'s order, its arguments before its
//! examples.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::plan::ChapterSet;
use crate::segment::{Lang, Limits};

const MAIN_EXAMPLES: &str = "\
Examples:
  audiobook init mybook --manuscript novel.md    write mybook/novel.toml, a commented job file
  audiobook render mybook/novel.toml             render it (again: only what changed)
  audiobook render jobs/ --until 06:30           every job of a folder, stop starting work at 06:30
  audiobook status --watch                       follow a render from another terminal

Exit codes: 0 complete, 1 segments failed or the run could not finish,
2 bad input (nothing written), 3 another render holds the lock,
75 stopped at a deadline or budget (run again to go on), 130 interrupted.";

#[derive(Debug, Parser)]
#[command(
    name = "audiobook",
    version,
    about = "Render manuscripts into audiobooks, in batch, resumably",
    long_about = "Render manuscripts into audiobooks, in batch, resumably.\n\n\
                  One TOML job file per book; `render` synthesizes what is not yet rendered \
                  and stitches chapter and book WAV files. A killed run resumes where it stopped.",
    after_help = MAIN_EXAMPLES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes, anywhere on the line.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Log format on stderr: `text` for people, `json` (one object a line)
    /// for log collectors. `AUDIOBOOK_LOG` sets the filter (e.g. `debug`).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Print only results, the summary and errors: no progress, no warnings.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented job file for a manuscript (never overwrites).
    #[command(after_help = INIT_EXAMPLES)]
    Init(InitArgs),
    /// Render job files: synthesize what is not yet rendered, then stitch
    /// chapter and book files.
    #[command(after_help = RENDER_EXAMPLES)]
    Render(RenderArgs),
    /// Dry run: chapters, segments, characters, estimated duration and
    /// cost of what is left to render. Writes nothing.
    #[command(after_help = PLAN_EXAMPLES)]
    Plan(PlanArgs),
    /// Per job: chapters and segments done, pending and failed, the runs;
    /// works beside a running render.
    #[command(after_help = STATUS_EXAMPLES)]
    Status(StatusArgs),
    /// Put a job's permanently failed segments back to pending, so the next
    /// render tries them again.
    #[command(after_help = RETRY_EXAMPLES)]
    RetryFailed(RetryArgs),
    /// List a provider's voices (Coze).
    #[command(after_help = VOICES_EXAMPLES)]
    Voices(VoicesArgs),
    /// Check job files without rendering: the file, the manuscript, the
    /// token, and (where the provider can tell) that the voice exists and
    /// supports the requested emotion.
    #[command(after_help = VALIDATE_EXAMPLES)]
    Validate(ValidateArgs),
    /// Serve a simulator of the Coze and Volcengine APIs on 127.0.0.1.
    #[command(after_help = SIM_EXAMPLES)]
    Sim(crate::sim::SimArgs),
    /// Print the segments of a manuscript as JSON lines: exactly what a
    /// render sends.
    #[command(after_help = SEGMENT_EXAMPLES)]
    Segment(SegmentArgs),
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write one page per command.
    #[command(after_help = MAN_EXAMPLES)]
    Man(ManArgs),
    /// Measure WAV files against a mastering profile: loudness, RMS, peaks,
    /// noise floor, head and tail room, and a verdict per rule (exit 1 when
    /// a file fails).
    Check(CheckArgs),
}

// Option groups that several commands flatten in.
/// Job files or folders of job files.
#[derive(Debug, Args)]
pub struct JobArgs {
    /// Job files (TOML), or folders: a folder means every `*.toml` in it,
    /// in file-name order, except `defaults.toml`.
    #[arg(required = true, value_name = "JOB")]
    pub jobs: Vec<PathBuf>,
    /// Defaults merged under every job, instead of the `defaults.toml`
    /// beside each job file.
    #[arg(long, value_name = "FILE")]
    pub defaults: Option<PathBuf>,
}

/// Where the state lives; only the commands that read or write it take these.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "State options")]
pub struct StateArgs {
    /// State database (SQLite): segment states, clips and runs. Its folder
    /// is created when missing.
    #[arg(long, env = "AUDIOBOOK_DB", default_value = "audiobook.db")]
    pub db: PathBuf,
    /// Segment cache folder: finished clips by content (safe to delete: they
    /// are rendered again).
    #[arg(long, env = "AUDIOBOOK_CACHE", default_value = "cache")]
    pub cache: PathBuf,
}

/// Changes to the jobs for this run only; the job files are not touched.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Per-run overrides")]
pub struct OverrideArgs {
    /// Render with the embedded offline engine (no token, no network, no
    /// cost) into `<output dir>-draft`, as a separate job: proof-listen a
    /// cloud job before paying for it.
    #[arg(long)]
    pub draft: bool,
    /// Only these chapters, numbered from 1: `3`, `3-5`, `3-5,9`.
    #[arg(long, value_name = "LIST", value_parser = ChapterSet::parse)]
    pub chapters: Option<ChapterSet>,
    /// Write the audio here instead of `[output] dir` (with several jobs:
    /// DIR/<job name>).
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,
}

// `init`
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Folder for the job file (created if missing; default: here).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Who speaks: the embedded engine (free, offline) or a cloud provider.
    #[arg(long, value_enum, default_value_t = InitProvider::Local)]
    pub provider: InitProvider,
    /// The manuscript (EPUB, DOCX, Markdown or text). Without it, the one
    /// `*.md`, `*.txt`, `*.epub` or `*.docx` in DIR is used, else `book.md`.
    #[arg(long, value_name = "FILE")]
    pub manuscript: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitProvider {
    Local,
    Coze,
    Volcengine,
}

const INIT_EXAMPLES: &str = "\
Examples:
  audiobook init                                  book.toml here, for the one manuscript found here
  audiobook init mybook --manuscript ~/novel.md   mybook/novel.toml, chapters guessed from novel.md
  audiobook init jobs --provider volcengine --manuscript xiyouji.txt";

// `render`
#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub jobs: JobArgs,
    /// Start no new segment after this local time (HH:MM, the next such
    /// time from now); segments in flight finish, then exit 75.
    #[arg(long, value_name = "HH:MM")]
    pub until: Option<String>,
    /// Start no new segment after this long (e.g. `7h`, `90m`, `1h30m`).
    #[arg(long, value_name = "DURATION")]
    pub max_duration: Option<String>,
    /// Start no new segment once this many characters were sent in this
    /// run (overrides `[render] max_characters_per_run`); exit 75.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_characters: Option<u64>,
    /// Run this shell command once when the run ends, with the outcome as
    /// JSON on stdin and in AUDIOBOOK_* variables (instead of the jobs'
    /// `[notify] command`).
    #[arg(long, value_name = "COMMAND")]
    pub on_finish: Option<String>,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    #[command(flatten)]
    pub state: StateArgs,
}

const RENDER_EXAMPLES: &str = "\
Examples:
  audiobook render jobs/demo.toml                  one book
  audiobook render jobs/                           every *.toml in jobs/ (defaults.toml merged under each)
  audiobook render jobs/ --until 06:30 --on-finish 'mail -s audiobook me@example.com'
  audiobook render book.toml --draft               proof-listen a cloud job with the free embedded voice
  audiobook render book.toml --chapters 3-5,9      only these chapters
  audiobook render book.toml --output /tmp/try     another output folder, this run only";

// `plan`
#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub jobs: JobArgs,
    /// One JSON object per job instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    #[command(flatten)]
    pub state: StateArgs,
}

const PLAN_EXAMPLES: &str = "\
Examples:
  audiobook plan jobs/demo.toml
  audiobook plan jobs/ --json | jq '.characters_to_render'";

// `status`
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Job files or job names; every job in the state database when
    /// omitted. A job file never rendered shows as "not started" with its
    /// plan.
    #[arg(value_name = "JOB")]
    pub jobs: Vec<String>,
    /// One JSON object per job (times in RFC 3339 with the local offset).
    #[arg(long)]
    pub json: bool,
    /// Show it again every `--interval` seconds while a render runs; ends
    /// when no render is running.
    #[arg(long)]
    pub watch: bool,
    /// Seconds between refreshes with `--watch`.
    #[arg(long, value_name = "SECS", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub interval: u64,
    /// Defaults merged under job files named here.
    #[arg(long, value_name = "FILE")]
    pub defaults: Option<PathBuf>,
    #[command(flatten)]
    pub state: StateArgs,
}

const STATUS_EXAMPLES: &str = "\
Examples:
  audiobook status                      every job in the state database
  audiobook status jobs/book.toml       one job (\"not started\" with its plan if never rendered)
  audiobook status --watch              refresh every 2 s while a render runs
  audiobook status --json | jq .counts";

// `retry-failed`
#[derive(Debug, Args)]
pub struct RetryArgs {
    #[command(flatten)]
    pub jobs: JobArgs,
    #[command(flatten)]
    pub state: StateArgs,
}

const RETRY_EXAMPLES: &str = "\
Examples:
  audiobook retry-failed jobs/book.toml && audiobook render jobs/book.toml";

// `voices`
/// `audiobook voices`: list the voices of a cloud account.
#[derive(Debug, Clone, Args)]
pub struct VoicesArgs {
    /// The provider to ask.
    #[arg(long, value_enum, default_value = "coze")]
    pub provider: VoiceProvider,
    /// Leave out the system voices (list only the account's own).
    #[arg(long)]
    pub filter_system: bool,
    /// Only big-model or small-model voices.
    #[arg(long, value_enum)]
    pub model: Option<ModelType>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The API base URL (a simulator: http://127.0.0.1:PORT).
    #[arg(long, default_value = "https://api.coze.cn")]
    pub base_url: String,
    /// The environment variable that holds the token.
    #[arg(long, default_value = "COZE_API_TOKEN")]
    pub token_env: String,
}

/// The providers with a voice list API (Volcengine v1 has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VoiceProvider {
    Coze,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelType {
    Big,
    Small,
}

impl ModelType {
    /// The name the voice list API filters by.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelType::Big => "big",
            ModelType::Small => "small",
        }
    }
}

const VOICES_EXAMPLES: &str = "\
Examples:
  COZE_API_TOKEN=... audiobook voices --filter-system
  audiobook voices --json --base-url http://127.0.0.1:8080 --token-env SIM_TOKEN";

// `validate`
#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub jobs: JobArgs,
}

const VALIDATE_EXAMPLES: &str = "\
Examples:
  audiobook validate jobs/
  audiobook validate book.toml --defaults shared/defaults.toml";

// `sim`: its arguments are the simulator's own settings overlay, `crate::sim::SimArgs`.
const SIM_EXAMPLES: &str = "\
Examples:
  audiobook sim --port 8080 --tone
  audiobook sim --quota 4 --latency-ms 200 --fault 3005:0.05 --fault coze:4020:0.1";

// `segment`
#[derive(Debug, Args)]
pub struct SegmentArgs {
    /// A job file (`*.toml`): exactly what a render sends, and the options
    /// below are the job's. Or a text or Markdown file, or `-` (or nothing)
    /// for standard input.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Sentence rules: Chinese, English, or by the script at each boundary.
    #[arg(long, value_enum, default_value_t = LangArg::Mixed)]
    pub lang: LangArg,
    /// Longest segment in characters (1..=300), as `[manuscript] max_chars`.
    #[arg(long, value_name = "N", default_value_t = Limits::MAX_CHARS)]
    pub max_chars: usize,
    /// Longest segment in UTF-8 bytes (4..=1024), as `[manuscript] max_bytes`.
    #[arg(long, value_name = "N", default_value_t = Limits::MAX_BYTES)]
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

const SEGMENT_EXAMPLES: &str = "\
Examples:
  audiobook segment book.md | jq -r .text
  echo '他说：“你好！”然后离开了。' | audiobook segment --lang zh";

// `completions`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  audiobook completions bash > ~/.local/share/bash-completion/completions/audiobook
  audiobook completions zsh > ~/.zfunc/_audiobook
  audiobook completions fish > ~/.config/fish/completions/audiobook.fish
  audiobook completions powershell >> $PROFILE";

// `man`
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `audiobook.1` and one `audiobook-<command>.1` per command into
    /// this folder instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

const MAN_EXAMPLES: &str = "\
Examples:
  audiobook man | man -l -
  audiobook man --dir /usr/local/share/man/man1";

// `check`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// WAV files to measure.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The profile whose rules apply.
    #[arg(long, value_enum, default_value_t = ProfileArg::Acx)]
    pub profile: ProfileArg,
    /// One JSON document (like qa.json) instead of text.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV, one line per file (like qa.csv).
    #[arg(long)]
    pub csv: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProfileArg {
    Acx,
    #[value(name = "ebu-r128")]
    EbuR128,
    Podcast,
    None,
}

impl From<ProfileArg> for crate::job::Profile {
    fn from(p: ProfileArg) -> Self {
        use crate::job::Profile;
        match p {
            ProfileArg::Acx => Profile::Acx,
            ProfileArg::EbuR128 => Profile::EbuR128,
            ProfileArg::Podcast => Profile::Podcast,
            ProfileArg::None => Profile::None,
        }
    }
}
