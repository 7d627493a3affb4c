//! Chatbot sessions.

use async_trait::async_trait;
use helpdesk_core::domain::{ChatSession, ChatState, Ticket};
use helpdesk_core::store::ChatStore;
use helpdesk_core::{ChatSessionId, Result, TenantId, UserId};
use jiff::Timestamp;
use sqlx::PgPool;
use sqlx::postgres::PgRow;

use crate::codec::{Columns, enum_str, int, ms, opt_ms};
use crate::error::{db, insert_err};
use crate::sql::Sql;
use crate::tickets::{ticket_columns, ticket_from};
use crate::{PostgresStore, conflict_or_missing};

macro_rules! chat_columns {
    () => {
        "id, tenant_id, customer, ticket_id, state, handoff_reason, \
     resolved_by_bot, created_at, last_activity_at, closed_at, version"
    };
}

/// The session's columns in `chat_columns!` order.
const CHAT_NAMES: [&str; 11] = [
    "id",
    "tenant_id",
    "customer",
    "ticket_id",
    "state",
    "handoff_reason",
    "resolved_by_bot",
    "created_at",
    "last_activity_at",
    "closed_at",
    "version",
];

/// The same columns renamed in [`SESSION_WITH_TICKET`], next to the ticket's.
const SESSION_NAMES: [&str; 11] = [
    "session_id",
    "session_tenant_id",
    "session_customer",
    "session_ticket_id",
    "session_state",
    "session_handoff_reason",
    "session_resolved_by_bot",
    "session_created_at",
    "session_last_activity_at",
    "session_closed_at",
    "session_version",
];

fn chat_from(row: &PgRow) -> Result<ChatSession> {
    chat_from_named(row, CHAT_NAMES)
}

/// A session from columns with these names, in `chat_columns!` order.
fn chat_from_named(row: &PgRow, names: [&'static str; 11]) -> Result<ChatSession> {
    let c = Columns(row);
    let [
        id,
        tenant_id,
        customer,
        ticket_id,
        state,
        handoff_reason,
        resolved_by_bot,
        created_at,
        last_activity_at,
        closed_at,
        version,
    ] = names;
    Ok(ChatSession {
        id: c.id(id)?,
        tenant_id: c.id(tenant_id)?,
        customer: c.id(customer)?,
        ticket_id: c.opt_id(ticket_id)?,
        state: c.serde_enum(state)?,
        handoff_reason: c.opt_text(handoff_reason)?,
        resolved_by_bot: c.bool(resolved_by_bot)?,
        created_at: c.ts(created_at)?,
        last_activity_at: c.ts(last_activity_at)?,
        closed_at: c.opt_ts(closed_at)?,
        version: c.u64(version)?,
    })
}

/// A session with its ticket's columns (all NULL when it has none), the session's renamed.
const SESSION_WITH_TICKET: &str = concat!(
    "SELECT s.id AS session_id, s.tenant_id AS session_tenant_id, \
     s.customer AS session_customer, s.ticket_id AS session_ticket_id, \
     s.state AS session_state, s.handoff_reason AS session_handoff_reason, \
     s.resolved_by_bot AS session_resolved_by_bot, s.created_at AS session_created_at, \
     s.last_activity_at AS session_last_activity_at, s.closed_at AS session_closed_at, \
     s.version AS session_version, t.* \
     FROM helpdesk.chat_sessions s LEFT JOIN (SELECT ",
    ticket_columns!(),
    " FROM helpdesk.tickets) t ON t.tenant_id = s.tenant_id AND t.id = s.ticket_id \
     WHERE s.tenant_id = $1 AND s.id = $2"
);

/// Runs [`SESSION_WITH_TICKET`]: one statement for what a chat turn reads first.
pub(crate) async fn chat_session_with_ticket(
    sql: &Sql,
    pool: &PgPool,
    tenant: TenantId,
    id: ChatSessionId,
) -> Result<Option<(ChatSession, Option<Ticket>)>> {
    let Some(row) = sqlx::query(sql.text(SESSION_WITH_TICKET))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(pool)
        .await
        .map_err(db)?
    else {
        return Ok(None);
    };
    let session = chat_from_named(&row, SESSION_NAMES)?;
    let ticket = match Columns(&row).opt_id::<helpdesk_core::TicketId>("id")? {
        Some(_) => Some(ticket_from(&row)?),
        None => None,
    };
    Ok(Some((session, ticket)))
}

#[async_trait]
impl ChatStore for PostgresStore {
    async fn create_chat_session(&self, session: &ChatSession) -> Result<()> {
        sqlx::query(self.sql.text(concat!(
            "INSERT INTO helpdesk.chat_sessions (",
            chat_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        )))
        .bind(session.id.as_uuid())
        .bind(session.tenant_id.as_uuid())
        .bind(session.customer.as_uuid())
        .bind(session.ticket_id.map(|t| t.as_uuid()))
        .bind(enum_str(&session.state, "state")?)
        .bind(&session.handoff_reason)
        .bind(session.resolved_by_bot)
        .bind(ms(session.created_at))
        .bind(ms(session.last_activity_at))
        .bind(opt_ms(session.closed_at))
        .bind(int(session.version, "version")?)
        .execute(&self.pool)
        .await
        .map_err(insert_err(session.id))?;
        Ok(())
    }

    async fn get_chat_session(
        &self,
        tenant: TenantId,
        id: ChatSessionId,
    ) -> Result<Option<ChatSession>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            chat_columns!(),
            " FROM helpdesk.chat_sessions WHERE tenant_id = $1 AND id = $2"
        )))
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(chat_from)
        .transpose()
    }

    async fn update_chat_session(
        &self,
        expected_version: u64,
        session: &ChatSession,
    ) -> Result<()> {
        let mut tx = self.tx().await?;
        let done = sqlx::query(self.sql.text(
            "UPDATE helpdesk.chat_sessions SET customer = $1, ticket_id = $2, state = $3, \
             handoff_reason = $4, resolved_by_bot = $5, created_at = $6, last_activity_at = $7, \
             closed_at = $8, version = $9 WHERE tenant_id = $10 AND id = $11 AND version = $12",
        ))
        .bind(session.customer.as_uuid())
        .bind(session.ticket_id.map(|t| t.as_uuid()))
        .bind(enum_str(&session.state, "state")?)
        .bind(&session.handoff_reason)
        .bind(session.resolved_by_bot)
        .bind(ms(session.created_at))
        .bind(ms(session.last_activity_at))
        .bind(opt_ms(session.closed_at))
        .bind(int(session.version, "version")?)
        .bind(session.tenant_id.as_uuid())
        .bind(session.id.as_uuid())
        .bind(int(expected_version, "expected_version")?)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            let found: bool = sqlx::query_scalar(self.sql.text(
                "SELECT EXISTS (SELECT 1 FROM helpdesk.chat_sessions WHERE tenant_id = $1 AND id = $2)",
            ))
            .bind(session.tenant_id.as_uuid())
            .bind(session.id.as_uuid())
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            return Err(conflict_or_missing(
                found,
                "chat_session",
                session.id.to_string(),
                expected_version,
            ));
        }
        crate::commit(tx).await
    }

    async fn list_chat_sessions(
        &self,
        tenant: TenantId,
        customer: Option<UserId>,
    ) -> Result<Vec<ChatSession>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            chat_columns!(),
            " FROM helpdesk.chat_sessions WHERE tenant_id = $1 \
             AND ($2::uuid IS NULL OR customer = $2) ORDER BY created_at DESC, id DESC"
        )))
        .bind(tenant.as_uuid())
        .bind(customer.map(|c| c.as_uuid()))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(chat_from)
        .collect()
    }

    async fn idle_chat_sessions(
        &self,
        tenant: TenantId,
        idle_before: Timestamp,
    ) -> Result<Vec<ChatSession>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            chat_columns!(),
            " FROM helpdesk.chat_sessions WHERE tenant_id = $1 AND state <> $2 \
             AND last_activity_at < $3 ORDER BY last_activity_at, id"
        )))
        .bind(tenant.as_uuid())
        .bind(enum_str(&ChatState::Closed, "state")?)
        .bind(ms(idle_before))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?
        .iter()
        .map(chat_from)
        .collect()
    }
}
