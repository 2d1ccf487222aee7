//! `audiobook voices`: the account's Coze voices as a table or JSON.

use super::args::{ModelType, VoiceProvider, VoicesArgs};
use super::{CliError, Exit};
use crate::provider::{coze, token_from_env, voices::voice_table};

pub(super) async fn run(args: &VoicesArgs) -> Result<Exit, CliError> {
    let text = voice_list(args)
        .await
        .map_err(|e| CliError::bad_input(format!("{e:#}")))?;
    print!("{text}");
    Ok(Exit::Ok)
}

/// The voice list as text for stdout: a table, or JSON with `--json`.
async fn voice_list(args: &VoicesArgs) -> anyhow::Result<String> {
    let VoiceProvider::Coze = args.provider;
    let token = token_from_env(&args.token_env)?;
    let model = args.model.map(ModelType::as_str);
    let voices = coze::list_voices(&args.base_url, &token, args.filter_system, model, 100).await?;
    if args.json {
        Ok(serde_json::to_string_pretty(&voices)? + "\n")
    } else {
        Ok(voice_table(&voices))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::super::args::{Cli, Command, ModelType, VoiceProvider};

    #[test]
    fn args_parse() {
        let cli = Cli::try_parse_from([
            "audiobook",
            "voices",
            "--filter-system",
            "--model",
            "big",
            "--json",
        ])
        .expect("parse");
        let Command::Voices(args) = cli.command else {
            panic!("not the voices command: {:?}", cli.command);
        };
        assert_eq!(args.provider, VoiceProvider::Coze);
        assert!(args.filter_system && args.json);
        assert_eq!(args.model, Some(ModelType::Big));
        assert_eq!(args.base_url, "https://api.coze.cn");
        assert_eq!(args.token_env, "COZE_API_TOKEN");
    }
}
