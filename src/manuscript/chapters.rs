//! Blocks into chapters, the same way for every format.
//!
//! - A heading block starts a chapter. With `chapter_pattern` holding a
//!   capture group, the group is the title and the only part spoken; the
//!   rest of the line is counted under `heading_prefix`.
//! - Text before the first chapter start of the book is front matter:
//!   skipped and counted (`front_matter = "skip"`, the default) or a chapter
//!   of its own (`"chapter"`). A book with no chapter start at all is one
//!   chapter with the book's title.
//! - A file that does not start with a chapter continues the last chapter,
//!   except with `chapters = "files"`, where every file is one chapter named
//!   after it.

use std::path::{Path, PathBuf};

use super::{Block, BlockKind, Chapter, Manuscript, Paragraph, Removed};
use crate::job::{ChapterRule, FrontMatter};

pub(crate) struct Assembler<'a> {
    rule: &'a ChapterRule,
    front_matter: FrontMatter,
    front: Vec<Paragraph>,
    chapters: Vec<Chapter>,
    removed: Removed,
    first_file: Option<PathBuf>,
}

impl<'a> Assembler<'a> {
    pub fn new(rule: &'a ChapterRule, front_matter: FrontMatter) -> Self {
        Assembler {
            rule,
            front_matter,
            front: Vec::new(),
            chapters: Vec::new(),
            removed: Removed::default(),
            first_file: None,
        }
    }

    pub fn add_file(&mut self, file: &Path, blocks: Vec<Block>, removed: Removed) {
        self.removed.merge(&removed);
        self.first_file.get_or_insert_with(|| file.to_path_buf());
        if matches!(self.rule, ChapterRule::Files) {
            self.start(file_title(file), None, file, 1);
        }
        for block in blocks {
            match block.kind {
                BlockKind::Heading if !matches!(self.rule, ChapterRule::Files) => {
                    let (title, spoken) = self.title_of(&block.text);
                    self.start(title, Some(spoken), file, block.line);
                }
                BlockKind::Start if !matches!(self.rule, ChapterRule::Files) => {
                    self.start(block.text, None, file, block.line);
                }
                _ => self.paragraph(block.text, file, block.line),
            }
        }
    }

    /// True when no block of the book started a chapter (the rule found
    /// nothing), with `chapters = "files"` never.
    pub fn found_no_chapter_start(&self) -> bool {
        self.chapters.is_empty() && !matches!(self.rule, ChapterRule::Files)
    }

    pub fn finish(mut self, book_title: &str) -> Manuscript {
        let front = std::mem::take(&mut self.front);
        if !front.is_empty() {
            let file = front[0].file.clone();
            let line = front[0].line;
            let chapter = |title: String| Chapter {
                title,
                paragraphs: front,
                file,
                line,
            };
            if self.chapters.is_empty() {
                self.chapters.push(chapter(book_title.to_string()));
            } else if self.front_matter == FrontMatter::Chapter {
                self.chapters.insert(0, chapter(String::new()));
            } else {
                for p in &chapter(String::new()).paragraphs {
                    self.removed.add(Removed::FRONT_MATTER, &p.text);
                }
            }
        }
        self.chapters.retain(|c| !c.paragraphs.is_empty());
        Manuscript {
            chapters: self.chapters,
            removed: self.removed,
            warnings: Vec::new(),
        }
    }

    /// The shown title and the spoken text of a heading line.
    fn title_of(&mut self, line: &str) -> (String, String) {
        let line = line.trim();
        if let ChapterRule::Regex(re) = self.rule
            && re.captures_len() > 1
            && let Some(caps) = re.captures(line)
            && let Some(group) = caps.iter().skip(1).flatten().next()
        {
            let title = group.as_str().trim().to_string();
            let rest = format!("{}{}", &line[..group.start()], &line[group.end()..]);
            self.removed.add(Removed::HEADING_PREFIX, &rest);
            return (title.clone(), title);
        }
        (line.to_string(), line.to_string())
    }

    fn start(&mut self, title: String, spoken: Option<String>, file: &Path, line: usize) {
        let mut chapter = Chapter {
            title,
            paragraphs: Vec::new(),
            file: file.to_path_buf(),
            line,
        };
        if let Some(text) = spoken.filter(|t| !t.trim().is_empty()) {
            chapter.paragraphs.push(Paragraph {
                text,
                file: file.to_path_buf(),
                line,
            });
        }
        self.chapters.push(chapter);
    }

    fn paragraph(&mut self, text: String, file: &Path, line: usize) {
        let p = Paragraph {
            text,
            file: file.to_path_buf(),
            line,
        };
        match self.chapters.last_mut() {
            Some(chapter) => chapter.paragraphs.push(p),
            None => self.front.push(p),
        }
    }
}

fn file_title(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(items: &[(&str, BlockKind)]) -> Vec<Block> {
        items
            .iter()
            .enumerate()
            .map(|(i, (t, k))| Block {
                kind: k.clone(),
                text: t.to_string(),
                line: i + 1,
            })
            .collect()
    }

    fn texts(ch: &Chapter) -> Vec<&str> {
        ch.paragraphs.iter().map(|p| p.text.as_str()).collect()
    }

    use BlockKind::{Heading, Para};

    #[test]
    fn files_continue_the_last_chapter_and_front_matter_is_skipped() {
        let rule = ChapterRule::Headings;
        let mut book = Assembler::new(&rule, FrontMatter::Skip);
        book.add_file(
            Path::new("a.md"),
            blocks(&[("Title page.", Para), ("One", Heading), ("A.", Para)]),
            Removed::default(),
        );
        book.add_file(
            Path::new("b.md"),
            blocks(&[("B.", Para), ("Two", Heading), ("C.", Para)]),
            Removed::default(),
        );
        let m = book.finish("Book");
        assert_eq!(m.chapters.len(), 2);
        assert_eq!(texts(&m.chapters[0]), ["One", "A.", "B."]);
        assert_eq!(texts(&m.chapters[1]), ["Two", "C."]);
        assert_eq!(m.removed.0[Removed::FRONT_MATTER], 10);
    }

    /// Seen: front matter always became an untitled chapter of its own; now
    /// only when asked.
    #[test]
    fn front_matter_as_a_chapter_when_asked() {
        let rule = ChapterRule::Headings;
        let mut book = Assembler::new(&rule, FrontMatter::Chapter);
        book.add_file(
            Path::new("a.md"),
            blocks(&[("Title page.", Para), ("One", Heading), ("A.", Para)]),
            Removed::default(),
        );
        let m = book.finish("Book");
        assert_eq!(m.chapters.len(), 2);
        assert_eq!(m.chapters[0].title, "");
        assert!(m.removed.0.is_empty());
    }

    /// Seen: the whole heading line `《》目录 第一回 …` was spoken; a capture
    /// group is now the title and all that is spoken.
    #[test]
    fn a_capture_group_is_the_title() {
        let rule = ChapterRule::Regex(regex::Regex::new(r"^《》目录\s*(第.+回.*)").unwrap());
        let mut book = Assembler::new(&rule, FrontMatter::Skip);
        book.add_file(
            Path::new("x.txt"),
            blocks(&[
                ("《西游记》", Para),
                ("《》目录 第一回　灵根育孕源流出", Heading),
                ("诗曰：", Para),
            ]),
            Removed::default(),
        );
        let m = book.finish("西游记");
        assert_eq!(m.chapters[0].title, "第一回　灵根育孕源流出");
        assert_eq!(texts(&m.chapters[0]), ["第一回　灵根育孕源流出", "诗曰："]);
        assert_eq!(m.removed.0[Removed::HEADING_PREFIX], 4);
        assert_eq!(m.removed.0[Removed::FRONT_MATTER], 5);
    }

    #[test]
    fn a_book_without_chapter_starts_is_one_chapter_with_the_book_title() {
        let rule = ChapterRule::Headings;
        let mut book = Assembler::new(&rule, FrontMatter::Skip);
        book.add_file(
            Path::new("a.txt"),
            blocks(&[("Just text.", Para)]),
            Removed::default(),
        );
        assert!(book.found_no_chapter_start());
        let m = book.finish("Book");
        assert_eq!(m.chapters[0].title, "Book");
        assert_eq!(texts(&m.chapters[0]), ["Just text."]);
    }
}
