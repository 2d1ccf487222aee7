//! Markdown files through a real CommonMark parser (`pulldown-cmark`, with
//! tables, footnotes and strikethrough): every construct read as a
//! listener should hear it.
//!
//! - Headings of either style (`# Title`, or a line underlined with `===`
//!   or `---`) start chapters under `chapters = "headings"`.
//! - Paragraphs, block quotes and list items are paragraphs of their own;
//!   their markers (`>`, `-`, `1.`) are not spoken.
//! - Emphasis, links and inline code are read as their text; escapes are
//!   honoured (`\*` is `*`); inline HTML tags are removed and HTML blocks
//!   read as the text between their tags.
//! - Not spoken, and counted: code blocks, HTML comments, footnote
//!   definitions and markers, image alt text, tables (unless `tables =
//!   "rows"`: then each row is a paragraph, cells joined by commas), YAML
//!   metadata, thematic breaks and all other syntax (`markup`).

use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use regex::Regex;

use super::{Block, BlockKind, Removed, count_visible};
use crate::job::{ChapterRule, Tables};
use crate::segment::prepare_paragraph;

static COMMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)<!--.*?(?:-->|$)")
        .unwrap_or_else(|e| unreachable!("comment pattern is valid: {e}"))
});
static TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"</?[A-Za-z][^<>]*>").unwrap_or_else(|e| unreachable!("tag pattern is valid: {e}"))
});

/// The blocks of one Markdown file.
pub(crate) fn read(
    text: &str,
    rule: &ChapterRule,
    tables: Tables,
    removed: &mut Removed,
) -> Vec<Block> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    let mut r = Reader {
        src: text,
        line_starts: std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect(),
        rule,
        rows: tables == Tables::Rows,
        blocks: Vec::new(),
        lines: vec![String::new()],
        start: 1,
        heading: false,
        skipping: Vec::new(),
        removed: Removed::default(),
    };
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        r.event(event, range);
    }
    r.flush();
    let emitted: u64 = r.blocks.iter().map(|b| count_visible(&b.text)).sum();
    let markup = count_visible(text).saturating_sub(emitted + r.removed.total());
    r.removed.add_count(Removed::MARKUP, markup);
    removed.merge(&r.removed);
    r.blocks
}

struct Reader<'a> {
    src: &'a str,
    line_starts: Vec<usize>,
    rule: &'a ChapterRule,
    rows: bool,
    blocks: Vec<Block>,
    /// The current block's lines (soft and hard breaks split them).
    lines: Vec<String>,
    start: usize,
    heading: bool,
    /// Containers whose text is not spoken, innermost last, with the rule
    /// that counts it.
    skipping: Vec<&'static str>,
    removed: Removed,
}

impl Reader<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset)
    }

    fn event(&mut self, event: Event, range: std::ops::Range<usize>) {
        if let Some(&rule) = self.skipping.last() {
            match &event {
                Event::Start(tag) if skip_rule(tag, self.rows).is_some() => {
                    self.skipping.push(rule);
                }
                Event::End(end) if ends_skip(end, self.rows) => {
                    self.skipping.pop();
                }
                Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                    self.removed.add(rule, t);
                }
                _ => {}
            }
            return;
        }
        match event {
            Event::Start(tag) => {
                if let Some(rule) = skip_rule(&tag, self.rows) {
                    if !matches!(tag, Tag::Image { .. }) {
                        self.flush();
                    }
                    self.skipping.push(rule);
                    return;
                }
                if matches!(tag, Tag::TableCell)
                    && self.lines.last().is_some_and(|l| !l.trim().is_empty())
                {
                    self.push(", ");
                }
                if starts_block(&tag) {
                    self.flush();
                    self.start = self.line_of(range.start);
                    self.heading = matches!(tag, Tag::Heading { .. });
                }
            }
            Event::End(end) if ends_block(&end) => self.flush(),
            Event::Text(t) | Event::Code(t) => self.push(&t),
            Event::Html(t) => {
                let kept = self.strip_html(&t);
                self.push(&kept);
                if t.ends_with('\n') {
                    self.flush();
                }
            }
            Event::InlineHtml(t) => {
                if t.trim_start().to_ascii_lowercase().starts_with("<br") {
                    self.lines.push(String::new());
                } else {
                    let kept = self.strip_html(&t);
                    self.push(&kept);
                }
            }
            Event::FootnoteReference(_) => {
                self.removed.add(Removed::FOOTNOTES, &self.src[range]);
            }
            Event::SoftBreak | Event::HardBreak => self.lines.push(String::new()),
            Event::Rule => self.flush(),
            _ => {}
        }
    }

    fn push(&mut self, s: &str) {
        if let Some(line) = self.lines.last_mut() {
            line.push_str(s);
        }
    }

    /// HTML comments counted as comments; tags dropped (they count as
    /// markup); the text between them kept.
    fn strip_html(&mut self, html: &str) -> String {
        for m in COMMENT.find_iter(html) {
            self.removed.add(Removed::COMMENTS, m.as_str());
        }
        let without = COMMENT.replace_all(html, " ");
        TAG.replace_all(&without, " ").into_owned()
    }

    fn flush(&mut self) {
        let lines = std::mem::replace(&mut self.lines, vec![String::new()]);
        let heading = std::mem::take(&mut self.heading);
        let mut lines: Vec<&str> = lines
            .iter()
            .map(String::as_str)
            .filter(|l| !l.trim().is_empty())
            .collect();
        if lines.is_empty() {
            return;
        }
        let starts_chapter = match self.rule {
            ChapterRule::Headings => heading,
            ChapterRule::Regex(re) => re.is_match(lines[0].trim()),
            ChapterRule::Files => false,
        };
        if starts_chapter {
            let title = if heading {
                prepare_paragraph(&lines)
            } else {
                lines.remove(0).trim().to_string()
            };
            self.blocks.push(Block {
                kind: BlockKind::Heading,
                text: title,
                line: self.start,
            });
            if heading || lines.is_empty() {
                return;
            }
        }
        let text = prepare_paragraph(&lines);
        if !text.is_empty() {
            self.blocks.push(Block::para(text, self.start));
        }
    }
}

/// The rule counting a container whose text is not spoken.
fn skip_rule(tag: &Tag, rows: bool) -> Option<&'static str> {
    match tag {
        Tag::CodeBlock(_) => Some(Removed::CODE),
        Tag::FootnoteDefinition(_) => Some(Removed::FOOTNOTES),
        Tag::Image { .. } => Some(Removed::IMAGES),
        Tag::Table(_) if !rows => Some(Removed::TABLES),
        Tag::MetadataBlock(_) => Some(Removed::METADATA),
        _ => None,
    }
}

fn ends_skip(end: &TagEnd, rows: bool) -> bool {
    match end {
        TagEnd::CodeBlock
        | TagEnd::FootnoteDefinition
        | TagEnd::Image
        | TagEnd::MetadataBlock(_) => true,
        TagEnd::Table => !rows,
        _ => false,
    }
}

fn starts_block(tag: &Tag) -> bool {
    matches!(
        tag,
        Tag::Paragraph
            | Tag::Heading { .. }
            | Tag::Item
            | Tag::BlockQuote(_)
            | Tag::List(_)
            | Tag::HtmlBlock
            | Tag::TableRow
            | Tag::TableHead
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
    )
}

fn ends_block(end: &TagEnd) -> bool {
    matches!(
        end,
        TagEnd::Paragraph
            | TagEnd::Heading(_)
            | TagEnd::Item
            | TagEnd::BlockQuote(_)
            | TagEnd::List(_)
            | TagEnd::HtmlBlock
            | TagEnd::TableRow
            | TagEnd::TableHead
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(md: &str) -> (Vec<Block>, Removed) {
        let mut removed = Removed::default();
        let blocks = read(md, &ChapterRule::Headings, Tables::Skip, &mut removed);
        (blocks, removed)
    }

    fn texts(blocks: &[Block]) -> Vec<&str> {
        blocks.iter().map(|b| b.text.as_str()).collect()
    }

    /// Seen: every one of these reached the voice with its markup.
    #[test]
    fn markup_never_reaches_the_voice() {
        let md = "Chapter One\n===========\n\n> A quoted epigraph.\n\n- item one\n- item two\n\n\
                  Text with a note.[^1] Line<br>break and \\*escaped\\* _it_ **bold**.\n\n\
                  | a | b |\n|---|---|\n| 1 | 2 |\n\n\
                  ```\ncode here\n```\n\n<!-- hidden -->\n\n![alt text](x.png)\n\n\
                  [^1]: The footnote.\n\nAfter [a link](http://x) and `code`.\n";
        let (blocks, removed) = run(md);
        assert_eq!(
            texts(&blocks),
            [
                "Chapter One",
                "A quoted epigraph.",
                "item one",
                "item two",
                "Text with a note. Line break and *escaped* it bold.",
                "After a link and code."
            ]
        );
        assert_eq!(blocks[0].kind, BlockKind::Heading);
        assert_eq!(blocks[1].line, 4);
        for rule in [
            Removed::FOOTNOTES,
            Removed::TABLES,
            Removed::CODE,
            Removed::COMMENTS,
            Removed::IMAGES,
            Removed::MARKUP,
        ] {
            assert!(
                removed.0.get(rule).is_some_and(|&n| n > 0),
                "{rule}: {removed:?}"
            );
        }
        assert_eq!(removed.0[Removed::TABLES], 4);
        assert_eq!(removed.0[Removed::IMAGES], 7);
        // Every visible character is either spoken or counted.
        let spoken: u64 = blocks.iter().map(|b| count_visible(&b.text)).sum();
        assert_eq!(spoken + removed.total(), count_visible(md));
    }

    #[test]
    fn tables_read_by_row_when_asked() {
        let mut removed = Removed::default();
        let blocks = read(
            "| Name | Age |\n|---|---|\n| Ann | 30 |\n",
            &ChapterRule::Headings,
            Tables::Rows,
            &mut removed,
        );
        assert_eq!(texts(&blocks), ["Name, Age", "Ann, 30"]);
    }

    #[test]
    fn regex_chapters_in_markdown_take_the_first_line() {
        let re = regex::Regex::new(r"^CHAPTER [IVX]+\.").unwrap();
        let mut removed = Removed::default();
        let blocks = read(
            "CHAPTER I.\nIt is a truth.\n",
            &ChapterRule::Regex(re),
            Tables::Skip,
            &mut removed,
        );
        assert_eq!(texts(&blocks), ["CHAPTER I.", "It is a truth."]);
        assert_eq!(blocks[0].kind, BlockKind::Heading);
    }
}
