//! Snapshot tests: a few pages of each corpus book, prepared and segmented,
//! one segment per line and a blank line between paragraphs.

use crate::segment::{Lang, Limits, split_paragraph};

const PRIDE: &str = include_str!("../fixtures/pride-and-prejudice-pages.txt");
const XIYOUJI: &str = include_str!("../fixtures/xiyouji-pages.txt");

/// The fixture's paragraphs as the manuscript module finds them (the real
/// path: blank lines, indentation, bracket blocks across blank lines); its
/// `#` lines are comments about the fixture, not headings.
fn paragraphs(text: &str) -> Vec<String> {
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let manuscript = crate::manuscript::split_text(
        &body,
        std::path::Path::new("fixture.txt"),
        crate::manuscript::Format::Text,
        &crate::job::ChapterRule::Headings,
        true,
    );
    manuscript
        .chapters
        .into_iter()
        .flat_map(|c| c.paragraphs)
        .map(|p| p.text)
        .collect()
}

fn render(text: &str, lang: Lang) -> String {
    let mut out = String::new();
    for prepared in paragraphs(text) {
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
