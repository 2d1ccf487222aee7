//! Property tests: for any input the segmenter keeps its limits, loses and
//! reorders nothing speakable, and never cuts inside a grapheme cluster.

use proptest::prelude::*;
use unicode_segmentation::UnicodeSegmentation;

use crate::segment::{
    Lang, Limits, is_speakable, prepare_paragraph, split_counted, split_paragraph, split_ranges,
};

/// Pieces of text the segmenter finds hard: CJK and Latin words, every kind
/// of terminator and quote, emoji (ZWJ sequences and flags), combining
/// marks, whitespace and long runs without spaces.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[\u{4e00}-\u{4e3f}]{1,6}",
        3 => "[a-zA-Z]{1,8}",
        1 => "(Mr|Dr|St|U\\.S|e\\.g|Jan|No|p|I|J)\\.",
        1 => "[0-9]{1,4}([.,][0-9]{1,3})?",
        4 => prop::sample::select(vec![
            "。", "！", "？", ".", "!", "?", "…", "……", "...", ". . .", "?!", "！？",
            "”", "“", "‘", "’", "「", "」", "『", "』", "(", ")", "（", "）", "\"", "'",
            "，", ",", "、", "；", ";", "：", ":", "——", "-", "[", "]", "•", "□",
        ])
        .prop_map(str::to_string),
        4 => prop::sample::select(vec![" ", " ", "  ", "\u{3000}", "\n", "\t"]).prop_map(str::to_string),
        1 => prop::sample::select(vec!["🎉", "👍🏽", "👨‍👩‍👧", "🇨🇳", "🇬🇧", "❤️", "★"]).prop_map(str::to_string),
        1 => "[\u{0300}-\u{036f}]{1,3}",
        1 => "[a-z]{20,90}",
        1 => "[\u{4e00}-\u{9fa5}]{30,150}",
    ]
}

fn mixed_text() -> impl Strategy<Value = String> {
    prop::collection::vec(token(), 0..120).prop_map(|t| {
        let s = t.concat();
        // Bound the input: ~2000 chars keeps the suite fast in debug builds.
        s.chars().take(2000).collect()
    })
}

/// A paragraph of a plain-text manuscript: hard-wrapped text, sometimes an
/// editorial bracket block (closed, or spanning into the next paragraph), a
/// long run of punctuation or emoji.
fn manuscript_paragraph() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => mixed_text().prop_map(|t| t.replace("\n\n", "\n")),
        1 => prop::sample::select(vec![
            "[Illustration: a picture]",
            "[Illustration:",
            "still inside]",
            "[Footnote 1: see [p. 3]] after",
            "the idea of his [Sidenote: x] being gone",
            "..........",
            "= = = = = = = =",
            "🎉🎉🎉🎉🎉🎉🎉",
            "*",
            "《摔跤吧！爸爸》是一部电影。",
        ])
        .prop_map(str::to_string),
    ]
}

fn limits() -> impl Strategy<Value = Limits> {
    (20usize..=300, 60usize..=1024).prop_map(|(max_chars, max_bytes)| Limits {
        max_chars,
        max_bytes,
    })
}

fn lang() -> impl Strategy<Value = Lang> {
    prop::sample::select(vec![Lang::Zh, Lang::En, Lang::Auto])
}

fn no_whitespace(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().filter(|c| !c.is_whitespace())
}

/// The segments, whitespace removed, are the input with whitespace removed,
/// except for chars the pause rule left out: a subsequence that skips no
/// letter, ideograph or digit, and skips exactly as many chars as counted.
fn check_nothing_lost(input: &str, segs: &[String], paused: u64) -> Result<(), TestCaseError> {
    let joined: String = segs.iter().flat_map(|s| no_whitespace(s)).collect();
    let mut want = joined.chars().peekable();
    let mut skipped = 0u64;
    for c in no_whitespace(input) {
        if want.peek() == Some(&c) {
            want.next();
        } else {
            prop_assert!(!c.is_alphanumeric(), "speakable {c:?} lost or reordered");
            skipped += 1;
        }
    }
    prop_assert!(want.next().is_none(), "segments hold text not in the input");
    prop_assert_eq!(skipped, paused, "chars left out differ from the count");
    Ok(())
}

/// The length in chars of the longest grapheme cluster in `s`.
fn longest_grapheme(s: &str) -> usize {
    s.graphemes(true)
        .map(|g| g.chars().count())
        .max()
        .unwrap_or(0)
}

fn check_segments(input: &str, lang: Lang, limits: Limits) -> Result<(), TestCaseError> {
    let (segs, paused) = split_counted(input, lang, limits);
    check_limits(&segs, limits)?;
    check_nothing_lost(input, &segs, paused)?;
    check_grapheme_cuts(input, lang, limits)
}

fn check_limits(segs: &[String], limits: Limits) -> Result<(), TestCaseError> {
    for s in segs {
        prop_assert!(!s.is_empty());
        prop_assert!(
            s.chars().count() <= limits.max_chars,
            "{} chars > {}",
            s.chars().count(),
            limits.max_chars
        );
        prop_assert!(
            s.len() <= limits.max_bytes,
            "{} bytes > {}",
            s.len(),
            limits.max_bytes
        );
        prop_assert!(is_speakable(s), "unspeakable segment {s:?}");
        let first = s.graphemes(true).next().unwrap_or_default();
        let last = s.graphemes(true).next_back().unwrap_or_default();
        prop_assert!(
            !first.chars().all(char::is_whitespace),
            "untrimmed start {s:?}"
        );
        prop_assert!(
            !last.chars().all(char::is_whitespace),
            "untrimmed end {s:?}"
        );
    }
    Ok(())
}

/// Every segment starts and ends on a grapheme boundary of the input, unless
/// a single grapheme is over the limits (the documented exception).
fn check_grapheme_cuts(input: &str, lang: Lang, limits: Limits) -> Result<(), TestCaseError> {
    let mut bounds: Vec<usize> = input.grapheme_indices(true).map(|(i, _)| i).collect();
    bounds.push(input.len());
    let giant = longest_grapheme(input) > limits.max_chars.min(limits.max_bytes / 4);
    for r in split_ranges(input, lang, limits) {
        let ok = bounds.binary_search(&r.start).is_ok() && bounds.binary_search(&r.end).is_ok();
        prop_assert!(ok || giant, "segment {r:?} cuts a grapheme in {input:?}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_unicode_keeps_the_contract(input in "\\PC{0,400}", lang in lang(), limits in limits()) {
        check_segments(&input, lang, limits)?;
    }

    #[test]
    fn mixed_script_text_keeps_the_contract(input in mixed_text(), lang in lang(), limits in limits()) {
        check_segments(&input, lang, limits)?;
    }

    #[test]
    fn default_limits_keep_the_contract(input in mixed_text()) {
        check_segments(&input, Lang::Auto, Limits::default())?;
    }

    #[test]
    fn prepare_never_panics_and_is_tidy(lines in prop::collection::vec(mixed_text(), 0..4)) {
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let out = prepare_paragraph(&refs);
        prop_assert_eq!(out.trim(), out.as_str());
        prop_assert!(!out.contains("  "));
        // Nothing but whitespace changes.
        let a: String = lines.iter().flat_map(|l| no_whitespace(l)).collect();
        let b: String = no_whitespace(&out).collect();
        prop_assert_eq!(a, b);
    }

    /// A whole plain-text manuscript, paragraphs, bracket blocks and long
    /// punctuation runs included: the characters sent are the manuscript's
    /// minus what the documented rules counted, and no segment is over the
    /// limits.
    #[test]
    fn a_manuscript_loses_only_what_the_rules_count(
        paragraphs in prop::collection::vec(manuscript_paragraph(), 1..12),
        limits in limits(),
    ) {
        let text = paragraphs.join("\n\n");
        let m = crate::manuscript::split_text(
            &text,
            std::path::Path::new("book.txt"),
            crate::manuscript::Format::Text,
            &crate::job::ChapterRule::Headings,
            true,
        );
        let mut sent = 0u64;
        let mut paused = 0u64;
        for p in m.chapters.iter().flat_map(|c| &c.paragraphs) {
            let (segs, p_paused) = split_counted(&p.text, Lang::Auto, limits);
            check_limits(&segs, limits)?;
            sent += segs.iter().map(|s| crate::manuscript::count_visible(s)).sum::<u64>();
            paused += p_paused;
        }
        let removed = m.removed.total();
        prop_assert_eq!(
            crate::manuscript::count_visible(&text),
            sent + removed + paused,
            "removed by rule: {:?}, paused {}", m.removed, paused
        );
    }
}

#[test]
fn tiny_limits_still_answer() {
    let limits = Limits {
        max_chars: 0,
        max_bytes: 0,
    };
    let segs = split_paragraph("天地 ok。e\u{301}!", Lang::Auto, limits);
    // One char per segment: the punctuation and the lone combining mark fit
    // with no neighbour and are dropped; the two-char grapheme is cut.
    assert_eq!(segs, ["天", "地", "o", "k", "e"]);
}
