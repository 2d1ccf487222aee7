//! The XHTML documents of an EPUB into paragraphs, as a listener should hear
//! them: block elements (`p`, headings, list items, quotes, `div` text) are
//! paragraphs; inline markup is read as its text; `br` is a line break.
//!
//! Not spoken, and counted: footnotes and endnotes (`epub:type` footnote,
//! endnote, rearnote, note, and the `noteref` markers pointing at them,
//! also `role="doc-noteref"` / `doc-footnote` / `doc-endnotes`, and in EPUB 2
//! the classes converters use: `footnote-ref`, `footnotes`, ...), image alt
//! text (attributes are never read) and figure captions (`figcaption`,
//! `class="caption"`, anything `aria-hidden="true"`), tables unless `tables
//! = "rows"`, and everything in `head`, `script`, `style` and `nav`.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::Removed;

/// A paragraph or heading of an XHTML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XBlock {
    pub text: String,
    /// `Some(1..=6)` for a heading.
    pub level: Option<u8>,
    pub line: usize,
}

/// What a document is: its `epub:type` on `body` or its first `section`.
#[derive(Debug, Default)]
pub(crate) struct XDoc {
    pub blocks: Vec<XBlock>,
    pub types: Vec<String>,
}

const BLOCKS: &[&str] = &[
    "p",
    "div",
    "li",
    "blockquote",
    "dt",
    "dd",
    "pre",
    "section",
    "article",
    "figure",
    "header",
    "footer",
    "aside",
    "ul",
    "ol",
    "dl",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "table",
    "caption",
    "body",
    "hr",
];

/// Reads one XHTML document. A document that is not well-formed XML is an
/// error message (the caller names the file).
pub(crate) fn read(xml: &str, rows: bool, removed: &mut Removed) -> Result<XDoc, String> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = false;
    let mut doc = XDoc::default();
    let mut st = State {
        rows,
        skip: Vec::new(),
        depth: 0,
        text: String::new(),
        level: None,
        line: 1,
    };
    let mut newlines = (0usize, 1usize); // (scanned up to, lines so far)
    loop {
        let pos = usize::try_from(reader.buffer_position())
            .unwrap_or(usize::MAX)
            .min(xml.len());
        newlines.1 += xml.as_bytes()[newlines.0..pos]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        newlines.0 = pos;
        let event = reader
            .read_event()
            .map_err(|e| format!("not well-formed XHTML near byte {pos}: {e}"))?;
        match event {
            Event::Eof => break,
            Event::Start(e) => st.open(&e, false, newlines.1, &mut doc, removed),
            Event::Empty(e) => st.open(&e, true, newlines.1, &mut doc, removed),
            Event::End(e) => {
                let name = e.local_name().as_ref().to_ascii_lowercase();
                st.close(&name, &mut doc, removed);
            }
            Event::Text(t) => st.text(&t.xml10_content(), removed),
            Event::CData(t) => st.text(&t.xml10_content(), removed),
            Event::GeneralRef(r) => {
                let name = r.xml10_content();
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => quick_xml::escape::resolve_html5_entity(&name)
                        .unwrap_or_default()
                        .to_string(),
                };
                st.text(&resolved, removed);
            }
            _ => {}
        }
    }
    st.flush(&mut doc);
    Ok(doc)
}

struct State {
    rows: bool,
    /// Open elements whose content is skipped: (depth opened at, rule).
    skip: Vec<(usize, &'static str)>,
    depth: usize,
    text: String,
    level: Option<u8>,
    line: usize,
}

impl State {
    fn open(
        &mut self,
        e: &BytesStart,
        empty: bool,
        line: usize,
        doc: &mut XDoc,
        removed: &mut Removed,
    ) {
        let name = e.local_name().as_ref().to_ascii_lowercase();
        if !empty {
            self.depth += 1;
        }
        if !self.skip.is_empty() {
            return;
        }
        let epub_type = attr(e, "epub:type").unwrap_or_default();
        if (name == "body" || name == "section") && !epub_type.is_empty() && doc.types.len() < 4 {
            doc.types
                .extend(epub_type.split_whitespace().map(str::to_string));
        }
        if let Some(rule) = self.skip_rule(e, &name, &epub_type) {
            if (name == "img" || name == "image")
                && let Some(alt) = attr(e, "alt")
            {
                removed.add(Removed::IMAGES, &alt);
            }
            if !empty {
                self.skip.push((self.depth, rule));
            }
            return;
        }
        if name == "br" {
            self.text.push('\n');
        } else if name == "td" || name == "th" {
            if !self.text.trim().is_empty() {
                self.text.push_str(", ");
            }
        } else if BLOCKS.contains(&name.as_str()) {
            self.flush(doc);
            self.line = line;
            self.level = heading_level(&name);
        }
    }

    fn skip_rule(&self, e: &BytesStart, name: &str, epub_type: &str) -> Option<&'static str> {
        let role = attr(e, "role").unwrap_or_default();
        let is = |list: &[&str]| {
            epub_type
                .split_whitespace()
                .chain(role.split_whitespace())
                .any(|t| list.contains(&t.trim_start_matches("doc-")))
        };
        let class = attr(e, "class").unwrap_or_default();
        let has_class = |list: &[&str]| class.split_whitespace().any(|c| list.contains(&c));
        const NOTES: &[&str] = &[
            "footnote",
            "footnotes",
            "endnote",
            "endnotes",
            "rearnote",
            "rearnotes",
            "note",
            "noteref",
            "footnote-ref",
        ];
        // EPUB 2 has no epub:type: converters mark notes with classes.
        if is(NOTES) || has_class(NOTES) {
            return Some(Removed::FOOTNOTES);
        }
        if name == "figcaption" || has_class(&["caption", "figcaption"]) {
            return Some(Removed::IMAGES);
        }
        match name {
            "head" | "script" | "style" | "nav" | "svg" | "math" => Some(Removed::MARKUP),
            "img" | "image" => Some(Removed::IMAGES),
            "table" if !self.rows => Some(Removed::TABLES),
            _ if attr(e, "aria-hidden").as_deref() == Some("true") => Some(Removed::IMAGES),
            _ => None,
        }
    }

    fn close(&mut self, name: &str, doc: &mut XDoc, _removed: &mut Removed) {
        if let Some(&(depth, _)) = self.skip.last()
            && depth == self.depth
        {
            self.skip.pop();
        } else if self.skip.is_empty() && BLOCKS.contains(&name) {
            self.flush(doc);
        }
        self.depth = self.depth.saturating_sub(1);
    }

    fn text(&mut self, s: &str, removed: &mut Removed) {
        match self.skip.last() {
            Some(&(_, rule)) => removed.add(rule, s),
            None => self.text.push_str(s),
        }
    }

    fn flush(&mut self, doc: &mut XDoc) {
        let raw = std::mem::take(&mut self.text);
        let level = self.level.take();
        let lines: Vec<&str> = raw.split('\n').collect();
        let text = crate::segment::prepare_paragraph(&lines);
        if !text.is_empty() {
            doc.blocks.push(XBlock {
                text,
                level,
                line: self.line,
            });
        }
    }
}

fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

/// An attribute's unescaped value, by its qualified name.
pub(crate) fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref().eq_ignore_ascii_case(name))
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_without_notes_images_or_markup() {
        let xml = r##"<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"
            xmlns:epub="http://www.idpf.org/2007/ops"><head><title>T</title></head>
            <body epub:type="bodymatter"><section><h1>Chapter One</h1>
            <p>Mr. Hale kept the <em>lighthouse</em>.<a epub:type="noteref" href="#n1">1</a> Then&#160;&amp; now.</p>
            <figure><img src="a.png" alt="A drawing"/><figcaption aria-hidden="true">A drawing</figcaption></figure>
            <ul><li>item one</li><li>item <b>two</b></li></ul>
            <p>Line<br/>break.</p>
            <aside epub:type="footnote" id="n1"><p>The note.</p></aside>
            <table><tr><td>a</td><td>b</td></tr></table>
            </section></body></html>"##;
        let mut removed = Removed::default();
        let doc = read(xml, false, &mut removed).unwrap();
        let texts: Vec<&str> = doc.blocks.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Chapter One",
                "Mr. Hale kept the lighthouse. Then & now.",
                "item one",
                "item two",
                "Line break."
            ]
        );
        assert_eq!(doc.blocks[0].level, Some(1));
        assert_eq!(doc.blocks[1].line, 4);
        assert_eq!(doc.types, ["bodymatter"]);
        assert_eq!(removed.0[Removed::IMAGES], 2 * 8);
        assert_eq!(removed.0[Removed::FOOTNOTES], 1 + 8);
        assert_eq!(removed.0[Removed::TABLES], 2);
    }
}
