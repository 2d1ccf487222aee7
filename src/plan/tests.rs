//! The plan's keys: what changes a content key and what does not, and how a
//! dry run counts what is left to synthesize.

use super::*;
use crate::job::Job;

fn job_with(dir: &std::path::Path, voice: &str, manuscript: &str) -> Job {
    std::fs::write(dir.join("book.md"), manuscript).unwrap();
    let path = dir.join("job.toml");
    std::fs::write(
        &path,
        format!(
            "[book]\ntitle = \"T\"\nlanguage = \"mixed\"\n[manuscript]\nfiles = \"book.md\"\n\
             [output]\ndir = \"out\"\n[voice]\n{voice}\n"
        ),
    )
    .unwrap();
    crate::job::load(&path).unwrap()
}

fn plan_of(job: &Job) -> Vec<PlannedChapter> {
    build(job, &crate::manuscript::load(job).unwrap())
}

#[test]
fn content_key_depends_on_every_field_and_is_stable() {
    let v1 = Fingerprint("local/v1".into());
    let v2 = Fingerprint("local/v2".into());
    let key = ContentKey::new(&v1, "Hello.");
    assert_eq!(key, ContentKey::new(&v1, "Hello."));
    assert_ne!(key, ContentKey::new(&v2, "Hello."));
    assert_ne!(key, ContentKey::new(&v1, "Hello!"));
    // The length prefix keeps the field boundary: moving text across it changes the key.
    assert_ne!(
        ContentKey::new(&Fingerprint("ab".into()), "c"),
        ContentKey::new(&Fingerprint("a".into()), "bc")
    );
    assert_eq!(key.len(), 64);
    assert_eq!(
        key.as_str(),
        "670e3522a73636967059f9e68a5229b2545ce98b893b684b94d2ca40dac170aa"
    );
}

/// A segment's key is its voice and its text, not where it stands: a
/// sentence repeated in another chapter shares the clip, and moving text
/// around keys nothing anew.
#[test]
fn plan_keys_follow_text_and_voice_not_position() {
    let dir = tempfile::tempdir().unwrap();
    let text = "# One\n\nThe same line. Another line.\n\n# Two\n\nThe same line.\n";
    let job = job_with(dir.path(), "speed = 1.0", text);
    let chapters = plan_of(&job);
    assert_eq!(chapters.len(), 2);
    let one = &chapters[0].segments;
    let two = &chapters[1].segments;
    let same = |s: &PlannedSegment| s.text.trim() == "The same line.";
    let key_one = &one.iter().find(|s| same(s)).unwrap().content_key;
    let key_two = &two.iter().find(|s| same(s)).unwrap().content_key;
    assert_eq!(key_one, key_two);
    let fingerprint = Fingerprint::of(&job);
    for s in chapters.iter().flat_map(|c| &c.segments) {
        assert_eq!(s.content_key, ContentKey::new(&fingerprint, &s.text));
    }

    // Another speed is another voice: every key changes.
    let faster = job_with(dir.path(), "speed = 1.5", text);
    let again = plan_of(&faster);
    for (a, b) in chapters
        .iter()
        .flat_map(|c| &c.segments)
        .zip(again.iter().flat_map(|c| &c.segments))
    {
        assert_eq!(a.text, b.text);
        assert_ne!(a.content_key, b.content_key);
    }
}

#[test]
fn a_dry_run_counts_each_distinct_missing_clip_once() {
    let dir = tempfile::tempdir().unwrap();
    let job = job_with(
        dir.path(),
        "speed = 1.0",
        "# One\n\nSaid once. Said twice. Said twice.\n\n# Two\n\nSaid twice. New here.\n",
    );
    let chapters = plan_of(&job);
    let segments = || chapters.iter().flat_map(|c| &c.segments);
    let mut all = ToSynthesize::default();
    let mut asked = Vec::new();
    for s in segments() {
        all.add(s, |_| {
            asked.push(s.text.trim().to_string());
            false
        });
    }
    assert_eq!(
        asked,
        [
            "One",
            "Said once.",
            "Said twice.",
            "Said twice.",
            "Two",
            "Said twice.",
            "New here."
        ]
    );
    assert_eq!((all.segments, all.texts), (7, 5));
    assert_eq!(all.characters, "OneSaid once.Said twice.TwoNew here.".len());
    let cached = chapters[0].segments[1].content_key.clone();
    let mut left = ToSynthesize::default();
    for s in segments() {
        left.add(s, |k| *k == cached);
    }
    assert_eq!((left.segments, left.texts), (6, 4));
    assert_eq!(
        left.characters,
        all.characters - "Said once.".len(),
        "the cached text is not counted"
    );
}

/// A key's short digest is the start of its hex read back.
#[test]
fn a_content_key_digest_is_its_hex_decoded() {
    let key = ContentKey::new(&Fingerprint("local/v1".into()), "Hello.");
    let hex: String = key
        .short_digest()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, key.as_str()[..32]);
}

#[test]
fn stitch_keys_change_with_what_the_file_is_made_of() {
    let audio = Audio {
        sample_rate: 24_000,
        sentence_gap_ms: 250,
        paragraph_gap_ms: 700,
        chapter_head_ms: 500,
        chapter_trailing_ms: 2_000,
        trim: crate::job::Trim::default(),
    };
    let fp = Fingerprint("f".into());
    let (a, b) = (ContentKey::new(&fp, "a"), ContentKey::new(&fp, "b"));
    let master = crate::job::Master::default();
    let key = |audio: &Audio, title: &str, slots: &[(&ContentKey, Option<Slot>, bool)]| {
        chapter_stitch_key(audio, &master, 500, title, slots.iter().copied())
    };
    let base = key(
        &audio,
        "T",
        &[
            (&a, Some(Slot::Clip("s1")), false),
            (&b, Some(Slot::Pause), true),
        ],
    );
    assert_eq!(
        base,
        key(
            &audio,
            "T",
            &[
                (&a, Some(Slot::Clip("s1")), false),
                (&b, Some(Slot::Pause), true)
            ]
        )
    );
    let gap = Audio {
        sentence_gap_ms: 300,
        ..audio
    };
    for other in [
        key(
            &gap,
            "T",
            &[
                (&a, Some(Slot::Clip("s1")), false),
                (&b, Some(Slot::Pause), true),
            ],
        ),
        key(
            &audio,
            "Tt",
            &[
                (&a, Some(Slot::Clip("s1")), false),
                (&b, Some(Slot::Pause), true),
            ],
        ),
        key(
            &audio,
            "T",
            &[
                (&a, Some(Slot::Clip("s2")), false),
                (&b, Some(Slot::Pause), true),
            ],
        ),
        key(
            &audio,
            "T",
            &[
                (&a, Some(Slot::Clip("s1")), true),
                (&b, Some(Slot::Pause), true),
            ],
        ),
        key(
            &audio,
            "T",
            &[
                (&b, Some(Slot::Pause), true),
                (&a, Some(Slot::Clip("s1")), false),
            ],
        ),
    ] {
        assert_ne!(base, other);
    }
    // Trimming and mastering change the file, not the clips.
    let slots = [
        (&a, Some(Slot::Clip("s1")), false),
        (&b, Some(Slot::Pause), true),
    ];
    let trimmed = |trim: crate::job::Trim| {
        let audio = Audio { trim, ..audio };
        chapter_stitch_key(&audio, &master, 500, "T", slots.iter().copied())
    };
    let hold = crate::job::Trim {
        hold_ms: 10,
        ..audio.trim
    };
    assert_ne!(base, trimmed(hold));
    let podcast = crate::job::Master::of(crate::job::Profile::Podcast);
    assert_ne!(
        base,
        chapter_stitch_key(&audio, &podcast, 500, "T", slots.iter().copied())
    );
    assert_ne!(
        book_stitch_key(std::slice::from_ref(&base)),
        book_stitch_key(&[base.clone(), base])
    );
}

/// One voice over HTTP or WebSocket is the same audio: the transport is not
/// in the fingerprint, so switching it re-renders nothing. No token is read.
#[test]
fn the_transport_is_not_in_the_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    for provider in [
        "provider = \"coze\"\nvoice = \"7426720361733046281\"\n[voice.coze]\ntoken_env = \"UNSET_TOKEN_VAR\"",
        "provider = \"volcengine\"\nvoice = \"BV001_streaming\"\n[voice.volcengine]\nappid = \"1\"\ntoken_env = \"UNSET_TOKEN_VAR\"",
    ] {
        let [http, ws] = ["http", "websocket"].map(|transport| {
            let voice = format!("transport = \"{transport}\"\n{provider}");
            Fingerprint::of(&job_with(dir.path(), &voice, "Text."))
        });
        assert_eq!(http, ws, "{provider}");
        assert!(!http.as_str().is_empty());
    }
}

/// The plan streams: a chapter is announced just before its first
/// segment, and one with nothing to say never (chapter numbers are the
/// plan's); the characters the pause rule left out and the lexicon entries
/// that matched are counted on the way, as splitting each chapter finds.
#[test]
fn the_plan_streams_its_chapters_and_counts_on_the_way() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("book.md"),
        "# One\n\nMr. Darcy spoke. Then ........ he left.\n\n# ?!\n\n!!!!!!!!\n\n\
         # Three\n\nThe end, ........ at last.\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("names.csv"),
        "text,say_as\nDarcy,Dar-see\nWickham,Wick-um\n",
    )
    .unwrap();
    let path = dir.path().join("job.toml");
    std::fs::write(
        &path,
        "[book]\ntitle = \"T\"\nlanguage = \"en\"\n[manuscript]\nfiles = \"book.md\"\n\
         lexicon = [\"names.csv\"]\n[output]\ndir = \"out\"\n",
    )
    .unwrap();
    let job = crate::job::load(&path).unwrap();
    let manuscript = crate::manuscript::load(&job).unwrap();
    let plan = Plan::new(&job, &manuscript);
    let mut items = plan.items();
    let mut announced = Vec::new();
    let mut first_after_announcement = Vec::new();
    let mut just_announced = false;
    for item in items.by_ref() {
        match item {
            Item::Chapter(title) => {
                announced.push(title.to_string());
                just_announced = true;
            }
            Item::Segment(s) => {
                if just_announced {
                    first_after_announcement.push(s.text);
                }
                just_announced = false;
            }
        }
    }
    let titles: Vec<&str> = manuscript
        .chapters
        .iter()
        .map(|c| c.title.as_str())
        .collect();
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert_eq!(announced, ["One", "Three"]);
    assert_eq!(first_after_announcement, ["One", "Three"]);

    let lexicon = &job.manuscript.lexicon;
    let paused: u64 = manuscript
        .chapters
        .iter()
        .map(|c| split_chapter_counted(c, Lang::En, job.manuscript.limits, lexicon).1)
        .sum();
    assert!(paused >= 16, "{paused}");
    assert_eq!(items.paused(), paused);
    let unused: Vec<&str> = items
        .unused_entries()
        .iter()
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(unused, ["Wickham"]);
    assert_eq!(
        build(&job, &manuscript).len(),
        2,
        "the whole plan in memory has the same chapters"
    );
}

/// The digest of a plan's inputs is equal for equal inputs (read again
/// from the same files) and differs when anything the plan is made from
/// changes: the text, the voice, the language.
#[test]
fn the_inputs_digest_follows_everything_a_plan_is_made_from() {
    let dir = tempfile::tempdir().unwrap();
    let digest = |job: &Job| {
        let manuscript = crate::manuscript::load(job).unwrap();
        Plan::new(job, &manuscript).inputs_digest().unwrap()
    };
    let voice = "speed = 1.0";
    let text = "# One\n\nA first sentence. A second one.\n";
    let first = digest(&job_with(dir.path(), voice, text));
    assert_eq!(first.len(), 64);
    assert_eq!(digest(&job_with(dir.path(), voice, text)), first);
    let edited = digest(&job_with(
        dir.path(),
        voice,
        &text.replace("second", "Second"),
    ));
    assert_ne!(edited, first);
    let faster = digest(&job_with(dir.path(), "speed = 1.5", text));
    assert_ne!(faster, first);
    let mut english = job_with(dir.path(), voice, text);
    english.book.language = crate::job::Language::En;
    assert_ne!(digest(&english), first);
}
