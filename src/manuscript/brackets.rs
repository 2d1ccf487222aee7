//! Editorial blocks in square brackets (`[Illustration: ...]`,
//! `[Footnote ...]`, `[Transcriber's note ...]`, `[Sidenote ...]`,
//! `[Decoration ...]`), as Project Gutenberg and scanned books have them:
//! removed with everything inside, nested brackets included, also when the
//! block spans several paragraphs. Every removed character is counted.
//!
//! A block often sits in the middle of a sentence, between two paragraphs
//! of a hard-wrapped text (`...the idea of his` / `[Illustration: ...]` /
//! `being gone to London...`). When the text before the block does not end
//! a sentence and the text after it goes on in lowercase (or the text
//! before ends at a comma), the two are joined into one paragraph, so the
//! sentence is spoken whole.

use std::sync::LazyLock;

use regex::Regex;

use super::{Block, BlockKind, Removed};
use crate::segment::prepare_paragraph;

static START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\[\s*(?:illustration|footnote|sidenote|decoration|transcriber(?:['’]?s)?\s+note)(?:[^\p{L}]|$)",
    )
    .unwrap_or_else(|e| unreachable!("editorial pattern is valid: {e}"))
});

/// The blocks with editorial brackets removed and interrupted sentences joined.
pub(crate) fn remove(blocks: Vec<Block>, removed: &mut Removed) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::with_capacity(blocks.len());
    // Depth of a block still open at the end of the previous paragraph.
    let mut depth = 0usize;
    // A block was removed since the last paragraph kept.
    let mut cut = false;
    for block in blocks {
        // A chapter start that is not text (an EPUB title) is never inside
        // a block; a heading line may be, and then belongs to it.
        if block.kind == BlockKind::Start || (block.kind == BlockKind::Heading && depth == 0) {
            cut = false;
            out.push(block);
            continue;
        }
        let (text, removed_here, open) = strip(&block.text, depth, removed);
        depth = open;
        let starts_cut = removed_here.at_start || cut;
        cut = removed_here.at_end || (text.is_empty() && removed_here.any);
        if text.is_empty() {
            cut |= removed_here.any;
            continue;
        }
        if block.kind != BlockKind::Para {
            // A heading line inside a block was part of the block; what
            // followed its `]` is text.
            out.push(Block::para(text, block.line));
            continue;
        }
        if starts_cut
            && let Some(prev) = out.last_mut()
            && prev.kind == BlockKind::Para
            && continues(&prev.text, &text)
        {
            prev.text = prepare_paragraph(&[&prev.text, &text]);
            continue;
        }
        out.push(Block::para(text, block.line));
    }
    out
}

/// Where in a paragraph blocks were removed.
#[derive(Default)]
struct Cuts {
    any: bool,
    at_start: bool,
    at_end: bool,
}

/// Removes the blocks in `text`, starting inside one `depth` deep; returns
/// the rest (whitespace tidied), where it was cut, and the depth left open.
fn strip(text: &str, mut depth: usize, removed: &mut Removed) -> (String, Cuts, usize) {
    let mut cuts = Cuts::default();
    let mut rest = text;
    if depth > 0 {
        let (end, left) = close(rest, depth);
        removed.add(Removed::BRACKETS, &rest[..end]);
        rest = &rest[end..];
        depth = left;
        cuts.any = true;
        cuts.at_start = true;
    }
    let mut out = String::with_capacity(rest.len());
    while depth == 0
        && let Some(m) = START.find(rest)
    {
        out.push_str(&rest[..m.start()]);
        out.push(' ');
        let block = &rest[m.start()..];
        let (end, left) = close(block, 0);
        removed.add(Removed::BRACKETS, &block[..end]);
        cuts.any = true;
        cuts.at_start |= out.trim().is_empty();
        rest = &block[end..];
        depth = left;
    }
    out.push_str(rest);
    let kept = prepare_paragraph(&[&out]);
    cuts.at_end = cuts.any && (depth > 0 || rest.trim().is_empty());
    (kept, cuts, depth)
}

/// Byte offset just past the `]` that brings `depth` (plus the brackets
/// opened in `s`) back to zero, and the depth left when `s` ends first.
fn close(s: &str, mut depth: usize) -> (usize, usize) {
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return (i + 1, 0);
                }
            }
            _ => {}
        }
    }
    (s.len(), depth)
}

/// The text before a removed block goes on after it: it does not end a
/// sentence, and the next part starts in lowercase or the first ends at a
/// comma.
fn continues(before: &str, after: &str) -> bool {
    let closers = |c: char| "”’\"')]」』》）".contains(c);
    let Some(last) = before.trim_end_matches(closers).chars().next_back() else {
        return false;
    };
    if ".!?。！？…:;：；".contains(last) {
        return false;
    }
    let first = after.chars().find(|c| c.is_alphanumeric());
    ",，、".contains(last) || first.is_some_and(char::is_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(paragraphs: &[&str]) -> (Vec<String>, Removed) {
        let blocks = paragraphs
            .iter()
            .enumerate()
            .map(|(i, p)| Block::para(p.to_string(), i + 1))
            .collect();
        let mut removed = Removed::default();
        let out = remove(blocks, &mut removed);
        (out.into_iter().map(|b| b.text).collect(), removed)
    }

    #[test]
    fn inline_and_spanning_blocks_are_removed_and_counted() {
        let (out, removed) = run(&[
            "Before [Illustration: a [nested] one] after.",
            "[Illustration:",
            "“He came down”",
            "[_Copyright 1894._]]",
            "Next.",
        ]);
        assert_eq!(out, ["Before after.", "Next."]);
        let expected = crate::manuscript::count_visible(
            "[Illustration: a [nested] one] [Illustration:“He came down”[_Copyright 1894._]]",
        );
        assert_eq!(removed.0[Removed::BRACKETS], expected);
    }

    #[test]
    fn editorial_keywords_and_nesting() {
        let one = |p: &str| run(&[p]).0;
        assert_eq!(one("[Illustration] It was dark."), ["It was dark."]);
        assert_eq!(
            one("Before [Illustration: _Reading Jane’s Letters._ [inner] ] after."),
            ["Before after."]
        );
        assert_eq!(
            one("A[footnote 1: see p. 3] B [TRANSCRIBER'S NOTE: typo] C"),
            ["A B C"]
        );
        assert_eq!(one("[Transcriber’s note: fixed]Done."), ["Done."]);
        assert!(one("[Illustration: unclosed still inside").is_empty());
        assert_eq!(
            one("[Illustrations are nice] [sic] stays."),
            ["[Illustrations are nice] [sic] stays."]
        );
    }

    /// Seen: an `[Illustration]` block in the middle of a sentence split it
    /// into two paragraphs.
    #[test]
    fn a_sentence_interrupted_by_a_block_is_joined() {
        let (out, _) = run(&[
            "Lady Lucas quieted her fears a little by starting the idea of his",
            "[Illustration:",
            "“When the Party entered”",
            "[_Copyright 1894 by George Allen._]]",
            "being gone to London only to get a large party for the ball.",
            "[Illustration: “I’m the tallest”]",
            "A new paragraph.",
        ]);
        assert_eq!(
            out,
            [
                "Lady Lucas quieted her fears a little by starting the idea of his being gone \
                 to London only to get a large party for the ball.",
                "A new paragraph."
            ]
        );
        let (out, _) = run(&["他说，", "[Illustration]", "然后走了。"]);
        assert_eq!(out, ["他说，然后走了。"]);
    }
}
