//! Full-text search on PostgreSQL beyond the conformance cases: the words are core's
//! whatever PostgreSQL's own text search would make of the text (e-mail addresses, letters
//! outside ASCII, words longer than any term, texts with more words than one `tsvector`
//! holds), and a database migrated before search existed is indexed by the upgrade.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use helpdesk_core::domain::{EventKind, Message, MessageKind, Priority, Role, Ticket};
use helpdesk_core::store::{
    SearchQuery, SearchSource, SearchStore, TenantStore, TicketStore, TicketWrite, UserStore,
};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, user};
use helpdesk_core::{MessageId, TenantId, TicketId};
use helpdesk_store_postgres::PostgresStore;

use common::{fresh_pool, fresh_postgres};

fn query(terms: &[&str]) -> SearchQuery {
    SearchQuery {
        terms: terms.iter().map(|t| (*t).to_string()).collect(),
        staff: true,
        ..SearchQuery::default()
    }
}

async fn found(
    store: &PostgresStore,
    tenant: TenantId,
    terms: &[&str],
) -> Vec<(TicketId, SearchSource)> {
    let page = store.search_tickets(tenant, &query(terms)).await.unwrap();
    page.items.iter().map(|h| (h.ticket.id, h.source)).collect()
}

/// Adds messages to `ticket` and returns the stored ticket.
async fn post(
    store: &PostgresStore,
    ticket: &Ticket,
    minute: i64,
    posts: &[(MessageKind, &str)],
) -> Ticket {
    let messages = posts
        .iter()
        .map(|(kind, body)| Message {
            id: MessageId::new(),
            tenant_id: ticket.tenant_id,
            ticket_id: ticket.id,
            author: None,
            author_kind: helpdesk_core::domain::AuthorKind::Agent,
            kind: *kind,
            body: (*body).into(),
            created_at: at(minute),
            citations: Vec::new(),
            email: None,
            draft: None,
        })
        .collect();
    let write = TicketWrite {
        messages,
        ..change(ticket, Vec::new(), at(minute), None)
    };
    store.update_ticket(ticket.version, &write).await.unwrap();
    store
        .get_ticket(ticket.tenant_id, ticket.id)
        .await
        .unwrap()
        .unwrap()
}

/// Tenant `acme` with a customer and one ticket `subject`, tagged `tags`.
async fn one_ticket(store: &PostgresStore, subject: &str, tags: &[&str]) -> Ticket {
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let mut customer = user(&t, Role::Customer, "zoe@quinn-mail.test");
    customer.name = "ZOË Quinn".into();
    store.create_user(&customer).await.unwrap();
    let mut w = new_ticket(t.id, customer.id, 0, subject, Priority::Low, at(0));
    w.ticket.tags = tags.iter().map(|t| (*t).to_string()).collect();
    if let Some(EventKind::Created { ticket }) = w.events.first_mut().map(|e| &mut e.kind) {
        **ticket = w.ticket.clone();
    }
    store.create_ticket(w).await.unwrap().ticket
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn words_are_cores_not_postgresqls() {
    let store = fresh_postgres().await;
    let t = one_ticket(&store, "Größe der Rechnung", &["vip", "refund-risk"]).await;
    let long = "Q".repeat(3_000);
    // More distinct words than one tsvector can address; the first ones are indexed.
    let huge: Vec<String> = (0..150_000).map(|i| format!("w{i:07}")).collect();
    let t = post(
        &store,
        &t,
        1,
        &[
            (
                MessageKind::Reply,
                "Write to billing@example.com, don't call",
            ),
            (MessageKind::Chat, &format!("log: {long} end")),
            (MessageKind::Note, &huge.join(" ")),
        ],
    )
    .await;
    let tenant = t.tenant_id;
    let cases: [(&[&str], SearchSource); 10] = [
        (&["grö"], SearchSource::Subject),
        (&["größe", "rech"], SearchSource::Subject),
        (&["risk"], SearchSource::Details),
        (&["example"], SearchSource::Message),
        (&["billing", "com"], SearchSource::Message),
        (&["don", "t"], SearchSource::Message),
        (&["end", "qqqq"], SearchSource::Message),
        (&["w0000000", "w0000001"], SearchSource::Note),
        (&["zoë"], SearchSource::Requester),
        (&["uinn", "mail"], SearchSource::Requester),
    ];
    for (terms, source) in cases {
        assert_eq!(
            found(&store, tenant, terms).await,
            [(t.id, source)],
            "{terms:?}"
        );
    }
    let term = "q".repeat(64);
    assert_eq!(
        found(&store, tenant, &[&term]).await,
        [(t.id, SearchSource::Message)],
        "a word longer than any term is found by its start"
    );
    for missing in [
        &["xample"][..],
        &["öße"],
        &["billingexample"],
        &["w0149999"],
    ] {
        assert!(
            found(&store, tenant, missing).await.is_empty(),
            "{missing:?}"
        );
    }
}

#[tokio::test]
#[cfg_attr(
    not(postgres_url_set),
    ignore = "set HELPDESK_POSTGRES_URL (see scripts/start-postgres.sh)"
)]
async fn an_upgraded_database_indexes_the_texts_it_already_had() {
    let pool = fresh_pool().await;
    let store = PostgresStore::builder()
        .schema("support")
        .build(pool.clone())
        .unwrap();
    store.migrate().await.unwrap();
    let t = one_ticket(&store, "Printer jam", &["hardware"]).await;
    let t = post(
        &store,
        &t,
        1,
        &[
            (MessageKind::Reply, "Toner replaced"),
            (MessageKind::Note, "Warranty expired"),
            (MessageKind::Draft, "Drafted apology"),
        ],
    )
    .await;
    // The database as version 7 left it: no words columns (their indexes go with them),
    // nor the later custom field, team, erasure and routing columns and indexes, model usage,
    // knowledge-base or triage-model tables (the texts are indexed once all are back).
    sqlx::raw_sql(
        "ALTER TABLE support.tickets DROP COLUMN search_subject, DROP COLUMN search_details, \
         DROP COLUMN custom_fields, DROP COLUMN field_tokens, DROP COLUMN team, \
         DROP COLUMN erased_at; \
         DROP INDEX support.outbox_ticket; DROP INDEX support.attachments_sha256; \
         ALTER TABLE support.saved_views DROP COLUMN team; \
         ALTER TABLE support.messages DROP COLUMN search_body; \
         DROP TABLE support.model_usage; \
         ALTER TABLE support.users DROP COLUMN last_routed; \
         DROP TABLE support.kb_chunks, support.kb_articles, support.kb_sequences; \
         DROP INDEX support.articles_updated; \
         DROP TABLE support.triage_models; \
         DELETE FROM support.schema_migrations WHERE version >= 8",
    )
    .execute(&pool)
    .await
    .unwrap();
    store.migrate().await.unwrap();
    let tenant = t.tenant_id;
    for (terms, source) in [
        (&["jam"][..], SearchSource::Subject),
        (&["hard"], SearchSource::Details),
        (&["toner"], SearchSource::Message),
        (&["warranty"], SearchSource::Note),
    ] {
        assert_eq!(
            found(&store, tenant, terms).await,
            [(t.id, source)],
            "{terms:?}"
        );
    }
    assert!(
        found(&store, tenant, &["apology"]).await.is_empty(),
        "drafts stay out"
    );
    let drafts: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM support.messages WHERE kind = 'draft' AND search_body IS NULL",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(drafts, 1);
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'support' \
         AND indexname LIKE '%search%' ORDER BY indexname",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        indexes.starts_with(&[
            "messages_search_body".to_owned(),
            "tickets_search_details".to_owned(),
            "tickets_search_subject".to_owned(),
        ]),
        "{indexes:?}"
    );
}
