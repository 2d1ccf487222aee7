//! Progress while rendering: a bar for a person at a terminal, plain
//! periodic log lines for cron and log files, nothing with `--quiet`.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Cli;
use super::common::format_duration;
use crate::render::{self, Progress};

pub(super) fn progress_for(cli: &Cli) -> Arc<dyn Progress> {
    if cli.quiet {
        Arc::new(render::NoProgress)
    } else if std::io::stderr().is_terminal() {
        Arc::new(BarProgress::default())
    } else {
        Arc::new(LogProgress::default())
    }
}

/// A progress bar, for a person at a terminal.
#[derive(Default)]
struct BarProgress {
    bar: Mutex<Option<indicatif::ProgressBar>>,
}

impl Progress for BarProgress {
    fn start(&self, job: &str, total: u64, done: u64) {
        let bar = indicatif::ProgressBar::new(total).with_prefix(job.to_string());
        let style = indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:40}] {pos}/{len} segments, {per_sec}, eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_position(done);
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
    }
    fn advance(&self, n: u64) {
        if let Some(bar) = &*self.bar.lock().unwrap_or_else(|e| e.into_inner()) {
            bar.inc(n);
        }
    }
    fn finish(&self) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
}

/// Plain progress lines at most every few seconds, for cron and log files.
#[derive(Default)]
struct LogProgress {
    state: Mutex<LogState>,
}

#[derive(Default)]
struct LogState {
    job: String,
    total: u64,
    done: u64,
    at_start: u64,
    started: Option<Instant>,
    last: Option<Instant>,
}

const LOG_EVERY: Duration = Duration::from_secs(5);

impl Progress for LogProgress {
    fn start(&self, job: &str, total: u64, done: u64) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *s = LogState {
            job: job.to_string(),
            total,
            done,
            at_start: done,
            started: Some(Instant::now()),
            last: Some(Instant::now()),
        };
        tracing::info!(job = %s.job, done, total, "rendering");
    }
    fn advance(&self, n: u64) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.done += n;
        if s.last.is_some_and(|t| t.elapsed() >= LOG_EVERY) {
            s.last = Some(Instant::now());
            log_progress(&s);
        }
    }
    fn finish(&self) {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        log_progress(&s);
    }
}

fn log_progress(s: &LogState) {
    let elapsed = s.started.map_or(0.0, |t| t.elapsed().as_secs_f64());
    let rate = (s.done - s.at_start) as f64 / elapsed.max(0.001);
    let eta = if rate > 0.0 {
        format_duration((s.total - s.done.min(s.total)) as f64 / rate)
    } else {
        "?".into()
    };
    tracing::info!(job = %s.job, done = s.done, total = s.total, per_sec = format!("{rate:.1}"), eta = %eta, "progress");
}
