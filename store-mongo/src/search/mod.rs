//! Full-text search ([`SearchStore`]): the word arrays of `words`, read one source at a
//! time in the contract's order.
//!
//! Hits are ordered by source rank first, so each source is one query of its own that
//! returns at most one page (`limit + 1` tickets) after the cursor, sorted by `updated_at`
//! and id descending; the page is the sources' results in rank order, cut. A ticket is a
//! hit of a source only when no better source matches it, which each query says as a
//! condition on the ticket document (`$nor` of the better sources' terms), so no ticket
//! appears twice and nothing has to be collected whole first:
//!
//! | Rank | Source | Query |
//! |---|---|---|
//! | 0 | subject and description | tickets: `search_subject` (index `tenant_search_subject`) |
//! | 1 | tags and field values | tickets: `search_details` (`tenant_search_details`), not 0 |
//! | 2 | requester | users: `search_requester` (`tenant_search_requester`); then their tickets, not 0 or 1 |
//! | 3 | replies and chat turns | messages: `search_body` (`tenant_search_body`); then their tickets, not 0 to 2 |
//! | 4 | notes | as 3, tickets with no matching reply or chat turn |
//!
//! (sources 1, 2 and 4 for staff only). Every ticket query carries the filters of
//! [`SearchQuery::keeps`] (`filters`). The messages are reduced by the server to the newest
//! matching one per ticket and kind of source, which is what a hit shows.
//!
//! Round trips: the first queries (sources 0 and 1, the matching users, the matching
//! messages, and the tenant's pending commits) are sent together; the tickets of sources 2
//! to 4 follow together, only when sources 0 and 1 did not fill the page; then the bodies
//! of the page's message hits, only when there are some. A search is therefore one to three
//! round trips of latency. A pending commit found by the first round (its writer stopped
//! before copying its messages, normally none) is applied and the first round read again
//! (a few round trips more), so an acknowledged message is always searched.

pub(crate) mod filters;
pub(crate) mod words;

use std::collections::HashMap;

use async_trait::async_trait;
use bson::{Document, doc};
use futures_util::TryStreamExt;
use helpdesk_core::domain::{MessageKind, Ticket};
use helpdesk_core::store::{
    Page, SearchCursor, SearchHit, SearchQuery, SearchSource, SearchStore, details_text,
    requester_text, subject_text,
};
use helpdesk_core::{Result, TenantId};

use self::filters::{after_cursor, anywhere_in, hit_order, not_all, terms_on, ticket_filter};
use self::words::{BODY_WORDS, DETAILS_WORDS, REQUESTER_TEXT, SUBJECT_WORDS};
use crate::codec::{Reader, serde_name};
use crate::error::{driver, unexpected};
use crate::fields::FIELD_TOKENS;
use crate::mapping::ticket_from;
use crate::schema::{MESSAGES, TICKETS, USERS};
use crate::store::MongoStore;

/// A person whose name or e-mail holds every term.
struct Person {
    id: String,
    name: String,
    email: String,
}

/// The newest matching message of each ticket, per kind of source (ids as stored).
#[derive(Default)]
struct MessageMatches {
    /// Ticket id -> message id, replies and chat turns.
    public: HashMap<String, String>,
    /// Ticket id -> message id, notes (staff only).
    notes: HashMap<String, String>,
}

/// What the first round found.
struct FirstRound {
    /// Hits of sources 0 and 1, in order.
    hits: Vec<(SearchSource, Ticket)>,
    people: Vec<Person>,
    messages: MessageMatches,
}

/// One search: the tenant, the query, its decoded cursor and how many hits to read.
struct Search<'a> {
    tenant: TenantId,
    query: &'a SearchQuery,
    cursor: Option<SearchCursor>,
    /// `limit + 1`: one more than a page tells whether there is a next one.
    fetch: usize,
}

impl Search<'_> {
    fn subject_terms(&self) -> Vec<Document> {
        terms_on(SUBJECT_WORDS, &self.query.terms)
    }

    fn details_terms(&self) -> Vec<Document> {
        terms_on(DETAILS_WORDS, &self.query.terms)
    }

    /// The filter of source `source`'s tickets: `own` (what makes a ticket a hit of it),
    /// not a hit of a better source (`better`), after the cursor and kept by the query's
    /// filters; `None` when the cursor is past the whole source.
    fn filter(
        &self,
        source: SearchSource,
        own: Vec<Document>,
        better: Vec<Document>,
    ) -> Result<Option<Document>> {
        let Some(cut) = after_cursor(source.rank(), self.cursor.as_ref()) else {
            return Ok(None);
        };
        let mut all = own;
        all.extend(better);
        all.extend(cut);
        ticket_filter(self.tenant, self.query, all).map(Some)
    }

    /// The conditions that keep out the hits of sources 0 to 2 (0 only for customers).
    fn not_before_messages(&self, people: &[Person]) -> Vec<Document> {
        let mut better = vec![not_all(self.subject_terms())];
        if self.query.staff {
            better.push(not_all(self.details_terms()));
            if !people.is_empty() {
                let ids: Vec<&str> = people.iter().map(|p| p.id.as_str()).collect();
                better.push(doc! { "requester": { "$nin": ids } });
            }
        }
        better
    }
}

#[async_trait]
impl SearchStore for MongoStore {
    /// See the module docs of `search`.
    async fn search_tickets(
        &self,
        tenant: TenantId,
        query: &SearchQuery,
    ) -> Result<Page<SearchHit>> {
        query.check_terms()?;
        let limit = query.effective_limit()? as usize;
        let search = Search {
            tenant,
            query,
            cursor: query.decoded_cursor()?,
            fetch: limit + 1,
        };
        let tenant_scope = doc! { "tenant_id": tenant.to_string() };
        let (settled, mut first) =
            tokio::try_join!(self.settle(tenant_scope), self.first_round(&search))?;
        if settled {
            first = self.first_round(&search).await?;
        }
        let mut hits = first.hits;
        if hits.len() < search.fetch {
            hits.extend(
                self.second_round(&search, &first.people, &first.messages)
                    .await?,
            );
        }
        let more = hits.len() > limit;
        hits.truncate(limit);
        let items = self
            .with_texts(tenant, hits, &first.people, &first.messages)
            .await?;
        let next_cursor = if more {
            items.last().map(|h| SearchCursor::after(h).encode())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }
}

impl MongoStore {
    /// Sources 0 and 1, the people and the messages that match, together.
    async fn first_round(&self, s: &Search<'_>) -> Result<FirstRound> {
        let subject = s.filter(SearchSource::Subject, s.subject_terms(), Vec::new())?;
        let details = if s.query.staff {
            s.filter(
                SearchSource::Details,
                s.details_terms(),
                vec![not_all(s.subject_terms())],
            )?
        } else {
            None
        };
        let (subject, details, people, messages) = tokio::try_join!(
            self.hit_tickets(subject, s.fetch),
            self.hit_tickets(details, s.fetch),
            self.matching_people(s),
            self.matching_messages(s),
        )?;
        let hits = (subject.into_iter().map(|t| (SearchSource::Subject, t)))
            .chain(details.into_iter().map(|t| (SearchSource::Details, t)))
            .take(s.fetch)
            .collect();
        Ok(FirstRound {
            hits,
            people,
            messages,
        })
    }

    /// Sources 2 to 4, together, in rank order.
    async fn second_round(
        &self,
        s: &Search<'_>,
        people: &[Person],
        messages: &MessageMatches,
    ) -> Result<Vec<(SearchSource, Ticket)>> {
        let requester = if s.query.staff && !people.is_empty() {
            let ids: Vec<&str> = people.iter().map(|p| p.id.as_str()).collect();
            s.filter(
                SearchSource::Requester,
                vec![doc! { "requester": { "$in": ids } }],
                vec![not_all(s.subject_terms()), not_all(s.details_terms())],
            )?
        } else {
            None
        };
        let of_tickets = |ids: Vec<&String>| doc! { "_id": { "$in": ids } };
        let public = if messages.public.is_empty() {
            None
        } else {
            s.filter(
                SearchSource::Message,
                vec![of_tickets(messages.public.keys().collect())],
                s.not_before_messages(people),
            )?
        };
        let only_notes: Vec<&String> = messages
            .notes
            .keys()
            .filter(|t| !messages.public.contains_key(*t))
            .collect();
        let notes = if only_notes.is_empty() {
            None
        } else {
            s.filter(
                SearchSource::Note,
                vec![of_tickets(only_notes)],
                s.not_before_messages(people),
            )?
        };
        let (requester, public, notes) = tokio::try_join!(
            self.hit_tickets(requester, s.fetch),
            self.hit_tickets(public, s.fetch),
            self.hit_tickets(notes, s.fetch),
        )?;
        Ok(
            (requester.into_iter().map(|t| (SearchSource::Requester, t)))
                .chain(public.into_iter().map(|t| (SearchSource::Message, t)))
                .chain(notes.into_iter().map(|t| (SearchSource::Note, t)))
                .collect(),
        )
    }

    /// The tickets `filter` keeps, in hit order, at most `fetch`; none without a filter.
    /// The words and the pending commit are not sent back.
    async fn hit_tickets(&self, filter: Option<Document>, fetch: usize) -> Result<Vec<Ticket>> {
        let Some(filter) = filter else {
            return Ok(Vec::new());
        };
        let docs: Vec<Document> = self
            .coll(TICKETS)
            .find(filter)
            .sort(hit_order())
            .limit(i64::try_from(fetch).unwrap_or(i64::MAX))
            .projection(doc! {
                "pending": 0, SUBJECT_WORDS: 0, DETAILS_WORDS: 0, FIELD_TOKENS: 0,
            })
            .await
            .map_err(driver)?
            .try_collect()
            .await
            .map_err(driver)?;
        docs.iter().map(ticket_from).collect()
    }

    /// The tenant's users whose name or e-mail holds every term (staff searches only).
    async fn matching_people(&self, s: &Search<'_>) -> Result<Vec<Person>> {
        if !s.query.staff {
            return Ok(Vec::new());
        }
        let filter = doc! {
            "tenant_id": s.tenant.to_string(),
            "$and": anywhere_in(REQUESTER_TEXT, &s.query.terms),
        };
        let docs: Vec<Document> = self
            .coll(USERS)
            .find(filter)
            .projection(doc! { "name": 1, "email": 1 })
            .await
            .map_err(driver)?
            .try_collect()
            .await
            .map_err(driver)?;
        docs.iter()
            .map(|d| {
                let r = Reader::new(d, USERS);
                Ok(Person {
                    id: r.str("_id")?.to_owned(),
                    name: r.str("name")?.to_owned(),
                    email: r.str("email")?.to_owned(),
                })
            })
            .collect()
    }

    /// The newest matching message of each ticket of the tenant, per kind of source: one
    /// aggregation that matches on the words index and groups by ticket on the server.
    async fn matching_messages(&self, s: &Search<'_>) -> Result<MessageMatches> {
        let message_ranks = [SearchSource::Message, SearchSource::Note];
        if message_ranks
            .iter()
            .all(|r| after_cursor(r.rank(), s.cursor.as_ref()).is_none())
        {
            return Ok(MessageMatches::default());
        }
        let mut kinds = MessageKind::CUSTOMER_VISIBLE.to_vec();
        if s.query.staff {
            kinds.push(MessageKind::Note);
        }
        let kinds = kinds
            .iter()
            .map(|k| serde_name(k, "message kind"))
            .collect::<Result<Vec<_>>>()?;
        let note = serde_name(&MessageKind::Note, "message kind")?;
        let pipeline = vec![
            doc! { "$match": {
                "tenant_id": s.tenant.to_string(),
                "kind": { "$in": kinds },
                "$and": terms_on(BODY_WORDS, &s.query.terms),
            } },
            doc! { "$sort": { "created_at": -1, "_id": -1 } },
            doc! { "$group": {
                "_id": { "ticket": "$ticket_id", "note": { "$eq": ["$kind", note] } },
                "message": { "$first": "$_id" },
            } },
        ];
        let mut found = MessageMatches::default();
        for d in self.aggregate(MESSAGES, pipeline).await? {
            let r = Reader::new(&d, MESSAGES);
            let key = r.doc("_id")?;
            let ticket = key.str("ticket")?.to_owned();
            let message = r.str("message")?.to_owned();
            let of = if key.bool("note")? {
                &mut found.notes
            } else {
                &mut found.public
            };
            of.insert(ticket, message);
        }
        Ok(found)
    }

    /// The hits with their texts: the message bodies of the message hits are read (one
    /// query), the other texts are made from the ticket and the person.
    async fn with_texts(
        &self,
        tenant: TenantId,
        hits: Vec<(SearchSource, Ticket)>,
        people: &[Person],
        messages: &MessageMatches,
    ) -> Result<Vec<SearchHit>> {
        let message_of = |source: SearchSource, ticket: &Ticket| {
            let of = match source {
                SearchSource::Message => &messages.public,
                _ => &messages.notes,
            };
            of.get(&ticket.id.to_string())
        };
        let wanted: Vec<&String> = hits
            .iter()
            .filter(|(s, _)| matches!(s, SearchSource::Message | SearchSource::Note))
            .filter_map(|(s, t)| message_of(*s, t))
            .collect();
        let mut bodies: HashMap<String, String> = HashMap::new();
        if !wanted.is_empty() {
            let filter = doc! { "tenant_id": tenant.to_string(), "_id": { "$in": wanted } };
            let docs: Vec<Document> = self
                .coll(MESSAGES)
                .find(filter)
                .projection(doc! { "body": 1 })
                .await
                .map_err(driver)?
                .try_collect()
                .await
                .map_err(driver)?;
            for d in &docs {
                let r = Reader::new(d, MESSAGES);
                bodies.insert(r.str("_id")?.to_owned(), r.str("body")?.to_owned());
            }
        }
        hits.into_iter()
            .map(|(source, ticket)| {
                let text = match source {
                    SearchSource::Subject => subject_text(&ticket),
                    SearchSource::Details => details_text(&ticket),
                    SearchSource::Requester => {
                        let requester = ticket.requester.to_string();
                        let person = people
                            .iter()
                            .find(|p| p.id == requester)
                            .ok_or_else(|| unexpected("a requester hit without its person"))?;
                        requester_text(&person.name, &person.email)
                    }
                    _ => message_of(source, &ticket)
                        .and_then(|id| bodies.get(id))
                        .cloned()
                        .ok_or_else(|| unexpected("a message hit without its message"))?,
                };
                Ok(SearchHit {
                    ticket,
                    source,
                    text,
                })
            })
            .collect()
    }
}
