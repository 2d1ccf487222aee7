//! The simulated Volcengine openspeech v1 API (tts-protocols.md 4–6): HTTP
//! (`POST /api/v1/tts`, JSON with base64 audio) in [`http`], the binary
//! WebSocket (`GET /api/v1/tts/ws_binary`) in [`ws`] with its frames in
//! [`frames`], and the request validation both share in [`request`],
//! checked the way the real service is documented to check. This file owns
//! the refusal type, the bearer token and the JSON responses.

mod frames;
mod http;
mod request;
mod ssml;
mod ws;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::audio;
use super::config::SimConfig;

pub(crate) use http::http;
pub(crate) use ws::ws;

const AUTH_MESSAGE: &str = "authenticate request: load grant: requested grant not found";

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

/// `{"words":[…]}` as the JSON string `addition.frontend` carries.
fn frontend_json(text: &str, duration_ms: u64) -> String {
    json!({ "words": audio::word_timings(text, duration_ms) }).to_string()
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

fn quota_error(config: &SimConfig) -> VolcError {
    VolcError::new(
        config.volc_quota_code,
        "quota exceeded for types: concurrency",
    )
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
