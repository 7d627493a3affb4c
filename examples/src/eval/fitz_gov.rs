//! The offline grounding guard on fitz-gov (PyPI `fitz-gov` 4.1.0, MIT, Fitz AI): questions
//! with the passages a retriever found and the expected decision, answer (`trustworthy`),
//! abstain (`abstain`) or flag a conflict (`disputed`).
//!
//! Each case is a tenant of its own whose help centre is the case's passages (one article
//! each); a customer asks the question as the first turn of a chat through
//! [`Helpdesk::chat_message`] with no language model, on the SQLite store with the MiniLM
//! embedder. The offline bot answers with the best passage when its score reaches the
//! grounding threshold, else hands off. A handoff is the right decision for `abstain`
//! cases and the wrong one for `trustworthy` cases: **precision** = right handoffs / all
//! handoffs, **recall** = right handoffs / `abstain` cases. `disputed` cases (an offline bot
//! cannot see a conflict) are left out of both and reported as their handoff share.
//!
//! The data is fetched (and cached) by `scripts/fetch-fitz-gov.sh`, not committed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use helpdesk_core::ai::ChatReply;
use helpdesk_core::domain::{Actor, Role, TenantSettings};
use helpdesk_core::service::{ArticleInput, NewTenant, NewUser};
use helpdesk_core::{DynStore, Embedder, Helpdesk, KnowledgeBase};
use helpdesk_kb_search::{KbIndex, KbIndexOptions};
use helpdesk_store_sqlite::{Durability, SqliteStore};
use serde::{Deserialize, Serialize};

use crate::eval::banking77::report::ratio;

/// The fitz-gov tiers and their folders.
pub const TIERS: [(&str, &str); 2] = [("sanity", "tier0_sanity"), ("core", "tier1_core")];

/// The category files of each tier.
pub const CATEGORIES: [&str; 6] = [
    "abstention",
    "dispute",
    "trustworthy_hedged",
    "trustworthy_direct",
    "grounding",
    "relevance",
];

/// One fitz-gov case (the fields the evaluation reads).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Case {
    /// `t1_abstain_hard_001`, ...
    pub id: String,
    /// The question.
    pub query: String,
    /// The retrieved passages.
    pub contexts: Vec<String>,
    /// `trustworthy`, `abstain` or `disputed`.
    pub expected_mode: String,
    /// The category file it comes from.
    #[serde(default)]
    pub category: String,
    /// `easy`, `medium` or `hard`.
    #[serde(default)]
    pub difficulty: String,
    /// `sanity` or `core` (set when read).
    #[serde(default)]
    pub tier: String,
}

#[derive(Deserialize)]
struct CategoryFile {
    cases: Vec<Case>,
}

/// Why the evaluation could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FitzGovError {
    /// A data file is missing or malformed.
    #[error("{path}: {message}")]
    Data {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The helpdesk failed.
    #[error("helpdesk")]
    Helpdesk(#[from] helpdesk_core::Error),
}

/// Reads every case of the `tiers` (`sanity`, `core`) from fitz-gov's data folder.
pub fn read_cases(data: &Path, tiers: &[&str]) -> Result<Vec<Case>, FitzGovError> {
    let mut out = Vec::new();
    for (tier, folder) in TIERS.iter().filter(|(t, _)| tiers.contains(t)) {
        for category in CATEGORIES {
            let path = data.join(folder).join(format!("{category}.json"));
            let error = |message: String| FitzGovError::Data {
                path: path.clone(),
                message,
            };
            let text = std::fs::read_to_string(&path).map_err(|e| error(e.to_string()))?;
            let file: CategoryFile =
                serde_json::from_str(&text).map_err(|e| error(e.to_string()))?;
            for mut case in file.cases {
                if !["trustworthy", "abstain", "disputed"].contains(&case.expected_mode.as_str()) {
                    return Err(error(format!(
                        "case {}: unknown expected_mode {}",
                        case.id, case.expected_mode
                    )));
                }
                case.tier = (*tier).to_string();
                if case.category.is_empty() {
                    case.category = category.to_string();
                }
                out.push(case);
            }
        }
    }
    Ok(out)
}

/// What the offline bot did with one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    /// The case id.
    pub id: String,
    /// Its tier.
    pub tier: String,
    /// Its expected mode.
    pub expected_mode: String,
    /// Whether the bot handed off at the run's threshold.
    pub handed_off: bool,
    /// The best passage's score (what the threshold is compared with), if any.
    pub best_score: Option<f32>,
}

impl Observation {
    /// Whether the offline bot hands off at `threshold` (no passage, or the best under it).
    pub fn handed_off_at(&self, threshold: f32) -> bool {
        self.best_score.is_none_or(|s| s < threshold)
    }
}

/// The handoff decision's figures at one threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// The grounding threshold.
    pub threshold: f32,
    /// `abstain` cases.
    pub abstain: usize,
    /// `trustworthy` cases.
    pub trustworthy: usize,
    /// `disputed` cases.
    pub disputed: usize,
    /// `abstain` cases handed off.
    pub true_handoffs: usize,
    /// `trustworthy` cases handed off.
    pub false_handoffs: usize,
    /// true / all handoffs of `abstain` and `trustworthy` cases (1 when none).
    pub handoff_precision: f64,
    /// true handoffs / `abstain` cases.
    pub handoff_recall: f64,
    /// Right decisions (abstain handed off, trustworthy answered) / both kinds.
    pub accuracy: f64,
    /// `disputed` cases handed off / `disputed` cases.
    pub disputed_handoff: f64,
}

/// The figures of `observations`, deciding with `decide` (handed off or not).
pub fn figures_by(
    observations: &[Observation],
    threshold: f32,
    decide: impl Fn(&Observation) -> bool,
) -> Figures {
    let (mut abstain, mut trustworthy, mut disputed) = (0, 0, 0);
    let (mut tp, mut fp, mut disputed_off) = (0, 0, 0);
    for o in observations {
        let off = decide(o);
        match o.expected_mode.as_str() {
            "abstain" => {
                abstain += 1;
                tp += usize::from(off);
            }
            "trustworthy" => {
                trustworthy += 1;
                fp += usize::from(off);
            }
            _ => {
                disputed += 1;
                disputed_off += usize::from(off);
            }
        }
    }
    Figures {
        threshold,
        abstain,
        trustworthy,
        disputed,
        true_handoffs: tp,
        false_handoffs: fp,
        handoff_precision: ratio(tp, tp + fp, 1.0),
        handoff_recall: ratio(tp, abstain, 0.0),
        accuracy: ratio(tp + trustworthy - fp, abstain + trustworthy, 0.0),
        disputed_handoff: ratio(disputed_off, disputed, 0.0),
    }
}

/// What `helpdesk-eval fitz-gov` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitzGovReport {
    /// `fitz-gov 4.1.0`.
    pub set: String,
    /// The embedder's model id.
    pub embedder: String,
    /// Cases asked.
    pub cases: usize,
    /// The threshold of the run (the tenant default unless given).
    pub threshold: f32,
    /// Issue 21's figures: precision of the handoffs at `threshold`, through the chat path.
    pub handoff_precision: f64,
    /// Recall of the handoffs at `threshold`.
    pub handoff_recall: f64,
    /// All figures at `threshold` (through the chat path).
    pub at_threshold: Figures,
    /// The figures per tier at `threshold`.
    pub by_tier: Vec<(String, Figures)>,
    /// The figures at thresholds 0.00 to 0.90 by 0.01, from the best passages' scores.
    pub sweep: Vec<Figures>,
    /// Seconds of the run.
    pub seconds: f64,
    /// Each case's observation (with `details`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Observation>,
}

/// A fitz-gov case's passage as an article title: its first sentence, at most 12 words.
fn title_of(passage: &str) -> String {
    let sentence = passage.split(['.', '?', '!']).next().unwrap_or(passage);
    let words: Vec<&str> = sentence.split_whitespace().take(12).collect();
    if words.is_empty() {
        "Passage".into()
    } else {
        words.join(" ")
    }
}

/// Asks every case through the chat path of a helpdesk on the SQLite store in `work_dir`
/// (removed by the caller) with the kb-search index of `embedder`, at grounding
/// `threshold` (the tenant default when `None`).
pub async fn evaluate(
    embedder: Arc<dyn Embedder>,
    work_dir: &Path,
    cases: &[Case],
    threshold: Option<f32>,
    details: bool,
) -> Result<FitzGovReport, FitzGovError> {
    let started = Instant::now();
    let store: DynStore = Arc::new(
        SqliteStore::builder()
            .durability(Durability::ProcessCrash)
            .open(work_dir.join("fitz-gov.db"))
            .await?,
    );
    let knowledge_base: Arc<dyn KnowledgeBase> = Arc::new(KbIndex::open(
        work_dir.join("kb"),
        embedder.clone(),
        KbIndexOptions::default(),
    )?);
    let helpdesk = Helpdesk::builder(store)
        .knowledge_base(knowledge_base.clone())
        .embedder(embedder.clone())
        .build()?;
    let threshold = threshold.unwrap_or(TenantSettings::default().grounding_threshold);
    let k = helpdesk.config().kb_top_k;
    let mut observations = Vec::with_capacity(cases.len());
    for (i, case) in cases.iter().enumerate() {
        let settings = TenantSettings {
            grounding_threshold: threshold,
            ..TenantSettings::default()
        };
        let (tenant, admin) = helpdesk
            .register_tenant(NewTenant {
                name: format!("Case {}", case.id),
                slug: format!("case-{i}"),
                settings: Some(settings),
                admin: NewUser::new("admin@case.example", "Admin", Role::Admin),
            })
            .await?;
        let admin = Actor::for_user(&admin);
        let customer = helpdesk
            .add_user(
                &admin,
                NewUser::new("customer@case.example", "Customer", Role::Customer),
            )
            .await?;
        for passage in case.contexts.iter().filter(|p| !p.trim().is_empty()) {
            helpdesk
                .create_article(
                    &admin,
                    ArticleInput {
                        title: title_of(passage),
                        body: passage.clone(),
                        tags: Vec::new(),
                    },
                )
                .await?;
        }
        helpdesk.index_settled().await;
        let customer = Actor::for_user(&customer);
        let session = helpdesk.start_chat(&customer).await?;
        let turn = helpdesk
            .chat_message(&customer, session.id, case.query.as_str())
            .await?;
        let handed_off = !matches!(turn.reply, ChatReply::Answered(_));
        // The bot's own search (same text, same k): its best passage's score.
        let hits = knowledge_base
            .search(tenant.id, &turn.customer_message.body, k)
            .await?;
        observations.push(Observation {
            id: case.id.clone(),
            tier: case.tier.clone(),
            expected_mode: case.expected_mode.clone(),
            handed_off,
            best_score: hits.first().map(|h| h.score),
        });
    }
    let at_threshold = figures_by(&observations, threshold, |o| o.handed_off);
    let mut by_tier = Vec::new();
    for (tier, _) in TIERS {
        let of_tier: Vec<Observation> = observations
            .iter()
            .filter(|o| o.tier == tier)
            .cloned()
            .collect();
        if !of_tier.is_empty() {
            by_tier.push((
                tier.to_string(),
                figures_by(&of_tier, threshold, |o| o.handed_off),
            ));
        }
    }
    let sweep = (0..=90)
        .map(|i| i as f32 / 100.0)
        .map(|t| figures_by(&observations, t, |o| o.handed_off_at(t)))
        .collect();
    Ok(FitzGovReport {
        set: "fitz-gov 4.1.0".into(),
        embedder: embedder.model_id().to_string(),
        cases: cases.len(),
        threshold,
        handoff_precision: at_threshold.handoff_precision,
        handoff_recall: at_threshold.handoff_recall,
        at_threshold,
        by_tier,
        sweep,
        seconds: started.elapsed().as_secs_f64(),
        details: if details { observations } else { Vec::new() },
    })
}

/// One line of figures.
pub fn line(label: &str, f: &Figures) -> String {
    format!(
        "{label:<10} {:>5.3}  {:>6.1}% {:>6.1}% {:>6.1}%  {:>5} {:>5}  {:>6.1}%",
        f.threshold,
        f.handoff_precision * 100.0,
        f.handoff_recall * 100.0,
        f.accuracy * 100.0,
        f.true_handoffs,
        f.false_handoffs,
        f.disputed_handoff * 100.0
    )
}

/// The header of [`line()`].
pub const LINE_HEADER: &str =
    "           thres  h-prec  h-recall accuracy  right wrong  disputed-h";

/// The report as text.
pub fn render(r: &FitzGovReport) -> String {
    let f = &r.at_threshold;
    let mut out = vec![
        format!(
            "{}: {} cases ({} abstain, {} trustworthy, {} disputed); embedder {}",
            r.set, r.cases, f.abstain, f.trustworthy, f.disputed, r.embedder
        ),
        String::new(),
        format!(
            "offline bot through Helpdesk::chat_message at threshold {:.3}:",
            r.threshold
        ),
        LINE_HEADER.into(),
        line("all", f),
    ];
    for (tier, f) in &r.by_tier {
        out.push(line(tier, f));
    }
    out.push(String::new());
    out.push("from the best passages' scores, by threshold:".into());
    out.push(LINE_HEADER.into());
    out.extend(
        r.sweep
            .iter()
            .filter(|f| (f.threshold * 100.0).round() as i32 % 5 == 0)
            .map(|f| line("", f)),
    );
    out.push(format!(
        "handoff precision {:.3}  recall {:.3}  ({:.1} s)",
        r.handoff_precision, r.handoff_recall, r.seconds
    ));
    out.join("\n")
}
