//! Subtitles beside each delivered audio file, one cue per spoken segment
//! at its speech start and end (the manifest's times, so whatever trimming
//! and mastering did is already in them): SubRip (`.srt`), WebVTT (`.vtt`,
//! with a timestamp before each word when the provider gave word timings)
//! and LRC (`.lrc`, what Chinese audio platforms display; enhanced LRC word
//! tags with word timings, and an empty line at each segment's end so the
//! text clears during the pause).

use crate::job::SubtitleFormat;
use crate::report::ChapterEntry;

/// One segment's text and where it is spoken in the file, in ms.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    /// Each word's start, with the word; empty without word timings.
    pub words: Vec<(u64, String)>,
}

/// The cues of `chapters` laid end to end from `offset_secs` of each.
pub fn cues<'a>(chapters: impl IntoIterator<Item = (&'a ChapterEntry, f64)>) -> Vec<Cue> {
    let ms = |secs: f64| (secs * 1000.0).round().max(0.0) as u64;
    let mut cues = Vec::new();
    for (chapter, offset) in chapters {
        for s in chapter.segments.iter().filter(|s| !s.pause) {
            cues.push(Cue {
                start_ms: ms(offset + s.start_secs),
                end_ms: ms(offset + s.end_secs),
                text: one_line(&s.text),
                words: s
                    .words
                    .iter()
                    .map(|w| (ms(offset + w.start_secs), one_line(&w.word)))
                    .collect(),
            });
        }
    }
    cues
}

pub struct Header<'a> {
    pub title: &'a str,
    pub artist: &'a str,
    pub album: &'a str,
}

pub fn render(format: SubtitleFormat, cues: &[Cue], header: &Header) -> String {
    match format {
        SubtitleFormat::Srt => srt(cues),
        SubtitleFormat::Vtt => vtt(cues),
        SubtitleFormat::Lrc => lrc(cues, header),
    }
}

fn srt(cues: &[Cue]) -> String {
    let mut out = String::new();
    for (i, cue) in cues.iter().enumerate() {
        out.push_str(&format!(
            "{}\n{} --> {}\n{}\n\n",
            i + 1,
            clock(cue.start_ms, ','),
            clock(cue.end_ms, ','),
            cue.text
        ));
    }
    out
}

fn vtt(cues: &[Cue]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for (i, cue) in cues.iter().enumerate() {
        let text = if cue.words.is_empty() {
            escape_vtt(&cue.text)
        } else {
            // The first word needs no timestamp: the cue starts with it.
            cue.words
                .iter()
                .enumerate()
                .map(|(n, (at, word))| {
                    let at = (*at).clamp(cue.start_ms, cue.end_ms);
                    if n == 0 {
                        escape_vtt(word)
                    } else {
                        format!("<{}>{}", clock(at, '.'), escape_vtt(word))
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        out.push_str(&format!(
            "{}\n{} --> {}\n{text}\n\n",
            i + 1,
            clock(cue.start_ms, '.'),
            clock(cue.end_ms, '.')
        ));
    }
    out
}

fn lrc(cues: &[Cue], header: &Header) -> String {
    let mut out = format!(
        "[ti:{}]\n[ar:{}]\n[al:{}]\n[by:audiobook]\n",
        one_line(header.title),
        one_line(header.artist),
        one_line(header.album)
    );
    for cue in cues {
        let text = if cue.words.is_empty() {
            cue.text.clone()
        } else {
            cue.words
                .iter()
                .map(|(at, word)| format!("<{}>{word}", lrc_clock(*at)))
                .collect::<Vec<_>>()
                .join(" ")
        };
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
        let mut with_words = cue(3_723_004, 3_724_500, "a < b");
        with_words.words = vec![(3_723_004, "a".into()), (3_723_600, "<".into())];
        let cues = [cue(500, 2_345, "Hello there."), with_words];
        let header = Header {
            title: "T",
            artist: "A",
            album: "B",
        };
        assert_eq!(
            render(SubtitleFormat::Srt, &cues, &header),
            "1\n00:00:00,500 --> 00:00:02,345\nHello there.\n\n\
             2\n01:02:03,004 --> 01:02:04,500\na < b\n\n"
        );
        assert_eq!(
            render(SubtitleFormat::Vtt, &cues, &header),
            "WEBVTT\n\n1\n00:00:00.500 --> 00:00:02.345\nHello there.\n\n\
             2\n01:02:03.004 --> 01:02:04.500\na <01:02:03.600>&lt;\n\n"
        );
        assert_eq!(
            render(SubtitleFormat::Lrc, &cues, &header),
            "[ti:T]\n[ar:A]\n[al:B]\n[by:audiobook]\n[00:00.50]Hello there.\n[00:02.35]\n\
             [62:03.00]<62:03.00>a <62:03.60><\n[62:04.50]\n"
        );
    }
}
