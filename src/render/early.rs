//! Chapters finished early: while a job's later chapters are still being
//! synthesised, each chapter whose last segment is stored is stitched and
//! delivered by a task beside the dispatcher, so that when synthesis ends
//! only the last chapters and the book-level files are left for
//! [`super::finish`]. Without it a book's whole stitching, mastering and
//! encoding came after the last answer, with the quota idle.
//!
//! It decides only *when* the stages run: the stitcher and the delivery
//! stage are the same calls the finish makes, and they skip what is up to
//! date (stitch keys, delivery keys), so the finish redoes nothing and the
//! files are byte for byte what a finish alone writes. A pass reads and
//! writes only the chapters completed since the last one (their layout,
//! measurement and audio files); the text files (manifest, subtitles,
//! proof sheet) are book-wide, so the finish writes them once, while it
//! encodes the last chapter, and a stopped run writes them for the
//! chapters delivered early. A failure here is
//! logged and ends early finishing: the finish meets the same cause and
//! reports it. After a stop signal nothing new starts.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Result;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::cache::Cache;
use crate::deliver;
use crate::job::Job;
use crate::stitch;
use crate::store::{SegmentState, StateWriter, Store};

/// A pass rests its own time divided by this before the next.
const REST_DIVISOR: u32 = 4;

/// What the dispatcher holds: tells the task that work moved on to another
/// chapter (a chapter may have just become complete).
#[derive(Clone)]
pub(super) struct Trigger {
    shared: Arc<Shared>,
}

struct Shared {
    wake: Notify,
    /// The chapter (from 1) of the last piece of work settled.
    last_chapter: AtomicUsize,
    stop: CancellationToken,
}

/// What early finishing did: the audio files it encoded, and the chapters
/// (by index) whose files it delivered, which the text files do not name
/// until a finish writes them.
#[derive(Debug, Default)]
pub(super) struct Delivered {
    pub encoded: usize,
    pub chapters: BTreeSet<i64>,
}

/// The task, to be stopped and awaited before the finish.
pub(super) struct Early {
    trigger: Trigger,
    task: JoinHandle<Delivered>,
}

/// What the task needs; owned, as it runs beside the dispatcher.
pub(super) struct Context {
    pub store: Store,
    pub cache: Arc<Cache>,
    pub job: Job,
    pub job_id: i64,
    pub writer: StateWriter,
    /// The run's stop signal: nothing new starts after it.
    pub cancel: CancellationToken,
}

impl Trigger {
    /// A piece of work of `chapter` (from 1) settled. Moving to another
    /// chapter wakes the task; settling within one does not.
    pub fn settled(&self, chapter: usize) {
        if self.shared.last_chapter.swap(chapter, Ordering::Relaxed) != chapter {
            self.shared.wake.notify_one();
        }
    }
}

impl Early {
    pub fn start(context: Context) -> Early {
        let shared = Arc::new(Shared {
            wake: Notify::new(),
            last_chapter: AtomicUsize::new(0),
            stop: CancellationToken::new(),
        });
        let trigger = Trigger {
            shared: Arc::clone(&shared),
        };
        let task = tokio::spawn(run(context, shared));
        Early { trigger, task }
    }

    pub fn trigger(&self) -> &Trigger {
        &self.trigger
    }

    /// Lets what is under way finish, starts nothing more, and returns
    /// what was delivered early.
    pub async fn stop(self) -> Delivered {
        self.trigger.shared.stop.cancel();
        self.task.await.unwrap_or_else(|e| {
            tracing::warn!("finishing chapters early stopped: {e}");
            Delivered::default()
        })
    }
}

async fn run(context: Context, shared: Arc<Shared>) -> Delivered {
    let mut delivered = Delivered::default();
    loop {
        tokio::select! {
            biased;
            () = shared.stop.cancelled() => break,
            () = context.cancel.cancelled() => break,
            () = shared.wake.notified() => {}
        }
        let started = tokio::time::Instant::now();
        match finish_complete(&context, &mut delivered.chapters).await {
            Ok(n) => {
                delivered.encoded += n;
                // A pass costs only its new chapters' work, which the
                // finish would otherwise do after the last answer. Its
                // measuring and encoding run on the nicer worker threads
                // (`crate::workers`), so the dispatcher beside it is not
                // starved; the rest, a quarter of the pass, only bounds the
                // queries a book of many tiny chapters would make back to
                // back. A longer rest delayed the last chapters' passes
                // into the run's tail: at quota 16, the chapter before the
                // last was still being measured when the last answer came.
                // (A pass with nothing new takes a query, and rests as
                // little.)
                let rest = started.elapsed() / REST_DIVISOR;
                tokio::select! {
                    () = shared.stop.cancelled() => break,
                    () = context.cancel.cancelled() => break,
                    () = tokio::time::sleep(rest) => {}
                }
            }
            Err(e) => {
                tracing::warn!(
                    job = %context.job.name,
                    "delivering complete chapters early: {e:#}; the finish tries again"
                );
                break;
            }
        }
    }
    delivered
}

/// Stitches the chapters completed since the last pass and encodes their
/// audio files; returns the files encoded. Only those chapters are read:
/// a pass costs what its chapters cost, not the book. The text files,
/// the QA files and the whole-book file are the finish's.
async fn finish_complete(context: &Context, delivered: &mut BTreeSet<i64>) -> Result<usize> {
    // The states sent so far are committed before they are read.
    if !context.writer.flush().await || context.cancel.is_cancelled() {
        return Ok(0);
    }
    let complete = complete_chapters(&context.store, context.job_id).await?;
    let new: BTreeSet<i64> = complete.difference(delivered).copied().collect();
    if new.is_empty() {
        return Ok(0);
    }
    let started = std::time::Instant::now();
    let (store, job) = (&context.store, &context.job);
    let stitched =
        stitch::stitch_chapters(store, &context.cache, job, context.job_id, &new).await?;
    let encoded = deliver::deliver_audio(store, job, context.job_id, &stitched).await?;
    tracing::debug!(
        job = %job.name,
        chapters = new.len(),
        encoded,
        secs = format!("{:.3}", started.elapsed().as_secs_f64()),
        "complete chapters delivered while synthesis goes on"
    );
    delivered.extend(new);
    Ok(encoded)
}

/// The chapters (by index) whose every segment is done or a pause.
async fn complete_chapters(store: &Store, job_id: i64) -> Result<BTreeSet<i64>> {
    let mut all = BTreeSet::new();
    let mut incomplete = BTreeSet::new();
    for t in store.chapter_tallies(job_id, false).await? {
        all.insert(t.chapter_idx);
        if !matches!(t.state, SegmentState::Done | SegmentState::Pause) {
            incomplete.insert(t.chapter_idx);
        }
    }
    Ok(all.difference(&incomplete).copied().collect())
}
