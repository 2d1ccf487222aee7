//! Adaptive concurrency: the window of requests in flight, found rather than
//! guessed, the way TCP finds a link's capacity.
//!
//! `[render] concurrency` is the ceiling. The provider account's real quota
//! is unknown, and exceeding it costs rate-limit answers (Volcengine 3003,
//! Coze 4020, HTTP 429). So:
//! - the window starts at 1 and grows by one per success (slow start) until
//!   the first rate limit or the ceiling;
//! - a rate-limit answer halves it (never below 1) — once per congestion
//!   event: answers to requests sent before the last decrease are ignored —
//!   and remembers the level just below where limiting began as "safe";
//! - below the safe level every success grows it by one (quick recovery);
//!   at or above it a run of `PROBE_RUN` × window successes grows it by one,
//!   probing slowly for more room (the quota may have grown).
//!
//! One window is shared by every job of one provider account in a run.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

/// Successes, in multiples of the window, before probing one step higher.
const PROBE_RUN: usize = 8;

#[derive(Debug)]
pub struct Window {
    state: Mutex<State>,
    changed: Notify,
}

#[derive(Debug)]
struct State {
    ceiling: usize,
    limit: usize,
    in_flight: usize,
    successes: usize,
    /// The highest level known to be under the quota, once one was hit.
    safe: Option<usize>,
    /// Bumped at every decrease; a permit remembers the one it started in.
    generation: u64,
    rate_limits: u64,
}

/// One request's place in the window; released when dropped.
#[derive(Debug)]
pub struct Permit {
    window: Arc<Window>,
    generation: u64,
}

impl Window {
    pub fn new(ceiling: usize) -> Arc<Window> {
        let ceiling = ceiling.max(1);
        Arc::new(Window {
            state: Mutex::new(State {
                ceiling,
                limit: 1,
                in_flight: 0,
                successes: 0,
                safe: None,
                generation: 0,
                rate_limits: 0,
            }),
            changed: Notify::new(),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current limit on requests in flight.
    pub fn limit(&self) -> usize {
        self.state().limit
    }

    /// Rate-limit answers that shrank the window.
    pub fn rate_limits(&self) -> u64 {
        self.state().rate_limits
    }

    /// A job may bring another ceiling (its own `concurrency`).
    pub fn set_ceiling(&self, ceiling: usize) {
        let mut s = self.state();
        s.ceiling = ceiling.max(1);
        s.limit = s.limit.min(s.ceiling);
        drop(s);
        self.changed.notify_waiters();
    }

    /// Waits for a place in the window.
    pub async fn acquire(self: &Arc<Self>) -> Permit {
        loop {
            let notified = self.changed.notified();
            {
                let mut s = self.state();
                if s.in_flight < s.limit {
                    s.in_flight += 1;
                    return Permit {
                        window: Arc::clone(self),
                        generation: s.generation,
                    };
                }
            }
            notified.await;
        }
    }

    fn set_limit(&self, s: &mut State, limit: usize, why: &str) {
        let old = s.limit;
        s.limit = limit.clamp(1, s.ceiling);
        if s.limit != old {
            if s.limit < old || s.safe.is_some_and(|safe| s.limit > safe) {
                tracing::info!(
                    window = s.limit,
                    from = old,
                    why,
                    "concurrency window changed"
                );
            } else {
                tracing::debug!(
                    window = s.limit,
                    from = old,
                    why,
                    "concurrency window changed"
                );
            }
            self.changed.notify_waiters();
        }
    }
}

impl Permit {
    /// The request succeeded: grow the window as the phase allows.
    pub fn success(&self) {
        let w = &self.window;
        let mut s = w.state();
        s.successes += 1;
        let below_safe = s.safe.is_none_or(|safe| s.limit < safe);
        let run = if below_safe { 1 } else { PROBE_RUN * s.limit };
        if s.successes >= run && s.limit < s.ceiling {
            s.successes = 0;
            let next = s.limit + 1;
            w.set_limit(
                &mut s,
                next,
                if below_safe { "recovering" } else { "probing" },
            );
        }
    }

    /// The provider said the account is over its quota.
    pub fn rate_limited(&self) {
        let w = &self.window;
        let mut s = w.state();
        if self.generation != s.generation {
            // Sent before the last decrease: the same congestion event.
            return;
        }
        s.generation += 1;
        s.rate_limits += 1;
        s.successes = 0;
        // Everything in flight, this request included, was more than the
        // quota allows; one fewer is the best guess of what it does allow.
        s.safe = Some(s.in_flight.saturating_sub(1).max(1));
        let halved = (s.limit / 2).max(1);
        w.set_limit(&mut s, halved, "rate limited");
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut s = self.window.state();
        s.in_flight = s.in_flight.saturating_sub(1);
        drop(s);
        self.window.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slow_start_grows_by_one_per_success_up_to_the_ceiling() {
        let w = Window::new(4);
        assert_eq!(w.limit(), 1);
        for expected in [2, 3, 4, 4] {
            w.acquire().await.success();
            assert_eq!(w.limit(), expected);
        }
    }

    #[tokio::test]
    async fn a_rate_limit_halves_once_per_congestion_event() {
        let w = Window::new(32);
        for _ in 0..9 {
            w.acquire().await.success();
        }
        assert_eq!(w.limit(), 10);
        let permits: Vec<Permit> =
            futures_util::future::join_all((0..8).map(|_| w.acquire())).await;
        permits[7].rate_limited();
        assert_eq!(w.limit(), 5);
        // Others sent in the same burst do not halve it again.
        permits[6].rate_limited();
        permits[5].rate_limited();
        assert_eq!(w.limit(), 5);
        assert_eq!(w.rate_limits(), 1);
        drop(permits);
        // A request sent after the decrease that is limited halves again.
        w.acquire().await.rate_limited();
        assert_eq!(w.limit(), 2);
    }

    #[tokio::test]
    async fn recovery_is_quick_below_the_safe_level_and_probing_slow_above_it() {
        let w = Window::new(32);
        for _ in 0..5 {
            w.acquire().await.success();
        }
        assert_eq!(w.limit(), 6);
        let permits: Vec<Permit> =
            futures_util::future::join_all((0..6).map(|_| w.acquire())).await;
        permits[5].rate_limited(); // 6 in flight were one too many: safe = 5
        drop(permits);
        assert_eq!(w.limit(), 3);
        for expected in [4, 5] {
            w.acquire().await.success();
            assert_eq!(w.limit(), expected);
        }
        for _ in 0..(PROBE_RUN * 5 - 1) {
            w.acquire().await.success();
        }
        assert_eq!(w.limit(), 5, "probing waits for a long run of successes");
        w.acquire().await.success();
        assert_eq!(w.limit(), 6);
    }

    #[tokio::test]
    async fn acquire_waits_for_a_free_place() {
        let w = Window::new(1);
        let first = w.acquire().await;
        let waiting = tokio::spawn({
            let w = Arc::clone(&w);
            async move { w.acquire().await.generation }
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(
            !waiting.is_finished(),
            "a second request got past a window of one"
        );
        drop(first);
        tokio::time::timeout(std::time::Duration::from_secs(2), waiting)
            .await
            .expect("released")
            .unwrap();
    }
}
