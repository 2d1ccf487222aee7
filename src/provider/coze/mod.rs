//! The Coze speech clients, as `tts-protocols.md` sections 1–3 describe
//! them: HTTP (`POST /v1/audio/speech`, in [`http`]), WebSocket
//! (`/v1/audio/speech` events, in [`ws`]) and the voice list
//! (`GET /v1/audio/voices`, in [`voice_list`]). This file owns what they
//! share: the voice settings, the request fields built from them, and the
//! JSON error envelope. Each call is one request (one socket for WebSocket)
//! and no retry; every failure is classified by [`super::classify`].
//!
//! Speed: `[voice] speed` goes to HTTP `speed` as is, and to WebSocket
//! `speech_rate` as `round((speed - 1) * 100)`, so 0.5 → -50, 1.0 → 0 and
//! 2.0 → 100, linear in between (the documented end points).

mod http;
mod voice_list;
mod ws;

use serde::Deserialize;
use serde_json::{Value, json};

use super::net::{decimal, insert_some};
use super::{ErrorClass, ProviderError, Secret, classify};
use crate::job::CozeConfig;

pub use http::CozeHttp;
pub use voice_list::{ScaleInterval, SupportedEmotion, Voice, list_voices};
pub use ws::CozeWs;

const SPEECH_PATH: &str = "/v1/audio/speech";

/// Everything both Coze transports need for one voice, token included.
#[derive(Debug, Clone)]
pub struct CozeSettings {
    pub voice_id: String,
    pub speed: f32,
    pub sample_rate: u32,
    pub config: CozeConfig,
    token: Secret,
}

impl CozeSettings {
    pub fn new(
        voice: &crate::job::Voice,
        config: &CozeConfig,
        sample_rate: u32,
        token: Secret,
    ) -> Self {
        CozeSettings {
            voice_id: voice.voice.clone(),
            speed: voice.speed,
            sample_rate,
            config: config.clone(),
            token,
        }
    }

    /// Everything that changes the audio; never the token, URL or transport.
    pub fn fingerprint(&self) -> String {
        let c = &self.config;
        format!(
            "coze|voice={}|speed={}|rate={}|emotion={}|emotion_scale={}|loudness_rate={}|context={}",
            self.voice_id,
            decimal(self.speed),
            self.sample_rate,
            c.emotion.as_deref().unwrap_or("-"),
            c.emotion_scale.map_or("-".into(), |v| v.to_string()),
            c.loudness_rate.map_or("-".into(), |v| v.to_string()),
            c.context_texts.as_deref().unwrap_or("-"),
        )
    }

    /// The HTTP request body: PCM at the job's rate, optional keys only
    /// when the job sets them.
    pub fn http_body(&self, text: &str) -> Value {
        let c = &self.config;
        let mut body = json!({
            "input": text,
            "voice_id": self.voice_id,
            "response_format": c.response_format.as_str(),
            "sample_rate": self.sample_rate,
            "speed": decimal(self.speed),
        });
        insert_some(&mut body, "loudness_rate", c.loudness_rate.map(Value::from));
        insert_some(&mut body, "emotion", c.emotion.clone().map(Value::from));
        insert_some(&mut body, "emotion_scale", c.emotion_scale.map(scale_value));
        insert_some(
            &mut body,
            "context_texts",
            c.context_texts.clone().map(Value::from),
        );
        body
    }

    /// The WebSocket `speech.update` event.
    pub fn speech_update(&self) -> Value {
        let c = &self.config;
        let mut audio = json!({
            "codec": "pcm",
            "pcm_config": { "sample_rate": self.sample_rate },
            "speech_rate": speech_rate(self.speed),
            "voice_id": self.voice_id,
        });
        insert_some(
            &mut audio,
            "loudness_rate",
            c.loudness_rate.map(Value::from),
        );
        if let Some(emotion) = &c.emotion {
            let mut config = json!({ "emotion": emotion });
            insert_some(
                &mut config,
                "emotion_scale",
                c.emotion_scale.map(scale_value),
            );
            insert_some(&mut audio, "emotion_config", Some(config));
        }
        insert_some(
            &mut audio,
            "context_texts",
            c.context_texts.clone().map(Value::from),
        );
        client_event("speech.update", Some(json!({ "output_audio": audio })))
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token.expose())
    }
}

/// WebSocket `speech_rate` for a speed factor: 0.5 → -50, 2.0 → 100.
pub fn speech_rate(speed: f32) -> i32 {
    let rate = ((f64::from(speed) - 1.0) * 100.0).round();
    rate.clamp(-50.0, 100.0) as i32
}

fn scale_value(scale: f32) -> Value {
    Value::from(decimal(scale))
}

/// A fresh id for one request: our handle on it in logs and errors.
fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A client event with a fresh `id`, as the docs ask (SDKs omit it; the
/// server accepts both).
fn client_event(event_type: &str, data: Option<Value>) -> Value {
    let mut event = json!({ "id": uuid::Uuid::new_v4().to_string(), "event_type": event_type });
    insert_some(&mut event, "data", data);
    event
}

/// The JSON envelope Coze uses for errors (and for success with no audio).
#[derive(Debug, Deserialize)]
struct Envelope {
    code: Option<i64>,
    #[serde(default)]
    msg: Option<String>,
    #[serde(default)]
    detail: Option<Detail>,
}

#[derive(Debug, Default, Deserialize)]
struct Detail {
    #[serde(default)]
    logid: Option<String>,
}

fn envelope_error(status: u16, envelope: Envelope, token: &Secret) -> ProviderError {
    let log_id = envelope.detail.and_then(|d| d.logid);
    let msg = token.redact(envelope.msg.as_deref().unwrap_or("").trim());
    match envelope.code {
        Some(code) if code != 0 => {
            classify::refusal("coze", code, &msg, classify::coze(code, &msg)).with_log_id(log_id)
        }
        _ if (200..300).contains(&status) => ProviderError::new(
            ErrorClass::Transient,
            "coze answered JSON without audio and without an error code",
        )
        .with_log_id(log_id),
        _ => ProviderError::new(
            classify::http_status(status),
            format!("coze answered HTTP {status} without an error code: {msg}"),
        )
        .with_log_id(log_id),
    }
}

#[cfg(test)]
mod tests;
