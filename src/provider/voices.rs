//! What the command line needs to know about voices: the Coze voice list as
//! a table (for `audiobook voices`) and a pre-flight check that a job's voice
//! exists and supports its emotion (for `audiobook validate`). The arguments
//! and the command live in `cli`; this module only returns text.

use std::fmt::Write as _;

use super::coze::{self, Voice};
use super::{ErrorClass, ProviderError, token_from_env};
use crate::job::{Job, ProviderSettings, Transport, ranges};

/// One line per voice, columns aligned; the state last (`init` is a clone
/// still training).
pub fn voice_table(voices: &[Voice]) -> String {
    let header = ["VOICE_ID", "NAME", "MODEL", "LANGUAGE", "EMOTIONS", "STATE"].map(str::to_owned);
    let rows: Vec<[String; 6]> = voices
        .iter()
        .map(|v| {
            [
                v.voice_id.clone(),
                v.name.clone(),
                v.model_type.clone().unwrap_or_default(),
                v.language_code.clone().unwrap_or_default(),
                v.emotions().join(","),
                // `init`: a clone still training, not usable yet.
                v.state.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(widths) {
            let _ = write!(line, "{cell:<width$}  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Checks before a paid run that the job's voice exists, is ready, and
/// takes the requested speed, emotion and emotion scale. Only Coze can be
/// checked; for the others the answer says so. `Ok` carries a line for the
/// user.
pub async fn validate_voice(job: &Job) -> Result<String, ProviderError> {
    let voice_id = &job.voice.voice;
    match &job.voice.settings {
        ProviderSettings::Local => Ok(format!("local voice {voice_id:?} is built in")),
        ProviderSettings::Volcengine(_) => Ok(format!(
            "volcengine has no voice list API; voice_type {voice_id:?} cannot be checked before \
             rendering (an unknown voice fails with code 3050)"
        )),
        ProviderSettings::Coze(config) => {
            let token = token_from_env(&config.token_env)?;
            let voices = coze::list_voices(&config.base_url, &token, false, None, 100).await?;
            let wanted = Wanted {
                voice_id,
                emotion: config.emotion.as_deref(),
                emotion_scale: config.emotion_scale,
                speed: job.voice.speed,
                http: job.voice.transport == Transport::Http,
            };
            check_coze_voice(&voices, &wanted)
        }
    }
}

/// What a job asks of a Coze voice.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    pub voice_id: &'a str,
    pub emotion: Option<&'a str>,
    pub emotion_scale: Option<f32>,
    pub speed: f32,
    /// The speed ranges per model apply to HTTP `speed`; WebSocket's
    /// `speech_rate` is checked by the job file.
    pub http: bool,
}

/// The pure half of [`validate_voice`] for Coze.
pub fn check_coze_voice(voices: &[Voice], wanted: &Wanted) -> Result<String, ProviderError> {
    let voice_id = wanted.voice_id;
    let refuse = |message: String| Err(ProviderError::new(ErrorClass::Permanent, message));
    let Some(voice) = voices.iter().find(|v| v.voice_id == voice_id) else {
        return refuse(format!(
            "voice {voice_id:?} is not in the account's voice list ({} voices); run \
             `audiobook voices` and set [voice] voice to one of them",
            voices.len()
        ));
    };
    let name = &voice.name;
    if voice.state.as_deref() == Some("init") {
        return refuse(format!(
            "voice {voice_id:?} ({name}) is still being cloned (state init); wait until its \
             training finishes, or set [voice] voice to a ready voice"
        ));
    }
    if wanted.http
        && let Some(range) = voice
            .model_type
            .as_deref()
            .and_then(ranges::coze_model_speed)
        && !range.contains(&f64::from(wanted.speed))
    {
        return refuse(format!(
            "voice {voice_id:?} ({name}) is a {}-model voice, which takes speed {:?}..={:?}, \
             not {}; set [voice] speed within it",
            voice.model_type.as_deref().unwrap_or(""),
            range.start(),
            range.end(),
            wanted.speed
        ));
    }
    let emotions = voice.emotions();
    if let Some(emotion) = wanted.emotion {
        let Some(supported) = voice
            .support_emotions
            .iter()
            .flatten()
            .find(|e| e.emotion == emotion)
        else {
            let supported = if emotions.is_empty() {
                "none: it is not a multi-emotion voice".to_owned()
            } else {
                emotions.join(", ")
            };
            return refuse(format!(
                "voice {voice_id:?} ({name}) does not support emotion {emotion:?} (supported: \
                 {supported}); change [voice.coze] emotion or remove it"
            ));
        };
        if let (Some(scale), Some(interval)) =
            (wanted.emotion_scale, &supported.emotion_scale_interval)
        {
            let (min, max) = (interval.min.unwrap_or(1.0), interval.max.unwrap_or(5.0));
            if !(min..=max).contains(&f64::from(scale)) {
                return refuse(format!(
                    "voice {voice_id:?} ({name}) takes emotion_scale {min}..={max} for \
                     {emotion:?}, not {scale}; set [voice.coze] emotion_scale within it"
                ));
            }
        }
    }
    Ok(format!("coze voice {voice_id:?} ({name}) is available"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::coze::SupportedEmotion;

    fn voices() -> Vec<Voice> {
        serde_json::from_value(serde_json::json!([
            {"voice_id": "7426720361733046281", "name": "Cancan", "model_type": "big",
             "language_code": "zh",
             "support_emotions": [{"emotion": "happy", "display_name": "Happy",
                                   "emotion_scale_interval": {"min": 1, "max": 5, "default": 4}}]},
            {"voice_id": "plain", "name": "Plain"}
        ]))
        .expect("voices")
    }

    #[test]
    fn table_is_aligned() {
        let table = voice_table(&voices());
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("VOICE_ID             NAME"), "{table}");
        assert!(
            lines[1].contains("Cancan  big    zh        happy"),
            "{table}"
        );
        assert!(lines[2].starts_with("plain"), "{table}");
    }

    fn wanted<'a>(voice_id: &'a str, emotion: Option<&'a str>) -> Wanted<'a> {
        Wanted {
            voice_id,
            emotion,
            emotion_scale: None,
            speed: 1.0,
            http: true,
        }
    }

    #[test]
    fn voice_and_emotion_checks() {
        let voices = voices();
        let check = |id, emotion| check_coze_voice(&voices, &wanted(id, emotion));
        assert!(check("7426720361733046281", Some("happy")).is_ok());
        assert!(check("plain", None).is_ok());
        let err = check("nope", None).expect_err("unknown");
        assert!(
            err.message.contains("not in the account's voice list"),
            "{err}"
        );
        let err = check("7426720361733046281", Some("sad")).expect_err("sad");
        assert!(err.message.contains("supported: happy"), "{err}");
        let err = check("plain", Some("sad")).expect_err("single");
        assert!(err.message.contains("not a multi-emotion voice"), "{err}");
    }

    /// Regression (issue 11): `validate` accepted a voice still being
    /// cloned, an emotion scale outside the voice's interval, and a speed
    /// outside the voice model's range.
    #[test]
    fn readiness_scale_and_speed_are_checked_per_voice() {
        let mut voices = voices();
        voices[0].support_emotions = Some(vec![SupportedEmotion {
            emotion: "happy".into(),
            display_name: None,
            emotion_scale_interval: Some(coze::ScaleInterval {
                min: Some(1.0),
                max: Some(3.0),
                default: Some(2.0),
            }),
        }]);
        voices[1].state = Some("init".into());
        voices[1].model_type = Some("small".into());
        let big = "7426720361733046281";
        let scaled = |scale| Wanted {
            emotion_scale: Some(scale),
            ..wanted(big, Some("happy"))
        };
        assert!(check_coze_voice(&voices, &scaled(3.0)).is_ok());
        let err = check_coze_voice(&voices, &scaled(4.0)).expect_err("scale");
        assert!(err.message.contains("emotion_scale 1..=3"), "{err}");
        let err = check_coze_voice(&voices, &wanted("plain", None)).expect_err("init");
        assert!(err.message.contains("still being cloned"), "{err}");
        let fast = |speed, http| Wanted {
            speed,
            http,
            ..wanted(big, None)
        };
        let err = check_coze_voice(&voices, &fast(2.5, true)).expect_err("big model");
        assert!(
            err.message
                .contains("big-model voice, which takes speed 0.5..=2.0"),
            "{err}"
        );
        assert!(check_coze_voice(&voices, &fast(2.0, true)).is_ok());
        voices[1].state = Some("cloned".into());
        let slow = Wanted {
            speed: 0.3,
            ..wanted("plain", None)
        };
        assert!(check_coze_voice(&voices, &slow).is_ok(), "small model");
    }
}
