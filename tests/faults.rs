//! Faults a cron run meets, against the real binary and the in-process
//! simulator: SIGKILL at random moments, a disk that fills up, a state
//! database deleted or unreadable between runs, and `status` asked while a
//! render is going on. What is finished is never lost and never requested
//! again; what the simulator served is counted in its log, never guessed.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use audiobook::cache::Cache;
use audiobook::sim::Outcome;
use audiobook::store::{SegmentRow, SegmentState, Store};

use crate::util::{
    Cloud, Sim, TOKEN, Workspace, cloud_job, manuscript, render_cloud, stderr, stdout,
};

/// Runs `f` on the workspace's database, opened as it is (never created).
fn with_store<T>(db: &Path, f: impl AsyncFnOnce(&Store) -> T) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = Store::open_existing(db)
            .await
            .unwrap_or_else(|e| panic!("opening {}: {e}", db.display()));
        let out = f(&store).await;
        store.close().await;
        out
    })
}

/// Every segment of the one job in the database, in book order.
fn segments(db: &Path) -> Vec<SegmentRow> {
    with_store(db, async |store| {
        let jobs = store.jobs().await.expect("jobs");
        assert_eq!(jobs.len(), 1, "one job in {}", db.display());
        store.segments(jobs[0].id).await.expect("segments")
    })
}

fn integrity(db: &Path) -> String {
    with_store(db, async |store| {
        store.integrity_check().await.expect("check")
    })
}

/// A clip file's content key: its name without `.wav`.
fn key_of(clip: &Path) -> String {
    clip.file_stem().unwrap().to_string_lossy().into_owned()
}

/// A cloud job (Volcengine over HTTP) for `text` in a fresh workspace.
fn cloud_workspace(sim: &Sim, text: &str, render: &str) -> Workspace {
    let ws = Workspace::new();
    ws.write("book.md", text);
    cloud_job(&ws, sim, Cloud::Volcengine, "http", None, render);
    ws
}

/// The same job rendered without interruption, against its own simulator
/// with the same settings: the output every faulty run must reproduce.
fn reference_output(sim_settings: &str, text: &str, render: &str) -> Vec<(String, Vec<u8>)> {
    let sim = Sim::start(sim_settings);
    let ws = cloud_workspace(&sim, text, render);
    let out = render_cloud(&ws, TOKEN);
    assert_eq!(out.status.code(), Some(0), "reference: {}", stderr(&out));
    ws.output_files()
}

fn spawn_render(ws: &Workspace) -> Child {
    ws.command()
        .args(["render", "job.toml"])
        .env("TEST_TTS_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn audiobook")
}

#[test]
fn a_storm_of_kills_loses_nothing_and_requests_no_stored_clip_again() {
    const KILLS: usize = 12;
    const CONCURRENCY: usize = 4;
    let settings = "latency_ms = 20\n";
    let render = format!("concurrency = {CONCURRENCY}\nmax_attempts = 4");
    let text = manuscript(6, 100);
    let reference = reference_output(settings, &text, &render);

    let sim = Sim::start(settings);
    let ws = cloud_workspace(&sim, &text, &render);
    let mut rng = fastrand::Rng::with_seed(0x5eed_b00c);
    // Content key -> when its clip was first seen stored, after a kill.
    let mut stored_at: HashMap<String, Instant> = HashMap::new();
    let mut orphans_seen = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    for kill in 1..=KILLS {
        let after = Duration::from_millis(rng.u64(100..600));
        let new_clips = rng.usize(3..40);
        let before = ws.clips().len();
        let mut child = spawn_render(&ws);
        let spawned = Instant::now();
        while spawned.elapsed() < after && ws.clips().len() < before + new_clips {
            assert!(Instant::now() < deadline, "the kill storm took too long");
            if let Some(status) = child.try_wait().unwrap() {
                panic!("render {kill} ended by itself ({status}) before its kill");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        let now = Instant::now();
        for clip in ws.clips() {
            stored_at.entry(key_of(&clip)).or_insert(now);
        }
        orphans_seen += temp_files(&ws).len();
    }
    let stored_at_last_kill = stored_at.len();

    let out = render_cloud(&ws, TOKEN);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let db = ws.path().join("state.db");
    let rows = segments(&db);
    assert!(
        stored_at_last_kill < rows.len(),
        "every clip was stored before the last kill: the storm tested nothing"
    );
    let key_of_text: HashMap<&str, &str> = rows
        .iter()
        .map(|r| (r.text.as_str(), r.content_key.as_str()))
        .collect();
    let entries = sim.entries();
    let mut rerequests = Vec::new();
    let mut ok_by_text: HashMap<&str, usize> = HashMap::new();
    for entry in &entries {
        let key = key_of_text
            .get(entry.text.as_str())
            .unwrap_or_else(|| panic!("a request for text not in the plan: {:?}", entry.text));
        if stored_at.get(*key).is_some_and(|at| entry.started > *at) {
            rerequests.push(entry.text.clone());
        }
        if entry.outcome == Outcome::Ok {
            *ok_by_text.entry(entry.text.as_str()).or_insert(0) += 1;
        }
    }
    let extra: usize = ok_by_text.values().map(|n| n - 1).sum();
    // At a kill, a clip can be lost while its request is in flight (at most
    // the window, CONCURRENCY) or after its answer while its task is still
    // writing it to the cache (the scheduler bounds live tasks to
    // 2 x CONCURRENCY + 4, so at most CONCURRENCY + 4 of those): under load,
    // when writes lag, both happen at once.
    let bound = (2 * CONCURRENCY + 4) * KILLS;
    eprintln!(
        "kill storm: {KILLS} kills survived, {} segments, {} clips stored at the kills, {} requests, \
         {} re-requests of stored clips, {extra} extra successful syntheses (bound {bound})",
        rows.len(),
        stored_at_last_kill,
        entries.len(),
        rerequests.len()
    );
    assert!(
        rerequests.is_empty(),
        "clips already stored were requested again: {rerequests:?}"
    );
    assert_eq!(
        ok_by_text.len(),
        key_of_text.len(),
        "every segment was rendered"
    );
    assert!(
        extra <= bound,
        "{extra} extra syntheses, more than the {bound} that can be in flight or being written at the kills"
    );
    assert_eq!(
        ws.output_files(),
        reference,
        "output differs from an uninterrupted render"
    );
    assert_eq!(integrity(&db), "ok");
    eprintln!("kill storm: {orphans_seen} half-written clips seen after the kills");
    assert_eq!(
        temp_files(&ws),
        Vec::<PathBuf>::new(),
        "half-written clips of killed runs were left in the cache"
    );
}

/// Temporary files in the cache's shard folders.
fn temp_files(ws: &Workspace) -> Vec<PathBuf> {
    let Ok(shards) = std::fs::read_dir(ws.path().join("cache").join("clips")) else {
        return Vec::new();
    };
    shards
        .flatten()
        .filter_map(|shard| std::fs::read_dir(shard.path()).ok())
        .flat_map(|files| files.flatten().map(|f| f.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "tmp"))
        .collect()
}

/// A tmpfs mounted for the life of the value, unmounted (lazily, so a file
/// still open cannot keep it) even when the test panics.
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(path).expect("mount point");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this test needs to mount a small tmpfs (root, or CAP_SYS_ADMIN) to fill a disk, \
             and `mount -t tmpfs` failed: {}",
            stderr(&out)
        );
        Tmpfs {
            path: path.to_path_buf(),
        }
    }

    fn resize(&self, size: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.path)
            .output()
            .expect("run mount");
        assert!(out.status.success(), "remount: {}", stderr(&out));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Every clip the database records as done verifies against its checksum.
fn assert_done_clips_verify(ws: &Workspace) -> usize {
    let cache = Cache::open(&ws.path().join("cache")).expect("cache");
    let mut done = 0;
    for row in segments(&ws.path().join("state.db")) {
        if row.state == SegmentState::Done {
            let sha = row.sha256.as_deref().expect("a done segment has a clip");
            assert!(
                cache.verify(&row.content_key, sha).unwrap(),
                "a finished clip was lost or damaged: {:?}",
                row.text
            );
            done += 1;
        }
    }
    done
}

#[test]
fn a_full_disk_stops_the_run_with_a_clear_error_and_loses_nothing() {
    // Long enough that requests are still out when the first clip cannot
    // be written: the run lets them be answered rather than tear them.
    let settings = "latency_ms = 150\n";
    let render = "concurrency = 4";
    // About 15 KB a clip (FLAC): 160 KB holds a handful of the 30.
    let text = manuscript(1, 29);
    let reference = reference_output(settings, &text, render);

    let sim = Sim::start(settings);
    let ws = cloud_workspace(&sim, &text, render);
    let cache = ws.path().join("cache");
    let tmpfs = Tmpfs::mount(&cache, "160k");
    let out = render_cloud(&ws, TOKEN);
    // The run let every request it had sent be answered before it exited:
    // each one the simulator admitted is in its log (it records a request
    // before answering it; one torn by a client that left is not). So the
    // count of requests taken below is exact: none of this run's answers
    // can be recorded after it, however loaded the machine.
    assert_eq!(
        sim.admitted(),
        sim.entries().len(),
        "requests in flight were torn when the run stopped"
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&cache.display().to_string()), "no path: {err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("the disk is full"), "{err}");
    assert!(err.contains("finished segments are kept"), "{err}");
    let kept = assert_done_clips_verify(&ws);
    assert!(
        kept > 0 && kept < 30,
        "{kept} of 30 clips stored before the disk filled"
    );
    let clips_before = clip_bytes(&ws);
    let requests_before = sim.entries().len();

    tmpfs.resize("64m");
    let out = render_cloud(&ws, TOKEN);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let later = &sim.entries()[requests_before..];
    for (clip, bytes) in &clips_before {
        assert_eq!(
            &std::fs::read(clip).unwrap(),
            bytes,
            "{} changed",
            clip.display()
        );
    }
    let ok_after: usize = later.iter().filter(|e| e.outcome == Outcome::Ok).count();
    eprintln!(
        "disk full: {kept} clips kept at the failure, {} on disk, {ok_after} synthesized on resume",
        clips_before.len()
    );
    assert_eq!(
        ok_after,
        30 - clips_before.len(),
        "the resumed run synthesized exactly the clips that were not on disk"
    );
    assert_eq!(ws.output_files(), reference);
    assert_eq!(integrity(&ws.path().join("state.db")), "ok");
}

/// Every clip file in the cache with its bytes.
fn clip_bytes(ws: &Workspace) -> BTreeMap<PathBuf, Vec<u8>> {
    ws.clips()
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect()
}

/// The outputs and the clip cache, byte for byte.
#[derive(Debug, PartialEq)]
struct Snapshot {
    outputs: Vec<(String, Vec<u8>)>,
    clips: BTreeMap<PathBuf, Vec<u8>>,
}

fn snapshot(ws: &Workspace) -> Snapshot {
    Snapshot {
        outputs: ws.output_files(),
        clips: clip_bytes(ws),
    }
}

fn remove_db(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(PathBuf::from(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => panic!("{e}"),
            _ => {}
        }
    }
}

#[test]
fn a_deleted_database_is_started_again_and_the_cache_is_reused() {
    let sim = Sim::start("");
    let ws = cloud_workspace(&sim, &manuscript(2, 10), "concurrency = 3");
    let out = render_cloud(&ws, TOKEN);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let segments_total = sim.entries().len();
    assert_eq!(segments_total, 22);
    let before = snapshot(&ws);

    let db = ws.path().join("state.db");
    remove_db(&db);
    let out = render_cloud(&ws, TOKEN);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (err, said) = (stderr(&out), stdout(&out));
    assert!(err.contains("no state database at"), "{err}");
    assert!(err.contains(&db.display().to_string()), "{err}");
    assert!(err.contains("starting a new one"), "{err}");
    assert!(
        said.contains(
            "the state database was new: 22 segment(s) already in the cache were reused, 0 synthesized"
        ),
        "{said}"
    );
    assert_eq!(
        sim.entries().len(),
        segments_total,
        "a synthesis request was made for a clip already in the cache"
    );
    assert_eq!(snapshot(&ws), before, "outputs or clips changed");
    assert_eq!(integrity(&db), "ok");
}

#[test]
fn an_unreadable_database_is_an_error_that_changes_nothing() {
    let sim = Sim::start("");
    let ws = cloud_workspace(&sim, &manuscript(1, 8), "concurrency = 2");
    let out = render_cloud(&ws, TOKEN);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let requests = sim.entries().len();
    let before = snapshot(&ws);
    let db = ws.path().join("state.db");
    remove_db(&db);

    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 13) as u8).collect();
    std::fs::write(&db, &garbage).unwrap();
    let out = render_cloud(&ws, TOKEN);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("cannot read the state database {}", db.display())),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(err.contains("move it aside"), "{err}");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        garbage,
        "the database file was changed"
    );
    let status = ws.run(&["status"]);
    assert_ne!(status.status.code(), Some(0));
    assert!(
        stderr(&status).contains(&db.display().to_string()),
        "{}",
        stderr(&status)
    );

    std::fs::remove_file(&db).unwrap();
    std::fs::create_dir(&db).unwrap();
    let out = render_cloud(&ws, TOKEN);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("the state database {} is a folder", db.display())),
        "{err}"
    );
    assert!(db.is_dir());

    assert_eq!(sim.entries().len(), requests, "a request was made");
    assert_eq!(snapshot(&ws), before, "outputs or clips changed");
}

/// `status --json`, one line per job: the line of our one job.
fn status_json(ws: &Workspace) -> serde_json::Value {
    let out = ws.run(&["status", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "status failed: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).is_empty(),
        "status complained: {}",
        stderr(&out)
    );
    serde_json::from_str(stdout(&out).trim()).expect("one json line")
}

#[test]
fn status_while_rendering_shows_progress_and_an_eta_then_the_outcome() {
    let sim = Sim::start("latency_ms = 120\n");
    let ws = cloud_workspace(&sim, &manuscript(1, 39), "concurrency = 2");
    let mut child = spawn_render(&ws);
    let deadline = Instant::now() + Duration::from_secs(30);
    let running = loop {
        assert!(
            Instant::now() < deadline,
            "status never showed the run going"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the render ended too soon"
        );
        // `status` answers at every moment of the render, exit 0 and nothing
        // on stderr (`status_json` asserts it): before the database exists,
        // while the render creates it and before it has recorded its plan,
        // with one object that says there is no job yet (no `last_run`);
        // then with the job's line. Wait for that line to have an estimate.
        let status = status_json(&ws);
        if status["last_run"]["progress"]["eta_secs"].is_number() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let text = stdout(&ws.run(&["status"]));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the render ended too soon"
    );
    assert_eq!(running["running"], true, "{running}");
    let run = &running["last_run"];
    assert_eq!(run["outcome"], "running", "{running}");
    assert_eq!(run["alive"], true);
    assert_eq!(run["pid"], child.id());
    // Local time with its offset (RFC 3339), as `--until` reads times.
    let started = run["started_at"].as_str().unwrap();
    let offset = &started[started.len() - 6..];
    assert!(
        offset.starts_with(['+', '-']) && offset.as_bytes()[3] == b':',
        "{started}"
    );
    assert!(run["finished_at"].is_null());
    let counts = &running["counts"];
    assert!(counts["done"].as_u64().unwrap() > 0, "{running}");
    assert!(counts["pending"].as_u64().unwrap() + counts["in_flight"].as_u64().unwrap() > 0);
    assert!(counts["chars_done"].as_u64().unwrap() > 0);
    let window = run["window"]
        .as_u64()
        .expect("the window is shown while running");
    assert!(window >= 1, "{running}");
    assert!(text.contains("concurrency window"), "{text}");
    let eta = run["progress"]["eta_secs"].as_f64().unwrap();
    assert!(
        eta > 0.0 && eta < 60.0,
        "eta {eta}s for a job of a few seconds"
    );
    assert!(
        text.contains(&format!(
            "running since {} {offset}",
            started[..19].replace('T', " ")
        )),
        "{text}"
    );
    assert!(text.contains("left"), "{text}");

    child.kill().unwrap();
    child.wait().unwrap();
    let killed = status_json(&ws);
    assert_eq!(killed["running"], false, "{killed}");
    assert_eq!(killed["last_run"]["outcome"], "killed", "{killed}");
    assert!(killed["last_run"]["progress"].is_null());
    let text = stdout(&ws.run(&["status"]));
    assert!(text.contains("killed"), "{text}");

    let out = render_cloud(&ws, TOKEN);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let done = status_json(&ws);
    assert_eq!(done["running"], false);
    assert_eq!(done["last_run"]["outcome"], "complete", "{done}");
    assert!(done["last_run"]["finished_at"].is_string());
    assert_eq!(done["counts"]["pending"], 0);
    assert_eq!(done["counts"]["chars_done"], done["counts"]["chars_total"]);
    let text = stdout(&ws.run(&["status"]));
    assert!(text.contains("last run: complete"), "{text}");
}

/// `status --watch` beside a render prints the status again every interval
/// while the render runs, and ends once it has ended.
#[test]
fn status_watch_repeats_while_a_render_runs_and_ends_with_it() {
    // Long enough that the render cannot end by itself during the test; it
    // is stopped with SIGTERM once the watch has printed twice.
    let sim = Sim::start("latency_ms = 500\n");
    let ws = cloud_workspace(&sim, &manuscript(1, 200), "concurrency = 1");
    let render = spawn_render(&ws);
    let limit = Instant::now() + Duration::from_secs(120);
    while status_json(&ws)["running"] != true {
        assert!(Instant::now() < limit, "status never showed the render");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut watch = ws
        .command()
        .args(["status", "--watch", "--json", "--interval", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn status --watch");
    let (rx, reader) = crate::util::lines_of(watch.stdout.take().unwrap());
    let mut lines: Vec<serde_json::Value> = Vec::new();
    while lines.len() < 2 {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("status --watch printed nothing more");
        let status: serde_json::Value = serde_json::from_str(&line).expect("a json line");
        assert_eq!(status["running"], true, "{status}");
        lines.push(status);
    }
    let stopped = crate::util::terminate(render);
    assert_eq!(stopped.status.code(), Some(130));
    let watched = watch.wait_with_output().expect("status --watch ends");
    reader.join().unwrap();
    lines.extend(
        rx.try_iter()
            .map(|l| serde_json::from_str::<serde_json::Value>(&l).expect("a json line")),
    );
    assert_eq!(watched.status.code(), Some(0), "{}", stderr(&watched));
    let last = lines.last().unwrap();
    assert_eq!(last["running"], false, "{last}");
    assert_eq!(last["last_run"]["outcome"], "interrupted", "{last}");
    assert!(
        lines[..lines.len() - 1]
            .iter()
            .all(|l| l["running"] == true),
        "{lines:?}"
    );
}

/// `render … 2>&1 | head`: once the reader has gone, every write to stdout
/// and stderr fails. The render must still finish (or stop) and release the
/// lock, so the next cron run is not refused with exit 3.
#[test]
fn a_render_piped_into_head_exits_and_releases_the_lock() {
    let sim = Sim::start("latency_ms = 5\n");
    let ws = cloud_workspace(&sim, &manuscript(2, 12), "concurrency = 4");
    let (reader, writer) = std::io::pipe().expect("pipe");
    // `head` reads nothing and exits: the pipe has no reader from the start.
    drop(reader);
    let mut child = ws
        .command()
        .args(["render", "job.toml"])
        .env("TEST_TTS_TOKEN", TOKEN)
        // Plenty to write: every request logged.
        .env("AUDIOBOOK_LOG", "debug")
        .stdout(writer.try_clone().expect("clone pipe"))
        .stderr(writer)
        .spawn()
        .expect("spawn audiobook");
    // A hang is the failure this test exists for; the limit only keeps a
    // broken build from blocking the suite, it measures no speed.
    let limit = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("the render hung with its output pipe closed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "the render finished: {status:?}");
    // The lock is free and the work is done.
    let again = render_cloud(&ws, TOKEN);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("nothing to synthesize"),
        "{}",
        stdout(&again)
    );
}

/// A run killed while stitching leaves its half-written chapter or book
/// file, named with its pid; the next run removes those whose writer is
/// dead, and only those.
#[test]
fn temp_files_of_a_killed_stitch_are_gone_after_the_next_run() {
    let sim = Sim::start("latency_ms = 5\n");
    let ws = cloud_workspace(&sim, &manuscript(2, 6), "concurrency = 4");
    let first = render_cloud(&ws, TOKEN);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    // The pid of a process that has exited: what a killed render leaves.
    let mut gone = Command::new("true").spawn().expect("spawn true");
    let dead = gone.id();
    gone.wait().unwrap();
    let out = ws.out();
    let orphans = [
        out.join(format!(".book.wav.{dead}.0.tmp")),
        out.join(format!(".chapter-002.wav.{dead}.7.tmp")),
        out.join(format!(".manifest.json.{dead}.9.tmp")),
    ];
    for orphan in &orphans {
        std::fs::write(orphan, vec![0u8; 4096]).unwrap();
    }
    // A file being written by a live process (this test) is left alone.
    let live = out.join(format!(".book.wav.{}.1.tmp", std::process::id()));
    std::fs::write(&live, b"in progress").unwrap();

    let next = render_cloud(&ws, TOKEN);
    assert_eq!(next.status.code(), Some(0), "{}", stderr(&next));
    for orphan in &orphans {
        assert!(!orphan.exists(), "{} was left", orphan.display());
    }
    assert!(live.exists(), "a live writer's file was removed");
}
