//! Erasure reaches learned triage: a model learned from tickets whose personal data is
//! erased (a customer's request, the retention policy) is retired everywhere, its bytes
//! deleted, and the next training leaves the erased tickets out; a model trained while
//! its tickets were being erased is retired as soon as it is recorded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod learned_common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use helpdesk_core::blob::{BlobError, BlobKey, BlobStore, DynBlobStore};
use helpdesk_core::domain::TriageSource;
use helpdesk_core::service::NewTicket;
use helpdesk_core::store::TriageModel;
use helpdesk_core::testkit::MemoryBlobStore;
use helpdesk_core::triage::LearnedTriage;

use common::world_with;
use learned_common::{
    Desk, KeywordLearned, KeywordModel, another, blob, config, desk, resolve_as, resolved_by,
    trained_once,
};

/// 30 "refund" tickets of the first customer (to be erased) and 60 of the second.
async fn two_customers(d: &Desk) {
    for i in 0..30 {
        resolve_as(d, &d.w.customer, &format!("refund wanted {i}"), "billing").await;
    }
    resolved_by(d, &d.w.customer2, 60).await;
}

/// The word map a stored model's bytes hold.
async fn words_of(d: &Desk, model: &TriageModel) -> Vec<String> {
    let bytes = blob(d, model).await.expect("the model's bytes are stored");
    let model: KeywordModel = serde_json::from_slice(&bytes).unwrap();
    model.words.into_keys().collect()
}

async fn triage_source(hd: &helpdesk_core::Helpdesk, d: &Desk, subject: &str) -> TriageSource {
    let ticket = hd
        .open_ticket(&d.w.customer2, NewTicket::new(subject, "Please help."))
        .await
        .unwrap()
        .ticket;
    ticket.triage.unwrap().source
}

#[tokio::test]
async fn erasing_a_customer_retires_the_model_everywhere_and_the_next_one_leaves_them_out() {
    let d = desk().await;
    let tenant = d.w.tenant.id;
    two_customers(&d).await;
    let v1 = trained_once(&d).await;
    assert!(words_of(&d, &v1).await.contains(&"refund".to_string()));
    let other = KeywordLearned::new("keywords-v1");
    let b = another(&d, other.clone());
    assert_eq!(b.learned_triage_sync(tenant).await.unwrap(), Some(1));

    let report =
        d.w.hd
            .erase_customer(&d.w.admin, d.w.customer.user_id)
            .await
            .unwrap();
    assert_eq!(report.tickets, 30);
    assert_eq!(report.triage_models_retired, 1);
    assert!(report.blobs_left.is_empty(), "{report:?}");
    let stored =
        d.w.store
            .latest_triage_model(tenant)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.retired_at, Some(d.w.hd.now()));
    assert_eq!(
        blob(&d, &v1).await,
        None,
        "the retired model's bytes are deleted"
    );

    // The erasing instance stops at once; the rules triage.
    assert_eq!(d.learned.installed_version(tenant), None);
    assert_ne!(
        triage_source(&d.w.hd, &d, "invoice total").await,
        TriageSource::Learned
    );
    // Another instance drops it at its next check, and never installs it again.
    d.w.clock.advance(Duration::from_secs(31));
    assert_ne!(
        triage_source(&b, &d, "invoice again").await,
        TriageSource::Learned
    );
    assert_eq!(other.installed_version(tenant), None);
    assert_eq!(b.learned_triage_sync(tenant).await.unwrap(), None);

    // The next training is due at once (no model in service) and learns from the tickets
    // left: the erased customer's words are gone.
    let report = d.w.hd.train_triage_models().await.unwrap();
    let [v2] = report.trained.as_slice() else {
        panic!("trained again: {report:?}");
    };
    assert_eq!(v2.version, 2);
    assert_eq!(v2.retired_at, None);
    assert_eq!(v2.resolved_tickets, 90, "erased tickets stay resolved");
    assert_eq!(v2.training_tickets + v2.holdout_tickets, 60);
    let words = words_of(&d, v2).await;
    assert!(!words.contains(&"refund".to_string()), "{words:?}");
    assert!(!words.iter().any(|w| w.contains("erased")), "{words:?}");
    d.w.clock.advance(Duration::from_secs(31));
    assert_eq!(
        triage_source(&b, &d, "invoice once more").await,
        TriageSource::Learned
    );
    assert_eq!(other.installed_version(tenant), Some(2));

    // Analytics show the retired version next to the one in service.
    let shown = d.w.hd.triage_models(&d.w.admin, 10).await.unwrap();
    assert_eq!(
        shown
            .iter()
            .map(|m| (m.version, m.retired_at.is_some()))
            .collect::<Vec<_>>(),
        [(2, false), (1, true)]
    );
}

#[tokio::test]
async fn a_customer_without_tickets_is_erased_without_retiring_models() {
    let d = desk().await;
    resolved_by(&d, &d.w.customer2, 60).await;
    d.w.hd.train_triage_models().await.unwrap();
    let report =
        d.w.hd
            .erase_customer(&d.w.admin, d.w.customer.user_id)
            .await
            .unwrap();
    assert_eq!((report.tickets, report.triage_models_retired), (0, 0));
    let model = d.w.store.latest_triage_model(d.w.tenant.id).await.unwrap();
    assert_eq!(model.unwrap().retired_at, None);
    assert_eq!(d.learned.installed_version(d.w.tenant.id), Some(1));
}

#[tokio::test]
async fn a_model_trained_while_its_tickets_were_erased_is_retired_as_soon_as_it_is_recorded() {
    let d = desk().await;
    let tenant = d.w.tenant.id;
    two_customers(&d).await;
    // Training reads the tickets, then waits in its fit while the customer is erased.
    let held = d.learned.hold.lock().await;
    let hd = d.w.hd.clone();
    let training = tokio::spawn(async move { hd.train_triage_models().await });
    while d.learned.fits() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let erased =
        d.w.hd
            .erase_customer(&d.w.admin, d.w.customer.user_id)
            .await
            .unwrap();
    assert_eq!(
        (erased.tickets, erased.triage_models_retired),
        (30, 0),
        "no model recorded yet"
    );
    drop(held);
    let report = training.await.unwrap().unwrap();
    assert!(report.trained.is_empty(), "{report:?}");
    assert_eq!(report.discarded, 1);
    let v1 =
        d.w.store
            .latest_triage_model(tenant)
            .await
            .unwrap()
            .unwrap();
    assert!(v1.retired_at.is_some(), "recorded, then retired: {v1:?}");
    assert_eq!(blob(&d, &v1).await, None);
    assert_eq!(d.learned.installed_version(tenant), None, "never installed");

    let report = d.w.hd.train_triage_models().await.unwrap();
    let [v2] = report.trained.as_slice() else {
        panic!("trained again: {report:?}");
    };
    assert_eq!(v2.version, 2);
    assert_eq!(v2.training_tickets + v2.holdout_tickets, 60);
    assert_eq!(d.learned.installed_version(tenant), Some(2));
}

#[tokio::test]
async fn a_retention_sweep_retires_the_models_only_when_it_erases() {
    let d = desk().await;
    let tenant = d.w.tenant.id;
    resolved_by(&d, &d.w.customer2, 60).await;
    d.w.hd.train_triage_models().await.unwrap();
    let mut settings = d.w.tenant.settings.clone();
    settings.retention_months = Some(6);
    d.w.hd.update_settings(&d.w.admin, settings).await.unwrap();

    let swept = d.w.hd.retention_sweep().await.unwrap();
    assert_eq!(
        (swept.erased.tickets, swept.erased.triage_models_retired),
        (0, 0)
    );
    let model =
        d.w.store
            .latest_triage_model(tenant)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(model.retired_at, None, "nothing erased, the model stays");

    d.w.clock.advance(Duration::from_secs(200 * 24 * 3600));
    let swept = d.w.hd.retention_sweep().await.unwrap();
    assert_eq!(swept.erased.tickets, 60);
    assert_eq!(swept.erased.triage_models_retired, 1);
    let model =
        d.w.store
            .latest_triage_model(tenant)
            .await
            .unwrap()
            .unwrap();
    assert!(model.retired_at.is_some());
    assert_eq!(blob(&d, &model).await, None);
    assert_eq!(d.learned.installed_version(tenant), None);
    let report = d.w.hd.train_triage_models().await.unwrap();
    assert_eq!(
        report.too_few_examples, 1,
        "erased tickets are not learned from: {report:?}"
    );
}

/// A blob store whose deletes fail.
#[derive(Debug)]
struct UndeletableBlobs(MemoryBlobStore);

#[async_trait]
impl BlobStore for UndeletableBlobs {
    async fn put(&self, key: BlobKey, bytes: Arc<[u8]>) -> Result<(), BlobError> {
        self.0.put(key, bytes).await
    }
    async fn get(&self, key: BlobKey) -> Result<Option<Vec<u8>>, BlobError> {
        self.0.get(key).await
    }
    async fn delete(&self, _key: BlobKey) -> Result<bool, BlobError> {
        Err(BlobError::Storage {
            backend: "test",
            source: "the disk is read-only".into(),
        })
    }
}

#[tokio::test]
async fn retired_model_bytes_the_blob_store_keeps_are_reported_and_the_model_is_retired_anyway() {
    let blobs: DynBlobStore = Arc::new(UndeletableBlobs(MemoryBlobStore::new()));
    let learned = KeywordLearned::new("keywords-v1");
    let w = world_with(|b| {
        b.learned_triage(learned.clone())
            .blob_store(blobs.clone())
            .config(config())
    })
    .await;
    let d = Desk { w, blobs, learned };
    two_customers(&d).await;
    let v1 = trained_once(&d).await;

    let report =
        d.w.hd
            .erase_customer(&d.w.admin, d.w.customer.user_id)
            .await
            .unwrap();
    assert_eq!(report.triage_models_retired, 1);
    assert!(
        report.blobs_left.contains(&v1.blob),
        "the model's bytes are named for the operator: {report:?}"
    );
    let stored = d.w.store.latest_triage_model(d.w.tenant.id).await.unwrap();
    assert!(stored.unwrap().retired_at.is_some());
    assert_eq!(d.learned.installed_version(d.w.tenant.id), None);
    // A retired model is never installed again, though its bytes are still there.
    let b = another(&d, KeywordLearned::new("keywords-v1"));
    assert_eq!(b.learned_triage_sync(d.w.tenant.id).await.unwrap(), None);
}
