//! Tests with the real all-MiniLM-L6-v2 model, offline. Prepare it with
//! `eval "$(scripts/setup-model.sh)"` (sets HELPDESK_MODEL_DIR and ORT_DYLIB_PATH).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, OnceLock};

use helpdesk_core::llm::UsageTally;
use helpdesk_core::{EmbedKind, Embedder, KnowledgeBase, TenantId};
use helpdesk_kb_search::{
    EmbedderOptions, FastembedEmbedder, KbIndex, KbIndexOptions, LearnedClassifier, TrainingExample,
};

fn embedder() -> FastembedEmbedder {
    static EMBEDDER: OnceLock<FastembedEmbedder> = OnceLock::new();
    EMBEDDER
        .get_or_init(|| {
            FastembedEmbedder::from_env().expect("load the model in HELPDESK_MODEL_DIR")
        })
        .clone()
}

#[derive(serde::Deserialize)]
struct Reference {
    texts: Vec<String>,
    vectors: Vec<Vec<f32>>,
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(helpdesk_model),
    ignore = "set HELPDESK_MODEL_DIR to run: eval \"$(scripts/setup-model.sh)\""
)]
async fn vectors_agree_with_onnxruntime_in_python() {
    // kb-search/tests/fixtures/minilm_reference.json comes from scripts/check_embeddings.py.
    let reference: Reference =
        serde_json::from_str(include_str!("fixtures/minilm_reference.json")).unwrap();
    let e = embedder();
    assert_eq!(
        (e.model_id(), e.dimensions()),
        ("sentence-transformers/all-MiniLM-L6-v2", 384)
    );
    let got = e
        .embed(&reference.texts, EmbedKind::Document)
        .await
        .unwrap();
    assert_eq!(got.len(), reference.vectors.len());
    let mut worst = 0f32;
    for (g, r) in got.iter().zip(&reference.vectors) {
        let norm: f32 = g.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
        for (a, b) in g.iter().zip(r) {
            worst = worst.max((a - b).abs());
        }
    }
    assert!(worst < 1e-4, "max abs difference {worst}");
    // One at a time gives the same vectors as a batch (padding does not leak).
    let single = e
        .embed(&reference.texts[2..3], EmbedKind::Query)
        .await
        .unwrap();
    let d: f32 = single[0]
        .iter()
        .zip(&got[2])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(d < 1e-4, "{d}");
    assert!(e.embed(&[], EmbedKind::Query).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(helpdesk_model),
    ignore = "set HELPDESK_MODEL_DIR to run: eval \"$(scripts/setup-model.sh)\""
)]
async fn paraphrased_questions_find_the_right_article_first() {
    let dir = tempfile::tempdir().unwrap();
    let kb = KbIndex::open(dir.path(), Arc::new(embedder()), KbIndexOptions::default()).unwrap();
    let tenant = TenantId::new();
    let articles = common::help_centre(tenant);
    kb.rebuild(tenant, &articles).await.unwrap();
    let cases = [
        ("I can't remember my login credentials", 0),
        ("when will I get my money back?", 1),
        ("where is my package, it has not come yet", 2),
        ("the application closes itself when I send a picture", 3),
    ];
    for (query, want) in cases {
        let hits = kb.search(tenant, query, 3).await.unwrap();
        assert_eq!(hits[0].article_id, articles[want].id, "{query}: {hits:#?}");
        assert!(
            hits[0].score > 0.3 && hits[0].score <= 1.0,
            "{query}: {}",
            hits[0].score
        );
    }
    // An unrelated question scores low against every chunk.
    let hits = kb
        .search(tenant, "what is the boiling point of mercury", 3)
        .await
        .unwrap();
    assert!(hits.iter().all(|h| h.score < 0.3), "{hits:#?}");
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(helpdesk_model),
    ignore = "set HELPDESK_MODEL_DIR to run: eval \"$(scripts/setup-model.sh)\""
)]
async fn learned_classifier_generalises_to_new_wording() {
    let learned = LearnedClassifier::new(Arc::new(embedder()));
    let tenant = common::tenant("acme");
    let data = [
        ("billing", "I was charged twice for my subscription"),
        ("billing", "Please refund the last invoice"),
        ("billing", "Why is there an extra fee on my statement"),
        ("technical", "The app crashes when I open settings"),
        ("technical", "Upload fails with an error message"),
        ("technical", "The page stays blank after the update"),
        ("account", "I cannot log in to my account"),
        ("account", "How do I change the e-mail on my profile"),
        ("account", "Reset my password please"),
    ];
    let examples: Vec<TrainingExample> = data
        .iter()
        .map(|(c, t)| TrainingExample {
            text: (*t).into(),
            category: (*c).into(),
        })
        .collect();
    learned.train(tenant.id, &examples).await.unwrap();
    use helpdesk_core::triage::{Classifier, ClassifyInput};
    for (subject, want) in [
        ("Money taken two times", "billing"),
        ("Program freezes on launch", "technical"),
        ("Forgot my sign-in details", "account"),
    ] {
        let input = ClassifyInput {
            tenant: &tenant,
            subject,
            description: "",
            usage: &UsageTally::new(),
        };
        let c = learned.classify(&input).await.unwrap();
        assert_eq!(c.category.as_deref(), Some(want), "{subject}");
    }
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(helpdesk_model),
    ignore = "set HELPDESK_MODEL_DIR to run: eval \"$(scripts/setup-model.sh)\""
)]
async fn a_fitted_model_installs_on_another_instance_with_minilm() {
    use helpdesk_core::triage::{Classifier, ClassifyInput, LabelledTicket, LearnedTriage};
    let ticket = |category: &str, subject: &str| LabelledTicket {
        subject: subject.into(),
        description: String::new(),
        category: category.into(),
    };
    let train = [
        ticket("billing", "I was charged twice for my subscription"),
        ticket("billing", "Please refund the last invoice"),
        ticket("billing", "Why is there an extra fee on my statement"),
        ticket("technical", "The app crashes when I open settings"),
        ticket("technical", "Upload fails with an error message"),
        ticket("technical", "The page stays blank after the update"),
        ticket("account", "I cannot log in to my account"),
        ticket("account", "How do I change the e-mail on my profile"),
        ticket("account", "Reset my password please"),
    ];
    let holdout = [
        ticket("billing", "Money taken two times"),
        ticket("technical", "Program freezes on launch"),
        ticket("account", "Forgot my sign-in details"),
    ];
    let first = LearnedClassifier::new(Arc::new(embedder()));
    assert_eq!(
        first.format(),
        "kb-search-svm-v1+sentence-transformers/all-MiniLM-L6-v2@384"
    );
    let fitted = first.fit(&train, &holdout).await.unwrap();
    assert_eq!(fitted.holdout_correct, 3);
    let second = LearnedClassifier::new(Arc::new(embedder()));
    second
        .install(TenantId::new(), 1, &fitted.bytes)
        .await
        .unwrap();
    let tenant = common::tenant("acme");
    second.install(tenant.id, 7, &fitted.bytes).await.unwrap();
    assert_eq!(second.installed_version(tenant.id), Some(7));
    for t in &holdout {
        let input = ClassifyInput {
            tenant: &tenant,
            subject: &t.subject,
            description: "",
            usage: &UsageTally::new(),
        };
        let c = second.classify(&input).await.unwrap();
        assert_eq!(
            c.category.as_deref(),
            Some(t.category.as_str()),
            "{}",
            t.subject
        );
    }
}

#[test]
#[cfg_attr(
    not(helpdesk_model),
    ignore = "set HELPDESK_MODEL_DIR to run: eval \"$(scripts/setup-model.sh)\""
)]
fn a_model_folder_without_the_onnx_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = FastembedEmbedder::from_dir(dir.path(), EmbedderOptions::default()).unwrap_err();
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(source.contains("model.onnx"), "{source}");
}
