//! Manuscripts as publishers have them, through the real binary: EPUB and
//! DOCX jobs, chapter errors and warnings in `validate` and `plan`, the
//! pronunciation lexicon through a real render with the embedded engine.

use crate::util::{Workspace, stderr, stdout};

/// A job file for `files`, with `extra` lines in `[manuscript]`.
fn job(ws: &Workspace, files: &str, extra: &str, language: &str) {
    ws.write(
        "job.toml",
        format!(
            "[book]\ntitle = \"Test Book\"\nlanguage = \"{language}\"\n\n\
             [manuscript]\nfiles = [\"{files}\"]\n{extra}\n\n\
             [audio]\nsample_rate = 16000\nsentence_gap_ms = 100\nparagraph_gap_ms = 300\n\
             chapter_head_ms = 200\nchapter_trailing_ms = 500\n\n\
             [output]\ndir = \"out\"\n"
        ),
    );
}

fn segment_lines(ws: &Workspace) -> Vec<serde_json::Value> {
    let out = ws.run(&["segment", "job.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

#[test]
fn segment_job_shows_what_an_epub_render_sends() {
    let ws = Workspace::new();
    ws.write(
        "book.epub",
        include_bytes!("fixtures/book3.epub").as_slice(),
    );
    job(&ws, "book.epub", "", "mixed");
    let lines = segment_lines(&ws);
    let titles: Vec<&str> = lines
        .iter()
        .filter(|l| l["index"] == 0)
        .map(|l| l["chapter_title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["Chapter One: The Light", "第二章：来信", "A Section Within"]
    );
    for l in &lines {
        let text = l["text"].as_str().unwrap();
        assert!(
            !text.contains('<') && !text.contains("footnote") && !text.contains("Copyright"),
            "{text}"
        );
    }
    let out = ws.run(&["plan", "job.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("front_matter") && text.contains("footnotes"),
        "{text}"
    );
}

/// Seen: a chapter pattern matching nothing passed `validate` and `plan`
/// with exit 0.
#[test]
fn a_chapter_pattern_that_matches_nothing_is_exit_2_in_validate_and_plan() {
    let ws = Workspace::new();
    ws.write(
        "book.txt",
        "Front.\n\nCHAPTER I.\n\nIt is a truth.\n\nCHAPTER II.\n\nMore.\n",
    );
    job(
        &ws,
        "book.txt",
        "chapters = \"regex\"\nchapter_pattern = '^Chapter \\d+'",
        "en",
    );
    for cmd in ["validate", "plan"] {
        let out = ws.run(&[cmd, "job.toml"]);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains("^Chapter \\\\d+") || err.contains("^Chapter \\d+"),
            "{err}"
        );
        assert!(
            err.contains("book.txt:3") && err.contains("CHAPTER I."),
            "{err}"
        );
    }
}

/// Seen: `language = "mixed"` in the job, `--lang auto` in `segment`: one
/// name now, the other an alias.
#[test]
fn mixed_is_the_name_and_auto_an_alias() {
    let ws = Workspace::new();
    ws.write("text.md", "Hello there. 你好。\n");
    for lang in ["mixed", "auto"] {
        let out = ws.run(&["segment", "text.md", "--lang", lang]);
        assert_eq!(out.status.code(), Some(0), "{lang}: {}", stderr(&out));
    }
    let help = stdout(&ws.run(&["segment", "--help"]));
    assert!(help.contains("mixed"), "{help}");
    job(&ws, "text.md", "", "auto");
    assert_eq!(segment_lines(&ws).len(), 2);
}

/// One lexicon entry edited: exactly the segments with that word are
/// rendered again, and the manifest still shows the manuscript's words.
#[test]
fn editing_one_lexicon_entry_rerenders_exactly_its_segments() {
    let ws = Workspace::new();
    ws.write(
        "book.md",
        "# One\n\nMr. Darcy looked up. The room was quiet. Darcy smiled at Bingley.\n\n\
         Nobody spoke. Bingley laughed.\n",
    );
    ws.write(
        "names.csv",
        "text,say_as\nDarcy,Dar see\nBingley,Bing lee\nWickham,Wick am\n",
    );
    job(&ws, "book.md", "lexicon = [\"names.csv\"]", "en");

    let lines = segment_lines(&ws);
    let sent: Vec<&str> = lines.iter().map(|l| l["text"].as_str().unwrap()).collect();
    assert_eq!(
        sent,
        [
            "One",
            "Mr. Dar see looked up.",
            "The room was quiet.",
            "Dar see smiled at Bing lee.",
            "Nobody spoke.",
            "Bing lee laughed."
        ]
    );
    assert_eq!(lines[1]["shown"], "Mr. Darcy looked up.");
    assert!(lines[2].get("shown").is_none());

    let plan = stdout(&ws.run(&["plan", "job.toml"]));
    assert!(
        plan.contains("lexicon entry never matches")
            && plan.contains("names.csv:4")
            && plan.contains("Wickham"),
        "{plan}"
    );

    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(ws.report()["stats"]["synthesized"], 6);
    let shown: Vec<String> = ws.manifest()["chapters"][0]["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(shown[1], "Mr. Darcy looked up.");

    ws.write(
        "names.csv",
        "text,say_as\nDarcy,Darr see\nBingley,Bing lee\nWickham,Wick am\n",
    );
    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = ws.report();
    assert_eq!(report["stats"]["synthesized"], 2, "{report}");
}

#[test]
fn a_malformed_lexicon_is_exit_2_naming_file_and_line() {
    let ws = Workspace::new();
    ws.write("book.md", "# One\n\nHello.\n");
    ws.write("names.csv", "text,say_as\nDarcy,Dar see\n\"Bing,lee\n");
    job(&ws, "book.md", "lexicon = [\"names.csv\"]", "en");
    let out = ws.run(&["validate", "job.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("names.csv:3:"), "{}", stderr(&out));
}
