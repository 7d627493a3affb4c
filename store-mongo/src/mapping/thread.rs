//! Documents that hang off tickets and tenants: events, messages, outbox entries,
//! articles and chat sessions.

use bson::{Bson, Document, doc};
use helpdesk_core::Result;
use helpdesk_core::domain::{Article, ChatSession, DraftInfo, Event, Message, OutboxEntry};

use crate::codec::{Reader, date, int, opt_date, opt_string, to_bson};
use crate::schema::{ARTICLES, CHAT_SESSIONS, EVENTS, MESSAGES, OUTBOX};
use crate::search::words::{BODY_WORDS, message_words};

/// An event document; `seq` is its position in its commit (events sort by version, seq).
pub(crate) fn event_doc(e: &Event, seq: usize) -> Result<Document> {
    Ok(doc! {
        "_id": e.id.to_string(),
        "tenant_id": e.tenant_id.to_string(),
        "ticket_id": e.ticket_id.to_string(),
        "version": int(e.version, "events.version")?,
        "seq": int(seq as u64, "events.seq")?,
        "at": date(e.at),
        "actor": opt_string(e.actor),
        "type": e.kind.name(),
        "kind": to_bson(&e.kind, "event kind")?,
    })
}

/// Reads an event document.
pub(crate) fn event_from(d: &Document) -> Result<Event> {
    let r = Reader::new(d, EVENTS);
    Ok(Event {
        id: r.parse("_id")?,
        tenant_id: r.parse("tenant_id")?,
        ticket_id: r.parse("ticket_id")?,
        version: r.u64("version")?,
        at: r.time("at")?,
        actor: r.opt_parse("actor")?,
        kind: r.serde("kind")?,
    })
}

/// A message document; `ticket_version` is the ticket version of the commit that wrote it
/// (a stale re-application never overwrites a newer revision).
pub(crate) fn message_doc(m: &Message, ticket_version: u64) -> Result<Document> {
    let draft = match &m.draft {
        Some(d) => Bson::Document(draft_doc(d)?),
        None => Bson::Null,
    };
    let mut d = doc! {
        "_id": m.id.to_string(),
        "tenant_id": m.tenant_id.to_string(),
        "ticket_id": m.ticket_id.to_string(),
        "author": opt_string(m.author),
        "author_kind": to_bson(&m.author_kind, "author kind")?,
        "kind": to_bson(&m.kind, "message kind")?,
        "body": &m.body,
        "created_at": date(m.created_at),
        "citations": to_bson(&m.citations, "citations")?,
        "draft": draft,
        "email": match &m.email {
            Some(headers) => to_bson(headers, "email headers")?,
            None => Bson::Null,
        },
        "ticket_version": int(ticket_version, "version")?,
    };
    // The words of a searched message travel with it (in the ticket's pending commit, then
    // in its own document); a draft has none.
    if let Some(words) = message_words(m) {
        d.insert(BODY_WORDS, words);
    }
    Ok(d)
}

fn draft_doc(d: &DraftInfo) -> Result<Document> {
    Ok(doc! {
        "source": to_bson(&d.source, "draft source")?,
        "state": to_bson(&d.state, "draft state")?,
        "decided_at": opt_date(d.decided_at),
        "sent_as": opt_string(d.sent_as),
        "model": opt_string(d.model.as_deref()),
    })
}

/// Reads a message document.
pub(crate) fn message_from(d: &Document) -> Result<Message> {
    let r = Reader::new(d, MESSAGES);
    let draft = match r.opt_doc("draft")? {
        Some(dr) => Some(DraftInfo {
            source: dr.serde("source")?,
            state: dr.serde("state")?,
            decided_at: dr.opt_time("decided_at")?,
            sent_as: dr.opt_parse("sent_as")?,
            model: dr.opt_string("model")?,
        }),
        None => None,
    };
    Ok(Message {
        id: r.parse("_id")?,
        tenant_id: r.parse("tenant_id")?,
        ticket_id: r.parse("ticket_id")?,
        author: r.opt_parse("author")?,
        author_kind: r.serde("author_kind")?,
        kind: r.serde("kind")?,
        body: r.str("body")?.to_string(),
        created_at: r.time("created_at")?,
        citations: r.serde("citations")?,
        draft,
        // Absent in messages written before the e-mail channel, null in others.
        email: r.opt_serde::<Option<_>>("email")?.flatten(),
    })
}

/// An outbox document.
pub(crate) fn outbox_doc(o: &OutboxEntry) -> Result<Document> {
    Ok(doc! {
        "_id": o.id.to_string(),
        "tenant_id": o.tenant_id.to_string(),
        "ticket_id": o.notification.ticket_id.to_string(),
        "kind": o.notification.kind.name(),
        "notification": to_bson(&o.notification, "notification")?,
        "created_at": date(o.created_at),
        "attempts": i64::from(o.attempts),
        "next_attempt_at": date(o.next_attempt_at),
        "delivered_at": opt_date(o.delivered_at),
        "last_error": o.last_error.as_deref().map_or(Bson::Null, |e| Bson::String(e.to_string())),
    })
}

/// Reads an outbox document.
pub(crate) fn outbox_from(d: &Document) -> Result<OutboxEntry> {
    let r = Reader::new(d, OUTBOX);
    Ok(OutboxEntry {
        id: r.parse("_id")?,
        tenant_id: r.parse("tenant_id")?,
        notification: r.serde("notification")?,
        created_at: r.time("created_at")?,
        attempts: r.u32("attempts")?,
        next_attempt_at: r.time("next_attempt_at")?,
        delivered_at: r.opt_time("delivered_at")?,
        last_error: r.opt_string("last_error")?,
    })
}

/// An article document.
pub(crate) fn article_doc(a: &Article) -> Result<Document> {
    Ok(doc! {
        "_id": a.id.to_string(),
        "tenant_id": a.tenant_id.to_string(),
        "title": &a.title,
        "body": &a.body,
        "tags": &a.tags,
        "created_at": date(a.created_at),
        "updated_at": date(a.updated_at),
        "version": int(a.version, "version")?,
    })
}

/// Reads an article document.
pub(crate) fn article_from(d: &Document) -> Result<Article> {
    let r = Reader::new(d, ARTICLES);
    Ok(Article {
        id: r.parse("_id")?,
        tenant_id: r.parse("tenant_id")?,
        title: r.str("title")?.to_string(),
        body: r.str("body")?.to_string(),
        tags: r.strings("tags")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
        version: r.u64("version")?,
    })
}

/// A chat-session document.
pub(crate) fn chat_doc(s: &ChatSession) -> Result<Document> {
    Ok(doc! {
        "_id": s.id.to_string(),
        "tenant_id": s.tenant_id.to_string(),
        "customer": s.customer.to_string(),
        "ticket_id": opt_string(s.ticket_id),
        "state": to_bson(&s.state, "chat state")?,
        "handoff_reason": s.handoff_reason.as_deref().map_or(Bson::Null, |h| Bson::String(h.to_string())),
        "resolved_by_bot": s.resolved_by_bot,
        "created_at": date(s.created_at),
        "last_activity_at": date(s.last_activity_at),
        "closed_at": opt_date(s.closed_at),
        "version": int(s.version, "version")?,
    })
}

/// Reads a chat-session document.
pub(crate) fn chat_from(d: &Document) -> Result<ChatSession> {
    let r = Reader::new(d, CHAT_SESSIONS);
    Ok(ChatSession {
        id: r.parse("_id")?,
        tenant_id: r.parse("tenant_id")?,
        customer: r.parse("customer")?,
        ticket_id: r.opt_parse("ticket_id")?,
        state: r.serde("state")?,
        handoff_reason: r.opt_string("handoff_reason")?,
        resolved_by_bot: r.bool("resolved_by_bot")?,
        created_at: r.time("created_at")?,
        last_activity_at: r.time("last_activity_at")?,
        closed_at: r.opt_time("closed_at")?,
        version: r.u64("version")?,
    })
}
