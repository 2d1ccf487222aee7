//! The book's metadata as each container spells it: one [`Tags`] built
//! from the job, written as ID3v2.4 frames (MP3), Vorbis comments (FLAC)
//! and an ffmetadata file (M4B, through ffmpeg). Narrator goes where
//! audiobook players look for it (composer: Audiobookshelf, and a
//! `NARRATOR` comment); chapter marks go with the whole-book files.

use anyhow::{Context, Result};
use id3::TagLike;

use crate::job::{Job, Language};

/// What a player shows for one delivered file.
#[derive(Debug, Clone)]
pub struct Tags {
    /// The chapter's title in a chapter file, the book's in the book file.
    pub title: String,
    pub album: String,
    /// The author (or the narrator, when the job names no author).
    pub artist: String,
    pub narrator: String,
    pub track: u32,
    pub tracks: u32,
    pub year: Option<u16>,
    pub publisher: Option<String>,
    pub description: Option<String>,
    pub isbn: Option<String>,
    pub series: Option<String>,
    /// ISO 639-2, for ID3's TLAN.
    pub language: Option<&'static str>,
    pub cover: Option<Picture>,
}

#[derive(Debug, Clone)]
pub struct Picture {
    pub mime: &'static str,
    pub data: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// The file it was read from (ffmpeg reads it itself).
    pub path: std::path::PathBuf,
}

/// A chapter mark in a whole-book file, in milliseconds from its start.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub title: String,
    pub start_ms: u64,
    pub end_ms: u64,
}

pub const GENRE: &str = "Audiobook";

impl Tags {
    /// The book's tags, for track `track` of `tracks`.
    pub fn for_job(job: &Job, title: &str, track: u32, tracks: u32) -> Result<Tags> {
        let meta = &job.book.meta;
        let cover = match &meta.cover {
            Some(c) => Some(Picture {
                mime: c.mime,
                width: c.width,
                height: c.height,
                path: c.path.clone(),
                data: std::fs::read(&c.path)
                    .with_context(|| format!("reading the cover {}", c.path.display()))?,
            }),
            None => None,
        };
        Ok(Tags {
            title: title.to_string(),
            album: job.book.title.clone(),
            artist: job
                .book
                .author
                .clone()
                .unwrap_or_else(|| job.book.narrator.clone()),
            narrator: job.book.narrator.clone(),
            track,
            tracks,
            year: meta.year,
            publisher: meta.publisher.clone(),
            description: meta.description.clone(),
            isbn: meta.isbn.clone(),
            series: meta.series.clone(),
            language: match job.book.language {
                Language::En => Some("eng"),
                Language::Zh => Some("zho"),
                Language::Mixed => None,
            },
            cover,
        })
    }

    /// Everything the tags say, for a delivered file's content key.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let cover = self
            .cover
            .as_ref()
            .map(|c| format!("{}:{:x}", c.mime, Sha256::digest(&c.data)))
            .unwrap_or_default();
        format!(
            "{:?}|{:?}|{:?}|{:?}|{}/{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{cover}",
            self.title,
            self.album,
            self.artist,
            self.narrator,
            self.track,
            self.tracks,
            self.year,
            self.publisher,
            self.description,
            self.isbn,
            self.series,
            self.language
        )
    }

    /// An ID3v2.4 tag; `marks` become CHAP frames under one CTOC.
    pub fn id3(&self, marks: &[Mark]) -> id3::Tag {
        use id3::frame::{
            Chapter, Comment, ExtendedText, Picture as Apic, PictureType, TableOfContents,
        };
        let mut tag = id3::Tag::new();
        tag.set_title(&self.title);
        tag.set_album(&self.album);
        tag.set_artist(&self.artist);
        tag.set_album_artist(&self.artist);
        tag.set_text("TCOM", &self.narrator);
        tag.set_track(self.track);
        tag.set_total_tracks(self.tracks);
        tag.set_genre(GENRE);
        if let Some(year) = self.year {
            tag.set_date_recorded(id3::Timestamp {
                year: i32::from(year),
                month: None,
                day: None,
                hour: None,
                minute: None,
                second: None,
            });
        }
        if let Some(p) = &self.publisher {
            tag.set_text("TPUB", p);
        }
        if let Some(lang) = self.language {
            tag.set_text("TLAN", lang);
        }
        if let Some(d) = &self.description {
            tag.add_frame(Comment {
                lang: "eng".into(),
                description: String::new(),
                text: d.clone(),
            });
        }
        for (description, value) in [
            ("NARRATOR", Some(&self.narrator)),
            ("ISBN", self.isbn.as_ref()),
            ("SERIES", self.series.as_ref()),
        ] {
            if let Some(value) = value {
                tag.add_frame(ExtendedText {
                    description: description.into(),
                    value: value.clone(),
                });
            }
        }
        if let Some(cover) = &self.cover {
            tag.add_frame(Apic {
                mime_type: cover.mime.into(),
                picture_type: PictureType::CoverFront,
                description: String::new(),
                data: cover.data.clone(),
            });
        }
        if !marks.is_empty() {
            let id = |i: usize| format!("ch{i}");
            for (i, mark) in marks.iter().enumerate() {
                tag.add_frame(Chapter {
                    element_id: id(i),
                    start_time: mark.start_ms as u32,
                    end_time: mark.end_ms as u32,
                    // "No byte offset": players seek by time.
                    start_offset: u32::MAX,
                    end_offset: u32::MAX,
                    frames: vec![id3::Frame::text("TIT2", mark.title.clone())],
                });
            }
            tag.add_frame(TableOfContents {
                element_id: "toc".into(),
                top_level: true,
                ordered: true,
                elements: (0..marks.len()).map(id).collect(),
                frames: vec![id3::Frame::text("TIT2", self.album.clone())],
            });
        }
        tag
    }

    /// Vorbis comments (FLAC), with chapters in the `CHAPTERnnn` form
    /// players and ffmpeg read.
    pub fn vorbis(&self, marks: &[Mark]) -> Vec<(String, String)> {
        let mut c: Vec<(String, String)> = vec![
            ("TITLE".into(), self.title.clone()),
            ("ALBUM".into(), self.album.clone()),
            ("ARTIST".into(), self.artist.clone()),
            ("ALBUMARTIST".into(), self.artist.clone()),
            ("COMPOSER".into(), self.narrator.clone()),
            ("NARRATOR".into(), self.narrator.clone()),
            ("TRACKNUMBER".into(), self.track.to_string()),
            ("TRACKTOTAL".into(), self.tracks.to_string()),
            ("GENRE".into(), GENRE.into()),
        ];
        let optional = [
            ("DATE", self.year.map(|y| y.to_string())),
            ("PUBLISHER", self.publisher.clone()),
            ("DESCRIPTION", self.description.clone()),
            ("ISBN", self.isbn.clone()),
            ("SERIES", self.series.clone()),
            ("LANGUAGE", self.language.map(str::to_string)),
        ];
        c.extend(
            optional
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k.to_string(), v))),
        );
        for (i, mark) in marks.iter().enumerate() {
            c.push((format!("CHAPTER{:03}", i + 1), clock(mark.start_ms)));
            c.push((format!("CHAPTER{:03}NAME", i + 1), mark.title.clone()));
        }
        c
    }

    /// An ffmetadata file: tags and `[CHAPTER]` sections for ffmpeg's MP4
    /// muxer, which writes them as iTunes atoms, a QuickTime chapter track
    /// and a Nero `chpl` box.
    pub fn ffmetadata(&self, marks: &[Mark]) -> String {
        let mut out = String::from(";FFMETADATA1\n");
        let mut line = |key: &str, value: &str| {
            out.push_str(key);
            out.push('=');
            out.push_str(&escape_ffmetadata(value));
            out.push('\n');
        };
        line("title", &self.title);
        line("album", &self.album);
        line("artist", &self.artist);
        line("album_artist", &self.artist);
        line("composer", &self.narrator);
        line("genre", GENRE);
        line("track", &format!("{}/{}", self.track, self.tracks));
        if let Some(y) = self.year {
            line("date", &y.to_string());
        }
        if let Some(d) = &self.description {
            line("description", d);
            line("synopsis", d);
        }
        if let Some(s) = &self.series {
            line("grouping", s);
        }
        // MP4 has no atom of its own for these two.
        let comment: Vec<String> = [
            self.publisher.as_ref().map(|p| format!("Publisher: {p}")),
            self.isbn.as_ref().map(|i| format!("ISBN: {i}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !comment.is_empty() {
            line("comment", &comment.join("; "));
        }
        for mark in marks {
            out.push_str(&format!(
                "\n[CHAPTER]\nTIMEBASE=1/1000\nSTART={}\nEND={}\ntitle={}\n",
                mark.start_ms,
                mark.end_ms,
                escape_ffmetadata(&mark.title)
            ));
        }
        out
    }
}

/// `hh:mm:ss.mmm`.
pub fn clock(ms: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// ffmetadata's escapes: `=`, `;`, `#`, `\` and newlines take a backslash.
fn escape_ffmetadata(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '=' | ';' | '#' | '\\' | '\n') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_and_escapes() {
        assert_eq!(clock(3_723_004), "01:02:03.004");
        assert_eq!(escape_ffmetadata("a=b;c#d\\e"), "a\\=b\\;c\\#d\\\\e");
    }
}
