//! Cloud voices end to end: the real binary renders through the Coze and
//! Volcengine clients over real HTTP and WebSocket on loopback, against the
//! simulator running in this process. Requests are counted in the
//! simulator's log, never guessed.

use audiobook::sim::Outcome;

use crate::util::{
    COZE_VOICE, Cloud, Sim, TOKEN, Workspace, assert_no_file_contains, cloud_job, manuscript,
    render_cloud as render, stderr, stdout,
};

/// Chapter titles and segment texts, the structure two renders must share.
fn structure(ws: &Workspace) -> Vec<(String, Vec<String>)> {
    let manifest = ws.manifest();
    manifest["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let texts = c["segments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["text"].as_str().unwrap().to_string())
                .collect();
            (c["title"].as_str().unwrap().to_string(), texts)
        })
        .collect()
}

#[test]
fn every_provider_and_transport_renders_the_same_book_as_the_local_engine() {
    let text = manuscript(2, 5);
    let local = Workspace::new();
    local.job(&text, "");
    let out = local.run(&["render", "job.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected = structure(&local);
    let segments: usize = expected.iter().map(|(_, s)| s.len()).sum();

    for cloud in [Cloud::Coze, Cloud::Volcengine] {
        for transport in ["http", "websocket"] {
            let sim = Sim::start("");
            let ws = Workspace::new();
            ws.write("book.md", &text);
            cloud_job(&ws, &sim, cloud, transport, None, "concurrency = 3");
            let out = render(&ws, TOKEN);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{cloud:?} {transport}: {}",
                stderr(&out)
            );
            assert_eq!(structure(&ws), expected, "{cloud:?} {transport}");
            let ok = sim.ok_by_text();
            assert_eq!(
                ok.values().sum::<usize>(),
                segments,
                "{cloud:?} {transport}: one request per segment"
            );
            assert!(ws.out().join("Cloud Book.wav").exists());
            // Rendered again: everything comes from the cache, no request is made.
            let again = render(&ws, TOKEN);
            assert_eq!(again.status.code(), Some(0));
            assert_eq!(
                sim.entries().len(),
                segments,
                "{cloud:?} {transport}: a rerun made requests"
            );
        }
    }
}

#[test]
fn transient_errors_are_retried_with_a_new_request_id() {
    let sim = Sim::start("seed = 7\nfaults = [{ code = 3005, rate = 0.4 }]\n");
    let ws = Workspace::new();
    ws.write("book.md", manuscript(1, 12));
    cloud_job(
        &ws,
        &sim,
        Cloud::Volcengine,
        "http",
        None,
        "max_attempts = 10\nconcurrency = 2",
    );
    let out = render(&ws, TOKEN);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let entries = sim.entries();
    let failed = entries
        .iter()
        .filter(|e| e.outcome == Outcome::Code(3005))
        .count();
    assert!(failed > 0, "the fault rate injected nothing");
    let mut reqids: Vec<&str> = entries.iter().filter_map(|e| e.reqid.as_deref()).collect();
    let all = reqids.len();
    reqids.sort();
    reqids.dedup();
    assert_eq!(reqids.len(), all, "a request id was reused on a retry");
    let ok = sim.ok_by_text();
    assert!(!ok.is_empty(), "nothing was rendered");
    assert!(ok.values().all(|&n| n == 1));
    assert_eq!(
        ws.report()["stats"]["retries"].as_u64().unwrap() as usize,
        failed
    );
}

#[test]
fn an_unknown_voice_fails_each_segment_once_and_the_run_exits_1() {
    for (cloud, voice, code) in [
        (Cloud::Volcengine, "no_such_voice", 3050),
        (Cloud::Coze, "000", 4200),
    ] {
        let sim = Sim::start("");
        let ws = Workspace::new();
        ws.write("book.md", manuscript(1, 4));
        cloud_job(&ws, &sim, cloud, "http", Some(voice), "max_attempts = 5");
        let out = render(&ws, TOKEN);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let entries = sim.entries();
        assert_eq!(entries.len(), 5, "{cloud:?}: a permanent error was retried");
        assert!(entries.iter().all(|e| e.outcome == Outcome::Code(code)));
        let report = ws.report();
        assert_eq!(report["counts"]["failed"], 5);
        assert_eq!(report["failures_by_error"][0]["segments"], 5);
        assert!(stdout(&out).contains(&code.to_string()), "{}", stdout(&out));
    }
}

#[test]
fn a_rejected_token_stops_the_job_at_once() {
    for (cloud, transport) in [
        (Cloud::Volcengine, "http"),
        (Cloud::Coze, "http"),
        (Cloud::Coze, "websocket"),
    ] {
        let sim = Sim::start("");
        let ws = Workspace::new();
        ws.write("book.md", manuscript(3, 10));
        cloud_job(
            &ws,
            &sim,
            cloud,
            transport,
            None,
            "concurrency = 2\nmax_attempts = 5",
        );
        let wrong = "sk-wrong-token-0000";
        let out = render(&ws, wrong);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{cloud:?} {transport}: {}",
            stderr(&out)
        );
        let requests = sim.entries().len();
        assert!(
            requests <= 2,
            "{cloud:?} {transport}: {requests} requests after the first refusal"
        );
        assert!(stderr(&out).contains("stopped"), "{}", stderr(&out));
        assert!(!stderr(&out).contains(wrong) && !stdout(&out).contains(wrong));
    }
}

#[test]
fn a_missing_token_variable_is_a_configuration_error_naming_it() {
    let sim = Sim::start("");
    let ws = Workspace::new();
    ws.write("book.md", manuscript(1, 2));
    cloud_job(&ws, &sim, Cloud::Coze, "http", None, "");
    let out = ws
        .command()
        .args(["render", "job.toml"])
        .env_remove("TEST_TTS_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("TEST_TTS_TOKEN"), "{}", stderr(&out));
    assert!(!ws.path().join("state.db").exists());
    assert!(sim.entries().is_empty());
}

#[test]
fn text_too_long_for_the_service_is_split_and_rendered_in_pieces() {
    let sim = Sim::start("max_text_bytes = 60\n");
    let ws = Workspace::new();
    let long = "This sentence is rather longer than the service accepts, so it must go in pieces.";
    ws.write("book.md", format!("# One\n\nShort one. {long}\n"));
    cloud_job(&ws, &sim, Cloud::Volcengine, "http", None, "");
    let out = render(&ws, TOKEN);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let entries = sim.entries();
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.outcome == Outcome::Code(3010))
            .count(),
        1
    );
    let pieces: Vec<String> = entries
        .iter()
        .filter(|e| e.outcome == Outcome::Ok && long.contains(e.text.as_str()) && e.text != long)
        .map(|e| e.text.clone())
        .collect();
    assert!(pieces.len() >= 2, "{pieces:?}");
    assert_eq!(pieces.concat().replace(' ', ""), long.replace(' ', ""));
    let texts = &structure(&ws)[0].1;
    assert_eq!(
        texts.last().unwrap(),
        long,
        "the manifest keeps the segment whole"
    );
}

/// Regression (issue 11): every 3011 became a 500 ms pause and the job
/// reported `complete` with a silent book. A 3011 for text that has
/// something to speak is a failed segment; the job is not complete.
#[test]
fn a_3011_for_speakable_text_fails_the_segment_instead_of_becoming_silence() {
    let sim = Sim::start("faults = [{ code = 3011, rate = 1.0 }]\n");
    let ws = Workspace::new();
    ws.write("book.md", manuscript(1, 3));
    // A chapter of nothing but pauses has no speech to master, and would
    // fail the acx QA (its RMS is silence): that is the QA's business,
    // not this test's.
    cloud_job(
        &ws,
        &sim,
        Cloud::Volcengine,
        "http",
        None,
        "max_attempts = 4\n\n[master]\nprofile = \"none\"",
    );
    let out = render(&ws, TOKEN);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(sim.entries().len(), 4, "3011 is never retried");
    let report = ws.report();
    assert_eq!(report["outcome"], "failed");
    assert_eq!(report["counts"]["pause"], 0);
    assert_eq!(report["counts"]["failed"], 4);
    assert!(!ws.out().join("book.wav").exists(), "no silent book");
    assert!(
        stdout(&out).contains("explicit_language"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn rate_limits_are_retried_until_every_segment_is_rendered() {
    let sim = Sim::start("quota = 1\nlatency_ms = 30\n");
    let ws = Workspace::new();
    ws.write("book.md", manuscript(1, 9));
    cloud_job(
        &ws,
        &sim,
        Cloud::Volcengine,
        "websocket",
        None,
        "concurrency = 4\nmax_attempts = 20",
    );
    let out = render(&ws, TOKEN);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        sim.entries()
            .iter()
            .any(|e| e.outcome == Outcome::Code(3003)),
        "the quota was never hit"
    );
    assert_eq!(sim.handle.log.max_in_flight(), 1);
    let ok = sim.ok_by_text();
    assert!(!ok.is_empty(), "nothing was rendered");
    assert!(ok.values().all(|&n| n == 1));
}

#[test]
fn thirty_percent_errors_and_five_percent_drops_still_render_every_segment_exactly_once() {
    for (cloud, transport) in [(Cloud::Volcengine, "http"), (Cloud::Coze, "websocket")] {
        // 30% transient errors, each provider with its own codes, plus 5% drops.
        let sim = Sim::start(
            "seed = 11\ndrop_rate = 0.05\nfaults = [\n\
             { provider = \"volcengine\", code = 3005, rate = 0.15 },\n\
             { provider = \"volcengine\", code = 3031, rate = 0.15 },\n\
             { provider = \"coze\", code = 5000, rate = 0.15 },\n\
             { provider = \"coze\", code = 4009, rate = 0.15 },\n]\n",
        );
        let ws = Workspace::new();
        ws.write("book.md", manuscript(2, 15));
        cloud_job(
            &ws,
            &sim,
            cloud,
            transport,
            None,
            "concurrency = 4\nmax_attempts = 20",
        );
        let out = render(&ws, TOKEN);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{cloud:?} {transport}: {}",
            stderr(&out)
        );
        let entries = sim.entries();
        let faults = entries.iter().filter(|e| e.outcome != Outcome::Ok).count();
        assert!(
            faults * 5 >= entries.len(),
            "{cloud:?}: only {faults} of {} failed",
            entries.len()
        );
        let ok = sim.ok_by_text();
        assert_eq!(ok.len(), 32, "{cloud:?}: every segment rendered");
        assert!(
            ok.values().all(|&n| n == 1),
            "{cloud:?}: a segment was rendered twice"
        );
    }
}

#[test]
fn the_token_never_appears_in_any_output() {
    let sim = Sim::start("seed = 3\nfaults = [{ code = 3005, rate = 0.3 }]\n");
    let ws = Workspace::new();
    ws.write("book.md", manuscript(1, 6));
    cloud_job(
        &ws,
        &sim,
        Cloud::Volcengine,
        "websocket",
        None,
        "max_attempts = 10",
    );
    let mut outputs = Vec::new();
    for args in [
        vec!["render", "job.toml"],
        vec!["status"],
        vec!["validate", "job.toml"],
        vec!["plan", "job.toml"],
    ] {
        let out = ws
            .command()
            .args(&args)
            .env("TEST_TTS_TOKEN", TOKEN)
            .env("AUDIOBOOK_LOG", "debug")
            .output()
            .unwrap();
        outputs.push(out.stdout);
        outputs.push(out.stderr);
    }
    // A refused token is not echoed either.
    cloud_job(&ws, &sim, Cloud::Coze, "http", None, "");
    let out = render(&ws, "sk-refused-SECRET-1234");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("sk-refused-SECRET-1234"));
    for output in &outputs {
        assert!(
            !String::from_utf8_lossy(output).contains(TOKEN),
            "{}",
            String::from_utf8_lossy(output)
        );
    }
    let checked = assert_no_file_contains(ws.path(), TOKEN);
    assert!(checked > 5, "only {checked} files were checked");
}

#[test]
fn voices_lists_the_account_voices_and_validate_checks_the_job_voice() {
    let sim = Sim::start("");
    let ws = Workspace::new();
    let out = ws
        .command()
        .args([
            "voices",
            "--base-url",
            &sim.handle.base_url(),
            "--token-env",
            "TEST_TTS_TOKEN",
            "--json",
        ])
        .env("TEST_TTS_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let voices: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let ids: Vec<&str> = voices
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["voice_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&COZE_VOICE), "{ids:?}");
    assert!(ids.len() >= 5);

    ws.write("book.md", manuscript(1, 2));
    cloud_job(&ws, &sim, Cloud::Coze, "http", None, "");
    let out = ws
        .command()
        .args(["validate", "job.toml"])
        .env("TEST_TTS_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    cloud_job(&ws, &sim, Cloud::Coze, "http", Some("no-such-voice"), "");
    let out = ws
        .command()
        .args(["validate", "job.toml"])
        .env("TEST_TTS_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stdout(&out).contains("no-such-voice"), "{}", stdout(&out));
    assert!(
        sim.entries().iter().all(|e| e.endpoint.contains("voices")),
        "validate synthesized something"
    );
}

#[test]
fn retry_failed_puts_failed_segments_back_and_only_then_are_they_retried() {
    let broken = Sim::start("faults = [{ code = 3005, rate = 1.0 }]\n");
    let ws = Workspace::new();
    ws.write("book.md", manuscript(1, 3));
    cloud_job(
        &ws,
        &broken,
        Cloud::Volcengine,
        "http",
        None,
        "max_attempts = 2",
    );
    assert_eq!(render(&ws, TOKEN).status.code(), Some(1));
    assert_eq!(
        broken.entries().len(),
        8,
        "each segment tried max_attempts times"
    );

    // The service is healthy again (same voice and settings: same segments).
    let healthy = Sim::start("");
    cloud_job(
        &ws,
        &healthy,
        Cloud::Volcengine,
        "http",
        None,
        "max_attempts = 2",
    );
    assert_eq!(
        render(&ws, TOKEN).status.code(),
        Some(1),
        "a plain render retries nothing"
    );
    assert!(healthy.entries().is_empty());
    let out = ws.run(&["retry-failed", "job.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("4 failed or silent segment(s)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(render(&ws, TOKEN).status.code(), Some(0));
    assert_eq!(healthy.ok_by_text().len(), 4);
}

/// Every segment's words, checked against what the simulator guarantees:
/// one word per run of letters and digits, in order, timed from the clip's
/// start to its end. So the words, joined by spaces, spell the text without
/// punctuation, and each word lies inside its segment, in order.
fn assert_words_spell_each_segment(manifest: &serde_json::Value) -> usize {
    let mut checked = 0;
    for segment in manifest["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["segments"].as_array().unwrap())
    {
        let text = segment["text"].as_str().unwrap();
        let words = segment["words"]
            .as_array()
            .unwrap_or_else(|| panic!("no words for {text:?}"));
        let spelled: Vec<&str> = words.iter().map(|w| w["word"].as_str().unwrap()).collect();
        let expected: Vec<&str> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        assert_eq!(spelled.join(" "), expected.join(" "), "{text:?}");
        let (start, end) = (
            segment["start_secs"].as_f64().unwrap(),
            segment["end_secs"].as_f64().unwrap(),
        );
        let mut previous_end = start;
        for w in words {
            let (ws, we) = (
                w["start_secs"].as_f64().unwrap(),
                w["end_secs"].as_f64().unwrap(),
            );
            assert!(
                previous_end - 1e-9 <= ws && ws < we && we <= end + 1e-9,
                "{text:?}: word {w} outside {start}..{end} or out of order"
            );
            previous_end = we;
        }
        assert!(previous_end > end - 0.01, "{text:?}: the words end early");
        checked += 1;
    }
    checked
}

/// WebVTT and LRC carry the word times (SubRip has none), in every
/// subtitle file: a chapter's and the book's.
fn assert_word_timed_subtitles(ws: &Workspace) {
    use crate::subtitles::{check_subtitles, spoken};
    let manifest = ws.manifest();
    let chapters = manifest["chapters"].as_array().unwrap();
    let stem = |f: &serde_json::Value| ws.out().join(f.as_str().unwrap().trim_end_matches(".wav"));
    for chapter in chapters {
        check_subtitles(&stem(&chapter["files"][0]), &spoken([(chapter, 0.0)]));
    }
    let book = spoken(
        chapters
            .iter()
            .map(|c| (c, c["book_start_secs"].as_f64().unwrap())),
    );
    assert!(book.iter().all(|s| !s.words.is_empty()));
    check_subtitles(&stem(&manifest["book_files"][0]), &book);
}

fn has_words_key(manifest: &serde_json::Value) -> bool {
    manifest["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["segments"].as_array().unwrap())
        .any(|s| s.get("words").is_some())
}

#[test]
fn volcengine_word_timings_reach_the_manifest_over_both_transports() {
    let long = "This sentence is rather longer than the service accepts, so it must go in pieces.";
    let text = format!("{}# Last\n\nShort one. {long}\n", manuscript(2, 4));
    for transport in ["http", "websocket"] {
        let sim = Sim::start("max_text_bytes = 60\n");
        let ws = Workspace::new();
        ws.write("book.md", &text);
        cloud_job(&ws, &sim, Cloud::Volcengine, transport, None, "");
        let job = std::fs::read_to_string(ws.path().join("job.toml")).unwrap();
        ws.write(
            "job.toml",
            job.replace(
                "formats = [\"wav\"]",
                "formats = [\"wav\"]\nsubtitles = [\"srt\", \"vtt\", \"lrc\"]",
            ),
        );
        let out = render(&ws, TOKEN);
        assert_eq!(out.status.code(), Some(0), "{transport}: {}", stderr(&out));
        assert!(!has_words_key(&ws.manifest()), "{transport}: words unasked");
        let planned: usize = structure(&ws).iter().map(|(_, s)| s.len()).sum();
        let plain_requests = sim.entries().len();

        // Turning timestamps on renders again: clips without timings are not reused.
        let job = std::fs::read_to_string(ws.path().join("job.toml")).unwrap();
        let token_line = "token_env = \"TEST_TTS_TOKEN\"\n";
        ws.write(
            "job.toml",
            job.replace(token_line, &format!("{token_line}with_timestamp = true\n")),
        );
        let out = render(&ws, TOKEN);
        assert_eq!(out.status.code(), Some(0), "{transport}: {}", stderr(&out));
        assert!(
            sim.entries().len() > plain_requests,
            "{transport}: no new requests"
        );
        let too_long = sim
            .entries()
            .iter()
            .filter(|e| e.outcome == Outcome::Code(3010))
            .count();
        assert_eq!(
            too_long, 2,
            "{transport}: the long segment went in pieces each time"
        );
        let segments = assert_words_spell_each_segment(&ws.manifest());
        assert_eq!(segments, planned, "{transport}");
        assert_word_timed_subtitles(&ws);

        // A rerun takes the timings from the state store, with no request.
        let requests = sim.entries().len();
        let out = render(&ws, TOKEN);
        assert_eq!(out.status.code(), Some(0), "{transport}: {}", stderr(&out));
        assert_eq!(
            sim.entries().len(),
            requests,
            "{transport}: a rerun made requests"
        );
        assert_words_spell_each_segment(&ws.manifest());
    }
}

#[test]
fn wav_answers_render_exactly_like_pcm_answers() {
    for cloud in [Cloud::Coze, Cloud::Volcengine] {
        let mut outputs = Vec::new();
        for format in ["pcm", "wav"] {
            let sim = Sim::start("");
            let ws = Workspace::new();
            ws.write("book.md", manuscript(1, 4));
            cloud_job(&ws, &sim, cloud, "http", None, "");
            let key = match cloud {
                Cloud::Coze => "[voice.coze]\nresponse_format",
                Cloud::Volcengine => "[voice.volcengine]\nencoding",
            };
            let job = std::fs::read_to_string(ws.path().join("job.toml")).unwrap();
            let header = key.split('\n').next().unwrap();
            let job = job.replace(header, &format!("{key} = \"{format}\""));
            ws.write("job.toml", job);
            let out = render(&ws, TOKEN);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{cloud:?} {format}: {}",
                stderr(&out)
            );
            outputs.push(ws.output_files());
        }
        assert_eq!(
            outputs[0], outputs[1],
            "{cloud:?}: wav and pcm answers differ"
        );
    }
}

/// `render DIR`: the next book starts as soon as the last fresh segment of
/// the one before is sent, so the quota does not drain between books. Book
/// A ends with a long sentence (5 s at 20 ms per character); book B's first
/// requests go while it is still in flight. Started only after book A's
/// synthesis ended, none of them could.
#[test]
fn the_next_book_starts_while_the_last_request_of_the_one_before_is_out() {
    let sim = Sim::start("latency_ms = 10\nlatency_per_char_ms = 20\n");
    let ws = Workspace::new();
    cloud_job(
        &ws,
        &sim,
        Cloud::Volcengine,
        "http",
        None,
        "concurrency = 4",
    );
    let job = std::fs::read_to_string(ws.path().join("job.toml")).unwrap();
    let long = format!("Long {}end.", "word ".repeat(48));
    ws.write("jobs/a.md", format!("# A\n\nOne. Two.\n\n{long}\n"));
    ws.write("jobs/b.md", "# B\n\nThree. Four. Five.\n");
    for name in ["a", "b"] {
        let text = job
            .replace("\"book.md\"", &format!("\"{name}.md\""))
            .replace("dir = \"out\"", &format!("dir = \"out-{name}\""));
        ws.write(&format!("jobs/{name}.toml"), text);
    }
    let out = ws
        .command()
        .args(["render", "jobs"])
        .env("TEST_TTS_TOKEN", TOKEN)
        .output()
        .expect("run audiobook");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let entries = sim.entries();
    let last_of_a = entries
        .iter()
        .find(|e| e.text.starts_with("Long "))
        .expect("the long sentence was sent");
    let b_during_a: Vec<&str> = entries
        .iter()
        .filter(|e| ["Three.", "Four.", "Five."].contains(&e.text.as_str()))
        .filter(|e| e.started < last_of_a.ended)
        .map(|e| e.text.as_str())
        .collect();
    assert!(
        !b_during_a.is_empty(),
        "book B waited for book A's last request: {:?}",
        entries
            .iter()
            .map(|e| (&e.text, e.started, e.ended))
            .collect::<Vec<_>>()
    );
    // Both books are complete, each clip requested once.
    assert!(sim.ok_by_text().values().all(|&n| n == 1));
    for name in ["a", "b"] {
        let report =
            crate::util::read_json(&ws.path().join(format!("jobs/out-{name}/report.json")));
        assert_eq!(report["outcome"], "complete", "{report}");
    }
}
