//! The `queue` benchmark on PostgreSQL: the agent queue, the customer listing and analytics
//! on a store holding many tickets over many tenants, measured through the `TicketStore`
//! calls (the same reads as `helpdesk-bench queue` on SQLite).
//!
//! ```text
//! eval "$(scripts/start-postgres.sh)"
//! cargo run --release -p helpdesk-store-postgres --example queue -- [tickets] [tenants]
//! ```
//!
//! Loading: the tickets are written by `INSERT ... SELECT generate_series` straight into the
//! store's migrated schema (opening a million tickets through `open_ticket` would take
//! hours), one statement per tenant, then `VACUUM ANALYZE` (what autovacuum does to a freshly
//! filled table). Statuses: 15 % open in various states,
//! 10 % resolved, 75 % closed; 200 customers and 8 agents per tenant; a year of creation
//! times. The database is a fresh one on the `HELPDESK_POSTGRES_URL` server, dropped at the
//! end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::str::FromStr;
use std::time::{Duration, Instant};

use helpdesk_core::domain::TicketStatus;
use helpdesk_core::store::{TenantStore, TicketQuery, TicketSort, TicketStore, TimeRange};
use helpdesk_core::testkit::fixtures::tenant;
use helpdesk_core::{TenantId, UserId};
use helpdesk_store_postgres::{PgConnectOptions, PostgresStore};
use jiff::{SignedDuration, Timestamp};
use sqlx::Connection;
use uuid::Uuid;

const CUSTOMERS: i64 = 200;
const AGENTS: i64 = 8;

/// One tenant's tickets: `$1` tenant id, `$2` tenant index, `$3` count, `$4` now (ms).
const FILL_TENANT: &str = "
INSERT INTO helpdesk.tickets (id, tenant_id, number, requester, assignee, subject, subject_folded,
    description, status, priority, priority_rank, category, tags, required_skills, channel,
    created_at, updated_at, first_response_at, resolved_at, closed_at, sla_first_response_due,
    sla_resolution_due, sla_first_response_breached, sla_resolution_breached, version)
SELECT gen_random_uuid(), $1, n,
    md5('c' || $2 || '-' || (abs(hashint8(n * 31 + 7)::bigint) % 200))::uuid,
    CASE WHEN s.status = 'new' THEN NULL
        ELSE md5('a' || $2 || '-' || (abs(hashint8(n * 17 + 3)::bigint) % 8))::uuid END,
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

const FILL_USERS: &str = "
INSERT INTO helpdesk.users (id, tenant_id, email, name, role, skills, capacity, active, created_at)
SELECT md5(CASE WHEN u < $3 THEN 'c' ELSE 'a' END || $2 || '-' ||
        CASE WHEN u < $3 THEN u ELSE u - $3 END)::uuid,
    $1, 'u' || u || '@t' || $2 || '.test', 'User ' || u,
    CASE WHEN u < $3 THEN 'customer' ELSE 'agent' END, '[]', 10, true, u
FROM generate_series(0, $3 + $4 - 1) u";

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort_unstable();
    let rank = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let size: i64 = args.next().map_or(1_000_000, |a| a.parse().unwrap());
    let tenants: i64 = args.next().map_or(100, |a| a.parse().unwrap());
    let queries = 1000;
    let url = std::env::var("HELPDESK_POSTGRES_URL")
        .expect("HELPDESK_POSTGRES_URL is set (see scripts/start-postgres.sh)");
    let name = format!("hdbench_{}", Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .unwrap();
    let options = PgConnectOptions::from_str(&url).unwrap().database(&name);
    let store = PostgresStore::builder()
        .connect_with(options)
        .await
        .unwrap();
    let now = Timestamp::now();

    let started = Instant::now();
    let per_tenant = size / tenants;
    let mut loaded: Vec<(TenantId, Vec<UserId>)> = Vec::new();
    for i in 0..tenants {
        let t = tenant(&format!("tenant{i:03}"));
        store.create_tenant(&t).await.unwrap();
        sqlx::query(FILL_USERS)
            .bind(t.id.as_uuid())
            .bind(i)
            .bind(CUSTOMERS)
            .bind(AGENTS)
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query(FILL_TENANT)
            .bind(t.id.as_uuid())
            .bind(i)
            .bind(per_tenant)
            .bind(now.as_millisecond())
            .execute(store.pool())
            .await
            .unwrap();
        let customers: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM helpdesk.users WHERE tenant_id = $1 AND role = 'customer'",
        )
        .bind(t.id.as_uuid())
        .fetch_all(store.pool())
        .await
        .unwrap();
        loaded.push((t.id, customers.into_iter().map(UserId::from).collect()));
        if (i + 1) % 10 == 0 {
            eprintln!(
                "loaded {} tenants ({:.0} s)",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    // What autovacuum does to a table that was just filled: statistics, and the
    // visibility map that lets the agent queue read its index alone.
    sqlx::query("VACUUM ANALYZE")
        .execute(store.pool())
        .await
        .unwrap();
    let load_s = started.elapsed().as_secs_f64();
    let db_bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(store.pool())
        .await
        .unwrap();

    let agent_queue = TicketQuery {
        statuses: TicketStatus::ALL
            .iter()
            .copied()
            .filter(TicketStatus::is_open)
            .collect(),
        sort: TicketSort::PriorityThenAge,
        limit: 50,
        ..TicketQuery::default()
    };
    let warmup = 100;
    let mut queue = Vec::with_capacity(queries);
    for i in 0..warmup + queries {
        let (tenant, _) = &loaded[i % loaded.len()];
        let t = Instant::now();
        let page = store.list_tickets(*tenant, &agent_queue).await.unwrap();
        let elapsed = t.elapsed();
        assert!(!page.items.is_empty());
        if i >= warmup {
            queue.push(elapsed);
        }
    }
    let mut customer = Vec::with_capacity(queries);
    let mut seed: u64 = 0xc0ffee;
    for i in 0..warmup + queries {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let (tenant, customers) = &loaded[(seed % loaded.len() as u64) as usize];
        let query = TicketQuery {
            requester: Some(customers[((seed >> 20) % customers.len() as u64) as usize]),
            sort: TicketSort::Newest,
            limit: TicketQuery::MAX_LIMIT,
            ..TicketQuery::default()
        };
        let t = Instant::now();
        store.list_tickets(*tenant, &query).await.unwrap();
        if i >= warmup {
            customer.push(t.elapsed());
        }
    }
    let range = TimeRange::new(
        now.checked_sub(SignedDuration::from_hours(30 * 24))
            .unwrap(),
        now,
    )
    .unwrap();
    let mut analytics = Vec::new();
    for i in 0..=20 {
        let (tenant, _) = &loaded[i % loaded.len()];
        let t = Instant::now();
        store.analytics(*tenant, range, now).await.unwrap();
        if i > 0 {
            analytics.push(t.elapsed());
        }
    }
    store.close().await;
    sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();

    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "queue on PostgreSQL ({size} tickets over {tenants} tenants, {profile} build)\n\
         loading            {load_s:.1} s, {:.0} MB (INSERT ... SELECT generate_series, then VACUUM ANALYZE)\n\
         agent queue (50)   p50 {:.2} ms, p99 {:.2} ms (goal p99 <= 5 ms)\n\
         customer (200)     p50 {:.2} ms, p99 {:.2} ms\n\
         analytics (30 d)   median {:.1} ms, max {:.1} ms",
        db_bytes as f64 / 1e6,
        percentile(&mut queue, 0.5),
        percentile(&mut queue, 0.99),
        percentile(&mut customer, 0.5),
        percentile(&mut customer, 0.99),
        percentile(&mut analytics, 0.5),
        percentile(&mut analytics, 1.0),
    );
}
