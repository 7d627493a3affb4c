//! `helpdesk-eval chatbot --set banking77`: the help centre and the held-out list are what
//! the documentation says, the figures' arithmetic and rules are right, the evaluation runs
//! through the real chat path on SQLite (fake embedder, no model needed), and, when the
//! MiniLM model is prepared (`HELPDESK_MODEL_DIR`, as in `make test`), the committed test
//! subsample (the first 4 queries of each intent of BANKING77's `test.csv`, 308 queries)
//! still reaches the figures recorded in BENCHMARKS.md at the threshold chosen on
//! `train.csv`. The full test set (3,080 queries, about 4 minutes with the embedding) is
//! run by the binary, not here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;

use helpdesk_core::Embedder;
use helpdesk_core::testkit::FakeEmbedder;
use helpdesk_examples::eval::banking77::bank::Provider;
use helpdesk_examples::eval::banking77::report::{self, Observation, Tally};
use helpdesk_examples::eval::banking77::{
    BUNDLED_ARTICLES, Banking77Report, EvaluateOptions, HELD_OUT, TEST_SAMPLE,
    TRAIN_CHOSEN_THRESHOLD, evaluate, parse_articles, parse_queries,
};
use sha2::{Digest, Sha256};

#[test]
fn the_help_centre_has_one_short_article_per_intent() {
    let articles = parse_articles(BUNDLED_ARTICLES).unwrap();
    assert_eq!(articles.len(), 77);
    for a in &articles {
        let sentences = a.body.matches(". ").count() + 1;
        assert!(
            (2..=8).contains(&sentences) && a.body.len() < 800,
            "{}: {} sentences, {} bytes (one chunk each)",
            a.intent,
            sentences,
            a.body.len()
        );
    }
    // The sample covers every intent, four queries each.
    let sample = parse_queries(TEST_SAMPLE, "sample").unwrap();
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for q in &sample {
        *per.entry(q.intent.as_str()).or_default() += 1;
    }
    assert_eq!(per.len(), 77);
    assert!(per.values().all(|n| *n == 4));
    for a in &articles {
        assert!(per.contains_key(a.intent.as_str()), "{}", a.intent);
    }
}

#[test]
fn the_held_out_intents_are_the_twenty_smallest_name_hashes() {
    let articles = parse_articles(BUNDLED_ARTICLES).unwrap();
    let mut names: Vec<(String, &str)> = articles
        .iter()
        .map(|a| {
            let hash: String = Sha256::digest(a.intent.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            (hash, a.intent.as_str())
        })
        .collect();
    names.sort();
    let mut rule: Vec<&str> = names.iter().take(20).map(|(_, n)| *n).collect();
    rule.sort_unstable();
    let mut listed = HELD_OUT.to_vec();
    listed.sort_unstable();
    assert_eq!(rule, listed);
}

fn observation(intent: &str, answerable: bool, best: Option<(&str, f32)>) -> Observation {
    Observation {
        text: intent.into(),
        intent: intent.into(),
        answerable,
        best: best.map(|(i, s)| (i.to_string(), s)),
        ranked: best.map(|(i, _)| vec![i.to_string()]).unwrap_or_default(),
    }
}

#[test]
fn the_figures_and_the_rules_count_what_the_bot_did() {
    let obs = vec![
        observation("a", true, Some(("a", 0.7))),
        observation("a", true, Some(("b", 0.6))),
        observation("b", true, Some(("b", 0.4))),
        observation("x", false, Some(("a", 0.55))),
        observation("y", false, Some(("b", 0.3))),
        observation("z", false, None),
    ];
    // At 0.5: a right, a wrong (b), b handed off; x answered, y and z handed off.
    let f = report::figures(&obs, 0.5);
    assert_eq!((f.answerable, f.unanswerable), (3, 3));
    assert_eq!(
        (f.cited, f.wrong_article, f.answerable_handed_off),
        (1, 1, 1)
    );
    assert_eq!((f.unanswerable_handed_off, f.unanswerable_answered), (2, 1));
    assert!((f.answerable_cited - 1.0 / 3.0).abs() < 1e-12);
    assert!((f.unanswerable_handoff - 2.0 / 3.0).abs() < 1e-12);
    assert!((f.precision - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(f.lower, f.answerable_cited);
    // Recall: the first passage is right for 2 of 3 answerable queries.
    let (r1, r5) = report::recall(&obs);
    assert!((r1 - 2.0 / 3.0).abs() < 1e-12 && (r5 - 2.0 / 3.0).abs() < 1e-12);

    // Balanced: from 0.31 to 0.40 y is handed off and b still answered rightly: both 2/3;
    // the middle of that run (the lower middle of ten).
    let sweep = report::sweep(&obs, &report::sweep_thresholds());
    let chosen = report::choose_balanced(&sweep).unwrap();
    assert!((chosen.lower - 2.0 / 3.0).abs() < 1e-12);
    assert!(
        (chosen.threshold - 0.35).abs() < 1e-6,
        "{}",
        chosen.threshold
    );
    // Precision first: nothing wrong from 0.61 (the wrong b and x under it) to 0.70 (a
    // still answered); the middle of that run.
    let careful = report::choose_precision_first(&sweep).unwrap();
    assert_eq!(careful.wrong_article + careful.unanswerable_answered, 0);
    assert!(
        (careful.threshold - 0.65).abs() < 1e-6,
        "{}",
        careful.threshold
    );

    // A provider's answer citing its own and another article is not "cited".
    let mut tally = Tally::new();
    tally.add(true, "a", Some(&["a", "b"]));
    tally.add(true, "a", Some(&["a"]));
    tally.add(false, "x", None);
    let f = tally.figures(0.5);
    assert_eq!(
        (f.cited, f.wrong_article, f.unanswerable_handed_off),
        (1, 1, 1)
    );
}

fn options(providers: Vec<Provider>, threshold: f32) -> EvaluateOptions {
    EvaluateOptions {
        threshold: Some(threshold),
        providers,
        live_per_intent: None,
        details: false,
        notes: Vec::new(),
        embeddings_cache: None,
        vector_weight: None,
    }
}

async fn run_sample(embedder: Arc<dyn Embedder>, threshold: f32) -> Banking77Report {
    let dir = tempfile_dir();
    let articles = parse_articles(BUNDLED_ARTICLES).unwrap();
    let test = parse_queries(TEST_SAMPLE, "sample").unwrap();
    let report = evaluate(
        embedder,
        &dir,
        &articles,
        None,
        &test,
        &options(vec![Provider::Offline, Provider::AlwaysAnswer], threshold),
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    report.unwrap()
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "helpdesk-banking77-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_runs_through_the_chat_path_and_the_guard_alone_matches_offline() {
    // The fake embedder (word hashing): plumbing, not quality.
    let r = run_sample(Arc::new(FakeEmbedder::new()), 0.3).await;
    assert_eq!(
        (r.test_queries, r.answerable, r.unanswerable),
        (308, 228, 80)
    );
    assert_eq!(r.articles_indexed, 57);
    // Every offline outcome is what the bot's own search predicts.
    assert_eq!((r.offline_checked, r.prediction_mismatches), (308, 0));
    // The mock always answers citing the first passage; the guard then hands off exactly
    // what the offline bot hands off.
    let [offline, mock] = &r.providers[..] else {
        panic!("{:?}", r.providers);
    };
    assert_eq!(mock.provider, "mock-always-answers");
    assert_eq!(offline.figures, mock.figures);
    assert_eq!(mock.model_failures, 0);
    let json = serde_json::to_value(&r).unwrap();
    for key in [
        "answerable_cited",
        "unanswerable_handoff",
        "recall_at_1",
        "recall_at_5",
    ] {
        assert!(json[key].is_f64(), "{key}");
    }
    assert_eq!(json["retrieval"].as_array().unwrap().len(), 3);
}

/// With MiniLM: the committed subsample at the threshold chosen on train.csv. The floors
/// are the figures measured on it (BENCHMARKS.md) less two queries' worth of slack, so a
/// change to the articles, chunking, hybrid weights or the guard that loses ground fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_minilm_the_sample_keeps_its_recorded_figures() {
    let Some(model_dir) = std::env::var_os("HELPDESK_MODEL_DIR") else {
        eprintln!("HELPDESK_MODEL_DIR not set: skipping the MiniLM BANKING77 evaluation");
        return;
    };
    let embedder = helpdesk_kb_search::FastembedEmbedder::from_dir(
        std::path::Path::new(&model_dir),
        helpdesk_kb_search::EmbedderOptions::default(),
    )
    .unwrap();
    let r = run_sample(Arc::new(embedder), TRAIN_CHOSEN_THRESHOLD).await;
    let floors = [
        ("answerable_cited", r.answerable_cited, ANSWERABLE_CITED),
        (
            "unanswerable_handoff",
            r.unanswerable_handoff,
            UNANSWERABLE_HANDOFF,
        ),
        ("recall_at_1", r.recall_at_1, RECALL_AT_1),
        ("recall_at_5", r.recall_at_5, RECALL_AT_5),
    ];
    for (name, got, floor) in floors {
        assert!(got >= floor, "{name} {got:.3} under {floor:.3}");
    }
    assert_eq!(r.prediction_mismatches, 0);
    assert_eq!(r.providers[0].figures, r.providers[1].figures);
}

/// Measured on the subsample at 0.54 (BENCHMARKS.md): 134 of 228 answerable queries cited,
/// 42 of 80 unanswerable handed off, the right article first for 176 and among the first
/// five for 218; each floor is two queries under.
const ANSWERABLE_CITED: f64 = 132.0 / 228.0;
const UNANSWERABLE_HANDOFF: f64 = 40.0 / 80.0;
const RECALL_AT_1: f64 = 174.0 / 228.0;
const RECALL_AT_5: f64 = 216.0 / 228.0;
