//! The delivered files read back with decoders and parsers that did not
//! write them: symphonia decodes MP3 and FLAC, ffmpeg the M4B's AAC; MP3
//! frame headers, LAME's Info tag and WAV samples are checked by hand here.
//! Tags and chapter marks are read back in `tags.rs`, subtitles and the
//! proof sheet in `subtitles.rs`; this file also has the reruns.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Workspace, manuscript, read_json, stderr, stdout, wav_samples};

const RATE: u64 = 16_000;

/// A two-chapter book delivered in every format, both splits, every
/// subtitle format, with metadata and a cover.
pub fn deliver_everything(ws: &Workspace) {
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
            "formats = [\"mp3\", \"m4b\", \"flac\", \"wav\"]\nmp3_bitrate = 128\nsubtitles = [\"srt\", \"vtt\", \"lrc\"]",
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

pub fn ffprobe(path: &Path, what: &[&str]) -> serde_json::Value {
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

/// Every MP3 frame after the ID3 tag, walked header by header (ISO/IEC
/// 11172-3, 2.4.1.3): sync (11 bits set), MPEG-1 (`11`), Layer III (`01`),
/// the bitrate index of `kbps` in the MPEG-1 Layer III table, 44.1 kHz
/// (sampling index `00`), mono (mode `11`). A Layer III frame holds 1152
/// samples, so it is 1152 / 8 × bitrate / 44 100 = 144 × bitrate / 44 100
/// bytes, rounded down, plus one when the padding bit is set: at 192 kbit/s,
/// 626 or 627 bytes. The frames must tile the file to its last byte.
///
/// The first frame is LAME's Info tag (a CBR file's "Xing" header): after
/// the 4-byte header and 17 bytes of mono side information, `Info`, flags,
/// the count of the frames after it, the byte count, the seek table, a
/// quality word, then LAME's extension, whose bytes 21..24 hold the
/// encoder delay and the padding (12 bits each). The decoded length is
/// frames × 1152 − delay − padding. Returns it.
fn check_mp3_frames(path: &Path, kbps: u32) -> u64 {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..3], b"ID3");
    assert_eq!(bytes[3], 4, "ID3v2.4");
    let size = bytes[6..10]
        .iter()
        .fold(0usize, |acc, b| (acc << 7) | usize::from(*b));
    let first = 10 + size;
    let index = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ]
    .iter()
    .position(|&b| b == kbps)
    .unwrap() as u8;
    let mut at = first;
    let mut frames = 0u64;
    while at + 4 <= bytes.len() {
        let h = &bytes[at..at + 4];
        assert_eq!(
            (h[0], h[1] & 0xFE),
            (0xFF, 0xFA),
            "frame sync, MPEG-1 layer III at {at}"
        );
        assert_eq!(h[2] >> 4, index, "bitrate at {at}: constant bitrate");
        assert_eq!((h[2] >> 2) & 3, 0, "44.1 kHz at {at}");
        assert_eq!(h[3] >> 6, 3, "mono at {at}");
        let padding = usize::from((h[2] >> 1) & 1);
        at += 144 * kbps as usize * 1000 / 44_100 + padding;
        frames += 1;
    }
    assert_eq!(at, bytes.len(), "the file ends on a frame boundary");

    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    let info = first + 4 + 17;
    assert_eq!(
        &bytes[info..info + 4],
        b"Info",
        "a CBR Info tag (not Xing: VBR)"
    );
    let flags = be(info + 4);
    assert_eq!(flags & 3, 3, "frame and byte counts present");
    assert_eq!(
        u64::from(be(info + 8)),
        frames - 1,
        "frames after the Info tag"
    );
    assert_eq!(
        be(info + 12) as usize,
        bytes.len() - first,
        "bytes of the MP3 stream"
    );
    let mut lame = info + 16;
    if flags & 4 != 0 {
        lame += 100;
    }
    if flags & 8 != 0 {
        lame += 4;
    }
    assert_eq!(&bytes[lame..lame + 4], b"LAME", "LAME's extension");
    let d = &bytes[lame + 21..lame + 24];
    let delay = (u64::from(d[0]) << 4) | u64::from(d[1] >> 4);
    let pad = (u64::from(d[1] & 0x0F) << 8) | u64::from(d[2]);
    (frames - 1) * 1152 - delay - pad
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
        let gapless = check_mp3_frames(&file("mp3"), 128);
        // The resampler's output length rounds once.
        assert!(
            gapless.abs_diff(want_44k) <= 1,
            "{}: the Info tag says {gapless} samples, {want_44k} resampled",
            stem.display()
        );
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
    // The default bitrate is ACX's: 192 kbit/s.
    for chapter in ws.manifest()["chapters"].as_array().unwrap() {
        check_mp3_frames(&ws.out().join(chapter["files"][0].as_str().unwrap()), 192);
    }
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
