//! Stitching: cached clips and pauses into one WAV per chapter, and chapters
//! into the book file. Everything streams (one buffer of samples in memory at
//! a time), every length is exact to the sample, and every file is written
//! beside its target and renamed into place, so an interrupted run never
//! leaves a truncated chapter or book behind.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};

use crate::atomic::AtomicFile;
use crate::job::Audio;

mod format;
pub use format::PcmFormat;

/// Samples moved per read/write: 256 KiB of audio, large enough for
/// hundreds of MB/s, small enough to never matter for memory.
const CHUNK_SAMPLES: usize = 128 * 1024;

/// What goes into one slot of a chapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StitchSource {
    /// A cached clip file (mono 16-bit at the job's rate).
    Clip(PathBuf),
    /// A segment rendered as a pause (the provider found it unspeakable).
    Silence { ms: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StitchItem {
    pub source: StitchSource,
    /// Followed by the paragraph gap instead of the sentence gap.
    pub ends_paragraph: bool,
}

/// Where an item landed in the chapter file: samples `start..end` (end
/// exclusive), counted from the first sample of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub start: u64,
    pub end: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChapterAudio {
    /// Total samples in the chapter file, silences included.
    pub samples: u64,
    /// One entry per item, in order.
    pub placed: Vec<Placed>,
}

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("reading {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("writing {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("{} is not a readable wav file: {detail}", path.display())]
    NotWav { path: PathBuf, detail: String },
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
    #[error(
        "{} would hold {samples} samples ({:.1} h at {sample_rate} Hz), over the 4 GiB limit of a wav file; use a lower sample rate or shorter chapters",
        path.display(),
        *samples as f64 / f64::from(*sample_rate) / 3600.0
    )]
    TooLarge {
        path: PathBuf,
        samples: u64,
        sample_rate: u32,
    },
}

/// Writes one chapter WAV: the head pause, the items with sentence or
/// paragraph gaps between them, then the trailing pause. Every clip is
/// checked (format, rate, size) before anything is written.
pub fn write_chapter(
    out: &Path,
    audio: &Audio,
    items: &[StitchItem],
) -> Result<ChapterAudio, AudioError> {
    let rate = audio.sample_rate;
    let lengths = item_lengths(items, rate)?;
    let layout = layout(audio, items, &lengths);
    check_size(out, layout.samples, rate)?;

    let (atomic, file) = AtomicFile::create(out).map_err(|e| write_error(out, e))?;
    let mut wav = wav_writer(out, &file, rate)?;
    stream_chapter(rate, items, &layout, &mut |block| {
        put_samples(&mut wav, out, block)
    })?;
    wav.finalize().map_err(|e| hound_write_error(out, e))?;
    atomic.commit(&file).map_err(|e| write_error(out, e))?;
    Ok(layout)
}

/// Feeds a chapter's samples, laid out by [`layout`], to `sink` in blocks
/// of at most [`CHUNK_SAMPLES`], without writing a file: the delivery
/// stage's encoders read chapters this way. Exactly `layout.samples`
/// samples are fed, or an error names the clip that did not fit.
pub fn stream_chapter(
    rate: u32,
    items: &[StitchItem],
    layout: &ChapterAudio,
    sink: &mut dyn FnMut(&[i16]) -> Result<(), AudioError>,
) -> Result<(), AudioError> {
    let mut pcm = Feed::new(sink);
    pcm.silence(layout.placed.first().map_or(0, |p| p.start))?;
    for (i, (item, place)) in items.iter().zip(&layout.placed).enumerate() {
        match &item.source {
            StitchSource::Clip(path) => pcm.copy_clip(path, rate, place.end - place.start)?,
            StitchSource::Silence { .. } => pcm.silence(place.end - place.start)?,
        }
        let next_start = layout.placed.get(i + 1).map_or(layout.samples, |p| p.start);
        pcm.silence(next_start - place.end)?;
    }
    if items.is_empty() {
        pcm.silence(layout.samples)?;
    }
    pcm.finish(layout.samples)
}

/// Concatenates chapter WAVs into the book file, sample-exact. All chapters
/// are checked before anything is written. Returns the book's total samples.
pub fn write_book(out: &Path, sample_rate: u32, chapters: &[PathBuf]) -> Result<u64, AudioError> {
    let lengths = chapters
        .iter()
        .map(|path| read_header(path, sample_rate).map(|(_, n)| n))
        .collect::<Result<Vec<u64>, _>>()?;
    let total: u64 = lengths.iter().sum();
    check_size(out, total, sample_rate)?;

    let (atomic, file) = AtomicFile::create(out).map_err(|e| write_error(out, e))?;
    let mut wav = wav_writer(out, &file, sample_rate)?;
    let mut sink = |block: &[i16]| put_samples(&mut wav, out, block);
    let mut pcm = Feed::new(&mut sink);
    for (path, &n) in chapters.iter().zip(&lengths) {
        pcm.copy_clip(path, sample_rate, n)?;
    }
    pcm.finish(total)?;
    wav.finalize().map_err(|e| hound_write_error(out, e))?;
    atomic.commit(&file).map_err(|e| write_error(out, e))?;
    Ok(total)
}

// ── planning ─────────────────────────────────────────────────────────────

/// The length of each item in samples, reading only clip headers.
fn item_lengths(items: &[StitchItem], rate: u32) -> Result<Vec<u64>, AudioError> {
    items
        .iter()
        .map(|item| match &item.source {
            StitchSource::Clip(path) => read_header(path, rate).map(|(_, n)| n),
            StitchSource::Silence { ms } => Ok(PcmFormat::new(rate).samples_in_ms(*ms)),
        })
        .collect()
}

/// Positions every item: head, items with their gaps, trailing pause. Pure
/// arithmetic, so a chapter file that is already up to date need not be read.
pub fn layout(audio: &Audio, items: &[StitchItem], lengths: &[u64]) -> ChapterAudio {
    let rate = audio.sample_rate;
    let format = PcmFormat::new(rate);
    let mut cursor = format.samples_in_ms(audio.chapter_head_ms);
    let mut placed = Vec::with_capacity(items.len());
    for (i, (item, &len)) in items.iter().zip(lengths).enumerate() {
        placed.push(Placed {
            start: cursor,
            end: cursor + len,
        });
        cursor += len;
        if i + 1 < items.len() {
            cursor += gap_after(audio, item);
        }
    }
    ChapterAudio {
        samples: cursor + format.samples_in_ms(audio.chapter_trailing_ms),
        placed,
    }
}

fn gap_after(audio: &Audio, item: &StitchItem) -> u64 {
    let ms = if item.ends_paragraph {
        audio.paragraph_gap_ms
    } else {
        audio.sentence_gap_ms
    };
    PcmFormat::new(audio.sample_rate).samples_in_ms(ms)
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

// ── reading ──────────────────────────────────────────────────────────────

/// Opens a WAV, checks it is mono 16-bit PCM at `rate`, and returns the
/// reader positioned at the first sample together with the sample count.
fn read_header(path: &Path, rate: u32) -> Result<(BufReader<File>, u64), AudioError> {
    let file = File::open(path).map_err(|e| read_error(path, e))?;
    let reader =
        hound::WavReader::new(BufReader::with_capacity(CHUNK_SAMPLES * 2, file)).map_err(|e| {
            match e {
                hound::Error::IoError(e) => read_error(path, e),
                other => AudioError::NotWav {
                    path: path.to_path_buf(),
                    detail: other.to_string(),
                },
            }
        })?;
    let spec = reader.spec();
    if PcmFormat::of_wav(spec) != Some(PcmFormat::new(rate)) {
        return Err(AudioError::WrongFormat {
            path: path.to_path_buf(),
            found: PcmFormat::describe(spec),
            expected_rate: rate,
        });
    }
    let samples = u64::from(reader.len());
    Ok((reader.into_inner(), samples))
}

fn read_error(path: &Path, source: io::Error) -> AudioError {
    AudioError::Read {
        path: path.to_path_buf(),
        source,
    }
}

fn write_error(path: &Path, source: io::Error) -> AudioError {
    AudioError::Write {
        path: path.to_path_buf(),
        source,
    }
}

// ── writing ──────────────────────────────────────────────────────────────

type Wav<'f> = hound::WavWriter<BufWriter<&'f File>>;

fn wav_writer<'f>(out: &Path, file: &'f File, rate: u32) -> Result<Wav<'f>, AudioError> {
    let spec = PcmFormat::new(rate).wav_spec();
    let sink = BufWriter::with_capacity(CHUNK_SAMPLES * 2, file);
    hound::WavWriter::new(sink, spec).map_err(|e| hound_write_error(out, e))
}

/// Samples on their way to a sink, with reusable chunk buffers and a count
/// that guards the layout arithmetic.
struct Feed<'s> {
    sink: &'s mut dyn FnMut(&[i16]) -> Result<(), AudioError>,
    bytes: Vec<u8>,
    samples: Vec<i16>,
    written: u64,
}

impl<'s> Feed<'s> {
    fn new(sink: &'s mut dyn FnMut(&[i16]) -> Result<(), AudioError>) -> Self {
        Feed {
            sink,
            bytes: vec![0; CHUNK_SAMPLES * 2],
            samples: Vec::with_capacity(CHUNK_SAMPLES),
            written: 0,
        }
    }

    fn silence(&mut self, mut n: u64) -> Result<(), AudioError> {
        static ZEROS: [i16; 8192] = [0; 8192];
        while n > 0 {
            let take = n.min(ZEROS.len() as u64) as usize;
            self.put(&ZEROS[..take])?;
            n -= take as u64;
        }
        Ok(())
    }

    /// Copies exactly `expected` samples of the clip at `path`.
    fn copy_clip(&mut self, path: &Path, rate: u32, expected: u64) -> Result<(), AudioError> {
        let (mut reader, available) = read_header(path, rate)?;
        let mut left = expected;
        if available < expected {
            return Err(AudioError::Truncated {
                path: path.to_path_buf(),
                got: available,
                expected,
            });
        }
        while left > 0 {
            let take = left.min(CHUNK_SAMPLES as u64) as usize;
            let bytes = &mut self.bytes[..take * 2];
            reader.read_exact(bytes).map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => AudioError::Truncated {
                    path: path.to_path_buf(),
                    got: expected - left,
                    expected,
                },
                _ => read_error(path, e),
            })?;
            self.samples.clear();
            self.samples.extend(PcmFormat::samples_from_le(bytes));
            (self.sink)(&self.samples)?;
            self.written += take as u64;
            left -= take as u64;
        }
        Ok(())
    }

    fn put(&mut self, samples: &[i16]) -> Result<(), AudioError> {
        (self.sink)(samples)?;
        self.written += samples.len() as u64;
        Ok(())
    }

    /// `expected` guards the layout arithmetic.
    fn finish(self, expected: u64) -> Result<(), AudioError> {
        if self.written != expected {
            return Err(AudioError::Write {
                path: PathBuf::new(),
                source: io::Error::other(format!(
                    "fed {} samples, planned {expected}",
                    self.written
                )),
            });
        }
        Ok(())
    }
}

fn put_samples(wav: &mut Wav<'_>, out: &Path, samples: &[i16]) -> Result<(), AudioError> {
    // The sizes were checked against the wav limit before writing began, so
    // a chunk always fits in u32.
    let mut writer = wav.get_i16_writer(samples.len() as u32);
    for &s in samples {
        writer.write_sample(s);
    }
    writer.flush().map_err(|e| hound_write_error(out, e))
}

fn hound_write_error(path: &Path, e: hound::Error) -> AudioError {
    let source = match e {
        hound::Error::IoError(e) => e,
        other => io::Error::other(other.to_string()),
    };
    write_error(path, source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Cache;
    use crate::provider::Clip;

    const RATE: u32 = 24_000;

    fn audio() -> Audio {
        Audio {
            sample_rate: RATE,
            sentence_gap_ms: 250,
            paragraph_gap_ms: 700,
            chapter_head_ms: 500,
            chapter_trailing_ms: 1_000,
        }
    }

    /// Writes a clip of `len` samples all equal to `value` through the real cache.
    fn clip_file(cache: &Cache, key: &str, value: i16, len: usize, rate: u32) -> PathBuf {
        let clip = Clip::new(rate, vec![value; len]);
        cache.put(key, &clip).unwrap();
        cache.clip_path(key)
    }

    fn read_all(path: &Path) -> Vec<i16> {
        let mut reader = hound::WavReader::open(path).unwrap();
        assert_eq!(reader.spec().sample_rate, RATE);
        reader.samples::<i16>().map(|s| s.unwrap()).collect()
    }

    fn item(source: StitchSource, ends_paragraph: bool) -> StitchItem {
        StitchItem {
            source,
            ends_paragraph,
        }
    }

    #[test]
    fn chapter_layout_is_sample_exact() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let a = clip_file(&cache, "aa01", 1_000, 1_234, RATE);
        let b = clip_file(&cache, "bb02", -2_000, 777, RATE);
        let c = clip_file(&cache, "cc03", 3_000, 4_321, RATE);
        let items = [
            item(StitchSource::Clip(a), false),
            item(StitchSource::Clip(b), true),
            item(StitchSource::Silence { ms: 300 }, false),
            item(StitchSource::Clip(c), true),
        ];
        let out = dir.path().join("ch1.wav");
        let chapter = write_chapter(&out, &audio(), &items).unwrap();

        let (head, sentence, paragraph, trailing) = (12_000, 6_000, 16_800, 24_000);
        let expected =
            head + 1_234 + sentence + 777 + paragraph + 7_200 + sentence + 4_321 + trailing;
        assert_eq!(chapter.samples, expected);
        let samples = read_all(&out);
        assert_eq!(samples.len() as u64, expected);

        let want = [
            (head, 1_234, 1_000),
            (head + 1_234 + sentence, 777, -2_000),
            (head + 1_234 + sentence + 777 + paragraph, 7_200, 0),
            (
                head + 1_234 + sentence + 777 + paragraph + 7_200 + sentence,
                4_321,
                3_000,
            ),
        ];
        for (placed, &(start, len, value)) in chapter.placed.iter().zip(&want) {
            assert_eq!((placed.start, placed.end), (start, start + len));
            let region = &samples[start as usize..(start + len) as usize];
            assert!(region.iter().all(|&s| s == value), "item at {start}");
        }
        // Everything outside the clips is silence, so the count of non-zero
        // samples is exactly the clip lengths.
        let nonzero = samples.iter().filter(|&&s| s != 0).count();
        assert_eq!(nonzero, 1_234 + 777 + 4_321);
        assert!(samples[..head as usize].iter().all(|&s| s == 0));
        assert!(
            samples[samples.len() - trailing as usize..]
                .iter()
                .all(|&s| s == 0)
        );
    }

    #[test]
    fn rerun_writes_identical_bytes_and_book_concatenates() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let a = clip_file(&cache, "aa01", 11, 500, RATE);
        let b = clip_file(&cache, "bb02", 22, 300_000, RATE);
        let ch1 = dir.path().join("ch1.wav");
        let ch2 = dir.path().join("ch2.wav");
        write_chapter(&ch1, &audio(), &[item(StitchSource::Clip(a.clone()), true)]).unwrap();
        let first = std::fs::read(&ch1).unwrap();
        write_chapter(&ch1, &audio(), &[item(StitchSource::Clip(a), true)]).unwrap();
        assert_eq!(first, std::fs::read(&ch1).unwrap());
        write_chapter(&ch2, &audio(), &[item(StitchSource::Clip(b), false)]).unwrap();

        let book = dir.path().join("book.wav");
        let total = write_book(&book, RATE, &[ch1.clone(), ch2.clone(), ch1.clone()]).unwrap();
        let mut want = read_all(&ch1);
        want.extend(read_all(&ch2));
        want.extend(read_all(&ch1));
        assert_eq!(total, want.len() as u64);
        assert_eq!(read_all(&book), want);
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(
            leftovers, 4,
            "temp files left: clips/, ch1, ch2, book expected"
        );
    }

    #[test]
    fn empty_chapter_is_head_and_trailing_silence() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("empty.wav");
        let chapter = write_chapter(&out, &audio(), &[]).unwrap();
        assert_eq!(chapter.samples, 36_000);
        assert_eq!(read_all(&out), vec![0; 36_000]);
    }

    #[test]
    fn clip_at_another_rate_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let good = clip_file(&cache, "aa01", 5, 100, RATE);
        let bad = clip_file(&cache, "bb02", 5, 100, 22_050);
        let out = dir.path().join("ch.wav");
        let items = [
            item(StitchSource::Clip(good), false),
            item(StitchSource::Clip(bad.clone()), false),
        ];
        let err = write_chapter(&out, &audio(), &items).unwrap_err();
        assert!(matches!(err, AudioError::WrongFormat { .. }), "{err}");
        assert!(
            err.to_string().contains(&bad.display().to_string()),
            "{err}"
        );
        assert!(!out.exists());
    }

    #[test]
    fn missing_or_garbage_clip_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.wav");
        let garbage = dir.path().join("garbage.wav");
        std::fs::write(&garbage, b"not a wav file at all").unwrap();
        for path in [missing, garbage] {
            let items = [item(StitchSource::Clip(path.clone()), false)];
            let err = write_chapter(&dir.path().join("ch.wav"), &audio(), &items).unwrap_err();
            assert!(
                err.to_string().contains(&path.display().to_string()),
                "{err}"
            );
        }
    }

    #[test]
    fn over_four_gib_is_refused_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("huge.wav");
        let items = [item(StitchSource::Silence { ms: 25 * 3_600_000 }, false)];
        let err = write_chapter(&out, &audio(), &items).unwrap_err();
        assert!(matches!(err, AudioError::TooLarge { .. }), "{err}");
        assert!(err.to_string().contains("lower sample rate"), "{err}");
        assert!(!out.exists());
    }
}
