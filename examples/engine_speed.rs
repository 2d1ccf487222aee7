//! Measures the embedded engine and the stitcher on this machine:
//! synthesis throughput (segments/s, realtime factor) over 50 English
//! sentences, one at a time and two at a time, with and without resampling;
//! then the chapter stream's throughput (MB/s) for a chapter of those clips
//! (read from the cache, trimmed and laid out; not mastered or encoded:
//! `scripts/bench-master` and `scripts/bench-deliver` measure those).
//!
//! Run: `cargo run --release --example engine_speed`

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use audiobook::audio::{ChapterStream, StitchItem, StitchSource, lay_out, measure_edges};
use audiobook::cache::Cache;
use audiobook::job::{Audio, Voice};
use audiobook::provider::local::LocalEngine;
use audiobook::provider::{Clip, SynthRequest, Synthesizer};

const SUBJECTS: [&str; 10] = [
    "The old lighthouse keeper",
    "A young doctor from the city",
    "My grandmother",
    "The captain of the fishing boat",
    "Every student in the class",
    "The quiet man next door",
    "Our neighbour's daughter",
    "The tired traveller",
    "A famous painter",
    "The village baker",
];
const PREDICATES: [&str; 5] = [
    "walked slowly along the shore while the evening light faded over the water.",
    "had never seen anything quite like it, and she said so more than once.",
    "opened the letter, read it twice, and then put it carefully back in the drawer.",
    "remembered the winter when the river froze and nobody could cross for weeks.",
    "listened to the rain against the window and waited for the morning train.",
];

fn sentences() -> Vec<String> {
    SUBJECTS
        .iter()
        .flat_map(|s| PREDICATES.iter().map(move |p| format!("{s} {p}")))
        .collect()
}

fn voice() -> Voice {
    Voice::local("auto", 1.0, 50)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let texts = sentences();
    let words: usize = texts.iter().map(|t| t.split_whitespace().count()).sum();
    println!("{} sentences, {words} words", texts.len());

    let started = Instant::now();
    let engine = Arc::new(LocalEngine::new(dir.path(), &voice(), 24_000)?);
    println!("first new() (installs data): {:.1} ms", ms(started));
    let started = Instant::now();
    let _again = LocalEngine::new(dir.path(), &voice(), 24_000)?;
    println!("second new() (reuses data): {:.1} ms", ms(started));

    for rate in [22_050, 24_000, 44_100] {
        let engine = Arc::new(LocalEngine::new(dir.path(), &voice(), rate)?);
        synth_run(&engine, &texts, 1, rate).await?;
        synth_run(&engine, &texts, 2, rate).await?;
    }

    let clips = synth_all(&engine, &texts).await?;
    stitch_run(dir.path().to_path_buf(), &clips)?;
    Ok(())
}

/// Synthesizes every text with `parallel` requests in flight and prints the figures.
async fn synth_run(
    engine: &Arc<LocalEngine>,
    texts: &[String],
    parallel: usize,
    rate: u32,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut audio_secs = 0.0;
    for batch in texts.chunks(parallel) {
        let tasks: Vec<_> = batch
            .iter()
            .map(|text| {
                let engine = Arc::clone(engine);
                let request = SynthRequest { text: text.clone() };
                tokio::spawn(async move { engine.synthesize(&request).await })
            })
            .collect();
        for task in tasks {
            audio_secs += task.await??.duration_secs();
        }
    }
    let wall = started.elapsed().as_secs_f64();
    println!(
        "synth {rate} Hz, {parallel} in flight: {:.1} segments/s, {:.1} ms/segment, {audio_secs:.1} s of audio in {wall:.2} s, realtime factor {:.4} ({:.0}x faster than realtime)",
        texts.len() as f64 / wall,
        wall * 1000.0 / texts.len() as f64,
        wall / audio_secs,
        audio_secs / wall,
    );
    Ok(())
}

async fn synth_all(engine: &LocalEngine, texts: &[String]) -> anyhow::Result<Vec<Clip>> {
    let mut clips = Vec::with_capacity(texts.len());
    for text in texts {
        clips.push(
            engine
                .synthesize(&SynthRequest { text: text.clone() })
                .await?,
        );
    }
    Ok(clips)
}

/// Stores the clips in the cache and streams a long chapter laid out from
/// them (each clip reused many times).
fn stitch_run(root: PathBuf, clips: &[Clip]) -> anyhow::Result<()> {
    let cache = Cache::open(&root.join("cache"))?;
    let started = Instant::now();
    let mut keys = Vec::new();
    for (i, clip) in clips.iter().enumerate() {
        let key = format!("{i:064x}");
        cache.put(&key, clip)?;
        keys.push(key);
    }
    println!("cache put: {:.2} ms/clip", ms(started) / clips.len() as f64);

    let audio = Audio {
        sample_rate: 24_000,
        sentence_gap_ms: 250,
        paragraph_gap_ms: 700,
        chapter_head_ms: 500,
        chapter_trailing_ms: 1_000,
        trim: Default::default(),
    };
    let items: Vec<StitchItem> = (0..2_000)
        .map(|i| StitchItem {
            source: StitchSource::Clip(keys[i % keys.len()].clone()),
            ends_paragraph: i % 5 == 4,
        })
        .collect();
    let started = Instant::now();
    let edges = measure_edges(&cache, &audio, &items)?;
    let layout = lay_out(&audio, &items, &edges);
    let samples = layout.audio.samples;
    let mut stream = ChapterStream::new(&cache, &items, &layout, 24_000);
    let mut block = vec![0i16; 64 * 1024];
    let mut read = 0u64;
    loop {
        let n = stream.read(&mut block)?;
        if n == 0 {
            break;
        }
        read += n as u64;
    }
    anyhow::ensure!(read == samples, "streamed {read} of {samples} samples");
    report("chapter", samples, started);
    Ok(())
}

fn report(what: &str, samples: u64, started: Instant) {
    let secs = started.elapsed().as_secs_f64();
    let mb = samples as f64 * 2.0 / 1e6;
    println!(
        "stitch {what}: {mb:.0} MB ({:.1} h of audio) in {secs:.2} s = {:.0} MB/s",
        samples as f64 / 24_000.0 / 3600.0,
        mb / secs
    );
}

fn ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}
