//! EPUB 2 and 3 through `rbook`: the documents of the spine in reading
//! order, chapter titles from the navigation document (the NCX for EPUB 2).
//!
//! Each spine document starts a chapter, and so does each `h1`/`h2` heading
//! after its first text. The title is the navigation label of the document,
//! else its first heading; a heading is spoken. Front and back matter are
//! recognised by their semantics (the landmarks or guide, `epub:type` on the
//! body or first section, the navigation document itself) or, without any,
//! by a file name or title such as "cover", "title_page", "Copyright" or
//! "Contents": skipped by default
//! and counted, or chapters of their own with `front_matter = "chapter"`.
//! Non-linear spine items (pop-ups, answer keys) are back matter.
//! A DRM-protected or damaged EPUB is an error that says so.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::path::Path;

use super::{Block, BlockKind, ManuscriptError, Removed, count_visible, xhtml};
use crate::job::{ChapterRule, FrontMatter, Job, Tables};

const FRONT: &[&str] = &[
    "cover",
    "titlepage",
    "halftitlepage",
    "title-page",
    "copyright-page",
    "copyright",
    "toc",
    "frontmatter",
    "imprint",
    "imprimatur",
    "loi",
    "lot",
];
const BACK: &[&str] = &[
    "backmatter",
    "colophon",
    "index",
    "bibliography",
    "appendix-ads",
    "other-credits",
];
/// Semantics that make a document content even inside front or back matter.
const CONTENT: &[&str] = &[
    "bodymatter",
    "chapter",
    "part",
    "preface",
    "foreword",
    "prologue",
    "introduction",
    "epilogue",
    "afterword",
    "conclusion",
];
const FRONT_TITLES: &[&str] = &[
    "cover",
    "title page",
    "title",
    "copyright",
    "copyright page",
    "contents",
    "table of contents",
    "封面",
    "扉页",
    "书名页",
    "版权",
    "版权页",
    "版权信息",
    "目录",
];

pub(crate) fn read(
    path: &Path,
    bytes: &[u8],
    job: &Job,
    removed: &mut Removed,
) -> Result<Vec<Block>, ManuscriptError> {
    refuse_drm(path, bytes)?;
    let epub = rbook::Epub::read(Cursor::new(bytes.to_vec())).map_err(|e| {
        ManuscriptError::invalid(
            path,
            format!(
                "this EPUB cannot be read ({e}); check it with an EPUB validator or export it again"
            ),
        )
    })?;
    let labels = toc_labels(&epub);
    let landmarks = landmark_kinds(&epub);
    let m = &job.manuscript;
    let mut blocks = Vec::new();
    let mut paragraph = 0;
    let mut seen_body = false;
    for entry in epub.spine().iter() {
        let Some(item) = entry.manifest_entry() else {
            continue;
        };
        if !item.media_type().contains("html") {
            continue;
        }
        let key = item.href().path().as_str().to_string();
        let xml = item.read_str().map_err(|e| {
            ManuscriptError::invalid(
                path,
                format!("{key} cannot be read ({e}); the EPUB may be damaged"),
            )
        })?;
        let mut doc_removed = Removed::default();
        let doc = xhtml::read(&xml, m.tables == Tables::Rows, &mut doc_removed).map_err(|e| {
            ManuscriptError::invalid(path, format!("{key}: {e}; the EPUB may be damaged"))
        })?;
        let label = labels.get(&key).cloned();
        let mut kinds: Vec<&str> = doc.types.iter().map(String::as_str).collect();
        kinds.extend(landmarks.get(&key).map(String::as_str));
        if item.properties().has_property("nav") {
            kinds.push("toc");
        }
        kinds.extend(kind_by_name(&key));
        let first_text = label
            .clone()
            .or_else(|| doc.blocks.first().map(|b| b.text.clone()))
            .unwrap_or_default();
        let matter = matter_of(&kinds, &first_text, entry.is_linear());
        if matter.is_none() {
            seen_body = true;
        }
        removed.merge(&doc_removed);
        if let Some(is_front) = matter.map(|back| !back && !seen_body)
            && m.front_matter == FrontMatter::Skip
        {
            let rule = if is_front {
                Removed::FRONT_MATTER
            } else {
                Removed::BACK_MATTER
            };
            let chars = doc.blocks.iter().map(|b| count_visible(&b.text)).sum();
            removed.add_count(rule, chars);
            continue;
        }
        push_document(&mut blocks, doc, label, &m.chapters, &mut paragraph);
    }
    Ok(blocks)
}

/// What a document's file name says it is, as converters name them
/// (`cover.xhtml`, `title_page.xhtml`, `copyright.html`, `toc.xhtml`).
fn kind_by_name(path: &str) -> Option<&'static str> {
    let stem = path.rsplit('/').next()?.split('.').next()?.to_lowercase();
    let stem: String = stem.chars().filter(|c| c.is_alphanumeric()).collect();
    [
        ("cover", "cover"),
        ("titlepage", "titlepage"),
        ("copyright", "copyright-page"),
        ("toc", "toc"),
        ("contents", "toc"),
        ("nav", "toc"),
        ("colophon", "colophon"),
    ]
    .into_iter()
    .find(|(name, _)| stem == *name)
    .map(|(_, kind)| kind)
}

/// `Some(true)` for back matter, `Some(false)` for front matter (the
/// caller decides by position), `None` for content.
fn matter_of(kinds: &[&str], title: &str, linear: bool) -> Option<bool> {
    if kinds.iter().any(|k| CONTENT.contains(k)) && !kinds.iter().any(|k| FRONT[..7].contains(k)) {
        return None;
    }
    if !linear || kinds.iter().any(|k| BACK.contains(k)) {
        return Some(true);
    }
    let title = title.trim().trim_end_matches([':', '.']).to_lowercase();
    if ["colophon", "index"].contains(&title.as_str()) && kinds.is_empty() {
        return Some(true);
    }
    (kinds.iter().any(|k| FRONT.contains(k)) || FRONT_TITLES.contains(&title.as_str()))
        .then_some(false)
}

/// One document's blocks under the job's chapter rule.
fn push_document(
    blocks: &mut Vec<Block>,
    doc: xhtml::XDoc,
    label: Option<String>,
    rule: &ChapterRule,
    paragraph: &mut usize,
) {
    let mut started = false;
    for b in doc.blocks {
        *paragraph += 1;
        let line = *paragraph;
        let kind = match rule {
            ChapterRule::Files => BlockKind::Para,
            ChapterRule::Regex(re) if re.is_match(&b.text) => BlockKind::Heading,
            ChapterRule::Regex(_) => BlockKind::Para,
            ChapterRule::Headings if !started => {
                started = true;
                if let Some(label) = &label {
                    blocks.push(Block {
                        kind: BlockKind::Start,
                        text: label.clone(),
                        line,
                    });
                    BlockKind::Para
                } else if b.level.is_some() {
                    BlockKind::Heading
                } else {
                    blocks.push(Block {
                        kind: BlockKind::Start,
                        text: String::new(),
                        line,
                    });
                    BlockKind::Para
                }
            }
            ChapterRule::Headings if matches!(b.level, Some(1 | 2)) => BlockKind::Heading,
            ChapterRule::Headings => BlockKind::Para,
        };
        blocks.push(Block {
            kind,
            text: b.text,
            line,
        });
    }
}

/// The first navigation label of each document (by path, fragment dropped).
fn toc_labels(epub: &rbook::Epub) -> HashMap<String, String> {
    let mut labels = HashMap::new();
    if let Some(root) = epub.toc().contents() {
        for entry in root.flatten() {
            if let Some(href) = entry.href() {
                let label = entry
                    .label()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                if !label.is_empty() {
                    labels
                        .entry(href.path().as_str().to_string())
                        .or_insert(label);
                }
            }
        }
    }
    labels
}

/// The landmark (EPUB 3) or guide (EPUB 2) kind of each document.
fn landmark_kinds(epub: &rbook::Epub) -> HashMap<String, String> {
    let mut kinds = HashMap::new();
    if let Some(root) = epub.toc().landmarks() {
        for entry in root.flatten() {
            if let Some(href) = entry.href() {
                kinds
                    .entry(href.path().as_str().to_string())
                    .or_insert_with(|| entry.kind().as_str().to_string());
            }
        }
    }
    kinds
}

/// An EPUB whose content is encrypted (Adobe ADEPT, Apple FairPlay, Readium
/// LCP, ...) cannot be read; font obfuscation is not protection.
fn refuse_drm(path: &Path, bytes: &[u8]) -> Result<(), ManuscriptError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        ManuscriptError::invalid(
            path,
            format!("this EPUB is a damaged zip archive ({e}); export it again"),
        )
    })?;
    let drm = "this EPUB is DRM-protected (its content is encrypted); ask the publisher or the \
               distributor for the DRM-free file";
    for name in ["META-INF/rights.xml", "META-INF/license.lcpl", "sinf.xml"] {
        if zip.by_name(name).is_ok() {
            return Err(ManuscriptError::invalid(path, drm));
        }
    }
    let Ok(file) = zip.by_name("META-INF/encryption.xml") else {
        return Ok(());
    };
    let mut xml = String::new();
    file.take(super::MAX_FILE_BYTES)
        .read_to_string(&mut xml)
        .map_err(|e| {
            ManuscriptError::invalid(path, format!("META-INF/encryption.xml cannot be read: {e}"))
        })?;
    const FONT_OBFUSCATION: [&str; 2] = [
        "http://www.idpf.org/2008/embedding",
        "http://ns.adobe.com/pdf/enc#RC",
    ];
    let protected = xml
        .match_indices("Algorithm=\"")
        .map(|(i, m)| &xml[i + m.len()..])
        .filter_map(|rest| rest.split('"').next())
        .any(|alg| !FONT_OBFUSCATION.contains(&alg) && !alg.contains("xmldsig"));
    if protected {
        return Err(ManuscriptError::invalid(path, drm));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_and_back_matter_by_semantics_and_title() {
        assert_eq!(
            matter_of(&["frontmatter", "titlepage"], "Book", true),
            Some(false)
        );
        assert_eq!(matter_of(&["toc"], "", true), Some(false));
        assert_eq!(matter_of(&["bodymatter"], "Chapter 1", true), None);
        assert_eq!(
            matter_of(&["frontmatter", "preface"], "Preface", true),
            None
        );
        assert_eq!(matter_of(&[], "Copyright", true), Some(false));
        assert_eq!(matter_of(&[], "目录", true), Some(false));
        assert_eq!(matter_of(&[], "Chapter 1", false), Some(true));
        assert_eq!(matter_of(&["colophon"], "", true), Some(true));
        assert_eq!(matter_of(&[], "Chapter 1", true), None);
    }
}
