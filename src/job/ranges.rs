//! The documented parameter ranges of each provider, in one place: the job
//! validation, the pre-flight voice check (`validate`) and the README table
//! all follow these (tts-protocols.md sections 1–4).

use std::ops::RangeInclusive;

use super::{ProviderKind, Transport};

/// The embedded engine's speed factor.
pub const LOCAL_SPEED: RangeInclusive<f64> = 0.5..=2.0;
/// Coze HTTP `speed`: big-model voices take 0.5–2, small-model voices 0.2–3.
/// The job accepts the union; `validate` checks the voice's own range.
pub const COZE_SPEED_BIG: RangeInclusive<f64> = 0.5..=2.0;
pub const COZE_SPEED_SMALL: RangeInclusive<f64> = 0.2..=3.0;
/// Coze WebSocket `speech_rate` is −50..100, which is 0.5×–2×.
pub const COZE_WS_SPEED: RangeInclusive<f64> = 0.5..=2.0;
/// Volcengine `speed_ratio`: 0.8–2 for the big-model voices (cluster
/// `volcano_tts`), 0.2–3 for clone voices (`volcano_icl*` clusters).
pub const VOLCENGINE_SPEED: RangeInclusive<f64> = 0.8..=2.0;
pub const VOLCENGINE_CLONE_SPEED: RangeInclusive<f64> = 0.2..=3.0;
pub const EMOTION_SCALE: RangeInclusive<f64> = 1.0..=5.0;
pub const COZE_LOUDNESS: RangeInclusive<i64> = -50..=100;
pub const VOLCENGINE_LOUDNESS: RangeInclusive<f64> = 0.5..=2.0;
pub const SILENCE_MS: RangeInclusive<i64> = 0..=30_000;
pub const UNSUPPORTED_CHAR_RATIO: RangeInclusive<f64> = 0.0..=1.0;
/// Volcengine `explicit_language` and `context_language` values the
/// documents list.
pub const EXPLICIT_LANGUAGES: &[&str] = &["crosslingual", "zh", "en", "ja", "es-mx", "id", "pt-br"];
pub const CONTEXT_LANGUAGES: &[&str] = &["id", "es", "pt"];

/// Whether a Volcengine cluster serves clone voices.
pub fn is_clone_cluster(cluster: &str) -> bool {
    cluster.starts_with("volcano_icl")
}

/// The speed range a job may ask for, with the reason for the message.
pub fn speed(
    kind: ProviderKind,
    transport: Transport,
    cluster: Option<&str>,
) -> (RangeInclusive<f64>, &'static str) {
    match (kind, transport) {
        (ProviderKind::Local, _) => (LOCAL_SPEED, "the embedded engine's range"),
        (ProviderKind::Coze, Transport::WebSocket) => (
            COZE_WS_SPEED,
            "coze's WebSocket speech_rate -50..100 is 0.5x to 2x",
        ),
        (ProviderKind::Coze, Transport::Http) => (
            *COZE_SPEED_SMALL.start()..=*COZE_SPEED_SMALL.end(),
            "coze small-model voices take 0.2..=3.0, big-model voices 0.5..=2.0",
        ),
        (ProviderKind::Volcengine, _) if cluster.is_some_and(is_clone_cluster) => (
            VOLCENGINE_CLONE_SPEED,
            "volcengine clone voices (volcano_icl clusters) take 0.2..=3.0",
        ),
        (ProviderKind::Volcengine, _) => (
            VOLCENGINE_SPEED,
            "volcengine documents 0.8..=2.0 for its voices (clone voices in volcano_icl \
             clusters take 0.2..=3.0)",
        ),
    }
}

/// Coze speed range of a voice of `model_type` (`big` or `small`).
pub fn coze_model_speed(model_type: &str) -> Option<RangeInclusive<f64>> {
    match model_type {
        "big" => Some(COZE_SPEED_BIG),
        "small" => Some(COZE_SPEED_SMALL),
        _ => None,
    }
}
