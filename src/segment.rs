//! Segmentation: paragraph text into sentence segments a voice can speak,
//! each within the character and byte limits, nothing lost or reordered.

/// Per-segment limits. Never above 300 characters or 1024 UTF-8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_chars: usize,
    pub max_bytes: usize,
}

impl Limits {
    pub const MAX_CHARS: usize = 300;
    pub const MAX_BYTES: usize = 1024;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_chars: Self::MAX_CHARS,
            max_bytes: Self::MAX_BYTES,
        }
    }
}

/// Which script's sentence rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    Zh,
    En,
    #[default]
    Auto,
}

/// Splits one paragraph into segments. Placeholder until the segmenter lands.
pub fn split_paragraph(text: &str, _lang: Lang, _limits: Limits) -> Vec<String> {
    let t = text.trim();
    if t.is_empty() {
        Vec::new()
    } else {
        vec![t.to_string()]
    }
}

#[derive(Debug, Clone)]
pub struct Prepare {
    pub skip_brackets: bool,
}

impl Default for Prepare {
    fn default() -> Self {
        Prepare {
            skip_brackets: true,
        }
    }
}

pub fn prepare_paragraph(lines: &[&str], _opts: &Prepare) -> String {
    lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ")
}

pub fn is_speakable(s: &str) -> bool {
    s.chars().any(char::is_alphanumeric)
}
