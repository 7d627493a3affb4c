//! `helpdesk --data-dir DIR <command>`: administer a helpdesk-rs data folder from the shell
//! (init, seed-demo, import-kb, reindex, open, list, sweep, analytics, api-key).
//!
//! Exit codes: 0 ok, 1 error (the message and its causes on stderr), 2 usage; for
//! `ingest-email` also 75 (try again later), 67 (unknown tenant) and 78 (the tenant's e-mail
//! channel is off), the sysexits(3) codes a mail transfer agent acts on.

use std::process::ExitCode;

use clap::Parser;
use helpdesk_examples::cli::{Cli, run};
use helpdesk_examples::error_chain;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::WARN)
        .init();
    let mut stdout = std::io::stdout().lock();
    match run(cli, &mut stdout).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("helpdesk: {e}");
            for cause in error_chain(&e).skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}
