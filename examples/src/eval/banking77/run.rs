//! One evaluation: the help centre built, every query embedded once, the training queries
//! searched to choose the threshold, the test queries searched (recall) and asked through
//! the chat path by each provider.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use helpdesk_core::domain::TenantSettings;
use helpdesk_core::{EmbedKind, Embedder};
use helpdesk_kb_search::index::SearchOptions;

use super::bank::{Bank, Provider, TurnOutcome};
use super::report::{self, Figures, Tally};
use super::retrieval::{Mode, Searches};
use super::{
    Banking77EvalError, Banking77Report, HELD_OUT, IntentArticle, ProviderFigures, Query,
    TRAIN_CHOSEN_THRESHOLD, Tuning, first_per_intent,
};
use crate::eval::embed_cache::MemoEmbedder;

/// What to run.
#[derive(Debug, Clone)]
pub struct EvaluateOptions {
    /// Report at this grounding threshold instead of the one chosen on the training
    /// queries (required without training queries).
    pub threshold: Option<f32>,
    /// Who answers, in order.
    pub providers: Vec<Provider>,
    /// A live model is asked only the first N test queries of each intent (`None`: all).
    pub live_per_intent: Option<usize>,
    /// Keep each test query's offline observation in the report.
    pub details: bool,
    /// Notes for the report (e.g. a configured provider that this build cannot run).
    pub notes: Vec<String>,
    /// Reuse query embeddings between runs: a file read before and written after
    /// embedding (see [`MemoEmbedder::load`]).
    pub embeddings_cache: Option<PathBuf>,
    /// The hybrid index's `vector_weight` (kb-search's default when `None`): for tuning
    /// on the training queries.
    pub vector_weight: Option<f32>,
}

/// Runs the evaluation in `work_dir` (an empty folder the caller removes afterwards).
pub async fn evaluate(
    embedder: Arc<dyn Embedder>,
    work_dir: &Path,
    articles: &[IntentArticle],
    train: Option<&[Query]>,
    test: &[Query],
    options: &EvaluateOptions,
) -> Result<Banking77Report, Banking77EvalError> {
    let known: BTreeSet<&str> = articles.iter().map(|a| a.intent.as_str()).collect();
    if let Some(missing) = HELD_OUT.iter().find(|h| !known.contains(**h)) {
        return Err(Banking77EvalError::Inconsistent(format!(
            "held-out intent {missing} has no article"
        )));
    }
    for q in train.unwrap_or_default().iter().chain(test) {
        if !known.contains(q.intent.as_str()) {
            return Err(Banking77EvalError::Inconsistent(format!(
                "query {:?}: intent {} has no article",
                q.text, q.intent
            )));
        }
    }
    let answerable = |intent: &str| !HELD_OUT.contains(&intent);
    let in_help_centre: Vec<&IntentArticle> =
        articles.iter().filter(|a| answerable(&a.intent)).collect();

    let started = Instant::now();
    let memo = Arc::new(MemoEmbedder::new(embedder));
    let shared: Arc<dyn Embedder> = memo.clone();
    if let Some(cache) = &options.embeddings_cache {
        memo.load(cache).map_err(|e| cache_error(cache, e))?;
    }
    let mut search = SearchOptions::default();
    if let Some(w) = options.vector_weight {
        search.vector_weight = w;
    }
    let mut bank = Bank::open(work_dir, shared.clone(), &in_help_centre, search).await?;
    let offline = bank.helpdesk(&Provider::Offline)?;
    let k = offline.config().kb_top_k;
    let searches = Searches::open(&bank, work_dir, shared, k).await?;
    let setup_seconds = started.elapsed().as_secs_f64();

    // Every query embedded once, in batches, as the bot will search it.
    let started = Instant::now();
    let mut texts = Vec::new();
    for q in train.unwrap_or_default().iter().chain(test) {
        texts.push(helpdesk_core::validate::body("text", &q.text, true)?);
    }
    memo.warm(&texts, EmbedKind::Query)
        .await
        .map_err(helpdesk_core::Error::from)?;
    if let Some(cache) = &options.embeddings_cache {
        memo.save(cache).map_err(|e| cache_error(cache, e))?;
    }
    let embed_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let tenant_default = TenantSettings::default().grounding_threshold;
    let tuning = match train {
        Some(train) => {
            let observed = searches
                .observe(&bank, Mode::Hybrid, train, answerable)
                .await?;
            let sweep = report::sweep(&observed, &report::sweep_thresholds());
            let (recall_at_1, recall_at_5) = report::recall(&observed);
            Some(Tuning {
                queries: train.len(),
                recall_at_1,
                recall_at_5,
                rule: "the highest min(answerable_cited, unanswerable_handoff) on train; \
                       ties: the middle of the tied run"
                    .into(),
                balanced: report::choose_balanced(&sweep).cloned(),
                precision_first: report::choose_precision_first(&sweep).cloned(),
                at_default: report::figures(&observed, tenant_default),
                sweep,
            })
        }
        None => None,
    };
    let (threshold, threshold_source) = match (options.threshold, &tuning) {
        (Some(t), _) => (t, "given".to_string()),
        (
            None,
            Some(Tuning {
                balanced: Some(f), ..
            }),
        ) => (f.threshold, "chosen on train".to_string()),
        (None, _) => {
            return Err(Banking77EvalError::Inconsistent(
                "no threshold: give one, or training queries to choose it".into(),
            ));
        }
    };
    let mut notes = options.notes.clone();
    if threshold_source == "chosen on train" && threshold != TRAIN_CHOSEN_THRESHOLD {
        notes.push(format!(
            "the rule chose {threshold:.2} on train; TRAIN_CHOSEN_THRESHOLD (the subsample \
             test's) is {TRAIN_CHOSEN_THRESHOLD:.2}"
        ));
    }

    let observed = searches
        .observe(&bank, Mode::Hybrid, test, answerable)
        .await?;
    let retrieval = searches
        .recall_by_mode(&bank, test, &observed, answerable)
        .await?;
    let search_seconds = started.elapsed().as_secs_f64();
    let mut test_derived = vec![(
        format!("at {threshold:.2}"),
        report::figures(&observed, threshold),
    )];
    test_derived.push((
        "tenant default".into(),
        report::figures(&observed, tenant_default),
    ));
    if let Some(f) = tuning.as_ref().and_then(|t| t.precision_first.as_ref()) {
        test_derived.push((
            "precision-first".into(),
            report::figures(&observed, f.threshold),
        ));
    }

    bank.set_threshold(&offline, threshold).await?;
    let mut providers = Vec::with_capacity(options.providers.len());
    let mut offline_checked = 0;
    let mut prediction_mismatches = 0;
    for provider in &options.providers {
        let helpdesk = bank.helpdesk(provider)?;
        let (queries, note) = match (provider, options.live_per_intent) {
            (Provider::Live { .. }, Some(n)) => (
                first_per_intent(test, n),
                Some(format!("the first {n} test queries of each intent")),
            ),
            _ => (test.to_vec(), None),
        };
        let started = Instant::now();
        let mut tally = Tally::new();
        let mut model_failures = 0;
        for (i, q) in queries.iter().enumerate() {
            let outcome = bank.ask(&helpdesk, &q.text).await?;
            let cited: Option<Vec<&str>> = match &outcome {
                TurnOutcome::Answered(cited) => Some(cited.iter().map(String::as_str).collect()),
                TurnOutcome::HandedOff(reason) => {
                    if ["model failed", "model skipped", "chat turn budget spent"]
                        .iter()
                        .any(|p| reason.starts_with(p))
                    {
                        model_failures += 1;
                    }
                    None
                }
                TurnOutcome::Greeted => None,
            };
            tally.add(answerable(&q.intent), &q.intent, cited.as_deref());
            if matches!(provider, Provider::Offline) {
                offline_checked += 1;
                let predicted = observed.get(i).and_then(|o| o.answer_at(threshold));
                let actual = match &outcome {
                    TurnOutcome::Answered(c) => c.first().map(String::as_str),
                    _ => None,
                };
                if predicted != actual {
                    prediction_mismatches += 1;
                }
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        providers.push(ProviderFigures {
            provider: provider.name(),
            figures: tally.figures(threshold),
            turns: queries.len(),
            model_failures,
            seconds,
            ms_per_turn: seconds * 1000.0 / queries.len().max(1) as f64,
            note,
        });
    }
    let headline: Figures = providers
        .iter()
        .find(|p| p.provider == Provider::Offline.name())
        .map(|p| p.figures.clone())
        .unwrap_or_else(|| report::figures(&observed, threshold));
    let hybrid = retrieval
        .iter()
        .find(|r| r.mode == Mode::Hybrid.name())
        .cloned();
    Ok(Banking77Report {
        set: "banking77",
        embedder: memo.model_id().to_string(),
        articles_indexed: bank.articles.len(),
        held_out: HELD_OUT.iter().map(|h| (*h).to_string()).collect(),
        train_queries: train.map_or(0, <[Query]>::len),
        test_queries: test.len(),
        answerable: headline.answerable,
        unanswerable: headline.unanswerable,
        threshold,
        threshold_source,
        tenant_default,
        answerable_cited: headline.answerable_cited,
        unanswerable_handoff: headline.unanswerable_handoff,
        recall_at_1: hybrid.as_ref().map_or(0.0, |h| h.recall_at_1),
        recall_at_5: hybrid.as_ref().map_or(0.0, |h| h.recall_at_5),
        retrieval,
        providers,
        tuning,
        test_derived,
        offline_checked,
        prediction_mismatches,
        notes,
        setup_seconds,
        embed_seconds,
        search_seconds,
        details: if options.details {
            observed
        } else {
            Vec::new()
        },
    })
}

fn cache_error(path: &Path, e: std::io::Error) -> Banking77EvalError {
    Banking77EvalError::Data {
        origin: path.display().to_string(),
        message: e.to_string(),
    }
}
