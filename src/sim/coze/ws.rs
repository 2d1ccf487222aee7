//! Coze WebSocket speech: `GET /v1/audio/speech` upgraded to a session of
//! JSON events (`speech.update`, `input_text_buffer.*` in; `speech.*`,
//! audio deltas and `error` out), as seen against the real server.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};

use super::output::OutputAudio;
use super::{CozeError, SPEECH_PATH, bearer_token, error_response, too_long, with_logid};
use crate::sim::audio;
use crate::sim::config::{CozeWsAuth, TextLimitScope};
use crate::sim::gate::{Admitted, Fault};
use crate::sim::log::{Outcome, Pending, Provider, Transport};
use crate::sim::{Sim, new_logid};

/// A silent socket is closed after this long (the real value is UNCONFIRMED).
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------- WebSocket

pub(crate) async fn ws(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let logid = new_logid();
    sim.handshake_delay().await;
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
            sample_rate: sim.config.served_rate.unwrap_or(24000),
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
        pending.set_token(self.sim, self.token.as_deref());
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
        if let Some(code) = self.sim.config.coze_account_code {
            return self.fail(CozeError::account(code)).await;
        }
        let token = self.token.clone().unwrap_or_default();
        let admitted = self.sim.admit(Provider::Coze, &token, text, pending);
        let Some(admitted) = admitted else {
            return self.fail(CozeError::quota()).await;
        };
        let fault = admitted.fault;
        match fault {
            Fault::Code(code) => {
                admitted.latency_over().await;
                self.fail(CozeError::injected(code)).await
            }
            Fault::Drop => {
                admitted.latency_over().await;
                (Outcome::Dropped, Flow::Abort)
            }
            Fault::None | Fault::Truncate => {
                let outcome = self
                    .stream_audio(text, fault == Fault::Truncate, &admitted)
                    .await;
                let flow = if outcome == Outcome::Ok {
                    Flow::Continue
                } else {
                    Flow::Abort
                };
                drop(admitted);
                (outcome, flow)
            }
        }
    }

    /// `sentence_start`, the audio in chunks, `speech.audio.completed`,
    /// the first once the latency is over. Truncated: half the chunks,
    /// then the socket is dropped.
    async fn stream_audio(&mut self, text: &str, truncate: bool, admitted: &Admitted) -> Outcome {
        let clip = self.sim.render(text, self.output.voicing()).await;
        admitted.latency_over().await;
        let clip = match clip {
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
