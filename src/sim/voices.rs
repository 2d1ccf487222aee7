//! The voices the simulator knows: Coze voices with every field of the
//! voice list (cozepy requires all but `support_emotions`), Volcengine
//! voice types with the language each speaks, and the defaults (system
//! voices of both models, a multi-emotion voice, a ready clone and a clone
//! still training).

use serde::{Deserialize, Serialize};

/// The voices each provider knows.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields, default)]
pub struct Voices {
    /// Served by the voice list and accepted as `voice_id`.
    pub coze: Vec<CozeVoice>,
    /// Accepted as `audio.voice_type`.
    pub volcengine: Vec<VolcVoice>,
}

/// A Volcengine voice: its `voice_type` and the language it speaks,
/// written as a table or just the name (then `en_…` speaks English, `ja_…`
/// Japanese, any other Chinese).
#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum VolcVoice {
    Name(String),
    #[serde(rename_all = "snake_case")]
    Table {
        voice_type: String,
        language: String,
    },
}

impl VolcVoice {
    pub fn voice_type(&self) -> &str {
        match self {
            VolcVoice::Name(name) => name,
            VolcVoice::Table { voice_type, .. } => voice_type,
        }
    }

    pub fn language(&self) -> &str {
        match self {
            VolcVoice::Table { language, .. } => language,
            VolcVoice::Name(name) if name.starts_with("en_") => "en",
            VolcVoice::Name(name) if name.starts_with("ja_") => "ja",
            VolcVoice::Name(_) => "zh",
        }
    }
}

impl Default for Voices {
    fn default() -> Self {
        Voices {
            coze: default_coze_voices(),
            volcengine: [
                "BV001_streaming",
                "BV700_streaming",
                "zh_female_vv_uranus_bigtts",
                "zh_male_M392_conversation_wvae_bigtts",
                "en_male_adam_mars_bigtts",
            ]
            .map(|name| VolcVoice::Name(name.to_owned()))
            .to_vec(),
        }
    }
}

/// A Coze voice with every field cozepy's model requires.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CozeVoice {
    pub voice_id: String,
    pub name: String,
    #[serde(default = "VoiceState::cloned")]
    pub state: VoiceState,
    #[serde(default = "ModelType::big")]
    pub model_type: ModelType,
    #[serde(default = "yes")]
    pub is_system_voice: bool,
    #[serde(default = "zh")]
    pub language_code: String,
    #[serde(default = "chinese")]
    pub language_name: String,
    #[serde(default)]
    pub preview_text: String,
    #[serde(default)]
    pub preview_audio: String,
    #[serde(default)]
    pub available_training_times: u32,
    #[serde(default)]
    pub create_time: i64,
    #[serde(default)]
    pub update_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_emotions: Option<Vec<EmotionInfo>>,
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum VoiceState {
    Init,
    Cloned,
}

impl VoiceState {
    fn cloned() -> Self {
        VoiceState::Cloned
    }
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ModelType {
    Big,
    Small,
}

impl ModelType {
    fn big() -> Self {
        ModelType::Big
    }
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EmotionInfo {
    pub emotion: String,
    pub display_name: String,
    pub emotion_scale_interval: ScaleInterval,
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScaleInterval {
    pub min: f64,
    pub max: f64,
    pub default: f64,
}

fn yes() -> bool {
    true
}

fn zh() -> String {
    "zh".to_owned()
}

fn chinese() -> String {
    "中文".to_owned()
}

fn default_coze_voices() -> Vec<CozeVoice> {
    let voice = |id: &str, name: &str, model_type, lang: (&str, &str)| CozeVoice {
        voice_id: id.to_owned(),
        name: name.to_owned(),
        state: VoiceState::Cloned,
        model_type,
        is_system_voice: true,
        language_code: lang.0.to_owned(),
        language_name: lang.1.to_owned(),
        preview_text: "你好，欢迎收听。".to_owned(),
        preview_audio: format!("https://example.invalid/preview/{id}.mp3"),
        available_training_times: 0,
        create_time: 1_735_689_600,
        update_time: 1_735_689_600,
        support_emotions: None,
    };
    let emotion = |emotion: &str, display: &str| EmotionInfo {
        emotion: emotion.to_owned(),
        display_name: display.to_owned(),
        emotion_scale_interval: ScaleInterval {
            min: 1.0,
            max: 5.0,
            default: 4.0,
        },
    };
    let mut emotional = voice(
        "7426720361732915209",
        "多情感女声",
        ModelType::Big,
        ("zh", "中文"),
    );
    emotional.support_emotions = Some(vec![
        emotion("happy", "开心"),
        emotion("sad", "悲伤"),
        emotion("angry", "生气"),
        emotion("neutral", "中性"),
    ]);
    let mut cloned = voice(
        "7468512265134932019",
        "我的复刻音色",
        ModelType::Big,
        ("zh", "中文"),
    );
    cloned.is_system_voice = false;
    cloned.available_training_times = 9;
    // A clone still training: listed only with voice_state init or all.
    let mut training = voice(
        "7468512265134932020",
        "训练中的音色",
        ModelType::Big,
        ("zh", "中文"),
    );
    training.state = VoiceState::Init;
    training.is_system_voice = false;
    training.available_training_times = 10;
    vec![
        voice(
            "7426720361733046281",
            "柔美女友",
            ModelType::Big,
            ("zh", "中文"),
        ),
        emotional,
        voice(
            "7426725529589596187",
            "Adam",
            ModelType::Small,
            ("en", "English"),
        ),
        voice(
            "7426725529681657907",
            "清新男声",
            ModelType::Small,
            ("zh", "中文"),
        ),
        cloned,
        training,
    ]
}
