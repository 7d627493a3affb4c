//! The keyword rule classifier.

use async_trait::async_trait;

use super::{Classification, Classifier, ClassifyError, ClassifyInput};
use crate::domain::{TriageRule, TriageSource};

/// Classifies by the tenant's keyword rules ([`TriageRule`] in its settings): every rule
/// with a phrase found in the subject or description (case-insensitive, on word
/// boundaries) votes; the highest matching priority wins, the category with most votes
/// wins (ties: first rule), skills are the union.
///
/// Confidence grows with the number of matching rules: 0.6 for one, 0.7 for two, up to 0.9.
#[derive(Debug, Clone, Default)]
pub struct RuleClassifier {
    extra_rules: Vec<TriageRule>,
}

impl RuleClassifier {
    /// A classifier using only each tenant's own rules.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds rules applied to every tenant after its own.
    pub fn with_rules(mut self, rules: Vec<TriageRule>) -> Self {
        self.extra_rules = rules;
        self
    }
}

/// Whether `phrase` occurs in `haystack` (both already lowercased) on Unicode word
/// boundaries: the characters just before and after the match are not
/// [word characters](is_word_char), so punctuation of any script (`—`, `…`, `«»`, a no-break
/// space) separates words exactly like ASCII punctuation does.
pub(crate) fn contains_phrase(haystack: &str, phrase: &str) -> bool {
    if phrase.is_empty() {
        return false;
    }
    let mut start = 0;
    while let Some(pos) = haystack[start..].find(phrase) {
        let begin = start + pos;
        let end = begin + phrase.len();
        let before_ok = !haystack[..begin]
            .chars()
            .next_back()
            .is_some_and(is_word_char);
        let after_ok = !haystack[end..].chars().next().is_some_and(is_word_char);
        if before_ok && after_ok {
            return true;
        }
        start = begin + phrase.chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// A word character in the Unicode sense of `\w` (UTS #18): letters and numbers of any
/// script, combining marks (a decomposed `é` stays one word), the connector `_` and the
/// zero-width joiners.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
        || c == '_'
        || matches!(
            c,
            '\u{0300}'..='\u{036F}'
                | '\u{1AB0}'..='\u{1AFF}'
                | '\u{1DC0}'..='\u{1DFF}'
                | '\u{20D0}'..='\u{20FF}'
                | '\u{FE20}'..='\u{FE2F}'
                | '\u{200C}'
                | '\u{200D}'
        )
}

#[async_trait]
impl Classifier for RuleClassifier {
    fn source(&self) -> TriageSource {
        TriageSource::Rules
    }

    async fn classify(&self, input: &ClassifyInput<'_>) -> Result<Classification, ClassifyError> {
        let text = format!("{}\n{}", input.subject, input.description).to_lowercase();
        let mut matched = 0usize;
        let mut result = Classification::default();
        let mut votes: Vec<(String, usize)> = Vec::new();
        for rule in input
            .tenant
            .settings
            .triage_rules
            .iter()
            .chain(&self.extra_rules)
        {
            let hit = rule
                .phrases
                .iter()
                .any(|p| contains_phrase(&text, &p.trim().to_lowercase()));
            if !hit {
                continue;
            }
            matched += 1;
            if let Some(p) = rule.priority
                && result.priority.is_none_or(|cur| p.rank() > cur.rank())
            {
                result.priority = Some(p);
            }
            if let Some(c) = &rule.category {
                match votes.iter_mut().find(|(name, _)| name == c) {
                    Some((_, n)) => *n += 1,
                    None => votes.push((c.clone(), 1)),
                }
            }
            for skill in &rule.skills {
                if !result.required_skills.contains(skill) {
                    result.required_skills.push(skill.clone());
                }
            }
        }
        if matched == 0 {
            return Err(ClassifyError::NoMatch);
        }
        let mut best: Option<(String, usize)> = None;
        for (name, n) in votes {
            if best.as_ref().is_none_or(|(_, b)| n > *b) {
                best = Some((name, n));
            }
        }
        result.category = best.map(|(name, _)| name);
        result.confidence = (0.5 + 0.1 * matched as f32).min(0.9);
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::contains_phrase;

    #[test]
    fn phrases_match_on_word_boundaries_only() {
        assert!(contains_phrase("my printer is not working", "not working"));
        assert!(contains_phrase("refund!", "refund"));
        assert!(!contains_phrase("refunded twice", "refund"));
        assert!(!contains_phrase("terror", "error"));
        assert!(contains_phrase("an error, again", "error"));
        assert!(!contains_phrase("anything", ""));
    }

    #[test]
    fn typographic_punctuation_separates_words() {
        assert!(contains_phrase("total outage—nothing loads", "outage"));
        assert!(contains_phrase("outage… again", "outage"));
        assert!(contains_phrase("an\u{a0}outage\u{a0}today", "outage"));
        assert!(contains_phrase("«outage»", "outage"));
        assert!(contains_phrase("„refund“ bitte", "refund"));
        assert!(contains_phrase("outage。", "outage"));
        // Letters of other scripts and combining marks still join a word.
        assert!(!contains_phrase("outageé", "outage"));
        assert!(!contains_phrase("café\u{301}", "caf"));
        assert!(!contains_phrase("пароль", "паро"));
        assert!(contains_phrase("сброс пароля", "сброс"));
    }
}
