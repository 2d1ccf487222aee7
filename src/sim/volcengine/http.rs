//! Volcengine HTTP: `POST /api/v1/tts` answered with the JSON reply
//! (base64 audio, `addition.duration`, optional timings) or an error body.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::request::{VolcRequest, parse_request};
use super::{
    AUTH_MESSAGE, VolcError, bearer_token, frontend_json, injected, json_response, quota_error,
    reqid_of, respond,
};
use crate::sim::audio;
use crate::sim::config::ErrorStatus;
use crate::sim::gate::Fault;
use crate::sim::log::{Outcome, Pending, Provider, Transport};
use crate::sim::{Sim, body, new_logid};

const HTTP_PATH: &str = "/api/v1/tts";

// ---------------------------------------------------------------- HTTP

pub(crate) async fn http(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    let logid = new_logid();
    let mut pending = Pending::new(Provider::Volcengine, Transport::Http, HTTP_PATH);
    let token = bearer_token(&headers);
    pending.set_token(&sim, token.as_deref());
    let root: Option<Value> = serde_json::from_slice(&body).ok();
    pending.reqid = root.as_ref().and_then(reqid_of);
    let reqid = pending.reqid.clone().unwrap_or_default();
    let (outcome, response) = match (token, pending.auth_ok) {
        (Some(token), true) => match parse_request(&sim, root.as_ref(), Transport::Http) {
            Ok(request) => {
                pending.text = request.text.clone();
                pending.asked_rate = Some(request.asked_rate);
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
    let admitted = sim.admit(Provider::Volcengine, token, &request.text, pending);
    // The slot is held until the answer is sent.
    let Some(admitted) = admitted else {
        return error_answer(sim, &request.reqid, &quota_error(&sim.config), false, logid);
    };
    let answer = answer_http(sim, &request, admitted.fault, logid).await;
    admitted.latency_over().await;
    answer
}

/// The answer to an admitted request, made at once (the caller sends it
/// when the latency is over).
async fn answer_http(
    sim: &Sim,
    request: &VolcRequest,
    fault: Fault,
    logid: &str,
) -> (Outcome, Response) {
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
