//! Issue 22: learned triage wired into the helpdesk. The leased job trains a tenant's model
//! once it has enough resolved tickets, keeps the bytes in the blob store and the record in
//! the store; every instance installs the newest model within the check interval and
//! triages with it between the language model and the rules; admins see its accuracy on
//! held-out tickets in analytics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod learned_common;

use std::sync::Arc;
use std::time::Duration;

use helpdesk_core::blob::{BlobKey, BlobStore};
use helpdesk_core::domain::TriageSource;
use helpdesk_core::service::{HelpdeskConfig, LearnedTriageConfig};
use helpdesk_core::store::TriageModel;
use helpdesk_core::testkit::MemoryBlobStore;
use helpdesk_core::triage::{ClassifierChain, LearnedTriage};
use helpdesk_core::{Error, Helpdesk};

use learned_common::{
    KeywordLearned, another, blob, desk, open, resolve_as, resolved, trained_once,
};

#[tokio::test]
async fn a_tenant_is_trained_once_it_has_enough_resolved_tickets_and_every_instance_uses_it() {
    let d = desk().await;
    resolved(&d, 59).await;
    let report = d.w.hd.train_triage_models().await.unwrap();
    assert!(report.ran);
    assert!(report.trained.is_empty());
    assert_eq!(
        report.not_due, 1,
        "59 resolved tickets are below the threshold of 60"
    );
    assert_eq!(d.learned.fits(), 0);

    resolved(&d, 1).await;
    let report = d.w.hd.train_triage_models().await.unwrap();
    let [model] = report.trained.as_slice() else {
        panic!("one tenant trained: {report:?}");
    };
    assert_eq!(model.version, 1);
    assert_eq!(model.format, "keywords-v1");
    assert_eq!(model.resolved_tickets, 60);
    assert_eq!(model.training_tickets + model.holdout_tickets, 60);
    assert!(model.holdout_tickets > 0 && model.training_tickets > model.holdout_tickets);
    assert_eq!(model.accuracy(), Some(1.0));
    assert_eq!(model.categories, ["account", "billing", "technical"]);
    assert_eq!(
        d.w.store
            .latest_triage_model(d.w.tenant.id)
            .await
            .unwrap()
            .as_ref(),
        Some(model)
    );
    assert_eq!(
        blob(&d, model).await.map(|b| b.len() as u64),
        Some(model.size_bytes)
    );

    // The training instance triages with it at once: between the model (none here) and
    // the rules.
    let ticket = open(&d.w.hd, &d, "Invoice for March looks wrong").await;
    let triage = ticket.triage.unwrap();
    assert_eq!(triage.source, TriageSource::Learned);
    assert_eq!(ticket.category.as_deref(), Some("billing"));
    assert!((triage.confidence - 0.9).abs() < 1e-6);

    // Another instance loads it from the store and the blob store on its first triage.
    let other = KeywordLearned::new("keywords-v1");
    let b = another(&d, other.clone());
    let ticket = open(&b, &d, "Password reset mail never came").await;
    assert_eq!(ticket.triage.unwrap().source, TriageSource::Learned);
    assert_eq!(ticket.category.as_deref(), Some("account"));
    assert_eq!(other.installed_version(d.w.tenant.id), Some(1));
    assert_eq!(other.fits(), 0, "B trains nothing");

    // A word the model never saw: the chain goes on to the rules and says why.
    let ticket = open(&b, &d, "Hello there").await;
    let triage = ticket.triage.unwrap();
    assert_ne!(triage.source, TriageSource::Learned);
    assert!(
        triage
            .fallbacks
            .iter()
            .any(|f| f.source == TriageSource::Learned && f.reason == "no_match"),
        "{triage:?}"
    );

    // Nothing new resolved: not trained again.
    let report = d.w.hd.train_triage_models().await.unwrap();
    assert!(report.trained.is_empty());
    assert_eq!(d.learned.fits(), 1);
}

#[tokio::test]
async fn an_instance_picks_up_a_newer_model_within_the_check_interval() {
    let d = desk().await;
    let other = KeywordLearned::new("keywords-v1");
    let b = another(&d, other.clone());
    resolved(&d, 60).await;
    // B looks before any model exists, so its next look is due in 30 s.
    let ticket = open(&b, &d, "Crash on start").await;
    assert_ne!(ticket.triage.unwrap().source, TriageSource::Learned);

    d.w.hd.train_triage_models().await.unwrap();
    d.w.clock.advance(Duration::from_secs(29));
    let ticket = open(&b, &d, "Crash on start").await;
    assert_ne!(ticket.triage.unwrap().source, TriageSource::Learned);
    assert_eq!(other.installed_version(d.w.tenant.id), None);

    d.w.clock.advance(Duration::from_secs(1));
    let ticket = open(&b, &d, "Crash on start").await;
    assert_eq!(ticket.triage.unwrap().source, TriageSource::Learned);
    assert_eq!(ticket.category.as_deref(), Some("technical"));

    // Asked directly, an instance installs at once.
    let third = KeywordLearned::new("keywords-v1");
    let c = another(&d, third.clone());
    assert_eq!(c.learned_triage_sync(d.w.tenant.id).await.unwrap(), Some(1));
    assert_eq!(third.installed_version(d.w.tenant.id), Some(1));
}

#[tokio::test]
async fn of_instances_training_at_once_one_trains() {
    let d = desk().await;
    resolved(&d, 60).await;
    let other = KeywordLearned::new("keywords-v1");
    let b = another(&d, other.clone());
    let (ra, rb) = tokio::join!(d.w.hd.train_triage_models(), b.train_triage_models());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.trained.len() + rb.trained.len(), 1, "{ra:?} {rb:?}");
    assert_eq!(d.learned.fits() + other.fits(), 1);
    let models =
        d.w.store
            .list_triage_models(d.w.tenant.id, 10)
            .await
            .unwrap();
    assert_eq!(models.len(), 1);
}

#[tokio::test]
async fn retraining_follows_growth_and_only_recent_models_keep_their_bytes() {
    let d = desk().await;
    resolved(&d, 60).await;
    d.w.hd.train_triage_models().await.unwrap();
    // 10 % more than the last model saw is due, less is not.
    resolved(&d, 5).await;
    assert!(
        d.w.hd
            .train_triage_models()
            .await
            .unwrap()
            .trained
            .is_empty()
    );
    resolved(&d, 1).await;
    let report = d.w.hd.train_triage_models().await.unwrap();
    assert_eq!(report.trained[0].version, 2);
    assert_eq!(report.trained[0].resolved_tickets, 66);
    for _ in 0..3 {
        resolved(&d, 10).await;
        assert_eq!(d.w.hd.train_triage_models().await.unwrap().trained.len(), 1);
    }
    let models =
        d.w.store
            .list_triage_models(d.w.tenant.id, 10)
            .await
            .unwrap();
    let versions: Vec<u64> = models.iter().map(|m| m.version).collect();
    assert_eq!(versions, [5, 4, 3, 2, 1]);
    for model in &models {
        let kept = model.version >= 3;
        assert_eq!(
            blob(&d, model).await.is_some(),
            kept,
            "version {}",
            model.version
        );
    }
    assert_eq!(d.learned.installed_version(d.w.tenant.id), Some(5));
}

#[tokio::test]
async fn a_model_of_another_format_is_not_installed_but_replaced() {
    let d = desk().await;
    resolved(&d, 60).await;
    d.w.hd.train_triage_models().await.unwrap();
    // B runs another classifier (say, another embedding model).
    let other = KeywordLearned::new("keywords-v2");
    let b = another(&d, other.clone());
    assert_eq!(b.learned_triage_sync(d.w.tenant.id).await.unwrap(), None);
    let ticket = open(&b, &d, "Invoice missing").await;
    assert_ne!(ticket.triage.unwrap().source, TriageSource::Learned);

    // Its training job trains its own format as the next version, without new tickets.
    let report = b.train_triage_models().await.unwrap();
    assert_eq!(report.trained[0].version, 2);
    assert_eq!(report.trained[0].format, "keywords-v2");
    assert_eq!(other.installed_version(d.w.tenant.id), Some(2));
    // A keeps its version 1: it never installs a format it cannot read.
    assert_eq!(
        d.w.hd.learned_triage_sync(d.w.tenant.id).await.unwrap(),
        Some(1)
    );
}

#[tokio::test]
async fn corrupt_or_missing_model_bytes_leave_the_installed_model() {
    let d = desk().await;
    resolved(&d, 60).await;
    let v1 = trained_once(&d).await;
    let other = KeywordLearned::new("keywords-v1");
    let b = another(&d, other.clone());
    assert_eq!(b.learned_triage_sync(d.w.tenant.id).await.unwrap(), Some(1));

    // Version 2's bytes are not a model.
    let garbage: Arc<[u8]> = Arc::from(&b"\x00not json"[..]);
    let key = BlobKey::of(d.w.tenant.id, &garbage);
    d.blobs.put(key, garbage).await.unwrap();
    let v2 = TriageModel {
        version: 2,
        blob: key.sha256,
        ..v1.clone()
    };
    d.w.store.put_triage_model(&v2).await.unwrap();
    let err = b.learned_triage_sync(d.w.tenant.id).await.unwrap_err();
    assert!(matches!(err, Error::Validation { .. }), "{err:?}");
    assert_eq!(other.installed_version(d.w.tenant.id), Some(1));
    d.w.clock.advance(Duration::from_secs(31));
    let ticket = open(&b, &d, "Invoice twice").await;
    assert_eq!(
        ticket.triage.unwrap().source,
        TriageSource::Learned,
        "v1 answers"
    );

    // Version 3's bytes are gone from the blob store.
    let v3 = TriageModel {
        version: 3,
        blob: BlobKey::of(d.w.tenant.id, b"never stored").sha256,
        ..v1
    };
    d.w.store.put_triage_model(&v3).await.unwrap();
    let err = b.learned_triage_sync(d.w.tenant.id).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(other.installed_version(d.w.tenant.id), Some(1));
}

#[tokio::test]
async fn analytics_shows_the_models_and_their_held_out_accuracy_to_admins() {
    let d = desk().await;
    resolved(&d, 60).await;
    // Two tickets of a category too rare to learn.
    for i in 0..2 {
        resolve_as(&d, &d.w.customer, &format!("refund {i}"), "other").await;
    }
    d.w.hd.train_triage_models().await.unwrap();
    let now = d.w.hd.now();
    let range = helpdesk_core::store::TimeRange::new(
        now.checked_sub(jiff::SignedDuration::from_hours(24))
            .unwrap(),
        now.checked_add(jiff::SignedDuration::from_hours(1))
            .unwrap(),
    )
    .unwrap();
    let report = d.w.hd.analytics(&d.w.admin, range).await.unwrap();
    let [model] = report.triage_models.as_slice() else {
        panic!("one model: {:?}", report.triage_models);
    };
    assert_eq!(model.accuracy(), Some(1.0));
    assert_eq!(model.resolved_tickets, 62);
    assert_eq!(
        model.training_tickets + model.holdout_tickets,
        60,
        "the rare category is left out"
    );
    assert!(!model.categories.contains(&"other".to_string()));
    assert_eq!(
        d.w.hd.triage_models(&d.w.admin, 5).await.unwrap(),
        report.triage_models
    );
    for actor in [&d.w.agent, &d.w.customer] {
        let err = d.w.hd.triage_models(actor, 5).await.unwrap_err();
        assert!(matches!(err, Error::Forbidden { .. }), "{err:?}");
        let err = d.w.hd.run_triage_training(actor).await.unwrap_err();
        assert!(matches!(err, Error::Forbidden { .. }), "{err:?}");
    }
}

#[tokio::test]
async fn learned_triage_needs_a_blob_store_and_one_way_in() {
    let store = Arc::new(helpdesk_core::store::MemoryStore::new());
    let learned = KeywordLearned::new("keywords-v1");
    let err = Helpdesk::builder(store.clone())
        .learned_triage(learned.clone())
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Configuration { field, .. } if field == "blob_store"),
        "{err:?}"
    );
    let err = Helpdesk::builder(store.clone())
        .classifiers(ClassifierChain::new().with_learned(learned.clone()))
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Configuration { field, .. } if field == "blob_store"),
        "{err:?}"
    );
    let err = Helpdesk::builder(store.clone())
        .blob_store(Arc::new(MemoryBlobStore::new()))
        .classifiers(ClassifierChain::new())
        .learned_triage(learned.clone())
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Configuration { field, .. } if field == "learned_triage"),
        "{err:?}"
    );
    let err = Helpdesk::builder(store.clone())
        .config(HelpdeskConfig {
            learned_triage: LearnedTriageConfig {
                holdout_percent: 100,
                ..LearnedTriageConfig::default()
            },
            ..HelpdeskConfig::default()
        })
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Configuration { field, .. } if field == "learned_triage.holdout_percent"),
        "{err:?}"
    );
    // Without a learned classifier the job does nothing.
    let hd = Helpdesk::builder(store).build().unwrap();
    let report = hd.train_triage_models().await.unwrap();
    assert!(!report.ran);
}
