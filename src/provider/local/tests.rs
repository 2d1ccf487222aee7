//! The engine end to end (real synthesis, real data install), its voice
//! names and fingerprint, the script splitting and the resampler.

use super::script::Run;
use super::*;
use crate::provider::resample::ResamplerPool;

fn voice(name: &str, speed: f32) -> Voice {
    Voice::local(name, speed, 50)
}

fn request(text: &str) -> SynthRequest {
    SynthRequest { text: text.into() }
}

const TEN_WORDS: &str = "The quick brown fox jumps over the lazy sleeping dog.";

#[tokio::test]
async fn english_at_24k_has_plausible_duration() {
    let dir = tempfile::tempdir().unwrap();
    let engine = LocalEngine::new(dir.path(), &voice("auto", 1.0), 24_000).unwrap();
    let clip = engine.synthesize(&request(TEN_WORDS)).await.unwrap();
    assert_eq!(clip.sample_rate, 24_000);
    let secs = clip.duration_secs();
    assert!((1.5..8.0).contains(&secs), "{secs} s");
}

#[tokio::test]
async fn chinese_at_24k_is_not_empty() {
    let dir = tempfile::tempdir().unwrap();
    let engine = LocalEngine::new(dir.path(), &voice("cmn", 1.0), 24_000).unwrap();
    let clip = engine
        .synthesize(&request("今天天气很好，我们去公园散步吧。"))
        .await
        .unwrap();
    assert_eq!(clip.sample_rate, 24_000);
    let secs = clip.duration_secs();
    assert!((1.0..8.0).contains(&secs), "{secs} s");
}

#[tokio::test]
async fn auto_mixed_script_reads_both_parts() {
    let dir = tempfile::tempdir().unwrap();
    let engine = LocalEngine::new(dir.path(), &voice("auto", 1.0), 24_000).unwrap();
    let han = engine.synthesize(&request("他说世界")).await.unwrap();
    let mixed = engine
        .synthesize(&request("他说 hello 世界"))
        .await
        .unwrap();
    assert!(mixed.samples.len() > han.samples.len());
}

#[test]
fn resampled_length_matches_the_ratio() {
    let pool = ResamplerPool::new(ENGINE_RATE, 24_000).unwrap();
    let input: Vec<i16> = (0..10_000).map(|i| ((i % 100) * 100) as i16).collect();
    let out = pool.resample(&input).unwrap();
    let expected = (10_000u64 * 24_000 + 11_025) / 22_050;
    assert!(out.len().abs_diff(expected as usize) <= 3, "{}", out.len());
}

#[tokio::test]
async fn same_text_same_samples_across_engines() {
    let dir = tempfile::tempdir().unwrap();
    let a = LocalEngine::new(dir.path(), &voice("auto", 1.0), 24_000).unwrap();
    let b = LocalEngine::new(dir.path(), &voice("auto", 1.0), 24_000).unwrap();
    let clip_a = a.synthesize(&request(TEN_WORDS)).await.unwrap();
    let clip_b = b.synthesize(&request(TEN_WORDS)).await.unwrap();
    assert_eq!(clip_a, clip_b);
}

#[tokio::test]
async fn double_speed_is_shorter() {
    let dir = tempfile::tempdir().unwrap();
    let normal = LocalEngine::new(dir.path(), &voice("en", 1.0), 24_000).unwrap();
    let fast = LocalEngine::new(dir.path(), &voice("en", 2.0), 24_000).unwrap();
    let n = normal.synthesize(&request(TEN_WORDS)).await.unwrap();
    let f = fast.synthesize(&request(TEN_WORDS)).await.unwrap();
    assert!(
        f.samples.len() * 10 < n.samples.len() * 8,
        "{} vs {}",
        f.samples.len(),
        n.samples.len()
    );
}

#[test]
fn unknown_voice_fails_at_new() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["klingon", "de", "", "en-zz"] {
        let err = LocalEngine::new(dir.path(), &voice(name, 1.0), 24_000)
            .err()
            .unwrap_or_else(|| panic!("{name:?} was accepted"));
        assert_eq!(err.class, ErrorClass::Permanent);
        assert!(
            err.message.contains("unknown local voice"),
            "{}",
            err.message
        );
    }
}

#[test]
fn explicit_bundled_voices_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["en", "en-us", "en-gb", "en_US", "en-gb+f3", "cmn"] {
        LocalEngine::new(dir.path(), &voice(name, 1.0), 22_050)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[tokio::test]
async fn punctuation_only_is_unspeakable() {
    let dir = tempfile::tempdir().unwrap();
    let engine = LocalEngine::new(dir.path(), &voice("auto", 1.0), 24_000).unwrap();
    let err = engine.synthesize(&request("…”")).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Unspeakable);
}

#[test]
fn data_install_is_reused() {
    let dir = tempfile::tempdir().unwrap();
    let first = LocalEngine::new(dir.path(), &voice("auto", 1.0), 24_000).unwrap();
    let phontab = first.data_dir().join("phontab");
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
    fs::File::options()
        .write(true)
        .open(&phontab)
        .unwrap()
        .set_modified(old)
        .unwrap();

    let second = LocalEngine::new(dir.path(), &voice("en", 1.0), 24_000).unwrap();
    assert_eq!(first.data_dir(), second.data_dir());
    assert_eq!(fs::metadata(&phontab).unwrap().modified().unwrap(), old);
    let entries: Vec<_> = fs::read_dir(dir.path().join("espeak-ng-data"))
        .unwrap()
        .collect();
    assert_eq!(entries.len(), 1, "leftover temp folders: {entries:?}");
}

/// An install killed half-way leaves its temp folder (a SIGKILL skips every
/// clean-up); the next start of the engine removes it, and leaves alone the
/// folder of an install still running in a live process.
#[test]
fn a_killed_install_is_removed_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let parent = dir.path().join("espeak-ng-data");
    let target = parent.join(EspeakNg::version());
    // As `install_data` names it: `.VERSION.PID.N.tmp`; no pid is this
    // large on Linux (pid_max is at most 2^22), so its writer is dead.
    let killed = parent.join(format!(".{}.99999999.0.tmp", EspeakNg::version()));
    fs::create_dir_all(killed.join("voices")).unwrap();
    fs::write(killed.join("phontab"), b"half written").unwrap();
    let running = crate::atomic::temp_path_beside(&target);
    fs::create_dir_all(&running).unwrap();

    let engine = LocalEngine::new(dir.path(), &voice("en", 1.0), 24_000).unwrap();
    assert_eq!(engine.data_dir(), target);
    assert!(
        !killed.exists(),
        "the killed install's folder is still there"
    );
    assert!(running.is_dir(), "a live install's folder was removed");
    // Once the data is installed, a later start still sweeps.
    fs::create_dir_all(&killed).unwrap();
    LocalEngine::new(dir.path(), &voice("en", 1.0), 24_000).unwrap();
    assert!(!killed.exists());
}

#[test]
fn fingerprint_changes_with_every_setting() {
    let print = |name: &str, speed: f32, rate: u32| fingerprint(&voice(name, speed), rate);
    let base = print("auto", 1.0, 24_000);
    assert_eq!(base, print("auto", 1.0, 24_000));
    assert_ne!(base, print("auto", 1.5, 24_000));
    assert_ne!(base, print("en", 1.0, 24_000));
    assert_ne!(base, print("auto", 1.0, 44_100));
    let kept = Voice {
        keep_notes: true,
        ..voice("auto", 1.0)
    };
    assert_ne!(base, fingerprint(&kept, 24_000));
    // The patched engine's version and the normalisation rules are in it, so
    // clips from the unpatched engine or older rules are not reused.
    let version = EspeakNg::version();
    assert!(version.contains("+audiobook."), "{version}");
    assert!(
        base.starts_with(&format!(
            "local/v1/espeak-ng-{version}/voice=auto/speed=1.00/"
        )),
        "{base}"
    );
    assert!(
        base.ends_with(&format!("/normalize-v{}/notes=skip", normalize::VERSION)),
        "{base}"
    );
    // One voice, one name: zh and cmn share their clips.
    assert_eq!(print("zh", 1.0, 24_000), print("cmn", 1.0, 24_000));
    assert_eq!(print("zh-CN", 1.0, 24_000), print("cmn", 1.0, 24_000));
}

#[test]
fn script_runs_split_han_from_latin() {
    let runs = script_runs("他说 hello 世界");
    let got: Vec<_> = runs.iter().map(|r| (r.text, r.han)).collect();
    assert_eq!(got, [("他说 ", true), ("hello ", false), ("世界", true)]);
    assert_eq!(
        script_runs("2024年。"),
        [Run {
            text: "2024年。",
            han: true
        }]
    );
    assert_eq!(
        script_runs("…"),
        [Run {
            text: "…",
            han: false
        }]
    );
}

#[test]
fn wpm_follows_speed_within_range() {
    assert_eq!(words_per_minute(1.0), 175);
    assert_eq!(words_per_minute(2.0), 350);
    assert_eq!(words_per_minute(0.25), 80);
    assert_eq!(words_per_minute(f32::NAN), 175);
}
