//! What both Volcengine transports check in a request before any audio:
//! the required sections and keys, a fresh `reqid`, the operation, the
//! encoding, the rates and ranges, the voice and the text.

use serde_json::{Map, Value};

use super::VolcError;
use crate::sim::Sim;
use crate::sim::audio::{self, Format, Voicing};
use crate::sim::log::Transport;

const SAMPLE_RATES: [u32; 7] = [8000, 16000, 22050, 24000, 32000, 44100, 48000];

/// A request that passed validation.
#[derive(Debug, Clone)]
pub(super) struct VolcRequest {
    pub reqid: String,
    pub text: String,
    pub format: Format,
    pub voicing: Voicing,
    pub with_timestamp: bool,
}

// ---------------------------------------------------------------- validation

pub(super) fn parse_request(
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
