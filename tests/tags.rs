//! Every tag the README promises, read back from each container by a
//! reader that did not write it: the ID3v2.4 frames (written by the `id3`
//! crate) by ffprobe and, for the chapter frames and the picture, by a
//! strict parser written here from the ID3v2.4 and ID3v2 Chapter Frame
//! specifications; the M4B's iTunes atoms and both chapter lists (written by
//! ffmpeg) by mp4ameta; the FLAC's Vorbis comments (written by our own
//! code) by claxon, its PICTURE block by ffmpeg.

use std::path::Path;
use std::process::Command;

use crate::deliver::{deliver_everything, ffprobe};
use crate::util::{Workspace, stderr};

/// What `deliver_everything` puts in `[book]`.
const AUTHOR: &str = "Ann Author";
const NARRATOR: &str = "Ned Narrator";
const PUBLISHER: &str = "Pub House";
const ISBN: &str = "9780141439518";
const SERIES: &str = "The Series";
const DESCRIPTION: &str = "About the book.";
const ALBUM: &str = "Test Book";

/// One delivered audio stem (a chapter's or the book's) and what its tags
/// must say.
struct Expected {
    stem: String,
    title: String,
    track: u32,
    tracks: u32,
}

fn expected(manifest: &serde_json::Value) -> Vec<Expected> {
    let chapters = manifest["chapters"].as_array().unwrap();
    let mut all: Vec<Expected> = chapters
        .iter()
        .enumerate()
        .map(|(i, c)| Expected {
            stem: stem(&c["files"][0]),
            title: c["title"].as_str().unwrap().to_string(),
            track: i as u32 + 1,
            tracks: chapters.len() as u32,
        })
        .collect();
    all.push(Expected {
        stem: stem(&manifest["book_files"][0]),
        title: ALBUM.into(),
        track: 1,
        tracks: 1,
    });
    all
}

fn stem(file: &serde_json::Value) -> String {
    file.as_str().unwrap().trim_end_matches(".mp3").to_string()
}

/// A chapter mark as the manifest places it in the whole-book file, in ms.
struct Mark {
    title: String,
    start_ms: f64,
    end_ms: f64,
}

fn marks(manifest: &serde_json::Value) -> Vec<Mark> {
    manifest["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let start = c["book_start_secs"].as_f64().unwrap() * 1000.0;
            Mark {
                title: c["title"].as_str().unwrap().to_string(),
                start_ms: start,
                end_ms: start + c["duration_secs"].as_f64().unwrap() * 1000.0,
            }
        })
        .collect()
}

fn assert_near_ms(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() <= 10.0, "{what}: {got} ms vs {want} ms");
}

/// The attached picture's bytes, as ffmpeg's demuxer extracts them.
fn ffmpeg_cover(path: &Path) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-map", "0:v", "-c", "copy", "-f", "image2pipe", "-"])
        .output()
        .expect("ffmpeg");
    assert!(out.status.success(), "{}", stderr(&out));
    out.stdout
}

#[test]
fn every_promised_tag_and_chapter_mark_reads_back() {
    let ws = Workspace::new();
    deliver_everything(&ws);
    let manifest = ws.manifest();
    let cover = std::fs::read(ws.path().join("cover.png")).unwrap();
    let marks = marks(&manifest);
    let all = expected(&manifest);
    for (n, want) in all.iter().enumerate() {
        let is_book = n + 1 == all.len();
        let path = |ext: &str| ws.out().join(format!("{}.{ext}", want.stem));
        let book_marks: &[Mark] = if is_book { &marks } else { &[] };
        check_mp3(&path("mp3"), want, &cover, book_marks);
        check_m4b(&path("m4b"), want, &cover, book_marks);
        check_flac(&path("flac"), want, &cover, book_marks);
    }
}

/// ID3v2.4: the text frames through ffprobe, then the frames themselves.
fn check_mp3(path: &Path, want: &Expected, cover: &[u8], marks: &[Mark]) {
    let what = path.display().to_string();
    let format = &ffprobe(path, &["-show_format"])["format"];
    let tags = format["tags"].as_object().unwrap();
    let tag = |k: &str| {
        tags.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("{what}: no {k} in {tags:?}"))
    };
    assert_eq!(tag("title"), want.title, "{what}: TIT2");
    assert_eq!(tag("album"), ALBUM, "{what}: TALB");
    assert_eq!(tag("artist"), AUTHOR, "{what}: TPE1");
    assert_eq!(tag("album_artist"), AUTHOR, "{what}: TPE2");
    assert_eq!(tag("composer"), NARRATOR, "{what}: TCOM");
    assert_eq!(tag("NARRATOR"), NARRATOR, "{what}: TXXX:NARRATOR");
    assert_eq!(
        tag("track"),
        format!("{}/{}", want.track, want.tracks),
        "{what}: TRCK"
    );
    assert_eq!(tag("date"), "2024", "{what}: TDRC");
    assert_eq!(tag("genre"), "Audiobook", "{what}: TCON");
    assert_eq!(tag("publisher"), PUBLISHER, "{what}: TPUB");
    assert_eq!(tag("comment"), DESCRIPTION, "{what}: COMM");
    assert_eq!(tag("ISBN"), ISBN, "{what}: TXXX:ISBN");
    assert_eq!(tag("SERIES"), SERIES, "{what}: TXXX:SERIES");
    assert_eq!(ffmpeg_cover(path), cover, "{what}: cover through ffmpeg");

    let frames = id3::frames(&std::fs::read(path).unwrap());
    let apic: Vec<&id3::Frame> = frames.iter().filter(|f| &f.id == b"APIC").collect();
    assert_eq!(apic.len(), 1, "{what}: one APIC");
    let picture = id3::picture(&apic[0].body);
    assert_eq!(picture.mime, "image/png", "{what}");
    assert_eq!(picture.kind, 3, "{what}: APIC type 3 is the front cover");
    assert_eq!(picture.data, cover, "{what}: APIC data");

    let chaps: Vec<id3::Chap> = frames
        .iter()
        .filter(|f| &f.id == b"CHAP")
        .map(|f| id3::chap(&f.body))
        .collect();
    let tocs: Vec<id3::Ctoc> = frames
        .iter()
        .filter(|f| &f.id == b"CTOC")
        .map(|f| id3::ctoc(&f.body))
        .collect();
    if marks.is_empty() {
        assert!(
            chaps.is_empty() && tocs.is_empty(),
            "{what}: chapter frames"
        );
        return;
    }
    assert_eq!(chaps.len(), marks.len(), "{what}: a CHAP per chapter");
    for (chap, mark) in chaps.iter().zip(marks) {
        assert_eq!(chap.title, mark.title, "{what}: CHAP {}", chap.id);
        assert_near_ms(f64::from(chap.start_ms), mark.start_ms, &what);
        assert_near_ms(f64::from(chap.end_ms), mark.end_ms, &what);
    }
    // One table of contents, top-level and ordered, listing every
    // chapter in book order (a player shows nothing without it).
    assert_eq!(tocs.len(), 1, "{what}: one CTOC");
    let toc = &tocs[0];
    assert!(toc.top_level, "{what}: CTOC top-level flag");
    assert!(toc.ordered, "{what}: CTOC ordered flag");
    let ids: Vec<&str> = chaps.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(toc.children, ids, "{what}: CTOC entries");
    assert_eq!(toc.title.as_deref(), Some(ALBUM), "{what}: CTOC title");
    // ffprobe reads the same marks.
    let listed = ffprobe(path, &["-show_chapters"]);
    let listed = listed["chapters"].as_array().unwrap();
    assert_eq!(listed.len(), marks.len(), "{what}");
    for (c, mark) in listed.iter().zip(marks) {
        assert_eq!(c["tags"]["title"], mark.title.as_str(), "{what}");
        let start: f64 = c["start_time"].as_str().unwrap().parse().unwrap();
        assert_near_ms(start * 1000.0, mark.start_ms, &what);
    }
}

/// iTunes atoms, the cover and both chapter lists, through mp4ameta.
fn check_m4b(path: &Path, want: &Expected, cover: &[u8], marks: &[Mark]) {
    use mp4ameta::{Fourcc, ImgFmt};
    let what = path.display().to_string();
    let tag = mp4ameta::Tag::read_from_path(path).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(tag.title(), Some(want.title.as_str()), "{what}: ©nam");
    assert_eq!(tag.album(), Some(ALBUM), "{what}: ©alb");
    assert_eq!(tag.artist(), Some(AUTHOR), "{what}: ©ART");
    assert_eq!(tag.album_artist(), Some(AUTHOR), "{what}: aART");
    assert_eq!(tag.composer(), Some(NARRATOR), "{what}: ©wrt");
    assert_eq!(
        tag.track(),
        (Some(want.track as u16), Some(want.tracks as u16)),
        "{what}: trkn"
    );
    assert_eq!(tag.year(), Some("2024"), "{what}: ©day");
    assert_eq!(tag.genre(), Some("Audiobook"), "{what}: ©gen");
    assert_eq!(
        tag.comment(),
        Some(format!("Publisher: {PUBLISHER}; ISBN: {ISBN}").as_str()),
        "{what}: ©cmt"
    );
    assert_eq!(tag.grouping(), Some(SERIES), "{what}: ©grp");
    assert_eq!(tag.description(), Some(DESCRIPTION), "{what}: desc");
    assert_eq!(
        tag.strings_of(&Fourcc(*b"ldes")).next(),
        Some(DESCRIPTION),
        "{what}: ldes"
    );
    let art = tag.artwork().unwrap_or_else(|| panic!("{what}: no covr"));
    assert_eq!(art.fmt, ImgFmt::Png, "{what}: covr type");
    assert_eq!(art.data, cover, "{what}: covr data");

    // Nero chpl and the QuickTime chapter track, both.
    for (name, list) in [
        ("chpl", tag.chapter_list()),
        ("chapter track", tag.chapter_track()),
    ] {
        assert_eq!(list.len(), marks.len(), "{what}: {name}");
        for (c, mark) in list.iter().zip(marks) {
            assert_eq!(c.title, mark.title, "{what}: {name}");
            assert_near_ms(c.start.as_secs_f64() * 1000.0, mark.start_ms, &what);
        }
    }
}

/// Vorbis comments through claxon (exact field names), the PICTURE block
/// through ffmpeg.
fn check_flac(path: &Path, want: &Expected, cover: &[u8], marks: &[Mark]) {
    let what = path.display().to_string();
    let reader = claxon::FlacReader::open(path).unwrap_or_else(|e| panic!("{what}: {e}"));
    let field = |k: &str| -> Vec<String> { reader.get_tag(k).map(str::to_string).collect() };
    let one = |k: &str| {
        let values = field(k);
        assert_eq!(values.len(), 1, "{what}: {k} = {values:?}");
        values[0].clone()
    };
    assert_eq!(one("TITLE"), want.title, "{what}");
    assert_eq!(one("ALBUM"), ALBUM, "{what}");
    assert_eq!(one("ARTIST"), AUTHOR, "{what}");
    assert_eq!(one("ALBUMARTIST"), AUTHOR, "{what}");
    assert_eq!(one("COMPOSER"), NARRATOR, "{what}");
    assert_eq!(one("NARRATOR"), NARRATOR, "{what}");
    assert_eq!(one("TRACKNUMBER"), want.track.to_string(), "{what}");
    assert_eq!(one("TRACKTOTAL"), want.tracks.to_string(), "{what}");
    assert_eq!(one("DATE"), "2024", "{what}");
    assert_eq!(one("GENRE"), "Audiobook", "{what}");
    assert_eq!(one("PUBLISHER"), PUBLISHER, "{what}");
    assert_eq!(one("DESCRIPTION"), DESCRIPTION, "{what}");
    assert_eq!(one("ISBN"), ISBN, "{what}");
    assert_eq!(one("SERIES"), SERIES, "{what}");
    for (i, mark) in marks.iter().enumerate() {
        let n = i + 1;
        assert_eq!(one(&format!("CHAPTER{n:03}NAME")), mark.title, "{what}");
        let at = one(&format!("CHAPTER{n:03}"));
        let p: Vec<f64> = at.split(':').map(|x| x.parse().unwrap()).collect();
        assert_eq!(p.len(), 3, "{what}: CHAPTER{n:03}={at}");
        assert_near_ms(
            (p[0] * 3600.0 + p[1] * 60.0 + p[2]) * 1000.0,
            mark.start_ms,
            &what,
        );
    }
    assert!(
        field(&format!("CHAPTER{:03}", marks.len() + 1)).is_empty(),
        "{what}: a chapter too many"
    );
    assert_eq!(ffmpeg_cover(path), cover, "{what}: PICTURE data");
    let streams = ffprobe(path, &["-show_streams"]);
    let picture = streams["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["disposition"]["attached_pic"] == 1)
        .unwrap_or_else(|| panic!("{what}: no PICTURE"));
    assert_eq!(picture["tags"]["comment"], "Cover (front)", "{what}");
}

/// A strict reader of what the tests need from an ID3v2.4 tag, from the
/// ID3v2.4.0 structure and frames documents and the ID3v2 Chapter Frame
/// Addendum 1.0: it refuses anything it does not expect (another version,
/// flags, unsynchronisation, an unknown text encoding) rather than guess.
mod id3 {
    pub struct Frame {
        pub id: [u8; 4],
        pub body: Vec<u8>,
    }

    pub struct Picture {
        pub mime: String,
        pub kind: u8,
        pub data: Vec<u8>,
    }

    pub struct Chap {
        pub id: String,
        pub start_ms: u32,
        pub end_ms: u32,
        pub title: String,
    }

    pub struct Ctoc {
        pub top_level: bool,
        pub ordered: bool,
        pub children: Vec<String>,
        pub title: Option<String>,
    }

    /// A 28-bit "synchsafe" integer: four bytes of seven bits each.
    fn synchsafe(b: &[u8]) -> usize {
        assert!(b.iter().all(|x| x & 0x80 == 0), "not synchsafe: {b:02x?}");
        b.iter().fold(0, |acc, x| (acc << 7) | usize::from(*x))
    }

    /// The frames of the tag at the start of `file`.
    pub fn frames(file: &[u8]) -> Vec<Frame> {
        assert_eq!(&file[..3], b"ID3", "an ID3v2 tag first");
        assert_eq!((file[3], file[4]), (4, 0), "ID3v2.4.0");
        assert_eq!(
            file[5], 0,
            "no unsynchronisation, extended header, experimental flag or footer"
        );
        let size = synchsafe(&file[6..10]);
        list(&file[10..10 + size])
    }

    /// Frames one after another, then optional zero padding.
    fn list(mut rest: &[u8]) -> Vec<Frame> {
        let mut frames = Vec::new();
        while rest.len() >= 10 && rest[0] != 0 {
            let id: [u8; 4] = rest[..4].try_into().unwrap();
            assert!(
                id.iter()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
                "frame id {id:?}"
            );
            let size = synchsafe(&rest[4..8]);
            assert_eq!(&rest[8..10], &[0, 0], "frame flags of {id:?}");
            assert!(size > 0 && 10 + size <= rest.len(), "size of {id:?}");
            frames.push(Frame {
                id,
                body: rest[10..10 + size].to_vec(),
            });
            rest = &rest[10 + size..];
        }
        assert!(
            rest.iter().all(|&b| b == 0),
            "only padding after the frames"
        );
        frames
    }

    /// A string ended by a zero byte (ISO-8859-1 element ids and MIME
    /// types are ASCII here), and what follows it.
    fn terminated(b: &[u8]) -> (String, &[u8]) {
        let end = b.iter().position(|&x| x == 0).expect("a terminated string");
        let text = std::str::from_utf8(&b[..end]).expect("ASCII").to_string();
        (text, &b[end + 1..])
    }

    /// A text frame's single value: encoding byte 0 (ISO-8859-1) or 3 (UTF-8).
    pub fn text(body: &[u8]) -> String {
        let value = &body[1..];
        let value = value.strip_suffix(&[0]).unwrap_or(value);
        assert!(!value.contains(&0), "one value");
        match body[0] {
            0 => value.iter().map(|&b| char::from(b)).collect(),
            3 => String::from_utf8(value.to_vec()).expect("UTF-8"),
            e => panic!("text encoding {e} is not one this test reads"),
        }
    }

    /// APIC: encoding, MIME type, picture type, description, data.
    pub fn picture(body: &[u8]) -> Picture {
        let (mime, rest) = terminated(&body[1..]);
        let kind = rest[0];
        let rest = &rest[1..];
        // The description, in the frame's encoding (empty here).
        let rest = match body[0] {
            0 | 3 => terminated(rest).1,
            e => panic!("text encoding {e} is not one this test reads"),
        };
        Picture {
            mime,
            kind,
            data: rest.to_vec(),
        }
    }

    fn title(frames: &[Frame]) -> Option<String> {
        frames
            .iter()
            .find(|f| &f.id == b"TIT2")
            .map(|f| text(&f.body))
    }

    /// CHAP: element id, start and end time (ms), start and end byte
    /// offset, then embedded frames.
    pub fn chap(body: &[u8]) -> Chap {
        let (id, rest) = terminated(body);
        let be = |b: &[u8]| u32::from_be_bytes(b[..4].try_into().unwrap());
        let sub = list(&rest[16..]);
        Chap {
            id,
            start_ms: be(&rest[0..]),
            end_ms: be(&rest[4..]),
            title: title(&sub).expect("a TIT2 in the CHAP"),
        }
    }

    /// CTOC: element id, flags (bit 1 top-level, bit 0 ordered), entry
    /// count, the child element ids, then embedded frames.
    pub fn ctoc(body: &[u8]) -> Ctoc {
        let (_, rest) = terminated(body);
        let flags = rest[0];
        assert_eq!(flags & !3, 0, "CTOC flags {flags:#04x}");
        let count = usize::from(rest[1]);
        let mut rest = &rest[2..];
        let mut children = Vec::with_capacity(count);
        for _ in 0..count {
            let (child, after) = terminated(rest);
            children.push(child);
            rest = after;
        }
        Ctoc {
            top_level: flags & 2 != 0,
            ordered: flags & 1 != 0,
            children,
            title: title(&list(rest)),
        }
    }
}
