//! Validation of `[voice]` and the provider tables below it
//! (`[voice.coze]`, `[voice.volcengine]`): which provider, which transport,
//! which voice, and every audio parameter with its range. Tokens never appear
//! in a job file: a table only names the environment variable that holds one.
//!
//! Choices made here (documented in the README's job file reference):
//! - `transport`, `pitch`, `keep_notes` and a provider table that does not match the
//!   provider are errors, not silently ignored keys.
//! - Speed ranges are the documented ones per provider and transport
//!   ([`super::ranges::speed`]): Coze HTTP takes the union of its model
//!   ranges here and `validate` checks the voice's own; Volcengine's depends
//!   on the cluster, so speed is checked after the provider table.
//!
//! `[voice.volcengine]` is validated in [`super::volcengine`].

use std::ops::{Range, RangeInclusive};

use toml::Spanned;

use super::cloud::coze_ws_base;
use super::ranges::{self, COZE_LOUDNESS, EMOTION_SCALE};
use super::raw::{RawCoze, RawVoice, RawVolcengine};
use super::{AudioFormat, Check, CozeConfig, ProviderKind, ProviderSettings, Transport, Voice};

const PROVIDERS: &[(&str, ProviderKind)] = &[
    ("local", ProviderKind::Local),
    ("coze", ProviderKind::Coze),
    ("volcengine", ProviderKind::Volcengine),
];
const TRANSPORTS: &[(&str, Transport)] = &[
    ("http", Transport::Http),
    ("websocket", Transport::WebSocket),
];
const AUDIO_FORMATS: &[(&str, AudioFormat)] =
    &[("pcm", AudioFormat::Pcm), ("wav", AudioFormat::Wav)];
const LOSSY_FORMATS: &[&str] = &["mp3", "ogg_opus", "ogg", "opus"];
const LOCAL_VOICES: &[&str] = &["auto", "en", "en-us", "en-gb", "cmn", "zh", "zh-cn"];
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
        let pitch = self.pitch(raw.pitch, kind);
        let keep_notes = self.keep_notes(raw.keep_notes, kind);
        let tables = Tables {
            coze: raw.coze,
            volcengine: raw.volcengine,
        };
        let provider_at = if given { provider_span } else { 0..0 };
        let settings = self.settings(kind, tables, provider_at, transport);
        let speed = self.speed(raw.speed, kind, transport, &settings);
        Voice {
            provider: kind.unwrap_or(ProviderKind::Local),
            transport,
            voice,
            speed,
            pitch,
            keep_notes,
            settings,
        }
    }

    /// `[voice] speed` within the documented range of the provider (and
    /// for Volcengine, of its cluster), the reason in the message.
    fn speed(
        &mut self,
        raw: Option<Spanned<f64>>,
        kind: Option<ProviderKind>,
        transport: Transport,
        settings: &ProviderSettings,
    ) -> f32 {
        let Some(raw) = raw else {
            return 1.0;
        };
        let cluster = match settings {
            ProviderSettings::Volcengine(v) => Some(v.cluster.as_str()),
            _ => None,
        };
        let kind = kind.unwrap_or(ProviderKind::Local);
        let (range, why) = ranges::speed(kind, transport, cluster);
        let speed = *raw.get_ref();
        if range.contains(&speed) {
            return speed as f32;
        }
        let (lo, hi) = (range.start(), range.end());
        self.problems.at(
            raw.span(),
            format!(
                "speed must be between {lo:?} and {hi:?}, got {speed}; set [voice] speed to a \
                 value in {lo:?}..={hi:?} ({why})"
            ),
        );
        1.0
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

    /// Only the local engine normalises text itself, so only it has notes
    /// to keep; a cloud provider reads what it is sent.
    fn keep_notes(&mut self, raw: Option<Spanned<bool>>, kind: Option<ProviderKind>) -> bool {
        let Some(raw) = raw else {
            return false;
        };
        if matches!(kind, Some(ProviderKind::Coze | ProviderKind::Volcengine)) {
            self.problems.at(
                raw.span(),
                "keep_notes is only used by the local provider (cloud voices get the text as \
                 written); remove it from [voice]",
            );
            return false;
        }
        raw.into_inner()
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
    pub(super) fn audio_format(
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
}

/// The provider tables of `[voice]`, moved together.
struct Tables {
    coze: Option<Spanned<RawCoze>>,
    volcengine: Option<Spanned<RawVolcengine>>,
}
