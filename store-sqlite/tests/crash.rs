//! A process killed with SIGKILL in the middle of a stream of intakes loses no ticket whose
//! `Helpdesk::open_ticket` returned `Ok`, and leaves a database that passes
//! `PRAGMA integrity_check`: with the default durability and with
//! `Durability::ProcessCrash`, which promises exactly this much.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use helpdesk_core::domain::Role;
use helpdesk_core::service::{NewTenant, NewUser};
use helpdesk_core::store::TicketStore;
use helpdesk_core::{Helpdesk, TenantId, TicketId, UserId};
use helpdesk_store_sqlite::{Durability, SqliteStore};

const KILLS: usize = 24;
const CHILD: &str = env!("CARGO_BIN_EXE_helpdesk-sqlite-crash-child");

async fn setup(path: &Path) -> (TenantId, UserId) {
    let store = SqliteStore::open(path).await.unwrap();
    let helpdesk = Helpdesk::builder(Arc::new(store.clone())).build().unwrap();
    let (tenant, admin) = helpdesk
        .register_tenant(NewTenant {
            name: "Crash Co".into(),
            slug: "crash".into(),
            admin: NewUser {
                email: "admin@crash.test".into(),
                name: "Admin".into(),
                role: Role::Admin,
                skills: vec![],
                capacity: 0,
                password: None,
            },
            settings: None,
        })
        .await
        .unwrap();
    store.close().await;
    (tenant.id, admin.id)
}

/// Runs the child until it has acknowledged at least one intake, lets it run a random
/// while more, kills it with SIGKILL, and returns the ids it acknowledged.
fn run_and_kill(
    path: &Path,
    tenant: TenantId,
    user: UserId,
    durability: &str,
    rng: &mut common::Rng,
) -> Vec<TicketId> {
    let mut child = Command::new(CHILD)
        .arg(path)
        .arg(tenant.to_string())
        .arg(user.to_string())
        .arg(durability)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        // Only complete lines count: a line cut by the kill was never acknowledged.
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(id) = line.strip_prefix("acked ") {
                tx.send(id.parse::<TicketId>().unwrap()).unwrap();
            }
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(30));
    if first.is_ok() {
        std::thread::sleep(Duration::from_millis(rng.below(120)));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let first = first.unwrap_or_else(|_| panic!("child acknowledged nothing ({status})"));
    let mut acked = vec![first];
    acked.extend(rx.try_iter());
    acked
}

#[test]
fn sigkill_mid_intake_loses_no_acknowledged_ticket() {
    kill_repeatedly(Durability::PowerLoss, KILLS);
}

#[test]
fn sigkill_loses_nothing_acknowledged_with_process_crash_durability() {
    kill_repeatedly(Durability::ProcessCrash, 20);
}

fn kill_repeatedly(durability: Durability, kills: usize) {
    let mode = durability.as_str();
    let started = Instant::now();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let (tenant, user) = runtime.block_on(setup(&path));
    let mut rng = common::Rng::from_env();

    let mut acked = BTreeSet::new();
    for _ in 0..kills {
        acked.extend(run_and_kill(&path, tenant, user, mode, &mut rng));
    }
    println!(
        "{mode}: {kills} kills, {} acknowledged intakes, {:?}",
        acked.len(),
        started.elapsed()
    );
    assert!(acked.len() >= kills);

    runtime.block_on(async {
        let store = SqliteStore::open(&path).await.unwrap();
        let check: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert_eq!(check, vec!["ok".to_string()]);
        let mut missing = Vec::new();
        for id in &acked {
            match store.get_ticket(tenant, *id).await.unwrap() {
                Some(t) => {
                    let events = store.list_events(tenant, *id).await.unwrap();
                    assert!(!events.is_empty(), "ticket {id} has no events");
                    assert_eq!(events.iter().map(|e| e.version).max(), Some(t.version));
                }
                None => missing.push(*id),
            }
        }
        assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM helpdesk_tickets")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert!(stored as usize >= acked.len());
    });
}
