//! Conformance cases for password hashes: stored beside users, never on them (issue 15,
//! defect 7: a listing a host serializes for agents carried every admin's hash).

use super::{S, assert_duplicate, seed_tenant};
use crate::domain::{PasswordHash, Role, User};
use crate::testkit::fixtures::user;
use crate::{DuplicateKind, Error, TenantId, UserId};

const FIRST: &str = "$argon2id$v=19$m=19456,t=2,p=1$Zmlyc3RzYWx0$Zmlyc3RoYXNo";
const SECOND: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2Vjb25kc2FsdA$c2Vjb25kaGFzaA";
const THIRD: &str = "$argon2id$v=19$m=19456,t=2,p=1$dGhpcmRzYWx0$dGhpcmRoYXNo";

/// Asserts that users read back, serialized as a host would, carry no password.
fn assert_no_hash(users: &[User]) {
    let json = serde_json::to_string(users).unwrap();
    assert!(!json.contains("password"), "a password field: {json}");
    for hash in [FIRST, SECOND, THIRD] {
        assert!(!json.contains(hash), "a stored hash: {json}");
    }
}

/// Every user read (by id, by e-mail, listed) serializes without a hash; the hash a user was
/// created with or given later comes back only from `login_credentials`; `update_user`
/// keeps it; a refused insert stores none.
pub async fn password_hashes_round_trip_outside_users(store: S) {
    let (a, _, agent) = seed_tenant(&store, "acme").await;
    let admin = user(&a, Role::Admin, "admin@acme.test");
    let first = PasswordHash::new(FIRST);
    assert!(
        !format!("{first:?}").contains(FIRST),
        "Debug hides the hash"
    );
    store
        .create_user_with_password(&admin, &first)
        .await
        .unwrap();

    let by_id = store.get_user(a.id, admin.id).await.unwrap();
    assert_eq!(by_id.as_ref(), Some(&admin));
    let by_email = store
        .get_user_by_email(a.id, "admin@acme.test")
        .await
        .unwrap();
    assert_eq!(by_email.as_ref(), Some(&admin));
    let listed = store.list_users(a.id, None).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert_no_hash(&listed);
    assert_no_hash(&[by_id.unwrap(), by_email.unwrap()]);

    assert_eq!(
        store
            .login_credentials(a.id, "admin@acme.test")
            .await
            .unwrap(),
        Some((admin.clone(), Some(first.clone())))
    );
    assert_eq!(
        store
            .login_credentials(a.id, "agent@acme.test")
            .await
            .unwrap(),
        Some((agent.clone(), None)),
        "a user created without a password has none"
    );
    assert_eq!(
        store
            .login_credentials(a.id, "nobody@acme.test")
            .await
            .unwrap(),
        None
    );

    let second = PasswordHash::new(SECOND);
    store
        .set_password_hash(a.id, agent.id, &second)
        .await
        .unwrap();
    let third = PasswordHash::new(THIRD);
    store
        .set_password_hash(a.id, admin.id, &third)
        .await
        .unwrap();
    let mut renamed = admin.clone();
    renamed.name = "Renamed".into();
    renamed.skills = vec!["billing".into()];
    store.update_user(&renamed).await.unwrap();
    assert_eq!(
        store
            .login_credentials(a.id, "admin@acme.test")
            .await
            .unwrap(),
        Some((renamed, Some(third.clone()))),
        "replaced, and kept by update_user"
    );
    assert_eq!(
        store
            .login_credentials(a.id, "agent@acme.test")
            .await
            .unwrap(),
        Some((agent.clone(), Some(second)))
    );

    // A refused insert writes neither the user nor its hash.
    let taken = user(&a, Role::Agent, "admin@acme.test");
    assert_duplicate(
        store.create_user_with_password(&taken, &first).await,
        DuplicateKind::Email,
    );
    assert_eq!(
        store
            .login_credentials(a.id, "admin@acme.test")
            .await
            .unwrap()
            .and_then(|(_, hash)| hash),
        Some(third)
    );
    assert_eq!(store.get_user(a.id, taken.id).await.unwrap(), None);
    assert_no_hash(&store.list_users(a.id, None).await.unwrap());
    assert_no_hash(&store.list_users(a.id, Some(Role::Admin)).await.unwrap());
}

/// Credentials are scoped by tenant like every other read and write.
pub async fn credentials_of_another_tenant_are_not_found(store: S) {
    let (a, _, agent) = seed_tenant(&store, "acme").await;
    let (b, _, _) = seed_tenant(&store, "beta").await;
    let first = PasswordHash::new(FIRST);
    let admin = user(&a, Role::Admin, "admin@acme.test");
    store
        .create_user_with_password(&admin, &first)
        .await
        .unwrap();

    for (tenant, id) in [
        (b.id, agent.id),
        (a.id, UserId::new()),
        (TenantId::new(), admin.id),
    ] {
        assert!(
            matches!(
                store.set_password_hash(tenant, id, &first).await,
                Err(Error::NotFound { .. })
            ),
            "user {id} in tenant {tenant}"
        );
    }
    assert_eq!(
        store
            .login_credentials(a.id, "agent@acme.test")
            .await
            .unwrap(),
        Some((agent, None)),
        "nothing was set through another tenant"
    );
    assert_eq!(
        store
            .login_credentials(b.id, "admin@acme.test")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .login_credentials(a.id, "admin@acme.test")
            .await
            .unwrap(),
        Some((admin, Some(first)))
    );
}
