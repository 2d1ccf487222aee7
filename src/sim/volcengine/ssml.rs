//! The text the simulated Volcengine voice speaks: the content of an SSML
//! `<speak>` element (tags dropped, the five XML entities decoded,
//! malformed markup refused), and the language a text is written in.

/// The speakable text of an SSML document, or why it is not one.
pub(super) fn speakable(ssml: &str) -> Result<String, String> {
    let inner = ssml
        .trim()
        .strip_prefix("<speak>")
        .and_then(|rest| rest.strip_suffix("</speak>"))
        .ok_or("the text must be one <speak>…</speak> element")?;
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let end = rest.find('>').ok_or("a tag is not closed")?;
                rest = &rest[end + 1..];
            }
            '>' => return Err("a bare > in the text; escape it as &gt;".into()),
            '&' => {
                let end = rest
                    .find(';')
                    .ok_or("a bare & in the text; escape it as &amp;")?;
                out.push(match &rest[..=end] {
                    "&amp;" => '&',
                    "&lt;" => '<',
                    "&gt;" => '>',
                    "&quot;" => '"',
                    "&apos;" => '\'',
                    other => return Err(format!("unknown entity {other}")),
                });
                rest = &rest[end + 1..];
            }
            c => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    Ok(out)
}

/// `zh` for text with Han characters, `ja` with kana, `en` for Latin
/// letters only; `None` when there are no letters.
pub(super) fn language_of(text: &str) -> Option<&'static str> {
    let is = |lo: u32, hi: u32| text.chars().any(|c| (lo..=hi).contains(&(c as u32)));
    if is(0x3040, 0x30FF) {
        Some("ja")
    } else if is(0x4E00, 0x9FFF) || is(0x3400, 0x4DBF) {
        Some("zh")
    } else if text.chars().any(|c| c.is_ascii_alphabetic()) {
        Some("en")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_ssml_speaks_the_content_and_refuses_bad_markup() {
        assert_eq!(
            speakable("<speak>Tom &amp; Jerry say &lt;hi&gt;<break time=\"1s\"/>.</speak>"),
            Ok("Tom & Jerry say <hi>.".to_owned())
        );
        assert!(speakable("Tom & Jerry").is_err(), "no <speak>");
        assert!(speakable("<speak>Tom & Jerry</speak>").is_err(), "bare &");
        assert!(speakable("<speak>a <b</speak>").is_err(), "open tag");
    }

    #[test]
    fn sim_text_languages() {
        assert_eq!(language_of("今天 nice"), Some("zh"));
        assert_eq!(language_of("Hello."), Some("en"));
        assert_eq!(language_of("こんにちは"), Some("ja"));
        assert_eq!(language_of("123 ..."), None);
    }
}
