//! Cloud renders that are right on the real services (issue 11): the real
//! binary against the simulator on loopback, the simulator holding each
//! documented rule (some by switch). Each test failed on the code before
//! the issue: a 3011 turned into silence, undocumented rates, swapped speed
//! ranges, an emotion without `enable_emotion`, SSML without `<speak>`,
//! account-wide Coze refusals per segment, the concurrency quota under
//! another code, 3030 retried to the end, errors without ids, one summary
//! line per segment, a fatal stop poisoning unsent segments, the token in
//! trace logs, a fixed connect timeout, and `validate` blind to clones.

use audiobook::sim::Outcome;

use crate::util::{
    COZE_VOICE, Cloud, Sim, TOKEN, VOLC_VOICE, WAV_BOTH, Workspace, assert_no_file_contains,
    delivered_wav, manuscript, render_cloud as render, stderr, stdout, wav_samples,
};

/// What a test job asks for besides the defaults of [`job`].
#[derive(Clone, Copy)]
struct Spec<'a> {
    cloud: Cloud,
    transport: &'a str,
    voice: Option<&'a str>,
    /// Extra lines under `[voice]` (e.g. `speed = 0.3`).
    voice_lines: &'a str,
    /// Extra lines under `[voice.coze]` or `[voice.volcengine]`.
    table_lines: &'a str,
    rate: u32,
    render: &'a str,
}

impl<'a> Spec<'a> {
    fn new(cloud: Cloud, transport: &'a str) -> Self {
        Spec {
            cloud,
            transport,
            voice: None,
            voice_lines: "",
            table_lines: "",
            rate: 24_000,
            render: "max_attempts = 3",
        }
    }
}

fn job(ws: &Workspace, sim: &Sim, spec: Spec) {
    let base = sim.handle.base_url();
    let (provider, table, voice, table_base) = match spec.cloud {
        Cloud::Coze => (
            "coze",
            "coze",
            spec.voice.unwrap_or(COZE_VOICE),
            String::new(),
        ),
        Cloud::Volcengine => (
            "volcengine",
            "volcengine",
            spec.voice.unwrap_or(VOLC_VOICE),
            "appid = \"1234567\"\n".to_owned(),
        ),
    };
    ws.write(
        "job.toml",
        format!(
            "[book]\ntitle = \"Rules\"\nlanguage = \"en\"\n\n\
             [manuscript]\nfiles = [\"book.md\"]\n\n\
             [voice]\nprovider = \"{provider}\"\ntransport = \"{}\"\nvoice = \"{voice}\"\n{}\n\n\
             [voice.{table}]\nbase_url = \"{base}\"\n{table_base}token_env = \"TEST_TTS_TOKEN\"\n{}\n\n\
             [audio]\nsample_rate = {}\nsentence_gap_ms = 100\nparagraph_gap_ms = 300\n\
             chapter_head_ms = 500\nchapter_trailing_ms = 1000\n\n\
             [render]\n{}\n\n[output]\ndir = \"out\"\n{WAV_BOTH}",
            spec.transport, spec.voice_lines, spec.table_lines, spec.rate, spec.render
        ),
    );
}

fn workspace(text: &str) -> Workspace {
    let ws = Workspace::new();
    ws.write("book.md", text);
    ws
}

const BOTH: [&str; 2] = ["http", "websocket"];

fn failures_text(ws: &Workspace) -> String {
    ws.report()["failures"].to_string()
}

#[test]
fn a_3011_for_speakable_text_is_a_failed_segment_saying_what_to_do_never_silence() {
    for transport in BOTH {
        // BV001_streaming speaks Chinese; the book is English.
        let sim = Sim::start("volc_language_check = true\n");
        let ws = workspace(&manuscript(1, 3));
        job(&ws, &sim, Spec::new(Cloud::Volcengine, transport));
        let out = render(&ws, TOKEN);
        assert_eq!(out.status.code(), Some(1), "{transport}: {}", stderr(&out));
        let report = ws.report();
        assert_eq!(report["outcome"], "failed", "{transport}");
        assert_eq!(report["counts"]["pause"], 0, "{transport}: no silence");
        assert_eq!(report["counts"]["failed"], 4, "{transport}");
        assert!(report["pauses"].as_object().is_some_and(|p| p.is_empty()));
        let summary = stdout(&out);
        assert!(
            summary.contains("illegal input text!")
                && summary.contains("set [voice.volcengine] explicit_language"),
            "{transport}: {summary}"
        );
        assert!(!summary.contains(": complete:"), "{summary}");
        assert_eq!(sim.entries().len(), 4, "{transport}: a 3011 is not retried");

        // Said what to do, done: the voice may read English.
        job(
            &ws,
            &sim,
            Spec {
                table_lines: "explicit_language = \"en\"",
                ..Spec::new(Cloud::Volcengine, transport)
            },
        );
        let out = render(&ws, TOKEN);
        assert_eq!(out.status.code(), Some(0), "{transport}: {}", stderr(&out));
        assert_eq!(ws.report()["outcome"], "complete");
    }
}

/// Chapter audio length in seconds, read from the WAV file itself.
fn chapter_secs(ws: &Workspace) -> f64 {
    let (spec, samples) = wav_samples(&delivered_wav(&ws.out(), Some(1)));
    samples.len() as f64 / f64::from(spec.sample_rate)
}

#[test]
fn undocumented_rates_are_asked_at_a_documented_rate_and_resampled() {
    // A service that silently answers 24 kHz to any other rate.
    let sim = Sim::start("volc_undocumented_rate = \"ignore\"\n");
    let text = manuscript(1, 4);
    for transport in BOTH {
        let reference = workspace(&text);
        job(&reference, &sim, Spec::new(Cloud::Volcengine, transport));
        assert_eq!(render(&reference, TOKEN).status.code(), Some(0));
        let expected = chapter_secs(&reference);

        let ws = workspace(&text);
        job(
            &ws,
            &sim,
            Spec {
                rate: 44_100,
                ..Spec::new(Cloud::Volcengine, transport)
            },
        );
        let out = render(&ws, TOKEN);
        assert_eq!(out.status.code(), Some(0), "{transport}: {}", stderr(&out));
        let (spec, _) = wav_samples(&delivered_wav(&ws.out(), Some(1)));
        assert_eq!(spec.sample_rate, 44_100);
        let got = chapter_secs(&ws);
        // Same speech, same gaps: the same length, give or take resampling
        // a few samples per clip (not 1.84 times shorter).
        assert!(
            (got - expected).abs() < 0.01,
            "{transport}: {got} s at 44.1 kHz, {expected} s at 24 kHz"
        );
    }
    // By default the simulator refuses undocumented rates, as documented;
    // a job at 22050 Hz asks for 24000 and renders.
    let sim = Sim::start("");
    let ws = workspace(&manuscript(1, 2));
    job(
        &ws,
        &sim,
        Spec {
            rate: 22_050,
            ..Spec::new(Cloud::Volcengine, "http")
        },
    );
    let out = render(&ws, TOKEN);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let entries = sim.entries();
    assert!(!entries.is_empty(), "nothing reached the simulator");
    assert!(entries.iter().all(|e| e.outcome == Outcome::Ok));
}

/// Every job rate asks Volcengine for its documented rate: 8000 and 16000
/// as they are, the others 24000 (the closest documented at or above, at
/// most 24000), resampled to the job's rate. The simulator logs the rate
/// each request asked for; the chapter file's length, read back, is the
/// same speech at every rate.
#[test]
fn each_job_rate_asks_volcengine_for_its_documented_rate() {
    let text = manuscript(1, 3);
    for transport in BOTH {
        let sim = Sim::start("");
        let reference = workspace(&text);
        job(&reference, &sim, Spec::new(Cloud::Volcengine, transport));
        assert_eq!(render(&reference, TOKEN).status.code(), Some(0));
        let expected = chapter_secs(&reference);
        for (rate, asked) in [
            (8_000, 8_000),
            (16_000, 16_000),
            (22_050, 24_000),
            (48_000, 24_000),
        ] {
            let sim = Sim::start("");
            let ws = workspace(&text);
            job(
                &ws,
                &sim,
                Spec {
                    rate,
                    ..Spec::new(Cloud::Volcengine, transport)
                },
            );
            let out = render(&ws, TOKEN);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{transport} {rate}: {}",
                stderr(&out)
            );
            let entries = sim.entries();
            assert_eq!(
                entries.len(),
                4,
                "{transport} {rate}: one request per segment"
            );
            for e in &entries {
                assert_eq!(e.asked_rate, Some(asked), "{transport} {rate}: {e:?}");
                assert_eq!(e.outcome, Outcome::Ok);
            }
            let (spec, _) = wav_samples(&delivered_wav(&ws.out(), Some(1)));
            assert_eq!(spec.sample_rate, rate);
            let got = chapter_secs(&ws);
            assert!(
                (got - expected).abs() < 0.01,
                "{transport} {rate}: {got} s, {expected} s at 24 kHz"
            );
        }
    }
}

#[test]
fn a_clip_whose_length_disagrees_with_the_service_is_an_error_naming_both() {
    // The service answers 16 kHz whatever is asked, and says so.
    let cases = [
        (Cloud::Volcengine, "http", "", "the service says it lasts"),
        (
            Cloud::Volcengine,
            "websocket",
            "with_timestamp = true",
            "the service says it lasts",
        ),
        (
            Cloud::Coze,
            "websocket",
            "",
            "speech.updated says the audio is at 16000 Hz",
        ),
        (
            Cloud::Coze,
            "http",
            "response_format = \"wav\"",
            "its WAV header (16000 Hz) says",
        ),
    ];
    for (cloud, transport, table_lines, says) in cases {
        let sim = Sim::start("served_rate = 16000\n");
        let ws = workspace(&manuscript(1, 2));
        job(
            &ws,
            &sim,
            Spec {
                table_lines,
                ..Spec::new(cloud, transport)
            },
        );
        let out = render(&ws, TOKEN);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{cloud:?} {transport}: {}",
            stderr(&out)
        );
        let failures = failures_text(&ws);
        assert!(
            failures.contains(says) && failures.contains("ms read at 24000 Hz"),
            "{cloud:?} {transport}: {failures}"
        );
        assert_eq!(ws.report()["counts"]["failed"], 3, "{cloud:?} {transport}");
    }
}

#[test]
fn speeds_follow_each_providers_documented_range() {
    let sim = Sim::start("");
    // Volcengine: 0.8..=2.0, but 0.2..=3.0 for clone voices.
    let ws = workspace(&manuscript(1, 1));
    job(
        &ws,
        &sim,
        Spec {
            voice_lines: "speed = 0.3",
            ..Spec::new(Cloud::Volcengine, "http")
        },
    );
    let out = render(&ws, TOKEN);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("speed must be between 0.8 and 2.0"),
        "{}",
        stderr(&out)
    );
    assert!(sim.entries().is_empty());
    job(
        &ws,
        &sim,
        Spec {
            voice_lines: "speed = 0.3",
            table_lines: "cluster = \"volcano_icl\"",
            ..Spec::new(Cloud::Volcengine, "websocket")
        },
    );
    let out = render(&ws, TOKEN);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // Coze HTTP: a small-model voice takes 0.3; a big-model one not 2.5.
    let ws = workspace(&manuscript(1, 1));
    job(
        &ws,
        &sim,
        Spec {
            voice: Some("7426725529589596187"),
            voice_lines: "speed = 0.3",
            ..Spec::new(Cloud::Coze, "http")
        },
    );
    let out = render(&ws, TOKEN);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    job(
        &ws,
        &sim,
        Spec {
            voice_lines: "speed = 2.5",
            ..Spec::new(Cloud::Coze, "http")
        },
    );
    let out = ws
        .command()
        .args(["validate", "job.toml"])
        .env("TEST_TTS_TOKEN", TOKEN)
        .output()
        .expect("validate");
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        said.contains("big-model voice, which takes speed 0.5..=2.0"),
        "{said}"
    );
}

#[test]
fn an_emotion_is_sent_with_enable_emotion() {
    for transport in BOTH {
        let sim = Sim::start("");
        let ws = workspace(&manuscript(1, 2));
        job(
            &ws,
            &sim,
            Spec {
                table_lines: "emotion = \"happy\"\nemotion_scale = 4",
                ..Spec::new(Cloud::Volcengine, transport)
            },
        );
        let out = render(&ws, TOKEN);
        assert_eq!(out.status.code(), Some(0), "{transport}: {}", stderr(&out));
        let entries = sim.entries();
        assert_eq!(entries.len(), 3, "{transport}: one request per segment");
        assert!(entries.iter().all(|e| e.outcome == Outcome::Ok));
    }
}

#[test]
fn ssml_jobs_send_escaped_text_inside_speak() {
    let text = "# One\n\nFish & chips: 2 < 3 and 5 > 4, said \"Tom\".\n\nIt's fine.\n";
    for transport in BOTH {
        let sim = Sim::start("");
        let ws = workspace(text);
        job(
            &ws,
            &sim,
            Spec {
                table_lines: "text_type = \"ssml\"",
                ..Spec::new(Cloud::Volcengine, transport)
            },
        );
        let out = render(&ws, TOKEN);
        assert_eq!(out.status.code(), Some(0), "{transport}: {}", stderr(&out));
        // The service spoke the manuscript's text, markup characters
        // included: they reached it escaped inside <speak> (the simulator
        // refuses anything else).
        let spoken = sim.ok_by_text();
        assert!(
            spoken.contains_key("Fish & chips: 2 < 3 and 5 > 4, said \"Tom\".")
                && spoken.contains_key("It's fine."),
            "{transport}: {spoken:?}"
        );
    }
}

#[test]
fn account_wide_coze_refusals_stop_the_job_and_leave_every_segment_pending() {
    let codes = [
        (4008, "daily usage limit"),
        (4011, "top it up"),
        (4019, "arrears"),
        (4022, "arrears"),
        (4027, "overdue"),
        (4028, "free credit"),
        (4101, "createSpeech permission"),
    ];
    for (i, (code, advice)) in codes.into_iter().enumerate() {
        let transport = BOTH[i % 2];
        let sim = Sim::start(&format!("coze_account_code = {code}\n"));
        let ws = workspace(&manuscript(2, 6));
        job(
            &ws,
            &sim,
            Spec {
                render: "concurrency = 2\nmax_attempts = 4",
                ..Spec::new(Cloud::Coze, transport)
            },
        );
        let out = render(&ws, TOKEN);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{code} {transport}: {}",
            stderr(&out)
        );
        assert!(
            sim.entries().len() <= 2,
            "{code}: {} requests",
            sim.entries().len()
        );
        let summary = stdout(&out);
        assert!(
            summary.contains("stopped by the provider") && summary.contains(advice),
            "{code}: {summary}"
        );
        let report = ws.report();
        assert_eq!(
            report["counts"]["failed"], 0,
            "{code}: nothing failed for it"
        );
        assert_eq!(report["counts"]["pending"], 14, "{code}");
        assert!(
            report["stopped_by"]
                .as_str()
                .is_some_and(|s| s.contains(&format!("code {code}")) && s.contains("log id")),
            "{code}: {report}"
        );
    }
}

#[test]
fn a_fatal_stop_prints_its_summary_and_the_fixed_token_renders_the_rest() {
    let sim = Sim::start("");
    let ws = workspace(&manuscript(2, 5));
    job(
        &ws,
        &sim,
        Spec {
            render: "concurrency = 2",
            ..Spec::new(Cloud::Volcengine, "http")
        },
    );
    let out = render(&ws, "sk-wrong-token-0000");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let summary = stdout(&out);
    assert!(summary.contains("stopped by the provider"), "{summary}");
    assert!(summary.contains("12 pending"), "{summary}");
    // The stopping error is stored, with its ids.
    let status = stdout(&ws.run(&["status"]));
    assert!(
        status.contains("stopped by the provider: ") && status.contains("log id"),
        "{status}"
    );
    // The token fixed, a plain render does the whole book: nothing was
    // recorded as failed.
    let out = render(&ws, TOKEN);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sim.ok_by_text().len(), 12);
}

#[test]
fn the_concurrency_quota_is_a_rate_limit_whatever_its_code() {
    let sim = Sim::start("quota = 1\nlatency_ms = 30\nvolc_quota_code = 3001\n");
    let ws = workspace(&manuscript(1, 8));
    job(
        &ws,
        &sim,
        Spec {
            render: "concurrency = 4\nmax_attempts = 20",
            ..Spec::new(Cloud::Volcengine, "websocket")
        },
    );
    let out = render(&ws, TOKEN);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        sim.entries()
            .iter()
            .any(|e| e.outcome == Outcome::Code(3001))
    );
    assert!(ws.report()["stats"]["rate_limited"].as_u64() > Some(0));
}

#[test]
fn a_processing_timeout_is_retried_once_then_split() {
    let sim = Sim::start("faults = [{ code = 3030, rate = 1.0 }]\n");
    let sentence = "This first long sentence has a clause, and then it has a second clause too.";
    let ws = workspace(&format!("{sentence}\n"));
    job(
        &ws,
        &sim,
        Spec {
            render: "max_attempts = 6",
            ..Spec::new(Cloud::Volcengine, "http")
        },
    );
    let out = render(&ws, TOKEN);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let entries = sim.entries();
    let whole = entries.iter().filter(|e| e.text == sentence).count();
    assert_eq!(whole, 2, "the whole text: one try and one retry");
    let pieces = entries
        .iter()
        .filter(|e| e.text != sentence && sentence.contains(e.text.as_str()))
        .count();
    assert!(pieces >= 2, "then the pieces: {entries:?}");
}

#[test]
fn errors_carry_log_and_request_ids_and_group_one_line_per_cause() {
    let cases = [
        (Cloud::Volcengine, "websocket", "no_such_voice"),
        (Cloud::Volcengine, "http", "no_such_voice"),
        (Cloud::Coze, "websocket", "000"),
        (Cloud::Coze, "http", "000"),
    ];
    for (cloud, transport, voice) in cases {
        let sim = Sim::start("");
        let ws = workspace(&manuscript(1, 5));
        job(
            &ws,
            &sim,
            Spec {
                voice: Some(voice),
                ..Spec::new(cloud, transport)
            },
        );
        let out = render(&ws, TOKEN);
        assert_eq!(out.status.code(), Some(1), "{cloud:?} {transport}");
        let err = stderr(&out);
        assert!(
            err.contains("log id") && err.contains("; request "),
            "{cloud:?} {transport}: {err}"
        );
        let report = ws.report();
        for failure in report["failures"].as_array().into_iter().flatten() {
            for key in ["log_id", "request_id"] {
                assert!(
                    failure[key].as_str().is_some_and(|id| !id.is_empty()),
                    "{cloud:?} {transport}: {key} in {failure}"
                );
            }
            assert!(!failure["cause"].as_str().unwrap_or("").contains("log id"));
        }
        let groups = report["failures_by_error"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(groups.len(), 1, "{cloud:?} {transport}: {groups:?}");
        assert_eq!(groups[0]["segments"], 6);
        let lines = stdout(&out)
            .lines()
            .filter(|l| l.contains("segment(s) permanent"))
            .count();
        assert_eq!(lines, 1, "{cloud:?} {transport}: {}", stdout(&out));
        assert_eq!(
            stored_ids(&ws),
            6,
            "{cloud:?} {transport}: ids in the database"
        );
    }
}

/// Failed segments in the state database with both ids stored.
fn stored_ids(ws: &Workspace) -> usize {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = audiobook::store::Store::open_existing(&ws.path().join("state.db"))
            .await
            .expect("state database");
        let jobs = store.jobs().await.expect("jobs");
        let rows = store.segments(jobs[0].id).await.expect("segments");
        store.close().await;
        rows.iter()
            .filter(|r| r.error_log_id.is_some() && r.error_request_id.is_some())
            .count()
    })
}

#[test]
fn timeout_secs_covers_the_websocket_connect() {
    for cloud in [Cloud::Volcengine, Cloud::Coze] {
        let sim = Sim::start("ws_handshake_delay_ms = 3000\n");
        let ws = workspace(&manuscript(1, 1));
        job(
            &ws,
            &sim,
            Spec {
                table_lines: "timeout_secs = 1",
                render: "max_attempts = 1",
                ..Spec::new(cloud, "websocket")
            },
        );
        let out = render(&ws, TOKEN);
        assert_eq!(out.status.code(), Some(1), "{cloud:?}: {}", stderr(&out));
        let failures = failures_text(&ws);
        assert!(
            failures.contains("timed out after 1 s (timeout_secs)"),
            "{cloud:?}: {failures}"
        );
    }
}

#[test]
fn validate_sees_every_voice_state_and_checks_the_voices_scale() {
    let sim = Sim::start(
        r#"
        [[voices.coze]]
        voice_id = "training"
        name = "Training"
        state = "init"
        [[voices.coze]]
        voice_id = "narrow"
        name = "Narrow"
        support_emotions = [{ emotion = "happy", display_name = "Happy", emotion_scale_interval = { min = 1.0, max = 3.0, default = 2.0 } }]
        "#,
    );
    let validate = |ws: &Workspace| {
        ws.command()
            .args(["validate", "job.toml"])
            .env("TEST_TTS_TOKEN", TOKEN)
            .output()
            .expect("validate")
    };
    let ws = workspace(&manuscript(1, 1));
    job(
        &ws,
        &sim,
        Spec {
            voice: Some("training"),
            ..Spec::new(Cloud::Coze, "http")
        },
    );
    let out = validate(&ws);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("still being cloned"), "{said}");
    job(
        &ws,
        &sim,
        Spec {
            voice: Some("narrow"),
            table_lines: "emotion = \"happy\"\nemotion_scale = 4",
            ..Spec::new(Cloud::Coze, "websocket")
        },
    );
    let out = validate(&ws);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("takes emotion_scale 1..=3"), "{said}");
}

#[test]
fn unknown_extra_param_keys_pass_with_a_warning() {
    let sim = Sim::start("");
    let ws = workspace(&manuscript(1, 1));
    job(
        &ws,
        &sim,
        Spec {
            table_lines: "extra_param = { disable_markdown_filter = true, brand_new_key = 1 }",
            ..Spec::new(Cloud::Volcengine, "http")
        },
    );
    let out = ws
        .command()
        .args(["validate", "job.toml"])
        .env("TEST_TTS_TOKEN", TOKEN)
        .output()
        .expect("validate");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("brand_new_key") && err.contains("job.toml:"),
        "{err}"
    );
    assert!(!err.contains("disable_markdown_filter\" is not"), "{err}");
}

#[test]
fn no_log_level_format_or_transport_ever_prints_the_token() {
    let sim = Sim::start(
        "seed = 5\nfaults = [{ provider = \"volcengine\", code = 3005, rate = 0.3 }, \
         { provider = \"coze\", code = 5000, rate = 0.3 }]\n",
    );
    let ws = workspace(&manuscript(1, 2));
    let mut outputs = Vec::new();
    let mut checked = 0;
    for cloud in [Cloud::Volcengine, Cloud::Coze] {
        for transport in BOTH {
            for format in ["text", "json"] {
                job(
                    &ws,
                    &sim,
                    Spec {
                        render: "max_attempts = 10",
                        ..Spec::new(cloud, transport)
                    },
                );
                // A fresh database and cache each time, so every run sends.
                // Each run's files were scanned below before they go.
                for file in ["state.db", "state.db-wal", "state.db-shm"] {
                    let _ = std::fs::remove_file(ws.path().join(file));
                }
                let _ = std::fs::remove_dir_all(ws.path().join("cache"));
                let out = ws
                    .command()
                    .args(["--log-format", format, "render", "job.toml"])
                    .env("TEST_TTS_TOKEN", TOKEN)
                    .env("AUDIOBOOK_LOG", "trace")
                    .output()
                    .expect("render");
                assert_eq!(out.status.code(), Some(0), "{cloud:?} {transport} {format}");
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(err.contains("TRACE"), "trace logging is on");
                if transport == "websocket" {
                    // The handshake request is traced, its header masked.
                    assert!(
                        err.contains("authorization: Bearer ***")
                            || err.contains("authorization: Bearer;***"),
                        "{cloud:?} {format}: the handshake trace is not there to check"
                    );
                }
                outputs.push(out.stdout);
                outputs.push(out.stderr);
                // This run's database (and WAL files, if any), clips and
                // outputs, before the next run replaces them.
                assert!(ws.path().join("state.db").is_file());
                checked += assert_no_file_contains(ws.path(), TOKEN);
            }
        }
    }
    for output in &outputs {
        assert!(
            !output.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
            "{}",
            String::from_utf8_lossy(output)
        );
    }
    assert!(checked > 8 * 5, "only {checked} files");
}

/// The embedded engine, except that texts containing `needle` are refused
/// as unspeakable, as a service refuses text with nothing to speak.
struct Refusing {
    engine: audiobook::provider::local::LocalEngine,
    needle: &'static str,
}

impl audiobook::provider::Synthesizer for Refusing {
    async fn synthesize(
        &self,
        request: &audiobook::provider::SynthRequest,
    ) -> Result<audiobook::provider::Clip, audiobook::provider::ProviderError> {
        use audiobook::provider::{ErrorClass, ProviderError};
        if request.text.contains(self.needle) {
            return Err(ProviderError::new(
                ErrorClass::Unspeakable,
                "volcengine refused the request: illegal input text!",
            )
            .with_code(3011));
        }
        self.engine.synthesize(request).await
    }
}

/// Regression (issue 11): a job in which narration became silence reported
/// `complete`. Now it never does, and the report counts the pauses by reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn narration_that_became_silence_is_counted_and_never_complete() {
    use std::sync::Arc;
    let ws = Workspace::new();
    ws.job(&manuscript(1, 4), "");
    let job = audiobook::job::load(&ws.path().join("job.toml")).expect("job");
    let manuscript = audiobook::manuscript::load(&job).expect("manuscript");
    let store = audiobook::store::Store::open(&ws.path().join("state.db"))
        .await
        .expect("db");
    let cache = Arc::new(audiobook::cache::Cache::open(&ws.path().join("cache")).expect("cache"));
    let engine = audiobook::provider::local::LocalEngine::new(
        &ws.path().join("cache"),
        &job.voice,
        job.audio.sample_rate,
    )
    .expect("engine");
    let renderer = audiobook::render::Renderer::new(
        store.clone(),
        cache,
        Arc::new(Refusing {
            engine,
            needle: "sentence 2 ",
        }),
        audiobook::pacing::Window::new(job.render.concurrency),
        tokio_util::sync::CancellationToken::new(),
    );
    let report = renderer
        .render(&audiobook::plan::Plan::new(&job, &manuscript))
        .await
        .expect("render");
    store.close().await;
    assert_eq!(report.outcome, audiobook::render::Outcome::Failed);
    assert_eq!(report.counts.pause, 1);
    assert_eq!(
        report
            .pauses
            .get("volcengine refused the request: illegal input text! (code 3011)"),
        Some(&1),
        "{:?}",
        report.pauses
    );
    let written = ws.report();
    assert_eq!(written["outcome"], "failed");
    assert_eq!(written["pauses"].as_object().map(|p| p.len()), Some(1));
}

/// `audiobook sim` logs each request with its text, and stops cleanly on
/// SIGTERM: exit 0 and its totals on stdout.
#[test]
fn the_simulator_logs_request_texts_and_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let ws = Workspace::new();
    let mut child = ws
        .command()
        .args(["sim", "--tone"])
        .env("AUDIOBOOK_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the simulator");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("first line");
    let base = first
        .trim()
        .strip_prefix("simulator listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let body = serde_json::json!({
        "app": { "appid": "a", "token": "access_token", "cluster": "volcano_tts" },
        "user": { "uid": "u" },
        "audio": { "voice_type": "BV001_streaming", "encoding": "pcm", "rate": 16000 },
        "request": { "reqid": "sigterm-1", "text": "一段用来检查日志的文字", "operation": "query" },
    });
    // reqwest is built without a crypto provider of its own (see README).
    audiobook::provider::install_crypto_provider();
    let answer: serde_json::Value = runtime.block_on(async {
        reqwest::Client::new()
            .post(format!("{base}/api/v1/tts"))
            .header("Authorization", "Bearer;test-token")
            .json(&body)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    });
    assert_eq!(answer["code"], 3000);
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "a clean stop");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("stdout");
    assert!(
        rest.contains("simulator stopped after 1 requests (1 with audio)"),
        "{rest}"
    );
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err)
        .expect("stderr");
    assert!(err.contains("一段用来检查日志的文字"), "{err}");
}
