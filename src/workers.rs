//! The CPU workers: a rayon pool of its own, whose threads measure, master and
//! encode chapters. They mostly run while other work goes on: the requests
//! of a cloud render (chapters finished early are delivered during
//! synthesis), or the next book's synthesis in `render DIR`. So they run
//! [`NICER`] steps nicer than the process and take the cores only when the
//! runtime's threads, whose every delay leaves the account's quota idle, do
//! not need them. Alone (the last chapter of a run), they run at full speed.

use std::sync::OnceLock;

/// Nice steps added to a worker thread.
pub const NICER: i32 = 10;

/// Runs `work` on the workers' pool, so the `par_iter`s inside it run on
/// the nicer threads. The pool is built the first time work comes: a
/// command that measures and encodes nothing (`--help`, `status`, most
/// no-op renders) starts no thread for it. Should the pool fail to build
/// (no thread could be started), `work` runs on rayon's default pool.
pub fn install<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("audiobook-cpu-{i}"))
            .start_handler(|_| nicer_thread())
            .build()
            .map_err(|e| tracing::warn!("starting the worker threads: {e}; using rayon's own"))
            .ok()
    });
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// The calling thread's nice value, `None` where it cannot be read.
pub fn thread_nice() -> Option<i32> {
    #[cfg(target_os = "linux")]
    // SAFETY: getpriority only reads the nice value of the thread whose id
    // it is given (Linux keeps one per thread); errno tells a failure from
    // a value of -1.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        *libc::__errno_location() = 0;
        let nice = libc::getpriority(libc::PRIO_PROCESS, tid);
        (*libc::__errno_location() == 0).then_some(nice)
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// Makes the calling thread [`NICER`] steps nicer (at most 19, the
/// nicest). A failure leaves it as it was.
fn nicer_thread() {
    #[cfg(target_os = "linux")]
    if let Some(now) = thread_nice() {
        // SAFETY: setpriority sets the nice value of the calling thread
        // only (by its id); it cannot affect memory.
        unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::setpriority(libc::PRIO_PROCESS, tid, (now + NICER).min(19));
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn work_runs_on_threads_nicer_than_the_caller() {
        let caller = thread_nice().expect("a nice value on Linux");
        let expected = (caller + NICER).min(19);
        let on_workers = install(|| {
            // The work itself, what its `par_iter` runs on, and a thread
            // it starts (the read-ahead decoder) are all nicer.
            use rayon::prelude::*;
            let spread: Vec<Option<i32>> = (0..64).into_par_iter().map(|_| thread_nice()).collect();
            let started = std::thread::spawn(thread_nice).join().unwrap();
            (thread_nice(), spread, started)
        });
        assert_eq!(on_workers.0, Some(expected));
        assert!(
            on_workers.1.iter().all(|n| *n == Some(expected)),
            "{:?}",
            on_workers.1
        );
        assert_eq!(on_workers.2, Some(expected));
        // ...and the caller is left as it was.
        assert_eq!(thread_nice(), Some(caller));
    }
}
