//! Job files written to real temporary folders; every bad file must give a
//! message naming the file, the exact line, and what to do.

use std::fs;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::*;

const MINIMAL: &str = r#"[book]
title = "Pride and Prejudice"

[manuscript]
files = "book.md"

[output]
dir = "out/book"
"#;

/// A temp folder with a manuscript `book.md` (and `book.txt`, a regular
/// file to put an output dir under).
fn workspace() -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    fs::write(dir.path().join("book.md"), "# One\n\nIt is a truth.\n").expect("write");
    fs::write(dir.path().join("book.txt"), "plain").expect("write");
    dir
}

fn write_job(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, body).expect("write job");
    path
}

/// Loads a job that must fail and returns the message.
fn error_of(body: &str) -> (TempDir, PathBuf, String) {
    let dir = workspace();
    let path = write_job(dir.path(), "demo.toml", body);
    let message = match load(&path) {
        Ok(job) => panic!("expected an error, got {job:?}"),
        Err(e) => e.to_string(),
    };
    (dir, path, message)
}

/// The message is about `path`, at `line` (and `col` when given), and has a
/// hint after `; `.
fn assert_at(message: &str, path: &Path, line: usize, col: Option<usize>) {
    let prefix = match col {
        Some(col) => format!("{}:{line}:{col}: ", path.display()),
        None => format!("{}:{line}:", path.display()),
    };
    assert!(
        message.starts_with(&prefix),
        "expected prefix {prefix:?} in {message:?}"
    );
    assert!(message.contains("; "), "no hint in {message:?}");
    assert_eq!(
        message.lines().count(),
        1,
        "one problem expected: {message}"
    );
}

/// `MINIMAL` with `line` replaced (or added under `table` when absent).
fn minimal_with(table: &str, line: &str) -> String {
    format!("{MINIMAL}\n[{table}]\n{line}\n")
}

fn line_of(body: &str, needle: &str) -> usize {
    body.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .expect("needle in body")
}

#[test]
fn minimal_job_gets_every_default_and_paths_from_the_job_folder() {
    let dir = workspace();
    let path = write_job(dir.path(), "pride.toml", MINIMAL);
    let job = load(&path).expect("valid");
    let root = fs::canonicalize(dir.path()).expect("canonical");

    assert_eq!(job.path, root.join("pride.toml"));
    assert_eq!(job.name, "pride");
    assert_eq!(job.book.title, "Pride and Prejudice");
    assert_eq!(job.book.author, None);
    assert_eq!(job.book.language, Language::Mixed);
    assert_eq!(job.manuscript.files, vec![root.join("book.md")]);
    assert!(matches!(job.manuscript.chapters, ChapterRule::Headings));
    assert_eq!(job.manuscript.encoding, Encoding::Auto);
    assert_eq!(job.manuscript.limits, Limits::default());
    assert_eq!(job.manuscript.limits.max_chars, 300);
    assert_eq!(job.manuscript.limits.max_bytes, 1024);
    assert!(job.manuscript.skip_brackets);
    assert_eq!(job.voice.provider, ProviderKind::Local);
    assert_eq!(job.voice.voice, "auto");
    assert_eq!(job.voice.speed, 1.0);
    assert_eq!(job.voice.pitch, 50);
    assert!(!job.voice.keep_notes);
    let audio = Audio {
        sample_rate: 24_000,
        sentence_gap_ms: 250,
        paragraph_gap_ms: 700,
        chapter_head_ms: 500,
        chapter_trailing_ms: 2000,
        trim: Trim {
            enabled: true,
            threshold_db: -50,
            hold_ms: 40,
        },
    };
    assert_eq!(job.audio, audio);
    assert_eq!(job.master, Master::of(Profile::Acx));
    assert_eq!(job.master.target, Some(Target::RmsDb(-20.0)));
    assert_eq!(job.master.ceiling_db, Some(-3.0));
    assert_eq!(
        job.render,
        Render {
            concurrency: 4,
            max_attempts: 4,
            max_characters_per_run: None,
            price_per_million_characters: None,
            currency: "CNY".to_string(),
        }
    );
    assert_eq!(job.output.dir, root.join("out/book"));
    assert!(job.output.dir.is_absolute());
}

#[test]
fn full_job_keeps_every_value() {
    let dir = workspace();
    fs::create_dir(dir.path().join("ch")).expect("mkdir");
    for name in ["02.md", "01.md", "10.md"] {
        fs::write(dir.path().join("ch").join(name), "text").expect("write");
    }
    let body = r#"
[book]
title = "  Journey to the West "
author = "Wu Cheng'en"
language = "zh"

[manuscript]
files = ["book.md", "ch/*.md"]
chapters = "regex"
chapter_pattern = "^第.+回"
encoding = "gbk"
max_chars = 120
max_bytes = 400
skip_brackets = false

[voice]
provider = "local"
voice = "cmn"
speed = 1
pitch = 40

[audio]
sample_rate = 44100
sentence_gap_ms = 0
paragraph_gap_ms = 10000
chapter_head_ms = 30000
chapter_trailing_ms = 0
trim = false
trim_threshold_db = -60
trim_hold_ms = 500

[master]
profile = "ebu-r128"
target_lufs = -20.5
ceiling_db = -2
room_tone_db = -80

[render]
concurrency = 64
max_attempts = 20

[output]
dir = "./out/../out/xiyouji"
"#;
    let path = write_job(dir.path(), "xiyouji.toml", body);
    let job = load(&path).expect("valid");
    let root = fs::canonicalize(dir.path()).expect("canonical");

    assert_eq!(job.book.title, "Journey to the West");
    assert_eq!(job.book.author.as_deref(), Some("Wu Cheng'en"));
    assert_eq!(job.book.language, Language::Zh);
    let ch = root.join("ch");
    assert_eq!(
        job.manuscript.files,
        vec![
            root.join("book.md"),
            ch.join("01.md"),
            ch.join("02.md"),
            ch.join("10.md")
        ]
    );
    match &job.manuscript.chapters {
        ChapterRule::Regex(regex) => assert!(regex.is_match("第一回 灵根育孕源流出")),
        other => panic!("expected a regex rule, got {other:?}"),
    }
    assert_eq!(job.manuscript.encoding, Encoding::Gbk);
    assert_eq!(
        job.manuscript.limits,
        Limits {
            max_chars: 120,
            max_bytes: 400
        }
    );
    assert!(!job.manuscript.skip_brackets);
    assert_eq!(job.voice.voice, "cmn");
    assert_eq!(job.voice.speed, 1.0);
    assert_eq!(job.voice.pitch, 40);
    assert_eq!(job.audio.sample_rate, 44_100);
    assert_eq!(job.audio.sentence_gap_ms, 0);
    assert_eq!(job.audio.paragraph_gap_ms, 10_000);
    assert_eq!(job.audio.chapter_head_ms, 30_000);
    assert_eq!(job.audio.chapter_trailing_ms, 0);
    assert_eq!(
        job.audio.trim,
        Trim {
            enabled: false,
            threshold_db: -60,
            hold_ms: 500
        }
    );
    assert_eq!(
        job.master,
        Master {
            profile: Profile::EbuR128,
            target: Some(Target::Lufs(-20.5)),
            ceiling_db: Some(-2.0),
            room_tone_db: Some(-80.0),
        }
    );
    assert_eq!(job.render.concurrency, 64);
    assert_eq!(job.render.max_attempts, 20);
    assert_eq!(job.output.dir, root.join("out/../out/xiyouji"));
}

#[test]
fn loading_writes_nothing() {
    let dir = workspace();
    let path = write_job(dir.path(), "pride.toml", MINIMAL);
    let before = listing(dir.path());
    load(&path).expect("valid");
    assert_eq!(listing(dir.path()), before);
    assert!(!dir.path().join("out").exists());
}

fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut names: Vec<PathBuf> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .collect();
    names.sort();
    names
}

#[test]
fn relative_job_path_is_shown_as_given() {
    // The path as given, not the canonical one, starts the message.
    let dir = workspace();
    let path = write_job(dir.path(), "demo.toml", "[book]\ntitle = \"x\"\n");
    let relative = dir.path().join(".").join("demo.toml");
    let message = load(&relative).expect_err("bad").to_string();
    assert!(
        message.starts_with(&format!("{}:1:1: ", relative.display())),
        "{message}"
    );
    assert!(load(&path).is_err());
}

#[test]
fn syntax_error() {
    let body = "[book]\ntitle = Pride\n";
    let (_dir, path, message) = error_of(body);
    assert_at(&message, &path, 2, Some(9));
    assert!(message.contains("invalid TOML"), "{message}");
}

#[test]
fn unknown_key() {
    let body = MINIMAL.replace("title =", "titel =");
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, 2, Some(1));
    assert!(
        message.ends_with(
            "unknown key `titel` in [book]; expected one of: title, author, language, \
             narrator, publisher, year, description, isbn, series, cover (did you mean `title`?)"
        ),
        "{message}"
    );
}

/// Regression: an unknown key, a misspelt key, a wrong type and a range
/// error took four runs to clear; one run reports them all, in file order,
/// with suggestions, and a misspelt required key is not also "missing".
#[test]
fn every_problem_of_a_file_in_one_run() {
    let body = MINIMAL
        .replace("[manuscript]", "[manuscript]\nchapter_patern = '^第'")
        .replace("title =", "titel =")
        .replace(
            "[output]",
            "[render]\nconcurrency = \"eight\"\nmax_attempts = 99\ncolour = 1\n\n[output]",
        );
    let (_dir, path, message) = {
        let dir = workspace();
        let path = write_job(dir.path(), "demo.toml", &body);
        let message = load(&path).expect_err("four problems").to_string();
        (dir, path, message)
    };
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), 5, "{message}");
    let at = |needle: &str| format!("{}:{}:", path.display(), line_of(&body, needle));
    assert!(lines[0].starts_with(&at("titel")), "{message}");
    assert!(lines[0].contains("did you mean `title`?"), "{message}");
    assert!(lines[1].starts_with(&at("chapter_patern")), "{message}");
    assert!(
        lines[1].contains("did you mean `chapter_pattern`?"),
        "{message}"
    );
    assert!(
        lines[2].contains("wrong type for `concurrency`"),
        "{message}"
    );
    assert!(
        lines[3].contains("max_attempts must be between 1 and 20"),
        "{message}"
    );
    assert!(lines[4].contains("unknown key `colour`"), "{message}");
    assert!(!message.contains("missing key `title`"), "{message}");
}

#[test]
fn a_misspelt_value_gets_a_suggestion() {
    let body = MINIMAL.replace("[output]", "[voice]\nprovider = \"volcengin\"\n\n[output]");
    let (_dir, _path, message) = error_of(&body);
    assert!(
        message.contains("did you mean \"volcengine\"?"),
        "{message}"
    );
}

#[test]
fn defaults_file_is_merged_under_the_job_and_named_in_errors() {
    let dir = workspace();
    write_job(
        dir.path(),
        DEFAULTS_FILE,
        "[render]\nconcurrency = 7\nmax_attempts = 3\n\n[notify]\ncommand = \"true\"\n",
    );
    let body = MINIMAL.replace("[output]", "[render]\nmax_attempts = 5\n\n[output]");
    let path = write_job(dir.path(), "demo.toml", &body);
    let job = load(&path).expect("valid with defaults");
    assert_eq!(job.render.concurrency, 7, "from defaults.toml");
    assert_eq!(job.render.max_attempts, 5, "the job file wins");
    assert_eq!(job.notify.command.as_deref(), Some("true"));
    assert_eq!(job.defaults, Some(dir.path().join(DEFAULTS_FILE)));

    write_job(
        dir.path(),
        DEFAULTS_FILE,
        "[render]\nconcurency = 7\nmax_attempts = 0\n",
    );
    let message = load(&path).expect_err("bad defaults").to_string();
    let defaults = dir.path().join(DEFAULTS_FILE);
    assert!(
        message.contains(&format!(
            "{}:2:1: unknown key `concurency`",
            defaults.display()
        )),
        "{message}"
    );
    assert!(message.contains("did you mean `concurrency`?"), "{message}");
    // max_attempts = 0 is overridden by the job's 5: no error for it.
    assert!(!message.contains("max_attempts must"), "{message}");
    assert_eq!(message.lines().count(), 1, "{message}");
}

#[test]
fn a_job_naming_another_provider_keeps_its_own_voice() {
    let dir = workspace();
    write_job(
        dir.path(),
        DEFAULTS_FILE,
        "[voice]\nprovider = \"coze\"\nvoice = \"7426720361733046281\"\n\n[voice.coze]\ntoken_env = \"X\"\n",
    );
    let local = MINIMAL.replace("[output]", "[voice]\nprovider = \"local\"\n\n[output]");
    let path = write_job(dir.path(), "local.toml", &local);
    let job = load(&path).expect("local job beside coze defaults");
    assert_eq!(job.voice.provider, ProviderKind::Local);
    let path = write_job(dir.path(), "cloud.toml", MINIMAL);
    let job = load(&path).expect("coze from the defaults");
    assert_eq!(job.voice.provider, ProviderKind::Coze);
}

#[test]
fn a_glob_that_would_read_the_output_is_refused() {
    let dir = workspace();
    let body = MINIMAL
        .replace("files = \"book.md\"", "files = [\"*\"]")
        .replace("dir = \"out/book\"", "dir = \".\"");
    let path = write_job(dir.path(), "demo.toml", &body);
    let message = load(&path).expect_err("reads its own output").to_string();
    assert!(
        message.contains("would read this job's own output"),
        "{message}"
    );
    let body = MINIMAL.replace("files = \"book.md\"", "files = \"*\"");
    let path = write_job(dir.path(), "demo.toml", &body);
    let message = load(&path).expect_err("reads itself").to_string();
    assert!(message.contains("matches the job file"), "{message}");
}

#[test]
fn unknown_key_value_is_not_echoed() {
    let body = minimal_with("voice", "api_key = \"sk-very-secret\"");
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, line_of(&body, "api_key"), Some(1));
    assert!(
        message.contains("unknown key `api_key` in [voice]"),
        "{message}"
    );
    assert!(!message.contains("sk-very-secret"), "{message}");
}

#[test]
fn key_in_the_wrong_table_says_where_it_belongs() {
    let body = minimal_with("render", "sample_rate = 24000");
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, line_of(&body, "sample_rate"), Some(1));
    assert!(
        message.contains("(`sample_rate` belongs in [audio])"),
        "{message}"
    );
}

#[test]
fn unknown_table() {
    let body = format!("{MINIMAL}\n[rendr]\nconcurrency = 2\n");
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, line_of(&body, "[rendr]"), Some(2));
    assert!(message.contains("unknown table [rendr]; expected one of: [book], [manuscript], [voice], [audio], [master], [render], [output]"), "{message}");
}

#[test]
fn wrong_type() {
    let body = minimal_with("render", "concurrency = \"eight\"");
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, line_of(&body, "concurrency"), Some(15));
    assert!(message.contains("wrong type for `concurrency` in [render]: expected an integer, found string \"eight\"; write it like concurrency = 4"), "{message}");
}

#[test]
fn wrong_type_in_files_array() {
    let body = MINIMAL.replace("files = \"book.md\"", "files = [\"book.md\", 3]");
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, 5, Some(21));
    assert!(message.contains("`files` in [manuscript]"), "{message}");
}

/// One out-of-range value: message at its line and column.
fn assert_out_of_range(table: &str, line: &str, expected: &str) {
    let body = minimal_with(table, line);
    let (_dir, path, message) = error_of(&body);
    let col = line.find('=').map(|i| i + 3);
    assert_at(&message, &path, line_of(&body, line), col);
    assert!(message.contains(expected), "{message}");
}

#[test]
fn out_of_range_values() {
    assert_out_of_range(
        "render",
        "concurrency = 0",
        "concurrency must be between 1 and 64, got 0; set [render] concurrency to a value in 1..=64",
    );
    assert_out_of_range(
        "render",
        "max_attempts = 21",
        "max_attempts must be between 1 and 20, got 21",
    );
    assert_out_of_range(
        "voice",
        "speed = 2.5",
        "speed must be between 0.5 and 2.0, got 2.5; set [voice] speed to a value in 0.5..=2.0",
    );
    assert_out_of_range("voice", "speed = nan", "speed must be between 0.5 and 2.0");
    assert_out_of_range(
        "voice",
        "pitch = -1",
        "pitch must be between 0 and 100, got -1",
    );
    assert_out_of_range(
        "audio",
        "sample_rate = 12345",
        "sample_rate must be one of 8000, 16000, 22050, 24000, 32000, 44100, 48000, got 12345",
    );
    assert_out_of_range(
        "audio",
        "chapter_trailing_ms = 30001",
        "chapter_trailing_ms must be between 0 and 30000",
    );
    assert_out_of_range(
        "audio",
        "sentence_gap_ms = 10001",
        "sentence_gap_ms must be between 0 and 10000",
    );
}

#[test]
fn manuscript_limits_out_of_range() {
    for (line, expected) in [
        (
            "max_chars = 19",
            "max_chars must be between 20 and 300, got 19; set [manuscript] max_chars to a value in 20..=300",
        ),
        (
            "max_chars = 301",
            "max_chars must be between 20 and 300, got 301",
        ),
        (
            "max_bytes = 59",
            "max_bytes must be between 60 and 1024, got 59",
        ),
    ] {
        let body = MINIMAL.replace("[output]", &format!("{line}\n\n[output]"));
        let (_dir, path, message) = error_of(&body);
        assert_at(&message, &path, line_of(&body, line), Some(13));
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn bad_choices() {
    let body = MINIMAL.replace(
        "title = \"Pride and Prejudice\"",
        "title = \"P\"\nlanguage = \"fr\"",
    );
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, 3, Some(12));
    assert!(
        message.contains(
            "language must be one of \"zh\", \"en\", \"mixed\", got \"fr\"; set [book] language to one of these"
        ),
        "{message}"
    );

    let body = minimal_with("voice", "voice = \"klingon\"");
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, line_of(&body, "klingon"), Some(9));
    assert!(message.contains("auto, en, en-us, en-gb, cmn"), "{message}");
}

#[test]
fn missing_required_tables_and_keys() {
    let body = MINIMAL.replace("title = \"Pride and Prejudice\"\n", "");
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, 1, Some(1));
    assert!(
        message.contains(
            "missing key `title` in [book]; add title = \"Pride and Prejudice\" under [book]"
        ),
        "{message}"
    );

    let body = MINIMAL.replace("files = \"book.md\"\n", "");
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, 4, Some(1));
    assert!(
        message.contains("missing key `files` in [manuscript]"),
        "{message}"
    );

    let body = MINIMAL.replace("dir = \"out/book\"\n", "");
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, 7, Some(1));
    assert!(
        message.contains("missing key `dir` in [output]; add dir = \"out/book\""),
        "{message}"
    );

    let body = MINIMAL.replace("[output]\ndir = \"out/book\"\n", "");
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, 1, Some(1));
    assert!(
        message.contains("missing table [output]; add [output] with dir = "),
        "{message}"
    );
}

#[test]
fn empty_title() {
    let (_dir, path, message) = error_of(&MINIMAL.replace("\"Pride and Prejudice\"", "\"  \""));
    assert_at(&message, &path, 2, Some(9));
    assert!(message.contains("title is empty"), "{message}");
}

#[test]
fn every_semantic_problem_is_reported_at_once() {
    let body = MINIMAL.replace("book.md", "missing.md") + "\n[render]\nconcurrency = 0\n";
    let (_dir, path, message) = error_of(&body);
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), 2, "{message}");
    assert!(lines[0].starts_with(&format!(
        "{}:5:9: manuscript file not found",
        path.display()
    )));
    assert!(lines[1].starts_with(&format!("{}:11:15: concurrency", path.display())));
}

#[test]
fn missing_manuscript_file() {
    let body = MINIMAL.replace("\"book.md\"", "[\"book.md\", \"missing.md\"]");
    let (dir, path, message) = error_of(&body);
    assert_at(&message, &path, 5, Some(21));
    let shown = dir.path().join("missing.md");
    assert!(
        message.ends_with(&format!(
            "manuscript file not found: {}; check [manuscript] files",
            shown.display()
        )),
        "{message}"
    );
}

#[test]
fn manuscript_folder_and_duplicates() {
    let dir = workspace();
    fs::create_dir(dir.path().join("chapters")).expect("mkdir");
    let body = MINIMAL.replace("\"book.md\"", "\"chapters\"");
    let path = write_job(dir.path(), "demo.toml", &body);
    let message = load(&path).expect_err("folder").to_string();
    assert_at(&message, &path, 5, Some(9));
    assert!(message.contains("is a folder, not a file"), "{message}");

    let body = MINIMAL.replace("\"book.md\"", "[\"book.md\", \"./book.md\"]");
    let path = write_job(dir.path(), "demo.toml", &body);
    let message = load(&path).expect_err("duplicate").to_string();
    assert_at(&message, &path, 5, Some(21));
    assert!(message.contains("is listed twice"), "{message}");
}

#[test]
fn glob_matching_nothing() {
    let body = MINIMAL.replace("\"book.md\"", "\"chapters/*.md\"");
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, 5, Some(9));
    assert!(
        message.contains("glob \"chapters/*.md\" matches no files"),
        "{message}"
    );
}

#[test]
fn regex_chapters_without_pattern() {
    let body = MINIMAL.replace(
        "files = \"book.md\"",
        "files = \"book.md\"\nchapters = \"regex\"",
    );
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, 6, Some(12));
    assert!(
        message.contains("chapters = \"regex\" needs a chapter_pattern"),
        "{message}"
    );
}

#[test]
fn regex_chapters_with_invalid_pattern() {
    let body = MINIMAL.replace(
        "files = \"book.md\"",
        "files = \"book.md\"\nchapters = \"regex\"\nchapter_pattern = \"^第(.+回\"",
    );
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, 7, Some(19));
    assert!(
        message.contains("chapter_pattern is not a valid regex: unclosed group"),
        "{message}"
    );
}

#[test]
fn pattern_without_regex_chapters() {
    let body = MINIMAL.replace(
        "files = \"book.md\"",
        "files = \"book.md\"\nchapter_pattern = \"^x\"",
    );
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, 6, Some(19));
    assert!(
        message.contains("only used with chapters = \"regex\""),
        "{message}"
    );
}

#[test]
fn unknown_provider() {
    let body = minimal_with("voice", "provider = \"azure\"\nvoice = \"zh_male\"");
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, line_of(&body, "azure"), Some(12));
    assert!(
        message
            .contains("provider must be one of \"local\", \"coze\", \"volcengine\", got \"azure\""),
        "{message}"
    );
}

fn load_ok(body: &str) -> Job {
    let dir = workspace();
    let path = write_job(dir.path(), "cloud.toml", body);
    load(&path).expect("valid")
}

#[test]
fn coze_defaults() {
    let job = load_ok(&minimal_with(
        "voice",
        "provider = \"coze\"\nvoice = \"7426720361733046281\"",
    ));
    assert_eq!(job.voice.provider, ProviderKind::Coze);
    assert_eq!(job.voice.transport, Transport::Http);
    assert_eq!(job.voice.voice, "7426720361733046281");
    let ProviderSettings::Coze(coze) = &job.voice.settings else {
        panic!("coze settings expected");
    };
    assert_eq!(
        *coze,
        CozeConfig {
            response_format: crate::job::AudioFormat::Pcm,
            base_url: "https://api.coze.cn".into(),
            ws_url: "wss://ws.coze.cn".into(),
            token_env: "COZE_API_TOKEN".into(),
            emotion: None,
            emotion_scale: None,
            loudness_rate: None,
            context_texts: None,
            timeout: std::time::Duration::from_secs(60),
        }
    );
}

#[test]
fn coze_full() {
    let body = format!(
        "{MINIMAL}\n[voice]\nprovider = \"coze\"\ntransport = \"websocket\"\nvoice = \"v1\"\n\
         speed = 2\n\n[voice.coze]\nbase_url = \"http://127.0.0.1:8080/\"\ntoken_env = \"MY_TOKEN\"\n\
         emotion = \"sad\"\nemotion_scale = 5\nloudness_rate = -50\ncontext_texts = \"slowly\"\n\
         timeout_secs = 5\n"
    );
    let job = load_ok(&body);
    assert_eq!(job.voice.transport, Transport::WebSocket);
    assert_eq!(job.voice.speed, 2.0);
    let ProviderSettings::Coze(coze) = &job.voice.settings else {
        panic!("coze settings expected");
    };
    assert_eq!(coze.base_url, "http://127.0.0.1:8080");
    assert_eq!(coze.ws_url, "ws://127.0.0.1:8080");
    assert_eq!(coze.token_env, "MY_TOKEN");
    assert_eq!(coze.emotion.as_deref(), Some("sad"));
    assert_eq!(coze.emotion_scale, Some(5.0));
    assert_eq!(coze.loudness_rate, Some(-50));
    assert_eq!(coze.context_texts.as_deref(), Some("slowly"));
    assert_eq!(coze.timeout, std::time::Duration::from_secs(5));
}

#[test]
fn coze_ws_url_derivation() {
    use super::cloud::coze_ws_base;
    assert_eq!(coze_ws_base("https://api.coze.cn"), "wss://ws.coze.cn");
    assert_eq!(coze_ws_base("https://api.coze.com"), "wss://ws.coze.com");
    assert_eq!(
        coze_ws_base("https://api.coze.cn/prefix"),
        "wss://ws.coze.cn/prefix"
    );
    assert_eq!(coze_ws_base("http://127.0.0.1:9000"), "ws://127.0.0.1:9000");
    assert_eq!(
        coze_ws_base("https://api.coze.cn.evil"),
        "wss://api.coze.cn.evil"
    );
    let body = format!(
        "{MINIMAL}\n[voice]\nprovider = \"coze\"\nvoice = \"v\"\n\n[voice.coze]\n\
         ws_url = \"ws://127.0.0.1:1/v1/audio/speech\"\n"
    );
    let ProviderSettings::Coze(coze) = load_ok(&body).voice.settings else {
        panic!("coze");
    };
    assert_eq!(coze.ws_url, "ws://127.0.0.1:1");
}

#[test]
fn volcengine_defaults_and_full() {
    let body = format!(
        "{MINIMAL}\n[voice]\nprovider = \"volcengine\"\nvoice = \"zh_female_cancan_mars_bigtts\"\n\n\
         [voice.volcengine]\nappid = \"1234567\"\n"
    );
    let job = load_ok(&body);
    let ProviderSettings::Volcengine(v) = &job.voice.settings else {
        panic!("volcengine settings expected");
    };
    assert_eq!(v.base_url, "https://openspeech.bytedance.com");
    assert_eq!(v.ws_url, "wss://openspeech.bytedance.com");
    assert_eq!(
        (v.cluster.as_str(), v.uid.as_str()),
        ("volcano_tts", "audiobook")
    );
    assert_eq!(v.token_env, "VOLCENGINE_TOKEN");
    assert_eq!(v.text_type, TextType::Plain);
    assert!(!v.with_timestamp && v.extra_param.is_none() && v.silence_duration.is_none());
    assert_eq!(v.timeout, std::time::Duration::from_secs(60));

    let body = format!(
        "{MINIMAL}\n[voice]\nprovider = \"volcengine\"\ntransport = \"websocket\"\nvoice = \"x\"\n\
         speed = 0.2\n\n[voice.volcengine]\nappid = \"1\"\ncluster = \"volcano_icl\"\nuid = \"u\"\n\
         emotion = \"happy\"\nenable_emotion = true\nemotion_scale = 1\nexplicit_language = \"en\"\n\
         context_language = \"id\"\nloudness_ratio = 2\ntext_type = \"ssml\"\nsilence_duration = 30000\n\
         with_timestamp = false\nextra_param = {{ mute_cut_threshold = \"400\", mute_cut_remain_ms = \"50\", disable_markdown_filter = true }}\n\
         timeout_secs = 600\n"
    );
    let job = load_ok(&body);
    assert_eq!(job.voice.speed, 0.2);
    let ProviderSettings::Volcengine(v) = &job.voice.settings else {
        panic!("volcengine settings expected");
    };
    assert_eq!(v.cluster, "volcano_icl");
    assert_eq!(v.enable_emotion, Some(true));
    assert_eq!(v.loudness_ratio, Some(2.0));
    assert_eq!(v.text_type, TextType::Ssml);
    assert_eq!(v.silence_duration, Some(30_000));
    assert!(!v.with_timestamp);
    assert_eq!(
        v.extra_param.as_deref(),
        Some(
            r#"{"disable_markdown_filter":true,"mute_cut_remain_ms":"50","mute_cut_threshold":"400"}"#
        )
    );
}

/// `[voice]` for `provider` plus `extra` lines, and `[voice.<table>]` lines.
fn cloud_job(provider: &str, voice_extra: &str, table: &str, table_lines: &str) -> String {
    let mut body = format!("{MINIMAL}\n[voice]\nprovider = \"{provider}\"\n{voice_extra}\n");
    if !table.is_empty() {
        body.push_str(&format!("\n[voice.{table}]\n{table_lines}\n"));
    }
    body
}

fn assert_cloud_error(body: &str, needle: &str, expected: &str) {
    let (_dir, path, message) = error_of(body);
    assert_at(&message, &path, line_of(body, needle), None);
    assert!(message.contains(expected), "{message}");
}

#[test]
fn cloud_voice_errors() {
    assert_cloud_error(
        &cloud_job("coze", "voice = \"auto\"", "", ""),
        "voice = ",
        "voice \"auto\" only works with the local provider; set [voice] voice to a Coze voice_id",
    );
    assert_cloud_error(
        &cloud_job("coze", "", "", ""),
        "provider =",
        "missing key `voice` in [voice]",
    );
    assert_cloud_error(
        &cloud_job("volcengine", "voice = \"v\"", "", ""),
        "provider =",
        "missing key `appid` in [voice.volcengine]",
    );
    assert_cloud_error(
        &cloud_job(
            "volcengine",
            "voice = \"v\"",
            "volcengine",
            "cluster = \"c\"",
        ),
        "[voice.volcengine]",
        "missing key `appid` in [voice.volcengine]",
    );
}

#[test]
fn zh_names_and_keep_notes_for_the_local_voice() {
    for name in ["zh", "zh-cn", "cmn"] {
        let dir = workspace();
        let body = minimal_with("voice", &format!("voice = \"{name}\"\nkeep_notes = true"));
        let job = load(&write_job(dir.path(), "zh.toml", &body)).expect("valid");
        assert_eq!(job.voice.voice, name);
        assert!(job.voice.keep_notes);
    }
    assert_cloud_error(
        &cloud_job("coze", "voice = \"v\"\nkeep_notes = true", "", ""),
        "keep_notes",
        "keep_notes is only used by the local provider",
    );
    let (_dir, path, message) = error_of(&minimal_with("voice", "keep_notes = \"yes\""));
    assert!(
        message.starts_with(&format!("{}:", path.display())),
        "{message}"
    );
    assert!(message.contains("keep_notes"), "{message}");
}

#[test]
fn transport_and_pitch_and_foreign_tables() {
    let body = minimal_with("voice", "transport = \"websocket\"");
    assert_cloud_error(
        &body,
        "transport",
        "transport is only used by the cloud providers (coze, volcengine); remove it",
    );
    assert_cloud_error(
        &cloud_job("coze", "voice = \"v\"\ntransport = \"grpc\"", "", ""),
        "grpc",
        "transport must be one of \"http\", \"websocket\", got \"grpc\"",
    );
    assert_cloud_error(
        &cloud_job("coze", "voice = \"v\"\npitch = 40", "", ""),
        "pitch",
        "pitch is only used by the local provider",
    );
    assert_cloud_error(
        &cloud_job("coze", "voice = \"v\"", "volcengine", "appid = \"1\""),
        "[voice.volcengine]",
        "[voice.volcengine] is only used with provider = \"volcengine\"",
    );
}

#[test]
fn cloud_ranges_and_choices() {
    let coze = |line: &str| cloud_job("coze", "voice = \"v\"", "coze", line);
    let volc = |line: &str| {
        cloud_job(
            "volcengine",
            "voice = \"v\"",
            "volcengine",
            &format!("appid = \"1\"\n{line}"),
        )
    };
    let cases = [
        (
            coze("emotion = \"joyful\""),
            "joyful",
            "emotion \"joyful\" is not a Coze emotion; set [voice.coze] emotion to one of: happy, sad",
        ),
        (
            coze("emotion_scale = 3"),
            "emotion_scale",
            "emotion_scale needs an emotion; add emotion",
        ),
        (
            coze("emotion = \"sad\"\nemotion_scale = 5.5"),
            "emotion_scale",
            "emotion_scale must be between 1.0 and 5.0, got 5.5; set [voice.coze] emotion_scale to a value in 1.0..=5.0",
        ),
        (
            coze("loudness_rate = 101"),
            "loudness_rate",
            "loudness_rate must be between -50 and 100, got 101",
        ),
        (
            coze("loudness_rate = -51"),
            "loudness_rate",
            "loudness_rate must be between -50 and 100, got -51",
        ),
        (
            coze("timeout_secs = 0"),
            "timeout_secs",
            "timeout_secs must be between 1 and 600, got 0",
        ),
        (
            coze("base_url = \"ftp://x\""),
            "base_url",
            "base_url must be an http:// or https:// URL",
        ),
        (
            coze("ws_url = \"http://x\""),
            "ws_url",
            "ws_url must be a ws:// or wss:// URL",
        ),
        (
            coze("context_texts = \" \""),
            "context_texts",
            "context_texts is empty",
        ),
        (
            volc("emotion = \"happy\"\nemotion_scale = 0.5"),
            "emotion_scale",
            "emotion_scale must be between 1.0 and 5.0",
        ),
        (
            volc("loudness_ratio = 2.5"),
            "loudness_ratio",
            "loudness_ratio must be between 0.5 and 2.0, got 2.5",
        ),
        (
            volc("silence_duration = 30001"),
            "silence_duration",
            "silence_duration must be between 0 and 30000",
        ),
        (
            volc("text_type = \"html\""),
            "html",
            "text_type must be one of \"plain\", \"ssml\", got \"html\"",
        ),
        (
            volc("timeout_secs = 601"),
            "timeout_secs",
            "timeout_secs must be between 1 and 600",
        ),
        // Regression (issue 11): the documented ranges, per provider,
        // transport and (Volcengine) cluster.
        (
            cloud_job(
                "volcengine",
                "voice = \"v\"\nspeed = 0.3",
                "volcengine",
                "appid = \"1\"",
            ),
            "speed",
            "speed must be between 0.8 and 2.0, got 0.3",
        ),
        (
            cloud_job(
                "volcengine",
                "voice = \"v\"\nspeed = 3.5",
                "volcengine",
                "appid = \"1\"\ncluster = \"volcano_icl\"",
            ),
            "speed",
            "speed must be between 0.2 and 3.0, got 3.5",
        ),
        (
            cloud_job("coze", "voice = \"v\"\nspeed = 0.1", "", ""),
            "speed",
            "speed must be between 0.2 and 3.0, got 0.1",
        ),
        (
            cloud_job(
                "coze",
                "voice = \"v\"\ntransport = \"websocket\"\nspeed = 0.3",
                "",
                "",
            ),
            "speed",
            "speed must be between 0.5 and 2.0, got 0.3",
        ),
        (
            volc("emotion = \"happy\"\nenable_emotion = false"),
            "enable_emotion",
            "enable_emotion = false would make the service ignore the emotion",
        ),
        (
            volc("enable_emotion = true"),
            "enable_emotion",
            "enable_emotion needs an emotion",
        ),
        (
            volc("emotion_scale = 3"),
            "emotion_scale",
            "emotion_scale needs an emotion",
        ),
        (
            volc("explicit_language = \"english\""),
            "explicit_language",
            "explicit_language \"english\" is not a language the service documents; set \
             [voice.volcengine] explicit_language to one of: crosslingual, zh, en, ja, es-mx, id, pt-br",
        ),
        (
            volc("context_language = \"fr\""),
            "context_language",
            "context_language \"fr\" is not a language the service documents",
        ),
        (
            volc("text_type = \"ssml\"\nwith_timestamp = true"),
            "text_type",
            "with_timestamp cannot go with text_type = \"ssml\"",
        ),
        (
            volc(
                "with_timestamp = true\nextra_param = { cache_config = { text_type = 1, use_cache = true } }",
            ),
            "extra_param",
            "extra_param cache_config cannot go with with_timestamp",
        ),
        (
            volc("extra_param = { enable_latex_tn = true }"),
            "extra_param",
            "extra_param enable_latex_tn needs disable_markdown_filter = true",
        ),
        (
            volc("extra_param = { mute_cut_threshold = \"400\" }"),
            "extra_param",
            "mute_cut_threshold and mute_cut_remain_ms go together",
        ),
        (
            volc("extra_param = { mute_cut_threshold = 400, mute_cut_remain_ms = \"50\" }"),
            "extra_param",
            "extra_param mute_cut_threshold must be a string of digits",
        ),
        (
            volc("extra_param = { unsupported_char_ratio_thresh = 1.5 }"),
            "extra_param",
            "unsupported_char_ratio_thresh must be a number between 0 and 1",
        ),
        (
            volc("extra_param = { disable_emoji_filter = \"yes\" }"),
            "extra_param",
            "extra_param disable_emoji_filter must be true or false",
        ),
    ];
    for (body, needle, expected) in cases {
        assert_cloud_error(&body, needle, expected);
    }
}

#[test]
fn token_env_must_be_a_variable_name_and_is_never_echoed() {
    for value in ["pat_abcDEF123secret", "my token", "1ABC", ""] {
        let body = cloud_job(
            "coze",
            "voice = \"v\"",
            "coze",
            &format!("token_env = \"{value}\""),
        );
        let (_dir, path, message) = error_of(&body);
        assert_at(&message, &path, line_of(&body, "token_env"), Some(13));
        assert!(
            message.contains("token_env must name an environment variable"),
            "{message}"
        );
        if !value.is_empty() {
            assert!(!message.contains(value), "token echoed: {message}");
        }
    }
}

#[test]
fn wrong_types_in_provider_tables_have_hints() {
    let body = cloud_job(
        "volcengine",
        "voice = \"v\"",
        "volcengine",
        "appid = 1234567",
    );
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, line_of(&body, "appid"), Some(9));
    assert!(
        message.contains("write it like appid = \"1234567\""),
        "{message}"
    );
    let body = cloud_job("coze", "voice = \"v\"", "coze", "temperature = 1");
    let (_dir, _path, message) = error_of(&body);
    assert!(
        message.contains("unknown key `temperature` in [voice.coze]"),
        "{message}"
    );
}

#[test]
fn output_dir_under_a_regular_file() {
    let body = MINIMAL.replace("\"out/book\"", "\"book.txt/out\"");
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, 8, Some(7));
    assert!(message.contains("is not a directory"), "{message}");
}

#[test]
fn output_dir_that_is_a_file() {
    let body = MINIMAL.replace("\"out/book\"", "\"book.txt\"");
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, 8, Some(7));
    assert!(message.contains("output dir"), "{message}");
    assert!(message.contains("book.txt is not a directory"), "{message}");
}

#[test]
fn unreadable_and_non_utf8_job_files() {
    let dir = workspace();
    let missing = dir.path().join("nope.toml");
    let message = load(&missing).expect_err("missing").to_string();
    assert!(
        message.starts_with(&format!("{}: cannot read job file: ", missing.display())),
        "{message}"
    );

    let path = dir.path().join("latin1.toml");
    fs::write(&path, b"[book]\ntitle = \"Caf\xe9\"\n").expect("write");
    let message = load(&path).expect_err("not utf-8").to_string();
    assert!(
        message.starts_with(&format!("{}:2:13: ", path.display())),
        "{message}"
    );
    assert!(message.contains("not valid UTF-8"), "{message}");
}

#[test]
fn byte_order_mark_is_accepted() {
    let dir = workspace();
    let path = write_job(dir.path(), "bom.toml", &format!("\u{feff}{MINIMAL}"));
    assert!(load(&path).is_ok());
}

#[test]
fn line_col_counts_characters() {
    assert_eq!(diag::line_col("", 0), (1, 1));
    assert_eq!(diag::line_col("ab\ncd", 4), (2, 2));
    assert_eq!(diag::line_col("第一\nx", 3), (1, 2));
    // Inside a character or past the end: clamped, no panic.
    assert_eq!(diag::line_col("第", 1), (1, 1));
    assert_eq!(diag::line_col("ab", 99), (1, 3));
}

#[test]
fn load_many_folder_is_sorted() {
    let dir = workspace();
    let jobs = dir.path().join("jobs");
    fs::create_dir(&jobs).expect("mkdir");
    let body = MINIMAL.replace("book.md", "../book.md");
    write_job(&jobs, "b.toml", &body.replace("out/book", "out/b"));
    write_job(&jobs, "a.toml", &body.replace("out/book", "out/a"));
    write_job(&jobs, "notes.txt", "not a job");
    let loaded = load_many(&[jobs], None).expect("valid");
    let names: Vec<&str> = loaded.iter().map(|job| job.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn load_many_reports_the_bad_job() {
    let dir = workspace();
    let jobs = dir.path().join("jobs");
    fs::create_dir(&jobs).expect("mkdir");
    write_job(
        &jobs,
        "good.toml",
        &MINIMAL.replace("book.md", "../book.md"),
    );
    let bad = write_job(
        &jobs,
        "bad.toml",
        &MINIMAL.replace("book.md", "../missing.md"),
    );
    let errors = load_many(&[jobs], None).expect_err("one bad job");
    assert_eq!(errors.len(), 1);
    let message = errors[0].to_string();
    assert_at(&message, &bad, 5, Some(9));
}

#[test]
fn load_many_empty_folder_and_duplicate_names() {
    let dir = workspace();
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).expect("mkdir");
    let errors = load_many(std::slice::from_ref(&empty), None).expect_err("empty");
    assert!(errors[0].to_string().contains("no job files (*.toml)"));

    let job = write_job(dir.path(), "pride.toml", MINIMAL);
    let errors = load_many(&[job.clone(), job], None).expect_err("twice");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].to_string().contains("given twice"));
}

#[test]
fn duplicate_key_is_a_syntax_error() {
    let body = MINIMAL.replace("[manuscript]", "title = \"Again\"\n\n[manuscript]");
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, line_of(&body, "Again"), Some(1));
    assert!(message.contains("invalid TOML: duplicate key"), "{message}");
}

#[test]
fn key_above_every_table() {
    let body = format!("title = \"x\"\n{MINIMAL}");
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, 1, Some(1));
    assert!(
        message.contains("unknown key `title` at the top level; expected only the tables [book]"),
        "{message}"
    );
    assert!(message.contains("(`title` belongs in [book])"), "{message}");
}

#[test]
fn invalid_glob() {
    let body = MINIMAL.replace("\"book.md\"", "\"ch/[.md\"");
    let (_dir, path, message) = error_of(&body);
    assert_at(&message, &path, 5, Some(9));
    assert!(message.contains("invalid glob \"ch/[.md\""), "{message}");
    assert!(message.contains("at character 4"), "{message}");
}

#[test]
fn budget_and_price_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("book.md"), "# One\n\nText.\n").unwrap();
    let job = |render: &str| {
        let path = dir.path().join("job.toml");
        std::fs::write(
            &path,
            format!(
                "[book]\ntitle = \"T\"\n[manuscript]\nfiles = [\"book.md\"]\n[render]\n{render}\n[output]\ndir = \"out\"\n"
            ),
        )
        .unwrap();
        load(&path)
    };
    let ok = job(
        "max_characters_per_run = 50000\nprice_per_million_characters = 28.5\ncurrency = \"USD\"",
    )
    .unwrap();
    assert_eq!(ok.render.max_characters_per_run, Some(50_000));
    assert_eq!(ok.render.price_per_million_characters, Some(28.5));
    assert_eq!(ok.render.currency, "USD");
    let err = job("max_characters_per_run = 0").unwrap_err().to_string();
    assert!(
        err.contains("job.toml:6:26:") && err.contains("max_characters_per_run"),
        "{err}"
    );
    let err = job("price_per_million_characters = -1")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("job.toml:6:") && err.contains("price_per_million_characters"),
        "{err}"
    );
    let err = job("currency = \"euros!\"").unwrap_err().to_string();
    assert!(
        err.contains("job.toml:6:12:") && err.contains("currency"),
        "{err}"
    );
}

#[test]
fn cloud_audio_formats_must_be_lossless() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("book.md"), "# One\n\nText.\n").unwrap();
    let job = |voice: &str| {
        let path = dir.path().join("job.toml");
        std::fs::write(
            &path,
            format!(
                "[book]\ntitle = \"T\"\n[manuscript]\nfiles = [\"book.md\"]\n{voice}\n[output]\ndir = \"out\"\n"
            ),
        )
        .unwrap();
        load(&path)
    };
    let coze = |format: &str| {
        format!(
            "[voice]\nprovider = \"coze\"\nvoice = \"v1\"\n[voice.coze]\nresponse_format = \"{format}\""
        )
    };
    let ok = job(&coze("wav")).unwrap();
    let crate::job::ProviderSettings::Coze(c) = &ok.voice.settings else {
        panic!("not coze");
    };
    assert_eq!(c.response_format, crate::job::AudioFormat::Wav);
    let err = job(&coze("mp3")).unwrap_err().to_string();
    assert!(
        err.contains("job.toml:9:19:") && err.contains("lossy"),
        "{err}"
    );
    let err = job(&coze("flac")).unwrap_err().to_string();
    assert!(
        err.contains("job.toml:9:19:") && err.contains("pcm"),
        "{err}"
    );
    let volc = "[voice]\nprovider = \"volcengine\"\ntransport = \"websocket\"\nvoice = \"v\"\n\
                [voice.volcengine]\nappid = \"1\"\nencoding = \"wav\"";
    let err = job(volc).unwrap_err().to_string();
    assert!(
        err.contains("job.toml:11:12:") && err.contains("cannot stream"),
        "{err}"
    );
}

#[test]
fn master_overrides_are_checked() {
    for (master, wrong, says) in [
        (
            "profile = \"loud\"",
            "\"loud\"",
            "profile must be one of \"acx\", \"ebu-r128\", \"podcast\", \"none\"",
        ),
        (
            "target_lufs = -23\ntarget_rms_db = -20",
            "-23",
            "target_lufs and target_rms_db are both set",
        ),
        (
            "profile = \"none\"\nceiling_db = -1",
            "-1",
            "profile = \"none\" does no mastering",
        ),
        (
            "room_tone_db = -40",
            "-40",
            "room_tone_db must be between -96 and -60",
        ),
        (
            "ceiling_db = 3",
            "3",
            "ceiling_db must be between -12 and 0",
        ),
    ] {
        let body = format!("{MINIMAL}\n[master]\n{master}\n");
        let (_dir, path, message) = error_of(&body);
        let line = body
            .lines()
            .position(|l| l.contains(wrong) && !l.starts_with('['))
            .unwrap()
            + 1;
        assert_at(&message, &path, line, None);
        assert!(message.contains(says), "{message}");
    }
}

#[test]
fn delivery_keys_default_and_are_checked() {
    let dir = workspace();
    let path = write_job(dir.path(), "job.toml", MINIMAL);
    let job = load(&path).unwrap();
    assert_eq!(job.output.delivery.formats, [Format::Mp3]);
    assert_eq!(job.output.delivery.split, Split::Chapter);
    assert_eq!(job.output.delivery.mp3_bitrate, 192);
    assert!(
        job.book.narrator.starts_with("Synthetic voice: "),
        "{}",
        job.book.narrator
    );

    let body = MINIMAL.replace(
        "[output]",
        "[output]\nformats = [\"mp3\", \"ogg\", \"mp3\"]\nsplit = \"tome\"\nmp3_bitrate = 193",
    );
    let (_dir, _path, message) = error_of(&body);
    for needle in [
        "got \"ogg\"",
        "lists this twice",
        "split must be one of",
        "mp3_bitrate must be one of",
    ] {
        assert!(message.contains(needle), "{needle}: {message}");
    }
}

#[test]
fn acx_refuses_head_and_tail_room_it_would_fail() {
    // By default (no [master]): an older job file, still loaded; the QA
    // reports the room after the render.
    let room = format!("{MINIMAL}\n[audio]\nchapter_head_ms = 200\nchapter_trailing_ms = 6000\n");
    let dir = workspace();
    let path = write_job(dir.path(), "old.toml", &room);
    let job = load(&path).expect("the default profile does not refuse room");
    assert_eq!(job.master.profile, Profile::Acx);
    // Chosen in the job file: refused before anything renders.
    let body = format!("{room}\n[master]\nprofile = \"acx\"\n");
    let (_dir, path, message) = error_of(&body);
    let at = format!("{}:{}:", path.display(), line_of(&body, "chapter_head_ms"));
    assert!(message.starts_with(&at), "{message}");
    assert!(message.contains("(500..=1000 ms)"), "{message}");
    assert!(message.contains("chapter_trailing_ms = 6000"), "{message}");
    // The room can measure up to the hold more (a quiet onset kept after
    // the head): at the top of the range, refused with the setting to use.
    let edge =
        format!("{MINIMAL}\n[audio]\nchapter_head_ms = 1000\n\n[master]\nprofile = \"acx\"\n");
    let (_dir, _path, message) = error_of(&edge);
    assert!(message.contains("can measure up to 1040 ms"), "{message}");
    assert!(
        message.contains("set [audio] chapter_head_ms to 960 or less"),
        "{message}"
    );
    let dir = workspace();
    let unheld = edge.replace("[audio]\n", "[audio]\ntrim_hold_ms = 0\n");
    let path = write_job(dir.path(), "unheld.toml", &unheld);
    assert_eq!(load(&path).expect("no hold").audio.chapter_head_ms, 1000);
    // Another profile takes them.
    let body = format!("{room}\n[master]\nprofile = \"podcast\"\n");
    let dir = workspace();
    let path = write_job(dir.path(), "ok.toml", &body);
    let job = load(&path).expect("valid under podcast");
    assert_eq!(job.audio.chapter_head_ms, 200);
    assert_eq!(job.master.target, Some(Target::Lufs(-16.0)));
}

#[test]
fn cover_must_be_a_square_jpeg_or_png_and_small_is_a_warning() {
    let dir = workspace();
    let body = MINIMAL.replace(
        "[book]",
        "[book]\ncover = \"cover.png\"\nisbn = \"978-0-14-143951-8\"",
    );
    let path = write_job(dir.path(), "job.toml", &body);
    // A 1×1 PNG, then a 2×1 one.
    std::fs::write(dir.path().join("cover.png"), png(1, 1)).unwrap();
    let job = load(&path).unwrap();
    let cover = job.book.meta.cover.as_ref().unwrap();
    assert_eq!((cover.mime, cover.width, cover.height), ("image/png", 1, 1));
    assert_eq!(job.book.meta.isbn.as_deref(), Some("9780141439518"));
    assert!(
        job.warnings[0].contains("at least 2400"),
        "{:?}",
        job.warnings
    );
    std::fs::write(dir.path().join("cover.png"), png(2, 1)).unwrap();
    let message = load(&path).unwrap_err().to_string();
    assert!(message.contains("not square"), "{message}");
    std::fs::write(dir.path().join("cover.png"), b"GIF89a....").unwrap();
    let message = load(&path).unwrap_err().to_string();
    assert!(message.contains("not a JPEG or PNG"), "{message}");
}

/// The smallest PNG header imagesize reads: signature and IHDR.
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    b.extend_from_slice(&width.to_be_bytes());
    b.extend_from_slice(&height.to_be_bytes());
    b.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    b
}
