//! Output pinned to the byte: the sample job rendered with the embedded
//! engine, and a cloud job rendered through the simulator, must produce
//! exactly these files. A change that moves code around must not move these
//! checksums; a change that means to change the audio updates them and says
//! why in its commit.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::util::{Cloud, Sim, TOKEN, Workspace, cloud_job, render_cloud, stderr};

fn checksums(dir: &Path, names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .map(|name| {
            let bytes =
                std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("reading {name}: {e}"));
            let hex: String = Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            (name.to_string(), hex)
        })
        .collect()
}

fn pinned(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(n, h)| (n.to_string(), h.to_string()))
        .collect()
}

/// `jobs/demo.toml`, as the README's first command renders it.
#[test]
fn the_demo_renders_to_pinned_bytes() {
    let ws = Workspace::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs");
    ws.write(
        "jobs/demo.toml",
        std::fs::read(root.join("demo.toml")).unwrap(),
    );
    ws.write(
        "jobs/demo/lighthouse.md",
        std::fs::read(root.join("demo/lighthouse.md")).unwrap(),
    );
    let out = ws.run(&["render", "jobs/demo.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let names = [
        "01 - Chapter One- The Light.mp3",
        "02 - 第二章：来信.mp3",
        "03 - Chapter Three- 两种语言 Two Languages.mp3",
        "The Lighthouse Keeper - 灯塔看守人.mp3",
        "The Lighthouse Keeper - 灯塔看守人.lrc",
        "manifest.json",
    ];
    assert_eq!(
        checksums(&ws.path().join("out/demo"), &names),
        pinned(&[
            (
                "01 - Chapter One- The Light.mp3",
                "ebd59f1720c184f3633479ac88c73fe38addc79113470c89cf8900dc2b4473ca"
            ),
            (
                "02 - 第二章：来信.mp3",
                "1df6b3c009751c22396d14f91909ad1c1bd27e18b19964e8b2eb26df4dbd76ab"
            ),
            (
                "03 - Chapter Three- 两种语言 Two Languages.mp3",
                "ccac7f5a84730c48d92cb62c2705b3c7f60c7fa7856fb42ffe13c3169ab29162"
            ),
            (
                "The Lighthouse Keeper - 灯塔看守人.mp3",
                "3014868e35e040d9d92d97f4f079fc69cabd6704898f7206857b9e102b1294e4"
            ),
            (
                "The Lighthouse Keeper - 灯塔看守人.lrc",
                "69d2c48271910c6bc03eb2512e68bbe8016f815701a833efe4b3518d87c02c79"
            ),
            (
                "manifest.json",
                "bd15f97981b5cfefb5f274b0ccbaa4cd9d4650931ed5b945396a9b3cc4a5a71a"
            ),
        ])
    );
}

/// A Volcengine job over HTTP against the simulator's tone voice.
#[test]
fn a_cloud_job_renders_to_pinned_bytes() {
    let sim = Sim::start("");
    let ws = Workspace::new();
    ws.write(
        "book.md",
        "# One\n\nShort.\n\nA somewhat longer sentence follows here. And a third, longer still, with a clause.\n\n\
         # Two\n\nThe second chapter opens with a line of its own.\n\nIt ends. Quickly.\n",
    );
    cloud_job(
        &ws,
        &sim,
        Cloud::Volcengine,
        "http",
        None,
        "concurrency = 3",
    );
    let out = render_cloud(&ws, TOKEN);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let names = [
        "01 - One.wav",
        "02 - Two.wav",
        "Cloud Book.wav",
        "manifest.json",
    ];
    assert_eq!(
        checksums(&ws.out(), &names),
        pinned(&[
            (
                "01 - One.wav",
                "65988ac4d8c01a7974dab599e959c165b1d4d79bafc50a062acd19515e7d5fc7"
            ),
            (
                "02 - Two.wav",
                "e895aaea20e80965d23457680e8ca71727d0c9a79b25b003c11aacd6b8f18c7d"
            ),
            (
                "Cloud Book.wav",
                "a1fc69750bd996ae308e9dc2591b0e18933b639f9718ca808c778a639b783a8d"
            ),
            (
                "manifest.json",
                "474db1ffadce909cc6d7968c3ceb74b9640f526cdad861c0e71ea3717b50b9c1"
            ),
        ])
    );
}
