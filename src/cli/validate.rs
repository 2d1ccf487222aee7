//! `audiobook validate`: checks job files, manuscripts and tokens without
//! rendering, the programs the output formats need, and for cloud voices
//! what the provider can tell about the voice.

use super::args::{OverrideArgs, ValidateArgs};

use super::common::{check_tokens, check_tools, load_jobs, print_warnings};
use super::{CliError, Exit};

pub(super) async fn run(args: &ValidateArgs) -> Result<Exit, CliError> {
    let jobs = load_jobs(&args.jobs, &OverrideArgs::default())?;
    check_tokens(&jobs)?;
    check_tools(&jobs)?;
    print_warnings(&jobs);
    let mut worst = Exit::Ok;
    for (job, manuscript) in &jobs {
        let segments = crate::plan::Plan::new(job, manuscript)
            .items()
            .filter(|item| matches!(item, crate::plan::Item::Segment(_)))
            .count();
        match crate::provider::voices::validate_voice(job).await {
            Ok(note) => {
                println!(
                    "{}: ok: {} chapters, {segments} segments; {note}{}",
                    job.name,
                    manuscript.chapters.len(),
                    job.defaults
                        .as_ref()
                        .map(|d| format!("; defaults from {}", d.display()))
                        .unwrap_or_default()
                );
                for w in &manuscript.warnings {
                    println!("{}: warning: {w}", job.name);
                }
            }
            Err(e) => {
                println!("{}: voice: {e}", job.name);
                worst = worst.max(Exit::BadInput);
            }
        }
    }
    Ok(worst)
}
