//! The documented rules the simulator enforces (issue 11), each with raw
//! requests written from tts-protocols.md: Volcengine's documented rates
//! (refused, or by switch answered at 24 kHz), speed ranges per cluster,
//! `enable_emotion` with an emotion, `<speak>` for SSML, 3011 for text in
//! another language than the voice's; Coze's speed per voice model, emotion
//! scale per voice, account-wide refusals by switch, the voice list's
//! default state; the concurrency quota's code; `/stats`.

use super::*;

fn config(toml: &str) -> SimConfig {
    let mut config = ok(SimConfig::from_toml(toml));
    config.tone = true;
    config
}

async fn volc_code(h: &SimHandle, body: &Value) -> i64 {
    let (_, json) = volc_ok(h, body).await;
    json["code"].as_i64().unwrap_or_default()
}

/// A Volcengine WS exchange's error code, or 3000 for audio.
async fn volc_ws_code(h: &SimHandle, body: &Value) -> u32 {
    let exchange = volc_ws(h, body, false).await;
    exchange
        .frames
        .iter()
        .find_map(|f| match f {
            Frame::Error { code, .. } => Some(*code),
            _ => None,
        })
        .unwrap_or(3000)
}

#[tokio::test]
async fn sim_volc_undocumented_rates_are_refused_or_answered_at_24k() {
    let h = sim(tone()).await;
    let mut body = volc_body("rate-1", "你好世界");
    body["audio"]["rate"] = json!(44100);
    assert_eq!(volc_code(&h, &body).await, 3001);
    let mut ws = ws_body("rate-2", "你好世界");
    ws["audio"]["rate"] = json!(22050);
    assert_eq!(volc_ws_code(&h, &ws).await, 3001);
    for rate in [8000, 16000, 24000] {
        let mut body = volc_body(&format!("rate-{rate}"), "你好世界");
        body["audio"]["rate"] = json!(rate);
        assert_eq!(volc_code(&h, &body).await, 3000, "{rate}");
    }
    h.shutdown().await;

    let h = sim(config("volc_undocumented_rate = \"ignore\"")).await;
    let mut body = volc_body("rate-3", "你好世界");
    body["audio"]["rate"] = json!(44100);
    let (_, answer) = volc_ok(&h, &body).await;
    assert_eq!(answer["code"], 3000);
    // 240 ms of tone at 24 kHz, and the duration says so.
    let pcm = ok(BASE64.decode(answer["data"].as_str().unwrap_or_default()));
    assert_eq!(pcm.len(), 240 * 24 * 2);
    assert_eq!(answer["addition"]["duration"], "240");
    h.shutdown().await;
}

#[tokio::test]
async fn sim_volc_speed_range_depends_on_the_cluster() {
    let h = sim(tone()).await;
    for (cluster, speed, code) in [
        ("volcano_tts", 0.8, 3000),
        ("volcano_tts", 2.0, 3000),
        ("volcano_tts", 0.5, 3001),
        ("volcano_tts", 2.5, 3001),
        ("volcano_icl", 0.2, 3000),
        ("volcano_icl_concurr", 3.0, 3000),
        ("volcano_icl", 3.5, 3001),
    ] {
        let mut body = volc_body(&format!("speed-{cluster}-{speed}"), "你好");
        body["app"]["cluster"] = json!(cluster);
        body["audio"]["speed_ratio"] = json!(speed);
        assert_eq!(volc_code(&h, &body).await, code, "{cluster} {speed}");
    }
    h.shutdown().await;
}

#[tokio::test]
async fn sim_volc_emotion_needs_enable_emotion() {
    let h = sim(tone()).await;
    let mut body = volc_body("emo-1", "你好");
    body["audio"]["emotion"] = json!("happy");
    let (_, answer) = volc_ok(&h, &body).await;
    assert_eq!(answer["code"], 3001);
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|m| m.contains("enable_emotion")),
        "{answer}"
    );
    let mut ws = ws_body("emo-2", "你好");
    ws["audio"]["emotion"] = json!("happy");
    assert_eq!(volc_ws_code(&h, &ws).await, 3001);
    ws["request"]["reqid"] = json!("emo-3");
    ws["audio"]["enable_emotion"] = json!(true);
    assert_eq!(volc_ws_code(&h, &ws).await, 3000);
    h.shutdown().await;

    let h = sim(config("volc_emotion_without_enable = \"ignore\"")).await;
    body["request"]["reqid"] = json!("emo-4");
    assert_eq!(volc_code(&h, &body).await, 3000, "silently ignored");
    h.shutdown().await;
}

#[tokio::test]
async fn sim_volc_ssml_needs_speak_and_speaks_the_content() {
    let h = sim(tone()).await;
    let ssml = |reqid: &str, text: &str| {
        let mut body = volc_body(reqid, text);
        body["request"]["text_type"] = json!("ssml");
        body
    };
    assert_eq!(volc_code(&h, &ssml("ssml-1", "Tom & Jerry")).await, 3001);
    assert_eq!(
        volc_code(&h, &ssml("ssml-2", "<speak>Tom & Jerry</speak>")).await,
        3001,
        "a bare & is not SSML"
    );
    let (_, answer) = volc_ok(&h, &ssml("ssml-3", "<speak>Tom &amp; Jerry</speak>")).await;
    assert_eq!(answer["code"], 3000);
    // The content is what is spoken (and logged): nine characters besides
    // spaces, 60 ms each for the tone.
    let spoken = h.log.entries().last().map(|e| e.text.clone());
    assert_eq!(spoken.as_deref(), Some("Tom & Jerry"));
    assert_eq!(answer["addition"]["duration"], "540");
    h.shutdown().await;
}

#[tokio::test]
async fn sim_volc_language_check_answers_3011() {
    let h = sim(config("volc_language_check = true")).await;
    // BV001_streaming speaks Chinese.
    let (_, answer) = volc_ok(&h, &volc_body("lang-1", "Hello there.")).await;
    assert_eq!(answer["code"], 3011);
    assert_eq!(answer["message"], "illegal input text!");
    assert_eq!(
        volc_code(&h, &volc_body("lang-2", "你好, Tom.")).await,
        3000
    );
    let mut body = volc_body("lang-3", "Hello there.");
    body["audio"]["explicit_language"] = json!("en");
    assert_eq!(volc_code(&h, &body).await, 3000);
    let mut body = volc_body("lang-4", "Hello there.");
    body["audio"]["voice_type"] = json!("en_male_adam_mars_bigtts");
    assert_eq!(volc_code(&h, &body).await, 3000);
    assert_eq!(volc_ws_code(&h, &ws_body("lang-5", "Hello.")).await, 3011);
    h.shutdown().await;
    // Off by default: the real check is by voice, and not documented.
    let h = sim(tone()).await;
    assert_eq!(volc_code(&h, &volc_body("lang-6", "Hello.")).await, 3000);
    h.shutdown().await;
}

#[tokio::test]
async fn sim_volc_quota_code_is_configurable() {
    let h = sim(config("quota = 0\nvolc_quota_code = 3001")).await;
    let (_, answer) = volc_ok(&h, &volc_body("quota-1", "你好")).await;
    assert_eq!(answer["code"], 3001);
    assert_eq!(answer["message"], "quota exceeded for types: concurrency");
    h.shutdown().await;
}

#[tokio::test]
async fn sim_served_rate_is_reported_truthfully() {
    let h = sim(config("served_rate = 16000")).await;
    let mut body = volc_body("served-1", "你好世界");
    body["audio"]["rate"] = json!(24000);
    let (_, answer) = volc_ok(&h, &body).await;
    let pcm = ok(BASE64.decode(answer["data"].as_str().unwrap_or_default()));
    assert_eq!(pcm.len(), 240 * 16 * 2, "16 kHz audio");
    assert_eq!(answer["addition"]["duration"], "240");
    let mut ws = coze_ws(&h).await;
    events_until(&mut ws, "speech.created").await;
    send_event(
        &mut ws,
        json!({ "event_type": "speech.update", "data": { "output_audio": {
            "codec": "pcm", "pcm_config": { "sample_rate": 24000 } } } }),
    )
    .await;
    let updated = events_until(&mut ws, "speech.updated").await;
    let rate = &updated
        .last()
        .map(|e| e["data"]["output_audio"]["pcm_config"]["sample_rate"].clone());
    assert_eq!(rate, &Some(json!(16000)));
    h.shutdown().await;
}

#[tokio::test]
async fn sim_coze_speed_range_depends_on_the_voice_model() {
    let h = sim(tone()).await;
    // 柔美女友 is a big-model voice, Adam a small-model one.
    for (voice, speed, ok_expected) in [
        ("7426720361733046281", 0.5, true),
        ("7426720361733046281", 2.0, true),
        ("7426720361733046281", 0.3, false),
        ("7426720361733046281", 2.5, false),
        ("7426725529589596187", 0.2, true),
        ("7426725529589596187", 3.0, true),
        ("7426725529589596187", 3.5, false),
    ] {
        let body = json!({ "input": "hello", "voice_id": voice, "response_format": "pcm", "speed": speed });
        let response = coze_post(&h, TOKEN, &body).await;
        assert_eq!(
            response.status().is_success(),
            ok_expected,
            "{voice} {speed}"
        );
        if !ok_expected {
            let json: Value = ok(response.json().await);
            assert_eq!(json["code"], 4000, "{voice} {speed}");
        }
    }
    h.shutdown().await;
}

#[tokio::test]
async fn sim_coze_emotion_scale_within_the_voice_interval() {
    let h = sim(config(
        r#"
        [[voices.coze]]
        voice_id = "narrow"
        name = "Narrow"
        support_emotions = [{ emotion = "happy", display_name = "Happy", emotion_scale_interval = { min = 1.0, max = 3.0, default = 2.0 } }]
        "#,
    ))
    .await;
    let body = |scale: f64| {
        json!({ "input": "hello", "voice_id": "narrow", "response_format": "pcm",
                "emotion": "happy", "emotion_scale": scale })
    };
    assert!(coze_post(&h, TOKEN, &body(3.0)).await.status().is_success());
    let (status, json) = coze_error(&h, TOKEN, &body(4.0)).await;
    assert_eq!((status.as_u16(), json["code"].clone()), (400, json!(4000)));
    h.shutdown().await;
}

#[tokio::test]
async fn sim_coze_account_wide_refusals_by_switch() {
    for (code, status) in [(4101, 403), (4008, 429), (4011, 400), (4028, 400)] {
        let h = sim(config(&format!("coze_account_code = {code}"))).await;
        let body = json!({ "input": "hello", "voice_id": "7426720361733046281", "response_format": "pcm" });
        let (got, json) = coze_error(&h, TOKEN, &body).await;
        assert_eq!((got.as_u16(), json["code"].clone()), (status, json!(code)));
        let mut ws = coze_ws(&h).await;
        events_until(&mut ws, "speech.created").await;
        let events = say(&mut ws, "hello").await;
        let last = events.last().cloned().unwrap_or_default();
        assert_eq!(last["event_type"], "error", "{events:?}");
        assert_eq!(last["data"]["code"], code);
        h.shutdown().await;
    }
}

#[tokio::test]
async fn sim_voice_list_defaults_to_cloned_voices() {
    let h = sim(tone()).await;
    let list = |query: &'static str| {
        let url = format!("{}/v1/audio/voices{query}", h.base_url());
        async move {
            let response = ok(client().get(url).bearer_auth(TOKEN).send().await);
            let json: Value = ok(response.json().await);
            json["data"]["voice_list"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .map(|v| v["state"].as_str().unwrap_or_default().to_owned())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        }
    };
    let default = list("").await;
    assert!(
        !default.is_empty() && default.iter().all(|s| s == "cloned"),
        "{default:?}"
    );
    let all = list("?voice_state=all").await;
    assert_eq!(all.len(), default.len() + 1);
    assert!(all.iter().any(|s| s == "init"));
    h.shutdown().await;
}

#[tokio::test]
async fn sim_stats_count_by_outcome_and_token_and_list_the_texts() {
    let mut config = config("quota = 1");
    config.tokens = vec!["first".into(), TOKEN.into()];
    let h = sim(config).await;
    assert_eq!(volc_code(&h, &volc_body("s-1", "你好")).await, 3000);
    let (_, _, refused) = volc_post(
        &h,
        Some("Bearer;wrong"),
        volc_body("s-2", "你好").to_string(),
    )
    .await;
    assert_eq!(refused["code"], 3001);
    let stats: Value = ok(
        ok(client().get(format!("{}/stats", h.base_url())).send().await)
            .json()
            .await,
    );
    assert_eq!(stats["requests"], 2);
    assert_eq!(stats["by_outcome"]["ok"], 1);
    assert_eq!(stats["by_outcome"]["3001"], 1);
    assert_eq!(stats["by_token"]["token 2"], 1);
    assert_eq!(stats["by_token"]["refused"], 1);
    assert_eq!(stats["max_in_flight"], 1);
    assert_eq!(stats["texts"], json!(["你好"]));
    assert!(!stats.to_string().contains(TOKEN), "never a token");
    h.shutdown().await;
}
