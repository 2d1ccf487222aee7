//! File names in the delivery folder: `NN - Chapter title.mp3` for a
//! chapter, `Book title.m4b` for the whole book. Every name is safe on
//! Windows, macOS and Linux: no reserved characters or device names, no
//! control characters, no leading dot (nothing hidden), no trailing dot or
//! space, and capped in length so a deep folder still fits the path limits
//! of the platforms a publisher copies it to.

/// The longest stem, in characters: room for a number, an extension and
/// a folder in Windows' 260-character path limit.
const MAX_STEM_CHARS: usize = 100;
/// And in bytes: macOS and Linux count names in UTF-8 bytes (255 at most).
const MAX_STEM_BYTES: usize = 200;

/// The stem (name without extension) of chapter `number` of `total`.
pub fn chapter_stem(number: usize, total: usize, title: &str) -> String {
    let width = total.to_string().len().max(2);
    let title = safe(title);
    if title.is_empty() {
        format!("{number:0width$}")
    } else {
        cap(&format!("{number:0width$} - {title}"))
    }
}

/// The stem of the whole-book file.
pub fn book_stem(title: &str) -> String {
    let title = safe(title);
    if title.is_empty() {
        "Book".to_string()
    } else {
        cap(&title)
    }
}

/// `text` with what a file system would refuse or mangle replaced.
fn safe(text: &str) -> String {
    let replaced: String = text
        .chars()
        .map(|c| match c {
            // Windows reserves these; `/` is the separator everywhere, `:`
            // shows as `/` in the macOS Finder.
            '<' | '>' | '"' | '|' | '?' | '*' => ' ',
            ':' | '/' | '\\' => '-',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let collapsed = replaced.split_whitespace().collect::<Vec<_>>().join(" ");
    let trimmed = collapsed
        .trim_start_matches(['.', ' ', '-'])
        .trim_end_matches(['.', ' ']);
    if is_reserved_device(trimmed) {
        format!("{trimmed}_")
    } else {
        trimmed.to_string()
    }
}

/// CON, PRN, AUX, NUL, COM1-9, LPT1-9 are devices on Windows, with any
/// extension.
fn is_reserved_device(stem: &str) -> bool {
    let base = stem.split('.').next().unwrap_or("").to_ascii_uppercase();
    matches!(base.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (base.len() == 4
            && (base.starts_with("COM") || base.starts_with("LPT"))
            && base.as_bytes()[3].is_ascii_digit()
            && base.as_bytes()[3] != b'0')
}

/// At most [`MAX_STEM_CHARS`] characters and [`MAX_STEM_BYTES`] bytes, cut
/// at a character boundary, without a trailing dot or space.
fn cap(stem: &str) -> String {
    let mut out = String::new();
    for (count, c) in stem.chars().enumerate() {
        if count >= MAX_STEM_CHARS || out.len() + c.len_utf8() > MAX_STEM_BYTES {
            break;
        }
        out.push(c);
    }
    out.trim_end_matches(['.', ' ']).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chapter_names_are_numbered_and_safe() {
        assert_eq!(chapter_stem(3, 12, "The End?"), "03 - The End");
        assert_eq!(chapter_stem(7, 120, "A: B/C"), "007 - A- B-C");
        assert_eq!(chapter_stem(1, 3, "第一章 风起"), "01 - 第一章 风起");
        assert_eq!(chapter_stem(2, 3, "..."), "02");
        assert_eq!(chapter_stem(1, 1, "tab\there <x>"), "01 - tab here x");
    }

    #[test]
    fn reserved_names_and_hidden_files_are_avoided() {
        assert_eq!(book_stem("CON"), "CON_");
        assert_eq!(book_stem("com1.txt"), "com1.txt_");
        assert_eq!(book_stem(".hidden"), "hidden");
        assert_eq!(book_stem("Ends with a dot."), "Ends with a dot");
        assert_eq!(book_stem("???"), "Book");
    }

    #[test]
    fn long_titles_are_capped_at_a_character_boundary() {
        let long = "长".repeat(150);
        let stem = book_stem(&long);
        assert!(stem.len() <= MAX_STEM_BYTES && stem.chars().count() <= MAX_STEM_CHARS);
        assert!(stem.chars().all(|c| c == '长'));
        let words = "word ".repeat(40);
        assert!(!chapter_stem(1, 9, &words).ends_with(' '));
    }
}
