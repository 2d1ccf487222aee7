//! Mastering and QA checked from outside: synthetic clips of known level and
//! known edge silence rendered through the real renderer, cache and writers,
//! then measured here with maths written out in this file (not the code
//! under test): RMS, sample peaks, 4x oversampled peaks, BS.1770 loudness,
//! and the pauses between speech. And `audiobook check` on files made here.

use std::sync::Arc;

use audiobook::cache::Cache;
use audiobook::provider::{Clip, ProviderError, SynthRequest, Synthesizer};
use audiobook::render::{Outcome, Renderer};
use audiobook::store::Store;
use tokio_util::sync::CancellationToken;

use crate::util::{Workspace, delivered_wav, stdout, wav_samples};

const RATE: u32 = 16_000;

/// Clips of a 1 kHz tone at a known level between known silences, their
/// lengths taken from the text; "loud" adds a burst of full-scale square
/// wave (far over any ceiling, with large peaks between samples); "silent"
/// is silence from end to end.
struct Tones;

fn ms(ms: usize) -> usize {
    ms * RATE as usize / 1000
}

fn tone_clip(text: &str) -> Vec<i16> {
    if text.contains("silent") {
        return vec![0; ms(600)];
    }
    let n = text.len();
    let mut samples = vec![0i16; ms(120 + 10 * (n % 7))];
    let body = ms(400 + 30 * (n % 11));
    // "quiet": a voice 20 dB under the others, which mastering lifts.
    let level = if text.contains("quiet") { 0.02 } else { 0.2 };
    for i in 0..body {
        let t = i as f64 / f64::from(RATE);
        let mut v = level * (2.0 * std::f64::consts::PI * 1_000.0 * t).cos();
        if text.contains("loud") && (body / 3..body / 3 + ms(30)).contains(&i) {
            // A 2 kHz square wave at full scale.
            v = if (i / 4) % 2 == 0 { 0.999 } else { -0.999 };
        }
        samples.push((v * 32_767.0).round() as i16);
    }
    samples.extend(vec![0i16; ms(250)]);
    if text.to_lowercase().contains("soft") {
        // A soft onset and a fading tail, under the -50 dBFS threshold
        // (103.6 of 32768): 30 ms rising to 90 before the tone, 30 ms
        // falling from 90 after it.
        let lead = samples.iter().position(|&s| s != 0).unwrap();
        let ramp = ms(30);
        for k in 0..ramp {
            samples[lead - ramp + k] = (1 + 89 * k / ramp) as i16;
        }
        let end = lead + body;
        for k in 0..ramp {
            samples[end + k] = (1 + 89 * (ramp - 1 - k) / ramp) as i16;
        }
    }
    samples
}

impl Synthesizer for Tones {
    async fn synthesize(&self, request: &SynthRequest) -> Result<Clip, ProviderError> {
        Ok(Clip::new(RATE, tone_clip(&request.text)))
    }
}

const BOOK: &str = "# One\n\nA first sentence here. A loud second one follows.\n\n\
    Then a new paragraph. With two.\n\n# Two\n\nThe second chapter is short. It ends.\n";

async fn render(ws: &Workspace, book: &str, master: &str) -> audiobook::render::JobReport {
    ws.job(book, &format!("concurrency = 2\n\n[master]\n{master}"));
    let job = audiobook::job::load(&ws.path().join("job.toml")).expect("valid job");
    let manuscript = audiobook::manuscript::load(&job).expect("manuscript");
    let store = Store::open(&ws.path().join("state.db")).await.expect("db");
    let cache = Arc::new(Cache::open(&ws.path().join("cache")).expect("cache"));
    let renderer = Renderer::new(
        store.clone(),
        cache,
        Arc::new(Tones),
        audiobook::pacing::Window::new(2),
        CancellationToken::new(),
    );
    let report = renderer
        .render(&audiobook::plan::Plan::new(&job, &manuscript))
        .await
        .expect("render");
    store.close().await;
    report
}

fn db(amplitude: f64) -> f64 {
    20.0 * amplitude.log10()
}

fn rms_db(samples: &[i16]) -> f64 {
    let sum: f64 = samples
        .iter()
        .map(|&s| (f64::from(s) / 32_768.0).powi(2))
        .sum();
    db((sum / samples.len() as f64).sqrt())
}

fn peak_db(samples: &[i16]) -> f64 {
    db(samples
        .iter()
        .map(|&s| f64::from(s).abs())
        .fold(0.0, f64::max)
        / 32_768.0)
}

/// The largest value of the signal 4x oversampled: ideal band-limited
/// interpolation, a Blackman-windowed sinc 64 taps long per phase.
fn oversampled_peak_db(samples: &[i16]) -> f64 {
    const HALF: i64 = 32;
    let x = |i: i64| {
        if i < 0 || i >= samples.len() as i64 {
            0.0
        } else {
            f64::from(samples[i as usize]) / 32_768.0
        }
    };
    let taps: Vec<Vec<f64>> = [0.25, 0.5, 0.75]
        .iter()
        .map(|frac| {
            (-HALF + 1..=HALF)
                .map(|k| {
                    let t = k as f64 - frac;
                    let sinc = (std::f64::consts::PI * t).sin() / (std::f64::consts::PI * t);
                    let w = (std::f64::consts::PI * (t + HALF as f64) / (2.0 * HALF as f64)).sin();
                    sinc * w * w
                })
                .collect()
        })
        .collect();
    let mut peak = 0.0f64;
    for n in 0..samples.len() as i64 {
        peak = peak.max(x(n).abs());
        // Only where the signal is loud can a peak between samples matter.
        if x(n).abs() < 0.3 {
            continue;
        }
        for phase in &taps {
            let v: f64 = (-HALF + 1..=HALF)
                .zip(phase)
                .map(|(k, c)| x(n + k) * c)
                .sum();
            peak = peak.max(v.abs());
        }
    }
    db(peak)
}

/// Runs of exact digital silence longer than 20 ms, in ms: with clips
/// whose edges are silence and no room tone, these are the pauses.
fn silences_ms(samples: &[i16]) -> Vec<f64> {
    let mut runs = Vec::new();
    let mut run = 0usize;
    for &s in samples.iter().chain(std::iter::once(&1)) {
        if s == 0 {
            run += 1;
        } else {
            if run > ms(20) {
                runs.push(run as f64 * 1000.0 / f64::from(RATE));
            }
            run = 0;
        }
    }
    runs
}

#[tokio::test(flavor = "multi_thread")]
async fn acx_masters_to_its_rms_under_its_peak_with_the_configured_pauses() {
    let ws = Workspace::new();
    let report = render(&ws, BOOK, "profile = \"acx\"").await;
    assert_eq!(report.outcome, Outcome::Complete);
    assert!(report.qa_failures.is_empty(), "{:?}", report.qa_failures);
    for (file, pauses) in [
        // head; after the heading a paragraph gap; sentence, paragraph,
        // sentence; tail
        (1, vec![500.0, 300.0, 100.0, 300.0, 100.0, 1_000.0]),
        (2, vec![500.0, 300.0, 100.0, 1_000.0]),
    ] {
        let (_, samples) = wav_samples(&delivered_wav(&ws.out(), Some(file)));
        let rms = rms_db(&samples);
        assert!((rms - -20.0).abs() <= 0.5, "{file}: rms {rms}");
        assert!(
            peak_db(&samples) <= -3.0,
            "{file}: peak {}",
            peak_db(&samples)
        );
        let tp = oversampled_peak_db(&samples);
        assert!(tp <= -3.0, "{file}: 4x peak {tp}");
        let got = silences_ms(&samples);
        assert_eq!(got.len(), pauses.len(), "{file}: {got:?}");
        for (g, want) in got.iter().zip(&pauses) {
            assert!(
                (g - want).abs() <= 10.0,
                "{file}: pauses {got:?}, want {pauses:?}"
            );
        }
    }
    // The manifest's segments mark the speech: each starts where the tone
    // does, and the QA files list every delivered file.
    let manifest = ws.manifest();
    let first = &manifest["chapters"][0]["segments"][0];
    assert_eq!(first["start_sample"].as_u64(), Some(ms(500) as u64));
    let qa = crate::util::read_json(&ws.out().join("qa.json"));
    assert_eq!(qa["profile"], "acx");
    assert_eq!(qa["files"].as_array().unwrap().len(), 3);
    let csv = std::fs::read_to_string(ws.out().join("qa.csv")).unwrap();
    // The QA rows name the delivered files each judges (the book last).
    let book = delivered_wav(&ws.out(), None);
    let book = book.file_name().unwrap().to_string_lossy();
    let last = csv.lines().nth(3).unwrap();
    assert!(last.contains(&*book) && last.contains(",pass,"), "{csv}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ebu_r128_reaches_its_loudness_and_a_rerun_writes_the_same_bytes() {
    let ws = Workspace::new();
    let report = render(&ws, BOOK, "profile = \"ebu-r128\"\nroom_tone_db = -70").await;
    assert_eq!(report.outcome, Outcome::Complete);
    assert!(report.qa_failures.is_empty(), "{:?}", report.qa_failures);
    let first = ws.output_files();
    for file in [1, 2] {
        let (_, samples) = wav_samples(&delivered_wav(&ws.out(), Some(file)));
        let lufs = bs1770_lufs(&samples, RATE);
        assert!((lufs - -23.0).abs() <= 0.5, "{file}: {lufs} LUFS");
        let tp = oversampled_peak_db(&samples);
        assert!(tp <= -1.0, "{file}: 4x peak {tp}");
        // Room tone instead of digital silence in the head.
        let head = &samples[..ms(400)];
        assert!(head.iter().any(|&s| s != 0));
        let floor = rms_db(head);
        assert!(
            (floor - -70.0).abs() < 1.0,
            "{file}: room tone at {floor} dB"
        );
    }
    // A second render from a new database rewrites every file from the
    // cached clips: byte for byte the same.
    std::fs::remove_file(ws.path().join("state.db")).unwrap();
    std::fs::remove_dir_all(ws.out()).unwrap();
    render(&ws, BOOK, "profile = \"ebu-r128\"\nroom_tone_db = -70").await;
    assert_eq!(first, ws.output_files());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_clip_is_reported_and_not_stitched_as_a_pause() {
    let ws = Workspace::new();
    let book = "# One\n\nA spoken sentence. Then a silent one. And a last.\n";
    let report = render(&ws, book, "profile = \"acx\"").await;
    assert_eq!(report.outcome, Outcome::Failed);
    let silent: Vec<_> = report
        .failures
        .iter()
        .filter(|f| f.class == "silent")
        .collect();
    assert_eq!(silent.len(), 1, "{:?}", report.failures);
    assert!(silent[0].text.contains("silent"));
    // Segment 0 is the heading.
    let segments = &ws.manifest()["chapters"][0]["segments"];
    assert_eq!(segments[2]["silent"], true);
    assert_eq!(segments[2]["start_sample"], segments[2]["end_sample"]);
    let (_, samples) = wav_samples(&delivered_wav(&ws.out(), Some(1)));
    // Head, the heading's paragraph gap, one sentence gap (not two, and no
    // 600 ms of silence), tail.
    let got = silences_ms(&samples);
    assert_eq!(got.len(), 4, "{got:?}");
    assert!((got[2] - 100.0).abs() <= 10.0, "{got:?}");
    let written = crate::util::read_json(&ws.out().join("report.json"));
    assert!(
        written["failures"]
            .to_string()
            .contains("silence from end to end")
    );

    // A render with nothing to do still reports it: the chapter's summary
    // counts it, so its rows are read. So does one on a database whose
    // chapters have no summary yet (stitched by an older version), which
    // fills the summary in.
    for older in [false, true] {
        if older {
            chapter_summaries(&ws, Some("UPDATE chapters SET summary = NULL")).await;
        }
        let again = render(&ws, book, "profile = \"acx\"").await;
        assert_eq!(again.stats.synthesized, 0);
        assert_eq!(again.outcome, Outcome::Failed);
        let silent: Vec<_> = again
            .failures
            .iter()
            .filter(|f| f.class == "silent")
            .collect();
        assert_eq!(silent.len(), 1, "older: {older}: {:?}", again.failures);
        assert!(silent[0].text.contains("silent"));
        let summaries = chapter_summaries(&ws, None).await;
        assert_eq!(summaries.len(), 1);
        assert!(summaries[0].contains("\"silent\":1"), "{summaries:?}");
    }
}

/// The chapters' recorded summaries, after running `sql` on the state
/// database if given.
async fn chapter_summaries(ws: &Workspace, sql: Option<&'static str>) -> Vec<String> {
    let url = format!("sqlite://{}", ws.path().join("state.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    if let Some(sql) = sql {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    let summaries: Vec<Option<String>> =
        sqlx::query_scalar("SELECT summary FROM chapters ORDER BY idx")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    summaries
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect()
}

/// Regression: the hold was not applied before a chapter's first speech or
/// after its last, so a soft onset (and a fading tail) at a chapter's edges
/// was cut. Without mastering the chapter file holds the clips' own samples:
/// the 40 ms (`trim_hold_ms`) before the first speech and after the last are
/// the clips' own quiet sound, kept whole; the head and the tail hold
/// nothing over the lowest bit, so the onset's first sound starts exactly
/// `chapter_head_ms` in and the fade's last ends `chapter_trailing_ms` before
/// the end.
#[tokio::test(flavor = "multi_thread")]
async fn a_soft_onset_and_tail_at_a_chapters_edges_are_kept() {
    let ws = Workspace::new();
    let report = render(
        &ws,
        "# Soft start\n\nThe last words fade soft.\n",
        "profile = \"none\"",
    )
    .await;
    assert_eq!(report.outcome, Outcome::Complete);
    let (_, out) = wav_samples(&delivered_wav(&ws.out(), Some(1)));
    // Speech: over -50 dBFS, as the trimmer's default threshold says;
    // sound: over the lowest bit.
    let threshold = 32_768.0 * 10f64.powf(-50.0 / 20.0);
    let loud = |s: &i16| f64::from(*s).abs() > threshold;
    let sound = |s: &i16| s.abs() > 1;
    let hold = ms(40);

    let first = tone_clip("Soft start");
    let start = first.iter().position(loud).unwrap();
    let onset = &first[start - hold..start];
    assert!(onset.iter().filter(|&&s| s != 0).count() >= ms(30));
    let quiet = onset.iter().position(sound).unwrap();
    assert_eq!(out.iter().position(sound), Some(ms(500)), "the head");
    let speech = out.iter().position(loud).unwrap();
    assert_eq!(speech, ms(500) + hold - quiet);
    assert_eq!(&out[speech - hold..speech], onset, "the onset was cut");
    assert!(out[..speech - hold].iter().all(|&s| s == 0));

    let last = tone_clip("The last words fade soft.");
    let end = last.iter().rposition(loud).unwrap() + 1;
    let fade = &last[end..end + hold];
    assert!(fade.iter().filter(|&&s| s != 0).count() >= ms(30));
    let out_sound_end = out.iter().rposition(sound).unwrap() + 1;
    assert_eq!(out.len() - out_sound_end, ms(1_000), "the tail");
    let out_end = out.iter().rposition(loud).unwrap() + 1;
    assert_eq!(
        &out[out_end..out_end + hold],
        fade,
        "the fading tail was cut"
    );
    assert!(out[out_end + hold..].iter().all(|&s| s == 0));
}

/// Regression: the mastering gain lifts a quiet voice's soft onset and
/// fading tail, kept around the speech, over the QA's -50 dBFS speech
/// threshold. Kept inside the head and the tail, they made the head room
/// read up to `trim_hold_ms` under `chapter_head_ms` (500 ms: under the
/// 0.5 s acx asks) and the tail room under `chapter_trailing_ms` (1000 ms,
/// likewise), so this job failed its own profile. By this test's own count,
/// nothing over the threshold lies in the head or the tail now, and the QA
/// reads them as configured.
#[tokio::test(flavor = "multi_thread")]
async fn a_lifted_onset_leaves_the_head_and_tail_room_as_configured() {
    let ws = Workspace::new();
    let report = render(
        &ws,
        "# Soft and quiet\n\nA soft quiet line fades.\n",
        "profile = \"acx\"",
    )
    .await;
    assert_eq!(report.outcome, Outcome::Complete);
    let (_, out) = wav_samples(&delivered_wav(&ws.out(), Some(1)));
    let threshold = 32_768.0 * 10f64.powf(-50.0 / 20.0);
    let loud = |s: &i16| f64::from(*s).abs() > threshold;
    // The case under test: mastering lifted the quiet voice (a tone of
    // 0.02 full scale) by over 15 dB, so most of the onset kept before its
    // speech (a ramp up to -51 dBFS) is over the threshold now.
    let body_peak = out.iter().map(|&s| f64::from(s).abs()).fold(0.0, f64::max);
    assert!(body_peak > 0.02 * 32_768.0 * 5.6, "lifted: {body_peak}");
    let hold = ms(40);
    let first = out.iter().position(loud).unwrap();
    let last = out.iter().rposition(loud).unwrap() + 1;
    assert!((ms(500)..ms(500) + hold / 2).contains(&first), "{first}");
    let tail = out.len() - last;
    assert!((ms(1_000)..ms(1_000) + hold / 2).contains(&tail), "{tail}");

    let qa = crate::util::read_json(&ws.out().join("qa.json"));
    let chapter = &qa["files"][0];
    assert_eq!(chapter["pass"], true, "{chapter}");
    let head = chapter["head_secs"].as_f64().unwrap();
    assert!((0.5..0.52).contains(&head), "{chapter}");
    let tail = chapter["tail_secs"].as_f64().unwrap();
    assert!((1.0..1.02).contains(&tail), "{chapter}");
}

/// Integrated loudness as BS.1770-4 defines it, written out: K-weighting
/// (the pre-filter and RLB high-pass, designed for this rate), 400 ms
/// blocks overlapping by 75%, the -70 LUFS absolute and -10 LU relative gates.
pub(crate) fn bs1770_lufs(samples: &[i16], rate: u32) -> f64 {
    let full_scale: Vec<f64> = samples.iter().map(|&s| f64::from(s) / 32_768.0).collect();
    bs1770_lufs_f64(&full_scale, rate)
}

/// The same, of mono samples in full scale (a channel alone).
pub(crate) fn bs1770_lufs_f64(samples: &[f64], rate: u32) -> f64 {
    let fs = f64::from(rate);
    // Stage 1: high shelf (f0 1681.97 Hz, gain 3.99984 dB, Q 0.7071752).
    let (f0, g, q) = (
        1_681.974_450_955_533,
        3.999_843_853_973_347,
        0.707_175_236_955_419_6,
    );
    let k = (std::f64::consts::PI * f0 / fs).tan();
    let vh = 10f64.powf(g / 20.0);
    let vb = vh.powf(0.499_666_774_154_541_6);
    let a0 = 1.0 + k / q + k * k;
    let shelf = (
        [
            (vh + vb * k / q + k * k) / a0,
            2.0 * (k * k - vh) / a0,
            (vh - vb * k / q + k * k) / a0,
        ],
        [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
    );
    // Stage 2: high-pass (f0 38.1355 Hz, Q 0.5003270).
    let (f0, q) = (38.135_470_876_024_44, 0.500_327_037_323_877_3);
    let k = (std::f64::consts::PI * f0 / fs).tan();
    let a0 = 1.0 + k / q + k * k;
    let highpass = (
        [1.0, -2.0, 1.0],
        [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
    );
    let mut y = samples.to_vec();
    for (b, a) in [shelf, highpass] {
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        for v in y.iter_mut() {
            let out = b[0] * *v + b[1] * x1 + b[2] * x2 - a[0] * y1 - a[1] * y2;
            (x2, x1, y2, y1) = (x1, *v, y1, out);
            *v = out;
        }
    }
    let block = (0.4 * fs) as usize;
    let step = block / 4;
    let powers: Vec<f64> = (0..)
        .map(|i| i * step)
        .take_while(|start| start + block <= y.len())
        .map(|start| y[start..start + block].iter().map(|v| v * v).sum::<f64>() / block as f64)
        .collect();
    let loudness = |p: f64| -0.691 + 10.0 * p.log10();
    let gated = |threshold: f64| {
        let kept: Vec<f64> = powers
            .iter()
            .copied()
            .filter(|&p| loudness(p) > threshold)
            .collect();
        kept.iter().sum::<f64>() / kept.len() as f64
    };
    let relative = loudness(gated(-70.0)) - 10.0;
    loudness(gated(relative))
}

/// A WAV file of a 1 kHz sine with `peak` full scale, between silences.
fn sine_file(ws: &Workspace, name: &str, peak: f64, head_secs: f64) -> std::path::PathBuf {
    let path = ws.path().join(name);
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    let silence = |secs: f64| (secs * 44_100.0) as usize;
    for _ in 0..silence(head_secs) {
        w.write_sample(0i16).unwrap();
    }
    for i in 0..44_100 * 3 {
        let t = f64::from(i) / 44_100.0;
        let v = peak * (2.0 * std::f64::consts::PI * 1_000.0 * t).sin();
        w.write_sample((v * 32_767.0).round() as i16).unwrap();
    }
    for _ in 0..silence(2.0) {
        w.write_sample(0i16).unwrap();
    }
    w.finalize().unwrap();
    path
}

#[test]
fn check_fails_a_hot_peak_naming_the_rule_and_passes_a_compliant_file() {
    let ws = Workspace::new();
    // RMS of the whole: a sine of peak p has RMS p/sqrt(2); over 3 of 5.7 s.
    let hot = sine_file(&ws, "hot.wav", 10f64.powf(-0.5 / 20.0), 0.7);
    let out = ws.run(&["check", hot.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("FAIL peak"), "{text}");
    assert!(text.contains("-0.50"), "{text}");

    // An RMS of -20 dB over the file: the sine's RMS is its peak - 3.01 dB,
    // over 3 of 5.7 s, so its peak is -20 + 3.01 - 10log10(3/5.7) = -14.2.
    let good = sine_file(&ws, "good.wav", 10f64.powf(-14.2 / 20.0), 0.7);
    let out = ws.run(&["check", "--json", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let file = &json["files"][0];
    assert_eq!(file["pass"], true, "{file}");
    assert!(
        (file["rms_db"].as_f64().unwrap() - -20.0).abs() < 0.1,
        "{file}"
    );
    assert!(
        (file["head_secs"].as_f64().unwrap() - 0.7).abs() < 0.01,
        "{file}"
    );
    assert!(
        (file["tail_secs"].as_f64().unwrap() - 2.0).abs() < 0.01,
        "{file}"
    );

    let out = ws.run(&[
        "check",
        "--csv",
        good.to_str().unwrap(),
        hot.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let csv = stdout(&out);
    let hot_line = csv.lines().nth(2).unwrap();
    assert!(
        hot_line.contains(",fail,") && hot_line.contains("peak"),
        "{csv}"
    );

    let garbage = ws.write("garbage.wav", "not a wav");
    let out = ws.run(&["check", garbage.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(crate::util::stderr(&out).contains("garbage.wav"));
}

/// Chapters are measured and mastered in parallel (rayon, inside a blocking
/// task): the bytes must not depend on how many threads there are. The same
/// cloud job (the simulator's tone voice, room tone on, so the seeded noise
/// is covered too) rendered from scratch by the binary with one thread and
/// with two writes the same files.
#[test]
fn output_bytes_do_not_depend_on_the_thread_count() {
    use crate::util::{Cloud, Sim, TOKEN, cloud_job, manuscript, stderr};
    let sim = Sim::start("");
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let ws = Workspace::new();
        ws.write("book.md", manuscript(4, 4));
        cloud_job(
            &ws,
            &sim,
            Cloud::Coze,
            "http",
            None,
            "concurrency = 4\n\n[master]\nroom_tone_db = -70",
        );
        let out = ws
            .command()
            .args(["render", "job.toml"])
            .env("TEST_TTS_TOKEN", TOKEN)
            .env("RAYON_NUM_THREADS", threads)
            .env("TOKIO_WORKER_THREADS", threads)
            .output()
            .expect("run audiobook");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let files = ws.output_files();
        assert_eq!(
            files.len(),
            4 + 1 + 1,
            "four chapters, the book, the manifest"
        );
        outputs.push(files);
    }
    assert!(
        outputs[0] == outputs[1],
        "files that differ: {:?}",
        outputs[0]
            .iter()
            .zip(&outputs[1])
            .filter(|(a, b)| a != b)
            .map(|(a, _)| &a.0)
            .collect::<Vec<_>>()
    );
}
