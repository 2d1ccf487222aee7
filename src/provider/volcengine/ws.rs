//! Volcengine over the binary WebSocket: one socket per segment, one
//! request frame with `operation: "submit"`, audio frames until the last.

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use super::frame::{self, ServerFrame};
use super::timings::{frontend_frame_duration, frontend_frame_words};
use super::{ClipMaker, VolcSettings, code_error, new_reqid};
use crate::provider::net::ws_connect;
use crate::provider::{Clip, ErrorClass, ProviderError, SynthRequest, Synthesizer, classify};

const WS_PATH: &str = "/api/v1/tts/ws_binary";

/// Volcengine over the binary WebSocket: one socket per segment.
#[derive(Debug)]
pub struct VolcWs {
    settings: VolcSettings,
    maker: ClipMaker,
}

impl VolcWs {
    pub fn new(settings: VolcSettings) -> Result<Self, ProviderError> {
        crate::provider::install_crypto_provider();
        let maker = ClipMaker::new(&settings)?;
        Ok(VolcWs { settings, maker })
    }

    async fn speak(&self, text: &str) -> Result<Clip, ProviderError> {
        let s = &self.settings;
        s.check_length(text)?;
        let reqid = new_reqid();
        tracing::debug!(request = %reqid, chars = text.chars().count(), "volcengine websocket request");
        let url = format!("{}{WS_PATH}", s.config.ws_url);
        let connected = ws_connect(
            &url,
            &s.authorization(),
            "volcengine",
            &s.token,
            s.config.timeout,
        )
        .await;
        let (mut socket, log_id) = connected.map_err(|e| e.with_request_id(&reqid))?;
        let result = ws_session(&mut socket, s, &self.maker, text, &reqid).await;
        // One utterance per socket; a failed close changes nothing.
        let _ = socket.close(None).await;
        result.map_err(|e| e.with_request_id(&reqid).or_log_id(log_id.as_deref()))
    }
}

impl Synthesizer for VolcWs {
    async fn synthesize(&self, request: &SynthRequest) -> Result<Clip, ProviderError> {
        self.speak(&request.text).await
    }
}

/// Sends the request frame and gathers audio until the last frame.
async fn ws_session<S>(
    socket: &mut S,
    s: &VolcSettings,
    maker: &ClipMaker,
    text: &str,
    reqid: &str,
) -> Result<Clip, ProviderError>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>>
        + futures_util::Sink<Message, Error = tokio_tungstenite::tungstenite::Error>
        + Unpin,
{
    let json = s.request_json(text, reqid, "submit").to_string();
    let request = frame::encode_request(json.as_bytes(), true);
    socket
        .send(Message::binary(request))
        .await
        .map_err(|e| ws_failure(&e, "send"))?;
    let mut audio = Vec::new();
    let mut words = Vec::new();
    let mut duration_ms = None;
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
                    if !s.config.with_timestamp {
                        words.clear();
                    }
                    return maker.clip(&audio, duration_ms, words);
                }
            }
            // Assumed to be times in the whole utterance, should the
            // service ever send several frames with words.
            ServerFrame::Frontend(json) => {
                words.extend(frontend_frame_words(&json));
                duration_ms = frontend_frame_duration(&json).or(duration_ms);
            }
            ServerFrame::Error { code, message } => {
                return Err(code_error(i64::from(code), &message, text, &s.token));
            }
            ServerFrame::Other { message_type } => {
                tracing::debug!(message_type, "volcengine: frame type skipped");
            }
        }
    }
}

fn ws_failure(e: &tokio_tungstenite::tungstenite::Error, what: &str) -> ProviderError {
    ProviderError::new(
        classify::websocket(e),
        format!("volcengine WebSocket {what} failed: {e}"),
    )
}
