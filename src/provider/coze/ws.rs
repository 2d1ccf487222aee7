//! Coze over WebSocket: one socket per segment, `speech.created`, then
//! `speech.update`, the text and `input_text_buffer.complete`, and audio
//! events until `speech.audio.completed`.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::{CozeSettings, Detail, SPEECH_PATH, client_event, new_request_id};
use crate::provider::decode;
use crate::provider::net::{Socket, ws_connect};
use crate::provider::{
    Clip, ErrorClass, ProviderError, Secret, SynthRequest, Synthesizer, classify,
    install_crypto_provider,
};

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
        let request_id = new_request_id();
        tracing::debug!(request = %request_id, chars = text.chars().count(), "coze websocket request");
        let url = format!("{}{SPEECH_PATH}", s.config.ws_url);
        let connected = ws_connect(&url, &s.bearer(), "coze", &s.token, s.config.timeout).await;
        let (mut socket, log_id) = connected.map_err(|e| e.with_request_id(&request_id))?;
        let result = ws_session(&mut socket, s, text, &request_id).await;
        // One utterance per socket; a failed close changes nothing.
        let _ = socket.close(None).await;
        result.map_err(|e| e.with_request_id(&request_id).or_log_id(log_id.as_deref()))
    }
}

impl Synthesizer for CozeWs {
    async fn synthesize(&self, request: &SynthRequest) -> Result<Clip, ProviderError> {
        self.speak(&request.text).await
    }
}

/// Waits for `speech.created`, sends the configuration and the text, then
/// collects audio until `speech.audio.completed`. The rate `speech.updated`
/// reports is the rate the audio comes at: another than asked is an error
/// naming both durations.
async fn ws_session(
    socket: &mut Socket,
    s: &CozeSettings,
    text: &str,
    request_id: &str,
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
    let mut append = client_event("input_text_buffer.append", Some(json!({ "delta": text })));
    append["id"] = Value::from(request_id);
    let events = [
        s.speech_update(),
        append,
        client_event("input_text_buffer.complete", None),
    ];
    for event in events {
        send_json(socket, &event).await?;
    }
    let mut pcm = Vec::new();
    let mut served_rate = None;
    loop {
        let event = next_event(socket, timeout, &mut log_id).await?;
        match event.event_type.as_str() {
            "speech.audio.update" => pcm.extend(audio_delta(&event)?),
            "speech.audio.completed" => break,
            "speech.updated" => served_rate = updated_rate(&event),
            "error" => return Err(event_error(&event, log_id, &s.token)),
            // input_text_buffer.completed, sentence_start, …
            other => tracing::debug!(event = other, "coze: event ignored"),
        }
    }
    let clip = decode::pcm(&pcm, s.sample_rate).map_err(|e| e.with_log_id(log_id.clone()))?;
    if let Some(rate) = served_rate.filter(|&r| r != s.sample_rate) {
        let served_ms = clip.samples.len() as f64 * 1000.0 / f64::from(rate.max(1));
        let source = format!("speech.updated says the audio is at {rate} Hz, so it lasts");
        decode::check_duration(&clip, served_ms, 0.0, &source)
            .map_err(|e| e.with_log_id(log_id))?;
    }
    Ok(clip)
}

/// `output_audio.pcm_config.sample_rate` of a `speech.updated` event.
fn updated_rate(event: &ServerEvent) -> Option<u32> {
    let rate = event
        .data
        .as_ref()?
        .get("output_audio")?
        .get("pcm_config")?
        .get("sample_rate")?
        .as_u64()?;
    u32::try_from(rate).ok()
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
    let msg = token.redact(msg);
    match code {
        Some(code) => {
            classify::refusal("coze", code, &msg, classify::coze(code, &msg)).with_log_id(log_id)
        }
        None => ProviderError::new(
            ErrorClass::Permanent,
            format!("coze refused the request: {msg}"),
        )
        .with_log_id(log_id),
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
