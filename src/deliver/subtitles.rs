//! Subtitles beside each delivered audio file, one cue per spoken segment
//! at its speech start and end (the manifest's times, so whatever trimming
//! and mastering did is already in them): SubRip (`.srt`), WebVTT (`.vtt`,
//! with a timestamp before each word when the provider gave word timings)
//! and LRC (`.lrc`, what Chinese audio platforms display; enhanced LRC word
//! tags with word timings, and an empty line at each segment's end so the
//! text clears during the pause). A cue's text is always the segment's,
//! punctuation included: word times only place tags inside it.

use crate::job::SubtitleFormat;
use crate::report::ChapterEntry;

/// One segment's text and where it is spoken in the file, in ms.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    /// Where each timed word starts: its time, and its byte offset in
    /// `text` (increasing); empty without word timings.
    pub words: Vec<(u64, usize)>,
}

/// The cues of `chapters` laid end to end from `offset_secs` of each.
pub fn cues<'a>(chapters: impl IntoIterator<Item = (&'a ChapterEntry, f64)>) -> Vec<Cue> {
    let ms = |secs: f64| (secs * 1000.0).round().max(0.0) as u64;
    let mut cues = Vec::new();
    for (chapter, offset) in chapters {
        for s in chapter.segments.iter().filter(|s| !s.pause) {
            let text = one_line(&s.text);
            let words = locate(
                &text,
                s.words
                    .iter()
                    .map(|w| (ms(offset + w.start_secs), &*w.word)),
            );
            cues.push(Cue {
                start_ms: ms(offset + s.start_secs),
                end_ms: ms(offset + s.end_secs),
                text,
                words,
            });
        }
    }
    cues
}

/// Finds each timed word in `text`, in order, each after the one before:
/// a word the provider spelled differently from the text (a number read
/// out) is left without a time rather than shown in the provider's words.
fn locate<'w>(text: &str, words: impl Iterator<Item = (u64, &'w str)>) -> Vec<(u64, usize)> {
    let mut found = Vec::new();
    let mut from = 0;
    for (at, word) in words {
        let word = word.trim();
        if word.is_empty() {
            continue;
        }
        if let Some(i) = text[from..].find(word) {
            found.push((at, from + i));
            from += i + word.len();
        }
    }
    found
}

pub struct Header<'a> {
    pub title: &'a str,
    pub artist: &'a str,
    pub album: &'a str,
}

/// A whole file's text at once (a chapter's, a test's).
pub fn render(format: SubtitleFormat, cues: &[Cue], header: &Header) -> String {
    let mut stream = Stream::new(format);
    let mut out = stream.head(header);
    out.push_str(&stream.cues(cues));
    out
}

/// One file written a chapter at a time: the head, then each chapter's
/// cues as they come, numbered on from the chapter before (a book's
/// subtitles are never held whole).
pub struct Stream {
    format: SubtitleFormat,
    /// Cues written so far.
    written: usize,
}

impl Stream {
    pub fn new(format: SubtitleFormat) -> Self {
        Stream { format, written: 0 }
    }

    pub fn head(&self, header: &Header) -> String {
        match self.format {
            SubtitleFormat::Srt => String::new(),
            SubtitleFormat::Vtt => "WEBVTT\n\n".to_string(),
            SubtitleFormat::Lrc => format!(
                "[ti:{}]\n[ar:{}]\n[al:{}]\n[by:audiobook]\n",
                one_line(header.title),
                one_line(header.artist),
                one_line(header.album)
            ),
        }
    }

    /// The next cues' text.
    pub fn cues(&mut self, cues: &[Cue]) -> String {
        let first = self.written + 1;
        self.written += cues.len();
        match self.format {
            SubtitleFormat::Srt => srt(cues, first),
            SubtitleFormat::Vtt => vtt(cues, first),
            SubtitleFormat::Lrc => lrc(cues),
        }
    }
}

fn srt(cues: &[Cue], first: usize) -> String {
    let mut out = String::new();
    for (i, cue) in cues.iter().enumerate() {
        out.push_str(&format!(
            "{}\n{} --> {}\n{}\n\n",
            first + i,
            clock(cue.start_ms, ','),
            clock(cue.end_ms, ','),
            cue.text
        ));
    }
    out
}

/// The cue's text with `tag(time)` before each timed word that `keep`
/// accepts (given the time of the last tag written), each stretch of text
/// passed through `escape`.
fn with_word_tags(
    cue: &Cue,
    mut keep: impl FnMut(u64) -> bool,
    tag: impl Fn(u64) -> String,
    escape: impl Fn(&str) -> String,
) -> String {
    let mut out = String::new();
    let mut done = 0;
    for &(at, offset) in &cue.words {
        if keep(at) {
            out.push_str(&escape(&cue.text[done..offset]));
            out.push_str(&tag(at));
            done = offset;
        }
    }
    out.push_str(&escape(&cue.text[done..]));
    out
}

fn vtt(cues: &[Cue], first: usize) -> String {
    let mut out = String::new();
    for (i, cue) in cues.iter().enumerate() {
        // WebVTT wants each timestamp after the cue's start and the one
        // before it, and before the cue's end: a word whose time (in whole
        // ms) is not shows with the words before it.
        let mut last = cue.start_ms;
        let text = with_word_tags(
            cue,
            |at| {
                let keep = at > last && at < cue.end_ms;
                if keep {
                    last = at;
                }
                keep
            },
            |at| format!("<{}>", clock(at, '.')),
            escape_vtt,
        );
        out.push_str(&format!(
            "{}\n{} --> {}\n{text}\n\n",
            first + i,
            clock(cue.start_ms, '.'),
            clock(cue.end_ms, '.')
        ));
    }
    out
}

fn lrc(cues: &[Cue]) -> String {
    let mut out = String::new();
    for cue in cues {
        // Word times in LRC never go back, within the line's own span.
        let mut last = cue.start_ms;
        let text = with_word_tags(
            cue,
            |at| {
                let keep = at >= last && at <= cue.end_ms;
                if keep {
                    last = at;
                }
                keep
            },
            |at| format!("<{}>", lrc_clock(at)),
            str::to_string,
        );
        out.push_str(&format!("[{}]{text}\n", lrc_clock(cue.start_ms)));
        out.push_str(&format!("[{}]\n", lrc_clock(cue.end_ms)));
    }
    out
}

/// `hh:mm:ss,mmm` (SubRip) or `hh:mm:ss.mmm` (WebVTT).
fn clock(ms: u64, sep: char) -> String {
    format!(
        "{:02}:{:02}:{:02}{sep}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// LRC's `mm:ss.xx`, rounded to the nearest hundredth; minutes grow past
/// 99 in a long file rather than wrap.
fn lrc_clock(ms: u64) -> String {
    let cs = (ms + 5) / 10;
    format!("{:02}:{:02}.{:02}", cs / 6000, cs / 100 % 60, cs % 100)
}

fn escape_vtt(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A cue is one line: a line break would end it early in SubRip.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(start_ms: u64, end_ms: u64, text: &str) -> Cue {
        Cue {
            start_ms,
            end_ms,
            text: text.into(),
            words: Vec::new(),
        }
    }

    #[test]
    fn the_three_formats() {
        let mut with_words = cue(3_723_004, 3_724_500, "\u{201c}A < b, c.\u{201d}");
        with_words.words = locate(
            &with_words.text,
            [
                (3_723_004, "A"),
                (3_723_600, "<"),
                (3_723_600, "b"),
                (3_724_500, "c"),
            ]
            .into_iter(),
        );
        let cues = [cue(500, 2_345, "Hello there."), with_words];
        let header = Header {
            title: "T",
            artist: "A",
            album: "B",
        };
        assert_eq!(
            render(SubtitleFormat::Srt, &cues, &header),
            "1\n00:00:00,500 --> 00:00:02,345\nHello there.\n\n\
             2\n01:02:03,004 --> 01:02:04,500\n\u{201c}A < b, c.\u{201d}\n\n"
        );
        // No timestamp at the cue's start, none repeated, none at its end.
        assert_eq!(
            render(SubtitleFormat::Vtt, &cues, &header),
            "WEBVTT\n\n1\n00:00:00.500 --> 00:00:02.345\nHello there.\n\n\
             2\n01:02:03.004 --> 01:02:04.500\n\u{201c}A <01:02:03.600>&lt; b, c.\u{201d}\n\n"
        );
        assert_eq!(
            render(SubtitleFormat::Lrc, &cues, &header),
            "[ti:T]\n[ar:A]\n[al:B]\n[by:audiobook]\n[00:00.50]Hello there.\n[00:02.35]\n\
             [62:03.00]\u{201c}<62:03.00>A <62:03.60>< <62:03.60>b, <62:04.50>c.\u{201d}\n[62:04.50]\n"
        );
    }

    #[test]
    fn a_file_streamed_in_parts_is_the_file_rendered_whole() {
        let cues: Vec<Cue> = (0..5)
            .map(|i| cue(i * 1000, i * 1000 + 800, &format!("Cue {i}.")))
            .collect();
        let header = Header {
            title: "T",
            artist: "A",
            album: "B",
        };
        for format in [
            SubtitleFormat::Srt,
            SubtitleFormat::Vtt,
            SubtitleFormat::Lrc,
        ] {
            let mut stream = Stream::new(format);
            let mut parts = stream.head(&header);
            for part in [&cues[..2], &cues[2..2], &cues[2..]] {
                parts.push_str(&stream.cues(part));
            }
            assert_eq!(parts, render(format, &cues, &header), "{format:?}");
        }
        // Numbered on across parts, not from 1 in each.
        let mut stream = Stream::new(SubtitleFormat::Srt);
        stream.cues(&cues[..2]);
        assert!(stream.cues(&cues[2..3]).starts_with("3\n"));
    }

    #[test]
    fn words_the_text_does_not_spell_get_no_time() {
        let text = "It cost 100 yuan.";
        let words = [
            (1, "It"),
            (2, "cost"),
            (3, "one"),
            (4, "hundred"),
            (5, "yuan"),
        ];
        assert_eq!(
            locate(text, words.into_iter()),
            vec![(1, 0), (2, 3), (5, 12)]
        );
        // Chinese: no spaces between words.
        assert_eq!(
            locate("你好，世界。", [(1, "你好"), (2, "世界")].into_iter()),
            vec![(1, 0), (2, 9)]
        );
    }
}
