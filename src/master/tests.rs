//! Mastering a stream: the gain reaches the target, the limiter keeps
//! sample and inter-sample peaks under the ceiling without clipping, and
//! the same input always gives the same bytes. Levels are checked with the
//! maths written out here, not with the meter. And the QA rule no test file
//! is practical for: the 120-minute limit.

use super::*;
use crate::job::{Master, Profile};

const RATE: u32 = 24_000;

/// Plays `samples` through a reader closure.
fn reader(samples: &[i16]) -> impl FnMut(&mut [i16]) -> Result<usize, AudioError> + '_ {
    let mut at = 0;
    move |out: &mut [i16]| {
        let n = out.len().min(samples.len() - at);
        out[..n].copy_from_slice(&samples[at..at + n]);
        at += n;
        Ok(n)
    }
}

struct Collect(Vec<i16>);

impl PcmSink for Collect {
    fn put(&mut self, block: &[i16]) -> std::io::Result<()> {
        self.0.extend_from_slice(block);
        Ok(())
    }
}

fn master(samples: &[i16], master: Master) -> (Vec<i16>, f64) {
    let m = Mastering::new(RATE, master);
    let gain = m.gain_db(|| reader(samples)).unwrap();
    let mut out = Collect(Vec::new());
    m.apply(gain, reader(samples), &mut [&mut out]).unwrap();
    (out.0, gain)
}

fn rms_db(s: &[i16]) -> f64 {
    let sum: f64 = s.iter().map(|&v| (f64::from(v) / 32_768.0).powi(2)).sum();
    20.0 * (sum / s.len() as f64).sqrt().log10()
}

/// The signal's largest value between samples, by plain sinc interpolation
/// over ±48 samples at eight points between each pair.
fn between_samples_peak(s: &[i16]) -> f64 {
    let mut peak = 0f64;
    for n in 0..s.len() {
        for j in 1..8 {
            let t = n as f64 + f64::from(j) / 8.0;
            let lo = n.saturating_sub(47);
            let hi = (n + 48).min(s.len() - 1);
            let v: f64 = (lo..=hi)
                .map(|k| {
                    let d = std::f64::consts::PI * (t - k as f64);
                    f64::from(s[k]) / 32_768.0 * d.sin() / d
                })
                .sum();
            peak = peak.max(v.abs());
        }
    }
    20.0 * peak.log10()
}

/// Speech-like: a 300 Hz tone whose level moves, with bursts of 5 kHz and
/// a full-scale square wave.
fn program() -> Vec<i16> {
    (0..RATE as usize * 3)
        .map(|i| {
            let t = i as f64 / f64::from(RATE);
            let envelope = 0.3 + 0.25 * (2.0 * std::f64::consts::PI * 2.0 * t).sin();
            let mut v = envelope * (2.0 * std::f64::consts::PI * 300.0 * t).sin();
            if (RATE as usize..RATE as usize + 2_400).contains(&i) {
                v = 0.95 * (2.0 * std::f64::consts::PI * 5_000.0 * t).sin();
            }
            if (2 * RATE as usize..2 * RATE as usize + 1_200).contains(&i) {
                v = if (i / 6) % 2 == 0 { 0.999 } else { -0.999 };
            }
            (v * 32_767.0).round() as i16
        })
        .collect()
}

#[test]
fn acx_reaches_its_rms_and_keeps_every_peak_under_the_ceiling() {
    let input = program();
    let (out, gain) = master(&input, Master::of(Profile::Acx));
    assert_eq!(out.len(), input.len());
    assert!(gain < 0.0, "this program is louder than -20 dB: {gain}");
    assert!((rms_db(&out) - -20.0).abs() <= 0.5, "{}", rms_db(&out));
    let ceiling = 10f64.powf(-3.0 / 20.0) * 32_768.0;
    assert!(out.iter().all(|&s| f64::from(s).abs() <= ceiling));
    let tp = between_samples_peak(&out[RATE as usize - 500..RATE as usize * 2 + 2_000]);
    assert!(tp <= -3.0, "inter-sample peak {tp} dB");
}

#[test]
fn the_limiter_glides_instead_of_clipping() {
    // A 200 Hz sine 6 dB over a -1 dB ceiling, with no make-up gain.
    let input: Vec<i16> = (0..RATE as usize)
        .map(|i| {
            let t = i as f64 / f64::from(RATE);
            (0.999 * 32_767.0 * (2.0 * std::f64::consts::PI * 200.0 * t).sin()) as i16
        })
        .collect();
    let m = Mastering::new(
        RATE,
        Master {
            target: None,
            ..Master::of(Profile::EbuR128)
        },
    );
    let mut out = Collect(Vec::new());
    m.apply(0.0, reader(&input), &mut [&mut out]).unwrap();
    let out = out.0;
    // The gain (output over input) never jumps: at most 1% per sample,
    // where a clipper would jump from 1 to far less within a cycle.
    let gains: Vec<f64> = input
        .iter()
        .zip(&out)
        .filter(|(i, _)| i.abs() > 3_000)
        .map(|(&i, &o)| f64::from(o) / f64::from(i))
        .collect();
    assert!(gains.windows(2).all(|w| (w[0] - w[1]).abs() < 0.01));
    let peak = out.iter().map(|&s| f64::from(s).abs()).fold(0.0, f64::max);
    assert!(20.0 * (peak / 32_768.0).log10() <= -1.0);
    // A sine keeps its shape: after the gain settles, it is the input
    // scaled, within rounding.
    let settled = &gains[gains.len() / 2..];
    let g = settled[0];
    assert!(settled.iter().all(|x| (x - g).abs() < 0.002), "pumping");
}

#[test]
fn mastering_is_deterministic_and_none_changes_nothing() {
    let input = program();
    let mut acx = Master::of(Profile::Acx);
    acx.room_tone_db = Some(-70.0);
    assert_eq!(master(&input, acx).0, master(&input, acx).0);
    let (out, gain) = master(&input, Master::of(Profile::None));
    assert_eq!(gain, 0.0);
    assert_eq!(out, input);
}

/// ACX takes no file over 120 minutes; the whole-book file is no upload
/// (retail takes one file per chapter), so the rule is not applied to it.
/// (A real 121-minute file through `audiobook check` takes about 10 s in a
/// test build: the rule is checked here on its measurement.)
#[test]
fn acx_refuses_a_file_over_120_minutes_but_not_the_book() {
    use crate::master::Measurement;
    use crate::master::qa::{FileQa, Role};
    let long = |minutes: f64| Measurement {
        samples: (minutes * 60.0 * 8_000.0) as u64,
        sample_rate: 8_000,
        duration_secs: minutes * 60.0,
        lufs: -20.0,
        rms_db: -20.0,
        peak_db: -17.0,
        true_peak_db: -17.0,
        noise_floor_db: -120.0,
        head_secs: 0.7,
        tail_secs: 2.0,
    };
    let acx = Master::of(Profile::Acx);
    let failed = |qa: &FileQa| qa.failed().map(|r| r.rule).collect::<Vec<_>>();
    for role in [Role::Chapter, Role::File] {
        let over = FileQa::new("long.wav".into(), role, long(121.0), &acx);
        assert_eq!(failed(&over), ["duration"], "{role:?}");
        let rule = over.failed().next().unwrap();
        assert_eq!(rule.limit, "<= 120.0 min");
        assert!(rule.fix.unwrap().contains("split the chapter"));
        let at = FileQa::new("ok.wav".into(), role, long(120.0), &acx);
        assert!(at.pass, "{role:?}: 120 minutes is allowed");
    }
    let book = FileQa::new("book.wav".into(), Role::Book, long(600.0), &acx);
    assert!(book.pass);
    assert!(book.rules.iter().all(|r| r.rule != "duration"));
}

/// The limiter skips its interpolator where nothing in reach can come
/// near the ceiling: that must never change a sample. The program, at
/// levels that put some of it above the shortcut's threshold and some
/// below, limited with and without the shortcut.
#[test]
fn the_limiters_shortcut_changes_no_sample() {
    let input: Vec<f32> = program().iter().map(|&s| f32::from(s) / 32_768.0).collect();
    for gain in [0.3f32, 0.8, 1.0, 1.6] {
        let scaled: Vec<f32> = input.iter().map(|s| s * gain).collect();
        let run = |mut limiter: limiter::Limiter| {
            let mut out = Vec::new();
            for block in scaled.chunks(1_000) {
                limiter.process(block, &mut out);
            }
            limiter.flush(&mut out);
            out
        };
        let fast = run(limiter::Limiter::new(RATE, -3.0));
        let full = run(limiter::Limiter::new(RATE, -3.0).without_shortcut());
        assert_eq!(fast.len(), scaled.len());
        assert!(
            fast.iter()
                .zip(&full)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "gain {gain}"
        );
    }
}

/// The delivery pass (no meter) writes what the measured pass writes.
#[test]
fn playing_writes_what_applying_writes() {
    let input = program();
    let m = Mastering::new(RATE, Master::of(Profile::Acx));
    let gain = m.gain_db(|| reader(&input)).unwrap();
    let (mut applied, mut played) = (Collect(Vec::new()), Collect(Vec::new()));
    m.apply(gain, reader(&input), &mut [&mut applied]).unwrap();
    m.play(gain, reader(&input), &mut [&mut played]).unwrap();
    assert_eq!(applied.0, played.0);
}
