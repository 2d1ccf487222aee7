//! DOCX (Word) files through `zip` and `quick-xml`: the paragraphs of
//! `word/document.xml` in order.
//!
//! - Paragraphs styled Heading 1 or Heading 2 (by style name, or outline
//!   level 1 or 2) start chapters; other headings are spoken paragraphs.
//! - Tracked changes are read as accepted: insertions and moved-to text are
//!   spoken, deletions and moved-from text are not (counted under
//!   `tracked_deletions`), and a deleted paragraph mark joins two paragraphs.
//! - Footnotes, endnotes and comments live in their own parts and are never
//!   read (counted); field codes are not spoken (their shown result is);
//!   drawings, pictures and text boxes (with their alt text) and captions
//!   are not spoken (`image_text`); tables are skipped unless `tables =
//!   "rows"`.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::xhtml::attr;
use super::{Block, BlockKind, ManuscriptError, Removed};
use crate::job::{ChapterRule, Job, Tables};

pub(crate) fn read(
    path: &Path,
    bytes: &[u8],
    job: &Job,
    removed: &mut Removed,
) -> Result<Vec<Block>, ManuscriptError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        ManuscriptError::invalid(
            path,
            format!("this DOCX is a damaged zip archive ({e}); save it again from Word"),
        )
    })?;
    let mut part = |name: &str| -> Result<Option<String>, ManuscriptError> {
        let Ok(file) = zip.by_name(name) else {
            return Ok(None);
        };
        let mut text = String::new();
        file.take(super::MAX_FILE_BYTES)
            .read_to_string(&mut text)
            .map_err(|e| {
                ManuscriptError::invalid(
                    path,
                    format!("{name} cannot be read ({e}); save the file again from Word"),
                )
            })?;
        Ok(Some(text))
    };
    let document = part("word/document.xml")?.ok_or_else(|| {
        ManuscriptError::invalid(
            path,
            "this DOCX has no word/document.xml; save it again from Word",
        )
    })?;
    let styles = part("word/styles.xml")?
        .map(|s| style_names(&s))
        .unwrap_or_default();
    for (name, rule) in [
        ("word/footnotes.xml", Removed::FOOTNOTES),
        ("word/endnotes.xml", Removed::FOOTNOTES),
        ("word/comments.xml", Removed::COMMENTS),
    ] {
        if let Some(xml) = part(name)? {
            removed.add(rule, &text_of(&xml));
        }
    }
    let m = &job.manuscript;
    let paragraphs =
        paragraphs(&document, &styles, m.tables == Tables::Rows, removed).map_err(|e| {
            ManuscriptError::invalid(
                path,
                format!("word/document.xml: {e}; save the file again from Word"),
            )
        })?;
    let mut blocks = Vec::new();
    for (n, p) in paragraphs.into_iter().enumerate() {
        if p.caption {
            removed.add(Removed::IMAGES, &p.text);
            continue;
        }
        let kind = match &m.chapters {
            ChapterRule::Headings if p.level.is_some_and(|l| l <= 2) => BlockKind::Heading,
            ChapterRule::Regex(re) if re.is_match(&p.text) => BlockKind::Heading,
            _ => BlockKind::Para,
        };
        blocks.push(Block {
            kind,
            text: p.text,
            line: n + 1,
        });
    }
    Ok(blocks)
}

/// A paragraph of the document, as a listener hears it.
#[derive(Debug)]
struct Para {
    text: String,
    /// Heading level 1..=9 by style or outline level.
    level: Option<u8>,
    caption: bool,
}

/// Style id to lowercase style name (`Heading1` to `heading 1`).
fn style_names(xml: &str) -> HashMap<String, String> {
    let mut names = HashMap::new();
    let mut reader = Reader::from_str(xml);
    let mut current: Option<String> = None;
    while let Ok(event) = reader.read_event() {
        match event {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "style" => current = attr(&e, "w:styleId"),
                "name" => {
                    if let (Some(id), Some(name)) = (&current, attr(&e, "w:val")) {
                        names.insert(id.clone(), name.to_lowercase());
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    names
}

/// The text in `w:t` elements of a part (footnotes, comments), for counts.
fn text_of(xml: &str) -> String {
    let mut reader = Reader::from_str(xml);
    let (mut out, mut in_t) = (String::new(), false);
    while let Ok(event) = reader.read_event() {
        match event {
            Event::Eof => break,
            Event::Start(e) if e.local_name().as_ref() == "t" => in_t = true,
            Event::End(e) if e.local_name().as_ref() == "t" => in_t = false,
            Event::Text(t) if in_t => out.push_str(&t.xml10_content()),
            _ => {}
        }
    }
    out
}

/// Elements whose content is not spoken, with the rule counting it.
fn skipped(name: &str, rows: bool) -> Option<&'static str> {
    match name {
        "del" | "moveFrom" => Some(Removed::DELETIONS),
        "instrText" | "delInstrText" => Some(Removed::MARKUP),
        "drawing" | "pict" | "object" => Some(Removed::IMAGES),
        // The same content twice: the first choice is read, the fallback not.
        "Fallback" => Some(""),
        "tbl" if !rows => Some(Removed::TABLES),
        "pPrChange" | "rPrChange" | "sectPr" => Some(""),
        _ => None,
    }
}

fn paragraphs(
    xml: &str,
    styles: &HashMap<String, String>,
    rows: bool,
    removed: &mut Removed,
) -> Result<Vec<Para>, String> {
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    let mut skip: Vec<(String, &'static str)> = Vec::new();
    let mut text = String::new();
    let (mut level, mut caption, mut mark_deleted) = (None, false, false);
    let (mut in_t, mut in_ppr) = (false, false);
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("not well-formed XML: {e}"))?;
        match event {
            Event::Eof => break,
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_string();
                if let Some((_, rule)) = skip.last() {
                    let rule = *rule;
                    skip.push((name, rule));
                    in_t = false;
                    continue;
                }
                if let Some(rule) = skipped(&name, rows) {
                    skip.push((name, rule));
                    continue;
                }
                match name.as_str() {
                    "t" | "delText" => in_t = true,
                    "pPr" => in_ppr = true,
                    "tc" if !text.trim().is_empty() => text.push_str(", "),
                    _ => {}
                }
            }
            Event::Empty(e) => {
                if !skip.is_empty() {
                    continue;
                }
                match e.local_name().as_ref() {
                    "tab" => text.push(' '),
                    "br" | "cr" => text.push('\n'),
                    "noBreakHyphen" => text.push('-'),
                    "pStyle" => {
                        let id = attr(&e, "w:val").unwrap_or_default();
                        let name = styles
                            .get(&id)
                            .cloned()
                            .unwrap_or_else(|| id.to_lowercase());
                        level = heading_level(&name).or(level);
                        caption = name.contains("caption");
                    }
                    "outlineLvl" => {
                        let lvl = attr(&e, "w:val").and_then(|v| v.parse::<u8>().ok());
                        level = level.or(lvl.filter(|&l| l < 9).map(|l| l + 1));
                    }
                    "del" if in_ppr => mark_deleted = true,
                    _ => {}
                }
            }
            Event::End(e) => {
                let local = e.local_name();
                let name = local.as_ref();
                if let Some((open, _)) = skip.last() {
                    if open == name {
                        skip.pop();
                    }
                    continue;
                }
                match name {
                    "t" | "delText" => in_t = false,
                    "pPr" => in_ppr = false,
                    "p" if !mark_deleted => {
                        let lines: Vec<&str> = text.split('\n').collect();
                        let joined = crate::segment::prepare_paragraph(&lines);
                        if !joined.is_empty() {
                            out.push(Para {
                                text: joined,
                                level,
                                caption,
                            });
                        }
                        text.clear();
                        (level, caption) = (None, false);
                    }
                    "p" => {
                        // A deleted paragraph mark: this paragraph goes on.
                        mark_deleted = false;
                        text.push(' ');
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                match skip.last() {
                    Some((_, rule)) if !rule.is_empty() => removed.add(rule, &content),
                    Some(_) => {}
                    None if in_t => text.push_str(&content),
                    None => {}
                }
            }
            Event::GeneralRef(r) if in_t && skip.is_empty() => {
                let name = r.xml10_content();
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    text.push(c);
                } else if let Some(s) = quick_xml::escape::resolve_xml_entity(&name) {
                    text.push_str(s);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// `heading 1` .. `heading 9` (Word's built-in names are lowercase).
fn heading_level(style: &str) -> Option<u8> {
    let n = style.strip_prefix("heading")?.trim();
    n.parse::<u8>().ok().filter(|l| (1..=9).contains(l))
}
