//! The simulator's settings: tokens, quota, latency, fault rates, voices, and
//! one switch for every wire behaviour the protocol reference marks
//! UNCONFIRMED, so a client can be tested against each plausible variant.
//!
//! Loaded from a TOML file (every key optional, unknown keys rejected), then
//! overridden by command-line flags in [`super::SimArgs`]:
//!
//! ```toml
//! tokens = ["test-token"]
//! quota = 2                      # concurrent syntheses per token
//! latency_ms = 50
//! latency_per_char_ms = 1.5
//! faults = [{ provider = "volcengine", code = 3005, rate = 0.1 }]
//! drop_rate = 0.01
//! truncate_rate = 0.01
//! slow_stream_ms = 0
//! tone = true
//! seed = 42
//! coze_ws_auth = "handshake"     # or "event"
//! volc_ack_bytes = 8             # or 4
//! volc_undocumented_rate = "refuse"   # or "ignore": answer 24000 Hz
//! volc_emotion_without_enable = "refuse"   # or "ignore"
//! volc_language_check = true     # 3011 when text and voice languages differ
//! coze_account_code = 4011       # every Coze speech request refused so
//! volc_quota_code = 3001         # the code of the concurrency quota's refusal
//! ws_handshake_delay_ms = 3000   # a slow WebSocket connect
//! served_rate = 16000            # answer at this rate whatever is asked
//! [voices]
//! volcengine = ["BV001_streaming", { voice_type = "en_male_adam", language = "en" }]
//! [[voices.coze]]
//! voice_id = "7426720361733046281"
//! name = "柔美女友"
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

pub use super::voices::{
    CozeVoice, EmotionInfo, ModelType, ScaleInterval, VoiceState, Voices, VolcVoice,
};

/// Everything the simulator can be told. `Default` is a quiet, fault-free
/// server that accepts the token `test-token`.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    /// Accepted bearer tokens, for both providers.
    pub tokens: Vec<String>,
    /// Max concurrent syntheses per token; `None` = unlimited.
    pub quota: Option<usize>,
    /// Fixed delay before every synthesis answer.
    pub latency_ms: u64,
    /// Extra delay per character of text.
    pub latency_per_char_ms: f64,
    /// Error codes injected at given rates.
    pub faults: Vec<FaultRule>,
    /// Share of syntheses whose connection is closed abruptly mid-response.
    pub drop_rate: f64,
    /// Share of syntheses answered with a truncated body or stream.
    pub truncate_rate: f64,
    /// Delay between streamed chunks (WS frames/events, Coze HTTP body).
    pub slow_stream_ms: u64,
    /// Length of one streamed audio chunk.
    pub chunk_ms: u32,
    /// A quiet sine tone instead of the embedded engine: fast, deterministic.
    pub tone: bool,
    /// Seed of the fault RNG, so a run is reproducible.
    pub seed: u64,
    /// Longest text accepted per request, in UTF-8 bytes (both services
    /// document 1024); lower it to rehearse "text too long" (3010).
    pub max_text_bytes: usize,
    /// Where the embedded engine's data is installed (ignored with `tone`).
    pub cache: PathBuf,
    pub voices: Voices,

    // ---- UNCONFIRMED behaviours (tts-protocols.md section 8) ----
    /// Coze WS: refuse a bad token at the handshake (401) or accept and send
    /// an `error` event.
    pub coze_ws_auth: CozeWsAuth,
    /// Coze HTTP: error envelopes with a mapped 4xx/5xx status, or always 200.
    pub coze_error_status: ErrorStatus,
    /// Coze HTTP: the code for text over 1024 bytes (3010 or 4000).
    pub coze_too_long_code: u32,
    /// Coze WS: whether the 1024-byte limit applies to each delta or to the
    /// committed buffer.
    pub coze_text_limit: TextLimitScope,
    /// Coze WS: close the socket after sending an `error` event.
    pub coze_ws_close_after_error: bool,
    /// Coze WS: send the undocumented `conversation.audio.sentence_start`
    /// event before the audio, as the real server was seen to do.
    pub coze_sentence_start: bool,
    /// Coze WS: the voice used before any `speech.update` (the real default
    /// id is unknown). `None` = the first configured Coze voice.
    pub coze_default_voice: Option<String>,
    /// Volcengine WS: length of the ACK frame, 4 (header only) or 8 bytes.
    pub volc_ack_bytes: u8,
    /// Volcengine HTTP: error status, mapped 4xx/5xx or always 200.
    pub volc_error_status: ErrorStatus,
    /// Volcengine WS: refuse a bad token at the handshake (401) or accept and
    /// answer the request with an error frame.
    pub volc_ws_auth: VolcWsAuth,
    /// Volcengine: the code sent with the message-only auth error.
    pub volc_auth_code: u32,
    /// Volcengine WS: compression of error and frontend frames.
    pub volc_error_compression: FrameCompression,
    /// Volcengine: the code the concurrency quota's message
    /// (`quota exceeded for types: concurrency`) comes with; the documents
    /// say 3003, captures show refusals under 3001 too.
    pub volc_quota_code: u32,
    /// Both WebSockets: a wait before the handshake is answered, to
    /// rehearse a slow connect.
    pub ws_handshake_delay_ms: u64,

    // ---- documented rules a real account enforces, by switch ----
    /// Volcengine: `audio.rate` other than 8000, 16000 or 24000 is refused
    /// (3001), or silently ignored: answered at 24000 Hz, truthfully
    /// reported in `addition.duration`.
    pub volc_undocumented_rate: OnBreach,
    /// Volcengine: an `emotion` without `enable_emotion: true` is refused
    /// (3001), or silently ignored (audio without the emotion).
    pub volc_emotion_without_enable: OnBreach,
    /// Volcengine: text in another language than the voice's (and than
    /// `explicit_language`) is answered 3011 `illegal input text!`.
    pub volc_language_check: bool,
    /// Coze: every speech request is refused with this account-wide code
    /// (4008, 4011, 4019, 4022, 4027, 4028, 4100 or 4101).
    pub coze_account_code: Option<u32>,
    /// Answer every synthesis at this rate whatever was asked, and say so
    /// (Volcengine `addition.duration` and duration frame, the WAV header,
    /// Coze `speech.updated`): a service whose rate handling differs from
    /// its documents.
    pub served_rate: Option<u32>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            tokens: vec!["test-token".to_owned()],
            quota: None,
            latency_ms: 0,
            latency_per_char_ms: 0.0,
            faults: Vec::new(),
            drop_rate: 0.0,
            truncate_rate: 0.0,
            slow_stream_ms: 0,
            chunk_ms: 100,
            tone: false,
            seed: 0,
            max_text_bytes: 1024,
            cache: PathBuf::from("cache"),
            voices: Voices::default(),
            coze_ws_auth: CozeWsAuth::Handshake,
            coze_error_status: ErrorStatus::Mapped,
            coze_too_long_code: 3010,
            coze_text_limit: TextLimitScope::Commit,
            coze_ws_close_after_error: false,
            coze_sentence_start: true,
            coze_default_voice: None,
            volc_ack_bytes: 8,
            volc_error_status: ErrorStatus::Mapped,
            volc_ws_auth: VolcWsAuth::Handshake,
            volc_auth_code: 3001,
            volc_error_compression: FrameCompression::Mirror,
            volc_quota_code: 3003,
            ws_handshake_delay_ms: 0,
            volc_undocumented_rate: OnBreach::Refuse,
            volc_emotion_without_enable: OnBreach::Refuse,
            volc_language_check: false,
            coze_account_code: None,
            served_rate: None,
        }
    }
}

impl SimConfig {
    /// Reads and validates a TOML file.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the simulator config {}", path.display()))?;
        Self::from_toml(&text).with_context(|| format!("in {}", path.display()))
    }

    /// Parses and validates TOML text.
    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        let config: SimConfig = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde cannot: rates are probabilities, the enumerated
    /// numbers are ones the simulator knows.
    pub fn validate(&self) -> anyhow::Result<()> {
        check_rate("drop_rate", self.drop_rate)?;
        check_rate("truncate_rate", self.truncate_rate)?;
        for rule in &self.faults {
            check_rate(&format!("the rate of fault {}", rule.code), rule.rate)?;
        }
        for provider in [FaultProvider::Volcengine, FaultProvider::Coze] {
            let total: f64 = self
                .faults
                .iter()
                .filter(|r| r.provider.covers(provider))
                .map(|r| r.rate)
                .sum::<f64>()
                + self.drop_rate
                + self.truncate_rate;
            if total > 1.0 + 1e-9 {
                bail!("fault, drop and truncate rates for {provider:?} add up to {total}, over 1");
            }
        }
        if !matches!(self.volc_ack_bytes, 4 | 8) {
            bail!("volc_ack_bytes must be 4 or 8, not {}", self.volc_ack_bytes);
        }
        if !matches!(self.coze_too_long_code, 3010 | 4000) {
            bail!(
                "coze_too_long_code must be 3010 or 4000, not {}",
                self.coze_too_long_code
            );
        }
        if !self.latency_per_char_ms.is_finite() || self.latency_per_char_ms < 0.0 {
            bail!("latency_per_char_ms must be a non-negative number");
        }
        if self.chunk_ms == 0 {
            bail!("chunk_ms must be at least 1");
        }
        if let Some(code) = self.coze_account_code
            && !COZE_ACCOUNT_CODES.contains(&code)
        {
            bail!(
                "coze_account_code must be one of {COZE_ACCOUNT_CODES:?} (the account-wide \
                 refusals), not {code}"
            );
        }
        if let Some(rate) = self.served_rate
            && !(8000..=48000).contains(&rate)
        {
            bail!("served_rate must be between 8000 and 48000, not {rate}");
        }
        if self.voices.coze.is_empty() {
            bail!("voices.coze must list at least one voice");
        }
        if let Some(id) = &self.coze_default_voice
            && !self.voices.coze.iter().any(|v| &v.voice_id == id)
        {
            bail!("coze_default_voice {id} is not in voices.coze");
        }
        Ok(())
    }

    /// The voice a Coze WS session starts with.
    pub(crate) fn coze_default_voice_id(&self) -> String {
        self.coze_default_voice
            .clone()
            .or_else(|| self.voices.coze.first().map(|v| v.voice_id.clone()))
            .unwrap_or_default()
    }

    pub(crate) fn coze_voice(&self, id: &str) -> Option<&CozeVoice> {
        self.voices.coze.iter().find(|v| v.voice_id == id)
    }
}

/// The Coze codes that refuse every request of an account.
pub const COZE_ACCOUNT_CODES: [u32; 8] = [4008, 4011, 4019, 4022, 4027, 4028, 4100, 4101];

fn check_rate(what: &str, rate: f64) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&rate) {
        bail!("{what} must be between 0 and 1, not {rate}");
    }
    Ok(())
}

/// One injected error: `{ provider = "volcengine", code = 3005, rate = 0.1 }`.
#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    #[serde(default)]
    pub provider: FaultProvider,
    pub code: u32,
    pub rate: f64,
}

#[derive(Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FaultProvider {
    Volcengine,
    Coze,
    #[default]
    Any,
}

impl FaultProvider {
    pub(crate) fn covers(self, provider: FaultProvider) -> bool {
        self == FaultProvider::Any || self == provider
    }
}

#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CozeWsAuth {
    Handshake,
    Event,
}

#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum VolcWsAuth {
    Handshake,
    Frame,
}

/// The HTTP status of an error body.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ErrorStatus {
    /// A 4xx/5xx status derived from the code.
    Mapped,
    /// Always 200; the body alone says it failed.
    Ok,
}

/// What the service does with a request that breaks a documented rule it
/// may not check.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OnBreach {
    /// Answer 3001.
    Refuse,
    /// Go on as if the offending field were absent.
    Ignore,
}

#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TextLimitScope {
    Commit,
    Delta,
}

#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FrameCompression {
    /// gzip if the client's request was gzip.
    Mirror,
    Gzip,
    None,
}
