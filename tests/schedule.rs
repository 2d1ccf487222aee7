//! The scheduler through the real renderer, SQLite and cache, with a
//! provider stand-in that enforces a quota the client is not told and
//! answers after a fixed latency: a refused probe returns the window to its
//! safe level, and a segment waiting out a backoff holds no place (the others
//! proceed), and after the deadline a retry waiting in the delay queue goes
//! back to pending instead of out. The assertions are about order and
//! levels, never speed. (Real
//! time: paused time would fire the database pool's timeouts while SQLite
//! works on its own thread. The window's rules alone are tested step by step
//! in `pacing`.) The real clients meet the same rules in the simulator tests.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use audiobook::cache::Cache;
use audiobook::pacing::Window;
use audiobook::provider::{Clip, ErrorClass, ProviderError, SynthRequest, Synthesizer};
use audiobook::render::{JobReport, Outcome, Renderer};
use audiobook::store::{SegmentRow, SegmentState, Store};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::util::Workspace;

/// A service with a concurrency quota and a latency, recording each request.
struct Service {
    quota: usize,
    latency: Duration,
    window: Arc<Window>,
    state: Mutex<ServiceState>,
    /// Texts containing this answer "busy, retry in `busy_retry_after`"
    /// the first time.
    busy_once: Option<&'static str>,
    busy_retry_after: Duration,
    /// Texts containing the needle are answered only once a file whose
    /// name starts with the prefix is in the folder (or after a minute);
    /// whether it was there goes into `ServiceState::saw_file`.
    wait_for_file: Option<(&'static str, std::path::PathBuf, &'static str)>,
}

#[derive(Default)]
struct ServiceState {
    in_flight: usize,
    /// (text, sent at, the client's window when it arrived, refused?)
    log: Vec<(String, Instant, usize, bool)>,
    busy_sent: bool,
    saw_file: Option<bool>,
}

impl Synthesizer for Service {
    async fn synthesize(&self, request: &SynthRequest) -> Result<Clip, ProviderError> {
        {
            let mut s = self.state.lock().unwrap();
            let refused = s.in_flight >= self.quota;
            let entry = (
                request.text.clone(),
                Instant::now(),
                self.window.limit(),
                refused,
            );
            s.log.push(entry);
            if refused {
                return Err(ProviderError::new(ErrorClass::RateLimit, "over quota").with_code(3003));
            }
            if let Some(needle) = self.busy_once
                && request.text.contains(needle)
                && !s.busy_sent
            {
                s.busy_sent = true;
                return Err(ProviderError::new(ErrorClass::Transient, "busy")
                    .with_code(3005)
                    .with_retry_after(Some(self.busy_retry_after)));
            }
            s.in_flight += 1;
        }
        if let Some((needle, dir, prefix)) = &self.wait_for_file
            && request.text.contains(needle)
        {
            let saw = wait_for_wav(dir, prefix).await;
            self.state.lock().unwrap().saw_file = Some(saw);
        }
        tokio::time::sleep(self.latency).await;
        self.state.lock().unwrap().in_flight -= 1;
        // A 400 Hz square wave at -21 dBFS: speech to the trimmer, which
        // would flag a near-silent clip.
        let samples = (0..1_600)
            .map(|i| if i % 40 < 20 { 3_000 } else { -3_000 })
            .collect();
        Ok(Clip::new(16_000, samples))
    }
}

/// Chapter "One" with sentences 1 to 4, chapter "Two" with 5 to 8.
fn two_chapters() -> String {
    let mut text = String::from("# One\n\n");
    for i in 1..=8 {
        if i == 5 {
            text.push_str("\n\n# Two\n\n");
        }
        text.push_str(&format!("Sentence number {i} is here. "));
    }
    text
}

impl Service {
    /// A window of 1 and no quota to speak of; sentence 8 is answered only
    /// once a WAV file named `prefix…` is in `dir` (or after a minute).
    fn answering_8_after(dir: std::path::PathBuf, prefix: &'static str) -> Arc<Service> {
        Arc::new(Service {
            quota: 100,
            latency: Duration::from_millis(20),
            window: Window::new(1),
            state: Mutex::default(),
            busy_once: None,
            busy_retry_after: Duration::ZERO,
            wait_for_file: Some(("number 8 ", dir, prefix)),
        })
    }
}

/// Waits (up to a minute) for a WAV file whose name starts with `prefix`
/// in `dir`; whether it came.
async fn wait_for_wav(dir: &std::path::Path, prefix: &str) -> bool {
    for _ in 0..600 {
        let found = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.starts_with(prefix) && name.ends_with(".wav")
            });
        if found {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn sentences(n: usize) -> String {
    let mut text = String::from("# One\n\n");
    for i in 1..=n {
        text.push_str(&format!("Sentence number {i} is here. "));
        if i % 10 == 0 {
            text.push_str("\n\n");
        }
    }
    text
}

/// Renders `text` through `service` with ceiling `concurrency`.
async fn render(ws: &Workspace, text: &str, concurrency: usize, service: Arc<Service>) -> Outcome {
    render_until(ws, text, concurrency, service, None)
        .await
        .0
        .outcome
}

/// The same, with a deadline; the report and the segments' rows after it.
async fn render_until(
    ws: &Workspace,
    text: &str,
    concurrency: usize,
    service: Arc<Service>,
    deadline: Option<Instant>,
) -> (JobReport, Vec<SegmentRow>) {
    let cancel = CancellationToken::new();
    render_with(ws, text, concurrency, service, deadline, cancel).await
}

/// The same, stopped when `cancel` is.
async fn render_with(
    ws: &Workspace,
    text: &str,
    concurrency: usize,
    service: Arc<Service>,
    deadline: Option<Instant>,
    cancel: CancellationToken,
) -> (JobReport, Vec<SegmentRow>) {
    let window = Arc::clone(&service.window);
    ws.job(
        text,
        &format!("concurrency = {concurrency}\nmax_attempts = 20"),
    );
    let job = audiobook::job::load(&ws.path().join("job.toml")).expect("valid job");
    let manuscript = audiobook::manuscript::load(&job).expect("manuscript");
    let store = Store::open(&ws.path().join("state.db")).await.expect("db");
    let cache = Arc::new(Cache::open(&ws.path().join("cache")).expect("cache"));
    let renderer =
        Renderer::new(store.clone(), cache, service, window, cancel).with_deadline(deadline);
    let report = renderer
        .render(&audiobook::plan::Plan::new(&job, &manuscript))
        .await
        .expect("render");
    let job_id = store.jobs().await.expect("jobs")[0].id;
    let rows = store.segments(job_id).await.expect("segments");
    store.close().await;
    (report, rows)
}

#[tokio::test]
async fn a_refused_probe_returns_the_window_to_the_safe_level() {
    let ws = Workspace::new();
    let window = Window::new(16);
    let service = Arc::new(Service {
        quota: 4,
        latency: Duration::from_millis(30),
        window: Arc::clone(&window),
        state: Mutex::default(),
        busy_once: None,
        busy_retry_after: Duration::ZERO,
        wait_for_file: None,
    });
    let outcome = render(&ws, &sentences(400), 16, Arc::clone(&service)).await;
    assert_eq!(outcome, Outcome::Complete);
    let log = service.state.lock().unwrap().log.clone();
    let refused: Vec<usize> = (0..log.len()).filter(|&i| log[i].3).collect();
    assert!(!refused.is_empty(), "the quota was never found");
    assert_eq!(window.safe(), Some(4), "the quota of 4 is the safe level");
    // From the first refusal on, the window never fell below the safe level:
    // every refusal after it was a probe at 5, answered by going back to 4.
    let settled = &log[refused[0] + 1..];
    let lowest = settled.iter().map(|e| e.2).min().unwrap();
    assert_eq!(lowest, 4, "a refused probe halved the window");
    assert!(
        settled.iter().all(|e| e.2 <= 5),
        "probes go one step at a time"
    );
    // Probes grow rarer: a handful of refusals in 400 segments.
    assert!(
        refused.len() * 100 < 3 * log.len(),
        "{} of {} requests refused",
        refused.len(),
        log.len()
    );
}

#[tokio::test]
async fn a_segment_in_backoff_holds_no_place_and_the_others_proceed() {
    let ws = Workspace::new();
    let window = Window::new(1);
    let service = Arc::new(Service {
        quota: 100,
        latency: Duration::from_millis(20),
        window,
        state: Mutex::default(),
        busy_once: Some("number 2 "),
        busy_retry_after: Duration::from_secs(1),
        wait_for_file: None,
    });
    // One place in the window: while segment 2 waits 1 s to retry, the
    // other segments go through that place.
    let outcome = render(&ws, &sentences(8), 1, Arc::clone(&service)).await;
    assert_eq!(outcome, Outcome::Complete);
    let log = service.state.lock().unwrap().log.clone();
    let texts: Vec<&str> = log.iter().map(|e| e.0.as_str()).collect();
    let second: Vec<usize> = (0..texts.len())
        .filter(|&i| texts[i].contains("number 2 "))
        .collect();
    assert_eq!(second.len(), 2, "segment 2 was retried once: {texts:?}");
    assert!(
        second[1] > second[0] + 1,
        "nothing was sent while segment 2 waited: {texts:?}"
    );
    assert!(
        texts[second[0] + 1].contains("number 3 "),
        "the next segment went at once: {texts:?}"
    );
    let waited = log[second[1]].1 - log[second[0]].1;
    assert!(
        waited >= Duration::from_secs(1),
        "Retry-After 1 s honoured: {waited:?}"
    );
    assert_eq!(texts.len(), 1 + 8 + 1, "heading, 8 sentences and one retry");
}

/// Regression: after the deadline, a retry already waiting in the delay
/// queue was still sent (once only retries were left, at its floor). It
/// must go back to pending, as on a stop signal: the deadline means no new
/// request. The service asks for 60 s before segment 1 is retried and the
/// deadline falls 2 s in, so whether the other segments finish before the
/// deadline or not, the retry is waiting when it passes.
#[tokio::test]
async fn after_the_deadline_a_waiting_retry_goes_back_to_pending() {
    let ws = Workspace::new();
    let service = Arc::new(Service {
        quota: 100,
        latency: Duration::from_millis(20),
        window: Window::new(2),
        state: Mutex::default(),
        busy_once: Some("number 1 "),
        busy_retry_after: Duration::from_secs(60),
        wait_for_file: None,
    });
    let deadline = Instant::now() + Duration::from_secs(3);
    let (report, rows) =
        render_until(&ws, &sentences(6), 2, Arc::clone(&service), Some(deadline)).await;
    let log = service.state.lock().unwrap().log.clone();
    let busy: Vec<_> = log.iter().filter(|e| e.0.contains("number 1 ")).collect();
    assert_eq!(
        busy.len(),
        1,
        "the waiting retry was sent after the deadline"
    );
    assert!(
        busy[0].1 < deadline,
        "the first try went before the deadline"
    );
    assert_eq!(report.outcome, Outcome::Incomplete);
    assert_eq!((report.counts.pending, report.counts.in_flight), (1, 0));
    let waiting: Vec<&SegmentRow> = rows
        .iter()
        .filter(|r| r.state != SegmentState::Done)
        .collect();
    assert_eq!(waiting.len(), 1);
    assert!(waiting[0].text.contains("number 1 "));
    assert_eq!(waiting[0].state, SegmentState::Pending);
}

/// A chapter is delivered as soon as its last segment is stored: the last
/// sentence of chapter 2 is answered only once chapter 1's file is in the
/// output folder (the service waits for it, up to a minute). Delivered only
/// after synthesis, the file could never be there in time.
#[tokio::test]
async fn a_complete_chapter_is_delivered_while_the_next_is_synthesised() {
    let ws = Workspace::new();
    let text = two_chapters();
    let service = Service::answering_8_after(ws.out(), "01 ");
    let outcome = render(&ws, &text, 1, Arc::clone(&service)).await;
    assert_eq!(outcome, Outcome::Complete);
    assert_eq!(
        service.state.lock().unwrap().saw_file,
        Some(true),
        "chapter 1 was not delivered before the last request of chapter 2"
    );
    // The finish redid nothing: every file it delivered counts once.
    let files = std::fs::read_dir(ws.out())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".wav"))
        .count();
    let report = crate::util::read_json(&ws.out().join("report.json"));
    assert_eq!(report["files_encoded"], files, "{report}");
}

/// A run stopped after chapter 1's file went out early still names it in
/// the manifest (early passes write no text files; the stopped run's finish
/// writes them for what was delivered), and leaves chapter 2 out of it.
/// The last sentence of chapter 2 is answered only after the stop (the
/// service waits for a file the test writes once it has stopped the run),
/// so the run cannot complete first.
#[tokio::test]
async fn a_stopped_run_names_the_chapters_it_delivered_early() {
    let ws = Workspace::new();
    let text = two_chapters();
    let go = ws.path().join("go");
    std::fs::create_dir_all(&go).unwrap();
    let service = Service::answering_8_after(go.clone(), "go");
    let cancel = CancellationToken::new();
    let (out, stop) = (ws.out(), cancel.clone());
    let watcher = tokio::spawn(async move {
        wait_for_wav(&out, "01 ").await;
        stop.cancel();
        std::fs::write(go.join("go.wav"), b"").unwrap();
    });
    let (report, _) = render_with(&ws, &text, 1, service, None, cancel).await;
    watcher.await.unwrap();
    // Whether sentence 8 was in flight at the stop (and then answered) or
    // never sent, chapter 2 was not delivered early.
    assert_eq!(report.outcome, Outcome::Interrupted);
    let manifest = crate::util::read_json(&ws.out().join("manifest.json"));
    let chapters = manifest["chapters"].as_array().expect("chapters");
    assert_eq!(chapters.len(), 1, "{manifest}");
    assert_eq!(chapters[0]["number"], 1, "{manifest}");
    let files = chapters[0]["files"].as_array().expect("files");
    assert!(
        files
            .iter()
            .any(|f| f.as_str().is_some_and(|f| f.starts_with("01 "))),
        "{manifest}"
    );
    assert!(ws.out().join(files[0].as_str().unwrap()).is_file());
    assert_eq!(
        manifest["incomplete_chapters"],
        serde_json::json!([2]),
        "{manifest}"
    );
}
