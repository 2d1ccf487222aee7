//! The state store: SQLite through sqlx, in WAL mode, schema in `migrations/`.
//!
//! It holds every job's plan (chapters and segments in order), each segment's
//! lifecycle state, the finished clips of the cache with their checksums, and
//! the runs. A clip's word timings, when the provider gave any, are kept
//! with its row as JSON (`clips.words`). The plan is written in one
//! transaction ([`plan`](self::plan)); a segment is marked done only after
//! its clip is safely in the cache, so the database never claims more than
//! the disk holds ([`segments`](self::segments)); each render is a row of
//! `runs` ([`runs`](self::runs)); the files delivered into each output
//! folder are kept with the keys they were made from
//! ([`deliveries`](self::deliveries)). States and outcomes are typed
//! ([`types`](self::types)).

mod deliveries;
mod plan;
mod runs;
mod segments;
mod types;

use std::path::Path;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use deliveries::Delivered;
pub use types::{
    ChapterRow, Counts, JobRow, RunOutcome, RunRow, RunStats, SegmentRow, SegmentState, Work,
};

/// Timestamps are written by SQLite itself, in UTC, ISO 8601.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

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
        migrate(&pool).await?;
        Ok(Store { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn jobs(&self) -> Result<Vec<JobRow>, sqlx::Error> {
        sqlx::query_as("SELECT id, path, name, title FROM jobs ORDER BY name, path")
            .fetch_all(&self.pool)
            .await
    }

    /// `PRAGMA integrity_check`: "ok" when the database is sound.
    pub async fn integrity_check(&self) -> Result<String, sqlx::Error> {
        sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&self.pool)
            .await
    }
}

/// Brings the schema up to date. Another process may be migrating the same
/// database at that moment (`status` started while a `render` creates it):
/// SQLite serialises the two, and the one that loses the race finds the
/// migration it was about to record already recorded. Reading the applied
/// migrations again then finds nothing left to do, so the loser retries.
async fn migrate(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let mut attempt = 0;
    loop {
        match sqlx::migrate!("./migrations").run(pool).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 10 => {
                tracing::debug!(
                    "migrating the state database: {e}; another process may be migrating it, trying again"
                );
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}
