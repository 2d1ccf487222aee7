//! Segment lifecycle transitions and the queries the renderer, the
//! stitcher and `status` read: each transition is one committed statement or
//! transaction, and a segment is done only once its clip is on disk.

use sqlx::Row;

use super::types::parse_column;
use super::{ChapterRow, Counts, SegmentRow, SegmentState, Store, Work};
use crate::cache::StoredClip;
use crate::provider::ErrorClass;

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
