//! `queue --store postgres` and `intake-postgres`: the queue reads and the intake
//! comparison on PostgreSQL, each on fresh databases of the server at `url` (dropped at
//! the end), with the store in its default schema `helpdesk`.
//!
//! Loading the queue store: the tickets are written by `INSERT ... SELECT generate_series`
//! straight into the store's migrated schema (opening a million tickets through
//! `open_ticket` would take hours), one statement per tenant, then `VACUUM ANALYZE` (what
//! autovacuum does to a freshly filled table: statistics, and the visibility map the agent
//! queue's index-only reads need). Statuses: 15 % open in various states, 10 % resolved,
//! 75 % closed; a year of creation times. The measured calls are those of the SQLite run.
//!
//! The intake baseline writes the rows `open_ticket` made on the in-memory store with
//! plain sqlx statements into a second database migrated by the store: one transaction
//! per ticket with the ticket row, one statement per event and the outbox entries.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use helpdesk_core::TenantId;
use helpdesk_core::domain::Tenant;
use helpdesk_core::store::TenantStore;
use helpdesk_store_postgres::{PgConnectOptions, PostgresStore};
use jiff::Timestamp;
use sqlx::Connection;
use sqlx::types::Json;
use uuid::Uuid;

use super::intake::{Baseline, IntakeOptions, IntakeReport, TicketRows, measure};
use super::queue::{Loaded, LoadedTenant, QueueOptions, QueueReport};
use super::{BoxError, Step, spinner};

/// A database made for one run on the server at `url`, dropped by [`drop`](Self::drop).
struct ScratchDatabase {
    url: String,
    name: String,
}

impl ScratchDatabase {
    async fn create(url: &str) -> Result<Self, BoxError> {
        let name = format!("hdbench_{}", TenantId::new().as_uuid().simple());
        let mut admin = sqlx::PgConnection::connect(url)
            .await
            .step("connecting to PostgreSQL")?;
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .step(format!("creating database {name}"))?;
        Ok(Self {
            url: url.to_owned(),
            name,
        })
    }

    /// A migrated store on the database, with a pool of its own.
    async fn store(&self) -> Result<PostgresStore, BoxError> {
        let options = PgConnectOptions::from_str(&self.url)
            .step("parsing the PostgreSQL URL")?
            .database(&self.name);
        PostgresStore::builder()
            .connect_with(options)
            .await
            .step(format!("opening the store on database {}", self.name))
    }

    /// Drops the database (after the store's pool is closed); a failure is reported, not
    /// returned, so it never hides the run's own result.
    async fn drop(self) {
        let dropped = async {
            let mut admin = sqlx::PgConnection::connect(&self.url).await?;
            sqlx::query(&format!("DROP DATABASE \"{}\" WITH (FORCE)", self.name))
                .execute(&mut admin)
                .await
        };
        if let Err(e) = dropped.await {
            eprintln!("helpdesk-bench: could not drop database {}: {e}", self.name);
        }
    }
}

/// One tenant's tickets: `$1` tenant id, `$2` tenant index, `$3` count, `$4` now (ms),
/// `$5` customers, `$6` agents (the users [`FILL_USERS`] made).
const FILL_TENANT: &str = "
INSERT INTO helpdesk.tickets (id, tenant_id, number, requester, assignee, subject, subject_folded,
    description, status, priority, priority_rank, category, tags, required_skills, channel,
    created_at, updated_at, first_response_at, resolved_at, closed_at, sla_first_response_due,
    sla_resolution_due, sla_first_response_breached, sla_resolution_breached, version)
SELECT gen_random_uuid(), $1, n,
    md5('c' || $2 || '-' || (abs(hashint8(n * 31 + 7)::bigint) % $5))::uuid,
    CASE WHEN s.status = 'new' THEN NULL
        ELSE md5('a' || $2 || '-' || (abs(hashint8(n * 17 + 3)::bigint) % $6))::uuid END,
    subj.s, lower(subj.s), 'Description of ticket ' || n, s.status,
    (ARRAY['low', 'medium', 'high', 'urgent'])[p.rank + 1], p.rank,
    (ARRAY['billing', 'technical', 'account', 'other'])[1 + abs(hashint8(n * 13)::bigint) % 4],
    '[]', '[]', CASE WHEN n % 5 = 0 THEN 'chat' ELSE 'email' END,
    c.at, c.at,
    CASE WHEN s.status <> 'new' THEN c.at + 600000 END,
    CASE WHEN s.status IN ('resolved', 'closed') THEN c.at + 7200000 END,
    CASE WHEN s.status = 'closed' THEN c.at + 86400000 END,
    c.at + 3600000, c.at + 86400000, false, false, 1
FROM generate_series(1, $3) n,
    LATERAL (SELECT abs(hashint8(n)::bigint) % 100 AS r) h,
    LATERAL (SELECT CASE
        WHEN h.r <= 3 THEN 'new' WHEN h.r <= 7 THEN 'open' WHEN h.r <= 10 THEN 'in_progress'
        WHEN h.r <= 12 THEN 'pending' WHEN h.r <= 14 THEN 'escalated'
        WHEN h.r <= 24 THEN 'resolved' ELSE 'closed' END AS status) s,
    LATERAL (SELECT CASE WHEN abs(hashint8(n + 1)::bigint) % 100 < 30 THEN 0
        WHEN abs(hashint8(n + 1)::bigint) % 100 < 75 THEN 1
        WHEN abs(hashint8(n + 1)::bigint) % 100 < 95 THEN 2 ELSE 3 END AS rank) p,
    LATERAL (SELECT $4::bigint - (365::bigint * 86400000 * ($3 - n)) / $3 AS at) c,
    LATERAL (SELECT (ARRAY['Printer on fire', 'Cannot log in', 'Invoice is wrong',
        'VPN drops every hour', 'Mailbox full', 'Password reset link expired'])
        [1 + abs(hashint8(n * 7)::bigint) % 6] || ' #' || n AS s) subj";

/// One tenant's users: `$1` tenant id, `$2` tenant index, `$3` customers, `$4` agents.
const FILL_USERS: &str = "
INSERT INTO helpdesk.users (id, tenant_id, email, name, role, skills, capacity, active, created_at)
SELECT md5(CASE WHEN u < $3 THEN 'c' ELSE 'a' END || $2 || '-' ||
        CASE WHEN u < $3 THEN u ELSE u - $3 END)::uuid,
    $1, 'u' || u || '@t' || $2 || '.test', 'User ' || u,
    CASE WHEN u < $3 THEN 'customer' ELSE 'agent' END, '[]', 10, true, u
FROM generate_series(0, $3 + $4 - 1) u";

/// Fills the store's database; returns the tenants.
async fn bulk_load(
    store: &PostgresStore,
    options: &QueueOptions,
    now: Timestamp,
) -> Result<Vec<LoadedTenant>, BoxError> {
    let tenants = options.tenants.max(1);
    let per_tenant = i64::try_from(options.size / tenants).step("tickets per tenant")?;
    let customers = i64::try_from(options.customers.max(1)).step("customers")?;
    let agents = i64::try_from(options.agents.max(1)).step("agents")?;
    let progress = super::bar(tenants as u64, "loading tenants");
    let mut loaded = Vec::with_capacity(tenants);
    for i in 0..tenants {
        let t = helpdesk_core::testkit::fixtures::tenant(&format!("tenant{i:03}"));
        store.create_tenant(&t).await.step("creating a tenant")?;
        let index = i64::try_from(i).step("tenant index")?;
        sqlx::query(FILL_USERS)
            .bind(t.id.as_uuid())
            .bind(index)
            .bind(customers)
            .bind(agents)
            .execute(store.pool())
            .await
            .step("loader: users")?;
        sqlx::query(FILL_TENANT)
            .bind(t.id.as_uuid())
            .bind(index)
            .bind(per_tenant)
            .bind(now.as_millisecond())
            .bind(customers)
            .bind(agents)
            .execute(store.pool())
            .await
            .step("loader: tickets")?;
        // The counter the store numbers new tickets from.
        sqlx::query(
            "INSERT INTO helpdesk.ticket_counters (tenant_id, last_number) VALUES ($1, $2)",
        )
        .bind(t.id.as_uuid())
        .bind(per_tenant)
        .execute(store.pool())
        .await
        .step("loader: ticket counter")?;
        let users: Vec<(Uuid, String)> =
            sqlx::query_as("SELECT id, role FROM helpdesk.users WHERE tenant_id = $1")
                .bind(t.id.as_uuid())
                .fetch_all(store.pool())
                .await
                .step("loader: reading the users back")?;
        let of = |role: &str| {
            users
                .iter()
                .filter(|(_, r)| r == role)
                .map(|(id, _)| (*id).into())
                .collect()
        };
        loaded.push(LoadedTenant {
            id: t.id,
            agents: of("agent"),
            customers: of("customer"),
        });
        progress.inc(1);
    }
    progress.finish_and_clear();
    let vacuum = spinner("VACUUM ANALYZE");
    sqlx::query("VACUUM ANALYZE")
        .execute(store.pool())
        .await
        .step("loader: VACUUM ANALYZE")?;
    vacuum.finish_and_clear();
    Ok(loaded)
}

/// `queue --store postgres`: a fresh database on `url`, bulk-loaded, then the queue reads.
pub async fn queue(options: &QueueOptions, url: &str) -> Result<QueueReport, BoxError> {
    let db = ScratchDatabase::create(url).await?;
    let store = match db.store().await {
        Ok(store) => store,
        Err(e) => {
            db.drop().await;
            return Err(e);
        }
    };
    let report = async {
        let now = Timestamp::now();
        let started = Instant::now();
        let tenants = bulk_load(&store, options, now).await?;
        let load_s = started.elapsed().as_secs_f64();
        let db_bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
            .fetch_one(store.pool())
            .await
            .step("reading the database size")?;
        let filled = Loaded {
            store: "postgres",
            tenants,
            loader: "INSERT ... SELECT generate_series into the store's own schema (not \
                     open_ticket), then VACUUM ANALYZE",
            load_s,
            db_bytes: u64::try_from(db_bytes).unwrap_or(0),
            now,
        };
        super::queue::measure(&store, &filled, options).await
    }
    .await;
    store.close().await;
    db.drop().await;
    report
}

fn ms_of(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn int(v: u64) -> Result<i64, BoxError> {
    i64::try_from(v).step("a count too large for bigint")
}

struct PostgresBaseline {
    store: PostgresStore,
}

#[async_trait]
impl Baseline for PostgresBaseline {
    async fn prepare(&self, tenant: &Tenant) -> Result<(), BoxError> {
        // Tickets and outbox rows refer to their tenant (foreign keys).
        self.store
            .create_tenant(tenant)
            .await
            .step("baseline: writing the tenant row")
    }

    async fn insert(&self, r: &TicketRows) -> Result<(), BoxError> {
        let t = &r.ticket;
        let mut tx = self.store.pool().begin().await.step("baseline: BEGIN")?;
        sqlx::query(
            "INSERT INTO helpdesk.tickets (id, tenant_id, number, requester, assignee, subject, \
             subject_folded, description, status, priority, priority_rank, category, tags, \
             required_skills, sentiment, language, channel, created_at, updated_at, \
             first_response_at, resolved_at, closed_at, sla_first_response_due, \
             sla_resolution_due, sla_first_response_breached, sla_resolution_breached, \
             sla_paused_since, triage, merged_into, follow_up_of, csat_score, csat_comment, \
             csat_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
             $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, \
             $30, $31, $32, $33, $34)",
        )
        .bind(t.id.as_uuid())
        .bind(t.tenant_id.as_uuid())
        .bind(int(t.number)?)
        .bind(t.requester.as_uuid())
        .bind(t.assignee.map(|a| a.as_uuid()))
        .bind(&t.subject)
        .bind(t.subject.to_lowercase())
        .bind(&t.description)
        .bind(t.status.as_str())
        .bind(t.priority.as_str())
        .bind(i64::from(t.priority.rank()))
        .bind(&t.category)
        .bind(Json(&t.tags))
        .bind(Json(&t.required_skills))
        .bind(t.sentiment.map(|s| s.as_str()))
        .bind(&t.language)
        .bind(t.channel.as_str())
        .bind(ms_of(t.created_at))
        .bind(ms_of(t.updated_at))
        .bind(t.first_response_at.map(ms_of))
        .bind(t.resolved_at.map(ms_of))
        .bind(t.closed_at.map(ms_of))
        .bind(t.sla.first_response_due.map(ms_of))
        .bind(t.sla.resolution_due.map(ms_of))
        .bind(t.sla.first_response_breached)
        .bind(t.sla.resolution_breached)
        .bind(t.sla.paused_since.map(ms_of))
        .bind(t.triage.as_ref().map(Json))
        .bind(t.merged_into.map(|x| x.as_uuid()))
        .bind(t.follow_up_of.map(|x| x.as_uuid()))
        .bind(t.csat.as_ref().map(|c| i64::from(c.score)))
        .bind(t.csat.as_ref().and_then(|c| c.comment.clone()))
        .bind(t.csat.as_ref().map(|c| ms_of(c.at)))
        .bind(int(t.version)?)
        .execute(&mut *tx)
        .await
        .step("baseline: inserting a ticket")?;
        for e in &r.events {
            sqlx::query(
                "INSERT INTO helpdesk.events (id, tenant_id, ticket_id, version, at, actor, \
                 kind, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(e.id.as_uuid())
            .bind(e.tenant_id.as_uuid())
            .bind(e.ticket_id.as_uuid())
            .bind(int(e.version)?)
            .bind(ms_of(e.at))
            .bind(e.actor.map(|a| a.as_uuid()))
            .bind(e.kind.name())
            .bind(Json(&e.kind))
            .execute(&mut *tx)
            .await
            .step("baseline: inserting an event")?;
        }
        for o in &r.outbox {
            sqlx::query(
                "INSERT INTO helpdesk.outbox (id, tenant_id, notification, created_at, \
                 attempts, next_attempt_at, delivered_at, last_error) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(o.id.as_uuid())
            .bind(o.tenant_id.as_uuid())
            .bind(Json(&o.notification))
            .bind(ms_of(o.created_at))
            .bind(i64::from(o.attempts))
            .bind(ms_of(o.next_attempt_at))
            .bind(o.delivered_at.map(ms_of))
            .bind(&o.last_error)
            .execute(&mut *tx)
            .await
            .step("baseline: inserting an outbox entry")?;
        }
        tx.commit().await.step("baseline: COMMIT")?;
        Ok(())
    }
}

/// `intake-postgres`: two fresh databases on `url` (dropped at the end), the helpdesk's
/// store on one and the baseline's plain statements on the other (migrated by the store).
/// The report's durability is the server's `fsync` setting.
pub async fn intake(options: &IntakeOptions, url: &str) -> Result<IntakeReport, BoxError> {
    let helpdesk_db = ScratchDatabase::create(url).await?;
    let baseline_db = match ScratchDatabase::create(url).await {
        Ok(db) => db,
        Err(e) => {
            helpdesk_db.drop().await;
            return Err(e);
        }
    };
    let stores =
        async { Ok::<_, BoxError>((helpdesk_db.store().await?, baseline_db.store().await?)) };
    let result = match stores.await {
        Ok((store, baseline_store)) => {
            let report = async {
                let fsync: String = sqlx::query_scalar("SHOW fsync")
                    .fetch_one(store.pool())
                    .await
                    .step("reading the server's fsync setting")?;
                let durability = if fsync == "off" {
                    "fsync off"
                } else {
                    "fsync on"
                };
                let baseline = PostgresBaseline {
                    store: baseline_store.clone(),
                };
                measure(
                    "postgres",
                    durability,
                    options,
                    Arc::new(store.clone()),
                    &baseline,
                )
                .await
            }
            .await;
            store.close().await;
            baseline_store.close().await;
            report
        }
        Err(e) => Err(e),
    };
    helpdesk_db.drop().await;
    baseline_db.drop().await;
    result
}
