//! Knowledge-base use cases and the audit trail of administrative changes: role checks,
//! validation, the audit event of each change kind, nothing recorded on failure, tenant
//! isolation, and the knowledge-base index following the store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use helpdesk_core::domain::{Actor, AuditEvent, AuditKind, Role, RoleChange};
use helpdesk_core::service::{ArticleInput, NewTenant, NewUser, UserPatch};
use helpdesk_core::store::{AuditCursor, AuditQuery};
use helpdesk_core::testkit::{FakeEmbedder, InMemoryKnowledgeBase};
use helpdesk_core::{ArticleId, Error, KnowledgeBase};

use common::{World, world, world_with};

async fn audit(w: &World) -> Vec<AuditEvent> {
    w.hd.list_audit_events(&w.admin, AuditQuery::newest(200))
        .await
        .unwrap()
}

fn kinds(events: &[AuditEvent]) -> Vec<AuditKind> {
    events.iter().map(|e| e.kind.clone()).collect()
}

fn assert_forbidden<T: std::fmt::Debug>(result: Result<T, Error>) {
    assert!(matches!(result, Err(Error::Forbidden { .. })), "{result:?}");
}

fn assert_invalid<T: std::fmt::Debug>(result: Result<T, Error>, field: &str) {
    match result {
        Err(Error::Validation { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected a validation error on {field}, got {other:?}"),
    }
}

async fn with_kb() -> (World, Arc<InMemoryKnowledgeBase>) {
    let kb = Arc::new(InMemoryKnowledgeBase::new(Arc::new(FakeEmbedder::new())));
    let handle: Arc<dyn KnowledgeBase> = kb.clone();
    (world_with(|b| b.knowledge_base(handle)).await, kb)
}

#[tokio::test]
async fn user_changes_are_recorded_with_their_actor() {
    let w = world().await;
    let events = audit(&w).await;
    // The world: the first admin (no actor), then four users added by the admin.
    assert_eq!(events.len(), 5);
    let first = events.last().unwrap();
    assert_eq!(first.actor, None);
    assert!(matches!(
        first.kind,
        AuditKind::UserAdded {
            role: Role::Admin,
            ..
        }
    ));
    assert!(
        events[..4]
            .iter()
            .all(|e| e.actor == Some(w.admin.user_id) && e.tenant_id == w.tenant.id)
    );

    let patch = UserPatch {
        role: Some(Role::Admin),
        capacity: Some(3),
        ..UserPatch::default()
    };
    w.hd.update_user(&w.admin, w.agent.user_id, patch)
        .await
        .unwrap();
    let deactivate = UserPatch {
        active: Some(false),
        ..UserPatch::default()
    };
    w.hd.update_user(&w.admin, w.customer2.user_id, deactivate)
        .await
        .unwrap();
    // A patch that changes nothing records nothing.
    let same = UserPatch {
        name: Some("Carl".into()),
        ..UserPatch::default()
    };
    w.hd.update_user(&w.admin, w.customer.user_id, same)
        .await
        .unwrap();

    let events = audit(&w).await;
    assert_eq!(events.len(), 7);
    assert_eq!(
        kinds(&events[..2]),
        vec![
            AuditKind::UserChanged {
                user: w.customer2.user_id,
                fields: vec!["active".into()],
                role: None,
                active: Some(false),
            },
            AuditKind::UserChanged {
                user: w.agent.user_id,
                fields: vec!["capacity".into(), "role".into()],
                role: Some(RoleChange {
                    from: Role::Agent,
                    to: Role::Admin,
                }),
                active: None,
            },
        ]
    );
}

#[tokio::test]
async fn settings_and_password_changes_are_recorded_without_secrets() {
    let w = world().await;
    let mut settings = w.tenant.settings.clone();
    settings.categories.push("returns".into());
    settings.chat_inactivity_minutes += 5;
    w.hd.update_settings(&w.admin, settings.clone())
        .await
        .unwrap();
    // The same settings again: nothing changed, nothing recorded.
    w.hd.update_settings(&w.admin, settings).await.unwrap();

    w.hd.set_password(&w.customer, w.customer.user_id, "correct horse battery")
        .await
        .unwrap();
    w.hd.set_password(&w.admin, w.agent.user_id, "another good passphrase")
        .await
        .unwrap();
    w.hd.login("acme", "carl@customer.test", "correct horse battery")
        .await
        .unwrap();

    let events = audit(&w).await;
    assert_eq!(
        kinds(&events[..3]),
        vec![
            AuditKind::PasswordChanged {
                user: w.agent.user_id
            },
            AuditKind::PasswordChanged {
                user: w.customer.user_id
            },
            AuditKind::TenantSettingsChanged {
                fields: vec!["categories".into(), "chat_inactivity_minutes".into()],
            },
        ]
    );
    assert_eq!(events[1].actor, Some(w.customer.user_id));
    let json = serde_json::to_string(&events).unwrap();
    assert!(!json.contains("argon2"), "{json}");
    assert!(!json.contains("correct horse"), "{json}");
}

#[tokio::test]
async fn failed_changes_record_nothing() {
    let w = world().await;
    let before = audit(&w).await;
    let taken = NewUser::new("agent@acme.test", "Second Bob", Role::Agent);
    assert!(matches!(
        w.hd.add_user(&w.admin, taken).await,
        Err(Error::Duplicate { .. })
    ));
    let bad = UserPatch {
        name: Some(" ".into()),
        ..UserPatch::default()
    };
    assert_invalid(
        w.hd.update_user(&w.admin, w.agent.user_id, bad).await,
        "name",
    );
    assert_invalid(
        w.hd.set_password(&w.admin, w.agent.user_id, "short").await,
        "password",
    );
    assert_forbidden(
        w.hd.set_password(&w.agent, w.customer.user_id, "a long password")
            .await,
    );
    assert_forbidden(
        w.hd.create_article(&w.agent, ArticleInput::new("T", "B"))
            .await,
    );
    assert_invalid(
        w.hd.create_article(&w.admin, ArticleInput::new("", "Body"))
            .await,
        "title",
    );
    let a =
        w.hd.create_article(&w.admin, ArticleInput::new("Refunds", "Five days."))
            .await
            .unwrap();
    let stale =
        w.hd.update_article(&w.admin, a.id, 7, ArticleInput::new("Refunds", "Ten days."))
            .await;
    assert!(matches!(stale, Err(Error::Conflict { .. })), "{stale:?}");
    assert!(matches!(
        w.hd.delete_article(&w.admin, ArticleId::new()).await,
        Err(Error::NotFound { .. })
    ));

    let after = audit(&w).await;
    assert_eq!(after.len(), before.len() + 1, "only the created article");
    assert_eq!(&after[1..], before.as_slice());
}

#[tokio::test]
async fn only_admins_read_the_audit_trail_and_only_their_tenants() {
    let w = world().await;
    for who in [&w.agent, &w.customer] {
        assert_forbidden(w.hd.list_audit_events(who, AuditQuery::newest(10)).await);
    }
    let (other, other_admin) =
        w.hd.register_tenant(NewTenant {
            name: "Globex".into(),
            slug: "globex".into(),
            admin: NewUser::new("admin@globex.test", "Gus", Role::Admin),
            settings: None,
        })
        .await
        .unwrap();
    let other_admin = Actor::for_user(&other_admin);
    let theirs =
        w.hd.list_audit_events(&other_admin, AuditQuery::newest(10))
            .await
            .unwrap();
    assert_eq!(theirs.len(), 1);
    assert!(theirs.iter().all(|e| e.tenant_id == other.id));
    assert!(audit(&w).await.iter().all(|e| e.tenant_id == w.tenant.id));

    // Pages of two, through the cursor, give the whole trail once.
    let all = audit(&w).await;
    let mut paged = Vec::new();
    let mut query = AuditQuery::newest(2);
    loop {
        let page = w.hd.list_audit_events(&w.admin, query).await.unwrap();
        let Some(last) = page.last() else { break };
        query.before = Some(AuditCursor::after(last));
        paged.extend(page);
    }
    assert_eq!(paged, all);
}

#[tokio::test]
async fn articles_are_validated_with_the_field_named() {
    let w = world().await;
    let long_title = "t".repeat(201);
    let long_body = "b".repeat(200_001);
    for (input, field) in [
        (ArticleInput::new(&long_title, "Body"), "title"),
        (ArticleInput::new("Two\nlines", "Body"), "title"),
        (ArticleInput::new("Title", ""), "body"),
        (ArticleInput::new("Title", "\u{200b} \n"), "body"),
        (ArticleInput::new("Title", &long_body), "body"),
        (
            ArticleInput::new("Title", "Body").with_tags(&[""]),
            "tags[0]",
        ),
    ] {
        assert_invalid(w.hd.create_article(&w.admin, input).await, field);
    }
    let a =
        w.hd.create_article(
            &w.admin,
            ArticleInput::new("  Refunds ", "Line one\r\nline two\n").with_tags(&["Billing"]),
        )
        .await
        .unwrap();
    assert_eq!(a.title, "Refunds");
    assert_eq!(a.body, "Line one\nline two");
    assert_eq!(a.tags, vec!["billing".to_string()]);
    assert_eq!(w.hd.list_articles(&w.customer).await.unwrap(), vec![a]);
}

#[tokio::test]
async fn article_use_cases_record_audit_events_and_keep_the_index_in_step() {
    let (w, kb) = with_kb().await;
    let created =
        w.hd.create_article(
            &w.admin,
            ArticleInput::new("Reset a password", "Use the forgot password link."),
        )
        .await
        .unwrap();
    assert_eq!(created.version, 1);
    w.hd.index_settled().await;
    let hits = kb.search(w.tenant.id, "forgot password", 3).await.unwrap();
    assert_eq!(hits.first().map(|h| h.article_id), Some(created.id));

    let updated =
        w.hd.update_article(
            &w.admin,
            created.id,
            1,
            ArticleInput::new("Reset a password", "Ask an admin for an invitation."),
        )
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    w.hd.index_settled().await;
    let hits = kb.search(w.tenant.id, "invitation admin", 3).await.unwrap();
    assert!(hits[0].text.contains("invitation"), "{hits:?}");
    assert_eq!(
        w.hd.get_article(&w.customer, created.id).await.unwrap(),
        updated
    );

    w.hd.delete_article(&w.admin, created.id).await.unwrap();
    w.hd.index_settled().await;
    assert!(
        kb.search(w.tenant.id, "invitation admin", 3)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        w.hd.get_article(&w.admin, created.id).await,
        Err(Error::NotFound { .. })
    ));

    let events = audit(&w).await;
    assert_eq!(
        kinds(&events[..3]),
        vec![
            AuditKind::ArticleDeleted {
                article: created.id,
                title: "Reset a password".into()
            },
            AuditKind::ArticleUpdated {
                article: created.id,
                title: "Reset a password".into(),
                version: 2
            },
            AuditKind::ArticleCreated {
                article: created.id,
                title: "Reset a password".into()
            },
        ]
    );
    assert!(events[..3].iter().all(|e| e.actor == Some(w.admin.user_id)));
}

#[tokio::test]
async fn another_tenants_article_is_not_found() {
    let w = world().await;
    let (tenant, admin) =
        w.hd.register_tenant(NewTenant {
            name: "Globex".into(),
            slug: "globex".into(),
            admin: NewUser::new("admin@globex.test", "Gus", Role::Admin),
            settings: None,
        })
        .await
        .unwrap();
    let globex = Actor::for_user(&admin);
    let secret =
        w.hd.create_article(&globex, ArticleInput::new("Secret", "Internal only."))
            .await
            .unwrap();
    assert_eq!(secret.tenant_id, tenant.id);
    let before = audit(&w).await;
    assert!(matches!(
        w.hd.get_article(&w.admin, secret.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        w.hd.update_article(&w.admin, secret.id, 1, ArticleInput::new("Mine", "Now."))
            .await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        w.hd.delete_article(&w.admin, secret.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(w.hd.list_articles(&w.admin).await.unwrap().is_empty());
    assert_eq!(w.hd.get_article(&globex, secret.id).await.unwrap(), secret);
    assert_eq!(audit(&w).await, before);
}
