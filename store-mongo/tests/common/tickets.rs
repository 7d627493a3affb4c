//! Tickets, messages and field values for the search and custom field tests, and the
//! searches and listings they check.

use std::collections::BTreeMap;

use bson::Document;
use futures_util::TryStreamExt;
use helpdesk_core::domain::{
    AuthorKind, Event, EventKind, FieldValue, Message, MessageKind, Ticket,
};
use helpdesk_core::store::{
    SearchQuery, SearchSource, SearchStore, TicketQuery, TicketStore, TicketWrite,
};
use helpdesk_core::testkit::fixtures::{at, change};
use helpdesk_core::{EventId, MessageId, TenantId, TicketId};
use helpdesk_store_mongo::MongoStore;

/// Field values from `(key, value)` pairs.
pub(crate) fn values(pairs: &[(&str, FieldValue)]) -> BTreeMap<String, FieldValue> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

/// `w` with its ticket's tags and field values, in its `Created` event too.
pub(crate) fn with(
    mut w: TicketWrite,
    tags: Vec<String>,
    fields: BTreeMap<String, FieldValue>,
) -> TicketWrite {
    w.ticket.tags = tags;
    w.ticket.custom_fields = fields;
    if let Some(EventKind::Created { ticket }) = w.events.first_mut().map(|e| &mut e.kind) {
        **ticket = w.ticket.clone();
    }
    w
}

/// A staff (or customer) search for `terms`.
pub(crate) fn query(terms: &[&str], staff: bool) -> SearchQuery {
    SearchQuery {
        terms: terms.iter().map(|t| (*t).to_string()).collect(),
        staff,
        ..SearchQuery::default()
    }
}

/// The tickets and sources of a staff search's first page.
pub(crate) async fn found(
    store: &MongoStore,
    tenant: TenantId,
    terms: &[&str],
) -> Vec<(TicketId, SearchSource)> {
    let page = store
        .search_tickets(tenant, &query(terms, true))
        .await
        .expect("search");
    page.items.iter().map(|h| (h.ticket.id, h.source)).collect()
}

/// The tickets of a listing's first page filtered on field tokens.
pub(crate) async fn listed(store: &MongoStore, tenant: TenantId, tokens: &[&str]) -> Vec<TicketId> {
    let query = TicketQuery {
        fields: tokens.iter().map(|t| (*t).to_owned()).collect(),
        ..TicketQuery::default()
    };
    let page = store.list_tickets(tenant, &query).await.expect("list");
    page.items.iter().map(|t| t.id).collect()
}

/// A message of `ticket`, `second` seconds after minute 1,000.
pub(crate) fn message(ticket: &Ticket, kind: MessageKind, body: &str, second: i64) -> Message {
    Message {
        id: MessageId::new(),
        tenant_id: ticket.tenant_id,
        ticket_id: ticket.id,
        author: None,
        author_kind: AuthorKind::Agent,
        kind,
        body: body.into(),
        created_at: at(1_000) + jiff::SignedDuration::from_secs(second),
        citations: Vec::new(),
        email: None,
        draft: None,
    }
}

/// Sets the events of `write` to the `MessageAdded` events of its messages.
pub(crate) fn message_events(write: &mut TicketWrite) {
    write.events = write
        .messages
        .iter()
        .map(|m| Event {
            id: EventId::new(),
            tenant_id: write.ticket.tenant_id,
            ticket_id: write.ticket.id,
            version: write.ticket.version,
            at: write.ticket.updated_at,
            actor: None,
            kind: EventKind::MessageAdded {
                message_id: m.id,
                kind: m.kind,
                author_kind: m.author_kind,
            },
        })
        .collect();
}

/// Adds messages to `ticket` and returns the stored ticket.
pub(crate) async fn post(
    store: &MongoStore,
    ticket: &Ticket,
    minute: i64,
    posts: &[(MessageKind, &str)],
) -> Ticket {
    let mut write = change(ticket, Vec::new(), at(minute), None);
    write.messages = posts
        .iter()
        .enumerate()
        .map(|(i, (kind, body))| message(ticket, *kind, body, i as i64))
        .collect();
    message_events(&mut write);
    store
        .update_ticket(ticket.version, &write)
        .await
        .expect("post the messages");
    store
        .get_ticket(ticket.tenant_id, ticket.id)
        .await
        .expect("read the ticket")
        .expect("the ticket")
}

/// Every document of the store's `collection` matching `filter`, as stored.
pub(crate) async fn all(store: &MongoStore, collection: &str, filter: Document) -> Vec<Document> {
    store
        .database()
        .collection::<Document>(&store.collection_name(collection))
        .find(filter)
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("read the documents")
}
