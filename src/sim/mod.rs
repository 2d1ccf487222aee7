//! A loopback simulator of the Coze and Volcengine text-to-speech APIs
//! (HTTP and WebSocket), speaking the wire formats of
//! `docs/tts-protocols.md`, so clients can be tested without the cloud.
//!
//! It sits beside the pipeline: nothing in the pipeline imports it. Tests run
//! it in-process with [`start`]; `audiobook sim` runs it with [`run`] until
//! Ctrl-C or SIGTERM. `GET /stats` says what it served so far.
//!
//! - [`config`]: settings, including a switch for every UNCONFIRMED behaviour
//!   and for each documented rule a real account may or may not enforce;
//!   `voices` the voices it knows.
//! - `gate`: the per-token quota, the seeded fault dice, the latency.
//! - `audio`: tone or engine PCM, WAV packing, word timings.
//! - `volcengine`, `coze`: the two APIs, each split by transport.
//! - [`log`]: what was served, for assertions and `/stats`.

mod audio;
mod body;
pub mod config;
mod coze;
mod gate;
pub mod log;
mod voices;
mod volcengine;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use axum::Router;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::{FaultProvider, FaultRule, SimConfig};
pub use log::{LogEntry, Outcome, Provider, RequestLog, Transport};

use crate::provider::{Clip, ProviderError};
use gate::{FaultDice, Slots};

/// How long [`SimHandle::shutdown`] lets open connections finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The state every handler shares.
pub(crate) struct Sim {
    pub config: SimConfig,
    pub log: Arc<RequestLog>,
    pub slots: Arc<Slots>,
    pub dice: FaultDice,
    engines: audio::Engines,
    /// Volcengine `reqid`s already used: a second use is 3006.
    seen_reqids: Mutex<HashSet<String>>,
    /// Cancelled on shutdown; WebSocket sessions watch it.
    pub stop: CancellationToken,
}

impl Sim {
    fn new(config: SimConfig) -> Self {
        Sim {
            slots: Arc::new(Slots::new(config.quota)),
            dice: FaultDice::new(&config),
            engines: audio::Engines::default(),
            log: Arc::new(RequestLog::default()),
            seen_reqids: Mutex::default(),
            stop: CancellationToken::new(),
            config,
        }
    }

    /// The audio for `text`: the tone or the embedded engine, per config.
    pub async fn render(&self, text: &str, voicing: audio::Voicing) -> Result<Clip, ProviderError> {
        let config = &self.config;
        audio::render(config.tone, &self.engines, &config.cache, text, voicing).await
    }

    pub fn token_ok(&self, token: &str) -> bool {
        self.token_index(token).is_some()
    }

    /// The 1-based position of `token` among the accepted ones.
    pub fn token_index(&self, token: &str) -> Option<usize> {
        self.config
            .tokens
            .iter()
            .position(|t| t == token)
            .map(|i| i + 1)
    }

    /// The configured wait before a WebSocket handshake is answered; ends
    /// early when the simulator stops.
    pub async fn handshake_delay(&self) {
        let delay = Duration::from_millis(self.config.ws_handshake_delay_ms);
        if !delay.is_zero() {
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = self.stop.cancelled() => {}
            }
        }
    }

    /// Marks `reqid` used; false when it already was.
    pub fn claim_reqid(&self, reqid: &str) -> bool {
        self.seen_reqids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(reqid.to_owned())
    }
}

/// A running simulator.
pub struct SimHandle {
    pub addr: SocketAddr,
    pub log: Arc<RequestLog>,
    slots: Arc<Slots>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:PORT`
    pub fn ws_base_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Syntheses admitted and not yet answered (waiting out their latency
    /// or being rendered): what a test waits for before it interrupts a
    /// client mid-request.
    pub fn in_flight(&self) -> usize {
        self.slots.total()
    }

    /// Syntheses admitted since the start (past the quota). Each one
    /// answered is in the log; one whose client went away before its answer
    /// is not.
    pub fn admitted(&self) -> usize {
        self.slots.admitted()
    }

    /// Stops accepting, closes WebSocket sessions, and waits a moment for
    /// open HTTP requests.
    pub async fn shutdown(self) {
        self.stop.cancel();
        let abort = self.task.abort_handle();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.task)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}

/// Binds `addr` and serves both APIs until [`SimHandle::shutdown`].
pub async fn start(config: SimConfig, addr: SocketAddr) -> anyhow::Result<SimHandle> {
    config.validate()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the simulator to {addr}"))?;
    let addr = listener.local_addr()?;
    // Small answers must not wait for delayed ACKs (Nagle): latency is ours to set.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let sim = Arc::new(Sim::new(config));
    let log = Arc::clone(&sim.log);
    let slots = Arc::clone(&sim.slots);
    let stop = sim.stop.clone();
    let app = router(sim);
    let shutdown = stop.clone();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "simulator stopped");
        }
    });
    Ok(SimHandle {
        addr,
        log,
        slots,
        stop,
        task,
    })
}

fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/api/v1/tts", post(volcengine::http))
        .route("/api/v1/tts/ws_binary", get(volcengine::ws))
        .route("/v1/audio/speech", post(coze::http).get(coze::ws))
        .route("/v1/audio/voices", get(coze::voices))
        .route("/stats", get(stats))
        .with_state(sim)
}

/// `GET /stats`: what the simulator served so far (see [`RequestLog::stats`]).
async fn stats(
    axum::extract::State(sim): axum::extract::State<Arc<Sim>>,
) -> axum::Json<serde_json::Value> {
    axum::Json(sim.log.stats())
}

/// A trace id in the shape of the real ones: a timestamp and random hex.
pub(crate) fn new_logid() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let random = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    format!("{millis}{}", &random[..18])
}

/// `audiobook sim`: run the simulator on loopback until Ctrl-C.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SimArgs {
    /// Port on 127.0.0.1 (0 = pick a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// TOML settings file; the flags below override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Answer with a quiet sine tone instead of the embedded engine.
    #[arg(long)]
    pub tone: bool,
    /// Max concurrent syntheses per token.
    #[arg(long, value_name = "N")]
    pub quota: Option<usize>,
    /// Fixed delay before each answer.
    #[arg(long, value_name = "N")]
    pub latency_ms: Option<u64>,
    /// Extra delay per character.
    #[arg(long, value_name = "F")]
    pub latency_per_char_ms: Option<f64>,
    /// Inject an error code at a rate, e.g. `3005:0.1` or `coze:5000:0.05`
    /// (repeatable; replaces the file's faults).
    #[arg(long = "fault", value_name = "[PROVIDER:]CODE:RATE", value_parser = parse_fault)]
    pub faults: Vec<FaultRule>,
    /// Share of answers whose connection is closed abruptly.
    #[arg(long, value_name = "RATE")]
    pub drop_rate: Option<f64>,
    /// Share of answers cut short.
    #[arg(long, value_name = "RATE")]
    pub truncate_rate: Option<f64>,
    /// Delay between streamed chunks.
    #[arg(long, value_name = "MS")]
    pub slow_stream_ms: Option<u64>,
    /// Seed of the fault RNG.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Where the embedded engine's data is installed.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
}

impl SimArgs {
    /// The file's settings (or the defaults) with the flags on top.
    pub fn config(&self) -> anyhow::Result<SimConfig> {
        let mut config = match &self.config {
            Some(path) => SimConfig::from_file(path)?,
            None => SimConfig::default(),
        };
        config.tone |= self.tone;
        if self.quota.is_some() {
            config.quota = self.quota;
        }
        set(&mut config.latency_ms, self.latency_ms);
        set(&mut config.latency_per_char_ms, self.latency_per_char_ms);
        if !self.faults.is_empty() {
            config.faults = self.faults.clone();
        }
        set(&mut config.drop_rate, self.drop_rate);
        set(&mut config.truncate_rate, self.truncate_rate);
        set(&mut config.slow_stream_ms, self.slow_stream_ms);
        set(&mut config.seed, self.seed);
        set(&mut config.cache, self.cache.clone());
        config.validate()?;
        Ok(config)
    }
}

fn set<T>(slot: &mut T, flag: Option<T>) {
    if let Some(value) = flag {
        *slot = value;
    }
}

fn parse_fault(spec: &str) -> Result<FaultRule, String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (provider, code, rate) = match parts.as_slice() {
        [code, rate] => ("any", *code, *rate),
        [provider, code, rate] => (*provider, *code, *rate),
        _ => return Err(format!("expected [PROVIDER:]CODE:RATE, got {spec:?}")),
    };
    let provider = match provider {
        "any" => FaultProvider::Any,
        "coze" => FaultProvider::Coze,
        "volcengine" => FaultProvider::Volcengine,
        other => {
            return Err(format!(
                "unknown provider {other:?}: use volcengine, coze or any"
            ));
        }
    };
    let code = code
        .parse()
        .map_err(|_| format!("the code in {spec:?} is not a number"))?;
    let rate = rate
        .parse()
        .map_err(|_| format!("the rate in {spec:?} is not a number"))?;
    Ok(FaultRule {
        provider,
        code,
        rate,
    })
}

/// Runs the simulator on `127.0.0.1:PORT` until Ctrl-C or SIGTERM, then
/// stops cleanly: open connections get a moment to finish, the served
/// totals are printed, and the exit is 0.
pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    let handle = start(config, addr).await?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "simulator listening on {}", handle.base_url())?;
    stdout.flush()?;
    drop(stdout);
    tokio::select! {
        signal = tokio::signal::ctrl_c() => signal.context("waiting for Ctrl-C")?,
        _ = term.recv() => {}
    }
    let log = Arc::clone(&handle.log);
    handle.shutdown().await;
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "simulator stopped after {} requests ({} with audio)",
        log.len(),
        log.count_ok()
    )?;
    stdout.flush()?;
    Ok(())
}
