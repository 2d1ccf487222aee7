//! Audio files read back as samples, for measuring what a listener gets:
//! the files `audiobook check` is given, and the MP3 and M4B files a render
//! delivers (a lossy encoder moves peaks). Every format streams in blocks of
//! interleaved 32-bit float frames, full scale ±1 (a decoded lossy file may
//! go beyond it, and a peak there must be seen), so memory stays the same
//! whatever the file's length. Every channel is kept as the file holds it:
//! measuring sums them as BS.1770 does, never a downmix.
//!
//! - WAV: `hound` (any PCM or float format).
//! - MP3 and FLAC: `symphonia`, pure Rust. MP3 gapless: the LAME tag's
//!   encoder delay and padding are cut, so head and tail room read true.
//! - M4B (AAC in MP4): the `ffmpeg` program, the one a job that delivers m4b
//!   already needs. symphonia 0.6 reads the container (its track's rate and
//!   channels come from it) but does not apply the edit list that hides the
//!   AAC encoder's priming: its decode starts with 1024 extra samples (23 ms
//!   at 44.1 kHz) and ends with up to a frame of padding, which would add to
//!   the head and tail room measured. ffmpeg applies the edit list.

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;

/// Frames handed over per block.
const BLOCK_FRAMES: usize = 16 * 1024;

/// The shape of a decoded stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub sample_rate: u32,
    pub channels: u32,
}

/// Why a file could not be read; every message names the file and says
/// what to do.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("{}: cannot open: {source}", path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{}: {what}; this reads WAV, FLAC, MP3 and M4B (AAC in MP4) files: convert it to one of \
         them (for example with ffmpeg)",
        path.display()
    )]
    Unsupported { path: PathBuf, what: String },
    #[error("{}: {what}; the file is damaged or cut short: make or download it again", path.display())]
    Damaged { path: PathBuf, what: String },
    #[error(
        "{}: {channels} channel(s) at {sample_rate} Hz; this measures 1 to 8 channels at \
         8000 Hz or more",
        path.display()
    )]
    Shape {
        path: PathBuf,
        channels: u32,
        sample_rate: u32,
    },
    #[error(
        "{}: reading an M4B file needs the ffmpeg program on PATH; install it (Debian/Ubuntu: \
         apt-get install ffmpeg; macOS: brew install ffmpeg)",
        path.display()
    )]
    NoFfmpeg { path: PathBuf },
}

/// Where ffmpeg is: the first `ffmpeg` on PATH.
pub fn ffmpeg() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("ffmpeg"))
        .find(|p| p.is_file())
}

/// What a file is, from its first bytes (never its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Wav,
    /// MP3 or FLAC (an ID3 tag may come before either).
    Symphonia,
    Mp4,
}

/// Decodes `path`: `start` gets the stream's shape and makes the state that
/// `push` then gets every block of interleaved frames in order.
pub fn decode<S>(
    path: &Path,
    start: impl FnOnce(Spec) -> S,
    push: impl FnMut(&mut S, &[f32]),
) -> Result<S, DecodeError> {
    match sniff(path)? {
        Container::Wav => wav(path, start, push),
        Container::Symphonia => symphonia_file(path, start, push),
        Container::Mp4 => mp4(path, start, push),
    }
}

fn sniff(path: &Path) -> Result<Container, DecodeError> {
    let open = |source| DecodeError::Open {
        path: path.to_path_buf(),
        source,
    };
    let mut head = Vec::with_capacity(12);
    std::fs::File::open(path)
        .map_err(open)?
        .take(12)
        .read_to_end(&mut head)
        .map_err(open)?;
    let unsupported = |what: &str| DecodeError::Unsupported {
        path: path.to_path_buf(),
        what: what.to_string(),
    };
    match head.as_slice() {
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'A', b'V', b'E'] => Ok(Container::Wav),
        [b'R', b'F', b'6', b'4', ..] => Err(unsupported(
            "an RF64 file (a WAV file over 4 GiB), which this does not read",
        )),
        [b'f', b'L', b'a', b'C', ..] | [b'I', b'D', b'3', ..] => Ok(Container::Symphonia),
        [0xFF, second, ..] if second & 0xE0 == 0xE0 => Ok(Container::Symphonia),
        [_, _, _, _, b'f', b't', b'y', b'p', ..] => Ok(Container::Mp4),
        [b'O', b'g', b'g', b'S', ..] => Err(unsupported("an Ogg file")),
        [] => Err(unsupported("an empty file")),
        _ => Err(unsupported("not an audio file this knows")),
    }
}

/// A stream's shape, checked: what the meter takes.
fn checked(path: &Path, spec: Spec) -> Result<Spec, DecodeError> {
    if (1..=8).contains(&spec.channels) && spec.sample_rate >= 8_000 {
        Ok(spec)
    } else {
        Err(DecodeError::Shape {
            path: path.to_path_buf(),
            channels: spec.channels,
            sample_rate: spec.sample_rate,
        })
    }
}

fn wav<S>(
    path: &Path,
    start: impl FnOnce(Spec) -> S,
    mut push: impl FnMut(&mut S, &[f32]),
) -> Result<S, DecodeError> {
    let file = std::fs::File::open(path).map_err(|source| DecodeError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let damaged = |e: hound::Error| DecodeError::Damaged {
        path: path.to_path_buf(),
        what: format!("not a readable wav file: {e}"),
    };
    let mut reader = hound::WavReader::new(BufReader::new(file)).map_err(damaged)?;
    let wav = reader.spec();
    let spec = checked(
        path,
        Spec {
            sample_rate: wav.sample_rate,
            channels: u32::from(wav.channels),
        },
    )?;
    let mut state = start(spec);
    let block = BLOCK_FRAMES * usize::from(wav.channels);
    let mut frames = Vec::with_capacity(block);
    let mut take = |s: f32, frames: &mut Vec<f32>, state: &mut S| {
        frames.push(s);
        if frames.len() == block {
            push(state, frames);
            frames.clear();
        }
    };
    match wav.sample_format {
        hound::SampleFormat::Float => {
            for s in reader.samples::<f32>() {
                take(s.map_err(damaged)?, &mut frames, &mut state);
            }
        }
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (wav.bits_per_sample - 1)) as f32;
            for s in reader.samples::<i32>() {
                take(s.map_err(damaged)? as f32 * scale, &mut frames, &mut state);
            }
        }
    }
    push(&mut state, &frames);
    Ok(state)
}

/// Opens a file through symphonia's probe (MP3 and FLAC decoders, the MP4
/// reader are compiled in), at its default audio track.
fn probe(path: &Path) -> Result<Box<dyn FormatReader>, DecodeError> {
    let file = std::fs::File::open(path).map_err(|source| DecodeError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    symphonia::default::get_probe()
        .probe(&hint, stream, FormatOptions::default(), Default::default())
        .map_err(|e| DecodeError::Damaged {
            path: path.to_path_buf(),
            what: format!("not a readable audio file: {e}"),
        })
}

/// The default audio track's id and its codec parameters.
fn audio_track(
    path: &Path,
    format: &dyn FormatReader,
) -> Result<(u32, symphonia::core::codecs::audio::AudioCodecParameters), DecodeError> {
    let damaged = |what: &str| DecodeError::Damaged {
        path: path.to_path_buf(),
        what: what.to_string(),
    };
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| damaged("it has no audio track"))?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| damaged("its audio track has no codec parameters"))?;
    Ok((track.id, params.clone()))
}

fn spec_of(
    path: &Path,
    params: &symphonia::core::codecs::audio::AudioCodecParameters,
) -> Result<Spec, DecodeError> {
    match (params.sample_rate, params.channels.as_ref()) {
        (Some(sample_rate), Some(channels)) => checked(
            path,
            Spec {
                sample_rate,
                channels: channels.count() as u32,
            },
        ),
        _ => Err(DecodeError::Damaged {
            path: path.to_path_buf(),
            what: "its audio track does not say its sample rate or channels".into(),
        }),
    }
}

fn symphonia_file<S>(
    path: &Path,
    start: impl FnOnce(Spec) -> S,
    mut push: impl FnMut(&mut S, &[f32]),
) -> Result<S, DecodeError> {
    let damaged = |what: String| DecodeError::Damaged {
        path: path.to_path_buf(),
        what,
    };
    let mut format = probe(path)?;
    let (track, params) = audio_track(path, format.as_ref())?;
    let spec = spec_of(path, &params)?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| DecodeError::Unsupported {
            path: path.to_path_buf(),
            what: format!("its codec cannot be decoded here ({e})"),
        })?;
    let mut state = start(spec);
    let mut frames = Vec::new();
    let mut packets = 0u64;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            Err(e) => return Err(damaged(format!("reading packet {}: {e}", packets + 1))),
        };
        packets += 1;
        if packet.track_id != track {
            continue;
        }
        let decoded = decoder
            .decode(&packet)
            .map_err(|e| damaged(format!("decoding packet {packets}: {e}")))?;
        if decoded.spec().channels().count() as u32 != spec.channels {
            return Err(damaged(format!(
                "packet {packets} has another channel count than the track"
            )));
        }
        decoded.copy_to_vec_interleaved(&mut frames);
        push(&mut state, &frames);
    }
    Ok(state)
}

/// AAC in MP4: the shape from symphonia's MP4 reader, the samples from
/// ffmpeg (see the module's comment), asked for that very shape so it
/// converts nothing.
fn mp4<S>(
    path: &Path,
    start: impl FnOnce(Spec) -> S,
    mut push: impl FnMut(&mut S, &[f32]),
) -> Result<S, DecodeError> {
    let format = probe(path)?;
    let (_, params) = audio_track(path, format.as_ref())?;
    let spec = spec_of(path, &params)?;
    drop(format);
    let program = ffmpeg().ok_or_else(|| DecodeError::NoFfmpeg {
        path: path.to_path_buf(),
    })?;
    let damaged = |what: String| DecodeError::Damaged {
        path: path.to_path_buf(),
        what,
    };
    let mut child = Command::new(program)
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-i"])
        .arg(path)
        .args(["-map", "0:a:0", "-f", "f32le", "-c:a", "pcm_f32le"])
        .args(["-ac", &spec.channels.to_string()])
        .args(["-ar", &spec.sample_rate.to_string(), "pipe:1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| damaged(format!("starting ffmpeg: {e}")))?;
    let stderr = child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = e.read_to_string(&mut text);
            text
        })
    });
    let mut state = start(spec);
    let read = match child.stdout.take() {
        Some(stdout) => read_f32le(stdout, spec.channels as usize, &mut state, &mut push),
        None => Ok(()),
    };
    let status = child.wait();
    let said = stderr
        .and_then(|h| h.join().ok())
        .unwrap_or_default()
        .trim()
        .to_string();
    let status = status.map_err(|e| damaged(format!("waiting for ffmpeg: {e}")))?;
    if !status.success() {
        return Err(damaged(format!(
            "ffmpeg could not decode it ({status}): {said}"
        )));
    }
    read.map_err(|e| damaged(format!("reading ffmpeg's output: {e}")))?;
    Ok(state)
}

/// Little-endian f32 frames from a pipe, a block at a time.
fn read_f32le<S>(
    mut from: impl Read,
    channels: usize,
    state: &mut S,
    push: &mut impl FnMut(&mut S, &[f32]),
) -> std::io::Result<()> {
    let frame_bytes = 4 * channels;
    let mut bytes = vec![0u8; BLOCK_FRAMES * frame_bytes];
    let mut frames = Vec::with_capacity(BLOCK_FRAMES * channels);
    let mut filled = 0;
    loop {
        let n = from.read(&mut bytes[filled..])?;
        filled += n;
        let whole = filled / frame_bytes * frame_bytes;
        if n == 0 || whole == bytes.len() {
            frames.clear();
            frames.extend(
                bytes[..whole]
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            );
            push(state, &frames);
            bytes.copy_within(whole..filled, 0);
            filled -= whole;
        }
        if n == 0 {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pipe that hands over a few bytes at a time, as a busy one does.
    struct Trickle(Vec<u8>, usize);

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = 3.min(out.len()).min(self.0.len() - self.1);
            out[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }

    #[test]
    fn frames_from_a_pipe_arrive_whole_and_in_order() {
        let samples: Vec<f32> = (0..(BLOCK_FRAMES * 2 + 7) * 2)
            .map(|i| i as f32 / 1e6)
            .collect();
        let bytes = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut got = Vec::new();
        let mut blocks = 0;
        read_f32le(
            Trickle(bytes, 0),
            2,
            &mut got,
            &mut |got: &mut Vec<f32>, block: &[f32]| {
                assert_eq!(block.len() % 2, 0, "whole frames only");
                blocks += 1;
                got.extend_from_slice(block);
            },
        )
        .unwrap();
        assert_eq!(got, samples);
        assert!(blocks >= 3, "{blocks}");
    }

    #[test]
    fn files_are_told_apart_by_their_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        };
        let kind = |path: &Path| sniff(path).map_err(|e| e.to_string());
        assert_eq!(
            kind(&file("a.mp3", b"RIFF\0\0\0\0WAVEfmt ")),
            Ok(Container::Wav)
        );
        assert_eq!(
            kind(&file("a.wav", b"fLaC\0\0\0\"")),
            Ok(Container::Symphonia)
        );
        assert_eq!(
            kind(&file("b", b"ID3\x04\0\0\0\0")),
            Ok(Container::Symphonia)
        );
        assert_eq!(
            kind(&file("c", &[0xFF, 0xFB, 0x90, 0x64])),
            Ok(Container::Symphonia)
        );
        assert_eq!(kind(&file("d", b"\0\0\0\x20ftypM4B ")), Ok(Container::Mp4));
        let text = kind(&file("notes.flac", b"just text")).unwrap_err();
        assert!(text.contains("notes.flac: not an audio file"), "{text}");
        assert!(text.contains("convert it"), "{text}");
        let rf64 = kind(&file("big.wav", b"RF64\xff\xff\xff\xffWAVE")).unwrap_err();
        assert!(rf64.contains("RF64"), "{rf64}");
        let missing = kind(&dir.path().join("gone.mp3")).unwrap_err();
        assert!(missing.contains("gone.mp3: cannot open"), "{missing}");
    }
}
