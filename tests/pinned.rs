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
                "601a06513a3f8edad4cdcff52a081855958801d80d0286a800f6c8304de3cd59"
            ),
            (
                "02 - 第二章：来信.mp3",
                "cbf6ec1bc8ba755b1c54d347b52edabc3334494a379f43e0cac6f07b7a64a193"
            ),
            (
                "03 - Chapter Three- 两种语言 Two Languages.mp3",
                "9865ea271b2a14ac9b8ddb2491151e6c9d0239311e090f0eb0fa58a03eec3401"
            ),
            (
                "The Lighthouse Keeper - 灯塔看守人.mp3",
                "d94a0fc607c1232d914fb8d6555bde1e67223a4f9dada232dbadf7c42bd251dc"
            ),
            (
                "The Lighthouse Keeper - 灯塔看守人.lrc",
                "8a5e59e1f0f7c136d4bd6dddb31bd313e77ab7b36820d0076940b71f9dbb074c"
            ),
            (
                "manifest.json",
                "b4a9bd09308c902f58200835e5754b57d1610b298cfcfcf9896adba5db5878e7"
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
                "67a73161a965fd9400be528e3ee2d2bc5550b96ff3810b0a518b05a363a4fc9c"
            ),
        ])
    );
}
