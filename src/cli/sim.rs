//! `audiobook sim`: serves the simulator of the cloud APIs on loopback.

use std::path::PathBuf;

use super::{CliError, Exit};

pub(super) async fn run(args: &crate::sim::SimArgs) -> Result<Exit, CliError> {
    let mut args = args.clone();
    if args.cache.is_none() {
        // Where `render` keeps the engine's data by default.
        let cache =
            std::env::var_os("AUDIOBOOK_CACHE").map_or_else(|| "cache".into(), PathBuf::from);
        args.cache = Some(cache);
    }
    crate::sim::run(args)
        .await
        .map_err(|e| CliError::bad_input(format!("{e:#}")))?;
    Ok(Exit::Ok)
}
