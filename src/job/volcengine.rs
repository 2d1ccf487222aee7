//! Validation of `[voice.volcengine]` (openspeech v1): every key against
//! the documented values and ranges (tts-protocols.md section 4), and the
//! combinations the service cannot honour (an emotion without
//! `enable_emotion`, word timings with SSML or the response cache, the
//! `extra_param` keys that need each other). Unknown `extra_param` keys are
//! sent with a warning: the service adds keys faster than documents.

use std::ops::Range;

use toml::Spanned;

use super::cloud::swap_scheme;
use super::ranges::{
    CONTEXT_LANGUAGES, EMOTION_SCALE, EXPLICIT_LANGUAGES, SILENCE_MS, UNSUPPORTED_CHAR_RATIO,
    VOLCENGINE_LOUDNESS,
};
use super::raw::RawVolcengine;
use super::voice::{VOLCENGINE_BASE_URL, VOLCENGINE_TOKEN_ENV};
use super::{AudioFormat, Check, TextType, Transport, VolcengineConfig};

const T: &str = "voice.volcengine";
const TEXT_TYPES: &[(&str, TextType)] = &[("plain", TextType::Plain), ("ssml", TextType::Ssml)];

impl Check<'_> {
    pub(super) fn volcengine(
        &mut self,
        raw: RawVolcengine,
        table_span: Range<usize>,
        transport: Transport,
    ) -> VolcengineConfig {
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
        let (emotion, enable_emotion) =
            self.volc_emotion(raw.emotion, raw.enable_emotion, raw.emotion_scale.as_ref());
        let text_type = self
            .choice(raw.text_type.clone(), T, "text_type", TEXT_TYPES)
            .unwrap_or(TextType::Plain);
        let with_timestamp = self.with_timestamp(raw.with_timestamp, text_type, raw.text_type);
        let extra_param = raw
            .extra_param
            .and_then(|table| self.extra_param(table, with_timestamp));
        VolcengineConfig {
            appid,
            encoding,
            cluster: text(self, raw.cluster, "cluster").unwrap_or_else(|| "volcano_tts".into()),
            uid: text(self, raw.uid, "uid").unwrap_or_else(|| "audiobook".into()),
            token_env: self.token_env(raw.token_env, T, VOLCENGINE_TOKEN_ENV),
            emotion,
            enable_emotion,
            emotion_scale: self.float(raw.emotion_scale, T, "emotion_scale", EMOTION_SCALE),
            explicit_language: raw
                .explicit_language
                .and_then(|v| self.language(v, "explicit_language", EXPLICIT_LANGUAGES)),
            context_language: raw
                .context_language
                .and_then(|v| self.language(v, "context_language", CONTEXT_LANGUAGES)),
            loudness_ratio: self.float(
                raw.loudness_ratio,
                T,
                "loudness_ratio",
                VOLCENGINE_LOUDNESS,
            ),
            text_type,
            silence_duration: raw
                .silence_duration
                .map(|v| self.int(Some(v), T, "silence_duration", SILENCE_MS, 0)),
            with_timestamp,
            extra_param,
            timeout: self.timeout(raw.timeout_secs, T),
            base_url,
            ws_url,
        }
    }

    /// The service applies an emotion only with `enable_emotion = true`, so
    /// an emotion always sends it; a contradicting key is an error, as is
    /// a scale or `enable_emotion` with no emotion to apply.
    fn volc_emotion(
        &mut self,
        emotion: Option<Spanned<String>>,
        enable: Option<Spanned<bool>>,
        scale: Option<&Spanned<f64>>,
    ) -> (Option<String>, Option<bool>) {
        let emotion = emotion.map(|v| self.non_empty(v, T, "emotion", "an emotion or remove it"));
        match (&emotion, &enable) {
            (Some(_), Some(flag)) if !*flag.get_ref() => self.problems.at(
                flag.span(),
                "enable_emotion = false would make the service ignore the emotion; remove \
                 enable_emotion (an emotion turns it on) or remove emotion",
            ),
            (None, Some(flag)) if *flag.get_ref() => self.problems.at(
                flag.span(),
                "enable_emotion needs an emotion; add emotion = \"happy\" (or another) under \
                 [voice.volcengine] or remove enable_emotion",
            ),
            _ => {}
        }
        if let Some(scale) = scale
            && emotion.is_none()
        {
            self.problems.at(
                scale.span(),
                "emotion_scale needs an emotion; add emotion = \"happy\" (or another) under \
                 [voice.volcengine] or remove emotion_scale",
            );
        }
        let enable = emotion.as_ref().map(|_| true);
        (emotion, enable)
    }

    fn language(&mut self, value: Spanned<String>, key: &str, known: &[&str]) -> Option<String> {
        if known.contains(&value.get_ref().as_str()) {
            return Some(value.into_inner());
        }
        self.problems.at(
            value.span(),
            format!(
                "{key} {:?} is not a language the service documents; set [voice.volcengine] \
                 {key} to one of: {} (or remove it)",
                value.get_ref(),
                known.join(", ")
            ),
        );
        None
    }

    /// Word timings come from the service's text analysis, which SSML input
    /// does not get.
    fn with_timestamp(
        &mut self,
        raw: Option<Spanned<bool>>,
        text_type: TextType,
        text_type_raw: Option<Spanned<String>>,
    ) -> bool {
        let Some(raw) = raw else {
            return false;
        };
        if *raw.get_ref() && text_type == TextType::Ssml {
            let span = text_type_raw.map_or(raw.span(), |t| t.span());
            self.problems.at(
                span,
                "with_timestamp cannot go with text_type = \"ssml\": the service gives no word \
                 timings for SSML; remove one of them",
            );
        }
        *raw.get_ref()
    }

    /// The service wants `extra_param` as a JSON-encoded string; encoding it
    /// once here keeps the request and the fingerprint identical run to run.
    /// The documented keys are checked; others are sent with a warning.
    fn extra_param(&mut self, table: Spanned<toml::Table>, with_timestamp: bool) -> Option<String> {
        let span = table.span();
        let mut problems = Vec::new();
        check_extra_param(table.get_ref(), with_timestamp, &mut problems);
        for problem in problems {
            match problem {
                ExtraProblem::Error(message) => self.problems.at(span.clone(), message),
                ExtraProblem::Unknown(key) => tracing::warn!(
                    "{}",
                    self.problems.src.at(
                        span.start,
                        format!(
                            "extra_param key {key:?} is not one the service documents; it is \
                             sent as written (check its spelling)"
                        ),
                    )
                ),
            }
        }
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
}

enum ExtraProblem {
    Error(String),
    Unknown(String),
}

/// The documented `extra_param` keys and how each must look.
fn check_extra_param(table: &toml::Table, with_timestamp: bool, out: &mut Vec<ExtraProblem>) {
    use toml::Value;
    let flag = |key: &str| table.get(key).and_then(Value::as_bool);
    for (key, value) in table {
        let mut bad = Vec::new();
        let mut error = |message: String| bad.push(message);
        match key.as_str() {
            "disable_markdown_filter" | "enable_latex_tn" | "disable_emoji_filter" => {
                if !value.is_bool() {
                    error(format!(
                        "extra_param {key} must be true or false; set it to true or false"
                    ));
                }
            }
            "mute_cut_threshold" | "mute_cut_remain_ms" => {
                let digits = value
                    .as_str()
                    .is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()));
                if !digits {
                    error(format!(
                        "extra_param {key} must be a string of digits; write it quoted, as the \
                         service takes it: {key} = \"400\""
                    ));
                }
            }
            "unsupported_char_ratio_thresh" => {
                let ratio = value
                    .as_float()
                    .or_else(|| value.as_integer().map(|i| i as f64));
                if !ratio.is_some_and(|r| UNSUPPORTED_CHAR_RATIO.contains(&r)) {
                    error(format!(
                        "extra_param {key} must be a number between 0 and 1; set it to a value in \
                         0..=1 (the service's default is 0.3)"
                    ));
                }
            }
            "cache_config" => {
                let ok = value.as_table().is_some_and(|t| {
                    t.get("text_type").and_then(Value::as_integer) == Some(1)
                        && t.get("use_cache").and_then(Value::as_bool).is_some()
                        && t.len() == 2
                });
                if !ok {
                    error(
                        "extra_param cache_config must be { text_type = 1, use_cache = true }; \
                         write it so or remove it"
                            .to_owned(),
                    );
                }
                if with_timestamp {
                    error(
                        "extra_param cache_config cannot go with with_timestamp: cached audio \
                         carries no word timings; remove one of them"
                            .to_owned(),
                    );
                }
            }
            _ => out.push(ExtraProblem::Unknown(key.clone())),
        }
        out.extend(bad.into_iter().map(ExtraProblem::Error));
    }
    if flag("enable_latex_tn") == Some(true) && flag("disable_markdown_filter") != Some(true) {
        out.push(ExtraProblem::Error(
            "extra_param enable_latex_tn needs disable_markdown_filter = true (the service reads \
             LaTeX only then); add it to extra_param"
                .to_owned(),
        ));
    }
    if table.contains_key("mute_cut_threshold") != table.contains_key("mute_cut_remain_ms") {
        out.push(ExtraProblem::Error(
            "extra_param mute_cut_threshold and mute_cut_remain_ms go together; set both or \
             neither"
                .to_owned(),
        ));
    }
}
