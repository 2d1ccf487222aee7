//! The Coze voice list: `GET /v1/audio/voices`, filtered and paginated as
//! cozepy asks for it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::{CozeError, bearer_token, error_response, json_response};
use crate::sim::config::{CozeVoice, ModelType, VoiceState};
use crate::sim::log::{Outcome, Pending, Provider, Transport};
use crate::sim::{Sim, new_logid};

const VOICES_PATH: &str = "/v1/audio/voices";

// ---------------------------------------------------------------- voice list

pub(crate) async fn voices(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let logid = new_logid();
    let mut pending = Pending::new(Provider::Coze, Transport::Http, VOICES_PATH);
    pending.set_token(&sim, bearer_token(&headers, None).as_deref());
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let answer = if pending.auth_ok {
        list_voices(&sim.config.voices.coze, &query)
    } else {
        Err(CozeError::auth())
    };
    let (outcome, response) = match answer {
        Ok(data) => {
            let body = json!({ "code": 0, "msg": "", "detail": { "logid": logid }, "data": data });
            (Outcome::Ok, json_response(StatusCode::OK, body, &logid))
        }
        Err(e) => error_response(&sim.config, &e, &logid),
    };
    pending.finish(&sim.log, outcome);
    response
}

/// One page of the voices that pass the filters, and whether more follow.
fn list_voices(all: &[CozeVoice], query: &HashMap<String, String>) -> Result<Value, CozeError> {
    let filter_system = match query.get("filter_system_voice").map(String::as_str) {
        None | Some("false") | Some("") => false,
        Some("true") => true,
        Some(other) => {
            return Err(CozeError::invalid(format!(
                "filter_system_voice {other} is not a bool"
            )));
        }
    };
    let model_type = match query.get("model_type").map(String::as_str) {
        None | Some("") => None,
        Some("big") => Some(ModelType::Big),
        Some("small") => Some(ModelType::Small),
        Some(other) => return Err(CozeError::invalid(format!("unknown model_type {other}"))),
    };
    // The documented default is `cloned`: a clone still training (`init`)
    // is listed only when asked for with `init` or `all`.
    let state = match query.get("voice_state").map(String::as_str) {
        None | Some("") | Some("cloned") => Some(VoiceState::Cloned),
        Some("all") => None,
        Some("init") => Some(VoiceState::Init),
        Some(other) => return Err(CozeError::invalid(format!("unknown voice_state {other}"))),
    };
    let page_num = page_param(query, "page_num", 1, u32::MAX)?.unwrap_or(1);
    let page_size = page_param(query, "page_size", 1, 100)?.unwrap_or(100);
    let matching: Vec<&CozeVoice> = all
        .iter()
        .filter(|v| !(filter_system && v.is_system_voice))
        .filter(|v| model_type.is_none_or(|m| v.model_type == m))
        .filter(|v| state.is_none_or(|s| v.state == s))
        .collect();
    let start = (page_num as usize - 1).saturating_mul(page_size as usize);
    let page: Vec<&CozeVoice> = matching
        .iter()
        .skip(start)
        .take(page_size as usize)
        .copied()
        .collect();
    let has_more = start.saturating_add(page.len()) < matching.len();
    Ok(json!({ "has_more": has_more, "voice_list": page }))
}

fn page_param(
    query: &HashMap<String, String>,
    key: &str,
    lo: u32,
    hi: u32,
) -> Result<Option<u32>, CozeError> {
    let Some(raw) = query.get(key) else {
        return Ok(None);
    };
    match raw.parse::<u32>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(Some(n)),
        _ => Err(CozeError::invalid(format!(
            "{key} must be an integer in [{lo}, {hi}]"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimConfig;

    fn page(query: &[(&str, &str)]) -> Value {
        let query = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        list_voices(&SimConfig::default().voices.coze, &query).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn sim_voice_filters_apply() {
        let count = |q: &[(&str, &str)]| page(q)["voice_list"].as_array().map_or(0, Vec::len);
        assert_eq!(count(&[]), 5);
        assert_eq!(count(&[("voice_state", "all")]), 6);
        assert_eq!(count(&[("filter_system_voice", "true")]), 1);
        assert_eq!(count(&[("model_type", "small")]), 2);
        assert_eq!(count(&[("voice_state", "cloned")]), 5);
        assert_eq!(count(&[("voice_state", "init")]), 1);
    }
}
