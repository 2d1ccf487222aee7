//! Volcengine over HTTP: one `POST /api/v1/tts` per segment with
//! `operation: "query"`; the JSON answer carries base64 audio.

use serde::Deserialize;
use serde_json::Value;

use super::timings::timings;
use super::{ClipMaker, VolcSettings, code_error, new_reqid};
use crate::provider::decode::{self, snippet};
use crate::provider::net::{LazyClient, SNIPPET_CHARS, http_failure, sensitive};
use crate::provider::{
    Clip, ErrorClass, ProviderError, SynthRequest, Synthesizer, WordTiming, classify,
};

const HTTP_PATH: &str = "/api/v1/tts";
const SUCCESS: i64 = 3000;

/// Volcengine over HTTP: one POST per segment.
#[derive(Debug)]
pub struct VolcHttp {
    settings: VolcSettings,
    maker: ClipMaker,
    client: LazyClient,
}

impl VolcHttp {
    pub fn new(settings: VolcSettings) -> Result<Self, ProviderError> {
        let client = LazyClient::new(settings.config.timeout);
        let maker = ClipMaker::new(&settings)?;
        Ok(VolcHttp {
            settings,
            maker,
            client,
        })
    }

    async fn speak(&self, text: &str) -> Result<Clip, ProviderError> {
        let s = &self.settings;
        s.check_length(text)?;
        let reqid = new_reqid();
        tracing::debug!(request = %reqid, chars = text.chars().count(), "volcengine http request");
        self.exchange(text, &reqid)
            .await
            .map_err(|e| e.with_request_id(&reqid))
    }

    async fn exchange(&self, text: &str, reqid: &str) -> Result<Clip, ProviderError> {
        let s = &self.settings;
        let url = format!("{}{HTTP_PATH}", s.config.base_url);
        let body = s.request_json(text, reqid, "query");
        let response = self
            .client
            .get()?
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
        interpret_http(status, &bytes, s, &self.maker, text).map_err(|e| {
            e.with_log_id(log_id)
                .with_retry_after(classify::retry_after_header(&headers))
        })
    }
}

impl Synthesizer for VolcHttp {
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

/// One HTTP answer for `text`, JSON on any status: `code` 3000 with base64
/// `data` is audio (checked against `addition.duration`), anything else an
/// error classified by code or status.
pub(super) fn interpret_http(
    status: u16,
    body: &[u8],
    s: &VolcSettings,
    maker: &ClipMaker,
    text: &str,
) -> Result<Clip, ProviderError> {
    let reply: HttpReply = serde_json::from_slice(body).map_err(|e| {
        let class = classify::unexpected_body(status);
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
        let class = classify::unexpected_body(status);
        return Err(ProviderError::new(
            class,
            format!("volcengine answered HTTP {status} without a code"),
        ));
    };
    if code != SUCCESS {
        let message = reply.message.as_deref().unwrap_or("");
        return Err(code_error(code, message, text, &s.token));
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
    let addition = reply.addition.as_ref();
    let words = if s.config.with_timestamp {
        addition_words(addition)
    } else {
        Vec::new()
    };
    maker.clip(&decode::base64(data)?, addition_duration(addition), words)
}

/// `addition.duration`: ms as a string (a number is taken too).
fn addition_duration(addition: Option<&Value>) -> Option<f64> {
    match addition?.get("duration")? {
        Value::String(ms) => ms.trim().parse().ok(),
        Value::Number(ms) => ms.as_f64(),
        _ => None,
    }
}

/// The word timings in `addition.frontend`; none when it is missing.
fn addition_words(addition: Option<&Value>) -> Vec<WordTiming> {
    match addition
        .and_then(|a| a.get("frontend"))
        .and_then(Value::as_str)
    {
        Some(frontend) => timings(frontend),
        None => {
            tracing::debug!("volcengine sent no word timings");
            Vec::new()
        }
    }
}
