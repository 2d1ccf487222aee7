//! Limits: sentences over `max_chars`/`max_bytes` cut into balanced pieces at
//! the best boundary, and unspeakable pieces joined to a neighbour.
//!
//! Cut preference, best first: a sentence end inside a Chinese quotation,
//! `；;`, `：:`, `，,、`, whitespace, any grapheme boundary. The cut is looked
//! for near an even share of the sentence (310 chars make two pieces of
//! about 155, not 300 + 10); only when that window has no word boundary is
//! the whole allowed range searched.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;

use super::boundary::Boundaries;
use super::script::is_closer;
use super::{Limits, is_speakable};

/// Cut levels, best first.
const SOFT: u8 = 0;
const SEMICOLON: u8 = 1;
const COLON: u8 = 2;
const COMMA: u8 = 3;
const SPACE: u8 = 4;
const GRAPHEME: u8 = 5;
/// Inside a `《》` title: the last resort.
const TITLE: u8 = 6;

/// Limits raised to what one character needs, so every input has an answer.
pub(crate) fn effective(limits: Limits) -> Limits {
    Limits {
        max_chars: limits.max_chars.max(1),
        max_bytes: limits.max_bytes.max(4),
    }
}

/// The sentences between the boundaries, each trimmed and cut to the limits.
pub(crate) fn fit_sentences(text: &str, b: &Boundaries, limits: Limits) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for end in b.hard.iter().copied().chain(std::iter::once(text.len())) {
        let sentence = trim(text, start..end);
        start = end;
        if sentence.is_empty() {
            continue;
        }
        if fits(text, sentence.clone(), limits) {
            out.push(sentence);
        } else {
            let soft = soft_within(&b.soft, &sentence);
            split_long(text, sentence, soft, &b.titles, limits, &mut out);
        }
    }
    out
}

/// Joins each unspeakable piece to the previous piece, or else to the next;
/// when it fits with neither it becomes a pause: left out, and its
/// non-whitespace chars added to `paused`.
pub(crate) fn join_unspeakable(
    text: &str,
    pieces: Vec<Range<usize>>,
    limits: Limits,
    paused: &mut u64,
) -> Vec<Range<usize>> {
    let visible = |r: &Range<usize>| {
        text[r.clone()]
            .chars()
            .filter(|c| !c.is_whitespace())
            .count() as u64
    };
    let mut out: Vec<Range<usize>> = Vec::with_capacity(pieces.len());
    let mut pending: Option<Range<usize>> = None;
    for piece in pieces {
        if is_speakable(&text[piece.clone()]) {
            let joined = pending.take().map(|u| u.start..piece.end);
            match joined {
                Some(j) if fits(text, j.clone(), limits) => out.push(j),
                Some(j) => {
                    *paused += visible(&(j.start..piece.start));
                    out.push(piece);
                }
                None => out.push(piece),
            }
            continue;
        }
        if let Some(last) = out.last_mut() {
            let joined = last.start..piece.end;
            if fits(text, joined.clone(), limits) {
                *last = joined;
                pending = None;
                continue;
            }
        }
        pending = match pending {
            Some(u) if fits(text, u.start..piece.end, limits) => Some(u.start..piece.end),
            Some(u) => {
                *paused += visible(&u);
                Some(piece)
            }
            None => Some(piece),
        };
    }
    if let Some(u) = pending {
        *paused += visible(&u);
    }
    out
}

/// True when `text[r]` is within both limits.
fn fits(text: &str, r: Range<usize>, limits: Limits) -> bool {
    let bytes = r.len();
    bytes <= limits.max_bytes
        && (bytes <= limits.max_chars || text[r].chars().count() <= limits.max_chars)
}

/// The soft boundaries strictly inside `r`.
fn soft_within<'a>(soft: &'a [usize], r: &Range<usize>) -> &'a [usize] {
    let a = soft.partition_point(|&b| b <= r.start);
    let z = soft.partition_point(|&b| b < r.end);
    &soft[a..z.max(a)]
}

/// Shrinks `r` past whitespace at both ends, a whole grapheme at a time (a
/// space carrying a combining mark is not trimmed).
pub(crate) fn trim(text: &str, r: Range<usize>) -> Range<usize> {
    let (mut s, mut e) = (r.start, r.end);
    while s < e && text[s..e].starts_with(char::is_whitespace) {
        match text[s..e].graphemes(true).next() {
            Some(g) if g.chars().all(char::is_whitespace) => s += g.len(),
            _ => break,
        }
    }
    while e > s && text[s..e].ends_with(char::is_whitespace) {
        match text[s..e].graphemes(true).next_back() {
            Some(g) if g.chars().all(char::is_whitespace) => e -= g.len(),
            _ => break,
        }
    }
    s..e
}

/// A possible cut before `byte`, `chars` chars into the sentence.
#[derive(Debug, Clone, Copy)]
struct Cut {
    byte: usize,
    chars: usize,
    level: u8,
}

/// Where a cut is allowed: every grapheme boundary inside `r`, graded.
fn cuts(text: &str, r: &Range<usize>, soft: &[usize], titles: &[Range<usize>]) -> Vec<Cut> {
    let mut out = Vec::new();
    let mut chars = 0;
    let mut pending: Option<u8> = None;
    let mut soft = soft.iter().copied().peekable();
    for (off, g) in text[r.clone()].grapheme_indices(true) {
        let first = g.chars().next().unwrap_or(' ');
        if off > 0 {
            let byte = r.start + off;
            while soft.next_if(|&b| b < byte).is_some() {}
            let level = if soft.next_if_eq(&byte).is_some() {
                SOFT
            } else if first.is_whitespace() {
                pending.unwrap_or(SPACE)
            } else if is_closer(first) {
                GRAPHEME
            } else {
                pending.unwrap_or(GRAPHEME)
            };
            let in_title = titles.iter().any(|t| t.start < byte && byte < t.end);
            let level = if in_title { TITLE } else { level };
            out.push(Cut { byte, chars, level });
        }
        chars += g.chars().count();
        pending = match punct_level(first) {
            Some(level) => Some(level),
            None if is_closer(first) => pending,
            None => None,
        };
    }
    out
}

fn punct_level(c: char) -> Option<u8> {
    match c {
        '；' | ';' => Some(SEMICOLON),
        '：' | ':' => Some(COLON),
        '，' | ',' | '、' => Some(COMMA),
        _ => None,
    }
}

/// Cuts the trimmed sentence `r` into pieces within the limits.
fn split_long(
    text: &str,
    r: Range<usize>,
    soft: &[usize],
    titles: &[Range<usize>],
    limits: Limits,
    out: &mut Vec<Range<usize>>,
) {
    let cuts = cuts(text, &r, soft, titles);
    let total_chars = text[r.clone()].chars().count();
    let mut at = Cut {
        byte: r.start,
        chars: 0,
        level: SOFT,
    };
    loop {
        let rest = at.byte..r.end;
        if fits(text, rest.clone(), limits) {
            push_trimmed(text, rest, out);
            return;
        }
        let next = choose_cut(&cuts, at, r.end, total_chars, limits)
            .map(|c| skip_whitespace(text, &cuts, c))
            .unwrap_or_else(|| cut_inside_grapheme(text, at, limits));
        push_trimmed(text, at.byte..next.byte, out);
        at = next;
    }
}

fn push_trimmed(text: &str, r: Range<usize>, out: &mut Vec<Range<usize>>) {
    let r = trim(text, r);
    if !r.is_empty() {
        out.push(r);
    }
}

/// The best cut after `at`: lowest level, then closest to an even share,
/// first inside the balanced window, then anywhere the piece fits.
fn choose_cut(
    cuts: &[Cut],
    at: Cut,
    end: usize,
    total_chars: usize,
    limits: Limits,
) -> Option<Cut> {
    let rest_bytes = end - at.byte;
    let rest_chars = total_chars - at.chars;
    let pieces = rest_chars
        .div_ceil(limits.max_chars)
        .max(rest_bytes.div_ceil(limits.max_bytes))
        .max(2);
    // Balance on whichever limit binds harder.
    let by_bytes = rest_bytes * limits.max_chars > rest_chars * limits.max_bytes;
    let measure = move |c: &Cut| {
        if by_bytes {
            c.byte - at.byte
        } else {
            c.chars - at.chars
        }
    };
    let share = if by_bytes { rest_bytes } else { rest_chars }.div_ceil(pieces);

    let after = &cuts[cuts.partition_point(|c| c.byte <= at.byte)..];
    let fit_len = after.partition_point(|c| {
        c.byte - at.byte <= limits.max_bytes && c.chars - at.chars <= limits.max_chars
    });
    let fitting = &after[..fit_len];
    let balanced = |c: &&Cut| (share / 2..=share + share / 2).contains(&measure(c));

    let best = |max_level: u8, only_balanced: bool| {
        fitting
            .iter()
            .filter(|c| c.level <= max_level && (!only_balanced || balanced(c)))
            .min_by_key(|c| (c.level, measure(c).abs_diff(share)))
            .copied()
    };
    best(SPACE, true)
        .or_else(|| best(SPACE, false))
        .or_else(|| best(GRAPHEME, true))
        .or_else(|| best(GRAPHEME, false))
        .or_else(|| best(TITLE, false))
}

/// Moves a cut before whitespace past the whole whitespace run: the run is
/// trimmed from the piece that ends there, and the next piece starts at a word.
fn skip_whitespace(text: &str, cuts: &[Cut], c: Cut) -> Cut {
    let i = cuts.partition_point(|x| x.byte <= c.byte);
    let mut best = c;
    for next in &cuts[i..] {
        if text[best.byte..next.byte].chars().all(char::is_whitespace) {
            best = *next;
        } else {
            break;
        }
    }
    best
}

/// Last resort for a single grapheme cluster over the limits: cut between
/// its chars (at least one char per piece, so the loop always advances).
fn cut_inside_grapheme(text: &str, at: Cut, limits: Limits) -> Cut {
    let mut byte = at.byte;
    let mut chars = 0;
    for c in text[at.byte..].chars() {
        let next_bytes = byte + c.len_utf8() - at.byte;
        if chars > 0 && (chars + 1 > limits.max_chars || next_bytes > limits.max_bytes) {
            break;
        }
        byte += c.len_utf8();
        chars += 1;
    }
    Cut {
        byte,
        chars: at.chars + chars,
        level: GRAPHEME,
    }
}
