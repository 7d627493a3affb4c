//! Raw sqlx writes of helpdesk rows into the SQLite store's own schema (the columns and
//! encodings of `helpdesk-store-sqlite`'s migrations: millisecond timestamps, UUID text,
//! JSON text for nested values). Used by the intake baseline and the queue bulk loader;
//! never by the code paths being measured. The table names come from the store's table
//! prefix ([`SqliteStore::table_name`]), so the statements are built once per store.

use helpdesk_core::domain::{Event, OutboxEntry, Ticket, User};
use helpdesk_store_sqlite::SqliteStore;
use sqlx::SqliteConnection;

use super::{BoxError, Step};

/// The ticket row's columns and placeholders, after `INSERT INTO <tickets table> `.
const TICKET_COLUMNS: &str = "(id, tenant_id, number, requester, assignee, \
     subject, subject_folded, description, status, priority, priority_rank, category, tags, \
     required_skills, sentiment, language, channel, created_at, updated_at, first_response_at, \
     resolved_at, closed_at, sla_first_response_due, sla_resolution_due, \
     sla_first_response_breached, sla_resolution_breached, sla_paused_since, triage, \
     merged_into, follow_up_of, csat_score, csat_comment, csat_at, version) VALUES \
     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, \
     ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34)";

/// The raw `INSERT` statements for one store's tables, built once.
#[derive(Debug, Clone)]
pub(crate) struct RawRows {
    ticket: String,
    event: String,
    outbox: String,
    user: String,
    counter: String,
}

impl RawRows {
    /// The statements for `store`'s tables (its table prefix).
    pub(crate) fn for_store(store: &SqliteStore) -> Self {
        let t = |name: &str| store.table_name(name);
        Self {
            ticket: format!("INSERT INTO {} {TICKET_COLUMNS}", t("tickets")),
            event: format!(
                "INSERT INTO {} (id, tenant_id, ticket_id, version, at, actor, kind, payload) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                t("events")
            ),
            outbox: format!(
                "INSERT INTO {} (id, tenant_id, notification, created_at, attempts, \
                 next_attempt_at, delivered_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                t("outbox")
            ),
            user: format!(
                "INSERT INTO {} (id, tenant_id, email, name, role, skills, capacity, active, \
                 created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                t("users")
            ),
            counter: format!(
                "INSERT INTO {} (tenant_id, last_number) VALUES (?, ?)",
                t("ticket_counters")
            ),
        }
    }

    /// `INSERT INTO <ticket_counters> (tenant_id, last_number) VALUES (?, ?)`.
    pub(crate) fn counter(&self) -> &str {
        &self.counter
    }
}

fn ms(t: jiff::Timestamp) -> i64 {
    t.as_millisecond()
}

fn int(v: u64) -> Result<i64, BoxError> {
    i64::try_from(v).step(format!("{v} does not fit a column"))
}

impl RawRows {
    /// Inserts one ticket row.
    pub(crate) async fn insert_ticket(
        &self,
        conn: &mut SqliteConnection,
        t: &Ticket,
    ) -> Result<(), BoxError> {
        let csat = t.csat.as_ref();
        let triage = match &t.triage {
            Some(x) => Some(serde_json::to_string(x).step("encoding triage")?),
            None => None,
        };
        sqlx::query(&self.ticket)
            .bind(t.id.to_string())
            .bind(t.tenant_id.to_string())
            .bind(int(t.number)?)
            .bind(t.requester.to_string())
            .bind(t.assignee.map(|a| a.to_string()))
            .bind(&t.subject)
            .bind(t.subject.to_lowercase())
            .bind(&t.description)
            .bind(t.status.as_str())
            .bind(t.priority.as_str())
            .bind(i64::from(t.priority.rank()))
            .bind(&t.category)
            .bind(serde_json::to_string(&t.tags).step("encoding tags")?)
            .bind(serde_json::to_string(&t.required_skills).step("encoding skills")?)
            .bind(t.sentiment.map(|s| s.as_str()))
            .bind(&t.language)
            .bind(t.channel.as_str())
            .bind(ms(t.created_at))
            .bind(ms(t.updated_at))
            .bind(t.first_response_at.map(ms))
            .bind(t.resolved_at.map(ms))
            .bind(t.closed_at.map(ms))
            .bind(t.sla.first_response_due.map(ms))
            .bind(t.sla.resolution_due.map(ms))
            .bind(t.sla.first_response_breached)
            .bind(t.sla.resolution_breached)
            .bind(t.sla.paused_since.map(ms))
            .bind(triage)
            .bind(t.merged_into.map(|x| x.to_string()))
            .bind(t.follow_up_of.map(|x| x.to_string()))
            .bind(csat.map(|c| i64::from(c.score)))
            .bind(csat.and_then(|c| c.comment.clone()))
            .bind(csat.map(|c| ms(c.at)))
            .bind(int(t.version)?)
            .execute(&mut *conn)
            .await
            .step(format!("inserting ticket #{}", t.number))?;
        Ok(())
    }

    /// Inserts one event row.
    pub(crate) async fn insert_event(
        &self,
        conn: &mut SqliteConnection,
        e: &Event,
    ) -> Result<(), BoxError> {
        sqlx::query(&self.event)
            .bind(e.id.to_string())
            .bind(e.tenant_id.to_string())
            .bind(e.ticket_id.to_string())
            .bind(int(e.version)?)
            .bind(ms(e.at))
            .bind(e.actor.map(|a| a.to_string()))
            .bind(e.kind.name())
            .bind(serde_json::to_string(&e.kind).step("encoding an event")?)
            .execute(&mut *conn)
            .await
            .step("inserting an event")?;
        Ok(())
    }

    /// Inserts one outbox row.
    pub(crate) async fn insert_outbox(
        &self,
        conn: &mut SqliteConnection,
        o: &OutboxEntry,
    ) -> Result<(), BoxError> {
        sqlx::query(&self.outbox)
            .bind(o.id.to_string())
            .bind(o.tenant_id.to_string())
            .bind(serde_json::to_string(&o.notification).step("encoding a notification")?)
            .bind(ms(o.created_at))
            .bind(i64::from(o.attempts))
            .bind(ms(o.next_attempt_at))
            .bind(o.delivered_at.map(ms))
            .bind(&o.last_error)
            .execute(&mut *conn)
            .await
            .step("inserting an outbox entry")?;
        Ok(())
    }

    /// Inserts one user row.
    pub(crate) async fn insert_user(
        &self,
        conn: &mut SqliteConnection,
        u: &User,
    ) -> Result<(), BoxError> {
        sqlx::query(&self.user)
            .bind(u.id.to_string())
            .bind(u.tenant_id.to_string())
            .bind(&u.email)
            .bind(&u.name)
            .bind(u.role.as_str())
            .bind(serde_json::to_string(&u.skills).step("encoding skills")?)
            .bind(i64::from(u.capacity))
            .bind(u.active)
            .bind(ms(u.created_at))
            .execute(&mut *conn)
            .await
            .step(format!("inserting user {}", u.email))?;
        Ok(())
    }
}
