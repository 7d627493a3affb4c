//! Full-text search of the in-memory store: a scan that follows the reference rules of
//! [`crate::store::SearchStore`] literally.

use async_trait::async_trait;

use super::{Data, MemoryStore};
use crate::domain::{MessageKind, Ticket};
use crate::store::{
    Page, SearchCursor, SearchHit, SearchQuery, SearchSource, SearchStore, compare_hits,
    details_text, requester_text, subject_text,
};
use crate::{Result, TenantId};

/// The best match of `ticket`, if it matches.
fn best_match(d: &Data, ticket: &Ticket, query: &SearchQuery) -> Option<(SearchSource, String)> {
    let subject = subject_text(ticket);
    if query.found_in_words(&subject) {
        return Some((SearchSource::Subject, subject));
    }
    if query.staff {
        let details = details_text(ticket);
        if query.found_in_words(&details) {
            return Some((SearchSource::Details, details));
        }
        if let Some(user) = d
            .users
            .iter()
            .find(|u| u.tenant_id == ticket.tenant_id && u.id == ticket.requester)
        {
            let text = requester_text(&user.name, &user.email);
            if query.found_anywhere(&text) {
                return Some((SearchSource::Requester, text));
            }
        }
    }
    let newest_match = |kind: MessageKind| {
        d.messages
            .iter()
            .filter(|m| m.ticket_id == ticket.id && m.tenant_id == ticket.tenant_id)
            .filter(|m| {
                m.kind == kind || (kind == MessageKind::Reply && m.kind == MessageKind::Chat)
            })
            .filter(|m| query.found_in_words(&m.body))
            .max_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)))
            .map(|m| m.body.clone())
    };
    if let Some(body) = newest_match(MessageKind::Reply) {
        return Some((SearchSource::Message, body));
    }
    if query.staff
        && let Some(body) = newest_match(MessageKind::Note)
    {
        return Some((SearchSource::Note, body));
    }
    None
}

#[async_trait]
impl SearchStore for MemoryStore {
    async fn search_tickets(
        &self,
        tenant: TenantId,
        query: &SearchQuery,
    ) -> Result<Page<SearchHit>> {
        query.check_terms()?;
        let limit = query.effective_limit()? as usize;
        let cursor = query.decoded_cursor()?;
        let d = self.lock()?;
        let mut hits: Vec<SearchHit> = d
            .tickets
            .values()
            .filter(|t| t.tenant_id == tenant && query.keeps(t))
            .filter_map(|t| {
                let (source, text) = best_match(&d, t, query)?;
                Some(SearchHit {
                    ticket: t.clone(),
                    source,
                    text,
                })
            })
            .filter(|h| {
                cursor.is_none_or(|c| {
                    c.is_before(
                        h.source.rank(),
                        h.ticket.updated_at.as_millisecond(),
                        h.ticket.id,
                    )
                })
            })
            .collect();
        drop(d);
        hits.sort_by(compare_hits);
        let more = hits.len() > limit;
        hits.truncate(limit);
        let next_cursor = if more {
            hits.last().map(|h| SearchCursor::after(h).encode())
        } else {
            None
        };
        Ok(Page {
            items: hits,
            next_cursor,
        })
    }
}
