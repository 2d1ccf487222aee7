//! Volcengine binary WebSocket: one connection, one request frame, then an
//! ACK, optional frontend frame, numbered audio frames (or an error frame)
//! and a close.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::frames::{ack_frame, audio_frame, json_frame, parse_client_frame};
use super::request::{VolcRequest, parse_request};
use super::{
    AUTH_MESSAGE, VolcError, bearer_token, frontend_json, injected, json_response, quota_error,
    reqid_of,
};
use crate::sim::audio;
use crate::sim::config::{FrameCompression, VolcWsAuth};
use crate::sim::gate::{Admitted, Fault};
use crate::sim::log::{Outcome, Pending, Provider, Transport};
use crate::sim::{Sim, new_logid};

const WS_PATH: &str = "/api/v1/tts/ws_binary";
/// How long a socket may stay silent before its request arrives.
const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------- WebSocket

pub(crate) async fn ws(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let logid = new_logid();
    sim.handshake_delay().await;
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
    pending.set_token(sim, token.as_deref());
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
    pending.asked_rate = Some(request.asked_rate);
    let admitted = sim.admit(Provider::Volcengine, &token, &request.text, pending);
    // The slot is held until the last frame is sent.
    let Some(admitted) = admitted else {
        return send_error(sim, socket, &reqid, &quota_error(&sim.config), frame.gzip).await;
    };
    match admitted.fault {
        Fault::Code(code) => {
            admitted.latency_over().await;
            send_error(sim, socket, &reqid, &injected(code), frame.gzip).await
        }
        Fault::Drop => {
            admitted.latency_over().await;
            Outcome::Dropped
        }
        Fault::None | Fault::Truncate => {
            stream_audio(sim, socket, &request, &admitted, frame.gzip).await
        }
    }
}

/// ACK, optional frontend frame, audio frames `1..n-1` and `-n`, close.
/// With `Truncate`, stops before the last frame and drops the socket.
async fn stream_audio(
    sim: &Sim,
    socket: &mut WebSocket,
    request: &VolcRequest,
    admitted: &Admitted,
    gzip: bool,
) -> Outcome {
    let fault = admitted.fault;
    let clip = match sim.render(&request.text, request.voicing).await {
        Ok(clip) => clip,
        Err(e) => {
            admitted.latency_over().await;
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
        if last && request.with_timestamp {
            // The second frontend frame, with the audio's duration, as seen
            // in captures of timed sessions.
            let duration = audio::duration_ms(&clip).to_string();
            let payload = json!({ "duration": duration, "first_pkg": "100" });
            frames.push(json_frame(
                0xC0,
                None,
                &payload,
                compress_replies(sim, gzip),
            ));
        }
        frames.push(audio_frame(if last { -seq } else { seq }, payload));
    }
    if fault == Fault::Truncate {
        // Keep the ACK and half of the audio, never the last frame.
        frames.truncate((frames.len() / 2).max(1));
    }
    // Made at once; sent when the latency is over.
    admitted.latency_over().await;
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
