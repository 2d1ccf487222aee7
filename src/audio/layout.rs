//! A chapter's layout: where each clip's speech lands, so the configured
//! pauses are the real pauses between speech. Each clip's leading and
//! trailing silence is measured ([`super::edges`]) and left out; the sound
//! just below the threshold around the speech (up to `trim_hold_ms` on each
//! side) is kept inside the pauses between segments, so a soft consonant is
//! never cut while the pause from speech to speech stays exactly the gap.
//! The first speech of a chapter starts exactly `chapter_head_ms` in and the
//! last ends exactly `chapter_trailing_ms` before the end.
//!
//! The hold applies at the chapter's edges too: the quiet sound before the
//! first speech is kept inside the head and the sound after the last inside
//! the tail, so a chapter never starts on a cut consonant.
//!
//! The layout is pure arithmetic over clip lengths and edges; [`Spans`]
//! turns it into the runs of silence and clip samples the stream plays.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::PcmFormat;
use crate::job::Audio;

/// What goes into one slot of a chapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StitchSource {
    /// A cached clip, by content key (mono 16-bit at the job's rate).
    Clip(String),
    /// A segment rendered as a pause (the provider found it unspeakable).
    Silence { ms: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StitchItem {
    pub source: StitchSource,
    /// Followed by the paragraph gap instead of the sentence gap.
    pub ends_paragraph: bool,
}

/// A clip's length and its speech, as measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipEdges {
    pub samples: u64,
    /// `None`: silence from end to end.
    pub speech: Option<Range<u64>>,
}

/// Where one item landed in the chapter file, in samples from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placed {
    /// The speech (for a pause, the pause): `start..end`, end exclusive.
    pub start: u64,
    pub end: u64,
    /// Where the clip's own sample 0 falls (negative when trimmed away at
    /// the head of the chapter), for the provider's word timings.
    pub origin: i64,
    /// The clip was silence from end to end and is not in the file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub silent: bool,
}

/// A chapter file's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChapterAudio {
    /// Total samples in the chapter file, silences included.
    pub samples: u64,
    /// One entry per item, in order.
    pub placed: Vec<Placed>,
}

/// One run of the chapter stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Span {
    Silence(u64),
    /// Samples `range` of item `item`'s clip.
    Clip {
        item: usize,
        range: Range<u64>,
    },
}

/// The chapter's layout and the runs that make its samples.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Layout {
    pub audio: ChapterAudio,
    pub spans: Vec<Span>,
}

/// How trimming is set: the threshold and the hold.
#[derive(Debug, Clone, Copy)]
struct Trim {
    enabled: bool,
    hold: u64,
}

/// Lays out a chapter: `edges[i]` belongs to `items[i]` (for a pause, its
/// length and the whole of it as speech).
pub fn lay_out(audio: &Audio, items: &[StitchItem], edges: &[ClipEdges]) -> Layout {
    let format = PcmFormat::new(audio.sample_rate);
    let trim = Trim {
        enabled: audio.trim.enabled,
        hold: format.samples_in_ms(audio.trim.hold_ms),
    };
    let kept: Vec<usize> = (0..items.len())
        .filter(|&i| edges[i].speech.is_some())
        .collect();
    let mut placed = vec![
        Placed {
            start: 0,
            end: 0,
            origin: 0,
            silent: true
        };
        items.len()
    ];
    let mut spans = Vec::new();
    let mut cursor = format.samples_in_ms(audio.chapter_head_ms);
    let trailing = format.samples_in_ms(audio.chapter_trailing_ms);
    // The file so far ends at `written`; speech may start later (the gap).
    let mut written = 0u64;
    for (k, &i) in kept.iter().enumerate() {
        let (speech, clip_len) = speech_of(&edges[i], trim);
        let is_pause = matches!(items[i].source, StitchSource::Silence { .. });
        // Kept margins: the quiet sound around the speech (a soft onset, a
        // breath's tail), up to the hold, inside the room there is: half a
        // gap between segments (the other half is the neighbour's), the
        // whole head before the first speech, the whole tail after the last.
        let room_before = cursor - written;
        let pre = if is_pause {
            0
        } else {
            speech.start.min(trim.hold).min(room_before)
        };
        let next_gap = kept.get(k + 1).map(|&n| gap_after(audio, items, i, n));
        let room_after = next_gap.map_or(trailing, |gap| gap / 2);
        let post = if is_pause {
            0
        } else {
            (clip_len - speech.end).min(trim.hold).min(room_after)
        };
        let from = speech.start - pre;
        let to = speech.end + post;
        let at = cursor - pre;
        spans.push(Span::Silence(at - written));
        spans.push(match items[i].source {
            StitchSource::Silence { .. } => Span::Silence(to - from),
            StitchSource::Clip(_) => Span::Clip {
                item: i,
                range: from..to,
            },
        });
        written = at + (to - from);
        let end = cursor + (speech.end - speech.start);
        placed[i] = Placed {
            start: cursor,
            end,
            origin: cursor as i64 - speech.start as i64,
            silent: false,
        };
        cursor = end + next_gap.unwrap_or(0);
    }
    // A silent clip sits, without length, where its speech would have been.
    let mut at = format.samples_in_ms(audio.chapter_head_ms);
    for p in placed.iter_mut() {
        if p.silent {
            *p = Placed {
                start: at,
                end: at,
                origin: at as i64,
                silent: true,
            };
        } else {
            at = p.end;
        }
    }
    let samples = cursor + trailing;
    spans.push(Span::Silence(samples - written));
    spans.retain(|s| !matches!(s, Span::Silence(0)));
    Layout {
        audio: ChapterAudio { samples, placed },
        spans,
    }
}

/// The speech and length of an item (untrimmed, the whole clip is speech).
fn speech_of(edges: &ClipEdges, trim: Trim) -> (Range<u64>, u64) {
    let speech = edges.speech.clone().unwrap_or(0..0);
    if trim.enabled {
        (speech, edges.samples)
    } else {
        (0..edges.samples, edges.samples)
    }
}

/// The pause between kept items `i` and `next`: the paragraph gap when
/// any item from `i` up to (not including) `next` ends a paragraph, so a
/// silent clip that ended a paragraph still leaves a paragraph's pause.
fn gap_after(audio: &Audio, items: &[StitchItem], i: usize, next: usize) -> u64 {
    let paragraph = items[i..next].iter().any(|item| item.ends_paragraph);
    let ms = if paragraph {
        audio.paragraph_gap_ms
    } else {
        audio.sentence_gap_ms
    };
    PcmFormat::new(audio.sample_rate).samples_in_ms(ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::Trim as TrimConfig;

    fn audio(hold_ms: u32) -> Audio {
        Audio {
            sample_rate: 1_000,
            sentence_gap_ms: 100,
            paragraph_gap_ms: 300,
            chapter_head_ms: 50,
            chapter_trailing_ms: 200,
            trim: TrimConfig {
                enabled: true,
                threshold_db: -50,
                hold_ms,
            },
        }
    }

    fn clip(ends_paragraph: bool) -> StitchItem {
        StitchItem {
            source: StitchSource::Clip("k".into()),
            ends_paragraph,
        }
    }

    fn edges(samples: u64, speech: Option<Range<u64>>) -> ClipEdges {
        ClipEdges { samples, speech }
    }

    #[test]
    fn pauses_run_from_speech_to_speech() {
        let items = [clip(false), clip(true), clip(false)];
        let e = [
            edges(100, Some(20..70)),
            edges(80, Some(5..75)),
            edges(60, Some(30..40)),
        ];
        let layout = lay_out(&audio(10), &items, &e);
        let p = &layout.audio.placed;
        assert_eq!((p[0].start, p[0].end), (50, 100));
        assert_eq!((p[1].start, p[1].end), (200, 270));
        assert_eq!((p[2].start, p[2].end), (570, 580));
        assert_eq!(layout.audio.samples, 780);
        assert_eq!(p[1].origin, 195);
        // 10 kept each side, in the head and the tail too (5 before the
        // second clip's speech is all it has).
        assert_eq!(
            layout.spans,
            vec![
                Span::Silence(40),
                Span::Clip {
                    item: 0,
                    range: 10..80
                },
                Span::Silence(200 - 5 - 110),
                Span::Clip {
                    item: 1,
                    range: 0..80
                },
                Span::Silence(570 - 10 - 275),
                Span::Clip {
                    item: 2,
                    range: 20..50
                },
                Span::Silence(190),
            ]
        );
        let total: u64 = layout
            .spans
            .iter()
            .map(|s| match s {
                Span::Silence(n) => *n,
                Span::Clip { range, .. } => range.end - range.start,
            })
            .sum();
        assert_eq!(total, layout.audio.samples);
    }

    #[test]
    fn a_silent_clip_takes_no_time_and_keeps_its_paragraph_break() {
        let items = [clip(false), clip(true), clip(false)];
        let e = [
            edges(100, Some(0..100)),
            edges(80, None),
            edges(60, Some(0..60)),
        ];
        let layout = lay_out(&audio(0), &items, &e);
        let p = &layout.audio.placed;
        assert!(p[1].silent && !p[0].silent && !p[2].silent);
        assert_eq!((p[1].start, p[1].end), (150, 150));
        assert_eq!(p[2].start, 150 + 300, "the paragraph gap");
        assert_eq!(layout.audio.samples, 450 + 60 + 200);
    }

    #[test]
    fn margins_never_make_a_short_gap_longer() {
        let mut a = audio(80);
        a.sentence_gap_ms = 30;
        let items = [clip(false), clip(false)];
        let e = [edges(200, Some(50..100)), edges(200, Some(100..150))];
        let layout = lay_out(&a, &items, &e);
        let p = &layout.audio.placed;
        assert_eq!(p[1].start - p[0].end, 30);
        let clip_samples: u64 = layout
            .spans
            .iter()
            .filter_map(|s| match s {
                Span::Clip { range, .. } => Some(range.end - range.start),
                Span::Silence(_) => None,
            })
            .sum();
        // Between them half the gap each; into the head and the tail, the
        // whole hold the clips have.
        assert_eq!(clip_samples, 50 + 50 + 15 + 15 + 50 + 50);
    }

    /// Regression: the hold was not applied before a chapter's first speech
    /// or after its last, so a soft onset (or a breath's tail) at a chapter's
    /// edge was cut. It is kept inside the head and the tail room, and the
    /// speech still starts `chapter_head_ms` in.
    #[test]
    fn a_soft_onset_at_the_chapter_head_is_kept_inside_the_head() {
        let items = [clip(false)];
        // Speech at 100..300 of 400: quiet sound on both sides, more than
        // the hold of 40.
        let e = [edges(400, Some(100..300))];
        let layout = lay_out(&audio(40), &items, &e);
        assert_eq!(
            (layout.audio.placed[0].start, layout.audio.placed[0].end),
            (50, 250)
        );
        assert_eq!(
            layout.spans,
            vec![
                Span::Silence(10),
                Span::Clip {
                    item: 0,
                    range: 60..340
                },
                Span::Silence(160),
            ]
        );
        // A hold longer than the head keeps only what the head has room for.
        let mut short = audio(40);
        short.chapter_head_ms = 20;
        short.chapter_trailing_ms = 10;
        let layout = lay_out(&short, &items, &e);
        assert_eq!(
            layout.spans,
            vec![Span::Clip {
                item: 0,
                range: 80..310
            }]
        );
        assert_eq!(layout.audio.samples, 20 + 200 + 10);
    }
}
