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
                "fe27da2deea9a831a926b6f61a00128370bfc487b314f9a61a5e4a020df84c55"
            ),
            (
                "02 - 第二章：来信.mp3",
                "e66e79adf7f847f0b85c0dd630e1f1d0642dfd5a24a679437442d3593635765e"
            ),
            (
                "03 - Chapter Three- 两种语言 Two Languages.mp3",
                "506a53fc7705efa23dde408419ef005ef28d279837783dedab277f785593a0b3"
            ),
            (
                "The Lighthouse Keeper - 灯塔看守人.mp3",
                "34a6aeb696930e311de8bce9e1b199797332f971ff95090fd3c2cac88e6a3d0c"
            ),
            (
                "The Lighthouse Keeper - 灯塔看守人.lrc",
                "db820b1b06e97bd73a2f0565134d4d8f0accc8fa113733673cf3b3c469bd8ebd"
            ),
            (
                "manifest.json",
                "b77ae9200d8678872f988496707b67765d6f5ae83abd3403bb49edbe241b95da"
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
