//! The delivered files of each job and the keys they were made from, so
//! the delivery stage re-encodes only what changed.

use std::collections::HashMap;

use sqlx::Row;

use super::Store;
use crate::cache::FileStamp;

/// A delivered file as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub key: String,
    pub bytes: u64,
    /// A lossy file's QA measurement as decoded (JSON), once measured.
    pub measurement: Option<String>,
    /// A text file's modification time when it was written (see
    /// [`Store::set_delivered_text`]).
    pub modified_ns: Option<i64>,
}

impl Store {
    /// Every file recorded as delivered for the job, by name.
    pub async fn deliveries(&self, job_id: i64) -> Result<HashMap<String, Delivered>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT file, key, bytes, measurement, modified_ns FROM deliveries WHERE job_id = ?",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("file")?,
                    Delivered {
                        key: r.try_get("key")?,
                        bytes: r.try_get::<i64, _>("bytes")? as u64,
                        measurement: r.try_get("measurement")?,
                        modified_ns: r.try_get("modified_ns")?,
                    },
                ))
            })
            .collect()
    }

    /// Records a file written (after it was renamed into place), with its
    /// measurement as decoded when it is lossy.
    pub async fn set_delivered(
        &self,
        job_id: i64,
        file: &str,
        key: &str,
        bytes: u64,
        measurement: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO deliveries (job_id, file, key, bytes, measurement) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (job_id, file) DO UPDATE SET key = excluded.key, bytes = excluded.bytes,
                 measurement = excluded.measurement, modified_ns = NULL",
        )
        .bind(job_id)
        .bind(file)
        .bind(key)
        .bind(bytes as i64)
        .bind(measurement)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a text file as it is on disk (its size and modification
    /// time), made from `key`.
    pub async fn set_delivered_text(
        &self,
        job_id: i64,
        file: &str,
        key: &str,
        stamp: FileStamp,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO deliveries (job_id, file, key, bytes, modified_ns) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (job_id, file) DO UPDATE SET key = excluded.key, bytes = excluded.bytes,
                 measurement = NULL, modified_ns = excluded.modified_ns",
        )
        .bind(job_id)
        .bind(file)
        .bind(key)
        .bind(stamp.size as i64)
        .bind(stamp.modified_ns)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records the measurement of a file delivered earlier, measured now.
    pub async fn set_delivered_measurement(
        &self,
        job_id: i64,
        file: &str,
        measurement: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE deliveries SET measurement = ? WHERE job_id = ? AND file = ?")
            .bind(measurement)
            .bind(job_id)
            .bind(file)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets a file removed from the output folder.
    pub async fn forget_delivered(&self, job_id: i64, file: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM deliveries WHERE job_id = ? AND file = ?")
            .bind(job_id)
            .bind(file)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
