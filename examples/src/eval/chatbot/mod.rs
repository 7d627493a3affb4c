//! The chatbot evaluation: labelled customer questions for the demo company (Nimbus Notes),
//! each asked as the first turn of a chat through [`Helpdesk::chat_message`](helpdesk_core::Helpdesk::chat_message),
//! and what the bot did compared with the label.
//!
//! The set (`examples/data/chatbot-eval.jsonl`, bundled as [`BUNDLED_SET`]) has one JSON
//! object a line: `id`, `text`, `expect` (`answer`, `handoff` or `greeting`) and, for
//! `answer`, `articles`: the names (see [`DEMO_ARTICLES`]) of the articles whose passage
//! answers the question. Each question belongs to the `tune` or the `test` split by a hash
//! of its id ([`Split::of`]), so adding questions never moves the old ones: thresholds are
//! chosen on `tune` only and `test` is reported once at the chosen value.
//!
//! - [`run`]: builds the demo knowledge base on given backends and observes each question.
//! - [`report`]: the figures per grounding threshold and the rule that picks one.

pub mod report;
pub mod run;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::web::seed::DEMO_ARTICLES;

/// The labelled set, as committed in `examples/data/chatbot-eval.jsonl`.
pub const BUNDLED_SET: &str = include_str!("../../../data/chatbot-eval.jsonl");

/// What the bot should do with a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// Answer from one of the labelled articles.
    Answer,
    /// Hand off to a person: no article answers it (account-specific questions,
    /// complaints, what the knowledge base does not cover, a request for a person).
    Handoff,
    /// Greet back: a greeting or small talk with no question.
    Greeting,
}

/// The part of the set a question belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Where thresholds and rules are chosen (about 60% of the questions).
    Tune,
    /// Reported once at the chosen settings, never used to choose (about 40%).
    Test,
}

impl Split {
    /// The split of a question id: `test` when the first byte of the id's SHA-256 is under
    /// 102 (40% of 256), else `tune`. Stable whatever else the file holds.
    pub fn of(id: &str) -> Self {
        let hash = Sha256::digest(id.as_bytes());
        if hash[0] < 102 {
            Self::Test
        } else {
            Self::Tune
        }
    }

    /// `tune` or `test`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tune => "tune",
            Self::Test => "test",
        }
    }
}

/// One labelled question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelledQuestion {
    /// Stable id (`q001`); decides the split.
    pub id: String,
    /// What the customer typed.
    pub text: String,
    /// The expected outcome.
    pub expect: Expect,
    /// For [`Expect::Answer`]: the articles that answer it (names of [`DEMO_ARTICLES`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub articles: Vec<String>,
}

impl LabelledQuestion {
    /// The split this question belongs to.
    pub fn split(&self) -> Split {
        Split::of(&self.id)
    }
}

/// Why a labelled set or an evaluation run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChatbotEvalError {
    /// A line is not a labelled question.
    #[error("line {line}: {source}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A line parses but breaks a rule of the set.
    #[error("line {line}: {message}")]
    Invalid {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The set has no questions (in the chosen split).
    #[error("no questions to evaluate")]
    Empty,
    /// The helpdesk failed.
    #[error("helpdesk: {0}")]
    Helpdesk(#[from] helpdesk_core::Error),
    /// The bot's reply does not match what the knowledge base search says it must be
    /// (the evaluation's model of the bot is out of date).
    #[error("question {id}: {message}")]
    Inconsistent {
        /// The question.
        id: String,
        /// What differed.
        message: String,
    },
}

/// Parses a labelled set (JSON lines; blank lines are skipped) and checks it: ids unique
/// and non-empty, text non-empty, `articles` given exactly for `answer` and each one a
/// demo article.
pub fn parse_set(text: &str) -> Result<Vec<LabelledQuestion>, ChatbotEvalError> {
    let known: BTreeSet<&str> = DEMO_ARTICLES.iter().map(|(name, _)| *name).collect();
    let mut ids = BTreeSet::new();
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let q: LabelledQuestion =
            serde_json::from_str(raw).map_err(|source| ChatbotEvalError::Parse { line, source })?;
        let invalid = |message: String| ChatbotEvalError::Invalid { line, message };
        if q.id.trim().is_empty() || q.text.trim().is_empty() {
            return Err(invalid("empty id or text".into()));
        }
        if !ids.insert(q.id.clone()) {
            return Err(invalid(format!("duplicate id {}", q.id)));
        }
        match (q.expect, q.articles.is_empty()) {
            (Expect::Answer, true) => {
                return Err(invalid("an `answer` question names its articles".into()));
            }
            (Expect::Handoff | Expect::Greeting, false) => {
                return Err(invalid(
                    "only `answer` questions name articles (none answers the others)".into(),
                ));
            }
            _ => {}
        }
        if let Some(bad) = q.articles.iter().find(|a| !known.contains(a.as_str())) {
            return Err(invalid(format!("{bad:?} is not a demo article")));
        }
        out.push(q);
    }
    if out.is_empty() {
        return Err(ChatbotEvalError::Empty);
    }
    Ok(out)
}

/// The questions of `set` in `split` (all of them for `None`).
pub fn select(set: &[LabelledQuestion], split: Option<Split>) -> Vec<LabelledQuestion> {
    set.iter()
        .filter(|q| split.is_none_or(|s| q.split() == s))
        .cloned()
        .collect()
}

/// What `helpdesk-eval chatbot` reports.
#[derive(Debug, Clone, Serialize)]
pub struct ChatbotReport {
    /// `tune`, `test` or `all`.
    pub split: String,
    /// The embedder's model id.
    pub embedder: String,
    /// Questions evaluated.
    pub questions: usize,
    /// The threshold the figures in `at_threshold` are for (the default unless given).
    pub threshold: f32,
    /// The figures at `threshold`.
    pub at_threshold: report::Figures,
    /// Issue 21's key: `at_threshold.coverage`.
    pub answerable_cited: f64,
    /// Issue 21's key: `at_threshold.unanswerable_handoff`.
    pub unanswerable_handoff: f64,
    /// The figures at each threshold of the sweep (tuning only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sweep: Vec<report::Figures>,
    /// The rule and its result (tuning only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chosen: Option<Chosen>,
    /// Thresholds at which every question was asked again through the real bot and its
    /// outcome matched the sweep's.
    pub checked_thresholds: Vec<f32>,
    /// Each question's decision (with `--details`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub observations: Vec<run::Observation>,
}

/// The threshold the rule picks on a sweep.
#[derive(Debug, Clone, Serialize)]
pub struct Chosen {
    /// The rule, in words.
    pub rule: String,
    /// Its figures (`None`: no threshold meets the bound).
    pub figures: Option<report::Figures>,
}

/// Options of [`evaluate`].
#[derive(Debug, Clone)]
pub struct EvaluateOptions {
    /// Which questions (`None`: all).
    pub split: Option<Split>,
    /// The threshold to report at (`None`: the tenant's default).
    pub threshold: Option<f32>,
    /// Sweep the thresholds and apply the rule (refused on the test split).
    pub sweep: bool,
    /// Ask the questions again through the real bot at the reported (and chosen)
    /// threshold and check the outcomes.
    pub check: bool,
    /// Keep each question's decision in the report.
    pub details: bool,
}

/// Evaluates `set` on `backends` (see [`run::Evaluator`]).
pub async fn evaluate(
    backends: &crate::web::Backends,
    set: &[LabelledQuestion],
    options: &EvaluateOptions,
) -> Result<ChatbotReport, ChatbotEvalError> {
    if options.sweep && options.split == Some(Split::Test) {
        return Err(ChatbotEvalError::Invalid {
            line: 0,
            message: "thresholds are chosen on the tune split, never on test".into(),
        });
    }
    let questions = select(set, options.split);
    if questions.is_empty() {
        return Err(ChatbotEvalError::Empty);
    }
    let mut evaluator = run::Evaluator::new(backends).await?;
    let threshold = options.threshold.unwrap_or(evaluator.threshold());
    let observations = evaluator.observe(&questions).await?;
    let at_threshold = report::figures(&observations, threshold);
    let (sweep, chosen) = if options.sweep {
        let sweep = report::sweep(&observations, &report::sweep_thresholds());
        let figures = report::choose(&sweep).cloned();
        let rule = format!(
            "highest coverage with wrong answers at most {:.0}% of answered; ties: fewest \
             wrong, then the middle of the tied run",
            report::MAX_WRONG_SHARE * 100.0
        );
        (sweep, Some(Chosen { rule, figures }))
    } else {
        (Vec::new(), None)
    };
    let mut checked_thresholds = Vec::new();
    if options.check {
        let mut to_check = vec![threshold];
        if let Some(f) = chosen.as_ref().and_then(|c| c.figures.as_ref())
            && f.threshold != threshold
        {
            to_check.push(f.threshold);
        }
        for t in to_check {
            evaluator.check_at(&observations, t).await?;
            checked_thresholds.push(t);
        }
    }
    Ok(ChatbotReport {
        split: options.split.map_or("all", Split::name).into(),
        embedder: backends
            .embedder
            .as_ref()
            .map_or_else(String::new, |e| e.model_id().to_string()),
        questions: questions.len(),
        threshold,
        answerable_cited: at_threshold.coverage,
        unanswerable_handoff: at_threshold.unanswerable_handoff,
        at_threshold,
        sweep,
        chosen,
        checked_thresholds,
        observations: if options.details {
            observations
        } else {
            Vec::new()
        },
    })
}
