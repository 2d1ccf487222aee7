//! One encoding pass: a chapter (or the whole book, chapter after
//! chapter) streamed once from the stitcher and fanned out to every format
//! asked of it: FLAC and WAV at the render rate, MP3 and M4B at 44.1 kHz
//! through one shared resampler. Passes run in parallel on rayon's pool,
//! one per core; each holds a few blocks of audio, whatever the length.

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
use crate::job::{Delivery, Format};
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

impl Pass {
    pub fn samples(&self) -> u64 {
        self.chapters.iter().map(|c| c.samples()).sum()
    }

    /// Encodes every output; returns each file's size, in order.
    pub fn run(&self, delivery: &Delivery, rate: u32) -> Result<Vec<u64>> {
        let mut fan = self.open(delivery, rate)?;
        let mut failure: Option<anyhow::Error> = None;
        for chapter in &self.chapters {
            let mut sink = |block: &[i16]| -> Result<(), AudioError> {
                fan.write(block).map_err(|e| {
                    let message = format!("{e:#}");
                    failure = Some(e);
                    AudioError::Sink(std::io::Error::other(message))
                })
            };
            if let Err(e) = chapter.stream(&mut sink) {
                return Err(failure.take().unwrap_or_else(|| e.into()));
            }
        }
        fan.finish()?;
        self.outputs
            .iter()
            .map(|o| {
                Ok(std::fs::metadata(&o.path)
                    .with_context(|| format!("reading {}", o.path.display()))?
                    .len())
            })
            .collect()
    }

    fn open(&self, delivery: &Delivery, rate: u32) -> Result<Fan> {
        let mut fan = Fan {
            native: Vec::new(),
            at_44k: Vec::new(),
            resample: None,
        };
        let (tags, marks) = (&self.tags, &self.marks[..]);
        for output in &self.outputs {
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
