//! Volcengine openspeech v1: `POST /api/v1/tts` (JSON, base64 audio) and
//! `GET /api/v1/tts/ws_binary` (the binary frame protocol), validated the way
//! the real service is documented to validate (tts-protocols.md 4–6).

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde_json::{Map, Value, json};

use super::audio::{self, Format, Voicing};
use super::config::{ErrorStatus, FrameCompression, VolcWsAuth};
use super::gate::{self, Fault};
use super::log::{Outcome, Pending, Provider, Transport};
use super::{Sim, body, new_logid};

const HTTP_PATH: &str = "/api/v1/tts";
const WS_PATH: &str = "/api/v1/tts/ws_binary";
/// A decompressed request larger than this is refused (gzip bombs).
const MAX_PAYLOAD_BYTES: u64 = 1 << 20;
/// How long a socket may stay silent before its request arrives.
const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(30);
const AUTH_MESSAGE: &str = "authenticate request: load grant: requested grant not found";
const SAMPLE_RATES: [u32; 7] = [8000, 16000, 22050, 24000, 32000, 44100, 48000];

/// A refusal: a code and a message for the client.
#[derive(Debug, Clone, PartialEq)]
struct VolcError {
    code: u32,
    message: String,
}

impl VolcError {
    fn new(code: u32, message: impl Into<String>) -> Self {
        VolcError {
            code,
            message: message.into(),
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        VolcError::new(3001, message)
    }
}

/// A request that passed validation.
#[derive(Debug, Clone)]
struct VolcRequest {
    reqid: String,
    text: String,
    format: Format,
    voicing: Voicing,
    with_timestamp: bool,
}

// ---------------------------------------------------------------- HTTP

pub(crate) async fn http(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let logid = new_logid();
    let mut pending = Pending::new(Provider::Volcengine, Transport::Http, HTTP_PATH);
    let token = bearer_token(&headers);
    pending.auth_ok = token.as_deref().is_some_and(|t| sim.token_ok(t));
    let root: Option<Value> = serde_json::from_slice(&body).ok();
    pending.reqid = root.as_ref().and_then(reqid_of);
    let reqid = pending.reqid.clone().unwrap_or_default();
    let (outcome, response) = match (token, pending.auth_ok) {
        (Some(token), true) => match parse_request(&sim, root.as_ref(), Transport::Http) {
            Ok(request) => {
                pending.text = request.text.clone();
                synthesize_http(&sim, &token, &mut pending, request, &logid).await
            }
            Err(e) => error_answer(&sim, &reqid, &e, false, &logid),
        },
        _ => {
            let e = VolcError::new(sim.config.volc_auth_code, AUTH_MESSAGE);
            error_answer(&sim, &reqid, &e, true, &logid)
        }
    };
    pending.finish(&sim.log, outcome);
    response
}

async fn synthesize_http(
    sim: &Sim,
    token: &str,
    pending: &mut Pending,
    request: VolcRequest,
    logid: &str,
) -> (Outcome, Response) {
    let Some(slot) = sim.slots.try_acquire(token) else {
        pending.in_flight = sim.slots.total();
        return error_answer(sim, &request.reqid, &quota_error(), false, logid);
    };
    pending.in_flight = slot.in_flight_at_start;
    let fault = sim.dice.roll(Provider::Volcengine);
    tokio::time::sleep(gate::latency(&sim.config, &request.text)).await;
    if let Fault::Code(code) = fault {
        return error_answer(sim, &request.reqid, &injected(code), false, logid);
    }
    if fault == Fault::Drop {
        return (
            Outcome::Dropped,
            respond(StatusCode::OK, logid, body::aborted()),
        );
    }
    let clip = match sim.render(&request.text, request.voicing).await {
        Ok(clip) => clip,
        Err(e) => {
            let e = VolcError::new(3031, format!("backend processing error: {}", e.message));
            return error_answer(sim, &request.reqid, &e, false, logid);
        }
    };
    let bytes = match audio::encode(&clip, request.format) {
        Ok(bytes) => bytes,
        Err(e) => {
            return error_answer(
                sim,
                &request.reqid,
                &VolcError::new(3031, e.to_string()),
                false,
                logid,
            );
        }
    };
    let duration = audio::duration_ms(&clip);
    let mut addition = json!({ "duration": duration.to_string() });
    if request.with_timestamp {
        addition["frontend"] = Value::String(frontend_json(&request.text, duration));
    }
    let answer = json!({
        "reqid": request.reqid,
        "code": 3000,
        "operation": "query",
        "message": "Success",
        "sequence": -1,
        "data": BASE64.encode(&bytes),
        "addition": addition,
    });
    let text = answer.to_string().into_bytes();
    if fault == Fault::Truncate {
        // Framing intact, JSON cut in the middle: an invalid body.
        let half = text[..text.len() / 2].to_vec();
        return (
            Outcome::Truncated,
            json_response(StatusCode::OK, logid, half),
        );
    }
    (Outcome::Ok, json_response(StatusCode::OK, logid, text))
}

/// `{"words":[…]}` as the JSON string `addition.frontend` carries.
fn frontend_json(text: &str, duration_ms: u64) -> String {
    json!({ "words": audio::word_timings(text, duration_ms) }).to_string()
}

fn error_answer(
    sim: &Sim,
    reqid: &str,
    e: &VolcError,
    auth: bool,
    logid: &str,
) -> (Outcome, Response) {
    let status = match sim.config.volc_error_status {
        ErrorStatus::Ok => StatusCode::OK,
        ErrorStatus::Mapped if auth => StatusCode::UNAUTHORIZED,
        ErrorStatus::Mapped => mapped_status(e.code),
    };
    let body = json!({
        "reqid": reqid,
        "code": e.code,
        "operation": "query",
        "message": e.message,
        "sequence": 0,
    });
    (
        Outcome::Code(e.code),
        json_response(status, logid, body.to_string().into_bytes()),
    )
}

/// Our choice of status per code (UNCONFIRMED; see `volc_error_status`).
fn mapped_status(code: u32) -> StatusCode {
    match code {
        3001 | 3006 | 3010 | 3011 | 3050 => StatusCode::BAD_REQUEST,
        3003 => StatusCode::TOO_MANY_REQUESTS,
        3005 => StatusCode::SERVICE_UNAVAILABLE,
        3030 | 3032 => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn json_response(status: StatusCode, logid: &str, body: Vec<u8>) -> Response {
    let mut response = respond(status, logid, Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn respond(status: StatusCode, logid: &str, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(logid) {
        response.headers_mut().insert("x-tt-logid", value);
    }
    response
}

fn quota_error() -> VolcError {
    VolcError::new(3003, "quota exceeded for types: concurrency")
}

/// The message an injected code comes with.
fn injected(code: u32) -> VolcError {
    let message = match code {
        3001 => "invalid request",
        3003 => "quota exceeded for types: concurrency",
        3005 => "backend busy",
        3030 => "processing timeout",
        3031 => "backend processing error",
        3032 => "timed out waiting for audio",
        3040 => "backend link error",
        _ => "simulated error",
    };
    VolcError::new(code, message)
}

/// The token from `Authorization: Bearer;<token>` (spaces around `;` allowed).
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(';')?;
    let token = token.trim();
    (scheme.trim() == "Bearer" && !token.is_empty()).then(|| token.to_owned())
}

fn reqid_of(root: &Value) -> Option<String> {
    root.get("request")?
        .get("reqid")?
        .as_str()
        .map(str::to_owned)
}

// ---------------------------------------------------------------- validation

fn parse_request(
    sim: &Sim,
    root: Option<&Value>,
    transport: Transport,
) -> Result<VolcRequest, VolcError> {
    let root = root.ok_or_else(|| VolcError::invalid("invalid request: body is not JSON"))?;
    let app = section(root, "app")?;
    let user = section(root, "user")?;
    let audio_cfg = section(root, "audio")?;
    let req = section(root, "request")?;
    for (obj, name, key) in [
        (app, "app", "appid"),
        (app, "app", "cluster"),
        (app, "app", "token"),
        (user, "user", "uid"),
    ] {
        required_str(obj, name, key)?;
    }
    let voice_type = required_str(audio_cfg, "audio", "voice_type")?;
    let reqid = required_str(req, "request", "reqid")?;
    let text = req
        .get("text")
        .and_then(Value::as_str)
        .ok_or_else(|| VolcError::invalid("invalid request: request.text is required"))?;
    let operation = required_str(req, "request", "operation")?;
    if !sim.claim_reqid(reqid) {
        return Err(VolcError::new(
            3006,
            format!("reqid {reqid} has already been used"),
        ));
    }
    check_operation(operation, transport)?;
    let format = parse_encoding(audio_cfg, transport)?;
    let voicing = parse_voicing(audio_cfg)?;
    check_request_extras(req)?;
    if !sim.config.voices.volcengine.iter().any(|v| v == voice_type) {
        return Err(VolcError::new(
            3050,
            format!("voice_type {voice_type} not found"),
        ));
    }
    check_text(text, sim.config.max_text_bytes)?;
    Ok(VolcRequest {
        reqid: reqid.to_owned(),
        text: text.to_owned(),
        format,
        voicing,
        with_timestamp: flag(req.get("with_timestamp")),
    })
}

fn section<'a>(root: &'a Value, name: &str) -> Result<&'a Map<String, Value>, VolcError> {
    root.get(name)
        .and_then(Value::as_object)
        .ok_or_else(|| VolcError::invalid(format!("invalid request: {name} is required")))
}

fn required_str<'a>(
    obj: &'a Map<String, Value>,
    section: &str,
    key: &str,
) -> Result<&'a str, VolcError> {
    obj.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| VolcError::invalid(format!("invalid request: {section}.{key} is required")))
}

fn check_operation(operation: &str, transport: Transport) -> Result<(), VolcError> {
    let ok = match transport {
        Transport::Http => operation == "query",
        Transport::Ws => matches!(operation, "submit" | "query"),
    };
    if ok {
        Ok(())
    } else {
        Err(VolcError::invalid(format!(
            "invalid request: unsupported operation {operation}"
        )))
    }
}

fn parse_encoding(
    audio_cfg: &Map<String, Value>,
    transport: Transport,
) -> Result<Format, VolcError> {
    let encoding = match present(audio_cfg, "encoding") {
        None => "pcm",
        Some(v) => v.as_str().ok_or_else(|| {
            VolcError::invalid("invalid request: audio.encoding must be a string")
        })?,
    };
    match (encoding, transport) {
        ("pcm", _) => Ok(Format::Pcm),
        ("wav", Transport::Http) => Ok(Format::Wav),
        ("wav", Transport::Ws) => Err(VolcError::invalid(
            "invalid request: wav cannot stream; use pcm",
        )),
        ("mp3" | "ogg_opus", _) => Err(VolcError::invalid(format!(
            "invalid request: encoding {encoding} is not supported by the simulator; use pcm or wav"
        ))),
        _ => Err(VolcError::invalid(format!(
            "invalid request: unknown encoding {encoding}"
        ))),
    }
}

fn parse_voicing(audio_cfg: &Map<String, Value>) -> Result<Voicing, VolcError> {
    let rate = number(audio_cfg, "audio.rate", "rate")?.unwrap_or(24000.0);
    if rate.fract() != 0.0 || !SAMPLE_RATES.contains(&(rate as u32)) {
        return Err(VolcError::invalid(format!(
            "invalid request: audio.rate {rate} is not supported"
        )));
    }
    let speed = ranged(audio_cfg, "audio", "speed_ratio", 0.2, 3.0)?.unwrap_or(1.0);
    let gain = ranged(audio_cfg, "audio", "loudness_ratio", 0.5, 2.0)?.unwrap_or(1.0);
    ranged(audio_cfg, "audio", "emotion_scale", 1.0, 5.0)?;
    Ok(Voicing {
        sample_rate: rate as u32,
        speed,
        gain,
    })
}

fn check_request_extras(req: &Map<String, Value>) -> Result<(), VolcError> {
    ranged(req, "request", "silence_duration", 0.0, 30000.0)?;
    if let Some(extra) = present(req, "extra_param") {
        let parsed = extra.as_str().map(serde_json::from_str::<Value>);
        if !matches!(parsed, Some(Ok(Value::Object(_)))) {
            return Err(VolcError::invalid(
                "invalid request: request.extra_param must be a JSON-encoded string of an object",
            ));
        }
    }
    Ok(())
}

fn check_text(text: &str, max_bytes: usize) -> Result<(), VolcError> {
    if text.len() > max_bytes {
        return Err(VolcError::new(
            3010,
            format!(
                "text too long: {} bytes, the limit is {max_bytes}",
                text.len()
            ),
        ));
    }
    if audio::is_unspeakable(text) {
        return Err(VolcError::new(3011, "illegal input text!"));
    }
    Ok(())
}

/// A field that is there and not `null`.
fn present<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn number(obj: &Map<String, Value>, path: &str, key: &str) -> Result<Option<f64>, VolcError> {
    match present(obj, key) {
        None => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| VolcError::invalid(format!("invalid request: {path} must be a number"))),
    }
}

fn ranged(
    obj: &Map<String, Value>,
    section: &str,
    key: &str,
    lo: f64,
    hi: f64,
) -> Result<Option<f64>, VolcError> {
    let path = format!("{section}.{key}");
    let value = number(obj, &path, key)?;
    match value {
        Some(v) if !(lo..=hi).contains(&v) => Err(VolcError::invalid(format!(
            "invalid request: {path} {v} is out of range [{lo}, {hi}]"
        ))),
        _ => Ok(value),
    }
}

/// `with_timestamp`: `1`, `"1"` or `true`.
fn flag(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0),
        Some(Value::String(s)) => matches!(s.as_str(), "1" | "true"),
        _ => false,
    }
}

// ---------------------------------------------------------------- WebSocket

pub(crate) async fn ws(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let logid = new_logid();
    let token = bearer_token(&headers);
    let auth_ok = token.as_deref().is_some_and(|t| sim.token_ok(t));
    if !auth_ok && sim.config.volc_ws_auth == VolcWsAuth::Handshake {
        let pending = Pending::new(Provider::Volcengine, Transport::Ws, WS_PATH);
        pending.finish(&sim.log, Outcome::Code(sim.config.volc_auth_code));
        let body = json!({ "code": sim.config.volc_auth_code, "message": AUTH_MESSAGE });
        return json_response(
            StatusCode::UNAUTHORIZED,
            &logid,
            body.to_string().into_bytes(),
        );
    }
    let mut response = upgrade.on_upgrade(move |socket| async move {
        let stop = sim.stop.clone();
        tokio::select! {
            () = stop.cancelled() => {}
            () = session(&sim, socket, token.filter(|_| auth_ok)) => {}
        }
    });
    if let Ok(value) = HeaderValue::from_str(&logid) {
        response.headers_mut().insert("x-tt-logid", value);
    }
    response
}

/// One connection: one request, its answer, then close.
async fn session(sim: &Sim, mut socket: WebSocket, token: Option<String>) {
    let Some(message) = first_message(&mut socket).await else {
        return;
    };
    let mut pending = Pending::new(Provider::Volcengine, Transport::Ws, WS_PATH);
    pending.auth_ok = token.is_some();
    let outcome = serve_request(sim, &mut socket, &mut pending, token, &message).await;
    pending.finish(&sim.log, outcome);
}

/// The first data message, skipping pings; `None` if the client left first.
async fn first_message(socket: &mut WebSocket) -> Option<Message> {
    loop {
        let next = tokio::time::timeout(FIRST_FRAME_TIMEOUT, socket.recv()).await;
        match next {
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(Some(Ok(Message::Close(_)))) | Ok(Some(Err(_))) | Ok(None) | Err(_) => return None,
            Ok(Some(Ok(message))) => return Some(message),
        }
    }
}

async fn serve_request(
    sim: &Sim,
    socket: &mut WebSocket,
    pending: &mut Pending,
    token: Option<String>,
    message: &Message,
) -> Outcome {
    let frame = match message {
        Message::Binary(bytes) => parse_client_frame(bytes),
        _ => Err(VolcError::invalid(
            "invalid request: expected a binary full client request frame",
        )),
    };
    let frame = match frame {
        Ok(frame) => frame,
        Err(e) => return send_error(sim, socket, "", &e, false).await,
    };
    let root: Option<Value> = serde_json::from_slice(&frame.payload).ok();
    pending.reqid = root.as_ref().and_then(reqid_of);
    let reqid = pending.reqid.clone().unwrap_or_default();
    let Some(token) = token else {
        let e = VolcError::new(sim.config.volc_auth_code, AUTH_MESSAGE);
        return send_error(sim, socket, &reqid, &e, frame.gzip).await;
    };
    let request = match parse_request(sim, root.as_ref(), Transport::Ws) {
        Ok(request) => request,
        Err(e) => return send_error(sim, socket, &reqid, &e, frame.gzip).await,
    };
    pending.text = request.text.clone();
    let Some(slot) = sim.slots.try_acquire(&token) else {
        pending.in_flight = sim.slots.total();
        return send_error(sim, socket, &reqid, &quota_error(), frame.gzip).await;
    };
    pending.in_flight = slot.in_flight_at_start;
    let fault = sim.dice.roll(Provider::Volcengine);
    tokio::time::sleep(gate::latency(&sim.config, &request.text)).await;
    match fault {
        Fault::Code(code) => send_error(sim, socket, &reqid, &injected(code), frame.gzip).await,
        Fault::Drop => Outcome::Dropped,
        Fault::None | Fault::Truncate => {
            stream_audio(sim, socket, &request, fault, frame.gzip).await
        }
    }
}

/// ACK, optional frontend frame, audio frames `1..n-1` and `-n`, close.
/// With `Truncate`, stops before the last frame and drops the socket.
async fn stream_audio(
    sim: &Sim,
    socket: &mut WebSocket,
    request: &VolcRequest,
    fault: Fault,
    gzip: bool,
) -> Outcome {
    let clip = match sim.render(&request.text, request.voicing).await {
        Ok(clip) => clip,
        Err(e) => {
            let e = VolcError::new(3031, format!("backend processing error: {}", e.message));
            return send_error(sim, socket, &request.reqid, &e, gzip).await;
        }
    };
    let pcm = audio::pcm_bytes(&clip.samples);
    let mut frames = vec![ack_frame(sim.config.volc_ack_bytes)];
    if request.with_timestamp {
        let payload =
            json!({ "frontend": frontend_json(&request.text, audio::duration_ms(&clip)) });
        frames.push(json_frame(
            0xC0,
            None,
            &payload,
            compress_replies(sim, gzip),
        ));
    }
    let chunks: Vec<&[u8]> = pcm
        .chunks(audio::chunk_bytes(clip.sample_rate, sim.config.chunk_ms))
        .collect();
    let n = chunks.len().max(1);
    for i in 0..n {
        let seq = i32::try_from(i + 1).unwrap_or(i32::MAX);
        let last = i + 1 == n;
        let payload = chunks.get(i).copied().unwrap_or_default();
        frames.push(audio_frame(if last { -seq } else { seq }, payload));
    }
    if fault == Fault::Truncate {
        // Keep the ACK and half of the audio, never the last frame.
        frames.truncate((frames.len() / 2).max(1));
    }
    let delay = Duration::from_millis(sim.config.slow_stream_ms);
    for (i, frame) in frames.into_iter().enumerate() {
        if i > 0 && !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if socket.send(Message::Binary(frame.into())).await.is_err() {
            return Outcome::ClientGone;
        }
    }
    if fault == Fault::Truncate {
        return Outcome::Truncated;
    }
    let _ = socket.send(Message::Close(None)).await;
    Outcome::Ok
}

async fn send_error(
    sim: &Sim,
    socket: &mut WebSocket,
    reqid: &str,
    e: &VolcError,
    gzip: bool,
) -> Outcome {
    let message =
        json!({ "reqid": reqid, "code": e.code, "message": e.message, "backend_code": 0 });
    let frame = json_frame(0xF0, Some(e.code), &message, compress_replies(sim, gzip));
    let _ = socket.send(Message::Binary(frame.into())).await;
    let _ = socket.send(Message::Close(None)).await;
    Outcome::Code(e.code)
}

fn compress_replies(sim: &Sim, request_gzip: bool) -> bool {
    match sim.config.volc_error_compression {
        FrameCompression::Mirror => request_gzip,
        FrameCompression::Gzip => true,
        FrameCompression::None => false,
    }
}

// ---------------------------------------------------------------- frames

/// The payload of a full client request, decompressed.
#[derive(Debug)]
struct ClientFrame {
    gzip: bool,
    payload: Vec<u8>,
}

/// Parses `ver|hsize, type|flags, ser|comp, reserved, [ext…], u32 size, payload`.
fn parse_client_frame(bytes: &[u8]) -> Result<ClientFrame, VolcError> {
    let bad = |why: &str| VolcError::invalid(format!("invalid request frame: {why}"));
    if bytes.len() < 4 {
        return Err(bad("shorter than its 4-byte header"));
    }
    if bytes[0] >> 4 != 0b0001 {
        return Err(bad("unknown protocol version"));
    }
    let header_len = usize::from(bytes[0] & 0x0F) * 4;
    if header_len < 4 {
        return Err(bad("header size below 4 bytes"));
    }
    if bytes[1] >> 4 != 0x1 {
        return Err(bad("expected a full client request (message type 0x1)"));
    }
    let compression = bytes[2] & 0x0F;
    if !matches!(compression, 0 | 1) {
        return Err(bad("unsupported compression"));
    }
    let rest = bytes
        .get(header_len..)
        .ok_or_else(|| bad("shorter than its header size"))?;
    let (size, payload) = rest
        .split_first_chunk::<4>()
        .ok_or_else(|| bad("missing the payload size"))?;
    if u32::from_be_bytes(*size) as usize != payload.len() {
        return Err(bad("payload size does not match the frame"));
    }
    let gzip = compression == 1;
    let payload = if gzip {
        gunzip(payload).map_err(|e| bad(&format!("cannot gunzip the payload: {e}")))?
    } else {
        payload.to_vec()
    };
    Ok(ClientFrame { gzip, payload })
}

fn ack_frame(len: u8) -> Vec<u8> {
    let mut frame = vec![0x11, 0xB0, 0x00, 0x00];
    if len == 8 {
        frame.extend_from_slice(&0u32.to_be_bytes());
    }
    frame
}

/// Audio-only response: flags 0b0001 with a positive sequence, 0b0011 for
/// the last frame (negative sequence).
fn audio_frame(seq: i32, payload: &[u8]) -> Vec<u8> {
    let flags = if seq < 0 { 0b0011 } else { 0b0001 };
    let mut frame = vec![0x11, 0xB0 | flags, 0x00, 0x00];
    frame.extend_from_slice(&seq.to_be_bytes());
    frame.extend_from_slice(&payload_len(payload).to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// An error (0xF0, with `code`) or frontend (0xC0) frame carrying JSON.
fn json_frame(type_byte: u8, code: Option<u32>, message: &Value, gzip: bool) -> Vec<u8> {
    let raw = message.to_string().into_bytes();
    let payload = if gzip { gzip_bytes(&raw) } else { raw };
    let mut frame = vec![0x11, type_byte, 0x10 | u8::from(gzip), 0x00];
    if let Some(code) = code {
        frame.extend_from_slice(&code.to_be_bytes());
    }
    frame.extend_from_slice(&payload_len(&payload).to_be_bytes());
    frame.extend_from_slice(&payload);
    frame
}

fn payload_len(payload: &[u8]) -> u32 {
    u32::try_from(payload.len()).unwrap_or(u32::MAX)
}

fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

fn gunzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    GzDecoder::new(data)
        .take(MAX_PAYLOAD_BYTES + 1)
        .read_to_end(&mut out)?;
    if out.len() as u64 > MAX_PAYLOAD_BYTES {
        return Err(std::io::Error::other("payload over 1 MiB"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_frames_have_the_documented_bytes() {
        assert_eq!(ack_frame(8), [0x11, 0xB0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(ack_frame(4), [0x11, 0xB0, 0, 0]);
        assert_eq!(
            &audio_frame(-5, &[1, 2])[..12],
            [0x11, 0xB3, 0, 0, 0xFF, 0xFF, 0xFF, 0xFB, 0, 0, 0, 2]
        );
        assert_eq!(&audio_frame(1, &[])[..4], [0x11, 0xB1, 0, 0]);
        let error = json_frame(0xF0, Some(3050), &json!({}), false);
        assert_eq!(
            &error[..12],
            [0x11, 0xF0, 0x10, 0, 0, 0, 0x0B, 0xEA, 0, 0, 0, 2]
        );
    }

    #[test]
    fn sim_client_frames_parse_plain_gzip_and_extended_headers() {
        let body = br#"{"a":1}"#;
        let mut plain = vec![0x11, 0x10, 0x10, 0x00];
        plain.extend_from_slice(&(body.len() as u32).to_be_bytes());
        plain.extend_from_slice(body);
        assert_eq!(
            parse_client_frame(&plain).map(|f| f.payload),
            Ok(body.to_vec())
        );

        let zipped = gzip_bytes(body);
        let mut gz = vec![0x12, 0x10, 0x11, 0x00, 0xAA, 0xBB, 0xCC, 0xDD];
        gz.extend_from_slice(&(zipped.len() as u32).to_be_bytes());
        gz.extend_from_slice(&zipped);
        let parsed = parse_client_frame(&gz).map(|f| (f.gzip, f.payload));
        assert_eq!(parsed, Ok((true, body.to_vec())));

        let mut wrong = plain.clone();
        wrong[7] += 1;
        assert!(parse_client_frame(&wrong).is_err());
        assert!(parse_client_frame(&[0x1F, 0x10]).is_err());
        assert!(parse_client_frame(&[0x1F, 0x10, 0x10, 0x00, 0, 0]).is_err());
    }
}
