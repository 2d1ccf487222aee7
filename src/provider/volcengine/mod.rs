//! The Volcengine openspeech v1 clients, as `tts-protocols.md` sections 4–6
//! describe them: HTTP (`POST /api/v1/tts`, `operation: "query"`, in
//! [`http`]) and the binary WebSocket (`/api/v1/tts/ws_binary`,
//! `operation: "submit"`, in [`ws`], its frames in [`frame`]). This file
//! owns what both share: the voice settings and the request JSON built from
//! them, and the classified service error.
//! One request per call, a fresh `reqid` (UUID v4) on every call, no retry;
//! failures are classified by [`super::classify`].
//!
//! The token goes only in the `Authorization: Bearer;<token>` header; the
//! body's `app.token` is the placeholder the service ignores.
//!
//! Sample rates: the service documents 8000, 16000 and 24000 Hz. Other job
//! rates are sent as asked, with a warning: whether they work is unconfirmed.
//!
//! Word timings (`with_timestamp`) are parsed in [`timings`].

pub mod frame;
mod http;
mod timings;
mod ws;

use serde_json::{Value, json};

use super::net::{decimal, insert_some};
use super::{ProviderError, Secret, classify};
use crate::job::VolcengineConfig;

pub use http::VolcHttp;
pub use timings::{frontend_frame_words, parse_frontend};
pub use ws::VolcWs;

/// `app.token` does no authentication; the official demos send this literal.
const APP_TOKEN_PLACEHOLDER: &str = "access_token";
const DOCUMENTED_RATES: &[u32] = &[8000, 16000, 24000];

/// Everything both transports need for one voice, token included.
#[derive(Debug, Clone)]
pub struct VolcSettings {
    pub voice_type: String,
    pub speed: f32,
    pub sample_rate: u32,
    pub config: VolcengineConfig,
    token: Secret,
}

impl VolcSettings {
    pub fn new(
        voice: &crate::job::Voice,
        config: &VolcengineConfig,
        sample_rate: u32,
        token: Secret,
    ) -> Self {
        if !DOCUMENTED_RATES.contains(&sample_rate) {
            tracing::warn!(
                sample_rate,
                "volcengine documents only 8000, 16000 and 24000 Hz; other rates may be refused"
            );
        }
        VolcSettings {
            voice_type: voice.voice.clone(),
            speed: voice.speed,
            sample_rate,
            config: config.clone(),
            token,
        }
    }

    /// Everything that changes the clip; never the token, appid, uid, URL
    /// or transport. `with_timestamp` is in it only when on: the timings are
    /// part of the clip (kept with it in the database), so turning them on
    /// must render again rather than reuse clips that have none, while keys
    /// of jobs without timestamps stay what they always were.
    pub fn fingerprint(&self) -> String {
        let c = &self.config;
        let opt = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
        let timestamps = if c.with_timestamp {
            "|timestamps=1"
        } else {
            ""
        };
        format!(
            "volcengine|cluster={}|voice={}|speed={}|rate={}|loudness={}|emotion={}|\
             enable_emotion={}|emotion_scale={}|explicit_language={}|context_language={}|\
             text_type={}|silence={}|extra={}{timestamps}",
            c.cluster,
            self.voice_type,
            decimal(self.speed),
            self.sample_rate,
            opt(c.loudness_ratio.map(|v| decimal(v).to_string())),
            opt(c.emotion.clone()),
            opt(c.enable_emotion.map(|v| v.to_string())),
            opt(c.emotion_scale.map(|v| decimal(v).to_string())),
            opt(c.explicit_language.clone()),
            opt(c.context_language.clone()),
            c.text_type.as_str(),
            opt(c.silence_duration.map(|v| v.to_string())),
            opt(c.extra_param.clone()),
        )
    }

    /// `Authorization: Bearer;<token>` (semicolon, no space).
    fn authorization(&self) -> String {
        format!("Bearer;{}", self.token.expose())
    }

    /// The request JSON, the same for both transports but for `operation`.
    pub fn request_json(&self, text: &str, reqid: &str, operation: &str) -> Value {
        let c = &self.config;
        let mut audio = json!({
            "voice_type": self.voice_type,
            "encoding": c.encoding.as_str(),
            "rate": self.sample_rate,
            "speed_ratio": decimal(self.speed),
        });
        insert_some(
            &mut audio,
            "loudness_ratio",
            c.loudness_ratio.map(|v| decimal(v).into()),
        );
        insert_some(&mut audio, "emotion", c.emotion.clone().map(Value::from));
        insert_some(
            &mut audio,
            "enable_emotion",
            c.enable_emotion.map(Value::from),
        );
        insert_some(
            &mut audio,
            "emotion_scale",
            c.emotion_scale.map(|v| decimal(v).into()),
        );
        let languages = [
            ("explicit_language", &c.explicit_language),
            ("context_language", &c.context_language),
        ];
        for (key, value) in languages {
            insert_some(&mut audio, key, value.clone().map(Value::from));
        }
        let mut request = json!({
            "reqid": reqid,
            "text": text,
            "operation": operation,
            "text_type": c.text_type.as_str(),
        });
        if c.with_timestamp {
            insert_some(&mut request, "with_timestamp", Some(Value::from(1)));
        }
        if let Some(ms) = c.silence_duration {
            // The service adds trailing silence only when asked for it.
            insert_some(&mut request, "silence_duration", Some(Value::from(ms)));
            insert_some(
                &mut request,
                "enable_trailing_silence_audio",
                Some(true.into()),
            );
        }
        insert_some(
            &mut request,
            "extra_param",
            c.extra_param.clone().map(Value::from),
        );
        json!({
            "app": { "appid": c.appid, "token": APP_TOKEN_PLACEHOLDER, "cluster": c.cluster },
            "user": { "uid": c.uid },
            "audio": audio,
            "request": request,
        })
    }
}

/// A fresh request id: every call, so every retry, gets its own.
fn new_reqid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A service code other than success, classified with its message.
fn code_error(code: i64, message: &str, token: &Secret) -> ProviderError {
    ProviderError::new(
        classify::volcengine_code(code, message),
        format!(
            "volcengine refused the request: {}",
            token.redact(message.trim())
        ),
    )
    .with_code(code)
}

#[cfg(test)]
mod tests;
