//! The end-to-end support day on SQLite: a real database file in a temporary directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use helpdesk_store_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_day_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("helpdesk-e2e-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("helpdesk.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    let summary = helpdesk_tests::support_day(Arc::new(store)).await;
    assert_eq!(summary.tickets, 5);
    // Reopen the file: everything acknowledged is there.
    let reopened = SqliteStore::connect(&url).await.unwrap();
    let tenant = helpdesk_core::store::TenantStore::get_tenant_by_slug(&reopened, "nimbus")
        .await
        .unwrap()
        .unwrap();
    let page =
        helpdesk_core::store::TicketStore::list_tickets(&reopened, tenant.id, &Default::default())
            .await
            .unwrap();
    assert_eq!(page.items.len(), 5);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_two_defects_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("helpdesk-defects-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("helpdesk.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    helpdesk_tests::round_two_defects(Arc::new(store)).await;
    std::fs::remove_dir_all(&dir).ok();
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}
