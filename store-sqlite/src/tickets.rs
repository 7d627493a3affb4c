//! Tickets with their events, messages, outbox entries and idempotency keys.

use async_trait::async_trait;
use helpdesk_core::analytics::Analytics;
use helpdesk_core::domain::{Csat, Event, Message, SlaState, Ticket};
use helpdesk_core::store::{
    MessageFilter, Page, TicketQuery, TicketStore, TicketWrite, TimeRange, check_ticket_batch,
};
use helpdesk_core::{DuplicateKind, Error, MessageId, Result, TenantId, TicketId, UserId};
use jiff::Timestamp;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqlitePool, Transaction};

use crate::codec::{Columns, enum_str, ms, to_id};
use crate::error::db;
use crate::sql::Sql;
use crate::ticket_append::append;
use crate::ticket_row::insert_ticket;
use crate::ticket_update::update_in_tx;
use crate::{SqliteStore, commit};

/// The ticket columns `ticket_from` reads (by name).
macro_rules! ticket_columns {
    () => {
        "id, tenant_id, number, requester, assignee, subject, description, status, priority, \
         category, tags, required_skills, sentiment, language, channel, created_at, updated_at, \
         first_response_at, resolved_at, closed_at, sla_first_response_due, sla_resolution_due, \
         sla_first_response_breached, sla_resolution_breached, sla_paused_since, triage, \
         merged_into, follow_up_of, csat_score, csat_comment, csat_at, custom_fields, team, erased_at, \
         version"
    };
}
pub(crate) use ticket_columns;

macro_rules! message_columns {
    () => {
        "id, tenant_id, ticket_id, author, author_kind, kind, body, created_at, citations, draft, \
         email"
    };
}

pub(crate) fn ticket_from(row: &SqliteRow) -> Result<Ticket> {
    let c = Columns(row);
    let csat = match c.opt_i64("csat_score")? {
        None => None,
        Some(score) => Some(Csat {
            score: u8::try_from(score)
                .map_err(|e| crate::error::SqliteError::corrupt("csat_score", e))?,
            comment: c.opt_text("csat_comment")?,
            at: c.ts("csat_at")?,
        }),
    };
    Ok(Ticket {
        id: c.id("id")?,
        tenant_id: c.id("tenant_id")?,
        number: c.u64("number")?,
        requester: c.id("requester")?,
        assignee: c.opt_id("assignee")?,
        subject: c.text("subject")?,
        description: c.text("description")?,
        status: c.parsed("status")?,
        priority: c.parsed("priority")?,
        category: c.opt_text("category")?,
        tags: c.json("tags")?,
        required_skills: c.json("required_skills")?,
        sentiment: c.opt_parsed("sentiment")?,
        language: c.opt_text("language")?,
        channel: c.parsed("channel")?,
        created_at: c.ts("created_at")?,
        updated_at: c.ts("updated_at")?,
        first_response_at: c.opt_ts("first_response_at")?,
        resolved_at: c.opt_ts("resolved_at")?,
        closed_at: c.opt_ts("closed_at")?,
        sla: SlaState {
            first_response_due: c.opt_ts("sla_first_response_due")?,
            resolution_due: c.opt_ts("sla_resolution_due")?,
            first_response_breached: c.bool("sla_first_response_breached")?,
            resolution_breached: c.bool("sla_resolution_breached")?,
            paused_since: c.opt_ts("sla_paused_since")?,
        },
        triage: c.opt_json("triage")?,
        merged_into: c.opt_id("merged_into")?,
        follow_up_of: c.opt_id("follow_up_of")?,
        csat,
        custom_fields: c.json("custom_fields")?,
        team: c.opt_text("team")?,
        erased_at: c.opt_ts("erased_at")?,
        version: c.u64("version")?,
    })
}

fn event_from(row: &SqliteRow) -> Result<Event> {
    let c = Columns(row);
    Ok(Event {
        id: c.id("id")?,
        tenant_id: c.id("tenant_id")?,
        ticket_id: c.id("ticket_id")?,
        version: c.u64("version")?,
        at: c.ts("at")?,
        actor: c.opt_id("actor")?,
        kind: c.json("payload")?,
    })
}

fn message_from(row: &SqliteRow) -> Result<Message> {
    let c = Columns(row);
    Ok(Message {
        id: c.id("id")?,
        tenant_id: c.id("tenant_id")?,
        ticket_id: c.id("ticket_id")?,
        author: c.opt_id("author")?,
        author_kind: c.serde_enum("author_kind")?,
        kind: c.serde_enum("kind")?,
        body: c.text("body")?,
        created_at: c.ts("created_at")?,
        citations: c.json("citations")?,
        draft: c.opt_json("draft")?,
        email: c.opt_json("email")?,
    })
}

/// Events, messages and outbox entries must belong to the ticket's tenant (and events to
/// the ticket), as in the reference store.
pub(crate) fn check_write(write: &TicketWrite) -> Result<()> {
    let t = &write.ticket;
    let foreign = write
        .events
        .iter()
        .any(|e| e.tenant_id != t.tenant_id || e.ticket_id != t.id)
        || write.messages.iter().any(|m| m.tenant_id != t.tenant_id)
        || write.outbox.iter().any(|o| o.tenant_id != t.tenant_id);
    if foreign {
        return Err(Error::validation(
            "write",
            "events, messages and outbox entries must belong to the ticket's tenant",
        ));
    }
    write.check_attachments()?;
    write.check_routing()
}

/// A ticket's messages in creation order, only the kinds `filter` keeps (filtered in the
/// query, so drafts and notes are neither decoded nor sent when they are not wanted).
async fn thread(
    sql: &Sql,
    pool: &SqlitePool,
    tenant: TenantId,
    ticket: TicketId,
    filter: MessageFilter,
) -> Result<Vec<Message>> {
    let mut query = QueryBuilder::<Sqlite>::new(sql.text(concat!(
        "SELECT ",
        message_columns!(),
        " FROM helpdesk_messages WHERE ticket_id = "
    )));
    query.push_bind(ticket.to_string());
    query.push(" AND tenant_id = ");
    query.push_bind(tenant.to_string());
    if let Some(kinds) = filter.kinds() {
        query.push(" AND kind IN (");
        let mut list = query.separated(", ");
        for kind in kinds {
            list.push_bind(enum_str(kind, "kind")?);
        }
        query.push(")");
    }
    query.push(" ORDER BY created_at, id");
    query
        .build()
        .fetch_all(pool)
        .await
        .map_err(db)?
        .iter()
        .map(message_from)
        .collect()
}

/// Runs an `EXISTS` query with two text parameters inside `tx`.
pub(crate) async fn exists(
    sql: &Sql,
    tx: &mut Transaction<'static, Sqlite>,
    statement: &'static str,
    first: String,
    second: String,
) -> Result<bool> {
    sqlx::query_scalar(sql.text(statement))
        .bind(first)
        .bind(second)
        .fetch_one(&mut **tx)
        .await
        .map_err(db)
}

/// One ticket of a tenant by id (`get_ticket`, and the stored row an update compares with).
pub(crate) const SELECT_TICKET: &str = concat!(
    "SELECT ",
    ticket_columns!(),
    " FROM helpdesk_tickets WHERE tenant_id = ? AND id = ?"
);

/// Open tickets per assignee; the `WHERE` terms repeat the partial index
/// `tickets_open_by_assignee` (migration 3) exactly, so SQLite reads only that index.
pub(crate) const OPEN_TICKET_COUNTS: &str = "SELECT assignee, count(*) FROM helpdesk_tickets \
     WHERE tenant_id = ? AND assignee IS NOT NULL AND status NOT IN ('resolved', 'closed') \
     GROUP BY assignee";

/// A tenant's events from a time on, in (at, id) order: the event feed's read (index
/// `events_tenant_feed`, migration 5, read in order, no sort).
pub(crate) const TENANT_EVENTS: &str = "SELECT id, tenant_id, ticket_id, version, at, actor, payload FROM helpdesk_events \
     WHERE tenant_id = ? AND at >= ? ORDER BY at, id LIMIT ?";

/// Advances the tenant's ticket counter and returns the new number.
async fn allocate_number(
    sql: &Sql,
    tx: &mut Transaction<'static, Sqlite>,
    tenant: TenantId,
) -> Result<u64> {
    let n: i64 = sqlx::query_scalar(sql.text(
        "INSERT INTO helpdesk_ticket_counters (tenant_id, last_number) VALUES (?, 1) \
         ON CONFLICT (tenant_id) DO UPDATE SET last_number = last_number + 1 \
         RETURNING last_number",
    ))
    .bind(tenant.to_string())
    .fetch_one(&mut **tx)
    .await
    .map_err(db)?;
    u64::try_from(n).map_err(|e| crate::error::SqliteError::corrupt("last_number", e).into())
}

/// Inserts a new ticket with everything in `write` inside the caller's transaction: a used
/// idempotency key, id or number is a `Duplicate` error (the caller rolls back).
async fn insert_new_ticket(
    sql: &Sql,
    tx: &mut Transaction<'static, Sqlite>,
    write: &TicketWrite,
) -> Result<()> {
    let t = &write.ticket;
    if let Some(key) = &write.idempotency_key {
        let used = exists(
            sql,
            tx,
            "SELECT EXISTS (SELECT 1 FROM helpdesk_idempotency_keys WHERE tenant_id = ? AND key = ?)",
            t.tenant_id.to_string(),
            key.clone(),
        )
        .await?;
        if used {
            return Err(Error::Duplicate {
                kind: DuplicateKind::IdempotencyKey,
                value: key.clone(),
            });
        }
    }
    // The table's UNIQUE constraints decide a used id or number (no lookups first); the
    // message names the columns of the constraint that failed.
    insert_ticket(sql, t)?
        .build()
        .execute(&mut **tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::UniqueViolation => {
                if d.message().contains("tickets.number") {
                    Error::Duplicate {
                        kind: DuplicateKind::TicketNumber,
                        value: t.number.to_string(),
                    }
                } else {
                    Error::Duplicate {
                        kind: DuplicateKind::Id,
                        value: t.id.to_string(),
                    }
                }
            }
            _ => db(e),
        })?;
    append(sql, tx, write).await
}

#[async_trait]
impl TicketStore for SqliteStore {
    /// Allocates the number and writes the ticket in one transaction: one commit (one WAL
    /// fsync) per opened ticket, and a failed create rolls the counter back too (no gap).
    async fn create_ticket(&self, mut write: TicketWrite) -> Result<TicketWrite> {
        check_write(&write)?;
        let mut tx = self.write_tx().await?;
        let number = allocate_number(&self.sql, &mut tx, write.ticket.tenant_id).await?;
        write.set_ticket_number(number);
        insert_new_ticket(&self.sql, &mut tx, &write).await?;
        commit(tx).await?;
        Ok(write)
    }

    /// Sets only the columns that differ from the ticket the change was planned on (see
    /// `ticket_update`), in one write transaction.
    async fn update_ticket(&self, expected_version: u64, write: &TicketWrite) -> Result<()> {
        check_write(write)?;
        write.check_previous(expected_version)?;
        let mut tx = self.write_tx().await?;
        update_in_tx(&self.sql, &mut tx, expected_version, write).await?;
        commit(tx).await
    }

    /// Every update in one `BEGIN IMMEDIATE` transaction, each version-checked by its own
    /// `UPDATE`; the first that fails rolls all of them back (the transaction is dropped
    /// uncommitted).
    async fn update_tickets(&self, writes: &[(u64, TicketWrite)]) -> Result<()> {
        check_ticket_batch(writes)?;
        if writes.is_empty() {
            return Ok(());
        }
        for (_, write) in writes {
            check_write(write)?;
        }
        let mut tx = self.write_tx().await?;
        for (expected, write) in writes {
            update_in_tx(&self.sql, &mut tx, *expected, write).await?;
        }
        commit(tx).await
    }

    async fn get_ticket(&self, tenant: TenantId, id: TicketId) -> Result<Option<Ticket>> {
        sqlx::query(self.sql.text(SELECT_TICKET))
            .bind(tenant.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .as_ref()
            .map(ticket_from)
            .transpose()
    }

    async fn get_ticket_by_number(&self, tenant: TenantId, number: u64) -> Result<Option<Ticket>> {
        let Ok(number) = i64::try_from(number) else {
            return Ok(None);
        };
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM helpdesk_tickets WHERE tenant_id = ? AND number = ?"
        )))
        .bind(tenant.to_string())
        .bind(number)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(ticket_from)
        .transpose()
    }

    async fn find_by_idempotency_key(
        &self,
        tenant: TenantId,
        key: &str,
    ) -> Result<Option<TicketId>> {
        let id: Option<String> = sqlx::query_scalar(self.sql.text(
            "SELECT ticket_id FROM helpdesk_idempotency_keys WHERE tenant_id = ? AND key = ?",
        ))
        .bind(tenant.to_string())
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        id.map(|s| to_id(&s, "ticket_id")).transpose()
    }

    async fn list_tickets(&self, tenant: TenantId, query: &TicketQuery) -> Result<Page<Ticket>> {
        crate::listing::list_tickets(&self.sql, &self.pool, tenant, query).await
    }

    /// One `count(*)` with the listing's filter.
    async fn count_tickets(&self, tenant: TenantId, query: &TicketQuery) -> Result<u64> {
        crate::listing::count_tickets(&self.sql, &self.pool, tenant, query).await
    }

    async fn open_ticket_counts(&self, tenant: TenantId) -> Result<Vec<(UserId, u64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(self.sql.text(OPEN_TICKET_COUNTS))
            .bind(tenant.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        let mut list = rows
            .into_iter()
            .map(|(user, n)| Ok((to_id(&user, "assignee")?, n.unsigned_abs())))
            .collect::<Result<Vec<(UserId, u64)>>>()?;
        list.sort();
        Ok(list)
    }

    async fn sla_due_tickets(
        &self,
        tenant: TenantId,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Ticket>> {
        // fr / res: the due time of each target that is due and not yet flagged, else NULL.
        sqlx::query(self.sql.text(concat!(
            "SELECT * FROM (SELECT ",
            ticket_columns!(),
            ", CASE WHEN sla_first_response_due <= ?2 AND first_response_at IS NULL \
                AND sla_first_response_breached = 0 THEN sla_first_response_due END AS fr, \
              CASE WHEN sla_resolution_due <= ?2 AND sla_resolution_breached = 0 \
                THEN sla_resolution_due END AS res \
             FROM helpdesk_tickets WHERE tenant_id = ?1 AND status NOT IN ('resolved', 'closed') \
             AND sla_paused_since IS NULL \
             AND (sla_first_response_due <= ?2 OR sla_resolution_due <= ?2)) \
             WHERE fr IS NOT NULL OR res IS NOT NULL \
             ORDER BY CASE WHEN fr IS NULL THEN res WHEN res IS NULL THEN fr \
                WHEN fr < res THEN fr ELSE res END, id \
             LIMIT ?3"
        )))
        .bind(tenant.to_string())
        .bind(ms(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(ticket_from)
        .collect()
    }

    async fn list_events(&self, tenant: TenantId, ticket: TicketId) -> Result<Vec<Event>> {
        sqlx::query(self.sql.text(
            "SELECT id, tenant_id, ticket_id, version, at, actor, payload FROM helpdesk_events \
             WHERE ticket_id = ? AND tenant_id = ? ORDER BY seq",
        ))
        .bind(ticket.to_string())
        .bind(tenant.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(event_from)
        .collect()
    }

    async fn list_tenant_events(
        &self,
        tenant: TenantId,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<Event>> {
        sqlx::query(self.sql.text(TENANT_EVENTS))
            .bind(tenant.to_string())
            .bind(ms(since))
            .bind(i64::from(limit.max(1)))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(event_from)
            .collect()
    }

    async fn list_messages(
        &self,
        tenant: TenantId,
        ticket: TicketId,
        filter: MessageFilter,
    ) -> Result<Vec<Message>> {
        thread(&self.sql, &self.pool, tenant, ticket, filter).await
    }

    async fn get_message(&self, tenant: TenantId, id: MessageId) -> Result<Option<Message>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            message_columns!(),
            " FROM helpdesk_messages WHERE id = ? AND tenant_id = ?"
        )))
        .bind(id.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(message_from)
        .transpose()
    }

    async fn analytics(
        &self,
        tenant: TenantId,
        range: TimeRange,
        now: Timestamp,
    ) -> Result<Analytics> {
        crate::analytics::compute(&self.sql, &self.pool, tenant, range, now).await
    }
}
