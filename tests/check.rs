//! `audiobook check` on the formats a render delivers (MP3, FLAC, M4B) and
//! on files made here with ffmpeg: every figure compared with a decode by
//! another decoder than the one under test (ffmpeg for MP3 and FLAC,
//! symphonia's AAC decoder for M4B, which `check` reads through ffmpeg)
//! and the measurements written out in this file (peak, RMS, BS.1770
//! loudness through the formula in `master.rs`, speech edges).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::master::bs1770_lufs_f64;
use crate::util::{Workspace, manuscript, read_json, stderr, stdout};

/// Samples ffmpeg decodes from `path`, interleaved as the file holds them.
fn ffmpeg_decode(path: &Path) -> Vec<f64> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-map", "0:a", "-f", "f32le", "-"])
        .output()
        .expect("ffmpeg is installed (.ci/run installs it)");
    assert!(out.status.success(), "{}", stderr(&out));
    out.stdout
        .chunks_exact(4)
        .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        .collect()
}

/// Samples symphonia's AAC decoder gives for an M4B (mono), without the
/// edit list applied: the encoder's priming (1024 samples) comes first.
fn symphonia_aac_decode(path: &Path) -> Vec<f64> {
    use symphonia::core::codecs::audio::AudioDecoderOptions;
    use symphonia::core::formats::probe::Hint;
    use symphonia::core::formats::{FormatOptions, TrackType};
    use symphonia::core::io::MediaSourceStream;
    let file = std::fs::File::open(path).unwrap();
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut format = symphonia::default::get_probe()
        .probe(
            &Hint::new(),
            mss,
            FormatOptions::default(),
            Default::default(),
        )
        .unwrap();
    let track = format.default_track(TrackType::Audio).unwrap();
    let params = track
        .codec_params
        .as_ref()
        .unwrap()
        .audio()
        .unwrap()
        .clone();
    let id = track.id;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .unwrap();
    let mut all = Vec::new();
    let mut block: Vec<f32> = Vec::new();
    while let Some(packet) = format.next_packet().unwrap() {
        if packet.track_id == id {
            decoder
                .decode(&packet)
                .unwrap()
                .copy_to_vec_interleaved(&mut block);
            all.extend(block.iter().map(|&s| f64::from(s)));
        }
    }
    all
}

fn db(amplitude: f64) -> f64 {
    20.0 * amplitude.log10()
}

fn peak_db(samples: &[f64]) -> f64 {
    db(samples.iter().map(|s| s.abs()).fold(0.0, f64::max))
}

fn rms_db(samples: &[f64]) -> f64 {
    db((samples.iter().map(|s| s * s).sum::<f64>() / samples.len() as f64).sqrt())
}

/// Seconds before the first and after the last sample over -50 dBFS (the
/// meter's 10 ms windows move these by less than a window).
fn room_secs(samples: &[f64], rate: f64) -> (f64, f64) {
    let threshold = 10f64.powf(-50.0 / 20.0);
    let first = samples.iter().position(|s| s.abs() > threshold).unwrap();
    let last = samples.iter().rposition(|s| s.abs() > threshold).unwrap() + 1;
    (first as f64 / rate, (samples.len() - last) as f64 / rate)
}

/// `check --json FILE`: exit code and the file's entry.
fn check(ws: &Workspace, file: &Path) -> (Option<i32>, serde_json::Value) {
    let out = ws.run(&["check", "--json", file.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("{e}: {} {}", stdout(&out), stderr(&out)));
    (out.status.code(), json["files"][0].clone())
}

fn value(file: &serde_json::Value, key: &str) -> f64 {
    file[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} in {file}"))
}

fn near(file: &serde_json::Value, key: &str, want: f64, within: f64) {
    let got = value(file, key);
    assert!(
        (got - want).abs() <= within,
        "{key}: {got}, want {want} ± {within}: {file}"
    );
}

#[test]
fn check_measures_the_mp3_flac_and_m4b_a_render_delivers() {
    let ws = Workspace::new();
    ws.job(&manuscript(1, 3), "");
    let job = std::fs::read_to_string(ws.path().join("job.toml")).unwrap();
    ws.write(
        "job.toml",
        job.replace(
            "formats = [\"wav\"]\nsplit = \"both\"",
            "formats = [\"mp3\", \"m4b\", \"flac\"]\nsplit = \"chapter\"",
        ),
    );
    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let manifest = ws.manifest();
    let chapter = &manifest["chapters"][0];
    let samples = chapter["samples"].as_u64().unwrap();
    let stem = chapter["files"][0]
        .as_str()
        .unwrap()
        .trim_end_matches(".mp3");
    let qa = read_json(&ws.out().join("qa.json"));
    let file = |ext: &str| -> PathBuf { ws.out().join(format!("{stem}.{ext}")) };

    for (ext, rate) in [("mp3", 44_100.0), ("flac", 16_000.0), ("m4b", 44_100.0)] {
        let path = file(ext);
        let (code, measured) = check(&ws, &path);
        assert_eq!(code, Some(0), "{ext}: {measured}");
        assert_eq!(measured["pass"], true, "{ext}: {measured}");
        assert_eq!(value(&measured, "sample_rate"), rate, "{ext}");
        // Another decoder: ffmpeg for MP3 and FLAC; for M4B (which check
        // decodes with ffmpeg) symphonia, whose decode still holds the
        // encoder's 1024 samples of priming.
        let decoded = if ext == "m4b" {
            symphonia_aac_decode(&path)
        } else {
            ffmpeg_decode(&path)
        };
        let want_secs = samples as f64 / 16_000.0;
        match ext {
            // Gapless MP3 and lossless FLAC: exactly the chapter's length.
            "mp3" | "flac" => {
                assert_eq!(decoded.len() as f64, (want_secs * rate).round(), "{ext}");
                near(&measured, "duration_secs", want_secs, 0.5 / rate);
            }
            // The edit list cuts the priming and the padding: the chapter's
            // length within an AAC frame.
            _ => near(&measured, "duration_secs", want_secs, 1024.0 / rate),
        }
        let (lossy, tight) = if ext == "m4b" {
            (0.05, 0.1)
        } else {
            (0.01, 0.02)
        };
        near(&measured, "peak_db", peak_db(&decoded), lossy);
        assert!(value(&measured, "true_peak_db") >= value(&measured, "peak_db") - 0.01);
        near(&measured, "rms_db", rms_db(&decoded), tight);
        near(
            &measured,
            "lufs",
            bs1770_lufs_f64(&decoded, rate as u32),
            0.1,
        );
        let (head, tail) = room_secs(&decoded, rate);
        let priming = if ext == "m4b" { 1024.0 / rate } else { 0.0 };
        near(
            &measured,
            "head_secs",
            head - priming,
            0.011 + priming / 2.0,
        );
        near(&measured, "tail_secs", tail, 0.011 + 2.0 * priming);
        // The render's QA judged this file as decoded (FLAC: the mastered
        // stream it holds), with the same figures check gives.
        let row = qa["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["file"] == format!("{stem}.{ext}"))
            .unwrap_or_else(|| panic!("{ext} in {qa}"));
        let how = if ext == "flac" { "mastered" } else { "decoded" };
        assert_eq!(row["measured"], how, "{row}");
        near(row, "peak_db", value(&measured, "peak_db"), 0.001);
        near(row, "rms_db", value(&measured, "rms_db"), 0.001);
    }
}

/// A 1 kHz sine peaking at -0.5 dBFS between 0.7 s and 2 s of silence,
/// at 44.1 kHz: a WAV file here, the other formats by ffmpeg's encoders.
fn hot_files(ws: &Workspace) -> Vec<PathBuf> {
    let wav = ws.path().join("hot.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&wav, spec).unwrap();
    let peak = 10f64.powf(-0.5 / 20.0);
    let samples = (0..44_100 * 57 / 10).map(|i| {
        let t = f64::from(i) / 44_100.0;
        if (0.7..3.7).contains(&t) {
            (peak * (2.0 * std::f64::consts::PI * 1_000.0 * t).sin() * 32_767.0).round() as i16
        } else {
            0
        }
    });
    for s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
    let mut files = vec![wav.clone()];
    for (name, codec) in [
        ("hot.mp3", ["-c:a", "libmp3lame", "-b:a", "192k"]),
        ("hot.flac", ["-c:a", "flac", "-b:a", "0"]),
        ("hot.m4b", ["-c:a", "aac", "-b:a", "128k"]),
    ] {
        let path = ws.path().join(name);
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-v", "error", "-y", "-i"]).arg(&wav).args(codec);
        if name.ends_with("m4b") {
            cmd.args(["-f", "ipod"]);
        }
        let status = cmd.arg(&path).status().expect("ffmpeg");
        assert!(status.success(), "{name}");
        files.push(path);
    }
    files
}

#[test]
fn check_fails_a_hot_peak_in_every_format_and_reads_every_channel() {
    let ws = Workspace::new();
    let files = hot_files(&ws);
    for file in &files {
        let out = ws.run(&["check", file.to_str().unwrap()]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{}: {text}", file.display());
        assert!(text.contains("FAIL peak"), "{text}");
        let (_, measured) = check(&ws, file);
        near(&measured, "peak_db", -0.5, 0.3);
        near(&measured, "head_secs", 0.7, 0.03);
    }

    // Stereo: the sine left, silence right. Every channel is measured as
    // the file holds it (no downmix): the peak is the left's, the RMS is
    // over both channels' samples (3.01 dB under the left's alone), and
    // BS.1770 sums the channels' power, so the loudness is the mono file's.
    let stereo = ws.path().join("stereo.flac");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&files[0])
        .args(["-af", "pan=stereo|c0=c0|c1=0*c0", "-c:a", "flac"])
        .arg(&stereo)
        .status()
        .expect("ffmpeg");
    assert!(status.success());
    let (_, mono) = check(&ws, &files[0]);
    let (code, both) = check(&ws, &stereo);
    assert_eq!(code, Some(1), "{both}");
    near(&both, "peak_db", value(&mono, "peak_db"), 0.01);
    near(
        &both,
        "rms_db",
        value(&mono, "rms_db") - 10.0 * 2f64.log10(),
        0.01,
    );
    near(&both, "lufs", value(&mono, "lufs"), 0.05);
    near(&both, "head_secs", value(&mono, "head_secs"), 0.001);
}

#[test]
fn check_names_the_file_and_what_to_do_when_it_cannot_read_it() {
    let ws = Workspace::new();
    let files = hot_files(&ws);
    let ogg = ws.write("talk.ogg", b"OggS\0\x02rest of an ogg page");
    let text = ws.write("notes.mp3", "not audio at all, whatever the name says");
    let cut = ws.path().join("cut.flac");
    std::fs::write(&cut, &std::fs::read(&files[2]).unwrap()[..60]).unwrap();
    for (file, says) in [
        (&ogg, "an Ogg file; this reads WAV, FLAC, MP3 and M4B"),
        (&text, "not an audio file this knows"),
        (&cut, "damaged or cut short"),
    ] {
        let out = ws.run(&["check", file.to_str().unwrap(), files[1].to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}", file.display());
        let err = stderr(&out);
        assert!(err.contains(&file.display().to_string()), "{err}");
        assert!(err.contains(says), "{says}: {err}");
        // The readable file is still measured and printed.
        assert!(stdout(&out).contains("hot.mp3: FAIL"), "{}", stdout(&out));
    }
    // An M4B needs ffmpeg: without it on PATH, the message says so.
    let empty = ws.path().join("no-programs");
    std::fs::create_dir_all(&empty).unwrap();
    let out = ws
        .command()
        .args(["check", files[3].to_str().unwrap()])
        .env("PATH", &empty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("hot.m4b"), "{err}");
    assert!(err.contains("needs the ffmpeg program on PATH"), "{err}");
}
