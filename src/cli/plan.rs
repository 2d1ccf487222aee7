//! `audiobook plan`: a dry run: chapters, segments, characters, estimated
//! duration, and what is still to render and what it would cost. Writes
//! nothing.

use std::io::Write;

use super::args::PlanArgs;
use super::common::{check_tools, format_duration, load_jobs, print_warnings};
use super::{Cli, CliError, Exit};
use crate::cache::Cache;
use crate::job::{Format, Job};
use crate::plan::{self, PlannedChapter};

/// Estimated speaking pace for `plan`, in characters per second: about 160
/// words a minute for English, about 4.5 characters a second for Chinese.
fn estimate_secs(text: &str) -> f64 {
    let han = text
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count();
    let other = text.chars().count() - han;
    han as f64 / 4.5 + other as f64 / 14.0
}

#[derive(serde::Serialize)]
struct PlanSummary {
    job: String,
    chapters: usize,
    segments: usize,
    characters: usize,
    /// Characters of segments not yet in the cache: what the next render sends.
    characters_to_render: usize,
    segments_to_render: usize,
    /// At `[render] price_per_million_characters`, when given.
    estimated_cost: Option<f64>,
    currency: String,
    estimated_secs: f64,
    /// Estimated size of each delivered format (all its files).
    delivery: Vec<PlanFormat>,
    chapter_list: Vec<PlanChapter>,
    /// Characters removed by rule, chapter warnings, unused lexicon entries.
    #[serde(flatten)]
    book: super::book::BookNotes,
}

#[derive(serde::Serialize)]
struct PlanFormat {
    format: &'static str,
    bytes: u64,
    /// The whole-book WAV would pass 4 GiB: it is written as RF64.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    rf64: bool,
}

#[derive(serde::Serialize)]
struct PlanChapter {
    number: usize,
    title: String,
    segments: usize,
    characters: usize,
    estimated_secs: f64,
}

pub(super) fn run(cli: &Cli, args: &PlanArgs) -> Result<Exit, CliError> {
    let json = args.json;
    let cache = Cache::at(&cli.cache);
    let jobs = load_jobs(&args.jobs)?;
    check_tools(&jobs)?;
    print_warnings(&jobs);
    for (job, manuscript) in jobs {
        let chapters = plan::build(&job, &manuscript);
        let mut summary = summarize_plan(&job, &chapters, &cache);
        summary.book = super::book::notes(&job, &manuscript);
        let mut out = std::io::stdout().lock();
        if json {
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string(&summary).map_err(anyhow::Error::from)?
            );
            continue;
        }
        let _ = writeln!(
            out,
            "{}: {} chapters, {} segments, {} characters, about {} of audio",
            summary.job,
            summary.chapters,
            summary.segments,
            summary.characters,
            format_duration(summary.estimated_secs)
        );
        let cost = summary.estimated_cost.map_or_else(
            || "set [render] price_per_million_characters for a cost estimate".to_string(),
            |c| format!("estimated cost {c:.2} {}", summary.currency),
        );
        let _ = writeln!(
            out,
            "  to render: {} segments, {} characters; {cost}",
            summary.segments_to_render, summary.characters_to_render
        );
        let sizes: Vec<String> = summary
            .delivery
            .iter()
            .map(|f| {
                format!(
                    "{} about {:.0} MB{}",
                    f.format,
                    f.bytes as f64 / 1e6,
                    if f.rf64 {
                        " (book file over 4 GiB: written as RF64)"
                    } else {
                        ""
                    }
                )
            })
            .collect();
        let _ = writeln!(out, "  delivery: {}", sizes.join(", "));
        for c in &summary.chapter_list {
            let _ = writeln!(
                out,
                "  {:>3}  {:<40} {:>6} segments {:>8} chars  {}",
                c.number,
                crate::render::preview(&c.title),
                c.segments,
                c.characters,
                format_duration(c.estimated_secs)
            );
        }
        super::book::print_notes(&mut out, &summary.book);
    }
    Ok(Exit::Ok)
}

fn summarize_plan(job: &Job, chapters: &[PlannedChapter], cache: &Cache) -> PlanSummary {
    let to_render = plan::to_synthesize(chapters, |key| cache.clip_path(key).is_file());
    let segments_to_render = to_render.len();
    let characters_to_render: usize = to_render.iter().map(|s| s.sent().chars().count()).sum();
    let a = job.audio;
    let chapter_list: Vec<PlanChapter> = chapters
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let characters = c.segments.iter().map(|s| s.sent().chars().count()).sum();
            let paragraphs = c.segments.iter().filter(|s| s.ends_paragraph).count();
            let gaps_ms = u64::from(a.chapter_head_ms)
                + u64::from(a.chapter_trailing_ms)
                + paragraphs as u64 * u64::from(a.paragraph_gap_ms)
                + (c.segments.len() - paragraphs) as u64 * u64::from(a.sentence_gap_ms);
            let speech: f64 = c.segments.iter().map(|s| estimate_secs(s.sent())).sum();
            PlanChapter {
                number: i + 1,
                title: c.title.clone(),
                segments: c.segments.len(),
                characters,
                estimated_secs: speech + gaps_ms as f64 / 1000.0,
            }
        })
        .collect();
    let secs: f64 = chapter_list.iter().map(|c| c.estimated_secs).sum();
    PlanSummary {
        delivery: estimate_delivery(job, secs),
        job: job.name.clone(),
        characters_to_render,
        segments_to_render,
        estimated_cost: job
            .render
            .price_per_million_characters
            .map(|price| characters_to_render as f64 * price / 1_000_000.0),
        currency: job.render.currency.clone(),
        chapters: chapter_list.len(),
        segments: chapter_list.iter().map(|c| c.segments).sum(),
        characters: chapter_list.iter().map(|c| c.characters).sum(),
        estimated_secs: chapter_list.iter().map(|c| c.estimated_secs).sum(),
        chapter_list,
        book: super::book::BookNotes::default(),
    }
}

/// Bytes each format takes for `secs` of audio: the bitrate for MP3 and
/// M4B, PCM for WAV, and about half of it for FLAC (speech, measured on
/// the demo and the benchmark book); twice when `split = "both"`.
fn estimate_delivery(job: &Job, secs: f64) -> Vec<PlanFormat> {
    let d = &job.output.delivery;
    let copies = u64::from(d.split.chapters()) + u64::from(d.split.book());
    let pcm = secs * f64::from(job.audio.sample_rate) * 2.0;
    d.formats
        .iter()
        .map(|&format| {
            let once = match format {
                Format::Mp3 => secs * f64::from(d.mp3_bitrate) * 125.0,
                Format::M4b => secs * f64::from(d.m4b_bitrate) * 125.0,
                Format::Flac => pcm * 0.5,
                Format::Wav => pcm,
            };
            PlanFormat {
                format: format.extension(),
                bytes: once as u64 * copies,
                rf64: format == Format::Wav
                    && d.split.book()
                    && pcm / 2.0 > crate::audio::PcmFormat::MAX_WAV_SAMPLES as f64,
            }
        })
        .collect()
}
