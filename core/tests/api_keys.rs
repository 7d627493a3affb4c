//! API keys (issue 17): admins create, list and revoke them (audited); a key authenticates
//! as its user until it is revoked, the user is deactivated or the user's role changes;
//! its secret is shown once and its use recorded at most once a minute.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::Duration;

use helpdesk_core::domain::{Actor, AuditKind, Role};
use helpdesk_core::service::{NewApiKey, NewTenant, NewUser, UserPatch};
use helpdesk_core::store::AuditQuery;
use helpdesk_core::{ApiKeyId, Error};

use common::{add, world};

fn unauthenticated<T: std::fmt::Debug>(r: Result<T, Error>) {
    assert!(matches!(r, Err(Error::Unauthenticated { .. })), "{r:?}");
}

#[tokio::test]
async fn an_admin_creates_a_key_that_authenticates_as_its_user() {
    let w = world().await;
    let created =
        w.hd.create_api_key(
            &w.admin,
            NewApiKey::new("  CRM sync ").acting_as(w.agent.user_id),
        )
        .await
        .unwrap();
    let key = &created.key;
    assert_eq!(key.label, "CRM sync");
    assert_eq!((key.user_id, key.role), (w.agent.user_id, Role::Agent));
    assert_eq!(key.created_by, w.admin.user_id);
    assert!(created.secret.starts_with("hdk_"));
    assert!(created.secret.len() >= 4 + 64);
    assert_eq!(key.prefix, created.secret[..8]);
    // Shown once: the debug form and the stored key never hold the secret.
    let debug = format!("{created:?}");
    assert!(!debug.contains(&created.secret), "{debug}");
    assert!(!debug.contains(&created.secret[8..]), "{debug}");

    let actor = w.hd.authenticate_api_key(&created.secret).await.unwrap();
    assert_eq!(actor, w.agent);
    // The key's actor works like the user's own.
    w.hd.list_users(&actor, None).await.unwrap();

    // Listed (without secrets), and audited with who did it.
    let keys = w.hd.list_api_keys(&w.admin).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].id, key.id);
    assert_eq!(keys[0].last_used_at, Some(w.hd.now()));
    let listed = serde_json::to_string(&keys).unwrap();
    assert!(!listed.contains(&created.secret[8..]));
    let audit =
        w.hd.list_audit_events(&w.admin, AuditQuery::newest(50))
            .await
            .unwrap();
    let event = audit
        .iter()
        .find(|e| matches!(&e.kind, AuditKind::ApiKeyCreated { key: k, .. } if *k == key.id))
        .unwrap();
    assert_eq!(event.actor, Some(w.admin.user_id));

    // Without a user, the key acts as the admin.
    let own =
        w.hd.create_api_key(&w.admin, NewApiKey::new("Mine"))
            .await
            .unwrap();
    assert_eq!(
        w.hd.authenticate_api_key(&own.secret).await.unwrap(),
        w.admin
    );
}

#[tokio::test]
async fn only_admins_manage_keys() {
    let w = world().await;
    for actor in [&w.agent, &w.customer] {
        assert!(matches!(
            w.hd.create_api_key(actor, NewApiKey::new("Nope")).await,
            Err(Error::Forbidden { .. })
        ));
        assert!(matches!(
            w.hd.list_api_keys(actor).await,
            Err(Error::Forbidden { .. })
        ));
        assert!(matches!(
            w.hd.revoke_api_key(actor, ApiKeyId::new()).await,
            Err(Error::Forbidden { .. })
        ));
    }
    assert!(w.store.list_api_keys(w.tenant.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_key_acts_only_as_an_active_staff_user_of_the_tenant() {
    let w = world().await;
    let (_, other_admin) =
        w.hd.register_tenant(NewTenant {
            name: "Globex".into(),
            slug: "globex".into(),
            admin: NewUser::new("admin@globex.test", "Gil", Role::Admin),
            settings: None,
        })
        .await
        .unwrap();
    // Another tenant's user is not found, exactly like an unknown one.
    for id in [other_admin.id, helpdesk_core::UserId::new()] {
        assert!(matches!(
            w.hd.create_api_key(&w.admin, NewApiKey::new("X").acting_as(id))
                .await,
            Err(Error::NotFound { .. })
        ));
    }
    // A customer, or an inactive agent, cannot be a key's user.
    let inactive = add(
        &w.hd,
        &w.admin,
        NewUser::new("gone@acme.test", "Gone", Role::Agent),
    )
    .await;
    let patch = UserPatch {
        active: Some(false),
        ..UserPatch::default()
    };
    w.hd.update_user(&w.admin, inactive.id, patch)
        .await
        .unwrap();
    for id in [w.customer.user_id, inactive.id] {
        match w
            .hd
            .create_api_key(&w.admin, NewApiKey::new("X").acting_as(id))
            .await
        {
            Err(Error::Validation { field, .. }) => assert_eq!(field, "user_id"),
            other => panic!("{other:?}"),
        }
    }
    // Labels: 1..=80 characters, one line, no control characters.
    for label in ["", "   ", &"x".repeat(81), "a\nb", "a\tb", "a\u{7}b"] {
        match w.hd.create_api_key(&w.admin, NewApiKey::new(label)).await {
            Err(Error::Validation { field, .. }) => assert_eq!(field, "label"),
            other => panic!("{label:?}: {other:?}"),
        }
    }
    w.hd.create_api_key(&w.admin, NewApiKey::new("x".repeat(80)))
        .await
        .unwrap();
    assert_eq!(w.store.list_api_keys(w.tenant.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn revoked_keys_and_changed_users_no_longer_authenticate() {
    let w = world().await;
    let create = |user: &Actor| {
        w.hd.create_api_key(&w.admin, NewApiKey::new("Sync").acting_as(user.user_id))
    };
    let revoked = create(&w.agent).await.unwrap();
    let promoted = create(&w.agent2).await.unwrap();
    let kept = create(&w.admin).await.unwrap();

    w.hd.revoke_api_key(&w.admin, revoked.key.id).await.unwrap();
    unauthenticated(w.hd.authenticate_api_key(&revoked.secret).await);
    let listed = w.hd.list_api_keys(&w.admin).await.unwrap();
    let stored = listed.iter().find(|k| k.id == revoked.key.id).unwrap();
    assert_eq!(stored.revoked_at, Some(w.hd.now()));
    let audit =
        w.hd.list_audit_events(&w.admin, AuditQuery::newest(50))
            .await
            .unwrap();
    assert!(matches!(
        &audit[0].kind,
        AuditKind::ApiKeyRevoked { key } if *key == revoked.key.id
    ));

    // The user's role changes: the key stops working (it was scoped to the old role).
    let patch = UserPatch {
        role: Some(Role::Admin),
        ..UserPatch::default()
    };
    w.hd.update_user(&w.admin, w.agent2.user_id, patch)
        .await
        .unwrap();
    unauthenticated(w.hd.authenticate_api_key(&promoted.secret).await);

    // Garbage, an unknown key of the right shape, a key with one character changed.
    let mut altered = kept.secret.clone();
    let last = if altered.ends_with('0') { "1" } else { "0" };
    altered.replace_range(altered.len() - 1.., last);
    for secret in [
        "",
        "Bearer x",
        "hdk_",
        &format!("hdk_{}", "0".repeat(64)),
        &altered,
    ] {
        unauthenticated(w.hd.authenticate_api_key(secret).await);
    }
    assert_eq!(
        w.hd.authenticate_api_key(&kept.secret).await.unwrap(),
        w.admin
    );
}

#[tokio::test]
async fn revoking_another_tenants_or_an_unknown_key_is_not_found() {
    let w = world().await;
    let (_, other_admin) =
        w.hd.register_tenant(NewTenant {
            name: "Globex".into(),
            slug: "globex".into(),
            admin: NewUser::new("admin@globex.test", "Gil", Role::Admin),
            settings: None,
        })
        .await
        .unwrap();
    let other_admin = Actor::for_user(&other_admin);
    let theirs =
        w.hd.create_api_key(&other_admin, NewApiKey::new("Theirs"))
            .await
            .unwrap();
    for id in [theirs.key.id, ApiKeyId::new()] {
        assert!(matches!(
            w.hd.revoke_api_key(&w.admin, id).await,
            Err(Error::NotFound { .. })
        ));
    }
    assert_eq!(
        w.hd.authenticate_api_key(&theirs.secret).await.unwrap(),
        other_admin
    );
    assert!(w.hd.list_api_keys(&w.admin).await.unwrap().is_empty());
    // No audit event for the refused revocations.
    let audit =
        w.hd.list_audit_events(&w.admin, AuditQuery::newest(50))
            .await
            .unwrap();
    assert!(
        !audit
            .iter()
            .any(|e| matches!(e.kind, AuditKind::ApiKeyRevoked { .. }))
    );
}

#[tokio::test]
async fn a_busy_key_records_its_use_at_most_once_a_minute() {
    let w = world().await;
    let created =
        w.hd.create_api_key(&w.admin, NewApiKey::new("Busy"))
            .await
            .unwrap();
    let last_used = || async { w.store.list_api_keys(w.tenant.id).await.unwrap()[0].last_used_at };
    assert_eq!(last_used().await, None);
    let first = w.hd.now();
    w.hd.authenticate_api_key(&created.secret).await.unwrap();
    assert_eq!(last_used().await, Some(first));
    // Within the minute: authenticated, not recorded.
    for _ in 0..5 {
        w.clock.advance(Duration::from_secs(10));
        w.hd.authenticate_api_key(&created.secret).await.unwrap();
    }
    assert_eq!(last_used().await, Some(first));
    // A minute after the recorded use: recorded again.
    w.clock.advance(Duration::from_secs(10));
    w.hd.authenticate_api_key(&created.secret).await.unwrap();
    assert_eq!(last_used().await, Some(w.hd.now()));
}
