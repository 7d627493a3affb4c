//! Runs labelled questions through the real chat path of a helpdesk holding the demo
//! knowledge base.
//!
//! Each question is the first turn of its own chat session, asked through
//! [`Helpdesk::chat_message`] with no language model (the offline bot). The offline bot's
//! decision depends on the grounding threshold only through one comparison: it answers
//! with the best passage when that passage's score reaches the threshold, else hands off;
//! greetings and requests for a person are decided before any search. So one pass at
//! threshold 0 (the bot answers whenever a passage is found) plus the best passage's score
//! gives the outcome at every threshold ([`Observation::outcome_at`]), and
//! [`Evaluator::check_at`] replays the questions at a chosen threshold through the real
//! path to confirm the model of the bot against the bot itself.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use helpdesk_core::ai::ChatReply;
use helpdesk_core::domain::{Actor, Role, Tenant};
use helpdesk_core::service::{ArticleInput, NewTenant, NewUser};
use helpdesk_core::store::MemoryStore;
use helpdesk_core::{ArticleId, Embedder, Helpdesk, KnowledgeBase};
use helpdesk_kb_search::{EmbedderOptions, FastembedEmbedder, KbIndex, KbIndexOptions};
use serde::Serialize;

use super::{ChatbotEvalError, Expect, LabelledQuestion};
use crate::web::Backends;
use crate::web::seed::{DEMO_ARTICLES, DEMO_TENANT, parse_markdown_article};

/// What the bot did with a question at threshold 0, from which its outcome at any
/// threshold follows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Decision {
    /// Greeted back (decided before any search, whatever the threshold).
    Greeted,
    /// Handed off whatever the threshold: the customer asked for a person, or nothing
    /// was retrieved.
    HandedOff {
        /// The bot's reason.
        reason: String,
    },
    /// The best passage: answered with it when `score` reaches the threshold.
    Passage {
        /// The demo article name of the passage.
        article: String,
        /// Its retrieval score (what the threshold is compared with).
        score: f32,
    },
}

/// What the bot did with a question at one threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Outcome {
    /// Answered citing this article.
    Answered {
        /// The demo article name.
        article: String,
    },
    /// Handed off to a person.
    HandedOff,
    /// Greeted back.
    Greeted,
}

/// One question and what the bot did with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    /// The question's id.
    pub id: String,
    /// The question.
    pub text: String,
    /// Its label.
    pub expect: Expect,
    /// The articles that answer it (for [`Expect::Answer`]).
    pub articles: Vec<String>,
    /// What the bot did.
    pub decision: Decision,
}

impl Observation {
    /// The bot's outcome at grounding threshold `threshold` (the offline bot's rule: the
    /// best passage when its score reaches the threshold).
    pub fn outcome_at(&self, threshold: f32) -> Outcome {
        match &self.decision {
            Decision::Greeted => Outcome::Greeted,
            Decision::HandedOff { .. } => Outcome::HandedOff,
            Decision::Passage { article, score } if *score >= threshold => Outcome::Answered {
                article: article.clone(),
            },
            Decision::Passage { .. } => Outcome::HandedOff,
        }
    }
}

/// Backends for the evaluation as `helpdesk-web` runs offline with the model prepared: the
/// MiniLM embedder from `model_dir` and a kb-search index under `index_dir` (hybrid
/// search, scores are cosine similarities), no language model; the store is in memory (it
/// does not take part in the bot's decision).
pub fn minilm_backends(model_dir: &Path, index_dir: &Path) -> Result<Backends, ChatbotEvalError> {
    let embedder: Arc<dyn Embedder> = Arc::new(
        FastembedEmbedder::from_dir(model_dir, EmbedderOptions::default())
            .map_err(helpdesk_core::Error::from)?,
    );
    let knowledge_base: Arc<dyn KnowledgeBase> = Arc::new(KbIndex::open(
        index_dir,
        embedder.clone(),
        KbIndexOptions::default(),
    )?);
    Ok(Backends {
        store: Arc::new(MemoryStore::new()),
        knowledge_base: Some(knowledge_base),
        model: None,
        embedder: Some(embedder),
        demo_store: true,
        embedder_note: None,
        blob_store: None,
    })
}

/// A helpdesk with the demo tenant's knowledge base and one customer who asks the
/// questions.
pub struct Evaluator {
    helpdesk: Helpdesk,
    knowledge_base: Arc<dyn KnowledgeBase>,
    tenant: Tenant,
    admin: Actor,
    customer: Actor,
    names: HashMap<ArticleId, &'static str>,
}

impl Evaluator {
    /// Builds the helpdesk on `backends` (which must have a knowledge base and no
    /// language model) and creates the demo tenant with the demo articles, indexed.
    pub async fn new(backends: &Backends) -> Result<Self, ChatbotEvalError> {
        let setup = |message: &str| ChatbotEvalError::Inconsistent {
            id: "-".into(),
            message: message.into(),
        };
        if backends.model.is_some() {
            return Err(setup("the evaluation measures the offline bot: no model"));
        }
        let knowledge_base = backends
            .knowledge_base
            .clone()
            .ok_or_else(|| setup("the backends have no knowledge base"))?;
        let helpdesk = backends.build()?;
        let (tenant, admin) = helpdesk
            .register_tenant(NewTenant {
                name: "Nimbus Notes".into(),
                slug: DEMO_TENANT.into(),
                settings: None,
                admin: NewUser::new("grace@nimbusnotes.example", "Grace Kim", Role::Admin),
            })
            .await?;
        let admin = Actor::for_user(&admin);
        let customer = helpdesk
            .add_user(
                &admin,
                NewUser::new("carlos@example.com", "Carlos Rivera", Role::Customer),
            )
            .await?;
        let mut names = HashMap::new();
        for (name, text) in DEMO_ARTICLES {
            let (title, tags, body) = parse_markdown_article(text)?;
            let article = helpdesk
                .create_article(&admin, ArticleInput { title, body, tags })
                .await?;
            names.insert(article.id, *name);
        }
        helpdesk.index_settled().await;
        Ok(Self {
            helpdesk,
            knowledge_base,
            tenant,
            admin,
            customer: Actor::for_user(&customer),
            names,
        })
    }

    /// The tenant's grounding threshold now.
    pub fn threshold(&self) -> f32 {
        self.tenant.settings.grounding_threshold
    }

    /// Sets the tenant's grounding threshold (through the admin's settings update, as the
    /// settings page does).
    pub async fn set_threshold(&mut self, threshold: f32) -> Result<(), ChatbotEvalError> {
        let mut settings = self.tenant.settings.clone();
        settings.grounding_threshold = threshold;
        self.tenant = self.helpdesk.update_settings(&self.admin, settings).await?;
        Ok(())
    }

    /// Asks one question as the first turn of a new chat session.
    async fn ask(&self, text: &str) -> Result<(String, ChatReply), ChatbotEvalError> {
        let session = self.helpdesk.start_chat(&self.customer).await?;
        let turn = self
            .helpdesk
            .chat_message(&self.customer, session.id, text)
            .await?;
        Ok((turn.customer_message.body, turn.reply))
    }

    fn article_name(&self, id: &str, article: ArticleId) -> Result<String, ChatbotEvalError> {
        self.names
            .get(&article)
            .map(|n| (*n).to_string())
            .ok_or_else(|| ChatbotEvalError::Inconsistent {
                id: id.into(),
                message: format!("cited article {article} is not a demo article"),
            })
    }

    /// Asks every question at threshold 0 and records the bot's decision with the best
    /// passage's score; the tenant's threshold is restored afterwards.
    pub async fn observe(
        &mut self,
        questions: &[LabelledQuestion],
    ) -> Result<Vec<Observation>, ChatbotEvalError> {
        let before = self.threshold();
        self.set_threshold(0.0).await?;
        let mut out = Vec::with_capacity(questions.len());
        for q in questions {
            let (asked, reply) = self.ask(&q.text).await?;
            let decision = match reply {
                ChatReply::Greeted(_) => Decision::Greeted,
                ChatReply::HandedOff { reason, .. } => Decision::HandedOff { reason },
                ChatReply::Answered(message) => {
                    let cited = message.citations.first().ok_or_else(|| {
                        ChatbotEvalError::Inconsistent {
                            id: q.id.clone(),
                            message: "the answer cites nothing".into(),
                        }
                    })?;
                    // The same search the bot ran (same text, same k): its best passage is
                    // the one cited, and its score is what the threshold is compared with.
                    let k = self.helpdesk.config().kb_top_k;
                    let hits = self
                        .knowledge_base
                        .search(self.tenant.id, &asked, k)
                        .await?;
                    let best = hits
                        .first()
                        .filter(|b| b.chunk_id == cited.chunk_id)
                        .ok_or_else(|| ChatbotEvalError::Inconsistent {
                            id: q.id.clone(),
                            message: "the cited passage is not the search's best".into(),
                        })?;
                    Decision::Passage {
                        article: self.article_name(&q.id, cited.article_id)?,
                        score: best.score,
                    }
                }
                other => {
                    return Err(ChatbotEvalError::Inconsistent {
                        id: q.id.clone(),
                        message: format!("unexpected first-turn reply {other:?}"),
                    });
                }
            };
            out.push(Observation {
                id: q.id.clone(),
                text: q.text.clone(),
                expect: q.expect,
                articles: q.articles.clone(),
                decision,
            });
        }
        self.set_threshold(before).await?;
        Ok(out)
    }

    /// Asks the observed questions again with the tenant's threshold at `threshold` and
    /// checks that the real bot did what [`Observation::outcome_at`] predicts for each;
    /// returns how many were checked. The tenant's threshold is restored afterwards.
    pub async fn check_at(
        &mut self,
        observations: &[Observation],
        threshold: f32,
    ) -> Result<usize, ChatbotEvalError> {
        let before = self.threshold();
        self.set_threshold(threshold).await?;
        for o in observations {
            let (_, reply) = self.ask(&o.text).await?;
            let actual = match reply {
                ChatReply::Greeted(_) => Outcome::Greeted,
                ChatReply::HandedOff { .. } => Outcome::HandedOff,
                ChatReply::Answered(message) => match message.citations.first() {
                    Some(c) => Outcome::Answered {
                        article: self.article_name(&o.id, c.article_id)?,
                    },
                    None => Outcome::HandedOff,
                },
                // Waiting for an agent (or a reply added later): not the bot's answer.
                _ => Outcome::HandedOff,
            };
            let predicted = o.outcome_at(threshold);
            if actual != predicted {
                return Err(ChatbotEvalError::Inconsistent {
                    id: o.id.clone(),
                    message: format!(
                        "at threshold {threshold:.3} the bot did {actual:?}, expected {predicted:?}"
                    ),
                });
            }
        }
        self.set_threshold(before).await?;
        Ok(observations.len())
    }
}
