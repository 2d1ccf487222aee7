//! Coze: `POST /v1/audio/speech` (raw audio), `GET /v1/audio/speech` (the
//! JSON-event WebSocket) and `GET /v1/audio/voices` (the paginated voice
//! list), with the JSON error envelope and status mapping of
//! tts-protocols.md sections 0–3.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};

use super::audio::{self, Format, Voicing};
use super::config::{
    CozeVoice, CozeWsAuth, ErrorStatus, ModelType, SimConfig, TextLimitScope, VoiceState,
};
use super::gate::{self, Fault, SlotGuard};
use super::log::{Outcome, Pending, Provider, Transport};
use super::{Sim, body, new_logid};

const SPEECH_PATH: &str = "/v1/audio/speech";
const VOICES_PATH: &str = "/v1/audio/voices";
const SAMPLE_RATES: [u32; 7] = [8000, 16000, 22050, 24000, 32000, 44100, 48000];
/// A silent socket is closed after this long (the real value is UNCONFIRMED).
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// A refusal: the envelope's `code` and `msg`.
#[derive(Debug, Clone, PartialEq)]
struct CozeError {
    code: u32,
    msg: String,
}

impl CozeError {
    fn new(code: u32, msg: impl Into<String>) -> Self {
        CozeError {
            code,
            msg: msg.into(),
        }
    }

    fn invalid(msg: impl Into<String>) -> Self {
        CozeError::new(4000, msg)
    }

    fn auth() -> Self {
        CozeError::new(4100, "authentication is invalid")
    }

    fn quota() -> Self {
        CozeError::new(
            4020,
            "rate limit exceeded: too many concurrent speech requests",
        )
    }

    fn injected(code: u32) -> Self {
        let msg = match code {
            4009 => "the platform is busy, try later",
            4013 => "model service error",
            4020 => "rate limit exceeded",
            5000 => "server internal error",
            _ => "simulated error",
        };
        CozeError::new(code, msg)
    }
}

// ---------------------------------------------------------------- HTTP speech

/// A validated HTTP speech request.
#[derive(Debug)]
struct Speech {
    text: String,
    format: Format,
    voicing: Voicing,
}

pub(crate) async fn http(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let logid = new_logid();
    let mut pending = Pending::new(Provider::Coze, Transport::Http, SPEECH_PATH);
    let token = bearer_token(&headers, None);
    pending.auth_ok = token.as_deref().is_some_and(|t| sim.token_ok(t));
    let root: Option<Value> = serde_json::from_slice(&body).ok();
    if let Some(input) = root
        .as_ref()
        .and_then(|r| r.get("input"))
        .and_then(Value::as_str)
    {
        pending.text = input.to_owned();
    }
    let (outcome, response) = match token.filter(|_| pending.auth_ok) {
        None => error_response(&sim.config, &CozeError::auth(), &logid),
        Some(token) => match parse_speech(&sim.config, root.as_ref()) {
            Err(e) => error_response(&sim.config, &e, &logid),
            Ok(speech) => synthesize_http(&sim, &token, &mut pending, speech, &logid).await,
        },
    };
    pending.finish(&sim.log, outcome);
    response
}

async fn synthesize_http(
    sim: &Sim,
    token: &str,
    pending: &mut Pending,
    speech: Speech,
    logid: &str,
) -> (Outcome, Response) {
    let Some(slot) = sim.slots.try_acquire(token) else {
        pending.in_flight = sim.slots.total();
        return error_response(&sim.config, &CozeError::quota(), logid);
    };
    pending.in_flight = slot.in_flight_at_start;
    let fault = sim.dice.roll(Provider::Coze);
    tokio::time::sleep(gate::latency(&sim.config, &speech.text)).await;
    match fault {
        Fault::Code(code) => return error_response(&sim.config, &CozeError::injected(code), logid),
        Fault::Drop => {
            return (
                Outcome::Dropped,
                with_logid(Response::new(body::aborted()), logid),
            );
        }
        Fault::None | Fault::Truncate => {}
    }
    let bytes = match render_bytes(sim, &speech).await {
        Ok(bytes) => bytes,
        Err(e) => return error_response(&sim.config, &e, logid),
    };
    let full_len = bytes.len();
    let (outcome, body) = match fault {
        Fault::Truncate => (Outcome::Truncated, body::cut_short(&bytes)),
        _ => (
            Outcome::Ok,
            audio_body(&sim.config, bytes, speech.voicing.sample_rate, slot),
        ),
    };
    let mut response = with_logid(Response::new(body), logid);
    let content_type = match speech.format {
        Format::Pcm => "audio/pcm",
        Format::Wav => "audio/wav",
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(full_len));
    (outcome, response)
}

/// The whole body at once, or in slow chunks holding the slot meanwhile.
fn audio_body(config: &SimConfig, bytes: Vec<u8>, sample_rate: u32, slot: SlotGuard) -> Body {
    if config.slow_stream_ms == 0 {
        return Body::from(bytes);
    }
    let chunk = audio::chunk_bytes(sample_rate, config.chunk_ms);
    body::slow(
        bytes,
        chunk,
        Duration::from_millis(config.slow_stream_ms),
        slot,
    )
}

async fn render_bytes(sim: &Sim, speech: &Speech) -> Result<Vec<u8>, CozeError> {
    let clip = sim
        .render(&speech.text, speech.voicing)
        .await
        .map_err(|e| CozeError::new(5000, format!("server internal error: {}", e.message)))?;
    audio::encode(&clip, speech.format).map_err(|e| CozeError::new(5000, e.to_string()))
}

fn parse_speech(config: &SimConfig, root: Option<&Value>) -> Result<Speech, CozeError> {
    let root = root
        .and_then(Value::as_object)
        .ok_or_else(|| CozeError::invalid("the request body must be a JSON object"))?;
    let text = string(root, "input")?
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| CozeError::invalid("input is required"))?;
    let voice_id =
        string(root, "voice_id")?.ok_or_else(|| CozeError::invalid("voice_id is required"))?;
    let format = parse_format(string(root, "response_format")?.unwrap_or("mp3"))?;
    let speed = ranged(root, "speed", 0.2, 3.0)?.unwrap_or(1.0);
    let sample_rate = sample_rate(root, "sample_rate")?.unwrap_or(24000);
    let loudness = integer(root, "loudness_rate", -50, 100)?.unwrap_or(0);
    let voice = config
        .coze_voice(voice_id)
        .ok_or_else(|| CozeError::new(4200, format!("voice_id {voice_id} not found")))?;
    if let Some(emotion) = string(root, "emotion")? {
        check_emotion(voice, emotion)?;
    }
    ranged(root, "emotion_scale", 1.0, 5.0)?;
    string(root, "context_texts")?;
    if text.len() > config.max_text_bytes {
        return Err(too_long(
            config.coze_too_long_code,
            text.len(),
            config.max_text_bytes,
        ));
    }
    Ok(Speech {
        text: text.to_owned(),
        format,
        voicing: Voicing {
            sample_rate,
            speed,
            gain: rate_factor(loudness),
        },
    })
}

fn parse_format(format: &str) -> Result<Format, CozeError> {
    match format {
        "pcm" => Ok(Format::Pcm),
        "wav" => Ok(Format::Wav),
        "mp3" | "ogg_opus" | "ogg" | "opus" => Err(CozeError::invalid(format!(
            "response_format {format} is not supported by the simulator; use pcm or wav"
        ))),
        other => Err(CozeError::invalid(format!(
            "unknown response_format {other}"
        ))),
    }
}

fn check_emotion(voice: &CozeVoice, emotion: &str) -> Result<(), CozeError> {
    if voice.supports_emotion(emotion) {
        Ok(())
    } else {
        Err(CozeError::invalid(format!(
            "voice {} does not support the emotion {emotion}",
            voice.voice_id
        )))
    }
}

fn too_long(code: u32, bytes: usize, limit: usize) -> CozeError {
    CozeError::new(
        code,
        format!("text too long: {bytes} bytes, the limit is {limit}"),
    )
}

/// −50..100 as a factor: −50 = 0.5×, 0 = 1×, 100 = 2×.
fn rate_factor(rate: i64) -> f64 {
    1.0 + rate as f64 / 100.0
}

// ---- field readers: `null` counts as absent, an int is a valid float

fn present<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn string<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, CozeError> {
    match present(obj, key) {
        None => Ok(None),
        Some(v) => v
            .as_str()
            .map(Some)
            .ok_or_else(|| CozeError::invalid(format!("{key} must be a string"))),
    }
}

fn ranged(obj: &Map<String, Value>, key: &str, lo: f64, hi: f64) -> Result<Option<f64>, CozeError> {
    let Some(v) = present(obj, key) else {
        return Ok(None);
    };
    let n = v
        .as_f64()
        .ok_or_else(|| CozeError::invalid(format!("{key} must be a number")))?;
    if !(lo..=hi).contains(&n) {
        return Err(CozeError::invalid(format!(
            "{key} {n} is out of range [{lo}, {hi}]"
        )));
    }
    Ok(Some(n))
}

fn integer(
    obj: &Map<String, Value>,
    key: &str,
    lo: i64,
    hi: i64,
) -> Result<Option<i64>, CozeError> {
    let Some(n) = ranged(obj, key, lo as f64, hi as f64)? else {
        return Ok(None);
    };
    if n.fract() != 0.0 {
        return Err(CozeError::invalid(format!("{key} must be an integer")));
    }
    Ok(Some(n as i64))
}

fn sample_rate(obj: &Map<String, Value>, key: &str) -> Result<Option<u32>, CozeError> {
    let Some(n) = ranged(obj, key, 0.0, f64::from(u32::MAX))? else {
        return Ok(None);
    };
    let rate = n as u32;
    if n.fract() != 0.0 || !SAMPLE_RATES.contains(&rate) {
        return Err(CozeError::invalid(format!("{key} {n} is not supported")));
    }
    Ok(Some(rate))
}

// ---- responses

/// Our status choice per code (UNCONFIRMED; see `coze_error_status`).
fn mapped_status(code: u32) -> StatusCode {
    match code {
        4100 => StatusCode::UNAUTHORIZED,
        4101 => StatusCode::FORBIDDEN,
        4200 => StatusCode::NOT_FOUND,
        4008 | 4009 | 4013 | 4020 => StatusCode::TOO_MANY_REQUESTS,
        3000..=4999 => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn error_response(config: &SimConfig, e: &CozeError, logid: &str) -> (Outcome, Response) {
    let status = match config.coze_error_status {
        ErrorStatus::Mapped => mapped_status(e.code),
        ErrorStatus::Ok => StatusCode::OK,
    };
    let body = json!({ "code": e.code, "msg": e.msg, "detail": { "logid": logid } });
    (Outcome::Code(e.code), json_response(status, body, logid))
}

fn json_response(status: StatusCode, body: Value, logid: &str) -> Response {
    let mut response = with_logid(Response::new(Body::from(body.to_string())), logid);
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn with_logid(mut response: Response, logid: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(logid) {
        response.headers_mut().insert("x-tt-logid", value);
    }
    response
}

/// `Authorization: Bearer <token>`, or the browser form
/// `?authorization=Bearer%20<token>`.
fn bearer_token(headers: &HeaderMap, query: Option<&HashMap<String, String>>) -> Option<String> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let value = from_header.or_else(|| query?.get("authorization").cloned())?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

// ---------------------------------------------------------------- voice list

pub(crate) async fn voices(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let logid = new_logid();
    let mut pending = Pending::new(Provider::Coze, Transport::Http, VOICES_PATH);
    pending.auth_ok = bearer_token(&headers, None).is_some_and(|t| sim.token_ok(&t));
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let answer = if pending.auth_ok {
        list_voices(&sim.config.voices.coze, &query)
    } else {
        Err(CozeError::auth())
    };
    let (outcome, response) = match answer {
        Ok(data) => {
            let body = json!({ "code": 0, "msg": "", "detail": { "logid": logid }, "data": data });
            (Outcome::Ok, json_response(StatusCode::OK, body, &logid))
        }
        Err(e) => error_response(&sim.config, &e, &logid),
    };
    pending.finish(&sim.log, outcome);
    response
}

/// One page of the voices that pass the filters, and whether more follow.
fn list_voices(all: &[CozeVoice], query: &HashMap<String, String>) -> Result<Value, CozeError> {
    let filter_system = match query.get("filter_system_voice").map(String::as_str) {
        None | Some("false") | Some("") => false,
        Some("true") => true,
        Some(other) => {
            return Err(CozeError::invalid(format!(
                "filter_system_voice {other} is not a bool"
            )));
        }
    };
    let model_type = match query.get("model_type").map(String::as_str) {
        None | Some("") => None,
        Some("big") => Some(ModelType::Big),
        Some("small") => Some(ModelType::Small),
        Some(other) => return Err(CozeError::invalid(format!("unknown model_type {other}"))),
    };
    // Absent = all: cozepy omits it and expects the system voices back.
    let state = match query.get("voice_state").map(String::as_str) {
        None | Some("") | Some("all") => None,
        Some("init") => Some(VoiceState::Init),
        Some("cloned") => Some(VoiceState::Cloned),
        Some(other) => return Err(CozeError::invalid(format!("unknown voice_state {other}"))),
    };
    let page_num = page_param(query, "page_num", 1, u32::MAX)?.unwrap_or(1);
    let page_size = page_param(query, "page_size", 1, 100)?.unwrap_or(100);
    let matching: Vec<&CozeVoice> = all
        .iter()
        .filter(|v| !(filter_system && v.is_system_voice))
        .filter(|v| model_type.is_none_or(|m| v.model_type == m))
        .filter(|v| state.is_none_or(|s| v.state == s))
        .collect();
    let start = (page_num as usize - 1).saturating_mul(page_size as usize);
    let page: Vec<&CozeVoice> = matching
        .iter()
        .skip(start)
        .take(page_size as usize)
        .copied()
        .collect();
    let has_more = start.saturating_add(page.len()) < matching.len();
    Ok(json!({ "has_more": has_more, "voice_list": page }))
}

fn page_param(
    query: &HashMap<String, String>,
    key: &str,
    lo: u32,
    hi: u32,
) -> Result<Option<u32>, CozeError> {
    let Some(raw) = query.get(key) else {
        return Ok(None);
    };
    match raw.parse::<u32>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(Some(n)),
        _ => Err(CozeError::invalid(format!(
            "{key} must be an integer in [{lo}, {hi}]"
        ))),
    }
}

// ---------------------------------------------------------------- WebSocket

pub(crate) async fn ws(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let logid = new_logid();
    let query = query.ok().map(|Query(q)| q);
    let token = bearer_token(&headers, query.as_ref()).filter(|t| sim.token_ok(t));
    if token.is_none() && sim.config.coze_ws_auth == CozeWsAuth::Handshake {
        let mut pending = Pending::new(Provider::Coze, Transport::Ws, SPEECH_PATH);
        let (outcome, response) = error_response(&sim.config, &CozeError::auth(), &logid);
        pending.auth_ok = false;
        pending.finish(&sim.log, outcome);
        let mut response = response;
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        return response;
    }
    let session_logid = logid.clone();
    let response = upgrade.on_upgrade(move |socket| async move {
        let stop = sim.stop.clone();
        let session = Session::new(&sim, socket, token, session_logid);
        tokio::select! {
            () = stop.cancelled() => {}
            () = session.run() => {}
        }
    });
    with_logid(response, &logid)
}

/// Whether the session goes on after an event.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    /// Close politely.
    Close,
    /// Drop the socket without a close frame (an injected fault).
    Abort,
}

/// The effective `output_audio` of a session.
#[derive(Debug, Clone)]
struct OutputAudio {
    sample_rate: u32,
    frame_size_ms: Option<f64>,
    speech_rate: i64,
    loudness_rate: i64,
    voice_id: String,
    emotion: Option<(String, f64)>,
    context_texts: Option<String>,
}

impl OutputAudio {
    fn to_json(&self) -> Value {
        let mut pcm_config = json!({ "sample_rate": self.sample_rate });
        if let Some(ms) = self.frame_size_ms {
            pcm_config["frame_size_ms"] = json!(ms);
        }
        let mut out = json!({
            "codec": "pcm",
            "pcm_config": pcm_config,
            "speech_rate": self.speech_rate,
            "loudness_rate": self.loudness_rate,
            "voice_id": self.voice_id,
        });
        if let Some((emotion, scale)) = &self.emotion {
            out["emotion_config"] = json!({ "emotion": emotion, "emotion_scale": scale });
        }
        if let Some(context) = &self.context_texts {
            out["context_texts"] = json!(context);
        }
        out
    }

    fn voicing(&self) -> Voicing {
        Voicing {
            sample_rate: self.sample_rate,
            speed: rate_factor(self.speech_rate),
            gain: rate_factor(self.loudness_rate),
        }
    }

    /// A copy with the client's fields applied, or why they are refused.
    fn updated(
        &self,
        config: &SimConfig,
        patch: &Map<String, Value>,
    ) -> Result<OutputAudio, CozeError> {
        let mut next = self.clone();
        if let Some(codec) = string(patch, "codec")?
            && codec != "pcm"
        {
            return Err(CozeError::invalid(format!(
                "codec {codec} is not supported by the simulator; use pcm"
            )));
        }
        if let Some(pcm) = present(patch, "pcm_config") {
            let pcm = pcm
                .as_object()
                .ok_or_else(|| CozeError::invalid("pcm_config must be an object"))?;
            if let Some(rate) = sample_rate(pcm, "sample_rate")? {
                next.sample_rate = rate;
            }
            if let Some(ms) = ranged(pcm, "frame_size_ms", 1.0, 10_000.0)? {
                next.frame_size_ms = Some(ms);
            }
        }
        if let Some(rate) = integer(patch, "speech_rate", -50, 100)? {
            next.speech_rate = rate;
        }
        if let Some(rate) = integer(patch, "loudness_rate", -50, 100)? {
            next.loudness_rate = rate;
        }
        if let Some(id) = string(patch, "voice_id")? {
            config
                .coze_voice(id)
                .ok_or_else(|| CozeError::new(4200, format!("voice_id {id} not found")))?;
            next.voice_id = id.to_owned();
        }
        if let Some(context) = string(patch, "context_texts")? {
            next.context_texts = Some(context.to_owned());
        }
        if let Some(emotion) = present(patch, "emotion_config") {
            next.emotion = Some(parse_emotion(config, &next.voice_id, emotion)?);
        }
        Ok(next)
    }
}

fn parse_emotion(
    config: &SimConfig,
    voice_id: &str,
    value: &Value,
) -> Result<(String, f64), CozeError> {
    let obj = value
        .as_object()
        .ok_or_else(|| CozeError::invalid("emotion_config must be an object"))?;
    let emotion = string(obj, "emotion")?
        .ok_or_else(|| CozeError::invalid("emotion_config.emotion is required"))?;
    let scale = ranged(obj, "emotion_scale", 1.0, 5.0)?.unwrap_or(4.0);
    let voice = config
        .coze_voice(voice_id)
        .ok_or_else(|| CozeError::new(4200, format!("voice_id {voice_id} not found")))?;
    check_emotion(voice, emotion)?;
    Ok((emotion.to_owned(), scale))
}

struct Session<'a> {
    sim: &'a Sim,
    socket: WebSocket,
    /// `None` when auth failed and `coze_ws_auth = "event"`.
    token: Option<String>,
    logid: String,
    output: OutputAudio,
    buffer: String,
}

impl<'a> Session<'a> {
    fn new(sim: &'a Sim, socket: WebSocket, token: Option<String>, logid: String) -> Self {
        let output = OutputAudio {
            sample_rate: 24000,
            frame_size_ms: None,
            speech_rate: 0,
            loudness_rate: 0,
            voice_id: sim.config.coze_default_voice_id(),
            emotion: None,
            context_texts: None,
        };
        Session {
            sim,
            socket,
            token,
            logid,
            output,
            buffer: String::new(),
        }
    }

    async fn run(mut self) {
        if self.token.is_none() {
            let mut pending = Pending::new(Provider::Coze, Transport::Ws, SPEECH_PATH);
            pending.auth_ok = false;
            self.send_error(&CozeError::auth()).await;
            pending.finish(&self.sim.log, Outcome::Code(4100));
            self.close().await;
            return;
        }
        if self.send_event("speech.created", None).await.is_err() {
            return;
        }
        loop {
            let message = match tokio::time::timeout(IDLE_TIMEOUT, self.socket.recv()).await {
                Ok(Some(Ok(message))) => message,
                Ok(Some(Err(_)) | None) => return,
                Err(_) => break,
            };
            let flow = match message {
                Message::Text(text) => self.on_text(text.as_str()).await,
                Message::Binary(_) => {
                    self.refuse(CozeError::invalid("binary frames are not events"))
                        .await
                }
                Message::Ping(_) | Message::Pong(_) => Flow::Continue,
                Message::Close(_) => return,
            };
            match flow {
                Flow::Continue => {}
                Flow::Close => break,
                Flow::Abort => return,
            }
        }
        self.close().await;
    }

    async fn on_text(&mut self, text: &str) -> Flow {
        let event: Value = match serde_json::from_str(text) {
            Ok(event) => event,
            Err(e) => {
                return self
                    .refuse(CozeError::invalid(format!("the event is not JSON: {e}")))
                    .await;
            }
        };
        let data = event.get("data").filter(|d| !d.is_null()).cloned();
        match event.get("event_type").and_then(Value::as_str) {
            Some("speech.update") => self.on_update(data).await,
            Some("input_text_buffer.append") => self.on_append(data).await,
            Some("input_text_buffer.complete") => self.on_complete().await,
            Some(other) => {
                let e = CozeError::invalid(format!("unknown event_type {other}"));
                self.refuse(e).await
            }
            None => {
                self.refuse(CozeError::invalid("event_type is required"))
                    .await
            }
        }
    }

    async fn on_update(&mut self, data: Option<Value>) -> Flow {
        let patch = match data.as_ref().and_then(|d| d.get("output_audio")) {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(patch)) => patch.clone(),
            Some(_) => {
                return self
                    .refuse(CozeError::invalid("output_audio must be an object"))
                    .await;
            }
        };
        match self.output.updated(&self.sim.config, &patch) {
            Ok(next) => {
                self.output = next;
                let data = json!({ "output_audio": self.output.to_json() });
                let sent = self.send_event("speech.updated", Some(data)).await;
                if sent.is_ok() {
                    Flow::Continue
                } else {
                    Flow::Abort
                }
            }
            Err(e) => self.refuse(e).await,
        }
    }

    async fn on_append(&mut self, data: Option<Value>) -> Flow {
        let Some(delta) = data
            .as_ref()
            .and_then(|d| d.get("delta"))
            .and_then(Value::as_str)
        else {
            return self
                .refuse(CozeError::invalid("data.delta must be a string"))
                .await;
        };
        let limit = self.sim.config.max_text_bytes;
        if self.sim.config.coze_text_limit == TextLimitScope::Delta && delta.len() > limit {
            return self.refuse(too_long(3010, delta.len(), limit)).await;
        }
        self.buffer.push_str(delta);
        Flow::Continue
    }

    /// Commits the buffer: acknowledge, then the audio (or an error).
    async fn on_complete(&mut self) -> Flow {
        if self
            .send_event("input_text_buffer.completed", None)
            .await
            .is_err()
        {
            return Flow::Abort;
        }
        let text = std::mem::take(&mut self.buffer);
        let mut pending = Pending::new(Provider::Coze, Transport::Ws, SPEECH_PATH);
        pending.auth_ok = true;
        pending.text = text.clone();
        let (outcome, flow) = self.synthesize(&mut pending, &text).await;
        pending.finish(&self.sim.log, outcome);
        flow
    }

    async fn synthesize(&mut self, pending: &mut Pending, text: &str) -> (Outcome, Flow) {
        let limit = self.sim.config.max_text_bytes;
        if text.len() > limit {
            return self.fail(too_long(3010, text.len(), limit)).await;
        }
        if text.trim().is_empty() {
            return self
                .fail(CozeError::invalid("the input text buffer is empty"))
                .await;
        }
        let token = self.token.clone().unwrap_or_default();
        let Some(slot) = self.sim.slots.try_acquire(&token) else {
            pending.in_flight = self.sim.slots.total();
            return self.fail(CozeError::quota()).await;
        };
        pending.in_flight = slot.in_flight_at_start;
        let fault = self.sim.dice.roll(Provider::Coze);
        tokio::time::sleep(gate::latency(&self.sim.config, text)).await;
        match fault {
            Fault::Code(code) => self.fail(CozeError::injected(code)).await,
            Fault::Drop => (Outcome::Dropped, Flow::Abort),
            Fault::None | Fault::Truncate => {
                let outcome = self.stream_audio(text, fault == Fault::Truncate).await;
                let flow = if outcome == Outcome::Ok {
                    Flow::Continue
                } else {
                    Flow::Abort
                };
                drop(slot);
                (outcome, flow)
            }
        }
    }

    /// `sentence_start`, the audio in chunks, `speech.audio.completed`.
    /// Truncated: half the chunks, then the socket is dropped.
    async fn stream_audio(&mut self, text: &str, truncate: bool) -> Outcome {
        let clip = match self.sim.render(text, self.output.voicing()).await {
            Ok(clip) => clip,
            Err(e) => return self.fail(CozeError::new(5000, e.message)).await.0,
        };
        let pcm = audio::pcm_bytes(&clip.samples);
        let chunk_ms = self
            .output
            .frame_size_ms
            .map_or(self.sim.config.chunk_ms, |ms| ms.round().max(1.0) as u32);
        let chunks: Vec<&[u8]> = pcm
            .chunks(audio::chunk_bytes(clip.sample_rate, chunk_ms))
            .collect();
        let keep = if truncate {
            chunks.len() / 2
        } else {
            chunks.len()
        };
        if self.sim.config.coze_sentence_start {
            let data = json!({ "text": text });
            if self
                .send_event("conversation.audio.sentence_start", Some(data))
                .await
                .is_err()
            {
                return Outcome::ClientGone;
            }
        }
        let delay = Duration::from_millis(self.sim.config.slow_stream_ms);
        for chunk in &chunks[..keep] {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let data = json!({ "delta": BASE64.encode(chunk) });
            if self
                .send_event("speech.audio.update", Some(data))
                .await
                .is_err()
            {
                return Outcome::ClientGone;
            }
        }
        if truncate {
            return Outcome::Truncated;
        }
        if self
            .send_event("speech.audio.completed", None)
            .await
            .is_err()
        {
            return Outcome::ClientGone;
        }
        Outcome::Ok
    }

    /// An `error` event for a synthesis, with its log outcome.
    async fn fail(&mut self, e: CozeError) -> (Outcome, Flow) {
        let code = e.code;
        (Outcome::Code(code), self.refuse(e).await)
    }

    /// An `error` event; the session goes on unless configured to close.
    async fn refuse(&mut self, e: CozeError) -> Flow {
        if !self.send_error(&e).await {
            return Flow::Abort;
        }
        if self.sim.config.coze_ws_close_after_error {
            Flow::Close
        } else {
            Flow::Continue
        }
    }

    async fn send_error(&mut self, e: &CozeError) -> bool {
        let data = json!({ "code": e.code, "msg": e.msg });
        self.send_event("error", Some(data)).await.is_ok()
    }

    async fn send_event(
        &mut self,
        event_type: &str,
        data: Option<Value>,
    ) -> Result<(), axum::Error> {
        let mut event = json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "event_type": event_type,
            "detail": { "logid": self.logid, "respond_at": now_millis().to_string() },
        });
        if let Some(data) = data {
            event["data"] = data;
        }
        self.socket
            .send(Message::Text(event.to_string().into()))
            .await
    }

    async fn close(&mut self) {
        let _ = self.socket.send(Message::Close(None)).await;
    }
}

fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(query: &[(&str, &str)]) -> Value {
        let query = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        list_voices(&SimConfig::default().voices.coze, &query).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn sim_voice_filters_apply() {
        let count = |q: &[(&str, &str)]| page(q)["voice_list"].as_array().map_or(0, Vec::len);
        assert_eq!(count(&[]), 5);
        assert_eq!(count(&[("filter_system_voice", "true")]), 1);
        assert_eq!(count(&[("model_type", "small")]), 2);
        assert_eq!(count(&[("voice_state", "cloned")]), 1);
    }

    #[test]
    fn sim_status_mapping_follows_the_doc() {
        for (code, status) in [
            (4000, 400),
            (4100, 401),
            (4101, 403),
            (4200, 404),
            (4020, 429),
            (4009, 429),
            (5000, 500),
        ] {
            assert_eq!(mapped_status(code).as_u16(), status, "code {code}");
        }
    }
}
