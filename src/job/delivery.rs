//! The delivery half of a job file: `[output]`'s formats, split, subtitles
//! and bitrates, and the book's metadata in `[book]` (narrator, publisher,
//! year, description, ISBN, series, cover). Checked here once, like every
//! other key, so the delivery stage never re-checks a value. A cover is
//! opened and its header read: JPEG or PNG, square; under 2400 px a side
//! (what ACX asks for) is a warning, not an error.

use std::path::PathBuf;

use toml::Spanned;

use super::raw::{RawBook, RawOutput};
use super::{Book, Check, Language};

/// An audio format the delivery folder can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Mp3,
    M4b,
    Flac,
    Wav,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Mp3 => "mp3",
            Format::M4b => "m4b",
            Format::Flac => "flac",
            Format::Wav => "wav",
        }
    }
}

/// Which files a format is delivered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// One file per chapter (`NN - Title.mp3`).
    Chapter,
    /// One file for the whole book, with chapter marks.
    Book,
    /// Both.
    Both,
}

impl Split {
    pub fn chapters(self) -> bool {
        matches!(self, Split::Chapter | Split::Both)
    }

    pub fn book(self) -> bool {
        matches!(self, Split::Book | Split::Both)
    }
}

/// A subtitle format written beside each delivered audio file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubtitleFormat {
    Srt,
    Vtt,
    Lrc,
}

impl SubtitleFormat {
    pub fn extension(self) -> &'static str {
        match self {
            SubtitleFormat::Srt => "srt",
            SubtitleFormat::Vtt => "vtt",
            SubtitleFormat::Lrc => "lrc",
        }
    }
}

/// `[book] cover`, opened and measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover {
    pub path: PathBuf,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
}

/// The book's metadata beyond title, author and language.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BookMeta {
    /// As written, or `None` for the default that names the voice.
    pub narrator: Option<String>,
    pub publisher: Option<String>,
    pub year: Option<u16>,
    pub description: Option<String>,
    /// Digits (and a final X), hyphens and spaces removed.
    pub isbn: Option<String>,
    pub series: Option<String>,
    pub cover: Option<Cover>,
}

/// What `[output]` asks to be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// In the order given, without repeats; never empty.
    pub formats: Vec<Format>,
    pub split: Split,
    pub subtitles: Vec<SubtitleFormat>,
    /// kbit/s, constant.
    pub mp3_bitrate: u32,
    /// kbit/s of the AAC-LC stream in an M4B.
    pub m4b_bitrate: u32,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            formats: vec![Format::Mp3],
            split: Split::Chapter,
            subtitles: Vec::new(),
            mp3_bitrate: 192,
            m4b_bitrate: 64,
        }
    }
}

const FORMATS: &[(&str, Format)] = &[
    ("mp3", Format::Mp3),
    ("m4b", Format::M4b),
    ("flac", Format::Flac),
    ("wav", Format::Wav),
];
const SPLITS: &[(&str, Split)] = &[
    ("chapter", Split::Chapter),
    ("book", Split::Book),
    ("both", Split::Both),
];
const SUBTITLES: &[(&str, SubtitleFormat)] = &[
    ("srt", SubtitleFormat::Srt),
    ("vtt", SubtitleFormat::Vtt),
    ("lrc", SubtitleFormat::Lrc),
];
/// The MPEG-1 Layer III bitrates LAME encodes at 44.1 kHz as CBR.
pub const MP3_BITRATES: &[u32] = &[32, 40, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
/// ACX's minimum cover size, in pixels a side.
pub const COVER_MIN_PX: u32 = 2400;

impl Check<'_> {
    pub(super) fn book_meta(&mut self, raw: &mut RawBook) -> BookMeta {
        let mut text = |value: Option<Spanned<String>>, key: &str| {
            value.map(|v| self.non_empty(v, "book", key, "a value or remove it"))
        };
        let narrator = text(raw.narrator.take(), "narrator");
        let publisher = text(raw.publisher.take(), "publisher");
        let description = text(raw.description.take(), "description");
        let series = text(raw.series.take(), "series");
        let isbn = raw.isbn.take().and_then(|v| self.isbn(v));
        let year = raw
            .year
            .take()
            .map(|v| self.int::<u16>(Some(v), "book", "year", 1000..=9999, 0));
        let cover = raw.cover.take().and_then(|v| self.cover(v));
        BookMeta {
            narrator,
            publisher,
            year,
            description,
            isbn,
            series,
            cover,
        }
    }

    fn isbn(&mut self, value: Spanned<String>) -> Option<String> {
        let digits: String = value
            .get_ref()
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if isbn_is_valid(&digits) {
            return Some(digits);
        }
        self.problems.at(
            value.span(),
            format!(
                "isbn {:?} is not a valid ISBN-10 or ISBN-13 (wrong length or check digit); \
                 copy it from the book's imprint page into [book] isbn",
                value.get_ref()
            ),
        );
        None
    }

    fn cover(&mut self, value: Spanned<String>) -> Option<Cover> {
        let path = self.base.resolve(value.get_ref());
        let shown = self.base.show(&path);
        match read_cover(&path) {
            Ok(cover) => {
                if cover.width.min(cover.height) < COVER_MIN_PX {
                    self.warnings.push(format!(
                        "[book] cover {shown} is {}×{} px; ACX asks for at least {COVER_MIN_PX}×{COVER_MIN_PX}",
                        cover.width, cover.height
                    ));
                }
                Some(cover)
            }
            Err(reason) => {
                self.problems
                    .at(value.span(), format!("cover {shown}: {reason}"));
                None
            }
        }
    }

    pub(super) fn delivery(&mut self, raw: &mut RawOutput) -> Delivery {
        let defaults = Delivery::default();
        let formats = match raw.formats.take() {
            Some(list) => self.list(list, "formats", FORMATS, false),
            None => defaults.formats,
        };
        let subtitles = match raw.subtitles.take() {
            Some(list) => self.list(list, "subtitles", SUBTITLES, true),
            None => defaults.subtitles,
        };
        let split = self
            .choice(raw.split.take(), "output", "split", SPLITS)
            .unwrap_or(defaults.split);
        let mp3_bitrate = match raw.mp3_bitrate.take() {
            Some(v) if u32::try_from(*v.get_ref()).is_ok_and(|b| MP3_BITRATES.contains(&b)) => {
                *v.get_ref() as u32
            }
            Some(v) => {
                let rates: Vec<String> = MP3_BITRATES.iter().map(u32::to_string).collect();
                self.problems.at(
                    v.span(),
                    format!(
                        "mp3_bitrate must be one of {} (kbit/s), got {}; ACX asks for 192",
                        rates.join(", "),
                        v.get_ref()
                    ),
                );
                defaults.mp3_bitrate
            }
            None => defaults.mp3_bitrate,
        };
        let m4b_bitrate = self.int(
            raw.m4b_bitrate.take(),
            "output",
            "m4b_bitrate",
            24..=320,
            64,
        );
        Delivery {
            formats,
            split,
            subtitles,
            mp3_bitrate,
            m4b_bitrate,
        }
    }

    /// A list of names from `options`, in order, each once.
    fn list<T: Copy + PartialEq>(
        &mut self,
        list: Spanned<Vec<Spanned<String>>>,
        key: &str,
        options: &[(&str, T)],
        may_be_empty: bool,
    ) -> Vec<T> {
        if list.get_ref().is_empty() && !may_be_empty {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            self.problems.at(
                list.span(),
                format!(
                    "{key} is empty; list at least one of {} in [output] {key}",
                    names.join(", ")
                ),
            );
        }
        let mut picked = Vec::new();
        for entry in list.into_inner() {
            let span = entry.span();
            let Some(value) = self.choice(Some(entry), "output", key, options) else {
                continue;
            };
            if picked.contains(&value) {
                self.problems
                    .at(span, format!("{key} lists this twice; list each once"));
            } else {
                picked.push(value);
            }
        }
        picked
    }
}

/// ISBN-10 (weights 10..1, X = 10) or ISBN-13 (weights 1,3) check digit.
fn isbn_is_valid(digits: &str) -> bool {
    let values: Option<Vec<u32>> = digits
        .chars()
        .enumerate()
        .map(|(i, c)| match c {
            'X' if i == 9 && digits.len() == 10 => Some(10),
            c => c.to_digit(10),
        })
        .collect();
    let Some(values) = values else { return false };
    match values.len() {
        10 => {
            let sum: u32 = values.iter().zip((1..=10).rev()).map(|(v, w)| v * w).sum();
            sum.is_multiple_of(11)
        }
        13 => {
            let sum: u32 = values
                .iter()
                .enumerate()
                .map(|(i, v)| if i % 2 == 0 { *v } else { v * 3 })
                .sum();
            sum.is_multiple_of(10)
        }
        _ => false,
    }
}

/// Opens a cover and reads its size from the header: JPEG or PNG, square.
pub fn read_cover(path: &std::path::Path) -> Result<Cover, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read it: {e}; check [book] cover"))?;
    let mime = match imagesize::image_type(&bytes) {
        Ok(imagesize::ImageType::Jpeg) => "image/jpeg",
        Ok(imagesize::ImageType::Png) => "image/png",
        _ => {
            return Err("is not a JPEG or PNG image; save the cover as .jpg or .png".to_string());
        }
    };
    let size = imagesize::blob_size(&bytes)
        .map_err(|e| format!("cannot read the image size: {e}; save it again as JPEG or PNG"))?;
    let (width, height) = (size.width as u32, size.height as u32);
    if width != height {
        return Err(format!(
            "is {width}×{height} px, not square; retailers (ACX, Apple Books, Google Play) ask \
             for a square cover: crop it to {0}×{0}",
            width.min(height)
        ));
    }
    Ok(Cover {
        path: path.to_path_buf(),
        mime,
        width,
        height,
    })
}

const LANGUAGES: &[(&str, Language)] = &[
    ("zh", Language::Zh),
    ("en", Language::En),
    ("mixed", Language::Mixed),
];

impl Check<'_> {
    pub(super) fn book(&mut self, raw: Option<Spanned<RawBook>>) -> Book {
        let mut book = Book {
            title: String::new(),
            author: None,
            language: Language::Mixed,
            narrator: String::new(),
            meta: BookMeta::default(),
        };
        let Some(raw) = self.required_table(raw, "book", "title") else {
            return book;
        };
        let (span, mut raw) = (raw.span(), raw.into_inner());
        book.meta = self.book_meta(&mut raw);
        book.narrator = book.meta.narrator.clone().unwrap_or_default();
        match raw.title {
            Some(title) => book.title = self.non_empty(title, "book", "title", "the book's title"),
            None => self.missing_key(span, "book", "title"),
        }
        book.author = raw
            .author
            .map(|author| self.non_empty(author, "book", "author", "a name or remove it"));
        // `auto` is what `segment --lang` used to call it: kept as an alias.
        let language = raw.language.map(|l| {
            if l.get_ref() == "auto" {
                Spanned::new(l.span(), "mixed".to_string())
            } else {
                l
            }
        });
        book.language = self
            .choice(language, "book", "language", LANGUAGES)
            .unwrap_or(Language::Mixed);
        book
    }
}

#[cfg(test)]
mod tests {
    use super::isbn_is_valid;

    #[test]
    fn isbn_check_digits() {
        assert!(isbn_is_valid("9780141439518"));
        assert!(!isbn_is_valid("9780141439519"));
        assert!(isbn_is_valid("0141439513"));
        assert!(isbn_is_valid("080442957X"));
        assert!(!isbn_is_valid("12345"));
    }
}
