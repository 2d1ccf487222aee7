//! Manuscripts: reading the files of a job (UTF-8 with or without BOM, GBK
//! detected), normalising line endings, and splitting the text into chapters
//! and paragraphs of speakable text.
//!
//! What is structural lives here: chapter headings, paragraph breaks (blank
//! lines, or indentation as in Chinese texts), fenced code blocks and HTML
//! comments (skipped), and bracketed editorial blocks that span blank lines.
//! What is inline (hard-wrap joining, emphasis, links) is decided by
//! [`segment::prepare_paragraph`].

use std::path::{Path, PathBuf};

use crate::job::{ChapterRule, Encoding, Job};
use crate::segment::{self, Prepare};

/// A manuscript split into chapters and paragraphs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manuscript {
    pub chapters: Vec<Chapter>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chapter {
    /// The title as written (a heading, a matched line, or the file name).
    pub title: String,
    /// Paragraphs of speakable text, in order. When the title came from the
    /// text, it is the first paragraph: headings are spoken.
    pub paragraphs: Vec<Paragraph>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    pub text: String,
    /// Where the paragraph starts, for messages and the `segment` command.
    pub file: PathBuf,
    pub line: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ManuscriptError {
    #[error("{path}: cannot read manuscript: {source}; check [manuscript] files")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Encoding { path: String, message: String },
    #[error("{path}: manuscript file is empty; add text or remove it from [manuscript] files")]
    Empty { path: String },
    #[error(
        "{path}: manuscript has no speakable text (only whitespace, markup or punctuation); check the file"
    )]
    NothingToSay { path: String },
}

/// Reads and splits every manuscript file of a job.
pub fn load(job: &Job) -> Result<Manuscript, ManuscriptError> {
    let prepare = Prepare {
        skip_brackets: job.manuscript.skip_brackets,
    };
    let mut chapters = Vec::new();
    for path in &job.manuscript.files {
        let text = read_text(path, job.manuscript.encoding)?;
        if text.trim().is_empty() {
            return Err(ManuscriptError::Empty {
                path: path.display().to_string(),
            });
        }
        let found = split_chapters(&text, path, &job.manuscript.chapters, &prepare);
        append_chapters(&mut chapters, found, &job.manuscript.chapters);
    }
    chapters.retain(|c| !c.paragraphs.is_empty());
    if chapters.is_empty() {
        let path = job
            .manuscript
            .files
            .first()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        return Err(ManuscriptError::NothingToSay { path });
    }
    Ok(Manuscript { chapters })
}

/// Files after the first continue the last chapter unless they start one,
/// except with `chapters = "files"`, where every file is a chapter.
fn append_chapters(all: &mut Vec<Chapter>, found: Vec<Chapter>, rule: &ChapterRule) {
    let mut found = std::collections::VecDeque::from(found);
    let continues = !matches!(rule, ChapterRule::Files)
        && found.front().is_some_and(|first| first.title.is_empty());
    if continues
        && let Some(last) = all.last_mut()
        && let Some(first) = found.pop_front()
    {
        last.paragraphs.extend(first.paragraphs);
    }
    all.extend(found);
}

/// Reads a manuscript file and decodes it to text with `\n` line endings.
pub fn read_text(path: &Path, encoding: Encoding) -> Result<String, ManuscriptError> {
    let bytes = std::fs::read(path).map_err(|source| ManuscriptError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let text = decode(&bytes, encoding).map_err(|message| ManuscriptError::Encoding {
        path: path.display().to_string(),
        message,
    })?;
    Ok(normalize_newlines(&text))
}

/// Decodes manuscript bytes. Never guesses silently: a detected GBK file is
/// logged, and bytes that decode as neither UTF-8 nor GBK are an error that
/// names the byte offset.
pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<String, String> {
    const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err("file is UTF-16 (byte order mark found); save it as UTF-8".into());
    }
    match encoding {
        Encoding::Utf8 => decode_utf8(bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes)),
        Encoding::Gbk => decode_gbk(bytes),
        Encoding::Auto => {
            if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
                return decode_utf8(rest);
            }
            match decode_utf8(bytes) {
                Ok(text) => Ok(text),
                Err(utf8_error) => decode_detected(bytes, utf8_error),
            }
        }
    }
}

fn decode_utf8(bytes: &[u8]) -> Result<String, String> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => Err(format!(
            "not valid UTF-8: invalid byte at offset {}; convert the file to UTF-8 or set [manuscript] encoding",
            e.valid_up_to()
        )),
    }
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

fn normalize_newlines(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_string();
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Splits one file's text into chapters. A chapter with an empty title holds
/// text before the first chapter start (or the whole file when none is found).
pub fn split_chapters(
    text: &str,
    file: &Path,
    rule: &ChapterRule,
    prepare: &Prepare,
) -> Vec<Chapter> {
    let mut splitter = Splitter::new(file, rule, prepare);
    for (n, line) in text.lines().enumerate() {
        splitter.line(n + 1, line);
    }
    splitter.finish()
}

/// Walks the lines of one file, tracking code fences, comments, bracket
/// blocks, paragraphs and chapters.
struct Splitter<'a> {
    file: &'a Path,
    rule: &'a ChapterRule,
    prepare: &'a Prepare,
    chapters: Vec<Chapter>,
    current: Chapter,
    para_lines: Vec<String>,
    para_start: usize,
    in_fence: bool,
    in_comment: bool,
    /// Depth of an unclosed editorial bracket block being skipped.
    bracket_depth: usize,
}

impl<'a> Splitter<'a> {
    fn new(file: &'a Path, rule: &'a ChapterRule, prepare: &'a Prepare) -> Self {
        let title = match rule {
            ChapterRule::Files => file_title(file),
            _ => String::new(),
        };
        Splitter {
            file,
            rule,
            prepare,
            chapters: Vec::new(),
            current: Chapter {
                title,
                paragraphs: Vec::new(),
            },
            para_lines: Vec::new(),
            para_start: 0,
            in_fence: false,
            in_comment: false,
            bracket_depth: 0,
        }
    }

    fn line(&mut self, n: usize, line: &str) {
        if self.skip_structural(line) {
            self.end_paragraph();
            return;
        }
        if line.trim().is_empty() {
            self.end_paragraph();
            return;
        }
        if let Some(title) = self.chapter_title(line) {
            self.end_paragraph();
            self.start_chapter(title, n);
            return;
        }
        if starts_indented(line) && !self.para_lines.is_empty() {
            // Indentation starts a paragraph (Chinese texts, letters, verse).
            self.end_paragraph();
        }
        if self.para_lines.is_empty() {
            self.para_start = n;
        }
        self.para_lines.push(line.to_string());
    }

    /// Code fences, HTML comments and multi-paragraph editorial brackets are
    /// never spoken. Returns true when the line is consumed.
    fn skip_structural(&mut self, line: &str) -> bool {
        let trimmed = line.trim();
        if self.in_fence {
            if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
                self.in_fence = false;
            }
            return true;
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            self.in_fence = true;
            return true;
        }
        if self.in_comment {
            if trimmed.contains("-->") {
                self.in_comment = false;
            }
            return true;
        }
        if trimmed.starts_with("<!--") {
            self.in_comment = !trimmed.contains("-->");
            return true;
        }
        if self.bracket_depth > 0 {
            self.bracket_depth = bracket_balance(line, self.bracket_depth);
            return true;
        }
        if self.prepare.skip_brackets && self.para_lines.is_empty() && is_editorial_open(trimmed) {
            let depth = bracket_balance(line, 0);
            if depth > 0 {
                // Unclosed on this line: the block may span blank lines.
                self.bracket_depth = depth;
                return true;
            }
        }
        false
    }

    fn chapter_title(&self, line: &str) -> Option<String> {
        match self.rule {
            ChapterRule::Headings => markdown_heading(line),
            ChapterRule::Regex(re) if re.is_match(line) => Some(line.trim().to_string()),
            _ => None,
        }
    }

    fn start_chapter(&mut self, title: String, n: usize) {
        let spoken = segment::prepare_paragraph(&[title.as_str()], self.prepare);
        let previous = std::mem::replace(
            &mut self.current,
            Chapter {
                title: spoken.clone(),
                paragraphs: Vec::new(),
            },
        );
        if !previous.paragraphs.is_empty() || !previous.title.is_empty() {
            self.chapters.push(previous);
        }
        if segment::is_speakable(&spoken) {
            self.current.paragraphs.push(Paragraph {
                text: spoken,
                file: self.file.to_path_buf(),
                line: n,
            });
        }
    }

    fn end_paragraph(&mut self) {
        if self.para_lines.is_empty() {
            return;
        }
        let lines: Vec<&str> = self.para_lines.iter().map(String::as_str).collect();
        let text = segment::prepare_paragraph(&lines, self.prepare);
        self.para_lines.clear();
        if segment::is_speakable(&text) {
            self.current.paragraphs.push(Paragraph {
                text,
                file: self.file.to_path_buf(),
                line: self.para_start,
            });
        }
    }

    fn finish(mut self) -> Vec<Chapter> {
        self.end_paragraph();
        if !self.current.paragraphs.is_empty() || !self.current.title.is_empty() {
            self.chapters.push(self.current);
        }
        self.chapters
    }
}

fn file_title(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `# Title` .. `###### Title`; a `#` without a following space is text.
fn markdown_heading(line: &str) -> Option<String> {
    let trimmed = line.trim_start();
    let hashes = trimmed.bytes().take_while(|&b| b == b'#').count();
    if !(1..=6).contains(&hashes) {
        return None;
    }
    let rest = &trimmed[hashes..];
    if !rest.starts_with(' ') && !rest.starts_with('\t') {
        return None;
    }
    let title = rest.trim().trim_end_matches('#').trim();
    (!title.is_empty()).then(|| title.to_string())
}

fn starts_indented(line: &str) -> bool {
    line.starts_with('\u{3000}') || line.starts_with('\t') || line.starts_with("  ")
}

/// `[Illustration`, `[Footnote`, `[Transcriber's note`... opening a block.
fn is_editorial_open(trimmed: &str) -> bool {
    const KEYWORDS: [&str; 5] = [
        "illustration",
        "footnote",
        "transcriber",
        "sidenote",
        "decoration",
    ];
    let Some(rest) = trimmed.strip_prefix('[') else {
        return false;
    };
    let head: String = rest.chars().take(12).collect::<String>().to_lowercase();
    KEYWORDS.iter().any(|k| head.starts_with(k))
}

/// Square-bracket depth after `line`, starting from `depth`.
fn bracket_balance(line: &str, mut depth: usize) -> usize {
    for c in line.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str, rule: &ChapterRule) -> Vec<Chapter> {
        split_chapters(text, Path::new("book.md"), rule, &Prepare::default())
    }

    fn texts(ch: &Chapter) -> Vec<&str> {
        ch.paragraphs.iter().map(|p| p.text.as_str()).collect()
    }

    #[test]
    fn headings_start_chapters_and_are_spoken() {
        let chapters = split(
            "# One\n\nFirst para\nwrapped.\n\nSecond.\n\n## Two\n\nThird.\n",
            &ChapterRule::Headings,
        );
        assert_eq!(chapters.len(), 2);
        assert_eq!(chapters[0].title, "One");
        assert_eq!(
            texts(&chapters[0]),
            ["One", "First para wrapped.", "Second."]
        );
        assert_eq!(chapters[1].paragraphs[1].line, 10);
    }

    #[test]
    fn a_file_without_a_heading_continues_the_last_chapter() {
        let first = split("# One\n\nA.\n", &ChapterRule::Headings);
        let second = split("B.\n\n# Two\n\nC.\n", &ChapterRule::Headings);
        let mut all = Vec::new();
        append_chapters(&mut all, first, &ChapterRule::Headings);
        append_chapters(&mut all, second.clone(), &ChapterRule::Headings);
        assert_eq!(all.len(), 2);
        assert_eq!(texts(&all[0]), ["One", "A.", "B."]);
        assert_eq!(texts(&all[1]), ["Two", "C."]);
        // With one chapter per file, nothing is merged.
        let mut files = Vec::new();
        append_chapters(&mut files, second.clone(), &ChapterRule::Files);
        append_chapters(&mut files, second, &ChapterRule::Files);
        assert_eq!(files.len(), 4);
    }

    #[test]
    fn hash_without_space_is_text() {
        let chapters = split("#hashtag is text\n", &ChapterRule::Headings);
        assert_eq!(chapters[0].title, "");
        assert_eq!(texts(&chapters[0]), ["#hashtag is text"]);
    }

    #[test]
    fn regex_chapters_and_front_matter() {
        let re = regex::Regex::new(r"^CHAPTER [IVX]+\.").unwrap();
        let chapters = split(
            "Preface text.\n\nCHAPTER I.\n\nIt is a truth.\n\nCHAPTER II.\n\nMore.\n",
            &ChapterRule::Regex(re),
        );
        assert_eq!(chapters.len(), 3);
        assert_eq!(chapters[0].title, "");
        assert_eq!(chapters[1].title, "CHAPTER I.");
        assert_eq!(texts(&chapters[2]), ["CHAPTER II.", "More."]);
    }

    #[test]
    fn code_fences_comments_and_illustrations_are_skipped() {
        let text = "Before.\n\n```\ncode here\n\nmore code\n```\n\n<!-- a\ncomment -->\n\n\
                    [Illustration: ·PRIDE·\n\n\n\nChapter I.]\n\nAfter.\n";
        let chapters = split(text, &ChapterRule::Headings);
        assert_eq!(texts(&chapters[0]), ["Before.", "After."]);
    }

    #[test]
    fn indented_lines_start_paragraphs() {
        let chapters = split(
            "\u{3000}\u{3000}第一段，\n接着。\n\u{3000}\u{3000}第二段。\n",
            &ChapterRule::Headings,
        );
        assert_eq!(texts(&chapters[0]), ["第一段，接着。", "第二段。"]);
    }

    #[test]
    fn decodes_utf8_bom_crlf_and_gbk() {
        let bom = b"\xEF\xBB\xBFhello\r\nworld\rend";
        let text = normalize_newlines(&decode(bom, Encoding::Auto).unwrap());
        assert_eq!(text, "hello\nworld\nend");
        let (gbk, _, _) =
            encoding_rs::GBK.encode("第一回　灵根育孕源流出，心性修持大道生。悟空道：“师父！”");
        assert_eq!(
            decode(&gbk, Encoding::Auto).unwrap(),
            "第一回　灵根育孕源流出，心性修持大道生。悟空道：“师父！”"
        );
        assert!(decode(&gbk, Encoding::Gbk).is_ok());
    }

    #[test]
    fn undecodable_bytes_name_the_offset() {
        let err = decode(b"abc\xFF\xFEdef", Encoding::Utf8).unwrap_err();
        assert!(err.contains("offset 3"), "{err}");
        let err = decode(b"ok \x81\x20 broken", Encoding::Gbk).unwrap_err();
        assert!(err.contains("offset 3"), "{err}");
        let err = decode(b"\xFF\xFEh\0i\0", Encoding::Auto).unwrap_err();
        assert!(err.contains("UTF-16"), "{err}");
    }
}
