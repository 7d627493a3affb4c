//! The end-to-end support day on the in-memory store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use helpdesk_core::store::MemoryStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_day_on_memory_store() {
    let summary = helpdesk_tests::support_day(Arc::new(MemoryStore::new())).await;
    assert_eq!(summary.tickets, 5);
    assert!(summary.breaches >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_two_defects_on_memory_store() {
    helpdesk_tests::round_two_defects(Arc::new(MemoryStore::new())).await;
}
