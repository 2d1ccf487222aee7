//! The record of every request the simulator served, for tests to assert on
//! (how many succeeded, which codes, how many ran at once), and the debug
//! trace of each. Tokens are never recorded: only whether auth passed.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

/// Which API a request spoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Volcengine,
    Coze,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Http,
    Ws,
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Ok,
    /// Answered with this provider error code.
    Code(u32),
    /// The connection was closed abruptly (injected).
    Dropped,
    /// The body or stream was cut short (injected).
    Truncated,
    /// The client went away before the answer was complete.
    ClientGone,
}

/// One served request.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub provider: Provider,
    pub transport: Transport,
    /// The route, e.g. `/api/v1/tts`.
    pub endpoint: &'static str,
    /// Volcengine `reqid`; Coze has none.
    pub reqid: Option<String>,
    pub text: String,
    pub auth_ok: bool,
    pub outcome: Outcome,
    pub started: Instant,
    pub ended: Instant,
    /// Syntheses in flight (all tokens) when this one started, itself included.
    pub in_flight_at_start: usize,
}

/// Thread-safe, append-only.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<Vec<LogEntry>>,
}

impl RequestLog {
    pub fn entries(&self) -> Vec<LogEntry> {
        self.lock().clone()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    pub fn count_ok(&self) -> usize {
        self.count(Outcome::Ok)
    }

    pub fn count(&self, outcome: Outcome) -> usize {
        self.lock().iter().filter(|e| e.outcome == outcome).count()
    }

    pub fn count_code(&self, code: u32) -> usize {
        self.count(Outcome::Code(code))
    }

    /// Error codes and how often each was answered.
    pub fn counts_by_code(&self) -> BTreeMap<u32, usize> {
        let mut counts = BTreeMap::new();
        for entry in self.lock().iter() {
            if let Outcome::Code(code) = entry.outcome {
                *counts.entry(code).or_insert(0) += 1;
            }
        }
        counts
    }

    /// The most syntheses that ran at once.
    pub fn max_in_flight(&self) -> usize {
        self.lock()
            .iter()
            .map(|e| e.in_flight_at_start)
            .max()
            .unwrap_or(0)
    }

    pub(crate) fn record(&self, entry: LogEntry) {
        tracing::debug!(
            provider = ?entry.provider,
            transport = ?entry.transport,
            endpoint = entry.endpoint,
            reqid = entry.reqid.as_deref().unwrap_or("-"),
            chars = entry.text.chars().count(),
            auth = if entry.auth_ok { "auth ok" } else { "auth failed" },
            outcome = ?entry.outcome,
            in_flight = entry.in_flight_at_start,
            ms = entry.ended.duration_since(entry.started).as_millis() as u64,
            "simulator request"
        );
        self.lock().push(entry);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<LogEntry>> {
        // A poisoned log still holds valid entries: keep serving.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A request being served; filled in as it is parsed, recorded by
/// [`Pending::finish`].
#[derive(Debug)]
pub(crate) struct Pending {
    pub provider: Provider,
    pub transport: Transport,
    pub endpoint: &'static str,
    pub reqid: Option<String>,
    pub text: String,
    pub auth_ok: bool,
    pub in_flight: usize,
    started: Instant,
}

impl Pending {
    pub fn new(provider: Provider, transport: Transport, endpoint: &'static str) -> Self {
        Pending {
            provider,
            transport,
            endpoint,
            reqid: None,
            text: String::new(),
            auth_ok: false,
            in_flight: 0,
            started: Instant::now(),
        }
    }

    pub fn finish(self, log: &RequestLog, outcome: Outcome) {
        log.record(LogEntry {
            provider: self.provider,
            transport: self.transport,
            endpoint: self.endpoint,
            reqid: self.reqid,
            text: self.text,
            auth_ok: self.auth_ok,
            outcome,
            started: self.started,
            ended: Instant::now(),
            in_flight_at_start: self.in_flight,
        });
    }
}
