//! The command line as publishers and cron meet it (issue 15): `init`,
//! completions and the man page, help, every job-file problem in one run,
//! per-run overrides, shared defaults, notifications, consistent counts,
//! `status` for jobs never rendered, and what validation refuses. Each test
//! runs the real binary.

use crate::util::{
    Workspace, delivered_wav, manuscript, read_json, stderr, stdout, terminate, wav_samples,
};

fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

#[test]
fn init_writes_a_job_file_that_validates_and_renders_the_sample_book() {
    let ws = Workspace::new();
    let sample = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/jobs/demo/lighthouse.md"
    ))
    .unwrap();
    ws.write("drafts/lighthouse.md", &sample);
    let out = ws.run(&["init", "book", "--manuscript", "drafts/lighthouse.md"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("chapters = \"headings\""), "{text}");
    assert!(text.contains("3 chapter(s)"), "{text}");
    assert!(
        text.contains("第二章：来信"),
        "the chapters found are listed: {text}"
    );
    let job = std::fs::read_to_string(ws.path().join("book/lighthouse.toml")).unwrap();
    // Required keys first.
    let at = |needle: &str| {
        job.find(needle)
            .unwrap_or_else(|| panic!("{needle} in {job}"))
    };
    assert!(
        at("[book]") < at("[voice]") && at("[output]") < at("[voice]"),
        "{job}"
    );

    let out = ws.run(&["validate", "book/lighthouse.toml"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let out = ws.run(&["render", "book/lighthouse.toml"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    // A new job file delivers an MP3 per chapter (the default format).
    let dir = ws.path().join("book/out/lighthouse");
    let manifest = read_json(&dir.join("manifest.json"));
    let chapters = manifest["chapters"].as_array().unwrap();
    assert!(!chapters.is_empty(), "{manifest}");
    for chapter in chapters {
        let file = chapter["files"][0].as_str().unwrap();
        assert!(file.ends_with(".mp3"), "{file}");
        let bytes = std::fs::read(dir.join(file)).unwrap();
        // 192 kbit/s: a second of audio is 24 kB; MP3 frames begin 0xFFFB.
        assert!(bytes.len() > 24_000, "{file}: {} bytes", bytes.len());
        assert!(bytes.windows(2).any(|w| w == [0xFF, 0xFB]), "{file}");
    }

    // Never overwrites.
    let before = std::fs::read(ws.path().join("book/lighthouse.toml")).unwrap();
    let out = ws.run(&["init", "book", "--manuscript", "drafts/lighthouse.md"]);
    assert_eq!(code(&out), Some(2));
    assert!(
        stderr(&out).contains("never overwrites"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(ws.path().join("book/lighthouse.toml")).unwrap(),
        before
    );
}

#[test]
fn init_guesses_chinese_chapter_titles() {
    let ws = Workspace::new();
    ws.write(
        "xiyouji.txt",
        "第一回 灵根育孕源流出\n\n诗曰：混沌未分天地乱。\n\n第二回 悟彻菩提真妙理\n\n却说美猴王荣归故里。\n",
    );
    let out = ws.run(&["init", "--provider", "volcengine"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("chapters = \"regex\""), "{text}");
    assert!(text.contains("2 chapter(s)"), "{text}");
    assert!(text.contains("悟彻菩提真妙理"), "{text}");
    let job = std::fs::read_to_string(ws.path().join("xiyouji.toml")).unwrap();
    assert!(job.contains("provider = \"volcengine\""), "{job}");
    assert!(job.contains("language = \"zh\""), "{job}");
}

/// EPUB and Word manuscripts bring their own chapters; the job file
/// validates and lists them.
#[test]
fn init_reads_epub_and_docx_manuscripts() {
    let ws = Workspace::new();
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    for (file, dir) in [("book3.epub", "e"), ("book.docx", "d")] {
        ws.write(
            &format!("{dir}/{file}"),
            std::fs::read(format!("{fixtures}/{file}")).unwrap(),
        );
        // The lone manuscript of the folder, found without --manuscript.
        let out = ws.run(&["init", dir]);
        assert_eq!(code(&out), Some(0), "{file}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("3 chapter(s)"), "{file}: {text}");
        assert!(text.contains("Chapter One: The Light"), "{file}: {text}");
        assert!(text.contains("第二章：来信"), "{file}: {text}");
        let stem = file.split('.').next().unwrap();
        let job = format!("{dir}/{stem}.toml");
        let out = ws.run(&["validate", &job]);
        assert_eq!(code(&out), Some(0), "{file}: {}", stderr(&out));
        let out = ws.run(&["plan", &job, "--json"]);
        assert_eq!(code(&out), Some(0), "{file}: {}", stderr(&out));
    }
}

/// File names are written as TOML strings: a quote, a backslash, Chinese,
/// and a combining accent (which a Rust `{:?}` string writes as `\u{301}`,
/// not TOML).
#[test]
fn init_writes_unusual_file_names_as_toml_strings() {
    let ws = Workspace::new();
    let name = "草稿 \"one\" \\ Cafe\u{301}";
    ws.write(
        &format!("{name}.md"),
        "# One\n\nHello there.\n\n# Two\n\nThe end.\n",
    );
    let out = ws.run(&["init", "book", "--manuscript", &format!("{name}.md")]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let job_path = ws.path().join(format!("book/{name}.toml"));
    let text = std::fs::read_to_string(&job_path).unwrap();
    let job: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(job["book"]["title"].as_str(), Some(name), "{text}");
    let files = job["manuscript"]["files"].as_array().unwrap();
    assert!(
        files[0].as_str().unwrap().ends_with(&format!("{name}.md")),
        "{text}"
    );
    assert_eq!(
        job["output"]["dir"].as_str(),
        Some(format!("out/{name}").as_str())
    );
    let out = ws.run(&["validate", job_path.to_str().unwrap()]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
}

#[test]
fn completions_for_every_shell_and_a_man_page() {
    let ws = Workspace::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = ws.run(&["completions", shell]);
        assert_eq!(code(&out), Some(0), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        assert!(script.len() > 500, "{shell}: {script}");
        assert!(
            script.contains("retry-failed"),
            "{shell} completes commands"
        );
        assert!(script.contains("draft"), "{shell} completes options");
    }
    let out = ws.run(&["man"]);
    assert_eq!(code(&out), Some(0));
    assert!(stdout(&out).starts_with(".ie") || stdout(&out).contains(".TH"));
    let out = ws.run(&["man", "--dir", "man1"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(ws.path().join("man1/audiobook.1").is_file());
}

#[test]
fn help_describes_every_argument_and_sim_does_not_offer_db() {
    let ws = Workspace::new();
    let render = stdout(&ws.run(&["render", "--help"]));
    for needle in [
        "Job files (TOML), or folders",
        "Examples:",
        "Global options:",
        "State options:",
        "Per-run overrides:",
        "--draft",
        "--on-finish",
    ] {
        assert!(
            render.contains(needle),
            "{needle} in render --help:\n{render}"
        );
    }
    let status = stdout(&ws.run(&["status", "--help"]));
    assert!(status.contains("One JSON object per job"), "{status}");
    let segment = stdout(&ws.run(&["segment", "--help"]));
    assert!(
        segment.contains("Longest segment in characters"),
        "{segment}"
    );
    for command in ["sim", "segment", "init", "validate"] {
        let help = stdout(&ws.run(&[command, "--help"]));
        assert!(
            !help.contains("--db"),
            "{command} --help lists --db:\n{help}"
        );
        assert!(help.contains("Examples:"), "{command}");
    }
}

#[test]
fn every_job_file_problem_is_reported_in_one_run() {
    let ws = Workspace::new();
    ws.write("book.md", "# One\n\nHello.\n");
    ws.write(
        "job.toml",
        "[book]\ntitle = \"T\"\n\n[manuscript]\nfiles = \"book.md\"\nchapter_patern = '^x'\n\n\
         [render]\nconcurrency = \"eight\"\nmax_attempts = 99\ncolour = \"red\"\n\n[output]\ndir = \"out\"\n",
    );
    let out = ws.run(&["validate", "job.toml"]);
    assert_eq!(code(&out), Some(2));
    let err = stderr(&out);
    for needle in [
        "job.toml:6:1: unknown key `chapter_patern`",
        "did you mean `chapter_pattern`?",
        "job.toml:9:15: wrong type for `concurrency`",
        "job.toml:10:16: max_attempts must be between 1 and 20",
        "job.toml:11:1: unknown key `colour`",
    ] {
        assert!(err.contains(needle), "{needle} in:\n{err}");
    }
}

/// A Coze job pointed at a closed port, with no token in the environment:
/// `--draft` renders it with the embedded engine all the same.
#[test]
fn draft_renders_a_cloud_job_with_no_token_and_no_network() {
    let ws = Workspace::new();
    ws.write("book.md", manuscript(2, 3));
    ws.write(
        "job.toml",
        "[book]\ntitle = \"Cloud\"\nlanguage = \"en\"\n\n[manuscript]\nfiles = \"book.md\"\n\n\
         [voice]\nprovider = \"coze\"\nvoice = \"7426720361733046281\"\n\n\
         [voice.coze]\nbase_url = \"http://127.0.0.1:9\"\ntoken_env = \"NO_SUCH_TOKEN_VAR\"\n\n\
         [audio]\nsample_rate = 16000\n\n[output]\ndir = \"out\"\nformats = [\"wav\"]\nsplit = \"book\"\n",
    );
    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(code(&out), Some(2), "without --draft the token is missing");
    let out = ws.run(&["render", "job.toml", "--draft"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("job-draft: complete"),
        "{}",
        stdout(&out)
    );
    let (spec, samples) = wav_samples(&delivered_wav(&ws.path().join("out-draft"), None));
    assert_eq!(spec.sample_rate, 16000);
    assert!(samples.iter().any(|s| s.unsigned_abs() > 1000));
    assert!(!ws.out().exists(), "the real job's folder is untouched");
    // The draft is a job of its own: the real one is still not started.
    let status = stdout(&ws.run(&["status", "job.toml"]));
    assert!(status.contains("job: not started"), "{status}");
}

/// A token of a few characters is a placeholder or a truncated paste:
/// `validate` refuses it before any request, naming the variable and never
/// the value (masking a two-letter string would leave every log unreadable).
#[test]
fn validate_refuses_a_token_too_short_to_be_one() {
    let ws = Workspace::new();
    ws.write("book.md", manuscript(1, 2));
    ws.write(
        "job.toml",
        "[book]\ntitle = \"Cloud\"\nlanguage = \"en\"\n\n[manuscript]\nfiles = \"book.md\"\n\n\
         [voice]\nprovider = \"coze\"\nvoice = \"7426720361733046281\"\n\n\
         [voice.coze]\nbase_url = \"http://127.0.0.1:9\"\ntoken_env = \"SHORT_TOKEN_VAR\"\n\n\
         [output]\ndir = \"out\"\nformats = [\"wav\"]\n",
    );
    let out = ws
        .command()
        .args(["validate", "job.toml"])
        .env("SHORT_TOKEN_VAR", "xq7")
        .output()
        .expect("run");
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(code(&out), Some(2), "{said}");
    assert!(said.contains("SHORT_TOKEN_VAR"), "{said}");
    assert!(said.contains("3 characters"), "{said}");
    assert!(!said.contains("xq7"), "{said}");
}

#[test]
fn chapters_renders_only_the_chapters_asked_for() {
    let ws = Workspace::new();
    ws.job(&manuscript(3, 3), "");
    let out = ws.run(&["render", "job.toml", "--chapters", "2"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("complete (chapters 2)"),
        "{}",
        stdout(&out)
    );
    assert!(ws.out().join("02 - Chapter 2.wav").is_file());
    assert!(!ws.out().join("01 - Chapter 1.wav").exists());
    assert!(!ws.out().join("Test Book.wav").exists());
    let report = ws.report();
    assert_eq!(report["chapters_selected"], "2");
    assert_eq!(report["counts"]["done"], 4, "a heading and three sentences");
    assert_eq!(report["chapters_written"], 1);

    let out = ws.run(&["render", "job.toml", "--chapters", "1-4"]);
    assert_eq!(code(&out), Some(2));
    assert!(
        stderr(&out).contains("the book has 3 chapter(s)"),
        "{}",
        stderr(&out)
    );
    let out = ws.run(&["render", "job.toml", "--chapters", "3-1"]);
    assert_eq!(code(&out), Some(2));
}

#[test]
fn output_overrides_the_folder_for_one_run() {
    let ws = Workspace::new();
    ws.job(&manuscript(1, 2), "");
    let out = ws.run(&["render", "job.toml", "--output", "elsewhere"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(ws.path().join("elsewhere/Test Book.wav").is_file());
    assert!(!ws.out().exists());
}

#[test]
fn a_folders_defaults_file_is_merged_under_every_job() {
    let ws = Workspace::new();
    ws.write("book.md", manuscript(1, 2));
    ws.write(
        "jobs/defaults.toml",
        "[audio]\nsample_rate = 8000\n\n[render]\nconcurrency = 2\n\n[output]\nformats = [\"wav\"]\nsplit = \"book\"\n",
    );
    for name in ["a", "b"] {
        ws.write(
            &format!("jobs/{name}.toml"),
            format!(
                "[book]\ntitle = \"{name}\"\n[manuscript]\nfiles = \"../book.md\"\n[output]\ndir = \"../out/{name}\"\n"
            ),
        );
    }
    let out = ws.run(&["render", "jobs"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(
        !stdout(&out).contains("defaults:"),
        "defaults.toml is not a job"
    );
    for name in ["a", "b"] {
        let (spec, _) = wav_samples(&delivered_wav(&ws.path().join(format!("out/{name}")), None));
        assert_eq!(
            spec.sample_rate, 8000,
            "{name} took the folder's sample rate"
        );
    }
    ws.write("jobs/defaults.toml", "[audio]\nsample_rat = 8000\n");
    let out = ws.run(&["plan", "jobs"]);
    assert_eq!(code(&out), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("jobs/defaults.toml:2:1: unknown key `sample_rat`"),
        "{err}"
    );
    assert!(err.contains("did you mean `sample_rate`?"), "{err}");
}

#[test]
fn the_notify_command_receives_the_outcome_once_per_run() {
    let ws = Workspace::new();
    ws.job(
        &manuscript(1, 2),
        "concurrency = 2\n\n[notify]\ncommand = \"cat >> notices.json; echo \\\"$AUDIOBOOK_OUTCOME $AUDIOBOOK_EXIT_CODE $AUDIOBOOK_JOBS_COMPLETE\\\" >> env.txt\"",
    );
    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let notice = read_json(&ws.path().join("notices.json"));
    assert_eq!(notice["outcome"], "complete");
    assert_eq!(notice["exit_code"], 0);
    assert_eq!(notice["jobs"][0]["job"], "job");
    assert_eq!(notice["jobs"][0]["outcome"], "complete");
    assert!(
        notice["summary"]
            .as_str()
            .unwrap()
            .contains("job: complete")
    );
    let env = std::fs::read_to_string(ws.path().join("env.txt")).unwrap();
    assert_eq!(env, "complete 0 job\n", "once, with the variables");

    // --on-finish replaces it, and hears of a run that never started.
    ws.write("bad.toml", "[book]\n");
    let out = ws.run(&["render", "bad.toml", "--on-finish", "cat > bad-notice.json"]);
    assert_eq!(code(&out), Some(2));
    let notice = read_json(&ws.path().join("bad-notice.json"));
    assert_eq!(notice["outcome"], "bad_input");
    assert_eq!(notice["exit_code"], 2);
    assert!(
        notice["error"].as_str().unwrap().contains("missing"),
        "{notice}"
    );
}

/// Repeated sentences: the book's segments, `plan`, the summary and
/// `report.json` count the same things, and the figures add up.
#[test]
fn counts_agree_between_plan_summary_and_report_with_repeated_sentences() {
    let ws = Workspace::new();
    ws.job(
        "# One\n\nHello there. Hello there. Hello there. A new line.\n\n# Two\n\nHello there. The end.\n",
        "",
    );
    let plan: serde_json::Value =
        serde_json::from_str(stdout(&ws.run(&["plan", "job.toml", "--json"])).trim()).unwrap();
    assert_eq!(plan["segments"], 8);
    assert_eq!(plan["segments_to_render"], 8);
    assert_eq!(plan["texts_to_render"], 5);
    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "job: complete: 8 segments: 8 synthesized, 0 already rendered, 0 failed, 0 pending"
        ),
        "{text}"
    );
    assert!(text.contains("needed 5 distinct clips"), "{text}");
    let report = ws.report();
    assert_eq!(report["stats"]["synthesized"], 8);
    assert_eq!(report["stats"]["clips"], 5);
    assert_eq!(report["counts"]["done"], 8);

    // A damaged clip is rendered again and not counted twice.
    let victim = ws.clips()[0].clone();
    let mut bytes = std::fs::read(&victim).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&victim, bytes).unwrap();
    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let report = ws.report();
    let synthesized = report["stats"]["synthesized"].as_u64().unwrap();
    let cached = report["stats"]["cached"].as_u64().unwrap();
    assert!(synthesized >= 1, "{report}");
    assert_eq!(synthesized + cached, 8, "{report}");
}

#[test]
fn an_interrupted_run_reports_its_chapters_and_audio() {
    let ws = Workspace::new();
    ws.job(&manuscript(4, 45), "concurrency = 2");
    let out = terminate(ws.render_until_clips(50));
    assert_eq!(out.status.code(), Some(130));
    let report = ws.report();
    assert_eq!(report["outcome"], "interrupted");
    assert_eq!(report["chapters_total"], 4, "{report}");
    let total = report["counts"].as_object().unwrap();
    let sum: u64 = ["pending", "in_flight", "done", "failed", "pause"]
        .iter()
        .map(|k| total[*k].as_u64().unwrap())
        .sum();
    assert_eq!(sum, 4 * 46);
    assert!(
        stdout(&out).contains("of 4 chapter files"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn report_paths_are_normalised() {
    let ws = Workspace::new();
    ws.write("book.md", manuscript(1, 1));
    ws.write(
        "jobs/x.toml",
        "[book]\ntitle = \"X\"\n[manuscript]\nfiles = \"../book.md\"\n[output]\ndir = \"../out/x\"\n",
    );
    let out = ws.run(&["render", "jobs/x.toml"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let report = read_json(&ws.path().join("out/x/report.json"));
    let dir = report["output_dir"].as_str().unwrap();
    assert!(!dir.contains(".."), "{dir}");
    assert!(stdout(&out).contains("in out/x"), "{}", stdout(&out));
}

#[test]
fn status_of_a_job_never_rendered_is_not_started_with_its_plan() {
    let ws = Workspace::new();
    ws.job(&manuscript(2, 3), "");
    let out = ws.run(&["status", "job.toml"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("job: not started: 2 chapters, 8 segments"),
        "{}",
        stdout(&out)
    );
    // Without a database and without jobs: an answer, never nothing.
    let out = ws.run(&["status"]);
    assert_eq!(code(&out), Some(0));
    assert!(
        stdout(&out).contains("no job has been rendered"),
        "{}",
        stdout(&out)
    );
    let out = ws.run(&["status", "--json"]);
    let empty: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(empty["jobs"], 0);
    // With a database that holds other jobs.
    ws.write("other.md", manuscript(1, 1));
    ws.write(
        "other.toml",
        "[book]\ntitle = \"O\"\n[manuscript]\nfiles = \"other.md\"\n[output]\ndir = \"out-other\"\n",
    );
    assert_eq!(code(&ws.run(&["render", "other.toml"])), Some(0));
    let out = ws.run(&["status", "job.toml", "--json"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let line: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(line["state"], "not_started");
    assert_eq!(line["counts"]["pending"], 8);
    let out = ws.run(&["status", "nosuchjob"]);
    assert_eq!(code(&out), Some(2));
}

#[test]
fn status_shows_local_times_and_the_last_run_that_did_work() {
    let ws = Workspace::new();
    ws.job(&manuscript(1, 2), "");
    assert_eq!(code(&ws.run(&["render", "job.toml"])), Some(0));
    assert_eq!(code(&ws.run(&["render", "job.toml"])), Some(0));
    let out = ws
        .command()
        .args(["status", "job.toml"])
        .env("TZ", "Asia/Shanghai")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(
        text.contains("+08:00"),
        "local time with its offset: {text}"
    );
    assert!(text.contains("last run: complete"), "{text}");
    assert!(text.contains("last run that did work: complete"), "{text}");
    assert!(text.contains("3 synthesized"), "{text}");
    let out = ws
        .command()
        .args(["status", "--json", "--watch"])
        .env("TZ", "Asia/Shanghai")
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(0), "--watch ends when no render runs");
    let line: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert!(
        line["last_run"]["started_at"]
            .as_str()
            .unwrap()
            .ends_with("+08:00")
    );
    assert_eq!(line["last_run"]["synthesized"], 0);
    assert_eq!(line["last_working_run"]["synthesized"], 3);
}

#[test]
fn two_jobs_writing_one_output_folder_are_refused() {
    let ws = Workspace::new();
    ws.write("book.md", manuscript(1, 1));
    for name in ["a", "b"] {
        ws.write(
            &format!("{name}.toml"),
            "[book]\ntitle = \"X\"\n[manuscript]\nfiles = \"book.md\"\n[output]\ndir = \"out\"\n",
        );
    }
    let out = ws.run(&["render", "a.toml", "b.toml"]);
    assert_eq!(code(&out), Some(2));
    assert!(
        stderr(&out).contains("also the output folder of"),
        "{}",
        stderr(&out)
    );
    assert!(!ws.out().exists());
}

#[test]
fn an_output_folder_the_manuscript_glob_reads_is_refused() {
    let ws = Workspace::new();
    ws.write("book/ch1.md", manuscript(1, 1));
    ws.write(
        "job.toml",
        "[book]\ntitle = \"X\"\n[manuscript]\nfiles = \"book/*\"\n[output]\ndir = \"book\"\n",
    );
    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(code(&out), Some(2));
    assert!(
        stderr(&out).contains("would read this job's own output"),
        "{}",
        stderr(&out)
    );
}

/// `--output` and the `-draft` folder of `--draft` move the output: the
/// manuscript entries are checked against where it goes, as `[output] dir`
/// is. Nothing is written when one would read it.
#[test]
fn an_output_override_the_manuscript_glob_reads_is_refused() {
    let ws = Workspace::new();
    ws.write("book/ch1.md", manuscript(1, 1));
    ws.write(
        "job.toml",
        "[book]\ntitle = \"X\"\n[manuscript]\nfiles = \"book*/*\"\n[output]\ndir = \"out/x\"\n",
    );
    let out = ws.run(&["render", "job.toml", "--output", "book"]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("--output writes into") && err.contains("\"book*/*\" in [manuscript] files"),
        "{err}"
    );
    assert!(!ws.path().join("book/manifest.json").exists());
    assert!(!ws.path().join("state.db").exists(), "nothing was written");

    // The draft of a job whose output is `book` writes `book-draft`.
    ws.write("book-notes/notes.md", manuscript(1, 1));
    ws.write(
        "job.toml",
        "[book]\ntitle = \"X\"\n[manuscript]\nfiles = [\"book/*.md\", \"book-*/*\"]\n[output]\ndir = \"book\"\n",
    );
    let out = ws.run(&["plan", "job.toml"]);
    assert_eq!(
        code(&out),
        Some(0),
        "the job itself is fine: {}",
        stderr(&out)
    );
    let out = ws.run(&["render", "job.toml", "--draft"]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("--draft writes into") && err.contains("book-draft"),
        "{err}"
    );
    assert!(!ws.path().join("book-draft").exists());
    // An output folder the entries do not read is accepted.
    let out = ws.run(&["render", "job.toml", "--draft", "--output", "audio"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let manifest = read_json(&ws.path().join("audio/manifest.json"));
    let file = manifest["chapters"][0]["files"][0].as_str().unwrap();
    assert!(ws.path().join("audio").join(file).is_file(), "{manifest}");
}

#[test]
fn a_db_in_a_missing_folder_is_created() {
    let ws = Workspace::new();
    ws.job(&manuscript(1, 1), "");
    let out = ws
        .command()
        .args(["render", "job.toml", "--db", "state/nightly/audiobook.db"])
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(ws.path().join("state/nightly/audiobook.db").is_file());
}

#[test]
fn plan_and_status_agree_on_a_damaged_database() {
    let ws = Workspace::new();
    ws.job(&manuscript(1, 1), "");
    ws.write(
        "state.db",
        "this is not a database at all, just text ".repeat(200),
    );
    let plan = ws.run(&["plan", "job.toml"]);
    let status = ws.run(&["status"]);
    assert_eq!(code(&plan), Some(1), "{}", stderr(&plan));
    assert_eq!(code(&status), Some(1), "{}", stderr(&status));
    for out in [&plan, &status] {
        assert!(
            stderr(out).contains("cannot read the state database"),
            "{}",
            stderr(out)
        );
    }
}

#[test]
fn quiet_prints_the_summary_and_nothing_on_stderr() {
    let ws = Workspace::new();
    ws.job(&manuscript(1, 2), "");
    assert_eq!(code(&ws.run(&["render", "job.toml"])), Some(0));
    // A new database beside a full cache would warn; --quiet says nothing.
    std::fs::remove_file(ws.path().join("state.db")).unwrap();
    let out = ws.run(&["render", "job.toml", "--quiet"]);
    assert_eq!(code(&out), Some(0));
    assert_eq!(stderr(&out), "", "--quiet");
    assert!(stdout(&out).contains("job: complete"));
}

#[test]
fn plan_aligns_chinese_titles_by_display_width() {
    let ws = Workspace::new();
    ws.job(
        "# 第一回 灵根育孕源流出\n\n混沌未分。\n\n# Chapter Two\n\nThe end.\n",
        "",
    );
    let out = ws.run(&["plan", "job.toml"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let rows: Vec<&str> = text.lines().filter(|l| l.contains(" segments ")).collect();
    assert_eq!(rows.len(), 2, "{text}");
    let column = |row: &str| {
        let before = &row[..row.find(" segments ").unwrap()];
        unicode_width::UnicodeWidthStr::width(before)
    };
    assert_eq!(column(rows[0]), column(rows[1]), "{text}");
}

#[test]
fn progress_lines_show_chapter_audio_and_a_rate_with_its_unit_once() {
    let ws = Workspace::new();
    ws.job(&manuscript(2, 4), "");
    let out = ws.run(&["render", "job.toml"]);
    assert_eq!(code(&out), Some(0));
    let err = stderr(&out);
    let progress: Vec<&str> = err.lines().filter(|l| l.contains("progress")).collect();
    let last = progress
        .last()
        .unwrap_or_else(|| panic!("no progress line in {err}"));
    for needle in [
        "chapter=",
        "chapters=2",
        "audio_hours=",
        "segments_per_sec=",
        "done=10 total=10",
    ] {
        assert!(last.contains(needle), "{needle} in {last}");
    }
    let finals = progress
        .iter()
        .filter(|l| l.contains("done=10 total=10"))
        .count();
    assert_eq!(finals, 1, "the last line once: {err}");
}
