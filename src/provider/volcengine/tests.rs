//! Volcengine clients: the request JSON exactly, fresh reqids, responses
//! parsed and classified, and wire-level checks against one-shot loopback
//! servers (the `Bearer;` header, `Retry-After`, a binary WebSocket session).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use super::*;
use crate::job::{ProviderKind, ProviderSettings, TextType, Transport};
use crate::provider::testutil::{accept_ws, one_shot, response};
use crate::provider::{ErrorClass, SynthRequest, Synthesizer, WordTiming};

/// One HTTP answer to a request for the text "text".
fn interpret_http(status: u16, body: &[u8], s: &VolcSettings) -> Result<Clip, ProviderError> {
    let maker = ClipMaker::new(s).expect("clip maker");
    super::http::interpret_http(status, body, s, &maker, "text")
}

fn volc_ws(settings: VolcSettings) -> VolcWs {
    VolcWs::new(settings).expect("client")
}

const TOKEN: &str = "volc-SECRET-token-987";

fn config(base_url: &str) -> VolcengineConfig {
    VolcengineConfig {
        encoding: crate::job::AudioFormat::Pcm,
        base_url: base_url.to_owned(),
        ws_url: base_url.replacen("http", "ws", 1),
        appid: "1234567".to_owned(),
        cluster: "volcano_tts".to_owned(),
        uid: "audiobook".to_owned(),
        token_env: "VOLCENGINE_TOKEN".to_owned(),
        emotion: None,
        enable_emotion: None,
        emotion_scale: None,
        explicit_language: None,
        context_language: None,
        loudness_ratio: None,
        text_type: TextType::Plain,
        silence_duration: None,
        with_timestamp: false,
        extra_param: None,
        timeout: Duration::from_secs(5),
    }
}

fn settings_with(config: VolcengineConfig, speed: f32) -> VolcSettings {
    let voice = crate::job::Voice {
        provider: ProviderKind::Volcengine,
        transport: Transport::Http,
        voice: "zh_female_cancan_mars_bigtts".to_owned(),
        speed,
        pitch: 50,
        keep_notes: false,
        settings: ProviderSettings::Volcengine(config.clone()),
    };
    VolcSettings::new(&voice, &config, 24_000, Secret::new(TOKEN))
}

fn settings(base_url: &str) -> VolcSettings {
    settings_with(config(base_url), 1.0)
}

fn full_config() -> VolcengineConfig {
    VolcengineConfig {
        emotion: Some("happy".to_owned()),
        enable_emotion: Some(true),
        emotion_scale: Some(4.0),
        explicit_language: Some("zh".to_owned()),
        context_language: Some("id".to_owned()),
        loudness_ratio: Some(1.5),
        text_type: TextType::Ssml,
        silence_duration: Some(500),
        with_timestamp: true,
        extra_param: Some(r#"{"disable_markdown_filter":true}"#.to_owned()),
        ..config("https://openspeech.bytedance.com")
    }
}

#[test]
fn request_json_minimal() {
    let body = settings("https://x").request_json("你好", "REQ-1", "query");
    assert_eq!(
        body,
        json!({
            "app": {"appid": "1234567", "token": "access_token", "cluster": "volcano_tts"},
            "user": {"uid": "audiobook"},
            "audio": {
                "voice_type": "zh_female_cancan_mars_bigtts",
                "encoding": "pcm",
                "rate": 24000,
                "speed_ratio": 1.0,
            },
            "request": {
                "reqid": "REQ-1",
                "text": "你好",
                "operation": "query",
                "text_type": "plain",
            },
        })
    );
}

#[test]
fn request_json_with_every_field() {
    let body = settings_with(full_config(), 0.2).request_json("hi", "REQ-2", "submit");
    assert_eq!(
        body["audio"],
        json!({
            "voice_type": "zh_female_cancan_mars_bigtts",
            "encoding": "pcm",
            "rate": 24000,
            "speed_ratio": 0.2,
            "loudness_ratio": 1.5,
            "emotion": "happy",
            "enable_emotion": true,
            "emotion_scale": 4.0,
            "explicit_language": "zh",
            "context_language": "id",
        })
    );
    assert_eq!(
        body["request"],
        json!({
            "reqid": "REQ-2",
            "text": "<speak>hi</speak>",
            "operation": "submit",
            "text_type": "ssml",
            "with_timestamp": 1,
            "silence_duration": 500,
            "enable_trailing_silence_audio": true,
            "extra_param": "{\"disable_markdown_filter\":true}",
        })
    );
}

#[test]
fn authorization_uses_a_semicolon() {
    assert_eq!(
        settings("https://x").authorization(),
        format!("Bearer;{TOKEN}")
    );
}

#[test]
fn fingerprint_and_debug_hide_secrets() {
    let s = settings_with(full_config(), 1.0);
    let fp = s.fingerprint();
    assert!(
        !fp.contains(TOKEN) && !fp.contains("openspeech") && !fp.contains("1234567"),
        "{fp}"
    );
    assert!(
        fp.contains("zh_female_cancan_mars_bigtts") && fp.contains("ssml"),
        "{fp}"
    );
    assert_ne!(fp, settings_with(full_config(), 1.1).fingerprint());
    // Timings are part of the clip: turning them on renders again; keys of
    // jobs without them are unchanged (no `timestamps` field at all).
    let untimed = settings_with(
        VolcengineConfig {
            with_timestamp: false,
            ..full_config()
        },
        1.0,
    );
    assert!(fp.ends_with("|timestamps=1"), "{fp}");
    assert_eq!(format!("{}|timestamps=1", untimed.fingerprint()), fp);
    let http = VolcHttp::new(settings("https://x")).expect("client");
    let ws = volc_ws(settings("https://x"));
    for text in [format!("{http:?}"), format!("{ws:?}"), format!("{s:?}")] {
        assert!(!text.contains(TOKEN), "{text}");
    }
}

fn reply(body: serde_json::Value) -> Vec<u8> {
    body.to_string().into_bytes()
}

#[test]
fn success_decodes_pcm() {
    let body = reply(
        json!({"reqid": "r", "code": 3000, "operation": "query", "message": "Success",
        "sequence": -1, "data": "AQACAA==", "addition": {"duration": "0"}}),
    );
    let clip = interpret_http(200, &body, &settings("https://x")).expect("clip");
    assert_eq!(clip.samples, vec![1, 2]);
    assert_eq!(clip.sample_rate, 24_000);
}

#[test]
fn timestamps_parse() {
    let frontend = r#"{"words":[{"word":"今","start_time":85,"end_time":205,"confidence":0.9}],"phonemes":[]}"#;
    let words = parse_frontend(frontend).expect("words");
    let jin = WordTiming {
        word: "今".into(),
        start_ms: 85,
        end_ms: 205,
    };
    assert_eq!(words, vec![jin.clone()]);
    assert_eq!(parse_frontend("not json"), None);
    let body = reply(json!({"code": 3000, "data": "AQA=", "addition": {"frontend": frontend}}));
    let plain = interpret_http(200, &body, &settings("https://x")).expect("clip");
    assert!(plain.words.is_empty(), "not asked for: {:?}", plain.words);
    let timed = settings_with(full_config(), 1.0);
    let clip = interpret_http(200, &body, &timed).expect("clip");
    assert_eq!(clip.words, vec![jin]);
    // Timings that do not parse leave the audio good and the words empty.
    let body = reply(json!({"code": 3000, "data": "AQA=", "addition": {"frontend": "{"}}));
    let clip = interpret_http(200, &body, &timed).expect("clip");
    assert!(clip.words.is_empty());
}

#[test]
fn timestamps_round_and_clamp() {
    let frontend = r#"{"words":[{"word":"a","start_time":-3,"end_time":10.6},{"word":"b","start_time":50,"end_time":40}]}"#;
    let words = parse_frontend(frontend).expect("words");
    let spans: Vec<_> = words.iter().map(|w| (w.start_ms, w.end_ms)).collect();
    assert_eq!(spans, [(0, 11), (50, 50)]);
}

#[test]
fn frontend_frames_carry_words_or_nothing() {
    let frame =
        br#"{"frontend":"{\"words\":[{\"word\":\"hi\",\"start_time\":0,\"end_time\":120}]}"}"#;
    assert_eq!(
        frontend_frame_words(frame),
        vec![WordTiming {
            word: "hi".into(),
            start_ms: 0,
            end_ms: 120
        }]
    );
    assert!(frontend_frame_words(br#"{"duration":"5424","first_pkg":"344"}"#).is_empty());
    assert!(frontend_frame_words(b"not json").is_empty());
    assert!(frontend_frame_words(br#"{"frontend":"{bad"}"#).is_empty());
}

#[test]
fn error_codes_on_any_status() {
    for (status, code, class) in [
        (200, 3050, ErrorClass::Permanent),
        (400, 3010, ErrorClass::TooLong),
        // The request's text ("text") is speakable: a 3011 is the voice
        // refusing its language, not a pause.
        (400, 3011, ErrorClass::Permanent),
        (429, 3003, ErrorClass::RateLimit),
        (500, 3031, ErrorClass::Transient),
    ] {
        let body = reply(json!({"reqid": "r", "code": code, "message": "m", "sequence": 0}));
        let err = interpret_http(status, &body, &settings("https://x")).expect_err("error");
        assert_eq!((err.class, err.code), (class, Some(code)), "{code}");
    }
}

#[test]
fn auth_failure_is_fatal_and_hides_the_token() {
    let body = reply(json!({"code": 3001,
        "message": format!("authenticate request: load grant: requested grant not found (Bearer;{TOKEN})")}));
    let err = interpret_http(401, &body, &settings("https://x")).expect_err("auth");
    assert_eq!(err.class, ErrorClass::Fatal);
    assert!(!err.to_string().contains(TOKEN), "{err}");
    assert!(!format!("{err:?}").contains(TOKEN));
}

#[test]
fn broken_bodies() {
    let s = settings("https://x");
    let err = interpret_http(200, br#"{"code":3000,"data":"AQ"#, &s).expect_err("cut");
    assert_eq!(err.class, ErrorClass::Transient);
    let err = interpret_http(502, b"Bad Gateway", &s).expect_err("html");
    assert_eq!(err.class, ErrorClass::Transient);
    assert!(
        err.message.contains("HTTP 502") && err.message.contains("Bad Gateway"),
        "{err}"
    );
    let err =
        interpret_http(200, &reply(json!({"code": 3000, "data": "!!!"})), &s).expect_err("base64");
    assert_eq!(err.class, ErrorClass::Transient);
    let err =
        interpret_http(200, &reply(json!({"code": 3000, "data": "AQAC"})), &s).expect_err("odd");
    assert_eq!(err.class, ErrorClass::Transient);
    let err = interpret_http(200, &reply(json!({"code": 3000})), &s).expect_err("no data");
    assert_eq!(err.class, ErrorClass::Transient);
}

#[tokio::test]
async fn wire_http_headers_and_fresh_reqids() {
    let mut reqids = Vec::new();
    for _ in 0..2 {
        let body = reply(json!({"code": 3000, "data": "AQA="}));
        let (base, server) = one_shot(response(
            "200 OK",
            &[("Content-Type", "application/json")],
            &body,
        ))
        .await;
        let client = VolcHttp::new(settings(&base)).expect("client");
        client
            .synthesize(&SynthRequest { text: "hi".into() })
            .await
            .expect("clip");
        let request = server.await.expect("server");
        assert!(
            request.head.starts_with("POST /api/v1/tts HTTP/1.1"),
            "{}",
            request.head
        );
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer;{TOKEN}"))
        );
        let json = request.json();
        assert_eq!(json["app"]["token"], "access_token");
        assert_eq!(json["request"]["operation"], "query");
        reqids.push(json["request"]["reqid"].as_str().expect("reqid").to_owned());
    }
    assert_ne!(reqids[0], reqids[1]);
    assert!(reqids.iter().all(|id| uuid::Uuid::parse_str(id).is_ok()));
}

#[tokio::test]
async fn wire_429_with_retry_after_is_rate_limit() {
    let (base, _server) = one_shot(response(
        "429 Too Many Requests",
        &[("Retry-After", "3"), ("X-Tt-Logid", "LOG3")],
        b"Too Many Requests",
    ))
    .await;
    let client = VolcHttp::new(settings(&base)).expect("client");
    let err = client
        .synthesize(&SynthRequest { text: "hi".into() })
        .await
        .expect_err("429");
    assert_eq!(err.class, ErrorClass::RateLimit);
    assert_eq!(err.retry_after, Some(Duration::from_secs(3)));
    assert_eq!(err.log_id.as_deref(), Some("LOG3"));
}

#[tokio::test]
async fn wire_body_cut_short_is_transient() {
    let mut canned = b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"code\":3000,".to_vec();
    canned.extend_from_slice(b"\"data\":\"AQ");
    let (base, _server) = one_shot(canned).await;
    let err = VolcHttp::new(settings(&base))
        .expect("client")
        .synthesize(&SynthRequest { text: "hi".into() })
        .await
        .expect_err("cut");
    assert_eq!(err.class, ErrorClass::Transient, "{err}");
}

/// A one-shot binary WebSocket server: reads the request frame, plays
/// `frames`, and returns the Authorization header and the request JSON.
async fn ws_server(
    frames: Vec<Vec<u8>>,
) -> (
    String,
    tokio::task::JoinHandle<(Option<String>, serde_json::Value)>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        let (mut ws, auth) = accept_ws(stream).await;
        let request = loop {
            match ws.next().await {
                Some(Ok(Message::Binary(bytes))) => break bytes,
                Some(Ok(_)) => {}
                other => panic!("no request frame: {other:?}"),
            }
        };
        assert_eq!(&request[..4], &[0x11, 0x10, 0x11, 0x00]);
        let json = frame::decode_request(&request).expect("request frame");
        for bytes in frames {
            if ws.send(Message::binary(bytes)).await.is_err() {
                break;
            }
        }
        (auth, serde_json::from_slice(&json).expect("json"))
    });
    (format!("ws://{addr}"), task)
}

fn ws_settings(base: String) -> VolcSettings {
    let mut s = settings("http://unused");
    s.config.ws_url = base;
    s
}

#[tokio::test]
async fn wire_websocket_session() {
    let frames = vec![
        frame::encode_ack(true),
        frame::encode_frontend(br#"{"frontend":"{\"words\":[]}"}"#, true),
        frame::encode_audio(1, &[1, 0, 2, 0]),
        frame::encode_audio(-2, &[3, 0]),
    ];
    let (base, server) = ws_server(frames).await;
    let clip = volc_ws(ws_settings(base))
        .synthesize(&SynthRequest { text: "hi".into() })
        .await
        .expect("clip");
    assert_eq!(clip.samples, vec![1, 2, 3]);
    let (auth, json) = server.await.expect("server");
    assert_eq!(auth, Some(format!("Bearer;{TOKEN}")));
    assert_eq!(json["request"]["operation"], "submit");
    assert_eq!(json["request"]["text"], "hi");
    assert_eq!(json["audio"]["encoding"], "pcm");
    assert!(clip.words.is_empty(), "not asked for timings");
}

#[tokio::test]
async fn wire_websocket_session_with_timestamps() {
    let words = r#"{\"words\":[{\"word\":\"hi\",\"start_time\":0,\"end_time\":40}]}"#;
    let frames = vec![
        frame::encode_ack(true),
        frame::encode_frontend(format!(r#"{{"frontend":"{words}"}}"#).as_bytes(), true),
        frame::encode_audio(1, &[1, 0, 2, 0]),
        frame::encode_frontend(br#"{"duration":"0","first_pkg":"3"}"#, false),
        frame::encode_audio(-2, &[3, 0]),
    ];
    let (base, server) = ws_server(frames).await;
    let mut s = ws_settings(base);
    s.config.with_timestamp = true;
    let clip = volc_ws(s)
        .synthesize(&SynthRequest { text: "hi".into() })
        .await
        .expect("clip");
    assert_eq!(clip.samples, vec![1, 2, 3]);
    assert_eq!(
        clip.words,
        vec![WordTiming {
            word: "hi".into(),
            start_ms: 0,
            end_ms: 40
        }]
    );
    let (_, json) = server.await.expect("server");
    assert_eq!(json["request"]["with_timestamp"], 1);
}

#[tokio::test]
async fn wire_websocket_error_frame_and_early_close() {
    let message = r#"{"reqid":"r","message":"extract request resource id: get resource id: access denied","code":403,"backend_code":0}"#;
    let (base, _server) = ws_server(vec![
        frame::encode_ack(false),
        frame::encode_error(3001, message, true),
    ])
    .await;
    let err = volc_ws(ws_settings(base))
        .synthesize(&SynthRequest { text: "hi".into() })
        .await
        .expect_err("error frame");
    assert_eq!(
        (err.class, err.code),
        (ErrorClass::Fatal, Some(3001)),
        "{err}"
    );

    let (base, _server) = ws_server(vec![frame::encode_error(
        3050,
        "voice_type not found",
        false,
    )])
    .await;
    let err = volc_ws(ws_settings(base))
        .synthesize(&SynthRequest { text: "hi".into() })
        .await
        .expect_err("3050");
    assert_eq!((err.class, err.code), (ErrorClass::Permanent, Some(3050)));

    let (base, _server) = ws_server(vec![
        frame::encode_ack(true),
        frame::encode_audio(1, &[1, 0]),
    ])
    .await;
    let err = volc_ws(ws_settings(base))
        .synthesize(&SynthRequest { text: "hi".into() })
        .await
        .expect_err("closed early");
    assert_eq!(err.class, ErrorClass::Transient, "{err}");

    let (base, _server) = ws_server(vec![vec![0x11, 0xB1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9]]).await;
    let err = volc_ws(ws_settings(base))
        .synthesize(&SynthRequest { text: "hi".into() })
        .await
        .expect_err("malformed");
    assert_eq!(err.class, ErrorClass::Transient);
    assert!(err.message.contains("malformed frame"), "{err}");
}
