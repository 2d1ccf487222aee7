//! The subtitle files read back by strict parsers written here from the
//! formats' definitions, not by the code that wrote them: SubRip (the
//! de facto format: numbered blocks, `hh:mm:ss,mmm --> hh:mm:ss,mmm`, text,
//! a blank line), WebVTT (W3C "WebVTT: The Web Video Text Tracks Format":
//! the `WEBVTT` header, cue timings, cue text with its escapes, tags and
//! timestamp tags, and the rule that a timestamp inside a cue lies after
//! the cue's start and every earlier timestamp and before its end) and LRC
//! (ID tags, `[mm:ss.xx]` line times, enhanced-LRC `<mm:ss.xx>` word
//! times). Each file must have one cue per spoken segment at the manifest's
//! speech start and end: within 1 ms in SubRip and WebVTT (millisecond
//! clocks), within half a centisecond plus the millisecond rounding in LRC.

use regex::Regex;

use crate::deliver::deliver_everything;
use crate::util::Workspace;

/// A cue as a parser read it: times in ms, the text with markup removed,
/// and the word times the cue carried (the time and the text after it).
#[derive(Debug)]
pub struct Cue {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    pub words: Vec<(u64, String)>,
}

fn ms(h: &str, m: &str, s: &str, frac_ms: u64) -> u64 {
    let n = |x: &str| x.parse::<u64>().unwrap();
    (n(h) * 3600 + n(m) * 60 + n(s)) * 1000 + frac_ms
}

/// SubRip: blocks numbered from 1, a timing line, at least one line of
/// text, each block ended by a blank line.
pub fn parse_srt(file: &str) -> Vec<Cue> {
    let time = Regex::new(r"^(\d{2,}):([0-5]\d):([0-5]\d),(\d{3})$").unwrap();
    let at = |t: &str| {
        let c = time.captures(t).unwrap_or_else(|| panic!("SRT time {t:?}"));
        ms(&c[1], &c[2], &c[3], c[4].parse().unwrap())
    };
    assert!(!file.contains('\r'), "line ends are LF");
    let body = file
        .strip_suffix("\n\n")
        .unwrap_or_else(|| panic!("the last block ends with a blank line: {file:?}"));
    let mut cues = Vec::new();
    for (i, block) in body.split("\n\n").enumerate() {
        let lines: Vec<&str> = block.split('\n').collect();
        assert!(lines.len() >= 3, "block {}: {block:?}", i + 1);
        assert_eq!(lines[0], (i + 1).to_string(), "block number");
        let (start, end) = lines[1]
            .split_once(" --> ")
            .unwrap_or_else(|| panic!("timing line {:?}", lines[1]));
        let text = &lines[2..];
        assert!(text.iter().all(|l| !l.trim().is_empty()), "{block:?}");
        cues.push(Cue {
            start_ms: at(start),
            end_ms: at(end),
            text: text.join(" "),
            words: Vec::new(),
        });
    }
    cues
}

/// A WebVTT timestamp: hours optional (at least two digits when given).
fn vtt_time(t: &str) -> Option<u64> {
    let re = Regex::new(r"^(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})$").unwrap();
    let c = re.captures(t)?;
    Some(ms(
        c.get(1).map_or("0", |h| h.as_str()),
        &c[2],
        &c[3],
        c[4].parse().unwrap(),
    ))
}

/// WebVTT: the signature line, header lines to the first blank line, then
/// cue blocks (an optional identifier, the timings, the payload).
pub fn parse_vtt(file: &str) -> Vec<Cue> {
    assert!(!file.contains('\r'), "line ends are LF");
    let file = file.strip_prefix('\u{feff}').unwrap_or(file);
    let mut blocks = file.split("\n\n").filter(|b| !b.is_empty());
    let header = blocks.next().expect("a WEBVTT line");
    let first = header.split('\n').next().unwrap();
    assert!(
        first == "WEBVTT" || first.starts_with("WEBVTT ") || first.starts_with("WEBVTT\t"),
        "signature {first:?}"
    );
    assert!(!header.contains("-->"), "no cue in the header");
    let timing = Regex::new(r"^(\S+)[ \t]+-->[ \t]+(\S+)(?:[ \t]+.*)?$").unwrap();
    let mut cues = Vec::new();
    for block in blocks {
        let block = block.trim_start_matches('\n');
        let mut lines = block.split('\n');
        let mut line = lines.next().unwrap();
        if line.starts_with("NOTE") || line.starts_with("STYLE") || line.starts_with("REGION") {
            continue;
        }
        if !line.contains("-->") {
            line = lines
                .next()
                .unwrap_or_else(|| panic!("a cue id alone: {block:?}"));
        }
        let c = timing
            .captures(line)
            .unwrap_or_else(|| panic!("timing line {line:?}"));
        let start = vtt_time(&c[1]).unwrap_or_else(|| panic!("time {:?}", &c[1]));
        let end = vtt_time(&c[2]).unwrap_or_else(|| panic!("time {:?}", &c[2]));
        assert!(start < end, "{line}: the end is after the start");
        let payload: Vec<&str> = lines.collect();
        assert!(!payload.is_empty(), "{block:?}: no text");
        assert!(payload.iter().all(|l| !l.contains("-->")), "{block:?}");
        let (text, words) = vtt_cue_text(&payload.join("\n"), start, end);
        cues.push(Cue {
            start_ms: start,
            end_ms: end,
            text,
            words,
        });
    }
    cues
}

/// Cue text: character references and tags, timestamp tags among them.
/// Returns the plain text and each timestamp with the text that follows it
/// up to the next one.
fn vtt_cue_text(payload: &str, start: u64, end: u64) -> (String, Vec<(u64, String)>) {
    let tag = Regex::new(r"^/?(c|i|b|u|v|ruby|rt|lang)(\.[^\s.>]+)*([ \t][^>]*)?$").unwrap();
    let mut chunks: Vec<(u64, String)> = vec![(start, String::new())];
    // Each timestamp starts a stretch: the words spoken from then on.
    let mut rest = payload;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let close = rest
                    .find('>')
                    .unwrap_or_else(|| panic!("unclosed tag in {payload:?}"));
                let inner = &rest[1..close];
                if let Some(t) = vtt_time(inner) {
                    let previous = chunks.last().unwrap().0;
                    assert!(
                        t > previous && t > start && t < end,
                        "timestamp {inner} in {payload:?}: not after {previous} and before {end}"
                    );
                    chunks.push((t, String::new()));
                } else {
                    assert!(tag.is_match(inner), "tag <{inner}> in {payload:?}");
                }
                rest = &rest[close + 1..];
            }
            '&' => {
                let semi = rest
                    .find(';')
                    .unwrap_or_else(|| panic!("bare & in {payload:?}"));
                let decoded = match &rest[1..semi] {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "nbsp" => '\u{a0}',
                    "lrm" => '\u{200e}',
                    "rlm" => '\u{200f}',
                    other => panic!("character reference &{other}; in {payload:?}"),
                };
                chunks.last_mut().unwrap().1.push(decoded);
                rest = &rest[semi + 1..];
            }
            c => {
                chunks.last_mut().unwrap().1.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    let text = one_line(&chunks.iter().map(|(_, t)| t.as_str()).collect::<String>());
    (text, chunks.split_off(1))
}

/// An LRC time: minutes (two digits or more), seconds, hundredths; in ms.
fn lrc_time(t: &str) -> Option<u64> {
    let re = Regex::new(r"^(\d{2,}):([0-5]\d)\.(\d{2})$").unwrap();
    let c = re.captures(t)?;
    Some(ms("0", &c[1], &c[2], c[3].parse::<u64>().unwrap() * 10))
}

/// LRC: ID tags, then lines of `[mm:ss.xx]` and text, in time order; a cue
/// is a line of text and the empty line that clears it.
pub fn parse_lrc(file: &str) -> (Vec<(String, String)>, Vec<Cue>) {
    assert!(!file.contains('\r'), "line ends are LF");
    let id_tag = Regex::new(r"^\[(ti|ar|al|au|by|re|ve|length|offset):([^\]]*)\]$").unwrap();
    let timed = Regex::new(r"^\[([^\]]+)\](.*)$").unwrap();
    let word = Regex::new(r"<([^>]+)>([^<]*)").unwrap();
    let mut ids = Vec::new();
    let mut lines: Vec<(u64, String)> = Vec::new();
    for line in file.lines() {
        if let Some(c) = id_tag.captures(line) {
            assert!(lines.is_empty(), "ID tag {line:?} after the lyrics");
            ids.push((c[1].to_string(), c[2].to_string()));
            continue;
        }
        let c = timed
            .captures(line)
            .unwrap_or_else(|| panic!("LRC line {line:?}"));
        let at = lrc_time(&c[1]).unwrap_or_else(|| panic!("LRC time in {line:?}"));
        if let Some((previous, _)) = lines.last() {
            assert!(at >= *previous, "{line:?} goes back in time");
        }
        lines.push((at, c[2].to_string()));
    }
    assert!(lines.len().is_multiple_of(2), "every text line is cleared");
    let cues = lines
        .chunks(2)
        .map(|pair| {
            let ((start, text), (end, clear)) = (&pair[0], &pair[1]);
            assert!(!text.is_empty() && clear.is_empty(), "{pair:?}");
            // Enhanced LRC: text up to the first word time, then word times
            // each followed by the words spoken from then on.
            let first = text.find('<').unwrap_or(text.len());
            let words: Vec<(u64, String)> = word
                .captures_iter(&text[first..])
                .map(|c| {
                    let t = lrc_time(&c[1]).unwrap_or_else(|| panic!("word time in {text:?}"));
                    (t, c[2].to_string())
                })
                .collect();
            let mut previous = *start;
            for (t, _) in &words {
                assert!(
                    *t >= previous && t <= end,
                    "{text:?}: word times out of order"
                );
                previous = *t;
            }
            let plain: String = std::iter::once(&text[..first])
                .chain(words.iter().map(|(_, w)| w.as_str()))
                .collect();
            Cue {
                start_ms: *start,
                end_ms: *end,
                text: one_line(&plain),
                words,
            }
        })
        .collect();
    (ids, cues)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A spoken segment as the manifest places it in a delivered file.
#[derive(Debug)]
pub struct Spoken {
    pub start_ms: f64,
    pub end_ms: f64,
    pub text: String,
    pub words: Vec<(f64, String)>,
}

/// The spoken segments of `chapters`, each laid from `offset` secs.
pub fn spoken<'a>(chapters: impl IntoIterator<Item = (&'a serde_json::Value, f64)>) -> Vec<Spoken> {
    let mut all = Vec::new();
    for (chapter, offset) in chapters {
        for s in chapter["segments"].as_array().unwrap() {
            if s.get("pause").and_then(|p| p.as_bool()) == Some(true) {
                continue;
            }
            let at = |v: &serde_json::Value| (offset + v.as_f64().unwrap()) * 1000.0;
            all.push(Spoken {
                start_ms: at(&s["start_secs"]),
                end_ms: at(&s["end_secs"]),
                text: one_line(s["text"].as_str().unwrap()),
                words: s
                    .get("words")
                    .and_then(|w| w.as_array())
                    .map(|w| {
                        w.iter()
                            .map(|w| (at(&w["start_secs"]), w["word"].as_str().unwrap().into()))
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
    }
    all
}

/// Cues against segments: one each, the segment's text, times within
/// `tolerance` ms. Where the manifest has word times and the format carries
/// them (`timed`), the cue's timestamps stand before the manifest's words,
/// in order, at their times: every word has one, except that WebVTT gives
/// none to a word spoken at the cue's very start.
pub fn assert_cues(what: &str, cues: &[Cue], spoken: &[Spoken], tolerance: f64, timed: bool) {
    assert_eq!(cues.len(), spoken.len(), "{what}: one cue per segment");
    for (cue, s) in cues.iter().zip(spoken) {
        let near = |got: u64, want: f64| (got as f64 - want).abs() <= tolerance;
        assert!(
            near(cue.start_ms, s.start_ms) && near(cue.end_ms, s.end_ms),
            "{what}: {:?} at {}..{} ms, the manifest says {:.3}..{:.3}",
            s.text,
            cue.start_ms,
            cue.end_ms,
            s.start_ms,
            s.end_ms
        );
        assert_eq!(cue.text, s.text, "{what}");
        if !timed || s.words.is_empty() {
            assert!(cue.words.is_empty(), "{what}: word times for {:?}", s.text);
            continue;
        }
        let mut next = 0;
        for (at, stretch) in &cue.words {
            let found = (next..s.words.len())
                .find(|&j| stretch.starts_with(s.words[j].1.as_str()) && near(*at, s.words[j].0))
                .unwrap_or_else(|| {
                    panic!(
                        "{what}: <{at}>{stretch:?} is no word of {:?} at its time",
                        s.words
                    )
                });
            next = found + 1;
        }
        assert!(
            cue.words.len() + 1 >= s.words.len(),
            "{what}: {} word times for {} words in {:?}",
            cue.words.len(),
            s.words.len(),
            s.text
        );
    }
}

/// LRC's clock is in hundredths: the writer rounds the millisecond time
/// (itself within 0.5 ms) to the nearest hundredth (within 5 ms).
pub const LRC_TOLERANCE_MS: f64 = 5.5;
/// SubRip and WebVTT are written to the millisecond.
pub const MS_TOLERANCE: f64 = 1.0;

/// Every subtitle file beside `stem` (a path without extension), against
/// `spoken`; returns the LRC's ID tags.
pub fn check_subtitles(stem: &std::path::Path, spoken: &[Spoken]) -> Vec<(String, String)> {
    let read = |ext: &str| {
        let path = stem.with_extension(ext);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let what = |ext: &str| format!("{}.{ext}", stem.display());
    let srt = parse_srt(&read("srt"));
    assert_cues(&what("srt"), &srt, spoken, MS_TOLERANCE, false);
    let vtt = parse_vtt(&read("vtt"));
    assert_cues(&what("vtt"), &vtt, spoken, MS_TOLERANCE, true);
    let (ids, lrc) = parse_lrc(&read("lrc"));
    assert_cues(&what("lrc"), &lrc, spoken, LRC_TOLERANCE_MS, true);
    ids
}

fn ids(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn subtitles_and_proof_sheet_have_the_manifests_times() {
    let ws = Workspace::new();
    deliver_everything(&ws);
    let manifest = ws.manifest();
    let chapters = manifest["chapters"].as_array().unwrap();
    let stem = |f: &serde_json::Value| ws.out().join(f.as_str().unwrap().trim_end_matches(".mp3"));
    for chapter in chapters {
        let title = chapter["title"].as_str().unwrap();
        let header = check_subtitles(&stem(&chapter["files"][0]), &spoken([(chapter, 0.0)]));
        assert_eq!(
            header,
            ids(&[
                ("ti", title),
                ("ar", "Ann Author"),
                ("al", "Test Book"),
                ("by", "audiobook")
            ])
        );
    }
    let book = spoken(
        chapters
            .iter()
            .map(|c| (c, c["book_start_secs"].as_f64().unwrap())),
    );
    let header = check_subtitles(&stem(&manifest["book_files"][0]), &book);
    assert_eq!(header[0], ("ti".into(), "Test Book".into()));

    // The proof sheet: a row per segment, its start in the chapter file.
    let mut reader = csv::Reader::from_path(ws.out().join("proof.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let all: Vec<(&serde_json::Value, &serde_json::Value)> = chapters
        .iter()
        .flat_map(|c| {
            c["segments"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |s| (c, s))
        })
        .collect();
    assert_eq!(rows.len(), all.len());
    for (row, (chapter, segment)) in rows.iter().zip(&all) {
        assert_eq!(&row[1], chapter["files"][0].as_str().unwrap());
        assert_eq!(&row[4], segment["text"].as_str().unwrap());
        assert_eq!(&row[6], "done");
        let p: Vec<f64> = row[3].split(':').map(|x| x.parse().unwrap()).collect();
        let start = p[0] * 3600.0 + p[1] * 60.0 + p[2];
        assert!((start - segment["start_secs"].as_f64().unwrap()).abs() <= 0.001);
    }
}

/// The parsers refuse what the formats do not allow, so a wrong file
/// cannot pass the tests above.
#[test]
fn the_subtitle_parsers_are_strict() {
    let bad_srt = [
        "1\n00:00:01,000 --> 00:00:02,000\nA\n", // no closing blank line
        "2\n00:00:01,000 --> 00:00:02,000\nA\n\n", // numbered from 2
        "1\n00:00:01.000 --> 00:00:02,000\nA\n\n", // a VTT time
        "1\n00:00:61,000 --> 00:01:02,000\nA\n\n", // 61 seconds
        "1\n00:00:01,000 --> 00:00:02,000\n\n\n", // no text
    ];
    for file in bad_srt {
        assert!(
            std::panic::catch_unwind(|| parse_srt(file)).is_err(),
            "{file:?}"
        );
    }
    let bad_vtt = [
        "WEBVTTX\n\n00:01.000 --> 00:02.000\nA\n",
        "WEBVTT\n\n00:01,000 --> 00:02.000\nA\n",
        "WEBVTT\n\n00:01.000 --> 00:02.000\nA & B\n",
        "WEBVTT\n\n00:01.000 --> 00:02.000\nA <00:01.000>B\n", // not after the start
        "WEBVTT\n\n00:01.000 --> 00:02.000\nA <00:02.500>B\n", // after the end
        "WEBVTT\n\n00:01.000 --> 00:02.000\nA <x>B\n",
        "WEBVTT\n\n00:02.000 --> 00:01.000\nA\n",
    ];
    for file in bad_vtt {
        assert!(
            std::panic::catch_unwind(|| parse_vtt(file)).is_err(),
            "{file:?}"
        );
    }
    let good = parse_vtt("WEBVTT\n\n1\n00:01.000 --> 01:00:02.000\na <00:01.500>&lt;b&gt;\n\n");
    assert_eq!(good[0].text, "a <b>");
    assert_eq!(good[0].words, vec![(1500, "<b>".into())]);
    let bad_lrc = [
        "[00:01.00]A\n",             // never cleared
        "[00:02.00]A\n[00:01.00]\n", // back in time
        "[00:01.0]A\n[00:02.00]\n",  // one digit of hundredths
        "[00:01.00]A\n[00:02.00]\n[ti:T]\n",
        "[00:01.00]<00:01.50>A <00:01.20>B\n[00:02.00]\n", // a word goes back
    ];
    for file in bad_lrc {
        assert!(
            std::panic::catch_unwind(|| parse_lrc(file)).is_err(),
            "{file:?}"
        );
    }
    let (_, cues) = parse_lrc("[ti:T]\n[100:01.50]<100:01.50>a <100:01.90>b\n[100:02.00]\n");
    assert_eq!((cues[0].start_ms, cues[0].end_ms), (6_001_500, 6_002_000));
    assert_eq!(cues[0].text, "a b");
    assert_eq!(
        cues[0].words,
        vec![(6_001_500, "a ".into()), (6_001_900, "b".into())]
    );
}
