//! The `Synthesizer` contract every text-to-speech provider implements, the
//! `Clip` it returns, and the one place that classifies provider errors.
//!
//! A provider makes exactly one request per call and never retries: retry,
//! backoff and pacing live in the scheduler (`render`).
//!
//! The implementations form a closed set, so [`Provider`] is an enum that
//! dispatches by `match`; [`Provider::from_job`] builds the one a job asks
//! for, reading the cloud token from the environment variable the job names.
//! Tokens live in a [`Secret`], which never prints, and are registered
//! with [`crate::redact`] when read, so no log line shows them either.
//! Every [`ProviderError`] carries the service's log id and our request id.

pub mod classify;
pub mod coze;
mod decode;
pub mod local;
mod net;
mod resample;
pub mod voices;
pub mod volcengine;

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::time::Duration;

use crate::job::{Job, ProviderSettings, Transport};

/// Mono 16-bit PCM at a known sample rate: what every provider returns and
/// what the cache and the stitcher consume, with the word timings the
/// provider gave (subtitles and read-along need them later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clip {
    pub sample_rate: u32,
    pub samples: Vec<i16>,
    /// Empty when the provider gives no timings (local engine, Coze, or
    /// Volcengine without `with_timestamp`).
    pub words: Vec<WordTiming>,
}

impl Clip {
    /// A clip without word timings.
    pub fn new(sample_rate: u32, samples: Vec<i16>) -> Self {
        Clip {
            sample_rate,
            samples,
            words: Vec::new(),
        }
    }

    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }

    /// Appends `next` (same sample rate; the caller checks) after this clip,
    /// shifting its word timings by this clip's length so they stay true.
    /// This clip's own timings are first cut at its end, so a provider's
    /// rounding never makes a word overlap the next clip's first.
    pub fn append(&mut self, next: Clip) {
        let offset_ms = self.samples.len() as u64 * 1000 / u64::from(self.sample_rate.max(1));
        let offset_ms = u32::try_from(offset_ms).unwrap_or(u32::MAX);
        for w in &mut self.words {
            w.start_ms = w.start_ms.min(offset_ms);
            w.end_ms = w.end_ms.min(offset_ms);
        }
        self.samples.extend_from_slice(&next.samples);
        self.words
            .extend(next.words.into_iter().map(|w| WordTiming {
                word: w.word,
                start_ms: w.start_ms.saturating_add(offset_ms),
                end_ms: w.end_ms.saturating_add(offset_ms),
            }));
    }
}

/// One spoken word and where it is in its clip, in ms from the clip's start.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WordTiming {
    pub word: String,
    pub start_ms: u32,
    pub end_ms: u32,
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
    /// The service timed out processing the text (Volcengine 3030): retry
    /// once, then split the segment like `TooLong`.
    ProcessingTimeout,
    /// The text has nothing to speak (only punctuation or symbols) and the
    /// provider refuses it: render it as a pause, counted in the report.
    Unspeakable,
}

impl ErrorClass {
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorClass::Transient | ErrorClass::RateLimit)
    }
}

/// A failed synthesis, classified. Never carries a secret.
///
/// Shown, it names the service's log id and our request id after the
/// message (`… (code 3050; log id 2025…; request 6f1c…)`): vendors ask for
/// the log id in every support ticket. [`ProviderError::cause`] is the same
/// without the ids, which differ on every request, for grouping failures.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.shown())]
pub struct ProviderError {
    pub class: ErrorClass,
    /// The provider's own error code, when it gave one.
    pub code: Option<i64>,
    pub message: String,
    /// The provider's trace id (`X-Tt-Logid`, `detail.logid`), for support tickets.
    pub log_id: Option<String>,
    /// Our id of the request (Volcengine `reqid`; for Coze, the id our logs
    /// give the request).
    pub request_id: Option<String>,
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
            request_id: None,
            retry_after: None,
        }
    }

    /// The message and code without the ids: equal for every request that
    /// failed for the same reason.
    pub fn cause(&self) -> String {
        match self.code {
            Some(code) => format!("{} (code {code})", self.message),
            None => self.message.clone(),
        }
    }

    /// The ids as shown after the message, e.g. `log id X; request Y`;
    /// empty when there are none.
    pub fn ids(&self) -> String {
        ids_text(self.log_id.as_deref(), self.request_id.as_deref())
    }

    fn shown(&self) -> String {
        let mut details: Vec<String> = self.code.map(|c| format!("code {c}")).into_iter().collect();
        let ids = self.ids();
        if !ids.is_empty() {
            details.push(ids);
        }
        if details.is_empty() {
            self.message.clone()
        } else {
            format!("{} ({})", self.message, details.join("; "))
        }
    }

    /// Our request id, unless one is already set (an inner step may know it).
    pub fn with_request_id(mut self, request_id: &str) -> Self {
        if self.request_id.is_none() && !request_id.is_empty() {
            self.request_id = Some(request_id.to_owned());
        }
        self
    }

    /// The service's log id, unless one is already set.
    pub fn or_log_id(self, log_id: Option<&str>) -> Self {
        if self.log_id.is_some() {
            return self;
        }
        let log_id = log_id.map(str::to_owned);
        self.with_log_id(log_id)
    }

    pub fn with_code(mut self, code: i64) -> Self {
        self.code = Some(code);
        self
    }

    pub fn with_log_id(mut self, log_id: Option<String>) -> Self {
        self.log_id = log_id.filter(|id| !id.is_empty());
        self
    }

    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }
}

/// A log id and a request id as every message shows them:
/// `log id X; request Y`, either left out when unknown.
pub fn ids_text(log_id: Option<&str>, request_id: Option<&str>) -> String {
    let log = log_id.map(|id| format!("log id {id}"));
    let request = request_id.map(|id| format!("request {id}"));
    [log, request]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ")
}

/// A credential. `Debug` and `Display` print `***`; only [`Secret::expose`]
/// gives the value, and only request-building code calls it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the secret replaced by `***`: for
    /// messages built from server bodies, in case a server echoes headers.
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_owned()
        } else {
            text.replace(&self.0, "***")
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Tokens shorter than this are refused: no provider issues one (Coze's and
/// Volcengine's are dozens of characters), so it is a placeholder or a
/// truncated paste; and masking every occurrence of a one- or
/// two-character string in every log line would leave the logs unreadable.
const MIN_TOKEN_CHARS: usize = 8;

/// The token in environment variable `var`. A missing, empty or too short
/// variable is `Fatal` (no request could succeed) and the message names
/// the variable, never the value.
pub fn token_from_env(var: &str) -> Result<Secret, ProviderError> {
    match std::env::var(var) {
        Ok(value) => {
            let token = value.trim();
            let chars = token.chars().count();
            if chars == 0 {
                return Err(missing_token(var, "is empty"));
            }
            if chars < MIN_TOKEN_CHARS {
                let what =
                    format!("holds only {chars} characters, too short for a provider's token");
                return Err(missing_token(var, &what));
            }
            // Before any request is built: from here on no log line shows it.
            crate::redact::register(token);
            crate::redact::register(&value);
            Ok(Secret::new(token))
        }
        Err(std::env::VarError::NotPresent) => Err(missing_token(var, "is not set")),
        Err(std::env::VarError::NotUnicode(_)) => Err(missing_token(var, "is not valid UTF-8")),
    }
}

fn missing_token(var: &str, what: &str) -> ProviderError {
    ProviderError::new(
        ErrorClass::Fatal,
        format!(
            "environment variable {var} {what}; export the provider's token in {var} (the job \
             file's token_env names the variable)"
        ),
    )
}

/// Installs ring as the process-wide rustls crypto provider. rustls
/// panics on `wss://` when two providers are compiled in and none is
/// installed, so every client constructor calls this; a provider that is
/// already installed (by us or by the binary) is fine.
pub fn install_crypto_provider() {
    // Err only means "already installed", which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The contract the scheduler renders through. Implementations are cheap to
/// share (`Arc`) and safe to call concurrently.
pub trait Synthesizer: Send + Sync + 'static {
    /// Synthesize one segment. One request, no retries.
    fn synthesize(
        &self,
        request: &SynthRequest,
    ) -> impl Future<Output = Result<Clip, ProviderError>> + Send;
}

/// Every provider the renderer can use, chosen by the job file.
pub enum Provider {
    Local(local::LocalEngine),
    CozeHttp(coze::CozeHttp),
    CozeWs(coze::CozeWs),
    VolcHttp(volcengine::VolcHttp),
    VolcWs(volcengine::VolcWs),
}

impl Provider {
    /// The provider the job asks for. Cloud providers read their token from
    /// the job's `token_env` variable here, so a missing token stops the
    /// run before any work starts.
    pub fn from_job(job: &Job, cache_root: &Path) -> Result<Provider, ProviderError> {
        let voice = &job.voice;
        let rate = job.audio.sample_rate;
        let provider = match (&voice.settings, voice.transport) {
            (ProviderSettings::Local, _) => {
                Provider::Local(local::LocalEngine::new(cache_root, voice, rate)?)
            }
            (ProviderSettings::Coze(config), transport) => {
                let token = token_from_env(&config.token_env)?;
                let settings = coze::CozeSettings::new(voice, config, rate, token);
                match transport {
                    Transport::Http => Provider::CozeHttp(coze::CozeHttp::new(settings)?),
                    Transport::WebSocket => Provider::CozeWs(coze::CozeWs::new(settings)),
                }
            }
            (ProviderSettings::Volcengine(config), transport) => {
                let token = token_from_env(&config.token_env)?;
                let settings = volcengine::VolcSettings::new(voice, config, rate, token);
                match transport {
                    Transport::Http => Provider::VolcHttp(volcengine::VolcHttp::new(settings)?),
                    Transport::WebSocket => Provider::VolcWs(volcengine::VolcWs::new(settings)?),
                }
            }
        };
        Ok(provider)
    }
}

/// Everything besides the text that changes the audio of the voice `job`
/// asks for (provider, voice, speed, every audio parameter, sample rate,
/// engine version), computed without building a client, reading a token or
/// installing anything. The one source of [`crate::plan::Fingerprint`]:
/// every segment's content key contains it, so changing any of these
/// re-renders.
pub fn fingerprint_for(job: &Job) -> String {
    let voice = &job.voice;
    let rate = job.audio.sample_rate;
    match &voice.settings {
        ProviderSettings::Local => local::fingerprint(voice, rate),
        ProviderSettings::Coze(config) => {
            coze::CozeSettings::new(voice, config, rate, Secret::new(String::new())).fingerprint()
        }
        ProviderSettings::Volcengine(config) => {
            volcengine::VolcSettings::new(voice, config, rate, Secret::new(String::new()))
                .fingerprint()
        }
    }
}

impl Synthesizer for Provider {
    async fn synthesize(&self, request: &SynthRequest) -> Result<Clip, ProviderError> {
        match self {
            Provider::Local(p) => p.synthesize(request).await,
            Provider::CozeHttp(p) => p.synthesize(request).await,
            Provider::CozeWs(p) => p.synthesize(request).await,
            Provider::VolcHttp(p) => p.synthesize(request).await,
            Provider::VolcWs(p) => p.synthesize(request).await,
        }
    }
}

/// By hand: the local engine need not be `Debug`, and the cloud clients'
/// own `Debug` already hides their tokens.
impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Provider::Local(_) => f.write_str("Local"),
            Provider::CozeHttp(p) => p.fmt(f),
            Provider::CozeWs(p) => p.fmt(f),
            Provider::VolcHttp(p) => p.fmt(f),
            Provider::VolcWs(p) => p.fmt(f),
        }
    }
}

#[cfg(test)]
pub(crate) mod testutil;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let secret = Secret::new("pat_supersecret");
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{secret}"), "***");
        assert_eq!(secret.expose(), "pat_supersecret");
        assert_eq!(
            secret.redact("Authorization: Bearer pat_supersecret"),
            "Authorization: Bearer ***"
        );
    }

    #[test]
    fn missing_token_names_the_variable() {
        let var = "AUDIOBOOK_TEST_TOKEN_THAT_IS_NEVER_SET";
        let err = token_from_env(var).expect_err("unset");
        assert_eq!(err.class, ErrorClass::Fatal);
        assert!(err.message.contains(var), "{err}");
        assert!(err.message.contains("is not set"), "{err}");
    }

    /// A cloud job whose token variable is unset: `from_job` fails before
    /// any request, naming the variable.
    #[test]
    fn from_job_names_the_missing_token_variable() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("book.md"), "# One\n\nText.\n").expect("write");
        let var = "AUDIOBOOK_TEST_UNSET_VOLC_TOKEN";
        let job = format!(
            "[book]\ntitle = \"T\"\n[manuscript]\nfiles = \"book.md\"\n[output]\ndir = \"out\"\n\
             [voice]\nprovider = \"volcengine\"\ntransport = \"websocket\"\nvoice = \"v\"\n\
             [voice.volcengine]\nappid = \"1\"\ntoken_env = \"{var}\"\n"
        );
        let path = dir.path().join("job.toml");
        std::fs::write(&path, job).expect("write job");
        let job = crate::job::load(&path).expect("valid job");
        let err = Provider::from_job(&job, dir.path()).expect_err("no token");
        assert_eq!(err.class, ErrorClass::Fatal);
        assert!(err.message.contains(var), "{err}");
    }

    fn word(word: &str, start_ms: u32, end_ms: u32) -> WordTiming {
        WordTiming {
            word: word.into(),
            start_ms,
            end_ms,
        }
    }

    /// A segment rendered in pieces keeps its words where they are spoken.
    #[test]
    fn appending_clips_shifts_the_later_words() {
        let mut first = Clip::new(1000, vec![0; 250]);
        first.words = vec![word("a", 0, 100), word("b", 100, 260)];
        let mut second = Clip::new(1000, vec![1; 100]);
        second.words = vec![word("c", 10, 90)];
        first.append(second);
        assert_eq!(first.samples.len(), 350);
        assert_eq!(
            first.words,
            [word("a", 0, 100), word("b", 100, 250), word("c", 260, 340)]
        );
        first.append(Clip::new(1000, vec![2; 10]));
        assert_eq!(first.words.len(), 3, "a clip without words adds none");
    }

    #[test]
    fn crypto_provider_installs_twice() {
        install_crypto_provider();
        install_crypto_provider();
    }
}
