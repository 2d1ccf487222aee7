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
    let bound = CONCURRENCY * KILLS;
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
        "{extra} extra syntheses, more than the {bound} that can be in flight at the kills"
    );
    assert_eq!(
        ws.output_files(),
        reference,
        "output differs from an uninterrupted render"
    );
    assert_eq!(integrity(&db), "ok");
}
