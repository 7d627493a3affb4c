//! `helpdesk-web [--port P] [--data-dir DIR]`: the example web helpdesk.
//!
//! Runs in offline mode on the in-memory demo store with a seeded demo tenant ("Nimbus
//! Notes") and prints its logins, then `listening on http://127.0.0.1:P`.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use helpdesk_examples::web::seed::{DEMO_TENANT, seed_demo};
use helpdesk_examples::web::{AppState, Backends, WebOptions, router, spawn_sweeps};

#[derive(Parser)]
#[command(name = "helpdesk-web", about = "The helpdesk-rs example web helpdesk")]
struct Cli {
    /// Port to listen on (127.0.0.1 only); 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Where data is kept. Not used yet: the demo store is in memory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("helpdesk-web: {e}");
            let mut source = std::error::Error::source(e.as_ref());
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(dir) = &cli.data_dir {
        println!(
            "note: --data-dir {} is not used yet; this build keeps data in memory",
            dir.display()
        );
    }
    let backends = Backends::offline_demo();
    let helpdesk = backends.build()?;
    let credentials = seed_demo(&helpdesk, backends.knowledge_base.as_ref()).await?;
    print!("{}", credentials.describe());
    let sweeps = spawn_sweeps(helpdesk.clone(), Duration::from_secs(30));
    let state = AppState::new(
        helpdesk,
        backends.knowledge_base.clone(),
        WebOptions {
            default_tenant: DEMO_TENANT.into(),
            mode_notice: backends.mode_notice(),
            demo_hint: "Demo logins are printed in the terminal where helpdesk-web started.".into(),
            secure_cookies: false,
        },
    )?;
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, cli.port))).await?;
    let port = listener.local_addr()?.port();
    println!("listening on http://127.0.0.1:{port}");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    sweeps.abort();
    Ok(())
}
