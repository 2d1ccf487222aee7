//! The end-of-run notification through the binary: every job file's
//! `[notify]` hears of a night that bad job files stopped, a command that
//! never reads its stdin cannot hold the run, and a run ended at once by a
//! second stop signal still sends its notice.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util::{Sim, TOKEN, Workspace, manuscript, read_json, stderr};

fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

/// A valid job file `name.toml` reading `book.md`, output `out/name`, with
/// `extra` appended (e.g. a `[notify]` table).
fn job_file(ws: &Workspace, rel: &str, name: &str, extra: &str) {
    ws.write(
        rel,
        format!(
            "[book]\ntitle = \"{name}\"\n[manuscript]\nfiles = \"../book.md\"\n\
             [output]\ndir = \"../out/{name}\"\n{extra}"
        ),
    );
}

#[test]
fn every_job_files_notify_hears_of_a_night_that_bad_job_files_stopped() {
    let ws = Workspace::new();
    ws.write("book.md", manuscript(1, 2));
    job_file(
        &ws,
        "jobs/a.toml",
        "a",
        "[notify]\ncommand = \"cat > a-notice.json\"\n",
    );
    // Bad in two ways (an unknown key, a range error); its [notify] is fine.
    job_file(
        &ws,
        "jobs/b.toml",
        "b",
        "[render]\nconcurency = 2\nmax_attempts = 99\n[notify]\ncommand = \"cat > b-notice.json\"\n",
    );
    let out = ws.run(&["render", "jobs"]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    assert!(!ws.path().join("out").exists(), "nothing was rendered");
    for file in ["a-notice.json", "b-notice.json"] {
        let notice = read_json(&ws.path().join(file));
        assert_eq!(notice["outcome"], "bad_input", "{file}: {notice}");
        assert_eq!(notice["exit_code"], 2);
        let error = notice["error"].as_str().unwrap();
        assert!(
            error.contains("b.toml") && error.contains("concurency"),
            "{file}: {error}"
        );
        assert!(error.contains("max_attempts"), "{file}: {error}");
    }

    // A job file that is not even TOML: its folder's defaults speak for it.
    ws.write(
        "night/defaults.toml",
        "[notify]\ncommand = \"cat > defaults-notice.json\"\n",
    );
    ws.write("night/c.toml", "[book\ntitle = \"c\"\n");
    let out = ws.run(&["render", "night"]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    let notice = read_json(&ws.path().join("defaults-notice.json"));
    assert_eq!(notice["outcome"], "bad_input");
    assert!(
        notice["error"].as_str().unwrap().contains("c.toml"),
        "{notice}"
    );
}

/// Linux pipes hold 64 KiB: a bigger notice given to a command that never
/// reads it used to block the run before the timeout had started.
#[test]
fn a_notify_command_that_never_reads_a_big_notice_is_killed_at_its_timeout() {
    let ws = Workspace::new();
    ws.write("book.md", manuscript(1, 2));
    // 400 missing manuscripts with long names: a bad-input error of over
    // 100 KiB, in the notice and (capped) in AUDIOBOOK_ERROR.
    let missing: Vec<String> = (0..400)
        .map(|i| format!("\"missing-{}-{i:03}.md\"", "x".repeat(200)))
        .collect();
    ws.write(
        "jobs/a.toml",
        format!(
            "[book]\ntitle = \"a\"\n[manuscript]\nfiles = [{}]\n[output]\ndir = \"../out/a\"\n\
             [notify]\ncommand = \"sleep 30\"\ntimeout_secs = 1\n",
            missing.join(", ")
        ),
    );
    job_file(
        &ws,
        "jobs/b.toml",
        "b",
        "[notify]\ncommand = \"cat > notice.json; printf %s \\\"$AUDIOBOOK_ERROR\\\" | wc -c > error-bytes.txt\"\n",
    );
    let out = ws.run(&["render", "jobs"]);
    assert_eq!(code(&out), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("command=sleep 30")
            && err.contains("it was still running after 1s and was killed"),
        "{err}"
    );
    let bytes = std::fs::read(ws.path().join("notice.json")).unwrap();
    assert!(
        bytes.len() > 64 * 1024,
        "the notice is bigger than a pipe's buffer: {} bytes",
        bytes.len()
    );
    let notice: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let error = notice["error"].as_str().unwrap();
    assert_eq!(error.matches("manuscript file not found").count(), 400);
    // The variable is capped (a program cannot start with one over 128 KiB).
    let in_env: usize = std::fs::read_to_string(ws.path().join("error-bytes.txt"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(in_env > 32 * 1024 && in_env < error.len(), "{in_env}");
}

/// The first signal lets requests in flight finish; a second one ends the
/// process at once, and the notification is sent before it does.
#[test]
fn a_second_stop_signal_still_sends_the_notification() {
    // Requests take far longer than the test: the first signal cannot let
    // the run end by itself before the second arrives.
    let sim = Sim::start("latency_ms = 60000\n");
    let ws = Workspace::new();
    ws.write("book.md", manuscript(1, 6));
    crate::util::cloud_job(
        &ws,
        &sim,
        crate::util::Cloud::Volcengine,
        "http",
        None,
        "concurrency = 1",
    );
    let mut job = std::fs::read_to_string(ws.path().join("job.toml")).unwrap();
    job.push_str("\n[notify]\ncommand = \"cat >> notices.json\"\n");
    ws.write("job.toml", job);
    let mut child = ws
        .command()
        .args(["render", "job.toml"])
        .env("TEST_TTS_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn audiobook");
    // Its stderr, line by line, so the test knows when a signal was taken.
    let (lines, seen) = std::sync::mpsc::channel();
    let stream = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let limit = Instant::now() + Duration::from_secs(120);
    while sim.handle.in_flight() == 0 {
        assert!(Instant::now() < limit, "no request reached the simulator");
        std::thread::sleep(Duration::from_millis(20));
    }
    let term = || {
        let kill = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
    };
    term();
    // Signals sent close together may arrive as one: the second goes once
    // the first has been taken.
    let mut err = String::new();
    while !err.contains("finishing segments in flight") {
        let line = seen
            .recv_timeout(Duration::from_secs(120))
            .expect("the render never said it was stopping");
        err.push_str(&line);
        err.push('\n');
    }
    term();
    let status = child.wait().unwrap();
    reader.join().unwrap();
    err.extend(seen.try_iter().map(|l| l + "\n"));
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("stopped at once"), "{err}");
    let text = std::fs::read_to_string(ws.path().join("notices.json")).unwrap();
    let notice: serde_json::Value = serde_json::from_str(&text).expect("one notice");
    assert_eq!(notice["outcome"], "interrupted", "{notice}");
    assert_eq!(notice["exit_code"], 130);
    assert!(
        notice["error"].as_str().unwrap().contains("second signal"),
        "{notice}"
    );
}
