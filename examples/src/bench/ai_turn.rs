//! `ai-turn`: the chatbot turn (`Helpdesk::chat_message`) and the suggested reply
//! (`Helpdesk::suggest_reply`) with a zero-latency scripted model, so what is measured is
//! everything except the model: role checks, storage reads and the atomic writes, the
//! knowledge-base search, prompt building, parsing and grounding of the structured answer.
//!
//! Wiring: the store (a SQLite file opened with the store's pragmas, WAL and the chosen
//! durability: `synchronous = FULL` by default, or the in-memory store), the real kb-search [`KbIndex`] holding a
//! small help centre, with core's `FakeEmbedder` (bag of words) for the query vector (the
//! MiniLM query embedding is measured by `embed`), core's `MockLanguageModel` scripted
//! with a grounded answer before each call (as core/tests/ai_chat.rs and ai_drafts.rs do:
//! `MockTurn::Json` of the answer schema citing a retrieved chunk), and the rules
//! classifier only, so intake never calls the model.
//!
//! Chat: sessions of `turns` customer messages; every turn is timed, the first one of a
//! session included (it opens the chat ticket), and must come back `Answered`. Drafts: an
//! agent asks for a suggestion on tickets taken in turn; each must come from the model.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use helpdesk_core::ai::ChatReply;
use helpdesk_core::domain::{Actor, Article, DraftSource, Role};
use helpdesk_core::service::{NewTenant, NewTicket, NewUser};
use helpdesk_core::store::MemoryStore;
use helpdesk_core::testkit::{FakeEmbedder, MockLanguageModel, MockTurn};
use helpdesk_core::triage::{ClassifierChain, RuleClassifier};
use helpdesk_core::{ArticleId, DynStore, Embedder, Helpdesk, KnowledgeBase, TenantId};
use helpdesk_kb_search::{KbIndex, KbIndexOptions};
use helpdesk_store_sqlite::Durability;
use serde::Serialize;
use serde_json::json;

use super::{BoxError, PROFILE, Samples, ScratchDir, Step, bar, ms, open_sqlite, print_table};

/// The p99 the issue asks for, in milliseconds.
pub const GOAL_P99_MS: f64 = 5.0;

/// Which store the helpdesk runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// A SQLite file (WAL, with the options' durability).
    Sqlite,
    /// The in-memory reference store.
    Memory,
}

impl StoreKind {
    fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Memory => "memory",
        }
    }
}

/// Options of an ai-turn run.
#[derive(Debug, Clone)]
pub struct AiTurnOptions {
    /// Timed chat turns and timed drafts.
    pub n: usize,
    /// Customer turns per chat session.
    pub turns: usize,
    /// Untimed calls of each kind before measuring.
    pub warmup: usize,
    /// The store.
    pub store: StoreKind,
    /// Durability of the SQLite store.
    pub durability: Durability,
}

/// The result of an ai-turn run.
#[derive(Debug, Clone, Serialize)]
pub struct AiTurnReport {
    /// The build profile of the binary.
    pub profile: &'static str,
    /// `sqlite` or `memory`.
    pub store: &'static str,
    /// SQLite durability (`power-loss`: `synchronous = FULL`, the store's default;
    /// `process-crash`: `synchronous = NORMAL`); `none` for the in-memory store.
    pub durability: &'static str,
    /// Timed calls of each kind.
    pub n: usize,
    /// Median chat turn.
    pub chat_p50_ms: f64,
    /// 99th percentile chat turn.
    pub chat_p99_ms: f64,
    /// Median of the sessions' first turns (each also opens the chat ticket).
    pub chat_first_p50_ms: f64,
    /// 99th percentile of the sessions' first turns.
    pub chat_first_p99_ms: f64,
    /// 99th percentile of the later turns.
    pub chat_later_p99_ms: f64,
    /// Median suggested reply.
    pub draft_p50_ms: f64,
    /// 99th percentile suggested reply.
    pub draft_p99_ms: f64,
    /// The goal for both p99s.
    pub goal_p99_ms: f64,
}

impl AiTurnReport {
    /// Prints the report as a table.
    pub fn print(&self) {
        let verdict = |p99: f64| {
            if p99 <= self.goal_p99_ms {
                "met"
            } else {
                "missed"
            }
        };
        print_table(
            &format!(
                "ai-turn ({} calls each, {} store, durability {}, mock model, {} build)",
                self.n, self.store, self.durability, self.profile
            ),
            &[
                (
                    "chat turn",
                    format!(
                        "p50 {}, p99 {}  (goal p99 <= {} ms: {})",
                        ms(self.chat_p50_ms),
                        ms(self.chat_p99_ms),
                        self.goal_p99_ms,
                        verdict(self.chat_p99_ms)
                    ),
                ),
                (
                    "  first turns",
                    format!(
                        "p50 {}, p99 {}  (each also opens the chat ticket)",
                        ms(self.chat_first_p50_ms),
                        ms(self.chat_first_p99_ms)
                    ),
                ),
                (
                    "  later turns",
                    format!("p99 {}", ms(self.chat_later_p99_ms)),
                ),
                (
                    "suggested reply",
                    format!(
                        "p50 {}, p99 {}  (goal p99 <= {} ms: {})",
                        ms(self.draft_p50_ms),
                        ms(self.draft_p99_ms),
                        self.goal_p99_ms,
                        verdict(self.draft_p99_ms)
                    ),
                ),
            ],
        );
    }
}

/// The help centre: (title, body).
const ARTICLES: &[(&str, &str)] = &[
    (
        "Reset your password",
        "To reset your password, open the login page and click Forgot password. We e-mail \
         you a reset link that works for one hour.\n\nIf the reset e-mail does not arrive, \
         check your spam folder.",
    ),
    (
        "Invoices",
        "Invoices are sent on the first day of each month to the billing address.\n\nYou can \
         download past invoices from Settings, Billing.",
    ),
    (
        "Refunds",
        "Refunds for duplicate charges are processed within five business days to the \
         original card.\n\nContact billing with the invoice number of the duplicate charge.",
    ),
    (
        "Sync problems",
        "If sync is stuck on one device, sign out and sign in again on that device.\n\nSync \
         needs the latest app version on every device.",
    ),
    (
        "Export to PDF",
        "Export a notebook to PDF from the notebook menu. Images are included when the \
         notebook is fully synced.",
    ),
    (
        "Delete your account",
        "To delete your account, open Settings, Account and click Delete account. All your \
         data is removed within thirty days.",
    ),
];

/// Customer questions, each close to one article's wording (so the answer is grounded).
const QUESTIONS: &[&str] = &[
    "How do I reset my password? The reset link from the login page",
    "Where can I download past invoices from billing settings?",
    "How long do refunds for duplicate charges take to be processed?",
    "Sync is stuck on one device, what should I do?",
    "How do I export a notebook to PDF with images?",
    "How do I delete my account and all my data?",
];

struct AiWorld {
    helpdesk: Helpdesk,
    model: Arc<MockLanguageModel>,
    kb: Arc<KbIndex>,
    tenant: TenantId,
    agent: Actor,
    customers: Vec<Actor>,
    _scratch: ScratchDir,
}

async fn world(options: &AiTurnOptions, dir: Option<&Path>) -> Result<AiWorld, BoxError> {
    let scratch = ScratchDir::new(dir, "ai-turn")?;
    let store: DynStore = match options.store {
        StoreKind::Sqlite => {
            Arc::new(open_sqlite(&scratch.path().join("helpdesk.db"), options.durability).await?)
        }
        StoreKind::Memory => Arc::new(MemoryStore::new()),
    };
    let embedder: Arc<dyn Embedder> = Arc::new(FakeEmbedder::new());
    let kb = Arc::new(
        KbIndex::open(
            scratch.path().join("kb"),
            embedder.clone(),
            KbIndexOptions::default(),
        )
        .step("opening the knowledge-base index")?,
    );
    let model = Arc::new(MockLanguageModel::new([]));
    let helpdesk = Helpdesk::builder(store)
        .language_model(model.clone())
        .knowledge_base(kb.clone())
        .embedder(embedder)
        .classifiers(ClassifierChain::new().with(Arc::new(RuleClassifier::new())))
        .build()
        .step("building the helpdesk")?;
    let (tenant, admin) = helpdesk
        .register_tenant(NewTenant {
            name: "Bench AI".into(),
            slug: "bench-ai".into(),
            admin: NewUser::new("admin@bench-ai.test", "Ada Admin", Role::Admin),
            settings: None,
        })
        .await
        .step("registering the tenant")?;
    let admin = Actor::for_user(&admin);
    let agent = helpdesk
        .add_user(
            &admin,
            NewUser::new("agent@bench-ai.test", "Bob Agent", Role::Agent).with_skills(&[
                "billing",
                "technical",
                "account",
            ]),
        )
        .await
        .step("adding the agent")?;
    let mut customers = Vec::new();
    for i in 0..10 {
        let c = helpdesk
            .add_user(
                &admin,
                NewUser::new(
                    &format!("customer{i}@example.com"),
                    "Customer",
                    Role::Customer,
                ),
            )
            .await
            .step("adding a customer")?;
        customers.push(Actor::for_user(&c));
    }
    let now = helpdesk.now();
    for (title, body) in ARTICLES {
        kb.upsert_article(&Article {
            id: ArticleId::new(),
            tenant_id: tenant.id,
            title: (*title).into(),
            body: (*body).into(),
            tags: Vec::new(),
            created_at: now,
            updated_at: now,
            version: 1,
        })
        .await
        .step(format!("indexing the article {title:?}"))?;
    }
    Ok(AiWorld {
        helpdesk,
        model,
        kb,
        tenant: tenant.id,
        agent: Actor::for_user(&agent),
        customers,
        _scratch: scratch,
    })
}

impl AiWorld {
    /// The chunk id the bot will retrieve first for `query` (looked up before timing).
    async fn top_chunk(&self, query: &str) -> Result<String, BoxError> {
        let hits = self
            .kb
            .search(self.tenant, query, 5)
            .await
            .step("looking up the chunk to cite")?;
        hits.into_iter()
            .next()
            .map(|h| h.chunk_id)
            .ok_or_else(|| format!("no knowledge-base chunk for {query:?}").into())
    }
}

/// Runs the ai-turn benchmark with its files in a scratch folder under `dir`.
pub async fn run(options: &AiTurnOptions, dir: Option<&Path>) -> Result<AiTurnReport, BoxError> {
    let w = world(options, dir).await?;
    let mut cited = Vec::with_capacity(QUESTIONS.len());
    for q in QUESTIONS {
        cited.push(w.top_chunk(q).await?);
    }

    // Chat turns.
    let turns = options.turns.max(1);
    let total = options.warmup + options.n.max(1);
    let progress = bar((2 * total) as u64, "ai-turn");
    let mut chat = Samples::with_capacity(total);
    let mut first_turns = Samples::with_capacity(total);
    let mut later_turns = Samples::with_capacity(total);
    let mut done = 0;
    let mut session_no = 0;
    while done < total {
        let customer = &w.customers[session_no % w.customers.len()];
        let session = w
            .helpdesk
            .start_chat(customer)
            .await
            .step("starting a chat")?;
        for turn in 0..turns {
            if done >= total {
                break;
            }
            let q = (session_no + turn) % QUESTIONS.len();
            w.model.push(MockTurn::Json(json!({
                "answer": "Here is how to do it, from our help centre.",
                "cited_chunk_ids": [cited[q]],
                "handoff": false,
                "handoff_reason": "",
                "resolved": false,
            })));
            let t = Instant::now();
            let out = w
                .helpdesk
                .chat_message(customer, session.id, QUESTIONS[q])
                .await
                .step("chat_message")?;
            let elapsed = t.elapsed();
            match out.reply {
                ChatReply::Answered(_) => {}
                ChatReply::HandedOff { reason, .. } => {
                    return Err(format!(
                        "chat turn {q} was handed off ({reason}) instead of answered"
                    )
                    .into());
                }
                _ => {
                    return Err(
                        "the chat turn was not answered (the session waits for an agent)".into(),
                    );
                }
            }
            if done >= options.warmup {
                chat.push(elapsed);
                if turn == 0 {
                    first_turns.push(elapsed);
                } else {
                    later_turns.push(elapsed);
                }
            }
            done += 1;
            progress.inc(1);
        }
        session_no += 1;
    }

    // Suggested replies on a pool of tickets.
    let mut tickets = Vec::new();
    for (i, customer) in w.customers.iter().enumerate() {
        let (subject, description) = super::TICKET_TEXTS[i % super::TICKET_TEXTS.len()];
        let opened = w
            .helpdesk
            .open_ticket(customer, NewTicket::new(subject, description))
            .await
            .step("opening a ticket for drafts")?;
        let chunk = w.top_chunk(&format!("{subject}\n{description}")).await?;
        tickets.push((opened.ticket.id, chunk));
    }
    let mut drafts = Samples::with_capacity(total);
    for i in 0..total {
        let (ticket, chunk) = &tickets[i % tickets.len()];
        w.model.push(MockTurn::Json(json!({
            "reply": "Hello! Thanks for reaching out; here is what to do next.",
            "cited_chunk_ids": [chunk],
        })));
        let t = Instant::now();
        let draft = w
            .helpdesk
            .suggest_reply(&w.agent, *ticket)
            .await
            .step("suggest_reply")?;
        let elapsed = t.elapsed();
        if draft.draft.as_ref().map(|d| d.source) != Some(DraftSource::Llm) {
            return Err("a suggested reply did not come from the (mock) model".into());
        }
        if i >= options.warmup {
            drafts.push(elapsed);
        }
        progress.inc(1);
    }
    progress.finish_and_clear();

    Ok(AiTurnReport {
        profile: PROFILE,
        store: options.store.name(),
        durability: match options.store {
            StoreKind::Sqlite => options.durability.as_str(),
            StoreKind::Memory => "none",
        },
        n: chat.len(),
        chat_p50_ms: chat.median(),
        chat_p99_ms: chat.percentile(0.99),
        chat_first_p50_ms: first_turns.median(),
        chat_first_p99_ms: first_turns.percentile(0.99),
        chat_later_p99_ms: later_turns.percentile(0.99),
        draft_p50_ms: drafts.median(),
        draft_p99_ms: drafts.percentile(0.99),
        goal_p99_ms: GOAL_P99_MS,
    })
}
