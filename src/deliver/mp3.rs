//! MP3 delivery through LAME (the `mp3lame-encoder` binding, which builds
//! LAME 3.100 from source; no system library): mono, 44.1 kHz, constant
//! bitrate, as ACX asks. The file is an ID3v2.4 tag (with CHAP/CTOC
//! chapter frames in a whole-book file), then LAME's frames; the first
//! frame is LAME's Info tag, rewritten when encoding ends with the frame
//! count and the encoder delay and padding, so decoders play it gapless
//! and report its exact length.

use std::fs::File;
use std::io::{BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use mp3lame_encoder::{Bitrate, Builder, FlushGap, Mode, MonoPcm, Quality, VbrMode};

use super::Encode;
use super::tags::{Mark, Tags};
use crate::atomic::AtomicFile;

/// The rate every MP3 is delivered at (ACX: 44.1 kHz).
pub const RATE: u32 = 44_100;

pub struct Mp3Encoder {
    path: PathBuf,
    atomic: AtomicFile,
    out: BufWriter<File>,
    lame: mp3lame_encoder::Encoder,
    buf: Vec<u8>,
    /// Where LAME's first frame (the Info tag) starts: after the ID3 tag.
    info_at: u64,
}

impl Mp3Encoder {
    pub fn create(path: &Path, kbps: u32, tags: &Tags, marks: &[Mark]) -> Result<Self> {
        let lame = lame(kbps).map_err(|e| anyhow!("setting up LAME at {kbps} kbit/s: {e}"))?;
        let (atomic, file) = AtomicFile::create(path)?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        tags.id3(marks)
            .write_to(&mut out, id3::Version::Id3v24)
            .with_context(|| format!("writing the ID3 tag of {}", path.display()))?;
        let info_at = out.stream_position()?;
        Ok(Mp3Encoder {
            path: path.to_path_buf(),
            atomic,
            out,
            lame,
            buf: Vec::new(),
            info_at,
        })
    }

    fn put_buf(&mut self) -> Result<()> {
        self.out
            .write_all(&self.buf)
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

fn lame(kbps: u32) -> Result<mp3lame_encoder::Encoder, String> {
    let e = |e: mp3lame_encoder::BuildError| e.to_string();
    let mut b = Builder::new().ok_or("LAME could not allocate an encoder")?;
    b.set_num_channels(1).map_err(e)?;
    b.set_sample_rate(RATE).map_err(e)?;
    b.set_output_sample_rate(std::num::NonZeroU32::new(RATE))
        .map_err(e)?;
    b.set_mode(Mode::Mono).map_err(e)?;
    b.set_vbr_mode(VbrMode::Off).map_err(e)?;
    b.set_brate(bitrate(kbps).ok_or(format!("{kbps} kbit/s is not an MP3 bitrate"))?)
        .map_err(e)?;
    // LAME's own default algorithm quality: its documented good
    // trade-off; higher settings cost time without a difference in speech.
    b.set_quality(Quality::Good).map_err(e)?;
    b.set_to_write_vbr_tag(true).map_err(e)?;
    b.build().map_err(e)
}

fn bitrate(kbps: u32) -> Option<Bitrate> {
    Some(match kbps {
        32 => Bitrate::Kbps32,
        40 => Bitrate::Kbps40,
        48 => Bitrate::Kbps48,
        64 => Bitrate::Kbps64,
        80 => Bitrate::Kbps80,
        96 => Bitrate::Kbps96,
        112 => Bitrate::Kbps112,
        128 => Bitrate::Kbps128,
        160 => Bitrate::Kbps160,
        192 => Bitrate::Kbps192,
        224 => Bitrate::Kbps224,
        256 => Bitrate::Kbps256,
        320 => Bitrate::Kbps320,
        _ => return None,
    })
}

impl Encode for Mp3Encoder {
    fn write(&mut self, block: &[i16]) -> Result<()> {
        self.buf.clear();
        // LAME's documented worst case: 1.25 × samples + 7200 bytes.
        self.buf.reserve(block.len() * 5 / 4 + 7200);
        self.lame
            .encode_to_vec(MonoPcm(block), &mut self.buf)
            .map_err(|e| anyhow!("LAME: {e}"))?;
        self.put_buf()
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.buf.clear();
        self.buf.reserve(7200);
        self.lame
            .flush_to_vec::<FlushGap>(&mut self.buf)
            .map_err(|e| anyhow!("LAME: {e}"))?;
        self.put_buf()?;
        let mut info = Vec::with_capacity(self.lame.lame_tag_size());
        self.lame
            .lame_tag_encode_to_vec(&mut info)
            .ok_or_else(|| anyhow!("LAME gave no Info tag"))?;
        let this = *self;
        super::patch_and_commit(this.out, this.atomic, &this.path, this.info_at, &info)
    }
}
