//! What a ticket write appends inside its transaction: events, messages and their
//! attachments' metadata, outbox entries, the chat session's activity, the model usage and
//! the routing claim.

use helpdesk_core::domain::{ChatState, Event, Message, Ticket};
use helpdesk_core::store::{ChatActivity, SessionTransition, TicketWrite};
use helpdesk_core::{DuplicateKind, Error, Result};
use sqlx::{Postgres, QueryBuilder, Transaction};

use crate::codec::{enum_str, int, json, ms};
use crate::error::{db, insert_err};
use crate::search_index::message_words;
use crate::sql::Sql;

/// Appends the events, upserts the messages, inserts the attachments' metadata (after
/// their messages, which they reference), queues the outbox entries and applies the chat
/// activity and the model usage of `write`, inside `tx`. The idempotency key is the caller's: a create claims
/// it (see `tickets`), an update has none to record.
pub(crate) async fn append(
    sql: &Sql,
    tx: &mut Transaction<'static, Postgres>,
    write: &TicketWrite,
) -> Result<()> {
    insert_events(sql, tx, &write.events).await?;
    for m in &write.messages {
        upsert_message(sql, tx, m).await?;
    }
    for a in &write.attachments {
        crate::attachments::insert_attachment(sql, tx, a).await?;
    }
    for o in &write.outbox {
        crate::outbox::insert_outbox(sql, tx, o).await?;
    }
    if let Some(activity) = &write.chat_activity {
        touch_chat_session(sql, tx, &write.ticket, activity).await?;
    }
    if !write.model_usage.is_empty() {
        crate::model_usage::insert_usage(sql, tx, write.ticket.tenant_id, &write.model_usage)
            .await?;
    }
    if let Some(claim) = &write.routing {
        crate::routing::claim_assignee(sql, tx, &write.ticket, claim).await?;
    }
    Ok(())
}

/// Applies a write's chat activity to its session, inside the write's transaction: what
/// `ChatSession::apply_activity` defines (`last_activity_at` forward only, version + 1,
/// `ticket_id` on a linking write, the state transition), in one `UPDATE` guarded by the
/// tenant, the expected version and (for a linking write) an unlinked session. Two writes
/// racing to link one session serialise on the row lock; the second re-checks the guard
/// on the committed row (READ COMMITTED), matches nothing and reports the session as
/// linked. When it matches no row the session is missing (`NotFound`), changed meanwhile
/// (`Conflict`) or already linked (`ChatSessionLinked`); the caller rolls back.
async fn touch_chat_session(
    sql: &Sql,
    tx: &mut Transaction<'static, Postgres>,
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
        "UPDATE helpdesk.chat_sessions SET \
           last_activity_at = greatest(last_activity_at, $1), \
           version = version + 1, \
           ticket_id = coalesce($2, ticket_id), \
           state = CASE $3::text \
             WHEN 'hand_off' THEN CASE WHEN state = $8 THEN state ELSE $7 END \
             WHEN 'take_over' THEN CASE WHEN state = $6 THEN $7 ELSE state END \
             WHEN 'close' THEN $8 ELSE state END, \
           handoff_reason = CASE $3::text \
             WHEN 'hand_off' THEN $4 \
             WHEN 'take_over' THEN CASE WHEN state = $6 THEN coalesce(handoff_reason, $4) \
               ELSE handoff_reason END \
             ELSE handoff_reason END, \
           closed_at = CASE $3::text WHEN 'close' THEN $1 ELSE closed_at END, \
           resolved_by_bot = CASE $3::text WHEN 'close' THEN (resolved_by_bot OR $5) \
             ELSE resolved_by_bot END \
         WHERE tenant_id = $9 AND id = $10 AND (NOT $11 OR ticket_id IS NULL) \
           AND ($12::bigint IS NULL OR version = $12)",
    ))
    .bind(ms(activity.at))
    .bind(activity.links_ticket.then(|| ticket.id.as_uuid()))
    .bind(transition)
    .bind(reason)
    .bind(resolved_by_bot)
    .bind(enum_str(&ChatState::Bot, "state")?)
    .bind(enum_str(&ChatState::Human, "state")?)
    .bind(enum_str(&ChatState::Closed, "state")?)
    .bind(ticket.tenant_id.as_uuid())
    .bind(activity.session.as_uuid())
    .bind(activity.links_ticket)
    .bind(expected)
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    if done.rows_affected() == 1 {
        return Ok(());
    }
    let stored: Option<(i64,)> = sqlx::query_as(
        sql.text("SELECT version FROM helpdesk.chat_sessions WHERE tenant_id = $1 AND id = $2"),
    )
    .bind(ticket.tenant_id.as_uuid())
    .bind(activity.session.as_uuid())
    .fetch_optional(&mut **tx)
    .await
    .map_err(db)?;
    Err(match stored {
        None => Error::not_found("chat_session", activity.session),
        Some((version,)) if expected.is_some_and(|v| v != version) => activity.stale(),
        Some(_) => activity.already_linked(),
    })
}

/// Inserts a change's events with one multi-row `INSERT` (a ticket change has a handful)
/// and, in the same statement, notifies the store's channel with their tenant: delivered to
/// the other instances' listeners when the transaction commits (see `commits`).
async fn insert_events(
    sql: &Sql,
    tx: &mut Transaction<'static, Postgres>,
    events: &[Event],
) -> Result<()> {
    let Some(first) = events.first() else {
        return Ok(());
    };
    let tenant = first.tenant_id;
    let mut rows = Vec::with_capacity(events.len());
    for e in events {
        rows.push((e, int(e.version, "version")?, json(&e.kind, "event")?));
    }
    let mut q: QueryBuilder<'_, Postgres> = QueryBuilder::new("WITH inserted AS (");
    q.push(sql.text(
        "INSERT INTO helpdesk.events (id, tenant_id, ticket_id, version, at, actor, kind, payload) ",
    ));
    q.push_values(rows, |mut row, (e, version, payload)| {
        row.push_bind(e.id.as_uuid())
            .push_bind(e.tenant_id.as_uuid())
            .push_bind(e.ticket_id.as_uuid())
            .push_bind(version)
            .push_bind(ms(e.at))
            .push_bind(e.actor.map(|a| a.as_uuid()))
            .push_bind(e.kind.name())
            .push_bind(payload);
    });
    q.push(" RETURNING 1) SELECT pg_notify(")
        .push_bind(crate::commits::channel(sql))
        .push(", ")
        .push_bind(tenant.to_string())
        .push(")");
    let ids: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();
    q.build()
        .execute(&mut **tx)
        .await
        .map_err(insert_err(ids.join(", ")))?;
    Ok(())
}

/// Inserts a message, or replaces the one with its id (draft decisions), with the words
/// search indexes (`search_index`), so a replaced body is searched as it is now. A message id of
/// another tenant is never overwritten: that is a duplicate id.
async fn upsert_message(
    sql: &Sql,
    tx: &mut Transaction<'static, Postgres>,
    m: &Message,
) -> Result<()> {
    let done = sqlx::query(sql.text(
        "INSERT INTO helpdesk.messages AS m (id, tenant_id, ticket_id, author, author_kind, kind, \
         body, created_at, citations, draft, draft_state, email, search_body) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (id) DO UPDATE SET ticket_id = excluded.ticket_id, \
         author = excluded.author, author_kind = excluded.author_kind, kind = excluded.kind, \
         body = excluded.body, created_at = excluded.created_at, \
         citations = excluded.citations, draft = excluded.draft, \
         draft_state = excluded.draft_state, email = excluded.email, \
         search_body = excluded.search_body WHERE m.tenant_id = excluded.tenant_id",
    ))
    .bind(m.id.as_uuid())
    .bind(m.tenant_id.as_uuid())
    .bind(m.ticket_id.as_uuid())
    .bind(m.author.map(|a| a.as_uuid()))
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
    .bind(m.email.as_ref().map(|e| json(e, "email")).transpose()?)
    .bind(message_words(m))
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
