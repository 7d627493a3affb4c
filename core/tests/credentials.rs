//! Password hashes stay in the store: no user the service returns carries one, and login
//! still checks them (issue 15, defect 7).
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use helpdesk_core::domain::{Role, TenantSettings};
use helpdesk_core::service::{NewUser, UserPatch};
use helpdesk_core::{Error, StateError};

use common::world;

/// Asserts that a serialized value names no password and holds no argon2 string.
fn assert_no_secret(json: &str) {
    assert!(
        !json.contains("password"),
        "a password field leaked: {json}"
    );
    assert!(!json.contains("$argon2"), "a password hash leaked: {json}");
}

#[tokio::test]
async fn an_agents_user_list_carries_no_hash_and_login_still_checks_the_password() {
    let w = world().await;
    let password = "root password 1";
    let root =
        w.hd.add_user(
            &w.admin,
            NewUser::new("root@acme.test", "Root", Role::Admin).with_password(password),
        )
        .await
        .unwrap();
    assert_no_secret(&serde_json::to_string(&root).unwrap());

    // What a host hands an agent that asks for the staff list.
    let listed = w.hd.list_users(&w.agent, None).await.unwrap();
    assert!(listed.iter().any(|u| u.id == root.id));
    assert_no_secret(&serde_json::to_string(&listed).unwrap());

    let login =
        w.hd.login("acme", "root@acme.test", password)
            .await
            .unwrap();
    assert_eq!(login.actor.user_id, root.id);
    assert_no_secret(&serde_json::to_string(&login.user).unwrap());
    for (email, attempt) in [
        ("root@acme.test", "wrong password"),
        // A user created without a password cannot log in with any.
        ("agent@acme.test", password),
    ] {
        assert!(matches!(
            w.hd.login("acme", email, attempt).await,
            Err(Error::Unauthenticated { .. })
        ));
    }

    // Changing the user's profile keeps the password it has.
    let patch = UserPatch {
        name: Some("Root Renamed".into()),
        ..UserPatch::default()
    };
    w.hd.update_user(&w.admin, root.id, patch).await.unwrap();
    let again =
        w.hd.login("acme", "root@acme.test", password)
            .await
            .unwrap();
    assert_eq!(again.user.name, "Root Renamed");
}

#[tokio::test]
async fn a_tenant_that_closes_self_registration_refuses_sign_ups() {
    let w = world().await;
    let mut settings = w.hd.get_tenant(&w.admin).await.unwrap().settings;
    assert!(settings.self_registration, "open by default, as before");
    settings.self_registration = false;
    w.hd.update_settings(&w.admin, settings).await.unwrap();
    let refused =
        w.hd.register_customer(
            "acme",
            NewUser::new("new@x.test", "New", Role::Customer).with_password("long enough pass"),
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(Error::InvalidState(StateError::RegistrationClosed))
        ),
        "{refused:?}"
    );
    // Admins still add customers.
    w.hd.add_user(
        &w.admin,
        NewUser::new("new@x.test", "New", Role::Customer).with_password("long enough pass"),
    )
    .await
    .unwrap();
}

#[test]
fn stored_settings_without_the_field_keep_self_registration_open() {
    let mut json = serde_json::to_value(TenantSettings::default()).unwrap();
    json.as_object_mut().unwrap().remove("self_registration");
    let settings: TenantSettings = serde_json::from_value(json).unwrap();
    assert!(settings.self_registration);
}
