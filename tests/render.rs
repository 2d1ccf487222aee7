//! Rendering for real: the embedded engine, SQLite, the cache and WAV files.
//! Resume after cancellation and after SIGKILL, incremental re-rendering,
//! exact stitching, corrupt clips, and failures that do not stop the book.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use audiobook::cache::Cache;
use audiobook::provider::local::LocalEngine;
use audiobook::provider::{Clip, ErrorClass, ProviderError, SynthRequest, Synthesizer};
use audiobook::render::{self, Outcome, Renderer};
use audiobook::store::Store;
use tokio_util::sync::CancellationToken;

use crate::util::{Workspace, manuscript, stderr, stdout, terminate, wav_samples};

/// The real engine, counting its calls, optionally cancelling the run after
/// a number of them, or failing chosen texts.
struct Counted {
    engine: LocalEngine,
    calls: AtomicUsize,
    cancel_after: Option<(usize, CancellationToken)>,
    /// Texts containing this fail with the given class, `times` times.
    fail: Option<(&'static str, ErrorClass, usize)>,
    failed: AtomicUsize,
}

impl Counted {
    fn new(engine: LocalEngine) -> Self {
        Counted {
            engine,
            calls: AtomicUsize::new(0),
            cancel_after: None,
            fail: None,
            failed: AtomicUsize::new(0),
        }
    }
}

impl Synthesizer for Counted {
    async fn synthesize(&self, request: &SynthRequest) -> Result<Clip, ProviderError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some((needle, class, times)) = self.fail
            && request.text.contains(needle)
            && self.failed.fetch_add(1, Ordering::SeqCst) < times
        {
            return Err(ProviderError::new(class, "injected failure").with_code(3005));
        }
        let clip = self.engine.synthesize(request).await;
        if let Some((limit, token)) = &self.cancel_after
            && n >= *limit
        {
            token.cancel();
        }
        clip
    }
}

struct Setup {
    job: audiobook::job::Job,
    manuscript: audiobook::manuscript::Manuscript,
    store: Store,
    cache: Arc<Cache>,
}

async fn setup(ws: &Workspace) -> Setup {
    let job = audiobook::job::load(&ws.path().join("job.toml")).expect("valid job");
    let manuscript = audiobook::manuscript::load(&job).expect("manuscript");
    let store = Store::open(&ws.path().join("state.db")).await.expect("db");
    let cache = Arc::new(Cache::open(&ws.path().join("cache")).expect("cache"));
    Setup {
        job,
        manuscript,
        store,
        cache,
    }
}

fn engine(ws: &Workspace) -> LocalEngine {
    let job = audiobook::job::load(&ws.path().join("job.toml")).expect("valid job");
    LocalEngine::new(&ws.path().join("cache"), &job.voice, job.audio.sample_rate).expect("engine")
}

async fn render_with(
    ws: &Workspace,
    synth: Counted,
    cancel: CancellationToken,
) -> (render::JobReport, usize) {
    let synth = Arc::new(synth);
    let s = setup(ws).await;
    let renderer = Renderer::new(
        s.store.clone(),
        s.cache,
        Arc::clone(&synth),
        audiobook::pacing::Window::new(s.job.render.concurrency),
        cancel,
    );
    let report = renderer
        .render(&audiobook::plan::Plan::new(&s.job, &s.manuscript))
        .await
        .expect("render");
    s.store.close().await;
    (report, synth.calls.load(Ordering::SeqCst))
}

fn unique_segments(ws: &Workspace) -> usize {
    let out = ws.run(&["plan", "job.toml", "--json"]);
    let plan: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    plan["segments"].as_u64().unwrap() as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_render_resumes_without_repeating_a_segment() {
    let text = manuscript(3, 12);
    let reference = Workspace::new();
    reference.job(&text, "concurrency = 2");
    let (full, calls) = render_with(
        &reference,
        Counted::new(engine(&reference)),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(full.outcome, Outcome::Complete);
    let total = unique_segments(&reference);
    assert_eq!(calls, total);

    let ws = Workspace::new();
    ws.job(&text, "concurrency = 2");
    let cancel = CancellationToken::new();
    let mut first = Counted::new(engine(&ws));
    first.cancel_after = Some((10, cancel.clone()));
    let (stopped, first_calls) = render_with(&ws, first, cancel).await;
    assert_eq!(stopped.outcome, Outcome::Interrupted);
    // In-flight requests finish, nothing new starts: at most concurrency more.
    assert!(
        (10..=12).contains(&first_calls),
        "{first_calls} calls before stopping"
    );
    assert_eq!(
        stopped.counts.done as usize, first_calls,
        "every finished call is recorded"
    );
    assert!(
        !ws.out().join("Test Book.wav").exists(),
        "an interrupted run stitches nothing"
    );

    let (resumed, second_calls) =
        render_with(&ws, Counted::new(engine(&ws)), CancellationToken::new()).await;
    assert_eq!(resumed.outcome, Outcome::Complete);
    assert_eq!(
        first_calls + second_calls,
        total,
        "no segment synthesized twice"
    );
    assert_eq!(resumed.stats.synthesized as usize, second_calls);
    assert_eq!(
        ws.output_files(),
        reference.output_files(),
        "resumed output differs from an uninterrupted render"
    );
}

#[test]
fn killed_render_resumes_with_identical_output() {
    let text = manuscript(4, 45);
    let reference = Workspace::new();
    reference.job(&text, "concurrency = 2");
    let out = reference.run(&["render", "job.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let ws = Workspace::new();
    ws.job(&text, "concurrency = 2");
    let mut child = ws.render_until_clips(25);
    child.kill().expect("SIGKILL");
    child.wait().unwrap();

    let before: BTreeMap<_, _> = ws
        .clips()
        .into_iter()
        .map(|p| {
            let meta = std::fs::metadata(&p).unwrap();
            (
                p,
                (
                    meta.modified().unwrap(),
                    std::os::unix::fs::MetadataExt::ino(&meta),
                ),
            )
        })
        .collect();
    let total = unique_segments(&ws);
    assert!(
        before.len() < total,
        "the kill came too late to test anything"
    );

    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = ws.report();
    assert_eq!(
        report["stats"]["synthesized"].as_u64().unwrap() as usize,
        total - before.len(),
        "only segments without a stored clip are synthesized again"
    );
    for (clip, stamp) in &before {
        let meta = std::fs::metadata(clip).unwrap();
        let now = (
            meta.modified().unwrap(),
            std::os::unix::fs::MetadataExt::ino(&meta),
        );
        assert_eq!(&now, stamp, "{} was written again", clip.display());
    }
    assert_eq!(ws.output_files(), reference.output_files());
}

#[test]
fn second_render_synthesizes_nothing_and_says_so() {
    let ws = Workspace::new();
    ws.job(&manuscript(2, 5), "");
    let first = ws.run(&["render", "job.toml"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let files = ws.output_files();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "01 - Chapter 1.wav",
            "02 - Chapter 2.wav",
            "Test Book.wav",
            "manifest.json"
        ]
    );

    let second = ws.run(&["render", "job.toml"]);
    assert_eq!(second.status.code(), Some(0));
    assert!(
        stdout(&second).contains("nothing to synthesize"),
        "{}",
        stdout(&second)
    );
    assert_eq!(ws.report()["stats"]["synthesized"], 0);
    assert_eq!(ws.output_files(), files);
}

/// A render with nothing to do replaces no delivered file: the audio, the
/// manifest and the proof sheet keep their inode and modification time
/// (only `report.json`, `qa.json` and `qa.csv` say what this run did).
#[test]
fn a_render_with_nothing_to_do_rewrites_no_delivered_file() {
    let ws = Workspace::new();
    ws.job(&manuscript(2, 5), "");
    let first = ws.run(&["render", "job.toml"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let stamps = || {
        let mut stamps: Vec<_> = std::fs::read_dir(ws.out())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                !name.starts_with("report.") && !name.starts_with("qa.")
            })
            .map(|p| {
                let meta = std::fs::metadata(&p).unwrap();
                let ino = std::os::unix::fs::MetadataExt::ino(&meta);
                (p, ino, meta.modified().unwrap())
            })
            .collect();
        stamps.sort();
        stamps
    };
    let before = stamps();
    assert!(
        before.iter().any(|(p, ..)| p.ends_with("manifest.json"))
            && before.iter().any(|(p, ..)| p.ends_with("proof.csv")),
        "{before:?}"
    );
    let second = ws.run(&["render", "job.toml"]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert_eq!(stamps(), before);
}

/// The text files are written a chapter at a time and replaced only when
/// their bytes differ from what should be there: a manifest edited by hand
/// (same length, one byte changed) and a deleted proof sheet are put back
/// exactly as the first run wrote them, and nothing else is rewritten.
#[test]
fn text_files_changed_by_hand_are_put_back_byte_for_byte() {
    let ws = Workspace::new();
    ws.job(&manuscript(3, 4), "");
    let first = ws.run(&["render", "job.toml"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let read = |name: &str| std::fs::read(ws.out().join(name)).unwrap();
    let manifest = read("manifest.json");
    let proof = read("proof.csv");
    let json: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    let chapters = json["chapters"].as_array().unwrap();
    assert_eq!(chapters.len(), 3);
    for chapter in chapters {
        // The heading, then the four sentences.
        assert_eq!(
            chapter["segments"].as_array().unwrap().len(),
            5,
            "{chapter}"
        );
    }
    let audio = ws.out().join(chapters[1]["files"][0].as_str().unwrap());
    let audio_modified = std::fs::metadata(&audio).unwrap().modified().unwrap();

    let mut edited = manifest.clone();
    let at = edited.windows(5).position(|w| w == b"title").unwrap();
    edited[at] = b'T';
    std::fs::write(ws.out().join("manifest.json"), &edited).unwrap();
    std::fs::remove_file(ws.out().join("proof.csv")).unwrap();

    let second = ws.run(&["render", "job.toml"]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert!(
        read("manifest.json") == manifest,
        "the manifest is put back"
    );
    assert!(read("proof.csv") == proof, "the proof sheet is put back");
    assert_eq!(
        std::fs::metadata(&audio).unwrap().modified().unwrap(),
        audio_modified
    );
}

/// A render with nothing to do does not build the text files while each
/// is on disk as written (its size and modification time); a manifest
/// edited by hand, alone, the size kept and saved a second later, is
/// noticed by its time and put back.
#[test]
fn a_manifest_edited_by_hand_alone_is_put_back() {
    let ws = Workspace::new();
    ws.job(&manuscript(2, 5), "");
    let first = ws.run(&["render", "job.toml"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let manifest = ws.out().join("manifest.json");
    let written = std::fs::read(&manifest).unwrap();
    let modified = std::fs::metadata(&manifest).unwrap().modified().unwrap();
    let mut edited = written.clone();
    let at = edited.windows(5).position(|w| w == b"title").unwrap();
    edited[at] = b'T';
    std::fs::write(&manifest, &edited).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&manifest)
        .unwrap()
        .set_modified(modified + std::time::Duration::from_secs(1))
        .unwrap();

    let second = ws.run(&["render", "job.toml"]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert!(
        std::fs::read(&manifest).unwrap() == written,
        "the manifest is put back"
    );
}

#[test]
fn editing_one_sentence_synthesizes_exactly_one_segment() {
    let ws = Workspace::new();
    let text = manuscript(2, 9);
    ws.job(&text, "");
    assert_eq!(ws.run(&["render", "job.toml"]).status.code(), Some(0));
    let before = ws.output_files();

    ws.write(
        "book.md",
        // A change the voice hears: the embedded engine reads "4" as "four",
        // so spelling the number out would change the key but not the audio.
        text.replace(
            "sentence 4 of chapter 2, and it is short",
            "sentence 4 of chapter 2, and it is brief",
        ),
    );
    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(ws.report()["stats"]["synthesized"], 1);
    let after = ws.output_files();
    let changed: Vec<&str> = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.0.as_str())
        .collect();
    assert_eq!(
        changed,
        ["02 - Chapter 2.wav", "Test Book.wav", "manifest.json"]
    );
    let manifest = ws.manifest();
    let texts: Vec<&str> = manifest["chapters"][1]["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("sentence 4 of chapter 2, and it is brief"))
    );
}

#[test]
fn stitched_files_match_the_manifest_and_silences_are_exact() {
    let ws = Workspace::new();
    ws.job(&manuscript(2, 7), "");
    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let manifest = ws.manifest();
    let rate = 16_000u64;
    let ms = |ms: u64| ms * rate / 1000;
    let mut book_total = 0u64;
    for chapter in manifest["chapters"].as_array().unwrap() {
        let file = ws.out().join(chapter["files"][0].as_str().unwrap());
        let (spec, samples) = wav_samples(&file);
        assert_eq!(
            (spec.channels, spec.sample_rate, spec.bits_per_sample),
            (1, 16_000, 16)
        );
        assert_eq!(chapter["samples"].as_u64().unwrap(), samples.len() as u64);
        let duration = chapter["duration_secs"].as_f64().unwrap();
        assert!((duration - samples.len() as f64 / rate as f64).abs() < 1e-9);
        assert_eq!(chapter["book_start_sample"].as_u64().unwrap(), book_total);
        book_total += samples.len() as u64;

        let segments = chapter["segments"].as_array().unwrap();
        let start = |i: usize| segments[i]["start_sample"].as_u64().unwrap();
        let end = |i: usize| segments[i]["end_sample"].as_u64().unwrap();
        // Between sentences only the quiet edges of the speech that the
        // trim's hold keeps: nothing within 30 dB of the chapter's peak.
        let peak = samples.iter().map(|&s| i32::from(s).abs()).max().unwrap();
        let quiet = |from: u64, to: u64| {
            samples[from as usize..to as usize]
                .iter()
                .all(|&s| i32::from(s).abs() * 30 < peak)
        };
        // The head and the tail are room: nothing in them reaches the
        // QA's speech threshold (-50 dBFS, |s| < 104 in 16 bits). The quiet
        // sound the trim's hold (40 ms) keeps next to the speech lies
        // after the head and before the tail, so the speech starts at
        // most a hold after the head and ends at most a hold before the
        // tail.
        let hold = ms(40);
        let room = |from: u64, to: u64| {
            samples[from as usize..to as usize]
                .iter()
                .all(|&s| i32::from(s).abs() < 104)
        };
        assert!(
            (ms(500)..=ms(500) + hold).contains(&start(0)),
            "head: speech starts at {} samples",
            start(0)
        );
        assert!(room(0, ms(500)), "sound in the head room");
        assert!(quiet(ms(500), start(0)));
        for i in 1..segments.len() {
            let gap = if segments[i - 1]["paragraph"] != segments[i]["paragraph"] {
                300
            } else {
                100
            };
            assert_eq!(start(i) - end(i - 1), ms(gap), "gap before segment {i}");
            assert!(quiet(end(i - 1), start(i)), "speech in the gap before {i}");
        }
        let last = segments.len() - 1;
        let len = samples.len() as u64;
        assert!(
            (ms(1000)..=ms(1000) + hold).contains(&(len - end(last))),
            "tail: speech ends {} samples before the end",
            len - end(last)
        );
        assert!(quiet(end(last), len - ms(1000)));
        assert!(room(len - ms(1000), len), "sound in the tail room");
        for i in 0..segments.len() {
            assert!(end(i) > start(i), "segment {i} has audio");
            assert!(
                samples[start(i) as usize..end(i) as usize]
                    .iter()
                    .any(|&s| s != 0)
            );
        }
    }
    let (_, book) = wav_samples(&ws.out().join("Test Book.wav"));
    assert_eq!(book.len() as u64, book_total);
    assert_eq!(manifest["samples"].as_u64().unwrap(), book_total);
}

/// Renders a one-chapter job, then flips a byte in the middle of one clip
/// (putting its modification time back when `keep_time`) and removes the
/// output. The files first written, and the damaged clip.
fn rendered_then_a_clip_damaged(
    ws: &Workspace,
    keep_time: bool,
) -> (Vec<(String, Vec<u8>)>, std::path::PathBuf) {
    ws.job(&manuscript(1, 6), "");
    assert_eq!(ws.run(&["render", "job.toml"]).status.code(), Some(0));
    let files = ws.output_files();
    let victim = ws.clips()[0].clone();
    let modified = std::fs::metadata(&victim).unwrap().modified().unwrap();
    let mut bytes = std::fs::read(&victim).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&victim, bytes).unwrap();
    if keep_time {
        std::fs::File::options()
            .write(true)
            .open(&victim)
            .unwrap()
            .set_modified(modified)
            .unwrap();
    }
    std::fs::remove_dir_all(ws.out()).unwrap();
    (files, victim)
}

#[test]
fn a_corrupt_cached_clip_is_rendered_again_not_stitched() {
    let ws = Workspace::new();
    let (files, _) = rendered_then_a_clip_damaged(&ws, false);

    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(ws.report()["stats"]["synthesized"], 1);
    assert_eq!(ws.output_files(), files);
}

/// The cache's trust model: a clip whose size and modification time are as
/// recorded is not hashed again. One damaged in place with its old time put
/// back is not caught by that check; its FLAC frame checksums stop the stitch
/// with an error naming the clip and what to do, and once it is deleted the
/// next run renders it again.
#[test]
fn a_clip_damaged_with_its_old_time_put_back_stops_the_stitch_naming_it() {
    let ws = Workspace::new();
    let (files, victim) = rendered_then_a_clip_damaged(&ws, true);
    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    let name = victim.file_name().unwrap().to_string_lossy();
    assert!(err.contains(&*name), "{err}");
    assert!(err.contains("not a readable clip"), "{err}");
    assert!(err.contains("delete it"), "{err}");

    std::fs::remove_file(&victim).unwrap();
    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(ws.report()["stats"]["synthesized"], 1);
    assert_eq!(ws.output_files(), files);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_errors_are_retried_and_permanent_ones_do_not_stop_the_book() {
    let ws = Workspace::new();
    ws.job(&manuscript(2, 4), "max_attempts = 3");
    let mut flaky = Counted::new(engine(&ws));
    flaky.fail = Some(("sentence 2 of chapter 1", ErrorClass::Transient, 2));
    let (report, _) = render_with(&ws, flaky, CancellationToken::new()).await;
    assert_eq!(report.outcome, Outcome::Complete);
    assert_eq!(report.stats.retries, 2);

    let ws = Workspace::new();
    ws.job(&manuscript(2, 4), "max_attempts = 3");
    let mut broken = Counted::new(engine(&ws));
    broken.fail = Some(("sentence 3 of chapter 2", ErrorClass::Permanent, usize::MAX));
    let (report, calls) = render_with(&ws, broken, CancellationToken::new()).await;
    assert_eq!(report.outcome, Outcome::Failed);
    assert_eq!(report.counts.failed, 1);
    assert_eq!(
        calls,
        unique_segments(&ws),
        "a permanent failure is never retried"
    );
    assert_eq!(report.failures.len(), 1);
    assert!(report.failures[0].error.contains("injected failure"));
    assert!(
        ws.out().join("01 - Chapter 1.wav").exists(),
        "the other chapter is still stitched"
    );
    assert!(!ws.out().join("02 - Chapter 2.wav").exists());
    assert!(!ws.out().join("Test Book.wav").exists());
    assert_eq!(ws.manifest()["incomplete_chapters"], serde_json::json!([2]));

    // A plain rerun does not retry a permanent failure, and exits 1.
    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(ws.report()["stats"]["synthesized"], 0);
    assert!(
        stdout(&out).contains("injected failure"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_second_render_on_the_same_database_exits_3_naming_the_holder() {
    let ws = Workspace::new();
    ws.job(&manuscript(4, 45), "concurrency = 1");
    let mut first = ws.render_until_clips(1);
    let second = ws.run(&["render", "job.toml"]);
    let still_running = first.try_wait().unwrap().is_none();
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(
        still_running,
        "the first render ended too early for the test to mean anything"
    );
    assert_eq!(second.status.code(), Some(3), "{}", stderr(&second));
    assert!(
        stderr(&second).contains(&format!("pid {}", first.id())),
        "{}",
        stderr(&second)
    );

    // The killed run's lock is taken over.
    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn max_duration_stops_starting_work_and_exits_75() {
    let ws = Workspace::new();
    ws.job(&manuscript(3, 60), "concurrency = 1");
    let out = ws.run(&["render", "job.toml", "--max-duration", "1s"]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    let report = ws.report();
    assert_eq!(report["outcome"], "incomplete");
    let pending = report["counts"]["pending"].as_u64().unwrap();
    assert!(
        pending > 0,
        "the deadline came after the end: make the job bigger"
    );
    assert!(
        stdout(&out).contains("stopped at the deadline"),
        "{}",
        stdout(&out)
    );

    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        ws.report()["stats"]["synthesized"].as_u64().unwrap(),
        pending
    );

    let bad = ws.run(&["render", "job.toml", "--until", "25:99"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--until"));
}

#[test]
fn plan_counts_what_is_left_to_render_and_prices_it() {
    let ws = Workspace::new();
    ws.job(
        &manuscript(2, 6),
        "price_per_million_characters = 100000\ncurrency = \"USD\"",
    );
    let plan = |ws: &Workspace| -> serde_json::Value {
        let out = ws.run(&["plan", "job.toml", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        serde_json::from_str(stdout(&out).trim()).unwrap()
    };
    let before = plan(&ws);
    let characters = before["characters"].as_u64().unwrap();
    assert_eq!(before["characters_to_render"].as_u64().unwrap(), characters);
    let cost = before["estimated_cost"].as_f64().unwrap();
    assert!((cost - characters as f64 * 0.1).abs() < 1e-6, "{cost}");
    assert_eq!(before["currency"], "USD");
    assert!(!ws.path().join("cache").exists(), "plan wrote to the cache");

    assert_eq!(ws.run(&["render", "job.toml"]).status.code(), Some(0));
    let after = plan(&ws);
    assert_eq!(after["characters_to_render"], 0);
    assert_eq!(after["estimated_cost"].as_f64().unwrap(), 0.0);
}

#[test]
fn the_character_budget_stops_new_work_and_the_next_run_continues() {
    let ws = Workspace::new();
    ws.job(&manuscript(2, 10), "max_characters_per_run = 300");
    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    let first = ws.report();
    let sent = first["stats"]["synthesized"].as_u64().unwrap();
    assert!(sent > 0 && first["counts"]["pending"].as_u64().unwrap() > 0);
    assert!(first["counts"]["chars_done"].as_u64().unwrap() <= 300);

    // The command line overrides the job file.
    let out = ws.run(&["render", "job.toml", "--max-characters", "100000"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(ws.report()["counts"]["pending"], 0);
}

#[test]
fn sigterm_saves_state_exits_130_and_the_next_run_resumes() {
    let ws = Workspace::new();
    ws.job(&manuscript(4, 45), "concurrency = 2");
    let out = terminate(ws.render_until_clips(10));
    assert_eq!(out.status.code(), Some(130));
    assert_eq!(ws.report()["outcome"], "interrupted");
    assert!(
        stdout(&out).contains("run the same command again to resume"),
        "{}",
        stdout(&out)
    );
    let stored = ws.clips().len();
    let total = unique_segments(&ws);
    assert!(stored < total, "the signal came after the end");

    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        ws.report()["stats"]["synthesized"].as_u64().unwrap() as usize,
        total - stored
    );
}

/// Seen: a SIGTERM while a big book's plan was being recorded took about
/// 21 s to act: the whole plan went to SQLite in one transaction first.
/// Now the recording asks between statements and rolls the plan back: the
/// run exits 130 and says so, with nothing of the plan in the database (a
/// plan that had been recorded would hold the book's million segments).
#[test]
fn sigterm_while_a_big_plan_is_recorded_rolls_it_back_and_exits_130() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let ws = Workspace::new();
    // Near the size limit of one manuscript file (64 MiB).
    let text = manuscript(200, 5_400);
    assert!(
        text.len() > 56 << 20 && text.len() < 64 << 20,
        "{}",
        text.len()
    );
    ws.job(&text, "");
    drop(text);
    let mut child = ws
        .command()
        .args(["render", "job.toml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn audiobook");
    let (out, out_reader) = crate::util::lines_of(child.stdout.take().unwrap());
    let (err, err_reader) = crate::util::lines_of(child.stderr.take().unwrap());
    let mut said = String::new();
    while !said.contains("recording the plan") {
        let line = err
            .recv_timeout(Duration::from_secs(300))
            .unwrap_or_else(|_| panic!("the render never said it was recording the plan: {said}"));
        said.push_str(&line);
        said.push('\n');
    }
    let term = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(term.success());
    // A liveness bound, not a timing claim: a hung process fails here
    // instead of hanging the suite.
    let limit = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > limit {
            child.kill().ok();
            panic!("still running two minutes after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    out_reader.join().unwrap();
    err_reader.join().unwrap();
    said.extend(err.try_iter().map(|l| l + "\n"));
    let printed: String = out.try_iter().map(|l| l + "\n").collect();
    assert_eq!(status.code(), Some(130), "{said}{printed}");
    assert!(said.contains("stopped while recording the plan"), "{said}");
    assert!(!said.contains("recorded the plan"), "{said}");
    assert!(
        printed.contains("interrupted while planning")
            && printed.contains("run the same command again to resume"),
        "{printed}"
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let jobs = runtime.block_on(async {
        let store = Store::open_existing(&ws.path().join("state.db"))
            .await
            .expect("the state database");
        let jobs = store.jobs().await.expect("jobs");
        store.close().await;
        jobs
    });
    assert!(jobs.is_empty(), "the plan was not rolled back: {jobs:?}");
}
