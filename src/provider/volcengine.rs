//! The Volcengine openspeech v1 clients: HTTP (`POST /api/v1/tts`,
//! `operation: "query"`) and the binary WebSocket (`/api/v1/tts/ws_binary`,
//! `operation: "submit"`), as `tts-protocols.md` sections 4–6 describe them.
//! One request per call, a fresh `reqid` (UUID v4) on every call, no retry;
//! failures are classified by [`super::classify`].
//!
//! The token goes only in the `Authorization: Bearer;<token>` header; the
//! body's `app.token` is the placeholder the service ignores.
//!
//! Sample rates: the service documents 8000, 16000 and 24000 Hz. Other job
//! rates are sent as asked, with a warning: whether they work is unconfirmed.
//!
//! Word timings (`with_timestamp`): HTTP carries them in `addition.frontend`,
//! the WebSocket in its 0xC frontend frame(s); both are a JSON string
//! `{"words":[{"word","start_time","end_time"}…]}` in ms, returned in
//! `Clip::words`. Timings that do not parse are logged and left out: the
//! audio is still good.

pub mod frame;

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::coze::{http_client, http_failure, sensitive, ws_connect};
use super::decode::{self, snippet};
use super::{
    Clip, ErrorClass, ProviderError, Secret, SynthRequest, Synthesizer, WordTiming, classify,
};
use crate::job::VolcengineConfig;
use frame::ServerFrame;

const HTTP_PATH: &str = "/api/v1/tts";
const WS_PATH: &str = "/api/v1/tts/ws_binary";
/// `app.token` does no authentication; the official demos send this literal.
const APP_TOKEN_PLACEHOLDER: &str = "access_token";
const DOCUMENTED_RATES: &[u32] = &[8000, 16000, 24000];
const SUCCESS: i64 = 3000;
const SNIPPET_CHARS: usize = 200;

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

/// A factor as a short decimal (`1.1f32` would print 1.100000023841858).
fn decimal(value: f32) -> f64 {
    (f64::from(value) * 1000.0).round() / 1000.0
}

fn insert_some(object: &mut Value, key: &str, value: Option<Value>) {
    if let (Some(map), Some(value)) = (object.as_object_mut(), value) {
        map.insert(key.to_owned(), value);
    }
}

/// One word's timing as `frontend.words` carries it. Numbers, because one
/// sample had floats; ms for big-model voices (other units unconfirmed).
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct FrontendWord {
    word: String,
    start_time: f64,
    end_time: f64,
}

#[derive(Debug, Deserialize)]
struct Frontend {
    #[serde(default)]
    words: Vec<FrontendWord>,
}

/// Word timings from the `frontend` JSON string, in whole ms (negative
/// times become 0, an end before its start becomes the start); `None` when
/// it does not parse.
pub fn parse_frontend(frontend: &str) -> Option<Vec<WordTiming>> {
    let frontend = serde_json::from_str::<Frontend>(frontend).ok()?;
    // `as` saturates (and maps NaN to 0), which is the clamp wanted here.
    let ms = |t: f64| t.round().max(0.0) as u32;
    Some(
        frontend
            .words
            .into_iter()
            .map(|w| {
                let start_ms = ms(w.start_time);
                WordTiming {
                    word: w.word,
                    start_ms,
                    end_ms: ms(w.end_time).max(start_ms),
                }
            })
            .collect(),
    )
}

/// The timings of one frontend string, or none (logged) when it does not parse.
fn timings(frontend: &str) -> Vec<WordTiming> {
    match parse_frontend(frontend) {
        Some(words) => {
            tracing::debug!(words = words.len(), "volcengine word timings");
            words
        }
        None => {
            tracing::debug!("volcengine frontend timings did not parse; left out");
            Vec::new()
        }
    }
}

/// Volcengine over HTTP: one POST per segment.
#[derive(Debug)]
pub struct VolcHttp {
    settings: VolcSettings,
    client: reqwest::Client,
}

impl VolcHttp {
    pub fn new(settings: VolcSettings) -> Result<Self, ProviderError> {
        let client = http_client(settings.config.timeout)?;
        Ok(VolcHttp { settings, client })
    }

    async fn speak(&self, text: &str) -> Result<Clip, ProviderError> {
        let s = &self.settings;
        let url = format!("{}{HTTP_PATH}", s.config.base_url);
        let body = s.request_json(text, &new_reqid(), "query");
        let response = self
            .client
            .post(url)
            .header(
                reqwest::header::AUTHORIZATION,
                sensitive(&s.authorization())?,
            )
            .json(&body)
            .send()
            .await
            .map_err(|e| http_failure("volcengine", &e, &s.token))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let log_id = classify::log_id_header(&headers);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| http_failure("volcengine", &e, &s.token).with_log_id(log_id.clone()))?;
        interpret_http(status, &bytes, s).map_err(|e| {
            e.with_log_id(log_id)
                .with_retry_after(classify::retry_after_header(&headers))
        })
    }
}

impl Synthesizer for VolcHttp {
    async fn synthesize(&self, request: &SynthRequest) -> Result<Clip, ProviderError> {
        self.speak(&request.text).await
    }
}

#[derive(Debug, Deserialize)]
struct HttpReply {
    code: Option<i64>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    addition: Option<Value>,
}

/// One HTTP answer, JSON on any status: `code` 3000 with base64 `data` is
/// audio, anything else an error classified by code or status.
fn interpret_http(status: u16, body: &[u8], s: &VolcSettings) -> Result<Clip, ProviderError> {
    let ok = (200..300).contains(&status);
    let reply: HttpReply = serde_json::from_slice(body).map_err(|e| {
        let class = if ok {
            ErrorClass::Transient
        } else {
            classify::http_status(status)
        };
        ProviderError::new(
            class,
            format!(
                "volcengine answered HTTP {status} with a body that is not the expected JSON \
                 ({e}): {}",
                s.token.redact(&snippet(body, SNIPPET_CHARS))
            ),
        )
    })?;
    let Some(code) = reply.code else {
        let class = if ok {
            ErrorClass::Transient
        } else {
            classify::http_status(status)
        };
        return Err(ProviderError::new(
            class,
            format!("volcengine answered HTTP {status} without a code"),
        ));
    };
    if code != SUCCESS {
        return Err(code_error(
            code,
            reply.message.as_deref().unwrap_or(""),
            &s.token,
        ));
    }
    let data = reply
        .data
        .as_deref()
        .filter(|d| !d.is_empty())
        .ok_or_else(|| {
            ProviderError::new(
                ErrorClass::Transient,
                "volcengine answered success without audio data",
            )
        })?;
    let mut clip = decode::audio(&decode::base64(data)?, s.sample_rate)?;
    if s.config.with_timestamp {
        clip.words = addition_words(reply.addition.as_ref());
    }
    Ok(clip)
}

/// The word timings in `addition.frontend`; none when it is missing.
fn addition_words(addition: Option<&Value>) -> Vec<WordTiming> {
    let Some(addition) = addition else {
        return Vec::new();
    };
    if let Some(duration) = addition.get("duration") {
        tracing::debug!(%duration, "volcengine audio duration (ms)");
    }
    match addition.get("frontend").and_then(Value::as_str) {
        Some(frontend) => timings(frontend),
        None => {
            tracing::debug!("volcengine sent no word timings");
            Vec::new()
        }
    }
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

/// Volcengine over the binary WebSocket: one socket per segment.
#[derive(Debug)]
pub struct VolcWs {
    settings: VolcSettings,
}

impl VolcWs {
    pub fn new(settings: VolcSettings) -> Self {
        super::install_crypto_provider();
        VolcWs { settings }
    }

    async fn speak(&self, text: &str) -> Result<Clip, ProviderError> {
        let s = &self.settings;
        let url = format!("{}{WS_PATH}", s.config.ws_url);
        let mut socket = ws_connect(&url, &s.authorization(), "volcengine", &s.token).await?;
        let result = ws_session(&mut socket, s, text).await;
        // One utterance per socket; a failed close changes nothing.
        let _ = socket.close(None).await;
        result
    }
}

impl Synthesizer for VolcWs {
    async fn synthesize(&self, request: &SynthRequest) -> Result<Clip, ProviderError> {
        self.speak(&request.text).await
    }
}

/// Sends the request frame and gathers audio until the last frame.
async fn ws_session<S>(socket: &mut S, s: &VolcSettings, text: &str) -> Result<Clip, ProviderError>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>>
        + futures_util::Sink<Message, Error = tokio_tungstenite::tungstenite::Error>
        + Unpin,
{
    let json = s.request_json(text, &new_reqid(), "submit").to_string();
    let request = frame::encode_request(json.as_bytes(), true);
    socket
        .send(Message::binary(request))
        .await
        .map_err(|e| ws_failure(&e, "send"))?;
    let mut audio = Vec::new();
    let mut words = Vec::new();
    loop {
        let message = match tokio::time::timeout(s.config.timeout, socket.next()).await {
            Err(_) => {
                return Err(ProviderError::new(
                    ErrorClass::Transient,
                    format!("volcengine: no frame for {} s", s.config.timeout.as_secs()),
                ));
            }
            Ok(None) | Ok(Some(Ok(Message::Close(_)))) => {
                return Err(ProviderError::new(
                    ErrorClass::Transient,
                    "volcengine closed the WebSocket before the last audio frame",
                ));
            }
            Ok(Some(Err(e))) => return Err(ws_failure(&e, "receive")),
            Ok(Some(Ok(message))) => message,
        };
        let Message::Binary(bytes) = message else {
            continue;
        };
        let decoded = frame::decode_server(&bytes)
            .map_err(|e| ProviderError::new(ErrorClass::Transient, format!("volcengine: {e}")))?;
        match decoded {
            ServerFrame::Ack => {}
            ServerFrame::Audio { payload, last, .. } => {
                audio.extend_from_slice(&payload);
                if last {
                    let mut clip = decode::audio(&audio, s.sample_rate)?;
                    if s.config.with_timestamp {
                        clip.words = words;
                    }
                    return Ok(clip);
                }
            }
            // Assumed to be times in the whole utterance, should the
            // service ever send several frames with words.
            ServerFrame::Frontend(json) => words.extend(frontend_frame_words(&json)),
            ServerFrame::Error { code, message } => {
                return Err(code_error(i64::from(code), &message, &s.token));
            }
            ServerFrame::Other { message_type } => {
                tracing::debug!(message_type, "volcengine: frame type skipped");
            }
        }
    }
}

/// The word timings of one 0xC frame: `{"frontend":"<JSON string>"}`.
/// Other 0xC frames (`{"duration":…,"first_pkg":…}`) carry none.
pub fn frontend_frame_words(json: &[u8]) -> Vec<WordTiming> {
    let value: Option<Value> = serde_json::from_slice(json).ok();
    match value
        .as_ref()
        .and_then(|v| v.get("frontend"))
        .and_then(Value::as_str)
    {
        Some(frontend) => timings(frontend),
        None => {
            tracing::debug!("volcengine: frontend frame without words");
            Vec::new()
        }
    }
}

fn ws_failure(e: &tokio_tungstenite::tungstenite::Error, what: &str) -> ProviderError {
    ProviderError::new(
        classify::websocket(e),
        format!("volcengine WebSocket {what} failed: {e}"),
    )
}

#[cfg(test)]
mod tests;
