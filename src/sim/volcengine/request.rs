//! What both Volcengine transports check in a request before any audio:
//! the required sections and keys, a fresh `reqid`, the operation, the
//! encoding, the documented rates and ranges, `enable_emotion` with an
//! emotion, the voice, SSML wrapping and the text's language.

use serde_json::{Map, Value};

use super::{VolcError, ssml};
use crate::sim::Sim;
use crate::sim::audio::{self, Format, Voicing};
use crate::sim::config::{OnBreach, SimConfig};
use crate::sim::log::Transport;

/// The rates the v1 API documents.
const SAMPLE_RATES: [u32; 3] = [8000, 16000, 24000];

/// A request that passed validation.
#[derive(Debug, Clone)]
pub(super) struct VolcRequest {
    pub reqid: String,
    pub text: String,
    pub format: Format,
    pub voicing: Voicing,
    /// `audio.rate` as the client asked it (24000 when absent), whatever
    /// the audio is served at.
    pub asked_rate: u32,
    pub with_timestamp: bool,
}

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
    let cluster = required_str(app, "app", "cluster")?;
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
    let (voicing, asked_rate) = parse_voicing(&sim.config, audio_cfg, cluster)?;
    check_emotion(&sim.config, audio_cfg)?;
    check_request_extras(req)?;
    let Some(voice) = sim
        .config
        .voices
        .volcengine
        .iter()
        .find(|v| v.voice_type() == voice_type)
    else {
        return Err(VolcError::new(
            3050,
            format!("voice_type {voice_type} not found"),
        ));
    };
    check_text(text, sim.config.max_text_bytes)?;
    let spoken = spoken_text(req, text)?;
    if audio::is_unspeakable(&spoken) {
        return Err(VolcError::new(3011, "illegal input text!"));
    }
    if sim.config.volc_language_check {
        let explicit = present(audio_cfg, "explicit_language").and_then(Value::as_str);
        check_language(&spoken, voice.language(), explicit)?;
    }
    Ok(VolcRequest {
        reqid: reqid.to_owned(),
        text: spoken,
        format,
        voicing,
        asked_rate,
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

/// The rate, speed and loudness asked for. Rates: 8000, 16000 and 24000
/// are documented; another is refused, or (by switch) answered at 24000.
/// Speed: 0.8–2 documented for the big-model voices, 0.2–3 for clone
/// voices (`volcano_icl*` clusters). With the rate asked.
fn parse_voicing(
    config: &SimConfig,
    audio_cfg: &Map<String, Value>,
    cluster: &str,
) -> Result<(Voicing, u32), VolcError> {
    let rate = number(audio_cfg, "audio.rate", "rate")?.unwrap_or(24000.0);
    let asked = rate as u32;
    let documented = rate.fract() == 0.0 && SAMPLE_RATES.contains(&(rate as u32));
    let rate = match (documented, config.volc_undocumented_rate) {
        (true, _) => rate as u32,
        (false, OnBreach::Ignore) => 24000,
        (false, OnBreach::Refuse) => {
            return Err(VolcError::invalid(format!(
                "invalid request: audio.rate {rate} is not supported; use 8000, 16000 or 24000"
            )));
        }
    };
    let (lo, hi) = if cluster.starts_with("volcano_icl") {
        (0.2, 3.0)
    } else {
        (0.8, 2.0)
    };
    let speed = ranged(audio_cfg, "audio", "speed_ratio", lo, hi)?.unwrap_or(1.0);
    let gain = ranged(audio_cfg, "audio", "loudness_ratio", 0.5, 2.0)?.unwrap_or(1.0);
    ranged(audio_cfg, "audio", "emotion_scale", 1.0, 5.0)?;
    let voicing = Voicing {
        sample_rate: config.served_rate.unwrap_or(rate),
        speed,
        gain,
    };
    Ok((voicing, asked))
}

/// The service applies `emotion` only with `enable_emotion: true`.
fn check_emotion(config: &SimConfig, audio_cfg: &Map<String, Value>) -> Result<(), VolcError> {
    let emotion = present(audio_cfg, "emotion").is_some();
    let enabled = present(audio_cfg, "enable_emotion").and_then(Value::as_bool) == Some(true);
    if emotion && !enabled && config.volc_emotion_without_enable == OnBreach::Refuse {
        return Err(VolcError::invalid(
            "invalid request: audio.emotion needs audio.enable_emotion = true",
        ));
    }
    Ok(())
}

/// The text to speak: `request.text` itself, or with `text_type = "ssml"`
/// the text inside its `<speak>` element, which must be there.
fn spoken_text(req: &Map<String, Value>, text: &str) -> Result<String, VolcError> {
    match present(req, "text_type").and_then(Value::as_str) {
        None | Some("plain") => Ok(text.to_owned()),
        Some("ssml") => ssml::speakable(text)
            .map_err(|why| VolcError::invalid(format!("invalid request: text_type ssml: {why}"))),
        Some(other) => Err(VolcError::invalid(format!(
            "invalid request: unknown text_type {other}"
        ))),
    }
}

/// A voice speaks its own language; other text is `illegal input text!`
/// unless `explicit_language` names the text's language or `crosslingual`.
fn check_language(text: &str, voice: &str, explicit: Option<&str>) -> Result<(), VolcError> {
    let Some(language) = ssml::language_of(text) else {
        return Ok(());
    };
    let allowed = language == voice
        || explicit == Some("crosslingual")
        || explicit.is_some_and(|e| e.split('-').next() == Some(language));
    if allowed {
        Ok(())
    } else {
        Err(VolcError::new(3011, "illegal input text!"))
    }
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
