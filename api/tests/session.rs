//! Logging in and out over HTTP, and the login limits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use helpdesk_api::{ApiConfig, Limit, RateLimits, Tier};
use serde_json::json;

use common::{PASSWORD, api, api_with};

#[tokio::test]
async fn login_me_and_logout() {
    let api = api().await;
    let me = api.call(Method::GET, "/me", Some(&api.agent), None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["user"]["email"], "agent@acme.test");
    assert_eq!(me.json["user"]["role"], "agent");
    assert_eq!(me.json["tenant"]["slug"], "acme");
    assert!(
        me.json["tenant"]["settings"].is_object(),
        "staff see settings"
    );
    // No secret in any user representation.
    let user = me.json["user"].to_string();
    assert!(
        !user.contains("argon2") && !user.contains("password"),
        "{user}"
    );

    let customer = api
        .call(Method::GET, "/me", Some(&api.customer), None)
        .await;
    assert!(
        customer.json["tenant"].get("settings").is_none(),
        "customers do not"
    );

    let out = api
        .call(Method::POST, "/auth/logout", Some(&api.agent), None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    api.call(Method::GET, "/me", Some(&api.agent), None)
        .await
        .assert_problem(401, "unauthenticated");
}

#[tokio::test]
async fn anonymous_and_bad_tokens_get_401_with_a_challenge() {
    let api = api().await;
    for token in [None, Some("not-a-token")] {
        let reply = api.call(Method::GET, "/tickets", token, None).await;
        reply.assert_problem(401, "unauthenticated");
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Bearer realm=\"helpdesk\"")
        );
    }
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let api = api().await;
    let wrong_password = api
        .call(
            Method::POST,
            "/auth/login",
            None,
            Some(json!({"tenant": "acme", "email": "agent@acme.test", "password": "nope-nope"})),
        )
        .await;
    let unknown_email = api
        .call(
            Method::POST,
            "/auth/login",
            None,
            Some(json!({"tenant": "acme", "email": "nobody@acme.test", "password": "nope-nope"})),
        )
        .await;
    let unknown_tenant = api
        .call(
            Method::POST,
            "/auth/login",
            None,
            Some(json!({"tenant": "nope", "email": "agent@acme.test", "password": PASSWORD})),
        )
        .await;
    wrong_password.assert_problem(401, "unauthenticated");
    assert_eq!(wrong_password.json, unknown_email.json);
    assert_eq!(wrong_password.json, unknown_tenant.json);
}

#[tokio::test]
async fn logins_are_limited_per_account_with_retry_after() {
    let limits = RateLimits {
        login_per_account: Limit(vec![Tier::new(3, Duration::from_secs(60))]),
        ..RateLimits::unlimited()
    };
    let api = api_with(ApiConfig::default().rate_limits(limits)).await;
    // `api_with` logged in once per account; two more tries remain for the agent.
    let wrong = json!({"tenant": "acme", "email": "agent@acme.test", "password": "wrong-one"});
    for _ in 0..2 {
        let reply = api
            .call(Method::POST, "/auth/login", None, Some(wrong.clone()))
            .await;
        reply.assert_problem(401, "unauthenticated");
    }
    let limited = api
        .call(Method::POST, "/auth/login", None, Some(wrong.clone()))
        .await;
    limited.assert_problem(429, "rate_limited");
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(limited.json["retry_after"], retry);
    // Even the right password waits: the limit is on tries, not on failures.
    let right = json!({"tenant": "acme", "email": "agent@acme.test", "password": PASSWORD});
    api.call(Method::POST, "/auth/login", None, Some(right))
        .await
        .assert_problem(429, "rate_limited");
    // Another account is not affected (the e-mail is compared case-insensitively).
    let other = json!({"tenant": "acme", "email": "Admin@Acme.test", "password": PASSWORD});
    let reply = api
        .call(Method::POST, "/auth/login", None, Some(other))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
}

#[tokio::test]
async fn logins_are_limited_per_client_address() {
    let limits = RateLimits {
        login_per_address: Limit(vec![Tier::new(8, Duration::from_secs(60))]),
        ..RateLimits::unlimited()
    };
    // Six logins of the set-up, from the same (unknown) address.
    let api = api_with(ApiConfig::default().rate_limits(limits)).await;
    let any = json!({"tenant": "acme", "email": "x@acme.test", "password": "whatever1"});
    for _ in 0..2 {
        api.call(Method::POST, "/auth/login", None, Some(any.clone()))
            .await
            .assert_problem(401, "unauthenticated");
    }
    api.call(Method::POST, "/auth/login", None, Some(any))
        .await
        .assert_problem(429, "rate_limited");
}

#[tokio::test]
async fn tenant_sign_up_is_closed_unless_the_host_opens_it_and_is_limited_per_address() {
    let closed = api().await;
    let body = json!({"name": "Initech", "slug": "initech", "admin_email": "bill@initech.test",
        "admin_name": "Bill", "admin_password": "tps-reports-1"});
    closed
        .call(Method::POST, "/tenants", None, Some(body.clone()))
        .await
        .assert_problem(403, "forbidden");

    let limits = RateLimits {
        tenant_sign_up_per_address: Limit(vec![Tier::new(2, Duration::from_secs(3600))]),
        ..RateLimits::unlimited()
    };
    let open = api_with(
        ApiConfig::default()
            .tenant_sign_up(true)
            .rate_limits(limits),
    )
    .await;
    let made = open
        .call(Method::POST, "/tenants", None, Some(body.clone()))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
    assert_eq!(made.json["tenant"]["slug"], "initech");
    assert_eq!(made.json["admin"]["role"], "admin");
    let login = open
        .call(Method::POST, "/auth/login", None,
            Some(json!({"tenant": "initech", "email": "bill@initech.test", "password": "tps-reports-1"})))
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.json);
    let taken = open.call(Method::POST, "/tenants", None, Some(body)).await;
    taken.assert_problem(409, "conflict");
    let another = json!({"name": "Hooli", "slug": "hooli", "admin_email": "gavin@hooli.test",
        "admin_name": "Gavin", "admin_password": "middle-out-1"});
    open.call(Method::POST, "/tenants", None, Some(another))
        .await
        .assert_problem(429, "rate_limited");
}
