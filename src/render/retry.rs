//! One segment's requests to the provider: one attempt in a place of the
//! adaptive window ([`Requests::attempt`]); the wait before a retry
//! ([`backoff`]: exponential with jitter, never shorter than `Retry-After`,
//! and how far it may shrink at the tail of a run); a grace period for a
//! request in flight when the run is stopped; and splitting a text the
//! service finds too long (or keeps timing out on, 3030) into pieces, in the
//! job's language (those pieces retry in place, [`Requests::synthesize`]: a
//! rare path).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use tokio_util::sync::CancellationToken;

use super::preview;
use crate::pacing::{Permit, Window};
use crate::provider::{Clip, ErrorClass, ProviderError, SynthRequest, Synthesizer};
use crate::segment::{self, Lang, Limits};

/// How long a request in flight may still finish after a stop signal.
const CANCEL_GRACE: Duration = Duration::from_secs(20);
const MIN_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What the requests of one round share: the provider, the window, the
/// stop signals, and the counters the run reports.
pub(super) struct Requests<S: Synthesizer> {
    pub synth: Arc<S>,
    pub window: Arc<Window>,
    /// The run's cancellation (signals): abandons waits, not finished work.
    pub cancel: CancellationToken,
    /// Cancelled also when the provider refuses every request.
    pub job_cancel: CancellationToken,
    pub max_attempts: u32,
    /// The job's sentence rules, for splitting a text that is too long.
    pub lang: Lang,
    pub counters: Counters,
}

/// Figures of one round, summed over its tasks.
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub retries: AtomicU64,
    pub requests: AtomicU64,
    pub rate_limited: AtomicU64,
    pub rate_limit_wait_ms: AtomicU64,
}

/// How long a retry waits: `due` while other work can fill the window;
/// `floor`, what the service itself asked for, once only retries are left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Backoff {
    pub due: Duration,
    pub floor: Duration,
}

/// The wait before retry number `retry` (1 for the first) after `err`:
/// exponential from `MIN_BACKOFF`, doubled each time up to `MAX_BACKOFF`,
/// plus jitter of up to one more delay, and never less than `Retry-After`.
pub(super) fn backoff(retry: u32, err: &ProviderError) -> Backoff {
    let base = MIN_BACKOFF
        .saturating_mul(1 << retry.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    let jitter = base.mul_f64(fastrand::f64());
    let floor = err.retry_after.unwrap_or(MIN_BACKOFF);
    Backoff {
        due: (base + jitter).max(floor),
        floor,
    }
}

impl<S: Synthesizer> Requests<S> {
    /// One request in the place `permit` holds in the window. The place is
    /// freed as soon as the answer is in; a fatal answer stops the job before
    /// it is freed, so no other request starts. A request still in flight
    /// when the run is stopped may finish within the grace period.
    pub async fn attempt(&self, permit: Permit, text: &str) -> Result<Clip, ProviderError> {
        let request = SynthRequest {
            text: text.to_string(),
        };
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let grace = async {
            self.cancel.cancelled().await;
            tokio::time::sleep(CANCEL_GRACE).await;
        };
        let result = tokio::select! {
            r = self.synth.synthesize(&request) => r,
            () = grace => Err(ProviderError::new(ErrorClass::Transient, "abandoned: the run was stopped")),
        };
        match &result {
            Ok(_) => permit.success(),
            Err(e) if e.class == ErrorClass::RateLimit => {
                self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
                permit.rate_limited();
            }
            Err(e) if e.class == ErrorClass::Fatal => self.job_cancel.cancel(),
            Err(_) => {}
        }
        drop(permit);
        result
    }

    /// One text through the provider: retries with backoff on transient
    /// errors, stops retrying once the run is cancelled, and gives up on a
    /// request still in flight after the grace period. `attempts` counts
    /// every request sent.
    pub async fn synthesize(
        &self,
        text: &str,
        attempts: &AtomicU32,
    ) -> Result<Clip, ProviderError> {
        let request = SynthRequest {
            text: text.to_string(),
        };
        let timeouts = AtomicU32::new(0);
        let attempt = || async {
            // Biased: once the job is stopped (a signal ends a backoff wait
            // early), no retry goes out even if a place is free.
            let permit = tokio::select! {
                biased;
                () = self.job_cancel.cancelled() => {
                    return Err(ProviderError::new(ErrorClass::Transient, "stopped before the request was sent"));
                }
                permit = self.window.acquire() => permit,
            };
            attempts.fetch_add(1, Ordering::Relaxed);
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            let result = self.synth.synthesize(&request).await;
            match &result {
                Ok(_) => permit.success(),
                Err(e) if e.class == ErrorClass::RateLimit => {
                    self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
                    permit.rate_limited();
                }
                Err(_) => {}
            }
            result
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(MIN_BACKOFF)
            .with_max_delay(MAX_BACKOFF)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
            .with_jitter();
        // A backoff wait ends early when the run is cancelled, and no retry
        // starts after that: the segment goes back to pending instead.
        let cancel = self.cancel.clone();
        let sleep = move |delay: Duration| {
            let cancel = cancel.clone();
            async move {
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = cancel.cancelled() => {}
                }
            }
        };
        let retried = attempt
            .retry(backoff)
            .sleep(sleep)
            .when(|e: &ProviderError| {
                if self.job_cancel.is_cancelled() {
                    return false;
                }
                // A processing timeout (3030) is worth one more try; after
                // that the text is split.
                e.class.is_retryable()
                    || (e.class == ErrorClass::ProcessingTimeout
                        && timeouts.fetch_add(1, Ordering::Relaxed) == 0)
            })
            .adjust(|e: &ProviderError, delay| delay.map(|d| e.retry_after.map_or(d, |r| r.max(d))))
            .notify(|e: &ProviderError, delay| {
                self.counters.retries.fetch_add(1, Ordering::Relaxed);
                if e.class == ErrorClass::RateLimit {
                    self.counters
                        .rate_limit_wait_ms
                        .fetch_add(delay.as_millis() as u64, Ordering::Relaxed);
                }
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "transient failure, retrying");
            });
        // A request in flight when the run is cancelled may finish within
        // the grace period; after that it is abandoned.
        let grace = async {
            self.cancel.cancelled().await;
            tokio::time::sleep(CANCEL_GRACE).await;
        };
        tokio::select! {
            r = retried => r,
            () = grace => Err(ProviderError::new(ErrorClass::Transient, "abandoned: the run was stopped")),
        }
    }

    /// The provider said the text is too long (Volcengine 3010): render it
    /// in pieces at half the limits, by the job's sentence rules, and join
    /// them into the segment's one clip, so the plan and the manifest stay
    /// as they are.
    pub async fn synthesize_in_pieces(
        &self,
        text: &str,
        attempts: &AtomicU32,
    ) -> Result<Clip, ProviderError> {
        let pieces = split_in_half(text, self.lang);
        if pieces.len() < 2 {
            return Err(ProviderError::new(
                ErrorClass::TooLong,
                "the provider says the text is too long, and it cannot be split further",
            ));
        }
        tracing::info!(text = %preview(text), pieces = pieces.len(), "too long for the provider: rendering it in pieces");
        let mut joined: Option<Clip> = None;
        for piece in &pieces {
            let clip = self.synthesize(piece, attempts).await?;
            match &mut joined {
                None => joined = Some(clip),
                Some(j) if j.sample_rate == clip.sample_rate => j.append(clip),
                Some(_) => {
                    return Err(ProviderError::new(
                        ErrorClass::Permanent,
                        "the provider answered the pieces of one segment at different sample rates",
                    ));
                }
            }
        }
        joined.ok_or_else(|| ProviderError::new(ErrorClass::TooLong, "no piece to render"))
    }
}

/// `text` cut into pieces of at most half its length (in chars and bytes).
pub(super) fn split_in_half(text: &str, lang: Lang) -> Vec<String> {
    let limits = Limits {
        max_chars: text.chars().count().div_ceil(2).max(1),
        max_bytes: text.len().div_ceil(2).max(4),
    };
    segment::split_paragraph(text, lang, limits)
}

#[cfg(test)]
mod tests;
