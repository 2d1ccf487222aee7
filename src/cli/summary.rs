//! A job's summary as `render` prints it (and the notification repeats
//! it): the outcome, the segments, the chapters and audio, then what went
//! wrong and what to do, one line per cause.

use std::fmt::Write as _;

use super::common::{display_path, format_duration};
use crate::report::{JobReport, Outcome};

/// A job's summary: every figure counts segments, and they add up to the
/// segments of the book (or of the chapters asked for): synthesized now +
/// already rendered + failed + pending (+ spoken as pauses). A sentence that
/// occurs several times is several segments, synthesized once.
pub(super) fn summary(report: &JobReport) -> String {
    let stats = &report.stats;
    let c = &report.counts;
    let mut out = String::new();
    let what = match report.outcome {
        Outcome::Complete => "complete",
        Outcome::Failed if report.stopped_by.is_some() => "stopped by the provider",
        Outcome::Failed => "incomplete",
        Outcome::Interrupted => "interrupted",
        Outcome::Incomplete => "stopped at the deadline",
    };
    let scope = report
        .chapters_selected
        .as_ref()
        .map(|chapters| format!(" (chapters {chapters})"))
        .unwrap_or_default();
    let pauses = if c.pause > 0 {
        format!(", {} spoken as pauses", c.pause)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{}: {what}{scope}: {} segments: {} synthesized, {} already rendered, {} failed, {} pending{pauses}",
        report.job,
        c.total(),
        stats.synthesized,
        stats.cached,
        c.failed,
        c.pending + c.in_flight,
    );
    let _ = writeln!(
        out,
        "{}: {} of {} chapter files, {} of audio in {} ({})",
        report.job,
        report.chapters_written,
        report.chapters_total,
        format_duration(report.audio_secs),
        display_path(&report.output_dir),
        format_duration(report.elapsed_secs),
    );
    if let Some(error) = &report.stopped_by {
        let _ = writeln!(
            out,
            "{}: the provider refused the account, so no more requests were sent: {error}; \
             the segments not rendered are pending: fix this and run the same command again",
            report.job
        );
    }
    if stats.clips > 0 && stats.clips < stats.synthesized {
        let _ = writeln!(
            out,
            "{}: repeated sentences: those {} segments needed {} distinct clips (a repeated sentence is synthesized once)",
            report.job, stats.synthesized, stats.clips
        );
    }
    if stats.requests > stats.clips || stats.rate_limited > 0 {
        let _ = writeln!(
            out,
            "{}: {} requests, {} retries, {} rate-limited ({:.1}s waiting on rate limits), final concurrency window {}",
            report.job,
            stats.requests,
            stats.retries,
            stats.rate_limited,
            stats.rate_limit_wait_ms as f64 / 1000.0,
            stats.window
        );
    }
    if stats.synthesized == 0 && report.outcome == Outcome::Complete {
        let _ = writeln!(
            out,
            "{}: nothing to synthesize, every segment was already rendered",
            report.job
        );
    }
    for (reason, n) in &report.pauses {
        let _ = writeln!(
            out,
            "{}:   {n} segment(s) became silence instead of speech: {reason}",
            report.job
        );
    }
    // One line per cause, with the ids of one example for a support ticket.
    for group in crate::report::group_failures(&report.failures) {
        if group.class == "unspeakable" {
            continue;
        }
        let ids = if group.example_ids.is_empty() {
            String::new()
        } else {
            format!(" (e.g. {})", group.example_ids)
        };
        let _ = writeln!(
            out,
            "{}:   {} segment(s) {}: {}{ids}",
            report.job, group.segments, group.class, group.error
        );
    }
    for f in &report.qa_failures {
        let _ = writeln!(
            out,
            "{}:   {} fails {} ({}): {:.2}, allowed {}; {}",
            report.job, f.file, report.qa_profile, f.rule, f.value, f.limit, f.fix
        );
    }
    if !report.qa_failures.is_empty() {
        let _ = writeln!(
            out,
            "{}: the files are written; see qa.json and qa.csv in {}",
            report.job,
            display_path(&report.output_dir)
        );
    }
    if report.files_encoded > 0 {
        let _ = writeln!(
            out,
            "{}: {} audio file(s) encoded",
            report.job, report.files_encoded
        );
    } else if report.outcome == Outcome::Complete {
        let _ = writeln!(out, "{}: every delivered file is up to date", report.job);
    }
    if matches!(report.outcome, Outcome::Interrupted | Outcome::Incomplete) {
        let _ = writeln!(
            out,
            "{}: state saved; run the same command again to resume",
            report.job
        );
    }
    out
}
