//! Benchmark of segmentation on whole books, through the real path: the
//! manuscript module splits the text into chapters and prepared paragraphs,
//! the segmenter splits those; ten rounds, best and median time per book.
//!
//! `cargo bench --bench segment [BOOK.txt ...]`; without arguments it reads the
//! shared corpus (`../shared/corpus/`, relative to the crate root).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use audiobook::job::ChapterRule;
use audiobook::manuscript::{Format, split_text};
use audiobook::segment::{Lang, Limits, split_paragraph};

const ROUNDS: usize = 10;
const DEFAULT_BOOKS: &[&str] = &[
    "../shared/corpus/pride-and-prejudice.txt",
    "../shared/corpus/xiyouji-ch01-12.txt",
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let books: Vec<PathBuf> = if args.is_empty() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        DEFAULT_BOOKS.iter().map(|b| root.join(b)).collect()
    } else {
        args.iter().map(PathBuf::from).collect()
    };
    for book in &books {
        let Ok(text) = std::fs::read_to_string(book) else {
            eprintln!(
                "error: cannot read {}; pass book paths as arguments: cargo bench --bench segment -- BOOK.txt",
                book.display()
            );
            return ExitCode::FAILURE;
        };
        bench_book(book, &text);
    }
    ExitCode::SUCCESS
}

fn bench_book(path: &std::path::Path, text: &str) {
    let mut times = Vec::with_capacity(ROUNDS);
    let (mut paragraphs, mut segments) = (0, 0);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        (paragraphs, segments) = segment_book(path, text);
        times.push(start.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{}: {} bytes, {} paragraphs, {} segments, best {:.1} ms, median {:.1} ms",
        path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned()
        ),
        text.len(),
        paragraphs,
        segments,
        ms(times[0]),
        ms(times[ROUNDS / 2]),
    );
}

/// Paragraphs and segments of a whole book.
fn segment_book(path: &std::path::Path, text: &str) -> (usize, usize) {
    let chapters = split_text(text, path, Format::Text, &ChapterRule::Headings, true).chapters;
    let paragraphs = chapters.iter().map(|c| c.paragraphs.len()).sum();
    let segments = chapters
        .iter()
        .flat_map(|c| &c.paragraphs)
        .map(|p| {
            std::hint::black_box(split_paragraph(&p.text, Lang::Auto, Limits::default())).len()
        })
        .sum();
    (paragraphs, segments)
}
