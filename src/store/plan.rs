//! Recording a job's plan: the job row, its chapters and segments in one
//! transaction, keeping what earlier runs learned about unchanged segments.

use sqlx::{QueryBuilder, Sqlite};

use super::ChapterRow;
use super::{NOW, Store};
use crate::job::Job;
use crate::plan::{PlannedChapter, PlannedSegment};

impl Store {
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
