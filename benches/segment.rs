//! Benchmark of the segmenter on whole books: prepare and split every
//! paragraph, ten rounds, best and median time per book.
//!
//! `cargo bench --bench segment [BOOK.txt ...]`; without arguments it reads the
//! shared corpus (`../shared/corpus/`, relative to the crate root).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use audiobook::segment::{Lang, Limits, Prepare, prepare_paragraph, split_paragraph};

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
    let paragraphs = paragraphs(text);
    let mut times = Vec::with_capacity(ROUNDS);
    let mut segments = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        segments = segment_all(&paragraphs);
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
        paragraphs.len(),
        segments,
        ms(times[0]),
        ms(times[ROUNDS / 2]),
    );
}

fn segment_all(paragraphs: &[Vec<&str>]) -> usize {
    let opts = Prepare::default();
    paragraphs
        .iter()
        .map(|lines| {
            let text = prepare_paragraph(lines, &opts);
            std::hint::black_box(split_paragraph(&text, Lang::Auto, Limits::default())).len()
        })
        .sum()
}

/// A blank line or an indented Chinese line starts a paragraph, except inside an open `[...]`
/// block (Gutenberg illustrations span blank lines): a stand-in for the
/// manuscript module's paragraph splitting.
fn paragraphs(text: &str) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut depth = 0usize;
    for line in text.lines() {
        let blank = line.trim().is_empty();
        if depth == 0 && (blank || starts_cjk_paragraph(line)) && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        if !blank {
            current.push(line);
        }
        for c in line.chars() {
            match c {
                '[' => depth += 1,
                ']' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Chinese books mark each paragraph by indenting it, with no blank line
/// between; an indented English line is part of a block quote or letter.
fn starts_cjk_paragraph(line: &str) -> bool {
    let body = line.trim_start();
    body.len() < line.len() && body.chars().next().is_some_and(|c| c >= '\u{2E80}')
}
