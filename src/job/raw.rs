//! The job file exactly as written: serde structs that only parse. Every value
//! a semantic check may reject is `Spanned`, so the error can point at it, and
//! numbers are `i64` so an out-of-range value gets our range message instead
//! of serde's "expected u32". Every table denies unknown keys: a typo must be
//! an error, never a silently ignored key.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJob {
    pub book: Option<Spanned<RawBook>>,
    pub manuscript: Option<Spanned<RawManuscript>>,
    pub voice: Option<RawVoice>,
    pub audio: Option<RawAudio>,
    pub master: Option<RawMaster>,
    pub render: Option<RawRender>,
    pub output: Option<Spanned<RawOutput>>,
    pub notify: Option<RawNotify>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBook {
    pub title: Option<Spanned<String>>,
    pub author: Option<Spanned<String>>,
    pub language: Option<Spanned<String>>,
    pub narrator: Option<Spanned<String>>,
    pub publisher: Option<Spanned<String>>,
    pub year: Option<Spanned<i64>>,
    pub description: Option<Spanned<String>>,
    pub isbn: Option<Spanned<String>>,
    pub series: Option<Spanned<String>>,
    pub cover: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawManuscript {
    pub files: Option<Spanned<FileList>>,
    pub chapters: Option<Spanned<String>>,
    pub chapter_pattern: Option<Spanned<String>>,
    pub encoding: Option<Spanned<String>>,
    pub max_chars: Option<Spanned<i64>>,
    pub max_bytes: Option<Spanned<i64>>,
    pub skip_brackets: Option<bool>,
    pub front_matter: Option<Spanned<String>>,
    pub tables: Option<Spanned<String>>,
    pub lexicon: Option<Spanned<FileList>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVoice {
    pub provider: Option<Spanned<String>>,
    pub voice: Option<Spanned<String>>,
    /// `f64` accepts an integer too, so `speed = 1` means 1.0.
    pub speed: Option<Spanned<f64>>,
    pub pitch: Option<Spanned<i64>>,
    pub keep_notes: Option<Spanned<bool>>,
    pub transport: Option<Spanned<String>>,
    pub coze: Option<Spanned<RawCoze>>,
    pub volcengine: Option<Spanned<RawVolcengine>>,
}

/// `[voice.coze]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCoze {
    pub base_url: Option<Spanned<String>>,
    pub response_format: Option<Spanned<String>>,
    pub ws_url: Option<Spanned<String>>,
    pub token_env: Option<Spanned<String>>,
    pub emotion: Option<Spanned<String>>,
    pub emotion_scale: Option<Spanned<f64>>,
    pub loudness_rate: Option<Spanned<i64>>,
    pub context_texts: Option<Spanned<String>>,
    pub timeout_secs: Option<Spanned<i64>>,
}

/// `[voice.volcengine]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVolcengine {
    pub base_url: Option<Spanned<String>>,
    pub encoding: Option<Spanned<String>>,
    pub ws_url: Option<Spanned<String>>,
    pub appid: Option<Spanned<String>>,
    pub cluster: Option<Spanned<String>>,
    pub uid: Option<Spanned<String>>,
    pub token_env: Option<Spanned<String>>,
    pub emotion: Option<Spanned<String>>,
    pub enable_emotion: Option<Spanned<bool>>,
    pub emotion_scale: Option<Spanned<f64>>,
    pub explicit_language: Option<Spanned<String>>,
    pub context_language: Option<Spanned<String>>,
    pub loudness_ratio: Option<Spanned<f64>>,
    pub text_type: Option<Spanned<String>>,
    pub silence_duration: Option<Spanned<i64>>,
    pub with_timestamp: Option<Spanned<bool>>,
    pub extra_param: Option<Spanned<toml::Table>>,
    pub timeout_secs: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAudio {
    pub sample_rate: Option<Spanned<i64>>,
    pub sentence_gap_ms: Option<Spanned<i64>>,
    pub paragraph_gap_ms: Option<Spanned<i64>>,
    pub chapter_head_ms: Option<Spanned<i64>>,
    pub chapter_trailing_ms: Option<Spanned<i64>>,
    pub trim: Option<bool>,
    pub trim_threshold_db: Option<Spanned<i64>>,
    pub trim_hold_ms: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMaster {
    pub profile: Option<Spanned<String>>,
    /// `f64` accepts an integer too, so `target_lufs = -23` works.
    pub target_lufs: Option<Spanned<f64>>,
    pub target_rms_db: Option<Spanned<f64>>,
    pub ceiling_db: Option<Spanned<f64>>,
    pub room_tone_db: Option<Spanned<f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRender {
    pub concurrency: Option<Spanned<i64>>,
    pub max_attempts: Option<Spanned<i64>>,
    pub max_characters_per_run: Option<Spanned<i64>>,
    pub price_per_million_characters: Option<Spanned<f64>>,
    pub currency: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOutput {
    pub dir: Option<Spanned<String>>,
    pub formats: Option<Spanned<Vec<Spanned<String>>>>,
    pub split: Option<Spanned<String>>,
    pub subtitles: Option<Spanned<Vec<Spanned<String>>>>,
    pub mp3_bitrate: Option<Spanned<i64>>,
    pub m4b_bitrate: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotify {
    pub command: Option<Spanned<String>>,
    pub timeout_secs: Option<Spanned<i64>>,
}

/// `files = "book.md"` or `files = ["a.md", "b.md"]`. A hand-written visitor
/// rather than `#[serde(untagged)]`, whose "did not match any variant" error
/// would hide what was expected.
#[derive(Debug)]
pub(super) enum FileList {
    /// The span is the outer `Spanned`'s.
    One(String),
    Many(Vec<Spanned<String>>),
}

impl FileList {
    /// Every entry with the span an error about it should point at.
    pub fn entries(list: Spanned<FileList>) -> Vec<Spanned<String>> {
        let span = list.span();
        match list.into_inner() {
            FileList::One(entry) => vec![Spanned::new(span, entry)],
            FileList::Many(entries) => entries,
        }
    }
}

impl<'de> Deserialize<'de> for FileList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FileListVisitor)
    }
}

struct FileListVisitor;

impl<'de> Visitor<'de> for FileListVisitor {
    type Value = FileList;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a path string or an array of path strings")
    }

    fn visit_str<E: de::Error>(self, entry: &str) -> Result<FileList, E> {
        Ok(FileList::One(entry.to_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FileList, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = seq.next_element::<Spanned<String>>()? {
            entries.push(entry);
        }
        Ok(FileList::Many(entries))
    }
}

/// Every key of every table with an example value, for hints: what to add
/// when a key is missing, what to write when a value has the wrong type, and
/// where a key belongs when it sits in the wrong table.
pub(super) const SCHEMA: &[(&str, &str, &str)] = &[
    ("book", "title", "\"Pride and Prejudice\""),
    ("book", "author", "\"Jane Austen\""),
    ("book", "language", "\"en\""),
    ("book", "narrator", "\"Rosamund Pike\""),
    ("book", "publisher", "\"Penguin Classics\""),
    ("book", "year", "1813"),
    ("book", "description", "\"A novel of manners.\""),
    ("book", "isbn", "\"9780141439518\""),
    ("book", "series", "\"Austen's Novels\""),
    ("book", "cover", "\"cover.jpg\""),
    ("manuscript", "files", "[\"book.md\"]"),
    ("manuscript", "chapters", "\"headings\""),
    ("manuscript", "chapter_pattern", "'^Chapter \\d+'"),
    ("manuscript", "encoding", "\"auto\""),
    ("manuscript", "max_chars", "300"),
    ("manuscript", "max_bytes", "1024"),
    ("manuscript", "skip_brackets", "true"),
    ("manuscript", "front_matter", "\"skip\""),
    ("manuscript", "tables", "\"skip\""),
    ("manuscript", "lexicon", "[\"names.csv\"]"),
    ("voice", "provider", "\"local\""),
    ("voice", "voice", "\"auto\""),
    ("voice", "speed", "1.0"),
    ("voice", "pitch", "50"),
    ("voice", "transport", "\"http\""),
    ("voice.coze", "base_url", "\"https://api.coze.cn\""),
    ("voice.coze", "ws_url", "\"wss://ws.coze.cn\""),
    ("voice.coze", "token_env", "\"COZE_API_TOKEN\""),
    ("voice.coze", "emotion", "\"happy\""),
    ("voice.coze", "emotion_scale", "4.0"),
    ("voice.coze", "loudness_rate", "0"),
    ("voice.coze", "context_texts", "\"speak slowly and warmly\""),
    ("voice.coze", "timeout_secs", "60"),
    (
        "voice.volcengine",
        "base_url",
        "\"https://openspeech.bytedance.com\"",
    ),
    (
        "voice.volcengine",
        "ws_url",
        "\"wss://openspeech.bytedance.com\"",
    ),
    ("voice.volcengine", "appid", "\"1234567\""),
    ("voice.volcengine", "cluster", "\"volcano_tts\""),
    ("voice.volcengine", "uid", "\"audiobook\""),
    ("voice.volcengine", "token_env", "\"VOLCENGINE_TOKEN\""),
    ("voice.volcengine", "emotion", "\"happy\""),
    ("voice.volcengine", "enable_emotion", "true"),
    ("voice.volcengine", "emotion_scale", "4.0"),
    ("voice.volcengine", "explicit_language", "\"zh\""),
    ("voice.volcengine", "context_language", "\"id\""),
    ("voice.volcengine", "loudness_ratio", "1.0"),
    ("voice.volcengine", "text_type", "\"plain\""),
    ("voice.volcengine", "silence_duration", "500"),
    ("voice.volcengine", "with_timestamp", "false"),
    (
        "voice.volcengine",
        "extra_param",
        "{ disable_markdown_filter = true }",
    ),
    ("voice.volcengine", "timeout_secs", "60"),
    ("audio", "sample_rate", "24000"),
    ("audio", "sentence_gap_ms", "250"),
    ("audio", "paragraph_gap_ms", "700"),
    ("audio", "chapter_head_ms", "500"),
    ("audio", "chapter_trailing_ms", "2000"),
    ("audio", "trim", "true"),
    ("audio", "trim_threshold_db", "-50"),
    ("audio", "trim_hold_ms", "40"),
    ("master", "profile", "\"acx\""),
    ("master", "target_lufs", "-23"),
    ("master", "target_rms_db", "-20"),
    ("master", "ceiling_db", "-3"),
    ("master", "room_tone_db", "-70"),
    ("render", "concurrency", "4"),
    ("render", "max_attempts", "4"),
    ("output", "dir", "\"out/book\""),
    ("notify", "command", "\"mail -s audiobook me@example.com\""),
    ("notify", "timeout_secs", "60"),
    ("output", "formats", "[\"mp3\"]"),
    ("output", "split", "\"chapter\""),
    ("output", "subtitles", "[\"srt\", \"vtt\", \"lrc\"]"),
    ("output", "mp3_bitrate", "192"),
    ("output", "m4b_bitrate", "64"),
];

/// An example `key = value` line for a known key.
pub(super) fn example(table: &str, key: &str) -> Option<String> {
    SCHEMA
        .iter()
        .find(|(t, k, _)| *t == table && *k == key)
        .map(|(_, k, v)| format!("{k} = {v}"))
}

/// The table a key belongs to, if it is a known key anywhere.
pub(super) fn home_of(key: &str) -> Option<&'static str> {
    SCHEMA
        .iter()
        .find(|(_, k, _)| *k == key)
        .map(|(t, _, _)| *t)
}
