//! Every form shows a refusal in place (issue 16, item 9): a bad or missing field brings
//! the same page back (navigation and all, 400, never the bare error card or the
//! framework's 422 text) with the message next to the field, the field marked invalid and
//! what was typed kept, except passwords.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use helpdesk_examples::web::{Limit, Tier};
use support::*;

/// Asserts `reply` is the form page again: 400, the layout, the error `message` in the
/// note of `field` (id `{field}-error`) and the field marked invalid, and each of `kept`.
fn assert_in_place(reply: &Reply, field: &str, message: &str, kept: &[&str]) {
    let body = &reply.body;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{field}: {body}");
    assert!(!body.contains("error-card"), "bare error card: {body}");
    assert!(
        !body.contains("Failed to deserialize"),
        "raw 422 text: {body}"
    );
    assert!(
        body.contains("<header class=\"topbar\">"),
        "no navigation: {body}"
    );
    let id = format!("id=\"{field}-error\"");
    let note_at = body
        .find(&id)
        .unwrap_or_else(|| panic!("no note of {field}: {body}"));
    let note = &body[note_at..];
    let note = &note[..note.find("</p>").unwrap()];
    assert!(
        note.contains(message),
        "{field}: {note:?} lacks {message:?}"
    );
    assert!(
        body.contains(&format!("aria-describedby=\"{field}-error\"")),
        "{field} not marked invalid: {body}"
    );
    // Next to the field: the note follows the field within a few hundred characters.
    let marker = body.find("aria-invalid=\"true\"").unwrap();
    assert!(
        note_at.abs_diff(marker) < 600,
        "{field}: note far from its field"
    );
    for k in kept {
        assert!(body.contains(k), "{field}: {k:?} not kept: {body}");
    }
}

async fn signed_out_post(app: &Router, page: &str, action: &str, form: &[(&str, &str)]) -> Reply {
    let b = signed_out(app, page).await;
    let mut fields = vec![("csrf", b.csrf.as_str())];
    fields.extend_from_slice(form);
    post(app, action, &b.cookie, &fields).await
}

#[tokio::test]
async fn sign_in_refuses_missing_fields_at_the_field() {
    let (app, _creds) = app().await;
    let reply = signed_out_post(
        &app,
        "/login",
        "/login",
        &[("company", "nimbus"), ("email", "typed@example.com")],
    )
    .await;
    assert_in_place(
        &reply,
        "password",
        "Enter your password.",
        &[r#"value="nimbus""#, r#"value="typed@example.com""#],
    );
    let reply = signed_out_post(&app, "/login", "/login", &[("password", "secret-typed")]).await;
    assert_in_place(&reply, "company", "Enter your company.", &[]);
    assert!(!reply.body.contains("secret-typed"), "password echoed");
}

#[tokio::test]
async fn sign_up_forms_refuse_bad_fields_at_the_field() {
    // Several sign-ups from one address: lift the sign-up limits.
    let (app, creds) = app_with(|o| {
        let many = Limit(vec![Tier::new(1000, Duration::from_millis(1))]);
        o.limits.register_per_address = many.clone();
        o.limits.register_company_per_address = many;
    })
    .await;
    let reply = signed_out_post(
        &app,
        "/register-company",
        "/register-company",
        &[
            ("company_name", "Acme Typed"),
            ("slug", "Not A Slug!"),
            ("name", "Ann"),
            ("email", "ann@acme.example"),
            ("password", "pw-typed-123"),
        ],
    )
    .await;
    assert_in_place(
        &reply,
        "slug",
        "2 to 40 characters",
        &["Acme Typed", "Not A Slug!", r#"value="ann@acme.example""#],
    );
    assert!(!reply.body.contains("pw-typed-123"), "password echoed");
    // A missing field, not the framework's 422.
    let reply = signed_out_post(
        &app,
        "/register-company",
        "/register-company",
        &[("slug", "acme"), ("name", "Ann")],
    )
    .await;
    assert_in_place(&reply, "company_name", "Company name", &[r#"value="acme""#]);
    let reply = signed_out_post(
        &app,
        "/register-company",
        "/register-company",
        &[
            ("company_name", "Acme"),
            ("slug", "acme-typed"),
            ("name", "Ann"),
            ("email", "not-an-email"),
            ("password", "long-enough-1"),
        ],
    )
    .await;
    assert_in_place(&reply, "email", "not an e-mail address", &["acme-typed"]);

    let reply = signed_out_post(
        &app,
        "/register",
        "/register",
        &[
            ("company", creds.tenant_slug.as_str()),
            ("name", "Typed Name"),
            ("email", "nope"),
        ],
    )
    .await;
    assert_in_place(
        &reply,
        "email",
        "not an e-mail address",
        &[r#"value="Typed Name""#],
    );
}

#[tokio::test]
async fn admin_forms_refuse_bad_fields_at_the_field() {
    let (app, creds) = app().await;
    let admin = browser(&app, &creds, &creds.admin).await;
    // Add user: a bad e-mail, then a missing role.
    let reply = post(
        &app,
        "/admin/users",
        &admin.cookie,
        &[
            ("csrf", &admin.csrf),
            ("name", "Typed Person"),
            ("email", "bad-address"),
            ("role", "agent"),
            ("skills", "billing"),
            ("password", "pw-never-echoed"),
        ],
    )
    .await;
    assert_in_place(
        &reply,
        "email",
        "not an e-mail address",
        &[
            r#"value="Typed Person""#,
            r#"value="bad-address""#,
            r#"value="billing""#,
        ],
    );
    assert!(!reply.body.contains("pw-never-echoed"));
    let reply = post(
        &app,
        "/admin/users",
        &admin.cookie,
        &[("csrf", &admin.csrf), ("name", "Typed Person")],
    )
    .await;
    assert_in_place(
        &reply,
        "role",
        "choose a role",
        &[r#"value="Typed Person""#],
    );

    // Edit user: an unknown skill on the agent's row, kept in that row.
    let page = get(&app, "/admin/users", &admin.cookie).await.body;
    let action = page
        .split("action=\"/admin/users/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let reply = post(
        &app,
        &format!("/admin/users/{action}"),
        &admin.cookie,
        &[
            ("csrf", &admin.csrf),
            ("role", "agent"),
            ("skills", "juggling"),
        ],
    )
    .await;
    assert_in_place(&reply, "edit_skills", "juggling", &[r#"value="juggling""#]);

    // Settings: a bad closing time, a missing number.
    let settings = get(&app, "/admin/settings", &admin.cookie).await.body;
    assert!(settings.contains("name=\"close\""));
    let mut form = vec![
        ("csrf", admin.csrf.as_str()),
        ("categories", "account, billing, typed"),
        ("default_category", "account"),
        ("skills", "billing"),
        ("ai_autonomy", "suggest"),
        ("timezone", "UTC"),
        ("open", "09:00"),
        ("close", "25:99"),
        ("mon", "1"),
        ("chat_inactivity_minutes", "30"),
        ("reopen_window_hours", "72"),
    ];
    for p in ["urgent", "high", "medium", "low"] {
        for k in ["fr", "res"] {
            form.push((Box::leak(format!("{k}_{p}_h").into_boxed_str()), "8"));
        }
    }
    let reply = post(&app, "/admin/settings", &admin.cookie, &form).await;
    assert_in_place(
        &reply,
        "close",
        "time of day",
        &[r#"value="account, billing, typed""#, r#"value="25:99""#],
    );
    form.retain(|(k, _)| *k != "reopen_window_hours");
    form.iter_mut()
        .filter(|(k, _)| *k == "close")
        .for_each(|f| f.1 = "17:00");
    let reply = post(&app, "/admin/settings", &admin.cookie, &form).await;
    assert_in_place(
        &reply,
        "reopen_window_hours",
        "whole number",
        &[r#"value="account, billing, typed""#],
    );

    // Articles: an empty title on create; a missing body on edit; an import without a title.
    let reply = post(
        &app,
        "/admin/kb",
        &admin.cookie,
        &[
            ("csrf", &admin.csrf),
            ("title", " "),
            ("tags", "typed-tag"),
            ("body", "Typed body text"),
        ],
    )
    .await;
    assert_in_place(
        &reply,
        "title",
        "Title: must not be empty",
        &["typed-tag", "Typed body text", r#"action="/admin/kb""#],
    );
    let kb = get(&app, "/admin/kb", &admin.cookie).await.body;
    let article = kb
        .split("href=\"/admin/kb/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|s| s.len() > 10 && !s.contains('/'))
        .unwrap()
        .to_string();
    let reply = post(
        &app,
        &format!("/admin/kb/{article}"),
        &admin.cookie,
        &[("csrf", &admin.csrf), ("title", "Typed title")],
    )
    .await;
    assert_in_place(
        &reply,
        "body",
        "Body",
        &[
            r#"value="Typed title""#,
            &format!("action=\"/admin/kb/{article}\""),
        ],
    );
    let reply = post(
        &app,
        "/admin/kb/import",
        &admin.cookie,
        &[
            ("csrf", &admin.csrf),
            ("markdown", "No title line\nbody typed"),
        ],
    )
    .await;
    assert_in_place(&reply, "markdown", "`# Title`", &["body typed"]);
    let reply = post(
        &app,
        "/admin/kb/import",
        &admin.cookie,
        &[("csrf", &admin.csrf)],
    )
    .await;
    assert_in_place(&reply, "markdown", "paste at least one article", &[]);
}

#[tokio::test]
async fn ticket_page_forms_refuse_bad_fields_at_the_field() {
    let (app, creds) = app().await;
    let customer = browser(&app, &creds, &creds.customer).await;
    let path = open_ticket(&app, &customer, "Typed subject", "Typed description").await;
    let id = path.rsplit('/').next().unwrap().to_string();

    // Customer reply: blank, then missing.
    let reply = post(
        &app,
        &format!("{path}/reply"),
        &customer.cookie,
        &[("csrf", &customer.csrf), ("body", "   ")],
    )
    .await;
    assert_in_place(&reply, "body", "Reply: must not be empty", &[]);
    let reply = post(
        &app,
        &format!("{path}/reply"),
        &customer.cookie,
        &[("csrf", &customer.csrf)],
    )
    .await;
    assert_in_place(&reply, "body", "Reply", &[]);

    let agent = browser(&app, &creds, &creds.technical_agent).await;
    let base = format!("/agent/tickets/{id}");
    let reply = post(
        &app,
        &format!("{base}/reply"),
        &agent.cookie,
        &[
            ("csrf", &agent.csrf),
            ("body", "Typed answer"),
            ("status_after", "bogus"),
        ],
    )
    .await;
    assert_in_place(&reply, "body", "status after the reply", &["Typed answer"]);
    let reply = post(
        &app,
        &format!("{base}/note"),
        &agent.cookie,
        &[("csrf", &agent.csrf)],
    )
    .await;
    assert_in_place(&reply, "note", "Internal note", &[]);
    let reply = post(
        &app,
        &format!("{base}/status"),
        &agent.cookie,
        &[("csrf", &agent.csrf), ("value", "closed")],
    )
    .await;
    assert_in_place(&reply, "status", "", &[]);
    let reply = post(
        &app,
        &format!("{base}/status"),
        &agent.cookie,
        &[("csrf", &agent.csrf)],
    )
    .await;
    assert_in_place(&reply, "status", "Choose a status", &[]);
    let reply = post(
        &app,
        &format!("{base}/assign"),
        &agent.cookie,
        &[("csrf", &agent.csrf), ("value", "not-a-user")],
    )
    .await;
    assert_in_place(&reply, "assignee", "Choose an assignee", &[]);
    let reply = post(
        &app,
        &format!("{base}/priority"),
        &agent.cookie,
        &[("csrf", &agent.csrf), ("value", "whenever")],
    )
    .await;
    assert_in_place(&reply, "priority", "Choose a priority", &[]);
    let reply = post(
        &app,
        &format!("{base}/merge"),
        &agent.cookie,
        &[("csrf", &agent.csrf), ("value", "99999")],
    )
    .await;
    assert_in_place(&reply, "merge", "no ticket #99999", &[r#"value="99999""#]);
    let reply = post(
        &app,
        &format!("{base}/merge"),
        &agent.cookie,
        &[("csrf", &agent.csrf), ("value", "twelve")],
    )
    .await;
    assert_in_place(
        &reply,
        "merge",
        "ticket number such as 12",
        &[r#"value="twelve""#],
    );

    // Resolve, then a CSAT with no score keeps the comment.
    let resolved = post(
        &app,
        &format!("{base}/status"),
        &agent.cookie,
        &[("csrf", &agent.csrf), ("value", "resolved")],
    )
    .await;
    assert_eq!(resolved.status, StatusCode::SEE_OTHER, "{}", resolved.body);
    let reply = post(
        &app,
        &format!("{path}/csat"),
        &customer.cookie,
        &[("csrf", &customer.csrf), ("comment", "Typed comment")],
    )
    .await;
    assert_in_place(&reply, "score", "Choose a rating", &["Typed comment"]);
}

#[tokio::test]
async fn the_chat_box_refuses_an_empty_message_in_place() {
    let (app, creds) = app().await;
    let customer = browser(&app, &creds, &creds.customer).await;
    let started = post(
        &app,
        "/chat/start",
        &customer.cookie,
        &[("csrf", &customer.csrf)],
    )
    .await;
    let chat = started.location.unwrap();
    let reply = post(
        &app,
        &format!("{chat}/message"),
        &customer.cookie,
        &[("csrf", &customer.csrf), ("text", " \t ")],
    )
    .await;
    assert_in_place(&reply, "text", "Your message: must not be empty", &[]);
    let reply = post(
        &app,
        &format!("{chat}/message"),
        &customer.cookie,
        &[("csrf", &customer.csrf)],
    )
    .await;
    assert_in_place(&reply, "text", "Your message", &[]);
}
