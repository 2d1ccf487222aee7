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
                "6412ebc90c6a36bb90c0628c6811d2f486b63ea50a924df19fad4fba3b32ecc8"
            ),
            (
                "chapter-002.wav",
                "74089054bf2751b652ec7a0487a5389a4f726122e69848545c9a2494db32097e"
            ),
            (
                "chapter-003.wav",
                "e96b16bf0e65de441019ffb196b79e4d5d63b5bc2c973a59ef535807d5cac71e"
            ),
            (
                "book.wav",
                "b63bdda69f8a5cf3271c3e40e01788bbca4762ea32a5eb43bdaa9ce09b49704f"
            ),
            (
                "manifest.json",
                "63cbe334978da494dfc91f0ccf527259dfa81a0c8deae8ef33e3d3b152a01ce8"
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
                "b3061b864514ef6256cf7903ff26c6d6bccd4749aa495ec296509b872fc30976"
            ),
            (
                "chapter-002.wav",
                "debd714e0961b1c105c00a08b928a414ec825ebeca9aae2fe930b14dccf89ead"
            ),
            (
                "book.wav",
                "6f498cca3b43ad6779479cb08baab98f914e5370a44d0225eea65ffe531f5de6"
            ),
            (
                "manifest.json",
                "e0206fb94590d25784c090f1f91e44a36937bccd1e59e8663bc4fc55a73e017e"
            ),
        ])
    );
}
