//! The delay queue: segments waiting to be retried, holding nothing. Each
//! waits for its [`Backoff`]: `due` while fresh segments can fill the window,
//! only `floor` (what the service asked for) once retries are all that is
//! left, so the tail of a run is not spent waiting out jitter. The
//! dispatcher asks it when to try next and which retry goes; stopping (a
//! signal, the deadline) drains it back to pending.

use std::time::Duration;

use tokio::time::Instant;

use super::retry::Backoff;

struct Delayed<T> {
    item: T,
    due: Instant,
    floor: Instant,
    since: Instant,
    rate_limited: bool,
}

/// Retries waiting, in no particular order (a few at a time).
pub(super) struct DelayQueue<T> {
    waiting: Vec<Delayed<T>>,
}

impl<T> Default for DelayQueue<T> {
    fn default() -> Self {
        DelayQueue {
            waiting: Vec::new(),
        }
    }
}

/// A retry let go, and how long it waited on a rate limit (zero when its
/// error was not one), for the run's figures.
pub(super) struct Released<T> {
    pub item: T,
    pub rate_limit_wait: Duration,
}

impl<T> DelayQueue<T> {
    /// Queues `item` to wait `wait` from now.
    pub fn push(&mut self, item: T, wait: Backoff, rate_limited: bool) {
        let now = Instant::now();
        self.waiting.push(Delayed {
            item,
            due: now + wait.due,
            floor: now + wait.floor,
            since: now,
            rate_limited,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// When the dispatcher should next take a place: now when fresh work is
    /// ready or a retry is due; else, at the tail, when the first retry's
    /// floor passes; `None` when nothing waits.
    pub fn next_at(&self, fresh_ready: bool) -> Option<Instant> {
        let now = Instant::now();
        if fresh_ready || self.waiting.iter().any(|d| d.due <= now) {
            Some(now)
        } else {
            self.waiting.iter().map(|d| d.floor).min()
        }
    }

    /// The retry whose `due` passed first, if any: it goes before fresh work.
    pub fn take_due(&mut self) -> Option<Released<T>> {
        self.take_first_past(|d| d.due)
    }

    /// At the tail (no fresh work): the retry whose `floor` passed first.
    pub fn take_tail(&mut self) -> Option<Released<T>> {
        self.take_first_past(|d| d.floor)
    }

    /// The retry whose instant `at` passed first.
    fn take_first_past(&mut self, at: impl Fn(&Delayed<T>) -> Instant) -> Option<Released<T>> {
        let now = Instant::now();
        let i = (0..self.waiting.len())
            .filter(|&i| at(&self.waiting[i]) <= now)
            .min_by_key(|&i| at(&self.waiting[i]))?;
        Some(self.release(i))
    }

    /// Every retry still waiting (the run stops: back to pending).
    pub fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.waiting.drain(..).map(|d| d.item)
    }

    fn release(&mut self, i: usize) -> Released<T> {
        let d = self.waiting.swap_remove(i);
        Released {
            rate_limit_wait: if d.rate_limited {
                d.since.elapsed()
            } else {
                Duration::ZERO
            },
            item: d.item,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A retry due in 2 s whose service allows it after 250 ms: while fresh
    /// work remains it waits the 2 s; once only retries are left it goes at
    /// 250 ms.
    #[tokio::test(start_paused = true)]
    async fn at_the_tail_a_retry_waits_only_its_floor() {
        let wait = Backoff {
            due: ms(2_000),
            floor: ms(250),
        };
        // Fresh work to do: the retry is not taken before it is due.
        let mut queue = DelayQueue::default();
        let start = Instant::now();
        queue.push("a", wait, true);
        assert_eq!(queue.next_at(true), Some(start));
        tokio::time::sleep(ms(300)).await;
        assert!(queue.take_due().is_none(), "taken before its due time");
        tokio::time::sleep_until(start + ms(2_000)).await;
        let released = queue.take_due().expect("due at 2 s");
        assert_eq!(released.item, "a");
        assert_eq!(released.rate_limit_wait, ms(2_000));
        assert!(queue.is_empty());

        // Only retries left: the dispatcher's next try is at the floor, and
        // the retry goes then, 1.75 s before it would have been due.
        let start = Instant::now();
        queue.push("b", wait, false);
        let at = queue.next_at(false).expect("a retry waits");
        assert_eq!(at, start + ms(250));
        assert!(queue.take_tail().is_none(), "taken before its floor");
        tokio::time::sleep_until(at).await;
        assert!(queue.take_due().is_none(), "not yet due");
        let released = queue.take_tail().expect("free to go at its floor");
        assert_eq!(released.item, "b");
        assert_eq!(released.rate_limit_wait, Duration::ZERO);
        assert_eq!(Instant::now() - start, ms(250));
        assert_eq!(queue.next_at(false), None);
    }

    /// Among several, the one due (or allowed) first goes first.
    #[tokio::test(start_paused = true)]
    async fn the_earliest_goes_first_and_drain_empties_the_queue() {
        let mut queue = DelayQueue::default();
        let backoff = |due, floor| Backoff {
            due: ms(due),
            floor: ms(floor),
        };
        queue.push(1, backoff(900, 600), false);
        queue.push(2, backoff(500, 400), false);
        queue.push(3, backoff(700, 100), false);
        assert_eq!(queue.next_at(false), Some(Instant::now() + ms(100)));
        tokio::time::sleep(ms(650)).await;
        assert_eq!(queue.take_due().map(|r| r.item), Some(2));
        assert_eq!(queue.take_tail().map(|r| r.item), Some(3));
        let rest: Vec<i32> = queue.drain().collect();
        assert_eq!(rest, [1]);
        assert!(queue.is_empty());
    }
}
