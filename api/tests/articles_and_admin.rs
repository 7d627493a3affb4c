//! Knowledge-base articles, the tenant, users, the audit log and analytics over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{Method, StatusCode};
use helpdesk_core::testkit::fixtures::triage_model;
use serde_json::json;

use common::{PASSWORD, api};

#[tokio::test]
async fn articles_are_written_with_if_match_searched_and_deleted() {
    let api = api().await;
    let body = json!({"title": "Resetting a password", "body": "Use the Forgot password link on the sign-in page.", "tags": ["account"]});
    api.call(
        Method::POST,
        "/articles",
        Some(&api.customer),
        Some(body.clone()),
    )
    .await
    .assert_problem(403, "forbidden");
    let created = api
        .call(Method::POST, "/articles", Some(&api.admin), Some(body))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let id = created.json["id"].as_str().unwrap();
    let etag = created.header("etag").unwrap().to_string();
    assert_eq!(
        created.header("location"),
        Some(format!("/articles/{id}").as_str())
    );

    let update = json!({"title": "Resetting your password", "body": "Use the Forgot password link.", "tags": []});
    let updated = api
        .call_with(
            Method::PUT,
            &format!("/articles/{id}"),
            Some(&api.admin),
            Some(update.clone()),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.json);
    assert_eq!(updated.json["title"], "Resetting your password");
    api.call_with(
        Method::PUT,
        &format!("/articles/{id}"),
        Some(&api.admin),
        Some(update),
        &[("if-match", &etag)],
    )
    .await
    .assert_problem(412, "precondition_failed");

    api.hd.index_settled().await;
    let found = api
        .call(
            Method::GET,
            "/articles/search?q=forgot%20password",
            Some(&api.customer),
            None,
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.json);
    assert_eq!(found.json[0]["article_id"], id);
    let other = api
        .call(
            Method::GET,
            "/articles/search?q=forgot%20password",
            Some(&api.other_customer),
            None,
        )
        .await;
    assert!(
        other.json.as_array().unwrap().is_empty(),
        "another tenant's articles never match"
    );
    api.call(
        Method::GET,
        "/articles/search?q=",
        Some(&api.customer),
        None,
    )
    .await
    .assert_problem(422, "validation");
    api.call(Method::GET, "/articles/search", Some(&api.customer), None)
        .await
        .assert_problem(422, "validation");

    let listed = api
        .call(Method::GET, "/articles", Some(&api.customer), None)
        .await;
    assert_eq!(listed.json.as_array().unwrap().len(), 1);
    api.call(
        Method::GET,
        &format!("/articles/{id}"),
        Some(&api.other_admin),
        None,
    )
    .await
    .assert_problem(404, "not_found");
    let deleted = api
        .call(
            Method::DELETE,
            &format!("/articles/{id}"),
            Some(&api.admin),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    api.call(
        Method::GET,
        &format!("/articles/{id}"),
        Some(&api.admin),
        None,
    )
    .await
    .assert_problem(404, "not_found");
}

#[tokio::test]
async fn admins_manage_users_and_settings_and_see_the_audit_log() {
    let api = api().await;
    let added = api
        .call(Method::POST, "/users", Some(&api.admin),
            Some(json!({"email": "new.agent@acme.test", "name": "Nia", "role": "agent", "skills": ["billing"], "password": PASSWORD})))
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.json);
    assert!(!added.json.to_string().contains("argon2"));
    let user = added.json["id"].as_str().unwrap();
    let taken = api
        .call(
            Method::POST,
            "/users",
            Some(&api.admin),
            Some(json!({"email": "new.agent@acme.test", "name": "Nia 2", "role": "agent"})),
        )
        .await;
    taken.assert_problem(409, "conflict");
    assert_eq!(taken.json["code"], "duplicate");
    api.call(
        Method::POST,
        "/users",
        Some(&api.agent),
        Some(json!({"email": "x@acme.test", "name": "X", "role": "admin"})),
    )
    .await
    .assert_problem(403, "forbidden");

    let patched = api
        .call(
            Method::PATCH,
            &format!("/users/{user}"),
            Some(&api.admin),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(patched.json["active"], false, "{}", patched.json);
    let login = api
        .call(
            Method::POST,
            "/auth/login",
            None,
            Some(json!({"tenant": "acme", "email": "new.agent@acme.test", "password": PASSWORD})),
        )
        .await;
    login.assert_problem(401, "unauthenticated");
    let other_tenant = api
        .call(
            Method::PATCH,
            &format!("/users/{user}"),
            Some(&api.other_admin),
            Some(json!({"active": true})),
        )
        .await;
    other_tenant.assert_problem(404, "not_found");
    let short = api
        .call(
            Method::PUT,
            &format!("/users/{user}/password"),
            Some(&api.admin),
            Some(json!({"password": "short"})),
        )
        .await;
    short.assert_problem(422, "validation");
    assert_eq!(short.json["field"], "password");

    let tenant = api
        .call(Method::GET, "/tenant", Some(&api.admin), None)
        .await;
    let mut settings = tenant.json["settings"].clone();
    settings["self_registration"] = json!(false);
    let saved = api
        .call(
            Method::PUT,
            "/tenant/settings",
            Some(&api.admin),
            Some(settings.clone()),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.json);
    assert_eq!(saved.json["settings"]["self_registration"], false);
    api.call(
        Method::PUT,
        "/tenant/settings",
        Some(&api.agent),
        Some(settings),
    )
    .await
    .assert_problem(403, "forbidden");
    api.call(
        Method::PUT,
        "/tenant/settings",
        Some(&api.admin),
        Some(json!({"categories": 5})),
    )
    .await
    .assert_problem(422, "validation");

    let first = api
        .call(Method::GET, "/audit?limit=2", Some(&api.admin), None)
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    assert_eq!(first.json["items"].as_array().unwrap().len(), 2);
    let cursor = first.json["next_cursor"].as_str().unwrap();
    let second = api
        .call(
            Method::GET,
            &format!("/audit?limit=2&cursor={cursor}"),
            Some(&api.admin),
            None,
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.json);
    assert_ne!(second.json["items"][0], first.json["items"][0]);
    api.call(
        Method::GET,
        "/audit?cursor=nonsense",
        Some(&api.admin),
        None,
    )
    .await
    .assert_problem(422, "validation");
    api.call(Method::GET, "/audit", Some(&api.agent), None)
        .await
        .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn analytics_cover_a_range() {
    let api = api().await;
    api.open_ticket(&api.customer, "Counted").await;
    let report = api
        .call(Method::GET, "/analytics", Some(&api.admin), None)
        .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.json);
    assert_eq!(report.json["analytics"]["total"], 1);
    // No language model here, so nothing was spent (the figures are tested in core).
    assert_eq!(report.json["model_usage"], json!([]));
    assert_eq!(report.json["learned_triage"], json!([]));

    // A trained triage model shows with its held-out accuracy, to its tenant only.
    let model = triage_model(api.admin_actor.tenant_id, 1, b"model");
    api.hd.store().put_triage_model(&model).await.unwrap();
    let report = api
        .call(Method::GET, "/analytics", Some(&api.admin), None)
        .await;
    let shown = &report.json["learned_triage"];
    assert_eq!(shown.as_array().map(Vec::len), Some(1), "{shown}");
    assert_eq!(shown[0]["version"], 1);
    assert_eq!(shown[0]["holdout_tickets"], 200);
    assert_eq!(shown[0]["accuracy"], 0.855);
    assert_eq!(
        shown[0]["categories"],
        json!(["billing", "login", "shipping"])
    );
    assert_eq!(shown[0]["retired_at"], json!(null));
    let other = api
        .call(Method::GET, "/analytics", Some(&api.other_admin), None)
        .await;
    assert_eq!(other.json["learned_triage"], json!([]));
    api.call(
        Method::GET,
        "/analytics?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
        Some(&api.admin),
        None,
    )
    .await
    .assert_problem(422, "validation");
    api.call(
        Method::GET,
        "/analytics?from=yesterday",
        Some(&api.admin),
        None,
    )
    .await
    .assert_problem(422, "validation");
    api.call(Method::GET, "/analytics", Some(&api.customer), None)
        .await
        .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn an_admin_exports_a_customers_data_and_agents_cannot() {
    let api = api().await;
    let (id, _) = api.open_ticket(&api.customer, "Export me").await;
    let path = format!("/users/{}/export", api.customer_actor.user_id);
    let export = api.call(Method::GET, &path, Some(&api.admin), None).await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.json);
    assert_eq!(export.header("cache-control"), Some("no-store"));
    assert_eq!(
        export.json["customer"]["id"],
        api.customer_actor.user_id.to_string()
    );
    let tickets = export.json["tickets"].as_array().unwrap();
    assert!(tickets.iter().any(|t| t["ticket"]["id"] == id.as_str()));
    let refused = api.call(Method::GET, &path, Some(&api.agent), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let staff = format!("/users/{}/export", api.agent_actor.user_id);
    let not_customer = api.call(Method::GET, &staff, Some(&api.admin), None).await;
    assert_eq!(not_customer.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn an_admin_erases_a_customers_data_once_and_agents_cannot() {
    let api = api().await;
    let (id, _) = api.open_ticket(&api.customer, "Erase wallabyquux").await;
    let path = format!("/users/{}/erase", api.customer_actor.user_id);
    let refused = api.call(Method::POST, &path, Some(&api.agent), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let staff = format!("/users/{}/erase", api.agent_actor.user_id);
    api.call(Method::POST, &staff, Some(&api.admin), None)
        .await
        .assert_problem(422, "validation");

    // A learned-triage model of the tenant, which may have learned from the ticket.
    let model = triage_model(api.admin_actor.tenant_id, 1, b"model");
    api.hd.store().put_triage_model(&model).await.unwrap();

    let erased = api.call(Method::POST, &path, Some(&api.admin), None).await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.json);
    assert_eq!(erased.json["tickets"], 1);
    assert_eq!(erased.json["blobs_left"], serde_json::json!([]));
    assert_eq!(erased.json["triage_models_retired"], 1, "{}", erased.json);
    let report = api
        .call(Method::GET, "/analytics", Some(&api.admin), None)
        .await;
    assert!(
        report.json["learned_triage"][0]["retired_at"].is_string(),
        "{}",
        report.json
    );
    let ticket = api
        .call(
            Method::GET,
            &format!("/tickets/{id}"),
            Some(&api.admin),
            None,
        )
        .await;
    assert_eq!(
        ticket.json["ticket"]["subject"], "[erased]",
        "{}",
        ticket.json
    );
    assert!(
        ticket.json["ticket"]["erased_at"].is_string(),
        "{}",
        ticket.json
    );
    let search = api
        .call(Method::GET, "/search?q=wallabyquux", Some(&api.admin), None)
        .await;
    assert_eq!(search.status, StatusCode::OK, "{}", search.json);
    assert_eq!(search.json["items"], serde_json::json!([]));
    let again = api.call(Method::POST, &path, Some(&api.admin), None).await;
    assert_eq!(again.json["tickets"], 0, "nothing is left to erase");
    assert_eq!(again.json["triage_models_retired"], 0, "{}", again.json);
}
