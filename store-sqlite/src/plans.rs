//! Query-plan checks: the hot statements read the indexes they were written for
//! (`EXPLAIN QUERY PLAN` on a migrated database, after `ANALYZE`).
#![cfg(test)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use helpdesk_core::TenantId;
use helpdesk_core::domain::{Role, TicketStatus};
use helpdesk_core::store::{TicketQuery, TicketSort};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::SqliteStore;
use crate::listing::{Filter, count_statement, statement};

/// The plan's detail lines, one per step.
fn plan_of(rows: &[SqliteRow]) -> String {
    rows.iter()
        .map(|r| r.get::<String, _>("detail"))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn analyzed_store() -> SqliteStore {
    let store = SqliteStore::temporary().await.unwrap();
    sqlx::query("ANALYZE").execute(store.pool()).await.unwrap();
    store
}

/// The plan of a fixed statement, its parameters bound in order.
async fn plan_of_statement(sql: &str, binds: &[String]) -> String {
    let store = analyzed_store().await;
    let explain = format!("EXPLAIN QUERY PLAN {sql}");
    let mut query = sqlx::query(&explain);
    for value in binds {
        query = query.bind(value.as_str());
    }
    plan_of(&query.fetch_all(store.pool()).await.unwrap())
}

#[tokio::test]
async fn agent_queue_reads_the_queue_index_once_per_status_in_order() {
    let store = analyzed_store().await;
    let open = vec![
        TicketStatus::New,
        TicketStatus::Open,
        TicketStatus::InProgress,
        TicketStatus::Pending,
        TicketStatus::Escalated,
    ];
    // The web queue's query (escalated first, bot chats left out) reads the index the same
    // way as the plain priority queue.
    for (sort, exclude_bot_chats) in [
        (TicketSort::PriorityThenAge, false),
        (TicketSort::EscalatedFirst, true),
    ] {
        let query = TicketQuery {
            statuses: open.clone(),
            sort,
            exclude_bot_chats,
            ..TicketQuery::default()
        };
        let filter = Filter {
            sql: &crate::sql::Sql::default(),
            tenant: TenantId::new(),
            query: &query,
            needle: None,
            cursor: None,
        };
        let mut q = statement("EXPLAIN QUERY PLAN SELECT ", &filter, &open, 51);
        let rows = q.build().fetch_all(store.pool()).await.unwrap();
        let plan = plan_of(&rows);
        // Leaving out bot chats reads the channel of New tickets only (a bot chat is New).
        let covering = open.len() - usize::from(exclude_bot_chats);
        assert_eq!(
            plan.matches("USING COVERING INDEX helpdesk_tickets_queue")
                .count(),
            covering,
            "one ordered, index-only read per status:\n{plan}"
        );
        assert_eq!(
            plan.matches("USING INDEX helpdesk_tickets_queue").count(),
            open.len() - covering,
            "one ordered read per status:\n{plan}"
        );
        assert!(
            !plan.contains("SCAN helpdesk_tickets"),
            "never a scan of the table:\n{plan}"
        );
        // A branch is never sorted: only the merged keys and the winning rows are.
        assert_eq!(
            plan.matches("TEMP B-TREE").count(),
            2,
            "sorts of the merged keys and of the winners only:\n{plan}"
        );
    }
}

#[tokio::test]
async fn open_ticket_counts_read_only_the_partial_index() {
    let tenant = TenantId::new().to_string();
    let plan = plan_of_statement(crate::tickets::OPEN_TICKET_COUNTS, &[tenant]).await;
    assert!(
        plan.contains("USING COVERING INDEX helpdesk_tickets_open_by_assignee"),
        "{plan}"
    );
}

#[tokio::test]
async fn users_of_a_role_read_the_role_index() {
    let binds = [
        TenantId::new().to_string(),
        Role::Agent.as_str().to_string(),
    ];
    let plan = plan_of_statement(crate::people::USERS_OF_ROLE, &binds).await;
    assert!(plan.contains("USING INDEX helpdesk_users_role"), "{plan}");
    assert!(!plan.contains("TEMP B-TREE"), "no sort: {plan}");
}

#[tokio::test]
async fn routing_staff_counts_from_the_partial_index() {
    let binds = [
        TenantId::new().to_string(),
        "agent".into(),
        "admin".into(),
        "agent".into(),
    ];
    let plan = plan_of_statement(crate::people::ROUTING_STAFF, &binds).await;
    assert!(
        plan.contains("USING COVERING INDEX helpdesk_tickets_open_by_assignee"),
        "{plan}"
    );
    assert!(plan.contains("USING INDEX helpdesk_users_role"), "{plan}");
}

#[tokio::test]
async fn the_event_feed_reads_its_index_in_order() {
    let binds = [TenantId::new().to_string(), "0".into(), "100".into()];
    let plan = plan_of_statement(crate::tickets::TENANT_EVENTS, &binds).await;
    assert!(
        plan.contains("USING INDEX helpdesk_events_tenant_feed"),
        "{plan}"
    );
    assert!(!plan.contains("TEMP B-TREE"), "no sort: {plan}");
}

#[tokio::test]
async fn api_keys_of_a_tenant_read_their_index_in_order() {
    let binds = [TenantId::new().to_string()];
    let plan = plan_of_statement(crate::api_keys::TENANT_KEYS, &binds).await;
    assert!(
        plan.contains("USING INDEX helpdesk_api_keys_newest"),
        "{plan}"
    );
    assert!(!plan.contains("TEMP B-TREE"), "no sort: {plan}");
}

#[tokio::test]
async fn a_tickets_attachments_read_their_index_in_order() {
    let binds = [TenantId::new().to_string(), TenantId::new().to_string()];
    let plan = plan_of_statement(crate::attachments::TICKET_ATTACHMENTS, &binds).await;
    assert!(
        plan.contains("USING INDEX helpdesk_attachments_ticket"),
        "{plan}"
    );
    assert!(!plan.contains("TEMP B-TREE"), "no sort: {plan}");
}

#[tokio::test]
async fn one_attachment_is_read_by_its_primary_key() {
    let binds = [TenantId::new().to_string(), TenantId::new().to_string()];
    let plan = plan_of_statement(crate::attachments::TENANT_ATTACHMENT, &binds).await;
    assert!(
        plan.contains("USING INDEX sqlite_autoindex_helpdesk_attachments_1"),
        "{plan}"
    );
}

#[tokio::test]
async fn canned_response_usage_reads_only_the_partial_index() {
    let binds = [TenantId::new().to_string(), "0".into()];
    let plan = plan_of_statement(crate::canned::USAGE, &binds).await;
    assert!(
        plan.contains("USING INDEX helpdesk_events_canned_applied"),
        "{plan}"
    );
}

#[tokio::test]
async fn canned_responses_of_a_tenant_read_their_index_in_order() {
    let binds = [TenantId::new().to_string()];
    let plan = plan_of_statement(crate::canned::TENANT_CANNED, &binds).await;
    assert!(
        plan.contains("USING INDEX helpdesk_canned_responses_tenant"),
        "{plan}"
    );
    assert!(!plan.contains("TEMP B-TREE"), "no sort: {plan}");
}

#[tokio::test]
async fn a_count_by_status_reads_the_queue_index() {
    let store = analyzed_store().await;
    // One status, and several (a saved view of the open queue), bot chats left out or not.
    for (statuses, exclude_bot_chats) in [
        (vec![TicketStatus::Open], false),
        (vec![TicketStatus::New, TicketStatus::Pending], true),
    ] {
        let query = TicketQuery {
            statuses: statuses.clone(),
            exclude_bot_chats,
            ..TicketQuery::default()
        };
        let filter = Filter {
            sql: &crate::sql::Sql::default(),
            tenant: TenantId::new(),
            query: &query,
            needle: None,
            cursor: None,
        };
        let mut q = count_statement("EXPLAIN QUERY PLAN SELECT ", &filter, &statuses);
        let rows = q.build().fetch_all(store.pool()).await.unwrap();
        let plan = plan_of(&rows);
        assert!(plan.contains("INDEX helpdesk_tickets_queue"), "{plan}");
        assert!(
            !plan.contains("SCAN helpdesk_tickets"),
            "never a scan of the table:\n{plan}"
        );
    }
}

#[tokio::test]
async fn a_teams_open_tickets_are_counted_from_the_team_index() {
    let store = analyzed_store().await;
    let statuses = vec![TicketStatus::New, TicketStatus::Open];
    let query = TicketQuery {
        statuses: statuses.clone(),
        team: Some("billing".into()),
        ..TicketQuery::default()
    };
    let filter = Filter {
        sql: &crate::sql::Sql::default(),
        tenant: TenantId::new(),
        query: &query,
        needle: None,
        cursor: None,
    };
    let mut q = count_statement("EXPLAIN QUERY PLAN SELECT ", &filter, &statuses);
    let rows = q.build().fetch_all(store.pool()).await.unwrap();
    let plan = plan_of(&rows);
    assert!(plan.contains("INDEX helpdesk_tickets_team"), "{plan}");
    assert!(!plan.contains("SCAN helpdesk_tickets"), "{plan}");
}

#[tokio::test]
async fn a_field_filter_checks_the_rows_the_tenant_indexes_find() {
    let store = analyzed_store().await;
    let fields = vec!["plan=Pro".to_owned(), "modules=CRM".to_owned()];
    let open = vec![TicketStatus::New, TicketStatus::Open];
    for (statuses, sort) in [
        (Vec::new(), TicketSort::Newest),
        (open.clone(), TicketSort::PriorityThenAge),
    ] {
        let query = TicketQuery {
            statuses: statuses.clone(),
            fields: fields.clone(),
            sort,
            ..TicketQuery::default()
        };
        let filter = Filter {
            sql: &crate::sql::Sql::default(),
            tenant: TenantId::new(),
            query: &query,
            needle: None,
            cursor: None,
        };
        for mut q in [
            statement("EXPLAIN QUERY PLAN SELECT ", &filter, &statuses, 51),
            count_statement("EXPLAIN QUERY PLAN SELECT ", &filter, &statuses),
        ] {
            let plan = plan_of(&q.build().fetch_all(store.pool()).await.unwrap());
            assert!(
                plan.lines()
                    .any(|l| l.starts_with("SEARCH helpdesk_tickets USING INDEX")
                        && l.contains("(tenant_id=?")),
                "the tenant's index:\n{plan}"
            );
            assert!(
                !plan.contains("SCAN helpdesk_tickets"),
                "never a scan of the table:\n{plan}"
            );
            // Per token, a `json_each` of the row's tokens; otherwise only the statement's
            // own branches (the queue's, one per status) are scanned.
            for line in plan.lines().filter(|l| l.starts_with("SCAN ")) {
                assert!(
                    line.starts_with("SCAN json_each ") || line.starts_with("SCAN (subquery-"),
                    "{line}:\n{plan}"
                );
            }
            let checks = plan.matches("SCAN json_each ").count();
            assert!(checks > 0 && checks.is_multiple_of(fields.len()), "{plan}");
        }
    }
}

#[tokio::test]
async fn saved_views_of_a_tenant_read_their_index_in_order() {
    let binds = [TenantId::new().to_string()];
    let plan = plan_of_statement(crate::views::TENANT_VIEWS, &binds).await;
    assert!(
        plan.contains("USING INDEX helpdesk_saved_views_tenant"),
        "{plan}"
    );
    assert!(!plan.contains("TEMP B-TREE"), "no sort: {plan}");
}

/// The plan of the search statement for `query`.
async fn search_plan(store: &SqliteStore, query: &helpdesk_core::store::SearchQuery) -> String {
    let cursor = helpdesk_core::store::SearchCursor {
        rank: 1,
        updated_ms: 0,
        id: helpdesk_core::TicketId::new(),
    };
    let mut q = crate::search::statement(
        "EXPLAIN QUERY PLAN ",
        &crate::sql::Sql::default(),
        TenantId::new(),
        query,
        Some(&cursor),
        26,
    );
    plan_of(&q.build().fetch_all(store.pool()).await.unwrap())
}

/// Each `SCAN` of the plan: only the full-text indexes (by `MATCH`), the statement's own
/// candidates and the tags of a ticket (`json_each`), never a table.
fn scans_only_indexes_and_candidates(plan: &str) {
    for line in plan.lines().filter(|l| l.starts_with("SCAN ")) {
        assert!(
            line.contains("VIRTUAL TABLE INDEX 0:M")
                || [
                    "SCAN hits",
                    "SCAN best",
                    "SCAN (subquery-",
                    "SCAN json_each "
                ]
                .iter()
                .any(|own| line.starts_with(own)),
            "{line} in\n{plan}"
        );
    }
}

#[tokio::test]
async fn search_reads_the_word_indexes_and_keys_never_the_tenant() {
    use helpdesk_core::store::{SearchQuery, SlaFilter};

    let store = analyzed_store().await;
    // Staff, filtered, a term long enough for the trigram index of the requesters.
    let staff = SearchQuery {
        terms: vec!["refund".into(), "ca".into()],
        staff: true,
        statuses: vec![TicketStatus::Open, TicketStatus::New],
        sla: Some(SlaFilter::Breached),
        tag: Some("vip".into()),
        fields: vec!["plan=Pro".into(), "modules=CRM".into()],
        ..SearchQuery::default()
    };
    let plan = search_plan(&store, &staff).await;
    scans_only_indexes_and_candidates(&plan);
    assert_eq!(
        plan.matches("SCAN helpdesk_tickets_search VIRTUAL TABLE")
            .count(),
        2,
        "Subject and Details:\n{plan}"
    );
    assert!(plan.contains("SCAN us VIRTUAL TABLE"), "{plan}");
    assert!(plan.contains("SCAN s VIRTUAL TABLE"), "{plan}");
    // From a match to its row by key: message and user keys, the message, the ticket.
    for step in [
        "SEARCH k USING INTEGER PRIMARY KEY (rowid=?)",
        "SEARCH uk USING INTEGER PRIMARY KEY (rowid=?)",
        "SEARCH m USING INDEX sqlite_autoindex_helpdesk_messages_1 (id=?)",
        "SEARCH t USING COVERING INDEX helpdesk_tickets_requester (tenant_id=? AND requester=?)",
        "SEARCH helpdesk_tickets USING INTEGER PRIMARY KEY (rowid=?)",
    ] {
        assert!(plan.contains(step), "{step}:\n{plan}");
    }
    assert!(
        !plan.contains("(tenant_id=?)\n") && !plan.ends_with("(tenant_id=?)"),
        "nothing reads a whole tenant:\n{plan}"
    );

    // A customer: subjects and messages only.
    let customer = SearchQuery {
        terms: vec!["refund".into()],
        requester: Some(helpdesk_core::UserId::new()),
        ..SearchQuery::default()
    };
    let plan = search_plan(&store, &customer).await;
    scans_only_indexes_and_candidates(&plan);
    assert_eq!(plan.matches("VIRTUAL TABLE").count(), 2, "{plan}");
    assert!(!plan.contains("helpdesk_users"), "{plan}");

    // Terms all shorter than a trigram: the requester check reads the tenant's users (by
    // the tenant's index), still never its tickets.
    let short = SearchQuery {
        terms: vec!["ab".into()],
        staff: true,
        ..SearchQuery::default()
    };
    let plan = search_plan(&store, &short).await;
    scans_only_indexes_and_candidates(&plan);
    let whole_tenant: Vec<&str> = plan
        .lines()
        .filter(|l| l.ends_with("(tenant_id=?)"))
        .collect();
    assert_eq!(whole_tenant.len(), 1, "{plan}");
    assert!(whole_tenant[0].starts_with("SEARCH u USING "), "{plan}");
}

#[tokio::test]
async fn the_kb_feed_reads_its_index_and_the_chunks_by_key() {
    let tenant = TenantId::new().to_string();
    let binds = [tenant.clone(), "0".into(), "100".into(), tenant];
    let plan = plan_of_statement(crate::kb_index::CHANGES, &binds).await;
    assert!(plan.contains("helpdesk_kb_articles_feed"), "{plan}");
    assert!(
        plan.contains("sqlite_autoindex_helpdesk_kb_chunks_1"),
        "{plan}"
    );
    assert!(!plan.contains("SCAN helpdesk_kb_chunks"), "{plan}");
}

#[tokio::test]
async fn articles_to_index_read_the_articles_in_update_order() {
    let binds = [TenantId::new().to_string(), "minilm".into(), "10".into()];
    let plan = plan_of_statement(crate::kb_index::TO_INDEX, &binds).await;
    assert!(plan.contains("helpdesk_articles_updated"), "{plan}");
    assert!(
        plan.contains("sqlite_autoindex_helpdesk_kb_articles_1"),
        "{plan}"
    );
    assert!(!plan.contains("TEMP B-TREE"), "no sort: {plan}");
}

#[tokio::test]
async fn triage_models_are_listed_by_the_primary_key_without_sorting() {
    let binds = [TenantId::new().to_string(), "10".into()];
    let plan = plan_of_statement(crate::triage_models::LIST, &binds).await;
    assert!(
        plan.contains("sqlite_autoindex_helpdesk_triage_models_1"),
        "{plan}"
    );
    assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    assert!(!plan.contains("SCAN"), "{plan}");
}

#[tokio::test]
async fn retiring_triage_models_reads_the_primary_keys_tenant_prefix() {
    let binds = ["1000".to_string(), TenantId::new().to_string()];
    let plan = plan_of_statement(crate::triage_models::RETIRE, &binds).await;
    assert!(
        plan.contains("sqlite_autoindex_helpdesk_triage_models_1"),
        "{plan}"
    );
    assert!(!plan.contains("SCAN"), "{plan}");
}
