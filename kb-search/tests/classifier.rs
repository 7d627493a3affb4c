//! The learned classifier with a deterministic embedder (no model needed).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use helpdesk_core::Error;
use helpdesk_core::domain::TriageSource;
use helpdesk_core::llm::UsageTally;
use helpdesk_core::testkit::FakeEmbedder;
use helpdesk_core::triage::{Classifier, ClassifierChain, ClassifyError, ClassifyInput};
use helpdesk_kb_search::classifier::{LabelledText, TextClassifierModel, TrainOptions};
use helpdesk_kb_search::{LearnedClassifier, TrainingExample};

fn examples() -> Vec<TrainingExample> {
    let data = [
        ("billing", "I was charged twice for my subscription"),
        ("billing", "Please refund the last invoice"),
        ("billing", "Why is there an extra charge on my card"),
        ("billing", "Cancel my plan and refund me"),
        ("technical", "The app crashes when I open settings"),
        ("technical", "Upload fails with an error message"),
        ("technical", "The page is blank after the update"),
        ("technical", "Sync is broken since yesterday"),
        ("account", "I cannot log in to my account"),
        ("account", "How do I change my email address"),
        ("account", "Reset my password please"),
        ("account", "My account is locked after failed sign in"),
    ];
    data.iter()
        .map(|(c, t)| TrainingExample {
            text: (*t).into(),
            category: (*c).into(),
        })
        .collect()
}

#[tokio::test]
async fn untrained_tenants_get_not_trained() {
    let learned = LearnedClassifier::new(Arc::new(FakeEmbedder::new()));
    let tenant = common::tenant("acme");
    let input = ClassifyInput {
        tenant: &tenant,
        subject: "refund",
        description: "please",
        usage: &UsageTally::new(),
    };
    assert!(matches!(
        learned.classify(&input).await,
        Err(ClassifyError::NotTrained)
    ));
    assert_eq!(learned.source(), TriageSource::Learned);
}

#[tokio::test]
async fn trained_classifier_predicts_category_skills_and_confidence() {
    let learned = LearnedClassifier::new(Arc::new(FakeEmbedder::new()));
    let tenant = common::tenant("acme");
    let other = common::tenant("other");
    let report = learned.train(tenant.id, &examples()).await.unwrap();
    assert_eq!((report.examples, report.categories), (12, 3));
    assert!(learned.is_trained(tenant.id));
    assert!(!learned.is_trained(other.id));

    let input = ClassifyInput {
        tenant: &tenant,
        subject: "Double charge",
        description: "I was charged twice, please refund",
        usage: &UsageTally::new(),
    };
    let c = learned.classify(&input).await.unwrap();
    assert_eq!(c.category.as_deref(), Some("billing"));
    assert_eq!(c.required_skills, ["billing"]);
    assert!(
        c.confidence > 1.0 / 3.0 && c.confidence <= 1.0,
        "{}",
        c.confidence
    );

    // Another tenant's model is never used.
    let input_other = ClassifyInput {
        tenant: &other,
        ..input
    };
    assert!(matches!(
        learned.classify(&input_other).await,
        Err(ClassifyError::NotTrained)
    ));

    // In the core chain it is accepted as learned triage.
    let chain = ClassifierChain::new().with(Arc::new(learned.clone()));
    let outcome = chain.run(&input).await;
    assert_eq!(outcome.triage.source, TriageSource::Learned);
    assert_eq!(outcome.classification.category.as_deref(), Some("billing"));

    learned.forget(tenant.id);
    assert!(matches!(
        learned.classify(&input).await,
        Err(ClassifyError::NotTrained)
    ));
}

#[tokio::test]
async fn bad_training_sets_are_rejected() {
    let learned = LearnedClassifier::new(Arc::new(FakeEmbedder::new()));
    let tenant = common::tenant("acme");
    let mut bad = examples();
    bad[3].text = "  ".into();
    let err = learned.train(tenant.id, &bad).await.unwrap_err();
    assert!(
        matches!(err, Error::Validation { ref field, .. } if field == "examples[3].text"),
        "{err}"
    );
    let one_class: Vec<_> = examples()
        .into_iter()
        .filter(|e| e.category == "billing")
        .collect();
    let err = learned.train(tenant.id, &one_class).await.unwrap_err();
    assert!(
        matches!(err, Error::Validation { ref field, .. } if field == "examples"),
        "{err}"
    );
    assert!(!learned.is_trained(tenant.id));
}

#[test]
fn model_rejects_mismatched_embeddings() {
    let e1 = [1.0f32, 0.0];
    let e2 = [0.0f32, 1.0, 0.0];
    let rows = [
        LabelledText {
            text: "a",
            embedding: &e1,
            category: "x",
        },
        LabelledText {
            text: "b",
            embedding: &e2,
            category: "y",
        },
    ];
    let err = TextClassifierModel::train(&rows, &TrainOptions::default()).unwrap_err();
    assert!(
        matches!(err, Error::Validation { ref field, .. } if field == "examples[1].embedding"),
        "{err}"
    );
    let rows = [
        LabelledText {
            text: "apples",
            embedding: &e1,
            category: "x",
        },
        LabelledText {
            text: "pears",
            embedding: &e1,
            category: "y",
        },
    ];
    let model = TextClassifierModel::train(&rows, &TrainOptions::default()).unwrap();
    assert_eq!(model.predict("apples", &e1).unwrap().category, "x");
    assert!(model.predict("apples", &e2).is_err());
}
