//! Stop signals during a render. The first SIGINT/SIGTERM stops starting
//! segments and lets those in flight finish; the run then ends as usual
//! (summary, report, notification). While a book's plan is made and
//! recorded, the same cancellation rolls the plan back at its next
//! statement (see `store::plan`). A second signal, or one while nothing
//! has been written yet (the job files and manuscripts being loaded), ends
//! the process at once: every state change is a committed transaction, so
//! that is consistent. Even then the run's notification is sent first,
//! with what the run finished before the stop; a further signal while it
//! is being sent exits without waiting for it.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio_util::sync::CancellationToken;

use super::Exit;
use super::notify;

/// True while nothing has been written by the run: its job files and
/// manuscripts being loaded.
static NOTHING_WRITTEN: AtomicBool = AtomicBool::new(false);

/// Marks a stretch in which a stop signal may end the process at once,
/// because the run has written nothing yet.
pub(super) struct NothingWritten;

impl NothingWritten {
    pub fn begin() -> NothingWritten {
        NOTHING_WRITTEN.store(true, Ordering::SeqCst);
        NothingWritten
    }
}

impl Drop for NothingWritten {
    fn drop(&mut self) {
        NOTHING_WRITTEN.store(false, Ordering::SeqCst);
    }
}

/// Watches SIGINT and SIGTERM for the rest of the process.
pub(super) fn watch(cancel: CancellationToken, run: Arc<notify::Run>) {
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot watch SIGTERM: {e}");
            return;
        }
    };
    tokio::spawn(async move {
        let mut signals = 0;
        loop {
            next(&mut term).await;
            signals += 1;
            if NOTHING_WRITTEN.load(Ordering::SeqCst) {
                cancel.cancel();
                let _ = writeln!(std::io::stderr(), "stopped before anything was written");
                exit_now(
                    &run,
                    &mut term,
                    "stopped by a signal before anything was written",
                )
                .await;
            }
            if signals == 1 {
                tracing::warn!(
                    "stopping: finishing segments in flight, or rolling back a plan being \
                     recorded (signal again to stop at once)"
                );
                cancel.cancel();
            } else {
                let _ = writeln!(std::io::stderr(), "stopped at once; state is saved");
                exit_now(
                    &run,
                    &mut term,
                    "stopped at once by a second signal; state is saved, run again to resume",
                )
                .await;
            }
        }
    });
}

async fn next(term: &mut Signal) {
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
}

/// Sends the notification (or waits for the one being sent), then exits;
/// another signal meanwhile exits without waiting.
async fn exit_now(run: &notify::Run, term: &mut Signal, reason: &str) -> ! {
    tokio::select! {
        () = run.finish(Exit::Interrupted, Some(reason.to_string())) => {}
        () = next(term) => {}
    }
    std::process::exit(Exit::Interrupted as i32)
}
