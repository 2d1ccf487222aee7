//! Word timings (`with_timestamp`): HTTP carries them in
//! `addition.frontend`, the WebSocket in its 0xC frontend frame(s); both are
//! a JSON string `{"words":[{"word","start_time","end_time"}…]}` in ms,
//! returned in `Clip::words`. Timings that do not parse are logged and left
//! out: the audio is still good.

use serde::Deserialize;
use serde_json::Value;

use crate::provider::WordTiming;

/// One word's timing as `frontend.words` carries it. Numbers, because one
/// sample had floats; ms for big-model voices (other units unconfirmed).
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct FrontendWord {
    word: String,
    start_time: f64,
    end_time: f64,
}

#[derive(Debug, Deserialize)]
struct Frontend {
    #[serde(default)]
    words: Vec<FrontendWord>,
}

/// Word timings from the `frontend` JSON string, in whole ms (negative
/// times become 0, an end before its start becomes the start); `None` when
/// it does not parse.
pub fn parse_frontend(frontend: &str) -> Option<Vec<WordTiming>> {
    let frontend = serde_json::from_str::<Frontend>(frontend).ok()?;
    // `as` saturates (and maps NaN to 0), which is the clamp wanted here.
    let ms = |t: f64| t.round().max(0.0) as u32;
    Some(
        frontend
            .words
            .into_iter()
            .map(|w| {
                let start_ms = ms(w.start_time);
                WordTiming {
                    word: w.word,
                    start_ms,
                    end_ms: ms(w.end_time).max(start_ms),
                }
            })
            .collect(),
    )
}

/// The timings of one frontend string, or none (logged) when it does not parse.
pub(super) fn timings(frontend: &str) -> Vec<WordTiming> {
    match parse_frontend(frontend) {
        Some(words) => {
            tracing::debug!(words = words.len(), "volcengine word timings");
            words
        }
        None => {
            tracing::debug!("volcengine frontend timings did not parse; left out");
            Vec::new()
        }
    }
}

/// The word timings of one 0xC frame: `{"frontend":"<JSON string>"}`.
/// Other 0xC frames (`{"duration":…,"first_pkg":…}`) carry none.
pub fn frontend_frame_words(json: &[u8]) -> Vec<WordTiming> {
    let value: Option<Value> = serde_json::from_slice(json).ok();
    match value
        .as_ref()
        .and_then(|v| v.get("frontend"))
        .and_then(Value::as_str)
    {
        Some(frontend) => timings(frontend),
        None => {
            tracing::debug!("volcengine: frontend frame without words");
            Vec::new()
        }
    }
}

/// The audio duration in ms a 0xC frame may carry
/// (`{"duration":"5424","first_pkg":"344"}`), to check the clip against.
pub fn frontend_frame_duration(json: &[u8]) -> Option<f64> {
    let value: Value = serde_json::from_slice(json).ok()?;
    match value.get("duration")? {
        Value::String(ms) => ms.trim().parse().ok(),
        Value::Number(ms) => ms.as_f64(),
        _ => None,
    }
}
