//! Which chapters are complete, with their stitch keys, and what the state
//! database holds of each one made for its current key. A chapter whose key
//! the render's clip check already made, and whose recorded summary (a few
//! numbers: segments, silent ones, samples, gain, measurement) is for that
//! key, is settled by that one small value: neither its segments nor its
//! layout are read. The others are read a chapter at a time.

use std::collections::BTreeSet;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::record::Record;
use super::{Chapter, CheckedChapter, Made, Mastered, PAUSE_MS};
use crate::audio::Layout;
use crate::job::Job;
use crate::master::Measurement;
use crate::plan::{self, Slot};
use crate::store::{ChapterRow, SegmentRow, SegmentState};

/// What a chapter was made into, without its per-segment layout: kept
/// beside the layout in the state database.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Summary {
    /// Segments laid out (the layout's entries).
    segments: usize,
    /// Of those, done segments whose clip was silence from end to end:
    /// when there are any, the chapter's rows are read to report them.
    silent: usize,
    samples: u64,
    gain_db: f64,
    measurement: Measurement,
}

impl Summary {
    pub(super) fn of(mastered: &Mastered, silent: usize) -> Summary {
        Summary {
            segments: mastered.layout.audio.placed.len(),
            silent,
            samples: mastered.layout.audio.samples,
            gain_db: mastered.gain_db,
            measurement: mastered.measurement.clone(),
        }
    }

    pub(super) fn json(&self) -> Result<String> {
        Ok(serde_json::to_string(self)?)
    }

    /// The row's summary, when it has one that parses.
    fn of_row(row: &ChapterRow) -> Option<Summary> {
        serde_json::from_str(row.summary.as_deref()?).ok()
    }

    fn made(&self) -> Made {
        Made {
            samples: self.samples,
            gain_db: self.gain_db,
            measurement: self.measurement.clone(),
        }
    }
}

/// The complete chapters with their keys (and, when recorded for that key,
/// what they were made into), the 1-based numbers of the incomplete ones,
/// and how many chapters the plan has. With the chapters as checked, an
/// incomplete chapter is not read, and a complete one recorded for its key
/// with nothing silent is settled by its summary; the others are read one
/// chapter's rows at a time (without their clips when the key is known).
/// With `only`, the chapters not in it are not read and count as incomplete.
pub(super) async fn complete_chapters(
    record: &Record,
    job: &Job,
    checked: Option<&[CheckedChapter]>,
    only: Option<&BTreeSet<i64>>,
) -> Result<(Vec<Chapter>, Vec<usize>, usize)> {
    let (store, job_id) = (record.store(), record.job_id());
    let rows = store.chapters(job_id).await?;
    let total = rows.len();
    let mut chapters = Vec::new();
    let mut incomplete = Vec::new();
    for row in rows {
        if only.is_some_and(|only| !only.contains(&row.idx)) {
            incomplete.push(row.idx as usize + 1);
            continue;
        }
        let checked = checked.and_then(|all| all.iter().find(|c| c.idx == row.idx));
        if let Some(checked) = checked {
            let Some(key) = &checked.key else {
                incomplete.push(row.idx as usize + 1);
                continue;
            };
            if let Some(made) = settled(&row, key, checked.segments) {
                chapters.push(Chapter {
                    idx: row.idx,
                    title: row.title,
                    key: key.clone(),
                    made: Some(made),
                    silent: Vec::new(),
                });
                continue;
            }
        }
        let segments = store
            .chapter_segments(job_id, row.idx, checked.is_none())
            .await?;
        if !segments
            .iter()
            .all(|s| matches!(s.state, SegmentState::Done | SegmentState::Pause))
        {
            incomplete.push(row.idx as usize + 1);
            continue;
        }
        let key = match checked.and_then(|c| c.key.clone()) {
            Some(key) => key,
            None => plan::chapter_stitch_key(
                &job.audio,
                &job.master,
                PAUSE_MS,
                &row.title,
                segments
                    .iter()
                    .map(|s| (&s.content_key, slot(s), s.ends_paragraph)),
            ),
        };
        let (made, silent) = if row.stitch_key.as_deref() == Some(key.as_str()) {
            recorded(record, &row, &key, &segments).await?
        } else {
            (None, Vec::new())
        };
        chapters.push(Chapter {
            idx: row.idx,
            title: row.title,
            key,
            made,
            silent,
        });
    }
    Ok((chapters, incomplete, total))
}

/// What the chapter was made into, from its summary alone: when it was
/// made for `key` (the chapter's current stitch key), laid out for its
/// `segments`, and none of its clips was silent (those are reported with
/// their rows).
fn settled(row: &ChapterRow, key: &str, segments: usize) -> Option<Made> {
    if row.stitch_key.as_deref() != Some(key) {
        return None;
    }
    Summary::of_row(row)
        .filter(|s| s.segments == segments && s.silent == 0)
        .map(|s| s.made())
}

/// What a chapter recorded for its current `key` was made into, and its
/// silent segments, from its rows: by its summary when it has nothing
/// silent, else by its layout (a chapter stitched before summaries were
/// kept gets one now).
async fn recorded(
    record: &Record,
    row: &ChapterRow,
    key: &str,
    segments: &[SegmentRow],
) -> Result<(Option<Made>, Vec<SegmentRow>)> {
    let (store, job_id) = (record.store(), record.job_id());
    let summary = Summary::of_row(row).filter(|s| s.segments == segments.len());
    if let Some(summary) = summary.as_ref().filter(|s| s.silent == 0) {
        return Ok((Some(summary.made()), Vec::new()));
    }
    let mastered = store
        .chapter_mastered(job_id, row.idx)
        .await?
        .and_then(|json| serde_json::from_str::<Mastered>(&json).ok())
        .filter(|m| m.layout.audio.placed.len() == segments.len());
    let Some(mastered) = mastered else {
        return Ok((None, Vec::new()));
    };
    let silent = silent_rows(segments, &mastered.layout);
    if summary.is_none() {
        let json = Summary::of(&mastered, silent.len()).json()?;
        store
            .set_chapter_summary(job_id, row.idx, key, &json)
            .await?;
    }
    Ok((Some(Made::from(&mastered)), silent))
}

/// The rows whose clip the layout found silent from end to end (cloned:
/// a `collect` from the owned rows would keep the chapter's allocation).
pub(super) fn silent_rows(rows: &[SegmentRow], layout: &Layout) -> Vec<SegmentRow> {
    rows.iter()
        .zip(&layout.audio.placed)
        .filter(|(row, placed)| placed.silent && row.state == SegmentState::Done)
        .map(|(row, _)| row.clone())
        .collect()
}

fn slot(s: &SegmentRow) -> Option<Slot<'_>> {
    match s.state {
        SegmentState::Pause => Some(Slot::Pause),
        _ => s.sha256.as_deref().map(Slot::Clip),
    }
}
