//! The classifier chain: tries classifiers in order within a time budget and never fails.

use std::sync::Arc;
use std::time::Duration;

use super::{Classification, Classifier, ClassifyError, ClassifyInput, LearnedTriage};
use crate::domain::{Priority, Tenant, Triage, TriageFallback, TriageSource};

/// The accepted, validated triage of one ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct TriageOutcome {
    /// Validated against the tenant: category is one of its categories, skills are from
    /// its vocabulary.
    pub classification: Classification,
    /// Priority to use (the classifier's, or the tenant default).
    pub priority: Priority,
    /// What goes on the ticket.
    pub triage: Triage,
}

/// Tries classifiers in order. A classifier that errs, times out, answers with values
/// outside the tenant's settings, or is below the confidence threshold is recorded as a
/// fallback and the next one is tried; when none is accepted the tenant's defaults are
/// used with source [`TriageSource::Default`]. Language-model classifiers are skipped when
/// the tenant's AI autonomy does not allow AI triage.
#[derive(Debug, Clone)]
pub struct ClassifierChain {
    classifiers: Vec<Arc<dyn Classifier>>,
    learned: Option<Arc<dyn LearnedTriage>>,
    per_classifier_timeout: Duration,
    total_budget: Duration,
}

impl Default for ClassifierChain {
    fn default() -> Self {
        Self::new()
    }
}

impl ClassifierChain {
    /// An empty chain (10 s per classifier, 15 s in total).
    pub fn new() -> Self {
        Self {
            classifiers: Vec::new(),
            learned: None,
            per_classifier_timeout: Duration::from_secs(10),
            total_budget: Duration::from_secs(15),
        }
    }

    /// Appends a classifier.
    pub fn with(mut self, classifier: Arc<dyn Classifier>) -> Self {
        self.classifiers.push(classifier);
        self
    }

    /// Appends the learned classifier: the chain asks it like any other, and the service
    /// trains its models, stores them and installs the newest on every instance
    /// ([`Helpdesk::train_triage_models`](crate::service::Helpdesk::train_triage_models)).
    /// Call it once: a second learned classifier would classify but not be trained.
    pub fn with_learned(mut self, learned: Arc<dyn LearnedTriage>) -> Self {
        self.classifiers.push(learned.clone());
        self.learned = Some(learned);
        self
    }

    /// The learned classifier, when the chain has one.
    pub fn learned(&self) -> Option<&Arc<dyn LearnedTriage>> {
        self.learned.as_ref()
    }

    /// Sets the time one classifier may take.
    pub fn per_classifier_timeout(mut self, timeout: Duration) -> Self {
        self.per_classifier_timeout = timeout;
        self
    }

    /// Sets the time the whole chain may take.
    pub fn total_budget(mut self, budget: Duration) -> Self {
        self.total_budget = budget;
        self
    }

    /// Number of classifiers.
    pub fn len(&self) -> usize {
        self.classifiers.len()
    }

    /// Whether the chain has no classifier.
    pub fn is_empty(&self) -> bool {
        self.classifiers.is_empty()
    }

    /// Runs the chain. Never fails.
    pub async fn run(&self, input: &ClassifyInput<'_>) -> TriageOutcome {
        let settings = &input.tenant.settings;
        let started = tokio::time::Instant::now();
        let mut fallbacks = Vec::new();
        for classifier in &self.classifiers {
            let source = classifier.source();
            if source == TriageSource::Llm && !settings.ai_autonomy.allows_ai_triage() {
                fallbacks.push(TriageFallback {
                    source,
                    reason: format!("disabled: ai autonomy is {}", settings.ai_autonomy),
                });
                continue;
            }
            let left = self.total_budget.saturating_sub(started.elapsed());
            if left.is_zero() {
                fallbacks.push(TriageFallback {
                    source,
                    reason: "timeout: chain budget spent".into(),
                });
                continue;
            }
            let limit = left.min(self.per_classifier_timeout);
            let result = match tokio::time::timeout(limit, classifier.classify(input)).await {
                Ok(result) => result,
                Err(_) => {
                    tracing::warn!(?source, ?limit, "classifier timed out; falling back");
                    fallbacks.push(TriageFallback {
                        source,
                        reason: "timeout".into(),
                    });
                    continue;
                }
            };
            let checked = result.and_then(|c| validate(input.tenant, c));
            match checked {
                Ok(c) if c.confidence >= settings.triage_confidence_threshold => {
                    let priority = c.priority.unwrap_or(settings.default_priority);
                    return TriageOutcome {
                        triage: Triage {
                            source,
                            confidence: c.confidence,
                            summary: c.summary.clone(),
                            fallbacks,
                            model: c.model.clone(),
                        },
                        priority,
                        classification: c,
                    };
                }
                Ok(c) => fallbacks.push(TriageFallback {
                    source,
                    reason: format!("low_confidence {:.2}", c.confidence),
                }),
                Err(e) => {
                    // Staff see the reason on the ticket; operators see it here.
                    tracing::warn!(?source, error = %e, "classifier failed; falling back");
                    fallbacks.push(TriageFallback {
                        source,
                        reason: e.reason(),
                    });
                }
            }
        }
        let category = settings.default_category.clone();
        TriageOutcome {
            classification: Classification {
                required_skills: skills_for_category(input.tenant, &category),
                category: Some(category),
                priority: None,
                confidence: 0.0,
                ..Classification::default()
            },
            priority: settings.default_priority,
            triage: Triage {
                source: TriageSource::Default,
                confidence: 0.0,
                summary: None,
                fallbacks,
                model: None,
            },
        }
    }
}

/// Skills the tenant maps to a category.
pub(crate) fn skills_for_category(tenant: &Tenant, category: &str) -> Vec<String> {
    tenant
        .settings
        .category_skills
        .iter()
        .find(|m| m.category == category)
        .map(|m| {
            m.skills
                .iter()
                .filter(|s| tenant.settings.skills.contains(s))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// Checks a classification against the tenant's own vocabularies: the category must be one
/// of the tenant's (or absent, then the default is used); unknown skills are dropped; the
/// confidence must be a number in 0..=1; summary and language are bounded.
fn validate(tenant: &Tenant, mut c: Classification) -> Result<Classification, ClassifyError> {
    let settings = &tenant.settings;
    if !c.confidence.is_finite() || !(0.0..=1.0).contains(&c.confidence) {
        return Err(ClassifyError::Invalid(format!(
            "confidence {} outside 0..=1",
            c.confidence
        )));
    }
    let category = match c.category.take() {
        Some(name) => {
            let name = name.trim().to_lowercase();
            if !settings.categories.contains(&name) {
                return Err(ClassifyError::Invalid(format!("unknown category {name:?}")));
            }
            name
        }
        None => settings.default_category.clone(),
    };
    let mut skills: Vec<String> = c
        .required_skills
        .iter()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| settings.skills.contains(s))
        .collect();
    if skills.is_empty() {
        skills = skills_for_category(tenant, &category);
    }
    skills.sort();
    skills.dedup();
    c.required_skills = skills;
    c.category = Some(category);
    c.summary = c
        .summary
        .map(|s| {
            s.chars()
                .filter(|ch| !ch.is_control())
                .take(200)
                .collect::<String>()
        })
        .filter(|s| !s.trim().is_empty());
    c.language = c.language.and_then(|l| {
        let l = l.trim().to_string();
        let ok = !l.is_empty()
            && l.len() <= 35
            && l.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-');
        ok.then_some(l)
    });
    Ok(c)
}
