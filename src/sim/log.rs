//! The record of every request the simulator served, for tests to assert on
//! (how many succeeded, which codes, how many ran at once), the summary the
//! `/stats` endpoint serves, and the debug trace of each (with its text).
//! Tokens are never recorded: only whether auth passed and which of the
//! configured tokens it was, by position.

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

impl Outcome {
    /// `ok`, the code, or what went wrong, as `/stats` counts it.
    pub fn label(self) -> String {
        match self {
            Outcome::Ok => "ok".to_owned(),
            Outcome::Code(code) => code.to_string(),
            Outcome::Dropped => "dropped".to_owned(),
            Outcome::Truncated => "truncated".to_owned(),
            Outcome::ClientGone => "client_gone".to_owned(),
        }
    }
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
    /// Which configured token was used, 1-based; `None` when refused.
    pub token: Option<usize>,
    pub outcome: Outcome,
    pub started: Instant,
    pub ended: Instant,
    /// Syntheses in flight (all tokens) when this one started, itself included.
    pub in_flight_at_start: usize,
    /// The sample rate the client asked for (Volcengine `audio.rate`), when
    /// the request got that far.
    pub asked_rate: Option<u32>,
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

    /// What `/stats` serves: requests by outcome and by token, the most
    /// that ran at once, and the texts served with audio, in order.
    pub fn stats(&self) -> serde_json::Value {
        let entries = self.lock();
        let mut by_outcome: BTreeMap<String, usize> = BTreeMap::new();
        let mut by_token: BTreeMap<String, usize> = BTreeMap::new();
        for entry in entries.iter() {
            *by_outcome.entry(entry.outcome.label()).or_insert(0) += 1;
            let token = entry
                .token
                .map_or_else(|| "refused".to_owned(), |i| format!("token {i}"));
            *by_token.entry(token).or_insert(0) += 1;
        }
        let texts: Vec<&str> = entries
            .iter()
            .filter(|e| e.outcome == Outcome::Ok && !e.text.is_empty())
            .map(|e| e.text.as_str())
            .collect();
        let max_in_flight = entries.iter().map(|e| e.in_flight_at_start).max();
        serde_json::json!({
            "requests": entries.len(),
            "by_outcome": by_outcome,
            "by_token": by_token,
            "max_in_flight": max_in_flight.unwrap_or(0),
            "texts": texts,
        })
    }

    pub(crate) fn record(&self, entry: LogEntry) {
        tracing::debug!(
            provider = ?entry.provider,
            transport = ?entry.transport,
            endpoint = entry.endpoint,
            reqid = entry.reqid.as_deref().unwrap_or("-"),
            chars = entry.text.chars().count(),
            text = %entry.text,
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
    pub token: Option<usize>,
    pub in_flight: usize,
    pub asked_rate: Option<u32>,
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
            token: None,
            in_flight: 0,
            asked_rate: None,
            started: Instant::now(),
        }
    }

    /// Records whether `token` is one the simulator accepts, and which.
    pub fn set_token(&mut self, sim: &super::Sim, token: Option<&str>) {
        self.token = token.and_then(|t| sim.token_index(t));
        self.auth_ok = self.token.is_some();
    }

    pub fn finish(self, log: &RequestLog, outcome: Outcome) {
        log.record(LogEntry {
            provider: self.provider,
            transport: self.transport,
            endpoint: self.endpoint,
            reqid: self.reqid,
            text: self.text,
            auth_ok: self.auth_ok,
            token: self.token,
            outcome,
            started: self.started,
            ended: Instant::now(),
            in_flight_at_start: self.in_flight,
            asked_rate: self.asked_rate,
        });
    }
}
