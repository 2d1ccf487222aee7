//! The `Synthesizer` contract every text-to-speech provider implements, the
//! `Clip` it returns, and the one place that classifies provider errors.
//!
//! A provider makes exactly one request per call and never retries: retry,
//! backoff and pacing live in the scheduler (`render`).

pub mod local;

use std::future::Future;
use std::time::Duration;

/// Mono 16-bit PCM at a known sample rate: what every provider returns and
/// what the cache and the stitcher consume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clip {
    pub sample_rate: u32,
    pub samples: Vec<i16>,
}

impl Clip {
    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }
}

/// One synthesis request: one segment's text.
#[derive(Debug, Clone)]
pub struct SynthRequest {
    /// The segment text, already within the provider's limits.
    pub text: String,
}

/// What the scheduler does with a failed request. Decided by
/// [`ProviderError::class`] alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Retry with backoff and a new request id.
    Transient,
    /// Retry with backoff and lower the concurrency window.
    RateLimit,
    /// Give up on this segment; the rest of the book still renders.
    Permanent,
    /// Stop the whole job at once: every request would fail (bad credentials).
    Fatal,
    /// The text is too long for the provider: split the segment and retry.
    TooLong,
    /// The provider refuses the text as unspeakable: render it as a pause.
    Unspeakable,
}

impl ErrorClass {
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorClass::Transient | ErrorClass::RateLimit)
    }
}

/// A failed synthesis, classified. Never carries a secret.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}{}", code.map(|c| format!(" (code {c})")).unwrap_or_default())]
pub struct ProviderError {
    pub class: ErrorClass,
    /// The provider's own error code, when it gave one.
    pub code: Option<i64>,
    pub message: String,
    /// The provider's trace id (`X-Tt-Logid`, `detail.logid`), for support tickets.
    pub log_id: Option<String>,
    /// A server-requested wait before the next attempt (`Retry-After`).
    pub retry_after: Option<Duration>,
}

impl ProviderError {
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        ProviderError {
            class,
            code: None,
            message: message.into(),
            log_id: None,
            retry_after: None,
        }
    }

    pub fn with_code(mut self, code: i64) -> Self {
        self.code = Some(code);
        self
    }
}

/// The contract the scheduler renders through. Implementations are cheap to
/// share (`Arc`) and safe to call concurrently.
pub trait Synthesizer: Send + Sync + 'static {
    /// A stable description of everything that changes the audio besides the
    /// text (provider, voice, speed, sample rate, engine version). It is part
    /// of every segment's content key, so changing any of these re-renders.
    fn fingerprint(&self) -> String;

    /// Synthesize one segment. One request, no retries.
    fn synthesize(
        &self,
        request: &SynthRequest,
    ) -> impl Future<Output = Result<Clip, ProviderError>> + Send;
}
