//! Preparation: the raw lines of one paragraph into the text a voice reads.
//!
//! Hard-wrapped lines are joined (no space between two Chinese lines), and
//! markup that must not be read aloud is removed: Markdown emphasis markers,
//! links and images (their text stays), inline code backticks, and with
//! [`Prepare::skip_brackets`] the editorial blocks of Gutenberg texts
//! (`[Illustration: ...]`, `[Footnote ...]`, `[Transcriber's note ...]`).
//! Headings, code blocks and HTML comments belong to the manuscript module.
//!
//! Emphasis judgement: a `*`/`_` run (1 to 3 long) is a marker only when it
//! opens at the start of a word and a run of the same length closes at the
//! end of a word later on. So `snake_case`, `2*3*4`, `5 * 3` and a lone
//! footnote `*` are kept as written; intraword emphasis (`un*believ*able`)
//! is kept too, the price of never eating an underscore inside a word.

use std::sync::LazyLock;

use regex::Regex;

use super::script::is_cjk;

/// How to prepare a paragraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prepare {
    /// Remove `[Illustration ...]`, `[Footnote ...]` and `[Transcriber's
    /// note ...]` blocks, text inside included.
    pub skip_brackets: bool,
}

impl Default for Prepare {
    fn default() -> Self {
        Prepare {
            skip_brackets: true,
        }
    }
}

/// Joins the raw lines of one paragraph and strips unspoken markup; the result
/// is trimmed and has single spaces only.
pub fn prepare_paragraph(lines: &[&str], opts: &Prepare) -> String {
    let mut text = join_lines(lines);
    if text.contains('[') {
        text = strip_links(&text);
    }
    if text.contains('`') {
        text = strip_code(&text);
    }
    if opts.skip_brackets && text.contains('[') {
        text = strip_editorial(&text);
    }
    if text.contains(['*', '_']) {
        text = strip_emphasis(&text);
    }
    collapse_whitespace(&text)
}

/// Joins lines with one space, or none between two CJK characters, and
/// collapses whitespace runs (the ideographic space included).
fn join_lines(lines: &[&str]) -> String {
    let mut out = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for line in lines {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let (Some(a), Some(b)) = (out.chars().next_back(), line.chars().next())
            && !joins_tight(a, b)
        {
            out.push(' ');
        }
        push_collapsed(&mut out, line);
    }
    out
}

/// Two CJK characters, or CJK next to punctuation, join without a space;
/// anything next to a Latin letter or digit gets one.
fn joins_tight(a: char, b: char) -> bool {
    let latin = |c: char| c.is_alphanumeric() && !is_cjk(c);
    (is_cjk(a) || is_cjk(b)) && !latin(a) && !latin(b)
}

/// Appends `s` with each whitespace run turned into one space.
fn push_collapsed(out: &mut String, s: &str) {
    let mut in_ws = false;
    for c in s.chars() {
        if c.is_whitespace() {
            in_ws = true;
            continue;
        }
        if in_ws && !out.is_empty() {
            out.push(' ');
        }
        in_ws = false;
        out.push(c);
    }
}

fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_collapsed(&mut out, s);
    out
}

/// `![alt](url)` and `[text](url)` become `alt` and `text`.
fn strip_links(text: &str) -> String {
    static LINK: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"!?\[([^\[\]]*)\]\((?:[^()]|\([^()]*\))*\)")
            .unwrap_or_else(|e| unreachable!("link pattern is valid: {e}"))
    });
    LINK.replace_all(text, "$1").into_owned()
}

/// `` `code` `` and ``` ``code`` ``` become `code`.
fn strip_code(text: &str) -> String {
    static CODE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"``\s?(.+?)\s?``|`([^`]+)`")
            .unwrap_or_else(|e| unreachable!("code pattern is valid: {e}"))
    });
    CODE.replace_all(text, "$1$2").into_owned()
}

/// Removes editorial blocks in square brackets, nested brackets and all. An
/// unclosed block runs to the end of the paragraph (its `]` is on a later line
/// the caller did not join).
fn strip_editorial(text: &str) -> String {
    static START: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)\[\s*(?:illustration|footnote|transcriber(?:['’]?s)?\s+note)(?:[^\p{L}]|$)",
        )
        .unwrap_or_else(|e| unreachable!("editorial pattern is valid: {e}"))
    });
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(m) = START.find(rest) {
        out.push_str(&rest[..m.start()]);
        out.push(' ');
        let block = &rest[m.start()..];
        rest = &block[closing_bracket(block)..];
    }
    out.push_str(rest);
    out
}

/// Byte offset just past the `]` matching the `[` that opens `block`, or the
/// end of `block` when it never closes.
fn closing_bracket(block: &str) -> usize {
    let mut depth = 0usize;
    for (i, c) in block.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    block.len()
}

/// One run of `*` or `_` in the text.
#[derive(Debug, Clone, Copy)]
struct Run {
    start: usize,
    len: usize,
    marker: u8,
    can_open: bool,
    can_close: bool,
}

/// Removes paired emphasis markers (`_x_`, `*x*`, `**x**`, `__x__`).
fn strip_emphasis(text: &str) -> String {
    let runs = marker_runs(text);
    let mut remove = vec![false; runs.len()];
    let mut openers: Vec<usize> = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let matching = run.can_close.then(|| {
            openers
                .iter()
                .rposition(|&o| runs[o].marker == run.marker && runs[o].len == run.len)
        });
        if let Some(Some(pos)) = matching {
            remove[openers[pos]] = true;
            remove[i] = true;
            openers.truncate(pos);
        } else if run.can_open {
            openers.push(i);
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (run, _) in runs.iter().zip(&remove).filter(|(_, r)| **r) {
        out.push_str(&text[last..run.start]);
        last = run.start + run.len;
    }
    out.push_str(&text[last..]);
    out
}

/// Every run of 1 to 3 `*` or `_`, with whether it may open or close.
fn marker_runs(text: &str) -> Vec<Run> {
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let marker = bytes[i];
        if marker != b'*' && marker != b'_' {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i] == marker {
            i += 1;
        }
        let len = i - start;
        if len > 3 {
            continue;
        }
        let before = text[..start].chars().next_back();
        let after = text[i..].chars().next();
        let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        let space = |c: Option<char>| c.is_none_or(char::is_whitespace);
        runs.push(Run {
            start,
            len,
            marker,
            can_open: !space(after) && !word(before),
            can_close: !space(before) && !word(after),
        });
    }
    runs
}
