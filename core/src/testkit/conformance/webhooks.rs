//! Conformance cases for webhook endpoints: administrative changes with their audit
//! events, scoped by tenant, and the delivery record the sender keeps.

use super::{S, assert_duplicate, seed_tenant};
use crate::domain::{AuditEvent, AuditKind, WebhookEndpoint, WebhookOutcome, WebhookSecret};
use crate::store::{AdminChange, AdminWrite, AuditQuery};
use crate::testkit::fixtures::at;
use crate::{DuplicateKind, Error, TenantId, WebhookId};

fn endpoint(tenant: TenantId, url: &str, minutes: i64) -> WebhookEndpoint {
    WebhookEndpoint {
        id: WebhookId::new(),
        tenant_id: tenant,
        url: url.into(),
        event_types: vec!["created".into(), "message_added".into()],
        secret: WebhookSecret::new(format!("whsec_{minutes:04}")),
        previous_secret: None,
        rotated_at: None,
        enabled: true,
        disabled_reason: None,
        consecutive_failures: 0,
        cursor: None,
        next_attempt_at: None,
        created_at: at(minutes),
    }
}

async fn commit(store: &S, tenant: TenantId, change: AdminChange) -> crate::Result<()> {
    let kind = AuditKind::WebhookDeleted {
        webhook: WebhookId::new(),
    };
    let audit = AuditEvent::new(tenant, at(100), None, kind);
    store
        .commit_admin_change(&AdminWrite::new(change, audit))
        .await
}

async fn audit_count(store: &S, tenant: TenantId) -> usize {
    store
        .list_audit_events(tenant, &AuditQuery::newest(100))
        .await
        .unwrap()
        .len()
}

fn assert_not_found(r: crate::Result<()>) {
    assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
}

/// Every webhook change lands with its audit event and only on the tenant's endpoint;
/// another tenant's endpoint or an unknown id is `NotFound` with no event written.
pub async fn webhook_changes_commit_with_their_audit_events(store: S) {
    let (a, _, _) = seed_tenant(&store, "acme").await;
    let (b, _, _) = seed_tenant(&store, "globex").await;
    let first = endpoint(a.id, "https://hooks.acme.test/1", 1);
    let second = endpoint(a.id, "https://hooks.acme.test/2", 2);
    let theirs = endpoint(b.id, "https://hooks.globex.test/", 3);
    for e in [&second, &first, &theirs] {
        let change = AdminChange::CreateWebhook(e.clone());
        commit(&store, e.tenant_id, change).await.unwrap();
    }
    assert_eq!(
        store.list_webhooks(a.id).await.unwrap(),
        vec![first.clone(), second.clone()]
    );
    assert_eq!(
        store.get_webhook(a.id, first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.get_webhook(b.id, first.id).await.unwrap(), None);
    assert_eq!(audit_count(&store, a.id).await, 2);
    assert_duplicate(
        commit(&store, a.id, AdminChange::CreateWebhook(first.clone())).await,
        DuplicateKind::Id,
    );

    // Another tenant's endpoint, an unknown id: not found, nothing written.
    for (tenant, id) in [(b.id, first.id), (a.id, WebhookId::new())] {
        let changes = [
            AdminChange::UpdateWebhook {
                tenant,
                id,
                url: "https://evil.test/".into(),
                event_types: Vec::new(),
            },
            AdminChange::RotateWebhookSecret {
                tenant,
                id,
                secret: WebhookSecret::new("whsec_evil"),
                at: at(5),
            },
            AdminChange::SetWebhookEnabled {
                tenant,
                id,
                enabled: false,
                reason: Some("evil".into()),
            },
            AdminChange::DeleteWebhook { tenant, id },
        ];
        for change in changes {
            assert_not_found(commit(&store, tenant, change).await);
        }
    }
    assert_eq!(audit_count(&store, a.id).await, 2);
    assert_eq!(audit_count(&store, b.id).await, 1);
    assert_eq!(
        store.get_webhook(a.id, first.id).await.unwrap(),
        Some(first.clone())
    );

    let update = AdminChange::UpdateWebhook {
        tenant: a.id,
        id: first.id,
        url: "https://hooks.acme.test/v2".into(),
        event_types: vec!["status_changed".into()],
    };
    commit(&store, a.id, update).await.unwrap();
    let rotate = AdminChange::RotateWebhookSecret {
        tenant: a.id,
        id: first.id,
        secret: WebhookSecret::new("whsec_new"),
        at: at(10),
    };
    commit(&store, a.id, rotate).await.unwrap();
    let disable = AdminChange::SetWebhookEnabled {
        tenant: a.id,
        id: first.id,
        enabled: false,
        reason: Some("paused by admin".into()),
    };
    commit(&store, a.id, disable).await.unwrap();
    let changed = WebhookEndpoint {
        url: "https://hooks.acme.test/v2".into(),
        event_types: vec!["status_changed".into()],
        secret: WebhookSecret::new("whsec_new"),
        previous_secret: Some(first.secret.clone()),
        rotated_at: Some(at(10)),
        enabled: false,
        disabled_reason: Some("paused by admin".into()),
        ..first.clone()
    };
    assert_eq!(
        store.get_webhook(a.id, first.id).await.unwrap(),
        Some(changed.clone())
    );

    // Enabling clears the reason, the failures and the waiting retry.
    let failed = WebhookOutcome::Failed {
        next_attempt_at: at(60),
        disable: None,
    };
    store
        .record_webhook_delivery(a.id, first.id, &failed)
        .await
        .unwrap();
    let enable = AdminChange::SetWebhookEnabled {
        tenant: a.id,
        id: first.id,
        enabled: true,
        reason: None,
    };
    commit(&store, a.id, enable).await.unwrap();
    assert_eq!(
        store.get_webhook(a.id, first.id).await.unwrap(),
        Some(WebhookEndpoint {
            enabled: true,
            disabled_reason: None,
            ..changed
        })
    );

    let delete = AdminChange::DeleteWebhook {
        tenant: a.id,
        id: first.id,
    };
    commit(&store, a.id, delete).await.unwrap();
    assert_eq!(store.get_webhook(a.id, first.id).await.unwrap(), None);
    assert_eq!(store.list_webhooks(a.id).await.unwrap(), vec![second]);
    assert_eq!(audit_count(&store, a.id).await, 7);
    assert_eq!(store.list_webhooks(b.id).await.unwrap(), vec![theirs]);
}

/// Delivery outcomes move an endpoint's failures, retry time, cursor and state; due
/// endpoints are the enabled ones with no retry waiting, of every tenant, no-retry first.
pub async fn webhook_deliveries_are_recorded_and_due_endpoints_listed(store: S) {
    let (a, _, _) = seed_tenant(&store, "acme").await;
    let (b, _, _) = seed_tenant(&store, "globex").await;
    let ours = endpoint(a.id, "https://hooks.acme.test/", 1);
    let theirs = endpoint(b.id, "https://hooks.globex.test/", 2);
    for e in [&ours, &theirs] {
        let change = AdminChange::CreateWebhook(e.clone());
        commit(&store, e.tenant_id, change).await.unwrap();
    }
    let due = |minutes| {
        let store = store.clone();
        async move {
            store
                .due_webhooks(at(minutes), 10)
                .await
                .unwrap()
                .into_iter()
                .map(|w| w.id)
                .collect::<Vec<_>>()
        }
    };
    let mut both = vec![ours.id, theirs.id];
    both.sort();
    assert_eq!(due(0).await, both);
    assert_eq!(store.due_webhooks(at(0), 1).await.unwrap().len(), 1);

    // Another tenant's endpoint, an unknown id.
    let delivered = WebhookOutcome::Delivered {
        cursor: "f1".into(),
    };
    for (tenant, id) in [(b.id, ours.id), (a.id, WebhookId::new())] {
        assert_not_found(store.record_webhook_delivery(tenant, id, &delivered).await);
    }

    // Two failures: counted, retried at the given time, then due again; no-retry first.
    for (n, retry) in [(1, 20), (2, 30)] {
        let failed = WebhookOutcome::Failed {
            next_attempt_at: at(retry),
            disable: None,
        };
        store
            .record_webhook_delivery(a.id, ours.id, &failed)
            .await
            .unwrap();
        let stored = store.get_webhook(a.id, ours.id).await.unwrap().unwrap();
        assert_eq!(
            (stored.consecutive_failures, stored.next_attempt_at),
            (n, Some(at(retry)))
        );
    }
    assert_eq!(due(29).await, vec![theirs.id]);
    assert_eq!(due(30).await, vec![theirs.id, ours.id]);

    // Delivered: failures reset, cursor kept, no retry waiting.
    let delivered = WebhookOutcome::Delivered {
        cursor: "f1772442000000".into(),
    };
    store
        .record_webhook_delivery(a.id, ours.id, &delivered)
        .await
        .unwrap();
    let stored = store.get_webhook(a.id, ours.id).await.unwrap().unwrap();
    assert_eq!(
        (
            stored.consecutive_failures,
            stored.next_attempt_at,
            stored.cursor.as_deref()
        ),
        (0, None, Some("f1772442000000"))
    );

    // A failure that disables: the endpoint shows why and is no longer due.
    let fatal = WebhookOutcome::Failed {
        next_attempt_at: at(40),
        disable: Some("disabled after 1 failure: HTTP 410".into()),
    };
    store
        .record_webhook_delivery(a.id, ours.id, &fatal)
        .await
        .unwrap();
    let stored = store.get_webhook(a.id, ours.id).await.unwrap().unwrap();
    assert!(!stored.enabled);
    assert_eq!(
        stored.disabled_reason.as_deref(),
        Some("disabled after 1 failure: HTTP 410")
    );
    assert_eq!(stored.cursor.as_deref(), Some("f1772442000000"));
    assert_eq!(due(50).await, vec![theirs.id]);
}
