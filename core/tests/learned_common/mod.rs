//! Shared set-up for the learned-triage tests: a keyword "classifier" whose models are
//! small JSON maps, a desk with a blob store, and tickets resolved under categories.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use helpdesk_core::blob::{BlobKey, BlobStore, DynBlobStore};
use helpdesk_core::domain::{Actor, Ticket, TicketStatus, TriageSource};
use helpdesk_core::service::{HelpdeskConfig, LearnedTriageConfig, NewTicket, TicketPatch};
use helpdesk_core::store::TriageModel;
use helpdesk_core::testkit::MemoryBlobStore;
use helpdesk_core::triage::{
    Classification, Classifier, ClassifyError, ClassifyInput, FittedModel, LabelledTicket,
    LearnedTriage,
};
use helpdesk_core::{Error, Helpdesk, Result, TenantId, TicketId};

use crate::common::{World, world_with};

/// A learned classifier whose "model" maps a ticket's first word to a category; its bytes
/// are that map in JSON, with the number of examples so that each training's bytes differ.
#[derive(Debug)]
pub struct KeywordLearned {
    format: String,
    fits: AtomicUsize,
    installed: Mutex<HashMap<TenantId, Installed>>,
    /// Taken by every fit once counted: a test holding it keeps a training mid-fit.
    pub hold: tokio::sync::Mutex<()>,
}

/// A tenant's installed version and word map.
pub type Installed = (u64, BTreeMap<String, String>);

#[derive(serde::Serialize, serde::Deserialize)]
pub struct KeywordModel {
    pub examples: usize,
    pub words: BTreeMap<String, String>,
}

impl KeywordLearned {
    pub fn new(format: &str) -> Arc<Self> {
        Arc::new(Self {
            format: format.into(),
            fits: AtomicUsize::new(0),
            installed: Mutex::default(),
            hold: tokio::sync::Mutex::new(()),
        })
    }

    pub fn fits(&self) -> usize {
        self.fits.load(Ordering::SeqCst)
    }
}

pub fn first_word(subject: &str) -> String {
    subject
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_lowercase()
}

#[async_trait]
impl Classifier for KeywordLearned {
    fn source(&self) -> TriageSource {
        TriageSource::Learned
    }

    async fn classify(
        &self,
        input: &ClassifyInput<'_>,
    ) -> std::result::Result<Classification, ClassifyError> {
        let installed = self.installed.lock().unwrap();
        let (_, words) = installed
            .get(&input.tenant.id)
            .ok_or(ClassifyError::NotTrained)?;
        let category = words
            .get(&first_word(input.subject))
            .ok_or(ClassifyError::NoMatch)?;
        Ok(Classification {
            category: Some(category.clone()),
            confidence: 0.9,
            ..Classification::default()
        })
    }
}

#[async_trait]
impl LearnedTriage for KeywordLearned {
    fn format(&self) -> &str {
        &self.format
    }

    async fn fit(
        &self,
        train: &[LabelledTicket],
        holdout: &[LabelledTicket],
    ) -> Result<FittedModel> {
        self.fits.fetch_add(1, Ordering::SeqCst);
        let _held = self.hold.lock().await;
        let words: BTreeMap<String, String> = train
            .iter()
            .map(|t| (first_word(&t.subject), t.category.clone()))
            .collect();
        let categories: BTreeSet<String> = train.iter().map(|t| t.category.clone()).collect();
        if categories.len() < 2 {
            return Err(Error::validation("train", "need two categories"));
        }
        let holdout_correct = holdout
            .iter()
            .filter(|t| words.get(&first_word(&t.subject)) == Some(&t.category))
            .count() as u64;
        let model = KeywordModel {
            examples: train.len(),
            words,
        };
        Ok(FittedModel {
            bytes: serde_json::to_vec(&model).unwrap(),
            categories: categories.into_iter().collect(),
            holdout_correct,
        })
    }

    async fn install(&self, tenant: TenantId, version: u64, bytes: &[u8]) -> Result<()> {
        let model: KeywordModel = serde_json::from_slice(bytes)
            .map_err(|e| Error::validation("model", format!("not a keyword model: {e}")))?;
        self.installed
            .lock()
            .unwrap()
            .insert(tenant, (version, model.words));
        Ok(())
    }

    fn installed_version(&self, tenant: TenantId) -> Option<u64> {
        self.installed.lock().unwrap().get(&tenant).map(|(v, _)| *v)
    }

    fn uninstall(&self, tenant: TenantId) {
        self.installed.lock().unwrap().remove(&tenant);
    }
}

pub fn config() -> HelpdeskConfig {
    HelpdeskConfig {
        learned_triage: LearnedTriageConfig {
            min_tickets: 60,
            check_interval: Duration::from_secs(30),
            ..LearnedTriageConfig::default()
        },
        ..HelpdeskConfig::default()
    }
}

pub struct Desk {
    pub w: World,
    pub blobs: DynBlobStore,
    pub learned: Arc<KeywordLearned>,
}

pub async fn desk() -> Desk {
    let blobs: DynBlobStore = Arc::new(MemoryBlobStore::new());
    let learned = KeywordLearned::new("keywords-v1");
    let w = world_with(|b| {
        b.learned_triage(learned.clone())
            .blob_store(blobs.clone())
            .config(config())
    })
    .await;
    Desk { w, blobs, learned }
}

/// Another instance on the desk's store, blob store and clock, with its own classifier.
pub fn another(d: &Desk, learned: Arc<KeywordLearned>) -> Helpdesk {
    Helpdesk::builder(d.w.store.clone())
        .clock(d.w.clock.clone())
        .blob_store(d.blobs.clone())
        .learned_triage(learned)
        .config(config())
        .build()
        .unwrap()
}

pub const KINDS: [(&str, &str); 3] = [
    ("invoice", "billing"),
    ("password", "account"),
    ("crash", "technical"),
];

/// Opens `n` tickets as the first customer, files them under their category and resolves
/// them.
pub async fn resolved(d: &Desk, n: usize) {
    resolved_by(d, &d.w.customer, n).await;
}

/// Opens `n` tickets as `customer`, a word of [`KINDS`] first in each subject, files them
/// under the word's category and resolves them.
pub async fn resolved_by(d: &Desk, customer: &Actor, n: usize) {
    for i in 0..n {
        let (word, category) = KINDS[i % KINDS.len()];
        resolve_as(d, customer, &format!("{word} question {i}"), category).await;
    }
}

/// Opens a ticket as `customer`, files it under `category` and resolves it.
pub async fn resolve_as(d: &Desk, customer: &Actor, subject: &str, category: &str) {
    let ticket =
        d.w.hd
            .open_ticket(
                customer,
                NewTicket::new(subject, "Please help me with this."),
            )
            .await
            .unwrap()
            .ticket;
    file_and_resolve(d, ticket.id, category).await;
}

/// Files the ticket under `category` and resolves it (as the agent).
pub async fn file_and_resolve(d: &Desk, ticket: TicketId, category: &str) {
    d.w.hd
        .update_ticket(
            &d.w.agent,
            ticket,
            TicketPatch {
                category: Some(category.into()),
                ..TicketPatch::default()
            },
        )
        .await
        .unwrap();
    d.w.hd
        .transition(&d.w.agent, ticket, TicketStatus::Resolved)
        .await
        .unwrap();
}

/// Runs the training job, which must train the desk's tenant, and returns its model.
pub async fn trained_once(d: &Desk) -> TriageModel {
    let mut report = d.w.hd.train_triage_models().await.unwrap();
    assert_eq!(report.trained.len(), 1, "one tenant trained: {report:?}");
    report.trained.remove(0)
}

pub async fn open(hd: &Helpdesk, d: &Desk, subject: &str) -> Ticket {
    hd.open_ticket(
        &d.w.customer,
        NewTicket::new(subject, "Please help me with this."),
    )
    .await
    .unwrap()
    .ticket
}

pub async fn blob(d: &Desk, model: &TriageModel) -> Option<Vec<u8>> {
    d.blobs
        .get(BlobKey {
            tenant: d.w.tenant.id,
            sha256: model.blob,
        })
        .await
        .unwrap()
}
