//! Tickets: the commit protocol, listings and analytics.

mod analytics;
mod batch;
mod commit;
mod erasure;
mod listing;
pub(crate) mod routing_claim;
mod session_commit;

use async_trait::async_trait;
use bson::{Bson, doc};
use helpdesk_core::analytics::Analytics;
use helpdesk_core::domain::{Event, Message, Ticket};
use helpdesk_core::store::{MessageFilter, Page, TicketQuery, TicketStore, TicketWrite, TimeRange};
use helpdesk_core::{MessageId, Result, TenantId, TicketId, UserId};
use jiff::Timestamp;
use mongodb::options::ReturnDocument;

use crate::codec::{Reader, at_most, int, to_bson};
use crate::error::{driver, is_duplicate_key, unexpected};
use crate::mapping::{event_from, message_from, ticket_from};
use crate::schema::{COUNTERS, EVENTS, MESSAGES, TICKETS};
use crate::store::MongoStore;

/// Rounds of "increment, else create the counter" (two suffice; the rest is slack).
const COUNTER_ATTEMPTS: usize = 4;

#[async_trait]
impl TicketStore for MongoStore {
    /// Two writes: the tenant's counter is incremented, then the ticket is committed
    /// (see the crate docs). A create that fails after the increment (a used idempotency
    /// key, a session already linked, a lost connection) leaves a gap in the numbers;
    /// a number is never handed out twice.
    async fn create_ticket(&self, mut write: TicketWrite) -> Result<TicketWrite> {
        let number = self.allocate_number(write.ticket.tenant_id).await?;
        write.set_ticket_number(number);
        self.commit_create(&write).await?;
        Ok(write)
    }

    /// Replaces the ticket document whatever `previous` holds (checked for its id, tenant
    /// and version only): a document write costs the same for one field or all of them.
    async fn update_ticket(&self, expected_version: u64, write: &TicketWrite) -> Result<()> {
        write.check_previous(expected_version)?;
        self.commit_update(expected_version, write).await
    }

    /// Every version-guarded ticket update in one multi-document transaction (see the
    /// `batch` module); events, messages and outbox entries follow as in `update_ticket`.
    async fn update_tickets(&self, writes: &[(u64, TicketWrite)]) -> Result<()> {
        self.commit_updates(writes).await
    }

    async fn get_ticket(&self, tenant: TenantId, id: TicketId) -> Result<Option<Ticket>> {
        self.find_one(
            TICKETS,
            doc! { "_id": id.to_string(), "tenant_id": tenant.to_string() },
        )
        .await?
        .map(|d| ticket_from(&d))
        .transpose()
    }

    async fn get_ticket_by_number(&self, tenant: TenantId, number: u64) -> Result<Option<Ticket>> {
        let Ok(number) = i64::try_from(number) else {
            return Ok(None);
        };
        self.find_one(
            TICKETS,
            doc! { "tenant_id": tenant.to_string(), "number": number },
        )
        .await?
        .map(|d| ticket_from(&d))
        .transpose()
    }

    async fn find_by_idempotency_key(
        &self,
        tenant: TenantId,
        key: &str,
    ) -> Result<Option<TicketId>> {
        let found = self
            .coll(TICKETS)
            .find_one(doc! { "tenant_id": tenant.to_string(), "idempotency_key": key })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(driver)?;
        found
            .map(|d| Reader::new(&d, TICKETS).parse("_id"))
            .transpose()
    }

    async fn list_tickets(&self, tenant: TenantId, query: &TicketQuery) -> Result<Page<Ticket>> {
        self.list(tenant, query).await
    }

    /// `count_documents` with the listing's own filter (see `listing`).
    async fn count_tickets(&self, tenant: TenantId, query: &TicketQuery) -> Result<u64> {
        self.count(tenant, query).await
    }

    async fn open_ticket_counts(&self, tenant: TenantId) -> Result<Vec<(UserId, u64)>> {
        self.open_counts(tenant).await
    }

    async fn sla_due_tickets(
        &self,
        tenant: TenantId,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Ticket>> {
        self.sla_due(tenant, now, limit).await
    }

    async fn list_events(&self, tenant: TenantId, ticket: TicketId) -> Result<Vec<Event>> {
        let Some(version) = self.settled_version(tenant, ticket).await? else {
            return Ok(Vec::new());
        };
        // Only events up to the version read: a commit landing meanwhile is not half-seen.
        let filter = doc! {
            "tenant_id": tenant.to_string(),
            "ticket_id": ticket.to_string(),
            "version": at_most(int(version, "version")?),
        };
        self.find_all(EVENTS, filter, doc! { "version": 1, "seq": 1 }, 0)
            .await?
            .iter()
            .map(event_from)
            .collect()
    }

    /// Pending commits of the tenant are applied first, so every committed event is there;
    /// a commit landing meanwhile shows up on a later read (the feed's look-back catches it).
    async fn list_tenant_events(
        &self,
        tenant: TenantId,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<Event>> {
        self.settle(doc! { "tenant_id": tenant.to_string() })
            .await?;
        let filter = doc! {
            "tenant_id": tenant.to_string(),
            "at": { "$gte": crate::codec::date(since) },
        };
        self.find_all(
            EVENTS,
            filter,
            doc! { "at": 1, "_id": 1 },
            i64::from(limit.max(1)),
        )
        .await?
        .iter()
        .map(event_from)
        .collect()
    }

    /// Filtered by the server: drafts and notes a filter drops are not sent to be dropped.
    async fn list_messages(
        &self,
        tenant: TenantId,
        ticket: TicketId,
        filter: MessageFilter,
    ) -> Result<Vec<Message>> {
        self.thread(tenant, ticket, filter).await
    }

    async fn get_message(&self, tenant: TenantId, id: MessageId) -> Result<Option<Message>> {
        self.settle(doc! { "tenant_id": tenant.to_string() })
            .await?;
        self.find_one(
            MESSAGES,
            doc! { "_id": id.to_string(), "tenant_id": tenant.to_string() },
        )
        .await?
        .map(|d| message_from(&d))
        .transpose()
    }

    async fn analytics(
        &self,
        tenant: TenantId,
        range: TimeRange,
        now: Timestamp,
    ) -> Result<Analytics> {
        self.settle(doc! { "tenant_id": tenant.to_string() })
            .await?;
        self.compute_analytics(tenant, range, now).await
    }
}

impl MongoStore {
    /// Increments the tenant's ticket counter (creating it on the tenant's first ticket)
    /// and returns the new number.
    async fn allocate_number(&self, tenant: TenantId) -> Result<u64> {
        let id = tenant.to_string();
        for _ in 0..COUNTER_ATTEMPTS {
            let bumped = self
                .coll(COUNTERS)
                .find_one_and_update(
                    doc! { "_id": &id, "tenant_id": &id },
                    doc! { "$inc": { "last_number": 1_i64 } },
                )
                .return_document(ReturnDocument::After)
                .await
                .map_err(driver)?;
            if let Some(d) = bumped {
                return Reader::new(&d, COUNTERS).u64("last_number");
            }
            // First allocation of the tenant: create the counter, then increment it. The
            // counter is created apart from the increment (not by an upsert) so that racing
            // first allocations only race on this insert, where losing is harmless.
            let counter = doc! { "_id": &id, "tenant_id": &id, "last_number": 0_i64 };
            match self.coll(COUNTERS).insert_one(counter).await {
                Ok(_) => {}
                Err(e) if is_duplicate_key(&e) => {}
                Err(e) => return Err(driver(e)),
            }
        }
        Err(unexpected(
            "a ticket counter that is neither found nor creatable",
        ))
    }

    /// A ticket's messages in creation order, only the kinds `filter` keeps (filtered by
    /// the server).
    async fn thread(
        &self,
        tenant: TenantId,
        ticket: TicketId,
        filter: MessageFilter,
    ) -> Result<Vec<Message>> {
        if self.settled_version(tenant, ticket).await?.is_none() {
            return Ok(Vec::new());
        }
        let mut query = doc! { "tenant_id": tenant.to_string(), "ticket_id": ticket.to_string() };
        if let Some(kinds) = filter.kinds() {
            let kinds = kinds
                .iter()
                .map(|k| to_bson(k, "message kind"))
                .collect::<Result<Vec<_>>>()?;
            query.insert("kind", doc! { "$in": kinds });
        }
        self.find_all(MESSAGES, query, doc! { "created_at": 1, "_id": 1 }, 0)
            .await?
            .iter()
            .map(message_from)
            .collect()
    }

    /// The ticket's version after applying its pending commit, if it has one; `None` when
    /// the ticket does not exist in the tenant.
    pub(crate) async fn settled_version(
        &self,
        tenant: TenantId,
        ticket: TicketId,
    ) -> Result<Option<u64>> {
        let found = self
            .coll(TICKETS)
            .find_one(doc! { "_id": ticket.to_string(), "tenant_id": tenant.to_string() })
            .projection(doc! { "version": 1, "pending": 1 })
            .await
            .map_err(driver)?;
        let Some(d) = found else { return Ok(None) };
        if let Some(Bson::Document(p)) = d.get("pending") {
            self.apply_pending(&ticket.to_string(), p).await?;
        }
        Reader::new(&d, TICKETS).u64("version").map(Some)
    }
}
