//! One test per rule of the segmentation issue, English and Chinese.

use crate::segment::{Lang, Limits, detect_lang, is_speakable, prepare_paragraph};

fn split(text: &str, lang: Lang) -> Vec<String> {
    crate::segment::split_paragraph(text, lang, Limits::default())
}

fn split_with(text: &str, max_chars: usize, max_bytes: usize) -> Vec<String> {
    let limits = Limits {
        max_chars,
        max_bytes,
    };
    crate::segment::split_paragraph(text, Lang::Auto, limits)
}

fn prep(lines: &[&str]) -> String {
    prepare_paragraph(lines)
}

// --- English sentence ends -------------------------------------------------

#[test]
fn en_crates_md_example_splits_right() {
    let text = "Mr. Smith went to Washington. He met the U.S. president at 3 p.m. on Jan. 5. \
                \"Is it true?\" she asked. Dr. Jones said e.g. apples are fine. It cost $3.50. The end";
    assert_eq!(
        split(text, Lang::En),
        [
            "Mr. Smith went to Washington.",
            "He met the U.S. president at 3 p.m. on Jan. 5.",
            "\"Is it true?\" she asked.",
            "Dr. Jones said e.g. apples are fine.",
            "It cost $3.50.",
            "The end",
        ]
    );
}

#[test]
fn en_titles_never_end_a_sentence() {
    for title in [
        "Mr.", "Mrs.", "Ms.", "Dr.", "St.", "Prof.", "Gen.", "Col.", "Capt.", "Rev.", "Hon.",
    ] {
        let text = format!("I met {title} Bennet. He was kind.");
        assert_eq!(
            split(&text, Lang::En),
            [format!("I met {title} Bennet."), "He was kind.".to_string()],
            "{title}"
        );
    }
}

#[test]
fn en_postpositive_titles_end_only_before_an_opener() {
    assert_eq!(
        split("John Smith Jr. Went home.", Lang::En),
        ["John Smith Jr. Went home."]
    );
    assert_eq!(
        split("I saw John Smith Jr. He waved.", Lang::En),
        ["I saw John Smith Jr.", "He waved."]
    );
    assert_eq!(split("Ask Smith Sr. The elder knows.", Lang::En).len(), 2);
}

#[test]
fn en_months_before_a_day_continue() {
    for month in [
        "Jan.", "Feb.", "Mar.", "Apr.", "Aug.", "Sept.", "Sep.", "Oct.", "Nov.", "Dec.",
    ] {
        let text = format!("It was {month} 5 when we met. Then we left.");
        assert_eq!(split(&text, Lang::En).len(), 2, "{month}");
    }
}

#[test]
fn en_latin_abbreviations_continue() {
    assert_eq!(
        split(
            "Bring fruit, e.g. Apples or pears. Also bread, i.e. Rye. Red vs. Blue is old.",
            Lang::En
        ),
        [
            "Bring fruit, e.g. Apples or pears.",
            "Also bread, i.e. Rye.",
            "Red vs. Blue is old."
        ]
    );
    assert_eq!(
        split("We bought pens, paper, etc. The shop was shut.", Lang::En),
        ["We bought pens, paper, etc.", "The shop was shut."]
    );
}

#[test]
fn en_country_initials_follow_the_next_word() {
    assert_eq!(
        split("He lives in the U.K. Government housing.", Lang::En).len(),
        1
    );
    assert_eq!(
        split("He lives in the U.K. He likes it.", Lang::En).len(),
        2
    );
}

#[test]
fn en_am_pm_continue_before_a_lowercase_or_name() {
    assert_eq!(split("At 5 a.m. the bank opened.", Lang::En).len(), 1);
    assert_eq!(split("We met at 6 p.m. We talked.", Lang::En).len(), 2);
}

#[test]
fn en_no_before_a_number_continues() {
    assert_eq!(
        split("See No. 5 on the list. It is red.", Lang::En).len(),
        2
    );
    assert_eq!(
        split("She said no. Nobody argued.", Lang::En),
        ["She said no.", "Nobody argued."]
    );
}

#[test]
fn en_initials_continue() {
    assert_eq!(
        split("The Hobbit is by J. R. R. Tolkien. It is long.", Lang::En),
        ["The Hobbit is by J. R. R. Tolkien.", "It is long."]
    );
}

#[test]
fn en_decimals_and_amounts_continue() {
    assert_eq!(
        split(
            "It cost $3.50 and weighed 1,000.5 kg. That is 2.5 times more.",
            Lang::En
        ),
        [
            "It cost $3.50 and weighed 1,000.5 kg.",
            "That is 2.5 times more."
        ]
    );
}

#[test]
fn en_ellipsis_inside_a_sentence_continues() {
    assert_eq!(split("I thought... well, never mind.", Lang::En).len(), 1);
    assert_eq!(split("I thought … maybe not.", Lang::En).len(), 1);
    assert_eq!(split("And then … I ran.", Lang::En).len(), 1);
    assert_eq!(split("He left… The door closed.", Lang::En).len(), 2);
}

#[test]
fn en_lowercase_continuation_after_a_question_stays() {
    assert_eq!(
        split("\"Is it true?\" she asked.", Lang::En),
        ["\"Is it true?\" she asked."]
    );
    assert_eq!(
        split("“Is it true?” she asked.", Lang::En),
        ["“Is it true?” she asked."]
    );
    assert_eq!(split("“Stop!” cried he.", Lang::En).len(), 1);
}

#[test]
fn en_combined_marks_and_closers_stay_with_the_sentence() {
    assert_eq!(
        split("Really?! (He was sure.) “Yes.” 'Fine.' Done.", Lang::En),
        ["Really?!", "(He was sure.)", "“Yes.”", "'Fine.'", "Done."]
    );
}

// --- Chinese sentence ends -------------------------------------------------

#[test]
fn zh_crates_md_example_splits_right() {
    let text = "第一章 风起。他说：“你好！”然后离开了……真的吗？是的。最后一句没有标点";
    assert_eq!(
        split(text, Lang::Zh),
        [
            "第一章 风起。",
            "他说：“你好！”",
            "然后离开了……真的吗？",
            "是的。",
            "最后一句没有标点"
        ]
    );
}

#[test]
fn zh_full_and_half_width_terminators_both_end() {
    assert_eq!(
        split("你好。我好！他好？", Lang::Zh),
        ["你好。", "我好！", "他好？"]
    );
    assert_eq!(
        split("你好.我好!他好?", Lang::Zh),
        ["你好.", "我好!", "他好?"]
    );
    assert_eq!(
        split("真的吗？！是的！？好。", Lang::Zh),
        ["真的吗？！", "是的！？", "好。"]
    );
}

#[test]
fn zh_ellipsis_and_dash_inside_a_sentence_continue() {
    assert_eq!(
        split("他走了……又回来了。", Lang::Zh),
        ["他走了……又回来了。"]
    );
    assert_eq!(
        split("他走了——又回来了。", Lang::Zh),
        ["他走了——又回来了。"]
    );
    assert_eq!(split("他走了…又回来了。", Lang::Zh), ["他走了…又回来了。"]);
}

/// The chosen rule: `……` ends a sentence only when a closing quote or
/// bracket follows it; `……。` ends at the `。`.
#[test]
fn zh_ellipsis_ends_a_sentence_only_before_a_closer() {
    assert_eq!(
        split("“我不知道……”他走了。", Lang::Zh),
        ["“我不知道……”", "他走了。"]
    );
    assert_eq!(
        split("他想了想……。然后走了。", Lang::Zh),
        ["他想了想……。", "然后走了。"]
    );
}

#[test]
fn zh_quoted_dialogue_stays_whole() {
    let text =
        "众猴都道：“你还先走，带我们进去，进去！”石猴叫道：“都随我进来！进来！”那些猴都进去了。";
    assert_eq!(
        split(text, Lang::Zh),
        [
            "众猴都道：“你还先走，带我们进去，进去！”",
            "石猴叫道：“都随我进来！进来！”",
            "那些猴都进去了。",
        ]
    );
    assert_eq!(
        split("他说：「好！走吧。」", Lang::Zh),
        ["他说：「好！走吧。」"]
    );
}

#[test]
fn zh_long_dialogue_is_cut_at_its_own_sentence_ends_first() {
    let sentence = "我们一起去花果山看看吧，";
    let inner = format!("{}。", sentence.repeat(4));
    let text = format!("他说：“{inner}{inner}{inner}”");
    let segs = split_with(&text, 120, 1024);
    assert!(segs.len() >= 2);
    for s in &segs[..segs.len() - 1] {
        assert!(
            s.ends_with('。'),
            "cut at a sentence end inside the quote: {s}"
        );
    }
}

/// Regression: `叫一声“变！”，即变做…` was cut before the comma.
#[test]
fn quoted_exclamation_before_a_comma_continues() {
    assert_eq!(
        split("叫一声“变！”，即变做三二百个小猴。", Lang::Zh).len(),
        1
    );
    assert_eq!(
        split("\"Stop!\", he said. Go.", Lang::En),
        ["\"Stop!\", he said.", "Go."]
    );
}

#[test]
fn zh_unmatched_quote_does_not_swallow_the_paragraph() {
    assert_eq!(
        split("他说：“你好！我走了。", Lang::Zh),
        ["他说：“你好！", "我走了。"]
    );
}

#[test]
fn mixed_text_follows_the_script_at_each_boundary() {
    assert_eq!(
        split(
            "他说：Hello Mr. Smith. 然后走了。It was late. 好。",
            Lang::Auto
        ),
        [
            "他说：Hello Mr. Smith.",
            "然后走了。",
            "It was late.",
            "好。"
        ]
    );
    assert_eq!(
        split("他用Python写代码。Mr. Li said yes.", Lang::Zh),
        ["他用Python写代码。", "Mr. Li said yes."]
    );
}

// --- Limits ----------------------------------------------------------------

fn assert_within(segs: &[String], max_chars: usize, max_bytes: usize) {
    for s in segs {
        assert!(
            s.chars().count() <= max_chars,
            "{} chars: {s}",
            s.chars().count()
        );
        assert!(s.len() <= max_bytes, "{} bytes: {s}", s.len());
    }
}

#[test]
fn long_sentence_is_cut_into_balanced_pieces() {
    let text = format!("{}end.", "word ".repeat(62)); // 314 chars
    let segs = split_with(&text, 300, 1024);
    assert_eq!(segs.len(), 2);
    let sizes: Vec<usize> = segs.iter().map(|s| s.chars().count()).collect();
    assert!(sizes.iter().all(|&n| (120..=190).contains(&n)), "{sizes:?}");
}

/// Every mark sits inside the balanced window (a 330-char sentence, limit
/// 250: pieces of about 165), so the order of preference decides.
#[test]
fn cut_prefers_semicolon_then_colon_then_comma_then_space() {
    let filler = "a ".repeat(25);
    let with = |m1: &str, m2: &str, m3: &str| {
        format!("{filler}{filler}{filler}x{m1} {filler}y{m2} {filler}z{m3} {filler}{filler}end.")
    };
    let first = |text: String| split_with(&text, 250, 1024).remove(0);
    assert!(first(with(",", ";", ":")).ends_with("y;"));
    assert!(first(with(",", ":", ",")).ends_with("y:"));
    assert!(first(with("", ",", "")).ends_with("y,"));
    let plain = first(with("", "", ""));
    assert!((120..=190).contains(&plain.chars().count()), "{plain}");
}

/// Balance beats preference when the better mark would leave a sliver.
#[test]
fn cut_ignores_a_mark_that_would_leave_a_tiny_piece() {
    let text = format!("Yes; {}end.", "word ".repeat(62));
    let segs = split_with(&text, 300, 1024);
    assert_eq!(segs.len(), 2);
    assert!(segs[0].chars().count() > 100, "{segs:?}");
}

#[test]
fn zh_cut_prefers_semicolon_then_comma() {
    let clause = "花果山上有一块仙石";
    let text = format!("{c}，{c}，{c}；{c}，{c}，{c}、{c}。", c = clause.repeat(3));
    let segs = split_with(&text, 120, 1024);
    assert_within(&segs, 120, 1024);
    assert!(segs[0].ends_with('；'), "{segs:?}");
}

#[test]
fn byte_limit_binds_for_chinese() {
    let text = "天".repeat(200) + "。";
    let segs = split_with(&text, 300, 300);
    assert_within(&segs, 300, 300);
    assert_eq!(segs.len(), 3);
    assert_eq!(segs.concat(), text);
}

#[test]
fn text_without_spaces_is_cut_between_graphemes() {
    let text = "e\u{301}".repeat(100); // 100 graphemes, 200 chars
    let segs = split_with(&text, 30, 1024);
    assert_within(&segs, 30, 1024);
    for s in &segs {
        assert!(!s.starts_with('\u{301}'), "cut inside a grapheme");
    }
    assert_eq!(segs.concat(), text);
}

#[test]
fn closer_after_a_comma_stays_before_the_cut() {
    let text = format!("“{}，”{}。", "好".repeat(20), "走".repeat(20));
    let segs = split_with(&text, 30, 1024);
    assert!(segs[0].ends_with("，”"), "{segs:?}");
}

// --- Unspeakable text ------------------------------------------------------

#[test]
fn unspeakable_text_joins_the_previous_segment() {
    assert_eq!(
        split("Hello there. !!! 🎉", Lang::En),
        ["Hello there. !!! 🎉"]
    );
    assert_eq!(split("你好。……", Lang::Zh), ["你好。……"]);
}

#[test]
fn leading_unspeakable_text_joins_the_next_segment() {
    assert_eq!(
        split("*** Hello there. Bye.", Lang::En),
        ["*** Hello there.", "Bye."]
    );
}

#[test]
fn unspeakable_paragraph_gives_nothing() {
    assert!(split("... !!! 🎉 ——", Lang::Auto).is_empty());
    assert!(split("   ", Lang::Auto).is_empty());
    assert!(split("", Lang::Auto).is_empty());
    assert!(split("□□□", Lang::Zh).is_empty());
}

/// A long run of punctuation is a pause: left out whole, and counted.
#[test]
fn a_long_unspeakable_run_is_a_pause_whole() {
    let text = format!("{}. {}", "a".repeat(20), "!".repeat(40));
    let (segs, paused) = crate::segment::split_counted(&text, Lang::En, Limits::default());
    assert_eq!(segs, ["a".repeat(20) + "."]);
    assert_eq!(paused, 40);
}

/// A short run that fits with no neighbour is a pause too, and counted.
#[test]
fn a_short_run_without_room_is_a_pause() {
    let text = format!("{} !!", "a".repeat(30));
    let limits = Limits {
        max_chars: 30,
        max_bytes: 1024,
    };
    let (segs, paused) = crate::segment::split_counted(&text, Lang::En, limits);
    assert_eq!(segs, ["a".repeat(30)]);
    assert_eq!(paused, 2);
}

/// Seen: 243 of 700 dots, all 500 `=` of a rule and 9,711 of 10,000 `#`
/// were dropped while 289 `#` were kept in a segment a voice would read;
/// a paragraph of only emoji vanished. Now each run is one pause, counted
/// whole, and nothing of it is sent.
#[test]
fn punctuation_runs_are_never_partly_dropped() {
    for (run, lang) in [
        (".".repeat(700), Lang::En),
        ("=".repeat(500), Lang::En),
        ("#".repeat(10_000), Lang::En),
        ("🎉".repeat(7), Lang::Zh),
    ] {
        let text = format!("Before it. {run} After it.");
        let (segs, paused) = crate::segment::split_counted(&text, lang, Limits::default());
        assert_eq!(segs, ["Before it.", "After it."], "{}", run.chars().count());
        assert_eq!(paused, run.chars().count() as u64);
        let (segs, paused) = crate::segment::split_counted(&run, lang, Limits::default());
        assert!(segs.is_empty());
        assert_eq!(paused, run.chars().count() as u64);
    }
    // A paragraph of a few emoji is a pause too.
    assert_eq!(
        crate::segment::split_counted("🎉🎉", Lang::Auto, Limits::default()),
        (Vec::<String>::new(), 2)
    );
}

/// Seen: a book title in 《》 was split at its `！`.
#[test]
fn book_titles_are_never_split() {
    assert_eq!(
        split("我看了《摔跤吧！爸爸》这部电影。很好看。", Lang::Zh),
        ["我看了《摔跤吧！爸爸》这部电影。", "很好看。"]
    );
    // Over the limits, a cut inside the title is the last resort.
    let text = format!("{}，《摔跤吧，爸爸》{}", "好".repeat(12), "好".repeat(12));
    for seg in split_with(&text, 24, 1024) {
        assert_eq!(
            seg.matches('《').count(),
            seg.matches('》').count(),
            "{seg}"
        );
    }
}

#[test]
fn speakable_includes_digits_and_ideographs() {
    assert!(is_speakable("7"));
    assert!(is_speakable("天"));
    assert!(is_speakable("é"));
    assert!(!is_speakable("!?…"));
    assert!(!is_speakable("🎉👍"));
    assert!(!is_speakable("□ ——"));
    assert!(!is_speakable(""));
}

#[test]
fn detect_lang_weighs_han_against_words() {
    assert_eq!(detect_lang("我用Python写代码"), Lang::Zh);
    assert_eq!(detect_lang("The word 你好 means hello"), Lang::En);
    assert_eq!(detect_lang("123 !!!"), Lang::En);
    assert_eq!(detect_lang("西游记"), Lang::Zh);
}

#[test]
fn segments_are_trimmed_and_never_empty() {
    for seg in split("  Hello.   World.  \n  Again.  ", Lang::En) {
        assert_eq!(seg.trim(), seg);
        assert!(!seg.is_empty());
    }
}

// --- prepare_paragraph -----------------------------------------------------

#[test]
fn prepare_joins_english_lines_with_one_space() {
    assert_eq!(
        prep(&[
            "It is a truth universally  ",
            "  acknowledged, that a single",
            "man."
        ]),
        "It is a truth universally acknowledged, that a single man."
    );
}

#[test]
fn prepare_joins_chinese_lines_without_space() {
    assert_eq!(
        prep(&["　　花果山上", "有一块仙石。"]),
        "花果山上有一块仙石。"
    );
    assert_eq!(prep(&["他说：", "“你好。”"]), "他说：“你好。”");
    assert_eq!(prep(&["他用", "Python", "写代码"]), "他用 Python 写代码");
}

#[test]
fn prepare_treats_ideographic_space_as_whitespace() {
    assert_eq!(
        prep(&["第一回　灵根育孕源流出　　心性修持大道生"]),
        "第一回 灵根育孕源流出 心性修持大道生"
    );
}

/// A paragraph far over the window (a file without blank lines) is cut into
/// windows at sentence ends, and loses nothing.
#[test]
fn a_huge_paragraph_is_segmented_in_windows_without_loss() {
    let text = "One more word. ".repeat(40_000);
    assert!(text.len() > 2 * crate::segment::WINDOW_BYTES);
    let (segs, paused) = crate::segment::split_counted(&text, Lang::En, Limits::default());
    assert_eq!(paused, 0);
    assert_eq!(segs.len(), 40_000);
    assert!(segs.iter().all(|s| s == "One more word."));
}
