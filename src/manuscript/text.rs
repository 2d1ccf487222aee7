//! Plain text files: nothing in them is markup. Paragraphs are separated by
//! blank lines, or start at an indented line (as in Chinese texts); hard
//! wrapped lines are joined. With `chapters = "regex"` a matching line
//! starts a chapter; plain text has no other headings.

use super::Block;
use crate::job::ChapterRule;
use crate::segment::prepare_paragraph;

/// The blocks of one plain-text file (already decoded, `\n` line endings).
pub(crate) fn read(text: &str, rule: &ChapterRule) -> Vec<Block> {
    let mut reader = Reader {
        rule,
        blocks: Vec::new(),
        lines: Vec::new(),
        start: 0,
    };
    for (n, line) in text.lines().enumerate() {
        reader.line(n + 1, line);
    }
    reader.end_paragraph();
    reader.blocks
}

struct Reader<'a> {
    rule: &'a ChapterRule,
    blocks: Vec<Block>,
    lines: Vec<&'a str>,
    start: usize,
}

impl<'a> Reader<'a> {
    fn line(&mut self, n: usize, line: &'a str) {
        if line.trim().is_empty() {
            self.end_paragraph();
            return;
        }
        if let ChapterRule::Regex(re) = self.rule
            && re.is_match(line)
        {
            self.end_paragraph();
            self.blocks.push(Block {
                kind: super::BlockKind::Heading,
                text: line.trim().to_string(),
                line: n,
            });
            return;
        }
        if starts_indented(line) && !self.lines.is_empty() {
            // Indentation starts a paragraph (Chinese texts, letters, verse).
            self.end_paragraph();
        }
        if self.lines.is_empty() {
            self.start = n;
        }
        self.lines.push(line);
    }

    fn end_paragraph(&mut self) {
        if self.lines.is_empty() {
            return;
        }
        let text = prepare_paragraph(&self.lines);
        self.lines.clear();
        if !text.is_empty() {
            self.blocks.push(Block::para(text, self.start));
        }
    }
}

pub(crate) fn starts_indented(line: &str) -> bool {
    line.starts_with('\u{3000}') || line.starts_with('\t') || line.starts_with("  ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manuscript::BlockKind;

    fn texts(blocks: &[Block]) -> Vec<&str> {
        blocks.iter().map(|b| b.text.as_str()).collect()
    }

    #[test]
    fn paragraphs_by_blank_lines_and_indentation() {
        let blocks = read(
            "First para\nwrapped.\n\nSecond.\n\u{3000}\u{3000}第一段，\n接着。\n\u{3000}\u{3000}第二段。\n",
            &ChapterRule::Headings,
        );
        assert_eq!(
            texts(&blocks),
            [
                "First para wrapped.",
                "Second.",
                "第一段，接着。",
                "第二段。"
            ]
        );
        assert_eq!(blocks[1].line, 4);
    }

    /// Seen: `_` italics markers were stripped from `.txt` files, and `#`
    /// lines read as headings: plain text is text.
    #[test]
    fn nothing_in_plain_text_is_markup() {
        let blocks = read(
            "# Not a heading\n\n_You_ want *this* and `that` [link](x).\n",
            &ChapterRule::Headings,
        );
        assert_eq!(
            texts(&blocks),
            ["# Not a heading", "_You_ want *this* and `that` [link](x)."]
        );
        assert!(blocks.iter().all(|b| b.kind == BlockKind::Para));
    }

    #[test]
    fn regex_lines_start_chapters() {
        let re = regex::Regex::new(r"^CHAPTER [IVX]+\.").unwrap();
        let blocks = read(
            "Preface.\nCHAPTER I.\nIt is a truth.\n",
            &ChapterRule::Regex(re),
        );
        assert_eq!(texts(&blocks), ["Preface.", "CHAPTER I.", "It is a truth."]);
        assert_eq!(blocks[1].kind, BlockKind::Heading);
    }
}
