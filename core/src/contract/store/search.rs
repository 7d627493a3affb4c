//! Full-text search over tickets: what is searched, how a match is decided, how results are
//! ranked and paged. Every backend implements [`SearchStore::search_tickets`] to these rules
//! and the conformance suite checks them; how a backend indexes (SQLite FTS5, PostgreSQL
//! text search, MongoDB word arrays) is its own business.
//!
//! # What a ticket is searched in
//!
//! A ticket's searchable texts, each a [`SearchSource`]:
//!
//! | Source | Text | Who |
//! |---|---|---|
//! | [`SearchSource::Subject`] | the subject and the description | everyone |
//! | [`SearchSource::Message`] | one public message (reply or chat turn) | everyone |
//! | [`SearchSource::Details`] | the tags and the custom field values | staff |
//! | [`SearchSource::Requester`] | the requester's name and e-mail | staff |
//! | [`SearchSource::Note`] | one internal note | staff |
//!
//! AI drafts are never searched. A query with `staff: false` searches only the first two
//! (and the service always sets `requester` for customers).
//!
//! # When a ticket matches
//!
//! Every term of the query must be found in **one** text (all terms in the same message, or
//! all in the subject and description, ...). A term is found when it is the start of a
//! word of the text, words being what [`search_words`] splits: runs of letters and digits,
//! lowercased (`refund` finds "Refunded"; `fund` does not). The requester's name and e-mail
//! are the exception: a term is found anywhere in them (`example` finds
//! `alice@example.com`, and so does `xample`), as people search addresses by any part.
//!
//! # Order
//!
//! A ticket appears once, with its best match: by [`SearchSource::rank`] (subject first,
//! notes last), then the most recently updated ticket first, then by id descending. When
//! several texts of the best source match, the hit carries the newest message (by creation
//! time, then id). Pages continue with [`SearchCursor`].

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{AssigneeFilter, Page, TimeRange};
use crate::domain::{Channel, FieldValue, Priority, Ticket, TicketStatus};
use crate::{Error, Result, TenantId, TicketId, UserId};

/// Full-text search of every tenant.
#[async_trait]
pub trait SearchStore: Send + Sync {
    /// The tickets of the tenant that match `query` (see the [module docs](self)), best match
    /// first, one page at a time.
    async fn search_tickets(
        &self,
        tenant: TenantId,
        query: &SearchQuery,
    ) -> Result<Page<SearchHit>>;
}

/// Where in a ticket a search matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SearchSource {
    /// The subject and the description.
    Subject,
    /// The tags and the custom field values (staff only).
    Details,
    /// The requester's name and e-mail (staff only).
    Requester,
    /// A public message: a reply or a chat turn.
    Message,
    /// An internal note (staff only).
    Note,
}

impl SearchSource {
    /// Every source, best first.
    pub const ALL: [Self; 5] = [
        Self::Subject,
        Self::Details,
        Self::Requester,
        Self::Message,
        Self::Note,
    ];

    /// Its rank in the order of results, lower first (0..=4).
    pub const fn rank(self) -> u8 {
        match self {
            Self::Subject => 0,
            Self::Details => 1,
            Self::Requester => 2,
            Self::Message => 3,
            Self::Note => 4,
        }
    }

    /// The source of a rank.
    pub fn from_rank(rank: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.rank() == rank)
    }

    /// Whether only staff searches look at it.
    pub const fn staff_only(self) -> bool {
        matches!(self, Self::Details | Self::Requester | Self::Note)
    }

    /// The snake_case name (`"subject"`, `"note"`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Subject => "subject",
            Self::Details => "details",
            Self::Requester => "requester",
            Self::Message => "message",
            Self::Note => "note",
        }
    }
}

/// An SLA condition on the tickets searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SlaFilter {
    /// A first-response or resolution target was missed.
    Breached,
    /// Not breached, not Resolved or Closed, its clock not paused, and a target falls at or
    /// before `by`: the first response (while nobody has answered yet) or the resolution.
    DueBy {
        /// The horizon (the service passes now plus the "due soon" window).
        by: Timestamp,
    },
}

impl SlaFilter {
    /// Whether `ticket` meets the condition (the reference the backends follow).
    pub fn keeps(&self, ticket: &Ticket) -> bool {
        let sla = &ticket.sla;
        let breached = sla.first_response_breached || sla.resolution_breached;
        match *self {
            Self::Breached => breached,
            Self::DueBy { by } => {
                let open = !matches!(ticket.status, TicketStatus::Resolved | TicketStatus::Closed);
                let first_due = ticket.first_response_at.is_none()
                    && sla.first_response_due.is_some_and(|d| d <= by);
                let resolution_due = sla.resolution_due.is_some_and(|d| d <= by);
                open && !breached && sla.paused_since.is_none() && (first_due || resolution_due)
            }
        }
    }
}

/// A search: terms and filters. Empty filters match everything.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    /// The terms, as [`search_terms`] makes them (lowercase words, at least one).
    pub terms: Vec<String>,
    /// Whether the staff-only sources are searched too.
    pub staff: bool,
    /// Only this requester's tickets (customers are always restricted to themselves by the
    /// service).
    pub requester: Option<UserId>,
    /// Any of these statuses.
    pub statuses: Vec<TicketStatus>,
    /// Any of these priorities.
    pub priorities: Vec<Priority>,
    /// The assignee.
    pub assignee: Option<AssigneeFilter>,
    /// The category.
    pub category: Option<String>,
    /// The team (its key).
    pub team: Option<String>,
    /// The channel.
    pub channel: Option<Channel>,
    /// Tickets carrying this tag (exact, as stored).
    pub tag: Option<String>,
    /// Created in this range.
    pub created: Option<TimeRange>,
    /// Last updated in this range.
    pub updated: Option<TimeRange>,
    /// An SLA condition.
    pub sla: Option<SlaFilter>,
    /// Custom field values, as [`TicketQuery::fields`](super::TicketQuery::fields).
    pub fields: Vec<String>,
    /// Page size (1..=100; 0 means the default of 25).
    pub limit: u32,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

impl SearchQuery {
    /// Largest page size.
    pub const MAX_LIMIT: u32 = 100;
    /// Page size when `limit` is 0.
    pub const DEFAULT_LIMIT: u32 = 25;

    /// The page size to use, validated.
    pub fn effective_limit(&self) -> Result<u32> {
        match self.limit {
            0 => Ok(Self::DEFAULT_LIMIT),
            n if n <= Self::MAX_LIMIT => Ok(n),
            n => Err(Error::validation(
                "limit",
                format!("{n} is more than {}", Self::MAX_LIMIT),
            )),
        }
    }

    /// Checks the terms as every backend must before using them: at least one, at most
    /// [`MAX_TERMS`], each a single lowercase word of [`search_words`] (so no operator,
    /// wildcard or quote of any backend's query syntax can reach it), each at most
    /// [`MAX_TERM_CHARS`] characters.
    pub fn check_terms(&self) -> Result<()> {
        if self.terms.is_empty() || self.terms.len() > MAX_TERMS {
            return Err(Error::validation(
                "terms",
                format!("1 to {MAX_TERMS} terms, not {}", self.terms.len()),
            ));
        }
        for term in &self.terms {
            let words = search_words(term);
            if words.len() != 1 || words[0] != *term || term.chars().count() > MAX_TERM_CHARS {
                return Err(Error::validation(
                    "terms",
                    format!("{term:?} is not one lowercase word"),
                ));
            }
        }
        Ok(())
    }

    /// The decoded cursor, if any.
    pub fn decoded_cursor(&self) -> Result<Option<SearchCursor>> {
        self.cursor.as_deref().map(SearchCursor::decode).transpose()
    }

    /// Whether `ticket` passes every filter except the terms (the reference the backends
    /// follow).
    pub fn keeps(&self, ticket: &Ticket) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&ticket.status))
            && (self.priorities.is_empty() || self.priorities.contains(&ticket.priority))
            && match self.assignee {
                None => true,
                Some(AssigneeFilter::Unassigned) => ticket.assignee.is_none(),
                Some(AssigneeFilter::User(u)) => ticket.assignee == Some(u),
            }
            && self.requester.is_none_or(|r| ticket.requester == r)
            && self
                .category
                .as_ref()
                .is_none_or(|c| ticket.category.as_ref() == Some(c))
            && self
                .team
                .as_ref()
                .is_none_or(|t| ticket.team.as_ref() == Some(t))
            && self.channel.is_none_or(|c| ticket.channel == c)
            && self.tag.as_ref().is_none_or(|t| ticket.tags.contains(t))
            && self.created.is_none_or(|r| r.contains(ticket.created_at))
            && self.updated.is_none_or(|r| r.contains(ticket.updated_at))
            && self.sla.is_none_or(|s| s.keeps(ticket))
            && has_field_tokens(ticket, &self.fields)
    }

    /// Whether every term is found in `text` as the start of one of its words.
    pub fn found_in_words(&self, text: &str) -> bool {
        let words = search_words(text);
        self.terms
            .iter()
            .all(|term| words.iter().any(|w| w.starts_with(term.as_str())))
    }

    /// Whether every term is found anywhere in `text` (case-insensitively): the rule for the
    /// requester's name and e-mail.
    pub fn found_anywhere(&self, text: &str) -> bool {
        let folded = text.to_lowercase();
        self.terms.iter().all(|term| folded.contains(term.as_str()))
    }
}

/// One search result from a store: the ticket, where it matched best, and that text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The ticket.
    pub ticket: Ticket,
    /// Its best match.
    pub source: SearchSource,
    /// The text that matched: the subject and description joined by a newline, the message
    /// or note body, the tags and field values joined by spaces (`tags` first, in their
    /// order), or `"Name <email>"`.
    pub text: String,
}

/// The position after which the next page starts: the sort key of the last hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchCursor {
    /// [`SearchSource::rank`] of the last hit.
    pub rank: u8,
    /// Its ticket's update time, in milliseconds since the epoch.
    pub updated_ms: i64,
    /// Its ticket's id.
    pub id: TicketId,
}

impl SearchCursor {
    /// The cursor after `hit`.
    pub fn after(hit: &SearchHit) -> Self {
        Self {
            rank: hit.source.rank(),
            updated_ms: hit.ticket.updated_at.as_millisecond(),
            id: hit.ticket.id,
        }
    }

    /// The opaque string form.
    pub fn encode(&self) -> String {
        format!("s{}.{}.{}", self.rank, self.updated_ms, self.id)
    }

    /// Parses a cursor.
    pub fn decode(text: &str) -> Result<Self> {
        let bad = || Error::validation("cursor", "not a cursor of this search");
        let rest = text.strip_prefix('s').ok_or_else(bad)?;
        let mut parts = rest.splitn(3, '.');
        let rank: u8 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let updated_ms: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let id: TicketId = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
        if SearchSource::from_rank(rank).is_none() {
            return Err(bad());
        }
        Ok(Self {
            rank,
            updated_ms,
            id,
        })
    }

    /// Whether a hit with this sort key comes strictly after the cursor.
    pub fn is_before(&self, rank: u8, updated_ms: i64, id: TicketId) -> bool {
        rank > self.rank
            || (rank == self.rank
                && (updated_ms < self.updated_ms
                    || (updated_ms == self.updated_ms && id < self.id)))
    }

    /// The update time as a timestamp.
    pub fn updated_at(&self) -> Result<Timestamp> {
        Timestamp::from_millisecond(self.updated_ms)
            .map_err(|_| Error::validation("cursor", "timestamp out of range"))
    }
}

/// Whether `ticket` has every one of `tokens` among its
/// [`field_tokens`](crate::domain::field_tokens) (the reference for the field filters).
pub fn has_field_tokens(ticket: &Ticket, tokens: &[String]) -> bool {
    if tokens.is_empty() {
        return true;
    }
    let own = crate::domain::field_tokens(&ticket.custom_fields);
    tokens.iter().all(|t| own.contains(t))
}

/// Orders hits best first (the reference order the backends follow).
pub fn compare_hits(a: &SearchHit, b: &SearchHit) -> std::cmp::Ordering {
    a.source
        .rank()
        .cmp(&b.source.rank())
        .then(b.ticket.updated_at.cmp(&a.ticket.updated_at))
        .then(b.ticket.id.cmp(&a.ticket.id))
}

/// The words of a text as search sees them: maximal runs of letters and digits
/// (`char::is_alphanumeric`), lowercased. Backends that keep word lists (MongoDB) store
/// exactly these.
pub fn search_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The text of [`SearchSource::Subject`]: the subject and the description joined by a
/// newline.
pub fn subject_text(ticket: &Ticket) -> String {
    format!("{}\n{}", ticket.subject, ticket.description)
}

/// The text of [`SearchSource::Details`]: the tags, then the custom field values (by
/// field key; a checkbox's value is not text and is left out), joined by spaces.
pub fn details_text(ticket: &Ticket) -> String {
    let values = ticket.custom_fields.values().filter_map(|v| match v {
        FieldValue::Bool(_) => None,
        other => Some(other.canonical().join(" ")),
    });
    ticket
        .tags
        .iter()
        .cloned()
        .chain(values)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text of [`SearchSource::Requester`]: `"Name <email>"`.
pub fn requester_text(name: &str, email: &str) -> String {
    format!("{name} <{email}>")
}

/// Most terms a query may have.
pub const MAX_TERMS: usize = 8;
/// Longest term, in characters.
pub const MAX_TERM_CHARS: usize = 64;

/// The terms of what a person typed: its words ([`search_words`]), each once, in order.
/// Refuses text without a letter or digit, more than [`MAX_TERMS`] distinct words, or a
/// word longer than [`MAX_TERM_CHARS`], naming the field `q`.
pub fn search_terms(text: &str) -> Result<Vec<String>> {
    let mut terms: Vec<String> = Vec::new();
    for word in search_words(text) {
        if word.chars().count() > MAX_TERM_CHARS {
            return Err(Error::validation(
                "q",
                format!("a word is longer than {MAX_TERM_CHARS} characters"),
            ));
        }
        if !terms.contains(&word) {
            terms.push(word);
        }
    }
    if terms.is_empty() {
        return Err(Error::validation("q", "type a word to search for"));
    }
    if terms.len() > MAX_TERMS {
        return Err(Error::validation(
            "q",
            format!("at most {MAX_TERMS} different words"),
        ));
    }
    Ok(terms)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn words_are_runs_of_letters_and_digits_lowercased() {
        assert_eq!(
            search_words("Refund-policy: alice@Example.com, 2 × Größe"),
            ["refund", "policy", "alice", "example", "com", "2", "größe"]
        );
    }

    #[test]
    fn terms_are_distinct_words_and_bounded() {
        assert_eq!(
            search_terms("Refund refund, card!").unwrap(),
            ["refund", "card"]
        );
        assert!(search_terms(" -- ").is_err());
        assert!(search_terms("a b c d e f g h i").is_err());
        assert!(search_terms(&"x".repeat(65)).is_err());
        for bad in [vec![], vec!["Refund"], vec!["a b"], vec!["re*"], vec![""]] {
            let q = SearchQuery {
                terms: bad.iter().map(|t| (*t).to_string()).collect(),
                ..SearchQuery::default()
            };
            assert!(q.check_terms().is_err(), "{bad:?}");
        }
        let q = SearchQuery {
            terms: vec!["größe".into(), "2".into()],
            ..SearchQuery::default()
        };
        assert!(q.check_terms().is_ok());
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let c = SearchCursor {
            rank: 3,
            updated_ms: 1_700_000_000_000,
            id: TicketId::new(),
        };
        assert_eq!(SearchCursor::decode(&c.encode()).unwrap(), c);
        for bad in ["", "p1.2.3", "s9.1.x", "s1.x", &format!("s7.1.{}", c.id)] {
            assert!(SearchCursor::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn words_match_at_their_start_and_the_requester_anywhere() {
        let q = SearchQuery {
            terms: vec!["refund".into(), "card".into()],
            ..SearchQuery::default()
        };
        assert!(q.found_in_words("Please REFUNDED my cards"));
        assert!(!q.found_in_words("prefund card"));
        assert!(!q.found_in_words("refund only"));
        let q = SearchQuery {
            terms: vec!["xample".into()],
            ..SearchQuery::default()
        };
        assert!(q.found_anywhere("Alice <alice@EXAMPLE.com>"));
    }
}
