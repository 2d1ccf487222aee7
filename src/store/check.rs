//! The one pass a render makes over a job's segments before synthesis: in
//! book order, each segment with what its clip's row records (checksum,
//! file size and modification time). The
//! renderer checks the clip files from it and makes every chapter's stitch
//! key in the same pass, so a render with nothing to do reads each segment
//! and its clip once.

use std::ops::ControlFlow;

use super::types::parse_column;
use super::{SegmentState, Store};
use crate::cache::FileStamp;
use crate::plan::ContentKey;

/// Rows handed over at a time: a bounded batch, never the book.
const BATCH: usize = 2048;

/// A segment in book order with its clip's row, as the check pass reads it.
#[derive(Debug, Clone)]
pub struct CheckRow {
    pub chapter_idx: i64,
    pub ends_paragraph: bool,
    pub state: SegmentState,
    pub content_key: ContentKey,
    /// The clip's checksum, when a row of `clips` has its key.
    pub sha256: Option<String>,
    pub stamp: Option<FileStamp>,
}

impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for CheckRow {
    /// By position (the query's column order), not by name: a render with
    /// nothing to do reads every row of a book through here, and a lookup
    /// by name costs a search of the column names per value.
    fn from_row(row: &'r sqlx::sqlite::SqliteRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row;
        let chapter_idx: i64 = row.try_get(0)?;
        let state: &str = row.try_get(2)?;
        let size: Option<i64> = row.try_get(5)?;
        let modified_ns: Option<i64> = row.try_get(6)?;
        Ok(CheckRow {
            state: parse_column(
                state,
                format_args!("a segment of chapter {}", chapter_idx + 1),
            )?,
            chapter_idx,
            ends_paragraph: row.try_get(1)?,
            content_key: row.try_get(3)?,
            sha256: row.try_get(4)?,
            stamp: size.zip(modified_ns).map(|(size, modified_ns)| FileStamp {
                size: size as u64,
                modified_ns,
            }),
        })
    }
}

impl Store {
    /// Every segment of the job in book order with its clip's row, a batch
    /// at a time to `each` (a large book is never all in memory), until
    /// `each` says to stop. Only a done segment's clip is looked up.
    pub async fn for_each_check_batch<F, Fut>(
        &self,
        job_id: i64,
        mut each: F,
    ) -> Result<(), anyhow::Error>
    where
        F: FnMut(Vec<CheckRow>) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<ControlFlow<()>>>,
    {
        use futures_util::TryStreamExt;
        // The column order is what `CheckRow::from_row` reads by position.
        let mut rows = sqlx::query_as::<_, CheckRow>(
            "SELECT s.chapter_idx, s.ends_paragraph, s.state, s.content_key, c.sha256,
                    c.file_size, c.file_mtime_ns
             FROM segments s LEFT JOIN clips c
                  ON s.state = 'done' AND c.content_key = s.content_key
             WHERE s.job_id = ? ORDER BY s.chapter_idx, s.idx",
        )
        .bind(job_id)
        .fetch(&self.pool);
        let mut batch = Vec::with_capacity(BATCH);
        while let Some(row) = rows.try_next().await? {
            batch.push(row);
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if each(full).await?.is_break() {
                    return Ok(());
                }
            }
        }
        drop(rows);
        if !batch.is_empty() {
            // The last batch: whether it asks to stop changes nothing.
            let _ = each(batch).await?;
        }
        Ok(())
    }

    /// The job's chapters (index and title), without what stitching
    /// recorded of them.
    pub async fn chapter_titles(&self, job_id: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
        sqlx::query_as("SELECT idx, title FROM chapters WHERE job_id = ? ORDER BY idx")
            .bind(job_id)
            .fetch_all(&self.pool)
            .await
    }
}
