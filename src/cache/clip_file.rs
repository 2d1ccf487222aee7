//! The clip files' formats, hidden behind one reader: new clips are FLAC
//! (lossless, about half the size of WAV for speech), clips written by
//! earlier versions are WAV and are still read. Both hold mono 16-bit PCM.
//! [`ClipReader`] is the only way the rest of the program reads a clip's
//! samples, so the format on disk can change without touching the stitcher.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::audio::PcmFormat;
use crate::provider::Clip;

/// Bytes read from a clip file at a time.
const READ_BUFFER: usize = 64 * 1024;

/// Why a clip could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ClipError {
    #[error("reading {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{} is not a readable clip (wav or flac): {detail}; delete it and run again to have it rendered again", path.display())]
    Unreadable { path: PathBuf, detail: String },
    #[error("{} is {found}, expected mono 16-bit pcm; delete it to have it rendered again", path.display())]
    WrongFormat { path: PathBuf, found: String },
    #[error("{} ended after {got} of its {expected} samples; it changed while being read", path.display())]
    Truncated {
        path: PathBuf,
        got: u64,
        expected: u64,
    },
}

impl ClipError {
    /// The file is simply not there (as opposed to damaged).
    pub fn is_missing(&self) -> bool {
        matches!(self, ClipError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

/// A clip opened for reading: its sample rate and length are known at
/// once (from the header), its samples come in blocks.
pub struct ClipReader {
    path: PathBuf,
    sample_rate: u32,
    samples: u64,
    read: u64,
    source: Source,
}

enum Source {
    /// Positioned at the first sample of the data chunk.
    Wav(BufReader<File>),
    /// Decoded as a whole on the first read: a clip is seconds long.
    Flac {
        reader: Option<claxon::FlacReader<BufReader<File>>>,
        decoded: Vec<i16>,
    },
}

impl ClipReader {
    /// Opens the clip at `path`, reading only its header.
    pub fn open(path: &Path) -> Result<ClipReader, ClipError> {
        let io_error = |source| ClipError::Io {
            path: path.to_path_buf(),
            source,
        };
        let unreadable = |detail: String| ClipError::Unreadable {
            path: path.to_path_buf(),
            detail,
        };
        let file = File::open(path).map_err(io_error)?;
        let mut buffered = BufReader::with_capacity(READ_BUFFER, file);
        let magic = buffered.fill_buf().map_err(io_error)?;
        if magic.starts_with(b"fLaC") {
            let reader =
                claxon::FlacReader::new(buffered).map_err(|e| unreadable(e.to_string()))?;
            let info = reader.streaminfo();
            if info.channels != 1 || info.bits_per_sample != 16 {
                return Err(ClipError::WrongFormat {
                    path: path.to_path_buf(),
                    found: format!(
                        "{} channel(s) of {} bits",
                        info.channels, info.bits_per_sample
                    ),
                });
            }
            let samples = info
                .samples
                .ok_or_else(|| unreadable("the flac header gives no length".into()))?;
            return Ok(ClipReader {
                path: path.to_path_buf(),
                sample_rate: info.sample_rate,
                samples,
                read: 0,
                source: Source::Flac {
                    reader: Some(reader),
                    decoded: Vec::new(),
                },
            });
        }
        let wav = hound::WavReader::new(buffered).map_err(|e| match e {
            hound::Error::IoError(e) => io_error(e),
            other => unreadable(other.to_string()),
        })?;
        let spec = wav.spec();
        if PcmFormat::of_wav(spec).is_none() {
            return Err(ClipError::WrongFormat {
                path: path.to_path_buf(),
                found: PcmFormat::describe(spec),
            });
        }
        Ok(ClipReader {
            path: path.to_path_buf(),
            sample_rate: spec.sample_rate,
            samples: u64::from(wav.len()),
            read: 0,
            source: Source::Wav(wav.into_inner()),
        })
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The clip's length in samples, as its header declares it.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Skips `n` samples (at most what is left).
    pub fn skip(&mut self, n: u64) -> Result<(), ClipError> {
        let n = n.min(self.samples - self.read);
        match &mut self.source {
            Source::Wav(reader) => {
                reader
                    .seek_relative(n as i64 * 2)
                    .map_err(|e| ClipError::Io {
                        path: self.path.clone(),
                        source: e,
                    })?;
            }
            Source::Flac { reader, decoded } => {
                decode_once(reader, decoded, self.samples, &self.path)?;
            }
        }
        self.read += n;
        Ok(())
    }

    /// Fills `buf` with the next samples; returns how many (0 at the end).
    /// A file that ends before its declared length is [`ClipError::Truncated`].
    pub fn read(&mut self, buf: &mut [i16]) -> Result<usize, ClipError> {
        let take = (self.samples - self.read).min(buf.len() as u64) as usize;
        if take == 0 {
            return Ok(0);
        }
        let truncated = |got| ClipError::Truncated {
            path: self.path.clone(),
            got,
            expected: self.samples,
        };
        match &mut self.source {
            Source::Wav(reader) => {
                PcmFormat::read_le(reader, &mut buf[..take]).map_err(|e| match e.kind() {
                    io::ErrorKind::UnexpectedEof => truncated(self.read),
                    _ => ClipError::Io {
                        path: self.path.clone(),
                        source: e,
                    },
                })?;
            }
            Source::Flac { reader, decoded } => {
                decode_once(reader, decoded, self.samples, &self.path)?;
                let start = self.read as usize;
                let Some(block) = decoded.get(start..start + take) else {
                    return Err(truncated(decoded.len() as u64));
                };
                buf[..take].copy_from_slice(block);
            }
        }
        self.read += take as u64;
        Ok(take)
    }

    /// Every remaining sample.
    pub fn read_to_end(mut self) -> Result<Vec<i16>, ClipError> {
        let mut out = vec![0; (self.samples - self.read) as usize];
        let mut filled = 0;
        while filled < out.len() {
            filled += self.read(&mut out[filled..])?;
        }
        Ok(out)
    }

    /// The whole clip in memory.
    pub fn into_clip(self) -> Result<Clip, ClipError> {
        let rate = self.sample_rate;
        Ok(Clip::new(rate, self.read_to_end()?))
    }
}

fn decode_flac(
    reader: &mut claxon::FlacReader<BufReader<File>>,
    declared: u64,
) -> Result<Vec<i16>, String> {
    let mut samples = Vec::with_capacity(declared as usize);
    let mut frames = reader.blocks();
    let mut buffer = Vec::new();
    while let Some(block) = frames.read_next_or_eof(buffer).map_err(|e| e.to_string())? {
        // 16 bits per sample was checked in the header.
        samples.extend(block.channel(0).iter().map(|&s| s as i16));
        buffer = block.into_buffer();
    }
    Ok(samples)
}

/// `clip` as a FLAC file: mono, 16 bits, at the clip's rate.
/// Decodes a FLAC clip on its first use (a clip is seconds long); later
/// calls find it decoded.
fn decode_once(
    reader: &mut Option<claxon::FlacReader<BufReader<File>>>,
    decoded: &mut Vec<i16>,
    samples: u64,
    path: &Path,
) -> Result<(), ClipError> {
    if let Some(mut flac) = reader.take() {
        *decoded = decode_flac(&mut flac, samples).map_err(|detail| ClipError::Unreadable {
            path: path.to_path_buf(),
            detail,
        })?;
    }
    Ok(())
}

pub(super) fn encode_flac(clip: &Clip) -> io::Result<Vec<u8>> {
    use flacenc::component::BitRepr;
    use flacenc::error::Verify;
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
    // FLAC cannot say "no samples" (a length of 0 means unknown), and no
    // provider hands over an empty clip: refused rather than stored unreadable.
    if clip.samples.is_empty() {
        return Err(invalid("an empty clip is not stored".into()));
    }
    let config = flacenc::config::Encoder::default()
        .into_verified()
        .map_err(|(_, e)| invalid(format!("flac encoder settings: {e:?}")))?;
    let samples: Vec<i32> = clip.samples.iter().map(|&s| i32::from(s)).collect();
    let source =
        flacenc::source::MemSource::from_samples(&samples, 1, 16, clip.sample_rate as usize);
    let mut stream = flacenc::encode_with_fixed_block_size(&config, source, config.block_size)
        .map_err(|e| invalid(format!("encoding flac: {e:?}")))?;
    // A fixed-blocksize stream says so: the short last frame does not count
    // (the format's rule, and the reference encoder's). flacenc counts it,
    // and a clip whose last frame is under 16 samples is then refused by
    // decoders.
    stream
        .stream_info_mut()
        .set_block_sizes(config.block_size, config.block_size)
        .map_err(|e| invalid(format!("flac block sizes: {e:?}")))?;
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream
        .write(&mut sink)
        .map_err(|e| invalid(format!("writing flac: {e:?}")))?;
    Ok(sink.into_inner())
}
