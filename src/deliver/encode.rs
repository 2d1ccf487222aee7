//! One encoding pass: a chapter (or the whole book, chapter after
//! chapter) streamed once from the stitcher and fanned out to every format
//! asked of it: FLAC and WAV at the render rate, MP3 and M4B at 44.1 kHz
//! through one shared resampler. Then each lossy file is decoded and
//! measured for the QA (and encoded again with the limiter lower when its
//! encoder raised a peak over the ceiling). Passes run in parallel on
//! rayon's pool, one per core; each holds a few blocks of audio, whatever
//! the length.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::Encode;
use super::flac::FlacEncoder;
use super::m4b::{self, M4bEncoder};
use super::mp3::{self, Mp3Encoder};
use super::resample::Resample;
use super::tags::{Mark, Tags};
use super::wav::WavEncoder;
use crate::audio::{AudioError, PcmFormat};
use crate::job::{Delivery, Format, Master};
use crate::master::meter::measure_file;
use crate::master::{Measurement, qa};
use crate::stitch::StitchedChapter;

/// A file a pass writes, with the content key it is made from.
#[derive(Debug, Clone)]
pub struct Output {
    pub format: Format,
    pub path: PathBuf,
    pub key: String,
}

/// The audio of one pass and the files it becomes.
#[derive(Debug, Clone)]
pub struct Pass {
    pub chapters: Vec<StitchedChapter>,
    pub tags: Tags,
    /// Chapter marks (whole-book files only).
    pub marks: Vec<Mark>,
    pub outputs: Vec<Output>,
}

/// Rate-independent encoders get the source; the rest get 44.1 kHz.
struct Fan {
    native: Vec<Box<dyn Encode>>,
    at_44k: Vec<Box<dyn Encode>>,
    resample: Option<Resample>,
}

/// A file a pass wrote: its size and, for a lossy file, its QA
/// measurement as decoded.
#[derive(Debug, Clone)]
pub struct Written {
    pub bytes: u64,
    pub decoded: Option<Measurement>,
}

/// How many times a lossy file is encoded again with the limiter lower
/// when its decoded peak is over the ceiling: once is almost always enough
/// (peaks move with the limiter), a second time absorbs the rest.
const MAX_REENCODES: usize = 2;
/// Under the ceiling a re-encoded file aims for, besides what it was over.
const CODEC_ROOM_STEP_DB: f64 = 0.2;

impl Pass {
    pub fn samples(&self) -> u64 {
        self.chapters.iter().map(|c| c.samples()).sum()
    }

    /// Encodes every output, then decodes and measures each lossy one
    /// (encoding it again with the limiter lower while its peak is over
    /// the ceiling); returns what was written, in order.
    pub fn run(&self, delivery: &Delivery, rate: u32, master: &Master) -> Result<Vec<Written>> {
        let all: Vec<&Output> = self.outputs.iter().collect();
        self.encode(&all, delivery, rate, 0.0)?;
        self.outputs
            .iter()
            .map(|o| {
                let decoded = if o.format.lossy() {
                    Some(self.decode_and_judge(o, delivery, rate, master)?)
                } else {
                    None
                };
                let bytes = std::fs::metadata(&o.path)
                    .with_context(|| format!("reading {}", o.path.display()))?
                    .len();
                Ok(Written { bytes, decoded })
            })
            .collect()
    }

    /// The lossy file as a listener gets it, measured. A lossy encoder
    /// moves peaks (AAC at 64 kbit/s raised the demo's by up to 2.4 dB):
    /// when the decoded peak fails the profile's ceiling, the file is
    /// encoded again from the chapters with the limiter that much (and a
    /// little more) lower; the other formats keep the mastered stream.
    fn decode_and_judge(
        &self,
        output: &Output,
        delivery: &Delivery,
        rate: u32,
        master: &Master,
    ) -> Result<Measurement> {
        let mut measured = measure_file(&output.path)?;
        let mut room = 0.0;
        for _ in 0..MAX_REENCODES {
            let Some(excess) = qa::peak_excess(master, &measured) else {
                break;
            };
            room += excess + CODEC_ROOM_STEP_DB;
            tracing::info!(
                file = %output.path.display(),
                over_db = format!("{excess:.2}"),
                limiter_lower_db = format!("{room:.2}"),
                "the encoder raised a peak over the ceiling: encoding the file again"
            );
            self.encode(&[output], delivery, rate, room)?;
            measured = measure_file(&output.path)?;
        }
        Ok(measured)
    }

    /// Streams the chapters once into an encoder per output.
    fn encode(
        &self,
        outputs: &[&Output],
        delivery: &Delivery,
        rate: u32,
        codec_room_db: f64,
    ) -> Result<()> {
        let mut fan = self.open(outputs, delivery, rate)?;
        let mut failure: Option<anyhow::Error> = None;
        for chapter in &self.chapters {
            let mut sink = |block: &[i16]| -> Result<(), AudioError> {
                fan.write(block).map_err(|e| {
                    let message = format!("{e:#}");
                    failure = Some(e);
                    AudioError::Sink(std::io::Error::other(message))
                })
            };
            if let Err(e) = chapter.stream(codec_room_db, &mut sink) {
                return Err(failure.take().unwrap_or_else(|| e.into()));
            }
        }
        fan.finish()
    }

    fn open(&self, outputs: &[&Output], delivery: &Delivery, rate: u32) -> Result<Fan> {
        let mut fan = Fan {
            native: Vec::new(),
            at_44k: Vec::new(),
            resample: None,
        };
        let (tags, marks) = (&self.tags, &self.marks[..]);
        for output in outputs {
            let path: &Path = &output.path;
            match output.format {
                Format::Mp3 => fan.at_44k.push(Box::new(Mp3Encoder::create(
                    path,
                    delivery.mp3_bitrate,
                    tags,
                    marks,
                )?)),
                Format::M4b => fan.at_44k.push(Box::new(M4bEncoder::create(
                    path,
                    delivery.m4b_bitrate,
                    tags,
                    marks,
                )?)),
                Format::Flac => fan
                    .native
                    .push(Box::new(FlacEncoder::create(path, rate, tags, marks)?)),
                Format::Wav => fan.native.push(Box::new(WavEncoder::create(
                    path,
                    rate,
                    self.samples(),
                    PcmFormat::MAX_WAV_SAMPLES,
                )?)),
            }
        }
        debug_assert_eq!(mp3::RATE, m4b::RATE);
        if !fan.at_44k.is_empty() && rate != mp3::RATE {
            fan.resample = Some(Resample::new(rate, mp3::RATE)?);
        }
        Ok(fan)
    }
}

impl Fan {
    fn write(&mut self, block: &[i16]) -> Result<()> {
        for e in &mut self.native {
            e.write(block)?;
        }
        let at_44k = &mut self.at_44k;
        match &mut self.resample {
            Some(r) => r.push(block, &mut |b| write_all(at_44k, b)),
            None => write_all(at_44k, block),
        }
    }

    fn finish(mut self) -> Result<()> {
        if let Some(r) = &mut self.resample {
            let at_44k = &mut self.at_44k;
            r.finish(&mut |b| write_all(at_44k, b))?;
        }
        for e in self.native.into_iter().chain(self.at_44k) {
            e.finish()?;
        }
        Ok(())
    }
}

fn write_all(encoders: &mut [Box<dyn Encode>], block: &[i16]) -> Result<()> {
    for e in encoders {
        e.write(block)?;
    }
    Ok(())
}
