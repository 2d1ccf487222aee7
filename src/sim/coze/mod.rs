//! The simulated Coze API (tts-protocols.md sections 0–3): HTTP speech in
//! [`http`], the JSON-event WebSocket in [`ws`] (its `output_audio` state in
//! [`output`]), the paginated voice list in [`voices`]. This file owns what
//! they share: the refusal type with its JSON envelope and status mapping,
//! the bearer token, and the field readers (`null` counts as absent, an int
//! is a valid float).

mod http;
mod output;
mod voices;
mod ws;

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::config::{CozeVoice, ErrorStatus, SimConfig};
use super::log::Outcome;

pub(crate) use http::http;
pub(crate) use voices::voices;
pub(crate) use ws::ws;

const SPEECH_PATH: &str = "/v1/audio/speech";
const SAMPLE_RATES: [u32; 7] = [8000, 16000, 22050, 24000, 32000, 44100, 48000];

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

    /// An account-wide refusal (`coze_account_code`).
    fn account(code: u32) -> Self {
        let msg = match code {
            4008 => "the daily usage limit of this account has been reached",
            4011 => "insufficient balance of Coze tokens",
            4019 => "the Volcano pay-as-you-go account is in arrears",
            4022 => "the model account is in arrears",
            4027 => "the account is overdue",
            4028 => "the free credit has been used up",
            4100 => "authentication is invalid",
            _ => "the token does not have the createSpeech permission",
        };
        CozeError::new(code, msg)
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

/// The emotion must be one the voice lists, and a scale within the
/// voice's interval for it.
fn check_emotion(voice: &CozeVoice, emotion: &str, scale: Option<f64>) -> Result<(), CozeError> {
    let Some(info) = voice
        .support_emotions
        .iter()
        .flatten()
        .find(|e| e.emotion == emotion)
    else {
        return Err(CozeError::invalid(format!(
            "voice {} does not support the emotion {emotion}",
            voice.voice_id
        )));
    };
    let interval = info.emotion_scale_interval;
    match scale {
        Some(scale) if !(interval.min..=interval.max).contains(&scale) => {
            Err(CozeError::invalid(format!(
                "emotion_scale {scale} is out of the voice's range [{}, {}]",
                interval.min, interval.max
            )))
        }
        _ => Ok(()),
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

#[cfg(test)]
mod tests {
    use super::*;

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
