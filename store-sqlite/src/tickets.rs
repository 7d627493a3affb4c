//! Tickets with their events, messages, outbox entries and idempotency keys.

use async_trait::async_trait;
use helpdesk_core::analytics::Analytics;
use helpdesk_core::domain::{ChatState, Csat, Event, Message, SlaState, Ticket};
use helpdesk_core::store::{
    ChatActivity, MessageFilter, Page, SessionTransition, TicketQuery, TicketStore, TicketWrite,
    TimeRange, check_ticket_batch,
};
use helpdesk_core::{DuplicateKind, Error, MessageId, Result, TenantId, TicketId, UserId};
use jiff::Timestamp;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqlitePool, Transaction};

use crate::codec::{Columns, enum_str, int, json, ms, to_id};
use crate::error::{db, insert_err};
use crate::sql::Sql;
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
         merged_into, follow_up_of, csat_score, csat_comment, csat_at, version"
    };
}
pub(crate) use ticket_columns;

macro_rules! message_columns {
    () => {
        "id, tenant_id, ticket_id, author, author_kind, kind, body, created_at, citations, draft"
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
    Ok(())
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

/// Appends the events, upserts the messages, queues the outbox entries and records the
/// idempotency key of `write`, inside `tx`.
pub(crate) async fn append(
    sql: &Sql,
    tx: &mut Transaction<'static, Sqlite>,
    write: &TicketWrite,
) -> Result<()> {
    insert_events(sql, tx, &write.events).await?;
    for m in &write.messages {
        upsert_message(sql, tx, m).await?;
    }
    for o in &write.outbox {
        crate::outbox::insert_outbox(sql, tx, o).await?;
    }
    if let Some(activity) = &write.chat_activity {
        touch_chat_session(sql, tx, &write.ticket, activity).await?;
    }
    if let Some(key) = &write.idempotency_key {
        sqlx::query(sql.text(
            "INSERT INTO helpdesk_idempotency_keys (tenant_id, key, ticket_id) VALUES (?, ?, ?) \
             ON CONFLICT (tenant_id, key) DO UPDATE SET ticket_id = excluded.ticket_id",
        ))
        .bind(write.ticket.tenant_id.to_string())
        .bind(key)
        .bind(write.ticket.id.to_string())
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }
    Ok(())
}

/// Applies a write's chat activity to its session, inside the write's transaction: what
/// `ChatSession::apply_activity` defines (`last_activity_at` forward only, version + 1,
/// `ticket_id` on a linking write, the state transition), in one `UPDATE` guarded by the
/// tenant, the expected version and (for a linking write) an unlinked session. When it
/// matches no row the session is missing (`NotFound`), changed meanwhile (`Conflict`) or
/// already linked (`ChatSessionLinked`); the caller's transaction is rolled back.
async fn touch_chat_session(
    sql: &Sql,
    tx: &mut Transaction<'static, Sqlite>,
    ticket: &Ticket,
    activity: &ChatActivity,
) -> Result<()> {
    let (transition, reason, resolved_by_bot) = match &activity.transition {
        None => ("", None, false),
        Some(SessionTransition::HandOff { reason }) => ("hand_off", Some(reason.as_str()), false),
        Some(SessionTransition::TakeOver { reason }) => ("take_over", Some(reason.as_str()), false),
        Some(SessionTransition::Close { resolved_by_bot }) => ("close", None, *resolved_by_bot),
        Some(other) => {
            return Err(Error::validation(
                "chat_activity.transition",
                format!("{other:?} is not supported by this store version"),
            ));
        }
    };
    let expected = activity
        .expected_version
        .map(|v| int(v, "expected_version"))
        .transpose()?;
    let done = sqlx::query(sql.text(
        "UPDATE helpdesk_chat_sessions SET            last_activity_at = max(last_activity_at, ?1),            version = version + 1,            ticket_id = coalesce(?2, ticket_id),            state = CASE ?3              WHEN 'hand_off' THEN CASE WHEN state = ?8 THEN state ELSE ?7 END              WHEN 'take_over' THEN CASE WHEN state = ?6 THEN ?7 ELSE state END              WHEN 'close' THEN ?8 ELSE state END,            handoff_reason = CASE ?3              WHEN 'hand_off' THEN ?4              WHEN 'take_over' THEN CASE WHEN state = ?6 THEN coalesce(handoff_reason, ?4)                ELSE handoff_reason END              ELSE handoff_reason END,            closed_at = CASE ?3 WHEN 'close' THEN ?1 ELSE closed_at END,            resolved_by_bot = CASE ?3 WHEN 'close' THEN (resolved_by_bot OR ?5)              ELSE resolved_by_bot END          WHERE tenant_id = ?9 AND id = ?10 AND (?11 = 0 OR ticket_id IS NULL)            AND (?12 IS NULL OR version = ?12)",
    ))
    .bind(ms(activity.at))
    .bind(activity.links_ticket.then(|| ticket.id.to_string()))
    .bind(transition)
    .bind(reason)
    .bind(resolved_by_bot)
    .bind(enum_str(&ChatState::Bot, "state")?)
    .bind(enum_str(&ChatState::Human, "state")?)
    .bind(enum_str(&ChatState::Closed, "state")?)
    .bind(ticket.tenant_id.to_string())
    .bind(activity.session.to_string())
    .bind(activity.links_ticket)
    .bind(expected)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    if done.rows_affected() == 1 {
        return Ok(());
    }
    let stored: Option<(i64, Option<String>)> = sqlx::query_as(sql.text(
        "SELECT version, ticket_id FROM helpdesk_chat_sessions WHERE tenant_id = ? AND id = ?",
    ))
    .bind(ticket.tenant_id.to_string())
    .bind(activity.session.to_string())
    .fetch_optional(&mut **tx)
    .await
    .map_err(db)?;
    Err(match stored {
        None => Error::not_found("chat_session", activity.session),
        Some((version, _)) if expected.is_some_and(|v| v != version) => activity.stale(),
        Some(_) => activity.already_linked(),
    })
}

/// Inserts a change's events with one multi-row `INSERT` (a ticket change has a handful).
async fn insert_events(
    sql: &Sql,
    tx: &mut Transaction<'static, Sqlite>,
    events: &[Event],
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut rows = Vec::with_capacity(events.len());
    for e in events {
        rows.push((e, int(e.version, "version")?, json(&e.kind, "event")?));
    }
    let mut q: QueryBuilder<'_, Sqlite> = QueryBuilder::new(sql.text(
        "INSERT INTO helpdesk_events (id, tenant_id, ticket_id, version, at, actor, kind, payload) ",
    ));
    q.push_values(rows, |mut row, (e, version, payload)| {
        row.push_bind(e.id.to_string())
            .push_bind(e.tenant_id.to_string())
            .push_bind(e.ticket_id.to_string())
            .push_bind(version)
            .push_bind(ms(e.at))
            .push_bind(e.actor.map(|a| a.to_string()))
            .push_bind(e.kind.name())
            .push_bind(payload);
    });
    let ids: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();
    q.build()
        .execute(&mut **tx)
        .await
        .map_err(insert_err(ids.join(", ")))?;
    Ok(())
}

/// Inserts a message, or replaces the one with its id (draft decisions). A message id of
/// another tenant is never overwritten: that is a duplicate id.
async fn upsert_message(
    sql: &Sql,
    tx: &mut Transaction<'static, Sqlite>,
    m: &Message,
) -> Result<()> {
    let done = sqlx::query(sql.text(
        "INSERT INTO helpdesk_messages (id, tenant_id, ticket_id, author, author_kind, kind, body, \
         created_at, citations, draft, draft_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET ticket_id = excluded.ticket_id, \
         author = excluded.author, author_kind = excluded.author_kind, kind = excluded.kind, \
         body = excluded.body, created_at = excluded.created_at, \
         citations = excluded.citations, draft = excluded.draft, \
         draft_state = excluded.draft_state WHERE helpdesk_messages.tenant_id = excluded.tenant_id",
    ))
    .bind(m.id.to_string())
    .bind(m.tenant_id.to_string())
    .bind(m.ticket_id.to_string())
    .bind(m.author.map(|a| a.to_string()))
    .bind(enum_str(&m.author_kind, "author_kind")?)
    .bind(enum_str(&m.kind, "kind")?)
    .bind(&m.body)
    .bind(ms(m.created_at))
    .bind(json(&m.citations, "citations")?)
    .bind(m.draft.as_ref().map(|d| json(d, "draft")).transpose()?)
    .bind(
        m.draft
            .as_ref()
            .map(|d| enum_str(&d.state, "draft state"))
            .transpose()?,
    )
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(Error::Duplicate {
            kind: DuplicateKind::Id,
            value: m.id.to_string(),
        });
    }
    Ok(())
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
