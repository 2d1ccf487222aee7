//! The QA verdict: each file's measurement against the rules of a profile,
//! naming every rule that fails and what to change, and the `qa.json` and
//! `qa.csv` files a render leaves next to its outputs (`audiobook check`
//! prints the same).

use std::path::Path;

use serde::Serialize;

use super::Measurement;
use crate::job::{Master, Profile, Target};

/// What a file is to the QA: the whole-book file is no retail upload (ACX
/// and its like take one file per chapter), so the length limit of one
/// uploaded file does not apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Chapter,
    Book,
    /// A file given to `audiobook check`: every rule applies.
    File,
}

/// One rule of a profile, checked.
#[derive(Debug, Clone, Serialize)]
pub struct RuleResult {
    pub rule: &'static str,
    pub pass: bool,
    pub value: f64,
    /// What the rule allows, in words: `<= -3.0 dBFS`, `-23.0..=-18.0 dB`.
    pub limit: String,
    /// What to change when it fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<&'static str>,
}

/// What a render's QA row measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measured {
    /// The mastered stream: what FLAC and WAV files hold sample for sample.
    Mastered,
    /// The delivered lossy file (MP3, M4B), decoded.
    Decoded,
}

impl Measured {
    fn name(self) -> &'static str {
        match self {
            Measured::Mastered => "mastered",
            Measured::Decoded => "decoded",
        }
    }
}

/// A file's measurement and verdict.
#[derive(Debug, Clone, Serialize)]
pub struct FileQa {
    pub file: String,
    pub role: Role,
    pub pass: bool,
    /// A render's rows say what they measured; `check` measures the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured: Option<Measured>,
    #[serde(flatten)]
    pub measurement: Measurement,
    pub rules: Vec<RuleResult>,
}

impl FileQa {
    pub fn new(file: String, role: Role, measurement: Measurement, master: &Master) -> FileQa {
        let rules = check(master, &measurement, role);
        FileQa {
            file,
            role,
            pass: rules.iter().all(|r| r.pass),
            measured: None,
            measurement,
            rules,
        }
    }

    /// A render's row: `measured` says of what; a decoded file whose peak
    /// fails was raised by its encoder, so the fix is the bitrate.
    pub fn measured(mut self, measured: Measured) -> FileQa {
        self.measured = Some(measured);
        if measured == Measured::Decoded {
            for rule in self.rules.iter_mut().filter(|r| !r.pass) {
                if matches!(rule.rule, "peak" | "true_peak") {
                    rule.fix = Some(
                        "the encoder raised this peak over the ceiling even after encoding it \
                         again with the limiter lower: raise [output] mp3_bitrate or \
                         m4b_bitrate, or lower [master] ceiling_db",
                    );
                }
            }
        }
        self
    }

    pub fn failed(&self) -> impl Iterator<Item = &RuleResult> {
        self.rules.iter().filter(|r| !r.pass)
    }
}

/// Loudness a file may miss its target by: EBU R128 allows ±0.5 LU where
/// exact normalisation is possible (files); podcast platforms ±1 LU.
fn loudness_tolerance(profile: Profile) -> f64 {
    match profile {
        Profile::Podcast => 1.0,
        _ => 0.5,
    }
}

/// The rules of `master`'s profile (with its overrides) applied to `m`.
pub fn check(master: &Master, m: &Measurement, role: Role) -> Vec<RuleResult> {
    let mut rules = Vec::new();
    let ceiling = master.ceiling_db.unwrap_or(0.0);
    match master.profile {
        Profile::Acx => {
            rules.push(range(
                "rms",
                m.rms_db,
                -23.0,
                -18.0,
                "dB",
                "remove [master] target_rms_db / target_lufs, or set target_rms_db in -23..=-18",
            ));
            rules.push(at_most(
                "peak",
                m.peak_db,
                ceiling,
                "dBFS",
                "set [master] ceiling_db to -3 or lower",
            ));
            rules.push(at_most(
                "noise_floor",
                m.noise_floor_db,
                -60.0,
                "dB",
                if master.room_tone_db.is_some() {
                    "the room tone adds to the noise the voice's clips carry: lower [master] \
                     room_tone_db (to -70 or below) or remove it"
                } else {
                    "no room tone is added, so the noise is in the audio itself (a cloud voice's \
                     clips carry it, or the pauses are too short to hold a quiet stretch): give \
                     [audio] sentence_gap_ms at least 100, or choose a cleaner voice"
                },
            ));
            rules.push(range(
                "head_room",
                m.head_secs,
                0.5,
                1.0,
                "s",
                "set [audio] chapter_head_ms in 500..=1000 less trim_hold_ms (960 by default)",
            ));
            rules.push(range(
                "tail_room",
                m.tail_secs,
                1.0,
                5.0,
                "s",
                "set [audio] chapter_trailing_ms in 1000..=5000 less trim_hold_ms (4960 by default)",
            ));
            if role != Role::Book {
                rules.push(at_most(
                    "duration",
                    m.duration_secs / 60.0,
                    120.0,
                    "min",
                    "split the chapter (a new heading or chapter_pattern line) so no file is over 120 minutes",
                ));
            }
        }
        Profile::EbuR128 | Profile::Podcast => {
            let target = match master.target {
                Some(Target::Lufs(lufs)) => lufs,
                _ => master.profile.target().map_or(-23.0, |t| match t {
                    Target::Lufs(l) | Target::RmsDb(l) => l,
                }),
            };
            let tolerance = loudness_tolerance(master.profile);
            rules.push(range(
                "loudness",
                m.lufs,
                target - tolerance,
                target + tolerance,
                "LUFS",
                "remove [master] target_rms_db, or set target_lufs to the profile's target",
            ));
            rules.push(at_most(
                "true_peak",
                m.true_peak_db,
                ceiling,
                "dBTP",
                "set [master] ceiling_db to the profile's ceiling or lower",
            ));
        }
        Profile::None => {}
    }
    rules
}

/// How far the peak `master`'s profile judges (the sample peak for `acx`,
/// else the true peak) is over its ceiling, in dB, when its rule would fail
/// for it; `None` when it passes or there is no ceiling.
pub fn peak_excess(master: &Master, m: &Measurement) -> Option<f64> {
    let ceiling = master.ceiling_db?;
    let peak = match master.profile {
        Profile::Acx => m.peak_db,
        Profile::EbuR128 | Profile::Podcast | Profile::None => m.true_peak_db,
    };
    (shown(peak) > ceiling).then_some(peak - ceiling)
}

/// Values are compared as shown (to 0.01), so a file that reads -3.00
/// passes `<= -3.0` whatever the digits beyond.
fn shown(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn range(
    rule: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    unit: &str,
    fix: &'static str,
) -> RuleResult {
    let pass = (lo..=hi).contains(&shown(value));
    RuleResult {
        rule,
        pass,
        value,
        limit: format!("{lo:.1}..={hi:.1} {unit}"),
        fix: (!pass).then_some(fix),
    }
}

fn at_most(rule: &'static str, value: f64, max: f64, unit: &str, fix: &'static str) -> RuleResult {
    let pass = shown(value) <= max;
    RuleResult {
        rule,
        pass,
        value,
        limit: format!("<= {max:.1} {unit}"),
        fix: (!pass).then_some(fix),
    }
}

/// `qa.json`: the profile and every file's measurement and verdict.
#[derive(Debug, Serialize)]
struct QaFile<'a> {
    profile: &'static str,
    pass: bool,
    files: &'a [FileQa],
}

/// One line of `qa.csv`.
#[derive(Debug, Serialize)]
struct QaRow<'a> {
    file: &'a str,
    verdict: &'static str,
    failed_rules: String,
    duration_secs: String,
    sample_rate: u32,
    lufs: String,
    rms_db: String,
    peak_db: String,
    true_peak_db: String,
    noise_floor_db: String,
    head_secs: String,
    tail_secs: String,
    measured: &'static str,
}

/// The QA of `files` as JSON.
pub fn to_json(profile: Profile, files: &[FileQa]) -> serde_json::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(&QaFile {
        profile: profile.name(),
        pass: files.iter().all(|f| f.pass),
        files,
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The QA of `files` as CSV, one line per file.
pub fn to_csv(files: &[FileQa]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    for f in files {
        let m = &f.measurement;
        let fixed = |v: f64| format!("{v:.2}");
        out.serialize(QaRow {
            file: &f.file,
            verdict: if f.pass { "pass" } else { "fail" },
            failed_rules: f.failed().map(|r| r.rule).collect::<Vec<_>>().join(" "),
            duration_secs: format!("{:.3}", m.duration_secs),
            sample_rate: m.sample_rate,
            lufs: fixed(m.lufs),
            rms_db: fixed(m.rms_db),
            peak_db: fixed(m.peak_db),
            true_peak_db: fixed(m.true_peak_db),
            noise_floor_db: fixed(m.noise_floor_db),
            head_secs: format!("{:.3}", m.head_secs),
            tail_secs: format!("{:.3}", m.tail_secs),
            measured: f.measured.map_or("", Measured::name),
        })?;
    }
    out.into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// Writes `qa.json` and `qa.csv` into `dir`, atomically.
pub fn write_files(dir: &Path, profile: Profile, files: &[FileQa]) -> std::io::Result<()> {
    let json = to_json(profile, files).map_err(std::io::Error::other)?;
    crate::atomic::write_atomic(&dir.join("qa.json"), &json)?;
    let csv = to_csv(files).map_err(std::io::Error::other)?;
    crate::atomic::write_atomic(&dir.join("qa.csv"), &csv)
}

/// A file's measurement in one line, for people.
pub fn describe(m: &Measurement) -> String {
    format!(
        "{:.1} s at {} Hz, {:.1} LUFS, RMS {:.1} dB, peak {:.1} dBFS, true peak {:.1} dBTP, \
         noise floor {:.1} dB, head {:.2} s, tail {:.2} s",
        m.duration_secs,
        m.sample_rate,
        m.lufs,
        m.rms_db,
        m.peak_db,
        m.true_peak_db,
        m.noise_floor_db,
        m.head_secs,
        m.tail_secs
    )
}

/// A failed rule in one line: `peak -0.50 dBFS, allowed <= -3.0 dBFS`.
pub fn describe_failure(r: &RuleResult) -> String {
    format!("{} {:.2}, allowed {}", r.rule, r.value, r.limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::Profile;

    /// A measurement that passes `acx` but for its noise floor.
    fn noisy() -> Measurement {
        Measurement {
            samples: 240_000,
            sample_rate: 24_000,
            duration_secs: 10.0,
            lufs: -20.0,
            rms_db: -20.0,
            peak_db: -4.0,
            true_peak_db: -3.8,
            noise_floor_db: -52.0,
            head_secs: 0.7,
            tail_secs: 2.0,
        }
    }

    fn floor_fix(master: &Master) -> &'static str {
        let rules = check(master, &noisy(), Role::Chapter);
        let failed: Vec<_> = rules.iter().filter(|r| !r.pass).collect();
        assert_eq!(failed.len(), 1, "{rules:?}");
        assert_eq!(failed[0].rule, "noise_floor");
        failed[0].fix.expect("a fix")
    }

    /// The advice follows the cause: with no room tone set, telling the
    /// user to lower it sends them after a key they never wrote.
    #[test]
    fn a_noise_floor_failure_advises_by_its_cause() {
        let mut master = Master::of(Profile::Acx);
        master.room_tone_db = None;
        let fix = floor_fix(&master);
        assert!(!fix.contains("room_tone_db"), "{fix}");
        assert!(fix.contains("sentence_gap_ms"), "{fix}");
        master.room_tone_db = Some(-60.0);
        assert!(floor_fix(&master).contains("room_tone_db"));
    }
}
