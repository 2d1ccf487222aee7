//! Validation of `[voice]` and the provider tables below it
//! (`[voice.coze]`, `[voice.volcengine]`): which provider, which transport,
//! which voice, and every audio parameter with its range. Tokens never appear
//! in a job file: a table only names the environment variable that holds one.
//!
//! Choices made here (documented in the README's job file reference):
//! - `transport`, `pitch` and a provider table that does not match the
//!   provider are errors, not silently ignored keys.
//! - Speed ranges differ by provider: local and Coze 0.5..=2.0 (Coze's
//!   WebSocket `speech_rate` maps 0.5 to -50 and 2.0 to 100, so one range keeps
//!   both transports valid), Volcengine 0.2..=3.0 (the exact range depends on
//!   the voice; the service answers out-of-range values itself).

use std::ops::{Range, RangeInclusive};
use std::time::Duration;

use toml::Spanned;

use super::raw::{RawCoze, RawVoice, RawVolcengine};
use super::{
    AudioFormat, Check, CozeConfig, ProviderKind, ProviderSettings, TextType, Transport, Voice,
    VolcengineConfig,
};

const PROVIDERS: &[(&str, ProviderKind)] = &[
    ("local", ProviderKind::Local),
    ("coze", ProviderKind::Coze),
    ("volcengine", ProviderKind::Volcengine),
];
const TRANSPORTS: &[(&str, Transport)] = &[
    ("http", Transport::Http),
    ("websocket", Transport::WebSocket),
];
const TEXT_TYPES: &[(&str, TextType)] = &[("plain", TextType::Plain), ("ssml", TextType::Ssml)];
const AUDIO_FORMATS: &[(&str, AudioFormat)] =
    &[("pcm", AudioFormat::Pcm), ("wav", AudioFormat::Wav)];
const LOSSY_FORMATS: &[&str] = &["mp3", "ogg_opus", "ogg", "opus"];
const LOCAL_VOICES: &[&str] = &["auto", "en", "en-us", "en-gb", "cmn"];
/// The emotions Coze documents for multi-emotion voices.
const COZE_EMOTIONS: &[&str] = &[
    "happy",
    "sad",
    "angry",
    "surprised",
    "fear",
    "hate",
    "excited",
    "coldness",
    "neutral",
];
const PITCH: RangeInclusive<i64> = 0..=100;
const LOCAL_SPEED: RangeInclusive<f64> = 0.5..=2.0;
const COZE_SPEED: RangeInclusive<f64> = 0.5..=2.0;
const VOLCENGINE_SPEED: RangeInclusive<f64> = 0.2..=3.0;
const EMOTION_SCALE: RangeInclusive<f64> = 1.0..=5.0;
const COZE_LOUDNESS: RangeInclusive<i64> = -50..=100;
const VOLCENGINE_LOUDNESS: RangeInclusive<f64> = 0.5..=2.0;
const SILENCE_MS: RangeInclusive<i64> = 0..=30_000;
const TIMEOUT_SECS: RangeInclusive<i64> = 1..=600;
const DEFAULT_TIMEOUT_SECS: u64 = 60;

pub(super) const COZE_BASE_URL: &str = "https://api.coze.cn";
pub(super) const COZE_TOKEN_ENV: &str = "COZE_API_TOKEN";
pub(super) const VOLCENGINE_BASE_URL: &str = "https://openspeech.bytedance.com";
pub(super) const VOLCENGINE_TOKEN_ENV: &str = "VOLCENGINE_TOKEN";

impl Check<'_> {
    pub(super) fn voice(&mut self, raw: Option<RawVoice>) -> Voice {
        let raw = raw.unwrap_or_default();
        let provider_span = raw.provider.as_ref().map_or(0..0, Spanned::span);
        let given = raw.provider.is_some();
        let kind = match raw.provider {
            None => Some(ProviderKind::Local),
            Some(name) => self.choice(Some(name), "voice", "provider", PROVIDERS),
        };
        let transport = self.transport(raw.transport, kind);
        let voice = match kind {
            Some(ProviderKind::Local) => raw
                .voice
                .map_or_else(|| "auto".to_owned(), |voice| self.local_voice(voice)),
            Some(cloud) => self.cloud_voice(raw.voice, cloud, provider_span.clone()),
            // An invalid provider was reported; its voice names are not ours to judge.
            None => "auto".to_owned(),
        };
        let speed_range = match kind {
            Some(ProviderKind::Volcengine) => VOLCENGINE_SPEED,
            Some(ProviderKind::Coze) => COZE_SPEED,
            _ => LOCAL_SPEED,
        };
        let speed = self
            .float(raw.speed, "voice", "speed", speed_range)
            .unwrap_or(1.0);
        let pitch = self.pitch(raw.pitch, kind);
        let tables = Tables {
            coze: raw.coze,
            volcengine: raw.volcengine,
        };
        let provider_at = if given { provider_span } else { 0..0 };
        let settings = self.settings(kind, tables, provider_at, transport);
        Voice {
            provider: kind.unwrap_or(ProviderKind::Local),
            transport,
            voice,
            speed,
            pitch,
            settings,
        }
    }

    /// Only cloud providers have a transport; writing one for the local
    /// engine is an error so a half-edited job does not silently go local.
    fn transport(&mut self, raw: Option<Spanned<String>>, kind: Option<ProviderKind>) -> Transport {
        let Some(raw) = raw else {
            return Transport::Http;
        };
        if kind == Some(ProviderKind::Local) {
            self.problems.at(
                raw.span(),
                "transport is only used by the cloud providers (coze, volcengine); remove it or \
                 set [voice] provider",
            );
            return Transport::Http;
        }
        self.choice(Some(raw), "voice", "transport", TRANSPORTS)
            .unwrap_or(Transport::Http)
    }

    fn local_voice(&mut self, voice: Spanned<String>) -> String {
        if LOCAL_VOICES.contains(&voice.get_ref().as_str()) {
            return voice.into_inner();
        }
        self.problems.at(
            voice.span(),
            format!(
                "voice {:?} is not a voice of the local provider; set [voice] voice to one of: {}",
                voice.get_ref(),
                LOCAL_VOICES.join(", ")
            ),
        );
        "auto".to_owned()
    }

    /// A cloud voice id is required and has no sensible default.
    fn cloud_voice(
        &mut self,
        voice: Option<Spanned<String>>,
        kind: ProviderKind,
        provider_span: Range<usize>,
    ) -> String {
        let what = match kind {
            ProviderKind::Coze => "a Coze voice_id (see `audiobook voices`)",
            _ => "a Volcengine voice_type, e.g. zh_female_cancan_mars_bigtts",
        };
        let Some(voice) = voice else {
            if !self.covers("voice.voice") {
                self.problems.at(
                    provider_span,
                    format!("missing key `voice` in [voice]; a cloud provider needs {what}"),
                );
            }
            return String::new();
        };
        let name = voice.get_ref().trim();
        if name.is_empty() || name == "auto" {
            self.problems.at(
                voice.span(),
                format!(
                    "voice {:?} only works with the local provider; set [voice] voice to {what}",
                    voice.get_ref()
                ),
            );
            return String::new();
        }
        name.to_owned()
    }

    fn pitch(&mut self, raw: Option<Spanned<i64>>, kind: Option<ProviderKind>) -> u8 {
        if let Some(pitch) = &raw
            && matches!(kind, Some(ProviderKind::Coze | ProviderKind::Volcengine))
        {
            self.problems.at(
                pitch.span(),
                "pitch is only used by the local provider; remove it from [voice]",
            );
            return 50;
        }
        self.int(raw, "voice", "pitch", PITCH, 50)
    }

    /// The provider's table; a table for another provider is an error.
    fn settings(
        &mut self,
        kind: Option<ProviderKind>,
        tables: Tables,
        provider_span: Range<usize>,
        transport: Transport,
    ) -> ProviderSettings {
        let Tables { coze, volcengine } = tables;
        let kind = kind.unwrap_or(ProviderKind::Local);
        if let Some(table) = &coze
            && kind != ProviderKind::Coze
        {
            self.foreign_table(table.span(), "coze");
        }
        if let Some(table) = &volcengine
            && kind != ProviderKind::Volcengine
        {
            self.foreign_table(table.span(), "volcengine");
        }
        match kind {
            ProviderKind::Local => ProviderSettings::Local,
            ProviderKind::Coze => {
                let raw = coze.map(Spanned::into_inner).unwrap_or_default();
                ProviderSettings::Coze(self.coze(raw))
            }
            ProviderKind::Volcengine => {
                let (span, raw) = match volcengine {
                    Some(table) => (table.span(), table.into_inner()),
                    None => (provider_span, RawVolcengine::default()),
                };
                ProviderSettings::Volcengine(self.volcengine(raw, span, transport))
            }
        }
    }

    fn foreign_table(&mut self, span: Range<usize>, name: &str) {
        self.problems.at(
            span,
            format!(
                "[voice.{name}] is only used with provider = \"{name}\"; set [voice] provider = \
                 \"{name}\" or remove the table"
            ),
        );
    }

    fn coze(&mut self, raw: RawCoze) -> CozeConfig {
        const T: &str = "voice.coze";
        let base_url = self.http_url(raw.base_url, T, COZE_BASE_URL);
        let ws_url = match raw.ws_url {
            Some(url) => self.ws_url(url, T, "/v1/audio/speech"),
            None => coze_ws_base(&base_url),
        };
        let emotion_given = raw.emotion.is_some();
        let emotion = raw.emotion.and_then(|e| self.coze_emotion(e));
        if let Some(scale) = &raw.emotion_scale
            && !emotion_given
        {
            // Over WebSocket the scale travels inside emotion_config, which
            // needs an emotion; refuse rather than drop it on one transport.
            self.problems.at(
                scale.span(),
                "emotion_scale needs an emotion; add emotion = \"happy\" (or another) under \
                 [voice.coze] or remove emotion_scale",
            );
        }
        let emotion_scale = self.float(raw.emotion_scale, T, "emotion_scale", EMOTION_SCALE);
        CozeConfig {
            response_format: self.audio_format(raw.response_format, T, "response_format"),
            token_env: self.token_env(raw.token_env, T, COZE_TOKEN_ENV),
            emotion_scale,
            loudness_rate: raw
                .loudness_rate
                .map(|v| self.int(Some(v), T, "loudness_rate", COZE_LOUDNESS, 0)),
            context_texts: raw
                .context_texts
                .map(|v| self.non_empty(v, T, "context_texts", "an instruction or remove it")),
            timeout: self.timeout(raw.timeout_secs, T),
            base_url,
            ws_url,
            emotion,
        }
    }

    fn coze_emotion(&mut self, emotion: Spanned<String>) -> Option<String> {
        if COZE_EMOTIONS.contains(&emotion.get_ref().as_str()) {
            return Some(emotion.into_inner());
        }
        self.problems.at(
            emotion.span(),
            format!(
                "emotion {:?} is not a Coze emotion; set [voice.coze] emotion to one of: {}",
                emotion.get_ref(),
                COZE_EMOTIONS.join(", ")
            ),
        );
        None
    }

    /// `pcm` or `wav`; a lossy format is refused with the reason.
    fn audio_format(
        &mut self,
        raw: Option<Spanned<String>>,
        table: &str,
        key: &str,
    ) -> AudioFormat {
        if let Some(value) = &raw
            && LOSSY_FORMATS.contains(&value.get_ref().as_str())
        {
            self.problems.at(
                value.span(),
                format!(
                    "{key} {:?} is lossy, and the book is stitched from PCM; set [{table}] {key} to \"pcm\" or \"wav\"",
                    value.get_ref()
                ),
            );
            return AudioFormat::Pcm;
        }
        self.choice(raw, table, key, AUDIO_FORMATS)
            .unwrap_or(AudioFormat::Pcm)
    }

    fn volcengine(
        &mut self,
        raw: RawVolcengine,
        table_span: Range<usize>,
        transport: Transport,
    ) -> VolcengineConfig {
        const T: &str = "voice.volcengine";
        let encoding_span = raw.encoding.as_ref().map(Spanned::span);
        let encoding = self.audio_format(raw.encoding, T, "encoding");
        if encoding == AudioFormat::Wav
            && transport == Transport::WebSocket
            && let Some(span) = encoding_span
        {
            self.problems.at(
                span,
                "encoding \"wav\" cannot stream over the WebSocket; set [voice.volcengine] encoding = \"pcm\" or use transport = \"http\"",
            );
        }
        let base_url = self.http_url(raw.base_url, T, VOLCENGINE_BASE_URL);
        let ws_url = match raw.ws_url {
            Some(url) => self.ws_url(url, T, "/api/v1/tts/ws_binary"),
            None => swap_scheme(&base_url),
        };
        let appid = match raw.appid {
            Some(appid) => self.non_empty(appid, T, "appid", "your Volcengine app id"),
            None => {
                if !self.covers("voice.volcengine.appid") {
                    self.problems.at(
                        table_span,
                        "missing key `appid` in [voice.volcengine]; add appid = \"1234567\" \
                         (your Volcengine app id) under [voice.volcengine]",
                    );
                }
                String::new()
            }
        };
        let text = |check: &mut Self, value: Option<Spanned<String>>, key: &str| {
            value.map(|v| check.non_empty(v, T, key, "a value or remove it"))
        };
        VolcengineConfig {
            appid,
            encoding,
            cluster: text(self, raw.cluster, "cluster").unwrap_or_else(|| "volcano_tts".into()),
            uid: text(self, raw.uid, "uid").unwrap_or_else(|| "audiobook".into()),
            token_env: self.token_env(raw.token_env, T, VOLCENGINE_TOKEN_ENV),
            emotion: text(self, raw.emotion, "emotion"),
            enable_emotion: raw.enable_emotion,
            emotion_scale: self.float(raw.emotion_scale, T, "emotion_scale", EMOTION_SCALE),
            explicit_language: text(self, raw.explicit_language, "explicit_language"),
            context_language: text(self, raw.context_language, "context_language"),
            loudness_ratio: self.float(
                raw.loudness_ratio,
                T,
                "loudness_ratio",
                VOLCENGINE_LOUDNESS,
            ),
            text_type: self
                .choice(raw.text_type, T, "text_type", TEXT_TYPES)
                .unwrap_or(TextType::Plain),
            silence_duration: raw
                .silence_duration
                .map(|v| self.int(Some(v), T, "silence_duration", SILENCE_MS, 0)),
            with_timestamp: raw.with_timestamp.unwrap_or(false),
            extra_param: raw.extra_param.and_then(|table| self.extra_param(table)),
            timeout: self.timeout(raw.timeout_secs, T),
            base_url,
            ws_url,
        }
    }

    /// The service wants `extra_param` as a JSON-encoded string; encoding it
    /// once here keeps the request and the fingerprint identical run to run.
    fn extra_param(&mut self, table: Spanned<toml::Table>) -> Option<String> {
        let span = table.span();
        match serde_json::to_string(table.get_ref()) {
            Ok(json) => Some(json),
            Err(e) => {
                self.problems.at(
                    span,
                    format!(
                        "extra_param cannot be sent as JSON ({e}); use only strings, numbers, \
                         booleans, arrays and tables in [voice.volcengine] extra_param"
                    ),
                );
                None
            }
        }
    }

    fn timeout(&mut self, raw: Option<Spanned<i64>>, table: &str) -> Duration {
        let secs = self.int(
            raw,
            table,
            "timeout_secs",
            TIMEOUT_SECS,
            DEFAULT_TIMEOUT_SECS,
        );
        Duration::from_secs(secs)
    }

    /// The name of an environment variable. The message never echoes the
    /// value: someone may have pasted the token itself here.
    fn token_env(&mut self, raw: Option<Spanned<String>>, table: &str, default: &str) -> String {
        let Some(raw) = raw else {
            return default.to_owned();
        };
        if is_env_var_name(raw.get_ref()) {
            return raw.into_inner();
        }
        self.problems.at(
            raw.span(),
            format!(
                "token_env must name an environment variable (upper-case letters, digits and _, e.g. \
                 {default}), never hold the token itself; set [{table}] token_env = \"{default}\" \
                 and export the token in that variable"
            ),
        );
        default.to_owned()
    }

    fn http_url(&mut self, raw: Option<Spanned<String>>, table: &str, default: &str) -> String {
        let Some(raw) = raw else {
            return default.to_owned();
        };
        match base_url(raw.get_ref(), &["http://", "https://"], None) {
            Some(url) => url,
            None => {
                self.problems.at(
                    raw.span(),
                    format!(
                        "base_url must be an http:// or https:// URL with a host, got {:?}; set \
                         [{table}] base_url = \"{default}\"",
                        raw.get_ref()
                    ),
                );
                default.to_owned()
            }
        }
    }

    /// An explicit WebSocket base. The API path is tolerated at its end, so
    /// pasting the full endpoint works too.
    fn ws_url(&mut self, raw: Spanned<String>, table: &str, path: &str) -> String {
        match base_url(raw.get_ref(), &["ws://", "wss://"], Some(path)) {
            Some(url) => url,
            None => {
                self.problems.at(
                    raw.span(),
                    format!(
                        "ws_url must be a ws:// or wss:// URL with a host, got {:?}; fix [{table}] \
                         ws_url or remove it to derive it from base_url",
                        raw.get_ref()
                    ),
                );
                String::new()
            }
        }
    }
}

/// The provider tables of `[voice]`, moved together.
struct Tables {
    coze: Option<Spanned<RawCoze>>,
    volcengine: Option<Spanned<RawVolcengine>>,
}

/// `url` without trailing slashes (and without `strip_path` at its end),
/// when it has one of `schemes` and a non-empty host.
fn base_url(url: &str, schemes: &[&str], strip_path: Option<&str>) -> Option<String> {
    let url = url.trim().trim_end_matches('/');
    let url = strip_path
        .and_then(|path| url.strip_suffix(path))
        .unwrap_or(url);
    let rest = schemes.iter().find_map(|s| url.strip_prefix(s))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let valid =
        !host.is_empty() && !rest.contains(['?', '#']) && !rest.contains(char::is_whitespace);
    valid.then(|| url.to_owned())
}

/// `https`→`wss`, `http`→`ws`, rest unchanged.
fn swap_scheme(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        url.to_owned()
    }
}

/// Coze serves WebSockets from `ws.` hosts; only the official API hosts
/// are renamed, so a simulator on `127.0.0.1` keeps its host (as coze-go does).
pub(super) fn coze_ws_base(base_url: &str) -> String {
    let swapped = swap_scheme(base_url);
    for host in ["api.coze.cn", "api.coze.com"] {
        for scheme in ["wss://", "ws://"] {
            let official = format!("{scheme}{host}");
            let renamed = format!("{scheme}ws.{}", &host["api.".len()..]);
            if swapped == official {
                return renamed;
            }
            if let Some(rest) = swapped.strip_prefix(&format!("{official}/")) {
                return format!("{renamed}/{rest}");
            }
            if let Some(rest) = swapped.strip_prefix(&format!("{official}:")) {
                return format!("{renamed}:{rest}");
            }
        }
    }
    swapped
}

/// Upper-case letters, digits and `_`, not starting with a digit: the
/// convention for environment variables, and never the shape of a token
/// (Coze `pat_…`, Volcengine access tokens are mixed-case).
fn is_env_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    first_ok && rest_ok && name.len() <= 64
}
