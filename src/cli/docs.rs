//! `audiobook completions SHELL` and `audiobook man`: the shell completion
//! scripts and manual pages, generated from the same clap definitions as
//! `--help`, so they never drift from the command line.

use std::io::Write;

use clap::CommandFactory;

use super::args::{Cli, CompletionsArgs, ManArgs};
use super::{CliError, Exit};

pub(super) fn completions(args: &CompletionsArgs) -> Result<Exit, CliError> {
    let mut command = Cli::command();
    clap_complete::generate(
        args.shell,
        &mut command,
        "audiobook",
        &mut std::io::stdout(),
    );
    Ok(Exit::Ok)
}

pub(super) fn man(args: &ManArgs) -> Result<Exit, CliError> {
    let command = Cli::command();
    match &args.dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .map_err(anyhow::Error::from)?;
            let _ = std::io::stdout().write_all(&page);
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                CliError::bad_input(format!("cannot create {}: {e}", dir.display()))
            })?;
            clap_mangen::generate_to(command, dir).map_err(|e| {
                CliError::bad_input(format!(
                    "cannot write the pages into {}: {e}",
                    dir.display()
                ))
            })?;
            println!("wrote the manual pages into {}", dir.display());
        }
    }
    Ok(Exit::Ok)
}
