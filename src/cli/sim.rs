//! `audiobook sim`: serves the simulator of the cloud APIs on loopback.

use super::{Cli, CliError, Exit};

pub(super) async fn run(cli: &Cli, args: &crate::sim::SimArgs) -> Result<Exit, CliError> {
    let mut args = args.clone();
    if args.cache.is_none() {
        args.cache = Some(cli.cache.clone());
    }
    crate::sim::run(args)
        .await
        .map_err(|e| CliError::bad_input(format!("{e:#}")))?;
    Ok(Exit::Ok)
}
