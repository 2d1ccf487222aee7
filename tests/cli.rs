//! The command line as a user meets it: bad job files, exit codes, the
//! `segment`, `plan` and `status` commands.

use crate::util::{Workspace, stderr, stdout};

/// A complete, valid job file; tests replace one line to break it.
const GOOD_JOB: &str = r#"[book]
title = "Test Book"
language = "en"

[manuscript]
files = ["book.md"]

[audio]
sample_rate = 16000

[render]
concurrency = 2

[output]
dir = "out"
"#;

/// Renders `job` (the text of job.toml) and checks the failure: exit code 2,
/// a message naming the job file (and the line, when given), and nothing
/// written: no database, no cache, no output.
fn assert_bad_job(ws: &Workspace, job: &str, line: Option<usize>, needle: &str) {
    ws.write("job.toml", job);
    let out = ws.run(&["render", "job.toml"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "exit code for {needle}: {err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    if let Some(line) = line {
        assert!(
            err.contains(&format!("job.toml:{line}:")),
            "expected job.toml:{line}: in: {err}"
        );
    }
    for written in ["state.db", "cache", "out"] {
        assert!(
            !ws.path().join(written).exists(),
            "{written} was created for {needle}"
        );
    }
}

fn good_workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write("book.md", "# One\n\nHello there. How are you?\n");
    ws
}

#[test]
fn toml_syntax_error_names_the_line() {
    let ws = good_workspace();
    assert_bad_job(
        &ws,
        &GOOD_JOB.replace("[audio]", "[audio"),
        Some(8),
        "job.toml",
    );
}

#[test]
fn unknown_key_names_the_key_and_line() {
    let ws = good_workspace();
    let job = GOOD_JOB.replace("title = \"Test Book\"", "titel = \"Test Book\"");
    assert_bad_job(&ws, &job, Some(2), "titel");
}

#[test]
fn wrong_type_names_the_line() {
    let ws = good_workspace();
    let job = GOOD_JOB.replace("concurrency = 2", "concurrency = \"eight\"");
    assert_bad_job(&ws, &job, Some(12), "concurrency");
}

#[test]
fn out_of_range_values_name_the_line() {
    let ws = good_workspace();
    assert_bad_job(
        &ws,
        &GOOD_JOB.replace("concurrency = 2", "concurrency = 0"),
        Some(12),
        "concurrency",
    );
    assert_bad_job(
        &ws,
        &GOOD_JOB.replace("sample_rate = 16000", "sample_rate = 12345"),
        Some(9),
        "sample_rate",
    );
}

#[test]
fn missing_manuscript_names_the_file() {
    let ws = good_workspace();
    let job = GOOD_JOB.replace("\"book.md\"", "\"missing.md\"");
    assert_bad_job(&ws, &job, Some(6), "missing.md");
}

#[test]
fn empty_manuscript_is_refused() {
    let ws = Workspace::new();
    ws.write("book.md", "  \n\n");
    assert_bad_job(&ws, GOOD_JOB, None, "book.md");
    let err = stderr(&ws.run(&["render", "job.toml"]));
    assert!(err.contains("empty"), "{err}");
}

#[test]
fn unwritable_output_dir_is_refused() {
    // Tests run as root, whom permission bits do not stop: a path below a
    // regular file cannot be created by anyone.
    let ws = good_workspace();
    let job = GOOD_JOB.replace("dir = \"out\"", "dir = \"book.md/out\"");
    assert_bad_job(&ws, &job, Some(15), "book.md");
}

#[test]
fn non_utf8_manuscript_names_file_and_offset() {
    let ws = Workspace::new();
    ws.write("book.md", b"Hello \xff\xfe\xfd world.\n");
    let job = GOOD_JOB.replace(
        "files = [\"book.md\"]",
        "files = [\"book.md\"]\nencoding = \"utf-8\"",
    );
    assert_bad_job(&ws, &job, None, "book.md");
    let err = stderr(&ws.run(&["render", "job.toml"]));
    assert!(err.contains("offset 6"), "{err}");
}

#[test]
fn unsupported_provider_names_the_line() {
    let ws = good_workspace();
    let job = GOOD_JOB.replace("[render]", "[voice]\nprovider = \"nonesuch\"\n\n[render]");
    assert_bad_job(&ws, &job, Some(12), "provider");
}

#[test]
fn all_bad_jobs_in_a_folder_are_reported_at_once() {
    let ws = good_workspace();
    ws.write(
        "jobs/a.toml",
        GOOD_JOB
            .replace("concurrency = 2", "concurrency = 0")
            .replace("book.md", "../book.md"),
    );
    ws.write(
        "jobs/b.toml",
        GOOD_JOB
            .replace("title", "titel")
            .replace("book.md", "../book.md"),
    );
    let out = ws.run(&["render", "jobs"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("a.toml:12:") && err.contains("b.toml:2:"),
        "{err}"
    );
    assert!(!ws.path().join("state.db").exists());
}

#[test]
fn segment_command_prints_json_lines() {
    let ws = Workspace::new();
    ws.write(
        "text.md",
        "# Title\n\nMr. Smith went to Washington. \"Is it true?\" she asked.\n\n他说：“你好！”然后离开了。是的。\n",
    );
    let out = ws.run(&["segment", "text.md"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let texts: Vec<&str> = lines.iter().map(|l| l["text"].as_str().unwrap()).collect();
    assert_eq!(
        texts,
        [
            "Title",
            "Mr. Smith went to Washington.",
            "\"Is it true?\" she asked.",
            "他说：“你好！”",
            "然后离开了。",
            "是的。"
        ]
    );
    assert!(lines.iter().all(|l| l["chapter"] == 1));
    assert_eq!(lines[5]["index"], 5);
    assert_eq!(lines[5]["ends_paragraph"], true);
    assert_eq!(lines[4]["ends_paragraph"], false);

    // Standard input works too.
    let mut child = ws
        .command()
        .args(["segment", "-", "--lang", "en"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"One. Two.").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout(&out).lines().count(), 2);
}

#[test]
fn plan_is_a_dry_run() {
    let ws = Workspace::new();
    ws.job(&crate::util::manuscript(2, 6), "");
    let out = ws.run(&["plan", "job.toml", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(plan["chapters"], 2);
    // Each chapter: its spoken title and six sentences.
    assert_eq!(plan["segments"], 14);
    assert!(plan["estimated_secs"].as_f64().unwrap() > 10.0);
    assert!(
        !ws.path().join("state.db").exists(),
        "plan must not create the database"
    );
}

#[test]
fn status_without_a_database_says_what_to_do() {
    let ws = Workspace::new();
    let out = ws.run(&["status"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("`audiobook render JOB.toml` starts one"));
    assert!(!ws.path().join("state.db").exists());
}
