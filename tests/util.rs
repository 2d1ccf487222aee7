//! Shared helpers: a temporary workspace with a job file, a manuscript, a
//! database and a cache, and ways to run the real binary in it; the cloud
//! simulator running in this process, and job files pointed at it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use audiobook::sim::{self, Outcome, SimConfig, SimHandle};

pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Workspace {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, contents).expect("write");
        path
    }

    /// A job file `job.toml` for `book.md`, output in `out/`, with extra TOML
    /// lines appended to the tables given.
    pub fn job(&self, manuscript: &str, extra_render: &str) -> PathBuf {
        self.write("book.md", manuscript);
        self.write(
            "job.toml",
            format!(
                "[book]\ntitle = \"Test Book\"\nlanguage = \"mixed\"\n\n\
                 [manuscript]\nfiles = [\"book.md\"]\n\n\
                 [audio]\nsample_rate = 16000\nsentence_gap_ms = 100\nparagraph_gap_ms = 300\n\
                 chapter_head_ms = 500\nchapter_trailing_ms = 1000\n\n\
                 [render]\n{extra_render}\n\n\
                 [output]\ndir = \"out\"\n{WAV_BOTH}"
            ),
        )
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_audiobook"));
        cmd.current_dir(self.path())
            .env("AUDIOBOOK_DB", self.path().join("state.db"))
            .env("AUDIOBOOK_CACHE", self.path().join("cache"))
            .env_remove("AUDIOBOOK_LOG")
            .stdin(std::process::Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run audiobook")
    }

    pub fn out(&self) -> PathBuf {
        self.path().join("out")
    }

    pub fn report(&self) -> serde_json::Value {
        read_json(&self.out().join("report.json"))
    }

    pub fn manifest(&self) -> serde_json::Value {
        read_json(&self.out().join("manifest.json"))
    }

    /// Starts `render job.toml` in the background (stdout piped, stderr
    /// dropped) and returns once at least `clips` clips are in the cache,
    /// with the render still running.
    pub fn render_until_clips(&self, clips: usize) -> std::process::Child {
        let mut child = self
            .command()
            .args(["render", "job.toml"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn audiobook");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while self.clips().len() < clips {
            assert!(
                std::time::Instant::now() < deadline,
                "render made no progress"
            );
            assert!(
                child.try_wait().expect("wait").is_none(),
                "render ended before {clips} clips were stored: make the job bigger"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child
    }

    /// Every clip file in the cache.
    pub fn clips(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let root = self.path().join("cache").join("clips");
        let Ok(dirs) = std::fs::read_dir(&root) else {
            return found;
        };
        for dir in dirs.flatten() {
            if let Ok(files) = std::fs::read_dir(dir.path()) {
                found.extend(
                    files
                        .flatten()
                        .map(|f| f.path())
                        .filter(|p| p.extension().is_some_and(|e| e == "flac" || e == "wav")),
                );
            }
        }
        found.sort();
        found
    }

    /// Names and bytes of every output file that must be reproducible.
    pub fn output_files(&self) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(self.out())
            .expect("out dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.ends_with(".wav") || name == "manifest.json"
            })
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).expect("read output"),
                )
            })
            .collect();
        files.sort();
        files
    }
}

/// Sends SIGTERM to a render and waits for it to stop; its output.
pub fn terminate(child: std::process::Child) -> Output {
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(term.success());
    child.wait_with_output().expect("wait for the render")
}

/// The test jobs deliver WAV per chapter and for the book, so the tests
/// of stitching can read samples back exactly.
pub const WAV_BOTH: &str = "formats = [\"wav\"]\nsplit = \"both\"\n";

/// A child's output stream line by line, read on a thread of its own, so a
/// test can wait for a line while the child runs. The thread ends at EOF.
pub fn lines_of(
    stream: impl std::io::Read + Send + 'static,
) -> (
    std::sync::mpsc::Receiver<String>,
    std::thread::JoinHandle<()>,
) {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stream)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    (rx, reader)
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid json")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A manuscript of `chapters` chapters with `sentences` distinct sentences
/// each, in paragraphs of three.
pub fn manuscript(chapters: usize, sentences: usize) -> String {
    let mut text = String::new();
    for c in 1..=chapters {
        text.push_str(&format!("# Chapter {c}\n\n"));
        for s in 1..=sentences {
            text.push_str(&format!(
                "This is sentence {s} of chapter {c}, and it is short. "
            ));
            if s % 3 == 0 {
                text.push_str("\n\n");
            }
        }
        text.push_str("\n\n");
    }
    text
}

/// The delivered WAV file of chapter `n` (from 1), or of the whole book
/// (`None`), in the delivery folder `dir`, as its manifest names it.
pub fn delivered_wav(dir: &Path, chapter: Option<usize>) -> PathBuf {
    let manifest = read_json(&dir.join("manifest.json"));
    let files = match chapter {
        Some(n) => &manifest["chapters"][n - 1]["files"],
        None => &manifest["book_files"],
    };
    let name = files
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str())
        .find(|f| f.ends_with(".wav"))
        .unwrap_or_else(|| panic!("no wav delivered for {chapter:?} in {manifest}"));
    dir.join(name)
}

/// Reads a WAV file's samples.
pub fn wav_samples(path: &Path) -> (hound::WavSpec, Vec<i16>) {
    let mut reader =
        hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = reader.spec();
    let samples = reader
        .samples::<i16>()
        .map(|s| s.expect("sample"))
        .collect();
    (spec, samples)
}

pub const TOKEN: &str = "sk-audiobook-SECRET-7f3a9c";
pub const COZE_VOICE: &str = "7426720361733046281";
pub const VOLC_VOICE: &str = "BV001_streaming";

/// The simulator on its own runtime, so tests can run the binary plainly.
pub struct Sim {
    pub handle: SimHandle,
    _runtime: tokio::runtime::Runtime,
}

impl Sim {
    pub fn start(config_toml: &str) -> Sim {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let mut config = SimConfig::from_toml(config_toml).expect("sim config");
        config.tokens = vec![TOKEN.to_string()];
        config.tone = true;
        let handle = runtime
            .block_on(sim::start(config, "127.0.0.1:0".parse().unwrap()))
            .expect("start simulator");
        Sim {
            handle,
            _runtime: runtime,
        }
    }

    pub fn entries(&self) -> Vec<sim::LogEntry> {
        self.handle.log.entries()
    }

    /// Syntheses admitted so far (see [`sim::SimHandle::admitted`]).
    pub fn admitted(&self) -> usize {
        self.handle.admitted()
    }

    /// How many times each text was answered with audio.
    pub fn ok_by_text(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for e in self
            .entries()
            .into_iter()
            .filter(|e| e.outcome == Outcome::Ok)
        {
            *counts.entry(e.text).or_insert(0) += 1;
        }
        counts
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Cloud {
    Coze,
    Volcengine,
}

/// A job for `provider` over `transport`, pointed at the simulator.
pub fn cloud_job(
    ws: &Workspace,
    sim: &Sim,
    cloud: Cloud,
    transport: &str,
    voice: Option<&str>,
    render: &str,
) {
    let base = sim.handle.base_url();
    let voice_section = match cloud {
        Cloud::Coze => format!(
            "[voice]\nprovider = \"coze\"\ntransport = \"{transport}\"\nvoice = \"{}\"\n\n\
             [voice.coze]\nbase_url = \"{base}\"\ntoken_env = \"TEST_TTS_TOKEN\"\n",
            voice.unwrap_or(COZE_VOICE)
        ),
        Cloud::Volcengine => format!(
            "[voice]\nprovider = \"volcengine\"\ntransport = \"{transport}\"\nvoice = \"{}\"\n\n\
             [voice.volcengine]\nbase_url = \"{base}\"\nappid = \"1234567\"\ntoken_env = \"TEST_TTS_TOKEN\"\n",
            voice.unwrap_or(VOLC_VOICE)
        ),
    };
    ws.write(
        "job.toml",
        format!(
            "[book]\ntitle = \"Cloud Book\"\nlanguage = \"en\"\n\n\
             [manuscript]\nfiles = [\"book.md\"]\n\n{voice_section}\n\
             [audio]\nsample_rate = 16000\nsentence_gap_ms = 100\nparagraph_gap_ms = 300\n\
             chapter_head_ms = 500\nchapter_trailing_ms = 1000\n\n\
             [render]\n{render}\n\n[output]\ndir = \"out\"\n{WAV_BOTH}"
        ),
    );
}

pub fn render_cloud(ws: &Workspace, token: &str) -> std::process::Output {
    ws.command()
        .args(["render", "job.toml"])
        .env("TEST_TTS_TOKEN", token)
        .output()
        .expect("run audiobook")
}

/// Asserts that no file under `root` holds `secret` in any byte, and
/// returns how many files were read.
pub fn assert_no_file_contains(root: &Path, secret: &str) -> usize {
    let mut files = vec![root.to_path_buf()];
    let mut checked = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(
                std::fs::read_dir(&path)
                    .expect("dir")
                    .flatten()
                    .map(|e| e.path()),
            );
        } else {
            let bytes = std::fs::read(&path).expect("file");
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "the secret is in {}", path.display());
            checked += 1;
        }
    }
    checked
}
