//! English abbreviations: which words before a period do not end a sentence,
//! and which may, depending on the word that follows.
//!
//! UAX #29 breaks after "Mr." and "Jan." (see `docs/crates.md` section 7), so
//! the period after a known abbreviation is judged here instead.

/// How a period after a word behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Abbrev {
    /// Not an abbreviation: the period ends the sentence before a capital.
    None,
    /// A title or a word that always continues (`Mr.`, `Dr.`, `e.g.`, `vs.`).
    Continues,
    /// Continues before a number (`No. 5`, `p. 55`), otherwise an ordinary word.
    BeforeNumber,
    /// Continues before a number (`Jan. 5`); otherwise may end a sentence only
    /// when a common sentence opener follows.
    Month,
    /// May end a sentence: only when a common sentence opener follows
    /// (`U.S. How`, `Co. It`, but `U.S. Government`, `E. Smith`).
    Ambiguous,
}

/// Titles and words that always precede more of the same sentence.
const CONTINUES: &[&str] = &[
    "mr", "mrs", "ms", "messrs", "mssrs", "dr", "drs", "st", "mt", "prof", "gen", "col", "capt",
    "cpt", "rev", "hon", "sen", "rep", "gov", "lt", "sgt", "maj", "adm", "brig", "cpl", "pvt",
    "cmdr", "supt", "pres", "mme", "mlle", "fr", "vs", "viz", "cf", "approx", "ca", "e.g", "i.e",
];

/// Words used before a number.
const BEFORE_NUMBER: &[&str] = &[
    "no", "nos", "n°", "nº", "p", "pp", "vol", "vols", "ch", "chap", "fig", "figs", "art", "sec",
    "op", "pt", "para",
];

/// Month abbreviations; "May" is a word, not an abbreviation.
const MONTHS: &[&str] = &[
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
];

/// Postpositive abbreviations that often end a sentence too.
const AMBIGUOUS: &[&str] = &[
    "jr", "sr", "co", "corp", "inc", "ltd", "bros", "etc", "esq", "dept", "univ", "est", "al",
    "a.m", "p.m", "ph.d", "u.s", "u.k", "e.u", "u.s.a",
];

/// Capitalised words that commonly open an English sentence. After an
/// ambiguous abbreviation they are taken as the start of a new sentence.
const OPENERS: &[&str] = &[
    "A",
    "About",
    "After",
    "All",
    "Also",
    "Although",
    "An",
    "And",
    "Any",
    "Are",
    "As",
    "At",
    "Because",
    "Before",
    "But",
    "By",
    "Can",
    "Could",
    "Did",
    "Do",
    "Does",
    "Each",
    "Even",
    "Every",
    "For",
    "From",
    "Had",
    "Has",
    "Have",
    "He",
    "Her",
    "Here",
    "His",
    "How",
    "However",
    "I",
    "If",
    "In",
    "Is",
    "It",
    "Its",
    "Just",
    "Let",
    "Many",
    "Meanwhile",
    "More",
    "Most",
    "My",
    "No",
    "Nor",
    "Not",
    "Now",
    "Oh",
    "On",
    "Once",
    "One",
    "Only",
    "Or",
    "Our",
    "Perhaps",
    "She",
    "Should",
    "Since",
    "So",
    "Some",
    "Still",
    "Such",
    "That",
    "The",
    "Their",
    "Then",
    "There",
    "These",
    "They",
    "This",
    "Those",
    "Though",
    "Thus",
    "To",
    "Until",
    "Was",
    "We",
    "Well",
    "Were",
    "What",
    "When",
    "Where",
    "Which",
    "While",
    "Who",
    "Why",
    "Will",
    "With",
    "Would",
    "Yes",
    "Yet",
    "You",
    "Your",
];

/// Classifies the word (letters, digits, inner periods) before a period.
pub(crate) fn classify(word: &str) -> Abbrev {
    let mut buf = [0u8; 16];
    let Some(lower) = ascii_lower(word, &mut buf) else {
        return non_ascii_word(word);
    };
    if CONTINUES.contains(&lower) {
        Abbrev::Continues
    } else if BEFORE_NUMBER.contains(&lower) {
        Abbrev::BeforeNumber
    } else if MONTHS.contains(&lower) {
        Abbrev::Month
    } else if AMBIGUOUS.contains(&lower) || is_initials(word) || is_single_capital(word) {
        Abbrev::Ambiguous
    } else {
        Abbrev::None
    }
}

/// `N°` and `Nº` are the only non-ASCII words in the tables.
fn non_ascii_word(word: &str) -> Abbrev {
    let lower = word.to_lowercase();
    if BEFORE_NUMBER.contains(&lower.as_str()) {
        Abbrev::BeforeNumber
    } else {
        Abbrev::None
    }
}

/// Lowercases a short ASCII word into `buf` without allocating; `None` when
/// the word is not ASCII or too long to be in the tables.
fn ascii_lower<'a>(word: &str, buf: &'a mut [u8; 16]) -> Option<&'a str> {
    if !word.is_ascii() || word.len() > buf.len() {
        return None;
    }
    let out = &mut buf[..word.len()];
    out.copy_from_slice(word.as_bytes());
    out.make_ascii_lowercase();
    std::str::from_utf8(out).ok()
}

/// `U.S`, `e.g`, `U.S.A`: one or two letters between periods.
fn is_initials(word: &str) -> bool {
    word.contains('.')
        && word
            .split('.')
            .all(|p| (1..=2).contains(&p.len()) && p.chars().all(char::is_alphabetic))
}

/// `E` in "Jonas E. Smith", `I` in "you and I."
fn is_single_capital(word: &str) -> bool {
    let mut chars = word.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if c.is_uppercase())
}

/// True when `word` commonly opens a sentence (exact, capitalised match).
pub(crate) fn is_sentence_opener(word: &str) -> bool {
    OPENERS.contains(&word)
}
