//! Query-plan checks: on a migrated database with enough tickets that a wrong plan would
//! show (three tenants of 20,000 tickets, most of them closed, after `VACUUM ANALYZE`), the hot
//! statements read the indexes they were written for (`EXPLAIN`). They need a server:
//! without `HELPDESK_POSTGRES_URL` they are reported as ignored.
#![cfg(test)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use helpdesk_core::TenantId;
use helpdesk_core::domain::{Role, TicketStatus};
use helpdesk_core::store::{SearchQuery, TicketQuery, TicketSort};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool, Row};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::PostgresStore;
use crate::listing::{Filter, count_statement, statement};
use crate::sql::Sql;

const TICKETS_PER_TENANT: i64 = 20_000;

/// Three tenants' tickets (80 % resolved or closed; the rest spread over the open
/// statuses, priorities, 500 requesters and 20 assignees per tenant; every fiftieth tagged
/// `vip`; custom field `plan`: `Enterprise` on every hundredth, `Pro` on a fifth, `Free` on
/// the rest), agents and admins, two events per ticket and a canned response applied on every
/// tenth, a customer message with two attachments on every fifth ticket and a note on every
/// tenth (with the words search indexes), and 2,000 webhook endpoints per tenant (5 %
/// disabled, 10 % waiting for a retry).
const FILL: &str = "
INSERT INTO helpdesk.tenants (id, name, slug, settings, created_at)
    SELECT md5('tenant' || t)::uuid, 'Tenant ' || t, 'tenant-' || t, '{}', 0
    FROM generate_series(1, 3) t;
INSERT INTO helpdesk.users (id, tenant_id, email, name, role, skills, capacity, active, created_at)
    SELECT md5('user' || t || '-' || u)::uuid, md5('tenant' || t)::uuid, 'u' || u || '@t.test', 'U',
        CASE WHEN u <= 20 THEN 'agent' WHEN u <= 22 THEN 'admin' ELSE 'customer' END,
        '[]', 10, true, u
    FROM generate_series(1, 3) t, generate_series(1, 522) u;
INSERT INTO helpdesk.tickets (id, tenant_id, number, requester, assignee, subject, subject_folded,
    description, status, priority, priority_rank, tags, required_skills, channel, created_at,
    updated_at, resolved_at, sla_first_response_breached, sla_resolution_breached, version,
    search_subject, search_details, custom_fields, field_tokens)
SELECT gen_random_uuid(), md5('tenant' || t)::uuid, n,
    md5('user' || t || '-' || (23 + n % 500))::uuid,
    CASE WHEN n % 7 = 0 THEN NULL ELSE md5('user' || t || '-' || (1 + n % 20))::uuid END,
    'Ticket ' || n || ' about the ' || (ARRAY['printer', 'login', 'invoice', 'vpn', 'mailbox'])[1 + n % 5],
    'ticket ' || n || ' about the ' || (ARRAY['printer', 'login', 'invoice', 'vpn', 'mailbox'])[1 + n % 5],
    'Body', s.status, (ARRAY['low', 'medium', 'high', 'urgent'])[1 + n % 4], n % 4,
    CASE WHEN n % 50 = 0 THEN jsonb_build_array('vip') ELSE '[]' END, '[]',
    CASE WHEN n % 3 = 0 THEN 'chat' ELSE 'email' END,
    n * 60000, n * 60000,
    CASE WHEN s.status IN ('resolved', 'closed') THEN n * 60000 + 3600000 END, false, false, 1,
    'ticket ' || n || ' about the ' || (ARRAY['printer', 'login', 'invoice', 'vpn', 'mailbox'])[1 + n % 5] || ' body',
    (CASE WHEN n % 50 = 0 THEN 'vip ' ELSE '' END) || lower(p.plan),
    jsonb_build_object('plan', p.plan), ARRAY['plan=' || p.plan]
FROM generate_series(1, 3) t, generate_series(1, $1) n,
    LATERAL (SELECT CASE WHEN n % 10 < 8 THEN (ARRAY['resolved', 'closed'])[1 + n % 2]
        ELSE (ARRAY['new', 'open', 'in_progress', 'pending', 'escalated'])[1 + (n / 10) % 5] END
        AS status) s,
    LATERAL (SELECT CASE WHEN n % 100 = 0 THEN 'Enterprise' WHEN n % 5 = 1 THEN 'Pro'
        ELSE 'Free' END AS plan) p;
INSERT INTO helpdesk.events (id, tenant_id, ticket_id, version, at, actor, kind, payload)
    SELECT gen_random_uuid(), tenant_id, id, v, created_at + v * 1000, NULL, 'note', '{}'
    FROM helpdesk.tickets, generate_series(1, 2) v;
INSERT INTO helpdesk.events (id, tenant_id, ticket_id, version, at, actor, kind, payload)
    SELECT gen_random_uuid(), tenant_id, id, 3, created_at + 3000, NULL, 'canned_response_applied',
        jsonb_build_object('type', 'canned_response_applied',
            'canned_response', md5('canned' || number % 20)::uuid, 'name', 'Canned')
    FROM helpdesk.tickets WHERE number % 10 = 0;
INSERT INTO helpdesk.messages (id, tenant_id, ticket_id, author_kind, kind, body, created_at,
    citations, search_body)
    SELECT md5('message' || id)::uuid, tenant_id, id, 'customer', 'reply', 'Reply to ' || subject,
        created_at, '[]', 'reply to ' || subject_folded
    FROM helpdesk.tickets WHERE number % 5 = 0;
INSERT INTO helpdesk.attachments (id, tenant_id, ticket_id, message_id, file_name, content_type,
    size, sha256, created_at)
    SELECT gen_random_uuid(), tenant_id, ticket_id, id, 'file-' || f || '.txt', 'text/plain', 10,
        md5(id::text || f) || md5(f || id::text), created_at
    FROM helpdesk.messages, generate_series(1, 2) f;
INSERT INTO helpdesk.messages (id, tenant_id, ticket_id, author_kind, kind, body, created_at,
    citations, search_body)
    SELECT md5('note' || id)::uuid, tenant_id, id, 'agent', 'note', 'Note on ' || subject,
        created_at + 1000, '[]', 'note on ' || subject_folded
    FROM helpdesk.tickets WHERE number % 10 = 0;
INSERT INTO helpdesk.webhooks (id, tenant_id, url, event_types, secret, enabled,
    consecutive_failures, next_attempt_at, created_at)
    SELECT gen_random_uuid(), md5('tenant' || t)::uuid, 'https://hooks.test/' || w, '[]', 's',
        w % 20 <> 0, CASE WHEN w % 10 = 1 THEN 1 ELSE 0 END,
        CASE WHEN w % 10 = 1 THEN w * 60000 END, w
    FROM generate_series(1, 3) t, generate_series(1, 2000) w;
";

/// One filled database per test process (filling it takes a few seconds), and a pool of
/// the calling test on it: each test has its own runtime, and a pool's connections live on
/// the runtime that opened them, so only the database name is shared.
async fn filled() -> PgPool {
    static NAME: OnceCell<String> = OnceCell::const_new();
    let url = std::env::var("HELPDESK_POSTGRES_URL").expect("HELPDESK_POSTGRES_URL is set");
    let pool_on = async |name: &str| {
        let options = PgConnectOptions::from_str(&url).unwrap().database(name);
        PgPoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .unwrap()
    };
    let name = NAME
        .get_or_init(|| async {
            let name = format!("hdtest_{}", Uuid::now_v7().simple());
            let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&mut admin)
                .await
                .unwrap();
            let pool = pool_on(&name).await;
            PostgresStore::new(pool.clone()).migrate().await.unwrap();
            let fill = FILL.replace("$1", &TICKETS_PER_TENANT.to_string());
            sqlx::Executor::execute(&pool, sqlx::raw_sql(&fill))
                .await
                .unwrap();
            // As autovacuum would: statistics, and the visibility map index-only scans need.
            sqlx::query("VACUUM ANALYZE").execute(&pool).await.unwrap();
            pool.close().await;
            name
        })
        .await;
    pool_on(name).await
}

/// The tenant id FILL gave tenant 1.
async fn tenant_one(pool: &PgPool) -> TenantId {
    let id: Uuid = sqlx::query_scalar("SELECT md5('tenant1')::uuid")
        .fetch_one(pool)
        .await
        .unwrap();
    TenantId::from(id)
}

fn plan_of(rows: &[sqlx::postgres::PgRow]) -> String {
    rows.iter()
        .map(|r| r.get::<String, _>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The plan of the listing statement for `query`.
async fn listing_plan(query: &TicketQuery) -> String {
    let pool = &filled().await;
    let tenant = tenant_one(pool).await;
    let mut statuses = query.statuses.clone();
    statuses.sort_unstable_by_key(|s| s.as_str());
    let needle = query.text.as_deref().map(str::to_lowercase);
    let filter = Filter {
        sql: &Sql::default(),
        tenant,
        query,
        needle: needle.as_deref(),
        cursor: None,
    };
    let mut q = statement("EXPLAIN ", &filter, &statuses, 51);
    plan_of(&q.build().fetch_all(pool).await.unwrap())
}

/// The plan of a fixed statement, the tenant as `$1` and then `binds` as text.
async fn plan_of_statement(sql: &str, binds: &[&str]) -> String {
    let pool = &filled().await;
    let tenant = tenant_one(pool).await;
    let explain = format!("EXPLAIN {sql}");
    let mut query = sqlx::query(&explain).bind(tenant.as_uuid());
    for value in binds {
        query = query.bind(*value);
    }
    plan_of(&query.fetch_all(pool).await.unwrap())
}

fn open_statuses() -> Vec<TicketStatus> {
    vec![
        TicketStatus::New,
        TicketStatus::Open,
        TicketStatus::InProgress,
        TicketStatus::Pending,
        TicketStatus::Escalated,
    ]
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn agent_queue_reads_the_queue_index_once_per_status_in_order() {
    for (sort, exclude_bot_chats) in [
        (TicketSort::PriorityThenAge, false),
        (TicketSort::EscalatedFirst, true),
    ] {
        let query = TicketQuery {
            statuses: open_statuses(),
            sort,
            exclude_bot_chats,
            ..TicketQuery::default()
        };
        let plan = listing_plan(&query).await;
        assert_eq!(
            plan.matches("Only Scan using tickets_queue").count(),
            5 - usize::from(exclude_bot_chats),
            "one ordered, index-only read of the queue index per status:\n{plan}"
        );
        assert_eq!(
            plan.matches("Index Scan using tickets_queue").count(),
            usize::from(exclude_bot_chats),
            "leaving out bot chats reads the channel of New tickets only:\n{plan}"
        );
        assert!(plan.contains("tickets_pkey"), "winners by key:\n{plan}");
        assert!(!plan.contains("Seq Scan"), "no scan of the table:\n{plan}");
        // Only the merged keys (at most 5 x 51) and the winners are sorted, never a
        // status's tickets as a whole.
        assert_eq!(plan.matches("Sort Key").count(), 2, "{plan}");
    }
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn customer_listing_reads_the_requester_index_in_order() {
    let pool = &filled().await;
    let requester: Uuid = sqlx::query_scalar("SELECT md5('user1-23')::uuid")
        .fetch_one(pool)
        .await
        .unwrap();
    let query = TicketQuery {
        requester: Some(requester.into()),
        sort: TicketSort::Newest,
        ..TicketQuery::default()
    };
    let plan = listing_plan(&query).await;
    assert!(plan.contains("tickets_requester"), "{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
    assert!(!plan.contains("Sort"), "read in order, not sorted:\n{plan}");
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn text_filter_reads_the_trigram_index() {
    let query = TicketQuery {
        text: Some("Ticket 12345 ".into()),
        ..TicketQuery::default()
    };
    let plan = listing_plan(&query).await;
    assert!(plan.contains("tickets_subject_trgm"), "{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn open_ticket_counts_read_only_the_partial_index() {
    let plan = plan_of_statement(crate::tickets::OPEN_TICKET_COUNTS, &[]).await;
    assert!(plan.contains("tickets_open_by_assignee"), "{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn routing_staff_counts_from_the_partial_index() {
    let plan = plan_of_statement(
        crate::people::ROUTING_STAFF,
        &[Role::Agent.as_str(), Role::Admin.as_str()],
    )
    .await;
    assert!(plan.contains("tickets_open_by_assignee"), "{plan}");
    assert!(plan.contains("users_role"), "{plan}");
    assert!(!plan.contains("Seq Scan on tickets"), "{plan}");
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn analytics_of_a_day_reads_the_creation_index() {
    let pool = &filled().await;
    let tenant = tenant_one(pool).await;
    // One day out of the two weeks the tickets span.
    let plan = plan_of(
        &sqlx::query(
            "EXPLAIN SELECT status, count(*) FROM helpdesk.tickets WHERE tenant_id = $1 \
             AND merged_into IS NULL AND created_at >= $2 AND created_at < $3 GROUP BY status",
        )
        .bind(tenant.as_uuid())
        .bind(0_i64)
        .bind(86_400_000_i64)
        .fetch_all(pool)
        .await
        .unwrap(),
    );
    assert!(plan.contains("tickets_created"), "{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn the_event_feed_reads_its_index_in_order() {
    let pool = &filled().await;
    let tenant = tenant_one(pool).await;
    // From the start (every event of the tenant after it) and from a recent cursor.
    for since in [0_i64, 1_000 * 60_000] {
        let explain = format!("EXPLAIN {}", crate::tickets::TENANT_EVENTS);
        let plan = plan_of(
            &sqlx::query(&explain)
                .bind(tenant.as_uuid())
                .bind(since)
                .bind(100_i64)
                .fetch_all(pool)
                .await
                .unwrap(),
        );
        assert!(plan.contains("events_tenant_feed"), "{plan}");
        assert!(!plan.contains("Sort"), "read in order, not sorted:\n{plan}");
        assert!(!plan.contains("Seq Scan"), "{plan}");
    }
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn due_webhooks_read_one_range_of_the_partial_index_in_order() {
    let pool = &filled().await;
    // Early (only the endpoints with no retry waiting are due) and late (all enabled ones).
    for now in [0_i64, 1_000 * 60_000, i64::MAX] {
        let explain = format!("EXPLAIN {}", crate::webhooks::DUE_WEBHOOKS);
        let plan = plan_of(
            &sqlx::query(&explain)
                .bind(now)
                .bind(100_i64)
                .fetch_all(pool)
                .await
                .unwrap(),
        );
        assert!(plan.contains("Index Scan using webhooks_due"), "{plan}");
        assert!(
            plan.contains("Index Cond"),
            "the due ones as an index range, not a filter:\n{plan}"
        );
        assert!(!plan.contains("Sort"), "read in order, not sorted:\n{plan}");
        assert!(!plan.contains("Seq Scan"), "{plan}");
    }
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn webhooks_of_a_tenant_read_their_index() {
    let plan = plan_of_statement(
        "SELECT id FROM helpdesk.webhooks WHERE tenant_id = $1 ORDER BY created_at, id",
        &[],
    )
    .await;
    assert!(plan.contains("webhooks_tenant"), "{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn a_tickets_attachments_read_their_index_in_order() {
    let pool = &filled().await;
    let tenant = tenant_one(pool).await;
    let ticket: Uuid = sqlx::query_scalar(
        "SELECT ticket_id FROM helpdesk.attachments WHERE tenant_id = $1 LIMIT 1",
    )
    .bind(tenant.as_uuid())
    .fetch_one(pool)
    .await
    .unwrap();
    let plan = attachment_plan(crate::attachments::TICKET_ATTACHMENTS, ticket).await;
    assert!(plan.contains("attachments_ticket"), "{plan}");
    assert!(!plan.contains("Sort"), "read in order, not sorted:\n{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn one_attachment_is_read_by_its_primary_key() {
    let plan = attachment_plan(crate::attachments::TENANT_ATTACHMENT, Uuid::now_v7()).await;
    assert!(plan.contains("attachments_pkey"), "{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
}

/// The plan of an attachment read: tenant 1 as `$1`, `id` (a ticket's or an attachment's)
/// as `$2`.
async fn attachment_plan(sql: &str, id: Uuid) -> String {
    let pool = &filled().await;
    let tenant = tenant_one(pool).await;
    let explain = format!("EXPLAIN {sql}");
    plan_of(
        &sqlx::query(&explain)
            .bind(tenant.as_uuid())
            .bind(id)
            .fetch_all(pool)
            .await
            .unwrap(),
    )
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn canned_response_usage_reads_only_the_partial_index() {
    let pool = &filled().await;
    let tenant = tenant_one(pool).await;
    // The whole history, and a recent period.
    for since in [0_i64, 19_000 * 60_000] {
        let explain = format!("EXPLAIN {}", crate::canned::USAGE);
        let plan = plan_of(
            &sqlx::query(&explain)
                .bind(tenant.as_uuid())
                .bind(since)
                .fetch_all(pool)
                .await
                .unwrap(),
        );
        assert!(plan.contains("events_canned_applied"), "{plan}");
        assert!(!plan.contains("Seq Scan"), "{plan}");
    }
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn a_count_by_status_reads_the_queue_index() {
    let pool = &filled().await;
    let tenant = tenant_one(pool).await;
    // A saved view's count: the open statuses, bot chats left out, as the sidebar asks.
    let mut statuses = open_statuses();
    statuses.sort_unstable_by_key(|s| s.as_str());
    let query = TicketQuery {
        statuses: statuses.clone(),
        exclude_bot_chats: true,
        ..TicketQuery::default()
    };
    let filter = Filter {
        sql: &Sql::default(),
        tenant,
        query: &query,
        needle: None,
        cursor: None,
    };
    let mut q = count_statement("EXPLAIN ", &filter, &statuses);
    let plan = plan_of(&q.build().fetch_all(pool).await.unwrap());
    assert!(plan.contains("tickets_queue"), "{plan}");
    assert!(!plan.contains("Seq Scan"), "no scan of the table:\n{plan}");
}

/// The plan of a staff search for `terms` (with `filter`'s filters) in tenant 1.
async fn search_plan(terms: &[&str], filter: SearchQuery) -> String {
    let pool = &filled().await;
    let tenant = tenant_one(pool).await;
    let query = SearchQuery {
        terms: terms.iter().map(|t| (*t).to_string()).collect(),
        ..filter
    };
    let mut q =
        crate::search::statement("EXPLAIN ", &Sql::default(), tenant, &query, None, 26).unwrap();
    plan_of(&q.build().fetch_all(pool).await.unwrap())
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn a_staff_search_reads_the_word_indexes() {
    for terms in [&["12345"][..], &["ticket", "1234"], &["vip"]] {
        let staff = SearchQuery {
            staff: true,
            ..SearchQuery::default()
        };
        let plan = search_plan(terms, staff).await;
        // The requester's trigram index needs pg_trgm, which the test server has (see
        // `text_filter_reads_the_trigram_index`).
        for index in [
            "tickets_search_subject",
            "tickets_search_details",
            "users_search_trgm",
            "messages_search_body",
        ] {
            assert!(plan.contains(index), "{terms:?} reads {index}:\n{plan}");
        }
        assert!(!plan.contains("Seq Scan on tickets"), "{terms:?}:\n{plan}");
        assert!(!plan.contains("Seq Scan on messages"), "{terms:?}:\n{plan}");
    }
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn a_customer_search_reads_indexes_only() {
    let pool = &filled().await;
    let requester: Uuid = sqlx::query_scalar("SELECT md5('user1-23')::uuid")
        .fetch_one(pool)
        .await
        .unwrap();
    let mine = SearchQuery {
        requester: Some(requester.into()),
        ..SearchQuery::default()
    };
    let plan = search_plan(&["printer"], mine).await;
    assert!(!plan.contains("Seq Scan"), "{plan}");
    assert!(
        !plan.contains("users"),
        "customers do not search requesters:\n{plan}"
    );
    assert!(plan.contains("tickets_requester"), "{plan}");
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn a_field_filter_reads_the_field_tokens_index() {
    let pool = &filled().await;
    let tenant = tenant_one(pool).await;
    // A rare value (1 % of the tickets), alone and with a common one.
    for fields in [
        vec!["plan=Enterprise".to_owned()],
        vec!["plan=Enterprise".to_owned(), "plan=Free".to_owned()],
    ] {
        let query = TicketQuery {
            fields: fields.clone(),
            sort: TicketSort::Newest,
            ..TicketQuery::default()
        };
        let plan = listing_plan(&query).await;
        assert!(plan.contains("tickets_field_tokens"), "{fields:?}:\n{plan}");
        assert!(!plan.contains("Seq Scan"), "{fields:?}:\n{plan}");
        let filter = Filter {
            sql: &Sql::default(),
            tenant,
            query: &query,
            needle: None,
            cursor: None,
        };
        let mut q = count_statement("EXPLAIN ", &filter, &[]);
        let plan = plan_of(&q.build().fetch_all(pool).await.unwrap());
        assert!(plan.contains("tickets_field_tokens"), "{fields:?}:\n{plan}");
        assert!(!plan.contains("Seq Scan"), "{fields:?}:\n{plan}");
    }
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn a_search_with_a_field_filter_reads_indexes_only() {
    let staff = SearchQuery {
        staff: true,
        fields: vec!["plan=Enterprise".to_owned()],
        ..SearchQuery::default()
    };
    // A common word (every ticket's subject) and a field value (a Details word).
    for terms in [&["ticket"][..], &["enterprise"]] {
        let plan = search_plan(terms, staff.clone()).await;
        assert!(!plan.contains("Seq Scan on tickets"), "{terms:?}:\n{plan}");
        assert!(!plan.contains("Seq Scan on messages"), "{terms:?}:\n{plan}");
    }
}
