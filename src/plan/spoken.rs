//! What a voice is sent for one paragraph: its segments (see
//! [`crate::segment`]), each with the pronunciation lexicon applied, and
//! each within the limits as spoken too.
//!
//! A lexicon entry can make a segment longer than the limits (a short name
//! said in a long way); such a segment is split again, from its shown text,
//! with tighter limits until every piece fits as spoken.

use crate::lexicon::Lexicon;
use crate::segment::{self, Lang, Limits};

/// One segment: the text shown (manifest, subtitles) and the text spoken
/// when the lexicon changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spoken {
    pub text: String,
    pub spoken: Option<String>,
}

impl Spoken {
    /// The text sent to the voice.
    pub fn sent(&self) -> &str {
        self.spoken.as_deref().unwrap_or(&self.text)
    }
}

/// The segments of one paragraph as sent, and the characters the pause rule
/// left out.
pub fn paragraph(text: &str, lang: Lang, limits: Limits, lexicon: &Lexicon) -> (Vec<Spoken>, u64) {
    let (pieces, paused) = segment::split_counted(text, lang, limits);
    let mut out = Vec::with_capacity(pieces.len());
    for piece in pieces {
        fit(piece, lang, limits, limits, lexicon, &mut out);
    }
    (out, paused)
}

/// Applies the lexicon to one segment, splitting it again (with halved
/// limits each time, starting from `split`) while the spoken text is over
/// `limits`.
fn fit(
    text: String,
    lang: Lang,
    limits: Limits,
    split: Limits,
    lexicon: &Lexicon,
    out: &mut Vec<Spoken>,
) {
    let seg_lang = match lang {
        Lang::Auto => segment::detect_lang(&text),
        other => other,
    };
    let (spoken, used) = lexicon.apply(&text, seg_lang);
    if used.is_empty() {
        out.push(Spoken { text, spoken: None });
        return;
    }
    let fits = spoken.chars().count() <= limits.max_chars && spoken.len() <= limits.max_bytes;
    let tighter = Limits {
        max_chars: split.max_chars.min(text.chars().count()) / 2,
        max_bytes: split.max_bytes.min(text.len()) / 2,
    };
    // A split must not cut through a replaced word: the pieces together
    // must match as many entries as the whole did.
    let pieces = (!fits && tighter.max_chars >= 1)
        .then(|| segment::split_counted(&text, lang, tighter).0)
        .filter(|pieces| {
            let matched: usize = pieces
                .iter()
                .map(|p| lexicon.apply(p, seg_lang).1.len())
                .sum();
            pieces.len() > 1 && matched == used.len()
        });
    match pieces {
        Some(pieces) => {
            for piece in pieces {
                fit(piece, lang, limits, tighter, lexicon, out);
            }
        }
        None => out.push(Spoken {
            text,
            spoken: Some(spoken),
        }),
    }
}

/// Lexicon entries that match nowhere in the book, for `plan`.
pub fn unused_entries<'a>(
    lexicon: &'a Lexicon,
    segments: impl IntoIterator<Item = &'a str>,
    lang: Lang,
) -> Vec<&'a crate::lexicon::Entry> {
    let mut used = vec![false; lexicon.entries().len()];
    for text in segments {
        let seg_lang = match lang {
            Lang::Auto => segment::detect_lang(text),
            other => other,
        };
        for i in lexicon.apply(text, seg_lang).1 {
            used[i] = true;
        }
    }
    lexicon
        .entries()
        .iter()
        .zip(used)
        .filter(|(_, u)| !u)
        .map(|(e, _)| e)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spoken_text_is_kept_within_the_limits() {
        let lexicon = Lexicon::from_csv(
            std::path::Path::new("n.csv"),
            "text,say_as\nXi,the very long way of saying this short name\n".as_bytes(),
        )
        .unwrap();
        let limits = Limits {
            max_chars: 40,
            max_bytes: 1024,
        };
        let (segs, _) = paragraph("Xi met Xi and Xi at noon.", Lang::En, limits, &lexicon);
        assert!(segs.len() > 1, "{segs:?}");
        let shown: Vec<&str> = segs.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(shown.join(" "), "Xi met Xi and Xi at noon.");
        for s in &segs {
            assert!(s.sent().chars().count() <= 45, "{s:?}");
        }
    }
}
