//! Recording a job's plan: the job row, its chapters and segments in one
//! transaction, keeping what earlier runs learned about unchanged segments.
//!
//! The plan comes as a stream ([`Plan::items`]) and is written a statement
//! of a few hundred rows at a time, so recording a book holds one statement's
//! segments in memory, never the book's. A stop request is honoured between
//! any two statements: the transaction is rolled back, the database is as it
//! was (an earlier plan and its states intact), and the next run records the
//! plan again. A plan is recorded with its hash; the same plan again (the
//! nightly run of a finished book) writes nothing and only marks done what
//! another job rendered meanwhile.

use std::time::Instant;

use sha2::{Digest, Sha256};
use sqlx::{QueryBuilder, Sqlite, Transaction};

use super::{NOW, Store};
use crate::job::Job;
use crate::plan::{Item, Plan, PlannedSegment};

/// Rows per `INSERT`, and segments between two looks at the stop request.
const ROWS_PER_STATEMENT: usize = 500;
/// Rows per `DELETE` of an earlier plan's segments.
const ROWS_PER_DELETE: i64 = 10_000;

/// How recording a plan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanWritten {
    /// The plan is recorded (or was already): the job's id.
    Recorded(i64),
    /// Stopped on request before the plan was recorded: nothing changed.
    Stopped,
}

impl Store {
    /// Records a job's plan and returns the job's id, unless `stop` says
    /// so first (it is asked between statements). Segments whose clip is
    /// already in the cache are done at once; a segment that failed
    /// permanently before stays failed (with its error) until
    /// `retry-failed`, as long as its content is unchanged.
    pub async fn write_plan(
        &self,
        plan: &Plan<'_>,
        stop: &(impl Fn() -> bool + Sync),
    ) -> Result<PlanWritten, sqlx::Error> {
        let job = plan.job();
        let inputs = plan.inputs_digest();
        let recorded: Option<(i64, Option<String>, Option<String>)> =
            sqlx::query_as("SELECT id, plan_hash, plan_inputs FROM jobs WHERE path = ?")
                .bind(job.path.display().to_string())
                .fetch_optional(&self.pool)
                .await?;
        if let Some((job_id, Some(old), old_inputs)) = recorded {
            // The same inputs make the same plan: it is not made again.
            if inputs.is_some() && old_inputs == inputs {
                if stop() {
                    return Ok(PlanWritten::Stopped);
                }
                self.adopt_shared_clips(job_id).await?;
                return Ok(PlanWritten::Recorded(job_id));
            }
            match plan_hash(plan, stop).await {
                None => return Ok(PlanWritten::Stopped),
                Some(hash) if hash == old => {
                    self.adopt_shared_clips(job_id).await?;
                    self.set_plan_inputs(job_id, inputs.as_deref()).await?;
                    return Ok(PlanWritten::Recorded(job_id));
                }
                Some(_) => {}
            }
        }
        tracing::info!(job = %job.name, "recording the plan");
        let started = Instant::now();
        let mut tx = self.pool.begin().await?;
        match record(&mut tx, plan, stop, inputs.as_deref()).await? {
            Some(recorded) => {
                tx.commit().await?;
                tracing::info!(
                    job = %job.name,
                    chapters = recorded.chapters,
                    segments = recorded.segments,
                    secs = format!("{:.1}", started.elapsed().as_secs_f64()),
                    "recorded the plan"
                );
                Ok(PlanWritten::Recorded(recorded.job_id))
            }
            None => {
                tx.rollback().await?;
                tracing::info!(job = %job.name, "stopped while recording the plan; the state database is as it was");
                Ok(PlanWritten::Stopped)
            }
        }
    }

    /// Records the digest of what the job's plan, as recorded, is made from.
    async fn set_plan_inputs(&self, job_id: i64, inputs: Option<&str>) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE jobs SET plan_inputs = ? WHERE id = ?")
            .bind(inputs)
            .bind(job_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Pending segments whose clip another job rendered are done.
    async fn adopt_shared_clips(&self, job_id: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE segments SET state = 'done' WHERE job_id = ? AND state = 'pending'
             AND content_key IN (SELECT content_key FROM clips)",
        )
        .bind(job_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// What [`record`] wrote.
struct Recorded {
    job_id: i64,
    chapters: usize,
    segments: u64,
}

/// Writes the plan in `tx`, with the digest of its `inputs`; `None` when
/// `stop` asked to stop (the caller rolls back).
async fn record(
    tx: &mut Transaction<'_, Sqlite>,
    plan: &Plan<'_>,
    stop: &(impl Fn() -> bool + Sync),
    inputs: Option<&str>,
) -> Result<Option<Recorded>, sqlx::Error> {
    let job = plan.job();
    let job_id: i64 = sqlx::query_scalar(
        "INSERT INTO jobs (path, name, title, created_at, planned_at)
         VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ','now'), strftime('%Y-%m-%dT%H:%M:%fZ','now'))
         ON CONFLICT (path) DO UPDATE SET name = excluded.name, title = excluded.title,
             planned_at = excluded.planned_at
         RETURNING id",
    )
    .bind(job.path.display().to_string())
    .bind(&job.name)
    .bind(&job.book.title)
    .fetch_one(&mut **tx)
    .await?;
    let previous = keep_previous_states(tx, job_id).await?;
    if !delete_segments(tx, job_id, stop).await? {
        return Ok(None);
    }
    // What each chapter was made into stays with its index, copied inside
    // the database: a book's layouts are never read into memory.
    sqlx::query("DROP TABLE IF EXISTS temp.previous_chapters")
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "CREATE TEMP TABLE previous_chapters AS
         SELECT idx, stitch_key, samples, mastered, summary FROM chapters WHERE job_id = ?",
    )
    .bind(job_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM chapters WHERE job_id = ?")
        .bind(job_id)
        .execute(&mut **tx)
        .await?;

    let mut hash = PlanHash::new(job);
    let mut rows = Rows {
        job_id,
        waiting: Vec::with_capacity(ROWS_PER_STATEMENT),
    };
    // The chapter being written (-1 before the first) and its next index.
    let (mut chapter, mut idx) = (-1i64, 0i64);
    let mut segments = 0u64;
    for item in plan.items() {
        hash.add(&item);
        match item {
            Item::Chapter(title) => {
                chapter += 1;
                idx = 0;
                sqlx::query(
                    "INSERT INTO chapters (job_id, idx, title, stitch_key, samples, mastered, summary)
                     SELECT ?1, ?2, ?3, p.stitch_key, p.samples, p.mastered, p.summary
                     FROM (SELECT 1) LEFT JOIN temp.previous_chapters AS p ON p.idx = ?2",
                )
                .bind(job_id)
                .bind(chapter)
                .bind(title)
                .execute(&mut **tx)
                .await?;
            }
            Item::Segment(segment) => {
                segments += 1;
                rows.waiting.push((chapter, idx, segment));
                idx += 1;
                if rows.waiting.len() == ROWS_PER_STATEMENT {
                    rows.insert(tx).await?;
                    if stop() {
                        return Ok(None);
                    }
                }
            }
        }
    }
    rows.insert(tx).await?;
    if previous {
        restore_previous_states(tx, job_id).await?;
    }
    sqlx::query("DROP TABLE IF EXISTS temp.previous")
        .execute(&mut **tx)
        .await?;
    sqlx::query("DROP TABLE temp.previous_chapters")
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE jobs SET plan_hash = ?, plan_inputs = ? WHERE id = ?")
        .bind(hash.finish())
        .bind(inputs)
        .bind(job_id)
        .execute(&mut **tx)
        .await?;
    Ok(Some(Recorded {
        job_id,
        chapters: usize::try_from(chapter + 1).unwrap_or(0),
        segments,
    }))
}

/// Copies the states earlier runs learned about segments that failed or
/// became pauses, so they survive the new plan where the text is unchanged.
/// Returns whether there were any.
async fn keep_previous_states(
    tx: &mut Transaction<'_, Sqlite>,
    job_id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query("DROP TABLE IF EXISTS temp.previous")
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "CREATE TEMP TABLE previous AS
         SELECT content_key, state, attempts, error_class, last_error, error_log_id,
                error_request_id FROM segments
         WHERE job_id = ? AND state IN ('failed', 'pause')",
    )
    .bind(job_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("CREATE INDEX temp.previous_by_key ON previous (content_key)")
        .execute(&mut **tx)
        .await?;
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM temp.previous")
        .fetch_one(&mut **tx)
        .await?;
    Ok(kept > 0)
}

/// Deletes the job's earlier segments a bounded statement at a time;
/// `false` when `stop` asked to stop.
async fn delete_segments(
    tx: &mut Transaction<'_, Sqlite>,
    job_id: i64,
    stop: &(impl Fn() -> bool + Sync),
) -> Result<bool, sqlx::Error> {
    loop {
        if stop() {
            return Ok(false);
        }
        let deleted = sqlx::query(
            "DELETE FROM segments WHERE id IN (SELECT id FROM segments WHERE job_id = ? LIMIT ?)",
        )
        .bind(job_id)
        .bind(ROWS_PER_DELETE)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if deleted == 0 {
            return Ok(true);
        }
    }
}

/// Segments waiting for their `INSERT`, each with its chapter and index.
/// A statement may span chapters, so every statement but the last has the
/// same shape and is prepared once.
struct Rows {
    job_id: i64,
    waiting: Vec<(i64, i64, PlannedSegment)>,
}

impl Rows {
    /// Inserts the waiting segments: done when their clip is in the cache,
    /// else pending.
    async fn insert(&mut self, tx: &mut Transaction<'_, Sqlite>) -> Result<(), sqlx::Error> {
        if self.waiting.is_empty() {
            return Ok(());
        }
        // The last, shorter statement is not kept in the connection's
        // statement cache, compiled for rows that will not come again.
        let full = self.waiting.len() == ROWS_PER_STATEMENT;
        let job_id = self.job_id;
        let mut builder: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO segments (job_id, chapter_idx, idx, paragraph_idx, ends_paragraph, text,
                 spoken, chars, content_key, state, updated_at) ",
        );
        builder.push_values(self.waiting.drain(..), |mut row, (chapter, idx, s)| {
            let chars = s.sent().chars().count() as i64;
            row.push_bind(job_id)
                .push_bind(chapter)
                .push_bind(idx)
                .push_bind(i64::from(s.paragraph))
                .push_bind(s.ends_paragraph)
                .push_bind(s.text)
                .push_bind(s.spoken)
                .push_bind(chars)
                .push_bind(s.content_key.clone())
                .push("CASE WHEN EXISTS (SELECT 1 FROM clips WHERE content_key = ")
                .push_bind_unseparated(s.content_key)
                .push_unseparated(") THEN 'done' ELSE 'pending' END")
                .push(NOW);
        });
        builder.build().persistent(full).execute(&mut **tx).await?;
        Ok(())
    }
}

/// Gives pending segments back the failure or pause an earlier plan had
/// for the same content. Driven from the (small) table of earlier states
/// through the index on content keys, so it costs what was kept, not the
/// size of the book.
async fn restore_previous_states(
    tx: &mut Transaction<'_, Sqlite>,
    job_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE segments SET
             state = p.state, attempts = p.attempts, error_class = p.error_class,
             last_error = p.last_error, error_log_id = p.error_log_id,
             error_request_id = p.error_request_id
         FROM temp.previous AS p
         WHERE segments.id IN (
                 SELECT s.id FROM temp.previous AS k
                 JOIN segments AS s ON s.content_key = k.content_key
                 WHERE s.job_id = ? AND s.state = 'pending')
           AND segments.content_key = p.content_key",
    )
    .bind(job_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether the plan changed since it was recorded: its hash, made from the
/// stream (asking `stop` every few hundred segments); `None` when stopped.
async fn plan_hash(plan: &Plan<'_>, stop: &(impl Fn() -> bool + Sync)) -> Option<String> {
    let mut hash = PlanHash::new(plan.job());
    for (n, item) in plan.items().enumerate() {
        hash.add(&item);
        if n % ROWS_PER_STATEMENT == 0 {
            if stop() {
                return None;
            }
            // The hash is all computation: let the runtime's other tasks
            // (the signal watcher, a finished book's stitching) run.
            tokio::task::yield_now().await;
        }
    }
    Some(hash.finish())
}

/// Everything of a plan the database records: the job's name and title,
/// and every chapter's title and segments (text, key, paragraph, order).
struct PlanHash(Sha256);

impl PlanHash {
    fn new(job: &Job) -> PlanHash {
        let mut hash = PlanHash(Sha256::new());
        // v2: chapters and segments tagged as they stream, no counts ahead.
        hash.field(b"plan v2");
        hash.field(job.name.as_bytes());
        hash.field(job.book.title.as_bytes());
        hash
    }

    /// Fields are length-prefixed, so no two plans hash alike by shifting
    /// text from one field to the next.
    fn field(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    fn add(&mut self, item: &Item<'_>) {
        match item {
            Item::Chapter(title) => {
                self.field(b"chapter");
                self.field(title.as_bytes());
            }
            Item::Segment(s) => {
                self.field(b"segment");
                self.field(s.text.as_bytes());
                self.field(s.content_key.as_bytes());
                self.field(&s.paragraph.to_le_bytes());
                self.field(&[u8::from(s.ends_paragraph)]);
            }
        }
    }

    fn finish(self) -> String {
        self.0
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests;
