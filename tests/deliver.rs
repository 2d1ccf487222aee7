//! The delivered files read back with decoders and parsers that did not
//! write them: symphonia decodes MP3, AAC (M4B) and FLAC; ffprobe reads
//! tags, chapters and subtitle cues; mp4ameta reads the M4B's two chapter
//! lists; MP3 frame headers and WAV samples are checked by hand here.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Workspace, manuscript, read_json, stderr, stdout, wav_samples};

const RATE: u64 = 16_000;

/// A two-chapter book delivered in every format, both splits, every
/// subtitle format, with metadata and a cover.
fn deliver_everything(ws: &Workspace) {
    ws.job(&manuscript(2, 4), "");
    let status = Command::new("ffmpeg")
        .args([
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=64x64",
        ])
        .args(["-frames:v", "1"])
        .arg(ws.path().join("cover.png"))
        .status()
        .expect("ffmpeg is installed (.ci/run installs it)");
    assert!(status.success());
    let job = std::fs::read_to_string(ws.path().join("job.toml")).unwrap();
    let job = job
        .replace(
            "[book]\n",
            "[book]\nauthor = \"Ann Author\"\nnarrator = \"Ned Narrator\"\nyear = 2024\n\
             publisher = \"Pub House\"\nisbn = \"9780141439518\"\nseries = \"The Series\"\n\
             description = \"About the book.\"\ncover = \"cover.png\"\n",
        )
        .replace(
            "formats = [\"wav\"]",
            "formats = [\"mp3\", \"m4b\", \"flac\", \"wav\"]\nsubtitles = [\"srt\", \"vtt\", \"lrc\"]",
        );
    ws.write("job.toml", job);
    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("12 audio file(s) encoded"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("64×64 px; ACX asks for at least 2400"),
        "{}",
        stderr(&out)
    );
}

fn ffprobe(path: &Path, what: &[&str]) -> serde_json::Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-of", "json"])
        .args(what)
        .arg(path)
        .output()
        .expect("ffprobe");
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Decoded sample frames, counted by symphonia (gapless trimming applied).
fn decoded_frames(path: &Path) -> (u64, u32) {
    use symphonia::core::codecs::audio::AudioDecoderOptions;
    use symphonia::core::formats::probe::Hint;
    use symphonia::core::formats::{FormatOptions, TrackType};
    use symphonia::core::io::MediaSourceStream;
    let file = std::fs::File::open(path).unwrap();
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(path.extension().unwrap().to_str().unwrap());
    let mut format = symphonia::default::get_probe()
        .probe(&hint, mss, FormatOptions::default(), Default::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let track = format.default_track(TrackType::Audio).unwrap();
    let params = track
        .codec_params
        .as_ref()
        .unwrap()
        .audio()
        .unwrap()
        .clone();
    let rate = params.sample_rate.unwrap();
    let track_id = track.id;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .unwrap();
    let mut frames = 0u64;
    while let Some(packet) = format.next_packet().unwrap() {
        if packet.track_id != track_id {
            continue;
        }
        frames += decoder.decode(&packet).unwrap().frames() as u64;
    }
    (frames, rate)
}

/// Samples ffmpeg decodes from the file, as 44.1 kHz mono.
fn ffmpeg_decoded_frames(path: &Path) -> u64 {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args([
            "-map", "0:a", "-f", "s16le", "-ac", "1", "-ar", "44100", "-",
        ])
        .output()
        .expect("ffmpeg");
    assert!(out.status.success(), "{}", stderr(&out));
    out.stdout.len() as u64 / 2
}

/// Every MP3 frame after the ID3 tag: MPEG-1 Layer III, 44.1 kHz, mono,
/// at `kbps` (bitrate index and frame length worked out from ISO 11172-3).
fn check_mp3_frames(path: &Path, kbps: u32) -> usize {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..3], b"ID3");
    assert_eq!(bytes[3], 4, "ID3v2.4");
    let size = bytes[6..10]
        .iter()
        .fold(0usize, |acc, b| (acc << 7) | usize::from(*b));
    let mut at = 10 + size;
    let index = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ]
    .iter()
    .position(|&b| b == kbps)
    .unwrap() as u8;
    let mut frames = 0;
    while at + 4 <= bytes.len() {
        let h = &bytes[at..at + 4];
        assert_eq!(
            (h[0], h[1] & 0xFE),
            (0xFF, 0xFA),
            "frame sync, MPEG-1 layer III at {at}"
        );
        assert_eq!(h[2] >> 4, index, "bitrate at {at}");
        assert_eq!((h[2] >> 2) & 3, 0, "44.1 kHz at {at}");
        assert_eq!(h[3] >> 6, 3, "mono at {at}");
        let padding = usize::from((h[2] >> 1) & 1);
        at += 144 * kbps as usize * 1000 / 44_100 + padding;
        frames += 1;
    }
    assert_eq!(at, bytes.len(), "the file ends on a frame boundary");
    frames
}

fn secs(v: &serde_json::Value) -> f64 {
    v.as_str()
        .map_or_else(|| v.as_f64().unwrap(), |s| s.parse().unwrap())
}

#[test]
fn every_format_reads_back_with_an_independent_decoder() {
    let ws = Workspace::new();
    deliver_everything(&ws);
    let manifest = ws.manifest();
    let chapters = manifest["chapters"].as_array().unwrap();
    let book_samples = manifest["samples"].as_u64().unwrap();

    let mut spans: Vec<(PathBuf, u64)> = chapters
        .iter()
        .map(|c| {
            let stem = c["files"][0].as_str().unwrap().trim_end_matches(".mp3");
            (ws.out().join(stem), c["samples"].as_u64().unwrap())
        })
        .collect();
    let book_stem = manifest["book_files"][0]
        .as_str()
        .unwrap()
        .trim_end_matches(".mp3");
    assert_eq!(book_stem, "Test Book");
    spans.push((ws.out().join(book_stem), book_samples));

    for (stem, samples) in &spans {
        let file = |ext: &str| stem.with_extension(ext);
        let want_44k = (samples * 44_100 + RATE / 2) / RATE;
        // MP3: frames by hand, length by symphonia within one frame.
        check_mp3_frames(&file("mp3"), 192);
        let (frames, rate) = decoded_frames(&file("mp3"));
        assert_eq!(rate, 44_100);
        assert!(
            frames.abs_diff(want_44k) <= 1152,
            "{}: {frames} vs {want_44k}",
            stem.display()
        );
        // M4B: AAC-LC at 44.1 kHz, within one AAC frame, decoded by
        // ffmpeg's AAC decoder honouring the edit list that hides the
        // encoder's priming (symphonia 0.6 does not apply it exactly).
        let frames = ffmpeg_decoded_frames(&file("m4b"));
        assert!(
            frames.abs_diff(want_44k) <= 1024,
            "{}: {frames} vs {want_44k}",
            stem.display()
        );
        let streams = ffprobe(&file("m4b"), &["-show_streams"]);
        assert_eq!(streams["streams"][0]["profile"], "LC");
        // FLAC: lossless, so exactly the WAV's samples.
        let (frames, rate) = decoded_frames(&file("flac"));
        assert_eq!((frames, u64::from(rate)), (*samples, RATE));
        let (spec, wav) = wav_samples(&file("wav"));
        assert_eq!(
            (wav.len() as u64, u64::from(spec.sample_rate)),
            (*samples, RATE)
        );
    }
}

#[test]
fn tags_chapter_marks_subtitles_and_proof_sheet_match_the_manifest() {
    let ws = Workspace::new();
    deliver_everything(&ws);
    let manifest = ws.manifest();
    let chapters = manifest["chapters"].as_array().unwrap();
    let book = ws.out().join("Test Book.mp3");

    // Tags: the chapter files, then the book file.
    for (i, chapter) in chapters.iter().enumerate() {
        for ext in ["mp3", "m4b", "flac"] {
            let stem = chapter["files"][0]
                .as_str()
                .unwrap()
                .trim_end_matches(".mp3");
            let path = ws.out().join(format!("{stem}.{ext}"));
            let tags = &ffprobe(&path, &["-show_format"])["format"]["tags"];
            let tag = |k: &str| {
                tags.as_object()
                    .unwrap()
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(k))
                    .map(|(_, v)| v.as_str().unwrap().to_string())
                    .unwrap_or_else(|| panic!("{ext}: no {k} in {tags}"))
            };
            assert_eq!(tag("title"), chapter["title"].as_str().unwrap(), "{ext}");
            assert_eq!(tag("album"), "Test Book", "{ext}");
            assert_eq!(tag("artist"), "Ann Author", "{ext}");
            assert_eq!(tag("album_artist"), "Ann Author", "{ext}");
            assert_eq!(tag("composer"), "Ned Narrator", "{ext}");
            assert_eq!(tag("genre"), "Audiobook", "{ext}");
            assert!(tag("date").starts_with("2024"), "{ext}");
            assert!(tag("track").starts_with(&(i + 1).to_string()), "{ext}");
            // The cover is an attached picture in every container.
            let streams = ffprobe(&path, &["-show_streams"]);
            assert!(
                streams["streams"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s["disposition"]["attached_pic"] == 1),
                "{ext}: no cover"
            );
        }
    }
    // Chapter marks in the whole-book files, at the manifest's starts.
    for ext in ["mp3", "m4b", "flac"] {
        let marks = ffprobe(&book.with_extension(ext), &["-show_chapters"]);
        let marks = marks["chapters"].as_array().unwrap();
        assert_eq!(marks.len(), chapters.len(), "{ext}");
        for (mark, chapter) in marks.iter().zip(chapters) {
            assert_eq!(mark["tags"]["title"], chapter["title"], "{ext}");
            let start = secs(&mark["start_time"]);
            let want = chapter["book_start_secs"].as_f64().unwrap();
            assert!((start - want).abs() <= 0.010, "{ext}: {start} vs {want}");
        }
    }
    // The M4B has both chapter lists: Nero chpl and a QuickTime track.
    let m4b = mp4ameta::Tag::read_from_path(book.with_extension("m4b")).unwrap();
    for list in [m4b.chapter_list(), m4b.chapter_track()] {
        assert_eq!(list.len(), chapters.len());
        for (mark, chapter) in list.iter().zip(chapters) {
            assert_eq!(mark.title, chapter["title"].as_str().unwrap());
            let want = chapter["book_start_secs"].as_f64().unwrap();
            assert!((mark.start.as_secs_f64() - want).abs() <= 0.010);
        }
    }

    // Subtitles: one cue per segment at the manifest's speech times.
    let segments: Vec<(f64, f64)> = chapters
        .iter()
        .flat_map(|c| {
            let offset = c["book_start_secs"].as_f64().unwrap();
            c["segments"].as_array().unwrap().iter().map(move |s| {
                (
                    offset + s["start_secs"].as_f64().unwrap(),
                    offset + s["end_secs"].as_f64().unwrap(),
                )
            })
        })
        .collect();
    for ext in ["srt", "vtt", "lrc"] {
        let packets = ffprobe(&book.with_extension(ext), &["-show_packets"]);
        let cues: Vec<f64> = packets["packets"]
            .as_array()
            .unwrap()
            .iter()
            // LRC clears each line with an empty one at the segment's end.
            .filter(|p| ext != "lrc" || p["size"].as_str().unwrap_or("0") != "0")
            .map(|p| secs(&p["pts_time"]))
            .collect();
        let starts: Vec<f64> = if ext == "lrc" {
            cues.iter().copied().step_by(2).collect()
        } else {
            cues.clone()
        };
        assert_eq!(starts.len(), segments.len(), "{ext}: {cues:?}");
        for (got, (start, _)) in starts.iter().zip(&segments) {
            assert!((got - start).abs() <= 0.010, "{ext}: {got} vs {start}");
        }
    }
    let srt = ffprobe(&book.with_extension("srt"), &["-show_packets"]);
    for (p, (start, end)) in srt["packets"].as_array().unwrap().iter().zip(&segments) {
        let duration = secs(&p["duration_time"]);
        assert!(
            (duration - (end - start)).abs() <= 0.002,
            "{duration} vs {}",
            end - start
        );
    }

    // The proof sheet: a row per segment, its start in the chapter file.
    let mut reader = csv::Reader::from_path(ws.out().join("proof.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let all: Vec<&serde_json::Value> = chapters
        .iter()
        .flat_map(|c| c["segments"].as_array().unwrap())
        .collect();
    assert_eq!(rows.len(), all.len());
    for (row, segment) in rows.iter().zip(&all) {
        assert_eq!(&row[4], segment["text"].as_str().unwrap());
        assert_eq!(&row[6], "done");
        let (h, m, s): (f64, f64, f64) = {
            let p: Vec<f64> = row[3].split(':').map(|x| x.parse().unwrap()).collect();
            (p[0], p[1], p[2])
        };
        let start = h * 3600.0 + m * 60.0 + s;
        assert!((start - segment["start_secs"].as_f64().unwrap()).abs() <= 0.001);
    }
}

#[test]
fn a_rerun_encodes_nothing_and_a_new_tag_reencodes_only_audio() {
    let ws = Workspace::new();
    ws.job(&manuscript(2, 3), "");
    let job = std::fs::read_to_string(ws.path().join("job.toml")).unwrap();
    ws.write(
        "job.toml",
        job.replace(
            "formats = [\"wav\"]",
            "formats = [\"mp3\", \"flac\"]\nsubtitles = [\"srt\"]",
        ),
    );
    assert_eq!(ws.run(&["render", "job.toml"]).status.code(), Some(0));
    let listing = || {
        let mut names: Vec<(String, std::time::SystemTime)> = std::fs::read_dir(ws.out())
            .unwrap()
            .flatten()
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.metadata().unwrap().modified().unwrap(),
                )
            })
            .collect();
        names.sort();
        names
    };
    let before = listing();
    assert!(
        before.iter().all(|(n, _)| !n.starts_with('.')),
        "{before:?}"
    );

    let again = ws.run(&["render", "job.toml"]);
    assert!(
        stdout(&again).contains("every delivered file is up to date"),
        "{}",
        stdout(&again)
    );
    assert_eq!(ws.report()["files_encoded"], 0);
    let after = listing();
    let audio = |l: &[(String, std::time::SystemTime)]| -> Vec<(String, std::time::SystemTime)> {
        l.iter()
            .filter(|(n, _)| n.ends_with(".mp3") || n.ends_with(".flac"))
            .cloned()
            .collect()
    };
    assert_eq!(audio(&after), audio(&before), "nothing was rewritten");

    // A narrator changes every audio file's tags, and nothing else.
    let job = std::fs::read_to_string(ws.path().join("job.toml")).unwrap();
    ws.write(
        "job.toml",
        job.replace("[book]\n", "[book]\nnarrator = \"Someone\"\n"),
    );
    let out = ws.run(&["render", "job.toml"]);
    assert!(
        stdout(&out).contains("6 audio file(s) encoded"),
        "{}",
        stdout(&out)
    );
    assert_eq!(ws.report()["stats"]["synthesized"], 0);

    // Dropping a format removes its files.
    let job = std::fs::read_to_string(ws.path().join("job.toml")).unwrap();
    ws.write("job.toml", job.replace("\"mp3\", \"flac\"", "\"mp3\""));
    assert_eq!(ws.run(&["render", "job.toml"]).status.code(), Some(0));
    assert!(listing().iter().all(|(n, _)| !n.ends_with(".flac")));
    let manifest = read_json(&ws.out().join("manifest.json"));
    assert_eq!(manifest["book_files"], serde_json::json!(["Test Book.mp3"]));
}

#[test]
fn m4b_without_ffmpeg_is_refused_before_anything_renders() {
    let ws = Workspace::new();
    ws.job(&manuscript(1, 2), "");
    let job = std::fs::read_to_string(ws.path().join("job.toml")).unwrap();
    ws.write(
        "job.toml",
        job.replace("formats = [\"wav\"]", "formats = [\"m4b\"]"),
    );
    let empty = ws.path().join("no-programs");
    std::fs::create_dir_all(&empty).unwrap();
    for command in ["validate", "plan", "render"] {
        let out = ws
            .command()
            .args([command, "job.toml"])
            .env("PATH", &empty)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("apt-get install ffmpeg"),
            "{command}: {}",
            stderr(&out)
        );
    }
    assert!(!ws.out().exists(), "nothing was written");
    assert!(ws.clips().is_empty(), "nothing was rendered");
}
