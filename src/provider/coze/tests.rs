//! Coze clients: request bodies and events built exactly, responses parsed
//! and classified, and a few wire-level checks against a one-shot loopback
//! server (headers, `Retry-After`, a body cut short, a WebSocket session).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use super::http::interpret_http;
use super::voice_list::{parse_voice_page, voices_url};
use super::*;
use crate::job::{ProviderKind, ProviderSettings, Transport};
use crate::provider::testutil::{accept_ws, one_shot, response};
use crate::provider::{SynthRequest, Synthesizer};

const TOKEN: &str = "pat_SECRET_token_value_123";

fn config(base_url: &str) -> CozeConfig {
    CozeConfig {
        response_format: crate::job::AudioFormat::Pcm,
        base_url: base_url.to_owned(),
        ws_url: base_url.replacen("http", "ws", 1),
        token_env: "COZE_API_TOKEN".to_owned(),
        emotion: None,
        emotion_scale: None,
        loudness_rate: None,
        context_texts: None,
        timeout: Duration::from_secs(5),
    }
}

fn settings_with(config: CozeConfig, speed: f32) -> CozeSettings {
    let voice = crate::job::Voice {
        provider: ProviderKind::Coze,
        transport: Transport::Http,
        voice: "7426720361733046281".to_owned(),
        speed,
        pitch: 50,
        keep_notes: false,
        settings: ProviderSettings::Coze(config.clone()),
    };
    CozeSettings::new(&voice, &config, 16_000, Secret::new(TOKEN))
}

fn settings(base_url: &str) -> CozeSettings {
    settings_with(config(base_url), 1.0)
}

fn full_config() -> CozeConfig {
    CozeConfig {
        emotion: Some("happy".to_owned()),
        emotion_scale: Some(4.5),
        loudness_rate: Some(-20),
        context_texts: Some("warmly".to_owned()),
        ..config("https://api.coze.cn")
    }
}

#[test]
fn http_body_with_only_set_fields() {
    let body = settings("https://api.coze.cn").http_body("你好");
    assert_eq!(
        body,
        json!({
            "input": "你好",
            "voice_id": "7426720361733046281",
            "response_format": "pcm",
            "sample_rate": 16000,
            "speed": 1.0,
        })
    );
}

#[test]
fn http_body_with_every_field() {
    let body = settings_with(full_config(), 1.1).http_body("hi");
    assert_eq!(
        body,
        json!({
            "input": "hi",
            "voice_id": "7426720361733046281",
            "response_format": "pcm",
            "sample_rate": 16000,
            "speed": 1.1,
            "loudness_rate": -20,
            "emotion": "happy",
            "emotion_scale": 4.5,
            "context_texts": "warmly",
        })
    );
}

#[test]
fn speech_rate_mapping() {
    assert_eq!(speech_rate(0.5), -50);
    assert_eq!(speech_rate(1.0), 0);
    assert_eq!(speech_rate(1.25), 25);
    assert_eq!(speech_rate(2.0), 100);
    assert_eq!(speech_rate(0.2), -50, "clamped");
    assert_eq!(speech_rate(3.0), 100, "clamped");
}

#[test]
fn speech_update_event() {
    let minimal = settings("https://api.coze.cn").speech_update();
    assert_eq!(minimal["event_type"], "speech.update");
    assert!(minimal["id"].as_str().is_some_and(|id| id.len() == 36));
    assert_eq!(
        minimal["data"],
        json!({"output_audio": {
            "codec": "pcm",
            "pcm_config": {"sample_rate": 16000},
            "speech_rate": 0,
            "voice_id": "7426720361733046281",
        }})
    );
    let full = settings_with(full_config(), 0.5).speech_update();
    assert_eq!(
        full["data"],
        json!({"output_audio": {
            "codec": "pcm",
            "pcm_config": {"sample_rate": 16000},
            "speech_rate": -50,
            "voice_id": "7426720361733046281",
            "loudness_rate": -20,
            "emotion_config": {"emotion": "happy", "emotion_scale": 4.5},
            "context_texts": "warmly",
        }})
    );
}

#[test]
fn fingerprint_has_audio_parameters_and_no_secrets() {
    let a = settings_with(full_config(), 1.0);
    let fp = a.fingerprint();
    assert!(!fp.contains(TOKEN) && !fp.contains("api.coze.cn"), "{fp}");
    assert!(
        fp.contains("7426720361733046281") && fp.contains("happy"),
        "{fp}"
    );
    let b = settings_with(config("http://127.0.0.1:1"), 1.0);
    assert_eq!(
        b.fingerprint(),
        settings("https://api.coze.cn").fingerprint(),
        "URL is not in it"
    );
    assert_ne!(
        settings_with(config("x"), 1.2).fingerprint(),
        b.fingerprint()
    );
    // That the transport is not in it is checked where fingerprints are
    // made from jobs: `plan::tests::the_transport_is_not_in_the_fingerprint`.
}

#[test]
fn debug_never_shows_the_token() {
    let http = CozeHttp::new(settings("https://api.coze.cn")).expect("client");
    let ws = CozeWs::new(settings("https://api.coze.cn"));
    for text in [
        format!("{http:?}"),
        format!("{ws:?}"),
        format!("{:?}", crate::provider::Provider::CozeWs(ws)),
    ] {
        assert!(!text.contains(TOKEN), "{text}");
        assert!(text.contains("***"), "{text}");
    }
}

fn secret() -> Secret {
    Secret::new(TOKEN)
}

#[test]
fn pcm_success() {
    let clip = interpret_http(200, "audio/pcm", &[1, 0, 2, 0], 16_000, &secret()).expect("audio");
    assert_eq!(clip.samples, vec![1, 2]);
    assert_eq!(clip.sample_rate, 16_000);
    // Unconfirmed content types are tolerated as long as they are not JSON.
    assert!(interpret_http(200, "application/octet-stream", &[1, 0], 16_000, &secret()).is_ok());
}

#[test]
fn odd_pcm_is_transient() {
    let err = interpret_http(200, "audio/pcm", &[1, 0, 2], 16_000, &secret()).expect_err("odd");
    assert_eq!(err.class, ErrorClass::Transient);
}

#[test]
fn envelope_on_4xx_is_classified_with_code_and_logid() {
    let body = br#"{"code": 4101, "msg": "token has no createSpeech permission", "detail": {"logid": "20250101120000ABCDEF"}}"#;
    let err = interpret_http(403, "application/json", body, 16_000, &secret()).expect_err("4101");
    // Regression (issue 11): a token without the permission fails every
    // request of the account, so the job stops.
    assert_eq!(err.class, ErrorClass::Fatal);
    assert_eq!(err.code, Some(4101));
    assert_eq!(err.log_id.as_deref(), Some("20250101120000ABCDEF"));
    assert!(err.to_string().contains("createSpeech"), "{err}");

    let body = br#"{"code": 4020, "msg": "rpm exceeded"}"#;
    let err = interpret_http(429, "application/json", body, 16_000, &secret()).expect_err("4020");
    assert_eq!(err.class, ErrorClass::RateLimit);
    // An envelope on a 200 counts too (cozepy parses whatever the status).
    let body = br#"{"code": 5000, "msg": "internal"}"#;
    let err = interpret_http(200, "application/json", body, 16_000, &secret()).expect_err("5000");
    assert_eq!(err.class, ErrorClass::Transient);
}

#[test]
fn auth_failure_is_fatal_and_never_echoes_the_token() {
    let body = format!(r#"{{"code": 4100, "msg": "authentication is invalid: Bearer {TOKEN}"}}"#);
    let err = interpret_http(401, "application/json", body.as_bytes(), 16_000, &secret())
        .expect_err("4100");
    assert_eq!(err.class, ErrorClass::Fatal);
    assert!(!err.to_string().contains(TOKEN), "{err}");
    assert!(!format!("{err:?}").contains(TOKEN), "{err:?}");
}

#[test]
fn non_json_error_body_has_status_and_prefix() {
    let body = "<html>502 Bad Gateway</html>".repeat(20);
    let err =
        interpret_http(502, "text/html", body.as_bytes(), 16_000, &secret()).expect_err("502");
    assert_eq!(err.class, ErrorClass::Transient);
    assert!(
        err.message.contains("HTTP 502: <html>502 Bad Gateway"),
        "{err}"
    );
    assert!(err.message.len() < 300, "{err}");
}

#[test]
fn truncated_json_on_success_is_transient() {
    let err = interpret_http(
        200,
        "application/json",
        br#"{"code": 0, "ms"#,
        16_000,
        &secret(),
    )
    .expect_err("cut");
    assert_eq!(err.class, ErrorClass::Transient);
}

#[tokio::test]
async fn wire_http_request_and_pcm_answer() {
    let (base, server) = one_shot(response(
        "200 OK",
        &[("Content-Type", "audio/pcm"), ("X-Tt-Logid", "L1")],
        &[3, 0, 4, 0],
    ))
    .await;
    let client = CozeHttp::new(settings(&base)).expect("client");
    let clip = client
        .synthesize(&SynthRequest { text: "hi".into() })
        .await
        .expect("clip");
    assert_eq!(clip.samples, vec![3, 4]);
    let request = server.await.expect("server");
    assert!(
        request.head.starts_with("POST /v1/audio/speech HTTP/1.1"),
        "{}",
        request.head
    );
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}"))
    );
    assert_eq!(
        request.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(request.json()["input"], "hi");
    assert_eq!(request.json()["response_format"], "pcm");
}

#[tokio::test]
async fn wire_http_body_cut_short_is_transient() {
    let mut canned =
        b"HTTP/1.1 200 OK\r\nContent-Type: audio/pcm\r\nContent-Length: 100\r\n\r\n".to_vec();
    canned.extend_from_slice(&[0; 10]);
    let (base, _server) = one_shot(canned).await;
    let client = CozeHttp::new(settings(&base)).expect("client");
    let err = client
        .synthesize(&SynthRequest { text: "hi".into() })
        .await
        .expect_err("cut short");
    assert_eq!(err.class, ErrorClass::Transient, "{err}");
}

#[tokio::test]
async fn wire_connection_refused_is_transient() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let client = CozeHttp::new(settings(&base)).expect("client");
    let err = client
        .synthesize(&SynthRequest { text: "hi".into() })
        .await
        .expect_err("refused");
    assert_eq!(err.class, ErrorClass::Transient, "{err}");
    assert!(!err.to_string().contains(TOKEN));
}

#[test]
fn voice_page_parsing_tolerates_missing_fields() {
    let body = br#"{"code":0,"msg":"","data":{"has_more":true,"voice_list":[
        {"voice_id":"v1","name":"One","is_system_voice":true,"support_emotions":null},
        {"voice_id":"v2","name":"Two","model_type":"big","state":"init",
         "support_emotions":[{"emotion":"sad","emotion_scale_interval":{"min":1,"max":5,"default":4}}]}
    ]}}"#;
    let page = parse_voice_page(200, body, &secret()).expect("page");
    assert!(page.has_more);
    assert_eq!(page.voice_list.len(), 2);
    assert!(page.voice_list[0].emotions().is_empty());
    assert_eq!(page.voice_list[1].emotions(), vec!["sad"]);
    let err = parse_voice_page(
        401,
        br#"{"code":4100,"msg":"authentication is invalid"}"#,
        &secret(),
    )
    .expect_err("auth");
    assert_eq!(err.class, ErrorClass::Fatal);
}

#[test]
fn voices_url_query() {
    let url = voices_url("http://h", false, None, 1, 100).expect("url");
    assert_eq!(
        url.as_str(),
        "http://h/v1/audio/voices?filter_system_voice=false&voice_state=all&page_num=1&page_size=100"
    );
    let url = voices_url("http://h", true, Some("big"), 3, 500).expect("url");
    assert_eq!(
        url.as_str(),
        "http://h/v1/audio/voices?filter_system_voice=true&model_type=big&voice_state=all&page_num=3&page_size=100"
    );
}

/// A one-shot WebSocket server: sends `speech.created`, reads the three
/// client events, then plays `script` and returns what it read.
async fn ws_server(
    script: Vec<Message>,
) -> (
    String,
    tokio::task::JoinHandle<(Option<String>, Vec<serde_json::Value>)>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        let (mut ws, auth) = accept_ws(stream).await;
        ws.send(Message::text(
            r#"{"id":"1","event_type":"speech.created","detail":{"logid":"LOG7"}}"#,
        ))
        .await
        .expect("send");
        let mut received = Vec::new();
        while received.len() < 3 {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    received.push(serde_json::from_str(text.as_str()).expect("json"));
                }
                Some(Ok(_)) => {}
                _ => break,
            }
        }
        for message in script {
            if ws.send(message).await.is_err() {
                break;
            }
        }
        (auth, received)
    });
    (format!("ws://{addr}"), task)
}

fn event(json: serde_json::Value) -> Message {
    Message::text(json.to_string())
}

#[tokio::test]
async fn wire_websocket_session() {
    let script = vec![
        event(json!({"event_type": "speech.updated", "data": {"output_audio": {"codec": "pcm"}}})),
        event(json!({"event_type": "input_text_buffer.completed"})),
        event(json!({"event_type": "conversation.audio.sentence_start", "data": {"text": "hi"}})),
        event(json!({"event_type": "speech.audio.update", "data": {"delta": "AQACAA=="}})),
        event(json!({"event_type": "speech.audio.update", "data": {"delta": "AwA="}})),
        event(json!({"event_type": "speech.audio.completed"})),
    ];
    let (base, server) = ws_server(script).await;
    let mut s = settings("http://unused");
    s.config.ws_url = base;
    let clip = CozeWs::new(s)
        .synthesize(&SynthRequest { text: "hi".into() })
        .await
        .expect("clip");
    assert_eq!(clip.samples, vec![1, 2, 3]);
    let (auth, received) = server.await.expect("server");
    assert_eq!(auth, Some(format!("Bearer {TOKEN}")));
    let types: Vec<&str> = received
        .iter()
        .filter_map(|e| e["event_type"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "speech.update",
            "input_text_buffer.append",
            "input_text_buffer.complete"
        ]
    );
    assert_eq!(received[1]["data"]["delta"], "hi");
    assert_eq!(
        received[0]["data"]["output_audio"]["pcm_config"]["sample_rate"],
        16000
    );
}

#[tokio::test]
async fn wire_websocket_error_event_and_early_close() {
    let script = vec![event(
        json!({"event_type": "error", "data": {"code": 3010, "msg": "text too long"}, "detail": {"logid": "LOG8"}}),
    )];
    let (base, _server) = ws_server(script).await;
    let mut s = settings("http://unused");
    s.config.ws_url = base;
    let err = CozeWs::new(s)
        .synthesize(&SynthRequest { text: "hi".into() })
        .await
        .expect_err("3010");
    assert_eq!(err.class, ErrorClass::TooLong);
    assert_eq!(err.code, Some(3010));
    assert_eq!(err.log_id.as_deref(), Some("LOG8"));

    let script = vec![event(
        json!({"event_type": "speech.audio.update", "data": {"delta": "AQA="}}),
    )];
    let (base, _server) = ws_server(script).await;
    let mut s = settings("http://unused");
    s.config.ws_url = base;
    let err = CozeWs::new(s)
        .synthesize(&SynthRequest { text: "hi".into() })
        .await
        .expect_err("closed early");
    assert_eq!(err.class, ErrorClass::Transient, "{err}");
}

#[tokio::test]
async fn wire_websocket_handshake_refused() {
    let (base, _server) = one_shot(response(
        "401 Unauthorized",
        &[("X-Tt-Logid", "LOG9")],
        b"{\"code\":4100}",
    ))
    .await;
    let mut s = settings("http://unused");
    s.config.ws_url = base.replacen("http", "ws", 1);
    let err = CozeWs::new(s)
        .synthesize(&SynthRequest { text: "hi".into() })
        .await
        .expect_err("refused");
    assert_eq!(err.class, ErrorClass::Fatal, "{err}");
    assert_eq!(err.log_id.as_deref(), Some("LOG9"));
    assert!(!err.to_string().contains(TOKEN));
}
