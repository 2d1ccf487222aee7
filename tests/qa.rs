//! The QA verdict from outside: a render whose delivered files fail their
//! profile (exit 1, the summary naming the rule and the fix, `report.json`'s
//! `qa_failures`), and `audiobook check` against every profile and rule on
//! WAV files written here, their expected figures worked out in this file
//! (BS.1770 loudness through the formula in `master.rs`, RMS and room by
//! construction), not by the meter under test.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::master::bs1770_lufs;
use crate::util::{Workspace, delivered_wav, read_json, stderr, stdout, wav_samples};

const RATE: u32 = 44_100;

/// A test file: `head` seconds of quiet, `body` seconds of a 1 kHz sine
/// with peak `peak_db`, `tail` seconds of quiet; the quiet is digital
/// silence, or uniform noise of RMS `noise_db`.
struct Tone {
    head: f64,
    body: f64,
    tail: f64,
    peak_db: f64,
    noise_db: Option<f64>,
}

impl Tone {
    /// A sine whose peak makes the whole file's RMS `rms_db`: a sine's RMS
    /// is its peak - 3.01 dB, spread over body / (head + body + tail).
    fn at_rms(head: f64, body: f64, tail: f64, rms_db: f64) -> Tone {
        let share = body / (head + body + tail);
        Tone {
            head,
            body,
            tail,
            peak_db: rms_db + 10.0 * 2f64.log10() - 10.0 * share.log10(),
            noise_db: None,
        }
    }

    fn samples(&self) -> Vec<i16> {
        let n = |secs: f64| (secs * f64::from(RATE)).round() as usize;
        // Uniform noise in [-a, a] has an RMS of a / sqrt(3).
        let a = self
            .noise_db
            .map_or(0.0, |db| 10f64.powf(db / 20.0) * 3f64.sqrt());
        let mut state = 0x2545_f491_u32;
        let mut quiet = |count: usize| -> Vec<i16> {
            (0..count)
                .map(|_| {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    let u = f64::from(state >> 8) / f64::from(1u32 << 24) * 2.0 - 1.0;
                    (u * a * 32_768.0).round() as i16
                })
                .collect()
        };
        let peak = 10f64.powf(self.peak_db / 20.0);
        let mut s = quiet(n(self.head));
        s.extend((0..n(self.body)).map(|i| {
            let t = i as f64 / f64::from(RATE);
            (peak * (2.0 * std::f64::consts::PI * 1_000.0 * t).sin() * 32_767.0).round() as i16
        }));
        s.extend(quiet(n(self.tail)));
        s
    }

    fn write(&self, ws: &Workspace, name: &str) -> PathBuf {
        let path = ws.path().join(name);
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        let mut i16s = w.get_i16_writer(self.samples().len() as u32);
        for s in self.samples() {
            i16s.write_sample(s);
        }
        i16s.flush().unwrap();
        w.finalize().unwrap();
        path
    }
}

/// `check --json --profile PROFILE FILE`: its exit code and the file's entry.
fn check(ws: &Workspace, profile: &str, file: &Path) -> (Option<i32>, serde_json::Value) {
    let out = ws.run(&[
        "check",
        "--json",
        "--profile",
        profile,
        file.to_str().unwrap(),
    ]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("{e}: {} {}", stdout(&out), stderr(&out)));
    assert_eq!(json["profile"], profile);
    (out.status.code(), json["files"][0].clone())
}

fn failed_rules(file: &serde_json::Value) -> BTreeSet<String> {
    file["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["pass"] == false)
        .map(|r| r["rule"].as_str().unwrap().to_string())
        .collect()
}

fn value(file: &serde_json::Value, key: &str) -> f64 {
    file[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} in {file}"))
}

#[test]
fn check_takes_the_podcast_and_ebu_r128_profiles() {
    let ws = Workspace::new();
    let tone = Tone {
        head: 0.7,
        body: 3.0,
        tail: 2.0,
        peak_db: -13.0,
        noise_db: None,
    };
    let file = tone.write(&ws, "speech.wav");
    // The silences fall under the gates: the loudness is about the sine's,
    // its peak - 3.01 dB (the K-weighting's +0.69 dB at 1 kHz is what
    // BS.1770's -0.691 offsets), a little under for the 400 ms blocks that
    // straddle the sine's start and end.
    let lufs = bs1770_lufs(&tone.samples(), RATE);
    assert!(
        (-16.6..=-15.9).contains(&lufs),
        "the test's own maths: {lufs}"
    );

    let (code, f) = check(&ws, "podcast", &file);
    assert_eq!(code, Some(0), "{f}");
    assert!((value(&f, "lufs") - lufs).abs() < 0.1, "{f}");
    assert!((value(&f, "true_peak_db") - -13.0).abs() < 0.1, "{f}");
    let rules: Vec<&str> = f["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["loudness", "true_peak"]);

    // The same file is 7 LU too loud for broadcast.
    let (code, f) = check(&ws, "ebu-r128", &file);
    assert_eq!(code, Some(1), "{f}");
    assert_eq!(failed_rules(&f), BTreeSet::from(["loudness".to_string()]));
    let out = ws.run(&["check", "--profile", "ebu-r128", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("FAIL (ebu-r128)"), "{text}");
    assert!(text.contains("FAIL loudness"), "{text}");
    assert!(text.contains("-23.5..=-22.5 LUFS"), "{text}");

    // Near full scale: too loud, and a true peak over -1 dBTP.
    let hot = Tone {
        peak_db: -0.5,
        ..tone
    };
    let hot_file = hot.write(&ws, "hot.wav");
    let (code, f) = check(&ws, "podcast", &hot_file);
    assert_eq!(code, Some(1), "{f}");
    assert_eq!(
        failed_rules(&f),
        BTreeSet::from(["loudness".to_string(), "true_peak".to_string()])
    );
    assert!((value(&f, "true_peak_db") - -0.5).abs() < 0.1, "{f}");
}

#[test]
fn check_names_the_acx_room_and_noise_floor_rules_that_fail() {
    let ws = Workspace::new();
    // Each file is right but for one rule, its RMS -20 dB by construction.
    let compliant = Tone::at_rms(0.7, 3.0, 2.0, -20.0);
    let noisy = Tone {
        noise_db: Some(-55.0),
        ..Tone::at_rms(0.7, 3.0, 2.0, -20.0)
    };
    let cases = [
        ("compliant.wav", compliant, None, 0.7, 2.0),
        ("noisy.wav", noisy, Some("noise_floor"), 0.7, 2.0),
        (
            "short-head.wav",
            Tone::at_rms(0.2, 3.0, 2.0, -20.0),
            Some("head_room"),
            0.2,
            2.0,
        ),
        (
            "long-tail.wav",
            Tone::at_rms(0.7, 3.0, 6.0, -20.0),
            Some("tail_room"),
            0.7,
            6.0,
        ),
    ];
    for (name, tone, fails, head, tail) in cases {
        let file = tone.write(&ws, name);
        let (code, f) = check(&ws, "acx", &file);
        let want: BTreeSet<String> = fails.into_iter().map(str::to_string).collect();
        assert_eq!(failed_rules(&f), want, "{name}: {f}");
        assert_eq!(code, Some(if fails.is_some() { 1 } else { 0 }), "{name}");
        assert!((value(&f, "rms_db") - -20.0).abs() < 0.05, "{name}: {f}");
        assert!((value(&f, "head_secs") - head).abs() < 0.011, "{name}: {f}");
        assert!((value(&f, "tail_secs") - tail).abs() < 0.011, "{name}: {f}");
    }
    // The noise floor is the RMS of the quietest half second: the noise's
    // own RMS, measured here over the tail.
    let noisy = Tone {
        noise_db: Some(-55.0),
        ..Tone::at_rms(0.7, 3.0, 2.0, -20.0)
    };
    let samples = noisy.samples();
    let tail = &samples[samples.len() - RATE as usize..];
    let rms = (tail
        .iter()
        .map(|&s| (f64::from(s) / 32_768.0).powi(2))
        .sum::<f64>()
        / tail.len() as f64)
        .sqrt();
    let floor = 20.0 * rms.log10();
    assert!((floor - -55.0).abs() < 0.2, "the test's own noise: {floor}");
    let (_, f) = check(&ws, "acx", &ws.path().join("noisy.wav"));
    assert!((value(&f, "noise_floor_db") - floor).abs() < 0.3, "{f}");
    let rule = f["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "noise_floor")
        .unwrap()
        .clone();
    assert_eq!(rule["limit"], "<= -60.0 dB");
    assert!(
        rule["fix"].as_str().unwrap().contains("room_tone_db"),
        "{rule}"
    );
}

/// An `acx` job aimed under the profile's RMS range: the files are written,
/// the run exits 1, and the summary and `report.json` say which rule each
/// file fails and what to change.
#[test]
fn a_render_whose_files_fail_their_profile_exits_1_naming_rule_and_fix() {
    let ws = Workspace::new();
    ws.job(
        "# One\n\nThe lamp was lit at dusk. The keeper climbed the stair.\n\n\
         # Two\n\nMorning came grey and still.\n",
        "concurrency = 2\n\n[master]\nprofile = \"acx\"\ntarget_rms_db = -25",
    );
    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    // The files as delivered (WAV per chapter and for the book, here).
    let out_dir = ws.out();
    let name = |chapter| {
        delivered_wav(&out_dir, chapter)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    let delivered = [name(Some(1)), name(Some(2)), name(None)];
    for file in &delivered {
        assert!(
            text.contains(&format!("{file} fails acx (rms): -2")),
            "{text}"
        );
    }
    assert!(
        text.contains("allowed -23.0..=-18.0 dB; remove [master] target_rms_db"),
        "{text}"
    );
    assert!(
        text.contains("the files are written; see qa.json"),
        "{text}"
    );

    let report = ws.report();
    assert_eq!(report["outcome"], "complete", "{report}");
    assert_eq!(report["qa_profile"], "acx");
    let failures = report["qa_failures"].as_array().unwrap();
    let files: BTreeSet<&str> = failures
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, delivered.iter().map(String::as_str).collect());
    for f in failures {
        assert_eq!(f["rule"], "rms", "only the RMS is off: {f}");
        assert!((f["value"].as_f64().unwrap() - -25.0).abs() <= 0.5, "{f}");
        assert_eq!(f["limit"], "-23.0..=-18.0 dB");
        assert!(f["fix"].as_str().unwrap().contains("target_rms_db"), "{f}");
    }
    // Written all the same, at the level asked for, by this file's maths.
    let (_, samples) = wav_samples(&delivered_wav(&ws.out(), Some(1)));
    let sum: f64 = samples
        .iter()
        .map(|&s| (f64::from(s) / 32_768.0).powi(2))
        .sum();
    let rms = 10.0 * (sum / samples.len() as f64).log10();
    assert!((rms - -25.0).abs() <= 0.5, "rms {rms}");
    let qa = read_json(&ws.out().join("qa.json"));
    assert_eq!(qa["pass"], false);
}
