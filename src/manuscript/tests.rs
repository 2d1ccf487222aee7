//! Whole manuscripts through [`load`](super::load), with a real job file:
//! the EPUB 2, EPUB 3 and DOCX fixtures (made by pandoc, an independent
//! tool; `tests/fixtures/src/make.sh` rebuilds them), and each case of the
//! issue's "what was seen" that needs a whole book.

use std::path::Path;

use super::{Manuscript, ManuscriptError, Removed, load};

const EPUB2: &[u8] = include_bytes!("../../tests/fixtures/book2.epub");
const EPUB3: &[u8] = include_bytes!("../../tests/fixtures/book3.epub");
const DOCX: &[u8] = include_bytes!("../../tests/fixtures/book.docx");

/// Loads `bytes` saved as `name` through a job file with `extra` lines in
/// its `[manuscript]` table.
fn load_as(name: &str, bytes: &[u8], extra: &str) -> Result<Manuscript, ManuscriptError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), bytes).unwrap();
    let job = format!(
        "[book]\ntitle = \"The Lighthouse Keeper\"\n[manuscript]\nfiles = [\"{name}\"]\n{extra}\n\
         [output]\ndir = \"out\"\n"
    );
    let path = dir.path().join("job.toml");
    std::fs::write(&path, job).unwrap();
    let job = crate::job::load(&path).unwrap_or_else(|e| panic!("{e}"));
    load(&job)
}

fn outline(m: &Manuscript) -> Vec<(String, Vec<String>)> {
    m.chapters
        .iter()
        .map(|c| {
            let texts = c.paragraphs.iter().map(|p| p.text.clone()).collect();
            (c.title.clone(), texts)
        })
        .collect()
}

fn assert_no_markup(m: &Manuscript) {
    for p in m.chapters.iter().flat_map(|c| &c.paragraphs) {
        for mark in ["<", ">", "[^", "](", "**", "| ", "epub:", "&amp;", "↩"] {
            assert!(!p.text.contains(mark), "{mark:?} in {:?}", p.text);
        }
        for unspoken in [
            "footnote",
            "drawing of the lighthouse",
            "1901",
            "Copyright",
            "typeface",
        ] {
            assert!(!p.text.contains(unspoken), "{unspoken:?} in {:?}", p.text);
        }
    }
}

#[test]
fn epub_2_and_3_chapters_titles_and_front_matter() {
    for (name, bytes) in [("book2.epub", EPUB2), ("book3.epub", EPUB3)] {
        let m = load_as(name, bytes, "").unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = [
            (
                "Chapter One: The Light",
                vec![
                    "Chapter One: The Light",
                    "Mr. Hale kept the lighthouse on the northern cape. He climbed the steps every evening.",
                    "A quoted epigraph.",
                    "item one",
                    "item two",
                ],
            ),
            (
                "第二章：来信",
                vec![
                    "第二章：来信",
                    "春天的时候，灯塔收到了一封信。信里说：“是您的灯光带我们回家。”",
                ],
            ),
            (
                "A Section Within",
                vec!["A Section Within", "More text in chapter two."],
            ),
        ];
        let expected: Vec<(String, Vec<String>)> = expected
            .iter()
            .map(|(t, ps)| (t.to_string(), ps.iter().map(|p| p.to_string()).collect()))
            .collect();
        assert_eq!(outline(&m), expected, "{name}");
        assert_no_markup(&m);
        for rule in [
            Removed::FRONT_MATTER,
            Removed::BACK_MATTER,
            Removed::FOOTNOTES,
            Removed::TABLES,
        ] {
            assert!(
                m.removed.0.contains_key(rule),
                "{name}: {rule} in {:?}",
                m.removed
            );
        }
        assert!(m.warnings.is_empty(), "{name}: {:?}", m.warnings);
    }
}

#[test]
fn epub_front_and_back_matter_as_chapters_when_asked() {
    let m = load_as("book3.epub", EPUB3, "front_matter = \"chapter\"").unwrap();
    let titles: Vec<&str> = m.chapters.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "The Lighthouse Keeper",
            "Copyright",
            "Chapter One: The Light",
            "第二章：来信",
            "A Section Within",
            "Colophon"
        ]
    );
    assert!(!m.removed.0.contains_key(Removed::FRONT_MATTER));
}

#[test]
fn docx_headings_tracked_changes_comments_and_footnotes() {
    let m = load_as("book.docx", DOCX, "").unwrap();
    let expected: Vec<(String, Vec<String>)> = [
        (
            "Chapter One: The Light",
            vec![
                "Chapter One: The Light",
                "Mr. Hale kept the lighthouse on the northern cape. He climbed the steps every evening.",
                "Anna said the keeper was kind and wise. Margin note.",
            ],
        ),
        (
            "A Section Within",
            vec![
                "A Section Within",
                "More text in chapter one.",
                "A Minor Heading",
                "Still chapter two.",
            ],
        ),
        ("第二章：来信", vec!["第二章：来信", "春天的时候，灯塔收到了一封信。"]),
    ]
    .iter()
    .map(|(t, ps)| (t.to_string(), ps.iter().map(|p| p.to_string()).collect()))
    .collect();
    assert_eq!(outline(&m), expected);
    assert_no_markup(&m);
    for p in m.chapters.iter().flat_map(|c| &c.paragraphs) {
        assert!(
            !p.text.contains("cruel") && !p.text.contains("Check this name"),
            "{}",
            p.text
        );
    }
    assert_eq!(m.removed.0[Removed::DELETIONS], 5);
    assert_eq!(m.removed.0[Removed::COMMENTS], 14);
    assert!(m.removed.0[Removed::FOOTNOTES] > 0);
    assert!(m.removed.0[Removed::FRONT_MATTER] > 0);
}

/// Seen: an EPUB (and a DOCX) named `.txt` was sent to the text decoder,
/// which talked about windows-1250. The bytes decide.
#[test]
fn the_format_comes_from_the_bytes_not_the_name() {
    let m = load_as("book.txt", DOCX, "").unwrap();
    assert_eq!(m.chapters.len(), 3);
    let m = load_as("book.md", EPUB3, "").unwrap();
    assert_eq!(m.chapters.len(), 3);
}

#[test]
fn drm_and_damaged_files_are_named() {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default();
        zip.start_file("mimetype", opts).unwrap();
        std::io::Write::write_all(&mut zip, b"application/epub+zip").unwrap();
        zip.start_file("META-INF/encryption.xml", opts).unwrap();
        std::io::Write::write_all(
            &mut zip,
            br#"<encryption><EncryptedData><EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/></EncryptedData></encryption>"#,
        )
        .unwrap();
        zip.finish().unwrap();
    }
    let err = load_as("locked.epub", &buf.into_inner(), "")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("DRM-protected") && err.contains("locked.epub"),
        "{err}"
    );
    let mut broken = EPUB3.to_vec();
    broken.truncate(EPUB3.len() / 2);
    let err = load_as("broken.epub", &broken, "").unwrap_err().to_string();
    assert!(
        err.contains("broken.epub") && err.contains("damaged"),
        "{err}"
    );
}

/// Seen: a chapter pattern matching nothing passed `validate` and `plan`,
/// and a 5-hour book became one untitled chapter.
#[test]
fn a_pattern_that_matches_nothing_is_an_error_naming_a_heading_like_line() {
    let text = "Title.\n\nCHAPTER I.\n\nIt is a truth.\n\nCHAPTER II.\n\nMore.\n";
    let err = load_as(
        "book.txt",
        text.as_bytes(),
        "chapters = \"regex\"\nchapter_pattern = '^Chapter [IVX]+\\.'",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("^Chapter [IVX]+\\\\.") || err.contains("^Chapter [IVX]+\\."),
        "{err}"
    );
    assert!(
        err.contains("book.txt:3") && err.contains("CHAPTER I."),
        "{err}"
    );
    // Headings in plain text: none exist, and a heading-like line says so.
    let err = load_as("book.txt", text.as_bytes(), "")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("found no heading") && err.contains("book.txt:3"),
        "{err}"
    );
    // A text without anything heading-like is one chapter named after the book.
    let m = load_as("story.txt", b"Once upon a time.\n\nThe end.\n", "").unwrap();
    assert_eq!(m.chapters[0].title, "The Lighthouse Keeper");
}

/// Seen: a pattern missing some headings gave 58 of 61 chapters silently.
#[test]
fn a_pattern_missing_headings_warns_about_the_gap() {
    let mut text = String::new();
    for (i, n) in ["I", "II", "III", "IV", "V"].iter().enumerate() {
        let heading = if i == 2 {
            format!("Chapter {n}.")
        } else {
            format!("CHAPTER {n}.")
        };
        text.push_str(&format!(
            "{heading}\n\n{}\n\n",
            "Some words here. ".repeat(20)
        ));
    }
    let m = load_as(
        "book.txt",
        text.as_bytes(),
        "chapters = \"regex\"\nchapter_pattern = '^CHAPTER [IVX]+\\.'",
    )
    .unwrap();
    assert_eq!(m.chapters.len(), 4);
    assert!(
        m.warnings.iter().any(|w| w.contains("skips one number")),
        "{:?}",
        m.warnings
    );
}

/// Seen: UTF-16 without BOM read as UTF-8, and NUL sent to the provider;
/// both through a whole job.
#[test]
fn utf16_manuscripts_load_and_nul_is_refused() {
    let text = "# One\n\nHello there.\n";
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let m = load_as("book.md", &utf16, "").unwrap();
    assert_eq!(m.chapters[0].paragraphs[1].text, "Hello there.");
    let err = load_as("book.md", b"# One\n\nHel\0lo.\n", "")
        .unwrap_err()
        .to_string();
    assert!(err.contains("book.md:3:4") && err.contains("NUL"), "{err}");
}

#[test]
fn a_file_over_the_size_limit_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.txt");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(super::MAX_FILE_BYTES + 1).unwrap();
    let err = super::bytes::read_file(Path::new(&path))
        .unwrap_err()
        .to_string();
    assert!(err.contains("over the limit of 64 MiB"), "{err}");
}
