//! M4B delivery: AAC-LC in an MP4 container with chapter marks, cover and
//! tags, through the `ffmpeg` program. Rust has no AAC encoder fit to ship
//! (the pure-Rust ones are experiments; fdk-aac's licence does not combine
//! with the GPL), and ffmpeg's own `aac` encoder is LGPL, mature, and on
//! every distribution. ffmpeg reads 44.1 kHz mono PCM on its standard
//! input, so memory stays flat; its MP4 muxer writes the tags as iTunes
//! atoms, the chapters both as a QuickTime chapter track (Apple Books, VLC)
//! and as a Nero `chpl` box (Audiobookshelf and most others), and the
//! cover as `covr`. `-fflags +bitexact` keeps its version out of the file,
//! so reruns with the same ffmpeg write the same bytes.

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use anyhow::{Context, Result, bail};

use super::Encode;
use super::tags::{Mark, Tags};
use crate::atomic::AtomicFile;

/// The rate every M4B is delivered at.
pub const RATE: u32 = 44_100;

/// Where ffmpeg is (the one place that looks: the decoder needs it too).
pub use crate::audio::decode::ffmpeg;

/// What to tell a user whose job asks for m4b on a machine without ffmpeg.
pub const INSTALL_HINT: &str = "formats = [\"m4b\"] needs the ffmpeg program on PATH; install it \
     (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg) or remove \"m4b\" from \
     [output] formats";

pub struct M4bEncoder {
    path: PathBuf,
    atomic: Option<AtomicFile>,
    /// ffmpeg's metadata file, removed (never committed) when done.
    _metadata: AtomicFile,
    child: Child,
    waited: bool,
    stdin: Option<BufWriter<ChildStdin>>,
    stderr: Option<std::thread::JoinHandle<String>>,
    bytes: Vec<u8>,
}

impl M4bEncoder {
    pub fn create(path: &Path, kbps: u32, tags: &Tags, marks: &[Mark]) -> Result<Self> {
        let program = ffmpeg().context(INSTALL_HINT)?;
        let (atomic, _) = AtomicFile::create(path)?;
        let meta_target = path.with_extension("ffmeta");
        let (metadata, mut meta_file) = AtomicFile::create(&meta_target)?;
        meta_file
            .write_all(tags.ffmetadata(marks).as_bytes())
            .context("writing ffmpeg's metadata file")?;
        let mut cmd = Command::new(program);
        cmd.args(["-hide_banner", "-loglevel", "error", "-y"])
            .args([
                "-f",
                "s16le",
                "-ar",
                &RATE.to_string(),
                "-ac",
                "1",
                "-i",
                "pipe:0",
            ])
            .args(["-f", "ffmetadata", "-i"])
            .arg(metadata.temp_path());
        if let Some(cover) = &tags.cover {
            // The picture is given by its bytes' type, not a file name.
            let codec = if cover.mime == "image/png" {
                "png_pipe"
            } else {
                "jpeg_pipe"
            };
            cmd.args(["-f", codec, "-i"]).arg(&cover.path);
        }
        cmd.args(["-map", "0:a", "-map_metadata", "1", "-map_chapters", "1"]);
        if tags.cover.is_some() {
            cmd.args([
                "-map",
                "2:v",
                "-c:v",
                "copy",
                "-disposition:v:0",
                "attached_pic",
            ]);
        }
        cmd.args(["-c:a", "aac", "-b:a", &format!("{kbps}k"), "-ac", "1"])
            .args(["-fflags", "+bitexact", "-flags:a", "+bitexact"])
            .args(["-f", "ipod", "-brand", "M4B ", "-movflags", "+faststart"])
            .arg(atomic.temp_path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().context("starting ffmpeg")?;
        let stdin = child
            .stdin
            .take()
            .map(|s| BufWriter::with_capacity(1 << 16, s));
        let stderr = child.stderr.take().map(|mut e| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = e.read_to_string(&mut text);
                text
            })
        });
        Ok(M4bEncoder {
            path: path.to_path_buf(),
            atomic: Some(atomic),
            _metadata: metadata,
            child,
            waited: false,
            stdin,
            stderr,
            bytes: Vec::new(),
        })
    }

    /// Closes ffmpeg's input and waits for it: `None` when it succeeded,
    /// else an error with its exit status and what it said.
    fn wait(&mut self) -> Option<anyhow::Error> {
        drop(self.stdin.take());
        let status = self.child.wait();
        self.waited = true;
        let said = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        match status {
            Ok(status) if status.success() => None,
            status => Some(anyhow::anyhow!(
                "ffmpeg failed writing {} ({}): {}",
                self.path.display(),
                status.map_or_else(|e| e.to_string(), |s| s.to_string()),
                said.trim()
            )),
        }
    }

    fn failure(&mut self) -> anyhow::Error {
        self.wait()
            .unwrap_or_else(|| anyhow::anyhow!("ffmpeg stopped reading its input"))
    }
}

impl Encode for M4bEncoder {
    fn write(&mut self, block: &[i16]) -> Result<()> {
        self.bytes.clear();
        self.bytes
            .extend(block.iter().flat_map(|s| s.to_le_bytes()));
        let Some(stdin) = self.stdin.as_mut() else {
            bail!("ffmpeg's input is closed");
        };
        if stdin.write_all(&self.bytes).is_err() {
            return Err(self.failure());
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        if let Some(mut stdin) = self.stdin.take()
            && stdin.flush().is_err()
        {
            return Err(self.failure());
        }
        if let Some(e) = self.wait() {
            return Err(e);
        }
        let atomic = self.atomic.take().context("m4b written twice")?;
        let file = std::fs::File::open(atomic.temp_path())
            .with_context(|| format!("ffmpeg wrote no {}", self.path.display()))?;
        atomic.commit(&file)?;
        Ok(())
    }
}

impl Drop for M4bEncoder {
    /// An encode abandoned half-way (another encoder failed) must not
    /// leave ffmpeg running.
    fn drop(&mut self) {
        if !self.waited {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
