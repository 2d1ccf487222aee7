//! The `audiobook` binary: parses the command line and hands it to
//! [`audiobook::cli`], which maps every outcome to the process exit code.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = audiobook::cli::Cli::parse();
    // One rustls crypto provider for every client (HTTP and WebSocket).
    audiobook::provider::install_crypto_provider();
    audiobook::cli::init_logging(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let exit = runtime.block_on(audiobook::cli::run(cli));
    std::process::ExitCode::from(exit as u8)
}
