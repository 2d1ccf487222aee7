//! One segment's requests on paused tokio time: backoff that grows and
//! honours `Retry-After`, a bounded number of attempts, no place in the
//! window held while waiting, cancellation that ends a wait, and splitting
//! in the job's language. The provider is scripted; the real clients are
//! tested against the simulator in `tests/`.

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::time::Instant;

use super::*;

/// Answers from a script (then audio), recording each request's text and
/// (virtual) time.
#[derive(Default)]
struct Scripted {
    answers: Mutex<VecDeque<Result<Clip, ProviderError>>>,
    calls: Mutex<Vec<(String, Instant)>>,
}

impl Scripted {
    fn new(answers: Vec<Result<Clip, ProviderError>>) -> Arc<Self> {
        Arc::new(Scripted {
            answers: Mutex::new(answers.into()),
            calls: Mutex::default(),
        })
    }

    fn calls(&self) -> Vec<(String, Instant)> {
        self.calls.lock().unwrap().clone()
    }

    fn gaps_ms(&self) -> Vec<u128> {
        self.calls()
            .windows(2)
            .map(|w| (w[1].1 - w[0].1).as_millis())
            .collect()
    }
}

impl Synthesizer for Scripted {
    async fn synthesize(&self, request: &SynthRequest) -> Result<Clip, ProviderError> {
        self.calls
            .lock()
            .unwrap()
            .push((request.text.clone(), Instant::now()));
        // Every request takes 10 ms, so requests in flight overlap in time.
        tokio::time::sleep(Duration::from_millis(10)).await;
        let next = self.answers.lock().unwrap().pop_front();
        next.unwrap_or_else(|| Ok(Clip::new(8_000, vec![1; 80])))
    }
}

fn err(class: ErrorClass) -> Result<Clip, ProviderError> {
    Err(ProviderError::new(class, "scripted"))
}

fn requests(synth: &Arc<Scripted>, window: Arc<Window>, max_attempts: u32) -> Requests<Scripted> {
    let cancel = CancellationToken::new();
    Requests {
        synth: Arc::clone(synth),
        window,
        job_cancel: cancel.child_token(),
        cancel,
        max_attempts,
        lang: Lang::En,
        counters: Counters::default(),
    }
}

#[tokio::test(start_paused = true)]
async fn transient_errors_are_retried_with_growing_jittered_backoff() {
    use ErrorClass::Transient;
    let synth = Scripted::new(vec![err(Transient), err(Transient), err(Transient)]);
    let r = requests(&synth, Window::new(4), 6);
    let attempts = AtomicU32::new(0);
    let clip = r
        .synthesize("Hello.", &attempts)
        .await
        .expect("the fourth try works");
    assert_eq!(clip.samples.len(), 80);
    assert_eq!(attempts.load(Ordering::Relaxed), 4);
    assert_eq!(r.counters.requests.load(Ordering::Relaxed), 4);
    assert_eq!(r.counters.retries.load(Ordering::Relaxed), 3);
    // Each wait is the exponential delay (250, 500, 1000 ms) plus jitter of
    // at most one more delay; the request itself takes 10 ms (and the paused
    // clock may round a wait up by a millisecond).
    let gaps = synth.gaps_ms();
    for (gap, base) in gaps.iter().zip([250u128, 500, 1000]) {
        assert!(
            (base + 10..=2 * base + 11).contains(gap),
            "gap {gap} ms for a {base} ms backoff: {gaps:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn max_attempts_bounds_the_requests_and_permanent_errors_are_not_retried() {
    let synth = Scripted::new((0..10).map(|_| err(ErrorClass::Transient)).collect());
    let r = requests(&synth, Window::new(4), 3);
    let attempts = AtomicU32::new(0);
    let e = r.synthesize("Hello.", &attempts).await.unwrap_err();
    assert_eq!(e.class, ErrorClass::Transient);
    assert_eq!(synth.calls().len(), 3);

    for class in [
        ErrorClass::Permanent,
        ErrorClass::Fatal,
        ErrorClass::TooLong,
    ] {
        let synth = Scripted::new(vec![err(class)]);
        let r = requests(&synth, Window::new(4), 6);
        let e = r
            .synthesize("Hello.", &AtomicU32::new(0))
            .await
            .unwrap_err();
        assert_eq!(e.class, class);
        assert_eq!(synth.calls().len(), 1, "{class:?} was retried");
    }
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_honours_retry_after_and_shrinks_the_window() {
    let window = Window::new(16);
    // Slow start: each success opens one more place.
    let warm = Scripted::new(Vec::new());
    let r = requests(&warm, Arc::clone(&window), 6);
    for _ in 0..7 {
        r.synthesize("warm", &AtomicU32::new(0)).await.unwrap();
    }
    let before = window.limit();
    assert!(before >= 4, "the window grew with successes: {before}");

    let limited = ProviderError::new(ErrorClass::RateLimit, "quota")
        .with_retry_after(Some(Duration::from_secs(5)));
    let synth = Scripted::new(vec![Err(limited)]);
    let r = requests(&synth, Arc::clone(&window), 6);
    r.synthesize("Hello.", &AtomicU32::new(0)).await.unwrap();
    let gaps = synth.gaps_ms();
    assert!(
        gaps[0] >= 5_010,
        "Retry-After 5 s was not honoured: {gaps:?}"
    );
    assert_eq!(r.counters.rate_limited.load(Ordering::Relaxed), 1);
    assert!(r.counters.rate_limit_wait_ms.load(Ordering::Relaxed) >= 5_000);
    assert!(
        window.limit() <= before / 2 + 1,
        "a rate limit halves the window: {before} -> {}",
        window.limit()
    );
}

/// With one place in the window, a segment waiting out its backoff lets
/// another segment through: the wait holds no place.
#[tokio::test(start_paused = true)]
async fn a_segment_in_backoff_holds_no_place_in_the_window() {
    let window = Window::new(1);
    let synth = Scripted::new(vec![err(ErrorClass::Transient)]);
    let r = Arc::new(requests(&synth, window, 6));
    let first = {
        let r = Arc::clone(&r);
        tokio::spawn(async move { r.synthesize("first", &AtomicU32::new(0)).await })
    };
    // Let the first request fail and start its backoff.
    tokio::time::sleep(Duration::from_millis(20)).await;
    r.synthesize("second", &AtomicU32::new(0)).await.unwrap();
    first.await.unwrap().unwrap();
    let order: Vec<String> = synth.calls().into_iter().map(|(t, _)| t).collect();
    assert_eq!(order, ["first", "second", "first"]);
}

#[tokio::test(start_paused = true)]
async fn a_stop_ends_a_backoff_wait_and_sends_nothing_more() {
    let synth = Scripted::new(vec![err(ErrorClass::Transient)]);
    let r = requests(&synth, Window::new(4), 6);
    let cancel = r.cancel.clone();
    let started = Instant::now();
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        cancel.cancel();
    });
    let e = r.synthesize("Hello.", &AtomicU32::new(0)).await;
    stopper.await.unwrap();
    assert!(e.is_err(), "a stopped segment must not count as rendered");
    assert_eq!(synth.calls().len(), 1);
    assert!(started.elapsed() < Duration::from_millis(250));
}

/// A text the service finds too long is cut by the job's sentence rules, not
/// by guessing the language from the text: Chinese text in an English book
/// is cut where English rules cut it, and numbered lines in a Chinese book
/// where Chinese rules do.
#[test]
fn too_long_text_is_split_by_the_jobs_language() {
    let quoted = "他说了：1. 2. 3. 4. 5. 6.";
    assert_eq!(
        split_in_half(quoted, Lang::En),
        ["他说了：1.", "2. 3.", "4. 5.", "6."]
    );
    assert_ne!(
        split_in_half(quoted, Lang::En),
        split_in_half(quoted, Lang::Auto)
    );
    let numbered = "1。2。3. 4. 5. 6.";
    assert_eq!(
        split_in_half(numbered, Lang::Zh),
        ["1。", "2。", "3.", "4.", "5.", "6."]
    );
    assert_ne!(
        split_in_half(numbered, Lang::Zh),
        split_in_half(numbered, Lang::Auto)
    );
}

#[tokio::test(start_paused = true)]
async fn pieces_are_requested_in_the_jobs_language_and_joined() {
    let synth = Scripted::new(Vec::new());
    let mut r = requests(&synth, Window::new(4), 6);
    r.lang = Lang::Zh;
    let attempts = AtomicU32::new(0);
    let clip = r
        .synthesize_in_pieces("1。2。3. 4. 5. 6.", &attempts)
        .await
        .unwrap();
    let texts: Vec<String> = synth.calls().into_iter().map(|(t, _)| t).collect();
    assert_eq!(texts, ["1。", "2。", "3.", "4.", "5.", "6."]);
    assert_eq!(clip.samples.len(), 6 * 80);
    assert_eq!(attempts.load(Ordering::Relaxed), 6);
}

/// Regression (issue 11): a processing timeout (3030) was retried up to
/// `max_attempts`; the documents say retry once, then treat it as lasting,
/// which the scheduler answers by splitting the text.
#[tokio::test(start_paused = true)]
async fn a_processing_timeout_is_retried_once() {
    use ErrorClass::ProcessingTimeout;
    let synth = Scripted::new(vec![
        err(ProcessingTimeout),
        err(ProcessingTimeout),
        err(ProcessingTimeout),
    ]);
    let r = requests(&synth, Window::new(4), 6);
    let attempts = AtomicU32::new(0);
    let failed = r
        .synthesize("Hello there.", &attempts)
        .await
        .expect_err("still timing out");
    assert_eq!(failed.class, ProcessingTimeout);
    assert_eq!(attempts.load(Ordering::Relaxed), 2, "one retry, no more");
    // Once retried, it succeeds.
    let synth = Scripted::new(vec![err(ProcessingTimeout)]);
    let r = requests(&synth, Window::new(4), 6);
    let attempts = AtomicU32::new(0);
    assert!(r.synthesize("Hello there.", &attempts).await.is_ok());
    assert_eq!(attempts.load(Ordering::Relaxed), 2);
}

/// The two waits of a retry: `due` (backoff and jitter, never under the
/// service's `Retry-After`) and `floor` (what the service asked, else the
/// shortest backoff). Past the first retry `due` is later than `floor`, which
/// is what the tail of a run saves (see `delay`).
#[test]
fn a_backoff_is_due_after_its_floor_past_the_first_retry() {
    let plain = ProviderError::new(ErrorClass::Transient, "busy");
    for retry in 1..=8u32 {
        let base = MIN_BACKOFF
            .saturating_mul(1 << (retry - 1))
            .min(MAX_BACKOFF);
        for _ in 0..50 {
            let wait = backoff(retry, &plain);
            assert_eq!(wait.floor, MIN_BACKOFF);
            assert!(
                (base..=2 * base).contains(&wait.due),
                "retry {retry}: {wait:?}"
            );
            if retry >= 2 {
                assert!(wait.due > wait.floor, "retry {retry}: {wait:?}");
            }
        }
    }
    // A Retry-After longer than the backoff is both the floor and the due
    // time; a shorter one is the floor under a longer backoff.
    let asked = |secs| {
        plain
            .clone()
            .with_retry_after(Some(Duration::from_secs(secs)))
    };
    let wait = backoff(1, &asked(5));
    assert_eq!(
        (wait.due, wait.floor),
        (Duration::from_secs(5), Duration::from_secs(5))
    );
    let wait = backoff(6, &asked(1));
    assert_eq!(wait.floor, Duration::from_secs(1));
    assert!(wait.due >= Duration::from_secs(8), "{wait:?}");
}
