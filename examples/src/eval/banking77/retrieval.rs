//! The searches behind the figures: each query searched as the bot searches it (hybrid,
//! the bot's top k), and in a vector-only and a lexical-only index of the same articles,
//! for recall@1 and recall@5 of the right article.

use std::path::Path;
use std::sync::Arc;

use helpdesk_core::{Embedder, KnowledgeBase};
use helpdesk_kb_search::index::SearchOptions;
use helpdesk_kb_search::{KbIndex, KbIndexOptions};
use serde::Serialize;

use super::bank::Bank;
use super::report::{Observation, recall};
use super::{Banking77EvalError, Query};

/// How an index orders passages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Cosine and BM25 fused (kb-search's default, what the bot searches).
    Hybrid,
    /// Cosine alone (`vector_weight` 1).
    Vector,
    /// BM25 alone (`vector_weight` 0).
    Lexical,
}

impl Mode {
    /// `hybrid`, `vector` or `lexical`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hybrid => "hybrid",
            Self::Vector => "vector",
            Self::Lexical => "lexical",
        }
    }
}

/// Recall of one mode.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetrievalFigures {
    /// The mode.
    pub mode: &'static str,
    /// Answerable queries searched.
    pub queries: usize,
    /// Share whose first passage is from the right article.
    pub recall_at_1: f64,
    /// Share with the right article among the first five passages' articles.
    pub recall_at_5: f64,
}

/// The three indexes over the bank's articles.
pub struct Searches {
    indexes: Vec<(Mode, Arc<dyn KnowledgeBase>)>,
    k: usize,
}

impl Searches {
    /// The bank's own index (hybrid) and a vector-only and a lexical-only one built under
    /// `dir` from the same articles; `k` passages a search (the bot's top k).
    pub async fn open(
        bank: &Bank,
        dir: &Path,
        embedder: Arc<dyn Embedder>,
        k: usize,
    ) -> Result<Self, Banking77EvalError> {
        let articles: Vec<_> = bank.articles.iter().map(|(_, a)| a.clone()).collect();
        let mut indexes = vec![(Mode::Hybrid, bank.knowledge_base().clone())];
        for (mode, vector_weight) in [(Mode::Vector, 1.0), (Mode::Lexical, 0.0)] {
            let index: Arc<dyn KnowledgeBase> = Arc::new(KbIndex::open(
                dir.join(format!("kb-{}", mode.name())),
                embedder.clone(),
                KbIndexOptions {
                    search: SearchOptions {
                        vector_weight,
                        ..SearchOptions::default()
                    },
                    ..KbIndexOptions::default()
                },
            )?);
            index.rebuild(bank.tenant().id, &articles).await?;
            indexes.push((mode, index));
        }
        Ok(Self { indexes, k })
    }

    /// Searches `queries` in the index of `mode`: each query's best passage and the
    /// articles of its passages, as intents. `answerable` says whether an intent's article
    /// is in the help centre.
    pub async fn observe(
        &self,
        bank: &Bank,
        mode: Mode,
        queries: &[Query],
        answerable: impl Fn(&str) -> bool,
    ) -> Result<Vec<Observation>, Banking77EvalError> {
        let index = self
            .indexes
            .iter()
            .find(|(m, _)| *m == mode)
            .map(|(_, i)| i)
            .ok_or_else(|| Banking77EvalError::Inconsistent(format!("no {mode:?} index")))?;
        let tenant = bank.tenant().id;
        let mut out = Vec::with_capacity(queries.len());
        for q in queries {
            // The bot searches the text as stored (trimmed, line breaks normalised).
            let text = helpdesk_core::validate::body("text", &q.text, true)?;
            let hits = index.search(tenant, &text, self.k).await?;
            let mut ranked: Vec<String> = Vec::with_capacity(hits.len());
            for h in &hits {
                let intent = bank.intent_of(h.article_id).ok_or_else(|| {
                    Banking77EvalError::Inconsistent(format!(
                        "search returned article {} that is not in the help centre",
                        h.article_id
                    ))
                })?;
                if !ranked.iter().any(|i| i == intent) {
                    ranked.push(intent.to_string());
                }
            }
            let best = match (hits.first(), ranked.first()) {
                (Some(h), Some(intent)) => Some((intent.clone(), h.score)),
                _ => None,
            };
            out.push(Observation {
                text: q.text.clone(),
                intent: q.intent.clone(),
                answerable: answerable(&q.intent),
                best,
                ranked,
            });
        }
        Ok(out)
    }

    /// Recall@1 and @5 of every mode over `queries` (hybrid's observations are given:
    /// they were searched already).
    pub async fn recall_by_mode(
        &self,
        bank: &Bank,
        queries: &[Query],
        hybrid: &[Observation],
        answerable: impl Fn(&str) -> bool + Copy,
    ) -> Result<Vec<RetrievalFigures>, Banking77EvalError> {
        let mut out = Vec::with_capacity(3);
        for (mode, _) in &self.indexes {
            let observed;
            let observations = match mode {
                Mode::Hybrid => hybrid,
                other => {
                    observed = self.observe(bank, *other, queries, answerable).await?;
                    &observed[..]
                }
            };
            let (recall_at_1, recall_at_5) = recall(observations);
            out.push(RetrievalFigures {
                mode: mode.name(),
                queries: observations.iter().filter(|o| o.answerable).count(),
                recall_at_1,
                recall_at_5,
            });
        }
        Ok(out)
    }
}
