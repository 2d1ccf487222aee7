//! The state store: SQLite through sqlx, in WAL mode, schema in `migrations/`.
//!
//! It holds every job's plan (chapters and segments in order), each segment's
//! lifecycle state, the finished clips of the cache with their checksums, and
//! the runs. A clip's word timings, when the provider gave any, are kept
//! with its row as JSON (`clips.words`). The plan is written in one
//! transaction as it streams, rolled back when a stop is asked for
//! ([`plan`](self::plan)); a segment is marked done only after
//! its clip is safely in the cache, so the database never claims more than
//! the disk holds ([`segments`](self::segments)); each render is a row of
//! `runs` ([`runs`](self::runs)); the files delivered into each output
//! folder are kept with the keys they were made from (a text file with its
//! size and modification time too) ([`deliveries`](self::deliveries)); a
//! render reads a book's segments with their clips' rows in one pass
//! before synthesis ([`check`](self::check)). States and outcomes are typed
//! ([`types`](self::types)).

mod check;
mod deliveries;
mod plan;
mod runs;
mod segments;
mod types;
mod writer;

use std::path::Path;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use check::CheckRow;
pub use deliveries::Delivered;
pub use plan::PlanWritten;
pub use types::{
    ChapterRow, ChapterTally, ClipRow, Counts, JobRow, RunOutcome, RunRow, RunStats, SegmentRow,
    SegmentState, Work, WorkCursor,
};
pub use writer::{Change, StateWriter, WriterTask};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Timestamps are written by SQLite itself, in UTC, ISO 8601.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

// The three bounds below keep a render's memory flat in book length. With
// SQLite's default page cache (2 MiB per connection) and 1,024 buffered rows,
// re-mastering a 10-hour book held 7.5 MB of SQLite memory against 1.7 MB for
// a 1-hour book (heaptrack): a short book's database never fills the caches, a
// long one's always does. Our reads are mostly scans in book order, which the
// operating system's file cache serves nearly as well. The cost is in the clip
// check's lookups by key: a no-op render of 100k segments takes about 6 % longer
// than with a 2 MB cache for that scan (figures in the README).

/// Connections in the pool; each has its own page cache.
const CONNECTIONS: u32 = 4;
/// SQLite's page cache per connection, in KiB (`PRAGMA cache_size = -N`).
const PAGE_CACHE_KIB: u32 = 64;
/// Rows a long read may run ahead of its reader.
const ROW_BUFFER: usize = 64;

/// A state database opened for reading.
#[derive(Debug)]
pub enum Reader {
    Ready(Store),
    /// The file holds no schema yet: a render has only just created it.
    NoSchema,
    /// Its schema is older than this version's: a render upgrades it (and
    /// may be doing so right now).
    Older,
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

/// Brings the schema up to date, one process at a time. sqlx cannot lock
/// a SQLite database for its migrations, so `status` opening the database
/// while a starting `render` migrates it would apply the same migration
/// twice ("table jobs already exists"). An exclusive `flock` on the
/// database file serialises them; SQLite's own locks are `fcntl` locks,
/// which `flock` does not touch.
async fn migrate(path: &Path, pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let file = std::fs::File::open(path)?;
    let file = tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))??;
    let migrated = MIGRATOR.run(pool).await;
    // Closing the file releases the lock.
    drop(file);
    Ok(migrated?)
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

    /// Opens an existing database to read it beside a render (`status`,
    /// `plan`). A reader never migrates: a render may be creating or
    /// upgrading the schema at this very moment, and two processes
    /// migrating at once make one of them fail.
    pub async fn open_reader(path: &Path) -> Result<Reader, sqlx::Error> {
        let pool = Self::pool(path, false).await?;
        let store = Store { pool };
        let latest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        let reader = match store.schema_version().await? {
            None => Reader::NoSchema,
            Some(version) if version >= latest => return Ok(Reader::Ready(store)),
            Some(_) => Reader::Older,
        };
        store.close().await;
        Ok(reader)
    }

    /// The newest migration applied; `None` when there is no schema at all.
    async fn schema_version(&self) -> Result<Option<i64>, sqlx::Error> {
        let has_table: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(&self.pool)
        .await?;
        if has_table == 0 {
            return Ok(None);
        }
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1")
                .fetch_one(&self.pool)
                .await?;
        Ok(Some(version.unwrap_or(0)))
    }

    async fn connect(path: &Path, create: bool) -> Result<Store, sqlx::Error> {
        let pool = Self::pool(path, create).await?;
        migrate(path, &pool).await?;
        Ok(Store { pool })
    }

    async fn pool(path: &Path, create: bool) -> Result<SqlitePool, sqlx::Error> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable across process kills in WAL mode; clips are
            // fsynced themselves before their rows are written.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            // Rows cross from SQLite's thread to ours through a channel; a
            // buffer lets a long read (every segment of a book) run ahead
            // instead of waking the reader for each row. Each buffered row
            // holds copies of its values, so the depth is bounded (ROW_BUFFER).
            .row_buffer_size(ROW_BUFFER)
            // A page cache per connection that a long book cannot outgrow:
            // see PAGE_CACHE_KIB.
            .pragma("cache_size", format!("-{PAGE_CACHE_KIB}"));
        SqlitePoolOptions::new()
            .max_connections(CONNECTIONS)
            .connect_with(options)
            .await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn jobs(&self) -> Result<Vec<JobRow>, sqlx::Error> {
        sqlx::query_as("SELECT id, path, name, title FROM jobs ORDER BY name, path")
            .fetch_all(&self.pool)
            .await
    }

    /// The hash of the job's plan as last recorded.
    pub async fn plan_hash(&self, job_id: i64) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT plan_hash FROM jobs WHERE id = ?")
            .bind(job_id)
            .fetch_one(&self.pool)
            .await
    }

    /// `PRAGMA integrity_check`: "ok" when the database is sound.
    pub async fn integrity_check(&self) -> Result<String, sqlx::Error> {
        sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&self.pool)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every connection of the pool, not only the first, has the bounded
    /// page cache: SQLite's default would let memory grow with the book.
    #[tokio::test]
    async fn every_connection_has_the_bounded_page_cache() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state.db")).await.unwrap();
        let mut first = store.pool.acquire().await.unwrap();
        let mut second = store.pool.acquire().await.unwrap();
        for conn in [&mut first, &mut second] {
            let kib: i64 = sqlx::query_scalar("PRAGMA cache_size")
                .fetch_one(&mut **conn)
                .await
                .unwrap();
            assert_eq!(kib, -i64::from(PAGE_CACHE_KIB));
        }
    }
}
