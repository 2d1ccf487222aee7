//! Preparation: the raw hard-wrapped lines of one paragraph into one line
//! of text: lines joined with one space, or none between two Chinese
//! characters, and whitespace runs collapsed. Markup belongs to the
//! manuscript readers (plain text has none; Markdown, EPUB and DOCX are
//! parsed), so nothing else changes here.

use super::script::is_cjk;

/// Joins the raw lines of one paragraph; the result is trimmed and has
/// single spaces only.
pub fn prepare_paragraph(lines: &[&str]) -> String {
    join_lines(lines)
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
