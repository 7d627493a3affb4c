//! Conformance cases for the notification outbox and leases.

#[allow(clippy::wildcard_imports)]
use super::*;

/// The outbox: due entries of every tenant, oldest first; failures reschedule; delivered
/// entries are never due again.
pub async fn outbox_due_and_marking(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let (b, b_customer, _) = seed_tenant(&store, "beta").await;
    let wa = create(&store, a.id, customer.id, "A", Priority::Low, 0).await;
    let wb = create(&store, b.id, b_customer.id, "B", Priority::Low, 5).await;
    let mut c = change(
        &wa.ticket,
        vec![EventKind::Assigned {
            from: None,
            to: Some(agent.id),
        }],
        at(10),
        None,
    );
    let mut later = outbox_entry(
        &c.ticket,
        vec![agent.id],
        NotificationKind::Assigned,
        at(10),
    );
    later.next_attempt_at = at(60);
    c.outbox.push(later.clone());
    store.update_ticket(1, &c).await.unwrap();

    let due: Vec<_> = store
        .due_outbox(at(20), 10)
        .await
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(due, vec![wa.outbox[0].id, wb.outbox[0].id]);
    assert_eq!(store.due_outbox(at(20), 1).await.unwrap().len(), 1);

    store
        .mark_outbox_delivered(wa.outbox[0].id, at(21))
        .await
        .unwrap();
    store
        .mark_outbox_failed(wb.outbox[0].id, 1, at(80), "smtp down")
        .await
        .unwrap();
    assert!(store.due_outbox(at(30), 10).await.unwrap().is_empty());
    let due: Vec<_> = store.due_outbox(at(90), 10).await.unwrap();
    assert_eq!(
        due.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![later.id, wb.outbox[0].id]
    );
    assert_eq!(due[1].attempts, 1);
    assert_eq!(due[1].last_error.as_deref(), Some("smtp down"));
    let delivered = store.list_outbox(a.id).await.unwrap();
    assert!(
        delivered
            .iter()
            .any(|o| o.id == wa.outbox[0].id && o.delivered_at == Some(at(21)))
    );
}

/// Leases: one holder at a time, re-entrant for the holder, free after expiry or release.
pub async fn leases_exclusive_and_expiring(store: S) {
    let ttl = Duration::from_secs(60);
    assert!(
        store
            .try_acquire_lease("sla", "p1", at(0), ttl)
            .await
            .unwrap()
    );
    assert!(
        !store
            .try_acquire_lease("sla", "p2", at(0), ttl)
            .await
            .unwrap()
    );
    assert!(
        store
            .try_acquire_lease("outbox", "p2", at(0), ttl)
            .await
            .unwrap(),
        "names are independent"
    );
    assert!(
        store
            .try_acquire_lease("sla", "p1", at(0), ttl)
            .await
            .unwrap(),
        "holder renews"
    );
    assert!(
        !store
            .try_acquire_lease(
                "sla",
                "p2",
                at(0).checked_add(Duration::from_secs(59)).unwrap(),
                ttl
            )
            .await
            .unwrap()
    );
    assert!(
        store
            .try_acquire_lease("sla", "p2", at(2), ttl)
            .await
            .unwrap(),
        "expired after 60 s"
    );
    store.release_lease("sla", "p1").await.unwrap();
    assert!(
        !store
            .try_acquire_lease("sla", "p1", at(2), ttl)
            .await
            .unwrap(),
        "release by a non-holder does nothing"
    );
    store.release_lease("sla", "p2").await.unwrap();
    assert!(
        store
            .try_acquire_lease("sla", "p1", at(2), ttl)
            .await
            .unwrap()
    );
}
