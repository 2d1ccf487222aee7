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
    let mut used = vec![false; lexicon.entries().len()];
    paragraph_noting(text, lang, limits, lexicon, &mut used)
}

/// [`paragraph`], marking in `used` (one flag per lexicon entry) the
/// entries that match in it. They are matched in the segments as split
/// without a lexicon, before any split for length, so an entry counts as
/// used exactly when it matches in the text.
pub fn paragraph_noting(
    text: &str,
    lang: Lang,
    limits: Limits,
    lexicon: &Lexicon,
    used: &mut [bool],
) -> (Vec<Spoken>, u64) {
    let (pieces, paused) = segment::split_counted(text, lang, limits);
    let mut out = Vec::with_capacity(pieces.len());
    for piece in pieces {
        fit(
            piece,
            lang,
            limits,
            limits,
            lexicon,
            &mut out,
            Some(&mut *used),
        );
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
    noting: Option<&mut [bool]>,
) {
    let seg_lang = match lang {
        Lang::Auto => segment::detect_lang(&text),
        other => other,
    };
    let (spoken, used) = lexicon.apply(&text, seg_lang);
    if let Some(flags) = noting {
        for &i in &used {
            if let Some(flag) = flags.get_mut(i) {
                *flag = true;
            }
        }
    }
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
                fit(piece, lang, limits, tighter, lexicon, out, None);
            }
        }
        None => out.push(Spoken {
            text,
            spoken: Some(spoken),
        }),
    }
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
