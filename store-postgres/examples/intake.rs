//! The `intake` benchmark on PostgreSQL: tickets through `Helpdesk::open_ticket` against a
//! raw-sqlx baseline writing the same rows, side by side in one run (what
//! `helpdesk-bench intake-sqlite` does on SQLite).
//!
//! ```text
//! eval "$(scripts/start-postgres.sh)"
//! cargo run --release -p helpdesk-store-postgres --example intake -- [tickets] [rounds]
//! ```
//!
//! The helpdesk side does everything intake does: role check, validation, rules triage, the
//! ticket number, SLA due times, routing (agents and their open loads) and the one
//! transaction of the ticket, its events and its outbox entries. The baseline writes rows
//! of the same shape (made beforehand by the same `open_ticket` on the in-memory store) with
//! plain sqlx statements into a second database migrated by the store: one transaction per
//! ticket with the ticket row, its events and its outbox entries. The rounds alternate the
//! two sides (the order swapped every round) so drift of a noisy machine hits both alike;
//! each rate is the median of its per-round rates.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use helpdesk_core::domain::{Actor, Event, OutboxEntry, Role, Tenant, Ticket};
use helpdesk_core::service::{NewTenant, NewTicket, NewUser};
use helpdesk_core::store::{MemoryStore, OutboxStore, TenantStore, TicketStore};
use helpdesk_core::{DynStore, Helpdesk};
use helpdesk_store_postgres::{PgConnectOptions, PostgresStore};
use sqlx::types::Json;
use sqlx::{Connection, PgPool};
use uuid::Uuid;

const CUSTOMERS: usize = 50;
const WARMUP: usize = 50;

const TEXTS: &[(&str, &str)] = &[
    (
        "Charged twice for my subscription",
        "I was billed twice this month for the Pro plan. Please refund the duplicate charge.",
    ),
    (
        "Cannot log in after password reset",
        "The reset link worked but the new password is refused on the login page.",
    ),
    (
        "Export to CSV is broken",
        "Exporting the monthly report gives an empty file since yesterday.",
    ),
    (
        "How do I add a team member?",
        "We hired someone new and I cannot find where to invite them to our account.",
    ),
];

struct World {
    helpdesk: Helpdesk,
    tenant: Tenant,
    customers: Vec<Actor>,
}

impl World {
    async fn new(helpdesk: Helpdesk, slug: &str) -> Self {
        let (tenant, admin) = helpdesk
            .register_tenant(NewTenant {
                name: format!("Bench {slug}"),
                slug: slug.into(),
                admin: NewUser::new(&format!("admin@{slug}.test"), "Ada Admin", Role::Admin),
                settings: None,
            })
            .await
            .unwrap();
        let admin = Actor::for_user(&admin);
        for (i, skill) in ["billing", "technical", "account"].iter().enumerate() {
            helpdesk
                .add_user(
                    &admin,
                    NewUser::new(&format!("agent{i}@{slug}.test"), "Agent", Role::Agent)
                        .with_skills(&[skill]),
                )
                .await
                .unwrap();
        }
        let mut customers = Vec::new();
        for i in 0..CUSTOMERS {
            let user = helpdesk
                .add_user(
                    &admin,
                    NewUser::new(&format!("customer{i}@example.com"), "C", Role::Customer),
                )
                .await
                .unwrap();
            customers.push(Actor::for_user(&user));
        }
        Self {
            helpdesk,
            tenant,
            customers,
        }
    }

    async fn open(&self, i: usize) -> Ticket {
        let (subject, description) = TEXTS[i % TEXTS.len()];
        let ticket = NewTicket::new(subject, &format!("{description} (ref {i})"));
        self.helpdesk
            .open_ticket(&self.customers[i % self.customers.len()], ticket)
            .await
            .unwrap()
            .ticket
    }
}

struct Rows {
    ticket: Ticket,
    events: Vec<Event>,
    outbox: Vec<OutboxEntry>,
}

/// `n` tickets opened on the in-memory store, with their events and outbox entries.
async fn baseline_rows(n: usize) -> (Vec<Rows>, Tenant) {
    let store = Arc::new(MemoryStore::new());
    let world = World::new(Helpdesk::builder(store.clone()).build().unwrap(), "rows").await;
    let mut tickets = Vec::with_capacity(n);
    for i in 0..n {
        tickets.push(world.open(i).await);
    }
    let outbox = store.list_outbox(world.tenant.id).await.unwrap();
    let mut rows = Vec::with_capacity(n);
    for ticket in tickets {
        let events = store
            .list_events(ticket.tenant_id, ticket.id)
            .await
            .unwrap();
        let outbox = outbox
            .iter()
            .filter(|o| o.notification.ticket_number == ticket.number)
            .cloned()
            .collect();
        rows.push(Rows {
            ticket,
            events,
            outbox,
        });
    }
    (rows, world.tenant)
}

fn ms(t: jiff::Timestamp) -> i64 {
    t.as_millisecond()
}

/// The baseline: the rows of one ticket in one transaction, plain statements.
async fn insert_raw(pool: &PgPool, r: &Rows) {
    let t = &r.ticket;
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO helpdesk.tickets (id, tenant_id, number, requester, assignee, subject, \
         subject_folded, description, status, priority, priority_rank, category, tags, \
         required_skills, sentiment, language, channel, created_at, updated_at, \
         first_response_at, resolved_at, closed_at, sla_first_response_due, sla_resolution_due, \
         sla_first_response_breached, sla_resolution_breached, sla_paused_since, triage, \
         merged_into, follow_up_of, csat_score, csat_comment, csat_at, version) VALUES ($1, $2, \
         $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, \
         $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34)",
    )
    .bind(t.id.as_uuid())
    .bind(t.tenant_id.as_uuid())
    .bind(t.number as i64)
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
    .bind(t.triage.as_ref().map(Json))
    .bind(t.merged_into.map(|x| x.as_uuid()))
    .bind(t.follow_up_of.map(|x| x.as_uuid()))
    .bind(t.csat.as_ref().map(|c| i64::from(c.score)))
    .bind(t.csat.as_ref().and_then(|c| c.comment.clone()))
    .bind(t.csat.as_ref().map(|c| ms(c.at)))
    .bind(t.version as i64)
    .execute(&mut *tx)
    .await
    .unwrap();
    for e in &r.events {
        sqlx::query(
            "INSERT INTO helpdesk.events (id, tenant_id, ticket_id, version, at, actor, kind, \
             payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(e.id.as_uuid())
        .bind(e.tenant_id.as_uuid())
        .bind(e.ticket_id.as_uuid())
        .bind(e.version as i64)
        .bind(ms(e.at))
        .bind(e.actor.map(|a| a.as_uuid()))
        .bind(e.kind.name())
        .bind(Json(&e.kind))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    for o in &r.outbox {
        sqlx::query(
            "INSERT INTO helpdesk.outbox (id, tenant_id, notification, created_at, attempts, \
             next_attempt_at, delivered_at, last_error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(o.id.as_uuid())
        .bind(o.tenant_id.as_uuid())
        .bind(Json(&o.notification))
        .bind(ms(o.created_at))
        .bind(i64::from(o.attempts))
        .bind(ms(o.next_attempt_at))
        .bind(o.delivered_at.map(ms))
        .bind(&o.last_error)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn fresh_store(url: &str, admin: &mut sqlx::PgConnection) -> (PostgresStore, String) {
    let name = format!("hdbench_{}", Uuid::now_v7().simple());
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut *admin)
        .await
        .unwrap();
    let options = PgConnectOptions::from_str(url).unwrap().database(&name);
    let store = PostgresStore::builder()
        .connect_with(options)
        .await
        .unwrap();
    (store, name)
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let rank = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1]
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(2000, |a| a.parse().unwrap());
    let rounds: usize = args.next().map_or(10, |a| a.parse().unwrap());
    let url = std::env::var("HELPDESK_POSTGRES_URL")
        .expect("HELPDESK_POSTGRES_URL is set (see scripts/start-postgres.sh)");
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let (store, helpdesk_db) = fresh_store(&url, &mut admin).await;
    let (baseline, baseline_db) = fresh_store(&url, &mut admin).await;

    let per_round = n.div_ceil(rounds).max(1);
    let total = WARMUP + per_round * rounds;
    let (rows, generator_tenant) = baseline_rows(total).await;
    baseline.create_tenant(&generator_tenant).await.unwrap();
    let shared: DynStore = Arc::new(store.clone());
    let world = World::new(Helpdesk::builder(shared).build().unwrap(), "intake").await;

    for (i, row) in rows.iter().enumerate().take(WARMUP) {
        world.open(i).await;
        insert_raw(baseline.pool(), row).await;
    }
    let (mut hd_lat, mut base_lat) = (Vec::new(), Vec::new());
    let (mut hd_rates, mut base_rates) = (Vec::new(), Vec::new());
    let mut next = WARMUP;
    for round in 0..rounds {
        let range = next..next + per_round;
        next += per_round;
        for side in 0..2 {
            let helpdesk_side = (round + side) % 2 == 0;
            let started = Instant::now();
            for i in range.clone() {
                let t = Instant::now();
                if helpdesk_side {
                    world.open(i).await;
                    hd_lat.push(t.elapsed().as_secs_f64() * 1000.0);
                } else {
                    insert_raw(baseline.pool(), &rows[i]).await;
                    base_lat.push(t.elapsed().as_secs_f64() * 1000.0);
                }
            }
            let rate =
                per_round as f64 / started.elapsed().max(Duration::from_nanos(1)).as_secs_f64();
            if helpdesk_side {
                hd_rates.push(rate);
            } else {
                base_rates.push(rate);
            }
        }
    }
    let (hd, base) = (
        percentile(&mut hd_rates, 0.5),
        percentile(&mut base_rates, 0.5),
    );
    // The helpdesk's tenant got every ticket the service opened.
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM helpdesk.tickets")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(count as usize, WARMUP + per_round * rounds);
    store.close().await;
    baseline.close().await;
    for name in [helpdesk_db, baseline_db] {
        sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    let fsync: String = sqlx::query_scalar("SHOW fsync")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "intake on PostgreSQL ({} tickets per side, {rounds} alternating rounds, fsync {fsync}, {profile} build)\n\
         helpdesk open_ticket  {hd:.1} tickets/s (p50 {:.2} ms, p99 {:.2} ms)\n\
         raw sqlx baseline     {base:.1} tickets/s (p50 {:.2} ms, p99 {:.2} ms)\n\
         ratio                 {:.3} (goal >= 0.7)",
        per_round * rounds,
        percentile(&mut hd_lat, 0.5),
        percentile(&mut hd_lat, 0.99),
        percentile(&mut base_lat, 0.5),
        percentile(&mut base_lat, 0.99),
        hd / base,
    );
}
