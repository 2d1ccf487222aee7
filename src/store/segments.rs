//! Segment lifecycle transitions and the queries the renderer, the
//! stitcher and `status` read: each transition is one committed statement or
//! transaction, and a segment is done only once its clip is on disk.

use sqlx::Row;

use super::types::WorkCursor;
use super::types::parse_column;
use super::writer::Change;
use super::{ChapterRow, ChapterTally, Counts, SegmentRow, SegmentState, Store, Work};
use crate::cache::StoredClip;
use crate::plan::ContentKey;
use crate::provider::ProviderError;

/// The columns of a [`SegmentRow`]: a segment with its clip's checksum,
/// length and word timings.
macro_rules! segment_rows {
    () => {
        "SELECT s.chapter_idx, s.idx, s.paragraph_idx, s.ends_paragraph, s.text, s.content_key,
                s.state, s.attempts, s.error_class, s.last_error, s.error_log_id,
                s.error_request_id, c.sha256, c.samples, c.words
         FROM segments s LEFT JOIN clips c ON c.content_key = s.content_key"
    };
}

impl Store {
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
            "SELECT content_key, COALESCE(spoken, text) AS text, COUNT(*) AS segments,
                    MIN(chapter_idx) AS chapter
             FROM segments WHERE job_id = ? AND state = 'pending'
             GROUP BY content_key ORDER BY MIN(chapter_idx * 1000000 + idx)",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await
    }

    /// The next page of pending segments after `after`, in book order (a
    /// render reads its work a page at a time, so memory does not grow
    /// with the book). A key repeated in the book comes once per segment.
    pub async fn pending_page(
        &self,
        job_id: i64,
        after: Option<WorkCursor>,
        limit: usize,
    ) -> Result<Vec<(WorkCursor, Work)>, sqlx::Error> {
        let (chapter, idx) = after.unwrap_or((-1, -1));
        // Each row says how many pending segments share its text, so the
        // progress advances by all of them when the one clip is done.
        let rows: Vec<(i64, i64, ContentKey, String, i64)> = sqlx::query_as(
            "SELECT s.chapter_idx, s.idx, s.content_key, COALESCE(s.spoken, s.text),
                    (SELECT COUNT(*) FROM segments o WHERE o.content_key = s.content_key
                       AND o.job_id = s.job_id AND o.state = 'pending')
             FROM segments s
             WHERE s.job_id = ? AND s.state = 'pending' AND (s.chapter_idx, s.idx) > (?, ?)
             ORDER BY s.chapter_idx, s.idx LIMIT ?",
        )
        .bind(job_id)
        .bind(chapter)
        .bind(idx)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(c, i, content_key, text, segments)| {
                let work = Work {
                    content_key,
                    text,
                    segments,
                    chapter: c,
                };
                ((c, i), work)
            })
            .collect())
    }

    /// Segments that failed permanently or became pauses, in book order.
    pub async fn failed_segments(&self, job_id: i64) -> Result<Vec<SegmentRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT s.chapter_idx, s.idx, s.paragraph_idx, s.ends_paragraph, s.text, s.content_key,
                    s.state, s.attempts, s.error_class, s.last_error, s.error_log_id,
                    s.error_request_id, NULL AS sha256,
                    NULL AS samples, NULL AS words
             FROM segments s WHERE s.job_id = ? AND s.state IN ('failed', 'pause')
             ORDER BY s.chapter_idx, s.idx",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await
    }

    pub async fn mark_in_flight(&self, job_id: i64, key: &str) -> Result<(), sqlx::Error> {
        self.apply_one(Change::InFlight {
            job_id,
            key: key.into(),
        })
        .await
    }

    pub async fn mark_pending(&self, job_id: i64, key: &str) -> Result<(), sqlx::Error> {
        self.apply_one(Change::Pending {
            job_id,
            key: key.into(),
        })
        .await
    }

    /// Records a clip that is already safely in the cache, and marks every
    /// segment with its key done, in one transaction.
    pub async fn mark_done(
        &self,
        key: &str,
        clip: &StoredClip,
        attempts: u32,
    ) -> Result<(), sqlx::Error> {
        self.apply_one(Change::Done {
            key: key.into(),
            clip: clip.clone(),
            attempts,
        })
        .await
    }

    /// Records a permanent failure (or a pause for unspeakable text): its
    /// class, its cause (message and code) and, apart, the ids of the
    /// request that failed.
    pub async fn mark_failed(
        &self,
        job_id: i64,
        key: &str,
        error: &ProviderError,
        attempts: u32,
    ) -> Result<(), sqlx::Error> {
        self.apply_one(Change::Failed {
            job_id,
            key: key.into(),
            error: error.clone(),
            attempts,
        })
        .await
    }

    async fn apply_one(&self, change: Change) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        change.apply(&mut tx).await?;
        tx.commit().await
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

    /// Puts the job's permanently failed segments, and those the service
    /// answered with silence (pauses), back to pending.
    pub async fn retry_failed(&self, job_id: i64) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE segments SET state = 'pending', attempts = 0, error_class = NULL, last_error = NULL,
                 error_log_id = NULL, error_request_id = NULL,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
             WHERE job_id = ? AND state IN ('failed', 'pause')",
        )
        .bind(job_id)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    pub async fn chapters(&self, job_id: i64) -> Result<Vec<ChapterRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT idx, title, stitch_key, samples, summary FROM chapters WHERE job_id = ?
             ORDER BY idx",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await
    }

    /// What one chapter was made into (its layout, gain and measurement,
    /// as JSON: see `stitch`), read a chapter at a time: a layout holds an
    /// entry per segment, so no caller holds the book's.
    pub async fn chapter_mastered(
        &self,
        job_id: i64,
        chapter_idx: i64,
    ) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT mastered FROM chapters WHERE job_id = ? AND idx = ?")
            .bind(job_id)
            .bind(chapter_idx)
            .fetch_optional(&self.pool)
            .await
            .map(Option::flatten)
    }

    /// All segments of a job in book order, with their clips' checksums and
    /// word timings.
    pub async fn segments(&self, job_id: i64) -> Result<Vec<SegmentRow>, sqlx::Error> {
        sqlx::query_as(concat!(
            segment_rows!(),
            " WHERE s.job_id = ? ORDER BY s.chapter_idx, s.idx"
        ))
        .bind(job_id)
        .fetch_all(&self.pool)
        .await
    }

    /// One chapter's segments in order, with (`with_clips`) their clips'
    /// checksums and word timings: what stitching reads. The columns it
    /// does not use (the error's details, the clip's length) are left
    /// empty, since every render reads every chapter and each value costs
    /// a copy. Without clips it reads the segments alone: a chapter whose
    /// stitch key is already known needs nothing of them.
    pub async fn chapter_segments(
        &self,
        job_id: i64,
        chapter_idx: i64,
        with_clips: bool,
    ) -> Result<Vec<SegmentRow>, sqlx::Error> {
        let sql = if with_clips {
            "SELECT s.chapter_idx, s.idx, s.paragraph_idx, s.ends_paragraph, s.text,
                    s.content_key, s.state, s.attempts, NULL AS error_class,
                    NULL AS last_error, NULL AS error_log_id, NULL AS error_request_id,
                    c.sha256, NULL AS samples, c.words
             FROM segments s LEFT JOIN clips c ON c.content_key = s.content_key
             WHERE s.job_id = ? AND s.chapter_idx = ? ORDER BY s.idx"
        } else {
            "SELECT chapter_idx, idx, paragraph_idx, ends_paragraph, text, content_key, state,
                    attempts, NULL AS error_class, NULL AS last_error, NULL AS error_log_id,
                    NULL AS error_request_id, NULL AS sha256, NULL AS samples, NULL AS words
             FROM segments WHERE job_id = ? AND chapter_idx = ? ORDER BY idx"
        };
        sqlx::query_as(sql)
            .bind(job_id)
            .bind(chapter_idx)
            .fetch_all(&self.pool)
            .await
    }

    /// Records what a chapter was made into for its stitch key: its
    /// samples, its layout (`mastered`) and the few numbers of it a render
    /// with nothing to do reads instead (`summary`).
    pub async fn set_stitched(
        &self,
        job_id: i64,
        chapter: i64,
        stitch_key: &str,
        samples: u64,
        mastered: &str,
        summary: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE chapters SET stitch_key = ?, samples = ?, mastered = ?, summary = ?
             WHERE job_id = ? AND idx = ?",
        )
        .bind(stitch_key)
        .bind(samples as i64)
        .bind(mastered)
        .bind(summary)
        .bind(job_id)
        .bind(chapter)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Fills in the summary of a chapter stitched before summaries were
    /// kept, for the key it was stitched with (a key changed meanwhile
    /// leaves the row as it is).
    pub async fn set_chapter_summary(
        &self,
        job_id: i64,
        chapter: i64,
        stitch_key: &str,
        summary: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE chapters SET summary = ? WHERE job_id = ? AND idx = ? AND stitch_key = ?",
        )
        .bind(summary)
        .bind(job_id)
        .bind(chapter)
        .bind(stitch_key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Per chapter and state: segments, characters, and (`with_samples`)
    /// the samples of their clips (done segments), so counts can be taken
    /// of any chapters without reading every segment. Without samples it
    /// reads the segments table alone: a join with every clip costs more
    /// than the rest of a render with nothing to do.
    pub async fn chapter_tallies(
        &self,
        job_id: i64,
        with_samples: bool,
    ) -> Result<Vec<ChapterTally>, sqlx::Error> {
        let sql = if with_samples {
            "SELECT s.chapter_idx, s.state, COUNT(*) AS n, SUM(s.chars) AS chars,
                    SUM(c.samples) AS samples
             FROM segments s LEFT JOIN clips c ON c.content_key = s.content_key
             WHERE s.job_id = ? GROUP BY s.chapter_idx, s.state"
        } else {
            "SELECT chapter_idx, state, COUNT(*) AS n, SUM(chars) AS chars, NULL AS samples
             FROM segments WHERE job_id = ? GROUP BY chapter_idx, state"
        };
        let rows = sqlx::query(sql).bind(job_id).fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|row| {
                let state: String = row.try_get("state")?;
                Ok(ChapterTally {
                    chapter_idx: row.try_get("chapter_idx")?,
                    state: parse_column(&state, format_args!("a segment of job {job_id}"))?,
                    segments: row.try_get::<i64, _>("n")? as u64,
                    chars: row.try_get::<Option<i64>, _>("chars")?.unwrap_or(0) as u64,
                    samples: row.try_get::<Option<i64>, _>("samples")?.unwrap_or(0) as u64,
                })
            })
            .collect()
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
            match parse_column(&state, format_args!("a segment of job {job_id}"))? {
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
}
