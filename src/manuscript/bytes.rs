//! A manuscript file's bytes: read within the size limit, its format taken
//! from the bytes (never only the name), and text decoded to a `String`
//! (UTF-8 with or without BOM, UTF-16 with or without BOM, GBK detected),
//! with control characters refused at their line.
//!
//! The format decides which reader gets the file, so a zip archive (EPUB,
//! DOCX, or anything else) never reaches the text decoder: a publisher who
//! hands us a Word file gets a Word reader or a message about Word files,
//! never one about encodings.

use std::io::Read;
use std::path::Path;

use super::ManuscriptError;
use crate::job::Encoding;

/// The largest manuscript file read, in bytes (64 MiB: about 20 novels of
/// plain text). Bigger files are refused with this reason before any work.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// What a manuscript file is, decided from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text: paragraphs by blank lines, nothing is markup.
    Text,
    /// CommonMark with tables and footnotes (`.md`, `.markdown`, `.mdown`,
    /// `.mkd`): text bytes whose name says Markdown.
    Markdown,
    Epub,
    Docx,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "plain text",
            Format::Markdown => "Markdown",
            Format::Epub => "EPUB",
            Format::Docx => "DOCX",
        }
    }
}

/// Reads a whole manuscript file, refusing one over [`MAX_FILE_BYTES`].
pub fn read_file(path: &Path) -> Result<Vec<u8>, ManuscriptError> {
    let io = |source| ManuscriptError::Read {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    // Sized from the start: growing by doubling would copy a big file
    // several times and hold two copies at each step.
    let size = file
        .metadata()
        .map_or(0, |m| m.len())
        .min(MAX_FILE_BYTES + 1);
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // One byte past the limit tells "too big" without reading the rest.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        let size = std::fs::metadata(path).map_or(0, |m| m.len());
        return Err(ManuscriptError::invalid(
            path,
            format!(
                "manuscript is {} MiB, over the limit of {} MiB per file; split it into \
                 several files listed in [manuscript] files",
                size.div_ceil(1024 * 1024),
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        ));
    }
    Ok(bytes)
}

/// The format of `bytes`. Archives and documents we cannot read are named,
/// with what to do.
pub fn sniff(path: &Path, bytes: &[u8]) -> Result<Format, ManuscriptError> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return sniff_zip(path, bytes);
    }
    if bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        return Err(ManuscriptError::invalid(
            path,
            "this is a Word 97-2003 .doc file or a password-protected Office file, which cannot \
             be read; save it from Word as .docx without a password",
        ));
    }
    let refused = [
        (&b"%PDF"[..], "a PDF"),
        (b"{\\rtf", "an RTF document"),
        (b"\x1F\x8B", "a gzip archive"),
        (b"Rar!", "a RAR archive"),
        (b"7z\xBC\xAF", "a 7-Zip archive"),
    ];
    if let Some((_, what)) = refused.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return Err(ManuscriptError::invalid(
            path,
            format!(
                "this is {what}, not a manuscript format we read; export it as EPUB, DOCX, \
                 Markdown or plain text"
            ),
        ));
    }
    if bytes.len() > 68 && &bytes[60..68] == b"BOOKMOBI" {
        return Err(ManuscriptError::invalid(
            path,
            "this is a Kindle (MOBI/AZW) book, which cannot be read; ask for the EPUB",
        ));
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    Ok(match ext.as_str() {
        "md" | "markdown" | "mdown" | "mkd" => Format::Markdown,
        _ => Format::Text,
    })
}

/// A zip is an EPUB when its `mimetype` entry says so, a DOCX when it holds
/// `word/document.xml`; anything else is refused by name.
fn sniff_zip(path: &Path, bytes: &[u8]) -> Result<Format, ManuscriptError> {
    let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| {
        ManuscriptError::invalid(
            path,
            format!("this zip archive is damaged ({e}); export the book again"),
        )
    })?;
    let names: Vec<String> = archive
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.into_owned())
        .collect();
    let has = |name: &str| names.iter().any(|n| n == name);
    if has("mimetype") || has("META-INF/container.xml") {
        return Ok(Format::Epub);
    }
    if has("word/document.xml") {
        return Ok(Format::Docx);
    }
    if has("content.xml") {
        return Err(ManuscriptError::invalid(
            path,
            "this is an OpenDocument file (.odt), which cannot be read; save it as .docx",
        ));
    }
    Err(ManuscriptError::invalid(
        path,
        "this is a zip archive that is neither an EPUB nor a DOCX; unpack it and list the \
         manuscript files in [manuscript] files",
    ))
}

/// Decodes text bytes, refuses control characters, and normalises line
/// endings to `\n`. Takes the bytes: UTF-8 text keeps their buffer, so a
/// big manuscript is not held twice.
pub fn decode_text(
    path: &Path,
    bytes: Vec<u8>,
    encoding: Encoding,
) -> Result<String, ManuscriptError> {
    let text = decode(bytes, encoding).map_err(|message| ManuscriptError::Encoding {
        path: path.display().to_string(),
        message,
    })?;
    check_controls(path, &text)?;
    Ok(normalize_newlines(text))
}

/// Decodes manuscript bytes. Never guesses silently: a detected GBK or
/// UTF-16 file is logged, and bytes that decode as none of them are an error
/// that names the byte offset.
pub fn decode(mut bytes: Vec<u8>, encoding: Encoding) -> Result<String, String> {
    const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
    if let Some(text) = utf16_by_bom(&bytes)? {
        return Ok(text);
    }
    if bytes.starts_with(UTF8_BOM) && encoding != Encoding::Gbk {
        bytes.drain(..UTF8_BOM.len());
        return decode_utf8(bytes);
    }
    match encoding {
        Encoding::Utf8 => decode_utf8(bytes),
        Encoding::Gbk => decode_gbk(&bytes),
        Encoding::Auto => {
            if let Some(text) = utf16_without_bom(&bytes) {
                tracing::info!(
                    encoding = "UTF-16",
                    "manuscript has no byte order mark but is UTF-16; decoded it"
                );
                return Ok(text);
            }
            match String::from_utf8(bytes) {
                Ok(text) => Ok(text),
                Err(e) => {
                    let utf8_error = utf8_message(e.utf8_error().valid_up_to());
                    decode_detected(e.as_bytes(), utf8_error)
                }
            }
        }
    }
}

fn utf16_by_bom(bytes: &[u8]) -> Result<Option<String>, String> {
    let (encoding, rest) = if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        (encoding_rs::UTF_16LE, rest)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        (encoding_rs::UTF_16BE, rest)
    } else {
        return Ok(None);
    };
    encoding
        .decode_without_bom_handling_and_without_replacement(rest)
        .map(|text| Some(text.into_owned()))
        .ok_or_else(|| {
            format!(
                "file starts with a {} byte order mark but is not valid UTF-16; save it as UTF-8",
                encoding.name()
            )
        })
}

/// UTF-16 without a byte order mark, recognised by its zero bytes: UTF-8 and
/// GBK text never holds a NUL byte, while UTF-16 puts one in every ASCII
/// character, line breaks and spaces included. Of the two byte orders, the
/// one that decodes to text with line breaks or spaces (at least one in 500
/// characters) wins; bytes that fit neither are left to the other checks.
fn utf16_without_bom(bytes: &[u8]) -> Option<String> {
    if bytes.len() < 2 || !bytes.len().is_multiple_of(2) || !bytes.contains(&0) {
        return None;
    }
    let units = bytes.len() / 2;
    [encoding_rs::UTF_16LE, encoding_rs::UTF_16BE]
        .into_iter()
        .filter_map(|encoding| {
            let text = encoding.decode_without_bom_handling_and_without_replacement(bytes)?;
            let spacing = text
                .chars()
                .filter(|c| matches!(c, '\n' | ' ' | '\u{3000}'))
                .count();
            let plausible = spacing > 0 && spacing * 500 >= units && !text.contains('\0');
            plausible.then(|| (spacing, text.into_owned()))
        })
        .max_by_key(|(spacing, _)| *spacing)
        .map(|(_, text)| text)
}

fn decode_utf8(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|e| utf8_message(e.utf8_error().valid_up_to()))
}

fn utf8_message(offset: usize) -> String {
    format!(
        "not valid UTF-8: invalid byte at offset {offset}; convert the file to UTF-8 or set [manuscript] encoding"
    )
}

fn decode_detected(bytes: &[u8], utf8_error: String) -> Result<String, String> {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let guess = detector.guess(None, chardetng::Utf8Detection::Allow);
    if guess == encoding_rs::GBK || guess == encoding_rs::GB18030 {
        let text = decode_gbk(bytes)?;
        tracing::info!(
            encoding = "GBK",
            "manuscript is not UTF-8; detected GBK and decoded it"
        );
        Ok(text)
    } else {
        Err(format!(
            "{utf8_error} (the bytes do not look like GBK either; detector guessed {})",
            guess.name()
        ))
    }
}

/// GB18030 is a superset of GBK, so it decodes every GBK file.
fn decode_gbk(bytes: &[u8]) -> Result<String, String> {
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len() * 3);
    let mut out = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut out, true);
    match result {
        encoding_rs::DecoderResult::InputEmpty => Ok(out),
        encoding_rs::DecoderResult::Malformed(bad, _) => Err(format!(
            "not valid GBK: invalid byte at offset {}; convert the file to UTF-8",
            read.saturating_sub(usize::from(bad))
        )),
        encoding_rs::DecoderResult::OutputFull => {
            Err("decoding GBK: output buffer too small".into())
        }
    }
}

/// Control characters (NUL, escape, ...) are never text a voice should get:
/// refused at their line and column. Tabs, line breaks and form feeds are
/// whitespace and allowed.
pub fn check_controls(path: &Path, text: &str) -> Result<(), ManuscriptError> {
    let Some((offset, c)) = text
        .char_indices()
        .find(|&(_, c)| c.is_control() && !c.is_whitespace())
    else {
        return Ok(());
    };
    let before = &text[..offset];
    let line = before.matches('\n').count() + before.matches('\r').count()
        - before.matches("\r\n").count()
        + 1;
    let line_start = before.rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    let name = match c {
        '\0' => " (NUL)".to_string(),
        '\u{1b}' => " (ESC)".to_string(),
        _ => String::new(),
    };
    Err(ManuscriptError::Invalid {
        path: format!("{}:{line}:{col}", path.display()),
        message: format!(
            "control character U+{:04X}{name} in the manuscript; remove it (the file may be \
             damaged, or not a text file)",
            u32::from(c)
        ),
    })
}

/// `\r\n` and lone `\r` become `\n`, in the text's own buffer.
pub(crate) fn normalize_newlines(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    let mut bytes = text.into_bytes();
    let mut kept = 0;
    for i in 0..bytes.len() {
        let byte = bytes[i];
        if byte == b'\r' {
            if bytes.get(i + 1) != Some(&b'\n') {
                bytes[kept] = b'\n';
                kept += 1;
            }
        } else {
            bytes[kept] = byte;
            kept += 1;
        }
    }
    bytes.truncate(kept);
    // Only ASCII bytes were removed or replaced: still UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn utf16be(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_be_bytes).collect()
    }

    #[test]
    fn decodes_utf8_bom_crlf_and_gbk() {
        let bom = b"\xEF\xBB\xBFhello\r\nworld\rend";
        let text = normalize_newlines(decode(bom.to_vec(), Encoding::Auto).unwrap());
        assert_eq!(text, "hello\nworld\nend");
        let (gbk, _, _) =
            encoding_rs::GBK.encode("第一回　灵根育孕源流出，心性修持大道生。悟空道：“师父！”");
        assert_eq!(
            decode(gbk.to_vec(), Encoding::Auto).unwrap(),
            "第一回　灵根育孕源流出，心性修持大道生。悟空道：“师父！”"
        );
        assert!(decode(gbk.to_vec(), Encoding::Gbk).is_ok());
    }

    #[test]
    fn undecodable_bytes_name_the_offset() {
        let err = decode(b"abc\xFF\xFEdef".to_vec(), Encoding::Utf8).unwrap_err();
        assert!(err.contains("offset 3"), "{err}");
        let err = decode(b"ok \x81\x20 broken".to_vec(), Encoding::Gbk).unwrap_err();
        assert!(err.contains("offset 3"), "{err}");
    }

    /// Seen: a UTF-16 file without a byte order mark was read as UTF-8, NULs
    /// and all (`H\0e\0l\0l\0o`); with a mark it was refused.
    #[test]
    fn utf16_with_and_without_bom_is_decoded() {
        let english = "Hello there.\nA second line.\n";
        let chinese = "第一回　灵根育孕源流出\n心性修持大道生。\n";
        for text in [english, chinese] {
            for bytes in [utf16le(text), utf16be(text)] {
                assert_eq!(decode(bytes, Encoding::Auto).unwrap(), text);
            }
            let mut bom = vec![0xFF, 0xFE];
            bom.extend(utf16le(text));
            assert_eq!(decode(bom, Encoding::Auto).unwrap(), text);
            let mut bom = vec![0xFE, 0xFF];
            bom.extend(utf16be(text));
            assert_eq!(decode(bom, Encoding::Utf8).unwrap(), text);
        }
    }

    /// Seen: a NUL byte in a UTF-8 manuscript went to the provider.
    #[test]
    fn nul_and_control_characters_are_refused_with_line_and_column() {
        let path = Path::new("book.txt");
        let err = decode_text(path, b"One.\nTwo\0three.\n".to_vec(), Encoding::Auto).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("book.txt:2:4:"), "{text}");
        assert!(text.contains("U+0000 (NUL)"), "{text}");
        let err = decode_text(path, b"a\r\nb\r\n\x1b[31mred".to_vec(), Encoding::Auto).unwrap_err();
        assert!(err.to_string().starts_with("book.txt:3:1:"), "{err}");
        // Tabs and form feeds are whitespace.
        assert!(decode_text(path, b"a\tb\x0cc\n".to_vec(), Encoding::Auto).is_ok());
    }

    #[test]
    fn zips_never_reach_the_text_decoder() {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut buf);
            let opts = zip::write::SimpleFileOptions::default();
            zip.start_file("word/document.xml", opts).unwrap();
            std::io::Write::write_all(&mut zip, b"<w:document/>").unwrap();
            zip.finish().unwrap();
        }
        let bytes = buf.into_inner();
        assert_eq!(sniff(Path::new("book.txt"), &bytes).unwrap(), Format::Docx);
        let mut other = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut other);
            zip.start_file("notes.txt", zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.finish().unwrap();
        }
        let err = sniff(Path::new("book.epub"), &other.into_inner()).unwrap_err();
        assert!(
            err.to_string().contains("neither an EPUB nor a DOCX"),
            "{err}"
        );
        let err = sniff(Path::new("book.md"), b"%PDF-1.7 ...").unwrap_err();
        assert!(err.to_string().contains("PDF"), "{err}");
        assert_eq!(sniff(Path::new("a.MD"), b"# x").unwrap(), Format::Markdown);
        assert_eq!(sniff(Path::new("a.txt"), b"# x").unwrap(), Format::Text);
    }
}
