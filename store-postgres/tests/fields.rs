//! Custom field values on PostgreSQL beyond the conformance cases: numbers read back from
//! `jsonb` as the exact values written, the searched details and the filter tokens follow
//! a change of the values alone, a value too long to index is refused writing nothing, and
//! a database migrated before custom fields existed gets empty values it can filter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use helpdesk_core::domain::{EventKind, FieldValue, Priority, Role, Ticket, field_tokens};
use helpdesk_core::store::{
    SearchQuery, SearchSource, SearchStore, TenantStore, TicketQuery, TicketStore, UserStore,
};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, user};
use helpdesk_core::{Error, TenantId, TicketId};
use helpdesk_store_postgres::PostgresStore;

use common::{fresh_pool, fresh_postgres};

fn values(pairs: &[(&str, FieldValue)]) -> BTreeMap<String, FieldValue> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

/// Tenant `acme` with a customer.
async fn tenant_with_customer(store: &PostgresStore) -> (TenantId, helpdesk_core::UserId) {
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, "c@acme.test");
    store.create_user(&customer).await.unwrap();
    (t.id, customer.id)
}

/// Creates ticket `number` with `fields` (also in its `Created` event).
async fn create_with(
    store: &PostgresStore,
    (tenant, customer): (TenantId, helpdesk_core::UserId),
    number: u64,
    fields: BTreeMap<String, FieldValue>,
) -> Result<Ticket, Error> {
    let mut w = new_ticket(tenant, customer, number, "Fields", Priority::Low, at(0));
    w.ticket.custom_fields = fields;
    if let Some(EventKind::Created { ticket }) = w.events.first_mut().map(|e| &mut e.kind) {
        **ticket = w.ticket.clone();
    }
    store.create_ticket(w).await.map(|c| c.ticket)
}

async fn listed(store: &PostgresStore, tenant: TenantId, tokens: &[&str]) -> Vec<TicketId> {
    let query = TicketQuery {
        fields: tokens.iter().map(|t| (*t).to_owned()).collect(),
        ..TicketQuery::default()
    };
    let page = store.list_tickets(tenant, &query).await.unwrap();
    page.items.iter().map(|t| t.id).collect()
}

async fn found(
    store: &PostgresStore,
    tenant: TenantId,
    term: &str,
) -> Vec<(TicketId, SearchSource)> {
    let query = SearchQuery {
        terms: vec![term.to_owned()],
        staff: true,
        ..SearchQuery::default()
    };
    let page = store.search_tickets(tenant, &query).await.unwrap();
    page.items.iter().map(|h| (h.ticket.id, h.source)).collect()
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn numbers_read_back_exactly() {
    let store = fresh_postgres().await;
    let who = tenant_with_customer(&store).await;
    // Values whose shortest decimal form serde_json's default parser reads one unit off.
    let numbers = [
        0.300_000_000_000_000_04,
        1.071_566_039_146_582_6e-75,
        -1.603_964_615_428_183e143,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        12.5,
        -3.0,
        1e21,
    ];
    let fields: BTreeMap<String, FieldValue> = numbers
        .iter()
        .enumerate()
        .map(|(i, n)| (format!("n{i}"), FieldValue::Number(*n)))
        .collect();
    let created = create_with(&store, who, 1, fields.clone()).await.unwrap();
    let stored = store.get_ticket(who.0, created.id).await.unwrap().unwrap();
    for (key, value) in &stored.custom_fields {
        let (FieldValue::Number(read), Some(FieldValue::Number(written))) =
            (value, fields.get(key))
        else {
            panic!("{key}: {value:?}");
        };
        assert_eq!(read.to_bits(), written.to_bits(), "{key}");
    }
    let events = store.list_events(who.0, created.id).await.unwrap();
    let Some(EventKind::Created { ticket }) = events.first().map(|e| &e.kind) else {
        panic!("{events:?}");
    };
    assert_eq!(ticket.custom_fields, fields, "the event payload too");
    // Every number is found by its token.
    for token in field_tokens(&fields) {
        assert_eq!(
            listed(&store, who.0, &[&token]).await,
            [created.id],
            "{token}"
        );
    }

    // A `jsonb` number has no negative zero: -0 is kept, read and filtered as 0.
    let zero = create_with(
        &store,
        who,
        2,
        values(&[("delta", FieldValue::Number(-0.0))]),
    )
    .await
    .unwrap();
    let stored = store.get_ticket(who.0, zero.id).await.unwrap().unwrap();
    let Some(FieldValue::Number(read)) = stored.custom_fields.get("delta") else {
        panic!("{stored:?}");
    };
    assert!(*read == 0.0 && read.is_sign_positive(), "{read}");
    assert_eq!(listed(&store, who.0, &["delta=0"]).await, [zero.id]);
    assert!(listed(&store, who.0, &["delta=-0"]).await.is_empty());
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn details_and_tokens_follow_a_change_of_the_values_alone() {
    let store = fresh_postgres().await;
    let who = tenant_with_customer(&store).await;
    let fields = values(&[
        ("plan", FieldValue::Text("Pro".into())),
        ("order", FieldValue::Text("ZX-4471".into())),
    ]);
    let created = create_with(&store, who, 1, fields).await.unwrap();
    assert_eq!(
        found(&store, who.0, "zx").await,
        [(created.id, SearchSource::Details)]
    );

    let next = values(&[
        ("plan", FieldValue::Text("Enterprise".into())),
        ("modules", FieldValue::List(vec!["CRM".into()])),
        ("vip", FieldValue::Bool(true)),
    ]);
    let update = change(
        &created,
        vec![EventKind::CustomFieldsChanged {
            fields: next.clone(),
        }],
        at(1),
        None,
    );
    store.update_ticket(created.version, &update).await.unwrap();
    for gone in ["zx", "pro"] {
        assert!(found(&store, who.0, gone).await.is_empty(), "{gone}");
    }
    for term in ["enter", "crm"] {
        assert_eq!(
            found(&store, who.0, term).await,
            [(created.id, SearchSource::Details)],
            "{term}"
        );
    }
    assert!(
        found(&store, who.0, "true").await.is_empty(),
        "a checkbox is not searched"
    );
    assert!(listed(&store, who.0, &["plan=Pro"]).await.is_empty());
    assert_eq!(
        listed(
            &store,
            who.0,
            &["plan=Enterprise", "vip=true", "modules=CRM"]
        )
        .await,
        [created.id]
    );
    let tokens: Vec<String> =
        sqlx::query_scalar("SELECT unnest(field_tokens) FROM helpdesk.tickets WHERE id = $1")
            .bind(created.id.as_uuid())
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(tokens, field_tokens(&next));

    // Emptied: no tokens, nothing found by the old values.
    let stored = store.get_ticket(who.0, created.id).await.unwrap().unwrap();
    let cleared = change(
        &stored,
        vec![EventKind::CustomFieldsChanged {
            fields: BTreeMap::new(),
        }],
        at(2),
        None,
    );
    store.update_ticket(stored.version, &cleared).await.unwrap();
    assert!(listed(&store, who.0, &["vip=true"]).await.is_empty());
    assert!(found(&store, who.0, "crm").await.is_empty());
    let stored = store.get_ticket(who.0, created.id).await.unwrap().unwrap();
    assert!(stored.custom_fields.is_empty());
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn a_value_too_long_to_index_is_refused_writing_nothing() {
    let store = fresh_postgres().await;
    let who = tenant_with_customer(&store).await;
    // The longest value core's checks let through is kept.
    let longest = values(&[(&"k".repeat(50), FieldValue::Text("é".repeat(500)))]);
    create_with(&store, who, 1, longest).await.unwrap();
    let long = values(&[("notes", FieldValue::Text("x".repeat(3_000)))]);
    let err = create_with(&store, who, 2, long).await.unwrap_err();
    assert!(
        matches!(&err, Error::Validation { field, .. } if field == "fields.notes"),
        "{err:?}"
    );
    let page = store
        .list_tickets(who.0, &TicketQuery::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1, "nothing of the refused write");
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn an_upgraded_database_has_empty_values_and_filters_new_ones() {
    let pool = fresh_pool().await;
    let store = PostgresStore::builder()
        .schema("support")
        .build(pool.clone())
        .unwrap();
    store.migrate().await.unwrap();
    let who = tenant_with_customer(&store).await;
    let created = create_with(&store, who, 1, BTreeMap::new()).await.unwrap();
    // The database as version 8 left it: no fields columns (their index goes with them).
    sqlx::raw_sql(
        "ALTER TABLE support.tickets DROP COLUMN custom_fields, DROP COLUMN field_tokens; \
         DELETE FROM support.schema_migrations WHERE version = 9",
    )
    .execute(&pool)
    .await
    .unwrap();
    store.migrate().await.unwrap();
    let stored = store.get_ticket(who.0, created.id).await.unwrap().unwrap();
    assert_eq!(stored, created);
    let index: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = 'support' \
         AND indexname = 'tickets_field_tokens')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(index);
    assert!(listed(&store, who.0, &["plan=Pro"]).await.is_empty());
    let update = change(
        &stored,
        vec![EventKind::CustomFieldsChanged {
            fields: values(&[("plan", FieldValue::Text("Pro".into()))]),
        }],
        at(1),
        None,
    );
    store.update_ticket(stored.version, &update).await.unwrap();
    assert_eq!(listed(&store, who.0, &["plan=Pro"]).await, [created.id]);
    assert_eq!(
        found(&store, who.0, "pro").await,
        [(created.id, SearchSource::Details)]
    );
}
