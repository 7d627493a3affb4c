//! Conformance cases for custom field values: stored with the ticket and replayed from
//! its events, filtered on exactly ([`TicketQuery::fields`]) in listings, counts and
//! search, and searched as the ticket's details.

use std::collections::BTreeMap;

use super::{S, seed_tenant};
use crate::domain::{EventKind, FieldValue, Priority, Ticket, field_token};
use crate::store::{SearchQuery, SearchSource, TicketQuery};
use crate::testkit::fixtures::{at, change, new_ticket};

fn values(pairs: &[(&str, FieldValue)]) -> BTreeMap<String, FieldValue> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

/// Values of every kind round-trip through create and update, replay rebuilds them, and
/// an update that empties a field removes it.
pub async fn custom_fields_round_trip_and_replay(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let mut w = new_ticket(a.id, customer.id, 0, "Fields", Priority::Low, at(1));
    w.ticket.custom_fields = values(&[
        ("plan", FieldValue::Text("Pro".into())),
        ("seats", FieldValue::Number(12.5)),
        ("vip", FieldValue::Bool(true)),
        ("renewal", FieldValue::Text("2026-12-03".into())),
        (
            "modules",
            FieldValue::List(vec!["CRM".into(), "Billing".into()]),
        ),
    ]);
    if let Some(EventKind::Created { ticket }) = w.events.first_mut().map(|e| &mut e.kind) {
        **ticket = w.ticket.clone();
    }
    let created = store.create_ticket(w).await.unwrap().ticket;
    let stored = store.get_ticket(a.id, created.id).await.unwrap().unwrap();
    assert_eq!(stored.custom_fields, created.custom_fields);
    assert_eq!(stored, created);

    let mut next = created.custom_fields.clone();
    next.remove("vip");
    next.insert("seats".into(), FieldValue::Number(-3.0));
    next.insert("modules".into(), FieldValue::List(vec!["Billing".into()]));
    let update = change(
        &created,
        vec![EventKind::CustomFieldsChanged {
            fields: next.clone(),
        }],
        at(2),
        Some(agent.id),
    );
    store.update_ticket(created.version, &update).await.unwrap();
    let stored = store.get_ticket(a.id, created.id).await.unwrap().unwrap();
    assert_eq!(stored.custom_fields, next);
    assert_eq!(stored, update.ticket);

    let events = store.list_events(a.id, created.id).await.unwrap();
    let mut replayed: Option<Ticket> = None;
    for e in &events {
        match (&mut replayed, &e.kind) {
            (None, EventKind::Created { ticket }) => replayed = Some((**ticket).clone()),
            (Some(t), _) => t.apply(e),
            (None, _) => panic!("the first event is not Created"),
        }
    }
    let mut replayed = replayed.unwrap();
    replayed.version = stored.version;
    assert_eq!(replayed.custom_fields, stored.custom_fields);
}

/// A field filter keeps exactly the tickets with every token, in listings, counts and
/// search; field values are searched as the ticket's details (staff only).
pub async fn custom_field_filters_and_search(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let (b, other, _) = seed_tenant(&store, "globex").await;
    let plans = ["Free", "Pro", "Enterprise"];
    let mut ids = Vec::new();
    for i in 0..9_usize {
        let mut w = new_ticket(
            a.id,
            customer.id,
            0,
            "Invoice question",
            Priority::Low,
            at(i as i64),
        );
        let mut f = values(&[("plan", FieldValue::Text(plans[i % 3].into()))]);
        if i.is_multiple_of(2) {
            f.insert(
                "modules".into(),
                FieldValue::List(vec!["CRM".into(), "Billing".into()]),
            );
        }
        if i == 4 {
            f.insert("order".into(), FieldValue::Text("ZX-4471 express".into()));
        }
        w.ticket.custom_fields = f;
        if let Some(EventKind::Created { ticket }) = w.events.first_mut().map(|e| &mut e.kind) {
            **ticket = w.ticket.clone();
        }
        ids.push(store.create_ticket(w).await.unwrap().ticket);
    }
    let mut elsewhere = new_ticket(b.id, other.id, 0, "Invoice question", Priority::Low, at(1));
    elsewhere.ticket.custom_fields = values(&[("plan", FieldValue::Text("Pro".into()))]);
    store.create_ticket(elsewhere).await.unwrap();

    let cases: [(&[String], usize); 5] = [
        (&[field_token("plan", "Pro")], 3),
        (&[field_token("modules", "CRM")], 5),
        (
            &[
                field_token("plan", "Pro"),
                field_token("modules", "Billing"),
            ],
            1,
        ),
        (&[field_token("plan", "pro")], 0),
        (&[field_token("plan", "Gold")], 0),
    ];
    for (tokens, expected) in cases {
        let query = TicketQuery {
            fields: tokens.to_vec(),
            limit: 100,
            ..TicketQuery::default()
        };
        let listed = store.list_tickets(a.id, &query).await.unwrap();
        let want: Vec<_> = ids
            .iter()
            .filter(|t| crate::store::has_field_tokens(t, tokens))
            .map(|t| t.id)
            .collect();
        assert_eq!(want.len(), expected, "{tokens:?}");
        let mut got: Vec<_> = listed.items.iter().map(|t| t.id).collect();
        got.sort();
        let mut want = want;
        want.sort();
        assert_eq!(got, want, "{tokens:?}");
        assert_eq!(
            store.count_tickets(a.id, &query).await.unwrap(),
            expected as u64,
            "{tokens:?}"
        );
        let search = SearchQuery {
            terms: vec!["invoice".into()],
            staff: true,
            fields: tokens.to_vec(),
            ..SearchQuery::default()
        };
        assert_eq!(
            store
                .search_tickets(a.id, &search)
                .await
                .unwrap()
                .items
                .len(),
            expected,
            "{tokens:?}"
        );
    }

    let by_value = SearchQuery {
        terms: vec!["zx".into(), "express".into()],
        staff: true,
        ..SearchQuery::default()
    };
    let hits = store.search_tickets(a.id, &by_value).await.unwrap().items;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].ticket.id, ids[4].id);
    assert_eq!(hits[0].source, SearchSource::Details);
    assert!(hits[0].text.contains("ZX-4471 express"), "{}", hits[0].text);
    let customers = SearchQuery {
        staff: false,
        requester: Some(customer.id),
        ..by_value
    };
    assert!(
        store
            .search_tickets(a.id, &customers)
            .await
            .unwrap()
            .items
            .is_empty()
    );
}
