//! Benchmark of stitching against `cat` on the same bytes. A chapter of
//! cached clips is played through the stitcher ([`ChapterStream`]) into a
//! WAV file by delivery's own writer ([`WavEncoder`]), and timed against
//! `cat` of the same clip files into a file, in the same folder, in
//! alternating order, `ROUNDS` times.
//!
//! The clips are real speech (eight sentences from the embedded engine at
//! 24 kHz, each stored under many content keys), in two caches: FLAC, as
//! the cache writes clips now, and WAV, as earlier versions wrote them
//! (still read). Two layouts:
//! - `same bytes`: no pauses and no trimming, so the chapter's samples are
//!   exactly the clips' samples one after another, and `cat` of the WAV
//!   clips moves the same PCM (plus a 44-byte header per clip). Checked
//!   before timing: our file's data equals the clips' data chunks read by
//!   this file's own parser, and `flac -d` of the FLAC clips (libFLAC, an
//!   independent decoder) gives the same bytes.
//! - `book`: the job file's default pauses and trimming.
//!
//! Each is written twice: to the page cache (the file then dropped: `cat`
//! removes its file too), and durably (our writer's fsync, rename and
//! directory fsync; `cat` then `sync FILE`). FLAC clips must be decoded,
//! which `cat` does not do: `flac -d` of the same files is printed beside
//! them as the reference for decoding.
//!
//! Prints min and median of the times and of the per-round ratios
//! `cat / ours` (at least 0.9 is the target for the WAV cache), and the
//! load before and after.
//!
//! `cargo bench --bench stitch`; environment: `CLIPS` (default 1000, about
//! an hour of audio), `ROUNDS` (default 7), `BENCH_DIR` (default the
//! system's temporary folder; it needs about 0.5 GB per 1000 clips).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use audiobook::audio::{
    BLOCK_SAMPLES, ChapterStream, Layout, PcmFormat, StitchItem, StitchSource, lay_out,
    measure_edges,
};
use audiobook::cache::Cache;
use audiobook::deliver::{Encode, WavEncoder};
use audiobook::job::{Audio, Trim, Voice};
use audiobook::provider::local::LocalEngine;
use audiobook::provider::{Clip, SynthRequest, Synthesizer};

const RATE: u32 = 24_000;

const SENTENCES: &[&str] = &[
    "It was the best of times, it was the worst of times, it was the age of wisdom.",
    "The quick brown fox jumps over the lazy sleeping dog by the river bank.",
    "She walked slowly along the path, thinking about what her father had said.",
    "Nobody in the village remembered when the old mill had last turned its wheel.",
    "He opened the letter, read the first line twice, and put it back in the envelope.",
    "In the morning the fog lifted, and the whole valley lay green below them.",
    "Numbers like forty two and one thousand nine hundred were read aloud.",
    "What do you mean, she asked, and why did you not tell me before?",
];

type Res<T> = Result<T, String>;

fn env_usize(name: &str, default: usize) -> Res<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .map_err(|_| format!("{name}={v}: expected a whole number")),
        Err(_) => Ok(default),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Bench {
    dir: PathBuf,
    items: Vec<StitchItem>,
    flac_cache: Cache,
    wav_cache: Cache,
    has_flac: bool,
}

fn run() -> Res<()> {
    let clips = env_usize("CLIPS", 1000)?.max(1);
    let rounds = env_usize("ROUNDS", 7)?.max(1);
    let base = std::env::var_os("BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let tmp = tempfile::tempdir_in(&base)
        .map_err(|e| format!("creating a folder in {}: {e}", base.display()))?;
    println!(
        "cores {}; load before: {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        load()
    );
    let bench = Bench::build(tmp.path(), clips)?;
    let same = Audio {
        sample_rate: RATE,
        sentence_gap_ms: 0,
        paragraph_gap_ms: 0,
        chapter_head_ms: 0,
        chapter_trailing_ms: 0,
        trim: Trim {
            enabled: false,
            ..Trim::default()
        },
    };
    let book = Audio {
        sample_rate: RATE,
        sentence_gap_ms: 250,
        paragraph_gap_ms: 700,
        chapter_head_ms: 500,
        chapter_trailing_ms: 2000,
        trim: Trim::default(),
    };
    let same_layout = bench.layout(&same)?;
    let book_layout = bench.layout(&book)?;
    bench.verify_same_bytes(&same_layout)?;

    let wav_bytes = bench.cache_bytes(&bench.wav_cache);
    let flac_bytes = bench.cache_bytes(&bench.flac_cache);
    println!(
        "{clips} clips, {:.0} s of audio at {RATE} Hz; WAV cache {:.0} MB, FLAC cache {:.0} MB; {rounds} rounds",
        same_layout.audio.samples as f64 / f64::from(RATE),
        wav_bytes as f64 / 1e6,
        flac_bytes as f64 / 1e6,
    );
    if !bench.has_flac {
        println!("(`flac` is not installed: the flac -d reference is left out)");
    }
    println!(
        "{:<10} {:<5} {:<10} {:>16} {:>16} {:>16} {:>17}",
        "layout",
        "cache",
        "written",
        "ours s min/med",
        "cat s min/med",
        "cat/ours min/med",
        "flac -d s min/med"
    );
    for (name, layout) in [("same bytes", &same_layout), ("book", &book_layout)] {
        for (cache_name, cache) in [("wav", &bench.wav_cache), ("flac", &bench.flac_cache)] {
            for durable in [false, true] {
                bench.cell(name, layout, cache_name, cache, durable, rounds)?;
            }
        }
    }
    println!("load after: {}", load());
    Ok(())
}

impl Bench {
    fn build(dir: &Path, clips: usize) -> Res<Bench> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| e.to_string())?;
        let engine = LocalEngine::new(&dir.join("engine"), &Voice::local("en", 1.0, 50), RATE)
            .map_err(|e| e.to_string())?;
        let speech: Vec<Clip> = SENTENCES
            .iter()
            .map(|s| {
                rt.block_on(engine.synthesize(&SynthRequest {
                    text: s.to_string(),
                }))
                .map_err(|e| e.to_string())
            })
            .collect::<Res<_>>()?;
        let flac_cache = Cache::open(&dir.join("flac-cache")).map_err(|e| e.to_string())?;
        let wav_cache = Cache::open(&dir.join("wav-cache")).map_err(|e| e.to_string())?;
        let mut items = Vec::with_capacity(clips);
        for i in 0..clips {
            // Distinct keys, spread over the cache's folders like content keys.
            let key = format!(
                "{:016x}{:048x}",
                (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
                i
            );
            let clip = &speech[i % speech.len()];
            flac_cache.put(&key, clip).map_err(|e| e.to_string())?;
            write_wav_clip(&wav_cache.clip_path(&key).with_extension("wav"), clip)?;
            items.push(StitchItem {
                source: StitchSource::Clip(key),
                ends_paragraph: i % 10 == 9,
            });
        }
        Ok(Bench {
            dir: dir.to_path_buf(),
            items,
            flac_cache,
            wav_cache,
            has_flac: Command::new("flac")
                .arg("--version")
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
        })
    }

    fn layout(&self, audio: &Audio) -> Res<Layout> {
        let edges =
            measure_edges(&self.flac_cache, audio, &self.items).map_err(|e| e.to_string())?;
        Ok(lay_out(audio, &self.items, &edges))
    }

    fn paths(&self, cache: &Cache) -> Vec<PathBuf> {
        self.items
            .iter()
            .filter_map(|item| match &item.source {
                StitchSource::Clip(key) => Some(cache.clip_path(key)),
                StitchSource::Silence { .. } => None,
            })
            .collect()
    }

    fn cache_bytes(&self, cache: &Cache) -> u64 {
        self.paths(cache)
            .iter()
            .map(|p| fs::metadata(p).map_or(0, |m| m.len()))
            .sum()
    }

    /// The clip files, NUL-separated, for `xargs -0`.
    fn list(&self, cache: &Cache, name: &str) -> Res<PathBuf> {
        let path = self.dir.join(format!("{name}.list"));
        let mut bytes = Vec::new();
        for p in self.paths(cache) {
            bytes.extend_from_slice(p.as_os_str().as_encoded_bytes());
            bytes.push(0);
        }
        fs::write(&path, bytes).map_err(|e| e.to_string())?;
        Ok(path)
    }

    /// Our chapter file's data must be the clips' samples one after
    /// another, read from both caches, and equal `flac -d`'s output.
    fn verify_same_bytes(&self, layout: &Layout) -> Res<()> {
        let mut expected = Vec::new();
        for path in self.paths(&self.wav_cache) {
            expected.extend_from_slice(wav_data(&fs::read(&path).map_err(|e| e.to_string())?)?);
        }
        for (name, cache) in [("wav", &self.wav_cache), ("flac", &self.flac_cache)] {
            let out = self.dir.join("check.wav");
            stitch(cache, &self.items, layout, &out, true)?;
            let ours = fs::read(&out).map_err(|e| e.to_string())?;
            if wav_data(&ours)? != expected.as_slice() {
                return Err(format!(
                    "stitched from the {name} cache: not the clips' bytes"
                ));
            }
            fs::remove_file(&out).map_err(|e| e.to_string())?;
        }
        if self.has_flac {
            let list = self.list(&self.flac_cache, "flac")?;
            let raw = Command::new("sh")
                .arg("-c")
                .arg("xargs -0 flac -d -s -c --force-raw-format --endian=little --sign=signed < \"$1\"")
                .arg("sh")
                .arg(&list)
                .output()
                .map_err(|e| e.to_string())?;
            if !raw.status.success() || raw.stdout != expected {
                return Err("flac -d of the FLAC clips differs from the WAV clips".into());
            }
        }
        println!(
            "checked: the stitched data equals the clips' bytes (own WAV parser; libFLAC's flac -d)"
        );
        Ok(())
    }

    fn cell(
        &self,
        name: &str,
        layout: &Layout,
        cache_name: &str,
        cache: &Cache,
        durable: bool,
        rounds: usize,
    ) -> Res<()> {
        let list = self.list(cache, cache_name)?;
        let out = self.dir.join("out.wav");
        let cat_out = self.dir.join("out.cat");
        let flac_out = self.dir.join("out.raw");
        // `cat` removes its file (ours drops its unfinished file) or syncs it.
        let cat_script = if durable {
            "xargs -0 cat < \"$1\" > \"$2\" && sync \"$2\""
        } else {
            "xargs -0 cat < \"$1\" > \"$2\" && rm \"$2\""
        };
        let flac_script = if durable {
            "xargs -0 flac -d -s -c --force-raw-format --endian=little --sign=signed < \"$1\" > \"$2\" && sync \"$2\""
        } else {
            "xargs -0 flac -d -s -c --force-raw-format --endian=little --sign=signed < \"$1\" > \"$2\" && rm \"$2\""
        };
        let shell = |script: &str, target: &Path| -> Res<f64> {
            let _ = fs::remove_file(target);
            let start = Instant::now();
            let status = Command::new("sh")
                .arg("-c")
                .arg(script)
                .arg("sh")
                .arg(&list)
                .arg(target)
                .status()
                .map_err(|e| e.to_string())?;
            let secs = start.elapsed().as_secs_f64();
            if !status.success() {
                return Err(format!("`{script}` failed"));
            }
            let _ = fs::remove_file(target);
            Ok(secs)
        };
        let ours = || -> Res<f64> {
            let start = Instant::now();
            stitch(cache, &self.items, layout, &out, durable)?;
            let secs = start.elapsed().as_secs_f64();
            let _ = fs::remove_file(&out);
            Ok(secs)
        };
        // One round unmeasured: the same files in the page cache for all.
        ours()?;
        shell(cat_script, &cat_out)?;
        let (mut t_ours, mut t_cat, mut t_flac, mut ratio) = (vec![], vec![], vec![], vec![]);
        for round in 0..rounds {
            let (o, c) = if round % 2 == 0 {
                let o = ours()?;
                (o, shell(cat_script, &cat_out)?)
            } else {
                let c = shell(cat_script, &cat_out)?;
                (ours()?, c)
            };
            if cache_name == "flac" && self.has_flac {
                t_flac.push(shell(flac_script, &flac_out)?);
            }
            t_ours.push(o);
            t_cat.push(c);
            ratio.push(c / o);
        }
        let flac = if t_flac.is_empty() {
            String::new()
        } else {
            min_med(&mut t_flac, 3)
        };
        println!(
            "{:<10} {:<5} {:<10} {:>16} {:>16} {:>16} {:>17}",
            name,
            cache_name,
            if durable { "fsynced" } else { "page cache" },
            min_med(&mut t_ours, 3),
            min_med(&mut t_cat, 3),
            min_med(&mut ratio, 2),
            flac
        );
        Ok(())
    }
}

/// The chapter through the stitcher into delivery's WAV writer; committed
/// (fsync, rename, directory fsync) when `durable`, else dropped unfinished
/// (its temporary file removed).
fn stitch(
    cache: &Cache,
    items: &[StitchItem],
    layout: &Layout,
    out: &Path,
    durable: bool,
) -> Res<()> {
    let mut stream = ChapterStream::new(cache, items, layout, RATE);
    let mut encoder = Box::new(
        WavEncoder::create(out, RATE, layout.audio.samples, PcmFormat::MAX_WAV_SAMPLES)
            .map_err(|e| e.to_string())?,
    );
    let mut block = vec![0i16; BLOCK_SAMPLES];
    loop {
        let n = stream.read(&mut block).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        encoder.write(&block[..n]).map_err(|e| e.to_string())?;
    }
    if durable {
        encoder.finish().map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A clip as versions before the FLAC cache wrote it: a canonical WAV.
fn write_wav_clip(path: &Path, clip: &Clip) -> Res<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    let format = PcmFormat::new(clip.sample_rate);
    let mut bytes = format.wav_header(clip.samples.len() as u64).to_vec();
    PcmFormat::samples_to_le(&clip.samples, &mut bytes);
    let mut file = fs::File::create(path).map_err(|e| e.to_string())?;
    file.write_all(&bytes).map_err(|e| e.to_string())
}

/// The data chunk of a WAV file, found by walking its chunks.
fn wav_data(bytes: &[u8]) -> Res<&[u8]> {
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err("not a RIFF WAVE file".into());
    }
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let size = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
            as usize;
        let body = at + 8;
        if id == b"data" {
            return bytes
                .get(body..body + size)
                .ok_or_else(|| "the data chunk is cut short".to_string());
        }
        at = body + size + size % 2;
    }
    Err("no data chunk".into())
}

fn min_med(values: &mut [f64], decimals: usize) -> String {
    values.sort_by(f64::total_cmp);
    let median = values[values.len() / 2];
    format!("{:.*} / {:.*}", decimals, values[0], decimals, median)
}

fn load() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
