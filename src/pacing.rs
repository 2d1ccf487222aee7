//! Adaptive concurrency: the window of requests in flight, found rather than
//! guessed, the way TCP finds a link's capacity.
//!
//! `[render] concurrency` is the ceiling. The provider account's real quota
//! is unknown, and exceeding it costs rate-limit answers (Volcengine 3003,
//! Coze 4020, HTTP 429). Every permit remembers its place: how many requests
//! were in flight, itself included, when it was sent. A refusal at place
//! `k` proves the quota is below `k`. So:
//! - slow start: the window starts at `INITIAL` (8, or the ceiling if
//!   lower: a few refusals at a quota below it, answered at once, cost
//!   less than the round trips of climbing from lower; from 4 the climb
//!   cost about 0.4 s, 1 % of a 2,000-segment run at quota 16) and grows
//!   by one per success until the first refusal or the
//!   ceiling; the first refusal ends slow start and sets the window to the
//!   level just below the refused place, "safe";
//! - at the safe level, a run of successes (`PROBE_RUN` × window, doubled
//!   for every probe refused at this level, so a level that holds is probed
//!   less and less often) opens one place more: a probe. A probe that holds
//!   for a run becomes the new safe level; a refused probe returns the
//!   window to the safe level, it does not halve it. While a probe is open
//!   any refusal counts as the probe's, whatever its place: requests reach
//!   the service in another order than they took their places, so the one
//!   refused for the extra request may hold a place at or below the safe
//!   level;
//! - a refusal at or below the safe level means the quota shrank: the window
//!   halves and the safe level drops below the refused place; below the safe
//!   level every success grows the window by one (quick recovery).
//!
//! Refusals of requests sent before the last change are the same congestion
//! event and are ignored.
//!
//! One window is shared by every job of one provider account in a run.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

/// Successes, in multiples of the window, before probing one step higher.
const PROBE_RUN: usize = 8;
/// Where slow start begins (or the ceiling, if lower).
const INITIAL: usize = 8;
/// Refused probes double the run before the next one, up to 2^this.
const MAX_PROBE_BACKOFF: u32 = 8;

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
    /// The highest level known to be under the quota; `None` in slow start.
    safe: Option<usize>,
    /// Probes refused at the current safe level.
    refused_probes: u32,
    /// Bumped at every decrease; a permit remembers the one it started in.
    generation: u64,
    rate_limits: u64,
}

/// One request's place in the window; released when dropped.
#[derive(Debug)]
pub struct Permit {
    window: Arc<Window>,
    generation: u64,
    /// Requests in flight when this one was sent, itself included.
    place: usize,
}

impl Window {
    pub fn new(ceiling: usize) -> Arc<Window> {
        let ceiling = ceiling.max(1);
        Arc::new(Window {
            state: Mutex::new(State {
                ceiling,
                limit: INITIAL.min(ceiling),
                in_flight: 0,
                successes: 0,
                safe: None,
                refused_probes: 0,
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

    /// The level known to be under the quota, once a refusal has shown one.
    pub fn safe(&self) -> Option<usize> {
        self.state().safe
    }

    /// Whether a request could be sent now without waiting.
    pub fn has_room(&self) -> bool {
        let s = self.state();
        s.in_flight < s.limit
    }

    /// Rate-limit answers that changed the window.
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
                        place: s.in_flight,
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
            if s.limit < old {
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
        let Some(safe) = s.safe else {
            // Slow start.
            s.successes = 0;
            let next = s.limit + 1;
            w.set_limit(&mut s, next, "slow start");
            return;
        };
        if s.limit < safe {
            s.successes = 0;
            let next = s.limit + 1;
            w.set_limit(&mut s, next, "recovering");
            return;
        }
        // A probe is confirmed after one run; the next probe from the safe
        // level waits longer for every probe refused there.
        let backoff = if s.limit > safe {
            0
        } else {
            s.refused_probes.min(MAX_PROBE_BACKOFF)
        };
        let run = (PROBE_RUN * s.limit) << backoff;
        if s.successes < run {
            return;
        }
        s.successes = 0;
        if s.limit > safe {
            // The probe held for a whole run: the quota has room for it.
            s.safe = Some(s.limit);
            s.refused_probes = 0;
        }
        if s.limit < s.ceiling {
            let next = s.limit + 1;
            w.set_limit(&mut s, next, "probing");
        }
    }

    /// The provider said the account is over its quota.
    pub fn rate_limited(&self) {
        let w = &self.window;
        let mut s = w.state();
        if self.generation != s.generation {
            // Sent before the last change: the same congestion event.
            return;
        }
        s.generation += 1;
        s.rate_limits += 1;
        s.successes = 0;
        // Refused at place k: the quota is below k.
        let below = self.place.saturating_sub(1).max(1);
        match s.safe {
            None => {
                s.safe = Some(below);
                w.set_limit(&mut s, below, "rate limited: slow start ends");
            }
            // Refused above the safe level, or while a probe is open.
            Some(safe) if self.place > safe || s.limit > safe => {
                s.refused_probes = s.refused_probes.saturating_add(1);
                w.set_limit(&mut s, safe, "rate limited: back to the safe level");
            }
            Some(_) => {
                // Refused at a level that held before: the quota shrank.
                s.safe = Some(below);
                s.refused_probes = 0;
                let halved = (s.limit / 2).max(1);
                w.set_limit(&mut s, halved, "rate limited: the quota shrank");
            }
        }
        // A decrease that left the limit where it was still starts a new
        // congestion event (the generation moved), so wake no one.
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

    /// `n` permits held at once, at places 1..=n.
    async fn hold(w: &Arc<Window>, n: usize) -> Vec<Permit> {
        let mut permits = Vec::new();
        for _ in 0..n {
            permits.push(w.acquire().await);
        }
        permits
    }

    /// Successes at the current limit until it changes or `max` are spent.
    async fn succeed(w: &Arc<Window>, max: usize) -> usize {
        let start = w.limit();
        for i in 1..=max {
            w.acquire().await.success();
            if w.limit() != start {
                return i;
            }
        }
        max
    }

    #[tokio::test]
    async fn slow_start_grows_by_one_per_success_up_to_the_ceiling() {
        let w = Window::new(INITIAL + 3);
        assert_eq!(w.limit(), INITIAL);
        for expected in [INITIAL + 1, INITIAL + 2, INITIAL + 3, INITIAL + 3] {
            w.acquire().await.success();
            assert_eq!(w.limit(), expected);
        }
        // A ceiling below the initial window is where it starts.
        assert_eq!(Window::new(2).limit(), 2);
    }

    #[tokio::test]
    async fn the_first_refusal_ends_slow_start_just_below_the_refused_place() {
        let w = Window::new(32);
        for _ in 0..10 - INITIAL {
            w.acquire().await.success();
        }
        assert_eq!(w.limit(), 10);
        let permits = hold(&w, 8).await;
        permits[7].rate_limited(); // the 8th in flight was refused: quota < 8
        assert_eq!((w.limit(), w.safe()), (7, Some(7)));
        // Others sent in the same burst are the same congestion event.
        permits[6].rate_limited();
        permits[5].rate_limited();
        assert_eq!((w.limit(), w.rate_limits()), (7, 1));
    }

    #[tokio::test]
    async fn a_refused_probe_returns_to_the_safe_level_and_probes_grow_rarer() {
        let w = Window::new(32);
        for _ in 0..4 {
            w.acquire().await.success();
        }
        hold(&w, 5).await[4].rate_limited(); // quota < 5
        assert_eq!((w.limit(), w.safe()), (4, Some(4)));
        // At the safe level a run of 8 x 4 successes opens a probe at 5.
        assert_eq!(succeed(&w, 1000).await, PROBE_RUN * 4);
        assert_eq!(w.limit(), 5);
        // The probe is refused: back to 4, not halved.
        hold(&w, 5).await[4].rate_limited();
        assert_eq!((w.limit(), w.safe()), (4, Some(4)));
        // The next probe waits twice as long, the one after four times.
        assert_eq!(succeed(&w, 1000).await, 2 * PROBE_RUN * 4);
        hold(&w, 5).await[4].rate_limited();
        assert_eq!(w.limit(), 4);
        assert_eq!(succeed(&w, 1000).await, 4 * PROBE_RUN * 4);
        assert_eq!(w.limit(), 5);
        // This probe holds for its run: 5 is the new safe level.
        assert_eq!(succeed(&w, 1000).await, PROBE_RUN * 5);
        assert_eq!((w.limit(), w.safe()), (6, Some(5)));
    }

    /// Requests reach the service in another order than they took their
    /// places: with a probe open, the one refused may hold a place at or
    /// below the safe level. That is still the probe's refusal.
    #[tokio::test]
    async fn a_refusal_while_a_probe_is_open_returns_to_the_safe_level() {
        let w = Window::new(32);
        for _ in 0..17 - INITIAL {
            w.acquire().await.success();
        }
        hold(&w, 17).await[16].rate_limited(); // quota < 17
        assert_eq!((w.limit(), w.safe()), (16, Some(16)));
        assert_eq!(succeed(&w, 10_000).await, PROBE_RUN * 16);
        assert_eq!(w.limit(), 17, "a probe opened");
        // The 16th place was refused: the 17th arrived first.
        let permits = hold(&w, 17).await;
        permits[15].rate_limited();
        assert_eq!((w.limit(), w.safe()), (16, Some(16)), "halved for a probe");
        drop(permits);
        // With no probe open, a refusal at the safe level is a shrunk quota.
        hold(&w, 16).await[15].rate_limited();
        assert_eq!((w.limit(), w.safe()), (8, Some(15)));
    }

    #[tokio::test]
    async fn a_refusal_at_the_safe_level_means_the_quota_shrank_and_halves() {
        let w = Window::new(32);
        for _ in 0..10 {
            w.acquire().await.success();
        }
        hold(&w, 11).await[10].rate_limited();
        assert_eq!((w.limit(), w.safe()), (10, Some(10)));
        // Refused with 7 in flight, below the safe level: the quota shrank.
        hold(&w, 7).await[6].rate_limited();
        assert_eq!((w.limit(), w.safe()), (5, Some(6)));
        // Below the new safe level every success grows it again.
        for expected in [6, 6] {
            w.acquire().await.success();
            assert_eq!(w.limit(), expected);
        }
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
