//! Conformance cases for tenants, users, login sessions and the staff reads every call makes.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Tenants: create, read by id and slug, update, list; a taken slug is a typed duplicate.
pub async fn tenants_crud_and_unique_slug(store: S) {
    let a = tenant("acme");
    store.create_tenant(&a).await.unwrap();
    assert_eq!(store.get_tenant(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(
        store.get_tenant_by_slug("acme").await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(store.get_tenant_by_slug("nope").await.unwrap(), None);
    assert_eq!(store.get_tenant(TenantId::new()).await.unwrap(), None);

    let mut other = tenant("acme");
    other.name = "Other".into();
    assert_duplicate(store.create_tenant(&other).await, DuplicateKind::TenantSlug);

    let mut changed = a.clone();
    changed.name = "Acme Renamed".into();
    changed.settings.categories.push("hardware".into());
    changed.settings.chat_inactivity_minutes = 45;
    store.update_tenant(&changed).await.unwrap();
    assert_eq!(store.get_tenant(a.id).await.unwrap(), Some(changed.clone()));

    let missing = tenant("missing");
    assert!(matches!(
        store.update_tenant(&missing).await,
        Err(Error::NotFound { .. })
    ));

    let mut b = tenant("beta");
    b.created_at = at(5);
    store.create_tenant(&b).await.unwrap();
    let ids: Vec<TenantId> = store
        .list_tenants()
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, vec![a.id, b.id]);
}

/// Users: e-mail unique per tenant (not across tenants), update, list by role, lookups
/// scoped by tenant (password hashes: [`password_hashes_round_trip_outside_users`]).
pub async fn users_crud_and_unique_email_per_tenant(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let (b, _, _) = seed_tenant(&store, "beta").await;

    assert_eq!(
        store.get_user(a.id, customer.id).await.unwrap(),
        Some(customer.clone())
    );
    assert_eq!(
        store.get_user(b.id, customer.id).await.unwrap(),
        None,
        "other tenant"
    );
    assert_eq!(
        store
            .get_user_by_email(a.id, "agent@acme.test")
            .await
            .unwrap(),
        Some(agent.clone())
    );
    assert_eq!(
        store
            .get_user_by_email(b.id, "agent@acme.test")
            .await
            .unwrap(),
        None
    );

    let dup = user(&a, Role::Agent, "agent@acme.test");
    assert_duplicate(store.create_user(&dup).await, DuplicateKind::Email);
    let same_email_other_tenant = user(&b, Role::Agent, "agent@acme.test");
    store.create_user(&same_email_other_tenant).await.unwrap();

    let mut admin = user(&a, Role::Admin, "admin@acme.test");
    admin.created_at = at(1);
    admin.skills = vec!["billing".into(), "technical".into()];
    admin.capacity = 7;
    store.create_user(&admin).await.unwrap();
    assert_eq!(
        store.get_user(a.id, admin.id).await.unwrap(),
        Some(admin.clone())
    );

    let mut updated = agent.clone();
    updated.active = false;
    updated.skills = vec!["account".into()];
    updated.name = "Renamed".into();
    store.update_user(&updated).await.unwrap();
    assert_eq!(
        store.get_user(a.id, agent.id).await.unwrap(),
        Some(updated.clone())
    );

    let mut clash = updated.clone();
    clash.email = "customer@acme.test".into();
    assert_duplicate(store.update_user(&clash).await, DuplicateKind::Email);

    let ghost = user(&a, Role::Agent, "ghost@acme.test");
    assert!(matches!(
        store.update_user(&ghost).await,
        Err(Error::NotFound { .. })
    ));
    let mut foreign = updated.clone();
    foreign.tenant_id = b.id;
    assert!(matches!(
        store.update_user(&foreign).await,
        Err(Error::NotFound { .. })
    ));

    let all: Vec<UserId> = store
        .list_users(a.id, None)
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(all.len(), 3);
    assert!(all.contains(&customer.id) && all.contains(&agent.id) && all.contains(&admin.id));
    let agents = store.list_users(a.id, Some(Role::Agent)).await.unwrap();
    assert_eq!(agents.len(), 1);
    assert_eq!(agents[0].id, agent.id);
    assert_eq!(
        store
            .list_users(b.id, Some(Role::Admin))
            .await
            .unwrap()
            .len(),
        0
    );
}

/// Sessions: create, read, delete, expiry sweep.
pub async fn sessions_lifecycle(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let live = AuthSession {
        token_hash: "a".repeat(64),
        tenant_id: a.id,
        user_id: customer.id,
        created_at: t0(),
        expires_at: at(60),
    };
    let old = AuthSession {
        token_hash: "b".repeat(64),
        tenant_id: a.id,
        user_id: agent.id,
        created_at: t0(),
        expires_at: at(10),
    };
    store.create_session(&live).await.unwrap();
    store.create_session(&old).await.unwrap();
    assert_eq!(
        store.get_session(&live.token_hash).await.unwrap(),
        Some(live.clone())
    );
    assert_eq!(store.delete_expired_sessions(at(30)).await.unwrap(), 1);
    assert_eq!(store.get_session(&old.token_hash).await.unwrap(), None);
    store.delete_session(&live.token_hash).await.unwrap();
    assert_eq!(store.get_session(&live.token_hash).await.unwrap(), None);
    store.delete_session("missing").await.unwrap();
}

/// `user_with_tenant` returns a user with its tenant, exactly as stored; a user of another
/// tenant or an unknown one is `None`.
pub async fn user_with_tenant_is_scoped(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let (b, b_customer, _) = seed_tenant(&store, "beta").await;
    assert_eq!(
        store.user_with_tenant(a.id, agent.id).await.unwrap(),
        Some((a.clone(), agent.clone()))
    );
    assert_eq!(
        store.user_with_tenant(a.id, customer.id).await.unwrap(),
        Some((a.clone(), customer))
    );
    assert_eq!(
        store.user_with_tenant(b.id, b_customer.id).await.unwrap(),
        Some((b.clone(), b_customer.clone()))
    );
    assert_eq!(
        store.user_with_tenant(a.id, b_customer.id).await.unwrap(),
        None,
        "another tenant's user"
    );
    assert_eq!(store.user_with_tenant(b.id, agent.id).await.unwrap(), None);
    assert_eq!(
        store.user_with_tenant(a.id, UserId::new()).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .user_with_tenant(TenantId::new(), agent.id)
            .await
            .unwrap(),
        None
    );
}

/// `routing_staff`: active agents then active admins, oldest first, each with its open
/// assigned tickets; customers, inactive staff and other tenants never appear.
pub async fn routing_staff_lists_active_staff_with_open_loads(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let (b, b_customer, b_agent) = seed_tenant(&store, "beta").await;
    let admin = user(&a, Role::Admin, "admin@acme.test");
    store.create_user(&admin).await.unwrap();
    let mut idle_agent = user(&a, Role::Agent, "idle@acme.test");
    idle_agent.created_at = at(1);
    store.create_user(&idle_agent).await.unwrap();
    let mut gone = user(&a, Role::Agent, "gone@acme.test");
    gone.active = false;
    store.create_user(&gone).await.unwrap();
    let statuses = [
        TicketStatus::Open,
        TicketStatus::Pending,
        TicketStatus::Resolved,
        TicketStatus::Closed,
        TicketStatus::Escalated,
    ];
    for (i, status) in statuses.into_iter().enumerate() {
        let mut w = new_ticket(a.id, customer.id, 0, "Load", Priority::Medium, at(i as i64));
        w.ticket.status = status;
        w.ticket.assignee = Some(agent.id);
        store.create_ticket(w).await.unwrap();
    }
    let mut w = new_ticket(a.id, customer.id, 0, "Admin's", Priority::Medium, at(9));
    w.ticket.assignee = Some(admin.id);
    store.create_ticket(w).await.unwrap();
    // Another tenant's open ticket, assigned to its agent.
    let mut w = new_ticket(b.id, b_customer.id, 0, "Other", Priority::Medium, at(9));
    w.ticket.assignee = Some(b_agent.id);
    store.create_ticket(w).await.unwrap();

    let staff: Vec<(UserId, u64)> = store
        .routing_staff(a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.user.id, s.open_tickets))
        .collect();
    // Agents oldest first (`idle_agent` was created after the seeded agent), then admins.
    assert_eq!(
        staff,
        vec![(agent.id, 3), (idle_agent.id, 0), (admin.id, 1)]
    );
    let full = store.routing_staff(a.id).await.unwrap();
    assert!(
        full.iter()
            .all(|s| s.user.tenant_id == a.id && s.user.active && s.last_routed == 0)
    );
    assert_eq!(
        store.routing_staff(b.id).await.unwrap()[0].user.id,
        b_agent.id
    );
    assert!(
        store
            .routing_staff(TenantId::new())
            .await
            .unwrap()
            .is_empty()
    );
}
