//! Writing PCM in blocks: a chapter file whose length is known before its
//! first sample, and the whole-book file, sized up front so each chapter
//! writes its part at its own offset (from its own thread) as it is
//! mastered, and up-to-date chapters are copied in at disk speed. No
//! per-sample writer anywhere; every file is renamed into place only when
//! complete.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::{AudioError, BLOCK_SAMPLES, PcmFormat, PcmSink, read_error, read_header, write_error};
use crate::atomic::{AtomicFile, annotate};

/// A chapter file written in blocks: its length is known from the layout,
/// so the header is written first and never revisited.
pub struct WavWriter {
    path: PathBuf,
    atomic: AtomicFile,
    out: BufWriter<File>,
    expected: u64,
    written: u64,
    bytes: Vec<u8>,
}

impl WavWriter {
    pub fn create(path: &Path, sample_rate: u32, samples: u64) -> Result<WavWriter, AudioError> {
        check_size(path, samples, sample_rate)?;
        let (atomic, file) = AtomicFile::create(path).map_err(|e| write_error(path, e))?;
        let mut out = BufWriter::with_capacity(BLOCK_SAMPLES * 2, file);
        out.write_all(&PcmFormat::new(sample_rate).wav_header(samples))
            .map_err(|e| write_error(path, e))?;
        Ok(WavWriter {
            path: path.to_path_buf(),
            atomic,
            out,
            expected: samples,
            written: 0,
            bytes: Vec::with_capacity(BLOCK_SAMPLES * 2),
        })
    }

    /// Checks the length, syncs and renames the file into place.
    pub fn finish(self) -> Result<(), AudioError> {
        let path = self.path;
        if self.written != self.expected {
            return Err(write_error(
                &path,
                io::Error::other(format!(
                    "wrote {} samples, planned {}",
                    self.written, self.expected
                )),
            ));
        }
        let file = self
            .out
            .into_inner()
            .map_err(|e| write_error(&path, e.into_error()))?;
        self.atomic.commit(&file).map_err(|e| write_error(&path, e))
    }
}

impl PcmSink for WavWriter {
    fn put(&mut self, block: &[i16]) -> io::Result<()> {
        if self.written + block.len() as u64 > self.expected {
            return Err(io::Error::other(format!(
                "{}: more samples than the {} planned",
                self.path.display(),
                self.expected
            )));
        }
        self.bytes.clear();
        PcmFormat::samples_to_le(block, &mut self.bytes);
        self.out
            .write_all(&self.bytes)
            .map_err(|e| annotate(e, &format!("writing {}", self.path.display())))?;
        self.written += block.len() as u64;
        Ok(())
    }
}

/// The whole-book file, sized up front so every chapter can write its part
/// at its own offset, from its own thread, as it is mastered.
pub struct BookWriter {
    path: PathBuf,
    atomic: AtomicFile,
    file: File,
}

impl BookWriter {
    pub fn create(path: &Path, sample_rate: u32, samples: u64) -> Result<BookWriter, AudioError> {
        check_size(path, samples, sample_rate)?;
        let (atomic, file) = AtomicFile::create(path).map_err(|e| write_error(path, e))?;
        file.write_all_at(&PcmFormat::new(sample_rate).wav_header(samples), 0)
            .and_then(|()| file.set_len(PcmFormat::wav_file_bytes(samples)))
            .map_err(|e| write_error(path, e))?;
        Ok(BookWriter {
            path: path.to_path_buf(),
            atomic,
            file,
        })
    }

    /// The writer of the part that starts `offset` samples into the book.
    pub fn part(&self, offset: u64) -> BookPart<'_> {
        BookPart {
            path: &self.path,
            file: &self.file,
            at: PcmFormat::WAV_HEADER_BYTES + 2 * offset,
            bytes: Vec::with_capacity(BLOCK_SAMPLES * 2),
        }
    }

    /// Copies a chapter file that is already up to date into its part,
    /// in blocks, checking its format and length.
    pub fn copy_chapter(
        &self,
        chapter: &Path,
        rate: u32,
        offset: u64,
        samples: u64,
    ) -> Result<(), AudioError> {
        let (mut reader, available) = read_header(chapter, rate)?;
        if available != samples {
            return Err(AudioError::Truncated {
                path: chapter.to_path_buf(),
                got: available,
                expected: samples,
            });
        }
        let mut part = self.part(offset);
        let mut left = samples * 2;
        let mut block = vec![0u8; BLOCK_SAMPLES * 8];
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            reader
                .read_exact(&mut block[..n])
                .map_err(|e| read_error(chapter, e))?;
            part.put_bytes(&block[..n])
                .map_err(|e| write_error(&self.path, e))?;
            left -= n as u64;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<(), AudioError> {
        self.atomic
            .commit(&self.file)
            .map_err(|e| write_error(&self.path, e))
    }
}

/// One chapter's place in the book file, written with positional writes.
pub struct BookPart<'b> {
    path: &'b Path,
    file: &'b File,
    at: u64,
    bytes: Vec<u8>,
}

impl BookPart<'_> {
    fn put_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all_at(bytes, self.at)?;
        self.at += bytes.len() as u64;
        Ok(())
    }
}

impl PcmSink for BookPart<'_> {
    fn put(&mut self, block: &[i16]) -> io::Result<()> {
        let mut bytes = std::mem::take(&mut self.bytes);
        bytes.clear();
        PcmFormat::samples_to_le(block, &mut bytes);
        let result = self
            .put_bytes(&bytes)
            .map_err(|e| annotate(e, &format!("writing {}", self.path.display())));
        self.bytes = bytes;
        result
    }
}

fn check_size(out: &Path, samples: u64, sample_rate: u32) -> Result<(), AudioError> {
    if samples > PcmFormat::MAX_WAV_SAMPLES {
        return Err(AudioError::TooLarge {
            path: out.to_path_buf(),
            samples,
            sample_rate,
        });
    }
    Ok(())
}
