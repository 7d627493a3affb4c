//! Conformance case for a ticket's team: stored with the ticket (on create and update)
//! and replayed from its events, and filtered on exactly in listings, counts and search.

use super::{S, seed_tenant};
use crate::domain::{EventKind, Priority, Ticket};
use crate::store::{SearchQuery, TicketQuery};
use crate::testkit::fixtures::{at, change, new_ticket};

/// A ticket's team round-trips, replays, and keeps exactly its tickets in listings,
/// counts and search, per tenant.
pub async fn teams_round_trip_and_filter(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let (b, other, _) = seed_tenant(&store, "globex").await;
    let teams = [Some("billing"), Some("technical"), None];
    let mut tickets = Vec::new();
    for i in 0..6_usize {
        let mut w = new_ticket(
            a.id,
            customer.id,
            0,
            "Refund please",
            Priority::Low,
            at(i as i64),
        );
        w.ticket.team = teams[i % 3].map(String::from);
        if let Some(EventKind::Created { ticket }) = w.events.first_mut().map(|e| &mut e.kind) {
            **ticket = w.ticket.clone();
        }
        let created = store.create_ticket(w).await.unwrap().ticket;
        let stored = store.get_ticket(a.id, created.id).await.unwrap().unwrap();
        assert_eq!(stored, created);
        tickets.push(created);
    }
    let mut elsewhere = new_ticket(b.id, other.id, 0, "Refund please", Priority::Low, at(1));
    elsewhere.ticket.team = Some("billing".into());
    store.create_ticket(elsewhere).await.unwrap();

    // Moved to another team, then to none: stored, and replayed from the events.
    let first = tickets[0].clone();
    let moved = change(
        &first,
        vec![EventKind::TeamChanged {
            to: Some("technical".into()),
        }],
        at(10),
        Some(agent.id),
    );
    store.update_ticket(first.version, &moved).await.unwrap();
    let stored = store.get_ticket(a.id, first.id).await.unwrap().unwrap();
    assert_eq!(stored.team.as_deref(), Some("technical"));
    assert_eq!(stored, moved.ticket);
    let events = store.list_events(a.id, first.id).await.unwrap();
    let replayed = Ticket::replay(&events).unwrap();
    assert_eq!(replayed.team, stored.team);
    tickets[0] = stored;

    for (team, expected) in [("billing", 1_usize), ("technical", 3), ("sales", 0)] {
        let query = TicketQuery {
            team: Some(team.into()),
            limit: 100,
            ..TicketQuery::default()
        };
        let mut got: Vec<_> = store
            .list_tickets(a.id, &query)
            .await
            .unwrap()
            .items
            .iter()
            .map(|t| t.id)
            .collect();
        got.sort();
        let mut want: Vec<_> = tickets
            .iter()
            .filter(|t| t.team.as_deref() == Some(team))
            .map(|t| t.id)
            .collect();
        want.sort();
        assert_eq!(want.len(), expected, "{team}");
        assert_eq!(got, want, "{team}");
        assert_eq!(
            store.count_tickets(a.id, &query).await.unwrap(),
            expected as u64,
            "{team}"
        );
        let search = SearchQuery {
            terms: vec!["refund".into()],
            staff: true,
            team: Some(team.into()),
            ..SearchQuery::default()
        };
        let mut found: Vec<_> = store
            .search_tickets(a.id, &search)
            .await
            .unwrap()
            .items
            .iter()
            .map(|h| h.ticket.id)
            .collect();
        found.sort();
        assert_eq!(found, got, "search {team}");
    }
}
