//! What full-text search indexes: the words of each searchable text, computed here with
//! core's [`search_words`] and stored as string arrays on the documents, written by the
//! write that changes the text.
//!
//! | Field | Document | Text | Index |
//! |---|---|---|---|
//! | `search_subject` | ticket | [`subject_text`] | `tenant_search_subject` |
//! | `search_details` | ticket | [`details_text`] (tags, field values) | `tenant_search_details` |
//! | `search_body` | message (reply, chat, note) | the body | `tenant_search_body` |
//! | `search_requester` | user | [`requester_text`], lowercased | `tenant_search_requester` |
//!
//! A words array holds a text's distinct words in order of first appearance, each cut to
//! [`MAX_TERM_CHARS`] characters: no term is longer, so whether a term starts a word is
//! decided by the word's first characters. A query term `t` matches the array when an
//! element matches the anchored regular expression `^t` (the term escaped): that is the
//! word-start rule, and a prefix MongoDB bounds an index on the array with. MongoDB's own
//! `$text` is not used: its stemming and stop words would find `refunds` for `refunding`
//! and never find `the`, and its tokenizer is not core's.
//!
//! The requester's name and e-mail are matched anywhere (a substring rule), so the user
//! document keeps the one lowercased string core's
//! [`SearchQuery::found_anywhere`](helpdesk_core::store::SearchQuery::found_anywhere) looks
//! in, and a term matches it by an unanchored pattern.

use std::collections::HashSet;

use bson::Bson;
use helpdesk_core::domain::{Message, MessageKind, Ticket, User};
use helpdesk_core::store::{
    MAX_TERM_CHARS, details_text, requester_text, search_words, subject_text,
};

/// The ticket document's words of the subject and description.
pub(crate) const SUBJECT_WORDS: &str = "search_subject";
/// The ticket document's words of the tags and custom field values.
pub(crate) const DETAILS_WORDS: &str = "search_details";
/// The message document's words of the body.
pub(crate) const BODY_WORDS: &str = "search_body";
/// The user document's lowercased `"Name <email>"`.
pub(crate) const REQUESTER_TEXT: &str = "search_requester";

/// The messages search looks at (AI drafts are never searched, so never indexed).
pub(crate) const INDEXED_KINDS: [MessageKind; 3] =
    [MessageKind::Reply, MessageKind::Chat, MessageKind::Note];

/// Most bytes one words array may take in its document, counting what BSON spends per
/// element (type, index key, length, terminator). Words after that are not indexed: a
/// text whose words alone would fill a good part of the 16 MB document (which also holds
/// the ticket's pending commit) is not something people search word by word.
pub(crate) const MAX_WORDS_BYTES: usize = 512 * 1024;

/// What BSON spends on one array element besides the word's bytes: type (1), index key
/// with its terminator (at most 7 for the indexes this array can reach), string length
/// (4) and terminator (1).
const ELEMENT_BYTES: usize = 13;

/// The words array of `text` (see the module docs).
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    let mut bytes = 0;
    for word in search_words(text) {
        let word = match word.char_indices().nth(MAX_TERM_CHARS) {
            Some((end, _)) => word[..end].to_owned(),
            None => word,
        };
        if seen.contains(&word) {
            continue;
        }
        bytes += word.len() + ELEMENT_BYTES;
        if bytes > MAX_WORDS_BYTES {
            break;
        }
        seen.insert(word.clone());
        out.push(word);
    }
    out
}

/// `search_subject` of a ticket.
pub(crate) fn subject_words(ticket: &Ticket) -> Vec<String> {
    words(&subject_text(ticket))
}

/// `search_details` of a ticket (rewritten by every write, so it follows the tags and the
/// field values).
pub(crate) fn details_words(ticket: &Ticket) -> Vec<String> {
    words(&details_text(ticket))
}

/// `search_body` of a message of `kind`; `None` for a kind that is not searched (a draft
/// carries no words, so no search finds it).
pub(crate) fn body_words(kind: MessageKind, body: &str) -> Option<Vec<String>> {
    INDEXED_KINDS.contains(&kind).then(|| words(body))
}

/// `search_body` of a message as a BSON value (`None`: the document has no such field).
pub(crate) fn message_words(message: &Message) -> Option<Bson> {
    body_words(message.kind, &message.body).map(Bson::from)
}

/// `search_requester` of a user: core's requester text, lowercased as core lowercases it.
pub(crate) fn requester_folded(name: &str, email: &str) -> String {
    requester_text(name, email).to_lowercase()
}

/// `search_requester` of a user.
pub(crate) fn user_requester(user: &User) -> String {
    requester_folded(&user.name, &user.email)
}

/// The anchored pattern of a term on a words array: `^` and the term with every ASCII
/// punctuation character escaped. Terms are checked single words of letters and digits
/// before they get here (`SearchQuery::check_terms`), so nothing is escaped in practice;
/// the escape is what keeps a term literal if that check ever lets more through.
pub(crate) fn prefix_pattern(term: &str) -> String {
    format!("^{}", crate::codec::regex_literal(term))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn words_are_cores_distinct_and_cut_to_the_longest_term() {
        assert_eq!(
            words("Refund-policy: REFUND alice@Example.com, 2 × Größe"),
            ["refund", "policy", "alice", "example", "com", "2", "größe"]
        );
        assert!(words(" -- ").is_empty());
        let long = "é".repeat(MAX_TERM_CHARS + 10);
        assert_eq!(
            words(&format!("a {long} b")),
            ["a".to_owned(), "é".repeat(MAX_TERM_CHARS), "b".to_owned()]
        );
    }

    #[test]
    fn words_stop_before_the_byte_limit() {
        let text: Vec<String> = (0..100_000).map(|i| format!("w{i:07}")).collect();
        let w = words(&text.join(" "));
        let bytes: usize = w.iter().map(|w| w.len() + ELEMENT_BYTES).sum();
        assert!(bytes <= MAX_WORDS_BYTES);
        assert!(bytes > MAX_WORDS_BYTES - 30);
        assert_eq!(w[..2], ["w0000000", "w0000001"]);
        // The estimate holds: the array's BSON is within the limit.
        let d = bson::doc! { "w": w };
        let encoded = bson::to_vec(&d).unwrap();
        assert!(encoded.len() <= MAX_WORDS_BYTES + 16, "{}", encoded.len());
    }

    #[test]
    fn drafts_have_no_words_and_the_requester_is_folded() {
        assert_eq!(body_words(MessageKind::Draft, "Refund"), None);
        assert_eq!(body_words(MessageKind::Note, "Refund").unwrap(), ["refund"]);
        assert_eq!(
            requester_folded("ZOË Quinn", "Zoe@Quinn-Mail.test"),
            "zoë quinn <zoe@quinn-mail.test>"
        );
    }

    #[test]
    fn patterns_are_anchored_and_literal() {
        assert_eq!(prefix_pattern("refund"), "^refund");
        assert_eq!(prefix_pattern("größe"), "^größe");
        assert_eq!(prefix_pattern("a.b(*$"), r"^a\.b\(\*\$");
    }
}
