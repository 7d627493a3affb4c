//! Conformance cases for API keys: created and revoked with their audit events, found by
//! the hash of their secret, listed per tenant newest first, and their use recorded.

use super::{S, assert_duplicate, seed_tenant};
use crate::domain::{ApiKey, AuditEvent, AuditKind, Role, User};
use crate::store::{AdminChange, AdminWrite, AuditQuery};
use crate::testkit::fixtures::at;
use crate::{ApiKeyId, DuplicateKind, Error, TenantId};

fn key(user: &User, label: &str, minutes: i64) -> ApiKey {
    ApiKey {
        id: ApiKeyId::new(),
        tenant_id: user.tenant_id,
        user_id: user.id,
        role: user.role,
        label: label.into(),
        prefix: "hdk_0a1b".into(),
        created_at: at(minutes),
        created_by: user.id,
        last_used_at: None,
        revoked_at: None,
    }
}

fn hash_of(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

async fn create(store: &S, key: &ApiKey, hash: &str) -> crate::Result<()> {
    let audit = AuditEvent::new(
        key.tenant_id,
        key.created_at,
        Some(key.created_by),
        AuditKind::ApiKeyCreated {
            key: key.id,
            label: key.label.clone(),
            user: key.user_id,
            role: key.role,
        },
    );
    let change = AdminChange::CreateApiKey {
        key: key.clone(),
        secret_hash: hash.into(),
    };
    store
        .commit_admin_change(&AdminWrite::new(change, audit))
        .await
}

async fn revoke(store: &S, tenant: TenantId, id: ApiKeyId, minutes: i64) -> crate::Result<()> {
    let audit = AuditEvent::new(
        tenant,
        at(minutes),
        None,
        AuditKind::ApiKeyRevoked { key: id },
    );
    let change = AdminChange::RevokeApiKey {
        tenant,
        id,
        at: at(minutes),
    };
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

/// Keys come back whole by the hash of their secret (revoked ones too) and in their
/// tenant's listing, newest first; another tenant's keys are never listed; a used id or
/// hash is a duplicate and writes nothing.
pub async fn api_keys_are_found_by_hash_and_listed_per_tenant(store: S) {
    let (a, _, agent) = seed_tenant(&store, "acme").await;
    let (b, _, other) = seed_tenant(&store, "globex").await;
    let older = key(&agent, "CRM sync", 1);
    let newer = key(&agent, "Status page", 2);
    let foreign = key(&other, "Other tenant", 3);
    create(&store, &older, &hash_of(1)).await.unwrap();
    create(&store, &newer, &hash_of(2)).await.unwrap();
    create(&store, &foreign, &hash_of(3)).await.unwrap();

    assert_eq!(
        store.api_key_by_hash(&hash_of(1)).await.unwrap(),
        Some(older.clone())
    );
    assert_eq!(
        store.api_key_by_hash(&hash_of(3)).await.unwrap(),
        Some(foreign.clone())
    );
    assert_eq!(store.api_key_by_hash(&hash_of(9)).await.unwrap(), None);
    assert_eq!(
        store.list_api_keys(a.id).await.unwrap(),
        vec![newer.clone(), older.clone()]
    );
    assert_eq!(store.list_api_keys(b.id).await.unwrap(), vec![foreign]);
    assert_eq!(audit_count(&store, a.id).await, 2);

    // A used id, a used hash: nothing written, no audit event.
    let again = ApiKey {
        label: "Again".into(),
        ..older.clone()
    };
    assert_duplicate(create(&store, &again, &hash_of(4)).await, DuplicateKind::Id);
    let same_hash = key(&agent, "Same hash", 4);
    assert_duplicate(
        create(&store, &same_hash, &hash_of(2)).await,
        DuplicateKind::Id,
    );
    assert_eq!(store.list_api_keys(a.id).await.unwrap().len(), 2);
    assert_eq!(audit_count(&store, a.id).await, 2);

    // A revoked key is still found by its hash, with its revocation time.
    revoke(&store, a.id, older.id, 5).await.unwrap();
    let found = store.api_key_by_hash(&hash_of(1)).await.unwrap().unwrap();
    assert_eq!(found.revoked_at, Some(at(5)));
    assert_eq!(audit_count(&store, a.id).await, 3);
}

/// Revoking and touching are scoped by tenant (another tenant's key is `NotFound`, and a
/// failed revocation writes no audit event); a second revocation keeps the first time;
/// the last use never moves back.
pub async fn api_key_revocation_and_use_are_tenant_scoped(store: S) {
    let (a, _, agent) = seed_tenant(&store, "acme").await;
    let (b, _, _) = seed_tenant(&store, "globex").await;
    let admin = crate::testkit::fixtures::user(&a, Role::Admin, "admin@acme.test");
    store.create_user(&admin).await.unwrap();
    let k = key(&agent, "CRM sync", 1);
    create(&store, &k, &hash_of(1)).await.unwrap();

    let not_found = |r: crate::Result<()>| {
        assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
    };
    not_found(revoke(&store, b.id, k.id, 2).await);
    not_found(revoke(&store, a.id, ApiKeyId::new(), 2).await);
    assert_eq!(audit_count(&store, b.id).await, 0);
    assert_eq!(audit_count(&store, a.id).await, 1);
    not_found(store.touch_api_key(b.id, k.id, at(2)).await);
    not_found(store.touch_api_key(a.id, ApiKeyId::new(), at(2)).await);
    let stored = &store.list_api_keys(a.id).await.unwrap()[0];
    assert_eq!((stored.last_used_at, stored.revoked_at), (None, None));

    store.touch_api_key(a.id, k.id, at(10)).await.unwrap();
    store.touch_api_key(a.id, k.id, at(7)).await.unwrap();
    let stored = store.api_key_by_hash(&hash_of(1)).await.unwrap().unwrap();
    assert_eq!(stored.last_used_at, Some(at(10)), "never moves back");
    store.touch_api_key(a.id, k.id, at(12)).await.unwrap();

    revoke(&store, a.id, k.id, 20).await.unwrap();
    revoke(&store, a.id, k.id, 30).await.unwrap();
    let stored = store.api_key_by_hash(&hash_of(1)).await.unwrap().unwrap();
    assert_eq!(
        (stored.last_used_at, stored.revoked_at),
        (Some(at(12)), Some(at(20)))
    );
    assert_eq!(
        stored,
        ApiKey {
            last_used_at: Some(at(12)),
            revoked_at: Some(at(20)),
            ..k
        }
    );
}
