//! Segment state changes, and the writer task that commits them in groups.
//!
//! Each [`Change`] is one lifecycle transition with its one SQL statement
//! (or two, for a clip and its segments). During a render the tasks do not
//! wait on SQLite's single writer: they hand changes to a [`StateWriter`],
//! whose task commits whatever has queued up in one transaction (group
//! commit), so hundreds of requests a second cost a few commits. Order is
//! kept: changes commit in the order they were sent. A clip is durable in
//! the cache before its `Done` is sent, so a run killed before the commit
//! leaves a clip without a row, which the next run adopts.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::SqliteConnection;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{SegmentState, Store};
use crate::cache::{FileStamp, StoredClip};
use crate::provider::{ErrorClass, ProviderError};

/// The most changes committed in one transaction.
const GROUP: usize = 512;

/// One transition of the state store.
#[derive(Debug, Clone)]
pub enum Change {
    InFlight {
        job_id: i64,
        key: String,
    },
    /// Back to pending (a run stopped before its answer).
    Pending {
        job_id: i64,
        key: String,
    },
    /// The clip is safely in the cache: record it, and every segment with
    /// its key is done. The same file recorded again without word timings
    /// (adopted after another writer stored it) keeps the timings it was
    /// recorded with.
    Done {
        key: String,
        clip: StoredClip,
        attempts: u32,
    },
    /// A permanent failure, or a pause for unspeakable text.
    Failed {
        job_id: i64,
        key: String,
        error: ProviderError,
        attempts: u32,
    },
    /// A clip was hashed again and found sound: its file's new stamp.
    Stamp {
        key: String,
        stamp: FileStamp,
    },
    /// The concurrency window, so `status` can show it during a run.
    Window {
        run_id: i64,
        window: usize,
    },
}

impl Change {
    pub(super) async fn apply(&self, conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        match self {
            Change::InFlight { job_id, key } => {
                set_state(conn, *job_id, key, SegmentState::InFlight).await
            }
            Change::Pending { job_id, key } => {
                set_state(conn, *job_id, key, SegmentState::Pending).await
            }
            Change::Done {
                key,
                clip,
                attempts,
            } => done(conn, key, clip, *attempts).await,
            Change::Failed {
                job_id,
                key,
                error,
                attempts,
            } => failed(conn, *job_id, key, error, *attempts).await,
            Change::Stamp { key, stamp } => {
                sqlx::query(
                    "UPDATE clips SET file_size = ?, file_mtime_ns = ? WHERE content_key = ?",
                )
                .bind(stamp.size as i64)
                .bind(stamp.modified_ns)
                .bind(key)
                .execute(&mut *conn)
                .await?;
                Ok(())
            }
            Change::Window { run_id, window } => {
                sqlx::query("UPDATE runs SET window = ? WHERE id = ?")
                    .bind(*window as i64)
                    .bind(run_id)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }
        }
    }
}

async fn set_state(
    conn: &mut SqliteConnection,
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
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn done(
    conn: &mut SqliteConnection,
    key: &str,
    clip: &StoredClip,
    attempts: u32,
) -> Result<(), sqlx::Error> {
    let words = if clip.words.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&clip.words).map_err(|e| sqlx::Error::Encode(e.into()))?)
    };
    sqlx::query(
        "INSERT INTO clips (content_key, sha256, samples, sample_rate, words, file_size,
             file_mtime_ns, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ','now'))
         ON CONFLICT (content_key) DO UPDATE SET sha256 = excluded.sha256,
             samples = excluded.samples, sample_rate = excluded.sample_rate,
             words = CASE WHEN excluded.words IS NULL AND excluded.sha256 = clips.sha256
                          THEN clips.words ELSE excluded.words END,
             file_size = excluded.file_size,
             file_mtime_ns = excluded.file_mtime_ns",
    )
    .bind(key)
    .bind(&clip.sha256)
    .bind(clip.samples as i64)
    .bind(i64::from(clip.sample_rate))
    .bind(words)
    .bind(clip.stamp.map(|s| s.size as i64))
    .bind(clip.stamp.map(|s| s.modified_ns))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE segments SET state = 'done', attempts = attempts + ?, error_class = NULL,
             last_error = NULL, error_log_id = NULL, error_request_id = NULL,
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
         WHERE content_key = ? AND state IN ('pending', 'in_flight')",
    )
    .bind(i64::from(attempts))
    .bind(key)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn failed(
    conn: &mut SqliteConnection,
    job_id: i64,
    key: &str,
    error: &ProviderError,
    attempts: u32,
) -> Result<(), sqlx::Error> {
    let state = if error.class == ErrorClass::Unspeakable {
        SegmentState::Pause
    } else {
        SegmentState::Failed
    };
    let class_name = serde_json::to_value(error.class)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    sqlx::query(
        "UPDATE segments SET state = ?, attempts = attempts + ?, error_class = ?, last_error = ?,
             error_log_id = ?, error_request_id = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')
         WHERE job_id = ? AND content_key = ? AND state IN ('pending', 'in_flight')",
    )
    .bind(state.as_str())
    .bind(i64::from(attempts))
    .bind(class_name)
    .bind(error.cause())
    .bind(error.log_id.as_deref())
    .bind(error.request_id.as_deref())
    .bind(job_id)
    .bind(key)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

enum Message {
    Change(Change),
    /// Answered once everything sent before it is committed.
    Flush(oneshot::Sender<()>),
}

/// The sending side of the writer task. Sending never waits; [`flush`]
/// waits for the commits.
///
/// [`flush`]: StateWriter::flush
#[derive(Clone)]
pub struct StateWriter {
    tx: mpsc::UnboundedSender<Message>,
    /// Transactions committed so far: how well changes were grouped.
    commits: Arc<AtomicU64>,
}

/// The writer task, to be awaited for its first error.
pub struct WriterTask {
    task: JoinHandle<Result<(), sqlx::Error>>,
}

impl Store {
    /// Starts a writer task on this store.
    pub fn writer(&self) -> (StateWriter, WriterTask) {
        let (tx, rx) = mpsc::unbounded_channel();
        let pool = self.pool.clone();
        let commits = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(run_writer(pool, rx, Arc::clone(&commits)));
        (StateWriter { tx, commits }, WriterTask { task })
    }
}

impl StateWriter {
    /// Queues a change. After a commit failed nothing more is written; the
    /// error comes from [`flush`](StateWriter::flush) and [`WriterTask::finish`].
    pub fn send(&self, change: Change) {
        let _ = self.tx.send(Message::Change(change));
    }

    /// Waits until every change sent before is committed. False when the
    /// writer stopped (a commit failed): see [`WriterTask::finish`].
    pub async fn flush(&self) -> bool {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Message::Flush(done)).is_err() {
            return false;
        }
        wait.await.is_ok()
    }

    /// Whether the writer task has stopped (a commit failed).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// How many transactions the writer has committed so far.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }
}

impl WriterTask {
    /// Waits for the task to end (every [`StateWriter`] dropped) and returns
    /// the first commit error, if any.
    pub async fn finish(self) -> Result<(), sqlx::Error> {
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(sqlx::Error::Protocol(format!(
                "the state writer task died: {e}"
            ))),
        }
    }
}

async fn run_writer(
    pool: sqlx::SqlitePool,
    mut rx: mpsc::UnboundedReceiver<Message>,
    commits: Arc<AtomicU64>,
) -> Result<(), sqlx::Error> {
    let mut batch = Vec::with_capacity(GROUP);
    let mut waiters = Vec::new();
    while let Some(first) = rx.recv().await {
        batch.clear();
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                Message::Change(change) => batch.push(change),
                Message::Flush(done) => waiters.push(done),
            }
            next = if batch.len() < GROUP {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        if !batch.is_empty() {
            let result = commit(&pool, &batch).await;
            if let Err(e) = result {
                // Stop taking changes: the senders see a closed channel,
                // and waiters an answer that never comes.
                rx.close();
                return Err(e);
            }
            commits.fetch_add(1, Ordering::Relaxed);
        }
        for done in waiters.drain(..) {
            let _ = done.send(());
        }
    }
    Ok(())
}

async fn commit(pool: &sqlx::SqlitePool, batch: &[Change]) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for change in batch {
        change.apply(&mut tx).await?;
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store with a job and a run, and a log of every window the runs
    /// table takes, kept by SQLite itself (a trigger), in commit order.
    async fn store_with_run(dir: &std::path::Path) -> (Store, i64) {
        let store = Store::open(&dir.join("db")).await.unwrap();
        sqlx::query(
            "INSERT INTO jobs (id, path, name, title, created_at, planned_at)
             VALUES (1, 'j', 'j', 't', 'now', 'now')",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        let run_id = store.start_run(1).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE window_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, window INTEGER);
             CREATE TRIGGER log_window AFTER UPDATE OF window ON runs
             BEGIN INSERT INTO window_log (window) VALUES (new.window); END;",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        (store, run_id)
    }

    async fn window_log(store: &Store) -> Vec<i64> {
        sqlx::query_scalar("SELECT window FROM window_log ORDER BY seq")
            .fetch_all(&store.pool)
            .await
            .unwrap()
    }

    /// Changes sent together commit together: a thousand in a couple of
    /// transactions, each applied in the order it was sent. (The test's
    /// runtime runs one task at a time, so all thousand are queued before
    /// the writer task first runs.)
    #[tokio::test]
    async fn changes_sent_together_commit_in_few_transactions_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (store, run_id) = store_with_run(dir.path()).await;
        let (writer, task) = store.writer();
        for window in 1..=1000 {
            writer.send(Change::Window { run_id, window });
        }
        assert!(writer.flush().await);
        assert_eq!(window_log(&store).await, (1..=1000).collect::<Vec<i64>>());
        let grouped = writer.commits();
        assert!(
            (1..=1000u64.div_ceil(GROUP as u64)).contains(&grouped),
            "1000 changes in {grouped} transactions"
        );
        // Changes sent one at a time, each waited for, take one each.
        for window in 1001..=1003 {
            writer.send(Change::Window { run_id, window });
            assert!(writer.flush().await);
        }
        assert_eq!(writer.commits(), grouped + 3);
        assert_eq!(window_log(&store).await.last(), Some(&1003));
        drop(writer);
        task.finish().await.unwrap();
    }

    async fn words_of(store: &Store, key: &str) -> Option<String> {
        sqlx::query_scalar("SELECT words FROM clips WHERE content_key = ?")
            .bind(key)
            .fetch_one(&store.pool)
            .await
            .unwrap()
    }

    /// A clip recorded again without timings keeps the ones recorded with
    /// the same file (a writer that found another's clip under the key
    /// adopts the file, which holds none); a different file's record
    /// replaces them.
    #[tokio::test]
    async fn the_same_clip_recorded_again_without_timings_keeps_its_timings() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = store_with_run(dir.path()).await;
        let clip = |sha: &str, words: Vec<crate::provider::WordTiming>| StoredClip {
            sha256: sha.into(),
            samples: 10,
            sample_rate: 8_000,
            words,
            stamp: None,
        };
        let timed = vec![crate::provider::WordTiming {
            word: "hi".into(),
            start_ms: 0,
            end_ms: 5,
        }];
        store.mark_done("k1", &clip("aa", timed), 1).await.unwrap();
        let recorded = words_of(&store, "k1").await;
        assert!(
            recorded.as_deref().is_some_and(|w| w.contains("hi")),
            "{recorded:?}"
        );
        store
            .mark_done("k1", &clip("aa", Vec::new()), 1)
            .await
            .unwrap();
        assert_eq!(words_of(&store, "k1").await, recorded);
        store
            .mark_done("k1", &clip("bb", Vec::new()), 1)
            .await
            .unwrap();
        assert_eq!(words_of(&store, "k1").await, None);
    }
}
