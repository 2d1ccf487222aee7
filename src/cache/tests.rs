//! The clip cache on real files: FLAC written and read back by an
//! independent decoder, old WAV clips still read, checks by stamp and hash.

use super::*;

fn clip() -> Clip {
    Clip::new(
        24_000,
        (0..4_800).map(|i| (i as i16).wrapping_mul(7)).collect(),
    )
}

#[test]
fn put_then_load_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let key = "a1b2c3";
    let stored = cache.put(key, &clip()).unwrap();
    assert_eq!(stored.samples, 4_800);
    assert_eq!(stored.sample_rate, 24_000);
    assert_eq!(cache.load(key).unwrap(), clip());
    assert!(cache.verify(key, &stored.sha256).unwrap());
    assert_eq!(
        cache.clip_path(key),
        dir.path()
            .join("clips")
            .join(&key[..2])
            .join(format!("{key}.flac"))
    );
}

#[test]
fn adopt_accepts_only_complete_clips() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    assert!(cache.adopt("ab02").unwrap().is_none(), "missing file");
    let stored = cache.put("ab02", &clip()).unwrap();
    let adopted = cache
        .adopt("ab02")
        .unwrap()
        .expect("a complete clip is adopted");
    assert_eq!(adopted.sha256, stored.sha256);
    assert_eq!(adopted.samples, 4_800);
    let path = cache.clip_path("ab02");
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
    assert!(
        cache.adopt("ab02").unwrap().is_none(),
        "a truncated clip is not adopted"
    );
}

#[test]
fn sha256_is_of_the_file_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let stored = cache.put("abcd", &clip()).unwrap();
    let bytes = fs::read(cache.clip_path("abcd")).unwrap();
    assert_eq!(stored.sha256, hex_sha256(&bytes));
    let leftovers = fs::read_dir(cache.clip_path("abcd").parent().unwrap())
        .unwrap()
        .count();
    assert_eq!(leftovers, 1, "temp files were left behind");
}

#[test]
fn damaged_or_missing_file_fails_verify() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let stored = cache.put("ab01", &clip()).unwrap();
    let path = cache.clip_path("ab01");
    let mut bytes = fs::read(&path).unwrap();

    bytes[100] ^= 0x01;
    fs::write(&path, &bytes).unwrap();
    assert!(!cache.verify("ab01", &stored.sha256).unwrap());

    bytes[100] ^= 0x01;
    fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    assert!(!cache.verify("ab01", &stored.sha256).unwrap());

    fs::remove_file(&path).unwrap();
    assert!(!cache.verify("ab01", &stored.sha256).unwrap());
}

#[test]
fn load_of_missing_clip_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let err = cache.load("ffee").unwrap_err();
    assert!(err.to_string().contains("ffee.flac"), "{err}");
}

/// A clip as earlier versions stored it: a WAV file, written by hound.
fn write_old_wav(cache: &Cache, key: &str, clip: &Clip) -> PathBuf {
    let path = cache.path_as(key, "wav");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: clip.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&path, spec).unwrap();
    for &s in &clip.samples {
        writer.write_sample(s).unwrap();
    }
    writer.finalize().unwrap();
    path
}

#[test]
fn clips_are_flac_and_old_wav_clips_are_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    cache.put("aa10", &clip()).unwrap();
    let bytes = fs::read(cache.clip_path("aa10")).unwrap();
    assert_eq!(&bytes[..4], b"fLaC");
    assert!(
        (bytes.len() as u64) < 44 + 2 * 4_800,
        "flac is smaller than the wav would be: {} bytes",
        bytes.len()
    );

    let old = write_old_wav(&cache, "bb10", &clip());
    assert_eq!(cache.clip_path("bb10"), old);
    let mut reader = cache.open_clip("bb10").unwrap();
    assert_eq!((reader.sample_rate(), reader.samples()), (24_000, 4_800));
    let mut first = [0i16; 1000];
    assert_eq!(reader.read(&mut first).unwrap(), 1000);
    assert_eq!(&first[..], &clip().samples[..1000]);
    assert_eq!(reader.read_to_end().unwrap(), clip().samples[1000..]);
    let adopted = cache
        .adopt("bb10")
        .unwrap()
        .expect("an old wav clip is adopted");
    assert_eq!(adopted.sha256, hex_sha256(&fs::read(&old).unwrap()));
    // Rendering it again replaces the wav with a flac under the same key.
    cache.put("bb10", &clip()).unwrap();
    assert!(!old.exists());
    assert_eq!(cache.load("bb10").unwrap(), clip());
}

#[test]
fn flac_decodes_to_the_exact_samples_with_an_independent_decoder() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    // A loud, varied signal: silence, full scale both ways, noise.
    let mut rng = fastrand::Rng::with_seed(9);
    let mut samples = vec![0i16; 500];
    samples.extend([i16::MAX, i16::MIN, i16::MAX, i16::MIN]);
    samples.extend((0..30_000).map(|_| rng.i16(..)));
    let loud = Clip::new(16_000, samples.clone());
    cache.put("cc10", &loud).unwrap();
    let mut flac = claxon::FlacReader::open(cache.clip_path("cc10")).unwrap();
    let info = flac.streaminfo();
    assert_eq!(
        (info.channels, info.bits_per_sample, info.sample_rate),
        (1, 16, 16_000)
    );
    let decoded: Vec<i16> = flac.samples().map(|s| s.unwrap() as i16).collect();
    assert_eq!(decoded, samples);
}

/// Clips of every awkward length (a last frame under 16 samples, a clip
/// shorter than one frame) decode exactly with claxon: the
/// stream info must not count the short last frame as the minimum block.
#[test]
fn clips_of_any_length_decode_with_an_independent_decoder() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let mut rng = fastrand::Rng::with_seed(3);
    assert!(cache.put("ee99", &Clip::new(24_000, Vec::new())).is_err());
    for (i, len) in [1usize, 5, 15, 16, 4096, 4097, 4096 + 15, 3 * 4096 + 7]
        .into_iter()
        .enumerate()
    {
        let samples: Vec<i16> = (0..len).map(|_| rng.i16(-2000..2000)).collect();
        let key = format!("ee{i:02}");
        cache
            .put(&key, &Clip::new(24_000, samples.clone()))
            .unwrap();
        let mut flac = claxon::FlacReader::open(cache.clip_path(&key))
            .unwrap_or_else(|e| panic!("{len} samples: {e}"));
        let decoded: Vec<i16> = flac.samples().map(|s| s.unwrap() as i16).collect();
        assert_eq!(decoded, samples, "{len} samples");
        assert_eq!(cache.load(&key).unwrap().samples, samples, "{len} samples");
    }
}

#[test]
fn check_trusts_an_unchanged_stamp_and_hashes_a_changed_file() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let stored = cache.put("dd10", &clip()).unwrap();
    let stamp = stored.stamp.expect("stamped");
    assert_eq!(
        cache.check("dd10", &stored.sha256, Some(stamp)).unwrap(),
        ClipCheck::Unchanged
    );
    // Never stamped (a clip recorded by an earlier version): hashed.
    assert_eq!(
        cache.check("dd10", &stored.sha256, None).unwrap(),
        ClipCheck::Verified(stamp)
    );
    // Rewritten with other bytes: the stamp differs, the hash fails.
    let path = cache.clip_path("dd10");
    let mut bytes = fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    bytes.push(0);
    fs::write(&path, &bytes).unwrap();
    assert_eq!(
        cache.check("dd10", &stored.sha256, Some(stamp)).unwrap(),
        ClipCheck::Corrupt
    );
    fs::remove_file(&path).unwrap();
    assert_eq!(
        cache.check("dd10", &stored.sha256, Some(stamp)).unwrap(),
        ClipCheck::Missing
    );
}

/// Two writers of one key (two books of a `render` that requested the same
/// sentence at once; a cloud voice's answers can differ): the first clip
/// stays, the second writer gets its description, and nothing it may be
/// stitching from changes under it.
#[test]
fn the_first_clip_stored_under_a_key_stays() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let first = cache.put("ff10", &clip()).unwrap();
    let bytes = fs::read(cache.clip_path("ff10")).unwrap();
    let other = Clip::new(24_000, vec![1000; 2_400]);
    let second = cache.put("ff10", &other).unwrap();
    assert_eq!(fs::read(cache.clip_path("ff10")).unwrap(), bytes);
    assert_eq!(second.sha256, first.sha256);
    assert_eq!(second.sha256, hex_sha256(&bytes));
    assert_eq!((second.samples, second.sample_rate), (4_800, 24_000));
    assert_eq!(cache.load("ff10").unwrap(), clip());
    // No temporary file is left beside it.
    let names: Vec<_> = fs::read_dir(cache.clip_path("ff10").parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["ff10.flac"]);
}

/// An unreadable file under the key is replaced, not kept.
#[test]
fn an_unreadable_clip_under_the_key_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    cache.put("fe10", &clip()).unwrap();
    let path = cache.clip_path("fe10");
    fs::write(&path, b"fLaC and then nothing a decoder can use").unwrap();
    let other = Clip::new(24_000, vec![1000; 2_400]);
    let stored = cache.put("fe10", &other).unwrap();
    assert_eq!(stored.sha256, hex_sha256(&fs::read(&path).unwrap()));
    assert_eq!(cache.load("fe10").unwrap(), other);
}
