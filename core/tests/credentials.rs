//! Password hashes stay in the store: no user the service returns carries one, and login
//! still checks them (issue 15, defect 7).
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use helpdesk_core::Error;
use helpdesk_core::domain::Role;
use helpdesk_core::service::{NewUser, UserPatch};

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
