//! The state store: SQLite through sqlx, in WAL mode, schema in `migrations/`.
//!
//! It holds every job's plan (chapters and segments in order), each segment's
//! lifecycle state, the finished clips of the cache with their checksums, and
//! the runs. A clip's word timings, when the provider gave any, are kept
//! with its row as JSON (`clips.words`). The plan is written in one transaction; a segment is marked done
//! only after its clip is safely in the cache, so the database never claims
//! more than the disk holds.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use crate::cache::StoredClip;
use crate::job::Job;
use crate::provider::{ErrorClass, WordTiming};

/// Timestamps are written by SQLite itself, in UTC, ISO 8601.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

/// A segment's lifecycle. Persisted at every transition; a run that starts
/// demotes `InFlight` (left by a killed run) back to `Pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentState {
    Pending,
    InFlight,
    Done,
    Failed,
    /// The provider refused the text as unspeakable: rendered as a pause.
    Pause,
}

impl SegmentState {
    pub fn as_str(self) -> &'static str {
        match self {
            SegmentState::Pending => "pending",
            SegmentState::InFlight => "in_flight",
            SegmentState::Done => "done",
            SegmentState::Failed => "failed",
            SegmentState::Pause => "pause",
        }
    }
}

impl FromStr for SegmentState {
    type Err = sqlx::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "pending" => SegmentState::Pending,
            "in_flight" => SegmentState::InFlight,
            "done" => SegmentState::Done,
            "failed" => SegmentState::Failed,
            "pause" => SegmentState::Pause,
            other => {
                return Err(sqlx::Error::Decode(
                    format!("unknown segment state {other:?}").into(),
                ));
            }
        })
    }
}

/// One chapter of a plan, as the renderer computed it.
#[derive(Debug, Clone)]
pub struct PlannedChapter {
    pub title: String,
    pub segments: Vec<PlannedSegment>,
}

#[derive(Debug, Clone)]
pub struct PlannedSegment {
    pub paragraph: u32,
    pub ends_paragraph: bool,
    /// The text as the manuscript has it: the manifest shows it.
    pub text: String,
    /// The text sent to the voice when the lexicon changed it.
    pub spoken: Option<String>,
    pub content_key: String,
}

impl PlannedSegment {
    /// The text sent to the voice.
    pub fn sent(&self) -> &str {
        self.spoken.as_deref().unwrap_or(&self.text)
    }
}

/// A unit of work: one distinct content key still to synthesize. Segments
/// that share a key (a repeated sentence) are rendered once.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Work {
    pub content_key: String,
    /// The text sent to the voice (the lexicon applied).
    pub text: String,
}

/// A segment as stored, with its clip's checksum when it has one.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SegmentRow {
    pub chapter_idx: i64,
    pub idx: i64,
    pub paragraph_idx: i64,
    pub ends_paragraph: bool,
    pub text: String,
    pub content_key: String,
    pub state: String,
    pub attempts: i64,
    pub error_class: Option<String>,
    pub last_error: Option<String>,
    pub sha256: Option<String>,
    pub samples: Option<i64>,
    /// The clip's word timings as stored (JSON); read them with [`SegmentRow::words`].
    pub words: Option<String>,
}

impl SegmentRow {
    pub fn state(&self) -> SegmentState {
        self.state.parse().unwrap_or(SegmentState::Pending)
    }

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
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub path: String,
    pub name: String,
    pub title: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRow {
    pub id: i64,
    pub pid: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub outcome: String,
    pub synthesized: i64,
    pub cached: i64,
    pub failed: i64,
    pub retries: i64,
    pub requests: i64,
    pub rate_limited: i64,
    /// The adaptive concurrency window, kept current while the run goes on.
    pub window: Option<i64>,
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
}

/// What one run did, recorded when it ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunStats {
    pub synthesized: u64,
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

#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Store, sqlx::Error> {
        Self::connect(path, true).await
    }

    /// Opens an existing database; a missing file is an error, never a new
    /// empty database (`status` must not invent state).
    pub async fn open_existing(path: &Path) -> Result<Store, sqlx::Error> {
        Self::connect(path, false).await
    }

    async fn connect(path: &Path, create: bool) -> Result<Store, sqlx::Error> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable across process kills in WAL mode; clips are
            // fsynced themselves before their rows are written.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Records a job's plan in one transaction and returns the job's id.
    /// Segments whose clip is already in the cache are done at once; a
    /// segment that failed permanently before stays failed (with its error)
    /// until `retry-failed`, as long as its content is unchanged.
    pub async fn write_plan(
        &self,
        job: &Job,
        chapters: &[PlannedChapter],
    ) -> Result<i64, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let path = job.path.display().to_string();
        let job_id: i64 = sqlx::query_scalar(
            "INSERT INTO jobs (path, name, title, created_at, planned_at)
             VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ','now'), strftime('%Y-%m-%dT%H:%M:%fZ','now'))
             ON CONFLICT (path) DO UPDATE SET name = excluded.name, title = excluded.title,
                 planned_at = excluded.planned_at
             RETURNING id",
        )
        .bind(&path)
        .bind(&job.name)
        .bind(&job.book.title)
        .fetch_one(&mut *tx)
        .await?;

        // Keep what earlier runs learned about segments whose text is unchanged.
        sqlx::query("DROP TABLE IF EXISTS temp.previous")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "CREATE TEMP TABLE previous AS
             SELECT content_key, state, attempts, error_class, last_error FROM segments
             WHERE job_id = ? AND state IN ('failed', 'pause')",
        )
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM segments WHERE job_id = ?")
            .bind(job_id)
            .execute(&mut *tx)
            .await?;
        let old_chapters: Vec<ChapterRow> =
            sqlx::query_as("SELECT idx, title, stitch_key, samples FROM chapters WHERE job_id = ?")
                .bind(job_id)
                .fetch_all(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM chapters WHERE job_id = ?")
            .bind(job_id)
            .execute(&mut *tx)
            .await?;

        for (c, chapter) in chapters.iter().enumerate() {
            let old = old_chapters.iter().find(|o| o.idx == c as i64);
            sqlx::query("INSERT INTO chapters (job_id, idx, title, stitch_key, samples) VALUES (?, ?, ?, ?, ?)")
                .bind(job_id)
                .bind(c as i64)
                .bind(&chapter.title)
                .bind(old.and_then(|o| o.stitch_key.clone()))
                .bind(old.and_then(|o| o.samples))
                .execute(&mut *tx)
                .await?;
            insert_segments(&mut tx, job_id, c as i64, &chapter.segments).await?;
        }

        sqlx::query(
            "UPDATE segments SET state = 'done' WHERE job_id = ?
             AND content_key IN (SELECT content_key FROM clips)",
        )
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE segments SET
                 state = p.state, attempts = p.attempts, error_class = p.error_class, last_error = p.last_error
             FROM (SELECT content_key, state, attempts, error_class, last_error FROM temp.previous) AS p
             WHERE segments.job_id = ? AND segments.state = 'pending' AND segments.content_key = p.content_key",
        )
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DROP TABLE temp.previous")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(job_id)
    }

    /// Segments left in flight by a killed run go back to pending, and runs
    /// it left "running" are marked killed.
    pub async fn recover(&self, job_id: i64) -> Result<u64, sqlx::Error> {
        let demoted = sqlx::query(
            "UPDATE segments SET state = 'pending', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
             WHERE job_id = ? AND state = 'in_flight'",
        )
        .bind(job_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        sqlx::query(
            "UPDATE runs SET outcome = 'killed' WHERE job_id = ? AND outcome = 'running' AND pid != ?",
        )
        .bind(job_id)
        .bind(i64::from(std::process::id()))
        .execute(&self.pool)
        .await?;
        Ok(demoted)
    }

    /// Distinct content keys of the job still to synthesize, in book order.
    pub async fn pending_work(&self, job_id: i64) -> Result<Vec<Work>, sqlx::Error> {
        sqlx::query_as(
            "SELECT content_key, COALESCE(spoken, text) AS text FROM segments
             WHERE job_id = ? AND state = 'pending'
             GROUP BY content_key ORDER BY MIN(chapter_idx * 1000000 + idx)",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await
    }

    pub async fn mark_in_flight(&self, job_id: i64, key: &str) -> Result<(), sqlx::Error> {
        self.set_state(job_id, key, SegmentState::InFlight).await
    }

    pub async fn mark_pending(&self, job_id: i64, key: &str) -> Result<(), sqlx::Error> {
        self.set_state(job_id, key, SegmentState::Pending).await
    }

    async fn set_state(
        &self,
        job_id: i64,
        key: &str,
        state: SegmentState,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE segments SET state = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
             WHERE job_id = ? AND content_key = ? AND state IN ('pending', 'in_flight')",
        )
        .bind(state.as_str())
        .bind(job_id)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a clip that is already safely in the cache, and marks every
    /// segment with its key done, in one transaction.
    pub async fn mark_done(
        &self,
        key: &str,
        clip: &StoredClip,
        attempts: u32,
    ) -> Result<(), sqlx::Error> {
        let words = if clip.words.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&clip.words).map_err(|e| sqlx::Error::Encode(e.into()))?)
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO clips (content_key, sha256, samples, sample_rate, words, created_at)
             VALUES (?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ','now'))
             ON CONFLICT (content_key) DO UPDATE SET sha256 = excluded.sha256,
                 samples = excluded.samples, sample_rate = excluded.sample_rate,
                 words = excluded.words",
        )
        .bind(key)
        .bind(&clip.sha256)
        .bind(clip.samples as i64)
        .bind(i64::from(clip.sample_rate))
        .bind(words)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE segments SET state = 'done', attempts = attempts + ?, error_class = NULL,
                 last_error = NULL, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
             WHERE content_key = ? AND state IN ('pending', 'in_flight')",
        )
        .bind(i64::from(attempts))
        .bind(key)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// Records a permanent failure (or a pause for unspeakable text).
    pub async fn mark_failed(
        &self,
        job_id: i64,
        key: &str,
        class: ErrorClass,
        message: &str,
        attempts: u32,
    ) -> Result<(), sqlx::Error> {
        let state = if class == ErrorClass::Unspeakable {
            SegmentState::Pause
        } else {
            SegmentState::Failed
        };
        let class_name = serde_json::to_value(class)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        sqlx::query(
            "UPDATE segments SET state = ?, attempts = attempts + ?, error_class = ?, last_error = ?,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
             WHERE job_id = ? AND content_key = ? AND state IN ('pending', 'in_flight')",
        )
        .bind(state.as_str())
        .bind(i64::from(attempts))
        .bind(class_name)
        .bind(message)
        .bind(job_id)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A clip whose file is missing or corrupt: forget it, and put every
    /// segment using it back to pending so it is rendered again.
    pub async fn forget_clip(&self, key: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM clips WHERE content_key = ?")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE segments SET state = 'pending', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
             WHERE content_key = ? AND state = 'done'",
        )
        .bind(key)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// Puts the job's permanently failed segments back to pending.
    pub async fn retry_failed(&self, job_id: i64) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE segments SET state = 'pending', attempts = 0, error_class = NULL, last_error = NULL,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
             WHERE job_id = ? AND state = 'failed'",
        )
        .bind(job_id)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    pub async fn chapters(&self, job_id: i64) -> Result<Vec<ChapterRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT idx, title, stitch_key, samples FROM chapters WHERE job_id = ? ORDER BY idx",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await
    }

    /// All segments of a job in book order, with their clips' checksums and
    /// word timings.
    pub async fn segments(&self, job_id: i64) -> Result<Vec<SegmentRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT s.chapter_idx, s.idx, s.paragraph_idx, s.ends_paragraph, s.text, s.content_key,
                    s.state, s.attempts, s.error_class, s.last_error, c.sha256, c.samples,
                    c.words
             FROM segments s LEFT JOIN clips c ON c.content_key = s.content_key
             WHERE s.job_id = ? ORDER BY s.chapter_idx, s.idx",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await
    }

    pub async fn set_stitched(
        &self,
        job_id: i64,
        chapter: i64,
        stitch_key: &str,
        samples: u64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE chapters SET stitch_key = ?, samples = ? WHERE job_id = ? AND idx = ?")
            .bind(stitch_key)
            .bind(samples as i64)
            .bind(job_id)
            .bind(chapter)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn counts(&self, job_id: i64) -> Result<Counts, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT state, COUNT(*) AS n, SUM(chars) AS chars FROM segments WHERE job_id = ? GROUP BY state",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?;
        let mut counts = Counts::default();
        for row in rows {
            let state: String = row.try_get("state")?;
            let n = row.try_get::<i64, _>("n")? as u64;
            let chars = row.try_get::<Option<i64>, _>("chars")?.unwrap_or(0) as u64;
            counts.chars_total += chars;
            match state.parse()? {
                SegmentState::Pending => counts.pending = n,
                SegmentState::InFlight => counts.in_flight = n,
                SegmentState::Done => {
                    counts.done = n;
                    counts.chars_done = chars;
                }
                SegmentState::Failed => counts.failed = n,
                SegmentState::Pause => counts.pause = n,
            }
        }
        Ok(counts)
    }

    pub async fn jobs(&self) -> Result<Vec<JobRow>, sqlx::Error> {
        sqlx::query_as("SELECT id, path, name, title FROM jobs ORDER BY name, path")
            .fetch_all(&self.pool)
            .await
    }

    pub async fn start_run(&self, job_id: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO runs (job_id, pid, started_at, outcome)
             VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ','now'), 'running') RETURNING id",
        )
        .bind(job_id)
        .bind(i64::from(std::process::id()))
        .fetch_one(&self.pool)
        .await
    }

    pub async fn finish_run(
        &self,
        run_id: i64,
        outcome: &str,
        stats: &RunStats,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE runs SET finished_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), outcome = ?,
                 synthesized = ?, cached = ?, failed = ?, retries = ?, requests = ?,
                 rate_limited = ?, rate_limit_wait_ms = ?, window = ? WHERE id = ?",
        )
        .bind(outcome)
        .bind(stats.synthesized as i64)
        .bind(stats.cached as i64)
        .bind(stats.failed as i64)
        .bind(stats.retries as i64)
        .bind(stats.requests as i64)
        .bind(stats.rate_limited as i64)
        .bind(stats.rate_limit_wait_ms as i64)
        .bind(stats.window as i64)
        .bind(run_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The window as it changes, so `status` can show it during a run.
    pub async fn set_run_window(&self, run_id: i64, window: usize) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE runs SET window = ? WHERE id = ?")
            .bind(window as i64)
            .bind(run_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn last_run(&self, job_id: i64) -> Result<Option<RunRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, pid, started_at, finished_at, outcome, synthesized, cached, failed, retries,
                    requests, rate_limited, window
             FROM runs WHERE job_id = ? ORDER BY id DESC LIMIT 1",
        )
        .bind(job_id)
        .fetch_optional(&self.pool)
        .await
    }

    /// Segments of the job finished since `since` (a timestamp this database
    /// wrote, such as a run's start), and the seconds elapsed since it, both
    /// by the database's clock so the two agree.
    pub async fn progress_since(
        &self,
        job_id: i64,
        since: &str,
    ) -> Result<(u64, f64), sqlx::Error> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM segments
                     WHERE job_id = ? AND state = 'done' AND updated_at >= ?) AS done,
                    (julianday('now') - julianday(?)) * 86400.0 AS secs",
        )
        .bind(job_id)
        .bind(since)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        let done = row.try_get::<i64, _>("done")? as u64;
        let secs = row.try_get::<Option<f64>, _>("secs")?.unwrap_or(0.0);
        Ok((done, secs.max(0.0)))
    }

    /// `PRAGMA integrity_check`: "ok" when the database is sound.
    pub async fn integrity_check(&self) -> Result<String, sqlx::Error> {
        sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&self.pool)
            .await
    }
}

/// Multi-row inserts: a 16,000-segment book is planned in well under a second.
async fn insert_segments(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    job_id: i64,
    chapter: i64,
    segments: &[PlannedSegment],
) -> Result<(), sqlx::Error> {
    const ROWS_PER_STATEMENT: usize = 500;
    for (chunk_no, chunk) in segments.chunks(ROWS_PER_STATEMENT).enumerate() {
        let mut builder: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO segments (job_id, chapter_idx, idx, paragraph_idx, ends_paragraph, text,
                 spoken, chars, content_key, state, updated_at) ",
        );
        builder.push_values(chunk.iter().enumerate(), |mut row, (i, s)| {
            row.push_bind(job_id)
                .push_bind(chapter)
                .push_bind((chunk_no * ROWS_PER_STATEMENT + i) as i64)
                .push_bind(i64::from(s.paragraph))
                .push_bind(s.ends_paragraph)
                .push_bind(s.text.clone())
                .push_bind(s.spoken.clone())
                .push_bind(s.sent().chars().count() as i64)
                .push_bind(s.content_key.clone())
                .push_bind("pending")
                .push(NOW);
        });
        builder.build().execute(&mut **tx).await?;
    }
    Ok(())
}
