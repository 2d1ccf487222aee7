//! `proof.csv`: one row per segment, for editors who proof-listen in a
//! spreadsheet: chapter, the file it is heard in, segment, its start in
//! that file (`hh:mm:ss.mmm`), text, voice and state. Segments of chapters
//! not yet delivered are listed too, with no file, so the sheet shows what
//! is missing and why (failed, pending).

use std::collections::HashMap;

use anyhow::Result;

use super::tags::clock;
use crate::report::ChapterEntry;
use crate::store::SegmentRow;

/// Where a chapter is heard: a file and the chapter's offset in it.
pub struct Heard<'a> {
    pub file: &'a str,
    pub offset_secs: f64,
}

/// The sheet as CSV bytes (UTF-8 with a byte order mark, so spreadsheet
/// programs open Chinese text correctly).
pub fn sheet(
    segments: &[SegmentRow],
    chapters: &[(&ChapterEntry, Heard)],
    voice: &str,
) -> Result<Vec<u8>> {
    let placed: HashMap<(usize, usize), (&str, f64)> = chapters
        .iter()
        .flat_map(|(chapter, heard)| {
            chapter.segments.iter().map(move |s| {
                (
                    (chapter.number, s.index),
                    (heard.file, heard.offset_secs + s.start_secs),
                )
            })
        })
        .collect();
    let mut out = csv::Writer::from_writer(b"\xef\xbb\xbf".to_vec());
    out.write_record([
        "chapter", "file", "segment", "start", "text", "voice", "state",
    ])?;
    for s in segments {
        let chapter = s.chapter_idx as usize + 1;
        let segment = s.idx as usize;
        let (file, start) = match placed.get(&(chapter, segment)) {
            Some((file, secs)) => (*file, clock((secs * 1000.0).round() as u64)),
            None => ("", String::new()),
        };
        out.write_record([
            &chapter.to_string(),
            file,
            &(segment + 1).to_string(),
            &start,
            &s.text,
            voice,
            s.state.as_str(),
        ])?;
    }
    out.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}
