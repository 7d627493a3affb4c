//! The bank's help centre on a real helpdesk: the SQLite store in a temporary folder, a
//! kb-search index with the MiniLM embedder, one tenant with one article per answerable
//! intent, and a customer who asks each query as the first turn of a new chat session.
//!
//! One store and one index serve every provider: each provider gets its own [`Helpdesk`]
//! on them (the same tenant), differing only in the language model.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use helpdesk_core::ai::ChatReply;
use helpdesk_core::domain::{Actor, Article, Role, Tenant};
use helpdesk_core::service::{ArticleInput, NewTenant, NewUser};
use helpdesk_core::testkit::{MockLanguageModel, MockTurn};
use helpdesk_core::triage::{ClassifierChain, RuleClassifier};
use helpdesk_core::{
    ArticleId, DeltaStream, DynStore, Embedder, Helpdesk, KnowledgeBase, LanguageModel, LlmRequest,
    LlmResponse, ModelError,
};
use helpdesk_kb_search::index::SearchOptions;
use helpdesk_kb_search::{KbIndex, KbIndexOptions};
use helpdesk_store_sqlite::{Durability, SqliteStore};

use super::{Banking77EvalError, IntentArticle};

/// What the bot did with one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TurnOutcome {
    /// Answered, citing the articles of these intents (in citation order).
    Answered(Vec<String>),
    /// Handed off to a person, with the bot's reason.
    HandedOff(String),
    /// Greeted back (the query looked like a greeting).
    Greeted,
}

/// Which language model answers.
#[derive(Clone)]
pub enum Provider {
    /// No model: the offline bot (the best passage when it reaches the threshold).
    Offline,
    /// Core's test-kit mock, scripted to answer every turn citing the first passage it is
    /// offered: whatever it hands off, the grounding guard did.
    AlwaysAnswer,
    /// A real model (from the environment).
    Live {
        /// Its name in the report (`gemini`, ...).
        name: String,
        /// The client.
        model: Arc<dyn LanguageModel>,
    },
}

impl Provider {
    /// The provider's name in the report.
    pub fn name(&self) -> String {
        match self {
            Self::Offline => "offline".into(),
            Self::AlwaysAnswer => "mock-always-answers".into(),
            Self::Live { name, .. } => name.clone(),
        }
    }

    fn model(&self) -> Option<Arc<dyn LanguageModel>> {
        match self {
            Self::Offline => None,
            Self::AlwaysAnswer => Some(Arc::new(AlwaysAnswer::default())),
            Self::Live { model, .. } => Some(model.clone()),
        }
    }
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// Core's [`MockLanguageModel`], given one scripted turn per request: an answer citing the
/// first passage id the request's schema allows (the best retrieved passage), never a
/// handoff. Every request is kept by the mock.
#[derive(Debug, Default)]
pub struct AlwaysAnswer {
    mock: MockLanguageModel,
    /// Scripting and playing a turn happen together (one request at a time).
    turn: Mutex<()>,
}

impl AlwaysAnswer {
    fn script(&self, request: &LlmRequest) {
        let first = request
            .json_schema
            .as_ref()
            .and_then(|s| s.pointer("/properties/cited_chunk_ids/items/enum/0"))
            .and_then(|v| v.as_str())
            .map(str::to_string);
        self.mock.push(MockTurn::Json(serde_json::json!({
            "answer": "Here is what our help centre says about this.",
            "cited_chunk_ids": first.into_iter().collect::<Vec<_>>(),
            "handoff": false,
            "handoff_reason": "",
            "resolved": false,
        })));
    }
}

#[async_trait]
impl LanguageModel for AlwaysAnswer {
    fn model_id(&self) -> &str {
        "mock-always-answers"
    }

    async fn generate(&self, request: &LlmRequest) -> Result<LlmResponse, ModelError> {
        // The guard is a std mutex: the mock answers without awaiting anything slow, but
        // the lock must not be held across an await, so script, then play.
        {
            let _turn = self.turn.lock().unwrap_or_else(PoisonError::into_inner);
            self.script(request);
        }
        self.mock.generate(request).await
    }

    async fn stream(&self, request: &LlmRequest) -> Result<DeltaStream, ModelError> {
        {
            let _turn = self.turn.lock().unwrap_or_else(PoisonError::into_inner);
            self.script(request);
        }
        self.mock.stream(request).await
    }
}

/// The helpdesk with the bank's help centre.
pub struct Bank {
    store: DynStore,
    knowledge_base: Arc<dyn KnowledgeBase>,
    embedder: Arc<dyn Embedder>,
    tenant: Tenant,
    admin: Actor,
    customer: Actor,
    /// The indexed articles, with their intents.
    pub articles: Vec<(String, Article)>,
    intents: HashMap<ArticleId, String>,
}

impl Bank {
    /// Opens the SQLite store under `dir` (`bank.db`, durability `process-crash`: the file
    /// is thrown away, and commits need not wait for the disk), the kb-search index under
    /// `dir/kb` (hybrid search with `search`, kb-search's defaults unless tuning), and creates the tenant with
    /// `articles` (the help centre) and a customer.
    pub async fn open(
        dir: &Path,
        embedder: Arc<dyn Embedder>,
        articles: &[&IntentArticle],
        search: SearchOptions,
    ) -> Result<Self, Banking77EvalError> {
        let store: DynStore = Arc::new(
            SqliteStore::builder()
                .durability(Durability::ProcessCrash)
                .open(dir.join("bank.db"))
                .await?,
        );
        let knowledge_base: Arc<dyn KnowledgeBase> = Arc::new(KbIndex::open(
            dir.join("kb"),
            embedder.clone(),
            KbIndexOptions {
                search,
                ..KbIndexOptions::default()
            },
        )?);
        let helpdesk = build(&store, &knowledge_base, &embedder, &Provider::Offline)?;
        let (tenant, admin) = helpdesk
            .register_tenant(NewTenant {
                name: "Example Bank".into(),
                slug: "example-bank".into(),
                settings: None,
                admin: NewUser::new("admin@bank.example", "Help Centre Admin", Role::Admin),
            })
            .await?;
        let admin = Actor::for_user(&admin);
        let customer = helpdesk
            .add_user(
                &admin,
                NewUser::new("customer@example.com", "A Customer", Role::Customer),
            )
            .await?;
        let mut indexed = Vec::with_capacity(articles.len());
        let mut intents = HashMap::new();
        for a in articles {
            let article = helpdesk
                .create_article(
                    &admin,
                    ArticleInput {
                        title: a.title.clone(),
                        body: a.body.clone(),
                        tags: a.tags.clone(),
                    },
                )
                .await?;
            intents.insert(article.id, a.intent.clone());
            indexed.push((a.intent.clone(), article));
        }
        helpdesk.index_settled().await;
        Ok(Self {
            store,
            knowledge_base,
            embedder,
            tenant,
            admin,
            customer: Actor::for_user(&customer),
            articles: indexed,
            intents,
        })
    }

    /// A helpdesk on the bank's store and index with `provider`'s model. Triage uses the
    /// rules only, so a model is asked for chat answers alone.
    pub fn helpdesk(&self, provider: &Provider) -> Result<Helpdesk, Banking77EvalError> {
        build(&self.store, &self.knowledge_base, &self.embedder, provider)
    }

    /// The tenant.
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    /// The index the bot searches.
    pub fn knowledge_base(&self) -> &Arc<dyn KnowledgeBase> {
        &self.knowledge_base
    }

    /// The intent of an indexed article.
    pub fn intent_of(&self, article: ArticleId) -> Option<&str> {
        self.intents.get(&article).map(String::as_str)
    }

    /// Sets the tenant's grounding threshold (through the admin's settings update).
    pub async fn set_threshold(
        &mut self,
        helpdesk: &Helpdesk,
        threshold: f32,
    ) -> Result<(), Banking77EvalError> {
        let mut settings = self.tenant.settings.clone();
        settings.grounding_threshold = threshold;
        self.tenant = helpdesk.update_settings(&self.admin, settings).await?;
        Ok(())
    }

    /// Asks `text` as the first turn of a new chat session on `helpdesk`.
    pub async fn ask(
        &self,
        helpdesk: &Helpdesk,
        text: &str,
    ) -> Result<TurnOutcome, Banking77EvalError> {
        let session = helpdesk.start_chat(&self.customer).await?;
        let turn = helpdesk
            .chat_message(&self.customer, session.id, text)
            .await?;
        Ok(match turn.reply {
            ChatReply::Answered(message) => {
                let mut cited = Vec::with_capacity(message.citations.len());
                for c in &message.citations {
                    let intent = self.intent_of(c.article_id).ok_or_else(|| {
                        Banking77EvalError::Inconsistent(format!(
                            "{text:?}: cited article {} is not in the help centre",
                            c.article_id
                        ))
                    })?;
                    cited.push(intent.to_string());
                }
                TurnOutcome::Answered(cited)
            }
            ChatReply::HandedOff { reason, .. } => TurnOutcome::HandedOff(reason),
            ChatReply::Greeted(_) => TurnOutcome::Greeted,
            ChatReply::WaitingForAgent => {
                return Err(Banking77EvalError::Inconsistent(format!(
                    "{text:?}: a new session was waiting for an agent"
                )));
            }
            other => {
                return Err(Banking77EvalError::Inconsistent(format!(
                    "{text:?}: unexpected first-turn reply {other:?}"
                )));
            }
        })
    }
}

fn build(
    store: &DynStore,
    knowledge_base: &Arc<dyn KnowledgeBase>,
    embedder: &Arc<dyn Embedder>,
    provider: &Provider,
) -> Result<Helpdesk, Banking77EvalError> {
    let mut builder = Helpdesk::builder(store.clone())
        .knowledge_base(knowledge_base.clone())
        .embedder(embedder.clone())
        .classifiers(ClassifierChain::new().with(Arc::new(RuleClassifier::new())));
    if let Some(model) = provider.model() {
        builder = builder.language_model(model);
    }
    Ok(builder.build()?)
}

/// The real models configured in the environment, and notes on those configured that this
/// build cannot run.
///
/// - `GEMINI_API_KEY`: Gemini (the base URL from the environment as `helpdesk-web` reads
///   it; `GEMINI_MODEL` picks another model than the client's default).
/// - `OPENAI_BASE_URL` or `OPENAI_API_KEY`: an OpenAI-compatible server
///   (`helpdesk-llm-openai`: base URL, optional key, `OPENAI_MODEL`), named
///   `openai-compatible (<model>)`. Nothing else in the evaluation depends on which model
///   answers.
pub fn live_providers_from_env() -> Result<(Vec<Provider>, Vec<String>), Banking77EvalError> {
    let mut providers = Vec::new();
    let notes = Vec::new();
    let set = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if let Some(key) = set("GEMINI_API_KEY") {
        let mut builder = helpdesk_llm_gemini::GeminiClientBuilder::new()
            .api_key(key)
            .base_url_from_env();
        if let Some(model) = set("GEMINI_MODEL") {
            builder = builder.model(model);
        }
        providers.push(Provider::Live {
            name: "gemini".into(),
            model: Arc::new(builder.build()?),
        });
    }
    if set("OPENAI_BASE_URL").is_some() || set("OPENAI_API_KEY").is_some() {
        let client = helpdesk_llm_openai::OpenAiClientBuilder::from_env().build()?;
        providers.push(Provider::Live {
            name: format!("openai-compatible ({})", client.model_id()),
            model: Arc::new(client),
        });
    }
    Ok((providers, notes))
}
