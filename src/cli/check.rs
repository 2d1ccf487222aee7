//! `audiobook check FILE… [--profile P] [--json | --csv]`: measures WAV
//! files with the render's own meter and prints, per file, the measurement
//! and a verdict per rule of the profile, naming every rule that fails.
//! Exit 1 when a file fails, 2 when a file cannot be read.

use std::io::{BufReader, Write};
use std::path::Path;

use super::args::CheckArgs;
use super::{CliError, Exit};
use crate::job::{Master, Profile};
use crate::master::Meter;
use crate::master::qa::{self, FileQa, Role};

/// Frames read per block.
const BLOCK_FRAMES: usize = 16 * 1024;

pub(super) fn run(args: &CheckArgs) -> Result<Exit, CliError> {
    let profile = Profile::from(args.profile);
    let master = Master::of(profile);
    let mut results = Vec::new();
    let mut unreadable = Vec::new();
    for path in &args.files {
        match measure(path) {
            Ok(m) => results.push(FileQa::new(
                path.display().to_string(),
                Role::File,
                m,
                &master,
            )),
            Err(message) => unreadable.push(message),
        }
    }
    let mut out = std::io::stdout().lock();
    let printed = if args.json {
        qa::to_json(profile, &results)
            .map_err(|e| e.to_string())
            .and_then(|bytes| out.write_all(&bytes).map_err(|e| e.to_string()))
    } else if args.csv {
        qa::to_csv(&results)
            .map_err(|e| e.to_string())
            .and_then(|bytes| out.write_all(&bytes).map_err(|e| e.to_string()))
    } else {
        print_text(&mut out, profile, &results).map_err(|e| e.to_string())
    };
    printed.map_err(|e| CliError {
        exit: Exit::Failed,
        message: format!("writing the results: {e}"),
    })?;
    for message in &unreadable {
        eprintln!("error: {message}");
    }
    let failed = results.iter().any(|f| !f.pass);
    Ok(match (unreadable.is_empty(), failed) {
        (false, _) => Exit::BadInput,
        (true, true) => Exit::Failed,
        (true, false) => Exit::Ok,
    })
}

fn print_text(out: &mut impl Write, profile: Profile, results: &[FileQa]) -> std::io::Result<()> {
    for f in results {
        let verdict = if f.pass { "pass" } else { "FAIL" };
        writeln!(out, "{}: {verdict} ({})", f.file, profile.name())?;
        writeln!(out, "  {}", qa::describe(&f.measurement))?;
        for r in &f.rules {
            let mark = if r.pass { "ok  " } else { "FAIL" };
            writeln!(
                out,
                "  {mark} {:<12} {:>8.2}  allowed {}",
                r.rule, r.value, r.limit
            )?;
        }
    }
    Ok(())
}

/// Reads a WAV file (any PCM or float format, any channel count up to 8)
/// through the meter, in blocks.
fn measure(path: &Path) -> Result<crate::master::Measurement, String> {
    let name = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("{name}: cannot open: {e}"))?;
    let mut reader = hound::WavReader::new(BufReader::new(file))
        .map_err(|e| format!("{name}: not a readable wav file: {e}"))?;
    let spec = reader.spec();
    if !(1..=8).contains(&spec.channels) || spec.sample_rate < 8_000 {
        return Err(format!(
            "{name}: {} channel(s) at {} Hz; check measures 1 to 8 channels at 8000 Hz or more",
            spec.channels, spec.sample_rate
        ));
    }
    let mut meter = Meter::new(spec.sample_rate, u32::from(spec.channels), true);
    let block = BLOCK_FRAMES * usize::from(spec.channels);
    let mut frames = Vec::with_capacity(block);
    let unreadable = |e: hound::Error| format!("{name}: reading samples: {e}");
    match spec.sample_format {
        hound::SampleFormat::Float => {
            for s in reader.samples::<f32>() {
                frames.push(s.map_err(unreadable)?);
                if frames.len() == block {
                    meter.add_f32(&frames);
                    frames.clear();
                }
            }
        }
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            for s in reader.samples::<i32>() {
                frames.push(s.map_err(unreadable)? as f32 * scale);
                if frames.len() == block {
                    meter.add_f32(&frames);
                    frames.clear();
                }
            }
        }
    }
    meter.add_f32(&frames);
    Ok(meter.finish())
}
