//! Webhook endpoints (issue 17): admins register, change, rotate, enable, disable and
//! delete them, each audited; inputs are validated; other tenants' endpoints are not
//! found; secrets never reach the audit trail or `Debug`.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use helpdesk_core::domain::{Actor, AuditKind, Role, WebhookOutcome};
use helpdesk_core::service::{NewTenant, NewUser, NewWebhook, WebhookPatch};
use helpdesk_core::store::AuditQuery;
use helpdesk_core::{Error, WebhookId};

use common::world;

fn new(url: &str, types: &[&str]) -> NewWebhook {
    NewWebhook {
        url: url.into(),
        event_types: types.iter().map(|t| (*t).to_string()).collect(),
    }
}

fn validation_on<T: std::fmt::Debug>(r: Result<T, Error>, expected: &str) {
    match r {
        Err(Error::Validation { field, .. }) => assert_eq!(field, expected),
        other => panic!("expected a validation error on {expected}: {other:?}"),
    }
}

#[tokio::test]
async fn an_admin_manages_an_endpoint_and_every_change_is_audited() {
    let w = world().await;
    let created =
        w.hd.create_webhook(
            &w.admin,
            new(
                " https://hooks.acme.test/in ",
                &["created", "message_added", "created"],
            ),
        )
        .await
        .unwrap();
    assert_eq!(created.url, "https://hooks.acme.test/in");
    assert_eq!(created.event_types, vec!["created", "message_added"]);
    assert!(created.enabled);
    let secret = created.secret.as_str().to_string();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 6 + 44,
        "{secret}"
    );
    assert!(!format!("{created:?}").contains(&secret[6..]));
    assert_eq!(
        w.hd.list_webhooks(&w.admin).await.unwrap(),
        vec![created.clone()]
    );

    let patch = WebhookPatch {
        url: Some("https://hooks.acme.test/v2".into()),
        event_types: Some(Vec::new()),
    };
    let updated =
        w.hd.update_webhook(&w.admin, created.id, patch)
            .await
            .unwrap();
    assert_eq!(updated.url, "https://hooks.acme.test/v2");
    assert!(updated.event_types.is_empty());
    assert_eq!(updated.secret, created.secret);

    let rotated =
        w.hd.rotate_webhook_secret(&w.admin, created.id)
            .await
            .unwrap();
    assert_ne!(rotated.secret, created.secret);
    assert_eq!(rotated.previous_secret, Some(created.secret.clone()));
    assert_eq!(rotated.rotated_at, Some(w.hd.now()));

    // A sender disabled it after failures; the admin enables it again.
    let failed = WebhookOutcome::Failed {
        next_attempt_at: w.hd.now(),
        disable: Some("5 failures in a row: HTTP 500".into()),
    };
    w.store
        .record_webhook_delivery(w.tenant.id, created.id, &failed)
        .await
        .unwrap();
    let enabled =
        w.hd.set_webhook_enabled(&w.admin, created.id, true)
            .await
            .unwrap();
    assert!(enabled.enabled && enabled.disabled_reason.is_none());
    assert_eq!(
        (enabled.consecutive_failures, enabled.next_attempt_at),
        (0, None)
    );
    let disabled =
        w.hd.set_webhook_enabled(&w.admin, created.id, false)
            .await
            .unwrap();
    assert!(!disabled.enabled);
    assert_eq!(
        disabled.disabled_reason.as_deref(),
        Some("disabled by an admin")
    );

    w.hd.delete_webhook(&w.admin, created.id).await.unwrap();
    assert!(matches!(
        w.hd.get_webhook(&w.admin, created.id).await,
        Err(Error::NotFound { .. })
    ));

    let audit =
        w.hd.list_audit_events(&w.admin, AuditQuery::newest(50))
            .await
            .unwrap();
    let kinds: Vec<&AuditKind> = audit.iter().map(|e| &e.kind).take(6).collect();
    assert!(matches!(kinds[0], AuditKind::WebhookDeleted { .. }));
    assert!(matches!(
        kinds[1],
        AuditKind::WebhookEnabledChanged { enabled: false, .. }
    ));
    assert!(matches!(
        kinds[2],
        AuditKind::WebhookEnabledChanged { enabled: true, .. }
    ));
    assert!(matches!(kinds[3], AuditKind::WebhookSecretRotated { .. }));
    assert!(matches!(kinds[4], AuditKind::WebhookUpdated { .. }));
    assert!(matches!(kinds[5], AuditKind::WebhookCreated { .. }));
    let trail = serde_json::to_string(&audit).unwrap();
    assert!(!trail.contains("whsec_"), "{trail}");
}

#[tokio::test]
async fn endpoints_are_validated_and_admin_only() {
    let w = world().await;
    for url in [
        "",
        "ftp://hooks.acme.test/",
        "hooks.acme.test",
        "https://",
        "https:///path",
        "https://user@hooks.acme.test/",
        "https://hooks.acme.test/a b",
        &format!("https://hooks.acme.test/{}", "x".repeat(2000)),
    ] {
        validation_on(w.hd.create_webhook(&w.admin, new(url, &[])).await, "url");
    }
    validation_on(
        w.hd.create_webhook(&w.admin, new("https://h.test/", &["created", "nope"]))
            .await,
        "event_types[1]",
    );
    for actor in [&w.agent, &w.customer] {
        assert!(matches!(
            w.hd.create_webhook(actor, new("https://h.test/", &[]))
                .await,
            Err(Error::Forbidden { .. })
        ));
        assert!(matches!(
            w.hd.list_webhooks(actor).await,
            Err(Error::Forbidden { .. })
        ));
    }
    assert!(w.hd.list_webhooks(&w.admin).await.unwrap().is_empty());
}

#[tokio::test]
async fn another_tenants_endpoint_is_not_found() {
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
        w.hd.create_webhook(&other_admin, new("https://globex.test/hook", &[]))
            .await
            .unwrap();
    for id in [theirs.id, WebhookId::new()] {
        let not_found = |r: Result<(), Error>| {
            assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
        };
        not_found(w.hd.get_webhook(&w.admin, id).await.map(drop));
        not_found(
            w.hd.update_webhook(&w.admin, id, WebhookPatch::default())
                .await
                .map(drop),
        );
        not_found(w.hd.rotate_webhook_secret(&w.admin, id).await.map(drop));
        not_found(
            w.hd.set_webhook_enabled(&w.admin, id, false)
                .await
                .map(drop),
        );
        not_found(w.hd.delete_webhook(&w.admin, id).await);
    }
    assert_eq!(
        w.hd.get_webhook(&other_admin, theirs.id).await.unwrap(),
        theirs
    );
}

#[tokio::test]
async fn a_new_secret_is_standard_webhooks_base64_of_32_random_bytes() {
    use base64::Engine as _;
    let w = common::world().await;
    let a =
        w.hd.create_webhook(
            &w.admin,
            NewWebhook {
                url: "https://a.example.test/h".into(),
                event_types: vec![],
            },
        )
        .await
        .unwrap();
    let b =
        w.hd.create_webhook(
            &w.admin,
            NewWebhook {
                url: "https://b.example.test/h".into(),
                event_types: vec![],
            },
        )
        .await
        .unwrap();
    for secret in [&a.secret, &b.secret] {
        let key = secret.as_str().strip_prefix("whsec_").unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key)
            .unwrap();
        assert_eq!(bytes.len(), 32);
    }
    assert_ne!(a.secret, b.secret);
}
