//! Lists run together in one paragraph (`1. Eggs 2. Milk`, `• one • two`):
//! where each item starts, and which word before a period is only an item's
//! marker. An item start is a boundary even without a terminator; a marker's
//! period is not one.

use super::text::Text;
use crate::segment::script::is_bullet;

/// Char indices where a new list item starts, when the paragraph opens like a
/// list: with a bullet (`• a • b`), or with a marker (`1.`, `1)`, `1.)`, `a.`)
/// followed later by the next marker in sequence (`2.`, `b.`).
pub(super) fn list_items(text: &Text) -> Vec<usize> {
    let start = (0..text.len())
        .find(|&i| !text.is_ws(i))
        .unwrap_or(text.len());
    let Some(first) = text.ch(start) else {
        return Vec::new();
    };
    if is_bullet(first) {
        return (start + 1..text.len())
            .filter(|&q| text.ch(q) == Some(first) && text.is_ws(q - 1))
            .collect();
    }
    let Some(marker) = Marker::parse(text, start) else {
        return Vec::new();
    };
    let mut items = Vec::new();
    let mut want = marker.next();
    for q in start + 1..text.len() {
        if text.is_ws(q - 1) && want.matches_at(text, q) {
            items.push(q);
            want = want.next();
        }
    }
    items
}

/// A list number (`1`, `12`) or a lowercase item letter (`a`) at the start of
/// a sentence.
pub(super) fn is_list_marker(word: &str) -> bool {
    let digits = (1..=3).contains(&word.len()) && word.bytes().all(|b| b.is_ascii_digit());
    let letter = word.len() == 1 && word.bytes().all(|b| b.is_ascii_lowercase());
    digits || letter
}

/// A list marker: a number or a lowercase letter, then `.`, `)` or `.)`.
#[derive(Debug, Clone, Copy)]
struct Marker {
    value: u32,
    letter: bool,
    suffix: &'static str,
}

impl Marker {
    /// The marker at char `at`, if one is there and a capitalised word or a
    /// number follows it.
    fn parse(text: &Text, at: usize) -> Option<Marker> {
        let ch = |i: usize| text.ch(i);
        let mut i = at;
        let mut value = 0u32;
        while let Some(d) = ch(i).and_then(|c| c.to_digit(10)) {
            value = value.saturating_mul(10).saturating_add(d);
            i += 1;
        }
        let letter = i == at;
        if letter {
            let c = ch(i).filter(char::is_ascii_lowercase)?;
            value = u32::from(c);
            i += 1;
        } else if i - at > 3 {
            return None;
        }
        let suffix = match (ch(i), ch(i + 1)) {
            (Some('.'), Some(')')) => ".)",
            (Some(')'), _) => ")",
            (Some('.'), _) => ".",
            _ => return None,
        };
        let after = i + suffix.len();
        let followed = ch(after).is_some_and(char::is_whitespace)
            && ch(after + 1).is_some_and(|c| c.is_uppercase() || c.is_ascii_digit());
        followed.then_some(Marker {
            value,
            letter,
            suffix,
        })
    }

    fn next(self) -> Marker {
        Marker {
            value: self.value.saturating_add(1),
            ..self
        }
    }

    fn matches_at(&self, text: &Text, at: usize) -> bool {
        Marker::parse(text, at).is_some_and(|m| {
            m.value == self.value && m.letter == self.letter && m.suffix == self.suffix
        })
    }
}
