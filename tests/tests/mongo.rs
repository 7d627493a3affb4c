//! The end-to-end support day on MongoDB (needs MONGODB_URI; `make test` starts a
//! MongoDB-wire test server).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use futures_util::TryStreamExt;
use helpdesk_store_mongo::MongoStore;
use helpdesk_store_mongo::bson::{Document, doc};
use helpdesk_store_mongo::mongodb;

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

/// The host's own documents in `users` and `tickets`, with a unique index of its own.
async fn create_host_collections(db: &mongodb::Database) {
    db.collection::<Document>("users")
        .insert_many([
            doc! { "_id": 1, "login": "alice", "plan": "pro" },
            doc! { "_id": 2, "login": "bob", "plan": "free" },
        ])
        .await
        .unwrap();
    db.collection::<Document>("users")
        .create_index(
            mongodb::IndexModel::builder()
                .keys(doc! { "login": 1 })
                .options(
                    mongodb::options::IndexOptions::builder()
                        .unique(true)
                        .build(),
                )
                .build(),
        )
        .await
        .unwrap();
    db.collection::<Document>("tickets")
        .insert_one(doc! { "_id": "T-1", "event": "concert", "seat": 12 })
        .await
        .unwrap();
}

/// Every document and index name of the host's collections.
async fn host_snapshot(db: &mongodb::Database) -> Vec<(Vec<Document>, Vec<String>)> {
    let mut snapshot = Vec::new();
    for name in ["users", "tickets"] {
        let coll = db.collection::<Document>(name);
        let docs: Vec<Document> = coll
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let mut indexes = coll.list_index_names().await.unwrap();
        indexes.sort();
        snapshot.push((docs, indexes));
    }
    snapshot
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

/// The support day in a host's database that has its own `users` and `tickets`, created
/// before the helpdesk's collections or after them: the helpdesk works, and the host's
/// documents and indexes are exactly as the host left them.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_day_in_the_hosts_database() {
    let uri = std::env::var("MONGODB_URI").expect("MONGODB_URI");
    let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
    for host_first in [true, false] {
        let db = client.database(&format!(
            "helpdesk_host_{}_{host_first}",
            std::process::id()
        ));
        db.drop().await.unwrap();
        if host_first {
            create_host_collections(&db).await;
        }
        let store = MongoStore::new(db.clone()).await.unwrap();
        if !host_first {
            create_host_collections(&db).await;
        }
        let before = host_snapshot(&db).await;
        let summary = helpdesk_tests::support_day(Arc::new(store)).await;
        assert_eq!(summary.tickets, 5, "host_first={host_first}");
        assert_eq!(host_snapshot(&db).await, before, "host_first={host_first}");
        db.drop().await.unwrap();
    }
}
