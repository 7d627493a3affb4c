//! Triage by a language model.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;

use super::schema::NO_OPTION;
use super::{output, prompts};
use crate::LanguageModel;
use crate::domain::{FieldKind, Priority, Sentiment, TriageSource};
use crate::triage::{Classification, Classifier, ClassifyError, ClassifyInput};

/// A [`Classifier`] that asks a language model for summary, category, priority, required
/// skills, sentiment, language and confidence, with a JSON schema built from the tenant's
/// own vocabularies ([`super::schema::triage_schema`]).
///
/// The answer is checked strictly: invalid or truncated JSON, missing or unknown fields, a
/// safety block or a timeout are [`ClassifyError::Model`]; a value outside the tenant's
/// categories, skills, the priority or sentiment enums is [`ClassifyError::Invalid`]. The
/// [`ClassifierChain`](crate::triage::ClassifierChain) records either as the reason and
/// falls through to the next classifier.
///
/// ```
/// use std::sync::Arc;
/// use helpdesk_core::ai::LlmClassifier;
/// use helpdesk_core::testkit::MockLanguageModel;
/// use helpdesk_core::triage::{ClassifierChain, RuleClassifier};
/// let model = Arc::new(MockLanguageModel::new([]));
/// let chain = ClassifierChain::new()
///     .with(Arc::new(LlmClassifier::new(model)))
///     .with(Arc::new(RuleClassifier::new()));
/// assert_eq!(chain.len(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct LlmClassifier {
    model: Arc<dyn LanguageModel>,
}

impl LlmClassifier {
    /// A classifier over `model`.
    pub fn new(model: Arc<dyn LanguageModel>) -> Self {
        Self { model }
    }
}

/// The model's answer; every field is required and no other field is allowed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TriageAnswer {
    summary: String,
    category: String,
    priority: String,
    required_skills: Vec<String>,
    sentiment: String,
    language: String,
    confidence: f32,
    /// Present when the tenant has dropdown custom fields.
    #[serde(default)]
    fields: std::collections::BTreeMap<String, String>,
}

fn one_of(field: &str, value: &str, allowed: &[String]) -> Result<String, ClassifyError> {
    let v = value.trim().to_lowercase();
    if allowed.contains(&v) {
        Ok(v)
    } else {
        let shown: String = value.chars().take(40).collect();
        Err(ClassifyError::Invalid(format!(
            "{field} {shown:?} is not an allowed value"
        )))
    }
}

/// Checks an answer against the tenant's vocabularies and the enums.
fn check(answer: TriageAnswer, input: &ClassifyInput<'_>) -> Result<Classification, ClassifyError> {
    let settings = &input.tenant.settings;
    let category = one_of("category", &answer.category, &settings.categories)?;
    let priority: Priority = answer
        .priority
        .parse()
        .map_err(|_| ClassifyError::Invalid(format!("priority {:?}", short(&answer.priority))))?;
    let sentiment: Sentiment = answer
        .sentiment
        .parse()
        .map_err(|_| ClassifyError::Invalid(format!("sentiment {:?}", short(&answer.sentiment))))?;
    let skills = answer
        .required_skills
        .iter()
        .map(|s| one_of("required skill", s, &settings.skills))
        .collect::<Result<Vec<_>, _>>()?;
    if !answer.confidence.is_finite() || !(0.0..=1.0).contains(&answer.confidence) {
        return Err(ClassifyError::Invalid(format!(
            "confidence {} outside 0..=1",
            answer.confidence
        )));
    }
    let fields = check_fields(&answer.fields, settings)?;
    Ok(Classification {
        fields,
        summary: Some(answer.summary),
        category: Some(category),
        priority: Some(priority),
        required_skills: skills,
        sentiment: Some(sentiment),
        language: Some(answer.language),
        confidence: answer.confidence,
        model: None,
    })
}

/// The dropdown values of an answer: every key a dropdown field of the tenant, every
/// value one of its options (as the option is written) or [`NO_OPTION`] (left out).
fn check_fields(
    answer: &std::collections::BTreeMap<String, String>,
    settings: &crate::domain::TenantSettings,
) -> Result<std::collections::BTreeMap<String, String>, ClassifyError> {
    let mut out = std::collections::BTreeMap::new();
    for (key, value) in answer {
        let def = settings
            .custom_fields
            .iter()
            .find(|d| d.key == *key && matches!(d.kind, FieldKind::Dropdown { .. }))
            .ok_or_else(|| {
                ClassifyError::Invalid(format!("field {:?} is not a dropdown", short(key)))
            })?;
        let wanted = value.trim().to_lowercase();
        match def
            .kind
            .options()
            .iter()
            .find(|o| o.to_lowercase() == wanted)
        {
            Some(option) => {
                out.insert(key.clone(), option.clone());
            }
            None if wanted == NO_OPTION => {}
            None => {
                return Err(ClassifyError::Invalid(format!(
                    "field {key} {:?} is not an allowed value",
                    short(value)
                )));
            }
        }
    }
    Ok(out)
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

#[async_trait]
impl Classifier for LlmClassifier {
    fn source(&self) -> TriageSource {
        TriageSource::Llm
    }

    async fn classify(&self, input: &ClassifyInput<'_>) -> Result<Classification, ClassifyError> {
        let request =
            prompts::triage_request(&input.tenant.settings, input.subject, input.description);
        let model = input.usage.metered(self.model.as_ref());
        let (text, answered_by) = output::generate_answer(&model, &request).await?;
        let answer: TriageAnswer = output::parse_strict(&text)?;
        let mut classification = check(answer, input)?;
        classification.model = Some(answered_by);
        Ok(classification)
    }
}
