//! The PCM between the clip cache and the files: a chapter's clips measured
//! for their speech ([`edges`]), laid out with the configured pauses
//! ([`layout`]) and played as one stream of samples ([`ChapterStream`]),
//! which the mastering and delivery stages read in blocks ([`read_ahead`]
//! decodes a stream a few blocks ahead on another core). Every length is
//! exact to the sample, and nothing holds more than a block of audio,
//! whatever the length of the book. The files themselves are written by
//! [`crate::deliver`]; [`decode`] reads audio files back (WAV, FLAC, MP3,
//! M4B) for measuring.

use std::io;
use std::path::PathBuf;

use rayon::prelude::*;

use crate::cache::{Cache, ClipReader};
use crate::job::Audio;

mod ahead;
pub mod decode;
pub mod edges;
mod format;
pub mod layout;
pub use ahead::read_ahead;
pub use format::PcmFormat;
pub use layout::{
    ChapterAudio, ClipEdges, Layout, Placed, Span, StitchItem, StitchSource, lay_out,
};

/// Samples moved per read or write: 256 KiB of audio, large enough for
/// disk speed, small enough never to matter for memory.
pub const BLOCK_SAMPLES: usize = 128 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// A cached clip could not be read (the cache module reads clips).
    #[error(transparent)]
    Clip(#[from] crate::cache::ClipError),
    #[error(
        "{} is {found}, expected mono 16-bit pcm at {expected_rate} Hz; delete it to have it rendered again",
        path.display()
    )]
    WrongFormat {
        path: PathBuf,
        found: String,
        expected_rate: u32,
    },
    #[error("{} ended after {got} of its {expected} samples; it changed while being read", path.display())]
    Truncated {
        path: PathBuf,
        got: u64,
        expected: u64,
    },
    /// A sink could not take a block; the message names its file.
    #[error("{0}")]
    Sink(io::Error),
    /// A chapter's layout could not be read back from the state database.
    #[error("{0}")]
    Record(String),
}

/// Where mastered samples go (the delivery stage's encoders). Blocks
/// arrive in order.
pub trait PcmSink {
    fn put(&mut self, block: &[i16]) -> io::Result<()>;
}

// ── reading clips ────────────────────────────────────────────────────────

/// Opens an item's clip through the cache (which knows its format: FLAC,
/// or WAV from earlier versions) and checks its rate.
fn open_clip(cache: &Cache, key: &str, rate: u32) -> Result<ClipReader, AudioError> {
    let reader = cache.open_clip(key)?;
    if reader.sample_rate() != rate {
        return Err(AudioError::WrongFormat {
            path: reader.path().to_path_buf(),
            found: format!("mono 16-bit pcm at {} Hz", reader.sample_rate()),
            expected_rate: rate,
        });
    }
    Ok(reader)
}

/// Reads the next block of a clip; a clip that ends early is an error
/// naming its file.
fn clip_read(reader: &mut ClipReader, out: &mut [i16]) -> Result<usize, AudioError> {
    Ok(reader.read(out)?)
}

/// Each item's length and speech: clips are read once through the
/// detector, in parallel; a pause is its length, all of it "speech" (it is
/// never trimmed).
pub fn measure_edges(
    cache: &Cache,
    audio: &Audio,
    items: &[StitchItem],
) -> Result<Vec<ClipEdges>, AudioError> {
    let rate = audio.sample_rate;
    // Clips are independent: read on every core (the last chapter of a
    // render is measured while nothing else runs), collected in order.
    items
        .par_iter()
        .map_init(
            || vec![0i16; BLOCK_SAMPLES],
            |block, item| match &item.source {
                StitchSource::Silence { ms } => {
                    let samples = PcmFormat::new(rate).samples_in_ms(*ms);
                    Ok(ClipEdges {
                        samples,
                        speech: Some(0..samples),
                        sound: Some(0..samples),
                    })
                }
                StitchSource::Clip(key) => {
                    let mut reader = open_clip(cache, key, rate)?;
                    let mut detector =
                        edges::SpeechDetector::new(rate, f64::from(audio.trim.threshold_db));
                    loop {
                        let n = clip_read(&mut reader, block)?;
                        if n == 0 {
                            break;
                        }
                        detector.push_i16(&block[..n]);
                    }
                    let speech = detector.finish();
                    Ok(ClipEdges {
                        samples: speech.samples,
                        speech: speech.edges,
                        sound: speech.sound,
                    })
                }
            },
        )
        .collect()
}

/// A chapter's samples in order, stitched from its clips and silences as
/// the layout says. Read it twice for two passes (measure, then master).
pub struct ChapterStream<'a> {
    cache: &'a Cache,
    items: &'a [StitchItem],
    spans: &'a [Span],
    rate: u32,
    next: usize,
    current: Current,
}

enum Current {
    Idle,
    Silence(u64),
    Clip {
        /// Boxed: a reader is large beside the other states.
        reader: Box<ClipReader>,
        path: PathBuf,
        left: u64,
        expected: u64,
    },
}

impl<'a> ChapterStream<'a> {
    pub fn new(cache: &'a Cache, items: &'a [StitchItem], layout: &'a Layout, rate: u32) -> Self {
        ChapterStream {
            cache,
            items,
            spans: &layout.spans,
            rate,
            next: 0,
            current: Current::Idle,
        }
    }

    fn key(&self, item: usize) -> &str {
        match &self.items[item].source {
            StitchSource::Clip(key) => key,
            StitchSource::Silence { .. } => "",
        }
    }

    /// Fills `out` with the next samples; fewer only at the end (0 then).
    pub fn read(&mut self, out: &mut [i16]) -> Result<usize, AudioError> {
        let mut filled = 0;
        while filled < out.len() {
            match &mut self.current {
                Current::Idle => {
                    let Some(span) = self.spans.get(self.next) else {
                        break;
                    };
                    self.next += 1;
                    self.current = match span {
                        Span::Silence(n) => Current::Silence(*n),
                        Span::Clip { item, range } => {
                            let key = self.key(*item);
                            let path = self.cache.clip_path(key);
                            let mut reader = open_clip(self.cache, key, self.rate)?;
                            if reader.samples() < range.end {
                                return Err(AudioError::Truncated {
                                    path,
                                    got: reader.samples(),
                                    expected: range.end,
                                });
                            }
                            reader.skip(range.start)?;
                            Current::Clip {
                                reader: Box::new(reader),
                                path,
                                left: range.end - range.start,
                                expected: range.end,
                            }
                        }
                    };
                }
                Current::Silence(left) => {
                    let n = (*left).min((out.len() - filled) as u64) as usize;
                    out[filled..filled + n].fill(0);
                    filled += n;
                    *left -= n as u64;
                    if *left == 0 {
                        self.current = Current::Idle;
                    }
                }
                Current::Clip {
                    reader,
                    path,
                    left,
                    expected,
                } => {
                    let want = (*left).min((out.len() - filled) as u64) as usize;
                    let got = *expected - *left;
                    let n = clip_read(reader, &mut out[filled..filled + want])?;
                    if n < want {
                        return Err(AudioError::Truncated {
                            path: path.clone(),
                            got: got + n as u64,
                            expected: *expected,
                        });
                    }
                    filled += n;
                    *left -= n as u64;
                    if *left == 0 {
                        self.current = Current::Idle;
                    }
                }
            }
        }
        Ok(filled)
    }
}

#[cfg(test)]
mod tests;
