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
        "chapter-001.wav",
        "chapter-002.wav",
        "chapter-003.wav",
        "book.wav",
        "manifest.json",
    ];
    assert_eq!(
        checksums(&ws.path().join("out/demo"), &names),
        pinned(&[
            (
                "chapter-001.wav",
                "c9c3ea1619b5fdb13c123b65410a0f60cec3f74cfaf38b0b3171759ceacf4b8b"
            ),
            (
                "chapter-002.wav",
                "5e86cfcfb8d6b6acbf48c980acc5c1ade08f51019d4b2506ee67148076846c15"
            ),
            (
                "chapter-003.wav",
                "7772d42a9f36041cd2b87c56bc26e8eaf51ab6f04b2c545a140765ddd3d52228"
            ),
            (
                "book.wav",
                "eede210244e0e35c488e2ee75a9be137352b834bc2733bf2c58cd88c1e377e09"
            ),
            (
                "manifest.json",
                "9b53992e50d572d33c734ab154ce1799f2d088f2ad819f6f8cfefad09a38a67e"
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
        "chapter-001.wav",
        "chapter-002.wav",
        "book.wav",
        "manifest.json",
    ];
    assert_eq!(
        checksums(&ws.out(), &names),
        pinned(&[
            (
                "chapter-001.wav",
                "65988ac4d8c01a7974dab599e959c165b1d4d79bafc50a062acd19515e7d5fc7"
            ),
            (
                "chapter-002.wav",
                "e895aaea20e80965d23457680e8ca71727d0c9a79b25b003c11aacd6b8f18c7d"
            ),
            (
                "book.wav",
                "a1fc69750bd996ae308e9dc2591b0e18933b639f9718ca808c778a639b783a8d"
            ),
            (
                "manifest.json",
                "0073932780e11e161ee0c687048d6ba20bac8e9307ca3ea99b948ec5b2e59c19"
            ),
        ])
    );
}
