//! Custom field values: numbers come back bit for bit (from the ticket and from its events),
//! and the field filters select exactly what the in-memory reference store selects, in
//! the listing (every sort, page by page), the count and search, combined with the other
//! filters.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use helpdesk_core::domain::{
    EventKind, FieldValue, Priority, Role, Ticket, TicketStatus, field_token, field_tokens,
};
use helpdesk_core::store::{
    MemoryStore, SearchQuery, TenantStore, TicketQuery, TicketSort, TicketStore, UserStore,
};
use helpdesk_core::testkit::fixtures::{at, change, new_ticket, tenant, user};
use helpdesk_core::{Store, TenantId};
use helpdesk_store_sqlite::SqliteStore;

use common::Rng;

/// `fields` on the ticket of a new-ticket write and on its `Created` event.
fn with_fields(
    mut w: helpdesk_core::store::TicketWrite,
    fields: BTreeMap<String, FieldValue>,
) -> helpdesk_core::store::TicketWrite {
    w.ticket.custom_fields = fields;
    if let Some(EventKind::Created { ticket }) = w.events.first_mut().map(|e| &mut e.kind) {
        **ticket = w.ticket.clone();
    }
    w
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

#[tokio::test]
async fn numbers_round_trip_bit_for_bit() {
    let mut rng = Rng::from_env();
    let store = SqliteStore::temporary().await.unwrap();
    let t = tenant("acme");
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, "c@acme.test");
    store.create_user(&customer).await.unwrap();

    let mut numbers = vec![
        12.5,
        -3.0,
        0.0,
        -0.0,
        0.1,
        1.0 / 3.0,
        1e300,
        -1e-300,
        5e-324,
        2.225_073_858_507_201e-308,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        9_007_199_254_740_993.0,
    ];
    while numbers.len() < 400 {
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
        let w = new_ticket(t.id, customer.id, 0, "Numbers", Priority::Low, at(i as i64));
        let created = store.create_ticket(with_fields(w, fields)).await.unwrap();
        let stored = store
            .get_ticket(t.id, created.ticket.id)
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
        let stored = store.get_ticket(t.id, stored.id).await.unwrap().unwrap();
        assert_eq!(number_bits(&stored.custom_fields), number_bits(&reversed));
        let events = store.list_events(t.id, stored.id).await.unwrap();
        let mut replayed: Option<Ticket> = None;
        for e in &events {
            match (&mut replayed, &e.kind) {
                (None, EventKind::Created { ticket }) => replayed = Some((**ticket).clone()),
                (Some(r), _) => r.apply(e),
                (None, _) => panic!("the first event is not Created"),
            }
        }
        assert_eq!(
            number_bits(&replayed.unwrap().custom_fields),
            number_bits(&reversed)
        );
        // Each value's token finds the ticket.
        let token = field_tokens(&reversed).swap_remove(rng.below(100) as usize);
        let query = TicketQuery {
            fields: vec![token.clone()],
            ..TicketQuery::default()
        };
        let listed = store.list_tickets(t.id, &query).await.unwrap().items;
        assert!(listed.iter().any(|x| x.id == stored.id), "{token}");
    }
}

/// Field values to pick from: a dropdown, a multi-select, a number, a checkbox, a date
/// and text (with quotes, `=` and JSON-looking values, which are plain text to the filter).
fn random_fields(rng: &mut Rng) -> BTreeMap<String, FieldValue> {
    let mut f = BTreeMap::new();
    let plans = ["Free", "Pro", "Enterprise", "pro"];
    if rng.below(4) > 0 {
        let plan = plans[rng.below(plans.len() as u64) as usize];
        f.insert("plan".into(), FieldValue::Text(plan.into()));
    }
    let modules = ["CRM", "Billing", "API", "\"quoted\""];
    if rng.below(2) == 0 {
        let list = (0..rng.below(4))
            .map(|_| modules[rng.below(modules.len() as u64) as usize].to_owned())
            .collect();
        f.insert("modules".into(), FieldValue::List(list));
    }
    let seats = [1.0, 2.5, -3.0, 12.0, 0.1];
    if rng.below(2) == 0 {
        let n = seats[rng.below(seats.len() as u64) as usize];
        f.insert("seats".into(), FieldValue::Number(n));
    }
    if rng.below(2) == 0 {
        f.insert("vip".into(), FieldValue::Bool(rng.below(2) == 0));
    }
    let orders = ["a=b", "[\"x\"]", "ZX-4471 express", "2026-12-03", ""];
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

#[tokio::test]
async fn field_filters_agree_with_the_reference_store() {
    let mut rng = Rng::from_env();
    let sqlite: Arc<dyn Store> = Arc::new(SqliteStore::temporary().await.unwrap());
    let memory: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let t = tenant("acme");
    let customer = user(&t, Role::Customer, "c@acme.test");
    for store in [&sqlite, &memory] {
        store.create_tenant(&t).await.unwrap();
        store.create_user(&customer).await.unwrap();
    }
    let statuses = [TicketStatus::New, TicketStatus::Open, TicketStatus::Pending];
    let priorities = [Priority::Low, Priority::High];
    let mut tokens = Vec::new();
    for i in 0..60 {
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
        let created = sqlite.create_ticket(w.clone()).await.unwrap().ticket;
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
        for store in [&sqlite, &memory] {
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
    for _ in 0..200 {
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
        let got: Vec<_> = walk(&sqlite, t.id, &query)
            .await
            .into_iter()
            .map(|x| x.id)
            .collect();
        assert_eq!(got, expected, "{query:?}");
        assert_eq!(
            sqlite.count_tickets(t.id, &query).await.unwrap(),
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
            hits(sqlite.search_tickets(t.id, &search).await.unwrap()),
            hits(memory.search_tickets(t.id, &search).await.unwrap()),
            "{search:?}"
        );
    }
    assert!(found > 50, "the filters find something: {found}");
}
