//! Paths that cannot be opened, read-only files, corrupt files and bad URLs give clear
//! errors naming the path, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::os::unix::fs::PermissionsExt;

use helpdesk_core::Error;
use helpdesk_core::store::TenantStore;
use helpdesk_core::testkit::fixtures::tenant;
use helpdesk_store_sqlite::SqliteStore;

fn assert_names_path(err: &Error, path: &std::path::Path, words: &str) {
    let text = common::chain(err);
    assert!(
        matches!(
            err,
            Error::Backend {
                backend: "sqlite",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        text.contains(&path.display().to_string()),
        "no path in: {text}"
    );
    assert!(text.contains(words), "expected {words:?} in: {text}");
}

#[tokio::test]
async fn missing_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/helpdesk.db");
    let err = SqliteStore::open(&path).await.unwrap_err();
    assert_names_path(&err, &path, "cannot open SQLite database");
    assert!(!path.exists());
}

#[tokio::test]
async fn a_directory_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStore::open(dir.path()).await.unwrap_err();
    assert_names_path(&err, dir.path(), "cannot open SQLite database");
}

#[tokio::test]
async fn read_only_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store.create_tenant(&tenant("acme")).await.unwrap();
    store.close().await;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let err = SqliteStore::open(&path).await.unwrap_err();
    assert_names_path(&err, &path, "read-only");
    assert!(!err.is_temporary());
}

#[tokio::test]
async fn read_only_connection_fails_at_open_naming_the_path() {
    // What the OS does to a non-root user on a read-only file, forced with `mode=ro`.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro-mode.db");
    SqliteStore::open(&path).await.unwrap().close().await;
    let err = SqliteStore::connect(&format!("sqlite://{}?mode=ro", path.display()))
        .await
        .unwrap_err();
    assert_names_path(&err, &path, "read-only");
}

#[tokio::test]
async fn corrupt_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.db");
    let garbage: Vec<u8> = (0..16_384u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, garbage).unwrap();
    let err = SqliteStore::open(&path).await.unwrap_err();
    assert_names_path(&err, &path, "cannot open SQLite database");
    assert!(
        common::chain(&err).contains("not a database"),
        "{}",
        common::chain(&err)
    );
    assert!(!err.is_temporary());
}

#[tokio::test]
async fn malformed_url_is_a_configuration_error() {
    let err = SqliteStore::connect("sqlite://x.db?mode=sideways")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Configuration { field, .. } if field == "url"),
        "{err:?}"
    );
}

#[tokio::test]
async fn in_memory_store_works_and_is_private() {
    let a = SqliteStore::in_memory().await.unwrap();
    let b = SqliteStore::in_memory().await.unwrap();
    let t = tenant("acme");
    a.create_tenant(&t).await.unwrap();
    assert_eq!(a.get_tenant(t.id).await.unwrap(), Some(t.clone()));
    assert_eq!(b.get_tenant(t.id).await.unwrap(), None);
}
