//! The `queue` benchmark's bulk loader: made-up tickets written straight into the SQLite
//! store's own schema (see the [`queue`](super::queue) module docs for why).

use helpdesk_core::domain::{
    Channel, Csat, Priority, Role, SlaState, Tenant, Ticket, TicketStatus, User,
};
use helpdesk_core::{TenantId, TicketId, UserId};
use helpdesk_store_sqlite::SqliteConnectOptions;
use jiff::{SignedDuration, Timestamp};
use sqlx::Connection;
use sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};

use super::queue::QueueOptions;
use super::{BoxError, Rng, Step, TICKET_TEXTS, bar, spinner};

/// One loaded tenant: its id, agents and customers.
pub(crate) struct LoadedTenant {
    pub(crate) id: TenantId,
    pub(crate) agents: Vec<UserId>,
    pub(crate) customers: Vec<UserId>,
}

const DAY_MS: i64 = 86_400_000;

/// Picks a status: 15% open in various states, 10% resolved, 75% closed.
fn status(rng: &mut Rng) -> TicketStatus {
    match rng.below(100) {
        0..=3 => TicketStatus::New,
        4..=7 => TicketStatus::Open,
        8..=10 => TicketStatus::InProgress,
        11..=12 => TicketStatus::Pending,
        13..=14 => TicketStatus::Escalated,
        15..=24 => TicketStatus::Resolved,
        _ => TicketStatus::Closed,
    }
}

fn priority(rng: &mut Rng) -> Priority {
    match rng.below(100) {
        0..=29 => Priority::Low,
        30..=74 => Priority::Medium,
        75..=94 => Priority::High,
        _ => Priority::Urgent,
    }
}

fn plus_minutes(t: Timestamp, minutes: usize) -> Timestamp {
    t.checked_add(SignedDuration::from_mins(minutes as i64))
        .unwrap_or(t)
}

/// A plausible ticket: created at `created`, with times, SLA, assignee and CSAT that fit
/// its status.
fn ticket(
    rng: &mut Rng,
    tenant: &LoadedTenant,
    number: u64,
    created: Timestamp,
    now: Timestamp,
) -> Ticket {
    let status = status(rng);
    let priority = priority(rng);
    let (subject, description) = TICKET_TEXTS[rng.below(TICKET_TEXTS.len())];
    let category = ["billing", "technical", "account", "other"][rng.below(4)];
    let requester = tenant.customers[rng.below(tenant.customers.len())];
    let assignee =
        (status != TicketStatus::New).then(|| tenant.agents[rng.below(tenant.agents.len())]);
    let first_response_at = (status != TicketStatus::New)
        .then(|| plus_minutes(created, 5 + rng.below(600)))
        .filter(|t| *t <= now);
    let done = matches!(status, TicketStatus::Resolved | TicketStatus::Closed);
    let resolved_at = done
        .then(|| plus_minutes(created, 60 + rng.below(72 * 60)))
        .map(|t| t.min(now));
    let closed_at = (status == TicketStatus::Closed)
        .then(|| resolved_at.map(|r| plus_minutes(r, 72 * 60).min(now)))
        .flatten();
    let first_due = plus_minutes(created, 4 * 60);
    let resolution_due = plus_minutes(created, 48 * 60);
    let csat = (done && rng.below(10) < 3).then(|| Csat {
        score: 1 + rng.below(5) as u8,
        comment: None,
        at: resolved_at.unwrap_or(created),
    });
    let updated_at = [Some(created), first_response_at, resolved_at, closed_at]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(created);
    Ticket {
        id: TicketId::new(),
        tenant_id: tenant.id,
        number,
        requester,
        assignee,
        subject: format!("{subject} ({number})"),
        description: description.to_string(),
        status,
        priority,
        category: Some(category.to_string()),
        tags: Vec::new(),
        required_skills: Vec::new(),
        sentiment: None,
        language: Some("en".into()),
        channel: Channel::Form,
        created_at: created,
        updated_at,
        first_response_at,
        resolved_at,
        closed_at,
        sla: SlaState {
            first_response_due: Some(first_due),
            resolution_due: Some(resolution_due),
            first_response_breached: first_response_at.is_none_or(|t| t > first_due)
                && now > first_due,
            resolution_breached: resolved_at.is_none_or(|t| t > resolution_due)
                && now > resolution_due,
            paused_since: (status == TicketStatus::Pending).then_some(updated_at),
        },
        triage: None,
        merged_into: None,
        follow_up_of: None,
        csat,
        custom_fields: std::collections::BTreeMap::new(),
        team: None,
        erased_at: None,
        version: 3,
    }
}

/// Fills the database at `path` (already migrated); returns the tenants.
pub(crate) async fn bulk_load(
    path: &std::path::Path,
    raw: &super::rows::RawRows,
    tenants: Vec<Tenant>,
    options: &QueueOptions,
    now: Timestamp,
) -> Result<Vec<LoadedTenant>, BoxError> {
    let connect = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .pragma("cache_size", "-262144");
    let mut conn = sqlx::SqliteConnection::connect_with(&connect)
        .await
        .step(format!("loader: opening {}", path.display()))?;
    let mut rng = Rng::new(0x51ee7);

    // Users: agents (with skills) and customers of every tenant.
    let mut loaded = Vec::with_capacity(tenants.len());
    let mut tx = conn.begin().await.step("loader: BEGIN")?;
    for t in &tenants {
        let mut agents = Vec::new();
        let mut customers = Vec::new();
        for i in 0..options.agents.max(1) {
            let mut u = helpdesk_core::testkit::fixtures::user(
                t,
                Role::Agent,
                &format!("agent{i}@{}.test", t.slug),
            );
            u.skills = vec![["billing", "technical", "account"][i % 3].to_string()];
            raw.insert_user(&mut tx, &u).await?;
            agents.push(u.id);
        }
        for i in 0..options.customers.max(1) {
            let u: User = helpdesk_core::testkit::fixtures::user(
                t,
                Role::Customer,
                &format!("customer{i}@example.com"),
            );
            raw.insert_user(&mut tx, &u).await?;
            customers.push(u.id);
        }
        loaded.push(LoadedTenant {
            id: t.id,
            agents,
            customers,
        });
    }
    tx.commit().await.step("loader: COMMIT users")?;

    // Tickets: spread evenly over the last 365 days, oldest first, tenants in turn.
    let span_ms = 365 * DAY_MS;
    let start = now
        .checked_sub(SignedDuration::from_millis(span_ms))
        .step("loader: computing the start time")?;
    let progress = bar(options.size as u64, "loading tickets");
    let mut numbers = vec![0u64; loaded.len()];
    let batch = options.batch.max(1);
    let mut i = 0;
    while i < options.size {
        let end = (i + batch).min(options.size);
        let mut tx = conn.begin().await.step("loader: BEGIN")?;
        for k in i..end {
            let slot = k % loaded.len();
            numbers[slot] += 1;
            let offset = (k as i128 * span_ms as i128 / options.size.max(1) as i128) as i64;
            let created = start
                .checked_add(SignedDuration::from_millis(offset))
                .step("loader: computing a creation time")?;
            let t = ticket(&mut rng, &loaded[slot], numbers[slot], created, now);
            raw.insert_ticket(&mut tx, &t).await?;
        }
        tx.commit().await.step("loader: COMMIT tickets")?;
        progress.inc((end - i) as u64);
        i = end;
    }
    progress.finish_and_clear();
    let mut tx = conn.begin().await.step("loader: BEGIN")?;
    for (t, n) in loaded.iter().zip(&numbers) {
        sqlx::query(raw.counter())
            .bind(t.id.to_string())
            .bind(i64::try_from(*n).step("loader: ticket counter")?)
            .execute(&mut *tx)
            .await
            .step("loader: writing ticket counters")?;
    }
    tx.commit().await.step("loader: COMMIT counters")?;
    let analyzing = spinner("ANALYZE");
    sqlx::query("ANALYZE")
        .execute(&mut conn)
        .await
        .step("loader: ANALYZE")?;
    analyzing.finish_and_clear();
    conn.close().await.step("loader: closing the connection")?;
    Ok(loaded)
}
