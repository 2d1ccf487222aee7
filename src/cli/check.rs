//! `audiobook check FILE… [--profile P] [--json | --csv]`: measures WAV,
//! FLAC, MP3 and M4B files (decoded as a stream: [`crate::audio::decode`])
//! with the render's own meter and prints, per file, the measurement and a
//! verdict per rule of the profile, naming every rule that fails. Exit 1
//! when a file fails, 2 when a file cannot be read.

use std::io::Write;

use super::args::CheckArgs;
use super::{CliError, Exit};
use crate::job::{Master, Profile};
use crate::master::meter::measure_file;
use crate::master::qa::{self, FileQa, Role};

pub(super) fn run(args: &CheckArgs) -> Result<Exit, CliError> {
    let profile = Profile::from(args.profile);
    let master = Master::of(profile);
    let mut results = Vec::new();
    let mut unreadable = Vec::new();
    for path in &args.files {
        match measure_file(path) {
            Ok(m) => results.push(FileQa::new(
                path.display().to_string(),
                Role::File,
                m,
                &master,
            )),
            Err(e) => unreadable.push(e.to_string()),
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
