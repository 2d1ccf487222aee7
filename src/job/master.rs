//! Validation of `[master]` (the profile the delivered files are mastered
//! to, and its overrides) and of `[audio]` (sample rate, gaps, chapter head
//! and tail, trim keys), whose room the profile bounds.
//!
//! A job file without `[master]` gets the `acx` profile: every file a
//! render delivers is then measured and mastered to what audiobook
//! retailers ask. Under `acx` chosen in the job file, head and tail room
//! outside the profile's range is refused here, before anything renders,
//! rather than found by the QA after a night of rendering; under the
//! default `acx` it is a warning (older job files keep rendering, and the
//! QA reports the room).

use std::ops::RangeInclusive;

use toml::Spanned;

use super::raw::{RawAudio, RawMaster};
use super::{Audio, Check, Trim};

/// What the delivered files are mastered to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Audiobook retail (ACX, Findaway/Spotify, most Chinese platforms).
    Acx,
    /// EBU R128 broadcast loudness.
    EbuR128,
    /// Podcast loudness (Apple, Spotify).
    Podcast,
    /// No mastering: the stitched clips as they are.
    None,
}

impl Profile {
    pub const ALL: &[(&str, Profile)] = &[
        ("acx", Profile::Acx),
        ("ebu-r128", Profile::EbuR128),
        ("podcast", Profile::Podcast),
        ("none", Profile::None),
    ];

    pub fn name(self) -> &'static str {
        Profile::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("none", |(name, _)| name)
    }

    /// The loudness the profile aims at.
    pub fn target(self) -> Option<Target> {
        match self {
            Profile::Acx => Some(Target::RmsDb(-20.0)),
            Profile::EbuR128 => Some(Target::Lufs(-23.0)),
            Profile::Podcast => Some(Target::Lufs(-16.0)),
            Profile::None => None,
        }
    }

    /// The highest peak (sample and true peak) the profile allows, dBFS.
    pub fn ceiling_db(self) -> Option<f64> {
        match self {
            Profile::Acx => Some(-3.0),
            Profile::EbuR128 | Profile::Podcast => Some(-1.0),
            Profile::None => None,
        }
    }

    /// Room at the head and tail of each file the profile asks for, ms.
    pub fn room_ms(self) -> Option<(RangeInclusive<u32>, RangeInclusive<u32>)> {
        match self {
            Profile::Acx => Some((500..=1_000, 1_000..=5_000)),
            _ => None,
        }
    }
}

/// One gain per chapter brings it to this.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Integrated loudness (EBU R128), LUFS.
    Lufs(f64),
    /// RMS of the whole file, dBFS (a full-scale sine is -3 dB).
    RmsDb(f64),
}

/// `[master]`, resolved: the profile's values with the job's overrides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Master {
    pub profile: Profile,
    /// `None` with profile `none`: no gain.
    pub target: Option<Target>,
    /// `None` with profile `none`: no limiter.
    pub ceiling_db: Option<f64>,
    /// Low-level noise from a fixed seed in place of digital silence.
    pub room_tone_db: Option<f64>,
}

impl Master {
    pub fn of(profile: Profile) -> Master {
        Master {
            profile,
            target: profile.target(),
            ceiling_db: profile.ceiling_db(),
            room_tone_db: None,
        }
    }
}

impl Default for Master {
    fn default() -> Self {
        Master::of(Profile::Acx)
    }
}

const LOUDNESS_DB: RangeInclusive<f64> = -40.0..=-10.0;
const CEILING_DB: RangeInclusive<f64> = -12.0..=0.0;
/// Up to -60 dB: ACX's noise floor limit, and low enough never to be taken
/// for speech by the edge detector (-50 dBFS).
const ROOM_TONE_DB: RangeInclusive<f64> = -96.0..=-60.0;
const TRIM_DB: RangeInclusive<i64> = -80..=-20;
const HOLD_MS: RangeInclusive<i64> = 0..=500;

impl Check<'_> {
    pub(super) fn master(&mut self, raw: Option<RawMaster>) -> Master {
        let raw = raw.unwrap_or_default();
        self.profile_given = raw.profile.is_some();
        let profile = self
            .choice(raw.profile, "master", "profile", Profile::ALL)
            .unwrap_or(Profile::Acx);
        let mut master = Master::of(profile);
        let lufs = self.decibels(raw.target_lufs, "target_lufs", LOUDNESS_DB);
        let rms = self.decibels(raw.target_rms_db, "target_rms_db", LOUDNESS_DB);
        let ceiling = self.decibels(raw.ceiling_db, "ceiling_db", CEILING_DB);
        master.room_tone_db = self
            .decibels(raw.room_tone_db, "room_tone_db", ROOM_TONE_DB)
            .map(|(db, _)| db);
        if let (Some((_, span)), Some(_)) = (&lufs, &rms) {
            self.problems.at(
                span.clone(),
                "target_lufs and target_rms_db are both set; keep one of them in [master]",
            );
        }
        let overrides = [&lufs, &rms, &ceiling];
        if profile == Profile::None {
            for (_, span) in overrides.into_iter().flatten() {
                self.problems.at(
                    span.clone(),
                    "profile = \"none\" does no mastering, so this has no effect; remove it or \
                     set [master] profile to \"acx\", \"ebu-r128\" or \"podcast\"",
                );
            }
            return master;
        }
        if let Some((db, _)) = lufs {
            master.target = Some(Target::Lufs(db));
        }
        if let Some((db, _)) = rms {
            master.target = Some(Target::RmsDb(db));
        }
        if let Some((db, _)) = ceiling {
            master.ceiling_db = Some(db);
        }
        master
    }

    /// A decibel value in range, with its span for later messages.
    fn decibels(
        &mut self,
        value: Option<Spanned<f64>>,
        key: &str,
        range: RangeInclusive<f64>,
    ) -> Option<(f64, std::ops::Range<usize>)> {
        let value = value?;
        let db = *value.get_ref();
        if range.contains(&db) {
            return Some((db, value.span()));
        }
        let (lo, hi) = (range.start(), range.end());
        self.problems.at(
            value.span(),
            format!(
                "{key} must be between {lo} and {hi} dB, got {db}; set [master] {key} to a value \
                 in {lo}..={hi}"
            ),
        );
        None
    }

    pub(super) fn trim(&mut self, raw: &RawAudio) -> Trim {
        let defaults = Trim::default();
        Trim {
            enabled: raw.trim.unwrap_or(defaults.enabled),
            threshold_db: self.int(
                raw.trim_threshold_db.clone(),
                "audio",
                "trim_threshold_db",
                TRIM_DB,
                defaults.threshold_db,
            ),
            hold_ms: self.int(
                raw.trim_hold_ms.clone(),
                "audio",
                "trim_hold_ms",
                HOLD_MS,
                defaults.hold_ms,
            ),
        }
    }

    /// Head or tail room the profile would fail, refused before rendering.
    /// The room as the QA measures it is the setting, or up to `hold_ms`
    /// more: a quiet onset (fade) kept before the first (after the last)
    /// speech follows the head (precedes the tail), and what of it stays
    /// under the QA's speech threshold reads as room.
    pub(super) fn room_for_profile(
        &mut self,
        master: &Master,
        given: Option<Spanned<i64>>,
        ms: u32,
        hold_ms: u32,
        key: &str,
    ) {
        let (Some(given), Some((head, tail))) = (given, master.profile.room_ms()) else {
            return;
        };
        let (range, where_) = if key == "chapter_head_ms" {
            (head, "head")
        } else {
            (tail, "tail")
        };
        let highest = range.end().saturating_sub(hold_ms);
        if (*range.start()..=highest).contains(&ms) {
            return;
        }
        let message = if ms > highest && range.contains(&ms) {
            format!(
                "{key} = {ms} with trim_hold_ms = {hold_ms} can measure up to {} ms, over what \
                 [master] profile = \"{}\" asks for the {where_} of each file ({}..={} ms): the \
                 quiet sound kept around the speech lies next to the {where_}; set [audio] {key} \
                 to {highest} or less",
                ms + hold_ms,
                master.profile.name(),
                range.start(),
                range.end()
            )
        } else {
            format!(
                "{key} = {ms} is outside what [master] profile = \"{}\" asks for the {where_} \
                 of each file ({}..={} ms); set [audio] {key} in {}..={highest}, or choose \
                 another profile",
                master.profile.name(),
                range.start(),
                range.end(),
                range.start(),
            )
        };
        if self.profile_given {
            self.problems.at(given.span(), message);
        } else {
            // A job file written before profiles existed gets `acx` by
            // default; its room is then reported by the QA after the render
            // (exit 1), not refused: last night's cron job must still run.
            tracing::warn!("{}: {message}", self.problems.src.shown.display());
        }
    }
}

const SAMPLE_RATES: &[i64] = &[8000, 16000, 22050, 24000, 32000, 44100, 48000];
const GAP_MS: RangeInclusive<i64> = 0..=10_000;
const CHAPTER_SILENCE_MS: RangeInclusive<i64> = 0..=30_000;

impl Check<'_> {
    pub(super) fn audio(&mut self, raw: Option<RawAudio>, master: &Master) -> Audio {
        let raw = raw.unwrap_or_default();
        let head = raw.chapter_head_ms.clone();
        let trailing = raw.chapter_trailing_ms.clone();
        let trim = self.trim(&raw);
        let audio = Audio {
            sample_rate: self.sample_rate(raw.sample_rate),
            sentence_gap_ms: self.int(raw.sentence_gap_ms, "audio", "sentence_gap_ms", GAP_MS, 250),
            paragraph_gap_ms: self.int(
                raw.paragraph_gap_ms,
                "audio",
                "paragraph_gap_ms",
                GAP_MS,
                700,
            ),
            chapter_head_ms: self.int(
                raw.chapter_head_ms,
                "audio",
                "chapter_head_ms",
                CHAPTER_SILENCE_MS,
                500,
            ),
            chapter_trailing_ms: self.int(
                raw.chapter_trailing_ms,
                "audio",
                "chapter_trailing_ms",
                CHAPTER_SILENCE_MS,
                2000,
            ),
            trim,
        };
        let hold = if audio.trim.enabled {
            audio.trim.hold_ms
        } else {
            0
        };
        self.room_for_profile(master, head, audio.chapter_head_ms, hold, "chapter_head_ms");
        self.room_for_profile(
            master,
            trailing,
            audio.chapter_trailing_ms,
            hold,
            "chapter_trailing_ms",
        );
        audio
    }

    fn sample_rate(&mut self, raw: Option<Spanned<i64>>) -> u32 {
        let Some(raw) = raw else { return 24_000 };
        let rate = *raw.get_ref();
        if SAMPLE_RATES.contains(&rate)
            && let Ok(rate) = u32::try_from(rate)
        {
            return rate;
        }
        let rates: Vec<String> = SAMPLE_RATES.iter().map(i64::to_string).collect();
        self.problems.at(
            raw.span(),
            format!(
                "sample_rate must be one of {}, got {rate}; set [audio] sample_rate to one of these",
                rates.join(", ")
            ),
        );
        24_000
    }
}
