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
                "chapter-001.wav",
                "9360829107400e23a7a7bede04bc0f459d06f9ce05029936b006c2803f139063"
            ),
            (
                "chapter-002.wav",
                "776e105ab309b788fcf12538868d40bb9c41afcc57a803f755e9ed5a3ca85256"
            ),
            (
                "chapter-003.wav",
                "0a93919304c9efa03e58265147ea57a80e5f4692df74486e091a7618f10fd776"
            ),
            (
                "book.wav",
                "7fd3bee1cecef5b11cf93df254bb4ae853b17a44c985fc82fa507a9de9b88fd2"
            ),
            (
                "manifest.json",
                "753fb39c9d1bb162fc831c2fa1a8b0291ea7c4e47a8566c54053bc80be3cf7ee"
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
                "b3061b864514ef6256cf7903ff26c6d6bccd4749aa495ec296509b872fc30976"
            ),
            (
                "02 - Two.wav",
                "debd714e0961b1c105c00a08b928a414ec825ebeca9aae2fe930b14dccf89ead"
            ),
            (
                "Cloud Book.wav",
                "6f498cca3b43ad6779479cb08baab98f914e5370a44d0225eea65ffe531f5de6"
            ),
            (
                "manifest.json",
                "e0206fb94590d25784c090f1f91e44a36937bccd1e59e8663bc4fc55a73e017e"
            ),
        ])
    );
}
