//! A chapter's layout: where each clip's speech lands, so the configured
//! pauses are the real pauses between speech. Each clip's leading and
//! trailing silence is measured ([`super::edges`]) and left out; the sound
//! just below the threshold around the speech (up to `trim_hold_ms` on each
//! side) is kept inside the pauses between segments, so a soft consonant is
//! never cut while the pause from speech to speech stays exactly the gap.
//!
//! At the chapter's edges the hold keeps the quiet sound before the first
//! speech and after the last too (a chapter never starts on a cut
//! consonant), but the head and the tail stay room: nothing that mastering
//! could make audible lies in them. Quiet before mastering is not quiet
//! after it: the chapter's gain (up to 40 dB) can lift a soft onset over the
//! QA's -50 dBFS speech threshold, and kept inside the head it made the
//! head room read up to `trim_hold_ms` short of `chapter_head_ms` (with the
//! 500 ms default, under what `acx` asks). So only the part of the onset
//! under [`super::edges::INAUDIBLE_DB`] (digital silence, the lowest bit)
//! lies inside the head; the rest follows it. The first sound of a chapter
//! that can be heard starts exactly `chapter_head_ms` in, and the last ends
//! exactly `chapter_trailing_ms` before the end; a clip whose speech starts
//! from silence has its speech there.
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
    /// From the first to one past the last sample that any mastering gain
    /// could make audible (over [`super::edges::INAUDIBLE_DB`]); it
    /// contains the speech.
    pub sound: Option<Range<u64>>,
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
        // breath's tail), up to the hold: inside half a gap between
        // segments (the other half is the neighbour's). At the chapter's
        // edges only what no gain can make audible may lie inside the head
        // or the tail; the rest of the onset follows the head and the rest
        // of the fade precedes the tail, which stay room tone.
        let first = k == 0;
        let room_before = if first { u64::MAX } else { cursor - written };
        let mut pre = if is_pause {
            0
        } else {
            speech.start.min(trim.hold).min(room_before)
        };
        if first {
            let inaudible = edges[i]
                .sound
                .as_ref()
                .map_or(pre, |sound| sound.start.saturating_sub(speech.start - pre));
            let in_head;
            (pre, in_head) = split_at_edge(pre, inaudible, cursor);
            cursor += pre - in_head;
        }
        let next_gap = kept.get(k + 1).map(|&n| gap_after(audio, items, i, n));
        let room_after = next_gap.map_or(u64::MAX, |gap| gap / 2);
        let mut post = if is_pause {
            0
        } else {
            (clip_len - speech.end).min(trim.hold).min(room_after)
        };
        let mut in_tail = 0;
        if next_gap.is_none() {
            let inaudible = edges[i]
                .sound
                .as_ref()
                .map_or(post, |sound| (speech.end + post).saturating_sub(sound.end));
            (post, in_tail) = split_at_edge(post, inaudible, trailing);
        }
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
        // After the last speech, its audible fade before the tail.
        cursor = end + next_gap.unwrap_or(post - in_tail);
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

/// At a chapter's edge: of `kept` samples of quiet sound next to the speech,
/// the `inaudible` ones on the room's side may lie inside the room, as many
/// as fit in `room`; those that do not fit are left out. Returns the samples
/// kept and how many of them lie inside the room.
fn split_at_edge(kept: u64, inaudible: u64, room: u64) -> (u64, u64) {
    let inaudible = inaudible.min(kept);
    let inside = inaudible.min(room);
    (kept - (inaudible - inside), inside)
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

    /// A clip whose quiet sound around the speech is all audible once
    /// mastered (a soft onset, a breath).
    fn edges(samples: u64, speech: Option<Range<u64>>) -> ClipEdges {
        let sound = speech.as_ref().map(|_| 0..samples);
        ClipEdges {
            samples,
            speech,
            sound,
        }
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
        // The head (50) is room only: the first clip's kept onset (10)
        // follows it, so its speech starts at 60; the last clip's kept
        // sound (10) precedes the tail (200).
        assert_eq!((p[0].start, p[0].end), (60, 110));
        assert_eq!((p[1].start, p[1].end), (210, 280));
        assert_eq!((p[2].start, p[2].end), (580, 590));
        assert_eq!(layout.audio.samples, 590 + 10 + 200);
        assert_eq!(p[1].origin, 205);
        // 10 kept each side (5 before the second clip's speech is all it
        // has), between segments inside the gaps.
        assert_eq!(
            layout.spans,
            vec![
                Span::Silence(50),
                Span::Clip {
                    item: 0,
                    range: 10..80
                },
                Span::Silence(210 - 5 - 120),
                Span::Clip {
                    item: 1,
                    range: 0..80
                },
                Span::Silence(580 - 10 - 285),
                Span::Clip {
                    item: 2,
                    range: 20..50
                },
                Span::Silence(200),
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

    /// Regression (twice over). First: the hold was not applied before a
    /// chapter's first speech or after its last, so a soft onset (or a
    /// breath's tail) at a chapter's edge was cut. Then: the onset kept
    /// inside the head was lifted over the QA's speech threshold by the
    /// mastering gain, and the head room read up to the hold short of
    /// `chapter_head_ms`. The onset and the tail's sound are kept whole, and
    /// the head and the tail are room only, as long as configured.
    #[test]
    fn the_onset_and_fade_at_a_chapters_edges_lie_between_head_and_tail() {
        let items = [clip(false)];
        // Speech at 100..300 of 400: quiet sound on both sides, more than
        // the hold of 40.
        let e = [edges(400, Some(100..300))];
        let layout = lay_out(&audio(40), &items, &e);
        assert_eq!(
            (layout.audio.placed[0].start, layout.audio.placed[0].end),
            (90, 290)
        );
        assert_eq!(
            layout.spans,
            vec![
                Span::Silence(50),
                Span::Clip {
                    item: 0,
                    range: 60..340
                },
                Span::Silence(200),
            ]
        );
        assert_eq!(layout.audio.samples, 50 + 40 + 200 + 40 + 200);
        // A hold longer than the head or the tail still keeps all of it.
        let mut short = audio(40);
        short.chapter_head_ms = 20;
        short.chapter_trailing_ms = 10;
        let layout = lay_out(&short, &items, &e);
        assert_eq!(
            layout.spans,
            vec![
                Span::Silence(20),
                Span::Clip {
                    item: 0,
                    range: 60..340
                },
                Span::Silence(10),
            ]
        );
        assert_eq!(layout.audio.samples, 20 + 40 + 200 + 40 + 10);
    }

    /// Of the onset and the fade, only what no gain can make audible lies
    /// inside the head and the tail: the clip's sound (over the lowest bit)
    /// starts exactly at the head's end and ends exactly at the tail's start.
    #[test]
    fn only_inaudible_sound_lies_in_the_head_and_tail() {
        let items = [clip(false)];
        let partly = [ClipEdges {
            samples: 400,
            speech: Some(100..300),
            sound: Some(80..320),
        }];
        let layout = lay_out(&audio(40), &items, &partly);
        assert_eq!(layout.audio.placed[0].start, 70);
        assert_eq!(
            layout.spans,
            vec![
                Span::Silence(30),
                Span::Clip {
                    item: 0,
                    range: 60..340
                },
                Span::Silence(180),
            ]
        );
        // The sound at 80..320 of the clip lands at 50..290 of 490.
        assert_eq!(30 + (80 - 60), 50);
        assert_eq!(layout.audio.samples - (30 + (320 - 60)), 200);

        // Silence before and after the speech: the speech itself starts the
        // head's end, as much of the hold as fits inside the head.
        let silent_edges = [ClipEdges {
            samples: 400,
            speech: Some(100..300),
            sound: Some(100..300),
        }];
        let layout = lay_out(&audio(40), &items, &silent_edges);
        assert_eq!(
            (layout.audio.placed[0].start, layout.audio.samples),
            (50, 50 + 200 + 200)
        );
        let mut short = audio(40);
        short.chapter_head_ms = 20;
        let layout = lay_out(&short, &items, &silent_edges);
        assert_eq!(
            layout.spans,
            vec![
                Span::Clip {
                    item: 0,
                    range: 80..340
                },
                Span::Silence(160),
            ]
        );
    }
}
