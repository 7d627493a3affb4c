//! Shared set-up for the AI use-case tests: a world with a scripted model, a fake
//! embedder and an in-memory knowledge base.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::sync::Arc;

use helpdesk_core::domain::{AiAutonomy, Article, NotificationKind, OutboxEntry, TenantSettings};
use helpdesk_core::testkit::{FakeEmbedder, InMemoryKnowledgeBase, MockLanguageModel, MockTurn};
use helpdesk_core::triage::{ClassifierChain, RuleClassifier};
use helpdesk_core::{ArticleId, HelpdeskBuilder, KnowledgeBase};
use serde_json::{Value, json};

use crate::common::{World, world_with};

pub struct AiWorld {
    pub w: World,
    pub model: Arc<MockLanguageModel>,
    pub kb: Arc<InMemoryKnowledgeBase>,
}

/// How the world is wired.
#[derive(Clone, Copy)]
pub struct Wiring {
    /// Configure the language model.
    pub model: bool,
    /// Keep the default classifier chain (LLM then rules when a model is set); otherwise
    /// rules only, so intake does not consume scripted turns.
    pub llm_triage: bool,
    /// Configure the embedder (similar-ticket drafts).
    pub embedder: bool,
    /// Configure the knowledge base.
    pub kb: bool,
}

impl Wiring {
    pub const FULL: Wiring = Wiring {
        model: true,
        llm_triage: false,
        embedder: true,
        kb: true,
    };
    pub const NO_MODEL: Wiring = Wiring {
        model: false,
        llm_triage: false,
        embedder: true,
        kb: true,
    };
}

pub async fn ai_world(wiring: Wiring, turns: Vec<MockTurn>) -> AiWorld {
    ai_world_with(wiring, turns, |b| b).await
}

/// [`ai_world`] with a last say on the builder (a configuration, ...).
pub async fn ai_world_with(
    wiring: Wiring,
    turns: Vec<MockTurn>,
    configure: impl FnOnce(HelpdeskBuilder) -> HelpdeskBuilder,
) -> AiWorld {
    let model = Arc::new(MockLanguageModel::new(turns));
    let embedder = Arc::new(FakeEmbedder::new());
    let kb = Arc::new(InMemoryKnowledgeBase::new(embedder.clone()));
    let (m, k) = (model.clone(), kb.clone());
    let w = world_with(move |b: HelpdeskBuilder| {
        let mut b = b;
        if wiring.model {
            b = b.language_model(m);
        }
        if !wiring.llm_triage {
            b = b.classifiers(ClassifierChain::new().with(Arc::new(RuleClassifier::new())));
        }
        if wiring.embedder {
            b = b.embedder(embedder);
        }
        if wiring.kb {
            b = b.knowledge_base(k);
        }
        configure(b)
    })
    .await;
    AiWorld { w, model, kb }
}

impl AiWorld {
    pub async fn settings(&self, change: impl FnOnce(&mut TenantSettings)) {
        let mut settings = self.w.hd.get_tenant(&self.w.admin).await.unwrap().settings;
        change(&mut settings);
        self.w
            .hd
            .update_settings(&self.w.admin, settings)
            .await
            .unwrap();
    }

    pub async fn autonomy(&self, level: AiAutonomy) {
        self.settings(|s| s.ai_autonomy = level).await;
    }

    pub async fn article(&self, title: &str, body: &str) -> Article {
        let now = self.w.hd.now();
        let article = Article {
            id: ArticleId::new(),
            tenant_id: self.w.tenant.id,
            title: title.into(),
            body: body.into(),
            tags: vec![],
            created_at: now,
            updated_at: now,
            version: 1,
        };
        self.kb.upsert_article(&article).await.unwrap();
        article
    }

    /// The password and billing articles most tests use; returns their ids.
    pub async fn standard_articles(&self) -> (Article, Article) {
        let password = self
            .article(
                "Reset your password",
                "To reset your password, open the login page and click Forgot password. We \
                 e-mail you a reset link that works for one hour.\n\nIf the reset e-mail does \
                 not arrive, check your spam folder.",
            )
            .await;
        let billing = self
            .article(
                "Invoices",
                "Invoices are sent on the first day of each month to the billing address.\n\n\
                 You can download past invoices from Settings, Billing.",
            )
            .await;
        (password, billing)
    }

    pub async fn outbox(&self) -> Vec<OutboxEntry> {
        self.w.store.list_outbox(self.w.tenant.id).await.unwrap()
    }

    pub async fn handoffs(&self) -> Vec<OutboxEntry> {
        self.outbox()
            .await
            .into_iter()
            .filter(|e| matches!(e.notification.kind, NotificationKind::Handoff { .. }))
            .collect()
    }
}

/// A valid triage answer for the default tenant.
pub fn triage_json(category: &str, priority: &str, skills: &[&str], confidence: f64) -> Value {
    json!({
        "summary": "Customer cannot pay the invoice",
        "category": category,
        "priority": priority,
        "required_skills": skills,
        "sentiment": "negative",
        "language": "en",
        "confidence": confidence,
    })
}

/// A chatbot answer.
pub fn chat_json(answer: &str, cited: &[&str], handoff: bool, resolved: bool) -> Value {
    json!({
        "answer": answer,
        "cited_chunk_ids": cited,
        "handoff": handoff,
        "handoff_reason": if handoff { "not covered by the articles" } else { "" },
        "resolved": resolved,
    })
}

/// Every text of a request's turns, joined.
pub fn turns_text(r: &helpdesk_core::LlmRequest) -> String {
    r.turns
        .iter()
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A scripted model with its own id, which it answers under.
#[derive(Debug)]
pub struct Named(pub &'static str, pub Arc<MockLanguageModel>);

#[async_trait::async_trait]
impl helpdesk_core::LanguageModel for Named {
    fn model_id(&self) -> &str {
        self.0
    }
    async fn generate(
        &self,
        request: &helpdesk_core::LlmRequest,
    ) -> Result<helpdesk_core::LlmResponse, helpdesk_core::ModelError> {
        let mut response = self.1.generate(request).await?;
        response.model = self.0.to_owned();
        Ok(response)
    }
    async fn stream(
        &self,
        request: &helpdesk_core::LlmRequest,
    ) -> Result<helpdesk_core::DeltaStream, helpdesk_core::ModelError> {
        self.1.stream(request).await
    }
}
