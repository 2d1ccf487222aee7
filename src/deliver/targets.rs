//! Which files the delivery folder should hold, and the content key of
//! each: a chapter file per format when `split` asks for chapters, a
//! whole-book file per format when it asks for the book and every chapter
//! is complete. A key covers everything that changes a file's bytes: its
//! audio (the chapters' stitch keys and lengths), its tags and chapter
//! marks, the format's settings and the encoder's version, and its name.

use std::path::Path;

use anyhow::Result;
use sha2::{Digest, Sha256};

use super::encode::{Output, Pass};
use super::tags::{Mark, Tags};
use super::{m4b, mp3, names};
use crate::job::{Format, Job};
use crate::report::Manifest;
use crate::stitch::{Stitched, StitchedChapter};

/// A file the folder should hold.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub file: String,
}

pub struct Targets {
    /// One per chapter file stem and one for the book, every format in it.
    pub passes: Vec<Pass>,
    pub wanted: Vec<Wanted>,
}

/// Every audio file to deliver; fills the manifest's file names.
pub fn plan(job: &Job, stitched: &Stitched, manifest: &mut Manifest) -> Result<Targets> {
    let dir = &job.output.dir;
    let split = job.output.delivery.split;
    let total = stitched.total;
    let mut targets = Targets {
        passes: Vec::new(),
        wanted: Vec::new(),
    };
    if split.chapters() {
        for (i, chapter) in stitched.chapters.iter().enumerate() {
            let stem = names::chapter_stem(chapter.idx as usize + 1, total, &chapter.title);
            let tags = Tags::for_job(job, &chapter.title, chapter.idx as u32 + 1, total as u32)?;
            let pass = pass(job, dir, &stem, vec![chapter.clone()], tags, Vec::new());
            manifest.chapters[i].files = targets.add(pass);
        }
    }
    if split.book() && stitched.complete() {
        let stem = names::book_stem(&job.book.title);
        let tags = Tags::for_job(job, &job.book.title, 1, 1)?;
        let marks = marks(&stitched.chapters);
        let pass = pass(job, dir, &stem, stitched.chapters.clone(), tags, marks);
        manifest.book_files = targets.add(pass);
    }
    Ok(targets)
}

impl Targets {
    /// Adds a pass; returns its file names.
    fn add(&mut self, pass: Pass) -> Vec<String> {
        let files: Vec<String> = pass.outputs.iter().map(|o| file_name(&o.path)).collect();
        self.wanted
            .extend(files.iter().map(|file| Wanted { file: file.clone() }));
        self.passes.push(pass);
        files
    }
}

fn pass(
    job: &Job,
    dir: &Path,
    stem: &str,
    chapters: Vec<StitchedChapter>,
    tags: Tags,
    marks: Vec<Mark>,
) -> Pass {
    let outputs = job
        .output
        .delivery
        .formats
        .iter()
        .map(|&format| {
            let file = format!("{stem}.{}", format.extension());
            let mut h = Sha256::new();
            h.update(format!("deliver-v1|{file}|{}|", encoder_id(job, format)).as_bytes());
            h.update(tags.fingerprint().as_bytes());
            for m in &marks {
                h.update(format!("|{:?}@{}-{}", m.title, m.start_ms, m.end_ms).as_bytes());
            }
            for c in &chapters {
                h.update(format!("|{}:{}", c.key, c.samples()).as_bytes());
            }
            Output {
                format,
                path: dir.join(&file),
                key: format!("{:x}", h.finalize()),
            }
        })
        .collect();
    Pass {
        chapters,
        tags,
        marks,
        outputs,
    }
}

/// What changes a format's bytes besides the audio and the tags.
fn encoder_id(job: &Job, format: Format) -> String {
    let d = &job.output.delivery;
    match format {
        Format::Mp3 => format!(
            "mp3 lame-{} {}k {} Hz",
            mp3lame_encoder::mp3lame_version(),
            d.mp3_bitrate,
            mp3::RATE
        ),
        Format::M4b => format!("m4b ffmpeg-aac {}k {} Hz", d.m4b_bitrate, m4b::RATE),
        Format::Flac => format!("flac flacenc-0.5 {} Hz", job.audio.sample_rate),
        Format::Wav => format!("wav {} Hz", job.audio.sample_rate),
    }
}

/// Chapter marks of the whole-book file, in ms (rounded to nearest).
pub fn marks(chapters: &[StitchedChapter]) -> Vec<Mark> {
    let mut start = 0u64;
    let mut marks = Vec::with_capacity(chapters.len());
    for c in chapters {
        let ms = |samples: u64| (samples * 1000 + u64::from(c.rate) / 2) / u64::from(c.rate);
        let end = start + c.samples();
        marks.push(Mark {
            title: c.title.clone(),
            start_ms: ms(start),
            end_ms: ms(end),
        });
        start = end;
    }
    marks
}

pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
