//! Building a [`Helpdesk`].

use std::sync::Arc;
use std::time::Duration;

use super::{Helpdesk, Inner};
use crate::ai::LlmClassifier;
use crate::ai::breaker::{Breaker, BreakerSettings, GuardedModel};
use crate::blob::DynBlobStore;
use crate::kb::{Embedder, KnowledgeBase};
use crate::llm::LanguageModel;
use crate::notify::{LogNotifier, Notifier};
use crate::routing::{Router, RouterChain};
use crate::store::DynStore;
use crate::triage::{ClassifierChain, LearnedTriage, RuleClassifier};
use crate::{Clock, Error, Result, SystemClock};

/// The default classifier chain: the language model's classifier when there is a model,
/// then the learned classifier when there is one, then the rules.
fn default_chain(
    model: Option<&Arc<dyn LanguageModel>>,
    learned: Option<Arc<dyn LearnedTriage>>,
) -> ClassifierChain {
    let mut chain = ClassifierChain::new();
    if let Some(model) = model {
        chain = chain.with(Arc::new(LlmClassifier::new(model.clone())));
    }
    if let Some(learned) = learned {
        chain = chain.with_learned(learned);
    }
    chain.with(Arc::new(RuleClassifier::new()))
}

/// Tunables of the service.
#[derive(Debug, Clone)]
pub struct HelpdeskConfig {
    /// How long a login session lasts.
    pub session_ttl: Duration,
    /// How often a ticket change is retried after a version conflict.
    pub max_conflict_retries: u32,
    /// How many tickets one SLA sweep handles per tenant.
    pub sla_batch: u32,
    /// How many outbox entries one dispatch handles.
    pub outbox_batch: u32,
    /// First retry delay of a failed notification (doubles per attempt).
    pub outbox_base_backoff: Duration,
    /// Longest retry delay of a failed notification.
    pub outbox_max_backoff: Duration,
    /// How long a sweep lease lasts.
    pub lease_ttl: Duration,
    /// How many recent chat turns go into a chatbot prompt.
    pub chat_history_turns: usize,
    /// How many knowledge-base chunks are retrieved per chatbot turn or draft.
    pub kb_top_k: usize,
    /// Deadline of one language-model call made by the service.
    pub model_timeout: Duration,
    /// The longest a chat turn waits for the model (from the start of the turn) before
    /// the bot answers offline from the knowledge base instead (default 4 s). A turn that
    /// runs out counts as a timeout for the circuit breaker.
    pub chat_turn_budget: Duration,
    /// How many consecutive temporary model failures (rate limited, unavailable, timed
    /// out) open the circuit breaker (default 3). While it is open, chat, drafts,
    /// summaries and triage skip the model and use their offline paths.
    pub breaker_failure_threshold: u32,
    /// How long the breaker stays open before one trial call may go through (default
    /// 30 s, on the injected clock).
    pub breaker_cool_down: Duration,
    /// How far before its cursor the event feed re-reads ([`Helpdesk::event_feed`]): an
    /// event committed by another instance up to this much later than its own time is
    /// still delivered (default 5 s).
    ///
    /// [`Helpdesk::event_feed`]: crate::Helpdesk::event_feed
    pub feed_lookback: Duration,
    /// How long a search (chat turn, draft, article search) trusts this instance's
    /// knowledge-base index before catching it up with the store's change feed
    /// ([`Helpdesk::kb_sync`]) first (default 1 s; zero: before every search). An article
    /// saved on another instance is searchable here once that instance has embedded and
    /// stored it plus at most this interval.
    ///
    /// [`Helpdesk::kb_sync`]: crate::Helpdesk::kb_sync
    pub kb_sync_interval: Duration,
    /// How many articles per tenant one index sweep embeds ([`Helpdesk::index_sweep`];
    /// default 20). A sweep also stops taking articles once half the lease time has
    /// passed.
    ///
    /// [`Helpdesk::index_sweep`]: crate::Helpdesk::index_sweep
    pub index_batch: u32,
    /// When learned triage trains, and how often an instance looks for a newer model
    /// ([`Helpdesk::train_triage_models`](crate::Helpdesk::train_triage_models)).
    pub learned_triage: super::LearnedTriageConfig,
}

impl Default for HelpdeskConfig {
    fn default() -> Self {
        Self {
            session_ttl: Duration::from_secs(12 * 3600),
            max_conflict_retries: 8,
            sla_batch: 500,
            outbox_batch: 100,
            outbox_base_backoff: Duration::from_secs(30),
            outbox_max_backoff: Duration::from_secs(3600),
            lease_ttl: Duration::from_secs(60),
            chat_history_turns: 10,
            kb_top_k: 5,
            model_timeout: Duration::from_secs(30),
            chat_turn_budget: Duration::from_secs(4),
            breaker_failure_threshold: 3,
            breaker_cool_down: Duration::from_secs(30),
            feed_lookback: Duration::from_secs(5),
            kb_sync_interval: Duration::from_secs(1),
            index_batch: 20,
            learned_triage: super::LearnedTriageConfig::default(),
        }
    }
}

/// Builds a [`Helpdesk`]. Only the store is required; the defaults are the system clock,
/// a rule classifier (preceded by an [`LlmClassifier`] when a language model is set), the
/// standard router chain (skills, least loaded, admin fallback), a
/// logging notifier, and no language model or knowledge base.
///
/// ```
/// use std::sync::Arc;
/// use helpdesk_core::{Helpdesk, store::MemoryStore};
/// let helpdesk = Helpdesk::builder(Arc::new(MemoryStore::new())).build().unwrap();
/// assert!(helpdesk.language_model().is_none());
/// ```
#[derive(Debug)]
pub struct HelpdeskBuilder {
    store: DynStore,
    clock: Option<Arc<dyn Clock>>,
    classifiers: Option<ClassifierChain>,
    router: Option<Arc<dyn Router>>,
    notifier: Option<Arc<dyn Notifier>>,
    model: Option<Arc<dyn LanguageModel>>,
    knowledge_base: Option<Arc<dyn KnowledgeBase>>,
    embedder: Option<Arc<dyn Embedder>>,
    blob_store: Option<DynBlobStore>,
    learned: Option<Arc<dyn LearnedTriage>>,
    config: HelpdeskConfig,
}

impl HelpdeskBuilder {
    /// A builder on `store`.
    pub fn new(store: DynStore) -> Self {
        Self {
            store,
            clock: None,
            classifiers: None,
            router: None,
            notifier: None,
            model: None,
            knowledge_base: None,
            embedder: None,
            blob_store: None,
            learned: None,
            config: HelpdeskConfig::default(),
        }
    }

    /// Sets the blob store attachment bytes are kept in:
    /// [`FsBlobStore`](crate::blob::FsBlobStore) for one host, `ObjectBlobStore` (feature
    /// `object-store`: S3, GCS, Azure) for several instances, which must share their blobs.
    /// Without one, inputs with attachments and downloads are refused (`Configuration` on
    /// `blob_store`) and everything else works. See [`crate::service::NewAttachment`].
    pub fn blob_store(mut self, blobs: DynBlobStore) -> Self {
        self.blob_store = Some(blobs);
        self
    }

    /// Injects the clock (tests use `testkit::ManualClock`, with the `test-kit` feature).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Sets the triage classifier chain.
    pub fn classifiers(mut self, chain: ClassifierChain) -> Self {
        self.classifiers = Some(chain);
        self
    }

    /// Sets the router.
    pub fn router(mut self, router: Arc<dyn Router>) -> Self {
        self.router = Some(router);
        self
    }

    /// Sets the notifier the outbox dispatcher delivers through.
    pub fn notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// Sets the language model used by drafts, summaries, the chatbot and (in the default
    /// chain) triage. The helpdesk calls it through a circuit breaker
    /// ([`Helpdesk::ai_status`]); a classifier chain set with
    /// [`classifiers`](Self::classifiers) calls whatever model it was given.
    pub fn language_model(mut self, model: Arc<dyn LanguageModel>) -> Self {
        self.model = Some(model);
        self
    }

    /// Sets the knowledge base: this instance's search index, a cache that follows the
    /// store's knowledge-base change feed (see [`KnowledgeBase`] and
    /// [`HelpdeskConfig::kb_sync_interval`]).
    pub fn knowledge_base(mut self, kb: Arc<dyn KnowledgeBase>) -> Self {
        self.knowledge_base = Some(kb);
        self
    }

    /// Sets the embedder, handed to the host through [`Helpdesk::embedder`] (drafts without
    /// a model do not use it: they never borrow another ticket's text).
    pub fn embedder(mut self, embedder: Arc<dyn Embedder>) -> Self {
        self.embedder = Some(embedder);
        self
    }

    /// Adds learned triage to the default classifier chain, between the language model
    /// and the rules: the helpdesk trains it per tenant
    /// ([`Helpdesk::train_triage_models`](crate::Helpdesk::train_triage_models)), keeps
    /// its models in the blob store (required) and installs the newest on every instance.
    /// With [`classifiers`](Self::classifiers), put it in that chain with
    /// [`ClassifierChain::with_learned`] instead.
    pub fn learned_triage(mut self, learned: Arc<dyn LearnedTriage>) -> Self {
        self.learned = Some(learned);
        self
    }

    /// Replaces the configuration.
    pub fn config(mut self, config: HelpdeskConfig) -> Self {
        self.config = config;
        self
    }

    /// Validates and builds.
    pub fn build(self) -> Result<Helpdesk> {
        let c = &self.config;
        if c.max_conflict_retries == 0 {
            return Err(Error::Configuration {
                field: "max_conflict_retries".into(),
                message: "must be at least 1".into(),
            });
        }
        if c.session_ttl.is_zero() {
            return Err(Error::Configuration {
                field: "session_ttl".into(),
                message: "must be positive".into(),
            });
        }
        if c.index_batch == 0 {
            return Err(Error::Configuration {
                field: "index_batch".into(),
                message: "must be at least 1".into(),
            });
        }
        if c.sla_batch == 0 || c.outbox_batch == 0 {
            return Err(Error::Configuration {
                field: "sla_batch/outbox_batch".into(),
                message: "must be at least 1".into(),
            });
        }
        if c.kb_top_k == 0 || c.kb_top_k > 50 {
            return Err(Error::Configuration {
                field: "kb_top_k".into(),
                message: "must be 1..=50".into(),
            });
        }
        if c.outbox_base_backoff > c.outbox_max_backoff {
            return Err(Error::Configuration {
                field: "outbox_base_backoff".into(),
                message: "must not exceed outbox_max_backoff".into(),
            });
        }
        if c.chat_turn_budget.is_zero() {
            return Err(Error::Configuration {
                field: "chat_turn_budget".into(),
                message: "must be positive".into(),
            });
        }
        c.learned_triage.check()?;
        if self.learned.is_some() && self.classifiers.is_some() {
            return Err(Error::Configuration {
                field: "learned_triage".into(),
                message:
                    "with a classifier chain of your own, add it with ClassifierChain::with_learned"
                        .into(),
            });
        }
        let has_learned = self.learned.is_some()
            || self
                .classifiers
                .as_ref()
                .is_some_and(|c| c.learned().is_some());
        if has_learned && self.blob_store.is_none() {
            return Err(Error::Configuration {
                field: "blob_store".into(),
                message: "learned triage keeps its models in the blob store; set one".into(),
            });
        }
        if c.breaker_failure_threshold == 0 {
            return Err(Error::Configuration {
                field: "breaker_failure_threshold".into(),
                message: "must be at least 1".into(),
            });
        }
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).map_err(|e| Error::Configuration {
            field: "instance_id".into(),
            message: format!("no OS randomness: {e}"),
        })?;
        let instance_id = id.iter().map(|b| format!("{b:02x}")).collect();
        let clock: Arc<dyn Clock> = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        // Every use-case (and the default triage chain) calls the model through the
        // breaker.
        let breaker = Arc::new(Breaker::new(
            BreakerSettings {
                failure_threshold: c.breaker_failure_threshold,
                cool_down: c.breaker_cool_down,
            },
            clock.clone(),
        ));
        let model = self.model.map(|model| {
            Arc::new(GuardedModel::new(model, breaker.clone())) as Arc<dyn LanguageModel>
        });
        Ok(Helpdesk {
            inner: Arc::new(Inner {
                store: self.store,
                clock,
                classifiers: self
                    .classifiers
                    .unwrap_or_else(|| default_chain(model.as_ref(), self.learned)),
                router: self
                    .router
                    .unwrap_or_else(|| Arc::new(RouterChain::standard())),
                notifier: self.notifier.unwrap_or_else(|| Arc::new(LogNotifier)),
                model,
                breaker,
                knowledge_base: self.knowledge_base,
                embedder: self.embedder,
                blob_store: self.blob_store,
                config: self.config,
                instance_id,
                ticket_locks: Default::default(),
                index_queue: Default::default(),
                kb_sync: Default::default(),
                learned_checks: Default::default(),
                commits: Default::default(),
                commit_relay: Default::default(),
            }),
        })
    }
}
