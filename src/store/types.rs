//! What the state store hands out: the lifecycle enums of segments and runs
//! (stored as checked TEXT and read back strictly: an unknown value is an
//! error naming its row, never a silent default) and the rows and figures
//! the renderer and the command line read.

use std::fmt;
use std::str::FromStr;

use crate::plan::ContentKey;
use crate::provider::WordTiming;

/// A segment's lifecycle. Persisted at every transition; a run that starts
/// demotes `InFlight` (left by a killed run) back to `Pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentState {
    Pending,
    InFlight,
    Done,
    Failed,
    /// The provider refused the text as unspeakable: rendered as a pause.
    Pause,
}

/// How a run ended, as the `runs` table records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Still going, or its process died without saying so (see `Killed`).
    Running,
    /// Every segment rendered; chapter and book files written.
    Complete,
    /// Some segments failed permanently; the rest was rendered and stitched.
    Failed,
    /// Stopped by a signal; state saved.
    Interrupted,
    /// Stopped at a deadline or budget with segments still pending.
    Incomplete,
    /// Its process was found gone while the run was recorded as running.
    Killed,
    /// The run could not finish (disk full, database error, fatal provider error).
    Error,
}

/// Both lifecycle enums are TEXT columns with a CHECK listing these names.
macro_rules! text_enum {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }
        }

        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($name => Ok($ty::$variant),)+
                    other => Err(format!(concat!("unknown ", $what, " {:?}"), other)),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(SegmentState, "segment state", {
    Pending => "pending",
    InFlight => "in_flight",
    Done => "done",
    Failed => "failed",
    Pause => "pause",
});

text_enum!(RunOutcome, "run outcome", {
    Running => "running",
    Complete => "complete",
    Failed => "failed",
    Interrupted => "interrupted",
    Incomplete => "incomplete",
    Killed => "killed",
    Error => "error",
});

/// A stored lifecycle value parsed, or a decode error naming the row.
pub(super) fn parse_column<T: FromStr<Err = String>>(
    value: &str,
    row: impl fmt::Display,
) -> Result<T, sqlx::Error> {
    value.parse().map_err(|e: String| {
        sqlx::Error::Decode(
            format!("{row} in the state database: {e}; the database was written by another program or version").into(),
        )
    })
}

/// A unit of work: one distinct content key still to synthesize. Segments
/// that share a key (a repeated sentence) are rendered once.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Work {
    pub content_key: ContentKey,
    /// The text sent to the voice (the lexicon applied).
    pub text: String,
    /// How many segments of the book share this text (a repeated sentence
    /// is synthesized once and counts for each of its segments).
    pub segments: i64,
    /// The first chapter (0-based) it occurs in.
    pub chapter: i64,
}

/// Where a page of pending work ended: (chapter, segment) in book order.
pub type WorkCursor = (i64, i64);

/// A clip a job uses, as recorded: what checking its file needs.
#[derive(Debug, Clone)]
pub struct ClipRow {
    pub content_key: ContentKey,
    pub sha256: String,
    pub stamp: Option<crate::cache::FileStamp>,
}

impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for ClipRow {
    fn from_row(row: &'r sqlx::sqlite::SqliteRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row;
        let size: Option<i64> = row.try_get("file_size")?;
        let modified_ns: Option<i64> = row.try_get("file_mtime_ns")?;
        Ok(ClipRow {
            content_key: row.try_get("content_key")?,
            sha256: row.try_get("sha256")?,
            stamp: size
                .zip(modified_ns)
                .map(|(size, modified_ns)| crate::cache::FileStamp {
                    size: size as u64,
                    modified_ns,
                }),
        })
    }
}

/// A segment as stored, with its clip's checksum when it has one.
#[derive(Debug, Clone)]
pub struct SegmentRow {
    pub chapter_idx: i64,
    pub idx: i64,
    pub paragraph_idx: i64,
    pub ends_paragraph: bool,
    pub text: String,
    pub content_key: ContentKey,
    pub state: SegmentState,
    pub attempts: i64,
    pub error_class: Option<String>,
    /// The last failure's cause: message and code, without ids.
    pub last_error: Option<String>,
    /// The service's log id and our request id of the last failure.
    pub error_log_id: Option<String>,
    pub error_request_id: Option<String>,
    pub sha256: Option<String>,
    pub samples: Option<i64>,
    /// The clip's word timings as stored (JSON); read them with [`SegmentRow::words`].
    pub words: Option<String>,
}

impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for SegmentRow {
    fn from_row(row: &'r sqlx::sqlite::SqliteRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row;
        let chapter_idx: i64 = row.try_get("chapter_idx")?;
        let idx: i64 = row.try_get("idx")?;
        let state: String = row.try_get("state")?;
        Ok(SegmentRow {
            state: parse_column(
                &state,
                format_args!("segment {idx} of chapter {}", chapter_idx + 1),
            )?,
            chapter_idx,
            idx,
            paragraph_idx: row.try_get("paragraph_idx")?,
            ends_paragraph: row.try_get("ends_paragraph")?,
            text: row.try_get("text")?,
            content_key: row.try_get("content_key")?,
            attempts: row.try_get("attempts")?,
            error_class: row.try_get("error_class")?,
            last_error: row.try_get("last_error")?,
            error_log_id: row.try_get("error_log_id")?,
            error_request_id: row.try_get("error_request_id")?,
            sha256: row.try_get("sha256")?,
            samples: row.try_get("samples")?,
            words: row.try_get("words")?,
        })
    }
}

impl SegmentRow {
    /// The clip's word timings; empty when it has none. Timings that do not
    /// decode are dropped with a warning: they are an extra, never a reason
    /// to fail a render whose audio is fine.
    pub fn words(&self) -> Vec<WordTiming> {
        let Some(json) = self.words.as_deref() else {
            return Vec::new();
        };
        serde_json::from_str(json).unwrap_or_else(|e| {
            tracing::warn!(segment = %self.content_key, error = %e, "stored word timings do not decode; left out");
            Vec::new()
        })
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChapterRow {
    pub idx: i64,
    pub title: String,
    pub stitch_key: Option<String>,
    pub samples: Option<i64>,
    /// A few numbers of what the chapter was made into, as JSON (see
    /// `stitch`): recorded with its stitch key and layout.
    pub summary: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub path: String,
    pub name: String,
    pub title: String,
}

#[derive(Debug, Clone)]
pub struct RunRow {
    pub id: i64,
    pub pid: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub outcome: RunOutcome,
    pub synthesized: i64,
    pub cached: i64,
    pub failed: i64,
    pub retries: i64,
    pub requests: i64,
    pub rate_limited: i64,
    /// The adaptive concurrency window, kept current while the run goes on.
    pub window: Option<i64>,
    /// The provider error that stopped the run at once, with its ids.
    pub stopped_by: Option<String>,
}

impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for RunRow {
    fn from_row(row: &'r sqlx::sqlite::SqliteRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row;
        let id: i64 = row.try_get("id")?;
        let outcome: String = row.try_get("outcome")?;
        Ok(RunRow {
            outcome: parse_column(&outcome, format_args!("run {id}"))?,
            id,
            pid: row.try_get("pid")?,
            started_at: row.try_get("started_at")?,
            finished_at: row.try_get("finished_at")?,
            synthesized: row.try_get("synthesized")?,
            cached: row.try_get("cached")?,
            failed: row.try_get("failed")?,
            retries: row.try_get("retries")?,
            requests: row.try_get("requests")?,
            rate_limited: row.try_get("rate_limited")?,
            window: row.try_get("window")?,
            stopped_by: row.try_get("stopped_by")?,
        })
    }
}

/// Segment counts of one job, by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub pending: u64,
    pub in_flight: u64,
    pub done: u64,
    pub failed: u64,
    pub pause: u64,
    pub chars_total: u64,
    pub chars_done: u64,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.pending + self.in_flight + self.done + self.failed + self.pause
    }

    /// Adds `n` segments of `chars` characters in `state`.
    pub fn add(&mut self, state: SegmentState, n: u64, chars: u64) {
        self.chars_total += chars;
        match state {
            SegmentState::Pending => self.pending += n,
            SegmentState::InFlight => self.in_flight += n,
            SegmentState::Done => {
                self.done += n;
                self.chars_done += chars;
            }
            SegmentState::Failed => self.failed += n,
            SegmentState::Pause => self.pause += n,
        }
    }
}

/// One chapter's segments in one state.
#[derive(Debug, Clone, Copy)]
pub struct ChapterTally {
    pub chapter_idx: i64,
    pub state: SegmentState,
    pub segments: u64,
    pub chars: u64,
    /// Samples of their clips (done segments only have clips).
    pub samples: u64,
}

/// What one run did, recorded when it ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunStats {
    /// Segments synthesized in this run; a sentence repeated in the book is
    /// one clip and counts for each of its segments.
    pub synthesized: u64,
    /// Distinct texts synthesized in this run (one clip, one request
    /// without retries, each).
    pub clips: u64,
    /// Segments that were already rendered (their clips were in the cache).
    pub cached: u64,
    pub failed: u64,
    pub retries: u64,
    /// Requests sent to the provider, retries included.
    pub requests: u64,
    /// Answers that said the account was over its quota.
    pub rate_limited: u64,
    /// Time spent waiting out rate limits before retrying, summed over segments.
    pub rate_limit_wait_ms: u64,
    /// The concurrency window when the run ended.
    pub window: u64,
}
