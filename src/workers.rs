//! The CPU workers: rayon's global pool, whose threads measure, master and
//! encode chapters. They mostly run while other work goes on: the requests
//! of a cloud render (chapters finished early are delivered during
//! synthesis), or the next book's synthesis in `render DIR`. So they run
//! [`NICER`] steps nicer than the process and take the cores only when the
//! runtime's threads, whose every delay leaves the account's quota idle, do
//! not need them. Alone (the last chapter of a run), they run at full speed.

/// Nice steps added to a worker thread.
pub const NICER: i32 = 10;

/// Builds rayon's global pool of nicer threads. Call it once, before
/// anything uses rayon (the binary does, first thing); a pool built
/// already is kept.
pub fn build_global() {
    let built = rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("audiobook-cpu-{i}"))
        .start_handler(|_| nicer_thread())
        .build_global();
    // Only fails when a global pool exists already: then that one is used.
    drop(built);
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
    fn worker_threads_are_nicer_than_the_thread_that_builds_them() {
        let caller = thread_nice().expect("a nice value on Linux");
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .start_handler(|_| nicer_thread())
            .build()
            .expect("a pool");
        let workers: Vec<Option<i32>> = pool.broadcast(|_| thread_nice());
        let expected = (caller + NICER).min(19);
        assert_eq!(workers, vec![Some(expected); 2]);
        // ...and the caller is left as it was.
        assert_eq!(thread_nice(), Some(caller));
        // Threads a worker starts (the read-ahead decoder) inherit it.
        let inherited = pool.install(|| std::thread::spawn(thread_nice).join().unwrap());
        assert_eq!(inherited, Some(expected));
    }
}
