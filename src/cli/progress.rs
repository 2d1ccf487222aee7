//! Progress while rendering: a bar for a person at a terminal, plain
//! periodic log lines for cron and log files, nothing with `--quiet`. Both
//! show the chapter being rendered, segments done of the run's total (the
//! unit of `plan`, `status` and the summary), the hours of audio rendered,
//! and a rate with its unit.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::common::format_duration;
use crate::render::{self, Progress, ProgressStart, Tick};

pub(super) fn progress_for(quiet: bool) -> Arc<dyn Progress> {
    if quiet {
        Arc::new(render::NoProgress)
    } else if std::io::stderr().is_terminal() {
        Arc::new(BarProgress::default())
    } else {
        Arc::new(LogProgress::default())
    }
}

/// What both displays track.
#[derive(Default)]
struct State {
    job: String,
    chapters: usize,
    chapter: usize,
    total: u64,
    done: u64,
    at_start: u64,
    audio_secs: f64,
    started: Option<Instant>,
}

impl State {
    fn new(start: &ProgressStart) -> State {
        State {
            job: start.job.clone(),
            chapters: start.chapters,
            chapter: 0,
            total: start.segments,
            done: start.done,
            at_start: start.done,
            audio_secs: start.audio_secs,
            started: Some(Instant::now()),
        }
    }

    fn add(&mut self, tick: Tick) {
        self.done += tick.segments;
        self.chapter = tick.chapter;
        self.audio_secs += tick.audio_secs;
    }

    /// Segments per second in this run.
    fn rate(&self) -> f64 {
        let elapsed = self.started.map_or(0.0, |t| t.elapsed().as_secs_f64());
        (self.done - self.at_start) as f64 / elapsed.max(0.001)
    }

    fn eta(&self) -> String {
        let rate = self.rate();
        if rate > 0.0 {
            format_duration(self.total.saturating_sub(self.done) as f64 / rate)
        } else {
            "?".into()
        }
    }

    /// `chapter 3/58, 1.24 h of audio, 12.3 segments/s`.
    fn message(&self) -> String {
        let chapter = if self.chapter == 0 {
            String::from("starting")
        } else {
            format!("chapter {}/{}", self.chapter, self.chapters)
        };
        format!(
            "{chapter}, {:.2} h of audio, {:.1} segments/s",
            self.audio_secs / 3600.0,
            self.rate()
        )
    }
}

/// A progress bar, for a person at a terminal.
#[derive(Default)]
struct BarProgress {
    inner: Mutex<Option<(indicatif::ProgressBar, State)>>,
}

impl Progress for BarProgress {
    fn start(&self, start: &ProgressStart) {
        let bar = indicatif::ProgressBar::new(start.segments).with_prefix(start.job.clone());
        let style = indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} segments, {msg}, eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_position(start.done);
        let state = State::new(start);
        bar.set_message(state.message());
        *self.inner.lock().unwrap_or_else(|e| e.into_inner()) = Some((bar, state));
    }
    fn advance(&self, tick: Tick) {
        if let Some((bar, state)) = &mut *self.inner.lock().unwrap_or_else(|e| e.into_inner()) {
            state.add(tick);
            bar.set_position(state.done.min(state.total));
            bar.set_message(state.message());
        }
    }
    fn finish(&self) {
        if let Some((bar, _)) = self.inner.lock().unwrap_or_else(|e| e.into_inner()).take() {
            // The summary on stdout says the rest; the bar leaves no line.
            bar.finish_and_clear();
        }
    }
}

/// Plain progress lines at most every few seconds, for cron and log files.
#[derive(Default)]
struct LogProgress {
    inner: Mutex<(State, Option<Instant>, Option<u64>)>,
}

const LOG_EVERY: Duration = Duration::from_secs(5);

impl Progress for LogProgress {
    fn start(&self, start: &ProgressStart) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *inner = (State::new(start), Some(Instant::now()), None);
        let s = &inner.0;
        tracing::info!(job = %s.job, done = s.done, total = s.total, "rendering (segments)");
    }
    fn advance(&self, tick: Tick) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.0.add(tick);
        if inner.1.is_some_and(|t| t.elapsed() >= LOG_EVERY) {
            inner.1 = Some(Instant::now());
            inner.2 = Some(inner.0.done);
            log_progress(&inner.0);
        }
    }
    fn finish(&self) {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // The last line once: not again if nothing moved since it was logged.
        if inner.2 != Some(inner.0.done) {
            log_progress(&inner.0);
        }
    }
}

fn log_progress(s: &State) {
    tracing::info!(
        job = %s.job,
        chapter = s.chapter,
        chapters = s.chapters,
        done = s.done,
        total = s.total,
        audio_hours = format!("{:.2}", s.audio_secs / 3600.0),
        segments_per_sec = format!("{:.1}", s.rate()),
        eta = %s.eta(),
        "progress (segments)"
    );
}
