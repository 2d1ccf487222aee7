//! Coze HTTP speech: `POST /v1/audio/speech`, validated, answered with raw
//! audio (whole, in slow chunks or cut short) or the JSON envelope.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use serde_json::Value;

use super::{
    CozeError, SPEECH_PATH, bearer_token, check_emotion, error_response, integer, ranged,
    rate_factor, sample_rate, string, too_long, with_logid,
};
use crate::sim::audio::{self, Format, Voicing};
use crate::sim::config::{ModelType, SimConfig};
use crate::sim::gate::{Fault, SlotGuard};
use crate::sim::log::{Outcome, Pending, Provider, Transport};
use crate::sim::{Sim, body, new_logid};

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
    pending.set_token(&sim, token.as_deref());
    let root: Option<Value> = serde_json::from_slice(&body).ok();
    if let Some(input) = root
        .as_ref()
        .and_then(|r| r.get("input"))
        .and_then(Value::as_str)
    {
        pending.text = input.to_owned();
    }
    let account = sim.config.coze_account_code.map(CozeError::account);
    let (outcome, response) = match token.filter(|_| pending.auth_ok) {
        None => error_response(&sim.config, &CozeError::auth(), &logid),
        Some(_) if account.is_some() => {
            let e = account.unwrap_or_else(CozeError::auth);
            error_response(&sim.config, &e, &logid)
        }
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
    let admitted = sim.admit(Provider::Coze, token, &speech.text, pending);
    let Some(admitted) = admitted else {
        return error_response(&sim.config, &CozeError::quota(), logid);
    };
    // Everything is made at once; the answer goes when the latency is over.
    let fault = admitted.fault;
    let made = match fault {
        Fault::Code(code) => Err(error_response(
            &sim.config,
            &CozeError::injected(code),
            logid,
        )),
        Fault::Drop => Err((
            Outcome::Dropped,
            with_logid(Response::new(body::aborted()), logid),
        )),
        Fault::None | Fault::Truncate => render_bytes(sim, &speech)
            .await
            .map_err(|e| error_response(&sim.config, &e, logid)),
    };
    admitted.latency_over().await;
    let slot = admitted.slot;
    let bytes = match made {
        Ok(bytes) => bytes,
        Err(answer) => return answer,
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
    let sample_rate = sample_rate(root, "sample_rate")?.unwrap_or(24000);
    let loudness = integer(root, "loudness_rate", -50, 100)?.unwrap_or(0);
    let voice = config
        .coze_voice(voice_id)
        .ok_or_else(|| CozeError::new(4200, format!("voice_id {voice_id} not found")))?;
    // Big-model voices take 0.5–2, small-model voices 0.2–3.
    let (lo, hi) = match voice.model_type {
        ModelType::Big => (0.5, 2.0),
        ModelType::Small => (0.2, 3.0),
    };
    let speed = ranged(root, "speed", lo, hi)?.unwrap_or(1.0);
    let scale = ranged(root, "emotion_scale", 1.0, 5.0)?;
    if let Some(emotion) = string(root, "emotion")? {
        check_emotion(voice, emotion, scale)?;
    }
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
            sample_rate: config.served_rate.unwrap_or(sample_rate),
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
