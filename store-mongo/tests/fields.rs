//! Custom fields on MongoDB beyond the conformance cases: values are stored in their
//! natural BSON types and come back bit for bit (from the ticket and from its events,
//! negative zero included); the tokens and the searched details follow a change of the
//! values alone; the field filters select exactly what the in-memory reference store
//! selects (listing in every sort, page by page, count and search) from the
//! `tenant_field_tokens` index.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use bson::{Bson, Document, doc};
use helpdesk_core::domain::{
    EventKind, FieldValue, Priority, Role, Ticket, TicketStatus, field_token, field_tokens,
};
use helpdesk_core::store::{
    MemoryStore, SearchQuery, SearchSource, SearchStore, TenantStore, TicketQuery, TicketSort,
    TicketStore, TicketWrite, UserStore,
};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, user};
use helpdesk_core::{Store, TenantId, TicketId, UserId};
use helpdesk_store_mongo::MongoStore;

use common::tickets::{found, listed, values, with};
use common::{Rng, fresh_mongo, usable_indexes, watched_mongo};

/// `fields` on the ticket of a new-ticket write and on its `Created` event.
fn with_fields(w: TicketWrite, fields: BTreeMap<String, FieldValue>) -> TicketWrite {
    with(w, Vec::new(), fields)
}

/// The numbers of `fields`, as bits (`==` on `f64` would take -0.0 for 0.0).
fn number_bits(fields: &BTreeMap<String, FieldValue>) -> Vec<(String, u64)> {
    fields
        .iter()
        .filter_map(|(k, v)| match v {
            FieldValue::Number(n) => Some((k.clone(), n.to_bits())),
            _ => None,
        })
        .collect()
}

/// Tenant `acme` with a customer.
async fn tenant_with_customer(store: &MongoStore) -> (TenantId, UserId) {
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, "c@acme.test");
    store.create_user(&customer).await.unwrap();
    (t.id, customer.id)
}

async fn ticket_doc(store: &MongoStore, id: TicketId) -> Document {
    store
        .database()
        .collection::<Document>(&store.collection_name("tickets"))
        .find_one(doc! { "_id": id.to_string() })
        .await
        .unwrap()
        .unwrap()
}

#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn numbers_round_trip_bit_for_bit() {
    let mut rng = Rng::from_env();
    let store = fresh_mongo().await;
    let (tenant, customer) = tenant_with_customer(&store).await;
    let mut numbers = vec![
        12.5,
        -3.0,
        0.0,
        -0.0,
        0.300_000_000_000_000_04,
        1.0 / 3.0,
        1e21,
        -1e-300,
        5e-324,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        9_007_199_254_740_993.0,
    ];
    while numbers.len() < 200 {
        let n = f64::from_bits(rng.below(u64::MAX));
        if n.is_finite() {
            numbers.push(n);
        }
    }
    for (i, chunk) in numbers.chunks(100).enumerate() {
        let fields: BTreeMap<String, FieldValue> = chunk
            .iter()
            .enumerate()
            .map(|(j, n)| (format!("n{j:03}"), FieldValue::Number(*n)))
            .collect();
        let w = new_ticket(tenant, customer, 0, "Numbers", Priority::Low, at(i as i64));
        let created = store.create_ticket(with_fields(w, fields)).await.unwrap();
        let stored = store
            .get_ticket(tenant, created.ticket.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            number_bits(&stored.custom_fields),
            number_bits(&created.ticket.custom_fields)
        );
        // The same values in the other order, through an update and its event.
        let reversed: BTreeMap<String, FieldValue> = chunk
            .iter()
            .rev()
            .enumerate()
            .map(|(j, n)| (format!("n{j:03}"), FieldValue::Number(*n)))
            .collect();
        let update = change(
            &stored,
            vec![EventKind::CustomFieldsChanged {
                fields: reversed.clone(),
            }],
            at(100 + i as i64),
            None,
        );
        store.update_ticket(stored.version, &update).await.unwrap();
        let stored = store.get_ticket(tenant, stored.id).await.unwrap().unwrap();
        assert_eq!(number_bits(&stored.custom_fields), number_bits(&reversed));
        let events = store.list_events(tenant, stored.id).await.unwrap();
        let Some(EventKind::Created { ticket }) = events.first().map(|e| &e.kind) else {
            panic!("{events:?}");
        };
        assert_eq!(
            number_bits(&ticket.custom_fields),
            number_bits(&created.ticket.custom_fields),
            "the event payload too"
        );
        assert_eq!(Ticket::replay(&events).unwrap(), stored);
        // Every value's token finds the ticket, negative zero as `-0`.
        for token in field_tokens(&reversed) {
            assert_eq!(
                listed(&store, tenant, &[&token]).await,
                [stored.id],
                "{token}"
            );
        }
    }
    let zero = numbers.chunks(100).next().unwrap();
    assert!(zero.contains(&-0.0));
}

/// Values are stored as the BSON types a host tool expects, next to their tokens, and the
/// tokens and the searched details follow a change of the values alone.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn values_tokens_and_details_follow_the_values() {
    let store = fresh_mongo().await;
    let who = tenant_with_customer(&store).await;
    let fields = values(&[
        ("plan", FieldValue::Text("Pro".into())),
        ("order", FieldValue::Text("ZX-4471".into())),
        ("seats", FieldValue::Number(12.0)),
        ("vip", FieldValue::Bool(false)),
        ("renewal", FieldValue::Text("2026-12-03".into())),
        (
            "modules",
            FieldValue::List(vec!["CRM".into(), "a.b*".into()]),
        ),
    ]);
    let w = new_ticket(who.0, who.1, 0, "Fields", Priority::Low, at(0));
    let created = store
        .create_ticket(with_fields(w, fields.clone()))
        .await
        .unwrap()
        .ticket;
    let d = ticket_doc(&store, created.id).await;
    let stored = d.get_document("custom_fields").unwrap();
    assert_eq!(stored.get("plan"), Some(&Bson::String("Pro".into())));
    assert_eq!(stored.get("seats"), Some(&Bson::Double(12.0)));
    assert_eq!(stored.get("vip"), Some(&Bson::Boolean(false)));
    assert_eq!(
        stored.get("modules"),
        Some(&Bson::from(vec!["CRM", "a.b*"]))
    );
    let tokens: Vec<&str> = d
        .get_array("field_tokens")
        .unwrap()
        .iter()
        .filter_map(Bson::as_str)
        .collect();
    assert_eq!(tokens, field_tokens(&fields));
    assert_eq!(
        found(&store, who.0, &["zx"]).await,
        [(created.id, SearchSource::Details)]
    );
    // A token is matched exactly: no pattern, no case folding, no prefix.
    assert_eq!(listed(&store, who.0, &["modules=a.b*"]).await, [created.id]);
    for miss in ["modules=a.bb", "modules=a", "plan=pro", "plan=Pr", "vip=no"] {
        assert!(listed(&store, who.0, &[miss]).await.is_empty(), "{miss}");
    }
    assert_eq!(
        listed(
            &store,
            who.0,
            &["vip=false", "seats=12", "renewal=2026-12-03"]
        )
        .await,
        [created.id]
    );

    let next = values(&[
        ("plan", FieldValue::Text("Enterprise".into())),
        ("modules", FieldValue::List(vec!["Billing".into()])),
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
    for gone in ["zx", "pro", "crm"] {
        assert!(found(&store, who.0, &[gone]).await.is_empty(), "{gone}");
    }
    for term in ["enter", "bill"] {
        assert_eq!(
            found(&store, who.0, &[term]).await,
            [(created.id, SearchSource::Details)],
            "{term}"
        );
    }
    assert!(
        found(&store, who.0, &["true"]).await.is_empty(),
        "a checkbox is not searched"
    );
    assert!(listed(&store, who.0, &["plan=Pro"]).await.is_empty());
    assert_eq!(
        listed(
            &store,
            who.0,
            &["plan=Enterprise", "vip=true", "modules=Billing"]
        )
        .await,
        [created.id]
    );
    let d = ticket_doc(&store, created.id).await;
    assert_eq!(
        d.get_array("field_tokens").unwrap(),
        &field_tokens(&next)
            .into_iter()
            .map(Bson::String)
            .collect::<Vec<_>>()
    );

    // Emptied: no values, no tokens, nothing found by the old values.
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
    assert!(found(&store, who.0, &["bill"]).await.is_empty());
    let stored = store.get_ticket(who.0, created.id).await.unwrap().unwrap();
    assert!(stored.custom_fields.is_empty());
    let d = ticket_doc(&store, created.id).await;
    assert!(d.get_array("field_tokens").unwrap().is_empty());
    assert!(d.get_document("custom_fields").unwrap().is_empty());

    // The longest value core's checks let through is kept and filtered on.
    let key = "k".repeat(50);
    let long = "é".repeat(500);
    let w = new_ticket(who.0, who.1, 0, "Long", Priority::Low, at(3));
    let w = with_fields(w, values(&[(&key, FieldValue::Text(long.clone()))]));
    let created = store.create_ticket(w).await.unwrap().ticket;
    let token = field_token(&key, &long);
    assert_eq!(listed(&store, who.0, &[&token]).await, [created.id]);
}

/// A field filter reads the tenant's tokens from `tenant_field_tokens`, on every server:
/// one token is a plain equality on the array.
#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test]
async fn a_field_filter_reads_the_tokens_index() {
    let (store, commands) = watched_mongo().await;
    let who = tenant_with_customer(&store).await;
    for (i, plan) in ["Pro", "Free", "Pro"].into_iter().enumerate() {
        let w = new_ticket(who.0, who.1, 0, "Fields", Priority::Low, at(i as i64));
        let w = with_fields(w, values(&[("plan", FieldValue::Text(plan.into()))]));
        store.create_ticket(w).await.unwrap();
    }
    commands.take();
    let query = TicketQuery {
        fields: vec!["plan=Pro".into()],
        ..TicketQuery::default()
    };
    assert_eq!(store.count_tickets(who.0, &query).await.unwrap(), 2);
    let sent = commands.take();
    let (_, command) = sent
        .iter()
        .find(|(name, _)| name == "aggregate")
        .expect("count_documents is an aggregation");
    let pipeline = command.get_array("pipeline").unwrap();
    let filter = pipeline[0]
        .as_document()
        .unwrap()
        .get_document("$match")
        .unwrap()
        .clone();
    assert_eq!(
        filter,
        doc! { "tenant_id": who.0.to_string(), "field_tokens": "plan=Pro" }
    );
    let usable = usable_indexes(store.database(), &store.collection_name("tickets"), filter).await;
    assert!(
        usable.iter().any(|n| n == "tenant_field_tokens"),
        "{usable:?}"
    );
}

/// Field values to pick from: a dropdown, a multi-select, a number, a checkbox, a date
/// and text (with quotes, `=`, regex metacharacters and JSON-looking values, which are
/// plain text to the filter).
fn random_fields(rng: &mut Rng) -> BTreeMap<String, FieldValue> {
    let mut f = BTreeMap::new();
    let plans = ["Free", "Pro", "Enterprise", "pro"];
    if rng.below(4) > 0 {
        let plan = plans[rng.below(plans.len() as u64) as usize];
        f.insert("plan".into(), FieldValue::Text(plan.into()));
    }
    let modules = ["CRM", "Billing", "API", "\"quoted\"", ".*"];
    if rng.below(2) == 0 {
        let list = (0..rng.below(4))
            .map(|_| modules[rng.below(modules.len() as u64) as usize].to_owned())
            .collect();
        f.insert("modules".into(), FieldValue::List(list));
    }
    let seats = [1.0, 2.5, -3.0, 12.0, 0.1, -0.0];
    if rng.below(2) == 0 {
        let n = seats[rng.below(seats.len() as u64) as usize];
        f.insert("seats".into(), FieldValue::Number(n));
    }
    if rng.below(2) == 0 {
        f.insert("vip".into(), FieldValue::Bool(rng.below(2) == 0));
    }
    let orders = ["a=b", "[\"x\"]", "ZX-4471 express", "2026-12-03", "", "^$"];
    if rng.below(3) == 0 {
        let o = orders[rng.below(orders.len() as u64) as usize];
        f.insert("order".into(), FieldValue::Text(o.into()));
    }
    f
}

/// Every ticket of `query`, page by page.
async fn walk(store: &Arc<dyn Store>, tenant: TenantId, query: &TicketQuery) -> Vec<Ticket> {
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let q = TicketQuery {
            cursor: cursor.take(),
            ..query.clone()
        };
        let page = store.list_tickets(tenant, &q).await.unwrap();
        all.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return all,
        }
    }
}

#[cfg_attr(
    not(mongodb_uri_set),
    ignore = "set MONGODB_URI (see scripts/start-mongo.sh)"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_filters_agree_with_the_reference_store() {
    let mut rng = Rng::from_env();
    let mongo: Arc<dyn Store> = Arc::new(fresh_mongo().await);
    let memory: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let t = tenant("acme");
    let customer = user(&t, Role::Customer, "c@acme.test");
    for store in [&mongo, &memory] {
        store.create_tenant(&t).await.unwrap();
        store.create_user(&customer).await.unwrap();
    }
    let statuses = [TicketStatus::New, TicketStatus::Open, TicketStatus::Pending];
    let priorities = [Priority::Low, Priority::High];
    let mut tokens = Vec::new();
    for i in 0..40 {
        let w = new_ticket(
            t.id,
            customer.id,
            0,
            "Invoice question",
            priorities[rng.below(2) as usize],
            at(rng.below(5) as i64),
        );
        let w = with_fields(w, random_fields(&mut rng));
        tokens.extend(field_tokens(&w.ticket.custom_fields));
        let created = mongo.create_ticket(w.clone()).await.unwrap().ticket;
        memory.create_ticket(w).await.unwrap();
        // Most change status; some change their fields, to other values or to none.
        let mut events = vec![EventKind::StatusChanged {
            from: created.status,
            to: statuses[rng.below(statuses.len() as u64) as usize],
        }];
        if rng.below(3) == 0 {
            let fields = if rng.below(4) == 0 {
                BTreeMap::new()
            } else {
                random_fields(&mut rng)
            };
            tokens.extend(field_tokens(&fields));
            events.push(EventKind::CustomFieldsChanged { fields });
        }
        let next = change(&created, events, at(10 + i), None);
        for store in [&mongo, &memory] {
            store.update_ticket(created.version, &next).await.unwrap();
        }
    }
    tokens.sort();
    tokens.dedup();
    tokens.extend([field_token("plan", "Gold"), field_token("modules", "")]);
    let sorts = [
        TicketSort::Newest,
        TicketSort::PriorityThenAge,
        TicketSort::EscalatedFirst,
    ];
    let mut found = 0;
    for _ in 0..100 {
        let fields: Vec<String> = (0..rng.below(3))
            .map(|_| tokens[rng.below(tokens.len() as u64) as usize].clone())
            .collect();
        let query = TicketQuery {
            fields: fields.clone(),
            statuses: (0..rng.below(3))
                .map(|_| statuses[rng.below(statuses.len() as u64) as usize])
                .collect(),
            sort: sorts[rng.below(sorts.len() as u64) as usize],
            limit: [1, 3, 100][rng.below(3) as usize],
            ..TicketQuery::default()
        };
        let expected: Vec<_> = walk(&memory, t.id, &query)
            .await
            .into_iter()
            .map(|x| x.id)
            .collect();
        let got: Vec<_> = walk(&mongo, t.id, &query)
            .await
            .into_iter()
            .map(|x| x.id)
            .collect();
        assert_eq!(got, expected, "{query:?}");
        assert_eq!(
            mongo.count_tickets(t.id, &query).await.unwrap(),
            expected.len() as u64,
            "{query:?}"
        );
        found += usize::from(!expected.is_empty());
        let search = SearchQuery {
            terms: vec!["invoice".into()],
            staff: true,
            fields,
            limit: 100,
            ..SearchQuery::default()
        };
        let hits = |page: helpdesk_core::store::Page<helpdesk_core::store::SearchHit>| {
            page.items
                .into_iter()
                .map(|h| (h.ticket.id, h.source, h.text))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            hits(mongo.search_tickets(t.id, &search).await.unwrap()),
            hits(memory.search_tickets(t.id, &search).await.unwrap()),
            "{search:?}"
        );
    }
    assert!(found > 25, "the filters find something: {found}");
}
