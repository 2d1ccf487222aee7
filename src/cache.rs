//! The clip cache: finished clips stored as WAV files under their content
//! key (see [`crate::plan::ContentKey`]), written atomically and checked by
//! SHA-256, so a resumed render reuses every clip whose inputs did not change
//! and re-renders any clip that was damaged on disk.

use std::fs;
use std::io::{self, Cursor};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::atomic::{annotate, write_atomic};
use crate::audio::PcmFormat;
use crate::provider::{Clip, WordTiming};

/// The clip store under one workspace cache folder.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    clips: PathBuf,
}

/// What the store recorded about a clip it wrote: what the database keeps
/// for it (`Store::mark_done`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredClip {
    /// Lowercase hex SHA-256 of the WAV file's bytes.
    pub sha256: String,
    pub samples: u64,
    pub sample_rate: u32,
    /// The clip's word timings. The WAV file cannot hold them, so they live
    /// only in the database; carried here so they reach it with the clip.
    pub words: Vec<WordTiming>,
}

impl Cache {
    /// Opens (creating if needed) the cache at `root`; clips live in `root/clips`.
    pub fn open(root: &Path) -> io::Result<Cache> {
        let clips = root.join("clips");
        fs::create_dir_all(&clips)
            .map_err(|e| annotate(e, &format!("creating {}", clips.display())))?;
        remove_orphaned_temps_under(&clips);
        Ok(Cache {
            root: root.to_path_buf(),
            clips,
        })
    }

    /// The cache at `root` for looking only: creates nothing (`plan`).
    pub fn at(root: &Path) -> Cache {
        Cache {
            root: root.to_path_buf(),
            clips: root.join("clips"),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `root/clips/<first two key chars>/<key>.wav`: the fan-out keeps any one
    /// folder small for books with tens of thousands of segments.
    pub fn clip_path(&self, key: &str) -> PathBuf {
        let shard = key.get(..2).unwrap_or(key);
        self.clips.join(shard).join(format!("{key}.wav"))
    }

    /// Writes `clip` as a mono 16-bit WAV under `key`, replacing any old file
    /// atomically, and returns the file's checksum.
    pub fn put(&self, key: &str, clip: &Clip) -> io::Result<StoredClip> {
        let path = self.clip_path(key);
        let bytes =
            encode_wav(clip).map_err(|e| annotate(e, &format!("encoding {}", path.display())))?;
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)
                .map_err(|e| annotate(e, &format!("creating {}", dir.display())))?;
        }
        write_atomic(&path, &bytes)?;
        Ok(StoredClip {
            sha256: hex_sha256(&bytes),
            samples: clip.samples.len() as u64,
            sample_rate: clip.sample_rate,
            words: clip.words.clone(),
        })
    }

    /// True when the clip file exists and its bytes hash to `expected_sha256`.
    pub fn verify(&self, key: &str, expected_sha256: &str) -> io::Result<bool> {
        let path = self.clip_path(key);
        match fs::read(&path) {
            Ok(bytes) => Ok(hex_sha256(&bytes).eq_ignore_ascii_case(expected_sha256)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(annotate(e, &format!("reading {}", path.display()))),
        }
    }

    /// Reads a stored clip back.
    /// A clip already on disk that the database does not know of: a run
    /// killed between the clip's rename and the database commit leaves one.
    /// Returns its description when it is a complete, valid clip, so it can
    /// be recorded instead of synthesized again; `None` when it is missing or
    /// unreadable (it will then be overwritten).
    pub fn adopt(&self, key: &str) -> io::Result<Option<StoredClip>> {
        let path = self.clip_path(key);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(annotate(e, &format!("reading {}", path.display()))),
        };
        let Ok(reader) = hound::WavReader::new(io::Cursor::new(&bytes)) else {
            return Ok(None);
        };
        let spec = reader.spec();
        let declared = u64::from(reader.len());
        let readable = reader
            .into_samples::<i16>()
            .take_while(Result::is_ok)
            .count() as u64;
        if PcmFormat::of_wav(spec).is_none() || readable != declared {
            return Ok(None);
        }
        Ok(Some(StoredClip {
            sha256: hex_sha256(&bytes),
            samples: declared,
            sample_rate: spec.sample_rate,
            // The file holds no timings; they died with the run that wrote it.
            words: Vec::new(),
        }))
    }

    pub fn load(&self, key: &str) -> io::Result<Clip> {
        let path = self.clip_path(key);
        read_clip(&path).map_err(|e| annotate(e, &format!("reading {}", path.display())))
    }

    /// Opens a stored clip for reading its samples in blocks, so the
    /// stitcher never holds more than a block of any clip. The error names
    /// the file; a file that is not mono 16-bit PCM is `InvalidData`.
    pub fn open_clip(&self, key: &str) -> io::Result<ClipReader> {
        let path = self.clip_path(key);
        ClipReader::open(&path).map_err(|e| annotate(e, &format!("reading {}", path.display())))
    }
}

/// A stored clip read in blocks: its rate and length from the header, then
/// its samples in order.
pub struct ClipReader {
    reader: io::BufReader<fs::File>,
    sample_rate: u32,
    samples: u64,
    left: u64,
    bytes: Vec<u8>,
}

impl ClipReader {
    /// Bytes buffered per read: 64 KiB moves clips at disk speed.
    const BUFFER: usize = 64 * 1024;

    fn open(path: &Path) -> io::Result<ClipReader> {
        let file = fs::File::open(path)?;
        let wav = hound::WavReader::new(io::BufReader::with_capacity(Self::BUFFER, file))
            .map_err(wav_error)?;
        let spec = wav.spec();
        if PcmFormat::of_wav(spec).is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "expected mono 16-bit pcm, found {}",
                    PcmFormat::describe(spec)
                ),
            ));
        }
        let samples = u64::from(wav.len());
        // hound leaves the reader at the first sample of the data chunk.
        Ok(ClipReader {
            reader: wav.into_inner(),
            sample_rate: spec.sample_rate,
            samples,
            left: samples,
            bytes: Vec::new(),
        })
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Samples the header declares.
    pub fn len(&self) -> u64 {
        self.samples
    }

    pub fn is_empty(&self) -> bool {
        self.samples == 0
    }

    /// Fills `out` with the next samples; returns how many (0 at the end).
    /// A file shorter than its header is an `UnexpectedEof` error.
    pub fn read(&mut self, out: &mut [i16]) -> io::Result<usize> {
        use std::io::Read as _;
        let n = (out.len() as u64).min(self.left) as usize;
        self.bytes.resize(n * 2, 0);
        self.reader.read_exact(&mut self.bytes)?;
        for (dst, pair) in out.iter_mut().zip(self.bytes.chunks_exact(2)) {
            *dst = i16::from_le_bytes([pair[0], pair[1]]);
        }
        self.left -= n as u64;
        Ok(n)
    }

    /// Skips `n` samples (at most what is left).
    pub fn skip(&mut self, n: u64) -> io::Result<()> {
        let n = n.min(self.left);
        self.reader.seek_relative(n as i64 * 2)?;
        self.left -= n;
        Ok(())
    }
}

/// Clears the half-written clips killed runs left in the shard folders.
/// Best effort: a file that cannot be removed is only untidy.
fn remove_orphaned_temps_under(clips: &Path) {
    let Ok(shards) = fs::read_dir(clips) else {
        return;
    };
    let mut removed = 0;
    for shard in shards.flatten().filter(|s| s.path().is_dir()) {
        match crate::atomic::remove_orphaned_temps(&shard.path()) {
            Ok(n) => removed += n,
            Err(e) => tracing::warn!("cleaning the cache: {e}"),
        }
    }
    if removed > 0 {
        tracing::info!(removed, "removed half-written clips left by killed runs");
    }
}

/// How many clip files the cache at `root` holds, without creating or
/// changing anything (a missing folder holds none).
pub fn count_clips(root: &Path) -> usize {
    let Ok(shards) = fs::read_dir(root.join("clips")) else {
        return 0;
    };
    shards
        .flatten()
        .filter_map(|shard| fs::read_dir(shard.path()).ok())
        .flat_map(|files| files.flatten())
        .filter(|f| f.path().extension().is_some_and(|e| e == "wav"))
        .count()
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The whole WAV file in memory: a clip is small, and hashing the exact
/// bytes that go to disk needs them anyway.
fn encode_wav(clip: &Clip) -> io::Result<Vec<u8>> {
    // A wav file's sizes are 32-bit; no real clip comes near this.
    let len = u32::try_from(clip.samples.len())
        .ok()
        .filter(|n| u64::from(*n) <= PcmFormat::MAX_WAV_SAMPLES)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the clip is too long for a wav file",
            )
        })?;
    let mut cursor = Cursor::new(Vec::with_capacity(PcmFormat::wav_file_bytes(
        clip.samples.len() as u64
    ) as usize));
    let mut writer =
        hound::WavWriter::new(&mut cursor, PcmFormat::new(clip.sample_rate).wav_spec())
            .map_err(wav_error)?;
    let mut samples = writer.get_i16_writer(len);
    for &s in &clip.samples {
        samples.write_sample(s);
    }
    samples.flush().map_err(wav_error)?;
    writer.finalize().map_err(wav_error)?;
    Ok(cursor.into_inner())
}

fn read_clip(path: &Path) -> io::Result<Clip> {
    let mut reader = ClipReader::open(path)?;
    let mut samples = vec![0i16; reader.len() as usize];
    let n = reader.read(&mut samples)?;
    samples.truncate(n);
    Ok(Clip::new(reader.sample_rate(), samples))
}

fn wav_error(e: hound::Error) -> io::Error {
    match e {
        hound::Error::IoError(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip() -> Clip {
        Clip::new(
            24_000,
            (0..4_800).map(|i| (i as i16).wrapping_mul(7)).collect(),
        )
    }

    #[test]
    fn put_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let key = "a1b2c3";
        let stored = cache.put(key, &clip()).unwrap();
        assert_eq!(stored.samples, 4_800);
        assert_eq!(stored.sample_rate, 24_000);
        assert_eq!(cache.load(key).unwrap(), clip());
        assert!(cache.verify(key, &stored.sha256).unwrap());
        assert_eq!(
            cache.clip_path(key),
            dir.path()
                .join("clips")
                .join(&key[..2])
                .join(format!("{key}.wav"))
        );
    }

    #[test]
    fn adopt_accepts_only_complete_clips() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        assert!(cache.adopt("ab02").unwrap().is_none(), "missing file");
        let stored = cache.put("ab02", &clip()).unwrap();
        let adopted = cache
            .adopt("ab02")
            .unwrap()
            .expect("a complete clip is adopted");
        assert_eq!(adopted.sha256, stored.sha256);
        assert_eq!(adopted.samples, 4_800);
        let path = cache.clip_path("ab02");
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
        assert!(
            cache.adopt("ab02").unwrap().is_none(),
            "a truncated clip is not adopted"
        );
    }

    #[test]
    fn sha256_is_of_the_file_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let stored = cache.put("abcd", &clip()).unwrap();
        let bytes = fs::read(cache.clip_path("abcd")).unwrap();
        assert_eq!(stored.sha256, hex_sha256(&bytes));
        let leftovers = fs::read_dir(cache.clip_path("abcd").parent().unwrap())
            .unwrap()
            .count();
        assert_eq!(leftovers, 1, "temp files were left behind");
    }

    #[test]
    fn damaged_or_missing_file_fails_verify() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let stored = cache.put("ab01", &clip()).unwrap();
        let path = cache.clip_path("ab01");
        let mut bytes = fs::read(&path).unwrap();

        bytes[100] ^= 0x01;
        fs::write(&path, &bytes).unwrap();
        assert!(!cache.verify("ab01", &stored.sha256).unwrap());

        bytes[100] ^= 0x01;
        fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
        assert!(!cache.verify("ab01", &stored.sha256).unwrap());

        fs::remove_file(&path).unwrap();
        assert!(!cache.verify("ab01", &stored.sha256).unwrap());
    }

    #[test]
    fn open_clip_reads_in_blocks_and_skips() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        cache.put("ab03", &clip()).unwrap();
        let mut reader = cache.open_clip("ab03").unwrap();
        assert_eq!((reader.sample_rate(), reader.len()), (24_000, 4_800));
        reader.skip(100).unwrap();
        let mut block = [0i16; 1_000];
        let mut got = Vec::new();
        loop {
            let n = reader.read(&mut block).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&block[..n]);
        }
        assert_eq!(got, clip().samples[100..]);
        let path = cache.clip_path("ab03");
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
        let mut reader = cache.open_clip("ab03").unwrap();
        let mut all = vec![0i16; 4_800];
        let err = reader.read(&mut all).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn load_of_missing_clip_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let err = cache.load("ffee").unwrap_err();
        assert!(err.to_string().contains("ffee.wav"), "{err}");
    }
}
