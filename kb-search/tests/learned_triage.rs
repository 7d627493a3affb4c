//! The learned classifier as core's `LearnedTriage`: fit on one instance, install the bytes
//! on others, with a deterministic embedder (no model needed).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use helpdesk_core::domain::{Tenant, TriageSource};
use helpdesk_core::llm::UsageTally;
use helpdesk_core::testkit::FakeEmbedder;
use helpdesk_core::triage::{
    Classification, Classifier, ClassifierChain, ClassifyError, ClassifyInput, LabelledTicket,
    LearnedTriage,
};
use helpdesk_core::{EmbedKind, Embedder, Error, ModelError};
use helpdesk_kb_search::classifier::{MODEL_FORMAT, MODEL_HEADER_LEN};
use helpdesk_kb_search::{LearnedClassifier, TrainingExample};

fn ticket(category: &str, subject: &str, description: &str) -> LabelledTicket {
    LabelledTicket {
        subject: subject.into(),
        description: description.into(),
        category: category.into(),
    }
}

fn train_set() -> Vec<LabelledTicket> {
    vec![
        ticket(
            "billing",
            "Charged twice",
            "I was charged twice for my subscription",
        ),
        ticket("billing", "Refund", "Please refund the last invoice"),
        ticket("billing", "", "Why is there an extra charge on my card"),
        ticket("billing", "Cancel my plan and refund me", ""),
        ticket("technical", "Crash", "The app crashes when I open settings"),
        ticket("technical", "Upload", "Upload fails with an error message"),
        ticket(
            "technical",
            "Blank page",
            "The page is blank after the update",
        ),
        ticket("technical", "Sync", "Sync is broken since yesterday"),
        ticket("account", "Login", "I cannot log in to my account"),
        ticket("account", "E-mail", "How do I change my email address"),
        ticket("account", "Password", "Reset my password please"),
        ticket(
            "account",
            "Locked",
            "My account is locked after failed sign in",
        ),
    ]
}

/// Held-out tickets: most read like their category, two are filed against their words.
fn holdout_set() -> Vec<LabelledTicket> {
    vec![
        ticket(
            "billing",
            "Double charge",
            "I was charged twice, please refund",
        ),
        ticket("technical", "Crashes", "The app crashes after the update"),
        ticket(
            "account",
            "Password",
            "I forgot my password and cannot log in",
        ),
        ticket("account", "Refund", "Refund the invoice charge on my card"),
        ticket(
            "billing",
            "Upload",
            "Upload fails with an error after the update",
        ),
    ]
}

fn learned() -> LearnedClassifier {
    LearnedClassifier::new(Arc::new(FakeEmbedder::new()))
}

async fn classify(
    learned: &LearnedClassifier,
    tenant: &Tenant,
    t: &LabelledTicket,
) -> Result<Classification, ClassifyError> {
    let usage = UsageTally::new();
    let input = ClassifyInput {
        tenant,
        subject: &t.subject,
        description: &t.description,
        usage: &usage,
    };
    learned.classify(&input).await
}

fn field(err: &Error) -> &str {
    match err {
        Error::Validation { field, .. } => field,
        other => panic!("not a validation error: {other}"),
    }
}

#[tokio::test]
async fn a_fitted_model_installs_on_another_instance_and_predicts_alike() {
    let tenant = common::tenant("acme");
    let first = learned();
    let holdout = holdout_set();
    let fitted = first.fit(&train_set(), &holdout).await.unwrap();
    assert_eq!(fitted.categories, ["account", "billing", "technical"]);
    assert!(fitted.bytes.len() > MODEL_HEADER_LEN);
    // fit installs nothing.
    assert_eq!(first.installed_version(tenant.id), None);
    assert!(matches!(
        classify(&first, &tenant, &holdout[0]).await,
        Err(ClassifyError::NotTrained)
    ));

    // Another "process": its own classifier and embedder, only the bytes in common.
    let second = learned();
    assert!(matches!(
        classify(&second, &tenant, &holdout[0]).await,
        Err(ClassifyError::NotTrained)
    ));
    first.install(tenant.id, 1, &fitted.bytes).await.unwrap();
    second.install(tenant.id, 1, &fitted.bytes).await.unwrap();
    assert_eq!(first.installed_version(tenant.id), Some(1));
    assert_eq!(second.installed_version(tenant.id), Some(1));
    assert_eq!(second.installed_version(common::tenant("other").id), None);

    let mut correct = 0;
    for t in &holdout {
        let a = classify(&first, &tenant, t).await.unwrap();
        let b = classify(&second, &tenant, t).await.unwrap();
        assert_eq!(a.category, b.category, "{}", t.subject);
        assert_eq!(
            a.confidence.to_bits(),
            b.confidence.to_bits(),
            "{}",
            t.subject
        );
        assert!(a.confidence > 1.0 / 3.0 && a.confidence <= 1.0);
        if a.category.as_deref() == Some(t.category.as_str()) {
            correct += 1;
        }
    }
    assert_eq!(fitted.holdout_correct, correct);
    assert!((3..5).contains(&correct), "{correct} of 5 right");

    // The same tickets fit again give the same bytes.
    let again = second.fit(&train_set(), &holdout).await.unwrap();
    assert_eq!(again, fitted);
}

#[tokio::test]
async fn a_newer_version_replaces_the_model() {
    let tenant = common::tenant("acme");
    let learned = learned();
    let v1 = learned.fit(&train_set(), &[]).await.unwrap();
    assert_eq!(v1.holdout_correct, 0);
    learned.install(tenant.id, 1, &v1.bytes).await.unwrap();
    let mut train = train_set();
    train.push(ticket("shipping", "Parcel", "Where is my parcel delivery"));
    train.push(ticket(
        "shipping",
        "Late",
        "The delivery of my parcel is late",
    ));
    let v2 = learned.fit(&train, &[]).await.unwrap();
    assert_eq!(
        v2.categories,
        ["account", "billing", "shipping", "technical"]
    );
    learned.install(tenant.id, 2, &v2.bytes).await.unwrap();
    assert_eq!(learned.installed_version(tenant.id), Some(2));
    let c = classify(
        &learned,
        &tenant,
        &ticket("", "Parcel", "my parcel delivery"),
    )
    .await
    .unwrap();
    assert_eq!(c.category.as_deref(), Some("shipping"));
}

#[tokio::test]
async fn an_uninstalled_model_answers_no_more_for_its_tenant_only() {
    let (acme, globex) = (common::tenant("acme"), common::tenant("globex"));
    let learned = learned();
    let fitted = learned.fit(&train_set(), &[]).await.unwrap();
    learned.install(acme.id, 3, &fitted.bytes).await.unwrap();
    learned.install(globex.id, 1, &fitted.bytes).await.unwrap();
    let probe = &holdout_set()[0];
    assert!(classify(&learned, &acme, probe).await.is_ok());

    learned.uninstall(acme.id);
    assert_eq!(learned.installed_version(acme.id), None);
    assert!(matches!(
        classify(&learned, &acme, probe).await,
        Err(ClassifyError::NotTrained)
    ));
    assert_eq!(learned.installed_version(globex.id), Some(1));
    assert!(classify(&learned, &globex, probe).await.is_ok());
    // Uninstalling again, or a tenant without a model, changes nothing.
    learned.uninstall(acme.id);
    learned.uninstall(common::tenant("initech").id);
    assert_eq!(learned.installed_version(globex.id), Some(1));
    // A newer version installs as before.
    learned.install(acme.id, 4, &fitted.bytes).await.unwrap();
    assert_eq!(learned.installed_version(acme.id), Some(4));
}

#[tokio::test]
async fn bad_bytes_are_refused_and_the_old_model_keeps_answering() {
    let tenant = common::tenant("acme");
    let learned = learned();
    let fitted = learned.fit(&train_set(), &[]).await.unwrap();
    learned.install(tenant.id, 1, &fitted.bytes).await.unwrap();
    let probe = &holdout_set()[0];
    let before = classify(&learned, &tenant, probe).await.unwrap();

    let bytes = &fitted.bytes;
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x10;
    let mut last = bytes.clone();
    *last.last_mut().unwrap() ^= 0x01;
    let mut version = bytes.clone();
    version[8] = 9;
    let mut longer = bytes.clone();
    longer.push(0);
    let bad: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("header only", bytes[..MODEL_HEADER_LEN].to_vec()),
        ("truncated", bytes[..bytes.len() - 1].to_vec()),
        ("half", bytes[..bytes.len() / 2].to_vec()),
        ("flipped", flipped),
        ("last byte flipped", last),
        ("one byte more", longer),
        ("another version", version),
        (
            "json",
            br#"{"categories":["billing","technical"],"weights":[]}"#.to_vec(),
        ),
        ("zeros", vec![0; bytes.len()]),
    ];
    for (what, b) in bad {
        let err = learned.install(tenant.id, 2, &b).await.unwrap_err();
        assert_eq!(field(&err), "bytes", "{what}: {err}");
        assert_eq!(learned.installed_version(tenant.id), Some(1), "{what}");
        let after = classify(&learned, &tenant, probe).await.unwrap();
        assert_eq!(after, before, "{what}");
    }
    let err = learned
        .install(tenant.id, 2, b"hdkb-svm")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("too short"), "{err}");
    let mut version = bytes.clone();
    version[8] = 9;
    let err = learned.install(tenant.id, 2, &version).await.unwrap_err();
    assert!(err.to_string().contains("version 9"), "{err}");
}

/// The fake embedder under another model id.
#[derive(Debug)]
struct Renamed(FakeEmbedder, &'static str);

#[async_trait]
impl Embedder for Renamed {
    fn model_id(&self) -> &str {
        self.1
    }

    fn dimensions(&self) -> usize {
        self.0.dimensions()
    }

    async fn embed(&self, texts: &[String], kind: EmbedKind) -> Result<Vec<Vec<f32>>, ModelError> {
        self.0.embed(texts, kind).await
    }
}

#[tokio::test]
async fn the_format_names_the_embedding_model_and_other_models_are_refused() {
    let tenant = common::tenant("acme");
    let first = learned();
    assert_eq!(first.format(), "kb-search-svm-v1+fake-bag-of-words@256");
    assert!(first.format().starts_with(MODEL_FORMAT));
    let renamed = LearnedClassifier::new(Arc::new(Renamed(FakeEmbedder::new(), "other-model")));
    let smaller = LearnedClassifier::new(Arc::new(FakeEmbedder::with_dimensions(64)));
    assert_eq!(renamed.format(), "kb-search-svm-v1+other-model@256");
    assert_eq!(smaller.format(), "kb-search-svm-v1+fake-bag-of-words@64");

    let fitted = first.fit(&train_set(), &[]).await.unwrap();
    let err = renamed
        .install(tenant.id, 1, &fitted.bytes)
        .await
        .unwrap_err();
    assert_eq!(field(&err), "model.embedder", "{err}");
    let err = smaller
        .install(tenant.id, 1, &fitted.bytes)
        .await
        .unwrap_err();
    assert_eq!(field(&err), "model.dimensions", "{err}");
    assert_eq!(renamed.installed_version(tenant.id), None);
    assert!(!smaller.is_trained(tenant.id));
}

#[tokio::test]
async fn fit_validates_its_tickets() {
    let learned = learned();
    let mut train = train_set();
    train[2].category = " ".into();
    let err = learned.fit(&train, &[]).await.unwrap_err();
    assert_eq!(field(&err), "train[2].category");
    let mut train = train_set();
    train[1] = ticket("billing", "  ", "\n");
    let err = learned.fit(&train, &[]).await.unwrap_err();
    assert_eq!(field(&err), "train[1].description");
    let mut holdout = holdout_set();
    holdout[3].category.clear();
    let err = learned.fit(&train_set(), &holdout).await.unwrap_err();
    assert_eq!(field(&err), "holdout[3].category");
    let one: Vec<_> = train_set()
        .into_iter()
        .filter(|t| t.category == "billing")
        .collect();
    let err = learned.fit(&one, &holdout_set()).await.unwrap_err();
    assert_eq!(field(&err), "train");
    let err = learned.fit(&[], &[]).await.unwrap_err();
    assert_eq!(field(&err), "train");
}

#[tokio::test]
async fn the_chain_refuses_categories_the_tenant_no_longer_has() {
    let tenant = common::tenant("acme");
    let learned = Arc::new(learned());
    let mut train = train_set();
    train.push(ticket("legacy", "Fax", "My fax machine does not print"));
    train.push(ticket(
        "legacy",
        "Fax again",
        "The fax machine paper is jammed",
    ));
    let fitted = learned.fit(&train, &[]).await.unwrap();
    assert!(fitted.categories.contains(&"legacy".to_string()));
    assert!(!tenant.settings.categories.contains(&"legacy".to_string()));
    learned.install(tenant.id, 1, &fitted.bytes).await.unwrap();

    let fax = ticket("", "Fax", "the fax machine does not print");
    let c = classify(&learned, &tenant, &fax).await.unwrap();
    assert_eq!(c.category.as_deref(), Some("legacy"));

    let chain = ClassifierChain::new().with_learned(learned.clone());
    assert!(chain.learned().is_some());
    let usage = UsageTally::new();
    let input = ClassifyInput {
        tenant: &tenant,
        subject: &fax.subject,
        description: &fax.description,
        usage: &usage,
    };
    let outcome = chain.run(&input).await;
    assert_eq!(outcome.triage.source, TriageSource::Default);
    assert_eq!(outcome.triage.fallbacks.len(), 1);
    assert_eq!(outcome.triage.fallbacks[0].source, TriageSource::Learned);

    let input = ClassifyInput {
        subject: "Refund",
        description: "I was charged twice, please refund",
        ..input
    };
    let outcome = chain.run(&input).await;
    assert_eq!(outcome.triage.source, TriageSource::Learned);
    assert_eq!(outcome.classification.category.as_deref(), Some("billing"));
}

#[tokio::test]
async fn train_installs_locally_without_a_version() {
    let tenant = common::tenant("acme");
    let learned = learned();
    let examples: Vec<TrainingExample> = train_set()
        .into_iter()
        .map(|t| TrainingExample {
            text: format!("{}\n{}", t.subject, t.description),
            category: t.category,
        })
        .collect();
    let report = learned.train(tenant.id, &examples).await.unwrap();
    assert_eq!((report.examples, report.categories), (12, 3));
    assert!(learned.is_trained(tenant.id));
    assert_eq!(learned.installed_version(tenant.id), None);
    let fitted = learned.fit(&train_set(), &[]).await.unwrap();
    learned.install(tenant.id, 4, &fitted.bytes).await.unwrap();
    assert_eq!(learned.installed_version(tenant.id), Some(4));
    learned.forget(tenant.id);
    assert_eq!(learned.installed_version(tenant.id), None);
    assert!(!learned.is_trained(tenant.id));
}

/// Model sizes on BANKING77's training texts (77 categories) with 384 dimensions, as
/// MiniLM gives (the bytes do not depend on the vectors' values, so the fake embedder
/// measures the same). Ignored: it reads `BANKING77_DIR` (default
/// `../../shared/data/banking77`) and takes a while; run it with
/// `cargo test -p helpdesk-kb-search --release --test learned_triage -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs BANKING77's train.csv"]
async fn model_sizes_on_banking77() {
    let dir = std::env::var("BANKING77_DIR").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/banking77").into()
    });
    let csv = std::fs::read_to_string(format!("{dir}/train.csv")).unwrap();
    let rows: Vec<LabelledTicket> = csv_records(&csv)
        .into_iter()
        .skip(1)
        .filter_map(|mut r| Some(ticket(&r.pop()?, "", &r.pop()?)))
        .collect();
    let learned = LearnedClassifier::new(Arc::new(FakeEmbedder::with_dimensions(384)));
    for n in [1_000, 5_000] {
        // Every (len / n)-th row: all categories, as the file is grouped by category.
        let train: Vec<LabelledTicket> = (0..n).map(|i| rows[i * rows.len() / n].clone()).collect();
        let started = std::time::Instant::now();
        let fitted = learned.fit(&train, &[]).await.unwrap();
        let fit_s = started.elapsed().as_secs_f64();
        let tenant = common::tenant("size");
        let started = std::time::Instant::now();
        learned.install(tenant.id, 1, &fitted.bytes).await.unwrap();
        let install_s = started.elapsed().as_secs_f64();
        let neighbours = n * 384 * 4;
        println!(
            "{n} tickets, {} categories: {} bytes ({:.1} MB; neighbours {:.1} MB), fit {fit_s:.1} s, install {install_s:.2} s",
            fitted.categories.len(),
            fitted.bytes.len(),
            fitted.bytes.len() as f64 / 1e6,
            neighbours as f64 / 1e6,
        );
    }
}

/// The records of a CSV text (quoted fields may hold commas, quotes and line breaks).
fn csv_records(csv: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = csv.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (_, '"') => quoted = !quoted,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, '\r') => {}
            (_, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}
