//! The end-to-end support day on MongoDB (needs MONGODB_URI; `make test` starts a
//! MongoDB-wire test server).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use helpdesk_store_mongo::MongoStore;

#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_day_on_mongodb() {
    let uri = std::env::var("MONGODB_URI").expect("MONGODB_URI");
    let db = format!("helpdesk_e2e_{}", std::process::id());
    let store = MongoStore::connect(&uri, &db).await.unwrap();
    let summary = helpdesk_tests::support_day(Arc::new(store)).await;
    assert_eq!(summary.tickets, 5);
}

#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_two_defects_on_mongodb() {
    let uri = std::env::var("MONGODB_URI").expect("MONGODB_URI");
    let db = format!("helpdesk_defects_{}", std::process::id());
    let store = MongoStore::connect(&uri, &db).await.unwrap();
    helpdesk_tests::round_two_defects(Arc::new(store)).await;
}
