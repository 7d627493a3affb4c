//! Conformance cases for stored learned-triage models: versions are per tenant and never
//! fork, records come back exactly, invalid records write nothing, of trainers racing for
//! one version exactly one lands, and retiring is per tenant and happens once.

use std::sync::Arc;

#[allow(clippy::wildcard_imports)]
use super::*;
use crate::store::{TRIAGE_MODEL_ENTITY, TriageModel};
use crate::testkit::fixtures::triage_model as model;

fn assert_conflict(result: crate::Result<()>) {
    match result {
        Err(Error::Conflict { entity, .. }) => assert_eq!(entity, TRIAGE_MODEL_ENTITY),
        other => panic!("expected a triage_model conflict, got {other:?}"),
    }
}

/// Each tenant's models are numbered on their own and listed highest version first; a
/// record comes back exactly; a version taken twice is a conflict that changes nothing;
/// another tenant sees none of them.
pub async fn triage_models_are_versioned_per_tenant(store: S) {
    let (a, _, _) = seed_tenant(&store, "acme").await;
    let (b, _, _) = seed_tenant(&store, "globex").await;
    let (c, _, _) = seed_tenant(&store, "initech").await;
    assert_eq!(store.latest_triage_model(a.id).await.unwrap(), None);
    assert!(store.list_triage_models(a.id, 10).await.unwrap().is_empty());

    let a1 = model(a.id, 1, b"first");
    let a2 = TriageModel {
        holdout_correct: 0,
        categories: vec!["only".into()],
        ..model(a.id, 2, b"second")
    };
    let b1 = model(b.id, 1, b"globex");
    store.put_triage_model(&a1).await.unwrap();
    store.put_triage_model(&b1).await.unwrap();
    store.put_triage_model(&a2).await.unwrap();

    assert_eq!(
        store.latest_triage_model(a.id).await.unwrap(),
        Some(a2.clone())
    );
    assert_eq!(
        store.list_triage_models(a.id, 10).await.unwrap(),
        vec![a2.clone(), a1.clone()]
    );
    assert_eq!(
        store.list_triage_models(a.id, 1).await.unwrap(),
        vec![a2.clone()]
    );
    assert_eq!(
        store.latest_triage_model(b.id).await.unwrap(),
        Some(b1.clone())
    );
    assert_eq!(store.list_triage_models(b.id, 10).await.unwrap(), vec![b1]);
    assert_eq!(store.latest_triage_model(c.id).await.unwrap(), None);

    // Version 2 again, with other bytes: refused, and the stored version 2 stays.
    assert_conflict(store.put_triage_model(&model(a.id, 2, b"other")).await);
    assert_eq!(store.latest_triage_model(a.id).await.unwrap(), Some(a2));
    assert_eq!(store.list_triage_models(a.id, 10).await.unwrap().len(), 2);

    // A gap is allowed (a version whose record was lost is simply skipped), and the
    // highest version is the latest.
    let a5 = model(a.id, 5, b"fifth");
    store.put_triage_model(&a5).await.unwrap();
    assert_eq!(store.latest_triage_model(a.id).await.unwrap(), Some(a5));
}

/// Records that break [`TriageModel::check`] are `Validation` errors naming the field, and
/// store nothing.
pub async fn invalid_triage_models_write_nothing(store: S) {
    let (a, _, _) = seed_tenant(&store, "acme").await;
    let good = model(a.id, 1, b"bytes");
    let cases = [
        (
            TriageModel {
                version: 0,
                ..good.clone()
            },
            "version",
        ),
        (
            TriageModel {
                format: String::new(),
                ..good.clone()
            },
            "format",
        ),
        (
            TriageModel {
                format: "x".repeat(201),
                ..good.clone()
            },
            "format",
        ),
        (
            TriageModel {
                holdout_correct: 201,
                ..good.clone()
            },
            "holdout_correct",
        ),
        (
            TriageModel {
                categories: Vec::new(),
                ..good.clone()
            },
            "categories",
        ),
        (
            TriageModel {
                categories: vec!["billing".into(), "billing".into()],
                ..good.clone()
            },
            "categories[1]",
        ),
        (
            TriageModel {
                categories: vec!["billing".into(), String::new()],
                ..good.clone()
            },
            "categories[1]",
        ),
    ];
    for (bad, field) in cases {
        match store.put_triage_model(&bad).await {
            Err(Error::Validation { field: f, .. }) => assert_eq!(f.as_ref(), field),
            other => panic!("expected a validation error on {field}, got {other:?}"),
        }
    }
    assert!(store.list_triage_models(a.id, 10).await.unwrap().is_empty());
    store.put_triage_model(&good).await.unwrap();
    assert_eq!(store.latest_triage_model(a.id).await.unwrap(), Some(good));
}

/// Eight trainers record version 1 of one tenant at once: exactly one lands, the others
/// get a conflict, and the stored record is the winner's.
pub async fn racing_triage_model_puts_keep_one_record_per_version(store: S) {
    let (a, _, _) = seed_tenant(&store, "acme").await;
    let store = Arc::new(store);
    let mut tasks = Vec::new();
    for i in 0..8u8 {
        let store = Arc::clone(&store);
        let record = model(a.id, 1, &[i]);
        tasks.push(tokio::spawn(async move {
            let result = store.put_triage_model(&record).await;
            (record, result)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (record, result) = task.await.unwrap();
        match result {
            Ok(()) => winners.push(record),
            other => assert_conflict(other),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one trainer records version 1");
    assert_eq!(store.list_triage_models(a.id, 10).await.unwrap(), winners);
}

/// Retiring marks every model of one tenant that is in service, once: running it again
/// retires nothing and keeps the first time; another tenant's models stay in service; a
/// model recorded afterwards is in service until the next retirement; a record stored
/// retired comes back retired.
pub async fn retiring_triage_models_is_per_tenant_and_idempotent(store: S) {
    let (a, _, _) = seed_tenant(&store, "acme").await;
    let (b, _, _) = seed_tenant(&store, "globex").await;
    assert_eq!(
        store.retire_triage_models(a.id, at(1_000)).await.unwrap(),
        0
    );
    for version in 1..=3u8 {
        store
            .put_triage_model(&model(a.id, u64::from(version), &[version]))
            .await
            .unwrap();
    }
    let b1 = model(b.id, 1, b"globex");
    store.put_triage_model(&b1).await.unwrap();

    assert_eq!(
        store.retire_triage_models(a.id, at(1_000)).await.unwrap(),
        3
    );
    let retired: Vec<TriageModel> = (1..=3u8)
        .rev()
        .map(|v| TriageModel {
            retired_at: Some(at(1_000)),
            ..model(a.id, u64::from(v), &[v])
        })
        .collect();
    assert_eq!(store.list_triage_models(a.id, 10).await.unwrap(), retired);
    assert_eq!(
        store.latest_triage_model(b.id).await.unwrap(),
        Some(b1.clone()),
        "another tenant's model stays in service"
    );

    // Again: nothing left to retire, and the first time stays.
    assert_eq!(
        store.retire_triage_models(a.id, at(2_000)).await.unwrap(),
        0
    );
    assert_eq!(store.list_triage_models(a.id, 10).await.unwrap(), retired);

    // A newer model is in service until the next retirement, which leaves the old times.
    let a4 = model(a.id, 4, b"fourth");
    store.put_triage_model(&a4).await.unwrap();
    assert_eq!(
        store.latest_triage_model(a.id).await.unwrap(),
        Some(a4.clone())
    );
    assert_eq!(
        store.retire_triage_models(a.id, at(3_000)).await.unwrap(),
        1
    );
    let listed = store.list_triage_models(a.id, 10).await.unwrap();
    assert_eq!(
        listed.iter().map(|m| m.retired_at).collect::<Vec<_>>(),
        [at(3_000), at(1_000), at(1_000), at(1_000)].map(Some)
    );

    // A record stored retired comes back retired and is not retired again.
    let b2 = TriageModel {
        retired_at: Some(at(500)),
        ..model(b.id, 2, b"retired")
    };
    store.put_triage_model(&b2).await.unwrap();
    assert_eq!(
        store.latest_triage_model(b.id).await.unwrap(),
        Some(b2.clone())
    );
    assert_eq!(
        store.retire_triage_models(b.id, at(4_000)).await.unwrap(),
        1
    );
    assert_eq!(
        store.list_triage_models(b.id, 10).await.unwrap(),
        vec![
            b2,
            TriageModel {
                retired_at: Some(at(4_000)),
                ..b1
            }
        ]
    );
}
