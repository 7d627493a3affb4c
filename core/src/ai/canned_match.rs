//! Which of the desk's canned responses a ticket asks for, so a suggested reply can start
//! from the text the company wrote for that kind of request instead of from nothing.
//!
//! The match is lexical and deliberately strict: a canned response matches when at least
//! half of the significant words of its name, and at least one, appear in the request
//! (the subject and the customer's latest message), a word matching another when they
//! share their first [`STEM_CHARS`] letters ("Refund issued" matches "refunded"). Words of
//! its text break ties. A name says what the response is for, while its text is a reply
//! that shares many words with any request, so the text alone never makes a match.

use std::collections::HashSet;

use crate::domain::CannedResponse;
use crate::store::search_words;

/// Letters two words must share at their start to count as the same word.
const STEM_CHARS: usize = 5;
/// Words shorter than this say little about a request.
const MIN_WORD_CHARS: usize = 3;

/// Words of every request and every reply, which match nothing.
const STOP_WORDS: &[&str] = &[
    "about", "again", "and", "any", "are", "can", "cannot", "could", "dear", "did", "does", "for",
    "from", "get", "had", "has", "have", "hello", "help", "her", "his", "how", "its", "just",
    "not", "our", "please", "regards", "she", "thank", "thanks", "that", "the", "their", "them",
    "then", "there", "this", "was", "were", "what", "when", "where", "which", "who", "why", "will",
    "with", "would", "you", "your",
];

/// The significant word stems of a text: lowercased words of at least
/// [`MIN_WORD_CHARS`] letters that are not stop words, cut to [`STEM_CHARS`].
fn stems(text: &str) -> HashSet<String> {
    search_words(text)
        .into_iter()
        .filter(|w| w.chars().count() >= MIN_WORD_CHARS && !STOP_WORDS.contains(&w.as_str()))
        .map(|w| w.chars().take(STEM_CHARS).collect())
        .collect()
}

/// The text of a template without its `{{...}}` placeholders.
fn without_placeholders(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        match rest[open..].find("}}") {
            Some(close) => rest = &rest[open + close + 2..],
            None => {
                rest = "";
                break;
            }
        }
        out.push(' ');
    }
    out.push_str(rest);
    out
}

/// The canned response among `candidates` that `request` asks for, if one matches (see
/// the module docs); the best by the share of its name's words found, then by the words
/// of its text found, then the first.
pub(crate) fn best_canned<'a>(
    request: &str,
    candidates: &'a [CannedResponse],
) -> Option<&'a CannedResponse> {
    let asked = stems(request);
    let mut best: Option<(&CannedResponse, f64, usize)> = None;
    for canned in candidates {
        let name = stems(&canned.name);
        if name.is_empty() {
            continue;
        }
        let found = name.iter().filter(|s| asked.contains(*s)).count();
        let share = found as f64 / name.len() as f64;
        if found == 0 || share < 0.5 {
            continue;
        }
        let body = stems(&without_placeholders(&canned.body))
            .iter()
            .filter(|s| asked.contains(*s))
            .count();
        let better = match best {
            None => true,
            Some((_, s, b)) => share > s || (share == s && body > b),
        };
        if better {
            best = Some((canned, share, body));
        }
    }
    best.map(|(canned, _, _)| canned)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::CannedActions;
    use crate::{CannedResponseId, TenantId, UserId};

    fn canned(name: &str, body: &str) -> CannedResponse {
        let now = jiff::Timestamp::UNIX_EPOCH;
        CannedResponse {
            id: CannedResponseId::new(),
            tenant_id: TenantId::new(),
            owner: None,
            name: name.into(),
            body: body.into(),
            internal: false,
            actions: CannedActions::default(),
            created_by: UserId::new(),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn the_name_decides_and_word_forms_match() {
        let list = [
            canned(
                "Password reset",
                "Open Settings, then Security, {{customer.name}}.",
            ),
            canned("Refund issued", "We have refunded your payment."),
        ];
        let got = best_canned("Charged twice\nPlease refund the duplicate payment", &list);
        assert_eq!(got.map(|c| c.name.as_str()), Some("Refund issued"));
        let got = best_canned("I cannot log in, how do I reset my password?", &list);
        assert_eq!(got.map(|c| c.name.as_str()), Some("Password reset"));
    }

    #[test]
    fn shared_reply_words_alone_do_not_match() {
        let list = [canned(
            "Shipping delay",
            "Thank you for your patience, we will reply to your request soon.",
        )];
        assert!(best_canned("Thank you, please reply to my request soon", &list).is_none());
        assert!(best_canned("Hello, can you help?", &list).is_none());
        assert!(best_canned("", &list).is_none());
    }

    #[test]
    fn ties_go_to_the_text_then_the_first() {
        let list = [
            canned("Invoice copy", "Find the invoice in Billing."),
            canned(
                "Invoice address",
                "Change the address on the invoice in Billing settings.",
            ),
        ];
        let got = best_canned("Invoice settings", &list);
        assert_eq!(
            got.map(|c| c.name.as_str()),
            Some("Invoice address"),
            "by the text"
        );
        let got = best_canned("Wrong address on my invoice", &list);
        assert_eq!(got.map(|c| c.name.as_str()), Some("Invoice address"));
        let got = best_canned("Where is the invoice?", &list);
        assert_eq!(got.map(|c| c.name.as_str()), Some("Invoice copy"));
    }

    #[test]
    fn placeholders_are_not_words() {
        assert_eq!(
            without_placeholders("Hi {{customer.name}}, see {{field.plan}} {{open"),
            "Hi  , see   "
        );
    }
}
