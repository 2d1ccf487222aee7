//! `proof.csv`: one row per segment, for editors who proof-listen in a
//! spreadsheet: chapter, the file it is heard in, segment, its start in
//! that file (`hh:mm:ss.mmm`), text, voice and state (`done`, or `pause`
//! for a run of punctuation heard as silence). It lists the complete
//! chapters, the ones there is something to listen to; what is missing
//! and why (failed, pending) is in `report.json` and `audiobook status`.

use anyhow::Result;

use super::tags::clock;
use crate::report::ChapterEntry;
use crate::store::SegmentState;

/// Where a chapter is heard: a file and the chapter's offset in it.
pub struct Heard<'a> {
    pub file: &'a str,
    pub offset_secs: f64,
}

/// The sheet (CSV, UTF-8 with a byte order mark, so spreadsheet programs
/// open Chinese text correctly), written a chapter at a time from the
/// manifest's entries of the complete chapters, each with where it is
/// heard (if anywhere). Every segment of a complete chapter is done or a
/// pause.
pub struct Sheet<W: std::io::Write> {
    out: csv::Writer<W>,
    voice: String,
}

impl<W: std::io::Write> Sheet<W> {
    pub fn new(mut out: W, voice: &str) -> Result<Self> {
        out.write_all(b"\xef\xbb\xbf")?;
        let mut out = csv::Writer::from_writer(out);
        out.write_record([
            "chapter", "file", "segment", "start", "text", "voice", "state",
        ])?;
        Ok(Sheet {
            out,
            voice: voice.to_string(),
        })
    }

    pub fn add(&mut self, chapter: &ChapterEntry, heard: Option<Heard>) -> Result<()> {
        let number = chapter.number.to_string();
        for s in &chapter.segments {
            let (file, start) = match &heard {
                Some(heard) => (
                    heard.file,
                    clock(((heard.offset_secs + s.start_secs) * 1000.0).round() as u64),
                ),
                None => ("", String::new()),
            };
            let state = if s.pause {
                SegmentState::Pause
            } else {
                SegmentState::Done
            };
            self.out.write_record([
                &number,
                file,
                &(s.index + 1).to_string(),
                &start,
                &s.text,
                &self.voice,
                state.as_str(),
            ])?;
        }
        Ok(())
    }

    /// The writer, everything flushed into it.
    pub fn finish(self) -> Result<W> {
        self.out.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
    }
}
