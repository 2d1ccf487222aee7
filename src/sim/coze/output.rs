//! The effective `output_audio` of a Coze WebSocket session: what
//! `speech.update` may change, how each field is checked, and what
//! `speech.updated` reports back.

use serde_json::{Map, Value, json};

use super::{CozeError, check_emotion, integer, present, ranged, rate_factor, sample_rate, string};
use crate::sim::audio::Voicing;
use crate::sim::config::SimConfig;

/// The effective `output_audio` of a session.
#[derive(Debug, Clone)]
pub(super) struct OutputAudio {
    pub sample_rate: u32,
    pub frame_size_ms: Option<f64>,
    pub speech_rate: i64,
    pub loudness_rate: i64,
    pub voice_id: String,
    pub emotion: Option<(String, f64)>,
    pub context_texts: Option<String>,
}

impl OutputAudio {
    pub fn to_json(&self) -> Value {
        let mut pcm_config = json!({ "sample_rate": self.sample_rate });
        if let Some(ms) = self.frame_size_ms {
            pcm_config["frame_size_ms"] = json!(ms);
        }
        let mut out = json!({
            "codec": "pcm",
            "pcm_config": pcm_config,
            "speech_rate": self.speech_rate,
            "loudness_rate": self.loudness_rate,
            "voice_id": self.voice_id,
        });
        if let Some((emotion, scale)) = &self.emotion {
            out["emotion_config"] = json!({ "emotion": emotion, "emotion_scale": scale });
        }
        if let Some(context) = &self.context_texts {
            out["context_texts"] = json!(context);
        }
        out
    }

    pub fn voicing(&self) -> Voicing {
        Voicing {
            sample_rate: self.sample_rate,
            speed: rate_factor(self.speech_rate),
            gain: rate_factor(self.loudness_rate),
        }
    }

    /// A copy with the client's fields applied, or why they are refused.
    pub fn updated(
        &self,
        config: &SimConfig,
        patch: &Map<String, Value>,
    ) -> Result<OutputAudio, CozeError> {
        let mut next = self.clone();
        if let Some(codec) = string(patch, "codec")?
            && codec != "pcm"
        {
            return Err(CozeError::invalid(format!(
                "codec {codec} is not supported by the simulator; use pcm"
            )));
        }
        if let Some(pcm) = present(patch, "pcm_config") {
            let pcm = pcm
                .as_object()
                .ok_or_else(|| CozeError::invalid("pcm_config must be an object"))?;
            if let Some(rate) = sample_rate(pcm, "sample_rate")? {
                // A service that ignores the rate says so in speech.updated.
                next.sample_rate = config.served_rate.unwrap_or(rate);
            }
            if let Some(ms) = ranged(pcm, "frame_size_ms", 1.0, 10_000.0)? {
                next.frame_size_ms = Some(ms);
            }
        }
        if let Some(rate) = integer(patch, "speech_rate", -50, 100)? {
            next.speech_rate = rate;
        }
        if let Some(rate) = integer(patch, "loudness_rate", -50, 100)? {
            next.loudness_rate = rate;
        }
        if let Some(id) = string(patch, "voice_id")? {
            config
                .coze_voice(id)
                .ok_or_else(|| CozeError::new(4200, format!("voice_id {id} not found")))?;
            next.voice_id = id.to_owned();
        }
        if let Some(context) = string(patch, "context_texts")? {
            next.context_texts = Some(context.to_owned());
        }
        if let Some(emotion) = present(patch, "emotion_config") {
            next.emotion = Some(parse_emotion(config, &next.voice_id, emotion)?);
        }
        Ok(next)
    }
}

fn parse_emotion(
    config: &SimConfig,
    voice_id: &str,
    value: &Value,
) -> Result<(String, f64), CozeError> {
    let obj = value
        .as_object()
        .ok_or_else(|| CozeError::invalid("emotion_config must be an object"))?;
    let emotion = string(obj, "emotion")?
        .ok_or_else(|| CozeError::invalid("emotion_config.emotion is required"))?;
    let scale = ranged(obj, "emotion_scale", 1.0, 5.0)?;
    let voice = config
        .coze_voice(voice_id)
        .ok_or_else(|| CozeError::new(4200, format!("voice_id {voice_id} not found")))?;
    check_emotion(voice, emotion, scale)?;
    Ok((emotion.to_owned(), scale.unwrap_or(4.0)))
}
