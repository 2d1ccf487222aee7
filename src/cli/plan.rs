//! `audiobook plan`: a dry run: chapters, segments, characters, estimated
//! duration, and what is still to render and what it would cost. Writes
//! nothing.

use std::io::Write;

use unicode_width::UnicodeWidthStr;

use super::args::PlanArgs;
use super::common::{check_tools, format_duration, load_jobs, open_for_reading, print_warnings};
use super::{CliError, Exit};
use crate::cache::Cache;
use crate::job::{Format, Job};
use crate::manuscript::Manuscript;
use crate::plan::{ChapterSet, Item, Plan, ToSynthesize};

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
    /// Segments whose clip is not in the cache yet, each occurrence of a
    /// repeated sentence counted (the unit of `status` and the summary).
    segments_to_render: usize,
    /// Distinct texts among them: what the next render requests.
    texts_to_render: usize,
    /// Characters of those distinct texts: what the next render sends (and
    /// what is billed).
    characters_to_render: usize,
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

pub(super) async fn run(args: &PlanArgs) -> Result<Exit, CliError> {
    let json = args.json;
    let cache = Cache::at(&args.state.cache);
    let jobs = load_jobs(&args.jobs, &args.overrides)?;
    check_tools(&jobs)?;
    print_warnings(&jobs);
    // A damaged state database is the same error here as in `status`: a
    // render would stop on it, so a dry run must not say all is well.
    if let Ok(store) = open_for_reading(&args.state.db, &args.state.cache).await? {
        store.close().await;
    }
    for (job, manuscript) in jobs {
        let summary = summarize_plan(&job, &manuscript, args.overrides.chapters.as_ref(), &cache);
        let mut out = std::io::stdout().lock();
        if json {
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string(&summary).map_err(anyhow::Error::from)?
            );
            continue;
        }
        print_plan(&mut out, &summary);
        super::book::print_notes(&mut out, &summary.book);
    }
    Ok(Exit::Ok)
}

fn print_plan(out: &mut impl Write, summary: &PlanSummary) {
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
    let repeats = if summary.texts_to_render < summary.segments_to_render {
        format!(
            " ({} distinct texts: a repeated sentence is synthesized once)",
            summary.texts_to_render
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "  to render: {} segments{repeats}, {} characters; {cost}",
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
            "  {:>3}  {} {:>6} segments {:>8} chars  {}",
            c.number,
            pad_to_width(&crate::render::preview(&c.title), 40),
            c.segments,
            c.characters,
            format_duration(c.estimated_secs)
        );
    }
}

/// `text` padded with spaces to `width` terminal columns: a Chinese
/// character takes two, so padding by characters would misalign the table.
fn pad_to_width(text: &str, width: usize) -> String {
    let used = text.width();
    format!("{text}{}", " ".repeat(width.saturating_sub(used)))
}

/// The plan's figures, summed as the plan streams past (per chapter, and
/// the distinct texts still to render), so a book's segments are never all
/// in memory. Chapters not in `wanted` are listed with nothing to render.
fn summarize_plan(
    job: &Job,
    manuscript: &Manuscript,
    wanted: Option<&ChapterSet>,
    cache: &Cache,
) -> PlanSummary {
    let plan = Plan::new(job, manuscript);
    let mut items = plan.items();
    let mut to_render = ToSynthesize::default();
    let mut chapters: Vec<ChapterSum> = Vec::new();
    for item in items.by_ref() {
        match item {
            Item::Chapter(title) => chapters.push(ChapterSum {
                title: title.to_string(),
                ..ChapterSum::default()
            }),
            Item::Segment(segment) => {
                let number = chapters.len();
                let Some(chapter) = chapters.last_mut() else {
                    continue;
                };
                if wanted.is_some_and(|set| !set.contains_index(number - 1)) {
                    continue;
                }
                let sent = segment.sent();
                chapter.segments += 1;
                chapter.paragraphs += usize::from(segment.ends_paragraph);
                chapter.characters += sent.chars().count();
                chapter.speech_secs += estimate_secs(sent);
                to_render.add(&segment, |key| cache.clip_path(key).is_file());
            }
        }
    }
    let a = job.audio;
    let chapter_list: Vec<PlanChapter> = chapters
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let gaps_ms = u64::from(a.chapter_head_ms)
                + u64::from(a.chapter_trailing_ms)
                + c.paragraphs as u64 * u64::from(a.paragraph_gap_ms)
                + (c.segments - c.paragraphs) as u64 * u64::from(a.sentence_gap_ms);
            PlanChapter {
                number: i + 1,
                title: c.title,
                segments: c.segments,
                characters: c.characters,
                estimated_secs: c.speech_secs + gaps_ms as f64 / 1000.0,
            }
        })
        .collect();
    let secs: f64 = chapter_list.iter().map(|c| c.estimated_secs).sum();
    PlanSummary {
        delivery: estimate_delivery(job, secs),
        job: job.name.clone(),
        characters_to_render: to_render.characters,
        segments_to_render: to_render.segments,
        texts_to_render: to_render.texts,
        estimated_cost: job
            .render
            .price_per_million_characters
            .map(|price| to_render.characters as f64 * price / 1_000_000.0),
        currency: job.render.currency.clone(),
        chapters: chapter_list.len(),
        segments: chapter_list.iter().map(|c| c.segments).sum(),
        characters: chapter_list.iter().map(|c| c.characters).sum(),
        estimated_secs: secs,
        chapter_list,
        book: super::book::notes(manuscript, &items),
    }
}

/// One chapter's figures while its segments stream past.
#[derive(Default)]
struct ChapterSum {
    title: String,
    segments: usize,
    paragraphs: usize,
    characters: usize,
    speech_secs: f64,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_titles_pad_by_display_width() {
        let a = pad_to_width("第一回 灵根育孕源流出", 30);
        let b = pad_to_width("Chapter One", 30);
        assert_eq!(a.width(), 30);
        assert_eq!(b.width(), 30);
        // By characters the Chinese title would be 10 columns too wide.
        assert_eq!(a.chars().count(), 20);
    }
}
