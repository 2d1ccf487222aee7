//! Snapshot tests: a few pages of each corpus book, prepared and segmented,
//! one segment per line and a blank line between paragraphs.

use crate::segment::{Lang, Limits, Prepare, prepare_paragraph, split_paragraph};

const PRIDE: &str = include_str!("../fixtures/pride-and-prejudice-pages.txt");
const XIYOUJI: &str = include_str!("../fixtures/xiyouji-pages.txt");

/// Splits a fixture into paragraphs the way the manuscript module is expected
/// to: a blank line or an indented Chinese line starts a paragraph, except inside an
/// open `[...]` block, which may span blank lines. `#` lines are comments.
fn paragraphs(text: &str) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut depth = 0usize;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
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

fn render(text: &str, lang: Lang) -> String {
    let mut out = String::new();
    for lines in paragraphs(text) {
        let prepared = prepare_paragraph(&lines, &Prepare::default());
        let segments = split_paragraph(&prepared, lang, Limits::default());
        if segments.is_empty() {
            continue;
        }
        for s in segments {
            out.push_str(&s);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

#[test]
fn pride_and_prejudice_pages() {
    insta::assert_snapshot!(render(PRIDE, Lang::Auto));
}

#[test]
fn xiyouji_pages() {
    insta::assert_snapshot!(render(XIYOUJI, Lang::Auto));
}

#[test]
fn corpus_segments_keep_the_limits() {
    for text in [PRIDE, XIYOUJI] {
        for seg in render(text, Lang::Auto).lines() {
            assert!(seg.chars().count() <= Limits::MAX_CHARS && seg.len() <= Limits::MAX_BYTES);
        }
    }
}

/// Chinese books mark each paragraph by indenting it, with no blank line
/// between; an indented English line is part of a block quote or letter.
fn starts_cjk_paragraph(line: &str) -> bool {
    let body = line.trim_start();
    body.len() < line.len() && body.chars().next().is_some_and(|c| c >= '\u{2E80}')
}
