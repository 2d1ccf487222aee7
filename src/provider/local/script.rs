//! Which of the two bundled voices reads which part of a text in `auto`
//! mode: runs of Han characters go to Mandarin, everything else to English;
//! and trimming the pause the engine leaves after each run.

/// A stretch of text in one script: Han goes to the Mandarin voice, the rest
/// to English.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Run<'a> {
    pub(super) text: &'a str,
    pub(super) han: bool,
}

/// Splits text where it switches between Han and other letters. Characters
/// that belong to neither (spaces, digits, punctuation) stay with the run
/// they follow, so "2024年" and "hello, world" are not cut apart.
pub(super) fn script_runs(text: &str) -> Vec<Run<'_>> {
    let mut runs = Vec::new();
    let mut start = 0;
    let mut current: Option<bool> = None;
    for (i, c) in text.char_indices() {
        let Some(han) = letter_script(c) else {
            continue;
        };
        match current {
            Some(cur) if cur != han => {
                runs.push(Run {
                    text: &text[start..i],
                    han: cur,
                });
                start = i;
                current = Some(han);
            }
            Some(_) => {}
            None => current = Some(han),
        }
    }
    runs.push(Run {
        text: &text[start..],
        han: current.unwrap_or(false),
    });
    runs
}

/// `Some(true)` for Han, `Some(false)` for other letters, `None` for
/// characters that read the same in either voice's context.
fn letter_script(c: char) -> Option<bool> {
    if is_han(c) {
        Some(true)
    } else if c.is_alphabetic() {
        Some(false)
    } else {
        None
    }
}

pub(super) fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2EBEF}'
        | '\u{30000}'..='\u{3134F}')
}

/// Drops the near-silent tail of a run (below about -54 dBFS).
pub(super) fn trim_trailing_silence(pcm: &mut Vec<i16>) {
    const THRESHOLD: u16 = 64;
    let keep = pcm
        .iter()
        .rposition(|s| s.unsigned_abs() > THRESHOLD)
        .map_or(0, |i| i + 1);
    pcm.truncate(keep);
}
