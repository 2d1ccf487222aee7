//! The `runs` table: one row per render of a job, with its figures and
//! outcome, kept current while the run goes on so `status` can show it.

use super::{RunOutcome, RunRow, RunStats, Store};

/// The columns a [`RunRow`] is read from.
macro_rules! run_columns {
    () => {
        "id, pid, started_at, finished_at, outcome, synthesized, cached, failed, retries,
         requests, rate_limited, window, stopped_by"
    };
}

impl Store {
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

    /// Records how the run ended; `stopped_by` is the provider error that
    /// stopped it at once, if one did.
    pub async fn finish_run(
        &self,
        run_id: i64,
        outcome: RunOutcome,
        stats: &RunStats,
        stopped_by: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE runs SET finished_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), outcome = ?,
                 synthesized = ?, cached = ?, failed = ?, retries = ?, requests = ?,
                 rate_limited = ?, rate_limit_wait_ms = ?, window = ?, stopped_by = ?
             WHERE id = ?",
        )
        .bind(outcome.as_str())
        .bind(stats.synthesized as i64)
        .bind(stats.cached as i64)
        .bind(stats.failed as i64)
        .bind(stats.retries as i64)
        .bind(stats.requests as i64)
        .bind(stats.rate_limited as i64)
        .bind(stats.rate_limit_wait_ms as i64)
        .bind(stats.window as i64)
        .bind(stopped_by)
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
        sqlx::query_as(concat!(
            "SELECT ",
            run_columns!(),
            " FROM runs WHERE job_id = ? ORDER BY id DESC LIMIT 1"
        ))
        .bind(job_id)
        .fetch_optional(&self.pool)
        .await
    }

    /// The latest run that did work: sent requests or met failures, or did
    /// not end complete (a rerun that found everything done did none).
    pub async fn last_working_run(&self, job_id: i64) -> Result<Option<RunRow>, sqlx::Error> {
        sqlx::query_as(concat!(
            "SELECT ",
            run_columns!(),
            " FROM runs WHERE job_id = ?
               AND (synthesized > 0 OR failed > 0 OR requests > 0 OR outcome != 'complete')
             ORDER BY id DESC LIMIT 1"
        ))
        .bind(job_id)
        .fetch_optional(&self.pool)
        .await
    }
}
