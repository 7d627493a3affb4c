//! Runs the end-to-end support day on the in-memory store and prints each step:
//! `cargo run -p helpdesk-tests --example support_day`.

use std::sync::Arc;

use helpdesk_core::store::MemoryStore;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let summary = helpdesk_tests::support_day(Arc::new(MemoryStore::new())).await;
    println!("{summary:#?}");
}
