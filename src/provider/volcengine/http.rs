//! Volcengine over HTTP: one `POST /api/v1/tts` per segment with
//! `operation: "query"`; the JSON answer carries base64 audio.

use serde::Deserialize;
use serde_json::Value;

use super::timings::timings;
use super::{VolcSettings, code_error, new_reqid};
use crate::provider::decode::{self, snippet};
use crate::provider::net::{SNIPPET_CHARS, http_client, http_failure, sensitive};
use crate::provider::{
    Clip, ErrorClass, ProviderError, SynthRequest, Synthesizer, WordTiming, classify,
};

const HTTP_PATH: &str = "/api/v1/tts";
const SUCCESS: i64 = 3000;

/// Volcengine over HTTP: one POST per segment.
#[derive(Debug)]
pub struct VolcHttp {
    settings: VolcSettings,
    client: reqwest::Client,
}

impl VolcHttp {
    pub fn new(settings: VolcSettings) -> Result<Self, ProviderError> {
        let client = http_client(settings.config.timeout)?;
        Ok(VolcHttp { settings, client })
    }

    async fn speak(&self, text: &str) -> Result<Clip, ProviderError> {
        let s = &self.settings;
        let url = format!("{}{HTTP_PATH}", s.config.base_url);
        let body = s.request_json(text, &new_reqid(), "query");
        let response = self
            .client
            .post(url)
            .header(
                reqwest::header::AUTHORIZATION,
                sensitive(&s.authorization())?,
            )
            .json(&body)
            .send()
            .await
            .map_err(|e| http_failure("volcengine", &e, &s.token))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let log_id = classify::log_id_header(&headers);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| http_failure("volcengine", &e, &s.token).with_log_id(log_id.clone()))?;
        interpret_http(status, &bytes, s).map_err(|e| {
            e.with_log_id(log_id)
                .with_retry_after(classify::retry_after_header(&headers))
        })
    }
}

impl Synthesizer for VolcHttp {
    fn fingerprint(&self) -> String {
        self.settings.fingerprint()
    }

    async fn synthesize(&self, request: &SynthRequest) -> Result<Clip, ProviderError> {
        self.speak(&request.text).await
    }
}

#[derive(Debug, Deserialize)]
struct HttpReply {
    code: Option<i64>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    addition: Option<Value>,
}

/// One HTTP answer, JSON on any status: `code` 3000 with base64 `data` is
/// audio, anything else an error classified by code or status.
pub(super) fn interpret_http(
    status: u16,
    body: &[u8],
    s: &VolcSettings,
) -> Result<Clip, ProviderError> {
    let ok = (200..300).contains(&status);
    let reply: HttpReply = serde_json::from_slice(body).map_err(|e| {
        let class = if ok {
            ErrorClass::Transient
        } else {
            classify::http_status(status)
        };
        ProviderError::new(
            class,
            format!(
                "volcengine answered HTTP {status} with a body that is not the expected JSON \
                 ({e}): {}",
                s.token.redact(&snippet(body, SNIPPET_CHARS))
            ),
        )
    })?;
    let Some(code) = reply.code else {
        let class = if ok {
            ErrorClass::Transient
        } else {
            classify::http_status(status)
        };
        return Err(ProviderError::new(
            class,
            format!("volcengine answered HTTP {status} without a code"),
        ));
    };
    if code != SUCCESS {
        return Err(code_error(
            code,
            reply.message.as_deref().unwrap_or(""),
            &s.token,
        ));
    }
    let data = reply
        .data
        .as_deref()
        .filter(|d| !d.is_empty())
        .ok_or_else(|| {
            ProviderError::new(
                ErrorClass::Transient,
                "volcengine answered success without audio data",
            )
        })?;
    let mut clip = decode::audio(&decode::base64(data)?, s.sample_rate)?;
    if s.config.with_timestamp {
        clip.words = addition_words(reply.addition.as_ref());
    }
    Ok(clip)
}

/// The word timings in `addition.frontend`; none when it is missing.
fn addition_words(addition: Option<&Value>) -> Vec<WordTiming> {
    let Some(addition) = addition else {
        return Vec::new();
    };
    if let Some(duration) = addition.get("duration") {
        tracing::debug!(%duration, "volcengine audio duration (ms)");
    }
    match addition.get("frontend").and_then(Value::as_str) {
        Some(frontend) => timings(frontend),
        None => {
            tracing::debug!("volcengine sent no word timings");
            Vec::new()
        }
    }
}
