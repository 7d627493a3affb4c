//! The store's pragmas reach every pooled connection: the `Durability` setting as
//! SQLite's `synchronous` (FULL = 2, NORMAL = 1, the default staying FULL), and the
//! memory-mapped reads (`mmap_size`, SQLite's Linux ceiling, just under 2 GiB).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use helpdesk_store_sqlite::{Durability, SqliteConnectOptions, SqliteStore};
use sqlx::Connection;

async fn pragma_of_every_connection(store: &SqliteStore, pragma: &str) -> Vec<i64> {
    // Hold several connections at once so the pool has to open new ones.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(store.pool().acquire().await.unwrap());
    }
    let mut levels = Vec::new();
    for conn in &mut held {
        conn.ping().await.unwrap();
        levels.push(
            sqlx::query_scalar(&format!("PRAGMA {pragma}"))
                .fetch_one(&mut **conn)
                .await
                .unwrap(),
        );
    }
    levels
}

#[tokio::test]
async fn default_is_full_and_process_crash_is_normal() {
    let dir = tempfile::tempdir().unwrap();

    let full = SqliteStore::open(dir.path().join("full.db")).await.unwrap();
    assert_eq!(
        pragma_of_every_connection(&full, "synchronous").await,
        vec![2, 2, 2]
    );
    assert_eq!(
        pragma_of_every_connection(&full, "mmap_size").await,
        vec![0x7fff_0000; 3]
    );
    full.close().await;

    let options = SqliteConnectOptions::new().filename(dir.path().join("normal.db"));
    let normal = SqliteStore::connect_with_durability(options, Durability::ProcessCrash)
        .await
        .unwrap();
    assert_eq!(
        pragma_of_every_connection(&normal, "synchronous").await,
        vec![1, 1, 1]
    );
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(normal.pool())
        .await
        .unwrap();
    assert_eq!(journal, "wal", "NORMAL is only crash-safe in WAL mode");
    normal.close().await;

    assert_eq!(Durability::default(), Durability::PowerLoss);
}

#[test]
fn durability_names_round_trip_and_others_are_refused() {
    for d in [Durability::PowerLoss, Durability::ProcessCrash] {
        assert_eq!(d.as_str().parse::<Durability>().unwrap(), d);
        assert_eq!(d.to_string(), d.as_str());
    }
    let err = "full".parse::<Durability>().unwrap_err();
    assert!(
        matches!(&err, helpdesk_core::Error::Configuration { field, .. } if field == "durability"),
        "{err:?}"
    );
}
