//! The Coze voice list (`GET /v1/audio/voices`): the voice types, and
//! every page of the account's voices.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Detail, Envelope, envelope_error};
use crate::provider::decode::snippet;
use crate::provider::net::{SNIPPET_CHARS, http_client, http_failure, sensitive};
use crate::provider::{ErrorClass, ProviderError, Secret, classify};

const VOICES_PATH: &str = "/v1/audio/voices";

/// A voice from the Coze voice list. Only `voice_id` is required: the other
/// fields are optional so a listing missing one still parses.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Voice {
    pub voice_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub model_type: Option<String>,
    #[serde(default)]
    pub is_system_voice: Option<bool>,
    #[serde(default)]
    pub language_code: Option<String>,
    #[serde(default)]
    pub language_name: Option<String>,
    #[serde(default)]
    pub preview_text: Option<String>,
    #[serde(default)]
    pub preview_audio: Option<String>,
    #[serde(default)]
    pub available_training_times: Option<i64>,
    #[serde(default)]
    pub create_time: Option<i64>,
    #[serde(default)]
    pub update_time: Option<i64>,
    #[serde(default)]
    pub support_emotions: Option<Vec<SupportedEmotion>>,
}

impl Voice {
    /// The emotion names this voice accepts (empty for single-emotion voices).
    pub fn emotions(&self) -> Vec<&str> {
        self.support_emotions
            .iter()
            .flatten()
            .map(|e| e.emotion.as_str())
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct SupportedEmotion {
    pub emotion: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub emotion_scale_interval: Option<ScaleInterval>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ScaleInterval {
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub default: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct VoicePage {
    code: Option<i64>,
    #[serde(default)]
    msg: Option<String>,
    #[serde(default)]
    detail: Option<Detail>,
    #[serde(default)]
    data: Option<VoicePageData>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct VoicePageData {
    #[serde(default)]
    pub has_more: bool,
    #[serde(default)]
    pub voice_list: Vec<Voice>,
}

/// A guard against a server that says `has_more` for ever.
const MAX_PAGES: u32 = 1000;

/// Every voice of the account (`GET {base}/v1/audio/voices`), following
/// `has_more` page by page. `page_size` is clamped to 1..=100.
pub async fn list_voices(
    base_url: &str,
    token: &Secret,
    filter_system_voice: bool,
    model_type: Option<&str>,
    page_size: u32,
) -> Result<Vec<Voice>, ProviderError> {
    let client = http_client(Duration::from_secs(60))?;
    let base = base_url.trim_end_matches('/');
    let mut voices = Vec::new();
    for page_num in 1..=MAX_PAGES {
        let url = voices_url(base, filter_system_voice, model_type, page_num, page_size)?;
        let page = voice_page(&client, url, token).await?;
        let got = page.voice_list.len();
        voices.extend(page.voice_list);
        if !page.has_more || got == 0 {
            break;
        }
    }
    Ok(voices)
}

pub(super) fn voices_url(
    base: &str,
    filter_system_voice: bool,
    model_type: Option<&str>,
    page_num: u32,
    page_size: u32,
) -> Result<reqwest::Url, ProviderError> {
    let mut url = reqwest::Url::parse(&format!("{base}{VOICES_PATH}")).map_err(|e| {
        ProviderError::new(
            ErrorClass::Permanent,
            format!("coze: bad base URL {base}: {e}"),
        )
    })?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("filter_system_voice", &filter_system_voice.to_string());
        if let Some(model_type) = model_type {
            query.append_pair("model_type", model_type);
        }
        // The documented default is `cloned`, which hides the system voices
        // and the clones still training; `validate` needs to see both.
        query.append_pair("voice_state", "all");
        query.append_pair("page_num", &page_num.to_string());
        query.append_pair("page_size", &page_size.clamp(1, 100).to_string());
    }
    Ok(url)
}

async fn voice_page(
    client: &reqwest::Client,
    url: reqwest::Url,
    token: &Secret,
) -> Result<VoicePageData, ProviderError> {
    let response = client
        .get(url)
        .header(
            reqwest::header::AUTHORIZATION,
            sensitive(&format!("Bearer {}", token.expose()))?,
        )
        .send()
        .await
        .map_err(|e| http_failure("coze", &e, token))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let log_id = classify::log_id_header(&headers);
    let body = response
        .bytes()
        .await
        .map_err(|e| http_failure("coze", &e, token))?;
    parse_voice_page(status, &body, token).map_err(|e| {
        let log_id = e.log_id.clone().or(log_id);
        e.with_log_id(log_id)
            .with_retry_after(classify::retry_after_header(&headers))
    })
}

pub(super) fn parse_voice_page(
    status: u16,
    body: &[u8],
    token: &Secret,
) -> Result<VoicePageData, ProviderError> {
    let page: VoicePage = serde_json::from_slice(body).map_err(|e| {
        let class = classify::unexpected_body(status);
        ProviderError::new(
            class,
            format!(
                "coze voice list: HTTP {status}, body is not the expected JSON ({e}): {}",
                token.redact(&snippet(body, SNIPPET_CHARS))
            ),
        )
    })?;
    match page.code {
        Some(0) if (200..300).contains(&status) => Ok(page.data.unwrap_or_default()),
        code => Err(envelope_error(
            status,
            Envelope {
                code: code.filter(|c| *c != 0),
                msg: page.msg,
                detail: page.detail,
            },
            token,
        )),
    }
}
