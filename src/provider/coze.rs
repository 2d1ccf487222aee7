//! The Coze speech clients: HTTP (`POST /v1/audio/speech`), WebSocket
//! (`/v1/audio/speech` events) and the voice list (`GET /v1/audio/voices`),
//! as `tts-protocols.md` sections 1–3 describe them. Each call is one
//! request (one socket for WebSocket) and no retry; every failure is
//! classified by [`super::classify`].
//!
//! Speed: `[voice] speed` goes to HTTP `speed` as is, and to WebSocket
//! `speech_rate` as `round((speed - 1) * 100)`, so 0.5 → -50, 1.0 → 0 and
//! 2.0 → 100, linear in between (the documented end points).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::decode::{self, snippet};
use super::{
    Clip, ErrorClass, ProviderError, Secret, SynthRequest, Synthesizer, classify,
    install_crypto_provider,
};
use crate::job::CozeConfig;

const SPEECH_PATH: &str = "/v1/audio/speech";
const VOICES_PATH: &str = "/v1/audio/voices";
/// Connecting gets its own short limit: a dead host should fail fast.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Characters of a non-JSON error body quoted in a message.
const SNIPPET_CHARS: usize = 200;

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
            speed_value(self.speed),
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
            "speed": speed_value(self.speed),
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

/// A speed as JSON-friendly decimal: `1.1f32` would print 1.100000023841858.
fn speed_value(speed: f32) -> f64 {
    (f64::from(speed) * 1000.0).round() / 1000.0
}

fn scale_value(scale: f32) -> Value {
    Value::from(speed_value(scale))
}

fn insert_some(object: &mut Value, key: &str, value: Option<Value>) {
    if let (Some(map), Some(value)) = (object.as_object_mut(), value) {
        map.insert(key.to_owned(), value);
    }
}

/// A client event with a fresh `id`, as the docs ask (SDKs omit it; the
/// server accepts both).
fn client_event(event_type: &str, data: Option<Value>) -> Value {
    let mut event = json!({ "id": uuid::Uuid::new_v4().to_string(), "event_type": event_type });
    insert_some(&mut event, "data", data);
    event
}

/// Coze over HTTP: one POST per segment.
#[derive(Debug)]
pub struct CozeHttp {
    settings: CozeSettings,
    client: reqwest::Client,
}

impl CozeHttp {
    pub fn new(settings: CozeSettings) -> Result<Self, ProviderError> {
        let client = http_client(settings.config.timeout)?;
        Ok(CozeHttp { settings, client })
    }

    async fn speak(&self, text: &str) -> Result<Clip, ProviderError> {
        let s = &self.settings;
        let url = format!("{}{SPEECH_PATH}", s.config.base_url);
        let response = self
            .client
            .post(url)
            .header(reqwest::header::AUTHORIZATION, sensitive(&s.bearer())?)
            .json(&s.http_body(text))
            .send()
            .await
            .map_err(|e| http_failure("coze", &e, &s.token))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let log_id = classify::log_id_header(&headers);
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let body = response
            .bytes()
            .await
            .map_err(|e| http_failure("coze", &e, &s.token).with_log_id(log_id.clone()))?;
        interpret_http(status, &content_type, &body, s.sample_rate, &s.token).map_err(|e| {
            let log_id = e.log_id.clone().or(log_id);
            e.with_log_id(log_id)
                .with_retry_after(classify::retry_after_header(&headers))
        })
    }
}

impl Synthesizer for CozeHttp {
    async fn synthesize(&self, request: &SynthRequest) -> Result<Clip, ProviderError> {
        self.speak(&request.text).await
    }
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

/// One HTTP answer: audio on success, the envelope's code otherwise. A 2xx
/// that is not JSON is taken as audio whatever its content type says (the
/// real content types per format are unconfirmed).
fn interpret_http(
    status: u16,
    content_type: &str,
    body: &[u8],
    sample_rate: u32,
    token: &Secret,
) -> Result<Clip, ProviderError> {
    let ok = (200..300).contains(&status);
    if ok && !content_type.contains("json") {
        return decode::audio(body, sample_rate);
    }
    match serde_json::from_slice::<Envelope>(body) {
        Ok(envelope) => Err(envelope_error(status, envelope, token)),
        Err(_) if ok => Err(ProviderError::new(
            ErrorClass::Transient,
            format!(
                "coze answered HTTP {status} with JSON that does not parse (cut short?): {}",
                token.redact(&snippet(body, SNIPPET_CHARS))
            ),
        )),
        Err(_) => Err(ProviderError::new(
            classify::http_status(status),
            format!(
                "coze answered HTTP {status}: {}",
                token.redact(&snippet(body, SNIPPET_CHARS))
            ),
        )),
    }
}

fn envelope_error(status: u16, envelope: Envelope, token: &Secret) -> ProviderError {
    let log_id = envelope.detail.and_then(|d| d.logid);
    let msg = token.redact(envelope.msg.as_deref().unwrap_or("").trim());
    match envelope.code {
        Some(code) if code != 0 => ProviderError::new(
            classify::coze_code(code),
            format!("coze refused the request: {msg}"),
        )
        .with_code(code)
        .with_log_id(log_id),
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

/// Coze over WebSocket: one socket per segment.
#[derive(Debug)]
pub struct CozeWs {
    settings: CozeSettings,
}

impl CozeWs {
    pub fn new(settings: CozeSettings) -> Self {
        install_crypto_provider();
        CozeWs { settings }
    }

    async fn speak(&self, text: &str) -> Result<Clip, ProviderError> {
        let s = &self.settings;
        let url = format!("{}{SPEECH_PATH}", s.config.ws_url);
        let mut socket = ws_connect(&url, &s.bearer(), "coze", &s.token).await?;
        let result = ws_session(&mut socket, s, text).await;
        // One utterance per socket; a failed close changes nothing.
        let _ = socket.close(None).await;
        result
    }
}

impl Synthesizer for CozeWs {
    async fn synthesize(&self, request: &SynthRequest) -> Result<Clip, ProviderError> {
        self.speak(&request.text).await
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket with an `Authorization` header. A refused handshake is
/// classified by its status and carries the `X-Tt-Logid` it came with.
pub(crate) async fn ws_connect(
    url: &str,
    authorization: &str,
    service: &str,
    token: &Secret,
) -> Result<Socket, ProviderError> {
    install_crypto_provider();
    let mut request = url.into_client_request().map_err(|e| {
        ProviderError::new(
            classify::websocket(&e),
            format!("{service}: bad WebSocket URL {url}: {e}"),
        )
    })?;
    request
        .headers_mut()
        .insert("authorization", sensitive(authorization)?);
    let connect = tokio_tungstenite::connect_async(request);
    match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Err(_) => Err(ProviderError::new(
            ErrorClass::Transient,
            format!("{service}: WebSocket connect to {url} timed out"),
        )),
        Ok(Err(e)) => Err(handshake_error(service, &e, token)),
        Ok(Ok((socket, _response))) => Ok(socket),
    }
}

fn handshake_error(
    service: &str,
    e: &tokio_tungstenite::tungstenite::Error,
    token: &Secret,
) -> ProviderError {
    use tokio_tungstenite::tungstenite::Error;
    let class = classify::websocket(e);
    match e {
        Error::Http(response) => {
            let log_id = response
                .headers()
                .get("x-tt-logid")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = response
                .body()
                .as_deref()
                .map(|b| token.redact(&snippet(b, SNIPPET_CHARS)))
                .unwrap_or_default();
            let status = response.status().as_u16();
            ProviderError::new(
                class,
                format!(
                    "{service}: server rejected the WebSocket connection: HTTP {status} {body}"
                )
                .trim_end()
                .to_owned(),
            )
            .with_log_id(log_id)
        }
        _ => ProviderError::new(
            class,
            format!(
                "{service}: WebSocket connect failed: {}",
                token.redact(&e.to_string())
            ),
        ),
    }
}

/// Waits for `speech.created`, sends the configuration and the text, then
/// collects audio until `speech.audio.completed`.
async fn ws_session(
    socket: &mut Socket,
    s: &CozeSettings,
    text: &str,
) -> Result<Clip, ProviderError> {
    let timeout = s.config.timeout;
    let mut log_id = None;
    loop {
        let event = next_event(socket, timeout, &mut log_id).await?;
        match event.event_type.as_str() {
            "speech.created" => break,
            "error" => return Err(event_error(&event, log_id, &s.token)),
            other => tracing::debug!(event = other, "coze: event before speech.created ignored"),
        }
    }
    let events = [
        s.speech_update(),
        client_event("input_text_buffer.append", Some(json!({ "delta": text }))),
        client_event("input_text_buffer.complete", None),
    ];
    for event in events {
        send_json(socket, &event).await?;
    }
    let mut pcm = Vec::new();
    loop {
        let event = next_event(socket, timeout, &mut log_id).await?;
        match event.event_type.as_str() {
            "speech.audio.update" => pcm.extend(audio_delta(&event)?),
            "speech.audio.completed" => break,
            "error" => return Err(event_error(&event, log_id, &s.token)),
            // speech.updated, input_text_buffer.completed, sentence_start, …
            other => tracing::debug!(event = other, "coze: event ignored"),
        }
    }
    decode::pcm(&pcm, s.sample_rate).map_err(|e| e.with_log_id(log_id))
}

#[derive(Debug, Deserialize)]
struct ServerEvent {
    event_type: String,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    detail: Option<Detail>,
}

/// The next JSON event. Pings, pongs and binary frames are skipped; a close
/// or the end of the stream before completion is `Transient`.
async fn next_event(
    socket: &mut Socket,
    timeout: Duration,
    log_id: &mut Option<String>,
) -> Result<ServerEvent, ProviderError> {
    loop {
        let message = match tokio::time::timeout(timeout, socket.next()).await {
            Err(_) => {
                return Err(ProviderError::new(
                    ErrorClass::Transient,
                    format!("coze: no event for {} s", timeout.as_secs()),
                )
                .with_log_id(log_id.clone()));
            }
            Ok(None) | Ok(Some(Ok(Message::Close(_)))) => {
                return Err(ProviderError::new(
                    ErrorClass::Transient,
                    "coze closed the WebSocket before speech.audio.completed",
                )
                .with_log_id(log_id.clone()));
            }
            Ok(Some(Err(e))) => {
                return Err(ProviderError::new(
                    classify::websocket(&e),
                    format!("coze WebSocket failed: {e}"),
                )
                .with_log_id(log_id.clone()));
            }
            Ok(Some(Ok(message))) => message,
        };
        let Message::Text(text) = message else {
            continue;
        };
        let event: ServerEvent = serde_json::from_str(text.as_str()).map_err(|e| {
            ProviderError::new(
                ErrorClass::Transient,
                format!("coze sent an event that is not JSON: {e}"),
            )
            .with_log_id(log_id.clone())
        })?;
        if let Some(id) = event.detail.as_ref().and_then(|d| d.logid.clone()) {
            *log_id = Some(id);
        }
        return Ok(event);
    }
}

fn audio_delta(event: &ServerEvent) -> Result<Vec<u8>, ProviderError> {
    let delta = event
        .data
        .as_ref()
        .and_then(|d| d.get("delta"))
        .and_then(Value::as_str)
        .unwrap_or("");
    decode::base64(delta)
}

fn event_error(event: &ServerEvent, log_id: Option<String>, token: &Secret) -> ProviderError {
    let data = event.data.as_ref();
    let code = data.and_then(|d| d.get("code")).and_then(Value::as_i64);
    let msg = data
        .and_then(|d| d.get("msg"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let class = code.map_or(ErrorClass::Permanent, classify::coze_code);
    let error = ProviderError::new(
        class,
        format!("coze refused the request: {}", token.redact(msg)),
    )
    .with_log_id(log_id);
    match code {
        Some(code) => error.with_code(code),
        None => error,
    }
}

async fn send_json(socket: &mut Socket, event: &Value) -> Result<(), ProviderError> {
    socket
        .send(Message::text(event.to_string()))
        .await
        .map_err(|e| {
            ProviderError::new(
                classify::websocket(&e),
                format!("coze WebSocket send failed: {e}"),
            )
        })
}

/// A voice from the Coze voice list. Only `voice_id` is required: the other
/// fields are optional so a listing missing one still parses.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Voice {
    pub voice_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub model_type: Option<String>,
    #[serde(default)]
    pub is_system_voice: Option<bool>,
    #[serde(default)]
    pub language_code: Option<String>,
    #[serde(default)]
    pub language_name: Option<String>,
    #[serde(default)]
    pub preview_text: Option<String>,
    #[serde(default)]
    pub preview_audio: Option<String>,
    #[serde(default)]
    pub available_training_times: Option<i64>,
    #[serde(default)]
    pub create_time: Option<i64>,
    #[serde(default)]
    pub update_time: Option<i64>,
    #[serde(default)]
    pub support_emotions: Option<Vec<SupportedEmotion>>,
}

impl Voice {
    /// The emotion names this voice accepts (empty for single-emotion voices).
    pub fn emotions(&self) -> Vec<&str> {
        self.support_emotions
            .iter()
            .flatten()
            .map(|e| e.emotion.as_str())
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct SupportedEmotion {
    pub emotion: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub emotion_scale_interval: Option<ScaleInterval>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ScaleInterval {
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub default: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct VoicePage {
    code: Option<i64>,
    #[serde(default)]
    msg: Option<String>,
    #[serde(default)]
    detail: Option<Detail>,
    #[serde(default)]
    data: Option<VoicePageData>,
}

#[derive(Debug, Default, Deserialize)]
struct VoicePageData {
    #[serde(default)]
    has_more: bool,
    #[serde(default)]
    voice_list: Vec<Voice>,
}

/// A guard against a server that says `has_more` for ever.
const MAX_PAGES: u32 = 1000;

/// Every voice of the account (`GET {base}/v1/audio/voices`), following
/// `has_more` page by page. `page_size` is clamped to 1..=100.
pub async fn list_voices(
    base_url: &str,
    token: &Secret,
    filter_system_voice: bool,
    model_type: Option<&str>,
    page_size: u32,
) -> Result<Vec<Voice>, ProviderError> {
    let client = http_client(Duration::from_secs(60))?;
    let base = base_url.trim_end_matches('/');
    let mut voices = Vec::new();
    for page_num in 1..=MAX_PAGES {
        let url = voices_url(base, filter_system_voice, model_type, page_num, page_size)?;
        let page = voice_page(&client, url, token).await?;
        let got = page.voice_list.len();
        voices.extend(page.voice_list);
        if !page.has_more || got == 0 {
            break;
        }
    }
    Ok(voices)
}

fn voices_url(
    base: &str,
    filter_system_voice: bool,
    model_type: Option<&str>,
    page_num: u32,
    page_size: u32,
) -> Result<reqwest::Url, ProviderError> {
    let mut url = reqwest::Url::parse(&format!("{base}{VOICES_PATH}")).map_err(|e| {
        ProviderError::new(
            ErrorClass::Permanent,
            format!("coze: bad base URL {base}: {e}"),
        )
    })?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("filter_system_voice", &filter_system_voice.to_string());
        if let Some(model_type) = model_type {
            query.append_pair("model_type", model_type);
        }
        query.append_pair("page_num", &page_num.to_string());
        query.append_pair("page_size", &page_size.clamp(1, 100).to_string());
    }
    Ok(url)
}

async fn voice_page(
    client: &reqwest::Client,
    url: reqwest::Url,
    token: &Secret,
) -> Result<VoicePageData, ProviderError> {
    let response = client
        .get(url)
        .header(
            reqwest::header::AUTHORIZATION,
            sensitive(&format!("Bearer {}", token.expose()))?,
        )
        .send()
        .await
        .map_err(|e| http_failure("coze", &e, token))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let log_id = classify::log_id_header(&headers);
    let body = response
        .bytes()
        .await
        .map_err(|e| http_failure("coze", &e, token))?;
    parse_voice_page(status, &body, token).map_err(|e| {
        let log_id = e.log_id.clone().or(log_id);
        e.with_log_id(log_id)
            .with_retry_after(classify::retry_after_header(&headers))
    })
}

fn parse_voice_page(
    status: u16,
    body: &[u8],
    token: &Secret,
) -> Result<VoicePageData, ProviderError> {
    let page: VoicePage = serde_json::from_slice(body).map_err(|e| {
        let class = if (200..300).contains(&status) {
            ErrorClass::Transient
        } else {
            classify::http_status(status)
        };
        ProviderError::new(
            class,
            format!(
                "coze voice list: HTTP {status}, body is not the expected JSON ({e}): {}",
                token.redact(&snippet(body, SNIPPET_CHARS))
            ),
        )
    })?;
    match page.code {
        Some(0) if (200..300).contains(&status) => Ok(page.data.unwrap_or_default()),
        code => Err(envelope_error(
            status,
            Envelope {
                code: code.filter(|c| *c != 0),
                msg: page.msg,
                detail: page.detail,
            },
            token,
        )),
    }
}

/// The HTTP client for one provider: rustls (ring), a whole-request
/// timeout and a short connect timeout.
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, ProviderError> {
    install_crypto_provider();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|e| {
            ProviderError::new(
                ErrorClass::Fatal,
                format!("cannot build the HTTP client: {e}"),
            )
        })
}

/// A header value marked sensitive, so neither reqwest nor tungstenite shows
/// it in `Debug` (both use the same `http` crate).
pub(crate) fn sensitive(value: &str) -> Result<reqwest::header::HeaderValue, ProviderError> {
    let mut header = reqwest::header::HeaderValue::from_str(value).map_err(|_| {
        ProviderError::new(
            ErrorClass::Fatal,
            "the token contains characters not allowed in an HTTP header; check the token \
             variable",
        )
    })?;
    header.set_sensitive(true);
    Ok(header)
}

/// A failed HTTP exchange, with its cause chain (reqwest's own message is
/// only "error sending request").
pub(crate) fn http_failure(service: &str, e: &reqwest::Error, token: &Secret) -> ProviderError {
    let mut message = format!("{service} request failed: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    ProviderError::new(classify::transport(e), token.redact(&message))
}

#[cfg(test)]
mod tests;
