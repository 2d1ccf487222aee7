//! `audiobook voices`: the account's Coze voices as a table or JSON.

use super::{CliError, Exit};

pub(super) async fn run(args: &crate::provider::voices::VoicesArgs) -> Result<Exit, CliError> {
    let text = crate::provider::voices::voices_command(args)
        .await
        .map_err(|e| CliError::bad_input(format!("{e:#}")))?;
    print!("{text}");
    Ok(Exit::Ok)
}
