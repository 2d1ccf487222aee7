//! FLAC delivery with `flacenc` (pure Rust), frame by frame so memory does
//! not grow with the book: `fLaC`, STREAMINFO, Vorbis comments (tags, and
//! chapters in a whole-book file), the cover as a PICTURE block, then the
//! frames. STREAMINFO's totals and MD5 are known only at the end; the block
//! has a fixed size, so it is written as a placeholder and rewritten.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use flacenc::bitsink::MemSink;
use flacenc::component::{BitRepr, StreamInfo};
use flacenc::error::{Verified, Verify};
use flacenc::source::{Context as Md5Context, Fill, FrameBuf};

use super::Encode;
use super::tags::{Mark, Tags};
use crate::atomic::AtomicFile;

const BLOCK: usize = 4096;
const STREAMINFO: u8 = 0;
const VORBIS_COMMENT: u8 = 4;
const PICTURE: u8 = 6;

pub struct FlacEncoder {
    path: PathBuf,
    atomic: AtomicFile,
    out: BufWriter<File>,
    config: Verified<flacenc::config::Encoder>,
    info: StreamInfo,
    frames: (FrameBuf, Md5Context),
    pending: Vec<i32>,
    sink: MemSink<u8>,
    samples: u64,
}

impl FlacEncoder {
    pub fn create(path: &Path, rate: u32, tags: &Tags, marks: &[Mark]) -> Result<Self> {
        let fail = |e: flacenc::error::VerifyError| anyhow!("FLAC encoder: {e}");
        let config = flacenc::config::Encoder::default()
            .into_verified()
            .map_err(|(_, e)| fail(e))?;
        let mut info = StreamInfo::new(rate as usize, 1, 16).map_err(fail)?;
        info.set_block_sizes(BLOCK, BLOCK).map_err(fail)?;
        let (atomic, file) = AtomicFile::create(path)?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        let mut header = b"fLaC".to_vec();
        header.extend(block(STREAMINFO, false, &streaminfo_bytes(&info)?));
        let picture = tags.cover.as_ref().map(picture_bytes);
        header.extend(block(
            VORBIS_COMMENT,
            picture.is_none(),
            &comment_bytes(&tags.vorbis(marks)),
        ));
        if let Some(picture) = picture {
            header.extend(block(PICTURE, true, &picture));
        }
        out.write_all(&header)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(FlacEncoder {
            path: path.to_path_buf(),
            atomic,
            out,
            config,
            info,
            frames: (
                FrameBuf::with_size(1, BLOCK).map_err(fail)?,
                Md5Context::new(16, 1),
            ),
            pending: Vec::with_capacity(BLOCK),
            sink: MemSink::new(),
            samples: 0,
        })
    }

    fn encode_pending(&mut self) -> Result<()> {
        self.frames
            .fill_interleaved(&self.pending)
            .map_err(|e| anyhow!("FLAC encoder: {e}"))?;
        let number = self.frames.1.current_frame_number().unwrap_or(0);
        let frame =
            flacenc::encode_fixed_size_frame(&self.config, &self.frames.0, number, &self.info)
                .map_err(|e| anyhow!("FLAC encoder: {e}"))?;
        self.info.update_frame_info(&frame);
        self.sink.clear();
        frame
            .write(&mut self.sink)
            .map_err(|e| anyhow!("FLAC encoder: {e:?}"))?;
        self.out
            .write_all(self.sink.as_slice())
            .with_context(|| format!("writing {}", self.path.display()))?;
        self.pending.clear();
        Ok(())
    }
}

impl Encode for FlacEncoder {
    fn write(&mut self, block: &[i16]) -> Result<()> {
        self.samples += block.len() as u64;
        let mut rest = block;
        while !rest.is_empty() {
            let take = (BLOCK - self.pending.len()).min(rest.len());
            self.pending
                .extend(rest[..take].iter().map(|&s| i32::from(s)));
            rest = &rest[take..];
            if self.pending.len() == BLOCK {
                self.encode_pending()?;
            }
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        if !self.pending.is_empty() {
            self.encode_pending()?;
        }
        self.info.set_total_samples(self.samples as usize);
        // A fixed-blocksize stream says so (the short last frame does not
        // count), as the reference encoder does; frame updates moved it.
        self.info
            .set_block_sizes(BLOCK, BLOCK)
            .map_err(|e| anyhow!("FLAC encoder: {e}"))?;
        self.info.set_md5_digest(&self.frames.1.md5_digest());
        let info = streaminfo_bytes(&self.info)?;
        let this = *self;
        // After `fLaC` and the 4-byte block header.
        super::patch_and_commit(this.out, this.atomic, &this.path, 8, &info)
    }
}

fn streaminfo_bytes(info: &StreamInfo) -> Result<Vec<u8>> {
    let mut sink = MemSink::<u8>::new();
    info.write(&mut sink)
        .map_err(|e| anyhow!("FLAC STREAMINFO: {e:?}"))?;
    let bytes = sink.into_inner();
    anyhow::ensure!(bytes.len() == 34, "STREAMINFO is {} bytes", bytes.len());
    Ok(bytes)
}

/// A metadata block: last-block flag, type, 24-bit length, content.
fn block(kind: u8, last: bool, content: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(4 + content.len());
    b.push(kind | if last { 0x80 } else { 0 });
    b.extend_from_slice(&(content.len() as u32).to_be_bytes()[1..]);
    b.extend_from_slice(content);
    b
}

/// A VORBIS_COMMENT block's content (little-endian lengths).
fn comment_bytes(comments: &[(String, String)]) -> Vec<u8> {
    let vendor = concat!("audiobook ", env!("CARGO_PKG_VERSION"));
    let mut b = Vec::new();
    let put = |b: &mut Vec<u8>, s: &str| {
        b.extend_from_slice(&(s.len() as u32).to_le_bytes());
        b.extend_from_slice(s.as_bytes());
    };
    put(&mut b, vendor);
    b.extend_from_slice(&(comments.len() as u32).to_le_bytes());
    for (k, v) in comments {
        put(&mut b, &format!("{k}={v}"));
    }
    b
}

/// A PICTURE block's content: front cover (type 3).
fn picture_bytes(cover: &super::tags::Picture) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&3u32.to_be_bytes());
    b.extend_from_slice(&(cover.mime.len() as u32).to_be_bytes());
    b.extend_from_slice(cover.mime.as_bytes());
    b.extend_from_slice(&0u32.to_be_bytes()); // no description
    // Width, height, colour depth, palette size (none).
    for value in [cover.width, cover.height, 24, 0] {
        b.extend_from_slice(&value.to_be_bytes());
    }
    b.extend_from_slice(&(cover.data.len() as u32).to_be_bytes());
    b.extend_from_slice(&cover.data);
    b
}
