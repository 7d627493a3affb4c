//! The end-to-end support day and the round-two defect checks on PostgreSQL, each on a
//! database of its own (needs HELPDESK_POSTGRES_URL: `eval "$(scripts/start-postgres.sh)"`;
//! without it they are reported as not run, like the MongoDB variants).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod pg;

use std::sync::Arc;

use helpdesk_core::store::{TenantStore, TicketStore};

#[cfg_attr(
    not(postgres_url_set),
    ignore = "NOT RUN: the PostgreSQL variant needs HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_day_on_postgres() {
    let db = pg::Database::create().await;
    let store = db.store().await;
    let summary = helpdesk_tests::support_day(Arc::new(store.clone())).await;
    assert_eq!(summary.tickets, 5);
    // A second store on the same database (another instance of the application) sees
    // everything the first acknowledged.
    let other = db.store().await;
    let tenant = other.get_tenant_by_slug("nimbus").await.unwrap().unwrap();
    let page = other
        .list_tickets(tenant.id, &Default::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 5);
    other.close().await;
    db.drop_with(store).await;
}

#[cfg_attr(
    not(postgres_url_set),
    ignore = "NOT RUN: the PostgreSQL variant needs HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_two_defects_on_postgres() {
    let db = pg::Database::create().await;
    let store = db.store().await;
    helpdesk_tests::round_two_defects(Arc::new(store.clone())).await;
    db.drop_with(store).await;
}
