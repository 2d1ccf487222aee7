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
//! Sample rates: the service documents 8000, 16000 and 24000 Hz only, and a
//! service that ignores another rate would answer 24 kHz audio read as
//! something else. So the request asks for the documented rate closest
//! above the job's (at most 24000) and the clip is resampled locally to the
//! job's rate with rubato, as the embedded engine's audio is. Every clip's
//! length is checked against the duration the service reports.
//!
//! Emotion: `emotion` always goes with `enable_emotion: true`, which the
//! service requires. SSML (`text_type = "ssml"`): the manuscript's text is
//! escaped and each segment wrapped in `<speak>`, so only markup of our own
//! making reaches the service.
//!
//! Word timings (`with_timestamp`) are parsed in [`timings`].

pub mod frame;
mod http;
mod timings;
mod ws;

use serde_json::{Value, json};

use super::decode;
use super::net::{decimal, insert_some};
use super::resample::ResamplerPool;
use super::{Clip, ErrorClass, ProviderError, Secret, WordTiming, classify};
use crate::job::{TextType, VolcengineConfig};

pub use http::VolcHttp;
pub use timings::{frontend_frame_words, parse_frontend};
pub use ws::VolcWs;

/// `app.token` does no authentication; the official demos send this literal.
const APP_TOKEN_PLACEHOLDER: &str = "access_token";
/// The rates the v1 API documents, ascending; 24000 is its default.
const DOCUMENTED_RATES: &[u32] = &[8000, 16000, 24000];
/// Longest `request.text` the service takes, in UTF-8 bytes.
const MAX_TEXT_BYTES: usize = 1024;

/// The documented rate to ask for a job at `job_rate`: the closest at or
/// above it, else the highest (24000), from which the clip is resampled.
pub fn service_rate(job_rate: u32) -> u32 {
    DOCUMENTED_RATES
        .iter()
        .copied()
        .find(|&rate| rate >= job_rate)
        .unwrap_or(24_000)
}

/// Everything both transports need for one voice, token included.
#[derive(Debug, Clone)]
pub struct VolcSettings {
    pub voice_type: String,
    pub speed: f32,
    /// The job's rate: the rate of every clip.
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
        VolcSettings {
            voice_type: voice.voice.clone(),
            speed: voice.speed,
            sample_rate,
            config: config.clone(),
            token,
        }
    }

    /// The rate asked of the service (see [`service_rate`]).
    pub fn service_rate(&self) -> u32 {
        service_rate(self.sample_rate)
    }

    /// `enable_emotion` as sent: on whenever there is an emotion.
    fn enable_emotion(&self) -> Option<bool> {
        if self.config.emotion.is_some() {
            Some(true)
        } else {
            self.config.enable_emotion
        }
    }

    /// Everything that changes the clip; never the token, appid, uid, URL
    /// or transport. `with_timestamp` is in it only when on: the timings are
    /// part of the clip (kept with it in the database), so turning them on
    /// must render again rather than reuse clips that have none, while keys
    /// of jobs without timestamps stay what they always were. Likewise the
    /// service rate appears only when it differs from the job's (the clip is
    /// resampled), so keys of jobs at documented rates are unchanged.
    pub fn fingerprint(&self) -> String {
        let c = &self.config;
        let opt = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
        let timestamps = if c.with_timestamp {
            "|timestamps=1"
        } else {
            ""
        };
        let resampled = if self.service_rate() == self.sample_rate {
            String::new()
        } else {
            format!("|service_rate={}|rubato-5-fft", self.service_rate())
        };
        format!(
            "volcengine|cluster={}|voice={}|speed={}|rate={}|loudness={}|emotion={}|\
             enable_emotion={}|emotion_scale={}|explicit_language={}|context_language={}|\
             text_type={}|silence={}|extra={}{timestamps}{resampled}",
            c.cluster,
            self.voice_type,
            decimal(self.speed),
            self.sample_rate,
            opt(c.loudness_ratio.map(|v| decimal(v).to_string())),
            opt(c.emotion.clone()),
            opt(self.enable_emotion().map(|v| v.to_string())),
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

    /// `request.text` for a segment: as is, or escaped and wrapped in
    /// `<speak>` with `text_type = "ssml"`.
    pub fn wire_text(&self, text: &str) -> String {
        match self.config.text_type {
            TextType::Plain => text.to_owned(),
            TextType::Ssml => format!("<speak>{}</speak>", escape_xml(text)),
        }
    }

    /// The request JSON, the same for both transports but for `operation`.
    pub fn request_json(&self, text: &str, reqid: &str, operation: &str) -> Value {
        let c = &self.config;
        let mut audio = json!({
            "voice_type": self.voice_type,
            "encoding": c.encoding.as_str(),
            "rate": self.service_rate(),
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
            self.enable_emotion().map(Value::from),
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
            "text": self.wire_text(text),
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

    /// A text over the service's limit once wrapped for the wire never goes
    /// out: the scheduler splits it, as it would on a 3010.
    fn check_length(&self, text: &str) -> Result<(), ProviderError> {
        let bytes = self.wire_text(text).len();
        if bytes > MAX_TEXT_BYTES {
            return Err(ProviderError::new(
                ErrorClass::TooLong,
                format!("the text is {bytes} bytes as sent, over volcengine's {MAX_TEXT_BYTES}"),
            ));
        }
        Ok(())
    }
}

/// `&`, `<`, `>`, `"` and `'` as XML entities: manuscript text inside
/// `<speak>` is text, never markup.
pub fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Turns the service's audio into the job's clip: read at the rate asked
/// of the service, checked against the duration the service reports,
/// resampled to the job's rate.
#[derive(Debug)]
struct ClipMaker {
    service_rate: u32,
    resampler: Option<ResamplerPool>,
    /// Trailing silence the service adds on request; its duration figure
    /// may or may not count it.
    slack_ms: f64,
}

impl ClipMaker {
    fn new(s: &VolcSettings) -> Result<Self, ProviderError> {
        let service_rate = s.service_rate();
        let resampler = (service_rate != s.sample_rate)
            .then(|| ResamplerPool::new(service_rate, s.sample_rate))
            .transpose()?;
        Ok(ClipMaker {
            service_rate,
            resampler,
            slack_ms: f64::from(s.config.silence_duration.unwrap_or(0)),
        })
    }

    fn clip(
        &self,
        audio: &[u8],
        service_ms: Option<f64>,
        words: Vec<WordTiming>,
    ) -> Result<Clip, ProviderError> {
        let mut clip = decode::audio(audio, self.service_rate)?;
        if let Some(ms) = service_ms {
            decode::check_duration(&clip, ms, self.slack_ms, "the service says it lasts")?;
        }
        if let Some(resampler) = &self.resampler {
            clip = Clip::new(resampler.to_rate(), resampler.resample(&clip.samples)?);
        }
        clip.words = words;
        Ok(clip)
    }
}

/// A fresh request id: every call, so every retry, gets its own.
fn new_reqid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A service code other than success, classified with its message, for a
/// request that sent `text`. A message that is JSON (WebSocket error
/// frames quote the whole reply, our reqid included) is reduced to its
/// `message`, so failures of the same cause read the same.
fn code_error(code: i64, message: &str, text: &str, token: &Secret) -> ProviderError {
    let message = token.redact(&service_message(message));
    let verdict = classify::volcengine(code, &message, text);
    classify::refusal("volcengine", code, &message, verdict)
}

fn service_message(raw: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(raw.trim()).ok();
    parsed
        .as_ref()
        .and_then(|v| v.get("message"))
        .and_then(Value::as_str)
        .map_or_else(|| raw.trim().to_owned(), str::to_owned)
}

#[cfg(test)]
mod tests;
