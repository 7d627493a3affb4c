//! Conformance cases for administrative changes and their audit trail: a change and its
//! event land together or not at all, and each tenant lists only its own events, newest
//! first, in pages.

use super::{S, assert_duplicate, seed_tenant};
use crate::domain::{Article, AuditEvent, AuditKind, PasswordHash, Role, RoleChange};
use crate::store::{AdminChange, AdminWrite, AuditCursor, AuditQuery};
use crate::testkit::fixtures::{at, t0, user};
use crate::{ArticleId, DuplicateKind, Error, TenantId, UserId};

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$YXVkaXRzYWx0$YXVkaXRoYXNo";

fn event(tenant: TenantId, minutes: i64, kind: AuditKind) -> AuditEvent {
    AuditEvent::new(tenant, at(minutes), None, kind)
}

fn article(tenant: TenantId, title: &str) -> Article {
    Article {
        id: ArticleId::new(),
        tenant_id: tenant,
        title: title.into(),
        body: format!("How to {title}."),
        tags: vec!["howto".into()],
        created_at: t0(),
        updated_at: t0(),
        version: 1,
    }
}

fn created(a: &Article) -> AuditKind {
    AuditKind::ArticleCreated {
        article: a.id,
        title: a.title.clone(),
    }
}

async fn commit(store: &S, change: AdminChange, audit: &AuditEvent) -> crate::Result<()> {
    store
        .commit_admin_change(&AdminWrite::new(change, audit.clone()))
        .await
}

async fn all_events(store: &S, tenant: TenantId) -> Vec<AuditEvent> {
    store
        .list_audit_events(tenant, &AuditQuery::newest(100))
        .await
        .unwrap()
}

/// Every kind of administrative change is applied and its event stored with it; the
/// events come back whole (actor, time, kind), newest first.
pub async fn admin_changes_commit_with_their_audit_events(store: S) {
    let (t, _, agent) = seed_tenant(&store, "acme").await;
    let admin = user(&t, Role::Admin, "admin@acme.test");
    let mut events = Vec::new();

    let added = AuditEvent {
        actor: None,
        ..event(
            t.id,
            1,
            AuditKind::UserAdded {
                user: admin.id,
                email: admin.email.clone(),
                role: Role::Admin,
            },
        )
    };
    let hash = PasswordHash::new(HASH);
    let change = AdminChange::CreateUser {
        user: admin.clone(),
        password: Some(hash.clone()),
    };
    commit(&store, change, &added).await.unwrap();
    events.push(added);
    assert_eq!(
        store
            .login_credentials(t.id, "admin@acme.test")
            .await
            .unwrap(),
        Some((admin.clone(), Some(hash)))
    );

    let mut promoted = agent.clone();
    promoted.role = Role::Admin;
    promoted.active = false;
    let changed = AuditEvent {
        actor: Some(admin.id),
        ..event(
            t.id,
            2,
            AuditKind::UserChanged {
                user: agent.id,
                fields: vec!["role".into(), "active".into()],
                role: Some(RoleChange {
                    from: Role::Agent,
                    to: Role::Admin,
                }),
                active: Some(false),
            },
        )
    };
    commit(&store, AdminChange::UpdateUser(promoted.clone()), &changed)
        .await
        .unwrap();
    events.push(changed);
    assert_eq!(
        store.get_user(t.id, agent.id).await.unwrap(),
        Some(promoted)
    );

    let new_hash = PasswordHash::new(HASH.replace("YXVkaXRoYXNo", "bmV3aGFzaA"));
    let password = event(t.id, 3, AuditKind::PasswordChanged { user: admin.id });
    let change = AdminChange::SetPassword {
        user: admin.id,
        hash: new_hash.clone(),
    };
    commit(&store, change, &password).await.unwrap();
    events.push(password);
    let (_, stored) = store
        .login_credentials(t.id, "admin@acme.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, Some(new_hash));

    let mut renamed = t.clone();
    renamed.settings.categories.push("returns".into());
    let settings = event(
        t.id,
        4,
        AuditKind::TenantSettingsChanged {
            fields: vec!["categories".into()],
        },
    );
    commit(
        &store,
        AdminChange::UpdateTenant(renamed.clone()),
        &settings,
    )
    .await
    .unwrap();
    events.push(settings);
    assert_eq!(store.get_tenant(t.id).await.unwrap(), Some(renamed));

    let a = article(t.id, "Reset a password");
    let create = event(t.id, 5, created(&a));
    commit(&store, AdminChange::CreateArticle(a.clone()), &create)
        .await
        .unwrap();
    events.push(create);
    let mut edited = a.clone();
    edited.body = "Use the login page.".into();
    edited.version = 2;
    let update = event(
        t.id,
        6,
        AuditKind::ArticleUpdated {
            article: a.id,
            title: a.title.clone(),
            version: 2,
        },
    );
    let change = AdminChange::UpdateArticle {
        expected_version: 1,
        article: edited.clone(),
    };
    commit(&store, change, &update).await.unwrap();
    events.push(update);
    assert_eq!(store.get_article(t.id, a.id).await.unwrap(), Some(edited));
    let delete = event(
        t.id,
        7,
        AuditKind::ArticleDeleted {
            article: a.id,
            title: a.title.clone(),
        },
    );
    commit(&store, AdminChange::DeleteArticle(a.id), &delete)
        .await
        .unwrap();
    events.push(delete);
    assert_eq!(store.get_article(t.id, a.id).await.unwrap(), None);

    events.reverse();
    assert_eq!(all_events(&store, t.id).await, events);
}

/// A change that fails writes neither the change nor its event: a taken e-mail (create
/// and update), a stale or foreign article, a missing article, another tenant's user, a
/// change filed under another tenant's event, a reused event id.
pub async fn failed_admin_changes_write_no_audit_event(store: S) {
    let (t, customer, agent) = seed_tenant(&store, "acme").await;
    let (other, _, other_agent) = seed_tenant(&store, "globex").await;
    let some = |minutes| event(t.id, minutes, AuditKind::PasswordChanged { user: agent.id });

    let dup = user(&t, Role::Agent, "agent@acme.test");
    let change = AdminChange::CreateUser {
        user: dup.clone(),
        password: Some(PasswordHash::new(HASH)),
    };
    assert_duplicate(commit(&store, change, &some(1)).await, DuplicateKind::Email);
    assert_eq!(store.get_user(t.id, dup.id).await.unwrap(), None);

    let mut clash = customer.clone();
    clash.email = agent.email.clone();
    let result = commit(&store, AdminChange::UpdateUser(clash), &some(2)).await;
    assert_duplicate(result, DuplicateKind::Email);
    assert_eq!(
        store.get_user(t.id, customer.id).await.unwrap(),
        Some(customer.clone())
    );

    let a = article(t.id, "Invoices");
    commit(&store, AdminChange::CreateArticle(a.clone()), &some(3))
        .await
        .unwrap();
    let kept = all_events(&store, t.id).await;
    assert_eq!(kept.len(), 1);
    let mut stale = a.clone();
    stale.title = "Stale".into();
    stale.version = 3;
    let change = AdminChange::UpdateArticle {
        expected_version: 2,
        article: stale,
    };
    assert!(matches!(
        commit(&store, change, &some(4)).await,
        Err(Error::Conflict { .. })
    ));
    assert!(matches!(
        commit(
            &store,
            AdminChange::DeleteArticle(ArticleId::new()),
            &some(5)
        )
        .await,
        Err(Error::NotFound { .. })
    ));
    let foreign_delete = event(other.id, 6, created(&a));
    assert!(matches!(
        commit(&store, AdminChange::DeleteArticle(a.id), &foreign_delete).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        store.get_article(t.id, a.id).await.unwrap(),
        Some(a.clone())
    );

    let change = AdminChange::SetPassword {
        user: other_agent.id,
        hash: PasswordHash::new(HASH),
    };
    assert!(matches!(
        commit(&store, change, &some(7)).await,
        Err(Error::NotFound { .. })
    ));
    let change = AdminChange::SetPassword {
        user: UserId::new(),
        hash: PasswordHash::new(HASH),
    };
    assert!(matches!(
        commit(&store, change, &some(8)).await,
        Err(Error::NotFound { .. })
    ));

    // A change of tenant `other` filed under an event of `t`.
    let mut foreign = other.clone();
    foreign.name = "Renamed".into();
    assert!(matches!(
        commit(&store, AdminChange::UpdateTenant(foreign), &some(9)).await,
        Err(Error::Validation { .. })
    ));
    assert_eq!(
        store.get_tenant(other.id).await.unwrap(),
        Some(other.clone())
    );

    // The id of a stored event cannot be used twice; the change is not applied either.
    let again = article(t.id, "Again");
    let reused = AuditEvent {
        id: kept[0].id,
        ..some(10)
    };
    assert!(
        commit(&store, AdminChange::CreateArticle(again.clone()), &reused)
            .await
            .is_err()
    );
    assert_eq!(store.get_article(t.id, again.id).await.unwrap(), None);

    assert_eq!(all_events(&store, t.id).await, kept);
    assert!(all_events(&store, other.id).await.is_empty());
}

/// Each tenant lists only its own events, newest first (ties in time by id, descending);
/// the limit and the cursor page through all of them, each once.
pub async fn audit_events_are_per_tenant_newest_first_and_paged(store: S) {
    let (t, _, _) = seed_tenant(&store, "acme").await;
    let (other, _, _) = seed_tenant(&store, "globex").await;
    let mut mine = Vec::new();
    // Minutes out of order, with ties, so neither insertion order nor time alone decides.
    for (i, minutes) in [5, 1, 5, 3, 9, 5, 2].into_iter().enumerate() {
        let a = article(t.id, &format!("Article {i}"));
        let audit = event(t.id, minutes, created(&a));
        commit(&store, AdminChange::CreateArticle(a), &audit)
            .await
            .unwrap();
        mine.push(audit);
        let b = article(other.id, &format!("Other {i}"));
        let theirs = event(other.id, minutes, created(&b));
        commit(&store, AdminChange::CreateArticle(b), &theirs)
            .await
            .unwrap();
    }
    mine.sort_by_key(|e| std::cmp::Reverse((e.at, e.id)));

    let listed = all_events(&store, t.id).await;
    assert_eq!(listed, mine);
    assert!(all_events(&store, TenantId::new()).await.is_empty());
    assert!(
        all_events(&store, other.id)
            .await
            .iter()
            .all(|e| e.tenant_id == other.id)
    );

    let mut paged = Vec::new();
    let mut query = AuditQuery::newest(3);
    loop {
        let page = store.list_audit_events(t.id, &query).await.unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        query.before = Some(AuditCursor::after(last));
        paged.extend(page);
    }
    assert_eq!(paged, mine);
}

/// A tenant, its first admin (with a password) and the audit event commit together; a
/// registration whose slug is taken writes none of the three, and an admin of another
/// tenant is refused.
pub async fn a_tenant_registers_with_its_admin_in_one_commit(store: S) {
    let t = crate::testkit::fixtures::tenant("orbit");
    let admin = user(&t, Role::Admin, "ada@orbit.test");
    let hash = PasswordHash::new(HASH);
    let added = event(
        t.id,
        1,
        AuditKind::UserAdded {
            user: admin.id,
            email: admin.email.clone(),
            role: Role::Admin,
        },
    );
    let register =
        |tenant: &crate::domain::Tenant, admin: &crate::domain::User| AdminChange::RegisterTenant {
            tenant: tenant.clone(),
            admin: admin.clone(),
            password: Some(hash.clone()),
        };
    commit(&store, register(&t, &admin), &added).await.unwrap();
    assert_eq!(store.get_tenant(t.id).await.unwrap(), Some(t.clone()));
    assert_eq!(
        store
            .login_credentials(t.id, "ada@orbit.test")
            .await
            .unwrap(),
        Some((admin.clone(), Some(hash.clone())))
    );
    assert_eq!(all_events(&store, t.id).await, vec![added]);

    // The same slug again: nothing of the second registration is written.
    let mut twin = crate::testkit::fixtures::tenant("orbit");
    twin.name = "Orbit Two".into();
    let twin_admin = user(&twin, Role::Admin, "root@orbit.test");
    let twin_event = event(
        twin.id,
        2,
        AuditKind::UserAdded {
            user: twin_admin.id,
            email: twin_admin.email.clone(),
            role: Role::Admin,
        },
    );
    assert_duplicate(
        commit(&store, register(&twin, &twin_admin), &twin_event).await,
        DuplicateKind::TenantSlug,
    );
    assert_eq!(store.get_tenant(twin.id).await.unwrap(), None);
    assert_eq!(store.get_user(twin.id, twin_admin.id).await.unwrap(), None);
    assert!(all_events(&store, twin.id).await.is_empty());

    // An admin of another tenant than the one registered is refused, nothing written.
    let other = crate::testkit::fixtures::tenant("nova");
    let stray = user(&t, Role::Admin, "stray@orbit.test");
    let err = commit(
        &store,
        register(&other, &stray),
        &event(
            other.id,
            3,
            AuditKind::UserAdded {
                user: stray.id,
                email: stray.email.clone(),
                role: Role::Admin,
            },
        ),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Validation { .. }), "{err:?}");
    assert_eq!(store.get_tenant(other.id).await.unwrap(), None);
}
