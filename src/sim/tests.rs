//! End-to-end tests of the simulator over loopback: raw HTTP (reqwest) and
//! WebSocket (tokio-tungstenite) requests built from tts-protocols.md, not
//! from our client code, so a misreading of the spec shows up in one of them.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::config::{CozeWsAuth, FaultProvider, FaultRule, VolcWsAuth};
use super::{Outcome, SimArgs, SimConfig, SimHandle, start};

mod rules;

const TOKEN: &str = "test-token";

fn tone() -> SimConfig {
    SimConfig {
        tone: true,
        ..SimConfig::default()
    }
}

async fn sim(config: SimConfig) -> SimHandle {
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    match start(config, addr).await {
        Ok(handle) => handle,
        Err(e) => panic!("simulator did not start: {e:#}"),
    }
}

/// Building a client loads the TLS roots (tens of ms), so build it once.
/// No pooling: each test has its own runtime, and a pooled connection must
/// not outlive the runtime that opened it.
fn client() -> reqwest::Client {
    static CLIENT: std::sync::LazyLock<reqwest::Client> = std::sync::LazyLock::new(|| {
        // reqwest brings no crypto provider of its own: without this, the
        // first test to build a client panicked unless another test (any
        // client constructor of ours) had installed one first.
        crate::provider::install_crypto_provider();
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap_or_else(|e| panic!("cannot build the HTTP client: {e}"))
    });
    CLIENT.clone()
}

fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("unexpected error: {e:?}"))
}

// ------------------------------------------------------------ Volcengine HTTP

fn volc_body(reqid: &str, text: &str) -> Value {
    json!({
        "app": { "appid": "appid", "token": "access_token", "cluster": "volcano_tts" },
        "user": { "uid": "uid-1" },
        "audio": { "voice_type": "BV001_streaming", "encoding": "pcm", "rate": 16000 },
        "request": { "reqid": reqid, "text": text, "operation": "query" },
    })
}

/// POSTs without a Content-Type, as the official demos do.
async fn volc_post(
    h: &SimHandle,
    auth: Option<&str>,
    body: String,
) -> (StatusCode, Option<String>, Value) {
    let mut request = client()
        .post(format!("{}/api/v1/tts", h.base_url()))
        .body(body);
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    let response = ok(request.send().await);
    let status = response.status();
    let logid = response
        .headers()
        .get("x-tt-logid")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let json = ok(response.json::<Value>().await);
    (status, logid, json)
}

async fn volc_ok(h: &SimHandle, body: &Value) -> (StatusCode, Value) {
    let (status, _, json) = volc_post(h, Some("Bearer;test-token"), body.to_string()).await;
    (status, json)
}

#[tokio::test]
async fn sim_volc_http_answers_base64_pcm() {
    let h = sim(tone()).await;
    let (status, logid, answer) = volc_post(
        &h,
        Some("Bearer; test-token"),
        volc_body("r1", "你好世界").to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(logid.is_some_and(|l| !l.is_empty()));
    assert_eq!(answer["code"], 3000);
    assert_eq!(answer["sequence"], -1);
    assert_eq!(answer["reqid"], "r1");
    assert_eq!(answer["operation"], "query");
    let pcm = ok(BASE64.decode(answer["data"].as_str().unwrap_or_default()));
    // 4 characters × 60 ms at 16 kHz, 2 bytes a sample.
    assert_eq!(pcm.len(), 240 * 16 * 2);
    assert_eq!(answer["addition"]["duration"], "240");
    assert_eq!(h.log.count_ok(), 1);
    assert_eq!(h.log.entries()[0].reqid.as_deref(), Some("r1"));
    h.shutdown().await;
}

#[tokio::test]
async fn sim_volc_http_wav_with_timestamps() {
    let h = sim(tone()).await;
    let mut body = volc_body("r-wav", "今天 nice day");
    body["audio"]["encoding"] = json!("wav");
    body["audio"]["rate"] = json!(24000);
    body["request"]["with_timestamp"] = json!("1");
    let (status, answer) = volc_ok(&h, &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let wav = ok(BASE64.decode(answer["data"].as_str().unwrap_or_default()));
    let reader = ok(hound::WavReader::new(std::io::Cursor::new(wav)));
    assert_eq!(reader.spec().sample_rate, 24000);
    assert_eq!(reader.spec().channels, 1);
    assert_eq!(reader.spec().bits_per_sample, 16);
    let frontend: Value = ok(serde_json::from_str(
        answer["addition"]["frontend"].as_str().unwrap_or_default(),
    ));
    let words: Vec<&str> = frontend["words"]
        .as_array()
        .map(|w| w.iter().filter_map(|w| w["word"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(words, ["今", "天", "nice", "day"]);
    h.shutdown().await;
}

#[tokio::test]
async fn sim_volc_http_validation_codes() {
    let h = sim(tone()).await;
    let valid = |reqid: &str| volc_body(reqid, "你好");
    let mut cases: Vec<(&str, Value, u32)> = Vec::new();
    let mut missing = valid("v1");
    missing["app"].as_object_mut().map(|a| a.remove("cluster"));
    cases.push(("missing cluster", missing, 3001));
    let mut voice = valid("v2");
    voice["audio"]["voice_type"] = json!("no_such_voice");
    cases.push(("unknown voice", voice, 3050));
    cases.push(("1025 bytes", volc_body("v3", &"a".repeat(1025)), 3010));
    cases.push(("punctuation", volc_body("v4", "。！？…🙂"), 3011));
    cases.push(("empty text", volc_body("v5", ""), 3011));
    let mut speed = valid("v6");
    speed["audio"]["speed_ratio"] = json!(5);
    cases.push(("speed", speed, 3001));
    let mut rate = valid("v7");
    rate["audio"]["rate"] = json!(12345);
    cases.push(("rate", rate, 3001));
    let mut extra = valid("v8");
    extra["request"]["extra_param"] = json!({ "disable_markdown_filter": true });
    cases.push(("extra_param object", extra, 3001));
    let mut op = valid("v9");
    op["request"]["operation"] = json!("submit");
    cases.push(("operation", op, 3001));
    let mut mp3 = valid("v10");
    mp3["audio"]["encoding"] = json!("mp3");
    cases.push(("mp3", mp3, 3001));
    let mut loud = valid("v11");
    loud["audio"]["loudness_ratio"] = json!(0.1);
    cases.push(("loudness", loud, 3001));
    // v2 was claimed (it failed later, on its voice); v1 never was.
    cases.push(("reused reqid", valid("v2"), 3006));
    for (name, body, code) in cases {
        let (status, answer) = volc_ok(&h, &body).await;
        assert_eq!(answer["code"], code, "{name}: {answer}");
        assert_eq!(answer["sequence"], 0, "{name}");
        assert!(answer.get("data").is_none(), "{name}");
        assert!(status.is_client_error(), "{name}: {status}");
    }
    let (_, mp3) = volc_ok(&h, &{
        let mut b = valid("v12");
        b["audio"]["encoding"] = json!("mp3");
        b
    })
    .await;
    assert!(
        mp3["message"]
            .as_str()
            .unwrap_or_default()
            .contains("not supported by the simulator")
    );
    h.shutdown().await;
}

#[tokio::test]
async fn sim_volc_http_auth_and_garbage() {
    let h = sim(tone()).await;
    for auth in [None, Some("Bearer;wrong"), Some("Bearer test-token")] {
        let (status, logid, answer) =
            volc_post(&h, auth, volc_body("a1", "你好").to_string()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert!(logid.is_some());
        assert_eq!(
            answer["message"],
            "authenticate request: load grant: requested grant not found"
        );
        assert_eq!(answer["code"], 3001);
    }
    let (status, _, answer) =
        volc_post(&h, Some("Bearer;test-token"), "{not json".to_owned()).await;
    assert_eq!(
        (status, answer["code"].as_u64()),
        (StatusCode::BAD_REQUEST, Some(3001))
    );
    assert!(h.log.entries().iter().all(|e| e.outcome != Outcome::Ok));
    assert_eq!(h.log.entries().iter().filter(|e| !e.auth_ok).count(), 3);
    // Still serving.
    let (status, _) = volc_ok(&h, &volc_body("a2", "好")).await;
    assert_eq!(status, StatusCode::OK);
    h.shutdown().await;
}

#[tokio::test]
async fn sim_volc_http_status_can_always_be_200() {
    let h = sim(SimConfig {
        volc_error_status: super::config::ErrorStatus::Ok,
        ..tone()
    })
    .await;
    let (status, answer) = volc_ok(&h, &volc_body("s1", "。")).await;
    assert_eq!(
        (status, answer["code"].as_u64()),
        (StatusCode::OK, Some(3011))
    );
    h.shutdown().await;
}

// ------------------------------------------------------------ Volcengine WS

#[derive(Debug, PartialEq)]
enum Frame {
    Ack(usize),
    Audio {
        seq: i32,
        flags: u8,
        payload: Vec<u8>,
    },
    Error {
        code: u32,
        gzip: bool,
        message: Value,
    },
    Frontend(Value),
}

/// A test-side parser of server frames, written from the spec.
fn parse_frame(bytes: &[u8]) -> Frame {
    let header = usize::from(bytes[0] & 0x0F) * 4;
    let kind = bytes[1] >> 4;
    let flags = bytes[1] & 0x0F;
    let gzip = bytes[2] & 0x0F == 1;
    let rest = &bytes[header..];
    let u32_at = |i: usize| u32::from_be_bytes([rest[i], rest[i + 1], rest[i + 2], rest[i + 3]]);
    let json_at = |i: usize| -> Value {
        let raw = &rest[i..];
        let raw = if gzip {
            let mut out = Vec::new();
            ok(std::io::Read::read_to_end(
                &mut flate2::read::GzDecoder::new(raw),
                &mut out,
            ));
            out
        } else {
            raw.to_vec()
        };
        ok(serde_json::from_slice(&raw))
    };
    match (kind, flags) {
        (0xB, 0) => Frame::Ack(bytes.len()),
        (0xB, _) => {
            let seq = u32_at(0) as i32;
            let size = u32_at(4) as usize;
            assert_eq!(size, rest.len() - 8, "audio size field");
            Frame::Audio {
                seq,
                flags,
                payload: rest[8..].to_vec(),
            }
        }
        (0xF, _) => {
            assert_eq!(u32_at(4) as usize, rest.len() - 8, "error size field");
            Frame::Error {
                code: u32_at(0),
                gzip,
                message: json_at(8),
            }
        }
        (0xC, _) => Frame::Frontend(json_at(4)),
        other => panic!("unexpected frame type {other:?}"),
    }
}

fn client_frame(payload: &[u8], gzip: bool) -> Vec<u8> {
    let body = if gzip {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        ok(std::io::Write::write_all(&mut encoder, payload));
        ok(encoder.finish())
    } else {
        payload.to_vec()
    };
    let mut frame = vec![0x11, 0x10, 0x10 | u8::from(gzip), 0x00];
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(&body);
    frame
}

fn ws_body(reqid: &str, text: &str) -> Value {
    let mut body = volc_body(reqid, text);
    body["request"]["operation"] = json!("submit");
    body
}

/// What a Volcengine WS exchange produced: frames, and whether the server
/// closed with a close frame (false = abrupt end or error).
struct Exchange {
    frames: Vec<Frame>,
    clean_close: bool,
}

type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws_connect(
    url: String,
    auth: Option<&str>,
) -> Result<WsStream, tokio_tungstenite::tungstenite::Error> {
    let mut request = ok(url.into_client_request());
    if let Some(auth) = auth {
        request
            .headers_mut()
            .insert("Authorization", ok(auth.parse()));
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| ws)
}

async fn volc_ws_raw(h: &SimHandle, auth: &str, frame: Vec<u8>) -> Exchange {
    let url = format!("{}/api/v1/tts/ws_binary", h.ws_base_url());
    let mut ws = ok(ws_connect(url, Some(auth)).await);
    ok(ws.send(Message::Binary(frame.into())).await);
    let mut frames = Vec::new();
    let clean_close = loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => frames.push(parse_frame(&b)),
            Ok(Some(Ok(Message::Close(_)))) => break true,
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) => break false,
            Err(_) => panic!("no answer within 5 s"),
        }
    };
    Exchange {
        frames,
        clean_close,
    }
}

async fn volc_ws(h: &SimHandle, body: &Value, gzip: bool) -> Exchange {
    volc_ws_raw(
        h,
        "Bearer; test-token",
        client_frame(body.to_string().as_bytes(), gzip),
    )
    .await
}

fn audio_seqs(frames: &[Frame]) -> Vec<i32> {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::Audio { seq, .. } => Some(*seq),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn sim_volc_ws_streams_ack_then_numbered_audio() {
    let h = sim(tone()).await;
    // 10 characters = 600 ms = 6 chunks of 100 ms.
    let x = volc_ws(&h, &ws_body("w1", "一二三四五六七八九十"), true).await;
    assert!(x.clean_close);
    assert_eq!(x.frames[0], Frame::Ack(8));
    assert_eq!(audio_seqs(&x.frames), [1, 2, 3, 4, 5, -6]);
    let mut total = 0;
    for frame in &x.frames[1..] {
        if let Frame::Audio {
            seq,
            flags,
            payload,
        } = frame
        {
            assert_eq!(*flags, if *seq < 0 { 0b0011 } else { 0b0001 });
            total += payload.len();
        }
    }
    assert_eq!(total, 600 * 16 * 2);
    assert_eq!(h.log.count_ok(), 1);
    h.shutdown().await;
}

#[tokio::test]
async fn sim_volc_ws_short_ack_plain_request_and_timestamps() {
    let h = sim(SimConfig {
        volc_ack_bytes: 4,
        ..tone()
    })
    .await;
    let mut body = ws_body("w2", "你好");
    body["request"]["with_timestamp"] = json!(1);
    let x = volc_ws(&h, &body, false).await;
    assert_eq!(x.frames[0], Frame::Ack(4));
    let Frame::Frontend(frontend) = &x.frames[1] else {
        panic!("expected a frontend frame, got {:?}", x.frames[1]);
    };
    assert!(
        frontend["frontend"]
            .as_str()
            .unwrap_or_default()
            .contains("words")
    );
    assert_eq!(audio_seqs(&x.frames), [1, -2]);
    h.shutdown().await;
}

#[tokio::test]
async fn sim_volc_ws_errors_are_frames() {
    let h = sim(tone()).await;
    let mut voice = ws_body("e1", "你好");
    voice["audio"]["voice_type"] = json!("nope");
    let x = volc_ws(&h, &voice, true).await;
    let Frame::Error {
        code,
        gzip,
        message,
    } = &x.frames[0]
    else {
        panic!("expected an error frame, got {:?}", x.frames);
    };
    assert_eq!((*code, *gzip), (3050, true));
    assert_eq!(message["reqid"], "e1");
    let x = volc_ws(&h, &ws_body("e1", "你好"), false).await;
    assert!(
        matches!(
            x.frames[0],
            Frame::Error {
                code: 3006,
                gzip: false,
                ..
            }
        ),
        "{:?}",
        x.frames
    );

    // A frame whose size field lies, then a frame of the wrong type.
    let mut lying = client_frame(ws_body("e2", "你好").to_string().as_bytes(), false);
    lying[7] = lying[7].wrapping_add(3);
    let x = volc_ws_raw(&h, "Bearer;test-token", lying).await;
    assert!(
        matches!(x.frames[0], Frame::Error { code: 3001, .. }),
        "{:?}",
        x.frames
    );
    let x = volc_ws_raw(
        &h,
        "Bearer;test-token",
        vec![0x11, 0x90, 0x10, 0x00, 0, 0, 0, 0],
    )
    .await;
    assert!(
        matches!(x.frames[0], Frame::Error { code: 3001, .. }),
        "{:?}",
        x.frames
    );
    let x = volc_ws_raw(&h, "Bearer;test-token", vec![0x11]).await;
    assert!(
        matches!(x.frames[0], Frame::Error { code: 3001, .. }),
        "{:?}",
        x.frames
    );

    // Still serving.
    let x = volc_ws(&h, &ws_body("e3", "你好"), true).await;
    assert_eq!(audio_seqs(&x.frames), [1, -2]);
    h.shutdown().await;
}

#[tokio::test]
async fn sim_volc_ws_bad_token_at_handshake_or_in_a_frame() {
    let h = sim(tone()).await;
    let url = format!("{}/api/v1/tts/ws_binary", h.ws_base_url());
    match ws_connect(url, Some("Bearer; wrong")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            assert!(response.headers().contains_key("x-tt-logid"));
        }
        other => panic!("expected a refused handshake, got {:?}", other.map(|_| ())),
    }
    h.shutdown().await;

    let h = sim(SimConfig {
        volc_ws_auth: VolcWsAuth::Frame,
        ..tone()
    })
    .await;
    let x = volc_ws_raw(
        &h,
        "Bearer; wrong",
        client_frame(ws_body("b1", "你好").to_string().as_bytes(), true),
    )
    .await;
    let Frame::Error { code, message, .. } = &x.frames[0] else {
        panic!("expected an error frame, got {:?}", x.frames);
    };
    assert_eq!(*code, 3001);
    assert_eq!(
        message["message"],
        "authenticate request: load grant: requested grant not found"
    );
    h.shutdown().await;
}

// ------------------------------------------------------------ Coze HTTP

async fn coze_post(h: &SimHandle, token: &str, body: &Value) -> reqwest::Response {
    let request = client()
        .post(format!("{}/v1/audio/speech", h.base_url()))
        .bearer_auth(token)
        .json(body);
    ok(request.send().await)
}

async fn coze_error(h: &SimHandle, token: &str, body: &Value) -> (StatusCode, Value) {
    let response = coze_post(h, token, body).await;
    let status = response.status();
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let header_logid = response
        .headers()
        .get("x-tt-logid")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let json: Value = ok(response.json().await);
    assert_eq!(json["detail"]["logid"].as_str(), header_logid.as_deref());
    (status, json)
}

#[tokio::test]
async fn sim_coze_http_answers_raw_audio() {
    let h = sim(tone()).await;
    // What cozepy sends by default, but with pcm: an integer speed.
    let body = json!({ "input": "你好世界", "voice_id": "7426720361733046281", "response_format": "pcm", "speed": 1, "sample_rate": 16000 });
    let response = coze_post(&h, TOKEN, &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "audio/pcm");
    assert!(response.headers().contains_key("x-tt-logid"));
    assert_eq!(ok(response.bytes().await).len(), 240 * 16 * 2);

    // What coze-go sends: every key, nulls for unset ones.
    let body = json!({ "input": "你好", "voice_id": "7426720361732915209", "response_format": "wav", "speed": null,
        "sample_rate": null, "loudness_rate": null, "emotion": "happy", "emotion_scale": 4.5 });
    let response = coze_post(&h, TOKEN, &body).await;
    assert_eq!(response.headers()["content-type"], "audio/wav");
    let reader = ok(hound::WavReader::new(std::io::Cursor::new(ok(response
        .bytes()
        .await))));
    assert_eq!(reader.spec().sample_rate, 24000);
    assert_eq!(reader.duration(), 24000 / 5);
    h.shutdown().await;
}

#[tokio::test]
async fn sim_coze_http_validation_codes() {
    let h = sim(tone()).await;
    let voice = "7426720361733046281";
    let base = |extra: Value| {
        let mut body = json!({ "input": "你好", "voice_id": voice, "response_format": "pcm" });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        body
    };
    let cases = [
        (
            "unknown voice",
            base(json!({ "voice_id": "nope" })),
            404,
            4200,
        ),
        (
            "too long",
            base(json!({ "input": "a".repeat(1025) })),
            400,
            3010,
        ),
        ("emotion", base(json!({ "emotion": "happy" })), 400, 4000),
        ("speed", base(json!({ "speed": 3.5 })), 400, 4000),
        (
            "sample rate",
            base(json!({ "sample_rate": 11025 })),
            400,
            4000,
        ),
        ("loudness", base(json!({ "loudness_rate": 101 })), 400, 4000),
        ("mp3", base(json!({ "response_format": null })), 400, 4000),
        ("no input", json!({ "voice_id": voice }), 400, 4000),
        ("not an object", json!([1, 2]), 400, 4000),
    ];
    for (name, body, status, code) in cases {
        let (got_status, answer) = coze_error(&h, TOKEN, &body).await;
        assert_eq!(
            (got_status.as_u16(), answer["code"].as_u64()),
            (status, Some(code)),
            "{name}: {answer}"
        );
    }
    let (status, answer) = coze_error(&h, "wrong", &base(json!({}))).await;
    assert_eq!(
        (status.as_u16(), answer["code"].as_u64()),
        (401, Some(4100))
    );
    let (_, mp3) = coze_error(&h, TOKEN, &base(json!({ "response_format": "mp3" }))).await;
    assert!(
        mp3["msg"]
            .as_str()
            .unwrap_or_default()
            .contains("not supported by the simulator")
    );
    h.shutdown().await;

    let h = sim(SimConfig {
        coze_too_long_code: 4000,
        ..tone()
    })
    .await;
    let (_, answer) = coze_error(&h, TOKEN, &base(json!({ "input": "字".repeat(342) }))).await;
    assert_eq!(answer["code"], 4000);
    h.shutdown().await;
}

#[tokio::test]
async fn sim_coze_http_garbage_body() {
    let h = sim(tone()).await;
    let response = ok(client()
        .post(format!("{}/v1/audio/speech", h.base_url()))
        .bearer_auth(TOKEN)
        .body("\u{1}garbage")
        .send()
        .await);
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let json: Value = ok(response.json().await);
    assert_eq!(json["code"], 4000);
    h.shutdown().await;
}

// ------------------------------------------------------------ Coze WS

async fn coze_ws(h: &SimHandle) -> WsStream {
    ok(ws_connect(
        format!("{}/v1/audio/speech", h.ws_base_url()),
        Some("Bearer test-token"),
    )
    .await)
}

async fn send_event(ws: &mut WsStream, event: Value) {
    ok(ws.send(Message::Text(event.to_string().into())).await);
}

/// Events until (and including) `until` or `error`; `None` marks a socket
/// that ended without either.
async fn events_until(ws: &mut WsStream, until: &str) -> Vec<Value> {
    let mut events = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let event: Value = ok(serde_json::from_str(text.as_str()));
                assert!(event["id"].is_string(), "{event}");
                assert!(event["detail"]["logid"].is_string(), "{event}");
                let kind = event["event_type"].as_str().unwrap_or_default().to_owned();
                events.push(event);
                if kind == until || kind == "error" {
                    return events;
                }
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) => {
                events.push(Value::Null);
                return events;
            }
            Err(_) => panic!("no event within 5 s; so far {events:?}"),
        }
    }
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap_or("<end>"))
        .collect()
}

async fn say(ws: &mut WsStream, text: &str) -> Vec<Value> {
    send_event(
        ws,
        json!({ "event_type": "input_text_buffer.append", "data": { "delta": text } }),
    )
    .await;
    send_event(ws, json!({ "event_type": "input_text_buffer.complete" })).await;
    events_until(ws, "speech.audio.completed").await
}

#[tokio::test]
async fn sim_coze_ws_full_session() {
    let h = sim(tone()).await;
    let mut ws = coze_ws(&h).await;
    assert_eq!(
        kinds(&events_until(&mut ws, "speech.created").await),
        ["speech.created"]
    );
    send_event(
        &mut ws,
        json!({ "event_type": "speech.update", "data": { "output_audio": {
        "codec": "pcm", "pcm_config": { "sample_rate": 16000 }, "speech_rate": 0 } } }),
    )
    .await;
    let updated = events_until(&mut ws, "speech.updated").await;
    let audio = &updated[0]["data"]["output_audio"];
    assert_eq!(audio["codec"], "pcm");
    assert_eq!(audio["speech_rate"], 0);
    assert_eq!(audio["voice_id"], "7426720361733046281");
    assert_eq!(audio["pcm_config"]["sample_rate"], 16000);

    send_event(
        &mut ws,
        json!({ "event_type": "input_text_buffer.append", "data": { "delta": "一二三四五" } }),
    )
    .await;
    let events = say(&mut ws, "六七八九十").await;
    let k = kinds(&events);
    assert_eq!(
        k[..2],
        [
            "input_text_buffer.completed",
            "conversation.audio.sentence_start"
        ]
    );
    assert_eq!(k.last(), Some(&"speech.audio.completed"));
    let deltas: Vec<Vec<u8>> = events
        .iter()
        .filter(|e| e["event_type"] == "speech.audio.update")
        .map(|e| ok(BASE64.decode(e["data"]["delta"].as_str().unwrap_or_default())))
        .collect();
    assert_eq!(deltas.len(), 6);
    assert_eq!(deltas.iter().map(Vec::len).sum::<usize>(), 600 * 16 * 2);

    // A second utterance on the same socket.
    let again = say(&mut ws, "好").await;
    assert_eq!(kinds(&again).last(), Some(&"speech.audio.completed"));
    assert_eq!(h.log.count_ok(), 2);
    h.shutdown().await;
}

#[tokio::test]
async fn sim_coze_ws_errors_are_events_and_the_session_survives() {
    let h = sim(tone()).await;
    let mut ws = coze_ws(&h).await;
    events_until(&mut ws, "speech.created").await;
    for bad in [
        json!({ "event_type": "conversation.chat.create" }),
        json!({ "data": {} }),
        json!({ "event_type": "speech.update", "data": { "output_audio": { "codec": "opus" } } }),
        json!({ "event_type": "speech.update", "data": { "output_audio": { "voice_id": "nope" } } }),
    ] {
        send_event(&mut ws, bad.clone()).await;
        let events = events_until(&mut ws, "never").await;
        assert_eq!(kinds(&events), ["error"], "{bad}");
        assert!(events[0]["data"]["code"].is_u64());
    }
    ok(ws.send(Message::Text("{garbage".into())).await);
    assert_eq!(
        events_until(&mut ws, "never").await[0]["data"]["code"],
        4000
    );

    let too_long = say(&mut ws, &"字".repeat(342)).await;
    assert_eq!(kinds(&too_long), ["input_text_buffer.completed", "error"]);
    assert_eq!(too_long[1]["data"]["code"], 3010);

    let fine = say(&mut ws, "好的").await;
    assert_eq!(kinds(&fine).last(), Some(&"speech.audio.completed"));
    h.shutdown().await;
}

#[tokio::test]
async fn sim_coze_ws_bad_token_at_handshake_or_as_event() {
    let h = sim(tone()).await;
    match ws_connect(
        format!("{}/v1/audio/speech", h.ws_base_url()),
        Some("Bearer wrong"),
    )
    .await
    {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        other => panic!("expected a refused handshake, got {:?}", other.map(|_| ())),
    }
    h.shutdown().await;

    let h = sim(SimConfig {
        coze_ws_auth: CozeWsAuth::Event,
        ..tone()
    })
    .await;
    // The browser form: the token in the query.
    let url = format!(
        "{}/v1/audio/speech?authorization=Bearer%20{TOKEN}",
        h.ws_base_url()
    );
    let mut ws = ok(ws_connect(url, None).await);
    assert_eq!(
        kinds(&events_until(&mut ws, "speech.created").await),
        ["speech.created"]
    );
    let mut ws = ok(ws_connect(
        format!("{}/v1/audio/speech", h.ws_base_url()),
        Some("Bearer wrong"),
    )
    .await);
    let events = events_until(&mut ws, "speech.created").await;
    assert_eq!(events[0]["data"]["code"], 4100);
    h.shutdown().await;
}

// ------------------------------------------------------------ voice list

#[tokio::test]
async fn sim_coze_voices_paginate() {
    let h = sim(tone()).await;
    let mut has_more = Vec::new();
    let mut ids = Vec::new();
    for page in 1..=3 {
        let url = format!(
            "{}/v1/audio/voices?filter_system_voice=false&page_num={page}&page_size=2",
            h.base_url()
        );
        let response = ok(client().get(url).bearer_auth(TOKEN).send().await);
        assert!(response.headers().contains_key("x-tt-logid"));
        let json: Value = ok(response.json().await);
        assert_eq!(json["code"], 0);
        assert_eq!(json["msg"], "");
        has_more.push(json["data"]["has_more"].as_bool());
        for voice in json["data"]["voice_list"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            for field in [
                "voice_id",
                "name",
                "state",
                "model_type",
                "is_system_voice",
                "language_code",
                "language_name",
                "preview_text",
                "preview_audio",
                "available_training_times",
                "create_time",
                "update_time",
            ] {
                assert!(voice.get(field).is_some(), "{field} missing in {voice}");
            }
            ids.push(voice["voice_id"].as_str().unwrap_or_default().to_owned());
        }
    }
    assert_eq!(has_more, [Some(true), Some(true), Some(false)]);
    assert_eq!(ids.len(), 5);
    let url = format!("{}/v1/audio/voices?page_size=0", h.base_url());
    let json: Value = ok(ok(client().get(url).bearer_auth(TOKEN).send().await)
        .json()
        .await);
    assert_eq!(json["code"], 4000);
    let url = format!("{}/v1/audio/voices", h.base_url());
    assert_eq!(
        ok(client().get(url).send().await).status(),
        StatusCode::UNAUTHORIZED
    );
    h.shutdown().await;
}

// ------------------------------------------------------------ quota

fn quota_config() -> SimConfig {
    SimConfig {
        quota: Some(2),
        latency_ms: 300,
        ..tone()
    }
}

#[tokio::test]
async fn sim_quota_limits_volcengine_concurrency() {
    let h = sim(quota_config()).await;
    let requests = (0..5).map(|i| {
        let body = volc_body(&format!("q{i}"), "你好");
        let h = &h;
        async move { volc_ok(h, &body).await }
    });
    let answers = futures_util::future::join_all(requests).await;
    let limited: Vec<_> = answers.iter().filter(|(_, a)| a["code"] == 3003).collect();
    assert_eq!(limited.len(), 3);
    for (status, answer) in limited {
        assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(answer["message"], "quota exceeded for types: concurrency");
    }
    assert_eq!(h.log.count_ok(), 2);
    assert_eq!(h.log.max_in_flight(), 2);
    assert_eq!(h.log.counts_by_code().get(&3003), Some(&3));
    h.shutdown().await;
}

#[tokio::test]
async fn sim_quota_limits_coze_concurrency() {
    let h = sim(quota_config()).await;
    let body =
        json!({ "input": "你好", "voice_id": "7426720361733046281", "response_format": "pcm" });
    let requests = (0..5).map(|_| {
        let (h, body) = (&h, &body);
        async move {
            let response = coze_post(h, TOKEN, body).await;
            response.status()
        }
    });
    let statuses = futures_util::future::join_all(requests).await;
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        3
    );
    assert_eq!(h.log.count_code(4020), 3);
    assert_eq!(h.log.max_in_flight(), 2);
    h.shutdown().await;
}

// ------------------------------------------------------------ faults

/// True when the request or its body failed on the client side.
async fn failed(sent: reqwest::Result<reqwest::Response>) -> bool {
    match sent {
        Err(_) => true,
        Ok(response) => response.bytes().await.is_err(),
    }
}

async fn fault_run(seed: u64) -> Vec<u64> {
    let h = sim(SimConfig {
        faults: vec![FaultRule {
            provider: FaultProvider::Volcengine,
            code: 3005,
            rate: 0.5,
        }],
        seed,
        ..tone()
    })
    .await;
    let mut codes = Vec::new();
    for i in 0..200 {
        let (status, answer) = volc_ok(&h, &volc_body(&format!("f{i}"), "好")).await;
        let code = answer["code"].as_u64().unwrap_or_default();
        if code == 3005 {
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        }
        codes.push(code);
    }
    h.shutdown().await;
    codes
}

#[tokio::test]
async fn sim_faults_follow_rate_and_seed() {
    let first = fault_run(42).await;
    let failed = first.iter().filter(|c| **c == 3005).count();
    assert!((60..=140).contains(&failed), "{failed} of 200 failed");
    assert_eq!(first.iter().filter(|c| **c == 3000).count(), 200 - failed);
    assert_eq!(fault_run(42).await, first);
}

#[tokio::test]
async fn sim_drops_are_client_visible_errors() {
    let h = sim(SimConfig {
        drop_rate: 1.0,
        ..tone()
    })
    .await;
    let sent = client()
        .post(format!("{}/api/v1/tts", h.base_url()))
        .header("Authorization", "Bearer;test-token")
        .body(volc_body("d1", "你好").to_string())
        .send()
        .await;
    assert!(failed(sent).await);

    let body =
        json!({ "input": "你好", "voice_id": "7426720361733046281", "response_format": "pcm" });
    let sent = client()
        .post(format!("{}/v1/audio/speech", h.base_url()))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await;
    assert!(failed(sent).await);

    let x = volc_ws(&h, &ws_body("d2", "你好"), true).await;
    assert!(!x.clean_close);
    assert!(x.frames.is_empty());

    let mut ws = coze_ws(&h).await;
    events_until(&mut ws, "speech.created").await;
    let events = say(&mut ws, "你好").await;
    assert_eq!(kinds(&events), ["input_text_buffer.completed", "<end>"]);
    assert_eq!(h.log.count(Outcome::Dropped), 4);
    h.shutdown().await;
}

#[tokio::test]
async fn sim_truncation_is_client_visible() {
    let h = sim(SimConfig {
        truncate_rate: 1.0,
        ..tone()
    })
    .await;
    let response = ok(client()
        .post(format!("{}/api/v1/tts", h.base_url()))
        .header("Authorization", "Bearer;test-token")
        .body(volc_body("t1", "你好").to_string())
        .send()
        .await);
    assert!(response.json::<Value>().await.is_err());

    let body = json!({ "input": "一二三四五六七八九十", "voice_id": "7426720361733046281", "response_format": "pcm" });
    let response = coze_post(&h, TOKEN, &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.bytes().await.is_err());

    let x = volc_ws(&h, &ws_body("t2", "一二三四五六七八九十"), true).await;
    assert!(!x.clean_close);
    let seqs = audio_seqs(&x.frames);
    assert!(!seqs.is_empty() && seqs.iter().all(|s| *s > 0), "{seqs:?}");

    let mut ws = coze_ws(&h).await;
    events_until(&mut ws, "speech.created").await;
    let events = say(&mut ws, "一二三四五六七八九十").await;
    let k = kinds(&events);
    assert_eq!(k.last(), Some(&"<end>"));
    assert!(
        k.contains(&"speech.audio.update") && !k.contains(&"speech.audio.completed"),
        "{k:?}"
    );
    assert_eq!(h.log.count(Outcome::Truncated), 4);
    h.shutdown().await;
}

#[tokio::test]
async fn sim_slow_streams_still_deliver() {
    let h = sim(SimConfig {
        slow_stream_ms: 20,
        ..tone()
    })
    .await;
    let started = std::time::Instant::now();
    let x = volc_ws(&h, &ws_body("s1", "一二三四五"), false).await;
    assert_eq!(audio_seqs(&x.frames), [1, 2, -3]);
    // ACK, then 3 frames, each after a pause.
    assert!(started.elapsed() >= Duration::from_millis(60));
    let body = json!({ "input": "一二三四五", "voice_id": "7426720361733046281", "response_format": "pcm", "sample_rate": 8000 });
    let bytes = ok(coze_post(&h, TOKEN, &body).await.bytes().await);
    assert_eq!(bytes.len(), 300 * 8 * 2);
    h.shutdown().await;
}

// ------------------------------------------------------------ config and flags

#[test]
fn sim_config_reads_toml_and_rejects_typos() {
    let config = ok(SimConfig::from_toml(
        r#"
        tokens = ["a", "b"]
        quota = 3
        latency_ms = 5
        latency_per_char_ms = 0.5
        tone = true
        seed = 9
        faults = [{ provider = "coze", code = 5000, rate = 0.1 }, { code = 3005, rate = 0.2 }]
        coze_ws_auth = "event"
        volc_ack_bytes = 4
        volc_error_status = "ok"
        volc_undocumented_rate = "ignore"
        volc_emotion_without_enable = "ignore"
        volc_language_check = true
        coze_account_code = 4011
        served_rate = 16000
        [voices]
        volcengine = ["BV001_streaming", { voice_type = "fr_voice", language = "fr" }]
        [[voices.coze]]
        voice_id = "v1"
        name = "One"
        "#,
    ));
    assert_eq!(config.quota, Some(3));
    assert_eq!(config.faults[1].provider, FaultProvider::Any);
    // A voice written without a state is a ready one.
    assert_eq!(
        config.voices.coze[0].state,
        super::config::VoiceState::Cloned
    );
    assert_eq!(config.voices.volcengine[0].language(), "zh");
    assert_eq!(config.voices.volcengine[1].voice_type(), "fr_voice");
    assert_eq!(config.voices.volcengine[1].language(), "fr");
    assert_eq!(config.coze_account_code, Some(4011));
    assert_eq!(config.served_rate, Some(16000));
    assert!(SimConfig::from_toml("coze_account_code = 4000").is_err());
    assert!(SimConfig::from_toml("volc_undocumented_rate = \"maybe\"").is_err());
    assert!(SimConfig::from_toml("quotaa = 1").is_err());
    assert!(SimConfig::from_toml("volc_ack_bytes = 6").is_err());
    assert!(SimConfig::from_toml("drop_rate = 0.7\ntruncate_rate = 0.7").is_err());
}

#[test]
fn sim_flags_override_the_file_and_fit_under_a_global_cache_flag() {
    use clap::{Args as _, FromArgMatches as _};
    // The integrator's CLI has a global `--cache`; `sim` must still parse.
    let command = clap::Command::new("audiobook")
        .arg(clap::Arg::new("cache").long("cache").global(true))
        .subcommand(SimArgs::augment_args(clap::Command::new("sim")));
    let matches = ok(command.try_get_matches_from([
        "audiobook",
        "sim",
        "--port",
        "0",
        "--tone",
        "--quota",
        "2",
        "--fault",
        "3005:0.5",
        "--fault",
        "coze:5000:0.1",
        "--seed",
        "3",
        "--cache",
        "/tmp/x",
    ]));
    let Some(("sim", sub)) = matches.subcommand() else {
        panic!("no sim subcommand");
    };
    let args = ok(SimArgs::from_arg_matches(sub));
    let config = ok(args.config());
    assert!(config.tone);
    assert_eq!(config.quota, Some(2));
    assert_eq!(config.faults.len(), 2);
    assert_eq!(config.faults[1].provider, FaultProvider::Coze);
    assert_eq!(config.seed, 3);
    assert_eq!(config.cache, std::path::PathBuf::from("/tmp/x"));
}

#[tokio::test]
async fn sim_serves_h2c() {
    let h = sim(tone()).await;
    crate::provider::install_crypto_provider();
    let h2 = ok(reqwest::Client::builder().http2_prior_knowledge().build());
    let body = json!({ "input": "你好", "voice_id": "7426720361733046281", "response_format": "pcm", "sample_rate": 8000 });
    let response = ok(h2
        .post(format!("{}/v1/audio/speech", h.base_url()))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await);
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(ok(response.bytes().await).len(), 200 * 8 * 2);
    h.shutdown().await;
}
