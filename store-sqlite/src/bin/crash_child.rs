//! Test helper for the crash test (`tests/crash.rs`): opens tickets through
//! `Helpdesk::open_ticket` on a SQLite file in a loop and prints `acked <ticket id>` on
//! stdout (flushed) after each `Ok`, until it is killed or stdout closes.
//!
//! Usage: `helpdesk-sqlite-crash-child <database path> <tenant id> <admin user id>
//! [power-loss | process-crash]` (the store's [`Durability`], `power-loss` by default).

use std::process::ExitCode;
use std::sync::Arc;

use helpdesk_core::domain::{Actor, Role};
use helpdesk_core::service::NewTicket;
use helpdesk_core::{Helpdesk, TenantId, UserId};
use helpdesk_store_sqlite::{Durability, SqliteConnectOptions, SqliteStore};
use tokio::io::AsyncWriteExt;

fn usage(problem: &str) -> ExitCode {
    eprintln!(
        "{problem}\nusage: helpdesk-sqlite-crash-child <database path> <tenant id> <user id> \
         [power-loss | process-crash]"
    );
    ExitCode::from(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, tenant, user, durability) = match args.as_slice() {
        [path, tenant, user] => (path, tenant, user, Durability::PowerLoss),
        [path, tenant, user, mode] => match mode.parse::<Durability>() {
            Ok(durability) => (path, tenant, user, durability),
            Err(e) => return usage(&e.to_string()),
        },
        _ => return usage("expected three or four arguments"),
    };
    let (tenant, user) = match (tenant.parse::<TenantId>(), user.parse::<UserId>()) {
        (Ok(t), Ok(u)) => (t, u),
        (Err(e), _) | (_, Err(e)) => return usage(&e.to_string()),
    };
    match run(path, tenant, user, durability).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut chain = e.to_string();
            let mut source = e.source();
            while let Some(s) = source {
                chain.push_str(": ");
                chain.push_str(&s.to_string());
                source = s.source();
            }
            eprintln!("crash child failed: {chain}");
            ExitCode::FAILURE
        }
    }
}

async fn run(
    path: &str,
    tenant: TenantId,
    user: UserId,
    durability: Durability,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let options = SqliteConnectOptions::new().filename(path);
    let store = SqliteStore::connect_with_durability(options, durability).await?;
    let helpdesk = Helpdesk::builder(Arc::new(store)).build()?;
    let actor = Actor::new(tenant, user, Role::Admin);
    let mut out = tokio::io::stdout();
    let run_id = std::process::id();
    for n in 0u64.. {
        let mut new = NewTicket::new(
            &format!("Crash intake {run_id}-{n}"),
            "The printer is on fire again.",
        );
        new.idempotency_key = Some(format!("crash-{run_id}-{n}"));
        let opened = helpdesk.open_ticket(&actor, new).await?;
        // A closed stdout (the parent is gone) ends the loop.
        out.write_all(format!("acked {}\n", opened.ticket.id).as_bytes())
            .await?;
        out.flush().await?;
    }
    Ok(())
}
