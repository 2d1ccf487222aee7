//! Coze over HTTP: one `POST /v1/audio/speech` per segment, raw audio back
//! on success, the JSON envelope on failure.

use super::{CozeSettings, Envelope, SPEECH_PATH, envelope_error, new_request_id};
use crate::provider::decode::{self, snippet};
use crate::provider::net::{LazyClient, SNIPPET_CHARS, http_failure, sensitive};
use crate::provider::{
    Clip, ErrorClass, ProviderError, Secret, SynthRequest, Synthesizer, classify,
};

/// Coze over HTTP: one POST per segment.
#[derive(Debug)]
pub struct CozeHttp {
    settings: CozeSettings,
    client: LazyClient,
}

impl CozeHttp {
    pub fn new(settings: CozeSettings) -> Result<Self, ProviderError> {
        let client = LazyClient::new(settings.config.timeout);
        Ok(CozeHttp { settings, client })
    }

    async fn speak(&self, text: &str) -> Result<Clip, ProviderError> {
        let request_id = new_request_id();
        tracing::debug!(request = %request_id, chars = text.chars().count(), "coze http request");
        self.exchange(text)
            .await
            .map_err(|e| e.with_request_id(&request_id))
    }

    async fn exchange(&self, text: &str) -> Result<Clip, ProviderError> {
        let s = &self.settings;
        let url = format!("{}{SPEECH_PATH}", s.config.base_url);
        let response = self
            .client
            .get()?
            .post(url)
            .header(reqwest::header::AUTHORIZATION, sensitive(&s.bearer())?)
            .json(&s.http_body(text))
            .send()
            .await
            .map_err(|e| http_failure("coze", &e, &s.token))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let log_id = classify::log_id_header(&headers);
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let body = response
            .bytes()
            .await
            .map_err(|e| http_failure("coze", &e, &s.token).with_log_id(log_id.clone()))?;
        interpret_http(status, &content_type, &body, s.sample_rate, &s.token).map_err(|e| {
            let log_id = e.log_id.clone().or(log_id);
            e.with_log_id(log_id)
                .with_retry_after(classify::retry_after_header(&headers))
        })
    }
}

impl Synthesizer for CozeHttp {
    async fn synthesize(&self, request: &SynthRequest) -> Result<Clip, ProviderError> {
        self.speak(&request.text).await
    }
}

/// One HTTP answer: audio on success, the envelope's code otherwise. A 2xx
/// that is not JSON is taken as audio whatever its content type says (the
/// real content types per format are unconfirmed).
pub(super) fn interpret_http(
    status: u16,
    content_type: &str,
    body: &[u8],
    sample_rate: u32,
    token: &Secret,
) -> Result<Clip, ProviderError> {
    let ok = (200..300).contains(&status);
    if ok && !content_type.contains("json") {
        return decode::audio(body, sample_rate);
    }
    match serde_json::from_slice::<Envelope>(body) {
        Ok(envelope) => Err(envelope_error(status, envelope, token)),
        Err(_) if ok => Err(ProviderError::new(
            ErrorClass::Transient,
            format!(
                "coze answered HTTP {status} with JSON that does not parse (cut short?): {}",
                token.redact(&snippet(body, SNIPPET_CHARS))
            ),
        )),
        Err(_) => Err(ProviderError::new(
            classify::http_status(status),
            format!(
                "coze answered HTTP {status}: {}",
                token.redact(&snippet(body, SNIPPET_CHARS))
            ),
        )),
    }
}
