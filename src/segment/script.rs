//! Character classes the segmenter decides by: which script a character
//! belongs to, which punctuation ends, opens or closes a sentence.

/// A Han ideograph (CJK Unified Ideographs and their extensions,
/// compatibility ideographs, and `〇`).
pub fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3007}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}'
        | '\u{30000}'..='\u{3134F}')
}

/// Punctuation and forms used in CJK text: the CJK symbols block and the
/// full-width forms (`，。：；！？（）` and friends).
pub(crate) fn is_cjk_punct(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303F}' | '\u{FF00}'..='\u{FF65}')
}

/// Han or CJK punctuation: text that joins without spaces.
pub(crate) fn is_cjk(c: char) -> bool {
    is_han(c) || is_cjk_punct(c)
}

/// Full-width sentence terminators: always Chinese rules.
pub(crate) fn is_zh_terminator(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '｡')
}

/// Every character that may end a sentence, ellipses included.
pub(crate) fn is_terminator(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…' | '‥') || is_zh_terminator(c)
}

/// Closing quotes and brackets: they stay with the sentence they close.
pub(crate) fn is_closer(c: char) -> bool {
    matches!(
        c,
        '”' | '’'
            | '」'
            | '』'
            | ')'
            | '）'
            | '"'
            | '\''
            | ']'
            | '］'
            | '】'
            | '》'
            | '〉'
            | '〕'
            | '}'
            | '｝'
            | '»'
            | '›'
    )
}

/// Opening quotes, brackets and dashes that may precede a sentence's first word.
pub(crate) fn is_opener(c: char) -> bool {
    matches!(
        c,
        '“' | '‘'
            | '「'
            | '『'
            | '('
            | '（'
            | '"'
            | '\''
            | '['
            | '［'
            | '【'
            | '《'
            | '〈'
            | '〔'
            | '{'
            | '«'
            | '‹'
            | '-'
            | '—'
            | '–'
            | '_'
            | '*'
    )
}

/// Chinese quotation marks whose contents stay one segment when they fit.
pub(crate) fn zh_quote_open(c: char) -> bool {
    matches!(c, '“' | '「' | '『')
}

pub(crate) fn zh_quote_close(c: char) -> bool {
    matches!(c, '”' | '」' | '』')
}

/// List bullets that start a new item when a paragraph opens with one.
pub(crate) fn is_bullet(c: char) -> bool {
    matches!(c, '•' | '⁃' | '◦' | '‣' | '▪' | '●')
}

/// Counts Han characters and runs of other letters (words).
pub(crate) fn count_han_and_words(text: &str) -> (usize, usize) {
    let mut han = 0;
    let mut words = 0;
    let mut in_word = false;
    for c in text.chars() {
        if is_han(c) {
            han += 1;
            in_word = false;
        } else if c.is_alphabetic() {
            if !in_word {
                words += 1;
            }
            in_word = true;
        } else {
            in_word = false;
        }
    }
    (han, words)
}
