//! Stitching through the real cache: the stream plays the layout exactly,
//! chapter and book files hold exactly its samples, and bad clips are errors
//! naming the file.

use super::*;
use crate::job::Trim;
use crate::provider::Clip;

const RATE: u32 = 24_000;

fn audio() -> Audio {
    Audio {
        sample_rate: RATE,
        sentence_gap_ms: 250,
        paragraph_gap_ms: 700,
        chapter_head_ms: 500,
        chapter_trailing_ms: 1_000,
        trim: Trim::default(),
    }
}

/// `lead` zeros, `len` samples of `value`, `tail` zeros, stored in the cache.
fn clip(cache: &Cache, key: &str, lead: usize, value: i16, len: usize, tail: usize) -> StitchItem {
    let mut samples = vec![0; lead];
    samples.extend(vec![value; len]);
    samples.extend(vec![0; tail]);
    cache.put(key, &Clip::new(RATE, samples)).unwrap();
    StitchItem {
        source: StitchSource::Clip(key.into()),
        ends_paragraph: false,
    }
}

fn play(cache: &Cache, items: &[StitchItem], layout: &Layout) -> Vec<i16> {
    let mut stream = ChapterStream::new(cache, items, layout, RATE);
    let mut all = Vec::new();
    let mut block = vec![0i16; 1_000];
    loop {
        let n = stream.read(&mut block).unwrap();
        if n == 0 {
            break;
        }
        all.extend_from_slice(&block[..n]);
    }
    all
}

#[test]
fn trimmed_clips_land_with_exact_pauses() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let mut items = vec![
        clip(&cache, "aa01", 3_000, 1_000, 1_234, 5_000),
        clip(&cache, "bb02", 100, -2_000, 777, 9_000),
        StitchItem {
            source: StitchSource::Silence { ms: 300 },
            ends_paragraph: false,
        },
        clip(&cache, "cc03", 0, 3_000, 4_321, 0),
    ];
    items[1].ends_paragraph = true;
    let edges = measure_edges(&cache, &audio(), &items).unwrap();
    assert_eq!(edges[0].speech, Some(3_000..4_234));
    let layout = lay_out(&audio(), &items, &edges);
    let samples = play(&cache, &items, &layout);
    assert_eq!(samples.len() as u64, layout.audio.samples);
    let (head, sentence, paragraph, tail) = (12_000, 6_000, 16_800, 24_000);
    let p = &layout.audio.placed;
    assert_eq!((p[0].start, p[0].end), (head, head + 1_234));
    assert_eq!(p[1].start, p[0].end + sentence);
    assert_eq!(p[2].start, p[1].end + paragraph);
    assert_eq!(p[2].end - p[2].start, 7_200);
    assert_eq!(p[3].start, p[2].end + sentence);
    assert_eq!(layout.audio.samples, p[3].end + tail);
    for (placed, value) in [(p[0], 1_000), (p[1], -2_000), (p[3], 3_000)] {
        let region = &samples[placed.start as usize..placed.end as usize];
        assert!(region.iter().all(|&s| s == value));
    }
    let nonzero = samples.iter().filter(|&&s| s != 0).count();
    assert_eq!(nonzero, 1_234 + 777 + 4_321);
}

#[test]
fn clip_at_another_rate_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    cache.put("bb02", &Clip::new(22_050, vec![5; 100])).unwrap();
    let items = [StitchItem {
        source: StitchSource::Clip("bb02".into()),
        ends_paragraph: false,
    }];
    let err = measure_edges(&cache, &audio(), &items).unwrap_err();
    assert!(matches!(err, AudioError::WrongFormat { .. }), "{err}");
    assert!(err.to_string().contains("bb02.flac"), "{err}");
}

#[test]
fn missing_or_garbage_clip_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let garbage = cache.clip_path("ff01");
    std::fs::create_dir_all(garbage.parent().unwrap()).unwrap();
    std::fs::write(&garbage, b"not a wav file at all").unwrap();
    for key in ["ee00", "ff01"] {
        let items = [StitchItem {
            source: StitchSource::Clip(key.into()),
            ends_paragraph: false,
        }];
        let err = measure_edges(&cache, &audio(), &items).unwrap_err();
        assert!(err.to_string().contains(&format!("{key}.flac")), "{err}");
    }
}
